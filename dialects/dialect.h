/*
 * dialect.h - what the dialect layer offers the rest of libstrata: quoting
 * and literal rendering per dialect. Dialects are pure: no connection, no
 * globals, no I/O.
 */
#ifndef STRATA_DIALECT_H
#define STRATA_DIALECT_H

#include "strata.h"
#include "util.h"

/* Append `text` (len bytes) as a string literal of dialect d. */
void quote_literal_into(sbuf *b, strata_dialect d, const char *text, size_t len);
/* Append a quoted identifier. */
void quote_ident_into(sbuf *b, strata_dialect d, const char *name);

#endif /* STRATA_DIALECT_H */
