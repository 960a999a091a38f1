/*
 * test_seed.c - seeding on the three real databases: the generic Strata
 * format (order, cycles, references, generated values, modes, sequences,
 * files, errors that change nothing), the real Medusa starter seed
 * (shared/fixtures/medusa/seed.json) into the schema of migrations/, with
 * the row counts of research/medusa.md section 7 and the same data on every
 * database, and offline: ULIDs, Medusa's scrypt-kdf password hashes, the
 * Medusa conversion and the CLI.
 */
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "migration.h"
#include "seed.h"

/* ---- fixtures ---- */

static const char generic_migration[] =
    "{\"up\": [\n"
    " {\"op\": \"create_table\", \"table\": \"currency\", \"columns\": [\n"
    "   {\"name\": \"code\", \"type\": \"string\", \"length\": 3, \"primary_key\": true},\n"
    "   {\"name\": \"symbol\", \"type\": \"string\", \"nullable\": false},\n"
    "   {\"name\": \"name\", \"type\": \"string\", \"nullable\": false}]},\n"
    " {\"op\": \"create_table\", \"table\": \"region\", \"columns\": [\n"
    "   {\"name\": \"id\", \"type\": \"string\", \"primary_key\": true},\n"
    "   {\"name\": \"name\", \"type\": \"string\", \"nullable\": false},\n"
    "   {\"name\": \"currency_code\", \"type\": \"string\", \"length\": 3, \"nullable\": false,\n"
    "    \"references\": {\"table\": \"currency\", \"column\": \"code\"}},\n"
    "   {\"name\": \"tax_rate\", \"type\": \"decimal\", \"precision\": 5, \"scale\": 2,\n"
    "    \"nullable\": false, \"default\": 0},\n"
    "   {\"name\": \"created_at\", \"type\": \"timestamptz\", \"nullable\": false,\n"
    "    \"default\": {\"expr\": \"now\"}},\n"
    "   {\"name\": \"metadata\", \"type\": \"json\"}]},\n"
    " {\"op\": \"create_table\", \"table\": \"country\", \"columns\": [\n"
    "   {\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true},\n"
    "   {\"name\": \"iso_2\", \"type\": \"string\", \"length\": 2, \"nullable\": false,\n"
    "    \"unique\": true},\n"
    "   {\"name\": \"name\", \"type\": \"string\", \"nullable\": false},\n"
    "   {\"name\": \"region_id\", \"type\": \"string\", \"references\": {\"table\": "
    "\"region\"}}]},\n"
    " {\"op\": \"create_table\", \"table\": \"region_provider\", \"columns\": [\n"
    "   {\"name\": \"region_id\", \"type\": \"string\", \"nullable\": false,\n"
    "    \"references\": {\"table\": \"region\", \"on_delete\": \"cascade\"}},\n"
    "   {\"name\": \"provider_id\", \"type\": \"string\", \"nullable\": false}],\n"
    "  \"primary_key\": [\"region_id\", \"provider_id\"]},\n"
    " {\"op\": \"create_table\", \"table\": \"customer\", \"columns\": [\n"
    "   {\"name\": \"id\", \"type\": \"string\", \"primary_key\": true},\n"
    "   {\"name\": \"email\", \"type\": \"string\", \"nullable\": false, \"unique\": true},\n"
    "   {\"name\": \"active\", \"type\": \"boolean\", \"nullable\": false, \"default\": true},\n"
    "   {\"name\": \"billing_address_id\", \"type\": \"string\"}]},\n"
    " {\"op\": \"create_table\", \"table\": \"address\", \"columns\": [\n"
    "   {\"name\": \"id\", \"type\": \"string\", \"primary_key\": true},\n"
    "   {\"name\": \"customer_id\", \"type\": \"string\", \"references\": {\"table\": "
    "\"customer\"}},\n"
    "   {\"name\": \"city\", \"type\": \"string\"}]},\n"
    " {\"op\": \"add_foreign_key\", \"table\": \"customer\", \"name\": \"fk_customer_billing\",\n"
    "  \"columns\": [\"billing_address_id\"], \"references\": {\"table\": \"address\",\n"
    "  \"columns\": [\"id\"]}},\n"
    " {\"op\": \"create_table\", \"table\": \"category\", \"columns\": [\n"
    "   {\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},\n"
    "   {\"name\": \"name\", \"type\": \"string\", \"nullable\": false}]},\n"
    " {\"op\": \"create_table\", \"table\": \"item\", \"columns\": [\n"
    "   {\"name\": \"id\", \"type\": \"bigint\", \"primary_key\": true},\n"
    "   {\"name\": \"category_id\", \"type\": \"integer\", \"nullable\": false,\n"
    "    \"references\": {\"table\": \"category\"}},\n"
    "   {\"name\": \"name\", \"type\": \"string\", \"nullable\": false},\n"
    "   {\"name\": \"price\", \"type\": \"decimal\", \"precision\": 10, \"scale\": 2},\n"
    "   {\"name\": \"active\", \"type\": \"boolean\"},\n"
    "   {\"name\": \"created_at\", \"type\": \"timestamptz\"},\n"
    "   {\"name\": \"note\", \"type\": \"text\"}]}\n"
    "]}\n";

/* Order is deliberately wrong in the file: country before currency and
 * region, customer and address referring to each other. */
static const char generic_seed[] =
    "{\"tables\": [\n"
    "  {\"table\": \"country\", \"rows\": [{\"iso_2\": \"gb\", \"name\": \"United Kingdom\"},\n"
    "    {\"id\": 50, \"iso_2\": \"de\", \"name\": \"Germany\"}]},\n"
    "  {\"table\": \"currency\", \"rows\": [\n"
    "    {\"code\": \"eur\", \"symbol\": \"\\u20ac\", \"name\": \"Euro\"},\n"
    "    {\"code\": \"usd\", \"symbol\": \"$\", \"name\": \"US Dollar\"}]},\n"
    "  {\"table\": \"region\", \"key\": [\"name\"], \"rows\": [\n"
    "    {\"$as\": \"eu\", \"id\": {\"$id\": \"reg\"}, \"name\": \"EU\", \"currency_code\": "
    "\"eur\",\n"
    "     \"tax_rate\": 19.5, \"metadata\": {\"tier\": [1, 2]},\n"
    "     \"created_at\": \"2024-01-02T03:04:05+02:00\",\n"
    "     \"$children\": {\"region_provider\": [{\"provider_id\": \"manual\"}]}},\n"
    "    {\"$as\": \"na\", \"id\": {\"$id\": \"reg\"}, \"name\": \"NA\", \"currency_code\": "
    "{\"$ref\": \"usd_row.code\"}}]},\n"
    "  {\"table\": \"currency\", \"key\": [\"code\"], \"rows\": [{\"$as\": \"usd_row\", "
    "\"code\": \"cad\", \"symbol\": \"$\", \"name\": \"Canadian Dollar\"}]},\n"
    "  {\"table\": \"country\", \"update\": [\n"
    "    {\"where\": {\"iso_2\": \"gb\"}, \"set\": {\"region_id\": {\"$ref\": \"eu\"}}},\n"
    "    {\"where\": {\"iso_2\": \"de\"}, \"set\": {\"region_id\": {\"$lookup\": {\"table\": "
    "\"region\", \"where\": {\"name\": \"EU\"}, \"column\": \"id\"}}}}]},\n"
    "  {\"table\": \"customer\", \"key\": [\"email\"], \"rows\": [{\"$as\": \"c1\", \"id\": "
    "{\"$id\": \"cus\"},\n"
    "    \"email\": \"a@example.com\", \"billing_address_id\": {\"$ref\": \"a1\"}}]},\n"
    "  {\"table\": \"address\", \"key\": [\"city\"], \"rows\": [{\"$as\": \"a1\", \"id\": "
    "{\"$id\": \"addr\"},\n"
    "    \"customer_id\": {\"$ref\": \"c1\"}, \"city\": \"Paris\"}]}\n"
    "]}\n";

