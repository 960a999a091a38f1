/*
 * test_introspect.c - db pull, db diff and migration generate on the three
 * real databases.
 *
 *   - a PostgreSQL database built from plain SQL (enums, partial unique
 *     indexes, a foreign-key cycle, checks, a non-key serial, jsonb,
 *     timestamptz defaults, a view) is pulled; the pulled migration applied
 *     to MariaDB and SQLite gives no drift against it on all three, and the
 *     pulled schema behaves the same (partial uniqueness, the serial);
 *   - on each database, migrations -> pull -> apply to a fresh database of
 *     the same kind gives no drift;
 *   - db diff reports a column changed by hand, and exits 1;
 *   - migration generate writes the migration between the migrations'
 *     schema and a desired one; it applies and reverts everywhere.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *pg_source_sql =
    "CREATE TYPE order_status AS ENUM ('pending', 'completed', 'archived');"
    "CREATE TABLE customer (id varchar(255) PRIMARY KEY, email varchar(255) NOT NULL, "
    "billing_address_id varchar(255), created_at timestamptz NOT NULL DEFAULT now(), "
    "deleted_at timestamptz, metadata jsonb DEFAULT '{}'::jsonb, score numeric(10,2) NOT NULL "
    "DEFAULT 0, is_vip boolean NOT NULL DEFAULT false, kind varchar(20) DEFAULT 'retail');"
    "CREATE TABLE address (id varchar(255) PRIMARY KEY, customer_id varchar(255) REFERENCES "
    "customer(id) ON DELETE CASCADE, city varchar(100));"
    "ALTER TABLE customer ADD CONSTRAINT customer_billing_fk FOREIGN KEY (billing_address_id) "
    "REFERENCES address(id) ON DELETE SET NULL;"
    "CREATE UNIQUE INDEX customer_email_live ON customer (email) WHERE deleted_at IS NULL;"
    "CREATE TABLE \"order\" (id varchar(255) PRIMARY KEY, display_id serial NOT NULL, status "
    "order_status NOT NULL DEFAULT 'pending', customer_id varchar(255) NOT NULL REFERENCES "
    "customer(id), total integer NOT NULL CHECK (total >= 0), discount integer, currency "
    "varchar(3) NOT NULL CHECK (currency IN ('eur', 'usd')), CONSTRAINT order_discount_le_total "
    "CHECK (discount IS NULL OR discount <= total), placed_at timestamp(3) DEFAULT "
    "CURRENT_TIMESTAMP);"
    "CREATE INDEX order_customer_idx ON \"order\" (customer_id, placed_at DESC);"
    "CREATE VIEW big_orders AS SELECT * FROM \"order\" WHERE total > 1000;";

static char *write_pulled(strata_conn *src, const char *dir)
{
    char *json = NULL;
    char **warnings = NULL;
    size_t nw = 0;
    int rc = strata_db_pull(src, &json, &warnings, &nw);
    if (rc)
        fprintf(stderr, "\n  pull: %s\n", strata_error_message());
    CU_ASSERT_EQUAL(rc, 0);
    for (size_t i = 0; i < nw; i++)
        free(warnings[i]);
    free(warnings);
    if (!json)
        return NULL;
    char *path;
    if (asprintf(&path, "%s/0001_baseline.json", dir) < 0)
        return NULL;
    test_write_file(path, json);
    free(path);
    return json;
}

static int run_migrations(const char *url, const char *dir)
{
    strata_conn *c = test_connect(url);
    if (!c)
        return -1;
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = dir;
    opt.lock_timeout = 10;
    strata_report *rep = NULL;
    int rc = strata_migrations_run(c, &opt, &rep);
    if (rc)
        fprintf(stderr, "\n  run on %s: %s\n", url, strata_error_message());
    strata_report_free(rep);
    strata_conn_close(c);
    return rc;
}

static size_t drift(const char *url, const char *dir)
{
    strata_conn *c = test_connect(url);
    if (!c)
        return 999;
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = dir;
    strata_diff_result *r = NULL;
    int rc = strata_db_diff(c, &opt, &r);
    size_t n = rc ? 999 : r->n;
    if (rc)
        fprintf(stderr, "\n  diff: %s\n", strata_error_message());
    for (size_t i = 0; !rc && i < r->n; i++)
        fprintf(stderr, "\n  drift on %s: %s", url, r->items[i].line);
    strata_diff_result_free(r);
    strata_conn_close(c);
    return n;
}

/* Drift against every migration of `dir`, whatever the history says. */
static size_t drift_all(const char *url, const char *dir)
{
    strata_conn *c = test_connect(url);
    if (!c)
        return 999;
    test_exec(c, strata_conn_dialect(c) == STRATA_MYSQL ? "DROP TABLE `strata_migrations`"
                                                        : "DROP TABLE \"strata_migrations\"");
    strata_conn_close(c);
    return drift(url, dir);
}

