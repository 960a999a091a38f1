/*
 * introspect.c - reading a live database's schema into the schema model.
 *
 * One reader per dialect fills the same structs that replaying migrations
 * builds, undoing each dialect compiler's mapping (see introspect.h):
 *
 *   PostgreSQL: pg_catalog. serial = integer/bigint with a nextval()
 *     default; enums are types (an enum type named <table>_<column>_enum
 *     used by that column alone is the column's inline enum); defaults and
 *     predicates come back through pg_get_expr with casts, which the
 *     comparison normalises.
 *   MySQL/MariaDB: information_schema. tinyint(1) is boolean, char(36) is
 *     uuid, datetime(p) is timestamptz (timestamp reads back the same: a
 *     documented ambiguity), json or MariaDB's longtext + json_valid() check
 *     is json, ENUM(...) is an inline enum, AUTO_INCREMENT is serial (its
 *     extra KEY is not an index of the schema), an index named like a
 *     foreign key on the same columns is InnoDB's own, and Strata's
 *     invisible generated "strata:partial-unique" columns fold back into
 *     the partial unique index they implement.
 *   SQLite: sqlite_schema + pragmas. Declared types are the neutral names;
 *     constraint names, CHECKs and foreign-key names are read from the
 *     CREATE TABLE text; `<table>_<column>_enum` CHECKs make enums,
 *     json_valid CHECKs mark JSON, Strata's serial triggers mark non-key
 *     serials.
 *
 * Anything else (views, other triggers, expression indexes) goes to `raw`
 * with a warning, so nothing is silently dropped.
 */
#include "introspect.h"
#include "names.h"
#include "sqltext.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define SEP "\x1f"

/* ---- building the model ---- */

static table *intro_table(schema *s, const char *name)
{
    table *t = schema_table_mut(s, name);
    if (t)
        return t;
    s->tables = xgrow(s->tables, &s->cap_tables, s->ntables + 1, sizeof *s->tables);
    t = &s->tables[s->ntables++];
    memset(t, 0, sizeof *t);
    t->name = xstrdup(name);
    t->created_in = -1;
    return t;
}

static void split(const char *text, strvec *out)
{
    if (!text || !*text)
        return;
    const char *p = text;
    for (;;) {
        const char *e = strstr(p, SEP);
        strvec_push_owned(out, xstrndup(p, e ? (size_t)(e - p) : strlen(p)));
        if (!e)
            break;
        p = e + 1;
    }
}

static void warn(strvec *w, const char *fmt, ...) STRATA_PRINTF(2, 3);
static void warn(strvec *w, const char *fmt, ...)
{
    if (!w)
        return;
    sbuf b = SBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sbuf_vaddf(&b, fmt, ap);
    va_end(ap);
    strvec_push_owned(w, sbuf_detach(&b));
}

static fk_action parse_action_word(const char *s)
{
    if (!s)
        return FK_NO_ACTION;
    if (str_ieq(s, "CASCADE") || str_ieq(s, "c"))
        return FK_CASCADE;
    if (str_ieq(s, "SET NULL") || str_ieq(s, "n"))
        return FK_SET_NULL;
    if (str_ieq(s, "RESTRICT") || str_ieq(s, "r"))
        return FK_RESTRICT;
    return FK_NO_ACTION;
}

/* A default's text as a JSON literal for a column of type k, or NULL. */
static json_t *literal_for(type_kind k, const char *text, int quoted)
{
    if (type_is_json(k)) {
        json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
        return j ? j : json_string(text);
    }
    if (k == TY_BOOLEAN) {
        if (str_ieq(text, "true") || strcmp(text, "1") == 0 || str_ieq(text, "t"))
            return json_true();
        if (str_ieq(text, "false") || strcmp(text, "0") == 0 || str_ieq(text, "f"))
            return json_false();
    }
    if (type_is_integer(k)) {
        char *end;
        long long v = strtoll(text, &end, 10);
        if (!*end && end != text)
            return json_integer(v);
    }
    if (k == TY_DECIMAL || k == TY_REAL || k == TY_DOUBLE) {
        char *end;
        double d = strtod(text, &end);
        if (!*end && end != text) {
            if (strchr(text, '.') || strchr(text, 'e') || strchr(text, 'E'))
                return json_real(d);
            return json_integer(strtoll(text, NULL, 10));
        }
    }
    if (!quoted && (type_is_integer(k) || k == TY_DECIMAL || k == TY_REAL || k == TY_DOUBLE))
        return NULL;
    return json_string(text);
}

static void set_literal(column *c, json_t *lit)
{
    col_default_free(&c->def);
    c->def.kind = DEF_LITERAL;
    c->def.literal = lit;
}

static void set_sql_default(column *c, strata_dialect d, const char *text)
{
    col_default_free(&c->def);
    c->def.kind = DEF_SQL;
    c->def.sql[d] = xstrdup(text);
}

