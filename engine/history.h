/*
 * history.h - what other commands read of a database's migration history
 * (engine/history.c; the runner's own history functions are in runner.h).
 */
#ifndef STRATA_HISTORY_H
#define STRATA_HISTORY_H

#include "util.h"

/* The ids of the applied migrations in a database's history; *exists says
 * whether the history table exists. */
int history_applied_ids(strata_conn *conn, strvec *ids, int *exists);

#endif
