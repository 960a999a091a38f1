/*
 * ir.c - constructors, deep copies, destructors and lookups for the neutral
 * IR: types, columns, indexes, foreign keys, checks, tables, the schema
 * model and operations.
 */
#include "ir.h"
#include "nameset.h"

#include <stdlib.h>
#include <string.h>

const char *const type_names[TY__COUNT] = {
    "serial",    "bigserial",   "smallint", "integer", "bigint", "decimal", "real",
    "double",    "boolean",     "string",   "text",    "uuid",   "date",    "time",
    "timestamp", "timestamptz", "json",     "jsonb",   "binary", "enum",
};

const char *const fk_action_names[4] = {"no_action", "restrict", "cascade", "set_null"};

const char *const op_names[OP__COUNT] = {
    "create_table", "drop_table",      "rename_table",     "add_column",
    "drop_column",  "rename_column",   "alter_column",     "create_index",
    "drop_index",   "add_foreign_key", "drop_foreign_key", "add_unique",
    "drop_unique",  "add_primary_key", "drop_primary_key", "add_check",
    "drop_check",   "create_enum",     "alter_enum",       "drop_enum",
    "insert",       "update",          "delete",           "sql",
};

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void strvec_copy(strvec *dst, const strvec *src)
{
    memset(dst, 0, sizeof *dst);
    for (size_t i = 0; i < src->n; i++)
        strvec_push(dst, src->v[i]);
}

static json_t *json_ref(json_t *j)
{
    return j ? json_incref(j) : NULL;
}

/* ---- types, defaults, columns ---- */

void col_type_free(col_type *t)
{
    free(t->enum_name);
    free(t->pg_type);
    strvec_free(&t->values);
    memset(t, 0, sizeof *t);
}

void col_type_copy(col_type *dst, const col_type *src)
{
    *dst = *src;
    dst->enum_name = dup_or_null(src->enum_name);
    dst->pg_type = dup_or_null(src->pg_type);
    strvec_copy(&dst->values, &src->values);
}

void col_default_free(col_default *d)
{
    if (d->literal)
        json_decref(d->literal);
    for (int i = 0; i < STRATA_DIALECT_COUNT; i++)
        free(d->sql[i]);
    memset(d, 0, sizeof *d);
}

void col_default_copy(col_default *dst, const col_default *src)
{
    dst->kind = src->kind;
    dst->literal = json_ref(src->literal);
    for (int i = 0; i < STRATA_DIALECT_COUNT; i++)
        dst->sql[i] = dup_or_null(src->sql[i]);
}

void column_free(column *c)
{
    free(c->name);
    col_type_free(&c->type);
    col_default_free(&c->def);
    free(c->comment);
    memset(c, 0, sizeof *c);
}

void column_copy(column *dst, const column *src)
{
    memset(dst, 0, sizeof *dst);
    dst->name = dup_or_null(src->name);
    col_type_copy(&dst->type, &src->type);
    dst->nullable = src->nullable;
    col_default_copy(&dst->def, &src->def);
    dst->comment = dup_or_null(src->comment);
}

/* ---- indexes, foreign keys, checks ---- */

void index_free(index_def *ix)
{
    free(ix->name);
    for (size_t i = 0; i < ix->ncols; i++)
        free(ix->cols[i].name);
    free(ix->cols);
    if (ix->where)
        json_decref(ix->where);
    for (int i = 0; i < STRATA_DIALECT_COUNT; i++)
        free(ix->method[i]);
    memset(ix, 0, sizeof *ix);
}

void index_copy(index_def *dst, const index_def *src)
{
    *dst = *src;
    dst->name = dup_or_null(src->name);
    dst->cols = xcalloc(src->ncols + 1, sizeof(index_col));
    for (size_t i = 0; i < src->ncols; i++) {
        dst->cols[i].name = xstrdup(src->cols[i].name);
        dst->cols[i].desc = src->cols[i].desc;
    }
    dst->where = json_ref(src->where);
    for (int i = 0; i < STRATA_DIALECT_COUNT; i++)
        dst->method[i] = dup_or_null(src->method[i]);
}

void fk_free(fk_def *fk)
{
    free(fk->name);
    strvec_free(&fk->cols);
    free(fk->ref_table);
    strvec_free(&fk->ref_cols);
    memset(fk, 0, sizeof *fk);
}

void fk_copy(fk_def *dst, const fk_def *src)
{
    *dst = *src;
    dst->name = dup_or_null(src->name);
    strvec_copy(&dst->cols, &src->cols);
    dst->ref_table = dup_or_null(src->ref_table);
    strvec_copy(&dst->ref_cols, &src->ref_cols);
}

