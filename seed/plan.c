/*
 * plan.c - phase 1 of the seed loader: the plan. Nothing touches the
 * database but reading its schema (done before).
 *
 * Every row of the document, nested `$children` and inline `$insert` rows
 * included, becomes an item of its table; aliases are registered and every
 * `$ref` checked, literal values are checked against their columns, and
 * the tables are put in foreign-key order (file order breaking ties). A
 * cycle is broken at foreign keys whose columns are all nullable: those
 * columns are written NULL first and set at the end (finish.c).
 */
#include "load.h"
#include "migration.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int unknown_table(seed_ctx *c, const char *where, const char *name)
{
    const char **names = xcalloc(c->s.ntables + 1, sizeof(char *));
    for (size_t i = 0; i < c->s.ntables; i++)
        names[i] = c->s.tables[i].name;
    const char *near = str_nearest(name, names, c->s.ntables);
    free(names);
    if (near)
        return strata_set_error(STRATA_EINPUT,
                                "%s: %s: the database has no table '%s' (did you mean '%s'?)",
                                c->path, where, name, near);
    return strata_set_error(STRATA_EINPUT,
                            "%s: %s: the database has no table '%s' (are its migrations applied?)",
                            c->path, where, name);
}

static seed_table *seed_table_for(seed_ctx *c, const char *name, const char *where, int hint)
{
    for (size_t i = 0; i < c->ntables; i++)
        if (!strcmp(c->tables[i]->t->name, name))
            return c->tables[i];
    const table *t = schema_table(&c->s, name);
    if (!t) {
        unknown_table(c, where, name);
        return NULL;
    }
    seed_table *st = xcalloc(1, sizeof *st);
    st->t = t;
    st->order_hint = hint;
    st->serial_given = xcalloc(t->ncols + 1, 1);
    c->tables = xrealloc(c->tables, (c->ntables + 1) * sizeof *c->tables);
    c->tables[c->ntables++] = st;
    return st;
}

static void ctx_add_item(seed_ctx *c, seed_item *it)
{
    it->pos = it->st->nrows++;
    it->st->items = xgrow(it->st->items, &it->st->cap, it->st->nitems + 1, sizeof(seed_item *));
    it->st->items[it->st->nitems++] = it;
    c->items = xgrow(c->items, &c->cap, c->nitems + 1, sizeof(seed_item *));
    c->items[c->nitems++] = it;
}

static int walk_rows(seed_ctx *c, seed_table *st, json_t *rows, const char *where,
                     seed_item *parent, const fk_def *fk, int mode);
static int walk_row(seed_ctx *c, seed_table *st, json_t *row, const char *where, seed_item *parent,
                    const fk_def *fk, int mode, int keep);

static int check_special(seed_ctx *c, seed_item *it, const char *col, json_t *v, const char *where);

/* Create the item of an inline `{"$insert": {"table": t, "row": {...}}}`. */
static int walk_insert(seed_ctx *c, seed_item *owner, json_t *v, const char *where)
{
    json_t *spec = json_object_get(v, "$insert");
    json_t *tn = json_object_get(spec, "table");
    json_t *row = json_object_get(spec, "row");
    if (!json_is_object(spec) || !json_is_string(tn) || !json_is_object(row))
        return strata_set_error(STRATA_EINPUT,
                                "%s: %s: $insert needs {\"table\": name, \"row\": {...}}", c->path,
                                where);
    seed_table *st = seed_table_for(c, json_string_value(tn), where, 1 << 30);
    if (!st)
        return STRATA_EINPUT;
    json_t *one = json_array();
    json_array_append(one, row);
    size_t before = c->nitems;
    char *w = xasprintf("%s.$insert", where);
    int rc = walk_rows(c, st, one, w, NULL, NULL, owner->mode);
    free(w);
    json_decref(one);
    if (rc)
        return rc;
    seed_item *it = c->items[before];
    it->owner = owner;
    if (owner->st != st && strvec_find(&owner->st->after, st->t->name) < 0)
        strvec_push(&owner->st->after, st->t->name);
    it->referenced = 1;
    char key[32];
    snprintf(key, sizeof key, "@%p", (void *)v);
    json_object_set_new(c->inline_items, key, json_integer((json_int_t)before));
    return 0;
}

