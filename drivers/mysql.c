/*
 * mysql.c - the MySQL/MariaDB driver, over MariaDB Connector/C
 * (libmysqlclient's API).
 *
 * Statements without parameters use the text protocol (and may hold several
 * statements: the connection is opened with CLIENT_MULTI_STATEMENTS);
 * parameterised ones are server-side prepared statements, sent with their
 * parameters and executed in one round trip where the server can (MariaDB
 * 10.2+, mariadb_stmt_execute_direct). Every session is
 * set to utf8mb4 with the case-sensitive utf8mb4_bin collation for
 * literals (the tables' NO PAD collation is their own), strict SQL
 * mode (so bad values are errors, never silently zeroed) and time_zone UTC.
 */
#include "driver.h"
#include "names.h"

#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct my_conn {
    strata_conn base;
    MYSQL *my;
    int direct_exec; /* the server prepares and executes in one round trip */
    /* for KILL QUERY from a second connection (my_interrupt) */
    char *host, *user, *password;
    unsigned port;
    unsigned long thread_id;
} my_conn;

typedef struct my_rows {
    strata_rows base;
    /* text protocol */
    MYSQL_RES *res;
    /* prepared statement */
    MYSQL_STMT *stmt;
    MYSQL_BIND *binds;
    char **bufs;
    unsigned long *lengths;
    my_bool *nulls;
    /* per column */
    enum enum_field_types *types;
    int *binary;
} my_rows;

/* STRATA_ECONNECT for the errors that say the connection is gone (the
 * server went away or killed it), so callers know no later statement can
 * run; else EDB. */
static int my_error_code(unsigned err)
{
    switch (err) {
    case 2006: /* CR_SERVER_GONE_ERROR */
    case 2013: /* CR_SERVER_LOST */
    case 2055: /* CR_SERVER_LOST_EXTENDED */
    case 1927: /* ER_CONNECTION_KILLED */
    case 4031: /* MySQL 8: disconnected by the server */
        return STRATA_ECONNECT;
    default:
        return STRATA_EDB;
    }
}

static int my_error(my_conn *c)
{
    return strata_set_error(my_error_code(mysql_errno(c->my)), "ERROR %u (%s): %s",
                            mysql_errno(c->my), mysql_sqlstate(c->my), mysql_error(c->my));
}

static int my_stmt_error(MYSQL_STMT *st)
{
    return strata_set_error(my_error_code(mysql_stmt_errno(st)), "ERROR %u (%s): %s",
                            mysql_stmt_errno(st), mysql_stmt_sqlstate(st), mysql_stmt_error(st));
}

/* Version gates as (MariaDB, MySQL) minimums; 0 means "never". */
static int version_at_least(const strata_conn *c, int mariadb, int mysql)
{
    int need = c->is_mariadb ? mariadb : mysql;
    return need && c->server_version_num >= need;
}

/* The URL's parameters (url.c checked names and values) as client
 * options: timeouts (connect: 10 s unless given) and TLS. ssl-mode
 * PREFERRED asks for TLS and takes plain text from a server without it;
 * REQUIRED also refuses plain text (my_open checks); VERIFY_CA and
 * VERIFY_IDENTITY verify the server's certificate and host name (Connector/C
 * checks both together). Returns 1 when TLS is required. */
static int set_url_options(MYSQL *my, const strata_url *url)
{
    static const struct {
        const char *name;
        enum mysql_option opt;
    } paths[] = {
        {"ssl-ca", MYSQL_OPT_SSL_CA},           {"ssl-capath", MYSQL_OPT_SSL_CAPATH},
        {"ssl-cert", MYSQL_OPT_SSL_CERT},       {"ssl-key", MYSQL_OPT_SSL_KEY},
        {"ssl-cipher", MYSQL_OPT_SSL_CIPHER},   {"ssl-crl", MYSQL_OPT_SSL_CRL},
        {"ssl-crlpath", MYSQL_OPT_SSL_CRLPATH}, {"tls-version", MARIADB_OPT_TLS_VERSION},
    };
    static const struct {
        const char *name;
        enum mysql_option opt;
        unsigned def;
    } timeouts[] = {
        {"connect-timeout", MYSQL_OPT_CONNECT_TIMEOUT, 10},
        {"read-timeout", MYSQL_OPT_READ_TIMEOUT, 0},
        {"write-timeout", MYSQL_OPT_WRITE_TIMEOUT, 0},
    };
    for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
        const char *v = url_param_get(url, timeouts[i].name);
        unsigned t = v ? (unsigned)strtoul(v, NULL, 10) : timeouts[i].def;
        if (t)
            mysql_optionsv(my, timeouts[i].opt, &t);
    }
    int tls = 0;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const char *v = url_param_get(url, paths[i].name);
        if (v) {
            mysql_optionsv(my, paths[i].opt, v);
            tls = 1;
        }
    }
    const char *mode = url_param_get(url, "ssl-mode");
    my_bool yes = 1, no = 0;
    if (mode && strcasecmp(mode, "DISABLED") == 0) {
        mysql_optionsv(my, MYSQL_OPT_SSL_ENFORCE, &no);
        return 0;
    }
    if (tls || mode)
        mysql_optionsv(my, MYSQL_OPT_SSL_ENFORCE, &yes);
    int verify =
        mode && (strcasecmp(mode, "VERIFY_CA") == 0 || strcasecmp(mode, "VERIFY_IDENTITY") == 0);
    if (verify)
        mysql_optionsv(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
    return mode && (verify || strcasecmp(mode, "REQUIRED") == 0);
}

