/*
 * cmd_migrations.c - `strata migrations ...`, `strata migration create|generate`
 * and `strata lock ...`: argument checks, then one library call, then
 * printing.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char *status_mark(strata_mig_status s)
{
    switch (s) {
    case STRATA_MIG_PENDING:
        return "[ ]";
    case STRATA_MIG_APPLIED:
    case STRATA_MIG_REVERTED:
        return "[X]";
    case STRATA_MIG_CHANGED:
        return "[!]";
    case STRATA_MIG_PARTIAL:
    case STRATA_MIG_RUNNING:
        return "[~]";
    case STRATA_MIG_MISSING_FILE:
        return "[?]";
    case STRATA_MIG_SKIPPED:
        return "[-]";
    case STRATA_MIG_INVALID:
        return "[E]";
    }
    return "[ ]";
}

static const char *status_word(strata_mig_status s)
{
    switch (s) {
    case STRATA_MIG_PENDING:
        return "pending";
    case STRATA_MIG_APPLIED:
        return "applied";
    case STRATA_MIG_CHANGED:
        return "changed";
    case STRATA_MIG_PARTIAL:
        return "partial";
    case STRATA_MIG_RUNNING:
        return "running";
    case STRATA_MIG_MISSING_FILE:
        return "missing_file";
    case STRATA_MIG_REVERTED:
        return "reverted";
    case STRATA_MIG_SKIPPED:
        return "skipped";
    case STRATA_MIG_INVALID:
        return "invalid";
    }
    return "?";
}

/* Is flag `name` on, as the report says? */
static int report_flag_on(const strata_report *r, const char *name, size_t len)
{
    for (size_t i = 0; i < r->nflags; i++)
        if (strlen(r->flag_names[i]) == len && strncmp(r->flag_names[i], name, len) == 0)
            return r->flag_values[i];
    return 0;
}

/* The first flag item i needs that is off, into buf; NULL when none. */
static const char *item_flag_off(const strata_report *r, size_t i, char *buf, size_t size)
{
    const char *w = r->when ? r->when[i] : NULL;
    while (w && *w) {
        size_t len = strcspn(w, ",");
        if (!report_flag_on(r, w, len)) {
            snprintf(buf, size, "%.*s", (int)len, w);
            return buf;
        }
        w += len;
        while (*w == ',' || *w == ' ')
            w++;
    }
    return NULL;
}

/* "flags: a on, b off" for the flags the migrations name (NULL: none). */
static char *flags_line(const strata_report *r)
{
    if (!r || !r->nflags)
        return NULL;
    size_t len = 8;
    for (size_t i = 0; i < r->nflags; i++)
        len += strlen(r->flag_names[i]) + 6;
    char *s = malloc(len), *p = s;
    p += sprintf(p, "flags:");
    for (size_t i = 0; i < r->nflags; i++)
        p += sprintf(p, "%s %s %s", i ? "," : "", r->flag_names[i],
                     r->flag_values[i] ? "on" : "off");
    return s;
}

static json_t *report_json(const strata_report *r, const char *key)
{
    json_t *arr = json_array();
    for (size_t i = 0; r && i < r->n; i++) {
        const strata_migration_info *it = &r->items[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", it->id, "version", it->version, "name",
                              it->name, "status", status_word(it->status));
        if (it->description)
            json_object_set_new(o, "description", json_string(it->description));
        if (it->applied_at)
            json_object_set_new(o, "applied_at", json_string(it->applied_at));
        if (it->status != STRATA_MIG_PENDING) {
            json_object_set_new(o, "duration_ms", json_integer(it->duration_ms));
            json_object_set_new(o, "ops_applied", json_integer(it->ops_applied));
        }
        json_object_set_new(o, "ops_total", json_integer(it->ops_total));
        if (r->when && r->when[i])
            json_object_set_new(o, "when", json_string(r->when[i]));
        json_array_append_new(arr, o);
    }
    json_t *root = json_object();
    json_object_set_new(root, key, arr);
    if (r && r->nflags) {
        json_t *flags = json_object();
        for (size_t i = 0; i < r->nflags; i++)
            json_object_set_new(flags, r->flag_names[i], json_boolean(r->flag_values[i]));
        json_object_set_new(root, "flags", flags);
    }
    json_t *w = json_array();
    for (size_t i = 0; r && i < r->nwarnings; i++)
        json_array_append_new(w, json_string(r->warnings[i]));
    json_object_set_new(root, "warnings", w);
    return root;
}