/* Check the shape of a special value (and of values nested in it). */
static int check_special(seed_ctx *c, seed_item *it, const char *col, json_t *v, const char *where)
{
    if (!json_is_object(v))
        return 0;
    const char *k;
    json_t *x;
    int special = 0;
    json_object_foreach(v, k, x)
    {
        if (k[0] == '$')
            special = 1;
    }
    if (!special)
        return 0;
    if (json_object_size(v) != 1 && !json_object_get(v, "$insert"))
        return strata_set_error(STRATA_EINPUT, "%s: %s: column '%s': a $ value has one key",
                                c->path, where, col);
    if ((x = json_object_get(v, "$id")) != NULL) {
        if (!json_is_string(x))
            return strata_set_error(STRATA_EINPUT, "%s: %s: column '%s': $id needs a prefix string",
                                    c->path, where, col);
        return 0;
    }
    if (json_object_get(v, "$uuid") || json_object_get(v, "$now"))
        return 0;
    if ((x = json_object_get(v, "$password")) != NULL)
        return json_is_string(x) ? 0
                                 : strata_set_error(STRATA_EINPUT,
                                                    "%s: %s: column '%s': $password needs a string",
                                                    c->path, where, col);
    if ((x = json_object_get(v, "$ref")) != NULL) {
        if (!json_is_string(x))
            return strata_set_error(STRATA_EINPUT,
                                    "%s: %s: column '%s': $ref needs an alias string", c->path,
                                    where, col);
        /* An alias seen before is checked now; only references forward
         * are remembered for check_refs (a streamed seed may hold many). */
        seed_item *target;
        const char *tcol;
        if (seed_item_find(c, json_string_value(x), &target, &tcol) == 0) {
            if (tcol && !table_column(target->st->t, tcol))
                return unknown_column(c, where, target->st->t, tcol);
            return 0;
        }
        strvec_push(&c->refs, json_string_value(x));
        strvec_pushf(&c->ref_where, "%s, column '%s'", where, col);
        return 0;
    }
    if ((x = json_object_get(v, "$lookup")) != NULL) {
        json_t *tn = json_object_get(x, "table"), *w = json_object_get(x, "where");
        json_t *cn = json_object_get(x, "column");
        if (!json_is_object(x) || !json_is_string(tn) || !json_is_object(w) ||
            (cn && !json_is_string(cn)))
            return strata_set_error(
                STRATA_EINPUT,
                "%s: %s: column '%s': $lookup needs {\"table\", \"where\": {...}, \"column\"}",
                c->path, where, col);
        const table *t = schema_table(&c->s, json_string_value(tn));
        if (!t)
            return unknown_table(c, where, json_string_value(tn));
        const char *wk;
        json_t *wv;
        json_object_foreach(w, wk, wv)
        {
            if (!table_column(t, wk))
                return unknown_column(c, where, t, wk);
            int rc = check_special(c, it, wk, wv, where);
            if (rc)
                return rc;
        }
        if (cn && !table_column(t, json_string_value(cn)))
            return unknown_column(c, where, t, json_string_value(cn));
        return 0;
    }
    if ((x = json_object_get(v, "$concat")) != NULL) {
        if (!json_is_array(x))
            return strata_set_error(STRATA_EINPUT, "%s: %s: column '%s': $concat needs a list",
                                    c->path, where, col);
        size_t i;
        json_t *p;
        json_array_foreach(x, i, p)
        {
            int rc = check_special(c, it, col, p, where);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (json_object_get(v, "$insert"))
        return it ? walk_insert(c, it, v, where)
                  : strata_set_error(STRATA_EINPUT, "%s: %s: $insert is only allowed in a row",
                                     c->path, where);
    const char *first = json_object_iter_key(json_object_iter(v));
    return strata_set_error(STRATA_EINPUT,
                            "%s: %s: column '%s': unknown generator '%s' (known: $id, $uuid, "
                            "$now, $password, $ref, $lookup, $concat, $insert)",
                            c->path, where, col, first);
}

/* Find the foreign key of `child` to `parent` for `$children` ("table" or
 * "table.column" when the child has several). */
static const fk_def *children_fk(seed_ctx *c, const table *child, const table *parent,
                                 const char *column, const char *where)
{
    const fk_def *found = NULL;
    int n = 0;
    sbuf names = SBUF_INIT;
    for (size_t i = 0; i < child->nfks; i++) {
        const fk_def *fk = &child->fks[i];
        if (strcmp(fk->ref_table, parent->name) != 0)
            continue;
        if (column && strvec_find(&fk->cols, column) < 0)
            continue;
        sbuf_addf(&names, "%s'%s'", n ? ", " : "", fk->cols.v[0]);
        found = fk;
        n++;
    }
    if (n == 1) {
        sbuf_free(&names);
        return found;
    }
    if (n == 0 && column && table_column(child, column) && parent->pk.n == 1) {
        /* No foreign key (a link table whose keys were dropped, as Medusa's
         * isolated-module migrations do): the named column refers to the
         * parent's primary key all the same. */
        sbuf_free(&names);
        fk_def *fk = xcalloc(1, sizeof *fk);
        fk->name = xasprintf("seed_%s_%s", child->name, column);
        strvec_push(&fk->cols, column);
        fk->ref_table = xstrdup(parent->name);
        strvec_push(&fk->ref_cols, parent->pk.v[0]);
        c->synthetic = xrealloc(c->synthetic, (c->nsynthetic + 1) * sizeof *c->synthetic);
        c->synthetic[c->nsynthetic++] = fk;
        return fk;
    }
    if (n == 0)
        strata_set_error(STRATA_EINPUT, "%s: %s: table '%s' has no foreign key to '%s'%s%s",
                         c->path, where, child->name, parent->name, column ? " on column " : "",
                         column ? column : "");
    else
        strata_set_error(STRATA_EINPUT,
                         "%s: %s: table '%s' has %d foreign keys to '%s' (columns %s): name one "
                         "as \"%s.<column>\"",
                         c->path, where, child->name, n, parent->name, sbuf_str(&names),
                         child->name);
    sbuf_free(&names);
    return NULL;
}

/* See load.h. A row's "$optional": [columns] - values for columns that only some
 * versions of a schema have (Medusa's product_sales_channel.id exists only
 * with its medusa_v2 flag on). Those the table lacks are dropped from the
 * row; the others load as usual. */
int seed_drop_absent_optional(seed_ctx *c, seed_table *st, json_t *row, const char *where)
{
    json_t *opt = json_object_get(row, "$optional");
    if (!opt)
        return 0;
    size_t i;
    json_t *name;
    if (!json_is_array(opt))
        return strata_set_error(STRATA_EINPUT, "%s: %s: $optional needs a list of column names",
                                c->path, where);
    json_array_foreach(opt, i, name)
    {
        if (!json_is_string(name))
            return strata_set_error(STRATA_EINPUT, "%s: %s: $optional needs a list of column names",
                                    c->path, where);
        if (!table_column(st->t, json_string_value(name)))
            json_object_del(row, json_string_value(name));
    }
    return 0;
}

static int walk_row_fields(seed_ctx *c, seed_table *st, seed_item *it, json_t *row,
                           const char *where, const fk_def *fk, int mode);

/* A row of `st` at `where`; with `keep` it becomes an item of the plan,
 * else (a streamed row that nothing refers to) it is only checked and
 * counted, and read again when it is written. */
static int walk_row(seed_ctx *c, seed_table *st, json_t *row, const char *where, seed_item *parent,
                    const fk_def *fk, int mode, int keep)
{
    if (!json_is_object(row))
        return strata_set_error(STRATA_EINPUT, "%s: %s: a row must be an object", c->path, where);
    if (!keep) {
        seed_item tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.st = st;
        tmp.row = row;
        tmp.where = (char *)where;
        tmp.mode = mode;
        tmp.pos = st->nrows++;
        return walk_row_fields(c, st, &tmp, row, where, fk, mode);
    }
    seed_item *it = xcalloc(1, sizeof *it);
    it->st = st;
    it->row = json_incref(row);
    it->where = xstrdup(where);
    it->parent = parent;
    it->owner = parent;
    it->parent_fk = fk;
    it->mode = mode;
    ctx_add_item(c, it);
    return walk_row_fields(c, st, it, row, where, fk, mode);
}

/* One row object into the fields of its item: $as registers its alias,
 * $children walks the child rows (their foreign key to this row is filled
 * in later, so they must not give it), other keys are columns whose literal
 * values must fit and whose $ values must be well-formed. */
static int walk_row_fields(seed_ctx *c, seed_table *st, seed_item *it, json_t *row,
                           const char *where, const fk_def *fk, int mode)
{
    size_t self = c->nitems - 1; /* a kept item is the last one added */
    int rc = seed_drop_absent_optional(c, st, row, where);
    if (rc)
        return rc;
    const char *k;
    json_t *v;
    json_object_foreach(row, k, v)
    {
        if (!strcmp(k, "$optional"))
            continue;
        if (!strcmp(k, "$as")) {
            if (!json_is_string(v) || !json_string_length(v))
                return strata_set_error(STRATA_EINPUT, "%s: %s: $as needs a name", c->path, where);
            it->alias = json_string_value(v);
            if (json_object_get(c->aliases, it->alias))
                return strata_set_error(STRATA_EINPUT, "%s: %s: the alias '%s' is used twice",
                                        c->path, where, it->alias);
            json_object_set_new(c->aliases, it->alias, json_integer((json_int_t)self));
            it->referenced = 1;
            continue;
        }
        if (!strcmp(k, "$children")) {
            if (!json_is_object(v))
                return strata_set_error(STRATA_EINPUT,
                                        "%s: %s: $children needs an object {\"table\": [rows]}",
                                        c->path, where);
            it->referenced = 1;
            const char *ck;
            json_t *rows;
            json_object_foreach(v, ck, rows)
            {
                char *tname = xstrdup(ck), *col = strchr(tname, '.');
                if (col)
                    *col++ = '\0';
                char *w = xasprintf("%s.$children.%s", where, ck);
                seed_table *cst = seed_table_for(c, tname, w, 1 << 30);
                int rc = STRATA_EINPUT;
                if (cst) {
                    const fk_def *cfk = children_fk(c, cst->t, st->t, col, w);
                    if (cfk) {
                        if (cst != st && strvec_find(&cst->after, st->t->name) < 0)
                            strvec_push(&cst->after, st->t->name);
                        if (!json_is_array(rows))
                            rc = strata_set_error(STRATA_EINPUT, "%s: %s: needs a list of rows",
                                                  c->path, w);
                        else
                            rc = walk_rows(c, cst, rows, w, it, cfk, mode);
                    }
                }
                free(w);
                free(tname);
                if (rc)
                    return rc;
            }
            continue;
        }
        if (k[0] == '$')
            return strata_set_error(STRATA_EINPUT,
                                    "%s: %s: unknown key '%s' (a row knows $as, $children and "
                                    "$optional)",
                                    c->path, where, k);
        const column *col = table_column(st->t, k);
        if (!col)
            return unknown_column(c, where, st->t, k);
        if (fk && strvec_find(&fk->cols, k) >= 0)
            return item_error(c, it, k, "is filled in from the parent row; do not give it");
        if (json_is_object(v) && json_object_size(v) &&
            json_object_iter_key(json_object_iter(v))[0] == '$') {
            int rc = check_special(c, it, k, v, where);
            if (rc)
                return rc;
            continue;
        }
        const char *why = value_fits(&c->s, col, v);
        if (why) {
            char *b = seed_json_brief(v);
            int rc = item_error(c, it, k, "%s (value %s)", why, b);
            free(b);
            return rc;
        }
    }
    return 0;
}

static int walk_rows(seed_ctx *c, seed_table *st, json_t *rows, const char *where,
                     seed_item *parent, const fk_def *fk, int mode)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char *w = xasprintf("%s[%zu]", where, i);
        int rc = walk_row(c, st, row, w, parent, fk, mode, 1);
        free(w);
        if (rc)
            return rc;
    }
    return 0;
}

