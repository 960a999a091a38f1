/*
 * cost.c - what an operation costs on each database (see cost.h): its cost
 * class, the lock it takes, and why.
 *
 * PostgreSQL: most ALTER TABLE forms change the catalog only; a column
 * type change rewrites the table unless the new type is binary-compatible
 * with the old (a longer varchar, varchar to text, more numeric precision
 * at the same scale, more time precision), a volatile default makes ADD
 * COLUMN write every row, and SET NOT NULL, a new index or constraint read
 * every row - all under ACCESS EXCLUSIVE except CREATE INDEX (SHARE: reads
 * go on) and foreign keys (SHARE ROW EXCLUSIVE), and the "online" forms.
 *
 * MySQL/MariaDB: InnoDB picks the cheapest algorithm an ALTER allows; the
 * statements the compiler wrote are read clause by clause (they are our
 * own, in a known form) and each clause classified.
 *
 * SQLite: a rebuild is in the statements (its save/restore markers); DROP
 * COLUMN rewrites every row; the rest changes the schema text only.
 */
#include "cost.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

const char *my_algorithm_name(my_algorithm a)
{
    static const char *const names[] = {"", "INSTANT", "NOCOPY", "INPLACE", "COPY"};
    return a <= MY_ALG_COPY ? names[a] : "";
}

const char *strata_cost_name(strata_cost c)
{
    static const char *const names[] = {"none",    "metadata", "data",    "in-place",
                                        "rewrite", "copy",     "rebuild", "unknown"};
    return (unsigned)c <= STRATA_COST_UNKNOWN ? names[c] : "unknown";
}

void op_cost_free(op_cost *c)
{
    free(c->lock);
    free(c->detail);
    strvec_free(&c->tables);
    memset(c, 0, sizeof *c);
}

/* ---- reading our own MySQL statements ---- */

static int starts_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (toupper((unsigned char)*s) != toupper((unsigned char)*prefix))
            return 0;
    return 1;
}

/* A `quoted` identifier at *p: its name (caller frees), *p moved past it
 * and the blanks after; NULL when there is none. */
static char *read_ident(const char **p)
{
    const char *s = *p;
    while (*s == ' ')
        s++;
    if (*s != '`')
        return NULL;
    sbuf b = SBUF_INIT;
    for (s++; *s; s++) {
        if (*s == '`' && s[1] == '`')
            sbuf_addc(&b, *s++);
        else if (*s == '`')
            break;
        else
            sbuf_addc(&b, *s);
    }
    if (*s == '`')
        s++;
    while (*s == ' ')
        s++;
    *p = s;
    return sbuf_detach(&b);
}

/* One step of a scan of SQL text at p: the quote (0 outside one) and the
 * parenthesis depth after it. Returns the last character it consumed: p,
 * or the next one for a doubled quote or a backslash escape. */
static const char *sql_step(const char *p, char *quote, int *depth)
{
    if (*quote) {
        if (*p == *quote && p[1] == *quote)
            p++;
        else if (*p == *quote)
            *quote = 0;
        else if (*p == '\\' && *quote == '\'' && p[1])
            p++;
    } else if (*p == '\'' || *p == '`' || *p == '"') {
        *quote = *p;
    } else if (*p == '(') {
        (*depth)++;
    } else if (*p == ')') {
        (*depth)--;
    }
    return p;
}

/* Where a top-level (outside quotes and parentheses) `word` starts in s,
 * or NULL. */
static const char *find_top(const char *s, const char *word)
{
    int depth = 0;
    char quote = 0;
    size_t n = strlen(word);
    for (const char *p = s; *p; p++) {
        if (!quote && depth == 0 && starts_ci(p, word) && strlen(p) >= n)
            return p;
        p = sql_step(p, &quote, &depth);
    }
    return NULL;
}

/* The clauses of "ALTER TABLE `t` a, b, c" after the table name: split at
 * top-level commas. */
static void split_clauses(const char *s, strvec *out)
{
    int depth = 0;
    char quote = 0;
    const char *start = s;
    for (const char *p = s;; p++) {
        if (!*p || (!quote && depth == 0 && *p == ',')) {
            while (*start == ' ' || *start == '\n')
                start++;
            if (p > start)
                strvec_push_owned(out, xstrndup(start, (size_t)(p - start)));
            if (!*p)
                break;
            start = p + 1;
            continue;
        }
        p = sql_step(p, &quote, &depth);
    }
}

/* Is the value after DEFAULT one InnoDB stores once in the dictionary (a
 * literal, or the current date or time)? MariaDB evaluates UTC_TIMESTAMP()
 * or UUID() per row, so ADD COLUMN with such a default copies the table. */
static int constant_default(const char *v)
{
    while (*v == ' ' || *v == '(')
        v++;
    if (*v == '\'' || *v == '-' || isdigit((unsigned char)*v) || starts_ci(v, "NULL") ||
        starts_ci(v, "TRUE") || starts_ci(v, "FALSE"))
        return 1;
    return starts_ci(v, "CURRENT_TIMESTAMP") || starts_ci(v, "CURRENT_DATE") ||
           starts_ci(v, "CURRENT_TIME") || starts_ci(v, "NOW(") || starts_ci(v, "LOCALTIME");
}

