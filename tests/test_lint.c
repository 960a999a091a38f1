/*
 * test_lint.c - `migrations lint` (engine/lint.c, docs/lint.md).
 *
 * Offline: every rule reports the bad example docs/lint.md gives it, on each
 * database it names, and stays silent on the good one on all three (the
 * examples are read from the page, so page and rules cannot drift apart);
 * the shipped Medusa migrations lint without an error in well under a
 * second, every error there suppressed with a reason, and the known
 * destructive steps found; the SARIF log is valid (structure checked here,
 * and against a JSON schema with Debian's python3-jsonschema); exit
 * statuses; the "lint" key (its checksum, its errors); JSON path positions.
 * On each database: lint with --database-url lints only what is pending
 * and puts the tables' row counts into the messages.
 */
#include "jsonpos.h"
#include "migration.h"
#include "testutil.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the examples of docs/lint.md ---- */

typedef struct example {
    char kind[8]; /* "base", "bad", "good" */
    char rule[64];
    unsigned dialects; /* bad: where it must be reported (0: the rule's) */
    char *json;
} example;

/* Every ```json lint-... block of docs/lint.md. */
static example *read_examples(size_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/lint.md", test_source_dir());
    char *text = NULL;
    *n = 0;
    if (read_file(path, &text, NULL) != 0)
        return NULL;
    example *v = calloc(128, sizeof *v);
    const char *p = text;
    while ((p = strstr(p, "```json lint-")) != NULL && *n < 128) {
        example *e = &v[*n];
        p += 13;
        const char *eol = strchr(p, '\n');
        char info[256];
        snprintf(info, sizeof info, "%.*s", (int)(eol - p), p);
        char *save = NULL, *tok = strtok_r(info, " ", &save);
        snprintf(e->kind, sizeof e->kind, "%s", tok ? tok : "");
        tok = strtok_r(NULL, " ", &save);
        snprintf(e->rule, sizeof e->rule, "%s", tok ? tok : "");
        while ((tok = strtok_r(NULL, " ", &save)) != NULL)
            e->dialects |= 1u << strata_dialect_parse(tok);
        const char *end = strstr(eol, "\n```");
        e->json = strndup(eol + 1, (size_t)(end - eol));
        p = end + 4;
        (*n)++;
    }
    free(text);
    return v;
}

static void free_examples(example *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].json);
    free(v);
}

static const example *find_example(const example *v, size_t n, const char *kind, const char *rule)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].kind, kind) == 0 && strcmp(v[i].rule, rule) == 0)
            return &v[i];
    return NULL;
}

/* Lint `dir` for `dialects` (0: all), one version (NULL: all). */
static strata_lint_result *lint(const char *dir, unsigned dialects, const char *version,
                                strata_conn *conn)
{
    strata_lint_options opt = STRATA_LINT_OPTIONS_INIT;
    opt.migrations_dir = dir;
    opt.dialects = dialects;
    strata_lint_result *r = NULL;
    const char *versions[] = {version};
    int rc = strata_migrations_lint(conn, &opt, versions, version ? 1 : 0, &r);
    if (rc)
        fprintf(stderr, "\n  lint %s: %s\n", dir, strata_error_message());
    CU_ASSERT_EQUAL(rc, 0);
    return r;
}

static const strata_lint_finding *finding_of(const strata_lint_result *r, const char *rule)
{
    for (size_t i = 0; r && i < r->n; i++)
        if (strcmp(r->findings[i].rule->id, rule) == 0)
            return &r->findings[i];
    return NULL;
}

static size_t count_of(const strata_lint_result *r, const char *rule)
{
    size_t n = 0;
    for (size_t i = 0; r && i < r->n; i++)
        n += strcmp(r->findings[i].rule->id, rule) == 0;
    return n;
}

