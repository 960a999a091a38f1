/*
 * plan.c - what the runner will run: the migrations with their downs
 * (explicit or derived), validated offline against the schema model, and
 * compiled for the target one migration at a time; the statements that undo
 * an operation; and the script a dry run or `migrations sql` prints.
 *
 * Compiling needs the schema model as it was before the migration (and, for
 * a down, after it). The runner keeps one model that moves forward as
 * migrations are compiled in ascending order (model_advance), so compiling n
 * migrations replays each once.
 */
#include "runner.h"

#include <stdlib.h>
#include <string.h>

/* A warning, unless the report holds it already (plan_select may run
 * twice): in the report and to the log (warn). */
static void report_warn_once(runner *r, const char *msg)
{
    const strata_report *rep = r->report;
    for (size_t i = 0; i < rep->nwarnings; i++)
        if (strcmp(rep->warnings[i], msg) == 0)
            return;
    warn(r, "%s", msg);
}

int plan_select(runner *r)
{
    strvec present = STRVEC_INIT, warnings = STRVEC_INIT;
    for (size_t i = 0; i < r->hist.n; i++)
        strvec_push(&present, r->hist.v[i].id);
    migration_set view;
    int *in_set = xcalloc(r->all.n + 1, sizeof *in_set);
    migrations_select(&r->all, &r->flags, r->conn ? &present : NULL, r->present_only, &view, in_set,
                      &warnings);
    strvec_free(&present);
    for (size_t i = 0; i < warnings.n; i++)
        report_warn_once(r, warnings.v[i]);
    strvec_free(&warnings);
    if (r->in_set && view.n == r->set.n && memcmp(view.v, r->set.v, view.n * sizeof *view.v) == 0) {
        free(view.v);
        free(in_set);
        return 0;
    }
    free(r->set.v);
    r->set = view;
    free(r->in_set);
    r->in_set = in_set;
    r->report->skipped = (int)(r->all.n - r->set.n);
    if (r->model_live) {
        schema_free(&r->model);
        r->model_live = 0;
    }
    plan_free(&r->plan);
    return plan_derive(r);
}

int plan_derive(runner *r)
{
    schema s;
    schema_init(&s);
    int rc = plan_replay(&r->set, r->set.n, &s, &r->plan);
    schema_free(&s);
    return rc;
}

int migration_index(const runner *r, const char *id)
{
    for (size_t i = 0; i < r->set.n; i++)
        if (strcmp(r->set.v[i]->id, id) == 0)
            return (int)i;
    return -1;
}

int migration_is_progressive(const compile_target *tg, const migration *m)
{
    return !(tg->caps & STRATA_CAP_TRANSACTIONAL_DDL) || !m->transaction;
}

/* Compile each op of `ops` in turn: apply it to the model `s` (validating
 * it), then compile it with the model after it and a snapshot of its table
 * and enum as they were before (what the compilers need to restate or
 * rebuild them). */
int compile_ops(const compile_target *tg, schema *s, const migration *m, const op_list *ops,
                stmt_list *per_op, rebuild_runs *runs)
{
    for (size_t j = 0; j < ops->n; j++) {
        const op *o = ops->v[j];
        table before_t;
        int have_t = 0;
        strvec before_enum = STRVEC_INIT;
        if (o->table) {
            const table *t = schema_table(s, o->table);
            if (t) {
                table_copy(&before_t, t);
                have_t = 1;
            }
        }
        if (o->kind == OP_ALTER_ENUM || o->kind == OP_DROP_ENUM) {
            const enum_def *e = schema_enum(s, o->name);
            for (size_t k = 0; e && k < e->values.n; k++)
                strvec_push(&before_enum, e->values.v[k]);
        }
        apply_ctx ctx = {m->path, ops, j, NULL};
        char *why = NULL;
        int rc = model_apply(s, o, &ctx, NULL, &why);
        free(why);
        if (!rc) {
            before_state bs = {have_t ? &before_t : NULL, &before_enum};
            rc = compile_op(tg, s, &bs, o, &ctx, &per_op[j]);
        }
        if (!rc && runs)
            rebuild_runs_step(runs, tg, s, have_t ? &before_t : NULL, ops, j, per_op, &ctx);
        if (have_t)
            table_free_contents(&before_t);
        strvec_free(&before_enum);
        if (rc)
            return rc;
    }
    if (runs)
        rebuild_runs_done(runs);
    return 0;
}

void compiled_free(compiled *c)
{
    for (size_t j = 0; j < c->nops; j++)
        stmt_list_free(&c->per_op[j]);
    free(c->per_op);
    op_batches_free(c->batches, c->nbatches);
    memset(c, 0, sizeof *c);
}

const stmt_list *batch_stmts(const compiled *c, size_t b)
{
    const op_batch *x = &c->batches[b];
    return x->last > x->first ? &x->stmts : &c->per_op[x->first];
}

