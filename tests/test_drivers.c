/*
 * test_drivers.c - the driver layer on the three real databases: value
 * round-trips, parameter binding, transactions, server errors, quoting; and
 * URL parsing and masking offline.
 */
#include "testutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char *db_url;
static strata_conn *conn;

static int suite_init(void)
{
    db_url = test_fresh_database(test_dialect, "drivers");
    conn = test_connect(db_url);
    return conn ? 0 : 1;
}

static int suite_cleanup(void)
{
    strata_conn_close(conn);
    conn = NULL;
    test_drop_database(test_dialect, db_url);
    free(db_url);
    db_url = NULL;
    return 0;
}

/* Per-dialect DDL for a table holding every basic value kind. */
static const char *values_table_sql(void)
{
    switch (test_dialect) {
    case STRATA_POSTGRES:
        return "CREATE TABLE vals (id integer PRIMARY KEY, i64 bigint, i32 integer, t text, "
               "b bytea, flag boolean, ts timestamp(6), tstz timestamptz(6), d double precision, "
               "n numeric(20,6))";
    case STRATA_MYSQL:
        return "CREATE TABLE vals (id int PRIMARY KEY, i64 bigint, i32 int, t text, b longblob, "
               "flag tinyint(1), ts datetime(6), tstz datetime(6), d double, n decimal(20,6)) "
               "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin";
    case STRATA_SQLITE:
        return "CREATE TABLE vals (id integer PRIMARY KEY, i64 bigint, i32 integer, t text, "
               "b blob, flag boolean, ts timestamp, tstz timestamptz, d double, n numeric(20,6))";
    }
    return NULL;
}

static const char tricky_text[] = "it's a \"test\" \\ back\\slash \\' `tick` -- caf\xc3\xa9 "
                                  "\xe5\x90\x8d\xe5\x89\x8d \xf0\x9f\x98\x80 ? $1 %s";

static void test_server_info(void)
{
    CU_ASSERT_EQUAL(strata_conn_dialect(conn), test_dialect);
    CU_ASSERT(strlen(strata_conn_server_version(conn)) > 0);
    CU_ASSERT(strata_conn_server_version_num(conn) > 30000);
    unsigned caps = strata_conn_caps(conn);
    CU_ASSERT(caps & STRATA_CAP_DROP_COLUMN);
    if (test_dialect == STRATA_MYSQL) {
        CU_ASSERT(!(caps & STRATA_CAP_TRANSACTIONAL_DDL));
        CU_ASSERT(!(caps & STRATA_CAP_PARTIAL_INDEX));
    } else {
        CU_ASSERT(caps & STRATA_CAP_TRANSACTIONAL_DDL);
        CU_ASSERT(caps & STRATA_CAP_PARTIAL_INDEX);
    }
    CU_ASSERT_PTR_NULL(strstr(strata_conn_url_masked(conn), ":strata@"));
}

