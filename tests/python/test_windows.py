# SPDX-License-Identifier: MIT
"""Windows on the simulated GPU: accuracy, nesting, overlap, context manager, decorator,
sampling, filters and errors."""
import io
import math
import os
import tempfile
import threading
import time
import unittest
import warnings

import jtest
from jtest import joules


class SimTestCase(jtest.LoadCase):
    def open(self, **kw):
        kw.setdefault("sim", "a6000")
        kw.setdefault("scenario", self.scn)
        kw.setdefault("gpu_indices", [0])
        settle = kw.pop("settle", True)
        m = joules.Monitor(**kw)
        self.addCleanup(m.close)
        if settle:
            # A window begun before the library saw a first counter step (the simulated
            # counter steps every 100 ms) is reported as 0 J +/- the step: wait for one.
            time.sleep(0.25)
        return m

    def wait_for_load(self, mon):
        # The scenario restarts at open: idle 0.3 s, then the load (open() waited 0.25 s).
        time.sleep(0.25)


class TestAccuracy(SimTestCase):
    def test_energy_within_one_percent_of_truth(self):
        mon = self.open()
        self.assertTrue(mon.simulated)
        self.wait_for_load(mon)
        mon.begin_window("load")
        time.sleep(1.2)
        m = mon.end_window("load")
        self.assertTrue(m.simulated)
        self.assertEqual(list(m.gpu_energy), [0])
        truth = m.simulator_true_energy[0]
        self.assertGreater(truth, 100.0)  # a real load, not idle
        self.assertAlmostEqual(m.gpu_energy[0], truth, delta=0.01 * truth)
        self.assertGreaterEqual(m.time, 1.2)
        self.assertLess(m.time, 1.5)
        d = m.domains["gpu0"]
        self.assertTrue(d.valid)
        self.assertEqual(d.method, "counter")
        self.assertEqual(m.method["gpu0"], "counter")
        self.assertGreater(d.uncertainty, 0)
        self.assertEqual(m.gpu_uncertainty[0], d.uncertainty)
        self.assertAlmostEqual(m.total_energy, m.gpu_energy[0])
        self.assertAlmostEqual(d.avg_power, m.gpu_energy[0] / m.time, delta=0.02 * d.avg_power)
        # Zeus's fields
        self.assertIsNone(m.cpu_energy)  # the CPU is not measured here
        self.assertIsNone(m.dram_energy)

    def test_idle_then_load_windows(self):
        mon = self.open(settle=False)
        time.sleep(0.11)  # the idle phase lasts 0.3 s from the scenario start (before open)
        mon.begin_window("idle")
        time.sleep(0.08)
        idle = mon.end_window("idle")
        time.sleep(0.4)
        mon.begin_window("load")
        time.sleep(0.3)
        load = mon.end_window("load")
        p_idle = idle.gpu_energy[0] / idle.time
        p_load = load.gpu_energy[0] / load.time
        self.assertLess(p_idle, 60)
        self.assertGreater(p_load, 3 * p_idle)
        for m in (idle, load):
            t = m.simulator_true_energy[0]
            self.assertAlmostEqual(m.gpu_energy[0], t, delta=0.03 * t + 0.5)