static void q_exec(strata_conn *c, strata_dialect d, const char *sql, int expect_ok)
{
    char *s = strdup(sql);
    if (d == STRATA_MYSQL)
        for (char *p = s; *p; p++)
            if (*p == '"')
                *p = '`';
    int rc = strata_conn_exec(c, s);
    if ((rc == 0) != expect_ok)
        fprintf(stderr, "\n  [%s] %s: expected %s (%s)\n", strata_dialect_name(d), s,
                expect_ok ? "success" : "failure", strata_error_message());
    CU_ASSERT_EQUAL(rc == 0, expect_ok);
    free(s);
}

static void test_pull_postgres(void)
{
    char *src = test_fresh_database(STRATA_POSTGRES, "pullsrc");
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    strata_conn *c = test_connect(src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    test_exec(c, pg_source_sql);
    char *dir = test_tempdir("pull");
    char *json = write_pulled(c, dir);
    strata_conn_close(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    /* the view has no neutral form: it is kept as PostgreSQL SQL */
    CU_ASSERT_STR_CONTAINS(json, "big_orders");
    /* checks and predicates came back as portable predicates */
    CU_ASSERT_STR_CONTAINS(json, "\"is_null\": true");
    CU_ASSERT_PTR_NULL(strstr(json, "::"));
    free(json);
    /* the source itself: no drift against its own pull */
    CU_ASSERT_EQUAL(drift(src, dir), 0);
    for (int d = 0; d < STRATA_DIALECT_COUNT; d++) {
        char *url = test_fresh_database((strata_dialect)d, "pulldst");
        CU_ASSERT_PTR_NOT_NULL_FATAL(url);
        CU_ASSERT_EQUAL(run_migrations(url, dir), 0);
        CU_ASSERT_EQUAL(drift(url, dir), 0);
        /* the same behaviour everywhere */
        strata_conn *t = test_connect(url);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        q_exec(t, (strata_dialect)d,
               "INSERT INTO \"customer\" (\"id\", \"email\") VALUES ('c1', 'a@x')", 1);
        q_exec(t, (strata_dialect)d,
               "INSERT INTO \"customer\" (\"id\", \"email\") VALUES ('c2', 'a@x')", 0);
        q_exec(t, (strata_dialect)d,
               "INSERT INTO \"customer\" (\"id\", \"email\", \"deleted_at\") VALUES ('c3', 'a@x', "
               "'2024-01-01 00:00:00')",
               1);
        q_exec(t, (strata_dialect)d,
               "INSERT INTO \"order\" (\"id\", \"customer_id\", \"total\", \"currency\") VALUES "
               "('o1', 'c1', 10, 'eur')",
               1);
        q_exec(t, (strata_dialect)d,
               "INSERT INTO \"order\" (\"id\", \"customer_id\", \"total\", \"currency\") VALUES "
               "('o2', 'c1', 10, 'gbp')",
               0);
        q_exec(t, (strata_dialect)d,
               "INSERT INTO \"order\" (\"id\", \"customer_id\", \"total\", \"discount\", "
               "\"currency\") VALUES ('o3', 'c1', 10, 20, 'usd')",
               0);
        q_exec(t, (strata_dialect)d,
               "INSERT INTO \"order\" (\"id\", \"customer_id\", \"total\", \"currency\") VALUES "
               "('o4', 'c1', 5, 'usd')",
               1);
        /* the non-key serial numbers rows (failed inserts may use numbers up) */
        long long n4 = test_scalar_int(
            t, d == STRATA_MYSQL
                   ? "SELECT display_id - (SELECT display_id FROM `order` WHERE id = 'o1') FROM "
                     "`order` WHERE id = 'o4'"
                   : "SELECT display_id - (SELECT display_id FROM \"order\" WHERE id = 'o1') "
                     "FROM \"order\" WHERE id = 'o4'");
        CU_ASSERT(n4 >= 1 && n4 <= 3);
        strata_conn_close(t);
        test_drop_database((strata_dialect)d, url);
        free(url);
    }
    test_drop_database(STRATA_POSTGRES, src);
    free(src);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    test_run_cmd(cmd, NULL);
    free(dir);
}

/* migrations -> database -> pull -> fresh database of the same kind */
static const char *roundtrip_migration =
    "{\"up\": [{\"op\": \"create_enum\", \"name\": \"mood\", \"values\": [\"ok\", \"meh\"]},"
    "{\"op\": \"create_table\", \"table\": \"thing\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true},"
    "{\"name\": \"code\", \"type\": \"string\", \"length\": 32, \"nullable\": false},"
    "{\"name\": \"price\", \"type\": \"decimal\", \"precision\": 12, \"scale\": 3, \"default\": 0},"
    "{\"name\": \"ok\", \"type\": \"boolean\", \"nullable\": false, \"default\": true},"
    "{\"name\": \"mood\", \"type\": \"enum\", \"enum\": \"mood\"},"
    "{\"name\": \"kind\", \"type\": \"enum\", \"values\": [\"a\", \"b\"], \"default\": \"a\"},"
    "{\"name\": \"at\", \"type\": \"timestamptz\", \"default\": {\"expr\": \"now\"}},"
    "{\"name\": \"day\", \"type\": \"date\"},"
    "{\"name\": \"doc\", \"type\": \"json\"},"
    "{\"name\": \"blob\", \"type\": \"binary\"},"
    "{\"name\": \"note\", \"type\": \"text\"},"
    "{\"name\": \"u\", \"type\": \"uuid\"},"
    "{\"name\": \"deleted_at\", \"type\": \"timestamptz\"}],"
    "\"indexes\": [{\"name\": \"thing_code_live\", \"columns\": [\"code\"], \"unique\": true, "
    "\"where\": {\"column\": \"deleted_at\", \"is_null\": true}}],"
    "\"checks\": [{\"name\": \"thing_price_check\", \"check\": {\"column\": \"price\", \"ge\": "
    "0}}]},"
    "{\"op\": \"create_table\", \"table\": \"part\", \"columns\": ["
    "{\"name\": \"thing_id\", \"type\": \"integer\", \"references\": {\"table\": \"thing\", "
    "\"on_delete\": \"cascade\"}},"
    "{\"name\": \"n\", \"type\": \"smallint\"}], \"primary_key\": [\"thing_id\", \"n\"]}]}";

static void test_pull_roundtrip(void)
{
    char *dir = test_tempdir("rt-src"), *dir2 = test_tempdir("rt-pulled");
    char *path;
    CU_ASSERT_FATAL(asprintf(&path, "%s/001_schema.json", dir) > 0);
    test_write_file(path, roundtrip_migration);
    free(path);
    char *a = test_fresh_database(test_dialect, "rt1");
    char *b = test_fresh_database(test_dialect, "rt2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL_FATAL(run_migrations(a, dir), 0);
    strata_conn *c = test_connect(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    char *json = write_pulled(c, dir2);
    strata_conn_close(c);
    free(json);
    CU_ASSERT_EQUAL(run_migrations(b, dir2), 0);
    CU_ASSERT_EQUAL(drift(b, dir2), 0);
    /* and the source database matches the pulled migration too */
    CU_ASSERT_EQUAL(drift_all(a, dir2), 0);
    test_drop_database(test_dialect, a);
    test_drop_database(test_dialect, b);
    free(a);
    free(b);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, dir2);
    test_run_cmd(cmd, NULL);
    free(dir);
    free(dir2);
}

static void test_diff_reports_drift(void)
{
    char *dir = test_tempdir("drift");
    char *path;
    CU_ASSERT_FATAL(asprintf(&path, "%s/001_schema.json", dir) > 0);
    test_write_file(path, roundtrip_migration);
    free(path);
    char *url = test_fresh_database(test_dialect, "drift");
    CU_ASSERT_PTR_NOT_NULL_FATAL(url);
    CU_ASSERT_EQUAL_FATAL(run_migrations(url, dir), 0);
    CU_ASSERT_EQUAL(drift(url, dir), 0);
    strata_conn *c = test_connect(url);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    /* a hand-made change: a new column and a new index */
    test_exec(c, test_dialect == STRATA_MYSQL
                     ? "ALTER TABLE `thing` ADD COLUMN `sneaky` int"
                     : "ALTER TABLE \"thing\" ADD COLUMN \"sneaky\" integer");
    test_exec(c, test_dialect == STRATA_MYSQL ? "CREATE INDEX hand_idx ON `thing` (`day`)"
                                              : "CREATE INDEX hand_idx ON \"thing\" (\"day\")");
    strata_conn_close(c);
    CU_ASSERT_EQUAL(drift(url, dir), 2);
    /* the CLI exits 1 on drift and prints it */
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "%s db diff --database-url '%s' --migrations-dir '%s'",
             test_strata_bin(), url, dir);
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 1);
    CU_ASSERT_STR_CONTAINS(out, "sneaky");
    CU_ASSERT_STR_CONTAINS(out, "hand_idx");
    free(out);
    snprintf(cmd, sizeof cmd, "%s db diff --json --database-url '%s' --migrations-dir '%s'",
             test_strata_bin(), url, dir);
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 1);
    CU_ASSERT_STR_CONTAINS(out, "\"drift\": true");
    free(out);
    test_drop_database(test_dialect, url);
    free(url);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    test_run_cmd(cmd, NULL);
    free(dir);
}

