/*
 * introspect_read.h - what the three schema readers share (private to
 * introspection): the helpers of introspect.c and the readers themselves,
 * one file per database (introspect_postgres.c, introspect_mysql.c,
 * introspect_sqlite.c).
 *
 * A reader fills an empty schema model from a live database, undoing its
 * dialect compiler's mapping, and appends what has no neutral form to `raw`
 * (one SQL statement each, never NULL here) with a line in `warnings` (may
 * be NULL). Errors are the driver's; introspect_schema() adds the context.
 */
#ifndef STRATA_INTROSPECT_READ_H
#define STRATA_INTROSPECT_READ_H

#include "introspect.h"

/* Lists come back from the catalog queries joined by this separator. */
#define INTRO_SEP "\x1f"

int introspect_postgres(strata_conn *conn, schema *s, strvec *warnings, strvec *raw);
int introspect_mysql(strata_conn *conn, schema *s, strvec *warnings, strvec *raw);
int introspect_sqlite(strata_conn *conn, schema *s, strvec *warnings, strvec *raw);

/* The table `name` of `s`, added (empty) when it is not there yet. */
table *intro_table(schema *s, const char *name);
/* Split INTRO_SEP-joined text into `out` (nothing for NULL or ""). */
void intro_split(const char *text, strvec *out);
/* Append a formatted line to `w` (when not NULL). */
void intro_warn(strvec *w, const char *fmt, ...) STRATA_PRINTF(2, 3);
/* A referential action as the catalogs spell it ("CASCADE", or PostgreSQL's
 * one-letter codes); anything unknown is no_action. */
fk_action intro_fk_action(const char *s);
/* A default's text as a JSON literal for a column of type k, or NULL when
 * an unquoted text is not a literal of that type. */
json_t *intro_literal(type_kind k, const char *text, int quoted);
/* Replace a column's default by a literal (taking `lit`) or by SQL text of
 * dialect d. */
void intro_set_literal(column *c, json_t *lit);
void intro_set_sql_default(column *c, strata_dialect d, const char *text);
/* Is a default expression the current time, or a new UUID, on any of the
 * three databases? */
int intro_is_now_expr(const char *e);
int intro_is_uuid_expr(const char *e);

#endif
