/*
 * parse.c - migration files (spec/migration-format.md) into operations.
 *
 * The parser checks shape only: JSON syntax (with line and column), the
 * allowed keys of every object (an unknown key is an error that suggests
 * the nearest valid one), value kinds, type names and parameters. Whether a
 * table or column exists is the schema model's business (model.c). Every
 * message starts "FILE: PATH:" where PATH is the JSON path, e.g.
 * "up[3].columns[2].type".
 *
 * Column-level shorthands are normalised here into table-level objects with
 * deterministic names: `primary_key: true` into the table's key, `unique`
 * into a UNIQUE constraint <table>_<column>_unique, `references` into a
 * foreign key <table>_<column>_foreign, `check` into <table>_<column>_check,
 * inline enum values into the PostgreSQL type <table>_<column>_enum.
 */
#include "migration.h"
#include "names.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct pctx {
    const char *file;
    sbuf path;
} pctx;

static int perr(pctx *c, const char *fmt, ...) STRATA_PRINTF(2, 3);
static int perr(pctx *c, const char *fmt, ...)
{
    sbuf b = SBUF_INIT;
    sbuf_addf(&b, "%s: %s: ", c->file, c->path.len ? sbuf_str(&c->path) : "(top level)");
    va_list ap;
    va_start(ap, fmt);
    sbuf_vaddf(&b, fmt, ap);
    va_end(ap);
    strata_set_error(STRATA_EINPUT, "%s", sbuf_str(&b));
    sbuf_free(&b);
    return STRATA_EINPUT;
}

/* Path helpers: push ".key" or "[i]", pop back to a saved length. */
static size_t path_key(pctx *c, const char *key)
{
    size_t saved = c->path.len;
    if (c->path.len)
        sbuf_addc(&c->path, '.');
    sbuf_add(&c->path, key);
    return saved;
}

static size_t path_index(pctx *c, size_t i)
{
    size_t saved = c->path.len;
    sbuf_addf(&c->path, "[%zu]", i);
    return saved;
}

static void path_pop(pctx *c, size_t saved)
{
    c->path.len = saved;
    if (c->path.p)
        c->path.p[saved] = '\0';
}

/* Check that every key of obj is in `allowed` (NULL-terminated). */
static int check_keys(pctx *c, json_t *obj, const char *const *allowed, const char *what)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        int ok = 0;
        size_t n = 0;
        for (const char *const *a = allowed; *a; a++, n++)
            if (strcmp(*a, key) == 0)
                ok = 1;
        if (!ok) {
            const char *near = str_nearest(key, allowed, n);
            size_t saved = path_key(c, key);
            int rc = near ? perr(c, "unknown key '%s' in %s (did you mean '%s'?)", key, what, near)
                          : perr(c, "unknown key '%s' in %s", key, what);
            path_pop(c, saved);
            return rc;
        }
    }
    return 0;
}

static int need_string(pctx *c, json_t *obj, const char *key, int required, char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v) {
        if (required)
            return perr(c, "missing key '%s'", key);
        return 0;
    }
    if (!json_is_string(v) || !*json_string_value(v)) {
        size_t saved = path_key(c, key);
        int rc = perr(c, "'%s' must be a non-empty string", key);
        path_pop(c, saved);
        return rc;
    }
    *out = xstrdup(json_string_value(v));
    return 0;
}

static int need_bool(pctx *c, json_t *obj, const char *key, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        size_t saved = path_key(c, key);
        int rc = perr(c, "'%s' must be true or false", key);
        path_pop(c, saved);
        return rc;
    }
    *out = json_is_true(v);
    return 0;
}

/* An identifier: non-empty, no NUL, at most 63 bytes, no supplementary
 * (4-byte UTF-8) characters, which MySQL cannot store in names. */
static int check_identifier(pctx *c, const char *name, const char *what, int may_shorten)
{
    size_t len = strlen(name);
    if (!len)
        return perr(c, "%s name is empty", what);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p >= 0xF0)
            return perr(c,
                        "%s name '%s' contains a character outside the Basic Multilingual "
                        "Plane, which MySQL/MariaDB cannot store in identifiers",
                        what, name);
    if (len > NAME_MAX_BYTES && !may_shorten)
        return perr(c,
                    "%s name '%s' is %zu bytes long; PostgreSQL allows at most 63 bytes "
                    "(MySQL 64 characters)",
                    what, name, len);
    return 0;
}

/* Author-given index/constraint names longer than 63 bytes are shortened. */
static char *maybe_shorten(pctx *c, char *name, strvec *warnings)
{
    if (strlen(name) <= NAME_MAX_BYTES)
        return name;
    char *s = name_shorten(name);
    if (warnings)
        strvec_pushf(warnings, "%s: %s: name '%s' is longer than 63 bytes; using '%s'", c->file,
                     sbuf_str(&c->path), name, s);
    free(name);
    return s;
}

static int need_name_list(pctx *c, json_t *obj, const char *key, int required, strvec *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return perr(c, "missing key '%s'", key);
        return 0;
    }
    size_t saved = path_key(c, key);
    if (!json_is_array(v) || json_array_size(v) == 0) {
        int rc = perr(c, "'%s' must be a non-empty list of column names", key);
        path_pop(c, saved);
        return rc;
    }
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e) || !*json_string_value(e)) {
            size_t s2 = path_index(c, i);
            int rc = perr(c, "must be a column name");
            path_pop(c, s2);
            path_pop(c, saved);
            return rc;
        }
        if (strvec_find(out, json_string_value(e)) >= 0) {
            size_t s2 = path_index(c, i);
            int rc = perr(c, "column '%s' is listed twice", json_string_value(e));
            path_pop(c, s2);
            path_pop(c, saved);
            return rc;
        }
        strvec_push(out, json_string_value(e));
    }
    path_pop(c, saved);
    return 0;
}

/* ---- predicates ---- */

static const char *const cmp_keys[] = {"eq", "ne", "lt", "le", "gt", "ge", "in", "is_null", NULL};

static int check_operand(pctx *c, json_t *v)
{
    if (json_is_object(v)) {
        json_t *col = json_object_get(v, "column");
        if (json_object_size(v) != 1 || !json_is_string(col))
            return perr(c, "an operand object must be {\"column\": name}");
    }
    return 0;
}

/* The shape of a predicate: and/or lists, not, or one comparison of a
 * column (eq ... ge against a literal or {"column": name}, in a list of
 * literals, is_null). Whether the columns exist is the model's business. */
static int check_predicate(pctx *c, json_t *p)
{
    if (!json_is_object(p))
        return perr(c, "a predicate must be an object");
    if (json_object_get(p, "and") || json_object_get(p, "or")) {
        const char *k = json_object_get(p, "and") ? "and" : "or";
        if (json_object_size(p) != 1)
            return perr(c, "'%s' must stand alone in its object", k);
        json_t *arr = json_object_get(p, k);
        size_t saved = path_key(c, k);
        if (!json_is_array(arr) || json_array_size(arr) == 0) {
            int rc = perr(c, "'%s' must be a non-empty list of predicates", k);
            path_pop(c, saved);
            return rc;
        }
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e)
        {
            size_t s2 = path_index(c, i);
            int rc = check_predicate(c, e);
            path_pop(c, s2);
            if (rc) {
                path_pop(c, saved);
                return rc;
            }
        }
        path_pop(c, saved);
        return 0;
    }
    if (json_object_get(p, "not")) {
        if (json_object_size(p) != 1)
            return perr(c, "'not' must stand alone in its object");
        size_t saved = path_key(c, "not");
        int rc = check_predicate(c, json_object_get(p, "not"));
        path_pop(c, saved);
        return rc;
    }
    json_t *col = json_object_get(p, "column");
    if (!col) {
        const char *const allowed[] = {"column", "and", "or", "not", NULL};
        int rc = check_keys(c, p, allowed, "a predicate");
        return rc ? rc : perr(c, "a predicate needs 'column', 'and', 'or' or 'not'");
    }
    if (!json_is_string(col))
        return perr(c, "'column' must be a column name");
    const char *const allowed[] = {"column", "eq", "ne", "lt",      "le",
                                   "gt",     "ge", "in", "is_null", NULL};
    int rc = check_keys(c, p, allowed, "a comparison");
    if (rc)
        return rc;
    if (json_object_size(p) != 2)
        return perr(c, "a comparison needs exactly one of eq, ne, lt, le, gt, ge, in, is_null");
    for (const char *const *k = cmp_keys; *k; k++) {
        json_t *v = json_object_get(p, *k);
        if (!v)
            continue;
        size_t saved = path_key(c, *k);
        if (strcmp(*k, "is_null") == 0 && !json_is_boolean(v))
            rc = perr(c, "'is_null' must be true or false");
        else if (strcmp(*k, "in") == 0) {
            if (!json_is_array(v) || json_array_size(v) == 0)
                rc = perr(c, "'in' must be a non-empty list of values");
            else {
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e) if (!rc && (json_is_object(e) || json_is_array(e))) rc =
                    perr(c, "'in' values must be literals");
            }
        } else if (strcmp(*k, "is_null") != 0) {
            if (json_is_array(v) || json_is_null(v))
                rc = perr(c, "'%s' needs a literal or {\"column\": name}%s", *k,
                          json_is_null(v) ? " (use is_null for NULL)" : "");
            else
                rc = check_operand(c, v);
        }
        path_pop(c, saved);
        return rc;
    }
    return 0;
}

