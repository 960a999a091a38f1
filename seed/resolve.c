/*
 * resolve.c - phase 2 of the seed loader, before writing: each row's
 * status (new, existing by its key, or skipped with the row it belongs to)
 * and its values (generated ids, references, lookups).
 *
 * Resolution is on demand and recursive: a reference resolves the row it
 * names first, so rows are settled in whatever order their references
 * need; `busy` guards against loops.
 */
#include "load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lookup_value(seed_ctx *c, seed_item *it, json_t *spec, json_t **out);

/* Read one row of `t` matching `where` (column -> JSON values), as a JSON
 * object; *out NULL when there is none. */
int fetch_row(seed_ctx *c, const table *t, json_t *where, const strvec *cols, json_t **out)
{
    *out = NULL;
    sbuf sql = SBUF_INIT;
    char *q = qi(c, t->name);
    sbuf_addf(&sql, "SELECT * FROM %s", q);
    free(q);
    strata_value *params = xcalloc(cols->n + 1, sizeof *params);
    strvec scratch = STRVEC_INIT;
    size_t np = 0;
    int rc = 0;
    for (size_t i = 0; i < cols->n; i++) {
        const column *col = table_column(t, cols->v[i]);
        json_t *v = json_object_get(where, cols->v[i]);
        q = qi(c, cols->v[i]);
        sbuf_addf(&sql, " %s %s", i ? "AND" : "WHERE", q);
        free(q);
        if (!v || json_is_null(v)) {
            sbuf_add(&sql, " IS NULL");
            continue;
        }
        const char *why;
        if (seed_convert_json(c->d, &c->s, col, v, &params[np], &scratch, &why) != 0) {
            char *b = seed_json_brief(v);
            rc = strata_set_error(STRATA_EINPUT, "%s: table '%s', column '%s': %s (value %s)",
                                  c->path, t->name, cols->v[i], why, b);
            free(b);
            break;
        }
        np++;
        sbuf_add(&sql, " = ?");
    }
    sbuf_add(&sql, " LIMIT 1");
    strata_rows *rows = NULL;
    if (!rc)
        rc = strata_conn_query(c->conn, sbuf_str(&sql), params, np, &rows);
    if (!rc) {
        int r = strata_rows_next(rows);
        if (r < 0)
            rc = r;
        else if (r == 1) {
            json_t *o = json_object();
            for (size_t i = 0; i < strata_rows_ncols(rows); i++)
                json_object_set_new(o, strata_rows_colname(rows, i),
                                    seed_value_to_json(strata_rows_value(rows, i)));
            *out = o;
        }
    }
    strata_rows_free(rows);
    sbuf_free(&sql);
    free(params);
    strvec_free(&scratch);
    return rc;
}

/* The value of `col` of the row an alias names. SKIP_ROW when that row was
 * skipped (its values are unknown). */
int alias_value(seed_ctx *c, seed_item *it, const char *col, json_t **out)
{
    *out = NULL;
    int rc = item_status(c, it);
    if (rc)
        return rc;
    if (it->status == ST_SKIPPED)
        return SKIP_ROW;
    if (it->status == ST_NEW && !it->vals && !it->busy) {
        rc = item_resolve(c, it);
        if (rc)
            return rc;
    }
    json_t *v = NULL;
    if (it->db)
        v = json_object_get(it->db, col);
    if (!v && it->vals)
        v = json_object_get(it->vals, col);
    if (!v && !it->db) {
        /* Not resolved yet (a reference back to a row being settled): a
         * literal or generated value of the row itself will do. */
        json_t *raw = json_object_get(it->row, col);
        if (raw && (!json_is_object(raw) || !json_object_size(raw) || is_generator(raw) ||
                    json_object_iter_key(json_object_iter(raw))[0] != '$')) {
            json_t *r = NULL;
            rc = resolve_value(c, it, col, raw, &r);
            if (rc)
                return rc;
            *out = r;
            return 0;
        }
    }
    if (!v && it->inserted && it->st->t->pk.n) {
        /* A column the database filled in (a default): read the row back. */
        json_t *w = json_object();
        for (size_t i = 0; i < it->st->t->pk.n; i++) {
            json_t *pv = json_object_get(it->vals, it->st->t->pk.v[i]);
            if (pv)
                json_object_set(w, it->st->t->pk.v[i], pv);
        }
        if (json_object_size(w) == it->st->t->pk.n) {
            rc = fetch_row(c, it->st->t, w, &it->st->t->pk, &it->db);
            if (!rc && it->db)
                v = json_object_get(it->db, col);
        }
        json_decref(w);
        if (rc)
            return rc;
    }
    if (!v)
        return item_error(c, it, col,
                          "is referenced%s%s but its value is not known yet (it is made by the "
                          "database when the row is inserted, which happens later)",
                          it->alias ? " through the alias " : "", it->alias ? it->alias : "");
    *out = json_incref(v);
    return 0;
}

