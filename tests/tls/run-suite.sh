#!/bin/sh
# run-suite.sh - wss:// end to end, with a throw-away CA made here by the
# openssl command: Python websockets and Node ws clients against
# examples/echo_server --tls-cert/--tls-key (and examples/libuv_tls_echo);
# examples/wsx-cat against Python and Node wss:// servers; certificates
# that must be refused (wrong name, expired, unknown CA, a server that
# requires a client certificate), TLS to a plain port, and bytes that are
# not a handshake (plain HTTP, garbage, silent and slowloris peers); what
# the openssl command can ask of a server (ALPN, a key update,
# renegotiation, TLS 1.1, resumption with a ticket); headless Chromium
# with tests/interop's page, with and without permessage-deflate; the
# conformance driver (tests/conformance) over wss:// in both roles (every
# section of the server's; a subset under sanitizers, see below); a TLS=0
# build that must hold no OpenSSL symbol. WSX_BUILD names the build dir
# (default build). Each case prints "OK name" or
# "FAIL name: detail"; the last line is "N passed, M failed".
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${WSX_BUILD:-build}
case $build in /*) ;; *) [ -d "$build" ] || build=$root/$build ;; esac
build=$(cd "$build" 2>/dev/null && pwd || echo "$build")
py=/usr/bin/python3
[ -x "$py" ] || py=python3
node=$(command -v node || command -v nodejs)
chromium=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
export NODE_PATH
server=$build/examples/echo_server
cat=$build/examples/wsx-cat
. "$here/../suite.sh"
# The core's default opening-handshake timeout (wsx_config_init), which
# bounds the TLS handshake too.
handshake_timeout=10

# --- certificates ----------------------------------------------------------
c=$logs/certs
mkdir -p "$c"
# cert NAME CA DAYS SAN: a P-256 key and a certificate for it signed by CA
# (NAME.pem, NAME.key); DAYS -1 gives one that expired yesterday.
cert() {
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
        -keyout "$c/$1.key" -out "$c/$1.csr" 2>/dev/null &&
    printf 'subjectAltName=%s\n' "$4" >"$c/$1.ext" &&
    openssl x509 -req -in "$c/$1.csr" -CA "$c/$2.pem" -CAkey "$c/$2.key" \
        -CAcreateserial -days "$3" -extfile "$c/$1.ext" -out "$c/$1.pem" 2>/dev/null
}
ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=$1" -keyout "$c/$1.key" -out "$c/$1.pem" 2>/dev/null
}
if ! { ca ca && ca other_ca &&
       cert srv ca 2 "IP:127.0.0.1,DNS:localhost" &&
       cert expired ca -1 "IP:127.0.0.1,DNS:localhost" &&
       cert wrongname ca 2 "DNS:elsewhere.example,IP:127.0.0.9" &&
       cert stranger other_ca 2 "IP:127.0.0.1,DNS:localhost"; }; then
    result FAIL certificates "the openssl command could not make them"
    echo "$pass passed, $fail failed"
    exit 1
fi

# --- servers ---------------------------------------------------------------
# start NAME COMMAND...: run a server in the background and wait until it
# names its port ("listening ... port N" or "listening N"), left in $port.
start() {
    name=$1
    shift
    "$@" >"$logs/$name.err" 2>&1 </dev/null &
    pids="$pids $!"
    eval "pid_$name=$!"
    port=
    for _ in $(seq 100); do
        port=$(sed -n -e 's/.*listening on .* port \([0-9][0-9]*\).*/\1/p' \
                      -e 's/^listening \([0-9][0-9]*\)$/\1/p' "$logs/$name.err")
        [ -n "$port" ] && return 0
        sleep 0.05
    done
    result FAIL "$name" "did not start: $(tail -n 2 "$logs/$name.err" | tr '\n' ' ')"
    return 1
}
# A peer server lives while its stdin is open: a fifo held by this shell.
peer_server() {
    name=$1
    shift
    mkfifo "$logs/$name.in"
    "$@" <"$logs/$name.in" >"$logs/$name.err" 2>&1 &
    pids="$pids $!"
    exec 3>>"$logs/$name.in" # keeps it open; closed at exit
    port=
    for _ in $(seq 200); do
        port=$(sed -n 's/^listening \([0-9][0-9]*\)$/\1/p' "$logs/$name.err")
        [ -n "$port" ] && return 0
        sleep 0.05
    done
    result FAIL "$name" "did not start: $(tail -n 2 "$logs/$name.err" | tr '\n' ' ')"
    return 1
}

