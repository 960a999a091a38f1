/*
 * compile.h - the dialect compilers: one operation plus the schema model in,
 * a list of SQL statements out. Pure: no connection, no globals, no I/O.
 *
 * A compiler sees the schema *after* the operation (the model has already
 * applied it) and a snapshot of the affected table and enum as they were
 * *before*, which is what it needs to restate definitions (MySQL MODIFY),
 * rebuild tables (SQLite) or drop what an operation removes.
 *
 * Besides plain SQL, a statement list may hold checks that the runner
 * evaluates (a query that must return no row, with the message to give if
 * it does) and the two halves of SQLite's save-and-restore of the views and
 * triggers that mention a table being rebuilt - the only parts of a rebuild
 * that depend on what is in the database rather than in the model.
 */
#ifndef STRATA_COMPILE_H
#define STRATA_COMPILE_H

#include "dialect.h"
#include "ir.h"
#include "migration.h"

typedef enum {
    STMT_SQL = 0,
    STMT_ASSERT_EMPTY,        /* sql is a query that must return no row, else `message` */
    STMT_SQLITE_SAVE_DEPS,    /* save and drop views/triggers that mention `table` */
    STMT_SQLITE_RESTORE_DEPS, /* recreate what the matching SAVE dropped */
    STMT_SQL_IF_ROW,          /* sql runs only when the query `guard` returns a row
                                 (`message` says when that is) */
} stmt_kind;

enum {
    STMT_FK_OFF = 1,         /* SQLite: run with PRAGMA foreign_keys=OFF (table rebuild) */
    STMT_IGNORE_MISSING = 2, /* an error saying the object does not exist is not an error */
    STMT_NO_TX = 4,          /* runs outside the migration's transaction, committed by itself
                                (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT): a migration
                                holding one runs op by op, as with "transaction": false */
    STMT_CLEANUP = 8,        /* runs even when a statement before it in the list failed
                                (restoring a session setting) */
    STMT_SESSION = 16,       /* sets a session variable for the statements after it (MySQL's
                                foreign_key_checks around an ADD FOREIGN KEY) */
    STMT_SHOW_ROW = 32,      /* STMT_ASSERT_EMPTY: the message shows the row found */
};

typedef struct stmt {
    stmt_kind kind;
    unsigned flags;
    char *sql;
    char *message; /* STMT_ASSERT_EMPTY, STMT_SQL_IF_ROW */
    char *guard;   /* STMT_SQL_IF_ROW: the query that decides */
    /* STMT_SQL: what to run when `sql` fails (its own error ignored, the
     * statement's kept), only when `cleanup_guard` returns a row if given:
     * e.g. dropping the INVALID index a failed CREATE INDEX CONCURRENTLY
     * leaves behind */
    char *cleanup;
    char *cleanup_guard;
    char *table; /* STMT_SQLITE_*_DEPS */
    /* STMT_SQLITE_SAVE_DEPS: the indexes of `table` the model knows (before
     * and after the operation). The rebuild recreates those it keeps, so the
     * save leaves them all alone and keeps only the others. */
    strvec model_indexes;
} stmt;

typedef struct stmt_list {
    stmt *v;
    size_t n, cap;
} stmt_list;

void stmt_list_free(stmt_list *l);
void stmt_add(stmt_list *l, unsigned flags, const char *sql);
void stmt_add_owned(stmt_list *l, unsigned flags, char *sql);
void stmt_add_assert(stmt_list *l, char *query, char *message);
/* A statement that runs only when `guard` returns a row (all three owned). */
void stmt_add_if_row(stmt_list *l, unsigned flags, char *guard, char *sql, char *message);
/* Append a copy of statement `from` (every field). */
void stmt_add_copy(stmt_list *l, const stmt *from);
/* Give the last statement of l a clean-up for its failure (both owned;
 * guard may be NULL: always). */
