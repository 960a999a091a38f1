/*
 * test_cli.c - the command line people already know how to use, through
 * the real `strata` binary, each command in a fresh project directory with
 * a clean environment (no CI, DATABASE_URL or STRATA_* variable unless the
 * test sets it):
 *   - settings: command line > environment > ./.env > strata.json (the
 *     chosen environment, then its top level) > default, for what a
 *     command does and for `config show`; strata.json and .env errors;
 *   - no silent default database: said on stderr, refused under CI;
 *   - usage errors, --help == README's Commands section, the man page;
 *   - bash and zsh completion of commands, options, values and versions;
 *   - diagrams offline (migrations schema) and from each database (db pull);
 *   - progress lines on a pipe with --progress, on a terminal without;
 *   - migrations baseline on each database: refused on drift, --force.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- running strata ---- */

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(m);
    fclose(f);
    return buf;
}

typedef struct run {
    int status;
    char *out; /* stdout */
    char *err; /* stderr */
} run;

static void run_free(run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* Every variable that would change what strata does. */
static const char *const settings_env[] = {
    "CI",
    "DATABASE_URL",
    "STRATA_DATABASE_URL",
    "STRATA_MIGRATIONS_DIR",
    "STRATA_LOCK_TIMEOUT",
    "STRATA_JSON",
    "STRATA_PROGRESS",
    "STRATA_ENV",
    "STRATA_CONFIG",
    "STRATA_NO_DOTENV",
};

/* "-u CI -u DATABASE_URL ..." for env(1) (caller frees). */
static char *env_unset(void)
{
    char *unset = strdup("");
    for (size_t i = 0; i < sizeof settings_env / sizeof settings_env[0]; i++) {
        char *next = fmt("%s-u %s ", unset, settings_env[i]);
        free(unset);
        unset = next;
    }
    return unset;
}

/* `cd DIR && env -u ... ENV strata ARGS` with stdout and stderr apart. */
static run cli(const char *dir, const char *env, const char *args)
{
    run r = {0, NULL, NULL};
    char *unset = env_unset();
    char *out = fmt("%s.stdout", dir), *err = fmt("%s.stderr", dir);
    char *cmd = fmt("{ cd '%s' && env %s %s '%s' %s >'%s' 2>'%s'; }", dir, unset, env ? env : "",
                    test_strata_bin(), args, out, err);
    r.status = test_run_cmd(cmd, NULL);
    r.out = read_all(out);
    r.err = read_all(err);
    unlink(out);
    unlink(err);
    free(cmd);
    free(out);
    free(err);
    free(unset);
    return r;
}

/* Run, and expect an exit status; shows the output otherwise. */
static run expect(int status, const char *dir, const char *env, const char *args)
{
    run r = cli(dir, env, args);
    if (r.status != status)
        fprintf(stderr,
                "\n  strata %s (env %s): exit %d, expected %d\n  stdout: %s\n  stderr: %s\n", args,
                env ? env : "", r.status, status, r.out, r.err);
    CU_ASSERT_EQUAL(r.status, status);
    return r;
}

/* Write DIR/NAME, making the directories on the way. */
static void write_at(const char *dir, const char *name, const char *text)
{
    char *path = fmt("%s/%s", dir, name);
    for (char *slash = path + strlen(dir) + 1; (slash = strchr(slash, '/')) != NULL; slash++) {
        *slash = '\0';
        mkdir(path, 0777);
        *slash = '/';
    }
    test_write_file(path, text);
    free(path);
}

static int exists_at(const char *dir, const char *name)
{
    char *path = fmt("%s/%s", dir, name);
    struct stat st;
    int yes = stat(path, &st) == 0;
    free(path);
    return yes;
}

static void remove_at(const char *dir, const char *name)
{
    char *path = fmt("%s/%s", dir, name);
    unlink(path);
    free(path);
}

static void remove_tree(char *dir)
{
    char *cmd = fmt("rm -rf '%s'", dir);
    test_run_cmd(cmd, NULL);
    free(cmd);
    free(dir);
}

/* Two migrations: a table t, then u referencing it. */
static const char *mig_t = "{\"up\": [{\"op\": \"create_table\", \"table\": \"t\", \"columns\": "
                           "[{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}, "
                           "{\"name\": \"name\", \"type\": \"string\", \"length\": 40}]}]}\n";
static const char *mig_u =
    "{\"up\": [{\"op\": \"create_table\", \"table\": \"u\", \"columns\": "
    "[{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}, "
    "{\"name\": \"t_id\", \"type\": \"integer\", \"nullable\": false, \"references\": "
    "{\"table\": \"t\"}}]}]}\n";

static char *new_project(const char *tag)
{
    char *dir = test_tempdir(tag);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    write_at(dir, "migrations/001_t.json", mig_t);
    write_at(dir, "migrations/002_u.json", mig_u);
    return dir;
}

/* `config show --json`: the value and source of one option. */
static void setting(const char *dir, const char *env, const char *args, const char *name,
                    const char *value, const char *source)
{
    char *a = fmt("%s --json config show", args);
    run r = expect(0, dir, env, a);
    json_error_t e;
    json_t *doc = json_loads(r.out, 0, &e);
    json_t *opt = json_object_get(doc, name);
    const char *v = json_string_value(json_object_get(opt, "value"));
    const char *s = json_string_value(json_object_get(opt, "source"));
    if (!v || !s || strcmp(v, value) != 0 || strcmp(s, source) != 0)
        fprintf(stderr, "\n  %s (env %s, %s): %s from %s, expected %s from %s\n", name,
                env ? env : "", args, v ? v : "(none)", s ? s : "(none)", value, source);
    CU_ASSERT(v && strcmp(v, value) == 0);
    CU_ASSERT(s && strcmp(s, source) == 0);
    json_decref(doc);
    run_free(&r);
    free(a);
}

/* ---- settings ---- */

/* Each layer beats the ones below it: flag > environment > .env >
 * strata.json's environment > its top level > default. */
static void test_precedence(void)
{
    char *dir = new_project("cli-prec");
    setting(dir, NULL, "", "lock-timeout", "60", "default");
    write_at(dir, "strata.json",
             "{\"lock_timeout\": 1, \"environments\": {\"ci\": {\"lock_timeout\": 2}}}");
    setting(dir, NULL, "", "lock-timeout", "1", "strata.json: lock_timeout");
    setting(dir, NULL, "--env ci", "lock-timeout", "2",
            "strata.json: environments.ci.lock_timeout");
    write_at(dir, ".env", "STRATA_LOCK_TIMEOUT=3\n");
    setting(dir, NULL, "--env ci", "lock-timeout", "3", ".env: STRATA_LOCK_TIMEOUT");
    setting(dir, "STRATA_LOCK_TIMEOUT=4", "--env ci", "lock-timeout", "4", "STRATA_LOCK_TIMEOUT");
    setting(dir, "STRATA_LOCK_TIMEOUT=4", "--env ci --lock-timeout 5", "lock-timeout", "5",
            "--lock-timeout");
    /* .env off: from the command line or the environment */
    setting(dir, NULL, "--env ci --no-dotenv", "lock-timeout", "2",
            "strata.json: environments.ci.lock_timeout");
    setting(dir, "STRATA_NO_DOTENV=1", "--env ci", "lock-timeout", "2",
            "strata.json: environments.ci.lock_timeout");
    /* the environment chosen: --env > STRATA_ENV > .env > default_env */
    write_at(dir, "strata.json",
             "{\"default_env\": \"a\", \"environments\": {\"a\": {\"lock_timeout\": 10}, "
             "\"b\": {\"lock_timeout\": 20}, \"c\": {\"lock_timeout\": 30}}}");
    remove_at(dir, ".env");
    setting(dir, NULL, "", "env", "a", "strata.json: default_env");
    setting(dir, NULL, "", "lock-timeout", "10", "strata.json: environments.a.lock_timeout");
    write_at(dir, ".env", "STRATA_ENV=b\n");
    setting(dir, NULL, "", "lock-timeout", "20", "strata.json: environments.b.lock_timeout");
    setting(dir, "STRATA_ENV=c", "", "env", "c", "STRATA_ENV");
    setting(dir, "STRATA_ENV=c", "--env a", "lock-timeout", "10",
            "strata.json: environments.a.lock_timeout");
    remove_tree(dir);
}

/* The database each layer names is the one a command changes; the
 * password never shows. */
static void test_precedence_database(void)
{
    char *dir = new_project("cli-prec-db");
    write_at(dir, "strata.json",
             "{\"url\": \"sqlite:./top.db\", \"environments\": {\"dev\": {\"url\": "
             "\"sqlite:./dev.db\"}}}");
    run r = expect(0, dir, NULL, "migrations run");
    CU_ASSERT(exists_at(dir, "top.db"));
    CU_ASSERT_PTR_NULL(strstr(r.err, "using sqlite")); /* configured: no notice */
    run_free(&r);
    r = expect(0, dir, NULL, "--env dev migrations run");
    CU_ASSERT(exists_at(dir, "dev.db"));
    run_free(&r);
    write_at(dir, ".env", "# a comment\nexport DATABASE_URL='sqlite:./dotenv.db' # trailing\n");
    r = expect(0, dir, NULL, "--env dev migrations run");
    CU_ASSERT(exists_at(dir, "dotenv.db"));
    run_free(&r);
    r = expect(0, dir, "DATABASE_URL=sqlite:./env.db", "--env dev migrations run");
    CU_ASSERT(exists_at(dir, "env.db"));
    run_free(&r);
    /* STRATA_DATABASE_URL before DATABASE_URL */
    r = expect(0, dir, "DATABASE_URL=sqlite:./env.db STRATA_DATABASE_URL=sqlite:./strata-env.db",
               "migrations run");
    CU_ASSERT(exists_at(dir, "strata-env.db"));
    run_free(&r);
    r = expect(0, dir, "STRATA_DATABASE_URL=sqlite:./strata-env.db",
               "migrations run --database-url sqlite:./flag.db");
    CU_ASSERT(exists_at(dir, "flag.db"));
    run_free(&r);
    /* passwords masked, ${VAR} from the environment */
    write_at(dir, "strata.json",
             "{\"environments\": {\"prod\": {\"url\": \"postgres://app:${PW}@db.invalid/app\"}}}");
    remove_at(dir, ".env");
    setting(dir, "PW=s3cret", "--env prod", "database-url", "postgres://app:****@db.invalid/app",
            "strata.json: environments.prod.url");
    r = expect(2, dir, NULL, "--env prod config show");
    CU_ASSERT_STR_CONTAINS(r.err, "${PW} is not set");
    run_free(&r);
    remove_tree(dir);
}

/* Broken settings are bad input (exit 2), named by file and key. */
static void test_settings_errors(void)
{
    char *dir = new_project("cli-settings-err");
    static const struct {
        const char *config, *args, *expected;
    } cases[] = {
        {"{\"url\": }", "", "strata.json:1:"},
        {"{\"lock_timout\": 3}", "", "unknown key 'lock_timout' (did you mean 'lock_timeout'?)"},
        {"{\"lock_timeout\": \"soon\"}", "", "lock_timeout: expected a number"},
        {"{\"environments\": {\"ci\": {\"url\": 5}}}", "",
         "environments.ci.url: expected a string"},
        {"{\"environments\": {\"ci\": {}}}", "--env nope",
         "no environment 'nope' in strata.json (it has ci)"},
        {NULL, "--env ci", "environment 'ci', but there is no strata.json"},
        {NULL, "--config other.json", "cannot read the config file other.json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].config)
            write_at(dir, "strata.json", cases[i].config);
        else
            remove_at(dir, "strata.json");
        char *a = fmt("%s migrations show", cases[i].args);
        run r = expect(2, dir, NULL, a);
        CU_ASSERT_STR_CONTAINS(r.err, cases[i].expected);
        run_free(&r);
        free(a);
    }
    remove_at(dir, "strata.json");
    write_at(dir, ".env", "GOOD=1\nthis is not a setting\n");
    run r = expect(2, dir, NULL, "migrations show");
    CU_ASSERT_STR_CONTAINS(r.err, ".env:2: expected NAME=VALUE");
    run_free(&r);
    r = expect(0, dir, NULL, "--no-dotenv config show");
    run_free(&r);
    remove_at(dir, ".env");
    r = expect(2, dir, "STRATA_JSON=maybe", "config show");
    CU_ASSERT_STR_CONTAINS(r.err, "STRATA_JSON: --json takes 1, true, yes or on");
    run_free(&r);
    r = expect(2, dir, "STRATA_LOCK_TIMEOUT=-1", "config show");
    CU_ASSERT_STR_CONTAINS(r.err, "--lock-timeout needs a number of seconds, not '-1'");
    run_free(&r);
    remove_tree(dir);
}

/* Several migration directories: a list in strata.json, or repeated. */
static void test_migration_dirs(void)
{
    char *dir = test_tempdir("cli-dirs");
    write_at(dir, "core/001_t.json", mig_t);
    write_at(dir, "extra/002_u.json", mig_u);
    write_at(dir, "strata.json", "{\"migrations_dir\": [\"core\", \"extra\"]}");
    run r = expect(0, dir, NULL, "migrations sql --dialect sqlite");
    CU_ASSERT_STR_CONTAINS(r.out, "CREATE TABLE \"t\"");
    CU_ASSERT_STR_CONTAINS(r.out, "CREATE TABLE \"u\"");
    run_free(&r);
    setting(dir, NULL, "", "migrations-dir", "core:extra", "strata.json: migrations_dir");
    remove_at(dir, "strata.json");
    setting(dir, NULL, "--migrations-dir core --migrations-dir extra", "migrations-dir",
            "core:extra", "--migrations-dir");
    remove_tree(dir);
}

/* ---- no silent default ---- */

static void test_default_database(void)
{
    char *dir = new_project("cli-default");
    /* CI set: refused, nothing made */
    run r = expect(2, dir, "CI=true", "migrations run");
    CU_ASSERT_STR_CONTAINS(r.err, "no database given (no --database-url, DATABASE_URL or config) "
                                  "and CI is set: refusing to use sqlite:./strata.db");
    CU_ASSERT(!exists_at(dir, "strata.db"));
    run_free(&r);
    r = expect(2, dir, "CI=1", "--json migrations show");
    CU_ASSERT_STR_CONTAINS(r.out, "\"exit\": 2");
    run_free(&r);
    /* offline commands need no database */
    r = expect(0, dir, "CI=true", "migrations validate");
    CU_ASSERT_STR_CONTAINS(r.err, "validating offline only");
    run_free(&r);
    r = expect(0, dir, "CI=true", "migrations sql");
    CU_ASSERT_STR_CONTAINS(r.out, "CREATE TABLE");
    run_free(&r);
    /* outside CI (or CI=false): used, and said */
    r = expect(0, dir, "CI=false", "migrations run");
    CU_ASSERT_STR_CONTAINS(r.err, "using sqlite:./strata.db (no --database-url, DATABASE_URL or "
                                  "config)");
    CU_ASSERT(exists_at(dir, "strata.db"));
    run_free(&r);
    r = expect(0, dir, NULL, "migrations show");
    CU_ASSERT_STR_CONTAINS(r.err, "using sqlite:./strata.db");
    run_free(&r);
    /* given: no notice, under CI too */
    r = expect(0, dir, "CI=true DATABASE_URL=sqlite:./strata.db", "migrations show");
    CU_ASSERT_PTR_NULL(strstr(r.err, "using"));
    run_free(&r);
    remove_tree(dir);
}

/* ---- usage ---- */

static void test_usage_errors(void)
{
    char *dir = new_project("cli-usage");
    static const struct {
        const char *args, *expected;
    } cases[] = {
        {"migrations run --steps 2", "'migrations run' takes no option --steps"},
        {"migrations run --lock-timeot 3", "did you mean '--lock-timeout'?"},
        {"migrations rnu", "unknown command 'migrations rnu' (did you mean 'migrations run'?)"},
        {"migrations baseline", "needs --to VERSION"},
        {"migrations schema --format xml", "--format must be json, mermaid or dot"},
        {"migrations revert --steps 0", "--steps needs a positive number"},
        {"completion fish", "no completion for 'fish'"},
        {"", "usage: strata"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run r = expect(2, dir, "DATABASE_URL=sqlite::memory:", cases[i].args);
        CU_ASSERT_STR_CONTAINS(r.err, cases[i].expected);
        run_free(&r);
    }
    remove_tree(dir);
}

/* The text of the README's "## Commands" code block. */
static char *readme_commands(void)
{
    char *path = fmt("%s/README.md", test_source_dir());
    char *readme = read_all(path);
    free(path);
    char *sec = strstr(readme, "\n## Commands\n");
    char *open = sec ? strstr(sec, "\n```\n") : NULL;
    char *close = open ? strstr(open + 5, "\n```\n") : NULL;
    char *block = open && close ? strndup(open + 5, (size_t)(close - open - 5) + 1) : NULL;
    free(readme);
    return block;
}

/* --help, README's Commands section and the man page say the same. */
static void test_help_readme_man(void)
{
    char *dir = test_tempdir("cli-help");
    run r = expect(0, dir, NULL, "--help");
    CU_ASSERT_STR_CONTAINS(r.out, "1. the option on the command line");
    CU_ASSERT_STR_CONTAINS(r.out, "migrations baseline --to VERSION [--force]");
    char *block = readme_commands();
    CU_ASSERT_PTR_NOT_NULL(block);
    if (block && strcmp(block, r.out) != 0)
        fprintf(stderr, "\n  README.md's Commands block is not `strata --help`: paste it again\n");
    CU_ASSERT(block && strcmp(block, r.out) == 0);
    free(block);
    /* the installed man page is what the tool prints now */
    run man = expect(0, dir, NULL, "manpage");
    char *path = fmt("%s/strata.1", STRATA_BUILD_DIR);
    char *built = read_all(path);
    CU_ASSERT_STRING_EQUAL(built, man.out);
    free(built);
    /* every option of --help is in it, its hyphens escaped for roff */
    for (const char *p = r.out; (p = strstr(p, "\n  -")) != NULL; p++) {
        const char *opt = strstr(p + 3, "--");
        char escaped[128];
        size_t k = 0;
        for (const char *q = opt; *q && *q != ' ' && *q != '\n' && k + 3 < sizeof escaped; q++) {
            if (*q == '-')
                escaped[k++] = '\\';
            escaped[k++] = *q;
        }
        escaped[k] = '\0';
        if (!strstr(man.out, escaped))
            fprintf(stderr, "\n  %s is not in the man page", escaped);
        CU_ASSERT_PTR_NOT_NULL(strstr(man.out, escaped));
    }
    CU_ASSERT_STR_CONTAINS(man.out, "\\fBmigrations baseline\\fR \\-\\-to VERSION [\\-\\-force]");
    CU_ASSERT_STR_CONTAINS(man.out, "the option on the command line");
    /* groff reads it without a warning */
    char *cmd = fmt("groff -man -Tutf8 -ww '%s' 2>&1 >/dev/null", path);
    char *warnings = NULL;
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &warnings), 0);
    CU_ASSERT_STRING_EQUAL(warnings ? warnings : "?", "");
    free(warnings);
    free(cmd);
    free(path);
    run_free(&man);
    run_free(&r);
    remove_tree(dir);
}

/* ---- completion ---- */

/* What bash's completion offers for the words (the last is completed). */
static char *bash_complete(const char *dir, const char *words, int cword)
{
    char *script = fmt("%s/strata.bash", STRATA_BUILD_DIR);
    char *unset = env_unset();
    char *cmd = fmt("cd '%s' && env %s bash -c 'source %s; COMP_WORDS=(%s %s); COMP_CWORD=%d; "
                    "_strata; printf \"%%s\\n\" \"${COMPREPLY[@]}\"'",
                    dir, unset, script, test_strata_bin(), words, cword);
    char *out = NULL;
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 0);
    free(cmd);
    free(unset);
    free(script);
    return out;
}