static void my_close(strata_conn *conn);

static int my_open(const strata_url *url, const char *masked, strata_conn **out)
{
    char *endpoint =
        xasprintf("%s:%d", url->host ? url->host : "localhost", url->port ? url->port : 3306);
    MYSQL *my = mysql_init(NULL);
    if (!my) {
        free(endpoint);
        return strata_set_error(STRATA_ECONNECT, "cannot initialise the MySQL client library");
    }
    my_bool on = 1;
    mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(my, MYSQL_OPT_LOCAL_INFILE, &on);
    int tls_required = set_url_options(my, url);
    if (!mysql_real_connect(my, url->host ? url->host : "localhost", url->user, url->password,
                            url->database, (unsigned)url->port, NULL,
                            CLIENT_MULTI_STATEMENTS | CLIENT_FOUND_ROWS)) {
        strata_set_error(STRATA_ECONNECT, "cannot connect to MySQL/MariaDB at %s (%s): %s",
                         endpoint, masked, mysql_error(my));
        mysql_close(my);
        free(endpoint);
        return STRATA_ECONNECT;
    }
    /* Connector/C falls back to plain text when the server has no TLS,
     * whatever was asked: ssl-mode=REQUIRED is checked here */
    if (tls_required && !mysql_get_ssl_cipher(my)) {
        strata_set_error(STRATA_ECONNECT,
                         "cannot connect to MySQL/MariaDB at %s (%s): the URL requires TLS "
                         "(ssl-mode=%s), but the server does not use SSL/TLS",
                         endpoint, masked, url_param_get(url, "ssl-mode"));
        mysql_close(my);
        free(endpoint);
        return STRATA_ECONNECT;
    }
    my_conn *c = xcalloc(1, sizeof *c);
    conn_init_common(&c->base, &strata_driver_mysql, url, masked, endpoint);
    free(endpoint);
    c->my = my;
    c->host = xstrdup(url->host ? url->host : "localhost");
    c->user = url->user ? xstrdup(url->user) : NULL;
    c->password = url->password ? xstrdup(url->password) : NULL;
    c->port = (unsigned)url->port;
    c->thread_id = mysql_thread_id(my);
    const char *info = mysql_get_server_info(my);
    if (str_starts(info, "5.5.5-"))
        info += 6;
    snprintf(c->base.server_version, sizeof c->base.server_version, "%s", info);
    c->base.is_mariadb = strstr(info, "MariaDB") != NULL;
    c->base.server_version_num = parse_version_num(info);
    /* the client library's test for mariadb_stmt_execute_direct: a MariaDB
     * server that takes bulk statement commands (10.2+) */
    unsigned long server_caps = 0, mariadb_caps = 0;
    if (mariadb_get_infov(my, MARIADB_CONNECTION_SERVER_CAPABILITIES, &server_caps) == 0 &&
        mariadb_get_infov(my, MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES, &mariadb_caps) == 0)
        c->direct_exec = !(server_caps & CLIENT_MYSQL) &&
                         (mariadb_caps & (MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32)) != 0;
    strata_conn *b = &c->base;
    b->caps = STRATA_CAP_DROP_COLUMN | STRATA_CAP_ADVISORY_LOCK | STRATA_CAP_ALTER_ADD_CONSTRAINT;
    if (version_at_least(b, 100502, 80003))
        b->caps |= STRATA_CAP_RENAME_COLUMN;
    if (version_at_least(b, 100201, 80016))
        b->caps |= STRATA_CAP_ENFORCED_CHECK;
    if (version_at_least(b, 100201, 80013))
        b->caps |= STRATA_CAP_EXPR_DEFAULT;
    if (version_at_least(b, 100303, 80023))
        b->caps |= STRATA_CAP_INVISIBLE_COLUMN;
    if (version_at_least(b, 100500, 0))
        b->caps |= STRATA_CAP_RETURNING;
    if (version_at_least(b, 100100, 0))
        b->caps |= STRATA_CAP_DROP_INDEX_IF_EXISTS;

    /* Literals stay utf8mb4_bin, what the JSON functions return: two
     * coercible strings of different collations cannot be compared, and a
     * column's own (NO PAD) collation wins over a literal's anyway. */
    const char *setup = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
                        "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', "
                        "time_zone = '+00:00', "
                        "NAMES utf8mb4 COLLATE utf8mb4_bin";
    if (mysql_query(my, setup) != 0) {
        strata_set_error(STRATA_ECONNECT, "cannot set up the session on %s: %s", c->base.endpoint,
                         mysql_error(my));
        my_close(&c->base);
        return STRATA_ECONNECT;
    }
    *out = &c->base;
    return 0;
}

static void my_close(strata_conn *conn)
{
    my_conn *c = (my_conn *)conn;
    mysql_close(c->my);
    if (c->password) {
        memset(c->password, 0, strlen(c->password));
        free(c->password);
    }
    free(c->host);
    free(c->user);
    conn_free_common(conn);
    free(c);
}