static int is_now_expr(const char *e)
{
    char *n = sql_normalize(e);
    int r = strcmp(n, "now") == 0 || strncmp(n, "current_timestamp", 17) == 0 ||
            strcmp(n, "transaction_timestamp") == 0 || strncmp(n, "localtimestamp", 14) == 0 ||
            strcmp(n, "current_date") == 0 || strncmp(n, "current_time", 12) == 0 ||
            strncmp(n, "localtime", 9) == 0 || strcmp(n, "curdate") == 0 ||
            strncmp(n, "utc_timestamp", 13) == 0 || strncmp(n, "curtime", 7) == 0 ||
            (str_starts(n, "strftime") && strstr(n, "'now'")) || strcmp(n, "date'now'") == 0 ||
            strcmp(n, "datetime'now'") == 0;
    free(n);
    return r;
}

static int is_uuid_expr(const char *e)
{
    return strstr(e, "gen_random_uuid") || strstr(e, "uuid_generate_v4") || strstr(e, "uuid()") ||
           (strstr(e, "randomblob") && strstr(e, "'-4'"));
}

/* ---- PostgreSQL ---- */

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
        warn(warnings, "%s.%s: numeric without precision read as decimal(38,10)", table, c->name);
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
        warn(warnings, "%s.%s: varchar without a length read as string(255)", table, c->name);
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
        warn(warnings, "%s.%s: type %s has no neutral form; read as text", table, c->name, fmt);
    }
    return 0;
}

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
    if (is_now_expr(expr)) {
        c->def.kind = DEF_NOW;
        return;
    }
    if (is_uuid_expr(expr)) {
        c->def.kind = DEF_UUID;
        return;
    }
    if (str_ieq(expr, "NULL") || str_starts(expr, "NULL::")) {
        set_literal(c, json_null());
        return;
    }
    char *lit = sql_unquote_literal(expr, 0);
    if (lit) {
        json_t *j = literal_for(c->type.kind, lit, 1);
        free(lit);
        if (j) {
            set_literal(c, j);
            return;
        }
    }
    /* bare numbers and booleans, possibly parenthesised: (-1), 0, true */
    char *n = sql_normalize(expr);
    json_t *j = literal_for(c->type.kind, n, 0);
    free(n);
    if (j && !json_is_string(j)) {
        set_literal(c, j);
        return;
    }
    if (j)
        json_decref(j);
    set_sql_default(c, STRATA_POSTGRES, expr);
}

