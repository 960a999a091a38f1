/*
 * common.c - what the three dialect compilers share: statement lists,
 * targets, literal values with the seed format's type conversions,
 * predicates, checks, column types and defaults, and the dispatch of
 * compile_op() to the dialect's own compiler.
 */
#include "compile.h"
#include "sqlgen.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- statement lists ---- */

void stmt_list_free(stmt_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].sql);
        free(l->v[i].message);
        free(l->v[i].guard);
        free(l->v[i].cleanup);
        free(l->v[i].cleanup_guard);
        free(l->v[i].table);
        strvec_free(&l->v[i].model_indexes);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static stmt *stmt_push(stmt_list *l)
{
    l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof *l->v);
    stmt *s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    return s;
}

void stmt_add_owned(stmt_list *l, unsigned flags, char *sql)
{
    stmt *s = stmt_push(l);
    s->kind = STMT_SQL;
    s->flags = flags;
    s->sql = sql;
}

void stmt_add(stmt_list *l, unsigned flags, const char *sql)
{
    stmt_add_owned(l, flags, xstrdup(sql));
}

void stmt_add_assert(stmt_list *l, char *query, char *message)
{
    stmt *s = stmt_push(l);
    s->kind = STMT_ASSERT_EMPTY;
    s->sql = query;
    s->message = message;
}

void stmt_add_if_row(stmt_list *l, unsigned flags, char *guard, char *sql, char *message)
{
    stmt *s = stmt_push(l);
    s->kind = STMT_SQL_IF_ROW;
    s->flags = flags;
    s->guard = guard;
    s->sql = sql;
    s->message = message;
}

void stmt_add_copy(stmt_list *l, const stmt *from)
{
    stmt *s = stmt_push(l);
    s->kind = from->kind;
    s->flags = from->flags;
    s->sql = from->sql ? xstrdup(from->sql) : NULL;
    s->message = from->message ? xstrdup(from->message) : NULL;
    s->guard = from->guard ? xstrdup(from->guard) : NULL;
    s->cleanup = from->cleanup ? xstrdup(from->cleanup) : NULL;
    s->cleanup_guard = from->cleanup_guard ? xstrdup(from->cleanup_guard) : NULL;
    s->table = from->table ? xstrdup(from->table) : NULL;
    for (size_t i = 0; i < from->model_indexes.n; i++)
        strvec_push(&s->model_indexes, from->model_indexes.v[i]);
}

void stmt_set_cleanup(stmt_list *l, char *guard, char *cleanup)
{
    stmt *s = &l->v[l->n - 1];
    free(s->cleanup_guard);
    free(s->cleanup);
    s->cleanup_guard = guard;
    s->cleanup = cleanup;
}

void stmt_add_save_deps(stmt_list *l, const char *table, const strvec *model_indexes)
{
    stmt *s = stmt_push(l);
    s->kind = STMT_SQLITE_SAVE_DEPS;
    s->flags = STMT_FK_OFF;
    s->table = xstrdup(table);
    for (size_t i = 0; i < model_indexes->n; i++)
        strvec_push(&s->model_indexes, model_indexes->v[i]);
}

void stmt_add_restore_deps(stmt_list *l, const char *table)
{
    stmt *s = stmt_push(l);
    s->kind = STMT_SQLITE_RESTORE_DEPS;
    s->flags = STMT_FK_OFF;
    s->table = xstrdup(table);
}

int stmt_list_needs_fk_off(const stmt_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].flags & STMT_FK_OFF)
            return 1;
    return 0;
}

int stmt_list_needs_no_tx(const stmt_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].flags & STMT_NO_TX)
            return 1;
    return 0;
}

void stmt_list_render(const stmt_list *l, strata_dialect d, sbuf *out)
{
    (void)d;
    for (size_t i = 0; i < l->n; i++) {
        const stmt *s = &l->v[i];
        switch (s->kind) {
        case STMT_SQL:
            sbuf_add(out, s->sql);
            sbuf_add(out, ";\n");
            if (s->cleanup)
                sbuf_addf(out, "-- strata: if it fails: %s;\n", s->cleanup);
            break;
        case STMT_SQL_IF_ROW:
            sbuf_addf(out, "-- strata: when %s: %s;\n", s->message, s->sql);
            break;
        case STMT_ASSERT_EMPTY:
            sbuf_addf(out, "-- strata: the next query must return no row, else: %s\n-- %s;\n",
                      s->message, s->sql);
            break;
        case STMT_SQLITE_SAVE_DEPS:
            sbuf_addf(out,
                      "-- strata: save and drop the views and triggers that mention \"%s\" "
                      "(recreated after the rebuild)\n",
                      s->table);
            break;
        case STMT_SQLITE_RESTORE_DEPS:
            sbuf_addf(out, "-- strata: recreate the saved views and triggers of \"%s\"\n",
                      s->table);
            break;
        }
    }
}

