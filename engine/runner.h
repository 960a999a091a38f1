/*
 * runner.h - what the files of the migration runner share (private to
 * engine/): the state of one command, the history rows and compiled
 * migrations.
 *
 *   runner.c   the commands (run, revert, repair, status, validate, sql) and
 *              their preparation: lock, history, half-done migrations,
 *              checksums
 *   apply.c    running one compiled migration: in a transaction, or op by op
 *              with its progress recorded, undoing what it did on failure or
 *              after a crash
 *   plan.c     the migrations and their derived downs, compiled against the
 *              schema model; undo statements; the script of a dry run
 *   history.c  the history table strata_migrations: made, read and written
 *              (every write fenced by the lock)
 *   lock.c     the migration lock: a lease row in strata_lock, taken,
 *              renewed by a heartbeat, checked between statements, taken
 *              over from a dead holder; `lock status|release`
 *   explain.c  `migrations plan`: the pending migrations op by op, with what
 *              each costs on the database
 */
#ifndef STRATA_RUNNER_H
#define STRATA_RUNNER_H

#include "driver.h"
#include "exec.h"
#include "flags.h"

#include <stdio.h>

/* One row of strata_migrations. */
typedef struct hist_row {
    char *id;
    char *version;
    char *name;
    char *checksum;
    char *state;     /* applied | running | partial */
    char *direction; /* up | down */
    int ops_applied;
    int ops_total;
    char *applied_at;
    long long duration_ms;
    char *run_id; /* the run that wrote the row last */
} hist_row;

typedef struct history {
    hist_row *v;
    size_t n, cap;
    int exists; /* the table exists */
} history;

/* The state of one command. */
typedef struct runner {
    strata_conn *conn;         /* NULL offline (migrations sql, validate without a database) */
    const strata_options *opt; /* &options */
    strata_options options;    /* the caller's, checked, or the defaults */
    compile_target tg;
    migration_set all; /* every migration file (owns them) */
    migration_set set; /* the ones that apply, a view of `all` (plan_select) */
    int *in_set;       /* per file of `all`: its position in `set`, or -1: skipped */
    flagset flags;     /* the flags and their values */
    int present_only;  /* revert: `set` is what the database has */
    down_plan plan;
    history hist;
    char run_id[33];
    struct lease *lease;  /* the migration lock while held (lock.c) */
    cluster_info cluster; /* where the connection is (read when the lock is taken) */
    strata_report *report;
    /* The schema model after migrations [0, model_pos), kept between
     * compiles (see model_advance). */
    schema model;
    size_t model_pos;
    int model_live;
    /* Set up leniently (revert, show: runner.c): migrations [0, valid_upto)
     * validated; the next one did not (invalid_error says why). */
    size_t valid_upto;
    char *invalid_error;
} runner;

/* A compiled migration, ready to run in one direction. */
typedef struct compiled {
    size_t index;
    int down;
    size_t nops;
    stmt_list *per_op;
    const op_list *ops;
    /* The ops grouped into batches (batch_ops): consecutive ops on one
     * table as one statement. Every op is in one batch; a batch of one op
     * runs that op's own statements. STRATA_BATCH=0 in the environment
     * makes every batch one op (to compare, and to find a problem). */
    op_batch *batches;
    size_t nbatches;
} compiled;

/* ---- runner.c ---- */

/* A progress line, or a warning, to the caller's log callback (nothing
 * without one). */
void say(runner *r, const char *fmt, ...) STRATA_PRINTF(2, 3);
void say_warning(runner *r, const char *fmt, ...) STRATA_PRINTF(2, 3);
/* A warning for the report (and the log). */
void warn(runner *r, const char *fmt, ...) STRATA_PRINTF(2, 3);
/* Add a migration (or, without a file, a history row) to the report. */
void report_add(strata_report *rep, const migration *m, strata_mig_status st, const hist_row *h);

/* ---- apply.c ---- */

/* Run a compiled migration (*skipped: another runner had already done it),
 * in a transaction or op by op as migration_is_progressive and
 * compiled_needs_no_tx say. */
