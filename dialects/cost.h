/*
 * cost.h - what an operation will cost on a database, known before it
 * runs: whether it touches the catalog only, reads the table (an index
 * build, a validation), rewrites it, copies it (MySQL's ALGORITHM=COPY) or
 * rebuilds it (SQLite), and what it locks meanwhile.
 *
 * Pure, like the compilers: the operation, the schema model before and
 * after it and the statements the dialect's compiler made for it go in; no
 * connection. The statements are the first source - a SQLite rebuild is
 * there as its save/restore markers, an InnoDB ALTER as its clauses - and
 * the model says the rest (was the column indexed, is a type change one
 * PostgreSQL makes without rewriting the table).
 *
 * InnoDB's algorithms are those MariaDB 10.11 picks (tests/test_cost.c runs
 * every statement on a real server with ALGORITHM=INSTANT, NOCOPY, INPLACE
 * and COPY in turn and compares); for MySQL 8.0 they follow its manual.
 * PostgreSQL's rewrites are checked the same way (a rewritten table gets a
 * new relfilenode).
 */
#ifndef STRATA_COST_H
#define STRATA_COST_H

#include "compile.h"

/* InnoDB's ALTER TABLE algorithms, cheapest first. */
typedef enum {
    MY_ALG_NONE = 0, /* not an ALTER TABLE: CREATE/DROP/RENAME TABLE, SET, a query, DML */
    MY_ALG_INSTANT,  /* the data dictionary only */
    MY_ALG_NOCOPY,   /* in place without rebuilding the table: an index build
                        (MySQL calls it INPLACE too) */
    MY_ALG_INPLACE,  /* in place, rebuilding the table; reads and writes go on */
    MY_ALG_COPY,     /* a copy of the table, row by row; writes wait (LOCK=SHARED) */
} my_algorithm;

/* "INSTANT", "NOCOPY", "INPLACE", "COPY" ("" for MY_ALG_NONE). */
const char *my_algorithm_name(my_algorithm a);

/* The cheapest algorithm InnoDB accepts for statement i of `stmts`, the
 * statements of op `o` compiled for target tg (MySQL dialect). *shared is
 * set when even that algorithm blocks writes (LOCK=SHARED: a copy, or an
 * AUTO_INCREMENT column being added). */
my_algorithm mysql_stmt_algorithm(const compile_target *tg, const schema *after,
                                  const before_state *before, const op *o, const stmt_list *stmts,
                                  size_t i, int *shared);

/* What one operation costs on one database. */
typedef struct op_cost {
    strata_cost cost;
    my_algorithm algorithm; /* MySQL/MariaDB: the costliest statement's */
    char *lock;             /* what it locks and for how long, one line */
    char *detail;           /* why it costs that, one line */
    int blocks_writes;      /* writers wait while it runs (more than a brief lock) */
    int new_table;          /* it works on a table its own migration creates */
    strvec tables;          /* the tables whose rows it reads, rewrites, copies or rebuilds */
} op_cost;

/* Estimate op o's cost on target tg from its statements. `after` is the
 * model with o applied, `before` as for compile_op. */
void op_cost_estimate(const compile_target *tg, const schema *after, const before_state *before,
                      const op *o, const stmt_list *stmts, op_cost *out);
void op_cost_free(op_cost *c);

#endif
