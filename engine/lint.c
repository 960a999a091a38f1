/*
 * lint.c - `migrations lint`: what each migration will do to each
 * database, before anything runs (docs/lint.md).
 *
 * For every database linted, the migrations are walked op by op
 * (opwalk.c): the schema model says what an op loses or changes (a dropped
 * column, a narrower type, a rename), the dialect's compiler what it
 * becomes there (its statements, or the error that it cannot be said
 * there), and dialects/cost.c what those statements cost (a rewrite, an
 * InnoDB copy, a SQLite rebuild, the lock). A finding the same rule makes
 * on several databases with the same words is one finding for all of them.
 *
 * Ops on a table the same migration creates are new and empty: only the
 * portability and hygiene rules look at them.
 */
#include "cost.h"
#include "exec.h"
#include "history.h"
#include "jsonpos.h"
#include "migration.h"
#include "opwalk.h"
#include "options.h"
#include "rowcount.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PG  (1u << STRATA_POSTGRES)
#define MY  (1u << STRATA_MYSQL)
#define SL  (1u << STRATA_SQLITE)
#define ALL (PG | MY | SL)

/* The rules, in documentation order; R_* index them. */
enum {
    R_DROP_TABLE,
    R_DROP_COLUMN,
    R_NARROWING_TYPE,
    R_ENUM_VALUE_REMOVED,
    R_DELETE_ALL_ROWS,
    R_DATA_OP_WITHOUT_DOWN,
    R_IRREVERSIBLE,
    R_DROP_FOREIGN_KEY,
    R_PG_TYPE_REWRITE,
    R_PG_VOLATILE_DEFAULT,
    R_PG_SET_NOT_NULL,
    R_PG_INDEX_NOT_CONCURRENT,
    R_PG_FK_NOT_VALID,
    R_PG_BLOCKING_CONSTRAINT,
    R_MYSQL_COPY,
    R_MYSQL_LOCKED_REBUILD,
    R_MYSQL_REBUILD,
    R_SQLITE_REBUILD,
    R_RENAME_COLUMN,
    R_RENAME_TABLE,
    R_NOT_NULL_ADDED,
    R_TYPE_CHANGED,
    R_SQL_MISSING_DIALECT,
    R_UNSUPPORTED_FEATURE,
    R_INDEX_TOO_WIDE,
    R_NAME_TOO_LONG,
    R_FK_WITHOUT_INDEX,
    R_TABLE_WITHOUT_PK,
    R__COUNT
};

