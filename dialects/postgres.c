/*
 * postgres.c - the PostgreSQL compiler.
 *
 * PostgreSQL can express every operation directly: DDL is transactional,
 * ALTER TABLE adds and drops every kind of constraint, enums are types.
 * Inline enums become types named <table>_<column>_enum (TypeORM's and
 * Medusa's convention) created before and dropped after their column.
 * Foreign keys to a table created later in the same migration are added
 * when that table is created. "online" indexes are built CONCURRENTLY and
 * "online" foreign keys and checks added NOT VALID, then validated, each
 * statement in a transaction of its own (STMT_NO_TX).
 */
#include "names.h"
#include "sqlgen.h"

#include <stdlib.h>
#include <string.h>

/* A neutral type as PostgreSQL declares it; an inline enum is its own type
 * <table>_<column>_enum (created with the column), a named enum the
 * create_enum type. */
static void pg_type(sbuf *b, const cctx *c, const column *col)
{
    const col_type *t = &col->type;
    switch (t->kind) {
    case TY_SERIAL:
        sbuf_add(b, "serial");
        break;
    case TY_BIGSERIAL:
        sbuf_add(b, "bigserial");
        break;
    case TY_SMALLINT:
        sbuf_add(b, "smallint");
        break;
    case TY_INTEGER:
        sbuf_add(b, "integer");
        break;
    case TY_BIGINT:
        sbuf_add(b, "bigint");
        break;
    case TY_DECIMAL:
        sbuf_addf(b, "numeric(%d,%d)", t->precision, t->scale);
        break;
    case TY_REAL:
        sbuf_add(b, "real");
        break;
    case TY_DOUBLE:
        sbuf_add(b, "double precision");
        break;
    case TY_BOOLEAN:
        sbuf_add(b, "boolean");
        break;
    case TY_STRING:
        sbuf_addf(b, "varchar(%d)", t->length);
        break;
    case TY_TEXT:
        sbuf_add(b, "text");
        break;
    case TY_UUID:
        sbuf_add(b, "uuid");
        break;
    case TY_DATE:
        sbuf_add(b, "date");
        break;
    case TY_TIME:
        sbuf_addf(b, "time(%d)", t->precision);
        break;
    case TY_TIMESTAMP:
        sbuf_addf(b, "timestamp(%d)", t->precision);
        break;
    case TY_TIMESTAMPTZ:
        sbuf_addf(b, "timestamptz(%d)", t->precision);
        break;
    case TY_JSON:
        sbuf_add(b, "json");
        break;
    case TY_JSONB:
        sbuf_add(b, "jsonb");
        break;
    case TY_BINARY:
        sbuf_add(b, "bytea");
        break;
    case TY_ENUM:
        qid(b, c, t->enum_name ? t->enum_name : t->pg_type);
        break;
    case TY__COUNT:
        break;
    }
}

static int column_def(sbuf *b, const cctx *c, const column *col)
{
    qid(b, c, col->name);
    sbuf_addc(b, ' ');
    pg_type(b, c, col);
    if (!col->nullable)
        sbuf_add(b, " NOT NULL");
    return render_default(b, c, col);
}

static void enum_values(sbuf *b, const cctx *c, const strvec *v)
{
    for (size_t i = 0; i < v->n; i++) {
        if (i)
            sbuf_add(b, ", ");
        qstr(b, c, v->v[i]);
    }
}

static void create_enum_type(const cctx *c, const char *name, const strvec *values)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "CREATE TYPE ");
    qid(&b, c, name);
    sbuf_add(&b, " AS ENUM (");
    enum_values(&b, c, values);
    sbuf_addc(&b, ')');
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
}

static void drop_enum_type(const cctx *c, const char *name)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "DROP TYPE IF EXISTS ");
    qid(&b, c, name);
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
}

/* The query that finds index `name` left INVALID by a CREATE INDEX
 * CONCURRENTLY that failed or was interrupted. */
