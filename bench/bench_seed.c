/*
 * bench_seed.c - `strata seed` against each database's own bulk loader, in
 * one run, on the same data.
 *
 * It writes N rows (default 1,000,000) over four tables linked by foreign
 * keys (customer 10%, product 5%, orders 25%, order_line 60%) as CSV files
 * with headers, makes two empty databases per dialect with the same
 * migration, and times, as child processes:
 *
 *   strata seed -f seed.json --no-migrate      (the four CSV files)
 *   PostgreSQL: psql, \copy of each file, in one transaction
 *   MariaDB:    mariadb --local-infile, LOAD DATA LOCAL INFILE, one transaction
 *   SQLite:     sqlite3, .import --csv of each file inside BEGIN/COMMIT
 *
 * and, on a third database, the same rows inline in one seed JSON document
 * (`strata seed -f seed-inline.json`, read as a stream), and prints the
 * time ratios and each child's peak memory (ru_maxrss). The targets: CSV at
 * most 1.10x the loader's time, inline JSON at most 1.50x, both under 64 MB
 * whatever N.
 *
 * With REPEAT > 1 the pair runs again with the order swapped, and the best
 * time of each side counts.
 *
 *   bench_seed [ROWS] [REPEAT]    needs STRATA_TEST_PG_URL, STRATA_TEST_MYSQL_URL
 *                                 (scripts/services.sh) and psql, mariadb, sqlite3
 */
#include "benchutil.h"
#include "strata.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef STRATA_BUILD_DIR
#define STRATA_BUILD_DIR "."
#endif

static const char migration[] =
    "{\"up\": [\n"
    " {\"op\": \"create_table\", \"table\": \"customer\", \"columns\": [\n"
    "  {\"name\": \"id\", \"type\": \"bigint\", \"primary_key\": true},\n"
    "  {\"name\": \"email\", \"type\": \"string\", \"nullable\": false},\n"
    "  {\"name\": \"name\", \"type\": \"string\"},\n"
    "  {\"name\": \"created_at\", \"type\": \"timestamptz\", \"nullable\": false},\n"
    "  {\"name\": \"active\", \"type\": \"boolean\", \"nullable\": false}]},\n"
    " {\"op\": \"create_table\", \"table\": \"product\", \"columns\": [\n"
    "  {\"name\": \"id\", \"type\": \"bigint\", \"primary_key\": true},\n"
    "  {\"name\": \"sku\", \"type\": \"string\", \"nullable\": false},\n"
    "  {\"name\": \"title\", \"type\": \"string\", \"nullable\": false},\n"
    "  {\"name\": \"price\", \"type\": \"decimal\", \"precision\": 10, \"scale\": 2}]},\n"
    " {\"op\": \"create_table\", \"table\": \"orders\", \"columns\": [\n"
    "  {\"name\": \"id\", \"type\": \"bigint\", \"primary_key\": true},\n"
    "  {\"name\": \"customer_id\", \"type\": \"bigint\", \"nullable\": false,\n"
    "   \"references\": {\"table\": \"customer\"}},\n"
    "  {\"name\": \"placed_at\", \"type\": \"timestamptz\", \"nullable\": false},\n"
    "  {\"name\": \"status\", \"type\": \"string\", \"nullable\": false},\n"
    "  {\"name\": \"total\", \"type\": \"decimal\", \"precision\": 12, \"scale\": 2}]},\n"
    " {\"op\": \"create_table\", \"table\": \"order_line\", \"columns\": [\n"
    "  {\"name\": \"id\", \"type\": \"bigint\", \"primary_key\": true},\n"
    "  {\"name\": \"order_id\", \"type\": \"bigint\", \"nullable\": false,\n"
    "   \"references\": {\"table\": \"orders\"}},\n"
    "  {\"name\": \"product_id\", \"type\": \"bigint\", \"nullable\": false,\n"
    "   \"references\": {\"table\": \"product\"}},\n"
    "  {\"name\": \"quantity\", \"type\": \"integer\", \"nullable\": false},\n"
    "  {\"name\": \"unit_price\", \"type\": \"decimal\", \"precision\": 10, \"scale\": 2}]}\n"
    "]}\n";

static const char *const tables[4] = {"customer", "product", "orders", "order_line"};
static const char *const columns[4] = {
    "id,email,name,created_at,active",
    "id,sku,title,price",
    "id,customer_id,placed_at,status,total",
    "id,order_id,product_id,quantity,unit_price",
};

const char *bench_name = "bench_seed";
static char dir[256];
static long long counts[4];

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* The data: deterministic, with quoting in names, NULLs and UTC times, as
 * CSV files and as one seed with the same rows inline (seed-inline.json). */
