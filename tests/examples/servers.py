"""servers.py - the peers wsx-cat is tested against, on free ports of
127.0.0.1. Prints "ports WS RAW" once both listen, then serves until its
stdin closes.

WS (Python websockets, which answers a Close at once):
  /echo50     echoes each message 50 ms later
  /slow       echoes each message 1.5 s later, then closes with 1000
  /hello      sends "hello" on open, then echoes
RAW (a hand-written server, for what websockets will not do):
  /late       echoes; on the client's Close sends "late", then its Close
  /status/N   refuses the upgrade with HTTP status N
"""
import asyncio
import base64
import hashlib
import re
import struct
import sys

import websockets

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


async def ws_handler(ws, path):
    delay = {"/echo50": 0.05, "/slow": 1.5}.get(path, 0)
    if path == "/hello":
        await ws.send("hello")
    async for msg in ws:
        await asyncio.sleep(delay)
        await ws.send(msg)
        if path == "/slow":
            await ws.close(1000)


def frame(opcode, payload):
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


async def read_frame(reader):
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    key = await reader.readexactly(4) if b1 & 0x80 else b"\0\0\0\0"
    data = bytes(c ^ key[i % 4] for i, c in enumerate(await reader.readexactly(n)))
    return b0 & 0x0F, data


async def raw_handler(reader, writer):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        path = head.split(b" ")[1].decode()
        m = re.match(r"/status/(\d+)$", path)
        if m:
            writer.write(b"HTTP/1.1 %s Refused\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n" % m.group(1).encode())
            return
        key = re.search(rb"(?i)\r\nsec-websocket-key:\s*(\S+)", head).group(1)
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        while True:
            op, data = await read_frame(reader)
            if op in (1, 2):
                writer.write(frame(op, data))
            elif op == 8:
                # RFC 6455 §5.5.1: data may still flow until our Close.
                if path == "/late":
                    writer.write(frame(1, b"late"))
                writer.write(frame(8, data[:2]))
                await writer.drain()
                return
    except (asyncio.IncompleteReadError, ConnectionError, AttributeError, IndexError):
        pass
    finally:
        writer.close()


async def main():
    ws = await websockets.serve(ws_handler, "127.0.0.1", 0, compression=None)
    raw = await asyncio.start_server(raw_handler, "127.0.0.1", 0)
    print("ports %d %d" % (ws.sockets[0].getsockname()[1], raw.sockets[0].getsockname()[1]),
          flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: stdin_closed.done() or
                    (not sys.stdin.buffer.read1(4096) and stdin_closed.set_result(None)))
    await stdin_closed


asyncio.run(main())
