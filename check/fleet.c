/*
 * fleet.c - one command over many databases: `--targets FILE` and several
 * --database-url for migrations run|revert|show|validate, seed and db diff.
 *
 * A fleet is a pool of `parallel` worker threads and a list of targets.
 * Each worker takes the next target that has not started, opens its own
 * connection, makes the one library call the command makes on a single
 * database (strata_migrations_run, strata_seed_file, ...), closes the
 * connection and takes the next: never more than `parallel` connections
 * at once. What makes a fleet safe and resumable is what makes a single
 * run so - the migration lock and the history of each target - so the
 * fleet adds no state of its own: a fleet run again finds the targets it
 * finished up to date and finishes the others.
 *
 * Around that:
 *   - canaries: the first K targets run first, and the others start only
 *     when none of them failed;
 *   - fail-fast: after a failure no target starts (those running finish);
 *   - timeouts: the calling thread watches the clock and interrupts the
 *     statement of a target past its time (conn_interrupt), so it fails as
 *     on any database error - rolled back, or undone on MySQL - and is
 *     reported timed out;
 *   - progress and log lines go to the caller's callbacks under one
 *     mutex, one call at a time. The library prints nothing.
 *
 * It lives in check/, the layer that may use all others, because a fleet
 * seeds (seed/) as well as migrates (engine/).
 */
#include "driver.h"
#include "migration.h"
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How often the calling thread looks at the targets' clocks. */
#define WATCH_SECONDS 0.05

const char *strata_target_status_name(strata_target_status s)
{
    switch (s) {
    case STRATA_TARGET_NOT_STARTED:
        return "not started";
    case STRATA_TARGET_RUNNING:
        return "running";
    case STRATA_TARGET_OK:
        return "ok";
    case STRATA_TARGET_DIFFERS:
        return "differs";
    case STRATA_TARGET_FAILED:
        return "failed";
    case STRATA_TARGET_TIMED_OUT:
        return "timed out";
    }
    return "?";
}

unsigned strata_fleet_default_parallel(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long n = cpus > 0 ? 2 * cpus : 2;
    return (unsigned)(n < 2 ? 2 : n > 16 ? 16 : n);
}

/* ---- targets files ---- */

void strata_fleet_targets_free(strata_fleet_target *targets, size_t n)
{
    for (size_t i = 0; targets && i < n; i++) {
        free((char *)targets[i].name);
        if (targets[i].url) {
            /* it may hold a password */
            memset((char *)targets[i].url, 0, strlen(targets[i].url));
            free((char *)targets[i].url);
        }
    }
    free(targets);
}

/* ${NAME} in a word: the environment variable NAME (unset is an error). */
static int expand_env(const char *path, int line, const char *word, char **out)
{
    sbuf b = SBUF_INIT;
    for (const char *p = word; *p;) {
        if (p[0] == '$' && p[1] == '{') {
            const char *close = strchr(p + 2, '}');
            if (!close || close == p + 2) {
                sbuf_free(&b);
                return strata_set_error(STRATA_EINPUT, "%s:%d: '${' without a NAME}", path, line);
            }
            char *name = xstrndup(p + 2, (size_t)(close - p - 2));
            const char *v = getenv(name);
            if (!v) {
                strata_set_error(STRATA_EINPUT, "%s:%d: ${%s} is not set", path, line, name);
                free(name);
                sbuf_free(&b);
                return STRATA_EINPUT;
            }
            free(name);
            sbuf_add(&b, v);
            p = close + 1;
        } else {
            sbuf_addc(&b, *p++);
        }
    }
    *out = sbuf_detach(&b);
    return 0;
}

/* One line: a URL and optionally name=LABEL, in either order. */
static int parse_target_line(const char *path, int line, char *text, strata_fleet_target *t)
{
    char *save = NULL, *url = NULL, *name = NULL;
    int rc = 0;
    for (char *w = strtok_r(text, " \t\r", &save); w && !rc; w = strtok_r(NULL, " \t\r", &save)) {
        if (strncmp(w, "name=", 5) == 0) {
            if (name)
                rc = strata_set_error(STRATA_EINPUT, "%s:%d: two names on one line", path, line);
            else if (!w[5])
                rc = strata_set_error(STRATA_EINPUT, "%s:%d: name= without a label", path, line);
            else
                name = xstrdup(w + 5);
        } else if (url) {
            char *masked = strata_url_mask(w);
            rc = strata_set_error(STRATA_EINPUT,
                                  "%s:%d: '%s': one URL a line (and optionally name=LABEL)", path,
                                  line, masked);
            free(masked);
        } else {
            rc = expand_env(path, line, w, &url);
        }
    }
    if (!rc && !url)
        rc = strata_set_error(STRATA_EINPUT, "%s:%d: name=%s without a URL", path, line, name);
    if (!rc) {
        strata_url u;
        rc = strata_url_parse(url, &u);
        if (rc)
            strata_error_prefix("%s:%d: ", path, line);
        else
            strata_url_dispose(&u);
    }
    if (rc) {
        free(name);
        free(url);
        return rc;
    }
    t->name = name;
    t->url = url;
    return 0;
}

