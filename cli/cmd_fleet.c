/*
 * cmd_fleet.c - one command over many databases: `migrations
 * run|revert|show|validate`, `seed` and `db diff` with --targets FILE (or
 * env:NAME,... for strata.json's environments) or several --database-url.
 * The library does the work (strata_fleet_run); this file gathers the
 * targets, shows the progress line, and prints the report: a table, one
 * JSON document (--json), a JUnit file with one testcase per target
 * (--junit), as `check` writes them.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* The --targets in force: one from the environment or strata.json gives
 * way to --database-url on the command line (the command line wins, as
 * for every setting); given on the command line, both count. */
static const char *targets_setting(const cli_opts *o)
{
    if (!o->targets || o->nurls == 0)
        return o->targets;
    for (size_t i = 0; i < cli_nglobals; i++)
        if (!strcmp(cli_globals[i].name, "--targets"))
            return o->source[i] && !strcmp(o->source[i], "--targets") ? o->targets : NULL;
    return NULL;
}

int cli_fleet_wanted(const cli_opts *o)
{
    return targets_setting(o) || o->nurls > 1 || o->fail_fast || o->continue_all || o->canary ||
           o->junit;
}

static const char *action_words(strata_fleet_action a)
{
    switch (a) {
    case STRATA_FLEET_MIGRATE:
        return "migrations run";
    case STRATA_FLEET_REVERT:
        return "migrations revert";
    case STRATA_FLEET_STATUS:
        return "migrations show";
    case STRATA_FLEET_VALIDATE:
        return "migrations validate";
    case STRATA_FLEET_SEED:
        return "seed";
    case STRATA_FLEET_DIFF:
        return "db diff";
    }
    return "?";
}

/* What the migrations column counts, for the table's header. */
static const char *count_words(strata_fleet_action a, int dry_run)
{
    switch (a) {
    case STRATA_FLEET_MIGRATE:
    case STRATA_FLEET_SEED:
        return dry_run ? "pending" : "applied";
    case STRATA_FLEET_REVERT:
        return dry_run ? "to revert" : "reverted";
    case STRATA_FLEET_STATUS:
        return "pending";
    default:
        return NULL;
    }
}

/* ---- the targets ---- */

typedef struct target_list {
    strata_fleet_target *v;
    size_t n;
    strata_fleet_target *loaded; /* strata_fleet_targets_load's, freed with it */
    size_t nloaded;
} target_list;

static void add_target(target_list *t, const char *name, const char *url)
{
    t->v = realloc(t->v, (t->n + 1) * sizeof *t->v);
    if (!t->v)
        abort();
    t->v[t->n].name = name;
    t->v[t->n].url = url;
    t->n++;
}

/* env:NAME,NAME... (env:* for every environment that has a url): the
 * environments of strata.json, each labelled by its name. */
static int env_targets(cli_opts *o, const char *spec, target_list *t)
{
    const char *const *names = cli_config_environments(o);
    if (!strcmp(spec, "*")) {
        for (size_t i = 0; names && names[i]; i++) {
            const char *url = NULL;
            int status = cli_config_env_url(o, names[i], &url);
            if (status)
                return status;
            if (url)
                add_target(t, names[i], url);
        }
        if (!t->n)
            return cli_input_error(o, "--targets env:*: no environment of %s has a url",
                                   o->config ? o->config : "strata.json");
        return 0;
    }
    char *copy = strdup(spec), *save = NULL;
    if (!copy)
        abort();
    int status = 0;
    for (char *name = strtok_r(copy, ",", &save); name && !status;
         name = strtok_r(NULL, ",", &save)) {
        const char *url = NULL;
        const char *const *known = names;
        const char *own = NULL;
        for (size_t i = 0; known && known[i] && !own; i++)
            if (!strcmp(known[i], name))
                own = known[i]; /* a name that lives as long as the settings */
        status = cli_config_env_url(o, name, &url);
        if (!status && !url)
            status =
                cli_input_error(o, "--targets env:%s: environment '%s' has no url", spec, name);
        if (!status)
            add_target(t, own, url);
    }
    free(copy);
    return status;
}

