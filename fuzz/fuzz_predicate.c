/*
 * fuzz_predicate.c - libFuzzer target for the SQL predicate parser
 * (predicate_from_sql, predparse.h): the check clauses and partial-index
 * predicates that `db pull` reads back from a database.
 *
 * A predicate it returns must be a JSON object that serialises; parsing the
 * same text twice must give the same predicate (the parser keeps no state).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzzutil.h"
#include "predparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = fuzz_cstr(data, size);
    json_t *p = predicate_from_sql(sql);
    if (p) {
        if (!json_is_object(p))
            abort();
        char *text = json_dumps(p, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text)
            abort();
        json_t *again = predicate_from_sql(sql);
        if (!again || !json_equal(p, again))
            abort();
        json_decref(again);
        free(text);
        json_decref(p);
    }
    free(sql);
    return 0;
}