static char *tmpdir;
static char *db_url;
static strata_conn *conn;

static char *path_in(const char *dir, const char *name)
{
    char *p;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        return NULL;
    return p;
}

static int migrate(strata_conn *c, const char *dir)
{
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = dir;
    strata_report *r = NULL;
    int rc = strata_migrations_run(c, &opt, &r);
    if (rc)
        fprintf(stderr, "\nmigrations failed: %s\n", strata_error_message());
    strata_report_free(r);
    return rc;
}

static int seed_text(const char *name, const char *text, strata_seed_mode mode,
                     strata_seed_report **out)
{
    char *p = path_in(tmpdir, name);
    test_write_file(p, text);
    strata_seed_options opt = STRATA_SEED_OPTIONS_INIT;
    opt.mode = mode;
    strata_seed_report *r = NULL;
    int rc = strata_seed_file(conn, p, &opt, &r);
    free(p);
    if (out)
        *out = r;
    else
        strata_seed_report_free(r);
    return rc;
}

static long long count_rows(const char *table)
{
    char *q = strata_conn_quote_ident(conn, table);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", q);
    free(q);
    return test_scalar_int(conn, sql);
}

/* Every row of a query as text, one line per row, booleans as 0/1. */
static char *dump_query(strata_conn *c, const char *sql)
{
    strata_rows *rows;
    if (strata_conn_query(c, sql, NULL, 0, &rows) != 0) {
        fprintf(stderr, "\nquery failed: %s: %s\n", sql, strata_error_message());
        return strdup("(error)");
    }
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    while (strata_rows_next(rows) == 1) {
        for (size_t i = 0; i < strata_rows_ncols(rows); i++) {
            const strata_value *v = strata_rows_value(rows, i);
            char buf[64];
            const char *t;
            if (v->type == STRATA_VNULL)
                t = "NULL";
            else if (v->type == STRATA_VINT || v->type == STRATA_VBOOL) {
                snprintf(buf, sizeof buf, "%lld", (long long)v->i);
                t = buf;
            } else if (v->type == STRATA_VREAL) {
                snprintf(buf, sizeof buf, "%g", v->d);
                t = buf;
            } else
                t = v->s;
            size_t n = strlen(t) + 2;
            while (len + n + 1 > cap)
                out = realloc(out, cap *= 2);
            len += (size_t)sprintf(out + len, "%s%s", i ? "|" : "", t);
        }
        while (len + 2 > cap)
            out = realloc(out, cap *= 2);
        out[len++] = '\n';
        out[len] = '\0';
    }
    strata_rows_free(rows);
    return out;
}

/* ---- the generic format ---- */

static int generic_init(void)
{
    tmpdir = test_tempdir("seed");
    char *mdir = path_in(tmpdir, "migrations");
    mkdir(mdir, 0755);
    char *mfile = path_in(mdir, "20240101000000_generic.json");
    test_write_file(mfile, generic_migration);
    free(mfile);
    db_url = test_fresh_database(test_dialect, "seed");
    conn = test_connect(db_url);
    int rc = conn ? migrate(conn, mdir) : 1;
    free(mdir);
    return rc;
}

static int generic_cleanup(void)
{
    strata_conn_close(conn);
    conn = NULL;
    test_drop_database(test_dialect, db_url);
    free(db_url);
    db_url = NULL;
    free(tmpdir);
    tmpdir = NULL;
    return 0;
}

static void test_generic_seed(void)
{
    strata_seed_report *r = NULL;
    int rc = seed_text("seed.json", generic_seed, STRATA_SEED_MODE_FILE, &r);
    if (rc)
        fprintf(stderr, "\n%s\n", strata_error_message());
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(r->format, "strata");
    /* foreign-key order: currency before region before country */
    int pos_cur = -1, pos_reg = -1, pos_cty = -1;
    for (size_t i = 0; i < r->ntables; i++) {
        if (!strcmp(r->tables[i].table, "currency"))
            pos_cur = (int)i;
        if (!strcmp(r->tables[i].table, "region"))
            pos_reg = (int)i;
        if (!strcmp(r->tables[i].table, "country"))
            pos_cty = (int)i;
    }
    CU_ASSERT(pos_cur >= 0 && pos_cur < pos_reg && pos_reg < pos_cty);
    CU_ASSERT_EQUAL(r->inserted, 10);
    strata_seed_report_free(r);
    CU_ASSERT_EQUAL(count_rows("currency"), 3);
    CU_ASSERT_EQUAL(count_rows("region"), 2);
    CU_ASSERT_EQUAL(count_rows("region_provider"), 1);
    /* generated ids: prefix + 26-character ULID */
    char *id = test_scalar(conn, "SELECT id FROM region WHERE name = 'EU'");
    CU_ASSERT(id && strlen(id) == 30 && !strncmp(id, "reg_", 4));
    /* $children filled the parent key; update with $ref and $lookup */
    char *rp = test_scalar(conn, "SELECT region_id FROM region_provider");
    char *gb = test_scalar(conn, "SELECT region_id FROM country WHERE iso_2 = 'gb'");
    char *de = test_scalar(conn, "SELECT region_id FROM country WHERE iso_2 = 'de'");
    CU_ASSERT(id && rp && !strcmp(id, rp));
    CU_ASSERT(id && gb && !strcmp(id, gb));
    CU_ASSERT(id && de && !strcmp(id, de));
    free(rp);
    free(gb);
    free(de);
    free(id);
    /* alias.column */
    char *na = test_scalar(conn, "SELECT currency_code FROM region WHERE name = 'NA'");
    CU_ASSERT(na && !strcmp(na, "cad"));
    free(na);
    /* the cycle: both directions set */
    char *bill = test_scalar(conn, "SELECT billing_address_id FROM customer");
    char *aid = test_scalar(conn, "SELECT id FROM address");
    CU_ASSERT(bill && aid && !strcmp(bill, aid));
    free(bill);
    free(aid);
    /* timestamps in UTC, JSON, decimals */
    char *ts = test_scalar(conn, test_dialect == STRATA_POSTGRES
                                     ? "SELECT to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') "
                                       "FROM region WHERE name = 'EU'"
                                     : "SELECT substr(created_at, 1, 19) FROM region WHERE "
                                       "name = 'EU'");
    CU_ASSERT(ts && !strcmp(ts, "2024-01-02 01:04:05"));
    free(ts);
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM region WHERE tax_rate = 19.5"), 1);
    /* the sequence moved past the explicit id 50 */
    CU_ASSERT_EQUAL(test_exec(conn, "INSERT INTO country (iso_2, name) VALUES ('fr', 'France')"),
                    0);
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT id FROM country WHERE iso_2 = 'fr'"), 51);
}

