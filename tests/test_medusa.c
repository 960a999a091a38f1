/*
 * test_medusa.c - the Medusa v1 schema that Strata ships in migrations/ (the 82
 * core migrations of Medusa 1.20, see docs/medusa.md), run through the strata
 * binary on the three real databases.
 *
 * Per dialect: apply every migration (all four feature flags on), count what
 * the schema holds per kind (tables, columns, foreign keys, unique and partial
 * indexes, checks, enums) and compare with the counts measured from Medusa's
 * own SQL; revert everything and check that no user table is left; apply
 * again. The same with Medusa's default flags (75 migrations), then the other
 * flags turned on (the 7 others, out of order). A further test walks a
 * database through the migrations that move or backfill data, with rows in
 * place, and reverts them; another loads the demo store data/seed.json, with
 * the default flags and with all of them. Offline: the
 * reference-data migration is what its generator writes, every migration
 * compiles for every dialect, and data/seed.json is a consistent Medusa seed.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *db_url;

static int suite_init(void)
{
    db_url = test_fresh_database(test_dialect, "medusa");
    return db_url ? 0 : 1;
}

static int suite_cleanup(void)
{
    test_drop_database(test_dialect, db_url);
    free(db_url);
    db_url = NULL;
    return 0;
}

/* Run `strata ARGS` on the shipped migrations against `url`; returns the exit
 * status and prints the output when it is not 0. */
static int strata(const char *url, const char *args)
{
    char *cmd = NULL, *out = NULL;
    if (asprintf(&cmd, "%s %s --migrations-dir '%s/migrations' --database-url '%s'",
                 test_strata_bin(), args, test_source_dir(), url) < 0)
        return -1;
    int rc = test_run_cmd(cmd, &out);
    if (rc != 0)
        fprintf(stderr, "\n  strata %s exited %d:\n%s\n", args, rc, out ? out : "");
    free(out);
    free(cmd);
    return rc;
}

/* ---- counting the schema per kind ---------------------------------------- */

typedef struct kind_counts {
    long long tables, columns, foreign_keys, unique, partial, checks, enums, indexes;
} kind_counts;

/*
 * The PostgreSQL numbers were measured on PostgreSQL 15 by running the SQL of
 * the up() methods of Medusa 1.20.10's 82 core migrations (tag
 * @medusajs/medusa@1.20.10) on an empty database - Medusa's own schema, not
 * Strata's - with the same catalog queries as below. Strata's PostgreSQL schema
 * has exactly these counts (docs/medusa.md lists the remaining differences:
 * varchar(255) for Medusa's unbounded varchar, numeric precision, ...).
 *
 *   100 tables, 803 columns, 145 foreign keys, 50 unique constraints and
 *   indexes (16 of them partial), 29 partial indexes (16 unique, 13 not: 8
 *   btree and the 5 trigram GIN indexes on product, product_variant and
 *   product_collection), 8 checks, 29 enum types, 202 indexes besides the
 *   primary keys.
 *
 * MySQL/MariaDB and SQLite differ where the database does:
 *  - MySQL/MariaDB have no partial indexes. The 16 partial unique indexes keep
 *    their meaning through unique indexes on invisible generated helper columns
 *    (21 of them: 5 of the indexes have two columns); they are counted as
 *    partial here. The 8 non-unique btree partial indexes become plain indexes
 *    (the spec allows it) and the 5 trigram GIN indexes do not exist there.
 *    Every foreign key needs an index, so MariaDB adds one named after each of
 *    the 22 foreign keys no other index covers, and the non-key serials
 *    order.display_id and draft_order.display_id get the key AUTO_INCREMENT
 *    needs: 202 - 5 + 22 + 2 = 221 indexes. Enums are inline ENUM columns (29);
 *    the 70 JSON columns carry column-level json_valid checks besides the 8
 *    table checks.
 *  - SQLite keeps the 24 btree partial indexes and has no trigram GIN ones
 *    (197 indexes). Enums are named CHECK (col IN (...)) constraints (29) and
 *    JSON columns json_valid checks (70), so the 8 checks are the others.
 */
static const kind_counts expected[STRATA_DIALECT_COUNT] = {
    [STRATA_POSTGRES] = {100, 803, 145, 50, 29, 8, 29, 202},
    [STRATA_MYSQL] = {100, 803, 145, 50, 16, 8, 29, 221},
    [STRATA_SQLITE] = {100, 803, 145, 50, 24, 8, 29, 197},
};

/* The four flags of the gated migrations (docs/medusa.md), all on: the
 * counts above are those of all 82 migrations. */
#define ALL_FLAGS                                                                                  \
    "--flag sales_channels --flag analytics --flag tax_inclusive_pricing --flag medusa_v2"

/*
 * With Medusa's default flags (sales_channels and analytics on,
 * tax_inclusive_pricing and medusa_v2 off) 75 migrations apply, as in a
 * default Medusa 1.20 install: measured on PostgreSQL 15 against
 * `medusa migrations run` (scripts/medusa-e2e.sh), 99 tables, 783 columns,
 * 155 foreign keys (the 9 medusa_v2 drops are not made, the 1 it adds
 * neither), 48 unique constraints and indexes, 199 indexes besides the
 * primary keys. On MySQL 23 foreign keys get an index of their own
 * (199 - 5 + 23 + 2 = 219).
 */
