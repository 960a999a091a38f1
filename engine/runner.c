/*
 * runner.c - applying and reverting migrations on a database: history,
 * locking, transactions, undo of failed migrations where DDL is not
 * transactional, and crash recovery.
 *
 * Guarantees (spec/cli.md, "Migration history and lock"):
 *   - everything pending is parsed, validated and compiled before the first
 *     statement runs; bad input changes nothing;
 *   - on PostgreSQL and SQLite each migration runs in its own transaction
 *     with its history row written in the same transaction;
 *   - on MySQL/MariaDB (and for "transaction": false migrations) progress is
 *     recorded after every operation; a failing operation makes the runner
 *     apply the inverses of the operations already applied, so the schema is
 *     as before the migration; if that undo fails too the migration is left
 *     `partial` and only `migrations repair` lets a run continue;
 *   - a process killed mid-migration leaves a `running` row (MySQL, and
 *     "transaction": false) that the next run undoes and re-applies (or, if
 *     every op had run, records as done); on PostgreSQL and SQLite the
 *     transaction simply never committed;
 *   - two runners never apply a migration twice: each holds a lock for the
 *     whole command, taken before the history is read: PostgreSQL session
 *     advisory lock, MySQL GET_LOCK, SQLite an flock() on
 *     "<database>-strata-lock" (all die with their holder, so a killed
 *     process never leaves a lock behind); on SQLite the history is also
 *     re-read inside each migration's transaction (BEGIN IMMEDIATE).
 */
#include "exec.h"
#include "introspect.h"
#include "names.h"
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- history ---- */

typedef struct hist_row {
    char *id;
    char *version;
    char *name;
    char *checksum;
    char *state;     /* applied | running | partial */
    char *direction; /* up | down */
    int ops_applied;
    int ops_total;
    char *applied_at;
    long long duration_ms;
} hist_row;

typedef struct history {
    hist_row *v;
    size_t n, cap;
    int exists;
} history;

static void history_free(history *h)
{
    for (size_t i = 0; i < h->n; i++) {
        hist_row *r = &h->v[i];
        free(r->id);
        free(r->version);
        free(r->name);
        free(r->checksum);
        free(r->state);
        free(r->direction);
        free(r->applied_at);
    }
    free(h->v);
    memset(h, 0, sizeof *h);
}

static hist_row *history_find(const history *h, const char *id)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->v[i].id, id) == 0)
            return &h->v[i];
    return NULL;
}

static const char *history_table_sql(strata_dialect d)
{
    switch (d) {
    case STRATA_POSTGRES:
        return "CREATE TABLE IF NOT EXISTS \"strata_migrations\" (\"id\" varchar(255) NOT NULL "
               "PRIMARY KEY, \"version\" varchar(20) NOT NULL, \"name\" varchar(255) NOT NULL, "
               "\"checksum\" char(64) NOT NULL, \"state\" varchar(16) NOT NULL, \"direction\" "
               "varchar(8) NOT NULL DEFAULT 'up', \"ops_applied\" integer NOT NULL DEFAULT 0, "
               "\"ops_total\" integer NOT NULL DEFAULT 0, \"applied_at\" varchar(32) NOT NULL, "
               "\"duration_ms\" bigint NOT NULL DEFAULT 0, \"run_id\" varchar(64) NOT NULL)";
    case STRATA_MYSQL:
        return "CREATE TABLE IF NOT EXISTS `strata_migrations` (`id` varchar(255) NOT NULL "
               "PRIMARY KEY, `version` varchar(20) NOT NULL, `name` varchar(255) NOT NULL, "
               "`checksum` char(64) NOT NULL, `state` varchar(16) NOT NULL, `direction` "
               "varchar(8) NOT NULL DEFAULT 'up', `ops_applied` int NOT NULL DEFAULT 0, "
               "`ops_total` int NOT NULL DEFAULT 0, `applied_at` varchar(32) NOT NULL, "
               "`duration_ms` bigint NOT NULL DEFAULT 0, `run_id` varchar(64) NOT NULL) "
               "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
    case STRATA_SQLITE:
        return "CREATE TABLE IF NOT EXISTS \"strata_migrations\" (\"id\" text NOT NULL PRIMARY "
               "KEY, \"version\" text NOT NULL, \"name\" text NOT NULL, \"checksum\" text NOT "
               "NULL, \"state\" text NOT NULL, \"direction\" text NOT NULL DEFAULT 'up', "
               "\"ops_applied\" integer NOT NULL DEFAULT 0, \"ops_total\" integer NOT NULL "
               "DEFAULT 0, \"applied_at\" text NOT NULL, \"duration_ms\" integer NOT NULL "
               "DEFAULT 0, \"run_id\" text NOT NULL)";
    }
    return NULL;
}

static int table_exists(strata_conn *conn, const char *name, int *exists)
{
    const char *sql = NULL;
    switch (strata_conn_dialect(conn)) {
    case STRATA_POSTGRES:
        sql = "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND "
              "tablename = ?";
        break;
    case STRATA_MYSQL:
        sql = "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND "
              "table_name = ?";
        break;
    case STRATA_SQLITE:
        sql = "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?";
        break;
    }
    strata_value v = strata_vtext(name);
    char *out = NULL;
    int rc = strata_conn_query_string(conn, sql, &v, 1, &out);
    *exists = out != NULL;
    free(out);
    return rc;
}

static char *dup_text(strata_rows *rows, size_t i)
{
    const char *t = strata_rows_text(rows, i);
    return t ? xstrdup(t) : NULL;
}

