/*
 * util.h - small internal helpers shared by every part of libstrata:
 * allocation that never returns NULL, a growable string buffer, a string
 * vector, and the per-thread error state.
 *
 * Allocation failure aborts the process (abort(), without a message: the
 * library prints nothing; strata.h, "Memory"): a migration tool has no
 * sensible way to continue without memory, and it keeps every error path
 * about the database, not about malloc.
 */
#ifndef STRATA_UTIL_H
#define STRATA_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "strata.h"

#if defined(__GNUC__)
#define STRATA_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define STRATA_PRINTF(a, b)
#endif

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) STRATA_PRINTF(1, 2);

/* Grow *p (an array of `size`-byte items with capacity *cap) to hold n items. */
void *xgrow(void *p, size_t *cap, size_t n, size_t size);

/* A growable, always NUL-terminated string buffer. */
typedef struct sbuf {
    char *p;
    size_t len;
    size_t cap;
} sbuf;

#define SBUF_INIT                                                                                  \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void sbuf_add(sbuf *b, const char *s);
void sbuf_addn(sbuf *b, const char *s, size_t n);
void sbuf_addc(sbuf *b, char c);
void sbuf_addf(sbuf *b, const char *fmt, ...) STRATA_PRINTF(2, 3);
void sbuf_vaddf(sbuf *b, const char *fmt, va_list ap);
void sbuf_reset(sbuf *b);
/* The contents ("" when empty); owned by the buffer. */
const char *sbuf_str(const sbuf *b);
/* Hand the contents to the caller and reset the buffer. */
char *sbuf_detach(sbuf *b);
void sbuf_free(sbuf *b);

/* A vector of owned strings. */
typedef struct strvec {
    char **v;
    size_t n;
    size_t cap;
} strvec;

#define STRVEC_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void strvec_push(strvec *sv, const char *s); /* copies s */
void strvec_push_owned(strvec *sv, char *s); /* takes s */
void strvec_pushf(strvec *sv, const char *fmt, ...) STRATA_PRINTF(2, 3);
int strvec_find(const strvec *sv, const char *s);   /* index or -1 */
int strvec_equal(const strvec *a, const strvec *b); /* same strings, same order */

/* Is s a whole decimal number: [+-]digits[.digits], with an [eE][+-]digits
 * exponent when `exponent`? */
int number_text(const char *s, int exponent);
void strvec_free(strvec *sv);

/* The shortest decimal text that reads back as the same double (0.3, not
 * 0.29999999999999999, which an exact decimal column would keep or a
 * server would report as truncated). `buf` holds at least 32 bytes. */
const char *double_text(double d, char buf[32]);

/* Set this thread's error; returns `code` so callers can
 * `return strata_set_error(...)`. A message longer than ERROR_MESSAGE_MAX
 * bytes is cut in the middle (its start names the file, JSON path or
 * migration; its end the reason), so no value, however long, makes an
 * error unreadable. */
int strata_set_error(int code, const char *fmt, ...) STRATA_PRINTF(2, 3);
/* Prefix the current error message with context ("migration x: ..."). */
int strata_error_prefix(const char *fmt, ...) STRATA_PRINTF(1, 2);

/* The longest error message, in bytes (the command line adds "strata: "
 * and keeps each error line under 400 bytes). */
#define ERROR_MESSAGE_MAX 380

/* `s` cut to at most `max` bytes (whole UTF-8 characters): its head and
 * tail around "...(N bytes)..."; `s` itself when it is short enough.
 * Caller frees. */
char *str_cut(const char *s, size_t max);
/* A value for a message: `s` when it is at most 64 bytes, else its first
 * bytes and "...(N bytes)", in one of a few per-thread buffers that the
 * next calls reuse - for the arguments of one message only. */
const char *str_brief(const char *s);

/* Case-insensitive ASCII comparison helpers. */
int str_ieq(const char *a, const char *b);
int str_starts(const char *s, const char *prefix);
int str_ends(const char *s, const char *suffix);

/* Levenshtein distance, for "did you mean" suggestions. */
size_t str_distance(const char *a, const char *b);
/* The candidate nearest to `word` (NULL when none is reasonably close). */
const char *str_nearest(const char *word, const char *const *candidates, size_t n);

/* Read a whole input file the user named (a migration, a schema, a seed),
 * NUL-terminated. Regular files only: a FIFO, a device or a directory is
 * refused before a byte is read, so nothing can block. Every failure -
 * missing, a dangling symlink, unreadable, not a regular file - is bad
 * input (STRATA_EINPUT) naming the path. */
int read_file(const char *path, char **out, size_t *len);
/* Open an input file for reading under the same rules (caller fcloses). */
int open_input_file(const char *path, FILE **out);
/* The same as a file descriptor (caller closes). */
int open_input_fd(const char *path, int *out);

/* Monotonic time in seconds. */
double now_seconds(void);

#endif /* STRATA_UTIL_H */