const char *tx_begin_sql(strata_dialect d)
{
    return d == STRATA_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN";
}

const char *fk_enforcement_sql(strata_dialect d, int on)
{
    if (d != STRATA_SQLITE)
        return NULL;
    return on ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF";
}

const char *fk_violation_query(strata_dialect d)
{
    return d == STRATA_SQLITE ? "SELECT 1 FROM pragma_foreign_key_check LIMIT 1" : NULL;
}

const char *fk_scope_query(strata_dialect d)
{
    return d == STRATA_SQLITE
               ? "SELECT \"name\" FROM \"sqlite_schema\" WHERE \"type\" = 'table' AND "
                 "(\"name\" = ?1 OR EXISTS (SELECT 1 FROM "
                 "pragma_foreign_key_list(\"name\") WHERE \"table\" = ?1 COLLATE "
                 "NOCASE))"
               : NULL;
}

const char *fk_table_violation_query(strata_dialect d)
{
    return d == STRATA_SQLITE ? "SELECT 1 FROM pragma_foreign_key_check(?) LIMIT 1" : NULL;
}

/* Captured from TypeORM 0.3.20 (the release Medusa 1.20 runs) creating its
 * table on PostgreSQL 15, MariaDB 10.11 and SQLite (better-sqlite3): the
 * same names, types and key, so TypeORM itself reads it as its own. The
 * PostgreSQL key's name is TypeORM's default naming, "PK_" and the first 27
 * hex digits of sha1("migrations_id"). */
const char *typeorm_history_table_sql(strata_dialect d)
{
    switch (d) {
    case STRATA_POSTGRES:
        return "CREATE TABLE \"migrations\" (\"id\" SERIAL NOT NULL, \"timestamp\" bigint NOT "
               "NULL, \"name\" character varying NOT NULL, CONSTRAINT "
               "\"PK_8c82d7f526340ab734260ea46be\" PRIMARY KEY (\"id\"))";
    case STRATA_MYSQL:
        return "CREATE TABLE `migrations` (`id` int NOT NULL AUTO_INCREMENT, `timestamp` bigint "
               "NOT NULL, `name` varchar(255) NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB";
    case STRATA_SQLITE:
        return "CREATE TABLE \"migrations\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "
               "\"timestamp\" bigint NOT NULL, \"name\" varchar NOT NULL)";
    }
    return NULL;
}

/* The database clock in milliseconds since the epoch, as SQL (the lock's
 * lease is kept on the database's own clock, not the client's). */
const char *clock_ms_sql(strata_dialect d)
{
    switch (d) {
    case STRATA_POSTGRES:
        return "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";
    case STRATA_MYSQL:
        return "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)";
    case STRATA_SQLITE:
        break;
    }
    return "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
}

/* ---- targets ---- */

compile_target compile_target_default(strata_dialect d)
{
    compile_target t;
    memset(&t, 0, sizeof t);
    t.dialect = d;
    switch (d) {
    case STRATA_POSTGRES:
        t.version = 150000;
        t.caps = STRATA_CAP_TRANSACTIONAL_DDL | STRATA_CAP_PARTIAL_INDEX |
                 STRATA_CAP_RENAME_COLUMN | STRATA_CAP_DROP_COLUMN | STRATA_CAP_ENFORCED_CHECK |
                 STRATA_CAP_EXPR_DEFAULT | STRATA_CAP_ENUM_TYPE | STRATA_CAP_ADVISORY_LOCK |
                 STRATA_CAP_ALTER_ADD_CONSTRAINT | STRATA_CAP_RETURNING |
                 STRATA_CAP_DROP_INDEX_IF_EXISTS | STRATA_CAP_ENUM_ADD_VALUE_IN_TX;
        break;
    case STRATA_MYSQL:
        t.version = 101100;
        t.is_mariadb = 1;
        t.caps = STRATA_CAP_DROP_COLUMN | STRATA_CAP_ADVISORY_LOCK |
                 STRATA_CAP_ALTER_ADD_CONSTRAINT | STRATA_CAP_RENAME_COLUMN |
                 STRATA_CAP_ENFORCED_CHECK | STRATA_CAP_EXPR_DEFAULT | STRATA_CAP_INVISIBLE_COLUMN |
                 STRATA_CAP_RETURNING | STRATA_CAP_DROP_INDEX_IF_EXISTS;
        break;
    case STRATA_SQLITE:
        t.version = 34001;
        t.caps = STRATA_CAP_TRANSACTIONAL_DDL | STRATA_CAP_PARTIAL_INDEX |
                 STRATA_CAP_ENFORCED_CHECK | STRATA_CAP_EXPR_DEFAULT |
                 STRATA_CAP_DROP_INDEX_IF_EXISTS | STRATA_CAP_RENAME_COLUMN |
                 STRATA_CAP_DROP_COLUMN | STRATA_CAP_RETURNING;
        break;
    }
    return t;
}

