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

/* Each op's undo is computed from the migration file (undo_statements) and
 * run newest first; an op that failed halfway is undone best effort first,
 * ignoring what was never made. */
int undo_ops(runner *r, size_t idx, int down, size_t upto, int partial_op, int *remaining)
{
    exec_state st = {STRVEC_INIT, 0};
    *remaining = (int)upto;
    size_t nops = down ? r->plan.downs[idx].n : r->set.v[idx]->up.n;
    if (partial_op && upto < nops) {
        stmt_list l = {0};
        int rc = undo_statements(r, idx, down, upto, &l);
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
    for (size_t j = 0; j < c->nops; j++) {
        exec_state st = {STRVEC_INIT, 0};
        size_t failed = 0;
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
    exec_state st = {STRVEC_INIT, 0};
    for (size_t j = 0; j < c->nops && !rc; j++) {
        rc = exec_stmts(r->conn, &c->per_op[j], &st, NULL);
        if (rc)
            describe_failure(r, c, j);
    }
    exec_state_free(&st);
    long long ms = (long long)((now_seconds() - start) * 1000);
    if (!rc)
        rc = c->down ? history_delete(r, m->id)
                     : history_insert(r, m, "applied", "up", (int)c->nops, (int)c->nops, ms);
    if (!rc) {
        rc = strata_conn_commit(r->conn);
        if (rc) {
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
    int rc = undo_ops(r, (size_t)idx, down, (size_t)h->ops_applied, 1, &remaining);
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
