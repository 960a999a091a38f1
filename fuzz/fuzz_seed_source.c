/*
 * fuzz_seed_source.c - libFuzzer target for the streamed seed sources
 * (source.c: CSV, TSV, NDJSON) and the conversion of their fields to column
 * values (values.c: seed_convert_text, seed_convert_json).
 *
 * The first byte of an input picks how the file is named, which is how the
 * reader chooses its format: .csv, .tsv, .ndjson, or no extension (sniffed
 * from the first byte). The rest is the file. Every row is read to the end
 * of the file; every CSV field is converted for a column of the probe table
 * below (field i for column i modulo the number of columns), every NDJSON
 * value for the column of its name, else for a column chosen from the name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzzutil.h"
#include "migration.h"
#include "seed.h"

/* One column of every type the format has. */
static const char *probe_migration =
    "{\"up\": [{\"op\": \"create_table\", \"table\": \"probe\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true},"
    "{\"name\": \"small\", \"type\": \"smallint\"},"
    "{\"name\": \"int\", \"type\": \"integer\", \"nullable\": false, \"default\": 0},"
    "{\"name\": \"big\", \"type\": \"bigint\"},"
    "{\"name\": \"money\", \"type\": \"decimal\", \"precision\": 10, \"scale\": 2},"
    "{\"name\": \"wide\", \"type\": \"decimal\", \"precision\": 38, \"scale\": 10},"
    "{\"name\": \"whole\", \"type\": \"decimal\", \"precision\": 5},"
    "{\"name\": \"r\", \"type\": \"real\"},"
    "{\"name\": \"d\", \"type\": \"double\"},"
    "{\"name\": \"flag\", \"type\": \"boolean\"},"
    "{\"name\": \"code\", \"type\": \"string\", \"length\": 3},"
    "{\"name\": \"title\", \"type\": \"string\"},"
    "{\"name\": \"body\", \"type\": \"text\"},"
    "{\"name\": \"uid\", \"type\": \"uuid\"},"
    "{\"name\": \"day\", \"type\": \"date\"},"
    "{\"name\": \"at\", \"type\": \"time\", \"precision\": 0},"
    "{\"name\": \"ts\", \"type\": \"timestamp\", \"precision\": 3},"
    "{\"name\": \"tz\", \"type\": \"timestamptz\"},"
    "{\"name\": \"doc\", \"type\": \"json\"},"
    "{\"name\": \"docb\", \"type\": \"jsonb\"},"
    "{\"name\": \"blob\", \"type\": \"binary\"},"
    "{\"name\": \"state\", \"type\": \"enum\", \"values\": [\"draft\", \"published\"]}"
    "]}]}";

static schema probe_schema;
static const table *probe;

static void setup(void)
{
    migration *m = NULL;
    if (migration_parse("probe/1_probe.json", "1_probe", probe_migration, &m) != 0) {
        fprintf(stderr, "fuzz: probe migration: %s\n", strata_error_message());
        abort();
    }
    migration_set set;
    memset(&set, 0, sizeof set);
    set.v = calloc(1, sizeof *set.v);
    set.v[0] = m;
    set.n = set.cap = 1;
    schema_init(&probe_schema);
    if (plan_replay(&set, 1, &probe_schema, NULL) != 0) {
        fprintf(stderr, "fuzz: probe schema: %s\n", strata_error_message());
        abort();
    }
    migration_set_free(&set);
    probe = schema_table(&probe_schema, "probe");
    if (!probe)
        abort();
}

static const column *column_for(const char *name, size_t i)
{
    if (name) {
        const column *c = table_column(probe, name);
        if (c)
            return c;
        i = 0;
        for (const char *p = name; *p; p++)
            i = i * 31 + (unsigned char)*p;
    }
    return &probe->cols[i % probe->ncols];
}

static void convert_field(const seed_source *s, size_t i)
{
    size_t len;
    int null;
    const char *text = source_field(s, i, &len, &null);
    const strvec *hdr = source_columns(s);
    const column *c = column_for(i < hdr->n ? hdr->v[i] : NULL, i);
    for (int d = 0; d < STRATA_DIALECT_COUNT; d++) {
        strvec scratch = STRVEC_INIT;
        strata_value v;
        const char *why = NULL;
        seed_convert_text((strata_dialect)d, &probe_schema, c, text, len, null, &v, &scratch, &why);
        strvec_free(&scratch);
    }
}

static void convert_object(json_t *obj)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        const column *c = column_for(key, 0);
        for (int d = 0; d < STRATA_DIALECT_COUNT; d++) {
            strvec scratch = STRVEC_INIT;
            strata_value v;
            const char *why = NULL;
            seed_convert_json((strata_dialect)d, &probe_schema, c, val, &v, &scratch, &why);
            strvec_free(&scratch);
        }
        char *brief = seed_json_brief(val);
        free(brief);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!probe)
        setup();
    if (size < 1)
        return 0;
    static const char *const names[] = {"rows.csv", "rows.tsv", "rows.ndjson", "rows"};
    const char *path = fuzz_write(names[data[0] % 4], data + 1, size - 1);
    seed_source *s = NULL;
    if (source_open(path, &s) != 0) {
        strata_error_clear();
        return 0;
    }
    for (int rows = 0; rows < 100000; rows++) {
        int rc = source_next(s);
        if (rc <= 0)
            break;
        (void)source_line(s);
        if (source_is_csv(s)) {
            for (size_t i = 0; i < source_nfields(s); i++)
                convert_field(s, i);
        } else {
            json_t *obj = source_object(s);
            if (!obj || !json_is_object(obj))
                abort(); /* source_next promised an object */
            convert_object(obj);
        }
    }
    source_close(s);
    strata_error_clear();
    return 0;
}
