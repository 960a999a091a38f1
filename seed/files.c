/*
 * files.c - phase 2 of the seed loader: the rows of a table's CSV and
 * NDJSON files (source.c reads them).
 *
 * With insert, rows stream straight into the driver's bulk loader (NDJSON
 * in runs of rows with the same columns); with insert_missing and upsert
 * they go row by row, matched by the table's key.
 */
#include "load.h"

#include <stdlib.h>
#include <string.h>

typedef struct file_stream {
    seed_ctx *c;
    seed_table *st;
    seed_file *f;
    seed_source *src;
    int *map; /* CSV field -> table column index */
    const strvec *cols;
    strvec scratch;
    json_t *pending; /* NDJSON: a row with other columns than this run */
    int eof;
} file_stream;

static int file_error(file_stream *fs, const char *col, const char *why, const char *value)
{
    return strata_set_error(STRATA_EINPUT,
                            "%s: table '%s', row %lld (%s line %lld), column '%s': "
                            "%s%s%s%s",
                            fs->c->path, fs->st->t->name, (long long)fs->c->table_rows + 1,
                            source_path(fs->src), source_line(fs->src), col, why,
                            value ? " (value " : "", value ? value : "", value ? ")" : "");
}

/* Resolve an NDJSON row's values ($id, $uuid, $now, $ref to known rows). */
static int ndjson_value(file_stream *fs, const char *col, json_t *v, json_t **out)
{
    if (json_is_object(v) && json_object_size(v) &&
        json_object_iter_key(json_object_iter(v))[0] == '$') {
        if (json_object_get(v, "$lookup") || json_object_get(v, "$insert"))
            return file_error(fs, col, "$lookup and $insert are not allowed in files", NULL);
        json_t *ref = json_object_get(v, "$ref");
        if (ref) {
            seed_item *target;
            const char *tcol;
            if (!json_is_string(ref) ||
                seed_item_find(fs->c, json_string_value(ref), &target, &tcol) != 0)
                return file_error(fs, col, "$ref to an unknown alias", json_string_value(ref));
            if (!target->inserted && target->status != ST_EXISTING)
                return file_error(fs, col, "$ref to a row that is not loaded yet",
                                  json_string_value(ref));
        }
        int rc = resolve_value(fs->c, NULL, col, v, out);
        return rc == SKIP_ROW ? file_error(fs, col, "$ref to a skipped row", NULL) : rc;
    }
    *out = json_incref(v);
    return 0;
}

static int ndjson_columns_of(file_stream *fs, json_t *obj, strvec *out)
{
    const table *t = fs->st->t;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (!table_column(t, k)) {
            char *w = xasprintf("%s line %lld", source_path(fs->src), source_line(fs->src));
            int rc = unknown_column(fs->c, w, t, k);
            free(w);
            return rc;
        }
    }
    for (size_t i = 0; i < t->ncols; i++)
        if (json_object_get(obj, t->cols[i].name))
            strvec_push(out, t->cols[i].name);
    return 0;
}

/* Convert the current CSV record into `row` (`cols` order). */
static int file_convert(file_stream *fs, strata_value *row)
{
    seed_ctx *c = fs->c;
    const table *t = fs->st->t;
    for (size_t i = 0; i < fs->cols->n; i++) {
        const column *col = &t->cols[fs->map[i]];
        const char *why = NULL;
        size_t len;
        int null;
        const char *text = source_field(fs->src, i, &len, &null);
        if (seed_convert_text(c->d, &c->s, col, text, len, null, &row[i], &fs->scratch, &why) !=
            0) {
            char *shown = xasprintf("'%.60s'", text);
            int rc = file_error(fs, col->name, why, shown);
            free(shown);
            return rc;
        }
        if (type_is_serial(col->type.kind) && row[i].type != STRATA_VNULL)
            fs->st->serial_given[fs->map[i]] = 1;
    }
    return 0;
}

static int csv_next(void *ctx, strata_value *row)
{
    file_stream *fs = ctx;
    strvec_free(&fs->scratch);
    int rc = source_next(fs->src);
    if (rc <= 0) {
        fs->eof = 1;
        return rc;
    }
    rc = file_convert(fs, row);
    if (rc)
        return rc;
    fs->c->table_rows++;
    progress_tick(fs->c, fs->st->t->name, fs->c->table_rows, 0);
    return 1;
}

