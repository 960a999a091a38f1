/*
 * dbcmds.c - the `db` commands of the library: diff, pull (as one
 * migration or, through render.c, as a diagram), on top of introspection
 * and the schema model.
 */
#include "compile.h"
#include "flags.h"
#include "history.h"
#include "introspect.h"
#include "migration.h"
#include "opjson.h"
#include "options.h"
#include "predparse.h"
#include "render.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void strata_diff_result_free(strata_diff_result *r)
{
    if (!r)
        return;
    schema_diff items = {r->items, r->n, r->n};
    schema_diff_free(&items);
    for (size_t i = 0; i < r->nwarnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
    free(r);
}

int migrations_model_upto(const char *dir, const char *const *flags, size_t nflags, const char *to,
                          schema *out, strvec *warnings, size_t *count)
{
    migration_set all, set;
    schema_init(out);
    *count = 0;
    int rc = migrations_load_applying(dir, flags, nflags, NULL, &all, &set, NULL);
    if (rc)
        return rc;
    for (size_t i = 0; warnings && i < all.warnings.n; i++)
        strvec_push(warnings, all.warnings.v[i]);
    size_t upto = set.n;
    if (to)
        rc = migrations_resolve_to(&set, to, dir ? dir : "./migrations", &upto);
    if (!rc)
        rc = plan_replay(&set, upto, out, NULL);
    *count = upto;
    free(set.v);
    migration_set_free(&all);
    if (rc)
        schema_free(out);
    return rc;
}

/* The schema every migration file that applies (flags.h) builds, validated. */
int migrations_model(const char *dir, schema *out, strvec *warnings)
{
    migration_set all, set;
    schema_init(out);
    int rc = migrations_load_applying(dir, NULL, 0, NULL, &all, &set, NULL);
    if (rc)
        return rc;
    for (size_t i = 0; warnings && i < all.warnings.n; i++)
        strvec_push(warnings, all.warnings.v[i]);
    rc = plan_replay(&set, set.n, out, NULL);
    free(set.v);
    migration_set_free(&all);
    if (rc)
        schema_free(out);
    return rc;
}

/* The schema the applied migrations build: every file that applies with
 * the flags of `o` when the database has no history, else only those its
 * history lists (pending migrations are not drift). */
static int applied_model(strata_conn *conn, const strata_options *o, schema *out, strvec *warnings)
{
    migration_set all, set;
    schema_init(out);
    strvec ids = STRVEC_INIT;
    int exists = 0;
    int rc = history_applied_ids(conn, &ids, &exists);
    if (!rc)
        rc = migrations_load_applying(o->migrations_dir, o->flags, o->nflags, exists ? &ids : NULL,
                                      &all, &set, warnings);
    if (rc) {
        strvec_free(&ids);
        return rc;
    }
    for (size_t i = 0; i < all.warnings.n; i++)
        strvec_push(warnings, all.warnings.v[i]);
    migration_set applied = {0};
    applied.v = xcalloc(set.n + 1, sizeof *applied.v);
    size_t pending = 0;
    for (size_t i = 0; i < set.n; i++) {
        if (!exists || strvec_find(&ids, set.v[i]->id) >= 0)
            applied.v[applied.n++] = set.v[i];
        else
            pending++;
    }
    if (pending)
        strvec_pushf(warnings, "%zu pending migration%s not compared (run them first)", pending,
                     pending == 1 ? " is" : "s are");
    rc = plan_replay(&applied, applied.n, out, NULL);
    free(applied.v);
    free(set.v);
    strvec_free(&ids);
    migration_set_free(&all);
    if (rc)
        schema_free(out);
    return rc;
}

/* TypeORM's history table (--history-compat typeorm, or a database TypeORM
 * migrated) is no part of the schema, as strata_* tables are not: left out
 * of the live schema (db diff, db pull) when it has exactly TypeORM's
 * columns. Returns whether it was there. */
static int drop_typeorm_history(schema *live)
{
    for (size_t i = 0; i < live->ntables; i++) {
        table *t = &live->tables[i];
        if (strcmp(t->name, TYPEORM_HISTORY_TABLE) != 0 || t->ncols != 3 ||
            !table_column(t, "id") || !table_column(t, "timestamp") || !table_column(t, "name"))
            continue;
        schema_table_removing(live, i);
        table_free_contents(t);
        memmove(t, t + 1, (live->ntables - i - 1) * sizeof *t);
        live->ntables--;
        return 1;
    }
    return 0;
}

/* Compare `model` (the migrations' side) with the connected database, as
 * `db diff` does; *out gets the differences and `warnings` (handed over). */
static int compare_database(strata_conn *conn, const schema *model, strvec *warnings,
                            strata_diff_result **out)
{
    schema live;
    strvec raw = STRVEC_INIT;
    int rc = introspect_schema(conn, &live, warnings, &raw);
    strvec_free(&raw);
    if (rc) {
        strvec_free(warnings);
        return rc;
    }
    drop_typeorm_history(&live);
    diff_options dopt;
    memset(&dopt, 0, sizeof dopt);
    dopt.dialect = strata_conn_dialect(conn);
    dopt.compare_enum_types = dopt.dialect == STRATA_POSTGRES;
    /* a column restored by a revert comes back at the end of its table
     * (spec: Reversal), so order is not drift */
    dopt.ignore_column_order = 1;
    dopt.left_label = "the migrations";
    dopt.right_label = "the database";
    schema_diff d;
    schema_compare(model, &live, &dopt, &d);
    strata_diff_result *r = *out;
    r->items = d.v; /* handed over */
    r->n = d.n;
    r->warnings = warnings->v;
    r->nwarnings = warnings->n;
    schema_free(&live);
    return 0;
}

int strata_db_diff(strata_conn *conn, const strata_options *opt, strata_diff_result **out)
{
    *out = xcalloc(1, sizeof **out);
    strata_options o;
    int rc = options_get(opt, &o);
    if (rc)
        return rc;
    strvec warnings = STRVEC_INIT;
    schema model;
    rc = applied_model(conn, &o, &model, &warnings);
    if (rc) {
        strvec_free(&warnings);
        return rc;
    }
    rc = compare_database(conn, &model, &warnings, out);
    schema_free(&model);
    return rc;
}

int diff_upto(strata_conn *conn, const migration_set *set, size_t upto, strata_diff_result **out)
{
    *out = xcalloc(1, sizeof **out);
    schema model;
    schema_init(&model);
    int rc = plan_replay(set, upto, &model, NULL);
    if (rc) {
        schema_free(&model);
        return rc;
    }
    strvec warnings = STRVEC_INIT;
    rc = compare_database(conn, &model, &warnings, out);
    schema_free(&model);
    return rc;
}

/* ---- db pull ---- */

/* Make a pulled schema portable where the SQL it holds allows: checks and
 * partial-index predicates become predicate objects; what cannot be parsed
 * stays SQL of the source dialect (a check as {"<dialect>": sql}, an index
 * as a raw statement). */
static void portable_expressions(schema *s, strata_dialect d, strvec *raw, strvec *warnings)
{
    const char *dn = strata_dialect_name(d);
    for (size_t i = 0; i < s->ntables; i++) {
        table *t = &s->tables[i];
        for (size_t k = 0; k < t->nchecks; k++) {
            check_def *ck = &t->checks[k];
            if (!json_is_string(ck->check))
                continue;
            json_t *p = predicate_from_sql(json_string_value(ck->check));
            if (p) {
                json_decref(ck->check);
                ck->check = p;
            } else {
                json_t *per = json_pack("{s:O}", dn, ck->check);
                json_decref(ck->check);
                ck->check = per;
                strvec_pushf(warnings,
                             "check %s on %s has no neutral form; kept as %s SQL (the other "
                             "databases need their own)",
                             ck->name, t->name, dn);
            }
        }
        for (size_t k = 0; k < t->nidx;) {
            index_def *ix = &t->idx[k];
            if (ix->where && json_is_string(ix->where)) {
                json_t *p = predicate_from_sql(json_string_value(ix->where));
                if (!p) {
                    char *q = strata_quote_ident(d, ix->name);
                    char *qt = strata_quote_ident(d, t->name);
                    sbuf b = SBUF_INIT;
                    sbuf_addf(&b, "CREATE %sINDEX %s ON %s (", ix->unique ? "UNIQUE " : "", q, qt);
                    for (size_t c = 0; c < ix->ncols; c++) {
                        char *qc = strata_quote_ident(d, ix->cols[c].name);
                        sbuf_addf(&b, "%s%s%s", c ? ", " : "", qc, ix->cols[c].desc ? " DESC" : "");
                        free(qc);
                    }
                    sbuf_addf(&b, ") WHERE %s", json_string_value(ix->where));
                    strvec_push_owned(raw, sbuf_detach(&b));
                    strvec_pushf(warnings,
                                 "index %s on %s: its predicate has no neutral form; "
                                 "kept as %s SQL",
                                 ix->name, t->name, dn);
                    free(q);
                    free(qt);
                    index_free(ix);
                    memmove(ix, ix + 1, (t->nidx - k - 1) * sizeof *ix);
                    t->nidx--;
                    continue;
                }
                json_decref(ix->where);
                ix->where = p;
            }
            k++;
        }
    }
}

/* The connected database's schema, its expressions made portable where
 * they can be, `raw` holding what has no neutral form. */
static int pull_model(strata_conn *conn, schema *s, strvec *warnings, strvec *raw)
{
    int rc = introspect_schema(conn, s, warnings, raw);
    if (rc)
        return rc;
    if (drop_typeorm_history(s))
        strvec_push(warnings, "TypeORM's history table " TYPEORM_HISTORY_TABLE
                              " is left out, as Strata's own history is");
    portable_expressions(s, strata_conn_dialect(conn), raw, warnings);
    return 0;
}

/* "<masked URL> (<dialect> <server version>)" */
static char *source_name(strata_conn *conn)
{
    return xasprintf("%s (%s %s)", strata_conn_url_masked(conn),
                     strata_dialect_name(strata_conn_dialect(conn)),
                     strata_conn_server_version(conn));
}

int strata_db_pull(strata_conn *conn, char **json_out, char ***warnings_out, size_t *nwarnings)
{
    *json_out = NULL;
    *warnings_out = NULL;
    *nwarnings = 0;
    strvec warnings = STRVEC_INIT, raw = STRVEC_INIT;
    schema s;
    int rc = pull_model(conn, &s, &warnings, &raw);
    if (rc) {
        strvec_free(&warnings);
        strvec_free(&raw);
        return rc;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    char *from = source_name(conn);
    char *desc = xasprintf("Schema pulled from %s on %s%s", from, when,
                           raw.n ? "; the sql op holds what has no neutral form, for the source "
                                   "database only"
                                 : "");
    *json_out = schema_migration_json(&s, desc, &raw, strata_conn_dialect(conn));
    free(desc);
    free(from);
    schema_free(&s);
    strvec_free(&raw);
    *warnings_out = warnings.v;
    *nwarnings = warnings.n;
    return 0;
}

int strata_db_schema(strata_conn *conn, strata_schema_format f, char **out, char ***warnings_out,
                     size_t *nwarnings)
{
    *out = NULL;
    *warnings_out = NULL;
    *nwarnings = 0;
    if (f == STRATA_SCHEMA_JSON)
        return strata_db_pull(conn, out, warnings_out, nwarnings);
    if (!strata_schema_format_name(f))
        return strata_set_error(STRATA_EINPUT, "unknown schema format %d (json, mermaid or dot)",
                                (int)f);
    strvec warnings = STRVEC_INIT, raw = STRVEC_INIT;
    schema s;
    int rc = pull_model(conn, &s, &warnings, &raw);
    strvec_free(&raw);
    if (rc) {
        strvec_free(&warnings);
        return rc;
    }
    char *from = source_name(conn);
    char *title = xasprintf("The schema of %s", from);
    *out = schema_render(&s, f, title);
    free(title);
    free(from);
    schema_free(&s);
    *warnings_out = warnings.v;
    *nwarnings = warnings.n;
    return 0;
}
