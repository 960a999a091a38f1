/*
 * testutil.c - see testutil.h.
 */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

strata_dialect test_dialect;

const char *test_base_url(strata_dialect d)
{
    const char *var = d == STRATA_POSTGRES ? "STRATA_TEST_PG_URL" : "STRATA_TEST_MYSQL_URL";
    if (d == STRATA_SQLITE)
        return "sqlite:";
    const char *url = getenv(var);
    if (!url || !*url) {
        fprintf(stderr,
                "\n%s is not set: start the test databases with scripts/services.sh "
                "(scripts/test.sh does this). Failing, not skipping.\n",
                var);
        return NULL;
    }
    return url;
}

strata_conn *test_connect(const char *url)
{
    strata_conn *c = NULL;
    if (!url || strata_conn_open(&c, url) != 0) {
        fprintf(stderr, "\ncannot connect to %s: %s\n", url ? url : "(no URL)",
                strata_error_message());
        return NULL;
    }
    return c;
}

static int counter;

char *test_fresh_database(strata_dialect d, const char *tag)
{
    char name[96];
    snprintf(name, sizeof name, "t_%s_%d_%d", tag, (int)getpid(), ++counter);
    if (d == STRATA_SQLITE) {
        const char *tmp = getenv("TMPDIR");
        char *path;
        if (asprintf(&path, "sqlite:%s/strata-%s.db", tmp && *tmp ? tmp : "/tmp", name) < 0)
            return NULL;
        unlink(path + 7);
        return path;
    }
    const char *base = test_base_url(d);
    if (!base)
        return NULL;
    strata_conn *c = test_connect(base);
    if (!c)
        return NULL;
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
    strata_conn_exec(c, sql);
    if (d == STRATA_MYSQL)
        snprintf(sql, sizeof sql,
                 "CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin", name);
    else
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    if (strata_conn_exec(c, sql) != 0) {
        fprintf(stderr, "\ncannot create database %s: %s\n", name, strata_error_message());
        strata_conn_close(c);
        return NULL;
    }
    strata_conn_close(c);
    /* replace the path of the base URL with the new name */
    const char *slash = strchr(strstr(base, "://") + 3, '/');
    const char *q = strchr(slash, '?');
    char *url;
    if (asprintf(&url, "%.*s/%s%s", (int)(slash - base), base, name, q ? q : "") < 0)
        return NULL;
    return url;
}

void test_drop_database(strata_dialect d, const char *url)
{
    if (!url)
        return;
    if (d == STRATA_SQLITE) {
        unlink(url + 7);
        return;
    }
    const char *slash = strchr(strstr(url, "://") + 3, '/');
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(slash + 1, "?"), slash + 1);
    strata_conn *c = test_connect(test_base_url(d));
    if (!c)
        return;
    char sql[256];
    if (d == STRATA_POSTGRES)
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    else
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
    strata_conn_exec(c, sql);
    strata_conn_close(c);
}

/* ---- suites per dialect ---- */

typedef struct dialect_suite {
    int (*init)(void);
    int (*cleanup)(void);
} dialect_suite;

#define MAX_SUITES 64
static dialect_suite suites[MAX_SUITES][STRATA_DIALECT_COUNT];
static int nsuites;

#define DEFINE_WRAPPERS(k)                                                                         \
    static int init_##k##_pg(void)                                                                 \
    {                                                                                              \
        test_dialect = STRATA_POSTGRES;                                                            \
        return suites[k][0].init ? suites[k][0].init() : 0;                                        \
    }                                                                                              \
    static int init_##k##_my(void)                                                                 \
    {                                                                                              \
        test_dialect = STRATA_MYSQL;                                                               \
        return suites[k][1].init ? suites[k][1].init() : 0;                                        \
    }                                                                                              \
    static int init_##k##_sl(void)                                                                 \
    {                                                                                              \
        test_dialect = STRATA_SQLITE;                                                              \
        return suites[k][2].init ? suites[k][2].init() : 0;                                        \
    }                                                                                              \
    static int clean_##k##_pg(void)                                                                \
    {                                                                                              \
        test_dialect = STRATA_POSTGRES;                                                            \
        return suites[k][0].cleanup ? suites[k][0].cleanup() : 0;                                  \
    }                                                                                              \
    static int clean_##k##_my(void)                                                                \
    {                                                                                              \
        test_dialect = STRATA_MYSQL;                                                               \
        return suites[k][1].cleanup ? suites[k][1].cleanup() : 0;                                  \
    }                                                                                              \
    static int clean_##k##_sl(void)                                                                \
    {                                                                                              \
        test_dialect = STRATA_SQLITE;                                                              \
        return suites[k][2].cleanup ? suites[k][2].cleanup() : 0;                                  \
    }

DEFINE_WRAPPERS(0)
DEFINE_WRAPPERS(1)
DEFINE_WRAPPERS(2)
DEFINE_WRAPPERS(3)
DEFINE_WRAPPERS(4)
DEFINE_WRAPPERS(5)
DEFINE_WRAPPERS(6)
DEFINE_WRAPPERS(7)

