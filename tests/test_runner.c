/*
 * test_runner.c - the migration runner as a user meets it: the real `strata`
 * binary (`--database-url URL --migrations-dir DIR ...`) on the three real
 * databases, each test on a database of its own.
 *
 * What must hold (spec/cli.md "Migration history and lock", migration-format.md
 * "Running", "Checksums"):
 *   - concurrent runners apply every migration exactly once and all succeed;
 *   - a runner killed at any moment leaves nothing to fix by hand: the next
 *     run completes and the schema (and data) equal those of a run that was
 *     never interrupted;
 *   - a failing operation leaves the schema as it was before the migration,
 *     on MySQL/MariaDB too, and the error names migration, op, SQL and the
 *     server's words;
 *   - a failing revert is undone too; `revert` (one, several, all) then
 *     `run` ends with the schema of a run that never went back;
 *   - checksums see edits but not reformatting; irreversible reverts and
 *     out-of-order migrations are refused before anything changes;
 *   - dry runs change nothing; show/run/revert speak text and JSON; the lock
 *     says who holds it, gives up after --lock-timeout, and dies with its
 *     holder; a migration left partial is repaired by `migrations repair`.
 *
 * Schemas are compared through small per-dialect catalog queries (columns,
 * indexes, constraints, enums, views, row counts) written here, independent
 * of the engine's own introspection.
 */
#include "driver.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The database and migrations directory of the running test. */
static char *db_url;
static char *mig_dir;

/* ---- small helpers ---- */

static const char *by_dialect(const char *pg, const char *my, const char *sl)
{
    return test_dialect == STRATA_POSTGRES ? pg : test_dialect == STRATA_MYSQL ? my : sl;
}

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

/* A growing string built with stdio (open_memstream). */
typedef struct text {
    char *s;
    size_t len;
    FILE *f;
} text;

static void text_open(text *t)
{
    t->s = NULL;
    t->len = 0;
    t->f = open_memstream(&t->s, &t->len);
}

static char *text_close(text *t)
{
    fclose(t->f);
    return t->s;
}

/* A fresh database and migrations directory for one test. */
static int begin_test(const char *tag)
{
    db_url = test_fresh_database(test_dialect, tag);
    mig_dir = test_tempdir(tag);
    CU_ASSERT_PTR_NOT_NULL(db_url);
    CU_ASSERT_PTR_NOT_NULL(mig_dir);
    return db_url && mig_dir;
}

static void remove_tree(const char *path)
{
    char *cmd = fmt("rm -rf '%s'", path);
    test_run_cmd(cmd, NULL);
    free(cmd);
}

/* Drop a test database, and for SQLite the journal files beside it. */
static void drop_database(const char *url)
{
    if (!url)
        return;
    if (test_dialect == STRATA_SQLITE) {
        static const char *const suffix[] = {"-journal", "-wal", "-shm", "-strata-lock"};
        for (size_t i = 0; i < 4; i++) {
            char *p = fmt("%s%s", url + 7, suffix[i]);
            unlink(p);
            free(p);
        }
    }
    test_drop_database(test_dialect, url);
}

static void end_test(void)
{
    drop_database(db_url);
    free(db_url);
    db_url = NULL;
    if (mig_dir)
        remove_tree(mig_dir);
    free(mig_dir);
    mig_dir = NULL;
}

static void write_migration(const char *stem, const char *json)
{
    char *path = fmt("%s/%s.json", mig_dir, stem);
    test_write_file(path, json);
    free(path);
}

/* Run `strata --database-url URL --migrations-dir DIR <args>`; *out gets
 * stdout and stderr together (or stdout alone when `stdout_only`). */
static int strata_at(const char *url, int stdout_only, char **out, const char *args)
{
    char *cmd = fmt("{ '%s' --database-url '%s' --migrations-dir '%s' %s%s; }", test_strata_bin(),
                    url, mig_dir, args, stdout_only ? " 2>/dev/null" : "");
    int st = test_run_cmd(cmd, out);
    free(cmd);
    return st;
}

static int strata(char **out, const char *args)
{
    return strata_at(db_url, 0, out, args);
}

/* Run a command that must exit with `want`; prints its output otherwise. */
static void expect_status(int want, const char *args)
{
    char *out = NULL;
    int st = strata(&out, args);
    if (st != want)
        fprintf(stderr, "\n  strata %s: exit %d, expected %d:\n%s\n", args, st, want,
                out ? out : "");
    CU_ASSERT_EQUAL(st, want);
    free(out);
}

/* Run a --json command and parse its stdout. */
static json_t *strata_json(const char *args, int *status)
{
    char *out = NULL;
    char *a = fmt("--json %s", args);
    *status = strata_at(db_url, 1, &out, a);
    free(a);
    json_error_t err;
    json_t *j = json_loads(out ? out : "", 0, &err);
    if (!j)
        fprintf(stderr, "\n  strata --json %s printed no JSON (%s):\n%s\n", args, err.text,
                out ? out : "");
    CU_ASSERT_PTR_NOT_NULL(j);
    free(out);
    return j;
}

/* Start strata in the background, stdout and stderr to `log`. */
static pid_t spawn_strata(const char *url, const char *log, const char *a1, const char *a2,
                          const char *a3)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        const char *argv[] = {test_strata_bin(),
                              "--database-url",
                              url,
                              "--migrations-dir",
                              mig_dir,
                              a1,
                              a2,
                              a3,
                              NULL};
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Wait for a child: its exit status, or 128 + the signal that ended it. */
static int wait_child(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static char *read_text_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    text t;
    text_open(&t);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, t.f);
    fclose(f);
    return text_close(&t);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ---- looking at the database ---- */

static void put_value(FILE *out, const strata_value *v)
{
    switch (v->type) {
    case STRATA_VNULL:
        fputs("NULL", out);
        break;
    case STRATA_VINT:
    case STRATA_VBOOL:
        fprintf(out, "%lld", (long long)v->i);
        break;
    case STRATA_VREAL:
        fprintf(out, "%.17g", v->d);
        break;
    case STRATA_VTEXT:
    case STRATA_VBLOB:
        fwrite(v->s, 1, v->len, out);
        break;
    }
}

/* Append every row of a query as "a|b|c" lines. */
static void dump_query(strata_conn *c, const char *sql, FILE *out)
{
    strata_rows *rows;
    if (strata_conn_query(c, sql, NULL, 0, &rows) != 0) {
        fprintf(out, "ERROR in %s: %s\n", sql, strata_error_message());
        return;
    }
    while (strata_rows_next(rows) == 1) {
        for (size_t i = 0; i < strata_rows_ncols(rows); i++) {
            if (i)
                fputc('|', out);
            put_value(out, strata_rows_value(rows, i));
        }
        fputc('\n', out);
    }
    strata_rows_free(rows);
}

/* The user tables (not strata_*), in name order. */
static const char *tables_sql(void)
{
    return by_dialect(
        "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND "
        "substr(tablename, 1, 7) <> 'strata_' ORDER BY 1",
        "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND "
        "table_type = 'BASE TABLE' AND substr(table_name, 1, 7) <> 'strata_' ORDER BY 1",
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND substr(name, 1, 7) NOT IN "
        "('strata_', 'sqlite_') ORDER BY 1");
}

/* Catalog queries describing the schema of user objects. */
static const char *const pg_schema_sql[] = {
    "SELECT table_name, column_name, data_type, udt_name, "
    "coalesce(character_maximum_length::text, ''), coalesce(numeric_precision::text, ''), "
    "coalesce(numeric_scale::text, ''), is_nullable, coalesce(column_default, '') FROM "
    "information_schema.columns WHERE table_schema = current_schema() AND substr(table_name, 1, "
    "7) <> 'strata_' ORDER BY table_name, ordinal_position",
    "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
    "AND substr(tablename, 1, 7) <> 'strata_' ORDER BY 1, 2",
    "SELECT c.relname, con.conname, con.contype, pg_get_constraintdef(con.oid) FROM "
    "pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = "
    "c.relnamespace WHERE n.nspname = current_schema() AND substr(c.relname, 1, 7) <> 'strata_' "
    "ORDER BY 1, 2",
    "SELECT t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_type t "
    "JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE "
    "n.nspname = current_schema() GROUP BY 1 ORDER BY 1",
    "SELECT table_name, view_definition FROM information_schema.views WHERE table_schema = "
    "current_schema() ORDER BY 1",
    "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = "
    "current_schema() ORDER BY 1",
    NULL};

static const char *const my_schema_sql[] = {
    "SELECT table_name, column_name, column_type, is_nullable, coalesce(column_default, 'none'), "
    "extra, coalesce(collation_name, '') FROM information_schema.columns WHERE table_schema = "
    "DATABASE() AND substr(table_name, 1, 7) <> 'strata_' ORDER BY table_name, ordinal_position",
    "SELECT table_name, index_name, non_unique, seq_in_index, column_name, "
    "coalesce(sub_part, ''), index_type FROM information_schema.statistics WHERE table_schema = "
    "DATABASE() AND substr(table_name, 1, 7) <> 'strata_' ORDER BY 1, 2, 4",
    "SELECT table_name, constraint_name, constraint_type FROM information_schema.table_constraints "
    "WHERE table_schema = DATABASE() AND substr(table_name, 1, 7) <> 'strata_' ORDER BY 1, 2, 3",
    "SELECT k.table_name, k.constraint_name, k.column_name, k.ordinal_position, "
    "k.referenced_table_name, k.referenced_column_name, r.update_rule, r.delete_rule FROM "
    "information_schema.key_column_usage k JOIN information_schema.referential_constraints r ON "
    "r.constraint_schema = k.table_schema AND r.constraint_name = k.constraint_name AND "
    "r.table_name = k.table_name WHERE k.table_schema = DATABASE() ORDER BY 1, 2, 4",
    "SELECT table_name, constraint_name, check_clause FROM information_schema.check_constraints "
    "WHERE constraint_schema = DATABASE() ORDER BY 1, 2",
    "SELECT table_name, view_definition FROM information_schema.views WHERE table_schema = "
    "DATABASE() ORDER BY 1",
    "SELECT table_name, coalesce(auto_increment, 0), table_collation FROM "
    "information_schema.tables WHERE table_schema = DATABASE() AND substr(table_name, 1, 7) <> "
    "'strata_' ORDER BY 1",
    NULL};

static const char *const sl_schema_sql[] = {
    "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema WHERE substr(name, 1, 7) "
    "<> 'strata_' AND substr(tbl_name, 1, 7) <> 'strata_' AND name <> 'sqlite_sequence' ORDER BY "
    "type, name",
    "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", coalesce(p.dflt_value, ''), p.pk FROM "
    "sqlite_schema m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND substr(m.name, 1, "
    "7) NOT IN ('strata_', 'sqlite_') ORDER BY 1, 2",
    "SELECT m.name, f.id, f.seq, f.\"table\", f.\"from\", coalesce(f.\"to\", ''), f.on_update, "
    "f.on_delete FROM sqlite_schema m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = "
    "'table' AND substr(m.name, 1, 7) NOT IN ('strata_', 'sqlite_') ORDER BY 1, 2, 3",
    "SELECT m.name, l.name, l.\"unique\", l.origin, l.partial FROM sqlite_schema m JOIN "
    "pragma_index_list(m.name) l WHERE m.type = 'table' AND substr(m.name, 1, 7) NOT IN "
    "('strata_', 'sqlite_') ORDER BY 1, 2",
    NULL};

/* The schema of a database as text, plus the number of rows of every user
 * table (so that data applied twice shows too). */
static char *schema_snapshot(const char *url)
{
    strata_conn *c = test_connect(url);
    if (!c)
        return strdup("(cannot connect)");
    text t;
    text_open(&t);
    const char *const *qs = test_dialect == STRATA_POSTGRES ? pg_schema_sql
                            : test_dialect == STRATA_MYSQL  ? my_schema_sql
                                                            : sl_schema_sql;
    for (size_t i = 0; qs[i]; i++) {
        fprintf(t.f, "-- %zu\n", i);
        dump_query(c, qs[i], t.f);
    }
    if (test_dialect == STRATA_SQLITE) {
        char *has = NULL;
        strata_conn_query_string(c, "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'",
                                 NULL, 0, &has);
        if (has)
            dump_query(c, "SELECT name, seq FROM sqlite_sequence ORDER BY 1", t.f);
        free(has);
    }
    /* row counts */
    strata_rows *rows;
    char **names = NULL;
    size_t n = 0;
    if (strata_conn_query(c, tables_sql(), NULL, 0, &rows) == 0) {
        while (strata_rows_next(rows) == 1) {
            names = realloc(names, (n + 1) * sizeof *names);
            names[n++] = strdup(strata_rows_text(rows, 0));
        }
        strata_rows_free(rows);
    }
    fputs("-- rows\n", t.f);
    for (size_t i = 0; i < n; i++) {
        char *q = strata_conn_quote_ident(c, names[i]);
        char *sql = fmt("SELECT count(*) FROM %s", q);
        fprintf(t.f, "%s: ", names[i]);
        dump_query(c, sql, t.f);
        free(sql);
        free(q);
        free(names[i]);
    }
    free(names);
    strata_conn_close(c);
    return text_close(&t);
}

