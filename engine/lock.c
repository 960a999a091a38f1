/*
 * lock.c - the migration lock: one runner at a time per database, on one
 * server and on a cluster alike (docs/locking.md).
 *
 * The lock is a row of the table strata_lock in the database itself, next
 * to the history it protects: wherever the history is, so is the lock. A
 * runner takes it with one conditional write (UPDATE ... WHERE owner IS
 * NULL, or an INSERT of the row), which the database makes exclusive: its
 * row locking on one server, certification across the nodes of a Galera
 * cluster (where GET_LOCK is local to a node). The row says who holds it
 * (run id, host, pid, node) and until when: the holder's lease, renewed by
 * a heartbeat thread on a connection of its own while the run goes on. A
 * holder is taken over only when it is known dead:
 *
 *   - its database session has ended: where the driver has session locks
 *     (PostgreSQL advisory locks, MySQL GET_LOCK), every holder also holds
 *     one on its main connection, taken before the row. A runner that gets
 *     that session lock on the same server (the same Galera node) as the
 *     holder knows the holder's session is gone, and with it any statement
 *     it was still running. On one server this is as immediate and exact
 *     as the session lock alone used to be;
 *   - its process is gone: same host (boot id and pid namespace), and no
 *     process with its pid and start time (SQLite, and a holder on another
 *     node of the same machine);
 *   - its lease expired: on the database's clock, LEASE seconds after its
 *     last renewal (a holder on another host that died or was cut off).
 *
 * A holder that loses the lock finds out at once: every history write is
 * fenced by "this run still holds the lock" (history.c), the heartbeat
 * finds the row taken, and lock_check, called between statements, stops
 * the run when the lease could not be renewed for 2/3 of its length.
 */
