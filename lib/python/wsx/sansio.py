"""sansio.py - a WebSocket connection without I/O over wsx_conn: bytes in
(receive_data), events out (events_received), bytes out (data_to_send),
timers from the caller's clock (tick). It mirrors the sans-I/O objects of
Python websockets; RFC 6455 and RFC 7692 are handled by libwsx.

The C core calls back into Python through one set of module-level cffi
callbacks. Each connection gives the core a handle to its _Sink (events,
the pending exception, handshake policy), which holds no reference back to
the Connection: no reference cycle, so a dropped Connection is freed at
once by reference counting, and its C connection with it (__del__).
"""
import os

from ._ffi import ffi, lib

SERVER = 0
CLIENT = 1

# wsx_state
HANDSHAKE, OPEN, CLOSING, CLOSED = range(4)

_TEXT, _BINARY = 1, 2
_NULL = ffi.NULL


class WebSocketError(Exception):
    """A wsx call failed; .code is the negative WSX_E* value."""

    def __init__(self, code, what=""):
        self.code = code
        self.name = ffi.string(lib.wsx_errname(code)).decode()
        msg = ffi.string(lib.wsx_strerror(code)).decode()
        super().__init__("%s%s (%s)" % (what + ": " if what else "", msg,
                                        self.name))


class Open:
    """The opening handshake succeeded. Server role: request (path and
    headers); both roles: the agreed subprotocol (or None)."""
    __slots__ = ("path", "headers", "subprotocol")

    def __init__(self, path, headers, subprotocol):
        self.path = path
        self.headers = headers
        self.subprotocol = subprotocol

    def __repr__(self):
        return "Open(path=%r, subprotocol=%r)" % (self.path, self.subprotocol)


class Ping:
    """A ping arrived; wsx has already queued the pong."""
    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data

    def __repr__(self):
        return "Ping(%r)" % (self.data,)


class Pong(Ping):
    """A pong arrived."""
    __slots__ = ()

    def __repr__(self):
        return "Pong(%r)" % (self.data,)


class Close:
    """The connection is over (exactly one per connection). code: the
    peer's close code, 1005 (none given), 1006 (no close frame) or ours when
    the connection failed; error: 0 or the WSX_E* that failed it."""
    __slots__ = ("code", "reason", "clean", "remote", "error")

    def __init__(self, code, reason, clean, remote, error):
        self.code = code
        self.reason = reason
        self.clean = clean
        self.remote = remote
        self.error = error

    def __repr__(self):
        return "Close(code=%d, reason=%r, clean=%s, remote=%s, error=%d)" % (
            self.code, self.reason, self.clean, self.remote, self.error)


class Headers:
    """HTTP headers in order, looked up case-insensitively (the subset of
    websockets' Headers that handlers use)."""
    __slots__ = ("_items",)

    def __init__(self, items=()):
        self._items = list(items)

    def __getitem__(self, name):
        v = self.get(name)
        if v is None:
            raise KeyError(name)
        return v

    def get(self, name, default=None):
        name = name.lower()
        for k, v in self._items:
            if k.lower() == name:
                return v
        return default

    def get_all(self, name):
        name = name.lower()
        return [v for k, v in self._items if k.lower() == name]

    def __contains__(self, name):
        return self.get(name) is not None

    def items(self):
        return list(self._items)

    def __iter__(self):
        return (k for k, _ in self._items)

    def __len__(self):
        return len(self._items)

    def __repr__(self):
        return "Headers(%r)" % (self._items,)


def _headers(arr, n):
    return Headers((ffi.unpack(h.name, h.name_len).decode("latin-1"),
                    ffi.unpack(h.value, h.value_len).decode("latin-1"))
                   for h in arr[0:n])


def _header_lines(extra):
    """Extra headers as a dict, a list of pairs or raw lines -> raw lines,
    refusing CR/LF inside a pair (no header injection)."""
    if not extra:
        return None
    if isinstance(extra, str):
        return extra if extra.endswith("\r\n") else extra + "\r\n"
    pairs = extra.items() if hasattr(extra, "items") else extra
    out = []
    for k, v in pairs:
        if any(c in str(k) + str(v) for c in "\r\n\0") or ":" in str(k):
            raise ValueError("invalid header %r: %r" % (k, v))
        out.append("%s: %s\r\n" % (k, v))
    return "".join(out)