/* ADD COLUMN <definition>. */
static my_algorithm add_column_algorithm(const compile_target *tg, const char *def, int *shared,
                                         int *virtual_col, const char **why)
{
    if (find_top(def, " AUTO_INCREMENT")) {
        *shared = 1;
        *why = "adding an AUTO_INCREMENT column numbers every row (writes wait)";
        return MY_ALG_INPLACE;
    }
    if (find_top(def, " GENERATED ALWAYS AS")) {
        if (find_top(def, " STORED")) {
            *why = "adding a stored generated column (a partial unique index's helper): InnoDB "
                   "copies the table to compute it";
            return MY_ALG_COPY;
        }
        *virtual_col = 1;
        *why = "adding a virtual column";
        return MY_ALG_INSTANT;
    }
    const char *d = find_top(def, " DEFAULT ");
    if (d && !constant_default(d + 9)) {
        *why = "adding a column whose default is evaluated per row (UTC_TIMESTAMP(), UUID())";
        return MY_ALG_COPY;
    }
    if (!tg->is_mariadb && tg->version < 80012) {
        *why = "adding a column (MySQL before 8.0.12 rebuilds the table)";
        return MY_ALG_INPLACE;
    }
    *why = "adding a column";
    return MY_ALG_INSTANT;
}

/* The neutral types MySQL declares alike (int for serial, datetime for
 * both timestamps, json for jsonb) compare as one. */
static type_kind my_kind(type_kind k)
{
    switch (k) {
    case TY_SERIAL:
        return TY_INTEGER;
    case TY_BIGSERIAL:
        return TY_BIGINT;
    case TY_TIMESTAMPTZ:
        return TY_TIMESTAMP;
    case TY_JSONB:
        return TY_JSON;
    default:
        return k;
    }
}

/* How long a varchar's length prefix is in bytes (utf8mb4: 4 a character). */
static int length_bytes(int chars)
{
    return chars * 4 > 255 ? 2 : 1;
}

/* A type change on MySQL: 0 none, 1 one InnoDB makes in the dictionary (a
 * longer varchar with the same length prefix, enum values appended), 2 one
 * that converts every row. */
static int my_type_change(const column *old, const strvec *old_vals, const column *col,
                          const strvec *new_vals)
{
    type_kind a = my_kind(old->type.kind), b = my_kind(col->type.kind);
    if (a != b)
        return 2;
    if (a == TY_ENUM) {
        size_t no = old_vals ? old_vals->n : 0, nn = new_vals ? new_vals->n : 0;
        if (no > nn)
            return 2;
        for (size_t i = 0; i < no; i++)
            if (strcmp(old_vals->v[i], new_vals->v[i]) != 0)
                return 2;
        return no == nn ? 0 : 1;
    }
    if (a == TY_STRING) {
        int lo = old->type.length, ln = col->type.length;
        if (lo == ln)
            return 0;
        return ln > lo && length_bytes(lo) == length_bytes(ln) ? 1 : 2;
    }
    col_type x = old->type, y = col->type;
    x.kind = y.kind = a;
    x.enum_name = y.enum_name = NULL;
    x.pg_type = y.pg_type = NULL;
    return col_type_equal(&x, &y) ? 0 : 2;
}

/* The enum values a column had before the op (an alter_enum changes its
 * enum's values under the columns, which stay as they are). */
static const strvec *old_enum_values(const schema *after, const before_state *before, const op *o,
                                     const column *col)
{
    if (col->type.kind != TY_ENUM)
        return NULL;
    if (o->kind == OP_ALTER_ENUM && col->type.enum_name &&
        strcmp(col->type.enum_name, o->name) == 0)
        return before->enum_vals;
    if (!col->type.enum_name)
        return &col->type.values;
    return column_enum_values(after, col);
}

/* A column of `table` as it was before the op, and as it is after. */
static const column *column_before(const schema *after, const before_state *before,
                                   const char *table_name, const char *col)
{
    const table *t = before->table && strcmp(before->table->name, table_name) == 0
                         ? before->table
                         : schema_table(after, table_name);
    return t ? table_column(t, col) : NULL;
}

/* MODIFY COLUMN `c` <definition> (or CHANGE COLUMN `old` `c` ...). */
static my_algorithm modify_algorithm(const compile_target *tg, const schema *after,
                                     const before_state *before, const op *o,
                                     const char *table_name, const char *old_name,
                                     const char *new_name, const char **why)
{
    const column *old = column_before(after, before, table_name, old_name);
    const table *t = schema_table(after, table_name);
    const column *col = t ? table_column(t, new_name) : NULL;
    if (!old || !col) {
        *why = "changing a column Strata cannot see";
        return MY_ALG_COPY;
    }
    int change = my_type_change(old, old_enum_values(after, before, o, old), col,
                                column_enum_values(after, col));
    if (change == 2) {
        *why = "changing the column's type (every row is converted)";
        return MY_ALG_COPY;
    }
    if (old->nullable != col->nullable) {
        *why = col->nullable ? "making the column nullable (the table is rebuilt)"
                             : "making the column NOT NULL (the table is rebuilt)";
        return MY_ALG_INPLACE;
    }
    if (change == 1) {
        *why = col->type.kind == TY_ENUM ? "appending enum values" : "lengthening a varchar";
        return tg->is_mariadb || col->type.kind == TY_ENUM ? MY_ALG_INSTANT : MY_ALG_NOCOPY;
    }
    *why = "changing the column's default, comment or name";
    return MY_ALG_INSTANT;
}

