/*
 * url.c - parsing and masking of database URLs.
 *
 * Accepted forms (spec/cli.md):
 *   postgres://user:pass@host:port/db?sslmode=disable   (also postgresql://)
 *   mysql://user:pass@host:port/db                      (also mariadb://)
 *   sqlite:PATH, sqlite://PATH, sqlite::memory:
 * User, password, database and query values are percent-decoded. A password
 * must never reach any output, so every message about a URL uses the masked
 * form built by strata_url_mask().
 */
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n); NULL on a malformed escape. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n) {
                free(out);
                return NULL;
            }
            int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0) {
                free(out);
                return NULL;
            }
            out[j++] = (char)(h * 16 + l);
            i += 2;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

void strata_url_dispose(strata_url *url)
{
    if (!url)
        return;
    free(url->user);
    free(url->password);
    free(url->host);
    free(url->database);
    if (url->params) {
        for (char **p = url->params; *p; p++)
            free(*p);
        free(url->params);
    }
    memset(url, 0, sizeof *url);
}

static int url_error(const char *text, const char *why)
{
    char *masked = strata_url_mask(text);
    strata_set_error(STRATA_EINPUT, "malformed database URL '%s': %s", masked, why);
    free(masked);
    return STRATA_EINPUT;
}

static int parse_sqlite(const char *text, strata_url *out)
{
    const char *rest = text + strlen("sqlite:");
    if (strcmp(rest, ":memory:") == 0) {
        out->database = xstrdup(":memory:");
    } else {
        if (str_starts(rest, "//"))
            rest += 2;
        if (!*rest)
            return url_error(text, "no file path (use sqlite:./file.db, sqlite:///abs/file.db "
                                   "or sqlite::memory:)");
        out->database = pct_decode(rest, strlen(rest));
        if (!out->database)
            return url_error(text, "bad percent-escape in the path");
    }
    out->dialect = STRATA_SQLITE;
    out->params = xcalloc(1, sizeof(char *));
    return 0;
}

static int parse_query(const char *text, const char *q, strata_url *out)
{
    strvec kv = STRVEC_INIT;
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        if (n) {
            const char *eq = memchr(q, '=', n);
            if (!eq) {
                strvec_free(&kv);
                return url_error(text, "query parameter without '='");
            }
            char *k = pct_decode(q, (size_t)(eq - q));
            char *v = pct_decode(eq + 1, n - (size_t)(eq - q) - 1);
            if (!k || !v || !*k) {
                free(k);
                free(v);
                strvec_free(&kv);
                return url_error(text, "bad query parameter");
            }
            strvec_push_owned(&kv, k);
            strvec_push_owned(&kv, v);
        }
        q += n;
        if (*q == '&')
            q++;
    }
    if (!kv.v)
        kv.v = xcalloc(1, sizeof(char *));
    out->params = kv.v;
    return 0;
}

int strata_url_parse(const char *text, strata_url *out)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return strata_set_error(STRATA_EINPUT, "empty database URL");
    if (str_starts(text, "sqlite:"))
        return parse_sqlite(text, out);

    const char *rest;
    if (str_starts(text, "postgres://")) {
        out->dialect = STRATA_POSTGRES;
        rest = text + 11;
    } else if (str_starts(text, "postgresql://")) {
        out->dialect = STRATA_POSTGRES;
        rest = text + 13;
    } else if (str_starts(text, "mysql://")) {
        out->dialect = STRATA_MYSQL;
        rest = text + 8;
    } else if (str_starts(text, "mariadb://")) {
        out->dialect = STRATA_MYSQL;
        rest = text + 10;
    } else {
        return url_error(text, "unknown scheme (expected postgres://, postgresql://, mysql://, "
                               "mariadb://, sqlite:PATH or sqlite::memory:)");
    }

    /* authority ends at the first '/', '?' or end */
    size_t alen = strcspn(rest, "/?");
    const char *auth_end = rest + alen;
    const char *at = NULL;
    for (const char *p = rest; p < auth_end; p++)
        if (*p == '@')
            at = p; /* the last '@' separates userinfo from host */
    const char *hostpart = rest;
    if (at) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        size_t ulen = colon ? (size_t)(colon - rest) : (size_t)(at - rest);
        out->user = pct_decode(rest, ulen);
        if (!out->user) {
            strata_url_dispose(out);
            return url_error(text, "bad percent-escape in the user name");
        }
        if (colon) {
            out->password = pct_decode(colon + 1, (size_t)(at - colon - 1));
            if (!out->password) {
                strata_url_dispose(out);
                return url_error(text, "bad percent-escape in the password");
            }
        }
        hostpart = at + 1;
    }
    const char *port_colon = NULL;
    const char *host_start = hostpart, *host_end = auth_end;
    if (*hostpart == '[') {
        const char *close = memchr(hostpart, ']', (size_t)(auth_end - hostpart));
        if (!close) {
            strata_url_dispose(out);
            return url_error(text, "unterminated '[' in the host");
        }
        host_start = hostpart + 1;
        host_end = close;
        if (close + 1 < auth_end) {
            if (close[1] != ':') {
                strata_url_dispose(out);
                return url_error(text, "unexpected text after ']'");
            }
            port_colon = close + 1;
        }
    } else {
        port_colon = memchr(hostpart, ':', (size_t)(auth_end - hostpart));
        if (port_colon)
            host_end = port_colon;
    }
    if (host_end > host_start)
        out->host = xstrndup(host_start, (size_t)(host_end - host_start));
    if (port_colon) {
        const char *p = port_colon + 1;
        if (p == auth_end) {
            strata_url_dispose(out);
            return url_error(text, "empty port");
        }
        long port = 0;
        for (; p < auth_end; p++) {
            if (!isdigit((unsigned char)*p) || port > 65535) {
                strata_url_dispose(out);
                return url_error(text, "port is not a number from 1 to 65535");
            }
            port = port * 10 + (*p - '0');
        }
        if (port < 1 || port > 65535) {
            strata_url_dispose(out);
            return url_error(text, "port is not a number from 1 to 65535");
        }
        out->port = (int)port;
    }
    const char *p = auth_end;
    if (*p == '/') {
        p++;
        size_t dlen = strcspn(p, "?");
        if (dlen) {
            out->database = pct_decode(p, dlen);
            if (!out->database) {
                strata_url_dispose(out);
                return url_error(text, "bad percent-escape in the database name");
            }
        }
        p += dlen;
    }
    if (!out->database) {
        strata_url_dispose(out);
        return url_error(text, "no database name (add /DBNAME after the host)");
    }
    if (*p == '?') {
        if (parse_query(text, p + 1, out) != 0) {
            strata_url_dispose(out);
            return STRATA_EINPUT;
        }
    } else {
        out->params = xcalloc(1, sizeof(char *));
    }
    return 0;
}

char *strata_url_mask(const char *text)
{
    if (!text)
        return xstrdup("");
    const char *scheme = strstr(text, "://");
    if (!scheme)
        return xstrdup(text);
    const char *rest = scheme + 3;
    size_t alen = strcspn(rest, "/?");
    const char *at = NULL;
    for (const char *p = rest; p < rest + alen; p++)
        if (*p == '@')
            at = p;
    if (!at)
        return xstrdup(text);
    const char *colon = memchr(rest, ':', (size_t)(at - rest));
    if (!colon)
        return xstrdup(text);
    sbuf b = SBUF_INIT;
    sbuf_addn(&b, text, (size_t)(colon + 1 - text));
    sbuf_add(&b, "****");
    sbuf_add(&b, at);
    return sbuf_detach(&b);
}