static void generate(long long n)
{
    counts[0] = n / 10;
    counts[1] = n / 20;
    counts[2] = n / 4;
    counts[3] = n - counts[0] - counts[1] - counts[2];
    char jpath[512];
    snprintf(jpath, sizeof jpath, "%s/seed-inline.json", dir);
    FILE *j = fopen(jpath, "w");
    if (!j) {
        perror(jpath);
        exit(1);
    }
    fputs("{\"tables\": [\n", j);
    for (int t = 0; t < 4; t++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.csv", dir, tables[t]);
        FILE *f = fopen(path, "w");
        if (!f) {
            perror(path);
            exit(1);
        }
        fprintf(f, "%s\n", columns[t]);
        fprintf(j, "%s{\"table\": \"%s\", \"rows\": [\n", t ? "]},\n" : "", tables[t]);
        for (long long i = 1; i <= counts[t]; i++) {
            int day = (int)(i % 28) + 1, sec = (int)(i % 86400);
            const char *sep = i > 1 ? ",\n" : "";
            switch (t) {
            case 0:
                fprintf(f, "%lld,user%lld@example.com,\"Customer %lld, \"\"the\"\" %lld\",", i, i,
                        i, i % 97);
                fprintf(f, "2024-02-%02d %02d:%02d:%02d,%d\n", day, sec / 3600, sec / 60 % 60,
                        sec % 60, (int)(i % 5 != 0));
                fprintf(j,
                        "%s{\"id\": %lld, \"email\": \"user%lld@example.com\", \"name\": "
                        "\"Customer %lld, \\\"the\\\" %lld\", \"created_at\": "
                        "\"2024-02-%02d %02d:%02d:%02d\", \"active\": %s}",
                        sep, i, i, i, i % 97, day, sec / 3600, sec / 60 % 60, sec % 60,
                        i % 5 != 0 ? "true" : "false");
                break;
            case 1:
                fprintf(f, "%lld,SKU-%08lld,Product number %lld,%lld.%02lld\n", i, i, i,
                        i % 500 + 1, i % 100);
                fprintf(j,
                        "%s{\"id\": %lld, \"sku\": \"SKU-%08lld\", \"title\": \"Product number "
                        "%lld\", \"price\": \"%lld.%02lld\"}",
                        sep, i, i, i, i % 500 + 1, i % 100);
                break;
            case 2:
                fprintf(f, "%lld,%lld,2024-03-%02d %02d:%02d:%02d,%s,%lld.%02lld\n", i,
                        (i * 7919) % counts[0] + 1, day, sec / 3600, sec / 60 % 60, sec % 60,
                        i % 3 ? "completed" : "pending", i % 10000, i % 100);
                fprintf(j,
                        "%s{\"id\": %lld, \"customer_id\": %lld, \"placed_at\": "
                        "\"2024-03-%02d %02d:%02d:%02d\", \"status\": \"%s\", \"total\": "
                        "\"%lld.%02lld\"}",
                        sep, i, (i * 7919) % counts[0] + 1, day, sec / 3600, sec / 60 % 60,
                        sec % 60, i % 3 ? "completed" : "pending", i % 10000, i % 100);
                break;
            default:
                if (i % 11 == 0) {
                    fprintf(f, "%lld,%lld,%lld,%lld,\n", i, (i * 104729) % counts[2] + 1,
                            (i * 31) % counts[1] + 1, i % 9 + 1);
                    fprintf(j,
                            "%s{\"id\": %lld, \"order_id\": %lld, \"product_id\": %lld, "
                            "\"quantity\": %lld, \"unit_price\": null}",
                            sep, i, (i * 104729) % counts[2] + 1, (i * 31) % counts[1] + 1,
                            i % 9 + 1);
                } else {
                    fprintf(f, "%lld,%lld,%lld,%lld,%lld.%02lld\n", i, (i * 104729) % counts[2] + 1,
                            (i * 31) % counts[1] + 1, i % 9 + 1, i % 300 + 1, i % 100);
                    fprintf(j,
                            "%s{\"id\": %lld, \"order_id\": %lld, \"product_id\": %lld, "
                            "\"quantity\": %lld, \"unit_price\": \"%lld.%02lld\"}",
                            sep, i, (i * 104729) % counts[2] + 1, (i * 31) % counts[1] + 1,
                            i % 9 + 1, i % 300 + 1, i % 100);
                }
            }
        }
        fclose(f);
    }
    fputs("]}\n]}\n", j);
    if (fclose(j) != 0) {
        perror(jpath);
        exit(1);
    }
    write_file("seed.json", "{\"tables\": [\n"
                            "  {\"table\": \"order_line\", \"file\": \"order_line.csv\"},\n"
                            "  {\"table\": \"orders\", \"file\": \"orders.csv\"},\n"
                            "  {\"table\": \"customer\", \"file\": \"customer.csv\"},\n"
                            "  {\"table\": \"product\", \"file\": \"product.csv\"}]}\n");
    char mdir[512];
    snprintf(mdir, sizeof mdir, "%s/migrations", dir);
    mkdir(mdir, 0755);
    write_file("migrations/20240101000000_bench.json", migration);
}