/* ---- errors ---- */

int cerr(const cctx *c, const char *fmt, ...)
{
    sbuf b = SBUF_INIT;
    sbuf_addf(&b, "%s: %s (%s): %s: ", c->actx && c->actx->file ? c->actx->file : "(migration)",
              c->o && c->o->path ? c->o->path : "?", c->o ? op_names[c->o->kind] : "?",
              strata_dialect_name(c->d));
    va_list ap;
    va_start(ap, fmt);
    sbuf_vaddf(&b, fmt, ap);
    va_end(ap);
    strata_set_error(STRATA_EINPUT, "%s", sbuf_str(&b));
    sbuf_free(&b);
    return STRATA_EINPUT;
}

/* ---- identifiers ---- */

void qid(sbuf *b, const cctx *c, const char *name)
{
    quote_ident_into(b, c->d, name);
}

void qstr(sbuf *b, const cctx *c, const char *text)
{
    quote_literal_into(b, c->d, text, strlen(text));
}

void qid_list(sbuf *b, const cctx *c, const char *const *names, size_t n)
{
    quote_ident_list_into(b, c->d, names, n);
}

void render_index_cols(sbuf *b, const cctx *c, const index_def *ix)
{
    for (size_t i = 0; i < ix->ncols; i++) {
        if (i)
            sbuf_add(b, ", ");
        qid(b, c, ix->cols[i].name);
        if (ix->cols[i].desc)
            sbuf_add(b, " DESC");
    }
}

void render_fk_clause(sbuf *b, const cctx *c, const fk_def *fk)
{
    sbuf_add(b, "CONSTRAINT ");
    qid(b, c, fk->name);
    sbuf_add(b, " FOREIGN KEY (");
    qid_list(b, c, (const char *const *)fk->cols.v, fk->cols.n);
    sbuf_add(b, ") REFERENCES ");
    qid(b, c, fk->ref_table);
    sbuf_add(b, " (");
    qid_list(b, c, (const char *const *)fk->ref_cols.v, fk->ref_cols.n);
    sbuf_addc(b, ')');
    render_fk_actions(b, fk);
}

void render_pk_clause(sbuf *b, const cctx *c, const table *t)
{
    sbuf_add(b, "CONSTRAINT ");
    qid(b, c, t->pk_name);
    sbuf_add(b, " PRIMARY KEY (");
    qid_list(b, c, (const char *const *)t->pk.v, t->pk.n);
    sbuf_addc(b, ')');
}

void render_unique_clause(sbuf *b, const cctx *c, const index_def *ix)
{
    sbuf_add(b, "CONSTRAINT ");
    qid(b, c, ix->name);
    sbuf_add(b, " UNIQUE (");
    render_index_cols(b, c, ix);
    sbuf_addc(b, ')');
}

int render_check_clause(sbuf *b, const cctx *c, const table *t, const check_def *ck)
{
    sbuf_add(b, "CONSTRAINT ");
    qid(b, c, ck->name);
    sbuf_add(b, " CHECK (");
    int rc = render_check(b, c, t, ck->check);
    sbuf_addc(b, ')');
    return rc;
}

void render_fk_actions(sbuf *b, const fk_def *fk)
{
    static const char *const actions[] = {NULL, "RESTRICT", "CASCADE", "SET NULL"};
    if (fk->on_delete != FK_NO_ACTION)
        sbuf_addf(b, " ON DELETE %s", actions[fk->on_delete]);
    if (fk->on_update != FK_NO_ACTION)
        sbuf_addf(b, " ON UPDATE %s", actions[fk->on_update]);
}

