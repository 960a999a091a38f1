/*
 * mysql.c - the MySQL/MariaDB compiler.
 *
 * What differs from PostgreSQL:
 *   - tables are InnoDB, utf8mb4 with a binary NO PAD collation where the
 *     server has one (mysql_collation), so uniqueness and comparison
 *     behave as on the others: case-sensitive, trailing spaces count;
 *   - enums are inline ENUM(...) column types; changing an enum is a MODIFY
 *     of every column that uses it, restating the whole definition;
 *   - there are no partial indexes: a unique partial index keeps its meaning
 *     through invisible generated columns that hold the indexed value only
 *     where the predicate holds (NULL elsewhere, and NULLs never conflict),
 *     with a unique index on them; STORED, or VIRTUAL where a foreign key
 *     would refuse a STORED one (helper_stored); a non-unique partial index
 *     becomes a plain index;
 *   - MODIFY loses whatever it does not restate, so every column change is
 *     a MODIFY of the complete new definition from the model; foreign keys
 *     through a changed column are dropped and re-added around it;
 *   - dropping a column first drops, explicitly, every index, check and
 *     foreign key that uses it (MySQL would shrink a multi-column index);
 *   - index widths are checked against InnoDB's 3072-byte limit before the
 *     server sees them (utf8mb4 counts 4 bytes a character);
 *   - "online" indexes say ALGORITHM=INPLACE LOCK=NONE, so the server builds
 *     them while writes go on or refuses; "online" foreign keys are added in
 *     place with foreign_key_checks off, then the rows are checked by query.
 */
#include "names.h"
#include "sqlgen.h"

#include <stdlib.h>
#include <string.h>

#define INNODB_MAX_KEY_BYTES 3072

static const strvec *enum_vals(const cctx *c, const column *col)
{
    return column_enum_values(c->s, col);
}

/* A neutral type as MySQL declares it: boolean is tinyint(1), uuid char(36),
 * text longtext, timestamps datetime(p), enums ENUM(...) of their values
 * (MariaDB turns json into longtext with a json_valid check itself). */
static void my_type(sbuf *b, const cctx *c, const column *col)
{
    const col_type *t = &col->type;
    switch (t->kind) {
    case TY_SERIAL:
    case TY_INTEGER:
        sbuf_add(b, "int");
        break;
    case TY_BIGSERIAL:
    case TY_BIGINT:
        sbuf_add(b, "bigint");
        break;
    case TY_SMALLINT:
        sbuf_add(b, "smallint");
        break;
    case TY_DECIMAL:
        sbuf_addf(b, "decimal(%d,%d)", t->precision, t->scale);
        break;
    case TY_REAL:
        sbuf_add(b, "float");
        break;
    case TY_DOUBLE:
        sbuf_add(b, "double");
        break;
    case TY_BOOLEAN:
        sbuf_add(b, "tinyint(1)");
        break;
    case TY_STRING:
        sbuf_addf(b, "varchar(%d)", t->length);
        break;
    case TY_TEXT:
        sbuf_add(b, "longtext");
        break;
    case TY_UUID:
        sbuf_add(b, "char(36)");
        break;
    case TY_DATE:
        sbuf_add(b, "date");
        break;
    case TY_TIME:
        sbuf_addf(b, "time(%d)", t->precision);
        break;
    case TY_TIMESTAMP:
    case TY_TIMESTAMPTZ:
        sbuf_addf(b, "datetime(%d)", t->precision);
        break;
    case TY_JSON:
    case TY_JSONB:
        sbuf_add(b, "json");
        break;
    case TY_BINARY:
        sbuf_add(b, "longblob");
        break;
    case TY_ENUM: {
        const strvec *v = enum_vals(c, col);
        sbuf_add(b, "enum(");
        for (size_t i = 0; v && i < v->n; i++) {
            if (i)
                sbuf_addc(b, ',');
            qstr(b, c, v->v[i]);
        }
        sbuf_addc(b, ')');
        break;
    }
    case TY__COUNT:
        break;
    }
}

static int column_def(sbuf *b, const cctx *c, const column *col)
{
    qid(b, c, col->name);
    sbuf_addc(b, ' ');
    my_type(b, c, col);
    sbuf_add(b, col->nullable ? " NULL" : " NOT NULL");
    if (type_is_serial(col->type.kind))
        sbuf_add(b, " AUTO_INCREMENT");
    int rc = render_default(b, c, col);
    if (col->comment) {
        sbuf_add(b, " COMMENT ");
        qstr(b, c, col->comment);
    }
    return rc;
}

const char *mysql_collation(const compile_target *tg)
{
    if (tg->pad_space)
        return "utf8mb4_bin";
    if (tg->is_mariadb ? tg->version >= 100202 : tg->version >= 80017)
        return tg->is_mariadb ? "utf8mb4_nopad_bin" : "utf8mb4_0900_bin";
    return "utf8mb4_bin";
}

