#!/usr/bin/env bash
# demo.sh - README command (a): install what is missing, build Strata, and run
# its main job on SQLite (sqlite:./strata.db, named here: strata uses no
# database it was not given without saying so, and none at all under CI;
# $DATABASE_URL picks another): apply the 82 Medusa v1 migrations Strata
# ships, seed the demo store of data/seed.json (Medusa's seed format), and
# print a summary. Running it again changes nothing (insert_missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL=${DATABASE_URL:-sqlite:./strata.db}

scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

./build/strata seed -f data/seed.json --mode insert_missing 2>/dev/null
if ./build/strata migrations show >/dev/null; then
    tables=$(./build/strata db pull | grep -c '"op": "create_table"')
    echo "$(ls migrations/*.json | wc -l) migrations applied, ${tables} tables in ${DATABASE_URL}"
fi