static void test_bash_completion(void)
{
    char *dir = new_project("cli-bash");
    write_at(dir, "db/migrations/20240101_first.json", mig_t);
    write_at(dir, "db/migrations/20240202_second.json", mig_u);
    write_at(dir, "strata.json",
             "{\"migrations_dir\": \"db/migrations\", \"environments\": {\"dev\": {}, "
             "\"prod\": {}}}");
    static const struct {
        const char *words;
        int cword;
        const char *want, *not ;
    } cases[] = {
        {"mig", 1, "migrations\nmigration\n", NULL},
        {"migrations \"\"", 2,
         "run\nrevert\nshow\nsql\nvalidate\nrepair\nlint\nplan\nbaseline\nschema\n", NULL},
        {"migrations run --", 3, "--to\n", "--steps"},
        {"migrations run --d", 3, "--database-url\n--dry-run\n", NULL},
        {"migrations run --to \"\"", 4, "20240101\n20240202\n", NULL},
        {"migrations sql \"\"", 3, "20240101\n20240202\n", NULL},
        {"migrations sql --dialect \"\"", 4, "postgres\nmysql\nsqlite\n", NULL},
        {"--env \"\"", 2, "dev\nprod\n", NULL},
        {"db pull --format \"\"", 4, "json\nmermaid\ndot\n", NULL},
        {"seed --format \"\"", 3, "strata\nmedusa\n", NULL},
        {"seed --mode ins", 3, "insert\ninsert_missing\n", NULL},
        {"completion \"\"", 2, "bash\nzsh\n", NULL},
        {"seed -f strata.js", 3, "strata.json\n", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = bash_complete(dir, cases[i].words, cases[i].cword);
        if (!out || !strstr(out, cases[i].want))
            fprintf(stderr, "\n  completing [%s]: got [%s], expected [%s]", cases[i].words,
                    out ? out : "", cases[i].want);
        CU_ASSERT_STR_CONTAINS(out, cases[i].want);
        if (cases[i].not )
            CU_ASSERT_PTR_NULL(strstr(out ? out : "", cases[i].not ));
        free(out);
    }
    remove_tree(dir);
}

/* zsh's script, with zsh's completion functions stood in for: what it
 * hands _describe, and that it hands file names to _files. */
static void test_zsh_completion(void)
{
    char *dir = new_project("cli-zsh");
    char *script = fmt("%s/_strata", STRATA_BUILD_DIR);
    char *cmd = fmt("cd '%s' && zsh -n '%s' && zsh -fc '"
                    "compdef() { :; }; "
                    "_describe() { local n=${@[-1]}; print -rl -- \"${(@P)n}\"; }; "
                    "_files() { print -r -- \"_files $*\"; }; "
                    "source %s; "
                    "words=(%s migrations \"\"); CURRENT=3; _strata; "
                    "words=(%s migrations run --to \"\"); CURRENT=5; _strata; "
                    "words=(%s seed -f \"\"); CURRENT=4; _strata'",
                    dir, script, script, test_strata_bin(), test_strata_bin(), test_strata_bin());
    char *out = NULL;
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 0);
    CU_ASSERT_STR_CONTAINS(out, "run:apply the pending migrations in order\n");
    CU_ASSERT_STR_CONTAINS(out, "baseline:record the migrations up to VERSION");
    CU_ASSERT_STR_CONTAINS(out, "001:t\n002:u\n");
    CU_ASSERT_STR_CONTAINS(out, "_files \n");
    free(out);
    free(cmd);
    free(script);
    remove_tree(dir);
}

