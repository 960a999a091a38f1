/*
 * lock.c - the migration lock: one runner at a time per database.
 *
 * A runner holds the lock for its whole command, from before it reads the
 * history until it is done, so two runners never apply a migration twice.
 * The lock is a session lock of the driver (driver.h: a PostgreSQL advisory
 * lock, MySQL GET_LOCK, an flock() beside a SQLite database), which the
 * database drops when its holder dies: a killed runner never leaves it
 * behind. This is the engine's side of it: waiting up to --lock-timeout and
 * saying who is in the way, and the `lock status` and `lock release`
 * commands.
 */
#include "runner.h"

#include <stdlib.h>
#include <unistd.h>

/* The lock's name; drivers make it the database's own ("strata:<db>"). */
#define MIGRATION_LOCK "strata"

/* How often to try again where the database cannot wait by itself. */
#define LOCK_POLL_SECONDS 0.1

/* Who holds the lock, for a message (NULL when unknown): a failed lookup
 * only costs the message its detail; a broken connection shows in the next
 * try. */
static char *lock_who(strata_conn *conn)
{
    char *who = NULL;
    if (conn_lock_holder(conn, MIGRATION_LOCK, &who) != 0)
        strata_error_clear();
    return who;
}

static void say_waiting(runner *r, lock_state state)
{
    if (state == LOCK_BUSY) {
        say(r, "waiting for the migration lock: another process is writing to %s",
            strata_conn_database(r->conn));
        return;
    }
    char *who = lock_who(r->conn);
    say(r, "waiting for the migration lock, held by %s", who ? who : "another session");
    free(who);
}

/* The error for giving up after `timeout` seconds; `busy` holds the
 * database's words when a writer was in the way (LOCK_BUSY). */
static int lock_gave_up(runner *r, lock_state state, const char *busy, double timeout)
{
    strata_conn *conn = r->conn;
    if (state == LOCK_BUSY)
        return strata_set_error(STRATA_ELOCK,
                                "the migration lock of %s is held by another process writing to it "
                                "(%s); gave up after %.0f s (--lock-timeout)",
                                strata_conn_database(conn), busy, timeout);
    char *label = conn_lock_label(conn, MIGRATION_LOCK);
    char *who = lock_who(conn);
    int e = strata_set_error(STRATA_ELOCK,
                             "the migration lock %s is held by %s; gave up after %.0f s "
                             "(--lock-timeout)",
                             label, who ? who : "another session", timeout);
    free(who);
    free(label);
    return e;
}

/*
 * Take the migration lock, waiting up to --lock-timeout seconds. The first
 * time it has to wait it says why: who holds the lock, or (SQLite) that
 * another process is writing to the database, which the runner waits for
 * too. Where the database can wait by itself (MySQL's GET_LOCK, SQLite's
 * busy timeout) it waits for what is left of the timeout; elsewhere the lock
 * is tried again every LOCK_POLL_SECONDS. Once the lock is taken, the
 * runner's statements wait as long for other sessions' locks where the
 * driver lets them (SQLite).
 */
int lock_acquire(runner *r)
{
    strata_conn *conn = r->conn;
    double timeout = r->opt->lock_timeout > 0 ? r->opt->lock_timeout : 0;
    double start = now_seconds(), wait = 0;
    int warned = 0, partly = 0;
    char *busy = NULL;
    lock_state state;
    int rc;
    while ((rc = conn_lock_try(conn, MIGRATION_LOCK, wait, &state)) == 0 && state != LOCK_TAKEN) {
        if (state == LOCK_BUSY) {
            /* taken, but a writer is in the way: keep its words */
            partly = 1;
            free(busy);
            busy = xstrdup(strata_error_message());
            strata_error_clear();
        }
        if (!warned) {
            say_waiting(r, state);
            warned = 1;
        }
        double left = timeout - (now_seconds() - start);
        if (left <= 0) {
            rc = lock_gave_up(r, state, busy, timeout);
            break;
        }
        double pause = left < LOCK_POLL_SECONDS ? left : LOCK_POLL_SECONDS;
        usleep((useconds_t)(pause * 1e6));
        wait = left - pause;
    }
    free(busy);
    if (!rc)
        rc = conn_set_lock_wait(conn, timeout);
    if (!rc) {
        r->locked = 1;
        return 0;
    }
    if (partly || state == LOCK_TAKEN) {
        char *msg = xstrdup(strata_error_message());
        conn_unlock(conn, MIGRATION_LOCK);
        strata_set_error(rc, "%s", msg);
        free(msg);
    }
    return rc;
}

void lock_release(runner *r)
{
    if (!r->locked)
        return;
    int code = strata_error_code();
    char *msg = code ? xstrdup(strata_error_message()) : NULL;
    if (conn_unlock(r->conn, MIGRATION_LOCK) != 0 && msg)
        strata_set_error(code, "%s", msg); /* the error that ended the command stays */
    free(msg);
    r->locked = 0;
}

int strata_lock_status(strata_conn *conn, char **out)
{
    *out = NULL;
    char *who = NULL;
    int rc = conn_lock_holder(conn, MIGRATION_LOCK, &who);
    if (rc)
        return strata_error_prefix("reading who holds the migration lock: ");
    *out = who ? xasprintf("held by %s", who) : xstrdup("free");
    free(who);
    return 0;
}

int strata_lock_release(strata_conn *conn, char **out)
{
    *out = NULL;
    char *who = NULL;
    int rc = conn_lock_break(conn, MIGRATION_LOCK, &who);
    if (rc == STRATA_ELOCK && who) {
        /* the lock dies only with its holder; the driver says how */
        char *how = xstrdup(strata_error_message());
        rc = strata_set_error(STRATA_ELOCK, "the migration lock of %s is held by %s; %s",
                              strata_conn_database(conn), who, how);
        free(how);
    } else if (!rc) {
        *out = who ? xasprintf("released: ended the session that held it (%s)", who)
                   : xstrdup("the migration lock is free; nothing to release");
    }
    free(who);
    return rc;
}
