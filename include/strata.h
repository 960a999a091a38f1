/*
 * strata.h - the public API of libstrata, a multi-database migration engine.
 *
 * Strata compiles migrations written once in a dialect-neutral JSON DSL to
 * PostgreSQL, MySQL/MariaDB and SQLite, runs them through one of three drivers,
 * records history, locks against concurrent runs, reverts, and loads seed data.
 *
 * Conventions (after libgit2):
 *   - every fallible function returns 0 on success or a negative STRATA_E*
 *     code; the message is available afterwards from strata_error_message(),
 *     per thread;
 *   - objects the library allocates are freed by the matching *_free /
 *     *_close function; a struct the caller owns (on its stack, say) that
 *     the library filled has its contents released by *_dispose;
 *   - strings returned as `const char *` are owned by the object they came
 *     from; strings returned as `char *` belong to the caller (free());
 *   - options come in versioned structs, progress through callbacks, and
 *     the library prints nothing (see "options and callbacks" below).
 *
 * Threads. libstrata keeps no global state that needs locking by the caller:
 *   - a strata_conn, and everything obtained from it (strata_rows), is used
 *     by one thread at a time; distinct connections may be used on distinct
 *     threads at once, each with its own;
 *   - reports and results (strata_report, strata_seed_report, ...) are plain
 *     data: read them from any thread, free them once;
 *   - the error state (strata_error_message, strata_error_code) is per
 *     thread: a thread sees the errors of its own calls only;
 *   - the functions that take no connection (strata_version, strata_url_*,
 *     strata_dialect_*, strata_quote_*, strata_*_options_init,
 *     strata_migrations_sql, strata_migration_generate/create,
 *     strata_seed_convert, strata_seed_mode_*, strata_check,
 *     strata_fleet_*) may be called from any thread at any time. Two runs of migrations against the
 * same database are safe too: the migration lock serialises them;
 *   - callbacks run on the calling thread, inside the call that triggers
 *     them; they must not use that call's connection.
 *
 * Memory. When an allocation fails, libstrata aborts the process (abort()),
 * as it does if OpenSSL's random generator cannot be seeded: it has no
 * sensible way to go on, and keeping every error path about the database,
 * not about malloc, keeps those paths correct. Functions never return
 * STRATA_E* for lack of memory.
 */
#ifndef STRATA_H
#define STRATA_H

#include <stddef.h>
#include <stdint.h>

#include "strata_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the functions libstrata exports; everything else in the library is
 * hidden (compiled with -fvisibility=hidden), so the names of its internals
 * cannot clash with those of a program that embeds it. */
#if defined(__GNUC__) || defined(__clang__)
#define STRATA_EXTERN __attribute__((visibility("default")))
#else
#define STRATA_EXTERN
#endif

/* ---- version ----------------------------------------------------------
 *
 * STRATA_VERSION, STRATA_VERSION_MAJOR/MINOR/PATCH and STRATA_VERSION_NUM
 * (strata_version.h) are those of the headers a program was compiled with;
 * these two are those of the library it runs with.
 */

/* The library's version, e.g. "1.2.3". */
STRATA_EXTERN const char *strata_version(void);
/* The library's version as major * 10000 + minor * 100 + patch. */
STRATA_EXTERN int strata_version_num(void);

/* ---- errors ------------------------------------------------------------ */

typedef enum {
    STRATA_OK = 0,
    /* -1 is not used: command-line usage errors belong to the strata tool */
    STRATA_EINPUT = -2,   /* bad input: an argument, URL, file, JSON, operation,
                             value, or an options struct of an unknown version */
    STRATA_ECONNECT = -3, /* cannot connect to the database */
    STRATA_EDB = -4,      /* the database rejected a statement */
    STRATA_EIO = -5,      /* file system error */
    STRATA_ELOCK = -6,    /* the migration lock could not be taken */
    STRATA_ESTATE = -7,   /* the database is in a state that forbids the
                             operation (partial migration, irreversible, ...) */
    STRATA_EDRIFT = -8,   /* something pending / changed / drifted */
} strata_error_code_t;

/* The message of the last error on this thread ("" if none). */
STRATA_EXTERN const char *strata_error_message(void);
/* The code of the last error on this thread (STRATA_OK if none). */
STRATA_EXTERN int strata_error_code(void);
/* Forget the last error. */
STRATA_EXTERN void strata_error_clear(void);

/* ---- options and callbacks ---------------------------------------------
 *
 * Options come in structs whose first field is their version, as libgit2's
 * do: strata_options, strata_seed_options and strata_check_options. Start
 * from the *_INIT macro (or the *_init function), then set what you need:
 *
 *     strata_options opt = STRATA_OPTIONS_INIT;
 *     opt.migrations_dir = "db/migrations";
 *     strata_migrations_run(conn, &opt, &report);
 *
 * A NULL options pointer means every default (the same as *_INIT). A struct
 * whose version the library does not know (0, from a bare memset, or one
 * from newer headers than the library) makes the call fail with
 * STRATA_EINPUT: "strata_options version 7 is not supported by this
 * libstrata (expects 1)".
 *
 * How the structs change (for libstrata's maintainers): fields are only
 * ever appended at the end, never removed, reordered or retyped; appending
 * one bumps the struct's *_VERSION and adds its default to *_INIT; the
 * library keeps accepting every older version, reading only the fields that
 * version had and taking the defaults for the rest.
 *
 * libstrata never writes to stdout or stderr. What a command line shows
 * while it works reaches the caller through callbacks in the options, each
 * with a `payload` handed back untouched; a NULL callback (the default) is
 * silence.
 */

typedef enum {
    STRATA_LOG_INFO = 0,    /* progress: applied, reverted, waiting for the lock,
                               undoing, recovering */
    STRATA_LOG_WARNING = 1, /* something to look at (also in the report's warnings) */
} strata_log_level;

/* One line of progress, without a newline; `message` is valid during the
 * call only. */
typedef void (*strata_log_fn)(strata_log_level level, const char *message, void *payload);

/* ---- dialects ---------------------------------------------------------- */

typedef enum {
    STRATA_POSTGRES = 0,
    STRATA_MYSQL = 1,
    STRATA_SQLITE = 2,
} strata_dialect;

#define STRATA_DIALECT_COUNT 3

/* "postgres", "mysql" or "sqlite". */
STRATA_EXTERN const char *strata_dialect_name(strata_dialect d);
/* Parse a dialect name (also "postgresql", "pg", "mariadb"); -1 if unknown. */
STRATA_EXTERN int strata_dialect_parse(const char *name);

