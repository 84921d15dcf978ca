"""fallback_check.py CHAT PORT [CHROMIUM] - examples/chat's SSE, long
polling and POST /send (examples/chat/fallback.h) against a running chat
started with --poll-timeout 1500 --heartbeat 400 (PID in $CHAT_PID): curl
for SSE and polling, raw sockets for bad input, Python websockets for a
WebSocket member, and, when CHROMIUM is given, the page forced to each
transport in headless Chromium. Prints "OK name" / "FAIL name: detail"."""
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "interop"))
import browser_driver as bd  # noqa: E402

port = int(sys.argv[2])
base = "http://127.0.0.1:%d" % port
POLL_S = 1.5


def report(ok, name, detail=""):
    print(("OK %s" % name) if ok else ("FAIL %s: %s" % (name, detail)), flush=True)


def http(path, body=None, headers=None, timeout=10):
    """(status, body) of one request."""
    req = urllib.request.Request(base + path, data=body, headers=headers or {},
                                 method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def send(room, nick, text):
    return http("/send?room=%s&nick=%s" % (room, nick),
                json.dumps({"type": "say", "text": text}).encode())


def sse_curl(room, nick, seconds, last_id=None):
    """curl's raw output of an event stream (headers included)."""
    cmd = ["curl", "-sN", "-i", "--max-time", str(seconds),
           "%s/events?room=%s&nick=%s" % (base, room, nick)]
    if last_id is not None:
        cmd += ["-H", "Last-Event-ID: %s" % last_id]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE)


def events_of(raw):
    """[(id, data-json)] of an event stream's text."""
    out, ev_id, data = [], None, []
    for line in raw.decode().split("\n"):
        if line.startswith("id: "):
            ev_id = line[4:]
        elif line.startswith("data:"):
            data.append(line[5:])
        elif line == "" and data:
            out.append((ev_id, json.loads("\n".join(data))))
            ev_id, data = None, []
    return out


