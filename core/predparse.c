/*
 * predparse.c - turning SQL expressions that databases print back (check
 * clauses, partial-index predicates) into the DSL's predicate objects, so a
 * pulled schema stays portable.
 *
 * Understood: comparisons of a column with a literal or another column
 * (=, <>, !=, <, <=, >, >=), IS [NOT] NULL, [NOT] IN (...), PostgreSQL's
 * `= ANY (ARRAY[...])` and `<> ALL (ARRAY[...])`, AND, OR, NOT,
 * parentheses, and PostgreSQL casts (::type), which are dropped. Anything
 * else returns NULL and the caller keeps the SQL text.
 */
#include "predparse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    T_END,
    T_IDENT,
    T_STRING,
    T_NUMBER,
    T_WORD,
    T_OP,
    T_LP,
    T_RP,
    T_LB,
    T_RB,
    T_COMMA
} tok_kind;

typedef struct tok {
    tok_kind kind;
    char *text; /* identifier (unquoted), string (unescaped), number, WORD (upper), op */
} tok;

typedef struct lexer {
    tok *v;
    size_t n, cap, pos;
} lexer;

static void push(lexer *lx, tok_kind k, char *text)
{
    lx->v = xgrow(lx->v, &lx->cap, lx->n + 1, sizeof *lx->v);
    lx->v[lx->n].kind = k;
    lx->v[lx->n].text = text;
    lx->n++;
}

static void lexer_free(lexer *lx)
{
    for (size_t i = 0; i < lx->n; i++)
        free(lx->v[i].text);
    free(lx->v);
}

/* Skip a PostgreSQL cast after a token: ::name [words] [(args)] [[]] */
static const char *skip_cast(const char *p)
{
    while (p[0] == ':' && p[1] == ':') {
        p += 2;
        if (*p == '"') {
            p++;
            while (*p && *p != '"')
                p++;
            if (*p)
                p++;
        } else {
            for (;;) {
                while (isalnum((unsigned char)*p) || *p == '_' || *p == '.')
                    p++;
                const char *w = p;
                while (*w == ' ')
                    w++;
                if (!strncasecmp(w, "varying", 7) || !strncasecmp(w, "precision", 9) ||
                    !strncasecmp(w, "with", 4) || !strncasecmp(w, "without", 7) ||
                    !strncasecmp(w, "time ", 5) || !strncasecmp(w, "zone", 4))
                    p = w;
                else
                    break;
            }
        }
        if (*p == '(') {
            while (*p && *p != ')')
                p++;
            if (*p)
                p++;
        }
        while (p[0] == '[' && p[1] == ']') /* array types: text[] */
            p += 2;
    }
    return p;
}

/* Split an SQL expression into tokens, ending with T_END: strings and
 * quoted identifiers unescaped, numbers (with a sign where an operand is
 * expected), the keywords predicates use (upper-cased T_WORDs), other words
 * as identifiers, comparison operators (!= as <>). A PostgreSQL ::cast
 * after an operand is skipped. -1 on anything else (an unterminated quote,
 * an operator predicates do not have). */