/* ---- connection URLs --------------------------------------------------- */

typedef struct strata_url {
    strata_dialect dialect;
    char *user;     /* percent-decoded, NULL if absent */
    char *password; /* percent-decoded, NULL if absent */
    char *host;     /* NULL if absent */
    int port;       /* 0 if absent */
    char *database; /* database name, or the SQLite path / ":memory:" */
    char **params;  /* query parameters as key, value pairs, NULL-terminated */
} strata_url;

/* Parse a connection URL (see spec/cli.md) into a struct the caller owns;
 * on success release its contents with strata_url_dispose. */
STRATA_EXTERN int strata_url_parse(const char *text, strata_url *out);
/* Free what strata_url_parse put into *url (not url itself) and zero it. */
STRATA_EXTERN void strata_url_dispose(strata_url *url);
/* The URL with its password replaced by "****" (caller frees). Works on
 * malformed URLs too, so error messages never leak a password: after
 * "scheme:" and any slashes, everything from the first ':' to the last '@'
 * is taken for the password (a password with an unencoded '/', '?' or '@'
 * included). SQLite URLs are returned as they are. */
STRATA_EXTERN char *strata_url_mask(const char *text);
/* `text` (a message, a command line word) with the password of every
 * URL-like word in it masked as strata_url_mask does (caller frees); a
 * word ends at white space or a quote. For printing anything that may
 * hold a URL a user typed. */
STRATA_EXTERN char *strata_text_mask(const char *text);

/* ---- connections ------------------------------------------------------- */

typedef struct strata_conn strata_conn;

/* Capability flags reported by a connection. */
enum {
    STRATA_CAP_TRANSACTIONAL_DDL = 1u << 0,
    STRATA_CAP_PARTIAL_INDEX = 1u << 1,
    STRATA_CAP_RENAME_COLUMN = 1u << 2,
    STRATA_CAP_DROP_COLUMN = 1u << 3,
    STRATA_CAP_ENFORCED_CHECK = 1u << 4,
    STRATA_CAP_EXPR_DEFAULT = 1u << 5,
    STRATA_CAP_INVISIBLE_COLUMN = 1u << 6,
    STRATA_CAP_ENUM_TYPE = 1u << 7, /* CREATE TYPE ... AS ENUM */
    STRATA_CAP_ENUM_ADD_VALUE_IN_TX = 1u << 8,
    STRATA_CAP_ADVISORY_LOCK = 1u << 9,
    STRATA_CAP_ALTER_ADD_CONSTRAINT = 1u << 10, /* ALTER TABLE ADD FOREIGN KEY/CHECK */
    STRATA_CAP_RETURNING = 1u << 11,
    STRATA_CAP_DROP_INDEX_IF_EXISTS = 1u << 12,
};

typedef enum {
    STRATA_VNULL = 0,
    STRATA_VINT,
    STRATA_VREAL,
    STRATA_VTEXT,
    STRATA_VBLOB,
    STRATA_VBOOL,
} strata_vtype;

/* A value passed to or read from a database. For TEXT and BLOB, `s` points
 * at `len` bytes (TEXT values are also NUL-terminated when read back). */
typedef struct strata_value {
    strata_vtype type;
    int64_t i; /* INT, and BOOL (0/1) */
    double d;  /* REAL */
    const char *s;
    size_t len;
} strata_value;

static inline strata_value strata_vnull(void)
{
    strata_value v = {STRATA_VNULL, 0, 0, NULL, 0};
    return v;
}
static inline strata_value strata_vint(int64_t i)
{
    strata_value v = {STRATA_VINT, i, 0, NULL, 0};
    return v;
}
static inline strata_value strata_vreal(double d)
{
    strata_value v = {STRATA_VREAL, 0, d, NULL, 0};
    return v;
}
static inline strata_value strata_vbool(int b)
{
    strata_value v = {STRATA_VBOOL, b ? 1 : 0, 0, NULL, 0};
    return v;
}
STRATA_EXTERN strata_value strata_vtext(const char *s);
static inline strata_value strata_vblob(const void *p, size_t len)
{
    strata_value v = {STRATA_VBLOB, 0, 0, (const char *)p, len};
    return v;
}

/* Open a connection from a URL. Errors name the host and port (or file) and
 * carry the server's own words; the password never appears. */
STRATA_EXTERN int strata_conn_open(strata_conn **out, const char *url);
STRATA_EXTERN void strata_conn_close(strata_conn *conn);

STRATA_EXTERN strata_dialect strata_conn_dialect(const strata_conn *conn);
/* The server's version string, e.g. "15.18" or "10.11.6-MariaDB". */
STRATA_EXTERN const char *strata_conn_server_version(const strata_conn *conn);
/* The server's version as major*10000 + minor*100 + patch. */
STRATA_EXTERN int strata_conn_server_version_num(const strata_conn *conn);
/* True for MariaDB servers behind a mysql:// URL. */
STRATA_EXTERN int strata_conn_is_mariadb(const strata_conn *conn);
STRATA_EXTERN unsigned strata_conn_caps(const strata_conn *conn);
/* The URL this connection was opened with, password masked. */
STRATA_EXTERN const char *strata_conn_url_masked(const strata_conn *conn);
/* The database (schema) name, or the SQLite file path. */
STRATA_EXTERN const char *strata_conn_database(const strata_conn *conn);

/* Execute one or more statements that return no rows. */
STRATA_EXTERN int strata_conn_exec(strata_conn *conn, const char *sql);
/* Execute one statement with bound parameters; *affected gets the number of
 * rows changed when not NULL. Placeholders are written `?` in every dialect;
 * the driver rewrites them as needed ($1 on PostgreSQL). */
STRATA_EXTERN int strata_conn_execp(strata_conn *conn, const char *sql, const strata_value *params,
                                    size_t nparams, int64_t *affected);

typedef struct strata_rows strata_rows;

/* Run a query with bound parameters (`?` placeholders) and iterate its rows. */
STRATA_EXTERN int strata_conn_query(strata_conn *conn, const char *sql, const strata_value *params,
                                    size_t nparams, strata_rows **out);
/* Advance to the next row: 1 if there is one, 0 at the end, <0 on error. */
STRATA_EXTERN int strata_rows_next(strata_rows *rows);
STRATA_EXTERN size_t strata_rows_ncols(const strata_rows *rows);
STRATA_EXTERN const char *strata_rows_colname(const strata_rows *rows, size_t i);
/* The value of column i in the current row; valid until the next call to
 * strata_rows_next or strata_rows_free. */
