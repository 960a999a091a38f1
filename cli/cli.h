/*
 * cli.h - the strata command-line tool: parsed options shared by the
 * command implementations. The tool is a thin user of libstrata; it parses
 * arguments, calls the library and prints results.
 */
#ifndef STRATA_CLI_H
#define STRATA_CLI_H

#include "strata.h"

typedef struct cli_opts {
    const char *database_url;
    const char *migrations_dir;
    int json;
    double lock_timeout;
    /* command options */
    const char *to;
    int steps;
    int all;
    int dry_run;
    const char *dialect;
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
    const char **urls; /* every --database-url given, for `check` */
    int nurls;
    /* positional words after the command words */
    const char **args;
    int nargs;
} cli_opts;

/* The exit status the spec gives a libstrata error code: 0 success, 2 bad
 * input (as for the tool's own usage errors), 1 anything else - the
 * operation failed, or something is pending, changed or drifted. */
int cli_exit_status(int code);
/* Print an error the spec's way and return the exit status for it. */
int cli_fail(const cli_opts *o, int code);
/* Print a usage error and return 2. */
int cli_usage_error(const cli_opts *o, const char *fmt, ...);
/* The library's log callback: each line to stderr, warnings marked. */
void cli_log(strata_log_level level, const char *message, void *payload);

int cmd_migrations_run(cli_opts *o);
int cmd_migrations_revert(cli_opts *o);
int cmd_migrations_show(cli_opts *o);
int cmd_migrations_sql(cli_opts *o);
int cmd_migrations_validate(cli_opts *o);
int cmd_migrations_repair(cli_opts *o);
int cmd_migration_create(cli_opts *o);
int cmd_migration_generate(cli_opts *o);
int cmd_lock(cli_opts *o, int release);
int cmd_seed(cli_opts *o);
int cmd_seed_convert(cli_opts *o);
int cmd_db_diff(cli_opts *o);
int cmd_db_pull(cli_opts *o);
int cmd_check(cli_opts *o);

#endif /* STRATA_CLI_H */
