/*
 * postgres.c - the PostgreSQL driver, over libpq.
 *
 * Statements without parameters go through the simple query protocol (so a
 * string may hold several statements); parameterised ones through
 * PQexecParams with `?` rewritten to $n. Results are read in text format and
 * typed by column OID: booleans, integers and floats come back typed, numeric
 * stays text (exact), bytea is unescaped to bytes.
 *
 * Every session runs with TimeZone=UTC, so timestamptz values are read and
 * written in UTC, and with client_min_messages=warning so NOTICEs (such as
 * "relation already exists, skipping") do not clutter the output.
 */
#include "driver.h"
#include "names.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define OID_BOOL   16
#define OID_BYTEA  17
#define OID_INT8   20
#define OID_INT2   21
#define OID_INT4   23
#define OID_OID    26
#define OID_FLOAT4 700
#define OID_FLOAT8 701

typedef struct pg_conn {
    strata_conn base;
    PGconn *pg;
    PGcancel *cancel;  /* for a cancel request from another thread */
    int checks_client; /* client_connection_check_interval was set (locks) */
} pg_conn;

typedef struct pg_rows {
    strata_rows base;
    PGresult *res;
    int row;
    int nrows;
    Oid *types;
    unsigned char **blobs; /* unescaped bytea of the current row */
} pg_rows;

/* Collapse a multi-line libpq message onto one line. */
static char *one_line(const char *msg)
{
    sbuf b = SBUF_INIT;
    int space = 0;
    for (const char *p = msg; *p; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r') {
            space = 1;
            continue;
        }
        if (space && b.len)
            sbuf_addc(&b, ' ');
        space = 0;
        sbuf_addc(&b, *p);
    }
    return sbuf_detach(&b);
}

/* Set an EDB error from a failed result: "ERROR: message (detail)". */
/* STRATA_ECONNECT when the connection is gone (the server ended it, or the
 * network did), so callers know no later statement can run; else EDB. */
static int pg_error_code(pg_conn *c)
{
    return PQstatus(c->pg) == CONNECTION_BAD ? STRATA_ECONNECT : STRATA_EDB;
}

static int pg_result_error(pg_conn *c, PGresult *res)
{
    const char *sev = res ? PQresultErrorField(res, PG_DIAG_SEVERITY) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    int code = pg_error_code(c);
    if (!msg) {
        char *m = one_line(PQerrorMessage(c->pg));
        strata_set_error(code, "%s%s", code == STRATA_ECONNECT ? "connection lost: " : "", m);
        free(m);
        return code;
    }
    sbuf b = SBUF_INIT;
    sbuf_addf(&b, "%s: %s", sev ? sev : "ERROR", msg);
    if (detail)
        sbuf_addf(&b, " (%s)", detail);
    if (state)
        sbuf_addf(&b, " [SQLSTATE %s]", state);
    char *m = one_line(sbuf_str(&b));
    sbuf_free(&b);
    strata_set_error(code, "%s%s", code == STRATA_ECONNECT ? "connection lost: " : "", m);
    free(m);
    return code;
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* ---- schema targets ---- */

static int pg_exec(strata_conn *conn, const char *sql);
static int pg_query(strata_conn *conn, const char *sql, const strata_value *params, size_t n,
                    strata_rows **out, int64_t *affected);
static void pg_close(strata_conn *conn);

/*
 * A URL's ?schema=NAME, or ?search_path=NAME[,SHARED...], makes the
 * connection one schema's: a tenant of a database that keeps one schema per
 * customer. Its tables, enums, history table and migration lock are that
 * schema's, and introspection reads it alone (current_schema()). The names
 * after the first in search_path are only searched: schemas shared by every
 * tenant, where the database's extensions live (pg_trgm's operator classes,
 * say: an extension is installed once per database, in one schema). Each
 * name is one identifier - letters, digits, '_' and '$', not starting with
 * a digit or '$', at most 63 bytes, not pg_* or information_schema (the
 * server's own) - so a URL cannot smuggle SQL into the session.
 */
static int pg_schema_name_check(const char *masked, const char *key, const char *name, size_t n)
{
    int ok = n > 0 && n <= 63 && !isdigit((unsigned char)name[0]) && name[0] != '$';
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)name[i]) || name[i] == '_' || name[i] == '$';
    if (!ok)
        return strata_set_error(STRATA_EINPUT,
                                "%s: %s: '%.*s' is not a schema name: letters, digits, '_' and '$' "
                                "(not starting with a digit or '$'), at most 63 bytes",
                                masked, key, (int)n, name);
    if ((n >= 3 && strncasecmp(name, "pg_", 3) == 0) ||
        (n == 18 && strncasecmp(name, "information_schema", 18) == 0))
        return strata_set_error(STRATA_EINPUT,
                                "%s: %s: '%.*s' is one of PostgreSQL's own schemas, not a target",
                                masked, key, (int)n, name);
    return 0;
}