/* --targets and every --database-url given on the command line. */
static int gather_targets(cli_opts *o, target_list *t)
{
    const char *targets = targets_setting(o);
    if (targets && !strncmp(targets, "env:", 4)) {
        int status = env_targets(o, targets + 4, t);
        if (status)
            return status;
    } else if (targets) {
        int rc = strata_fleet_targets_load(targets, &t->loaded, &t->nloaded);
        if (rc)
            return cli_fail(o, rc);
        for (size_t i = 0; i < t->nloaded; i++)
            add_target(t, t->loaded[i].name, t->loaded[i].url);
    }
    for (int i = 0; i < o->nurls; i++)
        add_target(t, NULL, o->urls[i]);
    if (!t->n)
        return cli_usage_error(o, "'%s' as a fleet needs --targets FILE or --database-url URL",
                               o->command);
    return 0;
}

/* ---- the report ---- */

static json_t *target_json(const strata_fleet_target_result *t, strata_fleet_action a)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:f}", "name", t->name, "url", t->url, "database",
                          t->dialect >= 0 ? strata_dialect_name((strata_dialect)t->dialect) : "?",
                          "status", strata_target_status_name(t->status), "seconds", t->seconds);
    if (t->canary)
        json_object_set_new(j, "canary", json_true());
    const char *counted = count_words(a, 0);
    if (counted && t->status != STRATA_TARGET_NOT_STARTED)
        json_object_set_new(j, "migrations", json_integer((json_int_t)t->migrations));
    if (t->report &&
        (a == STRATA_FLEET_MIGRATE || a == STRATA_FLEET_REVERT || a == STRATA_FLEET_SEED)) {
        json_t *ids = json_array();
        for (size_t i = 0; i < t->report->n; i++)
            json_array_append_new(ids, json_string(t->report->items[i].id));
        json_object_set_new(j, a == STRATA_FLEET_REVERT ? "reverted" : "applied", ids);
    }
    if (t->seed)
        json_object_set_new(j, "seed",
                            json_pack("{s:I, s:I, s:I}", "inserted", (json_int_t)t->seed->inserted,
                                      "skipped", (json_int_t)t->seed->skipped, "updated",
                                      (json_int_t)t->seed->updated));
    if (t->diff)
        json_object_set_new(j, "differences", cli_diff_json(t->diff));
    if (t->error)
        json_object_set_new(j, "error", json_string(t->error));
    return j;
}

static void print_json(const strata_fleet_result *r, strata_fleet_action a)
{
    json_t *targets = json_array();
    for (size_t i = 0; i < r->n; i++)
        json_array_append_new(targets, target_json(&r->targets[i], a));
    json_t *summary = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "targets", (json_int_t)r->n, "ok",
                                (json_int_t)r->ok, "differs", (json_int_t)r->differs, "failed",
                                (json_int_t)r->failed, "timed_out", (json_int_t)r->timed_out,
                                "not_started", (json_int_t)r->not_started);
    int ok = r->ok == r->n;
    cli_print_json(json_pack("{s:s, s:b, s:i, s:f, s:o, s:o}", "command", action_words(a), "ok", ok,
                             "parallel", (int)r->parallel, "seconds", r->seconds, "summary",
                             summary, "targets", targets));
}

/* "200 targets: 198 ok, 1 failed, 1 not started (fail-fast) in 12.3 s" */
static void print_summary(FILE *f, const strata_fleet_result *r)
{
    fprintf(f, "%zu target%s: %zu ok", r->n, r->n == 1 ? "" : "s", r->ok);
    if (r->differs)
        fprintf(f, ", %zu differ%s", r->differs, r->differs == 1 ? "s" : "");
    if (r->failed)
        fprintf(f, ", %zu failed", r->failed);
    if (r->timed_out)
        fprintf(f, ", %zu timed out", r->timed_out);
    int canary_failed = 0;
    for (size_t i = 0; i < r->n; i++)
        canary_failed |= r->targets[i].canary && (r->targets[i].status == STRATA_TARGET_FAILED ||
                                                  r->targets[i].status == STRATA_TARGET_TIMED_OUT);
    if (r->not_started)
        fprintf(f, ", %zu not started (%s)", r->not_started,
                canary_failed ? "a canary failed" : "--fail-fast");
    fprintf(f, " in %.1f s, %u at a time\n", r->seconds, r->parallel);
}

