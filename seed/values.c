/*
 * values.c - turning seed values into the values bound for a column.
 *
 * Two inputs: JSON values (seed documents, NDJSON files), checked with the
 * engine's value_fits() so seeds and migration `insert`s accept the same
 * things, and CSV fields, which are all text and are parsed by the column's
 * type here. Either way the result is what every driver accepts for the
 * column: integers and booleans typed, timestamps as UTC text, JSON as its
 * compact text, decimals as their exact digits. `why` gets a short reason
 * when a value does not fit.
 */
#include "seed.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "migration.h"

/* Keep a string alive until the row is done with. */
static const char *keep(strvec *scratch, char *s)
{
    strvec_push_owned(scratch, s);
    return s;
}

static void int_range(type_kind k, long long *lo, long long *hi)
{
    switch (k) {
    case TY_SMALLINT:
        *lo = -32768;
        *hi = 32767;
        break;
    case TY_INTEGER:
    case TY_SERIAL:
        *lo = -2147483648LL;
        *hi = 2147483647LL;
        break;
    default:
        *lo = INT64_MIN;
        *hi = INT64_MAX;
        break;
    }
}

static strata_value text_value(const char *s, size_t len)
{
    strata_value v = {STRATA_VTEXT, 0, 0, s, len};
    return v;
}

int seed_convert_json(strata_dialect d, const schema *s, const column *c, const json_t *v,
                      strata_value *out, strvec *scratch, const char **why)
{
    (void)d;
    *why = value_fits(s, c, v);
    if (*why)
        return -1;
    if (json_is_null(v)) {
        *out = strata_vnull();
        return 0;
    }
    switch (c->type.kind) {
    case TY_SERIAL:
    case TY_BIGSERIAL:
    case TY_SMALLINT:
    case TY_INTEGER:
    case TY_BIGINT:
        if (json_is_integer(v))
            *out = strata_vint(json_integer_value(v));
        else if (json_is_real(v))
            *out = strata_vint((int64_t)json_real_value(v));
        else {
            errno = 0;
            long long x = strtoll(json_string_value(v), NULL, 10);
            long long lo, hi;
            int_range(c->type.kind, &lo, &hi);
            if (errno || x < lo || x > hi) {
                *why = "an integer out of range for the column";
                return -1;
            }
            *out = strata_vint(x);
        }
        return 0;
    case TY_DECIMAL: {
        /* value_fits checked it: its digits, rounded to the scale as the
         * servers round, so every database stores the same number */
        char num[32];
        const char *t =
            json_is_integer(v)
                ? (snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)), num)
            : json_is_real(v) ? double_text(json_real_value(v), num)
                              : json_string_value(v);
        char *r = NULL;
        *why = decimal_round(t, c->type.precision, c->type.scale, &r);
        if (*why)
            return -1;
        *out = text_value(keep(scratch, r), strlen(r));
        return 0;
    }
    case TY_REAL:
    case TY_DOUBLE:
        if (json_is_integer(v)) {
            const char *t = keep(scratch, xasprintf("%lld", (long long)json_integer_value(v)));
            *out = text_value(t, strlen(t));
        } else if (json_is_real(v)) {
            char num[32];
            const char *t = keep(scratch, xstrdup(double_text(json_real_value(v), num)));
            *out = text_value(t, strlen(t));
        } else {
            *out = text_value(json_string_value(v), json_string_length(v));
        }
        return 0;
    case TY_BOOLEAN:
        *out = strata_vbool(json_is_true(v) || (json_is_integer(v) && json_integer_value(v)));
        return 0;
    case TY_TIMESTAMP:
    case TY_TIMESTAMPTZ: {
        char buf[64];
        if (timestamp_to_utc(json_string_value(v), buf, sizeof buf) != 0) {
            *why = "not a valid ISO-8601 timestamp";
            return -1;
        }
        const char *t = keep(scratch, xstrdup(buf));
        *out = text_value(t, strlen(t));
        return 0;
    }
    case TY_JSON:
    case TY_JSONB: {
        const char *t = keep(scratch, json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY));
        *out = text_value(t, strlen(t));
        return 0;
    }
    case TY_BINARY:
        *out = strata_vblob(json_string_value(v), json_string_length(v));
        return 0;
    default:
        if (!json_is_string(v)) {
            *why = "not a string";
            return -1;
        }
        *out = text_value(json_string_value(v), json_string_length(v));
        return 0;
    }
}

/* ---- CSV fields ---- */

static int bool_text(const char *s, int *truth)
{
    static const char *const yes[] = {"true", "t", "1", "yes", "y", "on"};
    static const char *const no[] = {"false", "f", "0", "no", "n", "off"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (str_ieq(s, yes[i])) {
            *truth = 1;
            return 1;
        }
        if (str_ieq(s, no[i])) {
            *truth = 0;
            return 1;
        }
    }
    return 0;
}