/* Is index `name` dropped by a statement before statement i? */
static int dropped_before(const stmt_list *l, size_t i, const char *name)
{
    sbuf q = SBUF_INIT;
    quote_ident_into(&q, STRATA_MYSQL, name);
    int found = 0;
    for (size_t k = 0; k < i && !found; k++) {
        const char *s = l->v[k].kind == STMT_SQL ? l->v[k].sql : NULL;
        const char *d = s ? strstr(s, "DROP INDEX ") : NULL;
        found = d && strstr(d, sbuf_str(&q)) != NULL;
    }
    sbuf_free(&q);
    return found;
}

/* Does the primary key, or an index of t (before the op) that no earlier
 * statement of the op dropped, use column c when statement i runs? */
static int column_indexed(const table *t, const char *c, const stmt_list *l, size_t i)
{
    if (!t)
        return 0;
    if (strvec_find(&t->pk, c) >= 0)
        return 1;
    for (size_t k = 0; k < t->nidx; k++)
        if (index_uses_column(&t->idx[k], c) && !dropped_before(l, i, t->idx[k].name))
            return 1;
    return 0;
}

/* Does t have an index (or key) whose first columns are `cols`? */
static int has_leading_index(const table *t, const strvec *cols)
{
    if (!t)
        return 0;
    int ok = t->pk.n >= cols->n;
    for (size_t i = 0; ok && i < cols->n; i++)
        ok = strcmp(t->pk.v[i], cols->v[i]) == 0;
    for (size_t k = 0; !ok && k < t->nidx; k++) {
        const index_def *ix = &t->idx[k];
        ok = ix->ncols >= cols->n && !(ix->unique && ix->where);
        for (size_t i = 0; ok && i < cols->n; i++)
            ok = strcmp(ix->cols[i].name, cols->v[i]) == 0;
    }
    return ok;
}

/* Does t (before the op) have indexed virtual columns - a partial unique
 * index's helpers? MariaDB cannot rebuild such a table online: what would
 * be an online rebuild blocks writes, and some rebuilds become copies. */
static int has_indexed_virtual(const compile_target *tg, const table *t, const stmt_list *l,
                               size_t at)
{
    for (size_t i = 0; tg->is_mariadb && t && i < t->nidx; i++)
        if (t->idx[i].unique && t->idx[i].where && !mysql_helpers_stored(t, &t->idx[i]) &&
            !dropped_before(l, at, t->idx[i].name))
            return 1;
    return 0;
}

/* Does t (before the op) have STORED helper columns of partial unique
 * indexes (MariaDB)? Such a table is rebuilt with writes blocked. */
static int has_stored_helpers(const compile_target *tg, const table *t, const stmt_list *l,
                              size_t at)
{
    for (size_t i = 0; tg->is_mariadb && t && i < t->nidx; i++)
        if (t->idx[i].unique && t->idx[i].where && mysql_helpers_stored(t, &t->idx[i]) &&
            !dropped_before(l, at, t->idx[i].name))
            return 1;
    return 0;
}

/* The partial unique index of t whose helper column `col` is (NULL: none):
 * helpers are named <index>_partial<n>. */
static const index_def *helper_index(const table *t, const char *col)
{
    for (size_t i = 0; t && i < t->nidx; i++) {
        const index_def *ix = &t->idx[i];
        size_t n = strlen(ix->name);
        if (ix->unique && ix->where && strncmp(col, ix->name, n) == 0 &&
            strncmp(col + n, "_partial", 8) == 0)
            return ix;
    }
    return NULL;
}

/* Is index ix of t unique over NOT NULL columns only? */
static int unique_not_null(const table *t, const index_def *ix)
{
    if (!ix->unique || ix->where)
        return 0;
    for (size_t i = 0; i < ix->ncols; i++) {
        const column *c = table_column(t, ix->cols[i].name);
        if (!c || c->nullable)
            return 0;
    }
    return 1;
}

/* Does the new index `name` become the clustered index of a table without
 * a primary key? InnoDB takes the first unique index over NOT NULL columns
 * as the key of such a table, which means rebuilding it. */
static int becomes_clustered(const table *bt, const table *t, const char *name)
{
    const index_def *ix = t && name ? table_index(t, name) : NULL;
    if (!bt || bt->pk.n || !ix || !unique_not_null(t, ix) || table_index(bt, name))
        return 0;
    for (size_t i = 0; i < bt->nidx; i++)
        if (unique_not_null(bt, &bt->idx[i]))
            return 0;
    return 1;
}

/* Are InnoDB's foreign key checks off when statement i runs? A foreign key
 * turns them off for its one statement: an online one with SET SESSION
 * foreign_key_checks = 0 / 1, any other between its STMT_SESSION statements
 * (the one that turns them off, and the STMT_CLEANUP one that restores the
 * session's setting). */
static int fk_checks_off_at(const stmt_list *l, size_t i)
{
    int off = 0;
    for (size_t k = 0; k < i; k++) {
        const stmt *s = &l->v[k];
        const char *q = s->sql;
        if (s->kind != STMT_SQL || !q)
            continue;
        if (starts_ci(q, "SET SESSION foreign_key_checks"))
            off = strchr(q, '0') != NULL;
        else if ((s->flags & STMT_SESSION) && strstr(q, "foreign_key_checks"))
            off = !(s->flags & STMT_CLEANUP);
    }
    return off;
}

