/*
 * settings.c - where the global options' values come from, first found
 * wins (cli_precedence_text in table.c says it for users):
 *
 *   1. the command line                  "--lock-timeout"
 *   2. the environment                   "STRATA_LOCK_TIMEOUT"
 *   3. ./.env                            ".env: STRATA_LOCK_TIMEOUT"
 *   4. strata.json: the environment      "strata.json: environments.ci.lock_timeout"
 *      chosen, then the top level        "strata.json: lock_timeout"
 *   5. the option's default              "default"
 *
 * Each option's environment variables, strata.json key and default are in
 * its line of cli_globals, so this file names no option but the three that
 * say where the others come from: --no-dotenv (command line or
 * environment), --config and --env (also from .env).
 *
 * strata.json, chosen over TOML because jansson reads it already (no new
 * dependency, errors with line and column) and Strata's migrations and
 * seeds are JSON too:
 *
 *   {
 *     "default_env": "dev",
 *     "migrations_dir": "migrations",
 *     "environments": {
 *       "dev":  {"url": "sqlite:./dev.db"},
 *       "prod": {"url": "${PROD_DATABASE_URL}", "lock_timeout": 300}
 *     }
 *   }
 *
 * Keys are the `key` column of cli_globals, at the top level (every
 * environment) or in an environment; "$comment" is ignored anywhere.
 * ${NAME} in a string is the environment variable NAME (or NAME in .env).
 * An unknown key, a value of the wrong type or an unset ${NAME} is bad
 * input (exit 2), named by file and key.
 *
 * .env holds NAME=VALUE lines (`export ` before them, '#' comments,
 * 'single' or "double" quotes, as dbmate and Prisma read them). It gives
 * values to Strata's settings only; it does not change the environment of
 * the process.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#define DOTENV_PATH ".env"

struct cli_settings {
    /* ./.env */
    char **dotenv_names, **dotenv_values;
    size_t ndotenv;
    /* strata.json: the document and the chosen environment (NULL: none) */
    char *config_path;
    json_t *config;
    json_t *environment;
    const char *environment_name;
    const char **environment_names;
    /* strings the settings point at, freed with them */
    char **owned;
    size_t nowned;
};

static const char *own(struct cli_settings *s, char *text)
{
    s->owned = realloc(s->owned, (s->nowned + 1) * sizeof *s->owned);
    if (!s->owned)
        abort();
    s->owned[s->nowned++] = text;
    return text;
}