static char *generic_fingerprint(void)
{
    return dump_query(conn, "SELECT c.iso_2, c.name, r.name, r.currency_code FROM country c "
                            "LEFT JOIN region r ON r.id = c.region_id ORDER BY c.iso_2");
}

static void test_generic_insert_missing_twice(void)
{
    char *before = generic_fingerprint();
    long long regions = count_rows("region"), customers = count_rows("customer");
    strata_seed_report *r = NULL;
    int rc = seed_text("seed.json", generic_seed, STRATA_SEED_INSERT_MISSING, &r);
    if (rc)
        fprintf(stderr, "\n%s\n", strata_error_message());
    CU_ASSERT_EQUAL(rc, 0);
    if (rc) {
        free(before);
        return;
    }
    CU_ASSERT_EQUAL(r->inserted, 0);
    strata_seed_report_free(r);
    CU_ASSERT_EQUAL(count_rows("region"), regions);
    CU_ASSERT_EQUAL(count_rows("customer"), customers);
    CU_ASSERT_EQUAL(count_rows("region_provider"), 1);
    char *after = generic_fingerprint();
    CU_ASSERT_STRING_EQUAL(before, after);
    free(after);
    /* upsert: the same seed again changes nothing either */
    rc = seed_text("seed.json", generic_seed, STRATA_SEED_UPSERT, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    after = generic_fingerprint();
    CU_ASSERT_STRING_EQUAL(before, after);
    free(after);
    free(before);
    /* upsert updates given columns of a row matched by its key */
    rc = seed_text("upsert.json",
                   "{\"mode\": \"upsert\", \"tables\": [{\"table\": \"currency\", \"rows\": "
                   "[{\"code\": \"cad\", \"symbol\": \"C$\", \"name\": \"Canadian Dollar\"}]}]}",
                   STRATA_SEED_MODE_FILE, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    char *sym = test_scalar(conn, "SELECT symbol FROM currency WHERE code = 'cad'");
    CU_ASSERT(sym && !strcmp(sym, "C$"));
    free(sym);
    CU_ASSERT_EQUAL(count_rows("currency"), 3);
}

static void test_generic_duplicate_is_error(void)
{
    long long before = count_rows("currency");
    int rc = seed_text("dup.json",
                       "{\"tables\": [{\"table\": \"currency\", \"rows\": [{\"code\": \"jpy\", "
                       "\"symbol\": \"Y\", \"name\": \"Yen\"}, {\"code\": \"eur\", \"symbol\": "
                       "\"E\", \"name\": \"Euro\"}]}]}",
                       STRATA_SEED_MODE_FILE, NULL);
    CU_ASSERT_NOT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(count_rows("currency"), before);
}

static void test_bad_value_changes_nothing(void)
{
    long long cur = count_rows("currency"), reg = count_rows("region");
    int rc = seed_text("bad.json",
                       "{\"tables\": [\n"
                       " {\"table\": \"currency\", \"rows\": [{\"code\": \"chf\", \"symbol\": "
                       "\"F\", \"name\": \"Franc\"}]},\n"
                       " {\"table\": \"region\", \"rows\": [\n"
                       "   {\"id\": \"reg_ok\", \"name\": \"CH\", \"currency_code\": \"chf\"},\n"
                       "   {\"id\": \"reg_bad\", \"name\": \"X\", \"currency_code\": \"chf\", "
                       "\"tax_rate\": \"lots\"}]}]}",
                       STRATA_SEED_MODE_FILE, NULL);
    CU_ASSERT_EQUAL(rc, STRATA_EINPUT);
    const char *msg = strata_error_message();
    CU_ASSERT_STR_CONTAINS(msg, "table 'region'");
    CU_ASSERT_STR_CONTAINS(msg, "row 2");
    CU_ASSERT_STR_CONTAINS(msg, "column 'tax_rate'");
    CU_ASSERT_EQUAL(count_rows("currency"), cur);
    CU_ASSERT_EQUAL(count_rows("region"), reg);
    /* a value the database rejects (too long for varchar(2) on PG/MySQL, or a
     * NOT NULL column left NULL everywhere): rolled back as a whole */
    rc = seed_text("bad2.json",
                   "{\"tables\": [{\"table\": \"currency\", \"rows\": [{\"code\": \"sek\", "
                   "\"symbol\": \"kr\", \"name\": \"Krona\"}]},\n"
                   " {\"table\": \"country\", \"rows\": [{\"iso_2\": \"se\", \"name\": null}]}]}",
                   STRATA_SEED_MODE_FILE, NULL);
    CU_ASSERT_NOT_EQUAL(rc, 0);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "column 'name'");
    CU_ASSERT_EQUAL(count_rows("currency"), cur);
}

static void test_unknown_alias_before_writing(void)
{
    long long cur = count_rows("currency");
    int rc = seed_text("alias.json",
                       "{\"tables\": [{\"table\": \"currency\", \"rows\": [{\"code\": \"nok\", "
                       "\"symbol\": \"kr\", \"name\": \"Krone\"}]},\n"
                       " {\"table\": \"region\", \"rows\": [{\"id\": \"reg_no\", \"name\": "
                       "\"NO\", \"currency_code\": {\"$ref\": \"nok_row.code\"}}]}]}",
                       STRATA_SEED_MODE_FILE, NULL);
    CU_ASSERT_EQUAL(rc, STRATA_EINPUT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "unknown alias 'nok_row.code'");
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "tables[1].rows[0]");
    CU_ASSERT_EQUAL(count_rows("currency"), cur);
}

