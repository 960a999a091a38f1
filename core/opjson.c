/*
 * opjson.c - operations back to the migration format's JSON, for the files
 * Strata writes itself: `db pull` (a schema as create_table / create_enum
 * operations) and `migration generate` (the operations between two
 * schemas, with their down).
 */
#include "opjson.h"
#include "names.h"

#include <string.h>

static json_t *strvec_json(const strvec *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->n; i++)
        json_array_append_new(a, json_string(v->v[i]));
    return a;
}

static void type_into(json_t *o, const col_type *t)
{
    json_object_set_new(o, "type", json_string(type_names[t->kind]));
    switch (t->kind) {
    case TY_STRING:
        if (t->length != 255)
            json_object_set_new(o, "length", json_integer(t->length));
        break;
    case TY_DECIMAL:
        json_object_set_new(o, "precision", json_integer(t->precision));
        if (t->scale)
            json_object_set_new(o, "scale", json_integer(t->scale));
        break;
    case TY_TIME:
    case TY_TIMESTAMP:
    case TY_TIMESTAMPTZ:
        if (t->precision != 6)
            json_object_set_new(o, "precision", json_integer(t->precision));
        break;
    case TY_ENUM:
        if (t->enum_name)
            json_object_set_new(o, "enum", json_string(t->enum_name));
        else
            json_object_set_new(o, "values", strvec_json(&t->values));
        break;
    default:
        break;
    }
}

static json_t *default_json(const col_default *d)
{
    switch (d->kind) {
    case DEF_NONE:
        return NULL;
    case DEF_LITERAL:
        return json_incref(d->literal);
    case DEF_NOW:
        return json_pack("{s:s}", "expr", "now");
    case DEF_UUID:
        return json_pack("{s:s}", "expr", "uuid");
    case DEF_SQL: {
        json_t *s = json_object();
        for (int i = 0; i < STRATA_DIALECT_COUNT; i++)
            if (d->sql[i])
                json_object_set_new(s, strata_dialect_name((strata_dialect)i),
                                    json_string(d->sql[i]));
        return json_pack("{s:o}", "sql", s);
    }
    }
    return NULL;
}

json_t *column_json(const column *c, int in_pk)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name));
    type_into(o, &c->type);
    if (!c->nullable && !in_pk && !type_is_serial(c->type.kind))
        json_object_set_new(o, "nullable", json_false());
    json_t *d = default_json(&c->def);
    if (d && !(c->def.kind == DEF_LITERAL && json_is_null(c->def.literal)))
        json_object_set_new(o, "default", d);
    else if (d)
        json_decref(d);
    if (c->comment)
        json_object_set_new(o, "comment", json_string(c->comment));
    return o;
}

static json_t *index_cols_json(const index_def *ix)
{
    json_t *a = json_array();
    for (size_t i = 0; i < ix->ncols; i++) {
        if (ix->cols[i].desc)
            json_array_append_new(
                a, json_pack("{s:s, s:s}", "column", ix->cols[i].name, "order", "desc"));
        else
            json_array_append_new(a, json_string(ix->cols[i].name));
    }
    return a;
}

json_t *index_json(const index_def *ix)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(ix->name));
    json_object_set_new(o, "columns", index_cols_json(ix));
    if (ix->constraint)
        return o;
    if (ix->unique)
        json_object_set_new(o, "unique", json_true());
    if (ix->where)
        json_object_set(o, "where", ix->where);
    int same = 1;
    for (int d = 1; d < STRATA_DIALECT_COUNT; d++)
        if ((ix->method[d] == NULL) != (ix->method[0] == NULL) ||
            (ix->method[d] && strcmp(ix->method[d], ix->method[0]) != 0))
            same = 0;
    if (same && ix->method[0])
        json_object_set_new(o, "method", json_string(ix->method[0]));
    else if (!same) {
        json_t *m = json_object();
        for (int d = 0; d < STRATA_DIALECT_COUNT; d++)
            if (ix->method[d])
                json_object_set_new(m, strata_dialect_name((strata_dialect)d),
                                    json_string(ix->method[d]));
        json_object_set_new(o, "method", m);
    }
    return o;
}

json_t *fk_json(const fk_def *fk)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(fk->name));
    json_object_set_new(o, "columns", strvec_json(&fk->cols));
    json_object_set_new(
        o, "references",
        json_pack("{s:s, s:o}", "table", fk->ref_table, "columns", strvec_json(&fk->ref_cols)));
    if (fk->on_delete != FK_NO_ACTION)
        json_object_set_new(o, "on_delete", json_string(fk_action_names[fk->on_delete]));
    if (fk->on_update != FK_NO_ACTION)
        json_object_set_new(o, "on_update", json_string(fk_action_names[fk->on_update]));
    return o;
}

