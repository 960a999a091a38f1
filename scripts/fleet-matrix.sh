#!/usr/bin/env bash
# fleet-matrix.sh - the full fleet test of issue 18, alone: build, start the
# servers (scripts/test.sh), and run only the fleet suite at fleet size:
#   STRATA_FLEET_TARGETS=200         targets of the generated migrations, 50 of
#                                    each kind (PostgreSQL databases, PostgreSQL
#                                    schemas, MariaDB databases, SQLite files),
#                                    each compared with a single run, then run
#                                    again (every one up to date)
#   STRATA_FLEET_MEDUSA=5            5 targets of each kind (20) with the 82
#                                    Medusa migrations, JSON and JUnit reports
#   STRATA_FLEET_RESUME_TARGETS=200  the fleet killed part-way and run again
# Any of them may be set before; STRATA_FLEET_PARALLEL (default 4) sets
# --parallel. Exits non-zero on any failure. The CI run (scripts/test.sh) is
# 12 + 3 + 12 targets.
set -euo pipefail
cd "$(dirname "$0")/.."
export STRATA_FLEET_TARGETS=${STRATA_FLEET_TARGETS:-200}
export STRATA_FLEET_MEDUSA=${STRATA_FLEET_MEDUSA:-5}
export STRATA_FLEET_RESUME_TARGETS=${STRATA_FLEET_RESUME_TARGETS:-200}
CTEST_ARGS="-R ^fleet$ ${CTEST_ARGS:-}" exec scripts/test.sh
