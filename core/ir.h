/*
 * ir.h - the neutral intermediate representation: column types, operations
 * and the schema model they apply to.
 *
 * Migration files are parsed into `op`s (parse.c). The schema model
 * (model.c) replays ops offline, so every later stage - validation, the
 * derived `down`, the dialect compilers - can ask what a table looked like
 * before an operation. Predicates, literal defaults and insert rows stay as
 * jansson values: they are already a tree, and the compilers render them
 * directly.
 *
 * Ownership: an op owns everything it points to (free with op_free); the
 * schema owns its tables and enums (schema_free). Copies are deep.
 */
#ifndef STRATA_IR_H
#define STRATA_IR_H

#include <jansson.h>

#include "util.h"

/* ---- types ---- */

typedef enum {
    TY_SERIAL,
    TY_BIGSERIAL,
    TY_SMALLINT,
    TY_INTEGER,
    TY_BIGINT,
    TY_DECIMAL,
    TY_REAL,
    TY_DOUBLE,
    TY_BOOLEAN,
    TY_STRING,
    TY_TEXT,
    TY_UUID,
    TY_DATE,
    TY_TIME,
    TY_TIMESTAMP,
    TY_TIMESTAMPTZ,
    TY_JSON,
    TY_JSONB,
    TY_BINARY,
    TY_ENUM,
    TY__COUNT
} type_kind;

extern const char *const type_names[TY__COUNT];

typedef struct col_type {
    type_kind kind;
    int length;      /* string: default 255 */
    int precision;   /* decimal (required); time types 0-6 (default 6) */
    int scale;       /* decimal (default 0) */
    char *enum_name; /* named enum (create_enum), or NULL for an inline enum */
    strvec values;   /* inline enum values */
    char *pg_type;   /* PostgreSQL type of an inline enum: <table>_<column>_enum,
                        fixed when the column is created, kept across renames */
} col_type;

typedef enum {
    DEF_NONE = 0,
    DEF_LITERAL, /* a JSON literal (including null) */
    DEF_NOW,
    DEF_UUID,
    DEF_SQL, /* per-dialect SQL text */
} default_kind;

typedef struct col_default {
    default_kind kind;
    json_t *literal;                 /* DEF_LITERAL */
    char *sql[STRATA_DIALECT_COUNT]; /* DEF_SQL; NULL where not given */
} col_default;

typedef struct column {
    char *name;
    col_type type;
    int nullable;
    col_default def;
    char *comment;
} column;

typedef enum {
    FK_NO_ACTION = 0,
    FK_RESTRICT,
    FK_CASCADE,
    FK_SET_NULL,
} fk_action;

extern const char *const fk_action_names[4];

typedef struct index_col {
    char *name;
    int desc;
} index_col;

typedef struct index_def {
    char *name;
    index_col *cols;
    size_t ncols;
    int unique;
    int constraint;                     /* a UNIQUE constraint (add_unique / create_table unique) */
    json_t *where;                      /* predicate, or NULL */
    char *method[STRATA_DIALECT_COUNT]; /* NULL = default (btree) */
    int virtual_helpers;                /* MySQL, a partial unique index built "online": its
                                           helper columns are VIRTUAL (a STORED one cannot be
                                           added in place; dialects/mysql.c) */
} index_def;

typedef struct fk_def {
    char *name;
    strvec cols;
    char *ref_table;
    strvec ref_cols;
    fk_action on_delete;
    fk_action on_update;
} fk_def;

typedef struct check_def {
    char *name;
    json_t *check; /* a predicate object, a raw SQL string, or a per-dialect object */
} check_def;

/* ---- schema model ---- */

typedef struct table {
    char *name;
    column *cols;
    size_t ncols, cap_cols;
    strvec pk;
    char *pk_name;
    index_def *idx;
    size_t nidx, cap_idx;
    fk_def *fks;
    size_t nfks, cap_fks;
    check_def *checks;
    size_t nchecks, cap_checks;
    /* bookkeeping for validation: may the table hold rows? */
    int created_in; /* index of the migration that created it (-1: unknown) */
    int has_rows;   /* an insert touched it in the current migration */
} table;