/* Consume every result of a (multi-)statement; the first error wins. */
static int drain_results(my_conn *c)
{
    for (;;) {
        MYSQL_RES *res = mysql_store_result(c->my);
        if (res)
            mysql_free_result(res);
        else if (mysql_field_count(c->my) != 0)
            return my_error(c);
        int st = mysql_next_result(c->my);
        if (st > 0)
            return my_error(c);
        if (st < 0)
            return 0;
    }
}

static int my_exec(strata_conn *conn, const char *sql)
{
    my_conn *c = (my_conn *)conn;
    if (mysql_real_query(c->my, sql, strlen(sql)) != 0)
        return my_error(c);
    return drain_results(c);
}

static int is_integer_type(enum enum_field_types t)
{
    return t == MYSQL_TYPE_TINY || t == MYSQL_TYPE_SHORT || t == MYSQL_TYPE_LONG ||
           t == MYSQL_TYPE_LONGLONG || t == MYSQL_TYPE_INT24 || t == MYSQL_TYPE_YEAR;
}

static int is_float_type(enum enum_field_types t)
{
    return t == MYSQL_TYPE_FLOAT || t == MYSQL_TYPE_DOUBLE;
}

/* Type a value read as text from its field type; tinyint(1) is boolean. */
static void type_value(strata_value *v, enum enum_field_types t, int binary)
{
    if (binary == 2) {
        v->type = STRATA_VBOOL;
        v->i = strtoll(v->s, NULL, 10) != 0;
    } else if (is_integer_type(t)) {
        v->type = STRATA_VINT;
        v->i = strtoll(v->s, NULL, 10);
    } else if (is_float_type(t)) {
        v->type = STRATA_VREAL;
        v->d = strtod(v->s, NULL);
    } else if (binary) {
        v->type = STRATA_VBLOB;
    } else {
        v->type = STRATA_VTEXT;
    }
}

/* 1 for binary strings, 2 for tinyint(1) (booleans), else 0. */
static int field_is_binary(const MYSQL_FIELD *f)
{
    if (f->type == MYSQL_TYPE_TINY && f->length == 1)
        return 2;
    switch (f->type) {
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_GEOMETRY:
        return f->charsetnr == 63;
    default:
        return 0;
    }
}

static int my_rows_next(strata_rows *rows)
{
    my_rows *r = (my_rows *)rows;
    if (r->res) {
        MYSQL_ROW row = mysql_fetch_row(r->res);
        if (!row)
            return 0;
        unsigned long *lens = mysql_fetch_lengths(r->res);
        for (size_t i = 0; i < rows->ncols; i++) {
            strata_value *v = &rows->values[i];
            memset(v, 0, sizeof *v);
            if (!row[i]) {
                v->type = STRATA_VNULL;
                continue;
            }
            v->s = row[i];
            v->len = lens[i];
            type_value(v, r->types[i], r->binary[i]);
        }
        return 1;
    }
    int st = mysql_stmt_fetch(r->stmt);
    if (st == MYSQL_NO_DATA)
        return 0;
    if (st == 1)
        return my_stmt_error(r->stmt);
    /* Buffers were sized from max_length, so MYSQL_DATA_TRUNCATED does not
     * happen; guard anyway by refetching any truncated column. */
    for (size_t i = 0; i < rows->ncols; i++) {
        strata_value *v = &rows->values[i];
        memset(v, 0, sizeof *v);
        if (r->nulls[i]) {
            v->type = STRATA_VNULL;
            continue;
        }
        if (r->binds[i].buffer_type == MYSQL_TYPE_LONGLONG) {
            long long x;
            memcpy(&x, r->bufs[i], sizeof x);
            snprintf(r->bufs[i] + 16, 48, "%lld", x);
            v->type = r->binary[i] == 2 ? STRATA_VBOOL : STRATA_VINT;
            v->i = r->binary[i] == 2 ? x != 0 : x;
            v->s = r->bufs[i] + 16;
            v->len = strlen(v->s);
            continue;
        }
        if (r->binds[i].buffer_type == MYSQL_TYPE_DOUBLE) {
            double x;
            memcpy(&x, r->bufs[i], sizeof x);
            snprintf(r->bufs[i] + 16, 48, "%.17g", x);
            v->type = STRATA_VREAL;
            v->d = x;
            v->s = r->bufs[i] + 16;
            v->len = strlen(v->s);
            continue;
        }
        if (r->lengths[i] >= r->binds[i].buffer_length) {
            r->bufs[i] = xrealloc(r->bufs[i], r->lengths[i] + 1);
            r->binds[i].buffer = r->bufs[i];
            r->binds[i].buffer_length = r->lengths[i] + 1;
            if (mysql_stmt_fetch_column(r->stmt, &r->binds[i], (unsigned)i, 0) != 0)
                return my_stmt_error(r->stmt);
        }
        r->bufs[i][r->lengths[i]] = '\0';
        v->s = r->bufs[i];
        v->len = r->lengths[i];
        type_value(v, r->types[i], r->binary[i]);
    }
    return 1;
}