/* ---- diagrams, offline ---- */

static const char *mig_shop =
    "{\"up\": [{\"op\": \"create_table\", \"table\": \"customer\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"string\", \"primary_key\": true},"
    "{\"name\": \"email\", \"type\": \"string\", \"nullable\": false, \"unique\": true},"
    "{\"name\": \"balance\", \"type\": \"decimal\", \"precision\": 12, \"scale\": 2}]},"
    "{\"op\": \"create_table\", \"table\": \"orders\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true},"
    "{\"name\": \"customer_id\", \"type\": \"string\", \"nullable\": false, \"references\": "
    "{\"table\": \"customer\", \"on_delete\": \"cascade\"}},"
    "{\"name\": \"parent_id\", \"type\": \"integer\", \"references\": {\"table\": \"orders\"}},"
    "{\"name\": \"note\", \"type\": \"text\"}]},"
    "{\"op\": \"create_table\", \"table\": \"customer_profile\", \"columns\": ["
    "{\"name\": \"customer_id\", \"type\": \"string\", \"primary_key\": true, \"references\": "
    "{\"table\": \"customer\"}},"
    "{\"name\": \"vip\", \"type\": \"boolean\", \"nullable\": false, \"default\": false}]}]}\n";

static const char *shop_mermaid = "erDiagram\n"
                                  "    customer {\n"
                                  "        string id PK \"string(255)\"\n"
                                  "        string email UK \"string(255)\"\n"
                                  "        decimal balance \"decimal(12,2)\"\n"
                                  "    }\n"
                                  "    customer_profile {\n"
                                  "        string customer_id PK, FK \"string(255)\"\n"
                                  "        boolean vip\n"
                                  "    }\n"
                                  "    orders {\n"
                                  "        integer id PK\n"
                                  "        string customer_id FK \"string(255)\"\n"
                                  "        integer parent_id FK\n"
                                  "        text note\n"
                                  "    }\n"
                                  "    customer ||--o| customer_profile : \"customer_id\"\n"
                                  "    customer ||..o{ orders : \"customer_id\"\n"
                                  "    orders |o..o{ orders : \"parent_id\"\n";

