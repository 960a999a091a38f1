/*
 * runner.c - applying and reverting migrations on a database: the commands
 * `migrations run|revert|repair|show|validate|sql` and what they share.
 *
 * Guarantees (spec/cli.md, "Migration history and lock"):
 *   - everything pending is parsed, validated and compiled before the first
 *     statement runs; bad input changes nothing;
 *   - on PostgreSQL and SQLite each migration runs in its own transaction
 *     with its history row written in the same transaction;
 *   - on MySQL/MariaDB (and for "transaction": false migrations) progress is
 *     recorded after every operation; a failing operation makes the runner
 *     apply the inverses of the operations already applied, so the schema is
 *     as before the migration; if that undo fails too the migration is left
 *     `partial` and only `migrations repair` lets a run continue (apply.c);
 *   - a process killed mid-migration leaves a `running` row (MySQL, and
 *     "transaction": false) that the next run undoes and re-applies (or, if
 *     every op had run, records as done); on PostgreSQL and SQLite the
 *     transaction simply never committed;
 *   - two runners never apply a migration twice: each holds the migration
 *     lock for the whole command, taken before the history is read; it dies
 *     with its holder, so a killed process never leaves it behind (lock.c);
 *     on SQLite the history is also re-read inside each migration's
 *     transaction.
 *
 * runner.h says which file does what.
 */
#include "runner.h"
#include "options.h"

#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Lines of progress go to the caller's log callback, if it set one: the
 * library prints nothing itself. */
static void vsay(runner *r, strata_log_level level, const char *fmt, va_list ap)
{
    if (!r->opt->log_cb)
        return;
    sbuf b = SBUF_INIT;
    sbuf_vaddf(&b, fmt, ap);
    r->opt->log_cb(level, sbuf_str(&b), r->opt->log_payload);
    sbuf_free(&b);
}

void say(runner *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(r, STRATA_LOG_INFO, fmt, ap);
    va_end(ap);
}

void say_warning(runner *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(r, STRATA_LOG_WARNING, fmt, ap);
    va_end(ap);
}

static void make_run_id(char out[33])
{
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        unsigned long long x =
            (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
        memcpy(bytes, &x, sizeof x);
        memcpy(bytes + 8, &x, sizeof x);
    }
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", bytes[i]);
    out[32] = '\0';
}

void report_add(strata_report *rep, const migration *m, strata_mig_status st, const hist_row *h)
{
    rep->items = xrealloc(rep->items, (rep->n + 1) * sizeof *rep->items);
    strata_migration_info *it = &rep->items[rep->n++];
    memset(it, 0, sizeof *it);
    it->id = xstrdup(m ? m->id : h->id);
    it->version = xstrdup(m ? m->version : (h->version ? h->version : ""));
    it->name = xstrdup(m ? m->name : (h->name ? h->name : ""));
    it->description = m && m->description ? xstrdup(m->description) : NULL;
    it->status = st;
    if (h) {
        it->applied_at = h->applied_at ? xstrdup(h->applied_at) : NULL;
        it->duration_ms = h->duration_ms;
        it->ops_applied = h->ops_applied;
        it->ops_total = h->ops_total;
    }
    if (m && !it->ops_total)
        it->ops_total = (int)m->up.n;
}

static void report_warn(strata_report *rep, const char *msg)
{
    rep->warnings = xrealloc(rep->warnings, (rep->nwarnings + 2) * sizeof(char *));
    rep->warnings[rep->nwarnings++] = xstrdup(msg);
    rep->warnings[rep->nwarnings] = NULL;
}

void strata_report_free(strata_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        strata_migration_info *it = &r->items[i];
        free(it->id);
        free(it->version);
        free(it->name);
        free(it->description);
        free(it->applied_at);
    }
    free(r->items);
    free(r->sql);
    for (size_t i = 0; i < r->nwarnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
    free(r);
}

/* Set up a command: options, compile target, run id, the migrations
 * loaded, validated and their downs derived (conn is NULL offline). */
