/*
 * introspect_sqlite.c - reading a SQLite schema from sqlite_schema, its
 * pragmas and the CREATE TABLE text.
 *
 * Declared types are the neutral names; constraint names, CHECKs and
 * foreign-key names are read from the CREATE TABLE text;
 * `<table>_<column>_enum` CHECKs make enums, json_valid CHECKs mark JSON,
 * Strata's serial triggers mark non-key serials. Other triggers, views and
 * expression indexes have no neutral form and go to `raw`.
 */
#include "introspect_read.h"
#include "names.h"
#include "sqltext.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- types and defaults ---- */

/* The neutral type of a column from its declared type: Strata declares the
 * neutral names, other tools' common spellings map too, and anything else
 * follows SQLite's affinity rules, with a warning naming `table`. */
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
        intro_warn(warnings, "%s.%s: declared type '%s' has no neutral form; read as %s", table,
                   c->name, decl, type_names[c->type.kind]);
    }
    return 0;
}

/* A column's default from pragma_table_info's dflt_value, its type already
 * set: NULL, the time and UUID expressions, literals, else SQLite SQL. */
static void sl_default(column *c, const char *def)
{
    if (!def)
        return;
    if (str_ieq(def, "NULL")) {
        intro_set_literal(c, json_null());
        return;
    }
    if (intro_is_now_expr(def)) {
        c->def.kind = DEF_NOW;
        return;
    }
    if (intro_is_uuid_expr(def)) {
        c->def.kind = DEF_UUID;
        return;
    }
    char *lit = sql_unquote_literal(def, 0);
    if (lit) {
        json_t *j = intro_literal(c->type.kind, lit, 1);
        free(lit);
        intro_set_literal(c, j);
        return;
    }
    json_t *j = intro_literal(c->type.kind, def, 0);
    if (j) {
        intro_set_literal(c, j);
        return;
    }
    intro_set_sql_default(c, STRATA_SQLITE, def);
}

/* ---- the CREATE TABLE text ---- */

/* What reading a CREATE TABLE text collects beyond the model: the name of
 * each foreign-key clause, by signature, for pragma_foreign_key_list's
 * unnamed keys. */
typedef struct sl_parse {
    table *t;
    strvec fk_names;         /* name per parsed FK clause */
    strvec fk_sigs;          /* "cols->table" signature per parsed FK clause */
    const char *item_column; /* the column an item defines (NULL for table constraints) */
} sl_parse;

/* The length of the identifier `it` starts with, quoted ("", ``, []) or
 * bare (up to white space). */
static size_t sl_ident_len(const char *it)
{
    if (it[0] == '"' || it[0] == '`' || it[0] == '[') {
        char close = it[0] == '[' ? ']' : it[0];
        const char *e = strchr(it + 1, close);
        while (e && e[1] == close)
            e = strchr(e + 2, close);
        return e ? (size_t)(e - it + 1) : strlen(it);
    }
    return strcspn(it, " \t\n");
}

/* A foreign key's signature, "a,b,->parent", to match a pragma's key with
 * its clause in the CREATE TABLE text (caller frees). */
static char *sl_fk_signature(const strvec *cols, const char *ref_table)
{
    sbuf sig = SBUF_INIT;
    for (size_t i = 0; i < cols->n; i++)
        sbuf_addf(&sig, "%s,", cols->v[i]);
    sbuf_addf(&sig, "->%s", ref_table);
    return sbuf_detach(&sig);
}

/* Columns listed in "(a, b)" text, without ASC/DESC/COLLATE suffixes. */
static void paren_names(const char *text, strvec *out)
{
    char *body = sql_paren_body(text);
    if (!body)
        return;
    strvec items = STRVEC_INIT;
    char *wrapped = xasprintf("(%s)", body);
    sql_table_items(wrapped, &items);
    for (size_t i = 0; i < items.n; i++)
        strvec_push_owned(out, sql_unquote_ident(items.v[i], sl_ident_len(items.v[i])));
    strvec_free(&items);
    free(wrapped);
    free(body);
}

/* An enum's CHECK, `"<col>" IN ('a', 'b')`: the column becomes an enum
 * with those values. */
static void sl_enum_check(table *t, const char *expr)
{
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
}

/* A CHECK clause `body`: a JSON column's check (nothing to keep), an enum's
 * check (<table>_<column>_enum), or a check of the table. */
static void sl_check_clause(table *t, const char *name, const char *body)
{
    char *expr = sql_paren_body(body);
    char *n = expr ? sql_normalize(expr) : NULL;
    if (n && str_starts(n, "json_valid")) {
        /* the json column's check: nothing to keep */
    } else if (expr && str_ends(name, "_enum") && strstr(n, "in'")) {
        sl_enum_check(t, expr);
    } else if (expr) {
        check_def ck;
        ck.name = xstrdup(name);
        ck.check = json_string(expr);
        table_add_check(t, &ck);
        check_free(&ck);
    }
    free(n);
    free(expr);
}

