#!/usr/bin/env python3
"""RFC 6455 conformance driver for wsx, in the spirit of the Autobahn TestSuite.

Client mode (default) drives examples/echo_server over raw TCP, one case per
connection, with frames it may break on purpose (RFC 6455 §4-§8). --server
mode plays a broken server to examples/wsx-cat (the client role). --tls-ca
(with --tls-cert/--tls-key in server mode) runs every case over TLS (wss://).
Every case
names the outcome the RFC requires; each prints OK, NON-STRICT (allowed by the
RFC, not the best behaviour) or FAILED, and the run ends with
"N passed, M failed". Standard library only.
"""
import argparse
import base64
import hashlib
import os
import select
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
OPNAME = {CONT: "continuation", TEXT: "text", BINARY: "binary", CLOSE: "close",
          PING: "ping", PONG: "pong"}
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MIB = 1 << 20
# RFC 6455 §7.4.1/§7.4.2 and the IANA registry: codes an endpoint may send.
SENDABLE_CODES = set(range(1000, 1004)) | set(range(1007, 1015)) | set(range(3000, 5000))


# --tls-ca and friends: the contexts every connection is wrapped with.
TLS_CLIENT = None
TLS_SERVER = None
TLS_CA = None


class Failed(Exception):
    """The case outcome contradicts the RFC."""


class Timeout(Exception):
    """Nothing arrived before the deadline."""


# --------------------------------------------------------------------------
# Frame codec (RFC 6455 §5.2, §5.3)

def xor_mask(data, key):
    n = len(data)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def frame(op, payload=b"", fin=True, rsv=0, mask=True, length=None, form=None):
    """One frame; `length` lies about the payload size, `form` forces the
    7/16/64-bit length encoding (non-minimal encodings on purpose)."""
    n = len(payload) if length is None else length
    form = form or (7 if n < 126 else 16 if n < 65536 else 64)
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    m = 0x80 if mask else 0
    if form == 7:
        head = struct.pack("!BB", b0, m | n)
    elif form == 16:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + xor_mask(payload, key)


def fragments(op, data, size, mask=True):
    """A message as frames of at most `size` payload bytes (at least one)."""
    pieces = [data[i:i + size] for i in range(0, len(data), size)] or [b""]
    out = []
    for i, piece in enumerate(pieces):
        out.append(frame(op if i == 0 else CONT, piece, fin=i == len(pieces) - 1, mask=mask))
    return b"".join(out)


def close_payload(code, reason=b""):
    return b"" if code is None else struct.pack("!H", code) + reason


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def show(ev):
    kind = ev[0]
    if kind == "msg":
        return "%s message of %d bytes" % (OPNAME[ev[1]], len(ev[2]))
    if kind == "pong":
        return "pong of %d bytes" % len(ev[1])
    if kind == "close":
        return "close frame (code %s)" % ev[1]
    return "TCP close"


class Head:
    """An HTTP/1.1 request or response head (RFC 9112 §2-§5)."""

    def __init__(self, raw):
        lines = raw.decode("latin-1").split("\r\n")
        self.start = lines[0]
        parts = self.start.split(" ", 2)
        self.status = int(parts[1]) if parts[0].startswith("HTTP/") and len(parts) > 1 \
            and parts[1].isdigit() else 0
        self.headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                self.headers.setdefault(name.strip().lower(), []).append(value.strip())

    def get(self, name):
        v = self.headers.get(name)
        return ", ".join(v) if v else None

    def has_token(self, name, token):
        v = self.get(name)
        return v is not None and token in [t.strip().lower() for t in v.split(",")]


# --------------------------------------------------------------------------
# A raw WebSocket endpoint over one TCP connection

