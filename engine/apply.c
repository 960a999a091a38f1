/*
 * apply.c - running one compiled migration on the database, and undoing
 * one that failed or was interrupted.
 *
 * Where DDL is transactional (PostgreSQL, SQLite) a migration runs in one
 * transaction together with its history row, so it is applied whole or not
 * at all. Where it is not (MySQL/MariaDB), and for "transaction": false
 * migrations, it runs op by op with its progress recorded after each; a
 * failing op makes the runner apply the inverses of the ops already applied,
 * so the schema is as before the migration; if that undo fails too the
 * migration is left `partial` and only `migrations repair` lets a run go on.
 * A process killed mid-migration leaves a `running` row that the next run
 * finishes or undoes (apply_recover).
 */
#include "runner.h"

#include <stdlib.h>
#include <string.h>

static void describe_failure(runner *r, const compiled *c, size_t j)
{
    const migration *m = r->set.v[c->index];
    const op *o = c->ops->v[j];
    /* the op's path says where it is: "up[3]", "down[1]", "inverse of up[2]" */
    strata_error_prefix("migration %s: %s%s (%s): ", m->id, c->down ? "revert: " : "",
                        o->path ? o->path : "", op_names[o->kind]);
}

/* What a transaction with foreign keys off may have broken: the tables its
 * ops changed and those that reference them (after a drop or a delete, whose
 * cascades do not fire with the keys off, those hold what dangles); `all`
 * when an op may have changed any table (raw SQL; an enum change, which
 * rebuilds every table using it). */
typedef struct fk_scope {
    strvec tables;
    int all;
} fk_scope;

static void fk_scope_add(fk_scope *sc, const compiled *c, size_t from, size_t to)
{
    for (size_t j = from; j <= to && j < c->nops; j++) {
        const op *o = c->ops->v[j];
        const char *t = o->kind == OP_RENAME_TABLE ? o->to : o->table;
        switch (o->kind) {
        case OP_SQL:
        case OP_ALTER_ENUM:
            sc->all = 1;
            break;
        default:
            if (t && strvec_find(&sc->tables, t) < 0)
                strvec_push(&sc->tables, t);
        }
    }
}

/*
 * With foreign keys off (SQLite's rebuild), nothing checked the rows the
 * transaction wrote: check before it commits. Only the tables in `sc` and
 * those referencing them (a full check reads every row of every table with
 * a foreign key, which made reverting 200 migrations over a 100,000-row
 * database take 9 s); all of them when the scope says so.
 */
static int check_foreign_keys(runner *r, const fk_scope *sc)
{
    const char *full = fk_violation_query(r->tg.dialect);
    const char *scope_q = fk_scope_query(r->tg.dialect);
    const char *one_q = fk_table_violation_query(r->tg.dialect);
    if (!full)
        return 0;
    static const char why[] = "(foreign keys were off for SQLite's table rebuild; nothing was "
                              "changed)";
    stmt_list l = {0};
    int rc = 0;
    if (sc->all || !scope_q || !one_q) {
        stmt_add_assert(&l, xstrdup(full), xasprintf("rows violate a foreign key %s", why));
    } else {
        strvec check = STRVEC_INIT;
        for (size_t i = 0; i < sc->tables.n && !rc; i++) {
            strata_value v = strata_vtext(sc->tables.v[i]);
            strata_rows *rows;
            rc = strata_conn_query(r->conn, scope_q, &v, 1, &rows);
            while (!rc && strata_rows_next(rows) == 1) {
                const char *t = strata_rows_text(rows, 0);
                if (t && strvec_find(&check, t) < 0)
                    strvec_push(&check, t);
            }
            if (!rc)
                strata_rows_free(rows);
        }
        for (size_t i = 0; i < check.n && !rc; i++) {
            char *lit = strata_quote_literal(r->tg.dialect, check.v[i]);
            const char *q = strchr(one_q, '?');
            char *sql = xasprintf("%.*s%s%s", (int)(q - one_q), one_q, lit, q + 1);
            stmt_add_assert(&l, sql,
                            xasprintf("rows of '%s' violate a foreign key %s", check.v[i], why));
            free(lit);
        }
        strvec_free(&check);
    }
    if (!rc)
        rc = exec_stmts(r->conn, &l, NULL, NULL);
    stmt_list_free(&l);
    return rc;
}

