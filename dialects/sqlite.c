/*
 * sqlite.c - the SQLite compiler, and SQLite's table rebuild.
 *
 * Columns are declared with the neutral type's own name (integer, bigint,
 * numeric(10,2), boolean, varchar(255), uuid, timestamptz, json, blob, ...)
 * so the schema reads back without loss. A serial primary key is
 * `integer PRIMARY KEY AUTOINCREMENT` (a deleted highest id is never handed
 * out again); a serial that is not the key (Medusa's order.display_id) is a
 * column filled by an AFTER INSERT trigger from a counter in
 * strata_sequences. Enums are named CHECK (col IN (...)) constraints, JSON
 * columns carry a json_valid CHECK.
 *
 * What ALTER TABLE cannot do (foreign keys, checks, primary keys, column
 * changes, ...) is done by the table rebuild of SQLite's documentation
 * (lang_altertable.html, "Making Other Kinds Of Table Schema Changes"), in
 * its safe order: create the new table, copy the rows, drop the old table,
 * rename the new one, recreate indexes, triggers and views, check foreign
 * keys - with PRAGMA foreign_keys=OFF around the transaction (the runner
 * sets it, outside any transaction, for migrations whose statements carry
 * STMT_FK_OFF), so dropping the old table never fires ON DELETE actions on
 * other tables (Knex's data-loss bug, knex#6213). The AUTOINCREMENT counter
 * is carried over explicitly, since rows above max(id) may have been
 * deleted.
 */
#include "names.h"
#include "sqlgen.h"

#include <stdlib.h>
#include <string.h>

#define REBUILD (STMT_FK_OFF)

/* A neutral type as SQLite declares it: the neutral name itself where
 * possible, so introspection reads it back (see the file's comment). */
static void sl_type(sbuf *b, const column *col)
{
    const col_type *t = &col->type;
    switch (t->kind) {
    case TY_SERIAL:
    case TY_BIGSERIAL:
        sbuf_add(b, type_names[t->kind]);
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
        sbuf_add(b, "double");
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
    case TY_TIMESTAMP:
    case TY_TIMESTAMPTZ:
        if (t->precision == 6)
            sbuf_add(b, type_names[t->kind]);
        else
            sbuf_addf(b, "%s(%d)", type_names[t->kind], t->precision);
        break;
    case TY_JSON:
    case TY_JSONB:
        sbuf_add(b, type_names[t->kind]);
        break;
    case TY_BINARY:
        sbuf_add(b, "blob");
        break;
    case TY_ENUM:
        sbuf_add(b, "text");
        break;
    case TY__COUNT:
        break;
    }
}

static int is_serial_pk(const table *t, const column *col)
{
    const column *pk = table_serial_pk(t);
    return pk && strcmp(pk->name, col->name) == 0;
}

static int is_nonkey_serial(const table *t, const column *col)
{
    return type_is_serial(col->type.kind) && !is_serial_pk(t, col);
}

static int column_def(sbuf *b, const cctx *c, const table *t, const column *col)
{
    qid(b, c, col->name);
    if (is_serial_pk(t, col)) {
        sbuf_add(b, " integer NOT NULL PRIMARY KEY AUTOINCREMENT");
        return 0;
    }
    sbuf_addc(b, ' ');
    sl_type(b, col);
    if (!col->nullable && !is_nonkey_serial(t, col))
        sbuf_add(b, " NOT NULL");
    return render_default(b, c, col);
}

static char *enum_check_name(const table *t, const column *col)
{
    const char *cn = col->name;
    return name_generate(t->name, &cn, 1, "enum");
}

static char *json_check_name(const table *t, const column *col)
{
    const char *cn = col->name;
    return name_generate(t->name, &cn, 1, "json");
}

/* The CHECK a column's type implies (enum values, valid JSON), if any. */
static int type_check(sbuf *b, const cctx *c, const table *t, const column *col)
{
    if (col->type.kind == TY_ENUM) {
        const strvec *v = column_enum_values(c->s, col);
        char *n = enum_check_name(t, col);
        sbuf_add(b, "CONSTRAINT ");
        qid(b, c, n);
        free(n);
        sbuf_add(b, " CHECK (");
        qid(b, c, col->name);
        sbuf_add(b, " IN (");
        for (size_t i = 0; v && i < v->n; i++) {
            if (i)
                sbuf_add(b, ", ");
            qstr(b, c, v->v[i]);
        }
        sbuf_add(b, "))");
        return 1;
    }
    if (type_is_json(col->type.kind)) {
        char *n = json_check_name(t, col);
        sbuf_add(b, "CONSTRAINT ");
        qid(b, c, n);
        free(n);
        /* json_valid(NULL) is 0 before SQLite 3.45: let NULL through */
        sbuf_add(b, " CHECK (json_valid(");
        qid(b, c, col->name);
        sbuf_add(b, ") OR ");
        qid(b, c, col->name);
        sbuf_add(b, " IS NULL)");
        return 1;
    }
    return 0;
}