/* Check `value` of parameter `key`: one name for schema, a list separated
 * by ',' for search_path. */
static int pg_schema_param_check(const char *masked, const char *key, const char *value)
{
    if (strcmp(key, "schema") == 0)
        return pg_schema_name_check(masked, key, value, strlen(value));
    for (const char *p = value;; p++) {
        size_t n = strcspn(p, ",");
        if (pg_schema_name_check(masked, key, p, n) != 0)
            return STRATA_EINPUT;
        p += n;
        if (!*p)
            return 0;
    }
}

/* Make the first schema of `path` (a checked list) the session's own, the
 * others only searched, creating the first when it does not exist yet - as
 * Flyway's createSchemas and Prisma's ?schema= do, and as a SQLite
 * target's file is created. Nothing of a schema not named (public) is found
 * by an unqualified name by accident. */
static int pg_use_schema(pg_conn *c, const char *path)
{
    char *name = xstrndup(path, strcspn(path, ","));
    sbuf list = SBUF_INIT;
    for (const char *p = path;; p++) {
        size_t n = strcspn(p, ",");
        char *one = xstrndup(p, n);
        char *q = strata_quote_ident(STRATA_POSTGRES, one);
        sbuf_addf(&list, "%s%s", list.len ? ", " : "", q);
        free(q);
        free(one);
        p += n;
        if (!*p)
            break;
    }
    char *quoted = strata_quote_ident(STRATA_POSTGRES, name);
    strata_value args[2] = {strata_vtext(name), strata_vtext(sbuf_str(&list))};
    strata_rows *rows = NULL;
    int rc = pg_query(&c->base,
                      "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = ?), "
                      "pg_catalog.set_config('search_path', ?, false)",
                      args, 2, &rows, NULL);
    int exists = 0;
    if (!rc) {
        exists = strata_rows_next(rows) == 1 && strata_rows_value(rows, 0)->i;
        strata_rows_free(rows);
    }
    if (!rc && !exists) {
        char *sql = xasprintf("CREATE SCHEMA IF NOT EXISTS %s", quoted);
        rc = pg_exec(&c->base, sql);
        free(sql);
        if (rc) {
            /* two runs creating it at once: the loser's IF NOT EXISTS can
             * still fail on the catalog's unique index; then it exists */
            char *found = NULL;
            strata_value v = strata_vtext(name);
            char *saved = xstrdup(strata_error_message());
            if (strata_conn_query_string(&c->base,
                                         "SELECT nspname FROM pg_catalog.pg_namespace WHERE "
                                         "nspname = ?",
                                         &v, 1, &found) == 0 &&
                found)
                rc = 0;
            else
                strata_set_error(STRATA_EDB, "%s", saved);
            free(found);
            free(saved);
        }
    }
    free(quoted);
    sbuf_free(&list);
    if (rc) {
        strata_set_error(STRATA_ECONNECT, "cannot use schema '%s' on %s (%s): %s", name,
                         c->base.endpoint, c->base.url_masked, strata_error_message());
        free(name);
        return STRATA_ECONNECT;
    }
    c->base.schema = name;
    return 0;
}

