/*
 * history.c - the migration history: the table strata_migrations in the
 * target database, one row per applied (or half-applied) migration, read
 * into a `history` and written as migrations run.
 *
 * The table is an ordinary create_table operation of the migration format
 * (history_table below), compiled by the connection's dialect like any
 * migration, so it has the same columns and keys on every database. Rows
 * are written with bound parameters on all of them. With --history-compat,
 * each write that makes a migration applied or removes it also writes the
 * other tool's history row, in the same transaction (compat.c).
 */
#include "history.h"
#include "runner.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The history table, as a migration. id is the file stem
 * "<version>_<name>"; state is applied, running or partial; direction is
 * up or down; applied_at is UTC "YYYY-MM-DD HH:MM:SS"; run_id tells the
 * command that wrote the row. */
static const char history_table[] =
    "{\"up\": [{\"op\": \"create_table\", \"table\": \"strata_migrations\", "
    "\"if_not_exists\": true, \"columns\": ["
    "{\"name\": \"id\", \"type\": \"string\", \"length\": 255, \"primary_key\": true}, "
    "{\"name\": \"version\", \"type\": \"string\", \"length\": 20, \"nullable\": false}, "
    "{\"name\": \"name\", \"type\": \"string\", \"length\": 255, \"nullable\": false}, "
    "{\"name\": \"checksum\", \"type\": \"string\", \"length\": 64, \"nullable\": false}, "
    "{\"name\": \"state\", \"type\": \"string\", \"length\": 16, \"nullable\": false}, "
    "{\"name\": \"direction\", \"type\": \"string\", \"length\": 8, \"nullable\": false, "
    "\"default\": \"up\"}, "
    "{\"name\": \"ops_applied\", \"type\": \"integer\", \"nullable\": false, \"default\": 0}, "
    "{\"name\": \"ops_total\", \"type\": \"integer\", \"nullable\": false, \"default\": 0}, "
    "{\"name\": \"applied_at\", \"type\": \"string\", \"length\": 32, \"nullable\": false}, "
    "{\"name\": \"duration_ms\", \"type\": \"bigint\", \"nullable\": false, \"default\": 0}, "
    "{\"name\": \"run_id\", \"type\": \"string\", \"length\": 64, \"nullable\": false}]}]}";

#define HISTORY_TABLE "strata_migrations"

void history_free(history *h)
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
        free(r->run_id);
    }
    free(h->v);
    memset(h, 0, sizeof *h);
}

hist_row *history_find(const history *h, const char *id)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->v[i].id, id) == 0)
            return &h->v[i];
    return NULL;
}

