#!/bin/sh
# run-suite.sh - smoke check of the benchmark tools, run by tests/run.sh
# with WSX_BUILD=<build dir> (never timed: it checks that wsx-load works,
# not how fast). wsx-load drives echo_server (epoll and poll) in each mode
# and must report a nonzero rate, no error and validated echoes; against a
# broken peer (a python3 server that corrupts, drops or truncates every
# 7th echo) it must fail. Last line: "N passed, M failed".
build=${WSX_BUILD:-build}
load=$build/examples/wsx-load
srv=$build/examples/echo_server
secs=2
[ -n "${WSX_QUICK:-}" ] && secs=1
pass=0
fail=0
pids=
tmp=$(mktemp -d)
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); echo "ok: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; }
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

[ -x "$load" ] && [ -x "$srv" ] || { echo "FAIL: build $load and $srv first"; echo "0 passed, 1 failed"; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# Start a server that prints its port (a line ending in "port N ..." or
# just "N"); sets $pid and $url.
start() { # name command...
    name=$1
    shift
    "$@" >"$tmp/$name.out" 2>&1 &
    pid=$!
    pids="$pids $pid"
    i=0
    port=
    while [ -z "$port" ] && [ $i -lt 100 ]; do
        sleep 0.05
        port=$(sed -n 's/.*port \([0-9]*\).*/\1/p; s/^\([0-9][0-9]*\)$/\1/p' "$tmp/$name.out" | head -n 1)
        i=$((i + 1))
    done
    url=ws://127.0.0.1:$port/
    [ -n "$port" ]
}

# wsx-load must exit 0 with no error and a positive figure under `key`.
run_ok() { # label key args...
    label=$1 key=$2
    shift 2
    out=$("$load" "$@" "$url" 2>&1)
    st=$?
    line=$(echo "$out" | grep '^wsx-load:')
    v=$(field "$key" "$line")
    e=$(field errors "$line")
    if [ $st -eq 0 ] && [ "$e" = 0 ] && [ -n "$v" ] && awk -v v="$v" 'BEGIN{exit !(v > 0)}'; then
        ok "$label: $key=$v"
    else
        bad "$label: status $st: $out"
    fi
}

for backend in epoll poll; do
    flag=
    [ $backend = poll ] && flag=--poll
    if ! start "echo_$backend" "$srv" --host 127.0.0.1 --port 0 $flag; then
        bad "echo_server $flag did not start"
        continue
    fi
    d="--duration $secs"
    run_ok "$backend binary 16 B, 10 conns x 4 in flight" msgs_per_s --conns 10 --inflight 4 $d
    run_ok "$backend text 3000 B, 2 conns x 2 in flight" msgs_per_s --conns 2 --inflight 2 --size 3000 --text $d
    run_ok "$backend binary 1 MiB, 1 conn" mb_per_s --size 1048576 $d
    run_ok "$backend empty messages" msgs_per_s --conns 2 --size 0 $d
    run_ok "$backend handshakes, 8 at a time" handshakes_per_s --handshakes --conns 8 $d
    run_ok "$backend --count 500 stops at 500" msgs --conns 5 --count 500 $d
    run_ok "$backend idle 200 conns" opened --idle --conns 200 --duration 1.2 --server-pid "$pid"
    # A warm server may reuse freed memory (growth 0): the RSS must be read.
    [ "$(field server_rss_after_kib "$line")" -gt 0 ] 2>/dev/null &&
        ok "$backend idle: server RSS read" || bad "$backend idle: no server RSS in: $line"
    kill "$pid" 2>/dev/null
done

# The count bound is exact.
start echo_count "$srv" --host 127.0.0.1 --port 0 &&
    n=$(field msgs "$("$load" --conns 3 --count 777 --duration 10 "$url" | grep '^wsx-load:')") &&
    [ "$n" = 777 ] && ok "--count 777 counted 777" || bad "--count 777 counted ${n:-nothing}"

# Loopback only by default: refused before any connection is attempted.
"$load" --duration 1 ws://192.0.2.1:9/ >/dev/null 2>&1
[ $? -eq 2 ] && ok "non-loopback URL refused" || bad "non-loopback URL accepted"

# A real broken peer must be caught. "ok" proves the peer itself is sound.
if command -v python3 >/dev/null 2>&1; then
    cat >"$tmp/bad_echo.py" <<'EOF'
import base64, hashlib, socket, struct, sys, threading
mode = sys.argv[1]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(64)
print(ls.getsockname()[1], flush=True)

def recvn(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b

def frame(op, p):
    n = len(p)
    if n < 126:
        h = bytes([0x80 | op, n])
    elif n < 65536:
        h = bytes([0x80 | op, 126]) + struct.pack("!H", n)
    else:
        h = bytes([0x80 | op, 127]) + struct.pack("!Q", n)
    return h + p

def serve(s):
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            d = s.recv(4096)
            if not d:
                return
            head += d
        key = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n")
               if l.lower().startswith(b"sec-websocket-key:")][0]
        acc = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        s.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + acc + b"\r\n\r\n")
        n = 0
        while True:
            b0, b1 = recvn(s, 2)
            ln = b1 & 127
            if ln == 126:
                ln = struct.unpack("!H", recvn(s, 2))[0]
            elif ln == 127:
                ln = struct.unpack("!Q", recvn(s, 8))[0]
            mk = recvn(s, 4)
            data = recvn(s, ln)
            m = (mk * (ln // 4 + 1))[:ln]
            p = (int.from_bytes(data, "big") ^ int.from_bytes(m, "big")).to_bytes(ln, "big")
            op = b0 & 15
            if op == 8:
                s.sendall(frame(8, p[:2]))
                return
            if op == 9:
                s.sendall(frame(10, p))
                continue
            n += 1
            if n % 7 == 0 and mode == "drop":
                continue
            if n % 7 == 0 and mode == "corrupt" and ln:
                p = p[:-1] + bytes([p[-1] ^ 1])
            if n % 7 == 0 and mode == "trunc" and ln:
                p = p[:-1]
            s.sendall(frame(op, p))
    except (EOFError, OSError, IndexError):
        pass
    finally:
        s.close()

while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
    for mode in ok corrupt drop trunc; do
        if ! start "py_$mode" python3 "$tmp/bad_echo.py" $mode; then
            bad "python3 $mode peer did not start"
            continue
        fi
        out=$("$load" --conns 2 --inflight 3 --size 40 --duration 1 "$url" 2>&1)
        st=$?
        line=$(echo "$out" | grep '^wsx-load:')
        be=$(field bad_echoes "$line")
        if [ $mode = ok ]; then
            [ $st -eq 0 ] && [ "$be" = 0 ] && ok "sound python3 peer passes" ||
                bad "sound python3 peer failed: $out"
        else
            [ $st -ne 0 ] && [ "${be:-0}" -gt 0 ] && ok "peer that does '$mode' detected: bad_echoes=$be" ||
                bad "peer that does '$mode' not detected (status $st): $out"
        fi
        kill "$pid" 2>/dev/null
    done
else
    echo "SKIP: no python3, the broken-peer checks did not run"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
