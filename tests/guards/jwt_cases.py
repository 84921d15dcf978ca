"""jwt_cases.py PORT SECRET ORIGIN - examples/chat --jwt-secret against
tokens minted here: by Python's standard library (hmac, hashlib, base64)
and by libjwt through ctypes. Each case opens a raw upgrade and checks the
status (101, 401 with WWW-Authenticate, 403 for a foreign Origin); the
accepted ones join a room and must appear under the token's sub, whatever
nick they ask for. POST /login is checked for its cookie. Prints
"OK name" / "FAIL name: why" lines."""
import base64
import ctypes
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import time

PORT, SECRET, ORIGIN = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint_py(claims, alg="HS256", key=SECRET, header=None):
    head = b64(json.dumps(header or {"alg": alg, "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    signing = ("%s.%s" % (head, body)).encode()
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}.get(alg)
    sig = b64(hmac.new(key, signing, digest).digest()) if digest else ""
    return "%s.%s.%s" % (head, body, sig)


def mint_libjwt(sub, exp):
    lib = ctypes.CDLL("libjwt.so.0")
    lib.jwt_encode_str.restype = ctypes.c_void_p
    j = ctypes.c_void_p()
    if lib.jwt_new(ctypes.byref(j)) != 0:
        raise RuntimeError("jwt_new")
    lib.jwt_add_grant(j, b"sub", sub.encode())
    lib.jwt_add_grant_int(j, b"exp", ctypes.c_long(exp))
    lib.jwt_set_alg(j, 1, SECRET, len(SECRET))  # JWT_ALG_HS256
    p = lib.jwt_encode_str(j)
    tok = ctypes.string_at(p).decode()
    ctypes.CDLL(None).free(ctypes.c_void_p(p))
    lib.jwt_free(j)
    return tok


def upgrade(target="/chat", headers=()):
    """(status, head text, socket) of an upgrade request."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    req = ["GET %s HTTP/1.1" % target, "Host: 127.0.0.1:%d" % PORT,
           "Upgrade: websocket", "Connection: Upgrade",
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
           "Sec-WebSocket-Version: 13"] + list(headers)
    s.sendall(("\r\n".join(req) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(4096)
        if not d:
            break
        head += d
    text = head.decode("latin-1")
    status = int(text.split(" ")[1]) if text.startswith("HTTP/1.1 ") else -1
    return status, text, s


def send_text(s, text):
    data = text.encode()
    mask = os.urandom(4)
    hdr = bytes([0x81]) + (bytes([0x80 | len(data)]) if len(data) < 126
                           else bytes([0x80 | 126]) + struct.pack("!H", len(data)))
    s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def read_text(s):
    def exact(n):
        b = b""
        while len(b) < n:
            d = s.recv(n - len(b))
            if not d:
                raise EOFError
            b += d
        return b
    b0, b1 = exact(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", exact(2))[0]
    return exact(n).decode()


results = []


def report(ok, name, why=""):
    print(("OK %s" % name) if ok else ("FAIL %s: %s" % (name, why)), flush=True)


def case(name, headers=(), target="/chat", want=101, sub=None, detail=None):
    try:
        st, head, s = upgrade(target, headers)
        ok = st == want
        why = "status %d, want %d" % (st, want)
        if ok and want == 401:
            ok = "\r\nWWW-Authenticate: Bearer realm=\"chat\"" in head
            why = "no WWW-Authenticate: %r" % head
            if ok and detail:
                ok = detail in head
                why = "no %r in %r" % (detail, head)
        if ok and want == 101 and sub:
            send_text(s, json.dumps({"type": "join", "room": "r", "nick": "liar"}))
            ev = json.loads(read_text(s))
            ok = ev.get("nick") == sub
            why = "joined as %r, want %r" % (ev.get("nick"), sub)
        s.close()
        report(ok, name, why)
    except Exception as e:  # a refused case must still answer
        report(False, name, "%s: %s" % (type(e).__name__, e))


now = int(time.time())
good = mint_py({"sub": "ann", "exp": now + 300})
bearer = lambda t: ("Authorization: Bearer " + t,)

case("jwt-py-valid-bearer", bearer(good), sub="ann")
case("jwt-py-valid-query", target="/chat?access_token=" + good, sub="ann")
case("jwt-py-valid-cookie", ("Cookie: a=1; token=" + good + "; b=2",), sub="ann")
case("jwt-libjwt-valid", bearer(mint_libjwt("bob", now + 300)), sub="bob")
case("jwt-expired", bearer(mint_py({"sub": "ann", "exp": now - 100})), want=401,
     detail="expired")
case("jwt-expired-within-leeway", bearer(mint_py({"sub": "ann", "exp": now - 10})),
     sub="ann")
case("jwt-nbf-future", bearer(mint_py({"sub": "ann", "exp": now + 300, "nbf": now + 100})),
     want=401, detail="not yet valid")
case("jwt-nbf-within-leeway",
     bearer(mint_py({"sub": "ann", "exp": now + 300, "nbf": now + 10})), sub="ann")
h, p, sig = good.split(".")
tampered = b64(json.dumps({"sub": "root", "exp": now + 300}).encode())
case("jwt-tampered-payload", bearer("%s.%s.%s" % (h, tampered, sig)), want=401,
     detail="bad signature")
flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
case("jwt-tampered-signature", bearer("%s.%s.%s" % (h, p, flipped)), want=401)
case("jwt-alg-none", bearer(mint_py({"sub": "ann", "exp": now + 300}, alg="none")),
     want=401, detail="HS256")
case("jwt-alg-hs512", bearer(mint_py({"sub": "ann", "exp": now + 300}, alg="HS512")),
     want=401, detail="HS256")
case("jwt-wrong-secret", bearer(mint_py({"sub": "ann", "exp": now + 300}, key=b"x")),
     want=401)
case("jwt-no-exp", bearer(mint_py({"sub": "ann"})), want=401)
case("jwt-no-sub", bearer(mint_py({"exp": now + 300})), want=401)
for i, bad in enumerate(["abc", "a.b", "a.b.c", "..", good + "x.y"]):
    case("jwt-malformed-%d" % i, bearer(bad), want=401)
case("jwt-missing", want=401)
case("origin-allowed", bearer(good) + ("Origin: " + ORIGIN,), sub="ann")
case("origin-refused-403", bearer(good) + ("Origin: http://evil.example",), want=403)


def login(method="POST", target="/login?nick=cy"):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.sendall(("%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
               % (method, target)).encode())
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    return data.decode("latin-1")


resp = login()
cookie = [l for l in resp.split("\r\n") if l.lower().startswith("set-cookie: token=")]
ok = resp.startswith("HTTP/1.1 200 ") and cookie and "HttpOnly" in cookie[0] and \
    "SameSite=Strict" in cookie[0]
report(ok, "login-sets-cookie", resp[:300])
if cookie:
    tok = cookie[0].split("=", 1)[1].split(";")[0]
    case("login-cookie-opens", ("Cookie: token=" + tok,), sub="cy")
report(login("GET").startswith("HTTP/1.1 405 "), "login-get-405")
report(login(target="/login").startswith("HTTP/1.1 400 "), "login-no-nick-400")


def get(target, headers=()):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n"
               % (target, "".join(h + "\r\n" for h in headers))).encode())
    head = s.recv(4096).decode("latin-1")
    s.close()
    return head


# The fallback transports need the token too.
r = get("/poll?room=r&nick=x")
report(r.startswith("HTTP/1.1 401 ") and "WWW-Authenticate: Bearer" in r, "poll-without-token-401", r[:80])
r = get("/events?room=r&nick=ann", ("Cookie: token=" + good,))
report(r.startswith("HTTP/1.1 200 "), "events-with-token-200", r[:80])
# The token names the session: another nick is refused, none is the sub's.
r = get("/events?room=r&nick=x", ("Cookie: token=" + good,))
report(r.startswith("HTTP/1.1 403 "), "events-other-nick-403", r[:80])


def post(target, body, headers=()):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n"
               % (target, len(body), "".join(h + "\r\n" for h in headers))
               ).encode() + body)
    head = s.recv(4096).decode("latin-1")
    s.close()
    return head


time.sleep(1.5)  # the cases above spent this address's handshake budget
sse = socket.create_connection(("127.0.0.1", PORT), timeout=5)
sse.sendall(("GET /events?room=signed HTTP/1.1\r\nHost: x\r\nCookie: token=%s\r\n\r\n"
             % good).encode())
cookie = ("Cookie: token=" + good,)
r = post("/send?room=signed&nick=bob", b'{"type":"say","text":"as bob"}', cookie)
report(r.startswith("HTTP/1.1 403 "), "send-other-nick-403", r[:80])
# A "join" in the body cannot rename a signed session either.
post("/send?room=signed", b'{"type":"join","room":"signed","nick":"bob"}', cookie)
r = post("/send?room=signed", b'{"type":"say","text":"signed hi"}', cookie)
report(r.startswith("HTTP/1.1 200 "), "send-signed-200", r[:80])
got, deadline = b"", time.time() + 10
while b"signed hi" not in got and time.time() < deadline:
    chunk = sse.recv(65536)
    if not chunk:
        break
    got += chunk
sse.close()
says = [json.loads(line[5:]) for line in got.decode("utf-8", "replace").split("\n")
        if line.startswith("data:") and '"say"' in line]
report(len(says) == 1 and says[0].get("nick") == "ann" and
       b'"nick":"bob"' not in got, "fallback-speaks-as-sub", got[-300:])
