# SPDX-License-Identifier: MIT
"""The two paths of the window edges (joules._native): the C edges of joules/_fast.c when
they are built beside the library, else the ctypes methods of edges.py; JOULES_PY_NO_EXT=1
asks for ctypes. So for `with monitor.window(name)` and @monitor.measure: the C Window of
joules/_fast_window.c, else window._Window. Both must behave alike: each check runs on one
monitor per path (a monitor whose _fast is None takes the Python methods, and its
_window_type says which window it makes) and compares what it saw.
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
from joules.window import _Window

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
        """fast: True (C edges, C window), False (ctypes edges, Python window) or
        "window" (the C window over the ctypes edges)."""
        kw.setdefault("sim", "a6000")
        kw.setdefault("scenario", self.scn)
        kw.setdefault("gpu_indices", [0])
        m = joules.Monitor(**kw)
        self.addCleanup(m.close)
        self.assertIsNotNone(m._fast)
        self.assertIsNot(m._window_type, _Window)
        self.assertIsNotNone(m._measured_type)
        if fast is not True:
            m._fast = None  # every edge goes to the Python methods
        if fast is False:
            m._window_type = _Window  # and every window is the Python class,
            m._measured_type = None  # measure's wrapper a Python function
        return m

    def both(self, check, **kw):
        """check(monitor) on the C path and on the ctypes path: their results."""
        return [check(self.open(fast, **kw)) for fast in (True, False)]

    def all_paths(self, check, **kw):
        """check(monitor) on the C path, the ctypes path and the C window over ctypes
        edges: the results, checked alike; the first."""
        got = [check(self.open(fast, **kw)) for fast in (True, False, "window")]
        self.assertEqual(got[0], got[1])
        self.assertEqual(got[0], got[2])
        return got[0]


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



def warned(fn):
    """fn()'s warnings: [(message, category, file, line)]."""
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fn()
    return [(str(x.message), x.category.__name__, os.path.basename(x.filename), x.lineno)
            for x in w]


