/*
 * check.c - `strata check`: proving a migration set (and a seed) portable
 * across databases, for cross-database CI matrices.
 *
 * Every database runs the same steps in its own thread: apply every
 * migration, read the schema back, revert all, verify nothing is left,
 * apply again and verify the schema is the same as the first time, then
 * seed when a seed file is given and take row counts and per-table content
 * checksums. Then the schemas (and the data) are compared across databases,
 * with the documented per-dialect differences not counted (diff.c's
 * `portable`).
 *
 * The content checksum of a table is the SHA-256 of its rows, each row
 * rendered dialect-neutrally (booleans as true/false, numbers by value,
 * timestamps without zone suffix, JSON re-serialised with sorted keys) and
 * the rows sorted, leaving out what a database generates: primary and
 * foreign keys, uuid columns, and columns whose default is now or uuid.
 */
#include "introspect.h"
#include "migration.h"
#include "names.h"
#include "options.h"
#include "seed.h"

#include <ctype.h>
#include <math.h>
#include <mysql.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* What the databases' threads share: the progress callback is called
 * under `lock`, one call at a time. */
typedef struct check_shared {
    pthread_mutex_t lock;
    double start;
    /* with opt->parallel: the databases not started yet, next .. n */
    struct check_db *dbs;
    size_t next, n;
} check_shared;

typedef struct check_db {
    const char *url;
    check_shared *shared;
    char *label;
    strata_dialect dialect;
    const strata_check_options *opt;
    /* results */
    strata_check_step *steps;
    size_t nsteps, cap;
    schema first;
    int have_schema;
    strvec tables;    /* seeded: table names */
    long long *rows;  /* row count per table */
    strvec checksums; /* content checksum per table */
    double seconds;
} check_db;

/* The steps a database runs when each passes (see check_one). */
static size_t steps_total(const strata_check_options *opt)
{
    return opt->seed_file ? 9 : 7;
}

/* Record a finished step, and tell the caller's progress callback. */
static void step(check_db *db, const char *name, int ok, const char *message, double t0)
{
    db->steps = xgrow(db->steps, &db->cap, db->nsteps + 1, sizeof *db->steps);
    strata_check_step *s = &db->steps[db->nsteps++];
    s->database = xstrdup(db->label);
    s->step = xstrdup(name);
    s->ok = ok;
    s->message = message ? xstrdup(message) : NULL;
    s->seconds = now_seconds() - t0;
    if (!db->opt->progress_cb)
        return;
    strata_check_progress p;
    memset(&p, 0, sizeof p);
    p.database = db->label;
    p.step = name;
    p.ok = ok;
    p.steps_done = db->nsteps;
    p.steps_total = steps_total(db->opt);
    pthread_mutex_lock(&db->shared->lock);
    p.seconds = now_seconds() - db->shared->start;
    db->opt->progress_cb(&p, db->opt->progress_payload);
    pthread_mutex_unlock(&db->shared->lock);
}

static int migrate(strata_conn *c, const char *dir, int revert)
{
    strata_options opt = STRATA_OPTIONS_INIT;
    opt.migrations_dir = dir;
    opt.lock_timeout = 60;
    opt.all = revert;
    strata_report *rep = NULL;
    int rc =
        revert ? strata_migrations_revert(c, &opt, &rep) : strata_migrations_run(c, &opt, &rep);
    strata_report_free(rep);
    return rc;
}

/* ---- content checksums ---- */

static int is_generated(const table *t, const column *col)
{
    if (table_in_pk(t, col->name) || col->type.kind == TY_UUID || col->def.kind == DEF_NOW ||
        col->def.kind == DEF_UUID || type_is_serial(col->type.kind))
        return 1;
    for (size_t i = 0; i < t->nfks; i++)
        if (strvec_find(&t->fks[i].cols, col->name) >= 0)
            return 1;
    return 0;
}

