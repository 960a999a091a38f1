/*
 * driver.c - the generic side of the driver interface: choosing a driver from
 * a URL, dispatch to the driver's functions, the transaction flag, result
 * rows, and the helpers that every driver shares (placeholder rewriting,
 * version parsing). Arguments are passed through unchecked: the drivers
 * and their callers own that.
 */
#include "driver.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

strata_value strata_vtext(const char *s)
{
    strata_value v = {STRATA_VTEXT, 0, 0, s, s ? strlen(s) : 0};
    if (!s)
        v.type = STRATA_VNULL;
    return v;
}

static const strata_driver *driver_for(strata_dialect d)
{
    switch (d) {
    case STRATA_POSTGRES:
        return &strata_driver_postgres;
    case STRATA_MYSQL:
        return &strata_driver_mysql;
    case STRATA_SQLITE:
        return &strata_driver_sqlite;
    }
    return NULL;
}

int strata_conn_open(strata_conn **out, const char *url_text)
{
    *out = NULL;
    strata_url url;
    int rc = strata_url_parse(url_text, &url);
    if (rc)
        return rc;
    char *masked = strata_url_mask(url_text);
    rc = driver_for(url.dialect)->open(&url, masked, out);
    free(masked);
    strata_url_dispose(&url);
    if (!rc)
        (*out)->url = xstrdup(url_text);
    return rc;
}

int conn_reopen(const strata_conn *conn, strata_conn **out)
{
    return strata_conn_open(out, conn->url);
}

void strata_conn_close(strata_conn *conn)
{
    if (conn)
        conn->drv->close(conn);
}

strata_dialect strata_conn_dialect(const strata_conn *conn)
{
    return conn->dialect;
}

const char *strata_conn_server_version(const strata_conn *conn)
{
    return conn->server_version;
}

int strata_conn_server_version_num(const strata_conn *conn)
{
    return conn->server_version_num;
}

int strata_conn_is_mariadb(const strata_conn *conn)
{
    return conn->is_mariadb;
}

unsigned strata_conn_caps(const strata_conn *conn)
{
    return conn->caps;
}

const char *strata_conn_url_masked(const strata_conn *conn)
{
    return conn->url_masked;
}

const char *strata_conn_database(const strata_conn *conn)
{
    return conn->database;
}

/* ---- interrupting a connection from another thread ---- */

void conn_interrupt(strata_conn *conn, const char *why)
{
    snprintf(conn->interrupt_why, sizeof conn->interrupt_why, "%s", why ? why : "interrupted");
    atomic_store(&conn->interrupt_pending, 1);
    if (conn->drv->interrupt)
        conn->drv->interrupt(conn);
}

/* Before a statement: an interrupt that came between two statements fails
 * this one. */
static int interrupt_before(strata_conn *conn)
{
    if (!atomic_exchange(&conn->interrupt_pending, 0))
        return 0;
    conn->interrupted = 1;
    return strata_set_error(STRATA_EDB, "interrupted: %s", conn->interrupt_why);
}

int conn_was_interrupted(const strata_conn *conn)
{
    return conn->interrupted;
}

/* After a statement: one that failed while an interrupt was pending failed
 * because of it (or at least was interrupted too); the interrupt is spent,
 * and the message says so before the database's words. */
static int interrupt_after(strata_conn *conn, int rc)
{
    if (rc && atomic_exchange(&conn->interrupt_pending, 0)) {
        conn->interrupted = 1;
        char *words = xstrdup(strata_error_message());
        strata_set_error(rc, "interrupted: %s (%s)", conn->interrupt_why, words);
        free(words);
    }
    return rc;
}

int strata_conn_exec(strata_conn *conn, const char *sql)
{
    int rc = interrupt_before(conn);
    return rc ? rc : interrupt_after(conn, conn->drv->exec(conn, sql));
}

int strata_conn_execp(strata_conn *conn, const char *sql, const strata_value *params,
                      size_t nparams, int64_t *affected)
{
    if (nparams == 0 && !affected)
        return strata_conn_exec(conn, sql);
    int rc = interrupt_before(conn);
    if (rc)
        return rc;
    strata_rows *rows = NULL;
    rc = conn->drv->query(conn, sql, params, nparams, &rows, affected);
    strata_rows_free(rows);
    return interrupt_after(conn, rc);
}

int strata_conn_query(strata_conn *conn, const char *sql, const strata_value *params,
                      size_t nparams, strata_rows **out)
{
    *out = NULL;
    int rc = interrupt_before(conn);
    return rc ? rc : interrupt_after(conn, conn->drv->query(conn, sql, params, nparams, out, NULL));
}

int strata_rows_next(strata_rows *rows)
{
    return rows->next(rows);
}

size_t strata_rows_ncols(const strata_rows *rows)
{
    return rows->ncols;
}

const char *strata_rows_colname(const strata_rows *rows, size_t i)
{
    return i < rows->ncols ? rows->colnames[i] : NULL;
}

