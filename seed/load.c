/*
 * load.c - the seed loader: a Strata seed document in, rows in the database
 * out, in one transaction.
 *
 * The phases, each finished before the next starts:
 *
 *  1. plan (nothing touches the database but reading its schema): every row
 *     of the document, nested `$children` and inline `$insert` rows
 *     included, becomes an item of its table; aliases are registered and
 *     every `$ref` checked, literal values are checked against their
 *     columns, and the tables are put in foreign-key order (file order
 *     breaking ties). A cycle is broken at foreign keys whose columns are all
 *     nullable: those columns are written NULL first and set at the end.
 *  2. load, table by table in that order: each row's status is settled
 *     (new, existing by its key, or skipped with the row it belongs to), its
 *     values resolved (generated ids, references, lookups), and new rows
 *     are streamed through the driver's bulk loader in runs of rows with the
 *     same columns; rows whose database-made key is needed later (an
 *     auto-increment id of a row with an alias or children) are inserted one
 *     at a time and read back. Files are streamed the same way.
 *  3. finish: deferred back-references, `update` entries, sequences moved
 *     past explicit ids; commit.
 *
 * Modes. insert: every row is inserted. insert_missing: a row whose key (the
 * table's `key`, else its primary key, else its single unique index) exists
 * is left alone and its alias names the existing row. upsert: such a row is
 * updated with the columns the seed gives. In both, a row nested under an
 * existing row whose own key is generated ($id, $uuid) cannot be matched and
 * is taken to exist with its parent (it was created with it), so running a
 * seed twice leaves the same data. Generated values are written on insert
 * only, never by upsert.
 */
#include "seed.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "introspect.h"
#include "migration.h"

enum { MODE_INSERT = 1, MODE_INSERT_MISSING, MODE_UPSERT };
enum { ST_UNKNOWN = 0, ST_NEW, ST_EXISTING, ST_SKIPPED };

/* A resolution that found the row depends on a skipped row. */
#define SKIP_ROW 1

typedef struct seed_table seed_table;

typedef struct seed_item {
    seed_table *st;
    size_t pos;               /* index in st->items */
    json_t *row;              /* the row object (the document owns it) */
    char *where;              /* its JSON path, for messages */
    struct seed_item *parent; /* $children: the parent row */
    const fk_def *parent_fk;  /* this table's foreign key to the parent's table */
    struct seed_item *owner;  /* the row this one was created with */
    int mode;
    const char *alias;
    int referenced; /* has an alias, children or is an inline $insert */
    int status;
    int busy; /* guards against reference cycles while resolving */
    int inserted;
    json_t *vals;    /* resolved values of a new row, column -> JSON */
    json_t *db;      /* the row as in the database (existing, or read back) */
    json_t *gen;     /* generated values by column */
    strvec deferred; /* columns written NULL at insert and set at the end */
} seed_item;

typedef struct seed_file {
    char *path;
    char *where;
    int mode;
} seed_file;

struct seed_table {
    const table *t;
    int order_hint;
    int placed;
    seed_item **items;
    size_t nitems, cap;
    seed_file *files;
    size_t nfiles;
    strvec key;
    int has_key;
    strvec deferred_cols;        /* foreign-key columns of back-references in a cycle */
    strvec after;                /* tables to load first though no foreign key says so: parents of
                                    $children, tables of inline $inserts */
    unsigned char *serial_given; /* per column: an explicit value was written */
    long long inserted, skipped, updated;
};

typedef struct seed_update {
    seed_table *st;
    json_t *spec;
    char *where;
} seed_update;

