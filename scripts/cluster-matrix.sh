#!/usr/bin/env bash
# cluster-matrix.sh - the full cluster matrix of issue 13, alone: build, start
# the servers and clusters (scripts/test.sh), run only the cluster suite with
# STRATA_CLUSTER_FULL=1: 8 runners spread over the 3 Galera nodes x 5
# repetitions x (the 30 generated migrations, the 82 Medusa migrations),
# runner and node kills 3 times each, the fenced runner, the Galera rules and
# the PostgreSQL standby. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export STRATA_CLUSTER_FULL=1
CTEST_ARGS="-R ^cluster$ ${CTEST_ARGS:-}" exec scripts/test.sh
