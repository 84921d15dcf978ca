"""dashboard_driver.py - the dashboard page in headless Chromium, over the
DevTools protocol (tests/interop/browser_driver.py's Cdp and launcher):
the page must show devices, a rising message count and a latency figure
with no console error, the chat panel must carry a line from one tab to
another, and screenshots are written for people to look at. Prints
"OK name" / "FAIL name: detail" lines and one "FIGURES ..." line with what
the page showed.

usage: dashboard_driver.py CHROMIUM URL SHOT_1280x800.png SHOT_PHONE.png
"""
import asyncio
import base64
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from browser_driver import Cdp, with_chromium  # noqa: E402

STEP_TIMEOUT = 20  # seconds for one step
ERROR_EVENTS = ("Runtime.exceptionThrown", "Runtime.consoleAPICalled", "Log.entryAdded")


class RecordingCdp(Cdp):
    """Cdp that also keeps every error a page reports, per session."""

    def __init__(self, ws):
        self.errors = []
        super().__init__(ws)

    async def read(self):
        async for raw in self.ws:
            m = json.loads(raw)
            method, p = m.get("method"), m.get("params", {})
            if method == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                self.errors.append(d.get("exception", {}).get("description") or d.get("text"))
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                self.errors.append(" ".join(str(a.get("value", a.get("description")))
                                            for a in p.get("args", [])))
            elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                self.errors.append(p["entry"].get("text"))
            if "id" in m and m["id"] in self.pending:
                self.pending.pop(m["id"]).set_result(m)
            for w_method, session, fut in list(self.waits):
                if method == w_method and m.get("sessionId") == session and not fut.done():
                    fut.set_result(p)


class Page:
    def __init__(self, cdp):
        self.cdp = cdp

    async def open(self, url, width, height, mobile=False):
        cdp = self.cdp
        self.target = (await cdp.call("Target.createTarget", url="about:blank"))["targetId"]
        self.s = (await cdp.call("Target.attachToTarget", targetId=self.target,
                                 flatten=True))["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            await cdp.call(domain + ".enable", self.s)
        await cdp.call("Emulation.setDeviceMetricsOverride", self.s, width=width,
                       height=height, deviceScaleFactor=1, mobile=mobile)
        loaded = cdp.event("Page.loadEventFired", self.s)
        await cdp.call("Page.navigate", self.s, url=url)
        await loaded
        return self

    async def eval(self, expression):
        r = await self.cdp.call("Runtime.evaluate", self.s, expression=expression,
                                awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise RuntimeError(d.get("exception", {}).get("description") or d.get("text"))
        return r["result"].get("value")

    async def stats(self):
        return await self.eval("JSON.parse(JSON.stringify(window.dashboard))")

    async def until(self, cond, what, seconds=10):
        """Poll the page until the JS expression cond is true."""
        for _ in range(int(seconds * 10)):
            if await self.eval(cond):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError("no %s after %d s: %s" % (what, seconds, await self.stats()))

    async def screenshot(self, path):
        shot = await self.cdp.call("Page.captureScreenshot", self.s, format="png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))


async def run(cdp, url, shot, phone_shot):
    pages, figures = {}, {}

    async def live():
        pages["a"] = await Page(cdp).open(url, 1280, 800)
        a = pages["a"]
        await a.until("window.dashboard.connected && window.dashboard.devices > 0", "devices")
        await asyncio.sleep(3)  # let the rates and percentiles settle
        first = await a.stats()
        await asyncio.sleep(2)
        second = await a.stats()
        if not second["updates"] > first["updates"] > 0:
            raise RuntimeError("message count not rising: %s then %s"
                               % (first["updates"], second["updates"]))
        if second["p50"] is None or second["p95"] is None or second["p95"] < second["p50"]:
            raise RuntimeError("no latency figure: %s" % second)
        shown = await a.eval("document.getElementById('k-devices').textContent")
        if shown != str(second["devices"]):
            raise RuntimeError("devices card shows %r, state %r" % (shown, second["devices"]))
        if "binary batch" not in await a.eval("document.getElementById('transport').textContent"):
            raise RuntimeError("transport not shown")
        figures.update(second)

    async def chat():
        a = pages["a"]
        pages["b"] = b = await Page(cdp).open(url, 1280, 800)
        await b.until("window.dashboard.connected", "connection")
        await b.until("document.getElementById('chat-log').textContent.includes('you joined')",
                      "join")
        text = "cone on lane 7 \u2713 <b>ok</b>"
        await a.eval("document.getElementById('chat-text').value = %s;"
                     "document.getElementById('chat-form').requestSubmit(); true"
                     % json.dumps(text))
        for p in (b, a):
            await p.until("document.getElementById('chat-log').textContent.includes(%s)"
                          % json.dumps(text), "chat line")
        if await b.eval("document.querySelectorAll('#chat-log b').length"):
            raise RuntimeError("chat text was rendered as HTML")

    async def shots():
        await pages["a"].screenshot(shot)
        pages["p"] = p = await Page(cdp).open(url, 390, 844, mobile=True)
        await p.until("window.dashboard.devices > 0", "devices on a phone")
        await asyncio.sleep(1.5)
        wide = await p.eval("document.documentElement.scrollWidth")
        if wide > 390:
            raise RuntimeError("page is %d px wide on a 390 px phone" % wide)
        await p.screenshot(phone_shot)

    async def offline():
        # Closing the page's socket from outside must show the offline state
        # and the page must come back by itself.
        a = pages["a"]
        await a.eval("ws.close(); true")
        await a.until("document.getElementById('status').textContent === 'offline'", "offline")
        await a.until("window.dashboard.connected", "reconnect")

    async def no_errors():
        await asyncio.sleep(0.5)
        if cdp.errors:
            raise RuntimeError("; ".join(cdp.errors[:3]))

    for step in (live, chat, shots, offline, no_errors):
        name = "dashboard-" + step.__name__.replace("_", "-")
        try:
            await asyncio.wait_for(step(), STEP_TIMEOUT)
            print("OK " + name, flush=True)
        except Exception as e:
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e), flush=True)
            if step is live:
                return
    print("FIGURES devices=%d updates_per_s=%.0f frames_per_s=%.0f bytes_per_s=%.0f "
          "p50_ms=%.2f p95_ms=%.2f" % (figures["devices"], figures["updatesPerSec"],
                                       figures["framesPerSec"], figures["bytesPerSec"],
                                       figures["p50"], figures["p95"]), flush=True)


async def main(chromium, url, shot, phone_shot):
    await with_chromium(chromium, "dashboard-browser",
                        lambda ws: run(RecordingCdp(ws), url, shot, phone_shot))


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    asyncio.run(main(*sys.argv[1:]))
