"""aio.py - the asyncio API: serve(handler, host, port) and connect(url),
shaped like websockets' (async for message in ws, await ws.send(...),
await ws.close(code, reason)), over the sans-I/O Connection. One
asyncio.BufferedProtocol per connection feeds wsx and writes what it
queues; wss:// goes through Python's ssl module (asyncio's TLS transport).
"""
import asyncio
import collections
import inspect
import logging
import os
import socket
import urllib.parse

from ._ffi import ffi, lib
from .sansio import (CLIENT, HANDSHAKE, OPEN, SERVER, Close, Config, Connection, Open,
                     Ping, Pong, WebSocketError)

_NULL = ffi.NULL
# send() waits for the transport above this many buffered bytes. As large
# as the largest default message, so that a peer that writes a burst before
# reading its echoes (RFC 6455 allows it) is served, as wsx's C servers do.
WRITE_LIMIT = 16 << 20
# The receive buffer starts small (idle connections stay cheap) and grows
# while reads fill it.
RBUF_MIN = 4 << 10
RBUF_MAX = 256 << 10
# send() writes at once above this many queued bytes, else at the end of
# the event loop's turn.
FLUSH_NOW = 64 << 10


class ConnectionClosed(Exception):
    """The connection is closed: .code and .reason as received (1005 no
    code, 1006 no close frame)."""

    def __init__(self, code, reason):
        self.code = code
        self.reason = reason
        super().__init__("connection closed: %d %s" % (code, reason))


class ConnectionClosedOK(ConnectionClosed):
    """Closed with 1000 or 1001."""


class ConnectionClosedError(ConnectionClosed):
    """Closed with an error code, or without a close frame."""


class InvalidHandshake(Exception):
    """The opening handshake failed (refused, malformed, timed out)."""


def _closed(code, reason):
    cls = ConnectionClosedOK if code in (1000, 1001) else ConnectionClosedError
    return cls(code, reason)


