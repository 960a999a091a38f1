/*
 * model.c - the schema model: validating operations against it, deriving
 * their inverses and applying them, offline.
 *
 * Replaying the `up` operations of every migration in order gives the
 * schema any database reaches by running them; it is how the engine knows,
 * without a connection, what a table looks like before an operation (for
 * the dialect compilers, which must restate whole definitions on MySQL and
 * rebuild whole tables on SQLite), and what the inverse of each operation is
 * (the spec's Reversal section).
 *
 * Validation here is dialect-neutral; what only one dialect cannot express
 * (an index too wide for InnoDB, a gin index on SQLite) is the compiler's
 * error.
 */
#include "migration.h"
#include "names.h"
#include "nameset.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int merr(const apply_ctx *ctx, const op *o, const char *fmt, ...) STRATA_PRINTF(3, 4);
static int merr(const apply_ctx *ctx, const op *o, const char *fmt, ...)
{
    sbuf b = SBUF_INIT;
    sbuf_addf(&b, "%s: %s (%s): ", ctx && ctx->file ? ctx->file : "(migration)",
              o->path ? o->path : "?", op_names[o->kind]);
    va_list ap;
    va_start(ap, fmt);
    sbuf_vaddf(&b, fmt, ap);
    va_end(ap);
    strata_set_error(STRATA_EINPUT, "%s", sbuf_str(&b));
    sbuf_free(&b);
    return STRATA_EINPUT;
}

void model_begin_migration(schema *s, int index)
{
    s->migration_index = index;
}

/* ---- values ---- */

static int is_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)p[i]))
            return 0;
    return n > 0;
}

/* YYYY-MM-DD */
static int valid_date(const char *s)
{
    return strlen(s) >= 10 && is_digits(s, 4) && s[4] == '-' && is_digits(s + 5, 2) &&
           s[7] == '-' && is_digits(s + 8, 2);
}

/* HH:MM[:SS[.ffffff]] */
static int valid_time(const char *s, const char **end)
{
    if (!(is_digits(s, 2) && s[2] == ':' && is_digits(s + 3, 2)))
        return 0;
    s += 5;
    if (*s == ':') {
        if (!is_digits(s + 1, 2))
            return 0;
        s += 3;
        if (*s == '.') {
            s++;
            if (!isdigit((unsigned char)*s))
                return 0;
            while (isdigit((unsigned char)*s))
                s++;
        }
    }
    *end = s;
    return 1;
}

/* An ISO-8601 timestamp: date, then 'T' or ' ' and a time, then an
 * optional zone (Z, +HH, +HH:MM, +HHMM). */
int valid_timestamp(const char *s)
{
    if (!valid_date(s))
        return 0;
    s += 10;
    if (!*s)
        return 1;
    if (*s != 'T' && *s != ' ')
        return 0;
    const char *end;
    if (!valid_time(s + 1, &end))
        return 0;
    s = end;
    if (!*s)
        return 1;
    if (*s == 'Z' && !s[1])
        return 1;
    if ((*s == '+' || *s == '-') && is_digits(s + 1, 2)) {
        s += 3;
        if (!*s)
            return 1;
        if (*s == ':')
            s++;
        return is_digits(s, 2) && !s[2];
    }
    return 0;
}

static int valid_uuid(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

const char *decimal_round(const char *text, int precision, int scale, char **out)
{
    if (out)
        *out = NULL;
    const char *p = text;
    int neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    sbuf dig = SBUF_INIT; /* every digit of the mantissa */
    long point = 0;       /* how many of them stand before the decimal point */
    for (; isdigit((unsigned char)*p); p++, point++)
        sbuf_addc(&dig, *p);
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            sbuf_addc(&dig, *p);
    if (*p == 'e' || *p == 'E') {
        long e = strtol(p + 1, NULL, 10);
        point += e < -100000 ? -100000 : e > 100000 ? 100000 : e;
    }
    /* leading zeros say nothing */
    size_t lead = strspn(sbuf_str(&dig), "0");
    const char *d = sbuf_str(&dig) + lead;
    size_t n = dig.len - lead;
    point -= (long)lead;
    if (n == 0) {
        sbuf_free(&dig);
        if (out)
            *out = scale > 0 ? xasprintf("0.%0*d", scale, 0) : xstrdup("0");
        return NULL;
    }
    /* integer digits before rounding: point; more than allowed can only
     * grow by rounding */
    long allowed = (long)precision - scale;
    if (point > allowed) {
        sbuf_free(&dig);
        return "a number with more digits than the column's decimal(precision, scale) holds";
    }
    /* the digits of the value times 10^scale, rounded half away from zero */
    long keep = point + scale; /* digits of d that stand before the rounding point */
    sbuf r = SBUF_INIT;
    if (keep > 0) {
        for (long i = 0; i < keep; i++)
            sbuf_addc(&r, (size_t)i < n ? d[i] : '0');
        if ((size_t)keep < n && d[keep] >= '5') {
            long i = keep - 1;
            for (; i >= 0 && r.p[i] == '9'; i--)
                r.p[i] = '0';
            if (i >= 0)
                r.p[i]++;
            else {
                sbuf tmp = SBUF_INIT;
                sbuf_addc(&tmp, '1');
                sbuf_add(&tmp, sbuf_str(&r));
                sbuf_free(&r);
                r = tmp;
            }
        }
    } else if (keep == 0 && d[0] >= '5') {
        sbuf_addc(&r, '1');
    }
    sbuf_free(&dig);
    /* r (maybe empty: zero) is the value times 10^scale */
    long int_digits = (long)r.len - scale;
    size_t zeros = strspn(sbuf_str(&r), "0");
    if (int_digits > allowed && zeros < (size_t)(int_digits - allowed)) {
        sbuf_free(&r);
        return "a number with more digits than the column's decimal(precision, scale) holds";
    }
    if (out) {
        sbuf t = SBUF_INIT;
        const char *digits = sbuf_str(&r) + zeros;
        size_t nd = r.len - zeros;
        if (neg && nd)
            sbuf_addc(&t, '-');
        if (nd > (size_t)scale)
            sbuf_addn(&t, digits, nd - (size_t)scale);
        else
            sbuf_addc(&t, '0');
        if (scale > 0) {
            sbuf_addc(&t, '.');
            for (size_t i = nd; i < (size_t)scale; i++)
                sbuf_addc(&t, '0');
            sbuf_add(&t, nd > (size_t)scale ? digits + nd - (size_t)scale : digits);
        }
        *out = sbuf_detach(&t);
    }
    sbuf_free(&r);
    return NULL;
}

/* Does a JSON value fit a column type? NULL if so, else why not. */
const char *value_fits(const schema *s, const column *c, const json_t *v)
{
    if (json_is_null(v))
        return c->nullable ? NULL : "null in a NOT NULL column";
    switch (c->type.kind) {
    case TY_SERIAL:
    case TY_BIGSERIAL:
    case TY_SMALLINT:
    case TY_INTEGER:
    case TY_BIGINT: {
        long long lo = c->type.kind == TY_SMALLINT                                 ? -32768
                       : (c->type.kind == TY_INTEGER || c->type.kind == TY_SERIAL) ? -2147483648LL
                                                                                   : INT64_MIN;
        long long hi = c->type.kind == TY_SMALLINT                                 ? 32767
                       : (c->type.kind == TY_INTEGER || c->type.kind == TY_SERIAL) ? 2147483647LL
                                                                                   : INT64_MAX;
        if (json_is_integer(v)) {
            long long x = json_integer_value(v);
            return x < lo || x > hi ? "an integer out of range for the column" : NULL;
        }
        if (json_is_real(v)) {
            double d = json_real_value(v);
            return d == (double)(long long)d && d >= (double)lo && d <= (double)hi
                       ? NULL
                       : "not an integer";
        }
        if (json_is_string(v)) {
            const char *t = json_string_value(v);
            const char *d = (*t == '-' || *t == '+') ? t + 1 : t;
            return is_digits(d, strlen(d)) ? NULL : "not an integer";
        }
        return "not an integer";
    }
    case TY_DECIMAL: {
        char num[32];
        const char *t =
            json_is_integer(v)
                ? (snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)), num)
            : json_is_real(v) ? double_text(json_real_value(v), num)
            : json_is_string(v) && number_text(json_string_value(v), 0) ? json_string_value(v)
                                                                        : NULL;
        if (!t)
            return "not a number";
        return decimal_round(t, c->type.precision, c->type.scale, NULL);
    }
    case TY_REAL:
    case TY_DOUBLE:
        if (json_is_number(v))
            return NULL;
        if (json_is_string(v) && number_text(json_string_value(v), 0))
            return NULL;
        return "not a number";
    case TY_BOOLEAN:
        if (json_is_boolean(v))
            return NULL;
        if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
            return NULL;
        return "not a boolean (true or false)";
    case TY_STRING:
        if (!json_is_string(v))
            return "not a string";
        {
            /* count characters, not bytes */
            size_t chars = 0;
            for (const unsigned char *p = (const unsigned char *)json_string_value(v); *p; p++)
                if ((*p & 0xC0) != 0x80)
                    chars++;
            return chars > (size_t)c->type.length ? "a string longer than the column's length"
                                                  : NULL;
        }
    case TY_TEXT:
    case TY_BINARY:
        return json_is_string(v) ? NULL : "not a string";
    case TY_UUID:
        return json_is_string(v) && valid_uuid(json_string_value(v)) ? NULL : "not a UUID";
    case TY_DATE:
        return json_is_string(v) && valid_date(json_string_value(v)) &&
                       strlen(json_string_value(v)) == 10
                   ? NULL
                   : "not a date (YYYY-MM-DD)";
    case TY_TIME: {
        const char *end;
        return json_is_string(v) && valid_time(json_string_value(v), &end) && !*end
                   ? NULL
                   : "not a time (HH:MM:SS)";
    }
    case TY_TIMESTAMP:
    case TY_TIMESTAMPTZ:
        return json_is_string(v) && valid_timestamp(json_string_value(v))
                   ? NULL
                   : "not an ISO-8601 timestamp";
    case TY_JSON:
    case TY_JSONB:
        return NULL;
    case TY_ENUM: {
        const strvec *vals = column_enum_values(s, c);
        if (!json_is_string(v))
            return "not a string";
        return vals && strvec_find(vals, json_string_value(v)) >= 0
                   ? NULL
                   : "not one of the enum's values";
    }
    case TY__COUNT:
        break;
    }
    return "unknown type";
}

