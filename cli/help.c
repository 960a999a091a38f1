/*
 * help.c - everything the tool says about itself, made from the tables of
 * table.c: `--help`, the man page (`strata manpage`, installed as
 * strata.1), and shell completion (`strata completion bash|zsh`, which
 * call `strata __complete` for the words to offer, so that the scripts
 * stay small and the migration versions and strata.json environments they
 * offer are those this directory's settings name).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* ---- text ---- */

/* Write `first`, then `text` wrapped at `width` columns, the lines after
 * the first indented by `indent` spaces (`first` is padded to it). */
static void wrap(FILE *f, const char *first, int indent, const char *text, int width)
{
    int col = fprintf(f, "%-*s", indent, first);
    int fresh = 1; /* nothing written on this line after the indent yet */
    for (const char *p = text; *p;) {
        while (*p == ' ')
            p++;
        int n = (int)strcspn(p, " ");
        if (!n)
            break;
        if (!fresh && col + 1 + n > width) {
            col = fprintf(f, "\n%*s", indent, "") - 1;
            fresh = 1;
        }
        col += fprintf(f, "%s%.*s", fresh ? "" : " ", n, p);
        fresh = 0;
        p += n;
    }
    fputc('\n', f);
}

/* "-f, --file FILE", "--lock-timeout SECS", "-h, --help" */
static void option_label(char *buf, size_t size, const cli_option *opt)
{
    const char *shortname = NULL, *longname = opt->name;
    if (opt->alias && opt->alias[1] != '-')
        shortname = opt->alias;
    else if (opt->name[1] != '-' && opt->alias) {
        shortname = opt->name;
        longname = opt->alias;
    }
    snprintf(buf, size, "%s%s%s%s%s", shortname ? shortname : "", shortname ? ", " : "", longname,
             opt->arg ? " " : "", opt->arg ? opt->arg : "");
}

/* "env STRATA_X or Y; strata.json "key"; default D", or "" (caller frees). */
static char *option_sources(const cli_option *opt)
{
    char buf[512] = "";
    size_t len = 0;
    if (opt->env) {
        len += (size_t)snprintf(buf + len, sizeof buf - len, "env ");
        for (const char *p = opt->env; *p;) {
            size_t n = strcspn(p, " ");
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%.*s",
                                    p == opt->env ? "" : " or ", (int)n, p);
            p += n;
            while (*p == ' ')
                p++;
        }
    }
    if (opt->key)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%sstrata.json \"%s\"",
                                len ? "; " : "", opt->key);
    if (opt->def)
        snprintf(buf + len, sizeof buf - len, "%sdefault %s", len ? "; " : "", opt->def);
    return strdup(buf);
}

/* An option in --help: its name and value, its help, and (for global
 * options) where else its value may come from. */
static void help_option(FILE *f, const cli_option *opt, int sources)
{
    char label[64], first[80];
    option_label(label, sizeof label, opt);
    snprintf(first, sizeof first, "  %-22s ", label);
    wrap(f, first, 25, opt->help, 79);
    char *src = sources ? option_sources(opt) : NULL;
    if (src && *src)
        wrap(f, "", 25, src, 79);
    free(src);
}

void cli_help(FILE *f)
{
    fprintf(f, "usage: strata [options] <command> [command options]\n\nCommands:\n");
    for (size_t i = 0; i < cli_ncommands; i++) {
        const cli_command *c = &cli_commands[i];
        if (!c->usage)
            continue;
        fprintf(f, "  %s%s%s\n", c->words, *c->usage ? " " : "", c->usage);
        wrap(f, "", 6, c->summary, 79);
    }
    fprintf(f, "\nOptions (anywhere on the line):\n");
    for (size_t i = 0; i < cli_nglobals; i++)
        help_option(f, &cli_globals[i], 1);
    fprintf(f, "\nCommand options:\n");
    for (size_t i = 0; i < cli_ncommand_options; i++)
        help_option(f, &cli_command_options[i], 0);
    fprintf(f, "\nSettings:\n");
    for (size_t i = 0; cli_precedence_text[i]; i++) {
        const char *t = cli_precedence_text[i];
        if (t[0] >= '1' && t[0] <= '9') {
            char first[16];
            snprintf(first, sizeof first, "    %.2s", t);
            wrap(f, first, 7, t + 2, 79);
        } else {
            wrap(f, "", 2, t, 79);
        }
    }
    fprintf(f, "\nExit status: 0 success; 1 the operation failed, or something is pending,\n"
               "changed or drifted; 2 bad usage or bad input, reported before anything changed.\n");
}

