"""redis_chat.py - three chat instances sharing rooms through a real
redis-server: one order of events for clients on different instances, a
client that comes back to another instance with "since" gets exactly what
it missed, one instance's feed cut while Redis stays up reads on from where
it was, and Redis killed and restarted mid-test loses nothing."""
import asyncio
import json
import re
import socket
import subprocess
import time

import websockets

from cluster_lib import (Client, free_port, id_key, kill, report, run,
                         start_chat, start_redis, stop_clean, wait_log)


def feed_port(rport, pid):
    """The local port of the XREAD connection that process pid keeps to
    the Redis at rport, or None."""
    clients = subprocess.run(["redis-cli", "-p", str(rport), "CLIENT", "LIST"],
                             capture_output=True, text=True, timeout=5).stdout
    xread = {int(m.group(1)) for m in re.finditer(r"addr=127\.0\.0\.1:(\d+) .*cmd=xread", clients)}
    socks = subprocess.run(["ss", "-Htnp", "dport = :%d" % rport],
                           capture_output=True, text=True, timeout=5).stdout
    for line in socks.splitlines():
        m = re.search(r"127\.0\.0\.1:(\d+)\s+\S+\s+.*pid=%d," % pid, line)
        if m and int(m.group(1)) in xread:
            return int(m.group(1))
    return None