static int check_default(const apply_ctx *ctx, const op *o, const schema *s, const column *c)
{
    switch (c->def.kind) {
    case DEF_NONE:
    case DEF_SQL:
        return 0;
    case DEF_NOW:
        if (c->type.kind != TY_DATE && !type_is_time(c->type.kind))
            return merr(ctx, o, "column '%s': default now needs a date, time or timestamp column",
                        c->name);
        return 0;
    case DEF_UUID:
        if (c->type.kind != TY_UUID && c->type.kind != TY_STRING && c->type.kind != TY_TEXT)
            return merr(ctx, o, "column '%s': default uuid needs a uuid or string column", c->name);
        return 0;
    case DEF_LITERAL: {
        if (type_is_serial(c->type.kind))
            return merr(ctx, o, "column '%s': a %s column cannot have a default", c->name,
                        type_names[c->type.kind]);
        if (json_is_null(c->def.literal))
            return 0; /* DEFAULT NULL is fine even on NOT NULL (it just never applies) */
        if ((json_is_object(c->def.literal) || json_is_array(c->def.literal)) &&
            !type_is_json(c->type.kind))
            return merr(ctx, o, "column '%s': an object or array default needs a json column",
                        c->name);
        const char *why = value_fits(s, c, c->def.literal);
        if (why)
            return merr(ctx, o, "column '%s': default is %s", c->name, why);
        return 0;
    }
    }
    return 0;
}

/* ---- lookups ---- */

static table *need_table(const apply_ctx *ctx, const op *o, schema *s, const char *name)
{
    table *t = schema_table_mut(s, name);
    if (!t) {
        const table *ci = schema_table_ci(s, name);
        if (ci)
            merr(ctx, o, "unknown table '%s' (did you mean '%s'? names are case-sensitive)", name,
                 ci->name);
        else {
            const char **names = xcalloc(s->ntables + 1, sizeof(char *));
            for (size_t i = 0; i < s->ntables; i++)
                names[i] = s->tables[i].name;
            const char *near = str_nearest(name, names, s->ntables);
            if (near)
                merr(ctx, o, "unknown table '%s' (did you mean '%s'?)", name, near);
            else
                merr(ctx, o, "unknown table '%s'", name);
            free(names);
        }
    }
    return t;
}

static int unknown_column(const apply_ctx *ctx, const op *o, const table *t, const char *name)
{
    const char **names = xcalloc(t->ncols + 1, sizeof(char *));
    for (size_t i = 0; i < t->ncols; i++)
        names[i] = t->cols[i].name;
    const char *near = str_nearest(name, names, t->ncols);
    int rc = near ? merr(ctx, o, "table '%s' has no column '%s' (did you mean '%s'?)", t->name,
                         name, near)
                  : merr(ctx, o, "table '%s' has no column '%s'", t->name, name);
    free(names);
    return rc;
}

static int need_columns(const apply_ctx *ctx, const op *o, const table *t, const char *const *cols,
                        size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!table_column(t, cols[i]))
            return unknown_column(ctx, o, t, cols[i]);
    return 0;
}

static int need_predicate_columns(const apply_ctx *ctx, const op *o, const table *t,
                                  const json_t *pred)
{
    strvec cols = STRVEC_INIT;
    predicate_columns(pred, &cols);
    int rc = need_columns(ctx, o, t, (const char *const *)cols.v, cols.n);
    strvec_free(&cols);
    return rc;
}

/* In table_names' kinds: a table that t's foreign keys reference (linked
 * to t in the name index), not a name t uses. */
#define NAME_LINK (-1)

/* A table name in ASCII lower case, as str_ieq compares (caller frees). */
static char *fold_name(const char *name)
{
    char *f = xstrdup(name);
    for (char *p = f; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return f;
}

/* The names table t counts in the schema's name index, each with its kind
 * (NAME_*): its own (also in lower case), its primary key's, its indexes',
 * foreign keys' and checks', the PostgreSQL enum types of its inline enum
 * columns, and the tables its foreign keys reference. Every name the model
 * keeps unique belongs to one table, so an operation changes only the
 * names of the table it works on - except rename_table, which also changes
 * what other tables' foreign keys reference (model_apply rebuilds then). */
static void table_names(const table *t, strvec *names, int **kinds)
{
    size_t n = 0;
    int *k = NULL;
    size_t cap = 0;
#define ADD_NAME(nm, kind)                                                                         \
    do {                                                                                           \
        if (nm) {                                                                                  \
            strvec_push(names, nm);                                                                \
            k = xgrow(k, &cap, n + 1, sizeof *k);                                                  \
            k[n++] = kind;                                                                         \
        }                                                                                          \
    } while (0)
    ADD_NAME(t->name, NAME_TABLE);
    char *folded = fold_name(t->name);
    ADD_NAME(folded, NAME_TABLE_FOLDED);
    free(folded);
    ADD_NAME(t->pk_name, NAME_PRIMARY_KEY);
    for (size_t i = 0; i < t->nidx; i++)
        ADD_NAME(t->idx[i].name, NAME_INDEX);
    for (size_t i = 0; i < t->nfks; i++) {
        ADD_NAME(t->fks[i].name, NAME_FOREIGN_KEY);
        ADD_NAME(t->fks[i].ref_table, NAME_LINK);
    }
    for (size_t i = 0; i < t->nchecks; i++)
        ADD_NAME(t->checks[i].name, NAME_CHECK);
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].type.kind == TY_ENUM)
            ADD_NAME(t->cols[i].type.pg_type, NAME_ENUM_TYPE);
#undef ADD_NAME
    *kinds = k;
}

/* Count (delta 1) or uncount (delta -1) the names table t had (`names`
 * and `kinds` from table_names), `tname` being its name then. */
static void count_names(nameset *ns, const char *tname, const strvec *names, const int *kinds,
                        int delta)
{
    for (size_t i = 0; i < names->n; i++) {
        if (kinds[i] == NAME_LINK)
            nameset_link(ns, names->v[i], tname, delta);
        else
            nameset_count(ns, names->v[i], kinds[i], delta);
    }
}

static void count_table_names(nameset *ns, const table *t, int delta)
{
    strvec names = STRVEC_INIT;
    int *kinds;
    table_names(t, &names, &kinds);
    count_names(ns, t->name, &names, kinds, delta);
    strvec_free(&names);
    free(kinds);
}

/* The schema's name index, built on first use and then kept up to date by
 * model_apply. */
static nameset *schema_names(schema *s)
{
    if (!s->names) {
        s->names = nameset_new();
        for (size_t i = 0; i < s->ntables; i++)
            count_table_names(s->names, &s->tables[i], 1);
    }
    return s->names;
}

