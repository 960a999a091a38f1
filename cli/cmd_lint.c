/*
 * cmd_lint.c - `strata migrations lint [VERSION...] [--dialect D ...]
 * [--ignore RULE[,RULE...]] [--json] [--sarif FILE]`: one library call
 * (strata_migrations_lint), then the findings as text, as JSON, or as a
 * SARIF 2.1.0 log for code scanning.
 *
 * Offline: a database is used only when --database-url is given on the
 * command line (not $DATABASE_URL, not the default), and then only to know
 * which migrations are pending there and how big its tables are.
 * Exit status: 0 no error-level finding, 1 some, 2 bad usage or input.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

/* "postgres, mysql" for a set of dialect bits. */
static void dialect_list(unsigned bits, char *out, size_t len)
{
    out[0] = '\0';
    for (int d = 0; d < STRATA_DIALECT_COUNT; d++)
        if (bits & (1u << d)) {
            if (out[0])
                strncat(out, ", ", len - strlen(out) - 1);
            strncat(out, strata_dialect_name((strata_dialect)d), len - strlen(out) - 1);
        }
}

static json_t *dialect_array(unsigned bits)
{
    json_t *a = json_array();
    for (int d = 0; d < STRATA_DIALECT_COUNT; d++)
        if (bits & (1u << d))
            json_array_append_new(a, json_string(strata_dialect_name((strata_dialect)d)));
    return a;
}

/* The file's path as a SARIF artifact URI: relative paths as they are
 * (code scanning resolves them from the repository's root), without "./". */
static const char *artifact_uri(const char *path)
{
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    return path;
}

static const char *sarif_level(strata_lint_severity s)
{
    return s == STRATA_LINT_ERROR ? "error" : s == STRATA_LINT_WARNING ? "warning" : "note";
}

/* A SARIF 2.1.0 log of the findings: one run, the rules in
 * tool.driver.rules, one result per finding at the line of its operation. */
static json_t *sarif_log(const strata_lint_result *r)
{
    size_t nrules;
    const strata_lint_rule *rules = strata_lint_rules(&nrules);
    json_t *jrules = json_array();
    for (size_t i = 0; i < nrules; i++) {
        char help[1024];
        snprintf(help, sizeof help, "%s. docs/lint.md#%s", rules[i].fix, rules[i].id);
        json_array_append_new(
            jrules,
            json_pack("{s:s, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:[s]}}", "id", rules[i].id,
                      "shortDescription", "text", rules[i].summary, "fullDescription", "text",
                      rules[i].summary, "help", "text", help, "defaultConfiguration", "level",
                      sarif_level(rules[i].severity), "properties", "tags", rules[i].category));
    }
    json_t *results = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const strata_lint_finding *f = &r->findings[i];
        size_t idx = (size_t)(f->rule - rules);
        json_t *loc = json_pack("{s:{s:s}}", "artifactLocation", "uri", artifact_uri(f->file));
        if (f->line > 0)
            json_object_set_new(loc, "region", json_pack("{s:i}", "startLine", f->line));
        json_t *location = json_pack("{s:o}", "physicalLocation", loc);
        if (f->path)
            json_object_set_new(
                location, "logicalLocations",
                json_pack("[{s:s, s:s}]", "name", f->path, "fullyQualifiedName", f->path));
        char fingerprint[1024];
        snprintf(fingerprint, sizeof fingerprint, "%s:%s:%s:%s", f->rule->id, f->migration,
                 f->path ? f->path : "", f->table ? f->table : "");
        json_t *props =
            json_pack("{s:o, s:s}", "databases", dialect_array(f->dialects), "fix", f->fix);
        if (f->table)
            json_object_set_new(props, "table", json_string(f->table));
        json_array_append_new(results,
                              json_pack("{s:s, s:I, s:s, s:{s:s}, s:[o], s:{s:s}, s:o}", "ruleId",
                                        f->rule->id, "ruleIndex", (json_int_t)idx, "level",
                                        sarif_level(f->severity), "message", "text", f->message,
                                        "locations", location, "partialFingerprints",
                                        "strataFinding/v1", fingerprint, "properties", props));
    }
    return json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:o}}, s:o, s:[{s:b}]}]}", "$schema",
                     "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0", "runs",
                     "tool", "driver", "name", "strata", "version", strata_version(), "rules",
                     jrules, "results", results, "invocations", "executionSuccessful", 1);
}

