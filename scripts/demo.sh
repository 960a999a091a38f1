#!/usr/bin/env bash
# demo.sh - README command (a): install what is missing, build Strata, and run
# its main job on the embedded SQLite default (sqlite:./strata.db).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

./build/strata migrations run
./build/strata migrations show