/* Is `name` used by any index, foreign key, check, primary key or table in
 * the schema? Index and constraint names must be unique database-wide
 * (PostgreSQL indexes share the schema's namespace with tables; MySQL
 * foreign-key and check names are unique per database). */
static const char *name_owner(schema *s, const char *name)
{
    static const char *const owners[NAME__KINDS] = {
        [NAME_TABLE] = "a table",  [NAME_PRIMARY_KEY] = "a primary key",
        [NAME_INDEX] = "an index", [NAME_FOREIGN_KEY] = "a foreign key",
        [NAME_CHECK] = "a check",  [NAME_ENUM_TYPE] = "an enum type",
    };
    int k = nameset_kind(schema_names(s), name);
    return k < 0 ? NULL : owners[k];
}

int schema_maybe_referenced(const schema *s, const char *table)
{
    return !s->names || nameset_links(s->names, table) != NULL;
}

static int cmp_table_ptr(const void *a, const void *b)
{
    const table *x = *(table *const *)a, *y = *(table *const *)b;
    return x < y ? -1 : x > y;
}

/* The tables (the one named `name` too) that may have a foreign key
 * referencing `name`, in schema order (caller frees the array, not the
 * tables): from the name index when the schema has one, so the cost is the
 * number of referencing tables, not of all tables. */
static size_t referrers(const schema *s, const char *name, const table ***out)
{
    const strvec *links = s->names ? nameset_links(s->names, name) : NULL;
    size_t n = 0;
    const table **v;
    if (!s->names) {
        v = xcalloc(s->ntables + 1, sizeof *v);
        for (size_t i = 0; i < s->ntables; i++)
            v[n++] = &s->tables[i];
    } else {
        v = xcalloc((links ? links->n : 0) + 1, sizeof *v);
        for (size_t i = 0; links && i < links->n; i++) {
            const table *t = schema_table(s, links->v[i]);
            if (t)
                v[n++] = t;
        }
        qsort(v, n, sizeof *v, cmp_table_ptr);
    }
    *out = v;
    return n;
}

/* The first foreign key, in schema order, of a table other than `skip`
 * that references table `name` and that `match` accepts (any, when match
 * is NULL); *owner gets its table. */
static const fk_def *referencing_fk(const schema *s, const char *name, const table *skip,
                                    int (*match)(const fk_def *fk, const void *arg),
                                    const void *arg, const table **owner)
{
    const table **refs;
    size_t n = referrers(s, name, &refs);
    const fk_def *found = NULL;
    for (size_t i = 0; i < n && !found; i++) {
        if (refs[i] == skip)
            continue;
        for (size_t k = 0; k < refs[i]->nfks && !found; k++) {
            const fk_def *fk = &refs[i]->fks[k];
            if (strcmp(fk->ref_table, name) == 0 && (!match || match(fk, arg))) {
                found = fk;
                *owner = refs[i];
            }
        }
    }
    free(refs);
    return found;
}

/* A table whose name differs from `name` only by case (NULL if none). */
static const table *table_differing_by_case(schema *s, const char *name)
{
    char *folded = fold_name(name);
    unsigned uses = nameset_uses(schema_names(s), folded, NAME_TABLE_FOLDED);
    free(folded);
    return uses ? schema_table_ci(s, name) : NULL;
}

static int need_free_name(const apply_ctx *ctx, const op *o, schema *s, const char *name,
                          const char *what)
{
    const char *owner = name_owner(s, name);
    if (owner)
        return merr(ctx, o, "%s name '%s' is already used by %s", what, name, owner);
    return 0;
}

/* The definition of a table created later in the same op list. */
static const table *forward_table(const apply_ctx *ctx, const char *name)
{
    if (!ctx || !ctx->ops)
        return NULL;
    for (size_t i = ctx->index + 1; i < ctx->ops->n; i++) {
        const op *o = ctx->ops->v[i];
        if (o->kind == OP_CREATE_TABLE && strcmp(o->table, name) == 0)
            return o->def;
    }
    return NULL;
}

/* Is there a primary key or non-partial unique index on exactly `cols`? */
static int has_unique_on(const table *t, const strvec *cols)
{
    if (t->pk.n == cols->n) {
        int same = 1;
        for (size_t i = 0; i < cols->n; i++)
            if (strvec_find(&t->pk, cols->v[i]) < 0)
                same = 0;
        if (same)
            return 1;
    }
    for (size_t k = 0; k < t->nidx; k++) {
        const index_def *ix = &t->idx[k];
        if (!ix->unique || ix->where || ix->ncols != cols->n)
            continue;
        int same = 1;
        for (size_t i = 0; i < ix->ncols; i++)
            if (strvec_find(cols, ix->cols[i].name) < 0)
                same = 0;
        if (same)
            return 1;
    }
    return 0;
}

/* Validate a foreign key of table `t` (which may not be in `s` yet); fills
 * in default referenced columns. */
static int check_fk(const apply_ctx *ctx, const op *o, const schema *s, const table *t, fk_def *fk)
{
    int rc = need_columns(ctx, o, t, (const char *const *)fk->cols.v, fk->cols.n);
    if (rc)
        return rc;
    const table *ref = strcmp(fk->ref_table, t->name) == 0 ? t : schema_table(s, fk->ref_table);
    if (!ref)
        ref = forward_table(ctx, fk->ref_table);
    if (!ref) {
        const table *ci = schema_table_ci(s, fk->ref_table);
        if (ci)
            return merr(ctx, o,
                        "foreign key '%s' references unknown table '%s' (did you mean '%s'?)",
                        fk->name, fk->ref_table, ci->name);
        return merr(ctx, o, "foreign key '%s' references unknown table '%s'", fk->name,
                    fk->ref_table);
    }
    if (fk->ref_cols.n == 0) {
        if (ref->pk.n != 1)
            return merr(ctx, o,
                        "foreign key '%s': table '%s' has no single-column primary key; name "
                        "the referenced column",
                        fk->name, ref->name);
        strvec_push(&fk->ref_cols, ref->pk.v[0]);
    }
    if (fk->ref_cols.n != fk->cols.n)
        return merr(ctx, o, "foreign key '%s' has %zu columns but references %zu", fk->name,
                    fk->cols.n, fk->ref_cols.n);
    for (size_t i = 0; i < fk->ref_cols.n; i++) {
        const column *rc2 = table_column(ref, fk->ref_cols.v[i]);
        if (!rc2)
            return merr(ctx, o, "foreign key '%s' references unknown column '%s.%s'", fk->name,
                        ref->name, fk->ref_cols.v[i]);
        const column *lc = table_column(t, fk->cols.v[i]);
        if (!types_fk_compatible(&lc->type, &rc2->type)) {
            char *a = type_describe(&lc->type), *b = type_describe(&rc2->type);
            rc = merr(ctx, o,
                      "foreign key '%s': column '%s' (%s) cannot reference '%s.%s' (%s): the "
                      "types differ",
                      fk->name, lc->name, a, ref->name, rc2->name, b);
            free(a);
            free(b);
            return rc;
        }
        if (fk->on_delete == FK_SET_NULL && !lc->nullable)
            return merr(ctx, o,
                        "foreign key '%s' is on_delete set_null but column '%s' is NOT NULL",
                        fk->name, lc->name);
    }
    if (!has_unique_on(ref, &fk->ref_cols))
        return merr(ctx, o,
                    "foreign key '%s': the referenced columns of '%s' are not its primary key "
                    "or a (non-partial) unique constraint",
                    fk->name, ref->name);
    return 0;
}

static int check_column_def(const apply_ctx *ctx, const op *o, const schema *s, const column *c)
{
    if (c->type.kind == TY_ENUM && c->type.enum_name && !schema_enum(s, c->type.enum_name))
        return merr(ctx, o, "column '%s' uses unknown enum '%s'", c->name, c->type.enum_name);
    return check_default(ctx, o, s, c);
}