/* A check: a predicate object, a raw SQL string or a per-dialect object. */
static int check_check(pctx *c, json_t *v)
{
    if (json_is_string(v))
        return *json_string_value(v) ? 0 : perr(c, "a check must not be empty");
    if (!json_is_object(v))
        return perr(c, "a check must be a predicate object, an SQL string or "
                       "{\"postgres\": ..., \"mysql\": ..., \"sqlite\": ...}");
    if (json_object_get(v, "postgres") || json_object_get(v, "mysql") ||
        json_object_get(v, "sqlite") || json_object_get(v, "all")) {
        const char *const allowed[] = {"postgres", "mysql", "sqlite", "all", NULL};
        int rc = check_keys(c, v, allowed, "a per-dialect check");
        if (rc)
            return rc;
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val) if (!json_is_string(val)) return perr(
            c, "per-dialect check '%s' must be an SQL string", key);
        return 0;
    }
    return check_predicate(c, v);
}

/* The optional "where" predicate of obj, kept as it is. */
static int parse_where(pctx *c, json_t *obj, json_t **out)
{
    json_t *w = json_object_get(obj, "where");
    if (!w)
        return 0;
    size_t saved = path_key(c, "where");
    int rc = check_predicate(c, w);
    path_pop(c, saved);
    if (!rc)
        *out = json_incref(w);
    return rc;
}

/* The required "check" of obj (a check constraint's body), borrowed. */
static int need_check(pctx *c, json_t *obj, json_t **out)
{
    *out = json_object_get(obj, "check");
    if (!*out)
        return perr(c, "missing key 'check'");
    size_t saved = path_key(c, "check");
    int rc = check_check(c, *out);
    path_pop(c, saved);
    return rc;
}

/* ---- types ---- */

/* An enum's "values": a non-empty list of distinct strings, into `out`. */
static int parse_enum_values(pctx *c, json_t *vals, strvec *out)
{
    size_t saved = path_key(c, "values");
    int rc = 0;
    if (!json_is_array(vals) || json_array_size(vals) == 0)
        rc = perr(c, "'values' must be a non-empty list of strings");
    size_t i;
    json_t *e;
    json_array_foreach(vals, i, e)
    {
        if (rc)
            break;
        if (!json_is_string(e) || strvec_find(out, json_string_value(e)) >= 0) {
            size_t s2 = path_index(c, i);
            rc = json_is_string(e)
                     ? perr(c, "enum value '%s' is listed twice", json_string_value(e))
                     : perr(c, "enum values must be strings");
            path_pop(c, s2);
            continue;
        }
        strvec_push(out, json_string_value(e));
    }
    path_pop(c, saved);
    return rc;
}

/* The type of a column or alter_column object: "type" and the parameters
 * it takes (length, precision, scale, values or enum), with their defaults
 * (string 255, time types 6); a parameter the type does not take is an
 * error. Without "type", t->kind is TY__COUNT (an error if `required`). */
static int parse_type(pctx *c, json_t *obj, col_type *t, int required)
{
    json_t *tv = json_object_get(obj, "type");
    memset(t, 0, sizeof *t);
    t->kind = TY__COUNT;
    if (!tv) {
        if (required)
            return perr(c, "missing key 'type'");
        return 0;
    }
    size_t saved = path_key(c, "type");
    if (!json_is_string(tv)) {
        int rc = perr(c, "'type' must be a type name");
        path_pop(c, saved);
        return rc;
    }
    const char *name = json_string_value(tv);
    for (int k = 0; k < TY__COUNT; k++)
        if (strcmp(type_names[k], name) == 0)
            t->kind = (type_kind)k;
    if (t->kind == TY__COUNT) {
        const char *near = str_nearest(name, type_names, TY__COUNT);
        int rc = near ? perr(c, "unknown type '%s' (did you mean '%s'?)", name, near)
                      : perr(c, "unknown type '%s'", name);
        path_pop(c, saved);
        return rc;
    }
    path_pop(c, saved);

    json_t *len = json_object_get(obj, "length");
    json_t *prec = json_object_get(obj, "precision");
    json_t *scale = json_object_get(obj, "scale");
    json_t *values = json_object_get(obj, "values");
    json_t *en = json_object_get(obj, "enum");
#define PARAM_ERR(key, ...)                                                                        \
    do {                                                                                           \
        size_t s_ = path_key(c, key);                                                              \
        int rc_ = perr(c, __VA_ARGS__);                                                            \
        path_pop(c, s_);                                                                           \
        return rc_;                                                                                \
    } while (0)
    if (len && t->kind != TY_STRING)
        PARAM_ERR("length", "'length' applies only to type string");
    if (prec && t->kind != TY_DECIMAL && !type_is_time(t->kind))
        PARAM_ERR("precision", "'precision' applies only to decimal, time, timestamp and "
                               "timestamptz");
    if (scale && t->kind != TY_DECIMAL)
        PARAM_ERR("scale", "'scale' applies only to decimal");
    if ((values || en) && t->kind != TY_ENUM)
        PARAM_ERR(values ? "values" : "enum", "'%s' applies only to type enum",
                  values ? "values" : "enum");
    switch (t->kind) {
    case TY_STRING:
        t->length = 255;
        if (len) {
            if (!json_is_integer(len) || json_integer_value(len) < 1 ||
                json_integer_value(len) > 16383)
                PARAM_ERR("length", "'length' must be an integer from 1 to 16383 (use type text "
                                    "for longer strings)");
            t->length = (int)json_integer_value(len);
        }
        break;
    case TY_DECIMAL:
        if (!prec)
            return perr(c, "type decimal needs 'precision'");
        if (!json_is_integer(prec) || json_integer_value(prec) < 1 || json_integer_value(prec) > 65)
            PARAM_ERR("precision", "'precision' must be an integer from 1 to 65");
        t->precision = (int)json_integer_value(prec);
        if (scale) {
            if (!json_is_integer(scale) || json_integer_value(scale) < 0 ||
                json_integer_value(scale) > t->precision || json_integer_value(scale) > 30)
                PARAM_ERR("scale", "'scale' must be an integer from 0 to min(precision, 30)");
            t->scale = (int)json_integer_value(scale);
        }
        break;
    case TY_TIME:
    case TY_TIMESTAMP:
    case TY_TIMESTAMPTZ:
        t->precision = 6;
        if (prec) {
            if (!json_is_integer(prec) || json_integer_value(prec) < 0 ||
                json_integer_value(prec) > 6)
                PARAM_ERR("precision", "'precision' must be an integer from 0 to 6");
            t->precision = (int)json_integer_value(prec);
        }
        break;
    case TY_ENUM:
        if (values && en)
            return perr(c, "give either 'values' (inline enum) or 'enum' (a named enum), not "
                           "both");
        if (!values && !en)
            return perr(c, "type enum needs 'values' or 'enum'");
        if (en) {
            if (!json_is_string(en) || !*json_string_value(en))
                PARAM_ERR("enum", "'enum' must be the name of a create_enum");
            t->enum_name = xstrdup(json_string_value(en));
        } else {
            int rc = parse_enum_values(c, values, &t->values);
            if (rc)
                return rc;
        }
        break;
    default:
        break;
    }
#undef PARAM_ERR
    return 0;
}