/* NDJSON rows: the resolved JSON values live in `keep` until the next row. */
static int ndjson_fill(file_stream *fs, json_t *obj, strata_value *row, json_t **keep)
{
    seed_ctx *c = fs->c;
    const table *t = fs->st->t;
    json_decref(*keep);
    *keep = json_object();
    for (size_t i = 0; i < fs->cols->n; i++) {
        const column *col = table_column(t, fs->cols->v[i]);
        json_t *r;
        int rc = ndjson_value(fs, col->name, json_object_get(obj, col->name), &r);
        if (rc)
            return rc;
        json_object_set_new(*keep, col->name, r);
        const char *why;
        if (seed_convert_json(c->d, &c->s, col, r, &row[i], &fs->scratch, &why) != 0) {
            char *b = seed_json_brief(r);
            rc = file_error(fs, col->name, why, b);
            free(b);
            return rc;
        }
        if (type_is_serial(col->type.kind) && row[i].type != STRATA_VNULL)
            fs->st->serial_given[table_column_pos(t, col->name)] = 1;
    }
    return 0;
}

typedef struct ndjson_stream {
    file_stream *fs;
    json_t *keep;
} ndjson_stream;

static int ndjson_next(void *ctx, strata_value *row)
{
    ndjson_stream *ns = ctx;
    file_stream *fs = ns->fs;
    strvec_free(&fs->scratch);
    json_t *obj = fs->pending;
    if (!obj) {
        int rc = source_next(fs->src);
        if (rc <= 0) {
            fs->eof = 1;
            return rc;
        }
        obj = json_incref(source_object(fs->src));
    } else {
        fs->pending = NULL;
    }
    strvec cols = STRVEC_INIT;
    int rc = ndjson_columns_of(fs, obj, &cols);
    if (!rc && !strvec_equal(&cols, fs->cols)) {
        /* Other columns: end this run; the row starts the next one. */
        fs->pending = obj;
        strvec_free(&cols);
        return 0;
    }
    strvec_free(&cols);
    if (!rc)
        rc = ndjson_fill(fs, obj, row, &ns->keep);
    json_decref(obj);
    if (rc)
        return rc;
    fs->c->table_rows++;
    progress_tick(fs->c, fs->st->t->name, fs->c->table_rows, 0);
    return 1;
}

/* " WHERE "k1" = ? AND "k2" IS NULL": the key columns of a file row,
 * NULL (or absent) as IS NULL; their values go to params[*np...]. */
static void where_key(const seed_ctx *c, sbuf *sql, const strvec *k, const strvec *cols,
                      const strata_value *row, strata_value *params, size_t *np)
{
    for (size_t i = 0; i < k->n; i++) {
        int pos = strvec_find(cols, k->v[i]);
        char *qc = qi(c, k->v[i]);
        sbuf_addf(sql, " %s %s", i ? "AND" : "WHERE", qc);
        free(qc);
        if (pos < 0 || row[pos].type == STRATA_VNULL) {
            sbuf_add(sql, " IS NULL");
        } else {
            sbuf_add(sql, " = ?");
            params[(*np)++] = row[pos];
        }
    }
}

/* insert_missing / upsert from a file: row by row, matched by key. */
static int file_row_by_key(file_stream *fs, const strvec *cols, strata_value *row,
                           const strvec *key)
{
    seed_ctx *c = fs->c;
    const table *t = fs->st->t;
    char *q = qi(c, t->name);
    sbuf sql = SBUF_INIT;
    strata_value *params = xcalloc(cols->n + 1, sizeof *params);
    size_t np = 0;
    sbuf_addf(&sql, "SELECT 1 FROM %s", q);
    const strvec *k = key ? key : cols;
    where_key(c, &sql, k, cols, row, params, &np);
    sbuf_add(&sql, " LIMIT 1");
    char *found = NULL;
    int rc = strata_conn_query_string(c->conn, sbuf_str(&sql), params, np, &found);
    sbuf_reset(&sql);
    np = 0;
    if (!rc && found && fs->f->mode == MODE_UPSERT) {
        sbuf_addf(&sql, "UPDATE %s SET ", q);
        int any = 0;
        for (size_t i = 0; i < cols->n; i++) {
            if (strvec_find(k, cols->v[i]) >= 0)
                continue;
            char *qc = qi(c, cols->v[i]);
            sbuf_addf(&sql, "%s%s = ?", any ? ", " : "", qc);
            free(qc);
            params[np++] = row[i];
            any = 1;
        }
        strata_value *all = xcalloc(np + k->n + 1, sizeof *all);
        memcpy(all, params, np * sizeof *all);
        size_t na = np;
        where_key(c, &sql, k, cols, row, all, &na);
        if (any) {
            rc = strata_conn_execp(c->conn, sbuf_str(&sql), all, na, NULL);
            if (!rc)
                fs->st->updated++;
        }
        free(all);
    } else if (!rc && found) {
        fs->st->skipped++;
    } else if (!rc) {
        char *cl = column_list(c, cols);
        sbuf_addf(&sql, "INSERT INTO %s (%s) VALUES (", q, cl);
        free(cl);
        params_into(&sql, cols->n);
        sbuf_addc(&sql, ')');
        rc = strata_conn_execp(c->conn, sbuf_str(&sql), row, cols->n, NULL);
        if (!rc)
            fs->st->inserted++;
    }
    if (rc && !strstr(strata_error_message(), c->path))
        strata_error_prefix("%s: table '%s' (%s line %lld): ", c->path, t->name,
                            source_path(fs->src), source_line(fs->src));
    free(found);
    free(q);
    free(params);
    sbuf_free(&sql);
    return rc;
}

