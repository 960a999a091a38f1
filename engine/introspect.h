/*
 * introspect.h - reading a live database's schema into the engine's schema
 * model (the same `schema` structs that replaying migrations builds), and
 * comparing two schema models.
 *
 * Normalisation undoes each dialect's mapping (the dialect compilers), so a schema
 * built by migrations and read back compares equal on all three databases:
 * MySQL tinyint(1) is boolean, MariaDB's longtext+json_valid is json,
 * Strata's invisible partial-unique helper columns become the partial
 * unique index they implement, SQLite's enum CHECKs become enum columns,
 * PostgreSQL's nextval() defaults become serial, and so on.
 */
#ifndef STRATA_INTROSPECT_H
#define STRATA_INTROSPECT_H

#include "ir.h"

/* Read every table (except strata_* ones), column, key, index, foreign key,
 * check and enum of the connected database's default schema. What has no
 * neutral form (views, triggers other than Strata's own, index methods or
 * expressions the DSL cannot state) is appended to `raw` as one SQL
 * statement each (may be NULL), with a line in `warnings` (may be NULL). */
int introspect_schema(strata_conn *conn, schema *out, strvec *warnings, strvec *raw);

/* A difference between two schemas, as one readable line and as parts: the
 * public strata_diff_item, so that `db diff` hands its items over as they are.
 * Here left and right are the sides given to schema_compare (NULL when
 * missing), not necessarily the migrations and the database. */
typedef strata_diff_item schema_diff_item;

typedef struct schema_diff {
    schema_diff_item *v;
    size_t n, cap;
} schema_diff;

/* Options for comparing: names of generated constraints may differ between
 * dialects (and between a database and its migrations) without meaning. */
typedef struct diff_options {
    strata_dialect dialect;      /* whose SQL expressions are compared */
    int portable;                /* allow the documented per-dialect differences */
    int compare_enum_types;      /* compare named enum types (PostgreSQL only has them) */
    int ignore_constraint_names; /* compare indexes, FKs and checks by content */
    int ignore_column_order;
    const char *left_label;  /* e.g. "migrations" */
    const char *right_label; /* e.g. "database" */
} diff_options;

void schema_compare(const schema *left, const schema *right, const diff_options *opt,
                    schema_diff *out);
void schema_diff_free(schema_diff *d);

/* The schema every migration file of `dir` builds (validated). */
int migrations_model(const char *dir, schema *out, strvec *warnings);
/* The schema the migrations of `dir` up to and including version (or id)
 * `to` build (all when `to` is NULL); *count: how many that is. A `to`
 * that names no migration is STRATA_EINPUT. */
int migrations_model_upto(const char *dir, const char *const *flags, size_t nflags, const char *to,
                          schema *out, strvec *warnings, size_t *count);

/* Compare the connected database with the schema migrations [0, upto) of
 * `set` build, as `db diff` does (*out: the caller's, free it with
 * strata_diff_result_free). */
struct migration_set;
int diff_upto(strata_conn *conn, const struct migration_set *set, size_t upto,
              strata_diff_result **out);

#endif
