/*
 * fuzz_migration.c - libFuzzer target for the migration parser and what
 * stands right behind it.
 *
 * Each input is the text of one migration file:
 *   1. migration_parse() reads it from memory (JSON syntax, keys, ops,
 *      types, predicates, defaults);
 *   2. when it parses, plan_replay() validates it against the schema model
 *      and derives its down;
 *   3. when that passes too, the input is written as the only file of a
 *      scratch migrations directory and strata_migrations_sql() compiles it,
 *      up and down, for PostgreSQL, MySQL and SQLite, offline.
 * Errors are expected and fine; a sanitizer report or an abort is a finding.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "migration.h"
#include "strata.h"

static char migdir[4096];

static void setup(void)
{
    snprintf(migdir, sizeof migdir, "%s", fuzz_scratch_dir());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!migdir[0])
        setup();
    char *text = fuzz_cstr(data, size);
    migration *m = NULL;
    int rc = migration_parse("fuzz/1_fuzz.json", "1_fuzz", text, &m);
    free(text);
    strata_error_clear();
    if (rc || !m)
        return 0;

    migration_set set;
    memset(&set, 0, sizeof set);
    set.v = calloc(1, sizeof *set.v);
    set.v[0] = m;
    set.n = set.cap = 1;
    schema s;
    schema_init(&s);
    down_plan plan;
    rc = plan_replay(&set, 1, &s, &plan);
    schema_free(&s);
    plan_free(&plan);
    migration_set_free(&set);
    strata_error_clear();
    if (rc)
        return 0;

    /* the whole offline path: directory, parse, replay, compile */
    fuzz_write("1_fuzz.json", data, size);
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = migdir;
    for (int d = 0; d < STRATA_DIALECT_COUNT; d++)
        for (int down = 0; down <= 1; down++) {
            char *sql = NULL;
            strata_migrations_sql(&opt, (strata_dialect)d, down, NULL, 0, &sql);
            free(sql);
            strata_error_clear();
        }
    return 0;
}