typedef struct enum_def {
    char *name;
    strvec values;
} enum_def;

struct nameset;

typedef struct schema {
    table *tables;
    size_t ntables, cap_tables;
    enum_def *enums;
    size_t nenums, cap_enums;
    int migration_index; /* the migration being replayed */
    /* The database-wide names in use (tables, keys, indexes, checks, enum
     * types), kept by model_apply; NULL until the model first needs it, and
     * never copied (schema_copy leaves it for the copy to build). */
    struct nameset *names;
    /* A cache for schema_table: each table's position (plus one) by name,
     * valid while table_pos_n == ntables; code that renames or removes a
     * table calls schema_tables_moved. */
    struct nameset *table_pos;
    size_t table_pos_n;
} schema;

/* ---- operations ---- */

typedef enum {
    OP_CREATE_TABLE,
    OP_DROP_TABLE,
    OP_RENAME_TABLE,
    OP_ADD_COLUMN,
    OP_DROP_COLUMN,
    OP_RENAME_COLUMN,
    OP_ALTER_COLUMN,
    OP_CREATE_INDEX,
    OP_DROP_INDEX,
    OP_ADD_FOREIGN_KEY,
    OP_DROP_FOREIGN_KEY,
    OP_ADD_UNIQUE,
    OP_DROP_UNIQUE,
    OP_ADD_PRIMARY_KEY,
    OP_DROP_PRIMARY_KEY,
    OP_ADD_CHECK,
    OP_DROP_CHECK,
    OP_CREATE_ENUM,
    OP_ALTER_ENUM,
    OP_DROP_ENUM,
    OP_INSERT,
    OP_UPDATE,
    OP_DELETE,
    OP_SQL,
    OP__COUNT
} op_kind;

extern const char *const op_names[OP__COUNT];

/* What alter_column changes. */
enum {
    ALTER_TYPE = 1,
    ALTER_NULLABLE = 2,
    ALTER_DEFAULT = 4,
    ALTER_DROP_DEFAULT = 8,
};

typedef struct op {
    op_kind kind;
    char *path; /* JSON path of the op in its file, e.g. "up[3]" */
    char *table;
    char *name; /* index/constraint/enum name; drop_column & co: column */
    char *to;   /* rename target */
    int if_exists;
    int if_not_exists;
    /* create_table: a whole table definition; add_column: one column */
    table *def;       /* create_table */
    column *col;      /* add_column; alter_column: the new definition fields */
    unsigned alter;   /* ALTER_* bits for alter_column */
    index_def *index; /* create_index, add_unique */
    fk_def *fk;       /* add_foreign_key */
    check_def *check; /* add_check */
    strvec cols;      /* add_primary_key columns */
    strvec values;    /* create_enum / alter_enum */
    json_t *rows;     /* insert: array of objects */
    json_t *set;      /* update */
    json_t *where;    /* update / delete */
    /* sql op: statements per dialect; [STRATA_DIALECT_COUNT] is "all" */
    strvec sql[STRATA_DIALECT_COUNT + 1];
    int has_sql[STRATA_DIALECT_COUNT + 1];
    /* add_column restoring a dropped column (derived inverse): the table may
     * hold rows, so the engine checks at run time that it is empty. */
    int restore;
    /* create_index, add_foreign_key, add_check with "online": true: built
     * without blocking writes where the database can (docs/operations.md,
     * "Online operations") */
    int online;
} op;

typedef struct op_list {
    op **v;
    size_t n, cap;
} op_list;

void op_list_push(op_list *l, op *o);
void op_list_free(op_list *l);

op *op_new(op_kind kind);
void op_free(op *o);
op *op_copy(const op *o);

/* ---- model objects ---- */