static const strata_lint_rule rules[R__COUNT] = {
    [R_DROP_TABLE] = {"drop-table", "data-loss", STRATA_LINT_ERROR, ALL,
                      "drops a table and every row in it",
                      "keep the table until no release reads it and what must be kept is "
                      "archived; then drop it in a migration of its own"},
    [R_DROP_COLUMN] = {"drop-column", "data-loss", STRATA_LINT_ERROR, ALL,
                       "drops a column and every value in it",
                       "stop reading and writing the column first (expand/contract), archive "
                       "what must be kept, then drop it in a later migration"},
    [R_NARROWING_TYPE] = {"narrowing-type", "data-loss", STRATA_LINT_ERROR, ALL,
                          "changes a column to a type that cannot hold every value the old one "
                          "could (shorter, smaller, less precise)",
                          "check the data first, or widen instead: values that do not fit make "
                          "the migration fail, or are rounded"},
    [R_ENUM_VALUE_REMOVED] = {"enum-value-removed", "data-loss", STRATA_LINT_ERROR, ALL,
                              "removes enum values that rows may still hold",
                              "move the rows to another value first (an update in an earlier "
                              "migration), then remove it"},
    [R_DELETE_ALL_ROWS] = {"delete-all-rows", "data-loss", STRATA_LINT_ERROR, ALL,
                           "deletes every row of a table", "give the delete a \"where\""},
    [R_DATA_OP_WITHOUT_DOWN] = {"data-op-without-down", "data-loss", STRATA_LINT_WARNING, ALL,
                                "changes rows (sql, update, delete) in a migration without a "
                                "\"down\", so the change cannot be undone",
                                "write a \"down\" that puts the rows back, or say \"down\": "
                                "\"irreversible\""},
    [R_IRREVERSIBLE] = {"irreversible", "data-loss", STRATA_LINT_WARNING, ALL,
                        "the migration cannot be reverted", "write a \"down\""},
    [R_DROP_FOREIGN_KEY] = {"drop-foreign-key", "data-loss", STRATA_LINT_WARNING, ALL,
                            "drops a foreign key (and does not put one back on the same "
                            "columns): from then on nothing stops rows that reference nothing",
                            "keep the key, or make sure whatever replaces it (the application, "
                            "a link table) keeps the references whole"},
    [R_PG_TYPE_REWRITE] = {"pg-type-rewrite", "locking", STRATA_LINT_WARNING, PG,
                           "rewrites the whole table under ACCESS EXCLUSIVE on PostgreSQL (a "
                           "column type change, an enum type re-created)",
                           "add a column of the new type, backfill it in batches, switch the "
                           "application, drop the old column; or run it while the table is "
                           "small or idle"},
    [R_PG_VOLATILE_DEFAULT] = {"pg-volatile-default", "locking", STRATA_LINT_WARNING, PG,
                               "adds a column whose default is volatile (a serial, a new uuid), "
                               "which writes every row under ACCESS EXCLUSIVE on PostgreSQL",
                               "add the column without that default, backfill it in batches, "
                               "then set the default"},
    [R_PG_SET_NOT_NULL] = {"pg-set-not-null", "locking", STRATA_LINT_WARNING, PG,
                           "SET NOT NULL reads every row under ACCESS EXCLUSIVE on PostgreSQL",
                           "first add a check (column IS NOT NULL) with \"online\": true; "
                           "PostgreSQL 12+ then sets NOT NULL without reading the table"},
    [R_PG_INDEX_NOT_CONCURRENT] = {"pg-index-not-concurrent", "locking", STRATA_LINT_WARNING, PG,
                                   "builds an index with a plain CREATE INDEX, which blocks "
                                   "writes to the table on PostgreSQL while it runs",
                                   "add \"online\": true (CREATE INDEX CONCURRENTLY)"},
    [R_PG_FK_NOT_VALID] = {"pg-fk-not-valid", "locking", STRATA_LINT_WARNING, PG,
                           "adds a foreign key that checks every row while writes to both "
                           "tables wait on PostgreSQL",
                           "add \"online\": true (NOT VALID, then VALIDATE CONSTRAINT)"},
    [R_PG_BLOCKING_CONSTRAINT] = {"pg-blocking-constraint", "locking", STRATA_LINT_WARNING, PG,
                                  "adds a unique constraint, primary key or check that reads "
                                  "every row under ACCESS EXCLUSIVE on PostgreSQL",
                                  "for a check add \"online\": true; for uniqueness create a "
                                  "unique index with \"online\": true instead"},
    [R_MYSQL_COPY] = {"mysql-copy", "locking", STRATA_LINT_WARNING, MY,
                      "needs ALGORITHM=COPY on MySQL/MariaDB: the table is copied row by row "
                      "while writes to it wait",
                      "use \"online\": true for indexes and foreign keys; split other changes "
                      "(a new column and a backfill), or use an online schema change tool for "
                      "big tables"},
    [R_MYSQL_LOCKED_REBUILD] = {"mysql-locked-rebuild", "locking", STRATA_LINT_WARNING, MY,
                                "rebuilds the table on MySQL/MariaDB while writes to it wait "
                                "(LOCK=SHARED: an AUTO_INCREMENT column, or a table with "
                                "indexed virtual columns)",
                                "run it while the table is quiet; on MariaDB, a table without "
                                "partial unique indexes is rebuilt online"},
    [R_MYSQL_REBUILD] = {"mysql-rebuild", "locking", STRATA_LINT_NOTICE, MY,
                         "rebuilds the table in place on MySQL/MariaDB (ALGORITHM=INPLACE): "
                         "every row is read and written again",
                         "expect I/O in proportion to the table; run it while the table is "
                         "quiet if it is big"},
    [R_SQLITE_REBUILD] = {"sqlite-rebuild", "locking", STRATA_LINT_NOTICE, SL,
                          "rebuilds the table on SQLite: a new table, every row copied, the old "
                          "one dropped, under the database's write lock",
                          "nothing for small tables; for big ones, put a table's changes into "
                          "one migration so it is rebuilt once per change"},
    [R_RENAME_COLUMN] = {"rename-column", "compatibility", STRATA_LINT_WARNING, ALL,
                         "renames a column, which breaks the running release's queries that "
                         "name it",
                         "expand/contract: add the new column, write both, backfill, switch "
                         "reads, drop the old column in a later release"},
    [R_RENAME_TABLE] = {"rename-table", "compatibility", STRATA_LINT_WARNING, ALL,
                        "renames a table, which breaks the running release's queries that name "
                        "it",
                        "expand/contract: create the new table, write both, backfill, switch, "
                        "drop the old one in a later release"},
    [R_NOT_NULL_ADDED] = {"not-null-added", "compatibility", STRATA_LINT_WARNING, ALL,
                          "makes a column NOT NULL (or adds one without a default) while the "
                          "previous release may still write rows without a value",
                          "give the column a default, or first ship the release that always "
                          "writes it"},
    [R_TYPE_CHANGED] = {"type-changed", "compatibility", STRATA_LINT_WARNING, ALL,
                        "changes a column's type, which the running release may still read or "
                        "write as the old one",
                        "expand/contract: add a column of the new type, write both, backfill, "
                        "switch, drop the old column later"},
    [R_SQL_MISSING_DIALECT] = {"sql-missing-dialect", "portability", STRATA_LINT_ERROR, ALL,
                               "an sql operation has no statements for a database (neither its "
                               "own key nor \"all\")",
                               "add the database's statements (an empty list if nothing is "
                               "needed there), or \"all\""},
    [R_UNSUPPORTED_FEATURE] = {"unsupported-feature", "portability", STRATA_LINT_ERROR, ALL,
                               "the operation cannot be expressed on a database",
                               "give the feature per dialect, or change the schema (see the "
                               "message)"},
    [R_INDEX_TOO_WIDE] = {"index-too-wide", "portability", STRATA_LINT_ERROR, MY,
                          "an index or key is wider than InnoDB allows (3072 bytes; utf8mb4 "
                          "strings take 4 bytes a character), or indexes text",
                          "shorten the string columns (e.g. string(191)) or index fewer "
                          "columns"},
    [R_NAME_TOO_LONG] = {"name-too-long", "portability", STRATA_LINT_WARNING, PG | MY,
                         "an index or constraint name is longer than 63 bytes, so Strata "
                         "shortens it: the database's name is not the file's",
                         "give a name of at most 63 bytes"},
    [R_FK_WITHOUT_INDEX] = {"fk-without-index", "hygiene", STRATA_LINT_WARNING, PG | SL,
                            "a foreign key whose columns lead no index: deleting or updating a "
                            "referenced row reads the whole referencing table (MySQL makes the "
                            "index itself)",
                            "create an index on the foreign key's columns"},
    [R_TABLE_WITHOUT_PK] = {"table-without-pk", "hygiene", STRATA_LINT_WARNING, ALL,
                            "a table without a primary key (replication, upserts and most tools "
                            "need one)",
                            "add a primary key"},
};

const strata_lint_rule *strata_lint_rules(size_t *n)
{
    if (n)
        *n = R__COUNT;
    return rules;
}

const char *strata_lint_severity_name(strata_lint_severity s)
{
    switch (s) {
    case STRATA_LINT_NOTICE:
        return "notice";
    case STRATA_LINT_WARNING:
        return "warning";
    case STRATA_LINT_ERROR:
        return "error";
    }
    return "notice";
}

static int rule_index(const char *id)
{
    for (int i = 0; i < R__COUNT; i++)
        if (strcmp(rules[i].id, id) == 0)
            return i;
    return -1;
}

/* ---- the linter's state ---- */

typedef struct finding {
    strata_lint_finding f;
    int suppressed;
    size_t mig;   /* index of the migration in its set, for ordering */
    size_t order; /* in which the finding was first made */
} finding;

typedef struct linter {
    const migration_set *set;
    const down_plan *plan;
    strata_lint_options opt;
    unsigned dialects; /* linted */
    strata_conn *conn; /* row counts, or NULL */
    finding *v;
    size_t n, cap;
    /* per migration, while it is walked: what it added, as "table\tname\tpath" */
    strvec fks_added, tables_created, pks_dropped, columns_added, fks_dropped;
    /* row counts of the connected database, as "table\tcount" */
    strvec counts;
} linter;

