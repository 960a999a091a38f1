/*
 * introspect_mysql.c - reading a MySQL or MariaDB schema from
 * information_schema.
 *
 * tinyint(1) is boolean, char(36) is uuid, datetime(p) is timestamptz
 * (timestamp reads back the same: a documented ambiguity), json or
 * MariaDB's longtext + json_valid() check is json, ENUM(...) is an inline
 * enum, AUTO_INCREMENT is serial (its extra KEY is not an index of the
 * schema), an index named like a foreign key on the same columns is
 * InnoDB's own, and Strata's invisible generated "strata:partial-unique"
 * columns fold back into the partial unique index they implement. Views
 * have no neutral form and go to `raw`.
 */
#include "introspect_read.h"
#include "names.h"
#include "sqltext.h"

#include <stdlib.h>
#include <string.h>

/* ---- types and defaults ---- */

/* The values of a COLUMN_TYPE "enum('a','b''c')", unquoted, into `out`. */
static void my_enum_values(const char *column_type, strvec *out)
{
    const char *p = strchr(column_type, '(');
    while (p && *p && *p != ')') {
        p++;
        if (*p != '\'')
            break;
        sbuf v = SBUF_INIT;
        p++;
        while (*p) {
            if (*p == '\'' && p[1] == '\'') {
                sbuf_addc(&v, '\'');
                p += 2;
                continue;
            }
            if (*p == '\\' && p[1]) {
                sbuf_addc(&v, p[1]);
                p += 2;
                continue;
            }
            if (*p == '\'')
                break;
            sbuf_addc(&v, *p++);
        }
        strvec_push_owned(out, sbuf_detach(&v));
        if (*p == '\'')
            p++;
    }
}

/* The neutral type of a column from information_schema.COLUMNS: DATA_TYPE,
 * COLUMN_TYPE (for tinyint(1) and the ENUM values) and the length and
 * precision columns. What has no neutral form reads as text, with a
 * warning naming `table`. */
static void my_type_of(column *c, const char *data_type, const char *column_type, long long len,
                       long long prec, long long scale, long long dtprec, const char *table,
                       strvec *warnings)
{
    if (!strcmp(data_type, "int") || !strcmp(data_type, "mediumint"))
        c->type.kind = TY_INTEGER;
    else if (!strcmp(data_type, "bigint"))
        c->type.kind = TY_BIGINT;
    else if (!strcmp(data_type, "smallint"))
        c->type.kind = TY_SMALLINT;
    else if (!strcmp(data_type, "tinyint"))
        c->type.kind = str_starts(column_type, "tinyint(1)") ? TY_BOOLEAN : TY_SMALLINT;
    else if (!strcmp(data_type, "decimal")) {
        c->type.kind = TY_DECIMAL;
        c->type.precision = (int)prec;
        c->type.scale = (int)scale;
    } else if (!strcmp(data_type, "float"))
        c->type.kind = TY_REAL;
    else if (!strcmp(data_type, "double"))
        c->type.kind = TY_DOUBLE;
    else if (!strcmp(data_type, "varchar")) {
        c->type.kind = TY_STRING;
        c->type.length = (int)len;
    } else if (!strcmp(data_type, "char")) {
        if (len == 36) {
            c->type.kind = TY_UUID;
        } else {
            c->type.kind = TY_STRING;
            c->type.length = (int)len;
        }
    } else if (!strcmp(data_type, "longtext") || !strcmp(data_type, "text") ||
               !strcmp(data_type, "mediumtext") || !strcmp(data_type, "tinytext"))
        c->type.kind = TY_TEXT;
    else if (!strcmp(data_type, "json"))
        c->type.kind = TY_JSON;
    else if (strstr(data_type, "blob") || !strcmp(data_type, "varbinary") ||
             !strcmp(data_type, "binary"))
        c->type.kind = TY_BINARY;
    else if (!strcmp(data_type, "date"))
        c->type.kind = TY_DATE;
    else if (!strcmp(data_type, "time")) {
        c->type.kind = TY_TIME;
        c->type.precision = (int)dtprec;
    } else if (!strcmp(data_type, "datetime") || !strcmp(data_type, "timestamp")) {
        c->type.kind = TY_TIMESTAMPTZ;
        c->type.precision = (int)dtprec;
    } else if (!strcmp(data_type, "enum")) {
        c->type.kind = TY_ENUM;
        my_enum_values(column_type, &c->type.values);
    } else {
        c->type.kind = TY_TEXT;
        intro_warn(warnings, "%s.%s: type %s has no neutral form; read as text", table, c->name,
                   column_type);
    }
}

