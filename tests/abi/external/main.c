/*
 * main.c - a program that embeds libstrata, built outside the Strata tree
 * against the installed library only (tests/abi/external.sh builds it with
 * pkg-config and with find_package(strata)). It checks that the library it
 * runs with is the one its headers describe, opens sqlite::memory:, applies
 * a migration with options from STRATA_OPTIONS_INIT and a log callback, and
 * writes and reads rows through the API.
 *
 *   external MIGRATIONS_DIR
 */
#include <strata.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        const char *why = strata_error_message();
        fprintf(stderr, "external: FAILED: %s%s%s\n", what, *why ? ": " : "", why);
        failures++;
    }
}

static void on_log(strata_log_level level, const char *message, void *payload)
{
    int *lines = payload;
    (*lines)++;
    printf("  log: %s%s\n", level == STRATA_LOG_WARNING ? "warning: " : "", message);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: external MIGRATIONS_DIR\n");
        return 2;
    }
    check(strcmp(strata_version(), STRATA_VERSION) == 0, "strata_version() is STRATA_VERSION");
    check(strata_version_num() == STRATA_VERSION_NUM, "strata_version_num() is STRATA_VERSION_NUM");

    strata_conn *conn = NULL;
    if (strata_conn_open(&conn, "sqlite::memory:") != 0) {
        fprintf(stderr, "external: cannot open sqlite::memory:: %s\n", strata_error_message());
        return 1;
    }
    check(strata_conn_dialect(conn) == STRATA_SQLITE, "the dialect is SQLite");

    /* a query with bound parameters */
    strata_value sum[] = {strata_vint(40), strata_vint(2)};
    char *answer = NULL;
    check(strata_conn_query_string(conn, "SELECT ? + ?", sum, 2, &answer) == 0, "SELECT ? + ?");
    check(answer && strcmp(answer, "42") == 0, "40 + 2 is 42");
    free(answer);

    /* a migration, with versioned options and a log callback */
    int lines = 0;
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = argv[1];
    opt.log_cb = on_log;
    opt.log_payload = &lines;
    strata_report *report = NULL;
    check(strata_migrations_run(conn, &opt, &report) == 0, "migrations run");
    check(report && report->n == 1, "one migration applied");
    check(lines == 1, "one log line");
    strata_report_free(report);

    /* rows in and out of the migrated table */
    strata_value row[] = {strata_vint(1), strata_vtext("hello")};
    int64_t affected = 0;
    check(strata_conn_execp(conn, "INSERT INTO note (id, body) VALUES (?, ?)", row, 2, &affected) ==
              0,
          "insert a note");
    check(affected == 1, "one row inserted");
    strata_rows *rows = NULL;
    check(strata_conn_query(conn, "SELECT id, body FROM note", NULL, 0, &rows) == 0, "select");
    int n = 0;
    while (rows && strata_rows_next(rows) == 1) {
        check(strata_rows_value(rows, 0)->i == 1, "id 1");
        check(strcmp(strata_rows_text(rows, 1), "hello") == 0, "body hello");
        n++;
    }
    check(n == 1, "one note read back");
    strata_rows_free(rows);

    /* options from newer headers than the library are refused */
    opt.version = STRATA_OPTIONS_VERSION + 1;
    report = NULL;
    check(strata_migrations_status(conn, &opt, &report) == STRATA_EINPUT,
          "an unknown options version is refused");
    strata_report_free(report);
    strata_error_clear();

    strata_conn_close(conn);
    if (failures)
        return 1;
    printf("external: libstrata %s works\n", strata_version());
    return 0;
}