STRATA_EXTERN const strata_value *strata_rows_value(const strata_rows *rows, size_t i);
/* Column i of the current row as text (NULL for SQL NULL). */
STRATA_EXTERN const char *strata_rows_text(const strata_rows *rows, size_t i);
STRATA_EXTERN void strata_rows_free(strata_rows *rows);

/* Convenience: run a query and return the first column of the first row as
 * a newly allocated string (*out = NULL when there is no row or it is NULL). */
STRATA_EXTERN int strata_conn_query_string(strata_conn *conn, const char *sql,
                                           const strata_value *params, size_t nparams, char **out);

STRATA_EXTERN int strata_conn_begin(strata_conn *conn);
STRATA_EXTERN int strata_conn_commit(strata_conn *conn);
STRATA_EXTERN int strata_conn_rollback(strata_conn *conn);
/* True while a transaction opened with strata_conn_begin is open. */
STRATA_EXTERN int strata_conn_in_transaction(const strata_conn *conn);

/* Quote an identifier / a string literal for the connection's dialect
 * (caller frees). */
STRATA_EXTERN char *strata_conn_quote_ident(const strata_conn *conn, const char *name);
STRATA_EXTERN char *strata_conn_quote_literal(const strata_conn *conn, const char *text);

/* Quote for a dialect without a connection (caller frees). */
STRATA_EXTERN char *strata_quote_ident(strata_dialect d, const char *name);
STRATA_EXTERN char *strata_quote_literal(strata_dialect d, const char *text);

/* ---- migrations ---- */

/* Where a run or revert stands: one event as each migration starts
 * (done = 0) and one when it is applied or reverted (done = 1). Later
 * versions may append fields (the library fills the struct, so a callback
 * built against these headers keeps reading the same ones). */
typedef struct strata_migration_progress {
    const char *id; /* the migration, "<version>_<name>" */
    size_t number;  /* its place among those this call runs, 1 .. total */
    size_t total;   /* how many this call runs */
    int down;       /* 1 when reverting */
    int done;       /* 0 as it starts, 1 once it is applied (or reverted) */
    double seconds; /* since the call began running migrations */
} strata_migration_progress;

/* `progress` and what it points to are valid during the call only. */
typedef void (*strata_migration_progress_fn)(const strata_migration_progress *progress,
                                             void *payload);

/* Options of the migration functions (run, revert, status, validate,
 * repair, baseline, sql, schema, generate, db diff); each reads the fields
 * that concern it. */
typedef struct strata_options {
    unsigned int version;       /* STRATA_OPTIONS_VERSION */
    const char *migrations_dir; /* default "./migrations"; several directories
                                   separated by ':' are read as one set */
    double lock_timeout;        /* seconds to wait for the migration lock (default 0:
                                   do not wait; the CLI's default is 60) */
    int allow_out_of_order;     /* run: apply pending migrations older than applied ones */
    int dry_run;                /* run/revert: put the SQL in the report, change nothing */
    const char *to;             /* run: up to and including VERSION; revert: down to VERSION;
                                   baseline, schema: up to and including VERSION */
    int steps;                  /* revert: how many (default 0: 1) */
    int all;                    /* revert: all */
    int mark_applied;           /* repair: mark the partial migration applied */
    strata_log_fn log_cb;       /* progress lines (default NULL: none) */
    void *log_payload;          /* handed to log_cb */
    /* version 2 */
    int force;                                /* baseline: record the migrations even when
                                                 the database's schema differs from theirs */
    strata_migration_progress_fn progress_cb; /* run/revert: per migration (default NULL) */
    void *progress_payload;                   /* handed to progress_cb */
    /* Feature flags (docs/flags.md): settings applied in order, a later one
     * winning: "NAME" or "NAME=true" turns flag NAME on, "-NAME" or
     * "NAME=false" off. A migration with "when": {"flag": ...} applies only
     * while its flags are on; unset flags have the default the files give
     * (else off). Read by every migration function and db diff. */
    const char *const *flags;
    size_t nflags;
    /* "typeorm": also keep TypeORM's `migrations` table, row for row, in
     * the same transaction as each migration (run, revert, repair); NULL:
     * only Strata's own history (docs/flags.md) */
    const char *history_compat;
    /* version 3 */
    int single_transaction; /* run/revert: every migration of the command in one transaction
                               (PostgreSQL, SQLite; all applied or none; not with
                               "transaction": false migrations, nor on MySQL/MariaDB, where
                               it is refused) */
} strata_options;

#define STRATA_OPTIONS_VERSION 3
#define STRATA_OPTIONS_INIT                                                                        \
    {                                                                                              \
        STRATA_OPTIONS_VERSION, NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, 0, NULL, NULL, NULL, 0,  \
            NULL, 0                                                                                \
    }

/* Set *opts to the defaults of `version` (STRATA_OPTIONS_VERSION), as
 * STRATA_OPTIONS_INIT does, writing only the fields that version has;
 * STRATA_EINPUT for a version this library does not know. */
STRATA_EXTERN int strata_options_init(strata_options *opts, unsigned int version);

typedef enum {
    STRATA_MIG_PENDING = 0,
    STRATA_MIG_APPLIED,
    STRATA_MIG_CHANGED,      /* applied, but the file changed since */
    STRATA_MIG_PARTIAL,      /* partially applied (MySQL undo failed) */
    STRATA_MIG_RUNNING,      /* interrupted while running */
    STRATA_MIG_MISSING_FILE, /* applied, but no file any more */
    STRATA_MIG_REVERTED,     /* reverted by this command */
    STRATA_MIG_SKIPPED,      /* not applied, and does not apply: a flag it needs is off */
    STRATA_MIG_INVALID,      /* its file does not load or validate (`show` lists it;
                                the description says why) */
} strata_mig_status;

typedef struct strata_migration_info {
    char *id; /* file stem "<version>_<name>" */
    char *version;
    char *name;
    char *description; /* the file's; for STRATA_MIG_INVALID, why it is invalid */
    strata_mig_status status;
    char *applied_at; /* UTC "YYYY-MM-DD HH:MM:SS", NULL if not applied */
    long long duration_ms;
    int ops_applied;
    int ops_total;
} strata_migration_info;