/* Has the linter been told to leave rule r out for migration m? */
static int is_ignored(const linter *L, int r, const migration *m)
{
    for (size_t i = 0; i < L->opt.nignore; i++)
        if (strcmp(L->opt.ignore[i], rules[r].id) == 0)
            return 1;
    return strvec_find(&m->lint_ignore, rules[r].id) >= 0;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Record a finding of rule r for migration m (index mi) at `path`, on the
 * databases `dialects`; the same words on another database join it. */
static void add_finding(linter *L, int r, size_t mi, const char *path, unsigned dialects,
                        const char *table, const char *fix, const char *fmt, ...)
    STRATA_PRINTF(8, 9);
static void add_finding(linter *L, int r, size_t mi, const char *path, unsigned dialects,
                        const char *table, const char *fix, const char *fmt, ...)
{
    dialects &= L->dialects & rules[r].dialects;
    if (!dialects)
        return;
    const migration *m = L->set->v[mi];
    sbuf msg = SBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sbuf_vaddf(&msg, fmt, ap);
    va_end(ap);
    for (size_t i = L->n; i-- > 0;) {
        strata_lint_finding *f = &L->v[i].f;
        if (L->v[i].mig == mi && f->rule == &rules[r] && same(f->path, path) &&
            same(f->table, table) && strcmp(f->message, sbuf_str(&msg)) == 0) {
            f->dialects |= dialects;
            sbuf_free(&msg);
            return;
        }
    }
    L->v = xgrow(L->v, &L->cap, L->n + 1, sizeof *L->v);
    finding *x = &L->v[L->n];
    memset(x, 0, sizeof *x);
    x->mig = mi;
    x->order = L->n++;
    x->suppressed = is_ignored(L, r, m);
    x->f.rule = &rules[r];
    x->f.severity = rules[r].severity;
    x->f.migration = xstrdup(m->id);
    x->f.file = xstrdup(m->path);
    x->f.path = path ? xstrdup(path) : NULL;
    x->f.dialects = dialects;
    x->f.table = table ? xstrdup(table) : NULL;
    x->f.message = sbuf_detach(&msg);
    x->f.fix = xstrdup(fix ? fix : rules[r].fix);
}

/* ---- row counts of the connected database ---- */

/* How many rows table `name` holds in the connected database (rowcount.c),
 * asked once per table; -1 when there is no connection or no such table.
 * *exact: counted, not estimated. */
static long long rows_of(linter *L, const char *name, int *exact)
{
    *exact = 0;
    if (!L->conn || !name)
        return -1;
    size_t nlen = strlen(name);
    for (size_t i = 0; i < L->counts.n; i++)
        if (strncmp(L->counts.v[i], name, nlen) == 0 && L->counts.v[i][nlen] == '\t') {
            char *end;
            long long n = strtoll(L->counts.v[i] + nlen + 1, &end, 10);
            *exact = *end == '=';
            return n;
        }
    long long n = table_rows(L->conn, name, exact);
    strvec_pushf(&L->counts, "%s\t%lld%s", name, n, *exact ? "=" : "");
    return n;
}

/* " (N rows)" for messages, when the connected database knows the table. */
static void rows_note(linter *L, sbuf *b, const char *table)
{
    int exact;
    long long n = rows_of(L, table, &exact);
    if (n < 0)
        return;
    sbuf_addf(b, " (%s%lld row%s in the database)", exact ? "" : "about ", n, n == 1 ? "" : "s");
}

/* ---- what a type change does to values ---- */

typedef enum { TC_SAME, TC_WIDEN, TC_NARROW, TC_CHANGE } type_change;

/* Decimal digits an integer kind holds. */
static int int_digits(type_kind k)
{
    return k == TY_SMALLINT ? 5 : k == TY_BIGINT || k == TY_BIGSERIAL ? 19 : 10;
}

static int int_rank(type_kind k)
{
    return k == TY_SMALLINT ? 1 : k == TY_BIGINT || k == TY_BIGSERIAL ? 3 : 2;
}

/* From `a` (with enum values va) to `b` (values vb): can every value of the
 * old type be kept (widen), may some not fit (narrow), or is it another
 * kind of value (change)? */
static type_change type_relation(const col_type *a, const strvec *va, const col_type *b,
                                 const strvec *vb)
{
    type_kind x = a->kind, y = b->kind;
    if (type_is_integer(x) && type_is_integer(y)) {
        int rx = int_rank(x), ry = int_rank(y);
        return rx == ry ? TC_SAME : ry > rx ? TC_WIDEN : TC_NARROW;
    }
    if (x == TY_ENUM && y == TY_ENUM) {
        for (size_t i = 0; va && i < va->n; i++)
            if (!vb || strvec_find(vb, va->v[i]) < 0)
                return TC_NARROW;
        return va && vb && va->n == vb->n ? TC_SAME : TC_WIDEN;
    }
    if (x == y) {
        switch (x) {
        case TY_STRING:
            return b->length == a->length ? TC_SAME : b->length > a->length ? TC_WIDEN : TC_NARROW;
        case TY_DECIMAL: {
            int ia = a->precision - a->scale, ib = b->precision - b->scale;
            if (ia == ib && a->scale == b->scale)
                return TC_SAME;
            return ib >= ia && b->scale >= a->scale ? TC_WIDEN : TC_NARROW;
        }
        case TY_TIME:
        case TY_TIMESTAMP:
        case TY_TIMESTAMPTZ:
            return b->precision == a->precision  ? TC_SAME
                   : b->precision > a->precision ? TC_WIDEN
                                                 : TC_NARROW;
        default:
            return TC_SAME;
        }
    }
    int textual = x == TY_STRING || x == TY_ENUM || x == TY_UUID;
    if (y == TY_TEXT && (textual || x == TY_TEXT))
        return TC_WIDEN;
    if (y == TY_STRING && (x == TY_TEXT || x == TY_ENUM))
        return TC_NARROW;
    if (y == TY_STRING && x == TY_UUID)
        return b->length >= 36 ? TC_WIDEN : TC_NARROW;
    if (x == TY_REAL && y == TY_DOUBLE)
        return TC_WIDEN;
    if (x == TY_DOUBLE && y == TY_REAL)
        return TC_NARROW;
    /* floating point holds about 7 (real) or 15 (double) digits exactly,
     * and no decimal fraction exactly */
    if (type_is_integer(x) && (y == TY_REAL || y == TY_DOUBLE))
        return int_digits(x) <= (y == TY_REAL ? 7 : 15) ? TC_WIDEN : TC_NARROW;
    if ((x == TY_DECIMAL && (y == TY_REAL || y == TY_DOUBLE)) ||
        ((x == TY_REAL || x == TY_DOUBLE) && y == TY_DECIMAL))
        return TC_NARROW;
    if (type_is_integer(x) && y == TY_DECIMAL)
        return b->precision - b->scale >= int_digits(x) ? TC_WIDEN : TC_NARROW;
    if (x == TY_DECIMAL && type_is_integer(y))
        return TC_NARROW;
    if ((x == TY_REAL || x == TY_DOUBLE || x == TY_DECIMAL) && type_is_integer(y))
        return TC_NARROW;
    if (y == TY_ENUM && (x == TY_STRING || x == TY_TEXT))
        return TC_NARROW;
    return TC_CHANGE;
}

/* ---- the rules, op by op ---- */

/* Per-migration bookkeeping: "table\tname\tpath". */
static void note(strvec *v, const char *table, const char *name, const char *path)
{
    strvec_pushf(v, "%s\t%s\t%s", table, name ? name : "", path ? path : "");
}

static int noted(const strvec *v, const char *table, const char *name)
{
    size_t tl = strlen(table), nl = name ? strlen(name) : 0;
    for (size_t i = 0; i < v->n; i++)
        if (strncmp(v->v[i], table, tl) == 0 && v->v[i][tl] == '\t' &&
            (!name || (strncmp(v->v[i] + tl + 1, name, nl) == 0 && v->v[i][tl + 1 + nl] == '\t')))
            return 1;
    return 0;
}

/* The data-loss and compatibility rules: they depend on the model only,
 * so every database linted finds the same (and they merge). */
static void model_rules(linter *L, const op_step *s, int new_table)
{
    const op *o = s->o;
    const table *bt = s->before->table;
    size_t mi = s->index;
    const migration *m = s->m;
    sbuf b = SBUF_INIT;
    switch (o->kind) {
    case OP_DROP_TABLE:
        if (bt && !new_table) {
            rows_note(L, &b, bt->name);
            add_finding(L, R_DROP_TABLE, mi, o->path, ALL, bt->name, NULL,
                        "drops table '%s' and every row in it%s", bt->name, sbuf_str(&b));
        }
        break;
    case OP_DROP_COLUMN:
        if (bt && table_column(bt, o->name) && !new_table &&
            !noted(&L->columns_added, bt->name, o->name)) {
            rows_note(L, &b, bt->name);
            add_finding(L, R_DROP_COLUMN, mi, o->path, ALL, bt->name, NULL,
                        "drops column '%s.%s' and every value in it%s", bt->name, o->name,
                        sbuf_str(&b));
        }
        break;
    case OP_RENAME_TABLE:
        if (!new_table)
            add_finding(L, R_RENAME_TABLE, mi, o->path, ALL, o->table, NULL,
                        "renames table '%s' to '%s'", o->table, o->to);
        break;
    case OP_RENAME_COLUMN:
        if (!new_table && !noted(&L->columns_added, o->table, o->name))
            add_finding(L, R_RENAME_COLUMN, mi, o->path, ALL, o->table, NULL,
                        "renames column '%s.%s' to '%s'", o->table, o->name, o->to);
        break;
    case OP_ADD_COLUMN: {
        const table *t = schema_table(s->after, o->table);
        const column *c = t ? table_column(t, o->col->name) : NULL;
        if (c && !new_table && !c->nullable && c->def.kind == DEF_NONE &&
            !type_is_serial(c->type.kind))
            add_finding(L, R_NOT_NULL_ADDED, mi, o->path, ALL, o->table, NULL,
                        "adds NOT NULL column '%s.%s' without a default: the previous "
                        "release's inserts do not give it",
                        o->table, c->name);
        break;
    }
    case OP_ALTER_COLUMN: {
        const table *t = schema_table(s->after, o->table);
        const column *c = t ? table_column(t, o->name) : NULL;
        const column *old = bt ? table_column(bt, o->name) : NULL;
        if (!c || !old || new_table || noted(&L->columns_added, o->table, o->name))
            break;
        if ((o->alter & ALTER_NULLABLE) && old->nullable && !c->nullable)
            add_finding(L, R_NOT_NULL_ADDED, mi, o->path, ALL, o->table, NULL,
                        "makes column '%s.%s' NOT NULL", o->table, o->name);
        if (!(o->alter & ALTER_TYPE) || col_type_equal(&old->type, &c->type))
            break;
        const strvec *va = column_enum_values(s->after, old), *vb = column_enum_values(s->after, c);
        if (old->type.kind == TY_ENUM && !old->type.enum_name)
            va = &old->type.values;
        type_change tc = type_relation(&old->type, va, &c->type, vb);
        char *from = type_describe(&old->type), *to = type_describe(&c->type);
        if (tc == TC_NARROW && old->type.kind == TY_ENUM && c->type.kind == TY_ENUM) {
            sbuf gone = SBUF_INIT;
            for (size_t i = 0; va && i < va->n; i++)
                if (!vb || strvec_find(vb, va->v[i]) < 0)
                    sbuf_addf(&gone, "%s'%s'", gone.len ? ", " : "", va->v[i]);
            add_finding(L, R_ENUM_VALUE_REMOVED, mi, o->path, ALL, o->table, NULL,
                        "removes %s from the values of column '%s.%s'", sbuf_str(&gone), o->table,
                        o->name);
            sbuf_free(&gone);
        } else if (tc == TC_NARROW) {
            add_finding(L, R_NARROWING_TYPE, mi, o->path, ALL, o->table, NULL,
                        "changes column '%s.%s' from %s to %s, which cannot hold every value "
                        "the old type could",
                        o->table, o->name, from, to);
        } else if (tc == TC_CHANGE) {
            add_finding(L, R_TYPE_CHANGED, mi, o->path, ALL, o->table, NULL,
                        "changes column '%s.%s' from %s to %s", o->table, o->name, from, to);
        }
        free(from);
        free(to);
        break;
    }
    case OP_ALTER_ENUM: {
        const strvec *va = s->before->enum_vals;
        sbuf gone = SBUF_INIT;
        for (size_t i = 0; va && i < va->n; i++)
            if (strvec_find(&o->values, va->v[i]) < 0)
                sbuf_addf(&gone, "%s'%s'", gone.len ? ", " : "", va->v[i]);
        if (gone.len)
            add_finding(L, R_ENUM_VALUE_REMOVED, mi, o->path, ALL, NULL, NULL,
                        "removes %s from enum '%s'", sbuf_str(&gone), o->name);
        sbuf_free(&gone);
        break;
    }
    case OP_DELETE:
        if (!o->where && !new_table) {
            rows_note(L, &b, o->table);
            add_finding(L, R_DELETE_ALL_ROWS, mi, o->path, ALL, o->table, NULL,
                        "deletes every row of table '%s'%s", o->table, sbuf_str(&b));
        }
        break;
    default:
        break;
    }
    if ((o->kind == OP_SQL || o->kind == OP_UPDATE || o->kind == OP_DELETE) &&
        m->down_mode == DOWN_AUTO)
        add_finding(L, R_DATA_OP_WITHOUT_DOWN, mi, o->path, ALL, o->table, NULL,
                    "%s changes rows and the migration has no \"down\": it cannot be reverted",
                    op_names[o->kind]);
    sbuf_free(&b);
}

/* The indexes op o creates or changes the width of, on table t (after). */
static void touched_indexes(const op *o, const table *t, const index_def **out, size_t *n,
                            size_t cap)
{
    *n = 0;
    for (size_t i = 0; t && i < t->nidx && *n < cap; i++) {
        const index_def *ix = &t->idx[i];
        int touched = o->kind == OP_CREATE_TABLE ||
                      ((o->kind == OP_CREATE_INDEX || o->kind == OP_ADD_UNIQUE) &&
                       strcmp(ix->name, o->name) == 0) ||
                      (o->kind == OP_ADD_COLUMN && index_uses_column(ix, o->col->name)) ||
                      (o->kind == OP_ALTER_COLUMN && (o->alter & ALTER_TYPE) &&
                       index_uses_column(ix, o->name));
        if (touched)
            out[(*n)++] = ix;
    }
}

/* The portability rules of one database. */
static int portability_rules(linter *L, const op_step *s)
{
    const op *o = s->o;
    strata_dialect d = s->tg->dialect;
    size_t mi = s->index;
    int specific = 0;
    if (o->kind == OP_SQL && !o->has_sql[d] && !o->has_sql[STRATA_DIALECT_COUNT]) {
        add_finding(L, R_SQL_MISSING_DIALECT, mi, o->path, 1u << d, NULL, NULL,
                    "the sql operation has no statements for %s", strata_dialect_name(d));
        specific = 1;
    }
    if (d == STRATA_MYSQL) {
        /* InnoDB's limit: 3072 bytes, 767 before MySQL 5.7.7 / MariaDB 10.2.2 */
        int old = s->tg->is_mariadb ? s->tg->version < 100202 : s->tg->version < 50707;
        int limit = old ? 767 : 3072;
        const table *t = o->table ? schema_table(s->after, o->table) : NULL;
        const index_def *ix[64];
        size_t n = 0;
        touched_indexes(o, t, ix, &n, 64);
        for (size_t i = 0; i < n; i++) {
            int w = mysql_index_bytes(t, ix[i]);
            if (w < 0 || w > limit) {
                if (w < 0)
                    add_finding(L, R_INDEX_TOO_WIDE, mi, o->path, MY, t->name, NULL,
                                "index '%s' has a text, json or binary column, which MySQL and "
                                "MariaDB index only with a prefix length",
                                ix[i]->name);
                else
                    add_finding(L, R_INDEX_TOO_WIDE, mi, o->path, MY, t->name, NULL,
                                "index '%s' is %d bytes wide; InnoDB allows %d", ix[i]->name, w,
                                limit);
                specific = 1;
            }
        }
        if (t && (o->kind == OP_CREATE_TABLE || o->kind == OP_ADD_PRIMARY_KEY) && t->pk.n) {
            index_def pk;
            memset(&pk, 0, sizeof pk);
            pk.name = "PRIMARY";
            pk.ncols = t->pk.n;
            pk.cols = xcalloc(t->pk.n + 1, sizeof *pk.cols);
            for (size_t i = 0; i < t->pk.n; i++)
                pk.cols[i].name = t->pk.v[i];
            int w = mysql_index_bytes(t, &pk);
            free(pk.cols);
            if (w < 0 || w > limit) {
                add_finding(L, R_INDEX_TOO_WIDE, mi, o->path, MY, t->name, NULL,
                            "the primary key of '%s' is %s", t->name,
                            w < 0 ? "over a text, json or binary column"
                                  : "wider than InnoDB "
                                    "allows");
                specific = 1;
            }
        }
    }
    return specific;
}

/* The compiler's message without the "file: path (op): dialect: " it
 * starts with (the finding says those). */
static const char *compile_reason(const op_step *s)
{
    const char *e = s->compile_error ? s->compile_error : "";
    const char *d = strata_dialect_name(s->tg->dialect);
    char *tag = xasprintf(": %s: ", d);
    const char *p = strstr(e, tag);
    free(tag);
    return p ? p + strlen(d) + 4 : e;
}

/* Has t a check that column c IS NOT NULL? With one validated, PostgreSQL
 * 12+ sets NOT NULL without reading the table. */
static int has_not_null_check(const table *t, const char *c)
{
    for (size_t i = 0; t && i < t->nchecks; i++) {
        const json_t *ck = t->checks[i].check;
        const json_t *col = json_object_get(ck, "column"), *isn = json_object_get(ck, "is_null");
        if (json_is_string(col) && strcmp(json_string_value(col), c) == 0 && json_is_false(isn))
            return 1;
    }
    return 0;
}

/* The locking rules of one database, from the op's cost there. */
static void locking_rules(linter *L, const op_step *s, const op_cost *c)
{
    const op *o = s->o;
    strata_dialect d = s->tg->dialect;
    unsigned bit = 1u << d;
    size_t mi = s->index;
    if (c->new_table)
        return;
    const char *table = c->tables.n ? c->tables.v[0] : o->table;
    sbuf b = SBUF_INIT;
    rows_note(L, &b, table);
    const char *rows = sbuf_str(&b);
    switch (d) {
    case STRATA_POSTGRES:
        if (c->cost == STRATA_COST_REWRITE &&
            (o->kind == OP_ALTER_COLUMN || o->kind == OP_ALTER_ENUM)) {
            for (size_t i = 0; i < c->tables.n; i++) {
                sbuf r = SBUF_INIT;
                rows_note(L, &r, c->tables.v[i]);
                add_finding(L, R_PG_TYPE_REWRITE, mi, o->path, bit, c->tables.v[i], NULL,
                            "rewrites table '%s' under ACCESS EXCLUSIVE: %s%s", c->tables.v[i],
                            c->detail, sbuf_str(&r));
                sbuf_free(&r);
            }
        } else if (c->cost == STRATA_COST_REWRITE && o->kind == OP_ADD_COLUMN) {
            add_finding(L, R_PG_VOLATILE_DEFAULT, mi, o->path, bit, o->table, NULL,
                        "adds column '%s.%s' with %s: every row is written under ACCESS "
                        "EXCLUSIVE%s",
                        o->table, o->col->name,
                        o->col->def.kind == DEF_SQL ? "an SQL default" : "a volatile default",
                        rows);
        }
        if (o->kind == OP_ALTER_COLUMN && (o->alter & ALTER_NULLABLE) && !o->col->nullable &&
            s->before->table) {
            const column *old = table_column(s->before->table, o->name);
            if (old && old->nullable && !has_not_null_check(s->before->table, o->name))
                add_finding(L, R_PG_SET_NOT_NULL, mi, o->path, bit, o->table, NULL,
                            "SET NOT NULL on '%s.%s' reads every row under ACCESS EXCLUSIVE%s",
                            o->table, o->name, rows);
        }
        if (o->kind == OP_CREATE_INDEX && !o->online)
            add_finding(L, R_PG_INDEX_NOT_CONCURRENT, mi, o->path, bit, o->table, NULL,
                        "CREATE INDEX \"%s\" blocks writes to '%s' while it is built%s", o->name,
                        o->table, rows);
        if (o->kind == OP_ADD_FOREIGN_KEY && !o->online)
            add_finding(L, R_PG_FK_NOT_VALID, mi, o->path, bit, o->table, NULL,
                        "foreign key '%s' checks every row of '%s' while writes to it and to "
                        "'%s' wait%s",
                        o->name, o->table, o->fk->ref_table, rows);
        if ((o->kind == OP_ADD_UNIQUE || o->kind == OP_ADD_PRIMARY_KEY ||
             (o->kind == OP_ADD_CHECK && !o->online)))
            add_finding(L, R_PG_BLOCKING_CONSTRAINT, mi, o->path, bit, o->table,
                        o->kind == OP_ADD_CHECK ? "add \"online\": true (NOT VALID, then "
                                                  "VALIDATE CONSTRAINT)"
                        : o->kind == OP_ADD_UNIQUE
                            ? "create a unique index with \"online\": true instead"
                            : NULL,
                        "%s on '%s' reads every row under ACCESS EXCLUSIVE%s", op_names[o->kind],
                        o->table, rows);
        break;
    case STRATA_MYSQL:
        if (c->cost == STRATA_COST_COPY)
            add_finding(L, R_MYSQL_COPY, mi, o->path, bit, table, NULL, "%s on '%s'%s", c->detail,
                        table ? table : "?", rows);
        else if (c->cost == STRATA_COST_REWRITE)
            add_finding(L, c->blocks_writes ? R_MYSQL_LOCKED_REBUILD : R_MYSQL_REBUILD, mi, o->path,
                        bit, table, NULL, "%s on '%s'%s", c->detail, table ? table : "?", rows);
        break;
    case STRATA_SQLITE:
        for (size_t i = 0; c->cost == STRATA_COST_REBUILD && i < c->tables.n; i++) {
            sbuf r = SBUF_INIT;
            rows_note(L, &r, c->tables.v[i]);
            add_finding(L, R_SQLITE_REBUILD, mi, o->path, bit, c->tables.v[i], NULL,
                        "%s rebuilds table '%s': every row is copied%s", op_names[o->kind],
                        c->tables.v[i], sbuf_str(&r));
            sbuf_free(&r);
        }
        break;
    }
    sbuf_free(&b);
}

/* What this op adds that the end of its migration must look at again. */
static void bookkeeping(linter *L, const op_step *s)
{
    const op *o = s->o;
    const table *t = o->table ? schema_table(s->after, o->table) : NULL;
    switch (o->kind) {
    case OP_CREATE_TABLE:
        note(&L->tables_created, o->table, NULL, o->path);
        for (size_t i = 0; t && i < t->nfks; i++)
            note(&L->fks_added, o->table, t->fks[i].name, o->path);
        break;
    case OP_ADD_FOREIGN_KEY:
        note(&L->fks_added, o->table, o->name, o->path);
        break;
    case OP_ADD_COLUMN:
        note(&L->columns_added, o->table, o->col->name, o->path);
        for (size_t i = 0; o->def && i < o->def->nfks; i++)
            note(&L->fks_added, o->table, o->def->fks[i].name, o->path);
        break;
    case OP_DROP_PRIMARY_KEY:
        note(&L->pks_dropped, o->table, NULL, o->path);
        break;
    case OP_DROP_FOREIGN_KEY: {
        const fk_def *fk = s->before->table ? table_fk(s->before->table, o->name) : NULL;
        if (fk && s->before->table->created_in != s->after->migration_index) {
            /* "table\tname\tpath\tref_table\tcol,col" */
            sbuf cols = SBUF_INIT;
            for (size_t i = 0; i < fk->cols.n; i++)
                sbuf_addf(&cols, "%s%s", i ? "," : "", fk->cols.v[i]);
            strvec_pushf(&L->fks_dropped, "%s\t%s\t%s\t%s\t%s", o->table, o->name, o->path,
                         fk->ref_table, sbuf_str(&cols));
            sbuf_free(&cols);
        }
        break;
    }
    default:
        break;
    }
}

static int lint_op(const op_step *s, void *payload)
{
    linter *L = payload;
    op_cost c;
    op_cost_estimate(s->tg, s->after, s->before, s->o, s->stmts, &c);
    model_rules(L, s, c.new_table);
    int specific = portability_rules(L, s);
    if (s->compile_rc && !specific)
        add_finding(L, R_UNSUPPORTED_FEATURE, s->index, s->o->path, 1u << s->tg->dialect,
                    s->o->table, NULL, "%s: %s", strata_dialect_name(s->tg->dialect),
                    compile_reason(s));
    if (!s->compile_rc)
        locking_rules(L, s, &c);
    bookkeeping(L, s);
    op_cost_free(&c);
    return 0;
}

/* Field k (0-based) of a "table\tname\tpath" entry. */
static char *field(const char *entry, int k)
{
    const char *p = entry;
    for (int i = 0; i < k && p; i++) {
        p = strchr(p, '\t');
        p = p ? p + 1 : NULL;
    }
    if (!p)
        return xstrdup("");
    const char *e = strchr(p, '\t');
    return xstrndup(p, e ? (size_t)(e - p) : strlen(p));
}

/* Does an index (or the key) of t start with cols? */
static int leads_index(const table *t, const strvec *cols)
{
    int ok = t->pk.n >= cols->n;
    for (size_t i = 0; ok && i < cols->n; i++)
        ok = strcmp(t->pk.v[i], cols->v[i]) == 0;
    for (size_t k = 0; !ok && k < t->nidx; k++) {
        const index_def *ix = &t->idx[k];
        ok = ix->ncols >= cols->n && !ix->where;
        for (size_t i = 0; ok && i < cols->n; i++)
            ok = strcmp(ix->cols[i].name, cols->v[i]) == 0;
    }
    return ok;
}

/* At the end of a migration: the hygiene rules on what it built, and
 * whether it can be reverted. */
static int lint_migration_end(const migration *m, size_t index, const schema *s, void *payload)
{
    linter *L = payload;
    for (size_t i = 0; i < L->fks_added.n; i++) {
        char *tn = field(L->fks_added.v[i], 0), *fn = field(L->fks_added.v[i], 1),
             *path = field(L->fks_added.v[i], 2);
        const table *t = schema_table(s, tn);
        const fk_def *fk = t ? table_fk(t, fn) : NULL;
        if (fk && !leads_index(t, &fk->cols)) {
            sbuf cols = SBUF_INIT;
            for (size_t k = 0; k < fk->cols.n; k++)
                sbuf_addf(&cols, "%s%s", k ? ", " : "", fk->cols.v[k]);
            add_finding(L, R_FK_WITHOUT_INDEX, index, path, ALL, tn, NULL,
                        "foreign key '%s' of '%s' (%s) has no index on its columns", fn, tn,
                        sbuf_str(&cols));
            sbuf_free(&cols);
        }
        free(tn);
        free(fn);
        free(path);
    }
    strvec *lists[] = {&L->tables_created, &L->pks_dropped};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->n; i++) {
            char *tn = field(lists[l]->v[i], 0), *path = field(lists[l]->v[i], 2);
            const table *t = schema_table(s, tn);
            if (t && !t->pk.n)
                add_finding(L, R_TABLE_WITHOUT_PK, index, path, ALL, tn, NULL,
                            "table '%s' has no primary key", tn);
            free(tn);
            free(path);
        }
    for (size_t i = 0; i < L->fks_dropped.n; i++) {
        char *tn = field(L->fks_dropped.v[i], 0), *fn = field(L->fks_dropped.v[i], 1),
             *path = field(L->fks_dropped.v[i], 2), *ref = field(L->fks_dropped.v[i], 3),
             *cols = field(L->fks_dropped.v[i], 4);
        const table *t = schema_table(s, tn);
        int replaced = 0;
        for (size_t k = 0; t && k < t->nfks && !replaced; k++) {
            sbuf c = SBUF_INIT;
            for (size_t j = 0; j < t->fks[k].cols.n; j++)
                sbuf_addf(&c, "%s%s", j ? "," : "", t->fks[k].cols.v[j]);
            replaced = strcmp(t->fks[k].ref_table, ref) == 0 && strcmp(sbuf_str(&c), cols) == 0;
            sbuf_free(&c);
        }
        if (t && !replaced)
            add_finding(L, R_DROP_FOREIGN_KEY, index, path, ALL, tn, NULL,
                        "drops foreign key '%s' of '%s' (%s) to '%s'", fn, tn, cols, ref);
        free(tn);
        free(fn);
        free(path);
        free(ref);
        free(cols);
    }
    int data_ops = 0;
    for (size_t j = 0; j < m->up.n; j++)
        data_ops |= m->up.v[j]->kind == OP_SQL || m->up.v[j]->kind == OP_UPDATE ||
                    m->up.v[j]->kind == OP_DELETE;
    if (!L->plan->reversible[index] && !(data_ops && m->down_mode == DOWN_AUTO))
        add_finding(L, R_IRREVERSIBLE, index, m->down_mode == DOWN_IRREVERSIBLE ? "down" : NULL,
                    ALL, NULL, NULL, "the migration cannot be reverted: %s",
                    L->plan->why[index] ? L->plan->why[index] : "no down");
    strvec_free(&L->fks_added);
    strvec_free(&L->fks_dropped);
    strvec_free(&L->tables_created);
    strvec_free(&L->pks_dropped);
    strvec_free(&L->columns_added);
    return 0;
}

