/*
 * test_flags.c - feature flags, TypeORM history compatibility and adopting a
 * TypeORM database, on small migration sets of the test's own (no Medusa in
 * them: the engine knows nothing of any particular flag), through the real
 * `strata` binary on the three real databases.
 *
 * What must hold (docs/flags.md):
 *   - a migration with "when" applies only while its flags are on; a flag
 *     is off unless a file gives it "default": true or a setting turns it
 *     on (--flag, --no-flag, STRATA_FLAGS, MEDUSA_FF_<NAME>, later wins);
 *     files that disagree on a default are bad input;
 *   - a skipped migration is not recorded, is listed as skipped by show,
 *     sql and validate, and is not pending; turning its flag on later makes
 *     it pending, and it runs out of order without --allow-out-of-order,
 *     compiled against what the database holds (SQLite's table rebuild
 *     keeps a column a newer migration added); turning a flag off later is
 *     reported and reverts nothing;
 *   - "when" and "origin" are not part of the checksum;
 *   - --history-compat typeorm keeps TypeORM's table row for row, and needs
 *     an origin in every migration that applies, checked before anything
 *     changes; `migrations adopt --from typeorm` records what TypeORM's
 *     table names, matching rows by name, and lists the rows it cannot.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *db_url;
static char *mig_dir;

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

/* A fresh database and an empty migrations directory for one test. */
static int begin_test(const char *tag)
{
    db_url = test_fresh_database(test_dialect, tag);
    mig_dir = test_tempdir(tag);
    return db_url && mig_dir;
}

static void end_test(void)
{
    if (db_url)
        test_drop_database(test_dialect, db_url);
    if (mig_dir) {
        char *cmd = fmt("rm -rf '%s'", mig_dir);
        char *out = NULL;
        test_run_cmd(cmd, &out);
        free(out);
        free(cmd);
    }
    free(db_url);
    free(mig_dir);
    db_url = mig_dir = NULL;
}

static void write_migration(const char *stem, const char *json)
{
    char *path = fmt("%s/%s.json", mig_dir, stem);
    test_write_file(path, json);
    free(path);
}

/* `env ENV strata ARGS` on the test's database and migrations; output
 * (stdout and stderr) into *out when not NULL. */
static int strata_env(const char *env, char **out, const char *args)
{
    char *cmd = fmt("env %s '%s' --database-url '%s' --migrations-dir '%s' %s", env ? env : "",
                    test_strata_bin(), db_url, mig_dir, args);
    char *o = NULL;
    int st = test_run_cmd(cmd, &o);
    free(cmd);
    if (out)
        *out = o;
    else
        free(o);
    return st;
}

/* A command that must exit with `want`; its output (caller frees). */
static char *expect(int want, const char *env, const char *args)
{
    char *out = NULL;
    int st = strata_env(env, &out, args);
    if (st != want)
        fprintf(stderr, "\n  %s strata %s: exit %d, expected %d:\n%s\n", env ? env : "", args, st,
                want, out ? out : "");
    CU_ASSERT_EQUAL(st, want);
    return out;
}

static void expect_ok(const char *env, const char *args)
{
    free(expect(0, env, args));
}

/* The rows of `sql`, one line each, columns joined by '|' (caller frees). */
static char *rows_of(const char *sql)
{
    strata_conn *c = test_connect(db_url);
    if (!c)
        return strdup("(cannot connect)");
    strata_rows *rows = NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (strata_conn_query(c, sql, NULL, 0, &rows) == 0) {
        while (strata_rows_next(rows) == 1) {
            for (size_t i = 0; i < strata_rows_ncols(rows); i++) {
                const char *t = strata_rows_text(rows, i);
                fprintf(f, "%s%s", i ? "|" : "", t ? t : "NULL");
            }
            fputc('\n', f);
        }
        strata_rows_free(rows);
    } else {
        fprintf(f, "(query failed: %s)\n", strata_error_message());
    }
    fclose(f);
    strata_conn_close(c);
    return buf;
}

