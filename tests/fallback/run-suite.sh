#!/bin/sh
# run-suite.sh - clients without WebSocket and clients that drop: the
# chat's SSE, long polling and POST /send (fallback_check.py, with
# Chromium when installed), and wsx-cat --reconnect across a server
# restart (reconnect_check.py). WSX_BUILD names the build dir (default
# build). Last line: "N passed, M failed".
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/suite.sh"
build=${WSX_BUILD:-build}
case $build in /*) ;; *) [ -d "$build" ] || build=$root/$build ;; esac
ex=$build/examples
py=/usr/bin/python3
[ -x "$py" ] || py=python3
chromium=$(command -v chromium || command -v chromium-browser || true)

tally() { # reads OK/FAIL lines from $logs/out
    cat "$logs/out"
    pass=$((pass + $(grep -c '^OK ' "$logs/out")))
    fail=$((fail + $(grep -c '^FAIL ' "$logs/out")))
}

for b in chat wsx-cat echo_server; do
    [ -x "$ex/$b" ] || result FAIL "built-$b" "$ex/$b is missing"
done

if [ -x "$ex/chat" ]; then
    # Short poll timeout and heartbeat: the checks wait for both.
    # The slow-reader check floods the room on purpose: chat's own flood
    # guards (README "Guards") would cut the flooder before it counts.
    "$ex/chat" --port 0 --poll-timeout 1500 --heartbeat 400 \
        --message-rate 0 --byte-rate 0 >"$logs/chat.log" 2>&1 &
    chat=$!
    pids="$pids $chat"
    n=0
    until port=$(grep -o 'port [0-9]*' "$logs/chat.log" 2>/dev/null | awk '{print $2}') && [ -n "$port" ] ||
        [ $n -ge 50 ]; do sleep 0.1; n=$((n + 1)); done
    [ -n "$chromium" ] || echo "SKIP browser: chromium is not installed"
    CHAT_PID=$chat timeout 70 "$py" "$here/fallback_check.py" "$ex/chat" "$port" "$chromium" \
        >"$logs/out" 2>&1
    st=$?
    tally
    [ $st -eq 0 ] || result FAIL fallback_check "exited $st"
    kill -INT "$chat"
    wait "$chat"
    st=$?
    if [ $st -eq 0 ]; then result OK chat-exits-0-after-the-checks
    else result FAIL chat-exits-0-after-the-checks "status $st"; fi
    if grep -qE 'Sanitizer|runtime error' "$logs/chat.log"; then
        result FAIL chat-sanitizers "$(grep -E -A5 'Sanitizer|runtime error' "$logs/chat.log" | head -n 10)"
    fi
fi

if [ -x "$ex/wsx-cat" ] && [ -x "$ex/echo_server" ]; then
    timeout 60 "$py" "$here/reconnect_check.py" "$ex/wsx-cat" "$ex/echo_server" >"$logs/out" 2>&1
    st=$?
    tally
    [ $st -eq 0 ] || result FAIL reconnect_check "exited $st"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