static void my_rows_free(strata_rows *rows)
{
    my_rows *r = (my_rows *)rows;
    if (r->res)
        mysql_free_result(r->res);
    if (r->stmt)
        mysql_stmt_close(r->stmt);
    if (r->bufs)
        for (size_t i = 0; i < rows->ncols; i++)
            free(r->bufs[i]);
    free(r->bufs);
    free(r->binds);
    free(r->lengths);
    free(r->nulls);
    free(r->types);
    free(r->binary);
    rows_free_common(rows);
    free(r);
}

static my_rows *rows_new(size_t ncols)
{
    my_rows *r = xcalloc(1, sizeof *r);
    r->base.next = my_rows_next;
    r->base.free = my_rows_free;
    rows_init_common(&r->base, ncols);
    r->types = xcalloc(ncols + 1, sizeof *r->types);
    r->binary = xcalloc(ncols + 1, sizeof *r->binary);
    return r;
}

static int query_text(my_conn *c, const char *sql, strata_rows **out, int64_t *affected)
{
    if (mysql_real_query(c->my, sql, strlen(sql)) != 0)
        return my_error(c);
    MYSQL_RES *res = mysql_store_result(c->my);
    if (!res && mysql_field_count(c->my) != 0)
        return my_error(c);
    if (affected)
        *affected = res ? (int64_t)mysql_num_rows(res) : (int64_t)mysql_affected_rows(c->my);
    /* Consume any further results of a multi-statement string. */
    while (mysql_more_results(c->my)) {
        if (mysql_next_result(c->my) > 0) {
            if (res)
                mysql_free_result(res);
            return my_error(c);
        }
        MYSQL_RES *extra = mysql_store_result(c->my);
        if (extra)
            mysql_free_result(extra);
    }
    size_t ncols = res ? mysql_num_fields(res) : 0;
    my_rows *r = rows_new(ncols);
    r->res = res;
    if (res) {
        MYSQL_FIELD *fields = mysql_fetch_fields(res);
        for (size_t i = 0; i < ncols; i++) {
            r->base.colnames[i] = xstrdup(fields[i].name);
            r->types[i] = fields[i].type;
            r->binary[i] = field_is_binary(&fields[i]);
        }
    }
    if (out)
        *out = &r->base;
    else
        my_rows_free(&r->base);
    return 0;
}

/* A statement with `?` parameters runs as a server-side prepared statement,
 * bound with typed values; its rows are stored client-side and read back
 * through the bound result buffers. Without parameters: the text protocol. */
static int my_query(strata_conn *conn, const char *sql, const strata_value *params, size_t n,
                    strata_rows **out, int64_t *affected)
{
    my_conn *c = (my_conn *)conn;
    if (n == 0)
        return query_text(c, sql, out, affected);
    size_t found = count_placeholders(sql, STRATA_MYSQL);
    if (found != n)
        return strata_set_error(STRATA_EINPUT, "statement has %zu placeholders but %zu values: %s",
                                found, n, sql);
    MYSQL_STMT *st = mysql_stmt_init(c->my);
    if (!st)
        return my_error(c);
    /* A statement is prepared, executed once and closed. Preparing and
     * executing are two round trips; MariaDB 10.2+ takes both in one (the
     * runner records its progress this way after every operation). The
     * client library does not send them together over compression. */
    int direct = c->direct_exec && !c->my->net.compress;
    if (!direct && mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
        int rc = my_stmt_error(st);
        mysql_stmt_close(st);
        return rc;
    }
    MYSQL_BIND *pb = xcalloc(n, sizeof *pb);
    long long *ints = xcalloc(n, sizeof *ints);
    double *reals = xcalloc(n, sizeof *reals);
    char *tinies = xcalloc(n, 1);
    unsigned long *lens = xcalloc(n, sizeof *lens);
    for (size_t i = 0; i < n; i++) {
        const strata_value *v = &params[i];
        switch (v->type) {
        case STRATA_VNULL:
            pb[i].buffer_type = MYSQL_TYPE_NULL;
            break;
        case STRATA_VINT:
            ints[i] = v->i;
            pb[i].buffer_type = MYSQL_TYPE_LONGLONG;
            pb[i].buffer = &ints[i];
            break;
        case STRATA_VREAL:
            reals[i] = v->d;
            pb[i].buffer_type = MYSQL_TYPE_DOUBLE;
            pb[i].buffer = &reals[i];
            break;
        case STRATA_VBOOL:
            tinies[i] = v->i ? 1 : 0;
            pb[i].buffer_type = MYSQL_TYPE_TINY;
            pb[i].buffer = &tinies[i];
            break;
        case STRATA_VTEXT:
        case STRATA_VBLOB:
            lens[i] = (unsigned long)v->len;
            pb[i].buffer_type = v->type == STRATA_VTEXT ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
            pb[i].buffer = (void *)(v->s ? v->s : "");
            pb[i].buffer_length = lens[i];
            pb[i].length = &lens[i];
            break;
        }
    }
    int rc = 0;
    unsigned int count = (unsigned int)n;
    if (direct && mysql_stmt_attr_set(st, STMT_ATTR_PREBIND_PARAMS, &count) != 0)
        rc = my_stmt_error(st);
    else if (mysql_stmt_bind_param(st, pb) != 0)
        rc = my_stmt_error(st);
    else if ((direct ? mariadb_stmt_execute_direct(st, sql, strlen(sql))
                     : mysql_stmt_execute(st)) != 0)
        rc = my_stmt_error(st);
    free(pb);
    free(ints);
    free(reals);
    free(tinies);
    free(lens);
    if (rc) {
        mysql_stmt_close(st);
        return rc;
    }
    if (affected)
        *affected = (int64_t)mysql_stmt_affected_rows(st);
    MYSQL_RES *meta = mysql_stmt_result_metadata(st);
    size_t ncols = meta ? mysql_num_fields(meta) : 0;
    my_rows *r = rows_new(ncols);
    r->stmt = st;
    if (meta) {
        my_bool update_max = 1;
        mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
        if (mysql_stmt_store_result(st) != 0) {
            rc = my_stmt_error(st);
            mysql_free_result(meta);
            my_rows_free(&r->base);
            return rc;
        }
        if (affected)
            *affected = (int64_t)mysql_stmt_num_rows(st);
        MYSQL_FIELD *fields = mysql_fetch_fields(meta);
        r->binds = xcalloc(ncols, sizeof *r->binds);
        r->bufs = xcalloc(ncols, sizeof *r->bufs);
        r->lengths = xcalloc(ncols, sizeof *r->lengths);
        r->nulls = xcalloc(ncols, sizeof *r->nulls);
        for (size_t i = 0; i < ncols; i++) {
            r->base.colnames[i] = xstrdup(fields[i].name);
            r->types[i] = fields[i].type;
            r->binary[i] = field_is_binary(&fields[i]);
            unsigned long size = fields[i].max_length + 1;
            if (size < 64)
                size = 64;
            r->bufs[i] = xmalloc(size);
            if (is_integer_type(fields[i].type) &&
                !(fields[i].flags & UNSIGNED_FLAG && fields[i].type == MYSQL_TYPE_LONGLONG))
                r->binds[i].buffer_type = MYSQL_TYPE_LONGLONG;
            else if (is_float_type(fields[i].type))
                r->binds[i].buffer_type = MYSQL_TYPE_DOUBLE;
            else
                r->binds[i].buffer_type = r->binary[i] == 1 ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
            r->binds[i].buffer = r->bufs[i];
            r->binds[i].buffer_length = size;
            r->binds[i].length = &r->lengths[i];
            r->binds[i].is_null = &r->nulls[i];
        }
        mysql_free_result(meta);
        if (mysql_stmt_bind_result(st, r->binds) != 0) {
            rc = my_stmt_error(st);
            my_rows_free(&r->base);
            return rc;
        }
    }
    if (out)
        *out = &r->base;
    else
        my_rows_free(&r->base);
    return 0;
}