static char *invalid_index_query(const cctx *c, const char *name)
{
    sbuf q = SBUF_INIT, id = SBUF_INIT;
    qid(&id, c, name);
    sbuf_add(&q, "SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(");
    qstr(&q, c, sbuf_str(&id));
    sbuf_add(&q, ") AND NOT indisvalid");
    sbuf_free(&id);
    return sbuf_detach(&q);
}

static char *drop_index_concurrently(const cctx *c, const char *name)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "DROP INDEX CONCURRENTLY IF EXISTS ");
    qid(&b, c, name);
    return sbuf_detach(&b);
}

/* An online index is built CONCURRENTLY, outside the migration's
 * transaction: writes go on while it is built. A build that fails (or a
 * process that dies during it) leaves an INVALID index behind; one left by
 * an earlier attempt is dropped first, and a failing build drops its own. */
static void online_index_steps(const cctx *c, const index_def *ix)
{
    stmt_add_if_row(c->out, STMT_NO_TX, invalid_index_query(c, ix->name),
                    drop_index_concurrently(c, ix->name),
                    xasprintf("an interrupted build left index \"%s\" INVALID", ix->name));
}

static int create_index(const cctx *c, const table *t, const index_def *ix, int if_not_exists,
                        int online)
{
    const char *method = ix->method[STRATA_POSTGRES];
    for (size_t i = 0; i < ix->ncols && (!method || !strcmp(method, "btree")); i++) {
        const column *col = table_column(t, ix->cols[i].name);
        if (col && col->type.kind == TY_JSON)
            return cerr(c,
                        "index '%s': column '%s' is json, which PostgreSQL cannot btree-index "
                        "(jsonb can)",
                        ix->name, col->name);
    }
    if (method && ix->unique && strcmp(method, "btree") != 0)
        return cerr(c, "index '%s': a unique index must use btree on PostgreSQL", ix->name);
    sbuf b = SBUF_INIT;
    sbuf_add(&b, ix->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
    if (online)
        sbuf_add(&b, "CONCURRENTLY ");
    if (if_not_exists)
        sbuf_add(&b, "IF NOT EXISTS ");
    qid(&b, c, ix->name);
    sbuf_add(&b, " ON ");
    qid(&b, c, t->name);
    if (method && strcmp(method, "btree") != 0)
        sbuf_addf(&b, " USING %s", method);
    sbuf_add(&b, " (");
    render_index_cols(&b, c, ix);
    sbuf_addc(&b, ')');
    if (ix->where) {
        sbuf_add(&b, " WHERE ");
        int rc = render_predicate(&b, c, t, ix->where);
        if (rc) {
            sbuf_free(&b);
            return rc;
        }
    }
    if (!online) {
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        return 0;
    }
    online_index_steps(c, ix);
    stmt_add_owned(c->out, STMT_NO_TX, sbuf_detach(&b));
    stmt_set_cleanup(c->out, invalid_index_query(c, ix->name),
                     drop_index_concurrently(c, ix->name));
    return 0;
}

/* PostgreSQL has no btree (so no unique, no key) over json; jsonb is fine. */
static int refuse_json(const cctx *c, const table *t, const char *what, const char *const *cols,
                       size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const column *col = table_column(t, cols[i]);
        if (col && col->type.kind == TY_JSON)
            return cerr(c,
                        "%s: column '%s' is json, which PostgreSQL cannot btree-index (jsonb "
                        "can)",
                        what, col->name);
    }
    return 0;
}

static int add_constraint_unique(const cctx *c, const table *t, const index_def *ix)
{
    for (size_t i = 0; i < ix->ncols; i++) {
        int rc = refuse_json(c, t, ix->name, (const char *const *)&ix->cols[i].name, 1);
        if (rc)
            return rc;
    }
    add_unique(c, t, ix);
    return 0;
}

static void comment_on(const cctx *c, const table *t, const column *col)
{
    if (!col->comment)
        return;
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "COMMENT ON COLUMN ");
    qid(&b, c, t->name);
    sbuf_addc(&b, '.');
    qid(&b, c, col->name);
    sbuf_add(&b, " IS ");
    qstr(&b, c, col->comment);
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
}

