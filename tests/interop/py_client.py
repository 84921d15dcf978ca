"""py_client.py - the Python `websockets` client against a wsx echo server
(examples/echo_server): echo of text, binary, empty and 1 MiB messages,
ping/pong (RFC 6455 §5.5.2-3), pipelining, fragmented sends (§5.4) and the
closing handshake with codes 1000 and 4001 (§5.5.1, §7.4).

usage: py_client.py LABEL PORT [DEFLATE_PORT]
Prints "OK LABEL-name" or "FAIL LABEL-name: detail" per case. DEFLATE_PORT,
an echo server offering permessage-deflate (RFC 7692), adds compressed
cases: large compressible and random messages, fragments, window and
context-takeover parameters.
"""
import asyncio
import os
import sys
import time

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

TIMEOUT = 5  # seconds per step; every await below is bounded by it
MIB = 1 << 20


def report(name, err):
    print(("OK %s" % name) if err is None else ("FAIL %s: %s" % (name, err)),
          flush=True)


def differ(want, got):
    """None when equal, else a short description of the first difference."""
    if type(want) is not type(got):
        return "sent %s, received %s" % (type(want).__name__, type(got).__name__)
    if want == got:
        return None
    n = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b),
             min(len(want), len(got)))
    return "sent %d bytes, received %d, first difference at %d" % (
        len(want), len(got), n)


def connect(port, deflate=False):
    """deflate: False, True (websockets' default offer) or an offer."""
    if isinstance(deflate, ClientPerMessageDeflateFactory):
        opts = {"compression": None, "extensions": [deflate]}
    else:
        opts = {"compression": "deflate" if deflate else None}
    return websockets.connect(
        "ws://127.0.0.1:%d/" % port, max_size=None, ping_interval=None,
        close_timeout=TIMEOUT, open_timeout=TIMEOUT, **opts)


async def echo(ws, msgs):
    for m in msgs:
        await asyncio.wait_for(ws.send(m), TIMEOUT)
    for i, m in enumerate(msgs):
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        err = differ(m, got)
        if err:
            return err if len(msgs) == 1 else "message %d: %s" % (i, err)
    return None


async def case_echo(port, msgs, deflate=False):
    async with connect(port, deflate) as ws:
        return await echo(ws, msgs)


async def case_ping(port, payload):
    async with connect(port) as ws:
        waiter = await asyncio.wait_for(ws.ping(payload), TIMEOUT)
        # websockets resolves the waiter only on a pong whose payload
        # matches the ping's (RFC 6455 §5.5.3).
        await asyncio.wait_for(waiter, TIMEOUT)
        return await echo(ws, ["after ping"])


async def case_fragmented(port, frags, deflate=False):
    async with connect(port, deflate) as ws:
        if deflate and not ws.extensions:
            return "permessage-deflate not agreed"
        await asyncio.wait_for(ws.send(frags), TIMEOUT)
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        return differ(frags[0][:0].join(frags), got)


async def case_close(port, code, reason):
    ws = await connect(port)
    t0 = time.monotonic()
    await asyncio.wait_for(ws.close(code, reason), 2 * TIMEOUT)
    took = time.monotonic() - t0
    if ws.close_code != code:
        return "sent close %d, server answered %s %r" % (
            code, ws.close_code, ws.close_reason)
    # RFC 6455 §7.1.1: the server closes the TCP connection first, so
    # websockets must not have had to wait for its close_timeout.
    if took > TIMEOUT / 2:
        return "closing handshake took %.1f s" % took
    return None


async def case_deflate(port, msgs, offer=True):
    """Echo over an agreed permessage-deflate; websockets itself rejects a
    response that breaks the offer's parameters (RFC 7692 §7.1)."""
    async with connect(port, offer) as ws:
        names = [e.name for e in ws.extensions]
        if "permessage-deflate" not in names:
            return "extension not agreed (response: %r)" % (
                ws.response_headers.get("Sec-WebSocket-Extensions"),)
        return await echo(ws, msgs)


async def run(name, coro):
    try:
        err = await asyncio.wait_for(coro, 4 * TIMEOUT)
    except asyncio.TimeoutError:
        err = "timed out"
    except Exception as e:  # any peer-side failure is this case's FAIL
        err = "%s: %s" % (type(e).__name__, e)
    report(name, err)


async def main():
    label, port = sys.argv[1], int(sys.argv[2])
    rnd = os.urandom(MIB)
    text = "".join(chr(0x61 + b % 26) for b in rnd[:MIB])
    cases = [
        ("text", case_echo(port, ["hello wsx"])),
        ("utf8", case_echo(port, ["h\u00e9llo \u2713 \U0001F600"])),
        ("binary", case_echo(port, [bytes(range(256))])),
        ("empty-text", case_echo(port, [""])),
        ("empty-binary", case_echo(port, [b""])),
        ("1mib-text", case_echo(port, [text])),
        ("1mib-binary", case_echo(port, [rnd])),
        ("pipelined-100",
         case_echo(port, ["msg %d" % i if i % 2 else b"bin %d" % i
                          for i in range(100)])),
        ("ping", case_ping(port, b"ping-42")),
        ("ping-empty", case_ping(port, b"")),
        ("fragmented-text",
         case_fragmented(port, ["frag", "", "ment\u00e9", "ed"])),
        ("fragmented-binary",
         case_fragmented(port, [b"\x00\x01", rnd[:70000], b"\xff"])),
        # Every browser offers permessage-deflate: a server without it must
        # decline the offer (RFC 6455 §9.1), one with it may agree.
        ("offer-deflate", case_echo(port, ["offer " * 100], True)),
        ("close-1000", case_close(port, 1000, "bye")),
        ("close-4001", case_close(port, 4001, "custom")),
    ]
    if len(sys.argv) > 3:
        dport = int(sys.argv[3])
        cases += [
            ("deflate-text", case_deflate(dport, ["hello " * 50])),
            ("deflate-1mib-compressible",
             case_deflate(dport, [text[:1024] * 1024])),
            ("deflate-1mib-random", case_deflate(dport, [rnd])),
            ("deflate-pipelined-100",
             case_deflate(dport, ["deflate %d " % i * (i + 1)
                                  for i in range(100)])),
            # Compressed across frames: RSV1 on the first only (RFC 7692 §6.1).
            ("deflate-fragmented",
             case_fragmented(dport, ["frag" * 500, text[:70000], "ment\u00e9"], True)),
            # Both windows 2^10 and no context takeover (RFC 7692 §7.1.1-2):
            # repeated messages must not refer back to earlier ones.
            ("deflate-params",
             case_deflate(dport, [text[:5000] * 4] * 10 + [rnd[:20000]],
                          ClientPerMessageDeflateFactory(
                              server_no_context_takeover=True,
                              client_no_context_takeover=True,
                              server_max_window_bits=10,
                              client_max_window_bits=10))),
        ]
    for name, coro in cases:
        await run("%s-%s" % (label, name), coro)


if __name__ == "__main__":
    print("websockets %s" % websockets.__version__, flush=True)
    asyncio.run(main())