/* ---- statements shared by the ALTER TABLE dialects (PostgreSQL, MySQL) ---- */

/*
 * MySQL/MariaDB check a new foreign key against the rows by copying the
 * whole table (ALGORITHM=COPY) unless foreign_key_checks is off, when the
 * key is added in place (no copy; only a missing index is built). So the
 * check is made here instead, by one query that finds a row whose columns
 * (all non-NULL, as MATCH SIMPLE) match no row of the referenced table,
 * and the key is added with the checks off for that one statement, the
 * session's setting restored after it whatever happens. The guarantee is
 * the same for the rows there when the query runs; rows another session
 * writes between the query and the ALTER are not checked (as they would
 * not be by a copy that started before them either: a migration assumes
 * no concurrent writes to the tables it changes). A table this migration
 * made and filled with nothing needs no query. A key over a base column of
 * a STORED column (a partial unique index's helpers) is added by the copy,
 * with the checks on: InnoDB refuses it in place (mysql_fk_base_of_stored).
 */
/* See sqlgen.h. */
char *fk_orphan_query(const cctx *c, const char *table_name, const fk_def *fk, int show,
                      const char *child, const char *parent, const char *as)
{
    sbuf q = SBUF_INIT;
    sbuf_add(&q, "SELECT ");
    for (size_t i = 0; show && i < fk->cols.n; i++) {
        sbuf_addf(&q, "%s%s.", i ? ", " : "", child);
        qid(&q, c, fk->cols.v[i]);
    }
    sbuf_add(&q, show ? " FROM " : "1 FROM ");
    qid(&q, c, table_name);
    sbuf_addf(&q, "%s%s WHERE ", as, child);
    for (size_t i = 0; i < fk->cols.n; i++) {
        sbuf_addf(&q, "%s.", child);
        qid(&q, c, fk->cols.v[i]);
        sbuf_add(&q, " IS NOT NULL AND ");
    }
    sbuf_add(&q, "NOT EXISTS (SELECT 1 FROM ");
    qid(&q, c, fk->ref_table);
    sbuf_addf(&q, "%s%s WHERE ", as, parent);
    for (size_t i = 0; i < fk->cols.n && i < fk->ref_cols.n; i++) {
        sbuf_addf(&q, "%s%s.", i ? " AND " : "", parent);
        qid(&q, c, fk->ref_cols.v[i]);
        sbuf_addf(&q, " = %s.", child);
        qid(&q, c, fk->cols.v[i]);
    }
    sbuf_add(&q, ") LIMIT 1");
    return sbuf_detach(&q);
}

static void mysql_fk_check(const cctx *c, const char *table_name, const fk_def *fk)
{
    const table *t = find_table(c, table_name);
    if (t && t->created_in == c->s->migration_index && !t->has_rows)
        return;
    /* the column add_column has just added holds its default, NULL */
    const column *added = c->o->kind == OP_ADD_COLUMN ? c->o->col : NULL;
    if (added && fk->cols.n == 1 && !strcmp(fk->cols.v[0], added->name) &&
        (added->def.kind == DEF_NONE ||
         (added->def.kind == DEF_LITERAL && json_is_null(added->def.literal))))
        return;
    stmt_add_assert(c->out, fk_orphan_query(c, table_name, fk, 1, "c", "p", " "),
                    xasprintf("cannot add foreign key '%s': table '%s' has a row that matches no "
                              "row of '%s'",
                              fk->name, table_name, fk->ref_table));
    c->out->v[c->out->n - 1].flags = STMT_SHOW_ROW;
}

void add_fk(const cctx *c, const char *table_name, const fk_def *fk)
{
    const table *bt = c->before && c->before->table && !strcmp(c->before->table->name, table_name)
                          ? c->before->table
                          : NULL;
    int mysql = c->d == STRATA_MYSQL && !mysql_fk_base_of_stored(find_table(c, table_name), fk) &&
                !mysql_fk_base_of_stored(bt, fk);
    if (mysql) {
        mysql_fk_check(c, table_name, fk);
        stmt_add(c->out, STMT_SESSION,
                 "SET @strata_fk_checks = @@foreign_key_checks, foreign_key_checks = 0");
    }
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, table_name);
    sbuf_add(&b, " ADD ");
    render_fk_clause(&b, c, fk);
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    if (mysql)
        stmt_add(c->out, STMT_SESSION | STMT_CLEANUP, "SET foreign_key_checks = @strata_fk_checks");
}

