/*
 * table.c - the tables the strata tool is made from: its global options,
 * its command options and its commands. The parser (main.c), the settings
 * from the environment, ./.env and strata.json (settings.c), --help, the
 * man page and the shell completion (help.c) all read these and nothing
 * else, so they cannot disagree.
 *
 * Adding a global option is one line in cli_globals - its name, value,
 * environment variables, strata.json key, default and help - plus the
 * field of cli_opts (cli.h) where the command that uses it finds it.
 */
#include "cli.h"

#include <stddef.h>

#define AT(field) offsetof(cli_opts, field)

/* name, alias, value, environment, strata.json key, default, help, kind,
 * field, completion */
const cli_option cli_globals[] = {
    {"--database-url", NULL, "URL", "STRATA_DATABASE_URL DATABASE_URL", "url", "sqlite:./strata.db",
     "the database (the default is said on stderr, and refused when CI is set)", CLI_URL,
     AT(database_url), CLI_COMPLETE_NONE},
    {"--migrations-dir", NULL, "DIR", "STRATA_MIGRATIONS_DIR", "migrations_dir", "./migrations",
     "the migration files; several: repeat it, or separate them with ':'", CLI_PATHS,
     AT(migrations_dir), CLI_COMPLETE_DIR},
    {"--lock-timeout", NULL, "SECS", "STRATA_LOCK_TIMEOUT", "lock_timeout", "60",
     "how long to wait for the migration lock", CLI_SECONDS, AT(lock_timeout), CLI_COMPLETE_NONE},
    {"--targets", NULL, "FILE", "STRATA_TARGETS", "targets", NULL,
     "a fleet: every database of FILE (one URL a line, name=LABEL; env:NAME,...: strata.json's "
     "environments)",
     CLI_TEXT, AT(targets), CLI_COMPLETE_FILE},
    {"--parallel", NULL, "N", "STRATA_PARALLEL", "parallel", NULL,
     "a fleet's databases at once (default 2 per processor, 2 to 16)", CLI_COUNT, AT(parallel),
     CLI_COMPLETE_NONE},
    {"--target-timeout", NULL, "SECS", "STRATA_TARGET_TIMEOUT", "target_timeout", "0",
     "the time a fleet's database may take (0: no limit)", CLI_SECONDS, AT(target_timeout),
     CLI_COMPLETE_NONE},
    {"--json", NULL, NULL, "STRATA_JSON", NULL, NULL, "print one JSON document instead of text",
     CLI_FLAG, AT(json), CLI_COMPLETE_NONE},
    {"--progress", NULL, NULL, "STRATA_PROGRESS", "progress", NULL,
     "show progress on stderr even when it is not a terminal (STRATA_PROGRESS=0: never)", CLI_FLAG,
     AT(progress), CLI_COMPLETE_NONE},
    {"--env", NULL, "NAME", "STRATA_ENV", NULL, NULL,
     "the environment of strata.json to use (else its \"default_env\")", CLI_TEXT, AT(env),
     CLI_COMPLETE_ENV},
    {"--config", NULL, "FILE", "STRATA_CONFIG", NULL, "strata.json",
     "the project file (a missing strata.json is no error)", CLI_TEXT, AT(config),
     CLI_COMPLETE_FILE},
    {"--no-dotenv", NULL, NULL, "STRATA_NO_DOTENV", NULL, NULL, "do not read ./.env", CLI_FLAG,
     AT(no_dotenv), CLI_COMPLETE_NONE},
    {"--flag", NULL, "NAME[=false]", NULL, NULL, NULL,
     "turn a feature flag on (or off); repeatable; also STRATA_FLAGS=a,b,-c and "
     "MEDUSA_FF_<NAME>=true|false, the command line winning (docs/flags.md)",
     CLI_LIST, AT(flags), CLI_COMPLETE_NONE},
    {"--no-flag", NULL, "NAME", NULL, NULL, NULL, "turn a feature flag off", CLI_LIST, AT(flags),
     CLI_COMPLETE_NONE},
    {"--history-compat", NULL, "TOOL", "STRATA_HISTORY_COMPAT", "history_compat", NULL,
     "typeorm: keep TypeORM's migrations table too (run, revert, repair, seed), so Medusa finds "
     "its migrations applied",
     CLI_TEXT, AT(history_compat), CLI_COMPLETE_NONE},
    {"--help", "-h", NULL, NULL, NULL, NULL, "this help", CLI_FLAG, AT(help), CLI_COMPLETE_NONE},
    {"--version", NULL, NULL, NULL, NULL, NULL, "print the version", CLI_FLAG, AT(version),
     CLI_COMPLETE_NONE},
};
const size_t cli_nglobals = sizeof cli_globals / sizeof cli_globals[0];

