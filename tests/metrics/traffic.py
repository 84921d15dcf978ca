"""traffic.py PORT - known traffic against examples/echo_server on
127.0.0.1:PORT, for the exact counts run-suite.sh expects:
  5 connections (Python websockets), each: 20 text messages of 10 bytes
  and 10 binary ones of 7 bytes, every echo awaited, one ping; then they
  close with 1000, 1000, 1000, 4001 and 1001;
  1 raw connection that sends an unmasked frame (the server fails it with
  1002);
  3 upgrades with Sec-WebSocket-Version 12 (426) and 2 without a key (400).
Prints "OK traffic" or "FAIL traffic: why"."""
import asyncio
import socket
import sys

import websockets

HEAD = ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\n%s\r\n")
KEY = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"


def raw(port, request, then=b""):
    """Send request (and then, once answered), return what came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request.encode())
        got = s.recv(4096)
        if then:
            s.sendall(then)
            while True:
                more = s.recv(4096)
                if not more:
                    break
                got += more
        return got


async def client(port, code):
    async with websockets.connect("ws://127.0.0.1:%d/" % port) as ws:
        for i in range(20):
            await ws.send("text-%04d" % i + "!")
            assert await ws.recv() == "text-%04d!" % i
        for i in range(10):
            await ws.send(bytes([i]) * 7)
            assert await ws.recv() == bytes([i]) * 7
        await (await ws.ping())
        await ws.close(code)


async def main(port):
    await asyncio.gather(*(client(port, c) for c in (1000, 1000, 1000, 4001, 1001)))
    # RFC 6455 §5.1: a server MUST close on an unmasked client frame.
    got = raw(port, HEAD % (KEY + "Sec-WebSocket-Version: 13\r\n"), b"\x81\x02hi")
    assert b" 101 " in got and b"\x88\x02\x03\xea" in got, got
    for _ in range(3):
        got = raw(port, HEAD % (KEY + "Sec-WebSocket-Version: 12\r\n"))
        assert got.startswith(b"HTTP/1.1 426"), got
    for _ in range(2):
        got = raw(port, HEAD % "Sec-WebSocket-Version: 13\r\n")
        assert got.startswith(b"HTTP/1.1 400"), got


if __name__ == "__main__":
    try:
        asyncio.run(asyncio.wait_for(main(int(sys.argv[1])), 30))
        print("OK traffic")
    except Exception as e:
        print("FAIL traffic: %s: %s" % (type(e).__name__, e))