if ! start wss "$server" --host 127.0.0.1 --port 0 --tls-cert "$c/srv.pem" --tls-key "$c/srv.key"; then
    echo "$pass passed, $fail failed"
    exit 1
fi
port_wss=$port
start small "$server" --port 0 --max-message 1048576 --tls-cert "$c/srv.pem" --tls-key "$c/srv.key" && port_small=$port
start plain "$server" --host 127.0.0.1 --port 0 && port_plain=$port
start nodeflate "$server" --port 0 --no-deflate --tls-cert "$c/srv.pem" --tls-key "$c/srv.key" && port_nodeflate=$port
start expired "$server" --port 0 --tls-cert "$c/expired.pem" --tls-key "$c/expired.key" && port_expired=$port
start wrongname "$server" --port 0 --tls-cert "$c/wrongname.pem" --tls-key "$c/wrongname.key" && port_wrongname=$port
start stranger "$server" --port 0 --tls-cert "$c/stranger.pem" --tls-key "$c/stranger.key" && port_stranger=$port

# TLS in a foreign loop (examples/libuv_tls_echo, built when libuv is).
if [ -x "$build/examples/libuv_tls_echo" ] &&
   start uvtls "$build/examples/libuv_tls_echo" --port 0 --tls-cert "$c/srv.pem" --tls-key "$c/srv.key"; then
    timeout -k 5 30 "$py" "$here/tls_peers.py" client "wss://localhost:$port/" "$c/ca.pem" |
        sed 's/ py-/ libuv-py-/' >"$logs/uv.out" 2>&1
    grep -E '^(OK|FAIL) ' "$logs/uv.out"
    pass=$((pass + $(grep -c '^OK ' "$logs/uv.out")))
    fail=$((fail + $(grep -c '^FAIL ' "$logs/uv.out")))
    grep -q 'libuv-py-close-1000' "$logs/uv.out" || result FAIL libuv-tls "$(tail -n 2 "$logs/uv.out" | tr '\n' ' ')"
fi

# Slow cases run in the background while the rest go on.
timeout -k 5 60 "$py" "$here/tls_peers.py" client "wss://localhost:$port_wss/" "$c/ca.pem" >"$logs/py.out" 2>&1 &
bg_py=$!
timeout -k 5 $((4 * handshake_timeout + 20)) "$py" "$here/tls_peers.py" raw "$port_wss" "$handshake_timeout" >"$logs/raw.out" 2>&1 &
bg_raw=$!
conformance=$here/../conformance/fuzzingclient.py
# Every section (355 cases, about 17 s). Under sanitizers or valgrind
# (WSX_QUICK) each case costs many times more: the sections where TLS
# records cut across frames and control frames (ping/pong 2, close 7, the
# opening handshake H); the plain build's run covers the rest.
sections=
[ -n "${WSX_QUICK:-}" ] && sections="--only 2 --only 7 --only H"
timeout -k 5 80 "$py" "$conformance" --port "$port_wss" --port-small "$port_small" \
    --tls-ca "$c/ca.pem" --budget 70 $sections >"$logs/conf.out" 2>&1 &
bg_conf=$!
# The client role against the driver's broken wss:// servers.
timeout -k 5 60 "$py" "$conformance" --server --wsx-cat "$cat" --tls-ca "$c/ca.pem" \
    --tls-cert "$c/srv.pem" --tls-key "$c/srv.key" --budget 50 >"$logs/confc.out" 2>&1 &
bg_confc=$!
pids="$pids $bg_py $bg_raw $bg_conf $bg_confc"
# Chromium trusts the test certificate by the SHA-256 of its public key.
bg_browser=
if [ -n "$chromium" ]; then
    spki=$(openssl x509 -in "$c/srv.pem" -pubkey -noout | openssl pkey -pubin -outform der |
           openssl dgst -sha256 -binary | base64)
    page=file://$root/tests/interop/browser_echo.html
    timeout -k 5 60 "$py" "$here/browser_tls.py" "$chromium" "$spki" \
        "$page?port=$port_nodeflate&tls=1" "$page?port=$port_wss&tls=1&deflate=1" \
        >"$logs/browser.out" 2>&1 &
    bg_browser=$!
    pids="$pids $bg_browser"
else
    result FAIL browser "chromium is not installed"