/* One clause of an ALTER TABLE. */
typedef struct clause_state {
    int added_column, virtual_column, index_op, shared;
    int builds; /* it builds an index (reads the table), rather than only dropping one */
    int add_pk; /* some clause of the statement adds a primary key */
} clause_state;

static my_algorithm clause_algorithm(const compile_target *tg, const schema *after,
                                     const before_state *before, const op *o,
                                     const stmt_list *stmts, size_t i, const char *table_name,
                                     const char *cl, int fk_off, clause_state *st, const char **why)
{
    my_algorithm nocopy = tg->is_mariadb ? MY_ALG_NOCOPY : MY_ALG_INPLACE;
    const table *bt = before->table && strcmp(before->table->name, table_name) == 0
                          ? before->table
                          : schema_table(after, table_name);
    const char *p;
    int vix = has_indexed_virtual(tg, bt, stmts, i);
    static const char *const vix_copy = "the table has indexed virtual columns (a partial unique "
                                        "index's helpers), which MariaDB can only copy";
    if (starts_ci(cl, "ALGORITHM") || starts_ci(cl, "LOCK")) {
        *why = NULL;
        return MY_ALG_INSTANT;
    }
    if (starts_ci(cl, "ADD COLUMN ")) {
        st->added_column = 1;
        my_algorithm a = add_column_algorithm(tg, cl + 11, &st->shared, &st->virtual_column, why);
        if (vix && !st->virtual_column && a < MY_ALG_INPLACE) {
            st->shared = 1;
            *why = "adding a column to a table with indexed virtual columns (a partial unique "
                   "index's helpers): MariaDB rebuilds it with writes blocked";
            return MY_ALG_INPLACE;
        }
        return a;
    }
    if (starts_ci(cl, "ADD PRIMARY KEY")) {
        *why = vix ? vix_copy : "adding a primary key (the table is rebuilt)";
        return vix ? MY_ALG_COPY : MY_ALG_INPLACE;
    }
    if (starts_ci(cl, "DROP PRIMARY KEY")) {
        if (st->add_pk) {
            *why = "replacing the primary key (the table is rebuilt)";
            return MY_ALG_INPLACE;
        }
        *why = "dropping the primary key (InnoDB copies the table)";
        return MY_ALG_COPY;
    }
    if (starts_ci(cl, "ADD CONSTRAINT ")) {
        p = cl + 15;
        char *name = read_ident(&p);
        const table *t = schema_table(after, table_name);
        const fk_def *fk = t && name ? table_fk(t, name) : NULL;
        char *name_copy = name;
        if (starts_ci(p, "FOREIGN KEY") || starts_ci(p, "CHECK"))
            free(name_copy);
        if (starts_ci(p, "FOREIGN KEY")) {
            if (!fk_off) {
                *why = "adding a foreign key with foreign_key_checks on (InnoDB copies the table "
                       "to check every row)";
                return MY_ALG_COPY;
            }
            *why = "adding a foreign key with foreign_key_checks off";
            if (fk && has_leading_index(bt, &fk->cols))
                return MY_ALG_INSTANT;
            st->index_op = st->builds = 1;
            return nocopy; /* and the index InnoDB makes for it */
        }
        if (starts_ci(p, "CHECK")) {
            *why = "adding a check (InnoDB copies the table to check every row)";
            return MY_ALG_COPY;
        }
        st->index_op = st->builds = 1;
        if (fk == NULL && becomes_clustered(bt, t, name_copy)) {
            *why = "a unique index on a table without a primary key becomes its clustered index "
                   "(the table is rebuilt)";
            free(name_copy);
            return MY_ALG_INPLACE;
        }
        free(name_copy);
        *why = "building a unique index";
        return nocopy;
    }
    if (starts_ci(cl, "ADD UNIQUE") || starts_ci(cl, "ADD INDEX") || starts_ci(cl, "ADD KEY")) {
        st->index_op = st->builds = 1;
        *why = "building an index";
        p = cl + 4;
        while (*p && *p != '`')
            p++;
        char *name = read_ident(&p);
        int clustered = starts_ci(cl, "ADD UNIQUE") &&
                        becomes_clustered(bt, schema_table(after, table_name), name);
        free(name);
        if (clustered) {
            *why = "a unique index on a table without a primary key becomes its clustered index "
                   "(the table is rebuilt)";
            return MY_ALG_INPLACE;
        }
        return nocopy;
    }
    if (starts_ci(cl, "DROP INDEX") || starts_ci(cl, "DROP KEY")) {
        p = cl + 10;
        while (*p == ' ')
            p++;
        if (starts_ci(p, "IF EXISTS "))
            p += 10;
        char *name = read_ident(&p);
        int implicit = name && bt && !table_index(bt, name);
        const fk_def *fk = implicit ? table_fk(bt, name) : NULL;
        free(name);
        /* "DROP INDEX IF EXISTS <foreign key>": the index InnoDB made for a
         * foreign key, which is there only while no other index serves it
         * (InnoDB drops it by itself when one comes) */
        if (implicit && (!fk || has_leading_index(bt, &fk->cols) ||
                         has_leading_index(schema_table(after, table_name), &fk->cols))) {
            *why = "nothing (InnoDB dropped its index for the foreign key already)";
            return MY_ALG_INSTANT;
        }
        st->index_op = 1;
        *why = "dropping an index";
        return nocopy;
    }
    if (starts_ci(cl, "DROP FOREIGN KEY") || starts_ci(cl, "DROP CONSTRAINT") ||
        starts_ci(cl, "DROP CHECK") || starts_ci(cl, "ALTER COLUMN ")) {
        *why = "a change to the data dictionary";
        return MY_ALG_INSTANT;
    }
    if (starts_ci(cl, "DROP COLUMN ")) {
        p = cl + 12;
        char *c = read_ident(&p);
        my_algorithm a = MY_ALG_INSTANT;
        const index_def *hix = c && bt && !table_column(bt, c) ? helper_index(bt, c) : NULL;
        if (hix && mysql_helpers_stored(bt, hix)) {
            /* a partial unique's STORED helper: in place, unless indexed
             * virtual columns stay (online-built helpers) */
            a = vix ? MY_ALG_COPY : nocopy;
            *why = vix ? vix_copy : "dropping a stored generated column";
        } else if (c && bt && !table_column(bt, c)) {
            st->virtual_column = 1; /* a partial unique's helper */
            *why = "dropping a virtual column";
        } else if (vix) {
            a = MY_ALG_COPY;
            *why = vix_copy;
        } else if (c && column_indexed(bt, c, stmts, i)) {
            a = nocopy;
            *why = "dropping an indexed column";
        } else if (!tg->is_mariadb && tg->version < 80029) {
            a = MY_ALG_INPLACE;
            *why = "dropping a column (MySQL before 8.0.29 rebuilds the table)";
        } else {
            *why = "dropping a column";
        }
        free(c);
        return a;
    }
    if (starts_ci(cl, "RENAME COLUMN ")) {
        *why = "renaming a column";
        return tg->is_mariadb || tg->version >= 80028 ? MY_ALG_INSTANT : nocopy;
    }
    if (starts_ci(cl, "MODIFY COLUMN ") || starts_ci(cl, "CHANGE COLUMN ")) {
        int change = starts_ci(cl, "CHANGE");
        p = cl + 14;
        char *a = read_ident(&p);
        char *b = change ? read_ident(&p) : NULL;
        my_algorithm alg = MY_ALG_COPY;
        *why = "changing a column Strata cannot read";
        if (a)
            alg = modify_algorithm(tg, after, before, o, table_name, a, b ? b : a, why);
        const column *was = a ? column_before(after, before, table_name, a) : NULL;
        if (a && !vix && alg == MY_ALG_INPLACE && was && was->nullable &&
            has_stored_helpers(tg, bt, stmts, i)) {
            /* what MariaDB 10.11 does, measured (tests/test_cost.c) */
            alg = MY_ALG_COPY;
            *why = "making a column NOT NULL on a table with stored generated columns (MariaDB "
                   "copies the table)";
        } else if (a && vix && alg == MY_ALG_INPLACE) {
            const column *col = column_before(after, before, table_name, a);
            if (col && col->nullable) { /* becoming NOT NULL */
                alg = MY_ALG_COPY;
                *why = vix_copy;
            } else {
                st->shared = 1;
            }
        }
        free(a);
        free(b);
        return alg;
    }
    *why = "a change Strata does not know InnoDB to make in place";
    return MY_ALG_COPY;
}