static int ref_value(seed_ctx *c, const char *ref, json_t **out)
{
    seed_item *target;
    const char *col;
    if (seed_item_find(c, ref, &target, &col) != 0)
        return strata_set_error(STRATA_EINPUT, "%s: $ref to unknown alias '%s'", c->path, ref);
    if (!col) {
        const strvec *pk = &target->st->t->pk;
        if (pk->n != 1)
            return strata_set_error(STRATA_EINPUT,
                                    "%s: $ref '%s': table '%s' has %s primary key; name the "
                                    "column as '%s.<column>'",
                                    c->path, ref, target->st->t->name, pk->n ? "a composite" : "no",
                                    ref);
        col = pk->v[0];
    }
    return alias_value(c, target, col, out);
}

/* See load.h. Generated values are made once per row and column (kept in
 * it->gen, so a value referred to twice is the same); $ref and $insert
 * resolve the row they name first, $lookup reads the database, $concat
 * joins its resolved parts as text. */
int resolve_value(seed_ctx *c, seed_item *it, const char *col, json_t *v, json_t **out)
{
    *out = NULL;
    if (!json_is_object(v) || !json_object_size(v) ||
        json_object_iter_key(json_object_iter(v))[0] != '$') {
        *out = json_incref(v);
        return 0;
    }
    json_t *x;
    if (it && it->gen && (x = json_object_get(it->gen, col)) != NULL && is_generator(v)) {
        *out = json_incref(x);
        return 0;
    }
    json_t *made = NULL;
    if ((x = json_object_get(v, "$id")) != NULL) {
        char ulid[27];
        seed_ulid(ulid);
        const char *prefix = json_string_value(x);
        made = *prefix ? json_sprintf("%s_%s", prefix, ulid) : json_string(ulid);
    } else if (json_object_get(v, "$uuid")) {
        char u[37];
        seed_uuid(u);
        made = json_string(u);
    } else if (json_object_get(v, "$now")) {
        made = json_string(c->now);
    } else if ((x = json_object_get(v, "$password")) != NULL) {
        char *h = NULL;
        int rc = seed_scrypt_kdf(json_string_value(x), 1, 1, 1, NULL, &h);
        if (rc)
            return rc;
        made = json_string(h);
        free(h);
    }
    if (made) {
        if (it) {
            if (!it->gen)
                it->gen = json_object();
            json_object_set(it->gen, col, made);
        }
        *out = made;
        return 0;
    }
    if ((x = json_object_get(v, "$ref")) != NULL)
        return ref_value(c, json_string_value(x), out);
    if ((x = json_object_get(v, "$lookup")) != NULL)
        return lookup_value(c, it, x, out);
    if ((x = json_object_get(v, "$insert")) != NULL) {
        char key[32];
        snprintf(key, sizeof key, "@%p", (void *)v);
        json_t *ix = json_object_get(c->inline_items, key);
        if (!ix)
            return strata_set_error(STRATA_EINPUT, "%s: $insert outside a row", c->path);
        seed_item *target = c->items[json_integer_value(ix)];
        if (target->st->t->pk.n != 1)
            return item_error(c, target, NULL, "an $insert row needs a one-column primary key");
        return alias_value(c, target, target->st->t->pk.v[0], out);
    }
    if ((x = json_object_get(v, "$concat")) != NULL) {
        sbuf b = SBUF_INIT;
        size_t i;
        json_t *p;
        json_array_foreach(x, i, p)
        {
            json_t *r;
            int rc = resolve_value(c, NULL, col, p, &r);
            if (rc) {
                sbuf_free(&b);
                return rc;
            }
            if (json_is_string(r))
                sbuf_add(&b, json_string_value(r));
            else if (json_is_integer(r))
                sbuf_addf(&b, "%lld", (long long)json_integer_value(r));
            else if (json_is_real(r)) {
                char num[32];
                sbuf_add(&b, double_text(json_real_value(r), num));
            } else if (json_is_boolean(r))
                sbuf_add(&b, json_is_true(r) ? "true" : "false");
            json_decref(r);
        }
        *out = json_string(sbuf_str(&b));
        sbuf_free(&b);
        return 0;
    }
    return strata_set_error(STRATA_EINPUT, "%s: unknown generator in %s", c->path,
                            it ? it->where : "an update");
}

