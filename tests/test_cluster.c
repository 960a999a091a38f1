/*
 * test_cluster.c - Strata on real clusters: a 3-node MariaDB Galera cluster
 * and a PostgreSQL primary with a streaming hot standby, both on loopback
 * (scripts/services.sh start-galera, start-pgstandby; scripts/test.sh
 * starts them). Nothing is skipped: without the clusters' URLs in the
 * environment every test fails.
 *
 * What must hold (issue 13, docs/locking.md):
 *   - 8 `strata migrations run` started together, spread over the 3 nodes,
 *     end with every migration recorded once and, on every node, the schema
 *     of a single run; no runner recovers, undoes or takes over anything;
 *   - a runner SIGKILLed mid-migration, or the whole node under it, is
 *     recovered by a run on another node, and a killed node rejoins with
 *     the same schema;
 *   - a runner whose lease ran out is fenced: it stops at its next step and
 *     undoes nothing, while the runner that took over finishes;
 *   - RSU is refused, a table without a primary key is a warning (an error
 *     under wsrep_mode=REQUIRED_PRIMARY_KEY), before anything changes;
 *   - a run against a hot standby is refused and changes nothing;
 *     --wait-replicas returns once the standby has the new schema.
 *
 * STRATA_CLUSTER_FULL=1 runs the full matrix (5 repetitions of each set,
 * the kill tests 3 times); otherwise a subset small enough for CI. Every
 * node's memory is watched (docs/operations.md: InnoDB's purge once grew a
 * node by gigabytes): a node over NODE_RSS_LIMIT_MB fails the test and is
 * killed.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NODES             3
#define RUNNERS           8
#define GENERATED         30
#define NODE_RSS_LIMIT_MB 3072

static char *galera[NODES]; /* the nodes' URLs */
static char *galera_pidfile[NODES];
static const char *galera_dir, *services_sh;
static const char *pg_primary, *pg_standby;
static int full;         /* STRATA_CLUSTER_FULL=1 */
static char *gen_dir;    /* the generated migrations */
static char *medusa_dir; /* the Medusa migrations of the repository */
static char *work;       /* logs and scratch files */
static int counter;
static long max_rss_mb;

/* ---- small helpers ---- */

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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static char *read_text_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    size_t cap = 4096, len = 0, n;
    char *buf = malloc(cap);
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 1024)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* A URL like `base` for database `db`. */
static char *url_for(const char *base, const char *db)
{
    const char *slash = strchr(strstr(base, "://") + 3, '/');
    const char *q = strchr(slash, '?');
    return fmt("%.*s/%s%s", (int)(slash - base), base, db, q ? q : "");
}

/* Split a space-separated environment variable into `out`. */
static int split_env(const char *var, char **out, int n)
{
    const char *v = getenv(var);
    if (!v || !*v)
        return 0;
    char *copy = strdup(v), *save = NULL;
    int k = 0;
    for (char *w = strtok_r(copy, " ", &save); w && k < n; w = strtok_r(NULL, " ", &save))
        out[k++] = strdup(w);
    free(copy);
    return k;
}

/* ---- strata processes ---- */

/* Start strata in the background (stdout and stderr to `log`), with
 * `envs` ("NAME=value" strings, NULL-terminated; NULL: none) added. */