/* CREATE TABLE for `t`, under the name `as` (the rebuild's new table). */
static int create_table_sql(const cctx *c, const table *t, const char *as, int if_not_exists,
                            unsigned flags)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "CREATE TABLE ");
    if (if_not_exists)
        sbuf_add(&b, "IF NOT EXISTS ");
    qid(&b, c, as);
    sbuf_add(&b, " (\n  ");
    int rc = 0;
    for (size_t i = 0; i < t->ncols && !rc; i++) {
        if (i)
            sbuf_add(&b, ",\n  ");
        rc = column_def(&b, c, t, &t->cols[i]);
    }
    if (t->pk.n && !table_serial_pk(t)) {
        sbuf_add(&b, ",\n  ");
        render_pk_clause(&b, c, t);
    }
    for (size_t i = 0; i < t->ncols; i++) {
        sbuf tc = SBUF_INIT;
        if (type_check(&tc, c, t, &t->cols[i])) {
            sbuf_add(&b, ",\n  ");
            sbuf_add(&b, sbuf_str(&tc));
        }
        sbuf_free(&tc);
    }
    for (size_t i = 0; i < t->nchecks && !rc; i++) {
        sbuf_add(&b, ",\n  ");
        rc = render_check_clause(&b, c, t, &t->checks[i]);
    }
    for (size_t i = 0; i < t->nfks; i++) {
        sbuf_add(&b, ",\n  ");
        render_fk_clause(&b, c, &t->fks[i]);
    }
    sbuf_add(&b, "\n)");
    if (rc) {
        sbuf_free(&b);
        return rc;
    }
    stmt_add_owned(c->out, flags, sbuf_detach(&b));
    return 0;
}

static int check_method(const cctx *c, const index_def *ix)
{
    const char *m = ix->method[STRATA_SQLITE];
    if (m && strcmp(m, "btree") != 0)
        return cerr(c,
                    "index '%s': method %s cannot be expressed on SQLite (only btree); give the "
                    "method per dialect, e.g. {\"postgres\": \"%s\"}",
                    ix->name, m, m);
    return 0;
}

static int create_index(const cctx *c, const table *t, const index_def *ix, int if_not_exists,
                        unsigned flags)
{
    int rc = check_method(c, ix);
    if (rc)
        return rc;
    sbuf b = SBUF_INIT;
    sbuf_add(&b, ix->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
    if (if_not_exists)
        sbuf_add(&b, "IF NOT EXISTS ");
    qid(&b, c, ix->name);
    sbuf_add(&b, " ON ");
    qid(&b, c, t->name);
    sbuf_add(&b, " (");
    for (size_t i = 0; i < ix->ncols; i++) {
        if (i)
            sbuf_add(&b, ", ");
        qid(&b, c, ix->cols[i].name);
        if (ix->cols[i].desc)
            sbuf_add(&b, " DESC");
    }
    sbuf_addc(&b, ')');
    if (ix->where) {
        sbuf_add(&b, " WHERE ");
        rc = render_predicate(&b, c, t, ix->where);
    }
    if (rc) {
        sbuf_free(&b);
        return rc;
    }
    stmt_add_owned(c->out, flags, sbuf_detach(&b));
    return 0;
}

static void drop_index(const cctx *c, const char *name, int if_exists, unsigned flags)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, if_exists ? "DROP INDEX IF EXISTS " : "DROP INDEX ");
    qid(&b, c, name);
    stmt_add_owned(c->out, flags, sbuf_detach(&b));
}

/* ---- non-key serial columns ---- */

static char *serial_trigger_name(const table *t, const column *col)
{
    const char *cn = col->name;
    return name_generate(t->name, &cn, 1, "serial");
}