static const char *ownf(struct cli_settings *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *ownf(struct cli_settings *s, const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        abort();
    va_end(ap);
    return own(s, text);
}

void cli_settings_free(cli_opts *o)
{
    struct cli_settings *s = o->settings;
    if (!s)
        return;
    for (size_t i = 0; i < s->ndotenv; i++) {
        free(s->dotenv_names[i]);
        free(s->dotenv_values[i]);
    }
    free(s->dotenv_names);
    free(s->dotenv_values);
    free(s->config_path);
    json_decref(s->config);
    free(s->environment_names);
    for (size_t i = 0; i < s->nowned; i++)
        free(s->owned[i]);
    free(s->owned);
    free(s);
    o->settings = NULL;
}

int cli_in_ci(void)
{
    const char *ci = getenv("CI");
    return ci && *ci && strcmp(ci, "0") != 0 && strcasecmp(ci, "false") != 0;
}

/* ---- values ---- */

static int parse_flag(const char *text, int *out)
{
    static const char *const on[] = {"1", "true", "yes", "on"};
    static const char *const off[] = {"0", "false", "no", "off", ""};
    for (size_t i = 0; i < sizeof on / sizeof on[0]; i++)
        if (strcasecmp(text, on[i]) == 0) {
            *out = 1;
            return 0;
        }
    for (size_t i = 0; i < sizeof off / sizeof off[0]; i++)
        if (strcasecmp(text, off[i]) == 0) {
            *out = 0;
            return 0;
        }
    return -1;
}

int cli_option_set(cli_opts *o, const cli_option *opt, const char *text, const char *where)
{
    char *field = (char *)o + opt->offset;
    char *end = NULL;
    char at[256] = ""; /* "STRATA_X: ", or nothing on the command line */
    if (strcmp(where, opt->name) != 0)
        snprintf(at, sizeof at, "%s: ", where);
    switch (opt->kind) {
    case CLI_FLAG:
        if (parse_flag(text, (int *)(void *)field) != 0)
            return cli_input_error(o,
                                   "%s%s takes 1, true, yes or on, or 0, false, no or off, "
                                   "not '%s'",
                                   at, opt->name, text);
        return 0;
    case CLI_URL:
        /* an explicitly empty value is a mistake, never "use the default" */
        if (!*text)
            return cli_input_error(o, "%s%s is empty: give a database URL (or leave it unset)", at,
                                   opt->name);
        *(const char **)(void *)field = text;
        return 0;
    case CLI_TEXT:
    case CLI_PATHS:
        *(const char **)(void *)field = text;
        return 0;
    case CLI_SECONDS: {
        /* plain decimal seconds: no nan, inf, hex or exponent */
        errno = 0;
        double v = strtod(text, &end);
        if (!*text || *end || errno || v < 0 || !isfinite(v) ||
            strspn(text, "0123456789.") != strlen(text))
            return cli_input_error(o, "%s%s needs a number of seconds, not '%s'", at, opt->name,
                                   text);
        *(double *)(void *)field = v;
        return 0;
    }
    case CLI_LIST: /* the parser keeps every value given (main.c) */
        return 0;
    case CLI_COUNT: {
        errno = 0;
        long v = strtol(text, &end, 10);
        if (!*text || *end || errno || v < 1 || v > 1000000000)
            return cli_input_error(o, "%s%s needs a positive number, not '%s'", at, opt->name,
                                   text);
        *(int *)(void *)field = (int)v;
        return 0;
    }
    }
    return 0;
}

/* ---- ./.env ---- */

static const char *dotenv_get(const struct cli_settings *s, const char *name)
{
    for (size_t i = s->ndotenv; i-- > 0;)
        if (strcmp(s->dotenv_names[i], name) == 0)
            return s->dotenv_values[i];
    return NULL;
}

/* One value: 'single' (as it is), "double" (\n \t \" \\ \$ escapes) or
 * bare (up to a " #" comment, trailing blanks dropped). NULL when a quote
 * is not closed or something follows it. */
static char *dotenv_value(const char *p)
{
    size_t n = strlen(p);
    char *v = malloc(n + 1), *w = v;
    if (!v)
        abort();
    if (*p == '\'' || *p == '"') {
        char q = *p++;
        for (; *p && *p != q; p++) {
            if (q == '"' && *p == '\\' && p[1]) {
                p++;
                *w++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
            } else {
                *w++ = *p;
            }
        }
        if (*p != q) {
            free(v);
            return NULL;
        }
        for (p++; *p == ' ' || *p == '\t'; p++)
            ;
        if (*p && *p != '#') {
            free(v);
            return NULL;
        }
    } else {
        for (; *p && !(*p == '#' && (w == v || w[-1] == ' ' || w[-1] == '\t')); p++)
            *w++ = *p;
        while (w > v && (w[-1] == ' ' || w[-1] == '\t' || w[-1] == '\r'))
            w--;
    }
    *w = '\0';
    return v;
}

static int dotenv_load(cli_opts *o, struct cli_settings *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0
                               : cli_input_error(o, "cannot read %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, status = 0;
    while (!status && getline(&line, &cap, f) >= 0) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        if (strncmp(p, "export ", 7) == 0)
            for (p += 7; *p == ' '; p++)
                ;
        char *name = p;
        while (isalnum((unsigned char)*p) || *p == '_')
            p++;
        size_t nlen = (size_t)(p - name);
        while (*p == ' ' || *p == '\t')
            p++;
        if (!nlen || isdigit((unsigned char)*name) || *p != '=') {
            status = cli_input_error(o, "%s:%d: expected NAME=VALUE", path, lineno);
            break;
        }
        for (p++; *p == ' ' || *p == '\t'; p++)
            ;
        char *value = dotenv_value(p);
        if (!value) {
            status = cli_input_error(o, "%s:%d: a quote is not closed, or something follows it",
                                     path, lineno);
            break;
        }
        s->dotenv_names = realloc(s->dotenv_names, (s->ndotenv + 1) * sizeof(char *));
        s->dotenv_values = realloc(s->dotenv_values, (s->ndotenv + 1) * sizeof(char *));
        if (!s->dotenv_names || !s->dotenv_values)
            abort();
        s->dotenv_names[s->ndotenv] = strndup(name, nlen);
        s->dotenv_values[s->ndotenv++] = value;
    }
    free(line);
    fclose(f);
    return status;
}

/* ---- strata.json ---- */

/* The option whose strata.json key is `key`, or NULL. */
static const cli_option *option_by_key(const char *key)
{
    for (size_t i = 0; i < cli_nglobals; i++)
        if (cli_globals[i].key && strcmp(cli_globals[i].key, key) == 0)
            return &cli_globals[i];
    return NULL;
}

/* A value of the right JSON type for its option? */
static int value_type_ok(const cli_option *opt, const json_t *v)
{
    switch (opt->kind) {
    case CLI_FLAG:
        return json_is_boolean(v);
    case CLI_SECONDS:
    case CLI_COUNT:
        return json_is_number(v);
    case CLI_PATHS:
        if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
            {
                if (!json_is_string(e))
                    return 0;
            }
            return json_array_size(v) > 0;
        }
        return json_is_string(v);
    case CLI_TEXT:
    case CLI_URL:
        return json_is_string(v);
    case CLI_LIST: /* command options only: never in strata.json */
        return 0;
    }
    return 0;
}

