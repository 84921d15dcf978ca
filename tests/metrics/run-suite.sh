#!/bin/sh
# run-suite.sh - metrics (wsx_metrics.h, the loop's /metrics): echo_server
# --threads 2 --metrics --metrics-port 0 under known traffic (traffic.py),
# the exact counts (summed over both loops) scraped with curl on both
# ports, histogram counts, promtool check metrics; the metrics port's
# 404/405; a real Prometheus scraping
# echo_server (up == 1, a non-zero message rate while wsx-load runs, every
# dashboard query accepted); promtool on examples/grafana; chat's /stats
# page in headless Chromium (stats_browser.py, screenshot kept in
# BUILD/tests/metrics/). WSX_BUILD names the build dir (default build).
# Every process runs under timeout(1) and is killed by PID on exit; the
# last line is "N passed, M failed".
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${WSX_BUILD:-build}
case $build in /*) ;; *) [ -d "$build" ] || build=$root/$build ;; esac
build=$(cd "$build" 2>/dev/null && pwd || echo "$build")
echo_server=$build/examples/echo_server
chat=$build/examples/chat
load=$build/examples/wsx-load
art=$build/tests/metrics
grafana=$root/examples/grafana
py=/usr/bin/python3
[ -x "$py" ] || py=python3
chromium=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
. "$here/../suite.sh"

# cases FILE NAME: the OK/FAIL lines a driver printed (none: one FAIL).
cases() {
    grep -E '^(OK|FAIL) ' "$1"
    ok=$(grep -c '^OK ' "$1")
    bad=$(grep -c '^FAIL ' "$1")
    pass=$((pass + ok))
    fail=$((fail + bad))
    [ "$ok$bad" = 00 ] && result FAIL "$2" "no result: $(tail -n 3 "$1" | tr '\n' ' ')"
}

# start NAME CMD...: run CMD in the background, its output in $logs/NAME;
# sets $port (and $mport when it prints a metrics URL on another port) and
# NAME_pid (timeout's, which hands SIGTERM on and exits as CMD did).
start() {
    name=$1
    shift
    # A safety net only. --foreground: our SIGTERM reaches the server
    # once; without it timeout also signals its process group, and a
    # second SIGTERM arriving after the server has shut down and given
    # its handler back kills it (status 143, seen under ASan).
    timeout --foreground -k 5 300 "$@" >"$logs/$name" 2>&1 &
    pids="$pids $!"
    eval "${name}_pid=$!"
    for _ in $(seq 50); do
        grep -q 'metrics at' "$logs/$name" && break
        sleep 0.1
    done
    port=$(sed -n 's/.*listening on .* port \([0-9][0-9]*\).*/\1/p' "$logs/$name")
    mport=$(sed -n 's/.*metrics at http:.*:\([0-9][0-9]*\)\/metrics.*/\1/p' "$logs/$name")
}

