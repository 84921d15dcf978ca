#!/bin/sh
# run_table.sh BUILD - the end-to-end table of tests/bench/README.md: each
# echo server (wsx examples/echo_server, wslay, libwebsockets, and
# uWebSockets when $BUILD/bench/echo_uws was built) in turn on 127.0.0.1,
# loaded by examples/wsx-load with columns a..f, RUNS rounds interleaved
# (wsx, wslay, lws, uws, wsx, ...) so drift hits all alike; prints the
# medians as markdown tables with wsx's ratio to each peer: the rates, and
# the work per server CPU-second (the rate times the run's wall time over
# the user + system time the server used, from /proc/PID/stat), which the
# other load on a shared machine disturbs less.
#   RUNS=3 SECS=3 sh tests/bench/run_table.sh build
#   COLS="a e" SERVERS="wsx uws" RUNS=7 sh tests/bench/run_table.sh build
set -u
build=${1:-build}
runs=${RUNS:-3}
secs=${SECS:-3}
idle_conns=${IDLE_CONNS:-10000}
load=$build/examples/wsx-load
raw=$build/bench/table-raw.txt
[ -x "$load" ] && [ -x "$build/examples/echo_server" ] || {
    echo "run_table.sh: build $load and $build/examples/echo_server first" >&2
    exit 1
}
mkdir -p "$build/bench"
: >"$raw"

# 10,000 idle connections need 10,000 descriptors in each process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
# PIN=1: the server on core 0, the generator on core 1. Off by default:
# on the 2-vCPU machine of the README it halved every rate (each wake-up
# then crosses vCPUs).
pin_srv= pin_load=
if [ "${PIN:-0}" = 1 ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    pin_srv="taskset -c 0" pin_load="taskset -c 1"
fi

# The peers are bare echo servers: echo_server's example guards (message
# and byte rates per connection, a connection cap: cli_guards_echo) are
# lifted so that they throttle no column, as the peers have none.
wsx_args=${WSX_ARGS:---message-rate 0 --byte-rate 0 --control-rate 0 --max-conns 0}

# COLS="a e": only those columns; SERVERS="wsx uws": only those servers.
cols=" ${COLS:-a b c d e f} "
want() { case $cols in *" $1 "*) return 0 ;; esac; return 1; }

servers=""
for s in ${SERVERS:-wsx wslay lws uws}; do
    case $s in
    wsx) bin=$build/examples/echo_server ;;
    *) bin=$build/bench/echo_$s ;;
    esac
    if [ -x "$bin" ]; then servers="$servers $s"; else echo "run_table.sh: no $bin, skipping $s" >&2; fi
done

port=19100
srv_pid=
start_server() { # name
    port=$((port + 1))
    case $1 in
    wsx) # shellcheck disable=SC2086 # WSX_ARGS splits on purpose
        $pin_srv "$build/examples/echo_server" --host 127.0.0.1 --port $port $wsx_args 2>/dev/null & ;;
    *) $pin_srv "$build/bench/echo_$1" --host 127.0.0.1 --port $port 2>/dev/null & ;;
    esac
    srv_pid=$!
    url=ws://127.0.0.1:$port/
    i=0
    until "$load" --count 1 --duration 1 "$url" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 50 ] || { echo "run_table.sh: $1 did not start" >&2; return 1; }
        sleep 0.1
    done
}
stop_server() {
    kill "$srv_pid" 2>/dev/null
    wait "$srv_pid" 2>/dev/null
}

field() { # key, line
    echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# The server's user + system CPU time so far, in clock ticks.
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$srv_pid/stat" 2>/dev/null || echo 0
}
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)

# One column: run wsx-load, keep its key=value line, record the figure.
measure() { # server run column key args...
    s=$1 r=$2 col=$3 key=$4
    shift 4
    c0=$(cpu_ticks) t0=$(date +%s.%N)
    line=$($pin_load "$load" "$@" "$url" 2>/dev/null | grep '^wsx-load:')
    c1=$(cpu_ticks) t1=$(date +%s.%N)
    errs=$(field errors "$line")
    v=$(field "$key" "$line")
    [ -n "$v" ] || v=nan
    [ "${errs:-1}" = 0 ] || v="$v!"
    echo "$s $r $col $v" >>"$raw"
    echo "$s run $r $col: $line" >&2
    if [ "$col" = a ]; then
        echo "$s $r a99 $(field p99_us "$line")" >>"$raw"
        echo "$s $r a999 $(field p999_us "$line")" >>"$raw"
    fi
    [ "$col" = f ] && return
    echo "$s $r ${col}cpu $(awk -v v="${v%!}" -v c=$((c1 - c0)) -v hz="$hz" \
        -v w="$(echo "$t1 $t0" | awk '{print $1 - $2}')" \
        'BEGIN { if (c > 0 && v != "nan") print v * w * hz / c; else print "nan" }')" >>"$raw"
}