class WebSocket(asyncio.BufferedProtocol):
    """One WebSocket connection on an asyncio transport (both roles)."""

    def __init__(self, conn, handler=None, server=None, read_limit=65536,
                 write_limit=WRITE_LIMIT):
        self.conn = conn
        self._c = conn._c
        self._pp = ffi.new("const char **")
        self._handler = handler
        self._server = server
        self._read_limit = read_limit
        self._write_limit = write_limit
        # Received bytes wait in _rbuf[_roff:_rend]. asyncio reads straight
        # into it (BufferedProtocol: no bytes object per read, which for
        # asyncio's 256 KiB reads costs more than the WebSocket work), and
        # wsx unmasks there in place.
        self._rbuf = bytearray(RBUF_MIN)
        self._rptr = ffi.from_buffer(self._rbuf)
        self._roff = self._rend = 0
        self._rfull = False
        self._rsmall = 0
        self._roffered = 0
        self._draining = False
        self._skip = 0
        self._skip_completes = False
        self._max_head = conn.config.cfg.max_header_size
        self._hdr = ffi.new("wsx_frame_header *")
        self._loop = asyncio.get_running_loop()
        self._messages = collections.deque()
        self._waiter = None
        self._opened = self._loop.create_future()
        self._closed = self._loop.create_future()
        self._drain = None
        self._pings = {}
        self._timer = None
        self._deadline = None
        self._state = -1
        self._paused_reading = False
        self._flush_soon = False
        self.transport = None
        self.path = None
        self.request_headers = None
        self.response_headers = None
        self.subprotocol = None
        self.close_code = None
        self.close_reason = None
        self.local_address = self.remote_address = None

    # -- asyncio.Protocol -------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        transport.set_write_buffer_limits(high=self._write_limit)
        self.remote_address = transport.get_extra_info("peername")
        self.local_address = transport.get_extra_info("sockname")
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._server is not None:
            self._server._conns.add(self)
        self._after()

    def get_buffer(self, sizehint):
        off, end, size = self._roff, self._rend, len(self._rbuf)
        if off == end:
            self._roff = self._rend = 0
            if self._rfull and size < RBUF_MAX:
                self._set_rbuf(bytearray(size * 4))  # reads fill it: grow
            elif size > RBUF_MIN and self._rsmall > 256:
                self._set_rbuf(bytearray(RBUF_MIN))  # long quiet: shrink
        elif size - end < size // 4:
            # Little room at the tail: move the rest to the front, in a
            # larger buffer when it is more than half full.
            keep = self._rbuf[off:end]
            if end - off > size // 2:
                size = max(min(size * 4, RBUF_MAX), 2 * (end - off))
            self._set_rbuf(bytearray(size))
            self._rbuf[:len(keep)] = keep
            self._roff, self._rend = 0, len(keep)
        mv = memoryview(self._rbuf)[self._rend:]
        self._roffered = len(mv)
        return mv

    def _set_rbuf(self, b):
        self._rbuf = b
        self._rptr = ffi.from_buffer(b)

    def buffer_updated(self, nbytes):
        self._rfull = nbytes == self._roffered
        self._rsmall = 0 if nbytes > RBUF_MIN // 2 else self._rsmall + 1
        self._rend += nbytes
        self._pump()
        self._after()

    def _segment(self):
        """How much of the unprocessed input to feed now: up to the end of
        the first frame that completes a message, so that the application
        answers that message before wsx sees what follows (a protocol error
        after it must not overtake its echo, as in the C echo server, which
        answers inside on_message). A partial frame header is held back, so
        the next call starts on a frame boundary; a partial payload is fed
        and its rest skipped next time."""
        buf, off, end = self._rbuf, self._roff, self._rend
        if self._draining:
            return end
        state = lib.wsx_conn_state(self._c)
        if state == HANDSHAKE:
            # The whole HTTP head at once, so frames after it start fresh.
            i = buf.find(b"\n\r\n", off)
            j = buf.find(b"\n\n", off)
            k = min(x for x in (i + 3 if i >= 0 else end + 1,
                                j + 2 if j >= 0 else end + 1))
            if k <= end:
                return k
            return end if end - off > self._max_head else off
        if state != OPEN:
            return end
        pos = off
        if self._skip:
            if end - pos < self._skip:
                self._skip -= end - pos
                return end
            pos += self._skip
            self._skip = 0
            if self._skip_completes:
                return pos
        p = self._rptr
        h = self._hdr
        while pos < end:
            n = lib.wsx_frame_parse(h, p + pos, end - pos)
            if n == 0:
                return pos
            if n < 0:
                return end  # wsx fails the connection on it
            flen = n + h.length
            completes = h.fin and h.opcode < 8
            if pos + flen > end:
                self._skip = pos + flen - end
                self._skip_completes = completes
                return end
            pos += flen
            if completes:
                return pos
        return pos

    def _pump(self):
        """Feed unprocessed input while no message waits to be read."""
        conn = self.conn
        while self._roff < self._rend and self._c != _NULL and not self._messages:
            off = self._roff
            end = self._segment()
            if end == off:
                break
            self._roff = end
            try:
                lib.wsx_conn_feed(self._c, self._rptr + off, end - off)
                conn._check(0, "feed")
            except Exception:
                # Raised by process_request inside wsx's callback: wsx has
                # answered 500 and stays consistent; report and go on.
                logging.getLogger("wsx").exception("process_request failed")
            events = conn._sink.events
            if events:
                conn._sink.events = []
                self._dispatch(events)
        if self.transport is not None:
            pause = self._rend - self._roff > self._read_limit
            if pause != self._paused_reading:
                self._paused_reading = pause
                if pause:
                    self.transport.pause_reading()
                else:
                    self.transport.resume_reading()

    def eof_received(self):
        self._draining = True
        self._pump()
        if self._c != _NULL:
            self._after()
            self.conn.receive_eof()
            self._dispatch(self.conn.events_received())
            self._after()
        return False

    def connection_lost(self, exc):
        if self._c != _NULL and self._roff < self._rend:
            self._draining = True
            self._pump()
        if self._c != _NULL:
            self.conn.receive_eof()
            self._dispatch(self.conn.events_received())
        self._c = _NULL
        self.conn.free()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        if self._server is not None:
            self._server._conns.discard(self)
        if not self._opened.done():
            self._opened.set_exception(InvalidHandshake("connection lost"))
            self._opened.exception()
        if not self._closed.done():
            self._on_close(Close(1006, "", False, True, 0))
        self.transport = None

    def pause_writing(self):
        if self._drain is None or self._drain.done():
            self._drain = self._loop.create_future()

    def resume_writing(self):
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    # -- engine -----------------------------------------------------------
    def _dispatch(self, events):
        msgs = self._messages
        for e in events:
            t = type(e)
            if t is bytes or t is str:
                msgs.append(e)
            elif t is Ping:
                pass
            elif t is Pong:
                f = self._pings.pop(e.data, None)
                if f is not None and not f.done():
                    f.set_result(None)
            elif t is Open:
                self._on_open(e)
            elif t is Close:
                self._on_close(e)
        w = self._waiter
        if w is not None and msgs and not w.done():
            w.set_result(None)

    def _on_open(self, e):
        self.subprotocol = e.subprotocol
        if self.conn.role == SERVER:
            self.path = e.path
            self.request_headers = e.headers
            if self._handler is not None:
                self._task = self._loop.create_task(self._run_handler())
        else:
            self.response_headers = e.headers
        if not self._opened.done():
            self._opened.set_result(None)

    def _on_close(self, e):
        if not self._opened.done():
            self._opened.set_exception(InvalidHandshake(
                "opening handshake failed: %s" % (
                    WebSocketError(e.error).args[0] if e.error else "closed")))
            self._opened.exception()
        self.close_code, self.close_reason = e.code, e.reason
        if not self._closed.done():
            self._closed.set_result(None)
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)
        for f in self._pings.values():
            if not f.done():
                f.set_exception(_closed(e.code, e.reason))
                f.exception()
        self._pings.clear()

    def _after(self):
        """Write what wsx queued; close the transport once wsx is done;
        re-arm the timer when the state changed."""
        c = self._c
        if c == _NULL:
            return
        t = self.transport
        pp = self._pp
        n = lib.wsx_conn_pending(c, pp)
        while n:
            t.write(ffi.unpack(pp[0], n))
            lib.wsx_conn_advance(c, n)
            n = lib.wsx_conn_pending(c, pp)
        s = lib.wsx_conn_state(c)
        if s != self._state:
            self._state = s
            self._tick()
        if lib.wsx_conn_done(c):
            t.close()

    def _tick(self):
        if self._c == _NULL:
            return
        d = self.conn.tick(self._loop.time())
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if d is not None:
            self._timer = self._loop.call_at(d, self._on_timer)

    def _on_timer(self):
        self._timer = None
        if self._c != _NULL:
            self._tick()
            self._dispatch(self.conn.events_received())
            self._after()

    async def _run_handler(self):
        try:
            h = self._handler
            if self._server._handler_args == 2:
                await h(self, self.path)
            else:
                await h(self)
            code = 1000
        except ConnectionClosed:
            code = 1000
        except Exception:
            self._server._log_exception()
            code = 1011
        try:
            await self.close(code)
        except ConnectionClosed:
            pass

    # -- the websockets-like API -------------------------------------------
    @property
    def open(self):
        return self._c != _NULL and self._state == OPEN

    @property
    def closed(self):
        return self._closed.done()

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.recv()
        except ConnectionClosedOK:
            raise StopAsyncIteration from None

    async def recv(self):
        """The next message: str (text) or bytes (binary)."""
        msgs = self._messages
        while not msgs:
            if self._roff < self._rend:
                self._pump()
                if msgs:
                    if not self._flush_soon and self._c != _NULL:
                        self._flush_soon = True
                        self._loop.call_soon(self._flush)
                    break
            if self._closed.done():
                raise _closed(self.close_code, self.close_reason)
            if self._flush_soon:
                self._after()  # about to wait: answers go out now
            w = self._waiter = self._loop.create_future()
            try:
                await w
            finally:
                self._waiter = None
        return msgs.popleft()

    async def send(self, message):
        """Send str as text, bytes-like as binary, or an (async) iterable of
        them as one fragmented message."""
        c = self._c
        if c == _NULL or self._state != OPEN:
            if self._closed.done() or c == _NULL:
                raise _closed(self.close_code or 1006, self.close_reason or "")
            await asyncio.shield(self._opened)
        if isinstance(message, str):
            b = message.encode("utf-8")
            r = lib.wsx_send(self._c, 1, ffi.from_buffer(b), len(b))
        elif isinstance(message, (bytes, bytearray, memoryview)):
            r = lib.wsx_send(self._c, 2, ffi.from_buffer(message), len(message))
        else:
            return await self._send_fragments(message)
        if r < 0:
            self._send_failed(r)
        # Messages sent in one turn of the event loop leave in one write
        # (one system call for a burst of echoes), unless much is queued.
        if lib.wsx_buffered_amount(self._c) > FLUSH_NOW:
            self._after()
        elif not self._flush_soon:
            self._flush_soon = True
            self._loop.call_soon(self._flush)
        d = self._drain
        if d is not None and not d.done():
            await d

    def _flush(self):
        self._flush_soon = False
        self._after()

    async def _send_fragments(self, parts):
        if hasattr(parts, "__aiter__"):
            parts = [p async for p in parts]
        parts = list(parts)
        if not parts:
            raise TypeError("send() of an empty iterable")
        for i, p in enumerate(parts):
            self.conn.send_fragment(p, i == len(parts) - 1)
            self._after()

    def _send_failed(self, r):
        if r == -5 or self._c == _NULL:  # WSX_ECLOSED
            raise _closed(self.close_code or 1006, self.close_reason or "")
        raise WebSocketError(r, "send")

    async def ping(self, data=None):
        """Send a ping; returns a future that resolves when its pong
        arrives."""
        if data is None:
            data = os.urandom(4)
        elif isinstance(data, str):
            data = data.encode("utf-8")
        data = bytes(data)
        if self._c == _NULL:
            raise _closed(self.close_code or 1006, self.close_reason or "")
        f = self._loop.create_future()
        self._pings[data] = f
        try:
            self.conn.ping(data)
        except WebSocketError as e:
            self._pings.pop(data, None)
            self._send_failed(e.code)
        self._after()
        return f

    async def close(self, code=1000, reason=""):
        """Start the close handshake and wait until the connection is over
        (wsx's close timeout bounds the wait)."""
        self._draining = True  # unread messages no longer hold input back
        self._pump()
        self._after()
        if self._c != _NULL and not self._closed.done():
            try:
                self.conn.close(code, reason)
            except WebSocketError as e:
                if e.code != -5:  # already closing: just wait
                    raise
            self._after()
        await self.wait_closed()

    async def wait_closed(self):
        if not self._draining:
            self._draining = True
            self._pump()
            self._after()
        await asyncio.shield(self._closed)

    def _fail_transport(self):
        if self.transport is not None:
            self.transport.abort()