static const char *type_wanted(const cli_option *opt)
{
    switch (opt->kind) {
    case CLI_FLAG:
        return "true or false";
    case CLI_SECONDS:
    case CLI_COUNT:
        return "a number";
    case CLI_PATHS:
        return "a string or a list of strings";
    default:
        return "a string";
    }
}

/* Check one object of settings (the top level, or an environment):
 * every key an option's, every value of its type. `where` names it. */
static int config_check_object(cli_opts *o, const char *path, const char *where, json_t *obj,
                               int top)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (strcmp(key, "$comment") == 0 || (top && strcmp(key, "$schema") == 0))
            continue;
        if (top && strcmp(key, "default_env") == 0) {
            if (!json_is_string(v))
                return cli_input_error(o, "%s: default_env: expected a string", path);
            continue;
        }
        if (top && strcmp(key, "environments") == 0)
            continue;
        const cli_option *opt = option_by_key(key);
        if (!opt) {
            const char *names[CLI_MAX_OPTIONS + 2];
            size_t n = 0;
            for (size_t i = 0; i < cli_nglobals; i++)
                if (cli_globals[i].key)
                    names[n++] = cli_globals[i].key;
            if (top) {
                names[n++] = "environments";
                names[n++] = "default_env";
            }
            const char *near = cli_nearest(key, names, n);
            return cli_input_error(o, "%s: %s%sunknown key '%s'%s%s%s", path, where,
                                   *where ? ": " : "", key, near ? " (did you mean '" : "",
                                   near ? near : "", near ? "'?)" : "");
        }
        if (!value_type_ok(opt, v))
            return cli_input_error(o, "%s: %s%s%s: expected %s", path, where, *where ? "." : "",
                                   key, type_wanted(opt));
    }
    return 0;
}

static int config_check(cli_opts *o, struct cli_settings *s)
{
    const char *path = s->config_path;
    if (!json_is_object(s->config))
        return cli_input_error(o, "%s: expected a JSON object", path);
    int status = config_check_object(o, path, "", s->config, 1);
    json_t *envs = json_object_get(s->config, "environments");
    if (status || !envs)
        return status;
    if (!json_is_object(envs))
        return cli_input_error(o, "%s: environments: expected an object of environments", path);
    size_t n = json_object_size(envs), k = 0;
    s->environment_names = calloc(n + 1, sizeof(char *));
    if (!s->environment_names)
        abort();
    const char *name;
    json_t *env;
    json_object_foreach(envs, name, env)
    {
        if (strcmp(name, "$comment") == 0)
            continue;
        if (!json_is_object(env))
            return cli_input_error(o, "%s: environments.%s: expected an object", path, name);
        const char *where = ownf(s, "environments.%s", name);
        if ((status = config_check_object(o, path, where, env, 0)) != 0)
            return status;
        s->environment_names[k++] = name;
    }
    return 0;
}

static int config_load(cli_opts *o, struct cli_settings *s, const char *path, int must_exist)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (!must_exist && errno == ENOENT)
            return 0;
        return cli_input_error(o, "cannot read the config file %s: %s", path, strerror(errno));
    }
    json_error_t err;
    s->config = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    s->config_path = strdup(path);
    if (!s->config)
        return cli_input_error(o, "%s:%d:%d: %s", path, err.line, err.column, err.text);
    return config_check(o, s);
}

