/*
 * test_api.c - the embeddable surface of strata.h on SQLite files, as a
 * program that links libstrata sees it: the version functions, versioned
 * option structs (the init functions, a wrong version refused before
 * anything changes, NULL meaning the defaults), and the callbacks: the log
 * callback gets the runner's lines, the seed's progress callback a done
 * event per table, and without callbacks the library prints nothing at all
 * (stdout and stderr are redirected to files around the calls and must stay
 * empty).
 */
#include "testutil.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Two migrations: tables a and b. */
static const char *mig_first =
    "{\"up\": [{\"op\": \"create_table\", \"table\": \"a\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
    "{\"name\": \"name\", \"type\": \"string\"}]}]}\n";
static const char *mig_second =
    "{\"up\": [{\"op\": \"create_table\", \"table\": \"b\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}]}]}\n";

static char *fmt(const char *f, const char *a, const char *b)
{
    char *s = NULL;
    if (asprintf(&s, f, a, b) < 0)
        return NULL;
    return s;
}

/* A fresh directory holding migrations/ with the two files; caller frees. */
static char *make_project(const char *tag)
{
    char *dir = test_tempdir(tag);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char *mig = fmt("%s/migrations", dir, "");
    mkdir(mig, 0777);
    char *p1 = fmt("%s/%s", mig, "001_first.json");
    char *p2 = fmt("%s/%s", mig, "002_second.json");
    test_write_file(p1, mig_first);
    test_write_file(p2, mig_second);
    free(p1);
    free(p2);
    free(mig);
    return dir;
}

static void remove_project(char *dir)
{
    char *cmd = fmt("rm -rf '%s'%s", dir, "");
    test_run_cmd(cmd, NULL);
    free(cmd);
    free(dir);
}

static strata_conn *open_db(const char *dir, const char *name)
{
    char *url = fmt("sqlite:%s/%s", dir, name);
    strata_conn *c = test_connect(url);
    free(url);
    return c;
}

/* Does the database have a table of that name? */
static int has_table(strata_conn *c, const char *name)
{
    char *sql =
        fmt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'%s", name, "");
    long long n = test_scalar_int(c, sql);
    free(sql);
    return n > 0;
}

/* ---- version ---- */

static void test_version(void)
{
    CU_ASSERT_STRING_EQUAL(strata_version(), STRATA_VERSION);
    CU_ASSERT_EQUAL(strata_version_num(), STRATA_VERSION_NUM);
    CU_ASSERT_EQUAL(STRATA_VERSION_NUM, STRATA_VERSION_MAJOR * 10000 + STRATA_VERSION_MINOR * 100 +
                                            STRATA_VERSION_PATCH);
    char text[64];
    snprintf(text, sizeof text, "%d.%d.%d", STRATA_VERSION_MAJOR, STRATA_VERSION_MINOR,
             STRATA_VERSION_PATCH);
    CU_ASSERT_STRING_EQUAL(text, STRATA_VERSION);
}

/* ---- versioned options ---- */

