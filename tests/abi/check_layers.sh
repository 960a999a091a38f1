#!/usr/bin/env bash
# check_layers.sh BUILD_DIR - no layer of libstrata calls a function of a
# layer above it. Include paths already make a wrong-way #include fail to
# compile; this checks the symbols too (a declaration copied by hand would
# get past the include paths): every undefined symbol of a layer's objects
# must be defined by the layer itself, a layer below it, or a library
# outside the project.
set -euo pipefail
build=$1
layers=(core dialects drivers engine seed check)
declare -A below=([core]="" [dialects]="core" [drivers]="core" [engine]="core dialects drivers"
                  [seed]="core dialects drivers engine" [check]="core dialects drivers engine seed")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for l in "${layers[@]}"; do
    objs=$(find "$build/CMakeFiles/strata_$l.dir" -name '*.o')
    if [[ -z "$objs" ]]; then echo "no objects for layer $l under $build"; exit 1; fi
    # shellcheck disable=SC2086
    nm -g --defined-only $objs | awk 'NF==3 {print $3}' | sort -u >"$tmp/def_$l"
    # shellcheck disable=SC2086
    nm -u $objs | awk '{print $NF}' | sort -u >"$tmp/und_$l"
done
status=0
for l in "${layers[@]}"; do
    cat "$tmp/def_$l" >"$tmp/allowed"
    for d in ${below[$l]}; do cat "$tmp/def_$d" >>"$tmp/allowed"; done
    sort -u -o "$tmp/allowed" "$tmp/allowed"
    for o in "${layers[@]}"; do
        [[ $o == "$l" ]] && continue
        bad=$(comm -12 "$tmp/und_$l" "$tmp/def_$o" | comm -23 - "$tmp/allowed")
        if [[ -n "$bad" ]]; then
            echo "layer $l uses layer $o, which it may not:"; echo "$bad" | sed 's/^/  /'
            status=1
        fi
    done
done
[[ $status -eq 0 ]] && echo "layers ok: ${layers[*]}"
exit $status
