/*
 * bench_fleet.c - a fleet against a shell loop: `strata migrations run
 * --targets FILE --parallel P` for P = 1, 4 and 16, and the loop a fleet
 * replaces,
 *
 *   while read url; do strata migrations run --database-url "$url"; done
 *
 * on N targets (default 200), a quarter of each kind: PostgreSQL
 * databases, schemas of one PostgreSQL database (?search_path=NAME),
 * MariaDB databases and SQLite files. Every run starts from fresh, empty
 * targets (made and dropped outside the timing), and all of them apply the
 * same migrations: by default a generated set of 6 (the tables, columns,
 * indexes, foreign keys and row of tests/test_fleet.c), or the directory
 * given (the Medusa migrations take MariaDB 10 s and more a database here).
 *
 * For each run it prints the wall time, the ratio loop / run, and where
 * the time went: the CPU seconds of the strata processes (from wait4; they
 * include SQLite's work, which runs inside them), of the PostgreSQL and
 * MariaDB servers (from /proc, with STRATA_BENCH_SERVICES_DIR set to the
 * directory `scripts/services.sh start` printed), of everything else on
 * the machine (/proc/stat: other users' work too), and the share of the
 * processors' time left idle or waiting for the disk. On this project's
 * 2-core machine the servers are the limit, so the speed-up stops where
 * they and strata fill both cores.
 *
 * Last it runs the fleet again on the migrated targets (every one up to
 * date): what a resumed or repeated run costs.
 *
 *   bench_fleet [TARGETS] [MIGRATIONS_DIR]
 *
 * Needs STRATA_TEST_PG_URL and STRATA_TEST_MYSQL_URL (scripts/services.sh).
 */
#include "benchutil.h"
#include "strata.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef STRATA_BUILD_DIR
#define STRATA_BUILD_DIR "."
#endif

const char *bench_name = "bench_fleet";

static char dir[256];
static char strata_bin[512];
static const char *pg_base, *my_base;
static char *schema_db; /* the database of the schema targets */

/* ---- the machine's processors ---- */

typedef struct cpu_times {
    double busy, idle, iowait; /* seconds, summed over processors */
} cpu_times;

static cpu_times machine_cpu(void)
{
    cpu_times t = {0, 0, 0};
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[10] = {0};
    if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                    &v[4], &v[5], &v[6], &v[7]) == 8) {
        double hz = (double)sysconf(_SC_CLK_TCK);
        t.busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;
        t.idle = (double)v[3] / hz;
        t.iowait = (double)v[4] / hz;
    }
    if (f)
        fclose(f);
    return t;
}

/* ---- the servers' processors ---- */

static double clock_ticks(void)
{
    return (double)sysconf(_SC_CLK_TCK);
}

/* Fields of /proc/PID/stat: the parent, utime + stime, cutime + cstime. */
static int proc_stat(long pid, long *ppid, double *own, double *children)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command may hold spaces */
    unsigned long long ut = 0, st = 0;
    long long cut = 0, cst = 0;
    char state;
    if (!p || sscanf(p + 2, "%c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld",
                     &state, ppid, &ut, &st, &cut, &cst) != 6)
        return -1;
    *own = (double)(ut + st) / clock_ticks();
    *children = (double)(cut + cst) / clock_ticks();
    return 0;
}

static long pid_from_file(const char *path)
{
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return pid;
}

/* The CPU seconds a server has used: its own, its ended children's (the
 * postmaster reaps every backend), and its live children's. */
static double server_cpu(long pid)
{
    long ppid;
    double own, ended;
    if (pid <= 0 || proc_stat(pid, &ppid, &own, &ended) != 0)
        return 0;
    double total = own + ended;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        long child = atol(e->d_name);
        double cown, cended;
        if (child > 0 && child != pid && proc_stat(child, &ppid, &cown, &cended) == 0 &&
            ppid == pid)
            total += cown;
    }
    if (d)
        closedir(d);
    return total;
}