/* A new empty database with the bench tables; returns its URL. */
static char *fresh(strata_dialect d, const char *base, const char *name)
{
    char *url = bench_create_db(d, base, dir, name);
    strata_conn *c;
    if (strata_conn_open(&c, url) != 0)
        bench_die("connect");
    strata_options opt = STRATA_OPTIONS_INIT;
    char mdir[512];
    snprintf(mdir, sizeof mdir, "%s/migrations", dir);
    opt.migrations_dir = mdir;
    strata_report *r = NULL;
    if (strata_migrations_run(c, &opt, &r) != 0)
        bench_die("migrations");
    strata_report_free(r);
    strata_conn_close(c);
    return url;
}

/* Remove the generated files. */
static void cleanup(void)
{
    static const char *const names[] = {
        "customer.csv",        "product.csv",
        "orders.csv",          "seed-inline.json",
        "order_line.csv",      "seed.json",
        "native-postgres.sql", "native-mysql.sql",
        "native-sqlite.sql",   "migrations/20240101000000_bench.json",
        "migrations"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        remove(path);
    }
    rmdir(dir);
}

static void check_counts(const char *url)
{
    strata_conn *c;
    if (strata_conn_open(&c, url) != 0)
        bench_die("connect");
    for (int t = 0; t < 4; t++) {
        char sql[128], *n = NULL;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[t]);
        if (strata_conn_query_string(c, sql, NULL, 0, &n) != 0)
            bench_die("count");
        if (!n || atoll(n) != counts[t]) {
            fprintf(stderr, "bench_seed: %s: %s rows in %s, expected %lld\n", url, n, tables[t],
                    counts[t]);
            exit(1);
        }
        free(n);
    }
    strata_conn_close(c);
}

/* `strata seed` of seed.json (the CSV files) or seed-inline.json. */
static double strata_load(const char *url, const char *file, long *rss)
{
    char bin[512], seed[512];
    const char *env = getenv("STRATA_BIN");
    snprintf(bin, sizeof bin, "%s", env && *env ? env : STRATA_BUILD_DIR "/strata");
    snprintf(seed, sizeof seed, "%s/%s", dir, file);
    char *argv[] = {bin, "--database-url", (char *)url, "seed", "-f", seed, "--no-migrate", NULL};
    return bench_run(argv, NULL, NULL, 0, rss);
}

static double native_load(strata_dialect d, const char *url, long *rss)
{
    char script[512];
    snprintf(script, sizeof script, "%s/native-%s.sql", dir, strata_dialect_name(d));
    FILE *f = fopen(script, "w");
    if (!f)
        exit(1);
    static const int order[4] = {0, 1, 2, 3};
    if (d == STRATA_POSTGRES) {
        fprintf(f, "BEGIN;\n");
        for (int k = 0; k < 4; k++)
            fprintf(f, "\\copy %s (%s) FROM '%s/%s.csv' WITH (FORMAT csv, HEADER true)\n",
                    tables[order[k]], columns[order[k]], dir, tables[order[k]]);
        fprintf(f, "COMMIT;\n");
        fclose(f);
        char *argv[] = {"psql", "-X",        "-q", "-v",   "ON_ERROR_STOP=1",
                        "-d",   (char *)url, "-f", script, NULL};
        return bench_run(argv, NULL, NULL, 0, rss);
    }
    if (d == STRATA_MYSQL) {
        bench_mariadb_args a;
        bench_mariadb_args_from(url, &a);
        fprintf(f, "SET autocommit = 0;\n");
        for (int k = 0; k < 4; k++)
            fprintf(f,
                    "LOAD DATA LOCAL INFILE '%s/%s.csv' INTO TABLE %s CHARACTER SET utf8mb4 "
                    "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY "
                    "'\\n' IGNORE 1 LINES (%s);\n",
                    dir, tables[order[k]], tables[order[k]], columns[order[k]]);
        fprintf(f, "COMMIT;\n");
        fclose(f);
        char *argv[] = {"mariadb", "--no-defaults", "--local-infile=1", a.host, a.port,
                        a.user,    a.password,      a.database,         NULL};
        return bench_run(argv, script, NULL, 0, rss);
    }
    fprintf(f, "PRAGMA foreign_keys = ON;\nBEGIN;\n");
    for (int k = 0; k < 4; k++)
        fprintf(f, ".import --csv --skip 1 %s/%s.csv %s\n", dir, tables[order[k]],
                tables[order[k]]);
    fprintf(f, "COMMIT;\n");
    fclose(f);
    char *argv[] = {"sqlite3", "-bail", (char *)url + strlen("sqlite:"), NULL};
    return bench_run(argv, script, NULL, 0, rss);
}