static int lex(const char *s, lexer *lx)
{
    const char *p = s;
    while (*p) {
        if (isspace((unsigned char)*p)) {
            p++;
            continue;
        }
        if (*p == '\'') {
            sbuf b = SBUF_INIT;
            p++;
            while (*p) {
                if (*p == '\'' && p[1] == '\'') {
                    sbuf_addc(&b, '\'');
                    p += 2;
                    continue;
                }
                if (*p == '\'')
                    break;
                sbuf_addc(&b, *p++);
            }
            if (*p != '\'') {
                sbuf_free(&b);
                return -1;
            }
            p = skip_cast(p + 1);
            push(lx, T_STRING, sbuf_detach(&b));
            continue;
        }
        if (*p == '"' || *p == '`' || *p == '[') {
            /* ARRAY[ is a bracket, not an identifier */
            if (*p == '[' && lx->n && lx->v[lx->n - 1].kind == T_WORD &&
                strcmp(lx->v[lx->n - 1].text, "ARRAY") == 0) {
                push(lx, T_LB, NULL);
                p++;
                continue;
            }
            char close = *p == '[' ? ']' : *p;
            sbuf b = SBUF_INIT;
            p++;
            while (*p) {
                if (*p == close && p[1] == close) {
                    sbuf_addc(&b, close);
                    p += 2;
                    continue;
                }
                if (*p == close)
                    break;
                sbuf_addc(&b, *p++);
            }
            if (*p != close) {
                sbuf_free(&b);
                return -1;
            }
            p = skip_cast(p + 1);
            push(lx, T_IDENT, sbuf_detach(&b));
            continue;
        }
        if (isdigit((unsigned char)*p) ||
            ((*p == '-' || *p == '.') && isdigit((unsigned char)p[1]) &&
             (lx->n == 0 || lx->v[lx->n - 1].kind == T_OP || lx->v[lx->n - 1].kind == T_LP ||
              lx->v[lx->n - 1].kind == T_COMMA || lx->v[lx->n - 1].kind == T_LB ||
              lx->v[lx->n - 1].kind == T_WORD))) {
            const char *st = p;
            if (*p == '-')
                p++;
            while (isdigit((unsigned char)*p) || *p == '.' || *p == 'e' || *p == 'E')
                p++;
            push(lx, T_NUMBER, xstrndup(st, (size_t)(p - st)));
            p = skip_cast(p);
            continue;
        }
        if (isalpha((unsigned char)*p) || *p == '_') {
            const char *st = p;
            while (isalnum((unsigned char)*p) || *p == '_' || (unsigned char)*p >= 0x80)
                p++;
            char *w = xstrndup(st, (size_t)(p - st));
            char *up = xstrdup(w);
            for (char *q = up; *q; q++)
                *q = (char)toupper((unsigned char)*q);
            static const char *const words[] = {"AND", "OR",  "NOT",   "IS",   "NULL", "IN",
                                                "ANY", "ALL", "ARRAY", "TRUE", "FALSE"};
            int is_word = 0;
            for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
                if (strcmp(up, words[k]) == 0)
                    is_word = 1;
            if (is_word) {
                free(w);
                push(lx, T_WORD, up);
            } else {
                free(up);
                push(lx, T_IDENT, w);
            }
            p = skip_cast(p);
            continue;
        }
        if (*p == '(') {
            push(lx, T_LP, NULL);
            p++;
            continue;
        }
        if (*p == ')') {
            push(lx, T_RP, NULL);
            p = skip_cast(p + 1);
            continue;
        }
        if (*p == ']') {
            push(lx, T_RB, NULL);
            p++;
            continue;
        }
        if (*p == ',') {
            push(lx, T_COMMA, NULL);
            p++;
            continue;
        }
        static const char *const ops[] = {"<>", "!=", "<=", ">=", "=", "<", ">"};
        int matched = 0;
        for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
            size_t n = strlen(ops[k]);
            if (strncmp(p, ops[k], n) == 0) {
                push(lx, T_OP, xstrdup(strcmp(ops[k], "!=") == 0 ? "<>" : ops[k]));
                p += n;
                matched = 1;
                break;
            }
        }
        if (!matched)
            return -1;
    }
    push(lx, T_END, NULL);
    return 0;
}

static tok *peek(lexer *lx)
{
    return &lx->v[lx->pos];
}

static int accept_word(lexer *lx, const char *w)
{
    tok *t = peek(lx);
    if (t->kind == T_WORD && strcmp(t->text, w) == 0) {
        lx->pos++;
        return 1;
    }
    return 0;
}

static int accept(lexer *lx, tok_kind k)
{
    if (peek(lx)->kind == k) {
        lx->pos++;
        return 1;
    }
    return 0;
}

static json_t *parse_or(lexer *lx);

