/*
 * dialect.h - per-dialect text every layer needs: identifier and literal
 * quoting, placeholder lists and INSERT statements (the public
 * strata_dialect_name / strata_dialect_parse are defined in dialect.c too).
 * Pure: no connection, no globals, no I/O.
 */
#ifndef STRATA_DIALECT_H
#define STRATA_DIALECT_H

#include "strata.h"
#include "util.h"

/* Append `text` (len bytes) as a string literal of dialect d. */
void quote_literal_into(sbuf *b, strata_dialect d, const char *text, size_t len);
/* Append a quoted identifier. */
void quote_ident_into(sbuf *b, strata_dialect d, const char *name);
/* Append "a", "b", "c": quoted identifiers, comma-separated. */
void quote_ident_list_into(sbuf *b, strata_dialect d, const char *const *names, size_t n);
/* Append n parameter placeholders: ?, ?, ? */
void params_into(sbuf *b, size_t n);
/* Append INSERT INTO "t" ("a", "b") VALUES (?, ?) */
void insert_sql_into(sbuf *b, strata_dialect d, const char *table, const char *const *cols,
                     size_t ncols);

#endif /* STRATA_DIALECT_H */
