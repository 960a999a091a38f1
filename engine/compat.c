/*
 * compat.c - living alongside another migration tool's history: TypeORM's
 * (the one Medusa v1 uses), through a migration's "origin": {"typeorm":
 * NAME}.
 *
 *   --history-compat typeorm  Strata keeps TypeORM's table `migrations` as
 *       TypeORM would have: created with TypeORM's own statement
 *       (dialects/common.c), one row (timestamp, name) per applied
 *       migration, inserted in the order they are applied and deleted when
 *       they are reverted. The row changes in the same transaction as
 *       Strata's own history row: with the migration where it runs in one
 *       transaction; where it runs op by op (MySQL), together with the write
 *       that marks it applied, or removes it, after its last op. So the row
 *       is there exactly when Strata's history says the migration is
 *       applied (or being reverted), whatever moment a crash picks.
 *
 *   migrations adopt --from typeorm  the other way: a database TypeORM
 *       migrated becomes one Strata knows, its rows matched to files by
 *       name (never by timestamp: Medusa repeats timestamps).
 */
#include "runner.h"

#include <stdlib.h>
#include <string.h>

/* TypeORM's timestamp of a migration: the last 13 characters of its name
 * (MigrationExecutor: parseInt(name.substr(-13))); the parser made sure
 * they are digits. */
static long long typeorm_timestamp(const char *name)
{
    size_t len = strlen(name);
    return strtoll(name + (len > 13 ? len - 13 : 0), NULL, 10);
}

static const migration *find_by_id(const runner *r, const char *id)
{
    for (size_t i = 0; i < r->all.n; i++)
        if (strcmp(r->all.v[i]->id, id) == 0)
            return r->all.v[i];
    return NULL;
}

/* Two files may not claim the same TypeORM name: the rows could not tell
 * them apart. */
static int check_unique_names(const runner *r)
{
    for (size_t i = 0; i < r->all.n; i++) {
        const migration *a = r->all.v[i];
        for (size_t j = i + 1; a->origin_typeorm && j < r->all.n; j++) {
            const migration *b = r->all.v[j];
            if (b->origin_typeorm && strcmp(a->origin_typeorm, b->origin_typeorm) == 0)
                return strata_set_error(STRATA_EINPUT,
                                        "%s and %s have the same origin.typeorm '%s'", a->path,
                                        b->path, a->origin_typeorm);
        }
    }
    return 0;
}

int compat_check(runner *r)
{
    const char *c = r->opt->history_compat;
    if (!c)
        return 0;
    if (strcmp(c, "typeorm") != 0)
        return strata_set_error(STRATA_EINPUT,
                                "unknown history compatibility '%s' (known: typeorm)", c);
    int rc = check_unique_names(r);
    if (rc)
        return rc;
    sbuf missing = SBUF_INIT;
    size_t n = 0;
    for (size_t i = 0; i < r->set.n; i++) {
        if (r->set.v[i]->origin_typeorm)
            continue;
        if (n < 5)
            sbuf_addf(&missing, "%s%s", n ? ", " : "", r->set.v[i]->path);
        n++;
    }
    if (n)
        rc = strata_set_error(STRATA_EINPUT,
                              "--history-compat typeorm needs \"origin\": {\"typeorm\": NAME} in "
                              "every migration that applies, so that TypeORM's table can name it; "
                              "%zu lack it: %s%s",
                              n, sbuf_str(&missing), n > 5 ? ", ..." : "");
    sbuf_free(&missing);
    return rc;
}

/* Run `sql` on TypeORM's table: %s is its quoted name, then its columns
 * "timestamp" and "name", quoted; the values are `?` parameters. */
static int typeorm_exec(runner *r, const char *sql, const strata_value *v, size_t n)
{
    char *t = strata_conn_quote_ident(r->conn, TYPEORM_HISTORY_TABLE);
    char *ts = strata_conn_quote_ident(r->conn, "timestamp");
    char *nm = strata_conn_quote_ident(r->conn, "name");
    char *q = xasprintf(sql, t, ts, nm);
    int rc = strata_conn_execp(r->conn, q, v, n, NULL);
    free(q);
    free(nm);
    free(ts);
    free(t);
    return rc;
}

/* Does TypeORM's table have a row named `name`? */
static int typeorm_has(runner *r, const char *name, int *has)
{
    char *t = strata_conn_quote_ident(r->conn, TYPEORM_HISTORY_TABLE);
    char *nm = strata_conn_quote_ident(r->conn, "name");
    char *q = xasprintf("SELECT count(*) FROM %s WHERE %s = ?", t, nm);
    strata_value v = strata_vtext(name);
    char *count = NULL;
    int rc = strata_conn_query_string(r->conn, q, &v, 1, &count);
    *has = count && strcmp(count, "0") != 0;
    free(count);
    free(q);
    free(nm);
    free(t);
    return rc;
}