/* Validate a whole table definition (create_table, or a restored table). */
static int check_table_def(const apply_ctx *ctx, const op *o, schema *s, table *t)
{
    int rc;
    size_t serials = 0;
    for (size_t i = 0; i < t->ncols; i++) {
        if ((rc = check_column_def(ctx, o, s, &t->cols[i])))
            return rc;
        if (type_is_serial(t->cols[i].type.kind))
            serials++;
    }
    if (serials > 1)
        return merr(ctx, o,
                    "table '%s' has %zu serial columns; at most one is portable (MySQL "
                    "allows one AUTO_INCREMENT column)",
                    t->name, serials);
    if ((rc = need_columns(ctx, o, t, (const char *const *)t->pk.v, t->pk.n)))
        return rc;
    for (size_t i = 0; i < t->nidx; i++) {
        index_def *ix = &t->idx[i];
        for (size_t k = 0; k < ix->ncols; k++)
            if (!table_column(t, ix->cols[k].name))
                return unknown_column(ctx, o, t, ix->cols[k].name);
        if (ix->where && (rc = need_predicate_columns(ctx, o, t, ix->where)))
            return rc;
        if ((rc = need_free_name(ctx, o, s, ix->name, "index")))
            return rc;
        for (size_t k = 0; k < i; k++)
            if (strcmp(t->idx[k].name, ix->name) == 0)
                return merr(ctx, o, "index name '%s' is used twice", ix->name);
    }
    for (size_t i = 0; i < t->nchecks; i++) {
        if ((rc = need_predicate_columns(ctx, o, t, t->checks[i].check)))
            return rc;
        if ((rc = need_free_name(ctx, o, s, t->checks[i].name, "check")))
            return rc;
    }
    for (size_t i = 0; i < t->nfks; i++) {
        if ((rc = check_fk(ctx, o, s, t, &t->fks[i])))
            return rc;
        if ((rc = need_free_name(ctx, o, s, t->fks[i].name, "foreign key")))
            return rc;
    }
    return 0;
}

/* ---- inverses ---- */

static op *inv_new(op_kind kind, const op *from, const char *table)
{
    op *o = op_new(kind);
    o->path = xasprintf("inverse of %s", from->path ? from->path : op_names[from->kind]);
    o->table = table ? xstrdup(table) : NULL;
    return o;
}

static op *inv_create_index(const op *from, const table *t, const index_def *ix)
{
    op *o = inv_new(ix->constraint ? OP_ADD_UNIQUE : OP_CREATE_INDEX, from, t->name);
    o->index = xcalloc(1, sizeof *o->index);
    index_copy(o->index, ix);
    o->name = xstrdup(ix->name);
    return o;
}

static op *inv_add_fk(const op *from, const table *t, const fk_def *fk)
{
    op *o = inv_new(OP_ADD_FOREIGN_KEY, from, t->name);
    o->fk = xcalloc(1, sizeof *o->fk);
    fk_copy(o->fk, fk);
    o->name = xstrdup(fk->name);
    return o;
}

static op *inv_add_check(const op *from, const table *t, const check_def *ck)
{
    op *o = inv_new(OP_ADD_CHECK, from, t->name);
    o->check = xcalloc(1, sizeof *o->check);
    check_copy(o->check, ck);
    o->name = xstrdup(ck->name);
    return o;
}

static op *inv_drop_fk(const op *from, const char *table, const char *name)
{
    op *o = inv_new(OP_DROP_FOREIGN_KEY, from, table);
    o->name = xstrdup(name);
    return o;
}

static op *inv_create_table(const op *from, const table *t)
{
    op *o = inv_new(OP_CREATE_TABLE, from, t->name);
    o->def = xcalloc(1, sizeof *o->def);
    table_copy(o->def, t);
    return o;
}

/* ---- removing things from the model ---- */

static void remove_index(table *t, size_t i)
{
    index_free(&t->idx[i]);
    memmove(&t->idx[i], &t->idx[i + 1], (t->nidx - i - 1) * sizeof *t->idx);
    t->nidx--;
}

static void remove_fk(table *t, size_t i)
{
    fk_free(&t->fks[i]);
    memmove(&t->fks[i], &t->fks[i + 1], (t->nfks - i - 1) * sizeof *t->fks);
    t->nfks--;
}

static void remove_check(table *t, size_t i)
{
    check_free(&t->checks[i]);
    memmove(&t->checks[i], &t->checks[i + 1], (t->nchecks - i - 1) * sizeof *t->checks);
    t->nchecks--;
}

static void remove_table(schema *s, table *t)
{
    size_t i = (size_t)(t - s->tables);
    schema_table_removing(s, i);
    table_free_contents(t);
    memmove(&s->tables[i], &s->tables[i + 1], (s->ntables - i - 1) * sizeof *s->tables);
    s->ntables--;
}

static table *add_table(schema *s, const table *def)
{
    s->tables = xgrow(s->tables, &s->cap_tables, s->ntables + 1, sizeof *s->tables);
    table *t = &s->tables[s->ntables++];
    table_copy(t, def);
    t->created_in = s->migration_index;
    t->has_rows = 0;
    return t;
}

/* ---- per-op application ---- */

static int apply_create_table(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    if (schema_table(s, o->table)) {
        if (o->if_not_exists)
            return 0;
        return merr(ctx, o, "table '%s' already exists", o->table);
    }
    const table *ci = table_differing_by_case(s, o->table);
    if (ci)
        return merr(ctx, o, "table '%s' differs only by case from existing table '%s'", o->table,
                    ci->name);
    if (schema_enum(s, o->table))
        return merr(ctx, o, "table name '%s' is already used by an enum", o->table);
    const char *owner = name_owner(s, o->table);
    if (owner)
        return merr(ctx, o, "table name '%s' is already used by %s", o->table, owner);
    table def;
    table_copy(&def, o->def);
    int rc = check_table_def(ctx, o, s, &def);
    if (rc) {
        table_free_contents(&def);
        return rc;
    }
    /* Foreign keys of earlier tables of this migration waiting for this one
     * are dropped first when the table is dropped again. */
    const table **refs;
    size_t nrefs = referrers(s, o->table, &refs);
    for (size_t i = 0; i < nrefs; i++) {
        const table *other = refs[i];
        for (size_t k = 0; k < other->nfks; k++)
            if (strcmp(other->fks[k].ref_table, o->table) == 0)
                op_list_push(inv, inv_drop_fk(o, other->name, other->fks[k].name));
    }
    free(refs);
    op *drop = inv_new(OP_DROP_TABLE, o, o->table);
    op_list_push(inv, drop);
    add_table(s, &def);
    table_free_contents(&def);
    return 0;
}

static int apply_drop_table(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    table *t = schema_table_mut(s, o->table);
    if (!t) {
        if (o->if_exists)
            return 0;
        need_table(ctx, o, s, o->table);
        return STRATA_EINPUT;
    }
    const table *other;
    const fk_def *fk = referencing_fk(s, t->name, t, NULL, NULL, &other);
    if (fk)
        return merr(ctx, o,
                    "table '%s' is referenced by foreign key '%s' of table '%s'; drop that "
                    "first",
                    t->name, fk->name, other->name);
    op_list_push(inv, inv_create_table(o, t));
    remove_table(s, t);
    return 0;
}

static int apply_rename_table(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    table *t = need_table(ctx, o, s, o->table);
    if (!t)
        return STRATA_EINPUT;
    if (schema_table(s, o->to))
        return merr(ctx, o, "table '%s' already exists", o->to);
    const table *ci = table_differing_by_case(s, o->to);
    if (ci && ci != t)
        return merr(ctx, o, "table '%s' differs only by case from existing table '%s'", o->to,
                    ci->name);
    const char *owner = name_owner(s, o->to);
    if (owner && strcmp(o->to, o->table) != 0 && !(ci && ci == t))
        return merr(ctx, o, "name '%s' is already used by %s", o->to, owner);
    for (size_t i = 0; i < s->ntables; i++)
        for (size_t k = 0; k < s->tables[i].nfks; k++)
            if (strcmp(s->tables[i].fks[k].ref_table, t->name) == 0) {
                free(s->tables[i].fks[k].ref_table);
                s->tables[i].fks[k].ref_table = xstrdup(o->to);
            }
    free(t->name);
    t->name = xstrdup(o->to);
    op *back = inv_new(OP_RENAME_TABLE, o, o->to);
    back->to = xstrdup(o->table);
    op_list_push(inv, back);
    return 0;
}

/* add_column: the column, then the indexes, checks and foreign keys its
 * shorthands made (o->def). A NOT NULL column without a default is an error
 * now when an insert of this migration filled the table; otherwise the
 * compilers check at run time that the table is empty. If an extra fails,
 * the column and what it brought are taken out again. */
