/*
 * test_online.c - "online": true (docs/operations.md, "Online operations").
 *
 * Offline: the SQL each database gets for an online index, foreign key and
 * check, and that a table the migration creates gets the plain statements.
 * On the databases:
 *  - PostgreSQL: while a CREATE INDEX CONCURRENTLY waits for a transaction
 *    that wrote to the table, another writer keeps writing; the same
 *    migration without "online" makes that writer wait (so the test can
 *    tell). A unique online index that fails on duplicates leaves no
 *    INVALID index behind, and an INVALID index left by an interrupted
 *    build is dropped and built again. A foreign key with rows that
 *    reference nothing fails at VALIDATE and is undone.
 *  - MariaDB: a writer keeps writing while ALGORITHM=INPLACE LOCK=NONE
 *    builds an index on a table big enough for the build to take a while;
 *    the same build with LOCK=SHARED makes it wait. An online foreign key
 *    over rows that reference nothing fails its check, is undone, and
 *    leaves foreign_key_checks on.
 *  - all three: online indexes, foreign keys and checks on valid data apply
 *    and revert.
 */
#include "testutil.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- migrations in a temporary directory ---- */

typedef struct migdir {
    char *path;
    int n;
} migdir;

/* Write migration i (1-based) from JSON with ' for ". */
static void mig_write(migdir *d, int i, const char *json)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%03d_m%d.json", d->path, i, i);
    char *s = strdup(json);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    test_write_file(path, s);
    free(s);
    if (i > d->n)
        d->n = i;
}

static void mig_free(migdir *d)
{
    for (int i = 1; i <= d->n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%03d_m%d.json", d->path, i, i);
        unlink(path);
    }
    rmdir(d->path);
    free(d->path);
}

static char *sql_of(migdir *d, strata_dialect dialect, const char *version)
{
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = d->path;
    const char *v[] = {version};
    char *out = NULL;
    if (strata_migrations_sql(&opt, dialect, 0, v, 1, &out) != 0)
        fprintf(stderr, "\n  %s\n", strata_error_message());
    return out;
}

static const char *const BASE =
    "{'up':[{'op':'create_table','table':'p','columns':[{'name':'id','type':'integer',"
    "'primary_key':true}]},"
    "{'op':'create_table','table':'t','columns':[{'name':'id','type':'serial','primary_key':"
    "true},{'name':'n','type':'integer'},{'name':'pid','type':'integer'},"
    "{'name':'gone','type':'timestamptz'}]}]}";

static const char *const ONLINE =
    "{'up':["
    "{'op':'create_index','table':'t','name':'t_n','columns':['n'],'online':true},"
    "{'op':'create_index','table':'t','name':'t_n_live','columns':['n'],'unique':true,"
    "'where':{'column':'gone','is_null':true},'online':true},"
    "{'op':'add_foreign_key','table':'t','name':'t_pid_fk','columns':['pid'],"
    "'references':{'table':'p','columns':['id']},'online':true},"
    "{'op':'add_check','table':'t','name':'t_n_ck','check':{'column':'n','ge':0},"
    "'online':true}]}";