static void test_init_functions(void)
{
    strata_options o;
    memset(&o, 0xab, sizeof o);
    CU_ASSERT_EQUAL(strata_options_init(&o, STRATA_OPTIONS_VERSION), 0);
    strata_options want = STRATA_OPTIONS_INIT;
    CU_ASSERT_EQUAL(o.version, STRATA_OPTIONS_VERSION);
    CU_ASSERT_PTR_NULL(o.migrations_dir);
    CU_ASSERT_PTR_NULL(o.to);
    CU_ASSERT_PTR_NULL(o.log_cb);
    CU_ASSERT_PTR_NULL(o.log_payload);
    CU_ASSERT(o.lock_timeout == want.lock_timeout);
    CU_ASSERT_EQUAL(o.steps + o.all + o.dry_run + o.allow_out_of_order + o.mark_applied, 0);
    CU_ASSERT_EQUAL(o.force, 0);
    CU_ASSERT_PTR_NULL(o.progress_cb);
    CU_ASSERT_PTR_NULL(o.progress_payload);
    CU_ASSERT_EQUAL(o.single_transaction, 0);

    strata_seed_options so;
    memset(&so, 0xab, sizeof so);
    CU_ASSERT_EQUAL(strata_seed_options_init(&so, STRATA_SEED_OPTIONS_VERSION), 0);
    CU_ASSERT_EQUAL(so.version, STRATA_SEED_OPTIONS_VERSION);
    CU_ASSERT_EQUAL(so.mode, STRATA_SEED_MODE_FILE);
    CU_ASSERT_EQUAL(so.format, STRATA_SEED_FORMAT_AUTO);
    CU_ASSERT_PTR_NULL(so.progress_cb);
    CU_ASSERT_PTR_NULL(so.progress_payload);
    CU_ASSERT_EQUAL(so.non_atomic, 0);
    /* a caller built against version 1: its struct ends before non_atomic,
     * which must stay untouched */
    memset(&so, 0xab, sizeof so);
    CU_ASSERT_EQUAL(strata_seed_options_init(&so, 1), 0);
    CU_ASSERT_EQUAL(so.version, 1);
    CU_ASSERT_EQUAL(so.mode, STRATA_SEED_MODE_FILE);
    CU_ASSERT_EQUAL((unsigned)so.non_atomic, 0xababababu);

    strata_check_options co;
    memset(&co, 0xab, sizeof co);
    CU_ASSERT_EQUAL(strata_check_options_init(&co, STRATA_CHECK_OPTIONS_VERSION), 0);
    CU_ASSERT_EQUAL(co.version, STRATA_CHECK_OPTIONS_VERSION);
    CU_ASSERT_PTR_NULL(co.migrations_dir);
    CU_ASSERT_PTR_NULL(co.seed_file);
    CU_ASSERT_PTR_NULL(co.progress_cb);
    CU_ASSERT_PTR_NULL(co.progress_payload);

    /* an older version: only the fields it had are written */
    unsigned char raw[sizeof(strata_options) + 8];
    memset(raw, 0xab, sizeof raw);
    strata_options *v1 = (strata_options *)(void *)raw;
    CU_ASSERT_EQUAL(strata_options_init(v1, 1), 0);
    CU_ASSERT_EQUAL(v1->version, 1);
    CU_ASSERT_PTR_NULL(v1->log_payload);
    size_t v1_end = offsetof(strata_options, force);
    int untouched = 1;
    for (size_t i = v1_end; i < sizeof raw; i++)
        untouched &= raw[i] == 0xab;
    CU_ASSERT(untouched);
    strata_check_options co1;
    memset(&co1, 0xab, sizeof co1);
    CU_ASSERT_EQUAL(strata_check_options_init(&co1, 1), 0);
    CU_ASSERT_EQUAL(co1.version, 1);
    CU_ASSERT_PTR_NULL(co1.seed_file);

    /* versions this library does not know */
    CU_ASSERT_EQUAL(strata_options_init(&o, 7), STRATA_EINPUT);
    CU_ASSERT_STRING_EQUAL(strata_error_message(),
                           "strata_options version 7 is not supported by this libstrata "
                           "(expects 1 to 3)");
    CU_ASSERT_EQUAL(strata_seed_options_init(&so, 0), STRATA_EINPUT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "strata_seed_options version 0");
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "STRATA_SEED_OPTIONS_INIT");
    CU_ASSERT_EQUAL(strata_check_options_init(&co, 4), STRATA_EINPUT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "strata_check_options version 4");
    CU_ASSERT_EQUAL(strata_options_init(NULL, STRATA_OPTIONS_VERSION), STRATA_EINPUT);
    strata_error_clear();
    /* a version 2 struct (flags, history_compat) is written only as far as
     * version 2 went: single_transaction came with version 3 */
    strata_options o2;
    memset(&o2, 0x5a, sizeof o2);
    CU_ASSERT_EQUAL(strata_options_init(&o2, 2), 0);
    CU_ASSERT_EQUAL(o2.version, 2);
    CU_ASSERT_PTR_NULL(o2.migrations_dir);
    CU_ASSERT_PTR_NULL(o2.flags);
    CU_ASSERT_EQUAL(o2.nflags, 0);
    CU_ASSERT_PTR_NULL(o2.history_compat);
    CU_ASSERT_EQUAL(o2.single_transaction, 0x5a5a5a5a);
}

/* A program built against version 1 of strata_options (before flags and
 * history_compat were appended) still runs: the struct it passes ends
 * where version 1 ended, and the new fields take their defaults. */
static void test_options_version_1(void)
{
    char *dir = make_project("api-v1");
    strata_conn *c = open_db(dir, "v1.db");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    char *mig = fmt("%s/migrations", dir, "");
    /* a version 1 struct, followed by bytes that are not the new fields */
    struct {
        strata_options opt;
        char garbage[64];
    } v1;
    memset(&v1, 0xab, sizeof v1);
    strata_options init = STRATA_OPTIONS_INIT;
    memcpy(&v1.opt, &init, offsetof(strata_options, flags));
    v1.opt.version = 1;
    v1.opt.migrations_dir = mig;
    strata_report *rep = NULL;
    CU_ASSERT_EQUAL(strata_migrations_run(c, &v1.opt, &rep), 0);
    CU_ASSERT_EQUAL(rep ? rep->n : 0, 2);
    strata_report_free(rep);
    CU_ASSERT(has_table(c, "strata_migrations"));
    CU_ASSERT(!has_table(c, "migrations")); /* history_compat took its default */
    strata_conn_close(c);
    free(mig);
    remove_project(dir);
}

