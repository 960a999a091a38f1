/*
 * test_fleet.c - fleets: one command over many databases at once, on the
 * real servers. Targets are mixed over four kinds: PostgreSQL databases,
 * PostgreSQL schemas of one database (?search_path=NAME,public),
 * MariaDB databases and SQLite files.
 *
 *   - every target of a fleet ends identical to a single run of the same
 *     migrations on a database of its kind, with the same history; a fleet
 *     run again finds every target up to date;
 *   - the Medusa migrations on a subset of each kind, through the command
 *     line, with JSON and JUnit reports that list every target;
 *   - a target made to fail (a conflicting table created beforehand) is
 *     reported while the others succeed (--continue), or the targets after
 *     it are not started (--fail-fast, a failed canary);
 *   - a fleet killed (SIGKILL) part-way and run again applies exactly the
 *     migrations the first run did not;
 *   - a target past --target-timeout is interrupted and reported, the
 *     others finish;
 *   - PostgreSQL schema targets have their own history and lock, and
 *     introspection reads their schema alone;
 *   - targets files (comments, name=, ${NAME}, errors by line), strata.json
 *     environments as targets, check --targets.
 *
 * Fleet size: STRATA_FLEET_TARGETS (default 12: 3 of each kind, the CI
 * run) targets of a generated migration set, and STRATA_FLEET_MEDUSA
 * (default 1) targets of each kind with the Medusa migrations.
 * scripts/fleet-matrix.sh runs 200 + 20.
 */
#include "testutil.h"

#include "driver.h"
#include "introspect.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- targets of four kinds ---- */

typedef enum { K_PG_DB, K_PG_SCHEMA, K_MYSQL, K_SQLITE, K_COUNT } kind;

static const char *const kind_names[K_COUNT] = {"postgres database", "postgres schema",
                                                "mariadb database", "sqlite file"};

static strata_dialect kind_dialect(kind k)
{
    return k == K_MYSQL ? STRATA_MYSQL : k == K_SQLITE ? STRATA_SQLITE : STRATA_POSTGRES;
}

/* Every database made, to drop at the end; schemas live in schema_db. */
typedef struct made {
    strata_dialect d;
    char *url;
} made;
static made *dbs;
static size_t ndbs;
static char *schema_db; /* the PostgreSQL database that holds the schema targets */
static char *tmpdir;
static int schema_counter;

static char *remember(strata_dialect d, char *url)
{
    dbs = realloc(dbs, (ndbs + 1) * sizeof *dbs);
    dbs[ndbs].d = d;
    dbs[ndbs].url = url;
    ndbs++;
    return url;
}

/* A new empty target of kind k (caller frees). */
static char *new_target(kind k, const char *tag)
{
    char *url = NULL;
    if (k == K_PG_SCHEMA) {
        /* pg_trgm lives in public, shared by every tenant (docs/fleet.md) */
        if (asprintf(&url, "%s?search_path=%s_%d,public", schema_db, tag, ++schema_counter) < 0)
            abort();
        return url;
    }
    url = test_fresh_database(kind_dialect(k), tag);
    if (!url)
        return NULL;
    return strdup(remember(kind_dialect(k), url));
}

static int suite_init(void)
{
    tmpdir = test_tempdir("fleet");
    schema_db = test_fresh_database(STRATA_POSTGRES, "fleetsch");
    if (!tmpdir || !schema_db)
        return 1;
    strata_conn *c = test_connect(schema_db);
    if (!c)
        return 1;
    int rc = strata_conn_exec(c, "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public");
    if (rc)
        fprintf(stderr, "pg_trgm: %s\n", strata_error_message());
    strata_conn_close(c);
    return rc ? 1 : 0;
}

