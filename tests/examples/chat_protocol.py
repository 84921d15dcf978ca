"""chat_protocol.py PORT - examples/chat's JSON protocol through a real JSON
library: the documented fields in any key order and with escapes (a room
named "nick" included, which a substring scan got wrong), and an error
event, never silence, for anything else. Prints "OK name" / "FAIL name:
detail" lines."""
import asyncio
import json
import sys

import websockets


def report(ok, name, detail=""):
    print(("OK %s" % name) if ok else ("FAIL %s: %s" % (name, detail)), flush=True)


last_id = {}


async def next_event(ws):
    """The next event without its "id", which must be a decimal string
    greater than the last one this connection saw (error events have
    none)."""
    try:
        ev = json.loads(await asyncio.wait_for(ws.recv(), 3))
    except (asyncio.TimeoutError, websockets.ConnectionClosed) as e:
        return {"nothing": repr(e)}
    if ev.get("type") in ("join", "say", "leave"):
        i = ev.pop("id", None)
        ok = isinstance(i, str) and i.isdigit() and int(i) > last_id.get(id(ws), 0)
        report(ok, "event-id-increases", (i, last_id.get(id(ws))))
        last_id[id(ws)] = int(i) if ok else last_id.get(id(ws), 0)
    return ev


async def main(port):
    url = "ws://127.0.0.1:%d/chat" % port
    async with websockets.connect(url) as a, websockets.connect(url) as b:
        await a.send('{"type":"join","room":"nick","nick":"bob"}')
        ev = await next_event(a)
        report(ev == {"type": "join", "room": "nick", "nick": "bob"}, "join-room-named-nick", ev)
        # Keys in another order, \u escapes and an escaped quote.
        await b.send('{ "nick" : "\\u0061nn \\"q\\"", "room": "ni\\u0063k", "type": "join" }')
        want = {"type": "join", "room": "nick", "nick": 'ann "q"'}
        ev_a, ev_b = await next_event(a), await next_event(b)
        report(ev_a == want and ev_b == want, "join-any-order-escapes", (ev_a, ev_b))
        await b.send('{"text":"h\\u00e9\\nllo \\ud83d\\ude00","type":"say"}')
        ev = await next_event(a)
        own = await next_event(b)  # a room's events reach the sender too
        report(ev == own == {"type": "say", "room": "nick", "nick": 'ann "q"',
                             "text": "h\u00e9\nllo \U0001F600"}, "say-escapes", (ev, own))
        bad = [("not-json", "nope"), ("array", "[1]"), ("no-type", '{"room":"r"}'),
               ("unknown-type", '{"type":"dance"}'),
               ("join-without-nick", '{"type":"join","room":"r"}'),
               ("say-without-text", '{"type":"say"}'),
               ("text-not-string", '{"type":"say","text":5}'),
               ("nick-too-long", json.dumps({"type": "join", "room": "r", "nick": "n" * 65})),
               ("empty-room", '{"type":"join","room":"","nick":"x"}'),
               ("truncated", '{"type":"say","text":"hi"'),
               ("binary", b'{"type":"say","text":"hi"}')]
        for name, msg in bad:
            await b.send(msg)
            ev = await next_event(b)
            report(ev.get("type") == "error" and isinstance(ev.get("message"), str),
                   "error-event-" + name, ev)
        await a.send('{"type":"say","text":"still here"}')
        ev = await next_event(b)
        report(ev.get("text") == "still here", "usable-after-errors", ev)
        ev = await next_event(a)  # a's own message
        await b.send('{"type":"leave"}')
        ev_a, ev_b = await next_event(a), await next_event(b)
        want = {"type": "leave", "room": "nick", "nick": 'ann "q"'}
        report(ev_a == ev_b == want, "leave", (ev_a, ev_b))
        await b.send('{"type":"say","text":"x"}')
        ev = await next_event(b)
        report(ev.get("type") == "error", "say-after-leave-is-an-error", ev)
        # Chat lines are small: a 20 KiB message is refused with 1009.
        await b.send(json.dumps({"type": "say", "text": "x" * 20000}))
        try:
            await asyncio.wait_for(b.recv(), 3)
            code = None
        except websockets.ConnectionClosed as e:
            code = e.code
        except asyncio.TimeoutError:
            code = "no close"
        report(code == 1009, "oversized-message-1009", code)


asyncio.run(main(int(sys.argv[1])))