static void test_value_round_trip(void)
{
    if (test_exec(conn, values_table_sql()))
        return;
    unsigned char bytes[] = {0x00, 0x01, 0x27, 0x5c, 0x22, 0xff, 0x00, 0x80};
    strata_value row1[] = {
        strata_vint(1),
        strata_vint(INT64_MAX),
        strata_vint(INT32_MIN),
        strata_vtext(tricky_text),
        strata_vblob(bytes, sizeof bytes),
        strata_vbool(1),
        strata_vtext("2024-02-29 13:45:10.123456"),
        strata_vtext("1999-12-31 23:59:59.999999"),
        strata_vreal(0.1),
        strata_vtext("123456789.123456"),
    };
    strata_value row2[] = {
        strata_vint(2),         strata_vint(INT64_MIN),    strata_vint(INT32_MAX), strata_vtext(""),
        strata_vblob(bytes, 0), strata_vbool(0),           strata_vnull(),         strata_vnull(),
        strata_vreal(-1.5e300), strata_vtext("-0.000001"),
    };
    strata_value row3[10];
    row3[0] = strata_vint(3);
    for (int i = 1; i < 10; i++)
        row3[i] = strata_vnull();
    const char *ins = "INSERT INTO vals (id, i64, i32, t, b, flag, ts, tstz, d, n) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    int64_t affected = -1;
    CU_ASSERT_EQUAL(strata_conn_execp(conn, ins, row1, 10, &affected), 0);
    CU_ASSERT_EQUAL(affected, 1);
    CU_ASSERT_EQUAL(strata_conn_execp(conn, ins, row2, 10, NULL), 0);
    CU_ASSERT_EQUAL(strata_conn_execp(conn, ins, row3, 10, NULL), 0);

    /* Read back both through bound-parameter queries and plain ones. */
    for (int pass = 0; pass < 2; pass++) {
        strata_rows *rows = NULL;
        strata_value one = strata_vint(0);
        int rc = pass == 0 ? strata_conn_query(conn,
                                               "SELECT id, i64, i32, t, b, flag, ts, tstz, d, n "
                                               "FROM vals WHERE id > ? ORDER BY id",
                                               &one, 1, &rows)
                           : strata_conn_query(conn,
                                               "SELECT id, i64, i32, t, b, flag, ts, tstz, d, n "
                                               "FROM vals ORDER BY id",
                                               NULL, 0, &rows);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_EQUAL(strata_rows_ncols(rows), 10);
        CU_ASSERT_STRING_EQUAL(strata_rows_colname(rows, 3), "t");

        CU_ASSERT_EQUAL_FATAL(strata_rows_next(rows), 1);
        const strata_value *v = strata_rows_value(rows, 1);
        CU_ASSERT_EQUAL(v->type, STRATA_VINT);
        CU_ASSERT_EQUAL(v->i, INT64_MAX);
        CU_ASSERT_EQUAL(strata_rows_value(rows, 2)->i, INT32_MIN);
        v = strata_rows_value(rows, 3);
        CU_ASSERT_EQUAL(v->type, STRATA_VTEXT);
        CU_ASSERT_EQUAL(v->len, strlen(tricky_text));
        CU_ASSERT_STRING_EQUAL(v->s, tricky_text);
        v = strata_rows_value(rows, 4);
        CU_ASSERT_EQUAL(v->type, STRATA_VBLOB);
        CU_ASSERT_EQUAL(v->len, sizeof bytes);
        CU_ASSERT(v->len == sizeof bytes && memcmp(v->s, bytes, sizeof bytes) == 0);
        v = strata_rows_value(rows, 5);
        CU_ASSERT(v->type == STRATA_VBOOL || v->type == STRATA_VINT);
        CU_ASSERT_EQUAL(v->i, 1);
        CU_ASSERT_STRING_EQUAL(strata_rows_text(rows, 6), "2024-02-29 13:45:10.123456");
        const char *tz = strata_rows_text(rows, 7);
        CU_ASSERT_PTR_NOT_NULL(tz);
        if (tz)
            CU_ASSERT(strncmp(tz, "1999-12-31 23:59:59.999999", 26) == 0);
        v = strata_rows_value(rows, 8);
        CU_ASSERT_EQUAL(v->type, STRATA_VREAL);
        CU_ASSERT_DOUBLE_EQUAL(v->d, 0.1, 1e-15);
        /* SQLite stores numeric as REAL: exact to 15 significant digits. */
        CU_ASSERT_STRING_EQUAL(strata_rows_text(rows, 9), "123456789.123456");

        CU_ASSERT_EQUAL_FATAL(strata_rows_next(rows), 1);
        CU_ASSERT_EQUAL(strata_rows_value(rows, 1)->i, INT64_MIN);
        CU_ASSERT_EQUAL(strata_rows_value(rows, 2)->i, INT32_MAX);
        CU_ASSERT_STRING_EQUAL(strata_rows_text(rows, 3), "");
        CU_ASSERT_EQUAL(strata_rows_value(rows, 4)->len, 0);
        CU_ASSERT_EQUAL(strata_rows_value(rows, 5)->i, 0);
        CU_ASSERT_EQUAL(strata_rows_value(rows, 6)->type, STRATA_VNULL);
        CU_ASSERT_DOUBLE_EQUAL(strata_rows_value(rows, 8)->d, -1.5e300, 1e285);
        if (test_dialect == STRATA_SQLITE) {
            CU_ASSERT_DOUBLE_EQUAL(strata_rows_value(rows, 9)->d, -0.000001, 1e-20);
        } else {
            CU_ASSERT_STRING_EQUAL(strata_rows_text(rows, 9), "-0.000001");
        }

        CU_ASSERT_EQUAL_FATAL(strata_rows_next(rows), 1);
        for (size_t i = 1; i < 10; i++)
            CU_ASSERT_EQUAL(strata_rows_value(rows, i)->type, STRATA_VNULL);
        CU_ASSERT_PTR_NULL(strata_rows_text(rows, 3));
        CU_ASSERT_EQUAL(strata_rows_next(rows), 0);
        strata_rows_free(rows);
    }
}