static int read_key(seed_ctx *c, seed_table *st, json_t *key, const char *where)
{
    if (!json_is_array(key))
        return strata_set_error(STRATA_EINPUT, "%s: %s.key: needs a list of column names", c->path,
                                where);
    strvec k = STRVEC_INIT;
    size_t i;
    json_t *v;
    json_array_foreach(key, i, v)
    {
        if (!json_is_string(v) || !table_column(st->t, json_string_value(v))) {
            strvec_free(&k);
            return json_is_string(v)
                       ? unknown_column(c, where, st->t, json_string_value(v))
                       : strata_set_error(STRATA_EINPUT, "%s: %s.key: needs column names", c->path,
                                          where);
        }
        strvec_push(&k, json_string_value(v));
    }
    if (st->has_key) {
        int same = st->key.n == k.n;
        for (size_t j = 0; same && j < k.n; j++)
            same = !strcmp(st->key.v[j], k.v[j]);
        strvec_free(&k);
        if (!same)
            return strata_set_error(STRATA_EINPUT,
                                    "%s: %s.key: table '%s' was given another key before", c->path,
                                    where, st->t->name);
        return 0;
    }
    st->key = k;
    st->has_key = 1;
    return 0;
}

/* The keys of a table entry are known ones (an unknown one is an error that
 * suggests the nearest). */