static void alter_simple(const cctx *c, const char *table, const char *fmt_tail_a, const char *name,
                         const char *fmt_tail_b)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, table);
    sbuf_add(&b, fmt_tail_a);
    qid(&b, c, name);
    sbuf_add(&b, fmt_tail_b);
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
}

/* ALTER TABLE t ALTER COLUMN c SET DEFAULT ... (the column's default) */
static int set_default(const cctx *c, const char *table_name, const column *col)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, table_name);
    sbuf_add(&b, " ALTER COLUMN ");
    qid(&b, c, col->name);
    sbuf_add(&b, " SET");
    int rc = render_default(&b, c, col);
    if (rc) {
        sbuf_free(&b);
        return rc;
    }
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    return 0;
}

/* CREATE TABLE on PostgreSQL: the types of inline enums first, then the
 * table with its key, unique constraints, checks and the foreign keys to
 * tables that exist already (the others are added with their table), then
 * its indexes and column comments. A json column cannot be in a key or an
 * index (PostgreSQL cannot btree-index json). */
static int compile_create_table(const cctx *c)
{
    if (c->before->table && c->o->if_not_exists)
        return 0;
    const table *t = find_table(c, c->o->table);
    int rc = refuse_json(c, t, "primary key", (const char *const *)t->pk.v, t->pk.n);
    for (size_t i = 0; i < t->nidx && !rc; i++)
        for (size_t k = 0; k < t->idx[i].ncols && !rc; k++)
            rc = refuse_json(c, t, t->idx[i].name, (const char *const *)&t->idx[i].cols[k].name, 1);
    if (rc)
        return rc;
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].type.kind == TY_ENUM && !t->cols[i].type.enum_name)
            create_enum_type(c, t->cols[i].type.pg_type, &t->cols[i].type.values);
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "CREATE TABLE ");
    if (c->o->if_not_exists)
        sbuf_add(&b, "IF NOT EXISTS ");
    qid(&b, c, t->name);
    sbuf_add(&b, " (\n  ");
    for (size_t i = 0; i < t->ncols && !rc; i++) {
        if (i)
            sbuf_add(&b, ",\n  ");
        rc = column_def(&b, c, &t->cols[i]);
    }
    if (t->pk.n) {
        sbuf_add(&b, ",\n  ");
        render_pk_clause(&b, c, t);
    }
    for (size_t i = 0; i < t->nidx; i++) {
        const index_def *ix = &t->idx[i];
        if (!ix->constraint)
            continue;
        sbuf_add(&b, ",\n  ");
        render_unique_clause(&b, c, ix);
    }
    for (size_t i = 0; i < t->nchecks && !rc; i++) {
        sbuf_add(&b, ",\n  ");
        rc = render_check_clause(&b, c, t, &t->checks[i]);
    }
    for (size_t i = 0; i < t->nfks; i++) {
        if (!find_table(c, t->fks[i].ref_table))
            continue; /* created later in this migration: added then */
        sbuf_add(&b, ",\n  ");
        render_fk_clause(&b, c, &t->fks[i]);
    }
    sbuf_add(&b, "\n)");
    if (rc) {
        sbuf_free(&b);
        return rc;
    }
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    for (size_t i = 0; i < t->nidx && !rc; i++)
        if (!t->idx[i].constraint)
            rc = create_index(c, t, &t->idx[i], 0, 0);
    for (size_t i = 0; i < t->ncols; i++)
        comment_on(c, t, &t->cols[i]);
    add_pending_fks(c, t);
    return rc;
}

static int compile_drop_table(const cctx *c)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, c->o->if_exists ? "DROP TABLE IF EXISTS " : "DROP TABLE ");
    qid(&b, c, c->o->table);
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    const table *t = c->before->table;
    for (size_t i = 0; t && i < t->ncols; i++)
        if (t->cols[i].type.kind == TY_ENUM && !t->cols[i].type.enum_name)
            drop_enum_type(c, t->cols[i].type.pg_type);
    return 0;
}

