/*
 * testutil.h - shared helpers for Strata's CUnit suites: the three real test
 * databases, fresh throwaway databases, and suites run once per dialect.
 *
 * PostgreSQL and MariaDB come from scripts/services.sh through the
 * environment (STRATA_TEST_PG_URL, STRATA_TEST_MYSQL_URL); SQLite uses files
 * in a temporary directory. A missing database is a failure, never a skip.
 */
#ifndef STRATA_TESTUTIL_H
#define STRATA_TESTUTIL_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "strata.h"

/* The dialect of the suite being run. */
extern strata_dialect test_dialect;

/* The base URL of a dialect's test server (NULL and a message when unset). */
const char *test_base_url(strata_dialect d);
/* Create a new empty database for dialect d; returns its URL (caller frees).
 * `tag` becomes part of the name. NULL on failure (message printed). */
char *test_fresh_database(strata_dialect d, const char *tag);
/* Drop a database made by test_fresh_database. */
void test_drop_database(strata_dialect d, const char *url);
/* Open a connection or fail the test run loudly. */
strata_conn *test_connect(const char *url);

/* Register one suite per dialect named "<name>/<dialect>". `init` and
 * `cleanup` run with test_dialect already set. */
typedef struct test_case {
    const char *name;
    void (*fn)(void);
} test_case;
void test_add_dialect_suites(const char *name, int (*init)(void), int (*cleanup)(void),
                             const test_case *tests);
/* Register one plain suite. */
void test_add_suite(const char *name, const test_case *tests);
/* Run every registered suite; returns the process exit status. */
int test_main(void);

/* Execute SQL that must succeed (records a CUnit failure otherwise). */
int test_exec(strata_conn *c, const char *sql);
/* First column of the first row as text (caller frees), NULL on none. */
char *test_scalar(strata_conn *c, const char *sql);
/* First column of the first row as an integer (-999999 on error/none). */
long long test_scalar_int(strata_conn *c, const char *sql);

/* Run a shell command, capture stdout+stderr (caller frees), return status. */
int test_run_cmd(const char *cmd, char **output);
/* Path of the built strata binary (from STRATA_BIN or the build tree). */
const char *test_strata_bin(void);
/* Directory of the repository (for migrations/, data/) and of ../shared. */
const char *test_source_dir(void);
const char *test_shared_dir(void);
/* A fresh empty temporary directory (caller frees). */
char *test_tempdir(const char *tag);
/* Write a file (creating it). */
void test_write_file(const char *path, const char *text);

#define CU_ASSERT_STR_CONTAINS(hay, needle)                                                        \
    do {                                                                                           \
        const char *h_ = (hay);                                                                    \
        int ok_ = h_ && strstr(h_, (needle)) != NULL;                                              \
        if (!ok_)                                                                                  \
            fprintf(stderr, "\n  expected to contain [%s]:\n  %s\n", (needle),                     \
                    h_ ? h_ : "(null)");                                                           \
        CU_ASSERT(ok_);                                                                            \
    } while (0)

#endif
