/*
 * write.c - phase 2 of the seed loader: the rows the document gives for a
 * table, into the database.
 *
 * New rows are streamed through the driver's bulk loader in runs of rows
 * with the same columns; rows whose database-made key is needed later (an
 * auto-increment id of a row with an alias or children) are inserted one
 * at a time and read back; existing rows are left alone or, with upsert,
 * updated.
 */
#include "load.h"

#include <stdlib.h>
#include <string.h>

/* The columns a new row writes, in table order. */
static void item_columns(const seed_item *it, strvec *out)
{
    const table *t = it->st->t;
    for (size_t i = 0; i < t->ncols; i++)
        if (json_object_get(it->vals, t->cols[i].name))
            strvec_push(out, t->cols[i].name);
}

/* Does a new row need its database-made key read back after insert? */
static int needs_readback(const seed_item *it)
{
    if (!it->referenced)
        return 0;
    const strvec *pk = &it->st->t->pk;
    for (size_t i = 0; i < pk->n; i++)
        if (!json_object_get(it->vals, pk->v[i]))
            return 1;
    return 0;
}

static int convert_item(seed_ctx *c, seed_item *it, const strvec *cols, strata_value *row,
                        strvec *scratch)
{
    for (size_t i = 0; i < cols->n; i++) {
        const column *col = table_column(it->st->t, cols->v[i]);
        json_t *v = json_object_get(it->vals, cols->v[i]);
        const char *why;
        if (seed_convert_json(c->d, &c->s, col, v, &row[i], scratch, &why) != 0) {
            char *b = seed_json_brief(v);
            int rc = item_error(c, it, cols->v[i], "%s (value %s)", why, b);
            free(b);
            return rc;
        }
        if (type_is_serial(col->type.kind) && row[i].type != STRATA_VNULL)
            it->st->serial_given[table_column_pos(it->st->t, cols->v[i])] = 1;
    }
    return 0;
}

typedef struct doc_stream {
    seed_ctx *c;
    seed_table *st;
    size_t next, end;
    const strvec *cols;
    strvec scratch;
} doc_stream;

static int doc_next(void *ctx, strata_value *row)
{
    doc_stream *ds = ctx;
    strvec_free(&ds->scratch);
    if (ds->next >= ds->end)
        return 0;
    seed_item *it = ds->st->items[ds->next++];
    int rc = convert_item(ds->c, it, ds->cols, row, &ds->scratch);
    if (rc)
        return rc;
    it->inserted = 1;
    ds->c->table_rows++;
    progress_tick(ds->c, ds->st->t->name, ds->c->table_rows, 0);
    return 1;
}

char *column_list(const seed_ctx *c, const strvec *cols)
{
    sbuf b = SBUF_INIT;
    quote_ident_list_into(&b, c->d, (const char *const *)cols->v, cols->n);
    return sbuf_detach(&b);
}

/* Insert one row and read it back (its auto-increment key and defaults). */
static int insert_one(seed_ctx *c, seed_item *it)
{
    strvec cols = STRVEC_INIT;
    item_columns(it, &cols);
    strata_value *row = xcalloc(cols.n + 1, sizeof *row);
    strvec scratch = STRVEC_INIT;
    int rc = convert_item(c, it, &cols, row, &scratch);
    const table *t = it->st->t;
    char *q = qi(c, t->name);
    char *cl = column_list(c, &cols);
    sbuf sql = SBUF_INIT;
    if (cols.n) {
        sbuf_addf(&sql, "INSERT INTO %s (%s) VALUES (", q, cl);
        params_into(&sql, cols.n);
        sbuf_addc(&sql, ')');
    } else if (c->d == STRATA_MYSQL) {
        sbuf_addf(&sql, "INSERT INTO %s () VALUES ()", q);
    } else {
        sbuf_addf(&sql, "INSERT INTO %s DEFAULT VALUES", q);
    }
    int returning = (strata_conn_caps(c->conn) & STRATA_CAP_RETURNING) != 0;
    if (returning)
        sbuf_add(&sql, " RETURNING *");
    strata_rows *rows = NULL;
    if (!rc) {
        rc = strata_conn_query(c->conn, sbuf_str(&sql), row, cols.n, &rows);
        if (rc)
            strata_error_prefix("%s: table '%s', row %zu (%s): ", c->path, t->name, it->pos + 1,
                                it->where);
    }
    if (!rc && returning && strata_rows_next(rows) == 1) {
        json_t *o = json_object();
        for (size_t i = 0; i < strata_rows_ncols(rows); i++)
            json_object_set_new(o, strata_rows_colname(rows, i),
                                seed_value_to_json(strata_rows_value(rows, i)));
        it->db = o;
    }
    strata_rows_free(rows);
    if (!rc && !returning) {
        /* No RETURNING (MySQL): the auto-increment value of this session. */
        const column *serial = table_serial_pk(t);
        char *id = NULL;
        rc = strata_conn_query_string(c->conn,
                                      c->d == STRATA_SQLITE ? "SELECT last_insert_rowid()"
                                                            : "SELECT LAST_INSERT_ID()",
                                      NULL, 0, &id);
        if (!rc && serial && id) {
            json_t *w = json_object();
            json_object_set_new(w, serial->name, json_integer(strtoll(id, NULL, 10)));
            strvec pk = STRVEC_INIT;
            strvec_push(&pk, serial->name);
            rc = fetch_row(c, t, w, &pk, &it->db);
            strvec_free(&pk);
            json_decref(w);
        }
        free(id);
    }
    if (!rc) {
        it->inserted = 1;
        c->table_rows++;
    }
    free(q);
    free(cl);
    sbuf_free(&sql);
    free(row);
    strvec_free(&scratch);
    strvec_free(&cols);
    return rc;
}

