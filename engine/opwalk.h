/*
 * opwalk.h - walking the operations of migrations one by one for one
 * database: the schema model replayed as it goes, each operation compiled,
 * and everything a reader of that operation needs (the model before and
 * after it, its statements, a compile error) handed to a callback. What
 * `migrations lint` and `migrations plan` are built on.
 */
#ifndef STRATA_OPWALK_H
#define STRATA_OPWALK_H

#include "compile.h"
#include "migration.h"

typedef struct op_step {
    const migration *m;
    size_t index; /* of the migration in its set */
    size_t j;     /* of the op in m->up */
    const op *o;
    const schema *after;        /* the model with the op applied */
    const before_state *before; /* the op's table (and enum) before it */
    const stmt_list *stmts;     /* what the op compiled to (empty on a compile error) */
    int compile_rc;             /* 0, or the error compiling it (message in compile_error) */
    const char *compile_error;
    const compile_target *tg;
} op_step;

/* Called for every op; a non-zero return stops the walk with that value. */
typedef int (*op_step_fn)(const op_step *step, void *payload);

/* Called after the last op of each migration compiled, with the model at
 * the end of it (for checks that look at a migration's result). */
typedef int (*migration_end_fn)(const migration *m, size_t index, const schema *s, void *payload);

/*
 * Replay migrations [0, from) of `set` into a fresh model, then walk the
 * ops of migrations [from, to) that `selected` (NULL: all) marks, calling
 * `fn` for each; the model moves through unselected ones too. A migration
 * the model refuses (an unknown table, a bad type) stops the walk with its
 * error; an op the dialect cannot compile is handed to `fn` with its
 * error and the walk goes on.
 */
int ops_walk(const migration_set *set, size_t from, size_t to, const int *selected,
             const compile_target *tg, op_step_fn fn, migration_end_fn end, void *payload);

#endif