static void test_parameter_binding(void)
{
    /* A `?` inside a string literal or identifier is not a placeholder. */
    strata_value p[] = {strata_vtext("x'y"), strata_vint(41)};
    strata_rows *rows = NULL;
    const char *sql = test_dialect == STRATA_MYSQL ? "SELECT '?' AS `a?`, ?, ? + 1"
                                                   : "SELECT '?' AS \"a?\", ?, ? + 1";
    if (test_dialect == STRATA_POSTGRES)
        sql = "SELECT '?' AS \"a?\", ?::text, ?::bigint + 1";
    CU_ASSERT_EQUAL_FATAL(strata_conn_query(conn, sql, p, 2, &rows), 0);
    CU_ASSERT_EQUAL(strata_rows_next(rows), 1);
    CU_ASSERT_STRING_EQUAL(strata_rows_text(rows, 0), "?");
    CU_ASSERT_STRING_EQUAL(strata_rows_colname(rows, 0), "a?");
    CU_ASSERT_STRING_EQUAL(strata_rows_text(rows, 1), "x'y");
    CU_ASSERT_EQUAL(strata_rows_value(rows, 2)->i, 42);
    strata_rows_free(rows);

    /* A wrong number of values is an error before the server sees it. */
    CU_ASSERT_NOT_EQUAL(strata_conn_query(conn, "SELECT ?, ?", p, 1, &rows), 0);
    CU_ASSERT_PTR_NULL(rows);

    /* Binding is not interpolation: an injection attempt is just data. */
    test_exec(conn, "CREATE TABLE people (name varchar(100))");
    strata_value evil = strata_vtext("x'); DROP TABLE people; --");
    CU_ASSERT_EQUAL(strata_conn_execp(conn, "INSERT INTO people (name) VALUES (?)", &evil, 1, NULL),
                    0);
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM people"), 1);
    char *name = NULL;
    CU_ASSERT_EQUAL(
        strata_conn_query_string(conn, "SELECT name FROM people WHERE name = ?", &evil, 1, &name),
        0);
    CU_ASSERT_PTR_NOT_NULL(name);
    if (name)
        CU_ASSERT_STRING_EQUAL(name, evil.s);
    free(name);
    int64_t affected = -1;
    strata_value none = strata_vtext("nobody");
    CU_ASSERT_EQUAL(
        strata_conn_execp(conn, "UPDATE people SET name = 'z' WHERE name = ?", &none, 1, &affected),
        0);
    CU_ASSERT_EQUAL(affected, 0);
}

static void test_transactions(void)
{
    test_exec(conn, "CREATE TABLE tx (n integer)");
    CU_ASSERT_EQUAL(strata_conn_begin(conn), 0);
    CU_ASSERT(strata_conn_in_transaction(conn));
    test_exec(conn, "INSERT INTO tx VALUES (1)");
    test_exec(conn, "INSERT INTO tx VALUES (2)");
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM tx"), 2);
    CU_ASSERT_EQUAL(strata_conn_rollback(conn), 0);
    CU_ASSERT(!strata_conn_in_transaction(conn));
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM tx"), 0);

    CU_ASSERT_EQUAL(strata_conn_begin(conn), 0);
    test_exec(conn, "INSERT INTO tx VALUES (3)");
    CU_ASSERT_EQUAL(strata_conn_commit(conn), 0);
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM tx"), 1);

    /* A second connection sees only committed rows. */
    strata_conn *other = test_connect(db_url);
    CU_ASSERT_PTR_NOT_NULL_FATAL(other);
    CU_ASSERT_EQUAL(strata_conn_begin(conn), 0);
    test_exec(conn, "INSERT INTO tx VALUES (4)");
    if (test_dialect != STRATA_SQLITE) /* SQLite's writer blocks readers' view only in WAL */
        CU_ASSERT_EQUAL(test_scalar_int(other, "SELECT count(*) FROM tx"), 1);
    CU_ASSERT_EQUAL(strata_conn_rollback(conn), 0);
    CU_ASSERT_EQUAL(test_scalar_int(other, "SELECT count(*) FROM tx"), 1);
    strata_conn_close(other);

    /* DDL rolls back where the database allows it. */
    if (strata_conn_caps(conn) & STRATA_CAP_TRANSACTIONAL_DDL) {
        CU_ASSERT_EQUAL(strata_conn_begin(conn), 0);
        test_exec(conn, "CREATE TABLE gone (n integer)");
        CU_ASSERT_EQUAL(strata_conn_rollback(conn), 0);
        CU_ASSERT_NOT_EQUAL(strata_conn_exec(conn, "SELECT * FROM gone"), 0);
    }
    /* Opening a second transaction is refused. */
    CU_ASSERT_EQUAL(strata_conn_begin(conn), 0);
    CU_ASSERT_EQUAL(strata_conn_begin(conn), STRATA_ESTATE);
    CU_ASSERT_EQUAL(strata_conn_rollback(conn), 0);
}

