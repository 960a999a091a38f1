/*
 * sqlite.c - the SQLite driver.
 *
 * Every connection enforces foreign keys (PRAGMA foreign_keys=ON) and waits
 * for a busy database instead of failing at once. Transactions start with
 * BEGIN IMMEDIATE so a writer takes the write lock up front: two processes
 * never both read a schema and then race to change it. There are no session
 * locks: the migration lock is a row in the database (see "session locks"
 * below).
 */
#include "driver.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long statements wait for another connection's write lock, unless
 * set_lock_wait says otherwise. */
#define DEFAULT_BUSY_MS 60000

typedef struct sl_conn {
    strata_conn base;
    sqlite3 *db;
    int busy_ms;       /* the busy timeout statements run with */
    int busy_wait_ms;  /* the one in force now (sl_busy) */
    double busy_since; /* when the present wait began */
    /* The file to create at the first statement that writes; until then
     * db is an empty in-memory database standing for it (sl_open). */
    char *create_path;
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

/*
 * The busy timeout, made here rather than with sqlite3_busy_timeout so that
 * an interrupt from another thread (conn_interrupt: a fleet's timeout) ends
 * the wait for another connection's write lock as well: sqlite3_interrupt
 * stops a running statement, but not its wait inside the busy handler.
 */
static int sl_busy(void *arg, int count)
{
    sl_conn *c = arg;
    if (atomic_load(&c->base.interrupt_pending))
        return 0;
    double now = now_seconds();
    if (count == 0)
        c->busy_since = now;
    double left = c->busy_wait_ms / 1000.0 - (now - c->busy_since);
    if (left <= 0)
        return 0;
    usleep((useconds_t)(1e6 * (left < 0.01 ? left : 0.01)));
    return 1;
}

static void sl_busy_wait(sl_conn *c, int ms)
{
    c->busy_wait_ms = ms;
    sqlite3_busy_handler(c->db, sl_busy, c);
}

/* Open `path` with `flags` and set the session up; *db NULL and an
 * ECONNECT error naming `shown` (the path the URL gave) on failure. */
static int sl_open_db(const char *path, const char *shown, int flags, sqlite3 **out)
{
    sqlite3 *db = NULL;
    *out = NULL;
    int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        strata_set_error(STRATA_ECONNECT, "cannot open SQLite database '%s': %s", shown,
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
        strata_set_error(STRATA_ECONNECT, "cannot open SQLite database '%s': %s", shown,
                         err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        sqlite3_close(db);
        return STRATA_ECONNECT;
    }
    *out = db;
    return 0;
}

/*
 * Where the database file of `path` is, for opening it: its directory
 * resolved (a symlinked directory is fine), its own name not - a database
 * that is a symbolic link is refused, so a link planted where the database
 * will be is never followed (SQLITE_OPEN_NOFOLLOW, which would also refuse
 * symlinked directories, then only guards the last name). *exists says
 * whether it is there. A name Strata will not open is bad input
 * (STRATA_EINPUT, exit 2), a directory that is not there a failure to
 * connect. Caller frees *out.
 */
static int sl_locate(const char *path, char **out, int *exists)
{
    *out = NULL;
    *exists = 0;
    const char *slash = strrchr(path, '/');
    char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
    const char *base = slash ? slash + 1 : path;
    char *real = realpath(dir, NULL);
    struct stat st;
    int rc = 0;
    if (!*base)
        rc = strata_set_error(STRATA_EINPUT,
                              "cannot open SQLite database '%s': it names a "
                              "directory, not a file",
                              path);
    else if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
        rc = strata_set_error(STRATA_ECONNECT,
                              "cannot open SQLite database '%s': its directory %s %s", path, dir,
                              real ? "is not a directory" : "does not exist");
    if (!rc) {
        *out = xasprintf("%s/%s", strcmp(real, "/") == 0 ? "" : real, base);
        if (lstat(*out, &st) == 0) {
            *exists = 1;
            if (S_ISLNK(st.st_mode))
                rc = strata_set_error(STRATA_EINPUT,
                                      "cannot open SQLite database '%s': it is a symbolic link, "
                                      "which Strata does not follow to a database",
                                      path);
        }
    }
    if (rc) {
        free(*out);
        *out = NULL;
    }
    free(real);
    free(dir);
    return rc;
}

/* Create the database file a connection opened before it existed: at the
 * first statement that writes (see sl_open). */
static int sl_create_file(sl_conn *c)
{
    if (!c->create_path)
        return 0;
    sqlite3 *db;
    int rc = sl_open_db(c->create_path, c->base.database,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, &db);
    if (rc)
        return rc;
    sqlite3_close_v2(c->db); /* cursors still open on it keep it until they end */
    c->db = db;
    sl_busy_wait(c, c->busy_wait_ms);
    free(c->create_path);
    c->create_path = NULL;
    return 0;
}

/*
 * Open a database. A file that does not exist yet is not created here
 * (mode rwc, the default): an in-memory database, empty as the new file
 * would be, stands for it, and the file is made at the first statement
 * that writes - so a command that fails on bad input before changing
 * anything leaves no file behind. ?mode=ro opens read-only, ?mode=rw
 * refuses a file that does not exist.
 */
static int sl_open(const strata_url *url, const char *masked, strata_conn **out)
{
    const char *mode = url_param_get(url, "mode");
    int flags = mode && strcmp(mode, "ro") == 0   ? SQLITE_OPEN_READONLY
                : mode && strcmp(mode, "rw") == 0 ? SQLITE_OPEN_READWRITE
                                                  : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    char *path = NULL;
    int exists = 1;
    int rc = 0;
    if (strcmp(url->database, ":memory:") != 0)
        rc = sl_locate(url->database, &path, &exists);
    if (rc)
        return rc;
    sqlite3 *db = NULL;
    int later = !exists && (flags & SQLITE_OPEN_CREATE);
    if (later)
        rc = sl_open_db(":memory:", url->database, SQLITE_OPEN_READWRITE, &db);
    else
        rc = sl_open_db(path ? path : url->database, url->database,
                        flags | (path ? SQLITE_OPEN_NOFOLLOW : 0), &db);
    if (rc) {
        free(path);
        return rc;
    }
    sl_conn *c = xcalloc(1, sizeof *c);
    conn_init_common(&c->base, &strata_driver_sqlite, url, masked, url->database);
    c->db = db;
    c->busy_ms = DEFAULT_BUSY_MS;
    if (later)
        c->create_path = path;
    else
        free(path);
    sl_busy_wait(c, c->busy_ms);
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
    sqlite3_close_v2(c->db);
    free(c->create_path);
    conn_free_common(conn);
    free(c);
}

static int sl_exec(strata_conn *conn, const char *sql)
{
    sl_conn *c = (sl_conn *)conn;
    char *err = NULL;
    /* outside a transaction begun on the stand-in, anything may write */
    if (c->create_path && sqlite3_get_autocommit(c->db)) {
        int rc = sl_create_file(c);
        if (rc)
            return rc;
    }
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
    /* a statement that writes makes the file first (sl_open) */
    if (c->create_path && !sqlite3_stmt_readonly(st)) {
        sqlite3_finalize(st);
        int rc = sl_create_file(c);
        if (rc)
            return rc;
        if (sqlite3_prepare_v2(c->db, sql, -1, &st, &tail) != SQLITE_OK)
            return sl_error(c->db);
    }
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
    int made = sl_create_file(c);
    if (made)
        return made;
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

/* ---- session locks: none; only other writers are waited for ----
 *
 * SQLite has no lock that outlives a transaction. The migration lock is a
 * row of strata_lock inside the database itself (engine/lock.c), whose
 * holder is known dead when its process is (a SQLite file is local), so no
 * file beside the database is needed. What the driver still does here is
 * wait for another connection that is writing (holding SQLite's write
 * lock), so that a busy database is reported as such, not as the failure
 * of some statement; no lock is taken, and there is nothing to release or
 * break.
 */

/* Is another connection writing to the database (holding SQLite's write
 * lock)? Tried with BEGIN IMMEDIATE, waiting up to `wait` seconds for it.
 * When it is, *busy is set and so is the message, in SQLite's words; any
 * other failure is an error. */
static int sl_writer_probe(sl_conn *c, double wait, int *busy)
{
    *busy = 0;
    sl_busy_wait(c, (int)(wait * 1000));
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
    sl_busy_wait(c, c->busy_ms);
    return rc;
}

/* Wait up to `wait` seconds for another writer: LOCK_BUSY while one keeps
 * the database busy, else LOCK_TAKEN (nothing is held afterwards). */
static int sl_lock_try(strata_conn *conn, const char *name, double wait, lock_state *state)
{
    (void)name;
    int busy = 0;
    int rc = sl_writer_probe((sl_conn *)conn, wait, &busy);
    if (!rc)
        *state = busy ? LOCK_BUSY : LOCK_TAKEN;
    return rc;
}

static int sl_unlock(strata_conn *conn, const char *name)
{
    (void)conn;
    (void)name;
    return 0;
}

/* Another connection writing to the database, which a runner waits for. */
static int sl_lock_holder(strata_conn *conn, const char *name, char **who)
{
    (void)name;
    int busy = 0;
    int rc = sl_writer_probe((sl_conn *)conn, 0, &busy);
    if (busy) {
        strata_error_clear();
        *who = xasprintf("another process writing to %s (SQLite's write lock; it is released when "
                         "that process commits or ends)",
                         conn->database);
    }
    return rc;
}

/* Nothing is held, so nothing can be broken. */
static int sl_lock_break(strata_conn *conn, const char *name, char **who)
{
    (void)conn;
    (void)name;
    *who = NULL;
    return 0;
}

static char *sl_lock_label(strata_conn *conn, const char *name)
{
    (void)name;
    return xasprintf("of %s", conn->database);
}

static int sl_set_lock_wait(strata_conn *conn, double seconds)
{
    sl_conn *c = (sl_conn *)conn;
    c->busy_ms = (int)(seconds * 1000);
    sl_busy_wait(c, c->busy_ms);
    return 0;
}

/* sqlite3_interrupt may be called from any thread while the connection
 * is open. */
static void sl_interrupt(strata_conn *conn)
{
    sqlite3_interrupt(((sl_conn *)conn)->db);
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
    .interrupt = sl_interrupt,
};
