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
    char checksum[65]; /* SHA-256 of the canonical JSON, without "lint", "when" and "origin" */
    /* "lint": {"ignore": [rule ids], "reason": "..."}: the rules `migrations
     * lint` does not report for this migration, and why. It changes no SQL,
     * so it is left out of the checksum: adding it to an applied migration
     * is not a change. */
    strvec lint_ignore;
    char *lint_reason;
    /* "when": the flags that must all be on for the migration to apply
     * (empty: it always applies), and the default it declares for them
     * (-1: none, 0 off, 1 on; core/flags.c) */
    strvec when_flags;
    int when_default;
    char *origin_typeorm; /* "origin.typeorm": TypeORM's name of the migration, or NULL */
} migration;

/* A migration file that does not load (migrations_load with
 * MIGRATIONS_KEEP_BROKEN): unreadable, bad JSON, a bad operation. */
typedef struct broken_migration {
    char *id; /* its file stem */
    char *path;
    char *error; /* why, as the load said it */
    int code;    /* the load's error code */
} broken_migration;

typedef struct migration_set {
    migration **v;
    size_t n, cap;
    strvec warnings;          /* e.g. shortened author-given names */
    broken_migration *broken; /* with MIGRATIONS_KEEP_BROKEN, in version order */
    size_t nbroken;
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
 * `dirs` may name several directories separated by ':', read as one set.
 * A directory that does not exist, or is not one, is bad input (EINPUT), as
 * is a file named like a migration that is not a readable regular file. */
int migrations_load_dir(const char *dirs, migration_set *out);

enum {
    MIGRATIONS_MISSING_OK = 1u << 0,  /* a directory that does not exist is empty */
    MIGRATIONS_KEEP_BROKEN = 1u << 1, /* a file that does not load goes to out->broken
                                         instead of failing the load */
};
/* migrations_load_dir with MIGRATIONS_* flags. */
int migrations_load(const char *dirs, unsigned flags, migration_set *out);
/* Resolve a `to` bound (--to) in an ordered set: a migration's id names
 * that migration, a version (1-20 digits) the last migration of that
 * version. *upto gets the number of migrations up to and including it.
 * Anything else, or a version or id no migration of the set has, is
 * STRATA_EINPUT naming it (`dirs` says where they were looked for). */
int migrations_resolve_to(const migration_set *set, const char *to, const char *dirs, size_t *upto);
/* Is s a version: 1 to 20 decimal digits? */
int migration_version_text(const char *s);

/* The directory of a ':' list that new migration files go to: the first
 * (caller frees). */
char *migrations_first_dir(const char *dirs);

/* A new migration's name: letters, digits, '_' and '-', not empty. */
int migration_name_check(const char *name);
/* Write `text` as a new file DIR/<UTC yyyymmddHHMMSS>_NAME.json, creating
 * DIR when missing and never replacing a file; DIR is the first directory
 * of the ':' list `dirs`. *path_out: the path. */
int migration_file_write(const char *dirs, const char *name, const char *text, char **path_out);
void migration_set_free(migration_set *s);
/* Compare two decimal version strings numerically. */
int version_cmp(const char *a, const char *b);
/* Compare two migration ids ("<version>_<name>") in migration order. */
int migration_id_cmp(const char *a, const char *b);
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

/* A decimal number ([+-]digits[.digits][e[+-]digits]) for a
 * decimal(precision, scale) column: rounded to `scale` fraction digits,
 * half away from zero as PostgreSQL and MySQL round, into *out (caller
 * frees; `out` may be NULL). NULL if it fits, else why not (static text):
 * more integer digits than precision - scale. */
const char *decimal_round(const char *text, int precision, int scale, char **out);
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
    size_t replayed; /* how many migrations replayed whole: the failing one's
                        index when plan_replay fails */
} down_plan;

int plan_replay(const migration_set *set, size_t upto, schema *s, down_plan *p);
/* Load every migration of `dir` (NULL: ./migrations) and replay them all
 * offline: 0 when each parses and validates, else the first error (set).
 * What check and fleets make sure of before they touch a database. */
int migrations_check_dir(const char *dir);
void plan_free(down_plan *p);

#endif