/* A CSV file: its header names the columns. With insert the rows stream
 * into the bulk loader; the other modes go row by row, by key. */
static int load_csv(file_stream *fs, strvec *cols, strvec *tmp)
{
    seed_ctx *c = fs->c;
    seed_table *st = fs->st;
    int rc = 0;
    const strvec *h = source_columns(fs->src);
    fs->map = xcalloc(h->n + 1, sizeof *fs->map);
    for (size_t i = 0; i < h->n && !rc; i++) {
        int pos = table_column_pos(st->t, h->v[i]);
        if (pos < 0) {
            char *w = xasprintf("%s (header)", fs->f->path);
            rc = unknown_column(c, w, st->t, h->v[i]);
            free(w);
        }
        fs->map[i] = pos;
        strvec_push(cols, h->v[i]);
    }
    fs->cols = cols;
    const strvec *key = seed_table_key(st, cols, tmp);
    if (!rc && fs->f->mode == MODE_INSERT) {
        int64_t loaded = 0;
        rc = seed_bulk_load(c->conn, st->t->name, (const char *const *)cols->v, cols->n, csv_next,
                            fs, &loaded, &c->split);
        st->inserted += loaded;
    } else if (!rc) {
        strata_value *row = xcalloc(cols->n + 1, sizeof *row);
        while (!rc && (rc = source_next(fs->src)) == 1) {
            strvec_free(&fs->scratch);
            rc = file_convert(fs, row);
            if (!rc)
                rc = file_row_by_key(fs, cols, row, key);
            c->table_rows++;
            progress_tick(c, st->t->name, c->table_rows, 0);
        }
        free(row);
    }
    return rc;
}

/* An NDJSON file, in runs of rows with the same columns: with insert each
 * run streams into the bulk loader; the other modes go row by row, by key. */
static int load_ndjson(file_stream *fs, strvec *cols, strvec *tmp)
{
    seed_ctx *c = fs->c;
    seed_table *st = fs->st;
    int rc = 0;
    ndjson_stream ns = {fs, NULL};
    while (!rc && !fs->eof) {
        if (!fs->pending) {
            rc = source_next(fs->src);
            if (rc <= 0)
                break;
            fs->pending = json_incref(source_object(fs->src));
        }
        strvec_free(cols);
        rc = ndjson_columns_of(fs, fs->pending, cols);
        if (rc)
            break;
        fs->cols = cols;
        if (fs->f->mode == MODE_INSERT) {
            int64_t loaded = 0;
            rc = seed_bulk_load(c->conn, st->t->name, (const char *const *)cols->v, cols->n,
                                ndjson_next, &ns, &loaded, &c->split);
            st->inserted += loaded;
        } else {
            strata_value *row = xcalloc(cols->n + 1, sizeof *row);
            strvec_free(&fs->scratch);
            strvec_free(tmp);
            const strvec *key = seed_table_key(st, cols, tmp);
            rc = ndjson_fill(fs, fs->pending, row, &ns.keep);
            json_decref(fs->pending);
            fs->pending = NULL;
            if (!rc)
                rc = file_row_by_key(fs, cols, row, key);
            free(row);
            c->table_rows++;
        }
    }
    json_decref(ns.keep);
    json_decref(fs->pending);
    return rc;
}

int load_file(seed_ctx *c, seed_table *st, seed_file *f)
{
    file_stream fs;
    memset(&fs, 0, sizeof fs);
    fs.c = c;
    fs.st = st;
    fs.f = f;
    int rc = source_open(f->path, &fs.src);
    if (rc)
        return strata_error_prefix("%s: %s: ", c->path, f->where);
    strvec cols = STRVEC_INIT;
    strvec tmp = STRVEC_INIT;
    rc = source_is_csv(fs.src) ? load_csv(&fs, &cols, &tmp) : load_ndjson(&fs, &cols, &tmp);
    if (rc > 0)
        rc = 0;
    strvec_free(&fs.scratch);
    strvec_free(&cols);
    strvec_free(&tmp);
    free(fs.map);
    source_close(fs.src);
    return rc;
}
