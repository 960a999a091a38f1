/*
 * benchutil.c - see benchutil.h.
 */
#include "benchutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

double bench_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

void bench_die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", bench_name, what, strata_error_message());
    exit(1);
}

double bench_run(char *const argv[], const char *in, const char *out, int quiet, long *rss_kb)
{
    fflush(stdout);
    fflush(stderr);
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        if (in && !freopen(in, "r", stdin))
            _exit(127);
        if (!freopen(out ? out : "/dev/null", "w", stdout))
            _exit(127);
        if (quiet && !freopen("/dev/null", "w", stderr))
            _exit(127);
        execvp(argv[0], argv);
        fprintf(stderr, "%s: cannot run %s: %s\n", bench_name, argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) {
            perror("wait4");
            exit(1);
        }
    double secs = bench_now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s: %s %s %s failed (status %d); run it by hand to see why\n", bench_name,
                argv[0], argv[1] ? argv[1] : "", argv[1] && argv[2] ? argv[2] : "", status);
        exit(1);
    }
    if (rss_kb)
        *rss_kb = ru.ru_maxrss;
    return secs;
}

char *bench_create_db(strata_dialect d, const char *base, const char *dir, const char *name)
{
    char *url;
    if (d == STRATA_SQLITE) {
        if (asprintf(&url, "sqlite:%s/%s.db", dir, name) < 0)
            exit(1);
        unlink(url + 7);
        return url;
    }
    strata_conn *c;
    if (strata_conn_open(&c, base) != 0)
        bench_die("connect");
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
    strata_conn_exec(c, sql);
    snprintf(sql, sizeof sql,
             d == STRATA_MYSQL ? "CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin"
                               : "CREATE DATABASE %s",
             name);
    if (strata_conn_exec(c, sql) != 0)
        bench_die("create database");
    strata_conn_close(c);
    const char *slash = strchr(strstr(base, "://") + 3, '/');
    const char *q = strchr(slash, '?');
    if (asprintf(&url, "%.*s/%s%s", (int)(slash - base), base, name, q ? q : "") < 0)
        exit(1);
    return url;
}

void bench_drop_db(strata_dialect d, const char *base, const char *url)
{
    if (d == STRATA_SQLITE) {
        unlink(url + 7);
        char p[600];
        snprintf(p, sizeof p, "%s-strata-lock", url + 7);
        unlink(p);
        return;
    }
    const char *slash = strchr(strstr(url, "://") + 3, '/');
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %.*s", (int)strcspn(slash + 1, "?"),
             slash + 1);
    strata_conn *c;
    if (strata_conn_open(&c, base) != 0)
        return;
    strata_conn_exec(c, sql);
    strata_conn_close(c);
}

void bench_mariadb_args_from(const char *url, bench_mariadb_args *a)
{
    strata_url u;
    if (strata_url_parse(url, &u) != 0)
        bench_die("url");
    snprintf(a->host, sizeof a->host, "--host=%s", u.host ? u.host : "127.0.0.1");
    snprintf(a->port, sizeof a->port, "--port=%d", u.port ? u.port : 3306);
    snprintf(a->user, sizeof a->user, "--user=%s", u.user ? u.user : "root");
    snprintf(a->password, sizeof a->password, "--password=%s", u.password ? u.password : "");
    snprintf(a->database, sizeof a->database, "%s", u.database);
    strata_url_dispose(&u);
}
