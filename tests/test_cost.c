/*
 * test_cost.c - what dialects/cost.c says an operation costs is what the
 * database does, on the real servers.
 *
 * Every operation of tests/cost/ (each form of each operation, on tables
 * that hold rows) and of the shipped Medusa migrations is compiled for the
 * connected database, its cost estimated, and then run:
 *  - MySQL/MariaDB: each ALTER TABLE and CREATE INDEX runs with
 *    ALGORITHM=INSTANT, then NOCOPY, INPLACE, COPY - the first the server
 *    accepts is the one it needed, and it must be the one predicted; where
 *    writes are predicted to go on, LOCK=NONE must be accepted too;
 *  - PostgreSQL: the tables whose relfilenode changed are the ones it
 *    rewrote, and they must be those predicted to be rewritten;
 *  - SQLite: the tables whose root page changed were rebuilt, and they must
 *    be those predicted to be rebuilt.
 * `migrations plan`, made on the fresh database before, must name exactly
 * the operations the database then copied (MySQL), rewrote (PostgreSQL) or
 * rebuilt (SQLite).
 * Set STRATA_TEST_VERBOSE=1 to see every costly operation (docs/medusa.md
 * lists the Medusa ones from this).
 */
#include "cost.h"
#include "exec.h"
#include "migration.h"
#include "opwalk.h"
#include "testutil.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct verify_ctx {
    strata_conn *conn;
    strvec mismatches;
    int verbose;
    size_t ops, checked;
    const strata_plan *plan; /* `migrations plan` of the fresh database, made before */
    size_t heavy;            /* ops that copied (MySQL), rewrote (PostgreSQL), rebuilt (SQLite) */
} verify_ctx;

/* The plan's entry for op `path` of migration `id`. */
static const strata_plan_op *plan_op(const strata_plan *p, const char *id, const char *path)
{
    for (size_t i = 0; p && i < p->n; i++)
        if (strcmp(p->ops[i].migration, id) == 0 && strcmp(p->ops[i].path, path) == 0)
            return &p->ops[i];
    return NULL;
}

/* Name -> storage id (PostgreSQL relfilenode, SQLite root page) of every
 * table, as "name\tid" lines in a vector. */
static void storage_ids(strata_conn *conn, strvec *out)
{
    const char *q = strata_conn_dialect(conn) == STRATA_POSTGRES
                        ? "SELECT relname, relfilenode FROM pg_class WHERE relkind = 'r' AND "
                          "relnamespace = current_schema()::regnamespace ORDER BY relname"
                        : "SELECT name, rootpage FROM sqlite_schema WHERE type = 'table' ORDER "
                          "BY name";
    strata_rows *rows;
    if (strata_conn_query(conn, q, NULL, 0, &rows) != 0)
        return;
    while (strata_rows_next(rows) == 1)
        strvec_pushf(out, "%s\t%s", strata_rows_text(rows, 0), strata_rows_text(rows, 1));
    strata_rows_free(rows);
}