typedef struct seed_ctx {
    strata_conn *conn;
    strata_dialect d;
    schema s;
    const strata_seed_options *opt;
    const char *path;
    char *dir;
    json_t *doc;
    int mode;
    seed_table **tables;
    size_t ntables;
    seed_table **order;
    size_t norder;
    seed_item **items;
    size_t nitems, cap;
    json_t *aliases;      /* alias -> item index */
    json_t *inline_items; /* "@<address>" of an $insert object -> item index */
    json_t *lookups;      /* cache of $lookup results */
    seed_update *updates;
    size_t nupdates;
    strvec refs;      /* every $ref target, for the early check */
    strvec ref_where; /* where each was found */
    char now[32];
    strvec warnings;
    /* progress */
    FILE *progress;
    double started, last_tick;
    long long table_rows;
    int ticked;
    /* totals */
    long long updated_rows, sequences;
    fk_def **synthetic; /* $children links named by column, without a foreign key */
    size_t nsynthetic;
} seed_ctx;

/* ---- helpers ---- */

static int mode_parse(const char *s)
{
    if (!strcmp(s, "insert"))
        return MODE_INSERT;
    if (!strcmp(s, "insert_missing"))
        return MODE_INSERT_MISSING;
    if (!strcmp(s, "upsert"))
        return MODE_UPSERT;
    return 0;
}

static const char *mode_name(int m)
{
    return m == MODE_UPSERT ? "upsert" : m == MODE_INSERT_MISSING ? "insert_missing" : "insert";
}

static char *qi(const seed_ctx *c, const char *name)
{
    return strata_quote_ident(c->d, name);
}

static int item_error(const seed_ctx *c, const seed_item *it, const char *col, const char *fmt, ...)
    STRATA_PRINTF(4, 5);

/* "<file>: table 't', row N (path), column 'c': ..." */
static int item_error(const seed_ctx *c, const seed_item *it, const char *col, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (col)
        return strata_set_error(STRATA_EINPUT, "%s: table '%s', row %zu (%s), column '%s': %s",
                                c->path, it->st->t->name, it->pos + 1, it->where, col, msg);
    return strata_set_error(STRATA_EINPUT, "%s: table '%s', row %zu (%s): %s", c->path,
                            it->st->t->name, it->pos + 1, it->where, msg);
}

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

static int unknown_column(seed_ctx *c, const char *where, const table *t, const char *name)
{
    const char **names = xcalloc(t->ncols + 1, sizeof(char *));
    for (size_t i = 0; i < t->ncols; i++)
        names[i] = t->cols[i].name;
    const char *near = str_nearest(name, names, t->ncols);
    free(names);
    if (near)
        return strata_set_error(STRATA_EINPUT,
                                "%s: %s: table '%s' has no column '%s' (did you mean '%s'?)",
                                c->path, where, t->name, name, near);
    return strata_set_error(STRATA_EINPUT, "%s: %s: table '%s' has no column '%s'", c->path, where,
                            t->name, name);
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

static int all_given(const strvec *given, const char *const *cols, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strvec_find(given, cols[i]) < 0)
            return 0;
    return 1;
}

/*
 * The columns that identify a row for insert_missing and upsert: the
 * table's `key` when the seed gives one; else the primary key when the row
 * gives its values (not generated ones); else the first plain unique index
 * whose columns the row gives; else the primary key (a generated key: the
 * row is always new). NULL when the table has no key at all (then every
 * given column is compared). `given` is NULL when not known.
 */
static const strvec *table_key(seed_table *st, const strvec *given, strvec *tmp)
{
    const table *t = st->t;
    if (st->has_key)
        return &st->key;
    if (t->pk.n && (!given || all_given(given, (const char *const *)t->pk.v, t->pk.n)))
        return &t->pk;
    const index_def *first = NULL;
    for (size_t i = 0; i < t->nidx; i++) {
        const index_def *ix = &t->idx[i];
        if (!ix->unique || ix->where)
            continue;
        int ok = 1;
        for (size_t k = 0; ok && given && k < ix->ncols; k++)
            ok = strvec_find(given, ix->cols[k].name) >= 0;
        if (ok && given) {
            for (size_t k = 0; k < ix->ncols; k++)
                strvec_push(tmp, ix->cols[k].name);
            return tmp;
        }
        if (!first)
            first = ix;
    }
    if (t->pk.n)
        return &t->pk;
    if (first) {
        for (size_t k = 0; k < first->ncols; k++)
            strvec_push(tmp, first->cols[k].name);
        return tmp;
    }
    return NULL;
}

