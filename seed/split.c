/*
 * split.c - a seed that one transaction cannot hold.
 *
 * A seed loads in one transaction, so that an error leaves the database as
 * it was. On a Galera cluster one transaction's write set is limited
 * (wsrep_max_ws_size, 2 GB by default, often set lower; wsrep_max_ws_rows):
 * a bigger one fails at COMMIT, after all the work. So before anything is
 * written, the seed's size is estimated (the JSON text of its rows, the size
 * of its CSV and NDJSON files); over 3/4 of the limit it is refused with a
 * clear error, unless the caller allowed a non-atomic seed
 * (strata_seed_options.non_atomic, `strata seed --non-atomic`): then it is
 * committed in parts of at most a quarter of the limit (seed_bulk_load
 * commits between rows), and a failure leaves the parts already committed.
 * A hot standby is refused here too, before the first write.
 */
#include "load.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The bytes of one row of the document: its values, not its nested rows
 * ($children, $insert: counted as items of their own). */
static long long item_bytes(const seed_item *it)
{
    long long n = 16;
    const char *key;
    json_t *v;
    json_object_foreach(it->row, key, v)
    {
        if (key[0] == '$')
            continue;
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        n += (long long)strlen(key) + (text ? (long long)strlen(text) : 0);
        free(text);
    }
    return n;
}

/* The seed's rows in bytes and in number (file rows by their size only;
 * the rows of a streamed document that are not kept in memory by the text
 * of their lists, read in phase 1). */
static void seed_estimate(const seed_ctx *c, long long *bytes, long long *rows)
{
    *bytes = 0;
    *rows = (long long)c->nitems;
    for (size_t i = 0; i < c->nitems; i++)
        if (!c->items[i]->in_block)
            *bytes += item_bytes(c->items[i]);
    for (size_t i = 0; i < c->ntables; i++)
        for (size_t b = 0; b < c->tables[i]->nblocks; b++) {
            const seed_block *bl = &c->tables[i]->blocks[b];
            *rows += (long long)(bl->n - bl->nkept);
            *bytes += bl->bytes;
        }
    for (size_t i = 0; i < c->ntables; i++)
        for (size_t f = 0; f < c->tables[i]->nfiles; f++) {
            struct stat st;
            if (stat(c->tables[i]->files[f].path, &st) == 0)
                *bytes += (long long)st.st_size;
        }
}

static double mb(long long bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

int seed_fit_database(seed_ctx *c)
{
    cluster_info ci;
    int rc = conn_cluster_info(c->conn, &ci);
    if (rc)
        return rc;
    if (ci.standby)
        return strata_set_error(STRATA_ESTATE,
                                "%s: the database is a read-only standby (%s is a PostgreSQL hot "
                                "standby); seed the primary",
                                c->path, c->conn->endpoint);
    if (!ci.galera || ci.max_ws_bytes <= 0)
        return 0;
    long long bytes, rows;
    seed_estimate(c, &bytes, &rows);
    int too_big = bytes > ci.max_ws_bytes / 4 * 3;
    int too_many = ci.max_ws_rows > 0 && rows > ci.max_ws_rows / 4 * 3;
    if (!too_big && !too_many)
        return 0;
    if (!c->opt->non_atomic || strata_conn_in_transaction(c->conn))
        return strata_set_error(
            STRATA_ESTATE,
            "%s: the seed writes about %.1f MB in %lld rows, more than Galera node %s takes in "
            "one transaction (wsrep_max_ws_size = %.1f MB, wsrep_max_ws_rows = %lld); nothing "
            "was written. Raise wsrep_max_ws_size%s, or seed with --non-atomic to commit it in "
            "parts (a failure then leaves the parts already committed)",
            c->path, mb(bytes), rows, ci.node, mb(ci.max_ws_bytes), ci.max_ws_rows,
            ci.max_ws_rows > 0 ? " and wsrep_max_ws_rows" : "");
    c->split.budget = ci.max_ws_bytes / 4;
    if (too_many && ci.max_ws_rows / 4 * 64 < c->split.budget)
        c->split.budget = ci.max_ws_rows / 4 * 64; /* rows of 64 bytes at least */
    char *w = xasprintf("the seed (about %.1f MB) is committed in parts of at most %.1f MB: "
                        "Galera node %s takes at most %.1f MB in one transaction "
                        "(--non-atomic)",
                        mb(bytes), mb(c->split.budget), ci.node, mb(ci.max_ws_bytes));
    strvec_push(&c->warnings, w);
    free(w);
    return 0;
}

int seed_split_commit(strata_conn *conn, seed_split *split)
{
    int rc = strata_conn_commit(conn);
    if (!rc)
        rc = strata_conn_begin(conn);
    if (rc)
        return strata_error_prefix("committing a part of the seed: ");
    split->used = 0;
    split->commits++;
    return 0;
}
