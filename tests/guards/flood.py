"""flood.py PORT SECONDS [LABEL] - one client floods an echo server with
small messages as fast as it can (its own process, so it cannot slow the
measuring one) while a second sends a message every 10 ms and times each
echo. Prints the figures as one line:
  LABEL: flooder N sent, M echoed (R/s), close C; prober K probes, p50 X ms,
         p99 Y ms, max Z ms, L lost
and, for run-suite.sh, "FLOOD key=value ..." with the same numbers."""
import multiprocessing
import os
import socket
import struct
import sys
import threading
import time

PORT, SECONDS = int(sys.argv[1]), float(sys.argv[2])
LABEL = sys.argv[3] if len(sys.argv) > 3 else "flood"
REQ = ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       "Sec-WebSocket-Version: 13\r\n\r\n").encode()


def frame(payload, op=0x1):
    mask = b"\x01\x02\x03\x04"
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | op, 0x80 | len(payload)]) + mask + body


def connect():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(REQ)
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(1)
        if not d:
            raise EOFError("no handshake answer")
        head += d
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head[:40])
    return s


class Reader:
    """Server frames from a socket: (opcode, payload)."""

    def __init__(self, s):
        self.s, self.buf = s, b""

    def next(self):
        while True:
            if len(self.buf) >= 2:
                n, off = self.buf[1] & 0x7F, 2
                if n == 126 and len(self.buf) >= 4:
                    n, off = struct.unpack("!H", self.buf[2:4])[0], 4
                elif n == 127 and len(self.buf) >= 10:
                    n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
                if n < 126 or off > 2:
                    if len(self.buf) >= off + n:
                        op, p = self.buf[0] & 0x0F, self.buf[off:off + n]
                        self.buf = self.buf[off + n:]
                        return op, p
            d = self.s.recv(65536)
            if not d:
                return None, b""
            self.buf += d


def flooder(q):
    s = connect()
    chunk = frame(b"flood!") * 5000
    sent = echoed = 0
    close = [0]
    stop = time.monotonic() + SECONDS

    def drain():
        nonlocal echoed
        r = Reader(s)
        while True:
            try:
                op, p = r.next()
            except OSError:
                return
            if op is None:
                return
            if op == 0x8:
                close[0] = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005
                return
            echoed += 1

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    s.settimeout(0.5)
    while time.monotonic() < stop and not close[0]:
        try:
            s.sendall(chunk)
            sent += 5000
        except socket.timeout:
            pass  # the server stopped reading: throttled
        except OSError:
            break
    time.sleep(0.3)
    q.put((sent, echoed, close[0]))
    s.close()


def prober():
    s = connect()
    r = Reader(s)
    rtts, lost = [], 0
    stop = time.monotonic() + SECONDS
    i = 0
    s.settimeout(2)
    while time.monotonic() < stop:
        t0 = time.monotonic()
        s.sendall(frame(b"probe %d" % i))
        try:
            while True:
                op, p = r.next()
                if op is None or p == b"probe %d" % i:
                    break
        except socket.timeout:
            lost += 1
            break
        rtts.append((time.monotonic() - t0) * 1000)
        i += 1
        time.sleep(max(0, 0.010 - (time.monotonic() - t0)))
    s.close()
    return rtts, lost


if __name__ == "__main__" and LABEL.startswith("close"):
    # A server with the close policy: only the flooder, which must be cut.
    q = multiprocessing.Queue()
    flooder(q)
    sent, echoed, close = q.get()
    print("%s: flooder %d sent, %d answered, close %d" % (LABEL, sent, echoed, close))
    print("FLOOD sent=%d echoed=%d close=%d" % (sent, echoed, close), flush=True)
elif __name__ == "__main__":
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=flooder, args=(q,))
    p.start()
    time.sleep(0.2)  # the flood is on before the first probe
    rtts, lost = prober()
    sent, echoed, close = q.get(timeout=SECONDS + 20)
    p.join(10)
    rtts.sort()
    pct = lambda f: rtts[min(len(rtts) - 1, int(len(rtts) * f))] if rtts else -1
    rate = echoed / SECONDS
    print("%s: flooder %d sent, %d echoed (%.0f/s), close %d; prober %d probes, "
          "p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d lost"
          % (LABEL, sent, echoed, rate, close, len(rtts), pct(0.5), pct(0.99),
             rtts[-1] if rtts else -1, lost), flush=True)
    print("FLOOD sent=%d echoed=%d rate=%.0f close=%d probes=%d p99=%.1f lost=%d"
          % (sent, echoed, rate, close, len(rtts), pct(0.99), lost), flush=True)