class TestWindows(SimTestCase):
    def test_nesting_and_overlap(self):
        mon = self.open()
        self.wait_for_load(mon)
        mon.begin_window("outer")
        time.sleep(0.2)
        mon.begin_window("a")
        time.sleep(0.2)
        mon.begin_window("inner")
        time.sleep(0.2)
        inner = mon.end_window("inner")
        time.sleep(0.1)
        mon.begin_window("b")  # overlaps "a"
        time.sleep(0.2)
        a = mon.end_window("a")
        time.sleep(0.2)
        b = mon.end_window("b")
        outer = mon.end_window("outer")
        self.assertLess(inner.time, a.time)
        self.assertLess(a.time, outer.time)
        self.assertLess(inner.gpu_energy[0], a.gpu_energy[0])
        self.assertLess(a.gpu_energy[0], outer.gpu_energy[0])
        self.assertGreater(a.end_ns, b.begin_ns)  # they overlap
        for m in (inner, a, b, outer):
            t = m.simulator_true_energy[0]
            self.assertAlmostEqual(m.gpu_energy[0], t, delta=0.03 * t, msg=m.name)
        # energy adds up: outer covers a and the rest
        self.assertGreater(outer.gpu_energy[0], a.gpu_energy[0] + 0.5 * b.gpu_energy[0])

    def test_name_reuse_after_end(self):
        mon = self.open()
        for _ in range(3):
            mon.begin_window("step")
            m = mon.end_window("step")
            self.assertEqual(m.name, "step")

    def test_context_manager(self):
        mon = self.open()
        with mon.window("ctx") as m:
            self.assertFalse(m.filled)
            time.sleep(0.1)
        self.assertTrue(m.filled)
        self.assertEqual(m.name, "ctx")
        self.assertGreaterEqual(m.time, 0.1)
        self.assertGreater(m.gpu_energy[0], 0)
        self.assertIs(mon.last_measurement, m)

    def test_context_manager_body_raises(self):
        mon = self.open()
        with self.assertRaises(ZeroDivisionError):
            with mon.window("fails") as m:
                1 / 0
        self.assertTrue(m.filled)  # what was spent is still measured
        mon.begin_window("fails")  # and the name is free again
        mon.end_window("fails")

    def test_decorator(self):
        mon = self.open()
        seen = []

        @mon.measure("work", on_result=seen.append)
        def work(x):
            time.sleep(0.05)
            return x * 2

        self.assertEqual(work(21), 42)
        self.assertEqual(work(1), 2)
        self.assertEqual(len(work.measurements), 2)
        self.assertEqual(seen, work.measurements)
        self.assertEqual(work.measurements[0].name, "work")
        self.assertGreater(work.measurements[0].gpu_energy[0], 0)

        @mon.measure
        def bare():
            return "ok"
        self.assertEqual(bare(), "ok")
        self.assertIn("bare", bare.measurements[0].name)

        @mon.window("as-window")
        def other():
            return 7
        self.assertEqual(other(), 7)
        self.assertEqual(mon.last_measurement.name, "as-window")

    def test_threads(self):
        mon = self.open()
        errors = []

        def worker(i):
            try:
                for k in range(5):
                    with mon.window("t%d-%d" % (i, k)) as m:
                        time.sleep(0.01)
                    assert m.gpu_energy[0] > 0
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)
        ts = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(errors, [])

    def test_cancel(self):
        mon = self.open()
        mon.begin_window("c")
        m = mon.end_window("c", cancel=True)
        self.assertTrue(m.cancelled)
        self.assertEqual(m.gpu_energy, {0: 0.0})
        with self.assertRaises(joules.JoulesError):
            mon.end_window("c")


class TestErrors(SimTestCase):
    def test_end_never_begun(self):
        mon = self.open()
        with self.assertRaises(joules.JoulesError) as cm:
            mon.end_window("nope")
        e = cm.exception
        self.assertEqual(e.code, -9)
        self.assertEqual(e.name, "JOULES_E_STATE")
        self.assertIn("nope", e.message)
        self.assertIn("never begun", str(e))

    def test_end_twice(self):
        mon = self.open()
        mon.begin_window("twice")
        mon.end_window("twice")
        with self.assertRaises(joules.JoulesError) as cm:
            mon.end_window("twice")
        self.assertEqual(cm.exception.name, "JOULES_E_STATE")
        self.assertIn("already ended", str(cm.exception))

    def test_begin_twice(self):
        mon = self.open()
        mon.begin_window("x")
        with self.assertRaises(joules.JoulesError) as cm:
            mon.begin_window("x")
        self.assertEqual(cm.exception.name, "JOULES_E_STATE")
        self.assertIn("already open", cm.exception.message)
        mon.end_window("x")

    def test_bad_names(self):
        mon = self.open()
        for bad in ("", "n" * 64):
            with self.assertRaises(joules.JoulesError) as cm:
                mon.begin_window(bad)
            self.assertEqual(cm.exception.name, "JOULES_E_INVALID")
        with self.assertRaises(joules.JoulesError):
            mon.begin_window(3)

    def test_closed_monitor(self):
        mon = self.open()
        mon.close()
        with self.assertRaises(joules.JoulesError) as cm:
            mon.begin_window("late")
        self.assertEqual(cm.exception.name, "JOULES_E_STATE")
        mon.close()  # twice is harmless

    def test_unknown_gpu_index(self):
        with self.assertRaises(joules.JoulesError) as cm:
            self.open(gpu_indices=[5])
        self.assertEqual(cm.exception.name, "JOULES_E_NOT_FOUND")
        self.assertIn("5", cm.exception.message)

    def test_nothing_to_measure(self):
        with self.assertRaises(joules.JoulesError) as cm:
            self.open(gpu_indices=[], cpu_indices=[])
        self.assertEqual(cm.exception.name, "JOULES_E_INVALID")

    def test_bad_scenario(self):
        bad = jtest.scenario("phase 1s bogus=1\n", tempfile.mkdtemp(dir=self.tmp))
        with self.assertRaises(joules.JoulesError) as cm:
            self.open(scenario=bad)
        self.assertIn("bogus", cm.exception.message)
        self.open()  # the simulator still works afterwards

    def test_error_is_runtime_error(self):
        self.assertTrue(issubclass(joules.JoulesError, RuntimeError))
        e = joules.JoulesError(-11)
        self.assertEqual(e.name, "JOULES_E_SYNC")
        self.assertTrue(e.message)

    def test_bad_sync_value(self):
        with self.assertRaises(joules.JoulesError) as cm:
            self.open(sync_execution_with="tensorflow")
        self.assertEqual(cm.exception.name, "JOULES_E_INVALID")