/* The history as "id|state|ops_applied" lines ("" when there is none). */
static char *history_of(const char *url)
{
    strata_conn *c = test_connect(url);
    if (!c)
        return strdup("(cannot connect)");
    text t;
    text_open(&t);
    const char *exists = by_dialect(
        "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = "
        "'strata_migrations'",
        "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name "
        "= 'strata_migrations'",
        "SELECT 1 FROM sqlite_schema WHERE name = 'strata_migrations'");
    char *has = NULL;
    strata_conn_query_string(c, exists, NULL, 0, &has);
    if (has)
        dump_query(c,
                   "SELECT id, state, direction, ops_applied, ops_total FROM strata_migrations "
                   "ORDER BY id",
                   t.f);
    free(has);
    strata_conn_close(c);
    return text_close(&t);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static long long scalar_at(const char *url, const char *sql)
{
    strata_conn *c = test_connect(url);
    if (!c)
        return -1;
    long long v = test_scalar_int(c, sql);
    strata_conn_close(c);
    return v;
}

static int table_exists_at(const char *url, const char *name)
{
    char *q = fmt(by_dialect("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = "
                             "current_schema() AND tablename = '%s'",
                             "SELECT count(*) FROM information_schema.tables WHERE "
                             "table_schema = DATABASE() AND table_name = '%s'",
                             "SELECT count(*) FROM sqlite_schema WHERE name = '%s'"),
                  name);
    long long n = scalar_at(url, q);
    free(q);
    return n > 0;
}

static void exec_at(const char *url, const char *sql)
{
    strata_conn *c = test_connect(url);
    if (!c) {
        CU_FAIL("cannot connect");
        return;
    }
    test_exec(c, sql);
    strata_conn_close(c);
}

#define CU_ASSERT_SAME_TEXT(got, want)                                                             \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        int ok_ = g_ && w_ && strcmp(g_, w_) == 0;                                                 \
        if (!ok_)                                                                                  \
            fprintf(stderr, "\n  %s:%d: differs.\n  got:\n%s\n  expected:\n%s\n", __FILE__,        \
                    __LINE__, g_ ? g_ : "(null)", w_ ? w_ : "(null)");                             \
        CU_ASSERT(ok_);                                                                            \
    } while (0)

/* A string member of a JSON object equals `want` (NULL-safe). */
#define CU_ASSERT_JSON_STR(obj, key, want)                                                         \
    do {                                                                                           \
        const char *v_ = json_string_value(json_object_get((obj), (key)));                         \
        int ok_ = v_ && strcmp(v_, (want)) == 0;                                                   \
        if (!ok_)                                                                                  \
            fprintf(stderr, "\n  %s:%d: JSON \"%s\" is %s, expected %s\n", __FILE__, __LINE__,     \
                    (key), v_ ? v_ : "(missing)", (want));                                         \
        CU_ASSERT(ok_);                                                                            \
    } while (0)

/* ---- concurrent runners ---- */

/* Six migrations, each adding one row to `log`, a table without any key:
 * a migration applied twice would show as a duplicate row. Two of them run
 * outside a transaction (progress recorded per operation). */
static void write_log_migrations(void)
{
    write_migration("001_log", "{\"up\": [{\"op\": \"create_table\", \"table\": \"log\", "
                               "\"columns\": [{\"name\": \"msg\", \"type\": \"string\"}]}, "
                               "{\"op\": \"insert\", \"table\": \"log\", \"rows\": [{\"msg\": "
                               "\"001\"}]}]}");
    for (int i = 2; i <= 6; i++) {
        char stem[32];
        snprintf(stem, sizeof stem, "%03d_step%d", i, i);
        char *json =
            fmt("{\"transaction\": %s, \"up\": [{\"op\": \"create_table\", \"table\": \"t%d\", "
                "\"columns\": [{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true}, "
                "{\"name\": \"v\", \"type\": \"string\"}]}, {\"op\": \"create_index\", \"table\": "
                "\"t%d\", \"name\": \"t%d_v\", \"columns\": [\"v\"]}, {\"op\": \"add_column\", "
                "\"table\": \"t%d\", \"column\": {\"name\": \"w\", \"type\": \"integer\"}}, "
                "{\"op\": \"insert\", \"table\": \"log\", \"rows\": [{\"msg\": \"%03d\"}]}]}",
                i == 3 || i == 5 ? "false" : "true", i, i, i, i, i);
        write_migration(stem, json);
        free(json);
    }
}

/* Eight runners started together, three times over on fresh databases. */
static void test_concurrent_runs(void)
{
    if (!begin_test("conc"))
        goto out;
    write_log_migrations();
    enum { N = 8, ROUNDS = 3 };
    for (int round = 0; round < ROUNDS; round++) {
        char *url = round ? test_fresh_database(test_dialect, "conc") : strdup(db_url);
        CU_ASSERT_PTR_NOT_NULL(url);
        if (!url)
            break;
        pid_t pids[N];
        char *logs[N];
        for (int k = 0; k < N; k++) {
            logs[k] = fmt("%s/run%d.log", mig_dir, k);
            pids[k] = spawn_strata(url, logs[k], "migrations", "run", NULL);
        }
        int applied_lines = 0;
        for (int k = 0; k < N; k++) {
            int st = wait_child(pids[k]);
            char *out = read_text_file(logs[k]);
            if (st != 0)
                fprintf(stderr, "\n  round %d, runner %d: exit %d:\n%s\n", round, k, st,
                        out ? out : "");
            CU_ASSERT_EQUAL(st, 0);
            for (const char *p = out; p && (p = strstr(p, "applied  ")) != NULL; p++)
                applied_lines++;
            free(out);
            unlink(logs[k]);
            free(logs[k]);
        }
        /* every migration applied once, by exactly one of the runners */
        CU_ASSERT_EQUAL(applied_lines, 6);
        CU_ASSERT_EQUAL(scalar_at(url, "SELECT count(*) FROM strata_migrations WHERE state = "
                                       "'applied'"),
                        6);
        CU_ASSERT_EQUAL(scalar_at(url, "SELECT count(*) FROM strata_migrations"), 6);
        CU_ASSERT_EQUAL(scalar_at(url, "SELECT count(*) FROM log"), 6);
        CU_ASSERT_EQUAL(scalar_at(url, "SELECT count(DISTINCT msg) FROM log"), 6);
        char *out = NULL;
        CU_ASSERT_EQUAL(strata_at(url, 0, &out, "migrations show"), 0);
        free(out);
        if (round)
            drop_database(url);
        free(url);
    }
out:
    end_test();
}

/* ---- killed runners ---- */

/* Rows for an insert op: ids [from, to], each with a name and `extra` members. */
static char *rows_json(int from, int to, const char *extra)
{
    text t;
    text_open(&t);
    for (int i = from; i <= to; i++)
        fprintf(t.f, "%s{\"id\": %d, \"name\": \"row %d with some text to make it longer\"%s}",
                i > from ? ", " : "", i, i, extra ? extra : "");
    return text_close(&t);
}

/* A set of migrations slow enough to be killed in the middle: many DDL
 * operations (slow on MariaDB), big inserts, renames, foreign keys, a table
 * rebuild on SQLite, and two migrations outside a transaction. Every
 * operation is reversible, so an interrupted migration can be undone. */
static void write_kill_migrations(void)
{
    char *cats = rows_json(1, 300, "");
    char *items = rows_json(1, 1200, ", \"cat_id\": 7");
    char *m = fmt(
        "{\"up\": [{\"op\": \"create_table\", \"table\": \"cat\", \"columns\": [{\"name\": "
        "\"id\", \"type\": \"integer\", \"primary_key\": true}, {\"name\": \"name\", \"type\": "
        "\"string\", \"length\": 100, \"nullable\": false}]}, {\"op\": \"create_table\", "
        "\"table\": \"item\", \"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
        "\"primary_key\": true}, {\"name\": \"name\", \"type\": \"string\"}, {\"name\": \"qty\", "
        "\"type\": \"integer\", \"default\": 0}, {\"name\": \"cat_id\", \"type\": \"integer\", "
        "\"references\": {\"table\": \"cat\", \"column\": \"id\"}}]}, {\"op\": \"insert\", "
        "\"table\": \"cat\", \"rows\": [%s]}, {\"op\": \"insert\", \"table\": \"item\", \"rows\": "
        "[%s]}]}",
        cats, items);
    write_migration("20240101000001_base", m);
    free(m);
    free(cats);
    free(items);

    char *tags = rows_json(1, 1200, ", \"item_id\": 3");
    m = fmt("{\"transaction\": false, \"up\": [{\"op\": \"add_column\", \"table\": \"item\", "
            "\"column\": {\"name\": \"price\", \"type\": \"decimal\", \"precision\": 10, "
            "\"scale\": 2}}, {\"op\": \"create_index\", \"table\": \"item\", \"name\": "
            "\"item_name\", \"columns\": [\"name\"]}, {\"op\": \"create_table\", \"table\": "
            "\"tag\", \"columns\": [{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": "
            "true}, {\"name\": \"item_id\", \"type\": \"integer\"}, {\"name\": \"name\", "
            "\"type\": \"string\"}]}, {\"op\": \"add_foreign_key\", \"table\": \"tag\", \"name\": "
            "\"tag_item_fk\", \"columns\": [\"item_id\"], \"references\": {\"table\": \"item\", "
            "\"columns\": [\"id\"]}, \"on_delete\": \"cascade\"}, {\"op\": \"insert\", \"table\": "
            "\"tag\", \"rows\": [%s]}]}",
            tags);
    write_migration("20240101000002_more", m);
    free(m);
    free(tags);

    write_migration(
        "20240101000003_renames",
        "{\"up\": [{\"op\": \"rename_column\", \"table\": \"item\", \"column\": \"qty\", \"to\": "
        "\"quantity\"}, {\"op\": \"rename_table\", \"table\": \"tag\", \"to\": \"label\"}, "
        "{\"op\": \"create_index\", \"table\": \"label\", \"name\": \"label_name\", \"columns\": "
        "[\"name\"]}, {\"op\": \"add_unique\", \"table\": \"cat\", \"name\": \"cat_name_uq\", "
        "\"columns\": [\"name\"]}, {\"op\": \"add_check\", \"table\": \"item\", \"name\": "
        "\"item_quantity_ck\", \"check\": {\"column\": \"quantity\", \"ge\": 0}}]}");

    for (int k = 0; k < 2; k++) {
        text t;
        text_open(&t);
        fputs("{\"up\": [", t.f);
        for (int i = k * 24; i < k * 24 + 24; i++)
            fprintf(t.f,
                    "%s{\"op\": \"create_table\", \"table\": \"many%d\", \"columns\": "
                    "[{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true}, "
                    "{\"name\": \"a\", \"type\": \"string\"}, {\"name\": \"b\", \"type\": "
                    "\"integer\"}]}, {\"op\": \"create_index\", \"table\": \"many%d\", "
                    "\"name\": \"many%d_ab\", \"columns\": [\"a\", \"b\"]}",
                    i > k * 24 ? ", " : "", i, i, i);
        fputs("]}", t.f);
        char *many = text_close(&t);
        write_migration(k ? "20240101000004_many2" : "20240101000004_many1", many);
        free(many);
    }

    char *more_cats = rows_json(301, 900, "");
    m = fmt("{\"up\": [{\"op\": \"alter_column\", \"table\": \"item\", \"column\": \"name\", "
            "\"nullable\": false}, {\"op\": \"drop_index\", \"table\": \"item\", \"name\": "
            "\"item_name\"}, {\"op\": \"add_column\", \"table\": \"cat\", \"column\": {\"name\": "
            "\"note\", \"type\": \"text\"}}, {\"op\": \"insert\", \"table\": \"cat\", \"rows\": "
            "[%s]}]}",
            more_cats);
    write_migration("20240101000005_alter", m);
    free(m);
    free(more_cats);

    char *more_items = rows_json(1201, 2400, ", \"cat_id\": 9");
    m = fmt("{\"transaction\": false, \"up\": [{\"op\": \"insert\", \"table\": \"item\", "
            "\"rows\": [%s]}, {\"op\": \"drop_column\", \"table\": \"item\", \"column\": "
            "\"price\"}, {\"op\": \"create_index\", \"table\": \"item\", \"name\": "
            "\"item_name_cat\", \"columns\": [\"name\", \"cat_id\"]}]}",
            more_items);
    write_migration("20240101000006_data", m);
    free(m);
    free(more_items);
}

