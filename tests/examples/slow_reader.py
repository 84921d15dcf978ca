"""slow_reader.py PORT PID - backpressure through a server that does not
read from a peer that does not read (examples/libuv_echo): 48 MiB sent in
64 KiB messages while nothing is read back must stall the sender with the
server's memory bounded; reading then brings every echo back, intact and
in order. Prints "OK name" / "FAIL name: detail" lines."""
import asyncio
import os
import sys

import websockets

SIZE, COUNT = 64 * 1024, 768  # 48 MiB in all
BOUND_KIB = 24 * 1024  # server RSS growth allowed while the peer stalls
# ASan keeps freed blocks in quarantine, so RSS says less there; LSan and
# the plain build's run check the memory itself.
if os.environ.get("WSX_SANITIZED"):
    BOUND_KIB *= 4


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def report(ok, name, detail=""):
    print(("OK %s" % name) if ok else ("FAIL %s: %s" % (name, detail)), flush=True)


async def main(port, pid):
    before = rss_kib(pid)
    async with websockets.connect("ws://127.0.0.1:%d/" % port, max_size=None,
                                  max_queue=1, read_limit=SIZE, write_limit=SIZE,
                                  compression=None) as ws:
        sent = 0

        async def send_all():
            nonlocal sent
            for i in range(COUNT):
                await ws.send(bytes([i % 251]) * SIZE)
                sent += 1
        sender = asyncio.ensure_future(send_all())
        await asyncio.sleep(3)  # the sender runs until TCP stops it
        grown = rss_kib(pid) - before
        report(sent < COUNT, "sender-stalled", "all %d messages went through" % COUNT)
        report(grown < BOUND_KIB, "server-memory-bounded",
               "server grew %d KiB while the peer did not read" % grown)
        got = 0
        for i in range(COUNT):
            m = await asyncio.wait_for(ws.recv(), 20)
            if len(m) != SIZE or m[0] != i % 251 or m[-1] != i % 251:
                break
            got += 1
        await sender
        report(got == COUNT, "all-echoes-in-order", "%d of %d echoes intact" % (got, COUNT))


asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