/* Bytes a column takes in an InnoDB index key; -1 when it cannot be indexed. */
static int key_bytes(const column *col)
{
    switch (col->type.kind) {
    case TY_SMALLINT:
        return 2;
    case TY_SERIAL:
    case TY_INTEGER:
    case TY_REAL:
        return 4;
    case TY_BIGSERIAL:
    case TY_BIGINT:
    case TY_DOUBLE:
        return 8;
    case TY_DECIMAL:
        return (col->type.precision + 8) / 9 * 4 + 1;
    case TY_BOOLEAN:
        return 1;
    case TY_STRING:
        return col->type.length * 4;
    case TY_UUID:
        return 36 * 4;
    case TY_DATE:
        return 3;
    case TY_TIME:
        return 3 + (col->type.precision + 1) / 2;
    case TY_TIMESTAMP:
    case TY_TIMESTAMPTZ:
        return 5 + (col->type.precision + 1) / 2;
    case TY_ENUM:
        return 2;
    default:
        return -1;
    }
}

int mysql_index_bytes(const table *t, const index_def *ix)
{
    int total = 0;
    for (size_t i = 0; i < ix->ncols; i++) {
        const column *col = table_column(t, ix->cols[i].name);
        int n = col ? key_bytes(col) : -1;
        if (n < 0)
            return -1;
        total += n;
    }
    return total;
}

static int check_index_width(const cctx *c, const table *t, const index_def *ix)
{
    int total = 0;
    for (size_t i = 0; i < ix->ncols; i++) {
        const column *col = table_column(t, ix->cols[i].name);
        int n = key_bytes(col);
        if (n < 0)
            return cerr(c,
                        "index '%s': column '%s' is %s, which MySQL/MariaDB cannot index without "
                        "a prefix length; use string(n)",
                        ix->name, col->name, type_names[col->type.kind]);
        total += n;
    }
    if (total > INNODB_MAX_KEY_BYTES)
        return cerr(c,
                    "index '%s' is %d bytes wide on MySQL/MariaDB (utf8mb4 strings take 4 bytes "
                    "a character); InnoDB allows %d - shorten the string columns",
                    ix->name, total, INNODB_MAX_KEY_BYTES);
    return 0;
}

/* The primary key is an index too, with the same limits. */
static int check_pk_width(const cctx *c, const table *t)
{
    index_def pk;
    memset(&pk, 0, sizeof pk);
    pk.name = "PRIMARY";
    pk.ncols = t->pk.n;
    pk.cols = xcalloc(t->pk.n + 1, sizeof(index_col));
    for (size_t i = 0; i < t->pk.n; i++)
        pk.cols[i].name = t->pk.v[i];
    int rc = check_index_width(c, t, &pk);
    free(pk.cols);
    return rc;
}

static int check_method(const cctx *c, const index_def *ix)
{
    const char *m = ix->method[STRATA_MYSQL];
    if (m && strcmp(m, "btree") != 0)
        return cerr(c,
                    "index '%s': method %s cannot be expressed on MySQL/MariaDB (InnoDB has only "
                    "btree); give the method per dialect, e.g. {\"postgres\": \"%s\"}",
                    ix->name, m, m);
    return 0;
}

/* Name of the helper column holding index column k of a partial unique:
 * from the index name and the position, so renaming the column keeps it. */
static char *helper_name(const index_def *ix, size_t k)
{
    char *suffix = xasprintf("partial%zu", k + 1);
    char *n = name_generate(ix->name, NULL, 0, suffix);
    free(suffix);
    return n;
}

static int is_partial_unique(const index_def *ix)
{
    return ix->unique && ix->where;
}

/*
 * Are the helper columns of partial unique `ix` of table t STORED?
 * Yes, unless a foreign key of t changes one of the columns they derive
 * from (an index column or a column of the predicate) by itself - ON UPDATE
 * CASCADE or SET NULL, ON DELETE SET NULL -, which InnoDB refuses for a
 * base column of a STORED column (ERROR 1901, either way round); then
 * VIRTUAL. STORED because InnoDB's purge of tables with indexed VIRTUAL
 * columns (open_purge_table) was seen to grow a MariaDB Galera node by 6-13
 * GB in 6 of 11 runs of the Medusa migrations, and never in 9 runs with
 * STORED helpers (docs/operations.md). A pure function of the model: the
 * same schema always has the same helpers, whatever led to it.
 */
int mysql_helpers_stored(const table *t, const index_def *ix)
{
    if (ix->virtual_helpers)
        return 0;
    for (size_t i = 0; i < t->nfks; i++) {
        const fk_def *fk = &t->fks[i];
        if (fk->on_update != FK_CASCADE && fk->on_update != FK_SET_NULL &&
            fk->on_delete != FK_SET_NULL)
            continue;
        for (size_t k = 0; k < fk->cols.n; k++)
            if (index_uses_column(ix, fk->cols.v[k]))
                return 0;
    }
    return 1;
}

