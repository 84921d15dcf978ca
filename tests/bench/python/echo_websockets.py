#!/usr/bin/env python3
"""echo_websockets.py - the benchmark's reference: the same echo server as
lib/python/examples/echo_server.py, written with Python websockets.

    python3 tests/bench/python/echo_websockets.py --port 0
"""
import argparse
import asyncio
import signal

import websockets


async def echo(ws, path=None):
    async for message in ws:
        await ws.send(message)


async def main(args):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.cancel)
    async with websockets.serve(echo, args.host, args.port, max_size=None,
                                compression=None if args.no_deflate else "deflate") as server:
        print("listening on %s:%d" % (args.host, server.sockets[0].getsockname()[1]),
              flush=True)
        try:
            await stop
        except asyncio.CancelledError:
            pass


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=9001)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--no-deflate", action="store_true")
    asyncio.run(main(ap.parse_args()))
