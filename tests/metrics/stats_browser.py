"""stats_browser.py CHROMIUM PORT SHOT - examples/chat's /stats page in
headless Chromium while chat traffic flows (three members saying a line
every 20 ms): after a few reads of /metrics the page's charts hold non-zero
message rates and open connections (window.wsxStats, the values the
charts draw) and the canvases have ink; a screenshot goes to SHOT.
Prints OK/FAIL lines."""
import asyncio
import base64
import json
import os
import sys

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "interop"))
from browser_driver import Cdp, Tab, with_chromium  # noqa: E402

WAIT = """new Promise((resolve, reject) => {
  const t0 = Date.now();
  (function poll() {
    const s = window.wsxStats || {latest: {}};
    if (s.scrapes >= 5 && s.latest.rx > 0 && s.latest.tx > 0 && s.latest.open >= 3)
      resolve(s.latest);
    else if (Date.now() - t0 > 15000)
      reject(new Error('stats stay ' + JSON.stringify(s.latest) + ': ' +
                       document.getElementById('st').textContent));
    else setTimeout(poll, 100);
  })();
})"""
# Non-transparent pixels of a chart: its line was drawn.
INK = """(() => { const c = document.getElementById('c-rx');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n; })()"""


async def member(port, nick, stop):
    async with websockets.connect("ws://127.0.0.1:%d/chat" % port) as ws:
        await ws.send(json.dumps({"type": "join", "room": "stats", "nick": nick}))
        while not stop.is_set():
            await ws.send(json.dumps({"type": "say", "text": "hello from " + nick}))
            await asyncio.sleep(0.1)  # 10 lines a second: under chat's 20/s quota
            while True:  # drain what the room sent meanwhile
                try:
                    await asyncio.wait_for(ws.recv(), 0.001)
                except asyncio.TimeoutError:
                    break


async def run(cdp, port, shot):
    stop = asyncio.Event()
    members = [asyncio.create_task(member(port, n, stop)) for n in ("ann", "bob", "cy")]
    try:
        tab = await Tab(cdp).open("http://127.0.0.1:%d/stats" % port)
        latest = await tab.eval(WAIT)
        print("OK stats-page-values %s" % json.dumps(
            {k: round(v, 1) for k, v in latest.items()}), flush=True)
        ink = await tab.eval(INK)
        if ink > 0:
            print("OK stats-page-chart-drawn (%d pixels)" % ink, flush=True)
        else:
            print("FAIL stats-page-chart-drawn: the rx canvas is empty", flush=True)
        data = await cdp.call("Page.captureScreenshot", tab.session, format="png")
        with open(shot, "wb") as f:
            f.write(base64.b64decode(data["data"]))
        print("OK stats-page-screenshot %s" % shot, flush=True)
        await tab.close()
    except Exception as e:
        print("FAIL stats-page: %s: %s" % (type(e).__name__, e), flush=True)
    finally:
        stop.set()
        await asyncio.gather(*members, return_exceptions=True)


if __name__ == "__main__":
    chromium, port, shot = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    asyncio.run(with_chromium(chromium, "stats-page",
                              lambda ws: run(Cdp(ws), port, shot)))
