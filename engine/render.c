/*
 * render.c - a schema model as text for people and other tools: one
 * migration of the Strata format that builds it (JSON), a Mermaid ER
 * diagram, or a Graphviz graph. The model comes from replaying the
 * migration files offline (`migrations schema`) or from reading a live
 * database (`db pull`): the same `schema` structs either way, so a
 * database and its migrations draw the same picture.
 *
 * Diagrams show tables, columns with their neutral types, primary, unique
 * and foreign keys, and one line per foreign key with crow's-foot ends:
 * the referenced side is "exactly one" when the key's columns are NOT NULL
 * and "zero or one" when they may be NULL; the referencing side is "zero
 * or many", or "zero or one" when the key's columns are unique there.
 * Output is deterministic: tables by name, columns in table order, lines
 * by referencing table, then by the key's columns. It holds no date or version, so
 * a checked-in diagram changes only when the schema does.
 */
#include "introspect.h"
#include "migration.h"
#include "opjson.h"
#include "options.h"
#include "render.h"

#include <stdlib.h>
#include <string.h>

static const char *const format_names[] = {"json", "mermaid", "dot"};

int strata_schema_format_parse(const char *name)
{
    for (size_t i = 0; name && i < sizeof format_names / sizeof format_names[0]; i++)
        if (strcmp(name, format_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *strata_schema_format_name(strata_schema_format f)
{
    return (unsigned)f < sizeof format_names / sizeof format_names[0] ? format_names[f] : NULL;
}

/* ---- what a diagram says about keys ---- */

static int cmp_table_names(const void *a, const void *b)
{
    const table *x = *(const table *const *)a, *y = *(const table *const *)b;
    return strcmp(x->name, y->name);
}

/* The tables of s sorted by name (caller frees the array). */
static const table **tables_by_name(const schema *s)
{
    const table **v = xcalloc(s->ntables + 1, sizeof *v);
    for (size_t i = 0; i < s->ntables; i++)
        v[i] = &s->tables[i];
    if (s->ntables)
        qsort(v, s->ntables, sizeof *v, cmp_table_names);
    return v;
}

/* Do `cols` hold exactly the names of `set` (in any order)? */
static int same_columns(const strvec *cols, const strvec *set)
{
    if (cols->n != set->n)
        return 0;
    for (size_t i = 0; i < cols->n; i++)
        if (strvec_find(set, cols->v[i]) < 0)
            return 0;
    return 1;
}

/* Is every row's value of `cols` unique in t: its primary key, or a unique
 * index on exactly those columns without a predicate? */
static int columns_unique(const table *t, const strvec *cols)
{
    if (t->pk.n && same_columns(cols, &t->pk))
        return 1;
    for (size_t i = 0; i < t->nidx; i++) {
        const index_def *ix = &t->idx[i];
        if (!ix->unique || ix->where || ix->ncols != cols->n)
            continue;
        int all = 1;
        for (size_t k = 0; k < ix->ncols && all; k++)
            all = strvec_find(cols, ix->cols[k].name) >= 0;
        if (all)
            return 1;
    }
    return 0;
}

static int column_is_fk(const table *t, const char *col)
{
    for (size_t i = 0; i < t->nfks; i++)
        if (strvec_find(&t->fks[i].cols, col) >= 0)
            return 1;
    return 0;
}

/* A single-column unique key on col, not the primary key. */
static int column_is_unique(const table *t, const char *col)
{
    strvec one = STRVEC_INIT;
    strvec_push(&one, col);
    int pk_alone = t->pk.n == 1 && strcmp(t->pk.v[0], col) == 0;
    int u = !pk_alone && columns_unique(t, &one);
    strvec_free(&one);
    return u;
}

/* "PK", "FK", "UK" as they apply to a column, joined by `sep`; "" when
 * none (caller frees). */
static char *column_keys(const table *t, const column *c, const char *sep)
{
    sbuf b = SBUF_INIT;
    if (table_in_pk(t, c->name))
        sbuf_add(&b, "PK");
    if (column_is_fk(t, c->name))
        sbuf_addf(&b, "%sFK", b.len ? sep : "");
    if (column_is_unique(t, c->name))
        sbuf_addf(&b, "%sUK", b.len ? sep : "");
    return sbuf_detach(&b);
}

/* May any column of the key be NULL? */
static int fk_nullable(const table *t, const fk_def *fk)
{
    for (size_t i = 0; i < fk->cols.n; i++) {
        const column *c = table_column(t, fk->cols.v[i]);
        if (c && c->nullable)
            return 1;
    }
    return 0;
}

/* Are the key's columns part of the referencing table's primary key (an
 * identifying relationship)? */
static int fk_identifying(const table *t, const fk_def *fk)
{
    for (size_t i = 0; i < fk->cols.n; i++)
        if (!table_in_pk(t, fk->cols.v[i]))
            return 0;
    return fk->cols.n > 0;
}

static int cmp_fks(const void *a, const void *b)
{
    const fk_def *x = *(const fk_def *const *)a, *y = *(const fk_def *const *)b;
    for (size_t i = 0; i < x->cols.n && i < y->cols.n; i++) {
        int c = strcmp(x->cols.v[i], y->cols.v[i]);
        if (c)
            return c;
    }
    if (x->cols.n != y->cols.n)
        return x->cols.n < y->cols.n ? -1 : 1;
    return strcmp(x->ref_table, y->ref_table);
}

/* A table's foreign keys by their columns, then the table they reference:
 * the order a database lists them in is its own (caller frees). */
static const fk_def **fks_sorted(const table *t)
{
    const fk_def **v = xcalloc(t->nfks + 1, sizeof *v);
    for (size_t i = 0; i < t->nfks; i++)
        v[i] = &t->fks[i];
    if (t->nfks)
        qsort(v, t->nfks, sizeof *v, cmp_fks);
    return v;
}

static char *join(const strvec *v, const char *sep)
{
    sbuf b = SBUF_INIT;
    for (size_t i = 0; i < v->n; i++)
        sbuf_addf(&b, "%s%s", i ? sep : "", v->v[i]);
    return sbuf_detach(&b);
}

/* ---- Mermaid ---- */

static int is_word(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return 0;
    return 1;
}

/* An entity name: as it is when Mermaid reads it as a word, else quoted
 * (Mermaid allows no '"' or '%' there: they become '\''). */
static void mermaid_entity(sbuf *b, const char *name)
{
    if (is_word(name)) {
        sbuf_add(b, name);
        return;
    }
    sbuf_addc(b, '"');
    for (const char *p = name; *p; p++)
        sbuf_addc(b, *p == '"' || *p == '%' ? '\'' : *p);
    sbuf_addc(b, '"');
}

/* An attribute name: Mermaid takes words only, so other characters become
 * '_' (and a leading digit gets one before it). */
static void mermaid_word(sbuf *b, const char *name)
{
    if (!((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') || *name == '_'))
        sbuf_addc(b, '_');
    for (const char *p = name; *p; p++)
        sbuf_addc(b, ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')
                         ? *p
                         : '_');
}

static void mermaid_table(sbuf *b, const table *t)
{
    sbuf_add(b, "    ");
    mermaid_entity(b, t->name);
    sbuf_add(b, " {\n");
    for (size_t i = 0; i < t->ncols; i++) {
        const column *c = &t->cols[i];
        /* the type as one word (Mermaid's types take no commas); its
         * parameters, when it has some, as the attribute's comment */
        char *full = type_describe(&c->type);
        const char *word = type_names[c->type.kind];
        char *keys = column_keys(t, c, ", ");
        sbuf_addf(b, "        %s ", word);
        mermaid_word(b, c->name);
        if (*keys)
            sbuf_addf(b, " %s", keys);
        if (strcmp(full, word) != 0) {
            sbuf_add(b, " \"");
            for (const char *p = full; *p; p++)
                sbuf_addc(b, *p == '"' ? '\'' : *p);
            sbuf_addc(b, '"');
        }
        sbuf_addc(b, '\n');
        free(keys);
        free(full);
    }
    sbuf_add(b, "    }\n");
}

/* One relationship: referenced ||--o{ referencing : "columns". */
static void mermaid_fk(sbuf *b, const table *t, const fk_def *fk)
{
    sbuf_add(b, "    ");
    mermaid_entity(b, fk->ref_table);
    sbuf_addf(b, " %s%s%s ", fk_nullable(t, fk) ? "|o" : "||", fk_identifying(t, fk) ? "--" : "..",
              columns_unique(t, &fk->cols) ? "o|" : "o{");
    mermaid_entity(b, t->name);
    char *cols = join(&fk->cols, ", ");
    sbuf_addf(b, " : \"%s\"\n", cols);
    free(cols);
}

char *schema_mermaid(const schema *s)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "erDiagram\n");
    const table **v = tables_by_name(s);
    for (size_t i = 0; i < s->ntables; i++)
        mermaid_table(&b, v[i]);
    for (size_t i = 0; i < s->ntables; i++) {
        const fk_def **fks = fks_sorted(v[i]);
        for (size_t k = 0; k < v[i]->nfks; k++)
            mermaid_fk(&b, v[i], fks[k]);
        free(fks);
    }
    free(v);
    return sbuf_detach(&b);
}

/* ---- Graphviz ---- */

/* A quoted DOT identifier. */
static void dot_id(sbuf *b, const char *s)
{
    sbuf_addc(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            sbuf_addc(b, '\\');
        sbuf_addc(b, *p);
    }
    sbuf_addc(b, '"');
}

/* Text inside an HTML-like label. */
static void dot_html(sbuf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&':
            sbuf_add(b, "&amp;");
            break;
        case '<':
            sbuf_add(b, "&lt;");
            break;
        case '>':
            sbuf_add(b, "&gt;");
            break;
        case '"':
            sbuf_add(b, "&quot;");
            break;
        default:
            sbuf_addc(b, *p);
        }
    }
}

/* A table as a node: a header row, then one row per column (name, neutral
 * type, keys); each column row is a port that foreign-key lines end at. */
static void dot_table(sbuf *b, const table *t)
{
    sbuf_add(b, "  ");
    dot_id(b, t->name);
    sbuf_add(b, " [label=<\n    <TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" "
                "CELLPADDING=\"3\">\n");
    sbuf_add(b, "      <TR><TD COLSPAN=\"3\" BGCOLOR=\"#dae4f0\"><B>");
    dot_html(b, t->name);
    sbuf_add(b, "</B></TD></TR>\n");
    for (size_t i = 0; i < t->ncols; i++) {
        const column *c = &t->cols[i];
        char *type = type_describe(&c->type);
        char *keys = column_keys(t, c, " ");
        sbuf_add(b, "      <TR><TD PORT=\"");
        dot_html(b, c->name);
        sbuf_add(b, "\" ALIGN=\"LEFT\">");
        dot_html(b, c->name);
        sbuf_add(b, "</TD><TD ALIGN=\"LEFT\">");
        dot_html(b, type);
        /* a key's columns are NOT NULL anyway */
        sbuf_addf(b, "%s</TD><TD>", c->nullable || table_in_pk(t, c->name) ? "" : " not null");
        dot_html(b, keys);
        sbuf_add(b, "</TD></TR>\n");
        free(keys);
        free(type);
    }
    sbuf_add(b, "    </TABLE>>];\n");
}

/* A foreign key as a line from its first column to the referenced column,
 * with crow's-foot ends (see the top of the file). */
static void dot_fk(sbuf *b, const table *t, const fk_def *fk)
{
    sbuf_add(b, "  ");
    dot_id(b, t->name);
    sbuf_addc(b, ':');
    dot_id(b, fk->cols.n ? fk->cols.v[0] : "");
    sbuf_add(b, " -> ");
    dot_id(b, fk->ref_table);
    if (fk->ref_cols.n) {
        sbuf_addc(b, ':');
        dot_id(b, fk->ref_cols.v[0]);
    }
    sbuf_addf(b, " [arrowtail=%s, arrowhead=%s%s];\n",
              columns_unique(t, &fk->cols) ? "teeodot" : "crowodot",
              fk_nullable(t, fk) ? "teeodot" : "teetee",
              fk_identifying(t, fk) ? "" : ", style=dashed");
}

char *schema_dot(const schema *s, const char *title)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "digraph schema {\n");
    sbuf_add(&b, "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, labelloc=t");
    if (title) {
        sbuf_add(&b, ", label=");
        dot_id(&b, title);
    }
    sbuf_add(&b, "];\n");
    sbuf_add(&b, "  node [shape=plaintext, fontname=\"Helvetica\", fontsize=10];\n");
    sbuf_add(&b, "  edge [dir=both, color=\"#555555\"];\n");
    const table **v = tables_by_name(s);
    for (size_t i = 0; i < s->ntables; i++)
        dot_table(&b, v[i]);
    for (size_t i = 0; i < s->ntables; i++) {
        const fk_def **fks = fks_sorted(v[i]);
        for (size_t k = 0; k < v[i]->nfks; k++)
            dot_fk(&b, v[i], fks[k]);
        free(fks);
    }
    free(v);
    sbuf_add(&b, "}\n");
    return sbuf_detach(&b);
}