static int runner_init(runner *r, strata_conn *conn, const strata_options *opt)
{
    memset(r, 0, sizeof *r);
    r->conn = conn;
    r->opt = &r->options;
    int rc = options_get(opt, &r->options);
    if (rc)
        return rc;
    opt = r->opt;
    if (conn)
        r->tg = compile_target_for(conn);
    make_run_id(r->run_id);
    r->report = xcalloc(1, sizeof *r->report);
    const char *dir = opt->migrations_dir ? opt->migrations_dir : "./migrations";
    rc = migrations_load_dir(dir, &r->set);
    if (rc)
        return rc;
    r->report->total = r->set.n;
    for (size_t i = 0; i < r->set.warnings.n; i++)
        report_warn(r->report, r->set.warnings.v[i]);
    /* validate everything offline and derive the downs */
    return plan_derive(r);
}

static void runner_free(runner *r)
{
    if (r->model_live)
        schema_free(&r->model);
    migration_set_free(&r->set);
    plan_free(&r->plan);
    history_free(&r->hist);
}

/* ---- preparing a change ---- */

/* Refuse to go on while a migration is partial; undo interrupted ones. */
static int check_history_state(runner *r)
{
    for (size_t i = 0; i < r->hist.n; i++) {
        hist_row *h = &r->hist.v[i];
        if (strcmp(h->state, "partial") == 0)
            return strata_set_error(STRATA_ESTATE,
                                    "migration %s is partially applied (%d of %d operations); "
                                    "fix the database, then run `strata migrations repair`",
                                    h->id, h->ops_applied, h->ops_total);
    }
    for (size_t i = 0; i < r->hist.n; i++) {
        hist_row *h = &r->hist.v[i];
        if (strcmp(h->state, "running") == 0) {
            int rc = apply_recover(r, h);
            if (rc)
                return rc;
        }
    }
    history_free(&r->hist);
    return history_load(r->conn, &r->hist);
}

static int check_checksums(runner *r)
{
    for (size_t i = 0; i < r->hist.n; i++) {
        const hist_row *h = &r->hist.v[i];
        int idx = migration_index(r, h->id);
        if (idx < 0) {
            char *w = xasprintf("applied migration %s has no file in %s", h->id,
                                r->opt->migrations_dir ? r->opt->migrations_dir : "./migrations");
            report_warn(r->report, w);
            say_warning(r, "%s", w);
            free(w);
            continue;
        }
        if (strcmp(h->state, "applied") == 0 && strcmp(h->checksum, r->set.v[idx]->checksum) != 0)
            return strata_set_error(STRATA_ESTATE,
                                    "migration %s was changed after it was applied (checksum %.12s "
                                    "in the history, %.12s in %s); restore the file, or write a "
                                    "new migration for the change",
                                    h->id, h->checksum, r->set.v[idx]->checksum,
                                    r->set.v[idx]->path);
    }
    return 0;
}

/* Before run or revert changes anything: take the lock, make and read the
 * history and refuse a half-done one (a dry run only reads it), and refuse
 * edited applied migrations. */
static int prepare_change(runner *r)
{
    int rc;
    if (!r->opt->dry_run) {
        if ((rc = lock_acquire(r)))
            return rc;
        if ((rc = history_prepare(r)))
            return rc;
        if ((rc = check_history_state(r)))
            return rc;
    } else if ((rc = history_load(r->conn, &r->hist))) {
        return rc;
    }
    return check_checksums(r);
}

/*
 * `migrations run`: the pending migrations in version order (up to --to),
 * refusing one older than an applied one unless --allow-out-of-order; all
 * compiled before the first runs, then applied one by one (or, for a dry
 * run, printed). Assumes prepare_change has run.
 */
/* --single-transaction needs transactional DDL and no "transaction":
 * false migration among them; refused before anything runs. */