static int apply_add_column(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    table *t = need_table(ctx, o, s, o->table);
    if (!t)
        return STRATA_EINPUT;
    const column *c = o->col;
    if (table_column(t, c->name)) {
        if (o->if_not_exists)
            return 0;
        return merr(ctx, o, "table '%s' already has a column '%s'", t->name, c->name);
    }
    for (size_t i = 0; i < t->ncols; i++)
        if (str_ieq(t->cols[i].name, c->name))
            return merr(ctx, o, "column '%s' differs only by case from column '%s' of '%s'",
                        c->name, t->cols[i].name, t->name);
    int rc = check_column_def(ctx, o, s, c);
    if (rc)
        return rc;
    /* Known to hold rows (an insert op filled it): an error now. Merely
     * existing: the compilers check at run time that the table is empty. */
    if (!c->nullable && c->def.kind == DEF_NONE && !type_is_serial(c->type.kind) && !o->restore &&
        t->has_rows)
        return merr(ctx, o,
                    "column '%s' is NOT NULL without a default, and table '%s' holds rows; "
                    "add it nullable, fill it (update), then alter_column nullable: false - or "
                    "give it a default",
                    c->name, t->name);
    if (type_is_serial(c->type.kind)) {
        for (size_t i = 0; i < t->ncols; i++)
            if (type_is_serial(t->cols[i].type.kind))
                return merr(ctx, o, "table '%s' already has serial column '%s'", t->name,
                            t->cols[i].name);
    }
    /* extras: unique, references, check of the column */
    table_add_column(t, c);
    const table *def = o->def;
    for (size_t i = 0; def && i < def->nidx && !rc; i++) {
        rc = need_free_name(ctx, o, s, def->idx[i].name, "index");
        if (!rc)
            table_add_index(t, &def->idx[i]);
    }
    for (size_t i = 0; def && i < def->nchecks && !rc; i++) {
        rc = need_free_name(ctx, o, s, def->checks[i].name, "check");
        if (!rc)
            table_add_check(t, &def->checks[i]);
    }
    for (size_t i = 0; def && i < def->nfks && !rc; i++) {
        fk_def fk;
        fk_copy(&fk, &def->fks[i]);
        rc = need_free_name(ctx, o, s, fk.name, "foreign key");
        if (!rc)
            rc = check_fk(ctx, o, s, t, &fk);
        if (!rc)
            table_add_fk(t, &fk);
        fk_free(&fk);
    }
    if (rc) {
        /* undo the partial application */
        for (size_t i = t->nfks; i-- > 0;)
            if (fk_uses_column(&t->fks[i], t->name, c->name))
                remove_fk(t, i);
        for (size_t i = t->nchecks; i-- > 0;)
            if (check_uses_column(&t->checks[i], c->name))
                remove_check(t, i);
        for (size_t i = t->nidx; i-- > 0;)
            if (index_uses_column(&t->idx[i], c->name))
                remove_index(t, i);
        column_free(&t->cols[t->ncols - 1]);
        t->ncols--;
        return rc;
    }
    op *drop = inv_new(OP_DROP_COLUMN, o, t->name);
    drop->name = xstrdup(c->name);
    op_list_push(inv, drop);
    return 0;
}

/* referencing_fk's match: does the key reference column `arg`? */
static int fk_uses_ref_column(const fk_def *fk, const void *arg)
{
    return strvec_find(&fk->ref_cols, (const char *)arg) >= 0;
}

/* drop_column: refused for the last column, a key column, or a column
 * another table's foreign key references. The indexes, checks and foreign
 * keys that use it go with it, and come back in the inverse after the
 * restored column (add_column marked `restore`: if the column is NOT NULL
 * without a default, a table with rows refuses it at run time). */
static int apply_drop_column(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    table *t = need_table(ctx, o, s, o->table);
    if (!t)
        return STRATA_EINPUT;
    int pos = table_column_pos(t, o->name);
    if (pos < 0) {
        if (o->if_exists)
            return 0;
        return unknown_column(ctx, o, t, o->name);
    }
    if (t->ncols == 1)
        return merr(ctx, o, "cannot drop '%s', the last column of table '%s'; drop the table",
                    o->name, t->name);
    if (table_in_pk(t, o->name))
        return merr(ctx, o,
                    "column '%s' is part of the primary key of '%s'; drop_primary_key "
                    "first",
                    o->name, t->name);
    const table *other;
    const fk_def *fk = referencing_fk(s, t->name, t, fk_uses_ref_column, o->name, &other);
    if (fk)
        return merr(ctx, o,
                    "column '%s.%s' is referenced by foreign key '%s' of table '%s'; drop that "
                    "first",
                    t->name, o->name, fk->name, other->name);
    /* inverse: restore the column, then what used it */
    op *add = inv_new(OP_ADD_COLUMN, o, t->name);
    add->col = xcalloc(1, sizeof *add->col);
    column_copy(add->col, &t->cols[pos]);
    add->restore = 1;
    op_list_push(inv, add);
    for (size_t i = 0; i < t->nidx; i++)
        if (index_uses_column(&t->idx[i], o->name))
            op_list_push(inv, inv_create_index(o, t, &t->idx[i]));
    for (size_t i = 0; i < t->nchecks; i++)
        if (check_uses_column(&t->checks[i], o->name))
            op_list_push(inv, inv_add_check(o, t, &t->checks[i]));
    for (size_t i = 0; i < t->nfks; i++)
        if (fk_uses_column(&t->fks[i], t->name, o->name))
            op_list_push(inv, inv_add_fk(o, t, &t->fks[i]));
    /* apply */
    for (size_t i = t->nfks; i-- > 0;)
        if (fk_uses_column(&t->fks[i], t->name, o->name))
            remove_fk(t, i);
    for (size_t i = t->nchecks; i-- > 0;)
        if (check_uses_column(&t->checks[i], o->name))
            remove_check(t, i);
    for (size_t i = t->nidx; i-- > 0;)
        if (index_uses_column(&t->idx[i], o->name))
            remove_index(t, i);
    column_free(&t->cols[pos]);
    memmove(&t->cols[pos], &t->cols[pos + 1], (t->ncols - (size_t)pos - 1) * sizeof *t->cols);
    t->ncols--;
    return 0;
}

static void rename_in_strvec(strvec *v, const char *from, const char *to)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i], from) == 0) {
            free(v->v[i]);
            v->v[i] = xstrdup(to);
        }
}

/* rename_column: the new name follows into the primary key, indexes
 * (columns and predicates), checks, and foreign keys on either side. */
static int apply_rename_column(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    table *t = need_table(ctx, o, s, o->table);
    if (!t)
        return STRATA_EINPUT;
    column *c = table_column_mut(t, o->name);
    if (!c)
        return unknown_column(ctx, o, t, o->name);
    if (table_column(t, o->to))
        return merr(ctx, o, "table '%s' already has a column '%s'", t->name, o->to);
    for (size_t i = 0; i < t->ncols; i++)
        if (&t->cols[i] != c && str_ieq(t->cols[i].name, o->to))
            return merr(ctx, o, "column '%s' differs only by case from column '%s' of '%s'", o->to,
                        t->cols[i].name, t->name);
    free(c->name);
    c->name = xstrdup(o->to);
    rename_in_strvec(&t->pk, o->name, o->to);
    for (size_t i = 0; i < t->nidx; i++) {
        index_def *ix = &t->idx[i];
        for (size_t k = 0; k < ix->ncols; k++)
            if (strcmp(ix->cols[k].name, o->name) == 0) {
                free(ix->cols[k].name);
                ix->cols[k].name = xstrdup(o->to);
            }
        if (ix->where) {
            json_t *w = predicate_rename_column(ix->where, o->name, o->to);
            json_decref(ix->where);
            ix->where = w;
        }
    }
    for (size_t i = 0; i < t->nchecks; i++) {
        json_t *w = predicate_rename_column(t->checks[i].check, o->name, o->to);
        json_decref(t->checks[i].check);
        t->checks[i].check = w;
    }
    for (size_t i = 0; i < t->nfks; i++)
        rename_in_strvec(&t->fks[i].cols, o->name, o->to);
    const table **refs;
    size_t nrefs = referrers(s, t->name, &refs);
    for (size_t i = 0; i < nrefs; i++) {
        table *other = &s->tables[refs[i] - s->tables];
        for (size_t k = 0; k < other->nfks; k++)
            if (strcmp(other->fks[k].ref_table, t->name) == 0)
                rename_in_strvec(&other->fks[k].ref_cols, o->name, o->to);
    }
    free(refs);
    op *back = inv_new(OP_RENAME_COLUMN, o, t->name);
    back->name = xstrdup(o->to);
    back->to = xstrdup(o->name);
    op_list_push(inv, back);
    return 0;
}

/* alter_column: builds the column's next definition from the ALTER_* bits,
 * checks it (no nullable key columns, no NOT NULL under ON ... SET NULL,
 * foreign keys on either side stay type-compatible, no change to serial),
 * and only then replaces the column. The inverse restores what changed. */