static int check_entry_keys(seed_ctx *c, json_t *e, const char *where)
{
    static const char *const known[] = {"table", "rows", "file", "update", "mode", "key"};
    const char *k;
    json_t *v;
    json_object_foreach(e, k, v)
    {
        int ok = 0;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            ok |= !strcmp(k, known[i]);
        if (!ok) {
            const char *near = str_nearest(k, known, sizeof known / sizeof known[0]);
            return strata_set_error(STRATA_EINPUT, "%s: %s: unknown key '%s'%s%s%s", c->path, where,
                                    k, near ? " (did you mean '" : "", near ? near : "",
                                    near ? "'?)" : "");
        }
    }
    return 0;
}

/* An entry's "file": a CSV or NDJSON file of rows for `st` (relative to the
 * seed file's directory), loaded in phase 2; it must be a readable regular
 * file now (bad input otherwise). */
static int walk_entry_file(seed_ctx *c, seed_table *st, json_t *file, const char *where, int mode)
{
    if (!json_is_string(file))
        return strata_set_error(STRATA_EINPUT, "%s: %s.file: needs a path", c->path, where);
    const char *fp = json_string_value(file);
    st->files = xrealloc(st->files, (st->nfiles + 1) * sizeof *st->files);
    seed_file *f = &st->files[st->nfiles++];
    f->path = fp[0] == '/' ? xstrdup(fp) : xasprintf("%s/%s", c->dir, fp);
    f->where = xasprintf("%s.file", where);
    f->mode = mode;
    FILE *probe; /* a readable regular file: no FIFO waits for a writer later */
    if (open_input_file(f->path, &probe) != 0)
        return strata_error_prefix("%s: %s.file: ", c->path, where);
    fclose(probe);
    return 0;
}

/* One update of `st`, {"where": {...}, "set": {...}} (at `w`): its columns
 * exist and its literal values fit them; $ values are checked for shape
 * only, and resolved when the update runs (finish.c). */
static int check_update(seed_ctx *c, seed_table *st, json_t *u, const char *w)
{
    json_t *set = json_object_get(u, "set"), *wh = json_object_get(u, "where");
    if (!json_is_object(u) || !json_is_object(set) || !json_object_size(set) ||
        (wh && !json_is_object(wh)))
        return strata_set_error(STRATA_EINPUT, "%s: %s: needs {\"where\": {...}, \"set\": {...}}",
                                c->path, w);
    json_t *parts[2] = {set, wh};
    for (int p = 0; p < 2; p++) {
        const char *ck;
        json_t *cv;
        json_object_foreach(parts[p], ck, cv)
        {
            const column *col = table_column(st->t, ck);
            if (!col)
                return unknown_column(c, w, st->t, ck);
            if (json_is_object(cv) && json_object_size(cv) &&
                json_object_iter_key(json_object_iter(cv))[0] == '$') {
                int rc = check_special(c, NULL, ck, cv, w);
                if (rc)
                    return rc;
            } else if (value_fits(&c->s, col, cv)) {
                char *b = seed_json_brief(cv);
                int rc = strata_set_error(STRATA_EINPUT, "%s: %s, column '%s': %s (value %s)",
                                          c->path, w, ck, value_fits(&c->s, col, cv), b);
                free(b);
                return rc;
            }
        }
    }
    return 0;
}

