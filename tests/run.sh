#!/bin/sh
# run.sh BUILD [unit|cross] - run the test binaries built in BUILD/tests
# (or BUILD itself for cross), then the script suites, and print the total
# as the last line: "N passed, M failed", naming what failed. WSX_VALGRIND=1
# runs the binaries under valgrind; WSX_QEMU prefixes them with an emulator.
# WSX_T=word (make test T=word) runs only the C tests whose name
# (file/function) contains word, and only the script suites named so.
build=$1
# Slow runners (valgrind, emulation, sanitizers) get smaller loops.
[ -n "$WSX_VALGRIND$WSX_QEMU$WSX_SANITIZED" ] && export WSX_QUICK=1
mode=${2:-all}
here=$(cd "$(dirname "$0")" && pwd)
pass=0
fail=0
ran=0
failed=
out=$(mktemp)
trap 'rm -f "$out"' EXIT

tally() { # name, exit status; reads the closing line from $out
    line=$(grep -E '^([A-Za-z0-9_.-]+: )?[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    p=$(echo "$line" | sed -E 's/^([^:]*: )?([0-9]+) passed, ([0-9]+) failed.*/\2/')
    f=$(echo "$line" | sed -E 's/^([^:]*: )?([0-9]+) passed, ([0-9]+) failed.*/\3/')
    [ -n "$p" ] || { p=0; f=1; echo "$1: no result line"; }
    if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "$1: exited $2"; fi
    n=$(echo "$line" | sed -nE 's/.*failed \(([0-9]+) tests\).*/\1/p')
    ran=$((ran + ${n:-0}))
    [ "$f" -eq 0 ] || failed="$failed${failed:+, }$1"
    pass=$((pass + p)); fail=$((fail + f))
}

run_bin() {
    name=$(basename "$1")
    if [ -n "$WSX_VALGRIND" ]; then
        valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=all \
            "$1" >"$out" 2>&1
    else
        $WSX_QEMU "$1" >"$out" 2>&1
    fi
    st=$?
    grep -E 'passed, [0-9]+ failed|FAIL|ERROR|Sanitizer|==[0-9]+==' "$out" | grep -v ' (0 tests)$' | head -n 40
    tally "$name" $st
}

case $mode in
cross) bins=$(ls "$build"/test_* 2>/dev/null) ;;
unit)  bins=$(for s in "$here"/unit/test_*.c; do echo "$build/tests/$(basename "$s" .c)"; done) ;;
*)     bins=$(for s in "$here"/unit/test_*.c "$here"/e2e/test_*.c; do
             [ -f "$s" ] && echo "$build/tests/$(basename "$s" .c)"; done) ;;
esac
for b in $bins; do run_bin "$b"; done

# Script suites (conformance, interop) need the examples; not in unit/cross.
if [ "$mode" = all ]; then
    for s in "$here"/*/run-suite.sh; do
        [ -f "$s" ] || continue
        case "$(basename "$(dirname "$s")")" in *"$WSX_T"*) ;; *) continue ;; esac
        ran=$((ran + 1))
        WSX_BUILD=$build sh "$s" >"$out" 2>&1
        st=$?
        grep -E 'passed, [0-9]+ failed|FAIL|SKIP' "$out" | head -n 60
        tally "$(basename "$(dirname "$s")")" $st
    done
fi
echo "$ran tests ran${WSX_T:+ (named *$WSX_T*)}"
echo "$pass passed, $fail failed${failed:+ (in $failed)}"
[ "$fail" -eq 0 ]
