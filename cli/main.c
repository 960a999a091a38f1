/*
 * main.c - argument parsing and command dispatch for `strata`.
 *
 * Options, global or of the command, may stand before or after the command
 * words (spec/cli.md). The options and commands are those of table.c; the
 * global options not given on the command line come from the environment,
 * ./.env or strata.json (settings.c). Every error goes to stderr as one
 * line starting "strata: "; with --json it is also printed on stdout as
 * {"error": ..., "exit": ...}.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

int cli_exit_status(int code)
{
    switch (code) {
    case STRATA_OK:
        return 0;
    case STRATA_EINPUT:
        return 2;
    default:
        return 1;
    }
}

void cli_print_json(json_t *root)
{
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", s);
    free(s);
    json_decref(root);
}

/* The longest line of a message the tool prints, in bytes ("strata: "
 * included; the library cuts its own messages shorter still). */
#define LINE_MAX_BYTES 400

char *cli_clean(const char *text, size_t max)
{
    char *masked = strata_text_mask(text ? text : "");
    size_t len = strlen(masked);
    if (!max || len <= max)
        return masked;
    /* cut in the middle at whole UTF-8 characters: the start names what,
     * the end why */
    char marker[48];
    int mlen = snprintf(marker, sizeof marker, "...(%zu bytes cut)...", len);
    size_t room = max > (size_t)mlen ? max - (size_t)mlen : 0;
    size_t head = room * 2 / 3, from = len - (room - head);
    while (head > 0 && ((unsigned char)masked[head] & 0xC0) == 0x80)
        head--;
    while (from < len && ((unsigned char)masked[from] & 0xC0) == 0x80)
        from++;
    char *out = NULL;
    if (asprintf(&out, "%.*s%s%s", (int)head, masked, marker, masked + from) < 0)
        abort();
    free(masked);
    return out;
}

/* An error line on stderr, and with --json the error document on stdout:
 * the one place every error the tool prints goes through, so that no URL's
 * password and no value too long to read reaches the terminal or a log. */
static void print_error(const cli_opts *o, const char *msg, int status)
{
    char *clean = cli_clean(msg, LINE_MAX_BYTES - strlen("strata: "));
    cli_progress_clear();
    fprintf(stderr, "strata: %s\n", clean);
    if (o && o->json)
        cli_print_json(json_pack("{s:s, s:i}", "error", clean, "exit", status));
    free(clean);
}

int cli_fail(const cli_opts *o, int code)
{
    const char *msg = strata_error_message();
    print_error(o, *msg ? msg : "failed", cli_exit_status(code));
    return cli_exit_status(code);
}

/* The message of a printf-style error (caller frees). */
static char *vformat(const char *fmt, va_list ap)
{
    char *buf = NULL;
    if (vasprintf(&buf, fmt, ap) < 0)
        abort();
    return buf;
}

/* Print a bad-usage or bad-input error (exit status 2). */
static int error_2(const cli_opts *o, const char *fmt, va_list ap)
{
    char *buf = vformat(fmt, ap);
    print_error(o, buf, 2);
    free(buf);
    return 2;
}

int cli_usage_error(const cli_opts *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_2(o, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'strata --help'.\n");
    return 2;
}

int cli_input_error(const cli_opts *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int status = error_2(o, fmt, ap);
    va_end(ap);
    return status;
}

void cli_log(strata_log_level level, const char *message, void *payload)
{
    (void)payload;
    char *clean = cli_clean(message, LINE_MAX_BYTES);
    cli_progress_clear();
    fprintf(stderr, "%s%s\n", level == STRATA_LOG_WARNING ? "warning: " : "", clean);
    fflush(stderr);
    free(clean);
}

FILE *cli_create_output(const cli_opts *o, const char *path, int *status, int *created)
{
    *status = 0;
    *created = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0)
        *created = 1;
    else if (errno == EEXIST)
        fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        *status = errno == ELOOP ? cli_input_error(o,
                                                   "%s is a symbolic link; strata does not write "
                                                   "through one (remove it, or name another file)",
                                                   path)
                                 : cli_input_error(o, "cannot write %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || ftruncate(fd, 0) != 0) {
        close(fd);
        *status = cli_input_error(o, "cannot write %s: not a regular file", path);
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (!f)
        abort();
    return f;
}

void cli_discard_output(FILE *f, const char *path, int created)
{
    if (!f)
        return;
    fclose(f);
    if (created)
        unlink(path); /* nothing to report: leave no empty file */
}

/* Edit distance, for suggestions. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *row = calloc(lb + 1, sizeof *row);
    if (!row)
        abort();
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[lb];
    free(row);
    return d;
}

const char *cli_nearest(const char *word, const char *const *names, size_t n)
{
    const char *pick = NULL;
    size_t best = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = distance(word, names[i]);
        if (d < best) {
            best = d;
            pick = names[i];
        }
    }
    /* a suggestion only for a plausible typo */
    return pick && best <= 2 + strlen(word) / 4 ? pick : NULL;
}