/* An entry's "update": a list of updates of `st`, run in phase 3. */
static int walk_entry_updates(seed_ctx *c, seed_table *st, json_t *upd, const char *where)
{
    if (!json_is_array(upd))
        return strata_set_error(STRATA_EINPUT, "%s: %s.update: needs a list", c->path, where);
    size_t i;
    json_t *u;
    json_array_foreach(upd, i, u)
    {
        char *w = xasprintf("%s.update[%zu]", where, i);
        int rc = check_update(c, st, u, w);
        if (rc) {
            free(w);
            return rc;
        }
        c->updates = xrealloc(c->updates, (c->nupdates + 1) * sizeof *c->updates);
        c->updates[c->nupdates].st = st;
        c->updates[c->nupdates].spec = json_incref(u);
        c->updates[c->nupdates].where = w;
        c->nupdates++;
    }
    return 0;
}

static int walk_rows_stream(seed_ctx *c, seed_table *st, const char *where, int mode);

/* How an entry of a streamed seed file gave its rows: where the list is,
 * and whether it was walked already (with which mode and from which item
 * and block on), because the entry named its table before the list. */
typedef struct entry_rows {
    js_mark at;
    int walked, mode;
    size_t items_before, blocks_before;
} entry_rows;

/* One entry of a "tables" list: {"table", "rows" | "file" | "update", "mode",
 * "key"} at `where`; `hint` is its place in the file, for the load order.
 * For a streamed file `sr` says where its rows are (e's "rows" is null). */
static int walk_entry(seed_ctx *c, json_t *e, const char *where, int hint, const entry_rows *sr)
{
    if (!json_is_object(e))
        return strata_set_error(STRATA_EINPUT, "%s: %s: a table entry must be an object", c->path,
                                where);
    int rc = check_entry_keys(c, e, where);
    if (rc)
        return rc;
    json_t *tn = json_object_get(e, "table");
    if (!json_is_string(tn))
        return strata_set_error(STRATA_EINPUT, "%s: %s: needs \"table\"", c->path, where);
    seed_table *st = seed_table_for(c, json_string_value(tn), where, hint);
    if (!st)
        return STRATA_EINPUT;
    if (st->order_hint > hint)
        st->order_hint = hint;
    int mode = c->mode;
    json_t *m = json_object_get(e, "mode");
    if (m) {
        mode = json_is_string(m) ? mode_parse(json_string_value(m)) : 0;
        if (!mode)
            return strata_set_error(STRATA_EINPUT,
                                    "%s: %s.mode: must be insert, insert_missing or upsert",
                                    c->path, where);
    }
    json_t *key = json_object_get(e, "key");
    if (key && (rc = read_key(c, st, key, where)) != 0)
        return rc;
    json_t *rows = json_object_get(e, "rows");
    if (rows && sr && sr->walked) {
        /* walked as it was read; a "mode" after the list applies to it */
        for (size_t i = sr->items_before; mode != sr->mode && i < c->nitems; i++)
            c->items[i]->mode = mode;
        for (size_t b = sr->blocks_before; mode != sr->mode && b < st->nblocks; b++)
            st->blocks[b].mode = mode;
    } else if (rows && sr) {
        js_mark back;
        char *w = xasprintf("%s.rows", where);
        rc = js_mark_here(c->js, &back);
        if (!rc)
            rc = js_seek(c->js, &sr->at);
        if (!rc)
            rc = walk_rows_stream(c, st, w, mode);
        if (!rc)
            rc = js_seek(c->js, &back);
        free(w);
        if (rc)
            return rc;
    } else if (rows) {
        if (!json_is_array(rows))
            return strata_set_error(STRATA_EINPUT, "%s: %s.rows: needs a list", c->path, where);
        char *w = xasprintf("%s.rows", where);
        rc = walk_rows(c, st, rows, w, NULL, NULL, mode);
        free(w);
        if (rc)
            return rc;
    }
    json_t *file = json_object_get(e, "file");
    if (file && (rc = walk_entry_file(c, st, file, where, mode)) != 0)
        return rc;
    json_t *upd = json_object_get(e, "update");
    if (upd && (rc = walk_entry_updates(c, st, upd, where)) != 0)
        return rc;
    if (!rows && !file && !upd)
        return strata_set_error(STRATA_EINPUT, "%s: %s: needs \"rows\", \"file\" or \"update\"",
                                c->path, where);
    return 0;
}

int seed_item_find(const seed_ctx *c, const char *ref, seed_item **it, const char **col)
{
    json_t *ix = json_object_get(c->aliases, ref);
    *col = NULL;
    if (ix) {
        *it = c->items[json_integer_value(ix)];
        return 0;
    }
    const char *dot = strrchr(ref, '.');
    if (!dot)
        return -1;
    char *alias = xstrndup(ref, (size_t)(dot - ref));
    ix = json_object_get(c->aliases, alias);
    free(alias);
    if (!ix)
        return -1;
    *it = c->items[json_integer_value(ix)];
    *col = dot + 1;
    return 0;
}