/* A literal value, or NULL if the token is not one. */
static json_t *literal(lexer *lx)
{
    tok *t = peek(lx);
    json_t *v = NULL;
    if (t->kind == T_STRING)
        v = json_string(t->text);
    else if (t->kind == T_NUMBER) {
        if (strchr(t->text, '.') || strchr(t->text, 'e') || strchr(t->text, 'E'))
            v = json_real(strtod(t->text, NULL));
        else
            v = json_integer(strtoll(t->text, NULL, 10));
    } else if (t->kind == T_WORD && strcmp(t->text, "TRUE") == 0)
        v = json_true();
    else if (t->kind == T_WORD && strcmp(t->text, "FALSE") == 0)
        v = json_false();
    /* a parenthesised literal: (-1) */
    else if (t->kind == T_LP && lx->v[lx->pos + 1].kind != T_END &&
             (lx->v[lx->pos + 1].kind == T_NUMBER || lx->v[lx->pos + 1].kind == T_STRING) &&
             lx->v[lx->pos + 2].kind == T_RP) {
        lx->pos++;
        v = literal(lx);
        lx->pos++;
        return v;
    }
    if (v)
        lx->pos++;
    return v;
}

static json_t *value_list(lexer *lx, tok_kind close)
{
    json_t *arr = json_array();
    for (;;) {
        json_t *v = literal(lx);
        if (!v) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, v);
        if (accept(lx, T_COMMA))
            continue;
        if (accept(lx, close))
            return arr;
        json_decref(arr);
        return NULL;
    }
}

static const char *flip_op(const char *op)
{
    if (!strcmp(op, "<"))
        return ">";
    if (!strcmp(op, ">"))
        return "<";
    if (!strcmp(op, "<="))
        return ">=";
    if (!strcmp(op, ">="))
        return "<=";
    return op;
}

static const char *op_key(const char *op)
{
    if (!strcmp(op, "="))
        return "eq";
    if (!strcmp(op, "<>"))
        return "ne";
    if (!strcmp(op, "<"))
        return "lt";
    if (!strcmp(op, "<="))
        return "le";
    if (!strcmp(op, ">"))
        return "gt";
    if (!strcmp(op, ">="))
        return "ge";
    return NULL;
}

/* A column, possibly parenthesised as PostgreSQL prints cast columns:
 * (currency)::text. Returns its name (owned by the lexer) or NULL. */
static const char *column_operand(lexer *lx)
{
    if (peek(lx)->kind == T_IDENT) {
        return lx->v[lx->pos++].text;
    }
    if (peek(lx)->kind == T_LP && lx->v[lx->pos + 1].kind == T_IDENT &&
        lx->v[lx->pos + 2].kind == T_RP) {
        lx->pos += 3;
        return lx->v[lx->pos - 2].text;
    }
    return NULL;
}

/* (ARRAY[...]) or ((ARRAY[...])) after ANY / ALL */
static json_t *array_list(lexer *lx)
{
    int depth = 0;
    while (accept(lx, T_LP))
        depth++;
    if (depth == 0 || !accept_word(lx, "ARRAY") || !accept(lx, T_LB))
        return NULL;
    json_t *vals = value_list(lx, T_RB);
    for (int i = 0; vals && i < depth; i++)
        if (!accept(lx, T_RP)) {
            json_decref(vals);
            return NULL;
        }
    return vals;
}

/* One comparison, as a predicate object: column op literal-or-column,
 * column IS [NOT] NULL, column [NOT] IN (...), PostgreSQL's
 * = ANY (ARRAY[...]) and <> ALL (ARRAY[...]), or literal op column (turned
 * around). NULL for anything else; the caller then keeps the SQL text. */