json_t *table_json(const table *t)
{
    json_t *o = json_pack("{s:s, s:s}", "op", "create_table", "table", t->name);
    json_t *cols = json_array();
    for (size_t i = 0; i < t->ncols; i++)
        json_array_append_new(cols, column_json(&t->cols[i], table_in_pk(t, t->cols[i].name)));
    json_object_set_new(o, "columns", cols);
    if (t->pk.n)
        json_object_set_new(o, "primary_key", strvec_json(&t->pk));
    char *dflt = name_generate(t->name, NULL, 0, "pkey");
    if (t->pk.n && t->pk_name && strcmp(t->pk_name, dflt) != 0)
        json_object_set_new(o, "primary_key_name", json_string(t->pk_name));
    free(dflt);
    json_t *uq = json_array(), *ix = json_array();
    for (size_t i = 0; i < t->nidx; i++)
        json_array_append_new(t->idx[i].constraint ? uq : ix, index_json(&t->idx[i]));
    if (json_array_size(uq))
        json_object_set_new(o, "unique", uq);
    else
        json_decref(uq);
    if (json_array_size(ix))
        json_object_set_new(o, "indexes", ix);
    else
        json_decref(ix);
    if (t->nfks) {
        json_t *a = json_array();
        for (size_t i = 0; i < t->nfks; i++)
            json_array_append_new(a, fk_json(&t->fks[i]));
        json_object_set_new(o, "foreign_keys", a);
    }
    if (t->nchecks) {
        json_t *a = json_array();
        for (size_t i = 0; i < t->nchecks; i++)
            json_array_append_new(
                a, json_pack("{s:s, s:O}", "name", t->checks[i].name, "check", t->checks[i].check));
        json_object_set_new(o, "checks", a);
    }
    return o;
}

/* An operation as migration-format JSON (a new reference), for files Strata
 * writes: what parse.c reads back as the same op. create_table is the
 * whole table (table_json); alter_column says only what it changes. */
json_t *op_json(const op *o)
{
    json_t *j = json_pack("{s:s}", "op", op_names[o->kind]);
    if (o->table && o->kind != OP_CREATE_TABLE)
        json_object_set_new(j, "table", json_string(o->table));
    switch (o->kind) {
    case OP_CREATE_TABLE:
        json_decref(j);
        return table_json(o->def);
    case OP_DROP_TABLE:
        break;
    case OP_RENAME_TABLE:
        json_object_set_new(j, "to", json_string(o->to));
        break;
    case OP_ADD_COLUMN:
        json_object_set_new(j, "column", column_json(o->col, 0));
        break;
    case OP_DROP_COLUMN:
        json_object_set_new(j, "column", json_string(o->name));
        break;
    case OP_RENAME_COLUMN:
        json_object_set_new(j, "column", json_string(o->name));
        json_object_set_new(j, "to", json_string(o->to));
        break;
    case OP_ALTER_COLUMN:
        json_object_set_new(j, "column", json_string(o->name));
        if (o->alter & ALTER_TYPE)
            type_into(j, &o->col->type);
        if (o->alter & ALTER_NULLABLE)
            json_object_set_new(j, "nullable", json_boolean(o->col->nullable));
        if (o->alter & ALTER_DEFAULT) {
            json_t *d = default_json(&o->col->def);
            json_object_set_new(j, "default", d ? d : json_null());
        }
        if (o->alter & ALTER_DROP_DEFAULT)
            json_object_set_new(j, "drop_default", json_true());
        break;
    case OP_CREATE_INDEX:
    case OP_ADD_UNIQUE: {
        json_t *ix = index_json(o->index);
        json_object_update(j, ix);
        json_decref(ix);
        break;
    }
    case OP_DROP_INDEX:
    case OP_DROP_FOREIGN_KEY:
    case OP_DROP_UNIQUE:
    case OP_DROP_CHECK:
    case OP_DROP_ENUM:
        json_object_set_new(j, "name", json_string(o->name));
        break;
    case OP_ADD_FOREIGN_KEY: {
        json_t *fk = fk_json(o->fk);
        json_object_update(j, fk);
        json_decref(fk);
        break;
    }
    case OP_ADD_PRIMARY_KEY:
        json_object_set_new(j, "columns", strvec_json(&o->cols));
        if (o->name && *o->name)
            json_object_set_new(j, "name", json_string(o->name));
        break;
    case OP_DROP_PRIMARY_KEY:
        break;
    case OP_ADD_CHECK:
        json_object_set_new(j, "name", json_string(o->check->name));
        json_object_set(j, "check", o->check->check);
        break;
    case OP_CREATE_ENUM:
    case OP_ALTER_ENUM:
        json_object_set_new(j, "name", json_string(o->name));
        json_object_set_new(j, "values", strvec_json(&o->values));
        break;
    case OP_INSERT:
        json_object_set(j, "rows", o->rows);
        break;
    case OP_UPDATE:
        json_object_set(j, "set", o->set);
        if (o->where)
            json_object_set(j, "where", o->where);
        break;
    case OP_DELETE:
        if (o->where)
            json_object_set(j, "where", o->where);
        break;
    case OP_SQL: {
        static const char *const keys[] = {"postgres", "mysql", "sqlite", "all"};
        for (int k = 0; k <= STRATA_DIALECT_COUNT; k++)
            if (o->has_sql[k])
                json_object_set_new(j, keys[k], strvec_json(&o->sql[k]));
        break;
    }
    case OP__COUNT:
        break;
    }
    if (o->online)
        json_object_set_new(j, "online", json_true());
    return j;
}
