# SPDX-License-Identifier: MIT
"""Shared set-up of the Python binding tests.

CTest sets JOULES_LIBRARY, JOULES_SIM_LIB, JOULES_BIN, JOULES_SOURCE_DIR and
PYTHONPATH=<repo>/python. Run by hand:
    cd tests/python && JOULES_LIBRARY=<build>/lib/libjoules.so \
        JOULES_SIM_LIB=<build>/lib/joules/libnvidia-ml.so.1 python3 -m unittest -v
"""
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("JOULES_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
PYTHON_DIR = os.path.join(SOURCE_DIR, "python")
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

# The binding's own variable for the simulated GPU, from the test harness's.
if os.environ.get("JOULES_SIM_LIB") and not os.environ.get("JOULES_SIM_LIBRARY"):
    os.environ["JOULES_SIM_LIBRARY"] = os.environ["JOULES_SIM_LIB"]

# Each process its own simulated GPU, its sensors on the exact 100 ms grid the checks are
# stated on.
os.environ.setdefault("JOULES_SIM_MACHINE", "private")
os.environ.setdefault("JOULES_SIM_SENSOR_CLOCK", "exact")

import joules  # noqa: E402


def require_library(test):
    """Fail (CTest named a library) or skip (nothing built) when libjoules cannot load."""
    try:
        joules.library_path()
    except joules.LibraryError as e:
        if os.environ.get("JOULES_LIBRARY"):
            raise
        raise unittest.SkipTest("libjoules not built: %s" % e)
    sim = os.environ.get("JOULES_SIM_LIBRARY")
    if sim and not os.path.exists(sim):
        raise unittest.SkipTest("no simulated GPU at %s" % sim)


def scenario(text, tmpdir=None):
    """Write scenario text (docs/scenarios.md) to a file; returns its path."""
    d = tmpdir or tempfile.mkdtemp(prefix="joules-py-")
    path = os.path.join(d, "test.scn")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


# A short idle phase, then a constant load long enough for every window of the tests.
LOAD_SCENARIO = """# python binding tests: idle, then a constant load
profile a6000
idle 0.3s
phase 120s util=1 alpha=0.6
"""


class LoadCase(unittest.TestCase):
    """Base of the tests that measure LOAD_SCENARIO: the library required, the scenario in a
    temporary folder (self.scn) removed at the end."""

    @classmethod
    def setUpClass(cls):
        require_library(cls)
        cls.tmp = tempfile.mkdtemp(prefix="joules-py-")
        cls.scn = scenario(LOAD_SCENARIO, cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