static void expect_rows(const char *sql, const char *want)
{
    char *got = rows_of(sql);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "\n  %s\n  gave:\n%s  expected:\n%s", sql, got, want);
    CU_ASSERT_STRING_EQUAL(got, want);
    free(got);
}

static const char *q(const char *pg_sqlite, const char *my)
{
    return test_dialect == STRATA_MYSQL ? my : pg_sqlite;
}

#define APPLIED             "SELECT id FROM strata_migrations WHERE state = 'applied' ORDER BY id"
#define TYPEORM_ROWS(quote) "SELECT " quote "timestamp" quote ", name FROM migrations ORDER BY id"

static const char *typeorm_rows(void)
{
    return q(TYPEORM_ROWS("\""), TYPEORM_ROWS("`"));
}

/* Does the database have table `name`? */
static int has_table(const char *name)
{
    strata_conn *c = test_connect(db_url);
    if (!c)
        return -1;
    char *sql = fmt(test_dialect == STRATA_POSTGRES
                        ? "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND "
                          "tablename = '%s'"
                    : test_dialect == STRATA_MYSQL
                        ? "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                          "DATABASE() AND table_name = '%s'"
                        : "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '%s'",
                    name);
    long long n = test_scalar_int(c, sql);
    free(sql);
    strata_conn_close(c);
    return n > 0;
}

/* Five migrations: flag a is on by default, b is off; 4 needs both. */
static void write_flagged_set(void)
{
    write_migration("001_base", "{\"up\": [{\"op\": \"create_table\", \"table\": \"t\", "
                                "\"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
                                "\"primary_key\": true}]}]}");
    write_migration("002_a", "{\"when\": {\"flag\": \"a\", \"default\": true}, \"up\": [{\"op\": "
                             "\"add_column\", \"table\": \"t\", \"column\": {\"name\": \"a\", "
                             "\"type\": \"integer\"}}]}");
    write_migration("003_b", "{\"when\": {\"flag\": \"b\"}, \"up\": [{\"op\": \"add_column\", "
                             "\"table\": \"t\", \"column\": {\"name\": \"b\", \"type\": "
                             "\"integer\"}}]}");
    write_migration("004_ab", "{\"when\": {\"flag\": [\"a\", \"b\"]}, \"up\": [{\"op\": "
                              "\"add_column\", \"table\": \"t\", \"column\": {\"name\": \"ab\", "
                              "\"type\": \"integer\"}}]}");
    write_migration("005_c", "{\"up\": [{\"op\": \"add_column\", \"table\": \"t\", \"column\": "
                             "{\"name\": \"c\", \"type\": \"integer\"}}]}");
}

static void test_flags_select(void)
{
    CU_ASSERT_FATAL(begin_test("flags"));
    write_flagged_set();
    char *out = expect(0, NULL, "migrations run");
    CU_ASSERT_STR_CONTAINS(out, "3 migrations applied");
    free(out);
    expect_rows(APPLIED, "001_base\n002_a\n005_c\n");
    /* skipped, not pending: show exits 0 */
    out = expect(0, NULL, "migrations show");
    CU_ASSERT_STR_CONTAINS(out, "[-] 003_b");
    CU_ASSERT_STR_CONTAINS(out, "skipped: flag b is off");
    CU_ASSERT_STR_CONTAINS(out, "[-] 004_ab");
    CU_ASSERT_STR_CONTAINS(out, "flags: a on, b off");
    free(out);
    out = expect(0, NULL, "migrations show --json");
    json_t *j = json_loads(out, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL(j);
    json_t *m3 = json_array_get(json_object_get(j, "migrations"), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(m3, "status")), "skipped");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(m3, "when")), "b");
    CU_ASSERT(json_is_false(json_object_get(json_object_get(j, "flags"), "b")));
    json_decref(j);
    free(out);
    out = expect(0, NULL, "migrations sql --dialect postgres");
    CU_ASSERT_STR_CONTAINS(out, "-- migration 003_b: skipped, flag b is off");
    free(out);
    out = expect(0, NULL, "migrations validate");
    CU_ASSERT_STR_CONTAINS(out, "3 migrations valid");
    CU_ASSERT_STR_CONTAINS(out, "2 skipped");
    free(out);

    /* b on later: 003 and 004 are pending and run out of order */
    out = expect(1, "STRATA_FLAGS=b", "migrations show");
    CU_ASSERT_STR_CONTAINS(out, "[ ] 003_b");
    free(out);
    out = expect(0, NULL, "migrations run --flag b");
    CU_ASSERT_STR_CONTAINS(out, "2 migrations applied");
    free(out);
    expect_rows(APPLIED, "001_base\n002_a\n003_b\n004_ab\n005_c\n");
    expect_ok(NULL, "migrations show --flag b");
    expect_ok(NULL, "db diff --flag b");

    /* a off later: reported, nothing reverted, nothing pending */
    out = expect(0, NULL, "migrations show --flag b --no-flag a");
    CU_ASSERT_STR_CONTAINS(out, "(flag a is off)");
    free(out);
    out = expect(0, NULL, "migrations run --no-flag a");
    CU_ASSERT_STR_CONTAINS(out, "is applied, but its flag 'a' is off");
    CU_ASSERT_STR_CONTAINS(out, "nothing to apply");
    free(out);
    expect_rows(APPLIED, "001_base\n002_a\n003_b\n004_ab\n005_c\n");
    expect_ok(NULL, "migrations revert --all");
    expect_rows(APPLIED, "");
    end_test();
}

