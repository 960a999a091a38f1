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
 * of the text on its own or quoted in a message. Set
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
    /* A message puts quotes around the parts of the input it quotes, so a
     * password that begins or ends with quotes may be made by the message
     * out of other input: not looked for when what lies inside its quotes
     * occurs elsewhere in the input too. */
    if (check && (pw[0] == '\'' || pw[n - 1] == '\'')) {
        size_t a = 0, b = n;
        while (a < b && pw[a] == '\'')
            a++;
        while (b > a && pw[b - 1] == '\'')
            b--;
        check = b > a && !occurs_elsewhere(text, pw + a, b - a, pw + a);
    }

    strata_url url;
    if (strata_url_parse(text, &url) == 0) {
        /* every field a driver reads is there and NUL-terminated */
        if (!url.database || !url.params)
            abort();
        for (char **p = url.params; *p; p += 2)
            if (!p[1])
                abort(); /* a key without a value */
        strata_url_dispose(&url);
    } else {
        const char *msg = strata_error_message();
        if (check && memmem(msg, strlen(msg), pw, n)) {
            fprintf(stderr,
                    "password leaked by strata_url_parse's error:\n  input: %s\n  error: %s\n",
                    text, msg);
            abort();
        }
    }
    strata_error_clear();

    char *masked = strata_url_mask(text);
    if (!masked)
        abort();
    if (check && memmem(masked, strlen(masked), pw, n)) {
        fprintf(stderr, "password leaked by strata_url_mask:\n  input:  %s\n  masked: %s\n", text,
                masked);
        abort();
    }
    free(masked);
    /* the masker of whole texts (the command line's messages), on the text
     * alone and quoted in a message, when the URL is one word there */
    static const char prefix[] = "strata: unknown command '";
    char *quoted = NULL;
    if (asprintf(&quoted, "%s%s'", prefix, text) < 0)
        abort();
    for (int k = 0; k < 2; k++) {
        const char *in = k ? quoted : text;
        masked = strata_text_mask(in);
        if (!masked)
            abort();
        /* the message's own words are not the input's: looked at after them
         * (the masker leaves them as they are) */
        const char *from = masked + (k ? sizeof prefix - 1 : 0);
        if (check && one_word(text, pw + n) && memmem(from, strlen(from), pw, n)) {
            fprintf(stderr, "password leaked by strata_text_mask:\n  input:  %s\n  masked: %s\n",
                    in, masked);
            abort();
        }
        free(masked);
    }
    free(quoted);
    free(text);
    return 0;
}