void add_pending_fks(const cctx *c, const table *t)
{
    for (size_t i = 0; schema_maybe_referenced(c->s, t->name) && i < c->s->ntables; i++) {
        const table *other = &c->s->tables[i];
        if (other == t)
            continue;
        for (size_t k = 0; k < other->nfks; k++)
            if (strcmp(other->fks[k].ref_table, t->name) == 0)
                add_fk(c, other->name, &other->fks[k]);
    }
}

void add_unique(const cctx *c, const table *t, const index_def *ix)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, t->name);
    sbuf_add(&b, " ADD ");
    render_unique_clause(&b, c, ix);
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
}

int add_check(const cctx *c, const table *t, const check_def *ck)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, t->name);
    sbuf_add(&b, " ADD ");
    int rc = render_check_clause(&b, c, t, ck);
    if (rc) {
        sbuf_free(&b);
        return rc;
    }
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    return 0;
}

int compile_sql(const cctx *c)
{
    int k = c->o->has_sql[c->d] ? (int)c->d : STRATA_DIALECT_COUNT;
    if (!c->o->has_sql[k])
        return cerr(c, "no SQL for %s (give \"%s\" or \"all\")", strata_dialect_name(c->d),
                    strata_dialect_name(c->d));
    for (size_t i = 0; i < c->o->sql[k].n; i++)
        stmt_add(c->out, 0, c->o->sql[k].v[i]);
    return 0;
}

/* ---- timestamps ---- */

static int two(const char *p)
{
    return (p[0] - '0') * 10 + (p[1] - '0');
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, int *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long yy = yoe + era * 400;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

/* See compile.h. Calendar arithmetic is done by hand (days from the civil
 * date and back), so neither the C library's time zone nor its time_t
 * range matters; fractions keep at most 6 digits, and a leap second (:60)
 * rolls over into the next minute. */
int timestamp_to_utc(const char *in, char *out, size_t outlen)
{
    if (!valid_timestamp(in))
        return -1;
    int y = atoi(in), mo = two(in + 5), d = two(in + 8);
    int dim[] = {31, is_leap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > dim[mo - 1])
        return -1;
    const char *p = in + 10;
    int h = 0, mi = 0, s = 0;
    char frac[16] = "";
    int has_time = 0;
    if (*p == 'T' || *p == ' ') {
        has_time = 1;
        p++;
        h = two(p);
        mi = two(p + 3);
        p += 5;
        if (*p == ':') {
            s = two(p + 1);
            p += 3;
            if (*p == '.') {
                p++;
                size_t n = 0;
                while (isdigit((unsigned char)*p)) {
                    if (n < 6)
                        frac[n++] = *p;
                    p++;
                }
                frac[n] = '\0';
            }
        }
    }
    if (h > 23 || mi > 59 || s > 60)
        return -1;
    int offset = 0; /* minutes east of UTC */
    if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int oh = two(p + 1), om = 0;
        p += 3;
        if (*p == ':')
            p++;
        if (isdigit((unsigned char)*p))
            om = two(p);
        offset = sign * (oh * 60 + om);
    }
    long long secs = days_from_civil(y, mo, d) * 86400LL + h * 3600 + mi * 60 + s - offset * 60LL;
    long long days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    long long rem = secs - days * 86400;
    civil_from_days(days, &y, &mo, &d);
    h = (int)(rem / 3600);
    mi = (int)(rem % 3600 / 60);
    s = (int)(rem % 60);
    if (!has_time)
        snprintf(out, outlen, "%04d-%02d-%02d 00:00:00", y, mo, d);
    else if (frac[0])
        snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d.%s", y, mo, d, h, mi, s, frac);
    else
        snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, s);
    return 0;
}

/* ---- values ---- */

static void hex_literal(sbuf *b, strata_dialect d, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    sbuf_add(b, d == STRATA_POSTGRES ? "'\\x" : "X'");
    for (size_t i = 0; i < n; i++) {
        sbuf_addc(b, hex[p[i] >> 4]);
        sbuf_addc(b, hex[p[i] & 15]);
    }
    sbuf_add(b, d == STRATA_POSTGRES ? "'::bytea" : "'");
}

/* See compile.h. Without a column the JSON kind decides. -1 when the value
 * cannot be written for the column's type (the model has checked values
 * already, so this is a last guard). */