static void test_schema_offline(void)
{
    char *dir = test_tempdir("cli-schema");
    write_at(dir, "migrations/001_shop.json", mig_shop);
    write_at(dir, "migrations/002_t.json", mig_t);
    run r = expect(0, dir, NULL, "migrations schema --format mermaid --to 001");
    CU_ASSERT_STRING_EQUAL(r.out, shop_mermaid);
    run_free(&r);
    r = expect(0, dir, NULL, "migrations schema --format mermaid");
    CU_ASSERT_STR_CONTAINS(r.out, "    t {\n        integer id PK\n        string name "
                                  "\"string(40)\"\n    }\n");
    run_free(&r);
    r = expect(0, dir, NULL, "migrations schema --format dot --to 001 --out shop.dot");
    CU_ASSERT_STR_CONTAINS(r.out, "wrote shop.dot");
    run_free(&r);
    char *path = fmt("%s/shop.dot", dir);
    char *dot = read_all(path);
    CU_ASSERT_STR_CONTAINS(dot, "label=\"The schema of the 1 migration in ./migrations up to "
                                "001\"");
    CU_ASSERT_STR_CONTAINS(dot, "<TR><TD PORT=\"email\" ALIGN=\"LEFT\">email</TD><TD "
                                "ALIGN=\"LEFT\">string(255) not null</TD><TD>UK</TD></TR>");
    CU_ASSERT_STR_CONTAINS(dot, "\"orders\":\"customer_id\" -> \"customer\":\"id\" "
                                "[arrowtail=crowodot, arrowhead=teetee, style=dashed];");
    CU_ASSERT_STR_CONTAINS(dot, "\"customer_profile\":\"customer_id\" -> \"customer\":\"id\" "
                                "[arrowtail=teeodot, arrowhead=teetee];");
    CU_ASSERT_STR_CONTAINS(dot, "\"orders\":\"parent_id\" -> \"orders\":\"id\" "
                                "[arrowtail=crowodot, arrowhead=teeodot, style=dashed];");
    free(dot);
    /* Graphviz draws it */
    char *cmd = fmt("dot -Tsvg '%s' | xmllint --noout -", path);
    CU_ASSERT_EQUAL(test_run_cmd(cmd, NULL), 0);
    free(cmd);
    free(path);
    /* json: one migration that builds the same schema */
    write_at(dir, "one/.keep", "");
    r = expect(0, dir, NULL, "migrations schema --to 001 --out one/001_all.json");
    run_free(&r);
    r = expect(0, dir, NULL, "migrations schema --format mermaid --migrations-dir one");
    CU_ASSERT_STRING_EQUAL(r.out, shop_mermaid);
    run_free(&r);
    r = expect(2, dir, NULL, "migrations schema --to 999");
    CU_ASSERT_STR_CONTAINS(r.err, "no migration 999");
    run_free(&r);
    remove_tree(dir);
}

