#!/usr/bin/env python3
"""run.py [MODULE...] - run the test_* functions of tests/python/test_*.py
(or the named modules), each with a time limit, and print
"N passed, M failed". Async tests (async def) run in a fresh event loop.

The wsx package is imported from lib/python unless WSX_TEST_INSTALLED=1
(the packaging check runs the suite against the installed copy).
"""
import asyncio
import importlib
import inspect
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
if os.environ.get("WSX_TEST_INSTALLED") != "1":
    sys.path.insert(0, os.path.join(ROOT, "lib", "python"))
sys.path.insert(0, HERE)

LIMIT = float(os.environ.get("WSX_PY_TEST_LIMIT", "120"))


def run_one(fn):
    if inspect.iscoroutinefunction(fn):
        async def bounded():
            await asyncio.wait_for(fn(), LIMIT)
        asyncio.run(bounded())
    else:
        fn()


def main(names):
    if not names:
        names = sorted(f[:-3] for f in os.listdir(HERE)
                       if f.startswith("test_") and f.endswith(".py"))
    passed = failed = 0
    for name in names:
        try:
            mod = importlib.import_module(name)
        except Exception:
            traceback.print_exc()
            print("FAIL %s: import failed" % name)
            failed += 1
            continue
        tests = [(n, f) for n, f in vars(mod).items()
                 if n.startswith("test_") and callable(f)
                 and getattr(f, "__module__", None) == mod.__name__]
        for n, f in tests:
            t0 = time.monotonic()
            try:
                run_one(f)
            except Exception as e:
                if type(e).__name__ == "Skip":
                    print("SKIP %s.%s: %s" % (name, n, e))
                    continue
                traceback.print_exc()
                print("FAIL %s.%s (%.2f s)" % (name, n, time.monotonic() - t0),
                      flush=True)
                failed += 1
            else:
                print("ok   %s.%s (%.2f s)" % (name, n, time.monotonic() - t0),
                      flush=True)
                passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
