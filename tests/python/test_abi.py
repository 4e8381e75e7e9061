# SPDX-License-Identifier: MIT
"""The ctypes structs match include/joules.h: sizes and offsets against the C compiler's."""
import os
import shutil
import subprocess
import tempfile
import unittest

import jtest
from joules import _lib


class TestAbi(unittest.TestCase):
    def test_layouts(self):
        cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
        if not cc:
            self.skipTest("no C compiler")
        lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "joules.h"',
                 'int main(void) {']
        for cname, struct in _lib.STRUCTS.items():
            lines.append('printf("%s %%zu\\n", sizeof(%s));' % (cname, cname))
            for field, _ in struct._fields_:
                lines.append('printf("%s.%s %%zu\\n", offsetof(%s, %s));'
                             % (cname, field, cname, field))
        lines.append("return 0; }")
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "abi.c")
            with open(src, "w") as f:
                f.write("\n".join(lines))
            exe = os.path.join(d, "abi")
            inc = os.path.join(jtest.SOURCE_DIR, "include")
            subprocess.run([cc, "-I", inc, src, "-o", exe], check=True)
            out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
        c = dict(line.split() for line in out.splitlines())
        for cname, struct in _lib.STRUCTS.items():
            self.assertEqual(int(c[cname]), _lib.ctypes.sizeof(struct), cname)
            for field, _ in struct._fields_:
                self.assertEqual(int(c["%s.%s" % (cname, field)]),
                                 getattr(struct, field).offset, "%s.%s" % (cname, field))

    def test_error_names_match_strerror(self):
        jtest.require_library(self)
        lib = _lib.load()
        for code in _lib.ERROR_NAMES:
            self.assertTrue(lib.joules_strerror(code))


if __name__ == "__main__":
    unittest.main()