static void create_serial_trigger(const cctx *c, const table *t, const column *col, unsigned flags)
{
    stmt_add(c->out, flags,
             "CREATE TABLE IF NOT EXISTS \"strata_sequences\" (\"name\" text NOT NULL PRIMARY "
             "KEY, \"value\" integer NOT NULL)");
    char *key = xasprintf("%s.%s", t->name, col->name);
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "INSERT OR IGNORE INTO \"strata_sequences\" (\"name\", \"value\") VALUES (");
    qstr(&b, c, key);
    sbuf_add(&b, ", 0)");
    stmt_add_owned(c->out, flags, sbuf_detach(&b));
    char *tn = serial_trigger_name(t, col);
    sbuf_add(&b, "CREATE TRIGGER ");
    qid(&b, c, tn);
    free(tn);
    sbuf_add(&b, " AFTER INSERT ON ");
    qid(&b, c, t->name);
    sbuf_add(&b, " FOR EACH ROW BEGIN UPDATE \"strata_sequences\" SET \"value\" = CASE WHEN NEW.");
    qid(&b, c, col->name);
    sbuf_add(&b, " IS NULL THEN \"value\" + 1 WHEN NEW.");
    qid(&b, c, col->name);
    sbuf_add(&b, " > \"value\" THEN NEW.");
    qid(&b, c, col->name);
    sbuf_add(&b, " ELSE \"value\" END WHERE \"name\" = ");
    qstr(&b, c, key);
    sbuf_add(&b, "; UPDATE ");
    qid(&b, c, t->name);
    sbuf_add(&b, " SET ");
    qid(&b, c, col->name);
    sbuf_add(&b, " = (SELECT \"value\" FROM \"strata_sequences\" WHERE \"name\" = ");
    qstr(&b, c, key);
    sbuf_add(&b, ") WHERE rowid = NEW.rowid AND NEW.");
    qid(&b, c, col->name);
    sbuf_add(&b, " IS NULL; END");
    stmt_add_owned(c->out, flags, sbuf_detach(&b));
    free(key);
}

static void drop_serial_trigger(const cctx *c, const table *t, const column *col, unsigned flags)
{
    char *tn = serial_trigger_name(t, col);
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "DROP TRIGGER IF EXISTS ");
    qid(&b, c, tn);
    free(tn);
    stmt_add_owned(c->out, flags, sbuf_detach(&b));
}

/* After a rebuild: a serial that stopped being the key gets its trigger
 * (its counter starting at the largest value), one that became the key
 * (AUTOINCREMENT now) loses it. */
static void serial_transitions(const cctx *c, const table *old, const table *nt)
{
    for (size_t i = 0; i < nt->ncols; i++) {
        const column *col = &nt->cols[i];
        const column *oc = table_column(old, col->name);
        int now_nonkey = is_nonkey_serial(nt, col);
        int was_nonkey = oc && is_nonkey_serial(old, oc);
        if (now_nonkey && !was_nonkey) {
            create_serial_trigger(c, nt, col, REBUILD);
            char *key = xasprintf("%s.%s", nt->name, col->name);
            sbuf b = SBUF_INIT;
            sbuf_add(&b, "UPDATE \"strata_sequences\" SET \"value\" = (SELECT COALESCE(MAX(");
            qid(&b, c, col->name);
            sbuf_add(&b, "), 0) FROM ");
            qid(&b, c, nt->name);
            sbuf_add(&b, ") WHERE \"name\" = ");
            qstr(&b, c, key);
            free(key);
            stmt_add_owned(c->out, REBUILD, sbuf_detach(&b));
        } else if (was_nonkey && !now_nonkey) {
            drop_serial_trigger(c, old, oc, REBUILD);
        }
    }
}

/* ---- the rebuild ---- */

/* How a column of the new table is filled from the old one. */
static int copy_expr(sbuf *b, const cctx *c, const column *old, const column *col)
{
    if (!old)
        return 0;
    if (col_type_equal(&old->type, &col->type) ||
        (type_is_serial(old->type.kind) && type_is_integer(col->type.kind))) {
        qid(b, c, old->name);
        return 1;
    }
    type_kind k = col->type.kind;
    if (type_is_integer(k)) {
        if (old->type.kind == TY_REAL || old->type.kind == TY_DOUBLE ||
            old->type.kind == TY_DECIMAL) {
            sbuf_add(b, "CAST(round(");
            qid(b, c, old->name);
            sbuf_add(b, ") AS INTEGER)");
        } else {
            sbuf_add(b, "CAST(");
            qid(b, c, old->name);
            sbuf_add(b, " AS INTEGER)");
        }
    } else if (k == TY_DECIMAL) {
        sbuf_add(b, "CAST(");
        qid(b, c, old->name);
        sbuf_add(b, " AS NUMERIC)");
    } else if (k == TY_REAL || k == TY_DOUBLE) {
        sbuf_add(b, "CAST(");
        qid(b, c, old->name);
        sbuf_add(b, " AS REAL)");
    } else if (type_is_text(k) || k == TY_ENUM || k == TY_UUID) {
        sbuf_add(b, "CAST(");
        qid(b, c, old->name);
        sbuf_add(b, " AS TEXT)");
    } else {
        qid(b, c, old->name);
    }
    return 1;
}

