"""browser_tls.py - tests/interop's browser pages over wss://: headless
Chromium trusts the test certificate through the SPKI hash given (its
--ignore-certificate-errors-spki-list switch), nothing else changes.

usage: browser_tls.py CHROMIUM SPKI_SHA256_BASE64 URL...
"""
import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import browser_driver  # noqa: E402

if __name__ == "__main__":
    browser_driver.FLAGS.insert(0, "--ignore-certificate-errors-spki-list=" + sys.argv[2])
    asyncio.run(browser_driver.main(sys.argv[1], sys.argv[3:]))
