"""cluster_lib.py - what the cluster tests share: free loopback ports, a
redis-server and chat instances started as child processes and killed by
PID, and chat clients over the websockets package. Reports go out as
"OK name" / "FAIL name: detail" lines."""
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import websockets

BUILD = os.environ.get("WSX_BUILD", "build")
CHAT = os.path.join(BUILD, "examples", "chat")
LOGS = os.environ.get("CLUSTER_LOGS") or tempfile.mkdtemp()
procs = []
failures = 0


def report(ok, name, detail=""):
    global failures
    if not ok:
        failures += 1
    print(("OK %s" % name) if ok else ("FAIL %s: %s" % (name, detail)), flush=True)
    return ok


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def spawn(name, argv, stop_signal=signal.SIGKILL):
    """A child process; stop_signal is what stops it for good (nginx's
    master must get SIGTERM to take its workers with it)."""
    out = open(os.path.join(LOGS, name + ".log"), "ab")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    p.name = name
    p.stop_signal = stop_signal
    procs.append(p)
    return p


def kill(p, sig=None):
    sig = sig or p.stop_signal
    if p.poll() is None:
        p.send_signal(sig)
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def stop_clean(p):
    """SIGINT, which chat turns into a graceful shutdown: it must exit 0
    (a sanitizer's report makes the status non-zero)."""
    kill(p, signal.SIGINT)
    return report(p.returncode == 0, "%s exits 0 on SIGINT" % p.name,
                  "status %s: %s" % (p.returncode, log_text(p.name)[-2000:]))


def stop_all():
    for p in procs:
        kill(p)


def log_text(name):
    with open(os.path.join(LOGS, name + ".log"), errors="replace") as f:
        return f.read()


def start_redis(port):
    p = spawn("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no"])
    return p if wait_port(port) else None


def wait_log(name, text, count=1, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if log_text(name).count(text) >= count:
            return True
        time.sleep(0.05)
    return False


def start_chat(name, port, redis_port):
    """A chat instance on port; returns once both its Redis links are up."""
    p = spawn(name, [CHAT, "--port", str(port), "--redis", "127.0.0.1:%d" % redis_port])
    ok = wait_port(port) and wait_log(name, "redis feed") and wait_log(name, "redis commands")
    return p if ok else None


class Client:
    """One chat member: joins, says, and keeps every event it received."""

    def __init__(self, ws, nick):
        self.ws, self.nick, self.events = ws, nick, []

    @classmethod
    async def join(cls, url, nick, room="r", since=None, **kw):
        ws = await websockets.connect(url, **kw)
        c = cls(ws, nick)
        msg = {"type": "join", "room": room, "nick": nick}
        if since:
            msg["since"] = since
        await ws.send(json.dumps(msg))
        await c.until(lambda e: e.get("type") == "join" and e.get("nick") == nick)
        return c

    async def say(self, text):
        await self.ws.send(json.dumps({"type": "say", "text": text}))

    async def until(self, pred, timeout=10):
        """Read events until one matches pred; returns it or None."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                e = json.loads(await asyncio.wait_for(self.ws.recv(), left))
            except (asyncio.TimeoutError, websockets.ConnectionClosed):
                return None
            self.events.append(e)
            if pred(e):
                return e

    def says(self, since_index=0):
        return [e for e in self.events[since_index:] if e.get("type") == "say"]

    def last_id(self):
        ids = [e["id"] for e in self.events if "id" in e]
        return ids[-1] if ids else None


def id_key(i):
    ms, _, seq = i.partition("-")
    return int(ms), int(seq or 0)


def run(main):
    # timeout(1) ends a stuck driver with SIGTERM: stop the children too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        asyncio.run(main())
    except Exception as e:  # a crash is a failure, never a silent pass
        report(False, "driver", repr(e))
    finally:
        stop_all()
    sys.exit(1 if failures else 0)
