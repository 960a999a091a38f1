/*
 * generate.c - `strata migration generate NAME --schema FILE`: the
 * migration that turns the schema the migrations build into a desired one.
 *
 * The desired schema is a JSON file of create_table / create_enum
 * operations (a list, or an object with "up"). Objects are matched by name:
 * tables, columns, indexes, constraints, enums. A renamed object therefore
 * shows up as a drop and an add - say so in review, or write the rename by
 * hand. The operations are ordered so that every step is valid on every
 * database (foreign keys dropped before what they need, added after), then
 * validated by replaying them on the model, which also yields the `down`.
 */
#include "introspect.h"
#include "flags.h"
#include "migration.h"
#include "opjson.h"
#include "options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static op *gen_op(op_kind k, const char *table)
{
    op *o = op_new(k);
    o->path = xasprintf("generated %s", op_names[k]);
    o->table = table ? xstrdup(table) : NULL;
    return o;
}

static int json_eq(const json_t *a, const json_t *b)
{
    if (!a || !b)
        return a == b;
    return json_equal((json_t *)a, (json_t *)b);
}

static int index_equal(const index_def *a, const index_def *b)
{
    if (a->unique != b->unique || a->constraint != b->constraint || a->ncols != b->ncols)
        return 0;
    for (size_t i = 0; i < a->ncols; i++)
        if (strcmp(a->cols[i].name, b->cols[i].name) != 0 || a->cols[i].desc != b->cols[i].desc)
            return 0;
    for (int d = 0; d < STRATA_DIALECT_COUNT; d++)
        if ((a->method[d] == NULL) != (b->method[d] == NULL) ||
            (a->method[d] && strcmp(a->method[d], b->method[d]) != 0))
            return 0;
    return json_eq(a->where, b->where);
}

static int fk_equal(const fk_def *a, const fk_def *b)
{
    return strcmp(a->ref_table, b->ref_table) == 0 && strvec_equal(&a->cols, &b->cols) &&
           strvec_equal(&a->ref_cols, &b->ref_cols) && a->on_delete == b->on_delete &&
           a->on_update == b->on_update;
}

static int default_equal(const col_default *a, const col_default *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == DEF_LITERAL)
        return json_eq(a->literal, b->literal);
    if (a->kind == DEF_SQL)
        for (int d = 0; d < STRATA_DIALECT_COUNT; d++)
            if ((a->sql[d] == NULL) != (b->sql[d] == NULL) ||
                (a->sql[d] && strcmp(a->sql[d], b->sql[d]) != 0))
                return 0;
    return 1;
}