static void test_killed_runs_resume(void)
{
    if (!begin_test("killref"))
        goto out;
    write_kill_migrations();
    /* the reference: one uninterrupted run. It and a dry run (which reads,
     * parses and compiles everything but applies nothing) are timed, to aim
     * the kills at the part of the run that changes the database. */
    char *log = fmt("%s/run.log", mig_dir);
    double t0 = now_s();
    pid_t pid = spawn_strata(db_url, log, "migrations", "run", "--dry-run");
    int st = wait_child(pid);
    double dry = now_s() - t0;
    CU_ASSERT_EQUAL(st, 0);
    t0 = now_s();
    pid = spawn_strata(db_url, log, "migrations", "run", NULL);
    st = wait_child(pid);
    double full = now_s() - t0;
    if (st != 0) {
        char *o = read_text_file(log);
        fprintf(stderr, "\n  uninterrupted run: exit %d:\n%s\n", st, o ? o : "");
        free(o);
    }
    CU_ASSERT_EQUAL(st, 0);
    if (st != 0) {
        free(log);
        goto out;
    }
    char *want_schema = schema_snapshot(db_url);
    char *want_hist = history_of(db_url);
    CU_ASSERT_EQUAL(count_lines(want_hist), 7);

    /* killed at points spread over [lo, hi]; a kill that comes after the
     * run finished does not count, and makes the window shorter */
    enum { KILLS = 20, MAX_TRIALS = 80 };
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    int killed = 0, midway = 0, trials = 0;
    double lo = dry * 0.8, hi = full > lo ? full : lo * 1.5;
    for (; killed < KILLS && trials < MAX_TRIALS; trials++) {
        char *url = test_fresh_database(test_dialect, "kill");
        CU_ASSERT_PTR_NOT_NULL(url);
        if (!url)
            break;
        double frac = ((double)(trials % KILLS) + (double)rand() / RAND_MAX) / KILLS;
        double delay = trials % 10 == 9 ? lo * frac : lo + (hi - lo) * frac;
        pid = spawn_strata(url, log, "migrations", "run", NULL);
        sleep_s(delay);
        kill(pid, SIGKILL);
        st = wait_child(pid);
        if (st == 128 + SIGKILL) {
            killed++;
            char *h = history_of(url);
            int n = count_lines(h);
            midway += n > 0 && (n < 7 || strstr(h, "|running|"));
            free(h);
        } else {
            if (st != 0) {
                char *o = read_text_file(log);
                fprintf(stderr, "\n  run (not killed): exit %d:\n%s\n", st, o ? o : "");
                free(o);
            }
            CU_ASSERT_EQUAL(st, 0);
            hi = lo + (hi - lo) * 0.8;
        }
        /* the next run completes, with the schema of the uninterrupted run */
        char *out = NULL;
        st = strata_at(url, 0, &out, "migrations run");
        if (st != 0)
            fprintf(stderr, "\n  run after a kill at %.3f s (seed %u): exit %d:\n%s\n", delay, seed,
                    st, out ? out : "");
        CU_ASSERT_EQUAL(st, 0);
        free(out);
        char *got_schema = schema_snapshot(url);
        char *got_hist = history_of(url);
        CU_ASSERT_SAME_TEXT(got_schema, want_schema);
        CU_ASSERT_SAME_TEXT(got_hist, want_hist);
        free(got_schema);
        free(got_hist);
        drop_database(url);
        free(url);
    }
    fprintf(stderr,
            "\n  [%s: dry run %.2f s, uninterrupted run %.2f s; %d trials, %d killed, %d with "
            "some migrations applied or one running; seed %u] ",
            strata_dialect_name(test_dialect), dry, full, trials, killed, midway, seed);
    CU_ASSERT(killed >= KILLS);
    unlink(log);
    free(log);
    free(want_schema);
    free(want_hist);
out:
    end_test();
}

/* ---- revert, then run again ---- */

/* `revert --all` then `run`, and a few steps back and forth, end with the
 * schema of a run that never went back: derived downs restore exactly.
 * The last migration adds an index that can serve item's foreign key on
 * cat_id, which on MySQL replaces the index the server made for it. */
static void test_revert_then_run(void)
{
    if (!begin_test("rerun"))
        goto out;
    write_kill_migrations();
    write_migration("20240101000007_fkindex",
                    "{\"up\": [{\"op\": \"create_index\", \"table\": \"item\", \"name\": "
                    "\"item_cat_quantity\", \"columns\": [\"cat_id\", \"quantity\"]}]}");
    char *empty = schema_snapshot(db_url);
    expect_status(0, "migrations run");
    char *clean = schema_snapshot(db_url);
    static const char *const back[] = {"migrations revert", "migrations revert --steps 3",
                                       "migrations revert --all"};
    for (size_t i = 0; i < sizeof back / sizeof back[0]; i++) {
        expect_status(0, back[i]);
        if (i == 2) {
            char *s = schema_snapshot(db_url);
            CU_ASSERT_SAME_TEXT(s, empty);
            free(s);
        }
        expect_status(0, "migrations run");
        char *s = schema_snapshot(db_url);
        if (strcmp(s, clean) != 0)
            fprintf(stderr, "\n  after `%s` and `migrations run`:", back[i]);
        CU_ASSERT_SAME_TEXT(s, clean);
        free(s);
    }
    free(empty);
    free(clean);
out:
    end_test();
}

/* ---- a failing operation ---- */

/* 001 makes a table `base` with duplicate names. 002's fourth operation
 * (add_unique on those names) fails on the server after a table, a column
 * and an index were made. */
static void write_failing_migrations(int transaction, int fixed)
{
    write_migration("001_base",
                    "{\"up\": [{\"op\": \"create_table\", \"table\": \"base\", \"columns\": "
                    "[{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}, "
                    "{\"name\": \"name\", \"type\": \"string\"}]}, {\"op\": \"insert\", "
                    "\"table\": \"base\", \"rows\": [{\"id\": 1, \"name\": \"dup\"}, {\"id\": 2, "
                    "\"name\": \"dup\"}]}]}");
    char *m = fmt("{\"transaction\": %s, \"up\": [{\"op\": \"create_table\", \"table\": "
                  "\"extra\", \"columns\": [{\"name\": \"id\", \"type\": \"serial\", "
                  "\"primary_key\": true}, {\"name\": \"base_id\", \"type\": \"integer\", "
                  "\"references\": {\"table\": \"base\"}}]}, {\"op\": \"add_column\", "
                  "\"table\": \"base\", \"column\": {\"name\": \"code\", \"type\": \"string\", "
                  "\"length\": 20}}, {\"op\": \"create_index\", \"table\": \"base\", \"name\": "
                  "\"base_code\", \"columns\": [\"code\"]}, {\"op\": \"add_unique\", \"table\": "
                  "\"base\", \"name\": \"base_uq\", \"columns\": [\"%s\"]}]}",
                  transaction ? "true" : "false", fixed ? "id" : "name");
    write_migration("002_failing", m);
    free(m);
}

static void check_failing_op(int transaction)
{
    write_failing_migrations(transaction, 0);
    expect_status(0, "migrations run --to 001");
    char *before = schema_snapshot(db_url);
    char *hist = history_of(db_url);
    char *out = NULL;
    int st = strata(&out, "migrations run");
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_STR_CONTAINS(out, "002_failing");
    CU_ASSERT_STR_CONTAINS(out, "up[3]");
    CU_ASSERT_STR_CONTAINS(out, "SQL: ");
    CU_ASSERT_STR_CONTAINS(out, "base_uq");
    CU_ASSERT_STR_CONTAINS(
        out, by_dialect("is duplicated", "Duplicate entry", "UNIQUE constraint failed"));
    free(out);
    char *after = schema_snapshot(db_url);
    char *hist_after = history_of(db_url);
    CU_ASSERT_SAME_TEXT(after, before);
    CU_ASSERT_SAME_TEXT(hist_after, hist);
    free(after);
    free(hist_after);
    /* the runner carries on normally once the file is fixed */
    expect_status(1, "migrations show");
    write_failing_migrations(transaction, 1);
    expect_status(0, "migrations run");
    expect_status(0, "migrations show");
    CU_ASSERT_EQUAL(scalar_at(db_url, "SELECT count(*) FROM strata_migrations WHERE state = "
                                      "'applied'"),
                    2);
    /* and it reverts back to the same schema */
    expect_status(0, "migrations revert");
    after = schema_snapshot(db_url);
    CU_ASSERT_SAME_TEXT(after, before);
    free(after);
    free(before);
    free(hist);
}

static void test_failing_op_undone(void)
{
    if (begin_test("fail"))
        check_failing_op(1);
    end_test();
}

static void test_failing_op_undone_no_transaction(void)
{
    if (begin_test("failnt"))
        check_failing_op(0);
    end_test();
}

/* A foreign key added over rows one of which matches nothing fails and
 * changes nothing (MySQL: Strata's own check, naming the row); one added
 * over good rows is enforced afterwards (MySQL: foreign_key_checks, off for
 * the ALTER, is on again for what follows). */
static void test_foreign_key_over_rows(void)
{
    if (!begin_test("fkrows"))
        goto out;
    write_migration("001_tables",
                    "{\"up\": [{\"op\": \"create_table\", \"table\": \"p\", \"columns\": "
                    "[{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}]}, "
                    "{\"op\": \"create_table\", \"table\": \"c\", \"columns\": [{\"name\": "
                    "\"id\", \"type\": \"integer\", \"primary_key\": true}, {\"name\": "
                    "\"pid\", \"type\": \"integer\"}]}, {\"op\": \"insert\", \"table\": "
                    "\"p\", \"rows\": [{\"id\": 1}]}, {\"op\": \"insert\", \"table\": \"c\", "
                    "\"rows\": [{\"id\": 1, \"pid\": 1}, {\"id\": 2, \"pid\": null}, {\"id\": 3, "
                    "\"pid\": 7}]}]}");
    write_migration("002_fk", "{\"up\": [{\"op\": \"add_foreign_key\", \"table\": \"c\", "
                              "\"name\": \"c_p_fk\", \"columns\": [\"pid\"], \"references\": "
                              "{\"table\": \"p\", \"columns\": [\"id\"]}}]}");
    expect_status(0, "migrations run --to 001");
    char *before = schema_snapshot(db_url);
    char *out = NULL;
    CU_ASSERT_EQUAL(strata(&out, "migrations run"), 1);
    CU_ASSERT_STR_CONTAINS(out, "002_fk: up[0] (add_foreign_key)");
    if (test_dialect == STRATA_MYSQL)
        CU_ASSERT_STR_CONTAINS(out, "matches no row of 'p' (the first: pid = 7)");
    free(out);
    char *after = schema_snapshot(db_url);
    CU_ASSERT_SAME_TEXT(after, before);
    free(after);
    free(before);
    /* without the bad row it is added, and enforced for what comes next */
    exec_at(db_url, "DELETE FROM c WHERE id = 3");
    write_migration("002_fk",
                    "{\"up\": [{\"op\": \"add_foreign_key\", \"table\": \"c\", \"name\": "
                    "\"c_p_fk\", \"columns\": [\"pid\"], \"references\": {\"table\": \"p\", "
                    "\"columns\": [\"id\"]}}, {\"op\": \"insert\", \"table\": \"c\", "
                    "\"rows\": [{\"id\": 4, \"pid\": 9}]}]}");
    CU_ASSERT_EQUAL(strata(&out, "migrations run"), 1);
    /* (SQLite, whose foreign keys are off for the rebuild, checks them all
     * before the commit, then finds the op that broke one) */
    CU_ASSERT_STR_CONTAINS(out, "002_fk: up[1] (insert)");
    free(out);
    CU_ASSERT_EQUAL(scalar_at(db_url, "SELECT count(*) FROM c"), 2);
out:
    end_test();
}

/* --single-transaction: every pending migration in one transaction, all or
 * none (PostgreSQL, SQLite); refused on MySQL/MariaDB, changing nothing. */
