/*
 * sqltext.c - reading SQL text handed back by databases (see sqltext.h).
 */
#include "sqltext.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Skip a quoted run starting at p (p points at the opening quote); returns
 * the position after the closing quote. */
static const char *skip_quoted(const char *p, char close, int backslash)
{
    p++;
    while (*p) {
        if (backslash && *p == '\\' && p[1]) {
            p += 2;
            continue;
        }
        if (*p == close) {
            if (p[1] == close) {
                p += 2;
                continue;
            }
            return p + 1;
        }
        p++;
    }
    return p;
}

/* See sqltext.h. One pass drops what renderings differ in (quotes around
 * identifiers, casts, white space, parentheses, case outside literals);
 * a second turns PostgreSQL's =ANY(ARRAY[...]) and <>ALL(ARRAY[...]) into
 * in and notin. The result is for comparing only, not valid SQL. */
char *sql_normalize(const char *sql)
{
    sbuf b = SBUF_INIT;
    const char *p = sql;
    while (*p) {
        char c = *p;
        if (c == '\'') {
            const char *end = skip_quoted(p, '\'', 0);
            sbuf_addn(&b, p, (size_t)(end - p));
            p = end;
            continue;
        }
        if (c == '"' || c == '`' || c == '[') {
            char close = c == '[' ? ']' : c;
            if (c == '[' && b.len >= 5 && strcmp(b.p + b.len - 5, "array") == 0) {
                p++; /* ARRAY[ ... ] is not an identifier */
                continue;
            }
            const char *end = skip_quoted(p, close, 0);
            for (const char *q = p + 1; q < end - 1; q++)
                sbuf_addc(&b, (char)tolower((unsigned char)*q));
            p = end;
            continue;
        }
        if (c == ':' && p[1] == ':') {
            /* a cast: ::name[(args)][ ... ] possibly "character varying" or "text[]" */
            p += 2;
            if (*p == '"') {
                p = skip_quoted(p, '"', 0);
            } else {
                while (isalnum((unsigned char)*p) || *p == '_' || *p == ' ' || *p == '.') {
                    if (*p == ' ') {
                        /* keep multi-word type names (character varying,
                         * timestamp with time zone), stop before keywords */
                        const char *w = p + 1;
                        if (strncasecmp(w, "varying", 7) && strncasecmp(w, "precision", 9) &&
                            strncasecmp(w, "with", 4) && strncasecmp(w, "without", 7) &&
                            strncasecmp(w, "time", 4) && strncasecmp(w, "zone", 4))
                            break;
                    }
                    p++;
                }
            }
            if (*p == '(') {
                int depth = 0;
                do {
                    if (*p == '(')
                        depth++;
                    else if (*p == ')')
                        depth--;
                    p++;
                } while (*p && depth > 0);
            }
            while (p[0] == '[' && p[1] == ']') /* array types: text[] */
                p += 2;
            continue;
        }
        if (isspace((unsigned char)c) || c == '(' || c == ')' || c == ']') {
            p++;
            continue;
        }
        if (c == '!' && p[1] == '=') {
            sbuf_add(&b, "<>");
            p += 2;
            continue;
        }
        sbuf_addc(&b, (char)tolower((unsigned char)c));
        p++;
    }
    /* x = ANY (ARRAY[...]) is how PostgreSQL shows x IN (...) */
    char *s = sbuf_detach(&b);
    sbuf out = SBUF_INIT;
    for (const char *q = s; *q;) {
        if (strncmp(q, "=anyarray", 9) == 0) {
            sbuf_add(&out, "in");
            q += 9;
        } else if (strncmp(q, "<>allarray", 10) == 0) {
            sbuf_add(&out, "notin");
            q += 10;
        } else {
            sbuf_addc(&out, *q++);
        }
    }
    free(s);
    return sbuf_detach(&out);
}

/* See sqltext.h. Prefixes E'', N'' and MySQL's _charset'' are accepted;
 * anything after the closing quote but white space or a ::cast means `s`
 * is not a single literal (NULL). */
char *sql_unquote_literal(const char *s, int backslash)
{
    while (isspace((unsigned char)*s))
        s++;
    /* E'...' / N'...' / _utf8mb4'...' prefixes */
    if ((*s == 'E' || *s == 'e' || *s == 'N') && s[1] == '\'')
        s++;
    if (*s == '_') {
        const char *q = s;
        while (*q && *q != '\'')
            q++;
        if (*q == '\'')
            s = q;
    }
    if (*s != '\'')
        return NULL;
    sbuf b = SBUF_INIT;
    const char *p = s + 1;
    while (*p) {
        if (backslash && *p == '\\' && p[1]) {
            char n = p[1];
            sbuf_addc(&b, n == 'n' ? '\n' : n == 't' ? '\t' : n == '0' ? '\0' : n);
            p += 2;
            continue;
        }
        if (*p == '\'') {
            if (p[1] == '\'') {
                sbuf_addc(&b, '\'');
                p += 2;
                continue;
            }
            p++;
            break;
        }
        sbuf_addc(&b, *p++);
    }
    /* only whitespace or a ::cast may follow */
    while (isspace((unsigned char)*p))
        p++;
    if (*p && !(p[0] == ':' && p[1] == ':')) {
        sbuf_free(&b);
        return NULL;
    }
    return sbuf_detach(&b);
}