#include "runner.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* The lock's name: the row of strata_lock, and the session lock's name
 * (drivers make it the database's own, "strata:<db>"). */
#define MIGRATION_LOCK "strata"
#define LOCK_TABLE     "strata_lock"

/* How long a lease lasts, and how often it is renewed (docs/locking.md,
 * "Intervals"): 30 s, so that a holder on another host that died is taken
 * over well within the default --lock-timeout of 60 s; renewed every 5 s,
 * so that five renewals in a row may fail or stall (a Galera view change
 * after a node failure holds commits for a few seconds) before the lease is
 * in danger. STRATA_LOCK_LEASE (seconds) overrides the lease, the heartbeat
 * being a sixth of it. */
#define LEASE_SECONDS 30.0

/* How often to try again where the database cannot wait by itself. */
#define LOCK_POLL_SECONDS 0.1

/* The lock table, as a migration. name: the lock; owner: the run id of the
 * holder, NULL when free; host, host_id, pid, pid_start: the holder's
 * process (host_id: boot id and pid namespace, for the liveness check);
 * node: the server or Galera node its main session is on; acquired_at,
 * heartbeat_at, lease_until: milliseconds since 1970 on the database's
 * clock. */
static const char lock_table_json[] =
    "{\"up\": [{\"op\": \"create_table\", \"table\": \"" LOCK_TABLE "\", "
    "\"if_not_exists\": true, \"columns\": ["
    "{\"name\": \"name\", \"type\": \"string\", \"length\": 64, \"primary_key\": true}, "
    "{\"name\": \"owner\", \"type\": \"string\", \"length\": 64}, "
    "{\"name\": \"host\", \"type\": \"string\", \"length\": 255}, "
    "{\"name\": \"host_id\", \"type\": \"string\", \"length\": 160}, "
    "{\"name\": \"pid\", \"type\": \"bigint\"}, "
    "{\"name\": \"pid_start\", \"type\": \"bigint\"}, "
    "{\"name\": \"node\", \"type\": \"string\", \"length\": 160}, "
    "{\"name\": \"acquired_at\", \"type\": \"bigint\"}, "
    "{\"name\": \"heartbeat_at\", \"type\": \"bigint\"}, "
    "{\"name\": \"lease_until\", \"type\": \"bigint\", \"nullable\": false, \"default\": 0}]}]}";

/* The statements on the lock row; {T} is the table, {NOW} the database's
 * clock in milliseconds. */
#define COLUMNS_SET                                                                                \
    "owner = ?, host = ?, host_id = ?, pid = ?, pid_start = ?, node = ?, acquired_at = {NOW}, "    \
    "heartbeat_at = {NOW}, lease_until = {NOW} + ?"
static const char take_free_sql[] =
    "UPDATE {T} SET " COLUMNS_SET " WHERE name = ? AND owner IS NULL";
static const char take_over_sql[] = "UPDATE {T} SET " COLUMNS_SET " WHERE name = ? AND owner = ?";
static const char take_expired_sql[] =
    "UPDATE {T} SET " COLUMNS_SET " WHERE name = ? AND owner = ? AND lease_until < {NOW}";
static const char insert_sql[] =
    "INSERT INTO {T} (owner, host, host_id, pid, pid_start, node, acquired_at, heartbeat_at, "
    "lease_until, name) VALUES (?, ?, ?, ?, ?, ?, {NOW}, {NOW}, {NOW} + ?, ?)";
static const char renew_sql[] =
    "UPDATE {T} SET heartbeat_at = {NOW}, lease_until = {NOW} + ? WHERE name = ? AND owner = ?";
static const char free_sql[] =
    "UPDATE {T} SET owner = NULL, heartbeat_at = {NOW}, lease_until = 0 WHERE name = ? AND "
    "owner = ?";
static const char read_sql[] =
    "SELECT owner, host, host_id, pid, pid_start, node, acquired_at, heartbeat_at, lease_until, "
    "{NOW} FROM {T} WHERE name = ?";

/* This process, as the lock row records its holder. */
typedef struct me_t {
    char host[256];
    char host_id[160]; /* "" when unknown: then no pid check is made */
    long long pid, pid_start;
    char node[160];
} me_t;

/* The lock row as read. */
typedef struct lock_row {
    int exists;
    char *owner, *host, *host_id, *node;
    long long pid, pid_start, acquired_at, heartbeat_at, lease_until, now;
} lock_row;

/* The lock while a run holds it. */
struct lease {
    strata_conn *conn; /* the run's connection */
    strata_conn *hb;   /* the heartbeat's own connection (NULL: none) */
    char run_id[33];
    char *db;
    double lease_s, beat_s;
    int beacon; /* the session lock is held on conn too */
    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    int lost;       /* the row no longer names this run */
    char *why;      /* why it was lost, or the heartbeat's last error */
    double renewed; /* now_seconds() when the last renewal that worked was sent */
};

/* ---- small helpers ---- */

/* `tmpl` with {T} the quoted lock table and {NOW} the clock expression. */
static char *lock_sql(strata_conn *conn, const char *tmpl)
{
    char *t = strata_conn_quote_ident(conn, LOCK_TABLE);
    const char *now = clock_ms_sql(strata_conn_dialect(conn));
    sbuf b = SBUF_INIT;
    for (const char *p = tmpl; *p;) {
        if (!strncmp(p, "{T}", 3)) {
            sbuf_add(&b, t);
            p += 3;
        } else if (!strncmp(p, "{NOW}", 5)) {
            sbuf_add(&b, now);
            p += 5;
        } else {
            sbuf_addc(&b, *p++);
        }
    }
    free(t);
    return sbuf_detach(&b);
}

/* Run a statement on the lock row; *affected gets the rows it matched. */
static int lock_exec(strata_conn *conn, const char *tmpl, const strata_value *v, size_t n,
                     int64_t *affected)
{
    char *q = lock_sql(conn, tmpl);
    *affected = 0;
    int rc = strata_conn_execp(conn, q, v, n, affected);
    free(q);
    return rc;
}

/* Did a write lose a race rather than fail? A Galera certification
 * conflict or brute-force abort (1213), a lock wait (1205), a PostgreSQL
 * serialization failure or deadlock, SQLite busy: the lock was not taken,
 * and the next try will see why. */
static int lost_race(const char *msg)
{
    return strstr(msg, "ERROR 1213") || strstr(msg, "ERROR 1205") || strstr(msg, "40001") ||
           strstr(msg, "40P01") || strstr(msg, "SQLite error 5") || strstr(msg, "SQLite error 6") ||
           strstr(msg, "SQLite error 517") || strstr(msg, "SQLite error 261");
}

static void row_free(lock_row *row)
{
    free(row->owner);
    free(row->host);
    free(row->host_id);
    free(row->node);
    memset(row, 0, sizeof *row);
}

static char *text_at(strata_rows *rows, size_t i)
{
    const char *t = strata_rows_text(rows, i);
    return t ? xstrdup(t) : NULL;
}

static int row_read(strata_conn *conn, lock_row *row)
{
    memset(row, 0, sizeof *row);
    char *q = lock_sql(conn, read_sql);
    strata_value name = strata_vtext(MIGRATION_LOCK);
    strata_rows *rows;
    int rc = strata_conn_query(conn, q, &name, 1, &rows);
    free(q);
    if (rc)
        return rc;
    if ((rc = strata_rows_next(rows)) == 1) {
        row->exists = 1;
        row->owner = text_at(rows, 0);
        row->host = text_at(rows, 1);
        row->host_id = text_at(rows, 2);
        row->pid = strata_rows_value(rows, 3)->i;
        row->pid_start = strata_rows_value(rows, 4)->i;
        row->node = text_at(rows, 5);
        row->acquired_at = strata_rows_value(rows, 6)->i;
        row->heartbeat_at = strata_rows_value(rows, 7)->i;
        row->lease_until = strata_rows_value(rows, 8)->i;
        row->now = strata_rows_value(rows, 9)->i;
        rc = 0;
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

/* ---- this process, and whether a holder on this host is alive ---- */

/* The start time of process `pid` in clock ticks after boot (field 22 of
 * /proc/PID/stat) and its state letter; -1 when there is no such process. */
static long long proc_start(long long pid, char *state)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%lld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "pid (comm) S ppid ...": comm may hold spaces and parentheses */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return -1;
    p += 2;
    if (state)
        *state = *p;
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p ? strtoll(p, NULL, 10) : -1;
}

/* First line of a small file, or "" */
static void read_line(const char *path, char *out, size_t len)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (!fgets(out, (int)len, f))
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

/* Who this process is. The host id is the kernel's boot id and this
 * process's pid namespace: two processes with the same one see the same
 * pids, so one can tell whether the other is alive. */
static void me_init(me_t *me, const cluster_info *ci)
{
    memset(me, 0, sizeof *me);
    if (gethostname(me->host, sizeof me->host - 1) != 0 || !me->host[0])
        snprintf(me->host, sizeof me->host, "?");
    char boot[64], ns[64] = "";
    read_line("/proc/sys/kernel/random/boot_id", boot, sizeof boot);
    ssize_t k = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    if (boot[0] && k > 0) {
        ns[k] = '\0';
        snprintf(me->host_id, sizeof me->host_id, "%s %s", boot, ns);
    }
    /* for tests: look like a process of another host, whose liveness only
     * its lease tells (docs/locking.md) */
    const char *fake = getenv("STRATA_LOCK_HOST_ID");
    if (fake && *fake)
        snprintf(me->host_id, sizeof me->host_id, "%s", fake);
    me->pid = (long long)getpid();
    me->pid_start = proc_start(me->pid, NULL);
    snprintf(me->node, sizeof me->node, "%s", ci->node);
}

/* Is the holder of `row` a process of this host that no longer runs (no
 * process with its pid, a different one since, or a zombie)? */
static int holder_process_gone(const lock_row *row, const me_t *me)
{
    if (!me->host_id[0] || !row->host_id || strcmp(row->host_id, me->host_id) != 0)
        return 0;
    char state = '?';
    long long start = proc_start(row->pid, &state);
    return start < 0 || (row->pid_start > 0 && start != row->pid_start) || state == 'Z' ||
           state == 'X';
}

/* ---- describing a holder ---- */

static void ms_to_utc(long long ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

/* "run 1a2b3c4d (pid 123 on host, via node)" */
static char *holder_name(const lock_row *row)
{
    return xasprintf("run %.8s (pid %lld on %s, via %s)", row->owner ? row->owner : "?", row->pid,
                     row->host ? row->host : "?", row->node ? row->node : "?");
}

/* The holder, since when, and its lease, as `lock status` shows them. */
static char *holder_detail(const lock_row *row)
{
    char since[32], until[32];
    ms_to_utc(row->acquired_at, since);
    ms_to_utc(row->lease_until, until);
    char *who = holder_name(row);
    double left = (double)(row->lease_until - row->now) / 1000;
    double beat = (double)(row->now - row->heartbeat_at) / 1000;
    char *s = left >= 0 ? xasprintf("%s since %s UTC; lease until %s UTC (%.0f s left, renewed "
                                    "%.0f s ago)",
                                    who, since, until, left, beat)
                        : xasprintf("%s since %s UTC; lease expired at %s UTC (%.0f s ago)", who,
                                    since, until, -left);
    free(who);
    return s;
}

/*
 * Is the holder of `row` dead, and why? *why is set (caller frees) when it
 * is; *expired when only its lease says so (then the takeover itself
 * checks the lease again, on the database's clock). `beacon`: this
 * connection holds the session lock now, so no session of this node holds
 * it: a holder whose main session was on this node has none any more.
 */
static int holder_dead(const lock_row *row, const me_t *me, int beacon, char **why, int *expired)
{
    *why = NULL;
    *expired = 0;
    if (beacon && row->node && strcmp(row->node, me->node) == 0)
        *why = xasprintf("its database session on %s has ended", row->node);
    else if (holder_process_gone(row, me))
        *why = xasprintf("its process (pid %lld on %s) is gone", row->pid,
                         row->host ? row->host : "?");
    else if (row->lease_until < row->now) {
        *why =
            xasprintf("its lease expired %.1f s ago", (double)(row->now - row->lease_until) / 1000);
        *expired = 1;
    }
    return *why != NULL;
}

/* ---- the lease ---- */

static double lease_seconds(void)
{
    const char *e = getenv("STRATA_LOCK_LEASE");
    char *end = NULL;
    double v = e ? strtod(e, &end) : 0;
    return e && end && !*end && v >= 0.5 ? v : LEASE_SECONDS;
}

static void lease_free(struct lease *L)
{
    if (!L)
        return;
    pthread_mutex_destroy(&L->mu);
    pthread_cond_destroy(&L->cv);
    free(L->why);
    free(L->db);
    free(L);
}

static struct lease *lease_new(runner *r)
{
    struct lease *L = xcalloc(1, sizeof *L);
    L->conn = r->conn;
    memcpy(L->run_id, r->run_id, sizeof L->run_id);
    L->db = xstrdup(strata_conn_database(r->conn));
    L->lease_s = lease_seconds();
    L->beat_s = L->lease_s / 6;
    pthread_mutex_init(&L->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&L->cv, &ca);
    pthread_condattr_destroy(&ca);
    return L;
}

/* Renew the lease on `conn`: 1 when the row still names this run, 0 when
 * not; <0 on an error. */
static int lease_renew(struct lease *L, strata_conn *conn)
{
    strata_value v[] = {strata_vint((long long)(L->lease_s * 1000)), strata_vtext(MIGRATION_LOCK),
                        strata_vtext(L->run_id)};
    int64_t affected = 0;
    int rc = lock_exec(conn, renew_sql, v, 3, &affected);
    return rc ? rc : affected > 0;
}

static void set_why(struct lease *L, const char *why)
{
    free(L->why);
    L->why = xstrdup(why);
}

/*
 * The heartbeat: renew the lease every beat_s seconds on a connection of
 * its own (the run's connection may be busy in a long statement). A
 * renewal that finds the row taken over marks the lease lost; one that
 * fails is retried on a new connection at the next beat, and lock_check
 * stops the run once no renewal worked for 2/3 of the lease.
 */
static void *heartbeat_main(void *arg)
{
    struct lease *L = arg;
    pthread_mutex_lock(&L->mu);
    while (!L->stop && !L->lost) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        double next = (double)until.tv_nsec / 1e9 + L->beat_s;
        until.tv_sec += (time_t)next;
        until.tv_nsec = (long)((next - (double)(time_t)next) * 1e9);
        while (!L->stop && pthread_cond_timedwait(&L->cv, &L->mu, &until) != ETIMEDOUT)
            ;
        if (L->stop)
            break;
        strata_conn *hb = L->hb;
        pthread_mutex_unlock(&L->mu);
        double sent = now_seconds();
        int rc = 0;
        if (!hb) {
            rc = conn_reopen(L->conn, &hb);
            if (!rc) {
                cluster_info ci;
                rc = conn_cluster_info(hb, &ci);
            }
        }
        int held = rc ? rc : lease_renew(L, hb);
        char *err = held < 0 ? xstrdup(strata_error_message()) : NULL;
        if (held < 0 && hb) {
            strata_conn_close(hb);
            hb = NULL;
        }
        pthread_mutex_lock(&L->mu);
        L->hb = hb;
        if (held > 0) {
            if (sent > L->renewed)
                L->renewed = sent;
        } else if (held == 0) {
            L->lost = 1;
            set_why(L, "the heartbeat found the lock taken over by another run");
        } else {
            set_why(L, err);
        }
        free(err);
    }
    pthread_mutex_unlock(&L->mu);
    strata_error_clear();
    return NULL;
}

static int heartbeat_start(struct lease *L)
{
    int rc = conn_reopen(L->conn, &L->hb);
    if (!rc) {
        cluster_info ci;
        rc = conn_cluster_info(L->hb, &ci);
    }
    if (rc)
        return strata_error_prefix("opening the connection that renews the migration lock: ");
    if (pthread_create(&L->thread, NULL, heartbeat_main, L) != 0)
        return strata_set_error(STRATA_ELOCK,
                                "cannot start the thread that renews the migration "
                                "lock: %s",
                                strerror(errno));
    L->thread_started = 1;
    return 0;
}

static void heartbeat_stop(struct lease *L)
{
    if (L->thread_started) {
        pthread_mutex_lock(&L->mu);
        L->stop = 1;
        pthread_cond_signal(&L->cv);
        pthread_mutex_unlock(&L->mu);
        pthread_join(L->thread, NULL);
        L->thread_started = 0;
    }
}

/* ---- taking the lock ---- */

/* Refuse a connection where migrations cannot run safely, before anything
 * changes: a standby (every write fails), a Galera session whose DDL would
 * stay on its node (RSU). */
static int refuse_unsafe(const strata_conn *conn, const cluster_info *ci)
{
    if (ci->standby)
        return strata_set_error(STRATA_ESTATE,
                                "the database is a read-only standby (%s is a PostgreSQL hot "
                                "standby: pg_is_in_recovery() is true); run against the primary",
                                conn->endpoint);
    if (ci->galera && strcasecmp(ci->osu_method, "TOI") != 0)
        return strata_set_error(STRATA_ESTATE,
                                "Galera node %s runs schema changes with wsrep_OSU_method=%s: "
                                "they would not replicate to the other nodes, and the first "
                                "write to a changed table would take this node out of the "
                                "cluster; set wsrep_OSU_method=TOI (the default) for strata",
                                ci->node, ci->osu_method);
    return 0;
}

/* The values of COLUMNS_SET and insert_sql (owner ... lease), then the
 * name, then (take_over_sql) the observed owner. */
static size_t take_values(const struct lease *L, const me_t *me, const char *observed,
                          strata_value *v)
{
    size_t n = 0;
    v[n++] = strata_vtext(L->run_id);
    v[n++] = strata_vtext(me->host);
    v[n++] = strata_vtext(me->host_id);
    v[n++] = strata_vint(me->pid);
    v[n++] = strata_vint(me->pid_start);
    v[n++] = strata_vtext(me->node);
    v[n++] = strata_vint((long long)(L->lease_s * 1000));
    v[n++] = strata_vtext(MIGRATION_LOCK);
    if (observed)
        v[n++] = strata_vtext(observed);
    return n;
}

/* A write that lost a race took nothing: clear its error, report 0. */
static int race_or_error(int rc, int64_t affected)
{
    if (!rc)
        return affected > 0;
    if (lost_race(strata_error_message())) {
        strata_error_clear();
        return 0;
    }
    return rc;
}

/*
 * One try at the lock row: take it if free (or missing), or take it over
 * from a dead holder. Returns 1 when taken, 0 when held by a live holder
 * (`row` then describes it), <0 on an error. *takeover gets the reason
 * when it was taken from a dead holder.
 */
static int row_try(runner *r, struct lease *L, const me_t *me, lock_row *row, char **takeover)
{
    strata_conn *conn = r->conn;
    strata_value v[10];
    int64_t affected = 0;
    *takeover = NULL;
    memset(row, 0, sizeof *row);
    size_t n = take_values(L, me, NULL, v);
    int rc = lock_exec(conn, take_free_sql, v, n, &affected);
    int got = race_or_error(rc, affected);
    if (got)
        return got;
    if ((rc = row_read(conn, row)) != 0)
        return rc;
    if (!row->exists) {
        rc = lock_exec(conn, insert_sql, v, n, &affected);
        got = race_or_error(rc, affected);
        if (got >= 0)
            return got;
        /* another runner inserted it first (a duplicate key): try again */
        char *msg = xstrdup(strata_error_message());
        rc = row_read(conn, row);
        if (!rc && row->exists) {
            free(msg);
            return 0;
        }
        strata_set_error(got, "%s", msg);
        free(msg);
        return got;
    }
    if (!row->owner)
        return 0; /* freed since: the next try takes it */
    int expired = 0;
    if (!holder_dead(row, me, L->beacon, takeover, &expired))
        return 0;
    n = take_values(L, me, row->owner, v);
    rc = lock_exec(conn, expired ? take_expired_sql : take_over_sql, v, n, &affected);
    got = race_or_error(rc, affected);
    if (got <= 0) {
        free(*takeover);
        *takeover = NULL;
    }
    return got;
}

/* The holder the lock row names, described (NULL: none, or no row). A
 * failed read only costs a message its detail. */
static char *row_holder(strata_conn *conn)
{
    int exists = 0;
    lock_row row;
    char *who = NULL;
    if (conn_table_exists(conn, LOCK_TABLE, &exists) == 0 && exists && row_read(conn, &row) == 0) {
        if (row.owner)
            who = holder_detail(&row);
        row_free(&row);
    }
    strata_error_clear();
    return who;
}

/* Who is in the way of the session lock: its holder; where there is none
 * and another process is writing (SQLite), the holder of the lock row if
 * one is named there, else that writer (NULL). */
static char *session_holder(strata_conn *conn, lock_state state)
{
    char *who = NULL;
    if (state == LOCK_BUSY)
        return row_holder(conn);
    if (conn_lock_holder(conn, MIGRATION_LOCK, &who) != 0)
        strata_error_clear(); /* only the message's detail is lost */
    return who ? who : xstrdup("another session");
}

static void say_waiting(runner *r, lock_state state)
{
    char *who = session_holder(r->conn, state);
    if (who)
        say(r, "waiting for the migration lock, held by %s", who);
    else
        say(r, "waiting for the migration lock: another process is writing to %s",
            strata_conn_database(r->conn));
    free(who);
}

/* The error for giving up after `timeout` seconds waiting for the session
 * lock; `busy` holds the database's words when a writer was in the way. */
static int session_gave_up(runner *r, lock_state state, const char *busy, double timeout)
{
    strata_conn *conn = r->conn;
    char *who = session_holder(conn, state);
    char *label = conn_lock_label(conn, MIGRATION_LOCK);
    int e = who ? strata_set_error(STRATA_ELOCK,
                                   "the migration lock %s is held by %s; gave up after %.0f s "
                                   "(--lock-timeout)",
                                   label, who, timeout)
                : strata_set_error(STRATA_ELOCK,
                                   "the migration lock of %s is held by another process writing "
                                   "to it (%s); gave up after %.0f s (--lock-timeout)",
                                   strata_conn_database(conn), busy, timeout);
    free(who);
    free(label);
    return e;
}

/*
 * The session lock (where the driver has one), or (SQLite) the wait for
 * another writer, up to `deadline`. Where the database can wait by itself
 * (GET_LOCK, SQLite's busy timeout) it waits for what is left; elsewhere it
 * is tried again every LOCK_POLL_SECONDS. The first wait says why.
 */
static int session_wait(runner *r, double start, double timeout, int *warned)
{
    strata_conn *conn = r->conn;
    double wait = 0;
    char *busy = NULL;
    lock_state state;
    int rc;
    while ((rc = conn_lock_try(conn, MIGRATION_LOCK, wait, &state)) == 0 && state != LOCK_TAKEN) {
        if (state == LOCK_BUSY) {
            free(busy);
            busy = xstrdup(strata_error_message());
            strata_error_clear();
        }
        if (!*warned) {
            say_waiting(r, state);
            *warned = 1;
        }
        double left = timeout - (now_seconds() - start);
        if (left <= 0) {
            rc = session_gave_up(r, state, busy, timeout);
            break;
        }
        double pause = left < LOCK_POLL_SECONDS ? left : LOCK_POLL_SECONDS;
        usleep((useconds_t)(pause * 1e6));
        wait = left - pause;
    }
    free(busy);
    return rc;
}

/* Wait for the lock row up to the deadline, polling; say who holds it the
 * first time. */
static int row_wait(runner *r, struct lease *L, const me_t *me, double start, double timeout,
                    int *warned)
{
    for (;;) {
        lock_row row;
        char *takeover = NULL;
        int got = row_try(r, L, me, &row, &takeover);
        if (got > 0) {
            if (takeover) {
                char *who = holder_name(&row);
                warn(r, "took over the migration lock of %s from %s: %s", L->db, who, takeover);
                free(who);
            }
            free(takeover);
            row_free(&row);
            return 0;
        }
        if (got < 0) {
            row_free(&row);
            return strata_error_prefix("taking the migration lock: ");
        }
        double left = timeout - (now_seconds() - start);
        if (row.owner && (!*warned || left <= 0)) {
            char *detail = holder_detail(&row);
            if (left <= 0) {
                int e = strata_set_error(STRATA_ELOCK,
                                         "the migration lock of %s is held by %s; gave up after "
                                         "%.0f s (--lock-timeout)",
                                         L->db, detail, timeout);
                free(detail);
                row_free(&row);
                return e;
            }
            say(r, "waiting for the migration lock, held by %s", detail);
            free(detail);
            *warned = 1;
        }
        row_free(&row);
        if (left <= 0)
            return strata_set_error(STRATA_ELOCK,
                                    "the migration lock of %s could not be taken in %.0f s "
                                    "(--lock-timeout)",
                                    L->db, timeout);
        double pause = left < 2 * LOCK_POLL_SECONDS ? left : 2 * LOCK_POLL_SECONDS;
        usleep((useconds_t)(pause * 1e6));
    }
}

/*
 * Take the migration lock, waiting up to --lock-timeout seconds: first see
 * where the connection is and refuse what is unsafe; then the session lock
 * (or SQLite's writers), the lock table, the row; then the heartbeat.
 * Once taken, the run's statements wait as long for other sessions' locks
 * where the driver lets them (SQLite).
 */
int lock_acquire(runner *r)
{
    strata_conn *conn = r->conn;
    int rc = conn_cluster_info(conn, &r->cluster);
    if (rc)
        return rc;
    if ((rc = refuse_unsafe(conn, &r->cluster)))
        return rc;
    double timeout = r->opt->lock_timeout > 0 ? r->opt->lock_timeout : 0;
    double start = now_seconds();
    int warned = 0;
    struct lease *L = lease_new(r);
    me_t me;
    me_init(&me, &r->cluster);
    rc = session_wait(r, start, timeout, &warned);
    if (!rc)
        L->beacon = conn_has_trait(conn, DRIVER_SESSION_LOCK);
    if (!rc)
        rc = meta_table_ensure(conn, LOCK_TABLE, lock_table_json);
    L->renewed = now_seconds();
    if (!rc)
        rc = row_wait(r, L, &me, start, timeout, &warned);
    if (!rc) {
        r->lease = L;
        L->renewed = now_seconds();
        if (!conn_has_trait(conn, DRIVER_EMBEDDED))
            rc = heartbeat_start(L);
        if (!rc)
            rc = conn_set_lock_wait(conn, timeout);
        if (rc)
            lock_release(r);
        return rc;
    }
    if (L->beacon) {
        char *msg = xstrdup(strata_error_message());
        conn_unlock(conn, MIGRATION_LOCK);
        strata_set_error(rc, "%s", msg);
        free(msg);
    }
    lease_free(L);
    return rc;
}

/* ---- while it is held ---- */

static int lost_error(runner *r, const char *why)
{
    return strata_set_error(STRATA_ELOCK,
                            "lost the migration lock of %s (%s); stopped here, undoing nothing: "
                            "the run that holds the lock now finishes or undoes what this one "
                            "left",
                            strata_conn_database(r->conn), why);
}

int lock_fenced_out(runner *r, const char *what)
{
    struct lease *L = r->lease;
    char *why = xasprintf("%s found it no longer this run's", what);
    if (L) {
        pthread_mutex_lock(&L->mu);
        L->lost = 1;
        set_why(L, why);
        pthread_mutex_unlock(&L->mu);
    }
    int e = lost_error(r, why);
    free(why);
    return e;
}

int lock_fence(runner *r)
{
    struct lease *L = r->lease;
    if (!L)
        return 0;
    double sent = now_seconds();
    int held = lease_renew(L, r->conn);
    if (held < 0)
        return strata_error_prefix("renewing the migration lock: ");
    if (!held)
        return lock_fenced_out(r, "renewing the lease");
    pthread_mutex_lock(&L->mu);
    if (sent > L->renewed)
        L->renewed = sent;
    pthread_mutex_unlock(&L->mu);
    return 0;
}

int lock_check(runner *r)
{
    struct lease *L = r->lease;
    if (!L)
        return 0;
    pthread_mutex_lock(&L->mu);
    int lost = L->lost;
    double age = now_seconds() - L->renewed;
    char *why = L->why ? xstrdup(L->why) : NULL;
    pthread_mutex_unlock(&L->mu);
    int rc = 0;
    if (lost) {
        rc = lost_error(r, why ? why : "taken over");
    } else if (!L->thread_started) {
        /* no heartbeat (SQLite): the run renews the lease itself */
        if (age > L->beat_s)
            rc = lock_fence(r);
    } else if (age > L->lease_s * 2 / 3) {
        /* the heartbeat could not renew it: try once here, else stop
         * before the lease can run out under a statement */
        rc = lock_fence(r);
        if (rc && !lock_lost(r))
            rc = strata_set_error(STRATA_ELOCK,
                                  "the migration lock of %s could not be renewed for %.0f s "
                                  "(%s; then %s); stopped before its lease runs out",
                                  strata_conn_database(r->conn), age, why ? why : "no answer",
                                  strata_error_message());
    }
    free(why);
    return rc;
}

int lock_lost(const runner *r)
{
    struct lease *L = r->lease;
    if (!L)
        return 0;
    pthread_mutex_lock(&L->mu);
    int lost = L->lost;
    pthread_mutex_unlock(&L->mu);
    return lost;
}

char *lock_held_sql(const runner *r)
{
    char *t = strata_conn_quote_ident(r->conn, LOCK_TABLE);
    char *name = strata_conn_quote_literal(r->conn, MIGRATION_LOCK);
    char *owner = strata_conn_quote_literal(r->conn, r->run_id);
    char *s = xasprintf("EXISTS (SELECT 1 FROM %s WHERE name = %s AND owner = %s)", t, name, owner);
    free(t);
    free(name);
    free(owner);
    return s;
}

/* Free the row if it still names this run: on `conn`, else on the
 * heartbeat's connection (the run's may be the one that broke). */
static int row_free_mine(struct lease *L)
{
    strata_value v[] = {strata_vtext(MIGRATION_LOCK), strata_vtext(L->run_id)};
    int64_t affected = 0;
    int rc = lock_exec(L->conn, free_sql, v, 2, &affected);
    if (rc && L->hb)
        rc = lock_exec(L->hb, free_sql, v, 2, &affected);
    return rc;
}

void lock_release(runner *r)
{
    struct lease *L = r->lease;
    if (!L)
        return;
    int code = strata_error_code();
    char *msg = code ? xstrdup(strata_error_message()) : NULL;
    heartbeat_stop(L);
    int rc = 0;
    if (!L->lost)
        rc = row_free_mine(L);
    if (L->hb)
        strata_conn_close(L->hb);
    L->hb = NULL;
    if (L->beacon && conn_unlock(r->conn, MIGRATION_LOCK) != 0 && !rc)
        rc = -1;
    if (msg)
        strata_set_error(code, "%s", msg); /* the error that ended the command stays */
    else if (rc)
        strata_error_clear(); /* a lock left behind is taken over when found dead */
    free(msg);
    lease_free(L);
    r->lease = NULL;
}

/* ---- `lock status` and `lock release` ---- */

/*
 * What `lock status` and `lock release` see: the row (and whether its
 * holder is dead, and why), or, with the row free, a session holding the
 * session lock (a runner between the two, or a strata from before the lock
 * row). `probe`: this connection may take the session lock for a moment to
 * see whether the holder's session is gone.
 */
typedef struct lock_view {
    cluster_info ci;
    me_t me;
    lock_row row;
    char *dead; /* why the holder is dead (NULL: alive, or no holder) */
    int expired;
    char *session; /* who holds the session lock while the row is free */
} lock_view;

static void view_free(lock_view *v)
{
    row_free(&v->row);
    free(v->dead);
    free(v->session);
}

static int view_read(strata_conn *conn, lock_view *v)
{
    memset(v, 0, sizeof *v);
    int rc = conn_cluster_info(conn, &v->ci);
    if (rc)
        return rc;
    me_init(&v->me, &v->ci);
    int exists = 0;
    rc = conn_table_exists(conn, LOCK_TABLE, &exists);
    if (!rc && exists)
        rc = row_read(conn, &v->row);
    if (rc)
        return rc;
    if (!v->row.owner) {
        rc = conn_lock_holder(conn, MIGRATION_LOCK, &v->session);
        return rc;
    }
    /* the holder's session is gone if its session lock is free on its node */
    int beacon = 0;
    if (conn_has_trait(conn, DRIVER_SESSION_LOCK) && v->row.node &&
        strcmp(v->row.node, v->me.node) == 0) {
        lock_state st = LOCK_HELD;
        rc = conn_lock_try(conn, MIGRATION_LOCK, 0, &st);
        if (rc)
            return rc;
        if (st == LOCK_TAKEN) {
            beacon = 1;
            rc = conn_unlock(conn, MIGRATION_LOCK);
        }
    }
    holder_dead(&v->row, &v->me, beacon, &v->dead, &v->expired);
    return rc;
}

int strata_lock_status(strata_conn *conn, char **out)
{
    *out = NULL;
    lock_view v;
    int rc = view_read(conn, &v);
    if (rc) {
        view_free(&v);
        return strata_error_prefix("reading who holds the migration lock: ");
    }
    if (v.row.owner) {
        char *detail = holder_detail(&v.row);
        /* a dead holder blocks nobody: the lock is as good as free */
        *out = v.dead ? xasprintf("free: %s held it, but %s (the next run takes it over)", detail,
                                  v.dead)
                      : xasprintf("held by %s", detail);
        free(detail);
    } else if (v.session) {
        *out = conn_has_trait(conn, DRIVER_SESSION_LOCK)
                   ? xasprintf("held by %s (its session lock; the lock row is free)", v.session)
                   : xasprintf("held by %s", v.session);
    } else {
        *out = xstrdup("free");
    }
    view_free(&v);
    return 0;
}

/*
 * `lock release`: free the lock of a dead holder; a live holder's (its
 * lease renewed, its process or session alive) only with `force`, which
 * also ends the holder's database session where this connection can (the
 * same server or node), so that the statement it runs stops too. A holder
 * whose lock is released finds out at its next step and stops.
 */
static int lock_release_impl(strata_conn *conn, int force, char **out)
{
    *out = NULL;
    lock_view v;
    int rc = view_read(conn, &v);
    if (rc) {
        view_free(&v);
        return strata_error_prefix("reading who holds the migration lock: ");
    }
    const char *db = strata_conn_database(conn);
    if (!v.row.owner && !v.session) {
        *out = xstrdup("the migration lock is free; nothing to release");
    } else if (!v.row.owner) {
        /* a session lock without the row: a runner about to take the row,
         * or an older strata that knows only the session lock */
        if (!force) {
            rc = strata_set_error(STRATA_ELOCK,
                                  "the migration lock of %s is held by %s (its session lock); "
                                  "`strata lock release --force` ends that session",
                                  db, v.session);
        } else {
            char *who = NULL;
            rc = conn_lock_break(conn, MIGRATION_LOCK, &who);
            if (!rc)
                *out = xasprintf("released by force: ended the session that held the session "
                                 "lock (%s)",
                                 who ? who : v.session);
            free(who);
        }
    } else if (!v.dead && !force) {
        char *detail = holder_detail(&v.row);
        rc = strata_set_error(STRATA_ELOCK,
                              "the migration lock of %s is held by %s, which is alive; it is "
                              "released when that run ends. `strata lock release --force` "
                              "releases it anyway (that run then stops at its next step)",
                              db, detail);
        free(detail);
    } else {
        strata_value a[] = {strata_vtext(MIGRATION_LOCK), strata_vtext(v.row.owner)};
        int64_t affected = 0;
        rc = lock_exec(conn, free_sql, a, 2, &affected);
        char *who = holder_name(&v.row);
        char *ended = NULL;
        if (!rc && !v.dead && conn_has_trait(conn, DRIVER_SESSION_LOCK) && v.row.node &&
            strcmp(v.row.node, v.me.node) == 0) {
            rc = conn_lock_break(conn, MIGRATION_LOCK, &ended);
        }
        if (!rc && !affected)
            *out = xstrdup("the migration lock was released meanwhile; nothing to release");
        else if (!rc && v.dead)
            *out = xasprintf("released: %s held it, and %s", who, v.dead);
        else if (!rc)
            *out = xasprintf("released by force: %s held it%s%s%s; it stops at its next step", who,
                             ended ? " (ended its database session, " : "", ended ? ended : "",
                             ended ? ")" : "");
        free(ended);
        free(who);
    }
    view_free(&v);
    return rc;
}

int strata_lock_release(strata_conn *conn, char **out)
{
    return lock_release_impl(conn, 0, out);
}

int strata_lock_force_release(strata_conn *conn, char **out)
{
    return lock_release_impl(conn, 1, out);
}
