/*
 * fuzz_url.c - libFuzzer target for the database URL parser and masker
 * (strata_url_parse, strata_url_mask).
 *
 * Besides memory safety it checks the one promise the masker makes
 * (spec/cli.md: "a password never appears in any output"): whenever the
 * text holds something shaped like URL userinfo with a password - a scheme
 * other than sqlite, "://" or ":/" or ":", then "user:password@" - neither
 * the masked text nor the parser's error message may contain that
 * password, however malformed the rest is - nor strata_text_mask's masking
 * of the text on its own or quoted in a message. A password found in an
 * output is a leak when the same input with another password shows that
 * other ones there too (other_password), not when a message happens to hold
 * its bytes. Set
 * STRATA_FUZZ_URL_NO_LEAK_CHECK=1 to check memory safety only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzzutil.h"
#include "strata.h"

static int leak_check = -1;

/* The password-looking part of text: after the scheme and any slashes, the
 * text between the first ':' and the last '@' of what follows. *len 0 when
 * there is none. */
static const char *password_span(const char *text, size_t *len)
{
    *len = 0;
    const char *colon = strchr(text, ':');
    if (!colon || colon == text)
        return NULL;
    for (const char *p = text; p < colon; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '+' || *p == '-' ||
              *p == '.' || (p > text && *p >= '0' && *p <= '9')))
            return NULL; /* not a scheme */
    /* a SQLite path may hold ':' and '@' of its own */
    if (colon - text == 6 && strncasecmp(text, "sqlite", 6) == 0)
        return NULL;
    const char *rest = colon + 1;
    while (*rest == '/')
        rest++;
    const char *at = strrchr(rest, '@');
    if (!at)
        return NULL;
    const char *pc = memchr(rest, ':', (size_t)(at - rest));
    if (!pc)
        return NULL;
    *len = (size_t)(at - pc - 1);
    return pc + 1;
}

/* Does needle[0..n) occur in hay outside [skip, skip+n)? */
static int occurs_elsewhere(const char *hay, const char *needle, size_t n, const char *skip)
{
    for (const char *p = hay; *p; p++)
        if (p != skip && strncmp(p, needle, n) == 0)
            return 1;
    return 0;
}

/* Is text[0, end) one word for strata_text_mask - no white space and no
 * quote, which end a word in a message? (It also masks a password with a
 * space or a quote in it, best effort: tests/test_drivers.c.) */
static int one_word(const char *text, const char *end)
{
    for (const char *p = text; p < end; p++)
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f' ||
            *p == '\'' || *p == '"' || *p == '`')
            return 0;
    return 1;
}

/* What the code under test makes of a text: the parse error (NULL when it
 * parses), strata_url_mask's text, strata_text_mask's of the text alone
 * and quoted in a message (after the message's own words). Memory safety
 * and the parsed URL's shape are checked on the way. */
enum { OUT_PARSE, OUT_MASK, OUT_TEXT, OUT_QUOTED, NOUT };
static const char prefix[] = "strata: unknown command '";

static void outputs(const char *text, char *out[NOUT])
{
    strata_url url;
    out[OUT_PARSE] = NULL;
    if (strata_url_parse(text, &url) == 0) {
        /* every field a driver reads is there and NUL-terminated */
        if (!url.database || !url.params)
            abort();
        for (char **p = url.params; *p; p += 2)
            if (!p[1])
                abort(); /* a key without a value */
        strata_url_dispose(&url);
    } else {
        out[OUT_PARSE] = strdup(strata_error_message());
    }
    strata_error_clear();
    out[OUT_MASK] = strata_url_mask(text);
    out[OUT_TEXT] = strata_text_mask(text);
    char *quoted = NULL;
    if (asprintf(&quoted, "%s%s'", prefix, text) < 0)
        abort();
    char *m = strata_text_mask(quoted);
    if (!out[OUT_MASK] || !out[OUT_TEXT] || !m)
        abort();
    /* the message's own words are not the input's: left out */
    out[OUT_QUOTED] = strdup(m + sizeof prefix - 1);
    free(m);
    free(quoted);
}