const strata_value *strata_rows_value(const strata_rows *rows, size_t i)
{
    return i < rows->ncols ? &rows->values[i] : NULL;
}

const char *strata_rows_text(const strata_rows *rows, size_t i)
{
    const strata_value *v = strata_rows_value(rows, i);
    if (!v || v->type == STRATA_VNULL)
        return NULL;
    if (v->type == STRATA_VTEXT || v->type == STRATA_VBLOB)
        return v->s;
    /* Typed values keep their text form in s when the driver had one. */
    return v->s;
}

void strata_rows_free(strata_rows *rows)
{
    if (rows)
        rows->free(rows);
}

int strata_conn_query_string(strata_conn *conn, const char *sql, const strata_value *params,
                             size_t nparams, char **out)
{
    *out = NULL;
    strata_rows *rows;
    int rc = strata_conn_query(conn, sql, params, nparams, &rows);
    if (rc)
        return rc;
    rc = strata_rows_next(rows);
    if (rc == 1) {
        const char *t = strata_rows_text(rows, 0);
        if (t)
            *out = xstrdup(t);
        rc = 0;
    }
    strata_rows_free(rows);
    return rc;
}

int strata_conn_begin(strata_conn *conn)
{
    if (conn->in_tx)
        return strata_set_error(STRATA_ESTATE, "a transaction is already open");
    int rc = conn->drv->begin(conn);
    if (rc == 0)
        conn->in_tx = 1;
    return rc;
}

int strata_conn_commit(strata_conn *conn)
{
    int rc = conn->drv->commit(conn);
    conn->in_tx = 0;
    return rc;
}

int strata_conn_rollback(strata_conn *conn)
{
    int rc = conn->drv->rollback(conn);
    conn->in_tx = 0;
    return rc;
}

int strata_conn_in_transaction(const strata_conn *conn)
{
    return conn->in_tx;
}

char *strata_conn_quote_ident(const strata_conn *conn, const char *name)
{
    return strata_quote_ident(conn->dialect, name);
}

char *strata_conn_quote_literal(const strata_conn *conn, const char *text)
{
    return strata_quote_literal(conn->dialect, text);
}

/* ---- tables and session locks ---- */

int conn_table_exists(strata_conn *conn, const char *name, int *exists)
{
    *exists = 0;
    return conn->drv->table_exists(conn, name, exists);
}

/* Every driver has session locks; a driver without would say so here. */
static int no_locks(const strata_conn *conn)
{
    return strata_set_error(STRATA_ELOCK, "the %s driver has no session locks", conn->drv->name);
}

int conn_lock_try(strata_conn *conn, const char *name, double wait, lock_state *state)
{
    *state = LOCK_HELD;
    if (!conn->drv->lock_try)
        return no_locks(conn);
    /* waiting for the lock is waiting too: an interrupt ends it */
    int rc = interrupt_before(conn);
    if (rc)
        return rc;
    return interrupt_after(conn, conn->drv->lock_try(conn, name, wait > 0 ? wait : 0, state));
}

int conn_unlock(strata_conn *conn, const char *name)
{
    return conn->drv->unlock ? conn->drv->unlock(conn, name) : 0;
}

int conn_lock_holder(strata_conn *conn, const char *name, char **who)
{
    *who = NULL;
    if (!conn->drv->lock_holder)
        return no_locks(conn);
    return conn->drv->lock_holder(conn, name, who);
}

int conn_lock_break(strata_conn *conn, const char *name, char **who)
{
    *who = NULL;
    if (!conn->drv->lock_break)
        return no_locks(conn);
    return conn->drv->lock_break(conn, name, who);
}

char *conn_lock_label(strata_conn *conn, const char *name)
{
    if (!conn->drv->lock_label)
        return xasprintf("'%s'", name);
    return conn->drv->lock_label(conn, name);
}

int conn_set_lock_wait(strata_conn *conn, double seconds)
{
    if (!conn->drv->set_lock_wait)
        return 0;
    return conn->drv->set_lock_wait(conn, seconds > 0 ? seconds : 0);
}

int conn_cluster_info(strata_conn *conn, cluster_info *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->node, sizeof out->node, "%s", conn->endpoint);
    snprintf(out->osu_method, sizeof out->osu_method, "TOI");
    if (!conn->drv->cluster_info)
        return 0;
    return conn->drv->cluster_info(conn, out);
}

int conn_replicas_wait(strata_conn *conn, double timeout, replica_state **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!conn->drv->replicas_wait)
        return 0;
    return conn->drv->replicas_wait(conn, timeout > 0 ? timeout : 0, out, n);
}

void replica_states_free(replica_state *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].address);
    }
    free(v);
}

int conn_has_trait(const strata_conn *conn, unsigned flag)
{
    return (conn->drv->flags & flag) != 0;
}

char *conn_lock_scoped_name(const strata_conn *conn, const char *name)
{
    /* a schema name is an identifier without '@' or ':', so no two targets
     * share a name */
    if (conn->schema)
        return xasprintf("%s@%s:%s", name, conn->schema, conn->database);
    return xasprintf("%s:%s", name, conn->database);
}