/* A column's default from COLUMN_DEFAULT, its type already set. MariaDB
 * quotes literals and says NULL for no default; MySQL 8 shows literals
 * unquoted and marks expressions DEFAULT_GENERATED in EXTRA. */
static void my_default(column *c, const char *def, const char *extra, int mariadb)
{
    if (!def)
        return;
    if (str_ieq(def, "NULL")) {
        if (mariadb)
            intro_set_literal(c, json_null());
        else
            intro_set_literal(c, json_string("NULL"));
        return;
    }
    int expr = extra && strstr(extra, "DEFAULT_GENERATED");
    if (intro_is_now_expr(def)) {
        c->def.kind = DEF_NOW;
        return;
    }
    if (intro_is_uuid_expr(def)) {
        c->def.kind = DEF_UUID;
        return;
    }
    char *lit = sql_unquote_literal(def, 1);
    if (lit) {
        json_t *j = intro_literal(c->type.kind, lit, 1);
        free(lit);
        intro_set_literal(c, j ? j : json_null());
        return;
    }
    if (!mariadb && !expr) {
        /* MySQL 8 shows literals unquoted */
        json_t *j = intro_literal(c->type.kind, def, 1);
        intro_set_literal(c, j);
        return;
    }
    json_t *j = intro_literal(c->type.kind, def, 0);
    if (j) {
        intro_set_literal(c, j);
        return;
    }
    intro_set_sql_default(c, STRATA_MYSQL, def);
}

/* ---- columns, and the helper columns of partial unique indexes ---- */

/* A generated column "IF(<pred>, `col`, NULL)" that implements a partial
 * unique index (MySQL has none): its comment is "strata:partial-unique
 * <index> <where json>". It is not a column of the schema but stands for
 * `col` in that index. */
typedef struct helper_col {
    char *name;    /* helper column */
    char *index;   /* the partial unique index it serves */
    char *source;  /* the column it copies */
    json_t *where; /* the predicate */
} helper_col;

typedef struct helper_list {
    helper_col *v;
    size_t n, cap;
} helper_list;

static void helper_list_free(helper_list *l)
{
    for (size_t h = 0; h < l->n; h++) {
        free(l->v[h].name);
        free(l->v[h].index);
        free(l->v[h].source);
        if (l->v[h].where)
            json_decref(l->v[h].where);
    }
    free(l->v);
}

/* Record column `cname` in `l` when its comment marks it as a helper column
 * and it has a generation expression `gen`: 1 if so, else 0. */
static int my_helper_column(helper_list *l, const char *cname, const char *comment, const char *gen)
{
    if (!comment || !str_starts(comment, "strata:partial-unique "))
        return 0;
    const char *p = comment + strlen("strata:partial-unique ");
    const char *sp = strchr(p, ' ');
    if (!sp || !gen)
        return 0;
    l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof *l->v);
    helper_col *h = &l->v[l->n++];
    h->name = xstrdup(cname);
    h->index = xstrndup(p, (size_t)(sp - p));
    h->where = json_loads(sp + 1, 0, NULL);
    /* the source column is the second-to-last argument of IF */
    const char *end = gen + strlen(gen);
    const char *last_comma = NULL, *prev_comma = NULL;
    int depth = 0;
    for (const char *q = gen; q < end; q++) {
        if (*q == '(')
            depth++;
        else if (*q == ')')
            depth--;
        else if (*q == ',' && depth == 1) {
            prev_comma = last_comma;
            last_comma = q;
        }
    }
    h->source = prev_comma && last_comma
                    ? sql_unquote_ident(prev_comma + 1, (size_t)(last_comma - prev_comma - 1))
                    : xstrdup("?");
    return 1;
}