static int group_check(runner *r, const compiled *cs, size_t n)
{
    if (apply_group_possible(r, cs, n))
        return 0;
    if (!(r->tg.caps & STRATA_CAP_TRANSACTIONAL_DDL))
        return strata_set_error(STRATA_EINPUT,
                                "--single-transaction: %s cannot roll back schema changes, so "
                                "its migrations cannot share one transaction; run without it",
                                strata_conn_is_mariadb(r->conn) ? "MariaDB" : "MySQL");
    for (size_t k = 0; k < n; k++)
        if (migration_is_progressive(&r->tg, r->set.v[cs[k].index]))
            return strata_set_error(STRATA_EINPUT,
                                    "--single-transaction: migration %s says \"transaction\": "
                                    "false, so it cannot run in the one transaction; run without "
                                    "--single-transaction",
                                    r->set.v[cs[k].index]->id);
    return 0;
}

static int run_impl(runner *r)
{
    const strata_options *opt = r->opt;
    int rc = 0;
    /* pending, in order; out-of-order ones are refused unless allowed */
    const char *max_applied = NULL;
    for (size_t i = 0; i < r->set.n; i++)
        if (history_find(&r->hist, r->set.v[i]->id))
            max_applied = r->set.v[i]->version;
    size_t *pending = xcalloc(r->set.n + 1, sizeof(size_t));
    size_t np = 0;
    for (size_t i = 0; i < r->set.n; i++) {
        const migration *m = r->set.v[i];
        if (history_find(&r->hist, m->id))
            continue;
        if (opt->to && version_cmp(m->version, opt->to) > 0 && strcmp(m->id, opt->to) != 0)
            continue;
        if (max_applied && version_cmp(m->version, max_applied) < 0 && !opt->allow_out_of_order) {
            free(pending);
            return strata_set_error(STRATA_ESTATE,
                                    "migration %s is pending but older than applied migration "
                                    "version %s; run with --allow-out-of-order to apply it",
                                    m->id, max_applied);
        }
        pending[np++] = i;
    }
    /* compile everything before running anything */
    compiled *cs = xcalloc(np + 1, sizeof *cs);
    for (size_t k = 0; k < np && !rc; k++)
        rc = compile_migration(r, pending[k], 0, &cs[k]);
    if (!rc && opt->dry_run) {
        sbuf out = SBUF_INIT;
        for (size_t k = 0; k < np; k++)
            render_compiled(r, &cs[k], &out);
        r->report->sql = sbuf_detach(&out);
        for (size_t k = 0; k < np; k++)
            report_add(r->report, r->set.v[pending[k]], STRATA_MIG_PENDING, NULL);
    }
    int *group_skipped = NULL;
    double group_start = now_seconds();
    if (!rc && !opt->dry_run && opt->single_transaction && np) {
        rc = group_check(r, cs, np);
        group_skipped = xcalloc(np + 1, sizeof *group_skipped);
        if (!rc)
            rc = apply_group(r, cs, np, group_skipped);
    }
    for (size_t k = 0; k < np && !rc && !opt->dry_run; k++) {
        const migration *m = r->set.v[pending[k]];
        double start = group_skipped ? group_start : now_seconds();
        int skipped = 0;
        if (group_skipped)
            skipped = group_skipped[k];
        else
            rc = apply_compiled(r, &cs[k], &skipped);
        if (rc)
            break;
        if (skipped)
            continue;
        hist_row h;
        memset(&h, 0, sizeof h);
        char at[32];
        utc_now(at);
        h.applied_at = at;
        h.duration_ms = (long long)((now_seconds() - start) * 1000);
        h.ops_applied = h.ops_total = (int)m->up.n;
        report_add(r->report, m, STRATA_MIG_APPLIED, &h);
        say(r, "applied  %s (%zu ops, %lld ms)", m->id, m->up.n, h.duration_ms);
    }
    for (size_t k = 0; k < np; k++)
        compiled_free(&cs[k]);
    free(cs);
    free(pending);
    free(group_skipped);
    return rc;
}

