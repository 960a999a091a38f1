/*
 * diff.c - comparing two schema models (introspect.h): the migrations'
 * model with a database, or two databases with each other.
 *
 * Expressions (checks, partial-index predicates, SQL defaults) compare by
 * normalised text; a predicate object on one side is rendered for the
 * other side's dialect first. Values compare by meaning (0 = 0.0 = '0',
 * false = 0, DEFAULT NULL = no default). With `portable`, differences that
 * are inherent to a documented per-dialect mapping do not count: timestamp
 * vs timestamptz and json vs jsonb on MySQL, serial vs bigserial keys on
 * SQLite, named vs inline enums with the same values, unique constraint vs
 * unique index, RESTRICT vs NO ACTION.
 */
#include "compile.h"
#include "introspect.h"
#include "sqltext.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void schema_diff_free(schema_diff *d)
{
    for (size_t i = 0; i < d->n; i++) {
        schema_diff_item *it = &d->v[i];
        free(it->kind);
        free(it->table);
        free(it->name);
        free(it->what);
        free(it->left);
        free(it->right);
        free(it->line);
    }
    free(d->v);
    memset(d, 0, sizeof *d);
}

typedef struct dctx {
    const diff_options *opt;
    const schema *l, *r;
    schema_diff *out;
    const char *ll, *rl;
} dctx;

static void add(dctx *c, const char *kind, const char *table, const char *name, const char *what,
                const char *left, const char *right)
{
    schema_diff *d = c->out;
    d->v = xgrow(d->v, &d->cap, d->n + 1, sizeof *d->v);
    schema_diff_item *it = &d->v[d->n++];
    it->kind = xstrdup(kind);
    it->table = table ? xstrdup(table) : NULL;
    it->name = name ? xstrdup(name) : NULL;
    it->what = xstrdup(what);
    it->left = left ? xstrdup(left) : NULL;
    it->right = right ? xstrdup(right) : NULL;
    sbuf b = SBUF_INIT;
    sbuf_addf(&b, "%s ", kind);
    if (table && name)
        sbuf_addf(&b, "%s.%s", table, name);
    else
        sbuf_add(&b, table ? table : name ? name : "?");
    if (strcmp(what, "missing") == 0)
        sbuf_addf(&b, ": only in %s%s%s", c->ll, left ? ": " : "", left ? left : "");
    else if (strcmp(what, "extra") == 0)
        sbuf_addf(&b, ": only in %s%s%s", c->rl, right ? ": " : "", right ? right : "");
    else
        sbuf_addf(&b, ": %s differs: %s %s, %s %s", what, c->ll, left ? left : "(none)", c->rl,
                  right ? right : "(none)");
    it->line = sbuf_detach(&b);
}

/* ---- rendering for messages ---- */

static char *type_text(const schema *s, const column *c)
{
    char *t = type_describe(&c->type);
    if (c->type.kind == TY_ENUM) {
        const strvec *v = column_enum_values(s, c);
        sbuf b = SBUF_INIT;
        sbuf_add(&b, "enum(");
        for (size_t i = 0; v && i < v->n; i++)
            sbuf_addf(&b, "%s%s", i ? "," : "", v->v[i]);
        sbuf_addc(&b, ')');
        free(t);
        return sbuf_detach(&b);
    }
    return t;
}

static char *default_text(const column *c, strata_dialect d)
{
    switch (c->def.kind) {
    case DEF_NONE:
        return NULL;
    case DEF_NOW:
        return xstrdup("now");
    case DEF_UUID:
        return xstrdup("uuid");
    case DEF_SQL:
        for (int k = 0; k < STRATA_DIALECT_COUNT; k++)
            if (c->def.sql[(k + (int)d) % STRATA_DIALECT_COUNT])
                return xasprintf("sql %s", c->def.sql[(k + (int)d) % STRATA_DIALECT_COUNT]);
        return xstrdup("sql");
    case DEF_LITERAL:
        if (json_is_null(c->def.literal))
            return NULL;
        return json_dumps(c->def.literal, JSON_ENCODE_ANY | JSON_COMPACT);
    }
    return NULL;
}

