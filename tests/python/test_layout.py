"""test_layout.py - every struct the binding mirrors has the size, field
offsets and field sizes the C compiler gives it (a tiny C program compiled
against include/), so a change in wsx.h that the cffi declarations miss is
caught here rather than as memory corruption."""
import os
import shutil
import subprocess
import tempfile

from util import ROOT, Skip
from wsx._ffi import MIRRORED, ffi


def c_layout():
    cc = os.environ.get("CC", "cc")
    if not shutil.which(cc):
        raise Skip("no C compiler")
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "wsx.h"',
             '#include "wsx_deflate.h"', "int main(void) {"]
    for name in MIRRORED:
        lines.append('printf("%s %%zu\\n", sizeof(%s));' % (name, name))
        for field, f in ffi.typeof(name).fields:
            lines.append('printf("%s.%s %%zu %%zu\\n", offsetof(%s, %s), '
                         'sizeof(((%s *)0)->%s));' % (name, field, name, field,
                                                      name, field))
    lines.append("return 0; }")
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "layout.c")
        exe = os.path.join(d, "layout")
        with open(src, "w") as f:
            f.write("\n".join(lines))
        subprocess.check_call([cc, "-std=c11", "-I", os.path.join(ROOT, "include"),
                               src, "-o", exe])
        return subprocess.check_output([exe]).decode().split("\n")


def test_mirrored_structs_match_the_c_compiler():
    want = {}
    for line in c_layout():
        if line:
            k, *v = line.split()
            want[k] = tuple(int(x) for x in v)
    checked = 0
    for name in MIRRORED:
        assert ffi.sizeof(name) == want[name][0], (name, ffi.sizeof(name), want[name])
        for field, f in ffi.typeof(name).fields:
            got = (f.offset, ffi.sizeof(f.type))
            assert got == want["%s.%s" % (name, field)], (name, field, got,
                                                          want["%s.%s" % (name, field)])
            checked += 1
    assert checked > 60, checked


def test_every_c_field_is_mirrored():
    """A field added to a mirrored struct in the header must be added here
    too: compare the field lists with the header text."""
    import re
    text = ""
    for h in ("wsx.h", "wsx_deflate.h"):
        with open(os.path.join(ROOT, "include", h)) as f:
            text += f.read()
    for name in MIRRORED:
        m = re.search(r"typedef struct %s \{(.*?)\n\} %s;" % (name, name), text, re.S)
        assert m, name
        body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
        # A field is the last identifier before ';' (or the '(*name)' of a
        # function pointer).
        fields = []
        for decl in body.split(";"):
            decl = decl.strip()
            if not decl:
                continue
            fp = re.search(r"\(\*\s*(\w+)\)", decl)
            fields.append(fp.group(1) if fp else re.findall(r"(\w+)\s*(?:\[\d+\])?$", decl)[0])
        assert fields == [f for f, _ in ffi.typeof(name).fields], (name, fields)
