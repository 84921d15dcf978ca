#!/bin/sh
# run-suite.sh - the examples and tools as a user runs them: --help and
# misuse of every one, servers on 127.0.0.1 by default naming their URL,
# chat's JSON protocol, libuv_echo under a reader that stalls, and wsx-cat
# against Python peers (no reply lost at the end of input, --count,
# --linger, every exit status). WSX_BUILD names the build directory; the
# last line is "examples: N passed, M failed".
here=$(cd "$(dirname "$0")" && pwd)
build=${WSX_BUILD:-build}
ex=$build/examples
py=/usr/bin/python3
[ -x "$py" ] || py=python3
cat=$ex/wsx-cat
pass=0
fail=0
pids=''
tmp=$(mktemp -d)
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    for p in $pids; do wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { # name, command...: passes when the command succeeds
    name=$1
    shift
    if "$@"; then ok; else bad "$name"; fi
}
tally_py() { # reads OK/FAIL lines from $tmp/py.out
    grep '^FAIL' "$tmp/py.out"
    p=$(grep -c '^OK' "$tmp/py.out")
    f=$(grep -c '^FAIL' "$tmp/py.out")
    [ "$p" -gt 0 ] || { f=$((f + 1)); echo "FAIL $1: no result"; cat "$tmp/py.out"; }
    pass=$((pass + p)); fail=$((fail + f))
}

# start NAME COMMAND...: a server in the background; waits for its startup
# line and leaves the port it names in $port and the line in $line.
start() {
    name=$1
    shift
    "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pid=$!
    pids="$pids $pid"
    port=
    for _ in $(seq 100); do
        line=$(head -n 1 "$tmp/$name.out")
        port=$(echo "$line" | sed -n 's/.* port \([0-9][0-9]*\): .*/\1/p')
        [ -n "$port" ] && return 0
        sleep 0.05
    done
    bad "$name did not print its startup line: $(cat "$tmp/$name.out" "$tmp/$name.err")"
    return 1
}
stop() { # pid: SIGINT, then it must exit 0
    kill -INT "$1" 2>/dev/null
    wait "$1"
}

# --- every program: --help exits 0 with the usage on stdout; an unknown
# option or a missing value exits 2 with the usage on stderr ---------------
progs='echo_server echo_client chat pubsub wsx-cat wsx-load'
[ -x "$ex/libuv_echo" ] && progs="$progs libuv_echo"
for p in $progs; do
    if [ ! -x "$ex/$p" ]; then
        bad "$ex/$p is not built"
        continue
    fi
    timeout 5 "$ex/$p" --bogus >"$tmp/o" 2>"$tmp/e"
    st=$?
    check "$p --bogus exits 2 (got $st)" [ $st -eq 2 ]
    check "$p --bogus prints the usage on stderr" grep -q 'usage' "$tmp/e"
    [ "$p" = wsx-load ] && continue # the loop developer's tool: --help is theirs
    timeout 5 "$ex/$p" --help >"$tmp/o" 2>"$tmp/e"
    st=$?
    check "$p --help exits 0 (got $st)" [ $st -eq 0 ]
    check "$p --help prints the usage on stdout" grep -q "^usage: $p" "$tmp/o"
    check "$p --help says nothing on stderr" [ ! -s "$tmp/e" ]
    opt=--port
    [ "$p" = wsx-cat ] && opt=--count
    timeout 5 "$ex/$p" $opt >"$tmp/o" 2>"$tmp/e"
    st=$?
    check "$p $opt without a value exits 2 (got $st)" [ $st -eq 2 ]
    timeout 5 "$ex/$p" $opt nope >"$tmp/o" 2>"$tmp/e"
    st=$?
    check "$p $opt nope exits 2 (got $st)" [ $st -eq 2 ]
done

# --- servers: 127.0.0.1 unless --host says otherwise; the line names the
# URL served, and SIGINT ends them with status 0 --------------------------
servers='echo_server chat pubsub'
[ -x "$ex/libuv_echo" ] && servers="$servers libuv_echo"
for s in $servers; do
    [ -x "$ex/$s" ] || continue
    start "$s" "$ex/$s" --port 0 || continue
    case $line in
    *"listening on 127.0.0.1 port $port: "*"://127.0.0.1:$port/"*) ok ;;
    *) bad "$s startup line: '$line'" ;;
    esac
    check "$s exits 0 on SIGINT" stop "$pid"
done
if [ -x "$ex/echo_server" ] && start echo6 "$ex/echo_server" --host ::1 --port 0; then
    case $line in
    *"ws://[::1]:$port/"*) ok ;;
    *) bad "echo_server --host ::1 startup line: '$line'" ;;
    esac
    stop "$pid"
fi

# --- chat: the JSON protocol through cJSON --------------------------------
if [ -x "$ex/chat" ] && start chat "$ex/chat" --port 0; then
    timeout 30 "$py" "$here/chat_protocol.py" "$port" >"$tmp/py.out" 2>&1
    tally_py chat_protocol
    check "chat exits 0 on SIGINT after the protocol test" stop "$pid"
fi

# --- libuv_echo: pull mode keeps a stalled reader's queue bounded ---------
if [ -x "$ex/libuv_echo" ] && start libuv "$ex/libuv_echo" --port 0; then
    timeout 60 "$py" "$here/slow_reader.py" "$port" "$pid" >"$tmp/py.out" 2>&1
    tally_py slow_reader
    check "libuv_echo exits 0 on SIGINT" stop "$pid"
fi

