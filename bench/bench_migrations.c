/*
 * bench_migrations.c - `strata migrations run` against each database's own
 * command-line client running the same SQL, in one run.
 *
 * It generates M migrations (default 200) that create tables with inline
 * foreign keys, add columns and indexes, add foreign keys and unique
 * constraints, and rename columns and tables. For every dialect it compiles
 * them once with `strata migrations sql --dialect D` and then times, as child
 * processes on a fresh empty database each time:
 *
 *   strata --database-url URL --migrations-dir DIR migrations run
 *   PostgreSQL: psql -1 -f FILE      (the per-migration BEGIN/COMMIT lines
 *                                     left out: -1 makes it one transaction)
 *   MariaDB:    mariadb DB < FILE
 *   SQLite:     sqlite3 -bail DB < FILE
 *
 * R runs each (default 9; the order alternates), and prints the ratio of the
 * best times, of the median times, and the median of the ratios of the two
 * runs of each pair (run back to back, so the least disturbed by other load
 * on a busy machine). The target is at most 1.10x, judged on that median of
 * paired ratios: on a shared machine whose speed drifts by 2x within seconds,
 * the ratio of two minimums compares a lucky moment of one side with an
 * ordinary one of the other, while a pair shares its moment. Both other
 * ratios are printed too. Last, it times the offline compile of 1,000
 * migrations (`strata migrations sql`, no database) for each dialect.
 * STRATA_BENCH_KEEP=1 keeps the directory of generated migrations.
 *
 *   bench_migrations [MIGRATIONS] [REPEAT] [DIALECT...]
 *
 * (default 200 migrations, 9 runs, all three dialects). Needs
 * STRATA_TEST_PG_URL and STRATA_TEST_MYSQL_URL (scripts/services.sh), and
 * psql, mariadb and sqlite3.
 */
#include "benchutil.h"
#include "strata.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef STRATA_BUILD_DIR
#define STRATA_BUILD_DIR "."
#endif

const char *bench_name = "bench_migrations";
static char dir[256];
static char strata_bin[512];

/* ---- the migrations ---- */

/* A deterministic generator state: the tables made so far, their extra
 * columns and the next numbers for names. */
#define MAX_TABLES 4096
typedef struct gen {
    unsigned long long rnd;
    int ntables;
    char name[MAX_TABLES][48];
    int ncols[MAX_TABLES];   /* extra integer columns c0, c1, ... */
    int renamed[MAX_TABLES]; /* how many columns were renamed (c<k>_r) */
    int serial;
} gen;

static unsigned pick(gen *g, unsigned n)
{
    g->rnd = g->rnd * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(g->rnd >> 33) % n;
}

/* Name of extra column k of table t (renamed ones end in _r). */
static void col_name(const gen *g, int t, int k, char *out, size_t n)
{
    snprintf(out, n, "c%d%s", k, k < g->renamed[t] ? "_r" : "");
}

static void create_table(gen *g, FILE *f)
{
    int t = g->ntables++;
    snprintf(g->name[t], sizeof g->name[t], "tbl%d", t);
    g->ncols[t] = 0;
    g->renamed[t] = 0;
    fprintf(f,
            "{\"op\": \"create_table\", \"table\": \"%s\", \"columns\": [{\"name\": \"id\", "
            "\"type\": \"serial\", \"primary_key\": true}, {\"name\": \"name\", \"type\": "
            "\"string\", \"length\": 100, \"nullable\": false, \"default\": \"\"}, {\"name\": "
            "\"created_at\", \"type\": \"timestamptz\", \"default\": {\"expr\": \"now\"}}, "
            "{\"name\": \"amount\", \"type\": \"decimal\", \"precision\": 12, \"scale\": 2}",
            g->name[t]);
    if (t > 0)
        fprintf(f,
                ", {\"name\": \"parent_id\", \"type\": \"integer\", \"references\": {\"table\": "
                "\"%s\", \"on_delete\": \"cascade\"}}",
                g->name[pick(g, (unsigned)t)]);
    fprintf(f,
            "]}, {\"op\": \"create_index\", \"table\": \"%s\", \"name\": \"ix%d\", \"columns\": "
            "[\"name\", {\"column\": \"created_at\", \"order\": \"desc\"}]}",
            g->name[t], g->serial++);
}

