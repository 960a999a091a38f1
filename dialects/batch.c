/*
 * batch.c - consecutive operations of a migration on one table as one
 * statement.
 *
 * MySQL/MariaDB rebuild or copy a table for many ALTER TABLE clauses, and
 * PostgreSQL rewrites or scans it for some; one ALTER TABLE with several
 * clauses does that once. So after each operation is compiled on its own,
 * runs of consecutive operations on the same table whose statements are
 * all ALTER TABLE of that table (and run-time checks) are joined into one
 * statement: `ALTER TABLE t <clause>, <clause>, ...`. The operations' own
 * statements are kept: the runner falls back to them op by op when a batch
 * fails, so an error still names the operation that caused it.
 *
 * What is not joined, so that a batch does what its operations do one
 * after the other:
 *   - operations on other tables, or that change several (a type change
 *     with foreign keys in both directions), renames (a clause after a
 *     rename would see other names), raw SQL, DML, enums;
 *   - an operation naming an object (column, index, constraint) that an
 *     earlier operation of the batch names too (drop and re-add);
 *   - on MySQL, a statement the server would then do in a more expensive
 *     way than the separate ones: clauses it does instantly (ADD/DROP
 *     COLUMN, DROP CHECK) with clauses that build an index in place (ADD
 *     INDEX, ADD FOREIGN KEY with the checks off), since together they
 *     rebuild the table; a batch that rebuilds anyway (MODIFY, primary
 *     keys, ADD CHECK) takes both;
 *   - an operation with run-time checks of rows (they run before the
 *     batch's statement) joins only after operations that add keys or
 *     indexes, which change neither rows nor columns;
 *   - MySQL's foreign_key_checks, off for an ADD FOREIGN KEY, is off for
 *     the whole statement: only operations that add keys or indexes share
 *     it.
 *
 * SQLite's ALTER TABLE has one clause per statement; its rebuilds are not
 * joined here.
 */
#include "sqlgen.h"

#include <stdlib.h>
#include <string.h>

/* How MySQL/MariaDB (InnoDB) carries out an operation's clauses. */
enum {
    CLASS_INSTANT = 1, /* metadata only */
    CLASS_INPLACE = 2, /* builds or drops an index, no copy of the rows */
    CLASS_REBUILD = 4, /* rebuilds or copies the table */
};

static unsigned mysql_class(const op *o)
{
    switch (o->kind) {
    case OP_ADD_COLUMN:
    case OP_DROP_COLUMN:
    case OP_DROP_CHECK:
        return CLASS_INSTANT;
    case OP_CREATE_INDEX:
    case OP_ADD_UNIQUE:
    case OP_DROP_INDEX:
    case OP_DROP_UNIQUE:
    case OP_ADD_FOREIGN_KEY:
    case OP_DROP_FOREIGN_KEY:
        return CLASS_INPLACE;
    default:
        return CLASS_REBUILD;
    }
}

/* Operations that may join a batch at all. */
static int joinable_kind(op_kind k)
{
    switch (k) {
    case OP_ADD_COLUMN:
    case OP_DROP_COLUMN:
    case OP_ALTER_COLUMN:
    case OP_CREATE_INDEX:
    case OP_DROP_INDEX:
    case OP_ADD_FOREIGN_KEY:
    case OP_DROP_FOREIGN_KEY:
    case OP_ADD_UNIQUE:
    case OP_DROP_UNIQUE:
    case OP_ADD_PRIMARY_KEY:
    case OP_DROP_PRIMARY_KEY:
    case OP_ADD_CHECK:
    case OP_DROP_CHECK:
        return 1;
    default:
        return 0;
    }
}

/* Operations that only add an index or a key: the ones that may share a
 * statement run with MySQL's foreign_key_checks off (which must not let a
 * drop through that the checks would refuse). */
static int only_adds_key(const op *o)
{
    return o->kind == OP_ADD_FOREIGN_KEY || o->kind == OP_CREATE_INDEX || o->kind == OP_ADD_UNIQUE;
}