/* A call refused for the version of its options, with that message. */
static void expect_version_error(int rc, const char *expected)
{
    CU_ASSERT_EQUAL(rc, STRATA_EINPUT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), expected);
    strata_error_clear();
}

/* Every function that takes options refuses a version it does not know,
 * before it changes anything. */
static void test_wrong_version_refused(void)
{
    char *dir = make_project("api-version");
    strata_conn *c = open_db(dir, "v.db");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    char *mig = fmt("%s/migrations", dir, "");
    unsigned versions[] = {STRATA_OPTIONS_VERSION + 1, 7, 0};
    for (size_t k = 0; k < 3; k++) {
        char expected[128];
        snprintf(expected, sizeof expected,
                 "strata_options version %u is not supported by this libstrata (expects 1 to 3)",
                 versions[k]);
        strata_options opt = STRATA_OPTIONS_INIT;
        opt.version = versions[k];
        opt.migrations_dir = mig;
        strata_report *rep = NULL;
        expect_version_error(strata_migrations_run(c, &opt, &rep), expected);
        strata_report_free(rep);
        rep = NULL;
        expect_version_error(strata_migrations_revert(c, &opt, &rep), expected);
        strata_report_free(rep);
        rep = NULL;
        expect_version_error(strata_migrations_status(c, &opt, &rep), expected);
        strata_report_free(rep);
        rep = NULL;
        expect_version_error(strata_migrations_validate(c, &opt, &rep), expected);
        strata_report_free(rep);
        rep = NULL;
        expect_version_error(strata_migrations_repair(c, &opt, &rep), expected);
        strata_report_free(rep);
        char *sql = NULL;
        expect_version_error(strata_migrations_sql(&opt, STRATA_SQLITE, 0, NULL, 0, &sql),
                             expected);
        CU_ASSERT_PTR_NULL(sql);
        strata_diff_result *diff = NULL;
        expect_version_error(strata_db_diff(c, &opt, &diff), expected);
        strata_diff_result_free(diff);
        diff = NULL;
        opt.to = "001";
        expect_version_error(strata_migrations_baseline(c, &opt, &rep, &diff), expected);
        opt.to = NULL;
        strata_report_free(rep);
        rep = NULL;
        strata_diff_result_free(diff);
        char *text = NULL;
        expect_version_error(strata_migrations_schema(&opt, STRATA_SCHEMA_DOT, &text), expected);
        CU_ASSERT_PTR_NULL(text);
        char *path = NULL;
        size_t nops = 0;
        expect_version_error(strata_migration_generate(&opt, "x", "none.json", &path, &nops),
                             expected);
        CU_ASSERT_PTR_NULL(path);
    }
    /* nothing was applied, not even the history table made */
    CU_ASSERT(!has_table(c, "a"));
    CU_ASSERT(!has_table(c, "strata_migrations"));

    const char *expected = "strata_seed_options version 7 is not supported";
    char *seed = fmt("%s/%s", dir, "seed.json");
    test_write_file(seed, "{\"tables\": [{\"table\": \"a\", \"rows\": [{\"id\": 1}]}]}");
    strata_seed_options so = STRATA_SEED_OPTIONS_INIT;
    so.version = 7;
    strata_seed_report *sr = NULL;
    expect_version_error(strata_seed_file(c, seed, &so, &sr), expected);
    CU_ASSERT_PTR_NULL(sr);

    expected = "strata_check_options version 7 is not supported";
    strata_check_options co = STRATA_CHECK_OPTIONS_INIT;
    co.version = 7;
    co.migrations_dir = mig;
    char *url = fmt("sqlite:%s/%s", dir, "check.db");
    const char *urls[] = {url};
    strata_check_result *cr = NULL;
    expect_version_error(strata_check(urls, 1, &co, &cr), expected);
    strata_check_result_free(cr);

    free(url);
    free(seed);
    free(mig);
    strata_conn_close(c);
    strata_error_clear();
    remove_project(dir);
}