/* The ops that turn `cur` into `want`, in a valid order. */
static void diff_ops(const schema *cur, const schema *want, op_list *out)
{
    /* enums first: new ones and changed values */
    for (size_t i = 0; i < want->nenums; i++) {
        const enum_def *w = &want->enums[i];
        const enum_def *c = schema_enum(cur, w->name);
        if (c && strvec_equal(&c->values, &w->values))
            continue;
        op *o = gen_op(c ? OP_ALTER_ENUM : OP_CREATE_ENUM, NULL);
        o->name = xstrdup(w->name);
        for (size_t v = 0; v < w->values.n; v++)
            strvec_push(&o->values, w->values.v[v]);
        op_list_push(out, o);
    }
    /* kept tables: drop what changes or goes */
    for (size_t i = 0; i < cur->ntables; i++) {
        const table *c = &cur->tables[i];
        const table *w = schema_table(want, c->name);
        if (!w)
            continue;
        for (size_t k = 0; k < c->nfks; k++) {
            const fk_def *wf = table_fk(w, c->fks[k].name);
            if (!wf || !fk_equal(wf, &c->fks[k])) {
                op *o = gen_op(OP_DROP_FOREIGN_KEY, c->name);
                o->name = xstrdup(c->fks[k].name);
                op_list_push(out, o);
            }
        }
        for (size_t k = 0; k < c->nchecks; k++) {
            const check_def *wc = table_check(w, c->checks[k].name);
            if (!wc || !json_eq(wc->check, c->checks[k].check)) {
                op *o = gen_op(OP_DROP_CHECK, c->name);
                o->name = xstrdup(c->checks[k].name);
                op_list_push(out, o);
            }
        }
        for (size_t k = 0; k < c->nidx; k++) {
            const index_def *wi = table_index(w, c->idx[k].name);
            if (!wi || !index_equal(wi, &c->idx[k])) {
                op *o = gen_op(c->idx[k].constraint ? OP_DROP_UNIQUE : OP_DROP_INDEX, c->name);
                o->name = xstrdup(c->idx[k].name);
                op_list_push(out, o);
            }
        }
    }
    /* tables that go: their foreign keys to other tables that go, first */
    for (size_t i = 0; i < cur->ntables; i++) {
        const table *c = &cur->tables[i];
        if (schema_table(want, c->name))
            continue;
        for (size_t k = 0; k < c->nfks; k++)
            if (strcmp(c->fks[k].ref_table, c->name) != 0 &&
                !schema_table(want, c->fks[k].ref_table)) {
                op *o = gen_op(OP_DROP_FOREIGN_KEY, c->name);
                o->name = xstrdup(c->fks[k].name);
                op_list_push(out, o);
            }
    }
    for (size_t i = 0; i < cur->ntables; i++)
        if (!schema_table(want, cur->tables[i].name))
            op_list_push(out, gen_op(OP_DROP_TABLE, cur->tables[i].name));
    /* kept tables: keys and columns */
    for (size_t i = 0; i < cur->ntables; i++) {
        const table *c = &cur->tables[i];
        const table *w = schema_table(want, c->name);
        if (!w)
            continue;
        int pk_changed = !strvec_equal(&c->pk, &w->pk);
        if (pk_changed && c->pk.n)
            op_list_push(out, gen_op(OP_DROP_PRIMARY_KEY, c->name));
        for (size_t k = 0; k < c->ncols; k++)
            if (!table_column(w, c->cols[k].name)) {
                op *o = gen_op(OP_DROP_COLUMN, c->name);
                o->name = xstrdup(c->cols[k].name);
                op_list_push(out, o);
            }
        for (size_t k = 0; k < w->ncols; k++) {
            const column *wc = &w->cols[k];
            const column *cc = table_column(c, wc->name);
            if (!cc) {
                op *o = gen_op(OP_ADD_COLUMN, c->name);
                o->col = xcalloc(1, sizeof *o->col);
                column_copy(o->col, wc);
                o->def = table_new(c->name);
                table_add_column(o->def, wc);
                op_list_push(out, o);
                continue;
            }
            unsigned alter = 0;
            if (!col_type_equal(&cc->type, &wc->type))
                alter |= ALTER_TYPE;
            if (cc->nullable != wc->nullable && !table_in_pk(w, wc->name))
                alter |= ALTER_NULLABLE;
            if (!default_equal(&cc->def, &wc->def))
                alter |= wc->def.kind == DEF_NONE ? ALTER_DROP_DEFAULT : ALTER_DEFAULT;
            if (!alter)
                continue;
            op *o = gen_op(OP_ALTER_COLUMN, c->name);
            o->name = xstrdup(wc->name);
            o->col = xcalloc(1, sizeof *o->col);
            column_copy(o->col, wc);
            o->alter = alter;
            op_list_push(out, o);
        }
        if (pk_changed && w->pk.n) {
            op *o = gen_op(OP_ADD_PRIMARY_KEY, c->name);
            for (size_t k = 0; k < w->pk.n; k++)
                strvec_push(&o->cols, w->pk.v[k]);
            o->name = xstrdup(w->pk_name ? w->pk_name : "");
            op_list_push(out, o);
        }
    }
    /* new tables */
    for (size_t i = 0; i < want->ntables; i++) {
        const table *w = &want->tables[i];
        if (schema_table(cur, w->name))
            continue;
        op *o = gen_op(OP_CREATE_TABLE, w->name);
        o->def = xcalloc(1, sizeof *o->def);
        table_copy(o->def, w);
        op_list_push(out, o);
    }
    /* kept tables: add what is new or changed */
    for (size_t i = 0; i < want->ntables; i++) {
        const table *w = &want->tables[i];
        const table *c = schema_table(cur, w->name);
        if (!c)
            continue;
        for (size_t k = 0; k < w->nidx; k++) {
            const index_def *ci = table_index(c, w->idx[k].name);
            if (ci && index_equal(ci, &w->idx[k]))
                continue;
            op *o = gen_op(w->idx[k].constraint ? OP_ADD_UNIQUE : OP_CREATE_INDEX, w->name);
            o->index = xcalloc(1, sizeof *o->index);
            index_copy(o->index, &w->idx[k]);
            o->name = xstrdup(w->idx[k].name);
            op_list_push(out, o);
        }
        for (size_t k = 0; k < w->nchecks; k++) {
            const check_def *cc = table_check(c, w->checks[k].name);
            if (cc && json_eq(cc->check, w->checks[k].check))
                continue;
            op *o = gen_op(OP_ADD_CHECK, w->name);
            o->check = xcalloc(1, sizeof *o->check);
            check_copy(o->check, &w->checks[k]);
            o->name = xstrdup(w->checks[k].name);
            op_list_push(out, o);
        }
        for (size_t k = 0; k < w->nfks; k++) {
            const fk_def *cf = table_fk(c, w->fks[k].name);
            if (cf && fk_equal(cf, &w->fks[k]))
                continue;
            op *o = gen_op(OP_ADD_FOREIGN_KEY, w->name);
            o->fk = xcalloc(1, sizeof *o->fk);
            fk_copy(o->fk, &w->fks[k]);
            o->name = xstrdup(w->fks[k].name);
            op_list_push(out, o);
        }
    }
    /* enums that go, once nothing uses them */
    for (size_t i = 0; i < cur->nenums; i++)
        if (!schema_enum(want, cur->enums[i].name)) {
            op *o = gen_op(OP_DROP_ENUM, NULL);
            o->name = xstrdup(cur->enums[i].name);
            op_list_push(out, o);
        }
}