/* The names an operation makes, drops or changes. */
static void op_names_touched(const op *o, strvec *out)
{
    if (o->name)
        strvec_push(out, o->name);
    if (o->col && o->col->name)
        strvec_push(out, o->col->name);
    if (o->index && o->index->name)
        strvec_push(out, o->index->name);
    if (o->fk && o->fk->name)
        strvec_push(out, o->fk->name);
    if (o->check && o->check->name)
        strvec_push(out, o->check->name);
    if (o->kind == OP_ADD_PRIMARY_KEY || o->kind == OP_DROP_PRIMARY_KEY)
        strvec_push(out, "PRIMARY KEY");
}

/* "ALTER TABLE <quoted table> " for the op's table. */
static char *alter_prefix(strata_dialect d, const char *table)
{
    char *q = strata_quote_ident(d, table);
    char *p = xasprintf("ALTER TABLE %s ", q);
    free(q);
    return p;
}

/* The clause of ALTER TABLE that a statement of op `o` is: the text after
 * `prefix` ("ALTER TABLE t "), or, on MySQL, for CREATE [UNIQUE] INDEX i ON
 * t (...), the same as ADD [UNIQUE] INDEX i (...). NULL when it is neither
 * (caller frees). */
static char *clause_of(const char *sql, const char *prefix, const op *o, strata_dialect d)
{
    size_t plen = strlen(prefix);
    if (strncmp(sql, prefix, plen) == 0)
        return xstrdup(sql + plen);
    if (d != STRATA_MYSQL || o->kind != OP_CREATE_INDEX || !o->name)
        return NULL;
    char *qn = strata_quote_ident(d, o->name), *qt = strata_quote_ident(d, o->table);
    char *plain = xasprintf("CREATE INDEX %s ON %s ", qn, qt);
    char *unique = xasprintf("CREATE UNIQUE INDEX %s ON %s ", qn, qt);
    char *out = NULL;
    if (strncmp(sql, plain, strlen(plain)) == 0)
        out = xasprintf("ADD INDEX %s %s", qn, sql + strlen(plain));
    else if (strncmp(sql, unique, strlen(unique)) == 0)
        out = xasprintf("ADD UNIQUE INDEX %s %s", qn, sql + strlen(unique));
    free(qn);
    free(qt);
    free(plain);
    free(unique);
    return out;
}

/* The shape of an op's statements: checks, session settings, and ALTER
 * TABLE statements of its own table only. 0 when it cannot join. */
static int op_shape(const stmt_list *l, const char *prefix, const op *o, strata_dialect d,
                    int *has_checks, int *has_session)
{
    int alters = 0;
    *has_checks = *has_session = 0;
    for (size_t i = 0; i < l->n; i++) {
        const stmt *s = &l->v[i];
        if (s->kind == STMT_ASSERT_EMPTY) {
            *has_checks = 1;
            continue;
        }
        if (s->kind != STMT_SQL || (s->flags & ~(unsigned)(STMT_SESSION | STMT_CLEANUP)))
            return 0;
        if (s->flags & STMT_SESSION) {
            *has_session = 1;
            continue;
        }
        char *clause = clause_of(s->sql, prefix, o, d);
        if (!clause)
            return 0;
        free(clause);
        alters++;
    }
    return alters > 0;
}

/* The batch of ops [first, last]: their checks, the session settings once
 * (the one that sets before the ALTER, the one that restores after it), and
 * one ALTER TABLE with every clause. */