int strata_fleet_targets_load(const char *path, strata_fleet_target **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return strata_set_error(errno == ENOENT ? STRATA_EINPUT : STRATA_EIO,
                                "cannot read the targets file %s: %s", path, strerror(errno));
    strata_fleet_target *v = NULL;
    size_t nv = 0, cap = 0;
    char *buf = NULL;
    size_t bufcap = 0;
    int rc = 0, line = 0;
    while (!rc && getline(&buf, &bufcap, f) >= 0) {
        line++;
        char *p = buf;
        while (isspace((unsigned char)*p))
            p++;
        size_t len = strlen(p);
        while (len && isspace((unsigned char)p[len - 1]))
            p[--len] = '\0';
        if (!*p || *p == '#')
            continue;
        v = xgrow(v, &cap, nv + 1, sizeof *v);
        memset(&v[nv], 0, sizeof v[nv]);
        rc = parse_target_line(path, line, p, &v[nv]);
        if (!rc)
            nv++;
    }
    if (!rc && ferror(f))
        rc = strata_set_error(STRATA_EIO, "cannot read the targets file %s: %s", path,
                              strerror(errno));
    fclose(f);
    free(buf);
    if (!rc && nv == 0)
        rc = strata_set_error(STRATA_EINPUT, "%s: no targets (one URL a line)", path);
    if (rc) {
        strata_fleet_targets_free(v, nv);
        return rc;
    }
    *out = v;
    *n = nv;
    return 0;
}

/* ---- labels ---- */

/* A target's label from its URL: the database ("/schema" after it for a
 * PostgreSQL schema), or the SQLite file's name without ".db". */
static char *label_from_url(const char *url)
{
    strata_url u;
    if (strata_url_parse(url, &u) != 0) {
        strata_error_clear();
        return strata_url_mask(url);
    }
    char *label;
    if (u.dialect == STRATA_SQLITE) {
        const char *base = strrchr(u.database, '/');
        base = base ? base + 1 : u.database;
        size_t n = strlen(base);
        if (n > 3 && strcmp(base + n - 3, ".db") == 0)
            n -= 3;
        label = xstrndup(base, n);
    } else {
        const char *schema = NULL;
        for (char **p = u.params; p && p[0]; p += 2)
            if (!strcmp(p[0], "search_path") || !strcmp(p[0], "schema"))
                schema = p[1];
        /* search_path's first schema is the target's */
        label = schema ? xasprintf("%s/%.*s", u.database, (int)strcspn(schema, ","), schema)
                       : xstrdup(u.database);
    }
    strata_url_dispose(&u);
    return label;
}

/* ---- the run ---- */

typedef struct fleet fleet;

/* One target while the fleet runs. */
typedef struct slot {
    fleet *f;
    size_t index;
    const char *url;
    strata_fleet_target_result *res; /* its place in the result */
    /* under f->lock */
    strata_conn *conn; /* while it works: for the watchdog's interrupt */
    double deadline;   /* 0: none, or not started */
    int interrupted;   /* the watchdog interrupted it */
} slot;

struct fleet {
    const strata_fleet_options *opt;
    strata_options migrate; /* the per-target call's options, callbacks ours */
    strata_seed_options seed;
    slot *slots;
    size_t n;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* a target ended */
    /* under lock */
    size_t next, end; /* the targets of this phase still to start: next .. end */
    int stop;         /* start no more (fail-fast) */
    size_t running, done, failed;
    size_t workers; /* threads of this phase still working */
    double start;
};