static const kind_counts expected_default[STRATA_DIALECT_COUNT] = {
    [STRATA_POSTGRES] = {99, 783, 155, 48, 29, 8, 29, 199},
    [STRATA_MYSQL] = {99, 783, 155, 48, 16, 8, 29, 219},
    [STRATA_SQLITE] = {99, 783, 155, 48, 24, 8, 29, 194},
};

#define PG_TABLES                                                                                  \
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND "     \
    "n.nspname = current_schema() AND c.relname NOT LIKE 'strata\\_%' "
#define PG_INDEXES "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid " PG_JOIN_NS
#define PG_JOIN_NS                                                                                 \
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND "        \
    "c.relname NOT LIKE 'strata\\_%' "

static const char *const pg_queries[] = {
    "SELECT count(*) " PG_TABLES,
    "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid " PG_JOIN_NS
    "AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
    "SELECT count(*) FROM pg_constraint x JOIN pg_class c ON c.oid = x.conrelid " PG_JOIN_NS
    "AND x.contype = 'f'",
    "SELECT count(*) " PG_INDEXES "AND i.indisunique AND NOT i.indisprimary",
    "SELECT count(*) " PG_INDEXES "AND i.indpred IS NOT NULL",
    "SELECT count(*) FROM pg_constraint x JOIN pg_class c ON c.oid = x.conrelid " PG_JOIN_NS
    "AND x.contype = 'c'",
    "SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
    "WHERE n.nspname = current_schema() AND t.typtype = 'e'",
    "SELECT count(*) " PG_INDEXES "AND NOT i.indisprimary",
};

#define MY_TABLES "table_schema = DATABASE() AND table_name NOT LIKE 'strata\\_%' "

static const char *const my_queries[] = {
    "SELECT count(*) FROM information_schema.tables WHERE " MY_TABLES
    "AND table_type = 'BASE TABLE'",
    /* the engine's helper columns for partial unique indexes are INVISIBLE */
    "SELECT count(*) FROM information_schema.columns WHERE " MY_TABLES
    "AND extra NOT LIKE '%INVISIBLE%'",
    "SELECT count(*) FROM information_schema.referential_constraints "
    "WHERE constraint_schema = DATABASE() AND table_name NOT LIKE 'strata\\_%'",
    "SELECT count(DISTINCT table_name, index_name) FROM information_schema.statistics "
    "WHERE " MY_TABLES "AND non_unique = 0 AND index_name <> 'PRIMARY'",
    /* partial unique indexes: unique indexes on helper columns */
    "SELECT count(DISTINCT s.table_name, s.index_name) FROM information_schema.statistics s "
    "JOIN information_schema.columns c ON c.table_schema = s.table_schema AND "
    "c.table_name = s.table_name AND c.column_name = s.column_name "
    "WHERE s.table_schema = DATABASE() AND s.non_unique = 0 AND c.extra LIKE '%INVISIBLE%'",
    "SELECT count(*) FROM information_schema.check_constraints "
    "WHERE constraint_schema = DATABASE() AND level = 'Table'",
    "SELECT count(*) FROM information_schema.columns WHERE " MY_TABLES "AND data_type = 'enum'",
    "SELECT count(DISTINCT table_name, index_name) FROM information_schema.statistics "
    "WHERE " MY_TABLES "AND index_name <> 'PRIMARY'",
};

#define SL_TABLES                                                                                  \
    "s.type = 'table' AND s.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND "                           \
    "s.name NOT LIKE 'strata\\_%' ESCAPE '\\' "
/* How often `pat` occurs in the CREATE TABLE statements of the user tables. */
#define SL_OCCURRENCES(pat)                                                                        \
    "(SELECT coalesce(sum((length(s.sql) - length(replace(s.sql, '" pat "', ''))) / "              \
    "length('" pat "')), 0) FROM sqlite_schema s WHERE " SL_TABLES ")"

static const char *const sl_queries[] = {
    "SELECT count(*) FROM sqlite_schema s WHERE " SL_TABLES,
    "SELECT count(*) FROM sqlite_schema s, pragma_table_info(s.name) WHERE " SL_TABLES,
    "SELECT count(*) FROM (SELECT DISTINCT s.name, f.id FROM sqlite_schema s, "
    "pragma_foreign_key_list(s.name) f WHERE " SL_TABLES ")",
    "SELECT count(*) FROM sqlite_schema s, pragma_index_list(s.name) i WHERE " SL_TABLES
    "AND i.\"unique\" AND i.origin <> 'pk'",
    "SELECT count(*) FROM sqlite_schema s, pragma_index_list(s.name) i WHERE " SL_TABLES
    "AND i.partial",
    /* every CHECK, minus the engine's enum and JSON checks (named by suffix) */
    "SELECT " SL_OCCURRENCES(" CHECK (") " - " SL_OCCURRENCES(
        "_enum\" CHECK (") " - " SL_OCCURRENCES("_json\" CHECK ("),
    "SELECT " SL_OCCURRENCES("_enum\" CHECK ("),
    "SELECT count(*) FROM sqlite_schema s, pragma_index_list(s.name) i WHERE " SL_TABLES
    "AND i.origin <> 'pk'",
};

static const char *const *const queries[STRATA_DIALECT_COUNT] = {
    [STRATA_POSTGRES] = pg_queries,
    [STRATA_MYSQL] = my_queries,
    [STRATA_SQLITE] = sl_queries,
};

