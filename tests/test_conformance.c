/*
 * test_conformance.c - the same migrations on the three real databases.
 *
 * Every case writes one or more migration files, then on each database:
 * runs them, reads the live schema back (introspection) and asserts it is
 * the schema the migrations' model describes; runs the case's behaviour
 * probes (cascades, partial uniqueness, enum rejection, exact decimals,
 * booleans, reserved words, ...); reverts everything and asserts the
 * database is empty again; applies again and asserts the same schema -
 * up, down, up. The cases follow research/dialects.md §7; docs/conformance.md
 * lists them with the per-dialect differences that are by design.
 */
#include "testutil.h"

#include "introspect.h"

/* cases list their fields positionally; the trailing flags default to 0 */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct conf_case {
    const char *name;
    const char *migrations[6]; /* JSON texts, applied in order */
    void (*probe)(strata_conn *c);
    int expect_run_error; /* the last migration must fail (2 = invalid input) */
    int keep_data;        /* revert with the probe's rows still there */
    int skip_drift;       /* the case makes objects through sql ops, which the model
                             does not know */
} conf_case;

static char *db_url;
static char *mig_dir;

/* ---- helpers ---- */

/* SQL written with "double quotes" for identifiers, for the current dialect. */
static char *q(const char *sql)
{
    char *s = strdup(sql);
    if (test_dialect == STRATA_MYSQL)
        for (char *p = s; *p; p++)
            if (*p == '"')
                *p = '`';
    return s;
}

static void probe_ok(strata_conn *c, const char *sql)
{
    char *s = q(sql);
    int rc = strata_conn_exec(c, s);
    if (rc)
        fprintf(stderr, "\n  [%s] expected to succeed: %s\n  %s\n",
                strata_dialect_name(test_dialect), s, strata_error_message());
    CU_ASSERT_EQUAL(rc, 0);
    free(s);
}

static void probe_fails(strata_conn *c, const char *sql)
{
    char *s = q(sql);
    int rc = strata_conn_exec(c, s);
    if (!rc)
        fprintf(stderr, "\n  [%s] expected to fail: %s\n", strata_dialect_name(test_dialect), s);
    CU_ASSERT_NOT_EQUAL(rc, 0);
    free(s);
}

static char *probe_text(strata_conn *c, const char *sql)
{
    char *s = q(sql);
    char *out = test_scalar(c, s);
    free(s);
    return out;
}

static void probe_value(strata_conn *c, const char *sql, const char *expected)
{
    char *got = probe_text(c, sql);
    if (!got || strcmp(got, expected) != 0)
        fprintf(stderr, "\n  [%s] %s\n  expected %s, got %s\n", strata_dialect_name(test_dialect),
                sql, expected, got ? got : "NULL");
    CU_ASSERT(got && strcmp(got, expected) == 0);
    free(got);
}

static long long probe_int(strata_conn *c, const char *sql)
{
    char *got = probe_text(c, sql);
    long long v = got ? strtoll(got, NULL, 10) : -999999;
    free(got);
    return v;
}

static void probe_prefix(strata_conn *c, const char *sql, const char *expected)
{
    char *got = probe_text(c, sql);
    if (!got || strncmp(got, expected, strlen(expected)) != 0)
        fprintf(stderr, "\n  [%s] %s\n  expected %s..., got %s\n",
                strata_dialect_name(test_dialect), sql, expected, got ? got : "NULL");
    CU_ASSERT(got && strncmp(got, expected, strlen(expected)) == 0);
    free(got);
}

/* Delete every row of every table, so reverts are not blocked by rows the
 * probes added (a revert that re-adds a foreign key or removes an enum
 * value rightly refuses rows that would violate it). */
static void clear_data(strata_conn *c)
{
    schema live;
    if (introspect_schema(c, &live, NULL, NULL) != 0) {
        CU_FAIL("cannot introspect");
        return;
    }
    const char *off = test_dialect == STRATA_MYSQL    ? "SET FOREIGN_KEY_CHECKS = 0"
                      : test_dialect == STRATA_SQLITE ? "PRAGMA foreign_keys = OFF"
                                                      : "SET session_replication_role = replica";
    const char *on = test_dialect == STRATA_MYSQL    ? "SET FOREIGN_KEY_CHECKS = 1"
                     : test_dialect == STRATA_SQLITE ? "PRAGMA foreign_keys = ON"
                                                     : "SET session_replication_role = DEFAULT";
    test_exec(c, off);
    for (size_t i = 0; i < live.ntables; i++) {
        char *t = strata_quote_ident(test_dialect, live.tables[i].name);
        char sql[512];
        snprintf(sql, sizeof sql, "DELETE FROM %s", t);
        test_exec(c, sql);
        free(t);
    }
    test_exec(c, on);
    schema_free(&live);
}

static void write_migrations(const conf_case *cc)
{
    for (int i = 0; i < 6 && cc->migrations[i]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%03d_step%d.json", mig_dir, i + 1, i + 1);
        test_write_file(path, cc->migrations[i]);
    }
}

static int run_all(strata_conn *c, int revert)
{
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = mig_dir;
    opt.lock_timeout = 10;
    opt.all = revert;
    strata_report *rep = NULL;
    int rc =
        revert ? strata_migrations_revert(c, &opt, &rep) : strata_migrations_run(c, &opt, &rep);
    strata_report_free(rep);
    return rc;
}

/* The live schema equals the migrations' model. */
static int assert_no_drift(strata_conn *c, const char *when)
{
    schema model, live;
    strvec warnings = STRVEC_INIT;
    if (migrations_model(mig_dir, &model, &warnings) != 0) {
        fprintf(stderr, "\n  model: %s\n", strata_error_message());
        CU_FAIL("cannot build the model");
        strvec_free(&warnings);
        return 1;
    }
    if (introspect_schema(c, &live, &warnings, NULL) != 0) {
        fprintf(stderr, "\n  introspect: %s\n", strata_error_message());
        CU_FAIL("cannot introspect");
        schema_free(&model);
        strvec_free(&warnings);
        return 1;
    }
    diff_options o;
    memset(&o, 0, sizeof o);
    o.dialect = test_dialect;
    o.compare_enum_types = test_dialect == STRATA_POSTGRES;
    o.left_label = "model";
    o.right_label = "database";
    schema_diff d;
    schema_compare(&model, &live, &o, &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "\n  [%s, %s] %s", strata_dialect_name(test_dialect), when, d.v[i].line);
    CU_ASSERT_EQUAL(d.n, 0);
    int n = (int)d.n;
    schema_diff_free(&d);
    schema_free(&model);
    schema_free(&live);
    strvec_free(&warnings);
    return n;
}

static void assert_empty(strata_conn *c)
{
    schema live;
    if (introspect_schema(c, &live, NULL, NULL) != 0) {
        CU_FAIL("cannot introspect");
        return;
    }
    for (size_t i = 0; i < live.ntables; i++)
        fprintf(stderr, "\n  [%s] table %s left after revert --all",
                strata_dialect_name(test_dialect), live.tables[i].name);
    for (size_t i = 0; i < live.nenums; i++)
        fprintf(stderr, "\n  [%s] enum %s left after revert --all",
                strata_dialect_name(test_dialect), live.enums[i].name);
    CU_ASSERT_EQUAL(live.ntables, 0);
    CU_ASSERT_EQUAL(live.nenums, 0);
    schema_free(&live);
}

/* The schema after a run with batching (consecutive ops on one table as
 * one statement) and the schema after the same run op by op are the same. */
static void assert_same_schema(strata_conn *c, const schema *batched)
{
    schema live;
    if (introspect_schema(c, &live, NULL, NULL) != 0) {
        CU_FAIL("cannot introspect");
        return;
    }
    diff_options o;
    memset(&o, 0, sizeof o);
    o.dialect = test_dialect;
    o.compare_enum_types = test_dialect == STRATA_POSTGRES;
    o.left_label = "batched";
    o.right_label = "op by op";
    schema_diff d;
    schema_compare(batched, &live, &o, &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "\n  [%s, batched / op by op] %s", strata_dialect_name(test_dialect),
                d.v[i].line);
    CU_ASSERT_EQUAL(d.n, 0);
    schema_diff_free(&d);
    schema_free(&live);
}

/*
 * Up with batching (the default), probes, down, up again op by op
 * (STRATA_BATCH=0): the same schema as the batched run and as the model;
 * down op by op: nothing left.
 */
