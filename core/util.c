/*
 * util.c - allocation, string buffers, string vectors and per-thread errors.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* No memory: abort, as strata.h promises ("Memory"). The library prints
 * nothing, not even here; `n` is left for a debugger's backtrace. */
static void out_of_memory(size_t n)
{
    (void)n;
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    sbuf b = SBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sbuf_vaddf(&b, fmt, ap);
    va_end(ap);
    return sbuf_detach(&b);
}

void *xgrow(void *p, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return p;
    size_t c = *cap ? *cap : 8;
    while (c < n)
        c *= 2;
    p = xrealloc(p, c * size);
    *cap = c;
    return p;
}

/* ---- sbuf ---- */

static void sbuf_reserve(sbuf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t c = b->cap ? b->cap : 64;
    while (c < need)
        c *= 2;
    b->p = xrealloc(b->p, c);
    b->cap = c;
}

void sbuf_addn(sbuf *b, const char *s, size_t n)
{
    sbuf_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sbuf_add(sbuf *b, const char *s)
{
    sbuf_addn(b, s, strlen(s));
}

void sbuf_addc(sbuf *b, char c)
{
    sbuf_addn(b, &c, 1);
}

void sbuf_vaddf(sbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    sbuf_reserve(b, (size_t)n);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sbuf_addf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sbuf_vaddf(b, fmt, ap);
    va_end(ap);
}

void sbuf_reset(sbuf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

const char *sbuf_str(const sbuf *b)
{
    return b->p ? b->p : "";
}

char *sbuf_detach(sbuf *b)
{
    char *p = b->p ? b->p : xstrdup("");
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void sbuf_free(sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- strvec ---- */

void strvec_push_owned(strvec *sv, char *s)
{
    sv->v = xgrow(sv->v, &sv->cap, sv->n + 2, sizeof(char *));
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
}

void strvec_push(strvec *sv, const char *s)
{
    strvec_push_owned(sv, xstrdup(s));
}

void strvec_pushf(strvec *sv, const char *fmt, ...)
{
    sbuf b = SBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sbuf_vaddf(&b, fmt, ap);
    va_end(ap);
    strvec_push_owned(sv, sbuf_detach(&b));
}

int strvec_find(const strvec *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0)
            return (int)i;
    return -1;
}

int strvec_equal(const strvec *a, const strvec *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return 0;
    return 1;
}

const char *double_text(double d, char buf[32])
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return buf;
}

int number_text(const char *s, int exponent)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    int digits = 0;
    while (isdigit((unsigned char)*p)) {
        p++;
        digits++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            digits++;
        }
    }
    if (!digits)
        return 0;
    if (exponent && (*p == 'e' || *p == 'E')) {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

void strvec_free(strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

/* ---- errors ---- */

static _Thread_local int last_code;
static _Thread_local char *last_message;

/* Is byte c inside a UTF-8 character (not its first byte)? */
static int utf8_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

char *str_cut(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len <= max)
        return xstrdup(s);
    char marker[64];
    int mlen = snprintf(marker, sizeof marker, "...(%zu bytes cut)...", len);
    size_t room = max > (size_t)mlen ? max - (size_t)mlen : 0;
    size_t head = room * 2 / 3, tail = room - head;
    while (head > 0 && utf8_continuation((unsigned char)s[head]))
        head--;
    size_t from = len - tail;
    while (from < len && utf8_continuation((unsigned char)s[from]))
        from++;
    sbuf b = SBUF_INIT;
    sbuf_addn(&b, s, head);
    sbuf_add(&b, marker);
    sbuf_add(&b, s + from);
    return sbuf_detach(&b);
}

const char *str_brief(const char *s)
{
    enum { SLOTS = 8, SHOWN = 48 };
    static _Thread_local char ring[SLOTS][SHOWN + 32];
    static _Thread_local unsigned next;
    if (!s)
        return "(null)";
    size_t len = strlen(s);
    if (len <= 64)
        return s;
    size_t head = SHOWN;
    while (head > 0 && utf8_continuation((unsigned char)s[head]))
        head--;
    char *slot = ring[next++ % SLOTS];
    snprintf(slot, sizeof ring[0], "%.*s...(%zu bytes)", (int)head, s, len);
    return slot;
}

/* Make `b` the thread's message, cut to ERROR_MESSAGE_MAX bytes. */
static void set_message(sbuf *b)
{
    free(last_message);
    if (b->len > ERROR_MESSAGE_MAX) {
        last_message = str_cut(sbuf_str(b), ERROR_MESSAGE_MAX);
        sbuf_free(b);
    } else {
        last_message = sbuf_detach(b);
    }
}

int strata_set_error(int code, const char *fmt, ...)
{
    sbuf b = SBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sbuf_vaddf(&b, fmt, ap);
    va_end(ap);
    set_message(&b);
    last_code = code;
    return code;
}

int strata_error_prefix(const char *fmt, ...)
{
    sbuf b = SBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sbuf_vaddf(&b, fmt, ap);
    va_end(ap);
    if (last_message)
        sbuf_add(&b, last_message);
    set_message(&b);
    return last_code;
}

const char *strata_error_message(void)
{
    return last_message ? last_message : "";
}

int strata_error_code(void)
{
    return last_code;
}

void strata_error_clear(void)
{
    free(last_message);
    last_message = NULL;
    last_code = STRATA_OK;
}

/* ---- strings ---- */

int str_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

int str_starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int str_ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

size_t str_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    size_t *row = xmalloc((m + 1) * sizeof(size_t));
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j];
            size_t cost =
                tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            size_t best = diag + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[m];
    free(row);
    return d;
}

const char *str_nearest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = str_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    /* Only suggest what is plausibly a typo: up to a third of the word. */
    size_t len = strlen(word);
    size_t limit = len / 3 + 1;
    if (limit < 2)
        limit = 2;
    return best_d <= limit ? best : NULL;
}

int open_input_fd(const char *path, int *out)
{
    *out = -1;
    /* O_NONBLOCK: opening a FIFO without a writer would wait for one */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        struct stat lst;
        if (e == ENOENT && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
            return strata_set_error(STRATA_EINPUT,
                                    "%s: a symbolic link to a file that does not "
                                    "exist",
                                    path);
        return strata_set_error(STRATA_EINPUT, "%s: cannot read: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0)
        st.st_mode = 0;
    if (!S_ISREG(st.st_mode)) {
        int dir = S_ISDIR(st.st_mode);
        close(fd);
        return strata_set_error(STRATA_EINPUT, "%s: %s", path,
                                dir ? "is a directory, not a file" : "not a regular file");
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags != -1)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    *out = fd;
    return 0;
}

int open_input_file(const char *path, FILE **out)
{
    *out = NULL;
    int fd;
    int rc = open_input_fd(path, &fd);
    if (rc)
        return rc;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        close(fd);
        return strata_set_error(STRATA_EINPUT, "%s: cannot read: %s", path, strerror(e));
    }
    *out = f;
    return 0;
}

int read_file(const char *path, char **out, size_t *len)
{
    FILE *f;
    int rc = open_input_file(path, &f);
    if (rc)
        return rc;
    sbuf b = SBUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sbuf_addn(&b, chunk, n);
    int err = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (err) {
        sbuf_free(&b);
        return strata_set_error(STRATA_EINPUT, "%s: cannot read: %s", path, strerror(err));
    }
    if (len)
        *len = b.len;
    *out = sbuf_detach(&b);
    return 0;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