void utc_now(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Make table `name` unless it exists: `json`, a migration of one
 * create_table operation, compiled for the connection's target, its
 * statements run as they come. `what` names it in errors. The existence
 * check first keeps a cluster from running DDL (under Galera's TOI, a pause
 * of every node) for a table that is there. */
int meta_table_ensure(strata_conn *conn, const char *name, const char *json)
{
    int exists = 0;
    int rc = conn_table_exists(conn, name, &exists);
    if (rc || exists)
        return rc;
    compile_target tg = compile_target_for(conn);
    migration *m = NULL;
    char *stem = xasprintf("0_%s", name);
    rc = migration_parse(name, stem, json, &m);
    free(stem);
    stmt_list *per = NULL;
    if (!rc) {
        schema s;
        schema_init(&s);
        model_begin_migration(&s, 0);
        per = xcalloc(m->up.n + 1, sizeof *per);
        rc = compile_ops(&tg, &s, m, &m->up, per, NULL);
        schema_free(&s);
    }
    for (size_t j = 0; !rc && j < m->up.n; j++)
        for (size_t k = 0; !rc && k < per[j].n; k++) {
            const stmt *st = &per[j].v[k];
            rc = st->kind == STMT_SQL ? strata_conn_exec(conn, st->sql)
                                      : strata_set_error(STRATA_ESTATE, "not plain SQL: %s",
                                                         st->sql ? st->sql : "?");
        }
    for (size_t j = 0; per && j < m->up.n; j++)
        stmt_list_free(&per[j]);
    free(per);
    migration_free(m);
    if (rc)
        strata_error_prefix("creating the table %s: ", name);
    return rc;
}

static char *dup_text(strata_rows *rows, size_t i)
{
    const char *t = strata_rows_text(rows, i);
    return t ? xstrdup(t) : NULL;
}

/* Read every row of the history; no table is an empty history. */
int history_load(strata_conn *conn, history *h)
{
    memset(h, 0, sizeof *h);
    int rc = conn_table_exists(conn, HISTORY_TABLE, &h->exists);
    if (rc || !h->exists)
        return rc;
    strata_rows *rows;
    char *t = strata_conn_quote_ident(conn, HISTORY_TABLE);
    char *q = xasprintf("SELECT id, version, name, checksum, state, direction, ops_applied, "
                        "ops_total, applied_at, duration_ms, run_id FROM %s",
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
        r->run_id = dup_text(rows, 10);
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

int history_prepare(runner *r)
{
    int rc = meta_table_ensure(r->conn, HISTORY_TABLE, history_table);
    if (rc)
        return rc;
    history_free(&r->hist);
    return history_load(r->conn, &r->hist);
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

/*
 * Every write to the history is fenced: it takes effect only while this run
 * holds the migration lock (lock_held_sql), and an update or delete only on
 * a row that is still what this run last knew of it (its run_id). A write
 * that finds neither (no row affected) means another run took the lock
 * over: the run stops at once (lock_fenced_out), before it changes
 * anything else.
 */

/* Run a statement on the history table: `sql` names it as the first %s and
 * the lock condition as the second, and takes the n values as `?`
 * parameters; fewer rows than one affected is the fence closing. */
static int history_exec(runner *r, const char *sql, const strata_value *v, size_t n,
                        const char *what)
{
    char *t = strata_conn_quote_ident(r->conn, HISTORY_TABLE);
    char *held = lock_held_sql(r);
    char *q = xasprintf(sql, t, held);
    int64_t affected = 0;
    int rc = strata_conn_execp(r->conn, q, v, n, &affected);
    free(q);
    free(held);
    free(t);
    if (!rc && affected < 1)
        rc = lock_fenced_out(r, what);
    return rc;
}

/* The run that wrote row `id` last, as far as this run knows: the one the
 * history said when it was read, until this run writes the row itself. */
static hist_row *known_row(runner *r, const char *id)
{
    return history_find(&r->hist, id);
}

static const char *known_run(runner *r, const char *id)
{
    hist_row *h = known_row(r, id);
    return h && h->run_id ? h->run_id : r->run_id;
}

/* After a write, the row is this run's. */
static void now_ours(runner *r, const char *id)
{
    hist_row *h = known_row(r, id);
    if (h && (!h->run_id || strcmp(h->run_id, r->run_id) != 0)) {
        free(h->run_id);
        h->run_id = xstrdup(r->run_id);
    }
}

int history_insert(runner *r, const migration *m, const char *state, const char *dir,
                   int ops_applied, int ops_total, long long duration_ms)
{
    char at[32];
    utc_now(at);
    strata_value v[] = {strata_vtext(m->id),       strata_vtext(m->version), strata_vtext(m->name),
                        strata_vtext(m->checksum), strata_vtext(state),      strata_vtext(dir),
                        strata_vint(ops_applied),  strata_vint(ops_total),   strata_vtext(at),
                        strata_vint(duration_ms),  strata_vtext(r->run_id)};
    int began = compat_begin(r, state, dir);
    char *what = xasprintf("writing the history row of %s", m->id);
    int rc = history_exec(r,
                          "INSERT INTO %s (id, version, name, checksum, state, direction, "
                          "ops_applied, ops_total, applied_at, duration_ms, run_id) SELECT ?, ?, "
                          "?, ?, ?, ?, ?, ?, ?, ?, ? WHERE %s",
                          v, 11, what);
    free(what);
    if (rc)
        strata_error_prefix("recording migration %s in the history: ", m->id);
    return compat_end(r, m->id, state, dir, began, rc);
}

int history_update(runner *r, const migration *m, const char *state, const char *dir,
                   int ops_applied, long long duration_ms)
{
    char at[32];
    utc_now(at);
    strata_value v[] = {
        strata_vtext(state),     strata_vtext(dir),        strata_vint(ops_applied),
        strata_vtext(at),        strata_vint(duration_ms), strata_vtext(m->checksum),
        strata_vtext(r->run_id), strata_vtext(m->id),      strata_vtext(known_run(r, m->id))};
    int began = compat_begin(r, state, dir);
    char *what = xasprintf("updating the history row of %s", m->id);
    int rc =
        history_exec(r,
                     "UPDATE %s SET state = ?, direction = ?, ops_applied = ?, applied_at = ?, "
                     "duration_ms = ?, checksum = ?, run_id = ? WHERE id = ? AND run_id = ? "
                     "AND %s",
                     v, 9, what);
    free(what);
    if (rc)
        strata_error_prefix("recording migration %s in the history: ", m->id);
    else
        now_ours(r, m->id);
    return compat_end(r, m->id, state, dir, began, rc);
}

int history_adopt(runner *r, hist_row *h)
{
    if (h->run_id && strcmp(h->run_id, r->run_id) == 0)
        return 0;
    strata_value v[] = {strata_vtext(r->run_id), strata_vtext(h->id),
                        strata_vtext(h->run_id ? h->run_id : "")};
    char *what = xasprintf("taking over the history row of %s", h->id);
    int rc =
        history_exec(r, "UPDATE %s SET run_id = ? WHERE id = ? AND run_id = ? AND %s", v, 3, what);
    free(what);
    if (rc)
        return strata_error_prefix("recovering migration %s: ", h->id);
    free(h->run_id);
    h->run_id = xstrdup(r->run_id);
    return 0;
}

int history_delete(runner *r, const char *id)
{
    strata_value v[] = {strata_vtext(id), strata_vtext(known_run(r, id))};
    int began = compat_begin(r, NULL, NULL);
    char *what = xasprintf("removing the history row of %s", id);
    int rc = history_exec(r, "DELETE FROM %s WHERE id = ? AND run_id = ? AND %s", v, 2, what);
    free(what);
    if (rc)
        strata_error_prefix("removing migration %s from the history: ", id);
    return compat_end(r, id, NULL, NULL, began, rc);
}

int history_set_checksum(runner *r, const char *id, const char *checksum)
{
    strata_value v[] = {strata_vtext(checksum), strata_vtext(id)};
    char *what = xasprintf("realigning the checksum of %s", id);
    int rc = history_exec(r, "UPDATE %s SET checksum = ? WHERE id = ? AND %s", v, 2, what);
    free(what);
    if (rc)
        strata_error_prefix("realigning the checksum of %s: ", id);
    return rc;
}

int history_state(runner *r, const char *id, char **state)
{
    char *t = strata_conn_quote_ident(r->conn, HISTORY_TABLE);
    char *q = xasprintf("SELECT state FROM %s WHERE id = ?", t);
    strata_value v = strata_vtext(id);
    int rc = strata_conn_query_string(r->conn, q, &v, 1, state);
    free(q);
    free(t);
    return rc;
}
