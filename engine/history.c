/*
 * history.c - the migration history: the table strata_migrations in the
 * target database, one row per applied (or half-applied) migration, read
 * into a `history` and written as migrations run.
 */
#include "runner.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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

int history_load(strata_conn *conn, history *h)
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

void utc_now(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
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

int history_insert(runner *r, const migration *m, const char *state, const char *dir,
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

int history_update(runner *r, const migration *m, const char *state, const char *dir,
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

int history_delete(runner *r, const char *id)
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
int history_state(runner *r, const char *id, char **state)
{
    char *t = qtable(r);
    char *q = xasprintf("SELECT state FROM %s WHERE id = ?", t);
    strata_value v = strata_vtext(id);
    int rc = strata_conn_query_string(r->conn, q, &v, 1, state);
    free(q);
    free(t);
    return rc;
}

int history_prepare(runner *r)
{
    int rc = strata_conn_exec(r->conn, history_table_sql(strata_conn_dialect(r->conn)));
    if (rc)
        return strata_error_prefix("creating the history table strata_migrations: ");
    history_free(&r->hist);
    return history_load(r->conn, &r->hist);
}

int history_set_checksum(runner *r, const char *id, const char *checksum)
{
    char *t = qtable(r);
    char *q = xasprintf("UPDATE %s SET checksum = ? WHERE id = ?", t);
    strata_value v[] = {strata_vtext(checksum), strata_vtext(id)};
    int rc = strata_conn_execp(r->conn, q, v, 2, NULL);
    free(q);
    free(t);
    if (rc)
        strata_error_prefix("realigning the checksum of %s: ", id);
    return rc;
}