fi
# A build without TLS, to check that nothing of OpenSSL is linked in.
(cd "$root" && make --no-print-directory -s BUILD="$logs/notls" TLS=0 OPT=-O0 \
    "$logs/notls/libwsx.a" >"$logs/notls.out" 2>&1) &
bg_notls=$!
pids="$pids $bg_notls"

# --- wsx-cat ---------------------------------------------------------------
# cat_case NAME STATUS PATTERN ARGS...: wsx-cat ARGS with two lines on its
# stdin (closing after their two echoes) must exit STATUS (one, or a|b),
# and its output match PATTERN (grep -E).
cat_case() {
    name=$1 want=$2 pattern=$3
    shift 3
    printf 'one\ntwo\n' | timeout -k 5 20 "$cat" --count 2 --linger -1 "$@" >"$logs/$name.out" 2>&1
    st=$?
    if ! echo "$st" | grep -qxE "$want"; then
        result FAIL "$name" "exit $st, not $want: $(tail -n 2 "$logs/$name.out" | tr '\n' ' ')"
    elif ! grep -qE "$pattern" "$logs/$name.out"; then
        result FAIL "$name" "no '$pattern' in: $(tail -n 2 "$logs/$name.out" | tr '\n' ' ')"
    elif grep -qE 'Sanitizer|runtime error' "$logs/$name.out"; then
        result FAIL "$name" "$(grep -E 'Sanitizer|runtime error' "$logs/$name.out" | head -n 1)"
    else
        result OK "$name"
    fi
}
cat_case cat-wsx-server 0 '^two$' --cafile "$c/ca.pem" "wss://localhost:$port_wss/"
cat_case cat-wrong-name 5 'hostname mismatch|IP address mismatch' --cafile "$c/ca.pem" "wss://127.0.0.1:$port_wrongname/"
cat_case cat-expired 5 'expired' --cafile "$c/ca.pem" "wss://127.0.0.1:$port_expired/"
cat_case cat-unknown-ca 5 'verification failed.*issuer' --cafile "$c/ca.pem" "wss://127.0.0.1:$port_stranger/"
cat_case cat-system-store 5 'verification failed' "wss://127.0.0.1:$port_wss/"
cat_case cat-insecure 0 '^two$' --insecure "wss://127.0.0.1:$port_stranger/"
cat_case cat-tls-to-plain-port 5 'TLS handshake' --insecure "wss://127.0.0.1:$port_plain/"
# SIGHUP: echo_server reads its certificate files again (wsx_tls_reload).
cp "$c/srv.pem" "$c/live.pem" && cp "$c/srv.key" "$c/live.key"
if start reload "$server" --port 0 --tls-cert "$c/live.pem" --tls-key "$c/live.key"; then
    port_reload=$port
    cat_case reload-before 0 '^two$' --cafile "$c/ca.pem" "wss://127.0.0.1:$port_reload/"
    cp "$c/stranger.pem" "$c/live.pem" && cp "$c/stranger.key" "$c/live.key"
    kill -HUP "$pid_reload"
    for _ in $(seq 50); do grep -q 'SIGHUP: certificates reloaded' "$logs/reload.err" && break; sleep 0.1; done
    cat_case reload-new-certificate 0 '^two$' --cafile "$c/other_ca.pem" "wss://127.0.0.1:$port_reload/"
    cat_case reload-old-ca-refused 5 'verification failed' --cafile "$c/ca.pem" "wss://127.0.0.1:$port_reload/"
