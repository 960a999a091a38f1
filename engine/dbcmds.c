/*
 * dbcmds.c - the `db` commands of the library: diff (and, later, pull)
 * on top of introspection and the schema model.
 */
#include "introspect.h"
#include "migration.h"

#include <stdlib.h>
#include <string.h>

void strata_diff_result_free(strata_diff_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        strata_diff_item *it = &r->items[i];
        free(it->kind);
        free(it->table);
        free(it->name);
        free(it->what);
        free(it->left);
        free(it->right);
        free(it->line);
    }
    free(r->items);
    for (size_t i = 0; i < r->nwarnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
    free(r);
}

/* The schema every migration file builds, validated. */
int migrations_model(const char *dir, schema *out, strvec *warnings)
{
    migration_set set;
    schema_init(out);
    int rc = migrations_load_dir(dir ? dir : "./migrations", &set);
    if (rc)
        return rc;
    for (size_t i = 0; warnings && i < set.warnings.n; i++)
        strvec_push(warnings, set.warnings.v[i]);
    rc = plan_replay(&set, set.n, out, NULL);
    migration_set_free(&set);
    if (rc)
        schema_free(out);
    return rc;
}

int strata_db_diff(strata_conn *conn, const strata_options *opt, strata_diff_result **out)
{
    *out = xcalloc(1, sizeof **out);
    strvec warnings = STRVEC_INIT;
    schema model, live;
    int rc = migrations_model(opt->migrations_dir, &model, &warnings);
    if (rc) {
        strvec_free(&warnings);
        return rc;
    }
    strvec raw = STRVEC_INIT;
    rc = introspect_schema(conn, &live, &warnings, &raw);
    strvec_free(&raw);
    if (rc) {
        schema_free(&model);
        strvec_free(&warnings);
        return rc;
    }
    diff_options dopt;
    memset(&dopt, 0, sizeof dopt);
    dopt.dialect = strata_conn_dialect(conn);
    dopt.compare_enum_types = dopt.dialect == STRATA_POSTGRES;
    dopt.left_label = "the migrations";
    dopt.right_label = "the database";
    schema_diff d;
    schema_compare(&model, &live, &dopt, &d);
    strata_diff_result *r = *out;
    r->items = xcalloc(d.n + 1, sizeof *r->items);
    for (size_t i = 0; i < d.n; i++) {
        /* hand the strings over */
        strata_diff_item *it = &r->items[i];
        it->kind = d.v[i].kind;
        it->table = d.v[i].table;
        it->name = d.v[i].name;
        it->what = d.v[i].what;
        it->left = d.v[i].left;
        it->right = d.v[i].right;
        it->line = d.v[i].line;
    }
    r->n = d.n;
    free(d.v);
    r->warnings = warnings.v;
    r->nwarnings = warnings.n;
    schema_free(&model);
    schema_free(&live);
    return 0;
}
