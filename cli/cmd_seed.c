/*
 * cmd_seed.c - `strata seed -f FILE` and `strata seed convert FILE`:
 * argument checks, pending migrations first (like `medusa seed`, unless
 * --no-migrate), one library call, then printing. Progress (the table,
 * rows/s) goes to stderr on a terminal, elsewhere only with --progress.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

static void print_report(const cli_opts *o, const strata_seed_report *r, const strata_report *mig)
{
    cli_progress_clear();
    if (o->json) {
        json_t *tables = json_array();
        for (size_t i = 0; i < r->ntables; i++)
            json_array_append_new(tables,
                                  json_pack("{s:s, s:I, s:I, s:I}", "table", r->tables[i].table,
                                            "inserted", (json_int_t)r->tables[i].inserted,
                                            "skipped", (json_int_t)r->tables[i].skipped, "updated",
                                            (json_int_t)r->tables[i].updated));
        json_t *w = json_array();
        for (size_t i = 0; i < r->nwarnings; i++)
            json_array_append_new(w, json_string(r->warnings[i]));
        json_t *root = json_pack(
            "{s:s, s:s, s:i, s:o, s:I, s:I, s:I, s:I, s:f, s:o}", "file", o->file, "format",
            r->format ? r->format : "strata", "migrations_applied", mig ? (int)mig->n : 0, "tables",
            tables, "inserted", (json_int_t)r->inserted, "skipped", (json_int_t)r->skipped,
            "updated", (json_int_t)r->updated, "sequences_moved", (json_int_t)r->sequences,
            "seconds", r->seconds, "warnings", w);
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(root);
        return;
    }
    for (size_t i = 0; i < r->ntables; i++) {
        const strata_seed_table_report *t = &r->tables[i];
        printf("  %-34s %8lld inserted", t->table, t->inserted);
        if (t->skipped)
            printf(", %lld skipped", t->skipped);
        if (t->updated)
            printf(", %lld updated", t->updated);
        printf("\n");
    }
    for (size_t i = 0; i < r->nwarnings; i++)
        fprintf(stderr, "strata: warning: %s\n", r->warnings[i]);
    printf("Seeded %s (%s format): %lld rows inserted, %lld skipped, %lld updated in %.2f s\n",
           o->file, r->format ? r->format : "strata", r->inserted, r->skipped, r->updated,
           r->seconds);
}

int cmd_seed(cli_opts *o)
{
    if (cli_fleet_wanted(o))
        return cli_fleet(o, STRATA_FLEET_SEED);
    if (o->nargs)
        return cli_usage_error(o, "unexpected argument '%s' (the seed file is given with -f FILE)",
                               o->args[0]);
    if (!o->file)
        return cli_usage_error(o, "'seed' needs -f FILE");
    strata_seed_options sopt = STRATA_SEED_OPTIONS_INIT;
    sopt.non_atomic = o->non_atomic;
    if (o->mode) {
        sopt.mode = (strata_seed_mode)strata_seed_mode_parse(o->mode);
        if (!sopt.mode)
            return cli_usage_error(o, "--mode must be insert, insert_missing or upsert, not '%s'",
                                   o->mode);
    }
    if (o->format) {
        if (!strcmp(o->format, "strata"))
            sopt.format = STRATA_SEED_FORMAT_STRATA;
        else if (!strcmp(o->format, "medusa"))
            sopt.format = STRATA_SEED_FORMAT_MEDUSA;
        else
            return cli_usage_error(o, "--format must be strata or medusa, not '%s'", o->format);
    }
    if (access(o->file, R_OK) != 0) {
        fprintf(stderr, "strata: could not find a seed file at: %s\n", o->file);
        if (o->json)
            printf("{\"error\": \"could not find a seed file\", \"exit\": 2}\n");
        return 2;
    }
    int progress = cli_progress_enabled(o);
    if (progress)
        sopt.progress_cb = cli_progress_seed;

    strata_conn *conn;
    int status = cli_open(o, 1, &conn);
    if (status)
        return status;
    strata_report *mig = NULL;
    int rc = 0;
    if (!o->no_migrate) {
        strata_options mopt = STRATA_OPTIONS_INIT;
        mopt.migrations_dir = o->migrations_dir;
        mopt.lock_timeout = o->lock_timeout;
        mopt.log_cb = o->json ? NULL : cli_log;
        if (progress)
            mopt.progress_cb = cli_progress_migration;
        mopt.flags = cli_flag_settings(&mopt.nflags);
        mopt.history_compat = o->history_compat;
        /* a bad seed file is reported before pending migrations change anything */
        rc = strata_seed_check(conn, o->file, &sopt, &mopt);
        if (!rc)
            rc = strata_migrations_run(conn, &mopt, &mig);
        if (rc) {
            strata_conn_close(conn);
            return cli_fail(o, rc);
        }
        if (!o->json && mig && mig->n)
            fprintf(stderr, "Migrations completed (%zu applied).\n", mig->n);
    }
    strata_seed_report *r = NULL;
    rc = strata_seed_file(conn, o->file, &sopt, &r);
    strata_conn_close(conn);
    if (rc) {
        strata_report_free(mig);
        return cli_fail(o, rc);
    }
    print_report(o, r, mig);
    strata_seed_report_free(r);
    strata_report_free(mig);
    return 0;
}

int cmd_seed_convert(cli_opts *o)
{
    const char *path = o->nargs ? o->args[0] : o->file;
    if (!path)
        return cli_usage_error(o, "'seed convert' needs a FILE");
    if (o->nargs > 1)
        return cli_usage_error(o, "'seed convert' takes one FILE");
    char *json = NULL;
    int rc = strata_seed_convert(path, &json);
    if (rc)
        return cli_fail(o, rc);
    printf("%s\n", json);
    free(json);
    return 0;
}
