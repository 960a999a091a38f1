/*
 * test_badinput.c - the bad-input catalogue (issue 11): every class of bad
 * input a careless user or an attacker gives the `strata` command line, run
 * through the real binary on a fresh PostgreSQL, MariaDB and SQLite
 * database.
 *
 * Each case of the table below is a small shell setup run in a directory of
 * its own (files, directories, symlinks, FIFOs), a command line, and the
 * exit status it must end with. Every case is also checked for what the
 * issue asks of all of them:
 *
 *   - it ends within its time limit (a FIFO or a silent server never hangs
 *     it) and without a sanitizer report;
 *   - stderr holds exactly one error line ("strata: ...", at most 400
 *     bytes) that names what the case's `want` strings say (file, JSON path,
 *     what is expected), and nothing else but cli_usage_error's fixed hint
 *     "Try 'strata --help'." (cases flagged F_PROGRESS, which fail while
 *     working, may print progress lines before it); stdout is empty, or with
 *     --json (F_JSON cases run twice) exactly one JSON document {"error",
 *     "exit"} with the same exit status;
 *   - no password appears anywhere: every URL in this file carries a
 *     password starting "S3cret", and neither stdout nor stderr may hold it;
 *   - nothing changed: the database (its tables, their columns and row
 *     counts, the migration history) and the filesystem (every entry of the
 *     case directory with its size, time and mode; the entries beside the
 *     SQLite database) are the same after the command as before, so a
 *     planted symlink's victim is untouched and no SQLite file is created.
 *
 * A case that fails reports every broken promise on one line, e.g.
 *   FAIL postgres: unknown URL parameter ?bogus=1: exit 1, expected 2
 * so the CUnit summary lists exactly what is broken. Cases that depend on
 * no database (offline commands, argument parsing) run in the SQLite suite
 * only; cases about a server's URL in the PostgreSQL and MySQL suites.
 * After the table, a few tests check the behaviour the issue asks for where
 * the input is fine (--to with an id, NO PAD uniqueness, a broken pending
 * migration, file permissions, a killed run).
 *
 * Many cases fail until the fixes of issue 11 land; the test is labelled
 * `pending` (tests/CMakeLists.txt) and scripts/test.sh leaves it out by
 * default.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Every password in this file starts with SECRET; none may be printed. */
#define SECRET         "S3cret"
#define PASSWORD       "S3cretPw"
#define TEST_USER      "strata_bi"
#define MAX_ERROR_LINE 400
#define HELP_HINT      "Try 'strata --help'."

enum {
    D_PG = 1u << STRATA_POSTGRES,
    D_MY = 1u << STRATA_MYSQL,
    D_SL = 1u << STRATA_SQLITE,
    D_SERVERS = D_PG | D_MY,
    D_ALL = D_PG | D_MY | D_SL,
};

enum {
    F_JSON = 1,        /* run a second time with --json */
    F_NO_DB_CHECK = 2, /* the database may change (it is made anew afterwards) */
    F_NO_FS_CHECK = 4, /* the case directory may change */
    F_PROGRESS = 8,    /* progress lines before the error line are fine */
};

/* Any failure status (1 or 2) will do: how the fix reports it is open. */
#define ANY_FAILURE (-1)

typedef struct bad_case {
    const char *name;
    unsigned dialects;
    /* Shell run in the case directory before the command. The directory
     * holds mig/ (001_base.json, applied; 002_pending.json, pending), and
     * `victim`, a file holding "precious". */
    const char *setup;
    /* Shell for the command. Variables: $S the strata binary, $U the
     * database URL (password S3cretPw), $SCHEME postgres or mysql,
     * $HOSTPORT the server's host:port, $UNREACH a URL of a database that
     * cannot be reached, $OTHER a dialect other than this one, $SILENT_PORT
     * a port that accepts connections and never says a word. */
    const char *cmd;
    int exit;
    /* The error line must hold each of these; "$VAR" is the variable. */
    const char *want[3];
    unsigned flags;
    int timeout; /* seconds; 0 means 20 */
    /* Shell that must succeed after the command (extra checks). */
    const char *post;
} bad_case;

/* ---- fixtures ---- */

static const char *base_migration =
    "{\"description\": \"the table every case starts with\", \"up\": [{\"op\": \"create_table\", "
    "\"table\": \"item\", \"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
    "\"primary_key\": true}, {\"name\": \"code\", \"type\": \"string\", \"length\": 10, "
    "\"unique\": true}, {\"name\": \"price\", \"type\": \"decimal\", \"precision\": 5, "
    "\"scale\": 2}, {\"name\": \"note\", \"type\": \"text\"}]}]}\n";

static const char *pending_migration =
    "{\"up\": [{\"op\": \"create_table\", \"table\": \"pending_t\", \"columns\": [{\"name\": "
    "\"id\", \"type\": \"integer\", \"primary_key\": true}]}]}\n";

/* A migration file with unusable JSON content is written by the setups with
 * a here-document; these shell fragments keep the table readable. */
#define LONG_NAME       "$(head -c 100000 /dev/zero | tr '\\0' t)"
#define LONG_DIGITS     "$(head -c 100000 /dev/zero | tr '\\0' 9)"
#define SEED(json)      "cat > seed.json <<'E'\n" json "\nE\n"
#define MIG(file, json) "cat > mig/" file " <<'E'\n" json "\nE\n"
/* a migrations directory with only the applied base in it */
#define ONLY_BASE "mkdir m2 && cp mig/001_base.json m2/\n"