/* Where a setting comes from, and which one wins. */
static void test_flags_settings(void)
{
    CU_ASSERT_FATAL(begin_test("flagset"));
    write_flagged_set();
    /* Medusa's variables: "true" in any case is on, anything else off */
    expect_ok("MEDUSA_FF_B=TRUE MEDUSA_FF_A=yes", "migrations run");
    expect_rows(APPLIED, "001_base\n003_b\n005_c\n");
    expect_ok(NULL, "migrations revert --all");
    /* STRATA_FLAGS over MEDUSA_FF_*, --flag over both */
    expect_ok("MEDUSA_FF_B=true STRATA_FLAGS=-b,a", "migrations run");
    expect_rows(APPLIED, "001_base\n002_a\n005_c\n");
    expect_ok(NULL, "migrations revert --all");
    expect_ok("STRATA_FLAGS=-b", "migrations run --flag b=true --no-flag a");
    expect_rows(APPLIED, "001_base\n003_b\n005_c\n");
    expect_ok(NULL, "migrations revert --all");
    /* bad settings are bad input, before anything changes */
    char *out = expect(2, NULL, "migrations run --flag 'b=maybe'");
    CU_ASSERT_STR_CONTAINS(out, "the value must be true or false");
    free(out);
    free(expect(2, "STRATA_FLAGS=a.b", "migrations run"));
    expect_rows(APPLIED, "");
    end_test();
}

/* Two files with different defaults for one flag are bad input, naming both. */
static void test_flags_default_conflict(void)
{
    CU_ASSERT_FATAL(begin_test("flagconf"));
    write_flagged_set();
    write_migration("006_b_on", "{\"when\": {\"flag\": \"b\", \"default\": true}, \"up\": "
                                "[{\"op\": \"add_column\", \"table\": \"t\", \"column\": "
                                "{\"name\": \"d\", \"type\": \"integer\"}}]}");
    write_migration("007_b_off", "{\"when\": {\"flag\": \"b\", \"default\": false}, \"up\": "
                                 "[{\"op\": \"add_column\", \"table\": \"t\", \"column\": "
                                 "{\"name\": \"e\", \"type\": \"integer\"}}]}");
    char *out = expect(2, NULL, "migrations run");
    CU_ASSERT_STR_CONTAINS(out, "flag 'b' has two defaults");
    CU_ASSERT_STR_CONTAINS(out, "006_b_on.json says true");
    CU_ASSERT_STR_CONTAINS(out, "007_b_off.json says false");
    free(out);
    CU_ASSERT_EQUAL(has_table("t"), 0);
    /* a malformed when names its path */
    write_migration("007_b_off", "{\"when\": {\"flags\": \"b\"}, \"up\": [{\"op\": "
                                 "\"drop_table\", \"table\": \"t\"}]}");
    out = expect(2, NULL, "migrations validate");
    CU_ASSERT_STR_CONTAINS(out, "when.flags: unknown key 'flags'");
    free(out);
    end_test();
}