class Peer:
    """Sends anything, chopped as asked; reads and checks what the other side
    sends. peer_masks: the other side is a client and must mask (§5.1)."""

    def __init__(self, ctx, sock, peer_masks=False):
        self.ctx = ctx
        self.s = sock
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s.setblocking(False)
        self.peer_masks = peer_masks
        self.rx = bytearray()
        self.pos = 0
        self.eof = False
        self.wclosed = False
        self.frag = None
        self.keys = []

    # -- transport
    def _select(self, want_write, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout()
        # Over TLS, decrypted bytes may wait inside the SSL object, where
        # select cannot see them.
        held = not self.eof and isinstance(self.s, ssl.SSLSocket) and self.s.pending()
        r, w, _ = select.select([] if self.eof else [self.s],
                                [self.s] if want_write else [], [], 0 if held else left)
        if r or held:
            try:
                d = self.s.recv(MIB)
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                d = None
            except OSError:
                d = b""
            if d == b"":
                self.eof = True
            elif d:
                self.rx += d
        return bool(w)

    def write(self, data, chop=0, delay=0.0, hold_reads=False):
        """Write all of data, in writes of `chop` bytes with `delay` seconds
        between them, reading meanwhile so neither side can deadlock. A peer
        that went away just ends the write (the expectations see why).
        hold_reads: do not read while writing, unless writing stalls for a
        second (a server may pause reading while its output is blocked)."""
        step = chop or max(len(data), 1)
        for i in range(0, max(len(data), 1), step):
            mv = memoryview(data)[i:i + step]
            while len(mv) and not self.wclosed:
                if hold_reads:
                    _, w, _ = select.select([], [self.s], [], 1.0)
                    hold_reads = bool(w)
                    if not w:
                        continue
                elif not self._select(True, self.ctx.deadline):
                    continue
                try:
                    n = self.s.send(mv)
                except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    continue
                except OSError:
                    self.wclosed = True
                    break
                mv = mv[n:]
            if delay and i + step < len(data):
                time.sleep(delay)

    def read_head(self):
        """The HTTP head (up to CRLFCRLF); None if the connection closed first.
        Bytes after the head stay queued for the frame reader."""
        while True:
            end = self.rx.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(self.rx[:end + 4])
                del self.rx[:end + 4]
                return Head(head)
            if self.eof:
                return None
            self._select(False, self.ctx.deadline)

    def wait_eof(self, seconds):
        """True when the other side closes TCP within `seconds` (data ignored)."""
        deadline = min(self.ctx.deadline, time.monotonic() + seconds)
        try:
            while not self.eof:
                self._select(False, deadline)
                del self.rx[:]
        except Timeout:
            return False
        return True

    # -- frames
    def _parse(self):
        buf, p = self.rx, self.pos
        if len(buf) - p < 2:
            return None
        b0, b1 = buf[p], buf[p + 1]
        n, off = b1 & 0x7F, 2
        if n == 126:
            if len(buf) - p < 4:
                return None
            n, off = struct.unpack_from("!H", buf, p + 2)[0], 4
            minimal = n >= 126
        elif n == 127:
            if len(buf) - p < 10:
                return None
            n, off = struct.unpack_from("!Q", buf, p + 2)[0], 10
            minimal = n > 0xFFFF
            if n >> 63:
                raise Failed("peer sent a 64-bit length with the top bit set (§5.2)")
        else:
            minimal = True
        masked = bool(b1 & 0x80)
        fin, rsv, op = bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF
        # Check the header before waiting for the payload: a bad header
        # must be reported even if the payload never comes.
        who = "client" if self.peer_masks else "server"
        if masked != self.peer_masks:
            raise Failed("%s frame %s (§5.1: clients mask every frame, servers never)"
                         % (who, "masked" if masked else "not masked"))
        if rsv:
            raise Failed("%s set RSV bits 0x%x with no extension (§5.2)" % (who, rsv))
        if op not in OPNAME:
            raise Failed("%s used reserved opcode 0x%x (§5.2)" % (who, op))
        if op >= 8 and (not fin or n > 125):
            raise Failed("%s sent a %s control frame (§5.5)"
                         % (who, "fragmented" if not fin else "%d-byte" % n))
        if not minimal:
            raise Failed("%s used a non-minimal length encoding (§5.2)" % who)
        if n > 64 * MIB:
            raise Failed("%s announced a %d-byte frame" % (who, n))
        if masked:
            if len(buf) - p < off + 4:
                return None
            key = bytes(buf[p + off:p + off + 4])
            off += 4
        if len(buf) - p < off + n:
            return None
        payload = bytes(buf[p + off:p + off + n])
        if masked:
            self.keys.append(key)
            payload = xor_mask(payload, key)
        self.pos = p + off + n
        if self.pos > MIB and self.pos * 2 > len(buf):
            del buf[:self.pos]
            self.pos = 0
        return fin, op, payload

    def next_frame(self, deadline):
        while True:
            f = self._parse()
            if f is not None:
                return f
            if self.eof:
                if len(self.rx) > self.pos:
                    raise Failed("connection closed inside a frame")
                return None
            self._select(False, deadline)

    def next_event(self, timeout=None):
        """The next event; an echo client's echoes are set aside (its
        "stdout"): the client-role cases wait for anything but those."""
        while True:
            ev = self._next_event(timeout)
            if ev[0] != "msg" or not getattr(self.ctx, "echo", False):
                return ev
            self.ctx.echoed.append((ev[1], ev[2]))

    def _next_event(self, timeout=None):
        """One of ("msg", op, data), ("pong", data), ("close", code, reason),
        ("eof",). Pings from the other side are answered and skipped."""
        deadline = self.ctx.deadline
        if timeout is not None:
            deadline = min(deadline, time.monotonic() + timeout)
        while True:
            f = self.next_frame(deadline)
            if f is None:
                return ("eof",)
            fin, op, payload = f
            if op in (TEXT, BINARY):
                if self.frag is not None:
                    raise Failed("new %s frame inside a fragmented message (§5.4)" % OPNAME[op])
                if fin:
                    return self._message(op, payload)
                self.frag = (op, bytearray(payload))
            elif op == CONT:
                if self.frag is None:
                    raise Failed("continuation frame with no message started (§5.4)")
                self.frag[1].extend(payload)
                if fin:
                    mop, data = self.frag
                    self.frag = None
                    return self._message(mop, bytes(data))
            elif op == PING:
                self.write(frame(PONG, payload, mask=not self.peer_masks))
            elif op == PONG:
                return ("pong", payload)
            else:
                return self._close_event(payload)

    def _message(self, op, data):
        if op == TEXT:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                raise Failed("peer sent a text message that is not UTF-8 (§8.1)")
        return ("msg", op, data)

    def _close_event(self, payload):
        if len(payload) == 1:
            raise Failed("peer sent a close frame with a 1-byte payload (§5.5.1)")
        if not payload:
            return ("close", None, b"")
        code = struct.unpack("!H", payload[:2])[0]
        if code not in SENDABLE_CODES:
            raise Failed("peer sent close code %d, which no endpoint may send (§7.4)" % code)
        try:
            payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise Failed("peer sent a close reason that is not UTF-8 (§5.5.1)")
        return ("close", code, payload[2:])

    def event(self, what, timeout=None):
        try:
            return self.next_event(timeout)
        except Timeout:
            raise Failed("timeout waiting for %s" % what)

    # -- expectations
    def expect_msg(self, op, data):
        ev = self.event("the echo")
        if ev[0] != "msg":
            raise Failed("expected the echo (%s, %d bytes), got %s" % (OPNAME[op], len(data), show(ev)))
        if ev[1] != op:
            raise Failed("echo is %s, sent %s" % (OPNAME[ev[1]], OPNAME[op]))
        if ev[2] != data:
            got = ev[2]
            i = next((k for k in range(min(len(got), len(data))) if got[k] != data[k]),
                     min(len(got), len(data)))
            raise Failed("echo differs: %d bytes back for %d sent, first difference at byte %d"
                         % (len(got), len(data), i))

    def expect_pong(self, data):
        ev = self.event("a pong")
        if ev[0] != "pong":
            raise Failed("expected a pong, got %s" % show(ev))
        if ev[1] != data:
            raise Failed("pong payload %r differs from the ping's %r" % (ev[1][:20], data[:20]))

    def expect_fail(self, codes, nonstrict=(), timeout=None, echoes=()):
        """The other side must fail the connection with a close code in
        `codes` (codes in `nonstrict` are tolerated); a TCP close with no
        close frame is allowed (§7.1.7) but NON-STRICT. `echoes` are the
        messages sent before the bad frame: their echoes come first, though
        failing at once may drop them (NON-STRICT, as in Autobahn 3.2)."""
        want = "/".join(str(c) for c in codes)
        for op, data in echoes:
            ev = self.event("the echo of the message before the bad frame")
            if ev[0] != "msg":
                self.ctx.note("%s before the echo of the earlier message" % show(ev))
                break
            if (ev[1], ev[2]) != (op, data):
                raise Failed("echo differs from the message sent before the bad frame")
        else:
            ev = self.next_event(timeout) if timeout else self.event("close %s" % want)
        if ev[0] == "eof":
            self.ctx.note("TCP closed with no close frame (best: close %s)" % want)
            return
        if ev[0] != "close":
            raise Failed("expected close %s, got %s" % (want, show(ev)))
        # §7.1.7: the endpoint "SHOULD send a Close frame with an appropriate
        # status code"; none at all is allowed, a wrong one misinforms.
        if ev[1] is None:
            self.ctx.note("close frame without a code (best: %s)" % want)
        elif ev[1] in nonstrict:
            self.ctx.note("close %s (best: %s)" % (ev[1], want))
        elif ev[1] not in codes:
            raise Failed("close code %s, expected %s" % (ev[1], want))
        self.finish_close(ev[1])

    def finish_close(self, code):
        """The other side sent its close: answer it and see TCP end (§5.5.1,
        §7.1.1: the server closes TCP first)."""
        self.write(frame(CLOSE, close_payload(code), mask=not self.peer_masks))
        if self.peer_masks:
            self.s.close()
            self.eof = True
            return
        self.expect_eof()

    def expect_eof(self):
        ev = self.event("the server to close TCP after the close handshake (§5.5.1)")
        if ev[0] != "eof":
            raise Failed("%s after the close handshake (§5.5.1)" % show(ev))

    def close_clean(self, code=1000, reason=b""):
        """Start the close handshake; the reply echoes the code or says
        1000 (§5.5.1), then the server closes TCP (§7.1.1)."""
        self.write(frame(CLOSE, close_payload(code, reason), mask=not self.peer_masks))
        ev = self.event("the close reply")
        if ev[0] != "close":
            raise Failed("expected the close reply, got %s" % show(ev))
        if code is None and ev[1] not in (None, 1000):
            raise Failed("close reply code %s to a close without code" % ev[1])
        if code is not None and ev[1] not in (code, 1000):
            if ev[1] is not None:
                raise Failed("close reply code %s to close %d" % (ev[1], code))
            self.ctx.note("close reply carries no code (best: echo %d)" % code)
        if self.peer_masks:
            self.s.close()
            self.eof = True
        else:
            self.expect_eof()


class Ctx:
    """Per-case state: deadline, NON-STRICT notes, sockets to clean up."""

    def __init__(self, ports, timeout):
        self.ports = ports
        self.deadline = time.monotonic() + timeout
        self.notes = []
        self.socks = []

    def note(self, text):
        self.notes.append(text)

    def raw(self, port="main"):
        left = max(self.deadline - time.monotonic(), 0.1)
        s = socket.create_connection(("127.0.0.1", self.ports[port]), timeout=min(left, 3))
        self.socks.append(s)
        if TLS_CLIENT:
            s = TLS_CLIENT.wrap_socket(s, server_hostname="127.0.0.1")
            self.socks.append(s)
        return Peer(self, s)

    def open(self, port="main"):
        """Connect and complete a valid opening handshake (§4.1, §4.2.2)."""
        p = self.raw(port)
        key = base64.b64encode(os.urandom(16))
        p.write(request(key, self.ports[port]))
        resp = p.read_head()
        check_101(resp, key)
        return p

    def close_all(self):
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass


def request(key, port, extra=b"", line=b"GET / HTTP/1.1", drop=()):
    hdrs = [(b"Host", b"127.0.0.1:%d" % port), (b"Upgrade", b"websocket"),
            (b"Connection", b"Upgrade"), (b"Sec-WebSocket-Key", key),
            (b"Sec-WebSocket-Version", b"13")]
    out = [line] + [n + b": " + v for n, v in hdrs if n.lower() not in drop]
    return b"\r\n".join(out) + b"\r\n" + extra + b"\r\n"


def check_101(resp, key, protocol=None):
    """RFC 6455 §4.1 (client side checks of the server's handshake)."""
    if resp is None:
        raise Failed("handshake: connection closed with no response")
    if resp.status != 101 or not resp.start.startswith("HTTP/1.1 101"):
        raise Failed("handshake: %r, expected HTTP/1.1 101" % resp.start)
    if not resp.has_token("upgrade", "websocket"):
        raise Failed("handshake: 101 without Upgrade: websocket")
    if not resp.has_token("connection", "upgrade"):
        raise Failed("handshake: 101 without Connection: Upgrade")
    if resp.get("sec-websocket-accept") != accept_key(key).decode():
        raise Failed("handshake: Sec-WebSocket-Accept %r, expected %r"
                     % (resp.get("sec-websocket-accept"), accept_key(key).decode()))
    if resp.get("sec-websocket-extensions") is not None:
        raise Failed("handshake: extension %r accepted though none was offered"
                     % resp.get("sec-websocket-extensions"))
    if resp.get("sec-websocket-protocol") != protocol:
        raise Failed("handshake: Sec-WebSocket-Protocol %r, expected %r"
                     % (resp.get("sec-websocket-protocol"), protocol))


# --------------------------------------------------------------------------
# Case table

class Case:
    def __init__(self, cid, desc, fn, timeout=3.0, port="main", background=False):
        self.cid, self.desc, self.fn = cid, desc, fn
        self.timeout, self.port, self.background = timeout, port, background


CASES = []


def add(cid, desc, fn, timeout=3.0, port="main", background=False):
    CASES.append(Case(cid, desc, fn, timeout, port, background))


def text_of(n):
    base = bytes(range(0x20, 0x7F))
    return (base * (n // len(base) + 1))[:n]


def data_of(op, n):
    return text_of(n) if op == TEXT else os.urandom(n)


def sized(op, n):
    """A payload made when the case runs, so the table holds no big buffers."""
    return lambda: data_of(op, n)


def chop_delay(n, chop):
    """Small delays between writes, as long as they stay cheap."""
    return 0.001 if chop and n // chop <= 200 else 0.0


def echo_case(op, data, chop=0, frag=0, port="main"):
    def fn(ctx):
        payload = data() if callable(data) else data
        p = ctx.open(port)
        wire = fragments(op, payload, frag) if frag else frame(op, payload)
        p.write(wire, chop, chop_delay(len(wire), chop))
        p.expect_msg(op, payload)
        p.close_clean()
    return fn


def fail_case(wire, codes, nonstrict=(), before=(), chop=0, echoes=()):
    """Send `before` messages, then `wire`: the server echoes `before` and
    the messages in `echoes` (complete inside `wire`), then fails the
    connection with one of `codes`."""
    def fn(ctx):
        p = ctx.open()
        pre = b"".join(frame(op, d) for op, d in before)
        p.write(pre + wire, chop, chop_delay(len(pre + wire), chop))
        p.expect_fail(codes, nonstrict, echoes=list(before) + list(echoes))
    return fn


def either_case(wire, good):
    """Input the RFC lets a receiver accept or refuse: the `good` event, or
    a clean 1002 failure; anything else fails."""
    def fn(ctx):
        p = ctx.open()
        p.write(wire)
        ev = p.event("%s or close 1002" % good[0])
        if ev == good:
            p.close_clean()
        elif ev[0] == "close" and ev[1] == 1002:
            p.finish_close(1002)
        elif ev[0] != "eof":
            raise Failed("expected %s or close 1002, got %s" % (good[0], show(ev)))
    return fn


def steps_case(steps, expect):
    """steps: (bytes, chop, delay_after) written in order; expect: list of
    ("msg", op, data) / ("pong", data) / ("fail", codes), then a clean close
    unless the last is a failure."""
    def fn(ctx):
        p = ctx.open()
        for wire, chop, pause in steps:
            p.write(wire, chop, chop_delay(len(wire), chop))
            if pause:
                time.sleep(pause)
        for e in expect:
            if e[0] == "msg":
                p.expect_msg(e[1], e[2])
            elif e[0] == "pong":
                p.expect_pong(e[1])
            elif e[0] == "fail":
                p.expect_fail(e[1])
        if expect[-1][0] != "fail":
            p.close_clean()
    return fn


def section1():
    lengths = [0, 125, 126, 127, 128, 65535, 65536, 16 * MIB]
    for sub, op in ((1, TEXT), (2, BINARY)):
        for i, n in enumerate(lengths, 1):
            add("1.%d.%d" % (sub, i), "%s, %d bytes, one write" % (OPNAME[op], n),
                echo_case(op, sized(op, n)), 30 if n > MIB else 5)
    for sub, op in ((3, TEXT), (4, BINARY)):
        for i, n in enumerate(lengths, 1):
            add("1.%d.%d" % (sub, i), "%s, %d bytes, in 997-byte writes" % (OPNAME[op], n),
                echo_case(op, sized(op, n), chop=997), 30 if n > MIB else 5)
    i = 0
    for op in (TEXT, BINARY):
        for n in (0, 1, 125, 126, 127, 128):
            i += 1
            add("1.5.%d" % i, "%s, %d bytes, 1-byte writes" % (OPNAME[op], n),
                echo_case(op, data_of(op, n), chop=1))
    # §5.1: "The server MUST close the connection upon receiving a frame that
    # is not masked ... a server MAY send a Close frame with 1002".
    add("1.6.1", "unmasked text frame -> 1002", fail_case(frame(TEXT, b"hello", mask=False), [1002]))
    add("1.6.2", "valid text, then an unmasked binary frame -> echo, 1002",
        fail_case(frame(BINARY, b"\x01\x02", mask=False), [1002], before=[(TEXT, b"first")]))
    add("1.6.3", "unmasked ping -> 1002 (no pong)", fail_case(frame(PING, b"p", mask=False), [1002]))
    add("1.6.4", "unmasked close -> 1002", fail_case(frame(CLOSE, close_payload(1000), mask=False), [1002]))
    # §5.2: minimal length encoding is a sender MUST; a receiver may accept.
    add("1.7.1", "5-byte text with a 16-bit length (non-minimal) -> echo or 1002",
        either_case(frame(TEXT, b"Hello", form=16), ("msg", TEXT, b"Hello")))
    add("1.7.2", "5-byte binary with a 64-bit length (non-minimal) -> echo or 1002",
        either_case(frame(BINARY, b"Hello", form=64), ("msg", BINARY, b"Hello")))


def section2():
    add("2.1", "ping, empty -> pong, empty", steps_case([(frame(PING), 0, 0)], [("pong", b"")]))
    add("2.2", "ping 'Hello, world!' -> same pong",
        steps_case([(frame(PING, b"Hello, world!"), 0, 0)], [("pong", b"Hello, world!")]))
    binary = bytes([0x00, 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0x00, 0xFF])
    add("2.3", "ping with binary payload -> same pong",
        steps_case([(frame(PING, binary), 0, 0)], [("pong", binary)]))
    p125 = bytes(range(125))
    add("2.4", "ping, 125 bytes -> same pong", steps_case([(frame(PING, p125), 0, 0)], [("pong", p125)]))
    # §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    add("2.5", "ping, 126 bytes -> 1002", fail_case(frame(PING, bytes(126)), [1002]))
    add("2.6", "ping, 125 bytes, 1-byte writes -> same pong",
        steps_case([(frame(PING, p125), 1, 0)], [("pong", p125)]))
    # §5.5.3: "A response to an unsolicited Pong frame is not expected."
    add("2.7", "unsolicited pong, empty -> ignored",
        steps_case([(frame(PONG) + frame(TEXT, b"after"), 0, 0)], [("msg", TEXT, b"after")]))
    add("2.8", "unsolicited pong with payload -> ignored",
        steps_case([(frame(PONG, b"unsolicited"), 0, 0), (frame(TEXT, b"after"), 0, 0)],
                   [("msg", TEXT, b"after")]))
    add("2.9", "unsolicited pong, then ping -> pong for the ping only",
        steps_case([(frame(PONG, b"unsolicited") + frame(PING, b"ping-2.9"), 0, 0)],
                   [("pong", b"ping-2.9")]))
    pings = [b"payload-%d" % i for i in range(10)]
    # §5.5.3 lets an endpoint answer only the latest of several pings: all
    # ten pongs are best, fewer is NON-STRICT.
    for cid, chop in (("2.10", 0), ("2.11", 1)):
        def ten(ctx, chop=chop):
            p = ctx.open()
            p.write(b"".join(frame(PING, x) for x in pings) + frame(TEXT, b"barrier"),
                    chop, 0.001 if chop else 0)
            got = []
            while True:
                ev = p.event("pongs and the barrier echo")
                if ev[0] == "pong":
                    got.append(ev[1])
                elif ev[0] == "msg" and ev[2] == b"barrier":
                    break
                else:
                    raise Failed("expected pongs, got %s" % show(ev))
            if got != pings:
                if not got or got[-1] != pings[-1] or \
                        any(g not in pings for g in got) or got != sorted(got, key=pings.index):
                    raise Failed("pongs %r do not answer the 10 pings in order" % got)
                ctx.note("%d pongs for 10 pings (§5.5.3 allows it)" % len(got))
            p.close_clean()
        add(cid, "10 pings%s -> 10 pongs in order" % (" in 1-byte writes" if chop else ""), ten)
    # §5.5: "Control frames themselves MUST NOT be fragmented."
    add("2.12", "ping with FIN=0 -> 1002",
        fail_case(frame(PING, b"frag", fin=False) + frame(CONT, b"ment"), [1002]))
    add("2.13", "ping of 5 bytes with a 16-bit length (non-minimal) -> pong or 1002",
        either_case(frame(PING, b"Hello", form=16), ("pong", b"Hello")))


def section3():
    # §5.2: "If a nonzero value is received and none of the negotiated
    # extensions defines the meaning of such a nonzero value, the receiving
    # endpoint MUST _Fail the WebSocket Connection_."
    add("3.1", "text with RSV1 -> 1002", fail_case(frame(TEXT, b"Hello", rsv=4), [1002]))
    add("3.2", "text, then text with RSV2, then ping -> echo, 1002, no pong",
        fail_case(frame(TEXT, b"Hello", rsv=2) + frame(PING), [1002], before=[(TEXT, b"Hello")]))
    add("3.3", "as 3.2, in 1-byte writes",
        fail_case(frame(TEXT, b"Hello", rsv=2) + frame(PING), [1002], before=[(TEXT, b"Hello")],
                  chop=1))
    add("3.4", "text, then text with RSV3 (bits 1+2), then ping -> echo, 1002",
        fail_case(frame(TEXT, b"Hello", rsv=6) + frame(PING), [1002], before=[(TEXT, b"Hello")]))
    add("3.5", "binary with RSV1+RSV3 -> 1002", fail_case(frame(BINARY, b"\xff\x00", rsv=5), [1002]))
    add("3.6", "ping with RSV2+RSV3 -> 1002, no pong", fail_case(frame(PING, b"Hello", rsv=3), [1002]))
    add("3.7", "close with all RSV bits -> 1002", fail_case(frame(CLOSE, close_payload(1000), rsv=7), [1002]))
    add("3.8", "continuation with RSV1 inside a fragmented text -> 1002",
        fail_case(frame(TEXT, b"frag", fin=False) + frame(CONT, b"ment", rsv=4), [1002]))
    add("3.9", "pong with RSV3 -> 1002", fail_case(frame(PONG, b"", rsv=1), [1002]))
    add("3.10", "binary with RSV2 after a valid binary echo -> echo, 1002",
        fail_case(frame(BINARY, b"\x00", rsv=2), [1002], before=[(BINARY, b"\x01\x02\x03")]))


def section4():
    # §5.2: reserved opcodes; "If an unknown opcode is received, the
    # receiving endpoint MUST _Fail the WebSocket Connection_."
    for i, op in enumerate((3, 4, 5, 6, 7), 1):
        add("4.1.%d" % i, "reserved data opcode 0x%x -> 1002" % op,
            fail_case(frame(op, b"reserved" if i % 2 else b""), [1002]))
        add("4.3.%d" % i, "text echo, then opcode 0x%x, then ping -> echo, 1002, no pong" % op,
            fail_case(frame(op, b"x") + frame(PING), [1002], before=[(TEXT, b"Hello")]))
    for i, op in enumerate((0xB, 0xC, 0xD, 0xE, 0xF), 1):
        add("4.2.%d" % i, "reserved control opcode 0x%x -> 1002" % op,
            fail_case(frame(op, b"reserved" if i % 2 else b""), [1002]))
        add("4.4.%d" % i, "text echo, then opcode 0x%x, then ping -> echo, 1002, no pong" % op,
            fail_case(frame(op) + frame(PING), [1002], before=[(TEXT, b"Hello")]))
    add("4.5.1", "reserved opcode 0x3 inside a fragmented text -> 1002",
        fail_case(frame(TEXT, b"frag", fin=False) + frame(3, b"x") + frame(CONT, b"ment"), [1002]))


def section5():
    t1, t2 = b"fragment1", b"fragment2"
    two = frame(TEXT, t1, fin=False) + frame(CONT, t2)
    both = t1 + t2
    add("5.1", "ping in 2 fragments -> 1002",
        fail_case(frame(PING, t1, fin=False) + frame(CONT, t2), [1002]))
    add("5.2", "pong in 2 fragments -> 1002",
        fail_case(frame(PONG, t1, fin=False) + frame(CONT, t2), [1002]))
    add("5.3", "text in 2 fragments -> echo", steps_case([(two, 0, 0)], [("msg", TEXT, both)]))
    add("5.4", "text in 2 fragments, one write each",
        steps_case([(frame(TEXT, t1, fin=False), 0, 0.05), (frame(CONT, t2), 0, 0)],
                   [("msg", TEXT, both)]))
    add("5.5", "text in 2 fragments, 1-byte writes", steps_case([(two, 1, 0)], [("msg", TEXT, both)]))
    ping_mid = frame(TEXT, t1, fin=False) + frame(PING, b"pongme!") + frame(CONT, t2)
    # §5.4: "An endpoint MUST be capable of handling control frames in the
    # middle of a fragmented message"; §5.5.2: pong "as soon as is practical".
    add("5.6", "text in 2 fragments, ping between -> pong, then echo",
        steps_case([(ping_mid, 0, 0)], [("pong", b"pongme!"), ("msg", TEXT, both)]))
    add("5.7", "as 5.6, one write per frame",
        steps_case([(frame(TEXT, t1, fin=False), 0, 0.05), (frame(PING, b"pongme!"), 0, 0.05),
                    (frame(CONT, t2), 0, 0)], [("pong", b"pongme!"), ("msg", TEXT, both)]))
    add("5.8", "as 5.6, 1-byte writes",
        steps_case([(ping_mid, 1, 0)], [("pong", b"pongme!"), ("msg", TEXT, both)]))
    # §5.4: a continuation frame belongs to a message that was started.
    for base, fin in ((9, True), (12, False)):
        wire = frame(CONT, b"non-continuation payload", fin=fin) + frame(TEXT, b"Hello, world!")
        for k, (chop, how) in enumerate(((0, "one write"), (-1, "one write per frame"),
                                         (1, "1-byte writes"))):
            if chop == -1:
                f = steps_case([(frame(CONT, b"non-continuation payload", fin=fin), 0, 0.05),
                                (frame(TEXT, b"Hello, world!"), 0, 0)], [("fail", [1002])])
            else:
                f = fail_case(wire, [1002], chop=chop)
            add("5.%d" % (base + k), "continuation FIN=%d with nothing to continue, %s -> 1002"
                % (fin, how), f)
    add("5.15", "text frag, cont FIN=1, cont FIN=0, text FIN=1 -> echo, 1002",
        fail_case(two + frame(CONT, b"fragment3", fin=False) + frame(TEXT, b"fragment4"), [1002],
                  echoes=[(TEXT, both)]))
    add("5.16", "(cont FIN=0, text FIN=0, cont FIN=1) x2 -> 1002",
        fail_case((frame(CONT, t1, fin=False) + two) * 2, [1002]))
    add("5.17", "(cont FIN=1, text FIN=0, cont FIN=1) x2 -> 1002",
        fail_case((frame(CONT, t1) + two) * 2, [1002]))
    add("5.18", "text FIN=0, then a new text FIN=1 -> 1002",
        fail_case(frame(TEXT, t1, fin=False) + frame(TEXT, t2), [1002]))
    parts = [b"fragment%d" % i for i in range(1, 6)]
    seq = [frame(TEXT, parts[0], fin=False), frame(CONT, parts[1], fin=False), frame(PING, b"pongme 1!"),
           frame(CONT, parts[2], fin=False), frame(CONT, parts[3], fin=False), frame(PING, b"pongme 2!"),
           frame(CONT, parts[4])]
    expect = [("pong", b"pongme 1!"), ("pong", b"pongme 2!"), ("msg", TEXT, b"".join(parts))]
    add("5.19", "text in 5 fragments, 2 pings between, with pauses -> 2 pongs, echo",
        steps_case([(w, 0, 0.1 if i in (2, 5) else 0) for i, w in enumerate(seq)], expect))
    add("5.20", "as 5.19, 1-byte writes", steps_case([(w, 1, 0) for w in seq], expect))
    many = text_of(10000)
    add("5.21", "10000-byte text in 1000 fragments -> echo", echo_case(TEXT, many, frag=10))
    add("5.22", "200-byte text in 1-byte fragments -> echo", echo_case(TEXT, text_of(200), frag=1))
    blob = os.urandom(4096)
    add("5.23", "binary in 7-byte fragments -> echo", echo_case(BINARY, blob, frag=7))
    add("5.24", "text of 3 empty fragments -> empty echo",
        steps_case([(frame(TEXT, b"", fin=False) + frame(CONT, b"", fin=False) + frame(CONT, b""), 0, 0)],
                   [("msg", TEXT, b"")]))
    add("5.25", "text FIN=0 empty, cont 'middle', cont FIN=1 empty -> echo 'middle'",
        steps_case([(frame(TEXT, b"", fin=False) + frame(CONT, b"middle", fin=False) + frame(CONT, b""), 0, 0)],
                   [("msg", TEXT, b"middle")]))
    add("5.26", "binary FIN=0 inside a fragmented text -> 1002",
        fail_case(frame(TEXT, t1, fin=False) + frame(BINARY, t2) + frame(CONT, b"x"), [1002]))
    add("5.27", "ping FIN=0 inside a fragmented text -> 1002",
        fail_case(frame(TEXT, t1, fin=False) + frame(PING, b"p", fin=False) + frame(CONT, t2), [1002]))
    add("5.28", "pong between fragments -> ignored, echo",
        steps_case([(frame(TEXT, t1, fin=False) + frame(PONG, b"x") + frame(CONT, t2), 0, 0)],
                   [("msg", TEXT, both)]))
    add("5.29", "binary in 2 fragments, then text -> both echoed in order",
        steps_case([(frame(BINARY, b"\x01", fin=False) + frame(CONT, b"\x02") + frame(TEXT, b"next"), 0, 0)],
                   [("msg", BINARY, b"\x01\x02"), ("msg", TEXT, b"next")]))


KUHN_VALID = [
    ("kosme", b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"),
    ("U+0000", b"\x00"), ("U+0080", b"\xc2\x80"), ("U+0800", b"\xe0\xa0\x80"),
    ("U+10000", b"\xf0\x90\x80\x80"), ("U+007F", b"\x7f"), ("U+07FF", b"\xdf\xbf"),
    ("U+FFFF", b"\xef\xbf\xbf"), ("U+10FFFF", b"\xf4\x8f\xbf\xbf"), ("U+D7FF", b"\xed\x9f\xbf"),
    ("U+E000", b"\xee\x80\x80"), ("U+FFFD", b"\xef\xbf\xbd"), ("U+FFFE", b"\xef\xbf\xbe"),
    ("U+FDD0", b"\xef\xb7\x90"), ("U+1FFFE", b"\xf0\x9f\xbf\xbe"),
    ("mixed", "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!! \U0001d11e \u20ac".encode()),
]

KUHN_INVALID = [
    ("5-byte sequence", b"\xf8\x88\x80\x80\x80"), ("6-byte sequence", b"\xfc\x84\x80\x80\x80\x80"),
    ("F7 BF BF BF (U+1FFFFF)", b"\xf7\xbf\xbf\xbf"), ("FB BF BF BF BF", b"\xfb\xbf\xbf\xbf\xbf"),
    ("FD BF BF BF BF BF", b"\xfd\xbf\xbf\xbf\xbf\xbf"),
    ("lone 80", b"\x80"), ("lone BF", b"\xbf"), ("80 BF", b"\x80\xbf"), ("80 BF 80", b"\x80\xbf\x80"),
    ("all continuation bytes", bytes(range(0x80, 0xC0))),
    ("C0-DF each + space", bytes(b for c in range(0xC0, 0xE0) for b in (c, 0x20))),
    ("E0-EF each + space", bytes(b for c in range(0xE0, 0xF0) for b in (c, 0x20))),
    ("F0-F7 each + space", bytes(b for c in range(0xF0, 0xF8) for b in (c, 0x20))),
    ("F8-FB each + space", bytes(b for c in range(0xF8, 0xFC) for b in (c, 0x20))),
    ("FC-FD each + space", bytes(b for c in range(0xFC, 0xFE) for b in (c, 0x20))),
    ("truncated C2", b"\xc2"), ("truncated E0 A0", b"\xe0\xa0"), ("truncated F0 90 80", b"\xf0\x90\x80"),
    ("truncated DF", b"\xdf"), ("truncated EF BF", b"\xef\xbf"), ("truncated F4 8F BF", b"\xf4\x8f\xbf"),
    ("all truncated, concatenated", b"\xc2\xe0\xa0\xf0\x90\x80\xdf\xef\xbf\xf4\x8f\xbf"),
    ("euro truncated at message end", b"abc\xe2\x82"),
    ("FE", b"\xfe"), ("FF", b"\xff"), ("FE FE FF FF", b"\xfe\xfe\xff\xff"),
    ("overlong / C0 AF", b"\xc0\xaf"), ("overlong / E0 80 AF", b"\xe0\x80\xaf"),
    ("overlong / F0 80 80 AF", b"\xf0\x80\x80\xaf"), ("overlong / F8 80 80 80 AF", b"\xf8\x80\x80\x80\xaf"),
    ("max overlong C1 BF", b"\xc1\xbf"), ("max overlong E0 9F BF", b"\xe0\x9f\xbf"),
    ("max overlong F0 8F BF BF", b"\xf0\x8f\xbf\xbf"),
    ("overlong NUL C0 80", b"\xc0\x80"), ("overlong NUL E0 80 80", b"\xe0\x80\x80"),
    ("overlong NUL F0 80 80 80", b"\xf0\x80\x80\x80"),
    ("surrogate ED A0 80", b"\xed\xa0\x80"), ("surrogate ED AD BF", b"\xed\xad\xbf"),
    ("surrogate ED AE 80", b"\xed\xae\x80"), ("surrogate ED AF BF", b"\xed\xaf\xbf"),
    ("surrogate ED B0 80", b"\xed\xb0\x80"), ("surrogate ED BE 80", b"\xed\xbe\x80"),
    ("surrogate ED BF BF", b"\xed\xbf\xbf"), ("surrogate pair ED A0 80 ED B0 80", b"\xed\xa0\x80\xed\xb0\x80"),
    ("surrogate pair ED AF BF ED BF BF", b"\xed\xaf\xbf\xed\xbf\xbf"),
    ("F4 90 80 80 (> U+10FFFF)", b"\xf4\x90\x80\x80"), ("F5 80 80 80", b"\xf5\x80\x80\x80"),
    ("F4 BF BF BF", b"\xf4\xbf\xbf\xbf"),
    ("kosme + ED A0 80 + edited", b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"),
]


def section6():
    # §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds
    # that the byte stream is not, in fact, a valid UTF-8 stream, that
    # endpoint MUST _Fail the WebSocket Connection_"; §7.4.1: code 1007.
    add("6.1.1", "empty text -> empty echo", echo_case(TEXT, b""))
    for i, (name, data) in enumerate(KUHN_VALID, 1):
        add("6.2.%d" % i, "valid UTF-8 %s -> echo" % name, echo_case(TEXT, data))
    for i, (name, data) in enumerate(KUHN_VALID[:1] + KUHN_VALID[-1:] + [KUHN_VALID[4]], 1):
        def splits(ctx, data=data):
            p = ctx.open()
            for k in range(1, len(data)):
                p.write(frame(TEXT, data[:k], fin=False) + frame(CONT, data[k:]))
                p.expect_msg(TEXT, data)
            p.close_clean()
        add("6.3.%d" % i, "valid UTF-8 %s in 2 fragments, split at every byte -> echoes" % name, splits)
        add("6.4.%d" % i, "valid UTF-8 %s in 1-byte fragments -> echo" % name,
            echo_case(TEXT, data, frag=1))
    for i, (name, data) in enumerate(KUHN_INVALID, 1):
        add("6.5.%d" % i, "invalid UTF-8 %s -> 1007" % name, fail_case(frame(TEXT, data), [1007]))
    for i, (name, data) in enumerate(KUHN_INVALID[-12:], 1):
        add("6.6.%d" % i, "invalid UTF-8 %s, 1-byte fragments -> 1007" % name,
            fail_case(fragments(TEXT, data, 1), [1007]))
    # An invalid sequence can be known invalid before the message ends: a
    # streaming validator fails at once (Autobahn 6.4; wsx DESIGN requires it).
    good, tail = "\u03ba\u1f79\u03c3\u03bc\u03b5".encode(), b"-edited"
    ff = [("F4 90 80 80", b"\xf4\x90\x80\x80"), ("ED A0 80", b"\xed\xa0\x80"), ("FF", b"\xff"),
          ("C0 AF", b"\xc0\xaf")]
    for i, (name, bad) in enumerate(ff, 1):
        def fast_frag(ctx, bad=bad):
            p = ctx.open()
            p.write(frame(TEXT, good, fin=False) + frame(CONT, bad + b"more", fin=False))
            try:
                p.expect_fail([1007], timeout=1.5)
            except Timeout:
                p.write(frame(CONT, tail))
                p.expect_fail([1007])
                raise Failed("1007 only after the final fragment: not fail-fast")
        add("6.7.%d" % i, "fragmented text, fragment 2 has %s, never finished -> 1007 at once"
            % name, fast_frag)

        def fast_chop(ctx, bad=bad):
            p = ctx.open()
            payload = good + bad + b"more" + tail
            wire = frame(TEXT, payload)
            cut = len(wire) - len(tail)
            p.write(wire[:cut])
            try:
                p.expect_fail([1007], timeout=1.5)
            except Timeout:
                p.write(wire[cut:])
                p.expect_fail([1007])
                ctx.note("1007 only once the frame was complete (best: fail fast within the frame)")
        add("6.8.%d" % i, "one text frame with %s, payload cut short -> 1007 before the rest"
            % name, fast_chop)
    add("6.9.1", "text ending with a truncated sequence in the final, empty fragment -> 1007",
        fail_case(frame(TEXT, b"abc\xe2\x82", fin=False) + frame(CONT, b""), [1007]))
    add("6.9.2", "surrogate split across fragments ED | A0 80 -> 1007",
        fail_case(frame(TEXT, b"a\xed", fin=False) + frame(CONT, b"\xa0\x80"), [1007]))
    add("6.9.3", "valid text, then invalid text -> echo, 1007",
        fail_case(frame(TEXT, b"\xc0\xaf"), [1007], before=[(TEXT, good)]))
    euro = "\u20ac".encode()
    add("6.9.5", "euro sign split across fragments with a ping between -> pong, echo",
        steps_case([(frame(TEXT, b"a" + euro[:1], fin=False) + frame(PING, b"p")
                     + frame(CONT, euro[1:2], fin=False) + frame(CONT, euro[2:] + b"z"), 0, 0)],
                   [("pong", b"p"), ("msg", TEXT, b"a" + euro + b"z")]))
    add("6.9.4", "binary with invalid UTF-8 bytes -> echo (no validation)",
        echo_case(BINARY, b"\xff\xfe\xc0\xaf\xed\xa0\x80"))


def section7():
    def then_after(extra):
        def fn(ctx):
            p = ctx.open()
            p.write(frame(CLOSE, close_payload(1000)) + extra)
            ev = p.event("the close reply")
            if ev[0] != "close":
                raise Failed("expected only the close reply, got %s" % show(ev))
            p.expect_eof()
        return fn
    add("7.1.1", "text echo, then close -> echo, close, TCP close",
        steps_case([(frame(TEXT, b"Hello World!"), 0, 0)], [("msg", TEXT, b"Hello World!")]))
    # §5.5.1: after a Close, "the endpoint MUST NOT send any more data frames";
    # data after the peer's Close is discarded.
    add("7.1.2", "close twice -> one close reply, TCP close",
        then_after(frame(CLOSE, close_payload(1000))))
    add("7.1.3", "close, then ping -> close reply only, no pong", then_after(frame(PING, b"late")))
    add("7.1.4", "close, then text -> close reply only, no echo", then_after(frame(TEXT, b"late")))
    add("7.1.5", "text FIN=0, close, continuation FIN=1 -> close reply only",
        lambda ctx: _close_mid_message(ctx))

    def big_then_close(ctx):
        p = ctx.open()
        big = text_of(256 * 1024)
        p.write(frame(TEXT, big) + frame(CLOSE, close_payload(1000)) + frame(PING))
        ev = p.event("the echo or the close reply")
        if ev[0] == "msg":
            if ev[2] != big:
                raise Failed("echo differs from the 256 KiB message")
            ev = p.event("the close reply")
        else:
            ctx.note("message before the close not echoed (allowed)")
        if ev[0] != "close" or ev[1] not in (1000, None):
            raise Failed("expected close 1000, got %s" % show(ev))
        p.expect_eof()
    add("7.1.6", "256 KiB text, close, ping in one write -> echo, close, no pong", big_then_close, 10)

    def timed_close(ctx):
        p = ctx.open()
        t0 = time.monotonic()
        p.close_clean()
        if time.monotonic() - t0 > 2.0:
            raise Failed("server took %.1f s to close TCP after the close handshake"
                         % (time.monotonic() - t0))
    add("7.2.1", "close handshake -> server closes TCP within 2 s (§7.1.1)", timed_close)
    add("7.3.1", "close with no payload -> close (empty or 1000), TCP close",
        lambda ctx: ctx.open().close_clean(None))
    add("7.3.2", "close with a 1-byte payload -> 1002", fail_case(frame(CLOSE, b"\x03"), [1002]))
    add("7.3.3", "close 1000 -> close 1000", lambda ctx: ctx.open().close_clean(1000))
    add("7.3.4", "close 1000 + 'Hello World!' -> close 1000",
        lambda ctx: ctx.open().close_clean(1000, b"Hello World!"))
    add("7.3.5", "close 1000 + 123-byte reason -> close 1000",
        lambda ctx: ctx.open().close_clean(1000, b"*" * 123))
    add("7.3.6", "close 1000 + 124-byte reason (126-byte payload) -> 1002",
        fail_case(frame(CLOSE, close_payload(1000, b"*" * 124)), [1002]))
    add("7.3.7", "close 1000 + multi-byte UTF-8 reason -> close 1000",
        lambda ctx: ctx.open().close_clean(1000, "\u00b5\u20ac\U0001d11e".encode()))
    # §7.1.6: the reason "MUST be valid UTF-8"; invalid data is 1007 (§7.4.1).
    add("7.5.1", "close 1000 with invalid UTF-8 reason -> 1007",
        fail_case(frame(CLOSE, close_payload(1000, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited")),
                  [1007], nonstrict=[1002]))
    add("7.5.2", "close 1000 with a truncated UTF-8 reason -> 1007",
        fail_case(frame(CLOSE, close_payload(1000, b"ok\xe2\x82")), [1007], nonstrict=[1002]))
    for i, code in enumerate([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                              3000, 3999, 4000, 4999], 1):
        add("7.7.%d" % i, "close with valid code %d -> close %d or 1000" % (code, code),
            lambda ctx, code=code: ctx.open().close_clean(code))
    # 1012-1014 are registered by IANA after RFC 6455: accepting them is best.
    for i, code in enumerate([1012, 1013, 1014], 1):
        def registered(ctx, code=code):
            p = ctx.open()
            p.write(frame(CLOSE, close_payload(code)))
            ev = p.event("the close reply")
            if ev[0] == "close" and ev[1] in (code, 1000, None):
                if ev[1] is None:
                    ctx.note("close reply carries no code")
                p.expect_eof()
            elif ev[0] == "close" and ev[1] == 1002:
                ctx.note("IANA-registered code %d refused with 1002" % code)
                p.finish_close(1002)
            else:
                raise Failed("expected close %d/1000, got %s" % (code, show(ev)))
        add("7.8.%d" % i, "close with IANA-registered code %d -> close %d or 1000" % (code, code),
            registered)
    # §7.4.1/§7.4.2: 0-999 unused, 1004-1006 and 1015 reserved (1005, 1006,
    # 1015 "MUST NOT be set as a status code in a Close control frame"),
    # 1016-2999 unassigned, above 4999 out of range: a protocol error.
    for i, code in enumerate([0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999], 1):
        add("7.9.%d" % i, "close with invalid code %d -> 1002" % code,
            fail_case(frame(CLOSE, close_payload(code)), [1002]))
    for i, code in enumerate([5000, 65535], 1):
        add("7.13.%d" % i, "close with code %d -> 1002" % code,
            fail_case(frame(CLOSE, close_payload(code)), [1002]))
    add("7.14.1", "close with FIN=0 -> 1002",
        fail_case(frame(CLOSE, close_payload(1000), fin=False) + frame(CONT, b""), [1002]))
    add("7.14.2", "close in 1-byte writes -> close 1000",
        lambda ctx: _chopped_close(ctx))

    def no_reply(ctx):
        p = ctx.open()
        p.write(frame(TEXT, b"x", rsv=4))
        ev = p.event("close 1002")
        if ev[0] == "close" and ev[1] != 1002:
            raise Failed("close code %s, expected 1002" % ev[1])
        if ev[0] not in ("close", "eof"):
            raise Failed("expected close 1002, got %s" % show(ev))
        if not p.wait_eof(9):
            raise Failed("TCP still open 9 s after failing the connection (§7.1.7)")
    # §7.1.7: failing the connection means closing it, even when the
    # client never answers the close frame.
    add("7.15.1", "protocol error, close never answered -> server closes TCP anyway",
        no_reply, 12, background=True)

    def half_close(ctx):
        p = ctx.open()
        p.write(frame(CLOSE, close_payload(1000)))
        # socket.socket's own shutdown: SSLSocket's would drop its TLS
        # state, and the reply could no longer be read.
        socket.socket.shutdown(p.s, socket.SHUT_WR)
        ev = p.event("the close reply")
        if ev[0] != "close" or ev[1] != 1000:
            raise Failed("expected close 1000, got %s" % show(ev))
        p.expect_eof()
    add("7.15.2", "close, then TCP half-close (SHUT_WR) -> close reply, TCP close", half_close)

    def abrupt(ctx):
        for linger in (False, True):
            p = ctx.open()
            p.write(frame(TEXT, text_of(1000))[:500])
            if linger:
                p.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            p.s.close()
        ctx.open().close_clean()
    add("7.15.3", "TCP FIN and RST in the middle of a frame -> server keeps serving", abrupt)


def _close_mid_message(ctx):
    p = ctx.open()
    p.write(frame(TEXT, b"fragment1", fin=False) + frame(CLOSE, close_payload(1000))
            + frame(CONT, b"fragment2"))
    ev = p.event("the close reply")
    if ev[0] != "close" or ev[1] not in (1000, None):
        raise Failed("expected only the close reply, got %s" % show(ev))
    p.expect_eof()


def _chopped_close(ctx):
    p = ctx.open()
    p.write(frame(CLOSE, close_payload(1000, b"bye")), 1, 0.001)
    ev = p.event("the close reply")
    if ev[0] != "close" or ev[1] != 1000:
        raise Failed("expected close 1000, got %s" % show(ev))
    p.expect_eof()


def fail_fast_big(head_len, sent, code, port, nonstrict=()):
    """Announce a frame of head_len bytes, send only `sent` of them: the
    server should fail with `code` without waiting for the rest."""
    def fn(ctx):
        p = ctx.open(port)
        wire = frame(TEXT, text_of(head_len))
        cut = len(wire) - head_len + sent
        p.write(wire[:cut])
        try:
            p.expect_fail([code], nonstrict, timeout=2.0)
        except Timeout:
            p.write(wire[cut:])
            ctx.note("close only after the whole frame arrived (best: at the header)")
            p.expect_fail([code], nonstrict)
    return fn


def section9():
    sizes = [64 * 1024, 256 * 1024, MIB, 4 * MIB, 8 * MIB, 16 * MIB]
    for sub, op in ((1, TEXT), (2, BINARY)):
        for i, n in enumerate(sizes, 1):
            add("9.%d.%d" % (sub, i), "%s, %d bytes, one frame" % (OPNAME[op], n),
                echo_case(op, sized(op, n)), 30)
    frags = [64, 256, 1024, 4096, 16384, 65536, 256 * 1024, MIB, 4 * MIB]
    for sub, op in ((3, TEXT), (4, BINARY)):
        data = sized(op, 4 * MIB)
        for i, f in enumerate(frags, 1):
            add("9.%d.%d" % (sub, i), "%s, 4 MiB in %d-byte fragments" % (OPNAME[op], f),
                echo_case(op, data, frag=f), 30)
    for sub, op in ((5, TEXT), (6, BINARY)):
        data = sized(op, MIB)
        for i, c in enumerate([64, 128, 256, 512, 1024, 2048, 4096], 1):
            add("9.%d.%d" % (sub, i), "%s, 1 MiB in one frame, %d-byte writes" % (OPNAME[op], c),
                echo_case(op, data, chop=c), 30)
    # §7.4.1: 1009 "a message that is too big for it to process". The
    # second server runs with --max-message 1048576.
    add("9.7.1", "text of exactly 1 MiB (the limit) -> echo",
        echo_case(TEXT, sized(TEXT, MIB), port="small"), 10, port="small")

    def over(op):
        def fn(ctx):
            p = ctx.open("small")
            p.write(frame(op, data_of(op, MIB + 1)))
            p.expect_fail([1009])
        return fn
    add("9.7.2", "text of 1 MiB + 1 in one frame -> 1009", over(TEXT), 10, port="small")
    add("9.7.3", "binary of 1 MiB + 1 in one frame -> 1009", over(BINARY), 10, port="small")

    def frag_over(ctx):
        p = ctx.open("small")
        chunk = os.urandom(64 * 1024)
        p.write(frame(BINARY, chunk, fin=False) + frame(CONT, chunk, fin=False) * 16)
        try:
            p.expect_fail([1009], timeout=2.0)
        except Timeout:
            p.write(frame(CONT, b"end"))
            ctx.note("1009 only at the final fragment (best: once the limit is passed)")
            p.expect_fail([1009])
    add("9.7.4", "binary in 64 KiB fragments passing 1 MiB, never finished -> 1009", frag_over,
        10, port="small")
    add("9.7.5", "frame header announcing 2 MiB, 64 KiB sent -> 1009",
        fail_fast_big(2 * MIB, 64 * 1024, 1009, "small"), 10, port="small")
    add("9.8.1", "default limit: header announcing 16 MiB + 1 -> 1009",
        fail_fast_big(16 * MIB + 1, 64 * 1024, 1009, "main"), 30)
    # §5.2: "the most significant bit MUST be 0" in a 64-bit length.
    add("9.8.2", "64-bit length with the top bit set -> 1002",
        fail_case(frame(BINARY, b"x", length=(1 << 63) | 1) + b"x", [1002], nonstrict=[1009]))


def many_messages(ctx):
    p = ctx.open()
    msgs = [b"message %04d" % i for i in range(1000)]
    p.write(b"".join(frame(TEXT, m) for m in msgs))
    for m in msgs:
        p.expect_msg(TEXT, m)
    p.close_clean()


def backpressure(ctx):
    """No byte lost or reordered when the client stops reading and the
    server's writes would block (DESIGN: exact backpressure)."""
    p = ctx.open()
    msgs = [os.urandom(256 * 1024) for _ in range(64)]
    p.write(b"".join(frame(BINARY, m) for m in msgs), hold_reads=True)
    time.sleep(0.2)
    for m in msgs:
        p.expect_msg(BINARY, m)
    p.close_clean()


def section9_more():
    add("9.9.1", "1000 small texts in one write -> 1000 echoes in order", many_messages)
    add("9.9.2", "64 x 256 KiB binary written without reading -> all echoed intact, in order",
        backpressure, 30)


def section10():
    data = text_of(65536)
    blob = os.urandom(65536)
    add("10.1.1", "64 KiB text in one frame -> echo intact, any framing", echo_case(TEXT, data))
    add("10.1.2", "64 KiB text in 1300-byte fragments -> echo intact", echo_case(TEXT, data, frag=1300))
    add("10.1.3", "64 KiB binary in 127-byte fragments, 1000-byte writes -> echo intact",
        echo_case(BINARY, blob, frag=127, chop=1000))
    add("10.1.4", "64 KiB binary in 1-byte fragments -> echo intact", echo_case(BINARY, blob, frag=1), 15)


# --------------------------------------------------------------------------
# Opening handshake (RFC 6455 §4.2.1, §4.2.2, §4.4)

def http_case(build, ok, nonstrict_4xx=True, need_header=None, need_close=False, chop=0):
    """Send a raw request; the status must be in `ok` (another 4xx is
    NON-STRICT unless nonstrict_4xx is False)."""
    def fn(ctx):
        p = ctx.raw()
        key = base64.b64encode(os.urandom(16))
        p.write(build(key, ctx.ports["main"]), chop)
        resp = p.read_head()
        if resp is None:
            if need_close:
                ctx.note("connection closed with no HTTP response (best: %s)" % ok)
                return
            raise Failed("connection closed with no HTTP response")
        if resp.status not in ok:
            if nonstrict_4xx and 400 <= resp.status < 500:
                ctx.note("status %d (best: %s)" % (resp.status, "/".join(map(str, ok))))
            else:
                raise Failed("status %d (%s), expected %s" % (resp.status, resp.start, ok))
        # RFC 9110 §15.5.22: "The server MUST send an Upgrade header field in
        # a 426 response"; §15.5.6: a 405 "MUST generate an Allow header".
        if resp.status == 426 and not resp.has_token("upgrade", "websocket"):
            raise Failed("426 without Upgrade: websocket (RFC 9110 §15.5.22)")
        if resp.status == 405 and resp.get("allow") is None:
            raise Failed("405 without Allow (RFC 9110 §15.5.6)")
        if need_header:
            name, token = need_header
            if not resp.has_token(name, token):
                raise Failed("response lacks %s: %s (§4.2.2)" % (name, token))
        if need_close and not p.wait_eof(3):
            raise Failed("connection still open 3 s after the error response")
    return fn


def upgrade_case(extra=b"", protocol=None, chop=0, build=None):
    """A valid upgrade, possibly unusual: 101 with the right accept (§4.2.2),
    then a working echo."""
    def fn(ctx):
        p = ctx.raw()
        key = base64.b64encode(os.urandom(16))
        req = build(key, ctx.ports["main"]) if build else request(key, ctx.ports["main"], extra)
        p.write(req, chop, 0.001 if chop else 0)
        check_101(p.read_head(), key, protocol)
        p.write(frame(TEXT, b"after handshake"))
        p.expect_msg(TEXT, b"after handshake")
        p.close_clean()
    return fn


def dribble(ctx):
    """Endless headers, one byte every 50 ms: the handshake timeout (10 s by
    default) must end the connection; the header limit never triggers."""
    p = ctx.raw()
    start = time.monotonic()
    p.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
    line = b"X-Dribble: a\r\n"
    i = 0
    while time.monotonic() - start < 14:
        p.write(line[i % len(line):i % len(line) + 1])
        i += 1
        try:
            p._select(False, time.monotonic() + 0.05)
        except Timeout:
            pass
        if p.wclosed or p.eof:
            resp = bytes(p.rx[:40]).decode("latin-1").split("\r\n")[0]
            if resp.startswith("HTTP/1.1 101"):
                raise Failed("101 to a request whose head never ended")
            return
    raise Failed("connection still open after 14 s of dribbled headers (%d bytes)" % i)


def section_h():
    def req(**kw):
        return lambda key, port: request(key, port, **kw)
    add("H.1", "valid upgrade -> 101, correct Sec-WebSocket-Accept, echo works", upgrade_case())
    # §4.2.1: a request that does not match "MUST ... return an HTTP response
    # with an appropriate error code (such as 400 Bad Request)".
    add("H.2", "no Upgrade header -> 426 or 400", http_case(req(drop=(b"upgrade",)), (426, 400)))
    add("H.3", "Upgrade: h2c -> 400 or 426",
        http_case(lambda k, p: request(k, p, drop=(b"upgrade",), extra=b"Upgrade: h2c\r\n"), (400, 426)))
    add("H.4", "no Connection header -> 400", http_case(req(drop=(b"connection",)), (400,)))
    add("H.5", "Connection: keep-alive (no upgrade token) -> 400",
        http_case(lambda k, p: request(k, p, drop=(b"connection",), extra=b"Connection: keep-alive\r\n"),
                  (400,)))
    # §4.2.2 / §4.4: an unsupported version gets an error "such as 426" and
    # a Sec-WebSocket-Version header listing the versions understood.
    add("H.6", "Sec-WebSocket-Version: 8 -> 426 with Sec-WebSocket-Version: 13",
        http_case(lambda k, p: request(k, p, drop=(b"sec-websocket-version",),
                                       extra=b"Sec-WebSocket-Version: 8\r\n"),
                  (426,), need_header=("sec-websocket-version", "13")))
    add("H.7", "no Sec-WebSocket-Version -> 426 or 400",
        http_case(req(drop=(b"sec-websocket-version",)), (426, 400)))
    for i, (name, key) in enumerate([("15-byte", base64.b64encode(bytes(15))),
                                     ("17-byte", base64.b64encode(bytes(17))),
                                     ("non-base64", b"!!!!!!!!!!!!!!!!!!!!!!=="),
                                     ("empty", b"")], 8):
        add("H.%d" % i, "%s Sec-WebSocket-Key -> 400" % name,
            http_case(lambda k, p, key=key: request(key, p), (400,)))
    add("H.12", "no Sec-WebSocket-Key -> 400", http_case(req(drop=(b"sec-websocket-key",)), (400,)))
    # §4.1: "The method of the request MUST be GET, and the HTTP version
    # MUST be at least 1.1."
    add("H.13", "POST -> 400 or 405", http_case(req(line=b"POST / HTTP/1.1"), (400, 405)))
    add("H.14", "HTTP/1.0 -> 400 or 505", http_case(req(line=b"GET / HTTP/1.0"), (400, 505)))
    add("H.15", "no Host header -> 400", http_case(req(drop=(b"host",)), (400,)))
    add("H.16", "garbage request line -> 400",
        http_case(lambda k, p: b"HELLO THERE\r\n\r\n", (400,)))
    big = b"".join(b"X-Padding-%05d: %s\r\n" % (i, b"p" * 80) for i in range(1100))
    add("H.17", "100 KB of headers -> 431 or 400, connection closed",
        http_case(lambda k, p: request(k, p, extra=big), (431, 400), need_close=True))
    add("H.18", "endless headers dribbled 1 byte per 50 ms -> closed by the handshake timeout",
        dribble, 16, background=True)
    # §4.2.2: the server selects one of the client's subprotocols or none;
    # with none it MUST NOT send Sec-WebSocket-Protocol.
    add("H.19", "subprotocol 'chat' offered, none supported -> 101 without Sec-WebSocket-Protocol",
        upgrade_case(b"Sec-WebSocket-Protocol: chat\r\n"))
    add("H.20", "subprotocols 'chat, superchat' -> 101 without Sec-WebSocket-Protocol",
        upgrade_case(b"Sec-WebSocket-Protocol: chat, superchat\r\n"))
    add("H.21", "unknown extension offered -> 101 without Sec-WebSocket-Extensions",
        upgrade_case(b"Sec-WebSocket-Extensions: x-wsx-unknown; foo=1\r\n"))
    add("H.22", "lower-case header names -> 101",
        upgrade_case(build=lambda k, p: b"GET / HTTP/1.1\r\nhost: 127.0.0.1:%d\r\nupgrade: websocket\r\n"
                     b"connection: Upgrade\r\nsec-websocket-key: %s\r\nsec-websocket-version: 13\r\n\r\n"
                     % (p, k)))
    add("H.23", "mixed-case values 'WebSocket', 'keep-alive, Upgrade' -> 101",
        upgrade_case(build=lambda k, p: request(k, p, drop=(b"upgrade", b"connection"),
                                                extra=b"Upgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n")))
    add("H.24", "request in 1-byte writes -> 101", upgrade_case(chop=1))
    add("H.25", "extra spaces around header values -> 101",
        upgrade_case(build=lambda k, p: b"GET / HTTP/1.1\r\nHost:   127.0.0.1:%d  \r\nUpgrade:  websocket \r\n"
                     b"Connection:Upgrade\r\nSec-WebSocket-Key: \t%s \r\nSec-WebSocket-Version:  13\r\n\r\n"
                     % (p, k)))
    add("H.26", "request with path and query '/chat?room=1' -> 101",
        upgrade_case(build=lambda k, p: request(k, p, line=b"GET /chat?room=1 HTTP/1.1")))
    # §4.1: the Request-URI may be "an absolute http/https URI".
    add("H.27", "absolute-form target 'http://127.0.0.1:PORT/' -> 101",
        upgrade_case(build=lambda k, p: request(k, p, line=b"GET http://127.0.0.1:%d/ HTTP/1.1" % p)))
    add("H.28", "header line without a colon -> 400",
        http_case(lambda k, p: request(k, p, extra=b"This is not a header\r\n"), (400,)))
    # §11.3.1: Sec-WebSocket-Key "MUST NOT appear more than once"; combined
    # (RFC 9110 §5.3) the two values are no 16-byte nonce.
    add("H.29", "two Sec-WebSocket-Key headers -> 400",
        http_case(lambda k, p: request(k, p, extra=b"Sec-WebSocket-Key: %s\r\n"
                                       % base64.b64encode(os.urandom(16))), (400,)))


SECTIONS = [("1", "framing"), ("2", "ping/pong"), ("3", "reserved bits"), ("4", "opcodes"),
            ("5", "fragmentation"), ("6", "UTF-8"), ("7", "close"), ("9", "large messages"),
            ("10", "auto-fragmentation"), ("H", "opening handshake"), ("C", "client role")]


# --------------------------------------------------------------------------
# Runner

def run_case(case, make_ctx):
    ctx = make_ctx(case)
    t0 = time.monotonic()
    try:
        case.fn(ctx)
        verdict, detail = ("NON-STRICT", "; ".join(ctx.notes)) if ctx.notes else ("OK", "")
    except Failed as e:
        verdict, detail = "FAILED", str(e)
    except Timeout:
        verdict, detail = "FAILED", "timeout after %.0f s" % case.timeout
    except ConnectionRefusedError:
        verdict, detail = "FAILED", "connection refused (server down?)"
    except OSError as e:
        verdict, detail = "FAILED", "socket error: %s" % e
    except Exception as e:  # a driver bug must not hide the other cases
        verdict, detail = "FAILED", "driver error: %s: %s" % (type(e).__name__, e)
    finally:
        ctx.close_all()
    ms = (time.monotonic() - t0) * 1000
    return verdict, detail, ms


def report(case, res):
    verdict, detail, ms = res
    line = "%-10s %-9s %s%s  [%.0f ms]" % (verdict, case.cid, case.desc,
                                          " -- " + detail if detail else "", ms)
    print(line, flush=True)


def run_all(cases, make_ctx, budget, label):
    start = time.monotonic()
    results = {}
    bg = []
    for c in cases:
        if c.background:
            t = threading.Thread(target=lambda c=c: results.__setitem__(c.cid, run_case(c, make_ctx)))
            t.start()
            bg.append((c, t))
    for c in cases:
        if c.background:
            continue
        if time.monotonic() - start > budget:
            results[c.cid] = ("FAILED", "suite time budget of %d s exhausted" % budget, 0)
        else:
            results[c.cid] = run_case(c, make_ctx)
        report(c, results[c.cid])
    for c, t in bg:
        t.join()
        report(c, results[c.cid])
    counts = {}
    for c in cases:
        sec = c.cid.split(".")[0]
        counts.setdefault(sec, {"OK": 0, "NON-STRICT": 0, "FAILED": 0})[results[c.cid][0]] += 1
    for sec, name in SECTIONS:
        if sec in counts:
            k = counts[sec]
            print("section %-2s %-19s %3d cases: %3d OK, %2d NON-STRICT, %2d FAILED"
                  % (sec, name, sum(k.values()), k["OK"], k["NON-STRICT"], k["FAILED"]))
    failed = sum(k["FAILED"] for k in counts.values())
    print("%s: %d passed, %d failed (%.1f s)" % (label, len(cases) - failed, failed,
                                                 time.monotonic() - start), flush=True)
    return len(cases) - failed, failed


def wait_listening(port, seconds=10.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def client_mode(args):
    ports = {"main": args.port}
    if args.port_small:
        ports["small"] = args.port_small
    for name, port in ports.items():
        if not wait_listening(port):
            print("FAILED: nothing listens on 127.0.0.1:%d (%s server)" % (port, name))
            print("echo_server: 0 passed, 1 failed")
            return 1
    for build in (section1, section2, section3, section4, section5, section6, section7,
                  section9, section9_more, section10, section_h):
        build()
    cases = [c for c in CASES if not args.only or any(c.cid.startswith(o) for o in args.only)]
    runnable = []
    for c in cases:
        if c.port in ports:
            runnable.append(c)
        else:
            print("SKIP       %-9s %s -- no --port-%s server" % (c.cid, c.desc, c.port))
    passed, failed = run_all(runnable, lambda c: Ctx(ports, c.timeout), args.budget, "echo_server")
    return 1 if failed else 0


# --------------------------------------------------------------------------
# Server mode: a broken server for the client role (wsx-cat)

class ClientCtx(Ctx):
    """A case against one wsx-cat process that connects to us."""

    def __init__(self, listener, wsx_cat, timeout, echo=False):
        super().__init__({}, timeout)
        # echo: the client is examples/echo_client, which reads no stdin
        # and sends every message back: "printed" means "echoed" then.
        self.echo = echo
        self.echoed = []
        self.listener = listener
        self.port = listener.getsockname()[1]
        # A late connection from an earlier case's client must not be
        # mistaken for this one.
        while select.select([listener], [], [], 0)[0]:
            listener.accept()[0].close()
        url = "%s://127.0.0.1:%d/" % ("wss" if TLS_SERVER else "ws", self.port)
        self.proc = subprocess.Popen([wsx_cat, url] + (["--cafile", TLS_CA] if TLS_SERVER else []),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.expect_exit = None
        self.done = False
        self.exit_late = False
        self.killed = False
        # Drain the pipes from the start: a full pipe would block wsx-cat.
        self.out = {}
        self.readers = [threading.Thread(target=self._drain, args=(name, pipe))
                        for name, pipe in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr))]
        for t in self.readers:
            t.start()

    def _drain(self, name, pipe):
        self.out[name] = pipe.read()

    def accept(self):
        """The client's connection and its opening request (validated)."""
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise Failed("wsx-cat did not connect (exit status %s)" % self.proc.poll())
            r, _, _ = select.select([self.listener], [], [], min(left, 0.1))
            if r:
                s, _ = self.listener.accept()
                self.socks.append(s)
                if TLS_SERVER:
                    s.settimeout(max(self.deadline - time.monotonic(), 0.1))
                    s = TLS_SERVER.wrap_socket(s, server_side=True)
                    self.socks.append(s)
                p = Peer(self, s, peer_masks=True)
                req = p.read_head()
                if req is None:
                    raise Failed("wsx-cat closed before sending its request")
                return p, req

    def send_line(self, line):
        if self.echo:
            return
        try:
            self.proc.stdin.write(line + b"\n")
            self.proc.stdin.flush()
        except OSError:
            pass

    def close_all(self):
        """End the case: wsx-cat should exit by itself once the connection
        is over; closing its stdin is the second chance, SIGKILL the last."""
        super().close_all()
        if self.done:
            return
        self.done = True
        try:
            self.proc.wait(3)
        except subprocess.TimeoutExpired:
            self.exit_late = True
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.killed = True
        for t in self.readers:
            t.join()
        self.stdout = self.out.get("stdout", b"")
        self.stderr = self.out.get("stderr", b"")


def response(req, status=b"101 Switching Protocols", accept=None, drop=(), extra=b""):
    key = (req.get("sec-websocket-key") or "").encode()
    hdrs = [(b"Upgrade", b"websocket"), (b"Connection", b"Upgrade"),
            (b"Sec-WebSocket-Accept", accept if accept is not None else accept_key(key))]
    lines = [b"HTTP/1.1 " + status] + [n + b": " + v for n, v in hdrs if n.lower() not in drop]
    return b"\r\n".join(lines) + b"\r\n" + extra + b"\r\n"


def check_request(req, port):
    """RFC 6455 §4.1: what a client's opening handshake must contain."""
    problems = []
    if not req.start.startswith("GET ") or not req.start.endswith(" HTTP/1.1"):
        problems.append("request line %r" % req.start)
    if req.get("host") not in ("127.0.0.1:%d" % port,):
        problems.append("Host %r" % req.get("host"))
    if not req.has_token("upgrade", "websocket"):
        problems.append("no Upgrade: websocket")
    if not req.has_token("connection", "upgrade"):
        problems.append("no Connection: Upgrade")
    try:
        if len(base64.b64decode(req.get("sec-websocket-key") or "", validate=True)) != 16:
            problems.append("key is not 16 bytes")
    except ValueError:
        problems.append("key is not base64")
    if req.get("sec-websocket-version") != "13":
        problems.append("Sec-WebSocket-Version %r" % req.get("sec-websocket-version"))
    if problems:
        raise Failed("client request: " + "; ".join(problems))


def client_open(ctx, p, req, extra_frames=b"", chop=0):
    check_request(req, ctx.port)
    p.write(response(req) + extra_frames, chop, 0.001 if chop else 0)


def client_fail_case(wire, codes, nonstrict=()):
    def fn(ctx):
        p, req = ctx.accept()
        client_open(ctx, p, req)
        p.write(wire)
        ctx.expect_exit = "nonzero"
        p.expect_fail(codes, nonstrict)
    return fn


def client_refuse_case(build):
    """A bad handshake response: the client must not open (§4.1: "the client
    MUST _Fail the WebSocket Connection_"), so it sends no frame and closes."""
    def fn(ctx):
        p, req = ctx.accept()
        ctx.send_line(b"must not be sent")
        p.write(build(req) + frame(TEXT, b"must not be printed", mask=False))
        ctx.expect_exit = "nonzero"
        deadline = time.monotonic() + 3
        while not p.eof:
            try:
                p._select(False, min(deadline, ctx.deadline))
            except Timeout:
                break
        if p.rx:
            try:
                f = p._parse()
            except Failed:
                f = None
            if f is not None and f[1] == CLOSE:
                ctx.note("client sent a close frame on a connection that never opened")
            elif f is not None:
                raise Failed("client opened anyway: it sent a %s frame" % OPNAME[f[1]])
            else:
                raise Failed("client sent %d bytes after an invalid handshake response" % len(p.rx))
        if not p.eof:
            raise Failed("client still connected 3 s after an invalid handshake response")
        ctx.forbid_stdout = b"must not be printed"
    return fn


def client_cases():
    def basic(ctx):
        p, req = ctx.accept()
        client_open(ctx, p, req)
        p.write(frame(TEXT, b"hello from server", mask=False))
        ctx.send_line(b"line one")
        ctx.send_line(b"line two")
        for want in () if ctx.echo else (b"line one", b"line two"):
            ev = p.event("the client's text message %r" % want)
            if ev[0] != "msg" or ev[1] != TEXT or ev[2].rstrip(b"\n") != want:
                raise Failed("expected text %r from the client, got %s" % (want, show(ev)))
        if len(set(p.keys)) != len(p.keys):
            raise Failed("client reused a masking key (§5.3: a fresh key per frame)")
        ctx.expect_stdout = b"hello from server"
        ctx.expect_exit = "zero"
        p.close_clean(1000)
    add("C.1", "valid request; text both ways; masked frames; close 1000 -> clean exit", basic)
    add("C.2", "masked server frame -> 1002",
        client_fail_case(frame(TEXT, b"masked!", mask=True), [1002]))
    for i, rsv in enumerate((4, 2, 1), 1):
        add("C.3.%d" % i, "text with RSV%d -> 1002" % i,
            client_fail_case(frame(TEXT, b"rsv", rsv=rsv, mask=False), [1002]))
    add("C.4.1", "reserved opcode 0x3 -> 1002", client_fail_case(frame(3, b"x", mask=False), [1002]))
    add("C.4.2", "reserved opcode 0xB -> 1002", client_fail_case(frame(0xB, mask=False), [1002]))
    add("C.5.1", "invalid UTF-8 text -> 1007",
        client_fail_case(frame(TEXT, b"ok\xed\xa0\x80", mask=False), [1007]))
    add("C.5.2", "fragmented text with invalid UTF-8, never finished -> 1007",
        client_fail_case(frame(TEXT, b"ok", fin=False, mask=False)
                         + frame(CONT, b"\xf4\x90\x80\x80", fin=False, mask=False), [1007]))
    add("C.6.1", "close code 999 -> 1002",
        client_fail_case(frame(CLOSE, close_payload(999), mask=False), [1002]))
    add("C.6.2", "close code 1005 -> 1002",
        client_fail_case(frame(CLOSE, close_payload(1005), mask=False), [1002]))
    add("C.6.3", "close with a 1-byte payload -> 1002",
        client_fail_case(frame(CLOSE, b"\x03", mask=False), [1002]))
    add("C.6.4", "close reason with invalid UTF-8 -> 1007",
        client_fail_case(frame(CLOSE, close_payload(1000, b"\xc0\xaf"), mask=False), [1007], [1002]))
    add("C.6.5", "close code 5000 -> 1002",
        client_fail_case(frame(CLOSE, close_payload(5000), mask=False), [1002]))
    add("C.7.1", "ping of 126 bytes -> 1002", client_fail_case(frame(PING, bytes(126), mask=False), [1002]))
    add("C.7.2", "ping with FIN=0 -> 1002",
        client_fail_case(frame(PING, b"x", fin=False, mask=False), [1002]))
    add("C.7.3", "continuation with no message started -> 1002",
        client_fail_case(frame(CONT, b"x", mask=False), [1002]))

    def ping(ctx):
        p, req = ctx.accept()
        client_open(ctx, p, req)
        p.write(frame(TEXT, b"frag", fin=False, mask=False) + frame(PING, b"are you there", mask=False)
                + frame(CONT, b"mented", mask=False))
        p.expect_pong(b"are you there")
        ctx.expect_stdout = b"fragmented"
        ctx.expect_exit = "zero"
        p.close_clean(1000)
    add("C.8.1", "fragmented text with a ping between -> masked pong, message printed", ping)

    def server_close(ctx):
        p, req = ctx.accept()
        client_open(ctx, p, req)
        p.write(frame(CLOSE, close_payload(1000, b"bye"), mask=False))
        ev = p.event("the client's close reply")
        if ev[0] != "close" or ev[1] not in (1000, None):
            raise Failed("expected close 1000 from the client, got %s" % show(ev))
        if ev[1] is None:
            ctx.note("close reply carries no code (best: echo 1000)")
        ctx.expect_exit = "zero"
    add("C.9.1", "server sends close 1000 -> client replies close 1000, exits 0", server_close)

    def drop(ctx):
        p, req = ctx.accept()
        client_open(ctx, p, req)
        p.s.close()
        ctx.expect_exit = "nonzero"
    add("C.9.2", "server drops TCP without a close frame -> client exits", drop)
    big = text_of(65536)

    def large(ctx):
        p, req = ctx.accept()
        client_open(ctx, p, req)
        p.write(fragments(TEXT, big, 1300, mask=False), 997)
        ctx.expect_stdout = big
        ctx.expect_exit = "zero"
        p.close_clean(1000)
    add("C.10.1", "64 KiB text in 1300-byte fragments, 997-byte writes -> printed intact", large)

    def same_segment(ctx):
        p, req = ctx.accept()
        client_open(ctx, p, req, frame(TEXT, b"right after the 101", mask=False))
        ctx.expect_stdout = b"right after the 101"
        ctx.expect_exit = "zero"
        p.close_clean(1000)
    add("C.11.1", "first frame in the same write as the 101 -> printed", same_segment)

    def split(ctx):
        p, req = ctx.accept()
        client_open(ctx, p, req, frame(TEXT, b"byte by byte", mask=False), chop=1)
        ctx.expect_stdout = b"byte by byte"
        ctx.expect_exit = "zero"
        p.close_clean(1000)
    add("C.11.2", "101 and a frame in 1-byte writes -> printed", split)

    def lenient(ctx):
        p, req = ctx.accept()
        check_request(req, ctx.port)
        key = (req.get("sec-websocket-key") or "").encode()
        p.write(b"HTTP/1.1 101 Web Socket Protocol Handshake\r\nServer: fuzzingclient\r\n"
                b"upgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n"
                b"sec-websocket-accept:  %s \r\n\r\n" % accept_key(key)
                + frame(TEXT, b"lenient ok", mask=False))
        ctx.expect_stdout = b"lenient ok"
        ctx.expect_exit = "zero"
        p.close_clean(1000)
    # §4.1: header names and the "websocket"/"Upgrade" tokens compare
    # case-insensitively; the reason phrase and extra headers do not matter.
    add("C.11.3", "101 with other reason phrase, lower-case names, mixed-case tokens -> opened",
        lenient)
    # §4.1: the client checks status 101, Upgrade, Connection, the accept
    # value, and that no extension or subprotocol it did not ask for is used.
    add("C.12.1", "wrong Sec-WebSocket-Accept -> not opened",
        client_refuse_case(lambda r: response(r, accept=base64.b64encode(bytes(20)))))
    add("C.12.2", "101 without Upgrade -> not opened", client_refuse_case(lambda r: response(r, drop=(b"upgrade",))))
    add("C.12.3", "101 without Connection -> not opened",
        client_refuse_case(lambda r: response(r, drop=(b"connection",))))
    add("C.12.4", "200 instead of 101 -> not opened", client_refuse_case(lambda r: response(r, status=b"200 OK")))
    add("C.12.5", "101 with a subprotocol not offered -> not opened",
        client_refuse_case(lambda r: response(r, extra=b"Sec-WebSocket-Protocol: chat\r\n")))
    add("C.12.6", "101 with an extension not offered -> not opened",
        client_refuse_case(lambda r: response(r, extra=b"Sec-WebSocket-Extensions: x-unknown\r\n")))
    add("C.12.7", "101 with Upgrade: h2c -> not opened",
        client_refuse_case(lambda r: response(r, drop=(b"upgrade",), extra=b"Upgrade: h2c\r\n")))
    add("C.12.8", "no Sec-WebSocket-Accept -> not opened",
        client_refuse_case(lambda r: response(r, drop=(b"sec-websocket-accept",))))
    # §11.3.3: Sec-WebSocket-Accept "MUST NOT appear more than once".
    add("C.12.9", "Sec-WebSocket-Accept twice -> not opened",
        client_refuse_case(lambda r: response(r, extra=b"Sec-WebSocket-Accept: %s\r\n" % accept_key(
            (r.get("sec-websocket-key") or "").encode()))))


def server_mode(args):
    if not os.access(args.echo_client or args.wsx_cat, os.X_OK):
        print("SKIP client role: %s not built" % (args.echo_client or args.wsx_cat))
        return 0
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(4)
    client_cases()
    cases = [c for c in CASES if not args.only or any(c.cid.startswith(o) for o in args.only)]

    echo = bool(args.echo_client)
    client = args.echo_client or args.wsx_cat

    def make_ctx(case):
        return ClientCtx(lst, client, case.timeout, echo)

    def wrap(fn):
        def run(ctx):
            ctx.expect_stdout = None
            ctx.forbid_stdout = None
            fn(ctx)
            ctx.close_all()
            if ctx.killed:
                raise Failed("wsx-cat still running 2 s after stdin closed (killed)")
            if b"Sanitizer" in ctx.stderr or b"runtime error" in ctx.stderr:
                raise Failed("wsx-cat reported: %r" % ctx.stderr[-300:])
            if ctx.exit_late:
                ctx.note("wsx-cat exited only once stdin closed, not when the connection ended")
            rc = ctx.proc.returncode
            if ctx.echo:
                ctx.stdout = b"".join(d for op, d in ctx.echoed if op == TEXT)
            if ctx.expect_stdout and ctx.expect_stdout not in ctx.stdout:
                raise Failed("stdout lacks %r (got %r)" % (ctx.expect_stdout[:40], ctx.stdout[:80]))
            if ctx.forbid_stdout and ctx.forbid_stdout in ctx.stdout:
                raise Failed("printed a message sent after an invalid handshake")
            if ctx.expect_exit == "zero" and rc != 0:
                ctx.note("exit status %s after a clean close (stderr: %r)" % (rc, ctx.stderr[-80:]))
            if ctx.expect_exit == "nonzero" and rc == 0:
                ctx.note("exit status 0 after a failed connection")
        return run
    for c in cases:
        c.fn = wrap(c.fn)
    passed, failed = run_all(cases, make_ctx, args.budget,
                             "echo_client" if echo else "wsx-cat")
    lst.close()
    return 1 if failed else 0


def self_check():
    for name, data in KUHN_VALID:
        data.decode("utf-8")
    for name, data in KUHN_INVALID:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        raise SystemExit("case table bug: %s decodes as UTF-8" % name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, help="echo_server port (default limits)")
    ap.add_argument("--port-small", type=int, help="echo_server port with --max-message 1048576")
    ap.add_argument("--server", action="store_true", help="test the client role with --wsx-cat")
    ap.add_argument("--wsx-cat", default="build/examples/wsx-cat")
    ap.add_argument("--echo-client", help="test examples/echo_client (the client echoes) instead of wsx-cat")
    ap.add_argument("--only", action="append", help="run case ids starting with this (repeatable)")
    ap.add_argument("--budget", type=int, default=150, help="seconds before remaining cases fail")
    ap.add_argument("--tls-ca", help="wss://: the CA file that certifies the server")
    ap.add_argument("--tls-cert", help="--server over TLS: our certificate (PEM)")
    ap.add_argument("--tls-key", help="--server over TLS: our key (PEM)")
    args = ap.parse_args()
    self_check()
    global TLS_CLIENT, TLS_SERVER, TLS_CA
    TLS_CA = args.tls_ca
    if args.tls_ca and not args.server:
        TLS_CLIENT = ssl.create_default_context(cafile=args.tls_ca)
    if args.tls_cert and args.server:
        TLS_SERVER = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        TLS_SERVER.load_cert_chain(args.tls_cert, args.tls_key)
    if args.server:
        return server_mode(args)
    if not args.port:
        ap.error("--port is required in client mode")
    return client_mode(args)


if __name__ == "__main__":
    sys.exit(main())