/* Cases leave out the fields they do not need (zero). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const bad_case cases[] = {
    /* ---- memory safety: misnamed migration files (heap-use-after-free) */
    {"misnamed migration file 1-a.json",
     D_ALL,
     "echo '{}' > mig/1-a.json",
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"1-a.json"},
     F_JSON},
    {"misnamed migration file '1_a b.json' (a space)",
     D_ALL,
     "echo '{}' > 'mig/1_a b.json'",
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"1_a b.json"}},
    {"misnamed migration file 1_a.b.json",
     D_ALL,
     "echo '{}' > mig/1_a.b.json",
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"1_a.b.json"}},
    {"misnamed migration file with a 21-digit version",
     D_ALL,
     "echo '{}' > mig/123456789012345678901_a.json",
     "$S migrations validate --migrations-dir mig --database-url \"$U\"",
     2,
     {"123456789012345678901_a.json"}},

    /* ---- secrets: malformed URLs are echoed masked, wherever they come from */
    {"malformed URL: unencoded '/' in the password",
     D_SERVERS,
     NULL,
     "$S db ping --database-url \"$SCHEME://u:ab/S3cretPw@$HOSTPORT/db\"",
     2,
     {"URL"},
     F_JSON},
    {"malformed URL: unencoded '?' in the password",
     D_SERVERS,
     NULL,
     "$S db ping --database-url \"$SCHEME://u:ab?S3cretPw@$HOSTPORT/db\"",
     2,
     {"URL"},
     F_JSON},
    {"malformed URL: a single slash after the scheme",
     D_SERVERS,
     NULL,
     "$S db ping --database-url \"$SCHEME:/u:S3cretPw@$HOSTPORT/db\"",
     2,
     {"URL"},
     F_JSON},
    {"malformed URL: no slash after the scheme",
     D_SERVERS,
     NULL,
     "$S db ping --database-url \"$SCHEME:u:S3cretPw@$HOSTPORT/db\"",
     2,
     {"URL"},
     F_JSON},
    {"malformed URL from DATABASE_URL",
     D_SERVERS,
     NULL,
     "DATABASE_URL=\"$SCHEME://u:ab/S3cretPw@$HOSTPORT/db\" $S migrations run --migrations-dir mig",
     2,
     {"URL"},
     F_JSON},
    {"malformed URL given to check (exit 2, not 1)",
     D_SERVERS,
     NULL,
     "$S check --migrations-dir mig --database-url \"$SCHEME://u:ab/S3cretPw@$HOSTPORT/db\"",
     2,
     {"URL"},
     F_JSON},
    {"malformed URL with a 300-byte password",
     D_SERVERS,
     NULL,
     "$S db ping --database-url \"$SCHEME://u:S3cret$(head -c 300 /dev/zero | tr '\\0' "
     "x)/x@$HOSTPORT/db\"",
     2,
     {"URL"}},
    {"unknown command that is a URL",
     D_SERVERS,
     NULL,
     "$S \"$SCHEME://u:S3cretPw@$HOSTPORT/db\"",
     2,
     {"unknown command"},
     F_JSON},
    {"unknown option --databse-url=<url>",
     D_SERVERS,
     NULL,
     "$S migrations run --databse-url=\"$SCHEME://u:S3cretPw@$HOSTPORT/db\"",
     2,
     {"--databse-url", "--database-url"},
     F_JSON},
    {"unknown option --databse-url followed by a URL",
     D_SERVERS,
     NULL,
     "$S migrations run --databse-url \"$U\"",
     2,
     {"--databse-url"}},
    {"unreachable database: names host and port, not the password",
     D_ALL,
     NULL,
     "$S migrations run --migrations-dir mig --database-url \"$UNREACH\"",
     1,
     {"$UNREACH_WHERE"},
     F_JSON},

    /* ---- files Strata creates: no symlink is followed */
    /* (the <db>-strata-lock file this case first planted a symlink as is
     * gone: the migration lock is a row in the database now) */
    {"SQLite: a planted symlink as the database file is not followed",
     D_SL,
     "ln -s victim x.db",
     "$S migrations run --migrations-dir mig --database-url sqlite:./x.db",
     2,
     {"x.db"},
     0,
     0,
     "[ \"$(cat victim)\" = precious ]"},
    {"SQLite: a dangling symlink as the database file is not followed",
     D_SL,
     "mkdir sub && ln -s sub/target.db x.db",
     "$S migrations run --migrations-dir mig --database-url sqlite:./x.db",
     2,
     {"x.db"},
     0,
     0,
     "[ ! -e sub/target.db ]"},
    {"db pull --out through a planted symlink",
     D_ALL,
     "ln -s victim out.json",
     "$S db pull --database-url \"$U\" --out out.json",
     2,
     {"out.json"},
     0,
     0,
     "[ \"$(cat victim)\" = precious ]"},
    {"check --junit through a planted symlink",
     D_ALL,
     "ln -s victim r.xml",
     "$S check --migrations-dir mig --database-url \"$U\" --junit r.xml",
     2,
     {"r.xml"},
     0,
     0,
     "[ \"$(cat victim)\" = precious ]"},

    /* ---- URL parameters: unknown, misspelt or malformed ones are an error */
    {"MySQL URL with PostgreSQL's ?sslmode=require",
     D_MY,
     NULL,
     "$S db ping --database-url \"$U?sslmode=require\"",
     2,
     {"sslmode"},
     F_JSON},
    {"MySQL URL requiring TLS (?ssl-mode=REQUIRED) from a server without TLS fails",
     D_MY,
     NULL,
     "$S db ping --database-url \"$U?ssl-mode=REQUIRED\"",
     ANY_FAILURE,
     {"ssl"}},
    {"PostgreSQL URL requiring TLS (?sslmode=require) from a server without TLS fails",
     D_PG,
     NULL,
     "$S db ping --database-url \"$U?sslmode=require\"",
     ANY_FAILURE,
     {"SSL"}},
    {"unknown URL parameter ?bogus=1",
     D_ALL,
     NULL,
     "$S db ping --database-url \"$U?bogus=1\"",
     2,
     {"bogus"},
     F_JSON},
    {"URL parameter connect_timeout=abc",
     D_ALL,
     NULL,
     "$S db ping --database-url \"$U?connect_timeout=abc\"",
     2,
     {"connect_timeout"}},
    {"URL parameter connect_timeout=-5",
     D_SERVERS,
     NULL,
     "$S db ping --database-url \"$U?connect_timeout=-5\"",
     2,
     {"connect_timeout"}},
    {"MySQL connect_timeout=abc to a server that never answers does not hang",
     D_MY,
     NULL,
     "$S db ping --database-url "
     "\"mysql://u:S3cretPw@127.0.0.1:$SILENT_PORT/db?connect_timeout=abc\"",
     2,
     {"connect_timeout"},
     0,
     5},

    /* ---- hangs: regular files only */
    {"a FIFO named like a migration",
     D_ALL,
     "mkfifo mig/003_fifo.json",
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"003_fifo.json"},
     0,
     2},
    {"a FIFO as a seed's \"file\"",
     D_ALL,
     "mkfifo rows.csv\n" SEED("{\"tables\": [{\"table\": \"item\", \"file\": \"rows.csv\"}]}"),
     "$S seed -f seed.json --no-migrate --database-url \"$U\"",
     2,
     {"rows.csv"},
     0,
     2},
    {"a FIFO as the seed file (-f)",
     D_ALL,
     "mkfifo fifo.json",
     "$S seed -f fifo.json --no-migrate --database-url \"$U\"",
     2,
     {"fifo.json"},
     0,
     2},
    {"a FIFO given to seed convert",
     D_SL,
     "mkfifo fifo.json",
     "$S seed convert fifo.json",
     2,
     {"fifo.json"},
     0,
     2},
    {"a FIFO given to migration generate --schema",
     D_SL,
     "mkfifo schema.json",
     "$S migration generate more --schema schema.json --migrations-dir mig",
     2,
     {"schema.json"},
     0,
     2},

    /* ---- silent success where something is wrong */
    {"run with a --migrations-dir that does not exist",
     D_ALL,
     NULL,
     "$S migrations run --migrations-dir nope --database-url \"$U\"",
     2,
     {"nope"},
     F_JSON},
    {"validate with a --migrations-dir that does not exist",
     D_ALL,
     NULL,
     "$S migrations validate --migrations-dir nope --database-url \"$U\"",
     2,
     {"nope"}},
    {"show with a --migrations-dir that does not exist",
     D_ALL,
     NULL,
     "$S migrations show --migrations-dir nope --database-url \"$U\"",
     2,
     {"nope"}},
    {"migrations sql with a --migrations-dir that does not exist",
     D_SL,
     NULL,
     "$S migrations sql --migrations-dir nope",
     2,
     {"nope"}},
    {"revert --all when the applied migrations' files are missing",
     D_ALL,
     "mkdir empty",
     "$S migrations revert --all --migrations-dir empty --database-url \"$U\"",
     2,
     {"001_base"},
     F_JSON},
    {"revert when the last applied migration's file is missing",
     D_ALL,
     "mkdir empty",
     "$S migrations revert --migrations-dir empty --database-url \"$U\"",
     2,
     {"001_base"}},
    {"--database-url '' does not fall back to sqlite:./strata.db",
     D_SL,
     NULL,
     "$S migrations run --migrations-dir mig --database-url ''",
     2,
     {"database-url"}},
    {"DATABASE_URL= (empty) does not fall back to sqlite:./strata.db",
     D_SL,
     NULL,
     "DATABASE_URL= $S migrations run --migrations-dir mig",
     2,
     {"DATABASE_URL"}},
    {"run --to with an unknown id",
     D_ALL,
     NULL,
     "$S migrations run --migrations-dir mig --database-url \"$U\" --to 002_nope",
     2,
     {"002_nope"},
     F_JSON},
    {"run --to abc",
     D_ALL,
     NULL,
     "$S migrations run --migrations-dir mig --database-url \"$U\" --to abc",
     2,
     {"abc"}},
    {"run --to '' (empty)",
     D_ALL,
     NULL,
     "$S migrations run --migrations-dir mig --database-url \"$U\" --to ''",
     2,
     {"--to"}},
    {"revert --to a version that is not there",
     D_ALL,
     NULL,
     "$S migrations revert --migrations-dir mig --database-url \"$U\" --to 999",
     2,
     {"999"}},
    {"--lock-timeout nan",
     D_ALL,
     NULL,
     "$S migrations run --migrations-dir mig --database-url \"$U\" --lock-timeout nan",
     2,
     {"nan"}},
    {"revert --steps 4294967297 does not wrap to 1",
     D_ALL,
     NULL,
     "$S migrations revert --migrations-dir mig --database-url \"$U\" --steps 4294967297",
     2,
     {"4294967297"}},
    {"check --junit into a directory that does not exist",
     D_ALL,
     NULL,
     "$S check --migrations-dir mig --database-url \"$U\" --junit missing/dir/r.xml",
     2,
     {"missing/dir/r.xml"},
     F_JSON},
    {"check -f with a seed file that does not exist",
     D_ALL,
     NULL,
     "$S check --migrations-dir mig --database-url \"$U\" -f nope.json",
     2,
     {"nope.json"}},
    {"db ping with %00 in the database name",
     D_SERVERS,
     NULL,
     "$S db ping --database-url \"$U%00x\"",
     2,
     {"%00"}},
    {"db ping with %00 in a SQLite path",
     D_SL,
     NULL,
     "$S db ping --database-url sqlite:./a%00b.db",
     2,
     {"%00"}},
    {"seed: a decimal with more digits than the column allows",
     D_ALL,
     SEED("{\"tables\": [{\"table\": \"item\", \"rows\": [{\"id\": 1, \"price\": 123456.789}]}]}"),
     "$S seed -f seed.json --no-migrate --database-url \"$U\"",
     2,
     {"item", "price"},
     F_JSON},
    {"a run rejected with exit 2 creates no SQLite file",
     D_SL,
     "mkdir bad\ncat > bad/001_x.json <<'E'\n{\"up\": [{\"op\": \"create_tabel\", \"table\": "
     "\"x\"}]}\nE",
     "$S migrations run --migrations-dir bad --database-url sqlite:./new.db",
     2,
     {"001_x.json"}},

    /* ---- filesystem input errors are bad input: exit 2, one line */
    {"an unreadable migration file",
     D_ALL,
     "if [ \"$(id -u)\" = 0 ]; then ln -s /proc/self/mem mig/003_unreadable.json;\n"
     "else echo '{}' > mig/003_unreadable.json && chmod 000 mig/003_unreadable.json; fi",
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"003_unreadable.json"}},
    {"a dangling symlink named like a migration",
     D_ALL,
     "ln -s nowhere.json mig/003_dangling.json",
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"003_dangling.json"}},
    {"a directory named like a migration",
     D_ALL,
     "mkdir mig/003_dir.json",
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"003_dir.json"}},
    {"--migrations-dir is a file",
     D_ALL,
     "echo x > notadir",
     "$S migrations run --migrations-dir notadir --database-url \"$U\"",
     2,
     {"notadir"}},
    {"seed -f a directory",
     D_ALL,
     "mkdir seeddir",
     "$S seed -f seeddir --no-migrate --database-url \"$U\"",
     2,
     {"seeddir"}},
    {"seed -f a file that does not exist",
     D_ALL,
     NULL,
     "$S seed -f nope.json --no-migrate --database-url \"$U\"",
     2,
     {"nope.json"},
     F_JSON},
    {"seed \"file\" that does not exist",
     D_ALL,
     SEED("{\"tables\": [{\"table\": \"item\", \"file\": \"missing.csv\"}]}"),
     "$S seed -f seed.json --no-migrate --database-url \"$U\"",
     2,
     {"missing.csv"}},
    {"seed \"file\" that is a dangling symlink",
     D_ALL,
     "ln -s nowhere.csv rows.csv\n" SEED(
         "{\"tables\": [{\"table\": \"item\", \"file\": \"rows.csv\"}]}"),
     "$S seed -f seed.json --no-migrate --database-url \"$U\"",
     2,
     {"rows.csv"}},

    /* ---- long values are cut in every message */
    {"a 100 KB table name in a migration",
     D_ALL,
     "printf '{\"up\": [{\"op\": \"create_table\", \"table\": \"%s\", \"columns\": [{\"name\": "
     "\"id\", \"type\": \"integer\"}]}]}' \"" LONG_NAME "\" > mig/003_long.json",
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"003_long.json"}},
    {"a 100 KB table name in a seed",
     D_ALL,
     "printf '{\"tables\": [{\"table\": \"%s\", \"rows\": [{\"id\": 1}]}]}' \"" LONG_NAME
     "\" > seed.json",
     "$S seed -f seed.json --no-migrate --database-url \"$U\"",
     2,
     {"seed.json"}},
    {"a 100 KB --to value",
     D_ALL,
     NULL,
     "$S migrations run --migrations-dir mig --database-url \"$U\" --to " LONG_DIGITS,
     2,
     {"--to"}},
    {"a 100 KB database name",
     D_SERVERS,
     NULL,
     "$S db ping --database-url \"$SCHEME://u:S3cretPw@$HOSTPORT/" LONG_NAME "\"",
     ANY_FAILURE,
     {"$HOSTPORT"}},
    {"a 100 KB unknown option",
     D_SL,
     NULL,
     "$S migrations run --" LONG_NAME,
     2,
     {"unknown option"}},

    /* ---- a server that goes away mid-run */
    {"the connection dies mid-migration: server, migration, op and recovery are named",
     D_SERVERS,
     ONLY_BASE "cat > m2/003_kill.json <<'E'\n"
               "{\"up\": [{\"op\": \"create_table\", \"table\": \"k\", \"columns\": [{\"name\": "
               "\"id\", \"type\": \"integer\", \"primary_key\": true}]}, {\"op\": \"sql\", "
               "\"postgres\": \"SELECT pg_terminate_backend(pg_backend_pid())\", \"mysql\": \"KILL "
               "CONNECTION_ID()\"}], \"down\": [{\"op\": \"drop_table\", \"table\": \"k\"}]}\nE",
     "$S migrations run --migrations-dir m2 --database-url \"$U\"",
     1,
     {"$HOSTPORT", "003_kill", "next run"},
     F_PROGRESS | F_NO_DB_CHECK},

    /* ---- the spec's error list (spec/cli.md "Errors") */
    {"malformed JSON in a migration names file, line and column",
     D_ALL,
     MIG("003_bad.json", "{\n  \"up\": [\n    {\"op\": \"drop_table\" \"table\": \"x\"}\n  ]\n}"),
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"003_bad.json:3:"},
     F_JSON},
    {"unknown op names the JSON path and the nearest op",
     D_ALL,
     MIG("003_typo.json", "{\"up\": [{\"op\": \"create_tabel\", \"table\": \"x\"}]}"),
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"003_typo.json", "up[0].op", "create_table"}},
    {"unknown type names the JSON path and the nearest type",
     D_ALL,
     MIG("003_type.json", "{\"up\": [{\"op\": \"create_table\", \"table\": \"t\", \"columns\": "
                          "[{\"name\": \"id\", \"type\": \"integer\"}, {\"name\": \"n\", "
                          "\"type\": \"strin\"}]}]}"),
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"003_type.json", "up[0].columns[1].type", "string"}},
    {"unknown key names the JSON path and the nearest key",
     D_ALL,
     MIG("003_key.json", "{\"up\": [{\"op\": \"create_table\", \"table\": \"t\", \"columns\": "
                         "[{\"name\": \"id\", \"type\": \"integer\", \"nulable\": true}]}]}"),
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"003_key.json", "up[0].columns[0]", "nullable"}},
    {"a duplicate key in a migration",
     D_ALL,
     MIG("003_dup.json",
         "{\"up\": [{\"op\": \"drop_table\", \"table\": \"a\", \"table\": \"b\"}]}"),
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"003_dup.json:1:"}},
    {"a migration file with a NUL byte and more after it",
     D_ALL,
     "printf '{\"up\": [{\"op\": \"create_table\", \"table\": \"n\", \"columns\": [{\"name\": "
     "\"id\", \"type\": \"integer\"}]}]}\\000{\"garbage\": ' > mig/003_nul.json",
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"003_nul.json"}},
    {"an empty 'up'",
     D_ALL,
     MIG("003_empty.json", "{\"up\": []}"),
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"003_empty.json", "up"}},
    {"an sql op with no body for this dialect stops the run before anything",
     D_ALL,
     "printf '{\"up\": [{\"op\": \"sql\", \"%s\": \"SELECT 1\"}]}' \"$OTHER\" > mig/003_sql.json",
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"003_sql.json", "up[0]"}},
    {"an operation on an unknown table",
     D_ALL,
     MIG("003_unknown.json", "{\"up\": [{\"op\": \"add_column\", \"table\": \"nope\", \"column\": "
                             "{\"name\": \"x\", \"type\": \"text\"}}]}"),
     "$S migrations run --migrations-dir mig --database-url \"$U\"",
     2,
     {"003_unknown.json", "up[0]", "nope"}},
    {"a failing statement names migration, op, SQL and the server's words",
     D_ALL,
     ONLY_BASE "cat > m2/003_fail.json <<'E'\n"
               "{\"up\": [{\"op\": \"create_table\", \"table\": \"f\", \"columns\": [{\"name\": "
               "\"id\", \"type\": \"integer\", \"primary_key\": true}]}, {\"op\": \"sql\", "
               "\"all\": \"INSERT INTO no_such_table VALUES (1)\"}], \"down\": [{\"op\": "
               "\"drop_table\", \"table\": \"f\"}]}\nE",
     "$S migrations run --migrations-dir m2 --database-url \"$U\"",
     1,
     {"003_fail", "up[1]", "no_such_table"},
     F_PROGRESS | F_JSON},
    {"seed: malformed JSON names file, line and column",
     D_ALL,
     SEED("{\n  \"tables\": [\n    {\"table\": \"item\" \"rows\": []}\n  ]\n}"),
     "$S seed -f seed.json --no-migrate --database-url \"$U\"",
     2,
     {"seed.json:3:"},
     F_JSON},
    {"seed: unknown table with the nearest name",
     D_ALL,
     SEED("{\"tables\": [{\"table\": \"itme\", \"rows\": [{\"id\": 1}]}]}"),
     "$S seed -f seed.json --no-migrate --database-url \"$U\"",
     2,
     {"itme", "item"}},
    {"seed: unknown column with the nearest name",
     D_ALL,
     SEED("{\"tables\": [{\"table\": \"item\", \"rows\": [{\"id\": 1, \"cdoe\": \"x\"}]}]}"),
     "$S seed -f seed.json --no-migrate --database-url \"$U\"",
     2,
     {"cdoe", "code"}},
    {"seed: a value that does not fit names table, row and column",
     D_ALL,
     SEED("{\"tables\": [{\"table\": \"item\", \"rows\": [{\"id\": 1, \"price\": \"abc\"}]}]}"),
     "$S seed -f seed.json --no-migrate --database-url \"$U\"",
     2,
     {"item", "rows[0]", "price"}},
    {"seed: a string longer than its column",
     D_ALL,
     SEED("{\"tables\": [{\"table\": \"item\", \"rows\": [{\"id\": 1, \"code\": "
          "\"abcdefghijklmnop\"}]}]}"),
     "$S seed -f seed.json --no-migrate --database-url \"$U\"",
     2,
     {"item", "code"}},
    {"seed: $ref to an unknown alias",
     D_ALL,
     SEED("{\"tables\": [{\"table\": \"item\", \"rows\": [{\"id\": {\"$ref\": \"nope\"}}]}]}"),
     "$S seed -f seed.json --no-migrate --database-url \"$U\"",
     2,
     {"nope"}},
    {"seed: a CSV row with a field too many names file and line",
     D_ALL,
     "printf 'id,code\\n1,a\\n2,b,c\\n' > rows.csv\n" SEED(
         "{\"tables\": [{\"table\": \"item\", \"file\": \"rows.csv\"}]}"),
     "$S seed -f seed.json --no-migrate --database-url \"$U\"",
     2,
     {"rows.csv:3"}},
    {"seed: an NDJSON line that is not JSON names file and line",
     D_ALL,
     "printf '{\"id\": 1}\\n{oops\\n' > rows.ndjson\n" SEED(
         "{\"tables\": [{\"table\": \"item\", \"file\": \"rows.ndjson\"}]}"),
     "$S seed -f seed.json --no-migrate --database-url \"$U\"",
     2,
     {"rows.ndjson:2"}},
    {"seed: a bad seed file is reported before pending migrations are applied",
     D_ALL,
     SEED("{\"tables\": [{\"table\": \"item\", \"rows\": [{\"id\": 1, \"price\": \"abc\"}]}]}"),
     "$S seed -f seed.json --migrations-dir mig --database-url \"$U\"",
     2,
     {"price"}},

    /* ---- command-line usage (offline, so in the SQLite suite only) */
    {"unknown command words", D_SL, NULL, "$S migrations rnu", 2, {"rnu"}, F_JSON},
    {"unknown option with the nearest one",
     D_SL,
     NULL,
     "$S migrations run --migrations-dir mig --dry-rn",
     2,
     {"--dry-rn", "--dry-run"}},
    {"an option without its value",
     D_SL,
     NULL,
     "$S migrations run --migrations-dir mig --to",
     2,
     {"--to"}},
    {"migrations sql --dialect oracle",
     D_SL,
     NULL,
     "$S migrations sql --migrations-dir mig --dialect oracle",
     2,
     {"oracle"}},
    {"seed --mode bogus",
     D_SL,
     SEED("{\"tables\": []}"),
     "$S seed -f seed.json --mode bogus --database-url \"$U\"",
     2,
     {"bogus"}},
    {"migration create with a bad name creates nothing",
     D_SL,
     NULL,
     "$S migration create 'bad name' --migrations-dir mig",
     2,
     {"bad name"}},
    {"revert --steps 0",
     D_ALL,
     NULL,
     "$S migrations revert --migrations-dir mig --database-url \"$U\" --steps 0",
     2,
     {"--steps"}},
    {"--lock-timeout -1",
     D_ALL,
     NULL,
     "$S migrations run --migrations-dir mig --database-url \"$U\" --lock-timeout -1",
     2,
     {"--lock-timeout"}},
    {NULL, 0, NULL, NULL, 0, {NULL}, 0, 0, NULL},
};
#pragma GCC diagnostic pop