/* See compile.h. */
int mysql_fk_base_of_stored(const table *t, const fk_def *fk)
{
    for (size_t i = 0; t && i < t->nidx; i++) {
        const index_def *ix = &t->idx[i];
        if (!is_partial_unique(ix) || !mysql_helpers_stored(t, ix))
            continue;
        for (size_t k = 0; k < fk->cols.n; k++)
            if (index_uses_column(ix, fk->cols.v[k]))
                return 1;
    }
    return 0;
}

/* What an online index build appends to its statement: MySQL and MariaDB
 * build it in place while reads and writes go on, or refuse to run it at
 * all - never a silent table copy under a lock. */
static const char *const online_clause = " ALGORITHM=INPLACE LOCK=NONE";

/* ALTER TABLE t ADD COLUMN helpers..., ADD UNIQUE INDEX ix (helpers).
 * Online, the helpers come first in a statement of their own, VIRTUAL
 * (adding a virtual column is instant; a STORED one would copy the table),
 * then the index in place: both in one statement make MariaDB copy the
 * table. */
static int create_partial_unique(const cctx *c, const table *t, const index_def *ix, int online)
{
    int rc = check_index_width(c, t, ix);
    if (rc)
        return rc;
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, t->name);
    char *where_json = json_dumps(ix->where, JSON_COMPACT | JSON_SORT_KEYS);
    for (size_t k = 0; k < ix->ncols && !rc; k++) {
        const column *col = table_column(t, ix->cols[k].name);
        column h;
        memset(&h, 0, sizeof h);
        h.type = col->type;
        char *hn = helper_name(ix, k);
        sbuf_add(&b, k ? ", ADD COLUMN " : " ADD COLUMN ");
        qid(&b, c, hn);
        free(hn);
        sbuf_addc(&b, ' ');
        my_type(&b, c, &h);
        sbuf_add(&b, " GENERATED ALWAYS AS (IF(");
        rc = render_predicate(&b, c, t, ix->where);
        sbuf_add(&b, ", ");
        qid(&b, c, col->name);
        sbuf_add(&b,
                 !online && mysql_helpers_stored(t, ix) ? ", NULL)) STORED" : ", NULL)) VIRTUAL");
        if (c->tg->caps & STRATA_CAP_INVISIBLE_COLUMN)
            sbuf_add(&b, " INVISIBLE");
        char *comment = xasprintf("strata:partial-unique %s %s", ix->name, where_json);
        if (strlen(comment) > 1000)
            comment[1000] = '\0';
        sbuf_add(&b, " COMMENT ");
        qstr(&b, c, comment);
        free(comment);
    }
    free(where_json);
    if (online && !rc) {
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        sbuf_add(&b, "ALTER TABLE ");
        qid(&b, c, t->name);
        sbuf_add(&b, " ADD UNIQUE INDEX ");
    } else {
        sbuf_add(&b, ", ADD UNIQUE INDEX ");
    }
    qid(&b, c, ix->name);
    sbuf_add(&b, " (");
    for (size_t k = 0; k < ix->ncols; k++) {
        char *hn = helper_name(ix, k);
        if (k)
            sbuf_add(&b, ", ");
        qid(&b, c, hn);
        free(hn);
    }
    sbuf_addc(&b, ')');
    if (online)
        sbuf_add(&b, ", ALGORITHM=INPLACE, LOCK=NONE");
    if (rc) {
        sbuf_free(&b);
        return rc;
    }
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    return 0;
}

/* Once a new index serves a foreign key, the index named like the key
 * (InnoDB's own, or the one drop_index put in place of a dropped index)
 * goes: InnoDB drops its own by itself, and dropping ours too keeps every
 * database in the same state whatever the history of up and down. */
static void drop_superseded_fk_indexes(const cctx *c, const table *t, const index_def *ix)
{
    for (size_t k = 0; k < t->nfks; k++) {
        const fk_def *fk = &t->fks[k];
        if (fk->cols.n > ix->ncols || table_index(t, fk->name))
            continue;
        int prefix = 1;
        for (size_t i = 0; i < fk->cols.n; i++)
            prefix &= strcmp(fk->cols.v[i], ix->cols[i].name) == 0;
        if (!prefix)
            continue;
        sbuf b = SBUF_INIT;
        sbuf_add(&b, "ALTER TABLE ");
        qid(&b, c, t->name);
        sbuf_add(&b, c->tg->is_mariadb ? " DROP INDEX IF EXISTS " : " DROP INDEX ");
        qid(&b, c, fk->name);
        stmt_add_owned(c->out, STMT_IGNORE_MISSING, sbuf_detach(&b));
    }
}

