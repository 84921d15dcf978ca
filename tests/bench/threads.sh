#!/bin/sh
# threads.sh [BUILD] - echo_server with --threads 1 and 2 on one port
# (SO_REUSEPORT), loaded by LOADS wsx-load processes at once (default 2, so
# that the generator is not the one core that limits): echoed messages/s
# (16-byte messages, 16 in flight per connection) and handshakes/s (open,
# close handshake, TCP close, again), summed over the generators, median of
# RUNS rounds. A benchmark, not a test: the figures go to README.md.
build=${1:-build}
runs=${RUNS:-3}
secs=${SECS:-3}
loads=${LOADS:-2}
ex=$build/examples
tmp=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT

# load ARGS...: LOADS generators in parallel; prints the sum of the field
# msgs_per_s or handshakes_per_s (named by $field).
load() {
    i=0
    while [ $i -lt "$loads" ]; do
        "$ex/wsx-load" --warmup 0.5 --duration "$secs" "$@" "ws://127.0.0.1:$port/" >"$tmp/l$i" &
        i=$((i + 1))
    done
    wait
    cat "$tmp"/l* | sed -n "s/.* ${field}=\([0-9.]*\).*/\1/p" | awk '{s += $1} END {printf "%d\n", s}'
}

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

printf '%-8s %14s %14s\n' threads 'echo msgs/s' 'handshakes/s'
for t in 1 2; do
    "$ex/echo_server" --port 0 --threads "$t" --no-deflate >"$tmp/server" 2>&1 &
    server=$!
    port=
    while [ -z "$port" ]; do
        sleep 0.05
        port=$(sed -n 's/.* port \([0-9][0-9]*\): .*/\1/p' "$tmp/server")
    done
    echo_rates= hs_rates=
    r=0
    while [ $r -lt "$runs" ]; do
        field=msgs_per_s
        echo_rates="$echo_rates $(load --conns 50 --inflight 16 --size 16)"
        field=handshakes_per_s
        hs_rates="$hs_rates $(load --conns 25 --handshakes)"
        r=$((r + 1))
    done
    printf '%-8s %14s %14s\n' "$t" "$(echo $echo_rates | tr ' ' '\n' | median)" \
        "$(echo $hs_rates | tr ' ' '\n' | median)"
    kill -INT "$server"
    wait "$server"
    server=
done