static void test_server_errors(void)
{
    int rc = strata_conn_exec(conn, "SELECT * FROM no_such_table_xyz");
    CU_ASSERT_EQUAL(rc, STRATA_EDB);
    const char *msg = strata_error_message();
    CU_ASSERT_STR_CONTAINS(msg, "no_such_table_xyz");
    switch (test_dialect) {
    case STRATA_POSTGRES:
        CU_ASSERT_STR_CONTAINS(msg, "does not exist");
        CU_ASSERT_STR_CONTAINS(msg, "42P01");
        break;
    case STRATA_MYSQL:
        CU_ASSERT_STR_CONTAINS(msg, "doesn't exist");
        CU_ASSERT_STR_CONTAINS(msg, "1146");
        break;
    case STRATA_SQLITE:
        CU_ASSERT_STR_CONTAINS(msg, "no such table");
        break;
    }
    strata_rows *rows = NULL;
    strata_value v = strata_vint(1);
    rc = strata_conn_query(conn, "SELECT nope_column FROM (SELECT ? AS x) t", &v, 1, &rows);
    CU_ASSERT_EQUAL(rc, STRATA_EDB);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "nope_column");
    /* A constraint violation carries the server's words too. */
    test_exec(conn, "CREATE TABLE uq (k integer PRIMARY KEY)");
    test_exec(conn, "INSERT INTO uq VALUES (1)");
    CU_ASSERT_EQUAL(strata_conn_exec(conn, "INSERT INTO uq VALUES (1)"), STRATA_EDB);
    const char *words = test_dialect == STRATA_POSTGRES ? "duplicate key"
                        : test_dialect == STRATA_MYSQL  ? "Duplicate entry"
                                                        : "UNIQUE constraint failed";
    CU_ASSERT_STR_CONTAINS(strata_error_message(), words);
    /* The connection stays usable after an error. */
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT count(*) FROM uq"), 1);
}

static void test_identifier_quoting(void)
{
    const char *names[] = {"order",   "user",   "group",      "select",
                           "we\"ird", "we`ird", "Mixed Case", "caf\xc3\xa9"};
    size_t n = sizeof names / sizeof names[0];
    for (size_t i = 0; i < n; i++) {
        char *t = strata_conn_quote_ident(conn, names[i]);
        char *c1 = strata_quote_ident(test_dialect, "check");
        char *c2 = strata_quote_ident(test_dialect, "default");
        char sql[512];
        snprintf(sql, sizeof sql, "CREATE TABLE %s (%s integer, %s varchar(20))", t, c1, c2);
        test_exec(conn, sql);
        snprintf(sql, sizeof sql, "INSERT INTO %s (%s, %s) VALUES (?, ?)", t, c1, c2);
        strata_value vals[] = {strata_vint((int64_t)i), strata_vtext(names[i])};
        CU_ASSERT_EQUAL(strata_conn_execp(conn, sql, vals, 2, NULL), 0);
        snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE %s = %zu", c2, t, c1, i);
        char *got = test_scalar(conn, sql);
        CU_ASSERT_PTR_NOT_NULL(got);
        if (got)
            CU_ASSERT_STRING_EQUAL(got, names[i]);
        free(got);
        snprintf(sql, sizeof sql, "DROP TABLE %s", t);
        test_exec(conn, sql);
        free(t);
        free(c1);
        free(c2);
    }
}