/* Each op's undo is computed from the migration file (undo_statements) and
 * run newest first; the `partial` ops after the applied ones, which may
 * have run in full, in part or not at all (an op that failed halfway; a
 * process killed during a batch, whose one statement may have committed
 * before its progress was recorded), are undone best effort first, newest
 * first, ignoring what was never made. */
int undo_ops(runner *r, size_t idx, int down, size_t upto, size_t partial, int *remaining)
{
    exec_state st = {STRVEC_INIT, 0};
    *remaining = (int)upto;
    size_t nops = down ? r->plan.downs[idx].n : r->set.v[idx]->up.n;
    for (size_t j = upto + partial; j-- > upto;) {
        if (j >= nops)
            continue;
        stmt_list l = {0};
        int rc = undo_statements(r, idx, down, j, &l);
        if (!rc) {
            st.best_effort = 1;
            exec_stmts(r->conn, &l, &st, NULL);
            st.best_effort = 0;
            exec_state_free(&st);
        }
        stmt_list_free(&l);
        strata_error_clear();
    }
    for (size_t j = upto; j-- > 0;) {
        stmt_list l = {0};
        int rc = undo_statements(r, idx, down, j, &l);
        if (!rc)
            rc = exec_stmts(r->conn, &l, &st, NULL);
        stmt_list_free(&l);
        exec_state_free(&st);
        if (rc) {
            strata_error_prefix("undoing op %zu: ", j);
            return rc;
        }
        *remaining = (int)j;
    }
    return 0;
}

/* After op j of a progressive migration failed: undo what it applied and
 * record the outcome (the migration forgotten, or left partial), keeping
 * the op's error. */
static int undo_failed(runner *r, compiled *c, size_t applied, int partial_op)
{
    const migration *m = r->set.v[c->index];
    char *msg = xstrdup(strata_error_message());
    int code = strata_error_code();
    int remaining = 0;
    if (applied)
        say(r, "undoing the %zu applied operation(s) of %s", applied, m->id);
    int urc = undo_ops(r, c->index, c->down, applied, partial_op, &remaining);
    if (urc == 0) {
        if (c->down)
            history_update(r, m, "applied", "up", (int)m->up.n, 0);
        else
            history_delete(r, m->id);
        strata_set_error(code,
                         "%s (the migration's applied operations were undone; the schema is as "
                         "before it)",
                         msg);
    } else {
        char *umsg = xstrdup(strata_error_message());
        history_update(r, m, "partial", c->down ? "down" : "up", remaining, 0);
        strata_set_error(STRATA_ESTATE,
                         "%s; undoing it failed too (%s): migration %s is left partial - fix the "
                         "database, then run `strata migrations repair`",
                         msg, umsg, m->id);
        free(umsg);
    }
    free(msg);
    return strata_error_code();
}

/*
 * One step of a progressive migration: the statements `l` of a batch or of
 * one op whose last op is `last`; then its progress, the number of ops
 * done, or the final state after the last. Where every schema change can
 * run inside a transaction (SQLite) the step commits together with its
 * progress. For one op, *op_done says whether it ran in full and *failed
 * which of its statements failed.
 */
