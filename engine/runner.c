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
 *     lock for the whole command, taken before the history is read: a lease
 *     row in the database, exclusive across the nodes of a cluster, renewed
 *     while the run goes on and taken over only from a holder known dead
 *     (lock.c); every history write is fenced by it, so a run that lost it
 *     stops at its next step and undoes nothing; an interrupted migration
 *     is recovered only under the lock, after its run was found dead;
 *   - before anything changes, a standby, a Galera session whose DDL would
 *     not replicate (RSU) and, under REQUIRED_PRIMARY_KEY, a table without
 *     a primary key are refused; on SQLite the history is also re-read
 *     inside each migration's transaction.
 *
 * runner.h says which file does what.
 */
#include "introspect.h"
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

/* Where a run or revert stands, to the caller's progress callback: as
 * migration `number` of `total` starts, and once it is done. */
static void progress_migration(runner *r, const migration *m, size_t number, size_t total, int down,
                               int done, double started)
{
    if (!r->opt->progress_cb)
        return;
    strata_migration_progress p;
    memset(&p, 0, sizeof p);
    p.id = m->id;
    p.number = number;
    p.total = total;
    p.down = down;
    p.done = done;
    p.seconds = now_seconds() - started;
    r->opt->progress_cb(&p, r->opt->progress_payload);
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
    rep->when = xrealloc(rep->when, rep->n * sizeof *rep->when);
    rep->when[rep->n - 1] = m ? flags_describe(m) : NULL;
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

void warn(runner *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sbuf b = SBUF_INIT;
    sbuf_vaddf(&b, fmt, ap);
    va_end(ap);
    report_warn(r->report, sbuf_str(&b));
    say_warning(r, "%s", sbuf_str(&b));
    sbuf_free(&b);
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
        if (r->when)
            free(r->when[i]);
    }
    free(r->when);
    for (size_t i = 0; i < r->nflags; i++)
        free(r->flag_names[i]);
    free(r->flag_names);
    free(r->flag_values);
    for (size_t i = 0; i < r->nunmatched; i++)
        free(r->unmatched[i]);
    free(r->unmatched);
    free(r->items);
    free(r->sql);
    for (size_t i = 0; i < r->nwarnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
    free(r);
}

/* The flags and their values, into the report. */
static void report_flags(strata_report *rep, const flagset *f)
{
    rep->nflags = f->names.n;
    rep->flag_names = xcalloc(f->names.n + 1, sizeof *rep->flag_names);
    rep->flag_values = xcalloc(f->names.n + 1, sizeof *rep->flag_values);
    for (size_t i = 0; i < f->names.n; i++) {
        rep->flag_names[i] = xstrdup(f->names.v[i]);
        rep->flag_values[i] = f->on[i];
    }
}

/* Set up a command: options, compile target, run id, the migrations
 * loaded, the flags resolved, the history read (with a connection), the
 * migrations that apply chosen, validated and their downs derived (conn is
 * NULL offline). `present_only`: only what the database has (revert).
 * `lenient` is for the commands that need only the applied migrations
 * (revert, show): a file that does not load is kept aside in
 * r->all.broken, and one that does not validate ends the replay there
 * (r->valid_upto, r->invalid_error) - for the command to judge - instead
 * of failing the setup. */
static int runner_setup(runner *r, strata_conn *conn, const strata_options *opt, int present_only,
                        int lenient)
{
    memset(r, 0, sizeof *r);
    r->present_only = present_only;
    r->conn = conn;
    r->opt = &r->options;
    int rc = options_get(opt, &r->options);
    if (rc)
        return rc;
    opt = r->opt;
    if (conn) {
        r->tg = compile_target_for(conn);
        compile_target_read_collation(conn, &r->tg);
    }
    make_run_id(r->run_id);
    r->report = xcalloc(1, sizeof *r->report);
    const char *dir = opt->migrations_dir ? opt->migrations_dir : "./migrations";
    rc = migrations_load(dir, lenient ? MIGRATIONS_KEEP_BROKEN : 0, &r->all);
    if (rc)
        return rc;
    r->report->total = r->all.n + r->all.nbroken;
    for (size_t i = 0; i < r->all.warnings.n; i++)
        warn(r, "%s", r->all.warnings.v[i]);
    rc = flags_resolve(&r->all, opt->flags, opt->nflags, &r->flags);
    if (rc)
        return rc;
    report_flags(r->report, &r->flags);
    /* the history as every node sees it (Galera: wsrep_sync_wait) */
    if (conn && ((rc = conn_cluster_info(conn, &r->cluster)) != 0 ||
                 (rc = history_load(conn, &r->hist)) != 0))
        return rc;
    /* choose, validate everything offline and derive the downs */
    rc = plan_select(r);
    r->valid_upto = rc ? r->plan.replayed : r->set.n;
    if (rc && lenient && r->in_set) {
        r->invalid_error = xstrdup(strata_error_message());
        strata_error_clear();
        rc = 0;
    }
    return rc;
}

static int runner_init(runner *r, strata_conn *conn, const strata_options *opt, int present_only)
{
    return runner_setup(r, conn, opt, present_only, 0);
}

static void runner_free(runner *r)
{
    if (r->model_live)
        schema_free(&r->model);
    free(r->set.v);
    free(r->in_set);
    flagset_free(&r->flags);
    migration_set_free(&r->all);
    plan_free(&r->plan);
    history_free(&r->hist);
    free(r->invalid_error);
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

/* Warn about applied migrations that have no file. */
static void warn_missing_files(runner *r)
{
    for (size_t i = 0; i < r->hist.n; i++) {
        const hist_row *h = &r->hist.v[i];
        if (migration_index(r, h->id) < 0)
            warn(r, "applied migration %s has no file in %s", h->id,
                 r->opt->migrations_dir ? r->opt->migrations_dir : "./migrations");
    }
}

static int check_checksums(runner *r)
{
    for (size_t i = 0; i < r->hist.n; i++) {
        const hist_row *h = &r->hist.v[i];
        int idx = migration_index(r, h->id);
        if (idx < 0)
            continue;
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

/*
 * Galera replicates a table without a primary key poorly (each row event of
 * it is applied by scanning the table, and DELETEs may leave the nodes
 * different), and with wsrep_mode=REQUIRED_PRIMARY_KEY it refuses to make
 * one (ERROR 4165, halfway through a migration). So, on Galera, the
 * operations about to run that leave a table without a primary key are a
 * warning, or, under REQUIRED_PRIMARY_KEY, an error before anything runs.
 * (A table made by raw SQL is not seen.)
 */
static int check_primary_keys(runner *r, const compiled *cs, size_t n)
{
    if (!r->cluster.galera)
        return 0;
    sbuf b = SBUF_INIT;
    size_t found = 0;
    for (size_t k = 0; k < n; k++) {
        const migration *m = r->set.v[cs[k].index];
        for (size_t j = 0; j < cs[k].ops->n; j++) {
            const op *o = cs[k].ops->v[j];
            int create = o->kind == OP_CREATE_TABLE && o->def && !o->def->pk.n;
            if (!create && o->kind != OP_DROP_PRIMARY_KEY)
                continue;
            sbuf_addf(&b, "%s%s (%s %s%s)", found ? ", " : "", o->table, m->id,
                      cs[k].down ? "revert: " : "", o->path ? o->path : "?");
            found++;
        }
    }
    int rc = 0;
    if (found && r->cluster.required_pk)
        rc = strata_set_error(STRATA_ESTATE,
                              "Galera node %s requires a primary key on every table "
                              "(wsrep_mode=REQUIRED_PRIMARY_KEY), and %zu table%s would have "
                              "none: %s; give %s a primary key (nothing was changed)",
                              r->cluster.node, found, found == 1 ? "" : "s", sbuf_str(&b),
                              found == 1 ? "it" : "them");
    else if (found)
        warn(r,
             "on Galera, %zu table%s will have no primary key: %s; Galera replicates such "
             "tables poorly (docs/locking.md, \"Galera\")",
             found, found == 1 ? "" : "s", sbuf_str(&b));
    sbuf_free(&b);
    return rc;
}

/* Before run or revert changes anything: take the lock, make and read the
 * history and refuse a half-done one (a dry run only reads it), and refuse
 * edited applied migrations. */
static int prepare_change(runner *r)
{
    int rc;
    if ((rc = compat_check(r)))
        return rc;
    if (!r->opt->dry_run) {
        if ((rc = lock_acquire(r)))
            return rc;
        if ((rc = history_prepare(r)))
            return rc;
        /* under the lock, the history may say more than it did */
        if ((rc = plan_select(r)))
            return rc;
        if ((rc = check_history_state(r)))
            return rc;
        if ((rc = compat_prepare(r)))
            return rc;
    }
    return check_checksums(r);
}

/* --single-transaction needs transactional DDL and no "transaction":
 * false migration, nor one with an "online" operation (PostgreSQL's CREATE
 * INDEX CONCURRENTLY, VALIDATE CONSTRAINT), among them; refused before
 * anything runs. */
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
        else if (compiled_needs_no_tx(&cs[k]))
            return strata_set_error(STRATA_EINPUT,
                                    "--single-transaction: migration %s holds an \"online\" "
                                    "operation, which runs outside any transaction; run without "
                                    "--single-transaction",
                                    r->set.v[cs[k].index]->id);
    return 0;
}

/*
 * `migrations run`: the pending migrations in version order (up to --to),
 * refusing one older than an applied one unless --allow-out-of-order; all
 * compiled before the first runs, then applied one by one (or, for a dry
 * run, printed). Assumes prepare_change has run.
 */
/* The migrations `run` applies, in order (up to --to): those the history
 * does not hold; one older than an applied one is refused unless
 * --allow-out-of-order. *out (caller frees) gets their positions. */
static int pending_migrations(runner *r, size_t **out, size_t *n)
{
    const strata_options *opt = r->opt;
    size_t upto = r->set.n;
    if (opt->to) {
        int rc = migrations_resolve_to(
            &r->set, opt->to, opt->migrations_dir ? opt->migrations_dir : "./migrations", &upto);
        if (rc)
            return rc;
    }
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
        if (i >= upto)
            continue;
        /* a migration behind a flag applies whenever its flag is turned on,
         * as Medusa's (TypeORM's) do */
        if (max_applied && version_cmp(m->version, max_applied) < 0 && !opt->allow_out_of_order &&
            m->when_flags.n == 0) {
            free(pending);
            return strata_set_error(STRATA_ESTATE,
                                    "migration %s is pending but older than applied migration "
                                    "version %s; run with --allow-out-of-order to apply it",
                                    m->id, max_applied);
        }
        pending[np++] = i;
    }
    *out = pending;
    *n = np;
    return 0;
}

static int run_impl(runner *r)
{
    const strata_options *opt = r->opt;
    size_t *pending = NULL, np = 0;
    int rc = pending_migrations(r, &pending, &np);
    if (rc)
        return rc;
    warn_missing_files(r);
    /* compile everything before running anything */
    compiled *cs = xcalloc(np + 1, sizeof *cs);
    unsigned char *present = xcalloc(r->set.n + 1, 1);
    for (size_t i = 0; i < r->set.n; i++)
        present[i] = history_find(&r->hist, r->set.v[i]->id) != NULL;
    for (size_t k = 0; k < np && !rc; k++)
        rc = compile_pending(r, pending[k], present, &cs[k]);
    free(present);
    if (!rc && !opt->dry_run)
        rc = check_primary_keys(r, cs, np);
    if (!rc && opt->dry_run) {
        sbuf out = SBUF_INIT;
        for (size_t k = 0; k < np; k++)
            render_compiled(r, &cs[k], &out);
        r->report->sql = sbuf_detach(&out);
        for (size_t k = 0; k < np; k++)
            report_add(r->report, r->set.v[pending[k]], STRATA_MIG_PENDING, NULL);
    }
    int *group_skipped = NULL;
    double started = now_seconds();
    if (!rc && !opt->dry_run && opt->single_transaction && np) {
        rc = group_check(r, cs, np);
        group_skipped = xcalloc(np + 1, sizeof *group_skipped);
        if (!rc)
            rc = apply_group(r, cs, np, group_skipped);
    }
    for (size_t k = 0; k < np && !rc && !opt->dry_run; k++) {
        const migration *m = r->set.v[pending[k]];
        double start = group_skipped ? started : now_seconds();
        int skipped = 0;
        /* --single-transaction: every migration is applied (committed) by
         * now; each is still reported, started and done */
        progress_migration(r, m, k + 1, np, 0, 0, started);
        if (group_skipped)
            skipped = group_skipped[k];
        else
            rc = apply_compiled(r, &cs[k], &skipped);
        if (rc)
            break;
        progress_migration(r, m, k + 1, np, 0, 1, started);
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

/*
 * Before a run on a database that has no history yet (a new one; a SQLite
 * file perhaps not even made): compile what it will apply, so that a
 * migration that cannot be compiled for this database is reported before
 * the lock, the history table - and the file - are made. On a database with
 * a history the run compiles everything before its first change anyway.
 */
static int run_precheck(runner *r)
{
    if (r->hist.exists || r->opt->dry_run)
        return 0;
    size_t *pending = NULL, np = 0;
    int rc = pending_migrations(r, &pending, &np);
    unsigned char *present = xcalloc(r->set.n + 1, 1);
    for (size_t k = 0; k < np && !rc; k++) {
        compiled c;
        rc = compile_pending(r, pending[k], present, &c);
        if (!rc)
            compiled_free(&c);
    }
    free(present);
    free(pending);
    return rc;
}

/* run or revert: set up, prepare (lock, history, checksums), do, release, report. */
static int with_runner(strata_conn *conn, const strata_options *opt, strata_report **out,
                       int (*impl)(runner *), int present_only, int lenient)
{
    runner r;
    int rc = runner_setup(&r, conn, opt, present_only, lenient);
    if (!rc && impl == run_impl)
        rc = run_precheck(&r);
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
    return with_runner(conn, opt, out, run_impl, 0, 0);
}

/* `migrations plan`: the migrations run would apply - the same list, the
 * same refusals, the history only read - explained op by op (explain.c). */
int strata_migrations_plan(strata_conn *conn, const strata_options *opt, strata_plan **out)
{
    *out = NULL;
    if (!conn)
        return strata_set_error(STRATA_EINPUT, "migrations plan needs a database connection");
    runner r;
    size_t *pending = NULL, np = 0;
    int rc = runner_init(&r, conn, opt, 0); /* reads the history too */
    if (!rc)
        rc = check_checksums(&r);
    if (!rc)
        rc = pending_migrations(&r, &pending, &np);
    if (!rc)
        warn_missing_files(&r);
    if (!rc)
        rc = explain_pending(&r, pending, np, out);
    free(pending);
    strata_report_free(r.report);
    runner_free(&r);
    return rc;
}

/* History rows in the order of their files: version, then id. */
static int cmp_rows(const void *a, const void *b)
{
    const hist_row *x = *(const hist_row *const *)a, *y = *(const hist_row *const *)b;
    int c = version_cmp(x->version ? x->version : "0", y->version ? y->version : "0");
    return c ? c : strcmp(x->id, y->id);
}

/* The error of the file of migration `id` that did not load, or NULL. */
static const char *broken_error(const runner *r, const char *id)
{
    for (size_t i = 0; i < r->all.nbroken; i++)
        if (strcmp(r->all.broken[i].id, id) == 0)
            return r->all.broken[i].error;
    return NULL;
}

/* How many of the newest of `rows` (nr, oldest first) revert undoes: --all,
 * those after --to (an applied migration's id or version), else --steps. */
static int revert_count(runner *r, const hist_row **rows, size_t nr, size_t *take)
{
    const strata_options *opt = r->opt;
    const char *to = opt->to;
    *take = opt->all ? nr : (size_t)(opt->steps > 0 ? opt->steps : 1);
    if (!opt->all && *take > nr)
        *take = nr;
    if (!to)
        return 0;
    if (!*to)
        return strata_set_error(STRATA_EINPUT, "--to is empty: give a migration's version or id");
    size_t keep = 0;
    int found = 0;
    for (size_t i = 0; i < nr; i++)
        if (strcmp(rows[i]->id, to) == 0) {
            keep = i + 1;
            found = 1;
        }
    for (size_t i = 0; !found && migration_version_text(to) && i < nr; i++)
        if (version_cmp(rows[i]->version ? rows[i]->version : "0", to) == 0)
            keep = i + 1;
    if (keep) {
        *take = nr - keep;
        return 0;
    }
    size_t digits = strspn(to, "0123456789");
    if (!migration_version_text(to) && !(digits >= 1 && digits <= 20 && to[digits] == '_'))
        return strata_set_error(STRATA_EINPUT,
                                "--to '%s' is neither a migration's version (1 to 20 digits) nor "
                                "its id (VERSION_NAME)",
                                str_brief(to));
    return strata_set_error(STRATA_EINPUT,
                            "--to: no applied migration %s, so there is nothing to revert down to",
                            str_brief(to));
}

/*
 * What `revert` undoes, newest first: the migrations the history holds -
 * not the files, so a file that is gone cannot make an applied migration
 * look unapplied - as many as --steps (default 1), those after --to, or
 * --all. Each one's down comes from its file (explicit, or derived from the
 * schema model of every migration before it), so a chosen migration
 * without a file, or any applied one whose file does not load or validate,
 * is bad input naming them, before anything changes. Pending files that
 * are broken do not matter. *out (caller frees) gets positions in r->set.
 */
static int revert_choose(runner *r, size_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    const hist_row **rows = xcalloc(r->hist.n + 1, sizeof *rows);
    for (size_t i = 0; i < r->hist.n; i++)
        rows[i] = &r->hist.v[i];
    size_t nr = r->hist.n, take = 0;
    qsort(rows, nr, sizeof *rows, cmp_rows);
    int rc = revert_count(r, rows, nr, &take);
    for (size_t i = 0; i < nr && !rc; i++) {
        const char *why = broken_error(r, rows[i]->id);
        if (why)
            rc = strata_set_error(STRATA_EINPUT,
                                  "cannot revert: applied migration %s does not load: %s",
                                  rows[i]->id, why);
    }
    size_t *todo = xcalloc(take + 1, sizeof *todo);
    sbuf missing = SBUF_INIT;
    size_t nmissing = 0;
    for (size_t k = 0; k < take && !rc; k++) {
        const hist_row *h = rows[nr - 1 - k];
        int idx = migration_index(r, h->id);
        if (idx < 0) {
            if (nmissing++ < 5)
                sbuf_addf(&missing, "%s%s", nmissing > 1 ? ", " : "", h->id);
        } else if ((size_t)idx >= r->valid_upto) {
            rc = strata_set_error(STRATA_EINPUT, "cannot revert %s: %s", h->id,
                                  r->invalid_error ? r->invalid_error : "it does not validate");
        } else {
            todo[(*n)++] = (size_t)idx;
        }
    }
    if (!rc && nmissing)
        rc = strata_set_error(STRATA_EINPUT,
                              "cannot revert %s%s: %s no file in %s (revert runs the down of each "
                              "migration it reverts, from its file: restore %s)",
                              sbuf_str(&missing), nmissing > 5 ? ", ..." : "",
                              nmissing == 1 ? "it has" : "they have",
                              r->opt->migrations_dir ? r->opt->migrations_dir : "./migrations",
                              nmissing == 1 ? "it" : "them");
    sbuf_free(&missing);
    free(rows);
    if (rc) {
        free(todo);
        *n = 0;
        return rc;
    }
    *out = todo;
    return 0;
}

/*
 * `migrations revert`: the newest applied migrations (--steps, --to or
 * --all), newest first, as revert_choose picks them; refused before
 * anything changes when one cannot be reverted. Assumes prepare_change
 * has run.
 */
static int revert_impl(runner *r)
{
    const strata_options *opt = r->opt;
    size_t *todo = NULL, nt = 0;
    int rc = revert_choose(r, &todo, &nt);
    if (rc)
        return rc;
    warn_missing_files(r);
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
    if (!rc && !opt->dry_run)
        rc = check_primary_keys(r, cs, nt);
    if (!rc && opt->dry_run) {
        sbuf out = SBUF_INIT;
        for (size_t k = 0; k < nt; k++)
            render_compiled(r, &cs[k], &out);
        r->report->sql = sbuf_detach(&out);
    }
    int *group_skipped = NULL;
    double started = now_seconds();
    if (!rc && !opt->dry_run && opt->single_transaction) {
        rc = group_check(r, cs, nt);
        group_skipped = xcalloc(nt + 1, sizeof *group_skipped);
        if (!rc)
            rc = apply_group(r, cs, nt, group_skipped);
    }
    for (size_t k = 0; k < nt && !rc && !opt->dry_run; k++) {
        const migration *m = r->set.v[todo[k]];
        double start = group_skipped ? started : now_seconds();
        int skipped = 0;
        progress_migration(r, m, k + 1, nt, 1, 0, started);
        if (group_skipped)
            skipped = group_skipped[k];
        else
            rc = apply_compiled(r, &cs[k], &skipped);
        if (!rc)
            progress_migration(r, m, k + 1, nt, 1, 1, started);
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
    /* a revert works on what the database has: a pending migration (say,
     * behind a flag turned on since) is no part of the schema it undoes */
    return with_runner(conn, opt, out, revert_impl, 1, 1);
}

/* A migration whose file does not load or validate, for `show`: its
 * description says why. */
static void report_invalid(strata_report *rep, const char *id, const char *why, const hist_row *h)
{
    migration m;
    memset(&m, 0, sizeof m);
    size_t digits = strspn(id, "0123456789");
    m.id = (char *)id;
    m.version = xstrndup(id, digits);
    m.name = (char *)(id[digits] == '_' ? id + digits + 1 : id + digits);
    m.description = (char *)why;
    report_add(rep, &m, STRATA_MIG_INVALID, h);
    free(m.version);
    rep->problems++;
}

/* Every migration with its status, in order: the files (those that do not
 * load or validate marked invalid), then applied migrations without one. */
static void status_list(runner *r)
{
    strata_report *rep = r->report;
    size_t b = 0; /* next of r->all.broken, merged in version order */
    for (size_t a = 0; a <= r->all.n; a++) {
        while (b < r->all.nbroken &&
               (a == r->all.n || migration_id_cmp(r->all.broken[b].id, r->all.v[a]->id) <= 0)) {
            const broken_migration *bm = &r->all.broken[b++];
            report_invalid(rep, bm->id, bm->error, history_find(&r->hist, bm->id));
        }
        if (a == r->all.n)
            break;
        const migration *m = r->all.v[a];
        if (r->in_set[a] < 0) {
            report_add(rep, m, STRATA_MIG_SKIPPED, NULL);
            continue;
        }
        hist_row *h = history_find(&r->hist, m->id);
        if ((size_t)r->in_set[a] == r->valid_upto && r->invalid_error) {
            report_invalid(rep, m->id, r->invalid_error, h);
            continue;
        }
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
        if (migration_index(r, r->hist.v[i].id) < 0 && !broken_error(r, r->hist.v[i].id)) {
            report_add(rep, NULL, STRATA_MIG_MISSING_FILE, &r->hist.v[i]);
            rep->problems++;
        }
}

/* `migrations show`: set up leniently - a file that does not load or
 * validate is listed as invalid, not an error - so that the list always
 * shows what is applied. */
int strata_migrations_status(strata_conn *conn, const strata_options *opt, strata_report **out)
{
    runner r;
    int rc = runner_setup(&r, conn, opt, 0, 1);
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
    int rc = runner_init(&r, conn, opt, 0);
    /* compile every migration that applies up and down for every dialect */
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
        history_free(&r.hist); /* read again: the compiling took a while */
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
                        sbuf_addf(&b, "%s%s is applied but has no file in %s", b.len ? "; " : "",
                                  it->id,
                                  r.opt->migrations_dir ? r.opt->migrations_dir : "./migrations");
                    else if (it->status == STRATA_MIG_INVALID)
                        sbuf_addf(&b, "%s%s: %s", b.len ? "; " : "", it->id, it->description);
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

int strata_migrations_adopt(strata_conn *conn, const strata_options *opt, const char *from,
                            strata_report **out)
{
    runner r;
    int rc = runner_init(&r, conn, opt, 0);
    if (!rc)
        rc = compat_adopt(&r, from);
    lock_release(&r);
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
    int rc = runner_init(&r, conn, opt, 0);
    if (!rc)
        rc = compat_check(&r);
    if (!rc)
        rc = lock_acquire(&r);
    if (!rc)
        rc = history_prepare(&r);
    if (!rc)
        rc = plan_select(&r);
    if (!rc)
        rc = compat_prepare(&r);
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
        if ((rc = history_adopt(&r, h)))
            break;
        if (r.opt->mark_applied) {
            rc = down ? history_delete(&r, m->id)
                      : history_update(&r, m, "applied", "up", (int)m->up.n, 0);
            say(&r, "marked %s %s", m->id, down ? "reverted" : "applied");
        } else {
            int remaining = 0;
            rc = undo_interrupted(&r, (size_t)idx, down, (size_t)h->ops_applied,
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

/* ---- baseline ---- */

/* The number of migrations up to and including version (or id) `to`;
 * STRATA_EINPUT when none has that version or id. */
static int baseline_upto(runner *r, const char *to, size_t *upto)
{
    if (!to)
        return strata_set_error(STRATA_EINPUT,
                                "baseline needs --to VERSION: the newest migration whose schema "
                                "the database already has");
    return migrations_resolve_to(
        &r->set, to, r->opt->migrations_dir ? r->opt->migrations_dir : "./migrations", upto);
}

/* A baseline only fills in history below the newest applied migration it
 * would record: applied migrations after `upto` mean the history already
 * goes further, and recording older ones under them is not a baseline. */
static int baseline_check_history(runner *r, size_t upto)
{
    for (size_t i = upto; i < r->set.n; i++)
        if (history_find(&r->hist, r->set.v[i]->id))
            return strata_set_error(STRATA_ESTATE,
                                    "migration %s is applied already, after %s: the history goes "
                                    "further than the baseline",
                                    r->set.v[i]->id, r->set.v[upto - 1]->id);
    return 0;
}

/* Record migrations [0, upto) that have no history row as applied, without
 * running them, in one transaction. */
static int baseline_record(runner *r, size_t upto)
{
    int rc = strata_conn_begin(r->conn);
    for (size_t i = 0; i < upto && !rc; i++) {
        const migration *m = r->set.v[i];
        if (history_find(&r->hist, m->id))
            continue;
        rc = history_insert(r, m, "applied", "up", (int)m->up.n, (int)m->up.n, 0);
        if (!rc)
            report_add(r->report, m, STRATA_MIG_APPLIED, NULL);
    }
    if (rc) {
        strata_conn_rollback(r->conn);
        return rc;
    }
    rc = strata_conn_commit(r->conn);
    for (size_t i = 0; i < r->report->n && !rc; i++)
        say(r, "baselined %s", r->report->items[i].id);
    return rc;
}

int strata_migrations_baseline(strata_conn *conn, const strata_options *opt, strata_report **out,
                               strata_diff_result **drift)
{
    runner r;
    size_t upto = 0;
    strata_diff_result *d = NULL;
    int rc = runner_init(&r, conn, opt, 0);
    if (!rc)
        rc = baseline_upto(&r, r.opt->to, &upto);
    if (!rc)
        rc = lock_acquire(&r);
    if (!rc)
        rc = history_prepare(&r);
    if (!rc) /* under the lock, the history may say more than it did */
        rc = plan_select(&r);
    if (!rc)
        rc = baseline_upto(&r, r.opt->to, &upto);
    if (!rc)
        rc = check_history_state(&r);
    if (!rc)
        rc = baseline_check_history(&r, upto);
    if (!rc)
        rc = diff_upto(conn, &r.set, upto, &d);
    if (!rc && d->n) {
        if (!r.opt->force) {
            rc = strata_set_error(STRATA_EDRIFT,
                                  "the database does not have the schema of the migrations up to "
                                  "%s: %zu difference%s; nothing was recorded (--force records "
                                  "them anyway)",
                                  r.set.v[upto - 1]->id, d->n, d->n == 1 ? "" : "s");
        } else {
            char *w = xasprintf("recorded despite %zu difference%s between the database and the "
                                "migrations up to %s (--force)",
                                d->n, d->n == 1 ? "" : "s", r.set.v[upto - 1]->id);
            warn(&r, "%s", w);
            free(w);
        }
    }
    if (!rc)
        rc = baseline_record(&r, upto);
    lock_release(&r);
    *out = r.report;
    runner_free(&r);
    if (drift)
        *drift = d;
    else
        strata_diff_result_free(d);
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
    int rc = runner_init(&r, NULL, opt, 0);
    r.tg = compile_target_default(d);
    sbuf b = SBUF_INIT;
    for (size_t k = 0; k < n && !rc; k++) {
        int found = 0;
        for (size_t i = 0; i < r.all.n; i++)
            if (strcmp(r.all.v[i]->version, versions[k]) == 0 ||
                strcmp(r.all.v[i]->id, versions[k]) == 0)
                found = 1;
        if (!found)
            rc =
                strata_set_error(STRATA_EINPUT, "no migration with version '%s' in %s", versions[k],
                                 r.opt->migrations_dir ? r.opt->migrations_dir : "./migrations");
    }
    /* the selected migrations (positions in r.all), compiled oldest first
     * (the model moves forward), printed newest first for --down; one a
     * flag turns off is a comment */
    size_t *sel = xcalloc(r.all.n + 1, sizeof *sel);
    size_t nsel = 0;
    for (size_t i = 0; i < r.all.n && !rc; i++) {
        const migration *m = r.all.v[i];
        int selected = n == 0;
        for (size_t k = 0; k < n; k++)
            if (strcmp(m->version, versions[k]) == 0 || strcmp(m->id, versions[k]) == 0)
                selected = 1;
        if (selected)
            sel[nsel++] = i;
    }
    compiled *cs = xcalloc(nsel + 1, sizeof *cs);
    for (size_t k = 0; k < nsel && !rc; k++) {
        int x = r.in_set[sel[k]];
        if (x >= 0 && (!down || r.plan.reversible[x]))
            rc = compile_migration(&r, (size_t)x, down, &cs[k]);
    }
    for (size_t i = 0; i < nsel && !rc; i++) {
        size_t k = down ? nsel - 1 - i : i;
        const migration *m = r.all.v[sel[k]];
        int x = r.in_set[sel[k]];
        if (x < 0)
            sbuf_addf(&b, "-- %s %s: skipped, flag %s is off\n", down ? "revert" : "migration",
                      m->id, flags_first_off(&r.flags, m));
        else if (down && !r.plan.reversible[x])
            sbuf_addf(&b, "-- revert %s: irreversible (%s)\n", m->id, r.plan.why[x]);
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
