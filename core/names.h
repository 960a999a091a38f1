/*
 * names.h - deterministic generated names and their shortening.
 *
 * PostgreSQL truncates identifiers past 63 bytes (silently: two long index
 * names can collide), MySQL rejects names past 64 characters. Every name the
 * engine generates, and every author-given index or constraint name, is
 * shortened the same way on every dialect: names of up to 63 bytes are kept;
 * longer ones become their first bytes (cut on a UTF-8 boundary) + "_" + the
 * first 8 hex digits of the SHA-256 of the whole name, 63 bytes in all. Two
 * different long names share a shortened form only if their hashes collide.
 */
#ifndef STRATA_NAMES_H
#define STRATA_NAMES_H

#include "util.h"

#define NAME_MAX_BYTES 63

/* The name, shortened when longer than 63 bytes (caller frees). */
char *name_shorten(const char *name);
/* "<table>_<col1>_<col2>_<suffix>", shortened (caller frees). */
char *name_generate(const char *table, const char *const *cols, size_t ncols, const char *suffix);
/* Hex SHA-256 of a byte string into out[65]. */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