char *sql_unquote_ident(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= 2 && (s[0] == '"' || s[0] == '`' || s[0] == '[')) {
        char close = s[0] == '[' ? ']' : s[0];
        sbuf b = SBUF_INIT;
        for (size_t i = 1; i + 1 < n; i++) {
            if (s[i] == close && s[i + 1] == close && i + 2 < n)
                i++;
            sbuf_addc(&b, s[i]);
        }
        return sbuf_detach(&b);
    }
    return xstrndup(s, n);
}

char *sql_paren_body(const char *p)
{
    while (*p && *p != '(') {
        if (*p == '\'' || *p == '"' || *p == '`') {
            p = skip_quoted(p, *p, 0);
            continue;
        }
        p++;
    }
    if (!*p)
        return NULL;
    const char *start = ++p;
    int depth = 1;
    while (*p && depth) {
        if (*p == '\'' || *p == '"' || *p == '`') {
            p = skip_quoted(p, *p, 0);
            continue;
        }
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
        if (depth)
            p++;
    }
    return xstrndup(start, (size_t)(p - start));
}

int sql_table_items(const char *create_sql, strvec *items)
{
    char *body = sql_paren_body(create_sql);
    if (!body)
        return -1;
    const char *p = body, *start = body;
    int depth = 0;
    for (;;) {
        if (*p == '\'' || *p == '"' || *p == '`') {
            p = skip_quoted(p, *p, 0);
            continue;
        }
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
        if ((*p == ',' && depth == 0) || !*p) {
            const char *a = start, *e = p;
            while (a < e && isspace((unsigned char)*a))
                a++;
            while (e > a && isspace((unsigned char)e[-1]))
                e--;
            if (e > a)
                strvec_push_owned(items, xstrndup(a, (size_t)(e - a)));
            if (!*p)
                break;
            start = p + 1;
        }
        p++;
    }
    free(body);
    return 0;
}

/* Read one token at p: returns its end; *word gets an upper-cased copy of a
 * bare word (else NULL). */
static const char *token(const char *p, char **word)
{
    *word = NULL;
    while (isspace((unsigned char)*p))
        p++;
    if (!*p)
        return p;
    if (*p == '\'' || *p == '"' || *p == '`')
        return skip_quoted(p, *p, 0);
    if (*p == '[')
        return skip_quoted(p, ']', 0);
    if (*p == '(') {
        int depth = 0;
        do {
            if (*p == '\'' || *p == '"' || *p == '`') {
                p = skip_quoted(p, *p, 0);
                continue;
            }
            if (*p == '(')
                depth++;
            else if (*p == ')')
                depth--;
            p++;
        } while (*p && depth > 0);
        return p;
    }
    if (isalnum((unsigned char)*p) || *p == '_') {
        const char *s = p;
        while (isalnum((unsigned char)*p) || *p == '_')
            p++;
        char *w = xstrndup(s, (size_t)(p - s));
        for (char *q = w; *q; q++)
            *q = (char)toupper((unsigned char)*q);
        *word = w;
        return p;
    }
    return p + 1;
}

/* See sqltext.h. Only named constraints are reported: each runs from its
 * kind word to the next CONSTRAINT word (or the end of the item), trailing
 * white space trimmed; tokens skip quoted text and parentheses whole. */
void sql_item_constraints(const char *item, sql_constraint_fn fn, void *ctx)
{
    const char *p = item;
    while (*p) {
        char *w;
        const char *next = token(p, &w);
        if (next == p)
            break;
        if (w && strcmp(w, "CONSTRAINT") == 0) {
            free(w);
            const char *name_start = next;
            while (isspace((unsigned char)*name_start))
                name_start++;
            char *dummy;
            const char *name_end = token(name_start, &dummy);
            free(dummy);
            char *name = sql_unquote_ident(name_start, (size_t)(name_end - name_start));
            const char *kind_start = name_end;
            while (isspace((unsigned char)*kind_start))
                kind_start++;
            char *kind;
            const char *after_kind = token(kind_start, &kind);
            /* the constraint runs until the next CONSTRAINT word or the end */
            const char *q = after_kind;
            while (*q) {
                char *w2;
                const char *n2 = token(q, &w2);
                if (w2 && strcmp(w2, "CONSTRAINT") == 0) {
                    free(w2);
                    break;
                }
                free(w2);
                if (n2 == q)
                    break;
                q = n2;
            }
            const char *end = q;
            while (end > kind_start && isspace((unsigned char)end[-1]))
                end--;
            if (kind)
                fn(ctx, name, kind, kind_start, (size_t)(end - kind_start));
            free(kind);
            free(name);
            p = q;
            continue;
        }
        free(w);
        p = next;
    }
}

/* Skip white space and SQL comments. */
static const char *skip_blank(const char *p)
{
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (p[0] == '-' && p[1] == '-') {
            p += strcspn(p, "\n");
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

int sql_is_data_only(const char *sql)
{
    static const char *const verbs[] = {"SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE"};
    const char *p = skip_blank(sql);
    size_t n = 0;
    while (isalpha((unsigned char)p[n]))
        n++;
    int known = 0;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0] && !known; i++)
        known = n == strlen(verbs[i]) && strncasecmp(p, verbs[i], n) == 0;
    if (!known)
        return 0;
    /* one statement: no ';' outside quotes but a last one */
    for (p += n; *p; p++) {
        if (*p == '\'' || *p == '"' || *p == '`') {
            char q = *p;
            for (p++; *p && *p != q; p++)
                if (*p == '\\' && p[1])
                    p++;
            if (!*p)
                return 0;
        } else if (*p == ';') {
            return *skip_blank(p + 1) == '\0';
        }
    }
    return 1;
}