/* ---- the man page ---- */

/* Text for roff: backslashes and hyphens escaped, and a line never starting
 * with a control character. */
static void roff_char(FILE *f, char c)
{
    if (c == '\\')
        fputs("\\e", f);
    else if (c == '-')
        fputs("\\-", f);
    else
        fputc(c, f);
}

static void roff(FILE *f, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", f);
    for (; *s; s++)
        roff_char(f, *s);
}

static void roff_option(FILE *f, const cli_option *opt, int sources)
{
    char label[64];
    option_label(label, sizeof label, opt);
    fputs(".TP\n.B ", f);
    roff(f, label);
    fputs("\n", f);
    roff(f, opt->help);
    fputs("\n", f);
    char *src = sources ? option_sources(opt) : NULL;
    if (src && *src) {
        fputs(".br\n", f);
        roff(f, src);
        fputs("\n", f);
    }
    free(src);
}

int cmd_manpage(cli_opts *o)
{
    if (o->nargs)
        return cli_usage_error(o, "'manpage' takes no arguments");
    FILE *f = stdout;
    fprintf(f, ".TH STRATA 1 \"\" \"strata %s\" \"User Commands\"\n", strata_version());
    fputs(".SH NAME\nstrata \\- migrations written once for PostgreSQL, MySQL/MariaDB and "
          "SQLite\n",
          f);
    fputs(".SH SYNOPSIS\n.B strata\n[\\fIoptions\\fR] \\fIcommand\\fR [\\fIcommand "
          "options\\fR]\n",
          f);
    fputs(".SH DESCRIPTION\nStrata runs migrations written once in a dialect\\-neutral JSON "
          "format on PostgreSQL, MySQL/MariaDB and SQLite, records them in a history table, "
          "reverts them, and loads seed data. Options may stand anywhere on the line. This page "
          "says what \\fBstrata \\-\\-help\\fR says; both are made from the same tables.\n",
          f);
    fputs(".SH COMMANDS\n", f);
    for (size_t i = 0; i < cli_ncommands; i++) {
        const cli_command *c = &cli_commands[i];
        if (!c->usage)
            continue;
        /* the tag: the command in bold and its synopsis */
        fputs(".TP\n\\fB", f);
        roff(f, c->words);
        fputs("\\fR", f);
        if (*c->usage) {
            fputs(" ", f);
            roff(f, c->usage);
        }
        fputs("\n", f);
        roff(f, c->summary);
        fputs("\n", f);
    }
    fputs(".SH OPTIONS\n", f);
    for (size_t i = 0; i < cli_nglobals; i++)
        roff_option(f, &cli_globals[i], 1);
    fputs(".SH COMMAND OPTIONS\n", f);
    for (size_t i = 0; i < cli_ncommand_options; i++)
        roff_option(f, &cli_command_options[i], 0);
    fputs(".SH SETTINGS\n", f);
    for (size_t i = 0; cli_precedence_text[i]; i++) {
        const char *t = cli_precedence_text[i];
        fputs(t[0] >= '1' && t[0] <= '9' ? ".IP \"\" 4\n" : ".PP\n", f);
        roff(f, t);
        fputs("\n", f);
    }
    fputs(".SH FILES\n.TP\n.B strata.json\nthe project file: settings at its top level, and "
          "named environments under \"environments\", chosen with \\-\\-env. For example:\n"
          ".nf\n.RS\n"
          "{\n"
          "  \"default_env\": \"dev\",\n"
          "  \"migrations_dir\": \"migrations\",\n"
          "  \"environments\": {\n"
          "    \"dev\": {\"url\": \"sqlite:./dev.db\"},\n"
          "    \"prod\": {\"url\": \"${PROD_DATABASE_URL}\", \"lock_timeout\": 300}\n"
          "  }\n"
          "}\n"
          ".RE\n.fi\n"
          "${NAME} in a value is the environment variable NAME (or NAME in .env).\n"
          ".TP\n.B .env\nNAME=VALUE lines, read from the current directory unless "
          "\\-\\-no\\-dotenv.\n",
          f);
    fputs(".SH ENVIRONMENT\n", f);
    for (size_t i = 0; i < cli_nglobals; i++) {
        if (!cli_globals[i].env)
            continue;
        fputs(".TP\n.B ", f);
        for (const char *p = cli_globals[i].env; *p; p++)
            if (*p == ' ')
                fputs(", ", f);
            else
                roff_char(f, *p);
        fputs("\n", f);
        roff(f, "as ");
        roff(f, cli_globals[i].name);
        fputs("\n", f);
    }
    fputs(".TP\n.B CI\nwhen set (to anything but 0 or false), a command refuses to use the "
          "default database\n.TP\n.B STRATA_CHECK_URLS\nthe databases of \\fBcheck\\fR, "
          "comma\\-separated, when no \\-\\-database\\-url is given\n",
          f);
    fputs(".SH EXIT STATUS\n0 success; 1 the operation failed, or something is pending, changed "
          "or drifted; 2 bad usage or bad input, reported before anything changed.\n",
          f);
    return 0;
}

