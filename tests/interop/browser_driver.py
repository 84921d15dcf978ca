"""browser_driver.py - runs pages in headless Chromium and prints what they
report. Chromium is driven over the DevTools protocol (a WebSocket itself,
spoken here by Python `websockets`): each page is loaded, then the promise
`window.finished` it defines is awaited in real time (a --virtual-time-budget
does not wait for WebSocket traffic) and its text, "OK name" / "FAIL name:
detail" lines, is printed. An argument chat=URL runs examples/chat's own
page from URL instead, in three tabs (run_chat).

usage: browser_driver.py CHROMIUM URL|chat=URL...
"""
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile

import websockets

PAGE_TIMEOUT = 15  # seconds for one page to load and finish
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-dev-shm-usage", "--remote-debugging-port=0",
         "about:blank"]


class Cdp:
    """Commands by id over one DevTools connection; events are dropped
    except those a caller waits for with event()."""

    def __init__(self, ws):
        self.ws, self.next_id, self.pending, self.waits = ws, 0, {}, []
        self.reader = asyncio.ensure_future(self.read())

    async def read(self):
        async for raw in self.ws:
            m = json.loads(raw)
            if "id" in m and m["id"] in self.pending:
                self.pending.pop(m["id"]).set_result(m)
            for method, session, fut in list(self.waits):
                if m.get("method") == method and m.get("sessionId") == session \
                        and not fut.done():
                    fut.set_result(m.get("params"))

    async def call(self, method, session=None, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = fut
        await self.ws.send(json.dumps(msg))
        reply = await fut
        if "error" in reply:
            raise RuntimeError("%s: %s" % (method, reply["error"].get("message")))
        return reply["result"]

    def event(self, method, session):
        fut = asyncio.get_running_loop().create_future()
        self.waits.append((method, session, fut))
        return fut


class Tab:
    """One page in its own target, driven by Runtime.evaluate."""

    def __init__(self, cdp):
        self.cdp = cdp

    async def open(self, url):
        cdp = self.cdp
        self.target = (await cdp.call("Target.createTarget", url="about:blank"))["targetId"]
        self.session = (await cdp.call("Target.attachToTarget", targetId=self.target,
                                       flatten=True))["sessionId"]
        await cdp.call("Page.enable", self.session)
        loaded = cdp.event("Page.loadEventFired", self.session)
        await cdp.call("Page.navigate", self.session, url=url)
        await loaded
        return self

    async def eval(self, expression):
        """The value of EXPRESSION, a promise awaited; a thrown error or a
        rejection raises RuntimeError with its message."""
        r = await self.cdp.call("Runtime.evaluate", self.session, expression=expression,
                                awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise RuntimeError(d.get("exception", {}).get("description") or d.get("text"))
        return r["result"].get("value")

    async def close(self):
        await self.cdp.call("Target.closeTarget", targetId=self.target)


async def run_page(cdp, url):
    """A test page (browser_echo.html): its window.finished text."""
    tab = await Tab(cdp).open(url)
    out = await tab.eval("window.finished")
    await tab.close()
    return out or ""


# In the chat page (examples/chat): wait until #log holds a text, in real
# time, or fail with what it holds.
WAIT_LOG = """new Promise((resolve, reject) => {
  const want = %s, t0 = Date.now(), log = document.getElementById('log');
  (function poll() {
    if (log.textContent.includes(want)) resolve(true);
    else if (Date.now() - t0 > 5000)
      reject(new Error('no ' + JSON.stringify(want) + ' in ' + JSON.stringify(log.textContent)));
    else setTimeout(poll, 20);
  })();
})"""
JOIN = """document.getElementById('nick').value = %s;
document.getElementById('room').value = %s;
document.getElementById('joinf').requestSubmit(); true"""
SAY = """document.getElementById('text').value = %s;
document.getElementById('sayf').requestSubmit(); true"""


async def run_chat(cdp, url):
    """examples/chat's own page, served by the chat server itself, in three
    tabs: ann and bob in room r1, cy in r2. Prints one line per step and
    stops at the first failing one."""
    tabs, q = {}, json.dumps
    text = 'h\u00e9 "quoted" \\ \u2713 \U0001F600 <b>'

    async def page():
        for nick in ("ann", "bob", "cy"):
            tabs[nick] = await Tab(cdp).open(url)
        title = await tabs["ann"].eval("document.title")
        if title != "wsx chat":
            raise RuntimeError("title %r" % title)

    async def connect():
        for t in tabs.values():
            await t.eval(WAIT_LOG % q("connected"))

    async def join():
        for nick, room in (("ann", "r1"), ("bob", "r1"), ("cy", "r2")):
            await tabs[nick].eval(JOIN % (q(nick), q(room)))
            await tabs[nick].eval(WAIT_LOG % q("* %s joined %s" % (nick, room)))
        await tabs["ann"].eval(WAIT_LOG % q("* bob joined r1"))

    async def say():
        await tabs["ann"].eval(SAY % q(text))
        for nick in ("bob", "ann"):
            await tabs[nick].eval(WAIT_LOG % q("ann: " + text))

    async def rooms():
        await tabs["cy"].eval(SAY % q("only r2"))
        await tabs["cy"].eval(WAIT_LOG % q("cy: only r2"))
        for nick, other in (("cy", "ann"), ("cy", "bob"), ("ann", "cy"), ("bob", "cy")):
            log = await tabs[nick].eval("document.getElementById('log').textContent")
            if other in log:
                raise RuntimeError("%s's log shows %s: %r" % (nick, other, log))

    async def leave():
        await tabs["bob"].close()
        await tabs["ann"].eval(WAIT_LOG % q("* bob left"))

    for step in (page, connect, join, say, rooms, leave):
        name = "browser-chat-" + step.__name__
        try:
            await asyncio.wait_for(step(), PAGE_TIMEOUT)
        except Exception as e:
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e), flush=True)
            return
        print("OK " + name, flush=True)


