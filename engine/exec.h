/*
 * exec.h - running compiled statement lists on a connection.
 */
#ifndef STRATA_EXEC_H
#define STRATA_EXEC_H

#include "compile.h"

/* SQLite dependents saved by STMT_SQLITE_SAVE_DEPS, restored by RESTORE;
 * and what must hold between two statements. */
typedef struct exec_state {
    strvec saved;    /* CREATE statements, in creation order */
    int best_effort; /* run every statement, ignoring failures */
    /* Called before each statement (unless NULL); an error stops the list,
     * best effort or not (the runner: is the migration lock still held?). */
    int (*guard)(void *arg);
    void *guard_arg;
} exec_state;

void exec_state_free(exec_state *st);

/* What a connection compiles for: its dialect, server version and
 * capabilities. */
compile_target compile_target_for(const strata_conn *conn);
/* MySQL/MariaDB: when the database's history table was made with the PAD
 * SPACE utf8mb4_bin (by a Strata before NO PAD collations), the tables made
 * from now on keep it too (tg->pad_space), so that foreign keys between old
 * and new tables have the same collation on both sides. */
void compile_target_read_collation(strata_conn *conn, compile_target *tg);

/*
 * Execute a statement list. On failure the error message is
 * "SQL: <statement>: <the database's words>" (or an assertion's message),
 * and *failed (when not NULL) is the index of the failing statement.
 */
int exec_stmts(strata_conn *conn, const stmt_list *l, exec_state *st, size_t *failed);

#endif
