/*
 * cmd_check.c - `strata check`: the portability check's report as a table,
 * JSON, or JUnit XML; while it runs, how far each database has come.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

/* Write the JUnit report into `f` (opened before the check ran) and close it. */
static int write_junit(FILE *f, const strata_check_result *r)
{
    size_t failures = 0;
    for (size_t i = 0; i < r->nsteps; i++)
        failures += !r->steps[i].ok;
    size_t tests = r->nsteps + (r->ndatabases > 1 ? 1 : 0);
    failures += r->ndatabases > 1 && r->ndifferences ? 1 : 0;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites name=\"strata check\" tests=\"%zu\" failures=\"%zu\" time=\"%.3f\">\n",
            tests, failures, r->seconds);
    for (size_t d = 0; d < r->ndatabases; d++) {
        size_t t = 0, fl = 0;
        for (size_t i = 0; i < r->nsteps; i++)
            if (strcmp(r->steps[i].database, r->databases[d]) == 0) {
                t++;
                fl += !r->steps[i].ok;
            }
        fprintf(f, "  <testsuite name=\"");
        cli_xml_escape(f, r->databases[d]);
        fprintf(f, "\" tests=\"%zu\" failures=\"%zu\">\n", t, fl);
        for (size_t i = 0; i < r->nsteps; i++) {
            const strata_check_step *s = &r->steps[i];
            if (strcmp(s->database, r->databases[d]) != 0)
                continue;
            fprintf(f, "    <testcase classname=\"strata.check.");
            cli_xml_escape(f, s->database);
            fprintf(f, "\" name=\"");
            cli_xml_escape(f, s->step);
            fprintf(f, "\" time=\"%.3f\"", s->seconds);
            if (s->ok) {
                fprintf(f, "/>\n");
            } else {
                fprintf(f, ">\n      <failure message=\"");
                char *msg = cli_clean(s->message ? s->message : "failed", 0);
                cli_xml_escape(f, msg);
                free(msg);
                fprintf(f, "\"/>\n    </testcase>\n");
            }
        }
        fprintf(f, "  </testsuite>\n");
    }
    if (r->ndatabases > 1) {
        fprintf(f, "  <testsuite name=\"across databases\" tests=\"1\" failures=\"%d\">\n",
                r->ndifferences ? 1 : 0);
        fprintf(f, "    <testcase classname=\"strata.check\" name=\"same schema%s everywhere\"",
                r->ntables ? " and data" : "");
        if (!r->ndifferences) {
            fprintf(f, "/>\n");
        } else {
            fprintf(f, ">\n      <failure message=\"%zu difference(s)\">", r->ndifferences);
            for (size_t i = 0; i < r->ndifferences; i++) {
                cli_xml_escape(f, r->differences[i]);
                fputc('\n', f);
            }
            fprintf(f, "</failure>\n    </testcase>\n");
        }
        fprintf(f, "  </testsuite>\n");
    }
    fprintf(f, "</testsuites>\n");
    return fclose(f);
}

static void print_table(const strata_check_result *r)
{
    /* one row per step, one column per database */
    const char **steps = calloc(r->nsteps + 1, sizeof(char *));
    size_t nsteps = 0, w = 4;
    for (size_t i = 0; i < r->nsteps; i++) {
        int seen = 0;
        for (size_t k = 0; k < nsteps; k++)
            seen |= strcmp(steps[k], r->steps[i].step) == 0;
        if (!seen)
            steps[nsteps++] = r->steps[i].step;
        if (strlen(r->steps[i].step) > w)
            w = strlen(r->steps[i].step);
    }
    printf("%-*s", (int)w + 2, "check");
    for (size_t d = 0; d < r->ndatabases; d++)
        printf("  %-10s", r->databases[d]);
    printf("\n");
    for (size_t k = 0; k < nsteps; k++) {
        printf("%-*s", (int)w + 2, steps[k]);
        for (size_t d = 0; d < r->ndatabases; d++) {
            const char *cell = "-";
            for (size_t i = 0; i < r->nsteps; i++)
                if (strcmp(r->steps[i].step, steps[k]) == 0 &&
                    strcmp(r->steps[i].database, r->databases[d]) == 0)
                    cell = r->steps[i].ok ? "ok" : "FAILED";
            printf("  %-10s", cell);
        }
        printf("\n");
    }
    free(steps);
    for (size_t i = 0; i < r->nsteps; i++)
        if (!r->steps[i].ok) {
            char *msg = cli_clean(r->steps[i].message ? r->steps[i].message : "failed", 400);
            printf("\n%s, %s: %s\n", r->steps[i].database, r->steps[i].step, msg);
            free(msg);
        }
    if (r->ndatabases > 1) {
        if (r->ndifferences) {
            printf("\n%zu difference%s across databases:\n", r->ndifferences,
                   r->ndifferences == 1 ? "" : "s");
            for (size_t i = 0; i < r->ndifferences; i++)
                printf("  %s\n", r->differences[i]);
        } else {
            printf("\nsame schema%s on every database\n", r->ntables ? " and data" : "");
        }
    }
    printf("%s (%.1f s)\n", r->ok ? "portable" : "NOT portable", r->seconds);
}