static const char *const kind_names[] = {"tables",         "columns",         "foreign keys",
                                         "unique indexes", "partial indexes", "checks",
                                         "enums",          "indexes"};

static void count_kinds(strata_conn *c, kind_counts *out)
{
    long long *v = &out->tables;
    for (size_t k = 0; k < sizeof kind_names / sizeof kind_names[0]; k++)
        v[k] = test_scalar_int(c, queries[test_dialect][k]);
}

static void assert_counts_of(strata_conn *c, const char *when, const kind_counts *want)
{
    kind_counts got;
    count_kinds(c, &got);
    const long long *g = &got.tables, *e = &want->tables;
    for (size_t k = 0; k < sizeof kind_names / sizeof kind_names[0]; k++) {
        if (g[k] != e[k])
            fprintf(stderr, "\n  %s, %s: %lld %s, expected %lld\n",
                    strata_dialect_name(test_dialect), when, g[k], kind_names[k], e[k]);
        CU_ASSERT_EQUAL(g[k], e[k]);
    }
}

/* All 82 migrations applied. */
static void assert_counts(strata_conn *c, const char *when)
{
    assert_counts_of(c, when, &expected[test_dialect]);
}

/* What only one dialect has, measured the same way (see `expected`). */
static void assert_dialect_details(strata_conn *c)
{
    if (test_dialect == STRATA_MYSQL) {
        CU_ASSERT_EQUAL(test_scalar_int(c, "SELECT count(*) FROM information_schema.columns "
                                           "WHERE " MY_TABLES "AND extra LIKE '%INVISIBLE%'"),
                        21);
        CU_ASSERT_EQUAL(test_scalar_int(c,
                                        "SELECT count(*) FROM information_schema.check_constraints "
                                        "WHERE constraint_schema = DATABASE() AND level = "
                                        "'Column' AND check_clause LIKE 'json_valid(%'"),
                        70);
        CU_ASSERT_EQUAL(test_scalar_int(c, "SELECT count(DISTINCT s.table_name, s.index_name) FROM "
                                           "information_schema.statistics s JOIN "
                                           "information_schema.referential_constraints r ON "
                                           "r.constraint_schema = s.table_schema AND r.table_name "
                                           "= s.table_name AND r.constraint_name = s.index_name "
                                           "WHERE s.table_schema = DATABASE()"),
                        22);
    } else if (test_dialect == STRATA_SQLITE) {
        CU_ASSERT_EQUAL(test_scalar_int(c, "SELECT " SL_OCCURRENCES("_json\" CHECK (")), 70);
    } else {
        /* the trigram indexes exist on PostgreSQL only */
        CU_ASSERT_EQUAL(test_scalar_int(c, "SELECT count(*) FROM pg_indexes WHERE schemaname = "
                                           "current_schema() AND indexdef LIKE '%gin_trgm_ops%'"),
                        5);
    }
}

/* User tables (and, on PostgreSQL, enum types) left in the database. */
static long long leftovers(strata_conn *c)
{
    long long n = test_scalar_int(c, queries[test_dialect][0]);
    if (test_dialect == STRATA_POSTGRES)
        n += test_scalar_int(c, pg_queries[6]);
    return n;
}

/* The number of rows the reference-data migration inserts into `table`. */
static long long reference_rows(const char *table)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/migrations/1611063174563_countries_currencies.json",
             test_source_dir());
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (!doc) {
        fprintf(stderr, "\n  %s: %s\n", path, err.text);
        return -1;
    }
    long long n = -1;
    size_t i;
    json_t *op;
    json_array_foreach(json_object_get(doc, "up"), i, op)
    {
        if (strcmp(json_string_value(json_object_get(op, "table")), table) == 0)
            n = (long long)json_array_size(json_object_get(op, "rows"));
    }
    json_decref(doc);
    return n;
}

static void assert_scalar(strata_conn *c, const char *sql, const char *want)
{
    char *got = test_scalar(c, sql);
    if (!got || strcmp(got, want) != 0)
        fprintf(stderr, "\n  %s\n  gave [%s], expected [%s]\n", sql, got ? got : "(null)", want);
    CU_ASSERT_PTR_NOT_NULL(got);
    if (got)
        CU_ASSERT_STRING_EQUAL(got, want);
    free(got);
}

static void assert_reference_data(strata_conn *c)
{
    long long countries = reference_rows("country"), currencies = reference_rows("currency");
    CU_ASSERT(countries > 240);
    CU_ASSERT(currencies > 100);
    CU_ASSERT_EQUAL(test_scalar_int(c, "SELECT count(*) FROM country"), countries);
    CU_ASSERT_EQUAL(test_scalar_int(c, "SELECT count(*) FROM currency"), currencies);
    assert_scalar(c, "SELECT iso_3 FROM country WHERE iso_2 = 'de'", "deu");
    assert_scalar(c, "SELECT num_code FROM country WHERE iso_2 = 'de'", "276");
    assert_scalar(c, "SELECT display_name FROM country WHERE iso_2 = 'de'", "Germany");
    /* UTF-8 survives on every database */
    assert_scalar(c, "SELECT symbol FROM currency WHERE code = 'eur'", "\xe2\x82\xac");
    assert_scalar(c, "SELECT symbol_native FROM currency WHERE code = 'jpy'", "\xef\xbf\xa5");
    /* Medusa's ids: its countries numbered in display_name order */
    assert_scalar(c, "SELECT id FROM country WHERE iso_2 = 'de'", "82");
    assert_scalar(c, "SELECT id FROM country WHERE iso_2 = 'xk'", "119");
    assert_scalar(c, "SELECT max(id) FROM country", "250");
}