static json_t *lint_json(const strata_lint_result *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const strata_lint_finding *f = &r->findings[i];
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s}", "rule", f->rule->id, "category",
                      f->rule->category, "severity", strata_lint_severity_name(f->severity),
                      "migration", f->migration, "file", f->file, "databases",
                      dialect_array(f->dialects), "message", f->message, "fix", f->fix);
        json_object_set_new(o, "path", f->path ? json_string(f->path) : json_null());
        json_object_set_new(o, "line", json_integer(f->line));
        json_object_set_new(o, "table", f->table ? json_string(f->table) : json_null());
        json_array_append_new(arr, o);
    }
    return json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:f}", "findings", arr, "errors",
                     (json_int_t)r->errors, "warnings", (json_int_t)r->warnings, "notices",
                     (json_int_t)r->notices, "suppressed", (json_int_t)r->suppressed, "migrations",
                     (json_int_t)r->migrations, "databases", dialect_array(r->dialects), "seconds",
                     r->seconds);
}

static void print_text(const strata_lint_result *r)
{
    char dl[64];
    for (size_t i = 0; i < r->n; i++) {
        const strata_lint_finding *f = &r->findings[i];
        dialect_list(f->dialects, dl, sizeof dl);
        if (f->line > 0)
            printf("%s:%d:%d: ", f->file, f->line, f->column);
        else
            printf("%s: ", f->file);
        printf("%s [%s] %s%s%s (%s)\n    fix: %s\n", strata_lint_severity_name(f->severity),
               f->rule->id, f->path ? f->path : "", f->path ? ": " : "", f->message, dl, f->fix);
    }
    dialect_list(r->dialects, dl, sizeof dl);
    printf("%zu migration%s linted for %s in %.2f s: %zu error%s, %zu warning%s, %zu notice%s",
           r->migrations, r->migrations == 1 ? "" : "s", dl, r->seconds, r->errors,
           r->errors == 1 ? "" : "s", r->warnings, r->warnings == 1 ? "" : "s", r->notices,
           r->notices == 1 ? "" : "s");
    if (r->suppressed)
        printf(" (%zu suppressed)", r->suppressed);
    printf("\n");
}

/* Write the SARIF log to `path` ("-": stdout); 0, or the exit status of
 * an error it printed. */
static int write_sarif(const cli_opts *o, const strata_lint_result *r, const char *path)
{
    int status = 0, created = 0;
    FILE *f = strcmp(path, "-") == 0 ? stdout : cli_create_output(o, path, &status, &created);
    if (!f)
        return status;
    json_t *log = sarif_log(r);
    int rc = json_dumpf(log, f, JSON_INDENT(2));
    fputc('\n', f);
    json_decref(log);
    if ((f != stdout && fclose(f) != 0) || rc != 0)
        return cli_input_error(o, "cannot write %s", path);
    return 0;
}

/* The connection lint may use: only a --database-url given on the command
 * line, and never one that would create a SQLite file. */
static int lint_conn(cli_opts *o, strata_conn **conn)
{
    *conn = NULL;
    if (o->nurls == 0)
        return 0;
    const char *u = o->urls[o->nurls - 1];
    if (strncmp(u, "sqlite:", 7) == 0 && strcmp(u, "sqlite::memory:") != 0) {
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

int cmd_migrations_lint(cli_opts *o)
{
    strata_lint_options opt = STRATA_LINT_OPTIONS_INIT;
    opt.migrations_dir = o->migrations_dir;
    for (int i = 0; i < o->dialects.n; i++) {
        int d = strata_dialect_parse(o->dialects.v[i]);
        if (d < 0)
            return cli_usage_error(o, "unknown dialect '%s' (postgres, mysql or sqlite)",
                                   o->dialects.v[i]);
        opt.dialects |= 1u << d;
    }
    /* --ignore a,b --ignore c */
    const char **ignore = calloc(256, sizeof *ignore);
    char *copies[64];
    int ncopies = 0;
    size_t nignore = 0;
    for (int i = 0; i < o->ignores.n && ncopies < 64; i++) {
        char *s = strdup(o->ignores.v[i]);
        copies[ncopies++] = s;
        for (char *tok = strtok(s, ","); tok && nignore < 255; tok = strtok(NULL, ","))
            if (*tok)
                ignore[nignore++] = tok;
    }
    opt.ignore = ignore;
    opt.nignore = nignore;

    strata_conn *conn = NULL;
    strata_lint_result *r = NULL;
    int rc = lint_conn(o, &conn);
    if (!rc)
        rc = strata_migrations_lint(conn, &opt, o->args, (size_t)o->nargs, &r);
    int status;
    if (rc) {
        status = cli_fail(o, rc);
    } else {
        if (o->sarif && (status = write_sarif(o, r, o->sarif)) != 0) {
            /* said */
        } else {
            if (o->json) {
                json_t *j = lint_json(r);
                char *s = json_dumps(j, JSON_INDENT(2));
                printf("%s\n", s);
                free(s);
                json_decref(j);
            } else if (!o->sarif || strcmp(o->sarif, "-") != 0) {
                print_text(r);
            }
            status = r->errors ? 1 : 0;
        }
    }
    strata_lint_result_free(r);
    strata_conn_close(conn);
    for (int i = 0; i < ncopies; i++)
        free(copies[i]);
    free(ignore);
    return status;
}