static void test_malformed_json(void)
{
    int rc = seed_text("broken.json", "{\"tables\": [\n  {\"table\": \"currency\",,}\n]}",
                       STRATA_SEED_MODE_FILE, NULL);
    CU_ASSERT_EQUAL(rc, STRATA_EINPUT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "broken.json:2:");
    rc = seed_text("unknown.json", "{\"tables\": [{\"table\": \"curency\", \"rows\": []}]}",
                   STRATA_SEED_MODE_FILE, NULL);
    CU_ASSERT_EQUAL(rc, STRATA_EINPUT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "did you mean 'currency'");
    rc = seed_text("col.json",
                   "{\"tables\": [{\"table\": \"currency\", \"rows\": [{\"code\": \"x\", "
                   "\"symbl\": \"x\"}]}]}",
                   STRATA_SEED_MODE_FILE, NULL);
    CU_ASSERT_EQUAL(rc, STRATA_EINPUT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "did you mean 'symbol'");
}

/* A JSON number in a decimal column is written as its shortest text (0.3),
 * not as 0.29999999999999999, which MariaDB reports as a truncation (and
 * the whole seed then failed) and other databases round silently. */
static void test_json_number_in_decimal(void)
{
    int rc = seed_text(
        "decimal.json",
        "{\"tables\": [{\"table\": \"category\", \"rows\": [{\"id\": 9070, "
        "\"name\": \"dec\"}]},\n"
        " {\"table\": \"item\", \"rows\": [\n"
        "   {\"id\": 9000701, \"category_id\": 9070, \"name\": \"a\", \"price\": 0.3},\n"
        "   {\"id\": 9000702, \"category_id\": 9070, \"name\": \"b\", \"price\": 19.99},\n"
        "   {\"id\": 9000703, \"category_id\": 9070, \"name\": \"c\", \"price\": 1e2}]}]}",
        STRATA_SEED_MODE_FILE, NULL);
    if (rc)
        fprintf(stderr, "\n%s\n", strata_error_message());
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM item WHERE id = 9000701 AND "
                                          "price = 0.3"),
                    1);
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM item WHERE id = 9000702 AND "
                                          "price = 19.99"),
                    1);
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM item WHERE id = 9000703 AND "
                                          "price = 100"),
                    1);
    test_exec(conn, "DELETE FROM item WHERE category_id = 9070");
    test_exec(conn, "DELETE FROM category WHERE id = 9070");
}

/* A decimal(10,2) value with more fraction digits is rounded half away
 * from zero by Strata, so all three databases store the same number
 * (SQLite would keep every digit); more integer digits than 10 - 2 is an
 * error before anything is written, naming table, row and column. */
static void test_decimal_rounding(void)
{
    int rc = seed_text(
        "decimal-round.json",
        "{\"tables\": [{\"table\": \"category\", \"rows\": [{\"id\": 9071, "
        "\"name\": \"dec\"}]},\n"
        " {\"table\": \"item\", \"rows\": [\n"
        "   {\"id\": 9000711, \"category_id\": 9071, \"name\": \"a\", \"price\": 1.235},\n"
        "   {\"id\": 9000712, \"category_id\": 9071, \"name\": \"b\", \"price\": \"-2.345\"},\n"
        "   {\"id\": 9000713, \"category_id\": 9071, \"name\": \"c\", \"price\": 99999999.994}]}]}",
        STRATA_SEED_MODE_FILE, NULL);
    if (rc)
        fprintf(stderr, "\n%s\n", strata_error_message());
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    static const char *const stored[] = {
        "SELECT count(*) FROM item WHERE id = 9000711 AND price = 1.24",
        "SELECT count(*) FROM item WHERE id = 9000712 AND price = -2.35",
        "SELECT count(*) FROM item WHERE id = 9000713 AND price = 99999999.99",
    };
    for (size_t i = 0; i < sizeof stored / sizeof stored[0]; i++)
        CU_ASSERT_EQUAL(test_scalar_int(conn, stored[i]), 1);
    long long before = count_rows("item");
    rc = seed_text("decimal-big.json",
                   "{\"tables\": [{\"table\": \"item\", \"rows\": [\n"
                   "   {\"id\": 9000714, \"category_id\": 9071, \"name\": \"d\", \"price\": "
                   "99999999.995}]}]}",
                   STRATA_SEED_MODE_FILE, NULL);
    CU_ASSERT_EQUAL(rc, STRATA_EINPUT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "'item'");
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "'price'");
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "more digits");
    CU_ASSERT_EQUAL(count_rows("item"), before);
    test_exec(conn, "DELETE FROM item WHERE category_id = 9071");
    test_exec(conn, "DELETE FROM category WHERE id = 9071");
}

#define BIG_ROWS 100000

/* A seed file is read as a stream: an entry's keys in any order (rows
 * before table, mode after rows), rows with an alias kept among rows that
 * are only streamed, tables given in the wrong order, a syntax error far
 * into a list named by its line and reported before anything is written. */
static void test_streamed_rows(void)
{
    int rc = seed_text("stream1.json",
                       "{\"tables\": [\n"
                       " {\"table\": \"item\", \"rows\": [\n"
                       "  {\"id\": 9100001, \"category_id\": {\"$ref\": \"cat2\"}, "
                       "\"name\": \"x\"},\n"
                       "  {\"id\": 9100002, \"category_id\": 9101, \"name\": \"y\"},\n"
                       "  {\"id\": 9100003, \"category_id\": {\"$ref\": \"cat2.id\"}, "
                       "\"name\": \"z\"}]},\n"
                       " {\"rows\": [{\"id\": 9101, \"name\": \"s1\"},\n"
                       "   {\"$as\": \"cat2\", \"id\": 9102, \"name\": \"s2\"},\n"
                       "   {\"id\": 9103, \"name\": \"s3\"}], \"table\": \"category\"}]}",
                       STRATA_SEED_MODE_FILE, NULL);
    if (rc)
        fprintf(stderr, "\n%s\n", strata_error_message());
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM category WHERE id IN (9101, "
                                          "9102, 9103)"),
                    3);
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM item WHERE category_id = 9102"), 2);
    /* "mode" after the rows applies to them: the existing row is skipped */
    rc = seed_text("stream2.json",
                   "{\"tables\": [{\"table\": \"category\", \"rows\": [{\"id\": 9101, "
                   "\"name\": \"s1\"}, {\"id\": 9104, \"name\": \"s4\"}], \"mode\": "
                   "\"insert_missing\"}]}",
                   STRATA_SEED_MODE_FILE, NULL);
    if (rc)
        fprintf(stderr, "\n%s\n", strata_error_message());
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM category WHERE id = 9104"), 1);
    /* a syntax error on line 4 of a list: its position, nothing written */
    rc = seed_text("stream3.json",
                   "{\"tables\": [{\"table\": \"category\", \"rows\": [\n"
                   " {\"id\": 9201, \"name\": \"a\"},\n"
                   " {\"id\": 9202, \"name\": \"b\"},\n"
                   " {\"id\": 9203, \"name\": \"c\",}]}]}",
                   STRATA_SEED_MODE_FILE, NULL);
    CU_ASSERT_EQUAL(rc, STRATA_EINPUT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "stream3.json:4:");
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM category WHERE id = 9201"), 0);
    /* a bad value in the last row: its row and path, nothing written */
    rc = seed_text("stream4.json",
                   "{\"tables\": [{\"table\": \"category\", \"rows\": [\n"
                   " {\"id\": 9301, \"name\": \"a\"},\n"
                   " {\"id\": \"nine\", \"name\": \"b\"}]}]}",
                   STRATA_SEED_MODE_FILE, NULL);
    CU_ASSERT_EQUAL(rc, STRATA_EINPUT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "row 2 (tables[0].rows[1])");
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM category WHERE id = 9301"), 0);
    /* leave the tables as the other tests expect them */
    CU_ASSERT_EQUAL(strata_conn_exec(conn, "DELETE FROM item WHERE id BETWEEN 9100001 AND 9100003"),
                    0);
    CU_ASSERT_EQUAL(strata_conn_exec(conn, "DELETE FROM category WHERE id BETWEEN 9101 AND 9104"),
                    0);
}

