/*
 * database.c - the database a command works on. No silent default: when
 * no --database-url, STRATA_DATABASE_URL, DATABASE_URL (environment or
 * .env) or strata.json gives one, strata says on stderr which database it
 * uses and why, and under CI (the CI variable, which GitHub Actions,
 * GitLab CI and most others set) it refuses with exit 2 - a job that
 * forgot its variable must not change a stray local file.
 */
#include "cli.h"

#include <string.h>
#include <sys/stat.h>

/* 0 when the command may use o->database_url, else the exit status. */
static int database_allowed(cli_opts *o)
{
    if (!cli_database_is_default(o))
        return 0;
    if (cli_in_ci())
        return cli_input_error(o,
                               "no database given (no --database-url, DATABASE_URL or config) and "
                               "CI is set: refusing to use %s",
                               o->database_url);
    cli_progress_clear();
    fprintf(stderr, "strata: using %s (no --database-url, DATABASE_URL or config)\n",
            o->database_url);
    return 0;
}

/* Does the URL name a SQLite file that does not exist? */
static int sqlite_file_missing(const char *u)
{
    if (strncmp(u, "sqlite:", 7) != 0 || strcmp(u, "sqlite::memory:") == 0)
        return 0;
    strata_url url;
    if (strata_url_parse(u, &url) != 0)
        return 0;
    struct stat st;
    int missing = stat(url.database, &st) != 0;
    strata_url_dispose(&url);
    return missing;
}

int cli_open(cli_opts *o, int create, strata_conn **conn)
{
    *conn = NULL;
    int status = database_allowed(o);
    if (status)
        return status;
    if (!create && sqlite_file_missing(o->database_url))
        return 0;
    int rc = strata_conn_open(conn, o->database_url);
    return rc ? cli_fail(o, rc) : 0;
}
