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
#include "sqltext.h"

#include <stdlib.h>
#include <string.h>

/* Between two statements of a migration: is the lock still held? */
static int guard(void *arg)
{
    return lock_check(arg);
}

#define EXEC_STATE(r)                                                                              \
    {                                                                                              \
        STRVEC_INIT, 0, guard, (r)                                                                 \
    }

static void describe_failure(runner *r, const compiled *c, size_t j)
{
    const migration *m = r->set.v[c->index];
    const op *o = c->ops->v[j];
    /* the op's path says where it is: "up[3]", "down[1]", "inverse of up[2]" */
    strata_error_prefix("migration %s: %s%s (%s): ", m->id, c->down ? "revert: " : "",
                        o->path ? o->path : "", op_names[o->kind]);
}

/*
 * The connection died (STRATA_ECONNECT) while migration c ran: at op j, or
 * (j == c->nops) while it was being recorded. No statement can run any
 * more - no undo, no rollback - so the message names the server, the
 * migration and where it stopped, and says what the next run does: a
 * transaction that never committed left nothing; a migration run op by op
 * stays recorded as running and the next run recovers it (apply_recover).
 */
static int lost_connection(runner *r, const compiled *c, size_t j, int progressive)
{
    const migration *m = r->set.v[c->index];
    char *words = str_cut(strata_error_message(), 160);
    char *where = j < c->nops ? xasprintf("%s%s (%s)", c->down ? "revert: " : "",
                                          c->ops->v[j]->path ? c->ops->v[j]->path : "",
                                          op_names[c->ops->v[j]->kind])
                              : xstrdup("recording it in the history");
    const char *next =
        progressive ? "it stays recorded as running; the next run recovers it (undoes what it "
                      "applied, then goes on)"
                    : "its transaction never committed, so nothing of it stays; the next run "
                      "applies it again";
    strata_set_error(STRATA_ECONNECT, "lost the connection to %s during migration %s, %s: %s; %s",
                     strata_conn_url_masked(r->conn), m->id, where, words, next);
    free(where);
    free(words);
    return STRATA_ECONNECT;
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
 * first, ignoring what was never made. Before every step the lock is
 * confirmed with a write (lock_fence): a run that lost it undoes nothing
 * more. */
int undo_ops(runner *r, size_t idx, int down, size_t upto, size_t partial, int *remaining)
{
    exec_state st = EXEC_STATE(r);
    *remaining = (int)upto;
    size_t nops = down ? r->plan.downs[idx].n : r->set.v[idx]->up.n;
    for (size_t j = upto + partial; j-- > upto;) {
        if (j >= nops)
            continue;
        stmt_list l = {0};
        int rc = lock_fence(r);
        if (rc)
            return rc;
        rc = undo_statements(r, idx, down, j, &l);
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
        int rc = lock_fence(r);
        if (!rc)
            rc = undo_statements(r, idx, down, j, &l);
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
 * the op's error. A run that lost the lock undoes nothing: the run that
 * holds it now recovers the migration. */
static int undo_failed(runner *r, compiled *c, size_t applied, size_t partial)
{
    if (lock_lost(r))
        return strata_error_code();
    const migration *m = r->set.v[c->index];
    char *msg = xstrdup(strata_error_message());
    int code = strata_error_code();
    /* the lock first: a run that lost it, or can no longer reach the
     * database to tell, undoes nothing and leaves the row `running` for the
     * next run to recover */
    if (lock_fence(r) != 0) {
        char *why = xstrdup(strata_error_message());
        if (lock_lost(r))
            strata_set_error(STRATA_ELOCK, "%s; then %s", msg, why);
        else
            strata_set_error(code,
                             "%s; the migration lock could not be confirmed (%s), so nothing was "
                             "undone: the next run recovers migration %s",
                             msg, why, m->id);
        free(why);
        free(msg);
        return strata_error_code();
    }
    int remaining = 0;
    if (applied)
        say(r, "undoing the %zu applied operation(s) of %s", applied, m->id);
    int urc = undo_interrupted(r, c->index, c->down, applied, partial, &remaining);
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

/* See runner.h. */
int tx_end(runner *r, int rc)
{
    if (rc) {
        strata_conn_rollback(r->conn);
    } else if ((rc = strata_conn_commit(r->conn)) != 0) {
        char *msg = xstrdup(strata_error_message());
        strata_conn_exec(r->conn, "ROLLBACK"); /* a failed COMMIT may leave it open */
        strata_set_error(rc, "commit: %s", msg);
        free(msg);
    }
    return rc;
}

/*
 * One step of a progressive migration: the statements `l` of a batch or of
 * one op whose last op is `last`; then its progress, the number of ops
 * done, or the final state after the last. In a transaction (op_tx: where
 * every schema change can run inside one, SQLite; or an op that only reads
 * or changes rows) the step commits together with its progress. For one
 * op, *op_done says whether it ran in full and *failed which of its
 * statements failed.
 */
static int run_step(runner *r, compiled *c, const stmt_list *l, size_t last, int op_tx,
                    double start, int *op_done, size_t *failed)
{
    const migration *m = r->set.v[c->index];
    const char *dir = c->down ? "down" : "up";
    exec_state st = EXEC_STATE(r);
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
        rc = tx_end(r, rc);
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

/* Does op j only read or change rows (its every statement: sql_is_data_only)?
 * Then it runs in a transaction with its progress record, even where DDL
 * cannot: a kill leaves it done and recorded, or not done at all. */
static int op_is_data_only(const compiled *c, size_t j)
{
    const stmt_list *l = &c->per_op[j];
    for (size_t i = 0; i < l->n; i++) {
        const stmt *st = &l->v[i];
        if ((st->kind != STMT_SQL && st->kind != STMT_ASSERT_EMPTY) || (st->flags & STMT_NO_TX) ||
            st->cleanup || !sql_is_data_only(st->sql))
            return 0;
    }
    return l->n > 0;
}

/*
 * Run a compiled migration op by op, recording progress after each (MySQL,
 * and "transaction": false), and undo it on failure; consecutive ops that
 * form a batch run as one step. Where every schema change can run inside a
 * transaction (SQLite), each step commits together with its progress, so a
 * kill never leaves an applied op unrecorded; so does an op that only reads
 * or changes rows, everywhere (op_is_data_only). Elsewhere DDL commits by
 * itself, or the migration asked to run outside a transaction, and the undo
 * of an interrupted op (or batch) is best effort. Ops [first, nops) run;
 * with first > 0 the history row exists already (a recovery going on).
 */
static int run_progressive_from(runner *r, compiled *c, size_t first)
{
    const migration *m = r->set.v[c->index];
    const char *dir = c->down ? "down" : "up";
    double start = now_seconds();
    /* the lease renewed just before the first change, so that it cannot
     * run out under it; a recovery going on (first > 0) has its row */
    int rc = lock_fence(r);
    if (!rc && !first)
        rc = c->down ? history_update(r, m, "running", dir, 0, 0)
                     : history_insert(r, m, "running", dir, 0, (int)c->nops, 0);
    if (rc == STRATA_ECONNECT)
        return lost_connection(r, c, c->nops, 0); /* nothing was applied */
    if (rc)
        return rc;
    int ddl_tx = conn_has_trait(r->conn, DRIVER_DDL_ALWAYS_IN_TX);
    size_t j = first;
    for (size_t b = 0; b < c->nbatches; b++) {
        const op_batch *x = &c->batches[b];
        size_t next = x->last + 1;
        if (next <= j)
            continue; /* before `first` */
        /* A batch of several ops is one statement, all or nothing (MySQL
         * 8 and MariaDB 10.6 make a DDL statement atomic; an ALTER TABLE
         * changes nothing when it fails on older ones too): when it fails,
         * its ops run again one by one below, so that the error names the
         * op and the undo knows what was applied. */
        if (x->last > x->first && x->first == j) {
            rc = run_step(r, c, &x->stmts, x->last, ddl_tx, start, NULL, NULL);
            if (rc == STRATA_ECONNECT)
                return lost_connection(r, c, j, 1);
            if (!rc) {
                j = next;
                continue;
            }
            if (lock_lost(r) || conn_was_interrupted(r->conn)) {
                describe_failure(r, c, j);
                return undo_failed(r, c, j, x->last - j + 1);
            }
            strata_error_clear();
        }
        for (; j < next; j++) {
            size_t failed = 0;
            int op_done = 0;
            rc = run_step(r, c, &c->per_op[j], j, ddl_tx || op_is_data_only(c, j), start, &op_done,
                          &failed);
            if (rc == STRATA_ECONNECT)
                return lost_connection(r, c, j, 1);
            if (rc) {
                describe_failure(r, c, j);
                return undo_failed(r, c, op_done ? j + 1 : j, !op_done && failed > 0 ? 1 : 0);
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

static int run_progressive(runner *r, compiled *c)
{
    return run_progressive_from(r, c, 0);
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

/*
 * Close it: with rc 0 check the foreign keys (when they were off), renew
 * the lease and commit; else, or when that fails, roll back, keeping the
 * error and saying so. The last write before COMMIT renews the lease on the
 * lock row (lock_fence): a run taking the lock over meanwhile waits for
 * this transaction (row lock) or conflicts with it (Galera certification),
 * so the migrations commit only while this run still holds the lock. A lost
 * connection (STRATA_ECONNECT) is returned with the driver's words only,
 * and *lost says where: 1 before the COMMIT (nothing committed; the caller
 * says what was lost), 2 during it.
 */
static int tx_close(runner *r, int rc, const char *fk_off, const fk_scope *sc, const char *who,
                    const char *rolled_back, int *fk_failed, int *lost)
{
    *lost = 0;
    if (!rc && fk_off && (rc = check_foreign_keys(r, sc)) != 0 && rc != STRATA_ECONNECT) {
        strata_error_prefix("%s: ", who);
        *fk_failed = 1;
    }
    if (!rc)
        rc = lock_fence(r);
    if (rc == STRATA_ECONNECT) {
        char *msg = xstrdup(strata_error_message());
        strata_conn_rollback(r->conn); /* forgets the transaction; the server did already */
        strata_set_error(STRATA_ECONNECT, "%s", msg);
        free(msg);
        *lost = 1;
    } else if (!rc) {
        rc = strata_conn_commit(r->conn);
        if (rc == STRATA_ECONNECT) {
            char *msg = xstrdup(strata_error_message());
            strata_set_error(rc,
                             "lost the connection to %s while committing %s: %s; whether it "
                             "committed is not known, but the changes and their history rows "
                             "commit together, so the next run finds them applied or applies "
                             "them again",
                             strata_conn_url_masked(r->conn), who, msg);
            free(msg);
            *lost = 2;
        } else if (rc) {
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
 * them in one round trip); checks and statements with flags or a clean-up
 * stay apart, as they are. (*first_op)[i] is the first op of statement i. */
static void join_statements(const compiled *c, stmt_list *out, size_t **first_op)
{
    sbuf run = SBUF_INIT;
    size_t run_op = 0, cap = 0;
    *first_op = NULL;
    for (size_t b = 0; b < c->nbatches; b++) {
        const stmt_list *l = batch_stmts(c, b);
        for (size_t i = 0; i < l->n; i++) {
            const stmt *s = &l->v[i];
            *first_op = xgrow(*first_op, &cap, out->n + 2, sizeof **first_op);
            if (s->kind == STMT_SQL && !s->flags && !s->cleanup) {
                if (!run.len)
                    run_op = c->batches[b].first;
                sbuf_add(&run, run.len ? ";\n" : "");
                sbuf_add(&run, s->sql);
                continue;
            }
            if (run.len) {
                (*first_op)[out->n] = run_op;
                stmt_add_owned(out, 0, sbuf_detach(&run));
            }
            (*first_op)[out->n] = c->batches[b].first;
            stmt_add_copy(out, s);
        }
    }
    *first_op = xgrow(*first_op, &cap, out->n + 2, sizeof **first_op);
    if (run.len) {
        (*first_op)[out->n] = run_op;
        stmt_add_owned(out, 0, sbuf_detach(&run));
    }
    sbuf_free(&run);
}

/*
 * Migration c inside the open transaction: its batches (op by op when
 * `by_op`), then its history row. *skipped: the history, re-read inside the
 * transaction, says another runner did it already. *batch_failed: a batch
 * of several ops failed (the caller rolls back and runs the migration again
 * op by op, so that the error names the op). *stopped: the op where it
 * stopped (c->nops once every op ran), for a lost connection's message.
 */
static int tx_migration(runner *r, compiled *c, int by_op, int *skipped, int *batch_failed,
                        int check_each, size_t *stopped)
{
    const migration *m = r->set.v[c->index];
    double start = now_seconds();
    *skipped = *batch_failed = 0;
    *stopped = c->nops;
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
    exec_state st = EXEC_STATE(r);
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
                *stopped = j;
            if (rc && rc != STRATA_ECONNECT)
                describe_failure(r, c, j);
        }
    } else if (conn_has_trait(r->conn, DRIVER_MULTI_STATEMENT)) {
        /* every statement of the migration in as few round trips as the
         * driver allows; a failure runs it again op by op, to name the op */
        stmt_list joined = {0};
        size_t *first_op, failed = 0;
        join_statements(c, &joined, &first_op);
        rc = exec_stmts(r->conn, &joined, &st, &failed);
        if (rc && failed < joined.n)
            *stopped = first_op[failed];
        if (rc == STRATA_ECONNECT && failed < joined.n && joined.v[failed].sql) {
            /* the driver's words, not the statements of several ops */
            char *prefix = xasprintf("SQL: %s: ", joined.v[failed].sql);
            const char *msg = strata_error_message();
            if (strncmp(msg, prefix, strlen(prefix)) == 0) {
                char *words = xstrdup(msg + strlen(prefix));
                strata_set_error(rc, "%s", words);
                free(words);
            }
            free(prefix);
        }
        stmt_list_free(&joined);
        free(first_op);
        if (rc && rc != STRATA_ECONNECT)
            *batch_failed = 1;
    } else {
        for (size_t b = 0; b < c->nbatches && !rc; b++) {
            rc = exec_stmts(r->conn, batch_stmts(c, b), &st, NULL);
            if (rc)
                *stopped = c->batches[b].first;
            if (rc == STRATA_ECONNECT)
                break;
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
        int batch_failed = 0, fk_failed = 0, lost = 0;
        size_t stopped = c->nops;
        rc = tx_open(r, fk_off);
        if (rc)
            return strata_error_prefix("migration %s: ", m->id);
        rc = tx_migration(r, c, by_op, skipped, &batch_failed, by_op && fk_off, &stopped);
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
                      &fk_failed, &lost);
        strvec_free(&sc.tables);
        free(who);
        if (lost == 1)
            return lost_connection(r, c, stopped, 0);
        if (!rc || by_op || lost || lock_lost(r) || conn_was_interrupted(r->conn) ||
            !(batch_failed || fk_failed))
            return rc;
    }
    return rc;
}

int apply_group_possible(const runner *r, const compiled *cs, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (migration_is_progressive(&r->tg, r->set.v[cs[k].index]) || compiled_needs_no_tx(&cs[k]))
            return 0;
    return 1;
}

/*
 * Several migrations in one transaction (--single-transaction, Flyway's
 * group): each with its history row (fenced, as every history write), the
 * foreign keys checked once at the end, the lease renewed, one commit; a
 * failure rolls all of them back. As for one migration, a failed batch
 * makes the whole group run again op by op to name the op.
 */
int apply_group(runner *r, compiled *cs, size_t n, int *skipped)
{
    int rc = lock_check(r);
    if (rc)
        return rc;
    int fk = 0;
    for (size_t k = 0; k < n; k++)
        fk |= compiled_needs_fk_off(&cs[k]);
    const char *fk_off = fk ? fk_enforcement_sql(r->tg.dialect, 0) : NULL;
    char *who = xasprintf("the %zu migrations of the transaction", n);
    for (int by_op = 0; by_op < 2; by_op++) {
        int batch_failed = 0, fk_failed = 0, lost = 0;
        size_t k = 0, stopped = 0;
        rc = tx_open(r, fk_off);
        if (rc) {
            strata_error_prefix("opening the transaction of %s: ", who);
            break;
        }
        for (; k < n && !rc; k++)
            rc = tx_migration(r, &cs[k], by_op, &skipped[k], &batch_failed, by_op && fk_off,
                              &stopped);
        fk_scope sc = {STRVEC_INIT, 0};
        for (size_t i = 0; i < n; i++)
            fk_scope_add(&sc, &cs[i], 0, cs[i].nops);
        rc = tx_close(r, rc, fk_off, &sc, who,
                      "rolled back with the other migrations of the transaction; the schema is "
                      "as before them",
                      &fk_failed, &lost);
        strvec_free(&sc.tables);
        if (lost == 1) {
            rc = lost_connection(r, &cs[k ? k - 1 : 0], stopped, 0);
            break;
        }
        if (!rc || by_op || lost || lock_lost(r) || conn_was_interrupted(r->conn) ||
            !(batch_failed || fk_failed))
            break;
    }
    free(who);
    return rc;
}

int apply_compiled(runner *r, compiled *c, int *skipped)
{
    *skipped = 0;
    int rc = lock_check(r);
    if (rc)
        return rc;
    if (migration_is_progressive(&r->tg, r->set.v[c->index]) || compiled_needs_no_tx(c))
        return run_progressive(r, c);
    return run_transactional(r, c, skipped);
}

/* ---- undoing what has no inverse ---- */

/* The first of ops [0, upto) of migration idx (direction `down`) that has
 * no inverse (raw SQL), or -1 when each can be undone. */
static long first_without_inverse(runner *r, size_t idx, int down, size_t upto)
{
    for (size_t j = 0; j < upto; j++) {
        stmt_list l = {0};
        int rc = undo_statements(r, idx, down, j, &l);
        stmt_list_free(&l);
        if (rc) {
            strata_error_clear();
            return (long)j;
        }
    }
    return -1;
}

/* Undo an interrupted up with the migration's explicit down, run whole:
 * what the down drops but the interrupted run never made is skipped
 * (STMT_IGNORE_MISSING); any other failure stops it. */
static int undo_by_explicit_down(runner *r, size_t idx)
{
    compiled c;
    int rc = compile_migration(r, idx, 1, &c);
    exec_state st = EXEC_STATE(r);
    for (size_t j = 0; j < c.nops && !rc; j++) {
        for (size_t i = 0; i < c.per_op[j].n; i++)
            c.per_op[j].v[i].flags |= STMT_IGNORE_MISSING;
        rc = exec_stmts(r->conn, &c.per_op[j], &st, NULL);
        if (rc)
            strata_error_prefix("running its down, %s (%s): ", c.ops->v[j]->path,
                                op_names[c.ops->v[j]->kind]);
        exec_state_free(&st);
    }
    compiled_free(&c);
    return rc;
}

int undo_interrupted(runner *r, size_t idx, int down, size_t upto, size_t partial, int *remaining)
{
    const migration *m = r->set.v[idx];
    long j = first_without_inverse(r, idx, down, upto);
    if (j < 0)
        return undo_ops(r, idx, down, upto, partial, remaining);
    *remaining = (int)upto;
    const op_list *ops = down ? &r->plan.downs[idx] : &m->up;
    const char *path = ops->v[j]->path ? ops->v[j]->path : "?";
    const char *kind = op_names[ops->v[j]->kind];
    if (!down && m->down_mode == DOWN_EXPLICIT && m->down.n > 0) {
        say(r, "%s (%s) of %s has no inverse: undoing the migration with its down instead", path,
            kind, m->id);
        int rc = undo_by_explicit_down(r, idx);
        if (!rc)
            *remaining = 0;
        return rc;
    }
    return strata_set_error(STRATA_ESTATE,
                            "%s (%s) cannot be undone: it has no inverse. Either finish "
                            "%s by hand - `strata migrations sql %s%s` shows its SQL; run it from "
                            "%s[%zu] on - then `strata migrations repair --mark-applied`, or undo "
                            "what ran by hand and give it a \"down\" for `strata migrations "
                            "repair`",
                            path, kind, m->id, down ? "--down " : "", m->id, down ? "down" : "up",
                            upto);
}

/* The interrupted op k left nothing half done (it only changes rows, and
 * ran in a transaction with its progress: done and recorded, or rolled
 * back), so the migration can go on from it instead of being undone. */
static int resume_forward(runner *r, size_t idx, int down, size_t k, int *resumed)
{
    compiled c;
    *resumed = 0;
    int rc = compile_migration(r, idx, down, &c);
    if (!rc && k < c.nops && op_is_data_only(&c, k)) {
        say(r,
            "recovering %s: it was interrupted in %s, which changes rows only and left nothing "
            "half done; its %zu applied operation(s) cannot all be undone, so it goes on from "
            "there",
            r->set.v[idx]->id, c.ops->v[k]->path ? c.ops->v[k]->path : "?", k);
        *resumed = 1;
        rc = run_progressive_from(r, &c, k);
    }
    compiled_free(&c);
    return rc;
}

/*
 * Finish a migration interrupted while running (its row says `running`):
 * record it as done if all its ops had run, else undo the ops it applied.
 * The undo is computed from the file, so the file must be the one that ran
 * (same checksum). When an applied op has no inverse (raw SQL), the
 * migration goes on from the interrupted op if that op left nothing half
 * done, or is undone with its explicit down (undo_interrupted); an undo
 * that fails leaves the migration `partial`, the message saying what to
 * check and run.
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
        int arc = history_adopt(r, h);
        if (arc)
            return arc;
        say(r,
            "recovering %s: it was interrupted after all its %zu operations; recording it as "
            "%s",
            h->id, nops, down ? "reverted" : "applied");
        if (down)
            return history_delete(r, h->id);
        return history_update(r, m, "applied", "up", (int)nops, 0);
    }
    size_t k = h->ops_applied > 0 ? (size_t)h->ops_applied : 0;
    if (first_without_inverse(r, (size_t)idx, down, k) >= 0) {
        int resumed = 0;
        int rc = resume_forward(r, (size_t)idx, down, k, &resumed);
        if (resumed || rc)
            return rc;
    }
    say(r, "recovering %s: it was interrupted after %d operation(s); undoing them", h->id,
        h->ops_applied);
    int arc = history_adopt(r, h);
    if (arc)
        return arc;
    int remaining = 0;
    int rc =
        undo_interrupted(r, (size_t)idx, down, k, batch_span(r, (size_t)idx, down, k), &remaining);
    if (rc && lock_lost(r))
        return rc;
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
