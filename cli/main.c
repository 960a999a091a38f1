/*
 * main.c - argument parsing and command dispatch for `strata`.
 *
 * Global options may stand before or after the command words (spec/cli.md).
 * Every error goes to stderr as one line starting "strata: "; with --json it
 * is also printed on stdout as {"error": ..., "code": ...}.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define DEFAULT_DATABASE_URL "sqlite:./strata.db"

static const char *usage_text =
    "usage: strata [options] <command> [command options]\n"
    "\n"
    "Commands:\n"
    "  migrations run [--to VERSION] [--dry-run] [--allow-out-of-order] [--single-transaction]\n"
    "  migrations revert [--steps N | --to VERSION | --all] [--dry-run] [--single-transaction]\n"
    "  migrations show\n"
    "  migrations sql [--dialect postgres|mysql|sqlite] [--down] [VERSION...]\n"
    "  migrations validate\n"
    "  migrations repair [--mark-applied]\n"
    "  migration create NAME\n"
    "  migration generate NAME --schema FILE\n"
    "  seed -f FILE [--no-migrate] [--mode insert|insert_missing|upsert] [--format strata|medusa]\n"
    "  seed convert FILE\n"
    "  db ping | db pull [--out FILE] | db diff\n"
    "  lock status | lock release\n"
    "  check --database-url URL [--database-url URL ...] [-f SEED] [--junit FILE]\n"
    "\n"
    "Options:\n"
    "  --database-url URL    database to use (else $DATABASE_URL, else sqlite:./strata.db)\n"
    "  --migrations-dir DIR  migration files (default ./migrations)\n"
    "  --json                print one JSON document instead of text\n"
    "  --lock-timeout SECS   how long to wait for the migration lock (default 60)\n"
    "  -h, --help            this help\n"
    "  --version             print the version\n";

int cli_exit_status(int code)
{
    switch (code) {
    case STRATA_OK:
        return 0;
    case STRATA_EINPUT:
        return 2;
    default:
        return 1;
    }
}

int cli_fail(const cli_opts *o, int code)
{
    const char *msg = strata_error_message();
    if (!*msg)
        msg = "failed";
    fprintf(stderr, "strata: %s\n", msg);
    if (o && o->json) {
        json_t *j = json_pack("{s:s, s:i}", "error", msg, "exit", cli_exit_status(code));
        char *s = json_dumps(j, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
        json_decref(j);
    }
    return cli_exit_status(code);
}

int cli_usage_error(const cli_opts *o, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "strata: %s\n", buf);
    fprintf(stderr, "Try 'strata --help'.\n");
    if (o && o->json) {
        json_t *j = json_pack("{s:s, s:i}", "error", buf, "exit", 2);
        char *s = json_dumps(j, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
        json_decref(j);
    }
    return 2;
}

void cli_log(strata_log_level level, const char *message, void *payload)
{
    (void)payload;
    fprintf(stderr, "%s%s\n", level == STRATA_LOG_WARNING ? "warning: " : "", message);
    fflush(stderr);
}

/* ---- commands ---- */

static int cmd_lock_status(cli_opts *o)
{
    return cmd_lock(o, 0);
}

static int cmd_lock_release(cli_opts *o)
{
    return cmd_lock(o, 1);
}

