/*
 * predparse.h - SQL expressions back into DSL predicates (see predparse.c).
 */
#ifndef STRATA_PREDPARSE_H
#define STRATA_PREDPARSE_H

#include <jansson.h>

#include "util.h"

/* The predicate an SQL expression states, or NULL when it is more than
 * comparisons, IN lists, NULL tests, AND, OR and NOT. New reference. */
json_t *predicate_from_sql(const char *sql);

#endif
