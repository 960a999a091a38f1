/*
 * version.c - the version of the library itself, as opposed to the
 * STRATA_VERSION of the headers a program was compiled with.
 */
#include "strata.h"

const char *strata_version(void)
{
    return STRATA_VERSION;
}

int strata_version_num(void)
{
    return STRATA_VERSION_NUM;
}
