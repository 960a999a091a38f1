/*
 * cmd_plan.c - `strata migrations plan [--to VERSION] [--allow-out-of-order]
 * [--json]`: what `migrations run` would do to the database, operation by
 * operation - its SQL, cost class, lock and the table's rows - without
 * doing it (strata_migrations_plan). Exit status 0, or as run's refusals.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static json_t *plan_json(const strata_plan *p)
{
    json_t *migs = json_array();
    for (size_t m = 0; m < p->nmigrations; m++) {
        const strata_plan_migration *pm = &p->migrations[m];
        json_t *ops = json_array();
        for (size_t i = pm->first_op; i < pm->first_op + pm->nops; i++) {
            const strata_plan_op *o = &p->ops[i];
            json_t *jo =
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b}", "path", o->path, "op",
                          o->op, "cost", strata_cost_name(o->cost), "lock", o->lock, "detail",
                          o->detail, "sql", o->sql, "blocks_writes", o->blocks_writes, "new_table",
                          o->new_table, "outside_tx", o->outside_tx);
            json_object_set_new(jo, "table", o->table ? json_string(o->table) : json_null());
            json_object_set_new(jo, "algorithm",
                                o->algorithm ? json_string(o->algorithm) : json_null());
            json_object_set_new(jo, "rows", o->rows >= 0 ? json_integer(o->rows) : json_null());
            json_array_append_new(ops, jo);
        }
        json_array_append_new(migs, json_pack("{s:s, s:b, s:o}", "id", pm->id, "transactional",
                                              pm->transactional, "operations", ops));
    }
    json_t *counts = json_object();
    for (int c = 0; c <= STRATA_COST_UNKNOWN; c++)
        if (p->by_cost[c])
            json_object_set_new(counts, strata_cost_name((strata_cost)c),
                                json_integer((json_int_t)p->by_cost[c]));
    return json_pack("{s:s, s:s, s:o, s:o}", "dialect", strata_dialect_name(p->dialect),
                     "server_version", p->server_version, "migrations", migs, "costs", counts);
}

static void print_text(const strata_plan *p, const char *url)
{
    printf("plan for %s %s (%s): %zu pending migration%s\n", strata_dialect_name(p->dialect),
           p->server_version, url, p->nmigrations, p->nmigrations == 1 ? "" : "s");
    for (size_t m = 0; m < p->nmigrations; m++) {
        const strata_plan_migration *pm = &p->migrations[m];
        printf("\n%s (%s)\n", pm->id,
               pm->transactional ? "in one transaction" : "op by op, progress recorded");
        for (size_t i = pm->first_op; i < pm->first_op + pm->nops; i++) {
            const strata_plan_op *o = &p->ops[i];
            printf("  %s %s%s%s: %s", o->path, o->op, o->table ? " " : "", o->table ? o->table : "",
                   strata_cost_name(o->cost));
            if (o->algorithm)
                printf(" (ALGORITHM=%s)", o->algorithm);
            if (o->rows >= 0)
                printf(", %lld rows", o->rows);
            if (o->new_table)
                printf(", new table");
            printf("\n    %s\n    lock: %s\n", o->detail, o->lock);
            /* the SQL, indented */
            for (const char *s = o->sql; *s;) {
                const char *nl = strchr(s, '\n');
                size_t n = nl ? (size_t)(nl - s) : strlen(s);
                printf("      %.*s\n", (int)n, s);
                s += n + (nl ? 1 : 0);
            }
        }
    }
    printf("\n%zu operation%s:", p->n, p->n == 1 ? "" : "s");
    const char *sep = " ";
    for (int c = 0; c <= STRATA_COST_UNKNOWN; c++)
        if (p->by_cost[c]) {
            printf("%s%zu %s", sep, p->by_cost[c], strata_cost_name((strata_cost)c));
            sep = ", ";
        }
    size_t blocking = 0;
    for (size_t i = 0; i < p->n; i++)
        blocking += p->ops[i].blocks_writes && !p->ops[i].new_table;
    printf("; %zu block writes to an existing table\n", blocking);
}

int cmd_migrations_plan(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'migrations plan' takes no arguments (use --to VERSION)");
    /* plan changes nothing, and a SQLite file that does not exist is not
     * made by opening it (the driver plans against the empty database it
     * would be until a statement writes) */
    strata_conn *conn = NULL;
    int rc = strata_conn_open(&conn, o->database_url);
    if (rc)
        return cli_fail(o, rc);
    strata_options opt;
    strata_options_init(&opt, STRATA_OPTIONS_VERSION);
    opt.migrations_dir = o->migrations_dir;
    opt.to = o->to;
    opt.allow_out_of_order = o->allow_out_of_order;
    opt.log_cb = cli_log;
    strata_plan *p = NULL;
    rc = strata_migrations_plan(conn, &opt, &p);
    int status = 0;
    if (rc) {
        status = cli_fail(o, rc);
    } else if (o->json) {
        json_t *j = plan_json(p);
        char *s = json_dumps(j, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
        json_decref(j);
    } else {
        print_text(p, strata_conn_url_masked(conn));
    }
    strata_plan_free(p);
    strata_conn_close(conn);
    return status;
}