class WebSocketServer:
    """What serve() returns: close() stops listening and closes every
    connection with 1001; wait_closed() waits for that."""

    def __init__(self, handler, config, options):
        self._config = config
        self._options = options
        self._handler = handler
        try:
            n = len(inspect.signature(handler).parameters)
        except (TypeError, ValueError):
            n = 1
        self._handler_args = 2 if n >= 2 else 1
        self._conns = set()
        self.server = None

    def _protocol(self):
        o = self._options
        conn = Connection(SERVER, config=self._config,
                          subprotocols=o["subprotocols"],
                          extra_headers=o["extra_headers"],
                          process_request=o["process_request"])
        return WebSocket(conn, self._handler, self, o["read_limit"],
                         o["write_limit"])

    @property
    def sockets(self):
        return self.server.sockets if self.server else ()

    def close(self):
        if self.server is not None:
            self.server.close()
        for ws in list(self._conns):
            if ws._c != _NULL and not ws._closed.done():
                try:
                    ws.conn.close(1001, "server shutting down")
                except WebSocketError:
                    pass
                ws._after()

    async def wait_closed(self):
        if self.server is not None:
            await self.server.wait_closed()
        if self._conns:
            await asyncio.gather(*(ws.wait_closed() for ws in list(self._conns)))

    def _log_exception(self):
        logging.getLogger("wsx.server").exception("connection handler failed")

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.close()
        await self.wait_closed()


