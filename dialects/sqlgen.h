/*
 * sqlgen.h - internal helpers shared by the dialect compilers (common.c)
 * and each dialect's compiler (postgres.c, mysql.c, sqlite.c).
 */
#ifndef STRATA_SQLGEN_H
#define STRATA_SQLGEN_H

#include "compile.h"

typedef struct cctx {
    const compile_target *tg;
    strata_dialect d;
    const schema *s; /* after the op */
    const before_state *before;
    const op *o;
    const apply_ctx *actx;
    stmt_list *out;
} cctx;

int cerr(const cctx *c, const char *fmt, ...) STRATA_PRINTF(2, 3);
void qid(sbuf *b, const cctx *c, const char *name);
void qstr(sbuf *b, const cctx *c, const char *text);
void qid_list(sbuf *b, const cctx *c, const char *const *names, size_t n);
/* SQLite's save and restore of the views and triggers that mention `table`
 * around its rebuild; `model_indexes` are the indexes the rebuild itself
 * recreates (copied). */
void stmt_add_save_deps(stmt_list *l, const char *table, const strvec *model_indexes);
void stmt_add_restore_deps(stmt_list *l, const char *table);

/* CONSTRAINT "fk" FOREIGN KEY (...) REFERENCES "t" (...) [ON DELETE ...] */
void render_fk_clause(sbuf *b, const cctx *c, const fk_def *fk);
/* CONSTRAINT "pk" PRIMARY KEY (...) */
void render_pk_clause(sbuf *b, const cctx *c, const table *t);
/* CONSTRAINT "ix" UNIQUE (...) */
void render_unique_clause(sbuf *b, const cctx *c, const index_def *ix);
/* CONSTRAINT "ck" CHECK (...) */
int render_check_clause(sbuf *b, const cctx *c, const table *t, const check_def *ck);
/* "a", "b" DESC - an index's columns */
void render_index_cols(sbuf *b, const cctx *c, const index_def *ix);
/* [ON DELETE ...] [ON UPDATE ...] */
void render_fk_actions(sbuf *b, const fk_def *fk);

int render_predicate(sbuf *b, const cctx *c, const table *t, const json_t *p);
int render_check(sbuf *b, const cctx *c, const table *t, const json_t *check);
/* " DEFAULT ..." for a column (nothing when it has none). */
int render_default(sbuf *b, const cctx *c, const column *col);
const table *find_table(const cctx *c, const char *name);

/* The current-time and new-UUID expressions of the compile target's dialect
 * (common.c). */
int render_now(sbuf *b, const cctx *c, const column *col);
int render_uuid(sbuf *b, const cctx *c);

/* add_column of a NOT NULL column without a default to a table that may
 * hold rows: the run-time check that it is empty (spec: an error on all
 * three when the table has rows; MySQL would fill in zeros). */
void add_empty_table_check(const cctx *c, const table *t, const column *col);

/* Does the op ask to be "online" on a table that existed before its
 * migration? A table the migration creates is empty and nobody else uses
 * it yet, so there the plain statements (in the transaction) are as good. */
int op_wants_online(const cctx *c, const table *t);

/* ALTER TABLE ... ADD CONSTRAINT "fk" FOREIGN KEY ... */
void add_fk(const cctx *c, const char *table_name, const fk_def *fk);
/* A query that finds a row of table_name whose foreign key columns (all
 * non-NULL, as MATCH SIMPLE) match no row of the referenced table, `child`
 * and `parent` its aliases (`as` between a table and its alias, " " or
 * " AS "); it selects the row's key columns when `show`, else 1. */
char *fk_orphan_query(const cctx *c, const char *table_name, const fk_def *fk, int show,
                      const char *child, const char *parent, const char *as);
/* Pending foreign keys of other tables that reference `t` (declared before
 * t existed, in the same migration). */
void add_pending_fks(const cctx *c, const table *t);
/* ALTER TABLE ... ADD CONSTRAINT "ix" UNIQUE (...) */
void add_unique(const cctx *c, const table *t, const index_def *ix);
/* ALTER TABLE ... ADD CONSTRAINT "ck" CHECK (...) */
int add_check(const cctx *c, const table *t, const check_def *ck);
/* A `sql` op: the statements given for this dialect, else for "all". */
int compile_sql(const cctx *c);

/* DML, shared by all dialects (dml.c). */
int compile_dml(cctx *c);

#endif