typedef struct strata_report {
    strata_migration_info *items; /* per command: what it applied/reverted, or every migration */
    size_t n;
    char *sql;       /* dry runs and `migrations sql` */
    char **warnings; /* NULL-terminated */
    size_t nwarnings;
    size_t total; /* how many migration files there are */
    int pending;  /* show: how many are pending */
    int problems; /* validate/show: changed, partial, missing files, invalid ones */
    /* Appended with strata_options version 2 (the library allocates the
     * report, so older callers are not affected). */
    char **when;       /* per item (n of them): the flags it needs, "a" or "a, b"; NULL: none */
    char **flag_names; /* every flag the migration files name, sorted */
    int *flag_values;  /* per flag: 1 on, 0 off */
    size_t nflags;
    int skipped;       /* show, validate: how many migrations a flag turns off */
    char **unmatched;  /* adopt: rows of the other tool's history no file matches, */
    size_t nunmatched; /*   as "<timestamp> <name>" */
} strata_report;

STRATA_EXTERN void strata_report_free(strata_report *r);

/* Apply pending migrations (spec/cli.md `migrations run`). */
STRATA_EXTERN int strata_migrations_run(strata_conn *conn, const strata_options *opt,
                                        strata_report **out);
/* Undo applied migrations (`migrations revert`). */
STRATA_EXTERN int strata_migrations_revert(strata_conn *conn, const strata_options *opt,
                                           strata_report **out);
/* Every migration with its status (`migrations show`). With conn NULL,
 * offline: every migration of the directory, pending. */
STRATA_EXTERN int strata_migrations_status(strata_conn *conn, const strata_options *opt,
                                           strata_report **out);
/* Offline parse and type check of every file for every dialect, plus (when
 * conn is not NULL) checksums of applied ones (`migrations validate`). */
STRATA_EXTERN int strata_migrations_validate(strata_conn *conn, const strata_options *opt,
                                             strata_report **out);
/* Take over a database another tool migrated (`migrations adopt --from
 * typeorm`): read that tool's history (TypeORM's `migrations` table), and
 * record every migration whose "origin" names one of its rows as applied,
 * with the file's checksum, in one transaction; nothing is run. Rows are
 * matched by name, never by timestamp (timestamps repeat); rows no file
 * matches are left out and listed in r->unmatched (and the warnings).
 * `from` is "typeorm". With opt->dry_run, only reports. */
STRATA_EXTERN int strata_migrations_adopt(strata_conn *conn, const strata_options *opt,
                                          const char *from, strata_report **out);
/* Undo (or, with mark_applied, mark applied) a partially applied migration,
 * and take the file's checksum for applied migrations whose file was edited
 * since (as Flyway's repair) (`migrations repair`). */
STRATA_EXTERN int strata_migrations_repair(strata_conn *conn, const strata_options *opt,
                                           strata_report **out);
/* The SQL of migrations for a dialect, offline (`migrations sql`). `versions`
 * selects migrations by version or id (all when n == 0). */
STRATA_EXTERN int strata_migrations_sql(const strata_options *opt, strata_dialect d, int down,
                                        const char *const *versions, size_t n, char **out);
/* Write the migration that turns the schema the migrations build into the
 * one described by `schema_file` (create_table / create_enum operations),
 * with its down (`migration generate`). *nops gets the number of ops. The
 * file goes to the first directory of migrations_dir. */
STRATA_EXTERN int strata_migration_generate(const strata_options *opt, const char *name,
                                            const char *schema_file, char **path_out, size_t *nops);
/* Write <dir>/<UTC timestamp>_<name>.json with empty up/down (the first
 * directory when `dir` names several, separated by ':'). */
STRATA_EXTERN int strata_migration_create(const char *dir, const char *name, char **path_out);

/* ---- what an operation costs ----
 *
 * What an operation does to a table on one database, from cheapest to
 * costliest (docs/lint.md, "Cost classes"). `migrations plan` gives one per
 * operation, `migrations lint` reports the costly ones.
 */
typedef enum {
    STRATA_COST_NONE = 0,     /* nothing runs on this database */
    STRATA_COST_METADATA = 1, /* the catalog only: as fast on a big table as on an empty one */
    STRATA_COST_DATA = 2,     /* insert / update / delete: the rows it names */
    STRATA_COST_INPLACE = 3,  /* reads the whole table without rewriting it: builds an
                                 index, validates a constraint */
    STRATA_COST_REWRITE = 4,  /* rewrites every row of the table in place */
    STRATA_COST_COPY = 5,     /* MySQL/MariaDB ALGORITHM=COPY: a new copy of the table,
                                 writes blocked meanwhile */
    STRATA_COST_REBUILD = 6,  /* SQLite's table rebuild: a new table, every row copied */
    STRATA_COST_UNKNOWN = 7,  /* raw SQL: Strata cannot tell */
} strata_cost;

/* "none", "metadata", "data", "in-place", "rewrite", "copy", "rebuild",
 * "unknown". */
STRATA_EXTERN const char *strata_cost_name(strata_cost c);

/* One operation of a plan: what it runs on the connected database and what
 * that costs there. */
typedef struct strata_plan_op {
    char *migration;   /* its migration's id */
    char *path;        /* its JSON path, "up[3]" */
    const char *op;    /* the operation, "add_column" (static) */
    char *table;       /* its table (NULL for enums and raw SQL) */
    char *sql;         /* its statements, as `migrations sql` prints them */
    strata_cost cost;  /* the costliest thing it does */
    char *algorithm;   /* MySQL/MariaDB: "INSTANT", "NOCOPY", "INPLACE" or "COPY" of its
                          costliest statement; NULL elsewhere or when not an ALTER */
    char *lock;        /* what it locks, and for how long */
    char *detail;      /* why it costs that */
    int blocks_writes; /* writers to the table wait while it runs (more than briefly) */
    int new_table;     /* its table is created by the same migration (and is empty) */
    long long rows;    /* rows of the table it reads, rewrites, copies or rebuilds
                          (estimated; -1 when none or unknown) */
    int outside_tx;    /* runs outside a transaction ("online" on PostgreSQL) */
} strata_plan_op;

typedef struct strata_plan_migration {
    char *id;
    int transactional; /* runs in one transaction (else op by op, progress recorded) */
    size_t first_op;   /* its operations: ops[first_op .. first_op + nops) */
    size_t nops;
} strata_plan_migration;

