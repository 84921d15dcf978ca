#!/bin/sh
# callgrind.sh BUILD [SERVER...] - user-space instructions per echoed
# message of an echo server under valgrind's callgrind, driven by
# examples/wsx-load: two loads of N1 and N2 messages on fresh connections,
# counters zeroed before and dumped after each, and the difference divided
# by N2 - N1, so the handshakes, closes and first-message allocations of
# both loads cancel out. SERVER: wsx (default), wslay, lws.
#   sh tests/bench/callgrind.sh build/perf wsx
# Env: CONNS (10), INFLIGHT (1), SIZE (16), N1 (2000), N2 (22000), ARGS
# (more server options, e.g. ARGS=--metrics), PORT (19600; +1 per server),
# HANDSHAKES=1 (per opening and closing handshake instead: wsx-load
# --handshakes, N1 500, N2 5500).
set -u
build=${1:-build}
shift 2>/dev/null
servers=${*:-wsx}
conns=${CONNS:-10} inflight=${INFLIGHT:-1} size=${SIZE:-16}
mode= unit=message
if [ "${HANDSHAKES:-0}" = 1 ]; then
    mode=--handshakes unit=handshake
    n1=${N1:-500} n2=${N2:-5500}
else
    n1=${N1:-2000} n2=${N2:-22000}
fi
load=$build/examples/wsx-load
out=$build/bench/callgrind
mkdir -p "$out"
port=${PORT:-19600}
for s in $servers; do
    case $s in
    wsx) bin=$build/examples/echo_server ;;
    *) bin=$build/bench/echo_$s ;;
    esac
    port=$((port + 1))
    rm -f "$out/$s".*
    valgrind --tool=callgrind --callgrind-out-file="$out/$s.%p" \
        "$bin" --host 127.0.0.1 --port $port ${ARGS:-} >/dev/null 2>&1 &
    pid=$!
    url=ws://127.0.0.1:$port/
    i=0
    until "$load" --count 1 --duration 5 "$url" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 100 ] || { echo "callgrind.sh: $s did not start" >&2; exit 1; }
        sleep 0.2
    done
    ir() { # messages -> instructions of the server for one load of them
        callgrind_control -z $pid >/dev/null 2>&1
        "$load" --conns "$conns" --inflight "$inflight" --size "$size" \
            $mode --count "$1" --duration 600 "$url" >/dev/null || exit 1
        callgrind_control -d $pid >/dev/null 2>&1
        f=$(ls -t "$out/$s.$pid".* | head -1)
        sed -n 's/^summary: *//p; s/^totals: *//p' "$f" | head -1 | cut -d' ' -f1
    }
    a=$(ir "$n1") b=$(ir "$n2")
    kill $pid
    wait $pid 2>/dev/null
    echo "$s conns=$conns inflight=$inflight size=$size: $(( (b - a) / (n2 - n1) )) instructions per $unit ($a for $n1, $b for $n2)"
done
