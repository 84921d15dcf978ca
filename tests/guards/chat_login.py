"""chat_login.py CHROMIUM URL - the chat page of a server started with
--jwt-secret, in headless Chromium: the socket opened at load is refused
(no cookie yet), joining signs in through POST /login (an HttpOnly
cookie), reconnects and chats with a second tab; the cookie is invisible
to the page's script. Prints "OK name" / "FAIL name: why" lines."""
import asyncio
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from browser_driver import JOIN, SAY, WAIT_LOG, Cdp, Tab, with_chromium  # noqa: E402


async def steps(cdp, url):
    q = json.dumps
    tabs = {}

    async def refused():
        for nick in ("ann", "bob"):
            tabs[nick] = await Tab(cdp).open(url)
            await tabs[nick].eval(WAIT_LOG % q("disconnected (1006)"))
        log = await tabs["ann"].eval("document.getElementById('log').textContent")
        if "connected\n" in log.replace("disconnected", ""):
            raise RuntimeError("opened without a token: %r" % log)

    async def login_and_join():
        for nick in ("ann", "bob"):
            await tabs[nick].eval(JOIN % (q(nick), q("lobby")))
            await tabs[nick].eval(WAIT_LOG % q("* %s joined lobby" % nick))

    async def chat():
        await tabs["ann"].eval(SAY % q("hello bob"))
        await tabs["bob"].eval(WAIT_LOG % q("ann: hello bob"))

    async def cookie_hidden():
        c = await tabs["ann"].eval("document.cookie")
        if "token" in c:
            raise RuntimeError("the page's script sees the token: %r" % c)

    for step in (refused, login_and_join, chat, cookie_hidden):
        name = "browser-login-" + step.__name__
        try:
            await asyncio.wait_for(step(), 20)
        except Exception as e:
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e), flush=True)
            return
        print("OK " + name, flush=True)


async def main(chromium, url):
    await with_chromium(chromium, "browser-login", lambda ws: steps(Cdp(ws), url))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
