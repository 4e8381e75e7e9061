# SPDX-License-Identifier: MIT
"""clitest - helpers of the end-to-end tests of the `joules` command line.

CTest sets JOULES_BIN, JOULES_SIM_LIB and JOULES_SOURCE_DIR (and JOULES_SANITIZE when the
build uses sanitizers: only timing limits are relaxed then, never correctness). Run by hand
from tests/cli with `python3 -m unittest -v` after `make build`: the defaults point into
build/.

Every run gets a hermetic environment: no real NVML (JOULES_NVML_LIBRARY points nowhere), an
empty directory for /sys (JOULES_SYSFS_ROOT), no inherited JOULES_SIM_* settings, so the
tests behave the same on a laptop, a CI runner and a GPU server.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("JOULES_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("JOULES_BIN") or os.path.join(SOURCE_DIR, "build", "bin", "joules")
SIM_LIB = os.environ.get("JOULES_SIM_LIB") or os.path.join(
    os.path.dirname(os.path.dirname(BIN)), "lib", "joules", "libnvidia-ml.so.1")
SANITIZE = bool(os.environ.get("JOULES_SANITIZE"))
# Timing limits are multiplied by this under sanitizers (they slow every call down).
SLACK = 5.0 if SANITIZE else 1.0


def have_sim():
    return os.path.exists(SIM_LIB)


class CliTestCase(unittest.TestCase):
    """A temporary directory per test and a hermetic environment for joules."""

    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="joules-cli-")
        self.sysfs = os.path.join(self.tmp, "sys")
        os.mkdir(self.sysfs)
        self.runtime = os.path.join(self.tmp, "run")
        os.mkdir(self.runtime)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOULES_SIM_")}
        env["JOULES_NVML_LIBRARY"] = os.path.join(self.tmp, "absent", "libnvidia-ml.so.1")
        env["JOULES_SYSFS_ROOT"] = self.sysfs
        env["JOULES_SIM_LIBRARY"] = SIM_LIB
        # Each run its own simulated GPU, its sensors on the exact 100 ms grid the checks
        # are stated on (a test of the shared machine passes its own JOULES_SIM_MACHINE).
        env["JOULES_SIM_MACHINE"] = "private"
        env["JOULES_SIM_SENSOR_CLOCK"] = "exact"
        # Restore journals (joules restore) in the test's own runtime directory.
        env["XDG_RUNTIME_DIR"] = self.runtime
        env.update(extra)
        return env

    def joules(self, *args, env=None, timeout=120, input=None):
        """Run joules; returns CompletedProcess with text stdout/stderr."""
        return subprocess.run([BIN, *args], env=env or self.env(), timeout=timeout * SLACK,
                              capture_output=True, text=True, input=input)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, text):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def load_json(self, name):
        with open(self.path(name)) as f:
            return json.load(f)

    def assertExit(self, proc, code):
        self.assertEqual(proc.returncode, code,
                         f"exit {proc.returncode}, expected {code}\n--- stdout\n{proc.stdout}"
                         f"\n--- stderr\n{proc.stderr}")

    def assertNoStrayFiles(self, directory):
        """No temporary file (name.tmp.XXXXXX) left behind by an atomic writer."""
        left = [n for n in os.listdir(directory) if ".tmp." in n]
        self.assertEqual(left, [], f"temporary files left in {directory}")

    def require_sim(self):
        # Under CTest the library is part of the build: its absence is a failure, not a skip.
        if not have_sim():
            if os.environ.get("JOULES_SIM_LIB"):
                self.fail(f"simulated GPU library missing: {SIM_LIB}")
            self.skipTest(f"simulated GPU library not built: {SIM_LIB}")