/* The table an ALTER TABLE or CREATE INDEX statement works on (caller frees). */
static char *mysql_stmt_table(const char *sql)
{
    const char *p = NULL;
    if (starts_ci(sql, "ALTER TABLE "))
        p = sql + 12;
    else if (starts_ci(sql, "CREATE"))
        p = find_top(sql, " ON ") ? find_top(sql, " ON ") + 4 : NULL;
    return p ? read_ident(&p) : NULL;
}

/* The cheapest algorithm for statement i, and why (a static text). */
static my_algorithm stmt_analyse(const compile_target *tg, const schema *after,
                                 const before_state *before, const op *o, const stmt_list *stmts,
                                 size_t i, int *shared, int *builds, const char **reason)
{
    *shared = 0;
    *builds = 0;
    *reason = "";
    const stmt *s = &stmts->v[i];
    if (s->kind != STMT_SQL || !s->sql)
        return MY_ALG_NONE;
    if (starts_ci(s->sql, "CREATE INDEX ") || starts_ci(s->sql, "CREATE UNIQUE INDEX ")) {
        *reason = "building an index";
        *builds = 1;
        const char *p = strchr(s->sql, '`');
        char *name = p ? read_ident(&p) : NULL;
        char *tn = mysql_stmt_table(s->sql);
        const table *bt =
            before->table && tn && strcmp(before->table->name, tn) == 0 ? before->table : NULL;
        int clustered = starts_ci(s->sql, "CREATE UNIQUE") && tn &&
                        becomes_clustered(bt, schema_table(after, tn), name);
        free(name);
        free(tn);
        if (clustered) {
            *reason = "a unique index on a table without a primary key becomes its clustered "
                      "index (the table is rebuilt)";
            return MY_ALG_INPLACE;
        }
        return tg->is_mariadb ? MY_ALG_NOCOPY : MY_ALG_INPLACE;
    }
    if (!starts_ci(s->sql, "ALTER TABLE "))
        return MY_ALG_NONE;
    const char *p = s->sql + 12;
    char *table_name = read_ident(&p);
    if (!table_name) {
        *reason = "a statement Strata cannot read";
        return MY_ALG_COPY;
    }
    strvec cl = STRVEC_INIT;
    split_clauses(p, &cl);
    clause_state st;
    memset(&st, 0, sizeof st);
    for (size_t k = 0; k < cl.n; k++)
        st.add_pk |= starts_ci(cl.v[k], "ADD PRIMARY KEY");
    int fk_off = fk_checks_off_at(stmts, i);
    my_algorithm alg = MY_ALG_INSTANT;
    for (size_t k = 0; k < cl.n; k++) {
        const char *why = NULL;
        my_algorithm a = clause_algorithm(tg, after, before, o, stmts, i, table_name, cl.v[k],
                                          fk_off, &st, &why);
        if (why && (a > alg || !**reason)) {
            alg = a > alg ? a : alg;
            *reason = why;
        }
    }
    /* MariaDB copies the table when one statement changes a virtual column
     * and an index (a partial unique's helpers with their index), and
     * rebuilds it when a new column comes with an index */
    if (st.virtual_column && st.index_op) {
        alg = MY_ALG_COPY;
        *reason = "a virtual column and an index in one statement (MariaDB copies the table)";
    } else if (st.added_column && st.index_op && alg < MY_ALG_INPLACE) {
        alg = MY_ALG_INPLACE;
        *reason = "a new column and an index in one statement (the table is rebuilt)";
    }
    *shared = st.shared || alg == MY_ALG_COPY;
    *builds = st.builds;
    strvec_free(&cl);
    free(table_name);
    return alg;
}