fi
# --threads: a context per loop (wsx_tls_clone), sharing ticket keys, so a
# session resumes on whichever loop the kernel hands the connection to;
# SIGHUP reloads every loop's context on its own thread.
cp "$c/srv.pem" "$c/live2.pem" && cp "$c/srv.key" "$c/live2.key"
if start threads "$server" --port 0 --threads 2 --tls-cert "$c/live2.pem" --tls-key "$c/live2.key"; then
    port_threads=$port
    for i in 1 2 3 4 5 6; do
        cat_case "threads-echo-$i" 0 '^two$' --cafile "$c/ca.pem" "wss://localhost:$port_threads/"
    done
    { sleep 1; } | timeout -k 2 10 openssl s_client -connect "127.0.0.1:$port_threads" -CAfile "$c/ca.pem" \
        -servername localhost -sess_out "$c/threads.sess" >"$logs/threads-sess.out" 2>&1
    reused=0
    for i in 1 2 3 4 5 6 7 8; do
        { sleep 0.3; } | timeout -k 2 10 openssl s_client -connect "127.0.0.1:$port_threads" -CAfile "$c/ca.pem" \
            -servername localhost -sess_in "$c/threads.sess" >"$logs/threads-resume.out" 2>&1
        grep -q '^Reused, TLSv1.3' "$logs/threads-resume.out" && reused=$((reused + 1))
    done
    [ "$reused" -eq 8 ] && result OK threads-tickets-resume-on-every-loop ||
        result FAIL threads-tickets-resume-on-every-loop "$reused of 8 resumed"
    cp "$c/stranger.pem" "$c/live2.pem" && cp "$c/stranger.key" "$c/live2.key"
    kill -HUP "$pid_threads"
    for _ in $(seq 50); do grep -q 'certificates reloaded (loop 1)' "$logs/threads.err" && break; sleep 0.1; done
    grep -q 'SIGHUP: certificates reloaded$' "$logs/threads.err" &&
        grep -q 'SIGHUP: certificates reloaded (loop 1)$' "$logs/threads.err" &&
        result OK threads-reload-every-loop ||
        result FAIL threads-reload-every-loop "$(grep SIGHUP "$logs/threads.err" | tr '\n' ' ')"
    for i in 1 2 3 4; do
        cat_case "threads-reloaded-$i" 0 '^two$' --cafile "$c/other_ca.pem" "wss://127.0.0.1:$port_threads/"
    done
fi
if peer_server pyserver "$py" "$here/tls_peers.py" server "$c/srv.pem" "$c/srv.key"; then
    cat_case cat-python-server 0 '^two$' --cafile "$c/ca.pem" "wss://localhost:$port/"
fi
if peer_server pyclientauth "$py" "$here/tls_peers.py" server "$c/srv.pem" "$c/srv.key" "$c/ca.pem"; then
    # TLS 1.3 (RFC 8446 §4.4.2.4): the server refuses after the client's
    # handshake is over, with an alert that a reset may overtake, so the
    # client ends either as a TLS failure or as a lost connection; never
    # with an echo.
    cat_case cat-client-cert-missing '5|1' 'TLS handshake|closed 1006' --cafile "$c/ca.pem" "wss://localhost:$port/"
fi

# --- openssl s_client: protocol features -----------------------------------
upgrade='GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
# ossl NAME COMMAND WANT REFUSE ARGS...: s_client to the wss:// server,
# fed its COMMAND line ("k": key update, "R": renegotiate; "" none), then
# an upgrade request; its output must match every |-less pattern of WANT
# (";"-separated) and not REFUSE.
ossl() {
    name=$1 cmd=$2 want=$3 refuse=$4
    shift 4
    { [ -n "$cmd" ] && printf '%s\n' "$cmd"; sleep 0.5; printf "$upgrade"; sleep 2; } |
        timeout -k 2 15 openssl s_client -connect "127.0.0.1:$port_wss" -CAfile "$c/ca.pem" \
            -servername localhost "$@" >"$logs/$name.out" 2>&1
    miss=$(echo "$want" | tr ';' '\n' | while read -r w; do grep -qE "$w" "$logs/$name.out" || echo "$w"; done)
    if [ -n "$miss" ]; then
        result FAIL "$name" "no '$miss' in the output of openssl s_client $*"
    elif [ -n "$refuse" ] && grep -qE "$refuse" "$logs/$name.out"; then
        result FAIL "$name" "'$refuse' in the output of openssl s_client $*"
    else
        result OK "$name"
    fi
}
ossl ossl-alpn-http11 '' 'ALPN protocol: http/1.1;HTTP/1.1 101' '' -alpn http/1.1
ossl ossl-key-update k 'KEYUPDATE;HTTP/1.1 101' '' -tls1_3
ossl ossl-renegotiation-refused R 'no renegotiation' 'HTTP/1.1 101' -tls1_2
ossl ossl-tls11-refused '' 'alert protocol version' 'HTTP/1.1 101' -tls1_1 -cipher 'DEFAULT@SECLEVEL=0'
ossl ossl-ticket-issued '' 'HTTP/1.1 101' '' -sess_out "$c/session.pem"
ossl ossl-ticket-resumed '' '^Reused, TLSv1.3' '' -sess_in "$c/session.pem"

