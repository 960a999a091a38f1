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

/* Convert a row's values of `cols` (their columns in `colp` when the caller
 * looked them up once for a run, else NULL) into `row`. */
static int convert_cols(seed_ctx *c, seed_item *it, const strvec *cols, const column *const *colp,
                        strata_value *row, strvec *scratch)
{
    for (size_t i = 0; i < cols->n; i++) {
        const column *col = colp ? colp[i] : table_column(it->st->t, cols->v[i]);
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

static int convert_item(seed_ctx *c, seed_item *it, const strvec *cols, strata_value *row,
                        strvec *scratch)
{
    return convert_cols(c, it, cols, NULL, row, scratch);
}

/* "<list>[i]" without printf: it is made for every streamed row. */
char *element_where(const char *list, size_t i)
{
    char num[24];
    size_t n = sizeof num;
    num[--n] = '\0';
    do
        num[--n] = (char)('0' + i % 10);
    while ((i /= 10) > 0);
    size_t ll = strlen(list), nl = sizeof num - 1 - n;
    char *w = xmalloc(ll + nl + 3);
    memcpy(w, list, ll);
    w[ll] = '[';
    memcpy(w + ll + 1, num + n, nl);
    w[ll + 1 + nl] = ']';
    w[ll + 2 + nl] = '\0';
    return w;
}

/*
 * The rows of a table in document order: the kept items (st->items) merged
 * by position with the rows of the table's streamed "rows" lists
 * (st->blocks), which are read again here and become transient items. A
 * kept row inside a list is skipped in the stream and given out from
 * st->items, followed by the rows nested in it.
 */
typedef struct row_iter {
    seed_ctx *c;
    seed_table *st;
    size_t k;        /* next kept item to give out */
    size_t b;        /* current (or next) block */
    int open;        /* reading block b */
    size_t i;        /* its next element */
    size_t kb;       /* its next kept element */
    size_t pos;      /* position of its next streamed row */
    int first;       /* for js_next_element */
    seed_item *back; /* given back by a run that it did not fit */
} row_iter;

static int iter_next(row_iter *ri, seed_item **out)
{
    seed_table *st = ri->st;
    *out = NULL;
    if (ri->back) {
        *out = ri->back;
        ri->back = NULL;
        return 0;
    }
    for (;;) {
        seed_item *kept = ri->k < st->nitems ? st->items[ri->k] : NULL;
        if (!ri->open) {
            if (ri->b < st->nblocks && (!kept || kept->pos >= st->blocks[ri->b].first_pos)) {
                seed_block *bl = &st->blocks[ri->b];
                int rc = js_seek(ri->c->js, &bl->at);
                if (!rc)
                    rc = js_expect(ri->c->js, '[', "'['");
                if (rc)
                    return rc;
                ri->open = 1;
                ri->i = ri->kb = 0;
                ri->pos = bl->first_pos;
                ri->first = 1;
                continue;
            }
            if (kept)
                ri->k++;
            *out = kept;
            return 0;
        }
        seed_block *bl = &st->blocks[ri->b];
        if (kept && kept->pos < ri->pos) {
            ri->k++;
            *out = kept;
            return 0;
        }
        int more = js_next_element(ri->c->js, &ri->first);
        if (more < 0)
            return more;
        if (!more) {
            ri->open = 0;
            ri->b++;
            continue;
        }
        if (ri->kb < bl->nkept && bl->kept[ri->kb]->array_index == ri->i) {
            /* kept: given out from st->items by its position */
            int rc = js_skip(ri->c->js);
            if (rc)
                return rc;
            ri->pos = bl->kept[ri->kb]->next_pos;
            ri->kb++;
            ri->i++;
            continue;
        }
        json_t *row;
        int rc = js_value(ri->c->js, &row);
        if (rc)
            return rc;
        seed_item *it = xcalloc(1, sizeof *it);
        it->st = st;
        it->row = row;
        it->where = element_where(bl->where, ri->i);
        it->pos = ri->pos++;
        it->mode = bl->mode;
        it->transient = 1;
        ri->i++;
        *out = it;
        return 0;
    }
}

/* The next row with its status settled and, when it is to be written, its
 * values resolved (kept items were settled before). NULL at the end. */
/* A streamed row to insert whose values are all literals, in a table
 * none of whose columns waits for the end: its values are the row itself
 * (what item_resolve would make of it, without making it). */
static int plain_insert(const seed_item *it)
{
    if (it->mode != MODE_INSERT || it->st->deferred_cols.n)
        return 0;
    const char *k;
    json_t *v;
    json_object_foreach(it->row, k, v)
    {
        if (k[0] == '$') /* "$optional": item_resolve takes only the table's columns */
            return 0;
        if (json_is_object(v) && json_object_size(v) &&
            json_object_iter_key(json_object_iter(v))[0] == '$')
            return 0;
    }
    return 1;
}

static int iter_take(row_iter *ri, seed_item **out)
{
    int rc = iter_next(ri, out);
    seed_item *it = *out;
    if (rc || !it || !it->transient || it->status != ST_UNKNOWN)
        return rc; /* kept rows were settled before; a row given back, when taken */
    if (plain_insert(it)) {
        it->status = ST_NEW;
        it->vals = json_incref(it->row);
        return 0;
    }
    rc = item_status(ri->c, it);
    if (!rc && (it->status == ST_NEW || (it->status == ST_EXISTING && it->mode == MODE_UPSERT)))
        rc = item_resolve(ri->c, it);
    if (rc) {
        item_free(it);
        *out = NULL;
    }
    return rc;
}

/* Done with a row: a transient one is freed, unless a value of it waits to
 * be set at the end (a deferred reference), which makes it an item. */
static void iter_release(seed_ctx *c, seed_item *it)
{
    if (!it || !it->transient)
        return;
    if (it->deferred.n && it->inserted) {
        it->transient = 0;
        c->items = xgrow(c->items, &c->cap, c->nitems + 1, sizeof(seed_item *));
        c->items[c->nitems++] = it;
        return;
    }
    item_free(it);
}

typedef struct doc_stream {
    seed_ctx *c;
    row_iter *ri;
    const strvec *cols;
    const column **colp; /* the columns of cols */
    strvec scratch;
    seed_item *prev; /* the row given last: its values are in use until the next call */
} doc_stream;

/* Can this row join a run of new rows with columns `cols`? (Its values are
 * columns of the table, so the same number and each present is the same
 * set; item_columns puts them in table order either way.) */
static int fits_run(const seed_item *it, const strvec *cols)
{
    if (it->status != ST_NEW || needs_readback(it) || json_object_size(it->vals) != cols->n)
        return 0;
    for (size_t i = 0; i < cols->n; i++)
        if (!json_object_get(it->vals, cols->v[i]))
            return 0;
    return 1;
}

static int doc_next(void *ctx, strata_value *row)
{
    doc_stream *ds = ctx;
    strvec_free(&ds->scratch);
    iter_release(ds->c, ds->prev);
    ds->prev = NULL;
    seed_item *it;
    int rc = iter_take(ds->ri, &it);
    if (rc)
        return rc;
    if (!it)
        return 0;
    if (!fits_run(it, ds->cols)) {
        ds->ri->back = it;
        return 0;
    }
    ds->prev = it;
    rc = convert_cols(ds->c, it, ds->cols, ds->colp, row, &ds->scratch);
    if (rc)
        return rc;
    it->inserted = 1;
    ds->c->table_rows++;
    progress_tick(ds->c, it->st->t->name, ds->c->table_rows, 0);
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

/* See load.h. First the status and values of every kept row are settled
 * (which may resolve rows of tables loaded earlier); then, in document
 * order, existing rows are skipped or updated, rows that must be read back
 * are inserted one by one, and runs of other new rows with the same
 * columns go to the bulk loader. Rows of streamed lists are read, settled
 * and written one at a time. */
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
    row_iter ri;
    memset(&ri, 0, sizeof ri);
    ri.c = c;
    ri.st = st;
    int rc = 0;
    for (;;) {
        seed_item *it;
        if ((rc = iter_take(&ri, &it)) != 0 || !it)
            break;
        if (it->status == ST_SKIPPED || (it->status == ST_EXISTING && it->mode != MODE_UPSERT)) {
            st->skipped++;
        } else if (it->status == ST_EXISTING) {
            rc = update_existing(c, it);
        } else if (needs_readback(it)) {
            rc = insert_one(c, it);
            st->inserted += rc ? 0 : 1;
        } else {
            /* A run of new rows with the same columns: one bulk load. */
            strvec cols = STRVEC_INIT;
            item_columns(it, &cols);
            int64_t loaded = 0;
            if (cols.n == 0) {
                rc = insert_one(c, it);
                loaded = rc ? 0 : 1;
            } else {
                ri.back = it;
                it = NULL;
                const column **colp = xcalloc(cols.n, sizeof *colp);
                for (size_t k = 0; k < cols.n; k++)
                    colp[k] = table_column(st->t, cols.v[k]);
                doc_stream ds = {c, &ri, &cols, colp, STRVEC_INIT, NULL};
                rc = seed_bulk_load(c->conn, st->t->name, (const char *const *)cols.v, cols.n,
                                    doc_next, &ds, &loaded, &c->split);
                strvec_free(&ds.scratch);
                free(colp);
                iter_release(c, ds.prev);
            }
            strvec_free(&cols);
            if (!rc && strstr(strata_error_message(), c->path) == NULL)
                strata_error_clear();
            if (rc && !strstr(strata_error_message(), c->path))
                strata_error_prefix("%s: ", c->path);
            st->inserted += loaded;
        }
        iter_release(c, it);
        if (rc)
            break;
    }
    if (rc && ri.back)
        iter_release(c, ri.back);
    return rc;
}