static int pg_open(const strata_url *url, const char *masked, strata_conn **out)
{
    const char *keys[32];
    const char *vals[32];
    int n = 0;
    char portbuf[16];
    if (url->host) {
        keys[n] = "host";
        vals[n++] = url->host;
    }
    if (url->port) {
        snprintf(portbuf, sizeof portbuf, "%d", url->port);
        keys[n] = "port";
        vals[n++] = portbuf;
    }
    if (url->user) {
        keys[n] = "user";
        vals[n++] = url->user;
    }
    if (url->password) {
        keys[n] = "password";
        vals[n++] = url->password;
    }
    keys[n] = "dbname";
    vals[n++] = url->database;
    keys[n] = "application_name";
    vals[n++] = "strata";
    keys[n] = "client_encoding";
    vals[n++] = "UTF8";
    keys[n] = "options";
    vals[n++] = "-c TimeZone=UTC -c client_min_messages=warning";
    int has_timeout = 0;
    const char *schema = NULL;
    for (char **p = url->params; p && p[0] && n < 30; p += 2) {
        if (strcmp(p[0], "search_path") == 0 || strcmp(p[0], "schema") == 0) {
            if (schema)
                return strata_set_error(STRATA_EINPUT,
                                        "%s: give one of search_path and schema, once: a target "
                                        "is one schema",
                                        masked);
            if (pg_schema_param_check(masked, p[0], p[1]) != 0)
                return STRATA_EINPUT;
            schema = p[1];
            continue; /* Strata's own, not libpq's */
        }
        if (strcmp(p[0], "connect_timeout") == 0)
            has_timeout = 1;
        keys[n] = p[0];
        vals[n++] = p[1];
    }
    if (!has_timeout) {
        keys[n] = "connect_timeout";
        vals[n++] = "10";
    }
    keys[n] = NULL;
    vals[n] = NULL;

    char *endpoint =
        xasprintf("%s:%d", url->host ? url->host : "localhost", url->port ? url->port : 5432);
    PGconn *pg = PQconnectdbParams(keys, vals, 0);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        char *m = one_line(pg ? PQerrorMessage(pg) : "out of memory");
        strata_set_error(STRATA_ECONNECT, "cannot connect to PostgreSQL at %s (%s): %s", endpoint,
                         masked, m);
        free(m);
        free(endpoint);
        PQfinish(pg);
        return STRATA_ECONNECT;
    }
    PQsetNoticeProcessor(pg, ignore_notice, NULL);

    pg_conn *c = xcalloc(1, sizeof *c);
    conn_init_common(&c->base, &strata_driver_postgres, url, masked, endpoint);
    free(endpoint);
    c->pg = pg;
    c->cancel = PQgetCancel(pg);
    const char *ver = PQparameterStatus(pg, "server_version");
    snprintf(c->base.server_version, sizeof c->base.server_version, "%s", ver ? ver : "?");
    char *sp = strchr(c->base.server_version, ' ');
    if (sp)
        *sp = '\0';
    int num = PQserverVersion(pg); /* e.g. 150018 */
    c->base.server_version_num = (num / 10000) * 10000 + (num % 100);
    c->base.caps = STRATA_CAP_TRANSACTIONAL_DDL | STRATA_CAP_PARTIAL_INDEX |
                   STRATA_CAP_RENAME_COLUMN | STRATA_CAP_DROP_COLUMN | STRATA_CAP_ENFORCED_CHECK |
                   STRATA_CAP_EXPR_DEFAULT | STRATA_CAP_ENUM_TYPE | STRATA_CAP_ADVISORY_LOCK |
                   STRATA_CAP_ALTER_ADD_CONSTRAINT | STRATA_CAP_RETURNING |
                   STRATA_CAP_DROP_INDEX_IF_EXISTS;
    if (num >= 120000)
        c->base.caps |= STRATA_CAP_ENUM_ADD_VALUE_IN_TX;
    if (schema && pg_use_schema(c, schema) != 0) {
        pg_close(&c->base);
        return STRATA_ECONNECT;
    }
    *out = &c->base;
    return 0;
}

static void pg_close(strata_conn *conn)
{
    pg_conn *c = (pg_conn *)conn;
    if (c->cancel)
        PQfreeCancel(c->cancel);
    PQfinish(c->pg);
    conn_free_common(conn);
    free(c);
}