class _Sink:
    """What the C callbacks see of a connection (through its handle)."""
    __slots__ = ("events", "exc", "subprotocols", "extra_headers",
                 "process_request", "keep")

    def __init__(self):
        self.events = []
        self.exc = None
        self.subprotocols = None
        self.extra_headers = None
        self.process_request = None
        self.keep = None


# Callbacks: any exception is stored on the sink and re-raised after the
# C call returns, so the C connection never unwinds through Python.
@ffi.callback("void(wsx_conn *, const wsx_message *, void *)")
def _on_message(c, m, user):
    sink = ffi.from_handle(user)
    try:
        if m.opcode == _TEXT:
            # wsx validated the UTF-8 already (close 1007 otherwise).
            sink.events.append(ffi.unpack(m.data, m.len).decode("utf-8"))
        else:
            sink.events.append(ffi.unpack(m.data, m.len))
    except BaseException as e:
        sink.exc = e


@ffi.callback("void(wsx_conn *, const uint8_t *, size_t, void *)")
def _on_ping(c, p, n, user):
    sink = ffi.from_handle(user)
    try:
        sink.events.append(Ping(ffi.unpack(ffi.cast("char *", p), n)))
    except BaseException as e:
        sink.exc = e


@ffi.callback("void(wsx_conn *, const uint8_t *, size_t, void *)")
def _on_pong(c, p, n, user):
    sink = ffi.from_handle(user)
    try:
        sink.events.append(Pong(ffi.unpack(ffi.cast("char *", p), n)))
    except BaseException as e:
        sink.exc = e


@ffi.callback("void(wsx_conn *, const wsx_close_info *, void *)")
def _on_close(c, ci, user):
    sink = ffi.from_handle(user)
    try:
        reason = ffi.unpack(ci.reason, ci.reason_len).decode("utf-8", "replace") \
            if ci.reason_len else ""
        sink.events.append(Close(ci.code, reason, bool(ci.clean),
                                 bool(ci.remote), ci.error))
    except BaseException as e:
        sink.exc = e


def _protocol(c):
    p = lib.wsx_conn_protocol(c)
    return ffi.string(p).decode() if p != _NULL else None


@ffi.callback("int(wsx_conn *, const wsx_handshake *, wsx_handshake_reply *, void *)",
              error=500)
def _on_handshake(c, hs, reply, user):
    sink = ffi.from_handle(user)
    try:
        req = hs.request
        if req == _NULL:  # client: the server's 101 was verified
            sink.events.append(Open(None, _headers(hs.response.headers,
                                                   hs.response.num_headers),
                                    _protocol(c)))
            return 0
        path = ffi.unpack(req.target, req.target_len).decode("latin-1")
        headers = _headers(req.headers, req.num_headers)
        extra = sink.extra_headers
        if sink.process_request is not None:
            r = sink.process_request(path, headers)
            if r:
                return int(r)
        protocol = None
        if sink.subprotocols:
            offered = []
            for v in headers.get_all("Sec-WebSocket-Protocol"):
                offered += [p.strip() for p in v.split(",") if p.strip()]
            protocol = next((p for p in sink.subprotocols if p in offered), None)
        keep = []
        if protocol:
            keep.append(ffi.new("char[]", protocol.encode()))
            reply.protocol = keep[-1]
        if extra:
            keep.append(ffi.new("char[]", extra.encode("latin-1")))
            reply.extra_headers = keep[-1]
        sink.keep = keep  # the core copies the reply during this call
        sink.events.append(Open(path, headers, protocol))
        return 0
    except BaseException as e:
        sink.exc = e
        return 500


@ffi.callback("int(wsx_conn *, uint8_t *, size_t, void *)", error=-1)
def _random(c, buf, n, user):
    ffi.memmove(buf, os.urandom(n), n)
    return 0


_callbacks = ffi.new("wsx_callbacks *")
lib.wsx_callbacks_init_(_callbacks, ffi.sizeof("wsx_callbacks"))
_callbacks.random = _random
_callbacks.on_handshake = _on_handshake
_callbacks.on_message = _on_message
_callbacks.on_ping = _on_ping
_callbacks.on_pong = _on_pong
_callbacks.on_close = _on_close


