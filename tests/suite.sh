# suite.sh - sourced by script suites: a log folder ($logs), background
# processes to stop ($pids, killed by PID on any exit), and the OK/FAIL
# tally ($pass, $fail) that tests/run.sh reads from the closing line.
logs=$(mktemp -d)
pids=
pass=0
fail=0

suite_cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    rm -rf "$logs"
}
trap suite_cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

result() { # OK|FAIL NAME [DETAIL]
    case $1 in
    OK) echo "OK $2"; pass=$((pass + 1)) ;;
    *) echo "FAIL $2: $3"; fail=$((fail + 1)) ;;
    esac
}
