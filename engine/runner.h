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
 *   lock.c     the migration lock: waiting for it; `lock status|release`
 */
#ifndef STRATA_RUNNER_H
#define STRATA_RUNNER_H

#include "driver.h"
#include "exec.h"

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
    migration_set set;
    down_plan plan;
    history hist;
    char run_id[33];
    int locked;
    strata_report *report;
    /* The schema model after migrations [0, model_pos), kept between
     * compiles (see model_advance). */
    schema model;
    size_t model_pos;
    int model_live;
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
/* Add a migration (or, without a file, a history row) to the report. */
void report_add(strata_report *rep, const migration *m, strata_mig_status st, const hist_row *h);

/* ---- apply.c ---- */

/* Run a compiled migration (*skipped: another runner had already done it),
 * in a transaction or op by op as migration_is_progressive says. */
int apply_compiled(runner *r, compiled *c, int *skipped);
/* Can these migrations run in one transaction (--single-transaction)?
 * Where DDL is transactional and none is "transaction": false. */
int apply_group_possible(const runner *r, const compiled *cs, size_t n);
/* Run them in one transaction, all or none; skipped[k] as for
 * apply_compiled. */
int apply_group(runner *r, compiled *cs, size_t n, int *skipped);
/* Finish a migration interrupted while running: record it as done, or
 * undo what it applied. */
int apply_recover(runner *r, hist_row *h);
/* Undo ops [0, upto) (and op `upto` best-effort when `partial_op`) of a
 * migration that failed or was interrupted. Returns 0 when the schema is
 * back where it started; otherwise *remaining is how many ops stay applied. */
int undo_ops(runner *r, size_t idx, int down, size_t upto, size_t partial, int *remaining);

/* ---- plan.c ---- */

/* Validate every migration offline and derive the downs (r->plan). */
int plan_derive(runner *r);
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

/* ---- history.c ---- */

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
/* The checksum of applied migration `id` becomes `checksum`. */
int history_set_checksum(runner *r, const char *id, const char *checksum);
/* The state of migration `id` (*state NULL: no row), read again. */
int history_state(runner *r, const char *id, char **state);
/* The time now in UTC, "YYYY-MM-DD HH:MM:SS". */
void utc_now(char out[32]);

/* ---- lock.c ---- */

/* Take the migration lock for the command, waiting up to --lock-timeout. */
int lock_acquire(runner *r);
/* Give it up, if taken (keeping any error already reported). */
void lock_release(runner *r);

#endif /* STRATA_RUNNER_H */
