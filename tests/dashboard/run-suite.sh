#!/bin/sh
# run-suite.sh - examples/dashboard: the telemetry codec's unit test, the
# command line (--help 0, unknown option 2), malformed device frames closed
# with the documented codes (device_cases.py, Python websockets), and the
# page in headless Chromium while 200 simulated devices run
# (dashboard_driver.py): devices, a rising message count, latency, chat,
# reconnect, no console error, screenshots kept in BUILD/tests/dashboard/.
# WSX_BUILD names the build dir (default build). Every process started here
# runs under timeout(1) and is killed by PID on exit; the last line is
# "N passed, M failed".
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${WSX_BUILD:-build}
case $build in /*) ;; *) [ -d "$build" ] || build=$root/$build ;; esac
build=$(cd "$build" 2>/dev/null && pwd || echo "$build")
dash=$build/examples/dashboard
codec=$build/tests/dashboard/test_telemetry
art=$build/tests/dashboard
py=/usr/bin/python3
[ -x "$py" ] || py=python3
chromium=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
. "$here/../suite.sh"

# cases FILE: count the OK/FAIL lines a driver printed (a driver that
# printed nothing fails once).
cases() {
    grep -E '^(OK|FAIL|SKIP|FIGURES) ' "$1"
    ok=$(grep -c '^OK ' "$1")
    bad=$(grep -c '^FAIL ' "$1")
    pass=$((pass + ok))
    fail=$((fail + bad))
    [ "$ok$bad" = 00 ] && result FAIL "$2" "no result: $(tail -n 3 "$1" | tr '\n' ' ')"
}

# --- the codec ---------------------------------------------------------------
if [ -x "$codec" ]; then
    timeout 60 "$codec" >"$logs/codec" 2>&1
    st=$?
    if [ $st -eq 0 ] && grep -q ' 0 failed' "$logs/codec"; then
        result OK "telemetry-codec ($(tail -n 1 "$logs/codec"))"
    else
        result FAIL telemetry-codec "status $st: $(grep FAIL "$logs/codec" | head -n 3 | tr '\n' ' ')"
    fi
else
    result FAIL telemetry-codec "$codec not built"
fi

if [ ! -x "$dash" ]; then
    result FAIL dashboard "$dash not built"
    echo "$pass passed, $fail failed"
    exit 1
fi

# --- the command line --------------------------------------------------------
timeout 10 "$dash" --help >"$logs/help" 2>&1
st=$?
if [ $st -eq 0 ] && grep -q -- '--devices' "$logs/help"; then
    result OK dashboard-help
else
    result FAIL dashboard-help "status $st"
fi
timeout 10 "$dash" --bogus >"$logs/bogus" 2>&1
st=$?
if [ $st -eq 2 ] && grep -q usage "$logs/bogus"; then
    result OK dashboard-unknown-option
else
    result FAIL dashboard-unknown-option "status $st"
fi
timeout 10 "$dash" --devices 5000 >"$logs/bad" 2>&1
st=$?
[ $st -eq 2 ] && result OK dashboard-bad-value || result FAIL dashboard-bad-value "status $st"

# --- a running dashboard -----------------------------------------------------
timeout -k 5 150 "$dash" --host 127.0.0.1 --port 0 --devices 200 >"$logs/dash" 2>&1 &
dpid=$!
pids="$pids $dpid"
port=
for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on .* port \([0-9][0-9]*\).*/\1/p' "$logs/dash")
    [ -n "$port" ] && break
    sleep 0.05
done
if [ -z "$port" ]; then
    result FAIL dashboard-start "$(tail -n 3 "$logs/dash" | tr '\n' ' ')"
    echo "$pass passed, $fail failed"
    exit 1
fi
result OK "dashboard-start (port $port)"

if ! "$py" -c 'import websockets' 2>/dev/null; then
    echo "SKIP device cases and browser: python3-websockets is not installed"
else
    timeout -k 5 60 "$py" "$here/device_cases.py" "$port" >"$logs/devices" 2>&1
    cases "$logs/devices" device-cases
    if [ -z "$chromium" ]; then
        echo "SKIP browser: chromium is not installed"
    else
        mkdir -p "$art"
        timeout -k 5 120 "$py" "$here/dashboard_driver.py" "$chromium" \
            "http://127.0.0.1:$port/" "$art/dashboard-1280x800.png" \
            "$art/dashboard-phone.png" >"$logs/browser" 2>&1
        cases "$logs/browser" dashboard-browser
        [ -s "$art/dashboard-1280x800.png" ] && echo "screenshots: $art/dashboard-*.png"
    fi
fi

# The server and its devices survived all of it, then leave on SIGTERM
# (graceful shutdown, the device thread joined) with status 0.
if kill -0 "$dpid" 2>/dev/null; then
    result OK dashboard-alive
    kill -TERM "$dpid"
    for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$dpid" 2>/dev/null; then
        result FAIL dashboard-exit "still running 5 s after SIGTERM"
    else
        wait "$dpid"
        st=$?
        if [ $st -eq 0 ] && ! grep -qE 'Sanitizer|runtime error' "$logs/dash"; then
            result OK dashboard-exit
        else
            result FAIL dashboard-exit "status $st"
            # The report's head says what and where, not its legend.
            grep -A 12 -E 'ERROR: |runtime error' "$logs/dash" | head -n 40 | sed 's/^/FAIL   | /'
        fi
    fi
else
    result FAIL dashboard-alive "it died: $(tail -n 3 "$logs/dash" | tr '\n' ' ')"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
