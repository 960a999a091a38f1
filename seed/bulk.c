/*
 * bulk.c - one stream of rows into one table. The drivers' bulk loaders do
 * the work (PostgreSQL COPY, MySQL LOAD DATA LOCAL INFILE from memory or
 * multi-row INSERTs, SQLite one prepared INSERT); a driver without one gets
 * row-at-a-time parameterised INSERTs, which are correct, only slower.
 */
#include "seed.h"

#include <stdlib.h>

static int insert_rows(strata_conn *conn, const char *table, const char *const *cols, size_t ncols,
                       seed_next_row next, void *ctx, int64_t *loaded)
{
    strata_dialect d = strata_conn_dialect(conn);
    sbuf sql = SBUF_INIT;
    insert_sql_into(&sql, d, table, cols, ncols);
    strata_value *row = xcalloc(ncols + 1, sizeof *row);
    int rc = 0, src;
    while ((src = next(ctx, row)) > 0) {
        rc = strata_conn_execp(conn, sbuf_str(&sql), row, ncols, NULL);
        if (rc) {
            strata_error_prefix("loading table '%s': ", table);
            break;
        }
        ++*loaded;
    }
    if (src < 0 && !rc)
        rc = src;
    free(row);
    sbuf_free(&sql);
    return rc;
}

static int load_some(strata_conn *conn, const char *table, const char *const *cols, size_t ncols,
                     seed_next_row next, void *ctx, int64_t *loaded)
{
    *loaded = 0;
    if (conn->drv->bulk_load)
        return conn->drv->bulk_load(conn, table, cols, ncols, next, ctx, loaded);
    return insert_rows(conn, table, cols, ncols, next, ctx, loaded);
}

/* A row source that ends early once the transaction's budget is spent. */
typedef struct budgeted {
    seed_next_row next;
    void *ctx;
    size_t ncols;
    seed_split *split;
    int spent; /* ended for the budget, not for the rows */
} budgeted;

static int budgeted_next(void *arg, strata_value *row)
{
    budgeted *b = arg;
    if (b->split->used >= b->split->budget) {
        b->spent = 1;
        return 0;
    }
    int rc = b->next(b->ctx, row);
    if (rc > 0) {
        long long bytes = 16;
        for (size_t i = 0; i < b->ncols; i++)
            bytes += row[i].type == STRATA_VTEXT || row[i].type == STRATA_VBLOB
                         ? (long long)row[i].len
                         : 8;
        b->split->used += bytes;
    }
    return rc;
}

int seed_bulk_load(strata_conn *conn, const char *table, const char *const *cols, size_t ncols,
                   seed_next_row next, void *ctx, int64_t *loaded, seed_split *split)
{
    if (!split || split->budget <= 0)
        return load_some(conn, table, cols, ncols, next, ctx, loaded);
    *loaded = 0;
    budgeted b = {next, ctx, ncols, split, 0};
    for (;;) {
        int64_t n = 0;
        b.spent = 0;
        int rc = load_some(conn, table, cols, ncols, budgeted_next, &b, &n);
        *loaded += n;
        if (rc || !b.spent)
            return rc;
        rc = seed_split_commit(conn, split);
        if (rc)
            return rc;
    }
}
