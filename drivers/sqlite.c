/*
 * sqlite.c - the SQLite driver.
 *
 * Every connection enforces foreign keys (PRAGMA foreign_keys=ON) and waits
 * for a busy database instead of failing at once. Transactions start with
 * BEGIN IMMEDIATE so a writer takes the write lock up front: two processes
 * never both read a schema and then race to change it. Session locks are
 * flock()s on a file beside the database (see "session locks" below).
 */
#include "driver.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

/* How long statements wait for another connection's write lock, unless
 * set_lock_wait says otherwise. */
#define DEFAULT_BUSY_MS 60000

typedef struct sl_conn {
    strata_conn base;
    sqlite3 *db;
    int busy_ms; /* the busy timeout statements run with */
    int lock_fd; /* the locked file of this session's lock, or -1 */
} sl_conn;

typedef struct sl_rows {
    strata_rows base;
    sqlite3_stmt *stmt;
    sqlite3 *db;
    int pending; /* a row was already stepped to by the query */
    int done;
} sl_rows;

static int sl_error(sqlite3 *db)
{
    return strata_set_error(STRATA_EDB, "%s (SQLite error %d)", sqlite3_errmsg(db),
                            sqlite3_extended_errcode(db));
}

static int sl_open(const strata_url *url, const char *masked, strata_conn **out)
{
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(url->database, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        strata_set_error(STRATA_ECONNECT, "cannot open SQLite database '%s': %s", url->database,
                         db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return STRATA_ECONNECT;
    }
    sqlite3_busy_timeout(db, DEFAULT_BUSY_MS);
    /* no double-quoted string literals: "x" is always an identifier, so a
     * misspelt column is an error, not a silent string */
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
    sqlite3_extended_result_codes(db, 1);
    char *err = NULL;
    /* Touch the file so a path that is not a database fails here, not later. */
    if (sqlite3_exec(db, "PRAGMA foreign_keys = ON; SELECT count(*) FROM sqlite_schema;", NULL,
                     NULL, &err) != SQLITE_OK) {
        strata_set_error(STRATA_ECONNECT, "cannot open SQLite database '%s': %s", url->database,
                         err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        sqlite3_close(db);
        return STRATA_ECONNECT;
    }
    sl_conn *c = xcalloc(1, sizeof *c);
    conn_init_common(&c->base, &strata_driver_sqlite, url, masked, url->database);
    c->db = db;
    c->busy_ms = DEFAULT_BUSY_MS;
    c->lock_fd = -1;
    snprintf(c->base.server_version, sizeof c->base.server_version, "%s", sqlite3_libversion());
    int v = sqlite3_libversion_number(); /* 3040001 */
    c->base.server_version_num = (v / 1000000) * 10000 + (v / 1000 % 1000) * 100 + v % 1000;
    c->base.caps = STRATA_CAP_TRANSACTIONAL_DDL | STRATA_CAP_PARTIAL_INDEX |
                   STRATA_CAP_ENFORCED_CHECK | STRATA_CAP_EXPR_DEFAULT |
                   STRATA_CAP_DROP_INDEX_IF_EXISTS;
    if (v >= 3025000)
        c->base.caps |= STRATA_CAP_RENAME_COLUMN;
    if (v >= 3035000)
        c->base.caps |= STRATA_CAP_DROP_COLUMN | STRATA_CAP_RETURNING;
    *out = &c->base;
    return 0;
}

static void sl_close(strata_conn *conn)
{
    sl_conn *c = (sl_conn *)conn;
    if (c->lock_fd >= 0)
        close(c->lock_fd); /* the kernel drops the lock with it */
    sqlite3_close(c->db);
    conn_free_common(conn);
    free(c);
}

static int sl_exec(strata_conn *conn, const char *sql)
{
    sl_conn *c = (sl_conn *)conn;
    char *err = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        strata_set_error(STRATA_EDB, "%s (SQLite error %d)", err ? err : sqlite3_errmsg(c->db),
                         sqlite3_extended_errcode(c->db));
        sqlite3_free(err);
        return STRATA_EDB;
    }
    return 0;
}

static void fill_row(sl_rows *r)
{
    for (size_t i = 0; i < r->base.ncols; i++) {
        strata_value *v = &r->base.values[i];
        memset(v, 0, sizeof *v);
        int col = (int)i;
        switch (sqlite3_column_type(r->stmt, col)) {
        case SQLITE_NULL:
            v->type = STRATA_VNULL;
            break;
        case SQLITE_INTEGER: {
            /* a column declared boolean reads back as a boolean */
            const char *decl = sqlite3_column_decltype(r->stmt, col);
            int boolean = decl && (sqlite3_stricmp(decl, "boolean") == 0 ||
                                   sqlite3_stricmp(decl, "bool") == 0);
            v->type = boolean ? STRATA_VBOOL : STRATA_VINT;
            v->i = sqlite3_column_int64(r->stmt, col);
            if (boolean)
                v->i = v->i != 0;
            v->s = (const char *)sqlite3_column_text(r->stmt, col);
            v->len = (size_t)sqlite3_column_bytes(r->stmt, col);
            break;
        }
        case SQLITE_FLOAT:
            v->type = STRATA_VREAL;
            v->d = sqlite3_column_double(r->stmt, col);
            v->s = (const char *)sqlite3_column_text(r->stmt, col);
            v->len = (size_t)sqlite3_column_bytes(r->stmt, col);
            break;
        case SQLITE_TEXT:
            v->type = STRATA_VTEXT;
            v->s = (const char *)sqlite3_column_text(r->stmt, col);
            v->len = (size_t)sqlite3_column_bytes(r->stmt, col);
            break;
        default:
            v->type = STRATA_VBLOB;
            v->s = sqlite3_column_blob(r->stmt, col);
            v->len = (size_t)sqlite3_column_bytes(r->stmt, col);
            if (!v->s)
                v->s = "";
            break;
        }
    }
}

static int sl_rows_next(strata_rows *rows)
{
    sl_rows *r = (sl_rows *)rows;
    if (r->pending) {
        r->pending = 0;
        fill_row(r);
        return 1;
    }
    if (r->done)
        return 0;
    int rc = sqlite3_step(r->stmt);
    if (rc == SQLITE_ROW) {
        fill_row(r);
        return 1;
    }
    r->done = 1;
    if (rc == SQLITE_DONE)
        return 0;
    return sl_error(r->db);
}

static void sl_rows_free(strata_rows *rows)
{
    sl_rows *r = (sl_rows *)rows;
    sqlite3_finalize(r->stmt);
    rows_free_common(rows);
    free(r);
}

static int sl_query(strata_conn *conn, const char *sql, const strata_value *params, size_t n,
                    strata_rows **out, int64_t *affected)
{
    sl_conn *c = (sl_conn *)conn;
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, &tail) != SQLITE_OK)
        return sl_error(c->db);
    if (!st)
        return strata_set_error(STRATA_EINPUT, "empty statement");
    if ((size_t)sqlite3_bind_parameter_count(st) != n) {
        sqlite3_finalize(st);
        return strata_set_error(STRATA_EINPUT, "statement has %d placeholders but %zu values: %s",
                                sqlite3_bind_parameter_count(st), n, sql);
    }
    for (size_t i = 0; i < n; i++) {
        const strata_value *v = &params[i];
        int idx = (int)i + 1, rc = SQLITE_OK;
        switch (v->type) {
        case STRATA_VNULL:
            rc = sqlite3_bind_null(st, idx);
            break;
        case STRATA_VINT:
        case STRATA_VBOOL:
            rc = sqlite3_bind_int64(st, idx, v->i);
            break;
        case STRATA_VREAL:
            rc = sqlite3_bind_double(st, idx, v->d);
            break;
        case STRATA_VTEXT:
            rc = sqlite3_bind_text64(st, idx, v->s ? v->s : "", v->len, SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
            break;
        case STRATA_VBLOB:
            rc = sqlite3_bind_blob64(st, idx, v->s ? v->s : "", v->len, SQLITE_TRANSIENT);
            break;
        }
        if (rc != SQLITE_OK) {
            int e = sl_error(c->db);
            sqlite3_finalize(st);
            return e;
        }
    }
    sl_rows *r = xcalloc(1, sizeof *r);
    r->base.next = sl_rows_next;
    r->base.free = sl_rows_free;
    size_t ncols = (size_t)sqlite3_column_count(st);
    rows_init_common(&r->base, ncols);
    for (size_t i = 0; i < ncols; i++)
        r->base.colnames[i] = xstrdup(sqlite3_column_name(st, (int)i));
    r->stmt = st;
    r->db = c->db;
    /* Step once now, so DML runs and errors surface at query time. */
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r->pending = 1;
    } else if (rc == SQLITE_DONE) {
        r->done = 1;
        if (affected)
            *affected = sqlite3_changes64(c->db);
    } else {
        int e = sl_error(c->db);
        sl_rows_free(&r->base);
        return e;
    }
    if (out)
        *out = &r->base;
    else
        sl_rows_free(&r->base);
    return 0;
}

