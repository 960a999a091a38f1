/*
 * driver.h - the driver interface: how libstrata talks to one kind of
 * database. A driver is a table of function pointers (after APR's apr_dbd and
 * libzdb); each driver file fills one in and knows nothing of the others, nor
 * of migrations. The generic entry points in driver.c check arguments, keep
 * the transaction flag and dispatch here.
 */
#ifndef STRATA_DRIVER_H
#define STRATA_DRIVER_H

#include "strata.h"
#include "util.h"
#include "dialect.h"

#include <stdatomic.h>

typedef struct strata_driver strata_driver;

/* A row source for bulk loading: fill `row` (one value per column, valid
 * until the next call) and return 1, or 0 at the end, or <0 on an error
 * (with its message set). */
typedef int (*strata_bulk_next)(void *ctx, strata_value *row);

/* What a driver's lock_try found (see struct strata_driver). */
typedef enum lock_state {
    LOCK_TAKEN = 0, /* this session holds the lock now */
    LOCK_HELD,      /* another session holds it (lock_holder says who) */
    LOCK_BUSY,      /* another connection is writing to the database and would
                       block this one's statements (SQLite's write lock); the
                       error message says so in the database's words */
} lock_state;

/* Driver traits: facts about a kind of database that decide how the engine
 * runs statements on it (struct strata_driver's `flags`). */
enum {
    /* The database runs inside this process: a query costs no round trip. */
    DRIVER_EMBEDDED = 1u << 0,
    /* Every schema change can run inside a transaction; none needs to run
     * outside one (there is no CREATE INDEX CONCURRENTLY and the like). */
    DRIVER_DDL_ALWAYS_IN_TX = 1u << 1,
    /* lock_try takes a lock the server holds for this session until it ends
     * (PostgreSQL advisory locks, MySQL GET_LOCK): a session lock that is
     * free proves that no live session of that server holds it. Without
     * this trait lock_try only waits for other writers (SQLite). */
    DRIVER_SESSION_LOCK = 1u << 2,
    /* exec runs several statements separated by ';' in one round trip,
     * stopping at the first that fails (PostgreSQL's simple query). */
    DRIVER_MULTI_STATEMENT = 1u << 3,
};

/* Where a connection is, as far as running migrations safely goes
 * (struct strata_driver's cluster_info). */
typedef struct cluster_info {
    /* The server (a Galera node) this session is on, as one string that is
     * equal for two sessions of the same server: session locks are only
     * comparable there. */
    char node[160];
    int standby;            /* a PostgreSQL hot standby: every write fails */
    int galera;             /* a MariaDB Galera node (wsrep_on) */
    int galera_nodes;       /* wsrep_cluster_size */
    int required_pk;        /* wsrep_mode has REQUIRED_PRIMARY_KEY */
    char osu_method[16];    /* wsrep_OSU_method: TOI replicates DDL, RSU does not */
    long long max_ws_bytes; /* wsrep_max_ws_size: the most one transaction may write */
    long long max_ws_rows;  /* wsrep_max_ws_rows (0: no limit) */
} cluster_info;

/* One streaming replica of a primary, as replicas_wait saw it. */
typedef struct replica_state {
    char *name;       /* application_name */
    char *address;    /* client address ("local socket") */
    double waited;    /* seconds until it had replayed the target */
    double lag;       /* the server's replay_lag afterwards, seconds (-1: unknown) */
    long long behind; /* bytes of WAL still to replay when last seen (-1: unknown) */
    int caught_up;
} replica_state;

/* The common head of every driver's connection struct. */
struct strata_conn {
    const strata_driver *drv;
    strata_dialect dialect;
    char *url; /* as given, password and all, to open a second
                  connection (conn_reopen); never shown */
    char *url_masked;
    char *database;
    char *schema;   /* PostgreSQL: the schema of a ?search_path= / ?schema=
                       target (its history, lock and tables); NULL: the
                       default one */
    char *endpoint; /* "host:port" or the SQLite file, for messages */
    char server_version[96];
    int server_version_num;
    int is_mariadb;
    unsigned caps;
    int in_tx;
    /* conn_interrupt: the next statement (or the one running) fails with
     * `interrupt_why`; set from another thread, taken by this one */
    atomic_int interrupt_pending;
    char interrupt_why[160];
    /* an interrupt was taken: a statement of this connection failed by it
     * (read by this thread only; conn_was_interrupted) */
    int interrupted;
};

