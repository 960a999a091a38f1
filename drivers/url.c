/*
 * url.c - parsing and masking of database URLs.
 *
 * Accepted forms (spec/cli.md):
 *   postgres://user:pass@host:port/db?sslmode=disable   (also postgresql://)
 *   mysql://user:pass@host:port/db?ssl-mode=REQUIRED    (also mariadb://)
 *   sqlite:PATH, sqlite://PATH, sqlite::memory:, each with ?mode=ro|rw|rwc
 * User, password, database and query values are percent-decoded; %00 (a NUL
 * byte) is refused wherever it stands. Query parameters are checked against
 * the table of the URL's database (url_params below): an unknown or
 * misspelt one, or a bad value, is bad input, never ignored.
 *
 * A password must never reach any output, so every message about a URL
 * uses the masked form built by strata_url_mask(), and strata_text_mask()
 * masks whatever looks like a URL's password anywhere in a text.
 */
#include "driver.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* Percent-decode s[0..n); NULL on a malformed escape or on %00, *why
 * saying which. */
static char *pct_decode(const char *s, size_t n, const char **why)
{
    char *out = xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int h = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int l = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
            if (h < 0 || l < 0 || h * 16 + l == 0) {
                *why = h == 0 && l == 0 ? "%00 (a NUL byte)" : "a bad percent-escape";
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

static void find_password(const char *s, const char *end, const char **pw, size_t *len);

/* "malformed database URL '<masked>': <why>" as STRATA_EINPUT. `why` may
 * quote a part of the URL (a parameter's name or value): whatever of it is
 * the URL's password is masked there too. */
static int url_error(const char *text, const char *fmt, ...) STRATA_PRINTF(2, 3);
static int url_error(const char *text, const char *fmt, ...)
{
    char *masked = strata_url_mask(text);
    char *shown = str_cut(masked, 120);
    sbuf why = SBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sbuf_vaddf(&why, fmt, ap);
    va_end(ap);
    const char *pw;
    size_t len;
    find_password(text, text + strlen(text), &pw, &len);
    sbuf safe = SBUF_INIT;
    for (const char *p = sbuf_str(&why); *p;) {
        if (pw && len >= 4 && strncmp(p, pw, len) == 0) {
            sbuf_add(&safe, "****");
            p += len;
        } else {
            sbuf_addc(&safe, *p++);
        }
    }
    strata_set_error(STRATA_EINPUT, "malformed database URL '%s': %s", shown, sbuf_str(&safe));
    sbuf_free(&safe);
    sbuf_free(&why);
    free(shown);
    free(masked);
    return STRATA_EINPUT;
}

/* ---- query parameters ---- */

typedef enum {
    PARAM_TEXT,    /* any text (a path, a name) */
    PARAM_SECONDS, /* a whole number of seconds, 1 to 3600 */
    PARAM_CHOICE,  /* one of `choices` (space-separated) */
} param_kind;

typedef struct url_param {
    const char *name;
    param_kind kind;
    const char *choices;
} url_param;

/* libpq's own connection parameters that may stand in a URL. Left out:
 * what the URL itself says (host, port, dbname, user, password) and what
 * Strata sets for every session (client_encoding, options). */
static const url_param pg_params[] = {
    {"sslmode", PARAM_CHOICE, "disable allow prefer require verify-ca verify-full"},
    {"sslrootcert", PARAM_TEXT, NULL},
    {"sslcert", PARAM_TEXT, NULL},
    {"sslkey", PARAM_TEXT, NULL},
    {"sslpassword", PARAM_TEXT, NULL},
    {"sslcrl", PARAM_TEXT, NULL},
    {"sslcrldir", PARAM_TEXT, NULL},
    {"sslsni", PARAM_CHOICE, "0 1"},
    {"sslcompression", PARAM_CHOICE, "0 1"},
    {"ssl_min_protocol_version", PARAM_TEXT, NULL},
    {"ssl_max_protocol_version", PARAM_TEXT, NULL},
    {"channel_binding", PARAM_CHOICE, "disable prefer require"},
    {"gssencmode", PARAM_CHOICE, "disable prefer require"},
    {"krbsrvname", PARAM_TEXT, NULL},
    {"requirepeer", PARAM_TEXT, NULL},
    {"connect_timeout", PARAM_SECONDS, NULL},
    {"application_name", PARAM_TEXT, NULL},
    {"target_session_attrs", PARAM_TEXT, NULL},
    {"keepalives", PARAM_CHOICE, "0 1"},
    {"keepalives_idle", PARAM_TEXT, NULL},
    {"keepalives_interval", PARAM_TEXT, NULL},
    {"keepalives_count", PARAM_TEXT, NULL},
    {"tcp_user_timeout", PARAM_TEXT, NULL},
    {"hostaddr", PARAM_TEXT, NULL},
    {"passfile", PARAM_TEXT, NULL},
    {"service", PARAM_TEXT, NULL},
    /* Strata's own: the schema a target is (drivers/postgres.c checks the names) */
    {"search_path", PARAM_TEXT, NULL},
    {"schema", PARAM_TEXT, NULL},
    {NULL, PARAM_TEXT, NULL},
};

/* MySQL's client option names (mysql(1), Connector/J), read through
 * mysql_optionsv by drivers/mysql.c; '_' may stand for '-'. */
static const url_param mysql_params[] = {
    {"ssl-mode", PARAM_CHOICE, "DISABLED PREFERRED REQUIRED VERIFY_CA VERIFY_IDENTITY"},
    {"ssl-ca", PARAM_TEXT, NULL},
    {"ssl-capath", PARAM_TEXT, NULL},
    {"ssl-cert", PARAM_TEXT, NULL},
    {"ssl-key", PARAM_TEXT, NULL},
    {"ssl-cipher", PARAM_TEXT, NULL},
    {"ssl-crl", PARAM_TEXT, NULL},
    {"ssl-crlpath", PARAM_TEXT, NULL},
    {"tls-version", PARAM_TEXT, NULL},
    {"connect-timeout", PARAM_SECONDS, NULL},
    {"read-timeout", PARAM_SECONDS, NULL},
    {"write-timeout", PARAM_SECONDS, NULL},
    {NULL, PARAM_TEXT, NULL},
};

static const url_param sqlite_params[] = {
    {"mode", PARAM_CHOICE, "ro rw rwc"},
    {NULL, PARAM_TEXT, NULL},
};

static const url_param *params_of(strata_dialect d)
{
    return d == STRATA_POSTGRES ? pg_params : d == STRATA_MYSQL ? mysql_params : sqlite_params;
}

static const char *dialect_title(strata_dialect d)
{
    return d == STRATA_POSTGRES ? "PostgreSQL" : d == STRATA_MYSQL ? "MySQL/MariaDB" : "SQLite";
}

/* Does a parameter name match the table's `name`? MySQL's are
 * case-insensitive, '_' and '-' alike; libpq's and SQLite's exact. */
static int param_name_eq(strata_dialect d, const char *given, const char *name)
{
    if (d != STRATA_MYSQL)
        return strcmp(given, name) == 0;
    for (; *given && *name; given++, name++) {
        char a = *given == '_' ? '-' : (char)tolower((unsigned char)*given);
        char b = *name == '_' ? '-' : *name;
        if (a != b)
            return 0;
    }
    return *given == *name;
}

/* Is `value` one of the space-separated `choices` (MySQL: any case)? */
static int param_choice_ok(strata_dialect d, const char *choices, const char *value)
{
    size_t n = strlen(value);
    for (const char *c = choices; *c;) {
        size_t len = strcspn(c, " ");
        if (len == n &&
            (d == STRATA_MYSQL ? strncasecmp(c, value, n) == 0 : strncmp(c, value, n) == 0))
            return 1;
        c += len + (c[len] == ' ');
    }
    return 0;
}

static int seconds_ok(const char *v)
{
    size_t n = strspn(v, "0123456789");
    if (n == 0 || n > 4 || v[n])
        return 0;
    long s = strtol(v, NULL, 10);
    return s >= 1 && s <= 3600;
}

/* Check every parameter of a parsed URL against its database's table;
 * MySQL's names become the table's spelling. */
static int check_params(const char *text, strata_url *out)
{
    const url_param *table = params_of(out->dialect);
    for (char **p = out->params; p && p[0]; p += 2) {
        const url_param *known = NULL;
        for (const url_param *t = table; t->name && !known; t++)
            if (param_name_eq(out->dialect, p[0], t->name))
                known = t;
        if (!known) {
            const char *names[64];
            size_t n = 0;
            sbuf list = SBUF_INIT;
            for (const url_param *t = table; t->name && n < 64; t++) {
                names[n++] = t->name;
                if (n <= 8)
                    sbuf_addf(&list, "%s%s", n > 1 ? ", " : "", t->name);
            }
            const char *near = str_nearest(p[0], names, n);
            url_error(text, "unknown parameter '%s'%s%s%s; %s takes %s%s", str_brief(p[0]),
                      near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "",
                      dialect_title(out->dialect), sbuf_str(&list), n > 8 ? ", ..." : "");
            sbuf_free(&list);
            return STRATA_EINPUT;
        }
        for (char **q = out->params; q < p; q += 2)
            if (param_name_eq(out->dialect, q[0], known->name))
                return url_error(text, "parameter '%s' is given twice", known->name);
        if (known->kind == PARAM_SECONDS && !seconds_ok(p[1]))
            return url_error(text, "%s must be a whole number of seconds from 1 to 3600, not '%s'",
                             known->name, str_brief(p[1]));
        if (known->kind == PARAM_CHOICE && !param_choice_ok(out->dialect, known->choices, p[1]))
            return url_error(text, "%s must be one of %s, not '%s'", known->name, known->choices,
                             str_brief(p[1]));
        if (strcmp(p[0], known->name) != 0) {
            free(p[0]);
            p[0] = xstrdup(known->name);
        }
    }
    return 0;
}

const char *url_param_get(const strata_url *url, const char *name)
{
    for (char **p = url->params; p && p[0]; p += 2)
        if (strcmp(p[0], name) == 0)
            return p[1];
    return NULL;
}

/* Parse the query `q` (after '?') of `text` into out->params. */
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
            const char *why = NULL;
            char *k = pct_decode(q, (size_t)(eq - q), &why);
            char *v = k ? pct_decode(eq + 1, n - (size_t)(eq - q) - 1, &why) : NULL;
            if (!k || !v || !*k) {
                free(k);
                free(v);
                strvec_free(&kv);
                return url_error(text, "%s in a query parameter", why ? why : "an empty name");
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
    return check_params(text, out);
}

/* sqlite:PATH, sqlite://PATH, sqlite::memory:, each with an optional
 * query (a '?' in the path itself is written %3F). */
static int parse_sqlite(const char *text, strata_url *out)
{
    out->dialect = STRATA_SQLITE;
    const char *rest = text + strlen("sqlite:");
    size_t plen = strcspn(rest, "?");
    if (plen == strlen(":memory:") && strncmp(rest, ":memory:", plen) == 0) {
        out->database = xstrdup(":memory:");
    } else {
        if (str_starts(rest, "//")) {
            rest += 2;
            plen -= 2;
        }
        if (!plen)
            return url_error(text, "no file path (use sqlite:./file.db, sqlite:///abs/file.db "
                                   "or sqlite::memory:)");
        const char *why = NULL;
        out->database = pct_decode(rest, plen, &why);
        if (!out->database)
            return url_error(text, "%s in the path", why);
    }
    if (rest[plen] == '?')
        return parse_query(text, rest + plen + 1, out);
    out->params = xcalloc(1, sizeof(char *));
    return 0;
}

/* The part of a server URL after the scheme: [user[:password]@]host[:port]/db[?query]. */
static int parse_server(const char *text, const char *rest, strata_url *out)
{
    /* authority ends at the first '/', '?' or end */
    size_t alen = strcspn(rest, "/?");
    const char *auth_end = rest + alen;
    const char *at = NULL;
    for (const char *p = rest; p < auth_end; p++)
        if (*p == '@')
            at = p; /* the last '@' separates userinfo from host */
    const char *hostpart = rest;
    const char *why = NULL;
    if (at) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        size_t ulen = colon ? (size_t)(colon - rest) : (size_t)(at - rest);
        out->user = pct_decode(rest, ulen, &why);
        if (!out->user)
            return url_error(text, "%s in the user name", why);
        if (colon) {
            out->password = pct_decode(colon + 1, (size_t)(at - colon - 1), &why);
            if (!out->password)
                return url_error(text, "%s in the password", why);
        }
        hostpart = at + 1;
    }
    const char *port_colon = NULL;
    const char *host_start = hostpart, *host_end = auth_end;
    if (*hostpart == '[') {
        const char *close = memchr(hostpart, ']', (size_t)(auth_end - hostpart));
        if (!close)
            return url_error(text, "unterminated '[' in the host");
        host_start = hostpart + 1;
        host_end = close;
        if (close + 1 < auth_end) {
            if (close[1] != ':')
                return url_error(text, "unexpected text after ']'");
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
        if (p == auth_end)
            return url_error(text, "empty port");
        long port = 0;
        for (; p < auth_end; p++) {
            if (!isdigit((unsigned char)*p) || port > 65535)
                return url_error(text, "port is not a number from 1 to 65535");
            port = port * 10 + (*p - '0');
        }
        if (port < 1 || port > 65535)
            return url_error(text, "port is not a number from 1 to 65535");
        out->port = (int)port;
    }
    const char *p = auth_end;
    if (*p == '/') {
        p++;
        size_t dlen = strcspn(p, "?");
        if (dlen) {
            out->database = pct_decode(p, dlen, &why);
            if (!out->database)
                return url_error(text, "%s in the database name", why);
        }
        p += dlen;
    }
    if (!out->database)
        return url_error(text, "no database name (add /DBNAME after the host)");
    if (*p == '?')
        return parse_query(text, p + 1, out);
    out->params = xcalloc(1, sizeof(char *));
    return 0;
}

int strata_url_parse(const char *text, strata_url *out)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return strata_set_error(STRATA_EINPUT, "empty database URL");
    int rc;
    if (str_starts(text, "sqlite:")) {
        rc = parse_sqlite(text, out);
    } else {
        static const struct {
            const char *prefix;
            strata_dialect d;
        } schemes[] = {
            {"postgres://", STRATA_POSTGRES},
            {"postgresql://", STRATA_POSTGRES},
            {"mysql://", STRATA_MYSQL},
            {"mariadb://", STRATA_MYSQL},
        };
        const char *rest = NULL;
        for (size_t i = 0; i < sizeof schemes / sizeof schemes[0] && !rest; i++)
            if (str_starts(text, schemes[i].prefix)) {
                out->dialect = schemes[i].d;
                rest = text + strlen(schemes[i].prefix);
            }
        if (!rest)
            return url_error(text, "unknown scheme (expected postgres://, postgresql://, "
                                   "mysql://, mariadb://, sqlite:PATH or sqlite::memory:)");
        rc = parse_server(text, rest, out);
    }
    if (rc)
        strata_url_dispose(out);
    return rc;
}

/* ---- masking ---- */

static int scheme_char(char c)
{
    return isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
}

/*
 * The password of the URL-like text [s, end) that starts with its scheme:
 * after "scheme:" and any slashes, the userinfo runs to the last '@'
 * before `end` (an unencoded '/', '?' or '@' in a password must not end
 * it early), and the password is what follows its first ':'. A SQLite URL
 * has a path, not a password. *pw NULL when there is none.
 */
static void find_password(const char *s, const char *end, const char **pw, size_t *len)
{
    *pw = NULL;
    *len = 0;
    const char *colon = memchr(s, ':', (size_t)(end - s));
    if (!colon || colon == s || (colon - s == 6 && strncasecmp(s, "sqlite", 6) == 0))
        return;
    const char *rest = colon + 1;
    while (rest < end && *rest == '/')
        rest++;
    const char *at = NULL;
    for (const char *p = rest; p < end; p++)
        if (*p == '@')
            at = p;
    const char *pc = at ? memchr(rest, ':', (size_t)(at - rest)) : NULL;
    if (!pc)
        return;
    *pw = pc + 1;
    *len = (size_t)(at - pc - 1);
}

char *strata_url_mask(const char *text)
{
    if (!text)
        return xstrdup("");
    size_t n = strlen(text);
    size_t slen = 0;
    while (slen < n && scheme_char(text[slen]))
        slen++;
    const char *pw = NULL;
    size_t len = 0;
    if (slen && text[slen] == ':')
        find_password(text, text + n, &pw, &len);
    if (!pw)
        return xstrdup(text);
    sbuf b = SBUF_INIT;
    sbuf_addn(&b, text, (size_t)(pw - text));
    sbuf_add(&b, "****");
    sbuf_add(&b, pw + len);
    return sbuf_detach(&b);
}

/* Where a URL-like word that starts at s ends: at white space, a quote or
 * the end of the text. */
static const char *word_end(const char *s)
{
    while (*s && !isspace((unsigned char)*s) && *s != '\'' && *s != '"' && *s != '`')
        s++;
    return s;
}

/*
 * A word that ends inside a URL's userinfo: after "scheme:" and its slashes
 * there is a ':' with neither '@' nor '/' after it before the word ends
 * ("postgres://u:my" of "postgres://u:my secret@h/db"): a password with a
 * space or a quote in it. Then the userinfo runs on to the next '@' of the
 * line, which is returned + 1 as the URL's end; NULL when the word is
 * something else.
 */
static const char *unfinished_userinfo(const char *colon, const char *end)
{
    const char *rest = colon + 1;
    while (rest < end && *rest == '/')
        rest++;
    const char *pc = memchr(rest, ':', (size_t)(end - rest));
    if (!pc || memchr(rest, '@', (size_t)(end - rest)) || memchr(pc, '/', (size_t)(end - pc)))
        return NULL;
    const char *at = end + strcspn(end, "@\n");
    return *at == '@' ? at + 1 : NULL;
}

char *strata_text_mask(const char *text)
{
    if (!text)
        return xstrdup("");
    sbuf b = SBUF_INIT;
    const char *done = text; /* copied up to here */
    for (const char *p = text; *p; p++) {
        if (*p != ':')
            continue;
        /* the scheme before this ':': the scheme characters just before it */
        const char *s = p;
        while (s > done && scheme_char(s[-1]))
            s--;
        if (s == p)
            continue;
        const char *end = word_end(p);
        const char *pw;
        size_t len;
        find_password(s, end, &pw, &len);
        if (!pw)
            end = unfinished_userinfo(p, end);
        if (!pw && end)
            find_password(s, end, &pw, &len);
        if (!pw)
            continue;
        sbuf_addn(&b, done, (size_t)(pw - done));
        sbuf_add(&b, "****");
        done = pw + len;
        p = end - 1;
    }
    sbuf_add(&b, done);
    return sbuf_detach(&b);
}
