/*
 * sqltext.h - small helpers for reading SQL text that databases hand back:
 * a tokenizer for SQLite CREATE statements, literal unquoting, and the
 * normalisation that lets two renderings of one expression compare equal.
 */
#ifndef STRATA_SQLTEXT_H
#define STRATA_SQLTEXT_H

#include "util.h"

/* Normalise an SQL expression for comparison: lower case outside string
 * literals, no identifier quotes, no whitespace or parentheses, no
 * PostgreSQL casts (::type), `= ANY (ARRAY[...])` as IN, `!=` as `<>`. */
char *sql_normalize(const char *sql);

/* If `s` is a single-quoted literal (PostgreSQL may add a ::cast after it),
 * return its unescaped text (caller frees); else NULL. Backslash escapes
 * are honoured when `backslash` is set (MySQL). */
char *sql_unquote_literal(const char *s, int backslash);

/* Unquote an identifier written "x", `x` or [x] (or bare). Caller frees. */
char *sql_unquote_ident(const char *s, size_t n);

/* The parts of a CREATE TABLE statement's body: each top-level
 * comma-separated item, whitespace-trimmed. Returns 0 on success. */
int sql_table_items(const char *create_sql, strvec *items);

/* Find `CONSTRAINT <name> <KIND> ...` occurrences in an item (column or
 * table constraint); for each, calls back with the name, the kind word
 * (upper-cased: CHECK, FOREIGN, REFERENCES, PRIMARY, UNIQUE) and the text
 * from the kind word to the end of that constraint. */
typedef void (*sql_constraint_fn)(void *ctx, const char *name, const char *kind, const char *text,
                                  size_t len);
void sql_item_constraints(const char *item, sql_constraint_fn fn, void *ctx);

/* The text inside the parentheses that start at or after `p` (balanced),
 * copied (caller frees); NULL if none. */
char *sql_paren_body(const char *p);

/* Does `sql` only read or change rows - one SELECT, INSERT, UPDATE, DELETE
 * or REPLACE statement (comments and a final ';' aside) - so that it can
 * run inside a transaction and leave nothing behind when rolled back?
 * Anything else (DDL, several statements, CALL, SET, ...) is not. */
int sql_is_data_only(const char *sql);

#endif