/* A default: JSON literal, {"expr": "now"|"uuid"}, or {"sql": {...}}. */
static int parse_default(pctx *c, json_t *v, col_default *d)
{
    memset(d, 0, sizeof *d);
    if (json_is_object(v) && json_object_get(v, "expr")) {
        json_t *e = json_object_get(v, "expr");
        if (json_object_size(v) != 1 || !json_is_string(e))
            return perr(c, "an expression default is {\"expr\": \"now\"} or {\"expr\": \"uuid\"}");
        if (strcmp(json_string_value(e), "now") == 0)
            d->kind = DEF_NOW;
        else if (strcmp(json_string_value(e), "uuid") == 0)
            d->kind = DEF_UUID;
        else {
            const char *const exprs[] = {"now", "uuid"};
            const char *near = str_nearest(json_string_value(e), exprs, 2);
            return near ? perr(c, "unknown default expression '%s' (did you mean '%s'?)",
                               json_string_value(e), near)
                        : perr(c, "unknown default expression '%s' (known: now, uuid)",
                               json_string_value(e));
        }
        return 0;
    }
    if (json_is_object(v) && json_object_get(v, "sql")) {
        json_t *s = json_object_get(v, "sql");
        if (json_object_size(v) != 1 || !json_is_object(s))
            return perr(c, "an SQL default is {\"sql\": {\"postgres\": ..., \"mysql\": ..., "
                           "\"sqlite\": ...}}");
        const char *key;
        json_t *val;
        json_object_foreach(s, key, val)
        {
            int d2 = strata_dialect_parse(key);
            if (d2 < 0 || strcmp(key, strata_dialect_name((strata_dialect)d2)) != 0 ||
                !json_is_string(val))
                return perr(c,
                            "SQL default keys are postgres, mysql and sqlite, each an SQL "
                            "string (got '%s')",
                            key);
            d->sql[d2] = xstrdup(json_string_value(val));
        }
        d->kind = DEF_SQL;
        return 0;
    }
    d->kind = DEF_LITERAL;
    d->literal = json_incref(v);
    return 0;
}

static int parse_fk_action(pctx *c, json_t *obj, const char *key, fk_action *out)
{
    json_t *v = json_object_get(obj, key);
    *out = FK_NO_ACTION;
    if (!v)
        return 0;
    size_t saved = path_key(c, key);
    int rc = 0;
    if (!json_is_string(v)) {
        rc = perr(c, "'%s' must be one of no_action, restrict, cascade, set_null", key);
    } else {
        int found = -1;
        for (int i = 0; i < 4; i++)
            if (strcmp(fk_action_names[i], json_string_value(v)) == 0)
                found = i;
        if (found < 0) {
            const char *near = str_nearest(json_string_value(v), fk_action_names, 4);
            if (strcmp(json_string_value(v), "set_default") == 0)
                rc = perr(c, "set_default is not supported (InnoDB rejects it); use one of "
                             "no_action, restrict, cascade, set_null");
            else
                rc = near ? perr(c, "unknown action '%s' (did you mean '%s'?)",
                                 json_string_value(v), near)
                          : perr(c, "unknown action '%s' (no_action, restrict, cascade, set_null)",
                                 json_string_value(v));
        } else {
            *out = (fk_action)found;
        }
    }
    path_pop(c, saved);
    return rc;
}

/* ---- columns ---- */

typedef struct parsed_column {
    column col;
    int primary_key;
    int unique;
    json_t *references; /* the raw object */
    json_t *check;
} parsed_column;

static const char *const column_keys[] = {
    "name",        "type",   "length",  "precision",  "scale", "values",  "enum", "nullable",
    "primary_key", "unique", "default", "references", "check", "comment", NULL};

/* One column object into *pc: the column (nullable unless it is a key or
 * serial column, when not said), and its shorthands (primary_key, unique,
 * references, check) for attach_column_extras(). On error pc->col is
 * freed. */
static int parse_column(pctx *c, json_t *obj, parsed_column *pc, int type_required)
{
    memset(pc, 0, sizeof *pc);
    if (!json_is_object(obj))
        return perr(c, "a column must be an object");
    int rc = check_keys(c, obj, column_keys, "a column");
    if (!rc)
        rc = need_string(c, obj, "name", 1, &pc->col.name);
    if (!rc)
        rc = check_identifier(c, pc->col.name, "column", 0);
    if (!rc)
        rc = parse_type(c, obj, &pc->col.type, type_required);
    pc->col.nullable = -1;
    int nullable = 1;
    if (!rc && json_object_get(obj, "nullable")) {
        rc = need_bool(c, obj, "nullable", &nullable);
        pc->col.nullable = nullable;
    }
    if (!rc)
        rc = need_bool(c, obj, "primary_key", &pc->primary_key);
    if (!rc)
        rc = need_bool(c, obj, "unique", &pc->unique);
    if (!rc && json_object_get(obj, "default")) {
        size_t saved = path_key(c, "default");
        rc = parse_default(c, json_object_get(obj, "default"), &pc->col.def);
        path_pop(c, saved);
    }
    if (!rc)
        rc = need_string(c, obj, "comment", 0, &pc->col.comment);
    if (!rc && json_object_get(obj, "references")) {
        json_t *r = json_object_get(obj, "references");
        size_t saved = path_key(c, "references");
        const char *const allowed[] = {"table", "column", "name", "on_delete", "on_update", NULL};
        if (!json_is_object(r))
            rc = perr(c, "'references' must be {\"table\": ..., \"column\": ...}");
        else
            rc = check_keys(c, r, allowed, "references");
        if (!rc && !json_is_string(json_object_get(r, "table")))
            rc = perr(c, "'references' needs 'table'");
        path_pop(c, saved);
        pc->references = r;
    }
    if (!rc && json_object_get(obj, "check")) {
        size_t saved = path_key(c, "check");
        rc = check_check(c, json_object_get(obj, "check"));
        path_pop(c, saved);
        pc->check = json_object_get(obj, "check");
    }
    if (!rc && pc->primary_key && pc->col.nullable == 1)
        rc = perr(c, "a primary-key column cannot be nullable");
    if (!rc && type_is_serial(pc->col.type.kind) && pc->col.nullable == 1)
        rc = perr(c, "a %s column is never null", type_names[pc->col.type.kind]);
    if (rc) {
        column_free(&pc->col);
        return rc;
    }
    if (pc->col.nullable < 0)
        pc->col.nullable = !(pc->primary_key || type_is_serial(pc->col.type.kind));
    return 0;
}

/* Turn a parsed column's shorthands into table-level objects on `t`. */
static int attach_column_extras(pctx *c, table *t, parsed_column *pc, strvec *warnings)
{
    const char *cn = pc->col.name;
    if (pc->col.type.kind == TY_ENUM && !pc->col.type.enum_name)
        pc->col.type.pg_type = name_generate(t->name, &cn, 1, "enum");
    if (pc->unique) {
        index_def ix;
        memset(&ix, 0, sizeof ix);
        ix.name = name_generate(t->name, &cn, 1, "unique");
        ix.cols = xcalloc(1, sizeof(index_col));
        ix.cols[0].name = xstrdup(cn);
        ix.ncols = 1;
        ix.unique = 1;
        ix.constraint = 1;
        table_add_index(t, &ix);
        index_free(&ix);
    }
    if (pc->references) {
        fk_def fk;
        memset(&fk, 0, sizeof fk);
        json_t *r = pc->references;
        size_t saved = path_key(c, "references");
        char *name = NULL;
        int rc = need_string(c, r, "name", 0, &name);
        if (!rc)
            rc = parse_fk_action(c, r, "on_delete", &fk.on_delete);
        if (!rc)
            rc = parse_fk_action(c, r, "on_update", &fk.on_update);
        if (!rc && json_object_get(r, "column") && !json_is_string(json_object_get(r, "column")))
            rc = perr(c, "'column' must be a column name");
        if (rc) {
            free(name);
            path_pop(c, saved);
            return rc;
        }
        fk.name =
            name ? maybe_shorten(c, name, warnings) : name_generate(t->name, &cn, 1, "foreign");
        path_pop(c, saved);
        strvec_push(&fk.cols, cn);
        fk.ref_table = xstrdup(json_string_value(json_object_get(r, "table")));
        if (json_object_get(r, "column"))
            strvec_push(&fk.ref_cols, json_string_value(json_object_get(r, "column")));
        table_add_fk(t, &fk);
        fk_free(&fk);
    }
    if (pc->check) {
        check_def ck;
        ck.name = name_generate(t->name, &cn, 1, "check");
        ck.check = pc->check;
        table_add_check(t, &ck);
        free(ck.name);
    }
    return 0;
}

/* ---- indexes, foreign keys ---- */