/* ---- helpers for drivers ---- */

void conn_init_common(strata_conn *c, const strata_driver *drv, const strata_url *url,
                      const char *masked, const char *endpoint)
{
    c->drv = drv;
    c->dialect = drv->dialect;
    c->url_masked = xstrdup(masked);
    c->database = xstrdup(url->database ? url->database : "");
    c->endpoint = xstrdup(endpoint);
}

void conn_free_common(strata_conn *c)
{
    if (c->url) {
        memset(c->url, 0, strlen(c->url)); /* it holds the password */
        free(c->url);
    }
    free(c->url_masked);
    free(c->database);
    free(c->schema);
    free(c->endpoint);
}

void rows_init_common(strata_rows *r, size_t ncols)
{
    r->ncols = ncols;
    r->colnames = xcalloc(ncols + 1, sizeof(char *));
    r->values = xcalloc(ncols + 1, sizeof(strata_value));
}

void rows_free_common(strata_rows *r)
{
    if (r->colnames)
        for (size_t i = 0; i < r->ncols; i++)
            free(r->colnames[i]);
    free(r->colnames);
    free(r->values);
}

void tsv_escape_into(sbuf *b, const char *s, size_t len, int nul)
{
    const char *p = s ? s : "", *end = p + len, *run = p;
    for (; p < end; p++) {
        const char *esc = NULL;
        switch (*p) {
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\0':
            if (!nul)
                continue;
            esc = "\\0";
            break;
        default:
            continue;
        }
        sbuf_addn(b, run, (size_t)(p - run));
        sbuf_addn(b, esc, 2);
        run = p + 1;
    }
    sbuf_addn(b, run, (size_t)(end - run));
}

char *trim_message(char *msg)
{
    size_t n = strlen(msg);
    while (n && isspace((unsigned char)msg[n - 1]))
        msg[--n] = '\0';
    return msg;
}

int parse_version_num(const char *s)
{
    int part[3] = {0, 0, 0};
    for (int k = 0; k < 3 && *s; k++) {
        if (!isdigit((unsigned char)*s))
            break;
        part[k] = (int)strtol(s, (char **)&s, 10);
        if (*s == '.')
            s++;
        else
            break;
    }
    return part[0] * 10000 + part[1] * 100 + part[2];
}

/*
 * Walk SQL text and count every `?` that is outside a string, quoted
 * identifier, comment or (PostgreSQL) dollar-quoted body; with `out`, copy
 * the text there with each such `?` rewritten as $1, $2, ...
 */
static void scan_placeholders(const char *sql, strata_dialect d, sbuf *out, size_t *count)
{
    size_t n = 0;
    const char *p = sql;
    while (*p) {
        char c = *p;
        if (c == '\'' || c == '"' || c == '`') {
            char q = c;
            const char *start = p++;
            while (*p) {
                if (d == STRATA_MYSQL && *p == '\\' && q != '`' && p[1]) {
                    p += 2;
                    continue;
                }
                if (*p == q) {
                    if (p[1] == q) {
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                p++;
            }
            if (out)
                sbuf_addn(out, start, (size_t)(p - start));
            continue;
        }
        if (c == '-' && p[1] == '-') {
            const char *start = p;
            while (*p && *p != '\n')
                p++;
            if (out)
                sbuf_addn(out, start, (size_t)(p - start));
            continue;
        }
        if (c == '/' && p[1] == '*') {
            const char *start = p;
            const char *end = strstr(p + 2, "*/");
            p = end ? end + 2 : p + strlen(p);
            if (out)
                sbuf_addn(out, start, (size_t)(p - start));
            continue;
        }
        if (d == STRATA_POSTGRES && c == '$') {
            /* $tag$ ... $tag$ */
            const char *t = p + 1;
            while (isalnum((unsigned char)*t) || *t == '_')
                t++;
            if (*t == '$' && !(p > sql && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))) {
                size_t taglen = (size_t)(t + 1 - p);
                char *tag = xstrndup(p, taglen);
                const char *end = strstr(t + 1, tag);
                const char *stop = end ? end + taglen : p + strlen(p);
                free(tag);
                if (out)
                    sbuf_addn(out, p, (size_t)(stop - p));
                p = stop;
                continue;
            }
        }
        if (c == '?') {
            n++;
            if (out)
                sbuf_addf(out, "$%zu", n);
            p++;
            continue;
        }
        if (out)
            sbuf_addc(out, c);
        p++;
    }
    *count = n;
}

char *rewrite_placeholders_pg(const char *sql, size_t *count)
{
    sbuf b = SBUF_INIT;
    scan_placeholders(sql, STRATA_POSTGRES, &b, count);
    return sbuf_detach(&b);
}

size_t count_placeholders(const char *sql, strata_dialect d)
{
    size_t n;
    scan_placeholders(sql, d, NULL, &n);
    return n;
}