typedef struct strata_plan {
    strata_plan_migration *migrations; /* the pending ones, in the order run applies them */
    size_t nmigrations;
    strata_plan_op *ops;
    size_t n;
    strata_dialect dialect;
    char *server_version;
    size_t by_cost[8]; /* how many operations of each strata_cost */
} strata_plan;

/* What `migrations run` would do to the connected database, operation by
 * operation, without doing it (`migrations plan`): the pending migrations
 * (up to opt->to; refused as run refuses them, e.g. out of order), each
 * operation's SQL for this server, its cost class, lock and the table's
 * rows. Reads the history; changes nothing. */
STRATA_EXTERN int strata_migrations_plan(strata_conn *conn, const strata_options *opt,
                                         strata_plan **out);
STRATA_EXTERN void strata_plan_free(strata_plan *p);

/* ---- lint ----
 *
 * `migrations lint`: what each migration will do to each database, known
 * before anything runs, as findings with a stable rule id (docs/lint.md
 * lists every rule with a bad and a good example). Offline; with a
 * connection it lints the pending migrations of that database, for its
 * server version, and puts its tables' row counts into the messages.
 */

typedef enum {
    STRATA_LINT_NOTICE = 0,  /* worth knowing: a table rebuilt, an index built */
    STRATA_LINT_WARNING = 1, /* locks or breaks something while it runs; decide */
    STRATA_LINT_ERROR = 2,   /* loses data, or cannot run somewhere: suppress only with a reason */
} strata_lint_severity;

/* "notice", "warning", "error". */
STRATA_EXTERN const char *strata_lint_severity_name(strata_lint_severity s);

/* One rule. Bit (1u << d) of `dialects` is set for each database
 * (strata_dialect d) it can apply to. */
typedef struct strata_lint_rule {
    const char *id;       /* stable, e.g. "drop-column" */
    const char *category; /* "data-loss", "locking", "compatibility", "portability", "hygiene" */
    strata_lint_severity severity;
    unsigned dialects;
    const char *summary; /* what it finds, one line */
    const char *fix;     /* what to do instead, in general, one line */
} strata_lint_rule;

/* Every rule, in a static array of *n (documentation order). */
STRATA_EXTERN const strata_lint_rule *strata_lint_rules(size_t *n);

typedef struct strata_lint_finding {
    const strata_lint_rule *rule;
    strata_lint_severity severity; /* the rule's */
    char *migration;               /* its id, "<version>_<name>" */
    char *file;                    /* its path */
    char *path;                    /* JSON path of the operation ("up[3]"); NULL: the migration */
    int line, column;              /* where that is in the file (1-based; 0: unknown) */
    unsigned dialects;             /* bit (1u << d) for each database it applies to */
    char *table;                   /* the table concerned, or NULL */
    char *message;                 /* why, one line */
    char *fix;                     /* what to do instead, one line */
} strata_lint_finding;

typedef struct strata_lint_result {
    strata_lint_finding *findings; /* in migration order, then operation order */
    size_t n;
    size_t errors, warnings, notices;
    size_t suppressed; /* left out by a migration's "lint": {"ignore"} or the options */
    size_t migrations; /* how many were linted */
    unsigned dialects; /* which databases (bits as above) */
    double seconds;
} strata_lint_result;

typedef struct strata_lint_options {
    unsigned int version;       /* STRATA_LINT_OPTIONS_VERSION */
    const char *migrations_dir; /* default ./migrations */
    unsigned dialects;          /* bit (1u << d) per database; 0: all three (with a
                                   connection: its own) */
    const char *const *ignore;  /* rule ids to leave out everywhere */
    size_t nignore;
} strata_lint_options;

#define STRATA_LINT_OPTIONS_VERSION 1
#define STRATA_LINT_OPTIONS_INIT                                                                   \
    {                                                                                              \
        STRATA_LINT_OPTIONS_VERSION, NULL, 0, NULL, 0                                              \
    }

/* Set *opts to the defaults of `version` (STRATA_LINT_OPTIONS_VERSION). */
STRATA_EXTERN int strata_lint_options_init(strata_lint_options *opts, unsigned int version);

/* Lint migrations: those whose version or id is in `versions` (all when
 * n == 0; with conn and n == 0, the ones conn has not applied). conn may be
 * NULL. Returns 0 when lint ran - whatever it found (see r->errors) - or
 * STRATA_EINPUT for bad input: a migration that does not parse or validate,
 * an unknown version, an unknown rule id in the options or in a
 * migration's "lint". */
STRATA_EXTERN int strata_migrations_lint(strata_conn *conn, const strata_lint_options *opt,
                                         const char *const *versions, size_t n,
                                         strata_lint_result **out);
STRATA_EXTERN void strata_lint_result_free(strata_lint_result *r);

/* ---- introspection ---- */

typedef struct strata_diff_item {
    char *kind;  /* table, column, index, foreign key, check, enum, primary key */
    char *table; /* NULL for enums */
    char *name;  /* column / index / constraint / enum; NULL for a table */
    char *what;  /* "missing" (only in the migrations), "extra" (only in the
                    database), or the property that differs */
    char *left;  /* the migrations' side */
    char *right; /* the database's side */
    char *line;  /* readable */
} strata_diff_item;

typedef struct strata_diff_result {
    strata_diff_item *items;
    size_t n;
    char **warnings;
    size_t nwarnings;
} strata_diff_result;

STRATA_EXTERN void strata_diff_result_free(strata_diff_result *r);

/* Compare the connected database with the schema its migrations build
 * (`db diff`). Returns 0 (even with differences: see r->n). */
STRATA_EXTERN int strata_db_diff(strata_conn *conn, const strata_options *opt,
                                 strata_diff_result **out);

/* Adopt a database that already has the schema: record every migration up
 * to and including opt->to (a version or id) that the history lacks as
 * applied, without running it (`migrations baseline`; Flyway's baseline,
 * Prisma's resolve --applied). First the database is compared with the
 * schema those migrations build, as strata_db_diff does: on a difference
 * nothing is recorded and the call fails with STRATA_EDRIFT, unless
 * opt->force. *drift (when drift is not NULL) gets the comparison, the
 * caller frees it with strata_diff_result_free; the report lists what was
 * recorded. A history that already goes past opt->to is STRATA_ESTATE. */
STRATA_EXTERN int strata_migrations_baseline(strata_conn *conn, const strata_options *opt,
                                             strata_report **out, strata_diff_result **drift);