int cmd_check(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'check' takes no arguments");
    const char **urls = o->urls;
    size_t n = (size_t)o->nurls;
    char *env = NULL;
    const char *list[64];
    if (n == 0 && getenv("STRATA_CHECK_URLS")) {
        env = strdup(getenv("STRATA_CHECK_URLS"));
        char *save = NULL;
        for (char *t = strtok_r(env, ",", &save); t && n < 64; t = strtok_r(NULL, ",", &save))
            if (*t)
                list[n++] = t;
        urls = list;
    }
    /* --targets: the databases of a targets file, after those given */
    strata_fleet_target *targets = NULL;
    size_t ntargets = 0;
    const char **all = NULL;
    if (o->targets) {
        if (!strncmp(o->targets, "env:", 4)) {
            free(env);
            return cli_usage_error(o, "'check' takes --targets FILE (env:... is for the "
                                      "commands that run on each database)");
        }
        int rc = strata_fleet_targets_load(o->targets, &targets, &ntargets);
        if (rc) {
            free(env);
            return cli_fail(o, rc);
        }
        all = calloc(n + ntargets + 1, sizeof *all);
        if (!all)
            abort();
        for (size_t i = 0; i < n; i++)
            all[i] = urls[i];
        for (size_t i = 0; i < ntargets; i++)
            all[n + i] = targets[i].url;
        urls = all;
        n += ntargets;
    }
    strata_check_options opt = STRATA_CHECK_OPTIONS_INIT;
    opt.parallel = (unsigned)o->parallel;
    opt.migrations_dir = o->migrations_dir;
    opt.seed_file = o->file;
    if (cli_progress_enabled(o))
        opt.progress_cb = cli_progress_check;
    /* the report's file is made before anything runs: a path that cannot
     * be written is bad input, found before the databases are touched */
    FILE *junit = NULL;
    int junit_made = 0;
    if (o->junit) {
        int status;
        junit = cli_create_output(o, o->junit, &status, &junit_made);
        if (!junit) {
            free(env);
            free(all);
            strata_fleet_targets_free(targets, ntargets);
            return status;
        }
    }
    strata_check_result *r = NULL;
    int rc = strata_check(urls, n, &opt, &r);
    cli_progress_clear();
    free(env);
    free(all);
    strata_fleet_targets_free(targets, ntargets);
    if (rc) {
        if (junit) {
            fclose(junit);
            if (junit_made)
                unlink(o->junit); /* nothing to report: leave no empty file */
        }
        strata_check_result_free(r);
        return cli_fail(o, rc);
    }
    if (junit && write_junit(junit, r) != 0) {
        strata_check_result_free(r);
        return cli_input_error(o, "cannot write %s", o->junit);
    }
    if (o->json) {
        json_t *steps = json_array(), *diffs = json_array(), *rows = json_object();
        for (size_t i = 0; i < r->nsteps; i++) {
            json_t *s =
                json_pack("{s:s, s:s, s:b, s:f}", "database", r->steps[i].database, "step",
                          r->steps[i].step, "ok", r->steps[i].ok, "seconds", r->steps[i].seconds);
            if (r->steps[i].message) {
                char *msg = cli_clean(r->steps[i].message, 400);
                json_object_set_new(s, "message", json_string(msg));
                free(msg);
            }
            json_array_append_new(steps, s);
        }
        for (size_t i = 0; i < r->ndifferences; i++)
            json_array_append_new(diffs, json_string(r->differences[i]));
        for (size_t i = 0; i < r->ntables; i++)
            json_object_set_new(rows, r->tables[i], json_integer(r->rows[i]));
        json_t *root = json_pack("{s:b, s:o, s:o, s:o, s:f}", "portable", r->ok, "steps", steps,
                                 "differences", diffs, "rows", rows, "seconds", r->seconds);
        char *s = json_dumps(root, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
        json_decref(root);
    } else {
        print_table(r);
    }
    int status = r->ok ? 0 : 1;
    strata_check_result_free(r);
    return status;
}