int render_value(sbuf *b, strata_dialect d, const schema *s, const column *c, const json_t *v)
{
    (void)s;
    if (json_is_null(v)) {
        sbuf_add(b, "NULL");
        return 0;
    }
    type_kind k = c ? c->type.kind : TY_TEXT;
    if (!c) {
        /* untyped: render JSON kinds directly */
        if (json_is_true(v) || json_is_false(v))
            k = TY_BOOLEAN;
        else if (json_is_integer(v))
            k = TY_BIGINT;
        else if (json_is_real(v))
            k = TY_DOUBLE;
        else if (json_is_object(v) || json_is_array(v))
            k = TY_JSON;
    }
    switch (k) {
    case TY_BOOLEAN: {
        int truth = json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0);
        if (d == STRATA_POSTGRES)
            sbuf_add(b, truth ? "true" : "false");
        else
            sbuf_add(b, truth ? "1" : "0");
        return 0;
    }
    case TY_SERIAL:
    case TY_BIGSERIAL:
    case TY_SMALLINT:
    case TY_INTEGER:
    case TY_BIGINT:
    case TY_DECIMAL:
    case TY_REAL:
    case TY_DOUBLE:
        if (json_is_integer(v)) {
            sbuf_addf(b, "%lld", (long long)json_integer_value(v));
        } else if (json_is_real(v)) {
            char num[32];
            sbuf_add(b, double_text(json_real_value(v), num));
        } else if (json_is_string(v)) {
            const char *t = json_string_value(v);
            /* validated as numeric text by the model; keep exact digits */
            for (const char *p = t; *p; p++)
                if (!isdigit((unsigned char)*p) && *p != '.' && *p != '-' && *p != '+' &&
                    *p != 'e' && *p != 'E')
                    return -1;
            sbuf_add(b, t);
        } else
            return -1;
        return 0;
    case TY_JSON:
    case TY_JSONB: {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        quote_literal_into(b, d, text, strlen(text));
        free(text);
        return 0;
    }
    case TY_TIMESTAMP:
    case TY_TIMESTAMPTZ: {
        if (!json_is_string(v))
            return -1;
        char buf[64];
        if (timestamp_to_utc(json_string_value(v), buf, sizeof buf) != 0)
            return -1;
        /* PostgreSQL: say it is UTC, whatever the session's time zone */
        if (d == STRATA_POSTGRES && k == TY_TIMESTAMPTZ)
            strncat(buf, "+00", sizeof buf - strlen(buf) - 1);
        quote_literal_into(b, d, buf, strlen(buf));
        return 0;
    }
    case TY_BINARY:
        if (!json_is_string(v))
            return -1;
        hex_literal(b, d, (const unsigned char *)json_string_value(v), json_string_length(v));
        return 0;
    default:
        if (json_is_string(v)) {
            quote_literal_into(b, d, json_string_value(v), json_string_length(v));
            return 0;
        }
        if (json_is_integer(v)) {
            sbuf_addf(b, "'%lld'", (long long)json_integer_value(v));
            return 0;
        }
        return -1;
    }
}

/* ---- predicates ---- */

static const struct {
    const char *key;
    const char *sql;
} cmp_ops[] = {
    {"eq", " = "}, {"ne", " <> "}, {"lt", " < "}, {"le", " <= "}, {"gt", " > "}, {"ge", " >= "},
};

static int render_operand(sbuf *b, const cctx *c, const table *t, const column *col,
                          const json_t *v)
{
    if (json_is_object(v)) {
        qid(b, c, json_string_value(json_object_get(v, "column")));
        return 0;
    }
    if (render_value(b, c->d, c->s, col, v) != 0)
        return cerr(c, "cannot use %s as a value for column '%s'",
                    json_is_string(v) ? json_string_value(v) : "this value", col ? col->name : "?");
    (void)t;
    return 0;
}

/* x [NOT] IN (...) */
static int render_in(sbuf *b, const cctx *c, const table *t, const json_t *p, int negate)
{
    const char *colname = json_string_value(json_object_get(p, "column"));
    const column *col = t ? table_column(t, colname) : NULL;
    qid(b, c, colname);
    sbuf_add(b, negate ? " NOT IN (" : " IN (");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(p, "in"), i, e)
    {
        if (i)
            sbuf_add(b, ", ");
        int rc = render_operand(b, c, t, col, e);
        if (rc)
            return rc;
    }
    sbuf_addc(b, ')');
    return 0;
}

/* A predicate as SQL for c's dialect; values are rendered for the columns
 * of `t` they are compared with (t may be NULL). NOT over one comparison is
 * written the way databases print it back (NOT IN, IS NOT NULL, <>), so a
 * pulled schema compares equal. */