/* 100,000 rows from CSV; the same totals on every database. */
static void test_big_csv(void)
{
    char *csv = path_in(tmpdir, "items.csv");
    FILE *f = fopen(csv, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "id,category_id,name,price,active,created_at,note\n");
    for (int i = 1; i <= BIG_ROWS; i++)
        fprintf(f, "%d,%d,\"item %d, \"\"quoted\"\"\",%d.%02d,%s,2024-03-%02dT10:00:00Z,%s\n", i,
                i % 10 + 1, i, i % 1000, i % 100, i % 3 ? "true" : "false", i % 28 + 1,
                i % 7 ? "plain" : "");
    fclose(f);
    char *cats = path_in(tmpdir, "cats.ndjson");
    f = fopen(cats, "w");
    for (int i = 1; i <= 10; i++)
        fprintf(f, "{\"id\": %d, \"name\": \"category %d\"}\n", i, i);
    fclose(f);
    int rc = seed_text("big.json",
                       "{\"tables\": [{\"table\": \"item\", \"file\": \"items.csv\"},\n"
                       "              {\"table\": \"category\", \"file\": \"cats.ndjson\"}]}",
                       STRATA_SEED_MODE_FILE, NULL);
    if (rc)
        fprintf(stderr, "\n%s\n", strata_error_message());
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(count_rows("item"), BIG_ROWS);
    CU_ASSERT_EQUAL(count_rows("category"), 10);
    /* sum of price in cents: sum over i of (i%1000)*100 + i%100 */
    long long cents = 0, active = 0, nulls = 0;
    for (int i = 1; i <= BIG_ROWS; i++) {
        cents += (i % 1000) * 100 + i % 100;
        active += i % 3 != 0;
        nulls += i % 7 == 0;
    }
    CU_ASSERT_EQUAL(test_scalar_int(conn, test_dialect == STRATA_MYSQL
                                              ? "SELECT CAST(round(sum(price) * 100) AS SIGNED) "
                                                "FROM item"
                                              : "SELECT CAST(round(sum(price) * 100) AS BIGINT) "
                                                "FROM item"),
                    cents);
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM item WHERE active = true"), active);
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM item WHERE note IS NULL"), nulls);
    char *name = test_scalar(conn, "SELECT name FROM item WHERE id = 12345");
    CU_ASSERT(name && !strcmp(name, "item 12345, \"quoted\""));
    free(name);
    /* a bad field names the file line and column, and loads nothing */
    f = fopen(csv, "w");
    fprintf(f, "id,category_id,name\n%d,1,ok\n%d,x,bad\n", BIG_ROWS + 1, BIG_ROWS + 2);
    fclose(f);
    rc = seed_text("big2.json", "{\"tables\": [{\"table\": \"item\", \"file\": \"items.csv\"}]}",
                   STRATA_SEED_MODE_FILE, NULL);
    CU_ASSERT_EQUAL(rc, STRATA_EINPUT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "items.csv line 3");
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "column 'category_id'");
    CU_ASSERT_EQUAL(count_rows("item"), BIG_ROWS);
    /* insert_missing from a file skips what is there */
    f = fopen(csv, "w");
    fprintf(f, "id,category_id,name\n1,1,changed\n%d,2,new\n", BIG_ROWS + 1);
    fclose(f);
    rc = seed_text("big3.json", "{\"tables\": [{\"table\": \"item\", \"file\": \"items.csv\"}]}",
                   STRATA_SEED_INSERT_MISSING, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(count_rows("item"), BIG_ROWS + 1);
    name = test_scalar(conn, "SELECT name FROM item WHERE id = 1");
    CU_ASSERT(name && !strcmp(name, "item 1, \"quoted\""));
    free(name);
    /* upsert from a file updates what is there, by key, and adds nothing */
    rc = seed_text("big3.json", "{\"tables\": [{\"table\": \"item\", \"file\": \"items.csv\"}]}",
                   STRATA_SEED_UPSERT, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(count_rows("item"), BIG_ROWS + 1);
    name = test_scalar(conn, "SELECT name FROM item WHERE id = 1");
    CU_ASSERT(name && !strcmp(name, "changed"));
    free(name);
    /* the bulk path (COPY, LOAD DATA) keeps what its text format escapes */
    const char *odd = "tab\there, back\\slash \\N, new\nline, cr\rhere";
    f = fopen(csv, "w");
    fprintf(f, "id,category_id,name\n%d,3,\"%s\"\n", BIG_ROWS + 2, odd);
    fclose(f);
    rc = seed_text("big4.json", "{\"tables\": [{\"table\": \"item\", \"file\": \"items.csv\"}]}",
                   STRATA_SEED_MODE_FILE, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    char q[80];
    snprintf(q, sizeof q, "SELECT name FROM item WHERE id = %d", BIG_ROWS + 2);
    name = test_scalar(conn, q);
    CU_ASSERT(name && !strcmp(name, odd));
    free(name);
    free(csv);
    free(cats);
}

static const test_case generic_tests[] = {
    {"generic seed: order, references, cycle, types, sequence", test_generic_seed},
    {"insert_missing and upsert twice leave the same data", test_generic_insert_missing_twice},
    {"a duplicate key in insert mode is an error", test_generic_duplicate_is_error},
    {"a bad value names table, row, column and changes nothing", test_bad_value_changes_nothing},
    {"an unknown alias is reported before anything is written", test_unknown_alias_before_writing},
    {"malformed JSON and unknown names", test_malformed_json},
    {"a JSON number in a decimal column keeps its shortest text", test_json_number_in_decimal},
    {"decimals: rounded to the scale everywhere, too many digits refused", test_decimal_rounding},
    {"a seed file is read as a stream: key order, kept rows, errors", test_streamed_rows},
    {"100,000-row CSV (and NDJSON) loads the same everywhere", test_big_csv},
    {NULL, NULL},
};

/* ---- the Medusa starter seed ---- */

static char *medusa_url;
static strata_conn *mconn;
static char *medusa_fingerprint_first; /* from the first database, compared by the others */
static strata_dialect medusa_first_dialect;

static char *medusa_seed_path(void)
{
    return path_in(test_shared_dir(), "fixtures/medusa/seed.json");
}

static int medusa_init(void)
{
    char *dir = path_in(test_source_dir(), "migrations");
    medusa_url = test_fresh_database(test_dialect, "medusa");
    mconn = test_connect(medusa_url);
    int rc = mconn ? migrate(mconn, dir) : 1;
    free(dir);
    return rc;
}

static int medusa_cleanup(void)
{
    strata_conn_close(mconn);
    mconn = NULL;
    test_drop_database(test_dialect, medusa_url);
    free(medusa_url);
    medusa_url = NULL;
    return 0;
}

static long long mcount(const char *table)
{
    char *q = strata_conn_quote_ident(mconn, table);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", q);
    free(q);
    return test_scalar_int(mconn, sql);
}

static char *medusa_fingerprint(void)
{
    static const char *const queries[] = {
        "SELECT sc.currency_code FROM store_currencies sc ORDER BY 1",
        "SELECT email, role FROM \"user\"",
        "SELECT r.name, r.currency_code, r.tax_rate, c.iso_2 FROM country c JOIN region r ON "
        "r.id = c.region_id ORDER BY c.iso_2",
        "SELECT r.name, p.provider_id FROM region_payment_providers p JOIN region r ON r.id = "
        "p.region_id ORDER BY 1",
        "SELECT so.name, r.name, so.provider_id, so.price_type, so.amount, so.is_return, sp.type "
        "FROM shipping_option so JOIN region r ON r.id = so.region_id JOIN shipping_profile sp "
        "ON sp.id = so.profile_id ORDER BY 2, 1",
        "SELECT id, name, handle, mpath, is_active, is_internal, \"rank\" FROM product_category "
        "ORDER BY id",
        "SELECT handle, title, subtitle, status, thumbnail, weight, is_giftcard, discountable "
        "FROM product ORDER BY handle",
        "SELECT p.handle, i.url FROM product_images x JOIN product p ON p.id = x.product_id JOIN "
        "image i ON i.id = x.image_id ORDER BY 1, 2",
        "SELECT p.handle, x.product_category_id FROM product_category_product x JOIN product p "
        "ON p.id = x.product_id ORDER BY 1, 2",
        "SELECT p.handle, s.name FROM product_sales_channel x JOIN product p ON p.id = "
        "x.product_id JOIN sales_channel s ON s.id = x.sales_channel_id ORDER BY 1",
        "SELECT p.handle, s.type FROM product_shipping_profile x JOIN product p ON p.id = "
        "x.product_id JOIN shipping_profile s ON s.id = x.profile_id ORDER BY 1",
        "SELECT p.handle, v.title, v.inventory_quantity, v.manage_inventory, v.allow_backorder "
        "FROM product_variant v JOIN product p ON p.id = v.product_id ORDER BY 1, 2",
        "SELECT p.handle, v.title, o.title, ov.value FROM product_option_value ov JOIN "
        "product_option o ON o.id = ov.option_id JOIN product_variant v ON v.id = ov.variant_id "
        "JOIN product p ON p.id = v.product_id ORDER BY 1, 2, 3",
        "SELECT p.handle, v.title, ma.currency_code, ma.amount FROM product_variant_money_amount "
        "x JOIN money_amount ma ON ma.id = x.money_amount_id JOIN product_variant v ON v.id = "
        "x.variant_id JOIN product p ON p.id = v.product_id ORDER BY 1, 2, 3",
    };
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        char *q = strdup(queries[i]);
        if (test_dialect == STRATA_MYSQL)
            for (char *p = q; *p; p++)
                if (*p == '"')
                    *p = '`';
        char *d = dump_query(mconn, q);
        free(q);
        size_t n = strlen(d);
        while (len + n + 4 > cap)
            out = realloc(out, cap *= 2);
        len += (size_t)sprintf(out + len, "%s--\n", d);
        free(d);
    }
    return out;
}

static void check_medusa_counts(void)
{
    static const struct {
        const char *table;
        long long n;
    } expect[] = {
        {"store", 1},
        {"store_currencies", 2},
        {"user", 1},
        {"region", 2},
        {"region_payment_providers", 2},
        {"region_fulfillment_providers", 2},
        {"shipping_option", 8},
        {"product_category", 5},
        {"product", 7},
        {"image", 15},
        {"product_images", 15},
        {"product_option", 8},
        {"product_category_product", 10},
        {"product_sales_channel", 7},
        {"product_shipping_profile", 7},
        {"product_variant", 29},
        {"product_option_value", 37},
        {"money_amount", 58},
        {"product_variant_money_amount", 58},
        {"shipping_profile", 2},
        {"sales_channel", 1},
        {"payment_provider", 1},
        {"fulfillment_provider", 1},
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        long long n = mcount(expect[i].table);
        if (n != expect[i].n)
            fprintf(stderr, "\n  %s: %lld rows, expected %lld\n", expect[i].table, n, expect[i].n);
        CU_ASSERT_EQUAL(n, expect[i].n);
    }
    CU_ASSERT_EQUAL(test_scalar_int(mconn, "SELECT count(*) FROM country WHERE region_id IS NOT "
                                           "NULL"),
                    9);
}

static void test_medusa_seed(void)
{
    char *path = medusa_seed_path();
    strata_seed_report *r = NULL;
    int rc = strata_seed_file(mconn, path, NULL, &r);
    if (rc)
        fprintf(stderr, "\n%s\n", strata_error_message());
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(r->format, "medusa");
    CU_ASSERT_EQUAL(r->updated, 9); /* the countries */
    strata_seed_report_free(r);
    free(path);
    check_medusa_counts();
    /* ids: prefix_ULID, explicit ones kept */
    char *id = test_scalar(mconn, "SELECT id FROM product WHERE handle = 't-shirt'");
    CU_ASSERT(id && strlen(id) == 31 && !strncmp(id, "prod_", 5));
    free(id);
    id = test_scalar(mconn, test_dialect == STRATA_MYSQL ? "SELECT id FROM `user`"
                                                         : "SELECT id FROM \"user\"");
    CU_ASSERT(id && strlen(id) == 30 && !strncmp(id, "usr_", 4));
    free(id);
    CU_ASSERT_EQUAL(test_scalar_int(mconn, "SELECT count(*) FROM region WHERE substr(id, 1, 4) = "
                                           "'reg_' AND length(id) = 30"),
                    2);
    CU_ASSERT_EQUAL(test_scalar_int(mconn, "SELECT count(*) FROM shipping_option so JOIN region r "
                                           "ON r.id = so.region_id"),
                    8);
    /* the password verifies as Medusa's scrypt-kdf hash */
    char *hash =
        test_scalar(mconn, test_dialect == STRATA_MYSQL ? "SELECT password_hash FROM `user`"
                                                        : "SELECT password_hash FROM \"user\"");
    CU_ASSERT(hash && seed_scrypt_verify(hash, "supersecret") == 1);
    CU_ASSERT(hash && seed_scrypt_verify(hash, "supersecreT") == 0);
    free(hash);
    /* ranks as Medusa's services number them, whatever the file says (all
     * its categories say 0): categories by their place among their siblings,
     * variants by their place in their product */
    static const char *const ranked[] = {
        "SELECT count(*) FROM product_category WHERE (id = 'pcat_pants' AND \"rank\" = 0) OR "
        "(id = 'pcat_shirts' AND \"rank\" = 1) OR (id = 'pcat_merch' AND \"rank\" = 2) OR "
        "(id = 'pcat_hidden_carousel' AND \"rank\" = 3) OR (id = 'pcat_hidden_featured' AND "
        "\"rank\" = 4)",
        "SELECT count(*) FROM product_variant v JOIN product p ON p.id = v.product_id WHERE "
        "(p.handle = 't-shirt' AND ((v.title = 'S / Black' AND v.variant_rank = 0) OR (v.title = "
        "'M / White' AND v.variant_rank = 3) OR (v.title = 'XL / White' AND v.variant_rank = 7))) "
        "OR (p.handle = 'coffee-mug' AND v.variant_rank = 0)",
        "SELECT count(*) FROM (SELECT product_id FROM product_variant GROUP BY product_id HAVING "
        "min(variant_rank) = 0 AND max(variant_rank) = count(*) - 1 AND count(DISTINCT "
        "variant_rank) = count(*)) x",
        /* price links are pvma__<ULID>: the entity's prefix is "pvma_" */
        "SELECT count(*) FROM product_variant_money_amount WHERE substr(id, 1, 6) = 'pvma__' AND "
        "length(id) = 32",
    };
    static const long long ranked_want[] = {5, 4, 7, 58};
    for (size_t i = 0; i < sizeof ranked / sizeof ranked[0]; i++) {
        char *q = strdup(ranked[i]);
        if (test_dialect == STRATA_MYSQL)
            for (char *p = q; *p; p++)
                if (*p == '"')
                    *p = '`';
        long long n = test_scalar_int(mconn, q);
        if (n != ranked_want[i])
            fprintf(stderr, "\n  %s: %lld, expected %lld\n", q, n, ranked_want[i]);
        CU_ASSERT_EQUAL(n, ranked_want[i]);
        free(q);
    }
    /* the store points at the default sales channel */
    CU_ASSERT_EQUAL(test_scalar_int(mconn, "SELECT count(*) FROM store s JOIN sales_channel c ON "
                                           "c.id = s.default_sales_channel_id"),
                    1);
    /* the same data on every database */
    char *fp = medusa_fingerprint();
    if (!medusa_fingerprint_first) {
        medusa_fingerprint_first = fp;
        medusa_first_dialect = test_dialect;
    } else {
        if (strcmp(fp, medusa_fingerprint_first) != 0)
            fprintf(stderr, "\n--- %s:\n%s\n--- %s:\n%s\n",
                    strata_dialect_name(medusa_first_dialect), medusa_fingerprint_first,
                    strata_dialect_name(test_dialect), fp);
        CU_ASSERT_STRING_EQUAL(fp, medusa_fingerprint_first);
        free(fp);
    }
}

static void test_medusa_twice(void)
{
    char *path = medusa_seed_path();
    char *before = medusa_fingerprint();
    strata_seed_options opt = STRATA_SEED_OPTIONS_INIT;
    opt.mode = STRATA_SEED_INSERT_MISSING;
    strata_seed_report *r = NULL;
    int rc = strata_seed_file(mconn, path, &opt, &r);
    if (rc)
        fprintf(stderr, "\n%s\n", strata_error_message());
    CU_ASSERT_EQUAL(rc, 0);
    if (rc) {
        free(before);
        free(path);
        return;
    }
    CU_ASSERT_EQUAL(r->inserted, 0);
    strata_seed_report_free(r);
    check_medusa_counts();
    char *after = medusa_fingerprint();
    CU_ASSERT_STRING_EQUAL(before, after);
    free(after);
    opt.mode = STRATA_SEED_UPSERT;
    rc = strata_seed_file(mconn, path, &opt, &r);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc) {
        free(before);
        free(path);
        return;
    }
    CU_ASSERT_EQUAL(r->inserted, 0);
    strata_seed_report_free(r);
    check_medusa_counts();
    after = medusa_fingerprint();
    CU_ASSERT_STRING_EQUAL(before, after);
    free(after);
    /* plain insert a second time fails as Medusa's does, and changes nothing */
    rc = strata_seed_file(mconn, path, NULL, &r);
    CU_ASSERT_NOT_EQUAL(rc, 0);
    check_medusa_counts();
    free(before);
    free(path);
}

