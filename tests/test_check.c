/*
 * test_check.c - `strata check` over the three real databases at once:
 * a portable migration set passes; a deliberately non-portable one (an sql
 * op that creates a column of a different type per dialect) is reported
 * with the exact difference and exit 1; the JUnit file is valid XML that
 * lists every check; the shipped Medusa migrations pass with the real
 * Medusa starter seed.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static char *urls[3];

static int suite_init(void)
{
    for (int d = 0; d < STRATA_DIALECT_COUNT; d++) {
        urls[d] = test_fresh_database((strata_dialect)d, "check");
        if (!urls[d])
            return 1;
    }
    return 0;
}

static int suite_cleanup(void)
{
    for (int d = 0; d < STRATA_DIALECT_COUNT; d++) {
        test_drop_database((strata_dialect)d, urls[d]);
        free(urls[d]);
        urls[d] = NULL;
    }
    return 0;
}

/* Fresh, empty databases for the next check. */
static void reset_databases(void)
{
    suite_cleanup();
    CU_ASSERT_EQUAL_FATAL(suite_init(), 0);
}

static int run_check(const char *dir, const char *extra, char **out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s check --migrations-dir '%s' --database-url '%s' --database-url '%s' "
             "--database-url '%s' %s",
             test_strata_bin(), dir, urls[0], urls[1], urls[2], extra ? extra : "");
    return test_run_cmd(cmd, out);
}

static const char *portable_migration =
    "{\"up\": [{\"op\": \"create_enum\", \"name\": \"tier\", \"values\": [\"free\", \"pro\"]},"
    "{\"op\": \"create_table\", \"table\": \"account\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true},"
    "{\"name\": \"email\", \"type\": \"string\", \"nullable\": false},"
    "{\"name\": \"tier\", \"type\": \"enum\", \"enum\": \"tier\", \"default\": \"free\"},"
    "{\"name\": \"balance\", \"type\": \"decimal\", \"precision\": 12, \"scale\": 2},"
    "{\"name\": \"created_at\", \"type\": \"timestamptz\", \"default\": {\"expr\": \"now\"}},"
    "{\"name\": \"deleted_at\", \"type\": \"timestamptz\"},"
    "{\"name\": \"prefs\", \"type\": \"jsonb\"}],"
    "\"indexes\": [{\"name\": \"account_email_live\", \"columns\": [\"email\"], \"unique\": "
    "true, \"where\": {\"column\": \"deleted_at\", \"is_null\": true}}]},"
    "{\"op\": \"create_table\", \"table\": \"session\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"string\", \"primary_key\": true},"
    "{\"name\": \"account_id\", \"type\": \"integer\", \"nullable\": false, \"references\": "
    "{\"table\": \"account\", \"on_delete\": \"cascade\"}}]}]}";

static const char *portable_seed =
    "{\"tables\": [{\"table\": \"account\", \"rows\": ["
    "{\"$as\": \"a\", \"email\": \"a@x.com\", \"tier\": \"pro\", \"balance\": 12.5, \"prefs\": "
    "{\"b\": 1, \"a\": [true, null]}},"
    "{\"email\": \"b@x.com\", \"balance\": \"0.10\"}]},"
    "{\"table\": \"session\", \"rows\": [{\"id\": {\"$id\": \"sess\"}, \"account_id\": {\"$ref\": "
    "\"a\"}}]}]}";

static void test_portable(void)
{
    reset_databases();
    char *dir = test_tempdir("check");
    char path[1024];
    snprintf(path, sizeof path, "%s/001_accounts.json", dir);
    test_write_file(path, portable_migration);
    char seed[1024], junit[1024], extra[3000];
    snprintf(seed, sizeof seed, "%s.seed.json", dir);
    test_write_file(seed, portable_seed);
    snprintf(junit, sizeof junit, "%s.junit.xml", dir);
    snprintf(extra, sizeof extra, "-f '%s' --junit '%s'", seed, junit);
    char *out = NULL;
    int rc = run_check(dir, extra, &out);
    if (rc != 0)
        fprintf(stderr, "\n%s\n", out);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_STR_CONTAINS(out, "portable");
    CU_ASSERT_STR_CONTAINS(out, "same schema and data on every database");
    CU_ASSERT_STR_CONTAINS(out, "nothing left after revert");
    free(out);
    /* JUnit: valid XML, one test case per check and database */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", junit);
    CU_ASSERT_EQUAL(test_run_cmd(cmd, NULL), 0);
    char *xml = NULL;
    snprintf(cmd, sizeof cmd, "cat '%s'", junit);
    test_run_cmd(cmd, &xml);
    CU_ASSERT_STR_CONTAINS(xml, "<testsuite name=\"postgres\"");
    CU_ASSERT_STR_CONTAINS(xml, "<testsuite name=\"mysql\"");
    CU_ASSERT_STR_CONTAINS(xml, "<testsuite name=\"sqlite\"");
    CU_ASSERT_STR_CONTAINS(xml, "name=\"revert all migrations\"");
    CU_ASSERT_STR_CONTAINS(xml, "name=\"seed\"");
    CU_ASSERT_STR_CONTAINS(xml, "failures=\"0\"");
    CU_ASSERT_PTR_NULL(strstr(xml ? xml : "", "<failure"));
    free(xml);
    /* --json */
    reset_databases();
    rc = run_check(dir, "--json", &out);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_STR_CONTAINS(out, "\"portable\": true");
    free(out);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s' '%s'", dir, seed, junit);
    test_run_cmd(cmd, NULL);
    free(dir);
}