static int apply_alter_column(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    table *t = need_table(ctx, o, s, o->table);
    if (!t)
        return STRATA_EINPUT;
    column *c = table_column_mut(t, o->name);
    if (!c)
        return unknown_column(ctx, o, t, o->name);
    column next;
    column_copy(&next, c);
    if (o->alter & ALTER_TYPE) {
        col_type_free(&next.type);
        col_type_copy(&next.type, &o->col->type);
        /* an inline enum keeps its PostgreSQL type across value changes */
        if (c->type.kind == TY_ENUM && !c->type.enum_name && next.type.kind == TY_ENUM &&
            !next.type.enum_name && c->type.pg_type) {
            free(next.type.pg_type);
            next.type.pg_type = xstrdup(c->type.pg_type);
        }
    }
    if (o->alter & ALTER_NULLABLE)
        next.nullable = o->col->nullable;
    if (o->alter & ALTER_DEFAULT) {
        col_default_free(&next.def);
        col_default_copy(&next.def, &o->col->def);
    }
    if (o->alter & ALTER_DROP_DEFAULT)
        col_default_free(&next.def);
    int rc = 0;
    if (next.nullable && table_in_pk(t, c->name))
        rc = merr(ctx, o, "column '%s' is part of the primary key and cannot be nullable", c->name);
    for (size_t i = 0; !rc && !next.nullable && i < t->nfks; i++)
        if (strvec_find(&t->fks[i].cols, c->name) >= 0 &&
            (t->fks[i].on_delete == FK_SET_NULL || t->fks[i].on_update == FK_SET_NULL))
            rc = merr(ctx, o, "column '%s' cannot be NOT NULL: foreign key '%s' sets it to NULL",
                      c->name, t->fks[i].name);
    if (!rc)
        rc = check_column_def(ctx, o, s, &next);
    if (!rc && (o->alter & ALTER_TYPE)) {
        /* foreign keys on either side must stay compatible */
        for (size_t i = 0; i < s->ntables && !rc; i++) {
            const table *other = &s->tables[i];
            for (size_t k = 0; k < other->nfks && !rc; k++) {
                const fk_def *fk = &other->fks[k];
                for (size_t j = 0; j < fk->cols.n && !rc; j++) {
                    const column *peer = NULL;
                    if (other == t && strcmp(fk->cols.v[j], c->name) == 0) {
                        const table *rt = schema_table(s, fk->ref_table);
                        peer = rt ? table_column(rt, fk->ref_cols.v[j]) : NULL;
                    } else if (strcmp(fk->ref_table, t->name) == 0 &&
                               strcmp(fk->ref_cols.v[j], c->name) == 0) {
                        peer = table_column(other, fk->cols.v[j]);
                    }
                    if (peer && peer != c && !types_fk_compatible(&next.type, &peer->type))
                        rc = merr(ctx, o,
                                  "column '%s' is linked by foreign key '%s' to a column of "
                                  "another type; change both",
                                  c->name, fk->name);
                }
            }
        }
        if (!rc && type_is_serial(c->type.kind) != type_is_serial(next.type.kind) &&
            type_is_serial(next.type.kind))
            rc = merr(ctx, o, "cannot change a column to serial");
    }
    if (rc) {
        column_free(&next);
        return rc;
    }
    op *back = inv_new(OP_ALTER_COLUMN, o, t->name);
    back->name = xstrdup(c->name);
    back->col = xcalloc(1, sizeof *back->col);
    column_copy(back->col, c);
    if (o->alter & ALTER_TYPE)
        back->alter |= ALTER_TYPE;
    if (o->alter & ALTER_NULLABLE)
        back->alter |= ALTER_NULLABLE;
    if (o->alter & (ALTER_DEFAULT | ALTER_DROP_DEFAULT))
        back->alter |= c->def.kind == DEF_NONE ? ALTER_DROP_DEFAULT : ALTER_DEFAULT;
    op_list_push(inv, back);
    column_free(c);
    *c = next;
    return 0;
}

static int apply_create_index(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    table *t = need_table(ctx, o, s, o->table);
    if (!t)
        return STRATA_EINPUT;
    const index_def *ix = o->index;
    if (table_index(t, ix->name) && o->if_not_exists)
        return 0;
    int rc = need_free_name(ctx, o, s, ix->name, "index");
    for (size_t k = 0; !rc && k < ix->ncols; k++)
        if (!table_column(t, ix->cols[k].name))
            rc = unknown_column(ctx, o, t, ix->cols[k].name);
    if (!rc && ix->where)
        rc = need_predicate_columns(ctx, o, t, ix->where);
    if (rc)
        return rc;
    table_add_index(t, ix);
    if (o->online && ix->unique && ix->where)
        table_index_mut(t, ix->name)->virtual_helpers = 1;
    op *drop = inv_new(ix->constraint ? OP_DROP_UNIQUE : OP_DROP_INDEX, o, t->name);
    drop->name = xstrdup(ix->name);
    op_list_push(inv, drop);
    return 0;
}

struct index_of_table {
    const table *t;
    const index_def *ix;
};

/* referencing_fk's match: does the key reference exactly the columns of
 * index arg->ix, which the table's primary key cannot serve instead? */
static int fk_needs_index(const fk_def *fk, const void *arg)
{
    const struct index_of_table *it = arg;
    const index_def *ix = it->ix;
    if (fk->ref_cols.n != ix->ncols)
        return 0;
    for (size_t j = 0; j < ix->ncols; j++)
        if (strvec_find(&fk->ref_cols, ix->cols[j].name) < 0)
            return 0;
    if (it->t->pk.n != ix->ncols)
        return 1;
    /* the primary key serves too; only a problem if it is not the key */
    for (size_t j = 0; j < ix->ncols; j++)
        if (strvec_find(&it->t->pk, ix->cols[j].name) < 0)
            return 1;
    return 0;
}

/* Is a unique index the target of some foreign key? */
static const fk_def *index_referenced(const schema *s, const table *t, const index_def *ix)
{
    if (!ix->unique)
        return NULL;
    struct index_of_table it = {t, ix};
    const table *owner;
    return referencing_fk(s, t->name, NULL, fk_needs_index, &it, &owner);
}

static int apply_drop_index(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    table *t = need_table(ctx, o, s, o->table);
    if (!t)
        return STRATA_EINPUT;
    const index_def *ix = table_index(t, o->name);
    if (!ix) {
        if (o->if_exists)
            return 0;
        return merr(ctx, o, "table '%s' has no index '%s'", t->name, o->name);
    }
    if (o->kind == OP_DROP_INDEX && ix->constraint)
        return merr(ctx, o, "'%s' is a unique constraint; use drop_unique", o->name);
    if (o->kind == OP_DROP_UNIQUE && !ix->constraint)
        return merr(ctx, o, "'%s' is an index, not a unique constraint; use drop_index", o->name);
    const fk_def *fk = index_referenced(s, t, ix);
    if (fk)
        return merr(ctx, o, "'%s' is needed by foreign key '%s'; drop that first", o->name,
                    fk->name);
    op_list_push(inv, inv_create_index(o, t, ix));
    remove_index(t, (size_t)(ix - t->idx));
    return 0;
}

static int apply_add_fk(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    table *t = need_table(ctx, o, s, o->table);
    if (!t)
        return STRATA_EINPUT;
    fk_def fk;
    fk_copy(&fk, o->fk);
    int rc = need_free_name(ctx, o, s, fk.name, "foreign key");
    if (!rc)
        rc = check_fk(ctx, o, s, t, &fk);
    if (!rc) {
        table_add_fk(t, &fk);
        op_list_push(inv, inv_drop_fk(o, t->name, fk.name));
    }
    fk_free(&fk);
    return rc;
}

static int apply_drop_fk(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    table *t = need_table(ctx, o, s, o->table);
    if (!t)
        return STRATA_EINPUT;
    const fk_def *fk = table_fk(t, o->name);
    if (!fk) {
        if (o->if_exists)
            return 0;
        return merr(ctx, o, "table '%s' has no foreign key '%s'", t->name, o->name);
    }
    op_list_push(inv, inv_add_fk(o, t, fk));
    remove_fk(t, (size_t)(fk - t->fks));
    return 0;
}

