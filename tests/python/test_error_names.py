# SPDX-License-Identifier: MIT
"""The binding's error names come from the library's one table (joules_err_name and
joules_strerror over JOULES_ERROR_TABLE), not from a copy of its own."""
import unittest

import jtest
import joules
from joules import _lib


class TestErrorNames(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        jtest.require_library(cls)
        cls.lib = _lib.load()

    def test_every_code_of_the_library(self):
        names = dict(_lib.ERROR_NAMES)
        self.assertEqual(names[0], "JOULES_OK")
        self.assertGreater(len(names), 1)
        for code, name in names.items():
            self.assertEqual(self.lib.joules_err_name(code).decode(), name)
            self.assertTrue(name.startswith("JOULES_"), name)
            self.assertEqual(joules.strerror(code), self.lib.joules_strerror(code).decode())
            self.assertNotEqual(joules.strerror(code), "unknown error", name)
        # Nothing outside the scanned range: the codes are 0, -1, ... without gaps.
        self.assertEqual(sorted(names), list(range(-(len(names) - 1), 1)))
        self.assertIsNone(self.lib.joules_err_name(min(names) - 1))
        self.assertIsNone(self.lib.joules_err_name(1))

    def test_constants_by_name(self):
        for code, name in _lib.ERROR_NAMES.items():
            if name.startswith("JOULES_E_"):
                self.assertEqual(getattr(_lib, name[len("JOULES_"):]), code, name)
        with self.assertRaises(AttributeError):
            _lib.E_NO_SUCH_CODE
        # The one code the binding knows by itself, for when there is no library to ask.
        self.assertEqual(self.lib.joules_err_name(_lib.E_LIBRARY).decode(), "JOULES_E_LIBRARY")

    def test_exceptions_carry_the_library_names(self):
        for code, name in _lib.ERROR_NAMES.items():
            e = joules.JoulesError(code)
            self.assertEqual(e.name, name)
            self.assertEqual(e.message, self.lib.joules_strerror(code).decode())
        unknown = min(_lib.ERROR_NAMES) - 1
        e = joules.JoulesError(unknown)
        self.assertEqual(e.name, "JOULES_E_%d" % -unknown)
        self.assertEqual(e.message, "unknown error")
        self.assertEqual(joules.LibraryError("gone").name, "JOULES_E_LIBRARY")


class TestNoGpu(unittest.TestCase):
    """A Zeus script on a machine without an NVIDIA GPU: the message says how to run it on
    the simulated GPU, with or without changing the script."""

    @classmethod
    def setUpClass(cls):
        jtest.require_library(cls)

    def check(self, **kw):
        with self.assertRaises(joules.JoulesError) as cm:
            joules.ZeusMonitor(nvml_library="/nonexistent/libnvidia-ml.so.1", **kw)
        msg = str(cm.exception)
        self.assertIn("simulated GPU", msg)
        self.assertIn("sim=True", msg)
        self.assertIn("JOULES_NVML_LIBRARY=", msg)

    def test_gpu_index_asked(self):
        self.check(gpu_indices=[0], sysfs_root="/nonexistent")

    def test_nothing_to_measure(self):
        self.check(sysfs_root="/nonexistent")


if __name__ == "__main__":
    unittest.main()