static void add_column(gen *g, FILE *f)
{
    int t = (int)pick(g, (unsigned)g->ntables);
    int k = g->ncols[t]++;
    fprintf(f,
            "{\"op\": \"add_column\", \"table\": \"%s\", \"column\": {\"name\": \"c%d\", "
            "\"type\": \"integer\"}}, {\"op\": \"create_index\", \"table\": \"%s\", \"name\": "
            "\"ix%d\", \"columns\": [\"c%d\"]}",
            g->name[t], k, g->name[t], g->serial++, k);
}

static void add_foreign_key(gen *g, FILE *f)
{
    int t = (int)pick(g, (unsigned)g->ntables);
    int to = (int)pick(g, (unsigned)g->ntables);
    int k = g->ncols[t]++;
    fprintf(f,
            "{\"op\": \"add_column\", \"table\": \"%s\", \"column\": {\"name\": \"c%d\", "
            "\"type\": \"integer\"}}, {\"op\": \"add_foreign_key\", \"table\": \"%s\", \"name\": "
            "\"fk%d\", \"columns\": [\"c%d\"], \"references\": {\"table\": \"%s\", \"columns\": "
            "[\"id\"]}, \"on_delete\": \"set_null\"}",
            g->name[t], k, g->name[t], g->serial++, k, g->name[to]);
}

static void rename_column(gen *g, FILE *f)
{
    for (int tries = 0; tries < 8; tries++) {
        int t = (int)pick(g, (unsigned)g->ntables);
        if (g->renamed[t] < g->ncols[t]) {
            int k = g->renamed[t]++;
            fprintf(f,
                    "{\"op\": \"rename_column\", \"table\": \"%s\", \"column\": \"c%d\", \"to\": "
                    "\"c%d_r\"}",
                    g->name[t], k, k);
            return;
        }
    }
    add_column(g, f);
}

static void rename_table(gen *g, FILE *f)
{
    int t = (int)pick(g, (unsigned)g->ntables);
    char to[48];
    snprintf(to, sizeof to, "tbl%d_v%d", t, g->serial++);
    fprintf(f, "{\"op\": \"rename_table\", \"table\": \"%s\", \"to\": \"%s\"}", g->name[t], to);
    snprintf(g->name[t], sizeof g->name[t], "%s", to);
}

static void add_unique(gen *g, FILE *f)
{
    int t = (int)pick(g, (unsigned)g->ntables);
    if (g->ncols[t] == 0) {
        add_column(g, f);
        return;
    }
    char c[32];
    col_name(g, t, (int)pick(g, (unsigned)g->ncols[t]), c, sizeof c);
    fprintf(f,
            "{\"op\": \"add_unique\", \"table\": \"%s\", \"name\": \"uq%d\", \"columns\": "
            "[\"%s\", \"id\"]}",
            g->name[t], g->serial++, c);
}

/* Write migrations 1..n into `mdir`; returns how many tables they make. */
static int generate(const char *mdir, int n)
{
    if (mkdir(mdir, 0777) != 0 && errno != EEXIST) {
        perror(mdir);
        exit(1);
    }
    gen *g = calloc(1, sizeof *g);
    g->rnd = 42;
    for (int i = 0; i < n; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%014d_step%d.json", mdir, 20240101 + i, i);
        FILE *f = fopen(path, "w");
        if (!f) {
            perror(path);
            exit(1);
        }
        fprintf(f, "{\"description\": \"step %d\", \"up\": [", i);
        /* every migration two or three changes */
        int nch = 2 + (int)pick(g, 2);
        for (int c = 0; c < nch; c++) {
            if (c)
                fputs(", ", f);
            unsigned kind = g->ntables < 3 ? 0 : pick(g, 10);
            if (kind < 3)
                create_table(g, f);
            else if (kind < 5)
                add_column(g, f);
            else if (kind < 7)
                add_foreign_key(g, f);
            else if (kind < 8)
                rename_column(g, f);
            else if (kind < 9)
                rename_table(g, f);
            else
                add_unique(g, f);
        }
        fputs("]}\n", f);
        if (fclose(f) != 0) {
            perror(path);
            exit(1);
        }
    }
    int tables = g->ntables;
    free(g);
    return tables;
}

/* ---- processes and databases ---- */

/* How many user tables (not strata_*) a database has. */
static long long user_tables(strata_dialect d, const char *url)
{
    static const char *const sql[] = {
        "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND "
        "tablename NOT LIKE 'strata%'",
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND "
        "table_name NOT LIKE 'strata%'",
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'strata%' AND "
        "name NOT LIKE 'sqlite%'"};
    strata_conn *c;
    if (strata_conn_open(&c, url) != 0)
        bench_die("connect");
    char *n = NULL;
    if (strata_conn_query_string(c, sql[d], NULL, 0, &n) != 0)
        bench_die("count tables");
    long long v = n ? atoll(n) : -1;
    free(n);
    strata_conn_close(c);
    return v;
}