static void test_sql(void)
{
    migdir d = {test_tempdir("online"), 0};
    mig_write(&d, 1, BASE);
    mig_write(&d, 2, ONLINE);
    char *pg = sql_of(&d, STRATA_POSTGRES, "002");
    CU_ASSERT_STR_CONTAINS(
        pg, "-- strata: when an interrupted build left index \"t_n\" INVALID: DROP INDEX "
            "CONCURRENTLY IF EXISTS \"t_n\";\nCREATE INDEX CONCURRENTLY \"t_n\" ON \"t\" "
            "(\"n\");\n-- strata: if it fails: DROP INDEX CONCURRENTLY IF EXISTS \"t_n\";\n");
    CU_ASSERT_STR_CONTAINS(pg, "CREATE UNIQUE INDEX CONCURRENTLY \"t_n_live\" ON \"t\" (\"n\") "
                               "WHERE \"gone\" IS NULL;\n");
    CU_ASSERT_STR_CONTAINS(pg, "ALTER TABLE \"t\" ADD CONSTRAINT \"t_pid_fk\" FOREIGN KEY "
                               "(\"pid\") REFERENCES \"p\" (\"id\") NOT VALID;\nALTER TABLE "
                               "\"t\" VALIDATE CONSTRAINT \"t_pid_fk\";\n");
    CU_ASSERT_STR_CONTAINS(pg, "CHECK (\"n\" >= 0) NOT VALID;\nALTER TABLE \"t\" VALIDATE "
                               "CONSTRAINT \"t_n_ck\";\n");
    CU_ASSERT(pg && !strstr(pg, "BEGIN;")); /* op by op */
    char *my = sql_of(&d, STRATA_MYSQL, "002");
    CU_ASSERT_STR_CONTAINS(my, "CREATE INDEX `t_n` ON `t` (`n`) ALGORITHM=INPLACE LOCK=NONE;\n");
    CU_ASSERT_STR_CONTAINS(my, "COMMENT 'strata:partial-unique t_n_live "
                               "{\"column\":\"gone\",\"is_null\":true}';\nALTER TABLE `t` ADD "
                               "UNIQUE INDEX `t_n_live` (`t_n_live_partial1`), ALGORITHM=INPLACE, "
                               "LOCK=NONE;\n");
    CU_ASSERT_STR_CONTAINS(
        my, "SET SESSION foreign_key_checks = 0;\nALTER TABLE `t` ADD CONSTRAINT `t_pid_fk` "
            "FOREIGN KEY (`pid`) REFERENCES `p` (`id`), ALGORITHM=INPLACE, LOCK=NONE;\n-- strata: "
            "if it fails: SET SESSION foreign_key_checks = 1;\nSET SESSION foreign_key_checks = "
            "1;\n");
    CU_ASSERT_STR_CONTAINS(my, "-- SELECT 1 FROM `t` AS strata_c WHERE strata_c.`pid` IS NOT NULL "
                               "AND NOT EXISTS (SELECT 1 FROM `p` AS strata_p WHERE strata_p.`id` "
                               "= strata_c.`pid`) LIMIT 1;\n");
    CU_ASSERT_STR_CONTAINS(my, "ALTER TABLE `t` ADD CONSTRAINT `t_n_ck` CHECK (`n` >= 0);\n");
    char *sl = sql_of(&d, STRATA_SQLITE, "002");
    CU_ASSERT_STR_CONTAINS(sl, "CREATE INDEX \"t_n\" ON \"t\" (\"n\");\n");
    CU_ASSERT(sl && !strstr(sl, "CONCURRENTLY") && !strstr(sl, "ALGORITHM"));
    free(pg);
    free(my);
    free(sl);
    /* on a table its own migration creates, the plain statements */
    mig_write(&d, 3,
              "{'up':[{'op':'create_table','table':'u','columns':[{'name':'id','type':'integer',"
              "'primary_key':true},{'name':'pid','type':'integer'}]},"
              "{'op':'create_index','table':'u','name':'u_pid','columns':['pid'],'online':true},"
              "{'op':'add_foreign_key','table':'u','name':'u_pid_fk','columns':['pid'],"
              "'references':{'table':'p','columns':['id']},'online':true}]}");
    pg = sql_of(&d, STRATA_POSTGRES, "003");
    CU_ASSERT_STR_CONTAINS(pg, "BEGIN;\n");
    CU_ASSERT_STR_CONTAINS(pg, "CREATE INDEX \"u_pid\" ON \"u\" (\"pid\");\n");
    CU_ASSERT(pg && !strstr(pg, "CONCURRENTLY") && !strstr(pg, "NOT VALID"));
    my = sql_of(&d, STRATA_MYSQL, "003");
    /* the plain foreign key: its own check of the rows needs no query here, and no
     * online clauses */
    CU_ASSERT(my && !strstr(my, "ALGORITHM") && !strstr(my, "strata_c"));
    free(pg);
    free(my);
    mig_free(&d);
}

/* ---- running migrations ---- */

static int run(strata_conn *conn, migdir *d, const char *to)
{
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = d->path;
    opt.to = to;
    strata_report *rep = NULL;
    int rc = strata_migrations_run(conn, &opt, &rep);
    strata_report_free(rep);
    return rc;
}