/* A migration run out of order is compiled against what the database
 * holds: on SQLite, adding a check rebuilds the table, and the rebuilt
 * table keeps the column a newer, already applied migration added. */
static void test_flags_out_of_order_model(void)
{
    CU_ASSERT_FATAL(begin_test("flagorder"));
    write_migration("001_t", "{\"up\": [{\"op\": \"create_table\", \"table\": \"t\", "
                             "\"columns\": [{\"name\": \"id\", \"type\": \"integer\", "
                             "\"primary_key\": true}, {\"name\": \"n\", \"type\": "
                             "\"integer\"}]}]}");
    write_migration("002_check", "{\"when\": {\"flag\": \"strict\"}, \"up\": [{\"op\": "
                                 "\"add_check\", \"table\": \"t\", \"name\": \"t_n_positive\", "
                                 "\"check\": {\"column\": \"n\", \"gt\": 0}}]}");
    write_migration("003_late", "{\"up\": [{\"op\": \"add_column\", \"table\": \"t\", \"column\": "
                                "{\"name\": \"late\", \"type\": \"text\"}}, {\"op\": \"insert\", "
                                "\"table\": \"t\", \"rows\": [{\"id\": 1, \"n\": 5, \"late\": "
                                "\"kept\"}]}]}");
    expect_ok(NULL, "migrations run");
    expect_ok(NULL, "migrations run --flag strict");
    expect_rows("SELECT id, n, late FROM t", "1|5|kept\n");
    expect_ok(NULL, "db diff --flag strict");
    expect_ok(NULL, "migrations revert --all --flag strict");
    CU_ASSERT_EQUAL(has_table("t"), 0);
    end_test();
}

/* Adding "when" and "origin" to an applied file changes nothing. */
static void test_flags_checksum(void)
{
    CU_ASSERT_FATAL(begin_test("flagsum"));
    write_migration("001_base", "{\"description\": \"base\", \"up\": [{\"op\": \"create_table\", "
                                "\"table\": \"t\", \"columns\": [{\"name\": \"id\", \"type\": "
                                "\"integer\", \"primary_key\": true}]}]}");
    expect_ok(NULL, "migrations run");
    write_migration("001_base",
                    "{\"description\": \"base\", \"origin\": {\"typeorm\": \"base1700000000001\"}, "
                    "\"when\": {\"flag\": \"x\", \"default\": true},\n  \"up\": [{\"op\": "
                    "\"create_table\", \"table\": \"t\", \"columns\": [{\"name\": \"id\", "
                    "\"type\": \"integer\", \"primary_key\": true}]}]}");
    char *out = expect(0, NULL, "migrations show");
    CU_ASSERT_STR_CONTAINS(out, "[X] 001_base");
    free(out);
    expect_ok(NULL, "migrations validate");
    /* a change of meaning still shows */
    write_migration("001_base", "{\"description\": \"base\", \"origin\": {\"typeorm\": "
                                "\"base1700000000001\"}, \"up\": [{\"op\": \"create_table\", "
                                "\"table\": \"t\", \"columns\": [{\"name\": \"id\", \"type\": "
                                "\"bigint\", \"primary_key\": true}]}]}");
    out = expect(1, NULL, "migrations show");
    CU_ASSERT_STR_CONTAINS(out, "[!] 001_base");
    free(out);
    /* a TypeORM name must end in TypeORM's 13-digit timestamp */
    write_migration("002_bad", "{\"origin\": {\"typeorm\": \"bad123\"}, \"up\": [{\"op\": "
                               "\"drop_table\", \"table\": \"t\"}]}");
    out = expect(2, NULL, "migrations validate");
    CU_ASSERT_STR_CONTAINS(out, "origin.typeorm: TypeORM name 'bad123' must end in a 13-digit");
    free(out);
    end_test();
}