/* A predicate or check as normalised SQL for dialect d. */
static char *expr_norm(const schema *s, const table *t, const json_t *e, strata_dialect d)
{
    if (!e)
        return xstrdup("");
    if (json_is_string(e))
        return sql_normalize(json_string_value(e));
    compile_target tg = compile_target_default(d);
    sbuf b = SBUF_INIT;
    if (render_expression(&b, &tg, s, t, e) != 0) {
        sbuf_free(&b);
        char *j = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
        return j;
    }
    char *n = sql_normalize(sbuf_str(&b));
    sbuf_free(&b);
    return n;
}

/* ---- equality ---- */

/* Is a documented per-dialect ambiguity allowed? `portable` allows all of
 * them; otherwise only those of the dialect being compared. */
static int lossy_mysql(const dctx *c)
{
    return c->opt->portable || c->opt->dialect == STRATA_MYSQL;
}

static int lossy_sqlite(const dctx *c)
{
    return c->opt->portable || c->opt->dialect == STRATA_SQLITE;
}

static int canon_kind(const dctx *c, type_kind k, int is_pk)
{
    if (lossy_mysql(c) && k == TY_TIMESTAMP)
        return TY_TIMESTAMPTZ;
    if (lossy_mysql(c) && k == TY_JSONB)
        return TY_JSON;
    if (lossy_sqlite(c) && k == TY_BIGSERIAL && is_pk)
        return TY_SERIAL;
    return k;
}

static int types_equal(const dctx *c, const column *a, const table *ta, const column *b,
                       const table *tb)
{
    int apk = ta->pk.n == 1 && strcmp(ta->pk.v[0], a->name) == 0;
    int bpk = tb->pk.n == 1 && strcmp(tb->pk.v[0], b->name) == 0;
    if (canon_kind(c, a->type.kind, apk) != canon_kind(c, b->type.kind, bpk))
        return 0;
    switch (a->type.kind) {
    case TY_STRING:
        return a->type.length == b->type.length;
    case TY_DECIMAL:
        return a->type.precision == b->type.precision && a->type.scale == b->type.scale;
    case TY_TIME:
    case TY_TIMESTAMP:
    case TY_TIMESTAMPTZ:
        return a->type.precision == b->type.precision;
    case TY_ENUM: {
        const strvec *va = column_enum_values(c->l, a), *vb = column_enum_values(c->r, b);
        /* named or inline: enum types are compared on their own */
        return va && vb && strvec_equal(va, vb);
    }
    default:
        return 1;
    }
}

static int json_values_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) || json_is_number(b) || json_is_boolean(a) || json_is_boolean(b)) {
        double x, y;
        int ok = 1;
        if (json_is_number(a))
            x = json_number_value(a);
        else if (json_is_boolean(a))
            x = json_is_true(a);
        else if (json_is_string(a))
            x = strtod(json_string_value(a), NULL);
        else
            ok = 0;
        if (json_is_number(b))
            y = json_number_value(b);
        else if (json_is_boolean(b))
            y = json_is_true(b);
        else if (json_is_string(b))
            y = strtod(json_string_value(b), NULL);
        else
            ok = 0;
        return ok && fabs(x - y) < 1e-9;
    }
    return json_equal((json_t *)a, (json_t *)b);
}

/* A literal default as comparable text for its column's type: timestamps
 * in UTC without a zone suffix, bytes from their hex forms ('\x..' on
 * PostgreSQL, X'..' elsewhere). NULL for other types (compare as JSON). */