static int revert_all(strata_conn *conn, migdir *d)
{
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = d->path;
    opt.all = 1;
    strata_report *rep = NULL;
    int rc = strata_migrations_revert(conn, &opt, &rep);
    strata_report_free(rep);
    return rc;
}

/* Every database: online indexes, foreign key and check on valid data
 * apply, hold, and revert. */
static void test_apply_revert(void)
{
    char *url = test_fresh_database(test_dialect, "online");
    CU_ASSERT_PTR_NOT_NULL_FATAL(url);
    strata_conn *c = test_connect(url);
    migdir d = {test_tempdir("online"), 0};
    mig_write(&d, 1, BASE);
    mig_write(&d, 2, ONLINE);
    CU_ASSERT_EQUAL(run(c, &d, "001"), 0);
    test_exec(c, "INSERT INTO p (id) VALUES (1), (2)");
    test_exec(c, "INSERT INTO t (n, pid) VALUES (1, 1), (2, 2), (3, NULL)");
    int rc = run(c, &d, NULL);
    if (rc)
        fprintf(stderr, "\n  %s\n", strata_error_message());
    CU_ASSERT_EQUAL(rc, 0);
    /* the key and the check hold */
    CU_ASSERT_NOT_EQUAL(strata_conn_exec(c, "INSERT INTO t (n, pid) VALUES (4, 99)"), 0);
    CU_ASSERT_NOT_EQUAL(strata_conn_exec(c, "INSERT INTO t (n, pid) VALUES (-1, 1)"), 0);
    CU_ASSERT_NOT_EQUAL(strata_conn_exec(c, "INSERT INTO t (n, pid) VALUES (1, 1)"), 0);
    strata_error_clear();
    if (test_dialect == STRATA_POSTGRES)
        CU_ASSERT_EQUAL(test_scalar_int(c, "SELECT count(*) FROM pg_index WHERE NOT indisvalid"),
                        0);
    if (test_dialect == STRATA_MYSQL)
        CU_ASSERT_EQUAL(test_scalar_int(c, "SELECT @@SESSION.foreign_key_checks"), 1);
    CU_ASSERT_EQUAL(revert_all(c, &d), 0);
    strata_conn_close(c);
    test_drop_database(test_dialect, url);
    free(url);
    mig_free(&d);
}

/* A foreign key added online over rows that reference nothing fails, is
 * undone, and leaves nothing behind. */
static void test_fk_orphans(void)
{
    char *url = test_fresh_database(test_dialect, "onlinefk");
    CU_ASSERT_PTR_NOT_NULL_FATAL(url);
    strata_conn *c = test_connect(url);
    migdir d = {test_tempdir("online"), 0};
    mig_write(&d, 1, BASE);
    mig_write(&d, 2,
              "{'up':[{'op':'add_foreign_key','table':'t','name':'t_pid_fk','columns':['pid'],"
              "'references':{'table':'p','columns':['id']},'online':true}]}");
    CU_ASSERT_EQUAL(run(c, &d, "001"), 0);
    test_exec(c, "INSERT INTO p (id) VALUES (1)");
    test_exec(c, "INSERT INTO t (n, pid) VALUES (1, 1), (2, 7)");
    CU_ASSERT_NOT_EQUAL(run(c, &d, NULL), 0);
    const char *msg = strata_error_message();
    if (test_dialect == STRATA_MYSQL)
        CU_ASSERT_STR_CONTAINS(msg, "rows of 't' reference rows of 'p' that do not exist");
    if (test_dialect == STRATA_POSTGRES)
        CU_ASSERT_STR_CONTAINS(msg, "VALIDATE CONSTRAINT");
    strata_error_clear();
    /* undone: a row that references nothing goes in again */
    CU_ASSERT_EQUAL(strata_conn_exec(c, "INSERT INTO t (n, pid) VALUES (3, 8)"), 0);
    if (test_dialect == STRATA_MYSQL)
        CU_ASSERT_EQUAL(test_scalar_int(c, "SELECT @@SESSION.foreign_key_checks"), 1);
    if (test_dialect == STRATA_POSTGRES)
        CU_ASSERT_EQUAL(
            test_scalar_int(c, "SELECT count(*) FROM pg_constraint WHERE conname = 't_pid_fk'"), 0);
    strata_conn_close(c);
    test_drop_database(test_dialect, url);
    free(url);
    mig_free(&d);
}