/* Every $ref names a known alias (and column): checked before anything is
 * written. */
static int check_refs(seed_ctx *c)
{
    for (size_t i = 0; i < c->refs.n; i++) {
        seed_item *it;
        const char *col;
        if (seed_item_find(c, c->refs.v[i], &it, &col) != 0) {
            const char **names = xcalloc(json_object_size(c->aliases) + 1, sizeof(char *));
            size_t n = 0;
            const char *k;
            json_t *v;
            json_object_foreach(c->aliases, k, v) names[n++] = k;
            const char *near = str_nearest(c->refs.v[i], names, n);
            int rc = strata_set_error(STRATA_EINPUT,
                                      "%s: %s: $ref to unknown alias '%s'%s%s%s (nothing was "
                                      "written)",
                                      c->path, c->ref_where.v[i], c->refs.v[i],
                                      near ? " (did you mean '" : "", near ? near : "",
                                      near ? "'?)" : "");
            free(names);
            return rc;
        }
        if (col && !table_column(it->st->t, col))
            return unknown_column(c, c->ref_where.v[i], it->st->t, col);
    }
    return 0;
}

/* Are all columns of a foreign key nullable? */
static int fk_nullable(const table *t, const fk_def *fk)
{
    for (size_t i = 0; i < fk->cols.n; i++) {
        const column *col = table_column(t, fk->cols.v[i]);
        if (!col || !col->nullable)
            return 0;
    }
    return 1;
}

static int table_placed(const seed_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->ntables; i++)
        if (!strcmp(c->tables[i]->t->name, name))
            return c->tables[i]->placed;
    return 1; /* not in the seed: nothing to wait for */
}

/*
 * Foreign-key order: a table comes after every table it references (among
 * the tables in the seed); among the tables that are ready, the one first in
 * the file. In a cycle, the first table in file order whose remaining
 * references are all nullable goes next and those references are deferred.
 */
static int plan_order(seed_ctx *c)
{
    c->order = xcalloc(c->ntables + 1, sizeof *c->order);
    while (c->norder < c->ntables) {
        seed_table *pick = NULL;
        for (size_t i = 0; i < c->ntables; i++) {
            seed_table *st = c->tables[i];
            if (st->placed)
                continue;
            int ready = 1;
            for (size_t f = 0; ready && f < st->t->nfks; f++) {
                const fk_def *fk = &st->t->fks[f];
                if (strcmp(fk->ref_table, st->t->name) != 0 && !table_placed(c, fk->ref_table))
                    ready = 0;
            }
            for (size_t a = 0; ready && a < st->after.n; a++)
                if (!table_placed(c, st->after.v[a]))
                    ready = 0;
            if (ready && (!pick || st->order_hint < pick->order_hint))
                pick = st;
        }
        if (!pick) {
            for (size_t i = 0; i < c->ntables; i++) {
                seed_table *st = c->tables[i];
                if (st->placed)
                    continue;
                int breakable = 1;
                for (size_t f = 0; breakable && f < st->t->nfks; f++) {
                    const fk_def *fk = &st->t->fks[f];
                    if (strcmp(fk->ref_table, st->t->name) != 0 &&
                        !table_placed(c, fk->ref_table) && !fk_nullable(st->t, fk))
                        breakable = 0;
                }
                if (breakable && (!pick || st->order_hint < pick->order_hint))
                    pick = st;
            }
            if (!pick) {
                sbuf b = SBUF_INIT;
                for (size_t i = 0; i < c->ntables; i++)
                    if (!c->tables[i]->placed)
                        sbuf_addf(&b, "%s'%s'", b.len ? ", " : "", c->tables[i]->t->name);
                int rc = strata_set_error(STRATA_EINPUT,
                                          "%s: the tables %s reference each other through NOT "
                                          "NULL foreign keys, so no order can load them",
                                          c->path, sbuf_str(&b));
                sbuf_free(&b);
                return rc;
            }
            for (size_t f = 0; f < pick->t->nfks; f++) {
                const fk_def *fk = &pick->t->fks[f];
                if (strcmp(fk->ref_table, pick->t->name) != 0 && !table_placed(c, fk->ref_table))
                    for (size_t k = 0; k < fk->cols.n; k++)
                        if (strvec_find(&pick->deferred_cols, fk->cols.v[k]) < 0)
                            strvec_push(&pick->deferred_cols, fk->cols.v[k]);
            }
        }
        pick->placed = 1;
        c->order[c->norder++] = pick;
    }
    return 0;
}

/* See load.h. The seed's mode is the caller's option, else the document's
 * "mode", else insert. "tables" is a list of entries, or an object of
 * table -> rows (file order is the order hint either way). */