static void print_table(const strata_fleet_result *r, strata_fleet_action a, const cli_opts *o)
{
    int w = 6;
    for (size_t i = 0; i < r->n; i++)
        if ((int)strlen(r->targets[i].name) > w)
            w = (int)strlen(r->targets[i].name);
    const char *counted = count_words(a, o->dry_run);
    printf("%-*s  %-8s  %-11s  %9s  %8s  %s\n", w, "target", "database", "status",
           counted ? counted : "", "seconds", "error");
    for (size_t i = 0; i < r->n; i++) {
        const strata_fleet_target_result *t = &r->targets[i];
        char count[32] = "";
        if (counted && t->status != STRATA_TARGET_NOT_STARTED)
            snprintf(count, sizeof count, "%zu", t->migrations);
        char secs[32] = "";
        if (t->status != STRATA_TARGET_NOT_STARTED)
            snprintf(secs, sizeof secs, "%.2f", t->seconds);
        const char *status = strata_target_status_name(t->status);
        if (t->status == STRATA_TARGET_OK && counted && !t->migrations &&
            (a == STRATA_FLEET_MIGRATE || a == STRATA_FLEET_SEED) && !o->dry_run)
            status = "up to date";
        char row[512];
        snprintf(row, sizeof row, "%-*s  %-8s  %-11s  %9s  %8s", w, t->name,
                 t->dialect >= 0 ? strata_dialect_name((strata_dialect)t->dialect) : "?", status,
                 count, secs);
        if (t->error) {
            printf("%s  %s\n", row, t->error);
        } else {
            /* no trailing blanks */
            size_t len = strlen(row);
            while (len && row[len - 1] == ' ')
                row[--len] = '\0';
            printf("%s\n", row);
        }
    }
    print_summary(stdout, r);
}

/* One testsuite, one testcase per target: a failure for one that failed,
 * timed out or differs, <skipped/> for one not started. */
static int write_junit(FILE *f, const strata_fleet_result *r, strata_fleet_action a)
{
    size_t failures = r->n - r->ok - r->not_started;
    const char *words = action_words(a);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f,
            "<testsuites name=\"strata %s\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" "
            "time=\"%.3f\">\n",
            words, r->n, failures, r->not_started, r->seconds);
    fprintf(f,
            "  <testsuite name=\"strata %s\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" "
            "time=\"%.3f\">\n",
            words, r->n, failures, r->not_started, r->seconds);
    for (size_t i = 0; i < r->n; i++) {
        const strata_fleet_target_result *t = &r->targets[i];
        fprintf(f, "    <testcase classname=\"strata.fleet.%s\" name=\"",
                t->dialect >= 0 ? strata_dialect_name((strata_dialect)t->dialect) : "unknown");
        cli_xml_escape(f, t->name);
        fprintf(f, "\" time=\"%.3f\"", t->seconds);
        if (t->status == STRATA_TARGET_OK) {
            fprintf(f, "/>\n");
            continue;
        }
        if (t->status == STRATA_TARGET_NOT_STARTED) {
            fprintf(f, ">\n      <skipped message=\"not started\"/>\n    </testcase>\n");
            continue;
        }
        fprintf(f, ">\n      <failure type=\"%s\" message=\"",
                strata_target_status_name(t->status));
        char *msg = cli_clean(t->error ? t->error : strata_target_status_name(t->status), 0);
        cli_xml_escape(f, msg);
        free(msg);
        fprintf(f, "\">");
        char *url = cli_clean(t->url, 0);
        cli_xml_escape(f, url);
        free(url);
        fprintf(f, "</failure>\n    </testcase>\n");
    }
    fprintf(f, "  </testsuite>\n</testsuites>\n");
    return fclose(f);
}

/* The library's lines of each target: warnings on stderr ("<label>: ..."),
 * the rest only with --progress on a pipe (a terminal has the line). */