my_algorithm mysql_stmt_algorithm(const compile_target *tg, const schema *after,
                                  const before_state *before, const op *o, const stmt_list *stmts,
                                  size_t i, int *shared)
{
    const char *reason;
    int builds;
    return stmt_analyse(tg, after, before, o, stmts, i, shared, &builds, &reason);
}

/* ---- per dialect ---- */

static void add_table(op_cost *c, const char *name)
{
    if (name && strvec_find(&c->tables, name) < 0)
        strvec_push(&c->tables, name);
}

static void set_cost(op_cost *c, strata_cost cost, char *detail)
{
    c->cost = cost;
    free(c->detail);
    c->detail = detail;
}

static void mysql_cost(const compile_target *tg, const schema *after, const before_state *before,
                       const op *o, const stmt_list *l, op_cost *c)
{
    my_algorithm top = MY_ALG_NONE;
    const char *top_reason = "";
    int shared = 0, dml = 0, builds = 0;
    for (size_t i = 0; i < l->n; i++) {
        int sh = 0, b = 0;
        const char *reason;
        my_algorithm a = stmt_analyse(tg, after, before, o, l, i, &sh, &b, &reason);
        shared |= sh;
        builds |= b;
        if (a >= MY_ALG_NOCOPY) {
            char *t = mysql_stmt_table(l->v[i].sql);
            add_table(c, t);
            free(t);
        }
        if (a > top) {
            top = a;
            top_reason = reason;
        }
        const char *q = l->v[i].kind == STMT_SQL ? l->v[i].sql : "";
        dml |= starts_ci(q, "INSERT") || starts_ci(q, "UPDATE") || starts_ci(q, "DELETE");
    }
    c->algorithm = top;
    c->blocks_writes = shared;
    if (o->kind == OP_SQL) {
        set_cost(c, STRATA_COST_UNKNOWN, xstrdup("raw SQL"));
        c->lock = xstrdup("whatever the SQL takes");
        return;
    }
    if (top == MY_ALG_NONE) {
        set_cost(c, dml ? STRATA_COST_DATA : STRATA_COST_METADATA,
                 xstrdup(dml ? "writes the rows it names" : "a change to the data dictionary"));
        c->lock = xstrdup(dml ? "row locks on the rows it writes"
                          : o->kind == OP_CREATE_TABLE
                              ? "none on existing tables"
                              : "an exclusive metadata lock on the table, briefly");
        return;
    }
    static const strata_cost by_alg[] = {STRATA_COST_METADATA, STRATA_COST_METADATA,
                                         STRATA_COST_INPLACE, STRATA_COST_REWRITE,
                                         STRATA_COST_COPY};
    strata_cost cost = by_alg[top];
    if (top == MY_ALG_NOCOPY && !builds) /* dropping an index reads no rows */
        cost = STRATA_COST_METADATA;
    if (dml && cost < STRATA_COST_DATA)
        cost = STRATA_COST_DATA;
    set_cost(c, cost, xasprintf("ALGORITHM=%s: %s", my_algorithm_name(top), top_reason));
    if (top == MY_ALG_INSTANT)
        c->lock = xstrdup("an exclusive metadata lock on the table, briefly");
    else if (shared)
        c->lock = xstrdup("writes to the table wait while it runs (LOCK=SHARED)");
    else
        c->lock = xstrdup("reads and writes go on (LOCK=NONE); an exclusive metadata lock at "
                          "its start and end");
}

/* Does PostgreSQL change type `from` to `to` without rewriting the table
 * (binary-compatible, or only a wider limit)? */