/* ---- names, positions, results ---- */

/* name-too-long: author-given index and constraint names over 63 bytes,
 * read from the file (the parser has shortened them in the ops). */
static void long_names(linter *L, size_t mi, json_t *v, sbuf *path)
{
    if (json_is_object(v)) {
        /* table, column and enum names that long do not parse: these are
         * index and constraint names, which the parser shortens */
        const char *keys[] = {"name", "primary_key_name"};
        for (int k = 0; k < 2; k++) {
            json_t *n = json_object_get(v, keys[k]);
            size_t len = json_is_string(n) ? strlen(json_string_value(n)) : 0;
            if (len > 63)
                add_finding(L, R_NAME_TOO_LONG, mi, path->len ? sbuf_str(path) : NULL, PG | MY,
                            NULL, NULL,
                            "name '%s' is %zu bytes long; the databases get a shortened one",
                            json_string_value(n), len);
        }
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child)
        {
            size_t saved = path->len;
            if (path->len)
                sbuf_addc(path, '.');
            sbuf_add(path, key);
            long_names(L, mi, child, path);
            path->len = saved;
            if (path->p)
                path->p[saved] = '\0';
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            size_t saved = path->len;
            sbuf_addf(path, "[%zu]", i);
            long_names(L, mi, json_array_get(v, i), path);
            path->len = saved;
            if (path->p)
                path->p[saved] = '\0';
        }
    }
}