static const char *desired_schema =
    "[{\"op\": \"create_enum\", \"name\": \"mood\", \"values\": [\"ok\", \"meh\", \"great\"]},"
    "{\"op\": \"create_table\", \"table\": \"thing\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true},"
    "{\"name\": \"code\", \"type\": \"string\", \"length\": 64, \"nullable\": false},"
    "{\"name\": \"price\", \"type\": \"decimal\", \"precision\": 12, \"scale\": 3, \"default\": 1},"
    "{\"name\": \"ok\", \"type\": \"boolean\", \"nullable\": false, \"default\": true},"
    "{\"name\": \"mood\", \"type\": \"enum\", \"enum\": \"mood\"},"
    "{\"name\": \"kind\", \"type\": \"enum\", \"values\": [\"a\", \"b\"], \"default\": \"a\"},"
    "{\"name\": \"at\", \"type\": \"timestamptz\", \"default\": {\"expr\": \"now\"}},"
    "{\"name\": \"doc\", \"type\": \"json\"},"
    "{\"name\": \"blob\", \"type\": \"binary\"},"
    "{\"name\": \"note\", \"type\": \"text\"},"
    "{\"name\": \"u\", \"type\": \"uuid\"},"
    "{\"name\": \"deleted_at\", \"type\": \"timestamptz\"},"
    "{\"name\": \"rating\", \"type\": \"integer\", \"nullable\": false, \"default\": 3}],"
    "\"indexes\": [{\"name\": \"thing_code_live\", \"columns\": [\"code\"], \"unique\": true, "
    "\"where\": {\"column\": \"deleted_at\", \"is_null\": true}},"
    "{\"name\": \"thing_rating_idx\", \"columns\": [\"rating\"]}]},"
    "{\"op\": \"create_table\", \"table\": \"tag\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"string\", \"primary_key\": true},"
    "{\"name\": \"thing_id\", \"type\": \"integer\", \"references\": {\"table\": \"thing\"}}]}]";

