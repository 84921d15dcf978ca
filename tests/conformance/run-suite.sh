#!/bin/sh
# run-suite.sh - RFC 6455 conformance: fuzzingclient.py against two
# examples/echo_server instances (default limits, and --max-message 1048576
# for the 1009 cases), then --server mode against examples/wsx-cat and
# examples/echo_client.
# WSX_BUILD names the build dir (default build). Last line: "N passed, M failed".
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${WSX_BUILD:-build}
case $build in /*) ;; *) [ -d "$build" ] || build=$root/$build ;; esac
py=/usr/bin/python3
[ -x "$py" ] || py=python3
server=$build/examples/echo_server
wsxcat=$build/examples/wsx-cat
echoclient=$build/examples/echo_client
logs=$(mktemp -d)
pids=

cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ ! -x "$server" ]; then
    echo "FAILED: $server not built"
    echo "0 passed, 1 failed"
    exit 1
fi

free_port() {
    "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME ARGS...: run echo_server in the background, its output kept.
start() {
    name=$1
    shift
    "$server" --host 127.0.0.1 "$@" >"$logs/$name.log" 2>&1 &
    last=$!
    pids="$pids $last"
}

port=$(free_port)
small=$(free_port)
start main --port "$port"
pid_main=$last
start small --port "$small" --max-message 1048576
pid_small=$last

pass=0
fail=0
tally() { # reads the "LABEL: N passed, M failed" line from $logs/out
    line=$(grep -E '^[A-Za-z_-]+: [0-9]+ passed, [0-9]+ failed' "$logs/out" | tail -n 1)
    p=$(echo "$line" | sed -E 's/^[^:]*: ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/^.* ([0-9]+) failed.*/\1/')
    if [ -z "$line" ]; then p=0; f=1; echo "FAILED: $1 printed no result line"; fi
    pass=$((pass + p))
    fail=$((fail + f))
}
# Budgets keep a badly broken build under 3 minutes: cases left when one
# runs out are counted as failed.
"$py" "$here/fuzzingclient.py" --port "$port" --port-small "$small" --budget 110 >"$logs/out" 2>&1
st=$?
cat "$logs/out"
tally fuzzingclient
[ "$st" -eq 0 ] || [ "$fail" -gt 0 ] || { fail=$((fail + 1)); echo "FAILED: fuzzingclient exited $st"; }

# A server that crashed, or reported memory errors when stopped (SIGTERM
# lets it exit cleanly, so leak checkers run), fails the suite.
for entry in "main $pid_main" "small $pid_small"; do
    name=${entry% *}
    pid=${entry#* }
    if ! kill -0 "$pid" 2>/dev/null; then
        fail=$((fail + 1))
        echo "FAILED: echo_server ($name) died during the suite"
    fi
    kill "$pid" 2>/dev/null
    n=0
    while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null
        fail=$((fail + 1))
        echo "FAILED: echo_server ($name) still running 5 s after SIGTERM"
    fi
    wait "$pid" 2>/dev/null
    if grep -qE 'Sanitizer|runtime error' "$logs/$name.log"; then
        fail=$((fail + 1))
        echo "FAILED: echo_server ($name) reported:"
        grep -E -A5 'Sanitizer|runtime error' "$logs/$name.log" | head -n 20
    fi
done

if [ -x "$wsxcat" ]; then
    "$py" "$here/fuzzingclient.py" --server --wsx-cat "$wsxcat" --budget 40 >"$logs/out" 2>&1
    cat "$logs/out"
    tally wsx-cat
else
    echo "SKIP client role: $wsxcat not built (the --server cases need examples/wsx-cat)"
fi
if [ -x "$echoclient" ]; then
    "$py" "$here/fuzzingclient.py" --server --echo-client "$echoclient" --budget 40 >"$logs/out" 2>&1
    cat "$logs/out"
    tally echo_client
else
    fail=$((fail + 1))
    echo "FAILED: $echoclient not built"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
