#!/usr/bin/env bash
# bench_knex.sh - install Knex 3.3 and its drivers (pg, mysql2, better-sqlite3@12)
# from npm into a throwaway folder, then run bench_knex.js there.
#
#   bench/knex/bench_knex.sh [bench_knex.js options]
#
# STRATA_BIN (default build/strata, a Release build) is the strata to time;
# STRATA_BENCH_NODE_DIR=DIR keeps the npm folder in DIR and reuses it on the
# next run (better-sqlite3 compiles from source, which takes minutes).
# Needs STRATA_TEST_PG_URL and STRATA_TEST_MYSQL_URL (scripts/services.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export STRATA_BIN=${STRATA_BIN:-$root/build/strata}
if [[ ! -x $STRATA_BIN ]]; then
    echo "bench_knex: no strata at $STRATA_BIN (set STRATA_BIN)" >&2
    exit 2
fi

node_dir=${STRATA_BENCH_NODE_DIR:-}
cleanup=
if [[ -z $node_dir ]]; then
    node_dir=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench-knex-npm-XXXXXX")
    cleanup=$node_dir
fi
trap '[[ -n $cleanup ]] && rm -rf "$cleanup"' EXIT
mkdir -p "$node_dir"
if [[ ! -d $node_dir/node_modules/knex || ! -d $node_dir/node_modules/better-sqlite3/build ]]; then
    echo "bench_knex: installing knex@3.3 pg mysql2 better-sqlite3@12 into $node_dir" >&2
    (cd "$node_dir" && { [[ -f package.json ]] || echo '{"private": true}' >package.json; } &&
        npm install --no-audit --no-fund --loglevel=error knex@3.3 pg mysql2 better-sqlite3@12 >&2)
fi
cp "$here/bench_knex.js" "$node_dir/bench_knex.js"
cd "$node_dir"
exec node bench_knex.js "$@"