static void test_single_transaction(void)
{
    if (!begin_test("single"))
        goto out;
    write_migration("001_a", "{\"up\": [{\"op\": \"create_table\", \"table\": \"a\", "
                             "\"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
                             "\"primary_key\": true}]}]}");
    write_migration("002_b", "{\"up\": [{\"op\": \"add_column\", \"table\": \"a\", "
                             "\"column\": {\"name\": \"x\", \"type\": \"integer\"}}, "
                             "{\"op\": \"add_check\", \"table\": \"a\", \"name\": \"a_x\", "
                             "\"check\": {\"column\": \"x\", \"gt\": 0}}]}");
    write_migration("003_bad", "{\"up\": [{\"op\": \"insert\", \"table\": \"a\", "
                               "\"rows\": [{\"id\": 1, \"x\": -5}]}]}");
    char *before = schema_snapshot(db_url);
    char *out = NULL;
    int st = strata(&out, "migrations run --single-transaction");
    if (test_dialect == STRATA_MYSQL) {
        CU_ASSERT_EQUAL(st, 2);
        CU_ASSERT_STR_CONTAINS(out, "--single-transaction");
    } else {
        CU_ASSERT_EQUAL(st, 1);
        CU_ASSERT_STR_CONTAINS(out, "003_bad: up[0] (insert)");
        CU_ASSERT_STR_CONTAINS(out, "rolled back with the other migrations");
    }
    free(out);
    char *after = schema_snapshot(db_url);
    CU_ASSERT_SAME_TEXT(after, before);
    free(after);
    CU_ASSERT_EQUAL(scalar_at(db_url, "SELECT count(*) FROM strata_migrations"), 0);
    if (test_dialect != STRATA_MYSQL) {
        write_migration("003_bad", "{\"up\": [{\"op\": \"insert\", \"table\": \"a\", "
                                   "\"rows\": [{\"id\": 1, \"x\": 5}]}]}");
        expect_status(0, "migrations run --single-transaction");
        CU_ASSERT_EQUAL(scalar_at(db_url, "SELECT count(*) FROM strata_migrations WHERE state = "
                                          "'applied'"),
                        3);
        expect_status(0, "migrations revert --all --single-transaction");
        after = schema_snapshot(db_url);
        CU_ASSERT_SAME_TEXT(after, before);
        free(after);
    }
    if (test_dialect == STRATA_POSTGRES) {
        /* an "online" index runs outside any transaction: refused, nothing made */
        write_migration("004_online", "{\"up\": [{\"op\": \"create_index\", \"table\": "
                                      "\"a\", \"name\": \"a_x_idx\", \"columns\": [\"x\"], "
                                      "\"online\": true}]}");
        out = NULL;
        CU_ASSERT_EQUAL(strata(&out, "migrations run --single-transaction"), 2);
        CU_ASSERT_STR_CONTAINS(out, "004_online holds an \"online\" operation");
        free(out);
        CU_ASSERT_EQUAL(scalar_at(db_url, "SELECT count(*) FROM strata_migrations"), 0);
    }
    free(before);
out:
    end_test();
}

/* A revert whose third down operation fails is undone too: the migration
 * stays applied and the schema as it was. */
static void test_failing_revert_undone(void)
{
    if (!begin_test("failrev"))
        goto out;
    write_migration("001_base", "{\"up\": [{\"op\": \"create_table\", \"table\": \"base\", "
                                "\"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
                                "\"primary_key\": true}]}]}");
    write_migration("002_change",
                    "{\"up\": [{\"op\": \"add_column\", \"table\": \"base\", \"column\": "
                    "{\"name\": \"code\", \"type\": \"string\"}}, {\"op\": \"create_index\", "
                    "\"table\": \"base\", \"name\": \"base_code\", \"columns\": [\"code\"]}], "
                    "\"down\": [{\"op\": \"drop_index\", \"table\": \"base\", \"name\": "
                    "\"base_code\"}, {\"op\": \"drop_column\", \"table\": \"base\", \"column\": "
                    "\"code\"}, {\"op\": \"sql\", \"all\": \"INSERT INTO no_such_table VALUES "
                    "(1)\"}]}");
    expect_status(0, "migrations run");
    char *schema = schema_snapshot(db_url);
    char *hist = history_of(db_url);
    char *out = NULL;
    CU_ASSERT_EQUAL(strata(&out, "migrations revert"), 1);
    CU_ASSERT_STR_CONTAINS(out, "002_change");
    CU_ASSERT_STR_CONTAINS(out, "down[2]");
    CU_ASSERT_STR_CONTAINS(out, "no_such_table");
    free(out);
    char *s2 = schema_snapshot(db_url);
    char *h2 = history_of(db_url);
    CU_ASSERT_SAME_TEXT(s2, schema);
    CU_ASSERT_SAME_TEXT(h2, hist);
    free(s2);
    free(h2);
    expect_status(0, "migrations show");
    expect_status(0, "migrations run");
    free(schema);
    free(hist);
out:
    end_test();
}

/* ---- checksums ---- */

static const char checksum_original[] =
    "{\"description\": \"people\", \"up\": [{\"op\": \"create_table\", \"table\": \"person\", "
    "\"columns\": [{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true}, {\"name\": "
    "\"name\", \"type\": \"string\", \"length\": 80}]}]}";
/* the same migration: other whitespace, other key order */
static const char checksum_reformatted[] = "{\n"
                                           "    \"up\": [\n"
                                           "        {\n"
                                           "            \"table\": \"person\",\n"
                                           "            \"op\": \"create_table\",\n"
                                           "            \"columns\": [\n"
                                           "                {\"primary_key\": true, \"type\": "
                                           "\"serial\", \"name\": \"id\"},\n"
                                           "                {\"length\": 80,\n\t\t\"name\": "
                                           "\"name\", \"type\": \"string\"}\n"
                                           "            ]\n"
                                           "        }\n"
                                           "    ],\r\n"
                                           "    \"description\": \"people\"\n"
                                           "}\n";
/* a change of meaning */
static const char checksum_edited[] =
    "{\"description\": \"people\", \"up\": [{\"op\": \"create_table\", \"table\": \"person\", "
    "\"columns\": [{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true}, {\"name\": "
    "\"name\", \"type\": \"string\", \"length\": 81}]}]}";

static void test_checksums(void)
{
    if (!begin_test("sum"))
        goto out;
    write_migration("001_people", checksum_original);
    expect_status(0, "migrations run");
    expect_status(0, "migrations validate");

    write_migration("001_people", checksum_reformatted);
    char *out = NULL;
    CU_ASSERT_EQUAL(strata(&out, "migrations show"), 0);
    CU_ASSERT_STR_CONTAINS(out, "[X] 001_people");
    free(out);
    expect_status(0, "migrations validate");
    expect_status(0, "migrations run");

    write_migration("001_people", checksum_edited);
    CU_ASSERT_EQUAL(strata(&out, "migrations show"), 1);
    CU_ASSERT_STR_CONTAINS(out, "[!] 001_people");
    free(out);
    int st = strata(&out, "migrations validate");
    CU_ASSERT(st != 0);
    CU_ASSERT_STR_CONTAINS(out, "001_people");
    free(out);
    /* a run does not carry on over a changed migration */
    st = strata(&out, "migrations run");
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_STR_CONTAINS(out, "001_people");
    free(out);
    int js = 0;
    json_t *j = strata_json("migrations show", &js);
    CU_ASSERT_EQUAL(js, 1);
    json_t *m0 = json_array_get(json_object_get(j, "migrations"), 0);
    CU_ASSERT_JSON_STR(m0, "status", "changed");
    json_decref(j);

    /* repair realigns the checksum with the edited file (as Flyway's) */
    CU_ASSERT_EQUAL(strata(&out, "migrations repair"), 0);
    CU_ASSERT_STR_CONTAINS(out, "001_people");
    free(out);
    expect_status(0, "migrations show");
    expect_status(0, "migrations validate");

    write_migration("001_people", checksum_original);
    CU_ASSERT_EQUAL(strata(&out, "migrations show"), 1);
    CU_ASSERT_STR_CONTAINS(out, "[!] 001_people");
    free(out);
    expect_status(0, "migrations repair");
    expect_status(0, "migrations show");
out:
    end_test();
}

/* ---- irreversible migrations ---- */

static void check_irreversible(const char *irreversible_json)
{
    write_migration("001_a", "{\"up\": [{\"op\": \"create_table\", \"table\": \"a\", "
                             "\"columns\": [{\"name\": \"id\", \"type\": \"serial\", "
                             "\"primary_key\": true}]}]}");
    write_migration("002_b", irreversible_json);
    write_migration("003_c", "{\"up\": [{\"op\": \"create_table\", \"table\": \"c\", "
                             "\"columns\": [{\"name\": \"id\", \"type\": \"serial\", "
                             "\"primary_key\": true}]}]}");
    write_migration("004_d", "{\"up\": [{\"op\": \"create_table\", \"table\": \"d\", "
                             "\"columns\": [{\"name\": \"id\", \"type\": \"serial\", "
                             "\"primary_key\": true}]}]}");
    expect_status(0, "migrations run");
    char *schema = schema_snapshot(db_url);
    char *hist = history_of(db_url);
    static const char *const spans[] = {"migrations revert --all", "migrations revert --steps 3",
                                        "migrations revert --to 001",
                                        "migrations revert --all --dry-run"};
    for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++) {
        char *out = NULL;
        int st = strata(&out, spans[i]);
        if (st != 1)
            fprintf(stderr, "\n  %s: exit %d\n%s\n", spans[i], st, out ? out : "");
        CU_ASSERT_EQUAL(st, 1);
        CU_ASSERT_STR_CONTAINS(out, "002_b");
        CU_ASSERT_PTR_NULL(strstr(out, "reverted 004_d"));
        free(out);
        char *s = schema_snapshot(db_url);
        char *h = history_of(db_url);
        CU_ASSERT_SAME_TEXT(s, schema);
        CU_ASSERT_SAME_TEXT(h, hist);
        free(s);
        free(h);
    }
    /* reverting the reversible ones above it works, one at a time */
    expect_status(0, "migrations revert --steps 2");
    CU_ASSERT(!table_exists_at(db_url, "c"));
    CU_ASSERT(!table_exists_at(db_url, "d"));
    char *before = schema_snapshot(db_url);
    char *out = NULL;
    CU_ASSERT_EQUAL(strata(&out, "migrations revert"), 1);
    CU_ASSERT_STR_CONTAINS(out, "002_b");
    CU_ASSERT_STR_CONTAINS(out, "cannot be reverted");
    free(out);
    char *after = schema_snapshot(db_url);
    CU_ASSERT_SAME_TEXT(after, before);
    CU_ASSERT(table_exists_at(db_url, "b"));
    CU_ASSERT_EQUAL(scalar_at(db_url, "SELECT count(*) FROM strata_migrations"), 2);
    free(before);
    free(after);
    free(schema);
    free(hist);
}

static void test_irreversible_sql(void)
{
    if (begin_test("irrsql"))
        check_irreversible("{\"up\": [{\"op\": \"sql\", \"all\": \"CREATE TABLE b (id integer "
                           "PRIMARY KEY)\"}]}");
    end_test();
}

static void test_irreversible_declared(void)
{
    if (begin_test("irrdecl"))
        check_irreversible("{\"down\": \"irreversible\", \"up\": [{\"op\": \"create_table\", "
                           "\"table\": \"b\", \"columns\": [{\"name\": \"id\", \"type\": "
                           "\"serial\", \"primary_key\": true}]}]}");
    end_test();
}

static void test_revert_nothing(void)
{
    if (!begin_test("revnone"))
        goto out;
    write_migration("001_a", "{\"up\": [{\"op\": \"create_table\", \"table\": \"a\", "
                             "\"columns\": [{\"name\": \"id\", \"type\": \"serial\", "
                             "\"primary_key\": true}]}]}");
    char *out = NULL;
    CU_ASSERT_EQUAL(strata(&out, "migrations revert"), 0);
    CU_ASSERT_STR_CONTAINS(out, "nothing to revert");
    free(out);
out:
    end_test();
}

/* ---- out of order ---- */

