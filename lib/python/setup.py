"""setup.py - `pip install ./lib/python` with Debian's setuptools and no
download: there is deliberately no pyproject.toml, so pip builds in the
current environment instead of fetching a build backend into an isolated one.

libwsx.so.0 is copied into the package when it is found at build time
($WSX_LIBRARY, else ../../build/libwsx.so.0 after `make`); without it the
package finds the library at run time (see wsx/_ffi.py).
"""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        src = os.environ.get("WSX_LIBRARY") or os.path.join(
            HERE, "..", "..", os.environ.get("WSX_BUILD", "build"), "libwsx.so.0")
        if os.path.exists(src):
            dst = os.path.join(self.build_lib, "wsx", "libwsx.so.0")
            shutil.copyfile(os.path.realpath(src), dst)
            print("wsx: bundled %s" % os.path.realpath(src))


setup(
    name="wsx",
    version="0.1.0",
    description="Fast WebSockets for Python over libwsx (RFC 6455, RFC 7692)",
    packages=["wsx"],
    python_requires=">=3.8",
    install_requires=["cffi>=1.12"],
    cmdclass={"build_py": BuildWithLibrary},
    zip_safe=False,
)