int apply_compiled(runner *r, compiled *c, int *skipped);
/* Can these migrations run in one transaction (--single-transaction)?
 * Where DDL is transactional and none is "transaction": false. */
int apply_group_possible(const runner *r, const compiled *cs, size_t n);
/* Run them in one transaction, all or none; skipped[k] as for
 * apply_compiled. */
int apply_group(runner *r, compiled *cs, size_t n, int *skipped);
/* End the open transaction: roll it back when rc says something failed,
 * else commit it (a failed COMMIT rolled back, its error "commit: ...").
 * Returns rc, or the COMMIT's error. */
int tx_end(runner *r, int rc);
/* Finish a migration interrupted while running: record it as done, or
 * undo what it applied. */
int apply_recover(runner *r, hist_row *h);
/* Undo ops [0, upto) (and, best effort first, ops [upto, upto + partial):
 * an op that failed halfway, a batch interrupted) of a migration that
 * failed or was interrupted. Returns 0 when the schema is
 * back where it started; otherwise *remaining is how many ops stay applied. */
int undo_ops(runner *r, size_t idx, int down, size_t upto, size_t partial, int *remaining);
/* undo_ops, or - when an op of [0, upto) has no inverse (raw SQL) - the
 * migration's explicit down run whole (an up only); else an ESTATE error
 * saying what the operator must check and run. */
int undo_interrupted(runner *r, size_t idx, int down, size_t upto, size_t partial, int *remaining);

/* ---- plan.c ---- */

/* Choose the migrations that apply (r->set): those whose flags are on and
 * those the database has (r->hist), or with r->present_only only the
 * latter; then validate them offline and derive their downs (r->plan).
 * Called again once the history is read under the lock; when the choice is
 * the same it does nothing. */
int plan_select(runner *r);
/* Validate every migration offline and derive the downs (r->plan). */
int plan_derive(runner *r);
/* Compile pending migration `idx` up, for a run that applies it after the
 * migrations `present` marks (per position in r->set: the database has it,
 * or this run applies it first). Where none of those comes after idx this
 * is compile_migration; otherwise (a migration applied out of order, e.g.
 * once its flag is turned on) it is compiled from a model of what the
 * database will hold by then, not of the migrations before it. */
int compile_pending(runner *r, size_t idx, const unsigned char *present, compiled *out);
/* The position of migration `id` in the set, or -1. */
int migration_index(const runner *r, const char *id);
/* Does migration m run op by op, recording its progress after each, rather
 * than in one transaction? Where DDL is not transactional (MySQL), and for
 * "transaction": false. */
int migration_is_progressive(const compile_target *tg, const migration *m);
/* Compile `ops` (of migration m) from state `s`, which is left in the state
 * after them; per_op[j] gets op j's statements, and `runs` (when not NULL)
 * SQLite's runs of ops that one rebuild can do. */
int compile_ops(const compile_target *tg, schema *s, const migration *m, const op_list *ops,
                stmt_list *per_op, rebuild_runs *runs);
/* Compile migration `idx` up (from the state after [0, idx)) or down (from
 * the state after [0, idx]). Compile in ascending order of idx: the model
 * only moves forward. */
int compile_migration(runner *r, size_t idx, int down, compiled *out);
void compiled_free(compiled *c);
/* Does any of its statements need foreign-key enforcement off? */
int compiled_needs_fk_off(const compiled *c);
/* Does any of its statements run outside a transaction (STMT_NO_TX: an
 * "online" operation on PostgreSQL)? Then it runs op by op, as a
 * "transaction": false migration does. */
int compiled_needs_no_tx(const compiled *c);
/* The statements that undo op j of migration idx in direction `down`. */
int undo_statements(runner *r, size_t idx, int down, size_t j, stmt_list *out);
/* How many ops, from op j on, the batch of migration idx that starts at op j
 * holds (1 when j starts none, or batching is off): what a process killed
 * after recording j ops may have applied. */
size_t batch_span(runner *r, size_t idx, int down, size_t j);
/* The statements of batch b: its own, or its one op's. */
const stmt_list *batch_stmts(const compiled *c, size_t b);
/* Append a compiled migration as a script (dry runs, `migrations sql`). */
void render_compiled(const runner *r, const compiled *c, sbuf *out);