/* ---- progress ---- */

static void test_progress(void)
{
    char *dir = new_project("cli-progress");
    write_at(dir, "seed.json",
             "{\"tables\": [{\"table\": \"t\", \"rows\": [{\"id\": 1}, "
             "{\"id\": 2}]}]}");
    /* a pipe: nothing, unless asked */
    run r = expect(0, dir, NULL, "--database-url sqlite:./a.db seed -f seed.json");
    CU_ASSERT_PTR_NULL(strstr(r.err, "migrating"));
    CU_ASSERT_PTR_NULL(strstr(r.err, "seed: table"));
    run_free(&r);
    r = expect(0, dir, NULL, "--database-url sqlite:./b.db --progress seed -f seed.json");
    CU_ASSERT_STR_CONTAINS(r.err, "migrating 1 of 2: 001_t");
    CU_ASSERT_STR_CONTAINS(r.err, "migrating 2 of 2: 002_u");
    CU_ASSERT_STR_CONTAINS(r.err, "seed: table 1 of 1, t: 2 rows");
    CU_ASSERT_PTR_NULL(strstr(r.out, "migrating")); /* results alone on stdout */
    CU_ASSERT_PTR_NULL(strchr(r.err, '\r'));        /* lines, not a terminal's line */
    run_free(&r);
    write_at(dir, "strata.json", "{\"progress\": true}");
    r = expect(0, dir, NULL, "--database-url sqlite:./b.db migrations revert --all");
    CU_ASSERT_STR_CONTAINS(r.err, "reverting 1 of 2: 002_u");
    run_free(&r);
    remove_at(dir, "strata.json");
    /* check: each step of each database */
    r = expect(0, dir, NULL, "--progress check --database-url sqlite:./c.db");
    CU_ASSERT_STR_CONTAINS(r.err, "check: sqlite: connect: ok (1 of 7");
    CU_ASSERT_STR_CONTAINS(r.err,
                           "check: sqlite: same schema after revert and re-apply: ok (7 of 7");
    run_free(&r);
    /* a terminal: one line rewritten in place, unless STRATA_PROGRESS=0 */
    char *cmd = fmt("cd '%s' && script -qec \"'%s' --database-url sqlite:./d.db migrations run\" "
                    "/dev/null",
                    dir, test_strata_bin());
    char *out = NULL;
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 0);
    CU_ASSERT_STR_CONTAINS(out, "\rmigrating 1 of 2: 001_t");
    CU_ASSERT_STR_CONTAINS(out, "\033[K");
    free(out);
    free(cmd);
    cmd = fmt("cd '%s' && STRATA_PROGRESS=0 script -qec \"'%s' --database-url sqlite:./e.db "
              "migrations run\" /dev/null",
              dir, test_strata_bin());
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 0);
    CU_ASSERT_PTR_NULL(strstr(out ? out : "", "migrating"));
    CU_ASSERT_STR_CONTAINS(out, "2 migrations applied");
    free(out);
    free(cmd);
    remove_tree(dir);
}