async def devtools_url(profile, proc):
    """Chromium writes its DevTools port and path to DevToolsActivePort."""
    path = os.path.join(profile, "DevToolsActivePort")
    while True:  # bounded by the caller's wait_for
        if proc.poll() is not None:
            raise RuntimeError("chromium exited with %d" % proc.returncode)
        try:
            with open(path) as f:
                port, ws_path = f.read().split()[:2]
            return "ws://127.0.0.1:%s%s" % (port, ws_path)
        except (OSError, ValueError):
            await asyncio.sleep(0.05)


async def with_chromium(chromium, what, body):
    """Run await body(ws) against headless Chromium's DevTools websocket,
    on a fresh profile. An error, in the start or in body, is printed as "FAIL what: ..." with Chromium's last
    stderr lines; Chromium is stopped and its profile removed either way
    (it stays in our process group, so the caller's timeout(1) reaches it
    too if this script is killed)."""
    profile = tempfile.mkdtemp(prefix="wsx-chromium-")
    log = open(os.path.join(profile, "stderr.log"), "w+")
    proc = subprocess.Popen([chromium, "--user-data-dir=" + profile] + FLAGS,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        url = await asyncio.wait_for(devtools_url(profile, proc), 15)
        async with websockets.connect(url, max_size=None, ping_interval=None) as ws:
            await body(ws)
    except Exception as e:
        log.seek(0)
        tail = " | ".join(log.read().splitlines()[-3:])
        print("FAIL %s: %s: %s (chromium: %s)" % (what, type(e).__name__, e, tail),
              flush=True)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(profile, ignore_errors=True)


async def main(chromium, urls):
    await with_chromium(chromium, "browser", lambda ws: run_pages(Cdp(ws), urls))


async def run_pages(cdp, urls):
    """Each page (or chat=URL pair) in turn, one OK/FAIL line each."""
    for page in urls:
        if page.startswith("chat="):
            await run_chat(cdp, page[len("chat="):])
            continue
        name = "browser-page-" + page.split("/")[-1].split(".")[0] + \
            ("-deflate" if "deflate=1" in page else "")
        try:
            out = await asyncio.wait_for(run_page(cdp, page), PAGE_TIMEOUT)
            print(out.rstrip("\n") or "FAIL %s: page reported nothing" % name,
                  flush=True)
        except asyncio.TimeoutError:
            print("FAIL %s: page did not finish in %d s" % (name, PAGE_TIMEOUT),
                  flush=True)
        except RuntimeError as e:
            print("FAIL %s: %s" % (name, e), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