free_port() {
    "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

if [ ! -x "$echo_server" ] || ! "$py" -c 'import websockets' 2>/dev/null; then
    result FAIL setup "needs $echo_server and python3-websockets"
    echo "$pass passed, $fail failed"
    exit 1
fi

# --- options -------------------------------------------------------------------
timeout 5 "$echo_server" --metrics-port x >"$logs/bad" 2>&1
st=$?
if [ $st -eq 2 ] && grep -q usage "$logs/bad"; then
    result OK "metrics-port-bad-value (exit 2)"
else
    result FAIL metrics-port-bad-value "status $st"
fi

# --- exact counts ----------------------------------------------------------------
# Two loops on two threads: every count below is the sum of both.
start echo "$echo_server" --port 0 --threads 2 --metrics --metrics-port 0
if [ -z "$port" ] || [ -z "$mport" ]; then
    result FAIL echo-start "$(tail -n 3 "$logs/echo" | tr '\n' ' ')"
else
    timeout -k 5 40 "$py" "$here/traffic.py" "$port" >"$logs/traffic" 2>&1
    cases "$logs/traffic" traffic
    curl -sS --max-time 5 -o "$logs/same" "http://127.0.0.1:$port/metrics"
    curl -sS --max-time 5 -o "$logs/own" -D "$logs/own.head" "http://127.0.0.1:$mport/metrics"
    if cmp -s "$logs/same" "$logs/own"; then
        result OK "same-port-and-own-port-agree"
    else
        result FAIL same-port-and-own-port-agree "$(diff "$logs/same" "$logs/own" | head -n 4 | tr '\n' ' ')"
    fi
    if grep -qi '^content-type: text/plain; version=0.0.4' "$logs/own.head"; then
        result OK content-type
    else
        result FAIL content-type "$(grep -i content-type "$logs/own.head")"
    fi
    missing=
    while read -r line; do
        grep -Fqx "$line" "$logs/own" || missing="$missing [$line]"
    done <<'EOT'
wsx_connections_open 0
wsx_connections_total 6
wsx_handshakes_refused_total{status="426"} 3
wsx_handshakes_refused_total{status="400"} 2
wsx_messages_received_total{opcode="text"} 100
wsx_messages_received_total{opcode="binary"} 50
wsx_messages_sent_total{opcode="text"} 100
wsx_messages_sent_total{opcode="binary"} 50
wsx_bytes_received_total 1350
wsx_bytes_sent_total 1350
wsx_pings_received_total 5
wsx_pongs_sent_total 5
wsx_protocol_errors_total{code="1002"} 1
wsx_protocol_errors_total{code="1009"} 0
wsx_closes_total{code="1000",side="remote"} 3
wsx_closes_total{code="4001",side="remote"} 1
wsx_closes_total{code="1001",side="remote"} 1
wsx_closes_total{code="1002",side="local"} 1
wsx_send_queue_bytes 0
wsx_connections_paused 0
wsx_message_handler_seconds_bucket{le="+Inf"} 150
wsx_message_handler_seconds_count 150
wsx_send_queue_wait_seconds_bucket{le="+Inf"} 150
wsx_send_queue_wait_seconds_count 150
EOT
    if [ -z "$missing" ]; then
        result OK "exact-counts (24 series)"
    else
        result FAIL exact-counts "missing or different:$missing"
    fi
    n=$(grep -c '^wsx_closes_total{' "$logs/own")
    [ "$n" = 4 ] && result OK "no-other-closes" || result FAIL no-other-closes "$n close series"
    # Buckets are cumulative: never decreasing, ending at the count.
    if awk '/_bucket/ { split($1, a, "_bucket"); if (a[1] == last && $2 < prev) bad = 1
                        last = a[1]; prev = $2 } END { exit bad }' "$logs/own"; then
        result OK histogram-cumulative
    else
        result FAIL histogram-cumulative "a bucket below the one before it"
    fi
    if promtool check metrics <"$logs/own" >"$logs/promtool" 2>&1; then
        result OK "promtool-check-metrics"
    else
        result FAIL promtool-check-metrics "$(head -n 3 "$logs/promtool" | tr '\n' ' ')"
    fi
    codes=$(for u in "/other" "/metrics -X POST" "/ -H Upgrade:websocket -H Connection:Upgrade -H Sec-WebSocket-Version:13 -H Sec-WebSocket-Key:dGhlIHNhbXBsZSBub25jZQ=="; do
        # shellcheck disable=SC2086
        curl -s --max-time 5 -o /dev/null -w '%{http_code} ' http://127.0.0.1:$mport$u
    done)
    [ "$codes" = "404 405 404 " ] && result OK "metrics-port-refuses-the-rest ($codes)" ||
        result FAIL metrics-port-refuses-the-rest "$codes"
    # The scrapes on the metrics port were not counted either.
    curl -sS --max-time 5 "http://127.0.0.1:$mport/metrics" | grep -Fqx 'wsx_connections_total 6' &&
        result OK scrapes-not-counted || result FAIL scrapes-not-counted "total moved"
fi

# --- promtool on examples/grafana ------------------------------------------------------
if promtool check rules "$grafana/alerts.yml" >"$logs/rules" 2>&1 &&
    promtool check config "$grafana/prometheus.yml" >>"$logs/rules" 2>&1; then
    result OK "grafana-rules-and-config ($(grep -o '[0-9]* rules found' "$logs/rules" | head -n 1))"
else
    result FAIL grafana-rules-and-config "$(grep -v SUCCESS "$logs/rules" | head -n 3 | tr '\n' ' ')"
fi
if "$py" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert len(d["panels"]) >= 8' \
    "$grafana/dashboard.json" 2>"$logs/dash"; then
    result OK grafana-dashboard-json