static int suite_cleanup(void)
{
    for (size_t i = 0; i < ndbs; i++) {
        test_drop_database(dbs[i].d, dbs[i].url);
        free(dbs[i].url);
    }
    free(dbs);
    dbs = NULL;
    ndbs = 0;
    test_drop_database(STRATA_POSTGRES, schema_db);
    free(schema_db);
    char *cmd = NULL;
    if (asprintf(&cmd, "rm -rf '%s'", tmpdir) >= 0 && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    free(cmd);
    free(tmpdir);
    return 0;
}

static int env_count(const char *name, int def)
{
    const char *v = getenv(name);
    int n = v && *v ? atoi(v) : def;
    return n > 0 ? n : def;
}

/* n targets, the kinds of `cycle` (nkinds of them) in turn, every kind when
 * cycle is NULL; urls[i] belongs to the caller. */
static char **new_targets_of(size_t n, const char *tag, kind *kinds, const kind *cycle,
                             size_t nkinds)
{
    char **urls = calloc(n + 1, sizeof *urls);
    for (size_t i = 0; i < n; i++) {
        kinds[i] = cycle ? cycle[i % nkinds] : (kind)(i % K_COUNT);
        urls[i] = new_target(kinds[i], tag);
        CU_ASSERT_PTR_NOT_NULL_FATAL(urls[i]);
    }
    return urls;
}

static char **new_targets(size_t n, const char *tag, kind *kinds)
{
    return new_targets_of(n, tag, kinds, NULL, 0);
}

static void free_urls(char **urls, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(urls[i]);
    free(urls);
}

/* ---- a generated migration set ---- */

static const char *const generated[] = {
    "{\"up\": [{\"op\": \"create_enum\", \"name\": \"tier\", \"values\": [\"free\", \"pro\"]},"
    "{\"op\": \"create_table\", \"table\": \"account\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true},"
    "{\"name\": \"email\", \"type\": \"string\", \"nullable\": false},"
    "{\"name\": \"tier\", \"type\": \"enum\", \"enum\": \"tier\", \"default\": \"free\"},"
    "{\"name\": \"created_at\", \"type\": \"timestamptz\", \"default\": {\"expr\": \"now\"}}],"
    "\"indexes\": [{\"name\": \"account_email\", \"columns\": [\"email\"], \"unique\": true}]}]}",
    "{\"up\": [{\"op\": \"create_table\", \"table\": \"project\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"string\", \"primary_key\": true},"
    "{\"name\": \"account_id\", \"type\": \"integer\", \"nullable\": false, \"references\": "
    "{\"table\": \"account\", \"on_delete\": \"cascade\"}},"
    "{\"name\": \"name\", \"type\": \"string\", \"nullable\": false},"
    "{\"name\": \"budget\", \"type\": \"decimal\", \"precision\": 12, \"scale\": 2}]}]}",
    "{\"up\": [{\"op\": \"add_column\", \"table\": \"account\", \"column\": "
    "{\"name\": \"deleted_at\", \"type\": \"timestamptz\"}},"
    "{\"op\": \"create_index\", \"table\": \"account\", \"name\": \"account_deleted\", "
    "\"columns\": [\"deleted_at\"]}]}",
    "{\"up\": [{\"op\": \"create_table\", \"table\": \"task\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"serial\", \"primary_key\": true},"
    "{\"name\": \"project_id\", \"type\": \"string\", \"nullable\": false, \"references\": "
    "{\"table\": \"project\"}},"
    "{\"name\": \"title\", \"type\": \"text\"},"
    "{\"name\": \"done\", \"type\": \"boolean\", \"nullable\": false, \"default\": false},"
    "{\"name\": \"data\", \"type\": \"jsonb\"}]}]}",
    "{\"up\": [{\"op\": \"add_column\", \"table\": \"project\", \"column\": "
    "{\"name\": \"archived\", \"type\": \"boolean\", \"nullable\": false, \"default\": false}},"
    "{\"op\": \"insert\", \"table\": \"account\", \"rows\": [{\"id\": 1000, \"email\": "
    "\"ops@example.com\", \"tier\": \"pro\"}]}]}",
    "{\"up\": [{\"op\": \"create_index\", \"table\": \"task\", \"name\": \"task_open\", "
    "\"columns\": [\"project_id\", \"done\"]}]}",
};
#define NGENERATED (sizeof generated / sizeof generated[0])

/* A directory of the generated migrations (caller frees). */
static char *generated_dir(const char *tag)
{
    char *dir;
    if (asprintf(&dir, "%s/%s", tmpdir, tag) < 0)
        abort();
    mkdir(dir, 0700);
    for (size_t i = 0; i < NGENERATED; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/2024010100000%zu_step%zu.json", dir, i, i);
        test_write_file(path, generated[i]);
    }
    return dir;
}

/* ---- comparing targets ---- */

static int read_schema(const char *url, schema *out)
{
    strata_conn *c = test_connect(url);
    if (!c)
        return -1;
    int rc = introspect_schema(c, out, NULL, NULL);
    strata_conn_close(c);
    return rc;
}

/* The history's applied versions, in order, one a line (caller frees). */
static char *history_of(const char *url)
{
    strata_conn *c = test_connect(url);
    if (!c)
        return NULL;
    strata_rows *rows;
    char *out = NULL;
    if (strata_conn_query(c,
                          "SELECT version FROM strata_migrations WHERE state = 'applied' ORDER "
                          "BY version",
                          NULL, 0, &rows) == 0) {
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        while (strata_rows_next(rows) == 1)
            fprintf(f, "%s\n", strata_rows_text(rows, 0));
        fclose(f);
        strata_rows_free(rows);
    } else {
        strata_error_clear();
        out = strdup(""); /* no history table: nothing applied */
    }
    strata_conn_close(c);
    return out;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

/* Is the target's schema the reference's (same dialect), with no
 * difference? Prints the first differences. */
static int same_schema(const schema *ref, const char *url, strata_dialect d, const char *what)
{
    schema s;
    if (read_schema(url, &s) != 0) {
        fprintf(stderr, "\n  %s: cannot read the schema: %s\n", what, strata_error_message());
        return 0;
    }
    diff_options o;
    memset(&o, 0, sizeof o);
    o.dialect = d;
    o.compare_enum_types = d == STRATA_POSTGRES;
    o.left_label = "single run";
    o.right_label = what;
    schema_diff diff;
    schema_compare(ref, &s, &o, &diff);
    for (size_t i = 0; i < diff.n && i < 5; i++)
        fprintf(stderr, "\n  %s: %s", what, diff.v[i].line);
    int same = diff.n == 0;
    schema_diff_free(&diff);
    schema_free(&s);
    return same;
}

/* The reference: one single `migrations run` of `dir` on a new database of
 * each dialect whose bit is in `dialects` (PostgreSQL schema targets
 * compare with the database). */
static void single_runs(const char *dir, const char *tag, unsigned dialects,
                        schema ref[STRATA_DIALECT_COUNT], char *ref_history[STRATA_DIALECT_COUNT])
{
    for (int d = 0; d < STRATA_DIALECT_COUNT; d++) {
        schema_init(&ref[d]);
        ref_history[d] = NULL;
        if (!(dialects & (1u << d)))
            continue;
        char *url = new_target(d == STRATA_POSTGRES ? K_PG_DB
                               : d == STRATA_MYSQL  ? K_MYSQL
                                                    : K_SQLITE,
                               tag);
        strata_conn *c = test_connect(url);
        strata_options opt = STRATA_OPTIONS_INIT;
        opt.migrations_dir = dir;
        strata_report *rep = NULL;
        int rc = strata_migrations_run(c, &opt, &rep);
        if (rc)
            fprintf(stderr, "\n  single run on %s: %s\n", url, strata_error_message());
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        strata_report_free(rep);
        strata_conn_close(c);
        CU_ASSERT_EQUAL_FATAL(read_schema(url, &ref[d]), 0);
        ref_history[d] = history_of(url);
        free(url);
    }
}

static void free_refs(schema ref[STRATA_DIALECT_COUNT], char *hist[STRATA_DIALECT_COUNT])
{
    for (int d = 0; d < STRATA_DIALECT_COUNT; d++) {
        schema_free(&ref[d]);
        free(hist[d]);
    }
}

/* Every target identical to the single run of its dialect: schema and
 * applied history. */
static void assert_identical(char **urls, const kind *kinds, size_t n,
                             schema ref[STRATA_DIALECT_COUNT], char *hist[STRATA_DIALECT_COUNT])
{
    size_t same = 0;
    for (size_t i = 0; i < n; i++) {
        strata_dialect d = kind_dialect(kinds[i]);
        char what[64];
        snprintf(what, sizeof what, "target %zu (%s)", i + 1, kind_names[kinds[i]]);
        int ok = same_schema(&ref[d], urls[i], d, what);
        char *h = history_of(urls[i]);
        if (!h || strcmp(h, hist[d]) != 0) {
            fprintf(stderr, "\n  %s: history differs from the single run's\n", what);
            ok = 0;
        }
        free(h);
        same += ok;
    }
    CU_ASSERT_EQUAL(same, n);
}

/* ---- running the command line ---- */

/* Run strata with `args`; stdout to *out (caller frees; JSON with --json),
 * stderr to *err (may be NULL). Returns the exit status. */
static int run_strata(const char *args, char **out, char **err)
{
    char outfile[512], errfile[512];
    snprintf(outfile, sizeof outfile, "%s/stdout", tmpdir);
    snprintf(errfile, sizeof errfile, "%s/stderr", tmpdir);
    char *cmd;
    if (asprintf(&cmd, "cd '%s' && '%s' %s >'%s' 2>'%s'", tmpdir, test_strata_bin(), args, outfile,
                 errfile) < 0)
        abort();
    int st = system(cmd);
    free(cmd);
    const char *files[2] = {outfile, errfile};
    char **dest[2] = {out, err};
    for (int k = 0; k < 2; k++) {
        if (!dest[k])
            continue;
        FILE *f = fopen(files[k], "r");
        size_t len = 0;
        char *text = NULL;
        FILE *m = open_memstream(&text, &len);
        int ch;
        while (f && (ch = fgetc(f)) != EOF)
            fputc(ch, m);
        fclose(m);
        if (f)
            fclose(f);
        *dest[k] = text;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Write a targets file of `urls` (labels t1, t2, ...) and return its path. */
static char *targets_file(const char *tag, char **urls, size_t n)
{
    char *path;
    if (asprintf(&path, "%s/%s.targets", tmpdir, tag) < 0)
        abort();
    FILE *f = fopen(path, "w");
    fprintf(f, "# %s: %zu targets\n", tag, n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "name=t%zu %s\n", i + 1, urls[i]);
    fclose(f);
    return path;
}

/* The "targets" array of a fleet's --json output, and its status of t<i>. */
static const char *json_status(json_t *root, size_t i)
{
    json_t *t = json_array_get(json_object_get(root, "targets"), i);
    return t ? json_string_value(json_object_get(t, "status")) : NULL;
}

static long long json_migrations(json_t *root, size_t i)
{
    json_t *t = json_array_get(json_object_get(root, "targets"), i);
    json_t *m = t ? json_object_get(t, "migrations") : NULL;
    return m ? json_integer_value(m) : -1;
}

static json_t *parse_json(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text ? text : "", 0, &e);
    if (!j)
        fprintf(stderr, "\n  not JSON (%s): %.400s\n", e.text, text ? text : "");
    return j;
}

/* ---- tests ---- */

/* What a fleet's progress callback heard. */
typedef struct progress_seen {
    size_t started, ended, max_running, last_done;
} progress_seen;

static void count_progress(const strata_fleet_progress *p, void *payload)
{
    progress_seen *seen = payload;
    if (p->status == STRATA_TARGET_RUNNING)
        seen->started++;
    else
        seen->ended++;
    if (p->running > seen->max_running)
        seen->max_running = p->running;
    seen->last_done = p->done;
}

/* A fleet of every kind through the command line: each target identical
 * to a single run, the JSON and JUnit reports list each; through the
 * library again: each up to date, never more than `parallel` at once. */
static void test_fleet_identical(void)
{
    size_t n = (size_t)env_count("STRATA_FLEET_TARGETS", 12);
    char *dir = generated_dir("gen-identical");
    schema ref[STRATA_DIALECT_COUNT];
    char *hist[STRATA_DIALECT_COUNT];
    single_runs(dir, "fsingle", 7, ref, hist);
    kind *kinds = calloc(n, sizeof *kinds);
    char **urls = new_targets(n, "fid", kinds);
    strata_fleet_target *targets = calloc(n, sizeof *targets);
    for (size_t i = 0; i < n; i++)
        targets[i].url = urls[i];

    /* through the command line: its JSON and JUnit reports list every target */
    int parallel = env_count("STRATA_FLEET_PARALLEL", 4);
    char *file = targets_file("identical", urls, n);
    char args[2048], junit[600];
    snprintf(junit, sizeof junit, "%s/identical.xml", tmpdir);
    snprintf(args, sizeof args,
             "migrations run --targets '%s' --migrations-dir '%s' --parallel %d --json --junit "
             "'%s'",
             file, dir, parallel, junit);
    double t0 = (double)time(NULL);
    char *out = NULL, *err = NULL;
    int st = run_strata(args, &out, &err);
    if (st != 0)
        fprintf(stderr, "\n  exit %d: %.2000s", st, err);
    CU_ASSERT_EQUAL(st, 0);
    json_t *j = parse_json(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    json_t *list = json_object_get(j, "targets");
    CU_ASSERT_EQUAL(json_array_size(list), n);
    size_t listed = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(list, i);
        char name[32];
        snprintf(name, sizeof name, "t%zu", i + 1);
        const char *status = json_status(j, i);
        const char *error = json_string_value(json_object_get(t, "error"));
        if (!status || strcmp(status, "ok") != 0)
            fprintf(stderr, "\n  %s: %s: %s", name, status ? status : "(none)", error ? error : "");
        listed += status && !strcmp(status, "ok") &&
                  json_migrations(j, i) == (long long)NGENERATED &&
                  !strcmp(json_string_value(json_object_get(t, "name")), name) &&
                  !strcmp(json_string_value(json_object_get(t, "database")),
                          strata_dialect_name(kind_dialect(kinds[i])));
    }
    CU_ASSERT_EQUAL(listed, n);
    fprintf(stderr, "\n  %zu targets, %zu migrations each, %d at a time: %.1f s", n, NGENERATED,
            parallel, json_real_value(json_object_get(j, "seconds")));
    json_decref(j);
    char *xml = NULL, cmd[700];
    snprintf(cmd, sizeof cmd, "cat '%s'", junit);
    test_run_cmd(cmd, &xml);
    size_t cases = 0;
    for (const char *p = xml; (p = strstr(p, "<testcase ")) != NULL; p++)
        cases++;
    CU_ASSERT_EQUAL(cases, n);
    char expect[128];
    snprintf(expect, sizeof expect, "tests=\"%zu\" failures=\"0\" skipped=\"0\"", n);
    CU_ASSERT_STR_CONTAINS(xml, expect);
    free(xml);
    free(out);
    free(err);
    free(file);
    assert_identical(urls, kinds, n, ref, hist);

    /* through the library, with its progress callback: never more than
     * `parallel` targets at once */
    strata_options mopt = STRATA_OPTIONS_INIT;
    mopt.migrations_dir = dir;
    mopt.lock_timeout = 60;
    strata_fleet_options opt = STRATA_FLEET_OPTIONS_INIT;
    opt.migrate = &mopt;
    opt.parallel = (unsigned)parallel;
    opt.progress_cb = count_progress;
    progress_seen seen;
    memset(&seen, 0, sizeof seen);
    opt.progress_payload = &seen;
    strata_fleet_result *r = NULL;
    int rc;
    /* resumable: again, nothing to do anywhere */
    rc = strata_fleet_run(targets, n, &opt, &r);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(r->ok, n);
    CU_ASSERT_EQUAL(seen.started, n);
    CU_ASSERT_EQUAL(seen.ended, n);
    CU_ASSERT(seen.max_running >= 1 && seen.max_running <= (size_t)parallel);
    CU_ASSERT_EQUAL(seen.last_done, n);
    size_t zero = 0;
    for (size_t i = 0; i < n; i++)
        zero += r->targets[i].migrations == 0;
    CU_ASSERT_EQUAL(zero, n);
    fprintf(stderr, "\n  again: %.1f s (%.0f s in all)", r->seconds, (double)time(NULL) - t0);
    strata_fleet_result_free(r);
    assert_identical(urls, kinds, n, ref, hist);
    free(targets);
    free_urls(urls, n);
    free(kinds);
    free_refs(ref, hist);
    free(dir);
}

/* The Medusa migrations on STRATA_FLEET_MEDUSA targets of each kind,
 * through the command line: identical to single runs; the JSON and JUnit
 * reports list every target. */
static void test_fleet_medusa(void)
{
    /* The CI run leaves MariaDB out: the Medusa migrations take it 10-20 s
     * a database on two cores (test_medusa runs them there alone, and the
     * generated fleets have MariaDB targets); STRATA_FLEET_MEDUSA=K runs K
     * targets of every kind. */
    static const kind ci_kinds[] = {K_PG_DB, K_PG_SCHEMA, K_SQLITE};
    int per_kind = env_count("STRATA_FLEET_MEDUSA", 0);
    size_t n = per_kind ? (size_t)per_kind * K_COUNT : 3;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/migrations", test_source_dir());
    schema ref[STRATA_DIALECT_COUNT];
    char *hist[STRATA_DIALECT_COUNT];
    single_runs(dir, "fmsingle", per_kind ? 7 : 5, ref, hist);
    kind *kinds = calloc(n, sizeof *kinds);
    char **urls =
        per_kind ? new_targets(n, "fmed", kinds) : new_targets_of(n, "fmed", kinds, ci_kinds, 3);
    char *file = targets_file("medusa", urls, n);
    char args[2048], junit[600];
    snprintf(junit, sizeof junit, "%s/medusa.xml", tmpdir);
    snprintf(args, sizeof args,
             "migrations run --targets '%s' --migrations-dir '%s' --parallel %d --json --junit "
             "'%s'",
             file, dir, env_count("STRATA_FLEET_PARALLEL", 4), junit);
    char *out = NULL, *err = NULL;
    int st = run_strata(args, &out, &err);
    if (st != 0)
        fprintf(stderr, "\n  exit %d: %s\n%.2000s", st, err, out);
    CU_ASSERT_EQUAL(st, 0);
    json_t *j = parse_json(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "targets")), n);
    for (size_t i = 0; i < n; i++) {
        /* as many as a single run applied (75 with the default flags) */
        int want = count_lines(hist[kind_dialect(kinds[i])]);
        CU_ASSERT_STRING_EQUAL(json_status(j, i), "ok");
        CU_ASSERT_EQUAL(json_migrations(j, i), want);
        json_t *t = json_array_get(json_object_get(j, "targets"), i);
        char name[32];
        snprintf(name, sizeof name, "t%zu", i + 1);
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(t, "name")), name);
        CU_ASSERT_EQUAL(json_array_size(json_object_get(t, "applied")), (size_t)want);
    }
    fprintf(stderr, "\n  %zu Medusa targets: %.1f s", n,
            json_real_value(json_object_get(j, "seconds")));
    json_decref(j);
    /* the JUnit report: one testcase per target, no failure */
    char *xml = NULL;
    char cmd[700];
    snprintf(cmd, sizeof cmd, "cat '%s'", junit);
    test_run_cmd(cmd, &xml);
    size_t cases = 0;
    for (const char *p = xml; (p = strstr(p, "<testcase ")) != NULL; p++)
        cases++;
    CU_ASSERT_EQUAL(cases, n);
    char expect[128];
    snprintf(expect, sizeof expect, "tests=\"%zu\" failures=\"0\" skipped=\"0\"", n);
    CU_ASSERT_STR_CONTAINS(xml, expect);
    snprintf(expect, sizeof expect, "<testcase classname=\"strata.fleet.%s\" name=\"t3\"",
             per_kind ? "mysql" : "sqlite");
    CU_ASSERT_STR_CONTAINS(xml, expect);
    free(xml);
    free(out);
    free(err);
    assert_identical(urls, kinds, n, ref, hist);

    /* show, validate and db diff as fleets: nothing pending, changed or drifted */
    const char *cmds[] = {"migrations show", "migrations validate", "db diff"};
    for (size_t k = 0; k < 3; k++) {
        snprintf(args, sizeof args, "%s --targets '%s' --migrations-dir '%s' --json", cmds[k], file,
                 dir);
        st = run_strata(args, &out, &err);
        if (st != 0)
            fprintf(stderr, "\n  %s: exit %d: %s\n%.2000s", cmds[k], st, err, out);
        CU_ASSERT_EQUAL(st, 0);
        free(out);
        free(err);
    }
    free(file);
    free_urls(urls, n);
    free(kinds);
    free_refs(ref, hist);
}

