#!/bin/sh
# run-suite.sh - interoperability with real peers over 127.0.0.1: Python
# websockets and Node ws clients against examples/echo_server (plain and
# --streaming), examples/wsx-cat against their servers, headless Chromium
# pages against echo_server and examples/chat.
# WSX_BUILD names the build dir (default build). Each case prints "OK name",
# "FAIL name: detail" or "SKIP name: reason" (a peer that is not installed);
# the last line is "N passed, M failed".
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${WSX_BUILD:-build}
case $build in /*) ;; *) [ -d "$build" ] || build=$root/$build ;; esac
build=$(cd "$build" 2>/dev/null && pwd || echo "$build")
# The Debian peers: python3-websockets is for the system python, node-ws
# lives in /usr/share/nodejs.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
node=$(command -v node || command -v nodejs)
chromium=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
export NODE_PATH
server=$build/examples/echo_server
cat=$build/examples/wsx-cat
. "$here/../suite.sh"

var() { echo "$1" | tr -c 'A-Za-z0-9\n' _; }

# peer NAME SECONDS COMMAND...: start one peer script in the background
# under a time limit; the peers run side by side, so the whole suite takes
# as long as the slowest one (the limits stay far under 2 minutes).
peers=
peer() { # NAME SECONDS COMMAND...: sanitized servers get three times as long
    name=$1
    secs=$2
    shift 2
    [ -n "$WSX_SANITIZED" ] && secs=$((secs * 3))
    timeout -k 5 "$secs" "$@" >"$logs/$name.out" 2>&1 &
    pids="$pids $!"
    peers="$peers $name"
    eval "peer_$(var "$name")=$!"
}

# finish NAME: wait for a peer; its OK/FAIL/SKIP lines are the cases. One
# that dies or hangs without saying FAIL fails once more, with its tail.
finish() {
    name=$1
    eval "wait \$peer_$(var "$name")"
    st=$?
    grep -E '^(OK|FAIL|SKIP) ' "$logs/$name.out"
    ok=$(grep -c '^OK ' "$logs/$name.out")
    bad=$(grep -c '^FAIL ' "$logs/$name.out")
    pass=$((pass + ok))
    fail=$((fail + bad))
    if [ "$st" -ne 0 ] && [ "$bad" -eq 0 ] || [ "$ok$bad" = 00 ]; then
        why="exited $st"
        [ "$st" -eq 124 ] && why="timed out"
        result FAIL "$name" "$why: $(grep -vE '^(OK|FAIL|SKIP) ' "$logs/$name.out" | tail -n 3 | tr '\n' ' ')"
    fi
}

# start NAME COMMAND...: run a wsx server on port 0 and wait until it names
# its port ("listening on ... port N" or "http://host:N/"), left in $port.
start() {
    name=$1
    shift
    "$@" >"$logs/$name.err" 2>&1 &
    pids="$pids $!"
    eval "pid_$name=$!"
    port=
    for _ in $(seq 100); do
        port=$(sed -n -e 's/.*listening on .* port \([0-9][0-9]*\).*/\1/p' \
                      -e 's|.*http://[^ ]*:\([0-9][0-9]*\)/.*|\1|p' "$logs/$name.err")
        [ -n "$port" ] && return 0
        sleep 0.05
    done
    return 1
}

# stop NAME: the server survived every peer, then leaves on SIGTERM
# (a graceful shutdown) with status 0 and no sanitizer report.
stop() {
    eval "p=\${pid_$1:-}"
    if ! kill -0 "$p" 2>/dev/null; then
        result FAIL "$1-alive" "it died: $(tail -n 3 "$logs/$1.err" | tr '\n' ' ')"
        return
    fi
    result OK "$1-alive"
    kill -TERM "$p"
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
        kill -KILL "$p"
        result FAIL "$1-exit" "still running 5 s after SIGTERM"
        return
    fi
    wait "$p"
    st=$?
    if [ "$st" -ne 0 ] || grep -qE 'Sanitizer|runtime error' "$logs/$1.err"; then
        result FAIL "$1-exit" "status $st: $(grep -E 'Sanitizer|runtime error' "$logs/$1.err" | head -n 2 | tr '\n' ' ')"
    else
        result OK "$1-exit"
    fi
}

have_py=no
"$py" -c 'import websockets' 2>/dev/null && have_py=yes
have_node=no
[ -n "$node" ] && "$node" -e "require('ws')" 2>/dev/null && have_node=yes
echo "peers: python websockets $("$py" -c 'import websockets; print(websockets.__version__)' 2>/dev/null || echo none)," \
     "node ws $("$node" -e "console.log(require('ws/package.json').version)" 2>/dev/null || echo none)," \
     "$("$chromium" --version 2>/dev/null || echo 'chromium none')"