/* Three migrations named for TypeORM, the second behind flag f. */
static void write_typeorm_set(void)
{
    write_migration("1700000000001_one", "{\"origin\": {\"typeorm\": \"one1700000000001\"}, "
                                         "\"up\": [{\"op\": \"create_table\", \"table\": "
                                         "\"t\", \"columns\": [{\"name\": \"id\", \"type\": "
                                         "\"integer\", \"primary_key\": true}]}]}");
    write_migration("1700000000002_two", "{\"origin\": {\"typeorm\": \"Two1700000000002\"}, "
                                         "\"when\": {\"flag\": \"f\"}, \"up\": [{\"op\": "
                                         "\"add_column\", \"table\": \"t\", \"column\": "
                                         "{\"name\": \"two\", \"type\": \"integer\"}}]}");
    write_migration("1700000000003_three", "{\"origin\": {\"typeorm\": \"three1700000000003\"}, "
                                           "\"up\": [{\"op\": \"create_index\", \"table\": "
                                           "\"t\", \"name\": \"t_id\", \"columns\": [\"id\"]}, "
                                           "{\"op\": \"add_column\", \"table\": \"t\", "
                                           "\"column\": {\"name\": \"three\", \"type\": "
                                           "\"text\"}}]}");
}

static void test_compat_typeorm(void)
{
    CU_ASSERT_FATAL(begin_test("compat"));
    write_typeorm_set();
    expect_ok(NULL, "migrations run --history-compat typeorm");
    expect_rows(typeorm_rows(), "1700000000001|one1700000000001\n"
                                "1700000000003|three1700000000003\n");
    /* TypeORM's own key */
    if (test_dialect == STRATA_POSTGRES)
        expect_rows("SELECT conname FROM pg_constraint WHERE conrelid = 'migrations'::regclass",
                    "PK_8c82d7f526340ab734260ea46be\n");
    /* the flag on later: its row after the others, as TypeORM would add it */
    expect_ok(NULL, "migrations run --history-compat typeorm --flag f");
    expect_rows(typeorm_rows(), "1700000000001|one1700000000001\n"
                                "1700000000003|three1700000000003\n"
                                "1700000000002|Two1700000000002\n");
    /* revert removes the row, run puts it back */
    expect_ok(NULL, "migrations revert --history-compat typeorm --flag f");
    expect_rows(typeorm_rows(), "1700000000001|one1700000000001\n"
                                "1700000000002|Two1700000000002\n");
    expect_ok(NULL, "migrations run --history-compat typeorm --flag f");
    expect_rows(typeorm_rows(), "1700000000001|one1700000000001\n"
                                "1700000000002|Two1700000000002\n"
                                "1700000000003|three1700000000003\n");
    expect_ok(NULL, "migrations revert --all --history-compat typeorm --flag f");
    expect_rows(typeorm_rows(), "");
    end_test();
}

/* Applied before the option was given: the rows come when it is. */
static void test_compat_backfill(void)
{
    CU_ASSERT_FATAL(begin_test("compatfill"));
    write_typeorm_set();
    expect_ok(NULL, "migrations run");
    CU_ASSERT_EQUAL(has_table("migrations"), 0);
    expect_ok(NULL, "migrations run --history-compat typeorm");
    expect_rows(typeorm_rows(), "1700000000001|one1700000000001\n"
                                "1700000000003|three1700000000003\n");
    end_test();
}

/* Without an origin in a migration that applies: refused before anything. */
static void test_compat_needs_origin(void)
{
    CU_ASSERT_FATAL(begin_test("compatorig"));
    write_typeorm_set();
    write_migration("1700000000004_plain", "{\"up\": [{\"op\": \"drop_index\", \"table\": \"t\", "
                                           "\"name\": \"t_id\"}]}");
    char *out = expect(2, NULL, "migrations run --history-compat typeorm");
    CU_ASSERT_STR_CONTAINS(out, "needs \"origin\": {\"typeorm\": NAME}");
    CU_ASSERT_STR_CONTAINS(out, "1700000000004_plain.json");
    free(out);
    CU_ASSERT_EQUAL(has_table("t"), 0);
    CU_ASSERT_EQUAL(has_table("migrations"), 0);
    CU_ASSERT_EQUAL(has_table("strata_migrations"), 0);
    out = expect(2, NULL, "migrations run --history-compat flyway");
    CU_ASSERT_STR_CONTAINS(out, "unknown history compatibility 'flyway'");
    free(out);
    end_test();
}