/* The options of one or more commands: they come from the command line
 * only. */
const cli_option cli_command_options[] = {
    {"--to", NULL, "VERSION", NULL, NULL, NULL, "a migration's version (or its file stem)",
     CLI_TEXT, AT(to), CLI_COMPLETE_VERSION},
    {"--steps", NULL, "N", NULL, NULL, NULL, "how many migrations to revert", CLI_COUNT, AT(steps),
     CLI_COMPLETE_NONE},
    {"--all", NULL, NULL, NULL, NULL, NULL, "revert every applied migration", CLI_FLAG, AT(all),
     CLI_COMPLETE_NONE},
    {"--dry-run", NULL, NULL, NULL, NULL, NULL, "print the SQL, change nothing", CLI_FLAG,
     AT(dry_run), CLI_COMPLETE_NONE},
    {"--dialect", NULL, "NAME", NULL, NULL, NULL,
     "postgres, mysql or sqlite (lint: repeat it for several)", CLI_LIST, AT(dialects),
     CLI_COMPLETE_DIALECT},
    {"--down", NULL, NULL, NULL, NULL, NULL, "the SQL of the downs", CLI_FLAG, AT(down),
     CLI_COMPLETE_NONE},
    {"-f", "--file", "FILE", NULL, NULL, NULL, "a seed file", CLI_TEXT, AT(file),
     CLI_COMPLETE_FILE},
    {"--no-migrate", NULL, NULL, NULL, NULL, NULL, "seed without applying pending migrations",
     CLI_FLAG, AT(no_migrate), CLI_COMPLETE_NONE},
    {"--mode", NULL, "MODE", NULL, NULL, NULL, "insert, insert_missing or upsert", CLI_TEXT,
     AT(mode), CLI_COMPLETE_MODE},
    {"--format", NULL, "FORMAT", NULL, NULL, NULL, "the input's or the output's format", CLI_TEXT,
     AT(format), CLI_COMPLETE_FORMAT},
    {"--out", NULL, "FILE", NULL, NULL, NULL, "write to FILE instead of stdout", CLI_TEXT, AT(out),
     CLI_COMPLETE_FILE},
    {"--schema", NULL, "FILE", NULL, NULL, NULL, "the desired schema", CLI_TEXT, AT(schema),
     CLI_COMPLETE_FILE},
    {"--allow-out-of-order", NULL, NULL, NULL, NULL, NULL,
     "apply pending migrations older than applied ones", CLI_FLAG, AT(allow_out_of_order),
     CLI_COMPLETE_NONE},
    {"--single-transaction", NULL, NULL, NULL, NULL, NULL,
     "every migration of the command in one transaction, all or none (PostgreSQL, SQLite)",
     CLI_FLAG, AT(single_transaction), CLI_COMPLETE_NONE},
    {"--mark-applied", NULL, NULL, NULL, NULL, NULL, "mark a partial migration applied", CLI_FLAG,
     AT(mark_applied), CLI_COMPLETE_NONE},
    {"--junit", NULL, "FILE", NULL, NULL, NULL, "also write a JUnit XML report", CLI_TEXT,
     AT(junit), CLI_COMPLETE_FILE},
    {"--force", NULL, NULL, NULL, NULL, NULL, "go on although the schema differs", CLI_FLAG,
     AT(force), CLI_COMPLETE_NONE},
    {"--wait-replicas", NULL, "[SECS]", NULL, NULL, "60",
     "run: then wait until every streaming "
     "replica has replayed it (PostgreSQL; SECS optional, default 60)",
     CLI_TEXT, AT(wait_replicas), CLI_COMPLETE_NONE},
    {"--non-atomic", NULL, NULL, NULL, NULL, NULL,
     "seed: where one transaction cannot hold the "
     "seed (Galera's wsrep_max_ws_size), commit it in parts",
     CLI_FLAG, AT(non_atomic), CLI_COMPLETE_NONE},
    {"--from", NULL, "TOOL", NULL, NULL, NULL,
     "adopt: the tool whose history to take over (typeorm)", CLI_TEXT, AT(from), CLI_COMPLETE_NONE},
    {"--ignore", NULL, "RULE[,RULE...]", NULL, NULL, NULL, "lint: leave these rules out", CLI_LIST,
     AT(ignores), CLI_COMPLETE_NONE},
    {"--sarif", NULL, "FILE", NULL, NULL, NULL, "lint: also write a SARIF 2.1.0 log ('-': stdout)",
     CLI_TEXT, AT(sarif), CLI_COMPLETE_FILE},
    {"--fail-fast", NULL, NULL, NULL, NULL, NULL, "fleet: start no database after one failed",
     CLI_FLAG, AT(fail_fast), CLI_COMPLETE_NONE},
    {"--continue", NULL, NULL, NULL, NULL, NULL,
     "fleet: finish every database although one failed (the default)", CLI_FLAG, AT(continue_all),
     CLI_COMPLETE_NONE},
    {"--canary", NULL, "K", NULL, NULL, NULL,
     "fleet: the first K databases first; the others only if none of them failed", CLI_COUNT,
     AT(canary), CLI_COMPLETE_NONE},
};
const size_t cli_ncommand_options = sizeof cli_command_options / sizeof cli_command_options[0];

