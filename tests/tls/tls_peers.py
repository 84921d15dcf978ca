"""tls_peers.py - Python peers for the wss:// suite (run-suite.sh).

  tls_peers.py client URL CAFILE   websockets client against a wsx wss://
                                   server: text, binary, 1 MiB, ping, close
                                   codes; prints "OK name" / "FAIL name: why"
  tls_peers.py server CERT KEY [CLIENT_CA]
                                   websockets wss:// echo server (requiring a
                                   client certificate when CLIENT_CA is
                                   given); prints "listening PORT", exits at
                                   the end of its stdin
  tls_peers.py raw PORT TIMEOUT    bytes that are not a TLS handshake sent to
                                   a wss:// port: each must be dropped, at
                                   once or (silent and slow peers) within the
                                   handshake TIMEOUT seconds plus a margin
"""
import asyncio
import os
import socket
import ssl
import sys
import time

import websockets


def report(name, ok, why=""):
    print("OK %s" % name if ok else "FAIL %s: %s" % (name, why), flush=True)


async def client(url, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    async with websockets.connect(url, ssl=ctx, max_size=None, compression=None) as ws:
        await ws.send("h\u00e9llo")
        got = await ws.recv()
        report("py-text", got == "h\u00e9llo", repr(got))
        data = os.urandom(1000)
        await ws.send(data)
        got = await ws.recv()
        report("py-binary", got == data, "%d bytes back" % len(got))
        big = os.urandom(1 << 20)
        await ws.send(big)
        got = await ws.recv()
        report("py-1MiB", got == big, "%d bytes back" % len(got))
        pong = await ws.ping(b"p1")
        await asyncio.wait_for(pong, 5)
        report("py-ping", True)
        await ws.close(4001, "bye")
        report("py-close-4001", ws.close_code == 4001, "code %s" % ws.close_code)
    async with websockets.connect(url, ssl=ctx) as ws:
        await ws.close()
        report("py-close-1000", ws.close_code == 1000, "code %s" % ws.close_code)


async def server(cert, key, client_ca):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.load_verify_locations(client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED

    async def echo(ws, *_):
        async for m in ws:
            await ws.send(m)

    async with websockets.serve(echo, "127.0.0.1", 0, ssl=ctx) as srv:
        print("listening %d" % srv.sockets[0].getsockname()[1], flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


def dropped_within(port, send, seconds):
    """Connect, send (bytes, or a callable given the socket), and say
    whether the server closed within `seconds`, and how long it took."""
    start = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(0.2)
    try:
        deadline = start + seconds
        pending = send if isinstance(send, bytes) else b""
        step = None if isinstance(send, bytes) else send
        while time.monotonic() < deadline:
            try:
                if pending:
                    s.sendall(pending)
                    pending = b""
                elif step:
                    step(s)
                if s.recv(4096) == b"":
                    return True, time.monotonic() - start
            except socket.timeout:
                continue
            except OSError:
                return True, time.monotonic() - start
        return False, seconds
    finally:
        s.close()


def raw(port, timeout):
    http = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"
    ok, t = dropped_within(port, http, 3)
    report("plain-http-to-tls-port", ok, "still open after %.1f s" % t)
    ok, t = dropped_within(port, os.urandom(64) + b"\x00" * 64, 3)
    report("garbage-instead-of-hello", ok, "still open after %.1f s" % t)
    # The deadline, not the 5 s a closed connection may linger to send
    # its last bytes.
    ok, t = dropped_within(port, b"", timeout + 3)
    report("silent-peer-dropped", ok and t > timeout - 1,
           "closed after %.1f s (handshake timeout %d s)" % (t, timeout))
    # A handshake record of 512 bytes announced, then a byte every half
    # second: it never completes, and must not hold the socket open.
    drip = iter(bytes.fromhex("1603010200") + b"\x01" * 512)

    def one_byte(s):
        s.send(bytes([next(drip)]))
        time.sleep(0.3)

    ok, t = dropped_within(port, one_byte, timeout + 3)
    report("slowloris-hello-dropped", ok and t > timeout - 1,
           "closed after %.1f s (handshake timeout %d s)" % (t, timeout))


def main():
    mode = sys.argv[1]
    if mode == "client":
        try:
            asyncio.run(client(sys.argv[2], sys.argv[3]))
        except Exception as e:  # one failure line instead of a traceback
            report("py-client", False, "%s: %s" % (type(e).__name__, e))
    elif mode == "server":
        asyncio.run(server(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None))
    else:
        raw(int(sys.argv[2]), int(sys.argv[3]))


if __name__ == "__main__":
    main()
