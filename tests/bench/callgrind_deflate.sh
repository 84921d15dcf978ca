#!/bin/sh
# callgrind_deflate.sh BUILD - instructions of wsx's DEFLATE codec, of
# zlib and (when bench_deflate was built with it) of libdeflate on the
# same 1 MiB of JSON and of text (bench_deflate's corpora): deflate levels
# 1 and 6, and inflate of zlib level 6 output, each counted by callgrind
# inside bench_deflate's `once` only, with the output ratio and zlib / wsx
# (how many times fewer instructions wsx needs; libdeflate / wsx likewise).
#   sh tests/bench/callgrind_deflate.sh build
set -u
b=${1:-build}/bench/bench_deflate
[ -x "$b" ] || { echo "build $b first (make -C tests/bench micro)" >&2; exit 2; }
count() {
    valgrind --tool=callgrind --toggle-collect=once --callgrind-out-file=/dev/null \
        "$b" once "$@" 2>&1 | awk '/Collected/ {print $4}'
}
mega() { awk -v n="$1" 'BEGIN {printf "%.2f M", n / 1e6}'; }
per() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
ldf=
"$b" once libdeflate inflate json >/dev/null 2>&1 && ldf=1
if [ -n "$ldf" ]; then
    printf '| corpus | operation | wsx instructions | ratio | zlib instructions | ratio | libdeflate instructions | ratio | zlib / wsx | libdeflate / wsx |\n'
    printf '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n'
else
    printf '| corpus | operation | wsx instructions | ratio | zlib instructions | ratio | zlib / wsx |\n'
    printf '|---|---|---:|---:|---:|---:|---:|\n'
fi
for c in json text; do
    for op in deflate1 deflate6 inflate; do
        w=$(count wsx $op $c) z=$(count zlib $op $c)
        wr=$("$b" once wsx $op $c | sed 's/.*ratio //') || exit 1
        zr=$("$b" once zlib $op $c | sed 's/.*ratio //')
        [ "$op" = inflate ] && wr=- zr=-
        printf '| %s | %s | %s | %s | %s | %s |' $c $op "$(mega "$w")" "$wr" "$(mega "$z")" "$zr"
        if [ -n "$ldf" ]; then
            l=$(count libdeflate $op $c)
            lr=$("$b" once libdeflate $op $c | sed 's/.*ratio //')
            [ "$op" = inflate ] && lr=-
            printf ' %s | %s | %s | %s |\n' "$(mega "$l")" "$lr" "$(per "$z" "$w")" "$(per "$l" "$w")"
        else
            printf ' %s |\n' "$(per "$z" "$w")"
        fi
    done
done