static pid_t spawn(const char *url, const char *dir, const char *log, const char *const *envs,
                   const char *const *args)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        for (const char *const *e = envs; e && *e; e++)
            putenv((char *)*e);
        const char *argv[16] = {test_strata_bin(), "--database-url", url, "--migrations-dir", dir};
        int n = 5;
        for (const char *const *a = args; *a && n < 15; a++)
            argv[n++] = *a;
        argv[n] = NULL;
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int wait_child(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* Run strata to the end; *out gets what it printed. */
static int strata_run(const char *url, const char *dir, const char *const *envs, char **out,
                      const char *const *args)
{
    char *log = fmt("%s/run-%d.log", work, ++counter);
    int st = wait_child(spawn(url, dir, log, envs, args));
    *out = read_text_file(log);
    unlink(log);
    free(log);
    return st;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- the Galera cluster ---- */

/* A connection to node k whose reads wait for everything the cluster
 * committed before them. */
static strata_conn *node_connect(const char *url)
{
    strata_conn *c = test_connect(url);
    if (c && strata_conn_exec(c, "SET SESSION wsrep_sync_wait = 1") != 0)
        CU_FAIL("cannot set wsrep_sync_wait");
    return c;
}

static char *fresh_db(const char *tag)
{
    char *name = fmt("c_%s_%d_%d", tag, (int)getpid(), ++counter);
    strata_conn *c = node_connect(galera[0]);
    if (!c) {
        free(name);
        return NULL;
    }
    char *sql = fmt("CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", name);
    test_exec(c, sql);
    free(sql);
    strata_conn_close(c);
    /* the other nodes apply it a moment later: a runner connecting there
     * at once would not find it */
    sql = fmt("SELECT count(*) FROM information_schema.schemata WHERE schema_name = '%s'", name);
    for (int k = 1; k < NODES; k++) {
        strata_conn *n = node_connect(galera[k]);
        CU_ASSERT(n && test_scalar_int(n, sql) == 1);
        strata_conn_close(n);
    }
    free(sql);
    return name;
}

static void drop_db(const char *name)
{
    strata_conn *c = node_connect(galera[0]);
    if (!c)
        return;
    char *sql = fmt("DROP DATABASE IF EXISTS %s", name);
    test_exec(c, sql);
    free(sql);
    strata_conn_close(c);
}

/* What a schema is, read on one node: columns, indexes, constraints,
 * foreign keys, checks, views, and the row count of every table. The
 * auto-increment counters are left out: Galera gives each node its own
 * offset. */
static const char *const schema_sql[] = {
    "SELECT table_name, column_name, column_type, is_nullable, coalesce(column_default, 'none'), "
    "extra, coalesce(collation_name, '') FROM information_schema.columns WHERE table_schema = "
    "DATABASE() AND substr(table_name, 1, 7) <> 'strata_' ORDER BY table_name, ordinal_position",
    "SELECT table_name, index_name, non_unique, seq_in_index, column_name, "
    "coalesce(sub_part, ''), index_type FROM information_schema.statistics WHERE table_schema = "
    "DATABASE() AND substr(table_name, 1, 7) <> 'strata_' ORDER BY 1, 2, 4",
    "SELECT table_name, constraint_name, constraint_type FROM information_schema.table_constraints "
    "WHERE table_schema = DATABASE() AND substr(table_name, 1, 7) <> 'strata_' ORDER BY 1, 2, 3",
    "SELECT k.table_name, k.constraint_name, k.column_name, k.ordinal_position, "
    "k.referenced_table_name, k.referenced_column_name, r.update_rule, r.delete_rule FROM "
    "information_schema.key_column_usage k JOIN information_schema.referential_constraints r ON "
    "r.constraint_schema = k.table_schema AND r.constraint_name = k.constraint_name AND "
    "r.table_name = k.table_name WHERE k.table_schema = DATABASE() ORDER BY 1, 2, 4",
    "SELECT table_name, constraint_name, check_clause FROM information_schema.check_constraints "
    "WHERE constraint_schema = DATABASE() ORDER BY 1, 2",
    "SELECT table_name, view_definition FROM information_schema.views WHERE table_schema = "
    "DATABASE() ORDER BY 1",
    NULL};

static void dump_query(strata_conn *c, const char *sql, FILE *out)
{
    strata_rows *rows;
    if (strata_conn_query(c, sql, NULL, 0, &rows) != 0) {
        fprintf(out, "ERROR in %s: %s\n", sql, strata_error_message());
        return;
    }
    while (strata_rows_next(rows) == 1) {
        for (size_t i = 0; i < strata_rows_ncols(rows); i++) {
            const char *t = strata_rows_text(rows, i);
            fprintf(out, "%s%s", i ? "|" : "", t ? t : "NULL");
        }
        fputc('\n', out);
    }
    strata_rows_free(rows);
}

static char *snapshot(const char *url)
{
    strata_conn *c = node_connect(url);
    if (!c)
        return strdup("(cannot connect)");
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    for (size_t i = 0; schema_sql[i]; i++) {
        fprintf(f, "-- %zu\n", i);
        dump_query(c, schema_sql[i], f);
    }
    strata_rows *rows;
    char *names[512];
    size_t n = 0;
    if (strata_conn_query(c,
                          "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                          "DATABASE() AND table_type = 'BASE TABLE' AND substr(table_name, 1, 7) "
                          "<> 'strata_' ORDER BY 1",
                          NULL, 0, &rows) == 0) {
        while (strata_rows_next(rows) == 1 && n < 512)
            names[n++] = strdup(strata_rows_text(rows, 0));
        strata_rows_free(rows);
    }
    fputs("-- rows\n", f);
    for (size_t i = 0; i < n; i++) {
        char *sql = fmt("SELECT count(*) FROM `%s`", names[i]);
        fprintf(f, "%s: ", names[i]);
        dump_query(c, sql, f);
        free(sql);
        free(names[i]);
    }
    fclose(f);
    strata_conn_close(c);
    return s;
}

/* The history, read on node k: "rows applied distinct". */
static char *history_summary(const char *url)
{
    strata_conn *c = node_connect(url);
    if (!c)
        return strdup("(cannot connect)");
    char *s = NULL;
    if (strata_conn_query_string(c,
                                 "SELECT CONCAT(count(*), ' ', sum(state = 'applied'), ' ', "
                                 "count(DISTINCT id)) FROM strata_migrations",
                                 NULL, 0, &s) != 0)
        strata_error_clear(); /* no history (yet) */
    strata_conn_close(c);
    return s ? s : strdup("(none)");
}

/* Every node's schema equals `want`, and its history holds `n` migrations,
 * each once and applied. */
static void check_nodes(const char *db, const char *want, int n, const char *what)
{
    char *hist_want = fmt("%d %d %d", n, n, n);
    for (int k = 0; k < NODES; k++) {
        char *url = url_for(galera[k], db);
        char *got = snapshot(url);
        char *hist = history_summary(url);
        if (strcmp(got, want) != 0)
            fprintf(stderr, "\n  %s: the schema on node %d differs from the baseline:\n%s\n", what,
                    k + 1, got);
        CU_ASSERT_STRING_EQUAL(got, want);
        if (strcmp(hist, hist_want) != 0)
            fprintf(stderr, "\n  %s: history on node %d: %s (rows applied distinct), want %s\n",
                    what, k + 1, hist, hist_want);
        CU_ASSERT_STRING_EQUAL(hist, hist_want);
        free(got);
        free(hist);
        free(url);
    }
    free(hist_want);
}

/* The resident memory of node k in MiB (0 when it is not running). */
static long node_rss_mb(int k)
{
    char *pidtext = read_text_file(galera_pidfile[k]);
    long pid = strtol(pidtext, NULL, 10);
    free(pidtext);
    if (pid <= 0)
        return 0;
    char *path = fmt("/proc/%ld/status", pid);
    char *status = read_text_file(path);
    free(path);
    const char *p = strstr(status, "VmRSS:");
    long kb = p ? strtol(p + 6, NULL, 10) : 0;
    free(status);
    return kb / 1024;
}

static int galera_node(const char *action, int k)
{
    char *cmd = fmt("'%s' galera-node %s '%s' %d", services_sh, action, galera_dir, k + 1);
    char *out = NULL;
    int st = test_run_cmd(cmd, &out);
    if (st != 0)
        fprintf(stderr, "\n  %s: exit %d:\n%s\n", cmd, st, out ? out : "");
    free(out);
    free(cmd);
    return st;
}

/* Fail (and kill the node) when a node has grown past the limit: the
 * machine is shared. */
static void watch_memory(const char *when)
{
    for (int k = 0; k < NODES; k++) {
        long mb = node_rss_mb(k);
        if (mb > max_rss_mb)
            max_rss_mb = mb;
        if (mb > NODE_RSS_LIMIT_MB) {
            fprintf(stderr, "\n  %s: Galera node %d uses %ld MiB (limit %d): killing it\n", when,
                    k + 1, mb, NODE_RSS_LIMIT_MB);
            CU_FAIL("a Galera node grew past the memory limit");
            galera_node("kill", k);
        }
    }
}

/* ---- migration sets ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char *path = fmt("%s/%s", dir, name);
    test_write_file(path, text);
    free(path);
}

/*
 * GENERATED migrations of the kinds Medusa's are made of: tables with
 * string keys, partial unique indexes (helper columns on MySQL), foreign
 * keys with cascades, join tables, added columns and indexes, renames,
 * rows.
 */
static void write_generated(const char *dir)
{
    for (int i = 1; i <= GENERATED; i++) {
        int t = (i - 1) / 5 * 5 + 1; /* the table of this group of five */
        char *m = NULL;
        switch (i % 5) {
        case 1:
            m = fmt("{\"up\": [{\"op\": \"create_table\", \"table\": \"g%d\", \"columns\": ["
                    "{\"name\": \"id\", \"type\": \"string\", \"primary_key\": true}, "
                    "{\"name\": \"name\", \"type\": \"string\", \"nullable\": false}, "
                    "{\"name\": \"code\", \"type\": \"string\"}, "
                    "{\"name\": \"parent_id\", \"type\": \"string\"}, "
                    "{\"name\": \"created_at\", \"type\": \"timestamptz\", \"nullable\": false, "
                    "\"default\": {\"expr\": \"now\"}}, "
                    "{\"name\": \"deleted_at\", \"type\": \"timestamptz\"}], "
                    "\"indexes\": [{\"name\": \"IDX_g%d_code\", \"columns\": [\"code\"], "
                    "\"unique\": true, \"where\": {\"column\": \"deleted_at\", \"is_null\": "
                    "true}}, {\"name\": \"IDX_g%d_name\", \"columns\": [\"name\"]}]}]}",
                    t, t, t);
            break;
        case 2:
            m = fmt("{\"up\": [{\"op\": \"add_column\", \"table\": \"g%d\", \"column\": "
                    "{\"name\": \"note\", \"type\": \"text\"}}, {\"op\": \"create_index\", "
                    "\"table\": \"g%d\", \"name\": \"IDX_g%d_created\", \"columns\": "
                    "[\"created_at\"]}]}",
                    t, t, t);
            break;
        case 3:
            m = fmt("{\"up\": [{\"op\": \"create_table\", \"table\": \"g%d_link\", \"columns\": ["
                    "{\"name\": \"g_id\", \"type\": \"string\", \"primary_key\": true, "
                    "\"references\": {\"table\": \"g%d\", \"column\": \"id\", \"on_delete\": "
                    "\"cascade\"}}, {\"name\": \"other_id\", \"type\": \"string\", "
                    "\"primary_key\": true}, {\"name\": \"position\", \"type\": \"integer\", "
                    "\"default\": 0}]}]}",
                    t, t);
            break;
        case 4: {
            char rows[4096] = "";
            size_t used = 0;
            for (int r = 1; r <= 20; r++)
                used += (size_t)snprintf(rows + used, sizeof rows - used,
                                         "%s{\"id\": \"g%d_%d\", \"name\": \"row %d\", \"code\": "
                                         "\"c%d\"}",
                                         r > 1 ? ", " : "", t, r, r, r);
            m = fmt("{\"up\": [{\"op\": \"insert\", \"table\": \"g%d\", \"rows\": [%s]}, "
                    "{\"op\": \"add_foreign_key\", \"table\": \"g%d\", \"name\": "
                    "\"FK_g%d_parent\", \"columns\": [\"parent_id\"], \"references\": "
                    "{\"table\": \"g%d\", \"columns\": [\"id\"]}}]}",
                    t, rows, t, t, t);
            break;
        }
        default:
            m = fmt("{\"up\": [{\"op\": \"rename_column\", \"table\": \"g%d\", \"column\": "
                    "\"note\", \"to\": \"remark\"}, {\"op\": \"add_unique\", \"table\": "
                    "\"g%d_link\", \"name\": \"UQ_g%d_link_pos\", \"columns\": [\"g_id\", "
                    "\"position\"]}]}",
                    t, t, t);
            break;
        }
        char name[64];
        snprintf(name, sizeof name, "2025%08d_gen%02d.json", i, i);
        write_file(dir, name, m);
        free(m);
    }
}

typedef struct set {
    const char *name;
    const char *dir;
    int n;      /* migrations */
    char *base; /* the schema after one runner on a fresh database */
} set;

static set sets[2];

/* The baseline of a set: one runner alone on node 1 of a fresh database. */
static const char *baseline(set *s)
{
    if (s->base)
        return s->base;
    char *db = fresh_db("base");
    char *url = url_for(galera[0], db);
    char *out = NULL;
    int st = strata_run(url, s->dir, NULL, &out, ARGS("migrations", "run"));
    if (st != 0)
        fprintf(stderr, "\n  baseline of %s: exit %d:\n%s\n", s->name, st, out);
    CU_ASSERT_EQUAL(st, 0);
    s->base = snapshot(url);
    check_nodes(db, s->base, s->n, "baseline");
    free(out);
    free(url);
    drop_db(db);
    free(db);
    return s->base;
}

/* ---- suite setup ---- */

static int suite_init(void)
{
    int n = split_env("STRATA_TEST_GALERA_URLS", galera, NODES);
    split_env("STRATA_TEST_GALERA_PIDFILES", galera_pidfile, NODES);
    galera_dir = getenv("STRATA_TEST_GALERA_DIR");
    services_sh = getenv("STRATA_TEST_SERVICES_SH");
    pg_primary = getenv("STRATA_TEST_PG_PRIMARY_URL");
    pg_standby = getenv("STRATA_TEST_PG_STANDBY_URL");
    const char *f = getenv("STRATA_CLUSTER_FULL");
    full = f && !strcmp(f, "1");
    if (n != NODES || !galera_pidfile[NODES - 1] || !galera_dir || !services_sh || !pg_primary ||
        !pg_standby) {
        fprintf(stderr, "\nthe clusters are not running: start them with `scripts/services.sh "
                        "start-galera DIR` and `scripts/services.sh start-pgstandby DIR` and load "
                        "DIR/env (scripts/test.sh does this). Failing, not skipping.\n");
        return 1;
    }
    work = test_tempdir("cluster");
    gen_dir = fmt("%s/generated", work);
    mkdir(gen_dir, 0755);
    write_generated(gen_dir);
    medusa_dir = fmt("%s/migrations", test_source_dir());
    /* every Medusa migration applies with all its feature flags on (the
     * defaults apply 75 of the 82: docs/flags.md); the runners inherit it */
    setenv("STRATA_FLAGS", "analytics,medusa_v2,sales_channels,tax_inclusive_pricing", 1);
    sets[0] = (set){"generated", gen_dir, GENERATED, NULL};
    sets[1] = (set){"medusa", medusa_dir, 82, NULL};
    fprintf(stderr, "\n  [cluster suite: %s matrix]\n", full ? "full" : "CI");
    return 0;
}

static int suite_cleanup(void)
{
    for (int k = 0; k < NODES; k++) {
        free(galera[k]);
        free(galera_pidfile[k]);
    }
    for (int i = 0; i < 2; i++)
        free(sets[i].base);
    if (work) {
        char *cmd = fmt("rm -rf '%s'", work);
        test_run_cmd(cmd, NULL);
        free(cmd);
    }
    free(work);
    free(gen_dir);
    free(medusa_dir);
    fprintf(stderr, "\n  [largest Galera node seen: %ld MiB]\n", max_rss_mb);
    return 0;
}

/* ---- 8 runners over the 3 nodes ---- */

static void concurrent_runs(set *s, int reps)
{
    const char *want = baseline(s);
    double t0 = now_s();
    int good = 0;
    for (int rep = 0; rep < reps; rep++) {
        char *db = fresh_db(s->name);
        pid_t pids[RUNNERS];
        char *logs[RUNNERS];
        char *urls[RUNNERS];
        for (int k = 0; k < RUNNERS; k++) {
            urls[k] = url_for(galera[k % NODES], db);
            logs[k] = fmt("%s/%s-%d-%d.log", work, s->name, rep, k);
            pids[k] = spawn(urls[k], s->dir, logs[k], NULL, ARGS("migrations", "run"));
        }
        int applied = 0, failures = 0;
        for (int k = 0; k < RUNNERS; k++) {
            int st = wait_child(pids[k]);
            char *out = read_text_file(logs[k]);
            applied += count_of(out, "applied  ");
            int odd = count_of(out, "recovering") + count_of(out, "undoing the") +
                      count_of(out, "took over");
            if (st != 0 || odd) {
                fprintf(stderr, "\n  %s rep %d, runner %d (node %d): exit %d:\n%s\n", s->name, rep,
                        k, k % NODES + 1, st, out);
                failures++;
            }
            CU_ASSERT_EQUAL(st, 0);
            CU_ASSERT_EQUAL(odd, 0);
            free(out);
            unlink(logs[k]);
            free(logs[k]);
            free(urls[k]);
        }
        if (applied != s->n)
            fprintf(stderr, "\n  %s rep %d: %d migrations applied by the runners, want %d\n",
                    s->name, rep, applied, s->n);
        CU_ASSERT_EQUAL(applied, s->n);
        int before = CU_get_number_of_failures();
        check_nodes(db, want, s->n, s->name);
        good += !failures && applied == s->n && (int)CU_get_number_of_failures() == before;
        drop_db(db);
        free(db);
        watch_memory(s->name);
    }
    fprintf(stderr,
            "\n  [%s: %d runners x %d repetitions over %d nodes: %d of %d correct, %.0f s] ",
            s->name, RUNNERS, reps, NODES, good, reps, now_s() - t0);
}

static void test_concurrent_generated(void)
{
    concurrent_runs(&sets[0], full ? 5 : 2);
}

static void test_concurrent_medusa(void)
{
    concurrent_runs(&sets[1], full ? 5 : 1);
}

/* ---- killed runners and nodes ---- */

/* A run killed (the runner, or node `kill_node` under it) at `frac` of an
 * uninterrupted run's time; then a run on node `rescue` completes, and the
 * schema is the baseline's on every node (a killed node first rejoins). */
static void killed_run(set *s, int kill_node, double frac, int on, int rescue)
{
    const char *want = baseline(s);
    char *db = fresh_db("kill");
    char *url = url_for(galera[on], db);
    char *log = fmt("%s/killed.log", work);
    double t0 = now_s();
    pid_t pid = spawn(url, s->dir, log, NULL, ARGS("migrations", "run"));
    /* wait until it has applied something, then a while more */
    char *hist = NULL;
    for (int i = 0; i < 600; i++) {
        free(hist);
        hist = history_summary(url);
        if (strtol(hist, NULL, 10) >= 1 + (int)(frac * s->n))
            break;
        sleep_s(0.05);
    }
    free(hist);
    double at = now_s() - t0;
    int st;
    if (kill_node) {
        CU_ASSERT_EQUAL(galera_node("kill", on), 0);
        st = wait_child(pid); /* it fails: its node is gone */
    } else {
        kill(pid, SIGKILL);
        st = wait_child(pid);
        CU_ASSERT_EQUAL(st, 128 + SIGKILL);
    }
    char *killed_out = read_text_file(log);
    char *rescue_url = url_for(galera[rescue], db);
    char *out = NULL;
    int rst = strata_run(rescue_url, s->dir, NULL, &out, ARGS("migrations", "run"));
    if (rst != 0)
        fprintf(stderr, "\n  the run after the kill (node %d) exited %d:\n%s\n  killed run:\n%s\n",
                rescue + 1, rst, out, killed_out);
    CU_ASSERT_EQUAL(rst, 0);
    if (kill_node)
        CU_ASSERT_EQUAL(galera_node("start", on), 0);
    check_nodes(db, want, s->n, kill_node ? "after a node kill" : "after a runner kill");
    fprintf(stderr, "\n  [%s killed after %.1f s (exit %d); the next run on node %d: %s] ",
            kill_node ? "node" : "runner", at, st, rescue + 1,
            strstr(out, "took over") ? "took the lock over and finished" : "finished");
    free(killed_out);
    free(out);
    free(rescue_url);
    unlink(log);
    free(log);
    free(url);
    drop_db(db);
    free(db);
    watch_memory("after a kill");
}

static void test_kill_runner(void)
{
    int n = full ? 3 : 1;
    for (int i = 0; i < n; i++)
        killed_run(&sets[i % 2 ? 1 : 0], 0, 0.3 + 0.2 * i, i % NODES, (i + 1) % NODES);
}

static void test_kill_node(void)
{
    int n = full ? 3 : 1;
    /* the node under the runner is killed; a node other than the first,
     * which the fresh databases are made through */
    for (int i = 0; i < n; i++)
        killed_run(&sets[i == 1 ? 1 : 0], 1, 0.3 + 0.2 * i, 2 - (i % 2), 0);
}

/* ---- a runner whose lease ran out ---- */

/*
 * A (on node 1) waits at a gate inside 001 when it is stopped (SIGSTOP);
 * its lease runs out (2 s here). B, on node 2, takes the lock over, undoes
 * what A had done of 001 and applies everything. A, continued, finds at
 * its next step that it lost the lock and stops, undoing nothing. Both look
 * as if on different hosts (STRATA_LOCK_HOST_ID), so that only the lease
 * says whether A is alive.
 */
static void test_fenced_after_lease(void)
{
    char *dir = fmt("%s/gate", work);
    mkdir(dir, 0755);
    char *db = fresh_db("fence");
    char *gate = fmt("gate_%s", db);
    char *m = fmt("{\"up\": [{\"op\": \"create_table\", \"table\": \"first\", \"columns\": "
                  "[{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}]}, {\"op\": "
                  "\"sql\", \"mysql\": [\"DO GET_LOCK('%s', 300)\", \"DO RELEASE_LOCK('%s')\"], "
                  "\"all\": \"SELECT 1\"}, {\"op\": \"create_table\", \"table\": \"second\", "
                  "\"columns\": [{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": "
                  "true}]}]}",
                  gate, gate);
    write_file(dir, "001_gate.json", m);
    free(m);
    write_file(dir, "002_third.json",
               "{\"up\": [{\"op\": \"create_table\", \"table\": \"third\", \"columns\": "
               "[{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}]}]}");
    set s = {"gate", dir, 2, NULL};
    const char *want = baseline(&s);

    char *url1 = url_for(galera[0], db), *url2 = url_for(galera[1], db);
    strata_conn *holder = test_connect(url1);
    char *take = fmt("SELECT GET_LOCK('%s', 0)", gate);
    CU_ASSERT_EQUAL(test_scalar_int(holder, take), 1);
    free(take);
    char *loga = fmt("%s/a.log", work);
    const char *env_a[] = {"STRATA_LOCK_HOST_ID=host-a", "STRATA_LOCK_LEASE=2", NULL};
    const char *env_b[] = {"STRATA_LOCK_HOST_ID=host-b", "STRATA_LOCK_LEASE=2", NULL};
    pid_t a = spawn(url1, dir, loga, env_a, ARGS("migrations", "run"));
    int at_gate = 0;
    strata_conn *look = node_connect(url1);
    for (int i = 0; i < 600 && !at_gate; i++) {
        char *state = NULL;
        strata_conn_query_string(look,
                                 "SELECT CONCAT(state, ' ', ops_applied) FROM strata_migrations "
                                 "WHERE id = '001_gate'",
                                 NULL, 0, &state);
        strata_error_clear();
        at_gate = state && !strcmp(state, "running 1");
        free(state);
        if (!at_gate)
            sleep_s(0.05);
    }
    strata_conn_close(look);
    CU_ASSERT(at_gate);
    /* node 3 sees who holds the lock, and its lease */
    char *url3 = url_for(galera[2], db);
    char *out = NULL;
    CU_ASSERT_EQUAL(strata_run(url3, dir, NULL, &out, ARGS("lock", "status")), 0);
    CU_ASSERT_STR_CONTAINS(out, "held by run ");
    CU_ASSERT_STR_CONTAINS(out, "lease until");
    free(out);
    kill(a, SIGSTOP);
    sleep_s(3); /* past A's lease */
    CU_ASSERT_EQUAL(strata_run(url3, dir, env_b, &out, ARGS("lock", "status")), 0);
    CU_ASSERT_STR_CONTAINS(out, "free: run ");
    CU_ASSERT_STR_CONTAINS(out, "lease expired");
    free(out);
    free(url3);
    int st = strata_run(url2, dir, env_b, &out, ARGS("migrations", "run", "--lock-timeout", "30"));
    if (st != 0 || !strstr(out, "took over") || !strstr(out, "lease expired"))
        fprintf(stderr, "\n  B exited %d:\n%s\n", st, out);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_STR_CONTAINS(out, "took over the migration lock");
    CU_ASSERT_STR_CONTAINS(out, "lease expired");
    CU_ASSERT_STR_CONTAINS(out, "recovering 001_gate");
    free(out);
    strata_conn_close(holder); /* opens the gate for A */
    kill(a, SIGCONT);
    int ast = wait_child(a);
    char *aout = read_text_file(loga);
    if (ast != 1 || !strstr(aout, "lost the migration lock") || strstr(aout, "undoing the"))
        fprintf(stderr, "\n  A exited %d:\n%s\n", ast, aout);
    CU_ASSERT_EQUAL(ast, 1);
    CU_ASSERT_STR_CONTAINS(aout, "lost the migration lock");
    CU_ASSERT_PTR_NULL(strstr(aout, "undoing the"));
    free(aout);
    check_nodes(db, want, 2, "after a fenced runner");
    free(s.base);
    unlink(loga);
    free(loga);
    free(url1);
    free(url2);
    drop_db(db);
    free(db);
    free(gate);
    free(dir);
}

/* ---- Galera settings that make migrations unsafe ---- */

static void set_global(int node, const char *sql)
{
    strata_conn *c = test_connect(galera[node]);
    if (c)
        test_exec(c, sql);
    strata_conn_close(c);
}

static int table_count(const char *url)
{
    strata_conn *c = node_connect(url);
    long long n = c ? test_scalar_int(c, "SELECT count(*) FROM information_schema.tables WHERE "
                                         "table_schema = DATABASE() AND substr(table_name, 1, 7) "
                                         "<> 'strata_'")
                    : -1;
    strata_conn_close(c);
    return (int)n;
}

static void test_galera_rules(void)
{
    char *dir = fmt("%s/rules", work);
    mkdir(dir, 0755);
    write_file(dir, "001_keyed.json",
               "{\"up\": [{\"op\": \"create_table\", \"table\": \"keyed\", \"columns\": "
               "[{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}]}]}");
    write_file(dir, "002_keyless.json",
               "{\"up\": [{\"op\": \"create_table\", \"table\": \"keyless\", \"columns\": "
               "[{\"name\": \"a\", \"type\": \"integer\"}]}]}");
    char *db = fresh_db("rules");
    char *out = NULL;

    /* RSU: refused before anything changes */
    set_global(1, "SET GLOBAL wsrep_OSU_method = 'RSU'");
    char *url2 = url_for(galera[1], db);
    int st = strata_run(url2, dir, NULL, &out, ARGS("migrations", "run"));
    set_global(1, "SET GLOBAL wsrep_OSU_method = 'TOI'");
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_STR_CONTAINS(out, "wsrep_OSU_method=RSU");
    free(out);
    CU_ASSERT_EQUAL(table_count(url2), 0);

    /* REQUIRED_PRIMARY_KEY: a table without one is an error, first */
    set_global(2, "SET GLOBAL wsrep_mode = 'REQUIRED_PRIMARY_KEY'");
    char *url3 = url_for(galera[2], db);
    st = strata_run(url3, dir, NULL, &out, ARGS("migrations", "run"));
    set_global(2, "SET GLOBAL wsrep_mode = ''");
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_STR_CONTAINS(out, "REQUIRED_PRIMARY_KEY");
    CU_ASSERT_STR_CONTAINS(out, "keyless (002_keyless up[0])");
    free(out);
    CU_ASSERT_EQUAL(table_count(url3), 0);

    /* otherwise a warning, and the run goes on */
    char *url1 = url_for(galera[0], db);
    st = strata_run(url1, dir, NULL, &out, ARGS("migrations", "run"));
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_STR_CONTAINS(out, "warning: on Galera, 1 table will have no primary key: keyless");
    free(out);
    CU_ASSERT_EQUAL(table_count(url3), 2);
    free(url1);
    free(url2);
    free(url3);
    drop_db(db);
    free(db);
    free(dir);
}

/* ---- a seed bigger than one transaction may be ---- */

/* On a node whose wsrep_max_ws_size is small (32 KB here; 2 GB by default),
 * a seed of ~120 KB is refused before anything is written, and committed in
 * parts with --non-atomic: every row reaches every node. */
static void test_seed_split(void)
{
    char *dir = fmt("%s/seedsplit", work);
    mkdir(dir, 0755);
    write_file(dir, "001_s.json",
               "{\"up\": [{\"op\": \"create_table\", \"table\": \"s\", \"columns\": "
               "[{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": true}, "
               "{\"name\": \"payload\", \"type\": \"text\"}]}]}");
    char *seed = fmt("%s/big.json", work);
    FILE *f = fopen(seed, "w");
    fputs("{\"tables\": [{\"table\": \"s\", \"rows\": [", f);
    for (int i = 1; i <= 400; i++)
        fprintf(f, "%s{\"id\": %d, \"payload\": \"%0300d\"}", i > 1 ? ", " : "", i, i);
    fputs("]}]}", f);
    fclose(f);
    char *db = fresh_db("seed");
    char *url = url_for(galera[0], db);
    char *out = NULL;
    CU_ASSERT_EQUAL(strata_run(url, dir, NULL, &out, ARGS("migrations", "run")), 0);
    free(out);
    set_global(0, "SET GLOBAL wsrep_max_ws_size = 32768");
    int st = strata_run(url, dir, NULL, &out, ARGS("seed", "--no-migrate", "-f", seed));
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_STR_CONTAINS(out, "wsrep_max_ws_size");
    CU_ASSERT_STR_CONTAINS(out, "nothing was written");
    free(out);
    strata_conn *c = node_connect(url);
    CU_ASSERT_EQUAL(c ? test_scalar_int(c, "SELECT count(*) FROM s") : -1, 0);
    strata_conn_close(c);
    st = strata_run(url, dir, NULL, &out, ARGS("seed", "--no-migrate", "--non-atomic", "-f", seed));
    set_global(0, "SET GLOBAL wsrep_max_ws_size = 2147483647");
    if (st != 0)
        fprintf(stderr, "\n  seed --non-atomic: exit %d:\n%s\n", st, out);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_STR_CONTAINS(out, "committed in parts");
    free(out);
    for (int k = 0; k < NODES; k++) {
        char *u = url_for(galera[k], db);
        c = node_connect(u);
        CU_ASSERT_EQUAL(c ? test_scalar_int(c, "SELECT count(*) FROM s") : -1, 400);
        strata_conn_close(c);
        free(u);
    }
    free(url);
    drop_db(db);
    free(db);
    free(seed);
    free(dir);
}

/* ---- PostgreSQL primary and standby ---- */

static long long pg_count(const char *url, const char *sql)
{
    strata_conn *c = test_connect(url);
    long long n = c ? test_scalar_int(c, sql) : -1;
    strata_conn_close(c);
    return n;
}

static void test_standby(void)
{
    char *db = fmt("s_%d_%d", (int)getpid(), ++counter);
    strata_conn *p = test_connect(pg_primary);
    char *sql = fmt("CREATE DATABASE %s", db);
    test_exec(p, sql);
    free(sql);
    char *purl = url_for(pg_primary, db), *surl = url_for(pg_standby, db);
    /* the new database reaches the standby */
    strata_conn *s = NULL;
    for (int i = 0; i < 300 && !s; i++) {
        if (strata_conn_open(&s, surl) != 0) {
            strata_error_clear();
            sleep_s(0.05);
        }
    }
    CU_ASSERT_PTR_NOT_NULL(s);
    strata_conn_close(s);

    /* refused on the standby, nothing changed */
    char *out = NULL;
    int st = strata_run(surl, gen_dir, NULL, &out, ARGS("migrations", "run"));
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_STR_CONTAINS(out, "the database is a read-only standby");
    free(out);
    const char *tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'";
    CU_ASSERT_EQUAL(pg_count(purl, tables), 0);

    /* on the primary, with --wait-replicas: the standby has it all at once */
    st = strata_run(purl, gen_dir, NULL, &out, ARGS("migrations", "run", "--wait-replicas", "30"));
    if (st != 0)
        fprintf(stderr, "\n  run --wait-replicas: exit %d:\n%s\n", st, out);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_STR_CONTAINS(out, "has the changes: waited");
    const char *line = strstr(out, "replica ");
    fprintf(stderr, "\n  [%.*s] ", line ? (int)strcspn(line, "\n") : 4, line ? line : "none");
    free(out);
    long long want = pg_count(purl, tables);
    CU_ASSERT(want > GENERATED / 5);
    CU_ASSERT_EQUAL(pg_count(surl, tables), want);
    CU_ASSERT_EQUAL(pg_count(surl, "SELECT count(*) FROM strata_migrations"), GENERATED);
    /* a seed is refused on the standby too, before its first write */
    char *seed = fmt("%s/one.json", work);
    test_write_file(seed, "{\"tables\": [{\"table\": \"g1\", \"rows\": [{\"id\": \"x\", "
                          "\"name\": \"y\"}]}]}");
    st = strata_run(surl, gen_dir, NULL, &out, ARGS("seed", "--no-migrate", "-f", seed));
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_STR_CONTAINS(out, "the database is a read-only standby");
    free(out);
    free(seed);
    free(purl);
    free(surl);
    sql = fmt("DROP DATABASE %s WITH (FORCE)", db);
    test_exec(p, sql);
    free(sql);
    strata_conn_close(p);
    free(db);
}

static const test_case cluster_tests[] = {
    {"Galera: 8 runners over 3 nodes, generated migrations", test_concurrent_generated},
    {"Galera: 8 runners over 3 nodes, the Medusa migrations", test_concurrent_medusa},
    {"Galera: a runner SIGKILLed mid-migration; a run on another node recovers", test_kill_runner},
    {"Galera: the node under a runner SIGKILLed; a survivor recovers; the node rejoins",
     test_kill_node},
    {"Galera: a runner whose lease ran out is fenced and undoes nothing", test_fenced_after_lease},
    {"Galera: RSU refused; no primary key: error under REQUIRED_PRIMARY_KEY, else a warning",
     test_galera_rules},
    {"Galera: a seed over wsrep_max_ws_size: refused, or committed in parts", test_seed_split},
    {"PostgreSQL standby: refused; --wait-replicas waits for it", test_standby},
    {NULL, NULL},
};

int main(void)
{
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("cluster", suite_init, suite_cleanup);
    for (const test_case *t = cluster_tests; t->name; t++)
        CU_add_test(s, t->name, t->fn);
    return test_main();
}