# --- wsx servers: echo_server (plain, deflate, streaming) and chat -----------
servers=''
port_echo=''
port_echo_stream=''
port_echo_deflate=''
port_chat=''
# serve NAME BINARY ARGS...: start examples/BINARY on 127.0.0.1 and a free
# port; sets port_NAME, or fails NAME.
serve() {
    name=$1 bin=$2
    shift 2
    if [ ! -x "$build/examples/$bin" ]; then
        result FAIL "$name" "$build/examples/$bin not built"
    elif start "$name" "$build/examples/$bin" --host 127.0.0.1 --port 0 "$@"; then
        eval "port_$name=$port"
        servers="$servers $name"
    else
        result FAIL "$name" "did not start: $(tail -n 3 "$logs/$name.err" | tr '\n' ' ')"
    fi
}
# permessage-deflate: echo_server agrees by default (--no-deflate turns it
# off) or on --deflate; "echo" runs without it, "echo_deflate" with it.
deflate_on=''
deflate_off=''
have_deflate=yes
case $("$server" --help 2>&1) in
*--no-deflate*) deflate_off=--no-deflate ;;
*--deflate*) deflate_on=--deflate ;;
*) have_deflate=no; echo "SKIP deflate: echo_server has no deflate option yet" ;;
esac
serve echo echo_server ${deflate_off:+"$deflate_off"}
[ $have_deflate = yes ] && serve echo_deflate echo_server ${deflate_on:+"$deflate_on"}
# --streaming relays each fragment as it arrives (wsx_send_fragment),
# compressing it again when deflate was agreed.
serve echo_stream echo_server --streaming ${deflate_on:+"$deflate_on"}
serve chat chat

# --- peers against the wsx server -------------------------------------------
if [ $have_py = no ]; then
    echo "SKIP py-client: python3-websockets is not installed"
else
    [ -n "$port_echo" ] &&
        peer py-client 60 "$py" "$here/py_client.py" py-client "$port_echo" ${port_echo_deflate:+"$port_echo_deflate"}
    [ -n "$port_echo_stream" ] &&
        peer py-client-streaming 60 "$py" "$here/py_client.py" py-client-streaming \
            "$port_echo_stream" ${port_echo_deflate:+"$port_echo_stream"}
fi
if [ $have_node = no ]; then
    echo "SKIP node-client: node or node-ws is not installed"
else
    [ -n "$port_echo" ] &&
        peer node-client 60 "$node" "$here/node_client.js" node-client "$port_echo" ${port_echo_deflate:+"$port_echo_deflate"}
    [ -n "$port_echo_stream" ] &&
        peer node-client-streaming 60 "$node" "$here/node_client.js" node-client-streaming \
            "$port_echo_stream" ${port_echo_deflate:+"$port_echo_stream"}
fi
if [ -z "$chromium" ]; then
    echo "SKIP browser: chromium is not installed"
elif [ $have_py = no ]; then
    echo "SKIP browser: its driver needs python3-websockets"
else
    page=file://$here/browser_echo.html
    set --
    [ -n "$port_echo" ] && set -- "$page?port=$port_echo"
    [ -n "$port_echo_deflate" ] && set -- "$@" "$page?port=$port_echo_deflate&deflate=1"
    # examples/chat serves its own page: three tabs talk through it.
    [ -n "$port_chat" ] && set -- "$@" "chat=http://127.0.0.1:$port_chat/"
    [ $# -gt 0 ] && peer browser 45 "$py" "$here/browser_driver.py" "$chromium" "$@"
fi

# --- wsx client: wsx-cat against Python and Node servers ---------------------
if [ ! -x "$cat" ]; then
    result FAIL wsx-cat "$cat not built"
else
    if [ $have_py = yes ]; then
        peer py-server 60 "$py" "$here/cat_cases.py" py-server "$cat" "$py" "$here/py_server.py"
    else
        echo "SKIP py-server: python3-websockets is not installed"
    fi
    if [ $have_node = yes ]; then
        peer node-server 60 "$py" "$here/cat_cases.py" node-server "$cat" "$node" "$here/node_server.js"
    else
        echo "SKIP node-server: node or node-ws is not installed"
    fi
fi

for p in $peers; do finish "$p"; done
for s in $servers; do stop "$s"; done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