static char *canonical_literal(const column *col, const json_t *v)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    if (col->type.kind == TY_TIMESTAMP || col->type.kind == TY_TIMESTAMPTZ) {
        char buf[64];
        size_t n = strlen(s);
        char *trim = xstrdup(s);
        if (n > 3 && str_ends(trim, "+00"))
            trim[n - 3] = '\0';
        int ok = timestamp_to_utc(trim, buf, sizeof buf) == 0;
        free(trim);
        return ok ? xstrdup(buf) : NULL;
    }
    if (col->type.kind == TY_BINARY) {
        const char *hex = NULL;
        if (str_starts(s, "\\x"))
            hex = s + 2;
        else if ((s[0] == 'X' || s[0] == 'x') && s[1] == '\'')
            hex = s + 2;
        if (!hex)
            return xstrdup(s);
        sbuf b = SBUF_INIT;
        for (const char *p = hex; p[0] && p[1] && p[0] != '\''; p += 2) {
            char pair[3] = {p[0], p[1], 0};
            sbuf_addc(&b, (char)strtol(pair, NULL, 16));
        }
        return sbuf_detach(&b);
    }
    return NULL;
}

static int defaults_equal(const dctx *c, const column *a, const column *b)
{
    default_kind ka = a->def.kind, kb = b->def.kind;
    if (ka == DEF_LITERAL && json_is_null(a->def.literal))
        ka = DEF_NONE;
    if (kb == DEF_LITERAL && json_is_null(b->def.literal))
        kb = DEF_NONE;
    if (type_is_serial(a->type.kind) || type_is_serial(b->type.kind))
        return 1;
    if (ka != kb)
        return 0;
    if (ka == DEF_LITERAL) {
        char *x = canonical_literal(a, a->def.literal), *y = canonical_literal(b, b->def.literal);
        int eq = x && y ? strcmp(x, y) == 0 : json_values_equal(a->def.literal, b->def.literal);
        free(x);
        free(y);
        return eq;
    }
    if (ka == DEF_SQL) {
        strata_dialect d = c->opt->dialect;
        const char *x = a->def.sql[d], *y = b->def.sql[d];
        if (!x || !y)
            return 1; /* nothing comparable for this dialect */
        char *nx = sql_normalize(x), *ny = sql_normalize(y);
        int eq = strcmp(nx, ny) == 0;
        free(nx);
        free(ny);
        return eq;
    }
    return 1;
}

/* ---- tables ---- */

static void compare_columns(dctx *c, const table *a, const table *b)
{
    strata_dialect d = c->opt->dialect;
    for (size_t i = 0; i < a->ncols; i++) {
        const column *ca = &a->cols[i];
        const column *cb = table_column(b, ca->name);
        if (!cb) {
            char *t = type_text(c->l, ca);
            add(c, "column", a->name, ca->name, "missing", t, NULL);
            free(t);
            continue;
        }
        if (!types_equal(c, ca, a, cb, b)) {
            char *x = type_text(c->l, ca), *y = type_text(c->r, cb);
            add(c, "column", a->name, ca->name, "type", x, y);
            free(x);
            free(y);
        }
        int na = ca->nullable, nb = cb->nullable;
        if (na != nb && !(type_is_serial(ca->type.kind) || type_is_serial(cb->type.kind)))
            add(c, "column", a->name, ca->name, "nullable", na ? "NULL" : "NOT NULL",
                nb ? "NULL" : "NOT NULL");
        if (!defaults_equal(c, ca, cb)) {
            char *x = default_text(ca, d), *y = default_text(cb, d);
            add(c, "column", a->name, ca->name, "default", x ? x : "(none)", y ? y : "(none)");
            free(x);
            free(y);
        }
        if (!c->opt->ignore_column_order) {
            int pa = table_column_pos(a, ca->name), pb = table_column_pos(b, ca->name);
            if (pa != pb) {
                char x[32], y[32];
                snprintf(x, sizeof x, "%d", pa + 1);
                snprintf(y, sizeof y, "%d", pb + 1);
                add(c, "column", a->name, ca->name, "position", x, y);
            }
        }
    }
    for (size_t i = 0; i < b->ncols; i++)
        if (!table_column(a, b->cols[i].name)) {
            char *t = type_text(c->r, &b->cols[i]);
            add(c, "column", b->name, b->cols[i].name, "extra", NULL, t);
            free(t);
        }
}