static void test_out_of_order(void)
{
    if (!begin_test("ooo"))
        goto out;
    write_migration("20240101000000_one", "{\"up\": [{\"op\": \"create_table\", \"table\": "
                                          "\"one\", \"columns\": [{\"name\": \"id\", \"type\": "
                                          "\"integer\"}]}]}");
    write_migration("20240301000000_three", "{\"up\": [{\"op\": \"create_table\", \"table\": "
                                            "\"three\", \"columns\": [{\"name\": \"id\", "
                                            "\"type\": \"integer\"}]}]}");
    expect_status(0, "migrations run");
    /* a branch merged later brings an older migration */
    write_migration("20240201000000_two", "{\"up\": [{\"op\": \"create_table\", \"table\": "
                                          "\"two\", \"columns\": [{\"name\": \"id\", \"type\": "
                                          "\"integer\"}]}]}");
    char *hist = history_of(db_url);
    char *out = NULL;
    CU_ASSERT_EQUAL(strata(&out, "migrations run"), 1);
    CU_ASSERT_STR_CONTAINS(out, "20240201000000_two");
    CU_ASSERT_STR_CONTAINS(out, "--allow-out-of-order");
    free(out);
    CU_ASSERT(!table_exists_at(db_url, "two"));
    char *h = history_of(db_url);
    CU_ASSERT_SAME_TEXT(h, hist);
    free(h);
    CU_ASSERT_EQUAL(strata(&out, "migrations show"), 1);
    CU_ASSERT_STR_CONTAINS(out, "[ ] 20240201000000_two");
    free(out);
    CU_ASSERT_EQUAL(strata(&out, "migrations run --allow-out-of-order"), 0);
    CU_ASSERT_STR_CONTAINS(out, "20240201000000_two");
    free(out);
    CU_ASSERT(table_exists_at(db_url, "two"));
    expect_status(0, "migrations show");
    free(hist);
out:
    end_test();
}

/* ---- dry runs, show, JSON ---- */

static const char people_json[] =
    "{\"description\": \"people and pets\", \"up\": [{\"op\": \"create_table\", \"table\": "
    "\"person\", \"columns\": [{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true}, "
    "{\"name\": \"name\", \"type\": \"string\"}]}, {\"op\": \"create_table\", \"table\": "
    "\"pet\", \"columns\": [{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true}, "
    "{\"name\": \"owner_id\", \"type\": \"integer\", \"references\": {\"table\": \"person\"}}]}]}";
static const char toys_json[] =
    "{\"up\": [{\"op\": \"add_column\", \"table\": \"pet\", \"column\": {\"name\": \"toy\", "
    "\"type\": \"string\"}}, {\"op\": \"create_index\", \"table\": \"pet\", \"name\": "
    "\"pet_toy\", \"columns\": [\"toy\"]}]}";

static void test_dry_run(void)
{
    if (!begin_test("dry"))
        goto out;
    write_migration("001_people", people_json);
    write_migration("002_toys", toys_json);
    char *out = NULL;
    CU_ASSERT_EQUAL(strata(&out, "migrations run --dry-run"), 0);
    CU_ASSERT_STR_CONTAINS(out, "001_people");
    CU_ASSERT_STR_CONTAINS(out, "CREATE TABLE");
    CU_ASSERT_STR_CONTAINS(out, "pet_toy");
    free(out);
    /* nothing at all was made, not even the history table, nor on SQLite
     * the database file */
    if (test_dialect == STRATA_SQLITE)
        CU_ASSERT(access(db_url + strlen("sqlite:"), F_OK) != 0);
    CU_ASSERT(!table_exists_at(db_url, "person"));
    CU_ASSERT(!table_exists_at(db_url, "strata_migrations"));
    CU_ASSERT_EQUAL(strata(&out, "migrations show"), 1);
    CU_ASSERT_STR_CONTAINS(out, "[ ] 001_people");
    CU_ASSERT_STR_CONTAINS(out, "[ ] 002_toys");
    free(out);

    expect_status(0, "migrations run --to 001");
    CU_ASSERT_EQUAL(strata(&out, "migrations run --dry-run"), 0);
    CU_ASSERT_PTR_NULL(strstr(out, "-- migration 001_people"));
    CU_ASSERT_STR_CONTAINS(out, "002_toys");
    free(out);
    expect_status(0, "migrations run");
    char *schema = schema_snapshot(db_url);
    char *hist = history_of(db_url);
    CU_ASSERT_EQUAL(strata(&out, "migrations revert --steps 2 --dry-run"), 0);
    CU_ASSERT_STR_CONTAINS(out, "002_toys");
    CU_ASSERT_STR_CONTAINS(out, "001_people");
    CU_ASSERT_STR_CONTAINS(out, "DROP TABLE");
    free(out);
    char *s = schema_snapshot(db_url);
    char *h = history_of(db_url);
    CU_ASSERT_SAME_TEXT(s, schema);
    CU_ASSERT_SAME_TEXT(h, hist);
    free(s);
    free(h);
    free(schema);
    free(hist);
out:
    end_test();
}

static void test_show_and_json(void)
{
    if (!begin_test("show"))
        goto out;
    write_migration("001_people", people_json);
    write_migration("002_toys", toys_json);
    char *out = NULL;
    CU_ASSERT_EQUAL(strata(&out, "migrations show"), 1);
    CU_ASSERT_STR_CONTAINS(out, "[ ] 001_people\n");
    CU_ASSERT_STR_CONTAINS(out, "[ ] 002_toys\n");
    free(out);

    int st = 0;
    json_t *j = strata_json("migrations show", &st);
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "pending")), 2);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "migrations")), 2);
    json_decref(j);

    j = strata_json("migrations run --to 001", &st);
    CU_ASSERT_EQUAL(st, 0);
    json_t *applied = json_object_get(j, "applied");
    CU_ASSERT_EQUAL(json_array_size(applied), 1);
    json_t *a0 = json_array_get(applied, 0);
    CU_ASSERT_JSON_STR(a0, "id", "001_people");
    CU_ASSERT_JSON_STR(a0, "status", "applied");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(a0, "ops_total")), 2);
    CU_ASSERT(json_is_array(json_object_get(j, "warnings")));
    json_decref(j);

    CU_ASSERT_EQUAL(strata(&out, "migrations show"), 1);
    CU_ASSERT_STR_CONTAINS(out, "[X] 001_people  ");
    CU_ASSERT_STR_CONTAINS(out, "[ ] 002_toys\n");
    free(out);

    j = strata_json("migrations run", &st);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "applied")), 1);
    json_decref(j);

    j = strata_json("migrations show", &st);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "pending")), 0);
    json_t *ms = json_object_get(j, "migrations");
    CU_ASSERT_EQUAL(json_array_size(ms), 2);
    for (size_t i = 0; i < json_array_size(ms); i++) {
        json_t *m = json_array_get(ms, i);
        CU_ASSERT_JSON_STR(m, "status", "applied");
        CU_ASSERT(json_is_string(json_object_get(m, "applied_at")));
    }
    CU_ASSERT_JSON_STR(json_array_get(ms, 0), "description", "people and pets");
    json_decref(j);

    j = strata_json("migrations run", &st);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "applied")), 0);
    json_decref(j);

    j = strata_json("migrations revert", &st);
    CU_ASSERT_EQUAL(st, 0);
    json_t *rev = json_object_get(j, "reverted");
    CU_ASSERT_EQUAL(json_array_size(rev), 1);
    CU_ASSERT_JSON_STR(json_array_get(rev, 0), "id", "002_toys");
    json_decref(j);

    /* errors are JSON too */
    write_migration("002_toys", "{\"up\": [{\"op\": \"sql\", \"all\": \"SELECT 1\"}], "
                                "\"down\": \"irreversible\"}");
    expect_status(0, "migrations run");
    j = strata_json("migrations revert", &st);
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT(json_is_string(json_object_get(j, "error")));
    json_decref(j);

    CU_ASSERT_EQUAL(strata(&out, "migrations show"), 0);
    CU_ASSERT_STR_CONTAINS(out, "[X] 002_toys  ");
    free(out);
out:
    end_test();
}

/* ---- migration create ---- */

static void test_migration_create(void)
{
    if (!begin_test("create"))
        goto out;
    char lo[32], hi[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(lo, sizeof lo, "%Y%m%d%H%M%S", &tm);
    char *out = NULL;
    CU_ASSERT_EQUAL(strata(&out, "migration create add_widgets"), 0);
    t = time(NULL);
    gmtime_r(&t, &tm);
    strftime(hi, sizeof hi, "%Y%m%d%H%M%S", &tm);
    const char *p = out ? strstr(out, mig_dir) : NULL;
    CU_ASSERT_PTR_NOT_NULL(p);
    if (p) {
        p += strlen(mig_dir) + 1;
        char stamp[15];
        snprintf(stamp, sizeof stamp, "%s", p);
        CU_ASSERT_EQUAL(strspn(stamp, "0123456789"), 14);
        CU_ASSERT(strcmp(stamp, lo) >= 0 && strcmp(stamp, hi) <= 0);
        CU_ASSERT_EQUAL(strncmp(p + 14, "_add_widgets.json", 17), 0);
        char *path = fmt("%s/%.31s", mig_dir, p);
        json_error_t err;
        json_t *j = json_load_file(path, 0, &err);
        CU_ASSERT_PTR_NOT_NULL(j);
        CU_ASSERT(json_is_array(json_object_get(j, "up")));
        CU_ASSERT(json_is_array(json_object_get(j, "down")));
        json_decref(j);
        free(path);
    }
    free(out);
    /* a bad name is bad usage */
    expect_status(2, "migration create 'bad name'");
out:
    end_test();
}

/* ---- the lock ---- */

/* Something another session holds so that a migration can be made to wait
 * in the middle (a "gate"), with statements to take and give it. */
static char *gate_name(void)
{
    const char *slash = strrchr(db_url, '/');
    return fmt("gate_%.*s", (int)strcspn(slash + 1, "?"), slash + 1);
}

/* A long statement for SQLite, where a migration cannot wait for a gate:
 * the runner is killed in the middle of it. */
#define SQLITE_SLOW_SQL                                                                            \
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 2000000000) "        \
    "SELECT count(*) FROM c"