static void test_run_revert_run(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(db_url);
    CU_ASSERT_EQUAL_FATAL(strata(db_url, "migrations run " ALL_FLAGS), 0);
    strata_conn *c = test_connect(db_url);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    assert_counts(c, "after run");
    assert_dialect_details(c);
    assert_reference_data(c);
    CU_ASSERT_EQUAL(strata(db_url, "migrations show " ALL_FLAGS), 0); /* nothing pending */

    CU_ASSERT_EQUAL(strata(db_url, "migrations revert --all " ALL_FLAGS), 0);
    CU_ASSERT_EQUAL(leftovers(c), 0);

    CU_ASSERT_EQUAL(strata(db_url, "migrations run " ALL_FLAGS), 0);
    assert_counts(c, "after revert --all and run");
    assert_reference_data(c);
    strata_conn_close(c);
}

/* Run `strata ARGS` (as strata() does) and return its output (caller frees). */
static char *strata_output(const char *url, const char *args, int *status)
{
    char *cmd = NULL, *out = NULL;
    if (asprintf(&cmd, "%s %s --migrations-dir '%s/migrations' --database-url '%s' 2>&1",
                 test_strata_bin(), args, test_source_dir(), url) < 0)
        return NULL;
    *status = test_run_cmd(cmd, &out);
    free(cmd);
    return out;
}

/* Medusa's defaults give the schema of a default Medusa install (75
 * migrations); turning the other two flags on later applies the 7 gated
 * ones out of order, without --allow-out-of-order, and gives the schema of
 * all 82; revert --all empties the database. */
static void test_default_flags_then_all(void)
{
    char *url = test_fresh_database(test_dialect, "medusaflags");
    CU_ASSERT_PTR_NOT_NULL_FATAL(url);
    CU_ASSERT_EQUAL_FATAL(strata(url, "migrations run"), 0);
    strata_conn *c = test_connect(url);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    assert_counts_of(c, "after run with the default flags", &expected_default[test_dialect]);
    assert_reference_data(c);
    CU_ASSERT_EQUAL(test_scalar_int(c, "SELECT count(*) FROM strata_migrations"), 75);
    int st = 0;
    char *out = strata_output(url, "migrations show", &st);
    CU_ASSERT_EQUAL(st, 0); /* the 7 others are skipped, not pending */
    CU_ASSERT_STR_CONTAINS(out, "[-] 1692870898424_line-item-product-id");
    CU_ASSERT_STR_CONTAINS(out, "skipped: flag medusa_v2 is off");
    CU_ASSERT_STR_CONTAINS(out, "skipped: flag tax_inclusive_pricing is off");
    CU_ASSERT_STR_CONTAINS(out, "[X] 1656949291839_sales_channel");
    free(out);

    CU_ASSERT_EQUAL(strata(url, "migrations run --flag medusa_v2 --flag tax_inclusive_pricing"), 0);
    assert_counts(c, "after turning medusa_v2 and tax_inclusive_pricing on");
    CU_ASSERT_EQUAL(test_scalar_int(c, "SELECT count(*) FROM strata_migrations"), 82);
    CU_ASSERT_EQUAL(strata(url, "migrations show " ALL_FLAGS), 0);
    CU_ASSERT_EQUAL(strata(url, "db diff " ALL_FLAGS), 0);
    /* the flags off again: reported, nothing reverted */
    out = strata_output(url, "migrations show", &st);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_STR_CONTAINS(out, "(flag medusa_v2 is off)");
    free(out);

    CU_ASSERT_EQUAL(strata(url, "migrations revert --all"), 0);
    CU_ASSERT_EQUAL(leftovers(c), 0);
    strata_conn_close(c);
    test_drop_database(test_dialect, url);
    free(url);
}

/* ---- data migrations with rows in place ----------------------------------- */

/* Execute SQL written with "double-quoted" identifiers (backticks on MySQL). */
static void exec_q(strata_conn *c, const char *sql)
{
    char *s = strdup(sql);
    if (test_dialect == STRATA_MYSQL) {
        int in_literal = 0;
        for (char *p = s; *p; p++) {
            if (*p == '\'')
                in_literal = !in_literal;
            else if (*p == '"' && !in_literal)
                *p = '`';
        }
    }
    test_exec(c, s);
    free(s);
}

static void scalar_q(strata_conn *c, const char *sql, const char *want)
{
    char *s = strdup(sql);
    if (test_dialect == STRATA_MYSQL)
        for (char *p = s; *p; p++)
            if (*p == '"')
                *p = '`';
    assert_scalar(c, s, want);
    free(s);
}