class TestWindowPaths(BindingCase):
    def test_window_type(self):
        mon = self.open(True)
        w = mon.window("w", False)
        self.assertEqual(type(w).__name__, "Window")
        self.assertEqual((w.name, w._monitor, w._sync, w._deferred, w.measurement),
                         ("w", mon, False, False, None))

    def test_with_alike(self):
        def block(mon):
            with mon.window("a") as ma:
                filled_inside = ma.filled
                with mon.window("b", False) as mb:
                    time.sleep(0.05)
            self.assertIs(mon.last_measurement, ma)
            self.assertIsInstance(ma, joules.Measurement)
            return [sorted(vars(ma)), ma.name, mb.name, filled_inside, ma.filled, ma.cancelled,
                    ma.time > mb.time > 0.04, ma.simulated, sorted(ma.domains),
                    ma.efficiency(1e9).energy, list(mon._windows.items())]
        self.all_paths(block)

    def test_with_sync_and_log_alike(self):
        def run(fast):
            calls = []
            mon = self.open(fast, sync_execution_with=lambda: calls.append(1))
            with tempfile.TemporaryDirectory() as d:
                mon.log_file = os.path.join(d, "log.csv")
                with mon.window("w"):
                    pass
                with mon.window("x", sync_execution=False):
                    pass
                with open(mon.log_file, encoding="utf-8") as f:
                    rows = [line.split(",")[1] for line in f.read().splitlines()]
            return [len(calls), rows]
        got = [run(fast) for fast in (True, False, "window")]
        self.assertEqual(got, [[2, ["window_name", "w", "x"]]] * 3)

    def test_block_raises_alike(self):
        def raises(mon):
            ms = []

            def body(name, end_inside=False):
                with mon.window(name) as m:
                    ms.append(m)
                    if end_inside:  # the end fails too: the block's exception stays
                        mon.end_window(name)
                    raise ZeroDivisionError("in the block")
            got = [outcome(body, "fails"), ms[-1].filled, ms[-1].time > 0,
                   outcome(body, "ended", True), ms[-1].filled]
            # Ended inside a block that did not raise: the end's own error.
            with self.assertRaises(joules.JoulesError) as cm:
                with mon.window("quiet"):
                    mon.end_window("quiet")
            got.append(str(cm.exception))
            # A window that cannot begin: the block never runs.
            got.append(outcome(lambda: mon.window(5).__enter__()))
            got.append(list(mon._windows.items()))
            return got
        got = self.all_paths(raises)
        self.assertEqual(got[0][0], "ZeroDivisionError")
        self.assertTrue(got[1] and got[2])
        self.assertEqual(got[3][0], "ZeroDivisionError")
        self.assertFalse(got[4])  # neither measured nor cancelled: ended in the block
        self.assertIn("already ended", got[5])
        self.assertEqual(got[6][0], "JoulesError")

    def test_interrupt_in_block_still_measured(self):
        def interrupted(mon):
            try:
                with mon.window("w") as m:
                    raise KeyboardInterrupt
            except KeyboardInterrupt:
                pass
            return [m.filled, list(mon._windows.items())]
        self.assertEqual(self.all_paths(interrupted), [True, [("w", False)]])

    def test_decorator_alike(self):
        def decorated(mon):
            seen = []

            @mon.measure("work", on_result=seen.append)
            def work(x):
                if x is None:
                    raise ValueError("no x")
                return x * 2

            @mon.window("as-window", sync_execution=False)
            def other():
                return 7
            class Model:
                @mon.measure("method")
                def forward(self, x):
                    """Doubles x."""
                    return (self, x * 2)

            @mon.measure("ends-itself")
            def ends_itself(fail):
                mon.end_window("ends-itself")
                if fail:
                    raise KeyError("mine")

            model = Model()
            got = [work(21), outcome(work, None), other(), len(work.measurements),
                   seen == work.measurements, work.measurements[0].name,
                   work.measurements[0].filled, mon.last_measurement.name,
                   model.forward(4) == (model, 8), Model.forward(model, 1) == (model, 2),
                   len(Model.forward.measurements), Model.forward.__name__,
                   Model.forward.__qualname__.endswith("Model.forward"),
                   Model.forward.__doc__, Model.forward.__wrapped__(None, 1),
                   outcome(ends_itself, False), outcome(ends_itself, True),
                   list(mon._windows.items())]
            for _ in range(1001):
                other()
            got.append(len(other.measurements))
            other.measurements = kept = []
            other()
            got.append(len(kept))
            return got
        got = self.all_paths(decorated)
        self.assertEqual(got[:4], [42, ("ValueError", None, "no x"), 7, 1])
        self.assertEqual(got[8:11], [True, True, 2])
        self.assertIn("already ended", got[15][2])
        self.assertEqual(got[16], ("KeyError", None, "'mine'"))
        self.assertEqual(got[-2:], [1000, 1])

    def test_deferred_alike(self):
        def deferred(mon):
            with mon.window("d", deferred=True) as p:
                still_open = outcome(p.result)
                time.sleep(0.02)
            m = p.result()

            @mon.measure("step", deferred=True)
            def step():
                pass
            step()
            q = step.measurements[0]
            return [type(p).__name__, still_open, p.ticket is not None, m.name,
                    m.time >= 0.02, type(q).__name__, q.result().name.endswith("step"),
                    list(mon._windows.items())]
        got = self.all_paths(deferred)
        self.assertEqual(got[0], "Pending")
        self.assertIn("still open", got[1][2])

    def test_invalid_domain_warns_at_the_users_line(self):
        scn = jtest.scenario(LOST_SCENARIO, self.tmp)

        def lost(mon):
            time.sleep(0.6)  # past the loss
            lines = {}

            def with_form():
                lines["with"] = sys._getframe().f_lineno + 1
                with mon.window("w"):
                    pass

            @mon.measure("deco")
            def decorated():
                pass

            def call():
                lines["call"] = sys._getframe().f_lineno + 1
                decorated()
            return [warned(with_form), warned(call), lines]
        got = self.all_paths(lost, scenario=scn)
        (w_with, w_call, lines) = got
        self.assertEqual(len(w_with), 1, got)
        self.assertEqual(len(w_call), 1, got)
        self.assertIn("gpu0 not measured", w_with[0][0])
        self.assertEqual(w_with[0][2:], ("test_binding.py", lines["with"]))
        self.assertEqual(w_call[0][2:], ("test_binding.py", lines["call"]))


if __name__ == "__main__":
    unittest.main()