static void test_literal_quoting(void)
{
    const char *texts[] = {tricky_text, "", "\\", "'", "\\'", "a\\nb", "''''"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char *lit = strata_conn_quote_literal(conn, texts[i]);
        char sql[512];
        snprintf(sql, sizeof sql, "SELECT %s", lit);
        char *got = test_scalar(conn, sql);
        CU_ASSERT_PTR_NOT_NULL(got);
        if (got && strcmp(got, texts[i]) != 0)
            fprintf(stderr, "\n  literal %s came back as %s\n", lit, got);
        if (got)
            CU_ASSERT_STRING_EQUAL(got, texts[i]);
        free(got);
        free(lit);
    }
}

static void test_multi_statement_exec(void)
{
    test_exec(conn, "CREATE TABLE ms (n integer); INSERT INTO ms VALUES (1); "
                    "INSERT INTO ms VALUES (2)");
    CU_ASSERT_EQUAL(test_scalar_int(conn, "SELECT sum(n) FROM ms"), 3);
    /* An error in a later statement is reported. */
    CU_ASSERT_EQUAL(strata_conn_exec(conn, "INSERT INTO ms VALUES (3); SELECT * FROM nope_ms"),
                    STRATA_EDB);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "nope_ms");
    CU_ASSERT(test_scalar_int(conn, "SELECT 1") == 1);
}

/* ---- URLs (offline) ---- */

static void test_url_parse(void)
{
    strata_url u;
    CU_ASSERT_EQUAL_FATAL(
        strata_url_parse("postgres://us%40er:p%3Ass%2Fw@db.example:6543/my%20db?sslmode=disable",
                         &u),
        0);
    CU_ASSERT_EQUAL(u.dialect, STRATA_POSTGRES);
    CU_ASSERT_STRING_EQUAL(u.user, "us@er");
    CU_ASSERT_STRING_EQUAL(u.password, "p:ss/w");
    CU_ASSERT_STRING_EQUAL(u.host, "db.example");
    CU_ASSERT_EQUAL(u.port, 6543);
    CU_ASSERT_STRING_EQUAL(u.database, "my db");
    CU_ASSERT_STRING_EQUAL(u.params[0], "sslmode");
    CU_ASSERT_STRING_EQUAL(u.params[1], "disable");
    CU_ASSERT_PTR_NULL(u.params[2]);
    strata_url_dispose(&u);

    CU_ASSERT_EQUAL_FATAL(strata_url_parse("postgresql://localhost/app", &u), 0);
    CU_ASSERT_EQUAL(u.dialect, STRATA_POSTGRES);
    CU_ASSERT_PTR_NULL(u.user);
    CU_ASSERT_EQUAL(u.port, 0);
    strata_url_dispose(&u);

    CU_ASSERT_EQUAL_FATAL(strata_url_parse("mariadb://root@[::1]:3307/shop", &u), 0);
    CU_ASSERT_EQUAL(u.dialect, STRATA_MYSQL);
    CU_ASSERT_STRING_EQUAL(u.host, "::1");
    CU_ASSERT_EQUAL(u.port, 3307);
    CU_ASSERT_PTR_NULL(u.password);
    strata_url_dispose(&u);

    CU_ASSERT_EQUAL_FATAL(strata_url_parse("mysql://a:b@h/d", &u), 0);
    CU_ASSERT_EQUAL(u.dialect, STRATA_MYSQL);
    strata_url_dispose(&u);

    const char *sqlite_forms[][2] = {
        {"sqlite:./strata.db", "./strata.db"},     {"sqlite:/var/db/x.db", "/var/db/x.db"},
        {"sqlite:///abs/path.db", "/abs/path.db"}, {"sqlite://rel/path.db", "rel/path.db"},
        {"sqlite::memory:", ":memory:"},           {"sqlite:my%20file.db", "my file.db"},
    };
    for (size_t i = 0; i < sizeof sqlite_forms / sizeof sqlite_forms[0]; i++) {
        CU_ASSERT_EQUAL_FATAL(strata_url_parse(sqlite_forms[i][0], &u), 0);
        CU_ASSERT_EQUAL(u.dialect, STRATA_SQLITE);
        CU_ASSERT_STRING_EQUAL(u.database, sqlite_forms[i][1]);
        strata_url_dispose(&u);
    }

    const char *bad[] = {"",
                         "oracle://x/y",
                         "postgres://h:99999/db",
                         "postgres://h:12ab/db",
                         "postgres://h",
                         "mysql://u:p%zz@h/db",
                         "sqlite:",
                         "postgres://[::1/db"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(strata_url_parse(bad[i], &u), STRATA_EINPUT);
        CU_ASSERT(strlen(strata_error_message()) > 0);
    }
    /* A malformed URL's message never shows the password. */
    CU_ASSERT_EQUAL(strata_url_parse("postgres://u:topsecret@h:99999/db", &u), STRATA_EINPUT);
    CU_ASSERT_PTR_NULL(strstr(strata_error_message(), "topsecret"));
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "port");
}