void col_type_free(col_type *t);
void col_type_copy(col_type *dst, const col_type *src);
void col_default_free(col_default *d);
void col_default_copy(col_default *dst, const col_default *src);
void column_free(column *c);
void column_copy(column *dst, const column *src);
void index_free(index_def *ix);
void index_copy(index_def *dst, const index_def *src);
void fk_free(fk_def *fk);
void fk_copy(fk_def *dst, const fk_def *src);
void check_free(check_def *ck);
void check_copy(check_def *dst, const check_def *src);
void table_free(table *t);
void table_free_contents(table *t); /* for tables stored by value */
table *table_new(const char *name);
void table_copy(table *dst, const table *src);

void table_add_column(table *t, const column *c); /* copies */
void table_add_index(table *t, const index_def *ix);
void table_add_fk(table *t, const fk_def *fk);
void table_add_check(table *t, const check_def *ck);

/* Lookups by exact name; NULL when absent. The const versions are for
 * readers (the compilers, diff, the seed loader); the _mut versions for
 * whoever owns and changes the table (the model, the parser, introspection). */
const column *table_column(const table *t, const char *name);
const index_def *table_index(const table *t, const char *name);
const fk_def *table_fk(const table *t, const char *name);
const check_def *table_check(const table *t, const char *name);
column *table_column_mut(table *t, const char *name);
index_def *table_index_mut(table *t, const char *name);
fk_def *table_fk_mut(table *t, const char *name);
check_def *table_check_mut(table *t, const char *name);
int table_column_pos(const table *t, const char *name);
/* True when the column is (part of) the primary key. */
int table_in_pk(const table *t, const char *col);
/* The serial column that is the table's single-column primary key, or NULL. */
const column *table_serial_pk(const table *t);

void schema_init(schema *s);
void schema_free(schema *s);
void schema_copy(schema *dst, const schema *src);
/* Lookups by name, const for readers and _mut for the schema's owner, as for
 * tables above. */
const table *schema_table(const schema *s, const char *name);
const enum_def *schema_enum(const schema *s, const char *name);
table *schema_table_mut(schema *s, const char *name);
enum_def *schema_enum_mut(schema *s, const char *name);
/* Say that a table was renamed or removed (positions or names changed):
 * schema_table's cache is dropped. Appending a table needs no call. */
void schema_tables_moved(schema *s);
/* Say that table i is about to be removed (cheap when it is the last). */
void schema_table_removing(schema *s, size_t i);
/* False when no foreign key references `table` (true when unsure: the
 * schema's name index is kept by model_apply, not by copies). Lets the
 * compilers and the model skip a walk over every table. */
int schema_maybe_referenced(const schema *s, const char *table);
/* Find a table by name ignoring case (for the "differ only by case" check). */
const table *schema_table_ci(const schema *s, const char *name);

/* The enum values of a column of type enum (named or inline). */
const strvec *column_enum_values(const schema *s, const column *c);

/* Type helpers */
int type_is_integer(type_kind k); /* smallint/integer/bigint/serial/bigserial */
int type_is_serial(type_kind k);
int type_is_text(type_kind k); /* string/text */
int type_is_json(type_kind k);
int type_is_time(type_kind k);
/* Two columns can be linked by a foreign key. */
int types_fk_compatible(const col_type *a, const col_type *b);
/* Render a type the neutral way ("string(255)", "decimal(10,2)") for messages. */
char *type_describe(const col_type *t);
/* Two types are equal (kind and parameters). */
int col_type_equal(const col_type *a, const col_type *b);

/* Does an index (columns or predicate), a check, or a foreign key of table
 * `table_name` (either side) use the column? */
int index_uses_column(const index_def *ix, const char *col);
int check_uses_column(const check_def *ck, const char *col);
int fk_uses_column(const fk_def *fk, const char *table_name, const char *col);

/* Collect the column names a predicate mentions. */
void predicate_columns(const json_t *pred, strvec *out);
/* Rewrite column references in a predicate (returns a new reference). */
json_t *predicate_rename_column(const json_t *pred, const char *from, const char *to);

#endif /* STRATA_IR_H */