typedef int (*suite_fn)(void);
static const suite_fn init_wrappers[][3] = {
    {init_0_pg, init_0_my, init_0_sl}, {init_1_pg, init_1_my, init_1_sl},
    {init_2_pg, init_2_my, init_2_sl}, {init_3_pg, init_3_my, init_3_sl},
    {init_4_pg, init_4_my, init_4_sl}, {init_5_pg, init_5_my, init_5_sl},
    {init_6_pg, init_6_my, init_6_sl}, {init_7_pg, init_7_my, init_7_sl},
};
static const suite_fn clean_wrappers[][3] = {
    {clean_0_pg, clean_0_my, clean_0_sl}, {clean_1_pg, clean_1_my, clean_1_sl},
    {clean_2_pg, clean_2_my, clean_2_sl}, {clean_3_pg, clean_3_my, clean_3_sl},
    {clean_4_pg, clean_4_my, clean_4_sl}, {clean_5_pg, clean_5_my, clean_5_sl},
    {clean_6_pg, clean_6_my, clean_6_sl}, {clean_7_pg, clean_7_my, clean_7_sl},
};

static void ensure_registry(void)
{
    if (!CU_get_registry()) {
        if (CU_initialize_registry() != CUE_SUCCESS) {
            fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
            exit(2);
        }
    }
}

/* STRATA_TEST_ONLY=text runs only the tests whose name holds it (while
 * working on one; unset: every test). */
static int test_selected(const char *name)
{
    const char *only = getenv("STRATA_TEST_ONLY");
    return !only || !*only || strstr(name, only) != NULL;
}

void test_add_dialect_suites(const char *name, int (*init)(void), int (*cleanup)(void),
                             const test_case *tests)
{
    ensure_registry();
    int k = nsuites++;
    if (k >= (int)(sizeof init_wrappers / sizeof init_wrappers[0])) {
        fprintf(stderr, "too many dialect suites\n");
        exit(2);
    }
    for (int d = 0; d < STRATA_DIALECT_COUNT; d++) {
        suites[k][d].init = init;
        suites[k][d].cleanup = cleanup;
        char sname[128];
        snprintf(sname, sizeof sname, "%s/%s", name, strata_dialect_name((strata_dialect)d));
        CU_pSuite s = CU_add_suite(sname, init_wrappers[k][d], clean_wrappers[k][d]);
        for (const test_case *t = tests; t->name; t++)
            if (test_selected(t->name))
                CU_add_test(s, t->name, t->fn);
    }
}

void test_add_suite(const char *name, const test_case *tests)
{
    ensure_registry();
    CU_pSuite s = CU_add_suite(name, NULL, NULL);
    for (const test_case *t = tests; t->name; t++)
        if (test_selected(t->name))
            CU_add_test(s, t->name, t->fn);
}

int test_main(void)
{
    ensure_registry();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed() +
                      CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    strata_error_clear();
    if (ran == 0) {
        fprintf(stderr, "no test ran\n");
        return 1;
    }
    return failed ? 1 : 0;
}

/* ---- SQL helpers ---- */

int test_exec(strata_conn *c, const char *sql)
{
    int rc = strata_conn_exec(c, sql);
    if (rc)
        fprintf(stderr, "\n  SQL failed: %s\n  %s\n", sql, strata_error_message());
    CU_ASSERT_EQUAL(rc, 0);
    return rc;
}

char *test_scalar(strata_conn *c, const char *sql)
{
    char *out = NULL;
    if (strata_conn_query_string(c, sql, NULL, 0, &out) != 0) {
        fprintf(stderr, "\n  query failed: %s\n  %s\n", sql, strata_error_message());
        CU_FAIL("query failed");
        return NULL;
    }
    return out;
}

long long test_scalar_int(strata_conn *c, const char *sql)
{
    char *s = test_scalar(c, sql);
    long long v = s ? strtoll(s, NULL, 10) : -999999;
    free(s);
    return v;
}

/* ---- processes and files ---- */

int test_run_cmd(const char *cmd, char **output)
{
    char *full;
    if (asprintf(&full, "%s 2>&1", cmd) < 0)
        return -1;
    FILE *p = popen(full, "r");
    free(full);
    if (!p)
        return -1;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 1024) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[len] = '\0';
    int st = pclose(p);
    if (output)
        *output = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

const char *test_strata_bin(void)
{
    const char *b = getenv("STRATA_BIN");
    return b && *b ? b : STRATA_BUILD_DIR "/strata";
}

const char *test_source_dir(void)
{
    return STRATA_SOURCE_DIR;
}

const char *test_shared_dir(void)
{
    const char *s = getenv("STRATA_SHARED_DIR");
    return s && *s ? s : STRATA_SOURCE_DIR "/../shared";
}

char *test_tempdir(const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    char *path;
    if (asprintf(&path, "%s/strata-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag) < 0)
        return NULL;
    if (!mkdtemp(path)) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        free(path);
        return NULL;
    }
    return path;
}

void test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        CU_FAIL("cannot write file");
        return;
    }
    fputs(text, f);
    fclose(f);
}