void stmt_set_cleanup(stmt_list *l, char *guard, char *cleanup);
/* True when any statement needs foreign keys off (SQLite rebuild). */
int stmt_list_needs_fk_off(const stmt_list *l);
/* True when any statement must run outside a transaction (STMT_NO_TX). */
int stmt_list_needs_no_tx(const stmt_list *l);
/* Render a statement list as a script for `migrations sql`. */
void stmt_list_render(const stmt_list *l, strata_dialect d, sbuf *out);
/* What frames a migration that runs in one transaction, as the runner runs
 * it and `migrations sql` prints it: the statement that opens the
 * transaction (SQLite: BEGIN IMMEDIATE, which takes the write lock up
 * front), and the one that turns foreign-key enforcement off (on = 0) or
 * back on around it when a statement asks for that (STMT_FK_OFF, SQLite's
 * table rebuild; NULL for dialects whose statements never ask). */
const char *tx_begin_sql(strata_dialect d);
const char *fk_enforcement_sql(strata_dialect d, int on);
/* With enforcement off, a query that finds a row violating a foreign key,
 * run before the transaction commits (SQLite: pragma_foreign_key_check;
 * NULL elsewhere). */
const char *fk_violation_query(strata_dialect d);
/* The same for the foreign keys of one table (parameter: the table), and
 * the tables whose foreign keys a change of table ?1 may break: itself (if
 * it exists) and those that reference it. */
const char *fk_table_violation_query(strata_dialect d);
const char *fk_scope_query(strata_dialect d);
/* An expression for the database's wall clock now, in milliseconds since
 * 1970-01-01 UTC, as a 64-bit integer (the migration lock's lease). */
const char *clock_ms_sql(strata_dialect d);

/* TypeORM's migration history table `migrations`, as TypeORM 0.3 creates it
 * on each database (its DataSource's MigrationExecutor, default options):
 * the statement, and the table's name. Strata keeps it for --history-compat
 * typeorm, and reads it for `migrations adopt --from typeorm`. */
const char *typeorm_history_table_sql(strata_dialect d);
#define TYPEORM_HISTORY_TABLE "migrations"

/* What is being compiled for. Offline, compile_target_default() assumes
 * PostgreSQL 15, MariaDB 10.11 and SQLite 3.40. */
typedef struct compile_target {
    strata_dialect dialect;
    int version;    /* major*10000 + minor*100 + patch */
    int is_mariadb; /* MySQL dialect only */
    unsigned caps;  /* STRATA_CAP_* */
    /* MySQL: keep the PAD SPACE utf8mb4_bin collation where the server has
     * a NO PAD one, because the database's tables were made with it (by an
     * older Strata): a foreign key needs the same collation on both sides. */
    int pad_space;
} compile_target;

compile_target compile_target_default(strata_dialect d);

/* The collation of the tables Strata makes on MySQL/MariaDB: binary (case-
 * and accent-sensitive, as PostgreSQL and SQLite compare) and NO PAD, so
 * 'pad' and 'pad ' are two values: utf8mb4_nopad_bin (MariaDB 10.2.2+),
 * utf8mb4_0900_bin (MySQL 8.0.17+); else, or with tg->pad_space,
 * utf8mb4_bin (PAD SPACE: trailing spaces are ignored). */
const char *mysql_collation(const compile_target *tg);

/* The state before the operation, captured by the caller. */
typedef struct before_state {
    const table *table;      /* the op's table before (NULL if it did not exist) */
    const strvec *enum_vals; /* enum ops: the enum's values before */
} before_state;

/* Compile one operation. `after` is the model with the op applied. */
int compile_op(const compile_target *tg, const schema *after, const before_state *before,
               const op *o, const apply_ctx *ctx, stmt_list *out);

/* How wide index ix of table t is in an InnoDB key, in bytes (utf8mb4
 * strings take 4 bytes a character); -1 when a column of it cannot be
 * indexed without a prefix length (text, json, binary). The MySQL compiler
 * refuses indexes over 3072 bytes. */