/* The servers of scripts/services.sh, from STRATA_BENCH_SERVICES_DIR (the
 * directory `services.sh start` printed): PostgreSQL's postmaster and
 * MariaDB's server; 0 when not given. */
static long pg_pid, my_pid;

static void find_servers(void)
{
    const char *sd = getenv("STRATA_BENCH_SERVICES_DIR");
    if (!sd || !*sd)
        return;
    char path[600];
    snprintf(path, sizeof path, "%s/pg/data/postmaster.pid", sd);
    pg_pid = pid_from_file(path);
    snprintf(path, sizeof path, "%s/my/mariadbd.pid", sd);
    my_pid = pid_from_file(path);
}

/* Run a shell command; *cpu gets the CPU time of it and its children. */
static double run_timed(const char *cmd, double *cpu)
{
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "%s: failed: %s\n", bench_name, cmd);
        exit(1);
    }
    *cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return bench_now() - t0;
}

/* ---- the targets ---- */

static strata_dialect kind_dialect(int k)
{
    return k == 2 ? STRATA_MYSQL : k == 3 ? STRATA_SQLITE : STRATA_POSTGRES;
}

/* n fresh targets, the four kinds in turn; their URLs one a line in
 * DIR/targets (and in urls[], caller frees). */
static char **make_targets(int n, int round)
{
    char **urls = calloc((size_t)n + 1, sizeof *urls);
    char name[64];
    snprintf(name, sizeof name, "bf_schemas_%d", round);
    schema_db = bench_create_db(STRATA_POSTGRES, pg_base, dir, name);
    for (int i = 0; i < n; i++) {
        int k = i % 4;
        snprintf(name, sizeof name, "bf_%d_%d", round, i);
        if (k == 1) {
            if (asprintf(&urls[i], "%s?search_path=%s", schema_db, name) < 0)
                exit(1);
        } else {
            urls[i] = bench_create_db(kind_dialect(k), k == 2 ? my_base : pg_base, dir, name);
        }
    }
    char path[300];
    snprintf(path, sizeof path, "%s/targets", dir);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < n; i++)
        fprintf(f, "%s\n", urls[i]);
    fclose(f);
    return urls;
}

static void drop_targets(char **urls, int n)
{
    for (int i = 0; i < n; i++) {
        int k = i % 4;
        if (k != 1)
            bench_drop_db(kind_dialect(k), k == 2 ? my_base : pg_base, urls[i]);
        free(urls[i]);
    }
    free(urls);
    bench_drop_db(STRATA_POSTGRES, pg_base, schema_db);
    free(schema_db);
}

/* ---- the migrations ---- */

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

