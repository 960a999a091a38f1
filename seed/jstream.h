/*
 * jstream.h - an incremental reader of one JSON file, for seed documents
 * too large to hold in memory (private to the seed loader).
 *
 * The loader walks the document's structure itself (the top-level object,
 * the "tables" list, each entry's keys, the "rows" arrays) with js_peek,
 * js_expect and js_key, and hands every value it wants whole - a row, a
 * "key" list - to jansson with js_value, one at a time. Only that value is
 * in memory. Positions can be saved (js_mark) and gone back to (js_seek),
 * so the loader reads the rows of a table in the order it loads tables, not
 * in the order of the file.
 *
 * Errors are "FILE:LINE:COLUMN: invalid JSON: ..." (STRATA_EINPUT), as
 * jansson gives them for a whole document.
 */
#ifndef STRATA_SEED_JSTREAM_H
#define STRATA_SEED_JSTREAM_H

#include <jansson.h>
#include <sys/types.h>

typedef struct jstream jstream;

/* A position in the file, to come back to. */
typedef struct js_mark {
    off_t offset;     /* of the next byte to read */
    long line;        /* its line, 1-based */
    off_t line_start; /* offset of the first byte of that line */
} js_mark;

/* Open a file ("cannot read seed file" on failure, STRATA_EIO). */
int js_open(const char *path, jstream **out);
void js_close(jstream *s);
/* The position of the next token (whitespace skipped). */
int js_mark_here(jstream *s, js_mark *m);
int js_seek(jstream *s, const js_mark *m);
/* The next character after whitespace, not consumed: '{', '[', '"', ...,
 * or 0 at the end of the file. */
int js_peek(jstream *s, int *ch);
/* Consume the character `ch` (after whitespace), else an error saying
 * what was expected (`what`, e.g. "'{' (a seed file is a JSON object)"). */
int js_expect(jstream *s, int ch, const char *what);
/* After '{' or a value inside an object: the next key (caller frees), or
 * NULL at the closing '}' (consumed). `first` is set by the caller for the
 * first key of the object; the ',' and ':' around keys are consumed. */
int js_key(jstream *s, int *first, char **key);
/* After '[' or an element: 1 when another element follows (its ','
 * consumed), 0 at the closing ']' (consumed). */
int js_next_element(jstream *s, int *first);
/* The next value, parsed by jansson (objects reject duplicate keys). */
int js_value(jstream *s, json_t **out);
/* Skip the next value (checking only its brackets and strings). */
int js_skip(jstream *s);
/* Only whitespace is left. */
int js_expect_end(jstream *s);
/* Report an error at the next token: "FILE:LINE:COL: invalid JSON: ..." */
int js_error(jstream *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