static void test_url_mask(void)
{
    char *m = strata_url_mask("postgres://user:s3cr%40t@host:5432/db?x=1");
    CU_ASSERT_STRING_EQUAL(m, "postgres://user:****@host:5432/db?x=1");
    free(m);
    m = strata_url_mask("mysql://user@host/db");
    CU_ASSERT_STRING_EQUAL(m, "mysql://user@host/db");
    free(m);
    m = strata_url_mask("mysql://u:p@ss@host/db"); /* the last '@' ends the userinfo */
    CU_ASSERT_STRING_EQUAL(m, "mysql://u:****@host/db");
    free(m);
    m = strata_url_mask("sqlite:./x.db");
    CU_ASSERT_STRING_EQUAL(m, "sqlite:./x.db");
    free(m);
}

/* Malformed URLs of every shape (issue 11): the password is masked however
 * the userinfo is broken - an unencoded '/', '?' or '@' in it, one or no
 * slash after the scheme, an unknown scheme. */
static void test_url_mask_malformed(void)
{
    static const char *const urls[] = {
        "postgres://u:ab/S3cretPw@h/db", "postgres://u:ab?S3cretPw@h/db",
        "postgres:/u:S3cretPw@h/db",     "postgres:u:S3cretPw@h/db",
        "postgres:///u:S3cretPw@h/db",   "oracle://u:S3cretPw@h/db",
        "mysql://u:S3cret@Pw@h:3306/db", "MYSQL://u:S3cretPw@h/db?x=@",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char *m = strata_url_mask(urls[i]);
        if (strstr(m, "S3cret"))
            fprintf(stderr, "\n  %s masked as %s\n", urls[i], m);
        CU_ASSERT_PTR_NULL(strstr(m, "S3cret"));
        CU_ASSERT_STR_CONTAINS(m, "****");
        free(m);
        strata_url u;
        if (strata_url_parse(urls[i], &u) == 0)
            strata_url_dispose(&u);
        else
            CU_ASSERT_PTR_NULL(strstr(strata_error_message(), "S3cret"));
    }
}

