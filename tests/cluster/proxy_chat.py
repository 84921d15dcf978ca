"""proxy_chat.py haproxy|nginx - two chat instances sharing rooms through
Redis, behind the real proxy running examples/cluster's config: the page
and /healthz pass, two clients land on different instances and chat, and
an instance killed mid-test loses only its own client, which reconnects
through the proxy and resumes with "since"."""
import asyncio
import os
import signal
import sys
import urllib.request

from cluster_lib import (LOGS, Client, free_port, kill, log_text, report, run,
                         spawn, start_chat, start_redis, stop_clean, wait_log, wait_port)

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = os.path.join(HERE, "..", "..", "examples", "cluster")


def instance(c, served):
    """The instance port that served c's upgrade: the proxy names it in
    X-Served-By (nginx lists each one it tried, the last one answered)."""
    return served.get(c.ws.response_headers.get("X-Served-By", "").split(", ")[-1])


def start_haproxy(listen, chats):
    env = {"PROXY_BIND": "127.0.0.1:%d" % listen}
    for i, port in enumerate(chats):
        env["CHAT%d" % (i + 1)] = "127.0.0.1:%d" % port
    os.environ.update(env)  # haproxy reads "${NAME}" from its environment
    p = spawn("haproxy", ["/usr/sbin/haproxy", "-db", "-f",
                          os.path.join(CONFIGS, "haproxy.cfg")])
    return p, {"chat%d" % (i + 1): port for i, port in enumerate(chats)}


def start_nginx(listen, chats):
    prefix = os.path.join(LOGS, "nginx")
    for d in ("logs", "temp"):
        os.makedirs(os.path.join(prefix, d), exist_ok=True)
    with open(os.path.join(CONFIGS, "nginx.conf")) as f:
        conf = f.read().replace("@LISTEN@", "127.0.0.1:%d" % listen)
    for i, port in enumerate(chats):
        conf = conf.replace("@CHAT%d@" % (i + 1), "127.0.0.1:%d" % port)
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    p = spawn("nginx", ["/usr/sbin/nginx", "-p", prefix, "-c", path, "-g",
                        "daemon off; pid %s/nginx.pid; error_log %s/logs/error.log;"
                        % (prefix, prefix)], stop_signal=signal.SIGTERM)
    return p, {"127.0.0.1:%d" % port: port for port in chats}


async def main(kind):
    rport = free_port()
    if not report(start_redis(rport) is not None, "%s: redis-server starts" % kind):
        return
    ports = [free_port(), free_port()]
    insts = [start_chat("%s-chat%d" % (kind, i + 1), p, rport) for i, p in enumerate(ports)]
    if not report(all(insts), "%s: two chat instances reach Redis" % kind):
        return
    by_port = dict(zip(ports, insts))
    listen = free_port()
    proxy, served = (start_haproxy if kind == "haproxy" else start_nginx)(listen, ports)
    if not report(wait_port(listen), "%s starts" % kind, log_text(proxy.name)[-500:]):
        return
    base = "http://127.0.0.1:%d" % listen
    for path, want in (("/healthz", b"ok\n"), ("/", b"<!doctype html>")):
        try:
            with urllib.request.urlopen(base + path, timeout=5) as r:
                body = r.read()
            report(r.status == 200 and body.startswith(want), "%s: GET %s" % (kind, path), body[:40])
        except OSError as e:
            report(False, "%s: GET %s" % (kind, path), e)

    url = "ws://127.0.0.1:%d/chat" % listen
    a = await Client.join(url, "a")
    b = await Client.join(url, "b")
    where = [instance(c, served) for c in (a, b)]
    if not report(None not in where and where[0] != where[1],
                  "%s: the two clients land on different instances" % kind, where):
        return
    await a.say("hello b")
    e = await b.until(lambda e: e.get("text") == "hello b")
    report(e is not None and "id" in e, "%s: a's message reaches b on the other instance" % kind, e)
    await b.say("hello a")
    e = await a.until(lambda e: e.get("text") == "hello a")
    report(e is not None, "%s: and b's reaches a" % kind, e)

    await b.until(lambda e: e.get("text") == "hello a")  # its own, back

    # a's instance dies: b stays, talks on; a comes back with since.
    since = a.last_id()
    kill(by_port[where[0]])
    await a.until(lambda e: False, timeout=3)
    report(a.ws.closed, "%s: the killed instance's client is cut off" % kind, a.ws.close_code)
    mark = len(b.events)
    for i in range(5):
        await b.say("while away %d" % i)
    await b.until(lambda e: e.get("text") == "while away 4")
    report(b.ws.open, "%s: the other instance's client stays connected" % kind)
    if kind == "haproxy":
        report(wait_log("haproxy", "is DOWN", timeout=10),
               "haproxy: its /healthz check marks the dead instance down")
    missed = b.events[mark:]
    a2 = await Client.join(url, "a", since=since)
    report(instance(a2, served) == where[1],
           "%s: the reconnect goes to the live instance" % kind,
           a2.ws.response_headers.get("X-Served-By"))
    got = [e for e in a2.events if not (e.get("type") == "join" and e.get("nick") == "a")]
    report(got == missed, "%s: resume with since gets exactly the missed messages" % kind,
           (got, missed))
    await b.say("live")
    e = await a2.until(lambda e: e.get("type") == "say")
    report(e is not None and e.get("text") == "live", "%s: then live ones" % kind, e)
    for c in (a2, b):
        await c.ws.close()
    stop_clean(by_port[where[1]])
    kill(proxy)


run(lambda: main(sys.argv[1]))