static void add_assert(const cctx *c, const table *t, const char *cond, char *message)
{
    sbuf q = SBUF_INIT;
    sbuf_add(&q, "SELECT 1 FROM ");
    qid(&q, c, t->name);
    sbuf_add(&q, " WHERE ");
    sbuf_add(&q, cond);
    sbuf_add(&q, " LIMIT 1");
    stmt_add_assert(c->out, sbuf_detach(&q), message);
}

/* Checks that make SQLite refuse, like PostgreSQL and MySQL do, what it
 * would otherwise accept silently: lossy type changes, strings longer than
 * the new length, NULLs in a column becoming NOT NULL, removed enum values. */
static void conversion_checks(const cctx *c, const table *t, const column *old, const column *col)
{
    sbuf cond = SBUF_INIT;
    sbuf qc = SBUF_INIT;
    qid(&qc, c, old->name);
    const char *q = sbuf_str(&qc);
    type_kind from = old->type.kind, to = col->type.kind;
    int textual = type_is_text(from) || from == TY_ENUM || from == TY_UUID || type_is_json(from);
    if (!col_type_equal(&old->type, &col->type)) {
        if (type_is_integer(to) && textual) {
            sbuf_addf(&cond,
                      "%s IS NOT NULL AND CAST(CAST(%s AS INTEGER) AS TEXT) <> CAST(%s AS TEXT)", q,
                      q, q);
            add_assert(
                c, t, sbuf_str(&cond),
                xasprintf("column '%s.%s' holds values that are not integers", t->name, col->name));
            sbuf_reset(&cond);
        } else if ((to == TY_DECIMAL || to == TY_REAL || to == TY_DOUBLE) && textual) {
            sbuf_addf(&cond,
                      "%s IS NOT NULL AND (CAST(%s AS TEXT) GLOB '*[^0-9.eE+-]*' OR CAST(%s AS "
                      "TEXT) NOT GLOB '*[0-9]*')",
                      q, q, q);
            add_assert(
                c, t, sbuf_str(&cond),
                xasprintf("column '%s.%s' holds values that are not numbers", t->name, col->name));
            sbuf_reset(&cond);
        }
        if (to == TY_STRING && (from != TY_STRING || old->type.length > col->type.length)) {
            sbuf_addf(&cond, "length(%s) > %d", q, col->type.length);
            add_assert(c, t, sbuf_str(&cond),
                       xasprintf("column '%s.%s' holds strings longer than %d characters", t->name,
                                 col->name, col->type.length));
            sbuf_reset(&cond);
        }
        if (to == TY_ENUM) {
            const strvec *v = column_enum_values(c->s, col);
            sbuf_addf(&cond, "%s NOT IN (", q);
            for (size_t i = 0; v && i < v->n; i++) {
                if (i)
                    sbuf_add(&cond, ", ");
                qstr(&cond, c, v->v[i]);
            }
            sbuf_addc(&cond, ')');
            add_assert(c, t, sbuf_str(&cond),
                       xasprintf("column '%s.%s' holds a value that is not one of the enum's",
                                 t->name, col->name));
            sbuf_reset(&cond);
        }
    }
    if (old->nullable && !col->nullable) {
        sbuf_addf(&cond, "%s IS NULL", q);
        add_assert(c, t, sbuf_str(&cond),
                   xasprintf("column '%s.%s' contains NULL values", t->name, col->name));
    }
    sbuf_free(&cond);
    sbuf_free(&qc);
}

/*
 * Rebuild table `old` into `nt` (same name). `from[i]` names the column of
 * the old table that fills column i of the new one (NULL: its default).
 */
