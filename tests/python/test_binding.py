# SPDX-License-Identifier: MIT
"""The two paths of the window edges (joules._native): the C edges of joules/_fast.c when
they are built beside the library, else the ctypes methods of edges.py; JOULES_PY_NO_EXT=1
asks for ctypes. Both must behave alike: each check runs on one monitor per path (a
monitor whose _fast is None takes the Python methods) and compares what it saw.
Skipped (exit 77) where the build has no extension for this interpreter (no Python headers).
"""
import importlib.machinery
import os
import subprocess
import sys
import tempfile
import time
import unittest
import warnings

import jtest
from jtest import joules

LOST_SCENARIO = """# the GPU falls off the bus after its idle start
profile a6000
idle 0.3s
phase 120s util=1 alpha=0.6
fault lost at=0.4s device=0
"""


def built_extension():
    """The extension built beside the tests' libjoules for this interpreter, or None."""
    where = os.path.join(os.path.dirname(joules.library_path()), "joules")
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(where, "_fast" + suffix)
        if os.path.isfile(path):
            return path
    return None


class BindingCase(jtest.LoadCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if os.environ.get("JOULES_PY_NO_EXT", "") not in ("", "0"):
            raise unittest.SkipTest("JOULES_PY_NO_EXT is set: only the ctypes path is here")
        if built_extension() is None:
            raise unittest.SkipTest("the build has no joules._fast for this interpreter "
                                    "(Python headers missing: apt-get install python3-dev)")

    def open(self, fast, **kw):
        kw.setdefault("sim", "a6000")
        kw.setdefault("scenario", self.scn)
        kw.setdefault("gpu_indices", [0])
        m = joules.Monitor(**kw)
        self.addCleanup(m.close)
        self.assertIsNotNone(m._fast)
        if not fast:
            m._fast = None  # every edge goes to the Python methods
        return m

    def both(self, check, **kw):
        """check(monitor) on the C path and on the ctypes path: their results."""
        return [check(self.open(fast, **kw)) for fast in (True, False)]


def outcome(fn, *args, **kw):
    """What a call did: its exception (type, code, message) or None."""
    try:
        fn(*args, **kw)
    except Exception as e:  # compared, not hidden
        return (type(e).__name__, getattr(e, "code", None), str(e))
    return None


class TestPaths(BindingCase):
    def test_extension_in_use(self):
        info = joules.binding()
        self.assertEqual(info["edges"], "c-extension", info)
        self.assertEqual(info["extension"], built_extension())
        self.assertEqual(type(joules.Monitor.begin_window).__name__, "method_descriptor")

    def test_environment_asks_for_ctypes(self):
        code = ("import joules; b = joules.binding(); print(b['edges'], b['why']); "
                "m = joules.Monitor(sim='a6000', gpu_indices=[0], cpu_indices=[]); "
                "m.begin_window('w'); print(m.end_window('w').time >= 0); m.close()")
        env = dict(os.environ, JOULES_PY_NO_EXT="1", PYTHONPATH=os.pathsep.join(
            p for p in (jtest.PYTHON_DIR, os.environ.get("PYTHONPATH")) if p))
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split("\n")[:2], ["ctypes JOULES_PY_NO_EXT is set", "True"])

    def test_errors_alike(self):
        def errors(mon):
            return [outcome(mon.end_window, "never"),
                    outcome(mon.begin_window, "w"), outcome(mon.begin_window, "w"),
                    outcome(mon.end_window, "w"), outcome(mon.end_window, "w"),
                    outcome(mon.begin_window, 5), outcome(mon.end_window, 5),
                    outcome(mon.begin_window, "\ud800"), outcome(mon.end_window, "\ud800"),
                    outcome(mon.begin_window, "w", True, 1),
                    outcome(mon.end_window, "w", colour=1),
                    outcome(mon.begin_window), outcome(mon.close),
                    outcome(mon.begin_window, "w"), outcome(mon.end_window, "w"),
                    list(mon._windows.items())]
        fast, slow = self.both(errors)
        self.assertEqual(fast, slow)
        self.assertIn("never begun", fast[0][2])
        self.assertIn("already ended", fast[4][2])
        self.assertIn("closed", fast[13][2])

    def test_results_alike(self):
        def results(mon):
            mon.begin_window("a")
            mon.begin_window(key="b", sync_execution=False)
            time.sleep(0.05)
            mb = mon.end_window(key="b", sync_execution=False, cancel=False, busy=None,
                                deferred=False)
            ma = mon.end_window("a")
            self.assertIs(mon.last_measurement, ma)
            self.assertIsInstance(ma, joules.Measurement)
            return [sorted(vars(ma)), ma.name, mb.name, ma.filled, ma.cancelled,
                    ma.time > mb.time > 0.04, ma.simulated, sorted(ma.domains),
                    ma.efficiency(1e9).energy, list(mon._windows.items())]
        fast, slow = self.both(results)
        self.assertEqual(fast, slow)

    def test_other_ends_go_to_python(self):
        def ends(mon):
            mon.begin_window("c")
            cancelled = mon.end_window("c", cancel=True)
            mon.begin_window("d")
            pending = mon.end_window("d", deferred=True)
            return [cancelled.cancelled, cancelled.total_energy, type(pending).__name__,
                    list(mon._windows.items())]
        fast, slow = self.both(ends)
        self.assertEqual(fast, slow)

    def test_sync_and_log_alike(self):
        def run(mon, calls, log):
            mon.log_file = log
            mon.begin_window("w")
            mon.end_window("w")
            mon.begin_window("x", sync_execution=False)
            mon.end_window("x", sync_execution=False)
            with open(log, encoding="utf-8") as f:
                rows = [line.split(",")[1] for line in f.read().splitlines()]
            return [len(calls), rows]
        got = []
        for fast in (True, False):
            calls = []
            mon = self.open(fast, sync_execution_with=lambda: calls.append(1))
            with tempfile.TemporaryDirectory() as d:
                got.append(run(mon, calls, os.path.join(d, "log.csv")))
        self.assertEqual(got[0], got[1])
        self.assertEqual(got[0], [2, ["window_name", "w", "x"]])

    def test_invalid_domain_warns_alike(self):
        scn = jtest.scenario(LOST_SCENARIO, self.tmp)

        def lost(mon):
            time.sleep(0.6)  # past the loss
            mon.begin_window("w")
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                m = mon.end_window("w")
            return [(str(x.message), x.category.__name__, os.path.basename(x.filename))
                    for x in w], m.domains["gpu0"].valid
        fast, slow = self.both(lost, scenario=scn)
        self.assertEqual(fast, slow)
        self.assertEqual(len(fast[0]), 1, fast)
        self.assertEqual(fast[0][0][2], "test_binding.py")  # the caller's line
        self.assertFalse(fast[1])


if __name__ == "__main__":
    unittest.main()