/* Create the table the first generated migration creates, so that
 * migration fails on that target. */
static void make_conflict(const char *url)
{
    strata_conn *c = test_connect(url);
    test_exec(c, "CREATE TABLE account (id integer)");
    strata_conn_close(c);
}

/* One target with a conflicting table: --continue (the default) runs
 * every other and reports it; exit 1. */
static void test_fleet_continue(void)
{
    size_t n = 8, bad = 5; /* t6: a PostgreSQL schema */
    char *dir = generated_dir("gen-continue");
    kind *kinds = calloc(n, sizeof *kinds);
    char **urls = new_targets(n, "fcont", kinds);
    make_conflict(urls[bad]);
    char *file = targets_file("continue", urls, n);
    char args[2048], junit[600];
    snprintf(junit, sizeof junit, "%s/continue.xml", tmpdir);
    snprintf(args, sizeof args,
             "migrations run --targets '%s' --migrations-dir '%s' --parallel 3 --continue "
             "--json --junit '%s'",
             file, dir, junit);
    char *out = NULL, *err = NULL;
    int st = run_strata(args, &out, &err);
    CU_ASSERT_EQUAL(st, 1);
    json_t *j = parse_json(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_STRING_EQUAL(json_status(j, i), i == bad ? "failed" : "ok");
    json_t *t = json_array_get(json_object_get(j, "targets"), bad);
    CU_ASSERT_STR_CONTAINS(json_string_value(json_object_get(t, "error")), "account");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(j, "summary"), "failed")),
                    1);
    json_decref(j);
    /* the failed target kept nothing of the migration; the others have all */
    char *h = history_of(urls[bad]);
    CU_ASSERT_EQUAL(count_lines(h), 0);
    free(h);
    h = history_of(urls[0]);
    CU_ASSERT_EQUAL(count_lines(h), (int)NGENERATED);
    free(h);
    char *xml = NULL, cmd[700];
    snprintf(cmd, sizeof cmd, "cat '%s'", junit);
    test_run_cmd(cmd, &xml);
    CU_ASSERT_STR_CONTAINS(xml, "failures=\"1\"");
    CU_ASSERT_STR_CONTAINS(xml, "name=\"t6\" time=");
    CU_ASSERT_STR_CONTAINS(xml, "<failure type=\"failed\" message=\"");
    free(xml);
    free(out);
    free(err);

    /* the text report: a row per target, the error, the summary */
    snprintf(args, sizeof args, "migrations run --targets '%s' --migrations-dir '%s'", file, dir);
    st = run_strata(args, &out, &err);
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_STR_CONTAINS(out, "t1 ");
    CU_ASSERT_STR_CONTAINS(out, "up to date");
    CU_ASSERT_STR_CONTAINS(out, "8 targets: 7 ok, 1 failed in ");
    free(out);
    free(err);
    free(file);
    free_urls(urls, n);
    free(kinds);
    free(dir);
}

