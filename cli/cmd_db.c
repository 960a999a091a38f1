/*
 * cmd_db.c - `strata db diff` (and the other db commands that build on
 * introspection).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

int cmd_db_diff(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'db diff' takes no arguments");
    strata_conn *conn;
    int rc = strata_conn_open(&conn, o->database_url);
    if (rc)
        return cli_fail(o, rc);
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = o->migrations_dir;
    opt.flags = cli_flag_settings(&opt.nflags);
    strata_diff_result *r = NULL;
    rc = strata_db_diff(conn, &opt, &r);
    strata_conn_close(conn);
    if (rc) {
        strata_diff_result_free(r);
        return cli_fail(o, rc);
    }
    for (size_t i = 0; i < r->nwarnings; i++)
        fprintf(stderr, "strata: warning: %s\n", r->warnings[i]);
    if (o->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < r->n; i++) {
            const strata_diff_item *it = &r->items[i];
            json_t *j = json_pack("{s:s, s:s, s:s}", "kind", it->kind, "what", it->what, "message",
                                  it->line);
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
        json_t *root = json_pack("{s:b, s:o}", "drift", r->n > 0, "differences", arr);
        char *s = json_dumps(root, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
        json_decref(root);
    } else if (r->n == 0) {
        printf("no drift: the database matches the migrations\n");
    } else {
        for (size_t i = 0; i < r->n; i++)
            printf("%s\n", r->items[i].line);
        printf("%zu difference%s\n", r->n, r->n == 1 ? "" : "s");
    }
    int status = r->n ? 1 : 0;
    strata_diff_result_free(r);
    return status;
}

int cmd_db_pull(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'db pull' takes no arguments (use --out FILE)");
    strata_conn *conn;
    int rc = strata_conn_open(&conn, o->database_url);
    if (rc)
        return cli_fail(o, rc);
    char *json = NULL;
    char **warnings = NULL;
    size_t nw = 0;
    rc = strata_db_pull(conn, &json, &warnings, &nw);
    strata_conn_close(conn);
    if (rc)
        return cli_fail(o, rc);
    for (size_t i = 0; i < nw; i++) {
        fprintf(stderr, "strata: warning: %s\n", warnings[i]);
        free(warnings[i]);
    }
    free(warnings);
    if (o->out) {
        FILE *f = fopen(o->out, "w");
        if (!f) {
            fprintf(stderr, "strata: cannot write %s\n", o->out);
            free(json);
            return 1;
        }
        fprintf(f, "%s\n", json);
        fclose(f);
        if (!o->json)
            printf("wrote %s\n", o->out);
        else
            printf("{\"written\": \"%s\"}\n", o->out);
    } else {
        printf("%s\n", json);
    }
    free(json);
    return 0;
}
