/*
 * nameset.h - a counted set of names, each counted per kind (table, index,
 * ...): the schema model's index of the database-wide names in use, so that
 * asking "is this name taken, and by what?" costs one hash lookup instead of
 * a walk over every table (which made compiling N migrations O(N^2)).
 */
#ifndef STRATA_NAMESET_H
#define STRATA_NAMESET_H

#include <stddef.h>

#include "util.h"

/* Kinds. The owners of a name come first, in the order name_owner reports
 * them when a name has several; then what is counted about a table name
 * without owning it. */
enum {
    NAME_TABLE = 0,
    NAME_PRIMARY_KEY,
    NAME_INDEX,
    NAME_FOREIGN_KEY,
    NAME_CHECK,
    NAME_ENUM_TYPE,
    NAME__OWNERS,
    NAME_TABLE_FOLDED = NAME__OWNERS, /* a table's name in lower case */
    NAME__KINDS
};

typedef struct nameset nameset;

nameset *nameset_new(void);
void nameset_free(nameset *ns);
/* Count one more (delta 1) or one fewer (delta -1) use of `name` as `kind`. */
void nameset_count(nameset *ns, const char *name, int kind, int delta);
/* The first owner kind (in enum order) with a use of `name`, or -1 if none. */
int nameset_kind(const nameset *ns, const char *name);
/* How many uses of `name` as `kind` are counted. */
unsigned nameset_uses(const nameset *ns, const char *name, int kind);
/* Links from a name to other names, counted: the model links a table to
 * each table with a foreign key that references it (once per key).
 * nameset_links lists the linked names, each once (NULL when none). */
void nameset_link(nameset *ns, const char *name, const char *from, int delta);
const strvec *nameset_links(const nameset *ns, const char *name);
/* A number kept with a name (0 until set). */
void nameset_set_value(nameset *ns, const char *name, size_t value);
size_t nameset_value(const nameset *ns, const char *name);

#endif
