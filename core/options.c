/*
 * options.c - the versioned option structs of the public API: their
 * defaults, their *_init functions, and the check each entry point makes of
 * the struct it is given (strata.h, "options and callbacks").
 *
 * Entry points never read the caller's struct directly: they take a copy
 * in the current layout from *_options_get. That is where, once a struct
 * has a version 2, a version 1 struct is copied only as far as version 1
 * went and the fields appended since keep their defaults.
 */
#include "options.h"

#include <stddef.h>
#include <string.h>
#include "util.h"

static const strata_options options_defaults = STRATA_OPTIONS_INIT;
static const strata_seed_options seed_options_defaults = STRATA_SEED_OPTIONS_INIT;
static const strata_check_options check_options_defaults = STRATA_CHECK_OPTIONS_INIT;

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
    if (rc)
        return rc;
    /* a version 1 struct ends before single_transaction */
    if (in->version == 1)
        memcpy(out, in, offsetof(strata_options, single_transaction));
    else
        *out = *in;
    return 0;
}

int seed_options_get(const strata_seed_options *in, strata_seed_options *out)
{
    *out = seed_options_defaults;
    if (!in)
        return 0;
    int rc = version_check("strata_seed_options", "STRATA_SEED_OPTIONS_INIT", in->version,
                           STRATA_SEED_OPTIONS_VERSION);
    if (!rc)
        *out = *in;
    return rc;
}

int check_options_get(const strata_check_options *in, strata_check_options *out)
{
    *out = check_options_defaults;
    if (!in)
        return 0;
    int rc = version_check("strata_check_options", "STRATA_CHECK_OPTIONS_INIT", in->version,
                           STRATA_CHECK_OPTIONS_VERSION);
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
    if (rc)
        return rc;
    /* the caller's struct is as long as its version */
    if (version == 1)
        memcpy(opts, &options_defaults, offsetof(strata_options, single_transaction));
    else
        *opts = options_defaults;
    opts->version = version;
    return 0;
}

int strata_seed_options_init(strata_seed_options *opts, unsigned int version)
{
    if (!opts)
        return strata_set_error(STRATA_EINPUT, "strata_seed_options_init: opts is NULL");
    int rc = version_check("strata_seed_options", "STRATA_SEED_OPTIONS_INIT", version,
                           STRATA_SEED_OPTIONS_VERSION);
    if (!rc)
        *opts = seed_options_defaults;
    return rc;
}

int strata_check_options_init(strata_check_options *opts, unsigned int version)
{
    if (!opts)
        return strata_set_error(STRATA_EINPUT, "strata_check_options_init: opts is NULL");
    int rc = version_check("strata_check_options", "STRATA_CHECK_OPTIONS_INIT", version,
                           STRATA_CHECK_OPTIONS_VERSION);
    if (!rc)
        *opts = check_options_defaults;
    return rc;
}
