/*
 * driver.h - the driver interface: how libstrata talks to one kind of
 * database. A driver is a table of function pointers (after APR's apr_dbd and
 * libzdb); each driver file fills one in and knows nothing of the others, nor
 * of migrations. The generic entry points in driver.c check arguments, keep
 * the transaction flag and dispatch here.
 */
#ifndef STRATA_DRIVER_H
#define STRATA_DRIVER_H

#include "strata.h"
#include "util.h"
#include "dialect.h"

typedef struct strata_driver strata_driver;

/* A row source for bulk loading: fill `row` (one value per column, valid
 * until the next call) and return 1, or 0 at the end, or <0 on an error
 * (with its message set). */
typedef int (*strata_bulk_next)(void *ctx, strata_value *row);

/* The common head of every driver's connection struct. */
struct strata_conn {
    const strata_driver *drv;
    strata_dialect dialect;
    char *url_masked;
    char *database;
    char *endpoint; /* "host:port" or the SQLite file, for messages */
    char server_version[96];
    int server_version_num;
    int is_mariadb;
    unsigned caps;
    int in_tx;
};

/* The common head of every driver's result cursor. */
struct strata_rows {
    int (*next)(strata_rows *rows);
    void (*free)(strata_rows *rows);
    size_t ncols;
    char **colnames;
    strata_value *values; /* ncols values of the current row */
};

struct strata_driver {
    const char *name;
    strata_dialect dialect;
    /* Connect; on failure set an ECONNECT error naming endpoint and server words. */
    int (*open)(const strata_url *url, const char *masked, strata_conn **out);
    void (*close)(strata_conn *conn);
    /* One or more statements without results. */
    int (*exec)(strata_conn *conn, const char *sql);
    /* One statement with `?` parameters; returns rows (possibly none). */
    int (*query)(strata_conn *conn, const char *sql, const strata_value *params, size_t n,
                 strata_rows **out, int64_t *affected);
    int (*begin)(strata_conn *conn);
    int (*commit)(strata_conn *conn);
    int (*rollback)(strata_conn *conn);
    /* Bulk loading (optional: NULL when the driver has no fast path). Load
     * the rows `next` produces into `table` (columns `cols`) with the
     * database's own bulk protocol, inside the caller's transaction if one is
     * open. *loaded gets the number of rows the database took. On an error of
     * `next` (<0, message set) the load is abandoned and that error returned;
     * the caller rolls back. */
    int (*bulk_load)(strata_conn *conn, const char *table, const char *const *cols, size_t ncols,
                     strata_bulk_next next, void *ctx, int64_t *loaded);
};

extern const strata_driver strata_driver_postgres;
extern const strata_driver strata_driver_mysql;
extern const strata_driver strata_driver_sqlite;

/* Helpers for drivers. */
void conn_init_common(strata_conn *c, const strata_driver *drv, const strata_url *url,
                      const char *masked, const char *endpoint);
void conn_free_common(strata_conn *c);
/* Allocate the column-name and value arrays of a cursor. */
void rows_init_common(strata_rows *r, size_t ncols);
void rows_free_common(strata_rows *r);
/* Append a field of tab-separated text for COPY / LOAD DATA: backslash,
 * newline, carriage return and tab (and NUL when `nul`) as \\ \n \r \t
 * (\0). */
void tsv_escape_into(sbuf *b, const char *s, size_t len, int nul);
/* Trim trailing whitespace/newlines from a server message (in place). */
char *trim_message(char *msg);
/* Parse "15.18" / "10.11.6-MariaDB" into major*10000+minor*100+patch. */
int parse_version_num(const char *s);
/* Rewrite `?` placeholders as $1, $2, ... outside quotes and comments. */
char *rewrite_placeholders_pg(const char *sql, size_t *count);
/* Count `?` placeholders outside quotes and comments. */
size_t count_placeholders(const char *sql, strata_dialect d);

#endif /* STRATA_DRIVER_H */
