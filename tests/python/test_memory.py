"""test_memory.py - connections are freed when closed or collected, with no
reference cycles: 10,000 sans-I/O connections (half of them dropped in the
middle of a message, never closed) and asyncio connections through real
sockets, with the cyclic collector off; tracemalloc bounds Python's
memory, VmRSS the C library's."""
import asyncio
import gc
import tracemalloc
import weakref

import wsx
from util import frame, request


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one_connection(i, refs):
    s = wsx.Connection(wsx.SERVER, compression="deflate" if i % 3 == 0 else None)
    refs.append(weakref.ref(s))
    s.receive_data(request(extra="Sec-WebSocket-Extensions: permessage-deflate\r\n"))
    s.data_to_send()
    s.events_received()
    s.receive_data(frame(2, b"x" * 3000))
    s.send_binary(b"y" * 3000)
    s.data_to_send()
    if i % 2:
        s.receive_data(frame(1, b"half a message", fin=False))  # dropped mid-message
        return
    s.receive_data(frame(8, b"\x03\xe8"))
    s.data_to_send()
    assert s.done


def run_many(n, refs):
    for i in range(n):
        one_connection(i, refs)


def test_10000_sansio_connections_freed_without_gc():
    refs = []
    gc.collect()
    gc.disable()
    try:
        run_many(500, refs)  # warm-up: allocator pools, caches
        rss0 = rss_kib()
        tracemalloc.start()
        snap0 = tracemalloc.get_traced_memory()[0]
        run_many(10000, refs)
        grown = tracemalloc.get_traced_memory()[0] - snap0
        tracemalloc.stop()
        alive = sum(1 for r in refs if r() is not None)
        rss = rss_kib() - rss0
    finally:
        gc.enable()
    assert alive == 0, "%d connections still alive without the cyclic gc" % alive
    # refs itself holds 10,000 weakrefs (~1 MB); the connections nothing.
    assert grown < 2_000_000, grown
    # Each connection owned tens of KiB in C (buffers, a deflate window for
    # a third of them): a leak of even one buffer each would show here.
    assert rss < 16 * 1024, "RSS grew by %d KiB" % rss


async def test_asyncio_connections_freed_without_gc():
    server_side = []

    async def handler(ws):
        server_side.append(weakref.ref(ws))
        async for m in ws:
            await ws.send(m)

    client_side = []
    gc.collect()
    gc.disable()
    try:
        async with wsx.serve(handler, "127.0.0.1", 0) as server:
            url = "ws://127.0.0.1:%d/" % server.sockets[0].getsockname()[1]

            async def client(i):
                ws = await wsx.connect(url, compression="deflate" if i % 2 else None)
                client_side.append(weakref.ref(ws))
                await ws.send("hello %d" % i)
                assert await ws.recv() == "hello %d" % i
                if i % 4 == 3:
                    ws.transport.abort()  # vanish without a close frame
                    await ws.wait_closed()
                else:
                    await ws.close()

            for batch in range(10):
                await asyncio.gather(*(client(batch * 50 + i) for i in range(50)))
            for _ in range(50):
                if len(server._conns) == 0:
                    break
                await asyncio.sleep(0.05)
        for _ in range(3):
            await asyncio.sleep(0)
        alive = [r() for r in server_side + client_side if r() is not None]
    finally:
        gc.enable()
    assert len(server_side) == 500 and len(client_side) == 500
    assert not alive, "%d WebSocket objects alive, e.g. %r referred by %r" % (
        len(alive), alive[0], [type(x) for x in gc.get_referrers(alive[0])])