/* ---- on each database ---- */

static char *db_url;
static char *proj;

static int db_begin(const char *tag)
{
    db_url = test_fresh_database(test_dialect, tag);
    proj = test_tempdir(tag);
    CU_ASSERT_PTR_NOT_NULL(db_url);
    return db_url && proj;
}

static void db_end(void)
{
    if (test_dialect == STRATA_SQLITE && db_url) {
        char *lock = fmt("%s-strata-lock", db_url + 7);
        unlink(lock);
        free(lock);
    }
    test_drop_database(test_dialect, db_url);
    free(db_url);
    db_url = NULL;
    if (proj)
        remove_tree(proj);
    proj = NULL;
}

/* strata ARGS on the test's database */
static run on_db(int status, const char *args)
{
    char *a = fmt("--database-url '%s' %s", db_url, args);
    run r = expect(status, proj, NULL, a);
    free(a);
    return r;
}

static long long history_rows(void)
{
    strata_conn *c = test_connect(db_url);
    if (!c)
        return -1;
    long long n = test_scalar_int(c, "SELECT count(*) FROM strata_migrations");
    strata_conn_close(c);
    return n;
}

static void sql_on_db(const char *sql)
{
    strata_conn *c = test_connect(db_url);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    test_exec(c, sql);
    strata_conn_close(c);
}