/* The connected database's schema as one migration (`db pull`): JSON text
 * (caller frees) and warnings about what has no neutral form (a
 * NULL-terminated array the caller frees with each string). */
STRATA_EXTERN int strata_db_pull(strata_conn *conn, char **json_out, char ***warnings,
                                 size_t *nwarnings);

/* ---- schema as text and diagrams ----
 *
 * A schema - the one the migrations build, or a live database's - as one
 * migration (JSON, the `db pull` format), a Mermaid ER diagram or a
 * Graphviz graph: tables, columns with their neutral types, primary,
 * unique and foreign keys, one line per foreign key with crow's-foot ends.
 * Deterministic: tables by name, no date or version in the diagrams.
 */

typedef enum {
    STRATA_SCHEMA_JSON = 0,    /* one migration that builds the schema */
    STRATA_SCHEMA_MERMAID = 1, /* a Mermaid erDiagram */
    STRATA_SCHEMA_DOT = 2,     /* a Graphviz digraph (dot -Tsvg draws it) */
} strata_schema_format;

/* "json", "mermaid", "dot" -> the format; -1 if unknown. */
STRATA_EXTERN int strata_schema_format_parse(const char *name);
/* The format's name; NULL if unknown. */
STRATA_EXTERN const char *strata_schema_format_name(strata_schema_format f);

/* The schema the migrations of opt->migrations_dir build (up to and
 * including opt->to, when set), offline, in format f (caller frees *out)
 * (`migrations schema`). */
STRATA_EXTERN int strata_migrations_schema(const strata_options *opt, strata_schema_format f,
                                           char **out);
/* The connected database's schema in format f (`db pull --format`); for
 * STRATA_SCHEMA_JSON the same as strata_db_pull. *out and the warnings
 * (what has no neutral form; NULL-terminated) belong to the caller. */
STRATA_EXTERN int strata_db_schema(strata_conn *conn, strata_schema_format f, char **out,
                                   char ***warnings, size_t *nwarnings);

/* ---- portability check ---- */

/* A step of the check finished on one database. The databases are checked
 * concurrently, each on a thread of its own, and the callback is called on
 * those threads - one call at a time, never two at once. Later versions
 * may append fields. */
typedef struct strata_check_progress {
    const char *database; /* its label: "postgres", "sqlite#2", ... */
    const char *step;     /* the step that just finished */
    int ok;               /* did it pass? (a failed step is that database's last) */
    size_t steps_done;    /* that database's steps finished so far */
    size_t steps_total;   /* how many it runs when every step passes */
    double seconds;       /* since the check began */
} strata_check_progress;

/* `progress` and what it points to are valid during the call only. */
typedef void (*strata_check_progress_fn)(const strata_check_progress *progress, void *payload);

typedef struct strata_check_options {
    unsigned int version;       /* STRATA_CHECK_OPTIONS_VERSION */
    const char *migrations_dir; /* default ./migrations */
    const char *seed_file;      /* also seed and compare the data (NULL: no) */
    /* version 2 */
    strata_check_progress_fn progress_cb; /* per finished step (default NULL: none) */
    void *progress_payload;               /* handed to progress_cb */
    /* version 3 */
    unsigned parallel; /* databases checked at once (0: all of them) */
} strata_check_options;

#define STRATA_CHECK_OPTIONS_VERSION 3
#define STRATA_CHECK_OPTIONS_INIT                                                                  \
    {                                                                                              \
        STRATA_CHECK_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0                                    \
    }

/* Set *opts to the defaults of `version` (STRATA_CHECK_OPTIONS_VERSION). */
STRATA_EXTERN int strata_check_options_init(strata_check_options *opts, unsigned int version);

typedef struct strata_check_step {
    char *database; /* label: the dialect, "#2" etc. when repeated */
    char *step;
    int ok;
    char *message; /* why it failed (or a note) */
    double seconds;
} strata_check_step;

typedef struct strata_check_result {
    strata_check_step *steps;
    size_t nsteps;
    char **databases; /* labels, in URL order */
    size_t ndatabases;
    char **differences; /* cross-database differences, readable */
    size_t ndifferences;
    char **tables; /* with a seed: row counts of the first database */
    long long *rows;
    size_t ntables;
    int ok; /* every step passed and nothing differs */
    double seconds;
} strata_check_result;

/* Run the portability check on every URL concurrently (`strata check`).
 * Returns 0 when the check ran (see r->ok), an error when it could not. */
STRATA_EXTERN int strata_check(const char *const *urls, size_t n, const strata_check_options *opt,
                               strata_check_result **out);
STRATA_EXTERN void strata_check_result_free(strata_check_result *r);

/* The migration lock (`lock status|release`): a one-line description.
 * The lock is a row of the table strata_lock with its holder's lease
 * (docs/locking.md). `release` frees it when its holder is dead (its
 * process, its database session or its lease gone) and fails with
 * STRATA_ELOCK while the holder is alive; `force_release` frees it anyway,
 * and ends the holder's database session where this connection can see
 * it: the holder then stops at its next step, undoing nothing. */
STRATA_EXTERN int strata_lock_status(strata_conn *conn, char **out);
STRATA_EXTERN int strata_lock_release(strata_conn *conn, char **out);
STRATA_EXTERN int strata_lock_force_release(strata_conn *conn, char **out);

/* ---- replicas ---- */

/* A streaming replica, as strata_replicas_wait saw it. */
typedef struct strata_replica {
    char *name;        /* its application_name */
    char *address;     /* its client address, or "local socket" */
    int caught_up;     /* it replayed everything committed before the wait */
    double waited;     /* seconds until it had (when caught_up) */
    double replay_lag; /* the primary's replay_lag for it afterwards, seconds (-1: unknown) */
} strata_replica;

typedef struct strata_replicas_report {
    strata_replica *replicas;
    size_t n; /* 0: no streaming replica (or a database without them) */
    double seconds;
} strata_replicas_report;

/* Wait up to `timeout` seconds until every replica streaming from this
 * PostgreSQL primary has replayed everything committed on it so far (`run
 * --wait-replicas`): after a run, until every standby has the new schema.
 * A replica still behind at the timeout is a STRATA_ESTATE error, with *out
 * saying which. On MySQL/MariaDB and SQLite there is nothing to wait for
 * (n = 0): a Galera node has certified a commit on every node before it
 * returns, and Strata's reads there wait for the node to apply it. */
STRATA_EXTERN int strata_replicas_wait(strata_conn *conn, double timeout,
                                       strata_replicas_report **out);
