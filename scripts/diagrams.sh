#!/usr/bin/env bash
# diagrams.sh [--check] [STRATA] - the Medusa schema's diagrams in docs/:
#   medusa-schema.mmd  Mermaid    `strata migrations schema --format mermaid`
#   medusa-schema.dot  Graphviz   `strata migrations schema --format dot`
#   medusa-schema.svg  the .dot drawn by dot from Debian's graphviz
# from the migrations in migrations/, with the tool STRATA (default
# ./build/strata). Without --check it writes them; with --check it writes
# nothing and fails when the checked-in files are not what the migrations
# give now:
#   - the .mmd and .dot must be equal byte for byte: they are Strata's own
#     deterministic output (tables by name, no date, no version);
#   - the .svg must be well-formed and draw exactly the tables and foreign
#     keys of the .dot: the same <title> of every node and edge as dot draws
#     now. Its geometry is not compared, because dot's layout and the
#     comments it writes change between Graphviz versions: the diagram is
#     right when it shows what the .dot says, wherever a box ends up.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
if [[ "${1:-}" == "--check" ]]; then
    check=1
    shift
fi
strata=${1:-./build/strata}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for fmt in mermaid dot; do
    ext=$([[ $fmt == mermaid ]] && echo mmd || echo dot)
    "$strata" --no-dotenv migrations schema --migrations-dir migrations --format "$fmt" \
        --out "$tmp/medusa-schema.$ext" >/dev/null
done
dot -Tsvg "$tmp/medusa-schema.dot" -o "$tmp/medusa-schema.svg"

# the nodes and edges an SVG of dot draws, one <title> a line
titles() { grep -o '<title>[^<]*</title>' "$1" | sort; }

if [[ $check == 0 ]]; then
    cp "$tmp"/medusa-schema.{mmd,dot,svg} docs/
    echo "wrote docs/medusa-schema.mmd, .dot and .svg ($(titles docs/medusa-schema.svg | wc -l) nodes and edges)"
    exit 0
fi

status=0
for ext in mmd dot; do
    if ! cmp -s "$tmp/medusa-schema.$ext" "docs/medusa-schema.$ext"; then
        echo "docs/medusa-schema.$ext is not what the migrations give now:"
        diff -u "docs/medusa-schema.$ext" "$tmp/medusa-schema.$ext" | head -40 || true
        status=1
    fi
done
if ! xmllint --noout docs/medusa-schema.svg; then
    echo "docs/medusa-schema.svg is not well-formed XML"
    status=1
elif ! diff -u <(titles docs/medusa-schema.svg) <(titles "$tmp/medusa-schema.svg") >"$tmp/titles.diff"; then
    echo "docs/medusa-schema.svg does not draw the tables and foreign keys of the .dot:"
    head -40 "$tmp/titles.diff"
    status=1
fi
if [[ $status != 0 ]]; then
    echo "run scripts/diagrams.sh to write them again"
else
    echo "docs/medusa-schema.{mmd,dot,svg} match the migrations ($(titles "$tmp/medusa-schema.svg" | wc -l) nodes and edges)"
fi
exit $status
