"""test_sansio.py - the sans-I/O Connection on byte strings: a selection of
the RFC 6455 / RFC 7692 cases of the C tests, frames built by hand."""
import zlib

import wsx
from util import accept_key, frame, parse_frames, request


def out(conn):
    return b"".join(conn.data_to_send())


def server(**kw):
    s = wsx.Connection(wsx.SERVER, **kw)
    s.receive_data(request(extra=kw.pop("_extra", "")))
    return s


def opened_server(**kw):
    extra = kw.pop("extra", "")
    s = wsx.Connection(wsx.SERVER, **kw)
    s.receive_data(request(extra=extra))
    head = out(s)
    assert head.startswith(b"HTTP/1.1 101"), head
    assert accept_key().encode() in head
    ev = s.events_received()
    assert len(ev) == 1 and isinstance(ev[0], wsx.Open), ev
    return s, head


def close_of(data):
    frames = [f for f in parse_frames(data) if f[2] == 8]
    assert frames, data
    p = frames[-1][3]
    return int.from_bytes(p[:2], "big") if p else None


def closed_event(conn):
    ev = [e for e in conn.events_received() if isinstance(e, wsx.Close)]
    assert len(ev) == 1, ev
    return ev[0]


def test_handshake_split_anywhere():
    req = request("/chat?x=1", "X-Thing: 42\r\n")
    for split in (1, 17, len(req) - 1):
        s = wsx.Connection(wsx.SERVER)
        s.receive_data(req[:split])
        assert out(s) == b"" and s.events_received() == []
        s.receive_data(req[split:])
        assert out(s).startswith(b"HTTP/1.1 101")
        ev = s.events_received()
        assert ev[0].path == "/chat?x=1"
        assert ev[0].headers["x-thing"] == "42"
        assert ev[0].headers.get_all("HOST") == ["localhost"]
        assert s.state == wsx.OPEN


def test_masked_text_and_binary_any_split():
    s, _ = opened_server()
    data = frame(1, "héllo".encode()) + frame(2, bytes(range(200)), mask=b"\xff\x00\xaa\x55")
    for i in range(len(data)):
        s.receive_data(data[i:i + 1])
    assert s.events_received() == ["héllo", bytes(range(200))]


def test_unmasked_client_frame_is_1002():
    s, _ = opened_server()
    s.receive_data(frame(1, b"hi", mask=None))
    assert close_of(out(s)) == 1002
    c = closed_event(s)
    assert c.code == 1002 and c.error == -6 and not c.remote


def test_fragmentation_with_interleaved_ping():
    s, _ = opened_server()
    s.receive_data(frame(1, b"frag", fin=False) + frame(9, b"p") +
                   frame(0, b"men", fin=False) + frame(0, b"ted"))
    ev = s.events_received()
    assert isinstance(ev[0], wsx.Ping) and ev[0].data == b"p"
    assert ev[1] == "fragmented"
    frames = parse_frames(out(s))
    assert frames == [(True, 0, 10, b"p")], frames  # RFC 6455 §5.5.3 pong


def test_continuation_without_start_is_1002():
    s, _ = opened_server()
    s.receive_data(frame(0, b"x"))
    assert close_of(out(s)) == 1002


def test_fragmented_control_frame_is_1002():
    s, _ = opened_server()
    s.receive_data(frame(9, b"x", fin=False))
    assert close_of(out(s)) == 1002


def test_control_frame_over_125_is_1002():
    s, _ = opened_server()
    s.receive_data(frame(9, b"x" * 126))
    assert close_of(out(s)) == 1002


def test_reserved_opcode_and_rsv_are_1002():
    for f in (frame(3, b""), frame(0xB, b""), frame(1, b"a", rsv=0x20)):
        s, _ = opened_server()
        s.receive_data(f)
        assert close_of(out(s)) == 1002