/* The top-level keys are known ones, and the seed's mode. */
static int plan_top(seed_ctx *c, json_t *doc)
{
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v)
    {
        if (strcmp(k, "mode") && strcmp(k, "tables") && strcmp(k, "version") &&
            strcmp(k, "description") && strcmp(k, "$comment"))
            return strata_set_error(STRATA_EINPUT,
                                    "%s: unknown top-level key '%s' (a Strata seed has mode and "
                                    "tables; Medusa seeds are recognised by store, users, "
                                    "regions, ...)",
                                    c->path, k);
    }
    json_t *m = json_object_get(doc, "mode");
    if (c->opt && c->opt->mode)
        c->mode = c->opt->mode;
    else if (m) {
        c->mode = json_is_string(m) ? mode_parse(json_string_value(m)) : 0;
        if (!c->mode)
            return strata_set_error(STRATA_EINPUT,
                                    "%s: mode: must be insert, insert_missing or upsert", c->path);
    } else
        c->mode = MODE_INSERT;
    return 0;
}

int seed_plan(seed_ctx *c)
{
    json_t *doc = c->doc;
    if (!json_is_object(doc))
        return strata_set_error(STRATA_EINPUT, "%s: a seed file is a JSON object", c->path);
    const char *k;
    json_t *v;
    int rc = plan_top(c, doc);
    if (rc)
        return rc;
    json_t *tables = json_object_get(doc, "tables");
    if (json_is_array(tables)) {
        size_t i;
        json_t *e;
        json_array_foreach(tables, i, e)
        {
            char *w = xasprintf("tables[%zu]", i);
            rc = walk_entry(c, e, w, (int)i, NULL);
            free(w);
            if (rc)
                return rc;
        }
    } else if (json_is_object(tables)) {
        int i = 0;
        json_object_foreach(tables, k, v)
        {
            char *w = xasprintf("tables.%s", k);
            seed_table *st = seed_table_for(c, k, w, i);
            if (!st)
                rc = STRATA_EINPUT;
            else if (!json_is_array(v))
                rc = strata_set_error(STRATA_EINPUT, "%s: %s: needs a list of rows", c->path, w);
            else {
                if (st->order_hint > i)
                    st->order_hint = i;
                rc = walk_rows(c, st, v, w, NULL, NULL, c->mode);
            }
            free(w);
            if (rc)
                return rc;
            i++;
        }
    } else if (tables) {
        return strata_set_error(STRATA_EINPUT, "%s: tables: needs a list or an object", c->path);
    }
    rc = check_refs(c);
    if (!rc)
        rc = plan_order(c);
    return rc;
}

/* ---- a seed file read as a stream ---- */

/* Must the row be kept in memory as an item? Yes when others may refer to
 * it or it makes other rows: $as, $children, an $insert anywhere. */
static int has_insert(json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            if (!strcmp(k, "$insert") || has_insert(x))
                return 1;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (has_insert(x))
                return 1;
        }
    }
    return 0;
}

static int row_needs_item(json_t *row)
{
    return json_is_object(row) &&
           (json_object_get(row, "$as") || json_object_get(row, "$children") || has_insert(row));
}

/* A "rows" list of `st` at the stream's position: each row read, checked
 * and counted; the kept ones become items; the list is remembered as a
 * block for phase 2. */
static int walk_rows_stream(seed_ctx *c, seed_table *st, const char *where, int mode)
{
    jstream *js = c->js;
    seed_block b;
    memset(&b, 0, sizeof b);
    int ch;
    int rc = js_mark_here(js, &b.at);
    if (!rc)
        rc = js_peek(js, &ch);
    if (rc)
        return rc;
    if (ch != '[')
        return strata_set_error(STRATA_EINPUT, "%s: %s: needs a list of rows", c->path, where);
    js_expect(js, '[', "'['");
    b.where = xstrdup(where);
    b.mode = mode;
    b.first_pos = st->nrows;
    size_t cap = 0;
    int first = 1;
    while ((rc = js_next_element(js, &first)) == 1) {
        json_t *row;
        if ((rc = js_value(js, &row)) != 0)
            break;
        char *w = element_where(where, b.n);
        int keep = row_needs_item(row);
        size_t before = c->nitems;
        rc = walk_row(c, st, row, w, NULL, NULL, mode, keep);
        free(w);
        json_decref(row);
        if (rc)
            break;
        if (keep) {
            seed_item *it = c->items[before];
            it->in_block = 1;
            it->block = st->nblocks;
            it->array_index = b.n;
            it->next_pos = st->nrows;
            b.kept = xgrow(b.kept, &cap, b.nkept + 1, sizeof *b.kept);
            b.kept[b.nkept++] = it;
        }
        b.n++;
    }
    js_mark end;
    if (rc == 0 && (rc = js_mark_here(js, &end)) == 0)
        b.bytes = (long long)(end.offset - b.at.offset);
    if (rc < 0) {
        free(b.where);
        free(b.kept);
        return rc;
    }
    st->blocks = xrealloc(st->blocks, (st->nblocks + 1) * sizeof *st->blocks);
    st->blocks[st->nblocks++] = b;
    return 0;
}

/* One entry of the "tables" list at the stream's position. Its small keys
 * are read whole; its rows are walked as they are read when the entry named
 * its table before them, else afterwards from where they start. */