static int pg_exec(strata_conn *conn, const char *sql)
{
    pg_conn *c = (pg_conn *)conn;
    PGresult *res = PQexec(c->pg, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
        rc = pg_result_error(c, res);
    PQclear(res);
    return rc;
}

static void pg_rows_clear_blobs(pg_rows *r)
{
    for (size_t i = 0; i < r->base.ncols; i++) {
        if (r->blobs[i]) {
            PQfreemem(r->blobs[i]);
            r->blobs[i] = NULL;
        }
    }
}

static int pg_rows_next(strata_rows *rows)
{
    pg_rows *r = (pg_rows *)rows;
    pg_rows_clear_blobs(r);
    if (r->row >= r->nrows)
        return 0;
    int row = r->row++;
    for (size_t i = 0; i < rows->ncols; i++) {
        strata_value *v = &rows->values[i];
        memset(v, 0, sizeof *v);
        if (PQgetisnull(r->res, row, (int)i)) {
            v->type = STRATA_VNULL;
            continue;
        }
        const char *s = PQgetvalue(r->res, row, (int)i);
        v->s = s;
        v->len = (size_t)PQgetlength(r->res, row, (int)i);
        switch (r->types[i]) {
        case OID_BOOL:
            v->type = STRATA_VBOOL;
            v->i = s[0] == 't';
            break;
        case OID_INT2:
        case OID_INT4:
        case OID_INT8:
        case OID_OID:
            v->type = STRATA_VINT;
            v->i = strtoll(s, NULL, 10);
            break;
        case OID_FLOAT4:
        case OID_FLOAT8:
            v->type = STRATA_VREAL;
            v->d = strtod(s, NULL);
            break;
        case OID_BYTEA: {
            size_t len = 0;
            unsigned char *bytes = PQunescapeBytea((const unsigned char *)s, &len);
            if (!bytes)
                return strata_set_error(STRATA_EDB, "cannot decode a bytea value");
            r->blobs[i] = bytes;
            v->type = STRATA_VBLOB;
            v->s = (const char *)bytes;
            v->len = len;
            break;
        }
        default:
            v->type = STRATA_VTEXT;
            break;
        }
    }
    return 1;
}

static void pg_rows_free(strata_rows *rows)
{
    pg_rows *r = (pg_rows *)rows;
    pg_rows_clear_blobs(r);
    PQclear(r->res);
    free(r->types);
    free(r->blobs);
    rows_free_common(rows);
    free(r);
}

static int pg_query(strata_conn *conn, const char *sql, const strata_value *params, size_t n,
                    strata_rows **out, int64_t *affected)
{
    pg_conn *c = (pg_conn *)conn;
    size_t found = 0;
    char *text = n ? rewrite_placeholders_pg(sql, &found) : xstrdup(sql);
    if (n && found != n) {
        free(text);
        return strata_set_error(STRATA_EINPUT, "statement has %zu placeholders but %zu values: %s",
                                found, n, sql);
    }
    const char **vals = xcalloc(n + 1, sizeof(char *));
    int *lens = xcalloc(n + 1, sizeof(int));
    int *fmts = xcalloc(n + 1, sizeof(int));
    Oid *types = xcalloc(n + 1, sizeof(Oid));
    strvec scratch = STRVEC_INIT;
    for (size_t i = 0; i < n; i++) {
        const strata_value *v = &params[i];
        switch (v->type) {
        case STRATA_VNULL:
            vals[i] = NULL;
            break;
        case STRATA_VINT:
            strvec_pushf(&scratch, "%lld", (long long)v->i);
            vals[i] = scratch.v[scratch.n - 1];
            types[i] = OID_INT8;
            break;
        case STRATA_VREAL:
            strvec_pushf(&scratch, "%.17g", v->d);
            vals[i] = scratch.v[scratch.n - 1];
            types[i] = OID_FLOAT8;
            break;
        case STRATA_VBOOL:
            vals[i] = v->i ? "t" : "f";
            types[i] = OID_BOOL;
            break;
        case STRATA_VTEXT:
            strvec_push_owned(&scratch, xstrndup(v->s, v->len));
            vals[i] = scratch.v[scratch.n - 1];
            break;
        case STRATA_VBLOB:
            vals[i] = v->s ? v->s : "";
            lens[i] = (int)v->len;
            fmts[i] = 1;
            types[i] = OID_BYTEA;
            break;
        }
    }
    PGresult *res;
    if (n)
        res = PQexecParams(c->pg, text, (int)n, types, vals, lens, fmts, 0);
    else
        res = PQexecParams(c->pg, text, 0, NULL, NULL, NULL, NULL, 0);
    free(text);
    free(vals);
    free(lens);
    free(fmts);
    free(types);
    strvec_free(&scratch);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        int rc = pg_result_error(c, res);
        PQclear(res);
        return rc;
    }
    if (affected) {
        const char *t = PQcmdTuples(res);
        *affected = t && *t ? strtoll(t, NULL, 10) : 0;
    }
    pg_rows *r = xcalloc(1, sizeof *r);
    r->base.next = pg_rows_next;
    r->base.free = pg_rows_free;
    size_t ncols = (size_t)PQnfields(res);
    rows_init_common(&r->base, ncols);
    r->res = res;
    r->nrows = PQntuples(res);
    r->types = xcalloc(ncols + 1, sizeof(Oid));
    r->blobs = xcalloc(ncols + 1, sizeof(unsigned char *));
    for (size_t i = 0; i < ncols; i++) {
        r->base.colnames[i] = xstrdup(PQfname(res, (int)i));
        r->types[i] = PQftype(res, (int)i);
    }
    if (out)
        *out = &r->base;
    else
        pg_rows_free(&r->base);
    return 0;
}

