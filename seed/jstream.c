/*
 * jstream.c - see jstream.h.
 *
 * The file is read through a buffer of 1 MB that grows only when one value
 * (a row) is larger. Finding where a value ends needs no parsing: outside
 * strings only the brackets count, so js_span walks the bytes once with a
 * small stack of open brackets; jansson then parses exactly those bytes.
 * Line numbers are counted as bytes are consumed, so errors point into the
 * file, not into the value.
 */
#include "jstream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define JS_CHUNK     (1 << 20)
#define JS_MAX_DEPTH 2048 /* jansson's own limit */

struct jstream {
    char *path;
    int fd;
    char *buf;
    size_t cap, start, end; /* unconsumed bytes are buf[start, end) */
    off_t base;             /* file offset of buf[0] */
    int eof;
    long line;        /* line of buf[start] */
    off_t line_start; /* file offset where that line starts */
};

int js_open(const char *path, jstream **out)
{
    *out = NULL;
    /* a regular file only, read as bad input otherwise (open_input_fd) */
    int fd;
    int rc = open_input_fd(path, &fd);
    if (rc)
        return rc;
    jstream *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path);
    s->fd = fd;
    s->cap = JS_CHUNK;
    s->buf = xmalloc(s->cap);
    s->line = 1;
    *out = s;
    return 0;
}

void js_close(jstream *s)
{
    if (!s)
        return;
    close(s->fd);
    free(s->buf);
    free(s->path);
    free(s);
}

/* Column of buf[start + rel] on its line (1-based), and its line. */
static void position(const jstream *s, size_t rel, long *line, long *col)
{
    long ln = s->line;
    off_t ls = s->line_start;
    for (size_t i = s->start; i < s->start + rel && i < s->end; i++)
        if (s->buf[i] == '\n') {
            ln++;
            ls = s->base + (off_t)i + 1;
        }
    *line = ln;
    *col = (long)(s->base + (off_t)(s->start + rel) - ls) + 1;
}

static int verror_at(jstream *s, size_t rel, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    long line, col;
    position(s, rel, &line, &col);
    return strata_set_error(STRATA_EINPUT, "%s:%ld:%ld: invalid JSON: %s", s->path, line, col, msg);
}

static int error_at(jstream *s, size_t rel, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = verror_at(s, rel, fmt, ap);
    va_end(ap);
    return rc;
}

int js_error(jstream *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = verror_at(s, 0, fmt, ap);
    va_end(ap);
    return rc;
}

/* Read more bytes after buf[end], keeping buf[start, end); 0 at the end of
 * the file (s->eof), <0 on a read error. */
static int fill(jstream *s)
{
    if (s->eof)
        return 0;
    if (s->start > 0 && (s->end == s->cap || s->start >= s->cap / 2)) {
        memmove(s->buf, s->buf + s->start, s->end - s->start);
        s->base += (off_t)s->start;
        s->end -= s->start;
        s->start = 0;
    }
    if (s->end == s->cap) {
        s->cap *= 2;
        s->buf = xrealloc(s->buf, s->cap);
    }
    for (;;) {
        ssize_t n = read(s->fd, s->buf + s->end, s->cap - s->end);
        if (n > 0) {
            s->end += (size_t)n;
            return 1;
        }
        if (n == 0) {
            s->eof = 1;
            return 0;
        }
        if (errno != EINTR)
            return strata_set_error(STRATA_EINPUT, "%s: cannot read: %s", s->path, strerror(errno));
    }
}

/* Consume `n` bytes, counting lines. */
static void consume(jstream *s, size_t n)
{
    const char *p = s->buf + s->start, *e = p + n;
    while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        p++;
        s->line++;
        s->line_start = s->base + (off_t)(p - s->buf);
    }
    s->start += n;
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int js_peek(jstream *s, int *ch)
{
    for (;;) {
        while (s->start < s->end && is_space((unsigned char)s->buf[s->start]))
            consume(s, 1);
        if (s->start < s->end) {
            *ch = (unsigned char)s->buf[s->start];
            return 0;
        }
        int rc = fill(s);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            *ch = 0;
            return 0;
        }
    }
}

int js_mark_here(jstream *s, js_mark *m)
{
    int ch;
    int rc = js_peek(s, &ch);
    m->offset = s->base + (off_t)s->start;
    m->line = s->line;
    m->line_start = s->line_start;
    return rc;
}

int js_seek(jstream *s, const js_mark *m)
{
    if (m->offset >= s->base && m->offset <= s->base + (off_t)s->end) {
        s->start = (size_t)(m->offset - s->base);
    } else {
        if (lseek(s->fd, m->offset, SEEK_SET) < 0)
            return strata_set_error(STRATA_EIO, "seeking in seed file '%s': %s", s->path,
                                    strerror(errno));
        s->base = m->offset;
        s->start = s->end = 0;
        s->eof = 0;
    }
    s->line = m->line;
    s->line_start = m->line_start;
    return 0;
}

static const char *describe(int ch)
{
    static char buf[16];
    if (!ch)
        return "the end of the file";
    snprintf(buf, sizeof buf, "'%c'", ch);
    return buf;
}

int js_expect(jstream *s, int ch, const char *what)
{
    int got;
    int rc = js_peek(s, &got);
    if (rc)
        return rc;
    if (got != ch)
        return js_error(s, "expected %s, found %s", what, describe(got));
    consume(s, 1);
    return 0;
}