static void run_case(const conf_case *cc)
{
    db_url = test_fresh_database(test_dialect, "conf");
    mig_dir = test_tempdir("conf");
    CU_ASSERT_PTR_NOT_NULL_FATAL(db_url);
    write_migrations(cc);
    strata_conn *c = test_connect(db_url);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int rc = run_all(c, 0);
    if (cc->expect_run_error) {
        if (rc == 0)
            fprintf(stderr, "\n  [%s] %s: expected the run to fail",
                    strata_dialect_name(test_dialect), cc->name);
        CU_ASSERT_NOT_EQUAL(rc, 0);
        if (cc->expect_run_error == 2)
            CU_ASSERT_EQUAL(rc, STRATA_EINPUT);
        if (cc->probe)
            cc->probe(c);
    } else {
        if (rc)
            fprintf(stderr, "\n  [%s] %s: run failed: %s\n", strata_dialect_name(test_dialect),
                    cc->name, strata_error_message());
        CU_ASSERT_EQUAL(rc, 0);
        if (rc) {
            strata_conn_close(c);
            test_drop_database(test_dialect, db_url);
            free(db_url);
            free(mig_dir);
            db_url = mig_dir = NULL;
            return;
        }
        if (!cc->skip_drift)
            assert_no_drift(c, "after up");
        schema batched;
        int have_batched = introspect_schema(c, &batched, NULL, NULL) == 0;
        if (cc->probe)
            cc->probe(c);
        if (!cc->keep_data)
            clear_data(c);
        rc = run_all(c, 1);
        if (rc)
            fprintf(stderr, "\n  [%s] %s: revert failed: %s\n", strata_dialect_name(test_dialect),
                    cc->name, strata_error_message());
        CU_ASSERT_EQUAL(rc, 0);
        if (!rc) {
            assert_empty(c);
            setenv("STRATA_BATCH", "0", 1);
            rc = run_all(c, 0);
            if (rc)
                fprintf(stderr, "\n  [%s] %s: second run (op by op) failed: %s\n",
                        strata_dialect_name(test_dialect), cc->name, strata_error_message());
            CU_ASSERT_EQUAL(rc, 0);
            if (!rc && !cc->skip_drift)
                assert_no_drift(c, "after up, down, up");
            if (!rc && have_batched)
                assert_same_schema(c, &batched);
            if (!rc && !cc->keep_data)
                clear_data(c);
            if (!rc && (rc = run_all(c, 1)) != 0)
                fprintf(stderr, "\n  [%s] %s: revert (op by op) failed: %s\n",
                        strata_dialect_name(test_dialect), cc->name, strata_error_message());
            CU_ASSERT_EQUAL(rc, 0);
            if (!rc)
                assert_empty(c);
            unsetenv("STRATA_BATCH");
        }
        if (have_batched)
            schema_free(&batched);
    }
    strata_conn_close(c);
    test_drop_database(test_dialect, db_url);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", mig_dir);
    test_run_cmd(cmd, NULL);
    free(db_url);
    free(mig_dir);
    db_url = mig_dir = NULL;
}

/* ---- cases ---- */

/* 1. every type, every kind of default */
static void probe_types(strata_conn *c)
{
    probe_ok(c, "INSERT INTO \"everything\" (\"id\", \"s\") VALUES (2, 'x')");
    /* exact decimals (SQLite keeps 15 significant digits, as numeric) */
    probe_value(c, "SELECT CAST(\"dec\" * 100 AS INTEGER) FROM \"everything\" WHERE \"id\" = 1",
                "1234");
    probe_value(c, "SELECT CAST(\"dec\" * 100 AS INTEGER) FROM \"everything\" WHERE \"id\" = 2",
                "150");
    probe_value(c, "SELECT \"str\" FROM \"everything\" WHERE \"id\" = 2", "hello");
    probe_value(c, "SELECT \"txt\" FROM \"everything\" WHERE \"id\" = 2", "it's");
    probe_value(c, "SELECT \"sm\" FROM \"everything\" WHERE \"id\" = 2", "7");
    probe_value(c, "SELECT \"st\" FROM \"everything\" WHERE \"id\" = 2", "draft");
    probe_value(c, "SELECT \"ts\" FROM \"everything\" WHERE \"id\" = 1", "2024-01-01 10:00:00");
    /* stored in UTC (PostgreSQL prints the +00 of a UTC session) */
    probe_prefix(c, "SELECT \"tstz\" FROM \"everything\" WHERE \"id\" = 1", "2024-03-01 05:30:00");
    probe_value(c, "SELECT \"d\" FROM \"everything\" WHERE \"id\" = 1", "2024-02-29");
    /* booleans read back as booleans */
    strata_rows *rows;
    char *s = q("SELECT \"flag\", \"flag2\" FROM \"everything\" WHERE \"id\" = 2");
    CU_ASSERT_EQUAL_FATAL(strata_conn_query(c, s, NULL, 0, &rows), 0);
    free(s);
    CU_ASSERT_EQUAL(strata_rows_next(rows), 1);
    CU_ASSERT_EQUAL(strata_rows_value(rows, 0)->type, STRATA_VBOOL);
    CU_ASSERT_EQUAL(strata_rows_value(rows, 0)->i, 1);
    CU_ASSERT_EQUAL(strata_rows_value(rows, 1)->type, STRATA_VBOOL);
    CU_ASSERT_EQUAL(strata_rows_value(rows, 1)->i, 0);
    strata_rows_free(rows);
    /* uuid default: distinct and 36 characters */
    probe_value(c, "SELECT count(*) FROM \"everything\" WHERE \"u\" IS NULL", "0");
    probe_ok(c, "INSERT INTO \"everything\" (\"id\", \"s\") VALUES (3, 'y')");
    probe_value(c, "SELECT count(DISTINCT \"u\") FROM \"everything\"", "3");
    /* now default is filled */
    probe_value(c, "SELECT count(*) FROM \"everything\" WHERE \"created\" IS NULL", "0");
    /* JSON: the default, and invalid JSON is rejected everywhere */
    probe_fails(c, "INSERT INTO \"everything\" (\"id\", \"s\", \"j\") VALUES (4, 'z', '{bad')");
    probe_fails(c, "INSERT INTO \"everything\" (\"id\", \"s\", \"jb\") VALUES (5, 'z', '{bad')");
    /* an enum rejects what it does not hold */
    probe_fails(c, "INSERT INTO \"everything\" (\"id\", \"s\", \"st\") VALUES (6, 'z', 'nope')");
}

static const conf_case case_types = {
    "every type and default",
    {"{\"up\": ["
     "{\"op\": \"create_enum\", \"name\": \"state\", \"values\": [\"draft\", \"live\"]},"
     "{\"op\": \"create_table\", \"table\": \"everything\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"bigint\", \"primary_key\": true},"
     "{\"name\": \"s\", \"type\": \"string\", \"length\": 40},"
     "{\"name\": \"sm\", \"type\": \"smallint\", \"default\": 7},"
     "{\"name\": \"i\", \"type\": \"integer\"},"
     "{\"name\": \"dec\", \"type\": \"decimal\", \"precision\": 10, \"scale\": 2, \"default\": "
     "\"1.50\"},"
     "{\"name\": \"r\", \"type\": \"real\"},"
     "{\"name\": \"dbl\", \"type\": \"double\", \"default\": 2.5},"
     "{\"name\": \"flag\", \"type\": \"boolean\", \"nullable\": false, \"default\": true},"
     "{\"name\": \"flag2\", \"type\": \"boolean\", \"default\": false},"
     "{\"name\": \"str\", \"type\": \"string\", \"default\": \"hello\"},"
     "{\"name\": \"txt\", \"type\": \"text\", \"default\": \"it's\"},"
     "{\"name\": \"u\", \"type\": \"uuid\", \"default\": {\"expr\": \"uuid\"}},"
     "{\"name\": \"d\", \"type\": \"date\"},"
     "{\"name\": \"tm\", \"type\": \"time\", \"precision\": 0},"
     "{\"name\": \"ts\", \"type\": \"timestamp\", \"precision\": 0},"
     "{\"name\": \"tstz\", \"type\": \"timestamptz\", \"precision\": 0},"
     "{\"name\": \"created\", \"type\": \"timestamptz\", \"nullable\": false, \"default\": "
     "{\"expr\": \"now\"}},"
     "{\"name\": \"j\", \"type\": \"json\", \"default\": {}},"
     "{\"name\": \"jb\", \"type\": \"jsonb\", \"default\": [1, 2]},"
     "{\"name\": \"bin\", \"type\": \"binary\"},"
     "{\"name\": \"st\", \"type\": \"enum\", \"enum\": \"state\", \"default\": \"draft\"},"
     "{\"name\": \"kind\", \"type\": \"enum\", \"values\": [\"a\", \"b\"]}"
     "]},"
     "{\"op\": \"insert\", \"table\": \"everything\", \"rows\": [{\"id\": 1, \"s\": \"one\", "
     "\"dec\": 12.34, \"ts\": \"2024-01-01T10:00:00\", \"tstz\": \"2024-03-01T10:30:00+05:00\", "
     "\"d\": \"2024-02-29\", \"bin\": \"abc\", \"kind\": \"b\", \"j\": {\"k\": [1, \"x\"]}}]}"
     "]}",
     NULL},
    probe_types,
    0,
    0,
};