static json_t *comparison(lexer *lx)
{
    const char *colname = column_operand(lx);
    if (colname) {
        char *col = (char *)colname;
        if (accept_word(lx, "IS")) {
            int negate = accept_word(lx, "NOT");
            if (!accept_word(lx, "NULL"))
                return NULL;
            return json_pack("{s:s, s:b}", "column", col, "is_null", !negate);
        }
        int negate = accept_word(lx, "NOT");
        if (accept_word(lx, "IN")) {
            if (!accept(lx, T_LP))
                return NULL;
            json_t *vals = value_list(lx, T_RP);
            if (!vals)
                return NULL;
            json_t *p = json_pack("{s:s, s:o}", "column", col, "in", vals);
            return negate ? json_pack("{s:o}", "not", p) : p;
        }
        if (negate)
            return NULL;
        if (peek(lx)->kind != T_OP)
            return NULL;
        const char *op = peek(lx)->text;
        lx->pos++;
        /* = ANY (ARRAY[...]) / <> ALL (ARRAY[...]) */
        int any = 0, all = 0;
        if (accept_word(lx, "ANY"))
            any = 1;
        else if (accept_word(lx, "ALL"))
            all = 1;
        if (any || all) {
            json_t *vals = array_list(lx);
            if (!vals)
                return NULL;
            if (any && !strcmp(op, "="))
                return json_pack("{s:s, s:o}", "column", col, "in", vals);
            if (all && !strcmp(op, "<>"))
                return json_pack("{s:{s:s, s:o}}", "not", "column", col, "in", vals);
            json_decref(vals);
            return NULL;
        }
        const char *key = op_key(op);
        if (!key)
            return NULL;
        size_t save = lx->pos;
        const char *other = column_operand(lx);
        if (other)
            return json_pack("{s:s, s:{s:s}}", "column", col, key, "column", other);
        lx->pos = save;
        json_t *v = literal(lx);
        if (!v)
            return NULL;
        return json_pack("{s:s, s:o}", "column", col, key, v);
    }
    /* literal op column */
    json_t *v = literal(lx);
    if (!v)
        return NULL;
    if (peek(lx)->kind != T_OP) {
        json_decref(v);
        return NULL;
    }
    const char *key = op_key(flip_op(peek(lx)->text));
    lx->pos++;
    const char *other = key ? column_operand(lx) : NULL;
    if (!other) {
        json_decref(v);
        return NULL;
    }
    return json_pack("{s:s, s:o}", "column", other, key, v);
}

static json_t *primary(lexer *lx)
{
    if (accept_word(lx, "NOT")) {
        json_t *inner = primary(lx);
        return inner ? json_pack("{s:o}", "not", inner) : NULL;
    }
    size_t save = lx->pos;
    if (accept(lx, T_LP)) {
        json_t *e = parse_or(lx);
        if (e && accept(lx, T_RP))
            return e;
        if (e)
            json_decref(e);
        lx->pos = save; /* maybe a parenthesised literal */
    }
    return comparison(lx);
}

/* Fold nested and/or of the same kind. */
static json_t *combine(const char *key, json_t *a, json_t *b)
{
    json_t *arr = json_object_get(a, key);
    if (arr && json_object_size(a) == 1) {
        json_t *barr = json_object_get(b, key);
        if (barr && json_object_size(b) == 1) {
            json_array_extend(arr, barr);
            json_decref(b);
        } else {
            json_array_append_new(arr, b);
        }
        return a;
    }
    return json_pack("{s:[o, o]}", key, a, b);
}

static json_t *parse_and(lexer *lx)
{
    json_t *l = primary(lx);
    while (l && accept_word(lx, "AND")) {
        json_t *r = primary(lx);
        if (!r) {
            json_decref(l);
            return NULL;
        }
        l = combine("and", l, r);
    }
    return l;
}

static json_t *parse_or(lexer *lx)
{
    json_t *l = parse_and(lx);
    while (l && accept_word(lx, "OR")) {
        json_t *r = parse_and(lx);
        if (!r) {
            json_decref(l);
            return NULL;
        }
        l = combine("or", l, r);
    }
    return l;
}

json_t *predicate_from_sql(const char *sql)
{
    lexer lx;
    memset(&lx, 0, sizeof lx);
    if (lex(sql, &lx) != 0) {
        lexer_free(&lx);
        return NULL;
    }
    json_t *p = parse_or(&lx);
    if (p && peek(&lx)->kind != T_END) {
        json_decref(p);
        p = NULL;
    }
    lexer_free(&lx);
    return p;
}
