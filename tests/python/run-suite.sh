#!/bin/sh
# run-suite.sh - the Python binding (lib/python): the unit and asyncio
# tests (run.py), the Python echo server driven by tests/conformance's
# fuzzingclient.py (every case must be OK, NON-STRICT fails here), and the
# package installed with pip into a fresh venv (--system-site-packages,
# no index) running the tests again. Debian's python3 with python3-cffi and
# python3-websockets. WSX_BUILD names the build dir (default build).
# Last line: "N passed, M failed".
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${WSX_BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
export WSX_BUILD=$build
py=/usr/bin/python3
[ -x "$py" ] || py=python3
if [ -n "$WSX_SANITIZED" ]; then
    # An instrumented libwsx only loads into Python behind LD_PRELOAD of the
    # sanitizer runtime, whose quarantine then defeats the RSS checks of
    # test_memory: the plain build's run covers the binding.
    echo "SKIP python: not with an instrumented build"
    echo "0 passed, 0 failed"
    exit 0
fi
tmp=$(mktemp -d)
pids=
pass=0
fail=0

cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ ! -e "$build/libwsx.so.0" ]; then
    echo "FAILED: $build/libwsx.so.0 not built (make)"
    echo "0 passed, 1 failed"
    exit 1
fi
if ! "$py" -c 'import cffi, websockets' 2>/dev/null; then
    echo "FAILED: $py lacks cffi or websockets (python3-cffi, python3-websockets)"
    echo "0 passed, 1 failed"
    exit 1
fi

tally() { # LABEL: reads the last "N passed, M failed" line of $tmp/out
    line=$(grep -E '^([A-Za-z_-]+: )?[0-9]+ passed, [0-9]+ failed' "$tmp/out" | tail -n 1)
    p=$(echo "$line" | sed -E 's/^([^:]*: )?([0-9]+) passed.*/\2/')
    f=$(echo "$line" | sed -E 's/^.* ([0-9]+) failed.*/\1/')
    if [ -z "$line" ]; then p=0; f=1; echo "FAILED: $1 printed no result line"; fi
    pass=$((pass + p))
    fail=$((fail + f))
}

# 1. The tests, against the source tree's package and build/libwsx.so.0.
timeout 300 "$py" "$here/run.py" >"$tmp/out" 2>&1
st=$?
grep -E '^(ok|FAIL|SKIP)' "$tmp/out"
grep -q '^FAIL' "$tmp/out" && grep -B30 '^FAIL' "$tmp/out" | head -n 80
tally tests
[ "$st" -eq 0 ] || [ "$fail" -gt 0 ] || { fail=$((fail + 1)); echo "FAILED: run.py exited $st"; }

# 2. Conformance: the example echo server on the binding, default limits
# and --max-message 1048576, as tests/conformance/run-suite.sh runs the C one.
start() { # NAME ARGS...
    name=$1
    shift
    "$py" "$root/lib/python/examples/echo_server.py" --port 0 "$@" >"$tmp/$name.log" 2>&1 &
    last=$!
    pids="$pids $last"
    n=0
    while ! grep -qs listening "$tmp/$name.log" && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
    port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$tmp/$name.log")
}
start main
pid_main=$last
port_main=$port
start small --max-message 1048576
pid_small=$last
port_small=$port
if [ -n "$port_main" ] && [ -n "$port_small" ]; then
    timeout 200 "$py" "$root/tests/conformance/fuzzingclient.py" --port "$port_main" \
        --port-small "$port_small" --budget 150 >"$tmp/out" 2>&1
    st=$?
    grep -E '^(FAILED|NON-STRICT)' "$tmp/out"
    tally conformance
    # NON-STRICT is allowed by the RFC but the C echo server does better:
    # the binding must match it.
    ns=$(grep -c '^NON-STRICT' "$tmp/out")
    if [ "$ns" -gt 0 ]; then fail=$((fail + 1)); echo "FAILED: $ns NON-STRICT cases"; fi
    [ "$st" -eq 0 ] || [ "$fail" -gt 0 ] || { fail=$((fail + 1)); echo "FAILED: fuzzingclient exited $st"; }
else
    fail=$((fail + 1))
    echo "FAILED: the Python echo server did not start"
    cat "$tmp/main.log" "$tmp/small.log"
fi
for pid in $pid_main $pid_small; do
    if ! kill -0 "$pid" 2>/dev/null; then
        fail=$((fail + 1))
        echo "FAILED: echo_server.py died during the conformance run"
    fi
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
done
if grep -q Traceback "$tmp/main.log" "$tmp/small.log"; then
    fail=$((fail + 1))
    echo "FAILED: echo_server.py printed a traceback:"
    grep -A12 Traceback "$tmp/main.log" "$tmp/small.log" | head -n 40
fi

# 3. Packaging: pip install from (a copy of) the tree into a fresh venv
# that sees Debian's cffi and websockets, no package index, then the tests
# against the installed copy from outside the tree.
cp -r "$root/lib/python" "$tmp/src"
rm -rf "$tmp/src/build" "$tmp/src"/*.egg-info
if "$py" -m venv --system-site-packages "$tmp/venv" >"$tmp/out" 2>&1 &&
   WSX_LIBRARY="$build/libwsx.so.0" timeout 120 "$tmp/venv/bin/python" -m pip install \
       --no-index --no-cache-dir "$tmp/src" >>"$tmp/out" 2>&1; then
    where=$(cd "$tmp" && env -u WSX_BUILD "$tmp/venv/bin/python" -c \
        'import wsx; print(wsx.__file__, wsx.LIBRARY_PATH)')
    case $where in
    "$tmp/venv/"*"$tmp/venv/"*) pass=$((pass + 1)); echo "ok   installed: $where" ;;
    *) fail=$((fail + 1)); echo "FAILED: installed package not used: $where" ;;
    esac
    (cd "$tmp" && WSX_TEST_INSTALLED=1 timeout 300 "$tmp/venv/bin/python" \
        "$here/run.py" test_layout test_sansio test_aio) >"$tmp/out" 2>&1
    st=$?
    grep -E '^FAIL' "$tmp/out"
    tally venv
    [ "$st" -eq 0 ] || [ "$fail" -gt 0 ] || { fail=$((fail + 1)); echo "FAILED: venv tests exited $st"; }
else
    fail=$((fail + 1))
    echo "FAILED: pip install into a venv:"
    tail -n 20 "$tmp/out"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