/* ---- the options ---- */

/* The option named `name` ("--to", "-f", "--file"), global or of a
 * command; *global says which table. */
static const cli_option *find_option(const char *name, size_t len, int *global, size_t *index)
{
    const cli_option *tables[2] = {cli_globals, cli_command_options};
    size_t sizes[2] = {cli_nglobals, cli_ncommand_options};
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < sizes[t]; i++) {
            const cli_option *opt = &tables[t][i];
            if ((strlen(opt->name) == len && strncmp(opt->name, name, len) == 0) ||
                (opt->alias && strlen(opt->alias) == len && strncmp(opt->alias, name, len) == 0)) {
                *global = t == 0;
                *index = i;
                return opt;
            }
        }
    return NULL;
}

static const char *nearest_option(const char *word)
{
    const char *names[2 * CLI_MAX_OPTIONS];
    size_t n = 0;
    for (size_t i = 0; i < cli_nglobals; i++)
        names[n++] = cli_globals[i].name;
    for (size_t i = 0; i < cli_ncommand_options; i++)
        names[n++] = cli_command_options[i].name;
    return cli_nearest(word, names, n);
}

/* Is option `name` one of the space-separated `list`? */
static int listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t k = strcspn(p, " ");
        if (k == n && strncmp(p, name, n) == 0)
            return 1;
        p += k;
        while (*p == ' ')
            p++;
    }
    return 0;
}

/* What the command line said: the global options' texts by their place in
 * cli_globals, the command options' by theirs, and the words. */
typedef struct parsed {
    const char *global[CLI_MAX_OPTIONS];
    const char *command[CLI_MAX_OPTIONS];
    char *joined[CLI_MAX_OPTIONS]; /* repeated paths, joined with ':' */
    const char **words;
    int nwords;
} parsed;

static void parsed_free(parsed *p)
{
    for (size_t i = 0; i < CLI_MAX_OPTIONS; i++)
        free(p->joined[i]);
    free(p->words);
}

/* Remember the value of a global option given on the command line. */
static void given_global(cli_opts *o, parsed *p, size_t i, const char *val)
{
    const cli_option *opt = &cli_globals[i];
    if (opt->kind == CLI_URL)
        o->urls[o->nurls++] = val;
    if (opt->kind == CLI_PATHS && p->global[i]) {
        char *joined = NULL;
        if (asprintf(&joined, "%s:%s", p->global[i], val) < 0)
            abort();
        free(p->joined[i]);
        p->joined[i] = joined;
        val = joined;
    }
    if (!strcmp(opt->name, "--json"))
        o->json = 1;           /* at once: usage errors are printed as JSON too */
    if (opt->kind == CLI_LIST) /* --flag, --no-flag: in order, with the env (flags.c) */
        cli_flag_add(val, !strcmp(opt->name, "--no-flag"));
    p->global[i] = val ? val : "1";
}

/* Split argv into options and words. 0 or the exit status of a usage error. */
static int parse_args(int argc, char **argv, cli_opts *o, parsed *p)
{
    p->words = calloc((size_t)argc + 1, sizeof(char *));
    o->urls = calloc((size_t)argc + 1, sizeof(char *));
    o->dialects.v = calloc((size_t)argc + 1, sizeof(char *));
    o->ignores.v = calloc((size_t)argc + 1, sizeof(char *));
    if (!p->words || !o->urls || !o->dialects.v || !o->ignores.v)
        abort();
    /* --json anywhere makes every usage error a JSON document too, also
     * one about an argument before it */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--json") == 0)
            o->json = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            p->words[p->nwords++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                p->words[p->nwords++] = argv[i];
            break;
        }
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        int global = 0;
        size_t index = 0;
        const cli_option *opt = find_option(a, nlen, &global, &index);
        if (!opt) {
            /* the name is compared, not --name=value */
            char *name = strndup(a, nlen);
            if (!name)
                abort();
            const char *near = nearest_option(name);
            free(name);
            return near ? cli_usage_error(o, "unknown option '%s' (did you mean '%s'?)", a, near)
                        : cli_usage_error(o, "unknown option '%s'", a);
        }
        const char *val = NULL;
        if (opt->arg && opt->arg[0] == '[') {
            /* an optional value: --opt=VALUE, or the next word when it is
             * a number; else the option's default */
            if (eq) {
                val = eq + 1;
            } else if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9') {
                val = argv[++i];
            } else {
                val = opt->def;
            }
        } else if (opt->arg) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return cli_usage_error(o, "option '%s' needs a value (%s)", opt->name, opt->arg);
        } else if (eq) {
            return cli_usage_error(o, "option '%s' takes no value", opt->name);
        }
        if (global) {
            given_global(o, p, index, val);
        } else {
            p->command[index] = val ? val : "1";
            if (opt->kind == CLI_LIST) {
                cli_list *l = (cli_list *)(void *)((char *)o + opt->offset);
                l->v[l->n++] = val;
            }
        }
    }
    return 0;
}