/* $lookup {"table", "where", "column"}: the column (default: a one-column
 * primary key) of the row matching `where`, whose values may be $ values
 * themselves. Results are cached by the spec's text; no row is an error. */
static int lookup_value(seed_ctx *c, seed_item *it, json_t *spec, json_t **out)
{
    char *cache_key = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *hit = json_object_get(c->lookups, cache_key);
    if (hit) {
        free(cache_key);
        *out = json_incref(hit);
        return 0;
    }
    const char *tn = json_string_value(json_object_get(spec, "table"));
    const table *t = schema_table(&c->s, tn);
    json_t *where = json_object_get(spec, "where");
    json_t *cn = json_object_get(spec, "column");
    const char *colname = cn ? json_string_value(cn) : (t->pk.n == 1 ? t->pk.v[0] : NULL);
    if (!colname) {
        free(cache_key);
        return strata_set_error(STRATA_EINPUT, "%s: $lookup in '%s' needs \"column\"", c->path, tn);
    }
    json_t *w = json_object();
    strvec cols = STRVEC_INIT;
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach(where, k, v)
    {
        json_t *r;
        rc = resolve_value(c, it, k, v, &r);
        if (rc)
            break;
        json_object_set_new(w, k, r);
        strvec_push(&cols, k);
    }
    json_t *row = NULL;
    if (!rc)
        rc = fetch_row(c, t, w, &cols, &row);
    if (!rc && !row) {
        char *b = seed_json_brief(where);
        rc = strata_set_error(STRATA_EINPUT, "%s: %s: $lookup found no row in '%s' where %s",
                              c->path, it ? it->where : "update", tn, b);
        free(b);
    }
    if (!rc) {
        json_t *val = json_object_get(row, colname);
        *out = json_incref(val ? val : json_null());
        json_object_set(c->lookups, cache_key, *out);
    }
    json_decref(row);
    json_decref(w);
    strvec_free(&cols);
    free(cache_key);
    return rc;
}

