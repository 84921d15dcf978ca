#!/bin/sh
# run_tls_table.sh BUILD - the wss:// table of tests/bench/README.md: wsx's
# examples/echo_server --tls-cert/--tls-key and the libwebsockets peer
# (bench/echo_lws, lws's own OpenSSL) on 127.0.0.1 with one throw-away
# P-256 certificate, loaded by examples/wsx-load --insecure, RUNS rounds
# interleaved. Each rate is given per second of wall time and per second
# of the server's own CPU time (utime + stime from /proc), which is what
# a shared machine cannot blur. Idle memory is per wss:// connection on a
# fresh server.
#   RUNS=3 SECS=3 sh tests/bench/run_tls_table.sh build
set -u
build=${1:-build}
runs=${RUNS:-3}
secs=${SECS:-3}
idle_conns=${IDLE_CONNS:-2000}
load=$build/examples/wsx-load
tmp=$(mktemp -d)
raw=$build/bench/tls-table-raw.txt
trap 'kill "$srv_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
srv_pid=
mkdir -p "$build/bench"
: >"$raw"
ulimit -n "$(ulimit -Hn)" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null || exit 1
hz=$(getconf CLK_TCK)

cpu_ticks() { # utime + stime of a process
    awk '{print $14 + $15}' "/proc/$1/stat"
}
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
start_server() { # name
    port=$(free_port)
    case $1 in
    wsx) "$build/examples/echo_server" --port "$port" --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" >/dev/null 2>&1 & ;;
    lws) "$build/bench/echo_lws" --port "$port" --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" >/dev/null 2>&1 & ;;
    esac
    srv_pid=$!
    url=wss://127.0.0.1:$port/
    i=0
    until "$load" --insecure --count 1 --duration 1 "$url" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 50 ] || { echo "run_tls_table.sh: $1 did not start" >&2; return 1; }
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
# measure SERVER RUN COLUMN KEY COUNT_KEY ARGS...: the rate KEY, and
# COUNT_KEY (messages, bytes or handshakes) per server CPU-second.
measure() {
    s=$1 r=$2 col=$3 key=$4 count=$5
    shift 5
    t0=$(cpu_ticks "$srv_pid")
    line=$("$load" --insecure "$@" "$url" 2>/dev/null | grep '^wsx-load:')
    t1=$(cpu_ticks "$srv_pid")
    v=$(field "$key" "$line")
    n=$(field "$count" "$line")
    [ "$(field errors "$line")" = 0 ] || v="$v!"
    cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN { printf "%.3f", (b - a) / hz }')
    per=$(awk -v n="${n:-0}" -v c="$cpu" 'BEGIN { printf "%.0f", (c > 0 ? n / c : 0) }')
    echo "$s $r $col $v $per $cpu" >>"$raw"
    echo "$s run $r $col: cpu ${cpu}s per-cpu-s $per: $line" >&2
}

for r in $(seq 1 "$runs"); do
    for s in wsx lws; do
        start_server "$s" || continue
        # Whole seconds of load (no warm-up) so the server's CPU time
        # covers exactly what wsx-load counts.
        measure "$s" "$r" e16 msgs_per_s msgs --conns 100 --inflight 16 --size 16 --duration "$secs"
        measure "$s" "$r" e64k mb_per_s msgs --conns 10 --size 65536 --duration "$secs"
        measure "$s" "$r" hs handshakes_per_s handshakes --conns 50 --handshakes --duration "$secs"
        stop_server
        start_server "$s" || continue
        line=$("$load" --insecure --idle --conns "$idle_conns" --duration 2.5 --server-pid "$srv_pid" "$url" 2>/dev/null | grep '^wsx-load:')
        echo "$s $r idle $(field rss_per_conn_b "$line") - -" >>"$raw"
        stop_server
    done
done

# Medians per server and column: "value/per-CPU-second".
awk '
function median(k,   n, i, j, t, v) {
    n = cnt[k]; for (i = 1; i <= n; i++) v[i] = val[k, i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
{ sub(/!$/, "", $4); k = $1 SUBSEP $3; cnt[k]++; val[k, cnt[k]] = $4 + 0
  kp = $1 SUBSEP $3 "cpu"; cnt[kp]++; val[kp, cnt[kp]] = $5 + 0 }
END {
    print "| server | 16 B echo, 100 conns x 16 in flight: msgs/s | msgs per server CPU-s | 64 KiB echo, 10 conns: MB/s | msgs per server CPU-s | TLS+WS handshakes/s, 50 at a time | handshakes per server CPU-s | idle RSS per wss conn |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|"
    split("wsx lws", sv, " ")
    name["wsx"] = "wsx (echo_server --tls-cert)"; name["lws"] = "libwebsockets 4.1.6 (Debian, its OpenSSL)"
    for (i = 1; i <= 2; i++) {
        s = sv[i]
        printf "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f B |\n", name[s],
            median(s SUBSEP "e16"), median(s SUBSEP "e16cpu"), median(s SUBSEP "e64k"),
            median(s SUBSEP "e64kcpu"), median(s SUBSEP "hs"), median(s SUBSEP "hscpu"),
            median(s SUBSEP "idle")
    }
}' "$raw"
echo "(medians of $runs runs of $secs s each; raw figures in $raw: server run column value per-CPU-s CPU-s)"