/* ---- shell completion ---- */

static const char bash_script[] =
    "# bash completion for strata (from `strata completion bash`)\n"
    "_strata()\n"
    "{\n"
    "    local cur=${COMP_WORDS[COMP_CWORD]} line\n"
    "    local -a reply\n"
    "    COMPREPLY=()\n"
    "    mapfile -t reply < <(\"${COMP_WORDS[0]}\" __complete \"$COMP_CWORD\" "
    "\"${COMP_WORDS[@]}\" 2>/dev/null)\n"
    "    case ${reply[0]} in\n"
    "    :files)\n"
    "        compopt -o filenames 2>/dev/null\n"
    "        mapfile -t COMPREPLY < <(compgen -f -- \"$cur\") ;;\n"
    "    :dirs)\n"
    "        compopt -o filenames 2>/dev/null\n"
    "        mapfile -t COMPREPLY < <(compgen -d -- \"$cur\") ;;\n"
    "    *)\n"
    "        for line in \"${reply[@]:1}\"; do\n"
    "            COMPREPLY+=(\"${line%%$'\\t'*}\")\n"
    "        done ;;\n"
    "    esac\n"
    "}\n"
    "complete -F _strata strata\n";

static const char zsh_script[] =
    "#compdef strata\n"
    "# zsh completion for strata (from `strata completion zsh`)\n"
    "_strata()\n"
    "{\n"
    "    local -a reply values\n"
    "    local line word\n"
    "    reply=(\"${(@f)$(\"${words[1]}\" __complete $((CURRENT - 1)) \"${words[@]}\" "
    "2>/dev/null)}\")\n"
    "    case ${reply[1]} in\n"
    "    (:files) _files ;;\n"
    "    (:dirs) _files -/ ;;\n"
    "    (*)\n"
    "        for line in \"${(@)reply[2,-1]}\"; do\n"
    "            word=${line%%$'\\t'*}\n"
    "            values+=(\"${word//:/\\\\:}:${line#*$'\\t'}\")\n"
    "        done\n"
    "        _describe -t values strata values ;;\n"
    "    esac\n"
    "}\n"
    "if [ \"${funcstack[1]}\" = _strata ]; then\n"
    "    _strata \"$@\"\n"
    "else\n"
    "    compdef _strata strata\n"
    "fi\n";

int cmd_completion(cli_opts *o)
{
    if (o->nargs != 1)
        return cli_usage_error(o, "usage: strata completion bash|zsh");
    if (strcmp(o->args[0], "bash") == 0)
        fputs(bash_script, stdout);
    else if (strcmp(o->args[0], "zsh") == 0)
        fputs(zsh_script, stdout);
    else
        return cli_usage_error(o, "no completion for '%s' (bash or zsh)", o->args[0]);
    return 0;
}

/* What to offer: a directive line (":words", or ":files" / ":dirs" for the
 * shell to complete paths itself), then one "word<TAB>description" line per
 * word that starts with `prefix`. */