/* The compiled SQL of the migrations for a dialect, as the client gets it. */
static void compile_for_client(strata_dialect d, const char *mdir, const char *file)
{
    char raw[600];
    snprintf(raw, sizeof raw, "%s.raw", file);
    char *argv[] = {strata_bin,
                    "--migrations-dir",
                    (char *)mdir,
                    "migrations",
                    "sql",
                    "--dialect",
                    (char *)strata_dialect_name(d),
                    NULL};
    bench_run(argv, NULL, raw, 1, NULL);
    FILE *in = fopen(raw, "r"), *out = fopen(file, "w");
    if (!in || !out) {
        perror(file);
        exit(1);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    if (d == STRATA_MYSQL)
        fputs("SET NAMES utf8mb4;\n", out);
    while ((n = getline(&line, &cap, in)) > 0) {
        /* psql -1 wraps the whole file in one transaction */
        if (d == STRATA_POSTGRES && (!strcmp(line, "BEGIN;\n") || !strcmp(line, "COMMIT;\n")))
            continue;
        fwrite(line, 1, (size_t)n, out);
    }
    free(line);
    fclose(in);
    fclose(out);
    unlink(raw);
}

static double client_run(strata_dialect d, const char *url, const char *file)
{
    if (d == STRATA_POSTGRES) {
        char *argv[] = {"psql",       "-X", "-q",        "-v", "ON_ERROR_STOP=1", "-1", "-f",
                        (char *)file, "-d", (char *)url, NULL};
        return bench_run(argv, NULL, NULL, 1, NULL);
    }
    if (d == STRATA_MYSQL) {
        bench_mariadb_args a;
        bench_mariadb_args_from(url, &a);
        char *argv[] = {"mariadb", "--no-defaults", a.host,     a.port,
                        a.user,    a.password,      a.database, NULL};
        return bench_run(argv, file, NULL, 1, NULL);
    }
    char *argv[] = {"sqlite3", "-bail", (char *)url + strlen("sqlite:"), NULL};
    return bench_run(argv, file, NULL, 1, NULL);
}

static double strata_run(const char *url, const char *mdir)
{
    char *argv[] = {strata_bin,   "--database-url", (char *)url, "--migrations-dir",
                    (char *)mdir, "migrations",     "run",       NULL};
    return bench_run(argv, NULL, NULL, 1, NULL);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void remove_tree(const char *path)
{
    char *argv[] = {"rm", "-rf", (char *)path, NULL};
    bench_run(argv, NULL, NULL, 1, NULL);
}

int main(int argc, char **argv)
{
    int m = argc > 1 ? atoi(argv[1]) : 200;
    int repeat = argc > 2 ? atoi(argv[2]) : 9;
    int wanted[STRATA_DIALECT_COUNT] = {argc <= 3, argc <= 3, argc <= 3};
    for (int i = 3; i < argc; i++) {
        int d = strata_dialect_parse(argv[i]);
        if (d < 0) {
            m = 0;
            break;
        }
        wanted[d] = 1;
    }
    if (m < 10 || m > 1000 || repeat < 1) {
        fprintf(stderr, "usage: bench_migrations [MIGRATIONS 10..1000] [REPEAT] "
                        "[postgres|mysql|sqlite ...]\n");
        return 2;
    }
    const char *env = getenv("STRATA_BIN");
    snprintf(strata_bin, sizeof strata_bin, "%s", env && *env ? env : STRATA_BUILD_DIR "/strata");
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/strata-bench-migrations-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char mdir[300], mdir1000[300];
    snprintf(mdir, sizeof mdir, "%s/migrations", dir);
    snprintf(mdir1000, sizeof mdir1000, "%s/migrations1000", dir);
    int tables = generate(mdir, m);
    printf("bench_migrations: %d migrations (%d tables, columns, indexes, foreign keys, unique "
           "constraints, renames) in %s; best of %d\n",
           m, tables, mdir, repeat);
    printf("%-9s %10s %10s %7s   %10s %10s %7s   %7s\n", "", "best", "", "", "median", "", "",
           "median");
    printf("%-9s %10s %10s %7s   %10s %10s %7s   %7s   %s\n", "database", "strata s", "client s",
           "ratio", "strata s", "client s", "ratio", "of pair", "client");
    int fail = 0;
    for (int d = 0; d < STRATA_DIALECT_COUNT; d++) {
        if (!wanted[d])
            continue;
        const char *base = d == STRATA_POSTGRES ? getenv("STRATA_TEST_PG_URL")
                           : d == STRATA_MYSQL  ? getenv("STRATA_TEST_MYSQL_URL")
                                                : "sqlite:";
        if (!base || !*base) {
            fprintf(stderr, "bench_migrations: set STRATA_TEST_%s_URL (scripts/services.sh)\n",
                    d == STRATA_POSTGRES ? "PG" : "MYSQL");
            return 1;
        }
        char file[400];
        snprintf(file, sizeof file, "%s/compiled-%s.sql", dir, strata_dialect_name(d));
        compile_for_client((strata_dialect)d, mdir, file);
        double *times_s = calloc((size_t)repeat, sizeof(double));
        double *times_c = calloc((size_t)repeat, sizeof(double));
        double *pair = calloc((size_t)repeat, sizeof(double));
        for (int r = 0; r < repeat; r++) {
            char *uc = bench_create_db((strata_dialect)d, base, dir, "bench_mig_client");
            char *us = bench_create_db((strata_dialect)d, base, dir, "bench_mig_strata");
            double tc, ts;
            /* alternate which goes first; before each, let the server finish
             * the background work (purge, checkpoints) of the runs before */
            if (r % 2 == 0) {
                usleep(500000);
                tc = client_run((strata_dialect)d, uc, file);
                usleep(500000);
                ts = strata_run(us, mdir);
            } else {
                usleep(500000);
                ts = strata_run(us, mdir);
                usleep(500000);
                tc = client_run((strata_dialect)d, uc, file);
            }
            long long nc = user_tables((strata_dialect)d, uc);
            long long ns = user_tables((strata_dialect)d, us);
            if (nc != tables || ns != tables) {
                fprintf(stderr,
                        "bench_migrations: %s: %lld tables via the client, %lld via "
                        "strata, expected %d\n",
                        strata_dialect_name(d), nc, ns, tables);
                return 1;
            }
            times_c[r] = tc;
            times_s[r] = ts;
            pair[r] = ts / tc;
            bench_drop_db((strata_dialect)d, base, uc);
            bench_drop_db((strata_dialect)d, base, us);
            free(uc);
            free(us);
        }
        qsort(times_s, (size_t)repeat, sizeof(double), cmp_double);
        qsort(times_c, (size_t)repeat, sizeof(double), cmp_double);
        qsort(pair, (size_t)repeat, sizeof(double), cmp_double);
        double ratio = times_s[0] / times_c[0];
        fail |= pair[repeat / 2] > 1.10;
        const char *client = d == STRATA_POSTGRES ? "psql -1 -f"
                             : d == STRATA_MYSQL  ? "mariadb <"
                                                  : "sqlite3 <";
        printf("%-9s %10.3f %10.3f %6.2fx   %10.3f %10.3f %6.2fx   %6.2fx   %s\n",
               strata_dialect_name(d), times_s[0], times_c[0], ratio, times_s[repeat / 2],
               times_c[repeat / 2], times_s[repeat / 2] / times_c[repeat / 2], pair[repeat / 2],
               client);
        free(times_s);
        free(times_c);
        free(pair);
        unlink(file);
    }
    /* the offline compile of 1,000 migrations */
    generate(mdir1000, 1000);
    printf("offline compile of 1000 migrations (strata migrations sql --dialect D), best of %d:\n",
           repeat);
    for (int d = 0; d < STRATA_DIALECT_COUNT; d++) {
        if (!wanted[d])
            continue;
        double best = 1e9;
        for (int r = 0; r < repeat; r++) {
            char *av[] = {strata_bin,
                          "--migrations-dir",
                          mdir1000,
                          "migrations",
                          "sql",
                          "--dialect",
                          (char *)strata_dialect_name(d),
                          NULL};
            double t = bench_run(av, NULL, NULL, 1, NULL);
            best = t < best ? t : best;
        }
        printf("  %-9s %8.3f s\n", strata_dialect_name(d), best);
    }
    const char *keep = getenv("STRATA_BENCH_KEEP");
    if (keep && *keep && strcmp(keep, "0"))
        printf("kept %s (STRATA_BENCH_KEEP)\n", dir);
    else
        remove_tree(dir);
    printf("target: strata at most 1.10x the client (median of paired ratios): %s\n",
           fail ? "MISSED" : "met");
    return fail ? 1 : 0;
}