/* Tell the caller's progress callback (the lock held). */
static void report_progress(fleet *f, slot *s, strata_target_status status)
{
    if (!f->opt->progress_cb)
        return;
    strata_fleet_progress p;
    memset(&p, 0, sizeof p);
    p.target = s->res->name;
    p.index = s->index;
    p.status = status;
    p.result = status == STRATA_TARGET_RUNNING ? NULL : s->res;
    p.done = f->done;
    p.running = f->running;
    p.failed = f->failed;
    p.total = f->n;
    p.pending = f->n - f->done - f->running;
    p.seconds = now_seconds() - f->start;
    f->opt->progress_cb(&p, f->opt->progress_payload);
}

/* The log callback each target's calls get: "<label>: <line>" to the
 * caller's, one at a time. The payload is the target's slot. */
static void target_log(strata_log_level level, const char *message, void *payload)
{
    slot *s = payload;
    fleet *f = s->f;
    if (!f->opt->log_cb)
        return;
    char *line = xasprintf("%s: %s", s->res->name, message);
    pthread_mutex_lock(&f->lock);
    f->opt->log_cb(level, line, f->opt->log_payload);
    pthread_mutex_unlock(&f->lock);
    free(line);
}

/* Make the call of the fleet's action on an open connection. */
static int target_call(fleet *f, slot *s, strata_conn *conn)
{
    strata_fleet_target_result *res = s->res;
    strata_options mo = f->migrate;
    mo.log_payload = s;
    int rc = 0;
    switch (f->opt->action) {
    case STRATA_FLEET_MIGRATE:
        rc = strata_migrations_run(conn, &mo, &res->report);
        res->migrations = res->report ? res->report->n : 0;
        break;
    case STRATA_FLEET_REVERT:
        rc = strata_migrations_revert(conn, &mo, &res->report);
        res->migrations = res->report ? res->report->n : 0;
        break;
    case STRATA_FLEET_STATUS:
        rc = strata_migrations_status(conn, &mo, &res->report);
        if (!rc && (res->report->pending || res->report->problems)) {
            res->migrations = (size_t)res->report->pending;
            rc = strata_set_error(STRATA_EDRIFT, "%d pending, %d changed, partial or missing",
                                  res->report->pending, res->report->problems);
        }
        break;
    case STRATA_FLEET_VALIDATE:
        rc = strata_migrations_validate(conn, &mo, &res->report);
        break;
    case STRATA_FLEET_SEED:
        if (!f->opt->seed_no_migrate) {
            rc = strata_migrations_run(conn, &mo, &res->report);
            res->migrations = res->report ? res->report->n : 0;
        }
        if (!rc)
            rc = strata_seed_file(conn, f->opt->seed_file, &f->seed, &res->seed);
        break;
    case STRATA_FLEET_DIFF:
        rc = strata_db_diff(conn, &mo, &res->diff);
        if (!rc && res->diff->n)
            rc = strata_set_error(STRATA_EDRIFT, "%zu difference%s from the migrations",
                                  res->diff->n, res->diff->n == 1 ? "" : "s");
        break;
    }
    return rc;
}

/* Run one target from start to end. */
static void target_run(fleet *f, slot *s)
{
    strata_fleet_target_result *res = s->res;
    double t0 = now_seconds();
    pthread_mutex_lock(&f->lock);
    if (f->opt->timeout > 0)
        s->deadline = t0 + f->opt->timeout;
    pthread_mutex_unlock(&f->lock);

    strata_conn *conn = NULL;
    int rc = strata_conn_open(&conn, s->url);
    if (!rc) {
        pthread_mutex_lock(&f->lock);
        s->conn = conn;
        pthread_mutex_unlock(&f->lock);
        rc = target_call(f, s, conn);
        pthread_mutex_lock(&f->lock);
        s->conn = NULL; /* no interrupt reaches it once it is closed */
        pthread_mutex_unlock(&f->lock);
        strata_conn_close(conn);
    }
    res->seconds = now_seconds() - t0;
    int late = f->opt->timeout > 0 && res->seconds >= f->opt->timeout;
    if (rc) {
        res->code = rc;
        res->error = xstrdup(*strata_error_message() ? strata_error_message() : "failed");
    }
    pthread_mutex_lock(&f->lock);
    if (!rc)
        res->status = STRATA_TARGET_OK;
    else if (s->interrupted || (late && rc != STRATA_EDRIFT))
        res->status = STRATA_TARGET_TIMED_OUT;
    else if (rc == STRATA_EDRIFT && f->opt->action != STRATA_FLEET_MIGRATE &&
             f->opt->action != STRATA_FLEET_REVERT && f->opt->action != STRATA_FLEET_SEED)
        res->status = STRATA_TARGET_DIFFERS;
    else
        res->status = STRATA_TARGET_FAILED;
    if (res->status == STRATA_TARGET_TIMED_OUT) {
        char *why = xasprintf("timed out after %.0f s (--target-timeout): %s", f->opt->timeout,
                              res->error ? res->error : "interrupted");
        free(res->error);
        res->error = why;
    }
    s->deadline = 0;
    f->running--;
    f->done++;
    if (res->status == STRATA_TARGET_FAILED || res->status == STRATA_TARGET_TIMED_OUT) {
        f->failed++;
        if (f->opt->fail_fast)
            f->stop = 1;
    }
    report_progress(f, s, res->status);
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);
    strata_error_clear(); /* the message is this thread's */
}