static int pg_begin(strata_conn *conn)
{
    return pg_exec(conn, "BEGIN");
}

static int pg_commit(strata_conn *conn)
{
    return pg_exec(conn, "COMMIT");
}

static int pg_rollback(strata_conn *conn)
{
    return pg_exec(conn, "ROLLBACK");
}

/* ---- bulk loading: COPY ... FROM STDIN ---- */

#define COPY_CHUNK (256 * 1024)

/* Append one value in COPY's text format (\N for NULL, backslash escapes). */
static void copy_encode(sbuf *b, const strata_value *v)
{
    static const char hex[] = "0123456789abcdef";
    switch (v->type) {
    case STRATA_VNULL:
        sbuf_addn(b, "\\N", 2);
        return;
    case STRATA_VINT:
        sbuf_addf(b, "%lld", (long long)v->i);
        return;
    case STRATA_VBOOL:
        sbuf_addc(b, v->i ? 't' : 'f');
        return;
    case STRATA_VREAL:
        sbuf_addf(b, "%.17g", v->d);
        return;
    case STRATA_VBLOB:
        sbuf_addn(b, "\\\\x", 3);
        for (size_t i = 0; i < v->len; i++) {
            unsigned char c = (unsigned char)v->s[i];
            sbuf_addc(b, hex[c >> 4]);
            sbuf_addc(b, hex[c & 15]);
        }
        return;
    case STRATA_VTEXT:
        tsv_escape_into(b, v->s, v->len, 0);
        return;
    }
}

/* An EDB error from a failed COPY, with the server's context ("COPY t, line
 * 3, column x: ...") so the failing row can be found. */
static int pg_copy_error(pg_conn *c, PGresult *res, const char *table)
{
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *ctxt = res ? PQresultErrorField(res, PG_DIAG_CONTEXT) : NULL;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    sbuf b = SBUF_INIT;
    sbuf_addf(&b, "loading table '%s': ERROR: %s", table, msg ? msg : PQerrorMessage(c->pg));
    if (detail)
        sbuf_addf(&b, " (%s)", detail);
    if (ctxt)
        sbuf_addf(&b, " [%s]", ctxt);
    if (state)
        sbuf_addf(&b, " [SQLSTATE %s]", state);
    char *m = one_line(sbuf_str(&b));
    sbuf_free(&b);
    strata_set_error(STRATA_EDB, "%s", m);
    free(m);
    return STRATA_EDB;
}

/* Read every pending result; return the first error (or 0). */
static int pg_copy_finish(pg_conn *c, const char *table, int64_t *loaded)
{
    int rc = 0;
    PGresult *res;
    while ((res = PQgetResult(c->pg)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COMMAND_OK) {
            const char *t = PQcmdTuples(res);
            if (loaded && t && *t)
                *loaded = strtoll(t, NULL, 10);
        } else if (!rc) {
            rc = pg_copy_error(c, res, table);
        }
        PQclear(res);
    }
    return rc;
}