/* 2. serial keys never hand out a deleted highest id; explicit ids move it */
static void probe_serial(strata_conn *c)
{
    probe_ok(c, "INSERT INTO \"item\" (\"name\") VALUES ('a')");
    probe_ok(c, "INSERT INTO \"item\" (\"name\") VALUES ('b')");
    long long maxid = probe_int(c, "SELECT max(\"id\") FROM \"item\"");
    CU_ASSERT_EQUAL(maxid, 102); /* 100 inserted by the migration */
    probe_ok(c, "DELETE FROM \"item\" WHERE \"id\" = 102");
    probe_ok(c, "INSERT INTO \"item\" (\"name\") VALUES ('c')");
    probe_value(c, "SELECT max(\"id\") FROM \"item\"", "103");
    /* non-key serial (Medusa's order.display_id) */
    probe_ok(c, "INSERT INTO \"ord\" (\"id\") VALUES ('o1')");
    probe_ok(c, "INSERT INTO \"ord\" (\"id\") VALUES ('o2')");
    probe_value(c, "SELECT \"display_id\" FROM \"ord\" WHERE \"id\" = 'o2'", "2");
    probe_ok(c, "DELETE FROM \"ord\" WHERE \"id\" = 'o2'");
    probe_ok(c, "INSERT INTO \"ord\" (\"id\") VALUES ('o3')");
    probe_value(c, "SELECT \"display_id\" FROM \"ord\" WHERE \"id\" = 'o3'", "3");
}

static const conf_case case_serial = {
    "serial keys and non-key serials",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"item\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true},"
     "{\"name\": \"name\", \"type\": \"string\"}]},"
     "{\"op\": \"insert\", \"table\": \"item\", \"rows\": [{\"id\": 100, \"name\": \"x\"}]},"
     "{\"op\": \"create_table\", \"table\": \"ord\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"string\", \"primary_key\": true},"
     "{\"name\": \"display_id\", \"type\": \"serial\"}]}"
     "]}",
     NULL},
    probe_serial,
    0,
    0,
};

/* foreign keys: cascades and the rebuild of a parent (knex#6213) */
static void probe_fk(strata_conn *c)
{
    probe_ok(c, "INSERT INTO \"parent\" (\"id\", \"name\") VALUES (1, 'p1'), (2, 'p2')");
    probe_ok(c, "INSERT INTO \"child\" (\"id\", \"parent_id\") VALUES (10, 1), (11, 1), (12, 2)");
    probe_ok(c, "INSERT INTO \"nullable_child\" (\"id\", \"parent_id\") VALUES (20, 1)");
    probe_fails(c, "INSERT INTO \"child\" (\"id\", \"parent_id\") VALUES (13, 99)");
    probe_ok(c, "DELETE FROM \"parent\" WHERE \"id\" = 1");
    /* 10 and 11 went with parent 1; 12 (parent 2) and 50 (parent 5) stay */
    probe_value(c, "SELECT count(*) FROM \"child\"", "2");
    probe_value(c, "SELECT count(*) FROM \"nullable_child\" WHERE \"parent_id\" IS NULL", "1");
    probe_ok(c, "INSERT INTO \"strict_child\" (\"id\", \"parent_id\") VALUES (30, 2)");
    probe_fails(c, "DELETE FROM \"parent\" WHERE \"id\" = 2");
    /* the parent was rebuilt on SQLite by the second migration: the
     * children kept their rows and the FK still points at "parent" */
    probe_value(c, "SELECT count(*) FROM \"child\" WHERE \"parent_id\" = 2", "1");
}

static const conf_case case_fk = {
    "foreign keys, actions and a parent rebuild",
    {"{\"up\": ["
     "{\"op\": \"create_table\", \"table\": \"child\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"parent_id\", \"type\": \"integer\", \"nullable\": false, \"references\": "
     "{\"table\": \"parent\", \"on_delete\": \"cascade\"}}]},"
     "{\"op\": \"create_table\", \"table\": \"parent\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"name\", \"type\": \"string\"}]},"
     "{\"op\": \"create_table\", \"table\": \"nullable_child\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"parent_id\", \"type\": \"integer\"}],"
     "\"foreign_keys\": [{\"columns\": [\"parent_id\"], \"references\": {\"table\": \"parent\", "
     "\"columns\": [\"id\"]}, \"on_delete\": \"set_null\", \"on_update\": \"cascade\"}]},"
     "{\"op\": \"create_table\", \"table\": \"strict_child\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"parent_id\", \"type\": \"integer\", \"references\": {\"table\": \"parent\", "
     "\"on_delete\": \"restrict\"}}]}"
     "]}",
     "{\"up\": ["
     "{\"op\": \"insert\", \"table\": \"parent\", \"rows\": [{\"id\": 5, \"name\": \"five\"}]},"
     "{\"op\": \"insert\", \"table\": \"child\", \"rows\": [{\"id\": 50, \"parent_id\": 5}]},"
     "{\"op\": \"alter_column\", \"table\": \"parent\", \"column\": \"name\", \"type\": "
     "\"string\", \"length\": 100, \"nullable\": false, \"default\": \"?\"},"
     "{\"op\": \"add_check\", \"table\": \"parent\", \"name\": \"parent_id_positive\", "
     "\"check\": {\"column\": \"id\", \"gt\": 0}}"
     "]}",
     NULL},
    probe_fk,
    0,
    0,
};

/* unique partial index: duplicates only among deleted rows (MySQL emulated) */
static void probe_partial(strata_conn *c)
{
    /* (columns renamed by the second migration: the index follows) */
    probe_ok(c, "INSERT INTO \"product\" (\"id\", \"slug\") VALUES ('p1', 'shirt')");
    probe_fails(c, "INSERT INTO \"product\" (\"id\", \"slug\") VALUES ('p2', 'shirt')");
    probe_ok(c, "UPDATE \"product\" SET \"removed_at\" = '2024-01-01 00:00:00' WHERE \"id\" = "
                "'p1'");
    probe_ok(c, "INSERT INTO \"product\" (\"id\", \"slug\") VALUES ('p2', 'shirt')");
    probe_ok(c, "UPDATE \"product\" SET \"removed_at\" = '2024-01-02 00:00:00' WHERE \"id\" = "
                "'p2'");
    probe_ok(c, "INSERT INTO \"product\" (\"id\", \"slug\") VALUES ('p3', 'shirt')");
    probe_value(c, "SELECT count(*) FROM \"product\" WHERE \"slug\" = 'shirt'", "3");
    /* SELECT * and INSERT without a column list see the neutral columns only */
    probe_ok(c, "INSERT INTO \"product\" VALUES ('p4', 'hat', NULL, 'A@x.com')");
    /* case-sensitive uniqueness everywhere (a binary collation on MySQL) */
    probe_ok(c, "INSERT INTO \"product\" VALUES ('p5', 'cap', NULL, 'a@x.com')");
    /* trailing spaces count everywhere (NO PAD on MySQL/MariaDB): three
     * distinct values, in a unique column and in the emulated partial
     * unique index of MySQL */
    probe_ok(c, "INSERT INTO \"product\" VALUES ('p6', 'pad', NULL, 'pad')");
    probe_ok(c, "INSERT INTO \"product\" VALUES ('p7', 'pad ', NULL, 'pad ')");
    probe_ok(c, "INSERT INTO \"product\" VALUES ('p8', 'pad  ', NULL, 'pad  ')");
    probe_value(c, "SELECT count(*) FROM \"product\" WHERE \"email\" = 'pad'", "1");
}

static const conf_case case_partial = {
    "unique partial index and case-sensitive uniqueness",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"product\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"string\", \"primary_key\": true},"
     "{\"name\": \"handle\", \"type\": \"string\"},"
     "{\"name\": \"deleted_at\", \"type\": \"timestamptz\"},"
     "{\"name\": \"email\", \"type\": \"string\", \"unique\": true}],"
     "\"indexes\": [{\"name\": \"IDX_product_handle\", \"columns\": [\"handle\"], \"unique\": "
     "true, \"where\": {\"column\": \"deleted_at\", \"is_null\": true}},"
     "{\"name\": \"IDX_product_deleted\", \"columns\": [\"deleted_at\"], \"where\": {\"column\": "
     "\"deleted_at\", \"is_null\": false}}]}]}",
     "{\"up\": [{\"op\": \"rename_column\", \"table\": \"product\", \"column\": "
     "\"deleted_at\", \"to\": \"removed_at\"},"
     "{\"op\": \"rename_column\", \"table\": \"product\", \"column\": \"handle\", \"to\": "
     "\"slug\"}]}",
     NULL},
    probe_partial,
    0,
    0,
};

/* enums: rejection, add a value, refuse removing one that rows hold */
static void probe_enum(strata_conn *c)
{
    probe_ok(c, "INSERT INTO \"ticket\" (\"id\", \"status\", \"prio\") VALUES (1, 'open', 'high')");
    probe_ok(c, "INSERT INTO \"ticket\" (\"id\", \"status\", \"prio\") VALUES (2, 'closed', "
                "'urgent')");
    probe_fails(c, "INSERT INTO \"ticket\" (\"id\", \"status\") VALUES (3, 'bogus')");
    probe_fails(c, "INSERT INTO \"ticket\" (\"id\", \"status\", \"prio\") VALUES (4, 'open', 'x')");
}