size_t batch_span(runner *r, size_t idx, int down, size_t j)
{
    compiled c;
    size_t span = 1;
    if (compile_migration(r, idx, down, &c) != 0) {
        strata_error_clear();
        return span;
    }
    for (size_t b = 0; b < c.nbatches; b++)
        if (c.batches[b].first == j)
            span = c.batches[b].last - j + 1;
    compiled_free(&c);
    return span;
}

/* Batching is on unless STRATA_BATCH=0 (bench/, tests/ compare both). */
static int batching_enabled(void)
{
    const char *e = getenv("STRATA_BATCH");
    return !e || strcmp(e, "0") != 0;
}

/* The batches of a compiled migration: batch_ops's (with SQLite's runs of
 * one rebuild, found by compile_ops), or one per op. */
static int make_batches(const runner *r, compiled *c, rebuild_runs *runs)
{
    if (batching_enabled())
        return batch_ops(&r->tg, c->ops, c->per_op, runs, &c->batches, &c->nbatches);
    c->batches = xcalloc(c->nops + 1, sizeof *c->batches);
    for (size_t j = 0; j < c->nops; j++)
        c->batches[j].first = c->batches[j].last = j;
    c->nbatches = c->nops;
    return 0;
}

int compiled_needs_fk_off(const compiled *c)
{
    for (size_t j = 0; j < c->nops; j++)
        if (stmt_list_needs_fk_off(&c->per_op[j]))
            return 1;
    return 0;
}

int compiled_needs_no_tx(const compiled *c)
{
    for (size_t j = 0; j < c->nops; j++)
        if (stmt_list_needs_no_tx(&c->per_op[j]))
            return 1;
    return 0;
}

/*
 * Bring the runner's schema model to the state after migrations [0, upto).
 * Compiling a migration needs the model of everything before it; replaying
 * every earlier migration again for each one made compiling n migrations
 * O(n^2) replays (about a minute for 1,000). The model moves forward
 * instead, so compiling in ascending order replays each migration once;
 * asking for an earlier state starts over. The replay is plan_replay's:
 * model_begin_migration, then model_apply of each `up` op.
 */
static int model_advance(runner *r, size_t upto)
{
    if (r->model_live && r->model_pos > upto) {
        schema_free(&r->model);
        r->model_live = 0;
    }
    if (!r->model_live) {
        schema_init(&r->model);
        r->model_pos = 0;
        r->model_live = 1;
    }
    while (r->model_pos < upto) {
        const migration *m = r->set.v[r->model_pos];
        model_begin_migration(&r->model, (int)r->model_pos);
        for (size_t j = 0; j < m->up.n; j++) {
            apply_ctx ctx = {m->path, &m->up, j, NULL};
            int rc = model_apply(&r->model, m->up.v[j], &ctx, NULL, NULL);
            if (rc) {
                schema_free(&r->model);
                r->model_live = 0;
                return rc;
            }
        }
        r->model_pos++;
    }
    return 0;
}

/* Compiling up advances the runner's model past the migration; a down is
 * compiled on a copy of the model after it, which is then dropped. */
int compile_migration(runner *r, size_t idx, int down, compiled *out)
{
    memset(out, 0, sizeof *out);
    const migration *m = r->set.v[idx];
    int rc = model_advance(r, down ? idx + 1 : idx);
    if (rc)
        return rc;
    /* up advances the model itself; down works on a copy */
    schema copy;
    schema *s = &r->model;
    if (down) {
        schema_copy(&copy, &r->model);
        s = &copy;
    }
    model_begin_migration(s, (int)idx);
    out->index = idx;
    out->down = down;
    out->ops = down ? &r->plan.downs[idx] : &m->up;
    out->nops = out->ops->n;
    out->per_op = xcalloc(out->nops + 1, sizeof *out->per_op);
    rebuild_runs runs;
    memset(&runs, 0, sizeof runs);
    int want_runs = r->tg.dialect == STRATA_SQLITE && batching_enabled();
    rc = compile_ops(&r->tg, s, m, out->ops, out->per_op, want_runs ? &runs : NULL);
    if (!rc)
        rc = make_batches(r, out, &runs);
    rebuild_runs_free(&runs);
    if (down) {
        schema_free(&copy);
    } else if (rc) {
        schema_free(&r->model); /* left somewhere inside migration idx */
        r->model_live = 0;
    } else {
        r->model_pos = idx + 1;
    }
    if (rc)
        compiled_free(out);
    return rc;
}