static const char *mig_extra = "{\"up\": [{\"op\": \"add_column\", \"table\": \"u\", \"column\": "
                               "{\"name\": \"extra\", \"type\": \"integer\"}}]}\n";

/* A database made without Strata's history: baseline records what it has,
 * refuses what it lacks, and run goes on from there. */
static void test_baseline(void)
{
    if (!db_begin("cli_base"))
        return;
    write_at(proj, "migrations/001_t.json", mig_t);
    write_at(proj, "migrations/002_u.json", mig_u);
    write_at(proj, "migrations/003_extra.json", mig_extra);
    run r = on_db(0, "migrations run --to 002");
    run_free(&r);
    sql_on_db("DROP TABLE strata_migrations");
    r = on_db(1, "migrations show");
    CU_ASSERT_STR_CONTAINS(r.out, "[ ] 001_t\n[ ] 002_u\n[ ] 003_extra\n");
    run_free(&r);
    /* the schema of 003 is not there: refused, the drift listed, nothing recorded */
    r = on_db(1, "migrations baseline --to 003");
    CU_ASSERT_STR_CONTAINS(r.err, "column u.extra: only in the migrations");
    CU_ASSERT_STR_CONTAINS(r.err, "nothing was recorded");
    run_free(&r);
    CU_ASSERT_EQUAL(history_rows(), 0);
    r = on_db(1, "--json migrations baseline --to 003");
    CU_ASSERT_STR_CONTAINS(r.out, "\"differences\": [");
    CU_ASSERT_STR_CONTAINS(r.out, "\"exit\": 1");
    run_free(&r);
    r = on_db(2, "migrations baseline --to 999");
    CU_ASSERT_STR_CONTAINS(r.err, "no migration 999");
    run_free(&r);
    /* up to 002 it is there */
    r = on_db(0, "migrations baseline --to 002");
    CU_ASSERT_STR_CONTAINS(r.out, "2 migrations recorded as applied, without running them");
    run_free(&r);
    CU_ASSERT_EQUAL(history_rows(), 2);
    r = on_db(1, "migrations show");
    CU_ASSERT_STR_CONTAINS(r.out, "[X] 001_t");
    CU_ASSERT_STR_CONTAINS(r.out, "[X] 002_u");
    CU_ASSERT_STR_CONTAINS(r.out, "[ ] 003_extra");
    run_free(&r);
    r = on_db(0, "migrations run");
    CU_ASSERT_STR_CONTAINS(r.out, "1 migration applied");
    run_free(&r);
    r = on_db(0, "db diff");
    run_free(&r);
    /* a history that already goes further is no baseline */
    r = on_db(1, "migrations baseline --to 001");
    CU_ASSERT_STR_CONTAINS(r.err, "the history goes further than the baseline");
    run_free(&r);
    db_end();
}