/* TypeORM's row for migration m: added unless it is there already (a
 * revert undone, a migration recorded again). */
static int typeorm_record(runner *r, const migration *m)
{
    int has = 0;
    int rc = typeorm_has(r, m->origin_typeorm, &has);
    if (rc || has)
        return rc;
    strata_value v[] = {strata_vint(typeorm_timestamp(m->origin_typeorm)),
                        strata_vtext(m->origin_typeorm)};
    return typeorm_exec(r, "INSERT INTO %s (%s, %s) VALUES (?, ?)", v, 2);
}

/* TypeORM's row for migration m removed, as TypeORM's revert does. */
static int typeorm_forget(runner *r, const migration *m)
{
    strata_value v[] = {strata_vint(typeorm_timestamp(m->origin_typeorm)),
                        strata_vtext(m->origin_typeorm)};
    return typeorm_exec(r, "DELETE FROM %s WHERE %s = ? AND %s = ?", v, 2);
}

/* Does a history write of `state` ("applied" up, or NULL: the row goes)
 * change TypeORM's table? */
static int compat_transition(const runner *r, const char *state, const char *dir)
{
    if (!r->opt->history_compat)
        return 0;
    return !state || (strcmp(state, "applied") == 0 && dir && strcmp(dir, "up") == 0);
}

int compat_begin(runner *r, const char *state, const char *dir)
{
    if (!compat_transition(r, state, dir) || strata_conn_in_transaction(r->conn))
        return 0;
    return strata_conn_begin(r->conn) == 0;
}

int compat_end(runner *r, const char *id, const char *state, const char *dir, int began, int rc)
{
    if (!compat_transition(r, state, dir))
        return rc;
    const migration *m = find_by_id(r, id);
    if (!rc && m && m->origin_typeorm) {
        rc = state ? typeorm_record(r, m) : typeorm_forget(r, m);
        if (rc)
            strata_error_prefix("%s TypeORM's history row of %s: ", state ? "writing" : "deleting",
                                id);
    }
    if (began)
        rc = tx_end(r, rc);
    return rc;
}

int compat_prepare(runner *r)
{
    if (!r->opt->history_compat)
        return 0;
    int exists = 0;
    int rc = conn_table_exists(r->conn, TYPEORM_HISTORY_TABLE, &exists);
    if (!rc && !exists) {
        rc = strata_conn_exec(r->conn, typeorm_history_table_sql(r->tg.dialect));
        if (rc)
            return strata_error_prefix("creating TypeORM's history table " TYPEORM_HISTORY_TABLE
                                       ": ");
        say(r, "created TypeORM's history table " TYPEORM_HISTORY_TABLE);
    }
    if (rc)
        return rc;
    /* Migrations applied before the option was given get their rows now,
     * in version order, in one transaction. */
    rc = strata_conn_begin(r->conn);
    size_t added = 0;
    for (size_t i = 0; i < r->set.n && !rc; i++) {
        const migration *m = r->set.v[i];
        const hist_row *h = history_find(&r->hist, m->id);
        if (!h || strcmp(h->state, "applied") != 0 || !m->origin_typeorm)
            continue;
        int has = 0;
        rc = typeorm_has(r, m->origin_typeorm, &has);
        if (!rc && !has) {
            rc = typeorm_record(r, m);
            added++;
        }
    }
    if (rc) {
        strata_conn_rollback(r->conn);
        return strata_error_prefix("adding rows to TypeORM's history table: ");
    }
    rc = strata_conn_commit(r->conn);
    if (!rc && added)
        say(r, "added %zu applied migration%s to TypeORM's history table", added,
            added == 1 ? "" : "s");
    return rc;
}

/* ---- migrations adopt --from typeorm ---- */

typedef struct typeorm_row {
    long long id, timestamp;
    char *name;
} typeorm_row;