static int sl_begin(strata_conn *conn)
{
    return sl_exec(conn, "BEGIN IMMEDIATE");
}

static int sl_commit(strata_conn *conn)
{
    return sl_exec(conn, "COMMIT");
}

static int sl_rollback(strata_conn *conn)
{
    return sl_exec(conn, "ROLLBACK");
}

/* ---- bulk loading: one prepared INSERT stepped per row ---- */

static int sl_bind(sqlite3_stmt *st, int idx, const strata_value *v)
{
    switch (v->type) {
    case STRATA_VNULL:
        return sqlite3_bind_null(st, idx);
    case STRATA_VINT:
    case STRATA_VBOOL:
        return sqlite3_bind_int64(st, idx, v->i);
    case STRATA_VREAL:
        return sqlite3_bind_double(st, idx, v->d);
    case STRATA_VTEXT:
        return sqlite3_bind_text64(st, idx, v->s ? v->s : "", v->len, SQLITE_TRANSIENT,
                                   SQLITE_UTF8);
    case STRATA_VBLOB:
        return sqlite3_bind_blob64(st, idx, v->s ? v->s : "", v->len, SQLITE_TRANSIENT);
    }
    return SQLITE_MISUSE;
}

static int sl_bulk_load(strata_conn *conn, const char *table, const char *const *cols, size_t ncols,
                        strata_bulk_next next, void *ctx, int64_t *loaded)
{
    sl_conn *c = (sl_conn *)conn;
    if (loaded)
        *loaded = 0;
    sbuf sql = SBUF_INIT;
    insert_sql_into(&sql, STRATA_SQLITE, table, cols, ncols);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(c->db, sbuf_str(&sql), -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
        SQLITE_OK) {
        sbuf_free(&sql);
        return sl_error(c->db);
    }
    sbuf_free(&sql);
    strata_value *row = xcalloc(ncols + 1, sizeof *row);
    int rc = 0, src;
    int64_t n = 0;
    while ((src = next(ctx, row)) > 0) {
        for (size_t i = 0; i < ncols; i++) {
            if (sl_bind(st, (int)i + 1, &row[i]) != SQLITE_OK) {
                rc = sl_error(c->db);
                break;
            }
        }
        if (rc)
            break;
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = strata_set_error(STRATA_EDB, "loading table '%s', row %lld: %s (SQLite error %d)",
                                  table, (long long)n + 1, sqlite3_errmsg(c->db),
                                  sqlite3_extended_errcode(c->db));
            break;
        }
        sqlite3_reset(st);
        n++;
    }
    if (src < 0 && !rc)
        rc = src;
    free(row);
    sqlite3_finalize(st);
    if (loaded)
        *loaded = n;
    return rc;
}