/* run or revert: set up, prepare (lock, history, checksums), do, release, report. */
static int with_runner(strata_conn *conn, const strata_options *opt, strata_report **out,
                       int (*impl)(runner *))
{
    runner r;
    int rc = runner_init(&r, conn, opt);
    if (!rc)
        rc = prepare_change(&r);
    if (!rc)
        rc = impl(&r);
    lock_release(&r);
    *out = r.report;
    runner_free(&r);
    return rc;
}

int strata_migrations_run(strata_conn *conn, const strata_options *opt, strata_report **out)
{
    return with_runner(conn, opt, out, run_impl);
}

/*
 * `migrations revert`: the newest applied migrations (--steps, --to or
 * --all), newest first. Refused before anything changes when one of them,
 * or a newer applied one, has no file, or one cannot be reverted. Assumes
 * prepare_change has run.
 */
static int revert_impl(runner *r)
{
    const strata_options *opt = r->opt;
    int rc = 0;
    /* what to revert: applied migrations, newest first */
    size_t *todo = xcalloc(r->set.n + 1, sizeof(size_t));
    size_t nt = 0;
    int steps = opt->all ? -1 : (opt->to ? -1 : (opt->steps > 0 ? opt->steps : 1));
    for (size_t i = r->set.n; i-- > 0;) {
        const migration *m = r->set.v[i];
        if (!history_find(&r->hist, m->id))
            continue;
        if (opt->to && (version_cmp(m->version, opt->to) <= 0 || strcmp(m->id, opt->to) == 0))
            break;
        if (steps >= 0 && (int)nt >= steps)
            break;
        todo[nt++] = i;
    }
    /* applied migrations without files cannot be reverted */
    for (size_t i = 0; i < r->hist.n && nt; i++)
        if (migration_index(r, r->hist.v[i].id) < 0) {
            int newer = 0;
            for (size_t k = 0; k < nt; k++)
                if (version_cmp(r->hist.v[i].version, r->set.v[todo[k]]->version) >= 0)
                    newer = 1;
            if (newer) {
                free(todo);
                return strata_set_error(STRATA_ESTATE,
                                        "applied migration %s has no file; it cannot be reverted",
                                        r->hist.v[i].id);
            }
        }
    if (nt == 0) {
        free(todo);
        say(r, "nothing to revert");
        return 0;
    }
    /* every one must be reversible, checked before touching anything */
    for (size_t k = 0; k < nt; k++)
        if (!r->plan.reversible[todo[k]]) {
            int e = strata_set_error(STRATA_ESTATE, "migration %s cannot be reverted: %s",
                                     r->set.v[todo[k]]->id, r->plan.why[todo[k]]);
            free(todo);
            return e;
        }
    /* todo is newest first; compile oldest first (the model moves forward) */
    compiled *cs = xcalloc(nt + 1, sizeof *cs);
    for (size_t k = nt; k-- > 0 && !rc;)
        rc = compile_migration(r, todo[k], 1, &cs[k]);
    if (!rc && opt->dry_run) {
        sbuf out = SBUF_INIT;
        for (size_t k = 0; k < nt; k++)
            render_compiled(r, &cs[k], &out);
        r->report->sql = sbuf_detach(&out);
    }
    int *group_skipped = NULL;
    double group_start = now_seconds();
    if (!rc && !opt->dry_run && opt->single_transaction) {
        rc = group_check(r, cs, nt);
        group_skipped = xcalloc(nt + 1, sizeof *group_skipped);
        if (!rc)
            rc = apply_group(r, cs, nt, group_skipped);
    }
    for (size_t k = 0; k < nt && !rc && !opt->dry_run; k++) {
        const migration *m = r->set.v[todo[k]];
        double start = group_skipped ? group_start : now_seconds();
        int skipped = 0;
        if (group_skipped)
            skipped = group_skipped[k];
        else
            rc = apply_compiled(r, &cs[k], &skipped);
        if (rc || skipped)
            continue;
        hist_row h;
        memset(&h, 0, sizeof h);
        h.duration_ms = (long long)((now_seconds() - start) * 1000);
        h.ops_applied = h.ops_total = (int)cs[k].nops;
        report_add(r->report, m, STRATA_MIG_REVERTED, &h);
        say(r, "reverted %s (%zu ops, %lld ms)", m->id, cs[k].nops, h.duration_ms);
    }
    for (size_t k = 0; k < nt; k++)
        compiled_free(&cs[k]);
    free(cs);
    free(todo);
    free(group_skipped);
    return rc;
}