static void print_json(json_t *root)
{
    cli_print_json(root);
}

/* The connection for run and revert. A dry run must not create a SQLite
 * file that does not exist yet: it runs on an empty in-memory database,
 * which is what that file would be. */
static int open_for_change(cli_opts *o, strata_conn **conn)
{
    int status = cli_open(o, !o->dry_run, conn);
    if (!status && !*conn) {
        int rc = strata_conn_open(conn, "sqlite::memory:");
        if (rc)
            status = cli_fail(o, rc);
    }
    return status;
}

static void fill_options(const cli_opts *o, strata_options *opt)
{
    strata_options_init(opt, STRATA_OPTIONS_VERSION);
    opt->migrations_dir = o->migrations_dir;
    opt->lock_timeout = o->lock_timeout;
    opt->allow_out_of_order = o->allow_out_of_order;
    opt->single_transaction = o->single_transaction;
    opt->dry_run = o->dry_run;
    opt->to = o->to;
    opt->steps = o->steps;
    opt->all = o->all;
    opt->mark_applied = o->mark_applied;
    opt->force = o->force;
    opt->log_cb = cli_log;
    if (!o->dry_run && cli_progress_enabled(o))
        opt->progress_cb = cli_progress_migration;
    opt->flags = cli_flag_settings(&opt->nflags);
    opt->history_compat = o->history_compat;
}

/* The report's warnings are not printed here: the library said each one
 * through cli_log already; --json has them in its document. */
static int finish(cli_opts *o, int rc, strata_report *rep, strata_conn *conn)
{
    int status;
    if (rc && o->json && rep && rep->n) {
        /* a run that failed part-way: what it did before, and the error */
        status = cli_exit_status(rc);
        char *msg = cli_clean(strata_error_message(), 392);
        fprintf(stderr, "strata: %s\n", msg);
        json_t *j = report_json(rep, "done");
        json_object_set_new(j, "error", json_string(msg));
        json_object_set_new(j, "exit", json_integer(status));
        print_json(j);
        free(msg);
    } else {
        status = rc ? cli_fail(o, rc) : 0;
    }
    strata_report_free(rep);
    strata_conn_close(conn);
    return status;
}

/* --wait-replicas: after the run, until every streaming replica replayed
 * it; a line per replica (or the "replicas" member of the JSON). */
static int wait_replicas(cli_opts *o, strata_conn *conn, double seconds, json_t **json)
{
    strata_replicas_report *rr = NULL;
    int rc = strata_replicas_wait(conn, seconds, &rr);
    json_t *arr = o->json ? json_array() : NULL;
    for (size_t i = 0; rr && i < rr->n; i++) {
        const strata_replica *p = &rr->replicas[i];
        if (arr) {
            json_t *e = json_pack("{s:s, s:s, s:b}", "name", p->name, "address", p->address,
                                  "caught_up", p->caught_up);
            if (p->caught_up)
                json_object_set_new(e, "waited_ms", json_real(p->waited * 1000));
            if (p->replay_lag >= 0)
                json_object_set_new(e, "replay_lag_ms", json_real(p->replay_lag * 1000));
            json_array_append_new(arr, e);
        } else if (p->caught_up) {
            fprintf(stderr,
                    "replica %s (%s) has the changes: waited %.0f ms (replay lag %s%.0f ms)\n",
                    p->name, p->address, p->waited * 1000, p->replay_lag < 0 ? "unknown, " : "",
                    p->replay_lag < 0 ? 0 : p->replay_lag * 1000);
        }
    }
    if (!rc && !o->json && rr && !rr->n)
        fprintf(stderr, "no streaming replicas to wait for\n");
    if (arr && json)
        *json = arr;
    else if (arr)
        json_decref(arr);
    strata_replicas_report_free(rr);
    return rc;
}