static void join(const op_list *ops, const stmt_list *per_op, size_t first, size_t last,
                 const char *prefix, strata_dialect d, stmt_list *out)
{
    const char *set = NULL, *restore = NULL;
    for (size_t j = first; j <= last; j++)
        for (size_t i = 0; i < per_op[j].n; i++) {
            const stmt *s = &per_op[j].v[i];
            if (s->kind == STMT_ASSERT_EMPTY) {
                stmt_add_assert(out, xstrdup(s->sql), xstrdup(s->message));
                out->v[out->n - 1].flags = s->flags;
            } else if ((s->flags & STMT_SESSION) && (s->flags & STMT_CLEANUP)) {
                restore = s->sql;
            } else if (s->flags & STMT_SESSION) {
                set = s->sql;
            }
        }
    if (set)
        stmt_add(out, STMT_SESSION, set);
    sbuf b = SBUF_INIT;
    sbuf_add(&b, prefix);
    int any = 0;
    for (size_t j = first; j <= last; j++)
        for (size_t i = 0; i < per_op[j].n; i++) {
            const stmt *s = &per_op[j].v[i];
            if (s->kind != STMT_SQL || (s->flags & STMT_SESSION))
                continue;
            char *clause = clause_of(s->sql, prefix, ops->v[j], d);
            if (any)
                sbuf_add(&b, ", ");
            sbuf_add(&b, clause);
            free(clause);
            any = 1;
        }
    stmt_add_owned(out, 0, sbuf_detach(&b));
    if (restore)
        stmt_add(out, STMT_SESSION | STMT_CLEANUP, restore);
}

void op_batches_free(op_batch *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        stmt_list_free(&b[i].stmts);
    free(b);
}

/* See compile.h. */
int batch_ops(const compile_target *tg, const op_list *ops, const stmt_list *per_op, op_batch **out,
              size_t *nout)
{
    op_batch *v = xcalloc(ops->n + 1, sizeof *v);
    size_t n = 0;
    int mysql = tg->dialect == STRATA_MYSQL;
    int joins = tg->dialect != STRATA_SQLITE;
    size_t j = 0;
    while (j < ops->n) {
        const op *o = ops->v[j];
        size_t last = j;
        char *prefix = o->table ? alter_prefix(tg->dialect, o->table) : NULL;
        int checks, session;
        if (joins && prefix && joinable_kind(o->kind) &&
            op_shape(&per_op[j], prefix, o, tg->dialect, &checks, &session)) {
            strvec names = STRVEC_INIT;
            op_names_touched(o, &names);
            unsigned classes = mysql_class(o);
            int any_session = session, all_add = only_adds_key(o);
            for (size_t k = j + 1; k < ops->n; k++) {
                const op *x = ops->v[k];
                /* checks run before the batch's statement: only the first
                 * op's, which would run before its own anyway */
                if (!x->table || strcmp(x->table, o->table) != 0 || !joinable_kind(x->kind) ||
                    !op_shape(&per_op[k], prefix, x, tg->dialect, &checks, &session) ||
                    (checks && !all_add))
                    break;
                if ((session || any_session) && !(all_add && only_adds_key(x)))
                    break;
                strvec xn = STRVEC_INIT;
                op_names_touched(x, &xn);
                int clash = 0;
                for (size_t i = 0; i < xn.n && !clash; i++)
                    clash = strvec_find(&names, xn.v[i]) >= 0;
                unsigned cl = classes | mysql_class(x);
                if (mysql && !(cl & CLASS_REBUILD) && (cl & CLASS_INSTANT) && (cl & CLASS_INPLACE))
                    clash = 1;
                if (clash) {
                    strvec_free(&xn);
                    break;
                }
                for (size_t i = 0; i < xn.n; i++)
                    strvec_push(&names, xn.v[i]);
                strvec_free(&xn);
                classes = cl;
                any_session |= session;
                all_add &= only_adds_key(x);
                last = k;
            }
            strvec_free(&names);
        }
        op_batch *b = &v[n++];
        b->first = j;
        b->last = last;
        if (last > j)
            join(ops, per_op, j, last, prefix, tg->dialect, &b->stmts);
        free(prefix);
        j = last + 1;
    }
    *out = v;
    *nout = n;
    return 0;
}