static int my_begin(strata_conn *conn)
{
    return my_exec(conn, "START TRANSACTION");
}

static int my_commit(strata_conn *conn)
{
    return my_exec(conn, "COMMIT");
}

static int my_rollback(strata_conn *conn)
{
    return my_exec(conn, "ROLLBACK");
}

/* ---- bulk loading ----
 *
 * LOAD DATA LOCAL INFILE with the rows streamed from memory through the
 * client library's local-infile callbacks (no file is written), in the
 * default tab-separated format with backslash escapes and \N for NULL. With
 * LOCAL the server turns duplicate-key and conversion errors into warnings
 * (it cannot stop the client mid-stream), so any warning, or fewer rows
 * taken than sent, is made an error here; the caller rolls back. Where the
 * server refuses LOCAL (local_infile=OFF), multi-row INSERTs are used.
 */

#define INFILE_CHUNK  (256 * 1024)
#define INSERT_PACKET (1024 * 1024)

typedef struct my_infile {
    strata_bulk_next next;
    void *ctx;
    size_t ncols;
    strata_value *row;
    sbuf buf;   /* encoded rows not yet handed to the library */
    size_t off; /* how much of buf was handed over */
    int eof;
    int src_rc; /* <0: the row source failed */
    char *src_msg;
    int src_code;
    int64_t sent;
} my_infile;

static void infile_encode(sbuf *b, const strata_value *v)
{
    switch (v->type) {
    case STRATA_VNULL:
        sbuf_addn(b, "\\N", 2);
        return;
    case STRATA_VINT:
    case STRATA_VBOOL:
        sbuf_addf(b, "%lld", (long long)v->i);
        return;
    case STRATA_VREAL:
        sbuf_addf(b, "%.17g", v->d);
        return;
    case STRATA_VTEXT:
    case STRATA_VBLOB:
        tsv_escape_into(b, v->s, v->len, 1);
        return;
    }
}

static int infile_init(void **ptr, const char *filename, void *userdata)
{
    (void)filename;
    *ptr = userdata;
    return 0;
}

