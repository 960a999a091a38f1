#!/usr/bin/env bash
# test.sh - the whole test suite: install what is missing, build with
# AddressSanitizer and UndefinedBehaviorSanitizer and warnings as errors,
# start throwaway PostgreSQL and MariaDB servers, run every CUnit suite
# through ctest on all three databases, stop the servers. Exits non-zero on
# any failure.
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