/*
 * The length of the value at buf[start] (after whitespace), reading more of
 * the file as needed so all of it is in the buffer: a string up to its
 * closing quote, an object or array up to its matching bracket, a literal
 * or number up to the next delimiter.
 */
static int span(jstream *s, size_t *len)
{
    int ch;
    int rc = js_peek(s, &ch);
    if (rc)
        return rc;
    if (!ch)
        return js_error(s, "expected a value, found the end of the file");
    char stack[JS_MAX_DEPTH];
    int depth = 0, in_str = 0, esc = 0;
    size_t i = 0;
    int scalar = ch != '{' && ch != '[' && ch != '"';
    for (;;) {
        if (s->start + i == s->end) {
            rc = fill(s);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                if (scalar && i > 0)
                    break;
                return error_at(s, i, "unexpected end of file (an unclosed %s)",
                                in_str ? "string" : "object or array");
            }
            continue;
        }
        char c = s->buf[s->start + i];
        if (scalar) {
            if (is_space((unsigned char)c) || c == ',' || c == ']' || c == '}' || c == ':')
                break;
            i++;
            continue;
        }
        i++;
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"') {
                in_str = 0;
                if (depth == 0)
                    break;
            }
            continue;
        }
        if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (depth == JS_MAX_DEPTH)
                return error_at(s, i - 1, "maximum parsing depth reached");
            stack[depth++] = c;
        } else if (c == '}' || c == ']') {
            if (depth == 0 || stack[depth - 1] != (c == '}' ? '{' : '['))
                return error_at(s, i - 1, "unexpected '%c'", c);
            if (--depth == 0)
                break;
        }
    }
    *len = i;
    return 0;
}

int js_value(jstream *s, json_t **out)
{
    *out = NULL;
    size_t len;
    int rc = span(s, &len);
    if (rc)
        return rc;
    json_error_t err;
    json_t *v = json_loadb(s->buf + s->start, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!v) {
        /* err.position counts bytes into the value */
        size_t at = err.position > 0 ? (size_t)err.position - 1 : 0;
        return error_at(s, at < len ? at : len, "%s", err.text);
    }
    consume(s, len);
    *out = v;
    return 0;
}

/* Skip an object or array without holding it: its bytes are consumed as
 * they are scanned, so skipping the "tables" list of a large file needs no
 * more than the buffer (span() would keep all of it). Scalars and strings
 * are small: span() does. */
int js_skip(jstream *s)
{
    int ch;
    int rc = js_peek(s, &ch);
    if (rc)
        return rc;
    if (ch != '{' && ch != '[') {
        size_t len;
        rc = span(s, &len);
        if (!rc)
            consume(s, len);
        return rc;
    }
    char stack[JS_MAX_DEPTH];
    int depth = 0, in_str = 0, esc = 0;
    for (;;) {
        size_t i = 0, avail = s->end - s->start;
        const char *p = s->buf + s->start;
        int done = 0;
        for (; i < avail && !done; i++) {
            char c = p[i];
            if (in_str) {
                if (esc)
                    esc = 0;
                else if (c == '\\')
                    esc = 1;
                else if (c == '"')
                    in_str = 0;
                continue;
            }
            if (c == '"') {
                in_str = 1;
            } else if (c == '{' || c == '[') {
                if (depth == JS_MAX_DEPTH)
                    return error_at(s, i, "maximum parsing depth reached");
                stack[depth++] = c;
            } else if (c == '}' || c == ']') {
                if (depth == 0 || stack[depth - 1] != (c == '}' ? '{' : '['))
                    return error_at(s, i, "unexpected '%c'", c);
                done = --depth == 0;
            }
        }
        consume(s, i);
        if (done)
            return 0;
        rc = fill(s);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return error_at(s, 0, "unexpected end of file (an unclosed %s)",
                            in_str ? "string" : "object or array");
    }
}

int js_key(jstream *s, int *first, char **key)
{
    *key = NULL;
    int ch;
    int rc = js_peek(s, &ch);
    if (rc)
        return rc;
    if (ch == '}') {
        consume(s, 1);
        return 0;
    }
    if (!*first) {
        if (ch != ',')
            return js_error(s, "expected ',' or '}', found %s", describe(ch));
        consume(s, 1);
        if ((rc = js_peek(s, &ch)) != 0)
            return rc;
    }
    if (ch != '"')
        return js_error(s, "expected a string (an object key), found %s", describe(ch));
    json_t *k;
    if ((rc = js_value(s, &k)) != 0)
        return rc;
    *key = xstrdup(json_string_value(k));
    json_decref(k);
    *first = 0;
    rc = js_expect(s, ':', "':'");
    if (rc) {
        free(*key);
        *key = NULL;
    }
    return rc;
}

int js_next_element(jstream *s, int *first)
{
    int ch;
    int rc = js_peek(s, &ch);
    if (rc)
        return rc;
    if (ch == ']') {
        consume(s, 1);
        return 0;
    }
    if (!*first) {
        if (ch != ',')
            return js_error(s, "expected ',' or ']', found %s", describe(ch));
        consume(s, 1);
    }
    *first = 0;
    return 1;
}

int js_expect_end(jstream *s)
{
    int ch;
    int rc = js_peek(s, &ch);
    if (rc)
        return rc;
    return ch ? js_error(s, "end of file expected, found %s", describe(ch)) : 0;
}
