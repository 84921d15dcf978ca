"""reconnect_check.py WSX_CAT ECHO_SERVER - wsx-cat --reconnect while its
server is stopped and started again on the same port: it keeps trying,
each wait within the policy's full-jitter bound (250 ms * 2^n, loose
timing tolerance for a loaded machine), and once the server is back the
line typed meanwhile is echoed. Prints "OK name" / "FAIL name: detail"."""
import re
import socket
import subprocess
import sys
import threading
import time

wsx_cat, echo_server = sys.argv[1], sys.argv[2]


def report(ok, name, detail=""):
    print(("OK %s" % name) if ok else ("FAIL %s: %s" % (name, detail)), flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def server(port):
    p = subprocess.Popen([echo_server, "--port", str(port)], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    p.stdout.readline()  # the startup line: listening
    return p


port = free_port()
srv = server(port)
cat = subprocess.Popen([wsx_cat, "--reconnect", "--linger", "-1", "ws://127.0.0.1:%d/" % port],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
lines = []  # (monotonic time, stderr line)


def drain():
    for raw in cat.stderr:
        lines.append((time.monotonic(), raw.decode().rstrip()))


threading.Thread(target=drain, daemon=True).start()
try:
    cat.stdin.write(b"before\n")
    cat.stdin.flush()
    first = cat.stdout.readline()
    report(first == b"before\n", "echo-before-the-restart", first)
    srv.send_signal(2)
    srv.wait(5)
    time.sleep(3)
    cat.stdin.write(b"during\n")
    cat.stdin.flush()
    srv = server(port)
    t0 = time.monotonic()
    got = []
    threading.Thread(target=lambda: got.append(cat.stdout.readline()), daemon=True).start()
    # The attempt that finds the server back may come up to the policy's
    # cap (30 s) after the last failed one: full jitter can draw long waits.
    while not got and time.monotonic() - t0 < 35:
        time.sleep(0.05)
    report(got == [b"during\n"], "line-typed-while-down-echoed-after-reconnect", got)
    attempts = [(t, int(m.group(1)), int(m.group(2))) for t, l in lines
                for m in [re.match(r"wsx-cat: reconnecting: attempt (\d+) after (\d+) ms", l)] if m]
    losts = [t for t, l in lines if "will retry" in l]
    report(len(attempts) >= 3, "several-attempts-while-down", lines)
    bound_ok = all(d <= min(30000, 250 * 2 ** (n - 1)) for _, n, d in attempts)
    report(bound_ok and [n for _, n, _ in attempts][:3] == [1, 2, 3],
           "waits-within-full-jitter-bounds", attempts)
    # Each attempt follows the previous loss by its wait (+ scheduling).
    spacing = []
    for t, n, d in attempts:
        before = [x for x in losts if x <= t]
        if before:
            spacing.append((round((t - before[-1]) * 1000), d))
    report(spacing and all(d - 50 <= s <= d + 1500 for s, d in spacing),
           "attempts-spaced-as-the-policy-says", spacing)
finally:
    cat.stdin.close()
    for p in (cat, srv):
        p.kill()
        p.wait()
