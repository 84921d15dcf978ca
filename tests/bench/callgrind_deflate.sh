#!/bin/sh
# callgrind_deflate.sh BUILD - instructions of wsx's DEFLATE codec and of
# zlib on the same 1 MiB of JSON and of text (bench_deflate's corpora):
# deflate levels 1 and 6, and inflate of zlib level 6 output, each counted
# by callgrind inside bench_deflate's `once` only, with the output ratio
# and zlib / wsx (how many times fewer instructions wsx needs).
#   sh tests/bench/callgrind_deflate.sh build
set -u
b=${1:-build}/bench/bench_deflate
[ -x "$b" ] || { echo "build $b first (make -C tests/bench micro)" >&2; exit 2; }
count() {
    valgrind --tool=callgrind --toggle-collect=once --callgrind-out-file=/dev/null \
        "$b" once "$@" 2>&1 | awk '/Collected/ {print $4}'
}
printf '| corpus | operation | wsx instructions | ratio | zlib instructions | ratio | zlib / wsx |\n'
printf '|---|---|---:|---:|---:|---:|---:|\n'
for c in json text; do
    for op in deflate1 deflate6 inflate; do
        w=$(count wsx $op $c) z=$(count zlib $op $c)
        wr=$("$b" once wsx $op $c | sed 's/.*ratio //') || exit 1
        zr=$("$b" once zlib $op $c | sed 's/.*ratio //')
        [ "$op" = inflate ] && wr=- zr=-
        printf '| %s | %s | %s | %s | %s | %s | %s |\n' $c $op \
            "$(awk -v n="$w" 'BEGIN {printf "%.1f M", n / 1e6}')" "$wr" \
            "$(awk -v n="$z" 'BEGIN {printf "%.1f M", n / 1e6}')" "$zr" \
            "$(awk -v w="$w" -v z="$z" 'BEGIN {printf "%.2f", z / w}')"
    done
done