static int is_generator(const json_t *v)
{
    return json_is_object(v) && (json_object_get(v, "$id") || json_object_get(v, "$uuid") ||
                                 json_object_get(v, "$now") || json_object_get(v, "$password"));
}

/* The columns a row gives values for that are not generated. */
static void item_given(const seed_item *it, strvec *out)
{
    const char *k;
    json_t *v;
    json_object_foreach(it->row, k, v)
    {
        if (k[0] != '$' && !is_generator(v))
            strvec_push(out, k);
    }
    for (size_t i = 0; it->parent_fk && i < it->parent_fk->cols.n; i++)
        strvec_push(out, it->parent_fk->cols.v[i]);
}

/* ---- phase 1: the plan ---- */

static void ctx_add_item(seed_ctx *c, seed_item *it)
{
    it->pos = it->st->nitems;
    it->st->items = xgrow(it->st->items, &it->st->cap, it->st->nitems + 1, sizeof(seed_item *));
    it->st->items[it->st->nitems++] = it;
    c->items = xgrow(c->items, &c->cap, c->nitems + 1, sizeof(seed_item *));
    c->items[c->nitems++] = it;
}

static int walk_rows(seed_ctx *c, seed_table *st, json_t *rows, const char *where,
                     seed_item *parent, const fk_def *fk, int mode);

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