static void test_not_portable(void)
{
    reset_databases();
    char *dir = test_tempdir("check-np");
    char path[1024];
    snprintf(path, sizeof path, "%s/001_base.json", dir);
    test_write_file(path, "{\"up\": [{\"op\": \"create_table\", \"table\": \"t\", \"columns\": "
                          "[{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}]}]}");
    snprintf(path, sizeof path, "%s/002_drift.json", dir);
    test_write_file(path,
                    "{\"description\": \"a column of a different type per dialect\", \"up\": "
                    "[{\"op\": \"sql\", \"postgres\": \"ALTER TABLE t ADD COLUMN v bigint\", "
                    "\"mysql\": \"ALTER TABLE t ADD COLUMN v int\", \"sqlite\": \"ALTER TABLE t "
                    "ADD COLUMN v integer\"}], \"down\": [{\"op\": \"sql\", \"all\": \"ALTER TABLE "
                    "t DROP COLUMN v\"}]}");
    char junit[1024], extra[2048];
    snprintf(junit, sizeof junit, "%s.junit.xml", dir);
    snprintf(extra, sizeof extra, "--junit '%s'", junit);
    char *out = NULL;
    int rc = run_check(dir, extra, &out);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_STR_CONTAINS(out, "NOT portable");
    /* the exact difference: which column, which databases, which types */
    CU_ASSERT_STR_CONTAINS(out, "column t.v: type differs: postgres bigint, mysql integer");
    CU_ASSERT_STR_CONTAINS(out, "column t.v: type differs: postgres bigint, sqlite integer");
    free(out);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", junit);
    CU_ASSERT_EQUAL(test_run_cmd(cmd, NULL), 0);
    char *xml = NULL;
    snprintf(cmd, sizeof cmd, "cat '%s'", junit);
    test_run_cmd(cmd, &xml);
    CU_ASSERT_STR_CONTAINS(xml, "<failure");
    CU_ASSERT_STR_CONTAINS(xml, "column t.v");
    free(xml);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, junit);
    test_run_cmd(cmd, NULL);
    free(dir);
}

static void test_bad_url(void)
{
    char *out = NULL;
    char cmd[2048];
    /* an empty migrations directory (one that does not exist is an error) */
    char *dir = test_tempdir("check-empty");
    snprintf(cmd, sizeof cmd,
             "%s check --migrations-dir '%s' --database-url '%s' "
             "--database-url postgres://u:secretpw@127.0.0.1:1/x",
             test_strata_bin(), dir, urls[2]);
    int rc = test_run_cmd(cmd, &out);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_STR_CONTAINS(out, "127.0.0.1:1");
    CU_ASSERT_PTR_NULL(strstr(out ? out : "", "secretpw"));
    free(out);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    test_run_cmd(cmd, NULL);
    free(dir);
}

static void test_medusa(void)
{
    reset_databases();
    char dir[1024], seed[1024], extra[2048];
    snprintf(dir, sizeof dir, "%s/migrations", test_source_dir());
    snprintf(seed, sizeof seed, "%s/fixtures/medusa/seed.json", test_shared_dir());
    snprintf(extra, sizeof extra, "-f '%s'", seed);
    char *out = NULL;
    int rc = run_check(dir, extra, &out);
    if (rc != 0)
        fprintf(stderr, "\n%s\n", out);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_STR_CONTAINS(out, "same schema and data on every database");
    free(out);
}

static const test_case tests[] = {
    {"a portable set passes, with seed, JUnit and JSON", test_portable},
    {"a non-portable migration is reported exactly", test_not_portable},
    {"an unreachable database fails its column", test_bad_url},
    {"the shipped Medusa migrations with the Medusa starter seed", test_medusa},
    {NULL, NULL},
};

int main(void)
{
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("check/all three", suite_init, suite_cleanup);
    for (const test_case *t = tests; t->name; t++)
        CU_add_test(s, t->name, t->fn);
    return test_main();
}