def http(port, request, until=None, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(request.encode())
    got, end = b"", time.monotonic() + timeout
    while time.monotonic() < end and not (until and until(got)):
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        got += chunk
    s.close()
    return got.decode("utf-8", "replace")


def sse_read(port, last_id, count):
    """(id, data) of the first count + 1 events of /events on port resumed
    after last_id (the session's own join comes after the missed ones)."""
    text = http(port, "GET /events?room=r&nick=sse HTTP/1.1\r\nHost: x\r\n"
                "Last-Event-ID: %s\r\n\r\n" % last_id,
                until=lambda g: g.count(b"\n\n") > count + 1)
    out = []
    for block in text.split("\r\n\r\n", 1)[-1].split("\n\n"):
        fields = {}
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        if "id" in fields and "data" in fields:
            out.append((fields["id"], json.loads(fields["data"])))
    return out


def poll(port, since):
    text = http(port, "GET /poll?room=r&nick=poller&since=%s HTTP/1.1\r\nHost: x\r\n\r\n"
                % since, until=lambda g: g.rstrip().endswith(b"]"))
    head, _, body = text.partition("\r\n\r\n")
    return int(head.split(" ")[1]) if head.startswith("HTTP/1.1 ") else 0, body


async def main():
    rport = free_port()
    redis = start_redis(rport)
    if not report(redis is not None, "redis-server starts"):
        return
    ports = [free_port() for _ in range(3)]
    names = ["chat%d" % i for i in range(3)]
    insts = [start_chat(n, p, rport) for n, p in zip(names, ports)]
    if not report(all(insts), "three chat instances reach Redis"):
        return
    url = ["ws://127.0.0.1:%d/chat" % p for p in ports]

    # --- one room across three instances, one order ----------------------
    a = await Client.join(url[0], "a")
    b = await Client.join(url[1], "b")
    c = await Client.join(url[2], "c")
    n = 20
    for i in range(n):  # interleaved: the order is Redis's, not a sender's
        await asyncio.gather(a.say("a%d" % i), b.say("b%d" % i), c.say("c%d" % i))
    for cl in (a, b, c):
        await cl.until(lambda e, cl=cl: len(cl.says()) == 3 * n)
    seqs = [[(e["id"], e["text"]) for e in cl.says()] for cl in (a, b, c)]
    report(all(len(s) == 3 * n for s in seqs), "every client got all %d messages" % (3 * n),
           [len(s) for s in seqs])
    report(seqs[0] == seqs[1] == seqs[2], "same order on every instance")
    ids = [i for i, _ in seqs[0]]
    report(ids == sorted(set(ids), key=id_key), "ids strictly increase", ids[:5])
    for who in "abc":
        mine = [t for _, t in seqs[0] if t.startswith(who)]
        report(mine == ["%s%d" % (who, i) for i in range(n)],
               "a sender's messages keep their order (%s)" % who, mine[:5])

    # --- c leaves, misses messages, comes back elsewhere with since ------
    since = c.last_id()
    mark = len(a.events)
    await c.ws.close()
    await a.until(lambda e: e.get("type") == "leave" and e.get("nick") == "c")
    for i in range(10):
        await (a if i % 2 else b).say("missed%d" % i)
    # Two senders on two instances: the stream decides their order.
    await a.until(lambda e: len([x for x in a.events[mark:] if x.get("type") == "say"]) == 10)
    missed = [e for e in a.events[mark:]]
    c2 = await Client.join(url[0], "c", since=since)
    got = [e for e in c2.events if not (e.get("type") == "join" and e.get("nick") == "c")]
    report(got == missed, "since replays exactly the missed events, in order",
           (len(got), len(missed), got[:2], missed[:2]))
    await b.say("after")
    e = await c2.until(lambda e: e.get("type") == "say")
    report(e is not None and e.get("text") == "after", "then live events", e)
    ids = [x["id"] for x in c2.events if "id" in x]
    report(len(ids) == len(set(ids)), "no event twice", ids)
    e = await c2.until(lambda e: True, timeout=0.5)
    report(e is None, "nothing more", e)

    # --- SSE and polling use the stream's ids: resume on another instance -
    ids = [x["id"] for x in b.events if "id" in x]
    k = len(ids) // 2
    events = await asyncio.to_thread(sse_read, ports[1], ids[k], len(ids) - k - 1)
    report([i for i, _ in events][:len(ids) - k - 1] == ids[k + 1:],
           "Last-Event-ID (a WebSocket event's id) resumes SSE on chat1",
           ([i for i, _ in events][:3], ids[k + 1:k + 4]))
    report(all(i == d.get("id") for i, d in events), "SSE ids are the events' own",
           events[:2])
    # chat2 has no member in the room now: the newest id is not known there,
    # yet it is a real one (Redis's), not an error.
    status, body = await asyncio.to_thread(poll, ports[2], ids[-1])
    later = json.loads(body) if status == 200 else None
    report(status == 200 and later and all(id_key(e["id"]) > id_key(ids[-1]) for e in later),
           "a poll on chat2 takes chat0's newest id as since", (status, body[:120]))

    # --- a bad since is an error event ------------------------------------
    async with websockets.connect(url[1]) as ws:
        await ws.send(json.dumps({"type": "join", "room": "r", "nick": "z", "since": "yesterday"}))
        ev = json.loads(await asyncio.wait_for(ws.recv(), 5))
        report(ev.get("type") == "error" and "since" in ev.get("message", ""),
               "a since that is no id is an error", ev)

    # --- one instance's feed cut, Redis up: it reads on from its last id ---
    port = feed_port(rport, insts[1].pid)
    if report(port is not None, "the feed connection of chat1 is found"):
        subprocess.run(["redis-cli", "-p", str(rport), "CLIENT", "KILL", "ADDR",
                        "127.0.0.1:%d" % port], capture_output=True, timeout=5)
        for i in range(10):  # at once: most land while chat1's feed is down
            await a.say("gap%d" % i)
        await b.until(lambda e: e.get("text") == "gap9")
        report(wait_log(names[1], "redis feed 127.0.0.1:%d down" % rport, timeout=5),
               "chat1 noticed its feed was cut")
        got = [e["text"] for e in b.says() if e["text"].startswith("gap")]
        report(got == ["gap%d" % i for i in range(10)],
               "chat1 reconnects and delivers the gap, in order, once", got)

    # --- Redis killed and restarted mid-test -----------------------------
    kill(redis)
    for nm in names:
        wait_log(nm, "down", timeout=5)
    ma, mb = len(a.says()), len(b.says())
    for i in range(5):
        await a.say("down-a%d" % i)
        await b.say("down-b%d" % i)
    await a.until(lambda e: e.get("text") == "down-a4", timeout=5)
    report([e["text"] for e in a.says(0)[ma:] if e["text"].startswith("down-a")] ==
           ["down-a%d" % i for i in range(5)], "Redis away: local delivery goes on")
    report(all(i.poll() is None for i in insts), "no instance crashed")
    redis = start_redis(rport)
    report(redis is not None, "redis-server restarts")
    for nm in names:
        report(wait_log(nm, "redis feed 127.0.0.1:%d up" % rport, count=2, timeout=10),
               "%s reconnects" % nm)
    for i in range(5):
        await a.say("up-a%d" % i)
        await b.say("up-b%d" % i)
    for cl in (a, b):
        await cl.until(lambda e, cl=cl: {"up-a4", "up-b4"} <= {x["text"] for x in cl.says()})
    for cl, other, mark in ((a, "b", ma), (b, "a", mb)):
        texts = [e["text"] for e in cl.says()[mark:]]
        theirs = [t for t in texts if t.startswith(("down-" + other, "up-" + other))]
        want = ["down-%s%d" % (other, i) for i in range(5)] + \
               ["up-%s%d" % (other, i) for i in range(5)]
        report(theirs == want, "%s gets the other's outage messages, then live ones" % cl.nick,
               theirs)
        mine = [t for t in texts if t.startswith(("down-" + cl.nick, "up-" + cl.nick))]
        report(len(mine) == len(set(mine)) == 10, "%s sees its own messages once" % cl.nick, mine)
    await c2.until(lambda e: e.get("text") == "up-b4")
    total = {cl.nick: len(cl.says()) for cl in (a, b)}
    want = 3 * n + 10 + 1 + 10 + 20  # room, missed, after, gap, Redis away and back
    report(total == {"a": want, "b": want},
           "end-to-end message counts", total)
    for cl in (a, b, c2):
        await cl.ws.close()
    for p in insts:
        stop_clean(p)


run(main)