# --- wsx-cat ---------------------------------------------------------------
if [ ! -x "$cat" ] || ! "$py" -c 'import websockets' 2>/dev/null; then
    bad "wsx-cat tests need $cat and python3-websockets"
    echo "examples: $pass passed, $fail failed"
    exit 1
fi
mkfifo "$tmp/ctl"
"$py" "$here/servers.py" <"$tmp/ctl" >"$tmp/servers.out" 2>"$tmp/servers.err" &
pids="$pids $!"
exec 3>"$tmp/ctl" # the servers run until this closes
ports=
for _ in $(seq 100); do
    ports=$(sed -n 's/^ports //p' "$tmp/servers.out")
    [ -n "$ports" ] && break
    sleep 0.05
done
ws=${ports% *}
raw=${ports#* }
[ -n "$ports" ] || bad "servers.py did not start: $(cat "$tmp/servers.err")"

# expect_run NAME STATUS WANT_STATUS WANT_STDOUT: judge a run whose stdout
# is in $tmp/out and stderr in $tmp/err.
expect_run() {
    got=$(cat "$tmp/out")
    if [ "$2" -ne "$3" ]; then
        bad "$1: exit status $2, want $3 ($(tail -n 1 "$tmp/err"))"
    elif [ "$got" != "$(printf "$4")" ]; then
        bad "$1: printed '$got', want '$(printf "$4")'"
    else
        ok
    fi
}

# cat_run NAME EXPECTED_STATUS EXPECTED_STDOUT INPUT ARGS...: one run,
# bounded by timeout; stderr is left in $tmp/err.
cat_run() {
    name=$1 want_st=$2 want_out=$3 input=$4
    shift 4
    printf "$input" | timeout 15 "$cat" "$@" >"$tmp/out" 2>"$tmp/err"
    expect_run "$name" $? "$want_st" "$want_out"
}

# No reply lost at the end of input: the echo comes 50 ms after each line.
for i in 1 2 3 4 5 6 7 8 9 10; do
    cat_run "3 lines, 3 delayed replies (run $i)" 0 'a\nb\nc' 'a\nb\nc\n' "ws://127.0.0.1:$ws/echo50"
done
# The same from a regular file (epoll cannot watch one: read in turns).
printf 'from\na file\n' >"$tmp/in.txt"
timeout 15 "$cat" "ws://127.0.0.1:$ws/echo50" <"$tmp/in.txt" >"$tmp/out" 2>"$tmp/err"
expect_run "stdin a regular file" $? 0 'from\na file'
cat_run "last line without a newline" 0 'x\nlast' 'x\nlast' "ws://127.0.0.1:$ws/echo50"
cat_run "no input at all" 0 '' '' "ws://127.0.0.1:$ws/echo50"
# --count: exits after N messages with a proper close.
cat_run "--count 2" 0 'a\nb' 'a\nb\nc\n' --count 2 "ws://127.0.0.1:$ws/echo50"
# --count while stdin stays open: the count alone ends the run.
mkfifo "$tmp/ctl2"
exec 4<>"$tmp/ctl2" # a writer that never writes: no end of input
timeout 15 "$cat" --count 1 "ws://127.0.0.1:$ws/hello" <"$tmp/ctl2" >"$tmp/out" 2>"$tmp/err"
expect_run "--count 1 with stdin open" $? 0 hello
exec 4>&-
# --linger: /slow replies after 1.5 s, then closes.
cat_run "--linger -1 waits for the server's close" 0 'x' 'x\n' --linger -1 "ws://127.0.0.1:$ws/slow"
cat_run "--linger 3 waits for a late reply" 0 'x' 'x\n' --linger 3 "ws://127.0.0.1:$ws/slow"
cat_run "--linger 0 closes at once" 0 '' 'x\n' --linger 0 "ws://127.0.0.1:$ws/slow"
cat_run "default linger (1 s) gives up on a 1.5 s reply" 0 '' 'x\n' "ws://127.0.0.1:$ws/slow"
cat_run "--linger -2 is a usage error" 2 '' '' --linger -2 "ws://127.0.0.1:$ws/slow"
# A message between our Close and the server's is printed (RFC 6455 §5.5.1).
cat_run "message after our Close" 0 'x\nlate' 'x\n' --linger 0.5 "ws://127.0.0.1:$raw/late"
# Exit statuses and the cause named.
freeport=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat_run "refused port: status 3" 3 '' '' "ws://127.0.0.1:$freeport/"
check "refused port: says so ($(cat "$tmp/err"))" grep -qi 'refused' "$tmp/err"
cat_run "unknown host: status 3" 3 '' '' "ws://no-such-host.invalid/"
check "unknown host: says so ($(cat "$tmp/err"))" grep -qi 'host not found' "$tmp/err"
cat_run "HTTP 403: status 4" 4 '' '' "ws://127.0.0.1:$raw/status/403"
check "HTTP 403: the status line is printed ($(cat "$tmp/err"))" grep -q 'HTTP/1.1 403' "$tmp/err"
cat_run "no URL: status 2" 2 '' ''
cat_run "not a ws URL: status 2" 2 '' '' "http://127.0.0.1:$ws/"
cat_run "two URLs: status 2" 2 '' '' "ws://127.0.0.1:$ws/" "ws://127.0.0.1:$ws/"
timeout 5 "$cat" --help >"$tmp/o"
for st in 0 1 2 3 4 5; do
    check "--help documents exit status $st" grep -q "$st [A-Za-z]" "$tmp/o"
done

exec 3>&-
echo "examples: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