/* Rows that exist before the first data migration (1631864388026). */
static const char *const rows_before[] = {
    "INSERT INTO \"shipping_profile\" (\"id\", \"name\", \"type\") "
    "VALUES ('sp_test', 'Default', 'default')",
    "INSERT INTO \"product\" (\"id\", \"title\", \"profile_id\") "
    "VALUES ('prod_test', 'Test product', 'sp_test')",
    "INSERT INTO \"product_variant\" (\"id\", \"title\", \"product_id\", \"inventory_quantity\") "
    "VALUES ('variant_test', 'Default', 'prod_test', 0)",
    "INSERT INTO \"money_amount\" (\"id\", \"currency_code\", \"amount\", \"variant_id\") "
    "VALUES ('ma_test', 'eur', 1000, 'variant_test')",
    "INSERT INTO \"region\" (\"id\", \"name\", \"currency_code\", \"tax_rate\") "
    "VALUES ('reg_test', 'Test', 'eur', 0)",
    "INSERT INTO \"cart\" (\"id\", \"region_id\") VALUES ('cart_test', 'reg_test')",
    "INSERT INTO \"line_item\" (\"id\", \"title\", \"unit_price\", \"quantity\", \"metadata\", "
    "\"variant_id\") VALUES "
    "('li_true', 'a', 100, 1, '{\"is_return_line\": true}', NULL), "
    "('li_string', 'b', 100, 1, '{\"is_return_line\": \"true\"}', NULL), "
    "('li_false', 'c', 100, 1, '{\"is_return_line\": false}', NULL), "
    "('li_none', 'd', 100, 1, NULL, NULL), "
    "('li_variant', 'e', 100, 1, '{}', 'variant_test')",
    "INSERT INTO \"payment_session\" (\"id\", \"cart_id\", \"provider_id\", \"status\", \"data\") "
    "VALUES ('ps_empty', 'cart_test', 'manual', 'pending', '{}'), "
    "('ps_data', 'cart_test', 'other', 'pending', '{\"client_secret\": \"x\"}')",
};

/* Rows for the later data migrations, once their tables exist (1672906846560). */
static const char *const rows_later[] = {
    "INSERT INTO \"product_category\" (\"id\", \"name\", \"handle\", \"deleted_at\") "
    "VALUES ('pcat_live', 'Live', 'live', NULL), ('pcat_gone', 'Gone', 'gone', "
    "CURRENT_TIMESTAMP)",
    "INSERT INTO \"sales_channel\" (\"id\", \"name\") VALUES ('sc_test', 'Default')",
    "INSERT INTO \"product_sales_channel\" (\"product_id\", \"sales_channel_id\") "
    "VALUES ('prod_test', 'sc_test')",
    "INSERT INTO \"publishable_api_key_sales_channel\" (\"sales_channel_id\", "
    "\"publishable_key_id\") VALUES ('sc_test', 'pk_test')",
    "INSERT INTO \"customer\" (\"id\", \"email\") VALUES ('cus_test', 'c@example.com')",
    "INSERT INTO \"order\" (\"id\", \"customer_id\", \"email\", \"region_id\", \"currency_code\", "
    "\"sales_channel_id\") VALUES ('order_test', 'cus_test', 'c@example.com', 'reg_test', 'eur', "
    "'sc_test')",
};

/* Everything the test inserted, children first. */
static const char *const cleanup[] = {
    "DELETE FROM \"payment_session\"",
    "DELETE FROM \"line_item\"",
    "DELETE FROM \"money_amount\"",
    "DELETE FROM \"product_variant\"",
    "DELETE FROM \"product_sales_channel\"",
    "DELETE FROM \"publishable_api_key_sales_channel\"",
    "DELETE FROM \"order\"",
    "DELETE FROM \"customer\"",
    "DELETE FROM \"cart\"",
    "DELETE FROM \"product\"",
    "DELETE FROM \"shipping_profile\"",
    "DELETE FROM \"product_category\"",
    "DELETE FROM \"sales_channel\"",
    "DELETE FROM \"region\"",
};