int render_predicate(sbuf *b, const cctx *c, const table *t, const json_t *p)
{
    json_t *arr = json_object_get(p, "and");
    const char *joiner = " AND ";
    if (!arr) {
        arr = json_object_get(p, "or");
        joiner = " OR ";
    }
    if (arr) {
        size_t i;
        json_t *e;
        sbuf_addc(b, '(');
        json_array_foreach(arr, i, e)
        {
            if (i)
                sbuf_add(b, joiner);
            int rc = render_predicate(b, c, t, e);
            if (rc)
                return rc;
        }
        sbuf_addc(b, ')');
        return 0;
    }
    json_t *neg = json_object_get(p, "not");
    if (neg && json_object_get(neg, "column") &&
        (json_object_get(neg, "in") || json_object_get(neg, "is_null") ||
         json_object_get(neg, "eq"))) {
        /* NOT over a single comparison in the form databases print back:
         * x NOT IN (...), x IS [NOT] NULL, x <> v */
        json_t *flip = json_deep_copy(neg);
        int rc;
        if (json_object_get(flip, "is_null")) {
            json_object_set_new(flip, "is_null",
                                json_boolean(!json_is_true(json_object_get(neg, "is_null"))));
            rc = render_predicate(b, c, t, flip);
        } else if (json_object_get(flip, "eq")) {
            json_object_set(flip, "ne", json_object_get(neg, "eq"));
            json_object_del(flip, "eq");
            rc = render_predicate(b, c, t, flip);
        } else {
            rc = render_in(b, c, t, flip, 1);
        }
        json_decref(flip);
        return rc;
    }
    if (neg) {
        sbuf_add(b, "NOT (");
        int rc = render_predicate(b, c, t, neg);
        sbuf_addc(b, ')');
        return rc;
    }
    const char *colname = json_string_value(json_object_get(p, "column"));
    const column *col = t ? table_column(t, colname) : NULL;
    json_t *isnull = json_object_get(p, "is_null");
    if (isnull) {
        qid(b, c, colname);
        sbuf_add(b, json_is_true(isnull) ? " IS NULL" : " IS NOT NULL");
        return 0;
    }
    if (json_object_get(p, "in"))
        return render_in(b, c, t, p, 0);
    for (size_t k = 0; k < sizeof cmp_ops / sizeof cmp_ops[0]; k++) {
        json_t *v = json_object_get(p, cmp_ops[k].key);
        if (!v)
            continue;
        qid(b, c, colname);
        sbuf_add(b, cmp_ops[k].sql);
        return render_operand(b, c, t, col, v);
    }
    return cerr(c, "malformed predicate");
}

int render_check(sbuf *b, const cctx *c, const table *t, const json_t *check)
{
    if (json_is_string(check)) {
        sbuf_add(b, json_string_value(check));
        return 0;
    }
    const char *key = strata_dialect_name(c->d);
    if (json_object_get(check, key) || json_object_get(check, "all")) {
        json_t *v = json_object_get(check, key);
        if (!v)
            v = json_object_get(check, "all");
        sbuf_add(b, json_string_value(v));
        return 0;
    }
    if (json_object_get(check, "postgres") || json_object_get(check, "mysql") ||
        json_object_get(check, "sqlite"))
        return cerr(c, "the check has no SQL for %s (give \"%s\" or \"all\")", key, key);
    return render_predicate(b, c, t, check);
}

/* ---- column types and defaults ---- */

int render_default(sbuf *b, const cctx *c, const column *col)
{
    const col_default *d = &col->def;
    switch (d->kind) {
    case DEF_NONE:
        return 0;
    case DEF_SQL:
        if (!d->sql[c->d])
            return cerr(c, "column '%s': the SQL default has no %s body", col->name,
                        strata_dialect_name(c->d));
        sbuf_add(b, " DEFAULT ");
        sbuf_add(b, d->sql[c->d]);
        return 0;
    case DEF_NOW:
        sbuf_add(b, " DEFAULT ");
        return render_now(b, c, col);
    case DEF_UUID:
        sbuf_add(b, " DEFAULT ");
        return render_uuid(b, c);
    case DEF_LITERAL: {
        sbuf_add(b, " DEFAULT ");
        int expr = c->d == STRATA_MYSQL && !json_is_null(d->literal) &&
                   (col->type.kind == TY_TEXT || col->type.kind == TY_BINARY ||
                    type_is_json(col->type.kind));
        if (expr)
            sbuf_addc(b, '(');
        if (render_value(b, c->d, c->s, col, d->literal) != 0)
            return cerr(c, "column '%s': cannot render the default", col->name);
        if (expr)
            sbuf_addc(b, ')');
        return 0;
    }
    }
    return 0;
}