static int pg_no_rewrite(const col_type *from, const col_type *to)
{
    type_kind a = from->kind == TY_SERIAL      ? TY_INTEGER
                  : from->kind == TY_BIGSERIAL ? TY_BIGINT
                                               : from->kind;
    type_kind b = to->kind;
    if (a == TY_STRING && b == TY_STRING)
        return to->length >= from->length;
    if (a == TY_STRING && b == TY_TEXT)
        return 1;
    if (a == TY_DECIMAL && b == TY_DECIMAL)
        return to->scale == from->scale && to->precision >= from->precision;
    if (a == b && (a == TY_TIME || a == TY_TIMESTAMP || a == TY_TIMESTAMPTZ))
        return to->precision >= from->precision;
    return a == b && a != TY_ENUM && col_type_equal(from, to);
}

static int stmts_contain(const stmt_list *l, const char *needle)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].kind == STMT_SQL && l->v[i].sql && strstr(l->v[i].sql, needle))
            return 1;
    return 0;
}

/* The tables a PostgreSQL enum change rewrites: those of its ALTER ...
 * TYPE statements. */
static void pg_type_tables(const stmt_list *l, op_cost *c)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *q = l->v[i].kind == STMT_SQL ? l->v[i].sql : NULL;
        if (!q || !starts_ci(q, "ALTER TABLE \"") || !strstr(q, " TYPE "))
            continue;
        sbuf b = SBUF_INIT;
        for (const char *p = q + 13; *p; p++) {
            if (*p == '"' && p[1] == '"')
                sbuf_addc(&b, *p++);
            else if (*p == '"')
                break;
            else
                sbuf_addc(&b, *p);
        }
        add_table(c, sbuf_str(&b));
        sbuf_free(&b);
    }
}

/* Has t a check that column c IS NOT NULL? PostgreSQL 12+ then sets NOT
 * NULL without reading the table. */
static int not_null_checked(const table *t, const char *c)
{
    for (size_t i = 0; t && i < t->nchecks; i++) {
        const json_t *ck = t->checks[i].check;
        const json_t *col = json_object_get(ck, "column"), *isn = json_object_get(ck, "is_null");
        if (json_is_string(col) && strcmp(json_string_value(col), c) == 0 && json_is_false(isn))
            return 1;
    }
    return 0;
}

static void pg_cost(const schema *after, const before_state *before, const op *o,
                    const stmt_list *l, op_cost *c)
{
    const char *tn = o->table;
    const table *t = tn ? schema_table(after, tn) : NULL;
    int online = o->online && !c->new_table;
    strata_cost cost = STRATA_COST_METADATA;
    const char *why = "a change to the catalog";
    const char *lock = "ACCESS EXCLUSIVE on the table, briefly";
    c->blocks_writes = 0;
    switch (o->kind) {
    case OP_CREATE_TABLE:
    case OP_CREATE_ENUM:
    case OP_DROP_ENUM:
        lock = "none on existing tables";
        break;
    case OP_ADD_COLUMN: {
        const column *col = t ? table_column(t, o->col->name) : NULL;
        if (col && (type_is_serial(col->type.kind) || col->def.kind == DEF_UUID ||
                    col->def.kind == DEF_SQL)) {
            cost = STRATA_COST_REWRITE;
            why = col->def.kind == DEF_SQL
                      ? "an SQL default: the table is rewritten unless the expression is stable"
                      : "a volatile default (a serial's nextval(), gen_random_uuid()): every row "
                        "is written";
        } else if (o->def && (o->def->nidx || o->def->nchecks || o->def->nfks)) {
            cost = STRATA_COST_INPLACE;
            why = "the column's unique, check or foreign key reads every row";
        }
        break;
    }
    case OP_ALTER_COLUMN: {
        const column *old = before->table ? table_column(before->table, o->name) : NULL;
        const column *col = t ? table_column(t, o->name) : NULL;
        if (old && col && (o->alter & ALTER_TYPE) && !col_type_equal(&old->type, &col->type)) {
            int enum_values = old->type.kind == TY_ENUM && col->type.kind == TY_ENUM &&
                              !stmts_contain(l, " ALTER COLUMN ");
            if (!enum_values && !pg_no_rewrite(&old->type, &col->type)) {
                cost = STRATA_COST_REWRITE;
                why = "a type change PostgreSQL makes by rewriting every row";
            } else if (enum_values) {
                why = "enum values added (ALTER TYPE ... ADD VALUE)";
            } else {
                why = "a type change that keeps the stored form (no rewrite)";
            }
        }
        if (old && col && old->nullable && !col->nullable && cost < STRATA_COST_INPLACE) {
            if (not_null_checked(before->table, o->name)) {
                why = "SET NOT NULL proved by a valid check (column IS NOT NULL): no scan";
            } else {
                cost = STRATA_COST_INPLACE;
                why = "SET NOT NULL reads every row to check for NULLs";
            }
        }
        if (cost > STRATA_COST_METADATA)
            lock = "ACCESS EXCLUSIVE on the table while it runs: reads and writes wait";
        break;
    }
    case OP_CREATE_INDEX:
        cost = STRATA_COST_INPLACE;
        why = online ? "builds the index CONCURRENTLY (two passes over the table)"
                     : "builds the index";
        lock = online ? "SHARE UPDATE EXCLUSIVE on the table: reads and writes go on"
                      : "SHARE on the table while the index is built: writes wait";
        break;
    case OP_ADD_UNIQUE:
    case OP_ADD_PRIMARY_KEY:
        cost = STRATA_COST_INPLACE;
        why = "builds the index behind the constraint";
        lock = "ACCESS EXCLUSIVE on the table while the index is built: reads and writes wait";
        break;
    case OP_ADD_FOREIGN_KEY:
        cost = STRATA_COST_INPLACE;
        why = online ? "NOT VALID, then VALIDATE CONSTRAINT reads every row"
                     : "validating the foreign key reads every row";
        lock = online ? "SHARE ROW EXCLUSIVE on both tables briefly, then SHARE UPDATE EXCLUSIVE "
                        "while validating: reads and writes go on"
                      : "SHARE ROW EXCLUSIVE on the table and the referenced table while every "
                        "row is checked: writes to both wait";
        break;
    case OP_ADD_CHECK:
        cost = STRATA_COST_INPLACE;
        why = online ? "NOT VALID, then VALIDATE CONSTRAINT reads every row"
                     : "validating the check reads every row";
        lock = online ? "ACCESS EXCLUSIVE briefly, then SHARE UPDATE EXCLUSIVE while validating: "
                        "reads and writes go on"
                      : "ACCESS EXCLUSIVE on the table while every row is checked: reads and "
                        "writes wait";
        break;
    case OP_ALTER_ENUM:
        if (stmts_contain(l, " ALTER COLUMN ")) {
            cost = STRATA_COST_REWRITE;
            why = "the enum type is re-created: every table using it is rewritten";
            lock = "ACCESS EXCLUSIVE on every table using the enum while it is rewritten";
            pg_type_tables(l, c);
        } else {
            why = "enum values added (ALTER TYPE ... ADD VALUE)";
            lock = "none on tables";
        }
        break;
    case OP_INSERT:
    case OP_UPDATE:
    case OP_DELETE:
        cost = STRATA_COST_DATA;
        why = "writes the rows it names";
        lock = "ROW EXCLUSIVE on the table, row locks on the rows it writes";
        break;
    case OP_SQL:
        cost = STRATA_COST_UNKNOWN;
        why = "raw SQL";
        lock = "whatever the SQL takes";
        break;
    default:
        break;
    }
    if (o->kind == OP_ALTER_COLUMN && cost == STRATA_COST_REWRITE)
        pg_type_tables(l, c);
    if (cost >= STRATA_COST_INPLACE && cost != STRATA_COST_UNKNOWN && tn)
        add_table(c, tn);
    c->blocks_writes = cost >= STRATA_COST_INPLACE && cost != STRATA_COST_UNKNOWN && !online;
    set_cost(c, cost, xstrdup(why));
    c->lock = xstrdup(lock);
}