/* Every row of TypeORM's table, in the order TypeORM applied them (id). */
static int typeorm_rows(runner *r, typeorm_row **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int exists = 0;
    int rc = conn_table_exists(r->conn, TYPEORM_HISTORY_TABLE, &exists);
    if (rc)
        return rc;
    if (!exists)
        return strata_set_error(STRATA_ESTATE,
                                "%s has no TypeORM history table " TYPEORM_HISTORY_TABLE
                                "; nothing to adopt",
                                strata_conn_url_masked(r->conn));
    char *t = strata_conn_quote_ident(r->conn, TYPEORM_HISTORY_TABLE);
    char *ts = strata_conn_quote_ident(r->conn, "timestamp");
    char *nm = strata_conn_quote_ident(r->conn, "name");
    char *q = xasprintf("SELECT id, %s, %s FROM %s ORDER BY id", ts, nm, t);
    strata_rows *rows = NULL;
    rc = strata_conn_query(r->conn, q, NULL, 0, &rows);
    free(q);
    free(nm);
    free(ts);
    free(t);
    if (rc)
        return strata_error_prefix("reading TypeORM's history table: ");
    size_t cap = 0;
    while ((rc = strata_rows_next(rows)) == 1) {
        *out = xgrow(*out, &cap, *n + 1, sizeof **out);
        typeorm_row *row = &(*out)[(*n)++];
        const char *id = strata_rows_text(rows, 0), *stamp = strata_rows_text(rows, 1);
        const char *name = strata_rows_text(rows, 2);
        row->id = id ? strtoll(id, NULL, 10) : 0;
        row->timestamp = stamp ? strtoll(stamp, NULL, 10) : 0;
        row->name = xstrdup(name ? name : "");
    }
    strata_rows_free(rows);
    return rc < 0 ? rc : 0;
}

/* The schema the migrations build once `adopted` are recorded too: they
 * must replay cleanly before anything is written. */
static int validate_adopted(runner *r, const strvec *adopted)
{
    strvec present = STRVEC_INIT;
    for (size_t i = 0; i < r->hist.n; i++)
        strvec_push(&present, r->hist.v[i].id);
    for (size_t i = 0; i < adopted->n; i++)
        strvec_push(&present, adopted->v[i]);
    migration_set view;
    migrations_select(&r->all, &r->flags, &present, 0, &view, NULL, NULL);
    schema s;
    schema_init(&s);
    int rc = plan_replay(&view, view.n, &s, NULL);
    schema_free(&s);
    free(view.v);
    strvec_free(&present);
    return rc;
}

/* Record the adopted migrations as applied, in TypeORM's order, in one
 * transaction. */
static int record_adopted(runner *r, const strvec *adopted)
{
    int rc = strata_conn_begin(r->conn);
    for (size_t i = 0; i < adopted->n && !rc; i++) {
        const migration *m = find_by_id(r, adopted->v[i]);
        rc = history_insert(r, m, "applied", "up", (int)m->up.n, (int)m->up.n, 0);
    }
    if (rc) {
        strata_conn_rollback(r->conn);
        return rc;
    }
    return strata_conn_commit(r->conn);
}

static int adopt_typeorm(runner *r)
{
    int rc = check_unique_names(r);
    if (!rc && !r->opt->dry_run) {
        if (!(rc = lock_acquire(r)))
            rc = history_prepare(r);
    }
    typeorm_row *rows = NULL;
    size_t n = 0;
    if (!rc)
        rc = typeorm_rows(r, &rows, &n);
    strvec adopted = STRVEC_INIT;
    strata_report *rep = r->report;
    for (size_t i = 0; i < n && !rc; i++) {
        const migration *m = NULL;
        for (size_t k = 0; k < r->all.n && !m; k++)
            if (r->all.v[k]->origin_typeorm &&
                strcmp(r->all.v[k]->origin_typeorm, rows[i].name) == 0)
                m = r->all.v[k];
        if (!m) {
            rep->unmatched = xrealloc(rep->unmatched, (rep->nunmatched + 1) * sizeof(char *));
            rep->unmatched[rep->nunmatched++] =
                xasprintf("%lld %s", rows[i].timestamp, rows[i].name);
            char *w = xasprintf("TypeORM's row %lld (%lld, %s) matches no migration file: not "
                                "adopted",
                                rows[i].id, rows[i].timestamp, rows[i].name);
            warn(r, "%s", w); /* in the report, and said once */
            free(w);
            continue;
        }
        if (history_find(&r->hist, m->id) || strvec_find(&adopted, m->id) >= 0)
            continue; /* Strata's history has it already */
        strvec_push(&adopted, m->id);
    }
    if (!rc)
        rc = validate_adopted(r, &adopted);
    if (!rc && !r->opt->dry_run && adopted.n)
        rc = record_adopted(r, &adopted);
    for (size_t i = 0; i < adopted.n && !rc; i++) {
        const migration *m = find_by_id(r, adopted.v[i]);
        report_add(rep, m, STRATA_MIG_APPLIED, NULL);
        if (!r->opt->dry_run)
            say(r, "adopted  %s (TypeORM's %s)", m->id, m->origin_typeorm);
    }
    for (size_t i = 0; i < n; i++)
        free(rows[i].name);
    free(rows);
    strvec_free(&adopted);
    return rc;
}

int compat_adopt(runner *r, const char *from)
{
    if (!from || strcmp(from, "typeorm") != 0)
        return strata_set_error(STRATA_EINPUT, "cannot adopt from '%s' (known: typeorm)",
                                from ? from : "(nothing)");
    return adopt_typeorm(r);
}
