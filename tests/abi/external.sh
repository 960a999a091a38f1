#!/usr/bin/env bash
# external.sh BUILD_DIR [SANITIZE] - libstrata as a program outside this tree
# sees it: install the build into a temporary prefix, then build
# external/main.c against the installed library only, once with pkg-config
# and once with find_package(strata) in a CMake project of its own, and run
# both. SANITIZE=1 (a STRATA_SANITIZE build) compiles them with the same
# sanitizers, which an instrumented libstrata needs in the program.
set -euo pipefail
build=$1 sanitize=${2:-0}
here=$(cd "$(dirname "$0")" && pwd)
cmake=${CMAKE_COMMAND:-cmake}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

"$cmake" --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name strata.pc)")
pc() { PKG_CONFIG_PATH=$pcdir pkg-config "$@" strata; }
flags="-std=c11 -Wall -Wextra -Werror -pedantic"
if [[ $sanitize == 1 ]]; then
    flags+=" -fsanitize=address,undefined -fno-sanitize-recover=undefined"
fi

echo "pkg-config: strata $(pc --modversion), $(pc --cflags --libs)"
# shellcheck disable=SC2046,SC2086
cc $flags "$here/external/main.c" -o "$tmp/by-pkg-config" $(pc --cflags --libs)
LD_LIBRARY_PATH=$(pc --variable=libdir) "$tmp/by-pkg-config" "$here/external/migrations"

want=$(pc --modversion)
"$cmake" -S "$here/external" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_FLAGS="$flags" -DSTRATA_WANT_VERSION="$want" >/dev/null
found=$(sed -n 's/^strata_DIR:[A-Z]*=//p' "$tmp/cmake/CMakeCache.txt")
echo "find_package(strata $want): $found"
if [[ $found != "$prefix"/* ]]; then
    echo "find_package found strata outside the temporary install"
    exit 1
fi
"$cmake" --build "$tmp/cmake" >/dev/null
"$tmp/cmake/external" "$here/external/migrations"