static void test_docs_examples(void)
{
    size_t n = 0;
    example *ex = read_examples(&n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    const example *base = find_example(ex, n, "base", "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(base);
    size_t nrules;
    const strata_lint_rule *rules = strata_lint_rules(&nrules);
    char *dir = test_tempdir("lintdoc");
    char p1[1024], p2[1024];
    snprintf(p1, sizeof p1, "%s/001_base.json", dir);
    snprintf(p2, sizeof p2, "%s/002_example.json", dir);
    test_write_file(p1, base->json);
    for (size_t i = 0; i < nrules; i++) {
        const strata_lint_rule *rule = &rules[i];
        const example *bad = find_example(ex, n, "bad", rule->id);
        const example *good = find_example(ex, n, "good", rule->id);
        if (!bad || !good)
            fprintf(stderr, "\n  docs/lint.md has no %s example for %s\n", bad ? "good" : "bad",
                    rule->id);
        CU_ASSERT_PTR_NOT_NULL(bad);
        CU_ASSERT_PTR_NOT_NULL(good);
        if (!bad || !good)
            continue;
        test_write_file(p2, bad->json);
        unsigned want = bad->dialects ? bad->dialects : rule->dialects;
        for (int d = 0; d < STRATA_DIALECT_COUNT; d++) {
            if (!(want & (1u << d)))
                continue;
            strata_lint_result *r = lint(dir, 1u << d, "002", NULL);
            const strata_lint_finding *f = finding_of(r, rule->id);
            if (!f)
                fprintf(stderr, "\n  %s: the bad example is not reported on %s\n", rule->id,
                        strata_dialect_name((strata_dialect)d));
            CU_ASSERT_PTR_NOT_NULL(f);
            if (f) {
                CU_ASSERT_EQUAL(f->severity, rule->severity);
                CU_ASSERT(f->line > 0);
                CU_ASSERT(f->dialects & (1u << d));
                CU_ASSERT_STR_CONTAINS(f->file, "002_example.json");
                CU_ASSERT(strlen(f->message) > 0 && strlen(f->fix) > 0);
            }
            strata_lint_result_free(r);
        }
        test_write_file(p2, good->json);
        strata_lint_result *r = lint(dir, 0, "002", NULL);
        const strata_lint_finding *f = finding_of(r, rule->id);
        if (f)
            fprintf(stderr, "\n  %s: the good example is reported: %s\n", rule->id, f->message);
        CU_ASSERT_PTR_NULL(f);
        strata_lint_result_free(r);
    }
    unlink(p1);
    unlink(p2);
    rmdir(dir);
    free(dir);
    free_examples(ex, n);
}

/* Every rule has its section and its line in the table of docs/lint.md. */
static void test_every_rule_documented(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/lint.md", test_source_dir());
    char *text = NULL;
    CU_ASSERT_EQUAL_FATAL(read_file(path, &text, NULL), 0);
    size_t nrules;
    const strata_lint_rule *rules = strata_lint_rules(&nrules);
    CU_ASSERT(nrules >= 25);
    for (size_t i = 0; i < nrules; i++) {
        char heading[128], row[160];
        snprintf(heading, sizeof heading, "#### `%s`\n", rules[i].id);
        snprintf(row, sizeof row, "| [`%s`](#%s) | %s | %s |", rules[i].id, rules[i].id,
                 strata_lint_severity_name(rules[i].severity), rules[i].category);
        CU_ASSERT_STR_CONTAINS(text, heading);
        CU_ASSERT_STR_CONTAINS(text, row);
        for (size_t k = 0; k < i; k++)
            CU_ASSERT(strcmp(rules[i].id, rules[k].id) != 0);
    }
    free(text);
}

/* ---- the Medusa migrations ---- */

static void test_medusa(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/migrations", test_source_dir());
    strata_lint_result *r = lint(dir, 0, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->migrations, 82);
    CU_ASSERT_EQUAL(r->dialects, 7u);
    for (size_t i = 0; i < r->n; i++)
        if (r->findings[i].severity == STRATA_LINT_ERROR)
            fprintf(stderr, "\n  unsuppressed error: %s %s %s", r->findings[i].migration,
                    r->findings[i].rule->id, r->findings[i].message);
    CU_ASSERT_EQUAL(r->errors, 0);
    CU_ASSERT(r->suppressed >= 9);
    /* how long it takes is measured, not asserted (a loaded machine is slow):
     * docs/lint.md gives the numbers */
    if (getenv("STRATA_TEST_VERBOSE"))
        fprintf(stderr, "  lint of the Medusa migrations: %.3f s\n", r->seconds);
    /* the isolated-product migration drops its 8 foreign keys to the product tables */
    size_t isolated = 0;
    for (size_t i = 0; i < r->n; i++)
        isolated +=
            strcmp(r->findings[i].rule->id, "drop-foreign-key") == 0 &&
            strcmp(r->findings[i].migration, "1694602553610_drop-fks-isolated-product") == 0;
    CU_ASSERT_EQUAL(isolated, 8);
    CU_ASSERT(count_of(r, "sqlite-rebuild") > 0);
    CU_ASSERT(count_of(r, "mysql-copy") > 0);
    CU_ASSERT(count_of(r, "pg-index-not-concurrent") > 0);
    strata_lint_result_free(r);

    /* errors are suppressed only with a reason */
    migration_set set;
    memset(&set, 0, sizeof set);
    CU_ASSERT_EQUAL_FATAL(migrations_load_dir(dir, &set), 0);
    for (size_t i = 0; i < set.n; i++)
        if (set.v[i]->lint_ignore.n) {
            if (!set.v[i]->lint_reason || strlen(set.v[i]->lint_reason) < 20)
                fprintf(stderr, "\n  %s ignores lint rules without a reason\n", set.v[i]->id);
            CU_ASSERT(set.v[i]->lint_reason && strlen(set.v[i]->lint_reason) >= 20);
        }

    /* without the suppressions: the destructive steps, as errors */
    char *tmp = test_tempdir("lintmedusa");
    for (size_t i = 0; i < set.n; i++) {
        json_t *root = json_load_file(set.v[i]->path, 0, NULL);
        json_object_del(root, "lint");
        char out[1024];
        snprintf(out, sizeof out, "%s/%s.json", tmp, set.v[i]->id);
        json_dump_file(root, out, JSON_INDENT(2));
        json_decref(root);
    }
    r = lint(tmp, 0, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(count_of(r, "drop-column"), 7);
    CU_ASSERT_EQUAL(count_of(r, "narrowing-type"), 2);
    CU_ASSERT_EQUAL(r->errors, 9);
    int variant_id = 0;
    for (size_t i = 0; i < r->n; i++)
        variant_id |= strcmp(r->findings[i].rule->id, "drop-column") == 0 &&
                      strstr(r->findings[i].message, "'money_amount.variant_id'") != NULL;
    CU_ASSERT(variant_id);
    strata_lint_result_free(r);
    for (size_t i = 0; i < set.n; i++) {
        char out[1024];
        snprintf(out, sizeof out, "%s/%s.json", tmp, set.v[i]->id);
        unlink(out);
    }
    rmdir(tmp);
    free(tmp);
    migration_set_free(&set);
}

/* ---- the command line: output, SARIF, exit statuses ---- */

static int run_strata(const char *args, char **out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s", test_strata_bin(), args);
    return test_run_cmd(cmd, out);
}

/* The structure code scanning needs, checked here without a schema. */
static void check_sarif_structure(json_t *log)
{
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(log, "version")), "2.1.0");
    json_t *runs = json_object_get(log, "runs");
    CU_ASSERT_EQUAL_FATAL(json_array_size(runs), 1);
    json_t *run = json_array_get(runs, 0);
    json_t *driver = json_object_get(json_object_get(run, "tool"), "driver");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(driver, "name")), "strata");
    json_t *rules = json_object_get(driver, "rules");
    size_t nrules;
    strata_lint_rules(&nrules);
    CU_ASSERT_EQUAL(json_array_size(rules), nrules);
    json_t *results = json_object_get(run, "results");
    CU_ASSERT(json_array_size(results) > 0);
    size_t i;
    json_t *res;
    json_array_foreach(results, i, res)
    {
        const char *id = json_string_value(json_object_get(res, "ruleId"));
        json_int_t idx = json_integer_value(json_object_get(res, "ruleIndex"));
        json_t *rule = json_array_get(rules, (size_t)idx);
        CU_ASSERT(id && rule && strcmp(json_string_value(json_object_get(rule, "id")), id) == 0);
        const char *level = json_string_value(json_object_get(res, "level"));
        CU_ASSERT(level &&
                  (!strcmp(level, "error") || !strcmp(level, "warning") || !strcmp(level, "note")));
        CU_ASSERT(json_string_length(json_object_get(json_object_get(res, "message"), "text")) > 0);
        json_t *phys = json_object_get(json_array_get(json_object_get(res, "locations"), 0),
                                       "physicalLocation");
        const char *uri =
            json_string_value(json_object_get(json_object_get(phys, "artifactLocation"), "uri"));
        CU_ASSERT(uri && strstr(uri, "migrations/") == uri && str_ends(uri, ".json"));
        CU_ASSERT(
            json_integer_value(json_object_get(json_object_get(phys, "region"), "startLine")) >= 1);
    }
}