static int rebuild(const cctx *c, const table *old, const table *nt, const char *const *from)
{
    const char *name = nt->name;
    char *tmp_full = xasprintf("strata_new_%s", name);
    char *tmp = name_shorten(tmp_full);
    free(tmp_full);
    int autoinc = table_serial_pk(old) != NULL;
    int rc = 0;

    /* the indexes the model knows (before and after: what the operation
     * drops must not come back); the executor saves only the others */
    strvec model_indexes = STRVEC_INIT;
    for (size_t i = 0; i < nt->nidx; i++)
        strvec_push(&model_indexes, nt->idx[i].name);
    for (size_t i = 0; i < old->nidx; i++)
        strvec_push(&model_indexes, old->idx[i].name);
    stmt_add_save_deps(c->out, name, &model_indexes);
    strvec_free(&model_indexes);

    sbuf b = SBUF_INIT;
    if (autoinc) {
        stmt_add(c->out, REBUILD,
                 "CREATE TEMP TABLE IF NOT EXISTS \"strata_seq_save\" (\"name\" text PRIMARY KEY, "
                 "\"seq\" integer)");
        sbuf_add(&b, "INSERT OR REPLACE INTO temp.\"strata_seq_save\" SELECT \"name\", \"seq\" "
                     "FROM \"sqlite_sequence\" WHERE \"name\" = ");
        qstr(&b, c, name);
        stmt_add_owned(c->out, REBUILD, sbuf_detach(&b));
    }
    rc = create_table_sql(c, nt, tmp, 0, REBUILD);
    if (rc) {
        free(tmp);
        return rc;
    }
    sbuf_add(&b, "INSERT INTO ");
    qid(&b, c, tmp);
    sbuf_add(&b, " (");
    sbuf sel = SBUF_INIT;
    int first = 1;
    for (size_t i = 0; i < nt->ncols; i++) {
        const column *oc = from[i] ? table_column(old, from[i]) : NULL;
        if (!oc)
            continue;
        if (!first) {
            sbuf_add(&b, ", ");
            sbuf_add(&sel, ", ");
        }
        first = 0;
        qid(&b, c, nt->cols[i].name);
        copy_expr(&sel, c, oc, &nt->cols[i]);
    }
    sbuf_add(&b, ") SELECT ");
    sbuf_add(&b, sbuf_str(&sel));
    sbuf_add(&b, " FROM ");
    qid(&b, c, old->name);
    sbuf_free(&sel);
    if (first) {
        /* nothing to copy (no common column): keep the row count anyway */
        sbuf_reset(&b);
        sbuf_add(&b, "SELECT 1");
    }
    stmt_add_owned(c->out, REBUILD, sbuf_detach(&b));
    sbuf_add(&b, "DROP TABLE ");
    qid(&b, c, old->name);
    stmt_add_owned(c->out, REBUILD, sbuf_detach(&b));
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, tmp);
    sbuf_add(&b, " RENAME TO ");
    qid(&b, c, name);
    stmt_add_owned(c->out, REBUILD, sbuf_detach(&b));
    if (autoinc && table_serial_pk(nt)) {
        sbuf_add(&b, "UPDATE \"sqlite_sequence\" SET \"seq\" = max(\"seq\", (SELECT \"seq\" FROM "
                     "temp.\"strata_seq_save\" WHERE \"name\" = ");
        qstr(&b, c, name);
        sbuf_add(&b, ")) WHERE \"name\" = ");
        qstr(&b, c, name);
        sbuf_add(&b, " AND EXISTS (SELECT 1 FROM temp.\"strata_seq_save\" WHERE \"name\" = ");
        qstr(&b, c, name);
        sbuf_addc(&b, ')');
        stmt_add_owned(c->out, REBUILD, sbuf_detach(&b));
        sbuf_add(&b, "INSERT INTO \"sqlite_sequence\" (\"name\", \"seq\") SELECT \"name\", \"seq\" "
                     "FROM temp.\"strata_seq_save\" WHERE \"name\" = ");
        qstr(&b, c, name);
        sbuf_add(&b, " AND NOT EXISTS (SELECT 1 FROM \"sqlite_sequence\" WHERE \"name\" = ");
        qstr(&b, c, name);
        sbuf_addc(&b, ')');
        stmt_add_owned(c->out, REBUILD, sbuf_detach(&b));
    }
    for (size_t i = 0; i < nt->nidx && !rc; i++)
        rc = create_index(c, nt, &nt->idx[i], 0, REBUILD);
    stmt_add_restore_deps(c->out, name);
    serial_transitions(c, old, nt);
    /* No foreign key is checked while they are off: the runner checks every
     * one before the transaction that ran the rebuild commits (once, however
     * many tables it rebuilt; fk_violation_query). */
    free(tmp);
    return rc;
}

/* Rebuild `nt` from its before-state `old`, every column filled from the old
 * column of the same name (a new column gets its default). A renamed column
 * needs rebuild() with its own `from` list (see OP_RENAME_COLUMN). */
static int rebuild_same_columns(const cctx *c, const table *old, const table *nt)
{
    const char **from = xcalloc(nt->ncols + 1, sizeof(char *));
    for (size_t i = 0; i < nt->ncols; i++)
        from[i] = table_column(old, nt->cols[i].name) ? nt->cols[i].name : NULL;
    int rc = rebuild(c, old, nt, from);
    free(from);
    return rc;
}