static char *strvec_join(const strvec *v)
{
    sbuf b = SBUF_INIT;
    for (size_t i = 0; i < v->n; i++)
        sbuf_addf(&b, "%s%s", i ? ", " : "", v->v[i]);
    return sbuf_detach(&b);
}

static char *index_text(const dctx *c, const schema *s, const table *t, const index_def *ix)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, ix->unique ? "unique (" : "(");
    for (size_t i = 0; i < ix->ncols; i++)
        sbuf_addf(&b, "%s%s%s", i ? ", " : "", ix->cols[i].name, ix->cols[i].desc ? " desc" : "");
    sbuf_addc(&b, ')');
    /* MySQL has no partial indexes: a non-unique one is a plain index there */
    if (ix->where && (ix->unique || !lossy_mysql(c))) {
        char *w = expr_norm(s, t, ix->where, c->opt->dialect);
        sbuf_addf(&b, " where %s", w);
        free(w);
    }
    const char *m = ix->method[c->opt->dialect];
    if (m && strcmp(m, "btree") != 0)
        sbuf_addf(&b, " using %s", m);
    return sbuf_detach(&b);
}

static char *fk_text(const fk_def *fk)
{
    char *a = strvec_join(&fk->cols), *b = strvec_join(&fk->ref_cols);
    char *s = xasprintf("(%s) -> %s (%s) on delete %s on update %s", a, fk->ref_table, b,
                        fk_action_names[fk->on_delete], fk_action_names[fk->on_update]);
    free(a);
    free(b);
    return s;
}

static char *fk_canon(const dctx *c, const fk_def *fk)
{
    fk_def tmp = *fk;
    if (lossy_mysql(c)) {
        if (tmp.on_delete == FK_RESTRICT)
            tmp.on_delete = FK_NO_ACTION;
        if (tmp.on_update == FK_RESTRICT)
            tmp.on_update = FK_NO_ACTION;
    }
    return fk_text(&tmp);
}

/* Match objects by name, or (ignoring names) by content. */
static void compare_objects(dctx *c, const char *kind, const table *a, const table *b, size_t na,
                            size_t nb, const char *(*name_of)(const table *, size_t),
                            char *(*text_of)(const dctx *, const schema *, const table *, size_t))
{
    int *used = xcalloc(nb + 1, sizeof(int));
    for (size_t i = 0; i < na; i++) {
        char *ta = text_of(c, c->l, a, i);
        int found = -1;
        if (!c->opt->ignore_constraint_names) {
            for (size_t k = 0; k < nb; k++)
                if (!used[k] && strcmp(name_of(a, i), name_of(b, k)) == 0)
                    found = (int)k;
        } else {
            for (size_t k = 0; k < nb && found < 0; k++) {
                if (used[k])
                    continue;
                char *tb = text_of(c, c->r, b, k);
                if (strcmp(ta, tb) == 0)
                    found = (int)k;
                free(tb);
            }
        }
        if (found < 0) {
            add(c, kind, a->name, name_of(a, i), "missing", ta, NULL);
        } else {
            used[found] = 1;
            char *tb = text_of(c, c->r, b, (size_t)found);
            if (strcmp(ta, tb) != 0)
                add(c, kind, a->name, name_of(a, i), "definition", ta, tb);
            free(tb);
        }
        free(ta);
    }
    for (size_t k = 0; k < nb; k++)
        if (!used[k]) {
            char *tb = text_of(c, c->r, b, k);
            add(c, kind, b->name, name_of(b, k), "extra", NULL, tb);
            free(tb);
        }
    free(used);
}