/* Read each selected file once: long names, and the line and column of
 * every finding's path. */
static int files_pass(linter *L, const int *selected)
{
    for (size_t mi = 0; mi < L->set->n; mi++) {
        if (!selected[mi])
            continue;
        const migration *m = L->set->v[mi];
        char *text = NULL;
        int rc = read_file(m->path, &text, NULL);
        if (rc)
            return rc;
        json_t *root = json_loads(text, 0, NULL);
        sbuf path = SBUF_INIT;
        json_t *ops[] = {json_object_get(root, "up"), json_object_get(root, "down")};
        const char *names[] = {"up", "down"};
        for (int k = 0; k < 2; k++) {
            sbuf_reset(&path);
            sbuf_add(&path, names[k]);
            if (json_is_array(ops[k]))
                long_names(L, mi, ops[k], &path);
        }
        sbuf_free(&path);
        json_decref(root);
        for (size_t i = 0; i < L->n; i++) {
            strata_lint_finding *f = &L->v[i].f;
            if (L->v[i].mig != mi)
                continue;
            int line = 0, col = 0;
            if (json_path_position(text, f->path ? f->path : "", &line, &col)) {
                f->line = line;
                f->column = col;
            }
        }
        free(text);
    }
    return 0;
}

static int cmp_findings(const void *a, const void *b)
{
    const finding *x = a, *y = b;
    if (x->mig != y->mig)
        return x->mig < y->mig ? -1 : 1;
    if (x->f.line != y->f.line)
        return x->f.line < y->f.line ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void finding_free(strata_lint_finding *f)
{
    free(f->migration);
    free(f->file);
    free(f->path);
    free(f->table);
    free(f->message);
    free(f->fix);
}

void strata_lint_result_free(strata_lint_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        finding_free(&r->findings[i]);
    free(r->findings);
    free(r);
}

/* Unknown rule ids in the options or in a migration's "lint" are input
 * errors: a misspelt id would otherwise silence nothing. */
static int check_rule_ids(const linter *L)
{
    const char *ids[R__COUNT];
    for (int i = 0; i < R__COUNT; i++)
        ids[i] = rules[i].id;
    for (size_t i = 0; i < L->opt.nignore; i++)
        if (rule_index(L->opt.ignore[i]) < 0) {
            const char *near = str_nearest(L->opt.ignore[i], ids, R__COUNT);
            return strata_set_error(STRATA_EINPUT, "unknown lint rule '%s'%s%s%s", L->opt.ignore[i],
                                    near ? " (did you mean '" : "", near ? near : "",
                                    near ? "'?)" : "");
        }
    for (size_t mi = 0; mi < L->set->n; mi++) {
        const migration *m = L->set->v[mi];
        for (size_t i = 0; i < m->lint_ignore.n; i++)
            if (rule_index(m->lint_ignore.v[i]) < 0) {
                const char *near = str_nearest(m->lint_ignore.v[i], ids, R__COUNT);
                return strata_set_error(STRATA_EINPUT,
                                        "%s: lint.ignore[%zu]: unknown lint rule "
                                        "'%s'%s%s%s",
                                        m->path, i, m->lint_ignore.v[i],
                                        near ? " (did you mean '" : "", near ? near : "",
                                        near ? "'?)" : "");
            }
    }
    return 0;
}

/* Which migrations to lint: those named, or with a connection the ones it
 * has not applied, or all. */
static int select_migrations(linter *L, const char *const *versions, size_t n, int *selected)
{
    for (size_t k = 0; k < n; k++) {
        int found = 0;
        for (size_t i = 0; i < L->set->n; i++)
            if (strcmp(L->set->v[i]->version, versions[k]) == 0 ||
                strcmp(L->set->v[i]->id, versions[k]) == 0) {
                selected[i] = 1;
                found = 1;
            }
        if (!found)
            return strata_set_error(STRATA_EINPUT, "no migration with version '%s' in %s",
                                    versions[k],
                                    L->opt.migrations_dir ? L->opt.migrations_dir : "./migrations");
    }
    if (n)
        return 0;
    strvec applied = STRVEC_INIT;
    int exists = 0;
    if (L->conn) {
        int rc = history_applied_ids(L->conn, &applied, &exists);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < L->set->n; i++)
        selected[i] = strvec_find(&applied, L->set->v[i]->id) < 0;
    strvec_free(&applied);
    return 0;
}

int strata_migrations_lint(strata_conn *conn, const strata_lint_options *opt,
                           const char *const *versions, size_t n, strata_lint_result **out)
{
    *out = NULL;
    double start = now_seconds();
    linter L;
    memset(&L, 0, sizeof L);
    int rc = lint_options_get(opt, &L.opt);
    if (rc)
        return rc;
    L.conn = conn;
    unsigned all = L.opt.dialects & ALL;
    L.dialects = all ? all : conn ? 1u << strata_conn_dialect(conn) : ALL;
    migration_set set;
    memset(&set, 0, sizeof set);
    down_plan plan;
    memset(&plan, 0, sizeof plan);
    rc = migrations_load_dir(L.opt.migrations_dir ? L.opt.migrations_dir : "./migrations", &set);
    schema s;
    schema_init(&s);
    if (!rc)
        rc = plan_replay(&set, set.n, &s, &plan);
    schema_free(&s);
    L.set = &set;
    L.plan = &plan;
    if (!rc)
        rc = check_rule_ids(&L);
    int *selected = xcalloc(set.n + 1, sizeof *selected);
    if (!rc)
        rc = select_migrations(&L, versions, n, selected);
    for (int d = 0; d < STRATA_DIALECT_COUNT && !rc; d++) {
        if (!(L.dialects & (1u << d)))
            continue;
        compile_target tg = conn && strata_conn_dialect(conn) == (strata_dialect)d
                                ? compile_target_for(conn)
                                : compile_target_default((strata_dialect)d);
        rc = ops_walk(&set, 0, set.n, selected, &tg, lint_op, lint_migration_end, &L);
    }
    if (!rc)
        rc = files_pass(&L, selected);
    strata_lint_result *r = NULL;
    if (!rc) {
        if (L.n)
            qsort(L.v, L.n, sizeof *L.v, cmp_findings);
        r = xcalloc(1, sizeof *r);
        r->findings = xcalloc(L.n + 1, sizeof *r->findings);
        for (size_t i = 0; i < L.n; i++) {
            if (L.v[i].suppressed) {
                r->suppressed++;
                finding_free(&L.v[i].f);
                continue;
            }
            r->findings[r->n] = L.v[i].f;
            switch (r->findings[r->n].severity) {
            case STRATA_LINT_ERROR:
                r->errors++;
                break;
            case STRATA_LINT_WARNING:
                r->warnings++;
                break;
            case STRATA_LINT_NOTICE:
                r->notices++;
                break;
            }
            r->n++;
        }
        L.n = 0;
        for (size_t i = 0; i < set.n; i++)
            r->migrations += selected[i] != 0;
        r->dialects = L.dialects;
        r->seconds = now_seconds() - start;
    }
    for (size_t i = 0; i < L.n; i++)
        finding_free(&L.v[i].f);
    free(L.v);
    free(selected);
    strvec_free(&L.counts);
    strvec_free(&L.fks_added);
    strvec_free(&L.fks_dropped);
    strvec_free(&L.tables_created);
    strvec_free(&L.pks_dropped);
    strvec_free(&L.columns_added);
    plan_free(&plan);
    migration_set_free(&set);
    *out = r;
    return rc;
}
