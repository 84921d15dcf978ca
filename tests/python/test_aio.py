"""test_aio.py - the asyncio layer against the C echo server, against
Python websockets in both directions (with and without permessage-deflate),
and against itself (subprotocols, headers, refusals, close codes, pings,
wss through Python's ssl)."""
import asyncio
import os
import shutil
import ssl
import subprocess
import tempfile

import websockets

import wsx
from util import BUILD, Child, Skip, free_port, wait_port

MESSAGES = ["", "hello", "é" * 1000, b"", b"\x00\xff" * 40000, "x" * 70000]


async def echo_roundtrips(ws):
    for m in MESSAGES:
        await ws.send(m)
        got = await ws.recv()
        assert got == m, (type(got), len(got), type(m), len(m))


def c_echo_server(*args):
    exe = os.path.join(BUILD, "examples", "echo_server")
    if not os.path.exists(exe):
        raise RuntimeError("%s not built (make)" % exe)
    port = free_port()
    child = Child([exe, "--host", "127.0.0.1", "--port", str(port)] + list(args))
    wait_port(port)
    return child, port


async def test_client_against_c_echo_server():
    for deflate_server in (True, False):
        child, port = c_echo_server(*([] if deflate_server else ["--no-deflate"]))
        try:
            for compression in ("deflate", None):
                async with wsx.connect("ws://127.0.0.1:%d/" % port,
                                       compression=compression) as ws:
                    ext = ws.response_headers.get("Sec-WebSocket-Extensions")
                    if deflate_server and compression:
                        assert ext and "permessage-deflate" in ext, ext
                    else:
                        assert ext is None, ext
                    await echo_roundtrips(ws)
                    await ws.close(4001, "bye")
                assert ws.close_code == 4001  # the C server echoes the code
        finally:
            child.close()


async def test_client_against_websockets_server():
    async def handler(ws, path):
        assert ws.request_headers["X-Client"] == "wsx"
        await ws.send("proto=%s path=%s" % (ws.subprotocol, path))
        async for m in ws:
            await ws.send(m)

    for compression in ("deflate", None):
        async with websockets.serve(handler, "127.0.0.1", 0, compression=compression,
                                    subprotocols=["chat", "v2"],
                                    extra_headers={"X-Server": "websockets"}) as srv:
            port = srv.sockets[0].getsockname()[1]
            async with wsx.connect("ws://127.0.0.1:%d/room?id=7" % port,
                                   compression=compression, subprotocols=["v2"],
                                   extra_headers={"X-Client": "wsx"}) as ws:
                assert ws.subprotocol == "v2"
                assert ws.response_headers["x-server"] == "websockets"
                assert (("permessage-deflate" in ws.response_headers.get(
                    "Sec-WebSocket-Extensions", "")) == bool(compression))
                assert await ws.recv() == "proto=v2 path=/room?id=7"
                await echo_roundtrips(ws)
                await ws.send(["frag", "men", "ted"])  # one message, 3 frames
                assert await ws.recv() == "fragmented"
                pong = await ws.ping(b"are you there")
                await asyncio.wait_for(pong, 5)
            assert ws.close_code == 1000


async def test_websockets_client_against_server():
    async def handler(ws):
        await ws.send("%s %s %s" % (ws.path, ws.subprotocol,
                                    ws.request_headers.get("X-Client")))
        async for m in ws:
            await ws.send(m)

    for compression in ("deflate", None):
        async with wsx.serve(handler, "127.0.0.1", 0, compression=compression,
                             subprotocols=["v1", "v2"],
                             extra_headers={"X-Server": "wsx"}) as server:
            port = server.sockets[0].getsockname()[1]
            async with websockets.connect("ws://127.0.0.1:%d/p?q=1" % port,
                                          compression=compression,
                                          subprotocols=["v2", "v1"],
                                          extra_headers={"X-Client": "ws"}) as ws:
                assert ws.response_headers["X-Server"] == "wsx"
                assert (("permessage-deflate" in ws.response_headers.get(
                    "Sec-WebSocket-Extensions", "")) == bool(compression))
                assert await ws.recv() == "/p?q=1 v1 ws"
                await echo_roundtrips(ws)
                await asyncio.wait_for(await ws.ping(b"x"), 5)
                await ws.close(3001, "done")
            assert ws.close_code == 3001


