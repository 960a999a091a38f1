#!/usr/bin/env bash
# test.sh - the whole test suite: install what is missing, build with
# AddressSanitizer and UndefinedBehaviorSanitizer and warnings as errors,
# start throwaway PostgreSQL and MariaDB servers, a 3-node MariaDB Galera
# cluster and a PostgreSQL primary with a streaming standby, run every CUnit
# suite through ctest on all three databases (and the cluster suite on the
# clusters), stop the servers. Exits non-zero on any failure.
#
# STRATA_CLUSTER_FULL=1 runs the cluster suite's full matrix (8 runners x 5
# repetitions x the generated and the Medusa migrations, kills repeated)
# instead of its CI subset; scripts/cluster-matrix.sh runs only that.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --test

build=${STRATA_TEST_BUILD_DIR:-build-test}
cmake -S . -B "$build" -DSTRATA_SANITIZE=ON -DSTRATA_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j"$(nproc)"

services=$(scripts/services.sh start)
trap 'scripts/services.sh stop "$services"; rm -rf "$services"' EXIT
scripts/services.sh start-galera "$services" >/dev/null
scripts/services.sh start-pgstandby "$services" >/dev/null
set -a
# shellcheck disable=SC1091
. "$services/env"
set +a
export STRATA_SHARED_DIR=${STRATA_SHARED_DIR:-$(cd .. && pwd)/shared}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
ctest --test-dir "$build" --output-on-failure -j2 ${CTEST_ARGS:-} || status=$?

# Print each suite's CUnit summary (ctest keeps the output of passing tests quiet).
log="$build/Testing/Temporary/LastTest.log"
if [[ -f "$log" ]]; then
    awk '/^[0-9]+\/[0-9]+ Testing: /{name=$3}
         /^Run Summary:/{print "== " name; show=4}
         show>0{print; show--}' "$log"
fi
exit $status
