#!/usr/bin/env bash
# fuzz.sh - build Strata's libFuzzer targets (fuzz/) with clang, ASan and
# UBSan in a build directory of their own, and run each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60); TARGET names (fuzz_url, url, ...) pick
# some of fuzz_migration, fuzz_migration_name, fuzz_predicate,
# fuzz_seed_json, fuzz_seed_source, fuzz_url (default: all). Exits non-zero when any target finds something;
# the log then holds the reproducer (base64 and a hex dump) and it is kept
# under $STRATA_FUZZ_BUILD_DIR/artifacts/<target>/. See fuzz/README.md for
# longer runs and for turning a finding into a regression test.
#
# Environment: STRATA_FUZZ_BUILD_DIR (default build-fuzz), CC (default
# clang-14), STRATA_FUZZ_JOBS (parallel fuzzing processes per target,
# default 1), STRATA_SHARED_DIR (for the Medusa seed fixture).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
    exit 2
fi
shift $(( $# > 0 ? 1 : 0 ))
all_targets=(fuzz_migration fuzz_migration_name fuzz_predicate fuzz_seed_json fuzz_seed_source fuzz_url)
targets=()
for t in "$@"; do
    t=fuzz_${t#fuzz_}
    if [[ " ${all_targets[*]} " != *" $t "* ]]; then
        echo "fuzz: unknown target $t (${all_targets[*]})" >&2
        exit 2
    fi
    targets+=("$t")
done
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")

# clang and libFuzzer's runtime come from Debian's packages
export CC=${CC:-clang-14}
scripts/deps.sh
runtime=(/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a)
if ! command -v python3 >/dev/null || ! command -v "$CC" >/dev/null || [[ ! -f "${runtime[0]}" ]]
then
    echo "fuzz: installing clang-14, libclang-rt-14-dev and python3" >&2
    SUDO=""
    [[ $(id -u) -eq 0 ]] || SUDO=sudo
    $SUDO apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        clang-14 libclang-rt-14-dev python3 >/dev/null
fi

build=${STRATA_FUZZ_BUILD_DIR:-build-fuzz}
cmake -S . -B "$build" -DSTRATA_FUZZ=ON -DSTRATA_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS_DEBUG="-O1 -g" >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" strata_cli >/dev/null

# ---- seed corpora: the hand-written ones, plus what migrations/ and data/ hold
corpus=$build/corpus
rm -rf "$corpus"
for t in "${all_targets[@]}"; do
    mkdir -p "$corpus/$t"
    if [[ -d fuzz/corpus/${t#fuzz_} ]]; then
        cp fuzz/corpus/"${t#fuzz_}"/* "$corpus/$t/"
    fi
done
cp migrations/*.json "$corpus/fuzz_migration/"
cp data/*.json "$corpus/fuzz_seed_json/"
shared=${STRATA_SHARED_DIR:-../shared}
if [[ -f "$shared/fixtures/medusa/seed.json" ]]; then
    cp "$shared/fixtures/medusa/seed.json" "$corpus/fuzz_seed_json/medusa-fixture.json"
fi
python3 - "$corpus" "$build/strata" <<'EOF'
# Derived seeds: self-contained migrations (the first k Medusa migrations
# folded into one, so later operations find their tables), and the CHECK
# and WHERE clauses that the compiled Medusa migrations hold, as SQL for
# the predicate parser.
import glob, json, os, re, subprocess, sys
corpus, strata = sys.argv[1], sys.argv[2]
files = sorted(glob.glob("migrations/*.json"), key=lambda p: int(os.path.basename(p).split("_")[0]))
ups = []
for k, path in enumerate(files[:12]):
    with open(path) as f:
        ups.extend(json.load(f)["up"])
    if k in (0, 2, 5, 11):
        with open(os.path.join(corpus, "fuzz_migration", "folded-%02d.json" % (k + 1)), "w") as f:
            json.dump({"up": ups}, f)
seen = set()
for dialect in ("postgres", "mysql", "sqlite"):
    sql = subprocess.run([strata, "migrations", "sql", "--dialect", dialect, "--migrations-dir",
                          "migrations"], capture_output=True, text=True).stdout
    for m in re.finditer(r"\b(CHECK|WHERE)\s*\(", sql):
        i, depth = m.end() - 1, 0
        for j in range(i, min(len(sql), i + 2000)):
            depth += {"(": 1, ")": -1}.get(sql[j], 0)
            if depth == 0:
                seen.add(sql[i:j + 1])
                break
for n, text in enumerate(sorted(seen)[:400]):
    with open(os.path.join(corpus, "fuzz_predicate", "derived-%03d.sql" % n), "w") as f:
        f.write(text)
# CSV / NDJSON seeds from the seed files (data/, the Medusa fixture): every
# list of objects in them (a Strata table's rows, Medusa's regions, products,
# ...) becomes one CSV and one NDJSON file
def row_lists(v, depth=0):
    if isinstance(v, list) and v and all(isinstance(r, dict) for r in v):
        yield v
    if depth < 3:
        for c in (v.values() if isinstance(v, dict) else v if isinstance(v, list) else []):
            yield from row_lists(c, depth + 1)
def cell(v):
    s = "" if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else str(v))
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\n') else s
n = 0
for path in sorted(glob.glob(os.path.join(corpus, "fuzz_seed_json", "*.json"))):
    try:
        with open(path) as f:
            doc = json.load(f)
    except ValueError:
        continue
    for rows in row_lists(doc):
        if n >= 60:
            break
        with open(os.path.join(corpus, "fuzz_seed_source", "data-%02d-ndjson" % n), "wb") as f:
            f.write(b"\x02" + "".join(json.dumps(r) + "\n" for r in rows).encode())
        cols = sorted({k for r in rows for k in r if not k.startswith("$")})
        lines = [",".join(cols)] + [",".join(cell(r.get(c)) for c in cols) for r in rows]
        with open(os.path.join(corpus, "fuzz_seed_source", "data-%02d-csv" % n), "wb") as f:
            f.write(b"\x00" + ("\n".join(lines) + "\n").encode())
        n += 1
EOF

# ---- run
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
jobs=${STRATA_FUZZ_JOBS:-1}
status=0
for t in "${targets[@]}"; do
    work=$build/corpus-work/$t
    art=$build/artifacts/$t
    rm -rf "$art"
    mkdir -p "$work" "$art"
    dict=()
    case $t in
    fuzz_migration | fuzz_seed_json) dict=(-dict=fuzz/dict/json.dict) ;;
    fuzz_url) dict=(-dict=fuzz/dict/url.dict) ;;
    esac
    par=()
    [[ "$jobs" -gt 1 ]] && par=(-fork="$jobs")
    echo "== $t: ${seconds}s"
    log=$build/$t.log
    rc=0
    "$build/fuzz/$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
        -print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" "${par[@]}" \
        "$work" "$corpus/$t" >"$log" 2>&1 || rc=$?
    if [[ $rc -eq 0 ]]; then
        grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$log" | tr '\n' ' ' || true
        echo "-> clean"
        continue
    fi
    status=1
    echo "-> FINDING (exit $rc); the report:"
    # the report: from its first line (sanitizer, libFuzzer or the target's
    # own words), at most 80 lines; else the end of the log
    report=$(awk '/^==[0-9]+==|runtime error:|password leaked|^Deadly signal|^ALARM:|ERROR: libFuzzer/{p=1} p' \
        "$log" | head -n 80)
    if [[ -n "$report" ]]; then
        echo "$report"
    else
        tail -n 40 "$log"
    fi
    for f in "$art"/*; do
        [[ -f "$f" ]] || continue
        echo "reproducer $f ($(stat -c %s "$f") bytes), base64:"
        base64 -w 76 "$f" | head -n 200
        echo "hex dump (first 1 KiB):"
        od -A x -t x1z -v "$f" | head -n 64
    done
done
exit $status
