#!/bin/sh
# run-suite.sh - chat instances scaled out through a real redis-server, then
# behind real HAProxy and nginx: one order across instances, resume with
# "since", Redis and instances killed mid-test; and chat --threads, rooms
# spanning the loops of one process. Every server is started here
# on free loopback ports and killed by PID. WSX_BUILD names the build
# directory; the last line is "cluster: N passed, M failed".
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../suite.sh"
build=${WSX_BUILD:-build}
py=/usr/bin/python3
export WSX_BUILD=$build CLUSTER_LOGS=$logs

# run NAME SECONDS SCRIPT: one driver, bounded; its OK/FAIL lines count.
run() {
    # shellcheck disable=SC2086 # the script's arguments split on purpose
    timeout "$2" "$py" "$here"/$3 >"$logs/$1.out" 2>&1
    st=$?
    cat "$logs/$1.out"
    p=$(grep -c '^OK' "$logs/$1.out")
    f=$(grep -c '^FAIL' "$logs/$1.out")
    pass=$((pass + p))
    fail=$((fail + f))
    [ "$st" -eq 0 ] || [ "$f" -gt 0 ] || result FAIL "$1" "exited $st"
}

missing=
[ -x "$build/examples/chat" ] || missing="$missing $build/examples/chat"
for t in redis-server haproxy nginx; do
    command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || missing="$missing $t"
done
"$py" -c 'import websockets' 2>/dev/null || missing="$missing python3-websockets"
if [ -n "$missing" ]; then
    result FAIL setup "missing:$missing"
else
    run redis 60 redis_chat.py
    run haproxy 40 "proxy_chat.py haproxy"
    run nginx 40 "proxy_chat.py nginx"
    run threads 40 threads_chat.py
fi

# echo_server --threads 2: both loops listen on the port, echoes check out.
if [ -x "$build/examples/echo_server" ] && [ -x "$build/examples/wsx-load" ]; then
    "$build/examples/echo_server" --port 0 --threads 2 >"$logs/echo.out" 2>&1 &
    echo_pid=$!
    pids="$pids $echo_pid"
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's/.* port \([0-9][0-9]*\): .*/\1/p' "$logs/echo.out")
        [ -n "$port" ] && break
        sleep 0.05
    done
    n=$(ss -Hltn "sport = :$port" 2>/dev/null | wc -l)
    [ "$n" -eq 2 ] && result OK "echo_server --threads 2: two listeners" ||
        result FAIL "echo_server --threads 2: two listeners" "$n"
    out=$(timeout 20 "$build/examples/wsx-load" --conns 16 --duration 1 "ws://127.0.0.1:$port/")
    case $out in
    *" opened=16 errors=0 bad_echoes=0 "*) result OK "echo_server --threads 2: 16 connections echo" ;;
    *) result FAIL "echo_server --threads 2: 16 connections echo" "$out" ;;
    esac
    kill -INT "$echo_pid"
    wait "$echo_pid" && result OK "echo_server --threads 2 exits 0 on SIGINT" ||
        result FAIL "echo_server --threads 2 exits 0 on SIGINT" "status $?"
fi
echo "cluster: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