class Config:
    """A wsx_config (and its permessage-deflate settings), shared by any
    number of connections of one role; it must outlive them, which each
    Connection ensures by holding it.

    max_size: largest frame and message (None: the library's 16 MiB);
    compression: "deflate" to offer/accept permessage-deflate, None not to;
    deflate_level, deflate_threshold: compression settings for sending;
    open_timeout, close_timeout, ping_interval, idle_timeout: seconds (None
    or 0: off; the first two default to the library's 10 s and 5 s).
    Client role: host, path, origin, subprotocols and extra_headers make the
    opening request."""

    def __init__(self, role, max_size=None, compression=None,
                 deflate_level=None, deflate_threshold=None,
                 open_timeout=None, close_timeout=None, ping_interval=None,
                 idle_timeout=None, max_header_size=None, host=None,
                 path="/", origin=None, subprotocols=None,
                 extra_headers=None):
        if role not in (SERVER, CLIENT):
            raise ValueError("role must be wsx.SERVER or wsx.CLIENT")
        if compression not in (None, "deflate", "permessage-deflate"):
            raise ValueError("compression must be 'deflate' or None")
        self.role = role
        self._keep = []
        cfg = self.cfg = ffi.new("wsx_config *")
        lib.wsx_config_init_(cfg, ffi.sizeof("wsx_config"), role)
        if max_size is not None:
            cfg.max_frame_size = cfg.max_message_size = max_size
        if max_header_size is not None:
            cfg.max_header_size = max_header_size
        for field, v in (("handshake_timeout_ms", open_timeout),
                         ("close_timeout_ms", close_timeout),
                         ("ping_interval_ms", ping_interval),
                         ("idle_timeout_ms", idle_timeout)):
            if v is not None:
                setattr(cfg, field, int(v * 1000))
        if compression:
            d = self.deflate = ffi.new("wsx_deflate_config *")
            lib.wsx_deflate_config_init_(d, ffi.sizeof("wsx_deflate_config"))
            if deflate_level is not None:
                d.level = deflate_level
            if deflate_threshold is not None:
                d.threshold = deflate_threshold
            cfg.extension = lib.wsx_permessage_deflate()
            cfg.extension_config = d
        if role == CLIENT:
            if not host:
                raise ValueError("the client role needs host")
            o = cfg.client
            o.host = self._str(host)
            o.path = self._str(path)
            if origin:
                o.origin = self._str(origin)
            if subprotocols:
                o.protocols = self._str(", ".join(subprotocols))
            lines = _header_lines(extra_headers)
            if lines:
                o.extra_headers = self._str(lines)

    def _str(self, s):
        p = ffi.new("char[]", s.encode("latin-1"))
        self._keep.append(p)
        return p