static int run_step(runner *r, compiled *c, const stmt_list *l, size_t last, int op_tx,
                    double start, int *op_done, size_t *failed)
{
    const migration *m = r->set.v[c->index];
    const char *dir = c->down ? "down" : "up";
    exec_state st = {STRVEC_INIT, 0};
    const char *fk_off = stmt_list_needs_fk_off(l) ? fk_enforcement_sql(r->tg.dialect, 0) : NULL;
    int rc = 0;
    if (fk_off)
        strata_conn_exec(r->conn, fk_off);
    if (op_tx)
        rc = strata_conn_begin(r->conn);
    if (!rc)
        rc = exec_stmts(r->conn, l, &st, failed);
    if (!rc && fk_off) {
        fk_scope sc = {STRVEC_INIT, 0};
        size_t first = last;
        for (size_t b = 0; b < c->nbatches; b++)
            if (c->batches[b].last == last && l == &c->batches[b].stmts)
                first = c->batches[b].first;
        fk_scope_add(&sc, c, first, last);
        rc = check_foreign_keys(r, &sc);
        strvec_free(&sc.tables);
    }
    /* the step ran in full; from here on an undo must include it */
    if (op_done)
        *op_done = !rc;
    /* After the last op the final state is written at once (one round trip
     * less per migration). */
    if (!rc && last + 1 < c->nops)
        rc = history_update(r, m, "running", dir, (int)last + 1, 0);
    else if (!rc)
        rc = c->down ? history_delete(r, m->id)
                     : history_update(r, m, "applied", "up", (int)c->nops,
                                      (long long)((now_seconds() - start) * 1000));
    if (op_tx) {
        if (rc) {
            strata_conn_rollback(r->conn);
        } else if ((rc = strata_conn_commit(r->conn)) != 0) {
            char *msg = xstrdup(strata_error_message());
            strata_conn_exec(r->conn, "ROLLBACK"); /* a failed COMMIT may leave it open */
            strata_set_error(rc, "commit: %s", msg);
            free(msg);
        }
        if (rc && op_done) { /* rolled back: nothing of the op stays */
            *op_done = 0;
            *failed = 0;
        }
    }
    if (fk_off)
        strata_conn_exec(r->conn, fk_enforcement_sql(r->tg.dialect, 1));
    exec_state_free(&st);
    return rc;
}

/*
 * Run a compiled migration op by op, recording progress after each (MySQL,
 * and "transaction": false), and undo it on failure. Where every schema
 * change can run inside a transaction (SQLite), each op commits together
 * with its progress, so a kill never leaves an applied op unrecorded;
 * elsewhere DDL commits by itself, or the migration asked to run outside a
 * transaction, and the undo of an interrupted op is best effort.
 */
static int run_progressive(runner *r, compiled *c)
{
    const migration *m = r->set.v[c->index];
    const char *dir = c->down ? "down" : "up";
    double start = now_seconds();
    int rc = c->down ? history_update(r, m, "running", dir, 0, 0)
                     : history_insert(r, m, "running", dir, 0, (int)c->nops, 0);
    if (rc)
        return rc;
    int op_tx = conn_has_trait(r->conn, DRIVER_DDL_ALWAYS_IN_TX);
    size_t j = 0;
    for (size_t b = 0; b < c->nbatches; b++) {
        const op_batch *x = &c->batches[b];
        /* A batch of several ops is one statement, all or nothing (MySQL
         * 8 and MariaDB 10.6 make a DDL statement atomic; an ALTER TABLE
         * changes nothing when it fails on older ones too): when it fails,
         * its ops run again one by one below, so that the error names the
         * op and the undo knows what was applied. */
        size_t next = x->last + 1;
        if (x->last > x->first) {
            rc = run_step(r, c, &x->stmts, x->last, op_tx, start, NULL, NULL);
            if (!rc) {
                j = next;
                continue;
            }
            strata_error_clear();
        }
        for (; j < next; j++) {
            size_t failed = 0;
            int op_done = 0;
            rc = run_step(r, c, &c->per_op[j], j, op_tx, start, &op_done, &failed);
            if (rc) {
                describe_failure(r, c, j);
                return undo_failed(r, c, op_done ? j + 1 : j, !op_done && failed > 0);
            }
        }
    }
    if (c->nops > 0)
        return 0; /* the last op wrote the final state */
    /* an empty explicit down: reverting only forgets the migration */
    if (c->down)
        return history_delete(r, m->id);
    return history_update(r, m, "applied", "up", 0, 0);
}