static int parse_method(pctx *c, json_t *v, index_def *ix)
{
    static const char *const methods[] = {"btree", "hash", "gin", "gist"};
    size_t saved = path_key(c, "method");
    int rc = 0;
    if (json_is_string(v)) {
        const char *m = json_string_value(v);
        int ok = 0;
        for (int i = 0; i < 4; i++)
            ok |= strcmp(m, methods[i]) == 0;
        if (!ok) {
            const char *near = str_nearest(m, methods, 4);
            rc = near ? perr(c, "unknown index method '%s' (did you mean '%s'?)", m, near)
                      : perr(c, "unknown index method '%s' (btree, hash, gin, gist)", m);
        } else {
            for (int d = 0; d < STRATA_DIALECT_COUNT; d++)
                ix->method[d] = xstrdup(m);
        }
    } else if (json_is_object(v)) {
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val)
        {
            int d = strata_dialect_parse(key);
            if (d < 0 || strcmp(key, strata_dialect_name((strata_dialect)d)) != 0 ||
                !json_is_string(val)) {
                rc = perr(c, "per-dialect method keys are postgres, mysql, sqlite (got '%s')", key);
                break;
            }
            ix->method[d] = xstrdup(json_string_value(val));
        }
    } else {
        rc = perr(c, "'method' must be btree, hash, gin, gist or {\"postgres\": ...}");
    }
    path_pop(c, saved);
    return rc;
}

/* What indexes and unique constraints share: columns (names, or
 * {"column", "order"}), unique, name, where, method. Without a name the
 * index is <table>_<columns>_index (or _unique); a name over 63 bytes is
 * shortened with a warning. The caller has checked obj's keys. On error
 * *ix is freed. */
static int parse_index_body(pctx *c, json_t *obj, index_def *ix, const char *table_name,
                            strvec *warnings)
{
    memset(ix, 0, sizeof *ix);
    json_t *cols = json_object_get(obj, "columns");
    if (!cols)
        return perr(c, "missing key 'columns'");
    size_t saved = path_key(c, "columns");
    if (!json_is_array(cols) || json_array_size(cols) == 0) {
        int rc = perr(c, "'columns' must be a non-empty list");
        path_pop(c, saved);
        return rc;
    }
    ix->ncols = json_array_size(cols);
    ix->cols = xcalloc(ix->ncols + 1, sizeof(index_col));
    size_t i;
    json_t *e;
    json_array_foreach(cols, i, e)
    {
        size_t s2 = path_index(c, i);
        int rc = 0;
        if (json_is_string(e)) {
            ix->cols[i].name = xstrdup(json_string_value(e));
        } else if (json_is_object(e)) {
            const char *const allowed[] = {"column", "order", NULL};
            rc = check_keys(c, e, allowed, "an index column");
            json_t *cn = json_object_get(e, "column"), *ord = json_object_get(e, "order");
            if (!rc && !json_is_string(cn))
                rc = perr(c, "an index column object needs 'column'");
            if (!rc && ord &&
                (!json_is_string(ord) || (strcmp(json_string_value(ord), "asc") != 0 &&
                                          strcmp(json_string_value(ord), "desc") != 0)))
                rc = perr(c, "'order' must be asc or desc");
            if (!rc) {
                ix->cols[i].name = xstrdup(json_string_value(cn));
                ix->cols[i].desc = ord && strcmp(json_string_value(ord), "desc") == 0;
            }
        } else {
            rc = perr(c, "an index column is a name or {\"column\": name, \"order\": \"desc\"}");
        }
        for (size_t k = 0; !rc && k < i; k++)
            if (strcmp(ix->cols[k].name, ix->cols[i].name) == 0)
                rc = perr(c, "column '%s' is listed twice", ix->cols[i].name);
        path_pop(c, s2);
        if (rc) {
            path_pop(c, saved);
            for (size_t k = 0; k <= i; k++)
                free(ix->cols[k].name);
            free(ix->cols);
            ix->cols = NULL;
            ix->ncols = 0;
            return rc;
        }
    }
    path_pop(c, saved);
    int rc = need_bool(c, obj, "unique", &ix->unique);
    char *name = NULL;
    if (!rc)
        rc = need_string(c, obj, "name", 0, &name);
    if (!rc && name)
        rc = check_identifier(c, name, "index", 1);
    if (!rc)
        rc = parse_where(c, obj, &ix->where);
    if (!rc && json_object_get(obj, "method"))
        rc = parse_method(c, json_object_get(obj, "method"), ix);
    if (rc) {
        free(name);
        index_free(ix); /* the half-built index belongs to no one */
        return rc;
    }
    if (name) {
        ix->name = maybe_shorten(c, name, warnings);
    } else {
        const char **names = xcalloc(ix->ncols + 1, sizeof(char *));
        for (size_t k = 0; k < ix->ncols; k++)
            names[k] = ix->cols[k].name;
        ix->name = name_generate(table_name, names, ix->ncols, ix->unique ? "unique" : "index");
        free(names);
    }
    return 0;
}

/* A table-level foreign key: columns, references {table, columns} with as
 * many columns, on_delete, on_update, and its name (default
 * <table>_<columns>_foreign). The caller has checked obj's keys. On error
 * *fk is freed. */
static int parse_fk_body(pctx *c, json_t *obj, fk_def *fk, const char *table_name, strvec *warnings)
{
    memset(fk, 0, sizeof *fk);
    int rc = need_name_list(c, obj, "columns", 1, &fk->cols);
    json_t *ref = json_object_get(obj, "references");
    if (!rc && !ref)
        rc = perr(c, "missing key 'references'");
    if (!rc) {
        size_t saved = path_key(c, "references");
        const char *const allowed[] = {"table", "columns", NULL};
        if (!json_is_object(ref))
            rc = perr(c, "'references' must be {\"table\": ..., \"columns\": [...]}");
        if (!rc)
            rc = check_keys(c, ref, allowed, "references");
        if (!rc)
            rc = need_string(c, ref, "table", 1, &fk->ref_table);
        if (!rc)
            rc = need_name_list(c, ref, "columns", 1, &fk->ref_cols);
        if (!rc && fk->ref_cols.n != fk->cols.n)
            rc = perr(c, "'references.columns' has %zu columns but 'columns' has %zu",
                      fk->ref_cols.n, fk->cols.n);
        path_pop(c, saved);
    }
    if (!rc)
        rc = parse_fk_action(c, obj, "on_delete", &fk->on_delete);
    if (!rc)
        rc = parse_fk_action(c, obj, "on_update", &fk->on_update);
    char *name = NULL;
    if (!rc)
        rc = need_string(c, obj, "name", 0, &name);
    if (!rc && name)
        rc = check_identifier(c, name, "foreign key", 1);
    if (rc) {
        free(name);
        fk_free(fk);
        return rc;
    }
    fk->name =
        name ? maybe_shorten(c, name, warnings)
             : name_generate(table_name, (const char *const *)fk->cols.v, fk->cols.n, "foreign");
    return 0;
}

/* Parse a list under `key` of obj with `fn` for each element. */
typedef int (*elem_fn)(pctx *c, json_t *e, table *t, strvec *warnings);

static int parse_list(pctx *c, json_t *obj, const char *key, table *t, strvec *warnings, elem_fn fn)
{
    json_t *arr = json_object_get(obj, key);
    if (!arr)
        return 0;
    size_t saved = path_key(c, key);
    if (!json_is_array(arr)) {
        int rc = perr(c, "'%s' must be a list", key);
        path_pop(c, saved);
        return rc;
    }
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        size_t s2 = path_index(c, i);
        int rc = json_is_object(e) ? fn(c, e, t, warnings) : perr(c, "must be an object");
        path_pop(c, s2);
        if (rc) {
            path_pop(c, saved);
            return rc;
        }
    }
    path_pop(c, saved);
    return 0;
}

/* A UNIQUE constraint has no column order (PostgreSQL's syntax has none). */
static int no_desc(pctx *c, const index_def *ix)
{
    for (size_t i = 0; i < ix->ncols; i++)
        if (ix->cols[i].desc)
            return perr(c,
                        "column '%s': a unique constraint has no column order; use an index "
                        "with \"unique\": true",
                        ix->cols[i].name);
    return 0;
}

/* Generated index names must not repeat within a table: a second unnamed
 * index on the same columns gets _2, _3, ... */
static void unique_index_name(table *t, index_def *ix, int generated)
{
    if (!generated)
        return;
    int n = 1;
    while (table_index(t, ix->name)) {
        char *base = xasprintf("%s_%d", ix->name, ++n);
        char *s = name_shorten(base);
        free(base);
        free(ix->name);
        ix->name = s;
        if (n > 1000)
            break;
    }
}

