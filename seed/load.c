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
 * This file runs the phases (seed_run) and holds what they share; the
 * phases themselves are plan.c (1), resolve.c, write.c and files.c (2) and
 * finish.c (3), around the context in load.h.
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
#include "load.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "introspect.h"
#include "options.h"

/* ---- helpers ---- */

int mode_parse(const char *s)
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

char *qi(const seed_ctx *c, const char *name)
{
    return strata_quote_ident(c->d, name);
}

/* "<file>: table 't', row N (path), column 'c': ..." */
int item_error(const seed_ctx *c, const seed_item *it, const char *col, const char *fmt, ...)
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

int unknown_column(seed_ctx *c, const char *where, const table *t, const char *name)
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
const strvec *seed_table_key(seed_table *st, const strvec *given, strvec *tmp)
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

int is_generator(const json_t *v)
{
    return json_is_object(v) && (json_object_get(v, "$id") || json_object_get(v, "$uuid") ||
                                 json_object_get(v, "$now") || json_object_get(v, "$password"));
}

/* The columns a row gives values for that are not generated. */
void item_given(const seed_item *it, strvec *out)
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

/* ---- progress ---- */

void progress_tick(seed_ctx *c, const char *table, long long rows, int done)
{
    if (!c->opt->progress_cb)
        return;
    double now = now_seconds();
    if (!done && now - c->last_tick < 0.5)
        return;
    c->last_tick = now;
    strata_seed_progress p;
    memset(&p, 0, sizeof p);
    p.table = table;
    p.rows = rows;
    p.seconds = now - c->started;
    p.rows_per_second = p.seconds > 0 ? (double)rows / p.seconds : 0.0;
    p.done = done;
    p.tables_done = c->tables_done;
    p.tables_total = c->norder;
    c->opt->progress_cb(&p, c->opt->progress_payload);
}

static void progress_start(seed_ctx *c)
{
    c->started = now_seconds();
    c->last_tick = c->started;
}

/* ---- the whole seed ---- */

/* Free everything the context owns: items, tables (their files, keys and
 * lists), synthetic foreign keys, updates, caches, the schema. The
 * document is the caller's. */
void item_free(seed_item *it)
{
    free(it->where);
    json_decref(it->row);
    json_decref(it->vals);
    json_decref(it->db);
    json_decref(it->gen);
    strvec_free(&it->deferred);
    free(it);
}