/* strata_text_mask: every URL-like word of a text, wherever it stands. */
static void test_text_mask(void)
{
    static const char *const cases[][2] = {
        {"unknown command 'postgres://u:S3cretPw@h/db'",
         "unknown command 'postgres://u:****@h/db'"},
        {"unknown option '--databse-url=mysql://u:S3cret/Pw@h/db' (did you mean '--database-url'?)",
         "unknown option '--databse-url=mysql://u:****@h/db' (did you mean '--database-url'?)"},
        {"a postgres:u:S3cretPw@h/db b x://u:p@h", "a postgres:u:****@h/db b x://u:****@h"},
        {"mig/003_x.json:3:5: invalid JSON", "mig/003_x.json:3:5: invalid JSON"},
        {"table 'a:b@c' is unknown", "table 'a:b@c' is unknown"},
        {"sqlite:./a:b@c.db", "sqlite:./a:b@c.db"},
        {"already postgres://u:****@h/db", "already postgres://u:****@h/db"},
        /* a space or a quote in the password ends the word, not the URL */
        {"unknown command 'postgres://u:my S3cret@h/db'",
         "unknown command 'postgres://u:****@h/db'"},
        {"x mysql://u:it's@h/db y", "x mysql://u:****@h/db y"},
        {"a postgres://u:p b\nc@d", "a postgres://u:p b\nc@d"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *m = strata_text_mask(cases[i][0]);
        CU_ASSERT_STRING_EQUAL(m, cases[i][1]);
        free(m);
    }
}

/* URL parameters are checked per database: unknown or misspelt ones and
 * bad values are bad input; MySQL's names may use '_' for '-'; SQLite's
 * URL takes a query too; %00 is refused everywhere. */
static void test_url_params(void)
{
    static const char *const bad[][2] = {
        {"postgres://u:pw@h/db?bogus=1", "bogus"},
        {"postgres://u:pw@h/db?connect_timeout=abc", "connect_timeout"},
        {"postgres://u:pw@h/db?connect_timeout=-5", "connect_timeout"},
        {"postgres://u:pw@h/db?connect_timeout=0", "connect_timeout"},
        {"postgres://u:pw@h/db?sslmode=required", "sslmode"},
        {"postgres://u:pw@h/db?options=-c%20x%3Dy", "options"},
        {"postgres://u:pw@h/db?sslmode=disable&sslmode=require", "twice"},
        {"mysql://u:pw@h/db?sslmode=require", "ssl-mode"},
        {"mysql://u:pw@h/db?ssl-mode=SOMETIMES", "ssl-mode"},
        {"mysql://u:pw@h/db?connect_timeout=99999", "connect-timeout"},
        {"sqlite:./x.db?bogus=1", "bogus"},
        {"sqlite:./x.db?mode=rwx", "mode"},
        {"postgres://u:pw@h/db%00x", "%00"},
        {"postgres://u%00:pw@h/db", "%00"},
        {"sqlite:./a%00b.db", "%00"},
    };
    strata_url u;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = strata_url_parse(bad[i][0], &u);
        CU_ASSERT_EQUAL(rc, STRATA_EINPUT);
        if (rc == 0)
            strata_url_dispose(&u);
        else
            CU_ASSERT_STR_CONTAINS(strata_error_message(), bad[i][1]);
    }
    CU_ASSERT_EQUAL_FATAL(strata_url_parse("mysql://u:pw@h/db?SSL_MODE=required&ssl_ca=/c.pem", &u),
                          0);
    CU_ASSERT_STRING_EQUAL(u.params[0], "ssl-mode");
    CU_ASSERT_STRING_EQUAL(u.params[1], "required");
    CU_ASSERT_STRING_EQUAL(u.params[2], "ssl-ca");
    strata_url_dispose(&u);
    CU_ASSERT_EQUAL_FATAL(strata_url_parse("sqlite:./x%3Fy.db?mode=ro", &u), 0);
    CU_ASSERT_STRING_EQUAL(u.database, "./x?y.db");
    CU_ASSERT_STRING_EQUAL(u.params[0], "mode");
    strata_url_dispose(&u);
    CU_ASSERT_EQUAL_FATAL(
        strata_url_parse("postgres://u:pw@h/db?sslmode=verify-full&connect_timeout=5", &u), 0);
    strata_url_dispose(&u);
}

static void test_connect_errors(void)
{
    strata_conn *c = NULL;
    /* Nothing listens on port 1. */
    CU_ASSERT_EQUAL(strata_conn_open(&c, "postgres://u:pw1@127.0.0.1:1/db"), STRATA_ECONNECT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "127.0.0.1:1");
    CU_ASSERT_PTR_NULL(strstr(strata_error_message(), "pw1"));
    CU_ASSERT_EQUAL(strata_conn_open(&c, "mysql://u:pw2@127.0.0.1:1/db"), STRATA_ECONNECT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "127.0.0.1:1");
    CU_ASSERT_PTR_NULL(strstr(strata_error_message(), "pw2"));
    CU_ASSERT_EQUAL(strata_conn_open(&c, "sqlite:/nonexistent-dir/x/y.db"), STRATA_ECONNECT);
    CU_ASSERT_STR_CONTAINS(strata_error_message(), "/nonexistent-dir/x/y.db");
    CU_ASSERT_PTR_NULL(c);
}

static void test_wrong_password(void)
{
    if (test_dialect == STRATA_SQLITE)
        return; /* SQLite has no authentication */
    const char *base = test_base_url(test_dialect);
    CU_ASSERT_PTR_NOT_NULL_FATAL(base);
    char url[512];
    const char *at = strchr(base, '@');
    const char *colon = strchr(strstr(base, "://") + 3, ':');
    snprintf(url, sizeof url, "%.*s:wrongpass%s", (int)(colon - base), base, at);
    strata_conn *c = NULL;
    CU_ASSERT_EQUAL(strata_conn_open(&c, url), STRATA_ECONNECT);
    const char *msg = strata_error_message();
    CU_ASSERT_PTR_NULL(strstr(msg, "wrongpass"));
    CU_ASSERT_STR_CONTAINS(msg, test_dialect == STRATA_POSTGRES ? "password authentication failed"
                                                                : "Access denied");
}