/* ---- the suite's database and directories ---- */

static char *suite_dir;  /* everything of this suite lives here */
static char *db_url;     /* the database, as the test user (password S3cretPw) */
static char *admin_url;  /* the same database as the servers' test user */
static char *sqlite_dir; /* SQLite: the directory of the database file */
static int silent_fd = -1;
static int case_counter;
static int n_pass, n_fail;

/* Printf into a new string. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    size_t cap = 8192, len = 0, n;
    char *b = malloc(cap);
    while ((n = fread(b + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 4096)
            b = realloc(b, cap *= 2);
    }
    b[len] = '\0';
    fclose(f);
    return b;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Run a shell script with /bin/sh in `dir`, stdout and stderr to files
 * (NULL: /dev/null), bounded by `timeout` seconds. Returns the exit status
 * (124 for a timeout, 128+N for signal N). */
static int run_sh(const char *dir, const char *script, int timeout, const char *out,
                  const char *err)
{
    setenv("BADINPUT_SCRIPT", script, 1);
    char *cmd = fmt("cd '%s' && timeout -k 2 %d sh -c \"$BADINPUT_SCRIPT\" >'%s' 2>'%s' </dev/null",
                    dir, timeout, out ? out : "/dev/null", err ? err : "/dev/null");
    int st = system(cmd);
    free(cmd);
    unsetenv("BADINPUT_SCRIPT");
    if (st == -1)
        return -1;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* The URL of a fresh database with the test user's credentials put in. */
static char *with_test_user(const char *url)
{
    const char *p = strstr(url, "://");
    const char *at = p ? strchr(p, '@') : NULL;
    if (!at)
        return strdup(url);
    return fmt("%.*s://" TEST_USER ":" PASSWORD "%s", (int)(p - url), url, at);
}

/* host:port of a server URL ("" for SQLite). */
static char *host_port(const char *url)
{
    const char *at = strchr(url, '@');
    if (!at)
        return strdup("");
    at++;
    return fmt("%.*s", (int)strcspn(at, "/?"), at);
}

/* Apply the base migration (as the servers' test user). */
static int apply_base(void)
{
    char *dir = fmt("%s/base", suite_dir);
    mkdir(dir, 0755);
    char *path = fmt("%s/001_base.json", dir);
    write_text(path, base_migration);
    char *cmd = fmt("%s migrations run --migrations-dir '%s' --database-url '%s' 2>&1",
                    test_strata_bin(), dir, admin_url);
    char *out = NULL;
    int rc = test_run_cmd(cmd, &out);
    if (rc != 0)
        fprintf(stderr, "\nbadinput: cannot apply the base migration: %s\n", out);
    free(out);
    free(cmd);
    free(path);
    free(dir);
    return rc;
}

/* Give up the database and make a fresh one with the base applied. */
static int make_database(void)
{
    if (admin_url) {
        if (test_dialect == STRATA_SQLITE) {
            char *cmd = fmt("rm -rf '%s'", sqlite_dir);
            test_run_cmd(cmd, NULL);
            free(cmd);
        } else {
            test_drop_database(test_dialect, admin_url);
        }
    }
    free(admin_url);
    free(db_url);
    admin_url = db_url = NULL;
    if (test_dialect == STRATA_SQLITE) {
        mkdir(sqlite_dir, 0755);
        admin_url = fmt("sqlite:%s/bi.db", sqlite_dir);
        db_url = strdup(admin_url);
    } else {
        admin_url = test_fresh_database(test_dialect, "badinput");
        if (!admin_url)
            return 1;
        db_url = with_test_user(admin_url);
    }
    setenv("U", db_url, 1);
    return apply_base();
}

/* Create the test user with the distinctive password (servers only). */
static int create_test_user(void)
{
    if (test_dialect == STRATA_SQLITE)
        return 0;
    strata_conn *c = test_connect(test_base_url(test_dialect));
    if (!c)
        return 1;
    int rc = 0;
    if (test_dialect == STRATA_POSTGRES) {
        if (strata_conn_exec(c, "CREATE ROLE " TEST_USER " LOGIN SUPERUSER PASSWORD '" PASSWORD
                                "'") != 0)
            strata_error_clear(); /* there from an earlier run */
        rc =
            strata_conn_exec(c, "ALTER ROLE " TEST_USER " LOGIN SUPERUSER PASSWORD '" PASSWORD "'");
    } else {
        static const char *const sql[] = {
            "CREATE USER IF NOT EXISTS '" TEST_USER "'@'%' IDENTIFIED BY '" PASSWORD "'",
            "CREATE USER IF NOT EXISTS '" TEST_USER "'@'localhost' IDENTIFIED BY '" PASSWORD "'",
            "GRANT ALL ON *.* TO '" TEST_USER "'@'%'",
            "GRANT ALL ON *.* TO '" TEST_USER "'@'localhost'",
        };
        for (size_t i = 0; i < sizeof sql / sizeof sql[0] && !rc; i++)
            rc = strata_conn_exec(c, sql[i]);
    }
    if (rc)
        fprintf(stderr, "\nbadinput: cannot create the test user: %s\n", strata_error_message());
    strata_conn_close(c);
    return rc;
}

/* A TCP port on 127.0.0.1 that accepts connections and never answers. */
static int open_silent_listener(void)
{
    silent_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (silent_fd < 0 || bind(silent_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(silent_fd, 64) != 0 || getsockname(silent_fd, (struct sockaddr *)&a, &len) != 0) {
        fprintf(stderr, "\nbadinput: silent listener: %s\n", strerror(errno));
        return 1;
    }
    char port[16];
    snprintf(port, sizeof port, "%d", ntohs(a.sin_port));
    setenv("SILENT_PORT", port, 1);
    return 0;
}

static int suite_init(void)
{
    n_pass = n_fail = 0;
    suite_dir = test_tempdir("badinput");
    if (!suite_dir)
        return 1;
    sqlite_dir = fmt("%s/db", suite_dir);
    if (create_test_user() || make_database() || open_silent_listener())
        return 1;
    static const char *const names[] = {"postgres", "mysql", "sqlite"};
    static const char *const other[] = {"mysql", "sqlite", "postgres"};
    setenv("S", test_strata_bin(), 1);
    setenv("DIALECT", names[test_dialect], 1);
    setenv("OTHER", other[test_dialect], 1);
    setenv("SCHEME", test_dialect == STRATA_MYSQL ? "mysql" : "postgres", 1);
    char *hp = host_port(db_url);
    setenv("HOSTPORT", hp, 1);
    free(hp);
    if (test_dialect == STRATA_SQLITE) {
        setenv("UNREACH", "sqlite:/nonexistent-strata-dir/sub/x.db", 1);
        setenv("UNREACH_WHERE", "/nonexistent-strata-dir/sub/x.db", 1);
    } else {
        setenv("UNREACH",
               test_dialect == STRATA_POSTGRES
                   ? "postgres://" TEST_USER ":" PASSWORD "@127.0.0.1:1/nowhere"
                   : "mysql://" TEST_USER ":" PASSWORD "@127.0.0.1:1/nowhere",
               1);
        setenv("UNREACH_WHERE", "127.0.0.1:1", 1);
    }
    unsetenv("DATABASE_URL");
    /* the sanitizers' reports are findings; the catalogue only needs to see
     * them, so no slow symbolizing and no colours */
    static int asan_set;
    if (!asan_set++) {
        const char *asan = getenv("ASAN_OPTIONS");
        char *opts = fmt("%s%sdetect_leaks=1:symbolize=0:color=never", asan ? asan : "",
                         asan && *asan ? ":" : "");
        setenv("ASAN_OPTIONS", opts, 1);
        free(opts);
    }
    setenv("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:color=never", 0);
    return 0;
}

static int suite_cleanup(void)
{
    fprintf(stderr, "\nbadinput/%s: %d case%s passed, %d failed\n",
            strata_dialect_name(test_dialect), n_pass, n_pass == 1 ? "" : "s", n_fail);
    if (silent_fd >= 0)
        close(silent_fd);
    silent_fd = -1;
    if (test_dialect != STRATA_SQLITE)
        test_drop_database(test_dialect, admin_url);
    free(admin_url);
    free(db_url);
    admin_url = db_url = NULL;
    if (suite_dir) {
        char *cmd = fmt("rm -rf '%s'", suite_dir);
        test_run_cmd(cmd, NULL);
        free(cmd);
    }
    free(suite_dir);
    free(sqlite_dir);
    suite_dir = sqlite_dir = NULL;
    return 0;
}

/* ---- snapshots ---- */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static void buf_add(buf *b, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void buf_add(buf *b, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    int n = vasprintf(&s, f, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, (size_t)n + 1);
    b->len += (size_t)n;
    free(s);
}

/* Append every row of a query, one line each, columns separated by '|'. */
static void add_rows(strata_conn *c, buf *b, const char *label, const char *sql)
{
    strata_rows *r = NULL;
    if (strata_conn_query(c, sql, NULL, 0, &r) != 0) {
        buf_add(b, "%s: query failed: %s\n", label, strata_error_message());
        strata_error_clear();
        return;
    }
    while (strata_rows_next(r) > 0) {
        buf_add(b, "%s:", label);
        for (size_t i = 0; i < strata_rows_ncols(r); i++) {
            const char *t = strata_rows_text(r, i);
            buf_add(b, "%s%s", i ? "|" : " ", t ? t : "NULL");
        }
        buf_add(b, "\n");
    }
    strata_rows_free(r);
}

/* Tables, their columns and row counts, enum types and the history. */
static char *db_snapshot(void)
{
    strata_conn *c = NULL;
    buf b = {0};
    if (strata_conn_open(&c, admin_url) != 0) {
        buf_add(&b, "cannot connect: %s\n", strata_error_message());
        strata_error_clear();
        return b.p;
    }
    const char *tables_sql =
        test_dialect == STRATA_POSTGRES
            ? "SELECT table_name FROM information_schema.tables WHERE table_schema = "
              "current_schema() ORDER BY 1"
        : test_dialect == STRATA_MYSQL
            ? "SELECT table_name FROM information_schema.tables WHERE table_schema = database() "
              "ORDER BY 1"
            : "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
              "ORDER BY 1";
    strata_rows *r = NULL;
    char *names[256];
    size_t n = 0;
    if (strata_conn_query(c, tables_sql, NULL, 0, &r) == 0) {
        while (strata_rows_next(r) > 0 && n < 256)
            names[n++] = strdup(strata_rows_text(r, 0));
        strata_rows_free(r);
    }
    for (size_t i = 0; i < n; i++) {
        char *q = strata_conn_quote_ident(c, names[i]);
        char *sql = fmt("SELECT count(*) FROM %s", q);
        add_rows(c, &b, names[i], sql);
        free(sql);
        char *lit = strata_conn_quote_literal(c, names[i]);
        if (test_dialect == STRATA_SQLITE)
            sql =
                fmt("SELECT name, type, \"notnull\" FROM pragma_table_info(%s) ORDER BY cid", lit);
        else
            sql = fmt("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                      "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                      test_dialect == STRATA_POSTGRES ? "current_schema()" : "database()", lit);
        add_rows(c, &b, names[i], sql);
        free(sql);
        free(lit);
        free(q);
        if (strcmp(names[i], "strata_migrations") == 0)
            add_rows(c, &b, "history",
                     "SELECT id, checksum, state, ops_applied, applied_at FROM strata_migrations "
                     "ORDER BY id");
        free(names[i]);
    }
    if (test_dialect == STRATA_POSTGRES)
        add_rows(c, &b, "enum",
                 "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                 "WHERE n.nspname = current_schema() AND t.typtype = 'e' ORDER BY 1");
    strata_conn_close(c);
    if (!b.p)
        buf_add(&b, "%s", "");
    return b.p;
}

/* Every entry under dir (lstat: type, size, mode, modification time of
 * files, symlink targets). With names_only, only the names. */
static void fs_walk(buf *b, const char *dir, const char *rel, int names_only)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char *names[4096];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 4096)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    closedir(d);
    for (size_t i = 0; i + 1 < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) > 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    for (size_t i = 0; i < n; i++) {
        char *path = fmt("%s/%s", dir, names[i]);
        char *r = fmt("%s%s", rel, names[i]);
        struct stat st;
        if (names_only) {
            buf_add(b, "%s\n", r);
        } else if (lstat(path, &st) != 0) {
            buf_add(b, "%s vanished\n", r);
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t k = readlink(path, target, sizeof target - 1);
            target[k > 0 ? k : 0] = '\0';
            buf_add(b, "%s -> %s\n", r, target);
        } else if (S_ISDIR(st.st_mode)) {
            buf_add(b, "%s/ %o\n", r, (unsigned)(st.st_mode & 07777));
            char *sub = fmt("%s/", r);
            fs_walk(b, path, sub, 0);
            free(sub);
        } else {
            buf_add(b, "%s %c %o %lld %lld.%09ld\n", r, S_ISFIFO(st.st_mode) ? 'p' : 'f',
                    (unsigned)(st.st_mode & 07777), (long long)st.st_size,
                    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        }
        free(r);
        free(path);
        free(names[i]);
    }
}

static char *fs_snapshot(const char *casedir)
{
    buf b = {0};
    fs_walk(&b, casedir, "", 0);
    if (test_dialect == STRATA_SQLITE)
        fs_walk(&b, sqlite_dir, "<beside the database>/", 1);
    if (!b.p)
        buf_add(&b, "%s", "");
    return b.p;
}

/* The first line of `after` that `before` does not have, or the first of
 * `before` that is gone; NULL when both are equal. */
static char *first_difference(const char *before, const char *after)
{
    if (strcmp(before, after) == 0)
        return NULL;
    const char *sides[2][2] = {{after, before}, {before, after}};
    for (int k = 0; k < 2; k++) {
        const char *p = sides[k][0];
        while (*p) {
            size_t n = strcspn(p, "\n");
            char *line = fmt("\n%.*s\n", (int)n, p);
            int found = strncmp(sides[k][1], line + 1, n + 1) == 0 || strstr(sides[k][1], line);
            if (!found) {
                char *d = fmt("%s '%.*s'", k == 0 ? "new" : "gone", (int)(n > 120 ? 120 : n), p);
                free(line);
                return d;
            }
            free(line);
            p += n + (p[n] == '\n');
        }
    }
    return strdup("order differs");
}

/* ---- running one case ---- */

typedef struct problems {
    buf b;
    int n;
} problems;

static void problem(problems *pr, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void problem(problems *pr, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0)
        s = NULL;
    va_end(ap);
    buf_add(&pr->b, "%s%s", pr->n++ ? "; " : "", s ? s : "?");
    free(s);
}

/* A want string: "$VAR" stands for the variable's value. */
static const char *want_text(const char *w)
{
    if (w[0] == '$') {
        const char *v = getenv(w + 1);
        return v ? v : w;
    }
    return w;
}

/* Check one run's output; `json` says it ran with --json. */
static void check_output(const bad_case *c, int json, int status, const char *out, const char *err,
                         problems *pr)
{
    const char *tag = json ? "--json: " : "";
    int limit = c->timeout ? c->timeout : 20;
    if (status == 124 || status == 128 + 9) {
        problem(pr, "%shung: no answer within %d s", tag, limit);
        return;
    }
    if (strstr(err, "AddressSanitizer") || strstr(err, "LeakSanitizer") ||
        strstr(err, "runtime error:"))
        problem(pr, "%ssanitizer report", tag);
    else if (status > 128)
        problem(pr, "%skilled by signal %d", tag, status - 128);
    if (c->exit == ANY_FAILURE ? (status != 1 && status != 2) : status != c->exit) {
        if (c->exit == ANY_FAILURE)
            problem(pr, "%sexit %d, expected a failure (1 or 2)", tag, status);
        else
            problem(pr, "%sexit %d, expected %d", tag, status, c->exit);
    }
    /* stderr: exactly one error line */
    int errors = 0, others = 0;
    size_t longest = 0;
    const char *error_line = NULL;
    size_t error_len = 0;
    for (const char *p = err; *p;) {
        size_t n = strcspn(p, "\n");
        if (n == 0) {
            /* an empty line is still a line */
            others++;
        } else if (strncmp(p, "strata: ", 8) == 0 && strncmp(p, "strata: warning:", 16) != 0) {
            errors++;
            error_line = p;
            error_len = n;
            if (n > longest)
                longest = n;
        } else if (!(n == strlen(HELP_HINT) && strncmp(p, HELP_HINT, n) == 0)) {
            others++;
        }
        p += n + (p[n] == '\n');
    }
    if (errors == 0)
        problem(pr, "%sno error line (\"strata: ...\") on stderr", tag);
    else if (errors > 1)
        problem(pr, "%s%d error lines on stderr, one expected", tag, errors);
    if (others && !(c->flags & F_PROGRESS))
        problem(pr, "%s%d more line%s on stderr than the error", tag, others,
                others == 1 ? "" : "s");
    if (longest > MAX_ERROR_LINE)
        problem(pr, "%serror line is %zu bytes (at most %d)", tag, longest, MAX_ERROR_LINE);
    if (error_line) {
        char *line = fmt("%.*s", (int)error_len, error_line);
        for (int i = 0; i < 3 && c->want[i]; i++) {
            const char *w = want_text(c->want[i]);
            if (!strstr(line, w))
                problem(pr, "%serror does not name '%.60s'", tag, w);
        }
        free(line);
    }
    /* no password anywhere */
    if (strstr(err, SECRET))
        problem(pr, "%spassword on stderr", tag);
    if (strstr(out, SECRET))
        problem(pr, "%spassword on stdout", tag);
    /* stdout: nothing, or with --json one error document */
    if (json) {
        json_error_t je;
        json_t *doc = json_loads(out, 0, &je);
        json_t *ex = doc ? json_object_get(doc, "exit") : NULL;
        if (!doc || !json_is_object(doc) || !json_is_string(json_object_get(doc, "error")) ||
            !json_is_integer(ex))
            problem(pr, "--json: stdout is not one JSON document with \"error\" and \"exit\"");
        else if (json_integer_value(ex) != status)
            problem(pr, "--json: \"exit\" is %lld, the status %d",
                    (long long)json_integer_value(ex), status);
        json_decref(doc);
    } else if (*out && !(c->flags & F_PROGRESS)) {
        size_t n = strcspn(out, "\n");
        problem(pr, "stdout is not empty ('%.*s')", (int)(n > 60 ? 60 : n), out);
    }
}

static void run_case(const bad_case *c)
{
    struct timespec case_start, case_end;
    clock_gettime(CLOCK_MONOTONIC, &case_start);
    int k = ++case_counter;
    char *dir = fmt("%s/c%03d", suite_dir, k);
    char *out = fmt("%s/c%03d.out", suite_dir, k);
    char *err = fmt("%s/c%03d.err", suite_dir, k);
    problems pr = {{0}, 0};
    mkdir(dir, 0755);
    char *mig = fmt("%s/mig", dir);
    mkdir(mig, 0755);
    char *p = fmt("%s/001_base.json", mig);
    write_text(p, base_migration);
    free(p);
    p = fmt("%s/002_pending.json", mig);
    write_text(p, pending_migration);
    free(p);
    p = fmt("%s/victim", dir);
    write_text(p, "precious\n");
    free(p);
    free(mig);

    int setup_failed = c->setup && run_sh(dir, c->setup, 30, NULL, err) != 0;
    if (setup_failed) {
        char *e = read_all(err);
        problem(&pr, "setup failed: %.200s", e);
        free(e);
    }
    char *db_before = db_snapshot();
    char *fs_before = fs_snapshot(dir);

    int runs = c->flags & F_JSON ? 2 : 1;
    for (int json = 0; json < runs && !setup_failed; json++) {
        char *cmd = json ? fmt("%s --json", c->cmd) : strdup(c->cmd);
        int status = run_sh(dir, cmd, c->timeout ? c->timeout : 20, out, err);
        char *o = read_all(out), *e = read_all(err);
        check_output(c, json, status, o, e, &pr);
        if (pr.n && !json) {
            /* what it said, for the log */
            size_t n = strcspn(e, "\n");
            fprintf(stderr, "\n  [%s] %s\n    exit %d, stderr: %.*s%s\n",
                    strata_dialect_name(test_dialect), c->name, status, (int)(n > 300 ? 300 : n), e,
                    n > 300 || e[n] ? " ..." : "");
        }
        free(o);
        free(e);
        free(cmd);
    }

    char *db_after = db_snapshot();
    char *fs_after = fs_snapshot(dir);
    char *d = first_difference(db_before, db_after);
    if (d && !(c->flags & F_NO_DB_CHECK))
        problem(&pr, "database changed: %s", d);
    int db_dirty = d != NULL || (c->flags & F_NO_DB_CHECK);
    free(d);
    d = first_difference(fs_before, fs_after);
    if (d && !(c->flags & F_NO_FS_CHECK))
        problem(&pr, "files changed: %s", d);
    free(d);
    if (c->post && run_sh(dir, c->post, 30, NULL, NULL) != 0)
        problem(&pr, "after the command: `%s` failed", c->post);

    if (getenv("BADINPUT_TIMING")) {
        clock_gettime(CLOCK_MONOTONIC, &case_end);
        fprintf(stderr, "  %6.2f s  %s\n",
                (double)(case_end.tv_sec - case_start.tv_sec) +
                    (double)(case_end.tv_nsec - case_start.tv_nsec) / 1e9,
                c->name);
    }
    if (pr.n) {
        n_fail++;
        char *msg = fmt("%s: %s", c->name, pr.b.p);
        fprintf(stderr, "  FAIL %s: %s\n", strata_dialect_name(test_dialect), msg);
        CU_assertImplementation(CU_FALSE, __LINE__, msg, __FILE__, "", CU_FALSE);
        free(msg);
    } else {
        n_pass++;
        CU_PASS(c->name);
    }
    if (db_dirty && make_database() != 0)
        CU_FAIL("cannot make the database anew");
    free(pr.b.p);
    free(db_before);
    free(db_after);
    free(fs_before);
    free(fs_after);
    char *rm = fmt("rm -rf '%s' '%s' '%s'", dir, out, err);
    test_run_cmd(rm, NULL);
    free(rm);
    free(dir);
    free(out);
    free(err);
}

/* CUnit calls tests without arguments: find the case by the test's name. */
static void run_current_case(void)
{
    const char *name = CU_get_current_test()->pName;
    for (const bad_case *c = cases; c->name; c++)
        if (strcmp(c->name, name) == 0) {
            run_case(c);
            return;
        }
    CU_FAIL("no such case");
}

/* ---- the behaviour asked for where the input is fine ---- */

/* Run a command line in a fresh case directory (with mig/ as for the
 * cases); returns the exit status, stdout and stderr. */
static int run_plain(const char *setup, const char *cmd, char **out, char **err, char **casedir)
{
    int k = ++case_counter;
    char *dir = fmt("%s/c%03d", suite_dir, k);
    mkdir(dir, 0755);
    char *mig = fmt("%s/mig", dir);
    mkdir(mig, 0755);
    char *p = fmt("%s/001_base.json", mig);
    write_text(p, base_migration);
    free(p);
    p = fmt("%s/002_pending.json", mig);
    write_text(p, pending_migration);
    free(p);
    free(mig);
    char *o = fmt("%s.out", dir), *e = fmt("%s.err", dir);
    int status = setup ? run_sh(dir, setup, 30, NULL, NULL) : 0;
    if (status == 0)
        status = run_sh(dir, cmd, 60, o, e);
    else
        fprintf(stderr, "\n  setup failed: %s\n", setup);
    *out = read_all(o);
    *err = read_all(e);
    unlink(o);
    unlink(e);
    free(o);
    free(e);
    if (casedir)
        *casedir = dir;
    else
        free(dir);
    return status;
}

static long long scalar(const char *sql)
{
    strata_conn *c = test_connect(admin_url);
    long long v = c ? test_scalar_int(c, sql) : -999999;
    strata_conn_close(c);
    return v;
}

static void report(int ok, const char *what, int status, const char *out, const char *err)
{
    if (!ok)
        fprintf(stderr, "\n  [%s] %s\n    exit %d\n    stdout: %.400s\n    stderr: %.400s\n",
                strata_dialect_name(test_dialect), what, status, out, err);
}

/* --to takes a migration's id (its identity, spec/migration-format.md) as
 * well as its version, and applies up to that migration only. */
static void test_to_with_id(void)
{
    char *out, *err;
    int st = run_plain(MIG("003_later.json", "{\"up\": [{\"op\": \"create_table\", \"table\": "
                                             "\"later\", \"columns\": [{\"name\": \"id\", "
                                             "\"type\": \"integer\"}]}]}"),
                       "$S migrations run --migrations-dir mig --database-url \"$U\" --to "
                       "002_pending",
                       &out, &err, NULL);
    long long applied = scalar("SELECT count(*) FROM strata_migrations");
    int ok = st == 0 && applied == 2;
    report(ok, "--to 002_pending applies 002 and not 003", st, out, err);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_EQUAL(applied, 2);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(make_database(), 0);
}

/* A unique string column keeps 'pad', 'pad ' and 'pad  ' apart on every
 * database (MariaDB's utf8mb4_bin is PAD SPACE: a NO PAD collation is
 * needed). */
static void test_no_pad_unique(void)
{
    char *out, *err;
    int st = run_plain(SEED("{\"tables\": [{\"table\": \"item\", \"rows\": [{\"id\": 1, \"code\": "
                            "\"pad\"}, {\"id\": 2, \"code\": \"pad \"}, {\"id\": 3, \"code\": "
                            "\"pad  \"}]}]}"),
                       "$S seed -f seed.json --no-migrate --database-url \"$U\"", &out, &err, NULL);
    long long rows = scalar("SELECT count(*) FROM item");
    int ok = st == 0 && rows == 3;
    report(ok, "'pad', 'pad ' and 'pad  ' are three distinct unique values", st, out, err);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_EQUAL(rows, 3);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(make_database(), 0);
}

#define BROKEN_PENDING                                                                             \
    "rm mig/002_pending.json\n" MIG("003_broken.json",                                             \
                                    "{\"up\": [{\"op\": \"create_tabel\", \"table\": \"x\"}]}")

/* revert needs only the applied migrations: a broken pending file does not
 * block it. */
static void test_revert_with_broken_pending(void)
{
    char *out, *err;
    int st = run_plain(BROKEN_PENDING,
                       "$S migrations revert --all --migrations-dir mig --database-url \"$U\"",
                       &out, &err, NULL);
    long long applied = scalar("SELECT count(*) FROM strata_migrations");
    int ok = st == 0 && applied == 0;
    report(ok, "revert --all with a broken pending migration", st, out, err);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_EQUAL(applied, 0);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(make_database(), 0);
}

/* show lists every migration and marks the broken one (exit 1: something
 * is pending and something is wrong). */
static void test_show_with_broken_pending(void)
{
    char *out, *err;
    int st =
        run_plain(BROKEN_PENDING, "$S migrations show --migrations-dir mig --database-url \"$U\"",
                  &out, &err, NULL);
    int ok = st == 1 && strstr(out, "001_base") && strstr(out, "003_broken");
    report(ok, "show with a broken pending migration", st, out, err);
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_STR_CONTAINS(out, "001_base");
    CU_ASSERT_STR_CONTAINS(out, "003_broken");
    free(out);
    free(err);
}

/* Files Strata creates (a SQLite database and its journal) are not writable
 * by others, whatever the umask. */
static void test_created_file_modes(void)
{
    char *out, *err, *dir;
    int st = run_plain(NULL,
                       "umask 000; $S migrations run --migrations-dir mig --database-url "
                       "sqlite:./p.db",
                       &out, &err, &dir);
    CU_ASSERT_EQUAL(st, 0);
    char *cmd = fmt("find '%s' -maxdepth 1 -type f -perm -o+w -printf '%%f '", dir);
    char *found = NULL;
    test_run_cmd(cmd, &found);
    int ok = st == 0 && found && !*found;
    if (!ok)
        fprintf(stderr, "\n  [sqlite] created with umask 000, writable by others: %s\n",
                found ? found : "?");
    CU_ASSERT(found && !*found);
    free(found);
    free(cmd);
    free(out);
    free(err);
    free(dir);
}

/* A run killed (SIGKILL) while a migration's second operation runs, after
 * its first (an `sql` op) was applied, leaves nothing to fix by hand: the
 * next run recovers and applies the migration. (SQLite has no sleep to be
 * killed in, and its transaction makes this trivially true.) */
static void test_kill_after_sql_op(void)
{
    const char *slow = test_dialect == STRATA_POSTGRES ? "SELECT pg_sleep(4)" : "SELECT SLEEP(4)";
    char *setup = fmt(ONLY_BASE "cat > m2/003_slow.json <<'E'\n"
                                "{\"up\": [{\"op\": \"sql\", \"all\": "
                                "\"CREATE TABLE s1 (id integer)\"}, {\"op\": \"sql\", \"all\": "
                                "\"%s\"}], \"down\": [{\"op\": \"sql\", \"all\": \"DROP TABLE "
                                "s1\"}]}\nE\n",
                      slow);
    char *out, *err;
    int st = run_plain(setup,
                       "$S migrations run --migrations-dir m2 --database-url \"$U\" & pid=$!\n"
                       "sleep 1.5; kill -9 $pid; wait $pid 2>/dev/null; sleep 1\n"
                       "$S migrations run --migrations-dir m2 --database-url \"$U\"",
                       &out, &err, NULL);
    long long applied = scalar(
        "SELECT count(*) FROM strata_migrations WHERE id = '003_slow' AND state = 'applied'");
    int ok = st == 0 && applied == 1;
    report(ok, "the run after a SIGKILL following an sql op recovers", st, out, err);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_EQUAL(applied, 1);
    free(out);
    free(err);
    free(setup);
    CU_ASSERT_EQUAL(make_database(), 0);
}

typedef struct extra_test {
    const char *name;
    unsigned dialects;
    void (*fn)(void);
} extra_test;

static const extra_test extras[] = {
    {"--to with a migration's id applies up to that migration", D_ALL, test_to_with_id},
    {"a unique string column keeps 'pad', 'pad ' and 'pad  ' apart", D_ALL, test_no_pad_unique},
    {"a broken pending migration does not block revert --all", D_ALL,
     test_revert_with_broken_pending},
    {"show lists a broken pending migration and marks it", D_ALL, test_show_with_broken_pending},
    {"files Strata creates are not writable by others under umask 000", D_SL,
     test_created_file_modes},
    {"a run killed after an sql op is recovered by the next run", D_SERVERS,
     test_kill_after_sql_op},
    {NULL, 0, NULL},
};

/* ---- registration: one suite per dialect, each case a CUnit test ---- */

static int init_pg(void)
{
    test_dialect = STRATA_POSTGRES;
    return suite_init();
}
static int init_my(void)
{
    test_dialect = STRATA_MYSQL;
    return suite_init();
}
static int init_sl(void)
{
    test_dialect = STRATA_SQLITE;
    return suite_init();
}
static int clean_pg(void)
{
    test_dialect = STRATA_POSTGRES;
    return suite_cleanup();
}
static int clean_my(void)
{
    test_dialect = STRATA_MYSQL;
    return suite_cleanup();
}
static int clean_sl(void)
{
    test_dialect = STRATA_SQLITE;
    return suite_cleanup();
}

int main(void)
{
    CU_initialize_registry();
    static const struct {
        strata_dialect d;
        int (*init)(void);
        int (*clean)(void);
    } suites[] = {
        {STRATA_POSTGRES, init_pg, clean_pg},
        {STRATA_MYSQL, init_my, clean_my},
        {STRATA_SQLITE, init_sl, clean_sl},
    };
    for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++) {
        char name[64];
        snprintf(name, sizeof name, "badinput/%s", strata_dialect_name(suites[s].d));
        CU_pSuite suite = CU_add_suite(name, suites[s].init, suites[s].clean);
        for (const bad_case *c = cases; c->name; c++)
            if (c->dialects & (1u << suites[s].d))
                CU_add_test(suite, c->name, run_current_case);
        for (const extra_test *t = extras; t->name; t++)
            if (t->dialects & (1u << suites[s].d))
                CU_add_test(suite, t->name, t->fn);
    }
    return test_main();
}
