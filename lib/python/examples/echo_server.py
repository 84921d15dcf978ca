#!/usr/bin/env python3
"""echo_server.py - echo every message back, text as text, binary as binary,
on wsx's asyncio API: the Python binding's conformance and benchmark target.

    python3 lib/python/examples/echo_server.py --port 9001
Runs from the source tree after `make` (the package beside it is used) or
with wsx installed. SIGINT/SIGTERM stop it cleanly.
"""
import argparse
import asyncio
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import wsx  # noqa: E402


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main(args):
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.cancel)
    async with wsx.serve(echo, args.host, args.port, max_size=args.max_message,
                         compression=None if args.no_deflate else "deflate") as server:
        port = server.sockets[0].getsockname()[1]
        print("listening on %s:%d" % (args.host, port), flush=True)
        try:
            await stop
        except asyncio.CancelledError:
            pass


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=9001, help="0: any free port")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--max-message", type=int, default=None,
                    help="largest frame and message in bytes (default 16 MiB)")
    ap.add_argument("--no-deflate", action="store_true",
                    help="do not accept permessage-deflate")
    asyncio.run(main(ap.parse_args()))