static void test_data_migrations(void)
{
    char *url = test_fresh_database(test_dialect, "medusadata");
    CU_ASSERT_PTR_NOT_NULL_FATAL(url);
    CU_ASSERT_EQUAL_FATAL(strata(url, "migrations run --to 1631800727788 " ALL_FLAGS), 0);
    strata_conn *c = test_connect(url);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    for (size_t i = 0; i < sizeof rows_before / sizeof rows_before[0]; i++)
        exec_q(c, rows_before[i]);

    /* status_on_product, new_tax_system, payment-session-is-initiated */
    CU_ASSERT_EQUAL_FATAL(strata(url, "migrations run --to 1672906846560 " ALL_FLAGS), 0);
    scalar_q(c, "SELECT \"status\" FROM \"product\" WHERE \"id\" = 'prod_test'", "published");
    scalar_q(c,
             "SELECT count(*) FROM \"line_item\" WHERE \"is_return\" AND "
             "\"id\" IN ('li_true', 'li_string')",
             "2");
    scalar_q(c, "SELECT count(*) FROM \"line_item\" WHERE \"is_return\"", "2");
    scalar_q(c, "SELECT \"id\" FROM \"payment_session\" WHERE \"is_initiated\"", "ps_data");
    scalar_q(c, "SELECT count(*) FROM \"payment_session\" WHERE \"is_initiated\"", "1");

    for (size_t i = 0; i < sizeof rows_later / sizeof rows_later[0]; i++)
        exec_q(c, rows_later[i]);
    CU_ASSERT_EQUAL_FATAL(strata(url, "migrations run " ALL_FLAGS), 0);
    /* category-remove-soft-delete */
    scalar_q(c, "SELECT count(*) FROM \"product_category\"", "1");
    scalar_q(c, "SELECT \"id\" FROM \"product_category\"", "pcat_live");
    /* add-table-product-shipping-profile */
    scalar_q(c,
             "SELECT count(*) FROM \"product_shipping_profile\" WHERE \"profile_id\" = 'sp_test' "
             "AND \"product_id\" = 'prod_test'",
             "1");
    /* line-item-product-id */
    scalar_q(c, "SELECT \"product_id\" FROM \"line_item\" WHERE \"id\" = 'li_variant'",
             "prod_test");
    scalar_q(c, "SELECT count(*) FROM \"line_item\" WHERE \"product_id\" IS NOT NULL", "1");
    /* drop_money_amount_constraints_for_pricing_module */
    scalar_q(c,
             "SELECT count(*) FROM \"product_variant_money_amount\" WHERE \"id\" = 'pvma_ma_test' "
             "AND \"money_amount_id\" = 'ma_test' AND \"variant_id\" = 'variant_test'",
             "1");
    /* the random ids: prefix plus 26 characters */
    scalar_q(c,
             "SELECT count(*) FROM \"product_sales_channel\" WHERE substr(\"id\", 1, 7) = "
             "'prodsc_' AND length(\"id\") = 33",
             "1");
    scalar_q(c,
             "SELECT count(*) FROM \"order_sales_channel\" WHERE \"order_id\" = 'order_test' AND "
             "\"sales_channel_id\" = 'sc_test' AND substr(\"id\", 1, 8) = 'ordersc_' AND "
             "length(\"id\") = 34",
             "1");
    scalar_q(
        c,
        "SELECT count(*) FROM \"publishable_api_key_sales_channel\" WHERE substr(\"id\", 1, 5) "
        "= 'pksc_' AND length(\"id\") = 31",
        "1");
    /* the non-key serial */
    scalar_q(c, "SELECT \"display_id\" FROM \"order\" WHERE \"id\" = 'order_test'", "1");

    /* the explicit downs put the moved data back */
    CU_ASSERT_EQUAL_FATAL(strata(url, "migrations revert --to 1672906846560 " ALL_FLAGS), 0);
    scalar_q(c, "SELECT \"profile_id\" FROM \"product\" WHERE \"id\" = 'prod_test'", "sp_test");
    scalar_q(c, "SELECT \"variant_id\" FROM \"money_amount\" WHERE \"id\" = 'ma_test'",
             "variant_test");
    scalar_q(c, "SELECT \"sales_channel_id\" FROM \"order\" WHERE \"id\" = 'order_test'",
             "sc_test");
    scalar_q(c, "SELECT count(*) FROM \"product_sales_channel\"", "1");

    for (size_t i = 0; i < sizeof cleanup / sizeof cleanup[0]; i++)
        exec_q(c, cleanup[i]);
    CU_ASSERT_EQUAL(strata(url, "migrations revert --all " ALL_FLAGS), 0);
    CU_ASSERT_EQUAL(leftovers(c), 0);
    strata_conn_close(c);
    test_drop_database(test_dialect, url);
    free(url);
}

/* ---- the demo data -------------------------------------------------------- */

/* data/seed.json loads into the shipped schema (`strata seed` migrates
 * first), with `flags` on the command line. */
static void seed_loads(const char *flags, int v2)
{
    char *url = test_fresh_database(test_dialect, "medusaseed");
    CU_ASSERT_PTR_NOT_NULL_FATAL(url);
    char *args = NULL;
    CU_ASSERT_FATAL(asprintf(&args, "seed -f '%s/data/seed.json' %s", test_source_dir(), flags) >
                    0);
    CU_ASSERT_EQUAL_FATAL(strata(url, args), 0);
    free(args);
    strata_conn *c = test_connect(url);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    /* what data/seed.json holds: 2 regions with 7 + 1 countries, 4 shipping
     * options each, 7 nested categories, 5 products with 7 options, 14
     * variants, 22 variant option values and a eur and a gbp price each */
    static const struct {
        const char *sql, *want;
    } checks[] = {
        {"SELECT count(*) FROM \"region\"", "2"},
        {"SELECT count(*) FROM \"country\" WHERE \"region_id\" IS NOT NULL", "8"},
        {"SELECT count(*) FROM \"shipping_option\"", "8"},
        {"SELECT count(*) FROM \"product_category\"", "7"},
        {"SELECT \"parent_category_id\" FROM \"product_category\" WHERE \"id\" = 'pcat_kettles'",
         "pcat_brewing"},
        {"SELECT count(*) FROM \"product\"", "5"},
        {"SELECT count(*) FROM \"product_option\"", "7"},
        {"SELECT count(*) FROM \"product_variant\"", "14"},
        {"SELECT count(*) FROM \"product_option_value\"", "22"},
        {"SELECT count(*) FROM \"money_amount\"", "28"},
        {"SELECT count(*) FROM \"product_category_product\"", "5"},
        /* ranks as Medusa's services number them: a category's place among
         * its siblings, a variant's place in its product */
        {"SELECT \"rank\" FROM \"product_category\" WHERE \"id\" = 'pcat_equipment'", "1"},
        {"SELECT \"rank\" FROM \"product_category\" WHERE \"id\" = 'pcat_blends'", "1"},
        {"SELECT \"rank\" FROM \"product_category\" WHERE \"id\" = 'pcat_cups'", "1"},
        {"SELECT \"rank\" FROM \"product_category\" WHERE \"id\" = 'pcat_kettles'", "0"},
        {"SELECT count(*) FROM \"product_variant\" WHERE \"variant_rank\" = 0", "5"},
        {"SELECT max(\"variant_rank\") FROM \"product_variant\"", "3"},
        {"SELECT count(DISTINCT \"variant_rank\") FROM \"product_variant\"", "4"},
        /* price links are pvma__<ULID>, two underscores, as Medusa writes them */
        {"SELECT count(*) FROM \"product_variant_money_amount\" WHERE substr(\"id\", 1, 6) = "
         "'pvma__' AND length(\"id\") = 32",
         "28"},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        scalar_q(c, checks[i].sql, checks[i].want);
    /* every product in the default sales channel; the link has an id only
     * where medusa_v2 gave it one (a Medusa seed's "$optional" column) */
    scalar_q(c, "SELECT count(*) FROM \"product_sales_channel\"", "5");
    if (v2)
        scalar_q(c,
                 "SELECT count(*) FROM \"product_sales_channel\" WHERE substr(\"id\", 1, 7) = "
                 "'prodsc_' AND length(\"id\") = 33",
                 "5");
    strata_conn_close(c);
    test_drop_database(test_dialect, url);
    free(url);
}

static void test_seed_loads(void)
{
    seed_loads("", 0);
}

static void test_seed_loads_all_flags(void)
{
    seed_loads(ALL_FLAGS, 1);
}

/* ---- offline ------------------------------------------------------------- */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 4096)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

