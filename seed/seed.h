/*
 * seed.h - the internals of seeding (see include/strata.h, "seeding", for
 * the public side and docs/seed.md for the format).
 *
 * The pieces, in the order data flows through them:
 *
 *   ids.c     generated values: prefix_ULID ids, UUIDs, the seed's "now"
 *   scrypt.c  Medusa's password hashes (the scrypt-kdf package's format)
 *   medusa.c  a Medusa seed file -> a Strata seed document
 *   values.c  a JSON value or a CSV field -> the value bound for a column
 *   source.c  rows streamed from CSV and NDJSON files
 *   bulk.c    a stream of rows into one table through the driver's fast path
 *   load.c    the loader: order, references, modes, cycles, sequences, in
 *             phases (plan.c, resolve.c, write.c, files.c, finish.c; load.h)
 */
#ifndef STRATA_SEED_H
#define STRATA_SEED_H

#include <jansson.h>

#include "driver.h"
#include "ir.h"

/* ---- ids.c ---- */

/* A new ULID: 26 characters of Crockford base32 (48-bit millisecond time,
 * 80 random bits), monotonic within one millisecond of one process. */
void seed_ulid(char out[27]);
/* A new random (version 4) UUID, lower case with dashes. */
void seed_uuid(char out[37]);
/* The current UTC time as "YYYY-MM-DD HH:MM:SS.ffffff". */
void seed_now_utc(char out[32]);

/* ---- scrypt.c ---- */

/* Hash a password the way Medusa v1 does (scrypt-kdf, logN 1, r 1, p 1),
 * as base64 text (caller frees). `salt` is 32 bytes, or NULL for random. */
int seed_scrypt_kdf(const char *password, int logN, unsigned r, unsigned p,
                    const unsigned char *salt, char **out);
/* Verify a scrypt-kdf base64 hash against a password: 1 match, 0 not. */
int seed_scrypt_verify(const char *hash_b64, const char *password);

/* ---- medusa.c ---- */

/* Does this document look like a Medusa seed file? */
int medusa_is_seed(const json_t *doc);
/* Convert a Medusa seed document to a Strata seed document. */
int medusa_convert(const json_t *doc, const char *path, json_t **out);

/* ---- load.c ---- */

/* Read a seed file as a Strata seed document: JSON (a regular file only),
 * converted when it is a Medusa seed (or opt says so: opt may be NULL).
 * *medusa (may be NULL) says which it was. */
int seed_read_file(const char *path, const strata_seed_options *opt, json_t **out, int *medusa);

/* ---- values.c ---- */

/*
 * A converted value: what the drivers get. Integers and booleans are typed,
 * everything else is text in the form every database accepts for the column
 * (UTC timestamps, JSON text, exact decimal digits). Text points into the
 * row's scratch buffer or into the JSON value.
 */
int seed_convert_json(strata_dialect d, const schema *s, const column *c, const json_t *v,
                      strata_value *out, strvec *scratch, const char **why);
/* The same for a CSV field (`null` for an unquoted empty field). */
int seed_convert_text(strata_dialect d, const schema *s, const column *c, const char *text,
                      size_t len, int null, strata_value *out, strvec *scratch, const char **why);
/* A database value read back, as JSON (for aliases of existing rows). */
json_t *seed_value_to_json(const strata_value *v);
/* A short rendering of a JSON value for messages (caller frees). */
char *seed_json_brief(const json_t *v);

/* ---- source.c ---- */

typedef struct seed_source seed_source;
/* Open a CSV (header row = column names) or NDJSON file, by extension
 * (.csv, .tsv, .ndjson, .jsonl; else sniffed from the first byte). */
int source_open(const char *path, seed_source **out);
/* The column names (CSV: the header; NDJSON: NULL until the first row). */
const strvec *source_columns(const seed_source *s);
int source_is_csv(const seed_source *s);
/* Next row: 1 and fields (CSV) or an object (NDJSON, borrowed until the next
 * call), 0 at the end, <0 on error (message names file and line). */
int source_next(seed_source *s);
/* CSV fields of the current row. */
size_t source_nfields(const seed_source *s);
const char *source_field(const seed_source *s, size_t i, size_t *len, int *null);
/* NDJSON: the current object. */
json_t *source_object(const seed_source *s);
/* The current line (first line of the row), for messages. */
long long source_line(const seed_source *s);
const char *source_path(const seed_source *s);
void source_close(seed_source *s);

/* ---- bulk.c ---- */

/* Fill `row` (ncols values) with the next row: 1, 0 at the end, <0 error. */
typedef strata_bulk_next seed_next_row;

/* A seed committed in parts (split.c): where one transaction cannot hold
 * it all (a Galera cluster's write-set limit) and the caller allowed it. */
typedef struct seed_split {
    long long budget;  /* bytes of rows per transaction (0: one transaction) */
    long long used;    /* bytes of rows written in the current one */
    long long commits; /* transactions committed before the last */
} seed_split;

/* Load rows into `table` through the connection's fastest path: the driver's
 * bulk loader when it has one, else prepared multi-row inserts. With a
 * `split` budget, the transaction is committed and a new one begun whenever
 * the rows written in it reach the budget. */
int seed_bulk_load(strata_conn *conn, const char *table, const char *const *cols, size_t ncols,
                   seed_next_row next, void *ctx, int64_t *loaded, seed_split *split);

/* ---- split.c ---- */

/* Commit the seed's transaction so far and begin the next (a split seed). */
int seed_split_commit(strata_conn *conn, seed_split *split);

#endif /* STRATA_SEED_H */
