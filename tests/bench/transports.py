"""transports.py [--clients N] [--seconds S] [--build DIR] - the same event
stream (10 events/s, 200-byte JSON chat events) from examples/chat to N
clients over WebSocket push, Server-Sent Events, long polling and polling
every 5 s, one transport at a time, each after a baseline run without
clients. Per transport: event-to-client latency p50/p95/p99 (the publisher
stamps each event with its send time; every client runs in this process,
on the same clock), bytes on the wire per event per client, both
directions (each client speaks its protocol over a plain socket and counts
what it writes and reads: HTTP heads, WebSocket handshake and framing
included, TCP/IP headers not) and server CPU per event (utime + stime from
/proc/PID/stat, minus the baseline's). Prints a Markdown table
and writes the chart to tests/bench/transports.svg. Not a timed test."""
import argparse
import asyncio
import json
import os
import socket
import subprocess
import time

import websockets

RATE = 10


def proc_cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


class Run:
    def __init__(self):
        self.lat = []
        self.stop = False
        self.bytes = 0


def stamp_of(ev):
    return float(ev["text"].split(" ", 1)[0])


async def publisher(port, run, seconds, sent):
    async with websockets.connect("ws://127.0.0.1:%d/chat" % port) as ws:
        await ws.send(json.dumps({"type": "join", "room": "bench", "nick": "pub"}))
        await asyncio.sleep(0.5)  # clients settle
        t0 = time.monotonic()
        n = 0
        while time.monotonic() - t0 < seconds:
            text = "%.6f " % time.time()
            # The room's event around it makes ~200 bytes of JSON.
            text += "x" * (200 - len('{"type":"say","id":"1000","room":"bench","nick":"pub","text":""}') - len(text))
            await ws.send(json.dumps({"type": "say", "text": text}))
            n += 1
            await asyncio.sleep(max(0, t0 + n / RATE - time.monotonic()))
        sent.append(n)
        await asyncio.sleep(0.3)
        run.stop = True
        while True:  # drain our own copies until the clients are done
            try:
                await asyncio.wait_for(ws.recv(), 0.2)
            except (asyncio.TimeoutError, websockets.ConnectionClosed):
                break


def record(run, ev):
    if ev.get("type") == "say" and ev.get("nick") == "pub":
        run.lat.append(time.time() - stamp_of(ev))


async def ws_client(port, run, i):
    """A minimal client (RFC 6455 §4.1, §5.2): server frames are small and
    unmasked; the one frame it sends, the join, is masked with key 0."""
    r, w = await asyncio.open_connection("127.0.0.1", port)
    head = (b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    join = json.dumps({"type": "join", "room": "bench", "nick": "w%d" % i}).encode()
    frame = bytes([0x81, 0x80 | len(join)]) + b"\0\0\0\0" + join
    w.write(head + frame)
    run.bytes += len(head) + len(frame)
    run.bytes += len(await r.readuntil(b"\r\n\r\n"))
    while not run.stop:
        try:
            h = await asyncio.wait_for(r.readexactly(2), 0.5)
        except asyncio.TimeoutError:
            continue
        n = h[1] & 0x7F
        ext = await r.readexactly(2 if n == 126 else 8 if n == 127 else 0)
        n = int.from_bytes(ext, "big") if ext else n
        data = await r.readexactly(n)
        run.bytes += 2 + len(ext) + n
        if h[0] & 0x0F == 1:
            record(run, json.loads(data))
    w.close()


async def sse_client(port, run, i):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    req = b"GET /events?room=bench&nick=s%d HTTP/1.1\r\nHost: x\r\n\r\n" % i
    w.write(req)
    run.bytes += len(req)
    while not run.stop:
        try:
            line = await asyncio.wait_for(r.readline(), 0.5)
        except asyncio.TimeoutError:
            continue
        run.bytes += len(line)
        if line.startswith(b"data:"):
            record(run, json.loads(line[5:]))
        elif not line:
            break
    w.close()


async def get(run, port, path):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    req = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode()
    w.write(req)
    data = await r.read()
    w.close()
    run.bytes += len(req) + len(data)
    return json.loads(data.partition(b"\r\n\r\n")[2] or b"[]")


async def poll_client(port, run, i, every):
    nick = ("p%d" % i) if not every else ("q%d" % i)
    since = None
    while not run.stop:
        t = time.monotonic()
        q = "/poll?room=bench&nick=%s%s" % (nick, "&since=%s" % since if since else "")
        evs = await get(run, port, q)
        for ev in evs:
            record(run, ev)
        if evs:
            since = evs[-1]["id"]
        if every:
            await asyncio.sleep(max(0, every - (time.monotonic() - t)))


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100 * len(v)))] * 1000 if v else float("nan")


