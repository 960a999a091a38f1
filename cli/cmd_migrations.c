/*
 * cmd_migrations.c - `strata migrations ...`, `strata migration create` and
 * `strata lock ...`: argument checks, then one library call, then printing.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    }
    return "?";
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
        json_array_append_new(arr, o);
    }
    json_t *root = json_object();
    json_object_set_new(root, key, arr);
    json_t *w = json_array();
    for (size_t i = 0; r && i < r->nwarnings; i++)
        json_array_append_new(w, json_string(r->warnings[i]));
    json_object_set_new(root, "warnings", w);
    return root;
}

static void print_json(json_t *root)
{
    char *s = json_dumps(root, JSON_INDENT(2));
    printf("%s\n", s);
    free(s);
    json_decref(root);
}

/* Open the connection; for read-only commands a SQLite file that does not
 * exist is not created (*conn stays NULL: nothing is applied there). */
static int open_conn(cli_opts *o, int create, strata_conn **conn)
{
    *conn = NULL;
    const char *u = o->database_url;
    if (!create && strncmp(u, "sqlite:", 7) == 0 && strcmp(u, "sqlite::memory:") != 0) {
        strata_url url;
        if (strata_url_parse(u, &url) == 0) {
            struct stat st;
            int missing = stat(url.database, &st) != 0;
            strata_url_dispose(&url);
            if (missing)
                return 0;
        }
    }
    return strata_conn_open(conn, u);
}

/* The connection for run and revert. A dry run must not create a SQLite
 * file that does not exist yet: it runs on an empty in-memory database,
 * which is what that file would be. */
static int open_for_change(cli_opts *o, strata_conn **conn)
{
    if (!o->dry_run)
        return strata_conn_open(conn, o->database_url);
    int rc = open_conn(o, 0, conn);
    if (!rc && !*conn)
        rc = strata_conn_open(conn, "sqlite::memory:");
    return rc;
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
    opt->log_cb = cli_log;
}

static int finish(cli_opts *o, int rc, strata_report *rep, strata_conn *conn)
{
    for (size_t i = 0; rep && !o->json && i < rep->nwarnings; i++)
        fprintf(stderr, "strata: warning: %s\n", rep->warnings[i]);
    int status;
    if (rc && o->json && rep && rep->n) {
        /* a run that failed part-way: what it did before, and the error */
        status = cli_exit_status(rc);
        fprintf(stderr, "strata: %s\n", strata_error_message());
        json_t *j = report_json(rep, "done");
        json_object_set_new(j, "error", json_string(strata_error_message()));
        json_object_set_new(j, "exit", json_integer(status));
        print_json(j);
    } else {
        status = rc ? cli_fail(o, rc) : 0;
    }
    strata_report_free(rep);
    strata_conn_close(conn);
    return status;
}

int cmd_migrations_run(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'migrations run' takes no arguments");
    strata_conn *conn;
    int rc = open_for_change(o, &conn);
    if (rc)
        return cli_fail(o, rc);
    strata_options opt;
    fill_options(o, &opt);
    strata_report *rep = NULL;
    rc = strata_migrations_run(conn, &opt, &rep);
    if (!rc) {
        if (o->json) {
            json_t *j = report_json(rep, o->dry_run ? "pending" : "applied");
            if (o->dry_run && rep->sql)
                json_object_set_new(j, "sql", json_string(rep->sql));
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
    return finish(o, rc, rep, conn);
}

int cmd_migrations_revert(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'migrations revert' takes no arguments");
    if ((o->steps > 0) + (o->to != NULL) + o->all > 1)
        return cli_usage_error(o, "give one of --steps, --to and --all");
    strata_conn *conn;
    int rc = open_for_change(o, &conn);
    if (rc)
        return cli_fail(o, rc);
    strata_options opt;
    fill_options(o, &opt);
    strata_report *rep = NULL;
    rc = strata_migrations_revert(conn, &opt, &rep);
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
    if (o->nargs)
        return cli_usage_error(o, "'migrations show' takes no arguments");
    strata_conn *conn;
    int rc = open_conn(o, 0, &conn);
    if (rc)
        return cli_fail(o, rc);
    strata_options opt;
    fill_options(o, &opt);
    strata_report *rep = NULL;
    rc = strata_migrations_status(conn, &opt, &rep);
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
            switch (it->status) {
            case STRATA_MIG_APPLIED:
                n = asprintf(&more, "%s  %lld ms", it->applied_at ? it->applied_at : "",
                             it->duration_ms);
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
    }
    int status = rep->pending || rep->problems ? 1 : 0;
    strata_report_free(rep);
    strata_conn_close(conn);
    return status;
}

int cmd_migrations_sql(cli_opts *o)
{
    strata_dialect d = STRATA_SQLITE;
    if (o->dialect) {
        int p = strata_dialect_parse(o->dialect);
        if (p < 0)
            return cli_usage_error(o, "unknown dialect '%s' (postgres, mysql or sqlite)",
                                   o->dialect);
        d = (strata_dialect)p;
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
    if (o->nargs)
        return cli_usage_error(o, "'migrations validate' takes no arguments");
    strata_conn *conn = NULL;
    int rc = open_conn(o, 0, &conn);
    if (rc)
        return cli_fail(o, rc);
    strata_options opt;
    fill_options(o, &opt);
    strata_report *rep = NULL;
    rc = strata_migrations_validate(conn, &opt, &rep);
    if (!rc) {
        if (o->json) {
            json_t *j = json_pack("{s:b, s:i}", "valid", 1, "migrations", (int)rep->total);
            print_json(j);
        } else {
            printf("%zu migration%s valid for postgres, mysql and sqlite%s\n", rep->total,
                   rep->total == 1 ? "" : "s", conn ? "; applied checksums match" : "");
        }
    }
    return finish(o, rc, rep, conn);
}

int cmd_migrations_repair(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'migrations repair' takes no arguments");
    strata_conn *conn;
    int rc = strata_conn_open(&conn, o->database_url);
    if (rc)
        return cli_fail(o, rc);
    strata_options opt;
    fill_options(o, &opt);
    strata_report *rep = NULL;
    rc = strata_migrations_repair(conn, &opt, &rep);
    if (!rc) {
        if (o->json)
            print_json(report_json(rep, "repaired"));
        else
            printf("%zu migration%s repaired\n", rep->n, rep->n == 1 ? "" : "s");
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

int cmd_lock(cli_opts *o, int release)
{
    if (o->nargs)
        return cli_usage_error(o, "'lock %s' takes no arguments", release ? "release" : "status");
    /* a SQLite file that does not exist has no lock, and is not created */
    strata_conn *conn;
    int rc = open_conn(o, 0, &conn);
    if (rc)
        return cli_fail(o, rc);
    char *text = NULL;
    if (!conn)
        text = strdup(release ? "the migration lock is free; nothing to release" : "free");
    else
        rc = release ? strata_lock_release(conn, &text) : strata_lock_status(conn, &text);
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