/* Choose the environment `name` of strata.json. */
static int config_select(cli_opts *o, struct cli_settings *s, const char *name, const char *where)
{
    json_t *envs = s->config ? json_object_get(s->config, "environments") : NULL;
    json_t *env = envs ? json_object_get(envs, name) : NULL;
    if (env && strcmp(name, "$comment") != 0) {
        s->environment = env;
        s->environment_name = name;
        return 0;
    }
    if (!s->config)
        return cli_input_error(o, "%s: environment '%s', but there is no %s", where, name,
                               o->config ? o->config : "strata.json");
    char known[1024] = "";
    for (size_t i = 0; s->environment_names && s->environment_names[i]; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                 s->environment_names[i]);
    return cli_input_error(o, "%s: no environment '%s' in %s (%s%s)", where, name, s->config_path,
                           *known ? "it has " : "it has none", known);
}

/* ${NAME} in a strata.json string: the environment's NAME, else .env's. */
static int expand(cli_opts *o, struct cli_settings *s, const char *text, const char *where,
                  const char **out)
{
    if (!strstr(text, "${")) {
        *out = text;
        return 0;
    }
    size_t cap = strlen(text) + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        abort();
    for (const char *p = text; *p;) {
        const char *add = p;
        size_t n = 1;
        char name[256];
        if (p[0] == '$' && p[1] == '{') {
            const char *close = strchr(p + 2, '}');
            size_t nlen = close ? (size_t)(close - p - 2) : 0;
            if (!close || !nlen || nlen >= sizeof name) {
                free(buf);
                return cli_input_error(o, "%s: '${' without a NAME} in '%s'", where, text);
            }
            memcpy(name, p + 2, nlen);
            name[nlen] = '\0';
            add = getenv(name);
            if (!add)
                add = dotenv_get(s, name);
            if (!add) {
                free(buf);
                return cli_input_error(o, "%s: ${%s} is not set (in the environment or .env)",
                                       where, name);
            }
            n = strlen(add);
            p = close + 1;
        } else {
            p++;
        }
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            buf = realloc(buf, cap);
            if (!buf)
                abort();
        }
        memcpy(buf + len, add, n);
        len += n;
    }
    buf[len] = '\0';
    *out = own(s, buf);
    return 0;
}

/* A strata.json value as the text an option reads. */
static int config_text(cli_opts *o, struct cli_settings *s, const json_t *v, const char *where,
                       const char **out)
{
    if (json_is_string(v))
        return expand(o, s, json_string_value(v), where, out);
    if (json_is_boolean(v)) {
        *out = json_is_true(v) ? "1" : "0";
        return 0;
    }
    if (json_is_integer(v)) {
        *out = ownf(s, "%lld", (long long)json_integer_value(v));
        return 0;
    }
    if (json_is_real(v)) {
        *out = ownf(s, "%.17g", json_real_value(v));
        return 0;
    }
    /* a list of paths */
    char *joined = strdup("");
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        const char *part;
        int status = expand(o, s, json_string_value(e), where, &part);
        if (status) {
            free(joined);
            return status;
        }
        char *next = NULL;
        if (asprintf(&next, "%s%s%s", joined, i ? ":" : "", part) < 0)
            abort();
        free(joined);
        joined = next;
    }
    *out = own(s, joined);
    return 0;
}

/* ---- resolving ---- */

/* The first of an option's environment variables that is set, from the
 * environment (dotenv 0) or from .env (dotenv 1); *name gets its name. */