/* A foreign-key clause `body` (FOREIGN KEY (...) REFERENCES ..., or a
 * column's REFERENCES ...): its name, by signature, into ps. */
static void sl_fk_clause(sl_parse *ps, const char *name, const char *kind, const char *body)
{
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
    strvec_push(&ps->fk_names, name);
    strvec_push_owned(&ps->fk_sigs, sl_fk_signature(&cols, ref));
    free(ref);
    strvec_free(&cols);
}

/* sql_item_constraints' callback: one named constraint of the text. */
static void sl_constraint(void *ctx, const char *name, const char *kind, const char *text,
                          size_t len)
{
    sl_parse *ps = ctx;
    char *body = xstrndup(text, len);
    if (strcmp(kind, "CHECK") == 0) {
        sl_check_clause(ps->t, name, body);
    } else if (strcmp(kind, "FOREIGN") == 0 || strcmp(kind, "REFERENCES") == 0) {
        sl_fk_clause(ps, name, kind, body);
    } else if (strcmp(kind, "PRIMARY") == 0) {
        free(ps->t->pk_name);
        ps->t->pk_name = xstrdup(name);
    }
    free(body);
}

/* The constraints of the CREATE TABLE text, item by item; an item that
 * starts with a column's name defines that column. */
static void sl_read_create_text(const char *create, sl_parse *ps)
{
    strvec items = STRVEC_INIT;
    sql_table_items(create, &items);
    for (size_t i = 0; i < items.n; i++) {
        const char *it = items.v[i];
        char *first = sql_unquote_ident(it, sl_ident_len(it));
        ps->item_column = table_column(ps->t, first) ? first : NULL;
        sql_item_constraints(it, sl_constraint, ps);
        free(first);
    }
    strvec_free(&items);
}

/* ---- tables ---- */

/* The columns of `t` (pragma table_info) and its primary key, in key
 * order; with AUTOINCREMENT, a one-column integer key is serial. */
