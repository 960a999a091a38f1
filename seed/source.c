/*
 * source.c - rows streamed from the files a seed names (`"file": ...`):
 * CSV with a header row (RFC 4180 quoting: fields in double quotes may hold
 * the delimiter, doubled quotes and line breaks) and NDJSON (one JSON object
 * per line). One record is held at a time, so a file of any size loads in
 * bounded memory.
 *
 * In CSV an unquoted empty field (or an unquoted \N) is NULL and a quoted
 * empty field ("") is the empty string, as PostgreSQL's COPY ... CSV reads
 * them.
 */
#include "seed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct seed_source {
    char *path;
    FILE *f;
    char *iobuf;
    int csv;
    char delim;
    long long line;     /* lines read so far */
    long long row_line; /* first line of the current row */
    strvec header;
    /* CSV: the current record, fields NUL-terminated in `rec` */
    sbuf rec;
    size_t *start;
    size_t *flen;
    int *null;
    size_t nfields, cap;
    /* NDJSON */
    char *linebuf;
    size_t linecap;
    json_t *obj;
};

static int source_error(const seed_source *s, const char *what)
{
    return strata_set_error(STRATA_EINPUT, "%s:%lld: %s", s->path, s->row_line, what);
}

static void push_field(seed_source *s, size_t start, int quoted)
{
    if (s->nfields == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->start = xrealloc(s->start, s->cap * sizeof *s->start);
        s->flen = xrealloc(s->flen, s->cap * sizeof *s->flen);
        s->null = xrealloc(s->null, s->cap * sizeof *s->null);
    }
    size_t len = s->rec.len - start;
    s->start[s->nfields] = start;
    s->flen[s->nfields] = len;
    s->null[s->nfields] =
        !quoted &&
        (len == 0 || (len == 2 && s->rec.p[start] == '\\' && s->rec.p[start + 1] == 'N'));
    s->nfields++;
    sbuf_addc(&s->rec, '\0');
}

/* Read one CSV record: 1, 0 at the end of the file, <0 on error. */
static int csv_record(seed_source *s)
{
    sbuf_reset(&s->rec);
    s->nfields = 0;
    int c = getc_unlocked(s->f);
    if (c == EOF)
        return ferror(s->f) ? source_error(s, strerror(errno)) : 0;
    s->line++;
    s->row_line = s->line;
    size_t start = 0;
    int quoted = 0;
    for (;;) {
        if (c == EOF || c == '\n') {
            if (s->rec.len > start && s->rec.p[s->rec.len - 1] == '\r' && !quoted)
                s->rec.len--;
            push_field(s, start, quoted);
            return 1;
        }
        if (c == s->delim) {
            push_field(s, start, quoted);
            start = s->rec.len;
            quoted = 0;
            c = getc_unlocked(s->f);
            continue;
        }
        if (c == '"' && s->rec.len == start && !quoted) {
            quoted = 1;
            for (;;) {
                c = getc_unlocked(s->f);
                if (c == EOF)
                    return source_error(s, "a quoted field is not closed");
                if (c == '"') {
                    c = getc_unlocked(s->f);
                    if (c != '"')
                        break;
                }
                if (c == '\n')
                    s->line++;
                sbuf_addc(&s->rec, (char)c);
            }
            if (c == '\r')
                c = getc_unlocked(s->f);
            if (c != s->delim && c != '\n' && c != EOF)
                return source_error(s, "text after the closing quote of a field");
            continue;
        }
        sbuf_addc(&s->rec, (char)c);
        c = getc_unlocked(s->f);
    }
}

int source_open(const char *path, seed_source **out)
{
    *out = NULL;
    FILE *f;
    int rc = open_input_file(path, &f);
    if (rc)
        return rc;
    seed_source *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path);
    s->f = f;
    s->iobuf = xmalloc(1 << 20);
    setvbuf(f, s->iobuf, _IOFBF, 1 << 20);
    if (str_ends(path, ".csv") || str_ends(path, ".tsv")) {
        s->csv = 1;
    } else if (str_ends(path, ".ndjson") || str_ends(path, ".jsonl") || str_ends(path, ".json")) {
        s->csv = 0;
    } else {
        int c = getc(f);
        while (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            c = getc(f);
        s->csv = c != '{';
        rewind(f);
    }
    s->delim = str_ends(path, ".tsv") ? '\t' : ',';
    if (s->csv) {
        rc = csv_record(s);
        if (rc <= 0) {
            if (rc == 0)
                rc = strata_set_error(STRATA_EINPUT, "%s: empty file (a CSV file needs a header)",
                                      path);
            source_close(s);
            return rc;
        }
        for (size_t i = 0; i < s->nfields; i++) {
            const char *name = s->rec.p + s->start[i];
            if (i == 0 && (unsigned char)name[0] == 0xEF && (unsigned char)name[1] == 0xBB &&
                (unsigned char)name[2] == 0xBF)
                name += 3; /* byte-order mark */
            if (!*name) {
                rc = strata_set_error(STRATA_EINPUT, "%s:1: column %zu of the header is empty",
                                      path, i + 1);
                source_close(s);
                return rc;
            }
            strvec_push(&s->header, name);
        }
    }
    *out = s;
    return 0;
}

const strvec *source_columns(const seed_source *s)
{
    return &s->header;
}

int source_is_csv(const seed_source *s)
{
    return s->csv;
}

int source_next(seed_source *s)
{
    if (s->csv) {
        for (;;) {
            int rc = csv_record(s);
            if (rc <= 0)
                return rc;
            if (s->nfields == 1 && s->flen[0] == 0)
                continue; /* blank line */
            if (s->nfields != s->header.n) {
                char msg[128];
                snprintf(msg, sizeof msg, "the row has %zu fields but the header has %zu",
                         s->nfields, s->header.n);
                return source_error(s, msg);
            }
            return 1;
        }
    }
    json_decref(s->obj);
    s->obj = NULL;
    for (;;) {
        ssize_t n = getline(&s->linebuf, &s->linecap, s->f);
        if (n < 0)
            return ferror(s->f) ? source_error(s, strerror(errno)) : 0;
        s->line++;
        s->row_line = s->line;
        size_t k = 0;
        while (k < (size_t)n && (s->linebuf[k] == ' ' || s->linebuf[k] == '\t' ||
                                 s->linebuf[k] == '\r' || s->linebuf[k] == '\n'))
            k++;
        if (k == (size_t)n)
            continue;
        json_error_t err;
        s->obj = json_loadb(s->linebuf, (size_t)n, 0, &err);
        if (!s->obj) {
            char msg[256];
            snprintf(msg, sizeof msg, "%d: %s", err.column, err.text);
            return source_error(s, msg);
        }
        if (!json_is_object(s->obj))
            return source_error(s, "a line is not a JSON object");
        return 1;
    }
}

size_t source_nfields(const seed_source *s)
{
    return s->nfields;
}

const char *source_field(const seed_source *s, size_t i, size_t *len, int *null)
{
    *len = s->flen[i];
    *null = s->null[i];
    return s->rec.p + s->start[i];
}

json_t *source_object(const seed_source *s)
{
    return s->obj;
}

long long source_line(const seed_source *s)
{
    return s->row_line;
}

const char *source_path(const seed_source *s)
{
    return s->path;
}

void source_close(seed_source *s)
{
    if (!s)
        return;
    if (s->f)
        fclose(s->f);
    free(s->iobuf);
    free(s->path);
    strvec_free(&s->header);
    sbuf_free(&s->rec);
    free(s->start);
    free(s->flen);
    free(s->null);
    free(s->linebuf);
    json_decref(s->obj);
    free(s);
}