typedef struct offer {
    const char *prefix;
    const char *directive;
    char *text; /* the word lines */
    size_t len;
    FILE *f;
} offer;

static void offer_word(offer *w, const char *word, size_t len, const char *desc)
{
    size_t plen = strlen(w->prefix);
    if (len >= plen && strncmp(word, w->prefix, plen) == 0)
        fprintf(w->f, "%.*s\t%s\n", (int)len, word, desc ? desc : "");
}

/* Offer each word of a space-separated list. */
static void offer_list(offer *w, const char *list, const char *desc)
{
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, " ");
        if (n)
            offer_word(w, p, n, desc);
        p += n;
        while (*p == ' ')
            p++;
    }
}

/* The migrations' versions, with their names (the settings of this
 * directory say where they are). */
static void offer_versions(offer *w, cli_opts *o)
{
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = o->migrations_dir;
    strata_report *rep = NULL;
    if (strata_migrations_status(NULL, &opt, &rep) == 0)
        for (size_t i = 0; i < rep->n; i++)
            offer_word(w, rep->items[i].version, strlen(rep->items[i].version), rep->items[i].name);
    strata_report_free(rep);
    strata_error_clear();
}

static void offer_value(offer *w, cli_opts *o, cli_complete kind, const cli_command *cmd)
{
    switch (kind) {
    case CLI_COMPLETE_FILE:
        w->directive = ":files";
        return;
    case CLI_COMPLETE_DIR:
        w->directive = ":dirs";
        return;
    case CLI_COMPLETE_VERSION:
        offer_versions(w, o);
        return;
    case CLI_COMPLETE_DIALECT:
        offer_list(w, "postgres mysql sqlite", "a database");
        return;
    case CLI_COMPLETE_FORMAT:
        offer_list(w, cmd && cmd->formats ? cmd->formats : "json mermaid dot strata medusa",
                   "a format");
        return;
    case CLI_COMPLETE_MODE:
        offer_list(w, "insert insert_missing upsert", "a seed mode");
        return;
    case CLI_COMPLETE_SHELL:
        offer_list(w, "bash zsh", "a shell");
        return;
    case CLI_COMPLETE_ENV: {
        const char *const *envs = cli_config_environments(o);
        for (size_t i = 0; envs && envs[i]; i++)
            offer_word(w, envs[i], strlen(envs[i]), "an environment of strata.json");
        return;
    }
    case CLI_COMPLETE_NONE:
        return;
    }
}

static const cli_option *lookup(const char *word, int *global, size_t *index)
{
    for (size_t i = 0; i < cli_nglobals; i++)
        if (!strcmp(word, cli_globals[i].name) ||
            (cli_globals[i].alias && !strcmp(word, cli_globals[i].alias))) {
            *global = 1;
            *index = i;
            return &cli_globals[i];
        }
    for (size_t i = 0; i < cli_ncommand_options; i++)
        if (!strcmp(word, cli_command_options[i].name) ||
            (cli_command_options[i].alias && !strcmp(word, cli_command_options[i].alias))) {
            *global = 0;
            *index = i;
            return &cli_command_options[i];
        }
    return NULL;
}

/* Does command c start with `words` (n of them)? Then *next is the rest of
 * its words ("" when the words name it exactly). */
static int command_starts(const cli_command *c, const char **words, int n, const char **next)
{
    const char *p = c->words;
    for (int k = 0; k < n; k++) {
        size_t len = strcspn(p, " ");
        if (!len || strlen(words[k]) != len || strncmp(words[k], p, len) != 0)
            return 0;
        p += len;
        while (*p == ' ')
            p++;
    }
    *next = p;
    return 1;
}

/* The next word of every command that starts with `words`, once each.
 * Returns how many it offered. */