static int cmd_db_ping(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'db ping' takes no arguments");
    strata_conn *conn;
    int rc = strata_conn_open(&conn, o->database_url);
    if (rc)
        return cli_fail(o, rc);
    if (o->json) {
        json_t *j = json_pack(
            "{s:s, s:s, s:s, s:s}", "dialect", strata_dialect_name(strata_conn_dialect(conn)),
            "server_version", strata_conn_server_version(conn), "server",
            strata_conn_dialect(conn) == STRATA_MYSQL
                ? (strata_conn_is_mariadb(conn) ? "MariaDB" : "MySQL")
                : (strata_conn_dialect(conn) == STRATA_POSTGRES ? "PostgreSQL" : "SQLite"),
            "url", strata_conn_url_masked(conn));
        char *s = json_dumps(j, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
        json_decref(j);
    } else {
        printf("%s %s (%s)\n", strata_dialect_name(strata_conn_dialect(conn)),
               strata_conn_server_version(conn), strata_conn_url_masked(conn));
    }
    strata_conn_close(conn);
    return 0;
}

/* ---- argument parsing ---- */

typedef struct opt_spec {
    const char *name;
    int takes_value;
} opt_spec;

static const opt_spec known_opts[] = {
    {"--database-url", 1},
    {"--migrations-dir", 1},
    {"--json", 0},
    {"--lock-timeout", 1},
    {"--to", 1},
    {"--steps", 1},
    {"--all", 0},
    {"--dry-run", 0},
    {"--dialect", 1},
    {"--down", 0},
    {"-f", 1},
    {"--file", 1},
    {"--no-migrate", 0},
    {"--mode", 1},
    {"--format", 1},
    {"--out", 1},
    {"--schema", 1},
    {"--allow-out-of-order", 0},
    {"--single-transaction", 0},
    {"--mark-applied", 0},
    {"--junit", 1},
    {"--help", 0},
    {"-h", 0},
    {"--version", 0},
};

static const char *nearest_option(const char *word)
{
    const char *names[sizeof known_opts / sizeof known_opts[0]];
    size_t n = sizeof known_opts / sizeof known_opts[0];
    for (size_t i = 0; i < n; i++)
        names[i] = known_opts[i].name;
    size_t best = (size_t)-1;
    const char *pick = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t a = strlen(word), b = strlen(names[i]);
        /* cheap similarity: common prefix length */
        size_t k = 0;
        while (k < a && k < b && word[k] == names[i][k])
            k++;
        size_t d = (a > k ? a - k : 0) + (b > k ? b - k : 0);
        if (d < best) {
            best = d;
            pick = names[i];
        }
    }
    return best <= 6 ? pick : NULL;
}

