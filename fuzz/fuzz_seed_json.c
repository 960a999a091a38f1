/*
 * fuzz_seed_json.c - libFuzzer target for the seed loader (load.c) and the
 * Medusa converter (medusa.c), end to end on an in-memory SQLite database.
 *
 * At start-up a small schema with the shapes seeds meet is migrated into
 * sqlite::memory: (foreign keys, a cycle of nullable foreign keys, a serial
 * key, composite keys, unique keys, every column type), and three row files
 * are put beside the seed: rows.csv, rows.tsv and rows.ndjson. Each input is
 * written as seed.json and loaded with strata_seed_file() inside a
 * transaction that is rolled back afterwards, so every input starts from
 * the same empty tables; strata_seed_convert() reads it as a Medusa seed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzzutil.h"
#include "strata.h"

static const char *schema_migration =
    "{\"up\": ["
    "{\"op\": \"create_table\", \"table\": \"currency\", \"columns\": ["
    "{\"name\": \"code\", \"type\": \"string\", \"length\": 3, \"primary_key\": true},"
    "{\"name\": \"symbol\", \"type\": \"string\"},"
    "{\"name\": \"name\", \"type\": \"string\", \"nullable\": false}]},"
    "{\"op\": \"create_table\", \"table\": \"region\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"string\", \"primary_key\": true},"
    "{\"name\": \"name\", \"type\": \"string\", \"nullable\": false},"
    "{\"name\": \"currency_code\", \"type\": \"string\", \"length\": 3, "
    "\"references\": {\"table\": \"currency\"}},"
    "{\"name\": \"default_country_id\", \"type\": \"integer\"},"
    "{\"name\": \"tax_rate\", \"type\": \"real\"}]},"
    "{\"op\": \"create_table\", \"table\": \"country\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true},"
    "{\"name\": \"iso_2\", \"type\": \"string\", \"length\": 2, \"unique\": true},"
    "{\"name\": \"region_id\", \"type\": \"string\", \"references\": {\"table\": \"region\", "
    "\"on_delete\": \"set_null\"}}]},"
    "{\"op\": \"add_foreign_key\", \"table\": \"region\", \"name\": \"region_default_country\", "
    "\"columns\": [\"default_country_id\"], \"references\": {\"table\": \"country\", "
    "\"columns\": [\"id\"]}},"
    "{\"op\": \"create_table\", \"table\": \"product\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true},"
    "{\"name\": \"handle\", \"type\": \"string\", \"unique\": true},"
    "{\"name\": \"title\", \"type\": \"string\", \"nullable\": false},"
    "{\"name\": \"price\", \"type\": \"decimal\", \"precision\": 10, \"scale\": 2},"
    "{\"name\": \"weight\", \"type\": \"double\"},"
    "{\"name\": \"stock\", \"type\": \"bigint\", \"default\": 0},"
    "{\"name\": \"small\", \"type\": \"smallint\"},"
    "{\"name\": \"is_giftcard\", \"type\": \"boolean\", \"default\": false},"
    "{\"name\": \"status\", \"type\": \"enum\", \"values\": [\"draft\", \"published\"]},"
    "{\"name\": \"uid\", \"type\": \"uuid\"},"
    "{\"name\": \"released\", \"type\": \"date\"},"
    "{\"name\": \"opens\", \"type\": \"time\"},"
    "{\"name\": \"stamp\", \"type\": \"timestamp\"},"
    "{\"name\": \"created_at\", \"type\": \"timestamptz\", \"default\": {\"expr\": \"now\"}},"
    "{\"name\": \"metadata\", \"type\": \"jsonb\"},"
    "{\"name\": \"raw\", \"type\": \"json\"},"
    "{\"name\": \"body\", \"type\": \"text\"},"
    "{\"name\": \"thumb\", \"type\": \"binary\"}]},"
    "{\"op\": \"create_table\", \"table\": \"product_variant\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"string\", \"primary_key\": true},"
    "{\"name\": \"product_id\", \"type\": \"integer\", \"nullable\": false, "
    "\"references\": {\"table\": \"product\", \"on_delete\": \"cascade\"}},"
    "{\"name\": \"sku\", \"type\": \"string\", \"unique\": true},"
    "{\"name\": \"rank\", \"type\": \"integer\"}]},"
    "{\"op\": \"create_table\", \"table\": \"tag\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"string\", \"primary_key\": true},"
    "{\"name\": \"value\", \"type\": \"string\", \"nullable\": false}]},"
    "{\"op\": \"create_table\", \"table\": \"product_tags\", \"columns\": ["
    "{\"name\": \"product_id\", \"type\": \"integer\", \"references\": {\"table\": \"product\"}},"
    "{\"name\": \"tag_id\", \"type\": \"string\", \"references\": {\"table\": \"tag\"}}],"
    "\"primary_key\": [\"product_id\", \"tag_id\"]}"
    "]}";

static const char *rows_csv = "id,product_id,sku,rank\nv1,1,SKU-1,1\nv2,1,\"SKU,2\",\n";
static const char *rows_tsv = "id\tvalue\nt1\tred\nt2\t\\N\n";
static const char *rows_ndjson = "{\"code\": \"eur\", \"symbol\": \"e\", \"name\": \"Euro\"}\n"
                                 "{\"code\": \"usd\", \"name\": \"US Dollar\"}\n";

static strata_conn *conn;

static void setup(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/migrations", fuzz_scratch_dir());
    fuzz_write("rows.csv", (const uint8_t *)rows_csv, strlen(rows_csv));
    fuzz_write("rows.tsv", (const uint8_t *)rows_tsv, strlen(rows_tsv));
    fuzz_write("rows.ndjson", (const uint8_t *)rows_ndjson, strlen(rows_ndjson));
    if (mkdir(dir, 0700) != 0)
        abort();
    char path[4200];
    snprintf(path, sizeof path, "%s/1_schema.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs(schema_migration, f);
    fclose(f);
    if (strata_conn_open(&conn, "sqlite::memory:") != 0) {
        fprintf(stderr, "fuzz: %s\n", strata_error_message());
        abort();
    }
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = dir;
    strata_report *rep = NULL;
    if (strata_migrations_run(conn, &opt, &rep) != 0) {
        fprintf(stderr, "fuzz: schema: %s\n", strata_error_message());
        abort();
    }
    strata_report_free(rep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!conn)
        setup();
    const char *path = fuzz_write("seed.json", data, size);
    char *p = strdup(path);

    if (strata_conn_begin(conn) != 0)
        abort();
    strata_seed_options opt = STRATA_SEED_OPTIONS_INIT;
    strata_seed_report *rep = NULL;
    strata_seed_file(conn, p, &opt, &rep);
    strata_seed_report_free(rep);
    strata_error_clear();
    if (strata_conn_in_transaction(conn) && strata_conn_rollback(conn) != 0)
        abort();
    strata_error_clear();

    char *json = NULL;
    strata_seed_convert(p, &json);
    free(json);
    strata_error_clear();
    free(p);
    return 0;
}