static int compile_add_column(const cctx *c)
{
    if (c->before->table && table_column(c->before->table, c->o->col->name))
        return 0; /* if_not_exists and it exists */
    const table *t = find_table(c, c->o->table);
    const column *col = table_column(t, c->o->col->name);
    if (col->type.kind == TY_ENUM && !col->type.enum_name)
        create_enum_type(c, col->type.pg_type, &col->type.values);
    add_empty_table_check(c, t, col);
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, t->name);
    sbuf_add(&b, " ADD COLUMN ");
    int rc = column_def(&b, c, col);
    if (rc) {
        sbuf_free(&b);
        return rc;
    }
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    const table *def = c->o->def;
    for (size_t i = 0; def && i < def->nidx && !rc; i++)
        rc = add_constraint_unique(c, t, table_index(t, def->idx[i].name));
    for (size_t i = 0; def && i < def->nchecks && !rc; i++)
        rc = add_check(c, t, table_check(t, def->checks[i].name));
    for (size_t i = 0; def && i < def->nfks; i++)
        add_fk(c, t->name, table_fk(t, def->fks[i].name));
    comment_on(c, t, col);
    return rc;
}

static int compile_drop_column(const cctx *c)
{
    const table *bt = c->before->table;
    const column *col = bt ? table_column(bt, c->o->name) : NULL;
    if (!col && !c->o->if_exists)
        return 0;
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, c->o->table);
    sbuf_add(&b, c->o->if_exists ? " DROP COLUMN IF EXISTS " : " DROP COLUMN ");
    qid(&b, c, c->o->name);
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    if (col && col->type.kind == TY_ENUM && !col->type.enum_name)
        drop_enum_type(c, col->type.pg_type);
    return 0;
}

/* Could a later operation of the same migration use a value being added?
 * PostgreSQL refuses a value added by ALTER TYPE ... ADD VALUE until the
 * transaction commits ("unsafe use of new value"), so then the type is
 * re-created instead. Data and sql operations count as uses; so does a
 * default naming a new value. */
static int later_ops_may_use(const cctx *c, const strvec *old, const strvec *new_vals)
{
    const op_list *ops = c->actx ? c->actx->ops : NULL;
    for (size_t i = c->actx ? c->actx->index + 1 : 0; ops && i < ops->n; i++) {
        const op *o = ops->v[i];
        if (o->kind == OP_INSERT || o->kind == OP_UPDATE || o->kind == OP_DELETE ||
            o->kind == OP_SQL)
            return 1;
        const column *cols = NULL;
        size_t ncols = 0;
        if (o->kind == OP_CREATE_TABLE) {
            cols = o->def->cols;
            ncols = o->def->ncols;
        } else if ((o->kind == OP_ADD_COLUMN || o->kind == OP_ALTER_COLUMN) && o->col) {
            cols = o->col;
            ncols = 1;
        }
        for (size_t k = 0; k < ncols; k++) {
            const col_default *d = &cols[k].def;
            if (d->kind == DEF_LITERAL && json_is_string(d->literal) &&
                strvec_find(new_vals, json_string_value(d->literal)) >= 0 &&
                strvec_find(old, json_string_value(d->literal)) < 0)
                return 1;
        }
    }
    return 0;
}

