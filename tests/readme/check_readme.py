#!/usr/bin/env python3
"""check_readme.py BUILD - README.md kept true: every ```c block compiles
as a translation unit with -Wall -Wextra -Werror against include/ (and
links against the library when it has a main), and every --option shown
beside a tool name in a code span or a shell line is in that tool's
--help. Prints one OK/FAIL line per check, then "N passed, M failed"."""
import os, re, subprocess, sys, tempfile

build = sys.argv[1] if len(sys.argv) > 1 else "build"
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
text = open(os.path.join(root, "README.md")).read()
lines = text.split("\n")
passed = failed = 0

def report(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("OK   " + what)
    else:
        failed += 1
        print("FAIL " + what + (": " + detail if detail else ""))

# ---- C blocks ---------------------------------------------------------
blocks, cur, start, lang = [], None, 0, None
shell_lines = []
for i, line in enumerate(lines, 1):
    m = re.match(r"^```(\w*)\s*$", line)
    if m and cur is None:
        cur, start, lang = [], i, m.group(1)
    elif line.startswith("```") and cur is not None:
        if lang == "c":
            blocks.append((start, "\n".join(cur) + "\n"))
        cur = None
    elif cur is not None:
        cur.append(line)
        if lang in ("sh", "bash", "console"):
            shell_lines.append((i, line))

cc = os.environ.get("CC", "cc")
link_extra = []
if os.environ.get("WSX_SANITIZED"):
    # build/asan's library is instrumented: link the way it was built.
    cc = os.environ.get("CC", "clang")
    link_extra = ["-fsanitize=address,undefined"]
with tempfile.TemporaryDirectory() as tmp:
    for start, src in blocks:
        path = os.path.join(tmp, "block%d.c" % start)
        open(path, "w").write(src)
        has_main = re.search(r"\bint\s+main\s*\(", src) is not None
        cmd = [cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic",
               "-I" + os.path.join(root, "include")] + link_extra
        if has_main:
            cmd += [path, "-o", path + ".out",
                    os.path.join(root, build, "libwsx.a"), "-lm", "-pthread"]
        else:
            cmd += ["-c", path, "-o", path + ".o"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        report(r.returncode == 0,
               "README.md:%d C block %s" % (start, "builds a program" if has_main else "compiles"),
               r.stderr.strip()[:800])

# ---- options beside tool names ---------------------------------------
TOOLS = ["echo_server", "wsx-cat", "chat", "pubsub", "wsx-load", "dashboard",
         "libuv_echo", "echo_client"]
OPTIONAL = {"libuv_echo": "built only when libuv is installed"}
tool_re = re.compile(r"(?:^|[\s/`(])(" + "|".join(re.escape(t) for t in TOOLS) +
                     r")(?=\s|$)(.*)$")
opt_re = re.compile(r"--[a-z][a-z0-9-]*")

segments = []  # (line, text)
for i, line in enumerate(lines, 1):
    for span in re.findall(r"`([^`]+)`", line):
        segments.append((i, span))
segments += shell_lines

wanted = {}
for i, seg in segments:
    for m in tool_re.finditer(seg):
        tool = m.group(1)
        tail = m.group(2)
        # stop at a pipe into another command or a shell separator
        tail = re.split(r"\s(?:\|\s|&&|;)", tail)[0]
        for opt in opt_re.findall(tail):
            wanted.setdefault(tool, {}).setdefault(opt, i)

# A bullet "- **tool**: ..." and its indented continuation lines: every
# code span that starts with an option belongs to that tool.
bullet_tool = None
for i, line in enumerate(lines, 1):
    m = re.match(r"^- \*\*([\w-]+)\*\*", line)
    if m:
        bullet_tool = m.group(1) if m.group(1) in TOOLS else None
    elif not line.startswith("  "):
        bullet_tool = None
    if bullet_tool:
        for span in re.findall(r"`([^`]+)`", line):
            if span.startswith("--"):
                wanted.setdefault(bullet_tool, {}).setdefault(opt_re.match(span).group(0), i)

helps = {}
for tool in sorted(wanted):
    exe = os.path.join(root, build, "examples", tool)
    if not os.path.exists(exe):
        if tool in OPTIONAL:
            print("SKIP %s: %s" % (tool, OPTIONAL[tool]))
            continue
        report(False, "%s exists in %s/examples" % (tool, build), "the README names it")
        continue
    r = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
    report(r.returncode == 0, "%s --help exits 0" % tool, "exit %d" % r.returncode)
    helps[tool] = r.stdout + r.stderr
    for opt, line in sorted(wanted[tool].items()):
        ok = re.search(re.escape(opt) + r"(?![a-z0-9-])", helps[tool]) is not None
        report(ok, "README.md:%d %s %s is in its --help" % (line, tool, opt))

print("readme: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