int strata_migrations_revert(strata_conn *conn, const strata_options *opt, strata_report **out)
{
    return with_runner(conn, opt, out, revert_impl);
}

static void status_list(runner *r)
{
    strata_report *rep = r->report;
    for (size_t i = 0; i < r->set.n; i++) {
        const migration *m = r->set.v[i];
        hist_row *h = history_find(&r->hist, m->id);
        strata_mig_status st = STRATA_MIG_PENDING;
        if (h) {
            if (strcmp(h->state, "partial") == 0)
                st = STRATA_MIG_PARTIAL;
            else if (strcmp(h->state, "running") == 0)
                st = STRATA_MIG_RUNNING;
            else if (strcmp(h->checksum, m->checksum) != 0)
                st = STRATA_MIG_CHANGED;
            else
                st = STRATA_MIG_APPLIED;
        }
        report_add(rep, m, st, h);
        if (st == STRATA_MIG_PENDING)
            rep->pending++;
        else if (st != STRATA_MIG_APPLIED)
            rep->problems++;
    }
    for (size_t i = 0; i < r->hist.n; i++)
        if (migration_index(r, r->hist.v[i].id) < 0) {
            report_add(rep, NULL, STRATA_MIG_MISSING_FILE, &r->hist.v[i]);
            rep->problems++;
        }
}

int strata_migrations_status(strata_conn *conn, const strata_options *opt, strata_report **out)
{
    runner r;
    int rc = runner_init(&r, conn, opt);
    if (!rc && conn)
        rc = history_load(conn, &r.hist);
    if (!rc)
        status_list(&r);
    *out = r.report;
    runner_free(&r);
    return rc;
}

/* Compile ops (migration i's up or down) from state s for validation,
 * leaving s in the state after them; the SQL is thrown away. */
static int validate_compile(runner *r, schema *s, size_t i, const op_list *ops)
{
    model_begin_migration(s, (int)i);
    stmt_list *per = xcalloc(ops->n + 1, sizeof *per);
    int rc = compile_ops(&r->tg, s, r->set.v[i], ops, per, NULL);
    for (size_t j = 0; j < ops->n; j++)
        stmt_list_free(&per[j]);
    free(per);
    return rc;
}

/* `migrations validate`: compile every migration up, and down where it is
 * reversible, for every dialect offline; with a connection, also refuse
 * applied migrations that changed, lost their file or are half done. */
