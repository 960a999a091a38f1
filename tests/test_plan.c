/*
 * test_plan.c - `migrations plan` (engine/explain.c, cmd_plan.c) on the
 * three databases: only the pending migrations, up to --to; each operation
 * with the SQL `run` would send, its cost class, lock and the rows of its
 * table; what run refuses, plan refuses; --json. tests/test_cost.c checks
 * that the classes of the Medusa migrations' plan are what the databases
 * then do.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *db_url;

static int suite_init(void)
{
    db_url = test_fresh_database(test_dialect, "plan");
    return db_url ? 0 : 1;
}

static int suite_cleanup(void)
{
    test_drop_database(test_dialect, db_url);
    free(db_url);
    db_url = NULL;
    return 0;
}

static const char *const MIGS[] = {
    "{'up':[{'op':'create_table','table':'item','columns':[{'name':'id','type':'integer',"
    "'primary_key':true},{'name':'qty','type':'integer'},{'name':'code','type':'string',"
    "'length':20}]}]}",
    "{'up':[{'op':'alter_column','table':'item','column':'qty','type':'bigint'},"
    "{'op':'create_index','table':'item','name':'item_code','columns':['code']},"
    "{'op':'create_index','table':'item','name':'item_qty','columns':['qty'],'online':true}]}",
    "{'up':[{'op':'create_table','table':'other','columns':[{'name':'id','type':'integer',"
    "'primary_key':true}]}]}",
};

static char *write_dir(size_t n)
{
    char *dir = test_tempdir("plan");
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%03zu_m%zu.json", dir, i + 1, i + 1);
        char *s = strdup(MIGS[i]);
        for (char *p = s; *p; p++)
            if (*p == '\'')
                *p = '"';
        test_write_file(path, s);
        free(s);
    }
    return dir;
}

static void remove_dir(char *dir, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%03zu_m%zu.json", dir, i + 1, i + 1);
        unlink(path);
    }
    rmdir(dir);
    free(dir);
}

static void test_plan_pending(void)
{
    char *dir = write_dir(3);
    strata_conn *c = test_connect(db_url);
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = dir;
    opt.to = "001";
    strata_report *rep = NULL;
    CU_ASSERT_EQUAL(strata_migrations_run(c, &opt, &rep), 0);
    strata_report_free(rep);
    test_exec(c, "INSERT INTO item (id, qty, code) VALUES (1, 1, 'a'), (2, 2, 'b')");
    if (test_dialect == STRATA_MYSQL)
        test_exec(c, "ANALYZE TABLE item");
    if (test_dialect == STRATA_POSTGRES)
        test_exec(c, "ANALYZE item");
    opt.to = "002";
    strata_plan *p = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_migrations_plan(c, &opt, &p), 0);
    CU_ASSERT_EQUAL(p->dialect, test_dialect);
    CU_ASSERT_EQUAL_FATAL(p->nmigrations, 1); /* 001 is applied, 003 is past --to */
    CU_ASSERT_STRING_EQUAL(p->migrations[0].id, "002_m2");
    CU_ASSERT_EQUAL_FATAL(p->n, 3);
    const strata_plan_op *alter = &p->ops[0], *ix = &p->ops[1], *online = &p->ops[2];
    CU_ASSERT_STRING_EQUAL(alter->path, "up[0]");
    CU_ASSERT_STRING_EQUAL(alter->op, "alter_column");
    CU_ASSERT_STRING_EQUAL(alter->table, "item");
    CU_ASSERT_EQUAL(alter->rows, 2);
    CU_ASSERT(!alter->new_table);
    CU_ASSERT_EQUAL(ix->cost, STRATA_COST_INPLACE);
    switch (test_dialect) {
    case STRATA_POSTGRES:
        CU_ASSERT_EQUAL(alter->cost, STRATA_COST_REWRITE);
        CU_ASSERT_STR_CONTAINS(alter->sql, "ALTER TABLE \"item\" ALTER COLUMN \"qty\" TYPE bigint");
        CU_ASSERT_STR_CONTAINS(alter->lock, "ACCESS EXCLUSIVE");
        CU_ASSERT_STR_CONTAINS(ix->lock, "SHARE on the table");
        CU_ASSERT(ix->blocks_writes);
        CU_ASSERT_STR_CONTAINS(online->sql, "CREATE INDEX CONCURRENTLY");
        CU_ASSERT(online->outside_tx && !online->blocks_writes);
        CU_ASSERT(!p->migrations[0].transactional);
        CU_ASSERT_PTR_NULL(alter->algorithm);
        break;
    case STRATA_MYSQL:
        CU_ASSERT_EQUAL(alter->cost, STRATA_COST_COPY);
        CU_ASSERT_STRING_EQUAL(alter->algorithm, "COPY");
        CU_ASSERT(alter->blocks_writes);
        CU_ASSERT_STRING_EQUAL(ix->algorithm, "NOCOPY");
        CU_ASSERT(!ix->blocks_writes);
        CU_ASSERT_STR_CONTAINS(online->sql, "ALGORITHM=INPLACE LOCK=NONE");
        CU_ASSERT(!p->migrations[0].transactional);
        break;
    case STRATA_SQLITE:
        CU_ASSERT_EQUAL(alter->cost, STRATA_COST_REBUILD);
        CU_ASSERT_STR_CONTAINS(alter->sql, "CREATE TABLE \"strata_new_item\"");
        CU_ASSERT(p->migrations[0].transactional);
        break;
    }
    CU_ASSERT_EQUAL(p->by_cost[STRATA_COST_INPLACE], 2);
    strata_plan_free(p);
    /* nothing was changed: 002 is still pending */
    CU_ASSERT_EQUAL(test_scalar_int(c, "SELECT count(*) FROM strata_migrations"), 1);

    /* the command line, as JSON */
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof cmd, "%s migrations plan --json --migrations-dir '%s' --database-url '%s'",
             test_strata_bin(), dir, db_url);
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 0);
    json_t *j = json_loads(out ? strchr(out, '{') : "", 0, NULL);
    CU_ASSERT_PTR_NOT_NULL(j);
    json_t *migs = json_object_get(j, "migrations");
    CU_ASSERT_EQUAL(json_array_size(migs), 2); /* 002 and 003 */
    json_t *op0 = json_array_get(json_object_get(json_array_get(migs, 0), "operations"), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(op0, "op")), "alter_column");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(op0, "rows")), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "dialect")),
                           strata_dialect_name(test_dialect));
    json_decref(j);
    free(out);
    /* and as text */
    snprintf(cmd, sizeof cmd, "%s migrations plan --migrations-dir '%s' --database-url '%s'",
             test_strata_bin(), dir, db_url);
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 0);
    CU_ASSERT_STR_CONTAINS(out, "2 pending migrations");
    CU_ASSERT_STR_CONTAINS(out, "up[0] alter_column item: ");
    CU_ASSERT_STR_CONTAINS(out, ", 2 rows");
    CU_ASSERT_STR_CONTAINS(out, "block writes to an existing table");
    free(out);

    /* what run refuses, plan refuses: an older pending migration */
    opt.to = NULL;
    CU_ASSERT_EQUAL(strata_migrations_run(c, &opt, &rep), 0);
    strata_report_free(rep);
    char path[1024];
    snprintf(path, sizeof path, "%s/000_old.json", dir);
    test_write_file(path, "{\"up\":[{\"op\":\"create_table\",\"table\":\"early\",\"columns\":"
                          "[{\"name\":\"id\",\"type\":\"integer\",\"primary_key\":true}]}]}");
    CU_ASSERT_EQUAL(strata_migrations_plan(c, &opt, &p), STRATA_ESTATE);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "--allow-out-of-order");
    CU_ASSERT_PTR_NULL(p);
    opt.allow_out_of_order = 1;
    CU_ASSERT_EQUAL(strata_migrations_plan(c, &opt, &p), 0);
    CU_ASSERT(p && p->nmigrations == 1 && p->n == 1 && strcmp(p->ops[0].op, "create_table") == 0);
    strata_plan_free(p);
    unlink(path);
    /* nothing pending */
    opt.allow_out_of_order = 0;
    CU_ASSERT_EQUAL(strata_migrations_plan(c, &opt, &p), 0);
    CU_ASSERT(p && p->nmigrations == 0 && p->n == 0);
    strata_plan_free(p);
    strata_error_clear();
    strata_options ropt = STRATA_OPTIONS_INIT;
    ropt.migrations_dir = dir;
    ropt.all = 1;
    CU_ASSERT_EQUAL(strata_migrations_revert(c, &ropt, &rep), 0);
    strata_report_free(rep);
    strata_conn_close(c);
    remove_dir(dir, 3);
}

static const test_case plan_tests[] = {
    {"the pending migrations, op by op", test_plan_pending},
    {NULL, NULL},
};

int main(void)
{
    test_add_dialect_suites("plan", suite_init, suite_cleanup, plan_tests);
    return test_main();
}