static const conf_case case_enum = {
    "enums: create, alter (add), inline and named",
    {"{\"up\": ["
     "{\"op\": \"create_enum\", \"name\": \"ticket_status\", \"values\": [\"open\", \"done\"]},"
     "{\"op\": \"create_table\", \"table\": \"ticket\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"status\", \"type\": \"enum\", \"enum\": \"ticket_status\", \"nullable\": "
     "false},"
     "{\"name\": \"prio\", \"type\": \"enum\", \"values\": [\"low\", \"high\"]}]}]}",
     "{\"up\": [{\"op\": \"alter_enum\", \"name\": \"ticket_status\", \"values\": [\"open\", "
     "\"closed\", \"done\"]},"
     "{\"op\": \"alter_column\", \"table\": \"ticket\", \"column\": \"prio\", \"type\": "
     "\"enum\", \"values\": [\"low\", \"high\", \"urgent\"]}]}",
     NULL},
    probe_enum,
    0,
    0,
};

static void probe_enum_removal(strata_conn *c)
{
    /* the failing migration changed nothing: 'archived' is still allowed */
    probe_ok(c, "INSERT INTO \"doc\" (\"id\", \"state\") VALUES (2, 'archived')");
    probe_value(c, "SELECT count(*) FROM \"doc\"", "2");
}

static const conf_case case_enum_removal = {
    "removing an enum value that rows hold fails and changes nothing",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"doc\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"state\", \"type\": \"enum\", \"values\": [\"draft\", \"archived\"]}]},"
     "{\"op\": \"insert\", \"table\": \"doc\", \"rows\": [{\"id\": 1, \"state\": \"archived\"}]}"
     "]}",
     "{\"up\": [{\"op\": \"alter_column\", \"table\": \"doc\", \"column\": \"state\", \"type\": "
     "\"enum\", \"values\": [\"draft\"]}]}",
     NULL},
    probe_enum_removal,
    1,
    0,
};

/* reserved words and odd names everywhere */
static void probe_names(strata_conn *c)
{
    probe_ok(c, "INSERT INTO \"user\" (\"select\", \"from\") VALUES (1, 'x')");
    probe_ok(c, "INSERT INTO \"order\" (\"key\", \"user\", \"check\") VALUES (1, 1, 5)");
    probe_fails(c, "INSERT INTO \"order\" (\"key\", \"user\", \"check\") VALUES (2, 9, 5)");
    probe_value(c, "SELECT \"caf\xc3\xa9\" FROM \"group\"", "1");
}

static const conf_case case_names = {
    "reserved words, quotes and unicode in names",
    {"{\"up\": ["
     "{\"op\": \"create_table\", \"table\": \"user\", \"columns\": ["
     "{\"name\": \"select\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"from\", \"type\": \"string\"},"
     "{\"name\": \"we\\\"ird\", \"type\": \"string\"}]},"
     "{\"op\": \"create_table\", \"table\": \"order\", \"columns\": ["
     "{\"name\": \"key\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"user\", \"type\": \"integer\", \"references\": {\"table\": \"user\"}},"
     "{\"name\": \"check\", \"type\": \"integer\", \"check\": {\"column\": \"check\", \"gt\": "
     "0}}], \"indexes\": [{\"columns\": [\"check\", \"user\"]}]},"
     "{\"op\": \"create_table\", \"table\": \"group\", \"columns\": ["
     "{\"name\": \"default\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"caf\xc3\xa9\", \"type\": \"integer\"},"
     "{\"name\": \"\xe5\x90\x8d\xe5\x89\x8d\", \"type\": \"string\"},"
     "{\"name\": \"we`ird\", \"type\": \"string\"}]},"
     "{\"op\": \"insert\", \"table\": \"group\", \"rows\": [{\"default\": 1, \"caf\xc3\xa9\": 1}]}"
     "]}",
     "{\"up\": [{\"op\": \"rename_table\", \"table\": \"group\", \"to\": \"table\"},"
     "{\"op\": \"rename_column\", \"table\": \"table\", \"column\": \"we`ird\", \"to\": "
     "\"index\"},"
     "{\"op\": \"rename_table\", \"table\": \"table\", \"to\": \"group\"}]}",
     NULL},
    probe_names,
    0,
    0,
};

/* columns: add with defaults to a populated table, drop with indexes,
 * rename a referenced column */
static void probe_columns(strata_conn *c)
{
    probe_value(c, "SELECT \"qty\" FROM \"line\" WHERE \"id\" = 1", "5");
    probe_value(c, "SELECT count(*) FROM \"line\" WHERE \"stamped\" IS NULL", "0");
    probe_fails(c, "INSERT INTO \"line\" (\"id\", \"cart_ref\", \"qty\") VALUES (3, 'nope', 1)");
    probe_ok(c, "INSERT INTO \"line\" (\"id\", \"cart_ref\", \"qty\") VALUES (3, 'c1', 1)");
}

static const conf_case case_columns = {
    "add, drop and rename columns on populated tables",
    {"{\"up\": ["
     "{\"op\": \"create_table\", \"table\": \"cart\", \"columns\": ["
     "{\"name\": \"code\", \"type\": \"string\", \"primary_key\": true}]},"
     "{\"op\": \"create_table\", \"table\": \"line\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"cart_id\", \"type\": \"string\", \"references\": {\"table\": \"cart\"}},"
     "{\"name\": \"old\", \"type\": \"string\"},"
     "{\"name\": \"a\", \"type\": \"string\"}, {\"name\": \"b\", \"type\": \"string\"}],"
     "\"unique\": [{\"name\": \"line_a_b\", \"columns\": [\"a\", \"b\"]}],"
     "\"indexes\": [{\"name\": \"line_old_idx\", \"columns\": [\"old\"]}]},"
     "{\"op\": \"insert\", \"table\": \"cart\", \"rows\": [{\"code\": \"c1\"}]},"
     "{\"op\": \"insert\", \"table\": \"line\", \"rows\": [{\"id\": 1, \"cart_id\": \"c1\", "
     "\"old\": \"x\", \"a\": \"1\", \"b\": \"2\"}, {\"id\": 2, \"a\": \"1\", \"b\": \"3\"}]}"
     "]}",
     "{\"up\": ["
     "{\"op\": \"add_column\", \"table\": \"line\", \"column\": {\"name\": \"qty\", \"type\": "
     "\"integer\", \"nullable\": false, \"default\": 5}},"
     "{\"op\": \"add_column\", \"table\": \"line\", \"column\": {\"name\": \"stamped\", \"type\": "
     "\"timestamptz\", \"nullable\": false, \"default\": {\"expr\": \"now\"}}},"
     "{\"op\": \"drop_column\", \"table\": \"line\", \"column\": \"old\"},"
     "{\"op\": \"drop_column\", \"table\": \"line\", \"column\": \"b\"},"
     "{\"op\": \"rename_column\", \"table\": \"cart\", \"column\": \"code\", \"to\": \"ref\"},"
     "{\"op\": \"rename_column\", \"table\": \"line\", \"column\": \"cart_id\", \"to\": "
     "\"cart_ref\"}"
     "]}",
     NULL},
    probe_columns,
    0,
    0,
};

/* alter column: conversions that must fail uniformly */
static void probe_alter_fail(strata_conn *c)
{
    probe_value(c, "SELECT \"v\" FROM \"conv\" WHERE \"id\" = 2", "abc");
}

static const conf_case case_alter_bad_int = {
    "string to integer with 'abc' fails everywhere and changes nothing",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"conv\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"v\", \"type\": \"string\"}]},"
     "{\"op\": \"insert\", \"table\": \"conv\", \"rows\": [{\"id\": 1, \"v\": \"42\"}, {\"id\": 2, "
     "\"v\": \"abc\"}]}]}",
     "{\"up\": [{\"op\": \"alter_column\", \"table\": \"conv\", \"column\": \"v\", \"type\": "
     "\"integer\"}]}",
     NULL},
    probe_alter_fail,
    1,
    0,
};

static const conf_case case_alter_shorten = {
    "shortening a string below its data fails everywhere",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"conv\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"v\", \"type\": \"string\"}]},"
     "{\"op\": \"insert\", \"table\": \"conv\", \"rows\": [{\"id\": 2, \"v\": \"abc\"}]}]}",
     "{\"up\": [{\"op\": \"alter_column\", \"table\": \"conv\", \"column\": \"v\", \"type\": "
     "\"string\", \"length\": 2}]}",
     NULL},
    probe_alter_fail,
    1,
    0,
};

static const conf_case case_alter_notnull = {
    "SET NOT NULL on NULLs fails everywhere",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"conv\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"v\", \"type\": \"string\"}, {\"name\": \"w\", \"type\": \"string\"}]},"
     "{\"op\": \"insert\", \"table\": \"conv\", \"rows\": [{\"id\": 2, \"v\": \"abc\"}]}]}",
     "{\"up\": [{\"op\": \"alter_column\", \"table\": \"conv\", \"column\": \"w\", \"nullable\": "
     "false}]}",
     NULL},
    probe_alter_fail,
    1,
    0,
};