int main(int argc, char **argv)
{
    long long n = argc > 1 ? atoll(argv[1]) : 1000000;
    int repeat = argc > 2 ? atoi(argv[2]) : 1;
    if (n < 100 || repeat < 1) {
        fprintf(stderr, "usage: bench_seed [ROWS >= 100] [REPEAT]\n");
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/strata-bench-seed-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    double t0 = bench_now();
    generate(n);
    printf("bench_seed: %lld rows (customer %lld, product %lld, orders %lld, order_line %lld) "
           "as CSV in %.1f s, in %s\n",
           n, counts[0], counts[1], counts[2], counts[3], bench_now() - t0, dir);
    printf("%-9s %9s %9s %9s %7s %7s %10s %10s %10s\n", "database", "csv s", "inline s", "loader s",
           "csv", "inline", "csv peak", "inl. peak", "ldr peak");
    int fail = 0;
    for (int d = 0; d < STRATA_DIALECT_COUNT; d++) {
        const char *base = NULL;
        if (d == STRATA_POSTGRES)
            base = getenv("STRATA_TEST_PG_URL");
        else if (d == STRATA_MYSQL)
            base = getenv("STRATA_TEST_MYSQL_URL");
        if (d != STRATA_SQLITE && (!base || !*base)) {
            fprintf(stderr, "bench_seed: %s: set STRATA_TEST_%s_URL (scripts/services.sh)\n",
                    strata_dialect_name((strata_dialect)d), d == STRATA_POSTGRES ? "PG" : "MYSQL");
            return 1;
        }
        double best_s = 1e9, best_i = 1e9, best_n = 1e9;
        long rss_s = 0, rss_i = 0, rss_n = 0;
        for (int r = 0; r < repeat; r++) {
            char name[64];
            snprintf(name, sizeof name, "bench_seed_native_%d", r);
            char *un = fresh((strata_dialect)d, base, name);
            snprintf(name, sizeof name, "bench_seed_strata_%d", r);
            char *us = fresh((strata_dialect)d, base, name);
            snprintf(name, sizeof name, "bench_seed_inline_%d", r);
            char *ui = fresh((strata_dialect)d, base, name);
            /* Alternate which goes first: the second load of a pair pays for
             * the server flushing the first one's pages. */
            long kb;
            double tn = 0, ts = 0, ti = 0;
            if (r % 2 == 0) {
                tn = native_load((strata_dialect)d, un, &kb);
                rss_n = kb > rss_n ? kb : rss_n;
            }
            ts = strata_load(us, "seed.json", &kb);
            rss_s = kb > rss_s ? kb : rss_s;
            ti = strata_load(ui, "seed-inline.json", &kb);
            rss_i = kb > rss_i ? kb : rss_i;
            if (r % 2 == 1) {
                tn = native_load((strata_dialect)d, un, &kb);
                rss_n = kb > rss_n ? kb : rss_n;
            }
            check_counts(un);
            check_counts(us);
            check_counts(ui);
            best_n = tn < best_n ? tn : best_n;
            best_s = ts < best_s ? ts : best_s;
            best_i = ti < best_i ? ti : best_i;
            bench_drop_db((strata_dialect)d, base, un);
            bench_drop_db((strata_dialect)d, base, us);
            bench_drop_db((strata_dialect)d, base, ui);
            free(un);
            free(us);
            free(ui);
        }
        double ratio = best_s / best_n, iratio = best_i / best_n;
        int ok = ratio <= 1.10 && iratio <= 1.50 && rss_s < 64 * 1024 && rss_i < 64 * 1024;
        printf("%-9s %9.2f %9.2f %9.2f %6.2fx %6.2fx %7.1f MB %7.1f MB %7.1f MB%s\n",
               strata_dialect_name((strata_dialect)d), best_s, best_i, best_n, ratio, iratio,
               (double)rss_s / 1024, (double)rss_i / 1024, (double)rss_n / 1024,
               ok ? "" : "  (target: csv <= 1.10x, inline <= 1.50x, < 64 MB)");
        fflush(stdout);
        if (!ok)
            fail = 1;
    }
    if (!getenv("BENCH_KEEP"))
        cleanup();
    return fail;
}
