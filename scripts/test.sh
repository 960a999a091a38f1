#!/usr/bin/env bash
# test.sh - the whole test suite: install what is missing, build with
# AddressSanitizer and UndefinedBehaviorSanitizer and warnings as errors,
# start throwaway PostgreSQL and MariaDB servers, a 3-node MariaDB Galera
# cluster and a PostgreSQL primary with a streaming standby, run every CUnit
# suite through ctest on all three databases (and the cluster suite on the
# clusters), stop the servers; then the Medusa end-to-end test
# (scripts/medusa-e2e.sh). Exits non-zero on any failure.
#
# STRATA_CLUSTER_FULL=1 runs the cluster suite's full matrix (8 runners x 5
# repetitions x the generated and the Medusa migrations, kills repeated)
# instead of its CI subset; scripts/cluster-matrix.sh runs only that.
#
#   CTEST_ARGS           extra ctest arguments; default "-LE pending", which
#                        leaves out suites labelled `pending` (behaviour not
#                        there yet; none today). CTEST_ARGS= (empty) runs
#                        everything.
#   STRATA_FUZZ_SECONDS  also build the libFuzzer targets and run each for that
#                        many seconds (scripts/fuzz.sh: 6 targets, so about
#                        6 x SECONDS plus a minute or two of building); under CI
#                        (the CI variable set, as CI systems set it) it defaults
#                        to 30, elsewhere to none (skipped). 0 skips it in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --test

build=${STRATA_TEST_BUILD_DIR:-build-test}
cmake -S . -B "$build" -DSTRATA_SANITIZE=ON -DSTRATA_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j"$(nproc)"
# The optimiser sees more and warns about more (the demo builds this way):
# an optimised build, tests included, with warnings as errors too.
cmake -S . -B "$build-opt" -DSTRATA_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build-opt" -j"$(nproc)" >/dev/null

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
# shellcheck disable=SC2086
ctest --test-dir "$build" --output-on-failure -j2 ${CTEST_ARGS--LE pending} || status=$?

# Print each suite's CUnit summary (ctest keeps the output of passing tests quiet).
log="$build/Testing/Temporary/LastTest.log"
if [[ -f "$log" ]]; then
    awk '/^[0-9]+\/[0-9]+ Testing: /{name=$3}
         /^Run Summary:/{print "== " name; show=4}
         show>0{print; show--}' "$log"
fi

# A bounded fuzz run in CI: every target, from the corpora the repository
# holds (the crashers it found are replayed by ctest above already).
fuzz_seconds=${STRATA_FUZZ_SECONDS:-}
if [[ -z "$fuzz_seconds" && -n "${CI:-}" && "${CI}" != 0 && "${CI,,}" != false ]]; then
    fuzz_seconds=30
fi
if [[ -n "$fuzz_seconds" && "$fuzz_seconds" != 0 ]]; then
    scripts/fuzz.sh "$fuzz_seconds" || status=1
fi
# A real Medusa 1.20 server on a database Strata built and seeded, compared
# with one Medusa's own CLI built (about 3 minutes; it installs Medusa from
# npm and starts its own PostgreSQL). npm must be reachable: it fails, loudly,
# when it is not. STRATA_SKIP_MEDUSA_E2E=1 leaves it out, and says so.
if [[ "${STRATA_SKIP_MEDUSA_E2E:-}" == 1 ]]; then
    echo "== medusa-e2e: SKIPPED (STRATA_SKIP_MEDUSA_E2E=1)" >&2
else
    echo "== medusa-e2e" >&2
    e2e_start=$(date +%s)
    STRATA=$build/strata scripts/medusa-e2e.sh || status=1
    echo "== medusa-e2e: $(( $(date +%s) - e2e_start )) s" >&2
fi
exit $status