static const char *idx_name(const table *t, size_t i)
{
    return t->idx[i].name;
}

static char *idx_text(const dctx *c, const schema *s, const table *t, size_t i)
{
    char *x = index_text(c, s, t, &t->idx[i]);
    if (!lossy_mysql(c) && !lossy_sqlite(c) && t->idx[i].constraint) {
        char *y = xasprintf("%s constraint", x);
        free(x);
        return y;
    }
    return x;
}

static const char *fk_name(const table *t, size_t i)
{
    return t->fks[i].name;
}

static char *fk_text_at(const dctx *c, const schema *s, const table *t, size_t i)
{
    (void)s;
    return fk_canon(c, &t->fks[i]);
}

static const char *ck_name(const table *t, size_t i)
{
    return t->checks[i].name;
}

static char *ck_text(const dctx *c, const schema *s, const table *t, size_t i)
{
    return expr_norm(s, t, t->checks[i].check, c->opt->dialect);
}

static void compare_tables(dctx *c, const table *a, const table *b)
{
    compare_columns(c, a, b);
    char *pa = strvec_join(&a->pk), *pb = strvec_join(&b->pk);
    if (strcmp(pa, pb) != 0)
        add(c, "primary key", a->name, NULL, "columns", *pa ? pa : "(none)", *pb ? pb : "(none)");
    free(pa);
    free(pb);
    compare_objects(c, "index", a, b, a->nidx, b->nidx, idx_name, idx_text);
    compare_objects(c, "foreign key", a, b, a->nfks, b->nfks, fk_name, fk_text_at);
    compare_objects(c, "check", a, b, a->nchecks, b->nchecks, ck_name, ck_text);
}

/* Is `name` the PostgreSQL type of an inline enum column of s? */
static int inline_enum_type(const schema *s, const char *name)
{
    for (size_t i = 0; i < s->ntables; i++)
        for (size_t k = 0; k < s->tables[i].ncols; k++) {
            const column *c = &s->tables[i].cols[k];
            if (c->type.kind == TY_ENUM && c->type.pg_type && strcmp(c->type.pg_type, name) == 0)
                return 1;
        }
    return 0;
}

void schema_compare(const schema *left, const schema *right, const diff_options *opt,
                    schema_diff *out)
{
    memset(out, 0, sizeof *out);
    dctx c = {opt,
              left,
              right,
              out,
              opt->left_label ? opt->left_label : "left",
              opt->right_label ? opt->right_label : "right"};
    for (size_t i = 0; i < left->ntables; i++) {
        const table *a = &left->tables[i];
        const table *b = schema_table(right, a->name);
        if (!b)
            add(&c, "table", a->name, NULL, "missing", NULL, NULL);
        else
            compare_tables(&c, a, b);
    }
    for (size_t i = 0; i < right->ntables; i++)
        if (!schema_table(left, right->tables[i].name))
            add(&c, "table", right->tables[i].name, NULL, "extra", NULL, NULL);
    if (opt->compare_enum_types) {
        for (size_t i = 0; i < left->nenums; i++) {
            const enum_def *e = &left->enums[i];
            const enum_def *f = schema_enum(right, e->name);
            char *x = strvec_join(&e->values);
            if (!f) {
                add(&c, "enum", NULL, e->name, "missing", x, NULL);
            } else {
                char *y = strvec_join(&f->values);
                if (strcmp(x, y) != 0)
                    add(&c, "enum", NULL, e->name, "values", x, y);
                free(y);
            }
            free(x);
        }
        for (size_t i = 0; i < right->nenums; i++)
            if (!schema_enum(left, right->enums[i].name) &&
                !inline_enum_type(left, right->enums[i].name)) {
                char *y = strvec_join(&right->enums[i].values);
                add(&c, "enum", NULL, right->enums[i].name, "extra", NULL, y);
                free(y);
            }
    }
}