static int sl_read_columns(strata_conn *conn, table *t, int autoinc, strvec *warnings)
{
    strata_value tn = strata_vtext(t->name);
    strata_rows *rows;
    int rc = strata_conn_query(conn,
                               "SELECT name, type, \"notnull\", dflt_value, pk FROM "
                               "pragma_table_info(?) ORDER BY cid",
                               &tn, 1, &rows);
    if (rc)
        return rc;
    int npk = 0;
    strvec pkcols = STRVEC_INIT;
    long long pkpos[64];
    while ((rc = strata_rows_next(rows)) == 1) {
        column c;
        memset(&c, 0, sizeof c);
        c.name = xstrdup(strata_rows_text(rows, 0));
        sl_declared_type(&c, strata_rows_text(rows, 1) ? strata_rows_text(rows, 1) : "", t->name,
                         warnings);
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
    if (rc < 0) {
        strvec_free(&pkcols);
        return rc;
    }
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
    return 0;
}

/* The foreign keys of `t` (pragma foreign_key_list), each named after its
 * clause in the CREATE TABLE text, else <table>_<columns>_foreign. */
static int sl_read_fks(strata_conn *conn, table *t, const sl_parse *ps)
{
    strata_value tn = strata_vtext(t->name);
    strata_rows *rows;
    int rc = strata_conn_query(conn,
                               "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete "
                               "FROM pragma_foreign_key_list(?) ORDER BY id, seq",
                               &tn, 1, &rows);
    if (rc)
        return rc;
    long long cur = -1;
    while ((rc = strata_rows_next(rows)) == 1) {
        long long id = strata_rows_value(rows, 0)->i;
        if (id != cur) {
            fk_def n;
            memset(&n, 0, sizeof n);
            n.ref_table = xstrdup(strata_rows_text(rows, 2));
            n.on_update = intro_fk_action(strata_rows_text(rows, 5));
            n.on_delete = intro_fk_action(strata_rows_text(rows, 6));
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
        char *sig = sl_fk_signature(&fk->cols, fk->ref_table);
        int at = strvec_find(&ps->fk_sigs, sig);
        free(fk->name);
        fk->name = at >= 0 ? xstrdup(ps->fk_names.v[at])
                           : name_generate(t->name, (const char *const *)fk->cols.v, fk->cols.n,
                                           "foreign");
        free(sig);
    }
    return rc;
}

/* One table: columns, key, constraints and foreign keys. */
static int sl_read_table(strata_conn *conn, schema *s, const char *name, const char *create,
                         strvec *warnings)
{
    table *t = intro_table(s, name);
    int autoinc = strstr(create, "AUTOINCREMENT") || strstr(create, "autoincrement");
    int rc = sl_read_columns(conn, t, autoinc, warnings);
    if (rc)
        return rc;
    sl_parse ps;
    memset(&ps, 0, sizeof ps);
    ps.t = t;
    sl_read_create_text(create, &ps);
    if (t->pk.n && !t->pk_name)
        t->pk_name = name_generate(t->name, NULL, 0, "pkey");
    rc = sl_read_fks(conn, t, &ps);
    strvec_free(&ps.fk_names);
    strvec_free(&ps.fk_sigs);
    return rc;
}

/* The names and CREATE TABLE texts of the tables, in creation order. */
static int sl_read_table_list(strata_conn *conn, strvec *names, strvec *sqls)
{
    strata_rows *rows;
    int rc = strata_conn_query(conn,
                               "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name "
                               "NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'strata\\_%' "
                               "ESCAPE '\\' ORDER BY rowid",
                               NULL, 0, &rows);
    if (rc)
        return rc;
    while ((rc = strata_rows_next(rows)) == 1) {
        strvec_push(names, strata_rows_text(rows, 0));
        strvec_push(sqls, strata_rows_text(rows, 1) ? strata_rows_text(rows, 1) : "");
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

/* Referenced columns left empty (REFERENCES "t" alone) mean the parent's
 * primary key. */
static void sl_default_ref_cols(schema *s)
{
    for (size_t i = 0; i < s->ntables; i++)
        for (size_t k = 0; k < s->tables[i].nfks; k++) {
            fk_def *fk = &s->tables[i].fks[k];
            const table *ref = schema_table(s, fk->ref_table);
            if (fk->ref_cols.n == 0 && ref)
                for (size_t j = 0; j < ref->pk.n; j++)
                    strvec_push(&fk->ref_cols, ref->pk.v[j]);
        }
}

/* ---- indexes, triggers, views ---- */

/* An index of `t` from its CREATE INDEX text; an expression index has no
 * neutral form and goes to `raw`. */
static void sl_add_index(table *t, const char *name, const char *sql, strvec *warnings, strvec *raw)
{
    const char *on = strstr(sql, " ON ");
    if (!on)
        on = strstr(sql, " on ");
    char *cols = on ? sql_paren_body(on) : NULL;
    if (!cols || strchr(cols, '(')) {
        strvec_push(raw, sql);
        intro_warn(warnings, "index %s has no neutral form; kept as SQLite SQL", name);
        free(cols);
        return;
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

/* A trigger: Strata's own for a non-key serial marks the table's serial
 * columns; any other has no neutral form and goes to `raw`. */
static void sl_add_trigger(table *t, const char *name, const char *sql, strvec *warnings,
                           strvec *raw)
{
    if (t && str_ends(name, "_serial") && strstr(sql, "strata_sequences")) {
        for (size_t k = 0; k < t->ncols; k++)
            if (type_is_serial(t->cols[k].type.kind)) {
                t->cols[k].nullable = 0;
                t->cols[k].type.kind = TY_SERIAL;
            }
        return;
    }
    strvec_push(raw, sql);
    intro_warn(warnings, "trigger %s has no neutral form; kept as SQLite SQL", name);
}

static int sl_read_objects(strata_conn *conn, schema *s, strvec *warnings, strvec *raw)
{
    strata_rows *rows;
    int rc = strata_conn_query(conn,
                               "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE type IN "
                               "('index', 'trigger', 'view') AND sql IS NOT NULL AND tbl_name NOT "
                               "LIKE 'strata\\_%' ESCAPE '\\' ORDER BY rowid",
                               NULL, 0, &rows);
    if (rc)
        return rc;
    while ((rc = strata_rows_next(rows)) == 1) {
        const char *type = strata_rows_text(rows, 0), *name = strata_rows_text(rows, 1);
        const char *tbl = strata_rows_text(rows, 2), *sql = strata_rows_text(rows, 3);
        table *t = schema_table_mut(s, tbl);
        if (strcmp(type, "trigger") == 0) {
            sl_add_trigger(t, name, sql, warnings, raw);
        } else if (strcmp(type, "view") == 0 || !t) {
            strvec_push(raw, sql);
            intro_warn(warnings, "%s %s has no neutral form; kept as SQLite SQL", type, name);
        } else {
            sl_add_index(t, name, sql, warnings, raw);
        }
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

int introspect_sqlite(strata_conn *conn, schema *s, strvec *warnings, strvec *raw)
{
    strvec names = STRVEC_INIT, sqls = STRVEC_INIT;
    int rc = sl_read_table_list(conn, &names, &sqls);
    for (size_t i = 0; i < names.n && !rc; i++)
        rc = sl_read_table(conn, s, names.v[i], sqls.v[i], warnings);
    strvec_free(&names);
    strvec_free(&sqls);
    if (rc)
        return rc;
    sl_default_ref_cols(s);
    return sl_read_objects(conn, s, warnings, raw);
}