/* Crockford base32, as in ULIDs */
static int is_ulid_char(char c)
{
    return (c >= '0' && c <= '9') ||
           (c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U');
}

/* Text with what a database run generates masked: prefix_ULID ids (as the
 * seed's $id and Medusa's ids make them) and salted scrypt-kdf hashes. */
static void neutral_text(sbuf *b, const char *s, size_t n)
{
    if (n >= 8 && memcmp(s, "c2NyeXB0", 8) == 0) { /* base64 of "scrypt" */
        sbuf_add(b, "<scrypt-kdf>");
        return;
    }
    size_t i = 0;
    while (i < n) {
        /* [a-z]+_ followed by 26 ULID characters */
        size_t j = i;
        while (j < n && s[j] >= 'a' && s[j] <= 'z')
            j++;
        if (j > i && j < n && s[j] == '_' && j + 27 <= n) {
            size_t k = 0;
            while (k < 26 && is_ulid_char(s[j + 1 + k]))
                k++;
            if (k == 26 && (j + 27 == n || !is_ulid_char(s[j + 27]))) {
                sbuf_addn(b, s + i, j - i + 1);
                sbuf_add(b, "<id>");
                i = j + 27;
                continue;
            }
        }
        if (j > i) {
            sbuf_addn(b, s + i, j - i);
            i = j;
        } else {
            sbuf_addc(b, s[i++]);
        }
    }
}

/* A value as dialect-neutral text. */
static void neutral_value(sbuf *b, const column *col, const strata_value *v)
{
    if (v->type == STRATA_VNULL) {
        sbuf_add(b, "\\N");
        return;
    }
    if (v->type == STRATA_VBOOL || col->type.kind == TY_BOOLEAN) {
        sbuf_add(b, v->i || (v->s && (v->s[0] == 't' || v->s[0] == '1')) ? "true" : "false");
        return;
    }
    if (v->type == STRATA_VINT) {
        sbuf_addf(b, "%lld", (long long)v->i);
        return;
    }
    if (v->type == STRATA_VREAL || col->type.kind == TY_DECIMAL || col->type.kind == TY_REAL ||
        col->type.kind == TY_DOUBLE) {
        double d = v->type == STRATA_VREAL ? v->d : strtod(v->s ? v->s : "0", NULL);
        if (col->type.kind == TY_REAL)
            sbuf_addf(b, "%.6g", d);
        else
            sbuf_addf(b, "%.15g", d);
        return;
    }
    if (type_is_json(col->type.kind) && v->s) {
        json_t *j = json_loadb(v->s, v->len, JSON_DECODE_ANY, NULL);
        if (j) {
            char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
            sbuf_add(b, t);
            free(t);
            json_decref(j);
            return;
        }
    }
    if ((type_is_time(col->type.kind) || col->type.kind == TY_DATE) && v->s) {
        /* drop a zone suffix and trailing fractional zeros */
        size_t n = v->len;
        const char *s = v->s;
        if (n > 19 && (s[n - 3] == '+' || s[n - 3] == '-') && s[n - 6] != '-')
            n -= 3;
        while (n > 19 && memchr(s, '.', n) && (s[n - 1] == '0' || s[n - 1] == '.')) {
            n--;
            if (s[n] == '.')
                break;
        }
        sbuf_addn(b, s, n);
        return;
    }
    if (v->type == STRATA_VBLOB) {
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < v->len; i++) {
            sbuf_addc(b, hex[(unsigned char)v->s[i] >> 4]);
            sbuf_addc(b, hex[(unsigned char)v->s[i] & 15]);
        }
        return;
    }
    neutral_text(b, v->s ? v->s : "", v->len);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int table_content(strata_conn *c, const table *t, long long *rows, char hash[65])
{
    strata_dialect d = strata_conn_dialect(c);
    sbuf q = SBUF_INIT;
    sbuf_add(&q, "SELECT ");
    int ncols = 0;
    const column **cols = xcalloc(t->ncols + 1, sizeof *cols);
    for (size_t i = 0; i < t->ncols; i++) {
        if (is_generated(t, &t->cols[i]))
            continue;
        char *qc = strata_quote_ident(d, t->cols[i].name);
        sbuf_addf(&q, "%s%s", ncols ? ", " : "", qc);
        free(qc);
        cols[ncols++] = &t->cols[i];
    }
    if (!ncols)
        sbuf_add(&q, "1");
    char *qt = strata_quote_ident(d, t->name);
    sbuf_addf(&q, " FROM %s", qt);
    free(qt);
    strata_rows *r;
    int rc = strata_conn_query(c, sbuf_str(&q), NULL, 0, &r);
    sbuf_free(&q);
    if (rc) {
        free(cols);
        return rc;
    }
    strvec lines = STRVEC_INIT;
    while ((rc = strata_rows_next(r)) == 1) {
        sbuf line = SBUF_INIT;
        for (int i = 0; i < ncols; i++) {
            if (i)
                sbuf_addc(&line, '\t');
            neutral_value(&line, cols[i], strata_rows_value(r, (size_t)i));
        }
        strvec_push_owned(&lines, sbuf_detach(&line));
    }
    strata_rows_free(r);
    free(cols);
    if (rc < 0) {
        strvec_free(&lines);
        return rc;
    }
    if (lines.n)
        qsort(lines.v, lines.n, sizeof(char *), cmp_str);
    sbuf all = SBUF_INIT;
    for (size_t i = 0; i < lines.n; i++) {
        sbuf_add(&all, lines.v[i]);
        sbuf_addc(&all, '\n');
    }
    sha256_hex(sbuf_str(&all), all.len, hash);
    *rows = (long long)lines.n;
    sbuf_free(&all);
    strvec_free(&lines);
    return 0;
}

/* ---- one database ---- */

static void *check_one(void *arg)
{
    check_db *db = arg;
    const strata_check_options *opt = db->opt;
    double start = now_seconds(), t0 = start;
    strata_conn *c = NULL;
    int rc = strata_conn_open(&c, db->url);
    if (rc) {
        step(db, "connect", 0, strata_error_message(), t0);
        db->seconds = now_seconds() - start;
        strata_error_clear(); /* the message is thread-local: free it here */
        return NULL;
    }
    db->dialect = strata_conn_dialect(c);
    step(db, "connect", 1, strata_conn_server_version(c), t0);
    t0 = now_seconds();
    rc = migrate(c, opt->migrations_dir, 0);
    step(db, "apply all migrations", rc == 0, rc ? strata_error_message() : NULL, t0);
    if (!rc) {
        t0 = now_seconds();
        rc = introspect_schema(c, &db->first, NULL, NULL);
        db->have_schema = rc == 0;
        step(db, "read the schema", rc == 0, rc ? strata_error_message() : NULL, t0);
    }
    if (!rc) {
        t0 = now_seconds();
        rc = migrate(c, opt->migrations_dir, 1);
        step(db, "revert all migrations", rc == 0, rc ? strata_error_message() : NULL, t0);
    }
    if (!rc) {
        t0 = now_seconds();
        schema left;
        rc = introspect_schema(c, &left, NULL, NULL);
        if (!rc) {
            sbuf m = SBUF_INIT;
            for (size_t i = 0; i < left.ntables; i++)
                sbuf_addf(&m, "%stable %s", m.len ? ", " : "", left.tables[i].name);
            for (size_t i = 0; i < left.nenums; i++)
                sbuf_addf(&m, "%senum %s", m.len ? ", " : "", left.enums[i].name);
            int empty = left.ntables == 0 && left.nenums == 0;
            char *msg = empty ? NULL : xasprintf("left after revert: %s", sbuf_str(&m));
            step(db, "nothing left after revert", empty, msg, t0);
            free(msg);
            sbuf_free(&m);
            schema_free(&left);
            rc = empty ? 0 : -1;
        } else {
            step(db, "nothing left after revert", 0, strata_error_message(), t0);
        }
    }
    if (!rc) {
        t0 = now_seconds();
        rc = migrate(c, opt->migrations_dir, 0);
        step(db, "apply all again", rc == 0, rc ? strata_error_message() : NULL, t0);
    }
    if (!rc) {
        t0 = now_seconds();
        schema again;
        rc = introspect_schema(c, &again, NULL, NULL);
        if (!rc) {
            diff_options o;
            memset(&o, 0, sizeof o);
            o.dialect = db->dialect;
            o.ignore_column_order = 1;
            o.left_label = "first apply";
            o.right_label = "second apply";
            schema_diff d;
            schema_compare(&db->first, &again, &o, &d);
            char *msg = d.n ? xasprintf("%zu difference(s), e.g. %s", d.n, d.v[0].line) : NULL;
            step(db, "same schema after revert and re-apply", d.n == 0, msg, t0);
            free(msg);
            rc = d.n ? -1 : 0;
            schema_diff_free(&d);
            schema_free(&again);
        } else {
            step(db, "same schema after revert and re-apply", 0, strata_error_message(), t0);
        }
    }
    if (!rc && opt->seed_file) {
        t0 = now_seconds();
        strata_seed_options so = STRATA_SEED_OPTIONS_INIT;
        strata_seed_report *sr = NULL;
        rc = strata_seed_file(c, opt->seed_file, &so, &sr);
        char *msg =
            rc ? xstrdup(strata_error_message()) : xasprintf("%lld rows", sr ? sr->inserted : 0LL);
        step(db, "seed", rc == 0, msg, t0);
        free(msg);
        strata_seed_report_free(sr);
        if (!rc) {
            t0 = now_seconds();
            db->rows = xcalloc(db->first.ntables + 1, sizeof *db->rows);
            for (size_t i = 0; i < db->first.ntables && !rc; i++) {
                char hash[65];
                rc = table_content(c, &db->first.tables[i], &db->rows[i], hash);
                strvec_push(&db->tables, db->first.tables[i].name);
                strvec_push(&db->checksums, hash);
            }
            step(db, "read the seeded data", rc == 0, rc ? strata_error_message() : NULL, t0);
        }
    }
    strata_conn_close(c);
    strata_error_clear();
    db->seconds = now_seconds() - start;
    return NULL;
}

/* A worker of a bounded check: the next database not started, until none
 * is left. */
static void *check_worker(void *arg)
{
    check_shared *shared = arg;
    for (;;) {
        pthread_mutex_lock(&shared->lock);
        size_t i = shared->next < shared->n ? shared->next++ : shared->n;
        pthread_mutex_unlock(&shared->lock);
        if (i >= shared->n)
            return NULL;
        check_one(&shared->dbs[i]);
    }
}

/* ---- the whole check ---- */

void strata_check_result_free(strata_check_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nsteps; i++) {
        free(r->steps[i].database);
        free(r->steps[i].step);
        free(r->steps[i].message);
    }
    free(r->steps);
    for (size_t i = 0; i < r->ndatabases; i++)
        free(r->databases[i]);
    free(r->databases);
    for (size_t i = 0; i < r->ndifferences; i++)
        free(r->differences[i]);
    free(r->differences);
    for (size_t i = 0; i < r->ntables; i++)
        free(r->tables[i]);
    free(r->tables);
    free(r->rows);
    free(r);
}