static int offer_commands(offer *w, const char **words, int n)
{
    const char *seen[64];
    size_t nseen = 0;
    for (size_t i = 0; i < cli_ncommands && nseen < 64; i++) {
        const cli_command *c = &cli_commands[i];
        const char *next;
        if (!c->usage || !command_starts(c, words, n, &next) || !*next)
            continue;
        size_t len = strcspn(next, " ");
        int dup = 0;
        for (size_t k = 0; k < nseen; k++)
            dup |= strncmp(seen[k], next, len) == 0 && (seen[k][len] == ' ' || !seen[k][len]);
        if (dup)
            continue;
        seen[nseen++] = next;
        if (next[len]) {
            /* a group's word ("migrations"): its commands' next words */
            char desc[256] = "";
            for (size_t k = i; k < cli_ncommands; k++) {
                const char *after;
                const cli_command *d = &cli_commands[k];
                if (d->usage && command_starts(d, words, n, &after) &&
                    strncmp(after, next, len) == 0 && after[len] == ' ')
                    snprintf(desc + strlen(desc), sizeof desc - strlen(desc), "%s%.*s",
                             *desc ? ", " : "", (int)strcspn(after + len + 1, " "),
                             after + len + 1);
            }
            offer_word(w, next, len, desc);
        } else {
            offer_word(w, next, len, c->summary);
        }
    }
    return (int)nseen;
}

/* The command the words name, the longest match; *used: its word count. */
static const cli_command *named_command(const char **words, int n, int *used)
{
    for (int k = n; k > 0; k--)
        for (size_t i = 0; i < cli_ncommands; i++) {
            const char *next;
            if (cli_commands[i].usage && command_starts(&cli_commands[i], words, k, &next) &&
                !*next) {
                *used = k;
                return &cli_commands[i];
            }
        }
    *used = 0;
    return NULL;
}

/* `strata __complete CWORD WORD...`: the words a shell offers for word
 * CWORD of the command line WORD... (WORD 0 is the program). */
int cmd_complete(cli_opts *o)
{
    if (o->nargs < 2)
        return 0;
    int cword = atoi(o->args[0]);
    const char **words = o->args + 1;
    int nwords = o->nargs - 1;
    if (cword < 1 || cword > nwords)
        return 0;
    offer w = {cword < nwords ? words[cword] : "", ":words", NULL, 0, NULL};
    w.f = open_memstream(&w.text, &w.len);
    /* the words before the one completed: options, their values, and the
     * command's words */
    const char *given[CLI_MAX_OPTIONS] = {NULL};
    const char *cmdwords[8];
    int ncmd = 0;
    const cli_option *pending = NULL;
    for (int i = 1; i < cword; i++) {
        int global = 0;
        size_t index = 0;
        if (pending) {
            pending = NULL;
            continue;
        }
        const cli_option *opt = words[i][0] == '-' ? lookup(words[i], &global, &index) : NULL;
        if (opt) {
            if (opt->arg && global && i + 1 < cword)
                given[index] = words[i + 1];
            pending = opt->arg ? opt : NULL;
        } else if (words[i][0] != '-' && ncmd < 8) {
            cmdwords[ncmd++] = words[i];
        }
    }
    /* this directory's settings, for versions and environments (errors
     * are not shown: the scripts send stderr away) */
    cli_settings_load(o, given);
    int used = 0;
    const cli_command *cmd = named_command(cmdwords, ncmd, &used);
    if (pending) {
        offer_value(&w, o, pending->complete, cmd);
    } else if (w.prefix[0] == '-') {
        for (size_t i = 0; i < cli_nglobals; i++)
            offer_word(&w, cli_globals[i].name, strlen(cli_globals[i].name), cli_globals[i].help);
        for (size_t i = 0; cmd && i < cli_ncommand_options; i++) {
            const cli_option *opt = &cli_command_options[i];
            const char *p = strstr(cmd->options, opt->name);
            size_t n = strlen(opt->name);
            if (p && (p == cmd->options || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
                offer_word(&w, opt->name, n, opt->help);
        }
    } else if (!cmd || used == ncmd) {
        /* the next command word, or the first argument */
        int more = offer_commands(&w, cmdwords, ncmd);
        if (cmd && !(more && (cmd->args == CLI_COMPLETE_FILE || cmd->args == CLI_COMPLETE_DIR)))
            offer_value(&w, o, cmd->args, cmd);
    } else {
        offer_value(&w, o, cmd->args, cmd);
    }
    fclose(w.f);
    printf("%s\n", w.directive);
    if (strcmp(w.directive, ":words") == 0)
        fputs(w.text ? w.text : "", stdout);
    free(w.text);
    return 0;
}