static int elem_unique(pctx *c, json_t *e, table *t, strvec *warnings)
{
    const char *const allowed[] = {"name", "columns", NULL};
    int rc = check_keys(c, e, allowed, "a unique constraint");
    if (rc)
        return rc;
    index_def ix;
    rc = parse_index_body(c, e, &ix, t->name, warnings);
    if (rc)
        return rc;
    if ((rc = no_desc(c, &ix))) {
        index_free(&ix);
        return rc;
    }
    ix.unique = 1;
    ix.constraint = 1;
    if (!json_object_get(e, "name")) {
        free(ix.name);
        const char **names = xcalloc(ix.ncols + 1, sizeof(char *));
        for (size_t k = 0; k < ix.ncols; k++)
            names[k] = ix.cols[k].name;
        ix.name = name_generate(t->name, names, ix.ncols, "unique");
        free(names);
    }
    unique_index_name(t, &ix, !json_object_get(e, "name"));
    table_add_index(t, &ix);
    index_free(&ix);
    return 0;
}

static const char *const index_keys[] = {"name",   "columns",       "unique", "where",
                                         "method", "if_not_exists", NULL};

static int elem_index(pctx *c, json_t *e, table *t, strvec *warnings)
{
    int rc = check_keys(c, e, index_keys, "an index");
    if (rc)
        return rc;
    index_def ix;
    rc = parse_index_body(c, e, &ix, t->name, warnings);
    if (rc)
        return rc;
    unique_index_name(t, &ix, !json_object_get(e, "name"));
    table_add_index(t, &ix);
    index_free(&ix);
    return 0;
}

static const char *const fk_keys[] = {"name",      "columns",   "references",
                                      "on_delete", "on_update", NULL};

static int elem_fk(pctx *c, json_t *e, table *t, strvec *warnings)
{
    int rc = check_keys(c, e, fk_keys, "a foreign key");
    if (rc)
        return rc;
    fk_def fk;
    rc = parse_fk_body(c, e, &fk, t->name, warnings);
    if (rc)
        return rc;
    table_add_fk(t, &fk);
    fk_free(&fk);
    return 0;
}

static int elem_check(pctx *c, json_t *e, table *t, strvec *warnings)
{
    (void)warnings;
    const char *const allowed[] = {"name", "check", NULL};
    int rc = check_keys(c, e, allowed, "a check");
    if (rc)
        return rc;
    char *name = NULL;
    rc = need_string(c, e, "name", 0, &name);
    if (rc)
        return rc;
    json_t *ck = NULL;
    rc = need_check(c, e, &ck);
    if (rc) {
        free(name);
        return rc;
    }
    check_def cd;
    if (name) {
        cd.name = maybe_shorten(c, name, warnings);
    } else {
        strvec cols = STRVEC_INIT;
        predicate_columns(ck, &cols);
        if (cols.n == 0)
            strvec_pushf(&cols, "%zu", t->nchecks + 1);
        cd.name = name_generate(t->name, (const char *const *)cols.v, cols.n, "check");
        strvec_free(&cols);
    }
    cd.check = ck;
    table_add_check(t, &cd);
    free(cd.name);
    return 0;
}

/* ---- operations ----
 *
 * One parse_<op> per operation, as model.c has one apply_<op>: each gets the
 * op's object (whose keys parse_op has checked against op_syntax[kind].keys)
 * and the op with its kind, path and, for ops on a table, its checked
 * "table" filled in. On error the op may be half-built; the caller frees it.
 */

/* A key the op cannot do without. */
static int require_key(pctx *c, json_t *obj, const char *key)
{
    return json_object_get(obj, key) ? 0 : perr(c, "missing key '%s'", key);
}

/* The "name" of the index or constraint an op drops. A name longer than 63
 * bytes was shortened when it was created; it is shortened the same way. */
static int need_dropped_name(pctx *c, json_t *obj, op *o)
{
    int rc = need_string(c, obj, "name", 1, &o->name);
    if (!rc)
        o->name = maybe_shorten(c, o->name, NULL);
    return rc;
}

/* One column of create_table, with its shorthands attached to `t`; no two
 * columns share a name, not even differing by case. The names of columns
 * marked primary_key are appended to `col_pk`. */
static int parse_table_column(pctx *c, json_t *e, table *t, strvec *col_pk, strvec *warnings)
{
    parsed_column pc;
    int rc = parse_column(c, e, &pc, 1);
    if (rc)
        return rc;
    if (table_column(t, pc.col.name))
        rc = perr(c, "column '%s' is defined twice", pc.col.name);
    for (size_t k = 0; !rc && k < t->ncols; k++)
        if (str_ieq(t->cols[k].name, pc.col.name))
            rc = perr(c, "columns '%s' and '%s' differ only by case", t->cols[k].name, pc.col.name);
    if (rc) {
        column_free(&pc.col);
        return rc;
    }
    if (pc.primary_key)
        strvec_push(col_pk, pc.col.name);
    rc = attach_column_extras(c, t, &pc, warnings);
    table_add_column(t, &pc.col);
    column_free(&pc.col);
    return rc;
}

/* create_table's "columns": a non-empty list of columns. */
static int parse_table_columns(pctx *c, json_t *obj, table *t, strvec *col_pk, strvec *warnings)
{
    json_t *cols = json_object_get(obj, "columns");
    if (!cols)
        return perr(c, "missing key 'columns'");
    size_t saved = path_key(c, "columns");
    if (!json_is_array(cols) || json_array_size(cols) == 0) {
        int rc = perr(c, "'columns' must be a non-empty list of columns");
        path_pop(c, saved);
        return rc;
    }
    size_t i;
    json_t *e;
    json_array_foreach(cols, i, e)
    {
        size_t s2 = path_index(c, i);
        int rc = parse_table_column(c, e, t, col_pk, warnings);
        path_pop(c, s2);
        if (rc) {
            path_pop(c, saved);
            return rc;
        }
    }
    path_pop(c, saved);
    return 0;
}

/* create_table's primary key: on its columns (`col_pk`, taken over) or as
 * "primary_key", not both; named by "primary_key_name" (an extension) or
 * <table>_pkey. Key columns are NOT NULL. */
static int parse_table_pk(pctx *c, json_t *obj, table *t, strvec *col_pk, strvec *warnings)
{
    int rc = 0;
    if (json_object_get(obj, "primary_key")) {
        if (col_pk->n)
            return perr(c, "give the primary key either on columns or as 'primary_key', not both");
        rc = need_name_list(c, obj, "primary_key", 1, &t->pk);
    } else {
        t->pk = *col_pk;
        memset(col_pk, 0, sizeof *col_pk);
    }
    if (rc)
        return rc;
    char *pk_name = NULL;
    if ((rc = need_string(c, obj, "primary_key_name", 0, &pk_name)))
        return rc;
    if (pk_name && !t->pk.n) {
        free(pk_name);
        return perr(c, "'primary_key_name' needs a primary key");
    }
    if (t->pk.n) {
        t->pk_name =
            pk_name ? maybe_shorten(c, pk_name, warnings) : name_generate(t->name, NULL, 0, "pkey");
        for (size_t k = 0; k < t->pk.n; k++) {
            column *pcol = table_column_mut(t, t->pk.v[k]);
            if (pcol)
                pcol->nullable = 0;
        }
    }
    return 0;
}

static int parse_create_table(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    table *t = table_new(o->table);
    o->def = t;
    strvec col_pk = STRVEC_INIT;
    int rc = need_bool(c, obj, "if_not_exists", &o->if_not_exists);
    if (!rc)
        rc = parse_table_columns(c, obj, t, &col_pk, warnings);
    if (!rc)
        rc = parse_table_pk(c, obj, t, &col_pk, warnings);
    strvec_free(&col_pk);
    if (!rc)
        rc = parse_list(c, obj, "unique", t, warnings, elem_unique);
    if (!rc)
        rc = parse_list(c, obj, "indexes", t, warnings, elem_index);
    if (!rc)
        rc = parse_list(c, obj, "foreign_keys", t, warnings, elem_fk);
    if (!rc)
        rc = parse_list(c, obj, "checks", t, warnings, elem_check);
    return rc;
}

static int parse_drop_table(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    return need_bool(c, obj, "if_exists", &o->if_exists);
}