static int create_index(const cctx *c, const table *t, const index_def *ix, int if_not_exists,
                        int online)
{
    int rc = check_method(c, ix);
    if (rc)
        return rc;
    if (is_partial_unique(ix))
        return create_partial_unique(c, t, ix, online);
    if ((rc = check_index_width(c, t, ix)))
        return rc;
    sbuf b = SBUF_INIT;
    sbuf_add(&b, ix->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
    if (if_not_exists && c->tg->is_mariadb)
        sbuf_add(&b, "IF NOT EXISTS ");
    qid(&b, c, ix->name);
    sbuf_add(&b, " ON ");
    qid(&b, c, t->name);
    sbuf_add(&b, " (");
    render_index_cols(&b, c, ix);
    sbuf_addc(&b, ')');
    if (online)
        sbuf_add(&b, online_clause);
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    drop_superseded_fk_indexes(c, t, ix);
    return 0;
}

/* A foreign key added online. With foreign_key_checks on, InnoDB adds a
 * foreign key only by copying the table (writes blocked); with them off it
 * adds it in place, without looking at the rows. So: checks off for this
 * one statement (on again if it fails), the key added in place, checks on,
 * then the rows are checked by a query - once the key exists every new
 * write is checked by InnoDB, so a row that slipped in before is found. */
static void add_fk_online(const cctx *c, const table *t, const fk_def *fk)
{
    stmt_add(c->out, 0, "SET SESSION foreign_key_checks = 0");
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, t->name);
    sbuf_add(&b, " ADD ");
    render_fk_clause(&b, c, fk);
    sbuf_add(&b, ", ALGORITHM=INPLACE, LOCK=NONE");
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    stmt_set_cleanup(c->out, NULL, xstrdup("SET SESSION foreign_key_checks = 1"));
    stmt_add(c->out, 0, "SET SESSION foreign_key_checks = 1");
    stmt_add_assert(c->out, fk_orphan_query(c, t->name, fk, 0, "strata_c", "strata_p", " AS "),
                    xasprintf("foreign key '%s': rows of '%s' reference rows of '%s' that do not "
                              "exist",
                              fk->name, t->name, fk->ref_table));
}

/* Does an index (other than `skip`) or the primary key of t start with
 * the columns of fk? InnoDB needs one for every foreign key. */
static int fk_has_index(const table *t, const fk_def *fk, const index_def *skip)
{
    size_t n = fk->cols.n;
    if (t->pk.n >= n) {
        int ok = 1;
        for (size_t i = 0; i < n; i++)
            ok &= strcmp(t->pk.v[i], fk->cols.v[i]) == 0;
        if (ok)
            return 1;
    }
    for (size_t k = 0; k < t->nidx; k++) {
        const index_def *ix = &t->idx[k];
        if (ix == skip || ix->ncols < n || is_partial_unique(ix))
            continue;
        int ok = 1;
        for (size_t i = 0; i < n; i++)
            ok &= strcmp(ix->cols[i].name, fk->cols.v[i]) == 0;
        if (ok)
            return 1;
    }
    return 0;
}

static void drop_index(const cctx *c, const char *table_name, const index_def *ix, int if_exists)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, table_name);
    /* keep InnoDB's foreign keys served: an index named like the foreign
     * key takes over (the way InnoDB itself would have made one) */
    const table *bt = c->before->table;
    for (size_t k = 0; ix && bt && strcmp(bt->name, table_name) == 0 && k < bt->nfks; k++) {
        const fk_def *fk = &bt->fks[k];
        const table *after = find_table(c, table_name);
        if (!after || !table_fk(after, fk->name))
            continue; /* the foreign key goes too */
        if (fk_has_index(bt, fk, NULL) && !fk_has_index(bt, fk, table_index(bt, ix->name))) {
            sbuf_add(&b, " ADD INDEX ");
            qid(&b, c, fk->name);
            sbuf_add(&b, " (");
            qid_list(&b, c, (const char *const *)fk->cols.v, fk->cols.n);
            sbuf_add(&b, "),");
        }
    }
    sbuf_add(&b, " DROP INDEX ");
    if (if_exists && c->tg->is_mariadb)
        sbuf_add(&b, "IF EXISTS ");
    qid(&b, c, ix ? ix->name : c->o->name);
    if (ix && is_partial_unique(ix))
        for (size_t k = 0; k < ix->ncols; k++) {
            char *hn = helper_name(ix, k);
            sbuf_add(&b, ", DROP COLUMN ");
            qid(&b, c, hn);
            free(hn);
        }
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
}

/* Drop a foreign key and the index InnoDB created for it (named like it),
 * unless the model has an index of that name. */