static int pg_read(strata_conn *conn, schema *s, strvec *warnings, strvec *raw)
{
    strata_rows *rows;
    int rc;
    /* enums */
    rc = strata_conn_query(conn,
                           "SELECT t.typname, string_agg(e.enumlabel, chr(31) ORDER BY "
                           "e.enumsortorder) FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid "
                           "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = "
                           "current_schema() GROUP BY t.typname ORDER BY t.typname",
                           NULL, 0, &rows);
    if (rc)
        return rc;
    while ((rc = strata_rows_next(rows)) == 1) {
        s->enums = xgrow(s->enums, &s->cap_enums, s->nenums + 1, sizeof *s->enums);
        enum_def *e = &s->enums[s->nenums++];
        memset(e, 0, sizeof *e);
        e->name = xstrdup(strata_rows_text(rows, 0));
        split(strata_rows_text(rows, 1), &e->values);
    }
    strata_rows_free(rows);
    if (rc < 0)
        return rc;
    /* columns of every table */
    rc = strata_conn_query(
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
    if (rc < 0)
        return rc;
    /* constraints */
    rc = strata_conn_query(
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
        if (!t)
            continue;
        const char *name = strata_rows_text(rows, 1), *type = strata_rows_text(rows, 2);
        strvec cols = STRVEC_INIT, refcols = STRVEC_INIT;
        split(strata_rows_text(rows, 7), &cols);
        split(strata_rows_text(rows, 8), &refcols);
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
            fk.on_delete = parse_action_word(strata_rows_text(rows, 4));
            fk.on_update = parse_action_word(strata_rows_text(rows, 5));
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
    strata_rows_free(rows);
    if (rc < 0)
        return rc;
    /* indexes that are not constraints */
    rc = strata_conn_query(
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
        if (!t)
            continue;
        const char *name = strata_rows_text(rows, 1), *method = strata_rows_text(rows, 3);
        const char *def = strata_rows_text(rows, 5);
        int has_expr = strata_rows_value(rows, 8)->i;
        /* opclasses (gin_trgm_ops ...) and expressions have no neutral form */
        if (has_expr || strstr(def, "_ops")) {
            strvec_push(raw, def);
            warn(warnings, "index %s on %s has no neutral form; kept as PostgreSQL SQL", name,
                 t->name);
            continue;
        }
        index_def ix;
        memset(&ix, 0, sizeof ix);
        ix.name = xstrdup(name);
        ix.unique = (int)strata_rows_value(rows, 2)->i;
        strvec cols = STRVEC_INIT, opts = STRVEC_INIT;
        split(strata_rows_text(rows, 6), &cols);
        const char *optxt = strata_rows_text(rows, 7);
        ix.ncols = cols.n;
        ix.cols = xcalloc(cols.n + 1, sizeof(index_col));
        for (size_t i = 0; i < cols.n; i++) {
            ix.cols[i].name = xstrdup(cols.v[i]);
            /* indoption: space-separated ints, bit 0 = DESC */
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
            ix.cols[i].desc = (int)(o & 1);
        }
        strvec_free(&cols);
        strvec_free(&opts);
        if (strata_rows_text(rows, 4))
            ix.where = json_string(strata_rows_text(rows, 4));
        if (method && strcmp(method, "btree") != 0)
            ix.method[STRATA_POSTGRES] = xstrdup(method);
        table_add_index(t, &ix);
        index_free(&ix);
    }
    strata_rows_free(rows);
    if (rc < 0)
        return rc;
    /* views and triggers have no neutral form */
    rc = strata_conn_query(
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
        warn(warnings, "%s has no neutral form; kept as PostgreSQL SQL", strata_rows_text(rows, 1));
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

/* ---- MySQL / MariaDB ---- */

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
        /* enum('a','b''c') */
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
            strvec_push_owned(&c->type.values, sbuf_detach(&v));
            if (*p == '\'')
                p++;
        }
    } else {
        c->type.kind = TY_TEXT;
        warn(warnings, "%s.%s: type %s has no neutral form; read as text", table, c->name,
             column_type);
    }
}

static void my_default(column *c, const char *def, const char *extra, int mariadb)
{
    if (!def)
        return;
    if (str_ieq(def, "NULL")) {
        if (mariadb)
            set_literal(c, json_null());
        else
            set_literal(c, json_string("NULL"));
        return;
    }
    int expr = extra && strstr(extra, "DEFAULT_GENERATED");
    if (is_now_expr(def)) {
        c->def.kind = DEF_NOW;
        return;
    }
    if (is_uuid_expr(def)) {
        c->def.kind = DEF_UUID;
        return;
    }
    char *lit = sql_unquote_literal(def, 1);
    if (lit) {
        json_t *j = literal_for(c->type.kind, lit, 1);
        free(lit);
        set_literal(c, j ? j : json_null());
        return;
    }
    if (!mariadb && !expr) {
        /* MySQL 8 shows literals unquoted */
        json_t *j = literal_for(c->type.kind, def, 1);
        set_literal(c, j);
        return;
    }
    json_t *j = literal_for(c->type.kind, def, 0);
    if (j) {
        set_literal(c, j);
        return;
    }
    set_sql_default(c, STRATA_MYSQL, def);
}

typedef struct helper_col {
    char *name;    /* helper column */
    char *index;   /* the partial unique index it serves */
    char *source;  /* the column it copies */
    json_t *where; /* the predicate */
} helper_col;

static int my_read(strata_conn *conn, schema *s, strvec *warnings, strvec *raw)
{
    int mariadb = strata_conn_is_mariadb(conn);
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
    helper_col *helpers = NULL;
    size_t nhelpers = 0, cap_helpers = 0;
    while ((rc = strata_rows_next(rows)) == 1) {
        const char *tname = strata_rows_text(rows, 0), *cname = strata_rows_text(rows, 1);
        const char *comment = strata_rows_text(rows, 11);
        table *t = intro_table(s, tname);
        if (comment && str_starts(comment, "strata:partial-unique ")) {
            /* "strata:partial-unique <index> <where json>" on a generated
             * column "IF(<pred>, `col`, NULL)" */
            const char *p = comment + strlen("strata:partial-unique ");
            const char *sp = strchr(p, ' ');
            const char *gen = strata_rows_text(rows, 12);
            if (sp && gen) {
                helpers = xgrow(helpers, &cap_helpers, nhelpers + 1, sizeof *helpers);
                helper_col *h = &helpers[nhelpers++];
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
                h->source =
                    prev_comma && last_comma
                        ? sql_unquote_ident(prev_comma + 1, (size_t)(last_comma - prev_comma - 1))
                        : xstrdup("?");
                continue;
            }
        }
        column c;
        memset(&c, 0, sizeof c);
        c.name = xstrdup(cname);
        const strata_value *v = strata_rows_value(rows, 7);
        long long len = v->type == STRATA_VNULL ? 0 : strtoll(v->s, NULL, 10);
        v = strata_rows_value(rows, 8);
        long long prec = v->type == STRATA_VNULL ? 0 : strtoll(v->s, NULL, 10);
        v = strata_rows_value(rows, 9);
        long long scale = v->type == STRATA_VNULL ? 0 : strtoll(v->s, NULL, 10);
        v = strata_rows_value(rows, 10);
        long long dtprec = v->type == STRATA_VNULL ? 0 : strtoll(v->s, NULL, 10);
        my_type_of(&c, strata_rows_text(rows, 2), strata_rows_text(rows, 3), len, prec, scale,
                   dtprec, tname, warnings);
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
        if (comment && *comment)
            c.comment = xstrdup(comment);
        table_add_column(t, &c);
        column_free(&c);
    }
    strata_rows_free(rows);
    if (rc < 0)
        goto out;
    /* indexes */
    rc = strata_conn_query(
        conn,
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, COLLATION, INDEX_TYPE, "
        "SUB_PART FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND "
        "TABLE_NAME NOT LIKE 'strata\\_%' ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        NULL, 0, &rows);
    if (rc)
        goto out;
    while ((rc = strata_rows_next(rows)) == 1) {
        table *t = schema_table_mut(s, strata_rows_text(rows, 0));
        if (!t)
            continue;
        const char *iname = strata_rows_text(rows, 1);
        const char *col = strata_rows_text(rows, 3);
        if (strcmp(iname, "PRIMARY") == 0) {
            strvec_push(&t->pk, col);
            if (!t->pk_name)
                t->pk_name = name_generate(t->name, NULL, 0, "pkey");
            continue;
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
        for (size_t h = 0; h < nhelpers; h++)
            if (strcmp(helpers[h].name, col) == 0 && strcmp(helpers[h].index, iname) == 0) {
                source = helpers[h].source;
                if (!ix->where && helpers[h].where)
                    ix->where = json_incref(helpers[h].where);
            }
        ix->cols[ix->ncols].name = xstrdup(source);
        const char *coll = strata_rows_text(rows, 4);
        ix->cols[ix->ncols].desc = coll && strcmp(coll, "D") == 0;
        ix->ncols++;
    }
    strata_rows_free(rows);
    if (rc < 0)
        goto out;
    /* foreign keys */
    rc = strata_conn_query(
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
        goto out;
    while ((rc = strata_rows_next(rows)) == 1) {
        table *t = schema_table_mut(s, strata_rows_text(rows, 0));
        if (!t)
            continue;
        const char *fname = strata_rows_text(rows, 1);
        fk_def *fk = table_fk_mut(t, fname);
        if (!fk) {
            fk_def n;
            memset(&n, 0, sizeof n);
            n.name = xstrdup(fname);
            n.ref_table = xstrdup(strata_rows_text(rows, 3));
            n.on_update = parse_action_word(strata_rows_text(rows, 5));
            n.on_delete = parse_action_word(strata_rows_text(rows, 6));
            table_add_fk(t, &n);
            fk_free(&n);
            fk = &t->fks[t->nfks - 1];
        }
        strvec_push(&fk->cols, strata_rows_text(rows, 2));
        strvec_push(&fk->ref_cols, strata_rows_text(rows, 4));
    }
    strata_rows_free(rows);
    if (rc < 0)
        goto out;
    /* checks */
    rc = strata_conn_query(
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
        goto out;
    while ((rc = strata_rows_next(rows)) == 1) {
        table *t = schema_table_mut(s, strata_rows_text(rows, 0));
        if (!t)
            continue;
        const char *name = strata_rows_text(rows, 1), *clause = strata_rows_text(rows, 2);
        const char *level = strata_rows_text(rows, 3);
        /* MariaDB's JSON columns: longtext with a column-level json_valid check */
        char *n = sql_normalize(clause);
        column *c = table_column_mut(t, name);
        if (level && strcmp(level, "Column") == 0 && c && str_starts(n, "json_valid")) {
            if (c->type.kind == TY_TEXT)
                c->type.kind = TY_JSON;
            if (c->def.kind == DEF_LITERAL && json_is_string(c->def.literal)) {
                json_t *j = json_loads(json_string_value(c->def.literal), JSON_DECODE_ANY, NULL);
                if (j)
                    set_literal(c, j);
            }
            free(n);
            continue;
        }
        free(n);
        check_def ck;
        ck.name = xstrdup(name);
        ck.check = json_string(clause);
        table_add_check(t, &ck);
        check_free(&ck);
    }
    strata_rows_free(rows);
    if (rc < 0)
        goto out;
    /* InnoDB's own index for a foreign key, and the KEY of a non-key serial */
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
    /* views and triggers */
    rc = strata_conn_query(conn,
                           "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS "
                           "WHERE TABLE_SCHEMA = DATABASE()",
                           NULL, 0, &rows);
    if (rc)
        goto out;
    while ((rc = strata_rows_next(rows)) == 1) {
        char *q = strata_quote_ident(STRATA_MYSQL, strata_rows_text(rows, 0));
        strvec_pushf(raw, "CREATE VIEW %s AS %s", q, strata_rows_text(rows, 1));
        free(q);
        warn(warnings, "view %s has no neutral form; kept as MySQL SQL", strata_rows_text(rows, 0));
    }
    strata_rows_free(rows);
    rc = rc < 0 ? rc : 0;
out:
    for (size_t h = 0; h < nhelpers; h++) {
        free(helpers[h].name);
        free(helpers[h].index);
        free(helpers[h].source);
        if (helpers[h].where)
            json_decref(helpers[h].where);
    }
    free(helpers);
    return rc;
}

/* ---- SQLite ---- */

static int sl_declared_type(column *c, const char *decl, const char *table, strvec *warnings)
{
    char lower[128];
    size_t n = strlen(decl);
    if (n >= sizeof lower)
        n = sizeof lower - 1;
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)tolower((unsigned char)decl[i]);
    lower[n] = '\0';
    int a = 0, b = 0;
    for (int k = 0; k < TY__COUNT; k++)
        if (k != TY_ENUM && k != TY_BINARY && k != TY_STRING && k != TY_DECIMAL &&
            strcmp(lower, type_names[k]) == 0) {
            c->type.kind = (type_kind)k;
            if (type_is_time((type_kind)k))
                c->type.precision = 6;
            return 0;
        }
    if (sscanf(lower, "varchar(%d)", &a) == 1 || sscanf(lower, "character varying(%d)", &a) == 1 ||
        sscanf(lower, "char(%d)", &a) == 1) {
        c->type.kind = TY_STRING;
        c->type.length = a;
    } else if (sscanf(lower, "numeric(%d,%d)", &a, &b) == 2 ||
               sscanf(lower, "decimal(%d,%d)", &a, &b) == 2) {
        c->type.kind = TY_DECIMAL;
        c->type.precision = a;
        c->type.scale = b;
    } else if (sscanf(lower, "numeric(%d)", &a) == 1 || sscanf(lower, "decimal(%d)", &a) == 1) {
        c->type.kind = TY_DECIMAL;
        c->type.precision = a;
    } else if (sscanf(lower, "timestamptz(%d)", &a) == 1) {
        c->type.kind = TY_TIMESTAMPTZ;
        c->type.precision = a;
    } else if (sscanf(lower, "timestamp(%d)", &a) == 1) {
        c->type.kind = TY_TIMESTAMP;
        c->type.precision = a;
    } else if (sscanf(lower, "time(%d)", &a) == 1) {
        c->type.kind = TY_TIME;
        c->type.precision = a;
    } else if (!strcmp(lower, "blob") || !strcmp(lower, "bytea")) {
        c->type.kind = TY_BINARY;
    } else if (!strcmp(lower, "int") || !strcmp(lower, "int4")) {
        c->type.kind = TY_INTEGER;
    } else if (!strcmp(lower, "bool")) {
        c->type.kind = TY_BOOLEAN;
    } else if (!strcmp(lower, "datetime")) {
        c->type.kind = TY_TIMESTAMP;
        c->type.precision = 6;
    } else if (!strcmp(lower, "varchar") || !strcmp(lower, "string")) {
        c->type.kind = TY_STRING;
        c->type.length = 255;
    } else if (!strcmp(lower, "float") || !strcmp(lower, "double precision")) {
        c->type.kind = TY_DOUBLE;
    } else {
        /* SQLite's affinity rules */
        if (strstr(lower, "int"))
            c->type.kind = TY_BIGINT;
        else if (strstr(lower, "char") || strstr(lower, "clob") || strstr(lower, "text") || !*lower)
            c->type.kind = TY_TEXT;
        else if (strstr(lower, "real") || strstr(lower, "floa") || strstr(lower, "doub"))
            c->type.kind = TY_DOUBLE;
        else
            c->type.kind = TY_TEXT;
        warn(warnings, "%s.%s: declared type '%s' has no neutral form; read as %s", table, c->name,
             decl, type_names[c->type.kind]);
    }
    return 0;
}

static void sl_default(column *c, const char *def)
{
    if (!def)
        return;
    if (str_ieq(def, "NULL")) {
        set_literal(c, json_null());
        return;
    }
    if (is_now_expr(def)) {
        c->def.kind = DEF_NOW;
        return;
    }
    if (is_uuid_expr(def)) {
        c->def.kind = DEF_UUID;
        return;
    }
    char *lit = sql_unquote_literal(def, 0);
    if (lit) {
        json_t *j = literal_for(c->type.kind, lit, 1);
        free(lit);
        set_literal(c, j);
        return;
    }
    json_t *j = literal_for(c->type.kind, def, 0);
    if (j) {
        set_literal(c, j);
        return;
    }
    set_sql_default(c, STRATA_SQLITE, def);
}

typedef struct sl_parse {
    table *t;
    strvec fk_names;         /* name per parsed FK clause */
    strvec fk_sigs;          /* "cols->table" signature per parsed FK clause */
    const char *item_column; /* the column an item defines (NULL for table constraints) */
    strvec *warnings;
} sl_parse;

/* Columns listed in "(a, b)" text. */
static void paren_names(const char *text, strvec *out)
{
    char *body = sql_paren_body(text);
    if (!body)
        return;
    strvec items = STRVEC_INIT;
    char *wrapped = xasprintf("(%s)", body);
    sql_table_items(wrapped, &items);
    for (size_t i = 0; i < items.n; i++) {
        /* drop ASC/DESC/COLLATE suffixes */
        const char *it = items.v[i];
        size_t n = strlen(it);
        if (it[0] == '"' || it[0] == '`' || it[0] == '[') {
            char close = it[0] == '[' ? ']' : it[0];
            const char *e = strchr(it + 1, close);
            while (e && e[1] == close)
                e = strchr(e + 2, close);
            n = e ? (size_t)(e - it + 1) : n;
        } else {
            n = strcspn(it, " \t\n");
        }
        strvec_push_owned(out, sql_unquote_ident(it, n));
    }
    strvec_free(&items);
    free(wrapped);
    free(body);
}

static void sl_constraint(void *ctx, const char *name, const char *kind, const char *text,
                          size_t len)
{
    sl_parse *ps = ctx;
    table *t = ps->t;
    char *body = xstrndup(text, len);
    if (strcmp(kind, "CHECK") == 0) {
        char *expr = sql_paren_body(body);
        char *n = expr ? sql_normalize(expr) : NULL;
        if (n && str_starts(n, "json_valid")) {
            /* the json column's check: nothing to keep */
        } else if (expr && str_ends(name, "_enum") && strstr(n, "in'")) {
            /* "<col>" IN ('a', 'b'): an enum */
            const char *in = strstr(expr, " IN ");
            if (!in)
                in = strstr(expr, " in ");
            char *cname = in ? sql_unquote_ident(expr, (size_t)(in - expr)) : NULL;
            column *c = cname ? table_column_mut(t, cname) : NULL;
            if (c) {
                c->type.kind = TY_ENUM;
                strvec_free(&c->type.values);
                char *vals = sql_paren_body(in);
                strvec items = STRVEC_INIT;
                char *wrapped = xasprintf("(%s)", vals ? vals : "");
                sql_table_items(wrapped, &items);
                for (size_t i = 0; i < items.n; i++) {
                    char *v = sql_unquote_literal(items.v[i], 0);
                    if (v)
                        strvec_push_owned(&c->type.values, v);
                }
                strvec_free(&items);
                free(wrapped);
                free(vals);
            }
            free(cname);
        } else if (expr) {
            check_def ck;
            ck.name = xstrdup(name);
            ck.check = json_string(expr);
            table_add_check(t, &ck);
            check_free(&ck);
        }
        free(n);
        free(expr);
    } else if (strcmp(kind, "FOREIGN") == 0 || strcmp(kind, "REFERENCES") == 0) {
        strvec cols = STRVEC_INIT;
        const char *refs = body;
        if (strcmp(kind, "FOREIGN") == 0) {
            paren_names(body, &cols);
            const char *r = strstr(body, "REFERENCES");
            if (!r)
                r = strstr(body, "references");
            refs = r ? r : body + strlen(body);
        } else if (ps->item_column) {
            strvec_push(&cols, ps->item_column);
        }
        /* REFERENCES "table" */
        const char *p =
            refs + (str_starts(refs, "REFERENCES") || str_starts(refs, "references") ? 10 : 0);
        while (isspace((unsigned char)*p))
            p++;
        const char *e = p;
        if (*e == '"' || *e == '`' || *e == '[') {
            char close = *e == '[' ? ']' : *e;
            e = strchr(e + 1, close);
            e = e ? e + 1 : p + strlen(p);
        } else {
            while (*e && !isspace((unsigned char)*e) && *e != '(')
                e++;
        }
        char *ref = sql_unquote_ident(p, (size_t)(e - p));
        sbuf sig = SBUF_INIT;
        for (size_t i = 0; i < cols.n; i++)
            sbuf_addf(&sig, "%s,", cols.v[i]);
        sbuf_addf(&sig, "->%s", ref);
        strvec_push(&ps->fk_names, name);
        strvec_push_owned(&ps->fk_sigs, sbuf_detach(&sig));
        free(ref);
        strvec_free(&cols);
    } else if (strcmp(kind, "PRIMARY") == 0) {
        free(t->pk_name);
        t->pk_name = xstrdup(name);
    }
    free(body);
}

static int sl_read(strata_conn *conn, schema *s, strvec *warnings, strvec *raw)
{
    strata_rows *rows;
    int rc = strata_conn_query(conn,
                               "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name "
                               "NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'strata\\_%' "
                               "ESCAPE '\\' ORDER BY rowid",
                               NULL, 0, &rows);
    if (rc)
        return rc;
    strvec names = STRVEC_INIT, sqls = STRVEC_INIT;
    while ((rc = strata_rows_next(rows)) == 1) {
        strvec_push(&names, strata_rows_text(rows, 0));
        strvec_push(&sqls, strata_rows_text(rows, 1) ? strata_rows_text(rows, 1) : "");
    }
    strata_rows_free(rows);
    if (rc < 0)
        goto out;
    rc = 0;
    for (size_t ti = 0; ti < names.n && !rc; ti++) {
        table *t = intro_table(s, names.v[ti]);
        const char *create = sqls.v[ti];
        int autoinc = strstr(create, "AUTOINCREMENT") || strstr(create, "autoincrement");
        strata_value tn = strata_vtext(t->name);
        rc = strata_conn_query(conn,
                               "SELECT name, type, \"notnull\", dflt_value, pk FROM "
                               "pragma_table_info(?) ORDER BY cid",
                               &tn, 1, &rows);
        if (rc)
            break;
        int npk = 0;
        strvec pkcols = STRVEC_INIT;
        long long pkpos[64];
        while ((rc = strata_rows_next(rows)) == 1) {
            column c;
            memset(&c, 0, sizeof c);
            c.name = xstrdup(strata_rows_text(rows, 0));
            sl_declared_type(&c, strata_rows_text(rows, 1) ? strata_rows_text(rows, 1) : "",
                             t->name, warnings);
            c.nullable = !strata_rows_value(rows, 2)->i;
            sl_default(&c, strata_rows_text(rows, 3));
            long long pk = strata_rows_value(rows, 4)->i;
            if (pk > 0 && npk < 64) {
                strvec_push(&pkcols, c.name);
                pkpos[npk++] = pk;
                c.nullable = 0;
            }
            table_add_column(t, &c);
            column_free(&c);
        }
        strata_rows_free(rows);
        if (rc < 0)
            break;
        rc = 0;
        /* primary key in key order */
        for (int k = 1; k <= npk; k++)
            for (int i = 0; i < npk; i++)
                if (pkpos[i] == k)
                    strvec_push(&t->pk, pkcols.v[i]);
        strvec_free(&pkcols);
        if (t->pk.n == 1 && autoinc) {
            column *c = table_column_mut(t, t->pk.v[0]);
            if (c && c->type.kind == TY_INTEGER)
                c->type.kind = TY_SERIAL;
        }
        /* constraints from the CREATE TABLE text */
        sl_parse ps;
        memset(&ps, 0, sizeof ps);
        ps.t = t;
        ps.warnings = warnings;
        strvec items = STRVEC_INIT;
        sql_table_items(create, &items);
        for (size_t i = 0; i < items.n; i++) {
            const char *it = items.v[i];
            char *first = NULL;
            /* a column definition starts with its name */
            const char *p = it;
            size_t n;
            if (*p == '"' || *p == '`' || *p == '[') {
                char close = *p == '[' ? ']' : *p;
                const char *e = strchr(p + 1, close);
                while (e && e[1] == close)
                    e = strchr(e + 2, close);
                n = e ? (size_t)(e - p + 1) : strlen(p);
            } else {
                n = strcspn(p, " \t\n");
            }
            first = sql_unquote_ident(p, n);
            ps.item_column = table_column(t, first) ? first : NULL;
            sql_item_constraints(it, sl_constraint, &ps);
            free(first);
        }
        strvec_free(&items);
        if (t->pk.n && !t->pk_name)
            t->pk_name = name_generate(t->name, NULL, 0, "pkey");
        /* foreign keys */
        rc = strata_conn_query(conn,
                               "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete "
                               "FROM pragma_foreign_key_list(?) ORDER BY id, seq",
                               &tn, 1, &rows);
        if (rc) {
            strvec_free(&ps.fk_names);
            strvec_free(&ps.fk_sigs);
            break;
        }
        long long cur = -1;
        while ((rc = strata_rows_next(rows)) == 1) {
            long long id = strata_rows_value(rows, 0)->i;
            if (id != cur) {
                fk_def n;
                memset(&n, 0, sizeof n);
                n.ref_table = xstrdup(strata_rows_text(rows, 2));
                n.on_update = parse_action_word(strata_rows_text(rows, 5));
                n.on_delete = parse_action_word(strata_rows_text(rows, 6));
                n.name = xstrdup("");
                table_add_fk(t, &n);
                fk_free(&n);
                cur = id;
            }
            fk_def *fk = &t->fks[t->nfks - 1];
            strvec_push(&fk->cols, strata_rows_text(rows, 3));
            if (strata_rows_text(rows, 4))
                strvec_push(&fk->ref_cols, strata_rows_text(rows, 4));
        }
        strata_rows_free(rows);
        rc = rc < 0 ? rc : 0;
        for (size_t k = 0; k < t->nfks; k++) {
            fk_def *fk = &t->fks[k];
            sbuf sig = SBUF_INIT;
            for (size_t i = 0; i < fk->cols.n; i++)
                sbuf_addf(&sig, "%s,", fk->cols.v[i]);
            sbuf_addf(&sig, "->%s", fk->ref_table);
            int at = strvec_find(&ps.fk_sigs, sbuf_str(&sig));
            free(fk->name);
            fk->name = at >= 0 ? xstrdup(ps.fk_names.v[at])
                               : name_generate(t->name, (const char *const *)fk->cols.v, fk->cols.n,
                                               "foreign");
            sbuf_free(&sig);
        }
        strvec_free(&ps.fk_names);
        strvec_free(&ps.fk_sigs);
    }
    if (rc)
        goto out;
    /* referenced columns left empty mean the parent's primary key */
    for (size_t i = 0; i < s->ntables; i++)
        for (size_t k = 0; k < s->tables[i].nfks; k++) {
            fk_def *fk = &s->tables[i].fks[k];
            const table *ref = schema_table(s, fk->ref_table);
            if (fk->ref_cols.n == 0 && ref)
                for (size_t j = 0; j < ref->pk.n; j++)
                    strvec_push(&fk->ref_cols, ref->pk.v[j]);
        }
    /* indexes, triggers, views */
    rc = strata_conn_query(conn,
                           "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE type IN "
                           "('index', 'trigger', 'view') AND sql IS NOT NULL AND tbl_name NOT "
                           "LIKE 'strata\\_%' ESCAPE '\\' ORDER BY rowid",
                           NULL, 0, &rows);
    if (rc)
        goto out;
    while ((rc = strata_rows_next(rows)) == 1) {
        const char *type = strata_rows_text(rows, 0), *name = strata_rows_text(rows, 1);
        const char *tbl = strata_rows_text(rows, 2), *sql = strata_rows_text(rows, 3);
        table *t = schema_table_mut(s, tbl);
        if (strcmp(type, "trigger") == 0) {
            /* Strata's non-key serial trigger */
            if (t && str_ends(name, "_serial") && strstr(sql, "strata_sequences")) {
                for (size_t k = 0; k < t->ncols; k++)
                    if (type_is_serial(t->cols[k].type.kind)) {
                        t->cols[k].nullable = 0;
                        t->cols[k].type.kind = TY_SERIAL;
                    }
                continue;
            }
            strvec_push(raw, sql);
            warn(warnings, "trigger %s has no neutral form; kept as SQLite SQL", name);
            continue;
        }
        if (strcmp(type, "view") == 0 || !t) {
            strvec_push(raw, sql);
            warn(warnings, "%s %s has no neutral form; kept as SQLite SQL", type, name);
            continue;
        }
        const char *on = strstr(sql, " ON ");
        if (!on)
            on = strstr(sql, " on ");
        char *cols = on ? sql_paren_body(on) : NULL;
        if (!cols || strchr(cols, '(')) {
            /* expression index */
            strvec_push(raw, sql);
            warn(warnings, "index %s has no neutral form; kept as SQLite SQL", name);
            free(cols);
            continue;
        }
        index_def ix;
        memset(&ix, 0, sizeof ix);
        ix.name = xstrdup(name);
        ix.unique = str_starts(sql, "CREATE UNIQUE") || str_starts(sql, "create unique");
        strvec items = STRVEC_INIT;
        char *wrapped = xasprintf("(%s)", cols);
        sql_table_items(wrapped, &items);
        free(wrapped);
        ix.ncols = items.n;
        ix.cols = xcalloc(items.n + 1, sizeof(index_col));
        for (size_t i = 0; i < items.n; i++) {
            const char *it = items.v[i];
            size_t n = strlen(it);
            int desc = str_ends(it, " DESC") || str_ends(it, " desc");
            if (desc)
                n -= 5;
            else if (str_ends(it, " ASC") || str_ends(it, " asc"))
                n -= 4;
            ix.cols[i].name = sql_unquote_ident(it, n);
            ix.cols[i].desc = desc;
        }
        strvec_free(&items);
        /* WHERE after the column list */
        const char *close = on + strlen(on);
        const char *w = strstr(on, ") WHERE ");
        if (!w)
            w = strstr(on, ") where ");
        if (w && w < close)
            ix.where = json_string(w + 8);
        table_add_index(t, &ix);
        index_free(&ix);
        free(cols);
    }
    strata_rows_free(rows);
    rc = rc < 0 ? rc : 0;
out:
    strvec_free(&names);
    strvec_free(&sqls);
    return rc;
}

int introspect_schema(strata_conn *conn, schema *out, strvec *warnings, strvec *raw)
{
    schema_init(out);
    strvec scratch = STRVEC_INIT;
    if (!raw)
        raw = &scratch;
    int rc = 0;
    switch (strata_conn_dialect(conn)) {
    case STRATA_POSTGRES:
        rc = pg_read(conn, out, warnings, raw);
        if (!rc)
            pg_fold_inline_enums(out);
        break;
    case STRATA_MYSQL:
        rc = my_read(conn, out, warnings, raw);
        break;
    case STRATA_SQLITE:
        rc = sl_read(conn, out, warnings, raw);
        break;
    }
    strvec_free(&scratch);
    if (rc) {
        strata_error_prefix("reading the schema of %s: ", strata_conn_url_masked(conn));
        schema_free(out);
    }
    return rc;
}