def _config(role, kw, **client):
    return Config(role, max_size=kw.pop("max_size", None),
                  compression=kw.pop("compression", "deflate"),
                  open_timeout=kw.pop("open_timeout", None),
                  close_timeout=kw.pop("close_timeout", None),
                  ping_interval=kw.pop("ping_interval", None),
                  idle_timeout=kw.pop("idle_timeout", None), **client)


class serve:
    """serve(handler, host, port, *, subprotocols=None, extra_headers=None,
    process_request=None, compression="deflate", max_size=None,
    read_limit=65536, write_limit=16 MiB, open_timeout=None, close_timeout=None,
    ping_interval=None,
    idle_timeout=None, ssl=None, sock=None, **create_server_kwargs)

    handler(ws) (or handler(ws, path)) runs for each connection; the
    connection is closed with 1000 when it returns, 1011 when it raises.
    Use as `async with serve(...) as server:` or `server = await serve(...)`.
    process_request(path, headers) returns None to accept or an HTTP status
    (e.g. 403) to refuse."""

    def __init__(self, handler, host=None, port=None, **kw):
        opts = {"subprotocols": kw.pop("subprotocols", None),
                "extra_headers": kw.pop("extra_headers", None),
                "process_request": kw.pop("process_request", None),
                "read_limit": kw.pop("read_limit", 65536),
                "write_limit": kw.pop("write_limit", WRITE_LIMIT)}
        config = _config(SERVER, kw)
        self._ws_server = WebSocketServer(handler, config, opts)
        self._host, self._port, self._kw = host, port, kw

    async def _start(self):
        loop = asyncio.get_running_loop()
        s = self._ws_server
        s.server = await loop.create_server(s._protocol, self._host, self._port,
                                            **self._kw)
        return s

    def __await__(self):
        return self._start().__await__()

    async def __aenter__(self):
        return await self._start()

    async def __aexit__(self, *exc):
        await self._ws_server.__aexit__(*exc)


