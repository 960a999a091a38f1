/*
 * introspect_postgres.c - reading a PostgreSQL schema from pg_catalog.
 *
 * A serial is an integer or bigint with a nextval() default; enums are
 * types (an enum type named <table>_<column>_enum used by that column alone
 * is the column's inline enum); defaults and predicates come back through
 * pg_get_expr with casts, which the comparison normalises. Indexes with
 * operator classes or expressions, views and triggers have no neutral form
 * and go to `raw`.
 */
#include "introspect_read.h"
#include "names.h"
#include "sqltext.h"

#include <stdlib.h>
#include <string.h>

/* ---- types and defaults ---- */

/* The neutral type of a column from format_type()'s text `fmt`; an enum
 * type (typtype 'e') is the named enum `typname` until
 * pg_fold_inline_enums() decides otherwise. What has no neutral form reads
 * as text, with a warning naming `table`. */
static int pg_type_of(column *c, const char *fmt, const char *typname, const char *typtype,
                      const char *table, strvec *warnings)
{
    int len = 0, p = 0, s = 0;
    if (strcmp(typtype, "e") == 0) {
        c->type.kind = TY_ENUM;
        c->type.enum_name = xstrdup(typname); /* folded to inline later if it is */
        return 0;
    }
    if (!strcmp(fmt, "smallint"))
        c->type.kind = TY_SMALLINT;
    else if (!strcmp(fmt, "integer"))
        c->type.kind = TY_INTEGER;
    else if (!strcmp(fmt, "bigint"))
        c->type.kind = TY_BIGINT;
    else if (sscanf(fmt, "numeric(%d,%d)", &p, &s) == 2) {
        c->type.kind = TY_DECIMAL;
        c->type.precision = p;
        c->type.scale = s;
    } else if (!strcmp(fmt, "numeric")) {
        c->type.kind = TY_DECIMAL;
        c->type.precision = 38;
        c->type.scale = 10;
        intro_warn(warnings, "%s.%s: numeric without precision read as decimal(38,10)", table,
                   c->name);
    } else if (!strcmp(fmt, "real"))
        c->type.kind = TY_REAL;
    else if (!strcmp(fmt, "double precision"))
        c->type.kind = TY_DOUBLE;
    else if (!strcmp(fmt, "boolean"))
        c->type.kind = TY_BOOLEAN;
    else if (sscanf(fmt, "character varying(%d)", &len) == 1 ||
             sscanf(fmt, "character(%d)", &len) == 1) {
        c->type.kind = TY_STRING;
        c->type.length = len;
    } else if (!strcmp(fmt, "character varying")) {
        c->type.kind = TY_STRING;
        c->type.length = 255;
        intro_warn(warnings, "%s.%s: varchar without a length read as string(255)", table, c->name);
    } else if (!strcmp(fmt, "text"))
        c->type.kind = TY_TEXT;
    else if (!strcmp(fmt, "uuid"))
        c->type.kind = TY_UUID;
    else if (!strcmp(fmt, "date"))
        c->type.kind = TY_DATE;
    else if (str_starts(fmt, "time") && strstr(fmt, "without time zone") &&
             !str_starts(fmt, "timestamp")) {
        c->type.kind = TY_TIME;
        c->type.precision = sscanf(fmt, "time(%d)", &p) == 1 ? p : 6;
    } else if (str_starts(fmt, "timestamp") && strstr(fmt, "with time zone") &&
               !strstr(fmt, "without")) {
        c->type.kind = TY_TIMESTAMPTZ;
        c->type.precision = sscanf(fmt, "timestamp(%d)", &p) == 1 ? p : 6;
    } else if (str_starts(fmt, "timestamp")) {
        c->type.kind = TY_TIMESTAMP;
        c->type.precision = sscanf(fmt, "timestamp(%d)", &p) == 1 ? p : 6;
    } else if (!strcmp(fmt, "json"))
        c->type.kind = TY_JSON;
    else if (!strcmp(fmt, "jsonb"))
        c->type.kind = TY_JSONB;
    else if (!strcmp(fmt, "bytea"))
        c->type.kind = TY_BINARY;
    else {
        c->type.kind = TY_TEXT;
        intro_warn(warnings, "%s.%s: type %s has no neutral form; read as text", table, c->name,
                   fmt);
    }
    return 0;
}

/* A column's default from pg_get_expr()'s text, its type already set:
 * nextval() makes the column serial (the sequence is the default), then
 * the time and UUID expressions, NULL, literals with or without a ::cast,
 * and anything else as PostgreSQL SQL. */