int cmd_migrations_run(cli_opts *o)
{
    if (cli_fleet_wanted(o))
        return cli_fleet(o, STRATA_FLEET_MIGRATE);
    if (o->nargs)
        return cli_usage_error(o, "'migrations run' takes no arguments");
    double wait = -1;
    if (o->wait_replicas) {
        char *end = NULL;
        wait = strtod(o->wait_replicas, &end);
        if (end == o->wait_replicas || *end || !(wait >= 0))
            return cli_usage_error(o, "--wait-replicas needs a number of seconds, not '%s'",
                                   o->wait_replicas);
    }
    strata_conn *conn;
    int status = open_for_change(o, &conn);
    if (status)
        return status;
    strata_options opt;
    fill_options(o, &opt);
    strata_report *rep = NULL;
    int rc = strata_migrations_run(conn, &opt, &rep);
    json_t *replicas = NULL;
    if (!rc && wait >= 0 && !o->dry_run)
        rc = wait_replicas(o, conn, wait, &replicas);
    if (!rc) {
        if (o->json) {
            json_t *j = report_json(rep, o->dry_run ? "pending" : "applied");
            if (o->dry_run && rep->sql)
                json_object_set_new(j, "sql", json_string(rep->sql));
            if (replicas)
                json_object_set_new(j, "replicas", replicas);
            replicas = NULL;
            print_json(j);
        } else if (o->dry_run) {
            fputs(rep->sql ? rep->sql : "", stdout);
            if (!rep->n)
                printf("-- nothing to apply\n");
        } else if (rep->n) {
            printf("%zu migration%s applied\n", rep->n, rep->n == 1 ? "" : "s");
        } else {
            printf("nothing to apply: the database is up to date\n");
        }
    }
    json_decref(replicas);
    return finish(o, rc, rep, conn);
}

int cmd_migrations_revert(cli_opts *o)
{
    if (cli_fleet_wanted(o))
        return cli_fleet(o, STRATA_FLEET_REVERT);
    if (o->nargs)
        return cli_usage_error(o, "'migrations revert' takes no arguments");
    if ((o->steps > 0) + (o->to != NULL) + o->all > 1)
        return cli_usage_error(o, "give one of --steps, --to and --all");
    strata_conn *conn;
    int status = open_for_change(o, &conn);
    if (status)
        return status;
    strata_options opt;
    fill_options(o, &opt);
    strata_report *rep = NULL;
    int rc = strata_migrations_revert(conn, &opt, &rep);
    if (!rc) {
        if (o->json) {
            json_t *j = report_json(rep, "reverted");
            if (o->dry_run && rep->sql)
                json_object_set_new(j, "sql", json_string(rep->sql));
            print_json(j);
        } else if (o->dry_run) {
            fputs(rep->sql ? rep->sql : "-- nothing to revert\n", stdout);
        } else if (rep->n) {
            printf("%zu migration%s reverted\n", rep->n, rep->n == 1 ? "" : "s");
        } else {
            printf("nothing to revert: no migration is applied\n");
        }
    }
    return finish(o, rc, rep, conn);
}