class connect:
    """connect(url, *, subprotocols=None, extra_headers=None, origin=None,
    compression="deflate", max_size=None, read_limit=65536, write_limit=16 MiB,
    open_timeout=10,
    close_timeout=None, ping_interval=None, idle_timeout=None, ssl=None,
    **create_connection_kwargs)

    Opens ws:// or wss:// (TLS by Python's ssl module: pass an SSLContext,
    or get the default one). Use as `async with connect(url) as ws:` or
    `ws = await connect(url)`. Raises InvalidHandshake when the server
    refuses."""

    def __init__(self, url, **kw):
        self._url = url
        self._kw = kw
        self._ws = None

    async def _open(self):
        kw = dict(self._kw)
        u = urllib.parse.urlsplit(self._url)
        if u.scheme not in ("ws", "wss"):
            raise ValueError("not a ws:// or wss:// URL: %r" % self._url)
        secure = u.scheme == "wss"
        port = u.port or (443 if secure else 80)
        hostname = u.hostname
        if not hostname:
            raise ValueError("no host in %r" % self._url)
        hosthdr = "[%s]" % hostname if ":" in hostname else hostname
        if u.port and u.port != (443 if secure else 80):
            hosthdr += ":%d" % u.port
        path = (u.path or "/") + ("?" + u.query if u.query else "")
        read_limit = kw.pop("read_limit", 65536)
        write_limit = kw.pop("write_limit", WRITE_LIMIT)
        kw.setdefault("open_timeout", 10)
        open_timeout = kw["open_timeout"]
        config = _config(CLIENT, kw, host=hosthdr, path=path,
                         origin=kw.pop("origin", None),
                         subprotocols=kw.pop("subprotocols", None),
                         extra_headers=kw.pop("extra_headers", None))
        ssl_ctx = kw.pop("ssl", None)
        if secure and ssl_ctx is None:
            import ssl as ssl_mod
            ssl_ctx = ssl_mod.create_default_context()
        if not secure and ssl_ctx is not None:
            raise ValueError("ssl given for a ws:// URL")
        if ssl_ctx is not None:
            kw.setdefault("server_hostname", hostname)
        loop = asyncio.get_running_loop()
        conn = Connection(CLIENT, config=config)

        async def opening():
            _, ws = await loop.create_connection(
                lambda: WebSocket(conn, read_limit=read_limit,
                                  write_limit=write_limit),
                hostname, port, ssl=ssl_ctx, **kw)
            try:
                await ws._opened
            except BaseException:
                ws._fail_transport()
                raise
            return ws

        if open_timeout:
            try:
                self._ws = await asyncio.wait_for(opening(), open_timeout)
            except asyncio.TimeoutError:
                raise InvalidHandshake("timed out during opening handshake") from None
        else:
            self._ws = await opening()
        return self._ws

    def __await__(self):
        return self._open().__await__()

    async def __aenter__(self):
        return await self._open()

    async def __aexit__(self, *exc):
        await self._ws.close()