static int parse_rename_table(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    int rc = need_string(c, obj, "to", 1, &o->to);
    return rc ? rc : check_identifier(c, o->to, "table", 0);
}

/* add_column: one column, whose shorthands (unique, references, check)
 * become part of a one-column table definition in o->def. */
static int parse_add_column(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    int rc = need_bool(c, obj, "if_not_exists", &o->if_not_exists);
    if (!rc)
        rc = require_key(c, obj, "column");
    if (rc)
        return rc;
    size_t saved = path_key(c, "column");
    parsed_column pc;
    rc = parse_column(c, json_object_get(obj, "column"), &pc, 1);
    if (!rc && pc.primary_key) {
        rc = perr(c, "add_column cannot add a primary-key column; add the column, then "
                     "add_primary_key");
        column_free(&pc.col);
    }
    if (rc) {
        path_pop(c, saved);
        return rc;
    }
    table *t = table_new(o->table);
    rc = attach_column_extras(c, t, &pc, warnings);
    table_add_column(t, &pc.col);
    column_free(&pc.col);
    path_pop(c, saved);
    o->def = t;
    o->col = xcalloc(1, sizeof *o->col);
    column_copy(o->col, &t->cols[0]);
    return rc;
}

static int parse_drop_column(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    int rc = need_string(c, obj, "column", 1, &o->name);
    return rc ? rc : need_bool(c, obj, "if_exists", &o->if_exists);
}

static int parse_rename_column(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    int rc = need_string(c, obj, "column", 1, &o->name);
    if (!rc)
        rc = need_string(c, obj, "to", 1, &o->to);
    return rc ? rc : check_identifier(c, o->to, "column", 0);
}

/* alter_column: what it changes goes to o->alter (ALTER_* bits), the new
 * values to o->col. A type change to an inline enum names its PostgreSQL
 * type now, as add_column does. */
static int parse_alter_column(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    int rc = need_string(c, obj, "column", 1, &o->name);
    if (rc)
        return rc;
    o->col = xcalloc(1, sizeof *o->col);
    o->col->name = xstrdup(o->name);
    rc = parse_type(c, obj, &o->col->type, 0);
    if (rc)
        return rc;
    if (o->col->type.kind != TY__COUNT) {
        o->alter |= ALTER_TYPE;
        if (type_is_serial(o->col->type.kind))
            return perr(c, "alter_column cannot change a column to %s",
                        type_names[o->col->type.kind]);
        if (o->col->type.kind == TY_ENUM && !o->col->type.enum_name) {
            const char *cn = o->name;
            o->col->type.pg_type = name_generate(o->table, &cn, 1, "enum");
        }
    }
    if (json_object_get(obj, "nullable")) {
        rc = need_bool(c, obj, "nullable", &o->col->nullable);
        o->alter |= ALTER_NULLABLE;
    }
    if (!rc && json_object_get(obj, "default")) {
        size_t saved = path_key(c, "default");
        rc = parse_default(c, json_object_get(obj, "default"), &o->col->def);
        path_pop(c, saved);
        o->alter |= ALTER_DEFAULT;
    }
    int drop = 0;
    if (!rc)
        rc = need_bool(c, obj, "drop_default", &drop);
    if (!rc && drop) {
        if (o->alter & ALTER_DEFAULT)
            return perr(c, "give either 'default' or 'drop_default', not both");
        o->alter |= ALTER_DROP_DEFAULT;
    }
    if (!rc && !o->alter)
        rc = perr(c, "alter_column needs at least one of type, nullable, default, "
                     "drop_default");
    return rc;
}

static int parse_create_index(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    o->index = xcalloc(1, sizeof *o->index);
    int rc = need_bool(c, obj, "if_not_exists", &o->if_not_exists);
    if (!rc)
        rc = require_key(c, obj, "name");
    if (!rc)
        rc = parse_index_body(c, obj, o->index, o->table, warnings);
    if (!rc)
        o->name = xstrdup(o->index->name);
    return rc;
}

static int parse_drop_index(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    int rc = need_dropped_name(c, obj, o);
    return rc ? rc : need_bool(c, obj, "if_exists", &o->if_exists);
}

static int parse_add_foreign_key(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    int rc = require_key(c, obj, "name");
    if (rc)
        return rc;
    o->fk = xcalloc(1, sizeof *o->fk);
    rc = parse_fk_body(c, obj, o->fk, o->table, warnings);
    if (!rc)
        o->name = xstrdup(o->fk->name);
    return rc;
}

static int parse_drop_foreign_key(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    int rc = need_dropped_name(c, obj, o);
    return rc ? rc : need_bool(c, obj, "if_exists", &o->if_exists);
}

static int parse_add_unique(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    int rc = require_key(c, obj, "name");
    if (rc)
        return rc;
    o->index = xcalloc(1, sizeof *o->index);
    rc = parse_index_body(c, obj, o->index, o->table, warnings);
    if (!rc)
        rc = no_desc(c, o->index);
    o->index->unique = 1;
    o->index->constraint = 1;
    if (!rc)
        o->name = xstrdup(o->index->name);
    return rc;
}

static int parse_drop_unique(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    return need_dropped_name(c, obj, o);
}

static int parse_add_primary_key(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    int rc = need_name_list(c, obj, "columns", 1, &o->cols);
    if (!rc)
        rc = need_string(c, obj, "name", 0, &o->name);
    if (!rc && !o->name)
        o->name = name_generate(o->table, NULL, 0, "pkey");
    else if (!rc)
        o->name = maybe_shorten(c, o->name, warnings);
    return rc;
}

static int parse_drop_primary_key(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)c;
    (void)obj;
    (void)o;
    (void)warnings;
    return 0;
}

static int parse_add_check(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    json_t *ck = NULL;
    int rc = need_string(c, obj, "name", 1, &o->name);
    if (!rc)
        rc = need_check(c, obj, &ck);
    if (rc)
        return rc;
    o->name = maybe_shorten(c, o->name, warnings);
    o->check = xcalloc(1, sizeof *o->check);
    o->check->name = xstrdup(o->name);
    o->check->check = json_incref(ck);
    return 0;
}

static int parse_drop_check(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    return need_dropped_name(c, obj, o);
}

/* create_enum and alter_enum: the enum's name and its (whole) value list. */
static int parse_enum_def(pctx *c, json_t *obj, op *o)
{
    int rc = need_string(c, obj, "name", 1, &o->name);
    if (!rc)
        rc = check_identifier(c, o->name, "enum", 0);
    if (!rc)
        rc = require_key(c, obj, "values");
    return rc ? rc : parse_enum_values(c, json_object_get(obj, "values"), &o->values);
}

static int parse_create_enum(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    return parse_enum_def(c, obj, o);
}

static int parse_alter_enum(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    return parse_enum_def(c, obj, o);
}

static int parse_drop_enum(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    return need_string(c, obj, "name", 1, &o->name);
}

/* insert: "rows", a non-empty list of non-empty objects, kept as they are
 * (the model checks their values against the columns). */
static int parse_insert(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    json_t *rows = json_object_get(obj, "rows");
    if (!rows)
        return perr(c, "missing key 'rows'");
    size_t saved = path_key(c, "rows");
    int rc = 0;
    if (!json_is_array(rows) || json_array_size(rows) == 0)
        rc = perr(c, "'rows' must be a non-empty list of objects");
    size_t i;
    json_t *e;
    json_array_foreach(rows, i, e)
    {
        if (rc)
            break;
        if (!json_is_object(e) || json_object_size(e) == 0) {
            size_t s2 = path_index(c, i);
            rc = perr(c, "a row must be a non-empty object of column: value");
            path_pop(c, s2);
        }
    }
    path_pop(c, saved);
    if (!rc)
        o->rows = json_incref(rows);
    return rc;
}

static int parse_update(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    json_t *set = json_object_get(obj, "set");
    if (!set)
        return perr(c, "missing key 'set'");
    if (!json_is_object(set) || json_object_size(set) == 0) {
        size_t saved = path_key(c, "set");
        int rc = perr(c, "'set' must be a non-empty object of column: value");
        path_pop(c, saved);
        return rc;
    }
    o->set = json_incref(set);
    return parse_where(c, obj, &o->where);
}

static int parse_delete(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    return parse_where(c, obj, &o->where);
}