/* A database whose only history is TypeORM's. */
static void test_adopt_typeorm(void)
{
    CU_ASSERT_FATAL(begin_test("adopt"));
    write_typeorm_set();
    char *out = expect(1, NULL, "migrations adopt --from typeorm");
    CU_ASSERT_STR_CONTAINS(out, "no TypeORM history table migrations");
    free(out);
    /* what TypeORM would have left: its table (with an extra row a plugin
     * wrote), the schema, no Strata history */
    expect_ok(NULL, "migrations run --history-compat typeorm --flag f");
    strata_conn *c = test_connect(db_url);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    test_exec(c, "DROP TABLE strata_migrations");
    test_exec(c, q("INSERT INTO migrations (\"timestamp\", name) VALUES (1690000000000, "
                   "'pluginThing1690000000000')",
                   "INSERT INTO migrations (`timestamp`, name) VALUES (1690000000000, "
                   "'pluginThing1690000000000')"));
    strata_conn_close(c);
    free(expect(1, NULL, "migrations show --flag f"));

    out = expect(0, NULL, "migrations adopt --from typeorm --dry-run --flag f");
    CU_ASSERT_STR_CONTAINS(out, "3 migrations would be adopted");
    free(out);
    CU_ASSERT_EQUAL(has_table("strata_migrations"), 0);
    out = expect(0, NULL, "migrations adopt --from typeorm --json --flag f");
    json_t *j = json_loads(strchr(out, '{'), 0, NULL);
    CU_ASSERT_PTR_NOT_NULL(j);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "adopted")), 3);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(j, "unmatched"), 0)),
                           "1690000000000 pluginThing1690000000000");
    json_decref(j);
    free(out);
    expect_rows(APPLIED, "1700000000001_one\n1700000000002_two\n1700000000003_three\n");
    out = expect(0, NULL, "migrations show --flag f");
    CU_ASSERT(strstr(out, "[ ]") == NULL && strstr(out, "[!]") == NULL);
    free(out);
    expect_ok(NULL, "db diff --flag f");
    /* db pull leaves TypeORM's table out too */
    out = expect(0, NULL, "db pull 2>/dev/null");
    CU_ASSERT_STR_CONTAINS(out, "\"t\"");
    CU_ASSERT(out && strstr(out, "\"migrations\"") == NULL);
    free(out);
    /* again: nothing new */
    out = expect(0, NULL, "migrations adopt --from typeorm --flag f");
    CU_ASSERT_STR_CONTAINS(out, "0 migrations adopted");
    CU_ASSERT_STR_CONTAINS(out, "1 row matched no migration file");
    free(out);
    /* f off: the adopted 002 stays applied, with a warning */
    out = expect(0, NULL, "migrations show");
    CU_ASSERT_STR_CONTAINS(out, "[X] 1700000000002_two");
    free(out);
    free(expect(2, NULL, "migrations adopt --from liquibase"));
    end_test();
}

/* Six migrations of twelve schema changes each, named for TypeORM. */
static void write_slow_set(void)
{
    for (int m = 1; m <= 6; m++) {
        char stem[64], body[8192];
        snprintf(stem, sizeof stem, "170000000000%d_step%d", m, m);
        int n = snprintf(body, sizeof body,
                         "{\"origin\": {\"typeorm\": \"step%d170000000000%d\"}, \"up\": [", m, m);
        if (m == 1)
            n += snprintf(body + n, sizeof body - (size_t)n,
                          "{\"op\": \"create_table\", \"table\": \"s\", \"columns\": "
                          "[{\"name\": \"id\", \"type\": \"integer\", \"primary_key\": "
                          "true}]}, ");
        for (int k = 0; k < 12; k++)
            n += snprintf(body + n, sizeof body - (size_t)n,
                          "%s{\"op\": \"add_column\", \"table\": \"s\", \"column\": "
                          "{\"name\": \"c%d_%d\", \"type\": \"integer\"}}",
                          k ? ", " : "", m, k);
        snprintf(body + n, sizeof body - (size_t)n, "]}");
        write_migration(stem, body);
    }
}