/* Open the transaction of one migration, or of a group of them, with
 * foreign keys off first when a statement asks for that (SQLite's table
 * rebuild: the pragma does nothing inside a transaction). */
static int tx_open(runner *r, const char *fk_off)
{
    int rc = 0;
    if (fk_off)
        rc = strata_conn_exec(r->conn, fk_off);
    if (!rc)
        rc = strata_conn_begin(r->conn);
    if (rc && fk_off)
        strata_conn_exec(r->conn, fk_enforcement_sql(r->tg.dialect, 1));
    return rc;
}

/* Close it: with rc 0 check the foreign keys (when they were off) and
 * commit; else, or when that fails, roll back, keeping the error and
 * saying so. */
static int tx_close(runner *r, int rc, const char *fk_off, const fk_scope *sc, const char *who,
                    const char *rolled_back, int *fk_failed)
{
    if (!rc && fk_off && (rc = check_foreign_keys(r, sc)) != 0) {
        strata_error_prefix("%s: ", who);
        *fk_failed = 1;
    }
    if (!rc) {
        rc = strata_conn_commit(r->conn);
        if (rc) {
            char *msg = xstrdup(strata_error_message());
            strata_conn_exec(r->conn, "ROLLBACK"); /* a failed COMMIT may leave it open */
            strata_set_error(rc, "%s: commit: %s", who, msg);
            free(msg);
        }
    } else {
        char *msg = xstrdup(strata_error_message());
        int code = strata_error_code();
        strata_conn_rollback(r->conn);
        strata_set_error(code, "%s (%s)", msg, rolled_back);
        free(msg);
    }
    if (fk_off)
        strata_conn_exec(r->conn, fk_enforcement_sql(r->tg.dialect, 1));
    return rc;
}

/* The statements of a migration's batches with every run of plain SQL
 * statements joined into one, separated by ';' (for a driver that runs
 * them in one round trip); checks and statements with flags stay apart. */
static void join_statements(const compiled *c, stmt_list *out)
{
    sbuf run = SBUF_INIT;
    for (size_t b = 0; b < c->nbatches; b++) {
        const stmt_list *l = batch_stmts(c, b);
        for (size_t i = 0; i < l->n; i++) {
            const stmt *s = &l->v[i];
            if (s->kind == STMT_SQL && !s->flags) {
                sbuf_add(&run, run.len ? ";\n" : "");
                sbuf_add(&run, s->sql);
                continue;
            }
            if (run.len)
                stmt_add_owned(out, 0, sbuf_detach(&run));
            stmt *x = NULL;
            if (s->kind == STMT_ASSERT_EMPTY) {
                stmt_add_assert(out, xstrdup(s->sql), xstrdup(s->message));
            } else if (s->kind == STMT_SQL) {
                stmt_add(out, 0, s->sql);
            } else {
                continue; /* SQLite's save/restore: not on such a driver */
            }
            x = &out->v[out->n - 1];
            x->flags = s->flags;
        }
    }
    if (run.len)
        stmt_add_owned(out, 0, sbuf_detach(&run));
    sbuf_free(&run);
}

/*
 * Migration c inside the open transaction: its batches (op by op when
 * `by_op`), then its history row. *skipped: the history, re-read inside the
 * transaction, says another runner did it already. *batch_failed: a batch
 * of several ops failed (the caller rolls back and runs the migration again
 * op by op, so that the error names the op).
 */