/* A worker: the next target of the phase, until none is left. */
static void *worker(void *arg)
{
    fleet *f = arg;
    pthread_mutex_lock(&f->lock);
    while (!f->stop && f->next < f->end) {
        slot *s = &f->slots[f->next++];
        s->res->status = STRATA_TARGET_RUNNING;
        f->running++;
        report_progress(f, s, STRATA_TARGET_RUNNING);
        pthread_mutex_unlock(&f->lock);
        target_run(f, s);
        pthread_mutex_lock(&f->lock);
    }
    f->workers--;
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* Interrupt the targets past their deadline (the lock held). One still
 * connecting is interrupted once it has its connection (connect_timeout
 * bounds the wait for that). */
static void watch_deadlines(fleet *f)
{
    double now = now_seconds();
    for (size_t i = 0; i < f->n; i++) {
        slot *s = &f->slots[i];
        if (!s->deadline || now < s->deadline || s->interrupted || !s->conn)
            continue;
        s->interrupted = 1;
        char why[96];
        snprintf(why, sizeof why, "the target's timeout of %.0f s passed", f->opt->timeout);
        conn_interrupt(s->conn, why);
    }
}

/* Run targets [from, to) on up to `parallel` threads; the calling thread
 * watches the deadlines until they are all done. */
static void run_phase(fleet *f, size_t from, size_t to, unsigned parallel)
{
    size_t nthreads = to - from < parallel ? to - from : parallel;
    if (!nthreads)
        return;
    pthread_t *th = xcalloc(nthreads, sizeof *th);
    pthread_mutex_lock(&f->lock);
    f->next = from;
    f->end = to;
    f->workers = 0;
    pthread_mutex_unlock(&f->lock);
    size_t started = 0;
    for (size_t i = 0; i < nthreads; i++) {
        pthread_mutex_lock(&f->lock);
        f->workers++;
        pthread_mutex_unlock(&f->lock);
        if (pthread_create(&th[i], NULL, worker, f) != 0) {
            pthread_mutex_lock(&f->lock);
            f->workers--;
            pthread_mutex_unlock(&f->lock);
            break;
        }
        started++;
    }
    if (!started) {
        f->workers = 1;
        worker(f); /* no thread could be made: this one does it all */
    }
    pthread_mutex_lock(&f->lock);
    while (f->workers > 0) {
        if (f->opt->timeout > 0)
            watch_deadlines(f);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long ns = ts.tv_nsec + (long)(WATCH_SECONDS * 1e9);
        ts.tv_sec += ns / 1000000000L;
        ts.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(&f->changed, &f->lock, &ts);
    }
    pthread_mutex_unlock(&f->lock);
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
}

void strata_fleet_result_free(strata_fleet_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        strata_fleet_target_result *t = &r->targets[i];
        free(t->name);
        free(t->url);
        free(t->error);
        strata_report_free(t->report);
        strata_seed_report_free(t->seed);
        strata_diff_result_free(t->diff);
    }
    free(r->targets);
    free(r);
}

/* Bad input, before any target is touched: URLs that do not parse, labels
 * or URLs given twice, migrations that do not load or validate, a seed
 * file that cannot be read. */