int main(int argc, char **argv)
{
    cli_opts o;
    memset(&o, 0, sizeof o);
    o.migrations_dir = "./migrations";
    o.lock_timeout = 60;
    const char **words = calloc((size_t)argc + 1, sizeof(char *));
    const char **urls = calloc((size_t)argc + 1, sizeof(char *));
    int nwords = 0;
    int help = 0, version = 0;
    int status = 0;
    o.urls = urls;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            words[nwords++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                words[nwords++] = argv[i];
            break;
        }
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const opt_spec *spec = NULL;
        for (size_t k = 0; k < sizeof known_opts / sizeof known_opts[0]; k++)
            if (strlen(known_opts[k].name) == nlen && strncmp(known_opts[k].name, a, nlen) == 0)
                spec = &known_opts[k];
        if (!spec) {
            const char *near = nearest_option(a);
            status = near ? cli_usage_error(&o, "unknown option '%s' (did you mean '%s'?)", a, near)
                          : cli_usage_error(&o, "unknown option '%s'", a);
            goto done;
        }
        const char *val = NULL;
        if (spec->takes_value) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                status = cli_usage_error(&o, "option '%s' needs a value", spec->name);
                goto done;
            }
        } else if (eq) {
            status = cli_usage_error(&o, "option '%s' takes no value", spec->name);
            goto done;
        }
        const char *n = spec->name;
        if (!strcmp(n, "--database-url")) {
            o.database_url = val;
            urls[o.nurls++] = val;
        } else if (!strcmp(n, "--migrations-dir"))
            o.migrations_dir = val;
        else if (!strcmp(n, "--json"))
            o.json = 1;
        else if (!strcmp(n, "--lock-timeout")) {
            char *end;
            o.lock_timeout = strtod(val, &end);
            if (*end || o.lock_timeout < 0) {
                status =
                    cli_usage_error(&o, "--lock-timeout needs a number of seconds, not '%s'", val);
                goto done;
            }
        } else if (!strcmp(n, "--to"))
            o.to = val;
        else if (!strcmp(n, "--steps")) {
            char *end;
            long s = strtol(val, &end, 10);
            if (*end || s < 1) {
                status = cli_usage_error(&o, "--steps needs a positive number, not '%s'", val);
                goto done;
            }
            o.steps = (int)s;
        } else if (!strcmp(n, "--all"))
            o.all = 1;
        else if (!strcmp(n, "--dry-run"))
            o.dry_run = 1;
        else if (!strcmp(n, "--dialect"))
            o.dialect = val;
        else if (!strcmp(n, "--down"))
            o.down = 1;
        else if (!strcmp(n, "-f") || !strcmp(n, "--file"))
            o.file = val;
        else if (!strcmp(n, "--no-migrate"))
            o.no_migrate = 1;
        else if (!strcmp(n, "--mode"))
            o.mode = val;
        else if (!strcmp(n, "--format"))
            o.format = val;
        else if (!strcmp(n, "--out"))
            o.out = val;
        else if (!strcmp(n, "--schema"))
            o.schema = val;
        else if (!strcmp(n, "--allow-out-of-order"))
            o.allow_out_of_order = 1;
        else if (!strcmp(n, "--single-transaction"))
            o.single_transaction = 1;
        else if (!strcmp(n, "--mark-applied"))
            o.mark_applied = 1;
        else if (!strcmp(n, "--junit"))
            o.junit = val;
        else if (!strcmp(n, "--help") || !strcmp(n, "-h"))
            help = 1;
        else if (!strcmp(n, "--version"))
            version = 1;
    }

    if (version) {
        printf("strata %s\n", strata_version());
        goto done;
    }
    if (help || nwords == 0) {
        fputs(usage_text, help ? stdout : stderr);
        status = help ? 0 : 2;
        goto done;
    }
    if (!o.database_url)
        o.database_url = getenv("DATABASE_URL");
    if (!o.database_url || !*o.database_url)
        o.database_url = DEFAULT_DATABASE_URL;

    const char *w0 = words[0], *w1 = nwords > 1 ? words[1] : NULL;
    o.args = words + (nwords > 1 ? 2 : 1);
    o.nargs = nwords > 1 ? nwords - 2 : 0;
    static const struct {
        const char *w0, *w1;
        int (*fn)(cli_opts *);
    } commands[] = {
        {"migrations", "run", cmd_migrations_run},
        {"migrations", "revert", cmd_migrations_revert},
        {"migrations", "show", cmd_migrations_show},
        {"migrations", "sql", cmd_migrations_sql},
        {"migrations", "validate", cmd_migrations_validate},
        {"migrations", "repair", cmd_migrations_repair},
        {"migration", "create", cmd_migration_create},
        {"migration", "generate", cmd_migration_generate},
        {"db", "ping", cmd_db_ping},
        {"db", "diff", cmd_db_diff},
        {"db", "pull", cmd_db_pull},
        {"lock", "status", cmd_lock_status},
        {"lock", "release", cmd_lock_release},
        {"seed", "convert", cmd_seed_convert},
        {"seed", NULL, cmd_seed}, /* one-word command: after its two-word ones */
    };
    int found = 0;
    if (!strcmp(w0, "check")) {
        o.args = words + 1;
        o.nargs = nwords - 1;
        status = cmd_check(&o);
        goto done;
    }
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (!strcmp(w0, commands[k].w0) &&
            (commands[k].w1 ? w1 && !strcmp(w1, commands[k].w1) : 1)) {
            if (!commands[k].w1) {
                o.args = words + 1;
                o.nargs = nwords - 1;
            }
            status = commands[k].fn(&o);
            found = 1;
            break;
        }
    if (!found)
        status = cli_usage_error(&o, "unknown command '%s%s%s'", w0, w1 ? " " : "", w1 ? w1 : "");

done:
    free(words);
    free(urls);
    strata_error_clear();
    return status;
}