/*
 * The password with every letter and digit changed (within its class, and
 * hexadecimal digits among themselves, so percent-escapes stay escapes),
 * the way `round` (1 or 2) says: the same URL's shape with another
 * password. A leak shows the password that was given, whichever it is; a
 * message that only happens to hold the password's bytes (its own words,
 * the mask's asterisks, quotes around other input) does not change with it.
 * 0 when nothing could be changed.
 */
static int other_password(char *pw, size_t n, int round)
{
    static const int shift[3][3] = {{0, 0, 0}, {5, 3, 10}, {3, 1, 7}}; /* digit, a-f, g-z */
    const int *sh = shift[round];
    int changed = 0;
    for (size_t i = 0; i < n; i++) {
        char c = pw[i];
        if (c >= '0' && c <= '9')
            c = (char)('0' + (c - '0' + sh[0]) % 10);
        else if (c >= 'a' && c <= 'f')
            c = (char)('a' + (c - 'a' + sh[1]) % 6);
        else if (c >= 'A' && c <= 'F')
            c = (char)('A' + (c - 'A' + sh[1]) % 6);
        else if (c >= 'g' && c <= 'z')
            c = (char)('g' + (c - 'g' + sh[2]) % 20);
        else if (c >= 'G' && c <= 'Z')
            c = (char)('G' + (c - 'G' + sh[2]) % 20);
        changed |= c != pw[i];
        pw[i] = c;
    }
    return changed;
}

/* Does output k of the text with the password changed the way `round`
 * says show the changed password? -1 when that cannot tell: nothing to
 * change, or the changed password stands elsewhere in the text too. */
static int shows_other(const char *text, const char *pw, size_t n, int k, int round)
{
    char *other = strdup(text);
    char *opw = other + (pw - text);
    int r = -1;
    if (other_password(opw, n, round) && !occurs_elsewhere(other, opw, n, opw)) {
        char *alt[NOUT];
        outputs(other, alt);
        r = alt[k] && memmem(alt[k], strlen(alt[k]), opw, n);
        for (int j = 0; j < NOUT; j++)
            free(alt[j]);
    }
    free(other);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (leak_check < 0) {
        const char *e = getenv("STRATA_FUZZ_URL_NO_LEAK_CHECK");
        leak_check = !(e && *e && strcmp(e, "0") != 0);
    }
    char *text = fuzz_cstr(data, size);
    size_t n;
    const char *pw = password_span(text, &n);
    /* Only a distinctive password can be looked for in the output: at least
     * 6 bytes, no "****" in it, and found nowhere else in the input. */
    int check = leak_check && pw && n >= 6 && !memmem(pw, n, "****", 4) &&
                !occurs_elsewhere(text, pw, n, pw);
    char *out[NOUT];
    outputs(text, out);
    static const char *const what[NOUT] = {"strata_url_parse's error", "strata_url_mask",
                                           "strata_text_mask", "strata_text_mask (quoted)"};
    for (int k = 0; k < NOUT && check; k++) {
        /* strata_text_mask is held to it where the URL is one word of the
         * text (a space or a quote ends a word in a message) */
        if (!out[k] || !memmem(out[k], strlen(out[k]), pw, n) ||
            (k >= OUT_TEXT && !one_word(text, pw + n)))
            continue;
        /* a leak whichever the password: two others show too */
        if (shows_other(text, pw, n, k, 1) == 1 && shows_other(text, pw, n, k, 2) == 1) {
            fprintf(stderr, "password leaked by %s:\n  input:  %s\n  output: %s\n", what[k], text,
                    out[k]);
            abort();
        }
    }
    for (int k = 0; k < NOUT; k++)
        free(out[k]);
    free(text);
    return 0;
}