/* The tables present in both snapshots whose storage id changed. */
static void changed_tables(const strvec *before, const strvec *after, strvec *out)
{
    for (size_t i = 0; i < after->n; i++) {
        const char *tab = strchr(after->v[i], '\t');
        size_t len = (size_t)(tab - after->v[i]);
        for (size_t k = 0; k < before->n; k++)
            if (strncmp(before->v[k], after->v[i], len + 1) == 0 &&
                strcmp(before->v[k], after->v[i]) != 0)
                strvec_push_owned(out, strndup(after->v[i], len));
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *joined(strvec *v)
{
    if (v->n)
        qsort(v->v, v->n, sizeof *v->v, cmp_str);
    sbuf b = SBUF_INIT;
    for (size_t i = 0; i < v->n; i++)
        sbuf_addf(&b, "%s%s", i ? "," : "", v->v[i]);
    return sbuf_detach(&b);
}

/* `sql` without the ALGORITHM/LOCK the compiler put at its end (online). */
static char *strip_algorithm(const char *sql)
{
    char *s = strdup(sql);
    char *p = strstr(s, ", ALGORITHM=");
    if (!p)
        p = strstr(s, " ALGORITHM=");
    if (p)
        *p = '\0';
    return s;
}

/* Run an ALTER TABLE / CREATE INDEX with the cheapest algorithm the server
 * accepts (with LOCK=NONE when `lock_none`); returns it, MY_ALG_NONE when
 * none was accepted. */
static my_algorithm run_cheapest(strata_conn *conn, const char *sql, int lock_none)
{
    char *base = strip_algorithm(sql);
    int create = strncmp(base, "CREATE", 6) == 0;
    my_algorithm got = MY_ALG_NONE;
    for (int a = MY_ALG_INSTANT; a <= MY_ALG_COPY && got == MY_ALG_NONE; a++) {
        char *q = NULL;
        if (asprintf(&q, "%s%sALGORITHM=%s%s", base, create ? " " : ", ",
                     my_algorithm_name((my_algorithm)a),
                     lock_none ? (create ? " LOCK=NONE" : ", LOCK=NONE") : "") < 0)
            break;
        if (strata_conn_exec(conn, q) == 0)
            got = (my_algorithm)a;
        free(q);
    }
    strata_error_clear();
    free(base);
    return got;
}

/* Run statement k of the step on its own (sharing `st` with the others). */
static int run_one(strata_conn *conn, const op_step *s, size_t k, exec_state *st)
{
    stmt_list one = {&s->stmts->v[k], 1, 1};
    return exec_stmts(conn, &one, st, NULL);
}

/* A value of column c's type, as a literal, for the rows the MySQL check
 * puts into every table: the same value for every column of a type, so the
 * row of a table references the row of every table it has a key to. */
static char *sample_value(strata_conn *conn, const schema *s, const column *c)
{
    const char *v;
    switch (c->type.kind) {
    case TY_SERIAL:
    case TY_BIGSERIAL:
    case TY_SMALLINT:
    case TY_INTEGER:
    case TY_BIGINT:
    case TY_DECIMAL:
    case TY_REAL:
    case TY_DOUBLE:
        return strdup("12345");
    case TY_BOOLEAN:
        return strdup("1");
    case TY_UUID:
        v = "00000000-0000-4000-8000-000000000000";
        break;
    case TY_DATE:
        v = "2020-01-01";
        break;
    case TY_TIME:
        v = "00:00:00";
        break;
    case TY_TIMESTAMP:
    case TY_TIMESTAMPTZ:
        v = "2020-01-01 00:00:00";
        break;
    case TY_JSON:
    case TY_JSONB:
        v = "{}";
        break;
    case TY_ENUM: {
        const strvec *vals = column_enum_values(s, c);
        v = vals && vals->n ? vals->v[0] : "";
        break;
    }
    default:
        v = "x";
        break;
    }
    return strata_conn_quote_literal(conn, v);
}

/* MariaDB picks cheaper algorithms for empty tables (an index on an empty
 * table is instant), so on MySQL every table gets a row as soon as it is
 * created, and every column a value as soon as it is added (except where
 * a unique index would refuse the same value twice): the algorithms are
 * then those of a database in use. Keys and checks are off for these. */
static void fill_rows(strata_conn *conn, const schema *s, const table *t, const column *added)
{
    char *qt = strata_conn_quote_ident(conn, t->name);
    strata_conn_exec(conn, "SET SESSION foreign_key_checks = 0, check_constraint_checks = 0");
    sbuf b = SBUF_INIT;
    if (!added) {
        sbuf cols = SBUF_INIT, vals = SBUF_INIT;
        for (size_t i = 0; i < t->ncols; i++) {
            char *v = sample_value(conn, s, &t->cols[i]);
            char *qc = strata_conn_quote_ident(conn, t->cols[i].name);
            sbuf_addf(&cols, "%s%s", cols.len ? ", " : "", qc);
            sbuf_addf(&vals, "%s%s", vals.len ? ", " : "", v);
            free(qc);
            free(v);
        }
        sbuf_addf(&b, "INSERT INTO %s (%s) VALUES (%s)", qt, sbuf_str(&cols), sbuf_str(&vals));
        sbuf_free(&cols);
        sbuf_free(&vals);
    } else {
        int unique = 0;
        for (size_t i = 0; i < t->nidx; i++)
            unique |= t->idx[i].unique && index_uses_column(&t->idx[i], added->name);
        char *v = sample_value(conn, s, added);
        char *qc = strata_conn_quote_ident(conn, added->name);
        if (!unique)
            sbuf_addf(&b, "UPDATE %s SET %s = %s WHERE %s IS NULL", qt, qc, v, qc);
        free(qc);
        free(v);
    }
    if (b.len && strata_conn_exec(conn, sbuf_str(&b)) != 0)
        fprintf(stderr, "\n  filling %s: %s\n", t->name, strata_error_message());
    strata_error_clear();
    strata_conn_exec(conn, "SET SESSION foreign_key_checks = 1, check_constraint_checks = 1");
    sbuf_free(&b);
    free(qt);
}

/* After a CREATE TABLE statement ran: give the new table its row. */
static void fill_created(strata_conn *conn, const op_step *s, const char *sql)
{
    if (strncmp(sql, "CREATE TABLE ", 13) != 0)
        return;
    const char *p = sql + 13;
    if (strncmp(p, "IF NOT EXISTS ", 14) == 0)
        p += 14;
    if (*p++ != '`')
        return;
    const char *e = strchr(p, '`');
    char *name = e ? strndup(p, (size_t)(e - p)) : NULL;
    const table *t = name ? schema_table(s->after, name) : NULL;
    if (t)
        fill_rows(conn, s->after, t, NULL);
    free(name);
}

/* A statement that failed on a duplicate the filled-in rows made (a raw
 * INSERT ... SELECT copied them into a link table): those rows go. */
static int drop_filled_duplicates(strata_conn *conn, const op_step *s, const char *sql)
{
    const char *p = strncmp(sql, "ALTER TABLE `", 13) == 0   ? sql + 13
                    : strncmp(sql, "INSERT INTO `", 13) == 0 ? sql + 13
                    : strstr(sql, " ON `")                   ? strstr(sql, " ON `") + 5
                                                             : NULL;
    const char *e = p ? strchr(p, '`') : NULL;
    char *name = e ? strndup(p, (size_t)(e - p)) : NULL;
    const table *t = name ? schema_table(s->after, name) : NULL;
    free(name);
    if (!t)
        return -1;
    sbuf b = SBUF_INIT;
    char *qt = strata_conn_quote_ident(conn, t->name);
    sbuf_addf(&b, "DELETE FROM %s WHERE 1 = 1", qt);
    for (size_t i = 0; i < t->ncols; i++) {
        if (t->cols[i].nullable)
            continue;
        char *qc = strata_conn_quote_ident(conn, t->cols[i].name);
        char *v = sample_value(conn, s->after, &t->cols[i]);
        sbuf_addf(&b, " AND %s = %s", qc, v);
        free(qc);
        free(v);
    }
    int rc = strata_conn_exec(conn, sbuf_str(&b));
    sbuf_free(&b);
    free(qt);
    return rc;
}

static void mismatch(verify_ctx *x, const op_step *s, const char *fmt, const char *a, const char *b)
{
    char *what = NULL;
    if (asprintf(&what, fmt, a, b) < 0)
        return;
    strvec_pushf(&x->mismatches, "%s %s (%s): %s", s->m->id, s->o->path, op_names[s->o->kind],
                 what);
    free(what);
}

/* `migrations plan` named the op as copied / rewritten / rebuilt exactly
 * when the database did that. */
static void check_plan(verify_ctx *x, const op_step *s, int did, strata_cost heavy)
{
    const strata_plan_op *po = plan_op(x->plan, s->m->id, s->o->path);
    x->heavy += did;
    if (!po) {
        mismatch(x, s, "%s%s", "the plan has no entry for it", "");
        return;
    }
    if ((po->cost == heavy) != did)
        mismatch(x, s, "the plan says %s, the database %s", strata_cost_name(po->cost),
                 did ? strata_cost_name(heavy) : "did not");
}

static int verify_mysql(verify_ctx *x, const op_step *s, const op_cost *c)
{
    int copied = 0;
    exec_state st = {STRVEC_INIT, 0, NULL, NULL};
    int rc = 0;
    for (size_t k = 0; k < s->stmts->n && !rc; k++) {
        int shared = 0;
        my_algorithm want =
            mysql_stmt_algorithm(s->tg, s->after, s->before, s->o, s->stmts, k, &shared);
        if (s->stmts->v[k].kind == STMT_ASSERT_EMPTY)
            continue; /* the filled-in rows are not real data */
        if (want == MY_ALG_NONE) {
            rc = run_one(x->conn, s, k, &st);
            if (rc && strstr(strata_error_message(), "ERROR 1062") &&
                drop_filled_duplicates(x->conn, s, s->stmts->v[k].sql) == 0)
                rc = run_one(x->conn, s, k, &st);
            if (!rc && s->stmts->v[k].kind == STMT_SQL)
                fill_created(x->conn, s, s->stmts->v[k].sql);
            continue;
        }
        x->checked++;
        const char *sql = s->stmts->v[k].sql;
        my_algorithm got = run_cheapest(x->conn, sql, !shared);
        if (got == MY_ALG_NONE && strata_conn_exec(x->conn, "DO 0") == 0 &&
            run_cheapest(x->conn, sql, 0) == MY_ALG_NONE) {
            /* fails whatever the algorithm: a duplicate of the filled-in rows? */
            if (drop_filled_duplicates(x->conn, s, sql) == 0)
                got = run_cheapest(x->conn, sql, !shared);
        }
        if (got == MY_ALG_NONE && !shared) {
            mismatch(x, s, "%s: LOCK=NONE refused (%s)", sql, "writes were predicted to go on");
            got = run_cheapest(x->conn, sql, 0);
        }
        if (got == MY_ALG_NONE) {
            rc = strata_conn_exec(x->conn, sql);
            mismatch(x, s, "%s: failed: %s", sql, strata_error_message());
            continue;
        }
        copied |= got == MY_ALG_COPY;
        if (got != want) {
            char *what = NULL;
            if (asprintf(&what, "ALGORITHM=%s predicted, the server needed %s",
                         my_algorithm_name(want), my_algorithm_name(got)) > 0)
                mismatch(x, s, "%s: %s", sql, what);
            free(what);
        }
    }
    exec_state_free(&st);
    check_plan(x, s, copied, STRATA_COST_COPY);
    const table *t = s->o->kind == OP_ADD_COLUMN ? schema_table(s->after, s->o->table) : NULL;
    if (!rc && t && table_column(t, s->o->col->name))
        fill_rows(x->conn, s->after, t, table_column(t, s->o->col->name));
    if (x->verbose && c->cost >= STRATA_COST_INPLACE)
        fprintf(stderr, "  %-55s %-17s %-8s %s\n", s->m->id, s->o->path, strata_cost_name(c->cost),
                c->detail);
    return rc;
}

/* PostgreSQL and SQLite: which tables changed storage while the op ran. */
static int verify_storage(verify_ctx *x, const op_step *s, const op_cost *c)
{
    int sqlite = strata_conn_dialect(x->conn) == STRATA_SQLITE;
    strvec before = STRVEC_INIT, after = STRVEC_INIT, changed = STRVEC_INIT,
           predicted = STRVEC_INIT;
    storage_ids(x->conn, &before);
    int fk_off = sqlite && stmt_list_needs_fk_off(s->stmts);
    if (fk_off)
        strata_conn_exec(x->conn, "PRAGMA foreign_keys = OFF");
    exec_state st = {STRVEC_INIT, 0, NULL, NULL};
    int rc = exec_stmts(x->conn, s->stmts, &st, NULL);
    exec_state_free(&st);
    if (fk_off)
        strata_conn_exec(x->conn, "PRAGMA foreign_keys = ON");
    storage_ids(x->conn, &after);
    changed_tables(&before, &after, &changed);
    strata_cost heavy = sqlite ? STRATA_COST_REBUILD : STRATA_COST_REWRITE;
    for (size_t i = 0; c->cost == heavy && i < c->tables.n; i++)
        strvec_push(&predicted, c->tables.v[i]);
    check_plan(x, s, changed.n > 0, heavy);
    char *a = joined(&predicted), *b = joined(&changed);
    x->checked++;
    if (strcmp(a, b) != 0)
        mismatch(x, s, "predicted to rewrite [%s], the database rewrote [%s]", a, b);
    if (x->verbose && c->cost >= STRATA_COST_INPLACE)
        fprintf(stderr, "  %-55s %-17s %-8s %s\n", s->m->id, s->o->path, strata_cost_name(c->cost),
                c->detail);
    free(a);
    free(b);
    strvec_free(&before);
    strvec_free(&after);
    strvec_free(&changed);
    strvec_free(&predicted);
    return rc;
}

static int verify_op(const op_step *s, void *payload)
{
    verify_ctx *x = payload;
    x->ops++;
    if (s->compile_rc) {
        strvec_pushf(&x->mismatches, "%s %s: does not compile: %s", s->m->id, s->o->path,
                     s->compile_error);
        return 0;
    }
    op_cost c;
    op_cost_estimate(s->tg, s->after, s->before, s->o, s->stmts, &c);
    int rc = strata_conn_dialect(x->conn) == STRATA_MYSQL ? verify_mysql(x, s, &c)
                                                          : verify_storage(x, s, &c);
    op_cost_free(&c);
    if (rc)
        fprintf(stderr, "\n  %s %s failed: %s\n", s->m->id, s->o->path, strata_error_message());
    return rc;
}

/* Run every migration of `dir` on a fresh database, checking each op. */
static void verify_dir(const char *dir)
{
    char *url = test_fresh_database(test_dialect, "costrun");
    CU_ASSERT_PTR_NOT_NULL_FATAL(url);
    verify_ctx x;
    memset(&x, 0, sizeof x);
    x.conn = test_connect(url);
    const char *v = getenv("STRATA_TEST_VERBOSE");
    x.verbose = v && *v;
    migration_set set;
    memset(&set, 0, sizeof set);
    int rc = migrations_load_dir(dir, &set);
    CU_ASSERT_EQUAL(rc, 0);
    compile_target tg = compile_target_for(x.conn);
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = dir;
    /* every migration applies: the Medusa migrations' feature flags all on */
    static const char *const all_flags[] = {"medusa_v2", "tax_inclusive_pricing", "sales_channels",
                                            "analytics"};
    opt.flags = all_flags;
    opt.nflags = sizeof all_flags / sizeof all_flags[0];
    strata_plan *plan = NULL;
    CU_ASSERT_EQUAL(strata_migrations_plan(x.conn, &opt, &plan), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
    CU_ASSERT_EQUAL(plan->nmigrations, set.n);
    x.plan = plan;
    if (!rc)
        rc = ops_walk(&set, 0, set.n, NULL, &tg, verify_op, NULL, &x);
    CU_ASSERT(x.heavy > 0);
    if (x.verbose)
        fprintf(stderr, "  %zu ops %s\n", x.heavy,
                test_dialect == STRATA_MYSQL      ? "copied"
                : test_dialect == STRATA_POSTGRES ? "rewritten"
                                                  : "rebuilt");
    strata_plan_free(plan);
    CU_ASSERT_EQUAL(rc, 0);
    for (size_t i = 0; i < x.mismatches.n; i++)
        fprintf(stderr, "\n  %s: %s", strata_dialect_name(test_dialect), x.mismatches.v[i]);
    CU_ASSERT_EQUAL(x.mismatches.n, 0);
    CU_ASSERT(x.checked > 0);
    if (x.verbose)
        fprintf(stderr, "  %s: %zu ops, %zu checked\n", dir, x.ops, x.checked);
    strvec_free(&x.mismatches);
    migration_set_free(&set);
    strata_conn_close(x.conn);
    test_drop_database(test_dialect, url);
    free(url);
}

static void test_cost_cases(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/cost", test_source_dir());
    verify_dir(dir);
}

static void test_cost_medusa(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/migrations", test_source_dir());
    verify_dir(dir);
}

static const test_case cost_tests[] = {
    {"every form of every operation", test_cost_cases},
    {"the Medusa migrations", test_cost_medusa},
    {NULL, NULL},
};

int main(void)
{
    test_add_dialect_suites("cost", NULL, NULL, cost_tests);
    return test_main();
}