static void test_repo_data_seed(void)
{
    char *path = path_in(test_source_dir(), "data/seed.json");
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "\n  note: %s is not in the repository yet\n", path);
        free(path);
        return;
    }
    strata_seed_options opt = STRATA_SEED_OPTIONS_INIT;
    opt.mode = STRATA_SEED_INSERT_MISSING;
    strata_seed_report *r = NULL;
    int rc = strata_seed_file(mconn, path, &opt, &r);
    if (rc)
        fprintf(stderr, "\n%s\n", strata_error_message());
    CU_ASSERT_EQUAL(rc, 0);
    strata_seed_report_free(r);
    free(path);
}

static const test_case medusa_tests[] = {
    {"the Medusa starter seed: row counts and the same data", test_medusa_seed},
    {"the Medusa seed twice (insert_missing, upsert) leaves the same data", test_medusa_twice},
    {"data/seed.json of the repository loads", test_repo_data_seed},
    {NULL, NULL},
};

/* ---- offline ---- */

static void test_ulid(void)
{
    char a[27], b[27];
    seed_ulid(a);
    seed_ulid(b);
    CU_ASSERT_EQUAL(strlen(a), 26);
    CU_ASSERT(strcmp(a, b) < 0); /* monotonic */
    for (const char *p = a; *p; p++)
        CU_ASSERT(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", *p) != NULL);
    /* the time part decodes to now (within a minute) */
    uint64_t ms = 0;
    for (int i = 0; i < 10; i++)
        ms = ms * 32 + (uint64_t)(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", a[i]) -
                                  "0123456789ABCDEFGHJKMNPQRSTVWXYZ");
    CU_ASSERT((long long)(ms / 1000) - (long long)time(NULL) < 60);
    CU_ASSERT((long long)time(NULL) - (long long)(ms / 1000) < 60);
    char u[37];
    seed_uuid(u);
    CU_ASSERT_EQUAL(strlen(u), 36);
    CU_ASSERT_EQUAL(u[14], '4');
}

/*
 * A hash made by the real scrypt-kdf package (npm scrypt-kdf 2.0.1, the
 * version Medusa v1 depends on), in a throwaway script outside the repo:
 *   const Scrypt = require('scrypt-kdf');
 *   (await Scrypt.kdf('supersecret', {logN: 1, r: 1, p: 1})).toString('base64')
 * The same script's Scrypt.verify() accepted a hash made by seed_scrypt_kdf.
 */
static const char node_hash[] = "c2NyeXB0AAEAAAABAAAAAeq6JAyU5rFAA2lyyLkH0t3NtDs5hrMIawcwLcuedRWD"
                                "gsxNpOBjn/VKnGte+uSrPjJBcixEOILqjQJL/cQjspp/Pup1yXNKD1LBx9qFs1v1";

/* Standard base64 to bytes; returns the length. */
static int base64_decode(unsigned char *out, const char *in)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned bits = 0;
    int nbits = 0, n = 0;
    for (const char *p = in; *p && *p != '='; p++) {
        const char *k = strchr(alphabet, *p);
        if (!k)
            return -1;
        bits = bits << 6 | (unsigned)(k - alphabet);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out[n++] = (unsigned char)(bits >> nbits);
            bits &= (1u << nbits) - 1;
        }
    }
    return n;
}

