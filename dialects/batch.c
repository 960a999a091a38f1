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
 *     rename would see other names), raw SQL, DML, enums, "online"
 *     operations (their clauses ask for an algorithm and a lock; their
 *     statements may carry a clean-up);
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
 * SQLite's ALTER TABLE has one clause per statement; there a run of
 * operations on one table that includes a rebuild becomes one rebuild from
 * the table before the run to the table after it (rebuild_runs, found while
 * the ops are compiled, since it needs the table before the run): the rows
 * are copied once, the schema rewritten and re-read once, instead of once
 * per rebuild and once per ADD/DROP COLUMN. Joined there: columns added
 * and dropped, a column altered (once in the run), keys, checks and indexes
 * added and dropped; not: renames, primary keys, serial columns (triggers
 * and counters of their own), a name the run names already, and an op with
 * run-time checks after an op that changes columns.
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
    if (o->online)
        return 0; /* its own statements, with their algorithm and lock clauses */
    for (size_t i = 0; i < l->n; i++) {
        const stmt *s = &l->v[i];
        if (s->kind == STMT_ASSERT_EMPTY) {
            *has_checks = 1;
            continue;
        }
        if (s->kind != STMT_SQL || (s->flags & ~(unsigned)(STMT_SESSION | STMT_CLEANUP)) ||
            s->cleanup || s->guard)
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

/* ---- SQLite: runs of one table as one rebuild ---- */

static int rebuild_joinable(const op *o, const table *before)
{
    switch (o->kind) {
    case OP_ADD_COLUMN:
        return o->col && !type_is_serial(o->col->type.kind) && !o->restore;
    case OP_DROP_COLUMN: {
        const column *c = before ? table_column(before, o->name) : NULL;
        return c && !type_is_serial(c->type.kind);
    }
    case OP_ALTER_COLUMN: {
        const column *c = before ? table_column(before, o->name) : NULL;
        return c && !type_is_serial(c->type.kind) && !(o->col && type_is_serial(o->col->type.kind));
    }
    case OP_ADD_FOREIGN_KEY:
    case OP_DROP_FOREIGN_KEY:
    case OP_ADD_CHECK:
    case OP_DROP_CHECK:
    case OP_CREATE_INDEX:
    case OP_DROP_INDEX:
    case OP_ADD_UNIQUE:
    case OP_DROP_UNIQUE:
        return 1;
    default:
        return 0;
    }
}

/* Ops that change no column: what a later op's checks may run before. */
static int rebuild_plain(const op *o)
{
    return o->kind != OP_ADD_COLUMN && o->kind != OP_DROP_COLUMN && o->kind != OP_ALTER_COLUMN;
}

static int has_checks(const stmt_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].kind == STMT_ASSERT_EMPTY)
            return 1;
    return 0;
}

static int rebuilds(const stmt_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].kind == STMT_SQLITE_SAVE_DEPS)
            return 1;
    return 0;
}

/* Close the open run: a batch when it holds two ops or more, one of which
 * rebuilds (else the ops' own statements are as good). */
static void run_close(rebuild_runs *rr)
{
    if (!rr->open)
        return;
    if (rr->last > rr->first && rr->rebuilds && rr->merged.n) {
        rr->v = xgrow(rr->v, &rr->cap, rr->n + 1, sizeof *rr->v);
        op_batch *b = &rr->v[rr->n++];
        b->first = rr->first;
        b->last = rr->last;
        b->stmts = rr->merged;
        memset(&rr->merged, 0, sizeof rr->merged);
    }
    stmt_list_free(&rr->merged);
    table_free_contents(&rr->old);
    strvec_free(&rr->names);
    rr->open = 0;
}

void rebuild_runs_step(rebuild_runs *rr, const compile_target *tg, const schema *after,
                       const table *before, const op_list *ops, size_t j, const stmt_list *per_op,
                       const apply_ctx *ctx)
{
    const op *o = ops->v[j];
    int joinable = o->table && before && rebuild_joinable(o, before);
    strvec xn = STRVEC_INIT;
    if (joinable)
        op_names_touched(o, &xn);
    /* the op's checks run before the run's rebuild, on the table as it was
     * before the run: fine after ops that change no column, and for checks
     * of a column the run has not touched (alter_column's; add_column's of
     * an empty table) */
    int checks_ok = !has_checks(&per_op[j]) || rr->plain || o->kind == OP_ADD_COLUMN ||
                    (o->kind == OP_ALTER_COLUMN && rr->open && table_column(&rr->old, o->name));
    int extend = joinable && rr->open && strcmp(rr->old.name, o->table) == 0 && checks_ok;
    for (size_t i = 0; extend && i < xn.n; i++)
        extend = strvec_find(&rr->names, xn.v[i]) < 0;
    if (!extend) {
        run_close(rr);
        if (joinable) {
            rr->open = 1;
            rr->first = rr->last = j;
            table_copy(&rr->old, before);
            rr->rebuilds = rebuilds(&per_op[j]);
            rr->plain = rebuild_plain(o);
            for (size_t i = 0; i < xn.n; i++)
                strvec_push(&rr->names, xn.v[i]);
        }
        strvec_free(&xn);
        return;
    }
    for (size_t i = 0; i < xn.n; i++)
        strvec_push(&rr->names, xn.v[i]);
    strvec_free(&xn);
    rr->last = j;
    rr->rebuilds += rebuilds(&per_op[j]);
    rr->plain &= rebuild_plain(o);
    if (!rr->rebuilds)
        return; /* nothing to gain yet: the ops' own statements */
    /* the run's rebuild so far: from the table before it to the table now */
    const table *nt = schema_table(after, o->table);
    stmt_list merged = {0};
    if (nt &&
        sqlite_rebuild_run(tg, after, &rr->old, nt, o, ctx, per_op, rr->first, j, &merged) == 0) {
        stmt_list_free(&rr->merged);
        rr->merged = merged;
        return;
    }
    /* cannot be one rebuild: end the run before this op */
    stmt_list_free(&merged);
    strata_error_clear();
    rr->last = j - 1;
    rr->rebuilds -= rebuilds(&per_op[j]);
    run_close(rr);
}

void rebuild_runs_done(rebuild_runs *rr)
{
    run_close(rr);
}

void rebuild_runs_free(rebuild_runs *rr)
{
    run_close(rr);
    op_batches_free(rr->v, rr->n);
    memset(rr, 0, sizeof *rr);
}

void op_batches_free(op_batch *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        stmt_list_free(&b[i].stmts);
    free(b);
}

/* See compile.h. */
int batch_ops(const compile_target *tg, const op_list *ops, const stmt_list *per_op,
              rebuild_runs *runs, op_batch **out, size_t *nout)
{
    op_batch *v = xcalloc(ops->n + 1, sizeof *v);
    size_t n = 0;
    if (tg->dialect == STRATA_SQLITE) {
        size_t r = 0;
        for (size_t j = 0; j < ops->n;) {
            op_batch *b = &v[n++];
            b->first = b->last = j;
            if (runs && r < runs->n && runs->v[r].first == j) {
                /* the run's statements move to the batch */
                b->last = runs->v[r].last;
                b->stmts = runs->v[r].stmts;
                memset(&runs->v[r].stmts, 0, sizeof runs->v[r].stmts);
                r++;
            }
            j = b->last + 1;
        }
        *out = v;
        *nout = n;
        return 0;
    }
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