static void test_reference_data_generated(void)
{
    char *cmd = NULL, *out = NULL, path[4096];
    CU_ASSERT_FATAL(asprintf(&cmd, "python3 '%s/scripts/gen_reference_data.py' --stdout",
                             test_source_dir()) > 0);
    /* test_run_cmd merges stderr, which is empty on success */
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 0);
    snprintf(path, sizeof path, "%s/migrations/1611063174563_countries_currencies.json",
             test_source_dir());
    char *committed = read_file(path);
    CU_ASSERT_PTR_NOT_NULL(committed);
    int same = committed && out && strcmp(committed, out) == 0;
    if (!same)
        fprintf(stderr, "\n  %s is not what scripts/gen_reference_data.py writes\n", path);
    CU_ASSERT(same);
    free(committed);
    free(out);
    free(cmd);
}

static void test_validate_offline(void)
{
    char *dir = test_tempdir("medusa-validate");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char *url = NULL;
    CU_ASSERT_FATAL(asprintf(&url, "sqlite:%s/none.db", dir) > 0);
    /* compiles every migration, up and down, for the three dialects */
    CU_ASSERT_EQUAL(strata(url, "migrations validate"), 0);
    rmdir(dir);
    free(url);
    free(dir);
}

/* The shipped files without "origin" and "when", as they were before they
 * had them, into a new directory (caller frees its path). */
static char *files_without_metadata(void)
{
    char *dir = test_tempdir("medusa-nometa");
    if (!dir)
        return NULL;
    char *cmd = NULL, *list = NULL;
    if (asprintf(&cmd, "ls '%s/migrations'", test_source_dir()) < 0)
        return NULL;
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &list), 0);
    free(cmd);
    for (char *name = strtok(list, "\n"); name; name = strtok(NULL, "\n")) {
        char src[4096], dst[4096];
        snprintf(src, sizeof src, "%s/migrations/%s", test_source_dir(), name);
        snprintf(dst, sizeof dst, "%s/%s", dir, name);
        json_error_t err;
        json_t *doc = json_load_file(src, 0, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
        json_object_del(doc, "origin");
        json_object_del(doc, "when");
        CU_ASSERT_EQUAL(json_dump_file(doc, dst, JSON_INDENT(1)), 0);
        json_decref(doc);
    }
    free(list);
    return dir;
}

/* A database migrated from the files before they had "origin" and "when"
 * (all 82 applied) shows clean with the files as they are: the two keys are
 * not part of the checksum. The migrations behind flags that are off now
 * stay applied, and say so. */
static void test_metadata_keeps_checksums(void)
{
    char *old = files_without_metadata();
    CU_ASSERT_PTR_NOT_NULL_FATAL(old);
    char *cmd = NULL, *out = NULL;
    CU_ASSERT_FATAL(asprintf(&cmd,
                             "%s migrations run --migrations-dir '%s' --database-url "
                             "'sqlite:%s/old.db' 2>&1",
                             test_strata_bin(), old, old) > 0);
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 0);
    CU_ASSERT_STR_CONTAINS(out, "82 migrations applied");
    free(out);
    free(cmd);
    CU_ASSERT_FATAL(asprintf(&cmd,
                             "%s migrations show --migrations-dir '%s/migrations' --database-url "
                             "'sqlite:%s/old.db' 2>&1",
                             test_strata_bin(), test_source_dir(), old) > 0);
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 0);
    CU_ASSERT(out && !strstr(out, "[!]") && !strstr(out, "[ ]"));
    CU_ASSERT_STR_CONTAINS(out, "[X] 1692870898424_line-item-product-id");
    CU_ASSERT_STR_CONTAINS(out, "(flag medusa_v2 is off)");
    free(out);
    free(cmd);
    CU_ASSERT_FATAL(asprintf(&cmd, "rm -rf '%s'", old) > 0);
    test_run_cmd(cmd, &out);
    free(out);
    free(cmd);
    free(old);
}

/* Is `s` one of the strings in array `a`? */
static int in_strings(json_t *a, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    }
    return 0;
}