int compile_pending(runner *r, size_t idx, const unsigned char *present, compiled *out)
{
    size_t later = idx + 1;
    while (later < r->set.n && !present[later])
        later++;
    if (later >= r->set.n)
        return compile_migration(r, idx, 0, out);
    /* The database has migrations after idx: the model is every migration
     * it holds when idx runs, in version order, and idx after them. */
    memset(out, 0, sizeof *out);
    schema s;
    schema_init(&s);
    int rc = 0;
    for (size_t i = 0; i < r->set.n && !rc; i++) {
        const migration *m = r->set.v[i];
        if (i == idx || (i > idx && !present[i]))
            continue;
        model_begin_migration(&s, (int)i);
        for (size_t j = 0; j < m->up.n && !rc; j++) {
            apply_ctx ctx = {m->path, &m->up, j, NULL};
            rc = model_apply(&s, m->up.v[j], &ctx, NULL, NULL);
        }
    }
    if (!rc) {
        model_begin_migration(&s, (int)idx);
        out->index = idx;
        out->ops = &r->set.v[idx]->up;
        out->nops = out->ops->n;
        out->per_op = xcalloc(out->nops + 1, sizeof *out->per_op);
        rebuild_runs runs;
        memset(&runs, 0, sizeof runs);
        int want_runs = r->tg.dialect == STRATA_SQLITE && batching_enabled();
        rc =
            compile_ops(&r->tg, &s, r->set.v[idx], out->ops, out->per_op, want_runs ? &runs : NULL);
        if (!rc)
            rc = make_batches(r, out, &runs);
        rebuild_runs_free(&runs);
        if (rc) {
            strata_error_prefix("applying %s after newer migrations: ", r->set.v[idx]->id);
            compiled_free(out);
        }
    }
    schema_free(&s);
    return rc;
}

/* The undo of op j is the inverse the model derives when it applies op j
 * (after ops [0, j) of the same migration), compiled from the state after
 * op j. Raw SQL has no inverse. Assumes nothing about the runner's forward
 * model: it replays from the start into a model of its own. */
int undo_statements(runner *r, size_t idx, int down, size_t j, stmt_list *out)
{
    const migration *m = r->set.v[idx];
    const op_list *ops = down ? &r->plan.downs[idx] : &m->up;
    schema s;
    schema_init(&s);
    int rc = plan_replay(&r->set, down ? idx + 1 : idx, &s, NULL);
    op_list inv = {0};
    model_begin_migration(&s, (int)idx);
    for (size_t k = 0; k <= j && !rc; k++) {
        apply_ctx ctx = {m->path, ops, k, NULL};
        char *why = NULL;
        rc = model_apply(&s, ops->v[k], &ctx, k == j ? &inv : NULL, &why);
        free(why);
    }
    if (!rc && ops->v[j]->kind == OP_SQL)
        rc = strata_set_error(STRATA_ESTATE, "%s: %s (sql) cannot be undone automatically", m->path,
                              ops->v[j]->path);
    if (!rc) {
        stmt_list *per = xcalloc(inv.n + 1, sizeof *per);
        rc = compile_ops(&r->tg, &s, m, &inv, per, NULL);
        for (size_t k = 0; k < inv.n; k++) {
            for (size_t q = 0; q < per[k].n; q++) {
                stmt *st = &per[k].v[q];
                out->v = xgrow(out->v, &out->cap, out->n + 1, sizeof *out->v);
                out->v[out->n++] = *st;
            }
            free(per[k].v);
        }
        free(per);
    }
    op_list_free(&inv);
    schema_free(&s);
    return rc;
}

/* The script of a compiled migration is what the runner runs: its
 * transaction (unless it runs op by op), foreign keys off around it where a
 * statement needs that, and each op's statements under a comment naming the
 * op. */
void render_compiled(const runner *r, const compiled *c, sbuf *out)
{
    const migration *m = r->set.v[c->index];
    strata_dialect d = r->tg.dialect;
    sbuf_addf(out, "-- %s %s\n", c->down ? "revert" : "migration", m->id);
    int progressive = migration_is_progressive(&r->tg, m) || compiled_needs_no_tx(c);
    const char *fk_off = compiled_needs_fk_off(c) ? fk_enforcement_sql(d, 0) : NULL;
    if (fk_off)
        sbuf_addf(out, "%s;\n", fk_off);
    if (!progressive)
        sbuf_addf(out, "%s;\n", tx_begin_sql(d));
    for (size_t b = 0; b < c->nbatches; b++) {
        const op_batch *x = &c->batches[b];
        for (size_t j = x->first; j <= x->last; j++)
            sbuf_addf(out, "-- %s (%s)\n", c->ops->v[j]->path ? c->ops->v[j]->path : "",
                      op_names[c->ops->v[j]->kind]);
        if (x->last > x->first)
            sbuf_addf(out, "-- strata: the %zu operations above as one %s\n",
                      x->last - x->first + 1, d == STRATA_SQLITE ? "rebuild" : "statement");
        stmt_list_render(batch_stmts(c, b), d, out);
    }
    const char *fk_check = fk_off ? fk_violation_query(d) : NULL;
    if (fk_check)
        sbuf_addf(out,
                  "-- strata: the next query must return no row, else: rows violate a foreign "
                  "key\n-- %s;\n",
                  fk_check);
    if (!progressive)
        sbuf_add(out, "COMMIT;\n");
    if (fk_off)
        sbuf_addf(out, "%s;\n", fk_enforcement_sql(d, 1));
}
