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
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* A NUL byte ends the text jansson reads: what follows it would be
 * neither parsed nor checksummed. It is a JSON error at its place. */
static int refuse_nul(const char *path, const char *text, size_t len)
{
    const char *nul = memchr(text, '\0', len);
    if (!nul)
        return 0;
    int line = 1, column = 1;
    for (const char *p = text; p < nul; p++) {
        if (*p == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
    }
    return strata_set_error(STRATA_EINPUT, "%s:%d:%d: invalid JSON: a NUL byte", path, line,
                            column);
}

static int load_file_warn(const char *path, migration **out, strvec *warnings)
{
    char *text;
    size_t len = 0;
    int rc = read_file(path, &text, &len);
    if (rc)
        return rc;
    if ((rc = refuse_nul(path, text, len)) != 0) {
        free(text);
        return rc;
    }
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

int migration_id_cmp(const char *a, const char *b)
{
    size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
    char *va = xstrndup(a, la), *vb = xstrndup(b, lb);
    int c = version_cmp(va, vb);
    free(va);
    free(vb);
    return c ? c : strcmp(a, b);
}

static int cmp_broken(const void *a, const void *b)
{
    const broken_migration *x = a, *y = b;
    return migration_id_cmp(x->id, y->id);
}

void migration_set_free(migration_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        migration_free(s->v[i]);
    free(s->v);
    strvec_free(&s->warnings);
    for (size_t i = 0; i < s->nbroken; i++) {
        free(s->broken[i].id);
        free(s->broken[i].path);
        free(s->broken[i].error);
    }
    free(s->broken);
    memset(s, 0, sizeof *s);
}

/* Keep the current error as that of the broken file `path`. */
static void keep_broken(migration_set *out, const char *path, const char *name)
{
    out->broken = xrealloc(out->broken, (out->nbroken + 1) * sizeof *out->broken);
    broken_migration *b = &out->broken[out->nbroken++];
    b->id = xstrndup(name, strlen(name) - 5);
    b->path = xstrdup(path);
    b->error = xstrdup(strata_error_message());
    b->code = strata_error_code();
    strata_error_clear();
}

/* Why a migrations directory cannot be read, as bad input. */
static int dir_error(const char *dir, int err)
{
    if (err == ENOENT)
        return strata_set_error(STRATA_EINPUT, "migrations directory %s does not exist", dir);
    if (err == ENOTDIR)
        return strata_set_error(STRATA_EINPUT, "migrations directory %s is not a directory", dir);
    return strata_set_error(STRATA_EINPUT, "cannot read migrations directory %s: %s", dir,
                            strerror(err));
}

/* Append every migration of one directory to `out`, unsorted. Every file
 * is parsed (any error stops the load, unless MIGRATIONS_KEEP_BROKEN);
 * warnings of every file collect in out->warnings. */
static int load_one_dir(const char *dir, unsigned flags, migration_set *out)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT && (flags & MIGRATIONS_MISSING_OK))
            return 0;
        return dir_error(dir, errno);
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
        if (rc && (flags & MIGRATIONS_KEEP_BROKEN)) {
            keep_broken(out, path, names.v[i]);
            rc = 0;
        } else if (!rc) {
            out->v = xgrow(out->v, &out->cap, out->n + 1, sizeof *out->v);
            out->v[out->n++] = m;
        }
        free(path);
    }
    strvec_free(&names);
    return rc;
}

/* See migration.h. The directories of a ':' list are read in turn and
 * their migrations sorted together; a migration id found in two of them
 * is an error (which one would run?). */
int migrations_load(const char *dirs, unsigned flags, migration_set *out)
{
    memset(out, 0, sizeof *out);
    int rc = 0;
    const char *p = dirs;
    while (!rc) {
        size_t len = strcspn(p, ":");
        if (len) {
            char *dir = xstrndup(p, len);
            rc = load_one_dir(dir, flags, out);
            free(dir);
        }
        if (!p[len])
            break;
        p += len + 1;
    }
    if (!rc && out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_migrations);
    if (!rc && out->nbroken)
        qsort(out->broken, out->nbroken, sizeof *out->broken, cmp_broken);
    for (size_t i = 1; !rc && i < out->n; i++)
        if (strcmp(out->v[i - 1]->id, out->v[i]->id) == 0)
            rc = strata_set_error(STRATA_EINPUT, "migration %s is in two directories: %s and %s",
                                  out->v[i]->id, out->v[i - 1]->path, out->v[i]->path);
    if (rc)
        migration_set_free(out);
    return rc;
}

int migration_version_text(const char *s)
{
    size_t n = strspn(s, "0123456789");
    return n >= 1 && n <= 20 && !s[n];
}

int migrations_resolve_to(const migration_set *set, const char *to, const char *dirs, size_t *upto)
{
    *upto = 0;
    if (!to || !*to)
        return strata_set_error(STRATA_EINPUT, "--to is empty: give a migration's version or id");
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->v[i]->id, to) == 0) {
            *upto = i + 1;
            return 0;
        }
    if (migration_version_text(to)) {
        for (size_t i = 0; i < set->n; i++)
            if (version_cmp(set->v[i]->version, to) == 0)
                *upto = i + 1;
        if (*upto)
            return 0;
        return strata_set_error(STRATA_EINPUT, "--to: no migration %s in %s", str_brief(to), dirs);
    }
    size_t digits = strspn(to, "0123456789");
    if (digits >= 1 && digits <= 20 && to[digits] == '_')
        return strata_set_error(STRATA_EINPUT, "--to: no migration %s in %s", str_brief(to), dirs);
    return strata_set_error(STRATA_EINPUT,
                            "--to '%s' is neither a migration's version (1 to 20 digits) nor its "
                            "id (VERSION_NAME)",
                            str_brief(to));
}

int migrations_load_dir(const char *dirs, migration_set *out)
{
    return migrations_load(dirs, 0, out);
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
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
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
    /* a new file, never one that is there (nor a symlink's target), not
     * writable by others whatever the umask */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        int e = strata_set_error(STRATA_EIO, "cannot create %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(path);
        return e;
    }
    fputs(text, f);
    fclose(f);
    *path_out = path;
    return 0;
}
