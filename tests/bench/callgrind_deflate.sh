#!/bin/sh
# callgrind_deflate.sh BUILD - instructions of wsx's DEFLATE codec, of
# zlib and (when bench_deflate was built with it) of libdeflate on the
# same 1 MiB of JSON and of text (bench_deflate's corpora): deflate levels
# 1 and 6, and inflate of zlib level 6 output, each counted by callgrind
# inside bench_deflate's `once` only, with the output ratio and zlib / wsx
# (how many times fewer instructions wsx needs; libdeflate / wsx likewise).
# With `msg`: instructions per message of 150 B, 1 KiB and 16 KiB of
# JSON, each compressed (level 6) or inflated on its own, as
# permessage-deflate without context takeover does.
#   sh tests/bench/callgrind_deflate.sh build [msg]
set -u
b=${1:-build}/bench/bench_deflate
[ -x "$b" ] || { echo "build $b first (make -C tests/bench micro)" >&2; exit 2; }
count() {
    valgrind --tool=callgrind --toggle-collect=once --callgrind-out-file=/dev/null \
        "$b" "$@" 2>&1 | awk '/Collected/ {print $4}'
}
if [ "${2:-}" = msg ]; then
    printf '| message | operation | wsx | zlib | libdeflate | zlib / wsx |\n|---|---|---:|---:|---:|---:|\n'
    for size in 150 1024 16384; do
        for op in deflate inflate; do
            w=$(count msg wsx $op $size) z=$(count msg zlib $op $size)
            l=$(count msg libdeflate $op $size)
            awk -v s="$size" -v o="$op" -v w="$w" -v z="$z" -v l="$l" 'BEGIN {
                printf "| %d B | %s | %.1f k | %.1f k | %s | %.2f |\n", s, o, w / 200e3,
                    z / 200e3, l == "" ? "-" : sprintf("%.1f k", l / 200e3), z / w }'
        done
    done
    exit 0
fi
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
        w=$(count once wsx $op $c) z=$(count once zlib $op $c)
        wr=$("$b" once wsx $op $c | sed 's/.*ratio //') || exit 1
        zr=$("$b" once zlib $op $c | sed 's/.*ratio //')
        [ "$op" = inflate ] && wr=- zr=-
        printf '| %s | %s | %s | %s | %s | %s |' $c $op "$(mega "$w")" "$wr" "$(mega "$z")" "$zr"
        if [ -n "$ldf" ]; then
            l=$(count once libdeflate $op $c)
            lr=$("$b" once libdeflate $op $c | sed 's/.*ratio //')
            [ "$op" = inflate ] && lr=-
            printf ' %s | %s | %s | %s |\n' "$(mega "$l")" "$lr" "$(per "$z" "$w")" "$(per "$l" "$w")"
        else
            printf ' %s |\n' "$(per "$z" "$w")"
        fi
    done
done