async def measure(port, pid, mode, n, seconds):
    run, sent = Run(), []
    clients = {"ws": lambda i: ws_client(port, run, i),
               "sse": lambda i: sse_client(port, run, i),
               "poll": lambda i: poll_client(port, run, i, 0),
               "poll5": lambda i: poll_client(port, run, i, 5)}
    tasks = [asyncio.ensure_future(clients[mode](i)) for i in range(n)] if mode != "none" else []
    await asyncio.sleep(1.0)  # joined, first requests in
    run.bytes, cpu0 = 0, proc_cpu(pid)
    await publisher(port, run, seconds, sent)
    cpu1 = proc_cpu(pid)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return run.lat, sent[0], run.bytes, cpu1 - cpu0


def svg(rows, path):
    """Latency percentiles per transport, log scale, as a bar chart."""
    import math
    W, H, left, top, bottom = 640, 300, 130, 30, 40
    lo, hi = 0.1, 10000.0
    x = lambda ms: left + (W - left - 20) * (math.log10(max(ms, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    colors = {"p50": "#4c78a8", "p95": "#f58518", "p99": "#e45756"}
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (W, H),
           '<text x="%d" y="18" font-size="14">event-to-client latency, ms (log scale)</text>' % left]
    for d in (0.1, 1, 10, 100, 1000, 10000):
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x(d), top, x(d), H - bottom))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%g</text>' % (x(d), H - bottom + 15, d))
    band = (H - top - bottom) / len(rows)
    for k, r in enumerate(rows):
        y = top + k * band
        out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (left - 8, y + band / 2 + 4, r["name"]))
        for j, p in enumerate(("p50", "p95", "p99")):
            out.append('<rect x="%d" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>'
                       % (left, y + 4 + j * (band - 8) / 3, x(r[p]) - left, (band - 8) / 3 - 1, colors[p]))
    for j, p in enumerate(("p50", "p95", "p99")):
        out.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>'
                   % (W - 170 + j * 55, H - 14, colors[p], W - 156 + j * 55, H - 5, p))
    out.append("</svg>")
    open(path, "w").write("\n".join(out) + "\n")


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=12)
    ap.add_argument("--build", default="build")
    a = ap.parse_args()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    chat = subprocess.Popen([os.path.join(a.build, "examples", "chat"), "--port", str(port)],
                            stdout=subprocess.PIPE)
    chat.stdout.readline()
    try:
        _, base_n, _, base_cpu = await measure(port, chat.pid, "none", 0, a.seconds)
        rows = []
        names = {"ws": "WebSocket push", "sse": "SSE", "poll": "long polling", "poll5": "5 s polling"}
        for mode in ("ws", "sse", "poll", "poll5"):
            lat, n, io, cpu = await measure(port, chat.pid, mode, a.clients, a.seconds)
            cpu -= base_cpu * n / base_n
            rows.append({"name": names[mode], "p50": pct(lat, 50), "p95": pct(lat, 95),
                         "p99": pct(lat, 99), "samples": len(lat),
                         "bytes": io / (n * a.clients), "cpu_us": cpu / n * 1e6})
    finally:
        chat.terminate()
        chat.wait()
    print("%d clients, %d events/s of ~200-byte JSON for %g s per transport\n" % (a.clients, RATE, a.seconds))
    print("| transport | latency p50 | p95 | p99 | events received | bytes per event per client (both directions) | server CPU per event (all clients) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %.1f ms | %.1f ms | %.1f ms | %d | %.0f B | %.0f us |"
              % (r["name"], r["p50"], r["p95"], r["p99"], r["samples"], r["bytes"], r["cpu_us"]))
    svg(rows, os.path.join(os.path.dirname(os.path.abspath(__file__)), "transports.svg"))


asyncio.run(main())