/* Change the values of an enum type used by `cols` (table, column pairs). */
static int change_enum(const cctx *c, const char *type, const strvec *old, const strvec *new_vals,
                       const char *const *tables, const column *const *cols, size_t ncols)
{
    /* Only additions, old order kept: ALTER TYPE ... ADD VALUE. */
    int additive = 1;
    size_t pos = 0;
    for (size_t i = 0; i < old->n && additive; i++) {
        while (pos < new_vals->n && strcmp(new_vals->v[pos], old->v[i]) != 0)
            pos++;
        if (pos == new_vals->n)
            additive = 0;
        else
            pos++;
    }
    if (additive && (c->tg->caps & STRATA_CAP_ENUM_ADD_VALUE_IN_TX) &&
        !later_ops_may_use(c, old, new_vals)) {
        for (size_t i = 0; i < new_vals->n; i++) {
            if (strvec_find(old, new_vals->v[i]) >= 0)
                continue;
            sbuf b = SBUF_INIT;
            sbuf_add(&b, "ALTER TYPE ");
            qid(&b, c, type);
            sbuf_add(&b, " ADD VALUE ");
            qstr(&b, c, new_vals->v[i]);
            for (size_t k = i + 1; k < new_vals->n; k++)
                if (strvec_find(old, new_vals->v[k]) >= 0) {
                    sbuf_add(&b, " BEFORE ");
                    qstr(&b, c, new_vals->v[k]);
                    break;
                }
            stmt_add_owned(c->out, 0, sbuf_detach(&b));
        }
        return 0;
    }
    /* Otherwise re-create the type; refuse first if a row holds a removed value. */
    for (size_t k = 0; k < ncols; k++) {
        sbuf q = SBUF_INIT;
        sbuf_add(&q, "SELECT 1 FROM ");
        qid(&q, c, tables[k]);
        sbuf_add(&q, " WHERE ");
        qid(&q, c, cols[k]->name);
        sbuf_add(&q, "::text NOT IN (");
        enum_values(&q, c, new_vals);
        sbuf_add(&q, ") LIMIT 1");
        stmt_add_assert(c->out, sbuf_detach(&q),
                        xasprintf("enum '%s': column '%s.%s' holds a value that the new list "
                                  "removes",
                                  type, tables[k], cols[k]->name));
    }
    char *tmp_full = xasprintf("%s_old", type);
    char *tmp = name_shorten(tmp_full);
    free(tmp_full);
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TYPE ");
    qid(&b, c, type);
    sbuf_add(&b, " RENAME TO ");
    qid(&b, c, tmp);
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    create_enum_type(c, type, new_vals);
    for (size_t k = 0; k < ncols; k++) {
        const column *col = cols[k];
        if (col->def.kind != DEF_NONE)
            alter_simple(c, tables[k], " ALTER COLUMN ", col->name, " DROP DEFAULT");
        sbuf_add(&b, "ALTER TABLE ");
        qid(&b, c, tables[k]);
        sbuf_add(&b, " ALTER COLUMN ");
        qid(&b, c, col->name);
        sbuf_add(&b, " TYPE ");
        qid(&b, c, type);
        sbuf_add(&b, " USING ");
        qid(&b, c, col->name);
        sbuf_add(&b, "::text::");
        qid(&b, c, type);
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        if (col->def.kind != DEF_NONE) {
            int rc = set_default(c, tables[k], col);
            if (rc) {
                free(tmp);
                return rc;
            }
        }
    }
    drop_enum_type(c, tmp);
    free(tmp);
    return 0;
}

static void using_cast(sbuf *b, const cctx *c, const column *old, const column *col)
{
    qid(b, c, col->name);
    if (old->type.kind == TY_ENUM || col->type.kind == TY_ENUM)
        sbuf_add(b, "::text");
    if (old->type.kind == TY_BOOLEAN && type_is_integer(col->type.kind)) {
        sbuf_add(b, "::integer");
        return;
    }
    sbuf_add(b, "::");
    pg_type(b, c, col);
}

/* alter_column on PostgreSQL: a type change is ALTER ... TYPE ... USING a
 * cast (the default dropped and set again around it); a change of an
 * inline enum's values changes its type in place (change_enum). Then
 * nullability and the default. */