/* ---- one migration ---- */

/* Tables in an order where referenced tables come first (cycles keep the
 * model's order; the format allows foreign keys to tables created later). */
static size_t *table_order(const schema *s)
{
    size_t n = s->ntables;
    size_t *order = xcalloc(n + 1, sizeof *order);
    int *done = xcalloc(n + 1, sizeof *done);
    size_t k = 0;
    for (int progress = 1; progress && k < n;) {
        progress = 0;
        for (size_t i = 0; i < n; i++) {
            if (done[i])
                continue;
            int ready = 1;
            const table *t = &s->tables[i];
            for (size_t f = 0; f < t->nfks && ready; f++) {
                const table *ref = schema_table(s, t->fks[f].ref_table);
                if (ref && ref != t && !done[ref - s->tables])
                    ready = 0;
            }
            if (ready) {
                done[i] = 1;
                order[k++] = i;
                progress = 1;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!done[i])
            order[k++] = i;
    free(done);
    return order;
}

char *schema_migration_json(const schema *s, const char *description, const strvec *raw,
                            strata_dialect raw_dialect)
{
    json_t *up = json_array();
    for (size_t i = 0; i < s->nenums; i++) {
        json_t *vals = json_array();
        for (size_t v = 0; v < s->enums[i].values.n; v++)
            json_array_append_new(vals, json_string(s->enums[i].values.v[v]));
        json_array_append_new(up, json_pack("{s:s, s:s, s:o}", "op", "create_enum", "name",
                                            s->enums[i].name, "values", vals));
    }
    size_t *order = table_order(s);
    for (size_t i = 0; i < s->ntables; i++)
        json_array_append_new(up, table_json(&s->tables[order[i]]));
    if (raw && raw->n) {
        json_t *op = json_pack("{s:s}", "op", "sql");
        for (int k = 0; k < STRATA_DIALECT_COUNT; k++) {
            json_t *list = json_array();
            if (k == (int)raw_dialect)
                for (size_t i = 0; i < raw->n; i++)
                    json_array_append_new(list, json_string(raw->v[i]));
            json_object_set_new(op, strata_dialect_name((strata_dialect)k), list);
        }
        json_array_append_new(up, op);
    }
    json_t *root = json_pack("{s:s, s:o}", "description", description, "up", up);
    if (raw && raw->n) {
        /* sql has no inverse: reverting drops the tables and enums */
        json_t *down = json_array();
        for (size_t i = s->ntables; i-- > 0;) {
            const table *t = &s->tables[order[i]];
            for (size_t f = 0; f < t->nfks; f++)
                json_array_append_new(down, json_pack("{s:s, s:s, s:s}", "op", "drop_foreign_key",
                                                      "table", t->name, "name", t->fks[f].name));
        }
        for (size_t i = s->ntables; i-- > 0;)
            json_array_append_new(down, json_pack("{s:s, s:s}", "op", "drop_table", "table",
                                                  s->tables[order[i]].name));
        for (size_t i = 0; i < s->nenums; i++)
            json_array_append_new(
                down, json_pack("{s:s, s:s}", "op", "drop_enum", "name", s->enums[i].name));
        json_object_set_new(root, "down", down);
    }
    free(order);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}

char *schema_render(const schema *s, strata_schema_format f, const char *title)
{
    switch (f) {
    case STRATA_SCHEMA_MERMAID:
        return schema_mermaid(s);
    case STRATA_SCHEMA_DOT:
        return schema_dot(s, title);
    case STRATA_SCHEMA_JSON:
        break;
    }
    return schema_migration_json(s, title, NULL, STRATA_POSTGRES);
}

/* ---- the public entry points ---- */

static int format_check(strata_schema_format f)
{
    if (!strata_schema_format_name(f))
        return strata_set_error(STRATA_EINPUT, "unknown schema format %d (json, mermaid or dot)",
                                (int)f);
    return 0;
}

int strata_migrations_schema(const strata_options *opt, strata_schema_format f, char **out)
{
    *out = NULL;
    strata_options o;
    int rc = options_get(opt, &o);
    if (!rc)
        rc = format_check(f);
    if (rc)
        return rc;
    const char *dir = o.migrations_dir ? o.migrations_dir : "./migrations";
    schema s;
    size_t count = 0;
    rc = migrations_model_upto(dir, o.flags, o.nflags, o.to, &s, NULL, &count);
    if (rc)
        return rc;
    char *title = xasprintf("The schema of the %zu migration%s in %s%s%s", count,
                            count == 1 ? "" : "s", dir, o.to ? " up to " : "", o.to ? o.to : "");
    *out = schema_render(&s, f, title);
    free(title);
    schema_free(&s);
    return 0;
}
