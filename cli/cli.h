/*
 * cli.h - the strata command-line tool. The tool is a thin user of
 * libstrata: it parses arguments, calls the library and prints results.
 *
 * Everything the tool knows about its options and commands is in three
 * tables (table.c): the global options, the command options and the
 * commands. The argument parser, the environment / .env / strata.json
 * loading (settings.c), `--help`, the man page and the shell completion
 * (help.c) are all made from them, so adding a global option is one line
 * in cli_globals plus the field of cli_opts that holds its value.
 */
#ifndef STRATA_CLI_H
#define STRATA_CLI_H

#include "strata.h"

#include <stddef.h>
#include <stdio.h>

/* How an option's value is read, wherever it comes from. */
typedef enum {
    CLI_FLAG,    /* no value on the command line; 1/true/yes/on or 0/false/no/off
                    in the environment, true/false in strata.json */
    CLI_TEXT,    /* any text */
    CLI_URL,     /* a database URL; every one given on the command line is
                    also kept in cli_opts.urls (for `check`) */
    CLI_PATHS,   /* a path; repeated on the command line, or a list in
                    strata.json, the paths are joined with ':' */
    CLI_SECONDS, /* a number of seconds, 0 or more */
    CLI_COUNT,   /* a whole number, 1 or more */
    CLI_LIST,    /* a command option that may be repeated: every value given is
                    kept, in order, in a cli_list */
} cli_kind;

/* The values of a repeated option (CLI_LIST), in the order given. */
typedef struct cli_list {
    const char **v;
    int n;
} cli_list;

/* What shell completion offers for an option's value, or for a
 * command's positional arguments. */
typedef enum {
    CLI_COMPLETE_NONE = 0,
    CLI_COMPLETE_FILE,
    CLI_COMPLETE_DIR,
    CLI_COMPLETE_VERSION, /* the migrations' versions */
    CLI_COMPLETE_DIALECT,
    CLI_COMPLETE_FORMAT, /* the command's --format values */
    CLI_COMPLETE_MODE,   /* seed modes */
    CLI_COMPLETE_ENV,    /* the environments of strata.json */
    CLI_COMPLETE_SHELL,  /* bash, zsh */
} cli_complete;

typedef struct cli_option {
    const char *name;  /* "--database-url" */
    const char *alias; /* "-f", or NULL */
    const char *arg;   /* the value's name in help ("URL"); NULL for a flag */
    const char *env;   /* environment variables, first found wins ("STRATA_DATABASE_URL
                          DATABASE_URL"); NULL for command options */
    const char *key;   /* its key in strata.json, NULL when it has none */
    const char *def;   /* the default, as text; NULL for none */
    const char *help;  /* one line */
    cli_kind kind;
    size_t offset; /* of its field in cli_opts: int for flags and counts,
                      double for seconds, const char * otherwise */
    cli_complete complete;
} cli_option;

/* Where a global option's value came from, for `config show` and messages:
 * "--lock-timeout", "STRATA_LOCK_TIMEOUT", ".env: DATABASE_URL",
 * "strata.json: environments.prod.url", "default". */
typedef const char *cli_source;

#define CLI_MAX_OPTIONS 64

typedef struct cli_opts {
    /* global options (cli_globals) */
    const char *database_url;
    const char *migrations_dir;
    double lock_timeout;
    const char *targets;   /* a fleet's targets file, or env:NAME,... */
    int parallel;          /* a fleet's targets at once (0: the library's default) */
    double target_timeout; /* a fleet target's time limit (0: none) */
    int json;
    int progress; /* 1 always, 0 never, -1 (unset): on a terminal */
    const char *env;
    const char *config;
    int no_dotenv;
    int help;
    int version;
    /* command options (cli_command_options) */
    const char *to;
    int steps;
    int all;
    int dry_run;
    cli_list dialects; /* every --dialect: `lint` takes several, others the last */
    int down;
    const char *file;
    int no_migrate;
    const char *mode;
    const char *format;
    const char *out;
    const char *schema;
    int allow_out_of_order;
    int single_transaction;
    int mark_applied;
    const char *junit;
    int force;                  /* baseline, lock release: --force */
    const char *wait_replicas;  /* run --wait-replicas [SECS] (NULL: do not wait) */
    int non_atomic;             /* seed --non-atomic */
    cli_list ignores;           /* lint: every --ignore RULE[,RULE...] */
    const char *sarif;          /* lint: --sarif FILE */
    const char *history_compat; /* --history-compat: also keep that tool's history */
    const char *from;           /* adopt --from */
    cli_list flags;             /* --flag / --no-flag (flags.c keeps their order) */
    int fail_fast;              /* fleet: --fail-fast */
    int continue_all;           /* fleet: --continue */
    int canary;                 /* fleet: --canary K */
    /* every --database-url given, for `check` */
    const char **urls;
    int nurls;
    /* the command words and the positional words after them */
    const char *command;
    const char **args;
    int nargs;
    /* where each global option's value came from, by its place in cli_globals */
    cli_source source[CLI_MAX_OPTIONS];
    struct cli_settings *settings; /* settings.c: .env, strata.json, strings */
} cli_opts;