static int walk_entry_stream(seed_ctx *c, const char *where, int hint)
{
    jstream *js = c->js;
    int ch;
    int rc = js_peek(js, &ch);
    if (rc)
        return rc;
    if (ch != '{')
        return strata_set_error(STRATA_EINPUT, "%s: %s: a table entry must be an object", c->path,
                                where);
    js_expect(js, '{', "'{'");
    json_t *e = json_object();
    entry_rows sr;
    memset(&sr, 0, sizeof sr);
    int first = 1;
    char *k = NULL;
    while ((rc = js_key(js, &first, &k)) == 0 && k) {
        if (json_object_get(e, k)) {
            rc = js_error(js, "duplicate object key '%s'", k);
            break;
        }
        if (!strcmp(k, "rows")) {
            json_t *tn = json_object_get(e, "table");
            seed_table *st =
                json_is_string(tn) ? seed_table_for(c, json_string_value(tn), where, hint) : NULL;
            json_t *m = json_object_get(e, "mode");
            int mode = m ? (json_is_string(m) ? mode_parse(json_string_value(m)) : 0) : c->mode;
            strata_error_clear();
            if (st && mode) {
                char *w = xasprintf("%s.rows", where);
                sr.walked = 1;
                sr.mode = mode;
                sr.items_before = c->nitems;
                sr.blocks_before = st->nblocks;
                rc = walk_rows_stream(c, st, w, mode);
                free(w);
            } else {
                rc = js_mark_here(js, &sr.at);
                if (!rc)
                    rc = js_skip(js);
            }
            json_object_set_new(e, "rows", json_null());
        } else {
            json_t *v;
            rc = js_value(js, &v);
            if (!rc)
                json_object_set_new(e, k, v);
        }
        free(k);
        k = NULL;
        if (rc)
            break;
    }
    free(k);
    if (!rc)
        rc = walk_entry(c, e, where, hint, &sr);
    json_decref(e);
    return rc;
}

/* See load.h. Reads the top-level object, all but "tables" (whose place is
 * remembered), into c->doc. */
int seed_plan_stream_top(seed_ctx *c)
{
    jstream *js = c->js;
    int ch;
    int rc = js_peek(js, &ch);
    if (rc)
        return rc;
    if (ch != '{')
        return ch == 0
                   ? js_error(js, "'[' or '{' expected near end of file")
                   : strata_set_error(STRATA_EINPUT, "%s: a seed file is a JSON object", c->path);
    js_expect(js, '{', "'{'");
    json_t *top = json_object();
    int first = 1;
    char *k = NULL;
    while ((rc = js_key(js, &first, &k)) == 0 && k) {
        if (json_object_get(top, k) || (!strcmp(k, "tables") && c->has_tables)) {
            rc = js_error(js, "duplicate object key '%s'", k);
            break;
        }
        if (!strcmp(k, "tables")) {
            c->has_tables = 1;
            rc = js_mark_here(js, &c->tables_at);
            if (!rc)
                rc = js_skip(js);
        } else {
            json_t *v;
            rc = js_value(js, &v);
            if (!rc)
                json_object_set_new(top, k, v);
        }
        free(k);
        k = NULL;
        if (rc)
            break;
    }
    free(k);
    if (!rc)
        rc = js_expect_end(js);
    if (!rc && !c->has_tables && c->opt->format == STRATA_SEED_FORMAT_AUTO) {
        if (medusa_is_seed(top))
            rc = SEED_NOT_STREAMED;
    }
    if (rc) {
        json_decref(top);
        return rc;
    }
    c->doc = top;
    return 0;
}

/* See load.h: seed_plan for a streamed file, whose top-level keys but
 * "tables" are in c->doc. */
int seed_plan_stream(seed_ctx *c)
{
    jstream *js = c->js;
    int rc = plan_top(c, c->doc);
    if (rc || !c->has_tables)
        return rc ? rc : plan_order(c);
    if ((rc = js_seek(js, &c->tables_at)) != 0)
        return rc;
    int ch;
    if ((rc = js_peek(js, &ch)) != 0)
        return rc;
    int first = 1;
    if (ch == '[') {
        js_expect(js, '[', "'['");
        size_t i = 0;
        while (!rc && (rc = js_next_element(js, &first)) == 1) {
            char *w = xasprintf("tables[%zu]", i);
            rc = walk_entry_stream(c, w, (int)i);
            free(w);
            i++;
        }
    } else if (ch == '{') {
        js_expect(js, '{', "'{'");
        int i = 0;
        char *k = NULL;
        while (!rc && (rc = js_key(js, &first, &k)) == 0 && k) {
            char *w = xasprintf("tables.%s", k);
            seed_table *st = seed_table_for(c, k, w, i);
            if (!st) {
                rc = STRATA_EINPUT;
            } else {
                if (st->order_hint > i)
                    st->order_hint = i;
                rc = walk_rows_stream(c, st, w, c->mode);
            }
            free(w);
            free(k);
            k = NULL;
            i++;
        }
        free(k);
    } else {
        return strata_set_error(STRATA_EINPUT, "%s: tables: needs a list or an object", c->path);
    }
    if (rc < 0)
        return rc;
    rc = check_refs(c);
    if (!rc)
        rc = plan_order(c);
    return rc;
}