/* ---- PostgreSQL: a writer keeps writing during CREATE INDEX CONCURRENTLY ---- */

typedef struct runner_arg {
    const char *url;
    migdir *d;
    int rc;
    char msg[512];
} runner_arg;

static void *run_thread(void *p)
{
    runner_arg *a = p;
    strata_conn *c = NULL;
    a->rc = strata_conn_open(&c, a->url);
    if (!a->rc)
        a->rc = run(c, a->d, NULL);
    if (a->rc)
        snprintf(a->msg, sizeof a->msg, "%s", strata_error_message());
    strata_conn_close(c);
    return NULL;
}

/* Wait until pg_stat_activity shows a statement starting with `prefix`
 * (up to 20 s); 1 when it does. */
static int wait_for_statement(strata_conn *c, const char *prefix)
{
    char q[512];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%s%%' AND state = 'active'",
             prefix);
    for (int i = 0; i < 400; i++) {
        if (test_scalar_int(c, q) > 0)
            return 1;
        usleep(50000);
    }
    return 0;
}

/* With a transaction holding a write to "t" open, run migration 2 (an
 * index on t, online or not) in a thread; once its CREATE INDEX is waiting,
 * a third session inserts with lock_timeout 300 ms. Returns how many of its 10
 * inserts went through while the index build was still waiting. */
static int pg_writes_during_build(const char *url, int online)
{
    migdir d = {test_tempdir("online"), 0};
    mig_write(&d, 1, BASE);
    mig_write(&d, 2,
              online ? "{'up':[{'op':'create_index','table':'t','name':'t_n','columns':['n'],"
                       "'online':true}]}"
                     : "{'up':[{'op':'create_index','table':'t','name':'t_n','columns':['n']}]}");
    strata_conn *setup = test_connect(url);
    CU_ASSERT_EQUAL(run(setup, &d, "001"), 0);
    test_exec(setup, "INSERT INTO t (n) SELECT g FROM generate_series(1, 1000) g");
    strata_conn *holder = test_connect(url), *writer = test_connect(url);
    test_exec(holder, "BEGIN");
    test_exec(holder, "INSERT INTO t (n) VALUES (0)");
    runner_arg a = {url, &d, 0, ""};
    pthread_t th;
    pthread_create(&th, NULL, run_thread, &a);
    int waiting = wait_for_statement(setup, online ? "CREATE INDEX CONCURRENTLY" : "CREATE INDEX");
    CU_ASSERT(waiting);
    test_exec(writer, "SET lock_timeout = '300ms'");
    int ok = 0;
    for (int i = 0; waiting && i < 10; i++)
        ok += strata_conn_exec(writer, "INSERT INTO t (n) VALUES (5000)") == 0;
    strata_error_clear();
    /* the build is still waiting for the holder: the writes were concurrent */
    CU_ASSERT(wait_for_statement(setup, "CREATE INDEX"));
    test_exec(holder, "COMMIT");
    pthread_join(th, NULL);
    if (a.rc)
        fprintf(stderr, "\n  migration: %s\n", a.msg);
    CU_ASSERT_EQUAL(a.rc, 0);
    CU_ASSERT_EQUAL(test_scalar_int(setup, "SELECT count(*) FROM pg_index i JOIN pg_class c ON "
                                           "c.oid = i.indexrelid WHERE c.relname = 't_n' AND "
                                           "i.indisvalid"),
                    1);
    CU_ASSERT_EQUAL(test_scalar_int(setup, "SELECT count(*) FROM t"), 1001 + ok);
    CU_ASSERT_EQUAL(revert_all(setup, &d), 0);
    strata_conn_close(holder);
    strata_conn_close(writer);
    strata_conn_close(setup);
    mig_free(&d);
    return ok;
}

