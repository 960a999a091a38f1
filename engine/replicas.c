/*
 * replicas.c - after a run, waiting until every streaming replica has
 * replayed it (`migrations run --wait-replicas`): the driver polls where it
 * knows how (PostgreSQL's pg_stat_replication); this is the public side.
 */
#include "driver.h"

#include <stdlib.h>
#include <string.h>

int strata_replicas_wait(strata_conn *conn, double timeout, strata_replicas_report **out)
{
    *out = NULL;
    replica_state *v = NULL;
    size_t n = 0;
    double start = now_seconds();
    int rc = conn_replicas_wait(conn, timeout, &v, &n);
    strata_replicas_report *r = xcalloc(1, sizeof *r);
    r->seconds = now_seconds() - start;
    r->replicas = xcalloc(n + 1, sizeof *r->replicas);
    r->n = n;
    for (size_t i = 0; i < n; i++) {
        strata_replica *p = &r->replicas[i];
        p->name = xstrdup(v[i].name ? v[i].name : "?");
        p->address = xstrdup(v[i].address ? v[i].address : "?");
        p->caught_up = v[i].caught_up == 1;
        p->waited = v[i].waited;
        p->replay_lag = v[i].lag;
    }
    replica_states_free(v, n);
    *out = r;
    return rc;
}

void strata_replicas_report_free(strata_replicas_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->replicas[i].name);
        free(r->replicas[i].address);
    }
    free(r->replicas);
    free(r);
}