static int compile_alter_column(const cctx *c)
{
    const table *t = find_table(c, c->o->table);
    const column *col = table_column(t, c->o->name);
    const column *old = table_column(c->before->table, c->o->name);
    unsigned alter = c->o->alter;
    int default_done = 0;
    int rc = 0;
    if ((alter & ALTER_TYPE) && !col_type_equal(&old->type, &col->type)) {
        int same_inline_enum = old->type.kind == TY_ENUM && col->type.kind == TY_ENUM &&
                               !old->type.enum_name && !col->type.enum_name && old->type.pg_type &&
                               col->type.pg_type &&
                               strcmp(old->type.pg_type, col->type.pg_type) == 0;
        if (same_inline_enum) {
            const char *tn = t->name;
            const column *cp = col;
            rc = change_enum(c, col->type.pg_type, &old->type.values, &col->type.values, &tn, &cp,
                             1);
            if (rc)
                return rc;
        } else {
            if (col->type.kind == TY_ENUM && !col->type.enum_name)
                create_enum_type(c, col->type.pg_type, &col->type.values);
            if (old->def.kind != DEF_NONE)
                alter_simple(c, t->name, " ALTER COLUMN ", col->name, " DROP DEFAULT");
            sbuf b = SBUF_INIT;
            sbuf_add(&b, "ALTER TABLE ");
            qid(&b, c, t->name);
            sbuf_add(&b, " ALTER COLUMN ");
            qid(&b, c, col->name);
            sbuf_add(&b, " TYPE ");
            pg_type(&b, c, col);
            /* strings take the assignment cast, which refuses values that
             * do not fit (an explicit ::varchar(n) would truncate them) */
            if (!type_is_text(col->type.kind)) {
                sbuf_add(&b, " USING ");
                using_cast(&b, c, old, col);
            }
            stmt_add_owned(c->out, 0, sbuf_detach(&b));
            if (col->def.kind != DEF_NONE && (rc = set_default(c, t->name, col)) != 0)
                return rc;
            default_done = 1;
            if (old->type.kind == TY_ENUM && !old->type.enum_name && old->type.pg_type &&
                !(col->type.pg_type && strcmp(col->type.pg_type, old->type.pg_type) == 0))
                drop_enum_type(c, old->type.pg_type);
        }
    }
    if ((alter & ALTER_NULLABLE) && old->nullable != col->nullable)
        alter_simple(c, t->name, " ALTER COLUMN ", col->name,
                     col->nullable ? " DROP NOT NULL" : " SET NOT NULL");
    if (!default_done && (alter & ALTER_DEFAULT) && (rc = set_default(c, t->name, col)) != 0)
        return rc;
    if (!default_done && (alter & ALTER_DROP_DEFAULT))
        alter_simple(c, t->name, " ALTER COLUMN ", col->name, " DROP DEFAULT");
    return 0;
}

static int compile_enum_op(const cctx *c)
{
    const op *o = c->o;
    if (o->kind == OP_CREATE_ENUM) {
        create_enum_type(c, o->name, &o->values);
        return 0;
    }
    if (o->kind == OP_DROP_ENUM) {
        sbuf b = SBUF_INIT;
        sbuf_add(&b, "DROP TYPE ");
        qid(&b, c, o->name);
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        return 0;
    }
    /* alter_enum: every column that uses it */
    size_t n = 0, cap = 0;
    const char **tables = NULL;
    const column **cols = NULL;
    size_t cap2 = 0;
    for (size_t i = 0; i < c->s->ntables; i++)
        for (size_t k = 0; k < c->s->tables[i].ncols; k++) {
            const column *col = &c->s->tables[i].cols[k];
            if (col->type.kind == TY_ENUM && col->type.enum_name &&
                strcmp(col->type.enum_name, o->name) == 0) {
                tables = xgrow(tables, &cap, n + 1, sizeof *tables);
                cols = xgrow(cols, &cap2, n + 1, sizeof *cols);
                tables[n] = c->s->tables[i].name;
                cols[n++] = col;
            }
        }
    int rc = change_enum(c, o->name, c->before->enum_vals, &o->values, tables, cols, n);
    free(tables);
    free(cols);
    return rc;
}

/* A foreign key or check added online: NOT VALID (a brief lock; rows
 * written from then on are checked), committed, then VALIDATE CONSTRAINT,
 * which reads the existing rows while writes go on (SHARE UPDATE EXCLUSIVE
 * on the table; a foreign key's referenced table gets ROW SHARE). */