def test_bad_utf8_is_1007():
    for payload in (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", "ok".encode() + b"\xf4\x90\x80\x80"):
        s, _ = opened_server()
        s.receive_data(frame(1, payload))
        assert close_of(out(s)) == 1007, payload
        assert closed_event(s).code == 1007


def test_bad_utf8_split_across_fragments_is_1007():
    s, _ = opened_server()
    s.receive_data(frame(1, b"\xce", fin=False) + frame(0, b"\xba"))  # valid split
    assert s.events_received() == ["κ"]
    s.receive_data(frame(1, b"\xce", fin=False) + frame(0, b"A"))
    assert close_of(out(s)) == 1007


def test_close_codes():
    cases = [(b"\x03\xe8bye", 1000), (b"", 1000), (b"\x0b\xb8", 3000),
             (b"\x03\xe7", 1002), (b"\x03\xed", 1002), (b"\x03\xee", 1002),
             (b"\x13\x88", 1002), (b"\x03", 1002), (b"\x03\xe8\xff", 1007)]
    for payload, want in cases:
        s, _ = opened_server()
        s.receive_data(frame(8, payload))
        got = close_of(out(s))
        if payload == b"":
            assert got is None, "empty close echoed with code %r" % got
        else:
            assert got == want, (payload, got, want)
    s, _ = opened_server()
    s.receive_data(frame(8, b"\x03\xe8bye"))
    c = closed_event(s)
    assert (c.code, c.reason, c.clean, c.remote) == (1000, "bye", True, True)
    assert s.state == wsx.CLOSED and not s.done  # our close frame is queued
    assert close_of(out(s)) == 1000
    assert s.done


def test_close_handshake_started_here():
    s, _ = opened_server()
    s.close(4000, "done")
    frames = parse_frames(out(s))
    assert frames == [(True, 0, 8, b"\x0f\xa0done")], frames
    assert s.state == wsx.CLOSING
    try:
        s.send_text("late")
    except wsx.WebSocketError as e:
        assert e.name == "WSX_ECLOSED"
    else:
        raise AssertionError("send after close accepted")
    s.receive_data(frame(8, b"\x0f\xa0"))
    c = closed_event(s)
    assert c.clean and not c.remote and s.done


def test_invalid_close_code_refused_locally():
    s, _ = opened_server()
    for code in (999, 1005, 1006, 5000):
        try:
            s.close(code)
        except wsx.WebSocketError as e:
            assert e.code == -2
        else:
            raise AssertionError("close(%d) accepted" % code)


def test_server_frames_are_unmasked_and_client_frames_masked():
    s, _ = opened_server()
    s.send_binary(b"\x00" * 300)
    s.send_text("t")
    assert parse_frames(out(s)) == [(True, 0, 2, b"\x00" * 300), (True, 0, 1, b"t")]
    c = wsx.Connection(wsx.CLIENT, host="localhost")
    head = out(c)
    assert head.startswith(b"GET / HTTP/1.1\r\n")
    key = [line.split(b": ")[1] for line in head.split(b"\r\n")
           if line.lower().startswith(b"sec-websocket-key")][0].decode()
    c.receive_data(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n"
                    % accept_key(key)).encode())
    assert isinstance(c.events_received()[0], wsx.Open)
    c.send_binary(b"abc")
    raw = out(c)
    assert raw[1] & 0x80, "client frame not masked"
    assert parse_frames(raw) == [(True, 0, 2, b"abc")]