/* upsert: set the given columns of an existing row. */
static int update_existing(seed_ctx *c, seed_item *it)
{
    const table *t = it->st->t;
    strvec tmp = STRVEC_INIT;
    strvec given = STRVEC_INIT;
    item_given(it, &given);
    const strvec *key = seed_table_key(it->st, &given, &tmp);
    strvec_free(&given);
    const strvec *match = t->pk.n ? &t->pk : key;
    strvec set = STRVEC_INIT;
    const char *k;
    json_t *v;
    json_object_foreach(it->vals, k, v)
    {
        if ((match && strvec_find(match, k) >= 0) || (key && strvec_find(key, k) >= 0) ||
            (it->gen && json_object_get(it->gen, k)))
            continue;
        strvec_push(&set, k);
    }
    int rc = 0;
    if (set.n && match) {
        strata_value *params = xcalloc(set.n + match->n + 1, sizeof *params);
        strvec scratch = STRVEC_INIT;
        sbuf sql = SBUF_INIT;
        char *q = qi(c, t->name);
        sbuf_addf(&sql, "UPDATE %s SET ", q);
        free(q);
        size_t np = 0;
        rc = convert_item(c, it, &set, params, &scratch);
        np = set.n;
        for (size_t i = 0; i < set.n; i++) {
            q = qi(c, set.v[i]);
            sbuf_addf(&sql, "%s%s = ?", i ? ", " : "", q);
            free(q);
        }
        for (size_t i = 0; !rc && i < match->n; i++) {
            json_t *mv = json_object_get(it->db, match->v[i]);
            const char *why;
            q = qi(c, match->v[i]);
            sbuf_addf(&sql, " %s %s", i ? "AND" : "WHERE", q);
            free(q);
            if (!mv || json_is_null(mv)) {
                sbuf_add(&sql, " IS NULL");
                continue;
            }
            sbuf_add(&sql, " = ?");
            rc = seed_convert_json(c->d, &c->s, table_column(t, match->v[i]), mv, &params[np++],
                                   &scratch, &why) != 0
                     ? item_error(c, it, match->v[i], "%s", why)
                     : 0;
        }
        if (!rc) {
            rc = strata_conn_execp(c->conn, sbuf_str(&sql), params, np, NULL);
            if (rc)
                strata_error_prefix("%s: table '%s', row %zu (%s): ", c->path, t->name, it->pos + 1,
                                    it->where);
        }
        if (!rc) {
            it->st->updated++;
            for (size_t i = 0; i < set.n; i++)
                json_object_set(it->db, set.v[i], json_object_get(it->vals, set.v[i]));
        }
        free(params);
        strvec_free(&scratch);
        sbuf_free(&sql);
    }
    strvec_free(&set);
    strvec_free(&tmp);
    return rc;
}

/* See load.h. First every row's status and values are settled (which may
 * resolve rows of tables loaded earlier); then, in document order, existing
 * rows are skipped or updated, rows that must be read back are inserted one
 * by one, and runs of other new rows with the same columns go to the bulk
 * loader. */
int load_doc_rows(seed_ctx *c, seed_table *st)
{
    for (size_t i = 0; i < st->nitems; i++) {
        seed_item *it = st->items[i];
        int rc = item_status(c, it);
        if (!rc && (it->status == ST_NEW || (it->status == ST_EXISTING && it->mode == MODE_UPSERT)))
            rc = item_resolve(c, it);
        if (rc)
            return rc;
    }
    size_t i = 0;
    while (i < st->nitems) {
        seed_item *it = st->items[i];
        int rc = 0;
        if (it->status == ST_SKIPPED || (it->status == ST_EXISTING && it->mode != MODE_UPSERT)) {
            st->skipped++;
            i++;
            continue;
        }
        if (it->status == ST_EXISTING) {
            rc = update_existing(c, it);
            i++;
        } else if (needs_readback(it)) {
            rc = insert_one(c, it);
            st->inserted += rc ? 0 : 1;
            i++;
        } else {
            /* A run of new rows with the same columns: one bulk load. */
            strvec cols = STRVEC_INIT;
            item_columns(it, &cols);
            size_t j = i + 1;
            while (j < st->nitems) {
                seed_item *nx = st->items[j];
                if (nx->status != ST_NEW || needs_readback(nx))
                    break;
                strvec nc = STRVEC_INIT;
                item_columns(nx, &nc);
                int same = strvec_equal(&cols, &nc);
                strvec_free(&nc);
                if (!same)
                    break;
                j++;
            }
            doc_stream ds = {c, st, i, j, &cols, STRVEC_INIT};
            int64_t loaded = 0;
            if (cols.n == 0) {
                for (size_t k = i; k < j && !rc; k++)
                    rc = insert_one(c, st->items[k]);
                loaded = rc ? 0 : (int64_t)(j - i);
            } else {
                rc = seed_bulk_load(c->conn, st->t->name, (const char *const *)cols.v, cols.n,
                                    doc_next, &ds, &loaded, &c->split);
            }
            strvec_free(&ds.scratch);
            strvec_free(&cols);
            if (!rc && strstr(strata_error_message(), c->path) == NULL)
                strata_error_clear();
            if (rc && !strstr(strata_error_message(), c->path))
                strata_error_prefix("%s: ", c->path);
            st->inserted += loaded;
            i = j;
        }
        if (rc)
            return rc;
    }
    return 0;
}