static void test_baseline_force(void)
{
    if (!db_begin("cli_force"))
        return;
    write_at(proj, "migrations/001_t.json", mig_t);
    write_at(proj, "migrations/002_u.json", mig_u);
    run r = on_db(0, "migrations run");
    run_free(&r);
    sql_on_db("DROP TABLE strata_migrations");
    sql_on_db(test_dialect == STRATA_MYSQL ? "ALTER TABLE `t` ADD COLUMN `local` int"
                                           : "ALTER TABLE \"t\" ADD COLUMN \"local\" integer");
    r = on_db(1, "migrations baseline --to 002");
    CU_ASSERT_STR_CONTAINS(r.err, "column t.local: only in the database");
    run_free(&r);
    r = on_db(0, "migrations baseline --to 002 --force");
    CU_ASSERT_STR_CONTAINS(r.err, "recorded despite 1 difference");
    CU_ASSERT_STR_CONTAINS(r.out, "2 migrations recorded as applied");
    run_free(&r);
    r = on_db(0, "migrations show");
    run_free(&r);
    db_end();
}

/* db pull draws the schema its migrations draw offline. */
static void test_pull_diagram(void)
{
    if (!db_begin("cli_pull"))
        return;
    write_at(proj, "migrations/001_shop.json", mig_shop);
    run r = on_db(0, "migrations run");
    run_free(&r);
    run pulled = on_db(0, "db pull --format mermaid");
    CU_ASSERT_STRING_EQUAL(pulled.out, shop_mermaid);
    run_free(&pulled);
    run offline = on_db(0, "migrations schema --format dot");
    pulled = on_db(0, "db pull --format dot");
    /* the same but for the title */
    const char *a = strstr(offline.out, "\n  node"), *b = strstr(pulled.out, "\n  node");
    CU_ASSERT(a && b && strcmp(a, b) == 0);
    CU_ASSERT_STR_CONTAINS(pulled.out, "label=\"The schema of ");
    run_free(&offline);
    run_free(&pulled);
    db_end();
}

static const test_case offline_tests[] = {
    {"settings: flag > environment > .env > strata.json > default", test_precedence},
    {"the database each layer names is the one changed", test_precedence_database},
    {"broken strata.json, .env and values are exit 2", test_settings_errors},
    {"several migration directories", test_migration_dirs},
    {"no silent default database; refused under CI", test_default_database},
    {"usage errors are exit 2 with a suggestion", test_usage_errors},
    {"--help, README's Commands and the man page agree", test_help_readme_man},
    {"bash completion: commands, options, values, versions", test_bash_completion},
    {"zsh completion", test_zsh_completion},
    {"migrations schema: Mermaid, Graphviz, one migration", test_schema_offline},
    {"progress on a pipe with --progress, on a terminal without", test_progress},
    {NULL, NULL},
};

static const test_case db_tests[] = {
    {"baseline: refused on drift, recorded when the schema is there", test_baseline},
    {"baseline --force records despite drift", test_baseline_force},
    {"db pull --format draws what migrations schema draws", test_pull_diagram},
    {NULL, NULL},
};

int main(void)
{
    test_add_suite("cli/offline", offline_tests);
    test_add_dialect_suites("cli", NULL, NULL, db_tests);
    return test_main();
}