/* ---- operations ---- */

static int compile_create_table(const cctx *c)
{
    if (c->before->table && c->o->if_not_exists)
        return 0;
    const table *t = find_table(c, c->o->table);
    int rc = create_table_sql(c, t, t->name, c->o->if_not_exists, 0);
    for (size_t i = 0; i < t->nidx && !rc; i++)
        rc = create_index(c, t, &t->idx[i], 0, 0);
    for (size_t i = 0; i < t->ncols && !rc; i++)
        if (is_nonkey_serial(t, &t->cols[i]))
            create_serial_trigger(c, t, &t->cols[i], 0);
    return rc;
}

static void delete_sequences(const cctx *c, const table *t)
{
    for (size_t i = 0; t && i < t->ncols; i++)
        if (is_nonkey_serial(t, &t->cols[i])) {
            sbuf b = SBUF_INIT;
            sbuf_add(&b, "DELETE FROM \"strata_sequences\" WHERE \"name\" = ");
            char *key = xasprintf("%s.%s", t->name, t->cols[i].name);
            qstr(&b, c, key);
            free(key);
            stmt_add_owned(c->out, 0, sbuf_detach(&b));
        }
}

/* Can ADD COLUMN add this column, or does it need a rebuild? */
static int add_column_native(const table *t, const column *col, const table *extras)
{
    if (type_is_serial(col->type.kind))
        return !is_serial_pk(t, col);
    if (!col->nullable && (col->def.kind == DEF_NONE ||
                           (col->def.kind == DEF_LITERAL && json_is_null(col->def.literal))))
        return 0;
    if (col->def.kind == DEF_NOW || col->def.kind == DEF_UUID || col->def.kind == DEF_SQL)
        return 0;
    if (extras && extras->nfks && col->def.kind == DEF_LITERAL && !json_is_null(col->def.literal))
        return 0;
    return 1;
}

/* add_column on SQLite: ADD COLUMN with its checks and references when
 * SQLite allows it (add_column_native), else a rebuild. A non-key serial
 * numbers the existing rows and gets its trigger. */
static int compile_add_column(const cctx *c)
{
    const table *bt = c->before->table;
    if (bt && table_column(bt, c->o->col->name))
        return 0;
    const table *t = find_table(c, c->o->table);
    const column *col = table_column(t, c->o->col->name);
    const table *extras = c->o->def;
    int rc = 0;
    add_empty_table_check(c, t, col);
    if (!add_column_native(t, col, extras))
        return rebuild_same_columns(c, bt, t);
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, t->name);
    sbuf_add(&b, " ADD COLUMN ");
    rc = column_def(&b, c, t, col);
    sbuf tc = SBUF_INIT;
    if (type_check(&tc, c, t, col)) {
        sbuf_addc(&b, ' ');
        sbuf_add(&b, sbuf_str(&tc));
    }
    sbuf_free(&tc);
    for (size_t i = 0; extras && i < extras->nchecks && !rc; i++) {
        sbuf_addc(&b, ' ');
        rc = render_check_clause(&b, c, t, table_check(t, extras->checks[i].name));
    }
    for (size_t i = 0; extras && i < extras->nfks; i++) {
        const fk_def *fk = table_fk(t, extras->fks[i].name);
        sbuf_add(&b, " CONSTRAINT ");
        qid(&b, c, fk->name);
        sbuf_add(&b, " REFERENCES ");
        qid(&b, c, fk->ref_table);
        sbuf_add(&b, " (");
        qid(&b, c, fk->ref_cols.v[0]);
        sbuf_addc(&b, ')');
        render_fk_actions(&b, fk);
    }
    if (rc) {
        sbuf_free(&b);
        return rc;
    }
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    for (size_t i = 0; extras && i < extras->nidx && !rc; i++)
        rc = create_index(c, t, table_index(t, extras->idx[i].name), 0, 0);
    if (!rc && is_nonkey_serial(t, col)) {
        /* number the existing rows, then let the trigger continue */
        create_serial_trigger(c, t, col, 0);
        sbuf_add(&b, "UPDATE ");
        qid(&b, c, t->name);
        sbuf_add(&b, " SET ");
        qid(&b, c, col->name);
        sbuf_add(&b, " = (SELECT count(*) FROM ");
        qid(&b, c, t->name);
        sbuf_add(&b, " AS strata_o WHERE strata_o.rowid <= ");
        qid(&b, c, t->name);
        sbuf_add(&b, ".rowid)");
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        char *key = xasprintf("%s.%s", t->name, col->name);
        sbuf_add(&b, "UPDATE \"strata_sequences\" SET \"value\" = (SELECT count(*) FROM ");
        qid(&b, c, t->name);
        sbuf_add(&b, ") WHERE \"name\" = ");
        qstr(&b, c, key);
        free(key);
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
    }
    return rc;
}