STRATA_EXTERN void strata_replicas_report_free(strata_replicas_report *r);

/* ---- seeding ----
 *
 * Load seed data (shared/spec/seed-format.md, docs/seed.md): a Strata seed
 * JSON file, or a Medusa `data/seed.json` (recognised by its top-level keys,
 * or forced with format). Tables are loaded in foreign-key order read from
 * the database, in one transaction; an error leaves the database as it was.
 * Pending migrations are not applied here: call strata_migrations_run first
 * (the `strata seed` command does, unless --no-migrate).
 */

typedef enum {
    STRATA_SEED_MODE_FILE = 0,      /* the file's own "mode" (default insert) */
    STRATA_SEED_INSERT = 1,         /* a duplicate key is an error */
    STRATA_SEED_INSERT_MISSING = 2, /* rows whose key exists are left alone */
    STRATA_SEED_UPSERT = 3,         /* rows whose key exists are updated */
} strata_seed_mode;

typedef enum {
    STRATA_SEED_FORMAT_AUTO = 0,
    STRATA_SEED_FORMAT_STRATA = 1,
    STRATA_SEED_FORMAT_MEDUSA = 2,
} strata_seed_format;

/* Where the loading of one table stands. While a table loads, the progress
 * callback gets one of these at most every half second; when the table is
 * done (or its loading failed: the call's result says), one more with
 * done = 1. Later versions may append fields (the library fills the struct,
 * so a callback built against these headers keeps reading the same ones). */
typedef struct strata_seed_progress {
    const char *table;      /* the table being loaded */
    long long rows;         /* rows written to it so far */
    double seconds;         /* since its loading began */
    double rows_per_second; /* rows / seconds (0 at first) */
    int done;               /* 1 on the table's last event */
    size_t tables_done;     /* tables loaded before this one */
    size_t tables_total;    /* tables the seed loads */
} strata_seed_progress;

/* `progress` and what it points to are valid during the call only. */
typedef void (*strata_seed_progress_fn)(const strata_seed_progress *progress, void *payload);

typedef struct strata_seed_options {
    unsigned int version;                /* STRATA_SEED_OPTIONS_VERSION */
    strata_seed_mode mode;               /* overrides the file's top-level mode */
    strata_seed_format format;           /* AUTO: Medusa when the keys say so */
    strata_seed_progress_fn progress_cb; /* per-table progress (default NULL: none) */
    void *progress_payload;              /* handed to progress_cb */
    /* version 2: */
    int non_atomic; /* where one transaction cannot hold the whole seed (a Galera
                       cluster's wsrep_max_ws_size), commit it in parts instead of
                       refusing it; a failure then leaves the parts committed */
} strata_seed_options;

#define STRATA_SEED_OPTIONS_VERSION 2
#define STRATA_SEED_OPTIONS_INIT                                                                   \
    {                                                                                              \
        STRATA_SEED_OPTIONS_VERSION, STRATA_SEED_MODE_FILE, STRATA_SEED_FORMAT_AUTO, NULL, NULL, 0 \
    }

/* Set *opts to the defaults of `version` (STRATA_SEED_OPTIONS_VERSION). */
STRATA_EXTERN int strata_seed_options_init(strata_seed_options *opts, unsigned int version);

typedef struct strata_seed_table_report {
    char *table;
    long long inserted;
    long long skipped; /* present already (insert_missing), or created with a present row */
    long long updated; /* upsert, `update` entries, back-references */
} strata_seed_table_report;

typedef struct strata_seed_report {
    strata_seed_table_report *tables; /* in the order they were loaded */
    size_t ntables;
    long long inserted, skipped, updated;
    long long sequences; /* auto-increment sequences moved past explicit ids */
    char **warnings;     /* NULL-terminated */
    size_t nwarnings;
    char *format; /* "strata" or "medusa" */
    double seconds;
} strata_seed_report;

/* Load a seed file into the connected database. */
STRATA_EXTERN int strata_seed_file(strata_conn *conn, const char *path,
                                   const strata_seed_options *opt, strata_seed_report **out);
/* Check a seed file and write nothing: everything strata_seed_file checks
 * before it writes (JSON, format, tables, columns, literal values, $ref
 * aliases), against the connected database's schema as the migrations of
 * `migrations` (its migrations_dir) make it once applied - NULL: as it is.
 * So a bad seed is reported before `strata seed` applies pending
 * migrations. Returns what strata_seed_file would for that input
 * (STRATA_EINPUT), or 0. */
STRATA_EXTERN int strata_seed_check(strata_conn *conn, const char *path,
                                    const strata_seed_options *opt,
                                    const strata_options *migrations);
/* The Strata seed JSON a Medusa seed file becomes (caller frees). */
STRATA_EXTERN int strata_seed_convert(const char *path, char **json_out);
STRATA_EXTERN void strata_seed_report_free(strata_seed_report *r);
/* "insert", "insert_missing", "upsert" <-> strata_seed_mode (0 if unknown). */
STRATA_EXTERN const char *strata_seed_mode_name(int mode);
STRATA_EXTERN int strata_seed_mode_parse(const char *name);

/* ---- fleets: one command over many databases ----
 *
 * A fleet is a list of targets - databases, PostgreSQL schemas
 * (?search_path=NAME), SQLite files - that one command runs on, at most
 * `parallel` at a time, each on a thread and a connection of its own, with
 * its own migration lock and history: on every target it does exactly what
 * the command does on that target alone, so running a fleet again only
 * finishes what is left (docs/fleet.md).
 */

/* One target. The strings are the caller's (strata_fleet_targets_load's
 * belong to the list it returns). */
typedef struct strata_fleet_target {
    const char *name; /* its label in reports, unique in the list; NULL: made
                         from the URL (the database, "/schema", the file) */
    const char *url;
} strata_fleet_target;

/* Read a targets file: one target a line, a URL and optionally a word
 * name=LABEL (before or after it); blank lines and lines starting with '#'
 * are ignored, ${NAME} is the environment variable NAME. Every URL is
 * parsed: a bad line is STRATA_EINPUT naming the file and the line (with
 * the URL masked). The list belongs to the caller:
 * strata_fleet_targets_free. */
STRATA_EXTERN int strata_fleet_targets_load(const char *path, strata_fleet_target **out, size_t *n);
STRATA_EXTERN void strata_fleet_targets_free(strata_fleet_target *targets, size_t n);