static const char *from_env(const struct cli_settings *s, const cli_option *opt, int dotenv,
                            const char **name, char *buf, size_t bufsize)
{
    for (const char *p = opt->env; p && *p;) {
        size_t n = strcspn(p, " ");
        if (n && n < bufsize) {
            memcpy(buf, p, n);
            buf[n] = '\0';
            const char *v = dotenv ? dotenv_get(s, buf) : getenv(buf);
            if (v) {
                *name = buf;
                return v;
            }
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    return NULL;
}

/* Find an option's value and its source, first found wins; *text NULL
 * when nothing gives one (the default is the caller's). `config` 0 leaves
 * strata.json out (for the options that choose it). */
static int resolve(cli_opts *o, struct cli_settings *s, size_t i, const char *given, int config,
                   const char **text, cli_source *source)
{
    const cli_option *opt = &cli_globals[i];
    char name[128];
    const char *envname = NULL;
    *text = NULL;
    if (given) {
        *text = given;
        *source = opt->name;
    } else if ((*text = from_env(s, opt, 0, &envname, name, sizeof name)) != NULL) {
        *source = ownf(s, "%s", envname);
    } else if ((*text = from_env(s, opt, 1, &envname, name, sizeof name)) != NULL) {
        *source = ownf(s, "%s: %s", DOTENV_PATH, envname);
    } else if (config && opt->key && s->config) {
        json_t *v = s->environment ? json_object_get(s->environment, opt->key) : NULL;
        if (v) {
            *source =
                ownf(s, "%s: environments.%s.%s", s->config_path, s->environment_name, opt->key);
        } else if ((v = json_object_get(s->config, opt->key)) != NULL) {
            *source = ownf(s, "%s: %s", s->config_path, opt->key);
        }
        if (v)
            return config_text(o, s, v, *source, text);
    }
    return 0;
}

static size_t global_index(const char *name)
{
    for (size_t i = 0; i < cli_nglobals; i++)
        if (strcmp(cli_globals[i].name, name) == 0)
            return i;
    abort(); /* a name this file uses is not in the table */
}

/* Resolve option `name` and set it (its default when nothing gives one). */
static int settle(cli_opts *o, struct cli_settings *s, const char *name, const char *const *given,
                  int config)
{
    size_t i = global_index(name);
    const char *text = NULL;
    cli_source source = "default";
    int status = resolve(o, s, i, given[i], config, &text, &source);
    if (status)
        return status;
    o->source[i] = source;
    if (!text)
        text = cli_globals[i].def;
    return text ? cli_option_set(o, &cli_globals[i], text, source) : 0;
}

int cli_settings_load(cli_opts *o, const char *const *given)
{
    struct cli_settings *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    o->settings = s;
    /* --no-dotenv: the command line or the environment only (.env is not
     * read yet) */
    int status = settle(o, s, "--no-dotenv", given, 0);
    if (!status && !o->no_dotenv)
        status = dotenv_load(o, s, DOTENV_PATH);
    /* which strata.json, and which of its environments */
    if (!status)
        status = settle(o, s, "--config", given, 0);
    if (!status) {
        int named = o->source[global_index("--config")] != NULL &&
                    strcmp(o->source[global_index("--config")], "default") != 0;
        status = config_load(o, s, o->config, named);
    }
    if (!status)
        status = settle(o, s, "--env", given, 0);
    if (!status && !o->env && s->config) {
        json_t *def = json_object_get(s->config, "default_env");
        if (def) {
            o->env = json_string_value(def);
            o->source[global_index("--env")] = ownf(s, "%s: default_env", s->config_path);
        }
    }
    if (!status && o->env)
        status = config_select(o, s, o->env, o->source[global_index("--env")]);
    /* then every other option that has a source besides the command line */
    for (size_t i = 0; !status && i < cli_nglobals; i++) {
        const cli_option *opt = &cli_globals[i];
        if (o->source[i] || (!opt->env && !opt->key)) {
            if (!o->source[i] && given[i])
                status = cli_option_set(o, opt, given[i], opt->name);
            continue;
        }
        status = settle(o, s, opt->name, given, 1);
    }
    return status;
}

int cli_database_is_default(const cli_opts *o)
{
    const char *src = o->source[global_index("--database-url")];
    return !src || strcmp(src, "default") == 0;
}

const char *const *cli_config_environments(const cli_opts *o)
{
    return o->settings ? o->settings->environment_names : NULL;
}

int cli_config_env_url(cli_opts *o, const char *name, const char **url)
{
    struct cli_settings *s = o->settings;
    *url = NULL;
    json_t *envs = s && s->config ? json_object_get(s->config, "environments") : NULL;
    json_t *env = envs ? json_object_get(envs, name) : NULL;
    if (!env)
        return config_select(o, s, name, "--targets"); /* prints the error: no such one */
    json_t *v = json_object_get(env, "url");
    if (!v)
        return 0;
    return config_text(o, s, v, ownf(s, "%s: environments.%s.url", s->config_path, name), url);
}