/* Resolve every value of a row (a new row, before it is inserted). */
int item_resolve(seed_ctx *c, seed_item *it)
{
    if (it->vals)
        return 0;
    if (it->busy)
        return item_error(c, it, NULL, "its references form a loop");
    it->busy = 1;
    json_t *vals = json_object();
    int rc = 0;
    const table *t = it->st->t;
    for (size_t i = 0; i < t->ncols && !rc; i++) {
        const char *name = t->cols[i].name;
        json_t *v = json_object_get(it->row, name), *r = NULL;
        int from_parent = it->parent_fk && strvec_find(&it->parent_fk->cols, name) >= 0;
        if (!v && !from_parent)
            continue;
        if (strvec_find(&it->st->deferred_cols, name) >= 0 && (from_parent || !json_is_null(v))) {
            strvec_push(&it->deferred, name);
            continue;
        }
        if (from_parent) {
            size_t k = (size_t)strvec_find(&it->parent_fk->cols, name);
            rc = alias_value(c, it->parent, it->parent_fk->ref_cols.v[k], &r);
        } else {
            rc = resolve_value(c, it, name, v, &r);
        }
        if (rc == SKIP_ROW)
            break;
        if (rc) {
            if (!strstr(strata_error_message(), "table '"))
                item_error(c, it, name, "%s", strata_error_message());
            break;
        }
        /* A reference to a row of this table that comes later: set it after. */
        if (json_is_object(v) && json_object_get(v, "$ref") && !json_is_null(r)) {
            seed_item *target;
            const char *tcol;
            if (seed_item_find(c, json_string_value(json_object_get(v, "$ref")), &target, &tcol) ==
                    0 &&
                target->st == it->st && target->pos > it->pos && t->cols[i].nullable) {
                strvec_push(&it->deferred, name);
                json_decref(r);
                continue;
            }
        }
        json_object_set_new(vals, name, r);
    }
    it->busy = 0;
    if (rc) {
        json_decref(vals);
        if (rc == SKIP_ROW) {
            if (it->mode == MODE_INSERT)
                return item_error(c, it, NULL,
                                  "refers to a row that was skipped as already present");
            it->status = ST_SKIPPED;
            return 0;
        }
        return rc;
    }
    it->vals = vals;
    return 0;
}

/* Is the item's key made of generated values (so it cannot be matched)? */
static int key_generated(seed_item *it, const strvec *key)
{
    if (!key)
        return 0;
    for (size_t i = 0; i < key->n; i++) {
        json_t *v = json_object_get(it->row, key->v[i]);
        int from_parent = it->parent_fk && strvec_find(&it->parent_fk->cols, key->v[i]) >= 0;
        if (from_parent)
            continue;
        if (!v || is_generator(v))
            return 1;
    }
    return 0;
}

/* Settle whether a row is new, exists already (by its key) or is skipped. */
int item_status(seed_ctx *c, seed_item *it)
{
    if (it->status != ST_UNKNOWN)
        return 0;
    if (it->mode == MODE_INSERT) {
        it->status = ST_NEW;
        return 0;
    }
    if (it->busy)
        return 0; /* asked again while settling it: undecided for now */
    strvec tmp = STRVEC_INIT;
    strvec given = STRVEC_INIT;
    item_given(it, &given);
    const strvec *key = seed_table_key(it->st, &given, &tmp);
    strvec_free(&given);
    int rc = 0;
    if (it->owner) {
        it->busy = 1;
        rc = item_status(c, it->owner);
        it->busy = 0;
        if (rc)
            goto out;
        if ((it->owner->status == ST_EXISTING || it->owner->status == ST_SKIPPED) &&
            key_generated(it, key)) {
            it->status = ST_SKIPPED;
            goto out;
        }
    }
    if (key_generated(it, key)) {
        it->status = ST_NEW;
        goto out;
    }
    rc = item_resolve(c, it);
    if (rc || it->status == ST_SKIPPED)
        goto out;
    strvec all = STRVEC_INIT;
    if (!key) {
        const char *k;
        json_t *v;
        json_object_foreach(it->vals, k, v) strvec_push(&all, k);
        key = &all;
    }
    json_t *row = NULL;
    rc = fetch_row(c, it->st->t, it->vals, key, &row);
    strvec_free(&all);
    if (rc)
        goto out;
    it->status = row ? ST_EXISTING : ST_NEW;
    it->db = row;
    if (row) {
        /* Values that referred to this row's own generated key were made
         * before it was found: resolve again against the existing row. */
        json_decref(it->vals);
        it->vals = NULL;
    }
out:
    strvec_free(&tmp);
    return rc;
}