static void write_migrations(const char *mdir)
{
    mkdir(mdir, 0700);
    for (size_t i = 0; i < sizeof generated / sizeof generated[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/2024010100000%zu_step%zu.json", mdir, i, i);
        FILE *f = fopen(path, "w");
        if (!f)
            bench_die("write a migration");
        fputs(generated[i], f);
        fclose(f);
    }
}

/* ---- one timed run ---- */

typedef struct result {
    const char *what;
    double wall, strata_cpu, pg_cpu, my_cpu, busy, idle, iowait;
} result;

static result timed(const char *what, const char *cmd)
{
    result r;
    r.what = what;
    cpu_times before = machine_cpu();
    double pg0 = server_cpu(pg_pid), my0 = server_cpu(my_pid);
    r.wall = run_timed(cmd, &r.strata_cpu);
    r.pg_cpu = server_cpu(pg_pid) - pg0;
    r.my_cpu = server_cpu(my_pid) - my0;
    cpu_times after = machine_cpu();
    r.busy = after.busy - before.busy;
    r.idle = after.idle - before.idle;
    r.iowait = after.iowait - before.iowait;
    return r;
}

/* The wall time, the ratio, and the CPU seconds: strata's (with SQLite,
 * which runs inside it), PostgreSQL's, MariaDB's, everything else on the
 * machine (other users' work too), and the share of the processors' time
 * left idle or waiting for the disk. */
static void print_result(const result *r, double loop_wall)
{
    double cores = (double)sysconf(_SC_NPROCESSORS_ONLN);
    double rest = r->busy - r->strata_cpu - r->pg_cpu - r->my_cpu;
    printf("%-27s %6.1f s %6.2fx  %6.1f %6.1f %6.1f %6.1f   %4.0f%% %4.0f%%\n", r->what, r->wall,
           loop_wall / r->wall, r->strata_cpu, r->pg_cpu, r->my_cpu, rest > 0 ? rest : 0,
           100.0 * r->idle / (r->wall * cores), 100.0 * r->iowait / (r->wall * cores));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    if (n < 4)
        n = 4;
    pg_base = getenv("STRATA_TEST_PG_URL");
    my_base = getenv("STRATA_TEST_MYSQL_URL");
    if (!pg_base || !my_base) {
        fprintf(stderr,
                "%s: needs STRATA_TEST_PG_URL and STRATA_TEST_MYSQL_URL "
                "(scripts/services.sh)\n",
                bench_name);
        return 2;
    }
    const char *b = getenv("STRATA_BIN");
    snprintf(strata_bin, sizeof strata_bin, "%s", b && *b ? b : STRATA_BUILD_DIR "/strata");
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/bench_fleet-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        bench_die("mkdtemp");
    char mdir[400];
    if (argc > 2) {
        snprintf(mdir, sizeof mdir, "%s", argv[2]);
    } else {
        snprintf(mdir, sizeof mdir, "%s/migrations", dir);
        write_migrations(mdir);
    }
    printf("%s: %d targets (%d PostgreSQL databases, %d PostgreSQL schemas, %d MariaDB "
           "databases, %d SQLite files), migrations of %s, %ld processors\n",
           bench_name, n, (n + 3) / 4, (n + 2) / 4, (n + 1) / 4, n / 4,
           argc > 2 ? argv[2] : "a generated set of 6", sysconf(_SC_NPROCESSORS_ONLN));
    find_servers();
    printf("%-27s %8s %7s  %-27s  %s\n", "", "", "", "---- CPU seconds ----", "processors");
    printf("%-27s %8s %7s  %6s %6s %6s %6s   %5s %5s\n", "run", "wall", "loop/", "strata", "pg",
           "maria", "other", "idle", "iowait");
    if (!pg_pid || !my_pid)
        printf("(pg and maria: 0 without STRATA_BENCH_SERVICES_DIR; they are in other)\n");

    char cmd[2048];
    /* the shell loop: one strata process per target */
    char **urls = make_targets(n, 0);
    snprintf(cmd, sizeof cmd,
             "while read -r url; do '%s' migrations run --database-url \"$url\" "
             "--migrations-dir '%s' >/dev/null 2>&1 || exit 1; done < '%s/targets'",
             strata_bin, mdir, dir);
    result loop = timed("shell loop (one at a time)", cmd);
    print_result(&loop, loop.wall);
    drop_targets(urls, n);

    int parallel[] = {1, 4, 16};
    result best = loop;
    for (int i = 0; i < 3; i++) {
        urls = make_targets(n, i + 1);
        snprintf(cmd, sizeof cmd,
                 "'%s' migrations run --targets '%s/targets' --parallel %d --migrations-dir '%s' "
                 ">/dev/null 2>&1",
                 strata_bin, dir, parallel[i], mdir);
        char what[64];
        snprintf(what, sizeof what, "fleet --parallel %d", parallel[i]);
        result r = timed(what, cmd);
        print_result(&r, loop.wall);
        if (r.wall < best.wall)
            best = r;
        if (i == 2) {
            /* every target up to date: a resumed or repeated run */
            result again = timed("fleet again (up to date)", cmd);
            print_result(&again, loop.wall);
        }
        drop_targets(urls, n);
    }
    printf("%s: the fleet is %.2fx the shell loop at its best (%s)\n", bench_name,
           loop.wall / best.wall, best.what);
    char rm[300];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    if (system(rm) != 0)
        fprintf(stderr, "%s: could not remove %s\n", bench_name, dir);
    return 0;
}
