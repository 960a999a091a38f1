/*
 * dml.c - insert, update and delete operations, for every dialect.
 *
 * Values are converted by column type the way the seed format converts them
 * (render_value). Consecutive rows that give the same columns share one
 * multi-row INSERT (at most 500 rows each). On PostgreSQL, explicit values
 * for a serial column move its sequence past them; MySQL's AUTO_INCREMENT
 * and SQLite's AUTOINCREMENT (and Strata's serial trigger) move by themselves.
 */
#include "sqlgen.h"

#include <stdlib.h>
#include <string.h>

#define ROWS_PER_INSERT 500

/* The columns of `t` that `row` gives values for, in table order, as a
 * bitmap over t->cols. */
static void row_columns(const table *t, json_t *row, unsigned char *mask)
{
    for (size_t i = 0; i < t->ncols; i++)
        mask[i] = json_object_get(row, t->cols[i].name) != NULL;
}

/* PostgreSQL: move a serial column's sequence past the values just given,
 * so the next default insert - even in the same op - does not collide. */
static void setval_after(cctx *c, const table *t, const column *sc)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "SELECT setval(pg_get_serial_sequence(");
    char *qt = strata_quote_ident(STRATA_POSTGRES, t->name);
    qstr(&b, c, qt);
    free(qt);
    sbuf_add(&b, ", ");
    qstr(&b, c, sc->name);
    sbuf_add(&b, "), (SELECT COALESCE(MAX(");
    qid(&b, c, sc->name);
    sbuf_add(&b, "), 0) + 1 FROM ");
    qid(&b, c, t->name);
    sbuf_add(&b, "), false)");
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
}

/* insert: consecutive rows that give the same columns share one INSERT of
 * at most ROWS_PER_INSERT rows; on PostgreSQL each INSERT that gives a
 * serial column's values is followed by setval_after(). */
static int compile_insert(cctx *c, const table *t)
{
    json_t *rows = c->o->rows;
    size_t nrows = json_array_size(rows);
    unsigned char *mask = xcalloc(t->ncols + 1, 1), *next = xcalloc(t->ncols + 1, 1);
    size_t i = 0;
    int rc = 0;
    while (i < nrows && !rc) {
        row_columns(t, json_array_get(rows, i), mask);
        int serial_given = -1;
        sbuf b = SBUF_INIT;
        sbuf_add(&b, "INSERT INTO ");
        qid(&b, c, t->name);
        sbuf_add(&b, " (");
        int first = 1;
        for (size_t k = 0; k < t->ncols; k++) {
            if (!mask[k])
                continue;
            if (!first)
                sbuf_add(&b, ", ");
            first = 0;
            qid(&b, c, t->cols[k].name);
            if (type_is_serial(t->cols[k].type.kind))
                serial_given = (int)k;
        }
        sbuf_add(&b, ") VALUES");
        size_t in_batch = 0;
        while (i < nrows && in_batch < ROWS_PER_INSERT && !rc) {
            json_t *row = json_array_get(rows, i);
            row_columns(t, row, next);
            if (memcmp(mask, next, t->ncols) != 0)
                break;
            sbuf_add(&b, in_batch ? ",\n  (" : "\n  (");
            first = 1;
            for (size_t k = 0; k < t->ncols && !rc; k++) {
                if (!mask[k])
                    continue;
                if (!first)
                    sbuf_add(&b, ", ");
                first = 0;
                if (render_value(&b, c->d, c->s, &t->cols[k],
                                 json_object_get(row, t->cols[k].name)) != 0)
                    rc = cerr(c, "row %zu, column '%s': cannot convert the value", i,
                              t->cols[k].name);
            }
            sbuf_addc(&b, ')');
            in_batch++;
            i++;
        }
        if (rc) {
            sbuf_free(&b);
            break;
        }
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        if (serial_given >= 0 && c->d == STRATA_POSTGRES)
            setval_after(c, t, &t->cols[serial_given]);
    }
    free(mask);
    free(next);
    return rc;
}

static int compile_update(cctx *c, const table *t)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "UPDATE ");
    qid(&b, c, t->name);
    sbuf_add(&b, " SET ");
    int first = 1, rc = 0;
    for (size_t k = 0; k < t->ncols && !rc; k++) {
        json_t *v = json_object_get(c->o->set, t->cols[k].name);
        if (!v)
            continue;
        if (!first)
            sbuf_add(&b, ", ");
        first = 0;
        qid(&b, c, t->cols[k].name);
        sbuf_add(&b, " = ");
        if (render_value(&b, c->d, c->s, &t->cols[k], v) != 0)
            rc = cerr(c, "column '%s': cannot convert the value", t->cols[k].name);
    }
    if (!rc && c->o->where) {
        sbuf_add(&b, " WHERE ");
        rc = render_predicate(&b, c, t, c->o->where);
    }
    if (rc) {
        sbuf_free(&b);
        return rc;
    }
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    return 0;
}

static int compile_delete(cctx *c, const table *t)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "DELETE FROM ");
    qid(&b, c, t->name);
    int rc = 0;
    if (c->o->where) {
        sbuf_add(&b, " WHERE ");
        rc = render_predicate(&b, c, t, c->o->where);
    }
    if (rc) {
        sbuf_free(&b);
        return rc;
    }
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    return 0;
}

int compile_dml(cctx *c)
{
    const table *t = find_table(c, c->o->table);
    switch (c->o->kind) {
    case OP_INSERT:
        return compile_insert(c, t);
    case OP_UPDATE:
        return compile_update(c, t);
    case OP_DELETE:
        return compile_delete(c, t);
    default:
        return 0;
    }
}
