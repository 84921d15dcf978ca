"""py_server.py - a Python `websockets` server for testing the wsx client
(examples/wsx-cat); node_server.js keeps the same contract with Node `ws`.

The path picks the behaviour (any query string is ignored):
  /echo         echo every message, text as text, binary as binary
  /record       answer each message with "<text|binary> <length> <sha256>"
  /close/CODE   send "closing CODE", then close with CODE, "reason CODE"
  /proto        send "protocol=<agreed subprotocol>", then echo
  /header       send "x-wsx-test=<value of that request header>", then echo
  /ext          send "extensions=<agreed extension names>", then echo
  /ping         ping with "wsx-ping"; send "pong ok" once the matching pong
                arrives (RFC 6455 §5.5.3) or "pong missing" after 5 s; then
                close with 1000
Subprotocols "wsx.test.v1" and "chat" are accepted (the client's first one
it knows); permessage-deflate is accepted when offered (RFC 7692).
stdout: "listening PORT", then "closed PATH CODE" as each connection ends
(CODE as the client sent it, 1005 for none, 1006 for no close frame).
It exits at the end of its stdin, so it never outlives its driver.
"""
import asyncio
import hashlib
import sys

import websockets

PROTOCOLS = ["wsx.test.v1", "chat"]


def pick(client, server):
    return next((p for p in client if p in server), None)


async def echo(ws):
    async for m in ws:
        await ws.send(m)


async def handler(ws, path):
    route = path.split("?")[0]
    try:
        if route == "/record":
            async for m in ws:
                data = m.encode() if isinstance(m, str) else m
                await ws.send("%s %d %s" % ("text" if isinstance(m, str) else "binary",
                                            len(data), hashlib.sha256(data).hexdigest()))
        elif route.startswith("/close/"):
            code = int(route[len("/close/"):])
            await ws.send("closing %d" % code)
            await ws.close(code, "reason %d" % code)
        elif route == "/proto":
            await ws.send("protocol=%s" % (ws.subprotocol or ""))
        elif route == "/header":
            await ws.send("x-wsx-test=%s" % ws.request_headers.get("X-Wsx-Test", ""))
        elif route == "/ext":
            await ws.send("extensions=%s" % ",".join(e.name for e in ws.extensions))
        elif route == "/ping":
            waiter = await ws.ping(b"wsx-ping")
            try:
                await asyncio.wait_for(waiter, 5)
                await ws.send("pong ok")
            except asyncio.TimeoutError:
                await ws.send("pong missing")
            await ws.close(1000, "done")
        await echo(ws)
    except websockets.ConnectionClosed:
        pass
    finally:
        await ws.wait_closed()
        code = ws.close_rcvd.code if ws.close_rcvd else 1006
        print("closed %s %d" % (path, code), flush=True)


async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, subprotocols=PROTOCOLS,
                                select_subprotocol=pick, max_size=None,
                                ping_interval=None, close_timeout=5) as server:
        print("listening %d" % server.sockets[0].getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)


if __name__ == "__main__":
    asyncio.run(main())
