#!/bin/sh
# run-suite.sh - replays each fuzz/corpus/<target> (seeds and regression
# inputs) through fuzz/fuzz_<target>.c built with fuzz/driver.c instead of
# libFuzzer: one pass per target whose whole corpus runs without a crash,
# a violated invariant, a sanitizer report or a leak. Built with cc and
# ASan+UBSan into $WSX_BUILD/fuzz-suite; with WSX_VALGRIND set, built
# plain and run under valgrind. Last line: "N passed, M failed".
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${WSX_BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
cc=${CC:-cc}
if [ -n "$WSX_VALGRIND" ]; then
    out=$build/fuzz-suite-plain
    cflags="-O1 -g"
    run="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=all"
else
    out=$build/fuzz-suite
    cflags="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
    run=
fi
command -v timeout >/dev/null 2>&1 && run="timeout 600 $run"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# A target that no longer compiles must fail, not replay an old binary.
rm -f "$out"/replay/fuzz_*
make -k -s -C "$root/fuzz" replay OUT="$out" CC="$cc" REPLAY_CFLAGS="$cflags" \
    >"$log" 2>&1 || grep -E 'error|Error' "$log" | head -n 20

pass=0
fail=0
for src in "$root"/fuzz/fuzz_*.c; do
    t=$(basename "$src" .c)
    name=${t#fuzz_}
    bin=$out/replay/$t
    corpus=$root/fuzz/corpus/$name
    if [ ! -x "$bin" ]; then
        echo "FAIL $t: did not build"
        fail=$((fail + 1))
    elif [ ! -d "$corpus" ]; then
        echo "FAIL $t: no corpus in fuzz/corpus/$name"
        fail=$((fail + 1))
    elif $run "$bin" "$corpus" >"$log" 2>&1; then
        echo "ok   $t: $(tail -n 1 "$log")"
        pass=$((pass + 1))
    else
        grep -E 'ERROR|runtime error|SUMMARY' "$log" | head -n 4
        # The driver stops at the first failure: name every failing input.
        for f in "$corpus"/*; do
            $run "$bin" "$f" >/dev/null 2>&1 ||
                echo "FAIL $t: fuzz/corpus/$name/$(basename "$f")"
        done
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
