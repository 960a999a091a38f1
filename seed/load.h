/*
 * load.h - the seed loader's shared state (private to the loader): the
 * context of one seed, its tables and items, and the functions each phase
 * offers the others.
 *
 *   load.c     the whole seed, shared helpers, progress
 *   plan.c     phase 1: the document into items and tables, in order
 *   resolve.c  phase 2: each row's status and values
 *   write.c    phase 2: the rows of the document into the database
 *   files.c    phase 2: the rows of CSV and NDJSON files
 *   finish.c   phase 3: back-references, updates, sequences
 *
 * load.c's header comment describes the phases and the modes.
 */
#ifndef STRATA_SEED_LOAD_H
#define STRATA_SEED_LOAD_H

#include <stdio.h>

#include "jstream.h"
#include "seed.h"

enum { MODE_INSERT = 1, MODE_INSERT_MISSING, MODE_UPSERT };
enum { ST_UNKNOWN = 0, ST_NEW, ST_EXISTING, ST_SKIPPED };

/* A resolution that found the row depends on a skipped row. */
#define SKIP_ROW 1

typedef struct seed_table seed_table;

typedef struct seed_item {
    seed_table *st;
    size_t pos;               /* index in st->items */
    json_t *row;              /* the row object (the document owns it) */
    char *where;              /* its JSON path, for messages */
    struct seed_item *parent; /* $children: the parent row */
    const fk_def *parent_fk;  /* this table's foreign key to the parent's table */
    struct seed_item *owner;  /* the row this one was created with */
    int mode;
    const char *alias;
    int referenced; /* has an alias, children or is an inline $insert */
    int status;
    int busy; /* guards against reference cycles while resolving */
    int inserted;
    json_t *vals;    /* resolved values of a new row, column -> JSON */
    json_t *db;      /* the row as in the database (existing, or read back) */
    json_t *gen;     /* generated values by column */
    strvec deferred; /* columns written NULL at insert and set at the end */
    /* Rows of a streamed document's "rows" list (see seed_block): */
    int transient; /* read in phase 2, freed once written (not in c->items) */
    int in_block;  /* a kept row of st->blocks[block], element array_index */
    size_t block, array_index;
    size_t next_pos; /* the table's row count after this row and its nested rows */
} seed_item;

/*
 * A "rows" list of a seed file read as a stream (jstream.h). Phase 1 reads
 * every row once, checks it, and keeps as items only the rows others may
 * need - those with $as, $children or $insert - and remembers where the
 * list starts; phase 2 reads the list again and writes the other rows as
 * they come, so memory does not grow with the number of rows.
 */
typedef struct seed_block {
    js_mark at;  /* the '[' of the list */
    char *where; /* "tables[3].rows" */
    int mode;
    size_t n;         /* elements */
    size_t first_pos; /* the table's row count before the list */
    seed_item **kept; /* its kept rows, in order */
    size_t nkept;
    long long bytes; /* the list's text: the seed's size on Galera (split.c) */
} seed_block;

typedef struct seed_file {
    char *path;
    char *where;
    int mode;
} seed_file;

struct seed_table {
    const table *t;
    int order_hint;
    int placed;
    seed_item **items; /* the rows kept in memory, in document order */
    size_t nitems, cap;
    size_t nrows; /* rows of the table in the document so far, kept or not */
    seed_block *blocks;
    size_t nblocks;
    seed_file *files;
    size_t nfiles;
    strvec key;
    int has_key;
    strvec deferred_cols;        /* foreign-key columns of back-references in a cycle */
    strvec after;                /* tables to load first though no foreign key says so: parents of
                                    $children, tables of inline $inserts */
    unsigned char *serial_given; /* per column: an explicit value was written */
    long long inserted, skipped, updated;
};

typedef struct seed_update {
    seed_table *st;
    json_t *spec;
    char *where;
} seed_update;

typedef struct seed_ctx {
    strata_conn *conn;
    strata_dialect d;
    schema s;
    const strata_seed_options *opt;
    const char *path;
    char *dir;
    json_t *doc; /* the document in memory, or NULL when read as a stream: */
    jstream *js; /* the seed file as a stream */
    js_mark tables_at;
    int has_tables;
    int mode;
    seed_table **tables;
    size_t ntables;
    seed_table **order;
    size_t norder;
    seed_item **items;
    size_t nitems, cap;
    json_t *aliases;      /* alias -> item index */
    json_t *inline_items; /* "@<address>" of an $insert object -> item index */
    json_t *lookups;      /* cache of $lookup results */
    seed_update *updates;
    size_t nupdates;
    strvec refs;      /* every $ref target, for the early check */
    strvec ref_where; /* where each was found */
    char now[32];
    strvec warnings;
    /* progress (the caller's opt->progress_cb) */
    double started, last_tick;
    long long table_rows;
    size_t tables_done; /* tables of `order` loaded before the current one */
    /* totals */
    long long updated_rows, sequences;
    fk_def **synthetic; /* $children links named by column, without a foreign key */
    size_t nsynthetic;
    seed_split split; /* committed in parts (split.c) */
} seed_ctx;