class TestSampling(SimTestCase):
    def test_sample_series_and_csv(self):
        mon = self.open()
        self.wait_for_load(mon)
        t0 = time.monotonic()
        series = mon.record(interval=0.05, duration=0.5)
        elapsed = time.monotonic() - t0
        # A tick the host made late is skipped, never bunched: 11 samples on a quiet host,
        # one fewer for each stall of a tick or more.
        self.assertLess(elapsed, 0.8)
        times = [s.time for s in series]
        self.assertEqual(times[0], 0.0)
        ticks = [round(t / 0.05) for t in times]
        self.assertEqual(ticks[0], 0)
        self.assertTrue(all(b > a for a, b in zip(ticks, ticks[1:])), ticks)
        self.assertGreaterEqual(len(series), 9)
        self.assertGreaterEqual(ticks[-1], 9)
        # Absolute deadlines, no drift: the median step per tick is the interval (sleeps of
        # 50 ms after each sample would add the sample's own time to every step).
        steps = sorted((t1 - t0) / (k1 - k0) for t0, t1, k0, k1 in
                       zip(times, times[1:], ticks, ticks[1:]))
        self.assertAlmostEqual(steps[len(steps) // 2], 0.05, delta=0.002)
        last = series[-1]
        self.assertGreater(last.energy["gpu0"], 50)
        self.assertGreater(last.avg_power["gpu0"], 100)
        self.assertIsNotNone(last.power["gpu0"])
        buf = io.StringIO()
        series.to_csv(buf)
        lines = buf.getvalue().splitlines()
        self.assertEqual(lines[0], "time_s,unix_time_s,gpu0_energy_j,gpu0_power_w,"
                                   "gpu0_avg_power_w")
        self.assertEqual(len(lines), len(series) + 1)
        path = os.path.join(self.tmp, "series.csv")
        joules.to_csv(series, path)
        with open(path) as f:
            self.assertEqual(f.read().splitlines()[0], lines[0])

    def test_sample_generator_count(self):
        mon = self.open()
        got = list(mon.sample(interval=0.02, count=3))
        self.assertEqual(len(got), 3)
        with self.assertRaises(joules.JoulesError):
            next(mon.sample(interval=0))


class TestInfo(SimTestCase):
    def test_domains_and_status(self):
        mon = self.open()
        self.assertEqual(mon.gpu_indices, [0])
        self.assertEqual([d.name for d in mon.domains], ["gpu0"])
        d = mon.domains[0]
        self.assertTrue(d.simulated)
        self.assertIn("simulated", d.device.lower())
        st = mon.gpu_status(0)
        self.assertEqual(st["simulated"], 1)
        self.assertGreater(st["power_limit_w"], 0)
        bs = mon.backend_status()
        self.assertEqual(bs["nvml"]["code"], 0)
        self.assertIn("SIMULATED", bs["nvml"]["message"])
        self.assertIn("SIMULATED", repr(mon))
        r = mon.read()
        self.assertIn("gpu0", r)

    def test_gpu_only_filter(self):
        mon = self.open(cpu_indices=[])
        self.assertTrue(all(d.kind == "gpu" for d in mon.domains))

    def test_zeus_alias_and_log_file(self):
        from joules import Monitor as ZeusMonitor
        log = os.path.join(self.tmp, "zeus.csv")
        mon = ZeusMonitor(gpu_indices=[0], sim="a6000", log_file=log)
        self.addCleanup(mon.close)
        mon.begin_window("matmul")
        m = mon.end_window("matmul")
        self.assertIsInstance(m.gpu_energy[0], float)
        self.assertIsInstance(m.time, float)
        with open(log) as f:
            rows = f.read().splitlines()
        self.assertEqual(rows[0], "start_time,window_name,elapsed_time,gpu0_energy")
        self.assertIn(",matmul,", rows[1])
        # Every way of ending a window logs it, a busy end too.
        mon.begin_window("busy")
        mon.end_window("busy", busy=lambda: time.sleep(0.001))
        with open(log) as f:
            self.assertIn(",busy,", f.read().splitlines()[2])

    def test_invalid_domain_is_nan_with_warning(self):
        # Build a measurement from a C struct whose domain is not valid.
        c = joules.monitor._lib.CMeasurement()
        c.name = b"w"
        c.duration_s = 1.0
        c.domains[0].valid = 0
        c.domains[0].error = -7
        c.domains[0].message = b"device lost"
        mon = self.open()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m = joules.Measurement()._fill(c, mon.domains)
        self.assertTrue(math.isnan(m.gpu_energy[0]))
        self.assertEqual(m.total_energy, 0.0)
        self.assertEqual(m.domains["gpu0"].error_name, "JOULES_E_DEVICE_LOST")
        self.assertTrue(any("device lost" in str(x.message) for x in w))


if __name__ == "__main__":
    unittest.main()