static int pg_bulk_load(strata_conn *conn, const char *table, const char *const *cols, size_t ncols,
                        strata_bulk_next next, void *ctx, int64_t *loaded)
{
    pg_conn *c = (pg_conn *)conn;
    if (loaded)
        *loaded = 0;
    sbuf sql = SBUF_INIT;
    sbuf_add(&sql, "COPY ");
    quote_ident_into(&sql, STRATA_POSTGRES, table);
    sbuf_add(&sql, " (");
    quote_ident_list_into(&sql, STRATA_POSTGRES, cols, ncols);
    sbuf_add(&sql, ") FROM STDIN");
    PGresult *res = PQexec(c->pg, sbuf_str(&sql));
    sbuf_free(&sql);
    if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
        int rc = pg_copy_error(c, res, table);
        PQclear(res);
        return rc;
    }
    PQclear(res);

    strata_value *row = xcalloc(ncols + 1, sizeof *row);
    sbuf buf = SBUF_INIT;
    int rc = 0, src;
    while ((src = next(ctx, row)) > 0) {
        for (size_t i = 0; i < ncols; i++) {
            if (i)
                sbuf_addc(&buf, '\t');
            copy_encode(&buf, &row[i]);
        }
        sbuf_addc(&buf, '\n');
        if (buf.len >= COPY_CHUNK) {
            if (PQputCopyData(c->pg, buf.p, (int)buf.len) != 1) {
                rc = pg_copy_error(c, NULL, table);
                break;
            }
            sbuf_reset(&buf);
        }
    }
    free(row);
    if (src < 0 && !rc) {
        /* Keep the source's message: end the COPY with an error, drain. */
        char *saved = xstrdup(strata_error_message());
        int code = strata_error_code();
        PQputCopyEnd(c->pg, "abandoned by the client");
        pg_copy_finish(c, table, NULL);
        strata_set_error(code ? code : STRATA_EINPUT, "%s", saved);
        free(saved);
        sbuf_free(&buf);
        return code ? code : STRATA_EINPUT;
    }
    if (!rc && buf.len && PQputCopyData(c->pg, buf.p, (int)buf.len) != 1)
        rc = pg_copy_error(c, NULL, table);
    sbuf_free(&buf);
    if (PQputCopyEnd(c->pg, rc ? "abandoned by the client" : NULL) != 1 && !rc)
        rc = pg_copy_error(c, NULL, table);
    int frc = pg_copy_finish(c, table, loaded);
    return rc ? rc : frc;
}

static int pg_table_exists(strata_conn *conn, const char *name, int *exists)
{
    strata_value v = strata_vtext(name);
    char *out = NULL;
    int rc = strata_conn_query_string(conn,
                                      "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = "
                                      "current_schema() AND tablename = ?",
                                      &v, 1, &out);
    *exists = out != NULL;
    free(out);
    return rc;
}

/* ---- session locks: advisory locks ---- */

/*
 * The advisory-lock key of lock `name`: the first 60 bits of the SHA-256 of
 * "<name>:<database>" (positive as a bigint). pg_locks shows a bigint key as
 * classid (its high 32 bits) and objid (its low 32 bits), with objsubid 1.
 */