int mysql_index_bytes(const table *t, const index_def *ix);
/* Are the helper columns MySQL keeps for partial unique index ix of table t
 * STORED (else VIRTUAL)? See mysql.c; an "online" build makes them VIRTUAL
 * whatever this says. */
int mysql_helpers_stored(const table *t, const index_def *ix);
/* Is a column of foreign key fk a base column of a STORED column of table t
 * (a partial unique index's STORED helpers)? InnoDB then adds the key only
 * by copying the table, with foreign_key_checks on: in place, with them
 * off, it refuses ("Cannot add foreign key on the base column of stored
 * column"). */
int mysql_fk_base_of_stored(const table *t, const fk_def *fk);

/* Consecutive operations of a migration compiled as one statement list
 * (batch.c): ops [first, last]; `stmts` holds the batch's statements when
 * last > first, and is empty for an operation on its own (its per-op list
 * is the one to run). */
typedef struct op_batch {
    size_t first, last;
    stmt_list stmts;
} op_batch;

/* SQLite (sqlite.c): ops [first, last] of one migration, all on one table,
 * as one rebuild of `old` (the table before op first) into `nt` (after op
 * last), `after` the schema after op last; the run-time checks of the ops'
 * own statements (per_op) come first. */
int sqlite_rebuild_run(const compile_target *tg, const schema *after, const table *old,
                       const table *nt, const op *last_op, const apply_ctx *ctx,
                       const stmt_list *per_op, size_t first, size_t last, stmt_list *out);

/*
 * SQLite's runs of operations on one table that one rebuild can do
 * (batch.c), found while the ops are compiled: after each op, with the
 * schema after it and its table before it, rebuild_runs_step extends the
 * open run or closes it and may open another; rebuild_runs_done closes the
 * last. The runs become batches in batch_ops.
 */
typedef struct rebuild_runs {
    op_batch *v;
    size_t n, cap;
    /* the open run */
    int open;
    size_t first, last;
    table old; /* its table before its first op */
    strvec names;
    int rebuilds; /* ops in it that rebuild on their own */
    int plain;    /* every op so far only adds or drops keys, checks, indexes */
    stmt_list merged;
} rebuild_runs;

void rebuild_runs_step(rebuild_runs *rr, const compile_target *tg, const schema *after,
                       const table *before, const op_list *ops, size_t j, const stmt_list *per_op,
                       const apply_ctx *ctx);
void rebuild_runs_done(rebuild_runs *rr);
void rebuild_runs_free(rebuild_runs *rr);

/* Group the ops of one migration (their own statements in per_op) into
 * batches covering all of them in order: runs of consecutive ops on one
 * table that the database can do in one ALTER TABLE (PostgreSQL, MySQL),
 * or in one rebuild (SQLite: `runs`, which may be NULL), become one; every
 * other op is a batch of its own. */
int batch_ops(const compile_target *tg, const op_list *ops, const stmt_list *per_op,
              rebuild_runs *runs, op_batch **out, size_t *n);
void op_batches_free(op_batch *b, size_t n);

/* Render a JSON value as a SQL literal for a column (type conversions as
 * the seed format does them: booleans, UTC timestamps, JSON text, bytes). */
int render_value(sbuf *b, strata_dialect d, const schema *s, const column *c, const json_t *v);
/* Render a predicate object, or a check (predicate, raw SQL string or
 * per-dialect object), as SQL for a target's dialect. */
int render_expression(sbuf *b, const compile_target *tg, const schema *s, const table *t,
                      const json_t *expr);
/* Convert an ISO-8601 timestamp (with optional offset) to UTC text
 * "YYYY-MM-DD HH:MM:SS[.ffffff]"; 0 on success. */
int timestamp_to_utc(const char *in, char *out, size_t outlen);

#endif