static int infile_read(void *ptr, char *out, unsigned int len)
{
    my_infile *f = ptr;
    while (f->buf.len - f->off == 0 && !f->eof) {
        sbuf_reset(&f->buf);
        f->off = 0;
        while (f->buf.len < INFILE_CHUNK) {
            int rc = f->next(f->ctx, f->row);
            if (rc <= 0) {
                f->eof = 1;
                if (rc < 0) {
                    f->src_rc = rc;
                    f->src_code = strata_error_code();
                    f->src_msg = xstrdup(strata_error_message());
                    return -1;
                }
                break;
            }
            for (size_t i = 0; i < f->ncols; i++) {
                if (i)
                    sbuf_addc(&f->buf, '\t');
                infile_encode(&f->buf, &f->row[i]);
            }
            sbuf_addc(&f->buf, '\n');
            f->sent++;
        }
    }
    size_t n = f->buf.len - f->off;
    if (n > len)
        n = len;
    if (n)
        memcpy(out, f->buf.p + f->off, n);
    f->off += n;
    return (int)n;
}

static void infile_end(void *ptr)
{
    (void)ptr;
}

static int infile_error(void *ptr, char *msg, unsigned int len)
{
    my_infile *f = ptr;
    snprintf(msg, len, "%s", f->src_msg ? f->src_msg : "the row source failed");
    return 2000; /* CR_UNKNOWN_ERROR */
}

/* The first warnings of the last statement, as one line. */
static char *warnings_text(my_conn *c)
{
    sbuf b = SBUF_INIT;
    if (mysql_query(c->my, "SHOW WARNINGS LIMIT 3") == 0) {
        MYSQL_RES *res = mysql_store_result(c->my);
        MYSQL_ROW r;
        while (res && (r = mysql_fetch_row(res)) != NULL)
            sbuf_addf(&b, "%s%s %s: %s", b.len ? "; " : "", r[0] ? r[0] : "", r[1] ? r[1] : "",
                      r[2] ? r[2] : "");
        if (res)
            mysql_free_result(res);
    }
    return sbuf_detach(&b);
}

static char *column_list(const char *const *cols, size_t ncols)
{
    sbuf b = SBUF_INIT;
    sbuf_addc(&b, '(');
    quote_ident_list_into(&b, STRATA_MYSQL, cols, ncols);
    sbuf_addc(&b, ')');
    return sbuf_detach(&b);
}

static void insert_literal(my_conn *c, sbuf *b, const strata_value *v, sbuf *tmp)
{
    switch (v->type) {
    case STRATA_VNULL:
        sbuf_add(b, "NULL");
        return;
    case STRATA_VINT:
    case STRATA_VBOOL:
        sbuf_addf(b, "%lld", (long long)v->i);
        return;
    case STRATA_VREAL:
        sbuf_addf(b, "%.17g", v->d);
        return;
    case STRATA_VTEXT:
    case STRATA_VBLOB: {
        size_t need = v->len * 2 + 1;
        if (tmp->cap < need) {
            tmp->p = xrealloc(tmp->p, need);
            tmp->cap = need;
        }
        unsigned long n = mysql_real_escape_string(c->my, tmp->p, v->s ? v->s : "", v->len);
        sbuf_add(b, v->type == STRATA_VBLOB ? "_binary'" : "'");
        sbuf_addn(b, tmp->p, n);
        sbuf_addc(b, '\'');
        return;
    }
    }
}

/* The fallback: multi-row INSERT statements of about a megabyte each. */
static int my_bulk_insert(my_conn *c, const char *table, const char *const *cols, size_t ncols,
                          strata_bulk_next next, void *ctx, int64_t *loaded)
{
    char *qt = strata_quote_ident(STRATA_MYSQL, table);
    char *cl = column_list(cols, ncols);
    char *head = xasprintf("INSERT INTO %s %s VALUES ", qt, cl);
    free(qt);
    free(cl);
    strata_value *row = xcalloc(ncols + 1, sizeof *row);
    sbuf b = SBUF_INIT, tmp = SBUF_INIT;
    int rc = 0, src;
    size_t inbatch = 0;
    for (;;) {
        src = next(ctx, row);
        if (src > 0) {
            sbuf_add(&b, inbatch ? ",(" : head);
            if (!inbatch)
                sbuf_addc(&b, '(');
            for (size_t i = 0; i < ncols; i++) {
                if (i)
                    sbuf_addc(&b, ',');
                insert_literal(c, &b, &row[i], &tmp);
            }
            sbuf_addc(&b, ')');
            inbatch++;
        }
        if (inbatch && (src <= 0 || b.len >= INSERT_PACKET)) {
            if (mysql_real_query(c->my, b.p, b.len) != 0) {
                rc =
                    strata_set_error(STRATA_EDB, "loading table '%s': ERROR %u (%s): %s", table,
                                     mysql_errno(c->my), mysql_sqlstate(c->my), mysql_error(c->my));
                break;
            }
            if (loaded)
                *loaded += (int64_t)mysql_affected_rows(c->my);
            sbuf_reset(&b);
            inbatch = 0;
        }
        if (src <= 0) {
            if (src < 0)
                rc = src;
            break;
        }
    }
    free(row);
    free(head);
    sbuf_free(&b);
    sbuf_free(&tmp);
    return rc;
}