/* The command the words name: the longest match (so "seed convert"
 * before "seed"); *used gets how many words it took. */
static const cli_command *find_command(const char **words, int nwords, int *used)
{
    const cli_command *best = NULL;
    *used = 0;
    for (size_t k = 0; k < cli_ncommands; k++) {
        const char *w = cli_commands[k].words;
        int n = 0, match = 1;
        while (*w && match) {
            size_t len = strcspn(w, " ");
            match = n < nwords && strlen(words[n]) == len && strncmp(words[n], w, len) == 0;
            n++;
            w += len;
            while (*w == ' ')
                w++;
        }
        if (match && n > *used) {
            best = &cli_commands[k];
            *used = n;
        }
    }
    return best;
}

/* Set the command options given, refusing those the command does not take. */
static int set_command_options(cli_opts *o, const cli_command *cmd, const parsed *p)
{
    for (size_t i = 0; i < cli_ncommand_options; i++) {
        const cli_option *opt = &cli_command_options[i];
        if (!p->command[i])
            continue;
        if (!listed(cmd->options, opt->name))
            return cli_usage_error(o, "'%s' takes no option %s", cmd->words, opt->name);
        int status = cli_option_set(o, opt, p->command[i], opt->name);
        if (status)
            return status;
    }
    return 0;
}

static int run(int argc, char **argv, cli_opts *o, parsed *p)
{
    if (argc > 1 && strcmp(argv[1], "__complete") == 0) {
        /* the words being completed are not this command's options */
        o->args = (const char **)argv + 2;
        o->nargs = argc - 2;
        return cmd_complete(o);
    }
    int status = parse_args(argc, argv, o, p);
    if (status)
        return status;
    for (size_t i = 0; i < cli_nglobals; i++) {
        if (p->global[i] && !strcmp(cli_globals[i].name, "--version")) {
            printf("strata %s\n", strata_version());
            return 0;
        }
        if (p->global[i] && !strcmp(cli_globals[i].name, "--help")) {
            cli_help(stdout);
            return 0;
        }
    }
    if (p->nwords == 0) {
        cli_help(stderr);
        return 2;
    }
    int used = 0;
    const cli_command *cmd = find_command(p->words, p->nwords, &used);
    if (!cmd || !cmd->usage) {
        const char *names[64];
        size_t n = 0;
        char *buf = NULL; /* whole: a URL typed here must reach the masker whole */
        if (asprintf(&buf, "%s%s%s", p->words[0], p->nwords > 1 ? " " : "",
                     p->nwords > 1 ? p->words[1] : "") < 0)
            abort();
        for (size_t k = 0; k < cli_ncommands && n < 64; k++)
            if (cli_commands[k].usage)
                names[n++] = cli_commands[k].words;
        const char *near = strlen(buf) < 64 ? cli_nearest(buf, names, n) : NULL;
        status = near ? cli_usage_error(o, "unknown command '%s' (did you mean '%s'?)", buf, near)
                      : cli_usage_error(o, "unknown command '%s'", buf);
        free(buf);
        return status;
    }
    o->command = cmd->words;
    o->args = p->words + used;
    o->nargs = p->nwords - used;
    status = set_command_options(o, cmd, p);
    if (!status && !cmd->no_settings)
        status = cli_settings_load(o, p->global);
    if (!status)
        status = cmd->fn(o);
    return status;
}

int main(int argc, char **argv)
{
    cli_opts o;
    memset(&o, 0, sizeof o);
    o.progress = -1;
    parsed p;
    memset(&p, 0, sizeof p);
    int status = run(argc, argv, &o, &p);
    cli_progress_clear();
    parsed_free(&p);
    free(o.urls);
    free(o.dialects.v);
    free(o.ignores.v);
    cli_settings_free(&o);
    strata_error_clear();
    return status;
}
