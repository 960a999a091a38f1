/*
 * exec.c - running compiled statements: plain SQL (with the clean-up some
 * statements carry for their failure), statements that run only when a
 * query finds a row, run-time assertions, and the part of SQLite's table
 * rebuild that depends on the database's contents: saving, dropping and
 * recreating the views and triggers that mention the table (and indexes
 * the model does not know, made by raw SQL).
 */
#include "exec.h"

#include <stdlib.h>
#include <string.h>

void exec_state_free(exec_state *st)
{
    strvec_free(&st->saved);
}

/* Is this error "the object does not exist"? (MySQL 1051, 1091, 1146, PG 42704/42P01) */
static int is_missing_error(const char *msg)
{
    return strstr(msg, "ERROR 1091") || strstr(msg, "ERROR 1146") ||
           strstr(msg, "ERROR 1051") /* DROP TABLE: unknown table */ || strstr(msg, "42704") ||
           strstr(msg, "42P01") || strstr(msg, "does not exist") || strstr(msg, "no such");
}

/* Before SQLite's rebuild of s->table: save the triggers and views that
 * mention it and its indexes the model does not know (made by raw SQL),
 * then drop the triggers and views; the indexes go with the old table.
 * restore_deps() recreates all of them after the rebuild. */
static int save_deps(strata_conn *conn, const stmt *s, exec_state *st)
{
    strata_value args[3] = {strata_vtext(s->table), strata_vtext(s->table), strata_vtext(s->table)};
    strata_rows *rows;
    int rc = strata_conn_query(
        conn,
        "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND ("
        "(type = 'trigger' AND (tbl_name = ? OR instr(lower(sql), lower(?)) > 0)) OR "
        "(type = 'view' AND instr(lower(sql), lower(?)) > 0) OR "
        "(type = 'index' AND tbl_name = ?1)) ORDER BY rowid",
        args, 3, &rows);
    if (rc)
        return strata_error_prefix("saving the views and triggers of '%s': ", s->table);
    strvec drops = STRVEC_INIT;
    while ((rc = strata_rows_next(rows)) == 1) {
        const char *type = strata_rows_text(rows, 0), *name = strata_rows_text(rows, 1);
        const char *sql = strata_rows_text(rows, 2);
        if (strcmp(type, "index") == 0) {
            if (strvec_find(&s->model_indexes, name) >= 0)
                continue;
        } else {
            char *q = strata_quote_ident(STRATA_SQLITE, name);
            strvec_pushf(&drops, "DROP %s IF EXISTS %s",
                         strcmp(type, "view") == 0 ? "VIEW" : "TRIGGER", q);
            free(q);
        }
        strvec_push(&st->saved, sql);
    }
    strata_rows_free(rows);
    /* drop views in reverse order, so a view is dropped before those it uses */
    for (size_t i = drops.n; rc == 0 && i-- > 0;)
        rc = strata_conn_exec(conn, drops.v[i]);
    strvec_free(&drops);
    return rc < 0 ? rc : 0;
}

static int restore_deps(strata_conn *conn, const stmt *s, exec_state *st)
{
    int rc = 0;
    for (size_t i = 0; i < st->saved.n && !rc; i++) {
        rc = strata_conn_exec(conn, st->saved.v[i]);
        if (rc)
            strata_error_prefix("recreating after the rebuild of '%s': %s: ", s->table,
                                st->saved.v[i]);
    }
    strvec_free(&st->saved);
    return rc;
}

/* Does `query` return a row? *has gets 1 or 0; an error is returned as is. */
static int query_has_row(strata_conn *conn, const char *query, int *has)
{
    strata_rows *rows;
    int rc = strata_conn_query(conn, query, NULL, 0, &rows);
    if (rc)
        return strata_error_prefix("SQL: %s: ", query);
    int next = strata_rows_next(rows);
    strata_rows_free(rows);
    if (next < 0)
        return next;
    *has = next == 1;
    return 0;
}

/* A statement failed: run its clean-up (when its guard, if any, returns a
 * row), keeping the statement's own error whatever the clean-up does. */
static void run_cleanup(strata_conn *conn, const stmt *s)
{
    char *msg = xstrdup(strata_error_message());
    int code = strata_error_code();
    int has = 1;
    if (!s->cleanup_guard || query_has_row(conn, s->cleanup_guard, &has) == 0) {
        if (has)
            strata_conn_exec(conn, s->cleanup);
    }
    strata_set_error(code, "%s", msg);
    free(msg);
}

