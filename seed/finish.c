/*
 * finish.c - phase 3 of the seed loader, after every table is loaded:
 * sequences moved past explicit ids, the back-references of cycles that
 * were written NULL, and the document's `update` entries.
 */
#include "load.h"

#include <stdlib.h>
#include <string.h>

/* PostgreSQL: move sequences past explicit ids. MySQL and SQLite move their
 * counters on insert by themselves; there it is checked. */
int fix_sequences(seed_ctx *c, seed_table *st)
{
    const table *t = st->t;
    for (size_t i = 0; i < t->ncols; i++) {
        if (!st->serial_given[i])
            continue;
        const char *cn = t->cols[i].name;
        char *qt = qi(c, t->name), *qc = qi(c, cn);
        char *max = NULL;
        char *sql = xasprintf("SELECT max(%s) FROM %s", qc, qt);
        int rc = strata_conn_query_string(c->conn, sql, NULL, 0, &max);
        free(sql);
        if (!rc && max && c->d == STRATA_POSTGRES) {
            char *lit_t = strata_quote_literal(c->d, qt);
            char *lit_c = strata_quote_literal(c->d, cn);
            char *seq = NULL;
            sql = xasprintf("SELECT pg_get_serial_sequence(%s, %s)", lit_t, lit_c);
            rc = strata_conn_query_string(c->conn, sql, NULL, 0, &seq);
            free(sql);
            if (!rc && seq) {
                char *lit_s = strata_quote_literal(c->d, seq);
                sql = xasprintf("SELECT setval(%s, GREATEST(%s, (SELECT last_value FROM %s)), "
                                "true)",
                                lit_s, max, seq);
                char *ignored = NULL;
                rc = strata_conn_query_string(c->conn, sql, NULL, 0, &ignored);
                free(ignored);
                free(sql);
                free(lit_s);
                if (!rc)
                    c->sequences++;
            }
            free(seq);
            free(lit_t);
            free(lit_c);
        } else if (!rc && max && c->d == STRATA_MYSQL && table_serial_pk(t)) {
            char *next = NULL;
            strata_value tn = strata_vtext(t->name);
            rc = strata_conn_query_string(c->conn,
                                          "SELECT AUTO_INCREMENT FROM information_schema.TABLES "
                                          "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
                                          &tn, 1, &next);
            if (!rc && next && strtoll(next, NULL, 10) <= strtoll(max, NULL, 10))
                strvec_pushf(&c->warnings,
                             "table '%s': the auto-increment counter (%s) is not above the "
                             "largest id (%s)",
                             t->name, next, max);
            free(next);
        }
        free(max);
        free(qt);
        free(qc);
        if (rc)
            return strata_error_prefix("%s: moving the sequence of %s.%s: ", c->path, t->name, cn);
    }
    return 0;
}