static int walk_row(seed_ctx *c, seed_table *st, json_t *row, const char *where, seed_item *parent,
                    const fk_def *fk, int mode)
{
    if (!json_is_object(row))
        return strata_set_error(STRATA_EINPUT, "%s: %s: a row must be an object", c->path, where);
    seed_item *it = xcalloc(1, sizeof *it);
    it->st = st;
    it->row = row;
    it->where = xstrdup(where);
    it->parent = parent;
    it->owner = parent;
    it->parent_fk = fk;
    it->mode = mode;
    ctx_add_item(c, it);
    const char *k;
    json_t *v;
    json_object_foreach(row, k, v)
    {
        if (!strcmp(k, "$as")) {
            if (!json_is_string(v) || !json_string_length(v))
                return strata_set_error(STRATA_EINPUT, "%s: %s: $as needs a name", c->path, where);
            it->alias = json_string_value(v);
            if (json_object_get(c->aliases, it->alias))
                return strata_set_error(STRATA_EINPUT, "%s: %s: the alias '%s' is used twice",
                                        c->path, where, it->alias);
            json_object_set_new(c->aliases, it->alias, json_integer((json_int_t)(c->nitems - 1)));
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
                                    "%s: %s: unknown key '%s' (a row knows $as and $children)",
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
        int rc = walk_row(c, st, row, w, parent, fk, mode);
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

static int walk_entry(seed_ctx *c, json_t *e, const char *where, int hint)
{
    if (!json_is_object(e))
        return strata_set_error(STRATA_EINPUT, "%s: %s: a table entry must be an object", c->path,
                                where);
    const char *k;
    json_t *v;
    json_object_foreach(e, k, v)
    {
        static const char *const known[] = {"table", "rows", "file", "update", "mode", "key"};
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
    if (key) {
        int rc = read_key(c, st, key, where);
        if (rc)
            return rc;
    }
    json_t *rows = json_object_get(e, "rows");
    if (rows) {
        if (!json_is_array(rows))
            return strata_set_error(STRATA_EINPUT, "%s: %s.rows: needs a list", c->path, where);
        char *w = xasprintf("%s.rows", where);
        int rc = walk_rows(c, st, rows, w, NULL, NULL, mode);
        free(w);
        if (rc)
            return rc;
    }
    json_t *file = json_object_get(e, "file");
    if (file) {
        if (!json_is_string(file))
            return strata_set_error(STRATA_EINPUT, "%s: %s.file: needs a path", c->path, where);
        const char *fp = json_string_value(file);
        st->files = xrealloc(st->files, (st->nfiles + 1) * sizeof *st->files);
        seed_file *f = &st->files[st->nfiles++];
        f->path = fp[0] == '/' ? xstrdup(fp) : xasprintf("%s/%s", c->dir, fp);
        f->where = xasprintf("%s.file", where);
        f->mode = mode;
        if (access(f->path, R_OK) != 0)
            return strata_set_error(STRATA_EIO, "%s: %s.file: cannot read '%s': %s", c->path, where,
                                    f->path, strerror(errno));
    }
    json_t *upd = json_object_get(e, "update");
    if (upd) {
        if (!json_is_array(upd))
            return strata_set_error(STRATA_EINPUT, "%s: %s.update: needs a list", c->path, where);
        size_t i;
        json_t *u;
        json_array_foreach(upd, i, u)
        {
            char *w = xasprintf("%s.update[%zu]", where, i);
            json_t *set = json_object_get(u, "set"), *wh = json_object_get(u, "where");
            int rc = 0;
            if (!json_is_object(u) || !json_is_object(set) || !json_object_size(set) ||
                (wh && !json_is_object(wh)))
                rc = strata_set_error(
                    STRATA_EINPUT, "%s: %s: needs {\"where\": {...}, \"set\": {...}}", c->path, w);
            json_t *parts[2] = {set, wh};
            for (int p = 0; !rc && p < 2; p++) {
                const char *ck;
                json_t *cv;
                json_object_foreach(parts[p], ck, cv)
                {
                    const column *col = table_column(st->t, ck);
                    if (!col) {
                        rc = unknown_column(c, w, st->t, ck);
                        break;
                    }
                    if (json_is_object(cv) && json_object_size(cv) &&
                        json_object_iter_key(json_object_iter(cv))[0] == '$') {
                        if ((rc = check_special(c, NULL, ck, cv, w)) != 0)
                            break;
                    } else if (value_fits(&c->s, col, cv)) {
                        char *b = seed_json_brief(cv);
                        rc = strata_set_error(STRATA_EINPUT, "%s: %s, column '%s': %s (value %s)",
                                              c->path, w, ck, value_fits(&c->s, col, cv), b);
                        free(b);
                        break;
                    }
                }
            }
            if (rc) {
                free(w);
                return rc;
            }
            c->updates = xrealloc(c->updates, (c->nupdates + 1) * sizeof *c->updates);
            c->updates[c->nupdates].st = st;
            c->updates[c->nupdates].spec = u;
            c->updates[c->nupdates].where = w;
            c->nupdates++;
        }
    }
    if (!rows && !file && !upd)
        return strata_set_error(STRATA_EINPUT, "%s: %s: needs \"rows\", \"file\" or \"update\"",
                                c->path, where);
    return 0;
}

static int seed_item_find(const seed_ctx *c, const char *ref, seed_item **it, const char **col)
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

/* ---- phase 2: resolving values ---- */

static int item_status(seed_ctx *c, seed_item *it);
static int item_resolve(seed_ctx *c, seed_item *it);
static int resolve_value(seed_ctx *c, seed_item *it, const char *col, json_t *v, json_t **out);

/* Read one row of `t` matching `where` (column -> JSON values), as a JSON
 * object; *out NULL when there is none. */
static int fetch_row(seed_ctx *c, const table *t, json_t *where, const strvec *cols, json_t **out)
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
static int alias_value(seed_ctx *c, seed_item *it, const char *col, json_t **out)
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

static int lookup_value(seed_ctx *c, seed_item *it, json_t *spec, json_t **out);
static int resolve_value(seed_ctx *c, seed_item *it, const char *col, json_t *v, json_t **out);

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

static int resolve_value(seed_ctx *c, seed_item *it, const char *col, json_t *v, json_t **out)
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
            else if (json_is_real(r))
                sbuf_addf(&b, "%.17g", json_real_value(r));
            else if (json_is_boolean(r))
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
static int item_resolve(seed_ctx *c, seed_item *it)
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
static int item_status(seed_ctx *c, seed_item *it)
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
    const strvec *key = table_key(it->st, &given, &tmp);
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

/* ---- progress ---- */

static void progress_tick(seed_ctx *c, const char *table, long long rows, int done)
{
    if (!c->progress)
        return;
    double now = now_seconds();
    if (!done && now - c->last_tick < 0.5)
        return;
    if (done && !c->ticked)
        return;
    c->last_tick = now;
    c->ticked = 1;
    double secs = now - c->started;
    fprintf(c->progress, "\rseed: %s: %lld rows (%.0f rows/s)\033[K%s", table, rows,
            secs > 0 ? (double)rows / secs : 0.0, done ? "\n" : "");
    fflush(c->progress);
}

static void progress_start(seed_ctx *c)
{
    c->started = now_seconds();
    c->last_tick = c->started;
    c->ticked = 0;
}

/* ---- phase 2: writing rows ---- */

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

static char *column_list(const seed_ctx *c, const strvec *cols)
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
    const strvec *key = table_key(it->st, &given, &tmp);
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

static int load_doc_rows(seed_ctx *c, seed_table *st)
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
                                    doc_next, &ds, &loaded);
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

/* ---- files ---- */

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

static int load_file(seed_ctx *c, seed_table *st, seed_file *f)
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
    const strvec *key = NULL;
    if (source_is_csv(fs.src)) {
        const strvec *h = source_columns(fs.src);
        fs.map = xcalloc(h->n + 1, sizeof *fs.map);
        for (size_t i = 0; i < h->n && !rc; i++) {
            int pos = table_column_pos(st->t, h->v[i]);
            if (pos < 0) {
                char *w = xasprintf("%s (header)", f->path);
                rc = unknown_column(c, w, st->t, h->v[i]);
                free(w);
            }
            fs.map[i] = pos;
            strvec_push(&cols, h->v[i]);
        }
        fs.cols = &cols;
        key = table_key(st, &cols, &tmp);
        if (!rc && f->mode == MODE_INSERT) {
            int64_t loaded = 0;
            rc = seed_bulk_load(c->conn, st->t->name, (const char *const *)cols.v, cols.n, csv_next,
                                &fs, &loaded);
            st->inserted += loaded;
        } else if (!rc) {
            strata_value *row = xcalloc(cols.n + 1, sizeof *row);
            while (!rc && (rc = source_next(fs.src)) == 1) {
                strvec_free(&fs.scratch);
                rc = file_convert(&fs, row);
                if (!rc)
                    rc = file_row_by_key(&fs, &cols, row, key);
                c->table_rows++;
                progress_tick(c, st->t->name, c->table_rows, 0);
            }
            free(row);
        }
    } else {
        ndjson_stream ns = {&fs, NULL};
        while (!rc && !fs.eof) {
            if (!fs.pending) {
                rc = source_next(fs.src);
                if (rc <= 0)
                    break;
                fs.pending = json_incref(source_object(fs.src));
            }
            strvec_free(&cols);
            rc = ndjson_columns_of(&fs, fs.pending, &cols);
            if (rc)
                break;
            fs.cols = &cols;
            if (f->mode == MODE_INSERT) {
                int64_t loaded = 0;
                rc = seed_bulk_load(c->conn, st->t->name, (const char *const *)cols.v, cols.n,
                                    ndjson_next, &ns, &loaded);
                st->inserted += loaded;
            } else {
                strata_value *row = xcalloc(cols.n + 1, sizeof *row);
                strvec_free(&fs.scratch);
                strvec_free(&tmp);
                key = table_key(st, &cols, &tmp);
                rc = ndjson_fill(&fs, fs.pending, row, &ns.keep);
                json_decref(fs.pending);
                fs.pending = NULL;
                if (!rc)
                    rc = file_row_by_key(&fs, &cols, row, key);
                free(row);
                c->table_rows++;
            }
        }
        json_decref(ns.keep);
        json_decref(fs.pending);
    }
    if (rc > 0)
        rc = 0;
    strvec_free(&fs.scratch);
    strvec_free(&cols);
    strvec_free(&tmp);
    free(fs.map);
    source_close(fs.src);
    return rc;
}

/* ---- phase 3 ---- */

/* PostgreSQL: move sequences past explicit ids. MySQL and SQLite move their
 * counters on insert by themselves; there it is checked. */
static int fix_sequences(seed_ctx *c, seed_table *st)
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
static int set_deferred(seed_ctx *c)
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

static int run_update(seed_ctx *c, seed_update *u)
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

/* ---- the whole seed ---- */

static void ctx_free(seed_ctx *c)
{
    for (size_t i = 0; i < c->nitems; i++) {
        seed_item *it = c->items[i];
        free(it->where);
        json_decref(it->vals);
        json_decref(it->db);
        json_decref(it->gen);
        strvec_free(&it->deferred);
        free(it);
    }
    free(c->items);
    for (size_t i = 0; i < c->ntables; i++) {
        seed_table *st = c->tables[i];
        free(st->items);
        for (size_t f = 0; f < st->nfiles; f++) {
            free(st->files[f].path);
            free(st->files[f].where);
        }
        free(st->files);
        strvec_free(&st->key);
        strvec_free(&st->deferred_cols);
        strvec_free(&st->after);
        free(st->serial_given);
        free(st);
    }
    free(c->tables);
    free(c->order);
    for (size_t i = 0; i < c->nsynthetic; i++) {
        fk_free(c->synthetic[i]);
        free(c->synthetic[i]);
    }
    free(c->synthetic);
    for (size_t i = 0; i < c->nupdates; i++)
        free(c->updates[i].where);
    free(c->updates);
    json_decref(c->aliases);
    json_decref(c->inline_items);
    json_decref(c->lookups);
    strvec_free(&c->refs);
    strvec_free(&c->ref_where);
    strvec_free(&c->warnings);
    schema_free(&c->s);
    free(c->dir);
}

static int plan(seed_ctx *c)
{
    json_t *doc = c->doc;
    if (!json_is_object(doc))
        return strata_set_error(STRATA_EINPUT, "%s: a seed file is a JSON object", c->path);
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
    json_t *tables = json_object_get(doc, "tables");
    int rc = 0;
    if (json_is_array(tables)) {
        size_t i;
        json_t *e;
        json_array_foreach(tables, i, e)
        {
            char *w = xasprintf("tables[%zu]", i);
            rc = walk_entry(c, e, w, (int)i);
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

static void report_fill(seed_ctx *c, strata_seed_report *r)
{
    r->tables = xcalloc(c->norder + 1, sizeof *r->tables);
    for (size_t i = 0; i < c->norder; i++) {
        seed_table *st = c->order[i];
        strata_seed_table_report *tr = &r->tables[r->ntables++];
        tr->table = xstrdup(st->t->name);
        tr->inserted = st->inserted;
        tr->skipped = st->skipped;
        tr->updated = st->updated;
        r->inserted += st->inserted;
        r->skipped += st->skipped;
    }
    for (size_t i = 0; i < c->ntables; i++)
        r->updated += c->tables[i]->updated;
    r->sequences = c->sequences;
    r->warnings = xcalloc(c->warnings.n + 1, sizeof(char *));
    for (size_t i = 0; i < c->warnings.n; i++)
        r->warnings[i] = xstrdup(c->warnings.v[i]);
    r->nwarnings = c->warnings.n;
}

static int seed_run(seed_ctx *c, strata_seed_report *r)
{
    int rc = plan(c);
    if (rc)
        return rc;
    int own_tx = !strata_conn_in_transaction(c->conn);
    if (own_tx && (rc = strata_conn_begin(c->conn)) != 0)
        return rc;
    for (size_t i = 0; i < c->norder && !rc; i++) {
        seed_table *st = c->order[i];
        c->table_rows = 0;
        progress_start(c);
        rc = load_doc_rows(c, st);
        for (size_t f = 0; f < st->nfiles && !rc; f++)
            rc = load_file(c, st, &st->files[f]);
        if (!rc)
            rc = fix_sequences(c, st);
        progress_tick(c, st->t->name, c->table_rows, 1);
    }
    if (!rc)
        rc = set_deferred(c);
    for (size_t i = 0; i < c->nupdates && !rc; i++)
        rc = run_update(c, &c->updates[i]);
    if (own_tx) {
        if (rc) {
            char *msg = xstrdup(strata_error_message());
            int code = strata_error_code();
            strata_conn_rollback(c->conn);
            strata_set_error(code ? code : rc, "%s", msg);
            free(msg);
        } else {
            rc = strata_conn_commit(c->conn);
        }
    }
    if (!rc)
        report_fill(c, r);
    return rc;
}

static int seed_document(strata_conn *conn, json_t *doc, const char *path,
                         const strata_seed_options *opt, strata_seed_report **out)
{
    seed_ctx c;
    memset(&c, 0, sizeof c);
    c.conn = conn;
    c.d = strata_conn_dialect(conn);
    c.opt = opt;
    c.path = path;
    char *tmp = xstrdup(path);
    c.dir = xstrdup(dirname(tmp));
    free(tmp);
    c.aliases = json_object();
    c.inline_items = json_object();
    c.lookups = json_object();
    c.progress = opt ? opt->progress : NULL;
    seed_now_utc(c.now);
    c.doc = doc;
    strata_seed_report *r = xcalloc(1, sizeof *r);
    double t0 = now_seconds();
    int rc = introspect_schema(conn, &c.s, NULL, NULL);
    if (!rc)
        rc = seed_run(&c, r);
    r->seconds = now_seconds() - t0;
    ctx_free(&c);
    if (rc) {
        strata_seed_report_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* Read a seed file: JSON with line:column on syntax errors. */
static int load_json(const char *path, json_t **out)
{
    json_error_t err;
    *out = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (*out)
        return 0;
    if (access(path, R_OK) != 0)
        return strata_set_error(STRATA_EIO, "cannot read seed file '%s': %s", path,
                                strerror(errno));
    return strata_set_error(STRATA_EINPUT, "%s:%d:%d: invalid JSON: %s", path, err.line, err.column,
                            err.text);
}

static int want_medusa(const json_t *doc, const strata_seed_options *opt, const char *path)
{
    int fmt = opt ? opt->format : STRATA_SEED_FORMAT_AUTO;
    if (fmt == STRATA_SEED_FORMAT_MEDUSA)
        return 1;
    if (fmt == STRATA_SEED_FORMAT_STRATA)
        return 0;
    (void)path;
    return medusa_is_seed(doc);
}

int strata_seed_file(strata_conn *conn, const char *path, const strata_seed_options *opt,
                     strata_seed_report **out)
{
    *out = NULL;
    json_t *doc;
    int rc = load_json(path, &doc);
    if (rc)
        return rc;
    int medusa = want_medusa(doc, opt, path);
    if (medusa) {
        json_t *conv = NULL;
        rc = medusa_convert(doc, path, &conv);
        json_decref(doc);
        if (rc)
            return rc;
        doc = conv;
    }
    rc = seed_document(conn, doc, path, opt, out);
    if (!rc)
        (*out)->format = xstrdup(medusa ? "medusa" : "strata");
    json_decref(doc);
    return rc;
}

int strata_seed_convert(const char *path, char **json_out)
{
    *json_out = NULL;
    json_t *doc;
    int rc = load_json(path, &doc);
    if (rc)
        return rc;
    if (!medusa_is_seed(doc)) {
        json_decref(doc);
        return strata_set_error(STRATA_EINPUT,
                                "%s: not a Medusa seed file (no store, users, regions, "
                                "shipping_options or products)",
                                path);
    }
    json_t *conv = NULL;
    rc = medusa_convert(doc, path, &conv);
    json_decref(doc);
    if (rc)
        return rc;
    *json_out = json_dumps(conv, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(conv);
    return 0;
}

void strata_seed_report_free(strata_seed_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ntables; i++)
        free(r->tables[i].table);
    free(r->tables);
    for (size_t i = 0; i < r->nwarnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
    free(r->format);
    free(r);
}

const char *strata_seed_mode_name(int mode)
{
    return mode_name(mode);
}

int strata_seed_mode_parse(const char *name)
{
    return mode_parse(name);
}