static int column_needs_rebuild_to_drop(const table *bt, const column *col)
{
    if (col->type.kind == TY_ENUM || type_is_json(col->type.kind))
        return 1; /* its type CHECK names it */
    for (size_t i = 0; i < bt->nfks; i++)
        if (fk_uses_column(&bt->fks[i], bt->name, col->name))
            return 1;
    for (size_t i = 0; i < bt->nchecks; i++)
        if (check_uses_column(&bt->checks[i], col->name) || json_is_string(bt->checks[i].check))
            return 1;
    return 0;
}

static int compile_drop_column(const cctx *c)
{
    const table *bt = c->before->table;
    const column *col = bt ? table_column(bt, c->o->name) : NULL;
    if (!col)
        return 0;
    const table *t = find_table(c, c->o->table);
    if (!(c->tg->caps & STRATA_CAP_DROP_COLUMN) || column_needs_rebuild_to_drop(bt, col))
        return rebuild_same_columns(c, bt, t);
    /* native: drop the indexes that use it first, as PostgreSQL does */
    for (size_t i = 0; i < bt->nidx; i++)
        if (!table_index(t, bt->idx[i].name))
            drop_index(c, bt->idx[i].name, 0, 0);
    if (is_nonkey_serial(bt, col))
        drop_serial_trigger(c, bt, col, 0);
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, bt->name);
    sbuf_add(&b, " DROP COLUMN ");
    qid(&b, c, col->name);
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    return 0;
}

static int compile_alter_column(const cctx *c)
{
    const table *bt = c->before->table;
    const table *t = find_table(c, c->o->table);
    const column *old = table_column(bt, c->o->name);
    const column *col = table_column(t, c->o->name);
    conversion_checks(c, bt, old, col);
    return rebuild_same_columns(c, bt, t);
}

static int compile_alter_enum(const cctx *c)
{
    int rc = 0;
    for (size_t i = 0; i < c->s->ntables && !rc; i++) {
        const table *t = &c->s->tables[i];
        int uses = 0;
        for (size_t k = 0; k < t->ncols; k++) {
            const column *col = &t->cols[k];
            if (col->type.kind == TY_ENUM && col->type.enum_name &&
                strcmp(col->type.enum_name, c->o->name) == 0) {
                uses = 1;
                sbuf cond = SBUF_INIT;
                qid(&cond, c, col->name);
                sbuf_add(&cond, " NOT IN (");
                for (size_t v = 0; v < c->o->values.n; v++) {
                    if (v)
                        sbuf_add(&cond, ", ");
                    qstr(&cond, c, c->o->values.v[v]);
                }
                sbuf_addc(&cond, ')');
                add_assert(c, t, sbuf_str(&cond),
                           xasprintf("enum '%s': column '%s.%s' holds a value that the new list "
                                     "removes",
                                     c->o->name, t->name, col->name));
                sbuf_free(&cond);
            }
        }
        /* the table is the same before and after; only the CHECK changes */
        if (uses)
            rc = rebuild_same_columns(c, t, t);
    }
    return rc;
}

/* A non-key serial's trigger and counter are named after its table and
 * column: follow a rename of either. */
static void rename_serials(const cctx *c, const table *bt, const table *t)
{
    for (size_t i = 0; bt && i < bt->ncols && i < t->ncols; i++) {
        const column *oc = &bt->cols[i], *nc = &t->cols[i];
        if (!is_nonkey_serial(bt, oc))
            continue;
        char *okey = xasprintf("%s.%s", bt->name, oc->name);
        char *nkey = xasprintf("%s.%s", t->name, nc->name);
        if (strcmp(okey, nkey) != 0) {
            drop_serial_trigger(c, bt, oc, 0);
            sbuf b = SBUF_INIT;
            sbuf_add(&b, "UPDATE \"strata_sequences\" SET \"name\" = ");
            qstr(&b, c, nkey);
            sbuf_add(&b, " WHERE \"name\" = ");
            qstr(&b, c, okey);
            stmt_add_owned(c->out, 0, sbuf_detach(&b));
            create_serial_trigger(c, t, nc, 0);
        }
        free(okey);
        free(nkey);
    }
}