static void drop_fk(const cctx *c, const table *t, const char *name, int if_exists)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, t ? t->name : c->o->table);
    sbuf_add(&b, " DROP FOREIGN KEY ");
    if (if_exists && c->tg->is_mariadb)
        sbuf_add(&b, "IF EXISTS ");
    qid(&b, c, name);
    stmt_add_owned(c->out, if_exists ? STMT_IGNORE_MISSING : 0, sbuf_detach(&b));
    if (t && table_index(t, name))
        return;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, t ? t->name : c->o->table);
    sbuf_add(&b, " DROP INDEX ");
    if (c->tg->is_mariadb)
        sbuf_add(&b, "IF EXISTS ");
    qid(&b, c, name);
    stmt_add_owned(c->out, STMT_IGNORE_MISSING, sbuf_detach(&b));
}

static void drop_check(const cctx *c, const char *table_name, const char *name)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, table_name);
    sbuf_add(&b,
             c->tg->is_mariadb || c->tg->version >= 80019 ? " DROP CONSTRAINT " : " DROP CHECK ");
    qid(&b, c, name);
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
}

/* The KEY an AUTO_INCREMENT column that is not the primary key needs. */
static char *serial_key_name(const table *t, const column *col)
{
    const char *cn = col->name;
    return name_generate(t->name, &cn, 1, "serial");
}

static int needs_serial_key(const table *t, const column *col)
{
    return type_is_serial(col->type.kind) && !(t->pk.n && strcmp(t->pk.v[0], col->name) == 0);
}

/* CREATE TABLE on MySQL: checked first against InnoDB's limits (index
 * methods, key widths); then columns, primary key, the KEY each non-key
 * AUTO_INCREMENT column needs, indexes and unique constraints inline,
 * checks, and the foreign keys to tables that exist already (the others are
 * added with their table). Partial unique indexes come after, as helper
 * columns with a unique index. */
static int compile_create_table(const cctx *c)
{
    if (c->before->table && c->o->if_not_exists)
        return 0;
    const table *t = find_table(c, c->o->table);
    int rc = 0;
    for (size_t i = 0; i < t->nidx && !rc; i++) {
        rc = check_method(c, &t->idx[i]);
        if (!rc)
            rc = check_index_width(c, t, &t->idx[i]);
    }
    if (t->pk.n && !rc)
        rc = check_pk_width(c, t);
    if (rc)
        return rc;
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "CREATE TABLE ");
    if (c->o->if_not_exists)
        sbuf_add(&b, "IF NOT EXISTS ");
    qid(&b, c, t->name);
    sbuf_add(&b, " (\n  ");
    for (size_t i = 0; i < t->ncols && !rc; i++) {
        if (i)
            sbuf_add(&b, ",\n  ");
        rc = column_def(&b, c, &t->cols[i]);
    }
    if (t->pk.n) {
        sbuf_add(&b, ",\n  PRIMARY KEY (");
        qid_list(&b, c, (const char *const *)t->pk.v, t->pk.n);
        sbuf_addc(&b, ')');
    }
    for (size_t i = 0; i < t->ncols; i++)
        if (needs_serial_key(t, &t->cols[i])) {
            char *kn = serial_key_name(t, &t->cols[i]);
            sbuf_add(&b, ",\n  KEY ");
            qid(&b, c, kn);
            sbuf_add(&b, " (");
            qid(&b, c, t->cols[i].name);
            sbuf_addc(&b, ')');
            free(kn);
        }
    for (size_t i = 0; i < t->nidx; i++) {
        const index_def *ix = &t->idx[i];
        if (is_partial_unique(ix))
            continue;
        if (ix->constraint) {
            sbuf_add(&b, ",\n  ");
            render_unique_clause(&b, c, ix);
            continue;
        }
        sbuf_add(&b, ix->unique ? ",\n  UNIQUE INDEX " : ",\n  INDEX ");
        qid(&b, c, ix->name);
        sbuf_add(&b, " (");
        render_index_cols(&b, c, ix);
        sbuf_addc(&b, ')');
    }
    for (size_t i = 0; i < t->nchecks && !rc; i++) {
        sbuf_add(&b, ",\n  ");
        rc = render_check_clause(&b, c, t, &t->checks[i]);
    }
    for (size_t i = 0; i < t->nfks; i++) {
        if (!find_table(c, t->fks[i].ref_table))
            continue;
        sbuf_add(&b, ",\n  ");
        render_fk_clause(&b, c, &t->fks[i]);
    }
    sbuf_addf(&b, "\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=%s", mysql_collation(c->tg));
    if (rc) {
        sbuf_free(&b);
        return rc;
    }
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    for (size_t i = 0; i < t->nidx && !rc; i++)
        if (is_partial_unique(&t->idx[i]))
            rc = create_partial_unique(c, t, &t->idx[i], 0);
    add_pending_fks(c, t);
    return rc;
}

