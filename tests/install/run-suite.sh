#!/bin/sh
# install/run-suite.sh - make install into a temporary PREFIX (and once
# through DESTDIR), then build a program the way a user would, from
# `pkg-config --cflags --libs wsx` (shared) and `--static` (static), run
# both, and check that make uninstall leaves nothing of wsx behind.
build=${WSX_BUILD:-build}
if [ -n "$WSX_SANITIZED$WSX_QEMU" ]; then
    # An instrumented or foreign build tree is not what users install; the
    # plain build's run covers install.
    echo "SKIP install: not with an instrumented or cross build"
    echo "install: 0 passed, 0 failed"
    exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "OK   $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { # name, command...
    name=$1; shift
    if "$@" >"$tmp/out" 2>&1; then ok "$name"; else no "$name"; sed 's/^/     /' "$tmp/out" | head -n 15; fi
}
mk() { make --no-print-directory -C "$root" BUILD="$build" "$@"; }

cat >"$tmp/hello.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <wsx.h>
int main(void)
{
    uint8_t f[WSX_FRAME_HEADER_MAX];
    wsx_frame_header h = {0};
    h.fin = true;
    h.opcode = WSX_TEXT;
    h.length = 2;
    int n = (int)wsx_frame_build(f, &h);
    printf("wsx %s frame %d\n", wsx_version(), n);
    return strcmp(wsx_version(), WSX_VERSION_STRING) != 0 || n != 2;
}
C

p=$tmp/prefix
check "make install PREFIX=$p" mk install PREFIX="$p"
pc=$p/lib/pkgconfig/wsx.pc
check "wsx.pc names the installed prefix" grep -qx "prefix=$p" "$pc"
check "wsx.pc ends with a newline" sh -c "[ \"\$(tail -c 1 '$pc' | od -An -c | tr -d ' ')\" = '\\n' ]"
check "wsx.pc lists what static linking needs" grep -q '^Libs.private: -lm -pthread' "$pc"
for t in wsx-cat wsx-load wsx-echo-server wsx-echo-client; do
    check "bin/$t installed and answers --help" "$p/bin/$t" --help
done
export PKG_CONFIG_PATH="$p/lib/pkgconfig"
check "pkg-config --cflags points at the prefix" sh -c "pkg-config --cflags wsx | grep -q -- '-I$p/include'"
check "shared build from pkg-config" sh -c "cc -std=c11 -Wall -Werror \$(pkg-config --cflags wsx) '$tmp/hello.c' -o '$tmp/hello' \$(pkg-config --libs wsx)"
check "shared program runs against the installed libwsx.so" env LD_LIBRARY_PATH="$p/lib" "$tmp/hello"
check "the shared program links libwsx.so.0" sh -c "LD_LIBRARY_PATH='$p/lib' ldd '$tmp/hello' | grep -q 'libwsx.so.0 => $p/lib'"
check "static build from pkg-config --static" sh -c "cc -std=c11 -Wall -Werror -static \$(pkg-config --static --cflags wsx) '$tmp/hello.c' -o '$tmp/hello-static' \$(pkg-config --static --libs wsx)"
check "static program runs" "$tmp/hello-static"
check "make uninstall PREFIX=$p" mk uninstall PREFIX="$p"
check "nothing of wsx is left" sh -c "[ -z \"\$(find '$p' -type f -o -type l)\" ]"

d=$tmp/dest
o=/opt/wsx-test-$$
check "make install DESTDIR=... PREFIX=$o" mk install DESTDIR="$d" PREFIX="$o"
check "DESTDIR: wsx.pc says prefix=$o" grep -qx "prefix=$o" "$d$o/lib/pkgconfig/wsx.pc"
check "DESTDIR: the files are under it" test -f "$d$o/include/wsx.h"
check "DESTDIR: nothing written to the real $o" test ! -e "$o"
check "make uninstall DESTDIR=..." mk uninstall DESTDIR="$d" PREFIX="$o"
check "DESTDIR: nothing of wsx is left" sh -c "[ -z \"\$(find '$d' -type f -o -type l)\" ]"

echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
