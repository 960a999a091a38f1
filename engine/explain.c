/*
 * explain.c - `migrations plan`: what `migrations run` would do to the
 * connected database, operation by operation, before it does anything.
 *
 * runner.c picks the pending migrations as run does; here each of their
 * operations is compiled for the connected server (opwalk.c: the same
 * compile_op the runner uses, against the same schema model), its cost
 * there estimated (dialects/cost.c) and the size of the table it reads,
 * rewrites, copies or rebuilds looked up (rowcount.c). Nothing is written.
 */
#include "cost.h"
#include "opwalk.h"
#include "rowcount.h"
#include "runner.h"

#include <stdlib.h>
#include <string.h>

typedef struct explainer {
    runner *r;
    strata_plan *p;
    size_t cap_ops, cap_migrations;
    strvec counts; /* "table\trows", asked once each */
} explainer;

static long long rows_cached(explainer *x, const char *table)
{
    size_t len = strlen(table);
    for (size_t i = 0; i < x->counts.n; i++)
        if (strncmp(x->counts.v[i], table, len) == 0 && x->counts.v[i][len] == '\t')
            return strtoll(x->counts.v[i] + len + 1, NULL, 10);
    long long n = table_rows(x->r->conn, table, NULL);
    strvec_pushf(&x->counts, "%s\t%lld", table, n);
    return n;
}

static int explain_op(const op_step *s, void *payload)
{
    explainer *x = payload;
    strata_plan *p = x->p;
    if (s->compile_rc) /* as run would: nothing runs */
        return strata_set_error(STRATA_EINPUT, "%s", s->compile_error);
    if (!p->nmigrations || strcmp(p->migrations[p->nmigrations - 1].id, s->m->id) != 0) {
        p->migrations =
            xgrow(p->migrations, &x->cap_migrations, p->nmigrations + 1, sizeof *p->migrations);
        strata_plan_migration *pm = &p->migrations[p->nmigrations++];
        pm->id = xstrdup(s->m->id);
        pm->transactional = !migration_is_progressive(s->tg, s->m);
        pm->first_op = p->n;
        pm->nops = 0;
    }
    strata_plan_migration *pm = &p->migrations[p->nmigrations - 1];
    op_cost c;
    op_cost_estimate(s->tg, s->after, s->before, s->o, s->stmts, &c);
    p->ops = xgrow(p->ops, &x->cap_ops, p->n + 1, sizeof *p->ops);
    strata_plan_op *po = &p->ops[p->n++];
    memset(po, 0, sizeof *po);
    po->migration = xstrdup(s->m->id);
    po->path = xstrdup(s->o->path ? s->o->path : "");
    po->op = op_names[s->o->kind];
    const char *table = c.tables.n ? c.tables.v[0] : s->o->table;
    po->table = table ? xstrdup(table) : NULL;
    sbuf b = SBUF_INIT;
    stmt_list_render(s->stmts, s->tg->dialect, &b);
    po->sql = sbuf_detach(&b);
    po->cost = c.cost;
    po->algorithm = s->tg->dialect == STRATA_MYSQL && c.algorithm != MY_ALG_NONE
                        ? xstrdup(my_algorithm_name(c.algorithm))
                        : NULL;
    po->lock = xstrdup(c.lock ? c.lock : "");
    po->detail = xstrdup(c.detail ? c.detail : "");
    po->blocks_writes = c.blocks_writes;
    po->new_table = c.new_table;
    po->rows = c.cost >= STRATA_COST_INPLACE && c.cost != STRATA_COST_UNKNOWN && table
                   ? rows_cached(x, table)
                   : -1;
    po->outside_tx = stmt_list_needs_no_tx(s->stmts);
    if (po->outside_tx)
        pm->transactional = 0;
    pm->nops++;
    p->by_cost[c.cost]++;
    op_cost_free(&c);
    return 0;
}

int explain_pending(runner *r, const size_t *pending, size_t n, strata_plan **out)
{
    *out = NULL;
    explainer x;
    memset(&x, 0, sizeof x);
    x.r = r;
    x.p = xcalloc(1, sizeof *x.p);
    x.p->dialect = r->tg.dialect;
    x.p->server_version = xstrdup(strata_conn_server_version(r->conn));
    int *selected = xcalloc(r->set.n + 1, sizeof *selected);
    for (size_t k = 0; k < n; k++)
        selected[pending[k]] = 1;
    int rc = n ? ops_walk(&r->set, 0, r->set.n, selected, &r->tg, explain_op, NULL, &x) : 0;
    free(selected);
    strvec_free(&x.counts);
    if (rc) {
        strata_plan_free(x.p);
        return rc;
    }
    *out = x.p;
    return 0;
}

void strata_plan_free(strata_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        strata_plan_op *o = &p->ops[i];
        free(o->migration);
        free(o->path);
        free(o->table);
        free(o->sql);
        free(o->algorithm);
        free(o->lock);
        free(o->detail);
    }
    for (size_t i = 0; i < p->nmigrations; i++)
        free(p->migrations[i].id);
    free(p->ops);
    free(p->migrations);
    free(p->server_version);
    free(p);
}