static int hexdigits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int uuid_text(const char *s, size_t len)
{
    return len == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' &&
           hexdigits(s, 8) && hexdigits(s + 9, 4) && hexdigits(s + 14, 4) && hexdigits(s + 19, 4) &&
           hexdigits(s + 24, 12);
}

int seed_convert_text(strata_dialect d, const schema *s, const column *c, const char *text,
                      size_t len, int null, strata_value *out, strvec *scratch, const char **why)
{
    (void)d;
    *why = NULL;
    if (null) {
        if (!c->nullable) {
            *why = "null in a NOT NULL column";
            return -1;
        }
        *out = strata_vnull();
        return 0;
    }
    switch (c->type.kind) {
    case TY_SERIAL:
    case TY_BIGSERIAL:
    case TY_SMALLINT:
    case TY_INTEGER:
    case TY_BIGINT: {
        char *end;
        errno = 0;
        long long x = strtoll(text, &end, 10);
        long long lo, hi;
        int_range(c->type.kind, &lo, &hi);
        if (end == text || *end || isspace((unsigned char)*text)) {
            *why = "not an integer";
            return -1;
        }
        if (errno || x < lo || x > hi) {
            *why = "an integer out of range for the column";
            return -1;
        }
        *out = strata_vint(x);
        return 0;
    }
    case TY_DECIMAL: {
        char *r = NULL;
        *why = number_text(text, 1) ? decimal_round(text, c->type.precision, c->type.scale, &r)
                                    : "not a number";
        if (*why)
            return -1;
        *out = text_value(keep(scratch, r), strlen(r));
        return 0;
    }
    case TY_REAL:
    case TY_DOUBLE:
        if (!number_text(text, 1)) {
            *why = "not a number";
            return -1;
        }
        *out = text_value(text, len);
        return 0;
    case TY_BOOLEAN: {
        int truth;
        if (!bool_text(text, &truth)) {
            *why = "not a boolean (true or false)";
            return -1;
        }
        *out = strata_vbool(truth);
        return 0;
    }
    case TY_STRING: {
        size_t chars = 0;
        for (size_t i = 0; i < len; i++)
            if (((unsigned char)text[i] & 0xC0) != 0x80)
                chars++;
        if (chars > (size_t)c->type.length) {
            *why = "a string longer than the column's length";
            return -1;
        }
        *out = text_value(text, len);
        return 0;
    }
    case TY_UUID:
        if (!uuid_text(text, len)) {
            *why = "not a UUID";
            return -1;
        }
        *out = text_value(text, len);
        return 0;
    case TY_DATE:
    case TY_TIME: {
        json_t *j = json_stringn(text, len);
        *why = j ? value_fits(s, c, j) : "not valid UTF-8";
        json_decref(j);
        if (*why)
            return -1;
        *out = text_value(text, len);
        return 0;
    }
    case TY_TIMESTAMP:
    case TY_TIMESTAMPTZ: {
        char buf[64];
        if (!valid_timestamp(text) || timestamp_to_utc(text, buf, sizeof buf) != 0) {
            *why = "not an ISO-8601 timestamp";
            return -1;
        }
        const char *t = keep(scratch, xstrdup(buf));
        *out = text_value(t, strlen(t));
        return 0;
    }
    case TY_JSON:
    case TY_JSONB: {
        json_error_t err;
        json_t *j = json_loadb(text, len, JSON_DECODE_ANY, &err);
        if (!j) {
            *why = "not valid JSON";
            return -1;
        }
        json_decref(j);
        *out = text_value(text, len);
        return 0;
    }
    case TY_ENUM: {
        const strvec *vals = column_enum_values(s, c);
        if (vals && vals->n && strvec_find(vals, text) < 0) {
            *why = "not one of the enum's values";
            return -1;
        }
        *out = text_value(text, len);
        return 0;
    }
    case TY_BINARY:
        *out = strata_vblob(text, len);
        return 0;
    default:
        *out = text_value(text, len);
        return 0;
    }
}

json_t *seed_value_to_json(const strata_value *v)
{
    switch (v->type) {
    case STRATA_VNULL:
        return json_null();
    case STRATA_VINT:
        return json_integer(v->i);
    case STRATA_VBOOL:
        return json_boolean(v->i);
    case STRATA_VREAL:
        return json_real(v->d);
    case STRATA_VTEXT:
    case STRATA_VBLOB:
        return json_stringn_nocheck(v->s ? v->s : "", v->len);
    }
    return json_null();
}

char *seed_json_brief(const json_t *v)
{
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!t)
        return xstrdup("?");
    if (strlen(t) > 60) {
        char *s = xasprintf("%.57s...", t);
        free(t);
        return s;
    }
    return t;
}