static void test_scrypt(void)
{
    CU_ASSERT_EQUAL(seed_scrypt_verify(node_hash, "supersecret"), 1);
    CU_ASSERT_EQUAL(seed_scrypt_verify(node_hash, "supersecret!"), 0);
    /* with the same salt, the same bytes */
    unsigned char raw[100];
    int n = base64_decode(raw, node_hash);
    CU_ASSERT_EQUAL_FATAL(n, 96);
    char *mine = NULL;
    CU_ASSERT_EQUAL(seed_scrypt_kdf("supersecret", 1, 1, 1, raw + 16, &mine), 0);
    CU_ASSERT(mine && !strcmp(mine, node_hash));
    free(mine);
    mine = NULL;
    CU_ASSERT_EQUAL(seed_scrypt_kdf("another one", 10, 8, 1, NULL, &mine), 0);
    CU_ASSERT(mine && seed_scrypt_verify(mine, "another one") == 1);
    free(mine);
}

static void test_convert(void)
{
    char *path = medusa_seed_path();
    char *json = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_seed_convert(path, &json), 0);
    json_error_t err;
    json_t *doc = json_loads(json, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    json_t *tables = json_object_get(doc, "tables");
    CU_ASSERT(json_array_size(tables) >= 10);
    CU_ASSERT_STR_CONTAINS(json, "\"$password\": \"supersecret\"");
    CU_ASSERT_STR_CONTAINS(json, "\"$ref\": \"region:0\"");
    CU_ASSERT_STR_CONTAINS(json, "\"mpath\": \"pcat_shirts.\"");
    CU_ASSERT_STR_CONTAINS(json, "\"$id\": \"pvma_\"");
    CU_ASSERT_STR_CONTAINS(json, "\"variant_rank\": 7");
    CU_ASSERT_STR_CONTAINS(json, "\"rank\": 4");
    json_decref(doc);
    free(json);
    /* through the CLI */
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "%s seed convert %s", test_strata_bin(), path);
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 0);
    CU_ASSERT_STR_CONTAINS(out, "\"product_variant_money_amount.variant_id\"");
    free(out);
    snprintf(cmd, sizeof cmd, "%s seed -f %s --mode sometimes", test_strata_bin(), path);
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 2);
    CU_ASSERT_STR_CONTAINS(out, "--mode must be");
    free(out);
    snprintf(cmd, sizeof cmd, "%s seed -f /nonexistent/seed.json", test_strata_bin());
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 2);
    CU_ASSERT_STR_CONTAINS(out, "could not find a seed file");
    free(out);
    free(path);
}