/* What a fleet does on each target: the call it makes there. */
typedef enum {
    STRATA_FLEET_MIGRATE = 0,  /* strata_migrations_run */
    STRATA_FLEET_REVERT = 1,   /* strata_migrations_revert */
    STRATA_FLEET_STATUS = 2,   /* strata_migrations_status (differs: pending or problems) */
    STRATA_FLEET_VALIDATE = 3, /* strata_migrations_validate (differs: changed, missing, partial) */
    STRATA_FLEET_SEED = 4,     /* strata_migrations_run unless seed_no_migrate, then
                                  strata_seed_file */
    STRATA_FLEET_DIFF = 5,     /* strata_db_diff (differs: drift) */
} strata_fleet_action;

/* Where a target stands. */
typedef enum {
    STRATA_TARGET_NOT_STARTED = 0, /* --fail-fast or a failed canary kept it from starting */
    STRATA_TARGET_RUNNING = 1,     /* (progress events only) */
    STRATA_TARGET_OK = 2,
    STRATA_TARGET_DIFFERS = 3,   /* ran; something is pending, changed or drifted */
    STRATA_TARGET_FAILED = 4,    /* see its code and error */
    STRATA_TARGET_TIMED_OUT = 5, /* its timeout passed: interrupted, and failed */
} strata_target_status;

/* "not started", "running", "ok", "differs", "failed", "timed out". */
STRATA_EXTERN const char *strata_target_status_name(strata_target_status s);

/* The outcome on one target. */
typedef struct strata_fleet_target_result {
    char *name;  /* its label */
    char *url;   /* its URL, password masked */
    int dialect; /* strata_dialect */
    strata_target_status status;
    int canary;               /* it was one of the canaries */
    int code;                 /* the STRATA_E* code of a failure (also of a difference) */
    char *error;              /* its message; NULL when there is none */
    size_t migrations;        /* applied (MIGRATE, SEED), reverted (REVERT), pending
                                 (STATUS); 0 otherwise */
    strata_report *report;    /* the migrations call's report, when it made one */
    strata_seed_report *seed; /* SEED: the seed's report */
    strata_diff_result *diff; /* DIFF: the differences */
    double seconds;           /* from its start to its end */
} strata_fleet_target_result;

typedef struct strata_fleet_result {
    strata_fleet_target_result *targets; /* one per target, in the order given */
    size_t n;
    size_t ok, differs, failed, timed_out, not_started;
    int stopped;       /* fail-fast or a failed canary kept some from starting */
    unsigned parallel; /* how many ran at once, at most */
    double seconds;
} strata_fleet_result;

/* A target started (status RUNNING, result NULL) or ended (its status and
 * result). Called on the targets' threads, one call at a time, never two
 * at once; the counts are those after the event. Later versions may
 * append fields. */
typedef struct strata_fleet_progress {
    const char *target; /* its label */
    size_t index;       /* its place in the list */
    strata_target_status status;
    const strata_fleet_target_result *result; /* when it ended */
    size_t done;                              /* ended: ok, differs, failed or timed out */
    size_t running;                           /* started, not ended */
    size_t failed;                            /* ended failed or timed out (counted in done too) */
    size_t pending;                           /* not started yet */
    size_t total;
    double seconds; /* since the fleet began */
} strata_fleet_progress;

/* `progress` and what it points to are valid during the call only. */
typedef void (*strata_fleet_progress_fn)(const strata_fleet_progress *progress, void *payload);

typedef struct strata_fleet_options {
    unsigned int version;       /* STRATA_FLEET_OPTIONS_VERSION */
    strata_fleet_action action; /* default STRATA_FLEET_MIGRATE */
    /* The options of the migrations call on each target (migrations_dir,
     * lock_timeout, to, steps, all, dry_run, ...); NULL: the defaults. Its
     * log_cb and progress_cb are not called: see log_cb below. */
    const strata_options *migrate;
    const char *seed_file;                /* SEED: the seed file */
    const strata_seed_options *seed;      /* SEED: its options (progress_cb not called); NULL:
                                             the defaults */
    int seed_no_migrate;                  /* SEED: load without applying pending migrations */
    unsigned parallel;                    /* targets at once, and so connections; 0: the default
                                             (strata_fleet_default_parallel) */
    double timeout;                       /* seconds a target may take; 0: no limit. Past it, the
                                             statement it runs is interrupted and it fails as on any
                                             error (PostgreSQL and SQLite roll the migration back,
                                             MySQL undoes it), reported TIMED_OUT */
    int fail_fast;                        /* after a target fails, start no other */
    size_t canary;                        /* run the first `canary` targets first; start the others
                                             only if none of them failed */
    strata_fleet_progress_fn progress_cb; /* targets starting and ending (NULL: none) */
    void *progress_payload;
    strata_log_fn log_cb; /* each target's lines, "<label>: " first; one call at a
                             time (NULL: none) */
    void *log_payload;
} strata_fleet_options;

#define STRATA_FLEET_OPTIONS_VERSION 1
#define STRATA_FLEET_OPTIONS_INIT                                                                  \
    {                                                                                              \
        STRATA_FLEET_OPTIONS_VERSION, STRATA_FLEET_MIGRATE, NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL, \
            NULL, NULL, NULL                                                                       \
    }

/* Set *opts to the defaults of `version` (STRATA_FLEET_OPTIONS_VERSION). */
STRATA_EXTERN int strata_fleet_options_init(strata_fleet_options *opts, unsigned int version);

/* How many targets a fleet runs at once by default: two per processor,
 * at least 2 and at most 16 (the servers do most of the work, and they
 * share the machine's processors with each other, or are elsewhere). */
STRATA_EXTERN unsigned strata_fleet_default_parallel(void);

/* Run opt->action on every target (`--targets FILE`, several --database-url).
 * Returns 0 when the fleet ran - whatever each target did: see *out - and
 * STRATA_EINPUT, before any target is touched, for bad input: no targets, a
 * URL that does not parse, two targets with one label or one URL, migrations
 * that do not parse or validate, a seed file that cannot be read. *out is
 * set in both cases; the caller frees it with strata_fleet_result_free. */
STRATA_EXTERN int strata_fleet_run(const strata_fleet_target *targets, size_t n,
                                   const strata_fleet_options *opt, strata_fleet_result **out);
STRATA_EXTERN void strata_fleet_result_free(strata_fleet_result *r);

#ifdef __cplusplus
}
#endif
#endif /* STRATA_H */