static int apply_add_pk(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    table *t = need_table(ctx, o, s, o->table);
    if (!t)
        return STRATA_EINPUT;
    if (t->pk.n)
        return merr(ctx, o, "table '%s' already has a primary key", t->name);
    int rc = need_columns(ctx, o, t, (const char *const *)o->cols.v, o->cols.n);
    if (!rc)
        rc = need_free_name(ctx, o, s, o->name, "primary key");
    if (rc)
        return rc;
    op *drop = inv_new(OP_DROP_PRIMARY_KEY, o, t->name);
    op_list_push(inv, drop);
    for (size_t i = 0; i < o->cols.n; i++) {
        column *c = table_column_mut(t, o->cols.v[i]);
        if (c->nullable) {
            op *back = inv_new(OP_ALTER_COLUMN, o, t->name);
            back->name = xstrdup(c->name);
            back->col = xcalloc(1, sizeof *back->col);
            column_copy(back->col, c);
            back->alter = ALTER_NULLABLE;
            op_list_push(inv, back);
            c->nullable = 0;
        }
        strvec_push(&t->pk, o->cols.v[i]);
    }
    t->pk_name = xstrdup(o->name);
    return 0;
}

/* referencing_fk's match: does the key reference exactly the primary key
 * of table arg, with no unique constraint on those columns to serve it? */
static int fk_needs_pk(const fk_def *fk, const void *arg)
{
    const table *t = arg;
    if (fk->ref_cols.n != t->pk.n)
        return 0;
    for (size_t j = 0; j < t->pk.n; j++)
        if (strvec_find(&fk->ref_cols, t->pk.v[j]) < 0)
            return 0;
    return !has_unique_on(t, &fk->ref_cols);
}

static int apply_drop_pk(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    table *t = need_table(ctx, o, s, o->table);
    if (!t)
        return STRATA_EINPUT;
    if (!t->pk.n)
        return merr(ctx, o, "table '%s' has no primary key", t->name);
    const table *owner;
    const fk_def *fk = referencing_fk(s, t->name, NULL, fk_needs_pk, t, &owner);
    if (fk)
        return merr(ctx, o, "the primary key of '%s' is needed by foreign key '%s'", t->name,
                    fk->name);
    op *add = inv_new(OP_ADD_PRIMARY_KEY, o, t->name);
    for (size_t j = 0; j < t->pk.n; j++)
        strvec_push(&add->cols, t->pk.v[j]);
    add->name = xstrdup(t->pk_name ? t->pk_name : "");
    op_list_push(inv, add);
    strvec_free(&t->pk);
    free(t->pk_name);
    t->pk_name = NULL;
    return 0;
}

static int apply_add_check(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    table *t = need_table(ctx, o, s, o->table);
    if (!t)
        return STRATA_EINPUT;
    int rc = need_free_name(ctx, o, s, o->check->name, "check");
    if (!rc)
        rc = need_predicate_columns(ctx, o, t, o->check->check);
    if (rc)
        return rc;
    table_add_check(t, o->check);
    op *drop = inv_new(OP_DROP_CHECK, o, t->name);
    drop->name = xstrdup(o->check->name);
    op_list_push(inv, drop);
    return 0;
}

static int apply_drop_check(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    table *t = need_table(ctx, o, s, o->table);
    if (!t)
        return STRATA_EINPUT;
    const check_def *ck = table_check(t, o->name);
    if (!ck)
        return merr(ctx, o, "table '%s' has no check '%s'", t->name, o->name);
    op_list_push(inv, inv_add_check(o, t, ck));
    remove_check(t, (size_t)(ck - t->checks));
    return 0;
}

/* create_enum, alter_enum and drop_enum (named enums). An enum a column
 * uses cannot be dropped; alter_enum replaces the value list, refused when a
 * column's default would fall out of it (rows with removed values are the
 * compilers' run-time check). */
static int apply_enum(schema *s, const op *o, const apply_ctx *ctx, op_list *inv)
{
    enum_def *e = schema_enum_mut(s, o->name);
    if (o->kind == OP_CREATE_ENUM) {
        if (e)
            return merr(ctx, o, "enum '%s' already exists", o->name);
        if (schema_table(s, o->name) || name_owner(s, o->name))
            return merr(ctx, o, "enum name '%s' is already used by a table or constraint", o->name);
        s->enums = xgrow(s->enums, &s->cap_enums, s->nenums + 1, sizeof *s->enums);
        enum_def *n = &s->enums[s->nenums++];
        n->name = xstrdup(o->name);
        memset(&n->values, 0, sizeof n->values);
        for (size_t i = 0; i < o->values.n; i++)
            strvec_push(&n->values, o->values.v[i]);
        op *drop = inv_new(OP_DROP_ENUM, o, NULL);
        drop->name = xstrdup(o->name);
        op_list_push(inv, drop);
        return 0;
    }
    if (!e)
        return merr(ctx, o, "unknown enum '%s'", o->name);
    if (o->kind == OP_DROP_ENUM) {
        for (size_t i = 0; i < s->ntables; i++)
            for (size_t k = 0; k < s->tables[i].ncols; k++) {
                const column *c = &s->tables[i].cols[k];
                if (c->type.kind == TY_ENUM && c->type.enum_name &&
                    strcmp(c->type.enum_name, o->name) == 0)
                    return merr(ctx, o, "enum '%s' is used by column '%s.%s'", o->name,
                                s->tables[i].name, c->name);
            }
        op *create = inv_new(OP_CREATE_ENUM, o, NULL);
        create->name = xstrdup(o->name);
        for (size_t i = 0; i < e->values.n; i++)
            strvec_push(&create->values, e->values.v[i]);
        op_list_push(inv, create);
        free(e->name);
        strvec_free(&e->values);
        size_t idx = (size_t)(e - s->enums);
        memmove(&s->enums[idx], &s->enums[idx + 1], (s->nenums - idx - 1) * sizeof *s->enums);
        s->nenums--;
        return 0;
    }
    /* alter_enum: defaults of columns using it must stay valid */
    for (size_t i = 0; i < s->ntables; i++)
        for (size_t k = 0; k < s->tables[i].ncols; k++) {
            const column *c = &s->tables[i].cols[k];
            if (c->type.kind == TY_ENUM && c->type.enum_name &&
                strcmp(c->type.enum_name, o->name) == 0 && c->def.kind == DEF_LITERAL &&
                json_is_string(c->def.literal) &&
                strvec_find(&o->values, json_string_value(c->def.literal)) < 0)
                return merr(ctx, o,
                            "column '%s.%s' defaults to '%s', which the new values of enum '%s' "
                            "do not hold",
                            s->tables[i].name, c->name, json_string_value(c->def.literal), o->name);
        }
    op *back = inv_new(OP_ALTER_ENUM, o, NULL);
    back->name = xstrdup(o->name);
    for (size_t i = 0; i < e->values.n; i++)
        strvec_push(&back->values, e->values.v[i]);
    op_list_push(inv, back);
    strvec_free(&e->values);
    for (size_t i = 0; i < o->values.n; i++)
        strvec_push(&e->values, o->values.v[i]);
    return 0;
}

static int check_row_values(const apply_ctx *ctx, const op *o, const schema *s, const table *t,
                            json_t *row, size_t rowi, int partial)
{
    const char *key;
    json_t *val;
    json_object_foreach(row, key, val)
    {
        const column *c = table_column(t, key);
        if (!c)
            return unknown_column(ctx, o, t, key);
        const char *why = value_fits(s, c, val);
        if (why)
            return merr(ctx, o, "row %zu, column '%s': value is %s", rowi, key, why);
    }
    if (partial)
        return 0;
    for (size_t i = 0; i < t->ncols; i++) {
        const column *c = &t->cols[i];
        if (!c->nullable && c->def.kind == DEF_NONE && !type_is_serial(c->type.kind) &&
            !json_object_get(row, c->name))
            return merr(ctx, o, "row %zu: NOT NULL column '%s' has no value and no default", rowi,
                        c->name);
    }
    return 0;
}

/* insert, update and delete: their values must fit the columns (inserts
 * also give every NOT NULL column without a default). An insert marks the
 * table as holding rows; its inverse deletes the rows by primary key, so
 * rows without key values make the migration irreversible, as update and
 * delete always do. */