int render_now(sbuf *b, const cctx *c, const column *col)
{
    type_kind k = col->type.kind;
    int p = col->type.precision;
    switch (c->d) {
    case STRATA_POSTGRES:
        sbuf_add(b, k == TY_DATE ? "CURRENT_DATE" : k == TY_TIME ? "LOCALTIME" : "now()");
        return 0;
    case STRATA_MYSQL:
        if (k == TY_DATE)
            sbuf_add(b, "(CURRENT_DATE)");
        else if (k == TY_TIME)
            sbuf_addf(b, "(CURRENT_TIME(%d))", p);
        else if (k == TY_TIMESTAMPTZ)
            /* UTC whatever the inserting session's time zone */
            sbuf_addf(b, "(UTC_TIMESTAMP(%d))", p);
        else if (p)
            sbuf_addf(b, "CURRENT_TIMESTAMP(%d)", p);
        else
            sbuf_add(b, "CURRENT_TIMESTAMP");
        return 0;
    case STRATA_SQLITE:
        if (k == TY_DATE)
            sbuf_add(b, "CURRENT_DATE");
        else if (k == TY_TIME)
            sbuf_add(b, "CURRENT_TIME");
        else if (p == 0)
            sbuf_add(b, "CURRENT_TIMESTAMP");
        else
            sbuf_add(b, "(strftime('%Y-%m-%d %H:%M:%f', 'now'))");
        return 0;
    }
    return 0;
}

int render_uuid(sbuf *b, const cctx *c)
{
    switch (c->d) {
    case STRATA_POSTGRES:
        sbuf_add(b, "gen_random_uuid()");
        break;
    case STRATA_MYSQL:
        sbuf_add(b, "(uuid())");
        break;
    case STRATA_SQLITE:
        /* a version-4 UUID from random bytes */
        sbuf_add(b, "(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
                    "substr(lower(hex(randomblob(2))), 2) || '-' || "
                    "substr('89ab', 1 + (abs(random()) % 4), 1) || "
                    "substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))");
        break;
    }
    return 0;
}

void add_empty_table_check(const cctx *c, const table *t, const column *col)
{
    if (col->nullable || col->def.kind != DEF_NONE || type_is_serial(col->type.kind))
        return;
    if (!c->o->restore && t->created_in == c->s->migration_index)
        return; /* made by this migration, and no insert filled it (model.c) */
    sbuf q = SBUF_INIT;
    sbuf_add(&q, "SELECT 1 FROM ");
    qid(&q, c, t->name);
    sbuf_add(&q, " LIMIT 1");
    stmt_add_assert(c->out, sbuf_detach(&q),
                    xasprintf("cannot %s NOT NULL column '%s' without a default: table '%s' has "
                              "rows",
                              c->o->restore ? "restore" : "add", col->name, t->name));
}

int op_wants_online(const cctx *c, const table *t)
{
    return c->o->online && t && t->created_in != c->s->migration_index;
}

const table *find_table(const cctx *c, const char *name)
{
    return schema_table(c->s, name);
}

int render_expression(sbuf *b, const compile_target *tg, const schema *s, const table *t,
                      const json_t *expr)
{
    cctx c;
    memset(&c, 0, sizeof c);
    c.tg = tg;
    c.d = tg->dialect;
    c.s = s;
    return render_check(b, &c, t, expr);
}

/* ---- dispatch ---- */

int compile_postgres(cctx *c);
int compile_mysql(cctx *c);
int compile_sqlite(cctx *c);

int compile_op(const compile_target *tg, const schema *after, const before_state *before,
               const op *o, const apply_ctx *ctx, stmt_list *out)
{
    cctx c;
    memset(&c, 0, sizeof c);
    c.tg = tg;
    c.d = tg->dialect;
    c.s = after;
    c.before = before;
    c.o = o;
    c.actx = ctx;
    c.out = out;
    switch (tg->dialect) {
    case STRATA_POSTGRES:
        return compile_postgres(&c);
    case STRATA_MYSQL:
        return compile_mysql(&c);
    case STRATA_SQLITE:
        return compile_sqlite(&c);
    }
    return 0;
}