static int sl_table_exists(strata_conn *conn, const char *name, int *exists)
{
    strata_value v = strata_vtext(name);
    char *out = NULL;
    int rc = strata_conn_query_string(
        conn, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", &v, 1, &out);
    *exists = out != NULL;
    free(out);
    return rc;
}

/* ---- session locks: a locked file beside the database ----
 *
 * SQLite has no lock that outlives a transaction, and a migration run
 * outside one ("transaction": false) commits after every operation; with
 * only BEGIN IMMEDIATE, a second runner could read the history between two
 * of those commits and apply the migration again, or take its `running` row
 * for one left by a dead process and undo it under the live one. So a
 * session lock here is an flock() on a file beside the database,
 * "<database>-<name>-lock" ("app.db-strata-lock"). Like PostgreSQL's and
 * MySQL's session locks it is dropped by the kernel when its process dies.
 * It is a file of its own because closing any descriptor of the database
 * file would silently drop this process's POSIX locks that SQLite holds on
 * it. The file holds one line saying who holds the lock. In-memory
 * databases need none: no other connection can reach them. A connection
 * holds at most one such lock.
 *
 * Taking the lock also waits for any other writer (SQLite's write lock), so
 * that a busy database is reported as such, not as the failure of some
 * statement.
 */

static char *sl_lock_path(const strata_conn *conn, const char *name)
{
    const char *db = conn->database;
    if (!db || !*db || strcmp(db, ":memory:") == 0)
        return NULL;
    return xasprintf("%s-%s-lock", db, name);
}

/* Who holds the lock file at `path`, from the line its holder wrote
 * (*who NULL: nobody). */
static int sl_file_holder(const char *path, char **who)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0; /* never taken */
    if (fd < 0)
        return strata_set_error(STRATA_EIO, "cannot open the lock file %s: %s", path,
                                strerror(errno));
    int rc = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        flock(fd, LOCK_UN);
    } else if (errno == EWOULDBLOCK) {
        char buf[256];
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        *who = xstrdup(*buf ? buf : "another process");
    } else {
        rc = strata_set_error(STRATA_ELOCK, "cannot test the lock file %s: %s", path,
                              strerror(errno));
    }
    close(fd);
    return rc;
}