else
    result FAIL grafana-dashboard-json "$(tail -n 1 "$logs/dash")"
fi

# --- a real Prometheus ----------------------------------------------------------------
if [ -n "$port" ] && command -v prometheus >/dev/null; then
    pport=$(free_port)
    mkdir -p "$logs/tsdb"
    cat >"$logs/prometheus.yml" <<EOT
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $grafana/alerts.yml
scrape_configs:
  - job_name: wsx
    static_configs:
      - targets: ["127.0.0.1:$port"]
EOT
    timeout -k 5 60 prometheus --config.file="$logs/prometheus.yml" \
        --storage.tsdb.path="$logs/tsdb" --web.listen-address="127.0.0.1:$pport" \
        >"$logs/prometheus.log" 2>&1 &
    pids="$pids $!"
    timeout -k 5 40 "$load" --url "ws://127.0.0.1:$port/" --conns 4 --duration 30 \
        >"$logs/load" 2>&1 &
    lpid=$!
    pids="$pids $lpid"
    # query EXPR: the first value of an instant query, or nothing.
    query() {
        curl -s --max-time 5 "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
            "$py" -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null
    }
    up= rate=
    for _ in $(seq 40); do
        sleep 0.5
        up=$(query 'up{job="wsx"}')
        rate=$(query 'sum(rate(wsx_messages_received_total[3s]))')
        [ "$up" = 1 ] && [ -n "$rate" ] && [ "$rate" != 0 ] && break
    done
    [ "$up" = 1 ] && result OK "prometheus-up" || result FAIL prometheus-up "up=$up $(tail -n 2 "$logs/prometheus.log" | tr '\n' ' ')"
    case $rate in
    "" | 0 | NaN) result FAIL prometheus-rate "rate=$rate" ;;
    *) result OK "prometheus-rate (wsx_messages_received_total: $rate/s)" ;;
    esac
    # Every query of the dashboard and the alert rules evaluates.
    "$py" - "$grafana/dashboard.json" "$pport" >"$logs/queries" 2>&1 <<'EOT'
import json, sys, urllib.parse, urllib.request
d = json.load(open(sys.argv[1]))
bad = []
for p in d["panels"]:
    for t in p["targets"]:
        e = (t["expr"].replace("$__rate_interval", "5s")
             .replace('job=~"$job"', 'job=~".*"').replace('instance=~"$instance"', 'instance=~".*"'))
        url = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[2], urllib.parse.urlencode({"query": e}))
        try:
            r = json.load(urllib.request.urlopen(url, timeout=5))
            if r["status"] != "success":
                bad.append(e)
        except Exception as x:
            bad.append("%s (%s)" % (e, x))
print("OK dashboard-queries-evaluate" if not bad else "FAIL dashboard-queries-evaluate: %s" % bad)
EOT
    cases "$logs/queries" dashboard-queries
    kill "$lpid" 2>/dev/null
else
    result FAIL prometheus "no echo_server port or no prometheus"
fi

# --- the stats page ---------------------------------------------------------------------
if [ -z "$chromium" ]; then
    result FAIL stats-page "chromium is not installed"
else
    start chat "$chat" --port 0 --metrics
    if [ -z "$port" ]; then
        result FAIL chat-start "$(tail -n 3 "$logs/chat" | tr '\n' ' ')"
    else
        mkdir -p "$art"
        timeout -k 5 60 "$py" "$here/stats_browser.py" "$chromium" "$port" \
            "$art/stats.png" >"$logs/browser" 2>&1
        cases "$logs/browser" stats-page
    fi
fi

# Both servers leave on SIGTERM with status 0 and nothing from a
# sanitizer (the ASan build: make check-asan).
echo_pid=${echo_pid:-} chat_pid=${chat_pid:-}
for name in echo chat; do
    eval "pid=\$${name}_pid"
    [ -n "$pid" ] || continue
    kill -TERM "$pid"
    wait "$pid"
    st=$?
    if grep -qE 'ERROR: |runtime error' "$logs/$name"; then
        result FAIL "$name-clean-exit" "$(grep -A 8 -E 'ERROR: |runtime error' "$logs/$name" | head -n 10 | tr '\n' ' ')"
    elif [ $st -ne 0 ]; then
        result FAIL "$name-clean-exit" "status $st after SIGTERM"
    else
        result OK "$name-clean-exit"
    fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