/* --fail-fast: after the failure no target starts; --canary K: a failing
 * canary keeps every other from starting, passing canaries let them run. */
static void test_fleet_fail_fast_canary(void)
{
    size_t n = 6;
    char *dir = generated_dir("gen-failfast");
    kind *kinds = calloc(n, sizeof *kinds);
    char **urls = new_targets(n, "ffast", kinds);
    make_conflict(urls[2]);
    char *file = targets_file("failfast", urls, n);
    char args[2048];
    snprintf(args, sizeof args,
             "migrations run --targets '%s' --migrations-dir '%s' --parallel 1 --fail-fast --json",
             file, dir);
    char *out = NULL, *err = NULL;
    int st = run_strata(args, &out, &err);
    CU_ASSERT_EQUAL(st, 1);
    json_t *j = parse_json(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    const char *want[] = {"ok", "ok", "failed", "not started", "not started", "not started"};
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_STRING_EQUAL(json_status(j, i), want[i]);
    json_decref(j);
    free(out);
    free(err);
    /* the targets not started are untouched */
    for (size_t i = 3; i < n; i++) {
        char *h = history_of(urls[i]);
        CU_ASSERT_EQUAL(count_lines(h), 0);
        free(h);
    }
    /* a canary that fails: targets 2 and 3 are canaries, 3 fails */
    snprintf(args, sizeof args,
             "migrations run --targets '%s' --migrations-dir '%s' --canary 3 --parallel 2", file,
             dir);
    st = run_strata(args, &out, &err);
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_STR_CONTAINS(out, "3 not started (a canary failed)");
    free(out);
    free(err);
    for (size_t i = 3; i < n; i++) {
        char *h = history_of(urls[i]);
        CU_ASSERT_EQUAL(count_lines(h), 0);
        free(h);
    }
    /* the conflict removed, canaries pass and every target runs */
    strata_conn *c = test_connect(urls[2]);
    test_exec(c, "DROP TABLE account");
    strata_conn_close(c);
    snprintf(args, sizeof args,
             "migrations run --targets '%s' --migrations-dir '%s' --canary 2 --json", file, dir);
    st = run_strata(args, &out, &err);
    CU_ASSERT_EQUAL(st, 0);
    j = parse_json(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_STRING_EQUAL(json_status(j, i), "ok");
        CU_ASSERT_EQUAL(json_migrations(j, i), i < 2 ? 0 : (long long)NGENERATED);
        json_t *t = json_array_get(json_object_get(j, "targets"), i);
        CU_ASSERT_EQUAL(json_is_true(json_object_get(t, "canary")), i < 2);
    }
    json_decref(j);
    free(out);
    free(err);
    free(file);
    free_urls(urls, n);
    free(kinds);
    free(dir);
}

/* A fleet killed part-way, then run again: the second run applies exactly
 * what the first did not, and every target ends complete. */
static void test_fleet_resume(void)
{
    size_t n = (size_t)env_count("STRATA_FLEET_RESUME_TARGETS", 12);
    char *dir = generated_dir("gen-resume");
    kind *kinds = calloc(n, sizeof *kinds);
    char **urls = new_targets(n, "fres", kinds);
    char *file = targets_file("resume", urls, n);
    char errfile[600];
    snprintf(errfile, sizeof errfile, "%s/resume.progress", tmpdir);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen(errfile, "w", stderr))
            _exit(127);
        execl(test_strata_bin(), "strata", "migrations", "run", "--targets", file,
              "--migrations-dir", dir, "--parallel", "2", "--progress", (char *)NULL);
        _exit(127);
    }
    /* kill it once about a third of the targets are done */
    size_t want = n / 3 ? n / 3 : 1, done = 0;
    for (int tries = 0; tries < 6000 && done < want; tries++) {
        usleep(10000);
        char *text = NULL;
        char cmd[700];
        snprintf(cmd, sizeof cmd, "cat '%s'", errfile);
        test_run_cmd(cmd, &text);
        done = 0;
        for (const char *p = text; p && (p = strstr(p, "fleet: ")) != NULL; p++)
            done++;
        free(text);
    }
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    CU_ASSERT(WIFSIGNALED(st));
    /* what each target has now */
    int *before = calloc(n, sizeof *before);
    size_t complete = 0, partial = 0;
    for (size_t i = 0; i < n; i++) {
        char *h = history_of(urls[i]);
        before[i] = count_lines(h);
        complete += before[i] == (int)NGENERATED;
        partial += before[i] > 0 && before[i] < (int)NGENERATED;
        free(h);
    }
    fprintf(stderr, "\n  killed after %zu done: %zu complete, %zu part-way, %zu untouched", done,
            complete, partial, n - complete - partial);
    CU_ASSERT(complete >= want);
    CU_ASSERT(complete < n);
    char args[2048];
    snprintf(args, sizeof args, "migrations run --targets '%s' --migrations-dir '%s' --json", file,
             dir);
    char *out = NULL, *err = NULL;
    st = run_strata(args, &out, &err);
    CU_ASSERT_EQUAL(st, 0);
    json_t *j = parse_json(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    size_t exact = 0;
    for (size_t i = 0; i < n; i++) {
        long long applied = json_migrations(j, i);
        if (applied == (long long)NGENERATED - before[i])
            exact++;
        else
            fprintf(stderr, "\n  t%zu: had %d, the re-run applied %lld", i + 1, before[i], applied);
        char *h = history_of(urls[i]);
        CU_ASSERT_EQUAL(count_lines(h), (int)NGENERATED);
        free(h);
    }
    CU_ASSERT_EQUAL(exact, n);
    json_decref(j);
    free(out);
    free(err);
    free(before);
    free(file);
    free_urls(urls, n);
    free(kinds);
    free(dir);
}

