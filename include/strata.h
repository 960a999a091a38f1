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
 *     strata_seed_convert, strata_seed_mode_*, strata_check) may be called
 *     from any thread at any time. Two runs of migrations against the same
 *     database are safe too: the migration lock serialises them;
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
 * malformed URLs too, so error messages never leak a password. */
STRATA_EXTERN char *strata_url_mask(const char *text);

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

/* Options of the migration functions (run, revert, status, validate,
 * repair, sql, generate, db diff); each reads the fields that concern it. */
typedef struct strata_options {
    unsigned int version;       /* STRATA_OPTIONS_VERSION */
    const char *migrations_dir; /* default "./migrations" */
    double lock_timeout;        /* seconds to wait for the migration lock (default 0:
                                   do not wait; the CLI's default is 60) */
    int allow_out_of_order;     /* run: apply pending migrations older than applied ones */
    int dry_run;                /* run/revert: put the SQL in the report, change nothing */
    const char *to;             /* run: up to and including VERSION; revert: down to VERSION */
    int steps;                  /* revert: how many (default 0: 1) */
    int all;                    /* revert: all */
    int mark_applied;           /* repair: mark the partial migration applied */
    strata_log_fn log_cb;       /* progress lines (default NULL: none) */
    void *log_payload;          /* handed to log_cb */
    /* version 2 */
    int single_transaction; /* run/revert: every migration of the command in one transaction
                               (PostgreSQL, SQLite; all applied or none; not with
                               "transaction": false migrations, nor on MySQL/MariaDB, where
                               it is refused) */
} strata_options;

#define STRATA_OPTIONS_VERSION 2
#define STRATA_OPTIONS_INIT                                                                        \
    {                                                                                              \
        STRATA_OPTIONS_VERSION, NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, 0                        \
    }

/* Set *opts to the defaults of `version` (STRATA_OPTIONS_VERSION), as
 * STRATA_OPTIONS_INIT does; STRATA_EINPUT for a version this library does
 * not know. */
STRATA_EXTERN int strata_options_init(strata_options *opts, unsigned int version);

typedef enum {
    STRATA_MIG_PENDING = 0,
    STRATA_MIG_APPLIED,
    STRATA_MIG_CHANGED,      /* applied, but the file changed since */
    STRATA_MIG_PARTIAL,      /* partially applied (MySQL undo failed) */
    STRATA_MIG_RUNNING,      /* interrupted while running */
    STRATA_MIG_MISSING_FILE, /* applied, but no file any more */
    STRATA_MIG_REVERTED,     /* reverted by this command */
} strata_mig_status;

typedef struct strata_migration_info {
    char *id; /* file stem "<version>_<name>" */
    char *version;
    char *name;
    char *description;
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
    int problems; /* validate/show: changed, partial, missing files */
} strata_report;

STRATA_EXTERN void strata_report_free(strata_report *r);

/* Apply pending migrations (spec/cli.md `migrations run`). */
STRATA_EXTERN int strata_migrations_run(strata_conn *conn, const strata_options *opt,
                                        strata_report **out);
/* Undo applied migrations (`migrations revert`). */
STRATA_EXTERN int strata_migrations_revert(strata_conn *conn, const strata_options *opt,
                                           strata_report **out);
/* Every migration with its status (`migrations show`). */
STRATA_EXTERN int strata_migrations_status(strata_conn *conn, const strata_options *opt,
                                           strata_report **out);
/* Offline parse and type check of every file for every dialect, plus (when
 * conn is not NULL) checksums of applied ones (`migrations validate`). */
STRATA_EXTERN int strata_migrations_validate(strata_conn *conn, const strata_options *opt,
                                             strata_report **out);
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
 * with its down (`migration generate`). *nops gets the number of ops. */
STRATA_EXTERN int strata_migration_generate(const strata_options *opt, const char *name,
                                            const char *schema_file, char **path_out, size_t *nops);
/* Write <dir>/<UTC timestamp>_<name>.json with empty up/down. */
STRATA_EXTERN int strata_migration_create(const char *dir, const char *name, char **path_out);

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

/* The connected database's schema as one migration (`db pull`): JSON text
 * (caller frees) and warnings about what has no neutral form (a
 * NULL-terminated array the caller frees with each string). */
STRATA_EXTERN int strata_db_pull(strata_conn *conn, char **json_out, char ***warnings,
                                 size_t *nwarnings);

/* ---- portability check ---- */

typedef struct strata_check_options {
    unsigned int version;       /* STRATA_CHECK_OPTIONS_VERSION */
    const char *migrations_dir; /* default ./migrations */
    const char *seed_file;      /* also seed and compare the data (NULL: no) */
} strata_check_options;

#define STRATA_CHECK_OPTIONS_VERSION 1
#define STRATA_CHECK_OPTIONS_INIT                                                                  \
    {                                                                                              \
        STRATA_CHECK_OPTIONS_VERSION, NULL, NULL                                                   \
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

/* The migration lock (`lock status|release`): a one-line description. */
STRATA_EXTERN int strata_lock_status(strata_conn *conn, char **out);
STRATA_EXTERN int strata_lock_release(strata_conn *conn, char **out);

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
} strata_seed_progress;

/* `progress` and what it points to are valid during the call only. */
typedef void (*strata_seed_progress_fn)(const strata_seed_progress *progress, void *payload);

typedef struct strata_seed_options {
    unsigned int version;                /* STRATA_SEED_OPTIONS_VERSION */
    strata_seed_mode mode;               /* overrides the file's top-level mode */
    strata_seed_format format;           /* AUTO: Medusa when the keys say so */
    strata_seed_progress_fn progress_cb; /* per-table progress (default NULL: none) */
    void *progress_payload;              /* handed to progress_cb */
} strata_seed_options;

#define STRATA_SEED_OPTIONS_VERSION 1
#define STRATA_SEED_OPTIONS_INIT                                                                   \
    {                                                                                              \
        STRATA_SEED_OPTIONS_VERSION, STRATA_SEED_MODE_FILE, STRATA_SEED_FORMAT_AUTO, NULL, NULL    \
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
/* The Strata seed JSON a Medusa seed file becomes (caller frees). */
STRATA_EXTERN int strata_seed_convert(const char *path, char **json_out);
STRATA_EXTERN void strata_seed_report_free(strata_seed_report *r);
/* "insert", "insert_missing", "upsert" <-> strata_seed_mode (0 if unknown). */
STRATA_EXTERN const char *strata_seed_mode_name(int mode);
STRATA_EXTERN int strata_seed_mode_parse(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* STRATA_H */