/* Is another connection writing to the database (holding SQLite's write
 * lock)? Tried with BEGIN IMMEDIATE, waiting up to `wait` seconds for it.
 * When it is, *busy is set and so is the message, in SQLite's words; any
 * other failure is an error. */
static int sl_writer_probe(sl_conn *c, double wait, int *busy)
{
    *busy = 0;
    sqlite3_busy_timeout(c->db, (int)(wait * 1000));
    char *err = NULL;
    int rc = 0;
    int src = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, &err);
    if (src == SQLITE_OK) {
        rc = sl_exec(&c->base, "ROLLBACK");
    } else {
        int code = sqlite3_extended_errcode(c->db);
        const char *msg = err ? err : sqlite3_errmsg(c->db);
        if ((src & 0xff) == SQLITE_BUSY) {
            *busy = 1;
            strata_set_error(STRATA_ELOCK, "SQLite's write lock: %s (SQLite error %d)", msg, code);
        } else {
            rc = strata_set_error(STRATA_EDB, "%s (SQLite error %d)", msg, code);
        }
        sqlite3_free(err);
    }
    sqlite3_busy_timeout(c->db, c->busy_ms);
    return rc;
}

/* Write "pid N on HOST (strata, since TIME UTC)" into the locked file. */
static void sl_lock_sign(int fd)
{
    char host[128] = "";
    gethostname(host, sizeof host - 1);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char at[32];
    strftime(at, sizeof at, "%Y-%m-%d %H:%M:%S", &tm);
    char line[256];
    int n = snprintf(line, sizeof line, "pid %ld on %s (strata, since %s UTC)\n", (long)getpid(),
                     *host ? host : "?", at);
    if (ftruncate(fd, 0) == 0 && n > 0 && pwrite(fd, line, (size_t)n, 0) < 0) {
        /* who holds the lock is only information; the lock itself is taken */
    }
}

static int sl_unlock(strata_conn *conn, const char *name)
{
    sl_conn *c = (sl_conn *)conn;
    (void)name; /* a connection holds one lock at most */
    if (c->lock_fd < 0)
        return 0;
    if (ftruncate(c->lock_fd, 0) != 0) {
        /* only the line saying who holds it stays behind */
    }
    flock(c->lock_fd, LOCK_UN);
    close(c->lock_fd);
    c->lock_fd = -1;
    return 0;
}