int strata_migrations_validate(strata_conn *conn, const strata_options *opt, strata_report **out)
{
    runner r;
    int rc = runner_init(&r, conn, opt);
    /* compile every migration up and down for every dialect */
    for (int d = 0; d < STRATA_DIALECT_COUNT && !rc; d++) {
        compile_target saved = r.tg;
        r.tg = compile_target_default((strata_dialect)d);
        schema s;
        schema_init(&s);
        for (size_t i = 0; i < r.set.n && !rc; i++)
            rc = validate_compile(&r, &s, i, &r.set.v[i]->up);
        /* The downs in the order `revert --all` runs them, each from the
         * state the ones after it left: one model walked back, not a copy
         * of the schema per migration (which made validating n migrations
         * O(n^2)). Below an irreversible migration the walk starts again
         * from the state its `up`s build. */
        int walked = 1;
        for (size_t i = r.set.n; i-- > 0 && !rc;) {
            if (!r.plan.reversible[i]) {
                walked = 0;
                continue;
            }
            if (!walked) {
                schema_free(&s);
                schema_init(&s);
                for (size_t j = 0; j <= i && !rc; j++)
                    rc = validate_compile(&r, &s, j, &r.set.v[j]->up);
                walked = 1;
            }
            if (!rc)
                rc = validate_compile(&r, &s, i, &r.plan.downs[i]);
        }
        schema_free(&s);
        r.tg = saved;
    }
    if (!rc && conn) {
        rc = history_load(conn, &r.hist);
        if (!rc) {
            status_list(&r);
            if (r.report->problems) {
                sbuf b = SBUF_INIT;
                for (size_t i = 0; i < r.report->n; i++) {
                    const strata_migration_info *it = &r.report->items[i];
                    if (it->status == STRATA_MIG_CHANGED)
                        sbuf_addf(&b, "%s%s was changed after it was applied", b.len ? "; " : "",
                                  it->id);
                    else if (it->status == STRATA_MIG_MISSING_FILE)
                        sbuf_addf(&b, "%s%s is applied but has no file", b.len ? "; " : "", it->id);
                    else if (it->status == STRATA_MIG_PARTIAL || it->status == STRATA_MIG_RUNNING)
                        sbuf_addf(&b, "%s%s is partially applied", b.len ? "; " : "", it->id);
                }
                rc = strata_set_error(STRATA_EDRIFT, "%s", sbuf_str(&b));
                sbuf_free(&b);
            }
        }
    }
    *out = r.report;
    runner_free(&r);
    return rc;
}

/* `migrations repair`: under the lock, undo each partial or interrupted
 * migration (or, with --mark-applied, record it as done), then realign the
 * checksums of applied migrations whose files were edited. */
int strata_migrations_repair(strata_conn *conn, const strata_options *opt, strata_report **out)
{
    runner r;
    int rc = runner_init(&r, conn, opt);
    if (!rc)
        rc = lock_acquire(&r);
    if (!rc)
        rc = history_prepare(&r);
    int repaired = 0;
    for (size_t i = 0; !rc && i < r.hist.n; i++) {
        hist_row *h = &r.hist.v[i];
        if (strcmp(h->state, "partial") != 0 && strcmp(h->state, "running") != 0)
            continue;
        int idx = migration_index(&r, h->id);
        if (idx < 0) {
            rc = strata_set_error(STRATA_ESTATE, "migration %s is partial but its file is missing",
                                  h->id);
            break;
        }
        const migration *m = r.set.v[idx];
        int down = h->direction && strcmp(h->direction, "down") == 0;
        if (r.opt->mark_applied) {
            rc = down ? history_delete(&r, m->id)
                      : history_update(&r, m, "applied", "up", (int)m->up.n, 0);
            say(&r, "marked %s %s", m->id, down ? "reverted" : "applied");
        } else {
            int remaining = 0;
            rc = undo_ops(&r, (size_t)idx, down, (size_t)h->ops_applied,
                          strcmp(h->state, "running") == 0
                              ? batch_span(&r, (size_t)idx, down, (size_t)h->ops_applied)
                              : 0,
                          &remaining);
            if (rc) {
                history_update(&r, m, "partial", h->direction, remaining, 0);
                strata_error_prefix("repairing %s: ", m->id);
                break;
            }
            rc = down ? history_update(&r, m, "applied", "up", (int)m->up.n, 0)
                      : history_delete(&r, m->id);
            say(&r, "undid the %d applied operation(s) of %s", h->ops_applied, m->id);
        }
        /* applied afterwards: a revert undone, or an apply marked done */
        int applied = r.opt->mark_applied ? !down : down;
        report_add(r.report, m, applied ? STRATA_MIG_APPLIED : STRATA_MIG_PENDING, NULL);
        repaired++;
    }
    /* As Flyway's repair does: applied migrations whose file was edited
     * since (a fixed down, a comment) take the file's checksum, so show,
     * validate, run and revert accept them again. Asked for explicitly. */
    for (size_t i = 0; !rc && i < r.hist.n; i++) {
        hist_row *h = &r.hist.v[i];
        int idx = migration_index(&r, h->id);
        if (idx < 0 || strcmp(h->state, "applied") != 0 ||
            strcmp(h->checksum, r.set.v[idx]->checksum) == 0)
            continue;
        rc = history_set_checksum(&r, h->id, r.set.v[idx]->checksum);
        if (rc)
            break;
        say(&r, "realigned the checksum of %s with its edited file", h->id);
        report_add(r.report, r.set.v[idx], STRATA_MIG_APPLIED, h);
        repaired++;
    }
    if (!rc && !repaired)
        say(&r, "nothing to repair");
    lock_release(&r);
    *out = r.report;
    runner_free(&r);
    return rc;
}