static int tx_migration(runner *r, compiled *c, int by_op, int *skipped, int *batch_failed,
                        int check_each)
{
    const migration *m = r->set.v[c->index];
    double start = now_seconds();
    *skipped = *batch_failed = 0;
    int rc = 0;
    /* Where a query costs no round trip (SQLite, in this process), re-read
     * the history under the write lock: an older strata there took no lock
     * file, only the write lock, and may have applied the migration since.
     * Elsewhere every runner holds the migration lock since before it read
     * the history, and the re-read would cost a round trip per migration. */
    if (conn_has_trait(r->conn, DRIVER_EMBEDDED)) {
        char *state = NULL;
        rc = history_state(r, m->id, &state);
        *skipped = !rc && ((!c->down && state) || (c->down && !state));
        free(state);
        if (rc || *skipped)
            return rc;
    }
    exec_state st = {STRVEC_INIT, 0};
    if (by_op) {
        for (size_t j = 0; j < c->nops && !rc; j++) {
            rc = exec_stmts(r->conn, &c->per_op[j], &st, NULL);
            if (!rc && check_each) {
                fk_scope sc = {STRVEC_INIT, 0};
                fk_scope_add(&sc, c, j, j);
                rc = check_foreign_keys(r, &sc);
                strvec_free(&sc.tables);
            }
            if (rc)
                describe_failure(r, c, j);
        }
    } else if (conn_has_trait(r->conn, DRIVER_MULTI_STATEMENT)) {
        /* every statement of the migration in as few round trips as the
         * driver allows; a failure runs it again op by op, to name the op */
        stmt_list joined = {0};
        join_statements(c, &joined);
        rc = exec_stmts(r->conn, &joined, &st, NULL);
        stmt_list_free(&joined);
        if (rc)
            *batch_failed = 1;
    } else {
        for (size_t b = 0; b < c->nbatches && !rc; b++) {
            rc = exec_stmts(r->conn, batch_stmts(c, b), &st, NULL);
            if (rc && c->batches[b].last > c->batches[b].first)
                *batch_failed = 1;
            else if (rc)
                describe_failure(r, c, c->batches[b].first);
        }
    }
    exec_state_free(&st);
    long long ms = (long long)((now_seconds() - start) * 1000);
    if (!rc)
        rc = c->down ? history_delete(r, m->id)
                     : history_insert(r, m, "applied", "up", (int)c->nops, (int)c->nops, ms);
    return rc;
}

/*
 * Run a compiled migration in one transaction with its history row; on a
 * failure roll it back. When a batch of several ops failed, or the foreign
 * keys checked before the commit, the migration runs once more op by op (a
 * check after each op, when foreign keys are off) and is rolled back again,
 * so that the error names the op that fails.
 */
static int run_transactional(runner *r, compiled *c, int *skipped)
{
    const migration *m = r->set.v[c->index];
    const char *fk_off = compiled_needs_fk_off(c) ? fk_enforcement_sql(r->tg.dialect, 0) : NULL;
    int rc = 0;
    for (int by_op = 0; by_op < 2; by_op++) {
        int batch_failed = 0, fk_failed = 0;
        rc = tx_open(r, fk_off);
        if (rc)
            return strata_error_prefix("migration %s: ", m->id);
        rc = tx_migration(r, c, by_op, skipped, &batch_failed, by_op && fk_off);
        if (!rc && *skipped) {
            strata_conn_rollback(r->conn);
            if (fk_off)
                strata_conn_exec(r->conn, fk_enforcement_sql(r->tg.dialect, 1));
            return 0;
        }
        char *who = xasprintf("migration %s", m->id);
        fk_scope sc = {STRVEC_INIT, 0};
        fk_scope_add(&sc, c, 0, c->nops);
        rc = tx_close(r, rc, fk_off, &sc, who, "rolled back; the schema is as before the migration",
                      &fk_failed);
        strvec_free(&sc.tables);
        free(who);
        if (!rc || by_op || !(batch_failed || fk_failed))
            return rc;
    }
    return rc;
}

int apply_group_possible(const runner *r, const compiled *cs, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (migration_is_progressive(&r->tg, r->set.v[cs[k].index]))
            return 0;
    return 1;
}

/*
 * Several migrations in one transaction (--single-transaction, Flyway's
 * group): each with its history row, the foreign keys checked once at the
 * end, one commit; a failure rolls all of them back. As for one migration,
 * a failed batch makes the whole group run again op by op to name the op.
 */