static void test_lock(void)
{
    strata_conn *gate = NULL;
    if (!begin_test("lock") || !(gate = test_connect(db_url))) {
        CU_FAIL("no database");
        goto out;
    }
    char *out = NULL;
    write_migration("001_a", "{\"up\": [{\"op\": \"create_table\", \"table\": \"a\", "
                             "\"columns\": [{\"name\": \"id\", \"type\": \"serial\", "
                             "\"primary_key\": true}]}]}");
    expect_status(0, "migrations run");
    CU_ASSERT_EQUAL(strata(&out, "lock status"), 0);
    CU_ASSERT_STR_CONTAINS(out, "free");
    free(out);

    /* a strata run that holds the lock while it waits inside 002: at a
     * gate the test holds (PostgreSQL, MySQL), or in a long statement */
    char *gname = gate_name();
    char *log = fmt("%s/holder.log", mig_dir);
    if (test_dialect != STRATA_SQLITE) {
        char *take = fmt(test_dialect == STRATA_POSTGRES ? "SELECT pg_advisory_lock(hashtext('%s'))"
                                                         : "SELECT GET_LOCK('%s', 0)",
                         gname);
        test_exec(gate, take);
        free(take);
    }
    char *m = fmt("{\"up\": [{\"op\": \"sql\", \"postgres\": \"SELECT "
                  "pg_advisory_xact_lock(hashtext('%s'))\", \"mysql\": [\"DO GET_LOCK('%s', "
                  "300)\", \"DO RELEASE_LOCK('%s')\"], \"sqlite\": \"" SQLITE_SLOW_SQL "\"}, "
                  "{\"op\": \"create_table\", \"table\": \"b\", \"columns\": [{\"name\": \"id\", "
                  "\"type\": \"integer\"}]}]}",
                  gname, gname, gname);
    write_migration("002_waits", m);
    free(m);
    pid_t holder = spawn_strata(db_url, log, "migrations", "run", NULL);
    for (int i = 0; i < 600; i++) {
        strata(&out, "lock status");
        int held = out && strstr(out, "held by") != NULL;
        free(out);
        if (held)
            break;
        sleep_s(0.1);
    }
    /* the lock is held; who holds it is said, with its lease; --lock-timeout
     * gives up (naming the session that holds the session lock, where the
     * database has those) */
    CU_ASSERT_EQUAL(strata(&out, "lock status"), 0);
    CU_ASSERT_STR_CONTAINS(out, "held by run ");
    CU_ASSERT_STR_CONTAINS(out, "pid ");
    CU_ASSERT_STR_CONTAINS(out, "; lease until ");
    free(out);
    /* a live holder's lock is not released without --force */
    CU_ASSERT_EQUAL(strata(&out, "lock release"), 1);
    CU_ASSERT_STR_CONTAINS(out, "which is alive");
    CU_ASSERT_STR_CONTAINS(out, "--force");
    free(out);
    write_migration("003_c", "{\"up\": [{\"op\": \"create_table\", \"table\": \"c\", "
                             "\"columns\": [{\"name\": \"id\", \"type\": \"integer\"}]}]}");
    CU_ASSERT_EQUAL(strata(&out, "migrations run --lock-timeout 1"), 1);
    CU_ASSERT_STR_CONTAINS(out, "waiting for the migration lock, held by");
    CU_ASSERT_STR_CONTAINS(out, test_dialect == STRATA_MYSQL ? "connection " : "pid ");
    CU_ASSERT_STR_CONTAINS(out, "--lock-timeout");
    free(out);
    CU_ASSERT(!table_exists_at(db_url, "c"));

    /* a killed holder never blocks the next run: the lock row says it is
     * free once the holder's process (and on PostgreSQL, its session) is
     * gone */
    kill(holder, SIGKILL);
    CU_ASSERT_EQUAL(wait_child(holder), 128 + SIGKILL);
    if (test_dialect == STRATA_SQLITE) {
        CU_ASSERT_EQUAL(strata(&out, "lock status"), 0);
        CU_ASSERT_STR_CONTAINS(out, "free: run ");
        CU_ASSERT_STR_CONTAINS(out, "is gone (the next run takes it over)");
        free(out);
    }
    if (test_dialect == STRATA_POSTGRES) {
        /* even while its session is still inside a statement (at the gate):
         * the server notices the dead client (client_connection_check_interval) */
        int freed = 0;
        for (int i = 0; i < 300 && !freed; i++) {
            strata(&out, "lock status");
            freed = out && strstr(out, "free") != NULL;
            free(out);
            if (!freed)
                sleep_s(0.1);
        }
        CU_ASSERT(freed);
    }
    if (test_dialect == STRATA_SQLITE) /* 002 never committed: make it quick */
        write_migration("002_waits", "{\"up\": [{\"op\": \"sql\", \"all\": \"SELECT 1\"}, "
                                     "{\"op\": \"create_table\", \"table\": \"b\", \"columns\": "
                                     "[{\"name\": \"id\", \"type\": \"integer\"}]}]}");
    else
        strata_conn_close(gate); /* opens the gate */
    CU_ASSERT_EQUAL(strata(&out, "migrations run"), 0);
    free(out);
    CU_ASSERT(table_exists_at(db_url, "b"));
    CU_ASSERT(table_exists_at(db_url, "c"));
    CU_ASSERT_EQUAL(strata(&out, "lock status"), 0);
    CU_ASSERT_STR_CONTAINS(out, "free");
    free(out);

    if (test_dialect == STRATA_SQLITE) {
        /* any other process writing holds SQLite's write lock, which a
         * runner must wait for as well */
        test_exec(gate, "BEGIN IMMEDIATE");
        CU_ASSERT_EQUAL(strata(&out, "lock status"), 0);
        CU_ASSERT_STR_CONTAINS(out, "held by another process writing");
        free(out);
        write_migration("004_d", "{\"up\": [{\"op\": \"create_table\", \"table\": \"d\", "
                                 "\"columns\": [{\"name\": \"id\", \"type\": \"integer\"}]}]}");
        CU_ASSERT_EQUAL(strata(&out, "migrations run --lock-timeout 1"), 1);
        CU_ASSERT_STR_CONTAINS(out, "held by another process writing");
        CU_ASSERT_STR_CONTAINS(out, "--lock-timeout");
        free(out);
        CU_ASSERT(!table_exists_at(db_url, "d"));
        strata_conn_exec(gate, "ROLLBACK");
        strata_conn_close(gate);
        /* a writer that is killed while it holds the write lock */
        unlink(log);
        fflush(NULL);
        holder = fork();
        if (holder == 0) {
            strata_conn *c = NULL;
            if (strata_conn_open(&c, db_url) == 0 && strata_conn_exec(c, "BEGIN IMMEDIATE") == 0) {
                FILE *f = fopen(log, "w");
                if (f)
                    fclose(f);
                for (;;)
                    pause();
            }
            _exit(1);
        }
        for (int i = 0; i < 600 && access(log, F_OK) != 0; i++)
            sleep_s(0.05);
        CU_ASSERT_EQUAL(strata(&out, "lock status"), 0);
        CU_ASSERT_STR_CONTAINS(out, "held by another process writing");
        free(out);
        kill(holder, SIGKILL);
        CU_ASSERT_EQUAL(wait_child(holder), 128 + SIGKILL);
        expect_status(0, "migrations run");
        CU_ASSERT(table_exists_at(db_url, "d"));
    }
    expect_status(0, "migrations show");
    unlink(log);
    free(log);
    free(gname);
out:
    end_test();
}

/*
 * A second runner can never drop what a live first runner made. While A is
 * inside 002 (its history row says running, the table its first op made is
 * there), other runners give up at --lock-timeout without touching
 * anything: on this host, and as if on another host (STRATA_LOCK_HOST_ID),
 * where only A's lease tells that it is alive. A then finishes (SQLite,
 * where it waits in a long statement: it is killed, and the next run
 * recovers 002). No lock file is ever made beside a SQLite database.
 */
static void test_live_holder_kept(void)
{
    strata_conn *gate = NULL;
    if (!begin_test("live") || !(gate = test_connect(db_url))) {
        CU_FAIL("no database");
        goto out;
    }
    char *gname = gate_name();
    write_migration("001_base", "{\"up\": [{\"op\": \"create_table\", \"table\": \"base\", "
                                "\"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
                                "\"primary_key\": true}]}]}");
    expect_status(0, "migrations run");
    char *m =
        fmt("{\"transaction\": false, \"up\": [{\"op\": \"create_table\", \"table\": "
            "\"made\", \"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
            "\"primary_key\": true}]}, {\"op\": \"sql\", \"postgres\": [\"SELECT "
            "pg_advisory_lock(hashtext('%s'))\", \"SELECT pg_advisory_unlock(hashtext('%s'))\"], "
            "\"mysql\": [\"DO GET_LOCK('%s', 300)\", \"DO RELEASE_LOCK('%s')\"], \"sqlite\": "
            "\"" SQLITE_SLOW_SQL "\"}, {\"op\": \"create_table\", \"table\": \"later\", "
            "\"columns\": [{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": "
            "true}]}]}",
            gname, gname, gname, gname);
    write_migration("002_live", m);
    free(m);
    if (test_dialect != STRATA_SQLITE) {
        char *take = fmt(test_dialect == STRATA_POSTGRES ? "SELECT pg_advisory_lock(hashtext('%s'))"
                                                         : "SELECT GET_LOCK('%s', 0)",
                         gname);
        test_exec(gate, take);
        free(take);
    }
    char *log = fmt("%s/a.log", mig_dir);
    pid_t a = spawn_strata(db_url, log, "migrations", "run", NULL);
    int inside = 0;
    for (int i = 0; i < 600 && !inside; i++) {
        char *h = history_of(db_url);
        inside = strstr(h, "002_live|running|up|1|3") != NULL;
        free(h);
        if (!inside)
            sleep_s(0.05);
    }
    CU_ASSERT(inside);
    char *before = history_of(db_url);
    for (int k = 0; k < 4; k++) {
        char host[32];
        snprintf(host, sizeof host, "elsewhere-%d", k);
        if (k % 2) {
            setenv("STRATA_LOCK_HOST_ID", host, 1);
            setenv("STRATA_LOCK_LEASE", "1", 1);
        }
        char *out = NULL;
        int st = strata(&out, "migrations run --lock-timeout 2");
        unsetenv("STRATA_LOCK_HOST_ID");
        unsetenv("STRATA_LOCK_LEASE");
        if (st != 1 || strstr(out, "recovering") || strstr(out, "took over"))
            fprintf(stderr, "\n  runner %d beside a live one: exit %d:\n%s\n", k, st, out);
        CU_ASSERT_EQUAL(st, 1);
        CU_ASSERT_STR_CONTAINS(out, "--lock-timeout");
        CU_ASSERT_PTR_NULL(strstr(out, "recovering"));
        CU_ASSERT_PTR_NULL(strstr(out, "undoing"));
        CU_ASSERT_PTR_NULL(strstr(out, "took over"));
        free(out);
        CU_ASSERT(table_exists_at(db_url, "made"));
        char *h = history_of(db_url);
        CU_ASSERT_SAME_TEXT(h, before);
        free(h);
    }
    free(before);
    if (test_dialect == STRATA_SQLITE) {
        /* A never leaves its long statement: killed, its 002 is undone by
         * the next command that takes the lock, then runs again, quickly */
        kill(a, SIGKILL);
        CU_ASSERT_EQUAL(wait_child(a), 128 + SIGKILL);
        char *out = NULL;
        CU_ASSERT_EQUAL(strata(&out, "migrations repair"), 0);
        CU_ASSERT_STR_CONTAINS(out, "took over the migration lock");
        CU_ASSERT_STR_CONTAINS(out, "undid the 1 applied operation(s) of 002_live");
        free(out);
        CU_ASSERT(!table_exists_at(db_url, "made"));
        write_migration("002_live", "{\"transaction\": false, \"up\": [{\"op\": "
                                    "\"create_table\", \"table\": \"made\", \"columns\": "
                                    "[{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": "
                                    "true}]}, {\"op\": \"sql\", \"all\": \"SELECT 1\"}, {\"op\": "
                                    "\"create_table\", \"table\": \"later\", \"columns\": "
                                    "[{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": "
                                    "true}]}]}");
        expect_status(0, "migrations run");
    } else {
        strata_conn_close(gate); /* opens the gate: A finishes */
        gate = NULL;
        int st = wait_child(a);
        if (st != 0) {
            char *o = read_text_file(log);
            fprintf(stderr, "\n  the first runner: exit %d:\n%s\n", st, o ? o : "");
            free(o);
        }
        CU_ASSERT_EQUAL(st, 0);
        expect_status(0, "migrations show");
    }
    CU_ASSERT(table_exists_at(db_url, "later"));
    if (test_dialect == STRATA_SQLITE) {
        char *lockfile = fmt("%s-strata-lock", db_url + 7);
        CU_ASSERT_NOT_EQUAL(access(lockfile, F_OK), 0);
        free(lockfile);
    }
    unlink(log);
    free(log);
    free(gname);
out:
    strata_conn_close(gate);
    end_test();
}

/*
 * `lock release --force` frees a live holder's lock: the holder stops at
 * its next step and undoes nothing (on PostgreSQL and MySQL its session is
 * ended too, so the statement it waits in stops at once); the next run
 * recovers what it left.
 */
static void test_force_release(void)
{
    strata_conn *gate = NULL;
    if (test_dialect == STRATA_SQLITE) /* SQLite: its writer holds the database; see above */
        return;
    if (!begin_test("force") || !(gate = test_connect(db_url))) {
        CU_FAIL("no database");
        goto out;
    }
    char *gname = gate_name();
    char *m =
        fmt("{\"transaction\": false, \"up\": [{\"op\": \"create_table\", \"table\": "
            "\"made\", \"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
            "\"primary_key\": true}]}, {\"op\": \"sql\", \"postgres\": \"SELECT "
            "pg_advisory_xact_lock(hashtext('%s'))\", \"mysql\": [\"DO GET_LOCK('%s', 300)\", "
            "\"DO RELEASE_LOCK('%s')\"], \"sqlite\": \"SELECT 1\"}, {\"op\": \"create_table\", "
            "\"table\": \"later\", \"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
            "\"primary_key\": true}]}]}",
            gname, gname, gname);
    write_migration("001_forced", m);
    free(m);
    char *take = fmt(test_dialect == STRATA_POSTGRES ? "SELECT pg_advisory_lock(hashtext('%s'))"
                                                     : "SELECT GET_LOCK('%s', 0)",
                     gname);
    test_exec(gate, take);
    free(take);
    char *log = fmt("%s/a.log", mig_dir);
    pid_t a = spawn_strata(db_url, log, "migrations", "run", NULL);
    int inside = 0;
    for (int i = 0; i < 600 && !inside; i++) {
        char *h = history_of(db_url);
        inside = strstr(h, "001_forced|running|up|1|3") != NULL;
        free(h);
        if (!inside)
            sleep_s(0.05);
    }
    CU_ASSERT(inside);
    char *out = NULL;
    CU_ASSERT_EQUAL(strata(&out, "lock release --force"), 0);
    CU_ASSERT_STR_CONTAINS(out, "released by force: run ");
    free(out);
    int st = wait_child(a);
    out = read_text_file(log);
    if (st != 1 || strstr(out, "undoing"))
        fprintf(stderr, "\n  the forced-out runner: exit %d:\n%s\n", st, out ? out : "");
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_PTR_NULL(strstr(out, "undoing"));
    free(out);
    char *h = history_of(db_url);
    CU_ASSERT_STR_CONTAINS(h, "001_forced|running|up|1|3");
    free(h);
    strata_conn_close(gate); /* opens the gate */
    gate = NULL;
    CU_ASSERT_EQUAL(strata(&out, "migrations run"), 0);
    CU_ASSERT_STR_CONTAINS(out, "recovering 001_forced");
    free(out);
    h = history_of(db_url);
    CU_ASSERT_SAME_TEXT(h, "001_forced|applied|up|3|3\n");
    free(h);
    CU_ASSERT(table_exists_at(db_url, "later"));
    unlink(log);
    free(log);
    free(gname);
out:
    strata_conn_close(gate);
    end_test();
}