/* ---- explain.c ---- */

/* `migrations plan`: migrations pending[0..n) of r->set (positions, in the
 * order run applies them), each op compiled for r->tg with its cost there
 * and the rows of its table in r->conn. */
int explain_pending(runner *r, const size_t *pending, size_t n, strata_plan **out);

/* ---- history.c ---- */

/* Make table `name` from `json` (a migration of one create_table) unless it
 * exists: the history table, the lock table. */
int meta_table_ensure(strata_conn *conn, const char *name, const char *json);
void history_free(history *h);
hist_row *history_find(const history *h, const char *id);
/* Read the history (h->exists 0 and no rows when there is no table). */
int history_load(strata_conn *conn, history *h);
/* Make the history table if it is missing, then read it into r->hist. */
int history_prepare(runner *r);
int history_insert(runner *r, const migration *m, const char *state, const char *dir,
                   int ops_applied, int ops_total, long long duration_ms);
int history_update(runner *r, const migration *m, const char *state, const char *dir,
                   int ops_applied, long long duration_ms);
int history_delete(runner *r, const char *id);
/* Make the row of an interrupted or partial migration this run's, before
 * recovering it: the run that wrote it, should it still be alive, then
 * fails its next write. */
int history_adopt(runner *r, hist_row *h);
/* The checksum of applied migration `id` becomes `checksum`. */
int history_set_checksum(runner *r, const char *id, const char *checksum);
/* The state of migration `id` (*state NULL: no row), read again. */
int history_state(runner *r, const char *id, char **state);
/* The time now in UTC, "YYYY-MM-DD HH:MM:SS". */
void utc_now(char out[32]);

/* ---- compat.c ---- */

/* --history-compat: is the option's value known, and does every migration
 * that applies name itself for that tool? (EINPUT before anything runs) */
int compat_check(runner *r);
/* Make the other tool's history table if it is missing, and give it a row
 * for every applied migration that lacks one. */
int compat_prepare(runner *r);
/* Called by the history writes (history.c) around each of them: `begin`
 * opens a transaction when the write and the other tool's row must go
 * together and none is open (MySQL's op-by-op progress); `end` writes that
 * row for a migration that became applied (`state` "applied", `dir` "up")
 * or was removed (`state` NULL), then ends the transaction `begin` opened.
 * Both do nothing without --history-compat. */
int compat_begin(runner *r, const char *state, const char *dir);
int compat_end(runner *r, const char *id, const char *state, const char *dir, int began, int rc);
/* `migrations adopt --from FROM` (strata_migrations_adopt), after
 * runner_init: lock, read the other tool's history, record what it names. */
int compat_adopt(runner *r, const char *from);

/* ---- lock.c ---- */

/* Take the migration lock for the command, waiting up to --lock-timeout;
 * first read where the connection is (r->cluster) and refuse a standby or
 * a Galera session whose DDL would not replicate. */
int lock_acquire(runner *r);
/* Give it up, if taken (keeping any error already reported). */
void lock_release(runner *r);
/* Between statements: fail (STRATA_ELOCK) when the lock was lost or its
 * lease could not be renewed in time; renews it where no heartbeat does
 * (SQLite). No statement otherwise. */
int lock_check(runner *r);
/* One write on this connection that renews the lease, inside the caller's
 * transaction if one is open: fails when this run no longer holds the lock.
 * Before an undo step, before a migration's first history row, and before
 * a migration's transaction commits. */
int lock_fence(runner *r);
/* Did this run lose the lock? Then it undoes nothing: the run that holds
 * the lock now finishes what this one left. */
int lock_lost(const runner *r);
/* The SQL condition "this run holds the migration lock" (caller frees). */
char *lock_held_sql(const runner *r);
/* A fenced write found nothing to write (`what`): the lock is lost; set
 * the error and return STRATA_ELOCK. */
int lock_fenced_out(runner *r, const char *what);

#endif /* STRATA_RUNNER_H */
