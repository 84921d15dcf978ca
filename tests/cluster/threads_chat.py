"""threads_chat.py - chat --threads 2 (two loops sharing one port through
SO_REUSEPORT): rooms span the threads, without Redis (events posted from
loop to loop) and with it (each thread reads the stream: one order)."""
import asyncio

from cluster_lib import (CHAT, Client, free_port, report, run, spawn,
                         start_redis, stop_clean, wait_log, wait_port)

CLIENTS = 16  # the kernel spreads them: all on one thread is a 2^-15 chance


async def room_spans_threads(label, port):
    url = "ws://127.0.0.1:%d/chat" % port
    clients = [await Client.join(url, "n%d" % i) for i in range(CLIENTS)]
    for i, c in enumerate(clients):
        await c.say("from %d" % i)
    for c in clients:
        await c.until(lambda e, c=c: len(c.says()) == CLIENTS)
    got = [sorted(e["text"] for e in c.says()) for c in clients]
    want = sorted("from %d" % i for i in range(CLIENTS))
    report(all(g == want for g in got), "%s: every client gets every message once" % label,
           [len(g) for g in got])
    for c in clients:
        await c.ws.close()
    return clients


async def main():
    port = free_port()
    p = spawn("threads", [CHAT, "--port", str(port), "--threads", "2"])
    if report(wait_port(port), "chat --threads 2 starts"):
        await room_spans_threads("threads", port)
        stop_clean(p)

    rport = free_port()
    if not report(start_redis(rport) is not None, "redis-server starts"):
        return
    port = free_port()
    p = spawn("threads-redis", [CHAT, "--port", str(port), "--threads", "2",
                                "--redis", "127.0.0.1:%d" % rport])
    if report(wait_port(port) and wait_log("threads-redis", "redis feed", count=2),
              "chat --threads 2 --redis starts, a feed per thread"):
        clients = await room_spans_threads("threads+redis", port)
        orders = {tuple(e["id"] for e in c.says()) for c in clients}
        report(len(orders) == 1, "threads+redis: one order on both threads", len(orders))
        stop_clean(p)


run(main)