static void test_pg_concurrent_writer(void)
{
    if (test_dialect != STRATA_POSTGRES)
        return;
    char *url = test_fresh_database(test_dialect, "onlinepg");
    CU_ASSERT_PTR_NOT_NULL_FATAL(url);
    CU_ASSERT_EQUAL(pg_writes_during_build(url, 1), 10);
    /* without "online", the writer waits behind CREATE INDEX (and times out) */
    CU_ASSERT_EQUAL(pg_writes_during_build(url, 0), 0);
    test_drop_database(test_dialect, url);
    free(url);
}

/* A unique index built online over duplicates fails and leaves no INVALID
 * index; an INVALID one left by an interrupted build is replaced. */
static void test_pg_invalid_index(void)
{
    if (test_dialect != STRATA_POSTGRES)
        return;
    char *url = test_fresh_database(test_dialect, "onlineinv");
    CU_ASSERT_PTR_NOT_NULL_FATAL(url);
    strata_conn *c = test_connect(url);
    migdir d = {test_tempdir("online"), 0};
    mig_write(&d, 1, BASE);
    mig_write(&d, 2,
              "{'up':[{'op':'create_index','table':'t','name':'t_n_uq','columns':['n'],"
              "'unique':true,'online':true}]}");
    CU_ASSERT_EQUAL(run(c, &d, "001"), 0);
    test_exec(c, "INSERT INTO t (n) VALUES (1), (1)");
    CU_ASSERT_NOT_EQUAL(run(c, &d, NULL), 0);
    strata_error_clear();
    CU_ASSERT_EQUAL(test_scalar_int(c, "SELECT count(*) FROM pg_class WHERE relname = 't_n_uq'"),
                    0);
    /* what an interrupted build leaves: an INVALID index of that name */
    strata_conn_exec(c, "CREATE UNIQUE INDEX CONCURRENTLY \"t_n_uq\" ON \"t\" (\"n\")");
    strata_error_clear();
    CU_ASSERT_EQUAL(test_scalar_int(c, "SELECT count(*) FROM pg_index i JOIN pg_class x ON x.oid "
                                       "= i.indexrelid WHERE x.relname = 't_n_uq' AND NOT "
                                       "i.indisvalid"),
                    1);
    test_exec(c, "DELETE FROM t WHERE id = (SELECT max(id) FROM t)");
    int rc = run(c, &d, NULL);
    if (rc)
        fprintf(stderr, "\n  %s\n", strata_error_message());
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(test_scalar_int(c, "SELECT count(*) FROM pg_index i JOIN pg_class x ON x.oid "
                                       "= i.indexrelid WHERE x.relname = 't_n_uq' AND "
                                       "i.indisvalid"),
                    1);
    strata_conn_close(c);
    test_drop_database(test_dialect, url);
    free(url);
    mig_free(&d);
}

/* ---- MariaDB: a writer keeps writing during ALGORITHM=INPLACE LOCK=NONE ---- */

typedef struct writer_arg {
    const char *url;
    volatile int *stop;
    double *t0, *t1; /* when each insert started and finished */
    size_t n, cap;
} writer_arg;

static void *write_thread(void *p)
{
    writer_arg *w = p;
    strata_conn *c = NULL;
    if (strata_conn_open(&c, w->url) != 0)
        return NULL;
    strata_conn_exec(c, "SET SESSION lock_wait_timeout = 60");
    while (!*w->stop) {
        double t0 = now_seconds();
        int rc = strata_conn_exec(c, "INSERT INTO t (n, pid) VALUES (7, NULL)");
        double t1 = now_seconds();
        if (rc == 0 && w->n < w->cap) {
            w->t0[w->n] = t0;
            w->t1[w->n++] = t1;
        }
        usleep(2000);
    }
    strata_conn_close(c);
    return NULL;
}

/* Run migration `version` (`mig`) while a writer inserts into t. *build
 * gets how long the run took, *slowest the longest wait of an insert that
 * started during it. Returns how many inserts started during the run and
 * finished before it ended. */