/* A number column of information_schema.COLUMNS (sent as text), 0 when
 * NULL. */
static long long my_number(strata_rows *rows, size_t i)
{
    const strata_value *v = strata_rows_value(rows, i);
    return v->type == STRATA_VNULL ? 0 : strtoll(v->s, NULL, 10);
}

/* One row of the column query as a column of `t`. */
static void my_add_column(table *t, strata_rows *rows, int mariadb, strvec *warnings)
{
    column c;
    memset(&c, 0, sizeof c);
    c.name = xstrdup(strata_rows_text(rows, 1));
    long long len = my_number(rows, 7), prec = my_number(rows, 8);
    long long scale = my_number(rows, 9), dtprec = my_number(rows, 10);
    my_type_of(&c, strata_rows_text(rows, 2), strata_rows_text(rows, 3), len, prec, scale, dtprec,
               t->name, warnings);
    c.nullable = strcmp(strata_rows_text(rows, 4), "YES") == 0;
    const char *extra = strata_rows_text(rows, 6);
    if (extra && strstr(extra, "auto_increment")) {
        if (c.type.kind == TY_INTEGER)
            c.type.kind = TY_SERIAL;
        else if (c.type.kind == TY_BIGINT)
            c.type.kind = TY_BIGSERIAL;
    } else {
        my_default(&c, strata_rows_text(rows, 5), extra, mariadb);
    }
    const char *comment = strata_rows_text(rows, 11);
    if (comment && *comment)
        c.comment = xstrdup(comment);
    table_add_column(t, &c);
    column_free(&c);
}

/* Every base table with its columns, in creation order; helper columns go
 * to `helpers` instead. */