static void test_generate(void)
{
    char *dir = test_tempdir("gen");
    char *path, *schema_path;
    CU_ASSERT_FATAL(asprintf(&path, "%s/001_schema.json", dir) > 0);
    test_write_file(path, roundtrip_migration);
    free(path);
    CU_ASSERT_FATAL(asprintf(&schema_path, "%s.desired.json", dir) > 0);
    test_write_file(schema_path, desired_schema);
    char *url = test_fresh_database(test_dialect, "gen");
    CU_ASSERT_PTR_NOT_NULL_FATAL(url);
    CU_ASSERT_EQUAL_FATAL(run_migrations(url, dir), 0);
    /* some rows, so the change meets data */
    strata_conn *c = test_connect(url);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    test_exec(c, test_dialect == STRATA_MYSQL
                     ? "INSERT INTO `thing` (`code`, `day`) VALUES ('x', '2024-01-01')"
                     : "INSERT INTO \"thing\" (\"code\", \"day\") VALUES ('x', '2024-01-01')");
    strata_conn_close(c);
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = dir;
    char *out = NULL;
    size_t nops = 0;
    int rc = strata_migration_generate(&opt, "evolve", schema_path, &out, &nops);
    if (rc)
        fprintf(stderr, "\n  generate: %s\n", strata_error_message());
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT(nops >= 6); /* enum, thing: -day +rating ~code ~price +index, +tag */
    free(out);
    CU_ASSERT_EQUAL(run_migrations(url, dir), 0);
    CU_ASSERT_EQUAL(drift(url, dir), 0);
    /* nothing left to generate now */
    rc = strata_migration_generate(&opt, "again", schema_path, &out, &nops);
    CU_ASSERT_EQUAL(rc, STRATA_EDRIFT);
    free(out);
    /* the generated down works */
    c = test_connect(url);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    opt.lock_timeout = 10;
    strata_report *rep = NULL;
    rc = strata_migrations_revert(c, &opt, &rep);
    if (rc)
        fprintf(stderr, "\n  revert: %s\n", strata_error_message());
    CU_ASSERT_EQUAL(rc, 0);
    strata_report_free(rep);
    strata_conn_close(c);
    CU_ASSERT_EQUAL(drift(url, dir), 0);
    test_drop_database(test_dialect, url);
    free(url);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, schema_path);
    test_run_cmd(cmd, NULL);
    free(schema_path);
    free(dir);
}

/* The shipped Medusa migrations: no drift right after running them. */
static void test_medusa_no_drift(void)
{
    char *url = test_fresh_database(test_dialect, "medusadrift");
    CU_ASSERT_PTR_NOT_NULL_FATAL(url);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/migrations", test_source_dir());
    CU_ASSERT_EQUAL_FATAL(run_migrations(url, dir), 0);
    CU_ASSERT_EQUAL(drift(url, dir), 0);
    test_drop_database(test_dialect, url);
    free(url);
}

static const test_case pg_tests[] = {
    {"a plain-SQL PostgreSQL database pulled and applied everywhere", test_pull_postgres},
    {NULL, NULL},
};

static const test_case dialect_tests[] = {
    {"migrations, pull, apply: no drift", test_pull_roundtrip},
    {"db diff reports hand-made changes", test_diff_reports_drift},
    {"migration generate", test_generate},
    {"the shipped Medusa migrations show no drift", test_medusa_no_drift},
    {NULL, NULL},
};

int main(void)
{
    test_add_suite("pull/postgres-source", pg_tests);
    test_add_dialect_suites("introspect", NULL, NULL, dialect_tests);
    return test_main();
}