/* After a failure at statement `from - 1`: the STMT_CLEANUP statements
 * after it still run (restoring a session setting), keeping the error. */
static void run_cleanup_after(strata_conn *conn, const stmt_list *l, size_t from)
{
    for (size_t i = from; i < l->n; i++) {
        if (!(l->v[i].flags & STMT_CLEANUP) || l->v[i].kind != STMT_SQL)
            continue;
        char *msg = xstrdup(strata_error_message());
        int code = strata_error_code();
        strata_conn_exec(conn, l->v[i].sql);
        strata_set_error(code, "%s", msg);
        free(msg);
    }
}

/* See exec.h. With st->best_effort every statement runs and the first error
 * is returned; otherwise the first error stops the list. `st` carries the
 * saved dependents from a SAVE to its RESTORE (it may be NULL for lists
 * without SQLite rebuilds). */
int exec_stmts(strata_conn *conn, const stmt_list *l, exec_state *st, size_t *failed)
{
    int first_rc = 0;
    for (size_t i = 0; i < l->n; i++) {
        const stmt *s = &l->v[i];
        int rc = st && st->guard ? st->guard(st->guard_arg) : 0;
        if (rc) {
            if (failed && !first_rc)
                *failed = i;
            run_cleanup_after(conn, l, i);
            return rc;
        }
        switch (s->kind) {
        case STMT_SQL:
            rc = strata_conn_exec(conn, s->sql);
            if (rc && (s->flags & STMT_IGNORE_MISSING) &&
                is_missing_error(strata_error_message())) {
                strata_error_clear();
                rc = 0;
            }
            if (rc)
                strata_error_prefix("SQL: %s: ", s->sql);
            if (rc && s->cleanup)
                run_cleanup(conn, s);
            break;
        case STMT_SQL_IF_ROW: {
            int has = 0;
            rc = query_has_row(conn, s->guard, &has);
            if (!rc && has) {
                rc = strata_conn_exec(conn, s->sql);
                if (rc)
                    strata_error_prefix("SQL: %s: ", s->sql);
            }
            break;
        }
        case STMT_ASSERT_EMPTY: {
            strata_rows *rows;
            rc = strata_conn_query(conn, s->sql, NULL, 0, &rows);
            if (!rc) {
                int has = strata_rows_next(rows);
                if (has == 1 && (s->flags & STMT_SHOW_ROW)) {
                    sbuf b = SBUF_INIT;
                    for (size_t k = 0; k < strata_rows_ncols(rows); k++) {
                        const char *v = strata_rows_text(rows, k);
                        sbuf_addf(&b, "%s%s = %s", k ? ", " : "", strata_rows_colname(rows, k),
                                  v ? v : "NULL");
                    }
                    rc = strata_set_error(STRATA_EDB, "%s (the first: %s)", s->message,
                                          sbuf_str(&b));
                    sbuf_free(&b);
                } else if (has == 1) {
                    rc = strata_set_error(STRATA_EDB, "%s", s->message);
                } else if (has < 0) {
                    rc = has;
                }
                strata_rows_free(rows);
            } else {
                strata_error_prefix("SQL: %s: ", s->sql);
            }
            break;
        }
        case STMT_SQLITE_SAVE_DEPS:
            rc = save_deps(conn, s, st);
            break;
        case STMT_SQLITE_RESTORE_DEPS:
            rc = restore_deps(conn, s, st);
            break;
        }
        if (rc) {
            if (failed && !first_rc)
                *failed = i;
            if (!st || !st->best_effort) {
                run_cleanup_after(conn, l, i + 1);
                return rc;
            }
            if (!first_rc)
                first_rc = rc;
        }
    }
    return first_rc;
}

compile_target compile_target_for(const strata_conn *conn)
{
    compile_target t;
    memset(&t, 0, sizeof t);
    t.dialect = strata_conn_dialect(conn);
    t.version = strata_conn_server_version_num(conn);
    t.is_mariadb = strata_conn_is_mariadb(conn);
    t.caps = strata_conn_caps(conn);
    return t;
}

void compile_target_read_collation(strata_conn *conn, compile_target *tg)
{
    if (tg->dialect != STRATA_MYSQL)
        return;
    char *coll = NULL;
    if (strata_conn_query_string(conn,
                                 "SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE "
                                 "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'strata_migrations'",
                                 NULL, 0, &coll) != 0)
        strata_error_clear(); /* nothing known: the target stays as it is */
    tg->pad_space = coll && strcmp(coll, "utf8mb4_bin") == 0;
    free(coll);
}