/* ---- load.c ---- */

int mode_parse(const char *s);
/* A quoted identifier of the seed's dialect (caller frees). */
char *qi(const seed_ctx *c, const char *name);
/* "<file>: table 't', row N (path)[, column 'c']: ..." as STRATA_EINPUT. */
int item_error(const seed_ctx *c, const seed_item *it, const char *col, const char *fmt, ...)
    STRATA_PRINTF(4, 5);
/* "<file>: <where>: table 't' has no column 'c'", with the nearest name. */
int unknown_column(seed_ctx *c, const char *where, const table *t, const char *name);
/* The columns that identify a row of `st` (see load.c); `tmp` may hold
 * them. NULL when the table has no key at all. */
const strvec *seed_table_key(seed_table *st, const strvec *given, strvec *tmp);
/* Is v a generator ($id, $uuid, $now, $password)? */
int is_generator(const json_t *v);
/* The columns a row gives values for that are not generated. */
void item_given(const seed_item *it, strvec *out);
/* Tell the caller's progress callback how the table stands: at most every
 * half second while it loads, and once when it is done. */
void progress_tick(seed_ctx *c, const char *table, long long rows, int done);

/* Free an item and what it owns. */
void item_free(seed_item *it);

/* ---- split.c ---- */

/* Before anything is written: refuse a standby; on Galera, a seed bigger
 * than one transaction may be (wsrep_max_ws_size, wsrep_max_ws_rows) is an
 * error, or, with non_atomic, committed in parts (c->split). */
int seed_fit_database(seed_ctx *c);

/* ---- plan.c ---- */

/* A seed file read as a stream that turns out to be a Medusa seed: the
 * caller loads it whole instead. */
#define SEED_NOT_STREAMED 1

/* Phase 1 for a seed file read as a stream (c->js): the top-level keys,
 * then as seed_plan. SEED_NOT_STREAMED for a Medusa seed file. */
int seed_plan_stream_top(seed_ctx *c);
int seed_plan_stream(seed_ctx *c);
/* A row's "$optional" columns that table st lacks are removed from it. */
int seed_drop_absent_optional(seed_ctx *c, seed_table *st, json_t *row, const char *where);

/* Phase 1: walk the document (c->doc) into tables and items, check every
 * $ref, and put the tables in load order (c->order). */
int seed_plan(seed_ctx *c);
/* The item an alias names, and the column of "alias.column" (else NULL);
 * -1 when the alias is unknown. */
int seed_item_find(const seed_ctx *c, const char *ref, seed_item **it, const char **col);

/* ---- resolve.c ---- */

/* Settle whether a row is new, exists (by its key) or is skipped. */
int item_status(seed_ctx *c, seed_item *it);
/* Resolve every value of a row into it->vals. */
int item_resolve(seed_ctx *c, seed_item *it);
/* A value of the document, generators and references resolved (new
 * reference in *out); SKIP_ROW when it refers to a skipped row. `it` is
 * NULL outside a row (updates, files). */
int resolve_value(seed_ctx *c, seed_item *it, const char *col, json_t *v, json_t **out);
/* The value of `col` of the row `it`; SKIP_ROW when that row was skipped. */
int alias_value(seed_ctx *c, seed_item *it, const char *col, json_t **out);
/* One row of `t` whose `cols` equal those of `where`, as a JSON object
 * (*out NULL when there is none). */
int fetch_row(seed_ctx *c, const table *t, json_t *where, const strvec *cols, json_t **out);

/* ---- write.c ---- */

/* Phase 2 for the rows the document gives for `st`. */
int load_doc_rows(seed_ctx *c, seed_table *st);
/* "list[i]", the JSON path of element i of a list (caller frees). */
char *element_where(const char *list, size_t i);
/* "a", "b", ...: quoted column names (caller frees). */
char *column_list(const seed_ctx *c, const strvec *cols);

/* ---- files.c ---- */

/* Phase 2 for one CSV or NDJSON file of `st`. */
int load_file(seed_ctx *c, seed_table *st, seed_file *f);

/* ---- finish.c ---- */

/* Phase 3: sequences past explicit ids (PostgreSQL; checked elsewhere),
 * deferred back-references, and the `update` entries. */
int fix_sequences(seed_ctx *c, seed_table *st);
int set_deferred(seed_ctx *c);
int run_update(seed_ctx *c, seed_update *u);

#endif