async def test_python_echo_server_example_with_echo_client():
    port = free_port()
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", ".."))
    ex = os.path.join(root, "lib", "python", "examples")
    env = dict(os.environ)
    with Child(["/usr/bin/python3", os.path.join(ex, "echo_server.py"), "--port",
                str(port)], ready=b"listening"):
        out = subprocess.run(["/usr/bin/python3", os.path.join(ex, "echo_client.py"),
                              "ws://127.0.0.1:%d/" % port, "one", "twö"],
                             capture_output=True, timeout=30, env=env)
        assert out.returncode == 0, out
        assert out.stdout.decode().split("\n")[:2] == ["one", "twö"], out
        # websockets' client against the example too.
        async with websockets.connect("ws://127.0.0.1:%d/" % port) as ws:
            await ws.send(b"\x01" * 100000)
            assert await ws.recv() == b"\x01" * 100000
    out = subprocess.run(["/usr/bin/python3", os.path.join(ex, "echo_client.py"),
                          "ws://127.0.0.1:%d/" % port, "x"], capture_output=True,
                         timeout=30)
    assert out.returncode == 1 and b"echo_client:" in out.stderr, out


async def test_refusal_close_codes_and_handler_errors():
    async def handler(ws):
        m = await ws.recv()
        if m == "raise":
            raise ValueError("handler bug")
        if m == "close":
            await ws.close(4321, "as asked")
            return
        await ws.send(m)

    def process_request(path, headers):
        if path == "/bug":
            raise KeyError("process_request bug")
        return 401 if path == "/secret" else None

    async with wsx.serve(handler, "127.0.0.1", 0, process_request=process_request) as server:
        url = "ws://127.0.0.1:%d/" % server.sockets[0].getsockname()[1]
        try:
            await wsx.connect(url + "secret")
        except wsx.InvalidHandshake:
            pass
        else:
            raise AssertionError("refused handshake accepted")
        # An exception inside wsx's handshake callback: answered with 500,
        # logged, and the server goes on serving.
        try:
            await wsx.connect(url + "bug")
        except wsx.InvalidHandshake:
            pass
        else:
            raise AssertionError("handshake accepted after process_request raised")
        ws = await wsx.connect(url)
        await ws.send("raise")
        try:
            await ws.recv()
        except wsx.ConnectionClosedError as e:
            assert e.code == 1011
        else:
            raise AssertionError("no 1011")
        ws = await wsx.connect(url)
        await ws.send("close")
        try:
            await ws.recv()
        except wsx.ConnectionClosedError as e:
            assert (e.code, e.reason) == (4321, "as asked")
        async with wsx.connect(url) as ws:
            await ws.send("once")
            assert [m async for m in ws] == ["once"]  # handler returned: 1000
        assert ws.close_code == 1000
        try:
            await ws.send("after")
        except wsx.ConnectionClosedOK:
            pass
        else:
            raise AssertionError("send after close accepted")


async def test_non_websocket_request_gets_426():
    async with wsx.serve(lambda ws: None, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await asyncio.wait_for(r.read(), 10)
        w.close()
        assert head.startswith(b"HTTP/1.1 426"), head


async def test_wss_through_python_ssl():
    if not shutil.which("openssl"):
        raise Skip("no openssl command to make a certificate")
    with tempfile.TemporaryDirectory() as d:
        cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "1", "-subj",
                        "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                       check=True, capture_output=True)
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(cert, key)
        cctx = ssl.create_default_context(cafile=cert)

        async def handler(ws):
            async for m in ws:
                await ws.send(m)
        async with wsx.serve(handler, "127.0.0.1", 0, ssl=sctx) as server:
            port = server.sockets[0].getsockname()[1]
            async with wsx.connect("wss://localhost:%d/" % port, ssl=cctx) as ws:
                await echo_roundtrips(ws)
            try:
                await wsx.connect("wss://localhost:%d/" % port)  # untrusted cert
            except ssl.SSLCertVerificationError:
                pass
            else:
                raise AssertionError("self-signed certificate accepted")