static long long pg_lock_key(const strata_conn *conn, const char *name, unsigned *hi, unsigned *lo)
{
    char hex[65];
    char *text = conn_lock_scoped_name(conn, name);
    sha256_hex(text, strlen(text), hex);
    free(text);
    unsigned long long k = 0;
    for (int i = 0; i < 15; i++) {
        char c = hex[i];
        k = k * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    *hi = (unsigned)(k >> 32);
    *lo = (unsigned)(k & 0xffffffffu);
    return (long long)k;
}

/* The condition on pg_locks (as `l`) that finds the granted lock `name` of
 * this database. */
static char *pg_lock_where(const strata_conn *conn, const char *name)
{
    unsigned hi, lo;
    pg_lock_key(conn, name, &hi, &lo);
    return xasprintf("l.locktype = 'advisory' AND l.granted AND l.classid = %u AND l.objid = %u "
                     "AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE "
                     "datname = current_database())",
                     hi, lo);
}

static int pg_lock_try(strata_conn *conn, const char *name, double wait, lock_state *state)
{
    pg_conn *c = (pg_conn *)conn;
    (void)wait; /* pg_advisory_lock cannot wait for a while; the caller polls */
    /* The lock lives as long as this session. A server only notices a dead
     * client when it next talks to it, so a holder killed during a long
     * statement would keep the lock until that statement ends; PostgreSQL
     * 14+ can check for a dead client while it works. */
    if (!c->checks_client && conn->server_version_num >= 140000) {
        if (pg_exec(conn, "SET client_connection_check_interval = 1000") != 0)
            strata_error_clear(); /* only a sooner release; not needed */
        c->checks_client = 1;
    }
    unsigned hi, lo;
    char *q = xasprintf("SELECT pg_try_advisory_lock(%lld)", pg_lock_key(conn, name, &hi, &lo));
    strata_rows *rows = NULL;
    int rc = pg_query(conn, q, NULL, 0, &rows, NULL);
    free(q);
    if (rc)
        return rc;
    int got = strata_rows_next(rows) == 1 && strata_rows_value(rows, 0)->i;
    strata_rows_free(rows);
    *state = got ? LOCK_TAKEN : LOCK_HELD;
    return 0;
}

static int pg_unlock(strata_conn *conn, const char *name)
{
    unsigned hi, lo;
    char *q = xasprintf("SELECT pg_advisory_unlock(%lld)", pg_lock_key(conn, name, &hi, &lo));
    int rc = pg_exec(conn, q);
    free(q);
    return rc;
}

/* Who holds the lock: pid, application, client address and since when.
 * Another role's session shows only its pid unless this role may read all
 * statistics (pg_read_all_stats). */
static int pg_lock_holder(strata_conn *conn, const char *name, char **who)
{
    char *where = pg_lock_where(conn, name);
    char *q = xasprintf(
        "SELECT 'pid ' || a.pid || coalesce(' (' || coalesce(nullif(a.application_name, ''), '?') "
        "|| ' from ' || coalesce(host(a.client_addr), 'local socket') || ', connected ' || "
        "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC)', '') "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE %s",
        where);
    int rc = strata_conn_query_string(conn, q, NULL, 0, who);
    free(q);
    free(where);
    return rc;
}

static int pg_lock_break(strata_conn *conn, const char *name, char **who)
{
    int rc = pg_lock_holder(conn, name, who);
    if (rc || !*who)
        return rc;
    char *where = pg_lock_where(conn, name);
    char *q = xasprintf("SELECT pg_terminate_backend(l.pid) FROM pg_locks l WHERE %s", where);
    rc = pg_exec(conn, q);
    free(q);
    free(where);
    return rc;
}

static char *pg_lock_label(strata_conn *conn, const char *name)
{
    (void)name;
    if (conn->schema)
        return xasprintf("of schema '%s' of database '%s'", conn->schema, conn->database);
    return xasprintf("of database '%s'", conn->database);
}

/* A cancel request: the server cancels the statement running, if any.
 * PQcancel is made to be called from another thread. */
static void pg_interrupt(strata_conn *conn)
{
    pg_conn *c = (pg_conn *)conn;
    char err[256];
    if (c->cancel)
        PQcancel(c->cancel, err, sizeof err);
}

/* ---- primary and standby ---- */

/* A standby is recognised by pg_is_in_recovery(). The node is the
 * cluster's system identifier: a session lock of this server and a lock row
 * in its databases belong together (a standby, which shares it, is refused
 * before either is used). */
static int pg_cluster_info(strata_conn *conn, cluster_info *out)
{
    strata_rows *rows;
    int rc = pg_query(conn,
                      "SELECT pg_is_in_recovery(), (SELECT system_identifier FROM "
                      "pg_control_system())::text",
                      NULL, 0, &rows, NULL);
    if (rc)
        return strata_error_prefix("reading whether the server is a standby: ");
    if (strata_rows_next(rows) == 1) {
        out->standby = (int)strata_rows_value(rows, 0)->i;
        const char *id = strata_rows_text(rows, 1);
        snprintf(out->node, sizeof out->node, "postgres %s", id ? id : conn->endpoint);
    }
    strata_rows_free(rows);
    return 0;
}

/* The replicas streaming from this primary, each with whether it has
 * replayed `target` (an LSN), its replay_lag and how far behind it is. */
#define REPLICAS_SQL                                                                               \
    "SELECT coalesce(nullif(application_name, ''), 'pid ' || pid), coalesce(host(client_addr), "   \
    "'local socket'), coalesce(replay_lsn >= ?::pg_lsn, false), "                                  \
    "coalesce(extract(epoch FROM replay_lag)::float8, -1), coalesce(pg_wal_lsn_diff(?::pg_lsn, "   \
    "replay_lsn)::bigint, -1) FROM pg_stat_replication WHERE state <> 'backup' ORDER BY 1"

/*
 * Wait until every replica streaming from this primary has replayed the
 * primary's WAL up to where it is now (pg_current_wal_lsn() at the start),
 * polling pg_stat_replication every 10 ms (a separate statement each time:
 * inside one transaction the view would be a snapshot). The replicas are
 * those connected at the start; one that leaves while we wait is reported
 * as behind.
 */
static int pg_replicas_wait(strata_conn *conn, double timeout, replica_state **out, size_t *n)
{
    char *target = NULL;
    int rc = strata_conn_query_string(conn, "SELECT pg_current_wal_lsn()::text", NULL, 0, &target);
    if (rc)
        return strata_error_prefix("reading the primary's WAL position: ");
    double start = now_seconds();
    replica_state *v = NULL;
    size_t nv = 0;
    strata_value args[2] = {strata_vtext(target), strata_vtext(target)};
    for (int first = 1;; first = 0) {
        strata_rows *rows;
        rc = pg_query(conn, REPLICAS_SQL, args, 2, &rows, NULL);
        if (rc) {
            strata_error_prefix("reading pg_stat_replication: ");
            break;
        }
        double now = now_seconds();
        size_t behind = 0;
        for (size_t i = 0; i < nv; i++)
            v[i].caught_up = v[i].caught_up ? 1 : -1; /* -1: not seen this time */
        while (strata_rows_next(rows) == 1) {
            const char *name = strata_rows_text(rows, 0), *addr = strata_rows_text(rows, 1);
            replica_state *r = NULL;
            for (size_t i = 0; i < nv && !r; i++)
                if (!strcmp(v[i].name, name) && !strcmp(v[i].address, addr))
                    r = &v[i];
            if (!r && first) {
                v = xrealloc(v, (nv + 1) * sizeof *v);
                r = &v[nv++];
                memset(r, 0, sizeof *r);
                r->name = xstrdup(name);
                r->address = xstrdup(addr);
            }
            if (!r)
                continue; /* connected after the run: not waited for */
            if (r->caught_up != 1 && strata_rows_value(rows, 2)->i) {
                r->caught_up = 1;
                r->waited = now - start;
            } else if (r->caught_up != 1) {
                r->caught_up = 0;
            }
            r->lag = strata_rows_value(rows, 3)->d;
            r->behind = strata_rows_value(rows, 4)->i;
        }
        strata_rows_free(rows);
        for (size_t i = 0; i < nv; i++)
            behind += v[i].caught_up != 1;
        if (!behind)
            break;
        if (now - start >= timeout) {
            sbuf b = SBUF_INIT;
            for (size_t i = 0; i < nv; i++) {
                if (v[i].caught_up == 1)
                    continue;
                sbuf_addf(&b, "%s%s (%s) %s", b.len ? ", " : "", v[i].name, v[i].address,
                          v[i].caught_up < 0 ? "disconnected"
                          : v[i].behind < 0  ? "position unknown (pg_read_all_stats?)"
                                             : "behind");
                if (v[i].caught_up == 0 && v[i].behind >= 0)
                    sbuf_addf(&b, " by %lld bytes", v[i].behind);
            }
            rc = strata_set_error(STRATA_ESTATE,
                                  "%zu of %zu replicas had not replayed the changes (up to WAL "
                                  "position %s) after %.1f s: %s",
                                  behind, nv, target, timeout, sbuf_str(&b));
            sbuf_free(&b);
            break;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    free(target);
    *out = v;
    *n = nv;
    return rc;
}

const strata_driver strata_driver_postgres = {
    .name = "postgres",
    .dialect = STRATA_POSTGRES,
    .flags = DRIVER_SESSION_LOCK | DRIVER_MULTI_STATEMENT,
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .query = pg_query,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .bulk_load = pg_bulk_load,
    .table_exists = pg_table_exists,
    .lock_try = pg_lock_try,
    .unlock = pg_unlock,
    .lock_holder = pg_lock_holder,
    .lock_break = pg_lock_break,
    .lock_label = pg_lock_label,
    .interrupt = pg_interrupt,
    .cluster_info = pg_cluster_info,
    .replicas_wait = pg_replicas_wait,
};