def test_client_rejects_bad_accept_key():
    c = wsx.Connection(wsx.CLIENT, host="localhost")
    out(c)
    c.receive_data(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   b"Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                   accept_key("AAAAAAAAAAAAAAAAAAAAAA==").encode() + b"\r\n\r\n")
    c = closed_event(c)
    assert c.code == 1006 and c.error == -11  # WSX_EHANDSHAKE


def test_subprotocol_and_extra_headers():
    s, head = opened_server(subprotocols=["v2", "v1"],
                            extra_headers={"X-Server": "wsx"},
                            extra="Sec-WebSocket-Protocol: v1, v2\r\n")
    assert b"Sec-WebSocket-Protocol: v2\r\n" in head
    assert b"X-Server: wsx\r\n" in head
    assert s.subprotocol == "v2"
    try:
        wsx.Connection(wsx.SERVER, extra_headers={"X": "a\r\nInjected: 1"})
    except ValueError:
        pass
    else:
        raise AssertionError("header injection accepted")


def test_process_request_refuses_with_status():
    s = wsx.Connection(wsx.SERVER, process_request=lambda path, h: 403 if path == "/no" else None)
    s.receive_data(request("/no"))
    assert out(s).startswith(b"HTTP/1.1 403")
    assert closed_event(s).code == 1006


class Boom(Exception):
    pass


def test_exception_in_callback_is_reraised_and_conn_stays_whole():
    def bad(path, headers):
        raise Boom("from process_request")
    s = wsx.Connection(wsx.SERVER, process_request=bad)
    try:
        s.receive_data(request())
    except Boom:
        pass
    else:
        raise AssertionError("exception swallowed")
    # wsx answered 500 and ended the connection in a consistent state.
    assert out(s).startswith(b"HTTP/1.1 500")
    assert s.state == wsx.CLOSED and s.done
    assert closed_event(s).code == 1006
    s.receive_data(b"more input after the end")  # discarded, no crash
    s.free()
    try:
        s.send_text("x")
    except wsx.WebSocketError as e:
        assert e.name == "WSX_ESTATE"
    else:
        raise AssertionError("send on a freed connection")


def test_limits_1009():
    s, _ = opened_server(max_size=100)
    s.receive_data(frame(2, b"x" * 101))
    assert close_of(out(s)) == 1009


def test_timers_from_callers_clock():
    s = wsx.Connection(wsx.SERVER, open_timeout=2)
    d = s.tick(100.0)
    assert d == 102.0, d
    assert s.tick(101.0) == 102.0
    s.tick(102.5)
    assert closed_event(s).error == -15  # WSX_ETIMEOUT
    s, _ = opened_server(ping_interval=1)
    d = s.tick(50.0)
    assert d is not None and d <= 51.0, d
    s.tick(51.5)
    assert any(f[2] == 9 for f in parse_frames(out(s))), "no keepalive ping"


def test_permessage_deflate_negotiated_and_round_trip():
    s, head = opened_server(compression="deflate",
                            extra="Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")
    assert b"permessage-deflate" in head
    # A compressed message from the client, made with zlib (RFC 7692 §7.2.1).
    co = zlib.compressobj(wbits=-15)
    body = co.compress(b"hello " * 50) + co.flush(zlib.Z_SYNC_FLUSH)
    assert body.endswith(b"\x00\x00\xff\xff")
    s.receive_data(frame(1, body[:-4], rsv=0x40))
    assert s.events_received() == ["hello " * 50]
    s.send_text("abc" * 100)
    (fin, rsv, op, payload), = parse_frames(out(s))
    assert rsv == 0x40 and len(payload) < 300
    assert zlib.decompressobj(wbits=-15).decompress(payload + b"\x00\x00\xff\xff") == b"abc" * 100


def test_client_server_pair_with_deflate():
    s = wsx.Connection(wsx.SERVER, compression="deflate")
    c = wsx.Connection(wsx.CLIENT, host="h", compression="deflate",
                       subprotocols=["a"], extra_headers=[("X-A", "1")])

    def pump():
        for _ in range(4):
            for d in c.data_to_send():
                s.receive_data(d)
            for d in s.data_to_send():
                c.receive_data(d)
    pump()
    assert s.events_received()[0].headers["x-a"] == "1"
    c.events_received()
    big = "wsx " * 10000
    for m in (big, b"\x00" * 70000, "", b""):
        c.send(m)
        pump()
        assert s.events_received() == [m]
    c.send_fragment("par", False)
    c.send_fragment("ts", True)
    pump()
    assert s.events_received() == ["parts"]
    c.close()
    pump()
    assert closed_event(s).clean and closed_event(c).clean


def test_eof_without_close_is_1006():
    s, _ = opened_server()
    s.receive_eof()
    c = closed_event(s)
    assert c.code == 1006 and not c.clean