/* A URL of the test database for another PostgreSQL role. */
static char *url_as(const char *role, const char *password)
{
    const char *at = strchr(db_url, '@');
    return fmt("postgres://%s:%s%s", role, password, at);
}

/* Wait until a session id no longer shows among the server's sessions. */
static void wait_session_gone(strata_conn *admin, const char *id)
{
    char *q = fmt(test_dialect == STRATA_POSTGRES
                      ? "SELECT count(*) FROM pg_stat_activity WHERE pid = %s"
                      : "SELECT count(*) FROM information_schema.PROCESSLIST WHERE ID = %s",
                  id);
    for (int i = 0; i < 100 && test_scalar_int(admin, q) != 0; i++)
        sleep_s(0.05);
    free(q);
}

/*
 * `lock status` says who holds the lock, or that it cannot tell: a lookup
 * that fails is an error, never "free". Made to fail for real: the server
 * ends the session (PostgreSQL, MySQL); the lock file cannot be opened, as
 * it is a symbolic link to itself (SQLite). On PostgreSQL a role that may
 * not see other roles' session details still sees that the lock is held.
 */
static void test_lock_lookup_errors(void)
{
    strata_conn *conn = NULL, *admin = NULL;
    if (!begin_test("lockerr") || !(conn = test_connect(db_url)) ||
        !(admin = test_connect(db_url))) {
        CU_FAIL("no database");
        goto out;
    }
    char *out = NULL;
    CU_ASSERT_EQUAL(strata_lock_status(conn, &out), 0);
    CU_ASSERT_STRING_EQUAL(out ? out : "", "free");
    free(out);
    out = NULL;

    if (test_dialect == STRATA_POSTGRES) {
        char *role = fmt("strata_probe_%ld", (long)getpid());
        char *create = fmt("CREATE ROLE %s LOGIN PASSWORD 'probe'", role);
        test_exec(admin, create);
        free(create);
        lock_state st = LOCK_HELD;
        CU_ASSERT_EQUAL(conn_lock_try(admin, "strata", 0, &st), 0);
        CU_ASSERT_EQUAL(st, LOCK_TAKEN);
        char *url = url_as(role, "probe");
        CU_ASSERT_EQUAL(strata_at(url, 0, &out, "lock status"), 0);
        CU_ASSERT_STR_CONTAINS(out, "held by pid ");
        free(out);
        out = NULL;
        free(url);
        conn_unlock(admin, "strata");
        char *drop = fmt("DROP ROLE %s", role);
        test_exec(admin, drop);
        free(drop);
        free(role);
    }

    if (test_dialect == STRATA_SQLITE) {
        /* a lock table that is not one: reading it fails */
        test_exec(conn, "CREATE TABLE strata_lock (x integer)");
    } else {
        char *id = test_scalar(conn, test_dialect == STRATA_POSTGRES ? "SELECT pg_backend_pid()"
                                                                     : "SELECT CONNECTION_ID()");
        CU_ASSERT_PTR_NOT_NULL(id);
        char *end =
            fmt(test_dialect == STRATA_POSTGRES ? "SELECT pg_terminate_backend(%s)" : "KILL %s",
                id ? id : "0");
        test_exec(admin, end);
        free(end);
        wait_session_gone(admin, id ? id : "0");
        free(id);
    }
    CU_ASSERT_NOT_EQUAL(strata_lock_status(conn, &out), 0);
    CU_ASSERT_PTR_NULL(out);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "reading who holds the migration lock: ");
    free(out);
    out = NULL;
    CU_ASSERT_NOT_EQUAL(strata_lock_release(conn, &out), 0);
    CU_ASSERT_PTR_NULL(out);
    free(out);
    out = NULL;
    if (test_dialect == STRATA_SQLITE) {
        /* the command line says so too, and a run cannot take the lock */
        CU_ASSERT_EQUAL(strata(&out, "lock status"), 1);
        CU_ASSERT_STR_CONTAINS(out, "no such column");
        free(out);
        out = NULL;
        write_migration("001_a", "{\"up\": [{\"op\": \"create_table\", \"table\": \"a\", "
                                 "\"columns\": [{\"name\": \"id\", \"type\": \"integer\"}]}]}");
        CU_ASSERT_EQUAL(strata(&out, "migrations run"), 1);
        CU_ASSERT_STR_CONTAINS(out, "taking the migration lock: ");
        free(out);
        CU_ASSERT(!table_exists_at(db_url, "a"));
    }
out:
    strata_conn_close(conn);
    strata_conn_close(admin);
    end_test();
}

/*
 * A history table made by an earlier strata, whose DDL was written per
 * database (char(64) checksums; SQLite text columns), serves as it is:
 * run, show and revert read and write it.
 */
static void test_history_table_of_earlier_strata(void)
{
    strata_conn *c = NULL;
    if (!begin_test("oldhist") || !(c = test_connect(db_url))) {
        CU_FAIL("no database");
        goto out;
    }
    test_exec(
        c,
        by_dialect("CREATE TABLE \"strata_migrations\" (\"id\" varchar(255) NOT NULL PRIMARY KEY, "
                   "\"version\" varchar(20) NOT NULL, \"name\" varchar(255) NOT NULL, "
                   "\"checksum\" char(64) NOT NULL, \"state\" varchar(16) NOT NULL, "
                   "\"direction\" varchar(8) NOT NULL DEFAULT 'up', \"ops_applied\" integer NOT "
                   "NULL DEFAULT 0, \"ops_total\" integer NOT NULL DEFAULT 0, \"applied_at\" "
                   "varchar(32) NOT NULL, \"duration_ms\" bigint NOT NULL DEFAULT 0, "
                   "\"run_id\" varchar(64) NOT NULL)",
                   "CREATE TABLE `strata_migrations` (`id` varchar(255) NOT NULL PRIMARY KEY, "
                   "`version` varchar(20) NOT NULL, `name` varchar(255) NOT NULL, `checksum` "
                   "char(64) NOT NULL, `state` varchar(16) NOT NULL, `direction` varchar(8) NOT "
                   "NULL DEFAULT 'up', `ops_applied` int NOT NULL DEFAULT 0, `ops_total` int NOT "
                   "NULL DEFAULT 0, `applied_at` varchar(32) NOT NULL, `duration_ms` bigint NOT "
                   "NULL DEFAULT 0, `run_id` varchar(64) NOT NULL) ENGINE=InnoDB DEFAULT "
                   "CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
                   "CREATE TABLE \"strata_migrations\" (\"id\" text NOT NULL PRIMARY KEY, "
                   "\"version\" text NOT NULL, \"name\" text NOT NULL, \"checksum\" text NOT "
                   "NULL, \"state\" text NOT NULL, \"direction\" text NOT NULL DEFAULT 'up', "
                   "\"ops_applied\" integer NOT NULL DEFAULT 0, \"ops_total\" integer NOT NULL "
                   "DEFAULT 0, \"applied_at\" text NOT NULL, \"duration_ms\" integer NOT NULL "
                   "DEFAULT 0, \"run_id\" text NOT NULL)"));
    write_migration("001_a", "{\"up\": [{\"op\": \"create_table\", \"table\": \"a\", "
                             "\"columns\": [{\"name\": \"id\", \"type\": \"serial\", "
                             "\"primary_key\": true}]}]}");
    write_migration("002_b", "{\"transaction\": false, \"up\": [{\"op\": \"add_column\", "
                             "\"table\": \"a\", \"column\": {\"name\": \"b\", \"type\": "
                             "\"integer\"}}]}");
    expect_status(0, "migrations run");
    expect_status(0, "migrations show");
    char *h = history_of(db_url);
    CU_ASSERT_STRING_EQUAL(h, "001_a|applied|up|1|1\n002_b|applied|up|1|1\n");
    free(h);
    expect_status(0, "migrations revert --all");
    CU_ASSERT(!table_exists_at(db_url, "a"));
    expect_status(0, "migrations run");
    expect_status(0, "migrations validate");
out:
    strata_conn_close(c);
    end_test();
}

/*
 * MySQL/MariaDB: tables Strata makes use a binary NO PAD collation, so
 * 'pad' and 'pad ' are two values as on the other databases; in a database
 * whose history table an earlier Strata made with the PAD SPACE
 * utf8mb4_bin, new tables keep utf8mb4_bin, because a foreign key from a
 * new table to an old one needs the same collation on both sides.
 */