static int compile_add_column(const cctx *c)
{
    if (c->before->table && table_column(c->before->table, c->o->col->name))
        return 0;
    const table *t = find_table(c, c->o->table);
    const column *col = table_column(t, c->o->col->name);
    add_empty_table_check(c, t, col);
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, t->name);
    sbuf_add(&b, " ADD COLUMN ");
    int rc = column_def(&b, c, col);
    if (needs_serial_key(t, col)) {
        char *kn = serial_key_name(t, col);
        sbuf_add(&b, ", ADD KEY ");
        qid(&b, c, kn);
        sbuf_add(&b, " (");
        qid(&b, c, col->name);
        sbuf_addc(&b, ')');
        free(kn);
    }
    if (rc) {
        sbuf_free(&b);
        return rc;
    }
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    const table *def = c->o->def;
    for (size_t i = 0; def && i < def->nidx && !rc; i++) {
        const index_def *ix = table_index(t, def->idx[i].name);
        rc = check_index_width(c, t, ix);
        if (!rc)
            add_unique(c, t, ix);
    }
    for (size_t i = 0; def && i < def->nchecks && !rc; i++)
        rc = add_check(c, t, table_check(t, def->checks[i].name));
    for (size_t i = 0; def && i < def->nfks; i++)
        add_fk(c, t->name, table_fk(t, def->fks[i].name));
    return rc;
}

static int compile_drop_column(const cctx *c)
{
    const table *bt = c->before->table;
    const column *col = bt ? table_column(bt, c->o->name) : NULL;
    if (!col)
        return 0;
    const char *cn = col->name;
    for (size_t i = 0; i < bt->nfks; i++)
        if (fk_uses_column(&bt->fks[i], bt->name, cn))
            drop_fk(c, bt, bt->fks[i].name, 0);
    for (size_t i = 0; i < bt->nchecks; i++)
        if (check_uses_column(&bt->checks[i], cn))
            drop_check(c, bt->name, bt->checks[i].name);
    for (size_t i = 0; i < bt->nidx; i++)
        if (index_uses_column(&bt->idx[i], cn))
            drop_index(c, bt->name, &bt->idx[i], 0);
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, bt->name);
    sbuf_add(&b, " DROP COLUMN ");
    qid(&b, c, cn);
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    return 0;
}

/* Refuse (at run time) to remove enum values that rows still hold. */
static void assert_enum_values(const cctx *c, const char *table_name, const column *col,
                               const strvec *new_vals, const char *enum_label)
{
    sbuf q = SBUF_INIT;
    sbuf_add(&q, "SELECT 1 FROM ");
    qid(&q, c, table_name);
    sbuf_add(&q, " WHERE ");
    qid(&q, c, col->name);
    sbuf_add(&q, " NOT IN (");
    for (size_t i = 0; i < new_vals->n; i++) {
        if (i)
            sbuf_add(&q, ", ");
        qstr(&q, c, new_vals->v[i]);
    }
    sbuf_add(&q, ") LIMIT 1");
    stmt_add_assert(c->out, sbuf_detach(&q),
                    xasprintf("enum %s: column '%s.%s' holds a value that the new list removes",
                              enum_label, table_name, col->name));
}

static int modify_column(const cctx *c, const table *t, const column *col)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, "ALTER TABLE ");
    qid(&b, c, t->name);
    sbuf_add(&b, " MODIFY COLUMN ");
    int rc = column_def(&b, c, col);
    if (rc) {
        sbuf_free(&b);
        return rc;
    }
    stmt_add_owned(c->out, 0, sbuf_detach(&b));
    return 0;
}

/* MODIFY a column, dropping and re-adding the foreign keys through it and
 * the partial unique indexes whose helper columns copy it. */
static int modify_with_dependents(const cctx *c, const table *t, const column *col,
                                  int type_changed)
{
    const table *bt = c->before->table ? c->before->table : t;
    const char *cn = col->name;
    /* foreign keys: this table's through the column, and others' to it */
    /* InnoDB refuses to change the type of a column a foreign key uses
     * (error 1832); a default or nullability change is fine as it is */
    for (size_t i = 0; type_changed && i < c->s->ntables; i++) {
        const table *other = &c->s->tables[i];
        for (size_t k = 0; k < other->nfks; k++) {
            const fk_def *fk = &other->fks[k];
            if ((other == t && strvec_find(&fk->cols, cn) >= 0) ||
                (strcmp(fk->ref_table, t->name) == 0 && strvec_find(&fk->ref_cols, cn) >= 0))
                drop_fk(c, other == t ? bt : other, fk->name, 0);
        }
    }
    if (type_changed)
        for (size_t i = 0; i < bt->nidx; i++)
            if (is_partial_unique(&bt->idx[i]) && index_uses_column(&bt->idx[i], cn))
                drop_index(c, bt->name, &bt->idx[i], 0);
    int rc = modify_column(c, t, col);
    if (type_changed)
        for (size_t i = 0; i < t->nidx && !rc; i++)
            if (is_partial_unique(&t->idx[i]) && index_uses_column(&t->idx[i], cn))
                rc = create_partial_unique(c, t, &t->idx[i], 0);
    for (size_t i = 0; type_changed && i < c->s->ntables; i++) {
        const table *other = &c->s->tables[i];
        for (size_t k = 0; k < other->nfks; k++) {
            const fk_def *fk = &other->fks[k];
            if ((other == t && strvec_find(&fk->cols, cn) >= 0) ||
                (strcmp(fk->ref_table, t->name) == 0 && strvec_find(&fk->ref_cols, cn) >= 0))
                add_fk(c, other->name, fk);
        }
    }
    return rc;
}

