/*
 * introspect.c - reading a live database's schema into the schema model:
 * the entry point and what the three readers share.
 *
 * One reader per dialect fills the same structs that replaying migrations
 * builds, undoing each dialect compiler's mapping (see introspect.h):
 * introspect_postgres.c reads pg_catalog, introspect_mysql.c
 * information_schema, introspect_sqlite.c sqlite_schema, its pragmas and
 * the CREATE TABLE text. Each file's header says what it folds back.
 *
 * Anything else (views, other triggers, expression indexes) goes to `raw`
 * with a warning, so nothing is silently dropped.
 */
#include "introspect_read.h"
#include "sqltext.h"

#include <stdlib.h>
#include <string.h>

/* ---- building the model ---- */

table *intro_table(schema *s, const char *name)
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

void intro_split(const char *text, strvec *out)
{
    if (!text || !*text)
        return;
    const char *p = text;
    for (;;) {
        const char *e = strstr(p, INTRO_SEP);
        strvec_push_owned(out, xstrndup(p, e ? (size_t)(e - p) : strlen(p)));
        if (!e)
            break;
        p = e + 1;
    }
}

void intro_warn(strvec *w, const char *fmt, ...)
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

fk_action intro_fk_action(const char *s)
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

/* ---- defaults ---- */

json_t *intro_literal(type_kind k, const char *text, int quoted)
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

void intro_set_literal(column *c, json_t *lit)
{
    col_default_free(&c->def);
    c->def.kind = DEF_LITERAL;
    c->def.literal = lit;
}

void intro_set_sql_default(column *c, strata_dialect d, const char *text)
{
    col_default_free(&c->def);
    c->def.kind = DEF_SQL;
    c->def.sql[d] = xstrdup(text);
}

int intro_is_now_expr(const char *e)
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

int intro_is_uuid_expr(const char *e)
{
    return strstr(e, "gen_random_uuid") || strstr(e, "uuid_generate_v4") || strstr(e, "uuid()") ||
           (strstr(e, "randomblob") && strstr(e, "'-4'"));
}

/* ---- the entry point ---- */

int introspect_schema(strata_conn *conn, schema *out, strvec *warnings, strvec *raw)
{
    schema_init(out);
    strvec scratch = STRVEC_INIT;
    if (!raw)
        raw = &scratch;
    int rc = 0;
    switch (strata_conn_dialect(conn)) {
    case STRATA_POSTGRES:
        rc = introspect_postgres(conn, out, warnings, raw);
        break;
    case STRATA_MYSQL:
        rc = introspect_mysql(conn, out, warnings, raw);
        break;
    case STRATA_SQLITE:
        rc = introspect_sqlite(conn, out, warnings, raw);
        break;
    }
    strvec_free(&scratch);
    if (rc) {
        strata_error_prefix("reading the schema of %s: ", strata_conn_url_masked(conn));
        schema_free(out);
    }
    return rc;
}
