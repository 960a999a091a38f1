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

/* Each op's undo is computed from the migration file (undo_statements) and
 * run newest first; an op that failed halfway is undone best effort first,
 * ignoring what was never made. Before every step the lock is confirmed
 * with a write (lock_fence): a run that lost it undoes nothing more. */
int undo_ops(runner *r, size_t idx, int down, size_t upto, int partial_op, int *remaining)
{
    exec_state st = EXEC_STATE(r);
    *remaining = (int)upto;
    size_t nops = down ? r->plan.downs[idx].n : r->set.v[idx]->up.n;
    if (partial_op && upto < nops) {
        stmt_list l = {0};
        int rc = lock_fence(r);
        if (rc)
            return rc;
        rc = undo_statements(r, idx, down, upto, &l);
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
static int undo_failed(runner *r, compiled *c, size_t applied, int partial_op)
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
    int urc = undo_interrupted(r, c->index, c->down, applied, partial_op, &remaining);
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
 * and "transaction": false), and undo it on failure. Where every schema
 * change can run inside a transaction (SQLite), each op commits together
 * with its progress, so a kill never leaves an applied op unrecorded; so
 * does an op that only reads or changes rows, everywhere (op_is_data_only).
 * Elsewhere DDL commits by itself, or the migration asked to run outside a
 * transaction, and the undo of an interrupted op is best effort. Ops
 * [first, nops) run; with first > 0 the history row exists already (a
 * recovery going on).
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
    for (size_t j = first; j < c->nops; j++) {
        exec_state st = EXEC_STATE(r);
        size_t failed = 0;
        int op_tx = ddl_tx || op_is_data_only(c, j);
        const char *fk_off =
            stmt_list_needs_fk_off(&c->per_op[j]) ? fk_enforcement_sql(r->tg.dialect, 0) : NULL;
        if (fk_off)
            strata_conn_exec(r->conn, fk_off);
        if (op_tx)
            rc = strata_conn_begin(r->conn);
        if (!rc)
            rc = exec_stmts(r->conn, &c->per_op[j], &st, &failed);
        /* op j ran in full; from here on an undo must include it */
        int op_done = !rc;
        /* After the last op the final state is written at once (one round
         * trip less per migration). */
        if (!rc && j + 1 < c->nops)
            rc = history_update(r, m, "running", dir, (int)j + 1, 0);
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
            if (rc) { /* rolled back: nothing of op j stays */
                op_done = 0;
                failed = 0;
            }
        }
        if (fk_off)
            strata_conn_exec(r->conn, fk_enforcement_sql(r->tg.dialect, 1));
        exec_state_free(&st);
        if (rc == STRATA_ECONNECT)
            return lost_connection(r, c, j, 1);
        if (rc) {
            describe_failure(r, c, j);
            return undo_failed(r, c, op_done ? j + 1 : j, !op_done && failed > 0);
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

/*
 * Run a compiled migration in one transaction with its history row; on a
 * failure roll it back. Foreign keys go off around the transaction when a
 * statement needs that (SQLite's table rebuild: the pragma does nothing
 * inside one). *skipped: the history, re-read inside the transaction, says
 * another runner did it already.
 */
static int run_transactional(runner *r, compiled *c, int *skipped)
{
    const migration *m = r->set.v[c->index];
    const char *fk_off = compiled_needs_fk_off(c) ? fk_enforcement_sql(r->tg.dialect, 0) : NULL;
    double start = now_seconds();
    *skipped = 0;
    int rc = 0;
    if (fk_off)
        rc = strata_conn_exec(r->conn, fk_off);
    if (!rc)
        rc = strata_conn_begin(r->conn);
    if (rc) {
        if (fk_off)
            strata_conn_exec(r->conn, fk_enforcement_sql(r->tg.dialect, 1));
        return strata_error_prefix("migration %s: ", m->id);
    }
    /* Where a query costs no round trip (SQLite, in this process), re-read
     * the history under the write lock: an older strata there took no lock
     * file, only the write lock, and may have applied the migration since.
     * Elsewhere every runner holds the migration lock since before it read
     * the history, and the re-read would cost a round trip per migration. */
    int reread = conn_has_trait(r->conn, DRIVER_EMBEDDED);
    char *state = NULL;
    if (reread)
        rc = history_state(r, m->id, &state);
    if (reread && !rc && ((!c->down && state) || (c->down && !state))) {
        *skipped = 1;
        free(state);
        strata_conn_rollback(r->conn);
        if (fk_off)
            strata_conn_exec(r->conn, fk_enforcement_sql(r->tg.dialect, 1));
        return 0;
    }
    free(state);
    exec_state st = EXEC_STATE(r);
    size_t j = 0; /* where it stopped: c->nops once every op ran */
    for (; j < c->nops && !rc; j++) {
        rc = exec_stmts(r->conn, &c->per_op[j], &st, NULL);
        if (rc == STRATA_ECONNECT)
            break;
        if (rc)
            describe_failure(r, c, j);
    }
    exec_state_free(&st);
    long long ms = (long long)((now_seconds() - start) * 1000);
    if (!rc)
        rc = c->down ? history_delete(r, m->id)
                     : history_insert(r, m, "applied", "up", (int)c->nops, (int)c->nops, ms);
    /* The last write before COMMIT renews the lease on the lock row: a run
     * taking the lock over meanwhile waits for this transaction (row lock)
     * or conflicts with it (Galera certification), so the migration commits
     * only while this run still holds the lock. */
    if (!rc)
        rc = lock_fence(r);
    if (rc == STRATA_ECONNECT) {
        char *msg = xstrdup(strata_error_message());
        strata_conn_rollback(r->conn); /* forgets the transaction; the server did already */
        strata_set_error(STRATA_ECONNECT, "%s", msg);
        free(msg);
        if (fk_off)
            strata_conn_exec(r->conn, fk_enforcement_sql(r->tg.dialect, 1));
        return lost_connection(r, c, j, 0);
    }
    if (!rc) {
        rc = strata_conn_commit(r->conn);
        if (rc == STRATA_ECONNECT) {
            char *msg = xstrdup(strata_error_message());
            strata_set_error(rc,
                             "lost the connection to %s while committing migration %s: %s; "
                             "whether it committed is not known, but its changes and its "
                             "history row commit together, so the next run finds it applied "
                             "or applies it again",
                             strata_conn_url_masked(r->conn), m->id, msg);
            free(msg);
        } else if (rc) {
            char *msg = xstrdup(strata_error_message());
            strata_conn_exec(r->conn, "ROLLBACK"); /* a failed COMMIT may leave it open */
            strata_set_error(rc, "migration %s: commit: %s", m->id, msg);
            free(msg);
        }
    } else {
        char *msg = xstrdup(strata_error_message());
        int code = strata_error_code();
        strata_conn_rollback(r->conn);
        strata_set_error(code, "%s (rolled back; the schema is as before the migration)", msg);
        free(msg);
    }
    if (fk_off)
        strata_conn_exec(r->conn, fk_enforcement_sql(r->tg.dialect, 1));
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

int undo_interrupted(runner *r, size_t idx, int down, size_t upto, int partial_op, int *remaining)
{
    const migration *m = r->set.v[idx];
    long j = first_without_inverse(r, idx, down, upto);
    if (j < 0)
        return undo_ops(r, idx, down, upto, partial_op, remaining);
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
    int rc = undo_interrupted(r, (size_t)idx, down, k, 1, &remaining);
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