static void test_mysql_table_collation(void)
{
    if (test_dialect != STRATA_MYSQL)
        return;
    strata_conn *c = NULL;
    if (!begin_test("collation") || !(c = test_connect(db_url))) {
        CU_FAIL("no database");
        goto out;
    }
    static const char *const query = "SELECT TABLE_COLLATION FROM information_schema.TABLES "
                                     "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '%s'";
    write_migration("001_a", "{\"up\": [{\"op\": \"create_table\", \"table\": \"a\", "
                             "\"columns\": [{\"name\": \"id\", \"type\": \"string\", "
                             "\"primary_key\": true}]}]}");
    expect_status(0, "migrations run");
    char *sql = fmt(query, "a");
    char *coll = test_scalar(c, sql);
    CU_ASSERT(coll && !strcmp(coll, "utf8mb4_nopad_bin"));
    free(coll);
    free(sql);
    sql = fmt(query, "strata_migrations");
    coll = test_scalar(c, sql);
    CU_ASSERT(coll && !strcmp(coll, "utf8mb4_nopad_bin"));
    free(coll);
    free(sql);
    /* an earlier Strata's database: utf8mb4_bin everywhere */
    test_exec(c, "ALTER TABLE `strata_migrations` CONVERT TO CHARACTER SET utf8mb4 COLLATE "
                 "utf8mb4_bin");
    test_exec(c, "ALTER TABLE `a` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    write_migration("002_b", "{\"up\": [{\"op\": \"create_table\", \"table\": \"b\", "
                             "\"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
                             "\"primary_key\": true}, {\"name\": \"a_id\", \"type\": "
                             "\"string\", \"references\": {\"table\": \"a\"}}]}]}");
    expect_status(0, "migrations run");
    sql = fmt(query, "b");
    coll = test_scalar(c, sql);
    CU_ASSERT(coll && !strcmp(coll, "utf8mb4_bin"));
    free(coll);
    free(sql);
    expect_status(0, "migrations revert --all");
out:
    strata_conn_close(c);
    end_test();
}

/* ---- repair ---- */

/* 002 runs outside a transaction; its op up[1] is raw SQL, which has no
 * inverse, and up[2] fails: the undo cannot pass up[1], so 002 is left
 * partial with two operations applied. */
static void write_partial_migrations(int fixed)
{
    write_migration("001_base", "{\"up\": [{\"op\": \"create_table\", \"table\": \"base\", "
                                "\"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
                                "\"primary_key\": true}]}]}");
    char *m = fmt("{\"transaction\": false, \"up\": [{\"op\": \"create_table\", \"table\": "
                  "\"x\", \"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
                  "\"primary_key\": true}]}, {\"op\": \"sql\", \"all\": \"CREATE TABLE y (id "
                  "integer)\"}, {\"op\": \"sql\", \"all\": \"INSERT INTO %s (id) VALUES "
                  "(1)\"}]}",
                  fixed ? "x" : "no_such_table");
    write_migration("002_partial", m);
    free(m);
}

static void check_partial_refused(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL(strata(&out, "migrations show"), 1);
    CU_ASSERT_STR_CONTAINS(out, "[~] 002_partial");
    free(out);
    CU_ASSERT_EQUAL(strata(&out, "migrations run"), 1);
    CU_ASSERT_STR_CONTAINS(out, "002_partial");
    CU_ASSERT_STR_CONTAINS(out, "repair");
    free(out);
    CU_ASSERT(strata(&out, "migrations validate") != 0);
    CU_ASSERT_STR_CONTAINS(out, "002_partial");
    free(out);
}

static void test_repair_mark_applied(void)
{
    if (!begin_test("markapp"))
        goto out;
    write_partial_migrations(0);
    char *out = NULL;
    CU_ASSERT_EQUAL(strata(&out, "migrations run"), 1);
    CU_ASSERT_STR_CONTAINS(out, "002_partial");
    CU_ASSERT_STR_CONTAINS(out, "up[2]");
    CU_ASSERT_STR_CONTAINS(out, "no_such_table");
    CU_ASSERT_STR_CONTAINS(out, "partial");
    CU_ASSERT_STR_CONTAINS(out, "migrations repair");
    free(out);
    char *h = history_of(db_url);
    CU_ASSERT_SAME_TEXT(h, "001_base|applied|up|1|1\n002_partial|partial|up|2|3\n");
    free(h);
    check_partial_refused();
    /* without a manual fix, repair cannot undo raw SQL: it says so and
     * leaves the migration partial */
    CU_ASSERT_EQUAL(strata(&out, "migrations repair"), 1);
    CU_ASSERT_STR_CONTAINS(out, "002_partial");
    free(out);
    check_partial_refused();
    /* the user finishes the migration by hand, then marks it applied */
    exec_at(db_url, "INSERT INTO x (id) VALUES (1)");
    int st = 0;
    json_t *j = strata_json("migrations repair --mark-applied", &st);
    CU_ASSERT_EQUAL(st, 0);
    json_t *r0 = json_array_get(json_object_get(j, "repaired"), 0);
    CU_ASSERT_JSON_STR(r0, "id", "002_partial");
    CU_ASSERT_JSON_STR(r0, "status", "applied");
    json_decref(j);
    CU_ASSERT_EQUAL(strata(&out, "migrations show"), 0);
    CU_ASSERT_STR_CONTAINS(out, "[X] 002_partial");
    free(out);
    expect_status(0, "migrations run");
    h = history_of(db_url);
    CU_ASSERT_SAME_TEXT(h, "001_base|applied|up|1|1\n002_partial|applied|up|3|3\n");
    free(h);
    CU_ASSERT_EQUAL(strata(&out, "migrations repair"), 0);
    CU_ASSERT_STR_CONTAINS(out, "nothing to repair");
    free(out);
out:
    end_test();
}

/* The undo made impossible by hand: while 002 is in the middle of its
 * operations, another session adds a table whose row references a row of the
 * table 002 made, so the undo's DROP TABLE fails and 002 is left partial.
 * After the user removes that table, `repair` undoes the rest and the schema
 * is as before. On PostgreSQL and MariaDB the migration waits at a gate the
 * test holds, then fails and its own undo fails; SQLite has no such gate, so
 * there the runner is killed in a slow statement and the next run's recovery
 * is what fails. */
static const char undo_fixed_json[] =
    "{\"transaction\": false, \"up\": [{\"op\": \"create_table\", \"table\": \"x\", "
    "\"columns\": [{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}]}, {\"op\": "
    "\"create_index\", \"table\": \"base\", \"name\": \"base_id_idx\", \"columns\": [\"id\"]}]}";

/*
 * An `sql` op has no inverse. When a migration fails (or was interrupted)
 * after one ran, its explicit down undoes it - run whole, what it drops
 * that the failed run never made skipped - so the schema is as before;
 * without a down the migration is left partial, and repair says what to
 * check and run.
 */
static void test_sql_op_undone_by_down(void)
{
    if (!begin_test("sqldown")) {
        CU_FAIL("no database");
        goto out;
    }
    write_migration("001_base", "{\"up\": [{\"op\": \"create_table\", \"table\": \"base\", "
                                "\"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
                                "\"primary_key\": true}]}]}");
    expect_status(0, "migrations run");
    char *before = schema_snapshot(db_url);
    write_migration("002_sql",
                    "{\"transaction\": false, \"up\": [{\"op\": \"sql\", \"all\": \"CREATE "
                    "TABLE s1 (id integer)\"}, {\"op\": \"sql\", \"all\": \"CREATE TABLE s2 "
                    "(id integer)\"}, {\"op\": \"sql\", \"all\": \"INSERT INTO no_such_table "
                    "VALUES (1)\"}, {\"op\": \"sql\", \"all\": \"CREATE TABLE s3 (id "
                    "integer)\"}], \"down\": [{\"op\": \"sql\", \"all\": \"DROP TABLE s3\"}, "
                    "{\"op\": \"sql\", \"all\": \"DROP TABLE s2\"}, {\"op\": \"sql\", "
                    "\"all\": \"DROP TABLE s1\"}]}");
    char *out = NULL;
    CU_ASSERT_EQUAL(strata(&out, "migrations run"), 1);
    CU_ASSERT_STR_CONTAINS(out, "undoing the migration with its down");
    CU_ASSERT_STR_CONTAINS(out, "the schema is as before it");
    free(out);
    char *after = schema_snapshot(db_url);
    CU_ASSERT_STRING_EQUAL(after, before);
    free(after);
    char *h = history_of(db_url);
    CU_ASSERT_PTR_NULL(strstr(h, "002_sql"));
    free(h);
    /* no down: partial, and repair says what to do */
    write_migration("002_sql",
                    "{\"transaction\": false, \"up\": [{\"op\": \"sql\", \"all\": \"CREATE "
                    "TABLE s1 (id integer)\"}, {\"op\": \"sql\", \"all\": \"INSERT INTO "
                    "no_such_table VALUES (1)\"}]}");
    CU_ASSERT_EQUAL(strata(&out, "migrations run"), 1);
    CU_ASSERT_STR_CONTAINS(out, "left partial");
    free(out);
    CU_ASSERT_EQUAL(strata(&out, "migrations repair"), 1);
    CU_ASSERT_STR_CONTAINS(out, "up[0] (sql) cannot be undone");
    CU_ASSERT_STR_CONTAINS(out, "strata migrations sql 002_sql");
    CU_ASSERT_STR_CONTAINS(out, "repair --mark-applied");
    free(out);
    free(before);
out:
    end_test();
}

static void test_repair_undo(void)
{
    strata_conn *gate = NULL;
    if (!begin_test("repair") || !(gate = test_connect(db_url))) {
        CU_FAIL("no database");
        goto out;
    }
    write_migration("001_base", "{\"up\": [{\"op\": \"create_table\", \"table\": \"base\", "
                                "\"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
                                "\"primary_key\": true}]}]}");
    expect_status(0, "migrations run");
    char *before = schema_snapshot(db_url);
    char *hist = history_of(db_url);
    char *gname = gate_name();
    char *log = fmt("%s/run.log", mig_dir);
    char *out = NULL;
    char *m = fmt("{\"transaction\": false, \"up\": [{\"op\": \"create_table\", \"table\": "
                  "\"x\", \"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
                  "\"primary_key\": true}]}, {\"op\": \"create_index\", \"table\": \"base\", "
                  "\"name\": \"base_id_idx\", \"columns\": [\"id\"]}, {\"op\": \"sql\", "
                  "\"postgres\": [\"SELECT pg_advisory_lock(hashtext('%s'))\", \"INSERT INTO "
                  "no_such_table VALUES (1)\"], \"mysql\": [\"DO GET_LOCK('%s', 300)\", \"INSERT "
                  "INTO no_such_table VALUES (1)\"], \"sqlite\": \"WITH RECURSIVE c(n) AS "
                  "(SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 2000000000) SELECT count(*) "
                  "FROM c\"}]}",
                  gname, gname);
    write_migration("002_undo", m);
    free(m);
    if (test_dialect != STRATA_SQLITE) {
        char *take = fmt(test_dialect == STRATA_POSTGRES ? "SELECT pg_advisory_lock(hashtext('%s'))"
                                                         : "SELECT GET_LOCK('%s', 0)",
                         gname);
        test_exec(gate, take);
        free(take);
    }
    pid_t pid = spawn_strata(db_url, log, "migrations", "run", NULL);
    /* wait until 002 has applied two operations and is in the third */
    for (int i = 0; i < 600; i++) {
        char *h = history_of(db_url);
        int there = strstr(h, "002_undo|running|up|2|") != NULL;
        free(h);
        if (there)
            break;
        sleep_s(0.1);
    }
    if (test_dialect == STRATA_SQLITE) {
        kill(pid, SIGKILL);
        CU_ASSERT_EQUAL(wait_child(pid), 128 + SIGKILL);
    }
    /* by hand: pin x */
    test_exec(gate, "CREATE TABLE pin (x_id integer, CONSTRAINT pin_x FOREIGN KEY (x_id) "
                    "REFERENCES x (id))");
    test_exec(gate, "INSERT INTO x (id) VALUES (1)");
    test_exec(gate, "INSERT INTO pin (x_id) VALUES (1)");
    strata_conn_close(gate); /* opens the gate */
    if (test_dialect != STRATA_SQLITE) {
        CU_ASSERT_EQUAL(wait_child(pid), 1);
        out = read_text_file(log);
        CU_ASSERT_STR_CONTAINS(out, "002_undo");
        CU_ASSERT_STR_CONTAINS(out, "up[2]");
        CU_ASSERT_STR_CONTAINS(out, "no_such_table");
        CU_ASSERT_STR_CONTAINS(out, "partial");
        CU_ASSERT_STR_CONTAINS(out, "migrations repair");
        free(out);
    }
    /* SQLite: the next run finds the interrupted migration; its undo fails */
    CU_ASSERT_EQUAL(strata(&out, "migrations run"), 1);
    CU_ASSERT_STR_CONTAINS(out, "002_undo");
    CU_ASSERT_STR_CONTAINS(out, "repair");
    free(out);
    CU_ASSERT_EQUAL(strata(&out, "migrations show"), 1);
    CU_ASSERT_STR_CONTAINS(out, "[~] 002_undo");
    free(out);
    CU_ASSERT_EQUAL(strata(&out, "migrations repair"), 1);
    CU_ASSERT_STR_CONTAINS(out, "002_undo");
    free(out);
    /* the user removes what pins x; repair undoes the rest */
    exec_at(db_url, "DROP TABLE pin");
    exec_at(db_url, "DELETE FROM x");
    int st = 0;
    json_t *j = strata_json("migrations repair", &st);
    CU_ASSERT_EQUAL(st, 0);
    json_t *r0 = json_array_get(json_object_get(j, "repaired"), 0);
    CU_ASSERT_JSON_STR(r0, "id", "002_undo");
    CU_ASSERT_JSON_STR(r0, "status", "pending");
    json_decref(j);
    char *after = schema_snapshot(db_url);
    char *h = history_of(db_url);
    CU_ASSERT_SAME_TEXT(after, before);
    CU_ASSERT_SAME_TEXT(h, hist);
    free(after);
    free(h);
    CU_ASSERT_EQUAL(strata(&out, "migrations show"), 1);
    CU_ASSERT_STR_CONTAINS(out, "[ ] 002_undo");
    free(out);
    /* fixed, it runs */
    write_migration("002_undo", undo_fixed_json);
    expect_status(0, "migrations run");
    expect_status(0, "migrations show");
    free(before);
    free(hist);
    free(gname);
    unlink(log);
    free(log);
out:
    end_test();
}

static const test_case runner_tests[] = {
    {"8 concurrent runs apply every migration once", test_concurrent_runs},
    {"SIGKILL at random points: the next run completes", test_killed_runs_resume},
    {"revert, then run again: the schema of a clean run", test_revert_then_run},
    {"a failing 4th op leaves the schema as before", test_failing_op_undone},
    {"the same outside a transaction", test_failing_op_undone_no_transaction},
    {"a failing revert is undone", test_failing_revert_undone},
    {"--single-transaction: all or none", test_single_transaction},
    {"a foreign key over rows that match nothing fails and changes nothing",
     test_foreign_key_over_rows},
    {"checksums: edits seen, reformatting not", test_checksums},
    {"revert of raw SQL without down is refused", test_irreversible_sql},
    {"revert of down: irreversible is refused", test_irreversible_declared},
    {"revert with nothing applied", test_revert_nothing},
    {"out-of-order migrations are refused unless allowed", test_out_of_order},
    {"--dry-run prints SQL and changes nothing", test_dry_run},
    {"show, and --json for run, revert and show", test_show_and_json},
    {"migration create writes a timestamped file", test_migration_create},
    {"the lock: status, holder, timeout, killed holder", test_lock},
    {"lock status reports a lookup that fails", test_lock_lookup_errors},
    {"a live runner's work is never undone by another", test_live_holder_kept},
    {"lock release --force: the holder stops and undoes nothing", test_force_release},
    {"a history table made by an earlier strata still serves",
     test_history_table_of_earlier_strata},
    {"MySQL: NO PAD tables, and utf8mb4_bin kept where an earlier strata used it",
     test_mysql_table_collation},
    {"repair --mark-applied after a manual fix", test_repair_mark_applied},
    {"repair undoes a partial migration", test_repair_undo},
    {"an sql op is undone by the migration's down, or repair says what to run",
     test_sql_op_undone_by_down},
    {NULL, NULL},
};

int main(void)
{
    test_add_dialect_suites("runner", NULL, NULL, runner_tests);
    return test_main();
}
