/*
 * cmd_config.c - `strata config show`: every global option's value and
 * where it came from (the command line, an environment variable, .env,
 * strata.json, or the default), passwords masked. The question a layered
 * configuration raises first is "where does this value come from?".
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* An option's value as text (caller frees); NULL when it has none. */
static char *value_text(const cli_opts *o, const cli_option *opt)
{
    const char *field = (const char *)o + opt->offset;
    char *text = NULL;
    switch (opt->kind) {
    case CLI_FLAG: {
        int v = *(const int *)(const void *)field;
        return strdup(v < 0 ? "auto" : v ? "on" : "off");
    }
    case CLI_SECONDS:
        if (asprintf(&text, "%g", *(const double *)(const void *)field) < 0)
            abort();
        return text;
    case CLI_COUNT:
        if (asprintf(&text, "%d", *(const int *)(const void *)field) < 0)
            abort();
        return text;
    case CLI_URL: {
        const char *url = *(const char *const *)(const void *)field;
        return url ? strata_url_mask(url) : NULL;
    }
    case CLI_TEXT:
    case CLI_PATHS: {
        const char *v = *(const char *const *)(const void *)field;
        return v ? strdup(v) : NULL;
    }
    case CLI_LIST: /* command options only; config show lists global ones */
        return NULL;
    }
    return NULL;
}

int cmd_config_show(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'config show' takes no arguments");
    json_t *root = json_object();
    for (size_t i = 0; i < cli_nglobals; i++) {
        const cli_option *opt = &cli_globals[i];
        if (!opt->env && !opt->key)
            continue;
        char *value = value_text(o, opt);
        const char *source = o->source[i] ? o->source[i] : "default";
        if (o->json)
            json_object_set_new(root, opt->name + 2,
                                json_pack("{s:s?, s:s}", "value", value, "source", source));
        else
            printf("%-16s %-40s %s\n", opt->name + 2, value ? value : "-", source);
        free(value);
    }
    if (o->json)
        cli_print_json(root);
    else
        json_decref(root);
    return 0;
}