static void pg_default(column *c, const char *expr)
{
    if (!expr)
        return;
    if (strstr(expr, "nextval(")) {
        if (c->type.kind == TY_INTEGER)
            c->type.kind = TY_SERIAL;
        else if (c->type.kind == TY_BIGINT)
            c->type.kind = TY_BIGSERIAL;
        return;
    }
    if (intro_is_now_expr(expr)) {
        c->def.kind = DEF_NOW;
        return;
    }
    if (intro_is_uuid_expr(expr)) {
        c->def.kind = DEF_UUID;
        return;
    }
    if (str_ieq(expr, "NULL") || str_starts(expr, "NULL::")) {
        intro_set_literal(c, json_null());
        return;
    }
    char *lit = sql_unquote_literal(expr, 0);
    if (lit) {
        json_t *j = intro_literal(c->type.kind, lit, 1);
        free(lit);
        if (j) {
            intro_set_literal(c, j);
            return;
        }
    }
    /* bare numbers and booleans, possibly parenthesised: (-1), 0, true */
    char *n = sql_normalize(expr);
    json_t *j = intro_literal(c->type.kind, n, 0);
    free(n);
    if (j && !json_is_string(j)) {
        intro_set_literal(c, j);
        return;
    }
    if (j)
        json_decref(j);
    intro_set_sql_default(c, STRATA_POSTGRES, expr);
}

/* ---- enums and columns ---- */