/* A run killed at any moment, then run again: TypeORM's table lists
 * exactly the migrations Strata's history has applied, in order (on MySQL
 * the row goes in with the write that marks a migration applied after its
 * last op; a killed migration is finished or undone by the next run). */
static void test_compat_killed(void)
{
    CU_ASSERT_FATAL(begin_test("compatkill"));
    write_slow_set();
    double t0 = now_s();
    expect_ok(NULL, "migrations run --history-compat typeorm");
    double full = now_s() - t0;
    expect_ok(NULL, "migrations revert --all --history-compat typeorm");
    const char *want = "step11700000000001\nstep21700000000002\nstep31700000000003\n"
                       "step41700000000004\nstep51700000000005\nstep61700000000006\n";
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    for (int trial = 0; trial < 6; trial++) {
        char *cmd = fmt("exec '%s' migrations run --history-compat typeorm --database-url '%s' "
                        "--migrations-dir '%s' >/dev/null 2>&1",
                        test_strata_bin(), db_url, mig_dir);
        pid_t pid = fork();
        if (pid == 0) {
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
            _exit(127);
        }
        free(cmd);
        usleep((useconds_t)(full * 1e6 * (rand() % 1000) / 1000.0));
        kill(pid, SIGKILL);
        int st = 0;
        waitpid(pid, &st, 0);
        /* whatever the kill hit, the rows match Strata's applied migrations */
        char *rows = rows_of("SELECT name FROM migrations ORDER BY id");
        char *applied = rows_of("SELECT count(*) FROM strata_migrations WHERE state = 'applied'");
        int lines = 0;
        for (const char *p = rows; p && *p; p++)
            lines += *p == '\n';
        if (strncmp(rows, "(query failed", 13) != 0) {
            if (lines != atoi(applied))
                fprintf(stderr, "\n  seed %u, trial %d: TypeORM's rows:\n%s  applied: %s", seed,
                        trial, rows, applied);
            CU_ASSERT_EQUAL(lines, atoi(applied));
            CU_ASSERT(strncmp(want, rows, strlen(rows)) == 0);
        }
        free(rows);
        free(applied);
        expect_ok(NULL, "migrations run --history-compat typeorm");
        expect_rows("SELECT name FROM migrations ORDER BY id", want);
        expect_ok(NULL, "migrations revert --all --history-compat typeorm");
        expect_rows("SELECT name FROM migrations ORDER BY id", "");
    }
    end_test();
}

static int suite_init(void)
{
    return 0;
}

static int suite_cleanup(void)
{
    return 0;
}

static const test_case flag_tests[] = {
    {"flags choose what applies; later on, out of order; off, reported", test_flags_select},
    {"flag settings: MEDUSA_FF_*, STRATA_FLAGS, --flag, --no-flag", test_flags_settings},
    {"two defaults for one flag are bad input", test_flags_default_conflict},
    {"out of order, compiled against what the database holds", test_flags_out_of_order_model},
    {"when and origin are not part of the checksum", test_flags_checksum},
    {"--history-compat typeorm keeps TypeORM's table", test_compat_typeorm},
    {"--history-compat typeorm fills in what was applied before", test_compat_backfill},
    {"--history-compat typeorm needs an origin everywhere", test_compat_needs_origin},
    {"adopt --from typeorm", test_adopt_typeorm},
    {"--history-compat typeorm: killed anywhere, the rows stay right", test_compat_killed},
    {NULL, NULL},
};

int main(void)
{
    test_add_dialect_suites("flags", suite_init, suite_cleanup, flag_tests);
    return test_main();
}