static void probe_alter_ok(strata_conn *c)
{
    probe_value(c, "SELECT \"v\" + 1 FROM \"conv\" WHERE \"id\" = 1", "43");
    probe_value(c, "SELECT \"w\" FROM \"conv\" WHERE \"id\" = 1", "dflt");
    probe_ok(c, "INSERT INTO \"conv\" (\"id\") VALUES (3)");
    probe_value(c, "SELECT \"w\" FROM \"conv\" WHERE \"id\" = 3", "new");
    probe_fails(c, "INSERT INTO \"conv\" (\"id\", \"u\") VALUES (4, 'same')");
}

static const conf_case case_alter = {
    "alter type, nullability and default; unique and check survive",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"conv\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"v\", \"type\": \"string\"},"
     "{\"name\": \"w\", \"type\": \"string\", \"default\": \"dflt\"},"
     "{\"name\": \"u\", \"type\": \"string\", \"unique\": true}],"
     "\"checks\": [{\"name\": \"conv_id_check\", \"check\": {\"column\": \"id\", \"lt\": 1000}}]},"
     "{\"op\": \"insert\", \"table\": \"conv\", \"rows\": [{\"id\": 1, \"v\": \"42\"}, {\"id\": 2, "
     "\"v\": \"7\", \"u\": \"same\"}]}]}",
     "{\"up\": [{\"op\": \"alter_column\", \"table\": \"conv\", \"column\": \"v\", \"type\": "
     "\"bigint\"},"
     "{\"op\": \"alter_column\", \"table\": \"conv\", \"column\": \"w\", \"nullable\": false},"
     "{\"op\": \"alter_column\", \"table\": \"conv\", \"column\": \"w\", \"default\": \"new\"},"
     "{\"op\": \"alter_column\", \"table\": \"conv\", \"column\": \"u\", \"type\": \"string\", "
     "\"length\": 100}]}",
     NULL},
    probe_alter_ok,
    0,
    0,
};

/* keys: composite primary keys, add and drop a primary key, checks */
static void probe_keys(strata_conn *c)
{
    probe_ok(c, "INSERT INTO \"link\" (\"a\", \"b\") VALUES ('x', 'y')");
    probe_fails(c, "INSERT INTO \"link\" (\"a\", \"b\") VALUES ('x', 'y')");
    probe_fails(c, "INSERT INTO \"link\" (\"a\", \"b\") VALUES ('x', NULL)");
    probe_fails(c, "INSERT INTO \"loose\" (\"k\", \"n\") VALUES ('k1', -1)");
    probe_ok(c, "INSERT INTO \"loose\" (\"k\", \"n\") VALUES ('k2', 1)");
    probe_fails(c, "INSERT INTO \"loose\" (\"k\", \"n\") VALUES ('k2', 2)");
}

static const conf_case case_keys = {
    "composite keys, add/drop primary key, add/drop check",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"link\", \"columns\": ["
     "{\"name\": \"a\", \"type\": \"string\"}, {\"name\": \"b\", \"type\": \"string\"}],"
     "\"primary_key\": [\"a\", \"b\"]},"
     "{\"op\": \"create_table\", \"table\": \"loose\", \"columns\": ["
     "{\"name\": \"k\", \"type\": \"string\"}, {\"name\": \"n\", \"type\": \"integer\"},"
     "{\"name\": \"gone\", \"type\": \"integer\"}]},"
     "{\"op\": \"add_check\", \"table\": \"loose\", \"name\": \"loose_gone\", \"check\": "
     "{\"column\": \"gone\", \"is_null\": true}}]}",
     "{\"up\": [{\"op\": \"add_primary_key\", \"table\": \"loose\", \"columns\": [\"k\"]},"
     "{\"op\": \"insert\", \"table\": \"loose\", \"rows\": [{\"k\": \"k0\", \"n\": 5}]},"
     "{\"op\": \"add_check\", \"table\": \"loose\", \"name\": \"loose_n_positive\", \"check\": "
     "{\"and\": [{\"column\": \"n\", \"gt\": 0}, {\"not\": {\"column\": \"n\", \"in\": [13, "
     "666]}}]}},"
     "{\"op\": \"drop_check\", \"table\": \"loose\", \"name\": \"loose_gone\"}]}",
     "{\"up\": [{\"op\": \"drop_primary_key\", \"table\": \"loose\"},"
     "{\"op\": \"add_unique\", \"table\": \"loose\", \"name\": \"loose_k_key\", \"columns\": "
     "[\"k\"]}]}",
     NULL},
    probe_keys,
    0,
    0,
};

/* indexes and foreign keys added and dropped later; drop and rename tables */
static void probe_indexes(strata_conn *c)
{
    probe_ok(c, "INSERT INTO \"author\" (\"id\") VALUES (1)");
    probe_ok(c, "INSERT INTO \"book\" (\"id\", \"author_id\", \"title\") VALUES (1, 1, 't')");
    probe_ok(c, "INSERT INTO \"book\" (\"id\", \"author_id\", \"title\") VALUES (2, 9, 't')");
}

static const conf_case case_indexes = {
    "create/drop index, add/drop foreign key, drop/rename table",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"author\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}]},"
     "{\"op\": \"create_table\", \"table\": \"books\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"author_id\", \"type\": \"integer\"}, {\"name\": \"title\", \"type\": "
     "\"string\"}]},"
     "{\"op\": \"create_table\", \"table\": \"scratch\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\"}]},"
     "{\"op\": \"add_foreign_key\", \"table\": \"books\", \"name\": \"books_author_fk\", "
     "\"columns\": [\"author_id\"], \"references\": {\"table\": \"author\", \"columns\": "
     "[\"id\"]}},"
     "{\"op\": \"create_index\", \"table\": \"books\", \"name\": \"books_title_idx\", "
     "\"columns\": [{\"column\": \"title\", \"order\": \"desc\"}, \"author_id\"]}]}",
     "{\"up\": [{\"op\": \"drop_foreign_key\", \"table\": \"books\", \"name\": "
     "\"books_author_fk\"},"
     "{\"op\": \"drop_index\", \"table\": \"books\", \"name\": \"books_title_idx\"},"
     "{\"op\": \"drop_table\", \"table\": \"scratch\"},"
     "{\"op\": \"rename_table\", \"table\": \"books\", \"to\": \"book\"},"
     "{\"op\": \"create_index\", \"table\": \"book\", \"name\": \"book_author_idx\", "
     "\"columns\": [\"author_id\"], \"if_not_exists\": true}]}",
     NULL},
    probe_indexes,
    0,
    0,
};

/* data ops and sql with per-dialect bodies */
static void probe_data(strata_conn *c)
{
    probe_value(c, "SELECT count(*) FROM \"setting\"", "2");
    probe_value(c, "SELECT \"value\" FROM \"setting\" WHERE \"key\" = 'b'", "updated");
    probe_value(c, "SELECT \"note\" FROM \"setting\" WHERE \"key\" = 'a'", "from sql");
}

static const conf_case case_data = {
    "insert, update, delete, sql per dialect",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"setting\", \"columns\": ["
     "{\"name\": \"key\", \"type\": \"string\", \"primary_key\": true},"
     "{\"name\": \"value\", \"type\": \"string\"}, {\"name\": \"note\", \"type\": \"text\"}]},"
     "{\"op\": \"insert\", \"table\": \"setting\", \"rows\": [{\"key\": \"a\", \"value\": \"1\"}, "
     "{\"key\": \"b\", \"value\": \"2\"}, {\"key\": \"c\", \"value\": \"3\"}]}]}",
     "{\"up\": [{\"op\": \"update\", \"table\": \"setting\", \"set\": {\"value\": \"updated\"}, "
     "\"where\": {\"column\": \"key\", \"eq\": \"b\"}},"
     "{\"op\": \"delete\", \"table\": \"setting\", \"where\": {\"column\": \"key\", \"in\": "
     "[\"c\"]}},"
     "{\"op\": \"sql\", \"postgres\": \"UPDATE \\\"setting\\\" SET \\\"note\\\" = 'from sql' "
     "WHERE \\\"key\\\" = 'a'\", \"mysql\": \"UPDATE `setting` SET `note` = 'from sql' WHERE "
     "`key` = 'a'\", \"all\": \"UPDATE \\\"setting\\\" SET \\\"note\\\" = 'from sql' WHERE "
     "\\\"key\\\" = 'a'\"}],"
     "\"down\": [{\"op\": \"insert\", \"table\": \"setting\", \"rows\": [{\"key\": \"c\", "
     "\"value\": \"3\"}]}]}",
     NULL},
    probe_data,
    0,
    0,
};

/* 3 DDL then a failing 4th: the schema is as before, on MySQL too */
static void probe_failed_fourth(strata_conn *c)
{
    schema live;
    CU_ASSERT_EQUAL_FATAL(introspect_schema(c, &live, NULL, NULL), 0);
    CU_ASSERT_EQUAL(live.ntables, 1);
    const table *t = schema_table(&live, "base");
    CU_ASSERT_PTR_NOT_NULL(t);
    if (t) {
        CU_ASSERT_EQUAL(t->ncols, 2);
        CU_ASSERT_EQUAL(t->nidx, 0);
    }
    schema_free(&live);
    probe_value(c, "SELECT count(*) FROM \"base\"", "1");
}

