"""cat_cases.py - the wsx client (examples/wsx-cat) against a real server:
py_server.py (Python websockets) or node_server.js (Node ws), whose paths
and stdout lines are described in py_server.py. Text, UTF-8, binary, 1 MiB
and pipelined messages, a server ping (RFC 6455 §5.5.2), the client's close
on end of input and the server's close with 1001 and 4000 (§5.5.1, §7.4),
subprotocol and header options (§4.1), and permessage-deflate (RFC 7692)
when wsx-cat can offer it. Standard library only.

usage: cat_cases.py LABEL WSX_CAT SERVER_COMMAND...
Prints "OK LABEL-name" or "FAIL LABEL-name: detail" per case.
"""
import asyncio
import hashlib
import os
import sys

TIMEOUT = 5  # seconds for one wsx-cat run or one server event


class Server:
    """The server process; "closed PATH CODE" lines land in self.closed."""

    def __init__(self, argv):
        self.argv, self.closed, self.changed, self.proc = argv, {}, None, None

    async def start(self):
        self.changed = asyncio.Event()
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE,  # its EOF stops it
            stdout=asyncio.subprocess.PIPE)
        first = (await asyncio.wait_for(self.proc.stdout.readline(), 10)).split()
        if first[:1] != [b"listening"]:
            raise RuntimeError("server said %r" % first)
        self.port = int(first[1])
        self.reader = asyncio.ensure_future(self.read())

    async def read(self):
        async for line in self.proc.stdout:
            w = line.decode().split()
            if w[:1] == ["closed"] and len(w) == 3:
                self.closed[w[1]] = int(w[2])
                self.changed.set()

    async def close_code(self, path):
        """The close code the server got on PATH, waiting for it a while."""
        async def wait():
            while path not in self.closed:
                self.changed.clear()
                await self.changed.wait()
        try:
            await asyncio.wait_for(wait(), TIMEOUT)
        except asyncio.TimeoutError:
            return None
        return self.closed[path]

    def stop(self):
        if self.proc and self.proc.returncode is None:
            self.proc.terminate()