static int compile_alter_column(const cctx *c)
{
    const table *t = find_table(c, c->o->table);
    const column *col = table_column(t, c->o->name);
    const column *old = table_column(c->before->table, c->o->name);
    int type_changed = (c->o->alter & ALTER_TYPE) && !col_type_equal(&old->type, &col->type);
    if (type_changed && col->type.kind == TY_ENUM)
        assert_enum_values(c, t->name, col, enum_vals(c, col),
                           col->type.enum_name ? col->type.enum_name : "(inline)");
    for (size_t i = 0; type_changed && i < t->nidx; i++)
        if (index_uses_column(&t->idx[i], col->name)) {
            int rc = check_index_width(c, t, &t->idx[i]);
            if (rc)
                return rc;
        }
    return modify_with_dependents(c, t, col, type_changed);
}

static int compile_alter_enum(const cctx *c)
{
    int rc = 0;
    for (size_t i = 0; i < c->s->ntables && !rc; i++) {
        const table *t = &c->s->tables[i];
        for (size_t k = 0; k < t->ncols && !rc; k++) {
            const column *col = &t->cols[k];
            if (col->type.kind == TY_ENUM && col->type.enum_name &&
                strcmp(col->type.enum_name, c->o->name) == 0) {
                assert_enum_values(c, t->name, col, &c->o->values, c->o->name);
                rc = modify_column(c, t, col);
            }
        }
    }
    return rc;
}

/* The partial unique indexes of the op's table, before and after it, whose
 * helpers change between STORED and VIRTUAL (helper_stored) because the op
 * adds or drops a foreign key: dropped before the op (`after` 0), made again
 * after it (`after` 1). */
static int helpers_change_kind(const cctx *c, int after)
{
    const op *o = c->o;
    if (o->kind != OP_ADD_FOREIGN_KEY && o->kind != OP_DROP_FOREIGN_KEY &&
        o->kind != OP_DROP_COLUMN)
        return 0;
    const table *bt = c->before->table, *t = o->table ? find_table(c, o->table) : NULL;
    for (size_t i = 0; bt && t && i < t->nidx; i++) {
        const index_def *ix = &t->idx[i], *bix = table_index(bt, ix->name);
        if (!is_partial_unique(ix) || !bix || !is_partial_unique(bix) ||
            mysql_helpers_stored(t, ix) == mysql_helpers_stored(bt, bix))
            continue;
        if (!after) {
            drop_index(c, bt->name, bix, 0);
            continue;
        }
        int rc = create_partial_unique(c, t, ix, 0);
        if (rc)
            return rc;
    }
    return 0;
}

static int compile_op_mysql(cctx *c);

/* The MySQL/MariaDB compiler: one operation, the model after it in c->s,
 * the table before it in c->before. What MySQL lacks is emulated here or
 * in the helpers above: RENAME COLUMN on old servers (CHANGE COLUMN),
 * partial unique indexes, and the extra KEY of AUTO_INCREMENT columns. */
int compile_mysql(cctx *c)
{
    helpers_change_kind(c, 0);
    int rc = compile_op_mysql(c);
    return rc ? rc : helpers_change_kind(c, 1);
}

