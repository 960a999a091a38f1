/*
 * nameset.c - an open-addressing hash table from name to a use count per
 * kind. Names are never removed from the table, only counted down to zero:
 * a schema's names are few thousand at most, and keeping dead entries makes
 * lookups and updates simple (no tombstones).
 */
#include "nameset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct name_entry {
    char *name; /* NULL: empty slot */
    unsigned count[NAME__KINDS];
    size_t value;
    strvec links;          /* distinct linked names */
    unsigned *link_counts; /* how many times each is linked */
} name_entry;

struct nameset {
    name_entry *slots;
    size_t cap; /* a power of two */
    size_t used;
};

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

nameset *nameset_new(void)
{
    nameset *ns = xcalloc(1, sizeof *ns);
    ns->cap = 64;
    ns->slots = xcalloc(ns->cap, sizeof *ns->slots);
    return ns;
}

void nameset_free(nameset *ns)
{
    if (!ns)
        return;
    for (size_t i = 0; i < ns->cap; i++) {
        free(ns->slots[i].name);
        strvec_free(&ns->slots[i].links);
        free(ns->slots[i].link_counts);
    }
    free(ns->slots);
    free(ns);
}

/* The slot holding `name`, or the empty slot where it would go. */
static name_entry *find_slot(name_entry *slots, size_t cap, const char *name)
{
    size_t i = (size_t)name_hash(name) & (cap - 1);
    while (slots[i].name && strcmp(slots[i].name, name) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static void grow(nameset *ns)
{
    size_t cap = ns->cap * 2;
    name_entry *slots = xcalloc(cap, sizeof *slots);
    for (size_t i = 0; i < ns->cap; i++)
        if (ns->slots[i].name)
            *find_slot(slots, cap, ns->slots[i].name) = ns->slots[i];
    free(ns->slots);
    ns->slots = slots;
    ns->cap = cap;
}

/* The entry of `name`, added when absent. */
static name_entry *entry(nameset *ns, const char *name)
{
    if ((ns->used + 1) * 4 > ns->cap * 3)
        grow(ns);
    name_entry *e = find_slot(ns->slots, ns->cap, name);
    if (!e->name) {
        e->name = xstrdup(name);
        ns->used++;
    }
    return e;
}

void nameset_count(nameset *ns, const char *name, int kind, int delta)
{
    if (!name)
        return;
    name_entry *e = entry(ns, name);
    if (delta > 0)
        e->count[kind]++;
    else if (e->count[kind] > 0)
        e->count[kind]--;
}

int nameset_kind(const nameset *ns, const char *name)
{
    const name_entry *e = find_slot(ns->slots, ns->cap, name);
    if (!e->name)
        return -1;
    for (int k = 0; k < NAME__OWNERS; k++)
        if (e->count[k])
            return k;
    return -1;
}

unsigned nameset_uses(const nameset *ns, const char *name, int kind)
{
    const name_entry *e = find_slot(ns->slots, ns->cap, name);
    return e->name ? e->count[kind] : 0;
}

void nameset_link(nameset *ns, const char *name, const char *from, int delta)
{
    if (!name || !from)
        return;
    name_entry *e = entry(ns, name);
    int i = strvec_find(&e->links, from);
    if (delta > 0) {
        if (i < 0) {
            size_t cap = e->links.cap;
            strvec_push(&e->links, from);
            if (e->links.cap != cap || !e->link_counts)
                e->link_counts = xrealloc(e->link_counts, e->links.cap * sizeof *e->link_counts);
            i = (int)e->links.n - 1;
            e->link_counts[i] = 0;
        }
        e->link_counts[i]++;
    } else if (i >= 0 && --e->link_counts[i] == 0) {
        /* keep the order of the rest: callers walk them in link order */
        free(e->links.v[i]);
        size_t rest = e->links.n - (size_t)i - 1;
        memmove(&e->links.v[i], &e->links.v[i + 1], rest * sizeof *e->links.v);
        memmove(&e->link_counts[i], &e->link_counts[i + 1], rest * sizeof *e->link_counts);
        e->links.n--;
    }
}

const strvec *nameset_links(const nameset *ns, const char *name)
{
    const name_entry *e = find_slot(ns->slots, ns->cap, name);
    return e->name && e->links.n ? &e->links : NULL;
}

void nameset_set_value(nameset *ns, const char *name, size_t value)
{
    entry(ns, name)->value = value;
}

size_t nameset_value(const nameset *ns, const char *name)
{
    const name_entry *e = find_slot(ns->slots, ns->cap, name);
    return e->name ? e->value : 0;
}