int cmd_migrations_show(cli_opts *o)
{
    if (cli_fleet_wanted(o))
        return cli_fleet(o, STRATA_FLEET_STATUS);
    if (o->nargs)
        return cli_usage_error(o, "'migrations show' takes no arguments");
    strata_conn *conn;
    int status = cli_open(o, 0, &conn);
    if (status)
        return status;
    strata_options opt;
    fill_options(o, &opt);
    strata_report *rep = NULL;
    int rc = strata_migrations_status(conn, &opt, &rep);
    if (rc)
        return finish(o, rc, rep, conn);
    if (o->json) {
        json_t *j = report_json(rep, "migrations");
        json_object_set_new(j, "pending", json_integer(rep->pending));
        print_json(j);
    } else {
        size_t w = 0;
        for (size_t i = 0; i < rep->n; i++)
            if (strlen(rep->items[i].id) > w)
                w = strlen(rep->items[i].id);
        for (size_t i = 0; i < rep->n; i++) {
            const strata_migration_info *it = &rep->items[i];
            /* ids are padded only when something follows them, so lines
             * never end in spaces */
            char *more = NULL;
            int n = 0;
            char flag[128];
            const char *off = item_flag_off(rep, i, flag, sizeof flag);
            switch (it->status) {
            case STRATA_MIG_APPLIED:
                n = asprintf(&more, "%s  %lld ms%s%s%s", it->applied_at ? it->applied_at : "",
                             it->duration_ms, off ? "  (flag " : "", off ? off : "",
                             off ? " is off)" : "");
                break;
            case STRATA_MIG_SKIPPED:
                n = asprintf(&more, "skipped: flag %s is off", off ? off : "?");
                break;
            case STRATA_MIG_CHANGED:
                n = asprintf(&more, "changed since it was applied %s",
                             it->applied_at ? it->applied_at : "");
                break;
            case STRATA_MIG_PARTIAL:
            case STRATA_MIG_RUNNING:
                n = asprintf(&more, "%s: %d of %d operations applied", status_word(it->status),
                             it->ops_applied, it->ops_total);
                break;
            case STRATA_MIG_MISSING_FILE:
                n = asprintf(&more, "applied, but the file is missing");
                break;
            case STRATA_MIG_INVALID:
                n = asprintf(&more, "%s%s",
                             it->applied_at ? "applied, but the file is invalid: " : "",
                             it->description ? it->description : "invalid");
                break;
            default:
                break;
            }
            if (n < 0)
                more = NULL;
            if (more)
                printf("%s %-*s  %s\n", status_mark(it->status), (int)w, it->id, more);
            else
                printf("%s %s\n", status_mark(it->status), it->id);
            free(more);
        }
        if (!rep->n)
            printf("no migrations in %s\n", o->migrations_dir);
        char *flags = flags_line(rep);
        if (flags)
            printf("%s\n", flags);
        free(flags);
    }
    status = rep->pending || rep->problems ? 1 : 0;
    strata_report_free(rep);
    strata_conn_close(conn);
    return status;
}

int cmd_migrations_sql(cli_opts *o)
{
    strata_dialect d = STRATA_SQLITE;
    const char *dialect = o->dialects.n ? o->dialects.v[o->dialects.n - 1] : NULL;
    int guessed = 0; /* said once the SQL is there: an error needs no note */
    if (dialect) {
        int p = strata_dialect_parse(dialect);
        if (p < 0)
            return cli_usage_error(o, "unknown dialect '%s' (postgres, mysql or sqlite)", dialect);
        d = (strata_dialect)p;
    } else if (cli_database_is_default(o)) {
        guessed = 1;
    } else {
        strata_url url;
        if (strata_url_parse(o->database_url, &url) == 0) {
            d = url.dialect;
            strata_url_dispose(&url);
        }
    }
    strata_options opt;
    fill_options(o, &opt);
    char *sql = NULL;
    int rc = strata_migrations_sql(&opt, d, o->down, o->args, (size_t)o->nargs, &sql);
    if (rc)
        return cli_fail(o, rc);
    if (guessed)
        fprintf(stderr, "strata: SQL for sqlite (no --dialect, and no database configured)\n");
    if (o->json) {
        json_t *j = json_pack("{s:s, s:s}", "dialect", strata_dialect_name(d), "sql", sql);
        print_json(j);
    } else {
        fputs(sql, stdout);
    }
    free(sql);
    return 0;
}

