/*
 * options.h - the options a public entry point runs with: the caller's
 * versioned struct checked and copied, or the defaults for NULL (options.c).
 */
#ifndef STRATA_OPTIONS_H
#define STRATA_OPTIONS_H

#include "strata.h"

/* Fill *out with *in, or with the defaults when in is NULL. A version this
 * library does not know is a STRATA_EINPUT error (*out then holds the
 * defaults, so it is always safe to read). */
int options_get(const strata_options *in, strata_options *out);
int seed_options_get(const strata_seed_options *in, strata_seed_options *out);
int check_options_get(const strata_check_options *in, strata_check_options *out);
int lint_options_get(const strata_lint_options *in, strata_lint_options *out);
int fleet_options_get(const strata_fleet_options *in, strata_fleet_options *out);

#endif /* STRATA_OPTIONS_H */
