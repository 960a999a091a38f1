#!/usr/bin/env bash
# check_exports.sh LIBSTRATA_SO STRATA_H - the shared library exports only
# the functions include/strata.h declares, and every one of them.
set -euo pipefail
lib=$1 header=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TtDdBbRrVvWw]$/ {print $3}' | sort -u)
declared=$(grep -o 'STRATA_EXTERN[^(]*(' "$header" | grep -o 'strata_[a-z0-9_]*($' | tr -d '(' |
           sort -u)
status=0
extra=$(comm -23 <(echo "$exported") <(echo "$declared"))
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
if [[ -n "$extra" ]]; then
    echo "exported but not declared in strata.h:"; echo "$extra" | sed 's/^/  /'; status=1
fi
if [[ -n "$missing" ]]; then
    echo "declared in strata.h but not exported:"; echo "$missing" | sed 's/^/  /'; status=1
fi
echo "$(echo "$exported" | wc -l) exported symbols, $(echo "$declared" | wc -l) declared"
exit $status