def raw_request(head, body=b"", read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(head + body)
    if not read:
        return s
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    s.close()
    return data


def test_sse_curl():
    p = sse_curl("s1", "carol", 2)
    time.sleep(0.5)
    send("s1", "dave", "first")
    out = p.communicate()[0]
    head, _, body = out.partition(b"\r\n\r\n")
    report(b"Content-Type: text/event-stream" in head, "sse-content-type", head[:200])
    evs = events_of(body)
    kinds = [(e["type"], e.get("nick"), e.get("text")) for _, e in evs]
    report(kinds[:3] == [("join", "carol", None), ("join", "dave", None), ("say", "dave", "first")],
           "sse-events-in-order", kinds)
    report(all(i == e["id"] for i, e in evs), "sse-id-matches-data-id", evs)
    report(body.count(b":\n\n") >= 2, "sse-heartbeat-comments", body.count(b":\n\n"))
    return evs


def test_sse_resume(evs):
    """After the first stream, two more messages; a stream resuming from
    the first stream's last id gets exactly the ones after it."""
    last = evs[-1][0]
    send("s1", "dave", "second")
    send("s1", "dave", "third")
    p = sse_curl("s1", "carol", 1, last_id=last)
    got = events_of(p.communicate()[0].partition(b"\r\n\r\n")[2])
    ids = [int(i) for i, _ in got]
    texts = [e.get("text") for _, e in got]
    report(texts == ["second", "third"] and ids == sorted(set(ids)) and ids[0] == int(last) + 1,
           "sse-last-event-id-resume-no-gap-no-duplicate", (last, got))
    status, _ = http("/events?room=s1&nick=carol", headers={"Last-Event-ID": "x1"})
    report(status == 400, "sse-bogus-last-event-id-400", status)


def test_poll():
    status, body = http("/poll?room=p1&nick=pat")
    evs = json.loads(body)
    report(status == 200 and [e["type"] for e in evs] == ["join"], "poll-first-gets-own-join",
           (status, body))
    last = evs[-1]["id"]
    t0 = time.monotonic()
    status, body = http("/poll?room=p1&nick=pat&since=%s" % last)
    took = time.monotonic() - t0
    report(status == 200 and json.loads(body) == [] and POLL_S - 0.3 <= took < POLL_S + 3,
           "poll-empty-array-after-timeout", (status, body, round(took, 2)))
    def later():
        time.sleep(0.3)
        send("p1", "quinn", "hello poller")
    import threading
    t = threading.Thread(target=later)
    t.start()
    t0 = time.monotonic()
    status, body = http("/poll?room=p1&nick=pat&since=%s" % last)
    took = time.monotonic() - t0
    t.join()
    evs = json.loads(body)
    report(status == 200 and evs and took < POLL_S,
           "poll-answers-as-soon-as-an-event-comes", (body, round(took, 2)))
    status, body = http("/poll?room=p1&nick=pat&since=%s" % last)
    report([e.get("text") for e in json.loads(body)] == [None, "hello poller"],
           "poll-since-returns-every-later-event", body)
    for bogus in ("abc", "-1", "99999999", "1e3", ""):
        status, body = http("/poll?room=p1&nick=pat&since=%s" % bogus)
        report(status == 400 and b"error" in body, "poll-bogus-since-%s-400" % (bogus or "empty"),
               (status, body))
    status, _ = http("/poll?room=p1")
    report(status == 400, "poll-without-nick-400", status)
    status, _ = http("/send?room=p1&nick=pat")
    report(status == 405, "send-by-get-405", status)
    status, body = http("/send?room=p1&nick=pat", b"not json")
    report(status == 400 and json.loads(body)["type"] == "error", "send-bad-json-400", body)
    status, body = http("/send?room=p1&nick=pat", b'{"x":1}')
    report(status == 400 and json.loads(body) == {"type": "error",
                                                  "message": 'a "type" string is required'},
           "send-error-event-as-a-websocket-member-gets-it", body)
    status, body = http("/poll?room=p%201&nick=p%61t&since=0")
    report(status == 200 and json.loads(body)[0]["room"] == "p 1" and
           json.loads(body)[0]["nick"] == "pat", "query-percent-decoded", body)


async def test_three_transports():
    """A WebSocket member, an SSE client and a polling client in room t3:
    each says one thing; all see the same events, same order, same ids."""
    async with websockets.connect("ws://127.0.0.1:%d/chat" % port) as ws:
        await ws.send(json.dumps({"type": "join", "room": "t3", "nick": "wes"}))
        first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        start = int(first["id"]) - 1
        p = sse_curl("t3", "sam", 4, last_id=start)
        await asyncio.sleep(0.4)
        status, body = await asyncio.to_thread(http, "/poll?room=t3&nick=polly&since=%d" % start)
        polled = json.loads(body)
        await ws.send(json.dumps({"type": "say", "text": "from ws"}))
        await asyncio.sleep(0.2)
        await asyncio.to_thread(send, "t3", "sam", "from sse")
        await asyncio.sleep(0.2)
        await asyncio.to_thread(send, "t3", "polly", "from poll")
        ws_events = [first]
        while len(ws_events) < 6:
            ws_events.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        while len(polled) < 6:
            last = polled[-1]["id"]
            status, body = await asyncio.to_thread(
                http, "/poll?room=t3&nick=polly&since=%s" % last)
            polled += json.loads(body)
        sse = [e for _, e in events_of((await asyncio.to_thread(p.communicate))[0]
                                       .partition(b"\r\n\r\n")[2])]
    want = [("join", "wes"), ("join", "sam"), ("join", "polly"), ("say", "wes"),
            ("say", "sam"), ("say", "polly")]
    got = [(e["type"], e["nick"]) for e in ws_events]
    report(got == want, "three-transports-websocket-sees-all", ws_events)
    report(sse[:6] == ws_events, "three-transports-sse-same-events-ids", (sse, ws_events))
    report(polled[:6] == ws_events, "three-transports-poll-same-events-ids", (polled, ws_events))


def test_bad_input():
    head = (b"POST /send?room=b&nick=x HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 100000000000\r\n\r\n")
    s = raw_request(head, b"x" * 1000, read=False)
    resp = s.recv(4096)
    report(resp.startswith(b"HTTP/1.1 413 "), "post-huge-body-413-before-reading-it", resp[:40])
    # An endless body: the server has answered and closed; sending more
    # fails instead of being read forever.
    sent, t0 = 0, time.monotonic()
    try:
        while time.monotonic() - t0 < 5:
            sent += s.send(b"y" * 65536)
    except OSError:
        pass
    s.close()
    report(time.monotonic() - t0 < 5, "post-endless-body-cut-off", sent)
    resp = raw_request(b"POST /send?room=b&nick=x HTTP/1.1\r\nHost: x\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n", b"5\r\nhello\r\n")
    report(resp.startswith(b"HTTP/1.1 411 "), "post-chunked-body-411", resp[:40])
    resp = raw_request(b"POST /send?room=b&nick=x HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Length: 17000\r\n\r\n", b"z" * 17000)
    report(resp.startswith(b"HTTP/1.1 413 "), "post-body-over-max-message-size-413", resp[:40])


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def test_slow_sse_reader():
    """An SSE client that never reads: the server drops it once 1 MiB
    (the chat's high_water) is queued, and its memory stays bounded while
    a WebSocket member floods the room with 16 MB."""
    pid = int(os.environ.get("CHAT_PID", "0"))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /events?room=flood&nick=sloth HTTP/1.1\r\nHost: x\r\n\r\n")
    before = rss_kib(pid) if pid else 0
    peak = before
    text = "f" * 4000
    async with websockets.connect("ws://127.0.0.1:%d/chat" % port, max_queue=None) as ws:
        await ws.send(json.dumps({"type": "join", "room": "flood", "nick": "hose"}))
        for i in range(4000):
            await ws.send(json.dumps({"type": "say", "text": text}))
            if i % 500 == 0 and pid:
                peak = max(peak, rss_kib(pid))
        await ws.send(json.dumps({"type": "say", "text": "last"}))
        while True:
            m = json.loads(await asyncio.wait_for(ws.recv(), 20))
            if m.get("text") == "last":
                break
    if pid:
        peak = max(peak, rss_kib(pid))
    got = 0
    s.settimeout(5)
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += len(chunk)
    except OSError:
        pass
    s.close()
    report(got < 4 * 1024 * 1024, "sse-reader-that-never-reads-is-dropped", "%d bytes delivered" % got)
    # A sanitizer's quarantine keeps freed memory: RSS means nothing there.
    if os.environ.get("WSX_SANITIZED"):
        print("SKIP sse-slow-reader-memory-bounded: RSS under a sanitizer", flush=True)
    else:
        report(not pid or peak - before < 24 * 1024, "sse-slow-reader-memory-bounded",
               "RSS %d -> %d KiB" % (before, peak))


async def browser(chromium):
    async def body(cdpws):
        cdp = bd.Cdp(cdpws)
        q = json.dumps
        for transport in ("sse", "poll"):
            name = "browser-page-" + transport
            try:
                tab = await bd.Tab(cdp).open("%s/?transport=%s" % (base, transport))
                room = "br" + transport
                await tab.eval(bd.JOIN % (q("pg"), q(room)))
                await tab.eval(bd.WAIT_LOG % q("connected (%s)" % transport))
                await tab.eval(bd.WAIT_LOG % q("* pg joined " + room))
                async with websockets.connect("ws://127.0.0.1:%d/chat" % port) as ws:
                    await ws.send(json.dumps({"type": "join", "room": room, "nick": "ws"}))
                    await ws.send(json.dumps({"type": "say", "text": "to the page"}))
                    await tab.eval(bd.WAIT_LOG % q("ws: to the page"))
                    await tab.eval(bd.SAY % q("to the socket"))
                    for _ in range(10):
                        m = json.loads(await asyncio.wait_for(ws.recv(), 5))
                        if m.get("text") == "to the socket":
                            break
                    else:
                        raise RuntimeError("the WebSocket member never saw the page's message")
                    if transport == "sse":
                        # A second stream for the same session ends the
                        # page's; a message said while the page is away
                        # must reach it once, when it resumes.
                        p = sse_curl(room, "pg", 1)
                        await asyncio.sleep(0.3)
                        await ws.send(json.dumps({"type": "say", "text": "while away"}))
                        await asyncio.to_thread(p.communicate)
                        await tab.eval(bd.WAIT_LOG.replace("5000", "10000") % q("ws: while away"))
                        await asyncio.sleep(0.5)
                        log = await tab.eval("document.getElementById('log').textContent")
                        if log.count("ws: while away") != 1:
                            raise RuntimeError("missed message shown %d times: %r"
                                               % (log.count("ws: while away"), log))
                        report(True, "browser-page-sse-resumes-missed-message-once")
                await tab.close()
                report(True, name)
            except Exception as e:
                report(False, name, "%s: %s" % (type(e).__name__, e))
    await bd.with_chromium(chromium, "browser", body)


async def main():
    evs = test_sse_curl()
    test_sse_resume(evs)
    test_poll()
    await test_three_transports()
    test_bad_input()
    await test_slow_sse_reader()
    if len(sys.argv) > 3 and sys.argv[3]:
        await browser(sys.argv[3])


asyncio.run(main())