/* words, function, synopsis, summary, command options, arguments, --format
 * values, and 1 for a command that reads no settings. A NULL synopsis
 * hides a command from help and completion. */
const cli_command cli_commands[] = {
    {"migrations run", cmd_migrations_run,
     "[--to VERSION] [--dry-run] [--allow-out-of-order] [--single-transaction] "
     "[--wait-replicas [SECS]]",
     "apply the pending migrations in order",
     "--to --dry-run --allow-out-of-order --single-transaction --wait-replicas --fail-fast "
     "--continue --canary --junit",
     CLI_COMPLETE_NONE, NULL, 0},
    {"migrations revert", cmd_migrations_revert,
     "[--steps N | --to VERSION | --all] [--dry-run] [--single-transaction]",
     "undo the last applied migration (or N, or down to VERSION, or all)",
     "--steps --to --all --dry-run --single-transaction --fail-fast --continue --canary --junit",
     CLI_COMPLETE_NONE, NULL, 0},
    {"migrations show", cmd_migrations_show, "",
     "[X] applied, [ ] pending, [!] changed, [~] partial, [?] file missing, [E] invalid; exit "
     "1 unless every one is applied",
     "--fail-fast --continue --canary --junit", CLI_COMPLETE_NONE, NULL, 0},
    {"migrations sql", cmd_migrations_sql,
     "[--dialect postgres|mysql|sqlite] [--down] [VERSION...]",
     "the migrations' SQL for a database, offline", "--dialect --down", CLI_COMPLETE_VERSION, NULL,
     0},
    {"migrations validate", cmd_migrations_validate, "",
     "check every migration offline for all three databases, and applied checksums",
     "--fail-fast --continue --canary --junit", CLI_COMPLETE_NONE, NULL, 0},
    {"migrations repair", cmd_migrations_repair, "[--mark-applied]",
     "undo a partially applied migration (or mark it applied after a fix by hand)",
     "--mark-applied", CLI_COMPLETE_NONE, NULL, 0},
    {"migrations lint", cmd_migrations_lint,
     "[VERSION...] [--dialect D ...] [--ignore RULE,...] [--json] [--sarif FILE]",
     "offline: what each migration does to each database (rules in docs/lint.md)",
     "--dialect --ignore --sarif", CLI_COMPLETE_VERSION, NULL, 0},
    {"migrations plan", cmd_migrations_plan, "[--to VERSION] [--allow-out-of-order]",
     "the pending migrations op by op: SQL, cost, lock, rows", "--to --allow-out-of-order",
     CLI_COMPLETE_NONE, NULL, 0},
    {"migrations baseline", cmd_migrations_baseline, "--to VERSION [--force]",
     "record the migrations up to VERSION as applied on a database that has their schema",
     "--to --force", CLI_COMPLETE_NONE, NULL, 0},
    {"migrations schema", cmd_migrations_schema,
     "[--format json|mermaid|dot] [--to VERSION] [--out FILE]",
     "the schema the migrations build, offline: one migration, or a diagram", "--format --to --out",
     CLI_COMPLETE_NONE, "json mermaid dot", 0},
    {"migrations adopt", cmd_migrations_adopt, "--from typeorm [--dry-run]",
     "take over a database TypeORM (Medusa) migrated: record its migrations as applied",
     "--from --dry-run", CLI_COMPLETE_NONE, NULL, 0},
    {"migration create", cmd_migration_create, "NAME",
     "write <migrations-dir>/<UTC timestamp>_NAME.json, empty", "", CLI_COMPLETE_NONE, NULL, 0},
    {"migration generate", cmd_migration_generate, "NAME --schema FILE",
     "write the migration from the migrations' schema to the one in FILE", "--schema",
     CLI_COMPLETE_NONE, NULL, 0},
    {"seed", cmd_seed,
     "-f FILE [--no-migrate] [--mode insert|insert_missing|upsert] [--format strata|medusa] "
     "[--non-atomic]",
     "apply pending migrations, then load a seed file (Strata or Medusa format)",
     "-f --no-migrate --mode --format --non-atomic --fail-fast --continue --canary --junit",
     CLI_COMPLETE_NONE, "strata medusa", 0},
    {"seed convert", cmd_seed_convert, "FILE",
     "print the Strata seed JSON that a Medusa seed file becomes", "-f", CLI_COMPLETE_FILE, NULL,
     0},
    {"db ping", cmd_db_ping, "", "connect, and print the server and its version", "",
     CLI_COMPLETE_NONE, NULL, 0},
    {"db pull", cmd_db_pull, "[--out FILE] [--format json|mermaid|dot]",
     "the database's schema as one migration, or a diagram", "--out --format", CLI_COMPLETE_NONE,
     "json mermaid dot", 0},
    {"db diff", cmd_db_diff, "",
     "compare the database with the schema its migrations build; exit 1 on drift",
     "--fail-fast --continue --canary --junit", CLI_COMPLETE_NONE, NULL, 0},
    {"lock status", cmd_lock_status, "", "who holds the migration lock", "", CLI_COMPLETE_NONE,
     NULL, 0},
    {"lock release", cmd_lock_release, "[--force]",
     "clear a migration lock left behind (--force: also one whose holder is alive)", "--force",
     CLI_COMPLETE_NONE, NULL, 0},
    {"check", cmd_check,
     "--database-url URL [--database-url URL ...] [--targets FILE] [-f SEED] [--junit FILE]",
     "prove the migrations (and a seed) portable on several databases at once", "-f --junit",
     CLI_COMPLETE_NONE, NULL, 0},
    {"config show", cmd_config_show, "", "every global option's value, and where it comes from", "",
     CLI_COMPLETE_NONE, NULL, 0},
    {"completion", cmd_completion, "bash|zsh", "print the shell completion script", "",
     CLI_COMPLETE_SHELL, NULL, 1},
    {"manpage", cmd_manpage, "", "print the man page (roff)", "", CLI_COMPLETE_NONE, NULL, 1},
    /* for the completion scripts: the words to offer */
    {"__complete", cmd_complete, NULL, NULL, "", CLI_COMPLETE_NONE, NULL, 0},
};
const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];

/* Where settings come from, for --help and the man page. */
const char *const cli_precedence_text[] = {
    "Every global option is also an environment variable (STRATA_DATABASE_URL, "
    "STRATA_LOCK_TIMEOUT, ...; DATABASE_URL too) and most are keys of strata.json. "
    "The first of these that gives a value wins:",
    "1. the option on the command line",
    "2. the environment",
    "3. ./.env (NAME=VALUE lines, as dbmate and Prisma read them; not with --no-dotenv)",
    "4. strata.json: the environment chosen by --env, STRATA_ENV or its \"default_env\", then "
    "its top level",
    "5. the default",
    "Without a database from any of them, strata says on stderr that it uses sqlite:./strata.db, "
    "and refuses to (exit 2) when CI is set.",
    "A password in --database-url is visible to other users in the process list (ps, "
    "/proc/PID/cmdline); keep it out of the command line: give the URL in DATABASE_URL, ./.env "
    "or strata.json (\"url\": \"postgres://app:${PW}@db/app\"), or leave the password out of "
    "the URL and give it the driver's way: PGPASSWORD or ~/.pgpass (PGPASSFILE) for PostgreSQL, "
    "MYSQL_PWD for MySQL/MariaDB. Messages never show a password.",
    NULL,
};