/* sql: statements per dialect and for "all", each a string or a list. */
static int parse_sql(pctx *c, json_t *obj, op *o, strvec *warnings)
{
    (void)warnings;
    static const char *const keys[] = {"postgres", "mysql", "sqlite", "all"};
    int any = 0;
    for (int k = 0; k <= STRATA_DIALECT_COUNT; k++) {
        json_t *v = json_object_get(obj, keys[k]);
        if (!v)
            continue;
        size_t saved = path_key(c, keys[k]);
        int rc = 0;
        if (json_is_string(v)) {
            strvec_push(&o->sql[k], json_string_value(v));
        } else if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
            {
                if (!json_is_string(e)) {
                    size_t s2 = path_index(c, i);
                    rc = perr(c, "SQL statements must be strings");
                    path_pop(c, s2);
                    break;
                }
                strvec_push(&o->sql[k], json_string_value(e));
            }
        } else {
            rc = perr(c, "'%s' must be an SQL string or a list of them", keys[k]);
        }
        path_pop(c, saved);
        if (rc)
            return rc;
        o->has_sql[k] = 1;
        any = 1;
    }
    if (!any)
        return perr(c, "an sql op needs at least one of postgres, mysql, sqlite, all");
    return 0;
}

/* What each operation accepts: its keys (NULL-terminated; an unknown key is
 * an error naming the nearest of these) and its parser. */
typedef int (*op_parser)(pctx *c, json_t *obj, op *o, strvec *warnings);

static const struct op_syntax {
    op_parser parse;
    const char *keys[16];
} op_syntax[OP__COUNT] = {
    [OP_CREATE_TABLE] = {parse_create_table,
                         {"op", "table", "columns", "primary_key", "primary_key_name", "unique",
                          "indexes", "foreign_keys", "checks", "if_not_exists", NULL}},
    [OP_DROP_TABLE] = {parse_drop_table, {"op", "table", "if_exists", NULL}},
    [OP_RENAME_TABLE] = {parse_rename_table, {"op", "table", "to", NULL}},
    [OP_ADD_COLUMN] = {parse_add_column, {"op", "table", "column", "if_not_exists", NULL}},
    [OP_DROP_COLUMN] = {parse_drop_column, {"op", "table", "column", "if_exists", NULL}},
    [OP_RENAME_COLUMN] = {parse_rename_column, {"op", "table", "column", "to", NULL}},
    [OP_ALTER_COLUMN] = {parse_alter_column,
                         {"op", "table", "column", "type", "length", "precision", "scale", "values",
                          "enum", "nullable", "default", "drop_default", NULL}},
    [OP_CREATE_INDEX] = {parse_create_index,
                         {"op", "table", "name", "columns", "unique", "where", "method",
                          "if_not_exists", "online", NULL}},
    [OP_DROP_INDEX] = {parse_drop_index, {"op", "table", "name", "if_exists", NULL}},
    [OP_ADD_FOREIGN_KEY] = {parse_add_foreign_key,
                            {"op", "table", "name", "columns", "references", "on_delete",
                             "on_update", "online", NULL}},
    [OP_DROP_FOREIGN_KEY] = {parse_drop_foreign_key, {"op", "table", "name", "if_exists", NULL}},
    [OP_ADD_UNIQUE] = {parse_add_unique, {"op", "table", "name", "columns", NULL}},
    [OP_DROP_UNIQUE] = {parse_drop_unique, {"op", "table", "name", NULL}},
    [OP_ADD_PRIMARY_KEY] = {parse_add_primary_key, {"op", "table", "columns", "name", NULL}},
    [OP_DROP_PRIMARY_KEY] = {parse_drop_primary_key, {"op", "table", NULL}},
    [OP_ADD_CHECK] = {parse_add_check, {"op", "table", "name", "check", "online", NULL}},
    [OP_DROP_CHECK] = {parse_drop_check, {"op", "table", "name", NULL}},
    [OP_CREATE_ENUM] = {parse_create_enum, {"op", "name", "values", NULL}},
    [OP_ALTER_ENUM] = {parse_alter_enum, {"op", "name", "values", NULL}},
    [OP_DROP_ENUM] = {parse_drop_enum, {"op", "name", NULL}},
    [OP_INSERT] = {parse_insert, {"op", "table", "rows", NULL}},
    [OP_UPDATE] = {parse_update, {"op", "table", "set", "where", NULL}},
    [OP_DELETE] = {parse_delete, {"op", "table", "where", NULL}},
    [OP_SQL] = {parse_sql, {"op", "postgres", "mysql", "sqlite", "all", NULL}},
};

/* The kind named by obj's "op", or an error on the "op" key that suggests
 * the nearest operation name. */
static int parse_op_kind(pctx *c, json_t *obj, op_kind *kind)
{
    json_t *opv = json_object_get(obj, "op");
    if (!opv)
        return perr(c, "missing key 'op'");
    size_t saved = path_key(c, "op");
    int rc = 0;
    if (!json_is_string(opv)) {
        rc = perr(c, "'op' must be an operation name");
    } else {
        const char *name = json_string_value(opv);
        int found = -1;
        for (int k = 0; k < OP__COUNT; k++)
            if (strcmp(op_names[k], name) == 0)
                found = k;
        const char *near = found < 0 ? str_nearest(name, op_names, OP__COUNT) : NULL;
        if (found >= 0)
            *kind = (op_kind)found;
        else if (near)
            rc = perr(c, "unknown op '%s' (did you mean '%s'?)", name, near);
        else
            rc = perr(c, "unknown op '%s'", name);
    }
    path_pop(c, saved);
    return rc;
}

/* Does a NULL-terminated key list hold `key`? */
static int has_key(const char *const *keys, const char *key)
{
    for (; *keys; keys++)
        if (strcmp(*keys, key) == 0)
            return 1;
    return 0;
}

/* One operation: its kind, its keys, the "table" of every op that has one
 * (a valid identifier), "online" where the op takes it, then the op's own
 * parser. *out is set as soon as the op exists, also on error (the caller
 * frees it). */
static int parse_op(pctx *c, json_t *obj, op **out, strvec *warnings)
{
    *out = NULL;
    if (!json_is_object(obj))
        return perr(c, "an operation must be an object with an \"op\" key");
    op_kind kind = OP_CREATE_TABLE; /* set by parse_op_kind on success */
    int rc = parse_op_kind(c, obj, &kind);
    if (!rc)
        rc = check_keys(c, obj, op_syntax[kind].keys, op_names[kind]);
    if (rc)
        return rc;
    op *o = op_new(kind);
    o->path = xstrdup(sbuf_str(&c->path));
    *out = o;
    if (has_key(op_syntax[kind].keys, "table")) {
        rc = need_string(c, obj, "table", 1, &o->table);
        if (!rc)
            rc = check_identifier(c, o->table, "table", 0);
        if (rc)
            return rc;
    }
    if (has_key(op_syntax[kind].keys, "online")) {
        rc = need_bool(c, obj, "online", &o->online);
        if (rc)
            return rc;
    }
    return op_syntax[kind].parse(c, obj, o, warnings);
}

static int parse_op_list(pctx *c, json_t *arr, const char *key, op_list *out, strvec *warnings)
{
    size_t saved = path_key(c, key);
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        size_t s2 = path_index(c, i);
        op *o = NULL;
        int rc = parse_op(c, e, &o, warnings);
        path_pop(c, s2);
        if (rc) {
            op_free(o);
            path_pop(c, saved);
            return rc;
        }
        op_list_push(out, o);
    }
    path_pop(c, saved);
    return 0;
}

/* A flag name of a `when`: lower-case letters, digits and '_' (names given
 * on the command line and in the environment are matched lower-cased),
 * each at most once. */
static int add_when_flag(pctx *c, migration *m, json_t *v)
{
    const char *name = json_is_string(v) ? json_string_value(v) : NULL;
    if (!name || !*name)
        return perr(c, "a flag name must be a non-empty string");
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return perr(c, "flag name '%s' may only hold lower-case letters, digits and '_'", name);
    if (strvec_find(&m->when_flags, name) >= 0)
        return perr(c, "flag '%s' is named twice", name);
    strvec_push(&m->when_flags, name);
    return 0;
}

/*
 * "when": {"flag": NAME or [NAME, ...], "default": true|false} - the
 * migration applies only while all the flags are on (core/flags.c).
 * "default" is the flags' value when nothing sets them; other files may
 * repeat it but not contradict it.
 */