static const conf_case case_failed_fourth = {
    "a migration whose 4th op fails leaves the schema as before",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"base\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"v\", \"type\": \"integer\"}]},"
     "{\"op\": \"insert\", \"table\": \"base\", \"rows\": [{\"id\": 1, \"v\": 1}]}]}",
     "{\"up\": [{\"op\": \"create_table\", \"table\": \"extra\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}]},"
     "{\"op\": \"add_column\", \"table\": \"base\", \"column\": {\"name\": \"w\", \"type\": "
     "\"string\"}},"
     "{\"op\": \"create_index\", \"table\": \"base\", \"name\": \"base_w\", \"columns\": "
     "[\"w\"]},"
     "{\"op\": \"sql\", \"all\": \"INSERT INTO nonexistent_table VALUES (1)\"}],"
     "\"down\": []}",
     NULL},
    probe_failed_fourth,
    1,
    0,
};

/* invalid input is refused before anything changes */
static void probe_nothing(strata_conn *c)
{
    schema live;
    CU_ASSERT_EQUAL_FATAL(introspect_schema(c, &live, NULL, NULL), 0);
    CU_ASSERT_EQUAL(live.ntables, 0);
    schema_free(&live);
}

static const conf_case case_invalid_notnull = {
    "NOT NULL without default on a table that may hold rows is refused offline",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"t\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}]},"
     "{\"op\": \"insert\", \"table\": \"t\", \"rows\": [{\"id\": 1}]}]}",
     "{\"up\": [{\"op\": \"add_column\", \"table\": \"t\", \"column\": {\"name\": \"c\", \"type\": "
     "\"integer\", \"nullable\": false}}]}",
     NULL},
    probe_nothing,
    2,
    0,
};

static const conf_case case_invalid_case = {
    "names differing only by case are refused offline",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"Users\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\"}]},"
     "{\"op\": \"create_table\", \"table\": \"users\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\"}]}]}",
     NULL},
    probe_nothing,
    2,
    0,
};

static const conf_case case_invalid_fk_type = {
    "a foreign key between different types is refused offline",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"p\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"bigint\", \"primary_key\": true}]},"
     "{\"op\": \"create_table\", \"table\": \"c\", \"columns\": ["
     "{\"name\": \"p_id\", \"type\": \"integer\", \"references\": {\"table\": \"p\"}}]}]}",
     NULL},
    probe_nothing,
    2,
    0,
};

static const conf_case case_invalid_fk_target = {
    "a foreign key to a non-unique column is refused offline",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"p\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"code\", \"type\": \"string\"}]},"
     "{\"op\": \"create_table\", \"table\": \"c\", \"columns\": ["
     "{\"name\": \"code\", \"type\": \"string\", \"references\": {\"table\": \"p\", \"column\": "
     "\"code\"}}]}]}",
     NULL},
    probe_nothing,
    2,
    0,
};

static const conf_case case_missing_body = {
    "an sql op without a body for the dialect is refused before anything runs",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"t\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\"}]},"
     "{\"op\": \"sql\", \"postgres\": \"SELECT 1\", \"mysql\": \"SELECT 1\"}]}",
     NULL},
    probe_nothing,
    0,
    0,
};

/* SQLite has no body above, the others do: only SQLite must refuse */
static void test_missing_body(void)
{
    conf_case cc = case_missing_body;
    if (test_dialect == STRATA_SQLITE)
        cc.expect_run_error = 2;
    else {
        cc.probe = NULL;
        cc.migrations[0] = "{\"up\": [{\"op\": \"create_table\", \"table\": \"t\", \"columns\": ["
                           "{\"name\": \"id\", \"type\": \"integer\"}]},"
                           "{\"op\": \"sql\", \"postgres\": \"SELECT 1\", \"mysql\": \"SELECT "
                           "1\"}], \"down\": [{\"op\": \"drop_table\", \"table\": \"t\"}]}";
    }
    run_case(&cc);
}

/* long generated names: shortened, distinct, identical everywhere */
static void probe_long(strata_conn *c)
{
    schema live;
    CU_ASSERT_EQUAL_FATAL(introspect_schema(c, &live, NULL, NULL), 0);
    const table *t = schema_table(&live, "a_table_with_quite_a_long_name_for_testing_purposes");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->nidx, 2);
    if (t->nidx == 2) {
        CU_ASSERT(strlen(t->idx[0].name) <= 63);
        CU_ASSERT(strlen(t->idx[1].name) <= 63);
        CU_ASSERT(strcmp(t->idx[0].name, t->idx[1].name) != 0);
    }
    schema_free(&live);
}

static const conf_case case_long_names = {
    "long generated names are shortened without collisions",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": "
     "\"a_table_with_quite_a_long_name_for_testing_purposes\", \"columns\": ["
     "{\"name\": \"first_column_with_a_long_name_a\", \"type\": \"integer\"},"
     "{\"name\": \"first_column_with_a_long_name_b\", \"type\": \"integer\"}],"
     "\"indexes\": [{\"columns\": [\"first_column_with_a_long_name_a\"]}, {\"columns\": "
     "[\"first_column_with_a_long_name_b\"]}]}]}",
     NULL},
    probe_long,
    0,
    0,
};

/* views and triggers survive a rebuild (SQLite), the AUTOINCREMENT counter too */
static void probe_views(strata_conn *c)
{
    probe_ok(c, "INSERT INTO \"item\" (\"name\", \"qty\") VALUES ('b', 2)");
    /* the trigger still logs (3 rows of the migration, 1 now), the view still reads */
    probe_value(c, "SELECT count(*) FROM \"item_log\"", "4");
    probe_value(c, "SELECT count(*) FROM \"big_items\"", "1");
    /* ids are never reused: 3 was deleted before the rebuild */
    probe_value(c, "SELECT max(\"id\") FROM \"item\"", "4");
}

static const conf_case case_views = {
    "views, triggers and AUTOINCREMENT through a rebuild",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"item\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true},"
     "{\"name\": \"name\", \"type\": \"string\"}, {\"name\": \"qty\", \"type\": \"integer\"},"
     "{\"name\": \"note\", \"type\": \"string\"}]},"
     "{\"op\": \"create_table\", \"table\": \"item_log\", \"columns\": ["
     "{\"name\": \"item_id\", \"type\": \"integer\"}]},"
     "{\"op\": \"sql\", \"postgres\": [\"CREATE FUNCTION log_item() RETURNS trigger AS $$ BEGIN "
     "INSERT INTO item_log (item_id) VALUES (NEW.id); RETURN NEW; END $$ LANGUAGE plpgsql\", "
     "\"CREATE TRIGGER item_logger AFTER INSERT ON item FOR EACH ROW EXECUTE FUNCTION "
     "log_item()\"], \"mysql\": \"CREATE TRIGGER item_logger AFTER INSERT ON item FOR EACH ROW "
     "INSERT INTO item_log (item_id) VALUES (NEW.id)\", \"sqlite\": \"CREATE TRIGGER "
     "item_logger AFTER INSERT ON item FOR EACH ROW BEGIN INSERT INTO item_log (item_id) VALUES "
     "(NEW.id); END\"},"
     "{\"op\": \"sql\", \"all\": \"CREATE VIEW big_items AS SELECT id, name FROM item WHERE qty > "
     "1\"},"
     "{\"op\": \"insert\", \"table\": \"item\", \"rows\": [{\"id\": 1, \"name\": \"a\", \"qty\": "
     "1}, {\"id\": 2, \"name\": \"x\", \"qty\": 1}, {\"id\": 3, \"name\": \"y\", \"qty\": 1}]},"
     "{\"op\": \"delete\", \"table\": \"item\", \"where\": {\"column\": \"id\", \"in\": [2, 3]}}],"
     "\"down\": [{\"op\": \"sql\", \"all\": \"DROP VIEW big_items\"},"
     "{\"op\": \"sql\", \"postgres\": [\"DROP TRIGGER item_logger ON item\", \"DROP FUNCTION "
     "log_item()\"], \"all\": \"DROP TRIGGER item_logger\"},"
     "{\"op\": \"drop_table\", \"table\": \"item_log\"}, {\"op\": \"drop_table\", \"table\": "
     "\"item\"}]}",
     "{\"up\": [{\"op\": \"alter_column\", \"table\": \"item\", \"column\": \"note\", \"type\": "
     "\"string\", \"length\": 80, \"default\": \"?\"},"
     "{\"op\": \"add_check\", \"table\": \"item\", \"name\": \"item_qty_check\", \"check\": "
     "{\"column\": \"qty\", \"ge\": 0}}]}",
     NULL},
    probe_views,
    0,
    1,
};

/* self-referencing foreign key, still cascading after a rebuild */
static void probe_self(strata_conn *c)
{
    probe_ok(c, "INSERT INTO \"category\" (\"id\", \"parent_id\") VALUES (1, NULL), (2, 1), (3, "
                "2), (4, NULL)");
    probe_ok(c, "DELETE FROM \"category\" WHERE \"id\" = 1");
    probe_value(c, "SELECT count(*) FROM \"category\"", "1");
}