void check_free(check_def *ck)
{
    free(ck->name);
    if (ck->check)
        json_decref(ck->check);
    memset(ck, 0, sizeof *ck);
}

void check_copy(check_def *dst, const check_def *src)
{
    dst->name = dup_or_null(src->name);
    dst->check = json_ref(src->check);
}

/* ---- tables ---- */

table *table_new(const char *name)
{
    table *t = xcalloc(1, sizeof *t);
    t->name = xstrdup(name);
    t->created_in = -1;
    return t;
}

void table_free_contents(table *t)
{
    free(t->name);
    for (size_t i = 0; i < t->ncols; i++)
        column_free(&t->cols[i]);
    free(t->cols);
    strvec_free(&t->pk);
    free(t->pk_name);
    for (size_t i = 0; i < t->nidx; i++)
        index_free(&t->idx[i]);
    free(t->idx);
    for (size_t i = 0; i < t->nfks; i++)
        fk_free(&t->fks[i]);
    free(t->fks);
    for (size_t i = 0; i < t->nchecks; i++)
        check_free(&t->checks[i]);
    free(t->checks);
    memset(t, 0, sizeof *t);
}

void table_free(table *t)
{
    if (!t)
        return;
    table_free_contents(t);
    free(t);
}

void table_copy(table *dst, const table *src)
{
    memset(dst, 0, sizeof *dst);
    dst->name = xstrdup(src->name);
    for (size_t i = 0; i < src->ncols; i++)
        table_add_column(dst, &src->cols[i]);
    strvec_copy(&dst->pk, &src->pk);
    dst->pk_name = dup_or_null(src->pk_name);
    for (size_t i = 0; i < src->nidx; i++)
        table_add_index(dst, &src->idx[i]);
    for (size_t i = 0; i < src->nfks; i++)
        table_add_fk(dst, &src->fks[i]);
    for (size_t i = 0; i < src->nchecks; i++)
        table_add_check(dst, &src->checks[i]);
    dst->created_in = src->created_in;
    dst->has_rows = src->has_rows;
}

void table_add_column(table *t, const column *c)
{
    t->cols = xgrow(t->cols, &t->cap_cols, t->ncols + 1, sizeof *t->cols);
    column_copy(&t->cols[t->ncols++], c);
}

void table_add_index(table *t, const index_def *ix)
{
    t->idx = xgrow(t->idx, &t->cap_idx, t->nidx + 1, sizeof *t->idx);
    index_copy(&t->idx[t->nidx++], ix);
}

void table_add_fk(table *t, const fk_def *fk)
{
    t->fks = xgrow(t->fks, &t->cap_fks, t->nfks + 1, sizeof *t->fks);
    fk_copy(&t->fks[t->nfks++], fk);
}

void table_add_check(table *t, const check_def *ck)
{
    t->checks = xgrow(t->checks, &t->cap_checks, t->nchecks + 1, sizeof *t->checks);
    check_copy(&t->checks[t->nchecks++], ck);
}

/* Lookups: each kind of object has one position finder (-1 when absent),
 * used by a const lookup for readers and a _mut one for owners. */

