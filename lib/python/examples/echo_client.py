#!/usr/bin/env python3
"""echo_client.py URL [MESSAGE...] - send each message (default: one line
per line of stdin) and print the echo, on wsx's asyncio API.

    python3 lib/python/examples/echo_client.py ws://127.0.0.1:9001/ hello
Exit status 1 when the connection fails or an echo differs.
"""
import argparse
import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import wsx  # noqa: E402


async def main(args):
    messages = args.message or [line.rstrip("\n") for line in sys.stdin]
    async with wsx.connect(args.url,
                           compression=None if args.no_deflate else "deflate") as ws:
        for m in messages:
            await ws.send(m)
            echo = await ws.recv()
            print(echo, flush=True)
            if echo != m:
                print("echo differs", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url")
    ap.add_argument("message", nargs="*")
    ap.add_argument("--no-deflate", action="store_true",
                    help="do not offer permessage-deflate")
    try:
        sys.exit(asyncio.run(main(ap.parse_args())))
    except (OSError, wsx.InvalidHandshake, wsx.ConnectionClosed) as e:
        print("echo_client: %s" % e, file=sys.stderr)
        sys.exit(1)
