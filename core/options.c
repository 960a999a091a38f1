/*
 * options.c - the versioned option structs of the public API: their
 * defaults, their *_init functions, and the check each entry point makes of
 * the struct it is given (strata.h, "options and callbacks").
 *
 * Entry points never read the caller's struct directly: they take a copy
 * in the current layout from *_options_get. That is where a struct of an
 * older version is copied only as far as that version went, and the fields
 * appended since keep their defaults: a program built against older
 * headers passes a smaller struct, and nothing past its end is read.
 */
#include "options.h"
#include "util.h"

#include <stddef.h>
#include <string.h>

static const strata_options options_defaults = STRATA_OPTIONS_INIT;
static const strata_seed_options seed_options_defaults = STRATA_SEED_OPTIONS_INIT;
static const strata_check_options check_options_defaults = STRATA_CHECK_OPTIONS_INIT;
static const strata_lint_options lint_options_defaults = STRATA_LINT_OPTIONS_INIT;
static const strata_fleet_options fleet_options_defaults = STRATA_FLEET_OPTIONS_INIT;

/* How many bytes of each struct a caller of each version filled: the
 * fields of version k end where the first field of version k + 1 begins.
 * Index 0 is unused (no version 0). */
static const size_t options_size[STRATA_OPTIONS_VERSION + 1] = {
    0, offsetof(strata_options, force), offsetof(strata_options, single_transaction),
    sizeof(strata_options)};
static const size_t seed_options_size[STRATA_SEED_OPTIONS_VERSION + 1] = {
    0, offsetof(strata_seed_options, non_atomic), sizeof(strata_seed_options)};
static const size_t check_options_size[STRATA_CHECK_OPTIONS_VERSION + 1] = {
    0, offsetof(strata_check_options, progress_cb), offsetof(strata_check_options, parallel),
    sizeof(strata_check_options)};

/* 0 when this library knows `version` of the struct `type` (1 .. current). */
static int version_check(const char *type, const char *init, unsigned int version,
                         unsigned int current)
{
    if (version >= 1 && version <= current)
        return 0;
    if (version == 0)
        return strata_set_error(STRATA_EINPUT,
                                "%s version 0 is not supported by this libstrata (expects %s%u): "
                                "start from %s",
                                type, current > 1 ? "1 to " : "", current, init);
    return strata_set_error(STRATA_EINPUT,
                            "%s version %u is not supported by this libstrata (expects %s%u)", type,
                            version, current > 1 ? "1 to " : "", current);
}

int options_get(const strata_options *in, strata_options *out)
{
    *out = options_defaults;
    if (!in)
        return 0;
    int rc =
        version_check("strata_options", "STRATA_OPTIONS_INIT", in->version, STRATA_OPTIONS_VERSION);
    if (!rc) {
        memcpy(out, in, options_size[in->version]);
        out->version = STRATA_OPTIONS_VERSION;
    }
    return rc;
}

int seed_options_get(const strata_seed_options *in, strata_seed_options *out)
{
    *out = seed_options_defaults;
    if (!in)
        return 0;
    int rc = version_check("strata_seed_options", "STRATA_SEED_OPTIONS_INIT", in->version,
                           STRATA_SEED_OPTIONS_VERSION);
    if (!rc) {
        memcpy(out, in, seed_options_size[in->version]);
        out->version = STRATA_SEED_OPTIONS_VERSION;
    }
    return rc;
}

int check_options_get(const strata_check_options *in, strata_check_options *out)
{
    *out = check_options_defaults;
    if (!in)
        return 0;
    int rc = version_check("strata_check_options", "STRATA_CHECK_OPTIONS_INIT", in->version,
                           STRATA_CHECK_OPTIONS_VERSION);
    if (!rc) {
        memcpy(out, in, check_options_size[in->version]);
        out->version = STRATA_CHECK_OPTIONS_VERSION;
    }
    return rc;
}

int lint_options_get(const strata_lint_options *in, strata_lint_options *out)
{
    *out = lint_options_defaults;
    if (!in)
        return 0;
    int rc = version_check("strata_lint_options", "STRATA_LINT_OPTIONS_INIT", in->version,
                           STRATA_LINT_OPTIONS_VERSION);
    if (!rc)
        *out = *in;
    return rc;
}

int fleet_options_get(const strata_fleet_options *in, strata_fleet_options *out)
{
    *out = fleet_options_defaults;
    if (!in)
        return 0;
    int rc = version_check("strata_fleet_options", "STRATA_FLEET_OPTIONS_INIT", in->version,
                           STRATA_FLEET_OPTIONS_VERSION);
    if (!rc)
        *out = *in;
    return rc;
}

int strata_options_init(strata_options *opts, unsigned int version)
{
    if (!opts)
        return strata_set_error(STRATA_EINPUT, "strata_options_init: opts is NULL");
    int rc =
        version_check("strata_options", "STRATA_OPTIONS_INIT", version, STRATA_OPTIONS_VERSION);
    if (!rc) {
        /* only as much as a struct of that version holds */
        memcpy(opts, &options_defaults, options_size[version]);
        opts->version = version;
    }
    return rc;
}

int strata_seed_options_init(strata_seed_options *opts, unsigned int version)
{
    if (!opts)
        return strata_set_error(STRATA_EINPUT, "strata_seed_options_init: opts is NULL");
    int rc = version_check("strata_seed_options", "STRATA_SEED_OPTIONS_INIT", version,
                           STRATA_SEED_OPTIONS_VERSION);
    if (!rc) {
        /* only as much as a struct of that version holds */
        memcpy(opts, &seed_options_defaults, seed_options_size[version]);
        opts->version = version;
    }
    return rc;
}

int strata_check_options_init(strata_check_options *opts, unsigned int version)
{
    if (!opts)
        return strata_set_error(STRATA_EINPUT, "strata_check_options_init: opts is NULL");
    int rc = version_check("strata_check_options", "STRATA_CHECK_OPTIONS_INIT", version,
                           STRATA_CHECK_OPTIONS_VERSION);
    if (!rc) {
        /* only as much as a struct of that version holds */
        memcpy(opts, &check_options_defaults, check_options_size[version]);
        opts->version = version;
    }
    return rc;
}

int strata_lint_options_init(strata_lint_options *opts, unsigned int version)
{
    if (!opts)
        return strata_set_error(STRATA_EINPUT, "strata_lint_options_init: opts is NULL");
    int rc = version_check("strata_lint_options", "STRATA_LINT_OPTIONS_INIT", version,
                           STRATA_LINT_OPTIONS_VERSION);
    if (!rc)
        *opts = lint_options_defaults;
    return rc;
}

int strata_fleet_options_init(strata_fleet_options *opts, unsigned int version)
{
    if (!opts)
        return strata_set_error(STRATA_EINPUT, "strata_fleet_options_init: opts is NULL");
    int rc = version_check("strata_fleet_options", "STRATA_FLEET_OPTIONS_INIT", version,
                           STRATA_FLEET_OPTIONS_VERSION);
    if (!rc)
        *opts = fleet_options_defaults;
    return rc;
}