static int apply_dml(schema *s, const op *o, const apply_ctx *ctx, op_list *inv,
                     char **irreversible)
{
    table *t = need_table(ctx, o, s, o->table);
    if (!t)
        return STRATA_EINPUT;
    int rc = 0;
    if (o->kind == OP_INSERT) {
        size_t i;
        json_t *row;
        json_array_foreach(o->rows, i, row)
        {
            if ((rc = check_row_values(ctx, o, s, t, row, i, 0)))
                return rc;
        }
        t->has_rows = 1;
        /* inverse: delete the rows by primary key */
        int have_keys = t->pk.n > 0;
        json_array_foreach(o->rows, i,
                           row) for (size_t k = 0; k < t->pk.n;
                                     k++) if (!json_object_get(row, t->pk.v[k]) ||
                                              json_is_null(json_object_get(row, t->pk.v[k])))
            have_keys = 0;
        if (!have_keys) {
            if (irreversible && !*irreversible)
                *irreversible =
                    xasprintf("%s (insert) has rows without primary-key values", o->path);
            return 0;
        }
        op *del = inv_new(OP_DELETE, o, t->name);
        json_t *alts = json_array();
        if (t->pk.n == 1) {
            json_t *in = json_array();
            json_array_foreach(o->rows, i, row)
                json_array_append(in, json_object_get(row, t->pk.v[0]));
            del->where = json_pack("{s:s, s:o}", "column", t->pk.v[0], "in", in);
            json_decref(alts);
        } else {
            json_array_foreach(o->rows, i, row)
            {
                json_t *conj = json_array();
                for (size_t k = 0; k < t->pk.n; k++)
                    json_array_append_new(conj, json_pack("{s:s, s:O}", "column", t->pk.v[k], "eq",
                                                          json_object_get(row, t->pk.v[k])));
                json_array_append_new(alts, json_pack("{s:o}", "and", conj));
            }
            del->where = json_pack("{s:o}", "or", alts);
        }
        op_list_push(inv, del);
        return 0;
    }
    if (o->kind == OP_UPDATE) {
        if ((rc = check_row_values(ctx, o, s, t, o->set, 0, 1)))
            return rc;
    }
    if (o->where && (rc = need_predicate_columns(ctx, o, t, o->where)))
        return rc;
    if (irreversible && !*irreversible)
        *irreversible = xasprintf("%s (%s) has no inverse", o->path, op_names[o->kind]);
    return 0;
}

/* One apply_<op> per operation (parse.c has one parse_<op> per operation
 * to match). With `inverse` NULL the inverses are made and thrown away.
 * model_apply wraps it to keep the name index. */
static int model_apply_op(schema *s, const op *o, const apply_ctx *ctx, op_list *inverse,
                          char **irreversible)
{
    op_list scratch = {0};
    op_list *inv = inverse ? inverse : &scratch;
    int rc = 0;
    switch (o->kind) {
    case OP_CREATE_TABLE:
        rc = apply_create_table(s, o, ctx, inv);
        break;
    case OP_DROP_TABLE:
        rc = apply_drop_table(s, o, ctx, inv);
        break;
    case OP_RENAME_TABLE:
        rc = apply_rename_table(s, o, ctx, inv);
        break;
    case OP_ADD_COLUMN:
        rc = apply_add_column(s, o, ctx, inv);
        break;
    case OP_DROP_COLUMN:
        rc = apply_drop_column(s, o, ctx, inv);
        break;
    case OP_RENAME_COLUMN:
        rc = apply_rename_column(s, o, ctx, inv);
        break;
    case OP_ALTER_COLUMN:
        rc = apply_alter_column(s, o, ctx, inv);
        break;
    case OP_CREATE_INDEX:
    case OP_ADD_UNIQUE:
        rc = apply_create_index(s, o, ctx, inv);
        break;
    case OP_DROP_INDEX:
    case OP_DROP_UNIQUE:
        rc = apply_drop_index(s, o, ctx, inv);
        break;
    case OP_ADD_FOREIGN_KEY:
        rc = apply_add_fk(s, o, ctx, inv);
        break;
    case OP_DROP_FOREIGN_KEY:
        rc = apply_drop_fk(s, o, ctx, inv);
        break;
    case OP_ADD_PRIMARY_KEY:
        rc = apply_add_pk(s, o, ctx, inv);
        break;
    case OP_DROP_PRIMARY_KEY:
        rc = apply_drop_pk(s, o, ctx, inv);
        break;
    case OP_ADD_CHECK:
        rc = apply_add_check(s, o, ctx, inv);
        break;
    case OP_DROP_CHECK:
        rc = apply_drop_check(s, o, ctx, inv);
        break;
    case OP_CREATE_ENUM:
    case OP_ALTER_ENUM:
    case OP_DROP_ENUM:
        rc = apply_enum(s, o, ctx, inv);
        break;
    case OP_INSERT:
    case OP_UPDATE:
    case OP_DELETE:
        rc = apply_dml(s, o, ctx, inv, irreversible);
        break;
    case OP_SQL:
        if (irreversible && !*irreversible)
            *irreversible = xasprintf("%s (sql) has no inverse", o->path);
        break;
    case OP__COUNT:
        break;
    }
    op_list_free(&scratch);
    return rc;
}

/* Apply one operation and keep the name index right: the names of the
 * table it works on (before, and after under its possibly new name) are
 * uncounted and counted again, which costs the size of that table, not of
 * the schema. */
int model_apply(schema *s, const op *o, const apply_ctx *ctx, op_list *inverse, char **irreversible)
{
    nameset *ns = schema_names(s);
    /* the names before, to uncount once the op has run (the op itself must
     * still see them, to refuse a name its own table already uses) */
    strvec before = STRVEC_INIT;
    int *kinds = NULL;
    char *tname = NULL;
    const table *t = o->table ? schema_table(s, o->table) : NULL;
    if (t) {
        table_names(t, &before, &kinds);
        tname = xstrdup(t->name);
    }
    int rc = model_apply_op(s, o, ctx, inverse, irreversible);
    if (tname)
        count_names(ns, tname, &before, kinds, -1);
    strvec_free(&before);
    free(kinds);
    free(tname);
    if (o->kind == OP_RENAME_TABLE && !rc) {
        /* foreign keys elsewhere now reference the new name */
        nameset_free(s->names);
        s->names = NULL;
        schema_tables_moved(s);
        return rc;
    }
    t = o->table ? schema_table(s, o->table) : NULL;
    if (t)
        count_table_names(ns, t, 1);
    return rc;
}

/* ---- replaying a migration set ---- */

void plan_free(down_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        op_list_free(&p->downs[i]);
        free(p->why[i]);
    }
    free(p->downs);
    free(p->reversible);
    free(p->why);
    memset(p, 0, sizeof *p);
}

/* See migration.h. The derived down of a migration is the inverses of its
 * ops in reverse order; one irreversible op (or a "down": "irreversible")
 * makes the whole migration irreversible, unless it gives its own down. */
int plan_replay(const migration_set *set, size_t upto, schema *s, down_plan *p)
{
    if (p) {
        memset(p, 0, sizeof *p);
        p->n = upto;
        p->downs = xcalloc(upto + 1, sizeof *p->downs);
        p->reversible = xcalloc(upto + 1, sizeof *p->reversible);
        p->why = xcalloc(upto + 1, sizeof *p->why);
    }
    for (size_t i = 0; i < upto; i++) {
        const migration *m = set->v[i];
        model_begin_migration(s, (int)i);
        op_list *inverses = p ? xcalloc(m->up.n + 1, sizeof *inverses) : NULL;
        char *why = NULL;
        int rc = 0;
        for (size_t j = 0; j < m->up.n && !rc; j++) {
            apply_ctx ctx = {m->path, &m->up, j, NULL};
            rc = model_apply(s, m->up.v[j], &ctx, p ? &inverses[j] : NULL, p ? &why : NULL);
        }
        if (p && !rc) {
            if (m->down_mode == DOWN_EXPLICIT) {
                for (size_t j = 0; j < m->down.n; j++)
                    op_list_push(&p->downs[i], op_copy(m->down.v[j]));
                p->reversible[i] = 1;
            } else if (m->down_mode == DOWN_IRREVERSIBLE) {
                p->why[i] = xstrdup("it is marked \"down\": \"irreversible\"");
            } else if (why) {
                p->why[i] = xasprintf("%s; write a \"down\"", why);
            } else {
                for (size_t j = m->up.n; j-- > 0;) {
                    for (size_t k = 0; k < inverses[j].n; k++)
                        op_list_push(&p->downs[i], inverses[j].v[k]);
                    free(inverses[j].v);
                    memset(&inverses[j], 0, sizeof inverses[j]);
                }
                p->reversible[i] = 1;
            }
        }
        free(why);
        if (inverses) {
            for (size_t j = 0; j < m->up.n; j++)
                op_list_free(&inverses[j]);
            free(inverses);
        }
        if (rc)
            return rc;
        if (p)
            p->replayed = i + 1;
    }
    return 0;
}

int migrations_check_dir(const char *dir)
{
    migration_set set;
    int rc = migrations_load_dir(dir ? dir : "./migrations", &set);
    if (!rc) {
        schema s;
        schema_init(&s);
        rc = plan_replay(&set, set.n, &s, NULL);
        schema_free(&s);
        migration_set_free(&set);
    }
    return rc;
}