async def cat(binary, path, args, stdin, expect_lines, keep_open=False):
    """Runs wsx-cat on PATH, writes STDIN and reads EXPECT_LINES lines, then
    ends its input (unless keep_open: then only the server's close can end
    the run). Waiting for the replies first matters: a server may answer
    the client's close at once, dropping replies not yet sent (RFC 6455
    §5.5.1 lets it). Returns (exit status or None, stdout lines, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        binary, *args, path, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        limit=4 << 20)
    errs = asyncio.ensure_future(proc.stderr.read())
    out = []

    async def feed(data, end):
        # A wsx-cat that quit early is judged by its output, not by this.
        try:
            proc.stdin.write(data)
            await proc.stdin.drain()
            if end:
                proc.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass

    async def run():
        writer = asyncio.ensure_future(feed(stdin, False))
        while len(out) < expect_lines:
            line = await proc.stdout.readline()
            if not line:
                break
            out.append(line.decode(errors="replace").rstrip("\n"))
        await writer
        if not keep_open:
            await feed(b"", True)
        out.extend(l.decode(errors="replace") for l in
                   (await proc.stdout.read()).split(b"\n")[:-1])
        return await proc.wait()
    try:
        st = await asyncio.wait_for(run(), TIMEOUT)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        st = None
    return st, out, (await errs).decode(errors="replace")


def summary(data, kind):
    return "%s %d %s" % (kind, len(data), hashlib.sha256(data).hexdigest())


def short(lines):
    s = repr(lines)
    return s if len(s) < 120 else s[:100] + "... (%d lines)" % len(lines)


async def main():
    label, wsx_cat, server = sys.argv[1], sys.argv[2], Server(sys.argv[3:])
    try:
        try:
            await server.start()
        except (asyncio.TimeoutError, RuntimeError, IndexError, ValueError) as e:
            print("FAIL %s: server did not start: %r" % (label, e), flush=True)
            return
        await cases(label, wsx_cat, server)
    finally:
        server.stop()


async def cases(label, wsx_cat, server):
    base = "ws://127.0.0.1:%d" % server.port
    big = os.urandom(1 << 19).hex()  # 1 MiB of text, one line

    async def expect(name, route, stdin, want, args=(), keep_open=False,
                     close=None, exit_ok=(0,)):
        """One wsx-cat run on ROUTE: its stdout must be WANT, its exit
        status in EXIT_OK, and the server must see close code(s) CLOSE."""
        path = "%s?case=%s" % (route, name)
        st, out, err = await cat(wsx_cat, base + path, list(args), stdin, len(want),
                                 keep_open)
        why = None
        if st is None:
            why = "wsx-cat still running after %d s" % TIMEOUT
        elif "Sanitizer" in err or "runtime error" in err:
            why = "sanitizer: " + " | ".join(
                l for l in err.splitlines() if "ERROR" in l or "runtime error" in l)[:300]
        elif out != want:
            why = "stdout %s, want %s" % (short(out), short(want))
        elif st not in exit_ok:
            why = "exit status %d" % st
        elif close is not None:
            code = await server.close_code(path)
            if code not in close:
                why = "server saw close code %s, want %s" % (code, close)
        if why:
            tail = " | ".join(err.strip().splitlines()[-2:])
            print("FAIL %s-%s: %s%s" % (label, name, why, " (stderr: %s)" % tail if tail else ""),
                  flush=True)
        else:
            print("OK %s-%s" % (label, name), flush=True)
        return err

    # The client's close at end of input: 1000, or a close without a code
    # (RFC 6455 §7.1.5: 1005), but never no close frame at all (1006).
    normal = (1000, 1005)
    await expect("text", "/echo", b"hello\nsecond line\n", ["hello", "second line"],
                 close=normal)
    await expect("utf8", "/echo", "h\u00e9llo \u2713 \U0001F600\n".encode(),
                 ["h\u00e9llo \u2713 \U0001F600"], close=normal)
    lines = ["line %d" % i for i in range(100)]
    await expect("pipelined-100", "/echo", ("\n".join(lines) + "\n").encode(), lines,
                 close=normal)
    await expect("record-text", "/record", b"abc\n", [summary(b"abc", "text")])
    await expect("binary", "/record", b"abc\n", [summary(b"abc", "binary")],
                 args=["--binary"])
    await expect("1mib-sent", "/record", (big + "\n").encode(),
                 [summary(big.encode(), "text")])
    await expect("1mib-echo", "/echo", (big + "\n").encode(), [big])
    await expect("binary-echo", "/echo", b"abc\n", ["abc"], args=["--binary"])
    await expect("ping", "/ping", b"", ["pong ok"], keep_open=True)
    # RFC 6455 §4.1: the server picks one offered subprotocol, or none,
    # and the client goes on either way.
    for name, offer, agreed in (("protocol", "wsx.test.v1", "wsx.test.v1"),
                                ("protocol-second", "nope, chat", "chat"),
                                ("protocol-none", "nope", "")):
        await expect(name, "/proto", b"", ["protocol=" + agreed], args=["--protocol", offer])
    await expect("header", "/header", b"", ["x-wsx-test=hello wsx"],
                 args=["--header", "X-Wsx-Test: hello wsx"])
    for code in (1001, 4000):
        # stdin stays open: wsx-cat must end on the server's close alone,
        # answer it with the same code (RFC 6455 §5.5.1) and report it.
        err = await expect("close-%d" % code, "/close/%d" % code, b"",
                           ["closing %d" % code], keep_open=True, close=(code,),
                           exit_ok=range(256))
        name = "%s-close-%d-reported" % (label, code)
        print(("OK %s" % name) if str(code) in err else
              "FAIL %s: stderr %r does not name the code" % (name, err.strip()[-200:]),
              flush=True)
    # permessage-deflate (RFC 7692), once wsx-cat can offer it: on
    # --deflate, or by default when it has a --no-deflate.
    _, out, err = await cat(wsx_cat, "--help", [], b"", 0)
    usage = "\n".join(out) + err  # --help prints on stdout, misuse on stderr
    if "--deflate" in usage or "--no-deflate" in usage:
        on = [] if "--no-deflate" in usage else ["--deflate"]
        await expect("deflate-agreed", "/ext", b"", ["extensions=permessage-deflate"],
                     args=on)
        await expect("deflate-1mib-compressible", "/echo",
                     (big[:1024] * 1024 + "\n").encode(), [big[:1024] * 1024], args=on)
        await expect("deflate-1mib-hex", "/echo", (big + "\n").encode(), [big], args=on)
    else:
        print("SKIP %s-deflate: wsx-cat has no --deflate option yet" % label, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