/* Read the desired schema: create_table / create_enum operations. */
static int load_desired(const char *path, schema *out)
{
    char *text;
    int rc = read_file(path, &text, NULL);
    if (rc)
        return rc;
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    free(text);
    if (!root)
        return strata_set_error(STRATA_EINPUT, "%s:%d:%d: invalid JSON: %s", path, jerr.line,
                                jerr.column, jerr.text);
    json_t *ops = json_is_array(root) ? root : json_object_get(root, "up");
    if (!json_is_array(ops)) {
        json_decref(root);
        return strata_set_error(STRATA_EINPUT,
                                "%s: expected a list of create_table / create_enum operations "
                                "(or an object with \"up\")",
                                path);
    }
    size_t i;
    json_t *e;
    json_array_foreach(ops, i, e)
    {
        const char *k = json_string_value(json_object_get(e, "op"));
        if (!k || (strcmp(k, "create_table") != 0 && strcmp(k, "create_enum") != 0)) {
            json_decref(root);
            return strata_set_error(STRATA_EINPUT,
                                    "%s: [%zu]: a desired schema holds only create_table and "
                                    "create_enum operations, not '%s'",
                                    path, i, k ? k : "?");
        }
    }
    json_t *wrapper = json_pack("{s:O}", "up", ops);
    char *wtext = json_dumps(wrapper, 0);
    json_decref(wrapper);
    json_decref(root);
    migration *m = NULL;
    rc = migration_parse(path, "0_desired", wtext, &m);
    free(wtext);
    if (rc)
        return rc;
    schema_init(out);
    model_begin_migration(out, 0);
    for (size_t j = 0; j < m->up.n && !rc; j++) {
        apply_ctx ctx = {path, &m->up, j, NULL};
        rc = model_apply(out, m->up.v[j], &ctx, NULL, NULL);
    }
    migration_free(m);
    if (rc)
        schema_free(out);
    return rc;
}

int strata_migration_generate(const strata_options *opt, const char *name, const char *schema_file,
                              char **path_out, size_t *nops)
{
    *path_out = NULL;
    *nops = 0;
    strata_options o;
    int rc = options_get(opt, &o);
    if (rc)
        return rc;
    const char *dir = o.migrations_dir ? o.migrations_dir : "./migrations";
    rc = migration_name_check(name);
    if (rc)
        return rc;
    schema want;
    rc = load_desired(schema_file, &want);
    if (rc)
        return rc;
    migration_set all, set; /* set: the ones that apply with the flags (flags.h) */
    /* the first migration of a project may be a generated one: no directory
     * yet is no migration yet (elsewhere a missing directory is an error) */
    struct stat st;
    if (!strchr(dir, ':') && stat(dir, &st) != 0 && errno == ENOENT) {
        memset(&all, 0, sizeof all);
        memset(&set, 0, sizeof set);
    } else {
        rc = migrations_load_applying(dir, o.flags, o.nflags, NULL, &all, &set, NULL);
    }
    if (rc) {
        schema_free(&want);
        return rc;
    }
    schema cur;
    schema_init(&cur);
    rc = plan_replay(&set, set.n, &cur, NULL);
    op_list ops = {0};
    if (!rc)
        diff_ops(&cur, &want, &ops);
    /* validate by applying, and collect the inverses for the down */
    op_list *inv = xcalloc(ops.n + 1, sizeof *inv);
    model_begin_migration(&cur, (int)set.n);
    for (size_t j = 0; j < ops.n && !rc; j++) {
        apply_ctx ctx = {schema_file, &ops, j, NULL};
        char *why = NULL;
        rc = model_apply(&cur, ops.v[j], &ctx, &inv[j], &why);
        free(why);
    }
    if (!rc && ops.n == 0)
        rc = strata_set_error(STRATA_EDRIFT,
                              "nothing to generate: the migrations already build that schema");
    if (!rc) {
        json_t *up = json_array(), *down = json_array();
        for (size_t j = 0; j < ops.n; j++)
            json_array_append_new(up, op_json(ops.v[j]));
        for (size_t j = ops.n; j-- > 0;)
            for (size_t k = 0; k < inv[j].n; k++)
                json_array_append_new(down, op_json(inv[j].v[k]));
        json_t *root = json_pack("{s:s, s:o, s:o}", "description", name, "up", up, "down", down);
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(root);
        char *file = xasprintf("%s\n", text);
        rc = migration_file_write(dir, name, file, path_out);
        if (!rc)
            *nops = ops.n;
        free(file);
        free(text);
    }
    for (size_t j = 0; j < ops.n; j++)
        op_list_free(&inv[j]);
    free(inv);
    op_list_free(&ops);
    schema_free(&cur);
    schema_free(&want);
    free(set.v);
    migration_set_free(&all);
    return rc;
}
