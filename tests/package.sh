#!/usr/bin/env bash
# package.sh SOURCE_DIR - the Debian package, as a user installs it: build
# the tree as a release (no sanitizers: this is what ships) in a temporary
# directory, make the package with `cpack -G DEB`, and check
#   - its Depends: the Debian packages of every library it links;
#   - its files: the tool, its man page and completion, the library, the
#     headers, strata.pc and the CMake package;
#   - that dpkg installs it into an empty throwaway root (--root), and
#     that there the tool runs (`strata --version`, an offline command) and
#     a program builds against the library with pkg-config and runs.
# Nothing is installed into this machine's own /usr.
set -euo pipefail
src=$(cd "$1" && pwd)
cmake=${CMAKE_COMMAND:-cmake}
cpack=$(dirname "$cmake")/cpack
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package: $*"; exit 1; }
# run a step quietly; its output only when it fails
quiet() { "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "failed: $*"; }; }

quiet "$cmake" -S "$src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release -DSTRATA_BUILD_TESTS=OFF
quiet "$cmake" --build "$tmp/build" -j"$(nproc)"
(cd "$tmp/build" && quiet "$cpack" -G DEB)
debs=("$tmp"/build/strata_*.deb)
deb=${debs[0]}
[[ -f $deb ]] || fail "cpack wrote no .deb"
echo "built $(basename "$deb")"

# Depends, worked out by dpkg-shlibdeps from what the binaries link
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for p in libc6 libpq5 libmariadb3 libsqlite3-0 libjansson4 libssl3; do
    grep -Eq "(^|, )$p( |,|$)" <<<"$depends" || fail "Depends lacks $p"
done
if grep -Eq "libasan|libubsan|strata" <<<"$depends"; then
    fail "Depends names a sanitizer runtime or the package itself"
fi

# the files
files=$(dpkg-deb -c "$deb" | awk '{print $6}')
version=$(dpkg-deb -f "$deb" Version)
for f in ./usr/bin/strata ./usr/lib/libstrata.so ./usr/lib/libstrata.so.0 \
         "./usr/lib/libstrata.so.$version" ./usr/include/strata.h ./usr/include/strata_version.h \
         ./usr/lib/pkgconfig/strata.pc ./usr/lib/cmake/strata/strataConfig.cmake \
         ./usr/lib/cmake/strata/strataConfigVersion.cmake ./usr/lib/cmake/strata/strataTargets.cmake \
         ./usr/share/man/man1/strata.1 ./usr/share/bash-completion/completions/strata \
         ./usr/share/zsh/vendor-completions/_strata; do
    grep -qxF "$f" <<<"$files" || fail "the package lacks $f"
done

# install it with dpkg into an empty root (its dependencies are this
# machine's, hence --force-depends)
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
force=--force-depends
[[ $(id -u) -eq 0 ]] || force+=,not-root
quiet dpkg --root="$root" --log=/dev/null "$force" --force-script-chrootless -i "$deb"
dpkg --root="$root" -s strata | grep -q "^Status: install ok installed" || fail "dpkg did not install it"

export LD_LIBRARY_PATH=$root/usr/lib
out=$("$root/usr/bin/strata" --version)
[[ $out == "strata $version" ]] || fail "strata --version printed '$out', expected 'strata $version'"
echo "$out"
"$root/usr/bin/strata" migrations sql --dialect postgres --migrations-dir "$src/tests/abi/external/migrations" \
    | grep -q "CREATE TABLE" || fail "the installed tool cannot compile migrations"
man -l "$root/usr/share/man/man1/strata.1" 2>/dev/null | grep -q "baseline" || fail "the man page does not render"

# a program built against the installed headers and library
pcdir=$root/usr/lib/pkgconfig
# shellcheck disable=SC2046
cc -std=c11 "$src/tests/abi/external/main.c" -o "$tmp/external" \
    $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs strata)
"$tmp/external" "$src/tests/abi/external/migrations" >/dev/null || fail "a program linked to the package fails"
echo "installed into a throwaway root with dpkg; strata --version and a linked program run"