static void sqlite_cost(const op *o, const stmt_list *l, op_cost *c)
{
    strata_cost cost = STRATA_COST_METADATA;
    const char *why = "a change to the schema";
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].kind == STMT_SQLITE_SAVE_DEPS) {
            cost = STRATA_COST_REBUILD;
            add_table(c, l->v[i].table);
        }
    if (cost == STRATA_COST_REBUILD) {
        why = "the table is rebuilt: a new table, every row copied, the old one dropped";
    } else if (o->kind == OP_SQL) {
        cost = STRATA_COST_UNKNOWN;
        why = "raw SQL";
    } else if (o->kind == OP_INSERT || o->kind == OP_UPDATE || o->kind == OP_DELETE) {
        cost = STRATA_COST_DATA;
        why = "writes the rows it names";
    } else if (o->kind == OP_DROP_COLUMN) {
        cost = STRATA_COST_REWRITE;
        why = "DROP COLUMN rewrites every row without the column";
        add_table(c, o->table);
    } else if (o->kind == OP_CREATE_INDEX || o->kind == OP_ADD_UNIQUE) {
        cost = STRATA_COST_INPLACE;
        why = "builds the index";
        add_table(c, o->table);
    } else if (o->kind == OP_ADD_COLUMN && stmts_contain(l, "strata_o.rowid")) {
        cost = STRATA_COST_REWRITE;
        why = "numbers every row of the new serial column";
        add_table(c, o->table);
    }
    set_cost(c, cost, xstrdup(why));
    c->blocks_writes = cost >= STRATA_COST_INPLACE && cost != STRATA_COST_UNKNOWN;
    c->lock = xstrdup("the database's write lock for the migration: other writers wait");
}

void op_cost_estimate(const compile_target *tg, const schema *after, const before_state *before,
                      const op *o, const stmt_list *stmts, op_cost *out)
{
    memset(out, 0, sizeof *out);
    const table *t =
        o->table ? schema_table(after, o->kind == OP_RENAME_TABLE ? o->to : o->table) : NULL;
    const table *bt = before ? before->table : NULL;
    out->new_table = (t && t->created_in == after->migration_index) ||
                     (!t && bt && bt->created_in == after->migration_index) ||
                     o->kind == OP_CREATE_TABLE;
    if (!stmts->n) {
        out->cost = STRATA_COST_NONE;
        out->detail = xstrdup("nothing runs on this database");
        out->lock = xstrdup("none");
        return;
    }
    switch (tg->dialect) {
    case STRATA_POSTGRES:
        pg_cost(after, before, o, stmts, out);
        break;
    case STRATA_MYSQL:
        mysql_cost(tg, after, before, o, stmts, out);
        break;
    case STRATA_SQLITE:
        sqlite_cost(o, stmts, out);
        break;
    }
}