static void fleet_log(strata_log_level level, const char *message, void *payload)
{
    (void)payload;
    if (level == STRATA_LOG_WARNING)
        cli_log(level, message, NULL);
}

int cli_fleet(cli_opts *o, strata_fleet_action action)
{
    if (o->nargs)
        return cli_usage_error(o, "'%s' takes no arguments", o->command);
    if (o->fail_fast && o->continue_all)
        return cli_usage_error(o, "give one of --fail-fast and --continue");
    if (action == STRATA_FLEET_SEED && !o->file)
        return cli_usage_error(o, "'seed' needs -f FILE");
    if (o->wait_replicas)
        return cli_usage_error(o, "--wait-replicas is for one database, not a fleet");
    target_list t;
    memset(&t, 0, sizeof t);
    int status = gather_targets(o, &t);
    if (status) {
        free(t.v);
        strata_fleet_targets_free(t.loaded, t.nloaded);
        return status;
    }

    strata_options mopt;
    strata_options_init(&mopt, STRATA_OPTIONS_VERSION);
    mopt.migrations_dir = o->migrations_dir;
    mopt.lock_timeout = o->lock_timeout;
    mopt.allow_out_of_order = o->allow_out_of_order;
    mopt.single_transaction = o->single_transaction;
    mopt.dry_run = o->dry_run;
    mopt.to = o->to;
    mopt.steps = o->steps;
    mopt.all = o->all;
    mopt.flags = cli_flag_settings(&mopt.nflags);
    mopt.history_compat = o->history_compat;
    strata_seed_options sopt = STRATA_SEED_OPTIONS_INIT;
    sopt.non_atomic = o->non_atomic;
    if (o->mode && !(sopt.mode = (strata_seed_mode)strata_seed_mode_parse(o->mode)))
        status = cli_usage_error(o, "--mode must be insert, insert_missing or upsert, not '%s'",
                                 o->mode);
    if (o->format && !strcmp(o->format, "strata"))
        sopt.format = STRATA_SEED_FORMAT_STRATA;
    else if (o->format && !strcmp(o->format, "medusa"))
        sopt.format = STRATA_SEED_FORMAT_MEDUSA;
    else if (o->format)
        status = cli_usage_error(o, "--format must be strata or medusa, not '%s'", o->format);
    if (status) {
        free(t.v);
        strata_fleet_targets_free(t.loaded, t.nloaded);
        return status;
    }

    strata_fleet_options fopt = STRATA_FLEET_OPTIONS_INIT;
    fopt.action = action;
    fopt.migrate = &mopt;
    fopt.seed_file = o->file;
    fopt.seed = &sopt;
    fopt.seed_no_migrate = o->no_migrate;
    fopt.parallel = (unsigned)o->parallel;
    fopt.timeout = o->target_timeout;
    fopt.fail_fast = o->fail_fast;
    fopt.canary = (size_t)o->canary;
    fopt.log_cb = fleet_log;
    if (cli_progress_enabled(o))
        fopt.progress_cb = cli_progress_fleet;
    /* the report's file is made before any target runs: a path that cannot
     * be written is bad input, found before the databases are touched */
    FILE *junit = NULL;
    int junit_made = 0;
    if (o->junit && !(junit = cli_create_output(o, o->junit, &status, &junit_made))) {
        free(t.v);
        strata_fleet_targets_free(t.loaded, t.nloaded);
        return status;
    }
    strata_fleet_result *r = NULL;
    int rc = strata_fleet_run(t.v, t.n, &fopt, &r);
    cli_progress_clear();
    free(t.v);
    strata_fleet_targets_free(t.loaded, t.nloaded);
    if (rc) {
        cli_discard_output(junit, o->junit, junit_made);
        strata_fleet_result_free(r);
        return cli_fail(o, rc);
    }
    if (junit && write_junit(junit, r, action) != 0)
        fprintf(stderr, "strata: cannot write %s\n", o->junit);
    if (o->json)
        print_json(r, action);
    else
        print_table(r, action, o);
    status = r->ok == r->n ? 0 : 1;
    strata_fleet_result_free(r);
    return status;
}
