#!/bin/sh
# run-suite.sh - the guards end to end: examples/chat --jwt-secret against
# tokens minted by Python's stdlib and by libjwt (jwt_cases.py), the chat
# page signing in through POST /login in headless Chromium (chat_login.py),
# and floods (flood.py): against echo_server's defaults a flooder is
# throttled while a client echoing every 10 ms keeps a low p99 (figures
# printed, bounds loose), and against chat's defaults it is closed (1008).
# WSX_BUILD names the build dir. Last line: "N passed, M failed".
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${WSX_BUILD:-build}
case $build in /*) ;; *) [ -d "$build" ] || build=$root/$build ;; esac
. "$root/tests/suite.sh"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
ex=$build/examples
chromium=${CHROMIUM:-/usr/bin/chromium}

free_port() {
    "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME PROG ARGS...: a server in the background on port $port,
# waited for until it prints its startup line.
start() {
    name=$1
    shift
    "$@" >"$logs/$name.log" 2>&1 &
    last=$!
    pids="$pids $last"
    n=0
    until grep -q 'listening on' "$logs/$name.log" 2>/dev/null; do
        n=$((n + 1))
        [ $n -gt 100 ] && { result FAIL "$name-start" "$(cat "$logs/$name.log")"; return 1; }
        sleep 0.05
    done
}

# tally FILE: every OK/FAIL line of a driver's output.
tally() {
    cat "$1"
    pass=$((pass + $(grep -c '^OK ' "$1")))
    fail=$((fail + $(grep -c '^FAIL ' "$1")))
}

field() { echo "$2" | sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

if [ ! -x "$ex/chat" ] || [ ! -x "$ex/echo_server" ]; then
    result FAIL build "examples not built in $ex"
    echo "$pass passed, $fail failed"
    exit 1
fi

# --- JWT at the handshake ---------------------------------------------------
if pkg-config --exists libjwt 2>/dev/null; then
    port=$(free_port)
    secret="guards-$$-secret"
    if start chat_jwt "$ex/chat" --port "$port" --jwt-secret "$secret" \
        --origin "http://127.0.0.1:$port"; then
        timeout 60 "$py" "$here/jwt_cases.py" "$port" "$secret" \
            "http://127.0.0.1:$port" >"$logs/jwt" 2>&1
        tally "$logs/jwt"
        grep -q '^OK ' "$logs/jwt" || result FAIL jwt-cases "$(tail -n 5 "$logs/jwt")"
        if [ -x "$chromium" ] && "$py" -c 'import websockets' 2>/dev/null; then
            timeout 80 "$py" "$here/chat_login.py" "$chromium" \
                "http://127.0.0.1:$port/" >"$logs/browser" 2>&1
            tally "$logs/browser"
            grep -q '^OK browser-login-cookie_hidden' "$logs/browser" ||
                grep -q '^FAIL' "$logs/browser" ||
                result FAIL browser-login "no result: $(tail -n 3 "$logs/browser")"
        else
            echo "SKIP browser-login: no $chromium or python3-websockets"
        fi
    fi
else
    # Without libjwt the option must refuse to start, saying why.
    if "$ex/chat" --port 0 --jwt-secret x >"$logs/nojwt" 2>&1; then
        result FAIL chat-without-libjwt "started without libjwt"
    else
        grep -q libjwt "$logs/nojwt" && result OK chat-without-libjwt ||
            result FAIL chat-without-libjwt "$(cat "$logs/nojwt")"
    fi
fi

# --- admission over threads ----------------------------------------------------
# --threads 2: the kernel spreads connections over two loops, which count
# the per-address limit together (wsx_limits_share): 2 of 8 get in.
port=$(free_port)
if start threads "$ex/echo_server" --port "$port" --threads 2 --max-conns-per-addr 2; then
    got=$(timeout 30 "$py" - "$port" <<'PY'
import socket, sys, time
port, socks, codes = int(sys.argv[1]), [], []
for i in range(8):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    head = s.recv(4096).decode("latin-1")
    codes.append(head.split(" ")[1] if head.startswith("HTTP/1.1 ") else "none")
    socks.append(s)  # kept open: each holds its place
print(" ".join(codes))
PY
)
    n101=$(echo "$got" | tr ' ' '\n' | grep -c '^101$')
    n503=$(echo "$got" | tr ' ' '\n' | grep -c '^503$')
    [ "$n101" = 2 ] && [ "$n503" = 6 ] && result OK threads-per-addr-limit-shared ||
        result FAIL threads-per-addr-limit-shared "statuses: $got"
fi

# --- floods --------------------------------------------------------------------
secs=4
port=$(free_port)
if start echo "$ex/echo_server" --port "$port"; then
    timeout 60 "$py" "$here/flood.py" "$port" "$secs" "echo_server defaults" >"$logs/flood" 2>&1
    cat "$logs/flood"
    line=$(grep '^FLOOD' "$logs/flood")
    rate=$(field rate "$line"); p99=$(field p99 "$line"); lost=$(field lost "$line")
    close=$(field close "$line"); probes=$(field probes "$line")
    if [ -z "$line" ]; then
        result FAIL flood-echo "no figures: $(tail -n 3 "$logs/flood")"
    else
        # Throttled, not closed: at most the burst (40000) and 20000/s
        # over the flood and the drain after it, with room to spare.
        [ "$close" = 0 ] && awk "BEGIN{exit !($rate * $secs <= 40000 + 20000 * ($secs + 2))}" &&
            result OK flood-echo-throttled ||
            result FAIL flood-echo-throttled "rate $rate/s, close $close"
        # Loose: the point is "not seconds", on a machine shared by many.
        [ "$lost" = 0 ] && [ "${probes:-0}" -gt 50 ] && awk "BEGIN{exit !($p99 < 250)}" &&
            result OK flood-echo-prober-p99 ||
            result FAIL flood-echo-prober-p99 "p99 $p99 ms, $probes probes, $lost lost"
    fi
fi
port=$(free_port)
if start chat_flood "$ex/chat" --port "$port"; then
    timeout 30 "$py" "$here/flood.py" "$port" 2 "close: chat defaults" >"$logs/chatflood" 2>&1
    cat "$logs/chatflood"
    close=$(field close "$(grep '^FLOOD' "$logs/chatflood")")
    [ "$close" = 1008 ] && result OK flood-chat-closed-1008 ||
        result FAIL flood-chat-closed-1008 "close '$close'"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