int cmd_migrations_validate(cli_opts *o)
{
    if (cli_fleet_wanted(o))
        return cli_fleet(o, STRATA_FLEET_VALIDATE);
    if (o->nargs)
        return cli_usage_error(o, "'migrations validate' takes no arguments");
    strata_conn *conn = NULL;
    if (cli_database_is_default(o) && cli_in_ci()) {
        /* validating needs no database: in CI without one, it is offline */
        fprintf(stderr, "strata: no database given and CI is set: validating offline only\n");
    } else {
        int status = cli_open(o, 0, &conn);
        if (status)
            return status;
    }
    strata_options opt;
    fill_options(o, &opt);
    strata_report *rep = NULL;
    int rc = strata_migrations_validate(conn, &opt, &rep);
    if (!rc) {
        size_t valid = rep->total - (size_t)rep->skipped;
        if (o->json) {
            json_t *j = json_pack("{s:b, s:i, s:i}", "valid", 1, "migrations", (int)valid,
                                  "skipped", rep->skipped);
            if (rep->nflags) {
                json_t *flags = json_object();
                for (size_t i = 0; i < rep->nflags; i++)
                    json_object_set_new(flags, rep->flag_names[i],
                                        json_boolean(rep->flag_values[i]));
                json_object_set_new(j, "flags", flags);
            }
            print_json(j);
        } else {
            printf("%zu migration%s valid for postgres, mysql and sqlite%s\n", valid,
                   valid == 1 ? "" : "s", conn ? "; applied checksums match" : "");
            if (rep->skipped) {
                char *flags = flags_line(rep);
                printf("%d skipped (a flag they need is off); %s\n", rep->skipped, flags);
                free(flags);
            }
        }
    }
    return finish(o, rc, rep, conn);
}

int cmd_migrations_repair(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'migrations repair' takes no arguments");
    strata_conn *conn;
    int status = cli_open(o, 1, &conn);
    if (status)
        return status;
    strata_options opt;
    fill_options(o, &opt);
    strata_report *rep = NULL;
    int rc = strata_migrations_repair(conn, &opt, &rep);
    if (!rc) {
        if (o->json)
            print_json(report_json(rep, "repaired"));
        else
            printf("%zu migration%s repaired\n", rep->n, rep->n == 1 ? "" : "s");
    }
    return finish(o, rc, rep, conn);
}

/* The differences that stopped a baseline (or that --force went past). */
static void baseline_drift(cli_opts *o, const strata_diff_result *d, int forced)
{
    if (!d || !d->n || o->json)
        return;
    cli_progress_clear();
    fprintf(stderr, "%s:\n",
            forced ? "strata: warning: the database differs from the migrations"
                   : "strata: the database differs from the migrations");
    cli_diff_print(stderr, d);
}

int cmd_migrations_baseline(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'migrations baseline' takes no arguments");
    if (!o->to)
        return cli_usage_error(o, "'migrations baseline' needs --to VERSION: the newest migration "
                                  "whose schema the database already has");
    strata_conn *conn;
    int status = cli_open(o, 1, &conn);
    if (status)
        return status;
    strata_options opt;
    fill_options(o, &opt);
    strata_report *rep = NULL;
    strata_diff_result *drift = NULL;
    int rc = strata_migrations_baseline(conn, &opt, &rep, &drift);
    baseline_drift(o, drift, rc == 0);
    if (rc && o->json && drift && drift->n) {
        /* the drift that stopped it, with the error */
        status = cli_exit_status(rc);
        char *msg = cli_clean(strata_error_message(), 392);
        fprintf(stderr, "strata: %s\n", msg);
        json_t *j = json_pack("{s:[], s:o, s:s, s:i}", "baselined", "differences",
                              cli_diff_json(drift), "error", msg, "exit", status);
        print_json(j);
        free(msg);
        strata_diff_result_free(drift);
        strata_report_free(rep);
        strata_conn_close(conn);
        return status;
    }
    if (!rc) {
        if (o->json) {
            json_t *j = report_json(rep, "baselined");
            json_object_set_new(j, "differences", cli_diff_json(drift));
            print_json(j);
        } else if (rep->n) {
            printf("%zu migration%s recorded as applied, without running %s\n", rep->n,
                   rep->n == 1 ? "" : "s", rep->n == 1 ? "it" : "them");
        } else {
            printf("nothing to baseline: the history has every migration up to %s\n", o->to);
        }
    }
    strata_diff_result_free(drift);
    return finish(o, rc, rep, conn);
}

