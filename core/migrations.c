/*
 * migrations.c - finding, naming and ordering migration files.
 *
 * A migration file is <version>_<name>.json with a version of 1 to 20
 * digits and a name of [A-Za-z0-9_-]+. Order is by numeric version, then by
 * stem in byte order. Other files are ignored, except *.json files that look
 * like a misnamed migration (they start with a digit), which are an error.
 */
#include "migration.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int version_cmp(const char *a, const char *b)
{
    while (*a == '0' && a[1])
        a++;
    while (*b == '0' && b[1])
        b++;
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    int c = strcmp(a, b);
    return c < 0 ? -1 : c > 0;
}

int migration_filename_valid(const char *name)
{
    if (!str_ends(name, ".json"))
        return 0;
    size_t digits = 0;
    const char *p = name;
    while (isdigit((unsigned char)*p)) {
        p++;
        digits++;
    }
    if (digits < 1 || digits > 20 || *p != '_')
        return 0;
    p++;
    const char *end = name + strlen(name) - 5;
    if (p >= end)
        return 0;
    for (; p < end; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return 0;
    return 1;
}

static int load_file_warn(const char *path, migration **out, strvec *warnings)
{
    char *text;
    int rc = read_file(path, &text, NULL);
    if (rc)
        return rc;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *stem = xstrndup(base, str_ends(base, ".json") ? strlen(base) - 5 : strlen(base));
    rc = migration_parse_warn(path, stem, text, out, warnings);
    free(stem);
    free(text);
    return rc;
}

int migration_load_file(const char *path, migration **out)
{
    return load_file_warn(path, out, NULL);
}

static int cmp_migrations(const void *a, const void *b)
{
    const migration *x = *(migration *const *)a, *y = *(migration *const *)b;
    int c = version_cmp(x->version, y->version);
    return c ? c : strcmp(x->id, y->id);
}

void migration_set_free(migration_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        migration_free(s->v[i]);
    free(s->v);
    strvec_free(&s->warnings);
    memset(s, 0, sizeof *s);
}

/* Append every migration of one directory to `out`, unsorted. Every file
 * is parsed (any error stops the load); warnings of every file collect in
 * out->warnings. */
static int load_one_dir(const char *dir, migration_set *out)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return strata_set_error(STRATA_EIO, "cannot read migrations directory %s: %s", dir,
                                strerror(errno));
    }
    strvec names = STRVEC_INIT;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (migration_filename_valid(e->d_name)) {
            strvec_push(&names, e->d_name);
        } else if (str_ends(e->d_name, ".json") && isdigit((unsigned char)e->d_name[0])) {
            /* the message is made before closedir(), which frees e */
            int rc = strata_set_error(STRATA_EINPUT,
                                      "%s/%s: looks like a migration but is misnamed (expected "
                                      "<version>_<name>.json: 1-20 digits, '_', then letters, "
                                      "digits, '_' or '-')",
                                      dir, e->d_name);
            closedir(d);
            strvec_free(&names);
            return rc;
        }
    }
    closedir(d);
    int rc = 0;
    for (size_t i = 0; i < names.n && !rc; i++) {
        char *path = xasprintf("%s/%s", dir, names.v[i]);
        migration *m = NULL;
        rc = load_file_warn(path, &m, &out->warnings);
        free(path);
        if (!rc) {
            out->v = xgrow(out->v, &out->cap, out->n + 1, sizeof *out->v);
            out->v[out->n++] = m;
        }
    }
    strvec_free(&names);
    return rc;
}

/* See migration.h. The directories of a ':' list are read in turn and
 * their migrations sorted together; a migration id found in two of them
 * is an error (which one would run?). */
int migrations_load_dir(const char *dirs, migration_set *out)
{
    memset(out, 0, sizeof *out);
    int rc = 0;
    const char *p = dirs;
    while (!rc) {
        size_t len = strcspn(p, ":");
        if (len) {
            char *dir = xstrndup(p, len);
            rc = load_one_dir(dir, out);
            free(dir);
        }
        if (!p[len])
            break;
        p += len + 1;
    }
    if (!rc && out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_migrations);
    for (size_t i = 1; !rc && i < out->n; i++)
        if (strcmp(out->v[i - 1]->id, out->v[i]->id) == 0)
            rc = strata_set_error(STRATA_EINPUT, "migration %s is in two directories: %s and %s",
                                  out->v[i]->id, out->v[i - 1]->path, out->v[i]->path);
    if (rc)
        migration_set_free(out);
    return rc;
}

char *migrations_first_dir(const char *dirs)
{
    size_t len = strcspn(dirs, ":");
    return len ? xstrndup(dirs, len) : xstrdup("./migrations");
}

int migration_name_check(const char *name)
{
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return strata_set_error(STRATA_EINPUT,
                                    "migration name '%s' may only hold letters, digits, '_' and "
                                    "'-'",
                                    name);
    if (!*name)
        return strata_set_error(STRATA_EINPUT, "the migration needs a name");
    return 0;
}

int migration_file_write(const char *dirs, const char *name, const char *text, char **path_out)
{
    *path_out = NULL;
    char *dir = migrations_first_dir(dirs);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        int e = strata_set_error(STRATA_EIO, "cannot create %s: %s", dir, strerror(errno));
        free(dir);
        return e;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
    char *path = xasprintf("%s/%s_%s.json", dir, stamp, name);
    free(dir);
    FILE *f = fopen(path, "wx");
    if (!f) {
        int e = strata_set_error(STRATA_EIO, "cannot create %s: %s", path, strerror(errno));
        free(path);
        return e;
    }
    fputs(text, f);
    fclose(f);
    *path_out = path;
    return 0;
}
