"""util.py - helpers for the Python suite: frames built by hand (so the
sans-I/O tests are independent of wsx's own encoder), a handshake, free
ports and child processes that are always killed."""
import base64
import hashlib
import os
import socket
import struct
import subprocess
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "..", ".."))
BUILD = os.environ.get("WSX_BUILD", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(ROOT, BUILD)
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
KEY = "dGhlIHNhbXBsZSBub25jZQ=="


class Skip(Exception):
    pass


def frame(op, payload=b"", fin=True, mask=b"\x01\x02\x03\x04", rsv=0):
    """A frame as a client (mask=bytes) or server (mask=None) sends it."""
    b0 = (0x80 if fin else 0) | rsv | op
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if not mask:
        return head + payload
    masked = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return head + mask + masked


def parse_frames(data):
    """Unmasked frames -> [(fin, rsv, opcode, payload)]; leftover ignored."""
    out = []
    i = 0
    while i + 2 <= len(data):
        b0, b1 = data[i], data[i + 1]
        n = b1 & 0x7F
        j = i + 2
        if n == 126:
            n = struct.unpack("!H", data[j:j + 2])[0]
            j += 2
        elif n == 127:
            n = struct.unpack("!Q", data[j:j + 8])[0]
            j += 8
        if b1 & 0x80:
            key = data[j:j + 4]
            j += 4
            payload = bytes(c ^ key[k % 4] for k, c in enumerate(data[j:j + n]))
        else:
            payload = bytes(data[j:j + n])
        out.append((bool(b0 & 0x80), b0 & 0x70, b0 & 0x0F, payload))
        i = j + n
    return out


def request(path="/", extra=""):
    return ("GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
            "Sec-WebSocket-Version: 13\r\n%s\r\n" % (path, KEY, extra)).encode()


def accept_key(key=KEY):
    return base64.b64encode(hashlib.sha1(
        (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Child:
    """A child process killed (by its PID) when the test ends."""

    def __init__(self, argv, ready=None, timeout=10):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, stdin=subprocess.PIPE)
        self.first = b""
        if ready:
            deadline = time.monotonic() + timeout
            while ready not in self.first:
                if time.monotonic() > deadline or self.p.poll() is not None:
                    self.close()
                    raise RuntimeError("%s did not start: %r" % (argv[0], self.first))
                self.first += self.p.stdout.readline()

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        for f in (self.p.stdout, self.p.stdin):
            if f:
                f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def wait_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d never opened" % port)