# --- Node ws both ways -------------------------------------------------------
if [ -n "$node" ] && "$node" -e "require('ws')" 2>/dev/null; then
    timeout -k 5 30 "$node" "$here/node_peers.js" client "wss://localhost:$port_wss/" "$c/ca.pem" >"$logs/node.out" 2>&1
    grep -E '^(OK|FAIL) ' "$logs/node.out"
    pass=$((pass + $(grep -c '^OK ' "$logs/node.out")))
    fail=$((fail + $(grep -c '^FAIL ' "$logs/node.out")))
    grep -q '^OK node-close' "$logs/node.out" || result FAIL node-client "$(tail -n 2 "$logs/node.out" | tr '\n' ' ')"
    if peer_server nodeserver "$node" "$here/node_peers.js" server "$c/srv.pem" "$c/srv.key"; then
        cat_case cat-node-server 0 '^two$' --cafile "$c/ca.pem" "wss://localhost:$port/"
    fi
else
    result FAIL node "node with the ws module (node-ws) is not installed"
fi

# --- the conformance driver, both roles ---------------------------------------
# The driver prints "LABEL: N passed, M failed" after one line per case.
tally_driver() { # NAME FILE STATUS
    grep -E '^FAILED' "$2" | head -n 20
    line=$(grep -E '^[A-Za-z_-]+: [0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
    if [ -z "$line" ]; then
        result FAIL "$1" "exited $3, no result: $(tail -n 2 "$2" | tr '\n' ' ')"
        return
    fi
    echo "$1 $line"
    pass=$((pass + $(echo "$line" | sed -E 's/^[^:]*: ([0-9]+) passed.*/\1/')))
    fail=$((fail + $(echo "$line" | sed -E 's/^.* ([0-9]+) failed.*/\1/')))
}
wait "$bg_confc"
tally_driver conformance-client-role-wss "$logs/confc.out" $?
wait "$bg_conf"
tally_driver conformance-wss "$logs/conf.out" $?

# --- background cases ----------------------------------------------------------
for f in py raw ${bg_browser:+browser}; do
    eval "wait \$bg_$f"
    st=$?
    grep -E '^(OK|FAIL) ' "$logs/$f.out"
    ok=$(grep -c '^OK ' "$logs/$f.out")
    bad=$(grep -c '^FAIL ' "$logs/$f.out")
    pass=$((pass + ok))
    fail=$((fail + bad))
    if [ "$st" -ne 0 ] || [ "$ok" -eq 0 ]; then
        result FAIL "python-$f" "exited $st: $(tail -n 3 "$logs/$f.out" | tr '\n' ' ')"
    fi
done

wait "$bg_notls"
if [ $? -ne 0 ] || [ ! -f "$logs/notls/libwsx.a" ]; then
    result FAIL tls0-build "$(tail -n 3 "$logs/notls.out" | tr '\n' ' ')"
else
    # Both directions: the TLS build refers to OpenSSL (so the pattern
    # can match), the TLS=0 build to nothing of it.
    ssl_syms='(SSL_|OPENSSL_|EVP_|BIO_|ERR_|X509_)'
    n0=$(nm "$logs/notls/libwsx.a" 2>/dev/null | grep -cE " [UTtDdBb] $ssl_syms")
    n1=$(nm "$build/libwsx.a" 2>/dev/null | grep -cE " [UTtDdBb] $ssl_syms")
    if [ "$n0" -eq 0 ] && [ "$n1" -gt 0 ]; then
        result OK tls0-no-openssl-symbol
    else
        result FAIL tls0-no-openssl-symbol "TLS=0 build: $n0 OpenSSL symbols, TLS build: $n1"
    fi
fi

# --- every server survived and leaves cleanly ------------------------------
for s in wss small plain nodeflate expired wrongname stranger reload uvtls; do
    eval "p=\${pid_$s:-}"
    [ -n "$p" ] || continue
    if ! kill -0 "$p" 2>/dev/null; then
        result FAIL "$s-alive" "it died: $(tail -n 3 "$logs/$s.err" | tr '\n' ' ')"
        continue
    fi
    kill -TERM "$p"
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
        kill -KILL "$p"
        result FAIL "$s-exit" "still running 5 s after SIGTERM"
        continue
    fi
    wait "$p"
    st=$?
    if [ "$st" -ne 0 ] || grep -qE 'Sanitizer|runtime error' "$logs/$s.err"; then
        result FAIL "$s-exit" "status $st: $(grep -E -A3 'Sanitizer|runtime error' "$logs/$s.err" | head -n 4 | tr '\n' ' ')"
    else
        result OK "$s-exit"
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