static int mysql_writes_during(const char *url, migdir *d, int version, const char *mig,
                               double *build, double *slowest)
{
    mig_write(d, version, mig);
    strata_conn *c = test_connect(url);
    volatile int stop = 0;
    writer_arg w = {url, &stop, calloc(100000, sizeof(double)), calloc(100000, sizeof(double)),
                    0,   100000};
    pthread_t th;
    pthread_create(&th, NULL, write_thread, &w);
    usleep(200000);
    double start = now_seconds();
    int rc = run(c, d, NULL);
    double finish = now_seconds();
    if (rc)
        fprintf(stderr, "\n  %s\n", strata_error_message());
    CU_ASSERT_EQUAL(rc, 0);
    usleep(100000);
    stop = 1;
    pthread_join(th, NULL);
    int during = 0;
    *slowest = 0;
    for (size_t i = 0; i < w.n; i++)
        if (w.t0[i] >= start && w.t0[i] < finish) {
            during += w.t1[i] < finish;
            if (w.t1[i] - w.t0[i] > *slowest)
                *slowest = w.t1[i] - w.t0[i];
        }
    *build = finish - start;
    free(w.t0);
    free(w.t1);
    strata_conn_close(c);
    return during;
}

static void test_mysql_concurrent_writer(void)
{
    if (test_dialect != STRATA_MYSQL)
        return;
    char *url = test_fresh_database(test_dialect, "onlinemy");
    CU_ASSERT_PTR_NOT_NULL_FATAL(url);
    strata_conn *c = test_connect(url);
    migdir d = {test_tempdir("online"), 0};
    mig_write(&d, 1, BASE);
    CU_ASSERT_EQUAL(run(c, &d, NULL), 0);
    /* 2^19 rows: an index over them takes a while to build */
    test_exec(c, "INSERT INTO t (n) VALUES (1)");
    for (int i = 0; i < 19; i++)
        test_exec(c, "INSERT INTO t (n) SELECT n + id FROM t");
    double build = 0, latency = 0;
    int during = 0, version = 2;
    /* a build that takes a while: double the table until it does */
    for (int attempt = 0; attempt < 4; attempt++, version++) {
        char mig[512];
        snprintf(mig, sizeof mig,
                 "{'up':[{'op':'create_index','table':'t','name':'t_n_gone_%d','columns':['n',"
                 "'gone'],'online':true}]}",
                 attempt);
        during = mysql_writes_during(url, &d, version, mig, &build, &latency);
        fprintf(stderr, "\n  online: %d inserts during a %.2f s build, the slowest %.3f s", during,
                build, latency);
        if (build > 0.2)
            break;
        test_exec(c, "INSERT INTO t (n) SELECT n + id FROM t");
    }
    CU_ASSERT(build > 0.2);
    CU_ASSERT(during >= 5);
    CU_ASSERT(latency < build / 2);
    /* the same build with LOCK=SHARED: the writer waits it out */
    during = mysql_writes_during(url, &d, version + 1,
                                 "{'up':[{'op':'sql','all':['ALTER TABLE `t` ADD INDEX `t_gone_n` "
                                 "(`gone`, `n`), ALGORITHM=INPLACE, LOCK=SHARED']}],'down':[]}",
                                 &build, &latency);
    fprintf(stderr, "\n  LOCK=SHARED: %d inserts during a %.2f s build, the slowest %.3f s\n",
            during, build, latency);
    CU_ASSERT(latency > build / 3);
    strata_conn_close(c);
    test_drop_database(test_dialect, url);
    free(url);
    mig_free(&d);
}

static const test_case offline_tests[] = {
    {"the SQL of online operations", test_sql},
    {NULL, NULL},
};

static const test_case db_tests[] = {
    {"online operations apply and revert", test_apply_revert},
    {"an online foreign key over orphans is undone", test_fk_orphans},
    {"PostgreSQL: a writer keeps writing during the build", test_pg_concurrent_writer},
    {"PostgreSQL: INVALID indexes are cleaned up", test_pg_invalid_index},
    {"MariaDB: a writer keeps writing during the build", test_mysql_concurrent_writer},
    {NULL, NULL},
};

int main(void)
{
    test_add_suite("online", offline_tests);
    test_add_dialect_suites("online-db", NULL, NULL, db_tests);
    return test_main();
}