static int add_constraint_online(const cctx *c, const table *t, const fk_def *fk,
                                 const check_def *ck)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, t->name);
    sbuf_add(&b, " ADD ");
    int rc = 0;
    if (fk)
        render_fk_clause(&b, c, fk);
    else
        rc = render_check_clause(&b, c, t, ck);
    if (rc) {
        sbuf_free(&b);
        return rc;
    }
    sbuf_add(&b, " NOT VALID");
    stmt_add_owned(c->out, STMT_NO_TX, sbuf_detach(&b));
    alter_simple(c, t->name, " VALIDATE CONSTRAINT ", fk ? fk->name : ck->name, "");
    c->out->v[c->out->n - 1].flags = STMT_NO_TX;
    return 0;
}

/* The PostgreSQL compiler: one operation, the model after it in c->s, the
 * table before it in c->before. PostgreSQL can state almost everything
 * directly; enums are types of their own. */
int compile_postgres(cctx *c)
{
    const op *o = c->o;
    const table *t = o->table ? find_table(c, o->table) : NULL;
    switch (o->kind) {
    case OP_CREATE_TABLE:
        return compile_create_table(c);
    case OP_DROP_TABLE:
        return compile_drop_table(c);
    case OP_RENAME_TABLE:
        alter_simple(c, o->table, " RENAME TO ", o->to, "");
        return 0;
    case OP_ADD_COLUMN:
        return compile_add_column(c);
    case OP_DROP_COLUMN:
        return compile_drop_column(c);
    case OP_RENAME_COLUMN: {
        sbuf b = SBUF_INIT;
        sbuf_add(&b, "ALTER TABLE ");
        qid(&b, c, o->table);
        sbuf_add(&b, " RENAME COLUMN ");
        qid(&b, c, o->name);
        sbuf_add(&b, " TO ");
        qid(&b, c, o->to);
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        return 0;
    }
    case OP_ALTER_COLUMN:
        return compile_alter_column(c);
    case OP_CREATE_INDEX:
        if (c->before->table && table_index(c->before->table, o->name) && o->if_not_exists)
            return 0;
        return create_index(c, t, table_index(t, o->name), o->if_not_exists, op_wants_online(c, t));
    case OP_ADD_UNIQUE:
        return add_constraint_unique(c, t, table_index(t, o->name));
    case OP_DROP_INDEX: {
        sbuf b = SBUF_INIT;
        sbuf_add(&b, o->if_exists ? "DROP INDEX IF EXISTS " : "DROP INDEX ");
        qid(&b, c, o->name);
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        return 0;
    }
    case OP_DROP_UNIQUE:
    case OP_DROP_CHECK:
        alter_simple(c, o->table, " DROP CONSTRAINT ", o->name, "");
        return 0;
    case OP_ADD_FOREIGN_KEY:
        if (op_wants_online(c, t))
            return add_constraint_online(c, t, table_fk(t, o->name), NULL);
        add_fk(c, o->table, table_fk(t, o->name));
        return 0;
    case OP_DROP_FOREIGN_KEY:
        alter_simple(c, o->table,
                     o->if_exists ? " DROP CONSTRAINT IF EXISTS " : " DROP CONSTRAINT ", o->name,
                     "");
        return 0;
    case OP_ADD_PRIMARY_KEY: {
        int rc = refuse_json(c, t, "primary key", (const char *const *)t->pk.v, t->pk.n);
        if (rc)
            return rc;
        sbuf b = SBUF_INIT;
        sbuf_add(&b, "ALTER TABLE ");
        qid(&b, c, o->table);
        sbuf_add(&b, " ADD ");
        render_pk_clause(&b, c, t);
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        return 0;
    }
    case OP_DROP_PRIMARY_KEY:
        alter_simple(c, o->table, " DROP CONSTRAINT ", c->before->table->pk_name, "");
        return 0;
    case OP_ADD_CHECK:
        if (op_wants_online(c, t))
            return add_constraint_online(c, t, NULL, table_check(t, o->name));
        return add_check(c, t, table_check(t, o->name));
    case OP_CREATE_ENUM:
    case OP_ALTER_ENUM:
    case OP_DROP_ENUM:
        return compile_enum_op(c);
    case OP_INSERT:
    case OP_UPDATE:
    case OP_DELETE:
        return compile_dml(c);
    case OP_SQL:
        return compile_sql(c);
    case OP__COUNT:
        break;
    }
    return 0;
}