static int fleet_check_input(const strata_fleet_target *targets, size_t n,
                             const strata_fleet_options *opt, const strata_options *mo,
                             strata_fleet_result *r)
{
    if (n == 0)
        return strata_set_error(STRATA_EINPUT, "a fleet needs at least one target (--targets "
                                               "FILE, or several --database-url)");
    for (size_t i = 0; i < n; i++) {
        strata_url u;
        if (!targets[i].url)
            return strata_set_error(STRATA_EINPUT, "target %zu has no URL", i + 1);
        int rc = strata_url_parse(targets[i].url, &u);
        if (rc)
            return strata_error_prefix("target %zu: ", i + 1);
        r->targets[i].dialect = (int)u.dialect;
        strata_url_dispose(&u);
        for (size_t k = 0; k < i; k++) {
            if (strcmp(r->targets[k].name, r->targets[i].name) == 0)
                return strata_set_error(STRATA_EINPUT,
                                        "targets %zu and %zu have the same label '%s' (give one "
                                        "of them name=LABEL)",
                                        k + 1, i + 1, r->targets[i].name);
            if (strcmp(targets[k].url, targets[i].url) == 0)
                return strata_set_error(STRATA_EINPUT, "targets %zu and %zu are one database (%s)",
                                        k + 1, i + 1, r->targets[i].url);
        }
    }
    if (opt->action == STRATA_FLEET_SEED) {
        if (!opt->seed_file)
            return strata_set_error(STRATA_EINPUT, "a seeding fleet needs a seed file");
        if (access(opt->seed_file, R_OK) != 0)
            return strata_set_error(STRATA_EINPUT, "cannot read the seed file %s: %s",
                                    opt->seed_file, strerror(errno));
    }
    return migrations_check_dir(mo->migrations_dir);
}

int strata_fleet_run(const strata_fleet_target *targets, size_t n,
                     const strata_fleet_options *options, strata_fleet_result **out)
{
    strata_fleet_result *r = xcalloc(1, sizeof *r);
    *out = r;
    strata_fleet_options opt;
    int rc = fleet_options_get(options, &opt);
    fleet f;
    memset(&f, 0, sizeof f);
    if (!rc)
        rc = options_get(opt.migrate, &f.migrate);
    if (!rc)
        rc = seed_options_get(opt.seed, &f.seed);
    if (rc)
        return rc;
    /* the result has a row per target from the start: labels, masked URLs */
    r->targets = xcalloc(n + 1, sizeof *r->targets);
    r->n = n;
    for (size_t i = 0; i < n; i++) {
        strata_fleet_target_result *t = &r->targets[i];
        t->name = targets[i].name ? xstrdup(targets[i].name)
                                  : label_from_url(targets[i].url ? targets[i].url : "");
        t->url = strata_url_mask(targets[i].url);
        t->dialect = -1;
        t->status = STRATA_TARGET_NOT_STARTED;
        t->canary = i < opt.canary;
    }
    rc = fleet_check_input(targets, n, &opt, &f.migrate, r);
    if (rc)
        return rc;

    /* the calls on the targets: their lines to us, no per-migration
     * progress, no per-table seed progress */
    f.opt = &opt;
    f.migrate.log_cb = target_log;
    f.migrate.progress_cb = NULL;
    f.seed.progress_cb = NULL;
    f.n = n;
    f.slots = xcalloc(n, sizeof *f.slots);
    for (size_t i = 0; i < n; i++) {
        f.slots[i].f = &f;
        f.slots[i].index = i;
        f.slots[i].url = targets[i].url;
        f.slots[i].res = &r->targets[i];
    }
    pthread_mutex_init(&f.lock, NULL);
    pthread_cond_init(&f.changed, NULL);
    /* libraries that want set-up before threads */
    mysql_library_init(0, NULL, NULL);
    json_object_seed(0);

    unsigned parallel = opt.parallel ? opt.parallel : strata_fleet_default_parallel();
    r->parallel = (unsigned)(n < parallel ? n : parallel);
    f.start = now_seconds();
    size_t canary = opt.canary < n ? opt.canary : n;
    if (canary) {
        run_phase(&f, 0, canary, parallel);
        if (f.failed)
            f.stop = 1;
    }
    if (!f.stop)
        run_phase(&f, canary, n, parallel);
    r->seconds = now_seconds() - f.start;

    for (size_t i = 0; i < n; i++) {
        switch (r->targets[i].status) {
        case STRATA_TARGET_OK:
            r->ok++;
            break;
        case STRATA_TARGET_DIFFERS:
            r->differs++;
            break;
        case STRATA_TARGET_FAILED:
            r->failed++;
            break;
        case STRATA_TARGET_TIMED_OUT:
            r->timed_out++;
            break;
        default:
            r->targets[i].status = STRATA_TARGET_NOT_STARTED;
            r->not_started++;
        }
    }
    r->stopped = r->not_started > 0;
    pthread_cond_destroy(&f.changed);
    pthread_mutex_destroy(&f.lock);
    free(f.slots);
    return 0;
}
