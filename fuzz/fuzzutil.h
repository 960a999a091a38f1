/*
 * fuzzutil.h - helpers shared by Strata's libFuzzer targets: a private
 * scratch directory per process and writing an input there as a file, for
 * the entry points that only take a path.
 *
 * Internal headers are included by basename only, so the include paths of
 * the build decide where they live.
 */
#ifndef STRATA_FUZZUTIL_H
#define STRATA_FUZZUTIL_H

#include <stddef.h>
#include <stdint.h>

/* A directory private to this process (created on first use, removed at
 * exit). Under $TMPDIR, else /dev/shm when it exists, else /tmp. */
const char *fuzz_scratch_dir(void);
/* Write data to <scratch>/<name> (replacing it); returns its path (static
 * buffer, valid until the next call) or aborts on an I/O error. */
const char *fuzz_write(const char *name, const uint8_t *data, size_t size);
/* A NUL-terminated copy of the input (caller frees). */
char *fuzz_cstr(const uint8_t *data, size_t size);

#endif