static const conf_case case_self = {
    "self-referencing foreign key cascades after a rebuild",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"category\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"parent_id\", \"type\": \"integer\", \"references\": {\"table\": \"category\", "
     "\"on_delete\": \"cascade\"}}, {\"name\": \"label\", \"type\": \"string\"}]}]}",
     "{\"up\": [{\"op\": \"alter_column\", \"table\": \"category\", \"column\": \"label\", "
     "\"nullable\": false, \"default\": \"untitled\"}]}",
     NULL},
    probe_self,
    0,
    0,
};

/* a foreign key to a composite unique constraint */
static void probe_composite_fk(strata_conn *c)
{
    probe_ok(c, "INSERT INTO \"variant\" (\"product\", \"sku\") VALUES ('p', 's1')");
    probe_ok(c, "INSERT INTO \"stock\" (\"id\", \"product\", \"sku\") VALUES (1, 'p', 's1')");
    probe_fails(c, "INSERT INTO \"stock\" (\"id\", \"product\", \"sku\") VALUES (2, 'p', 's2')");
}

static const conf_case case_composite_fk = {
    "foreign key to a composite unique constraint",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"variant\", \"columns\": ["
     "{\"name\": \"product\", \"type\": \"string\", \"nullable\": false},"
     "{\"name\": \"sku\", \"type\": \"string\", \"nullable\": false}],"
     "\"unique\": [{\"name\": \"variant_product_sku\", \"columns\": [\"product\", \"sku\"]}]},"
     "{\"op\": \"create_table\", \"table\": \"stock\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"product\", \"type\": \"string\"}, {\"name\": \"sku\", \"type\": \"string\"}],"
     "\"foreign_keys\": [{\"name\": \"stock_variant_fk\", \"columns\": [\"product\", \"sku\"], "
     "\"references\": {\"table\": \"variant\", \"columns\": [\"product\", \"sku\"]}}]}]}",
     NULL},
    probe_composite_fk,
    0,
    0,
};

/* adding a check that rows violate fails everywhere (MySQL >= 8.0.16 / MariaDB enforce) */
static void probe_check_violation(strata_conn *c)
{
    probe_ok(c, "INSERT INTO \"price\" (\"id\", \"amount\") VALUES (2, -5)");
}

static const conf_case case_check_violation = {
    "a check that existing rows violate is refused",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"price\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"amount\", \"type\": \"integer\"}]},"
     "{\"op\": \"insert\", \"table\": \"price\", \"rows\": [{\"id\": 1, \"amount\": -1}]}]}",
     "{\"up\": [{\"op\": \"add_check\", \"table\": \"price\", \"name\": \"price_positive\", "
     "\"check\": {\"column\": \"amount\", \"ge\": 0}}]}",
     NULL},
    probe_check_violation,
    1,
    0,
};

/* "transaction": false, with PostgreSQL's CREATE INDEX CONCURRENTLY */
static void probe_concurrently(strata_conn *c)
{
    probe_ok(c, "INSERT INTO \"event\" (\"id\", \"kind\") VALUES (1, 'x')");
}

static const conf_case case_concurrently = {
    "a transaction: false migration (CREATE INDEX CONCURRENTLY on PostgreSQL)",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"event\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"kind\", \"type\": \"string\"}]}]}",
     "{\"transaction\": false, \"up\": [{\"op\": \"sql\", \"postgres\": \"CREATE INDEX "
     "CONCURRENTLY event_kind_idx ON event (kind)\", \"all\": \"CREATE INDEX event_kind_idx ON "
     "event (kind)\"}], \"down\": [{\"op\": \"sql\", \"postgres\": \"DROP INDEX CONCURRENTLY "
     "event_kind_idx\", \"mysql\": \"DROP INDEX event_kind_idx ON event\", \"sqlite\": \"DROP "
     "INDEX event_kind_idx\"}]}",
     NULL},
    probe_concurrently,
    0,
    0,
    1,
};

static const conf_case case_emoji = {
    "an identifier MySQL cannot store (emoji) is refused offline",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"t\xf0\x9f\x98\x80\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\"}]}]}",
     NULL},
    probe_nothing,
    2,
    0,
};

static const conf_case case_drop_referenced = {
    "dropping a column another table references is refused offline",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"p\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"code\", \"type\": \"string\", \"unique\": true}]},"
     "{\"op\": \"create_table\", \"table\": \"c\", \"columns\": ["
     "{\"name\": \"code\", \"type\": \"string\", \"references\": {\"table\": \"p\", \"column\": "
     "\"code\"}}]},"
     "{\"op\": \"drop_column\", \"table\": \"p\", \"column\": \"code\"}]}",
     NULL},
    probe_nothing,
    2,
    0,
};

static const conf_case case_drop_last = {
    "dropping the last column is refused offline",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"p\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\"}]},"
     "{\"op\": \"drop_column\", \"table\": \"p\", \"column\": \"id\"}]}",
     NULL},
    probe_nothing,
    2,
    0,
};

/* four utf8mb4 varchar(255) are too wide for InnoDB: refused before
 * anything runs on MySQL, fine elsewhere */
static void test_index_width(void)
{
    conf_case cc = {
        "index width",
        {"{\"up\": [{\"op\": \"create_table\", \"table\": \"wide\", \"columns\": ["
         "{\"name\": \"a\", \"type\": \"string\"}, {\"name\": \"b\", \"type\": \"string\"},"
         "{\"name\": \"c\", \"type\": \"string\"}, {\"name\": \"d\", \"type\": \"string\"}],"
         "\"unique\": [{\"name\": \"wide_all\", \"columns\": [\"a\", \"b\", \"c\", \"d\"]}]}]}",
         NULL},
        NULL,
        test_dialect == STRATA_MYSQL ? 2 : 0,
        0,
    };
    if (test_dialect == STRATA_MYSQL)
        cc.probe = probe_nothing;
    run_case(&cc);
}

/* lengths and booleans: what each database enforces (docs/types.md) */
static void probe_limits(strata_conn *c)
{
    const char *eleven = "INSERT INTO \"lim\" (\"id\", \"s\") VALUES (1, '12345678901')";
    if (test_dialect == STRATA_SQLITE)
        probe_ok(c, eleven); /* SQLite does not enforce string lengths */
    else
        probe_fails(c, eleven);
    probe_ok(c, "INSERT INTO \"lim\" (\"id\", \"s\", \"b\") VALUES (2, '1234567890', TRUE)");
    probe_ok(c, "INSERT INTO \"lim\" (\"id\", \"b\") VALUES (3, FALSE)");
    probe_ok(c, "INSERT INTO \"lim\" (\"id\") VALUES (4)");
    probe_value(c, "SELECT count(*) FROM \"lim\" WHERE \"b\" = TRUE", "1");
    probe_value(c, "SELECT count(*) FROM \"lim\" WHERE \"b\" IS NULL",
                test_dialect == STRATA_SQLITE ? "2" : "1");
}

static const conf_case case_limits = {
    "string lengths and booleans",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"lim\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"s\", \"type\": \"string\", \"length\": 10},"
     "{\"name\": \"b\", \"type\": \"boolean\"}]}]}",
     NULL},
    probe_limits,
    0,
    0,
};

/* NOT NULL without a default on a table that exists but is empty: fine */
static void probe_notnull_empty(strata_conn *c)
{
    probe_fails(c, "INSERT INTO \"t\" (\"id\") VALUES (1)");
    probe_ok(c, "INSERT INTO \"t\" (\"id\", \"c\") VALUES (1, 5)");
}

static const conf_case case_notnull_empty = {
    "NOT NULL without a default on an existing empty table",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"t\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}]}]}",
     "{\"up\": [{\"op\": \"add_column\", \"table\": \"t\", \"column\": {\"name\": \"c\", \"type\": "
     "\"integer\", \"nullable\": false}}]}",
     NULL},
    probe_notnull_empty,
    0,
    0,
};

/* ... and on a table with rows the model cannot see (made by sql): refused
 * at run time on all three (MySQL would fill in zeros), nothing changed */
static void probe_notnull_rows(strata_conn *c)
{
    probe_value(c, "SELECT count(*) FROM \"t\"", "1");
    probe_fails(c, "SELECT \"c\" FROM \"t\"");
}

static const conf_case case_notnull_rows = {
    "NOT NULL without a default on a table with rows fails at run time",
    {"{\"up\": [{\"op\": \"create_table\", \"table\": \"t\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}]},"
     "{\"op\": \"sql\", \"all\": \"INSERT INTO t (id) VALUES (1)\"}], \"down\": [{\"op\": "
     "\"drop_table\", \"table\": \"t\"}]}",
     "{\"up\": [{\"op\": \"add_column\", \"table\": \"t\", \"column\": {\"name\": \"c\", \"type\": "
     "\"integer\", \"nullable\": false}}]}",
     NULL},
    probe_notnull_rows,
    1,
    0,
};

/* Every operation that takes a column, for every type: add it to a
 * populated table, index it (where all three can), rename it, change its
 * nullability and default, drop it - up, down, up with no drift. */
typedef struct type_case {
    const char *type;  /* the column object's type keys */
    const char *value; /* a JSON value of the type, for a row and a default */
    int indexable;     /* MySQL can index it without a prefix */
} type_case;

