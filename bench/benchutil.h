/*
 * benchutil.h - what the benchmarks share: a wall clock, timed child
 * processes, throwaway databases on the test servers, and the mariadb
 * client's connection options.
 */
#ifndef STRATA_BENCHUTIL_H
#define STRATA_BENCHUTIL_H

#include "strata.h"

/* The benchmark's name, for messages ("bench_seed"). */
extern const char *bench_name;

double bench_now(void);

/* Print "<bench_name>: what: <strata's last error>" and exit 1. */
void bench_die(const char *what);

/* Run argv with stdin from `in` and stdout to `out` (NULL: /dev/null), and
 * stderr to /dev/null when `quiet`; return the wall time in seconds and,
 * when rss_kb is given, the child's peak resident memory. A failing command
 * ends the benchmark. */
double bench_run(char *const argv[], const char *in, const char *out, int quiet, long *rss_kb);

/* A new empty database `name` beside the one of `base` (SQLite: the file
 * DIR/NAME.db); returns its URL (caller frees). */
char *bench_create_db(strata_dialect d, const char *base, const char *dir, const char *name);

/* Drop a database made by bench_create_db (SQLite: its file and lock file). */
void bench_drop_db(strata_dialect d, const char *base, const char *url);

/* The mariadb client's --host, --port, --user, --password and the database
 * name for a mysql:// URL. */
typedef struct bench_mariadb_args {
    char host[300], port[32], user[300], password[300], database[300];
} bench_mariadb_args;
void bench_mariadb_args_from(const char *url, bench_mariadb_args *a);

#endif