static void collect_categories(json_t *list, json_t *ids, json_t *handles, int depth, int *max)
{
    size_t i;
    json_t *cat;
    if (depth > *max)
        *max = depth;
    json_array_foreach(list, i, cat)
    {
        const char *id = json_string_value(json_object_get(cat, "id"));
        const char *handle = json_string_value(json_object_get(cat, "handle"));
        CU_ASSERT(id && strncmp(id, "pcat_", 5) == 0 && !in_strings(ids, id));
        CU_ASSERT(handle && !in_strings(handles, handle));
        CU_ASSERT(json_is_string(json_object_get(cat, "name")));
        if (id)
            json_array_append_new(ids, json_string(id));
        if (handle)
            json_array_append_new(handles, json_string(handle));
        collect_categories(json_object_get(cat, "category_children"), ids, handles, depth + 1, max);
    }
}

/* data/seed.json is a Medusa seed whose references all resolve. */
static void test_seed_file(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/data/seed.json", test_source_dir());
    json_error_t err;
    json_t *seed = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!seed)
        fprintf(stderr, "\n  %s:%d: %s\n", path, err.line, err.text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
    json_t *currencies = json_object_get(json_object_get(seed, "store"), "currencies");
    json_t *regions = json_object_get(seed, "regions");
    CU_ASSERT(json_array_size(currencies) >= 1);
    CU_ASSERT(json_array_size(json_object_get(seed, "users")) >= 1);
    CU_ASSERT_EQUAL(json_array_size(regions), 2);

    json_t *region_ids = json_array(), *countries = json_array();
    size_t i, j, k;
    json_t *r, *v;
    json_array_foreach(regions, i, r)
    {
        json_array_append(region_ids, json_object_get(r, "id"));
        CU_ASSERT(in_strings(currencies, json_string_value(json_object_get(r, "currency_code"))));
        json_array_foreach(json_object_get(r, "countries"), j, v)
        {
            CU_ASSERT(!in_strings(countries, json_string_value(v))); /* one region each */
            json_array_append(countries, v);
        }
    }
    json_t *so;
    json_array_foreach(json_object_get(seed, "shipping_options"), i, so)
    {
        CU_ASSERT(in_strings(region_ids, json_string_value(json_object_get(so, "region_id"))));
    }
    CU_ASSERT(json_array_size(json_object_get(seed, "shipping_options")) >= 2);

    json_t *cat_ids = json_array(), *handles = json_array();
    int depth = 0;
    collect_categories(json_object_get(seed, "categories"), cat_ids, handles, 1, &depth);
    CU_ASSERT(depth >= 2); /* nested */

    json_t *products = json_object_get(seed, "products"), *p;
    CU_ASSERT(json_array_size(products) >= 3);
    json_t *product_handles = json_array();
    json_array_foreach(products, i, p)
    {
        const char *handle = json_string_value(json_object_get(p, "handle"));
        CU_ASSERT(handle && !in_strings(product_handles, handle));
        json_array_append_new(product_handles, json_string(handle ? handle : ""));
        json_t *c;
        json_array_foreach(json_object_get(p, "categories"), j, c)
        {
            CU_ASSERT(in_strings(cat_ids, json_string_value(json_object_get(c, "id"))));
        }
        json_t *options = json_object_get(p, "options");
        CU_ASSERT(json_array_size(options) >= 1);
        json_array_foreach(json_object_get(p, "variants"), j, v)
        {
            /* variant option values match the product's options by position */
            json_t *vo = json_object_get(v, "options"), *o;
            CU_ASSERT_EQUAL(json_array_size(vo), json_array_size(options));
            json_array_foreach(vo, k, o)
            {
                json_t *allowed = json_object_get(json_array_get(options, k), "values");
                CU_ASSERT(in_strings(allowed, json_string_value(json_object_get(o, "value"))));
            }
            json_t *price;
            CU_ASSERT(json_array_size(json_object_get(v, "prices")) >= 1);
            json_array_foreach(json_object_get(v, "prices"), k, price)
            {
                CU_ASSERT(in_strings(currencies,
                                     json_string_value(json_object_get(price, "currency_code"))));
                CU_ASSERT(json_integer_value(json_object_get(price, "amount")) > 0);
            }
        }
    }
    json_decref(product_handles);
    json_decref(cat_ids);
    json_decref(handles);
    json_decref(region_ids);
    json_decref(countries);
    json_decref(seed);
}

static const test_case medusa_tests[] = {
    {"run, counts per kind, revert --all, run", test_run_revert_run},
    {"data migrations with rows in place", test_data_migrations},
    {"default flags: a default Medusa install's 75, then the other 7 out of order",
     test_default_flags_then_all},
    {"data/seed.json loads", test_seed_loads},
    {"data/seed.json loads with all flags on", test_seed_loads_all_flags},
    {NULL, NULL},
};

static const test_case offline_tests[] = {
    {"reference data is the generator's output", test_reference_data_generated},
    {"every migration compiles for every dialect", test_validate_offline},
    {"data/seed.json is a consistent Medusa seed", test_seed_file},
    {"origin and when leave the checksums of applied files as they were",
     test_metadata_keeps_checksums},
    {NULL, NULL},
};

int main(void)
{
    test_add_suite("medusa files", offline_tests);
    test_add_dialect_suites("medusa", suite_init, suite_cleanup, medusa_tests);
    return test_main();
}
