/*
 * migration.h - migration files: parsing (parse.c), loading a directory in
 * order (migrations.c), checksums, and validation against the schema model
 * with the derived `down` (model.c).
 */
#ifndef STRATA_MIGRATION_H
#define STRATA_MIGRATION_H

#include "ir.h"

typedef enum {
    DOWN_AUTO = 0,     /* omitted or "auto": derived from the schema model */
    DOWN_EXPLICIT,     /* a list of operations (possibly empty) */
    DOWN_IRREVERSIBLE, /* "irreversible" */
} down_mode;

typedef struct migration {
    char *id;      /* file stem "<version>_<name>" */
    char *version; /* decimal digits */
    char *name;
    char *path;
    char *description;
    int transaction;
    op_list up;
    op_list down; /* explicit down */
    down_mode down_mode;
    char checksum[65]; /* SHA-256 of the canonical JSON */
} migration;

typedef struct migration_set {
    migration **v;
    size_t n, cap;
    strvec warnings; /* e.g. shortened author-given names */
} migration_set;

/* Parse a migration from JSON text. `path` names the file in messages;
 * `stem` is the file stem. Errors are EINPUT naming file and JSON path. */
int migration_parse(const char *path, const char *stem, const char *text, migration **out);
/* The same, appending to `warnings` (may be NULL) a line for every
 * author-given name that had to be shortened. */
int migration_parse_warn(const char *path, const char *stem, const char *text, migration **out,
                         strvec *warnings);
/* Read and parse one file. */
int migration_load_file(const char *path, migration **out);
void migration_free(migration *m);

/* Load every migration of a directory, ordered by numeric version then stem.
 * A missing directory is an empty set. */
int migrations_load_dir(const char *dir, migration_set *out);

/* A new migration's name: letters, digits, '_' and '-', not empty. */
int migration_name_check(const char *name);
/* Write `text` as a new file DIR/<UTC yyyymmddHHMMSS>_NAME.json, creating
 * DIR when missing and never replacing a file. *path_out: the path. */
int migration_file_write(const char *dir, const char *name, const char *text, char **path_out);
void migration_set_free(migration_set *s);
/* Compare two decimal version strings numerically. */
int version_cmp(const char *a, const char *b);
/* Is `name` a valid migration file name? (<digits>_<[A-Za-z0-9_-]+>.json) */
int migration_filename_valid(const char *name);

/* Canonical JSON checksum of a JSON document (keys sorted, compact). */
void json_checksum(const json_t *root, char out[65]);

/*
 * The schema model (model.c). model_apply() validates one operation against
 * the model (unknown tables or columns, type mismatches, names differing only
 * by case, ...), appends its inverse operations to `inverse` (in the order
 * they must run, or sets *irreversible with a reason) and applies it. `ops`
 * and `index` give the operation's place in its migration, so foreign keys
 * to tables created later in the same migration resolve. `file` names the
 * migration file in messages.
 */
typedef struct apply_ctx {
    const char *file;
    const op_list *ops; /* the list the op belongs to (may be NULL) */
    size_t index;       /* its position there */
    strvec *warnings;   /* optional */
} apply_ctx;

/* Does a JSON value fit a column? NULL if so, else why not (static text). */
const char *value_fits(const schema *s, const column *c, const json_t *v);
/* Is s an ISO-8601 date-time (YYYY-MM-DD[( |T)HH:MM[:SS[.f]]][Z|+HH[:MM]])? */
int valid_timestamp(const char *s);

int model_apply(schema *s, const op *o, const apply_ctx *ctx, op_list *inverse,
                char **irreversible);

/* Begin / end a migration's replay (resets per-migration bookkeeping). */
void model_begin_migration(schema *s, int index);

/*
 * Replay migrations [0, upto) into `s` (which must start empty), validating
 * each. With `downs`, also compute each migration's effective down:
 * downs[i] gets the explicit or derived ops, reversible[i] 0 with why[i] set
 * when it cannot be reverted.
 */
typedef struct down_plan {
    size_t n;
    op_list *downs;
    int *reversible;
    char **why;
} down_plan;

/* The ids of the applied migrations in a database's history (engine/history.c);
 * *exists says whether the history table exists. */
int history_applied_ids(strata_conn *conn, strvec *ids, int *exists);

int plan_replay(const migration_set *set, size_t upto, schema *s, down_plan *p);
void plan_free(down_plan *p);

#endif
