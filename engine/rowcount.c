/*
 * rowcount.c - rows of a table of the connected database (rowcount.h).
 *
 * PostgreSQL: pg_class.reltuples, what ANALYZE and autovacuum last saw; a
 * table never analysed (reltuples -1 since PostgreSQL 14) is counted.
 * MySQL/MariaDB: information_schema.TABLES.TABLE_ROWS, InnoDB's estimate.
 * SQLite: count(*), which it does from the table's b-tree quickly enough.
 */
#include "rowcount.h"

#include <stdlib.h>

/* count(*) of a table known to exist. */
static long long count_rows(strata_conn *conn, const char *table)
{
    char *q = strata_conn_quote_ident(conn, table);
    char *sql = xasprintf("SELECT count(*) FROM %s", q);
    char *out = NULL;
    int rc = strata_conn_query_string(conn, sql, NULL, 0, &out);
    long long n = !rc && out ? strtoll(out, NULL, 10) : -1;
    free(out);
    free(sql);
    free(q);
    return n;
}

long long table_rows(strata_conn *conn, const char *table, int *exact)
{
    if (exact)
        *exact = 0;
    if (!conn || !table)
        return -1;
    strata_value arg = strata_vtext(table);
    char *out = NULL, *exists = NULL;
    long long n = -1;
    switch (strata_conn_dialect(conn)) {
    case STRATA_POSTGRES:
        if (strata_conn_query_string(conn,
                                     "SELECT CASE WHEN reltuples < 0 THEN -1 ELSE "
                                     "reltuples::bigint END FROM pg_class WHERE oid = "
                                     "to_regclass(quote_ident(?))",
                                     &arg, 1, &out) == 0 &&
            out) {
            n = strtoll(out, NULL, 10);
            if (n < 0) { /* never analysed */
                n = count_rows(conn, table);
                if (exact)
                    *exact = 1;
            }
        }
        break;
    case STRATA_MYSQL:
        if (strata_conn_query_string(conn,
                                     "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE "
                                     "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
                                     &arg, 1, &out) == 0 &&
            out)
            n = strtoll(out, NULL, 10);
        break;
    case STRATA_SQLITE:
        if (strata_conn_query_string(conn,
                                     "SELECT name FROM sqlite_schema WHERE type = 'table' AND "
                                     "name = ?",
                                     &arg, 1, &exists) == 0 &&
            exists) {
            n = count_rows(conn, table);
            if (exact)
                *exact = 1;
        }
        break;
    }
    free(out);
    free(exists);
    strata_error_clear();
    return n;
}