/* NULL options are the defaults: ./migrations, no lock wait, one step. */
static void test_null_options(void)
{
    char *dir = make_project("api-null");
    char *cwd = getcwd(NULL, 0);
    CU_ASSERT_EQUAL_FATAL(chdir(dir), 0);
    strata_conn *c = test_connect("sqlite:./null.db");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    strata_report *rep = NULL;

    CU_ASSERT_EQUAL(strata_migrations_validate(c, NULL, &rep), 0);
    CU_ASSERT_EQUAL(rep ? rep->total : 0, 2);
    strata_report_free(rep);
    rep = NULL;

    CU_ASSERT_EQUAL(strata_migrations_status(c, NULL, &rep), 0);
    CU_ASSERT_EQUAL(rep ? rep->pending : 0, 2);
    strata_report_free(rep);
    rep = NULL;

    char *sql = NULL;
    CU_ASSERT_EQUAL(strata_migrations_sql(NULL, STRATA_SQLITE, 0, NULL, 0, &sql), 0);
    CU_ASSERT_STR_CONTAINS(sql, "CREATE TABLE \"a\"");
    CU_ASSERT_STR_CONTAINS(sql, "CREATE TABLE \"b\"");
    free(sql);

    CU_ASSERT_EQUAL(strata_migrations_run(c, NULL, &rep), 0);
    CU_ASSERT_EQUAL(rep ? rep->n : 0, 2);
    strata_report_free(rep);
    rep = NULL;
    CU_ASSERT(has_table(c, "a") && has_table(c, "b"));

    CU_ASSERT_EQUAL(strata_migrations_status(c, NULL, &rep), 0);
    CU_ASSERT_EQUAL(rep ? rep->pending : -1, 0);
    CU_ASSERT_EQUAL(rep ? rep->n : 0, 2);
    strata_report_free(rep);
    rep = NULL;

    strata_diff_result *diff = NULL;
    CU_ASSERT_EQUAL(strata_db_diff(c, NULL, &diff), 0);
    CU_ASSERT_EQUAL(diff ? diff->n : 1, 0);
    strata_diff_result_free(diff);

    /* revert: one step by default */
    CU_ASSERT_EQUAL(strata_migrations_revert(c, NULL, &rep), 0);
    CU_ASSERT_EQUAL(rep ? rep->n : 0, 1);
    strata_report_free(rep);
    rep = NULL;
    CU_ASSERT(has_table(c, "a") && !has_table(c, "b"));

    CU_ASSERT_EQUAL(strata_migrations_repair(c, NULL, &rep), 0);
    CU_ASSERT_EQUAL(rep ? rep->n : 1, 0);
    strata_report_free(rep);
    rep = NULL;

    test_write_file("seed.json", "{\"tables\": [{\"table\": \"a\", \"rows\": [{\"id\": 1}]}]}");
    strata_seed_report *sr = NULL;
    CU_ASSERT_EQUAL(strata_seed_file(c, "seed.json", NULL, &sr), 0);
    CU_ASSERT_EQUAL(sr ? sr->inserted : 0, 1);
    strata_seed_report_free(sr);
    strata_conn_close(c);

    const char *urls[] = {"sqlite:./check.db"};
    strata_check_result *cr = NULL;
    CU_ASSERT_EQUAL(strata_check(urls, 1, NULL, &cr), 0);
    CU_ASSERT(cr && cr->ok);
    strata_check_result_free(cr);

    CU_ASSERT_EQUAL(chdir(cwd), 0);
    free(cwd);
    strata_error_clear();
    remove_project(dir);
}

/* ---- callbacks ---- */

typedef struct log_lines {
    char *text[32];
    strata_log_level level[32];
    int n;
} log_lines;

static void collect(strata_log_level level, const char *message, void *payload)
{
    log_lines *l = payload;
    if (l->n < 32) {
        l->level[l->n] = level;
        l->text[l->n++] = strdup(message);
    }
}

static void log_lines_free(log_lines *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->text[i]);
    l->n = 0;
}

/* Make the migration lock of the open database look held by a live run
 * of another host (its lease a minute ahead), as the lock row says it;
 * `held` 0 frees it again. The lock table exists after a first run. */
static void hold_lock_row(strata_conn *c, int held)
{
    test_exec(c, held ? "UPDATE strata_lock SET owner = 'elsewhere', host = 'other-host', "
                        "host_id = 'other-host', pid = 1, lease_until = CAST((julianday('now') - "
                        "2440587.5) * 86400000 AS INTEGER) + 60000 WHERE name = 'strata'"
                      : "UPDATE strata_lock SET owner = NULL WHERE name = 'strata'");
}

/* Everything the runner says as it works: apply, a missing file, waiting
 * for the lock, revert. With `log` NULL, no callback is set. */