/* --target-timeout: targets whose migration waits behind another session's
 * lock on its table (PostgreSQL, MariaDB) or on the database's write lock
 * (SQLite) are interrupted and reported timed out, with nothing of that
 * migration left; the free target finishes; once the locks are gone a run
 * again finishes the rest. */
static void test_fleet_timeout(void)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/gen-timeout", tmpdir);
    mkdir(dir, 0700);
    char path[700];
    snprintf(path, sizeof path, "%s/20240101000000_table.json", dir);
    test_write_file(path, "{\"up\": [{\"op\": \"create_table\", \"table\": \"busy\", "
                          "\"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
                          "\"primary_key\": true}]}]}");
    snprintf(path, sizeof path, "%s/20240101000001_alter.json", dir);
    test_write_file(path, "{\"up\": [{\"op\": \"add_column\", \"table\": \"busy\", "
                          "\"column\": {\"name\": \"note\", \"type\": \"string\"}}]}");
    kind kinds[4] = {K_PG_SCHEMA, K_MYSQL, K_SQLITE, K_PG_DB};
    char *urls[4];
    for (int i = 0; i < 4; i++)
        urls[i] = new_target(kinds[i], "ftime");
    char *file = targets_file("timeout", urls, 4);
    char args[2048];
    char *out = NULL, *err = NULL;
    snprintf(args, sizeof args,
             "migrations run --targets '%s' --migrations-dir '%s' --to 20240101000000", file, dir);
    CU_ASSERT_EQUAL(run_strata(args, &out, &err), 0);
    free(out);
    free(err);
    /* other sessions in the way of the second migration on t1 to t3 */
    strata_conn *hold[3];
    for (int i = 0; i < 3; i++)
        hold[i] = test_connect(urls[i]);
    test_exec(hold[0], "BEGIN");
    test_exec(hold[0], "LOCK TABLE busy IN SHARE MODE");
    test_exec(hold[1], "START TRANSACTION");
    test_exec(hold[1], "SELECT * FROM busy"); /* a metadata lock until the end */
    test_exec(hold[2], "BEGIN IMMEDIATE");    /* SQLite's write lock */
    snprintf(args, sizeof args,
             "migrations run --targets '%s' --migrations-dir '%s' --target-timeout 2 "
             "--lock-timeout 120 --json",
             file, dir);
    time_t t0 = time(NULL);
    int st = run_strata(args, &out, &err);
    time_t took = time(NULL) - t0;
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT(took < 20);
    json_t *j = parse_json(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_STRING_EQUAL(json_status(j, (size_t)i), "timed out");
        json_t *t = json_array_get(json_object_get(j, "targets"), (size_t)i);
        const char *e = json_string_value(json_object_get(t, "error"));
        CU_ASSERT_STR_CONTAINS(e, "timed out after 2 s (--target-timeout)");
        CU_ASSERT(json_real_value(json_object_get(t, "seconds")) < 15);
    }
    CU_ASSERT_STRING_EQUAL(json_status(j, 3), "ok");
    CU_ASSERT_EQUAL(json_migrations(j, 3), 1);
    json_decref(j);
    free(out);
    free(err);
    for (int i = 0; i < 3; i++) {
        strata_conn_exec(hold[i], i == 1 ? "COMMIT" : "ROLLBACK");
        strata_conn_close(hold[i]);
        char *h = history_of(urls[i]);
        CU_ASSERT_EQUAL(count_lines(h), 1); /* the first migration only */
        free(h);
    }
    /* nothing half done: a run again applies the second migration */
    snprintf(args, sizeof args, "migrations run --targets '%s' --migrations-dir '%s' --json", file,
             dir);
    st = run_strata(args, &out, &err);
    if (st)
        fprintf(stderr, "\n  %s%s", out, err);
    CU_ASSERT_EQUAL(st, 0);
    j = parse_json(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(json_migrations(j, (size_t)i), i < 3 ? 1 : 0);
    json_decref(j);
    free(out);
    free(err);
    free(file);
    for (int i = 0; i < 4; i++)
        free(urls[i]);
}