/* The common head of every driver's result cursor. */
struct strata_rows {
    int (*next)(strata_rows *rows);
    void (*free)(strata_rows *rows);
    size_t ncols;
    char **colnames;
    strata_value *values; /* ncols values of the current row */
};

struct strata_driver {
    const char *name;
    strata_dialect dialect;
    unsigned flags; /* DRIVER_* */
    /* Connect; on failure set an ECONNECT error naming endpoint and server words. */
    int (*open)(const strata_url *url, const char *masked, strata_conn **out);
    void (*close)(strata_conn *conn);
    /* One or more statements without results. */
    int (*exec)(strata_conn *conn, const char *sql);
    /* One statement with `?` parameters; returns rows (possibly none). */
    int (*query)(strata_conn *conn, const char *sql, const strata_value *params, size_t n,
                 strata_rows **out, int64_t *affected);
    int (*begin)(strata_conn *conn);
    int (*commit)(strata_conn *conn);
    int (*rollback)(strata_conn *conn);
    /* Bulk loading (optional: NULL when the driver has no fast path). Load
     * the rows `next` produces into `table` (columns `cols`) with the
     * database's own bulk protocol, inside the caller's transaction if one is
     * open. *loaded gets the number of rows the database took. On an error of
     * `next` (<0, message set) the load is abandoned and that error returned;
     * the caller rolls back. */
    int (*bulk_load)(strata_conn *conn, const char *table, const char *const *cols, size_t ncols,
                     strata_bulk_next next, void *ctx, int64_t *loaded);
    /* Does table `name` exist in the connection's default schema? */
    int (*table_exists)(strata_conn *conn, const char *name, int *exists);

    /*
     * Session locks. A lock is named by the caller and belongs to the
     * connection's database (the same name on two databases is two locks).
     * It is held by this session until unlock, and the database drops it when
     * the session or its process ends, so a killed holder never leaves a lock
     * behind: PostgreSQL session advisory locks, MySQL GET_LOCK (trait
     * DRIVER_SESSION_LOCK). They are exact on one server only (GET_LOCK is
     * local to a Galera node); the migration lock itself is a row of the
     * database (engine/lock.c), and a session lock tells it whether a
     * session of this server is still alive. SQLite has none: there lock_try
     * only waits for another writer (LOCK_BUSY) and holds nothing. Waiting,
     * timeouts and messages are the caller's; a driver only tries, and says
     * who is in the way.
     */
    /* Try once to take lock `name`. `wait` is how long the database itself
     * may block here for it (MySQL's GET_LOCK timeout, SQLite's busy timeout
     * for another writer); drivers that cannot wait return at once, and the
     * caller polls. *state says whether the lock was taken. */
    int (*lock_try)(strata_conn *conn, const char *name, double wait, lock_state *state);
    /* Give lock `name` up (nothing when this session does not hold it). */
    int (*unlock)(strata_conn *conn, const char *name);
    /* Who holds lock `name`, or keeps this session from taking it, as one
     * line (*who NULL: nobody). A query that fails is an error. */
    int (*lock_holder)(strata_conn *conn, const char *name, char **who);
    /* End the session holding lock `name`, so that the database drops it;
     * *who says whom (NULL: nobody held it, or nothing can be held: SQLite;
     * nothing done). */
    int (*lock_break)(strata_conn *conn, const char *name, char **who);
    /* How the database names lock `name`, for messages that read "the ...
     * lock <label> is held by ...": "of database 'x'", "'strata:x'", ... */
    char *(*lock_label)(strata_conn *conn, const char *name);
    /* Optional: how long this session's statements wait for a lock another
     * connection holds before they fail (SQLite's busy timeout). NULL where
     * the server's own setting stays. */
    int (*set_lock_wait)(strata_conn *conn, double seconds);
    /* Optional: make the statement this connection is running fail soon
     * (PostgreSQL's cancel request, MySQL's KILL QUERY from a second
     * connection, sqlite3_interrupt). Called from another thread while the
     * connection is in use, so it touches only what is safe from there;
     * nothing happens when no statement is running. */
    void (*interrupt)(strata_conn *conn);