static int pg_read_enums(strata_conn *conn, schema *s)
{
    strata_rows *rows;
    int rc = strata_conn_query(conn,
                               "SELECT t.typname, string_agg(e.enumlabel, chr(31) ORDER BY "
                               "e.enumsortorder) FROM pg_type t JOIN pg_enum e ON e.enumtypid = "
                               "t.oid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE "
                               "n.nspname = current_schema() GROUP BY t.typname ORDER BY t.typname",
                               NULL, 0, &rows);
    if (rc)
        return rc;
    while ((rc = strata_rows_next(rows)) == 1) {
        s->enums = xgrow(s->enums, &s->cap_enums, s->nenums + 1, sizeof *s->enums);
        enum_def *e = &s->enums[s->nenums++];
        memset(e, 0, sizeof *e);
        e->name = xstrdup(strata_rows_text(rows, 0));
        intro_split(strata_rows_text(rows, 1), &e->values);
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

/* Every table with its columns, in creation order. */
static int pg_read_columns(strata_conn *conn, schema *s, strvec *warnings)
{
    strata_rows *rows;
    int rc = strata_conn_query(
        conn,
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), t.typname, "
        "t.typtype, a.attnotnull, pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, "
        "a.attnum) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n "
        "ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d ON "
        "d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE n.nspname = current_schema() AND "
        "c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND c.relname NOT LIKE "
        "'strata\\_%' ORDER BY c.oid, a.attnum",
        NULL, 0, &rows);
    if (rc)
        return rc;
    while ((rc = strata_rows_next(rows)) == 1) {
        table *t = intro_table(s, strata_rows_text(rows, 0));
        column c;
        memset(&c, 0, sizeof c);
        c.name = xstrdup(strata_rows_text(rows, 1));
        pg_type_of(&c, strata_rows_text(rows, 2), strata_rows_text(rows, 3),
                   strata_rows_text(rows, 4), t->name, warnings);
        c.nullable = !strata_rows_value(rows, 5)->i;
        pg_default(&c, strata_rows_text(rows, 6));
        if (strata_rows_text(rows, 7))
            c.comment = xstrdup(strata_rows_text(rows, 7));
        table_add_column(t, &c);
        column_free(&c);
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

/* ---- keys, unique constraints, foreign keys, checks ---- */

/* One row of the constraint query into `t`: its primary key, a unique
 * constraint, a foreign key, or a check (kept as the SQL inside CHECK). */
static void pg_add_constraint(table *t, strata_rows *rows)
{
    const char *name = strata_rows_text(rows, 1), *type = strata_rows_text(rows, 2);
    strvec cols = STRVEC_INIT, refcols = STRVEC_INIT;
    intro_split(strata_rows_text(rows, 7), &cols);
    intro_split(strata_rows_text(rows, 8), &refcols);
    if (*type == 'p') {
        strvec_free(&t->pk);
        t->pk = cols;
        memset(&cols, 0, sizeof cols);
        free(t->pk_name);
        t->pk_name = xstrdup(name);
    } else if (*type == 'u') {
        index_def ix;
        memset(&ix, 0, sizeof ix);
        ix.name = xstrdup(name);
        ix.ncols = cols.n;
        ix.cols = xcalloc(cols.n + 1, sizeof(index_col));
        for (size_t i = 0; i < cols.n; i++)
            ix.cols[i].name = xstrdup(cols.v[i]);
        ix.unique = 1;
        ix.constraint = 1;
        table_add_index(t, &ix);
        index_free(&ix);
    } else if (*type == 'f') {
        fk_def fk;
        memset(&fk, 0, sizeof fk);
        fk.name = xstrdup(name);
        fk.cols = cols;
        memset(&cols, 0, sizeof cols);
        fk.ref_table = xstrdup(strata_rows_text(rows, 6));
        fk.ref_cols = refcols;
        memset(&refcols, 0, sizeof refcols);
        fk.on_delete = intro_fk_action(strata_rows_text(rows, 4));
        fk.on_update = intro_fk_action(strata_rows_text(rows, 5));
        table_add_fk(t, &fk);
        fk_free(&fk);
    } else {
        const char *def = strata_rows_text(rows, 3); /* CHECK ((...)) */
        char *body = sql_paren_body(def);
        check_def ck;
        ck.name = xstrdup(name);
        ck.check = json_string(body ? body : def);
        table_add_check(t, &ck);
        check_free(&ck);
        free(body);
    }
    strvec_free(&cols);
    strvec_free(&refcols);
}

static int pg_read_constraints(strata_conn *conn, schema *s)
{
    strata_rows *rows;
    int rc = strata_conn_query(
        conn,
        "SELECT c.relname, con.conname, con.contype, pg_get_constraintdef(con.oid), "
        "con.confdeltype::text, con.confupdtype::text, fr.relname, "
        "(SELECT string_agg(a.attname, chr(31) ORDER BY k.o) FROM unnest(con.conkey) WITH "
        "ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n), "
        "(SELECT string_agg(a.attname, chr(31) ORDER BY k.o) FROM unnest(con.confkey) WITH "
        "ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = "
        "k.n) FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n "
        "ON n.oid = c.relnamespace LEFT JOIN pg_class fr ON fr.oid = con.confrelid WHERE "
        "n.nspname = current_schema() AND c.relname NOT LIKE 'strata\\_%' AND con.contype IN "
        "('p', 'u', 'f', 'c') ORDER BY c.relname, con.conname",
        NULL, 0, &rows);
    if (rc)
        return rc;
    while ((rc = strata_rows_next(rows)) == 1) {
        table *t = schema_table_mut(s, strata_rows_text(rows, 0));
        if (t)
            pg_add_constraint(t, rows);
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

/* ---- indexes ---- */

/* Is column i of an index descending? `optxt` is pg_index.indoption as
 * text: space-separated ints, bit 0 = DESC. */
static int pg_index_desc(const char *optxt, size_t i)
{
    long o = 0;
    if (optxt) {
        const char *q = optxt;
        for (size_t k = 0; k < i && q; k++) {
            q = strchr(q, ' ');
            if (q)
                q++;
        }
        if (q)
            o = strtol(q, NULL, 10);
    }
    return (int)(o & 1);
}

/* One row of the index query into `t`, or to `raw` when the index uses
 * operator classes (gin_trgm_ops ...) or expressions, which have no
 * neutral form. */
static void pg_add_index(table *t, strata_rows *rows, strvec *warnings, strvec *raw)
{
    const char *name = strata_rows_text(rows, 1), *method = strata_rows_text(rows, 3);
    const char *def = strata_rows_text(rows, 5);
    int has_expr = strata_rows_value(rows, 8)->i;
    if (has_expr || strstr(def, "_ops")) {
        strvec_push(raw, def);
        intro_warn(warnings, "index %s on %s has no neutral form; kept as PostgreSQL SQL", name,
                   t->name);
        return;
    }
    index_def ix;
    memset(&ix, 0, sizeof ix);
    ix.name = xstrdup(name);
    ix.unique = (int)strata_rows_value(rows, 2)->i;
    strvec cols = STRVEC_INIT;
    intro_split(strata_rows_text(rows, 6), &cols);
    ix.ncols = cols.n;
    ix.cols = xcalloc(cols.n + 1, sizeof(index_col));
    for (size_t i = 0; i < cols.n; i++) {
        ix.cols[i].name = xstrdup(cols.v[i]);
        ix.cols[i].desc = pg_index_desc(strata_rows_text(rows, 7), i);
    }
    strvec_free(&cols);
    if (strata_rows_text(rows, 4))
        ix.where = json_string(strata_rows_text(rows, 4));
    if (method && strcmp(method, "btree") != 0)
        ix.method[STRATA_POSTGRES] = xstrdup(method);
    table_add_index(t, &ix);
    index_free(&ix);
}

/* The indexes that are not constraints (those came with the constraints). */
static int pg_read_indexes(strata_conn *conn, schema *s, strvec *warnings, strvec *raw)
{
    strata_rows *rows;
    int rc = strata_conn_query(
        conn,
        "SELECT c.relname, i.relname, ix.indisunique, am.amname, pg_get_expr(ix.indpred, "
        "ix.indrelid), pg_get_indexdef(ix.indexrelid), (SELECT string_agg(coalesce(a.attname, "
        "''), chr(31) ORDER BY k.o) FROM unnest(ix.indkey) WITH ORDINALITY k(n, o) LEFT JOIN "
        "pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.n), ix.indoption::text, "
        "ix.indexprs IS NOT NULL FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN "
        "pg_class c ON c.oid = ix.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN "
        "pg_am am ON am.oid = i.relam WHERE n.nspname = current_schema() AND c.relname NOT LIKE "
        "'strata\\_%' AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = "
        "ix.indexrelid AND con.contype IN ('p', 'u', 'x')) ORDER BY c.relname, i.relname",
        NULL, 0, &rows);
    if (rc)
        return rc;
    while ((rc = strata_rows_next(rows)) == 1) {
        table *t = schema_table_mut(s, strata_rows_text(rows, 0));
        if (t)
            pg_add_index(t, rows, warnings, raw);
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

/* ---- what has no neutral form ---- */

/* Views and triggers, as SQL. */
static int pg_read_views_triggers(strata_conn *conn, strvec *warnings, strvec *raw)
{
    strata_rows *rows;
    int rc = strata_conn_query(
        conn,
        "SELECT 'CREATE VIEW ' || quote_ident(c.relname) || ' AS ' || pg_get_viewdef(c.oid), "
        "c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
        "n.nspname = current_schema() AND c.relkind = 'v' UNION ALL SELECT "
        "pg_get_triggerdef(tg.oid), tg.tgname FROM pg_trigger tg JOIN pg_class c ON c.oid = "
        "tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = "
        "current_schema() AND NOT tg.tgisinternal",
        NULL, 0, &rows);
    if (rc)
        return rc;
    while ((rc = strata_rows_next(rows)) == 1) {
        strvec_push(raw, strata_rows_text(rows, 0));
        intro_warn(warnings, "%s has no neutral form; kept as PostgreSQL SQL",
                   strata_rows_text(rows, 1));
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

/* An enum type named <table>_<column>_enum used by that column alone is the
 * column's inline enum (TypeORM's and Strata's convention). */
static void pg_fold_inline_enums(schema *s)
{
    for (size_t i = 0; i < s->nenums;) {
        enum_def *e = &s->enums[i];
        column *only = NULL;
        table *owner = NULL;
        int uses = 0;
        for (size_t t = 0; t < s->ntables; t++)
            for (size_t k = 0; k < s->tables[t].ncols; k++) {
                column *c = &s->tables[t].cols[k];
                if (c->type.kind == TY_ENUM && c->type.enum_name &&
                    strcmp(c->type.enum_name, e->name) == 0) {
                    uses++;
                    only = c;
                    owner = &s->tables[t];
                }
            }
        int inline_enum = 0;
        if (uses == 1) {
            const char *cn = only->name;
            char *expected = name_generate(owner->name, &cn, 1, "enum");
            inline_enum = strcmp(expected, e->name) == 0;
            free(expected);
        }
        if (inline_enum) {
            only->type.pg_type = only->type.enum_name;
            only->type.enum_name = NULL;
            for (size_t v = 0; v < e->values.n; v++)
                strvec_push(&only->type.values, e->values.v[v]);
            free(e->name);
            strvec_free(&e->values);
            memmove(e, e + 1, (s->nenums - i - 1) * sizeof *e);
            s->nenums--;
            continue;
        }
        i++;
    }
}

int introspect_postgres(strata_conn *conn, schema *s, strvec *warnings, strvec *raw)
{
    int rc = pg_read_enums(conn, s);
    if (!rc)
        rc = pg_read_columns(conn, s, warnings);
    if (!rc)
        rc = pg_read_constraints(conn, s);
    if (!rc)
        rc = pg_read_indexes(conn, s, warnings, raw);
    if (!rc)
        rc = pg_read_views_triggers(conn, warnings, raw);
    if (!rc)
        pg_fold_inline_enums(s);
    return rc;
}