static void runner_sequence(const char *dir, const char *dbname, log_lines *log)
{
    char *mig = fmt("%s/migrations", dir, "");
    char *db = fmt("%s/%s", dir, dbname);
    strata_conn *c = open_db(dir, dbname);
    if (!c) { /* test_connect failed the test; nothing fatal: stderr may be redirected */
        free(db);
        free(mig);
        return;
    }
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = mig;
    if (log) {
        opt.log_cb = collect;
        opt.log_payload = log;
    }
    strata_report *rep = NULL;
    CU_ASSERT_EQUAL(strata_migrations_run(c, &opt, &rep), 0);
    strata_report_free(rep);
    rep = NULL;

    /* the second file goes away: a warning */
    char *second = fmt("%s/%s", mig, "002_second.json");
    char *moved = fmt("%s/%s", dir, "002_second.json");
    CU_ASSERT_EQUAL(rename(second, moved), 0);
    CU_ASSERT_EQUAL(strata_migrations_run(c, &opt, &rep), 0);
    strata_report_free(rep);
    rep = NULL;
    CU_ASSERT_EQUAL(rename(moved, second), 0);

    /* someone else holds the lock: waiting, then giving up */
    hold_lock_row(c, 1);
    opt.lock_timeout = 0.3;
    CU_ASSERT_EQUAL(strata_migrations_revert(c, &opt, &rep), STRATA_ELOCK);
    strata_report_free(rep);
    rep = NULL;
    hold_lock_row(c, 0);

    opt.all = 1;
    CU_ASSERT_EQUAL(strata_migrations_revert(c, &opt, &rep), 0);
    CU_ASSERT_EQUAL(rep ? rep->n : 0, 2);
    strata_report_free(rep);
    strata_conn_close(c);
    strata_error_clear();
    free(second);
    free(moved);
    free(db);
    free(mig);
}