static int history_load(strata_conn *conn, history *h)
{
    memset(h, 0, sizeof *h);
    int rc = table_exists(conn, "strata_migrations", &h->exists);
    if (rc || !h->exists)
        return rc;
    strata_rows *rows;
    char *q = NULL;
    char *t = strata_conn_quote_ident(conn, "strata_migrations");
    q = xasprintf("SELECT id, version, name, checksum, state, direction, ops_applied, ops_total, "
                  "applied_at, duration_ms FROM %s",
                  t);
    free(t);
    rc = strata_conn_query(conn, q, NULL, 0, &rows);
    free(q);
    if (rc)
        return strata_error_prefix("reading the migration history: ");
    while ((rc = strata_rows_next(rows)) == 1) {
        h->v = xgrow(h->v, &h->cap, h->n + 1, sizeof *h->v);
        hist_row *r = &h->v[h->n++];
        memset(r, 0, sizeof *r);
        r->id = dup_text(rows, 0);
        r->version = dup_text(rows, 1);
        r->name = dup_text(rows, 2);
        r->checksum = dup_text(rows, 3);
        r->state = dup_text(rows, 4);
        r->direction = dup_text(rows, 5);
        r->ops_applied = (int)strata_rows_value(rows, 6)->i;
        r->ops_total = (int)strata_rows_value(rows, 7)->i;
        r->applied_at = dup_text(rows, 8);
        r->duration_ms = strata_rows_value(rows, 9)->i;
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

int history_applied_ids(strata_conn *conn, strvec *ids, int *exists)
{
    history h;
    int rc = history_load(conn, &h);
    *exists = h.exists;
    for (size_t i = 0; !rc && i < h.n; i++)
        if (strcmp(h.v[i].state, "applied") == 0)
            strvec_push(ids, h.v[i].id);
    history_free(&h);
    return rc;
}

static void utc_now(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

/* ---- the runner ---- */

typedef struct runner {
    strata_conn *conn;
    const strata_options *opt; /* &options */
    strata_options options;    /* the caller's, checked, or the defaults */
    compile_target tg;
    migration_set set;
    down_plan plan;
    history hist;
    char run_id[33];
    int locked;
    int lock_fd; /* SQLite: the locked file beside the database, or -1 */
    strata_report *report;
    /* The schema model after migrations [0, model_pos), kept between
     * compiles (see model_advance). */
    schema model;
    size_t model_pos;
    int model_live;
} runner;

/* Lines of progress go to the caller's log callback, if it set one: the
 * library prints nothing itself. */
static void vsay(runner *r, strata_log_level level, const char *fmt, va_list ap)
{
    if (!r->opt->log_cb)
        return;
    sbuf b = SBUF_INIT;
    sbuf_vaddf(&b, fmt, ap);
    r->opt->log_cb(level, sbuf_str(&b), r->opt->log_payload);
    sbuf_free(&b);
}

static void say(runner *r, const char *fmt, ...) STRATA_PRINTF(2, 3);
static void say(runner *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(r, STRATA_LOG_INFO, fmt, ap);
    va_end(ap);
}

static void say_warning(runner *r, const char *fmt, ...) STRATA_PRINTF(2, 3);
static void say_warning(runner *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(r, STRATA_LOG_WARNING, fmt, ap);
    va_end(ap);
}

/* Where a run or revert stands, to the caller's progress callback: as
 * migration `number` of `total` starts, and once it is done. */
static void progress_migration(runner *r, const migration *m, size_t number, size_t total, int down,
                               int done, double started)
{
    if (!r->opt->progress_cb)
        return;
    strata_migration_progress p;
    memset(&p, 0, sizeof p);
    p.id = m->id;
    p.number = number;
    p.total = total;
    p.down = down;
    p.done = done;
    p.seconds = now_seconds() - started;
    r->opt->progress_cb(&p, r->opt->progress_payload);
}

static void make_run_id(char out[33])
{
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        unsigned long long x =
            (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
        memcpy(bytes, &x, sizeof x);
        memcpy(bytes + 8, &x, sizeof x);
    }
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", bytes[i]);
    out[32] = '\0';
}

static void report_add(strata_report *rep, const migration *m, strata_mig_status st,
                       const hist_row *h)
{
    rep->items = xrealloc(rep->items, (rep->n + 1) * sizeof *rep->items);
    strata_migration_info *it = &rep->items[rep->n++];
    memset(it, 0, sizeof *it);
    it->id = xstrdup(m ? m->id : h->id);
    it->version = xstrdup(m ? m->version : (h->version ? h->version : ""));
    it->name = xstrdup(m ? m->name : (h->name ? h->name : ""));
    it->description = m && m->description ? xstrdup(m->description) : NULL;
    it->status = st;
    if (h) {
        it->applied_at = h->applied_at ? xstrdup(h->applied_at) : NULL;
        it->duration_ms = h->duration_ms;
        it->ops_applied = h->ops_applied;
        it->ops_total = h->ops_total;
    }
    if (m && !it->ops_total)
        it->ops_total = (int)m->up.n;
}

static void report_warn(strata_report *rep, const char *msg)
{
    rep->warnings = xrealloc(rep->warnings, (rep->nwarnings + 2) * sizeof(char *));
    rep->warnings[rep->nwarnings++] = xstrdup(msg);
    rep->warnings[rep->nwarnings] = NULL;
}

void strata_report_free(strata_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        strata_migration_info *it = &r->items[i];
        free(it->id);
        free(it->version);
        free(it->name);
        free(it->description);
        free(it->applied_at);
    }
    free(r->items);
    free(r->sql);
    for (size_t i = 0; i < r->nwarnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
    free(r);
}

static int runner_init(runner *r, strata_conn *conn, const strata_options *opt)
{
    memset(r, 0, sizeof *r);
    r->conn = conn;
    r->opt = &r->options;
    r->lock_fd = -1;
    int rc = options_get(opt, &r->options);
    if (rc)
        return rc;
    opt = r->opt;
    if (conn)
        r->tg = compile_target_for(conn);
    make_run_id(r->run_id);
    r->report = xcalloc(1, sizeof *r->report);
    const char *dir = opt->migrations_dir ? opt->migrations_dir : "./migrations";
    rc = migrations_load_dir(dir, &r->set);
    if (rc)
        return rc;
    r->report->total = r->set.n;
    for (size_t i = 0; i < r->set.warnings.n; i++)
        report_warn(r->report, r->set.warnings.v[i]);
    /* validate everything offline and derive the downs */
    schema s;
    schema_init(&s);
    rc = plan_replay(&r->set, r->set.n, &s, &r->plan);
    schema_free(&s);
    return rc;
}

static void runner_free(runner *r)
{
    if (r->model_live)
        schema_free(&r->model);
    migration_set_free(&r->set);
    plan_free(&r->plan);
    history_free(&r->hist);
}

static int migration_index(const runner *r, const char *id)
{
    for (size_t i = 0; i < r->set.n; i++)
        if (strcmp(r->set.v[i]->id, id) == 0)
            return (int)i;
    return -1;
}

/* ---- locking ---- */

static void pg_lock_key(const char *db, long long *key, unsigned *hi, unsigned *lo)
{
    char hex[65];
    char *text = xasprintf("strata:%s", db);
    sha256_hex(text, strlen(text), hex);
    free(text);
    unsigned long long k = 0;
    for (int i = 0; i < 15; i++) {
        char c = hex[i];
        k = k * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    *key = (long long)k;
    *hi = (unsigned)(k >> 32);
    *lo = (unsigned)(k & 0xffffffffu);
}

static char *mysql_lock_name(const char *db)
{
    char *full = xasprintf("strata:%s", db);
    char *n = name_shorten(full);
    free(full);
    return n;
}

/* Who holds the lock, as one line (NULL when nobody). */
static char *lock_holder(strata_conn *conn)
{
    const char *db = strata_conn_database(conn);
    char *out = NULL;
    if (strata_conn_dialect(conn) == STRATA_POSTGRES) {
        long long key;
        unsigned hi, lo;
        pg_lock_key(db, &key, &hi, &lo);
        char *q = xasprintf(
            "SELECT 'pid ' || a.pid || ' (' || coalesce(nullif(a.application_name, ''), '?') || "
            "' from ' || coalesce(host(a.client_addr), 'local socket') || ', connected ' || "
            "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC)' "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = "
            "'advisory' AND l.granted AND l.classid = %u AND l.objid = %u AND l.objsubid = 1 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            hi, lo);
        strata_conn_query_string(conn, q, NULL, 0, &out);
        free(q);
    } else if (strata_conn_dialect(conn) == STRATA_MYSQL) {
        char *name = mysql_lock_name(db);
        strata_value v = strata_vtext(name);
        char *id = NULL;
        strata_conn_query_string(conn, "SELECT IS_USED_LOCK(?)", &v, 1, &id);
        free(name);
        if (id) {
            strata_value iv = strata_vtext(id);
            char *info = NULL;
            strata_conn_query_string(
                conn,
                "SELECT CONCAT('connection ', ID, ' (', USER, '@', HOST, ', ', TIME, ' s in ', "
                "COMMAND, ')') FROM information_schema.PROCESSLIST WHERE ID = ?",
                &iv, 1, &info);
            out = info ? info : xasprintf("connection %s", id);
            free(id);
        }
    }
    strata_error_clear();
    return out;
}

/*
 * SQLite has no lock that outlives a transaction, and a migration run
 * outside one ("transaction": false) commits after every operation; with
 * only BEGIN IMMEDIATE, a second runner could read the history between two
 * of those commits and apply the migration again, or take its `running` row
 * for one left by a dead process and undo it under the live one. So a runner
 * on SQLite also holds, for the whole command, an flock() on a file beside
 * the database, "<database>-strata-lock". Like PostgreSQL's and MySQL's
 * session locks it is dropped by the kernel when its process dies. It is a
 * file of its own because closing any descriptor of the database file would
 * silently drop this process's POSIX locks that SQLite holds on it. The file
 * holds one line saying who holds the lock. In-memory databases need none.
 */
static char *sqlite_lock_path(strata_conn *conn)
{
    const char *db = strata_conn_database(conn);
    if (!db || !*db || strcmp(db, ":memory:") == 0)
        return NULL;
    return xasprintf("%s-strata-lock", db);
}

/* Who holds the SQLite migration lock (NULL when it is free). */
static char *sqlite_lock_holder(strata_conn *conn)
{
    char *path = sqlite_lock_path(conn);
    if (!path)
        return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return NULL;
    char *who = NULL;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        flock(fd, LOCK_UN);
    } else {
        char buf[256];
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        who = xstrdup(*buf ? buf : "another process");
    }
    close(fd);
    return who;
}

/* Take the SQLite migration lock, waiting up to `timeout` seconds. */
static int sqlite_lock_acquire(runner *r, double timeout)
{
    char *path = sqlite_lock_path(r->conn);
    if (!path)
        return 0;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = strata_set_error(STRATA_EIO, "cannot open the migration lock file %s: %s", path,
                                 strerror(errno));
        free(path);
        return e;
    }
    double start = now_seconds();
    int warned = 0;
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int e = strata_set_error(STRATA_ELOCK, "cannot lock %s: %s", path, strerror(errno));
            close(fd);
            free(path);
            return e;
        }
        char *who = sqlite_lock_holder(r->conn);
        if (!warned) {
            say(r, "waiting for the migration lock, held by %s", who ? who : "another process");
            warned = 1;
        }
        if (now_seconds() - start >= timeout) {
            int e = strata_set_error(STRATA_ELOCK,
                                     "the migration lock of %s (%s) is held by %s; gave up after "
                                     "%.0f s (--lock-timeout)",
                                     strata_conn_database(r->conn), path,
                                     who ? who : "another process", timeout);
            free(who);
            close(fd);
            free(path);
            return e;
        }
        free(who);
        usleep(100000);
    }
    /* Wait here for any other writer (SQLite's write lock), so that a busy
     * database is reported as such, not as the failure of some statement;
     * the runner's statements then wait as long for it (busy_timeout). */
    int rc = strata_conn_exec(r->conn, "PRAGMA busy_timeout = 0");
    if (!rc && strata_conn_exec(r->conn, "BEGIN IMMEDIATE") != 0) {
        strata_error_clear();
        say(r, "waiting for the migration lock: another process is writing to %s",
            strata_conn_database(r->conn));
        char *q = xasprintf("PRAGMA busy_timeout = %d", (int)(timeout * 1000));
        rc = strata_conn_exec(r->conn, q);
        free(q);
        if (!rc && strata_conn_exec(r->conn, "BEGIN IMMEDIATE") != 0)
            rc = strata_set_error(STRATA_ELOCK,
                                  "the migration lock of %s is held by another process writing "
                                  "to it (SQLite's write lock: %s); gave up after %.0f s "
                                  "(--lock-timeout)",
                                  strata_conn_database(r->conn), strata_error_message(), timeout);
    }
    if (!rc)
        rc = strata_conn_exec(r->conn, "ROLLBACK");
    if (!rc) {
        char *q = xasprintf("PRAGMA busy_timeout = %d", (int)(timeout * 1000));
        rc = strata_conn_exec(r->conn, q);
        free(q);
    }
    if (rc) {
        flock(fd, LOCK_UN);
        close(fd);
        free(path);
        return rc;
    }
    free(path);
    char host[128] = "";
    gethostname(host, sizeof host - 1);
    char at[32];
    utc_now(at);
    char line[256];
    int n = snprintf(line, sizeof line, "pid %ld on %s (strata, since %s UTC)\n", (long)getpid(),
                     *host ? host : "?", at);
    if (ftruncate(fd, 0) == 0 && n > 0 && pwrite(fd, line, (size_t)n, 0) < 0) {
        /* who holds the lock is only information; the lock itself is taken */
    }
    r->lock_fd = fd;
    return 0;
}

static int lock_acquire(runner *r)
{
    strata_conn *conn = r->conn;
    double timeout = r->opt->lock_timeout > 0 ? r->opt->lock_timeout : 0;
    const char *db = strata_conn_database(conn);
    if (strata_conn_dialect(conn) == STRATA_SQLITE) {
        int rc = sqlite_lock_acquire(r, timeout);
        if (!rc)
            r->locked = 1;
        return rc;
    }
    double start = now_seconds();
    int warned = 0;
    if (strata_conn_dialect(conn) == STRATA_POSTGRES) {
        /* The lock lives as long as this session. A server only notices a
         * dead client when it next talks to it, so a runner killed during a
         * long statement would keep the lock until that statement ends;
         * PostgreSQL 14+ can check for a dead client while it works. */
        if (strata_conn_server_version_num(conn) >= 140000 &&
            strata_conn_exec(conn, "SET client_connection_check_interval = 1000") != 0)
            strata_error_clear(); /* only sooner release; not needed */
        long long key;
        unsigned hi, lo;
        pg_lock_key(db, &key, &hi, &lo);
        char *q = xasprintf("SELECT pg_try_advisory_lock(%lld)", key);
        for (;;) {
            strata_rows *rows;
            int rc = strata_conn_query(conn, q, NULL, 0, &rows);
            if (rc) {
                free(q);
                return rc;
            }
            int got = strata_rows_next(rows) == 1 && strata_rows_value(rows, 0)->i;
            strata_rows_free(rows);
            if (got)
                break;
            if (!warned) {
                char *who = lock_holder(conn);
                say(r, "waiting for the migration lock, held by %s", who ? who : "another session");
                free(who);
                warned = 1;
            }
            if (now_seconds() - start >= timeout) {
                char *who = lock_holder(conn);
                free(q);
                int e = strata_set_error(STRATA_ELOCK,
                                         "the migration lock of database '%s' is held by %s; "
                                         "gave up after %.0f s (--lock-timeout)",
                                         db, who ? who : "another session", timeout);
                free(who);
                return e;
            }
            usleep(100000);
        }
        free(q);
    } else {
        char *name = mysql_lock_name(db);
        char *who = lock_holder(conn);
        if (who) {
            say(r, "waiting for the migration lock, held by %s", who);
            free(who);
        }
        strata_value args[2] = {strata_vtext(name), strata_vint((long long)(timeout + 0.999))};
        char *got = NULL;
        int rc = strata_conn_query_string(conn, "SELECT GET_LOCK(?, ?)", args, 2, &got);
        if (rc) {
            free(name);
            return rc;
        }
        int ok = got && strcmp(got, "1") == 0;
        free(got);
        if (!ok) {
            who = lock_holder(conn);
            int e = strata_set_error(STRATA_ELOCK,
                                     "the migration lock '%s' is held by %s; gave up after %.0f s "
                                     "(--lock-timeout)",
                                     name, who ? who : "another session", timeout);
            free(who);
            free(name);
            return e;
        }
        free(name);
    }
    r->locked = 1;
    return 0;
}

static void lock_release(runner *r)
{
    if (!r->locked)
        return;
    const char *db = strata_conn_database(r->conn);
    if (strata_conn_dialect(r->conn) == STRATA_POSTGRES) {
        long long key;
        unsigned hi, lo;
        pg_lock_key(db, &key, &hi, &lo);
        char *q = xasprintf("SELECT pg_advisory_unlock(%lld)", key);
        strata_conn_exec(r->conn, q);
        free(q);
    } else if (strata_conn_dialect(r->conn) == STRATA_MYSQL) {
        char *name = mysql_lock_name(db);
        strata_value v = strata_vtext(name);
        strata_conn_execp(r->conn, "SELECT RELEASE_LOCK(?)", &v, 1, NULL);
        free(name);
    } else if (r->lock_fd >= 0) {
        if (ftruncate(r->lock_fd, 0) != 0) {
            /* only the line saying who holds it stays behind */
        }
        flock(r->lock_fd, LOCK_UN);
        close(r->lock_fd);
        r->lock_fd = -1;
    }
    r->locked = 0;
}

/* ---- compiling ---- */

/* Compile `ops` (belonging to migration m) starting from state `s`, which is
 * left in the state after them. per_op[j] gets op j's statements. */
static int compile_ops(const compile_target *tg, schema *s, const migration *m, const op_list *ops,
                       stmt_list *per_op)
{
    for (size_t j = 0; j < ops->n; j++) {
        const op *o = ops->v[j];
        table before_t;
        int have_t = 0;
        strvec before_enum = STRVEC_INIT;
        if (o->table) {
            const table *t = schema_table(s, o->table);
            if (t) {
                table_copy(&before_t, t);
                have_t = 1;
            }
        }
        if (o->kind == OP_ALTER_ENUM || o->kind == OP_DROP_ENUM) {
            const enum_def *e = schema_enum(s, o->name);
            for (size_t k = 0; e && k < e->values.n; k++)
                strvec_push(&before_enum, e->values.v[k]);
        }
        apply_ctx ctx = {m->path, ops, j, NULL};
        char *why = NULL;
        int rc = model_apply(s, o, &ctx, NULL, &why);
        free(why);
        if (!rc) {
            before_state bs = {have_t ? &before_t : NULL, &before_enum};
            rc = compile_op(tg, s, &bs, o, &ctx, &per_op[j]);
        }
        if (have_t)
            table_free_contents(&before_t);
        strvec_free(&before_enum);
        if (rc)
            return rc;
    }
    return 0;
}

/* A compiled migration, ready to run in one direction. */
typedef struct compiled {
    size_t index;
    int down;
    size_t nops;
    stmt_list *per_op;
    const op_list *ops;
} compiled;

static void compiled_free(compiled *c)
{
    for (size_t j = 0; j < c->nops; j++)
        stmt_list_free(&c->per_op[j]);
    free(c->per_op);
    memset(c, 0, sizeof *c);
}

/*
 * Bring the runner's schema model to the state after migrations [0, upto).
 * Compiling a migration needs the model of everything before it; replaying
 * every earlier migration again for each one made compiling n migrations
 * O(n^2) replays (about a minute for 1,000). The model moves forward
 * instead, so compiling in ascending order replays each migration once;
 * asking for an earlier state starts over. The replay is plan_replay's:
 * model_begin_migration, then model_apply of each `up` op.
 */
static int model_advance(runner *r, size_t upto)
{
    if (r->model_live && r->model_pos > upto) {
        schema_free(&r->model);
        r->model_live = 0;
    }
    if (!r->model_live) {
        schema_init(&r->model);
        r->model_pos = 0;
        r->model_live = 1;
    }
    while (r->model_pos < upto) {
        const migration *m = r->set.v[r->model_pos];
        model_begin_migration(&r->model, (int)r->model_pos);
        for (size_t j = 0; j < m->up.n; j++) {
            apply_ctx ctx = {m->path, &m->up, j, NULL};
            int rc = model_apply(&r->model, m->up.v[j], &ctx, NULL, NULL);
            if (rc) {
                schema_free(&r->model);
                r->model_live = 0;
                return rc;
            }
        }
        r->model_pos++;
    }
    return 0;
}

/* Compile migration `idx` up (from the state after [0, idx)) or down (from
 * the state after [0, idx]). Callers compile in ascending order of idx, so
 * the model only moves forward (model_advance). */
static int compile_migration(runner *r, size_t idx, int down, compiled *out)
{
    memset(out, 0, sizeof *out);
    const migration *m = r->set.v[idx];
    int rc = model_advance(r, down ? idx + 1 : idx);
    if (rc)
        return rc;
    /* up advances the model itself; down works on a copy */
    schema copy;
    schema *s = &r->model;
    if (down) {
        schema_copy(&copy, &r->model);
        s = &copy;
    }
    model_begin_migration(s, (int)idx);
    out->index = idx;
    out->down = down;
    out->ops = down ? &r->plan.downs[idx] : &m->up;
    out->nops = out->ops->n;
    out->per_op = xcalloc(out->nops + 1, sizeof *out->per_op);
    rc = compile_ops(&r->tg, s, m, out->ops, out->per_op);
    if (down) {
        schema_free(&copy);
    } else if (rc) {
        schema_free(&r->model); /* left somewhere inside migration idx */
        r->model_live = 0;
    } else {
        r->model_pos = idx + 1;
    }
    if (rc)
        compiled_free(out);
    return rc;
}

/* The statements that undo op j of migration idx in direction `down`. */
static int undo_statements(runner *r, size_t idx, int down, size_t j, stmt_list *out)
{
    const migration *m = r->set.v[idx];
    const op_list *ops = down ? &r->plan.downs[idx] : &m->up;
    schema s;
    schema_init(&s);
    int rc = plan_replay(&r->set, down ? idx + 1 : idx, &s, NULL);
    op_list inv = {0};
    model_begin_migration(&s, (int)idx);
    for (size_t k = 0; k <= j && !rc; k++) {
        apply_ctx ctx = {m->path, ops, k, NULL};
        char *why = NULL;
        rc = model_apply(&s, ops->v[k], &ctx, k == j ? &inv : NULL, &why);
        free(why);
    }
    if (!rc && ops->v[j]->kind == OP_SQL)
        rc = strata_set_error(STRATA_ESTATE, "%s: %s (sql) cannot be undone automatically", m->path,
                              ops->v[j]->path);
    if (!rc) {
        stmt_list *per = xcalloc(inv.n + 1, sizeof *per);
        rc = compile_ops(&r->tg, &s, m, &inv, per);
        for (size_t k = 0; k < inv.n; k++) {
            for (size_t q = 0; q < per[k].n; q++) {
                stmt *st = &per[k].v[q];
                out->v = xgrow(out->v, &out->cap, out->n + 1, sizeof *out->v);
                out->v[out->n++] = *st;
            }
            free(per[k].v);
        }
        free(per);
    }
    op_list_free(&inv);
    schema_free(&s);
    return rc;
}

/* ---- executing ---- */

static int is_progressive(const runner *r, const migration *m)
{
    return strata_conn_dialect(r->conn) == STRATA_MYSQL || !m->transaction;
}

static char *qtable(runner *r)
{
    return strata_conn_quote_ident(r->conn, "strata_migrations");
}

/*
 * Execute a history statement with `?` parameters. On MySQL/MariaDB a
 * statement with parameters is a server-side prepared statement: prepare,
 * execute and close, three round trips, paid after every operation there
 * (progress is recorded per op). The values (ids, names, checksums, states,
 * times: all made or validated by the engine) are inlined as quoted
 * literals instead, one round trip. Elsewhere parameters cost nothing.
 */
static int history_exec(runner *r, const char *sql, const strata_value *v, size_t n)
{
    if (strata_conn_dialect(r->conn) != STRATA_MYSQL)
        return strata_conn_execp(r->conn, sql, v, n, NULL);
    sbuf b = SBUF_INIT;
    size_t k = 0;
    for (const char *p = sql; *p; p++) {
        if (*p != '?' || k >= n) {
            sbuf_addc(&b, *p);
            continue;
        }
        if (v[k].type == STRATA_VINT) {
            sbuf_addf(&b, "%lld", (long long)v[k].i);
        } else {
            char *lit = strata_conn_quote_literal(r->conn, v[k].s);
            sbuf_add(&b, lit);
            free(lit);
        }
        k++;
    }
    int rc = strata_conn_exec(r->conn, sbuf_str(&b));
    sbuf_free(&b);
    return rc;
}

static int history_insert(runner *r, const migration *m, const char *state, const char *dir,
                          int ops_applied, int ops_total, long long duration_ms)
{
    char at[32];
    utc_now(at);
    char *t = qtable(r);
    char *q = xasprintf("INSERT INTO %s (id, version, name, checksum, state, direction, "
                        "ops_applied, ops_total, applied_at, duration_ms, run_id) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        t);
    strata_value v[] = {strata_vtext(m->id),       strata_vtext(m->version), strata_vtext(m->name),
                        strata_vtext(m->checksum), strata_vtext(state),      strata_vtext(dir),
                        strata_vint(ops_applied),  strata_vint(ops_total),   strata_vtext(at),
                        strata_vint(duration_ms),  strata_vtext(r->run_id)};
    int rc = history_exec(r, q, v, 11);
    free(q);
    free(t);
    if (rc)
        strata_error_prefix("recording migration %s in the history: ", m->id);
    return rc;
}

static int history_update(runner *r, const migration *m, const char *state, const char *dir,
                          int ops_applied, long long duration_ms)
{
    char at[32];
    utc_now(at);
    char *t = qtable(r);
    char *q = xasprintf("UPDATE %s SET state = ?, direction = ?, ops_applied = ?, applied_at = ?, "
                        "duration_ms = ?, checksum = ?, run_id = ? WHERE id = ?",
                        t);
    strata_value v[] = {strata_vtext(state),      strata_vtext(dir),
                        strata_vint(ops_applied), strata_vtext(at),
                        strata_vint(duration_ms), strata_vtext(m->checksum),
                        strata_vtext(r->run_id),  strata_vtext(m->id)};
    int rc = history_exec(r, q, v, 8);
    free(q);
    free(t);
    if (rc)
        strata_error_prefix("recording migration %s in the history: ", m->id);
    return rc;
}

static int history_delete(runner *r, const char *id)
{
    char *t = qtable(r);
    char *q = xasprintf("DELETE FROM %s WHERE id = ?", t);
    strata_value v = strata_vtext(id);
    int rc = history_exec(r, q, &v, 1);
    free(q);
    free(t);
    if (rc)
        strata_error_prefix("removing migration %s from the history: ", id);
    return rc;
}

/* Inside a migration's transaction: is it (still) in the state we expect? */
static int history_state(runner *r, const char *id, char **state)
{
    char *t = qtable(r);
    char *q = xasprintf("SELECT state FROM %s WHERE id = ?", t);
    strata_value v = strata_vtext(id);
    int rc = strata_conn_query_string(r->conn, q, &v, 1, state);
    free(q);
    free(t);
    return rc;
}

static void describe_failure(runner *r, const compiled *c, size_t j)
{
    const migration *m = r->set.v[c->index];
    const op *o = c->ops->v[j];
    /* the op's path says where it is: "up[3]", "down[1]", "inverse of up[2]" */
    strata_error_prefix("migration %s: %s%s (%s): ", m->id, c->down ? "revert: " : "",
                        o->path ? o->path : "", op_names[o->kind]);
}

/* Undo ops [0, upto) (and op `upto` best-effort when `partial_op`) of a
 * migration that failed or was interrupted. Returns 0 when the schema is
 * back where it started; otherwise *remaining is how many ops stay applied. */
static int undo_ops(runner *r, size_t idx, int down, size_t upto, int partial_op, int *remaining)
{
    exec_state st = {STRVEC_INIT, 0};
    *remaining = (int)upto;
    size_t nops = down ? r->plan.downs[idx].n : r->set.v[idx]->up.n;
    if (partial_op && upto < nops) {
        stmt_list l = {0};
        int rc = undo_statements(r, idx, down, upto, &l);
        if (!rc) {
            st.best_effort = 1;
            exec_stmts(r->conn, &l, &st, NULL);
            st.best_effort = 0;
            exec_state_free(&st);
        }
        stmt_list_free(&l);
        strata_error_clear();
    }
    for (size_t j = upto; j-- > 0;) {
        stmt_list l = {0};
        int rc = undo_statements(r, idx, down, j, &l);
        if (!rc)
            rc = exec_stmts(r->conn, &l, &st, NULL);
        stmt_list_free(&l);
        exec_state_free(&st);
        if (rc) {
            strata_error_prefix("undoing op %zu: ", j);
            return rc;
        }
        *remaining = (int)j;
    }
    return 0;
}

/* Run a compiled migration op by op, recording progress after each (MySQL,
 * and "transaction": false), undoing on failure. */
static int run_progressive(runner *r, compiled *c)
{
    const migration *m = r->set.v[c->index];
    const char *dir = c->down ? "down" : "up";
    double start = now_seconds();
    int rc = c->down ? history_update(r, m, "running", dir, 0, 0)
                     : history_insert(r, m, "running", dir, 0, (int)c->nops, 0);
    if (rc)
        return rc;
    int sqlite = strata_conn_dialect(r->conn) == STRATA_SQLITE;
    for (size_t j = 0; j < c->nops; j++) {
        exec_state st = {STRVEC_INIT, 0};
        size_t failed = 0;
        int fk_off = sqlite && stmt_list_needs_fk_off(&c->per_op[j]);
        if (fk_off)
            strata_conn_exec(r->conn, "PRAGMA foreign_keys = OFF");
        if (sqlite)
            rc = strata_conn_begin(r->conn);
        if (!rc)
            rc = exec_stmts(r->conn, &c->per_op[j], &st, &failed);
        /* op j ran in full; from here on an undo must include it */
        int op_done = !rc;
        /* On SQLite the op and its progress commit together, so a kill
         * never leaves an applied op unrecorded; elsewhere DDL commits by
         * itself and the undo of an interrupted op is best effort. After
         * the last op the final state is written at once (one round trip
         * less per migration). */
        if (!rc && j + 1 < c->nops)
            rc = history_update(r, m, "running", dir, (int)j + 1, 0);
        else if (!rc)
            rc = c->down ? history_delete(r, m->id)
                         : history_update(r, m, "applied", "up", (int)c->nops,
                                          (long long)((now_seconds() - start) * 1000));
        if (sqlite) {
            if (rc) {
                strata_conn_rollback(r->conn);
            } else if ((rc = strata_conn_commit(r->conn)) != 0) {
                char *msg = xstrdup(strata_error_message());
                strata_conn_exec(r->conn, "ROLLBACK"); /* a failed COMMIT may leave it open */
                strata_set_error(rc, "commit: %s", msg);
                free(msg);
            }
            if (rc) { /* rolled back: nothing of op j stays */
                op_done = 0;
                failed = 0;
            }
        }
        if (fk_off)
            strata_conn_exec(r->conn, "PRAGMA foreign_keys = ON");
        exec_state_free(&st);
        if (rc) {
            describe_failure(r, c, j);
            char *msg = xstrdup(strata_error_message());
            int code = strata_error_code();
            int remaining = 0;
            size_t applied = op_done ? j + 1 : j;
            if (applied)
                say(r, "undoing the %zu applied operation(s) of %s", applied, m->id);
            int urc = undo_ops(r, c->index, c->down, applied, !op_done && failed > 0, &remaining);
            if (urc == 0) {
                if (c->down)
                    history_update(r, m, "applied", "up", (int)m->up.n, 0);
                else
                    history_delete(r, m->id);
                strata_set_error(code,
                                 "%s (the migration's applied operations were undone; the "
                                 "schema is as before it)",
                                 msg);
            } else {
                char *umsg = xstrdup(strata_error_message());
                history_update(r, m, "partial", dir, remaining, 0);
                strata_set_error(STRATA_ESTATE,
                                 "%s; undoing it failed too (%s): migration %s is left partial - "
                                 "fix the database, then run `strata migrations repair`",
                                 msg, umsg, m->id);
                free(umsg);
            }
            free(msg);
            return strata_error_code();
        }
    }
    if (c->nops > 0)
        return 0; /* the last op wrote the final state */
    /* an empty explicit down: reverting only forgets the migration */
    if (c->down)
        return history_delete(r, m->id);
    return history_update(r, m, "applied", "up", 0, 0);
}

/* Run a compiled migration in one transaction with its history row. */
static int run_transactional(runner *r, compiled *c, int *skipped)
{
    const migration *m = r->set.v[c->index];
    int sqlite = strata_conn_dialect(r->conn) == STRATA_SQLITE;
    int fk_off = 0;
    for (size_t j = 0; sqlite && j < c->nops; j++)
        fk_off |= stmt_list_needs_fk_off(&c->per_op[j]);
    double start = now_seconds();
    *skipped = 0;
    int rc = 0;
    if (fk_off)
        rc = strata_conn_exec(r->conn, "PRAGMA foreign_keys = OFF");
    if (!rc)
        rc = strata_conn_begin(r->conn);
    if (rc) {
        if (fk_off)
            strata_conn_exec(r->conn, "PRAGMA foreign_keys = ON");
        return strata_error_prefix("migration %s: ", m->id);
    }
    /* On SQLite, re-read the history under the write lock: a runner that
     * does not take the lock file (an older strata) may have applied it.
     * PostgreSQL and MySQL runners hold the migration lock since before
     * the history was read, so there it saves a round trip. */
    char *state = NULL;
    if (sqlite)
        rc = history_state(r, m->id, &state);
    if (sqlite && !rc && ((!c->down && state) || (c->down && !state))) {
        *skipped = 1;
        free(state);
        strata_conn_rollback(r->conn);
        if (fk_off)
            strata_conn_exec(r->conn, "PRAGMA foreign_keys = ON");
        return 0;
    }
    free(state);
    exec_state st = {STRVEC_INIT, 0};
    for (size_t j = 0; j < c->nops && !rc; j++) {
        rc = exec_stmts(r->conn, &c->per_op[j], &st, NULL);
        if (rc)
            describe_failure(r, c, j);
    }
    exec_state_free(&st);
    long long ms = (long long)((now_seconds() - start) * 1000);
    if (!rc)
        rc = c->down ? history_delete(r, m->id)
                     : history_insert(r, m, "applied", "up", (int)c->nops, (int)c->nops, ms);
    if (!rc) {
        rc = strata_conn_commit(r->conn);
        if (rc) {
            char *msg = xstrdup(strata_error_message());
            strata_conn_exec(r->conn, "ROLLBACK"); /* a failed COMMIT may leave it open */
            strata_set_error(rc, "migration %s: commit: %s", m->id, msg);
            free(msg);
        }
    } else {
        char *msg = xstrdup(strata_error_message());
        int code = strata_error_code();
        strata_conn_rollback(r->conn);
        strata_set_error(code, "%s (rolled back; the schema is as before the migration)", msg);
        free(msg);
    }
    if (fk_off)
        strata_conn_exec(r->conn, "PRAGMA foreign_keys = ON");
    return rc;
}

static int run_compiled(runner *r, compiled *c, int *skipped)
{
    *skipped = 0;
    if (is_progressive(r, r->set.v[c->index]))
        return run_progressive(r, c);
    return run_transactional(r, c, skipped);
}

/* Render a compiled migration for --dry-run. */
static void render_compiled(runner *r, const compiled *c, sbuf *out)
{
    const migration *m = r->set.v[c->index];
    strata_dialect d = r->tg.dialect;
    sbuf_addf(out, "-- %s %s\n", c->down ? "revert" : "migration", m->id);
    int progressive = d == STRATA_MYSQL || !m->transaction;
    int fk_off = 0;
    for (size_t j = 0; j < c->nops; j++)
        fk_off |= d == STRATA_SQLITE && stmt_list_needs_fk_off(&c->per_op[j]);
    if (fk_off)
        sbuf_add(out, "PRAGMA foreign_keys = OFF;\n");
    if (!progressive)
        sbuf_add(out, d == STRATA_SQLITE ? "BEGIN IMMEDIATE;\n" : "BEGIN;\n");
    for (size_t j = 0; j < c->nops; j++) {
        sbuf_addf(out, "-- %s (%s)\n", c->ops->v[j]->path ? c->ops->v[j]->path : "",
                  op_names[c->ops->v[j]->kind]);
        stmt_list_render(&c->per_op[j], d, out);
    }
    if (!progressive)
        sbuf_add(out, "COMMIT;\n");
    if (fk_off)
        sbuf_add(out, "PRAGMA foreign_keys = ON;\n");
}

/* ---- recovery ---- */

/* Undo a migration interrupted while running (its row says `running`). */
static int recover_running(runner *r, hist_row *h)
{
    int idx = migration_index(r, h->id);
    if (idx < 0)
        return strata_set_error(STRATA_ESTATE,
                                "migration %s was interrupted, but its file is missing; restore "
                                "it, then run again",
                                h->id);
    int down = h->direction && strcmp(h->direction, "down") == 0;
    const migration *m = r->set.v[idx];
    /* the undo is computed from the file: it must be the one that ran */
    if (strcmp(h->checksum, m->checksum) != 0)
        return strata_set_error(STRATA_ESTATE,
                                "migration %s was interrupted, and %s was changed since it "
                                "started (checksum %.12s, now %.12s); restore the file and run "
                                "again (or undo it with `strata migrations repair`)",
                                h->id, m->path, h->checksum, m->checksum);
    /* killed after its last operation but before it was marked done */
    size_t nops = down ? r->plan.downs[idx].n : m->up.n;
    if (h->ops_applied >= 0 && (size_t)h->ops_applied >= nops) {
        say(r,
            "recovering %s: it was interrupted after all its %zu operations; recording it as "
            "%s",
            h->id, nops, down ? "reverted" : "applied");
        if (down)
            return history_delete(r, h->id);
        return history_update(r, m, "applied", "up", (int)nops, 0);
    }
    say(r, "recovering %s: it was interrupted after %d operation(s); undoing them", h->id,
        h->ops_applied);
    int remaining = 0;
    int rc = undo_ops(r, (size_t)idx, down, (size_t)h->ops_applied, 1, &remaining);
    if (rc) {
        char *msg = xstrdup(strata_error_message());
        history_update(r, m, "partial", h->direction, remaining, 0);
        strata_set_error(STRATA_ESTATE,
                         "migration %s was interrupted and undoing it failed (%s); it is left "
                         "partial - fix the database, then run `strata migrations repair`",
                         h->id, msg);
        free(msg);
        return STRATA_ESTATE;
    }
    if (down)
        return history_update(r, m, "applied", "up", (int)m->up.n, 0);
    return history_delete(r, h->id);
}

/* ---- commands ---- */

static int prepare_history(runner *r)
{
    int rc = strata_conn_exec(r->conn, history_table_sql(strata_conn_dialect(r->conn)));
    if (rc)
        return strata_error_prefix("creating the history table strata_migrations: ");
    history_free(&r->hist);
    return history_load(r->conn, &r->hist);
}

/* Refuse to go on while a migration is partial; undo interrupted ones. */
static int check_history_state(runner *r)
{
    for (size_t i = 0; i < r->hist.n; i++) {
        hist_row *h = &r->hist.v[i];
        if (strcmp(h->state, "partial") == 0)
            return strata_set_error(STRATA_ESTATE,
                                    "migration %s is partially applied (%d of %d operations); "
                                    "fix the database, then run `strata migrations repair`",
                                    h->id, h->ops_applied, h->ops_total);
    }
    for (size_t i = 0; i < r->hist.n; i++) {
        hist_row *h = &r->hist.v[i];
        if (strcmp(h->state, "running") == 0) {
            int rc = recover_running(r, h);
            if (rc)
                return rc;
        }
    }
    history_free(&r->hist);
    return history_load(r->conn, &r->hist);
}

static int check_checksums(runner *r)
{
    for (size_t i = 0; i < r->hist.n; i++) {
        const hist_row *h = &r->hist.v[i];
        int idx = migration_index(r, h->id);
        if (idx < 0) {
            char *w = xasprintf("applied migration %s has no file in %s", h->id,
                                r->opt->migrations_dir ? r->opt->migrations_dir : "./migrations");
            report_warn(r->report, w);
            say_warning(r, "%s", w);
            free(w);
            continue;
        }
        if (strcmp(h->state, "applied") == 0 && strcmp(h->checksum, r->set.v[idx]->checksum) != 0)
            return strata_set_error(STRATA_ESTATE,
                                    "migration %s was changed after it was applied (checksum %.12s "
                                    "in the history, %.12s in %s); restore the file, or write a "
                                    "new migration for the change",
                                    h->id, h->checksum, r->set.v[idx]->checksum,
                                    r->set.v[idx]->path);
    }
    return 0;
}

/* Before run or revert changes anything: take the lock, make and read the
 * history and refuse a half-done one (a dry run only reads it), and refuse
 * edited applied migrations. */
static int prepare_change(runner *r)
{
    int rc;
    if (!r->opt->dry_run) {
        if ((rc = lock_acquire(r)))
            return rc;
        if ((rc = prepare_history(r)))
            return rc;
        if ((rc = check_history_state(r)))
            return rc;
    } else if ((rc = history_load(r->conn, &r->hist))) {
        return rc;
    }
    return check_checksums(r);
}

static int run_impl(runner *r)
{
    const strata_options *opt = r->opt;
    int rc = 0;
    /* pending, in order; out-of-order ones are refused unless allowed */
    const char *max_applied = NULL;
    for (size_t i = 0; i < r->set.n; i++)
        if (history_find(&r->hist, r->set.v[i]->id))
            max_applied = r->set.v[i]->version;
    size_t *pending = xcalloc(r->set.n + 1, sizeof(size_t));
    size_t np = 0;
    for (size_t i = 0; i < r->set.n; i++) {
        const migration *m = r->set.v[i];
        if (history_find(&r->hist, m->id))
            continue;
        if (opt->to && version_cmp(m->version, opt->to) > 0 && strcmp(m->id, opt->to) != 0)
            continue;
        if (max_applied && version_cmp(m->version, max_applied) < 0 && !opt->allow_out_of_order) {
            free(pending);
            return strata_set_error(STRATA_ESTATE,
                                    "migration %s is pending but older than applied migration "
                                    "version %s; run with --allow-out-of-order to apply it",
                                    m->id, max_applied);
        }
        pending[np++] = i;
    }
    /* compile everything before running anything */
    compiled *cs = xcalloc(np + 1, sizeof *cs);
    for (size_t k = 0; k < np && !rc; k++)
        rc = compile_migration(r, pending[k], 0, &cs[k]);
    if (!rc && opt->dry_run) {
        sbuf out = SBUF_INIT;
        for (size_t k = 0; k < np; k++)
            render_compiled(r, &cs[k], &out);
        r->report->sql = sbuf_detach(&out);
        for (size_t k = 0; k < np; k++)
            report_add(r->report, r->set.v[pending[k]], STRATA_MIG_PENDING, NULL);
    }
    double started = now_seconds();
    for (size_t k = 0; k < np && !rc && !opt->dry_run; k++) {
        const migration *m = r->set.v[pending[k]];
        double start = now_seconds();
        int skipped = 0;
        progress_migration(r, m, k + 1, np, 0, 0, started);
        rc = run_compiled(r, &cs[k], &skipped);
        if (rc)
            break;
        progress_migration(r, m, k + 1, np, 0, 1, started);
        if (skipped)
            continue;
        hist_row h;
        memset(&h, 0, sizeof h);
        char at[32];
        utc_now(at);
        h.applied_at = at;
        h.duration_ms = (long long)((now_seconds() - start) * 1000);
        h.ops_applied = h.ops_total = (int)m->up.n;
        report_add(r->report, m, STRATA_MIG_APPLIED, &h);
        say(r, "applied  %s (%zu ops, %lld ms)", m->id, m->up.n, h.duration_ms);
    }
    for (size_t k = 0; k < np; k++)
        compiled_free(&cs[k]);
    free(cs);
    free(pending);
    return rc;
}

/* run or revert: set up, prepare (lock, history, checksums), do, release, report. */
static int with_runner(strata_conn *conn, const strata_options *opt, strata_report **out,
                       int (*impl)(runner *))
{
    runner r;
    int rc = runner_init(&r, conn, opt);
    if (!rc)
        rc = prepare_change(&r);
    if (!rc)
        rc = impl(&r);
    lock_release(&r);
    *out = r.report;
    runner_free(&r);
    return rc;
}

int strata_migrations_run(strata_conn *conn, const strata_options *opt, strata_report **out)
{
    return with_runner(conn, opt, out, run_impl);
}

static int revert_impl(runner *r)
{
    const strata_options *opt = r->opt;
    int rc = 0;
    /* what to revert: applied migrations, newest first */
    size_t *todo = xcalloc(r->set.n + 1, sizeof(size_t));
    size_t nt = 0;
    int steps = opt->all ? -1 : (opt->to ? -1 : (opt->steps > 0 ? opt->steps : 1));
    for (size_t i = r->set.n; i-- > 0;) {
        const migration *m = r->set.v[i];
        if (!history_find(&r->hist, m->id))
            continue;
        if (opt->to && (version_cmp(m->version, opt->to) <= 0 || strcmp(m->id, opt->to) == 0))
            break;
        if (steps >= 0 && (int)nt >= steps)
            break;
        todo[nt++] = i;
    }
    /* applied migrations without files cannot be reverted */
    for (size_t i = 0; i < r->hist.n && nt; i++)
        if (migration_index(r, r->hist.v[i].id) < 0) {
            int newer = 0;
            for (size_t k = 0; k < nt; k++)
                if (version_cmp(r->hist.v[i].version, r->set.v[todo[k]]->version) >= 0)
                    newer = 1;
            if (newer) {
                free(todo);
                return strata_set_error(STRATA_ESTATE,
                                        "applied migration %s has no file; it cannot be reverted",
                                        r->hist.v[i].id);
            }
        }
    if (nt == 0) {
        free(todo);
        say(r, "nothing to revert");
        return 0;
    }
    /* every one must be reversible, checked before touching anything */
    for (size_t k = 0; k < nt; k++)
        if (!r->plan.reversible[todo[k]]) {
            int e = strata_set_error(STRATA_ESTATE, "migration %s cannot be reverted: %s",
                                     r->set.v[todo[k]]->id, r->plan.why[todo[k]]);
            free(todo);
            return e;
        }
    /* todo is newest first; compile oldest first (the model moves forward) */
    compiled *cs = xcalloc(nt + 1, sizeof *cs);
    for (size_t k = nt; k-- > 0 && !rc;)
        rc = compile_migration(r, todo[k], 1, &cs[k]);
    if (!rc && opt->dry_run) {
        sbuf out = SBUF_INIT;
        for (size_t k = 0; k < nt; k++)
            render_compiled(r, &cs[k], &out);
        r->report->sql = sbuf_detach(&out);
    }
    double started = now_seconds();
    for (size_t k = 0; k < nt && !rc && !opt->dry_run; k++) {
        const migration *m = r->set.v[todo[k]];
        double start = now_seconds();
        int skipped = 0;
        progress_migration(r, m, k + 1, nt, 1, 0, started);
        rc = run_compiled(r, &cs[k], &skipped);
        if (!rc)
            progress_migration(r, m, k + 1, nt, 1, 1, started);
        if (rc || skipped)
            continue;
        hist_row h;
        memset(&h, 0, sizeof h);
        h.duration_ms = (long long)((now_seconds() - start) * 1000);
        h.ops_applied = h.ops_total = (int)cs[k].nops;
        report_add(r->report, m, STRATA_MIG_REVERTED, &h);
        say(r, "reverted %s (%zu ops, %lld ms)", m->id, cs[k].nops, h.duration_ms);
    }
    for (size_t k = 0; k < nt; k++)
        compiled_free(&cs[k]);
    free(cs);
    free(todo);
    return rc;
}

int strata_migrations_revert(strata_conn *conn, const strata_options *opt, strata_report **out)
{
    return with_runner(conn, opt, out, revert_impl);
}

static void status_list(runner *r)
{
    strata_report *rep = r->report;
    for (size_t i = 0; i < r->set.n; i++) {
        const migration *m = r->set.v[i];
        hist_row *h = history_find(&r->hist, m->id);
        strata_mig_status st = STRATA_MIG_PENDING;
        if (h) {
            if (strcmp(h->state, "partial") == 0)
                st = STRATA_MIG_PARTIAL;
            else if (strcmp(h->state, "running") == 0)
                st = STRATA_MIG_RUNNING;
            else if (strcmp(h->checksum, m->checksum) != 0)
                st = STRATA_MIG_CHANGED;
            else
                st = STRATA_MIG_APPLIED;
        }
        report_add(rep, m, st, h);
        if (st == STRATA_MIG_PENDING)
            rep->pending++;
        else if (st != STRATA_MIG_APPLIED)
            rep->problems++;
    }
    for (size_t i = 0; i < r->hist.n; i++)
        if (migration_index(r, r->hist.v[i].id) < 0) {
            report_add(rep, NULL, STRATA_MIG_MISSING_FILE, &r->hist.v[i]);
            rep->problems++;
        }
}

int strata_migrations_status(strata_conn *conn, const strata_options *opt, strata_report **out)
{
    runner r;
    int rc = runner_init(&r, conn, opt);
    if (!rc && conn)
        rc = history_load(conn, &r.hist);
    if (!rc)
        status_list(&r);
    *out = r.report;
    runner_free(&r);
    return rc;
}

/* Compile ops (migration i's up or down) from state s for validation,
 * leaving s in the state after them; the SQL is thrown away. */
static int validate_compile(runner *r, schema *s, size_t i, const op_list *ops)
{
    model_begin_migration(s, (int)i);
    stmt_list *per = xcalloc(ops->n + 1, sizeof *per);
    int rc = compile_ops(&r->tg, s, r->set.v[i], ops, per);
    for (size_t j = 0; j < ops->n; j++)
        stmt_list_free(&per[j]);
    free(per);
    return rc;
}

int strata_migrations_validate(strata_conn *conn, const strata_options *opt, strata_report **out)
{
    runner r;
    int rc = runner_init(&r, conn, opt);
    /* compile every migration up and down for every dialect */
    for (int d = 0; d < STRATA_DIALECT_COUNT && !rc; d++) {
        compile_target saved = r.tg;
        r.tg = compile_target_default((strata_dialect)d);
        schema s;
        schema_init(&s);
        for (size_t i = 0; i < r.set.n && !rc; i++)
            rc = validate_compile(&r, &s, i, &r.set.v[i]->up);
        /* The downs in the order `revert --all` runs them, each from the
         * state the ones after it left: one model walked back, not a copy
         * of the schema per migration (which made validating n migrations
         * O(n^2)). Below an irreversible migration the walk starts again
         * from the state its `up`s build. */
        int walked = 1;
        for (size_t i = r.set.n; i-- > 0 && !rc;) {
            if (!r.plan.reversible[i]) {
                walked = 0;
                continue;
            }
            if (!walked) {
                schema_free(&s);
                schema_init(&s);
                for (size_t j = 0; j <= i && !rc; j++)
                    rc = validate_compile(&r, &s, j, &r.set.v[j]->up);
                walked = 1;
            }
            if (!rc)
                rc = validate_compile(&r, &s, i, &r.plan.downs[i]);
        }
        schema_free(&s);
        r.tg = saved;
    }
    if (!rc && conn) {
        rc = history_load(conn, &r.hist);
        if (!rc) {
            status_list(&r);
            if (r.report->problems) {
                sbuf b = SBUF_INIT;
                for (size_t i = 0; i < r.report->n; i++) {
                    const strata_migration_info *it = &r.report->items[i];
                    if (it->status == STRATA_MIG_CHANGED)
                        sbuf_addf(&b, "%s%s was changed after it was applied", b.len ? "; " : "",
                                  it->id);
                    else if (it->status == STRATA_MIG_MISSING_FILE)
                        sbuf_addf(&b, "%s%s is applied but has no file", b.len ? "; " : "", it->id);
                    else if (it->status == STRATA_MIG_PARTIAL || it->status == STRATA_MIG_RUNNING)
                        sbuf_addf(&b, "%s%s is partially applied", b.len ? "; " : "", it->id);
                }
                rc = strata_set_error(STRATA_EDRIFT, "%s", sbuf_str(&b));
                sbuf_free(&b);
            }
        }
    }
    *out = r.report;
    runner_free(&r);
    return rc;
}

int strata_migrations_repair(strata_conn *conn, const strata_options *opt, strata_report **out)
{
    runner r;
    int rc = runner_init(&r, conn, opt);
    if (!rc)
        rc = lock_acquire(&r);
    if (!rc)
        rc = prepare_history(&r);
    int repaired = 0;
    for (size_t i = 0; !rc && i < r.hist.n; i++) {
        hist_row *h = &r.hist.v[i];
        if (strcmp(h->state, "partial") != 0 && strcmp(h->state, "running") != 0)
            continue;
        int idx = migration_index(&r, h->id);
        if (idx < 0) {
            rc = strata_set_error(STRATA_ESTATE, "migration %s is partial but its file is missing",
                                  h->id);
            break;
        }
        const migration *m = r.set.v[idx];
        int down = h->direction && strcmp(h->direction, "down") == 0;
        if (r.opt->mark_applied) {
            rc = down ? history_delete(&r, m->id)
                      : history_update(&r, m, "applied", "up", (int)m->up.n, 0);
            say(&r, "marked %s %s", m->id, down ? "reverted" : "applied");
        } else {
            int remaining = 0;
            rc = undo_ops(&r, (size_t)idx, down, (size_t)h->ops_applied,
                          strcmp(h->state, "running") == 0, &remaining);
            if (rc) {
                history_update(&r, m, "partial", h->direction, remaining, 0);
                strata_error_prefix("repairing %s: ", m->id);
                break;
            }
            rc = down ? history_update(&r, m, "applied", "up", (int)m->up.n, 0)
                      : history_delete(&r, m->id);
            say(&r, "undid the %d applied operation(s) of %s", h->ops_applied, m->id);
        }
        /* applied afterwards: a revert undone, or an apply marked done */
        int applied = r.opt->mark_applied ? !down : down;
        report_add(r.report, m, applied ? STRATA_MIG_APPLIED : STRATA_MIG_PENDING, NULL);
        repaired++;
    }
    /* As Flyway's repair does: applied migrations whose file was edited
     * since (a fixed down, a comment) take the file's checksum, so show,
     * validate, run and revert accept them again. Asked for explicitly. */
    for (size_t i = 0; !rc && i < r.hist.n; i++) {
        hist_row *h = &r.hist.v[i];
        int idx = migration_index(&r, h->id);
        if (idx < 0 || strcmp(h->state, "applied") != 0 ||
            strcmp(h->checksum, r.set.v[idx]->checksum) == 0)
            continue;
        char *t = qtable(&r);
        char *q = xasprintf("UPDATE %s SET checksum = ? WHERE id = ?", t);
        strata_value v[] = {strata_vtext(r.set.v[idx]->checksum), strata_vtext(h->id)};
        rc = strata_conn_execp(r.conn, q, v, 2, NULL);
        free(q);
        free(t);
        if (rc) {
            strata_error_prefix("realigning the checksum of %s: ", h->id);
            break;
        }
        say(&r, "realigned the checksum of %s with its edited file", h->id);
        report_add(r.report, r.set.v[idx], STRATA_MIG_APPLIED, h);
        repaired++;
    }
    if (!rc && !repaired)
        say(&r, "nothing to repair");
    lock_release(&r);
    *out = r.report;
    runner_free(&r);
    return rc;
}

/* ---- baseline ---- */

/* The number of migrations up to and including version (or id) `to`;
 * STRATA_EINPUT when none has that version or id. */
static int baseline_upto(runner *r, const char *to, size_t *upto)
{
    if (!to)
        return strata_set_error(STRATA_EINPUT,
                                "baseline needs --to VERSION: the newest migration whose schema "
                                "the database already has");
    int found = 0;
    *upto = 0;
    for (size_t i = 0; i < r->set.n; i++) {
        const migration *m = r->set.v[i];
        if (version_cmp(m->version, to) <= 0 || strcmp(m->id, to) == 0)
            *upto = i + 1;
        found |= strcmp(m->version, to) == 0 || strcmp(m->id, to) == 0;
    }
    if (!found)
        return strata_set_error(STRATA_EINPUT, "no migration %s in %s", to,
                                r->opt->migrations_dir ? r->opt->migrations_dir : "./migrations");
    return 0;
}

/* A baseline only fills in history below the newest applied migration it
 * would record: applied migrations after `upto` mean the history already
 * goes further, and recording older ones under them is not a baseline. */
static int baseline_check_history(runner *r, size_t upto)
{
    for (size_t i = upto; i < r->set.n; i++)
        if (history_find(&r->hist, r->set.v[i]->id))
            return strata_set_error(STRATA_ESTATE,
                                    "migration %s is applied already, after %s: the history goes "
                                    "further than the baseline",
                                    r->set.v[i]->id, r->set.v[upto - 1]->id);
    return 0;
}

/* Record migrations [0, upto) that have no history row as applied, without
 * running them, in one transaction. */
static int baseline_record(runner *r, size_t upto)
{
    int rc = strata_conn_begin(r->conn);
    for (size_t i = 0; i < upto && !rc; i++) {
        const migration *m = r->set.v[i];
        if (history_find(&r->hist, m->id))
            continue;
        rc = history_insert(r, m, "applied", "up", (int)m->up.n, (int)m->up.n, 0);
        if (!rc)
            report_add(r->report, m, STRATA_MIG_APPLIED, NULL);
    }
    if (rc) {
        strata_conn_rollback(r->conn);
        return rc;
    }
    rc = strata_conn_commit(r->conn);
    for (size_t i = 0; i < r->report->n && !rc; i++)
        say(r, "baselined %s", r->report->items[i].id);
    return rc;
}

int strata_migrations_baseline(strata_conn *conn, const strata_options *opt, strata_report **out,
                               strata_diff_result **drift)
{
    runner r;
    size_t upto = 0;
    strata_diff_result *d = NULL;
    int rc = runner_init(&r, conn, opt);
    if (!rc)
        rc = baseline_upto(&r, r.opt->to, &upto);
    if (!rc)
        rc = lock_acquire(&r);
    if (!rc)
        rc = prepare_history(&r);
    if (!rc)
        rc = check_history_state(&r);
    if (!rc)
        rc = baseline_check_history(&r, upto);
    if (!rc)
        rc = diff_upto(conn, &r.set, upto, &d);
    if (!rc && d->n) {
        if (!r.opt->force) {
            rc = strata_set_error(STRATA_EDRIFT,
                                  "the database does not have the schema of the migrations up to "
                                  "%s: %zu difference%s; nothing was recorded (--force records "
                                  "them anyway)",
                                  r.set.v[upto - 1]->id, d->n, d->n == 1 ? "" : "s");
        } else {
            char *w = xasprintf("recorded despite %zu difference%s between the database and the "
                                "migrations up to %s (--force)",
                                d->n, d->n == 1 ? "" : "s", r.set.v[upto - 1]->id);
            report_warn(r.report, w);
            free(w);
        }
    }
    if (!rc)
        rc = baseline_record(&r, upto);
    lock_release(&r);
    *out = r.report;
    runner_free(&r);
    if (drift)
        *drift = d;
    else
        strata_diff_result_free(d);
    return rc;
}

int strata_migrations_sql(const strata_options *opt, strata_dialect d, int down,
                          const char *const *versions, size_t n, char **out)
{
    *out = NULL;
    runner r;
    int rc = runner_init(&r, NULL, opt);
    r.tg = compile_target_default(d);
    sbuf b = SBUF_INIT;
    for (size_t k = 0; k < n && !rc; k++) {
        int found = 0;
        for (size_t i = 0; i < r.set.n; i++)
            if (strcmp(r.set.v[i]->version, versions[k]) == 0 ||
                strcmp(r.set.v[i]->id, versions[k]) == 0)
                found = 1;
        if (!found)
            rc =
                strata_set_error(STRATA_EINPUT, "no migration with version '%s' in %s", versions[k],
                                 r.opt->migrations_dir ? r.opt->migrations_dir : "./migrations");
    }
    /* the selected migrations, compiled oldest first (the model moves
     * forward), printed newest first for --down */
    size_t *sel = xcalloc(r.set.n + 1, sizeof *sel);
    size_t nsel = 0;
    for (size_t i = 0; i < r.set.n && !rc; i++) {
        const migration *m = r.set.v[i];
        int selected = n == 0;
        for (size_t k = 0; k < n; k++)
            if (strcmp(m->version, versions[k]) == 0 || strcmp(m->id, versions[k]) == 0)
                selected = 1;
        if (selected)
            sel[nsel++] = i;
    }
    compiled *cs = xcalloc(nsel + 1, sizeof *cs);
    for (size_t k = 0; k < nsel && !rc; k++)
        if (!down || r.plan.reversible[sel[k]])
            rc = compile_migration(&r, sel[k], down, &cs[k]);
    for (size_t i = 0; i < nsel && !rc; i++) {
        size_t k = down ? nsel - 1 - i : i;
        const migration *m = r.set.v[sel[k]];
        if (down && !r.plan.reversible[sel[k]])
            sbuf_addf(&b, "-- revert %s: irreversible (%s)\n", m->id, r.plan.why[sel[k]]);
        else
            render_compiled(&r, &cs[k], &b);
    }
    for (size_t k = 0; k < nsel; k++)
        compiled_free(&cs[k]);
    free(cs);
    free(sel);
    if (!rc)
        *out = sbuf_detach(&b);
    sbuf_free(&b);
    strata_report_free(r.report);
    runner_free(&r);
    return rc;
}

int strata_migration_create(const char *dir, const char *name, char **path_out)
{
    *path_out = NULL;
    int rc = migration_name_check(name);
    if (rc)
        return rc;
    /* the name holds no character JSON would escape */
    char *text =
        xasprintf("{\n  \"description\": \"%s\",\n  \"up\": [],\n  \"down\": []\n}\n", name);
    rc = migration_file_write(dir, name, text, path_out);
    free(text);
    return rc;
}

int strata_lock_status(strata_conn *conn, char **out)
{
    *out = NULL;
    if (strata_conn_dialect(conn) == STRATA_SQLITE) {
        /* a runner holds the lock file; anyone else writing holds SQLite's
         * write lock, which a runner waits for too */
        char *who = sqlite_lock_holder(conn);
        if (who) {
            *out = xasprintf("held by %s", who);
            free(who);
            return 0;
        }
        int rc = strata_conn_exec(conn, "PRAGMA busy_timeout = 0");
        if (rc)
            return rc;
        rc = strata_conn_exec(conn, "BEGIN IMMEDIATE");
        if (rc) {
            *out = xasprintf("held by another process writing to %s (SQLite's write lock; it is "
                             "released when that process commits or ends)",
                             strata_conn_database(conn));
            strata_error_clear();
            return 0;
        }
        strata_conn_exec(conn, "ROLLBACK");
        *out = xstrdup("free");
        return 0;
    }
    char *who = lock_holder(conn);
    if (who)
        *out = xasprintf("held by %s", who);
    else
        *out = xstrdup("free");
    free(who);
    return 0;
}

int strata_lock_release(strata_conn *conn, char **out)
{
    *out = NULL;
    strata_dialect d = strata_conn_dialect(conn);
    if (d == STRATA_SQLITE) {
        /* an flock() cannot be taken from another process; it goes with it */
        char *who = sqlite_lock_holder(conn);
        if (!who) {
            *out = xstrdup("the migration lock is free; nothing to release");
            return 0;
        }
        int e = strata_set_error(STRATA_ELOCK,
                                 "the migration lock of %s is held by %s; on SQLite it is "
                                 "released when that process ends (end it to release the lock)",
                                 strata_conn_database(conn), who);
        free(who);
        return e;
    }
    char *who = lock_holder(conn);
    if (!who) {
        *out = xstrdup("the migration lock is free; nothing to release");
        return 0;
    }
    int rc = 0;
    if (d == STRATA_POSTGRES) {
        long long key;
        unsigned hi, lo;
        pg_lock_key(strata_conn_database(conn), &key, &hi, &lo);
        char *q = xasprintf("SELECT pg_terminate_backend(l.pid) FROM pg_locks l WHERE l.locktype = "
                            "'advisory' AND l.granted AND l.classid = %u AND l.objid = %u AND "
                            "l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE "
                            "datname = current_database())",
                            hi, lo);
        rc = strata_conn_exec(conn, q);
        free(q);
    } else {
        char *name = mysql_lock_name(strata_conn_database(conn));
        strata_value v = strata_vtext(name);
        char *id = NULL;
        rc = strata_conn_query_string(conn, "SELECT IS_USED_LOCK(?)", &v, 1, &id);
        free(name);
        if (!rc && id) {
            char *q = xasprintf("KILL %lld", strtoll(id, NULL, 10));
            rc = strata_conn_exec(conn, q);
            free(q);
        }
        free(id);
    }
    if (!rc)
        *out = xasprintf("released: ended the session that held it (%s)", who);
    free(who);
    return rc;
}