/* PostgreSQL schemas: each has its own history and lock; introspection
 * reads its schema alone; public is left alone; names are checked. */
static void test_pg_schemas(void)
{
    char *dir = generated_dir("gen-schemas");
    char *a = new_target(K_PG_SCHEMA, "fsch"), *b = new_target(K_PG_SCHEMA, "fsch");
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = dir;
    strata_report *rep = NULL;
    strata_conn *ca = test_connect(a), *cb = test_connect(b);
    CU_ASSERT_EQUAL(strata_migrations_run(ca, &opt, &rep), 0);
    strata_report_free(rep);
    /* b is empty although a, in the same database, has every table */
    schema s;
    CU_ASSERT_EQUAL(introspect_schema(cb, &s, NULL, NULL), 0);
    CU_ASSERT_EQUAL(s.ntables, 0);
    schema_free(&s);
    CU_ASSERT_EQUAL(introspect_schema(ca, &s, NULL, NULL), 0);
    CU_ASSERT_EQUAL(s.ntables, 3); /* account, project, task (not the history) */
    schema_free(&s);
    /* b's history is its own: all of it still pending */
    char *who = NULL;
    CU_ASSERT_EQUAL(strata_lock_status(cb, &who), 0);
    CU_ASSERT_STR_CONTAINS(who, "free");
    free(who);
    CU_ASSERT_EQUAL(strata_migrations_run(cb, &opt, &rep), 0);
    CU_ASSERT_EQUAL(rep->n, NGENERATED);
    strata_report_free(rep);
    /* public holds neither history nor tables */
    CU_ASSERT_EQUAL(test_scalar_int(ca, "SELECT count(*) FROM pg_tables WHERE schemaname = "
                                        "'public'"),
                    0);
    strata_conn_close(ca);
    strata_conn_close(cb);

    /* bad schema names are bad input */
    const char *bad[] = {"?schema=Bad-Name",  "?schema=pg_catalog",
                         "?search_path=a,,b", "?search_path=x&schema=y",
                         "?schema=1abc",      "?search_path=information_schema"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *url;
        if (asprintf(&url, "%s%s", schema_db, bad[i]) < 0)
            abort();
        strata_conn *c = NULL;
        int rc = strata_conn_open(&c, url);
        if (rc != STRATA_EINPUT)
            fprintf(stderr, "\n  %s: %d %s", bad[i], rc, strata_error_message());
        CU_ASSERT_EQUAL(rc, STRATA_EINPUT);
        CU_ASSERT_PTR_NULL(c);
        strata_conn_close(c);
        free(url);
    }
    strata_error_clear();
    free(a);
    free(b);
    free(dir);
}