static int starts_with(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_log_callback(void)
{
    char *dir = make_project("api-log");
    log_lines log = {{NULL}, {0}, 0};
    runner_sequence(dir, "log.db", &log);
    if (log.n != 6)
        for (int i = 0; i < log.n; i++)
            fprintf(stderr, "\n  log line %d (level %d): %s", i, log.level[i], log.text[i]);
    CU_ASSERT_EQUAL_FATAL(log.n, 6);
    CU_ASSERT(starts_with(log.text[0], "applied  001_first (1 ops, "));
    CU_ASSERT(starts_with(log.text[1], "applied  002_second (1 ops, "));
    CU_ASSERT_EQUAL(log.level[0], STRATA_LOG_INFO);
    CU_ASSERT_EQUAL(log.level[2], STRATA_LOG_WARNING);
    CU_ASSERT(starts_with(log.text[2], "applied migration 002_second has no file in "));
    CU_ASSERT(starts_with(log.text[3], "waiting for the migration lock, held by "));
    CU_ASSERT(starts_with(log.text[4], "reverted 002_second (1 ops, "));
    CU_ASSERT(starts_with(log.text[5], "reverted 001_first (1 ops, "));
    for (int i = 0; i < log.n; i++)
        CU_ASSERT_PTR_NULL(strchr(log.text[i], '\n'));
    log_lines_free(&log);
    remove_project(dir);
}

typedef struct progress_events {
    char tables[8][32];
    long long rows[8];
    size_t tables_done[8], tables_total[8];
    int done;
    int other;
} progress_events;

static void on_progress(const strata_seed_progress *p, void *payload)
{
    progress_events *e = payload;
    if (!p->done) {
        e->other++;
        return;
    }
    if (e->done < 8) {
        snprintf(e->tables[e->done], sizeof e->tables[0], "%s", p->table);
        e->tables_done[e->done] = p->tables_done;
        e->tables_total[e->done] = p->tables_total;
        e->rows[e->done++] = p->rows;
    }
}

static const char *seed_two_tables = "{\"tables\": ["
                                     "{\"table\": \"a\", \"rows\": [{\"id\": 1, \"name\": \"x\"}, "
                                     "{\"id\": 2, \"name\": \"y\"}]},"
                                     "{\"table\": \"b\", \"rows\": [{\"id\": 1}]}]}";

static void test_seed_progress_callback(void)
{
    char *dir = make_project("api-progress");
    char *mig = fmt("%s/migrations", dir, "");
    char *seed = fmt("%s/%s", dir, "seed.json");
    test_write_file(seed, seed_two_tables);
    strata_conn *c = open_db(dir, "p.db");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = mig;
    strata_report *rep = NULL;
    CU_ASSERT_EQUAL(strata_migrations_run(c, &opt, &rep), 0);
    strata_report_free(rep);

    progress_events ev;
    memset(&ev, 0, sizeof ev);
    strata_seed_options so = STRATA_SEED_OPTIONS_INIT;
    so.progress_cb = on_progress;
    so.progress_payload = &ev;
    strata_seed_report *sr = NULL;
    CU_ASSERT_EQUAL(strata_seed_file(c, seed, &so, &sr), 0);
    strata_seed_report_free(sr);
    /* one done event per table, in load order, with its row count */
    CU_ASSERT_EQUAL_FATAL(ev.done, 2);
    CU_ASSERT_STRING_EQUAL(ev.tables[0], "a");
    CU_ASSERT_EQUAL(ev.rows[0], 2);
    CU_ASSERT_STRING_EQUAL(ev.tables[1], "b");
    CU_ASSERT_EQUAL(ev.rows[1], 1);
    /* and where it stands among the tables */
    CU_ASSERT_EQUAL(ev.tables_done[0], 0);
    CU_ASSERT_EQUAL(ev.tables_done[1], 1);
    CU_ASSERT_EQUAL(ev.tables_total[0], 2);
    CU_ASSERT_EQUAL(ev.tables_total[1], 2);
    strata_conn_close(c);
    free(seed);
    free(mig);
    remove_project(dir);
}

typedef struct migration_events {
    char text[16][48]; /* "<id> <number>/<total> <up|down> <start|done>" */
    int n;
} migration_events;

static void on_migration(const strata_migration_progress *p, void *payload)
{
    migration_events *e = payload;
    if (e->n < 16)
        snprintf(e->text[e->n++], sizeof e->text[0], "%s %zu/%zu %s %s", p->id, p->number, p->total,
                 p->down ? "down" : "up", p->done ? "done" : "start");
}

/* run and revert tell the progress callback as each migration starts and
 * once it is done, with its place among those the call runs. */
static void test_migration_progress_callback(void)
{
    char *dir = make_project("api-mprogress");
    char *mig = fmt("%s/migrations", dir, "");
    strata_conn *c = open_db(dir, "m.db");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    migration_events ev;
    memset(&ev, 0, sizeof ev);
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = mig;
    opt.progress_cb = on_migration;
    opt.progress_payload = &ev;
    strata_report *rep = NULL;
    CU_ASSERT_EQUAL(strata_migrations_run(c, &opt, &rep), 0);
    strata_report_free(rep);
    opt.all = 1;
    CU_ASSERT_EQUAL(strata_migrations_revert(c, &opt, &rep), 0);
    strata_report_free(rep);
    static const char *const want[] = {
        "001_first 1/2 up start",   "001_first 1/2 up done",     "002_second 2/2 up start",
        "002_second 2/2 up done",   "002_second 1/2 down start", "002_second 1/2 down done",
        "001_first 2/2 down start", "001_first 2/2 down done",
    };
    CU_ASSERT_EQUAL_FATAL(ev.n, 8);
    for (int i = 0; i < 8; i++)
        CU_ASSERT_STRING_EQUAL(ev.text[i], want[i]);
    strata_conn_close(c);
    free(mig);
    remove_project(dir);
}

/* strata_options and strata_check_options as version 1 of the headers
 * declared them: what a program built then passes. */
typedef struct options_v1 {
    unsigned int version;
    const char *migrations_dir;
    double lock_timeout;
    int allow_out_of_order;
    int dry_run;
    const char *to;
    int steps;
    int all;
    int mark_applied;
    strata_log_fn log_cb;
    void *log_payload;
} options_v1;

/* strata_options as version 2 of the headers declared it (released before
 * single_transaction was appended in version 3). */
typedef struct options_v2 {
    options_v1 v1;
    int force;
    strata_migration_progress_fn progress_cb;
    void *progress_payload;
    const char *const *flags;
    size_t nflags;
    const char *history_compat;
} options_v2;

typedef struct check_options_v1 {
    unsigned int version;
    const char *migrations_dir;
    const char *seed_file;
} check_options_v1;

/* A program built against version 1 passes a struct that ends before the
 * fields of version 2: nothing past its end is read (AddressSanitizer
 * would see it: the structs are allocated at their own size), and the new
 * fields take their defaults. */
static void test_version1_struct(void)
{
    CU_ASSERT_EQUAL(sizeof(options_v1), offsetof(strata_options, force));
    CU_ASSERT_EQUAL(sizeof(check_options_v1), offsetof(strata_check_options, progress_cb));
    char *dir = make_project("api-v1");
    char *mig = fmt("%s/migrations", dir, "");
    strata_conn *c = open_db(dir, "v1.db");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    options_v1 *v1 = calloc(1, sizeof *v1);
    v1->version = 1;
    v1->migrations_dir = mig;
    strata_report *rep = NULL;
    CU_ASSERT_EQUAL(strata_migrations_run(c, (const strata_options *)(void *)v1, &rep), 0);
    CU_ASSERT_EQUAL(rep ? rep->n : 0, 2);
    strata_report_free(rep);
    free(v1);
    /* the same for version 2, which ends before single_transaction */
    CU_ASSERT_EQUAL(sizeof(options_v2), offsetof(strata_options, single_transaction));
    options_v2 *v2 = calloc(1, sizeof *v2);
    v2->v1.version = 2;
    v2->v1.migrations_dir = mig;
    v2->v1.all = 1;
    rep = NULL;
    CU_ASSERT_EQUAL(strata_migrations_revert(c, (const strata_options *)(void *)v2, &rep), 0);
    CU_ASSERT_EQUAL(rep ? rep->n : 0, 2);
    strata_report_free(rep);
    free(v2);
    check_options_v1 *cv1 = calloc(1, sizeof *cv1);
    cv1->version = 1;
    cv1->migrations_dir = mig;
    char *url = fmt("sqlite:%s/%s", dir, "v1check.db");
    const char *urls[] = {url};
    strata_check_result *cr = NULL;
    CU_ASSERT_EQUAL(strata_check(urls, 1, (const strata_check_options *)(void *)cv1, &cr), 0);
    CU_ASSERT(cr && cr->ok);
    strata_check_result_free(cr);
    free(cv1);
    free(url);
    strata_conn_close(c);
    free(mig);
    remove_project(dir);
}

/* migrations_dir may name several directories, separated by ':', read as
 * one set in version order; an id in two of them is refused; new files go
 * to the first. */
static void test_migration_dirs(void)
{
    char *dir = make_project("api-dirs");
    char *more = fmt("%s/more", dir, "");
    mkdir(more, 0777);
    char *third = fmt("%s/%s", more, "0015_between.json");
    test_write_file(third, mig_second);
    char *dirs = fmt("%s/migrations:%s", dir, more);
    /* 0015_between and 002_second both create table b: the order is by
     * version across the directories (1, 2, 15), so 0015_between fails */
    char *sql = NULL;
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = dirs;
    CU_ASSERT_EQUAL(strata_migrations_sql(&opt, STRATA_SQLITE, 0, NULL, 0, &sql), STRATA_EINPUT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "0015_between");
    free(sql);
    sql = NULL;
    /* a different table: a, between, b in version order */
    test_write_file(third, "{\"up\": [{\"op\": \"create_table\", \"table\": \"c\", "
                           "\"columns\": [{\"name\": \"id\", \"type\": \"integer\"}]}]}\n");
    CU_ASSERT_EQUAL(strata_migrations_sql(&opt, STRATA_SQLITE, 0, NULL, 0, &sql), 0);
    const char *a = sql ? strstr(sql, "CREATE TABLE \"a\"") : NULL;
    const char *b = sql ? strstr(sql, "CREATE TABLE \"b\"") : NULL;
    const char *c = sql ? strstr(sql, "CREATE TABLE \"c\"") : NULL;
    CU_ASSERT(a && b && c && a < b && b < c);
    free(sql);
    /* the same id in both */
    char *dup = fmt("%s/%s", more, "001_first.json");
    test_write_file(dup, mig_first);
    strata_report *rep = NULL;
    CU_ASSERT_EQUAL(strata_migrations_status(NULL, &opt, &rep), STRATA_EINPUT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "migration 001_first is in two directories");
    strata_report_free(rep);
    strata_error_clear();
    /* a new file goes to the first directory */
    char *path = NULL;
    CU_ASSERT_EQUAL(strata_migration_create(dirs, "next", &path), 0);
    char *first = fmt("%s/migrations/%s", dir, "");
    CU_ASSERT(path && strncmp(path, first, strlen(first)) == 0);
    free(first);
    free(path);
    free(dup);
    free(dirs);
    free(third);
    free(more);
    remove_project(dir);
}

typedef struct check_events {
    char steps[16][64];
    size_t done[16], total[16];
    int n;
} check_events;

static void on_check(const strata_check_progress *p, void *payload)
{
    check_events *e = payload;
    if (e->n < 16) {
        snprintf(e->steps[e->n], sizeof e->steps[0], "%s: %s %s", p->database, p->step,
                 p->ok ? "ok" : "failed");
        e->done[e->n] = p->steps_done;
        e->total[e->n++] = p->steps_total;
    }
}

/* strata_check tells the progress callback of every finished step. */
static void test_check_progress_callback(void)
{
    char *dir = make_project("api-cprogress");
    char *mig = fmt("%s/migrations", dir, "");
    char *url = fmt("sqlite:%s/%s", dir, "c.db");
    const char *urls[] = {url};
    check_events ev;
    memset(&ev, 0, sizeof ev);
    strata_check_options co = STRATA_CHECK_OPTIONS_INIT;
    co.migrations_dir = mig;
    co.progress_cb = on_check;
    co.progress_payload = &ev;
    strata_check_result *cr = NULL;
    CU_ASSERT_EQUAL(strata_check(urls, 1, &co, &cr), 0);
    CU_ASSERT(cr && cr->ok);
    CU_ASSERT_EQUAL_FATAL(ev.n, 7);
    CU_ASSERT_STRING_EQUAL(ev.steps[0], "sqlite: connect ok");
    CU_ASSERT_STRING_EQUAL(ev.steps[6], "sqlite: same schema after revert and re-apply ok");
    for (int i = 0; i < ev.n; i++) {
        CU_ASSERT_EQUAL(ev.done[i], (size_t)i + 1);
        CU_ASSERT_EQUAL(ev.total[i], 7);
    }
    strata_check_result_free(cr);
    free(url);
    free(mig);
    remove_project(dir);
}

/* Redirect a standard descriptor to a file; returns the saved original. */
static int redirect(int fd, const char *path)
{
    fflush(NULL);
    int saved = dup(fd);
    int to = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(to, fd);
    close(to);
    return saved;
}

static void restore(int fd, int saved)
{
    fflush(NULL);
    dup2(saved, fd);
    close(saved);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Without callbacks, nothing reaches stdout or stderr: not the runner's
 * lines, the warning, the lock wait, nor the seed's progress. */
static void test_silent_by_default(void)
{
    char *dir = make_project("api-silent");
    char *out = fmt("%s/%s", dir, "stdout.txt");
    char *err = fmt("%s/%s", dir, "stderr.txt");
    char *seed = fmt("%s/%s", dir, "seed.json");
    test_write_file(seed, seed_two_tables);

    int saved_out = redirect(STDOUT_FILENO, out);
    int saved_err = redirect(STDERR_FILENO, err);
    /* no CUnit assertion may print in here: collect, judge afterwards */
    runner_sequence(dir, "silent.db", NULL);
    strata_conn *c = open_db(dir, "silent.db");
    strata_report *rep = NULL;
    char *mig = fmt("%s/migrations", dir, "");
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = mig;
    int run_rc = c ? strata_migrations_run(c, &opt, &rep) : -1;
    strata_report_free(rep);
    strata_seed_report *sr = NULL;
    int seed_rc = c ? strata_seed_file(c, seed, NULL, &sr) : -1;
    strata_seed_report_free(sr);
    strata_conn_close(c);
    restore(STDERR_FILENO, saved_err);
    restore(STDOUT_FILENO, saved_out);

    CU_ASSERT_EQUAL(run_rc, 0);
    CU_ASSERT_EQUAL(seed_rc, 0);
    CU_ASSERT_EQUAL(file_size(out), 0);
    CU_ASSERT_EQUAL(file_size(err), 0);
    if (file_size(err) > 0) {
        char *show = fmt("cat '%s'%s", err, "");
        char *text = NULL;
        test_run_cmd(show, &text);
        fprintf(stderr, "\n  printed on stderr:\n%s\n", text ? text : "");
        free(text);
        free(show);
    }
    free(mig);
    free(seed);
    free(out);
    free(err);
    strata_error_clear();
    remove_project(dir);
}

static const test_case tests[] = {
    {"strata_version() is the headers' STRATA_VERSION", test_version},
    {"the options init functions: defaults, unknown versions", test_init_functions},
    {"every function refuses options of an unknown version, changing nothing",
     test_wrong_version_refused},
    {"a version 1 strata_options still works, the new fields defaulted", test_options_version_1},
    {"NULL options mean the defaults (run, status, validate, sql, revert, ...)", test_null_options},
    {"the log callback gets the runner's lines, warnings marked", test_log_callback},
    {"the seed progress callback gets a done event per table", test_seed_progress_callback},
    {"the migration progress callback: each migration's start and end",
     test_migration_progress_callback},
    {"the check progress callback: every finished step", test_check_progress_callback},
    {"version 1 and 2 options structs: nothing read past their end", test_version1_struct},
    {"several migration directories, one set", test_migration_dirs},
    {"without callbacks the library prints nothing", test_silent_by_default},
    {NULL, NULL},
};

int main(void)
{
    test_add_suite("api/sqlite", tests);
    return test_main();
}
