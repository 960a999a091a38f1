/*
 * rowcount.h - how many rows a table of a connected database holds, for
 * lint's and plan's messages: PostgreSQL's and MySQL's own estimates (their
 * statistics; counting a big table could take minutes), SQLite's count.
 */
#ifndef STRATA_ROWCOUNT_H
#define STRATA_ROWCOUNT_H

#include "util.h"

/* Rows of `table` (its name in the database); -1 when there is no such
 * table or the database cannot say. *exact (may be NULL) is set when the
 * number was counted rather than estimated. */
long long table_rows(strata_conn *conn, const char *table, int *exact);

#endif