static int compile_op_mysql(cctx *c)
{
    const op *o = c->o;
    const table *t = o->table ? find_table(c, o->table) : NULL;
    sbuf b = SBUF_INIT;
    switch (o->kind) {
    case OP_CREATE_TABLE:
        return compile_create_table(c);
    case OP_DROP_TABLE:
        sbuf_add(&b, o->if_exists ? "DROP TABLE IF EXISTS " : "DROP TABLE ");
        qid(&b, c, o->table);
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        return 0;
    case OP_RENAME_TABLE:
        sbuf_add(&b, "RENAME TABLE ");
        qid(&b, c, o->table);
        sbuf_add(&b, " TO ");
        qid(&b, c, o->to);
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        return 0;
    case OP_ADD_COLUMN:
        return compile_add_column(c);
    case OP_DROP_COLUMN:
        return compile_drop_column(c);
    case OP_RENAME_COLUMN:
        sbuf_add(&b, "ALTER TABLE ");
        qid(&b, c, o->table);
        if (c->tg->caps & STRATA_CAP_RENAME_COLUMN) {
            sbuf_add(&b, " RENAME COLUMN ");
            qid(&b, c, o->name);
            sbuf_add(&b, " TO ");
            qid(&b, c, o->to);
        } else {
            sbuf_add(&b, " CHANGE COLUMN ");
            qid(&b, c, o->name);
            sbuf_addc(&b, ' ');
            int rc = column_def(&b, c, table_column(t, o->to));
            if (rc) {
                sbuf_free(&b);
                return rc;
            }
        }
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        /* the helper columns of a partial unique over the renamed column
         * carry its predicate in their comment: write them again */
        for (size_t i = 0; i < t->nidx; i++) {
            const index_def *ix = &t->idx[i];
            if (!is_partial_unique(ix) || !index_uses_column(ix, o->to))
                continue;
            drop_index(c, t->name, table_index(c->before->table, ix->name), 0);
            int rc = create_partial_unique(c, t, ix, 0);
            if (rc)
                return rc;
        }
        return 0;
    case OP_ALTER_COLUMN:
        return compile_alter_column(c);
    case OP_CREATE_INDEX:
        if (c->before->table && table_index(c->before->table, o->name) && o->if_not_exists)
            return 0;
        return create_index(c, t, table_index(t, o->name), o->if_not_exists, op_wants_online(c, t));
    case OP_ADD_UNIQUE: {
        const index_def *ix = table_index(t, o->name);
        int rc = check_index_width(c, t, ix);
        if (rc)
            return rc;
        add_unique(c, t, ix);
        drop_superseded_fk_indexes(c, t, ix);
        return 0;
    }
    case OP_DROP_INDEX:
    case OP_DROP_UNIQUE: {
        const index_def *ix = c->before->table ? table_index(c->before->table, o->name) : NULL;
        if (!ix && !o->if_exists)
            return 0;
        drop_index(c, o->table, ix, o->if_exists);
        return 0;
    }
    case OP_ADD_FOREIGN_KEY:
        if (op_wants_online(c, t))
            add_fk_online(c, t, table_fk(t, o->name));
        else
            add_fk(c, o->table, table_fk(t, o->name));
        return 0;
    case OP_DROP_FOREIGN_KEY:
        drop_fk(c, t, o->name, o->if_exists);
        return 0;
    case OP_ADD_PRIMARY_KEY: {
        int rc = check_pk_width(c, t);
        if (rc)
            return rc;
        sbuf_add(&b, "ALTER TABLE ");
        qid(&b, c, o->table);
        for (size_t i = 0; i < t->pk.n; i++) {
            const column *bc = table_column(c->before->table, t->pk.v[i]);
            if (bc && bc->nullable) {
                sbuf_add(&b, " MODIFY COLUMN ");
                int rc = column_def(&b, c, table_column(t, t->pk.v[i]));
                if (rc) {
                    sbuf_free(&b);
                    return rc;
                }
                sbuf_addc(&b, ',');
            }
        }
        sbuf_add(&b, " ADD PRIMARY KEY (");
        qid_list(&b, c, (const char *const *)t->pk.v, t->pk.n);
        sbuf_addc(&b, ')');
        /* a serial that becomes the key no longer needs its own KEY */
        const column *pc = t->pk.n == 1 ? table_column(t, t->pk.v[0]) : NULL;
        if (pc && type_is_serial(pc->type.kind)) {
            char *kn = serial_key_name(t, pc);
            sbuf_add(&b, ", DROP KEY ");
            qid(&b, c, kn);
            free(kn);
        }
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        return 0;
    }
    case OP_DROP_PRIMARY_KEY: {
        sbuf_add(&b, "ALTER TABLE ");
        qid(&b, c, o->table);
        /* an AUTO_INCREMENT column must stay the first column of some key */
        const table *bt = c->before->table;
        const column *pc = bt && bt->pk.n == 1 ? table_column(bt, bt->pk.v[0]) : NULL;
        if (pc && type_is_serial(pc->type.kind)) {
            char *kn = serial_key_name(t, pc);
            sbuf_add(&b, " ADD KEY ");
            qid(&b, c, kn);
            sbuf_add(&b, " (");
            qid(&b, c, pc->name);
            sbuf_add(&b, "),");
            free(kn);
        }
        sbuf_add(&b, " DROP PRIMARY KEY");
        stmt_add_owned(c->out, 0, sbuf_detach(&b));
        return 0;
    }
    case OP_ADD_CHECK:
        return add_check(c, t, table_check(t, o->name));
    case OP_DROP_CHECK:
        drop_check(c, o->table, o->name);
        return 0;
    case OP_CREATE_ENUM:
    case OP_DROP_ENUM:
        return 0; /* enums live in their columns' types */
    case OP_ALTER_ENUM:
        return compile_alter_enum(c);
    case OP_INSERT:
    case OP_UPDATE:
    case OP_DELETE:
        return compile_dml(c);
    case OP_SQL:
        return compile_sql(c);
    case OP__COUNT:
        break;
    }
    return 0;
}