/* decimal_round: the digits a decimal(p,s) column keeps. */
static void test_decimal_round(void)
{
    static const struct {
        const char *in;
        int p, s;
        const char *out; /* NULL: too many digits */
    } cases[] = {
        {"123.456", 5, 2, "123.46"}, {"-1.235", 5, 2, "-1.24"},   {"0.005", 5, 2, "0.01"},
        {"0.004", 5, 2, "0.00"},     {"-0.004", 5, 2, "0.00"},    {"999.994", 5, 2, "999.99"},
        {"999.995", 5, 2, NULL},     {"1000", 5, 2, NULL},        {"123456.789", 5, 2, NULL},
        {"1e2", 5, 2, "100.00"},     {"1.5e-3", 5, 3, "0.002"},   {"12", 2, 0, "12"},
        {"99.5", 2, 0, NULL},        {"0", 3, 1, "0.0"},          {"+007.10", 4, 1, "7.1"},
        {"1e999999", 5, 2, NULL},    {"1e-999999", 5, 2, "0.00"}, {"5", 1, 1, NULL},
        {"0.95", 1, 1, NULL},        {"0.94", 1, 1, "0.9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        const char *why = decimal_round(cases[i].in, cases[i].p, cases[i].s, &out);
        if (cases[i].out) {
            CU_ASSERT_PTR_NULL(why);
            CU_ASSERT(out && !strcmp(out, cases[i].out));
            if (!out || strcmp(out, cases[i].out))
                fprintf(stderr, "\n  %s as decimal(%d,%d): %s, expected %s\n", cases[i].in,
                        cases[i].p, cases[i].s, out ? out : why, cases[i].out);
        } else {
            CU_ASSERT_PTR_NOT_NULL(why);
            if (!why)
                fprintf(stderr, "\n  %s as decimal(%d,%d) fits as %s\n", cases[i].in, cases[i].p,
                        cases[i].s, out);
        }
        free(out);
    }
}

static const test_case offline_tests[] = {
    {"decimal values rounded to their column", test_decimal_round},
    {"ULIDs and UUIDs", test_ulid},
    {"Medusa's scrypt-kdf password hashes", test_scrypt},
    {"seed convert of the Medusa starter seed", test_convert},
    {NULL, NULL},
};

int main(void)
{
    test_add_suite("seed/offline", offline_tests);
    test_add_dialect_suites("seed", generic_init, generic_cleanup, generic_tests);
    test_add_dialect_suites("seed/medusa", medusa_init, medusa_cleanup, medusa_tests);
    int status = test_main();
    free(medusa_fingerprint_first);
    return status;
}