static int validate_sarif(const char *schema, const char *log, int quiet)
{
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/sarif/validate.py' '%s' '%s'",
             test_source_dir(), schema, log);
    int rc = test_run_cmd(cmd, &out);
    if (rc && !quiet)
        fprintf(stderr, "\n  %s", out ? out : "");
    free(out);
    return rc;
}

static void test_sarif(void)
{
    char *tmp = test_tempdir("lintsarif");
    char log[1024], broken[1024], schema[1024], args[4096];
    snprintf(log, sizeof log, "%s/lint.sarif", tmp);
    snprintf(broken, sizeof broken, "%s/broken.sarif", tmp);
    snprintf(schema, sizeof schema, "%s/tests/sarif/sarif-2.1.0-subset.schema.json",
             test_source_dir());
    /* relative paths, as code scanning wants them */
    char *out = NULL;
    snprintf(args, sizeof args, "migrations lint --migrations-dir migrations --sarif '%s'", log);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s %s", test_source_dir(), test_strata_bin(), args);
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 0);
    free(out);
    json_t *root = json_load_file(log, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    check_sarif_structure(root);
    CU_ASSERT_EQUAL(validate_sarif(schema, log, 0), 0);
    const char *full = getenv("STRATA_SARIF_SCHEMA");
    if (full && *full)
        CU_ASSERT_EQUAL(validate_sarif(full, log, 0), 0);
    /* a log that breaks SARIF must fail the check */
    json_t *res = json_array_get(
        json_object_get(json_array_get(json_object_get(root, "runs"), 0), "results"), 0);
    json_object_set_new(res, "level", json_string("notice"));
    json_object_del(res, "message");
    json_dump_file(root, broken, 0);
    CU_ASSERT_NOT_EQUAL(validate_sarif(schema, broken, 1), 0);
    json_decref(root);
    unlink(log);
    unlink(broken);
    rmdir(tmp);
    free(tmp);
}