for r in $(seq 1 "$runs"); do
    for s in $servers; do
        start_server "$s" || continue
        w="--warmup 0.5 --duration $secs"
        want a && measure "$s" "$r" a msgs_per_s --conns 100 --inflight 1 --size 16 $w
        want b && measure "$s" "$r" b msgs_per_s --conns 100 --inflight 16 --size 16 $w
        want c && measure "$s" "$r" c mb_per_s --conns 10 --inflight 1 --size 65536 $w
        want d && measure "$s" "$r" d mb_per_s --conns 1 --inflight 1 --size 1048576 $w
        want e && measure "$s" "$r" e handshakes_per_s --conns 50 --handshakes $w
        stop_server
        want f || continue
        # A fresh server for f: memory freed by the runs above would be
        # reused without growing RSS.
        start_server "$s" || continue
        measure "$s" "$r" f rss_per_conn_b --idle --conns "$idle_conns" --duration 2.5 \
            --server-pid "$srv_pid"
        stop_server
    done
done

# Medians, then ratios: "x better" is wsx/peer for rates, peer/wsx for
# latency and memory, so above 1 always means wsx leads.
report() { # title, columns, headers
    awk -v servers="$servers" -v cols="$2" -v heads="$3" '
function median(s, c,   n, i, j, t, v) {
    n = cnt[s, c]
    for (i = 1; i <= n; i++) v[i] = val[s, c, i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    if (n == 0) return ""
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function fmt(x) {
    return x == "" ? "-" : sprintf("%.0f", x)
}
{
    flag = ($4 ~ /!$/); sub(/!$/, "", $4)
    if ($4 == "nan") { bad[$1, $3] = 1; next }
    cnt[$1, $3]++; val[$1, $3, cnt[$1, $3]] = $4 + 0
    if (flag) bad[$1, $3] = 1
}
END {
    nc = split(cols, cl, " "); split(heads, hd, ";")
    name["wsx"] = "wsx (examples/echo_server)"; name["wslay"] = "wslay 1.1.1 (Debian)"
    name["lws"] = "libwebsockets 4.1.6 (Debian)"; name["uws"] = "uWebSockets (echo_uws)"
    row = "| server"; sep = "|---"
    for (k = 1; k <= nc; k++) { row = row " | " hd[k]; sep = sep "|---:" }
    print row " |"; print sep "|"
    n = split(servers, sv, " ")
    for (i = 1; i <= n; i++) {
        s = sv[i]; row = "| " name[s]
        for (k = 1; k <= nc; k++) {
            c = cl[k]; m = median(s, c); med[s, c] = m
            cell = fmt(m); if (c == "f" && m != "") cell = cell " B"
            if (bad[s, c]) cell = cell " (errors)"
            row = row " | " cell
        }
        print row " |"
    }
    for (i = 1; i <= n; i++) {
        p = sv[i]; if (p == "wsx") continue
        row = "| wsx vs " p " (× better)"
        for (k = 1; k <= nc; k++) {
            c = cl[k]; a = med["wsx", c]; b = med[p, c]
            if (a == "" || b == "" || a == 0 || b == 0) { row = row " | -"; continue }
            x = (c ~ /^a99/ || c == "f") ? b / a : a / b
            row = row " | " sprintf("%.2f×", x)
        }
        print row " |"
    }
}' "$raw"
}
report rates "a a99 a999 b c d e f" \
    "a: msgs/s, 100 conns, 1 in flight, 16 B;a: p99 µs;a: p99.9 µs;b: msgs/s, 100 conns, 16 in flight, 16 B;c: MB/s, 10 conns, 64 KiB;d: MB/s, 1 conn, 1 MiB;e: handshakes/s;f: idle RSS per conn"
echo
echo "Per server CPU-second:"
echo
report cpu "acpu bcpu ccpu dcpu ecpu" \
    "a: msgs;b: msgs;c: MB;d: MB;e: handshakes"
echo "(medians of $runs runs of $secs s each; raw figures in $raw)"
