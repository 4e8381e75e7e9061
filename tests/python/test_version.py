# SPDX-License-Identifier: MIT
"""The version is written once, in include/joules.h, and every place that reports it agrees:
the header, the library (joules_version), the command line (joules --version), CMake (the
shared library's file name, joules.pc), the Python package (__version__) and its packaging
metadata (_build_backend.py)."""
import importlib.util
import os
import re
import subprocess
import unittest
from unittest import mock

import jtest
import joules
from joules import _lib, _version

HEADER = os.path.join(jtest.SOURCE_DIR, "include", "joules.h")


class TestVersion(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        jtest.require_library(cls)
        cls.version = _version.from_header(HEADER)

    def test_header(self):
        self.assertRegex(self.version or "", r"^\d+\.\d+\.\d+$")
        text = open(HEADER, encoding="utf-8").read()
        # The string is made from the three numbers, not written a second time.
        self.assertNotIn('"%s"' % self.version, text)

    def test_library_and_package(self):
        self.assertEqual(_lib.load().joules_version().decode(), self.version)
        self.assertEqual(joules.library_version(), self.version)
        self.assertEqual(joules.__version__, self.version)

    def test_package_without_a_library_reads_the_header(self):
        def missing():
            raise _lib.LibraryNotFound([("test", "hidden")])
        with mock.patch.object(_lib, "load", missing):
            self.assertEqual(joules.__version__, self.version)

    def test_command_line(self):
        binary = os.environ.get("JOULES_BIN")
        if not binary or not os.path.exists(binary):
            self.skipTest("no joules binary")
        out = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(),
                         "joules %s (libjoules %s)" % (self.version, self.version))

    def test_cmake(self):
        binary = os.environ.get("JOULES_BIN")
        if not binary or not os.path.exists(binary):
            self.skipTest("no build tree")
        build = os.path.dirname(os.path.dirname(binary))
        pc = open(os.path.join(build, "joules.pc"), encoding="utf-8").read()
        self.assertIn("\nVersion: %s\n" % self.version, pc)
        lib = os.path.realpath(os.path.join(build, "lib", "libjoules.so"))
        self.assertTrue(lib.endswith("libjoules.so." + self.version), lib)

    def test_packaging_metadata(self):
        pyproject = open(os.path.join(jtest.PYTHON_DIR, "pyproject.toml"), encoding="utf-8").read()
        self.assertIsNone(re.search(r"^version\s*=", pyproject, re.M), "a second version")
        self.assertRegex(pyproject, r'(?m)^dynamic\s*=\s*\[[^]]*"version"')
        spec = importlib.util.spec_from_file_location(
            "joules_build_backend", os.path.join(jtest.PYTHON_DIR, "_build_backend.py"))
        backend = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(backend)
        self.assertIn("\nVersion: %s\n" % self.version, backend._metadata())


if __name__ == "__main__":
    unittest.main()