    /* Optional: describe where this session is (cluster_info above), and
     * where nodes apply each other's writes later (Galera), make this
     * session's reads and updates first wait for everything other nodes
     * committed before them (wsrep_sync_wait), so that what it reads - the
     * history, the lock - is current. NULL: a single server (node =
     * endpoint). */
    int (*cluster_info)(strata_conn *conn, cluster_info *out);
    /* Optional: wait up to `timeout` seconds until every streaming replica
     * of this primary has replayed everything committed so far. *out gets
     * one entry per replica (*n may be 0: none connected); the replicas
     * still behind at the timeout make it an STRATA_ESTATE error (with *out
     * filled). NULL: the database has no such replicas (*n = 0). */
    int (*replicas_wait)(strata_conn *conn, double timeout, replica_state **out, size_t *n);
};

extern const strata_driver strata_driver_postgres;
extern const strata_driver strata_driver_mysql;
extern const strata_driver strata_driver_sqlite;

/* The generic side of the entries above (driver.c). */
int conn_table_exists(strata_conn *conn, const char *name, int *exists);
int conn_lock_try(strata_conn *conn, const char *name, double wait, lock_state *state);
int conn_unlock(strata_conn *conn, const char *name);
int conn_lock_holder(strata_conn *conn, const char *name, char **who);
int conn_lock_break(strata_conn *conn, const char *name, char **who);
char *conn_lock_label(strata_conn *conn, const char *name);
int conn_set_lock_wait(strata_conn *conn, double seconds);
/* From another thread: make the statement `conn` is running, or else the
 * next one it starts, fail with "interrupted: <why>" - once; the statements
 * after it (a rollback, an undo) run as usual. `conn` must stay open during
 * the call (the caller keeps it from being closed meanwhile). */
void conn_interrupt(strata_conn *conn, const char *why);
/* Did a statement of `conn` fail by an interrupt since it was opened? Then
 * nothing is tried again (a batch op by op, say): the interrupt came once. */
int conn_was_interrupted(const strata_conn *conn);
int conn_cluster_info(strata_conn *conn, cluster_info *out);
int conn_replicas_wait(strata_conn *conn, double timeout, replica_state **out, size_t *n);
void replica_states_free(replica_state *v, size_t n);
/* A second connection to the database `conn` reaches, with the same URL. */
int conn_reopen(const strata_conn *conn, strata_conn **out);
/* The connection's driver has trait `flag` (DRIVER_*). */
int conn_has_trait(const strata_conn *conn, unsigned flag);
/* "<name>:<database>" ("<name>@<schema>:<database>" for a schema target):
 * a lock name scoped to the connection's database and schema, for databases
 * whose lock names are server-wide. */
char *conn_lock_scoped_name(const strata_conn *conn, const char *name);

/* The value of query parameter `name` of a parsed URL (url.c checked it
 * against the driver's table and spells MySQL's names as the table does),
 * or NULL. */
const char *url_param_get(const strata_url *url, const char *name);

/* Helpers for drivers. */
void conn_init_common(strata_conn *c, const strata_driver *drv, const strata_url *url,
                      const char *masked, const char *endpoint);
void conn_free_common(strata_conn *c);
/* Allocate the column-name and value arrays of a cursor. */
void rows_init_common(strata_rows *r, size_t ncols);
void rows_free_common(strata_rows *r);
/* Append a field of tab-separated text for COPY / LOAD DATA: backslash,
 * newline, carriage return and tab (and NUL when `nul`) as \\ \n \r \t
 * (\0). */
void tsv_escape_into(sbuf *b, const char *s, size_t len, int nul);
/* Trim trailing whitespace/newlines from a server message (in place). */
char *trim_message(char *msg);
/* Parse "15.18" / "10.11.6-MariaDB" into major*10000+minor*100+patch. */
int parse_version_num(const char *s);
/* Rewrite `?` placeholders as $1, $2, ... outside quotes and comments. */
char *rewrite_placeholders_pg(const char *sql, size_t *count);
/* Count `?` placeholders outside quotes and comments. */
size_t count_placeholders(const char *sql, strata_dialect d);

#endif /* STRATA_DRIVER_H */