/* The SQLite compiler: one operation, the model after it in c->s, the
 * table before it in c->before. What ALTER TABLE cannot do rebuilds the
 * table (rebuild()); enums live in their columns' checks. */
int compile_sqlite(cctx *c)
{
    const op *o = c->o;
    const table *t = o->table ? find_table(c, o->table) : NULL;
    const table *bt = c->before->table;
    sbuf b = SBUF_INIT;
    switch (o->kind) {
    case OP_CREATE_TABLE:
        return compile_create_table(c);
    case OP_DROP_TABLE:
        sbuf_add(&b, o->if_exists ? "DROP TABLE IF EXISTS " : "DROP TABLE ");
        qid(&b, c, o->table);
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        delete_sequences(c, bt);
        return 0;
    case OP_RENAME_TABLE:
        sbuf_add(&b, "ALTER TABLE ");
        qid(&b, c, o->table);
        sbuf_add(&b, " RENAME TO ");
        qid(&b, c, o->to);
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        rename_serials(c, bt, find_table(c, o->to));
        return 0;
    case OP_ADD_COLUMN:
        return compile_add_column(c);
    case OP_DROP_COLUMN:
        return compile_drop_column(c);
    case OP_RENAME_COLUMN:
        if (!(c->tg->caps & STRATA_CAP_RENAME_COLUMN)) {
            const char **from = xcalloc(t->ncols + 1, sizeof(char *));
            for (size_t i = 0; i < t->ncols; i++)
                from[i] = strcmp(t->cols[i].name, o->to) == 0 ? o->name : t->cols[i].name;
            int rc = rebuild(c, bt, t, from);
            free(from);
            return rc;
        }
        sbuf_add(&b, "ALTER TABLE ");
        qid(&b, c, o->table);
        sbuf_add(&b, " RENAME COLUMN ");
        qid(&b, c, o->name);
        sbuf_add(&b, " TO ");
        qid(&b, c, o->to);
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        rename_serials(c, bt, t);
        return 0;
    case OP_ALTER_COLUMN:
        return compile_alter_column(c);
    case OP_CREATE_INDEX:
    case OP_ADD_UNIQUE:
        if (bt && table_index(bt, o->name) && o->if_not_exists)
            return 0;
        return create_index(c, t, table_index(t, o->name), o->if_not_exists, 0);
    case OP_DROP_INDEX:
    case OP_DROP_UNIQUE:
        drop_index(c, o->name, o->if_exists, 0);
        return 0;
    case OP_DROP_FOREIGN_KEY:
        if (!bt || !table_fk(bt, o->name))
            return 0; /* if_exists and absent */
        return rebuild_same_columns(c, bt, t);
    case OP_ADD_FOREIGN_KEY:
    case OP_ADD_PRIMARY_KEY:
    case OP_DROP_PRIMARY_KEY:
    case OP_ADD_CHECK:
    case OP_DROP_CHECK:
        if (o->kind == OP_ADD_PRIMARY_KEY)
            for (size_t i = 0; i < t->pk.n; i++) {
                const column *oc = table_column(bt, t->pk.v[i]);
                if (oc && oc->nullable)
                    conversion_checks(c, bt, oc, table_column(t, t->pk.v[i]));
            }
        return rebuild_same_columns(c, bt, t);
    case OP_CREATE_ENUM:
    case OP_DROP_ENUM:
        return 0; /* enums live in their columns' checks */
    case OP_ALTER_ENUM:
        return compile_alter_enum(c);
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

/* See compile.h: one rebuild for a run of operations on one table, after
 * the run-time checks of each. */
int sqlite_rebuild_run(const compile_target *tg, const schema *after, const table *old,
                       const table *nt, const op *last_op, const apply_ctx *ctx,
                       const stmt_list *per_op, size_t first, size_t last, stmt_list *out)
{
    cctx c;
    memset(&c, 0, sizeof c);
    before_state bs = {old, NULL};
    c.tg = tg;
    c.d = tg->dialect;
    c.s = after;
    c.before = &bs;
    c.o = last_op;
    c.actx = ctx;
    c.out = out;
    for (size_t j = first; j <= last; j++)
        for (size_t i = 0; i < per_op[j].n; i++) {
            const stmt *x = &per_op[j].v[i];
            if (x->kind != STMT_ASSERT_EMPTY)
                continue;
            stmt_add_assert(out, xstrdup(x->sql), xstrdup(x->message));
            out->v[out->n - 1].flags = x->flags;
        }
    return rebuild_same_columns(&c, old, nt);
}