/* Set the back-references that were written NULL. */
int set_deferred(seed_ctx *c)
{
    for (size_t i = 0; i < c->nitems; i++) {
        seed_item *it = c->items[i];
        if (!it->deferred.n || !it->inserted)
            continue;
        const table *t = it->st->t;
        const strvec *pk = &t->pk;
        if (!pk->n)
            return item_error(c, it, it->deferred.v[0],
                              "a back-reference in a cycle needs a table with a primary key");
        sbuf sql = SBUF_INIT;
        char *q = qi(c, t->name);
        sbuf_addf(&sql, "UPDATE %s SET ", q);
        free(q);
        strata_value *params = xcalloc(it->deferred.n + pk->n + 1, sizeof *params);
        json_t *keep = json_array();
        strvec scratch = STRVEC_INIT;
        int rc = 0;
        size_t np = 0;
        for (size_t k = 0; k < it->deferred.n && !rc; k++) {
            const char *cn = it->deferred.v[k];
            json_t *r = NULL;
            int from_parent = it->parent_fk && strvec_find(&it->parent_fk->cols, cn) >= 0;
            if (from_parent)
                rc = alias_value(c, it->parent,
                                 it->parent_fk->ref_cols.v[strvec_find(&it->parent_fk->cols, cn)],
                                 &r);
            else
                rc = resolve_value(c, it, cn, json_object_get(it->row, cn), &r);
            if (rc == SKIP_ROW)
                rc = item_error(c, it, cn, "refers to a row that was skipped");
            if (rc)
                break;
            json_array_append_new(keep, r);
            const char *why;
            if (seed_convert_json(c->d, &c->s, table_column(t, cn), r, &params[np++], &scratch,
                                  &why) != 0)
                rc = item_error(c, it, cn, "%s", why);
            q = qi(c, cn);
            sbuf_addf(&sql, "%s%s = ?", k ? ", " : "", q);
            free(q);
        }
        for (size_t k = 0; k < pk->n && !rc; k++) {
            json_t *r = NULL;
            rc = alias_value(c, it, pk->v[k], &r);
            if (rc)
                break;
            json_array_append_new(keep, r);
            const char *why;
            if (seed_convert_json(c->d, &c->s, table_column(t, pk->v[k]), r, &params[np++],
                                  &scratch, &why) != 0)
                rc = item_error(c, it, pk->v[k], "%s", why);
            q = qi(c, pk->v[k]);
            sbuf_addf(&sql, " %s %s = ?", k ? "AND" : "WHERE", q);
            free(q);
        }
        if (!rc) {
            rc = strata_conn_execp(c->conn, sbuf_str(&sql), params, np, NULL);
            if (rc)
                strata_error_prefix("%s: table '%s', row %zu (%s): setting back-references: ",
                                    c->path, t->name, it->pos + 1, it->where);
        }
        sbuf_free(&sql);
        free(params);
        json_decref(keep);
        strvec_free(&scratch);
        if (rc)
            return rc;
    }
    return 0;
}

/* One `update` entry: UPDATE ... SET the resolved "set" values WHERE the
 * resolved "where" values match (NULL as IS NULL). An update that matches no
 * row is a warning, not an error. */
int run_update(seed_ctx *c, seed_update *u)
{
    const table *t = u->st->t;
    json_t *set = json_object_get(u->spec, "set"), *where = json_object_get(u->spec, "where");
    size_t n = json_object_size(set) + json_object_size(where);
    strata_value *params = xcalloc(n + 1, sizeof *params);
    json_t *keep = json_array();
    strvec scratch = STRVEC_INIT;
    sbuf sql = SBUF_INIT;
    char *q = qi(c, t->name);
    sbuf_addf(&sql, "UPDATE %s SET ", q);
    free(q);
    size_t np = 0;
    int rc = 0;
    json_t *parts[2] = {set, where};
    for (int p = 0; p < 2 && !rc; p++) {
        const char *k;
        json_t *v;
        size_t idx = 0;
        json_object_foreach(parts[p], k, v)
        {
            json_t *r;
            rc = resolve_value(c, NULL, k, v, &r);
            if (rc == SKIP_ROW)
                rc = strata_set_error(STRATA_EINPUT, "%s: %s: refers to a skipped row", c->path,
                                      u->where);
            if (rc)
                break;
            json_array_append_new(keep, r);
            q = qi(c, k);
            if (p == 0)
                sbuf_addf(&sql, "%s%s = ", idx ? ", " : "", q);
            else
                sbuf_addf(&sql, " %s %s", idx ? "AND" : "WHERE", q);
            free(q);
            idx++;
            if (p == 1 && json_is_null(r)) {
                sbuf_add(&sql, " IS NULL");
                continue;
            }
            sbuf_add(&sql, p == 1 ? " = ?" : "?");
            const char *why;
            if (seed_convert_json(c->d, &c->s, table_column(t, k), r, &params[np++], &scratch,
                                  &why) != 0) {
                char *b = seed_json_brief(r);
                rc = strata_set_error(STRATA_EINPUT, "%s: %s, column '%s': %s (value %s)", c->path,
                                      u->where, k, why, b);
                free(b);
            }
        }
    }
    int64_t affected = 0;
    if (!rc) {
        rc = strata_conn_execp(c->conn, sbuf_str(&sql), params, np, &affected);
        if (rc)
            strata_error_prefix("%s: %s: ", c->path, u->where);
    }
    if (!rc) {
        u->st->updated += affected;
        c->updated_rows += affected;
        if (affected == 0)
            strvec_pushf(&c->warnings, "%s: the update of table '%s' matched no row", u->where,
                         t->name);
    }
    sbuf_free(&sql);
    free(params);
    json_decref(keep);
    strvec_free(&scratch);
    return rc;
}
