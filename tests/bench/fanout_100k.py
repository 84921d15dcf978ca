"""fanout_100k.py [--conns N] [--procs P] ... - the 100,000-connection
broadcast benchmark (not a test): P pubsub example processes (each under
the 20,000 descriptors a process may have here), P fanout_client processes
holding N/P subscribers each, then one publisher that sends each message to
every pubsub process at once. Reports server memory per connection (VmRSS
growth while all are held and quiet), the time for one broadcast to reach
every client (p50/p99/max over all deliveries, and the slowest delivery of
each broadcast), and deliveries per second sustained by a fast series.
Every process is started here and killed by PID; the run is bounded."""
import argparse
import json
import shutil
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--build", default="build")
ap.add_argument("--conns", type=int, default=100000)
# 8: 12,500 connections per server port, under the ~14,000 even ephemeral
# ports Linux hands one destination before it crawls (fanout_client.c).
ap.add_argument("--procs", type=int, default=8)
ap.add_argument("--slow", type=int, default=10, help="broadcasts SLOW_INTERVAL ms apart (latency)")
ap.add_argument("--slow-interval", type=int, default=1000)
ap.add_argument("--fast", type=int, default=100, help="broadcasts INTERVAL ms apart (rate)")
ap.add_argument("--interval", type=int, default=20)
ap.add_argument("--connect-timeout", type=float, default=150,
                help="seconds for every connection to be held, else report how many were")
ap.add_argument("--timeout", type=float, default=400)
args = ap.parse_args()

tmp = tempfile.mkdtemp()
procs = []
deadline = time.monotonic() + args.timeout


def spawn(argv, name):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, name), "w"),
                         text=True)
    procs.append(p)
    return p


def step(what):
    print("%6.1f s  %s" % (time.monotonic() - (deadline - args.timeout), what), file=sys.stderr,
          flush=True)


def wait_bounded(p):
    """Wait for p until the run's deadline; False when it is still running."""
    try:
        p.wait(timeout=max(1, deadline - time.monotonic()))
        return True
    except subprocess.TimeoutExpired:
        return False


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def ready_by(p, until):
    """True once p printed "ready" before the monotonic time until."""
    while time.monotonic() < until:
        r, _, _ = select.select([p.stdout], [], [], max(0, until - time.monotonic()))
        if r:
            return p.stdout.readline().strip() == "ready"
    return False


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pct(hist, q):
    total = sum(hist.values())
    seen = 0
    for b in sorted(hist):
        seen += hist[b]
        if seen >= q * total:
            return 1.01 ** b  # microseconds, upper edge within 1%
    return float("nan")


def main():
    ex = os.path.join(args.build, "examples")
    client = os.path.join(args.build, "bench", "fanout_client")
    servers = []
    for i in range(args.procs):
        p = spawn([os.path.join(ex, "pubsub"), "--port", "0", "--limit", str(1 << 20)], "pubsub%d" % i)
        line = p.stdout.readline()
        servers.append((p, int(line.split(" port ")[1].split(":")[0])))
    before = [rss_kib(p.pid) for p, _ in servers]
    fds_before = sum(fds(p.pid) for p, _ in servers)
    share = [args.conns // args.procs + (i < args.conns % args.procs) for i in range(args.procs)]
    total = args.slow + args.fast
    subs = []
    t0 = time.monotonic()
    for i in range(args.procs):
        out = os.path.join(tmp, "sub%d.json" % i)
        # Two servers per client, so that no destination gets more than
        # about 8,400 connections from one source address (see
        # fanout_client.c on ephemeral ports); each server gets half of
        # two clients.
        pair = ",".join("ws://127.0.0.1:%d/" % servers[(i + k) % args.procs][1] for k in (0, 1))
        subs.append((spawn([client, "sub", pair, str(share[i]),
                            str(total), str(args.slow), out], "sub%d" % i), out))
    until = t0 + args.connect_timeout
    all_ready = all([ready_by(p, until) for p, _ in subs])  # every subscription in place
    held = time.monotonic() - t0
    conns = sum(fds(p.pid) for p, _ in servers) - fds_before
    time.sleep(2.5)  # quiet for longer than wsx's 1 s buffer release
    after = [rss_kib(p.pid) for p, _ in servers]
    per_conn = (sum(after) - sum(before)) * 1024 / max(1, conns)
    if not all_ready:
        print("connections held after %.0f s: %d of %d in %d processes (not all: stopped there)"
              % (held, conns, args.conns, args.procs))
        print("server memory: %.0f bytes per connection (VmRSS growth of %d pubsub processes)"
              % (per_conn, args.procs))
        return
    step("%d connections held" % args.conns)
    urls = ["ws://127.0.0.1:%d/" % port for _, port in servers]
    pub = spawn([client, "pub", str(args.slow), "0", str(args.slow_interval)] + urls, "pub-slow")
    wait_bounded(pub)
    step("slow series sent")
    pub = spawn([client, "pub", str(args.fast), str(args.slow), str(args.interval)] + urls, "pub-fast")
    wait_bounded(pub)
    step("fast series sent")
    for p, _ in subs:
        if not wait_bounded(p):
            p.send_signal(signal.SIGTERM)  # writes what it has
            p.wait(timeout=10)
    results = [json.load(open(out)) for _, out in subs]
    hist, seq = {}, {}  # hist: the slow series only, where nothing queues
    for r in results:
        for b, n in r["hist"].items():
            hist[int(b)] = hist.get(int(b), 0) + n
        for s, (n, mx, sent) in r["seq"].items():
            c = seq.setdefault(int(s), [0, 0, sent])
            c[0] += n
            c[1] = max(c[1], mx)
    received = sum(r["received"] for r in results)
    expected = args.conns * total
    slow_max = sorted(v[1] / 1e6 for s, v in seq.items() if s < args.slow)
    fast = [v for s, v in seq.items() if s >= args.slow]
    # Sustained: deliveries of the fast series over the time from its first
    # send to its last arrival, both on the one CLOCK_MONOTONIC.
    span = (max(v[2] + v[1] for v in fast) - min(v[2] for v in fast)) / 1e9 if fast else 0
    rate = sum(v[0] for v in fast) / span if span else 0
    print("connections held: %d of %d in %d processes (opened in %.1f s)"
          % (sum(r["opened"] for r in results), args.conns, args.procs, held))
    print("server memory: %.0f bytes per connection (VmRSS growth of %d pubsub processes)"
          % (per_conn, args.procs))
    print("deliveries: %d of %d expected (%.3f%%)" % (received, expected, 100.0 * received / expected))
    if slow_max:
        print("one broadcast to every client (%d broadcasts %d ms apart): delivery p50 %.1f ms, "
              "p99 %.1f ms; last client reached: median %.1f ms, worst %.1f ms"
              % (len(slow_max), args.slow_interval, pct(hist, 0.5) / 1e3, pct(hist, 0.99) / 1e3,
                 slow_max[len(slow_max) // 2], slow_max[-1]))
    print("sustained: %d broadcasts %d ms apart: %.0f deliveries/s (%.2f s from first send "
          "to last arrival)" % (args.fast, args.interval, rate, span))


# timeout(1) ends the run with SIGTERM: still stop every child.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
try:
    main()
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)