int apply_group(runner *r, compiled *cs, size_t n, int *skipped)
{
    int fk = 0;
    for (size_t k = 0; k < n; k++)
        fk |= compiled_needs_fk_off(&cs[k]);
    const char *fk_off = fk ? fk_enforcement_sql(r->tg.dialect, 0) : NULL;
    int rc = 0;
    for (int by_op = 0; by_op < 2; by_op++) {
        int batch_failed = 0, fk_failed = 0;
        rc = tx_open(r, fk_off);
        if (rc)
            return strata_error_prefix("opening the transaction of the %zu migrations: ", n);
        for (size_t k = 0; k < n && !rc; k++)
            rc = tx_migration(r, &cs[k], by_op, &skipped[k], &batch_failed, by_op && fk_off);
        fk_scope sc = {STRVEC_INIT, 0};
        for (size_t k = 0; k < n; k++)
            fk_scope_add(&sc, &cs[k], 0, cs[k].nops);
        rc = tx_close(r, rc, fk_off, &sc, "the migrations of the transaction",
                      "rolled back with the other migrations of the transaction; the schema is "
                      "as before them",
                      &fk_failed);
        strvec_free(&sc.tables);
        if (!rc || by_op || !(batch_failed || fk_failed))
            return rc;
    }
    return rc;
}

int apply_compiled(runner *r, compiled *c, int *skipped)
{
    *skipped = 0;
    if (migration_is_progressive(&r->tg, r->set.v[c->index]))
        return run_progressive(r, c);
    return run_transactional(r, c, skipped);
}

/*
 * Finish a migration interrupted while running (its row says `running`):
 * record it as done if all its ops had run, else undo the ops it applied.
 * The undo is computed from the file, so the file must be the one that ran
 * (same checksum). An undo that fails leaves the migration `partial`.
 */
int apply_recover(runner *r, hist_row *h)
{
    int idx = migration_index(r, h->id);
    if (idx < 0)
        return strata_set_error(STRATA_ESTATE,
                                "migration %s was interrupted, but its file is missing; restore "
                                "it, then run again",
                                h->id);
    int down = h->direction && strcmp(h->direction, "down") == 0;
    const migration *m = r->set.v[idx];
    if (strcmp(h->checksum, m->checksum) != 0)
        return strata_set_error(STRATA_ESTATE,
                                "migration %s was interrupted, and %s was changed since it "
                                "started (checksum %.12s, now %.12s); restore the file and run "
                                "again (or undo it with `strata migrations repair`)",
                                h->id, m->path, h->checksum, m->checksum);
    /* killed after its last operation but before it was marked done */
    size_t nops = down ? r->plan.downs[idx].n : m->up.n;
    if (h->ops_applied >= 0 && (size_t)h->ops_applied >= nops) {
        say(r,
            "recovering %s: it was interrupted after all its %zu operations; recording it as "
            "%s",
            h->id, nops, down ? "reverted" : "applied");
        if (down)
            return history_delete(r, h->id);
        return history_update(r, m, "applied", "up", (int)nops, 0);
    }
    say(r, "recovering %s: it was interrupted after %d operation(s); undoing them", h->id,
        h->ops_applied);
    int remaining = 0;
    int rc = undo_ops(r, (size_t)idx, down, (size_t)h->ops_applied,
                      batch_span(r, (size_t)idx, down, (size_t)h->ops_applied), &remaining);
    if (rc) {
        char *msg = xstrdup(strata_error_message());
        history_update(r, m, "partial", h->direction, remaining, 0);
        strata_set_error(STRATA_ESTATE,
                         "migration %s was interrupted and undoing it failed (%s); it is left "
                         "partial - fix the database, then run `strata migrations repair`",
                         h->id, msg);
        free(msg);
        return STRATA_ESTATE;
    }
    if (down)
        return history_update(r, m, "applied", "up", (int)m->up.n, 0);
    return history_delete(r, h->id);
}