static int my_read_columns(strata_conn *conn, schema *s, int mariadb, helper_list *helpers,
                           strvec *warnings)
{
    strata_rows *rows;
    int rc = strata_conn_query(
        conn,
        "SELECT c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.IS_NULLABLE, "
        "c.COLUMN_DEFAULT, c.EXTRA, c.CHARACTER_MAXIMUM_LENGTH, c.NUMERIC_PRECISION, "
        "c.NUMERIC_SCALE, c.DATETIME_PRECISION, c.COLUMN_COMMENT, c.GENERATION_EXPRESSION FROM "
        "information_schema.COLUMNS c JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = "
        "c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME WHERE c.TABLE_SCHEMA = DATABASE() AND "
        "t.TABLE_TYPE = 'BASE TABLE' AND c.TABLE_NAME NOT LIKE 'strata\\_%' ORDER BY "
        "t.CREATE_TIME, c.TABLE_NAME, c.ORDINAL_POSITION",
        NULL, 0, &rows);
    if (rc)
        return rc;
    while ((rc = strata_rows_next(rows)) == 1) {
        table *t = intro_table(s, strata_rows_text(rows, 0));
        if (!my_helper_column(helpers, strata_rows_text(rows, 1), strata_rows_text(rows, 11),
                              strata_rows_text(rows, 12)))
            my_add_column(t, rows, mariadb, warnings);
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

/* ---- keys and indexes ---- */

/* One row of the index query (one column of one index) into `t`: a column
 * of the primary key or of an index. A helper column stands for its source
 * column and gives the index its predicate. */
static void my_add_index_column(table *t, strata_rows *rows, const helper_list *helpers)
{
    const char *iname = strata_rows_text(rows, 1);
    const char *col = strata_rows_text(rows, 3);
    if (strcmp(iname, "PRIMARY") == 0) {
        strvec_push(&t->pk, col);
        if (!t->pk_name)
            t->pk_name = name_generate(t->name, NULL, 0, "pkey");
        return;
    }
    index_def *ix = table_index_mut(t, iname);
    if (!ix) {
        index_def n;
        memset(&n, 0, sizeof n);
        n.name = xstrdup(iname);
        n.unique = strata_rows_value(rows, 2)->i == 0;
        n.cols = xcalloc(1, sizeof(index_col));
        table_add_index(t, &n);
        index_free(&n);
        ix = &t->idx[t->nidx - 1];
    }
    ix->cols = xrealloc(ix->cols, (ix->ncols + 2) * sizeof(index_col));
    const char *source = col;
    for (size_t h = 0; h < helpers->n; h++)
        if (strcmp(helpers->v[h].name, col) == 0 && strcmp(helpers->v[h].index, iname) == 0) {
            source = helpers->v[h].source;
            if (!ix->where && helpers->v[h].where)
                ix->where = json_incref(helpers->v[h].where);
        }
    ix->cols[ix->ncols].name = xstrdup(source);
    const char *coll = strata_rows_text(rows, 4);
    ix->cols[ix->ncols].desc = coll && strcmp(coll, "D") == 0;
    ix->ncols++;
}

static int my_read_indexes(strata_conn *conn, schema *s, const helper_list *helpers)
{
    strata_rows *rows;
    int rc = strata_conn_query(
        conn,
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, COLLATION, INDEX_TYPE, "
        "SUB_PART FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND "
        "TABLE_NAME NOT LIKE 'strata\\_%' ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        NULL, 0, &rows);
    if (rc)
        return rc;
    while ((rc = strata_rows_next(rows)) == 1) {
        table *t = schema_table_mut(s, strata_rows_text(rows, 0));
        if (t)
            my_add_index_column(t, rows, helpers);
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

/* Drop the indexes the schema did not ask for: InnoDB's own index for a
 * foreign key (named like it, on the same columns) and the KEY a non-key
 * serial needs (<table>_<column>_serial). */
static void my_drop_implicit_indexes(schema *s)
{
    for (size_t i = 0; i < s->ntables; i++) {
        table *t = &s->tables[i];
        for (size_t k = t->nidx; k-- > 0;) {
            index_def *ix = &t->idx[k];
            int drop = 0;
            const fk_def *fk = table_fk(t, ix->name);
            if (fk && !ix->unique && fk->cols.n == ix->ncols) {
                drop = 1;
                for (size_t j = 0; j < ix->ncols; j++)
                    if (strcmp(fk->cols.v[j], ix->cols[j].name) != 0)
                        drop = 0;
            }
            if (ix->ncols == 1 && !ix->unique) {
                const column *c = table_column(t, ix->cols[0].name);
                if (c && type_is_serial(c->type.kind) && str_ends(ix->name, "_serial"))
                    drop = 1;
            }
            if (drop) {
                index_free(ix);
                memmove(ix, ix + 1, (t->nidx - k - 1) * sizeof *ix);
                t->nidx--;
            }
        }
    }
}

/* ---- foreign keys and checks ---- */

/* One row of the foreign-key query (one column of one key) into `t`. */
static void my_add_fk_column(table *t, strata_rows *rows)
{
    const char *fname = strata_rows_text(rows, 1);
    fk_def *fk = table_fk_mut(t, fname);
    if (!fk) {
        fk_def n;
        memset(&n, 0, sizeof n);
        n.name = xstrdup(fname);
        n.ref_table = xstrdup(strata_rows_text(rows, 3));
        n.on_update = intro_fk_action(strata_rows_text(rows, 5));
        n.on_delete = intro_fk_action(strata_rows_text(rows, 6));
        table_add_fk(t, &n);
        fk_free(&n);
        fk = &t->fks[t->nfks - 1];
    }
    strvec_push(&fk->cols, strata_rows_text(rows, 2));
    strvec_push(&fk->ref_cols, strata_rows_text(rows, 4));
}

static int my_read_fks(strata_conn *conn, schema *s)
{
    strata_rows *rows;
    int rc = strata_conn_query(
        conn,
        "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, "
        "k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE FROM "
        "information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
        "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
        "AND r.TABLE_NAME = k.TABLE_NAME WHERE k.TABLE_SCHEMA = DATABASE() AND "
        "k.REFERENCED_TABLE_NAME IS NOT NULL AND k.TABLE_NAME NOT LIKE 'strata\\_%' ORDER BY "
        "k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        NULL, 0, &rows);
    if (rc)
        return rc;
    while ((rc = strata_rows_next(rows)) == 1) {
        table *t = schema_table_mut(s, strata_rows_text(rows, 0));
        if (t)
            my_add_fk_column(t, rows);
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

/* One row of the check query into `t`. MariaDB's JSON columns are longtext
 * with a column-level json_valid check: that check makes the column json
 * (and a string default its JSON value) instead of a check of the table. */
static void my_add_check(table *t, strata_rows *rows)
{
    const char *name = strata_rows_text(rows, 1), *clause = strata_rows_text(rows, 2);
    const char *level = strata_rows_text(rows, 3);
    char *n = sql_normalize(clause);
    column *c = table_column_mut(t, name);
    if (level && strcmp(level, "Column") == 0 && c && str_starts(n, "json_valid")) {
        if (c->type.kind == TY_TEXT)
            c->type.kind = TY_JSON;
        if (c->def.kind == DEF_LITERAL && json_is_string(c->def.literal)) {
            json_t *j = json_loads(json_string_value(c->def.literal), JSON_DECODE_ANY, NULL);
            if (j)
                intro_set_literal(c, j);
        }
        free(n);
        return;
    }
    free(n);
    check_def ck;
    ck.name = xstrdup(name);
    ck.check = json_string(clause);
    table_add_check(t, &ck);
    check_free(&ck);
}

static int my_read_checks(strata_conn *conn, schema *s, int mariadb)
{
    strata_rows *rows;
    int rc = strata_conn_query(
        conn,
        mariadb ? "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE, LEVEL FROM "
                  "information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND "
                  "TABLE_NAME NOT LIKE 'strata\\_%' ORDER BY TABLE_NAME, CONSTRAINT_NAME"
                : "SELECT tc.TABLE_NAME, tc.CONSTRAINT_NAME, cc.CHECK_CLAUSE, 'Table' FROM "
                  "information_schema.TABLE_CONSTRAINTS tc JOIN "
                  "information_schema.CHECK_CONSTRAINTS cc ON cc.CONSTRAINT_SCHEMA = "
                  "tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME WHERE "
                  "tc.TABLE_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE = 'CHECK' AND "
                  "tc.TABLE_NAME NOT LIKE 'strata\\_%' ORDER BY tc.TABLE_NAME, "
                  "tc.CONSTRAINT_NAME",
        NULL, 0, &rows);
    if (rc)
        return rc;
    while ((rc = strata_rows_next(rows)) == 1) {
        table *t = schema_table_mut(s, strata_rows_text(rows, 0));
        if (t)
            my_add_check(t, rows);
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

/* ---- what has no neutral form ---- */

static int my_read_views(strata_conn *conn, strvec *warnings, strvec *raw)
{
    strata_rows *rows;
    int rc = strata_conn_query(conn,
                               "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS "
                               "WHERE TABLE_SCHEMA = DATABASE()",
                               NULL, 0, &rows);
    if (rc)
        return rc;
    while ((rc = strata_rows_next(rows)) == 1) {
        char *q = strata_quote_ident(STRATA_MYSQL, strata_rows_text(rows, 0));
        strvec_pushf(raw, "CREATE VIEW %s AS %s", q, strata_rows_text(rows, 1));
        free(q);
        intro_warn(warnings, "view %s has no neutral form; kept as MySQL SQL",
                   strata_rows_text(rows, 0));
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

int introspect_mysql(strata_conn *conn, schema *s, strvec *warnings, strvec *raw)
{
    int mariadb = strata_conn_is_mariadb(conn);
    helper_list helpers = {NULL, 0, 0};
    int rc = my_read_columns(conn, s, mariadb, &helpers, warnings);
    if (!rc)
        rc = my_read_indexes(conn, s, &helpers);
    if (!rc)
        rc = my_read_fks(conn, s);
    if (!rc)
        rc = my_read_checks(conn, s, mariadb);
    if (!rc) {
        my_drop_implicit_indexes(s);
        rc = my_read_views(conn, warnings, raw);
    }
    helper_list_free(&helpers);
    return rc;
}
