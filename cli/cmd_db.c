/*
 * cmd_db.c - `strata db ping|diff|pull`: the commands that look at a
 * database as it is.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

int cmd_db_ping(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'db ping' takes no arguments");
    strata_conn *conn;
    int status = cli_open(o, 1, &conn);
    if (status)
        return status;
    strata_dialect d = strata_conn_dialect(conn);
    const char *server = d == STRATA_MYSQL ? (strata_conn_is_mariadb(conn) ? "MariaDB" : "MySQL")
                         : d == STRATA_POSTGRES ? "PostgreSQL"
                                                : "SQLite";
    if (o->json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "dialect", strata_dialect_name(d),
                                 "server_version", strata_conn_server_version(conn), "server",
                                 server, "url", strata_conn_url_masked(conn)));
    else
        printf("%s %s (%s)\n", strata_dialect_name(d), strata_conn_server_version(conn),
               strata_conn_url_masked(conn));
    strata_conn_close(conn);
    return 0;
}

json_t *cli_diff_json(const strata_diff_result *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; r && i < r->n; i++) {
        const strata_diff_item *it = &r->items[i];
        json_t *j =
            json_pack("{s:s, s:s, s:s}", "kind", it->kind, "what", it->what, "message", it->line);
        if (it->table)
            json_object_set_new(j, "table", json_string(it->table));
        if (it->name)
            json_object_set_new(j, "name", json_string(it->name));
        if (it->left)
            json_object_set_new(j, "migrations", json_string(it->left));
        if (it->right)
            json_object_set_new(j, "database", json_string(it->right));
        json_array_append_new(arr, j);
    }
    return arr;
}

void cli_diff_print(FILE *f, const strata_diff_result *r)
{
    for (size_t i = 0; r && i < r->n; i++)
        fprintf(f, "%s\n", r->items[i].line);
    if (r && r->n)
        fprintf(f, "%zu difference%s\n", r->n, r->n == 1 ? "" : "s");
}

int cmd_db_diff(cli_opts *o)
{
    if (cli_fleet_wanted(o))
        return cli_fleet(o, STRATA_FLEET_DIFF);
    if (o->nargs)
        return cli_usage_error(o, "'db diff' takes no arguments");
    strata_conn *conn;
    int status = cli_open(o, 1, &conn);
    if (status)
        return status;
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = o->migrations_dir;
    opt.flags = cli_flag_settings(&opt.nflags);
    strata_diff_result *r = NULL;
    int rc = strata_db_diff(conn, &opt, &r);
    strata_conn_close(conn);
    if (rc) {
        strata_diff_result_free(r);
        return cli_fail(o, rc);
    }
    for (size_t i = 0; i < r->nwarnings; i++)
        fprintf(stderr, "strata: warning: %s\n", r->warnings[i]);
    if (o->json)
        cli_print_json(json_pack("{s:b, s:o}", "drift", r->n > 0, "differences", cli_diff_json(r)));
    else if (r->n == 0)
        printf("no drift: the database matches the migrations\n");
    else
        cli_diff_print(stdout, r);
    status = r->n ? 1 : 0;
    strata_diff_result_free(r);
    return status;
}

/* The --format of db pull and migrations schema (json by default). */
int cli_schema_format(cli_opts *o, strata_schema_format *f)
{
    *f = STRATA_SCHEMA_JSON;
    if (!o->format)
        return 0;
    int p = strata_schema_format_parse(o->format);
    if (p < 0)
        return cli_usage_error(o, "--format must be json, mermaid or dot, not '%s'", o->format);
    *f = (strata_schema_format)p;
    return 0;
}

/* Print a schema, or write it to --out. */
int cli_write_text(cli_opts *o, const char *text)
{
    if (!o->out) {
        printf("%s", text);
        if (*text && text[strlen(text) - 1] != '\n')
            printf("\n");
        return 0;
    }
    int status, created;
    FILE *f = cli_create_output(o, o->out, &status, &created);
    if (!f)
        return status;
    fprintf(f, "%s", text);
    if (*text && text[strlen(text) - 1] != '\n')
        fprintf(f, "\n");
    if (fclose(f) != 0)
        return cli_input_error(o, "cannot write %s", o->out);
    if (o->json)
        cli_print_json(json_pack("{s:s}", "written", o->out));
    else
        printf("wrote %s\n", o->out);
    return 0;
}

int cmd_db_pull(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'db pull' takes no arguments (use --out FILE)");
    strata_schema_format f;
    int status = cli_schema_format(o, &f);
    if (status)
        return status;
    strata_conn *conn;
    status = cli_open(o, 1, &conn);
    if (status)
        return status;
    char *text = NULL;
    char **warnings = NULL;
    size_t nw = 0;
    int rc = strata_db_schema(conn, f, &text, &warnings, &nw);
    strata_conn_close(conn);
    for (size_t i = 0; i < nw; i++) {
        fprintf(stderr, "strata: warning: %s\n", warnings[i]);
        free(warnings[i]);
    }
    free(warnings);
    if (rc)
        return cli_fail(o, rc);
    status = cli_write_text(o, text);
    free(text);
    return status;
}