/* A directory with the docs' base and `mig` as 002_m.json (quotes ' -> "). */
static char *dir_with(const char *mig)
{
    size_t n = 0;
    example *ex = read_examples(&n);
    char *dir = test_tempdir("lintcli");
    char p[1024];
    snprintf(p, sizeof p, "%s/001_base.json", dir);
    test_write_file(p, find_example(ex, n, "base", "")->json);
    free_examples(ex, n);
    char *json = strdup(mig);
    for (char *q = json; *q; q++)
        if (*q == '\'')
            *q = '"';
    snprintf(p, sizeof p, "%s/002_m.json", dir);
    test_write_file(p, json);
    free(json);
    return dir;
}

static void remove_dir(char *dir)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/001_base.json", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/002_m.json", dir);
    unlink(p);
    rmdir(dir);
    free(dir);
}

static void test_exit_status(void)
{
    char *dir = dir_with("{'up':[{'op':'drop_column','table':'orders','column':'note'}]}");
    char args[2048], *out = NULL;
    snprintf(args, sizeof args, "migrations lint --migrations-dir '%s' 002", dir);
    CU_ASSERT_EQUAL(run_strata(args, &out), 1);
    CU_ASSERT_STR_CONTAINS(out, "002_m.json:1:");
    CU_ASSERT_STR_CONTAINS(out, "error [drop-column] up[0]: drops column 'orders.note'");
    CU_ASSERT_STR_CONTAINS(out, "(postgres, mysql, sqlite)");
    CU_ASSERT_STR_CONTAINS(out, "1 migration linted for postgres, mysql, sqlite");
    free(out);
    snprintf(args, sizeof args,
             "migrations lint --migrations-dir '%s' 002 --ignore drop-column --dialect sqlite",
             dir);
    CU_ASSERT_EQUAL(run_strata(args, &out), 0);
    CU_ASSERT_STR_CONTAINS(out, "(1 suppressed)");
    free(out);
    snprintf(args, sizeof args, "migrations lint --migrations-dir '%s' --ignore drop-colum", dir);
    CU_ASSERT_EQUAL(run_strata(args, &out), 2);
    CU_ASSERT_STR_CONTAINS(out, "unknown lint rule 'drop-colum' (did you mean 'drop-column'?)");
    free(out);
    snprintf(args, sizeof args, "migrations lint --migrations-dir '%s' 999", dir);
    CU_ASSERT_EQUAL(run_strata(args, &out), 2);
    free(out);
    snprintf(args, sizeof args, "migrations lint --migrations-dir '%s' --dialect oracle", dir);
    CU_ASSERT_EQUAL(run_strata(args, &out), 2);
    free(out);
    snprintf(args, sizeof args, "migrations lint --migrations-dir '%s' --json 002", dir);
    CU_ASSERT_EQUAL(run_strata(args, &out), 1);
    json_t *j = json_loads(out ? strchr(out, '{') : "", 0, NULL);
    CU_ASSERT_PTR_NOT_NULL(j);
    json_t *f = json_array_get(json_object_get(j, "findings"), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "rule")), "drop-column");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "path")), "up[0]");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(f, "line")), 1);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(f, "databases")), 3);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "errors")), 1);
    json_decref(j);
    free(out);
    remove_dir(dir);

    /* a clean migration: 0; a "lint" naming no rule: 2 */
    dir = dir_with("{'up':[{'op':'add_column','table':'orders','column':{'name':'x','type':"
                   "'integer'}}]}");
    snprintf(args, sizeof args, "migrations lint --migrations-dir '%s' 002", dir);
    CU_ASSERT_EQUAL(run_strata(args, &out), 0);
    free(out);
    remove_dir(dir);
    dir = dir_with("{'lint':{'ignore':['drop-colum']},'up':[{'op':'drop_column','table':"
                   "'orders','column':'note'}]}");
    snprintf(args, sizeof args, "migrations lint --migrations-dir '%s'", dir);
    CU_ASSERT_EQUAL(run_strata(args, &out), 2);
    CU_ASSERT_STR_CONTAINS(out, "002_m.json: lint.ignore[0]: unknown lint rule 'drop-colum'");
    free(out);
    remove_dir(dir);
}