int table_column_pos(const table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int table_index_pos(const table *t, const char *name)
{
    for (size_t i = 0; i < t->nidx; i++)
        if (strcmp(t->idx[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int table_fk_pos(const table *t, const char *name)
{
    for (size_t i = 0; i < t->nfks; i++)
        if (strcmp(t->fks[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int table_check_pos(const table *t, const char *name)
{
    for (size_t i = 0; i < t->nchecks; i++)
        if (strcmp(t->checks[i].name, name) == 0)
            return (int)i;
    return -1;
}

const column *table_column(const table *t, const char *name)
{
    int i = table_column_pos(t, name);
    return i < 0 ? NULL : &t->cols[i];
}

column *table_column_mut(table *t, const char *name)
{
    int i = table_column_pos(t, name);
    return i < 0 ? NULL : &t->cols[i];
}

const index_def *table_index(const table *t, const char *name)
{
    int i = table_index_pos(t, name);
    return i < 0 ? NULL : &t->idx[i];
}

index_def *table_index_mut(table *t, const char *name)
{
    int i = table_index_pos(t, name);
    return i < 0 ? NULL : &t->idx[i];
}

const fk_def *table_fk(const table *t, const char *name)
{
    int i = table_fk_pos(t, name);
    return i < 0 ? NULL : &t->fks[i];
}

fk_def *table_fk_mut(table *t, const char *name)
{
    int i = table_fk_pos(t, name);
    return i < 0 ? NULL : &t->fks[i];
}

const check_def *table_check(const table *t, const char *name)
{
    int i = table_check_pos(t, name);
    return i < 0 ? NULL : &t->checks[i];
}

check_def *table_check_mut(table *t, const char *name)
{
    int i = table_check_pos(t, name);
    return i < 0 ? NULL : &t->checks[i];
}

int table_in_pk(const table *t, const char *col)
{
    return strvec_find(&t->pk, col) >= 0;
}

const column *table_serial_pk(const table *t)
{
    if (t->pk.n != 1)
        return NULL;
    const column *c = table_column(t, t->pk.v[0]);
    return c && type_is_serial(c->type.kind) ? c : NULL;
}

/* ---- schema ---- */

void schema_init(schema *s)
{
    memset(s, 0, sizeof *s);
}

void schema_free(schema *s)
{
    nameset_free(s->names);
    nameset_free(s->table_pos);
    for (size_t i = 0; i < s->ntables; i++)
        table_free_contents(&s->tables[i]);
    free(s->tables);
    for (size_t i = 0; i < s->nenums; i++) {
        free(s->enums[i].name);
        strvec_free(&s->enums[i].values);
    }
    free(s->enums);
    memset(s, 0, sizeof *s);
}

void schema_copy(schema *dst, const schema *src)
{
    schema_init(dst);
    dst->tables = xcalloc(src->ntables + 1, sizeof *dst->tables);
    dst->cap_tables = src->ntables + 1;
    for (size_t i = 0; i < src->ntables; i++)
        table_copy(&dst->tables[i], &src->tables[i]);
    dst->ntables = src->ntables;
    dst->enums = xcalloc(src->nenums + 1, sizeof *dst->enums);
    dst->cap_enums = src->nenums + 1;
    for (size_t i = 0; i < src->nenums; i++) {
        dst->enums[i].name = xstrdup(src->enums[i].name);
        strvec_copy(&dst->enums[i].values, &src->enums[i].values);
    }
    dst->nenums = src->nenums;
    dst->migration_index = src->migration_index;
}

void schema_tables_moved(schema *s)
{
    nameset_free(s->table_pos);
    s->table_pos = NULL;
    s->table_pos_n = 0;
}

void schema_table_removing(schema *s, size_t i)
{
    if (s->table_pos && s->table_pos_n == s->ntables && i + 1 == s->ntables) {
        /* the last table: no other position changes */
        nameset_set_value(s->table_pos, s->tables[i].name, 0);
        s->table_pos_n--;
    } else {
        schema_tables_moved(s);
    }
}

/* schema_table's cache, brought up to date: tables appended since it was
 * made are added; a cache that cannot be right any more is rebuilt. */
static const nameset *table_positions(const schema *cs)
{
    schema *s = (schema *)cs; /* the cache changes, the schema does not */
    if (s->table_pos && s->table_pos_n > s->ntables)
        schema_tables_moved(s);
    if (!s->table_pos)
        s->table_pos = nameset_new();
    for (; s->table_pos_n < s->ntables; s->table_pos_n++)
        nameset_set_value(s->table_pos, s->tables[s->table_pos_n].name, s->table_pos_n + 1);
    return s->table_pos;
}

/* The position of table `name` in s->tables, or -1. */
static int schema_table_pos(const schema *s, const char *name)
{
    if (s->ntables < 16) {
        for (size_t i = 0; i < s->ntables; i++)
            if (strcmp(s->tables[i].name, name) == 0)
                return (int)i;
        return -1;
    }
    size_t pos = nameset_value(table_positions(s), name);
    if (pos && !(pos <= s->ntables && strcmp(s->tables[pos - 1].name, name) == 0)) {
        /* moved without schema_tables_moved: rebuild rather than trust it */
        schema_tables_moved((schema *)s);
        pos = nameset_value(table_positions(s), name);
    }
    return pos ? (int)pos - 1 : -1;
}

static int schema_enum_pos(const schema *s, const char *name)
{
    for (size_t i = 0; i < s->nenums; i++)
        if (strcmp(s->enums[i].name, name) == 0)
            return (int)i;
    return -1;
}

const table *(schema_table)(const schema *s, const char *name)
{
    int i = schema_table_pos(s, name);
    return i < 0 ? NULL : &s->tables[i];
}

table *schema_table_mut(schema *s, const char *name)
{
    int i = schema_table_pos(s, name);
    return i < 0 ? NULL : &s->tables[i];
}

const table *schema_table_ci(const schema *s, const char *name)
{
    for (size_t i = 0; i < s->ntables; i++)
        if (str_ieq(s->tables[i].name, name))
            return &s->tables[i];
    return NULL;
}

const enum_def *(schema_enum)(const schema *s, const char *name)
{
    int i = schema_enum_pos(s, name);
    return i < 0 ? NULL : &s->enums[i];
}

enum_def *schema_enum_mut(schema *s, const char *name)
{
    int i = schema_enum_pos(s, name);
    return i < 0 ? NULL : &s->enums[i];
}

const strvec *column_enum_values(const schema *s, const column *c)
{
    if (c->type.kind != TY_ENUM)
        return NULL;
    if (c->type.enum_name) {
        const enum_def *e = schema_enum(s, c->type.enum_name);
        return e ? &e->values : NULL;
    }
    return &c->type.values;
}

/* ---- type helpers ---- */

int type_is_integer(type_kind k)
{
    return k == TY_SMALLINT || k == TY_INTEGER || k == TY_BIGINT || k == TY_SERIAL ||
           k == TY_BIGSERIAL;
}

int type_is_serial(type_kind k)
{
    return k == TY_SERIAL || k == TY_BIGSERIAL;
}

int type_is_text(type_kind k)
{
    return k == TY_STRING || k == TY_TEXT;
}

int type_is_json(type_kind k)
{
    return k == TY_JSON || k == TY_JSONB;
}

int type_is_time(type_kind k)
{
    return k == TY_TIME || k == TY_TIMESTAMP || k == TY_TIMESTAMPTZ;
}

/* The integer width class of an integer type (serial = integer). */
static int int_class(type_kind k)
{
    switch (k) {
    case TY_SMALLINT:
        return 1;
    case TY_INTEGER:
    case TY_SERIAL:
        return 2;
    case TY_BIGINT:
    case TY_BIGSERIAL:
        return 3;
    default:
        return 0;
    }
}

int types_fk_compatible(const col_type *a, const col_type *b)
{
    if (type_is_integer(a->kind) || type_is_integer(b->kind))
        return int_class(a->kind) && int_class(a->kind) == int_class(b->kind);
    if (a->kind == TY_STRING && b->kind == TY_STRING)
        return 1;
    if (a->kind == TY_DECIMAL && b->kind == TY_DECIMAL)
        return a->precision == b->precision && a->scale == b->scale;
    if (a->kind == TY_ENUM || b->kind == TY_ENUM)
        return 0;
    return a->kind == b->kind && a->kind != TY_TEXT && a->kind != TY_BINARY &&
           !type_is_json(a->kind);
}

char *type_describe(const col_type *t)
{
    switch (t->kind) {
    case TY_STRING:
        return xasprintf("string(%d)", t->length);
    case TY_DECIMAL:
        return xasprintf("decimal(%d,%d)", t->precision, t->scale);
    case TY_TIME:
    case TY_TIMESTAMP:
    case TY_TIMESTAMPTZ:
        if (t->precision != 6)
            return xasprintf("%s(%d)", type_names[t->kind], t->precision);
        return xstrdup(type_names[t->kind]);
    case TY_ENUM:
        if (t->enum_name)
            return xasprintf("enum %s", t->enum_name);
        return xstrdup("enum");
    default:
        return xstrdup(type_names[t->kind]);
    }
}

int col_type_equal(const col_type *a, const col_type *b)
{
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case TY_STRING:
        return a->length == b->length;
    case TY_DECIMAL:
        return a->precision == b->precision && a->scale == b->scale;
    case TY_TIME:
    case TY_TIMESTAMP:
    case TY_TIMESTAMPTZ:
        return a->precision == b->precision;
    case TY_ENUM:
        if (a->enum_name || b->enum_name)
            return a->enum_name && b->enum_name && strcmp(a->enum_name, b->enum_name) == 0;
        if (a->values.n != b->values.n)
            return 0;
        for (size_t i = 0; i < a->values.n; i++)
            if (strcmp(a->values.v[i], b->values.v[i]) != 0)
                return 0;
        return 1;
    default:
        return 1;
    }
}

/* ---- predicates ---- */

void predicate_columns(const json_t *pred, strvec *out)
{
    if (!json_is_object(pred))
        return;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)pred, key, val)
    {
        if (strcmp(key, "column") == 0 && json_is_string(val)) {
            if (strvec_find(out, json_string_value(val)) < 0)
                strvec_push(out, json_string_value(val));
        } else if (json_is_array(val)) {
            size_t i;
            json_t *e;
            json_array_foreach(val, i, e) predicate_columns(e, out);
        } else if (json_is_object(val)) {
            predicate_columns(val, out);
        }
    }
}

json_t *predicate_rename_column(const json_t *pred, const char *from, const char *to)
{
    if (json_is_array(pred)) {
        json_t *arr = json_array();
        size_t i;
        json_t *e;
        json_array_foreach((json_t *)pred, i, e)
            json_array_append_new(arr, predicate_rename_column(e, from, to));
        return arr;
    }
    if (!json_is_object(pred))
        return json_deep_copy(pred);
    json_t *obj = json_object();
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)pred, key, val)
    {
        if (strcmp(key, "column") == 0 && json_is_string(val) &&
            strcmp(json_string_value(val), from) == 0)
            json_object_set_new(obj, key, json_string(to));
        else
            json_object_set_new(obj, key, predicate_rename_column(val, from, to));
    }
    return obj;
}

int index_uses_column(const index_def *ix, const char *col)
{
    for (size_t k = 0; k < ix->ncols; k++)
        if (strcmp(ix->cols[k].name, col) == 0)
            return 1;
    if (ix->where) {
        strvec cols = STRVEC_INIT;
        predicate_columns(ix->where, &cols);
        int used = strvec_find(&cols, col) >= 0;
        strvec_free(&cols);
        return used;
    }
    return 0;
}

int check_uses_column(const check_def *ck, const char *col)
{
    strvec cols = STRVEC_INIT;
    predicate_columns(ck->check, &cols);
    int used = strvec_find(&cols, col) >= 0;
    strvec_free(&cols);
    return used;
}

int fk_uses_column(const fk_def *fk, const char *table_name, const char *col)
{
    if (strvec_find(&fk->cols, col) >= 0)
        return 1;
    return strcmp(fk->ref_table, table_name) == 0 && strvec_find(&fk->ref_cols, col) >= 0;
}

/* ---- operations ---- */

op *op_new(op_kind kind)
{
    op *o = xcalloc(1, sizeof *o);
    o->kind = kind;
    return o;
}

void op_free(op *o)
{
    if (!o)
        return;
    free(o->path);
    free(o->table);
    free(o->name);
    free(o->to);
    table_free(o->def);
    if (o->col) {
        column_free(o->col);
        free(o->col);
    }
    if (o->index) {
        index_free(o->index);
        free(o->index);
    }
    if (o->fk) {
        fk_free(o->fk);
        free(o->fk);
    }
    if (o->check) {
        check_free(o->check);
        free(o->check);
    }
    strvec_free(&o->cols);
    strvec_free(&o->values);
    if (o->rows)
        json_decref(o->rows);
    if (o->set)
        json_decref(o->set);
    if (o->where)
        json_decref(o->where);
    for (int i = 0; i <= STRATA_DIALECT_COUNT; i++)
        strvec_free(&o->sql[i]);
    free(o);
}

/* A deep copy of an operation: every string, table, column, index, key,
 * check and list it owns is copied, JSON values are shared by reference
 * (they are never changed in place). */
op *op_copy(const op *o)
{
    op *c = op_new(o->kind);
    c->path = dup_or_null(o->path);
    c->table = dup_or_null(o->table);
    c->name = dup_or_null(o->name);
    c->to = dup_or_null(o->to);
    c->if_exists = o->if_exists;
    c->if_not_exists = o->if_not_exists;
    c->online = o->online;
    if (o->def) {
        c->def = xcalloc(1, sizeof *c->def);
        table_copy(c->def, o->def);
    }
    if (o->col) {
        c->col = xcalloc(1, sizeof *c->col);
        column_copy(c->col, o->col);
    }
    c->alter = o->alter;
    if (o->index) {
        c->index = xcalloc(1, sizeof *c->index);
        index_copy(c->index, o->index);
    }
    if (o->fk) {
        c->fk = xcalloc(1, sizeof *c->fk);
        fk_copy(c->fk, o->fk);
    }
    if (o->check) {
        c->check = xcalloc(1, sizeof *c->check);
        check_copy(c->check, o->check);
    }
    strvec_copy(&c->cols, &o->cols);
    strvec_copy(&c->values, &o->values);
    c->rows = json_ref(o->rows);
    c->set = json_ref(o->set);
    c->where = json_ref(o->where);
    for (int i = 0; i <= STRATA_DIALECT_COUNT; i++) {
        strvec_copy(&c->sql[i], &o->sql[i]);
        c->has_sql[i] = o->has_sql[i];
    }
    c->restore = o->restore;
    return c;
}

void op_list_push(op_list *l, op *o)
{
    l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof *l->v);
    l->v[l->n++] = o;
}

void op_list_free(op_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        op_free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}