static int parse_when(pctx *c, json_t *root, migration *m)
{
    static const char *const keys[] = {"flag", "default", NULL};
    json_t *w = json_object_get(root, "when");
    if (!w)
        return 0;
    size_t saved = path_key(c, "when");
    int rc = 0;
    if (!json_is_object(w))
        rc = perr(c, "'when' must be an object: {\"flag\": NAME or [NAMES], \"default\": "
                     "true|false}");
    if (!rc)
        rc = check_keys(c, w, keys, "'when'");
    json_t *f = rc ? NULL : json_object_get(w, "flag");
    if (!rc && !f)
        rc = perr(c, "missing key 'flag'");
    if (!rc) {
        size_t s2 = path_key(c, "flag");
        if (json_is_array(f) && json_array_size(f) > 0) {
            size_t i;
            json_t *e;
            json_array_foreach(f, i, e)
            {
                size_t s3 = path_index(c, i);
                if (!rc)
                    rc = add_when_flag(c, m, e);
                path_pop(c, s3);
            }
        } else if (json_is_string(f)) {
            rc = add_when_flag(c, m, f);
        } else {
            rc = perr(c, "'flag' must be a flag name or a non-empty list of flag names");
        }
        path_pop(c, s2);
    }
    json_t *d = rc ? NULL : json_object_get(w, "default");
    if (d && !json_is_boolean(d)) {
        size_t s2 = path_key(c, "default");
        rc = perr(c, "'default' must be true or false");
        path_pop(c, s2);
    } else if (d) {
        m->when_default = json_is_true(d);
    }
    path_pop(c, saved);
    return rc;
}

/*
 * "origin": {"typeorm": NAME} - the migration's name in the tool it was
 * ported from. TypeORM reads a migration's timestamp from the last 13
 * characters of its name, so a TypeORM name must end in 13 digits.
 */
static int parse_origin(pctx *c, json_t *root, migration *m)
{
    static const char *const keys[] = {"typeorm", NULL};
    json_t *o = json_object_get(root, "origin");
    if (!o)
        return 0;
    size_t saved = path_key(c, "origin");
    int rc = 0;
    if (!json_is_object(o))
        rc = perr(c, "'origin' must be an object: {\"typeorm\": NAME}");
    if (!rc)
        rc = check_keys(c, o, keys, "'origin'");
    if (!rc)
        rc = need_string(c, o, "typeorm", 0, &m->origin_typeorm);
    if (!rc && m->origin_typeorm) {
        const char *t = m->origin_typeorm;
        size_t len = strlen(t), digits = 0;
        while (digits < len && isdigit((unsigned char)t[len - 1 - digits]))
            digits++;
        if (digits < 13) {
            size_t s2 = path_key(c, "typeorm");
            rc = perr(c,
                      "TypeORM name '%s' must end in a 13-digit timestamp (TypeORM reads it from "
                      "the last 13 characters)",
                      t);
            path_pop(c, s2);
        }
    }
    path_pop(c, saved);
    return rc;
}

/* The checksum of a migration: its canonical JSON without "when",
 * "origin" and "lint". They say when the migration applies, where it comes
 * from and what `migrations lint` reports, not what it does to a database,
 * so adding them to a file that is applied somewhere leaves its checksum,
 * and `migrations show` there, as it was. */
static void migration_checksum(json_t *root, char out[65])
{
    json_t *meaning = json_copy(root); /* shallow: the values are shared */
    json_object_del(meaning, "when");
    json_object_del(meaning, "origin");
    json_object_del(meaning, "lint");
    json_checksum(meaning, out);
    json_decref(meaning);
}

void json_checksum(const json_t *root, char out[65])
{
    char *canon = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
    sha256_hex(canon, strlen(canon), out);
    free(canon);
}

void migration_free(migration *m)
{
    if (!m)
        return;
    strvec_free(&m->lint_ignore);
    free(m->lint_reason);
    free(m->id);
    free(m->version);
    free(m->name);
    free(m->path);
    free(m->description);
    free(m->origin_typeorm);
    strvec_free(&m->when_flags);
    op_list_free(&m->up);
    op_list_free(&m->down);
    free(m);
}

/* The top-level "lint" object: {"ignore": [rule ids], "reason": text}.
 * Whether the ids name rules is for `migrations lint` to say (the rules
 * live in the engine). */
static int parse_lint(pctx *c, json_t *root, migration *m)
{
    json_t *lint = json_object_get(root, "lint");
    if (!lint)
        return 0;
    size_t saved = path_key(c, "lint");
    static const char *const keys[] = {"ignore", "reason", NULL};
    int rc = json_is_object(lint) ? check_keys(c, lint, keys, "lint")
                                  : perr(c, "'lint' must be an object with 'ignore'");
    if (!rc)
        rc = need_string(c, lint, "reason", 0, &m->lint_reason);
    json_t *ignore = rc ? NULL : json_object_get(lint, "ignore");
    if (!rc && !json_is_array(ignore)) {
        size_t s2 = path_key(c, "ignore");
        rc = perr(c, "'ignore' must be a list of lint rule ids");
        path_pop(c, s2);
    }
    for (size_t i = 0; !rc && i < json_array_size(ignore); i++) {
        json_t *e = json_array_get(ignore, i);
        if (!json_is_string(e) || !*json_string_value(e)) {
            size_t s2 = path_key(c, "ignore");
            size_t s3 = path_index(c, i);
            rc = perr(c, "a lint rule id must be a non-empty string");
            path_pop(c, s3);
            path_pop(c, s2);
            break;
        }
        strvec_push(&m->lint_ignore, json_string_value(e));
    }
    path_pop(c, saved);
    return rc;
}

/* A migration from its file's text: JSON (errors with line and column),
 * the top-level keys, the `up` ops, the `down` (a list of ops, "auto" or
 * "irreversible"), "lint" and the checksum of the canonical JSON. `stem` gives the
 * version and name. Nothing is returned on error. */
int migration_parse_warn(const char *path, const char *stem, const char *text, migration **out,
                         strvec *warnings)
{
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return strata_set_error(STRATA_EINPUT, "%s:%d:%d: invalid JSON: %s", path, jerr.line,
                                jerr.column, jerr.text);
    pctx c = {path, SBUF_INIT};
    migration *m = xcalloc(1, sizeof *m);
    m->path = xstrdup(path);
    m->id = xstrdup(stem);
    size_t us = strcspn(stem, "_");
    m->version = xstrndup(stem, us);
    m->name = xstrdup(stem[us] ? stem + us + 1 : "");
    m->transaction = 1;
    m->when_default = -1;
    int rc = 0;
    static const char *const top_keys[] = {"description", "transaction", "when", "origin",
                                           "lint",        "up",          "down", NULL};
    if (!json_is_object(root))
        rc = perr(&c, "a migration must be a JSON object with 'up'");
    if (!rc)
        rc = check_keys(&c, root, top_keys, "a migration");
    if (!rc)
        rc = need_string(&c, root, "description", 0, &m->description);
    if (!rc)
        rc = need_bool(&c, root, "transaction", &m->transaction);
    if (!rc)
        rc = parse_lint(&c, root, m);
    if (!rc)
        rc = parse_when(&c, root, m);
    if (!rc)
        rc = parse_origin(&c, root, m);
    json_t *up = rc ? NULL : json_object_get(root, "up");
    if (!rc && !up)
        rc = perr(&c, "missing key 'up'");
    if (!rc && (!json_is_array(up) || json_array_size(up) == 0)) {
        size_t saved = path_key(&c, "up");
        rc = perr(&c, "'up' must be a non-empty list of operations");
        path_pop(&c, saved);
    }
    if (!rc)
        rc = parse_op_list(&c, up, "up", &m->up, warnings);
    json_t *down = rc ? NULL : json_object_get(root, "down");
    if (!rc && down) {
        if (json_is_string(down) && strcmp(json_string_value(down), "auto") == 0) {
            m->down_mode = DOWN_AUTO;
        } else if (json_is_string(down) && strcmp(json_string_value(down), "irreversible") == 0) {
            m->down_mode = DOWN_IRREVERSIBLE;
        } else if (json_is_array(down)) {
            m->down_mode = DOWN_EXPLICIT;
            rc = parse_op_list(&c, down, "down", &m->down, warnings);
        } else {
            size_t saved = path_key(&c, "down");
            rc = perr(&c, "'down' must be a list of operations, \"auto\" or \"irreversible\"");
            path_pop(&c, saved);
        }
    }
    if (!rc)
        migration_checksum(root, m->checksum);
    json_decref(root);
    sbuf_free(&c.path);
    if (rc) {
        migration_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int migration_parse(const char *path, const char *stem, const char *text, migration **out)
{
    return migration_parse_warn(path, stem, text, out, NULL);
}