/* ---- the "lint" key ---- */

static void test_lint_key(void)
{
    const char *plain = "{\"up\":[{\"op\":\"drop_table\",\"table\":\"t\"}]}";
    const char *with = "{\"lint\":{\"ignore\":[\"drop-table\"],\"reason\":\"gone since v2\"},"
                       "\"up\":[{\"op\":\"drop_table\",\"table\":\"t\"}]}";
    migration *a = NULL, *b = NULL;
    CU_ASSERT_EQUAL(migration_parse("a.json", "1_a", plain, &a), 0);
    CU_ASSERT_EQUAL(migration_parse("b.json", "1_a", with, &b), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(a->checksum, b->checksum);
    CU_ASSERT_EQUAL(b->lint_ignore.n, 1);
    CU_ASSERT_STRING_EQUAL(b->lint_reason, "gone since v2");
    migration_free(a);
    migration_free(b);
    static const struct {
        const char *json, *needle;
    } bad[] = {
        {"{\"lint\":5,\"up\":[{\"op\":\"drop_table\",\"table\":\"t\"}]}",
         "lint: 'lint' must be an object"},
        {"{\"lint\":{\"ignore\":\"x\"},\"up\":[{\"op\":\"drop_table\",\"table\":\"t\"}]}",
         "lint.ignore: 'ignore' must be a list"},
        {"{\"lint\":{\"ignore\":[\"\"]},\"up\":[{\"op\":\"drop_table\",\"table\":\"t\"}]}",
         "lint.ignore[0]: a lint rule id must be a non-empty string"},
        {"{\"lint\":{\"ignor\":[]},\"up\":[{\"op\":\"drop_table\",\"table\":\"t\"}]}",
         "unknown key 'ignor' in lint (did you mean 'ignore'?)"},
        {"{\"up\":[{\"op\":\"create_index\",\"table\":\"t\",\"name\":\"i\",\"columns\":[\"a\"],"
         "\"online\":\"yes\"}]}",
         "up[0].online: 'online' must be true or false"},
        {"{\"up\":[{\"op\":\"drop_index\",\"table\":\"t\",\"name\":\"i\",\"online\":true}]}",
         "unknown key 'online' in drop_index"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        migration *m = NULL;
        CU_ASSERT_EQUAL(migration_parse("x.json", "1_x", bad[i].json, &m), STRATA_EINPUT);
        CU_ASSERT_STR_CONTAINS(strata_error_message(), bad[i].needle);
        migration_free(m);
    }
    strata_error_clear();
}

/* Versioned options, as every entry point: an unknown version is refused
 * before anything is read. */
static void test_options(void)
{
    strata_lint_options opt;
    CU_ASSERT_EQUAL(strata_lint_options_init(&opt, STRATA_LINT_OPTIONS_VERSION), 0);
    CU_ASSERT_EQUAL(opt.version, STRATA_LINT_OPTIONS_VERSION);
    CU_ASSERT_PTR_NULL(opt.migrations_dir);
    CU_ASSERT_EQUAL(strata_lint_options_init(&opt, 99), STRATA_EINPUT);
    opt.version = 0;
    strata_lint_result *r = NULL;
    CU_ASSERT_EQUAL(strata_migrations_lint(NULL, &opt, NULL, 0, &r), STRATA_EINPUT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "strata_lint_options version 0");
    CU_ASSERT_PTR_NULL(r);
    strata_options bad = STRATA_OPTIONS_INIT;
    bad.version = 42;
    strata_plan *p = NULL;
    CU_ASSERT_EQUAL(strata_migrations_plan(NULL, &bad, &p), STRATA_EINPUT);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_STRING_EQUAL(strata_cost_name(STRATA_COST_COPY), "copy");
    CU_ASSERT_STRING_EQUAL(strata_lint_severity_name(STRATA_LINT_NOTICE), "notice");
    strata_error_clear();
}

static void test_json_path_position(void)
{
    const char *text = "{\n  \"up\": [\n    {\"op\": \"a\"},\n    {\"op\": \"b\",\n"
                       "     \"columns\": [1, {\"x\": \"y\\\"z\"}]}\n  ],\n  \"down\": []\n}\n";
    int line = 0, col = 0;
    CU_ASSERT(json_path_position(text, "", &line, &col));
    CU_ASSERT(line == 1 && col == 1);
    CU_ASSERT(json_path_position(text, "up[0]", &line, &col));
    CU_ASSERT(line == 3 && col == 5);
    CU_ASSERT(json_path_position(text, "up[1]", &line, &col));
    CU_ASSERT(line == 4 && col == 5);
    CU_ASSERT(json_path_position(text, "up[1].columns[1].x", &line, &col));
    CU_ASSERT(line == 5 && col == 27);
    CU_ASSERT(json_path_position(text, "down", &line, &col));
    CU_ASSERT(line == 7 && col == 11);
    CU_ASSERT(!json_path_position(text, "up[2]", &line, &col));
    CU_ASSERT(!json_path_position(text, "nope", &line, &col));
}

static const test_case offline_tests[] = {
    {"every rule reports its bad example and not its good one", test_docs_examples},
    {"every rule is documented", test_every_rule_documented},
    {"the Medusa migrations", test_medusa},
    {"SARIF 2.1.0", test_sarif},
    {"exit statuses and output", test_exit_status},
    {"the lint key and online", test_lint_key},
    {"JSON path positions", test_json_path_position},
    {"versioned options", test_options},
    {NULL, NULL},
};

/* ---- with a database ---- */

/* Only the pending migration is linted, and the messages say how many rows
 * the table holds in the database. */
static void test_with_database(void)
{
    char *dir = dir_with("{'up':[{'op':'drop_column','table':'orders','column':'note'}]}");
    char *url = test_fresh_database(test_dialect, "lint");
    CU_ASSERT_PTR_NOT_NULL_FATAL(url);
    strata_conn *conn = test_connect(url);
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = dir;
    opt.to = "001";
    strata_report *rep = NULL;
    CU_ASSERT_EQUAL(strata_migrations_run(conn, &opt, &rep), 0);
    strata_report_free(rep);
    test_exec(conn, "INSERT INTO customer (id) VALUES ('c1')");
    test_exec(conn, "INSERT INTO orders (id, customer_id) VALUES ('o1', 'c1'), ('o2', 'c1'), "
                    "('o3', 'c1')");
    if (test_dialect == STRATA_MYSQL)
        test_exec(conn, "ANALYZE TABLE orders");
    strata_lint_result *r = lint(dir, 0, NULL, conn);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->migrations, 1);
    CU_ASSERT_EQUAL(r->dialects, 1u << test_dialect);
    const strata_lint_finding *f = finding_of(r, "drop-column");
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f) {
        CU_ASSERT_STR_CONTAINS(f->message, "3 rows in the database)");
        CU_ASSERT_STR_CONTAINS(f->migration, "002_m");
    }
    strata_lint_result_free(r);
    strata_conn_close(conn);
    test_drop_database(test_dialect, url);
    free(url);
    remove_dir(dir);
}

static const test_case db_tests[] = {
    {"pending migrations and row counts", test_with_database},
    {NULL, NULL},
};

int main(void)
{
    test_add_suite("lint", offline_tests);
    test_add_dialect_suites("lint-db", NULL, NULL, db_tests);
    return test_main();
}