static int my_bulk_load(strata_conn *conn, const char *table, const char *const *cols, size_t ncols,
                        strata_bulk_next next, void *ctx, int64_t *loaded)
{
    my_conn *c = (my_conn *)conn;
    if (loaded)
        *loaded = 0;
    my_infile f;
    memset(&f, 0, sizeof f);
    f.next = next;
    f.ctx = ctx;
    f.ncols = ncols;
    f.row = xcalloc(ncols + 1, sizeof *f.row);
    char *qt = strata_quote_ident(STRATA_MYSQL, table);
    char *cl = column_list(cols, ncols);
    char *sql = xasprintf("LOAD DATA LOCAL INFILE 'strata-seed' INTO TABLE %s CHARACTER SET "
                          "utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES "
                          "TERMINATED BY '\\n' %s",
                          qt, cl);
    free(qt);
    free(cl);
    mysql_set_local_infile_handler(c->my, infile_init, infile_read, infile_end, infile_error, &f);
    int qrc = mysql_real_query(c->my, sql, strlen(sql));
    mysql_set_local_infile_default(c->my);
    free(sql);
    int rc = 0;
    if (f.src_rc < 0) {
        /* The row source failed: its message, not the server's. */
        rc = strata_set_error(f.src_code ? f.src_code : STRATA_EINPUT, "%s", f.src_msg);
        if (qrc == 0)
            drain_results(c);
    } else if (qrc != 0) {
        unsigned err = mysql_errno(c->my);
        if (f.sent == 0 && !f.eof && (err == 1148 || err == 3948 || err == 4166)) {
            /* LOCAL INFILE refused by the server: use INSERTs. */
            free(f.row);
            sbuf_free(&f.buf);
            return my_bulk_insert(c, table, cols, ncols, next, ctx, loaded);
        }
        rc = strata_set_error(STRATA_EDB, "loading table '%s': ERROR %u (%s): %s", table, err,
                              mysql_sqlstate(c->my), mysql_error(c->my));
    } else {
        int64_t took = (int64_t)mysql_affected_rows(c->my);
        unsigned warnings = mysql_warning_count(c->my);
        if (loaded)
            *loaded = took;
        if (warnings || took != f.sent) {
            char *w = warnings_text(c);
            rc = strata_set_error(STRATA_EDB,
                                  "loading table '%s': the server took %lld of %lld rows%s%s",
                                  table, (long long)took, (long long)f.sent, *w ? ": " : "", w);
            free(w);
        }
    }
    free(f.row);
    free(f.src_msg);
    sbuf_free(&f.buf);
    return rc;
}

static int my_table_exists(strata_conn *conn, const char *name, int *exists)
{
    strata_value v = strata_vtext(name);
    char *out = NULL;
    int rc = strata_conn_query_string(conn,
                                      "SELECT 1 FROM information_schema.tables WHERE table_schema "
                                      "= DATABASE() AND table_name = ?",
                                      &v, 1, &out);
    *exists = out != NULL;
    free(out);
    return rc;
}

/* ---- session locks: GET_LOCK ---- */

/* The GET_LOCK name of lock `name`: "<name>:<database>" (lock names are
 * server-wide), shortened to the server's 64 characters the way long
 * identifiers are. */
static char *my_lock_name(const strata_conn *conn, const char *name)
{
    char *full = conn_lock_scoped_name(conn, name);
    char *n = name_shorten(full);
    free(full);
    return n;
}

static int my_lock_try(strata_conn *conn, const char *name, double wait, lock_state *state)
{
    char *lock = my_lock_name(conn, name);
    /* GET_LOCK waits whole seconds */
    strata_value args[2] = {strata_vtext(lock), strata_vint((long long)(wait + 0.999))};
    char *got = NULL;
    int rc = strata_conn_query_string(conn, "SELECT GET_LOCK(?, ?)", args, 2, &got);
    free(lock);
    /* 1: taken; 0: still held when the wait ran out; NULL: the wait failed
     * (say, it was killed) */
    if (!rc)
        *state = got && strcmp(got, "1") == 0 ? LOCK_TAKEN : LOCK_HELD;
    free(got);
    return rc;
}

static int my_unlock(strata_conn *conn, const char *name)
{
    char *lock = my_lock_name(conn, name);
    strata_value v = strata_vtext(lock);
    int rc = strata_conn_execp(conn, "SELECT RELEASE_LOCK(?)", &v, 1, NULL);
    free(lock);
    return rc;
}

/* The id of the connection that holds lock `name` (*id NULL: none). */
static int my_lock_owner(strata_conn *conn, const char *name, char **id)
{
    char *lock = my_lock_name(conn, name);
    strata_value v = strata_vtext(lock);
    int rc = strata_conn_query_string(conn, "SELECT IS_USED_LOCK(?)", &v, 1, id);
    free(lock);
    return rc;
}

/* Who holds the lock: connection id, account, and what it is doing. */
static int my_lock_holder(strata_conn *conn, const char *name, char **who)
{
    char *id = NULL;
    int rc = my_lock_owner(conn, name, &id);
    if (rc || !id)
        return rc;
    strata_value v = strata_vtext(id);
    char *info = NULL;
    rc = strata_conn_query_string(
        conn,
        "SELECT CONCAT('connection ', ID, ' (', USER, '@', HOST, ', ', TIME, ' s in ', "
        "COMMAND, ')') FROM information_schema.PROCESSLIST WHERE ID = ?",
        &v, 1, &info);
    if (!rc)
        *who = info ? info : xasprintf("connection %s", id);
    free(id);
    return rc;
}

