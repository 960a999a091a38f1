/*
 * lock.c - the migration lock: one runner at a time per database, held for
 * the whole command (PostgreSQL session advisory lock, MySQL GET_LOCK, an
 * flock() beside a SQLite database), and the `lock status` and `lock
 * release` commands.
 */
#include "runner.h"
#include "names.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

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

int lock_acquire(runner *r)
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

void lock_release(runner *r)
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
