#!/usr/bin/env python3
"""bench.py - echo throughput per server CPU-second: the Python echo server
on the wsx binding (lib/python/examples/echo_server.py) against the same
server on Python websockets (echo_websockets.py), both loaded by
examples/wsx-load in one run (16 B, 1 KiB, 64 KiB; 100 connections).

    python3 tests/bench/python/bench.py [--build build] [--secs 5] [--runs 3]
        [--inflight 1] [--profile]

Each cell starts a fresh server, runs wsx-load for --secs seconds and
divides the echoes by the CPU seconds (user + system, /proc/PID/stat) the
server used meanwhile; rounds alternate the servers, medians are printed.
--profile runs each server once more under cProfile (64 KiB and 16 B) and
prints where its time goes. Not a test: nothing here passes or fails.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
SERVERS = {
    "wsx binding": [os.path.join(ROOT, "lib", "python", "examples", "echo_server.py")],
    "websockets": [os.path.join(HERE, "echo_websockets.py")],
}
SIZES = (16, 1024, 65536)
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """(user, system) CPU seconds of a process."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def start(argv, profile=None):
    pre = [PY] + (["-m", "cProfile", "-o", profile] if profile else [])
    p = subprocess.Popen(pre + argv + ["--port", "0"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    line = p.stdout.readline()
    m = re.search(r":(\d+)$", line.strip())
    if not m:
        p.kill()
        raise RuntimeError("server did not start: %r" % line)
    return p, int(m.group(1))


def stop(p):
    p.send_signal(2)  # SIGINT: a clean exit, so cProfile writes its file
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def load(build, port, size, secs, inflight, conns):
    out = subprocess.run([os.path.join(build, "examples", "wsx-load"), "--url",
                          "ws://127.0.0.1:%d/" % port, "--conns", str(conns),
                          "--inflight", str(inflight), "--size", str(size),
                          "--duration", str(secs)], capture_output=True, text=True,
                         timeout=secs + 60)
    kv = dict(re.findall(r"(\w+)=(\S+)", out.stdout))
    if out.returncode != 0 or kv.get("errors") != "0" or kv.get("bad_echoes") != "0":
        raise RuntimeError("wsx-load failed: %s %s" % (out.stdout, out.stderr))
    return int(kv["msgs"]), float(kv["seconds"])


def cell(build, name, size, a, profile=None):
    p, port = start(SERVERS[name], profile)
    try:
        u0, s0 = cpu_seconds(p.pid)
        msgs, secs = load(build, port, size, a.secs, a.inflight, a.conns)
        u1, s1 = cpu_seconds(p.pid)
    finally:
        stop(p)
    cpu = (u1 - u0) + (s1 - s0)
    return msgs / secs, msgs / max(cpu, 1e-9), cpu / secs, (s1 - s0) / max(cpu, 1e-9)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--secs", type=float, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--inflight", type=int, default=1)
    ap.add_argument("--conns", type=int, default=100)
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    res = {}
    for r in range(a.runs):
        for size in SIZES:
            names = list(SERVERS) if r % 2 == 0 else list(SERVERS)[::-1]
            for name in names:
                res.setdefault((name, size), []).append(cell(a.build, name, size, a))
                rate, per_cpu, util, kern = res[(name, size)][-1]
                print("run %d %-11s %6d B: %8.0f msgs/s %8.0f msgs/CPU-s "
                      "(server CPU %3.0f%%, %2.0f%% of it in the kernel)"
                      % (r + 1, name, size, rate, per_cpu, util * 100, kern * 100),
                      flush=True)
    print()
    print("| server | " + " | ".join("%s: msgs/s | %s: msgs per CPU-s" % (s, s) for s in
                                      ("16 B", "1 KiB", "64 KiB")) + " |")
    print("|---|" + "---:|" * 6)
    med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
           for k, v in res.items()}
    for name in SERVERS:
        print("| %s | " % name + " | ".join("%.0f | %.0f" % med[(name, s)] for s in SIZES) + " |")
    print("| wsx / websockets | " + " | ".join(
        "%.2f× | %.2f×" % (med[("wsx binding", s)][0] / med[("websockets", s)][0],
                           med[("wsx binding", s)][1] / med[("websockets", s)][1])
        for s in SIZES) + " |")
    print("| kernel share of server CPU | " + " | ".join(
        "%s: %.0f%% | %s: %.0f%%" % (
            "wsx", 100 * statistics.median(x[3] for x in res[("wsx binding", s)]),
            "websockets", 100 * statistics.median(x[3] for x in res[("websockets", s)]))
        for s in SIZES) + " |")
    print("(medians of %d runs of %g s; %d connections, %d in flight)" % (
        a.runs, a.secs, a.conns, a.inflight))
    if a.profile:
        import pstats
        for name in SERVERS:
            for size in (16, 65536):
                f = "/tmp/wsx-bench-%d-%d.prof" % (os.getpid(), size)
                cell(a.build, name, size, a, profile=f)
                print("\n== cProfile: %s, %d B (top 12 by own time)" % (name, size))
                pstats.Stats(f).sort_stats("tottime").print_stats(12)
                os.unlink(f)


if __name__ == "__main__":
    main()