static int my_lock_break(strata_conn *conn, const char *name, char **who)
{
    int rc = my_lock_holder(conn, name, who);
    if (rc || !*who)
        return rc;
    char *id = NULL;
    rc = my_lock_owner(conn, name, &id);
    if (!rc && id) {
        char *q = xasprintf("KILL %lld", strtoll(id, NULL, 10));
        rc = my_exec(conn, q);
        free(q);
    }
    free(id);
    return rc;
}

static char *my_lock_label(strata_conn *conn, const char *name)
{
    char *lock = my_lock_name(conn, name);
    char *label = xasprintf("'%s'", lock);
    free(lock);
    return label;
}

/* KILL QUERY from a second connection, as the mariadb client's Ctrl-C
 * does: the statement fails, the session goes on (a rollback, an undo).
 * Nothing here touches the first connection's MYSQL handle. */
static void my_interrupt(strata_conn *conn)
{
    my_conn *c = (my_conn *)conn;
    MYSQL *k = mysql_init(NULL);
    if (!k)
        return;
    unsigned int timeout = 10;
    mysql_options(k, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (mysql_real_connect(k, c->host, c->user, c->password, NULL, c->port, NULL, 0)) {
        char sql[64];
        snprintf(sql, sizeof sql, "KILL QUERY %lu", c->thread_id);
        mysql_query(k, sql); /* a statement that just ended: nothing to kill */
    }
    mysql_close(k);
}

/* ---- Galera ---- */

/*
 * A MariaDB Galera node is recognised by wsrep_on. Read from SHOW
 * VARIABLES, which every MySQL and MariaDB has (a plain server simply lists
 * none of the wsrep variables), and the session's own values: wsrep_on and
 * wsrep_OSU_method are per session. On a node, this session's reads and
 * updates then wait until the node has applied every write set committed
 * before them (wsrep_sync_wait = 1 | 2): without it a read on one node
 * right after a commit on another saw the old data in 11-45 % of reads on
 * this machine (docs/locking.md). The node is the server's host name and
 * port.
 */
static int my_cluster_info(strata_conn *conn, cluster_info *out)
{
    strata_rows *rows;
    int rc = query_text((my_conn *)conn,
                        "SHOW VARIABLES WHERE Variable_name IN ('hostname', 'port', 'wsrep_on', "
                        "'wsrep_osu_method', 'wsrep_mode', 'wsrep_max_ws_size', "
                        "'wsrep_max_ws_rows')",
                        &rows, NULL);
    if (rc)
        return strata_error_prefix("reading the server's replication settings: ");
    const char *host = "?", *port = "?";
    char hostbuf[128] = "", portbuf[16] = "";
    while (strata_rows_next(rows) == 1) {
        const char *name = strata_rows_text(rows, 0), *value = strata_rows_text(rows, 1);
        if (!name || !value)
            continue;
        if (!strcmp(name, "hostname"))
            host = strncpy(hostbuf, value, sizeof hostbuf - 1);
        else if (!strcmp(name, "port"))
            port = strncpy(portbuf, value, sizeof portbuf - 1);
        else if (!strcmp(name, "wsrep_on"))
            out->galera = !strcmp(value, "ON") || !strcmp(value, "1");
        else if (!strcmp(name, "wsrep_osu_method"))
            snprintf(out->osu_method, sizeof out->osu_method, "%s", value);
        else if (!strcmp(name, "wsrep_mode"))
            out->required_pk = strstr(value, "REQUIRED_PRIMARY_KEY") != NULL;
        else if (!strcmp(name, "wsrep_max_ws_size"))
            out->max_ws_bytes = strtoll(value, NULL, 10);
        else if (!strcmp(name, "wsrep_max_ws_rows"))
            out->max_ws_rows = strtoll(value, NULL, 10);
    }
    strata_rows_free(rows);
    snprintf(out->node, sizeof out->node, "%s:%s", host, port);
    if (!out->galera)
        return 0;
    char *size = NULL;
    rc = strata_conn_query_string(conn,
                                  "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                                  "WHERE VARIABLE_NAME = 'WSREP_CLUSTER_SIZE'",
                                  NULL, 0, &size);
    if (!rc && size)
        out->galera_nodes = atoi(size);
    free(size);
    if (!rc)
        rc = my_exec(conn, "SET SESSION wsrep_sync_wait = 3");
    if (rc)
        strata_error_prefix("setting up the session on Galera node %s: ", out->node);
    return rc;
}

const strata_driver strata_driver_mysql = {
    .name = "mysql",
    .dialect = STRATA_MYSQL,
    .flags = DRIVER_SESSION_LOCK,
    .open = my_open,
    .close = my_close,
    .exec = my_exec,
    .query = my_query,
    .begin = my_begin,
    .commit = my_commit,
    .rollback = my_rollback,
    .bulk_load = my_bulk_load,
    .table_exists = my_table_exists,
    .lock_try = my_lock_try,
    .unlock = my_unlock,
    .lock_holder = my_lock_holder,
    .lock_break = my_lock_break,
    .lock_label = my_lock_label,
    .interrupt = my_interrupt,
    .cluster_info = my_cluster_info,
};
