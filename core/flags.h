/*
 * flags.h - feature flags: which migrations apply.
 *
 * A migration may say `"when": {"flag": NAME or [NAMES], "default": B}`: it
 * applies only while every one of those flags is on. A flag is off unless
 * a file declares `"default": true` for it (files may repeat a default but
 * not contradict each other) or a setting turns it on; settings come in
 * order and a later one wins. The engine knows nothing of any particular
 * flag: they are names the migration files use.
 */
#ifndef STRATA_FLAGS_H
#define STRATA_FLAGS_H

#include "migration.h"

/* Where a flag's value comes from. */
typedef enum { FLAG_FROM_NONE = 0, FLAG_FROM_DEFAULT, FLAG_FROM_SETTING } flag_from;

/* The flags the migration files name, with their values. */
typedef struct flagset {
    strvec names;    /* sorted */
    int *on;         /* per name */
    flag_from *from; /* per name */
} flagset;

/* Parse one setting: "NAME" or "+NAME" (on), "-NAME" (off), "NAME=VALUE"
 * with VALUE true/on/yes/1 or false/off/no/0. Names are matched
 * lower-cased. *name is the caller's to free. */
int flag_setting_parse(const char *setting, char **name, int *on);

/* The flags `all` names: the defaults the files declare (two files that
 * disagree are an EINPUT error naming both), then the settings in order.
 * A setting of a flag no file names is kept (it may matter to other
 * migrations later) but changes nothing. */
int flags_resolve(const migration_set *all, const char *const *settings, size_t n, flagset *out);
void flagset_free(flagset *f);
/* Is flag `name` on? (A flag no file names is off.) */
int flag_on(const flagset *f, const char *name);
/* Does migration m apply with these flags (all its flags on)? */
int flags_allow(const flagset *f, const migration *m);
/* The first of m's flags that is off, or NULL. */
const char *flags_first_off(const flagset *f, const migration *m);
/* m's flags as text, "a" or "a, b" (caller frees); NULL when it has none. */
char *flags_describe(const migration *m);

/*
 * The migrations that apply, in order, as a view of `all` (view->v points
 * at all's migrations; free only view->v): those whose flags are on, and
 * every one the database has a history row for (`present`, may be NULL
 * offline) whatever its flags say, since it is part of the schema there.
 * With `present_only`, only the ones it has (what a revert works on).
 * `in_view[i]` (all->n entries, may be NULL) gets migration i's position in
 * the view, or -1 when it is skipped. A migration the database has although
 * one of its flags is off gets a line in `warnings` (may be NULL).
 */
void migrations_select(const migration_set *all, const flagset *f, const strvec *present,
                       int present_only, migration_set *view, int *in_view, strvec *warnings);

/* Load every migration of `dir` into `all` and choose, as `view` (free only
 * view->v), those that apply with the flag `settings` and, when `present`
 * is not NULL, what the database has (migrations_select). */
int migrations_load_applying(const char *dir, const char *const *settings, size_t n,
                             const strvec *present, migration_set *all, migration_set *view,
                             strvec *warnings);

#endif /* STRATA_FLAGS_H */
