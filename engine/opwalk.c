/*
 * opwalk.c - walking migrations op by op for one database (see opwalk.h).
 *
 * The same steps as the runner's compile: a copy of the op's table (and
 * enum values) before it, model_apply, compile_op against the model after
 * it. Unlike the runner, a compile error does not end the walk: lint
 * reports it as a finding and looks at the rest.
 */
#include "opwalk.h"

#include <stdlib.h>
#include <string.h>

/* One op: snapshot, apply, compile, hand over. */
static int walk_op(schema *s, const migration *m, size_t index, size_t j, const compile_target *tg,
                   op_step_fn fn, void *payload)
{
    const op *o = m->up.v[j];
    table before_t;
    int have_t = 0;
    strvec before_enum = STRVEC_INIT;
    const table *t = o->table ? schema_table(s, o->table) : NULL;
    if (t) {
        table_copy(&before_t, t);
        have_t = 1;
    }
    if (o->kind == OP_ALTER_ENUM || o->kind == OP_DROP_ENUM) {
        const enum_def *e = schema_enum(s, o->name);
        for (size_t k = 0; e && k < e->values.n; k++)
            strvec_push(&before_enum, e->values.v[k]);
    }
    apply_ctx ctx = {m->path, &m->up, j, NULL};
    int rc = model_apply(s, o, &ctx, NULL, NULL);
    if (!rc) {
        before_state bs = {have_t ? &before_t : NULL, &before_enum};
        stmt_list l = {0};
        int crc = compile_op(tg, s, &bs, o, &ctx, &l);
        char *err = crc ? xstrdup(strata_error_message()) : NULL;
        if (crc) {
            stmt_list_free(&l);
            strata_error_clear();
        }
        op_step step = {m, index, j, o, s, &bs, &l, crc, err, tg};
        rc = fn(&step, payload);
        free(err);
        stmt_list_free(&l);
    }
    if (have_t)
        table_free_contents(&before_t);
    strvec_free(&before_enum);
    return rc;
}

int ops_walk(const migration_set *set, size_t from, size_t to, const int *selected,
             const compile_target *tg, op_step_fn fn, migration_end_fn end, void *payload)
{
    schema s;
    schema_init(&s);
    int rc = 0;
    for (size_t i = 0; i < to && i < set->n && !rc; i++) {
        const migration *m = set->v[i];
        model_begin_migration(&s, (int)i);
        int walk = i >= from && (!selected || selected[i]);
        for (size_t j = 0; j < m->up.n && !rc; j++) {
            if (walk) {
                rc = walk_op(&s, m, i, j, tg, fn, payload);
            } else {
                apply_ctx ctx = {m->path, &m->up, j, NULL};
                rc = model_apply(&s, m->up.v[j], &ctx, NULL, NULL);
            }
        }
        if (!rc && walk && end)
            rc = end(m, i, &s, payload);
    }
    schema_free(&s);
    return rc;
}