/* `migrations sql`: the script of the selected migrations (all when n is
 * 0) for dialect d's default target, offline; with `down`, their reverts,
 * newest first, and a comment for each irreversible one. */
int strata_migrations_sql(const strata_options *opt, strata_dialect d, int down,
                          const char *const *versions, size_t n, char **out)
{
    *out = NULL;
    runner r;
    int rc = runner_init(&r, NULL, opt);
    r.tg = compile_target_default(d);
    sbuf b = SBUF_INIT;
    for (size_t k = 0; k < n && !rc; k++) {
        int found = 0;
        for (size_t i = 0; i < r.set.n; i++)
            if (strcmp(r.set.v[i]->version, versions[k]) == 0 ||
                strcmp(r.set.v[i]->id, versions[k]) == 0)
                found = 1;
        if (!found)
            rc =
                strata_set_error(STRATA_EINPUT, "no migration with version '%s' in %s", versions[k],
                                 r.opt->migrations_dir ? r.opt->migrations_dir : "./migrations");
    }
    /* the selected migrations, compiled oldest first (the model moves
     * forward), printed newest first for --down */
    size_t *sel = xcalloc(r.set.n + 1, sizeof *sel);
    size_t nsel = 0;
    for (size_t i = 0; i < r.set.n && !rc; i++) {
        const migration *m = r.set.v[i];
        int selected = n == 0;
        for (size_t k = 0; k < n; k++)
            if (strcmp(m->version, versions[k]) == 0 || strcmp(m->id, versions[k]) == 0)
                selected = 1;
        if (selected)
            sel[nsel++] = i;
    }
    compiled *cs = xcalloc(nsel + 1, sizeof *cs);
    for (size_t k = 0; k < nsel && !rc; k++)
        if (!down || r.plan.reversible[sel[k]])
            rc = compile_migration(&r, sel[k], down, &cs[k]);
    for (size_t i = 0; i < nsel && !rc; i++) {
        size_t k = down ? nsel - 1 - i : i;
        const migration *m = r.set.v[sel[k]];
        if (down && !r.plan.reversible[sel[k]])
            sbuf_addf(&b, "-- revert %s: irreversible (%s)\n", m->id, r.plan.why[sel[k]]);
        else
            render_compiled(&r, &cs[k], &b);
    }
    for (size_t k = 0; k < nsel; k++)
        compiled_free(&cs[k]);
    free(cs);
    free(sel);
    if (!rc)
        *out = sbuf_detach(&b);
    sbuf_free(&b);
    strata_report_free(r.report);
    runner_free(&r);
    return rc;
}

int strata_migration_create(const char *dir, const char *name, char **path_out)
{
    *path_out = NULL;
    int rc = migration_name_check(name);
    if (rc)
        return rc;
    /* the name holds no character JSON would escape */
    char *text =
        xasprintf("{\n  \"description\": \"%s\",\n  \"up\": [],\n  \"down\": []\n}\n", name);
    rc = migration_file_write(dir, name, text, path_out);
    free(text);
    return rc;
}
