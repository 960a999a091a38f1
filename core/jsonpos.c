/*
 * jsonpos.c - finding where a JSON path starts in a JSON text (jsonpos.h).
 *
 * jansson keeps no positions for the values it reads, so this walks the
 * text itself: a small recursive reader that tracks line and column and
 * the path of the value it is at, and stops at the one asked for. It
 * checks only as much syntax as it needs to keep its place; the text has
 * been parsed by jansson before, so it is valid JSON in practice.
 */
#include "jsonpos.h"
#include "util.h"

#include <string.h>

typedef struct reader {
    const char *p;
    int line, col;
    const char *target;
    sbuf path;
    int found, found_line, found_col;
    int depth;
} reader;

static void advance(reader *r)
{
    if (*r->p == '\n') {
        r->line++;
        r->col = 1;
    } else {
        r->col++;
    }
    r->p++;
}

static void skip_blanks(reader *r)
{
    while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
        advance(r);
}

/* A string at r->p (on its opening quote); its raw contents (escapes left
 * as they are, which is how the parser's paths spell keys in practice)
 * go to `out` when not NULL. */
static int read_string(reader *r, sbuf *out)
{
    if (*r->p != '"')
        return 0;
    advance(r);
    while (*r->p && *r->p != '"') {
        if (*r->p == '\\' && r->p[1]) {
            if (out)
                sbuf_addc(out, r->p[1]);
            advance(r);
            advance(r);
            continue;
        }
        if (out)
            sbuf_addc(out, *r->p);
        advance(r);
    }
    if (*r->p != '"')
        return 0;
    advance(r);
    return 1;
}

static int read_value(reader *r);

/* After a member of an object or array (its path `saved` bytes long; `ok`
 * what reading it said): the path back to the container's, then 2 when a
 * ',' says more follow, 1 at the `close` that ends the container (or once
 * the target was found), 0 on malformed text. */
static int after_member(reader *r, size_t saved, int ok, char close)
{
    r->path.len = saved;
    if (r->path.p)
        r->path.p[saved] = '\0';
    if (!ok || r->found)
        return ok;
    skip_blanks(r);
    if (*r->p == ',') {
        advance(r);
        return 2;
    }
    if (*r->p != close)
        return 0;
    advance(r);
    return 1;
}

static int read_object(reader *r)
{
    advance(r); /* { */
    skip_blanks(r);
    if (*r->p == '}') {
        advance(r);
        return 1;
    }
    for (;;) {
        sbuf key = SBUF_INIT;
        skip_blanks(r);
        if (!read_string(r, &key)) {
            sbuf_free(&key);
            return 0;
        }
        skip_blanks(r);
        if (*r->p != ':') {
            sbuf_free(&key);
            return 0;
        }
        advance(r);
        size_t saved = r->path.len;
        if (r->path.len)
            sbuf_addc(&r->path, '.');
        sbuf_add(&r->path, sbuf_str(&key));
        sbuf_free(&key);
        int more = after_member(r, saved, read_value(r), '}');
        if (more != 2)
            return more;
    }
}

static int read_array(reader *r)
{
    advance(r); /* [ */
    skip_blanks(r);
    if (*r->p == ']') {
        advance(r);
        return 1;
    }
    for (size_t i = 0;; i++) {
        size_t saved = r->path.len;
        sbuf_addf(&r->path, "[%zu]", i);
        int more = after_member(r, saved, read_value(r), ']');
        if (more != 2)
            return more;
    }
}

static int read_value(reader *r)
{
    skip_blanks(r);
    if (strcmp(sbuf_str(&r->path), r->target) == 0) {
        r->found = 1;
        r->found_line = r->line;
        r->found_col = r->col;
        return 1;
    }
    if (++r->depth > 200)
        return 0;
    int ok;
    if (*r->p == '{') {
        ok = read_object(r);
    } else if (*r->p == '[') {
        ok = read_array(r);
    } else if (*r->p == '"') {
        ok = read_string(r, NULL);
    } else {
        /* a number, true, false or null */
        const char *start = r->p;
        while (*r->p && !strchr(",]} \t\r\n", *r->p))
            advance(r);
        ok = r->p > start;
    }
    r->depth--;
    return ok;
}

int json_path_position(const char *text, const char *path, int *line, int *column)
{
    reader r;
    memset(&r, 0, sizeof r);
    r.p = text;
    r.line = r.col = 1;
    r.target = path ? path : "";
    read_value(&r);
    sbuf_free(&r.path);
    if (!r.found)
        return 0;
    *line = r.found_line;
    *column = r.found_col;
    return 1;
}