/* `strata db ping`: one line, the server's words, exit 1 for connections
 * and 2 for usage, never the password. */
static void test_cli_ping(void)
{
    const char *base = test_base_url(test_dialect);
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "%s db ping --database-url '%s'", test_strata_bin(),
             test_dialect == STRATA_SQLITE ? "sqlite::memory:" : base);
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 0);
    CU_ASSERT_STR_CONTAINS(out, strata_dialect_name(test_dialect));
    CU_ASSERT_PTR_NULL(strstr(out ? out : "", ":strata@"));
    free(out);
    if (test_dialect == STRATA_SQLITE) {
        snprintf(cmd, sizeof cmd, "%s db ping --database-url sqlite:/nonexistent/d/x.db",
                 test_strata_bin());
        CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 1);
        CU_ASSERT_STR_CONTAINS(out, "/nonexistent/d/x.db");
        free(out);
        snprintf(cmd, sizeof cmd, "%s db ping --database-url 'oracle://u:hidden@h/d'",
                 test_strata_bin());
        CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 2);
        CU_ASSERT_STR_CONTAINS(out, "malformed database URL");
        CU_ASSERT_PTR_NULL(strstr(out ? out : "", "hidden"));
        free(out);
        return;
    }
    /* wrong password, missing database, nothing listening */
    const char *at = strchr(base, '@');
    const char *colon = strchr(strstr(base, "://") + 3, ':');
    const char *slash = strchr(at, '/');
    char url[1024];
    snprintf(url, sizeof url, "%.*s:badpw%s", (int)(colon - base), base, at);
    snprintf(cmd, sizeof cmd, "%s db ping --database-url '%s'", test_strata_bin(), url);
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 1);
    CU_ASSERT_PTR_NULL(strstr(out ? out : "", "badpw"));
    CU_ASSERT_STR_CONTAINS(out, test_dialect == STRATA_POSTGRES ? "password authentication failed"
                                                                : "Access denied");
    /* one line */
    int lines = 0;
    for (const char *p = out ? out : ""; *p; p++)
        lines += *p == '\n';
    CU_ASSERT_EQUAL(lines, 1);
    free(out);
    snprintf(url, sizeof url, "%.*s/no_such_db", (int)(slash - base), base);
    snprintf(cmd, sizeof cmd, "%s db ping --database-url '%s'", test_strata_bin(), url);
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 1);
    CU_ASSERT_STR_CONTAINS(out, "no_such_db");
    free(out);
    snprintf(cmd, sizeof cmd, "%s db ping --database-url '%s://u:pw@127.0.0.1:1/x'",
             test_strata_bin(), test_dialect == STRATA_POSTGRES ? "postgres" : "mysql");
    CU_ASSERT_EQUAL(test_run_cmd(cmd, &out), 1);
    CU_ASSERT_STR_CONTAINS(out, "127.0.0.1:1");
    free(out);
}

static const test_case driver_tests[] = {
    {"server version and capabilities", test_server_info},
    {"every value kind round-trips", test_value_round_trip},
    {"parameter binding", test_parameter_binding},
    {"rollback really rolls back", test_transactions},
    {"errors carry the server's message", test_server_errors},
    {"reserved and odd identifiers", test_identifier_quoting},
    {"string literals with quotes and backslashes", test_literal_quoting},
    {"multi-statement exec", test_multi_statement_exec},
    {"wrong password", test_wrong_password},
    {"strata db ping, good and bad", test_cli_ping},
    {NULL, NULL},
};

static const test_case url_tests[] = {
    {"URL parsing and percent-decoding", test_url_parse},
    {"URL masking", test_url_mask},
    {"URL masking of malformed URLs", test_url_mask_malformed},
    {"masking URLs in any text", test_text_mask},
    {"URL parameters checked per database", test_url_params},
    {"unreachable servers name host and port", test_connect_errors},
    {NULL, NULL},
};

int main(void)
{
    test_add_suite("urls", url_tests);
    test_add_dialect_suites("drivers", suite_init, suite_cleanup, driver_tests);
    return test_main();
}
