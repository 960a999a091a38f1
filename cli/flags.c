/*
 * flags.c - the feature-flag settings the tool hands to libstrata
 * (strata_options.flags), from three places, weakest first so that a later
 * setting wins:
 *
 *   MEDUSA_FF_<NAME>=VALUE   Medusa's own variables: flag <name> (lower-cased)
 *                            is on when VALUE is "true" in any case, off for
 *                            anything else (Medusa's isTruthy)
 *   STRATA_FLAGS=a,b,-c      on, on, off
 *   --flag NAME[=true|false], --no-flag NAME   on the command line, in order
 */
#include "cli.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern char **environ;

/* The settings from the command line, in order; then all of them. Kept for
 * the life of the process. */
static char **given;
static size_t ngiven;
static char **settings;
static size_t nsettings;

void cli_flag_add(const char *setting, int off)
{
    given = realloc(given, (ngiven + 1) * sizeof *given);
    size_t len = strlen(setting) + 2;
    given[ngiven] = malloc(len);
    snprintf(given[ngiven], len, "%s%s", off ? "-" : "", setting);
    ngiven++;
}

static void push(char *s)
{
    settings = realloc(settings, (nsettings + 1) * sizeof *settings);
    settings[nsettings++] = s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* MEDUSA_FF_SALES_CHANNELS=true -> "sales_channels=true", in name order. */
static void from_medusa_env(void)
{
    static const char prefix[] = "MEDUSA_FF_";
    size_t first = nsettings;
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (strncmp(*e, prefix, sizeof prefix - 1) != 0 || !eq || eq == *e + sizeof prefix - 1)
            continue;
        const char *name = *e + sizeof prefix - 1;
        size_t len = (size_t)(eq - name);
        int on = strcasecmp(eq + 1, "true") == 0;
        char *s = malloc(len + 7);
        for (size_t i = 0; i < len; i++)
            s[i] = (char)tolower((unsigned char)name[i]);
        strcpy(s + len, on ? "=true" : "=false");
        push(s);
    }
    if (nsettings - first > 1)
        qsort(settings + first, nsettings - first, sizeof *settings, cmp_str);
}

/* STRATA_FLAGS=a,b,-c: comma-separated settings, spaces around them ignored. */
static void from_strata_env(void)
{
    const char *v = getenv("STRATA_FLAGS");
    while (v && *v) {
        const char *end = strchr(v, ',');
        size_t len = end ? (size_t)(end - v) : strlen(v);
        const char *p = v;
        while (len && isspace((unsigned char)*p)) {
            p++;
            len--;
        }
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (len)
            push(strndup(p, len));
        v = end ? end + 1 : NULL;
    }
}

const char *const *cli_flag_settings(size_t *n)
{
    static int built;
    if (!built) {
        from_medusa_env();
        from_strata_env();
        for (size_t i = 0; i < ngiven; i++)
            push(strdup(given[i]));
        built = 1;
    }
    *n = nsettings;
    return (const char *const *)settings;
}