/* Two schemas of one database have two locks: a runner holding one does
 * not keep a run on the other waiting (white box: the lock the runner
 * takes, through the driver). */
static void test_pg_schema_locks(void)
{
    char *a = new_target(K_PG_SCHEMA, "flock"), *b = new_target(K_PG_SCHEMA, "flock");
    char *dir = generated_dir("gen-locks");
    strata_conn *holder = test_connect(a);
    lock_state st;
    CU_ASSERT_EQUAL(conn_lock_try(holder, "strata", 0, &st), 0);
    CU_ASSERT_EQUAL(st, LOCK_TAKEN);
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = dir;
    opt.lock_timeout = 0;
    strata_report *rep = NULL;
    strata_conn *ca = test_connect(a), *cb = test_connect(b);
    CU_ASSERT_EQUAL(strata_migrations_run(ca, &opt, &rep), STRATA_ELOCK);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "of schema 'flock_");
    strata_report_free(rep);
    rep = NULL;
    CU_ASSERT_EQUAL(strata_migrations_run(cb, &opt, &rep), 0);
    strata_report_free(rep);
    conn_unlock(holder, "strata");
    strata_conn_close(holder);
    rep = NULL;
    CU_ASSERT_EQUAL(strata_migrations_run(ca, &opt, &rep), 0);
    CU_ASSERT_EQUAL(rep->n, NGENERATED);
    strata_report_free(rep);
    strata_conn_close(ca);
    strata_conn_close(cb);
    free(a);
    free(b);
    free(dir);
}

/* Targets files: comments, blank lines, name= before or after, ${NAME};
 * errors by file and line, passwords masked; labels made from URLs. */