int cmd_migrations_schema(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'migrations schema' takes no arguments");
    strata_schema_format f;
    int status = cli_schema_format(o, &f);
    if (status)
        return status;
    strata_options opt;
    fill_options(o, &opt);
    char *text = NULL;
    int rc = strata_migrations_schema(&opt, f, &text);
    if (rc)
        return cli_fail(o, rc);
    status = cli_write_text(o, text);
    free(text);
    return status;
}

int cmd_migrations_adopt(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'migrations adopt' takes no arguments");
    if (!o->from)
        return cli_usage_error(o, "'migrations adopt' needs --from typeorm");
    strata_conn *conn;
    int rc = strata_conn_open(&conn, o->database_url);
    if (rc)
        return cli_fail(o, rc);
    strata_options opt;
    fill_options(o, &opt);
    strata_report *rep = NULL;
    rc = strata_migrations_adopt(conn, &opt, o->from, &rep);
    if (!rc) {
        if (o->json) {
            json_t *j = report_json(rep, o->dry_run ? "would_adopt" : "adopted");
            json_t *un = json_array();
            for (size_t i = 0; i < rep->nunmatched; i++)
                json_array_append_new(un, json_string(rep->unmatched[i]));
            json_object_set_new(j, "unmatched", un);
            print_json(j);
        } else {
            printf("%zu migration%s %s from %s's history", rep->n, rep->n == 1 ? "" : "s",
                   o->dry_run ? "would be adopted" : "adopted", o->from);
            if (rep->nunmatched)
                printf("; %zu row%s matched no migration file", rep->nunmatched,
                       rep->nunmatched == 1 ? "" : "s");
            printf("\n");
        }
    }
    return finish(o, rc, rep, conn);
}

int cmd_migration_create(cli_opts *o)
{
    if (o->nargs != 1)
        return cli_usage_error(o, "usage: strata migration create NAME");
    char *path = NULL;
    int rc = strata_migration_create(o->migrations_dir, o->args[0], &path);
    if (rc)
        return cli_fail(o, rc);
    if (o->json)
        print_json(json_pack("{s:s}", "created", path));
    else
        printf("created %s\n", path);
    free(path);
    return 0;
}

static int cmd_lock(cli_opts *o, int release)
{
    if (o->nargs)
        return cli_usage_error(o, "'lock %s' takes no arguments", release ? "release" : "status");
    if (o->force && !release)
        return cli_usage_error(o, "--force goes with 'lock release'");
    /* a SQLite file that does not exist has no lock, and is not created */
    strata_conn *conn;
    int status = cli_open(o, 0, &conn);
    if (status)
        return status;
    char *text = NULL;
    int rc = 0;
    if (!conn)
        text = strdup(release ? "the migration lock is free; nothing to release" : "free");
    else
        rc = !release   ? strata_lock_status(conn, &text)
             : o->force ? strata_lock_force_release(conn, &text)
                        : strata_lock_release(conn, &text);
    if (!rc) {
        if (o->json)
            print_json(json_pack("{s:s}", release ? "release" : "lock", text));
        else
            printf("%s\n", text);
    }
    free(text);
    strata_conn_close(conn);
    return rc ? cli_fail(o, rc) : 0;
}

int cmd_lock_status(cli_opts *o)
{
    return cmd_lock(o, 0);
}

int cmd_lock_release(cli_opts *o)
{
    return cmd_lock(o, 1);
}

int cmd_migration_generate(cli_opts *o)
{
    if (o->nargs != 1 || !o->schema)
        return cli_usage_error(o, "usage: strata migration generate NAME --schema FILE");
    strata_options opt;
    fill_options(o, &opt);
    char *path = NULL;
    size_t nops = 0;
    int rc = strata_migration_generate(&opt, o->args[0], o->schema, &path, &nops);
    if (rc)
        return cli_fail(o, rc);
    if (o->json)
        print_json(json_pack("{s:s, s:i}", "created", path, "operations", (int)nops));
    else
        printf("created %s (%zu operation%s)\n", path, nops, nops == 1 ? "" : "s");
    free(path);
    return 0;
}
