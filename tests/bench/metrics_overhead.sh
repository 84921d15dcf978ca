#!/bin/sh
# metrics_overhead.sh BUILD - what the metrics cost: echo_server without
# and with --metrics (every connection counted, both histograms timed),
# loaded at the same time by one examples/wsx-load each (16 B binary, 100
# connections, 1 and 16 in flight), RUNS rounds. Figure: echoed messages
# per second of server CPU time (utime + stime from /proc), which the
# other sessions on a shared machine disturb less than the wall-clock
# rate. Prints the medians and the overhead; raw figures in
# BUILD/bench/metrics-raw.txt.
#   RUNS=5 SECS=3 sh tests/bench/metrics_overhead.sh build
set -u
build=${1:-build}
runs=${RUNS:-5}
secs=${SECS:-3}
load=$build/examples/wsx-load
srv=$build/examples/echo_server
raw=$build/bench/metrics-raw.txt
[ -x "$load" ] && [ -x "$srv" ] || { echo "metrics_overhead.sh: build $load and $srv first" >&2; exit 1; }
mkdir -p "$build/bench"
: >"$raw"
tck=$(getconf CLK_TCK)
tmp=$(mktemp -d)
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

start() { # name args...: sets the name's pid and port files
    name=$1
    shift
    "$srv" --port 0 "$@" >"$tmp/$name.out" 2>&1 &
    echo $! >"$tmp/$name.pid"
    pids="$pids $!"
    for _ in $(seq 50); do
        grep -q 'listening' "$tmp/$name.out" && break
        sleep 0.1
    done
    sed -n 's/.*listening on .* port \([0-9][0-9]*\).*/\1/p' "$tmp/$name.out" >"$tmp/$name.port"
}
cpu() { # pid -> utime + stime in ticks
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}
start off
start on --metrics

# Both servers are loaded at the same time, each by its own wsx-load, so
# that whatever else the machine does in a round hits both alike.
for r in $(seq "$runs"); do
    for inflight in 1 16; do
        for name in off on; do
            echo "$(cpu "$(cat "$tmp/$name.pid")")" >"$tmp/$name.c0"
            "$load" --url "ws://127.0.0.1:$(cat "$tmp/$name.port")/" --conns 100 \
                --inflight $inflight --size 16 --warmup 0.5 --duration "$secs" \
                >"$tmp/$name.load" 2>&1 &
            echo $! >"$tmp/$name.lpid"
        done
        for name in off on; do
            wait "$(cat "$tmp/$name.lpid")"
            c1=$(cpu "$(cat "$tmp/$name.pid")")
            msgs=$(sed -n 's/.* msgs=\([0-9]*\) .*/\1/p' "$tmp/$name.load")
            echo "$r $inflight $name $msgs $((c1 - $(cat "$tmp/$name.c0")))" >>"$raw"
        done
    done
done

# Medians of msgs per CPU second (the warm-up's CPU is counted too: the
# same for both), and the median of each round's on/off ratio, which
# cancels what a round's load did to both.
awk -v tck="$tck" '
    { v = $4 / ($5 / tck); k = $2 " " $3; n[k]++; x[k, n[k]] = v; y[$1, $2, $3] = v }
    function median(k,   i, j, t, m) {
        m = n[k]
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
            if (x[k, j] < x[k, i]) { t = x[k, i]; x[k, i] = x[k, j]; x[k, j] = t }
        return m % 2 ? x[k, (m + 1) / 2] : (x[k, m / 2] + x[k, m / 2 + 1]) / 2
    }
    END {
        print "| in flight | metrics off: msgs per server CPU-s | metrics on | overhead (medians) | overhead (median of paired rounds) |"
        print "|---:|---:|---:|---:|---:|"
        for (f = 1; f <= 16; f += 15) {
            off = median(f " off"); on = median(f " on")
            for (r = 1; r <= n[f " off"]; r++) x[f " ratio", r] = y[r, f, "on"] / y[r, f, "off"]
            n[f " ratio"] = n[f " off"]
            printf "| %d | %.0f | %.0f | %.1f %% | %.1f %% |\n", f, off, on,
                100 * (off - on) / off, 100 * (1 - median(f " ratio"))
        }
    }' "$raw"