static const type_case type_cases[] = {
    {"\"type\": \"smallint\"", "7", 1},
    {"\"type\": \"integer\"", "42", 1},
    {"\"type\": \"bigint\"", "9007199254740993", 1},
    {"\"type\": \"decimal\", \"precision\": 12, \"scale\": 3", "\"1234.567\"", 1},
    {"\"type\": \"real\"", "1.5", 1},
    {"\"type\": \"double\"", "2.25", 1},
    {"\"type\": \"boolean\"", "true", 1},
    {"\"type\": \"string\", \"length\": 40", "\"forty\"", 1},
    {"\"type\": \"text\"", "\"long text\"", 0},
    {"\"type\": \"uuid\"", "\"0b7a9a30-5e25-4c4e-9b4f-2c1d2f3e4a5b\"", 1},
    {"\"type\": \"date\"", "\"2024-02-29\"", 1},
    {"\"type\": \"time\", \"precision\": 0", "\"12:34:56\"", 1},
    {"\"type\": \"timestamp\"", "\"2024-01-02T03:04:05.123456\"", 1},
    {"\"type\": \"timestamptz\", \"precision\": 3", "\"2024-01-02T03:04:05.123+02:00\"", 1},
    {"\"type\": \"json\"", "{\"a\": [1, 2]}", 0},
    {"\"type\": \"jsonb\"", "[true, null]", 0},
    {"\"type\": \"binary\"", "\"bytes\"", 0},
    {"\"type\": \"enum\", \"values\": [\"x\", \"y\"]", "\"y\"", 1},
};

static void test_ops_per_type(void)
{
    for (size_t i = 0; i < sizeof type_cases / sizeof type_cases[0]; i++) {
        const type_case *tc = &type_cases[i];
        char *m1, *m2;
        CU_ASSERT_FATAL(
            asprintf(&m1,
                     "{\"up\": [{\"op\": \"create_table\", \"table\": \"host\", \"columns\": ["
                     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}]},"
                     "{\"op\": \"insert\", \"table\": \"host\", \"rows\": [{\"id\": 1}]}]}") > 0);
        CU_ASSERT_FATAL(
            asprintf(&m2,
                     "{\"up\": [{\"op\": \"add_column\", \"table\": \"host\", \"column\": "
                     "{\"name\": \"v\", %s, \"default\": %s}},"
                     "{\"op\": \"add_column\", \"table\": \"host\", \"column\": "
                     "{\"name\": \"w\", %s}},"
                     "{\"op\": \"update\", \"table\": \"host\", \"set\": {\"w\": %s}},"
                     "%s"
                     "{\"op\": \"rename_column\", \"table\": \"host\", \"column\": \"w\", \"to\": "
                     "\"w2\"},"
                     "{\"op\": \"alter_column\", \"table\": \"host\", \"column\": \"w2\", "
                     "\"nullable\": false},"
                     "{\"op\": \"alter_column\", \"table\": \"host\", \"column\": \"w2\", "
                     "\"default\": %s},"
                     "{\"op\": \"alter_column\", \"table\": \"host\", \"column\": \"v\", "
                     "\"drop_default\": true},"
                     "{\"op\": \"insert\", \"table\": \"host\", \"rows\": [{\"id\": 2, \"v\": %s, "
                     "\"w2\": %s}]},"
                     "{\"op\": \"drop_column\", \"table\": \"host\", \"column\": \"v\"}],"
                     "\"down\": [{\"op\": \"delete\", \"table\": \"host\", \"where\": {\"column\": "
                     "\"id\", \"eq\": 2}},"
                     "{\"op\": \"drop_column\", \"table\": \"host\", \"column\": \"w2\"}]}",
                     tc->type, tc->value, tc->type, tc->value,
                     tc->indexable ? "{\"op\": \"create_index\", \"table\": \"host\", \"name\": "
                                     "\"host_w_idx\", \"columns\": [\"w\"]},"
                                   : "",
                     tc->value, tc->value, tc->value) > 0);
        conf_case cc = {"ops per type", {m1, m2, NULL}, NULL, 0, 0, 0};
        fprintf(stderr, "%s", i ? "" : "\n");
        run_case(&cc);
        free(m1);
        free(m2);
    }
}

/* a value added to an enum and used in the same migration (PostgreSQL
 * cannot use an ADD VALUE label before commit: the type is re-created) */
static void probe_enum_same_migration(strata_conn *c)
{
    probe_value(c, "SELECT \"mood\" FROM \"feeling\" WHERE \"id\" = 1", "great");
}

static const conf_case case_enum_same_migration = {
    "an enum value added and used in the same migration",
    {"{\"up\": [{\"op\": \"create_enum\", \"name\": \"mood\", \"values\": [\"ok\", \"meh\"]},"
     "{\"op\": \"create_table\", \"table\": \"feeling\", \"columns\": ["
     "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
     "{\"name\": \"mood\", \"type\": \"enum\", \"enum\": \"mood\"}]}]}",
     "{\"up\": [{\"op\": \"alter_enum\", \"name\": \"mood\", \"values\": [\"ok\", \"meh\", "
     "\"great\"]},"
     "{\"op\": \"insert\", \"table\": \"feeling\", \"rows\": [{\"id\": 1, \"mood\": \"great\"}]}]}",
     NULL},
    probe_enum_same_migration,
    0,
    0,
};

/* ---- registration ---- */

#define CASE(fn, cs)                                                                               \
    static void fn(void)                                                                           \
    {                                                                                              \
        run_case(&cs);                                                                             \
    }

CASE(test_types, case_types)
CASE(test_serial, case_serial)
CASE(test_fk, case_fk)
CASE(test_partial, case_partial)
CASE(test_enum, case_enum)
CASE(test_enum_removal, case_enum_removal)
CASE(test_names, case_names)
CASE(test_columns, case_columns)
CASE(test_alter_bad_int, case_alter_bad_int)
CASE(test_alter_shorten, case_alter_shorten)
CASE(test_alter_notnull, case_alter_notnull)
CASE(test_alter, case_alter)
CASE(test_keys, case_keys)
CASE(test_indexes, case_indexes)
CASE(test_data, case_data)
CASE(test_failed_fourth, case_failed_fourth)
CASE(test_invalid_notnull, case_invalid_notnull)
CASE(test_invalid_case, case_invalid_case)
CASE(test_invalid_fk_type, case_invalid_fk_type)
CASE(test_invalid_fk_target, case_invalid_fk_target)
CASE(test_long_names, case_long_names)
CASE(test_views, case_views)
CASE(test_self, case_self)
CASE(test_composite_fk, case_composite_fk)
CASE(test_check_violation, case_check_violation)
CASE(test_concurrently, case_concurrently)
CASE(test_emoji, case_emoji)
CASE(test_drop_referenced, case_drop_referenced)
CASE(test_drop_last, case_drop_last)
CASE(test_limits, case_limits)
CASE(test_enum_same_migration, case_enum_same_migration)
CASE(test_notnull_empty, case_notnull_empty)
CASE(test_notnull_rows, case_notnull_rows)

static const test_case tests[] = {
    {"every type and default", test_types},
    {"serial keys and non-key serials", test_serial},
    {"foreign keys, actions, parent rebuild", test_fk},
    {"unique partial index", test_partial},
    {"enums", test_enum},
    {"enum value removal refused", test_enum_removal},
    {"reserved words and odd names", test_names},
    {"columns on populated tables", test_columns},
    {"string to integer with bad data", test_alter_bad_int},
    {"shortening a string", test_alter_shorten},
    {"SET NOT NULL on NULLs", test_alter_notnull},
    {"alter type, nullability, default", test_alter},
    {"keys and checks", test_keys},
    {"indexes and foreign keys later", test_indexes},
    {"data ops and sql", test_data},
    {"failing 4th op", test_failed_fourth},
    {"NOT NULL without default refused", test_invalid_notnull},
    {"case-only name difference refused", test_invalid_case},
    {"FK type mismatch refused", test_invalid_fk_type},
    {"FK to non-unique refused", test_invalid_fk_target},
    {"sql op without body", test_missing_body},
    {"long names", test_long_names},
    {"views, triggers, AUTOINCREMENT through a rebuild", test_views},
    {"self-referencing foreign key", test_self},
    {"foreign key to a composite unique", test_composite_fk},
    {"check violated by existing rows", test_check_violation},
    {"transaction: false, CREATE INDEX CONCURRENTLY", test_concurrently},
    {"emoji identifier refused", test_emoji},
    {"drop of a referenced column refused", test_drop_referenced},
    {"drop of the last column refused", test_drop_last},
    {"index too wide for InnoDB", test_index_width},
    {"string lengths and booleans", test_limits},
    {"enum value added and used in one migration", test_enum_same_migration},
    {"NOT NULL without default, empty table", test_notnull_empty},
    {"every column operation for every type", test_ops_per_type},
    {"NOT NULL without default, rows the model cannot see", test_notnull_rows},
    {NULL, NULL},
};

int main(void)
{
    test_add_dialect_suites("conformance", NULL, NULL, tests);
    return test_main();
}