/* Take the file lock without waiting for it, then wait up to `wait` seconds
 * for another writer. While a writer keeps the database busy, the file lock
 * stays taken (LOCK_BUSY): the next try only waits for the writer. */
static int sl_lock_try(strata_conn *conn, const char *name, double wait, lock_state *state)
{
    sl_conn *c = (sl_conn *)conn;
    char *path = sl_lock_path(conn, name);
    if (!path) {
        *state = LOCK_TAKEN;
        return 0;
    }
    if (c->lock_fd < 0) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0) {
            int e = strata_set_error(STRATA_EIO, "cannot open the lock file %s: %s", path,
                                     strerror(errno));
            free(path);
            return e;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int err = errno;
            close(fd);
            if (err == EWOULDBLOCK || err == EINTR) {
                free(path);
                *state = LOCK_HELD;
                return 0;
            }
            int e = strata_set_error(STRATA_ELOCK, "cannot lock %s: %s", path, strerror(err));
            free(path);
            return e;
        }
        c->lock_fd = fd;
    }
    free(path);
    int busy = 0;
    int rc = sl_writer_probe(c, wait, &busy);
    if (rc) {
        sl_unlock(conn, name);
        return rc;
    }
    if (busy) {
        *state = LOCK_BUSY;
        return 0;
    }
    sl_lock_sign(c->lock_fd);
    *state = LOCK_TAKEN;
    return 0;
}

/* The holder of the lock file; else, when another connection is writing,
 * that writer, which a runner waits for too. */
static int sl_lock_holder(strata_conn *conn, const char *name, char **who)
{
    char *path = sl_lock_path(conn, name);
    if (!path)
        return 0;
    int rc = sl_file_holder(path, who);
    free(path);
    if (rc || *who)
        return rc;
    int busy = 0;
    rc = sl_writer_probe((sl_conn *)conn, 0, &busy);
    if (busy) {
        strata_error_clear();
        *who = xasprintf("another process writing to %s (SQLite's write lock; it is released when "
                         "that process commits or ends)",
                         conn->database);
    }
    return rc;
}

/* An flock() cannot be taken from another process; it goes with it. */
static int sl_lock_break(strata_conn *conn, const char *name, char **who)
{
    char *path = sl_lock_path(conn, name);
    if (!path)
        return 0;
    int rc = sl_file_holder(path, who);
    free(path);
    if (rc || !*who)
        return rc;
    return strata_set_error(STRATA_ELOCK, "on SQLite it is released when that process ends (end "
                                          "it to release the lock)");
}

static char *sl_lock_label(strata_conn *conn, const char *name)
{
    char *path = sl_lock_path(conn, name);
    char *label =
        path ? xasprintf("of %s (%s)", conn->database, path) : xasprintf("of %s", conn->database);
    free(path);
    return label;
}

static int sl_set_lock_wait(strata_conn *conn, double seconds)
{
    sl_conn *c = (sl_conn *)conn;
    c->busy_ms = (int)(seconds * 1000);
    sqlite3_busy_timeout(c->db, c->busy_ms);
    return 0;
}

const strata_driver strata_driver_sqlite = {
    .name = "sqlite",
    .dialect = STRATA_SQLITE,
    .flags = DRIVER_EMBEDDED | DRIVER_DDL_ALWAYS_IN_TX,
    .open = sl_open,
    .close = sl_close,
    .exec = sl_exec,
    .query = sl_query,
    .begin = sl_begin,
    .commit = sl_commit,
    .rollback = sl_rollback,
    .bulk_load = sl_bulk_load,
    .table_exists = sl_table_exists,
    .lock_try = sl_lock_try,
    .unlock = sl_unlock,
    .lock_holder = sl_lock_holder,
    .lock_break = sl_lock_break,
    .lock_label = sl_lock_label,
    .set_lock_wait = sl_set_lock_wait,
};
