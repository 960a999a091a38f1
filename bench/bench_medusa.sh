#!/usr/bin/env bash
# bench_medusa.sh - the 82 Medusa migrations (migrations/), up and then
# revert --all, on each database, in one run:
#
#   batched     strata migrations run / revert --all (the default: consecutive
#               operations on one table as one statement)
#   op by op    the same with STRATA_BATCH=0 (every operation its own statements)
#   client      the database's own client running the op-by-op SQL that
#               `strata migrations sql [--down]` prints (psql -1 -f, mariadb <,
#               sqlite3 <), the floor for any tool that runs these statements
#
# each on a fresh empty database, REPEAT times (default 5), the order of the
# three rotating every repetition. Prints the median wall time of each, the
# ratios batched / op by op and batched / client, and the user+sys CPU time
# of strata itself (median). Targets (issue 15): MariaDB up + revert <= 5 s,
# SQLite up + revert <= 1 s, batched not slower than op by op.
#
#   bench/bench_medusa.sh [REPEAT] [postgres|mysql|sqlite ...]
#
# STRATA_BIN (default build/strata, a Release build) is the strata to time.
# STRATA_FLAGS defaults to every feature flag of the files, so that all 82
# apply (the default flags give a default Medusa install's 75).
# Needs STRATA_TEST_PG_URL and STRATA_TEST_MYSQL_URL (scripts/services.sh),
# psql, mariadb and sqlite3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
strata=${STRATA_BIN:-$root/build/strata}
repeat=${1:-5}
shift || true
dbs=("$@")
[[ ${#dbs[@]} -gt 0 ]] || dbs=(postgres mysql sqlite)
mdir=$root/migrations
export STRATA_FLAGS=${STRATA_FLAGS:-analytics,medusa_v2,sales_channels,tax_inclusive_pricing}
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench-medusa-XXXXXX")
trap 'rm -rf "$work"' EXIT

my_args() { # mysql://user:pass@host:port/db -> mariadb client options (no db)
    local u=${1#*://} cred host
    cred=${u%%@*}
    host=${u#*@}
    host=${host%%/*}
    echo "--no-defaults -h ${host%:*} -P ${host##*:} -u ${cred%%:*} -p${cred#*:}"
}

fresh() { # dialect name -> URL of an empty database
    local d=$1 n=$2
    case $d in
    postgres)
        psql -X -q -d "$STRATA_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $n" -c "CREATE DATABASE $n" \
            >/dev/null 2>&1
        echo "${STRATA_TEST_PG_URL%/*}/$n"
        ;;
    mysql)
        # shellcheck disable=SC2046
        mariadb $(my_args "$STRATA_TEST_MYSQL_URL") -e \
            "DROP DATABASE IF EXISTS $n; CREATE DATABASE $n CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        echo "${STRATA_TEST_MYSQL_URL%/*}/$n"
        ;;
    sqlite)
        rm -f "$work/$n.db" "$work/$n.db-journal" "$work/$n.db-strata-lock"
        echo "sqlite:$work/$n.db"
        ;;
    esac
}

now() { date +%s.%N; }

# strata URL ARGS... with the time in $T (wall) and $C (user+sys CPU)
run_strata() {
    local url=$1
    shift
    local t0
    t0=$(now)
    /usr/bin/time -f '%U %S' -o "$work/cpu" "$strata" --database-url "$url" \
        --migrations-dir "$mdir" "$@" >/dev/null 2>"$work/err" || {
        echo "bench_medusa: strata $* failed:" >&2
        cat "$work/err" >&2
        exit 1
    }
    T=$(echo "$(now) - $t0" | bc)
    C=$(awk '{print $1 + $2}' "$work/cpu")
}

# the client on FILE with the time in $T
run_client() {
    local d=$1 url=$2 file=$3 t0
    t0=$(now)
    case $d in
    postgres) psql -X -q -v ON_ERROR_STOP=1 -1 -f "$file" -d "$url" >/dev/null 2>"$work/err" ;;
    # shellcheck disable=SC2046
    mysql) mariadb $(my_args "$url") "${url##*/}" <"$file" >/dev/null 2>"$work/err" ;;
    sqlite) sqlite3 -bail "${url#sqlite:}" <"$file" >/dev/null 2>"$work/err" ;;
    esac || {
        echo "bench_medusa: the $d client failed on $file:" >&2
        cat "$work/err" >&2
        exit 1
    }
    T=$(echo "$(now) - $t0" | bc)
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "bench_medusa: $(ls "$mdir"/*.json | wc -l) Medusa migrations, up then revert --all; $repeat" \
    "repetitions, order rotating; medians"
printf '%-9s %-6s %10s %10s %10s %9s %9s %9s\n' database step batched "op by op" client \
    "b/op" "b/client" "cpu b"
fail=0
for d in "${dbs[@]}"; do
    # the op-by-op SQL, as the client runs it (psql -1 makes one transaction)
    for dir in up down; do
        flag=
        [[ $dir == down ]] && flag=--down
        STRATA_BATCH=0 "$strata" --migrations-dir "$mdir" migrations sql --dialect "$d" $flag \
            >"$work/$d.$dir.raw"
        if [[ $d == postgres ]]; then
            grep -v -x -e 'BEGIN;' -e 'COMMIT;' "$work/$d.$dir.raw" >"$work/$d.$dir.sql"
        elif [[ $d == mysql ]]; then
            { echo 'SET NAMES utf8mb4;'; cat "$work/$d.$dir.raw"; } >"$work/$d.$dir.sql"
        else
            cp "$work/$d.$dir.raw" "$work/$d.$dir.sql"
        fi
    done
    : >"$work/times"
    for ((r = 0; r < repeat; r++)); do
        for k in 0 1 2; do
            who=$(((k + r) % 3))
            url=$(fresh "$d" "bench_medusa_$who")
            case $who in
            0)
                run_strata "$url" migrations run
                echo "b up $T $C" >>"$work/times"
                run_strata "$url" migrations revert --all
                echo "b down $T $C" >>"$work/times"
                ;;
            1)
                export STRATA_BATCH=0
                run_strata "$url" migrations run
                echo "o up $T $C" >>"$work/times"
                run_strata "$url" migrations revert --all
                echo "o down $T $C" >>"$work/times"
                unset STRATA_BATCH
                ;;
            2)
                run_client "$d" "$url" "$work/$d.up.sql"
                echo "c up $T 0" >>"$work/times"
                run_client "$d" "$url" "$work/$d.down.sql"
                echo "c down $T 0" >>"$work/times"
                ;;
            esac
            [[ $d == sqlite ]] && rm -f "${url#sqlite:}"*
        done
    done
    total_b=0
    for step in up down; do
        b=$(awk -v s=$step '$1 == "b" && $2 == s {print $3}' "$work/times" | median)
        o=$(awk -v s=$step '$1 == "o" && $2 == s {print $3}' "$work/times" | median)
        c=$(awk -v s=$step '$1 == "c" && $2 == s {print $3}' "$work/times" | median)
        cb=$(awk -v s=$step '$1 == "b" && $2 == s {print $4}' "$work/times" | median)
        total_b=$(echo "$total_b + $b" | bc)
        printf '%-9s %-6s %9.3fs %9.3fs %9.3fs %8.2fx %8.2fx %8.3fs\n' "$d" "$step" "$b" "$o" "$c" \
            "$(echo "$b / $o" | bc -l)" "$(echo "$b / $c" | bc -l)" "$cb"
    done
    target=
    case $d in
    mysql) target=5.0 ;;
    sqlite) target=1.0 ;;
    esac
    if [[ -n $target ]]; then
        ok=$(echo "$total_b <= $target" | bc)
        printf '%-9s up + revert --all batched: %.3f s (target <= %s s): %s\n' "$d" "$total_b" \
            "$target" "$([[ $ok == 1 ]] && echo met || echo MISSED)"
        [[ $ok == 1 ]] || fail=1
    fi
    for who in 0 1 2; do
        case $d in
        postgres) psql -X -q -d "$STRATA_TEST_PG_URL" -c "DROP DATABASE IF EXISTS bench_medusa_$who" >/dev/null 2>&1 ;;
        # shellcheck disable=SC2046
        mysql) mariadb $(my_args "$STRATA_TEST_MYSQL_URL") -e "DROP DATABASE IF EXISTS bench_medusa_$who" ;;
        esac
    done
done
exit $fail