static void add_difference(strata_check_result *r, char *line)
{
    r->differences = xrealloc(r->differences, (r->ndifferences + 2) * sizeof(char *));
    r->differences[r->ndifferences++] = line;
    r->differences[r->ndifferences] = NULL;
}

/* What must be right before any database is touched, as bad input: every
 * URL parses, and the seed file (when given) is a readable seed. */
static int check_input(const char *const *urls, size_t n, const strata_check_options *opt)
{
    for (size_t i = 0; i < n; i++) {
        strata_url u;
        if (strata_url_parse(urls[i], &u) != 0)
            return strata_error_prefix("--database-url #%zu: ", i + 1);
        strata_url_dispose(&u);
    }
    if (!opt->seed_file)
        return 0;
    json_t *doc = NULL;
    int rc = seed_read_file(opt->seed_file, NULL, &doc, NULL);
    json_decref(doc);
    return rc;
}

int strata_check(const char *const *urls, size_t n, const strata_check_options *options,
                 strata_check_result **out)
{
    strata_check_result *r = xcalloc(1, sizeof *r);
    *out = r;
    strata_check_options checked;
    int rc = check_options_get(options, &checked);
    if (rc)
        return rc;
    const strata_check_options *opt = &checked;
    if (n == 0)
        return strata_set_error(STRATA_EINPUT, "strata check needs at least one --database-url (or "
                                               "STRATA_CHECK_URLS)");
    /* libraries that want set-up before threads */
    mysql_library_init(0, NULL, NULL);
    json_object_seed(0);
    /* the migrations must at least parse and validate before anything runs */
    rc = migrations_check_dir(opt->migrations_dir);
    if (!rc)
        rc = check_input(urls, n, opt);
    if (rc)
        return rc;
    check_db *dbs = xcalloc(n, sizeof *dbs);
    pthread_t *th = xcalloc(n, sizeof *th);
    check_shared shared;
    memset(&shared, 0, sizeof shared);
    pthread_mutex_init(&shared.lock, NULL);
    shared.start = now_seconds();
    for (size_t i = 0; i < n; i++) {
        dbs[i].url = urls[i];
        dbs[i].shared = &shared;
        dbs[i].opt = opt;
        strata_url u;
        int d = strata_url_parse(urls[i], &u) == 0 ? (int)u.dialect : -1;
        if (d >= 0)
            strata_url_dispose(&u);
        int same = 0;
        for (size_t k = 0; k < i; k++)
            if (strstr(dbs[k].label, d >= 0 ? strata_dialect_name((strata_dialect)d) : "?") ==
                dbs[k].label)
                same++;
        const char *dn = d >= 0 ? strata_dialect_name((strata_dialect)d) : "invalid";
        dbs[i].label = same ? xasprintf("%s#%d", dn, same + 1) : xstrdup(dn);
        schema_init(&dbs[i].first);
    }
    double start = now_seconds();
    if (opt->parallel && opt->parallel < n) {
        /* at most `parallel` databases (and connections) at once */
        shared.dbs = dbs;
        shared.n = n;
        size_t started = 0;
        for (size_t i = 0; i < opt->parallel; i++)
            if (pthread_create(&th[started], NULL, check_worker, &shared) == 0)
                started++;
        if (!started)
            check_worker(&shared);
        for (size_t i = 0; i < started; i++)
            pthread_join(th[i], NULL);
    } else {
        for (size_t i = 0; i < n; i++)
            if (pthread_create(&th[i], NULL, check_one, &dbs[i]) != 0) {
                check_one(&dbs[i]);
                th[i] = 0;
            }
        for (size_t i = 0; i < n; i++)
            if (th[i])
                pthread_join(th[i], NULL);
    }
    r->seconds = now_seconds() - start;
    /* collect the steps */
    r->databases = xcalloc(n + 1, sizeof(char *));
    r->ndatabases = n;
    int all_ok = 1;
    size_t cap_steps = 0;
    for (size_t i = 0; i < n; i++) {
        r->databases[i] = xstrdup(dbs[i].label);
        for (size_t k = 0; k < dbs[i].nsteps; k++) {
            r->steps = xgrow(r->steps, &cap_steps, r->nsteps + 1, sizeof *r->steps);
            r->steps[r->nsteps++] = dbs[i].steps[k];
            all_ok &= dbs[i].steps[k].ok;
        }
        free(dbs[i].steps);
    }
    /* compare every database with the first that has a schema */
    int ref = -1;
    for (size_t i = 0; i < n && ref < 0; i++)
        if (dbs[i].have_schema)
            ref = (int)i;
    for (size_t i = 0; ref >= 0 && i < n; i++) {
        if ((int)i == ref || !dbs[i].have_schema)
            continue;
        diff_options o;
        memset(&o, 0, sizeof o);
        o.portable = 1;
        o.dialect = dbs[ref].dialect;
        o.ignore_column_order = 1;
        o.left_label = dbs[ref].label;
        o.right_label = dbs[i].label;
        schema_diff d;
        schema_compare(&dbs[ref].first, &dbs[i].first, &o, &d);
        for (size_t k = 0; k < d.n; k++)
            add_difference(r, xasprintf("schema: %s", d.v[k].line));
        schema_diff_free(&d);
        /* data */
        for (size_t k = 0; k < dbs[ref].tables.n && dbs[i].tables.n; k++) {
            int j = strvec_find(&dbs[i].tables, dbs[ref].tables.v[k]);
            if (j < 0)
                continue;
            if (dbs[ref].rows[k] != dbs[i].rows[j])
                add_difference(r, xasprintf("data: table %s: %s has %lld rows, %s has %lld",
                                            dbs[ref].tables.v[k], dbs[ref].label, dbs[ref].rows[k],
                                            dbs[i].label, dbs[i].rows[j]));
            else if (strcmp(dbs[ref].checksums.v[k], dbs[i].checksums.v[j]) != 0)
                add_difference(r, xasprintf("data: table %s: same %lld rows but different "
                                            "content on %s and %s (checksums %.12s, %.12s)",
                                            dbs[ref].tables.v[k], dbs[i].rows[j], dbs[ref].label,
                                            dbs[i].label, dbs[ref].checksums.v[k],
                                            dbs[i].checksums.v[j]));
        }
    }
    /* row counts of the reference, for the report */
    if (ref >= 0 && dbs[ref].tables.n) {
        r->tables = xcalloc(dbs[ref].tables.n + 1, sizeof(char *));
        r->rows = xcalloc(dbs[ref].tables.n + 1, sizeof(long long));
        for (size_t k = 0; k < dbs[ref].tables.n; k++) {
            r->tables[k] = xstrdup(dbs[ref].tables.v[k]);
            r->rows[k] = dbs[ref].rows[k];
        }
        r->ntables = dbs[ref].tables.n;
    }
    for (size_t i = 0; i < n; i++) {
        free(dbs[i].label);
        schema_free(&dbs[i].first);
        strvec_free(&dbs[i].tables);
        strvec_free(&dbs[i].checksums);
        free(dbs[i].rows);
    }
    free(dbs);
    free(th);
    pthread_mutex_destroy(&shared.lock);
    r->ok = all_ok && r->ndifferences == 0;
    return 0;
}
