/*
 * flags.c - feature flags: resolving their values from the files' defaults
 * and the settings, and choosing the migrations that apply (flags.h).
 */
#include "flags.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int flag_setting_parse(const char *setting, char **name, int *on)
{
    *name = NULL;
    const char *p = setting;
    const char *eq = strchr(p, '=');
    *on = 1;
    if (*p == '-' || *p == '+') {
        *on = *p == '+';
        p++;
    }
    size_t len = eq ? (size_t)(eq - p) : strlen(p);
    if (eq && p != setting)
        return strata_set_error(
            STRATA_EINPUT, "flag setting '%s': give either a sign or a value, not both", setting);
    if (eq) {
        const char *v = eq + 1;
        if (str_ieq(v, "true") || str_ieq(v, "on") || str_ieq(v, "yes") || strcmp(v, "1") == 0)
            *on = 1;
        else if (str_ieq(v, "false") || str_ieq(v, "off") || str_ieq(v, "no") ||
                 strcmp(v, "0") == 0)
            *on = 0;
        else
            return strata_set_error(STRATA_EINPUT,
                                    "flag setting '%s': the value must be true or false", setting);
    }
    if (len == 0)
        return strata_set_error(STRATA_EINPUT, "flag setting '%s' names no flag", setting);
    char *n = xstrndup(p, len);
    for (char *q = n; *q; q++) {
        *q = (char)tolower((unsigned char)*q);
        if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_')) {
            free(n);
            return strata_set_error(STRATA_EINPUT,
                                    "flag setting '%s': a flag name holds only letters, digits "
                                    "and '_'",
                                    setting);
        }
    }
    *name = n;
    return 0;
}

void flagset_free(flagset *f)
{
    strvec_free(&f->names);
    free(f->on);
    free(f->from);
    memset(f, 0, sizeof *f);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int flag_index(const flagset *f, const char *name)
{
    return strvec_find(&f->names, name);
}

/* See flags.h. A default is remembered with the file that declared it
 * first, so a contradiction names both files. */
int flags_resolve(const migration_set *all, const char *const *settings, size_t n, flagset *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < all->n; i++)
        for (size_t k = 0; k < all->v[i]->when_flags.n; k++)
            if (flag_index(out, all->v[i]->when_flags.v[k]) < 0)
                strvec_push(&out->names, all->v[i]->when_flags.v[k]);
    if (out->names.n > 1)
        qsort(out->names.v, out->names.n, sizeof *out->names.v, cmp_str);
    out->on = xcalloc(out->names.n + 1, sizeof *out->on);
    out->from = xcalloc(out->names.n + 1, sizeof *out->from);
    const migration **declared = xcalloc(out->names.n + 1, sizeof *declared);
    int rc = 0;
    for (size_t i = 0; i < all->n && !rc; i++) {
        const migration *m = all->v[i];
        if (m->when_default < 0)
            continue;
        for (size_t k = 0; k < m->when_flags.n && !rc; k++) {
            int x = flag_index(out, m->when_flags.v[k]);
            if (!declared[x]) {
                declared[x] = m;
                out->on[x] = m->when_default;
                out->from[x] = FLAG_FROM_DEFAULT;
            } else if (out->on[x] != m->when_default) {
                rc = strata_set_error(STRATA_EINPUT,
                                      "flag '%s' has two defaults: %s says %s, %s says %s; a flag "
                                      "has one default, so make them agree (or give it in one "
                                      "file only)",
                                      out->names.v[x], declared[x]->path,
                                      out->on[x] ? "true" : "false", m->path,
                                      m->when_default ? "true" : "false");
            }
        }
    }
    free(declared);
    for (size_t i = 0; i < n && !rc; i++) {
        char *name;
        int on;
        rc = flag_setting_parse(settings[i], &name, &on);
        if (rc)
            break;
        int x = flag_index(out, name);
        if (x >= 0) {
            out->on[x] = on;
            out->from[x] = FLAG_FROM_SETTING;
        }
        free(name);
    }
    if (rc)
        flagset_free(out);
    return rc;
}

int flag_on(const flagset *f, const char *name)
{
    int x = flag_index(f, name);
    return x >= 0 && f->on[x];
}

const char *flags_first_off(const flagset *f, const migration *m)
{
    for (size_t k = 0; k < m->when_flags.n; k++)
        if (!flag_on(f, m->when_flags.v[k]))
            return m->when_flags.v[k];
    return NULL;
}

int flags_allow(const flagset *f, const migration *m)
{
    return flags_first_off(f, m) == NULL;
}

char *flags_describe(const migration *m)
{
    if (!m->when_flags.n)
        return NULL;
    sbuf b = SBUF_INIT;
    for (size_t k = 0; k < m->when_flags.n; k++)
        sbuf_addf(&b, "%s%s", k ? ", " : "", m->when_flags.v[k]);
    return sbuf_detach(&b);
}

void migrations_select(const migration_set *all, const flagset *f, const strvec *present,
                       int present_only, migration_set *view, int *in_view, strvec *warnings)
{
    memset(view, 0, sizeof *view);
    view->v = xcalloc(all->n + 1, sizeof *view->v);
    view->cap = all->n + 1;
    for (size_t i = 0; i < all->n; i++) {
        const migration *m = all->v[i];
        int has = present && strvec_find(present, m->id) >= 0;
        const char *off = flags_first_off(f, m);
        int take = present_only ? has : (has || !off);
        if (in_view)
            in_view[i] = take ? (int)view->n : -1;
        if (take)
            view->v[view->n++] = all->v[i];
        if (has && off && warnings)
            strvec_pushf(warnings,
                         "migration %s is applied, but its flag '%s' is off; it stays applied "
                         "(turning a flag off reverts nothing)",
                         m->id, off);
    }
}

int migrations_load_applying(const char *dir, const char *const *settings, size_t n,
                             const strvec *present, migration_set *all, migration_set *view,
                             strvec *warnings)
{
    memset(view, 0, sizeof *view);
    int rc = migrations_load_dir(dir ? dir : "./migrations", all);
    if (rc)
        return rc;
    flagset f;
    rc = flags_resolve(all, settings, n, &f);
    if (rc) {
        migration_set_free(all);
        return rc;
    }
    migrations_select(all, &f, present, 0, view, NULL, warnings);
    flagset_free(&f);
    return 0;
}