static void ctx_free(seed_ctx *c)
{
    for (size_t i = 0; i < c->nitems; i++)
        item_free(c->items[i]);
    free(c->items);
    for (size_t i = 0; i < c->ntables; i++) {
        seed_table *st = c->tables[i];
        free(st->items);
        for (size_t b = 0; b < st->nblocks; b++) {
            free(st->blocks[b].where);
            free(st->blocks[b].kept);
        }
        free(st->blocks);
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
    for (size_t i = 0; i < c->nupdates; i++) {
        free(c->updates[i].where);
        json_decref(c->updates[i].spec);
    }
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
    int rc = c->js ? seed_plan_stream(c) : seed_plan(c);
    if (rc || !r)
        return rc; /* without a report to fill: a check, phase 1 only */
    rc = seed_fit_database(c);
    if (rc)
        return rc;
    int own_tx = !strata_conn_in_transaction(c->conn);
    if (own_tx && (rc = strata_conn_begin(c->conn)) != 0)
        return rc;
    for (size_t i = 0; i < c->norder && !rc; i++) {
        seed_table *st = c->order[i];
        c->table_rows = 0;
        c->tables_done = i;
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

/* The schema a seed is checked against: the database's, with the tables
 * and enums of `model` (what the migrations build) in place of those it
 * has - pending migrations create or change them. */
static void overlay_model(schema *s, const schema *model)
{
    schema db = *s;
    schema_copy(s, model);
    for (size_t i = 0; i < db.ntables; i++)
        if (!schema_table(s, db.tables[i].name)) {
            s->tables = xgrow(s->tables, &s->cap_tables, s->ntables + 1, sizeof *s->tables);
            table_copy(&s->tables[s->ntables++], &db.tables[i]);
        }
    schema_tables_moved(s);
    for (size_t i = 0; i < db.nenums; i++)
        if (!schema_enum(s, db.enums[i].name)) {
            s->enums = xgrow(s->enums, &s->cap_enums, s->nenums + 1, sizeof *s->enums);
            enum_def *e = &s->enums[s->nenums++];
            e->name = xstrdup(db.enums[i].name);
            memset(&e->values, 0, sizeof e->values);
            for (size_t k = 0; k < db.enums[i].values.n; k++)
                strvec_push(&e->values, db.enums[i].values.v[k]);
        }
    schema_free(&db);
}

/* Load a seed document into the database, or with `out` NULL only check it
 * (phase 1), against the database's schema overlaid with `model` when
 * given: `doc` in memory, or the file `js` read as a stream (then
 * SEED_NOT_STREAMED when it is a Medusa seed file, before anything else is
 * done). */
static int seed_document(strata_conn *conn, json_t *doc, jstream *js, const char *path,
                         const strata_seed_options *opt, const schema *model,
                         strata_seed_report **out)
{
    seed_ctx c;
    memset(&c, 0, sizeof c);
    c.js = js;
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
    seed_now_utc(c.now);
    c.doc = doc;
    if (js) {
        int rc = seed_plan_stream_top(&c);
        if (rc) {
            ctx_free(&c);
            return rc;
        }
    }
    strata_seed_report *r = out ? xcalloc(1, sizeof *r) : NULL;
    double t0 = now_seconds();
    int rc = introspect_schema(conn, &c.s, NULL, NULL);
    if (!rc && model)
        overlay_model(&c.s, model);
    if (!rc)
        rc = seed_run(&c, r);
    if (r)
        r->seconds = now_seconds() - t0;
    if (js)
        json_decref(c.doc); /* the top-level keys seed_plan_stream_top read */
    ctx_free(&c);
    if (rc || !out) {
        strata_seed_report_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* Read a seed file: a regular file only (read_file), JSON with
 * line:column on syntax errors. */
static int load_json(const char *path, json_t **out)
{
    char *text;
    size_t len;
    *out = NULL;
    int rc = read_file(path, &text, &len);
    if (rc)
        return rc;
    json_error_t err;
    *out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    free(text);
    if (*out)
        return 0;
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

int strata_seed_file(strata_conn *conn, const char *path, const strata_seed_options *options,
                     strata_seed_report **out)
{
    *out = NULL;
    strata_seed_options checked;
    int rc = seed_options_get(options, &checked);
    if (rc)
        return rc;
    const strata_seed_options *opt = &checked;
    /* A Strata seed file is read as a stream, so its rows need not fit in
     * memory; a Medusa seed file (small, and converted as a whole) is
     * loaded whole. */
    if (opt->format != STRATA_SEED_FORMAT_MEDUSA) {
        jstream *js;
        rc = js_open(path, &js);
        if (!rc)
            rc = seed_document(conn, NULL, js, path, opt, NULL, out);
        js_close(js);
        if (rc != SEED_NOT_STREAMED) {
            if (!rc)
                (*out)->format = xstrdup("strata");
            return rc;
        }
    }
    json_t *doc;
    rc = load_json(path, &doc);
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
    rc = seed_document(conn, doc, NULL, path, opt, NULL, out);
    if (!rc)
        (*out)->format = xstrdup(medusa ? "medusa" : "strata");
    json_decref(doc);
    return rc;
}

int seed_read_file(const char *path, const strata_seed_options *opt, json_t **out, int *medusa)
{
    json_t *doc = NULL;
    *out = NULL;
    int rc = load_json(path, &doc);
    if (rc)
        return rc;
    int is_medusa = want_medusa(doc, opt, path);
    if (medusa)
        *medusa = is_medusa;
    if (is_medusa) {
        json_t *conv = NULL;
        rc = medusa_convert(doc, path, &conv);
        json_decref(doc);
        doc = conv;
    }
    *out = doc;
    return rc;
}

int strata_seed_check(strata_conn *conn, const char *path, const strata_seed_options *options,
                      const strata_options *migrations)
{
    strata_seed_options checked;
    int rc = seed_options_get(options, &checked);
    if (rc)
        return rc;
    strata_options mopt;
    if (migrations && (rc = options_get(migrations, &mopt)) != 0)
        return rc;
    schema model;
    schema_init(&model);
    if (migrations)
        rc = migrations_model(mopt.migrations_dir, &model, NULL);
    json_t *doc = NULL;
    if (!rc)
        rc = seed_read_file(path, &checked, &doc, NULL);
    if (!rc)
        rc = seed_document(conn, doc, NULL, path, &checked, migrations ? &model : NULL, NULL);
    json_decref(doc);
    schema_free(&model);
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