class Connection:
    """One WebSocket connection, server or client role, without I/O.

    Feed what the transport received to receive_data(); take
    events_received() (str: text message, bytes: binary message, or an
    Open, Ping, Pong or Close instance); write data_to_send() to the
    transport; call tick(now) at the returned deadline (seconds, any
    monotonic clock). The client role queues its opening request at once.

    Server role options: subprotocols (the server's list, in order of
    preference), extra_headers (added to the 101 answer) and
    process_request(path, headers) -> None to accept or an HTTP status to
    refuse. Other options go to Config (or pass config=Config(...) to share
    one between connections)."""

    def __init__(self, role=SERVER, config=None, subprotocols=None,
                 extra_headers=None, process_request=None, **options):
        if config is None:
            if role == CLIENT:
                options["subprotocols"] = subprotocols
                options["extra_headers"] = extra_headers
            config = Config(role, **options)
        elif options:
            raise TypeError("options go to Config when config is given")
        self.config = config
        self.role = config.role
        sink = self._sink = _Sink()
        self._events = sink.events
        if self.role == SERVER:
            sink.subprotocols = list(subprotocols) if subprotocols else None
            sink.extra_headers = _header_lines(extra_headers)
            sink.process_request = process_request
        self._handle = ffi.new_handle(sink)
        self._pp = ffi.new("const char **")
        self._c = lib.wsx_conn_new(config.cfg, _callbacks, self._handle)
        if self._c == _NULL:
            raise MemoryError("wsx_conn_new failed")

    def __del__(self):
        self.free()

    def free(self):
        """Release the C connection now (also done on collection). Any
        later call raises WebSocketError(WSX_ESTATE)."""
        c = getattr(self, "_c", _NULL)
        if c != _NULL:
            self._c = _NULL
            lib.wsx_conn_free(c)

    def _conn(self):
        if self._c == _NULL:
            raise WebSocketError(-4, "connection freed")
        return self._c

    def _check(self, r, what):
        exc = self._sink.exc
        if exc is not None:
            self._sink.exc = None
            raise exc
        if r < 0:
            raise WebSocketError(r, what)
        return r

    # -- input ----------------------------------------------------------
    def receive_data(self, data):
        """Bytes from the transport (any split); an empty bytes object
        means end of file. Protocol errors do not raise: they end in a Close
        event (with .error set) and a close frame in data_to_send()."""
        c = self._conn()
        if not data:
            lib.wsx_conn_eof(c)
            r = 0
        else:
            # wsx unmasks in place: give it a private copy.
            r = lib.wsx_conn_feed(c, ffi.from_buffer(bytearray(data)), len(data))
        exc = self._sink.exc
        if exc is not None:
            self._sink.exc = None
            raise exc
        return r

    def receive_eof(self):
        """The transport reached end of file."""
        return self.receive_data(b"")

    def events_received(self):
        """Events since the last call, in order."""
        ev = self._sink.events
        if not ev:
            return []
        self._sink.events = []
        return ev

    # -- output ---------------------------------------------------------
    def data_to_send(self):
        """Bytes to write to the transport, as a list of byte strings (empty
        when nothing is queued)."""
        out = []
        c = self._c
        if c == _NULL:
            return out
        pp = self._pp
        n = lib.wsx_conn_pending(c, pp)
        while n:
            out.append(ffi.unpack(pp[0], n))
            lib.wsx_conn_advance(c, n)
            n = lib.wsx_conn_pending(c, pp)
        return out

    def send_text(self, data):
        """Queue a text message (str, or bytes the caller vouches are UTF-8)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._check(lib.wsx_send(self._conn(), _TEXT, ffi.from_buffer(data),
                                 len(data)), "send_text")

    def send_binary(self, data):
        """Queue a binary message (any bytes-like object)."""
        self._check(lib.wsx_send(self._conn(), _BINARY, ffi.from_buffer(data),
                                 len(data)), "send_binary")

    def send(self, message):
        """str -> text, bytes-like -> binary."""
        if isinstance(message, str):
            self.send_text(message)
        else:
            self.send_binary(message)

    def send_fragment(self, data, fin, text=None):
        """Streaming send: the first piece names the type (text=True/False,
        or taken from data's type); fin ends the message."""
        if text is None:
            text = isinstance(data, str)
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._check(lib.wsx_send_fragment(self._conn(), _TEXT if text else _BINARY,
                                          ffi.from_buffer(data), len(data),
                                          bool(fin)), "send_fragment")

    def ping(self, data=b""):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._check(lib.wsx_ping(self._conn(), ffi.from_buffer(data), len(data)),
                    "ping")

    def close(self, code=1000, reason=""):
        """Start the close handshake (code 0: a close frame without code)."""
        b = reason.encode("utf-8")
        if b"\0" in b:
            raise ValueError("NUL in close reason")
        self._check(lib.wsx_close(self._conn(), code, b), "close")

    # -- timers and state -----------------------------------------------
    def tick(self, now):
        """Run timers at `now` (seconds on a monotonic clock); returns the
        next deadline in that clock, or None."""
        t = lib.wsx_conn_tick(self._conn(), int(now * 1000))
        self._check(0, "tick")
        return None if t == 0xFFFFFFFFFFFFFFFF else t / 1000.0

    @property
    def state(self):
        """HANDSHAKE, OPEN, CLOSING or CLOSED."""
        return lib.wsx_conn_state(self._conn()) if self._c != _NULL else CLOSED

    @property
    def done(self):
        """The connection is over and its output taken: close the transport."""
        return self._c == _NULL or bool(lib.wsx_conn_done(self._c))

    @property
    def subprotocol(self):
        return _protocol(self._c) if self._c != _NULL else None

    @property
    def error(self):
        """0, or the WSX_E* code that failed the connection."""
        return lib.wsx_conn_error(self._c) if self._c != _NULL else 0

    @property
    def buffered_amount(self):
        return lib.wsx_buffered_amount(self._c) if self._c != _NULL else 0