typedef struct cli_command {
    const char *words; /* "migrations run" */
    int (*fn)(cli_opts *);
    const char *usage;   /* what follows the words in a synopsis */
    const char *summary; /* one line */
    const char *options; /* the command options it takes, space-separated */
    cli_complete args;   /* what its positional arguments are */
    const char *formats; /* its --format values, space-separated */
    int no_settings;     /* runs without reading .env and strata.json (it
                            prints the tool's own text, say at build time) */
} cli_command;

extern const cli_option cli_globals[];
extern const size_t cli_nglobals;
extern const cli_option cli_command_options[];
extern const size_t cli_ncommand_options;
extern const cli_command cli_commands[];
extern const size_t cli_ncommands;
/* The paragraphs on where settings come from (--help, the man page). */
extern const char *const cli_precedence_text[];

/* ---- main.c ---- */

/* The exit status the spec gives a libstrata error code: 0 success, 2 bad
 * input (as for the tool's own usage errors), 1 anything else - the
 * operation failed, or something is pending, changed or drifted. */
int cli_exit_status(int code);
/* Print an error the spec's way and return the exit status for it. */
int cli_fail(const cli_opts *o, int code);
/* Print a usage error and return 2. */
int cli_usage_error(const cli_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print an error about the input (a setting, a file) and return 2. */
int cli_input_error(const cli_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The library's log callback: each line to stderr, warnings marked. */
void cli_log(strata_log_level level, const char *message, void *payload);
/* Text the tool prints that may hold what a user typed or the library
 * said: every URL password masked (strata_text_mask), cut to at most `max`
 * bytes in the middle (0: not cut). Caller frees. */
char *cli_clean(const char *text, size_t max);
/* Open an output file the user named (--out, --junit, --sarif) for
 * writing: never through a symbolic link, a regular file only, made 0644
 * when new (*created). NULL with the error printed and *status its exit
 * status (2). */
FILE *cli_create_output(const cli_opts *o, const char *path, int *status, int *created);
/* Close an output file of cli_create_output unwritten, and remove it when
 * it was made for this run. NULL: nothing. */
void cli_discard_output(FILE *f, const char *path, int created);
/* The name of `names` nearest to `word` (a typo's fix), or NULL. */
const char *cli_nearest(const char *word, const char *const *names, size_t n);
/* Print a JSON document (taking its reference) on stdout. */
struct json_t;
void cli_print_json(struct json_t *root);

/* ---- settings.c ---- */

/* Fill the global options of `o` from the command line (already in
 * `given`), the environment, ./.env and strata.json, in that order of
 * precedence, then the defaults. Returns 0, or the exit status of an
 * error it printed (a bad value, a broken strata.json or .env: 2). */
int cli_settings_load(cli_opts *o, const char *const *given);
void cli_settings_free(cli_opts *o);
/* Read an option's value from text into its field of `o`; `where` names
 * the source in the error. 0 or the exit status. */
int cli_option_set(cli_opts *o, const cli_option *opt, const char *text, const char *where);
/* The environments strata.json defines (NULL-terminated; NULL if none). */
const char *const *cli_config_environments(const cli_opts *o);
/* Is the database URL the built-in default, because nothing gave one? */
int cli_database_is_default(const cli_opts *o);
/* Is the CI environment variable set (to anything but "", 0 or false)? */
int cli_in_ci(void);

/* ---- database.c ---- */

/* The database a command uses. Without a configured one this says on
 * stderr that it uses the default and why - and refuses when CI is set.
 * Opens the connection (`create` 0: a SQLite file that does not exist is
 * not created, and *conn stays NULL). Returns 0 or the exit status of an
 * error it printed. */
int cli_open(cli_opts *o, int create, strata_conn **conn);

/* ---- progress.c ---- */

/* Is progress shown? --progress / STRATA_PROGRESS: 1 always, 0 never;
 * unset: when stderr is a terminal and the output is not --json. */
int cli_progress_enabled(const cli_opts *o);
/* Show the progress line: on a terminal one line rewritten in place,
 * elsewhere one line per call. */
void cli_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Keep the line on a terminal (end it with a newline). */
void cli_progress_keep(void);
/* Clear the line on a terminal, before other output. */
void cli_progress_clear(void);
/* Callbacks for the library's progress events. */
void cli_progress_migration(const strata_migration_progress *p, void *payload);
void cli_progress_seed(const strata_seed_progress *p, void *payload);
void cli_progress_check(const strata_check_progress *p, void *payload);

/* ---- help.c ---- */

void cli_help(FILE *f);
int cmd_manpage(cli_opts *o);
int cmd_completion(cli_opts *o);
int cmd_complete(cli_opts *o);

/* ---- cmd_db.c: shared with other commands ---- */

/* The differences of a comparison as a JSON array / as lines and a count. */
struct json_t *cli_diff_json(const strata_diff_result *r);
void cli_diff_print(FILE *f, const strata_diff_result *r);
/* The --format of db pull and migrations schema (json when not given);
 * 0 or the exit status of a usage error. */
int cli_schema_format(cli_opts *o, strata_schema_format *f);
/* Print text, or write it to --out; 0 or the exit status. */
int cli_write_text(cli_opts *o, const char *text);

/* ---- report.c: what the reports of check and fleets share ---- */

/* Text as XML attribute or element content: <, >, &, " escaped, control
 * characters (but newline and tab) as spaces. */
void cli_xml_escape(FILE *f, const char *s);

/* ---- cmd_fleet.c ---- */

/* Does the command line ask for a fleet - --targets, several
 * --database-url, or a fleet's option? */
int cli_fleet_wanted(const cli_opts *o);
/* Run the command on every target, print the report (a table, --json,
 * --junit); the exit status. */
int cli_fleet(cli_opts *o, strata_fleet_action action);
/* The fleet's progress line (progress.c). */
void cli_progress_fleet(const strata_fleet_progress *p, void *payload);

/* ---- settings.c: strata.json's environments as targets ---- */

/* The url of environment `name` of strata.json (${NAME} expanded; NULL
 * when it has none); 0 or the exit status of an error it printed. */
int cli_config_env_url(cli_opts *o, const char *name, const char **url);

/* ---- commands ---- */

/* Feature flags (flags.c): a --flag (off: --no-flag) setting, in order;
 * then every setting - MEDUSA_FF_* and STRATA_FLAGS from the environment
 * first, so that the command line wins - for strata_options.flags. */
void cli_flag_add(const char *setting, int off);
const char *const *cli_flag_settings(size_t *n);

int cmd_migrations_run(cli_opts *o);
int cmd_migrations_adopt(cli_opts *o);
int cmd_migrations_revert(cli_opts *o);
int cmd_migrations_show(cli_opts *o);
int cmd_migrations_sql(cli_opts *o);
int cmd_migrations_validate(cli_opts *o);
int cmd_migrations_repair(cli_opts *o);
int cmd_migrations_baseline(cli_opts *o);
int cmd_migrations_lint(cli_opts *o);
int cmd_migrations_plan(cli_opts *o);
int cmd_migrations_schema(cli_opts *o);
int cmd_migration_create(cli_opts *o);
int cmd_migration_generate(cli_opts *o);
int cmd_lock_status(cli_opts *o);
int cmd_lock_release(cli_opts *o);
int cmd_seed(cli_opts *o);
int cmd_seed_convert(cli_opts *o);
int cmd_db_ping(cli_opts *o);
int cmd_db_diff(cli_opts *o);
int cmd_db_pull(cli_opts *o);
int cmd_check(cli_opts *o);
int cmd_config_show(cli_opts *o);

#endif /* STRATA_CLI_H */