static void test_targets_file(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/good.targets", tmpdir);
    setenv("FLEET_TEST_PASSWORD", "s3cret", 1);
    test_write_file(path, "# tenants\n\n  postgres://u:${FLEET_TEST_PASSWORD}@h:5432/acme\n"
                          "name=globex mysql://u@h/globex\n"
                          "sqlite:./tenants/initech.db   name=initech  \n"
                          "postgres://u@h/app?search_path=tenant_7,public\n");
    strata_fleet_target *t = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(strata_fleet_targets_load(path, &t, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT_PTR_NULL(t[0].name);
    CU_ASSERT_STRING_EQUAL(t[0].url, "postgres://u:s3cret@h:5432/acme");
    CU_ASSERT_STRING_EQUAL(t[1].name, "globex");
    CU_ASSERT_STRING_EQUAL(t[2].name, "initech");
    CU_ASSERT_STRING_EQUAL(t[2].url, "sqlite:./tenants/initech.db");
    strata_fleet_targets_free(t, n);

    struct {
        const char *text, *error;
    } bad[] = {
        {"postgres://u:pw@h/a postgres://u:pw@h/b\n",
         ":1: 'postgres://u:****@h/b': one URL a line"},
        {"# x\nname=a\n", ":2: name=a without a URL"},
        {"ftp://u:pw@h/x\n", ":1: malformed database URL 'ftp://u:****@h/x'"},
        {"postgres://h/${FLEET_TEST_UNSET}\n", ":1: ${FLEET_TEST_UNSET} is not set"},
        {"# nothing\n\n", ": no targets"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        test_write_file(path, bad[i].text);
        CU_ASSERT_EQUAL(strata_fleet_targets_load(path, &t, &n), STRATA_EINPUT);
        CU_ASSERT_STR_CONTAINS(strata_error_message(), bad[i].error);
        CU_ASSERT(strstr(strata_error_message(), "pw@") == NULL);
    }
    CU_ASSERT_EQUAL(strata_fleet_targets_load("/nonexistent/targets", &t, &n), STRATA_EINPUT);

    /* labels from URLs, and two targets with one label refused before
     * anything runs */
    strata_fleet_target two[2] = {{NULL, "sqlite:/tmp/x/same.db"}, {NULL, "sqlite:/tmp/y/same.db"}};
    strata_fleet_result *r = NULL;
    CU_ASSERT_EQUAL(strata_fleet_run(two, 2, NULL, &r), STRATA_EINPUT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "same label 'same'");
    CU_ASSERT_STRING_EQUAL(r->targets[0].name, "same");
    strata_fleet_result_free(r);
    strata_fleet_options bad_version = STRATA_FLEET_OPTIONS_INIT;
    bad_version.version = 99;
    CU_ASSERT_EQUAL(strata_fleet_run(two, 2, &bad_version, &r), STRATA_EINPUT);
    strata_fleet_result_free(r);
    CU_ASSERT(strata_fleet_default_parallel() >= 2 && strata_fleet_default_parallel() <= 16);
    strata_error_clear();
}

/* strata.json's environments as targets (env:NAME,..., env:*); check
 * --targets with --parallel. */
static void test_env_targets_and_check(void)
{
    char *dir = generated_dir("gen-env");
    char *a = new_target(K_SQLITE, "fenv"), *b = new_target(K_MYSQL, "fenv");
    char config[2048], path[600];
    snprintf(path, sizeof path, "%s/strata.json", tmpdir);
    snprintf(config, sizeof config,
             "{\"migrations_dir\": \"%s\", \"environments\": {\"eu\": {\"url\": \"%s\"}, "
             "\"us\": {\"url\": \"%s\"}, \"dev\": {\"lock_timeout\": 5}}}",
             dir, a, b);
    test_write_file(path, config);
    char *out = NULL, *err = NULL;
    int st = run_strata("migrations run --targets 'env:*'", &out, &err);
    if (st)
        fprintf(stderr, "\n  %s%s", out, err);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_STR_CONTAINS(out, "eu ");
    CU_ASSERT_STR_CONTAINS(out, "us ");
    CU_ASSERT_STR_CONTAINS(out, "2 targets: 2 ok");
    free(out);
    free(err);
    st = run_strata("migrations show --targets env:us", &out, &err);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_STR_CONTAINS(out, "1 target: 1 ok");
    free(out);
    free(err);
    st = run_strata("migrations show --targets env:dev", &out, &err);
    CU_ASSERT_EQUAL(st, 2);
    CU_ASSERT_STR_CONTAINS(err, "environment 'dev' has no url");
    free(out);
    free(err);
    st = run_strata("migrations show --targets env:nope", &out, &err);
    CU_ASSERT_EQUAL(st, 2);
    CU_ASSERT_STR_CONTAINS(err, "no environment 'nope'");
    free(out);
    free(err);
    unlink(path);

    /* check over a targets file, one database at a time */
    char *c1 = new_target(K_SQLITE, "fchk"), *c2 = new_target(K_PG_SCHEMA, "fchk");
    char *urls[2] = {c1, c2};
    char *file = targets_file("check", urls, 2);
    char args[2048];
    snprintf(args, sizeof args, "check --targets '%s' --migrations-dir '%s' --parallel 1", file,
             dir);
    st = run_strata(args, &out, &err);
    if (st)
        fprintf(stderr, "\n  %s%s", out, err);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_STR_CONTAINS(out, "portable");
    free(out);
    free(err);
    /* fleet options without a fleet's targets: usage */
    st = run_strata("migrations run --fail-fast --continue --database-url sqlite::memory:", &out,
                    &err);
    CU_ASSERT_EQUAL(st, 2);
    CU_ASSERT_STR_CONTAINS(err, "give one of --fail-fast and --continue");
    free(out);
    free(err);
    free(file);
    free(c1);
    free(c2);
    free(a);
    free(b);
    free(dir);
}

int main(void)
{
    static const test_case tests[] = {
        {"targets files, labels, options", test_targets_file},
        {"PostgreSQL schemas: own history, tables, names checked", test_pg_schemas},
        {"PostgreSQL schemas: own locks", test_pg_schema_locks},
        {"every target identical to a single run; again: up to date", test_fleet_identical},
        {"Medusa migrations, JSON and JUnit reports", test_fleet_medusa},
        {"a failing target, --continue", test_fleet_continue},
        {"--fail-fast and --canary", test_fleet_fail_fast_canary},
        {"killed and run again: exactly the rest", test_fleet_resume},
        {"--target-timeout", test_fleet_timeout},
        {"strata.json environments, check --targets", test_env_targets_and_check},
        {NULL, NULL},
    };
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("fleet", suite_init, suite_cleanup);
    for (const test_case *t = tests; t->name; t++)
        CU_add_test(s, t->name, t->fn);
    return test_main();
}
