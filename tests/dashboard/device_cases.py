"""device_cases.py - the dashboard's /device endpoint against bad input:
each case connects as a device, sends one message and checks the close
code documented in examples/dashboard/telemetry.h (1007 for a malformed
sample, 1003 for text), and that a valid sample keeps the device online.
Prints "OK name" or "FAIL name: detail" per case.

usage: device_cases.py PORT
"""
import asyncio
import struct
import sys
import time

import websockets
import websockets.exceptions

PORT = sys.argv[1]
# A refused handshake: InvalidStatusCode in websockets 10 (Debian 12),
# InvalidStatus in later versions.
INVALID_STATUS = tuple(getattr(websockets.exceptions, n) for n in
                       ("InvalidStatusCode", "InvalidStatus")
                       if hasattr(websockets.exceptions, n))


def sample(version=1, flags=0, reserved=0, dev=7, x=10.0, y=20.0, speed=3.0, temp=60.0):
    return struct.pack("<BBHIQffff", version, flags, reserved, dev,
                       int(time.time() * 1e6), x, y, speed, temp)


async def close_code(msg):
    """Send msg as a device; the close code the server answers with."""
    async with websockets.connect("ws://127.0.0.1:%s/device" % PORT) as ws:
        await ws.send(msg)
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed as e:
            return e.rcvd.code if e.rcvd else None, e.rcvd.reason if e.rcvd else ""
        return None, "still open"


async def stays_open():
    async with websockets.connect("ws://127.0.0.1:%s/device" % PORT) as ws:
        for _ in range(3):
            await ws.send(sample(flags=1))
        pong = await ws.ping()
        await asyncio.wait_for(pong, 5)
        return ws.close_code is None


async def main():
    cases = [
        ("short", sample()[:31], 1007),
        ("long", sample() + b"\0", 1007),
        ("version", sample(version=2), 1007),
        ("flags", sample(flags=4), 1007),
        ("reserved", sample(reserved=1), 1007),
        ("id-range", sample(dev=100000), 1007),
        ("nan", sample(x=float("nan")), 1007),
        ("speed-range", sample(speed=-1.0), 1007),
        ("text", "hello", 1003),
    ]
    for name, msg, want in cases:
        name = "device-malformed-" + name
        try:
            code, reason = await close_code(msg)
            if code == want and reason:
                print("OK %s (%d %s)" % (name, code, reason), flush=True)
            else:
                print("FAIL %s: close %r %r, want %d" % (name, code, reason, want), flush=True)
        except Exception as e:
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e), flush=True)
    try:
        print(("OK " if await stays_open() else "FAIL ") + "device-valid-stays-open", flush=True)
    except Exception as e:
        print("FAIL device-valid-stays-open: %s: %s" % (type(e).__name__, e), flush=True)
    try:
        await websockets.connect("ws://127.0.0.1:%s/nowhere" % PORT)
        print("FAIL device-unknown-path: accepted", flush=True)
    except INVALID_STATUS as e:
        code = e.status_code if hasattr(e, "status_code") else e.response.status_code
        print(("OK" if code == 404 else "FAIL") + " device-unknown-path (%d)" % code, flush=True)
    except Exception as e:
        print("FAIL device-unknown-path: %s: %s" % (type(e).__name__, e), flush=True)


asyncio.run(main())
