# SPDX-License-Identifier: MIT
"""end_window(deferred=True) on the simulated GPU: a loop of short windows that does not
wait, results anchored on counter steps, Pending's contract and its errors."""
import os
import threading
import time
import unittest

import jtest
from jtest import joules


class TestDeferred(jtest.LoadCase):
    def open(self, **kw):
        mon = joules.Monitor(sim="a6000", scenario=self.scn, gpu_indices=[0], **kw)
        self.addCleanup(mon.close)
        time.sleep(0.6)  # past the scenario's idle 0.3 s, and a few counter steps seen
        return mon

    def test_loop_does_not_wait_and_results_are_anchored(self):
        # settle_end=True: a plain end would wait for the counter (~100 ms) each time.
        mon = self.open(settle_end=True)
        pending = []
        t0 = time.monotonic()
        for _ in range(10):
            mon.begin_window("step")
            time.sleep(0.03)
            pending.append(mon.end_window("step", deferred=True))
        loop_s = time.monotonic() - t0
        # Ten 30 ms windows (0.3 s); settled ends would add ~50 ms each on average.
        self.assertLess(loop_s, 0.65)
        time.sleep(0.25)
        for p in pending:
            self.assertTrue(p.ready)
            m = p.result(wait=False)
            self.assertIs(p.result(), m)  # computed once
            self.assertTrue(m.simulated)
            d = m.domains["gpu0"]
            self.assertEqual(d.method, "counter")
            self.assertIn("both edges anchored", d.message)
            truth = m.simulator_true_energy[0]
            self.assertAlmostEqual(m.gpu_energy[0], truth, delta=max(d.uncertainty, 0.02 * truth))
            self.assertGreaterEqual(m.time, 0.03)
        self.assertIs(mon.last_measurement, pending[-1].result())
        self.assertIn("collected", repr(pending[0]))

    def test_result_waits_for_the_step(self):
        mon = self.open()
        mon.begin_window("w")
        time.sleep(0.05)
        p = mon.end_window("w", deferred=True)
        self.assertIn("ticket", repr(p))
        m = p.result()  # waits for the counter's step (at most ~150 ms after the end)
        self.assertIn("both edges anchored", m.domains["gpu0"].message)

    def test_log_file_written_at_collection(self):
        log = os.path.join(self.tmp, "deferred.csv")
        mon = self.open(log_file=log)
        mon.begin_window("w")
        time.sleep(0.02)
        p = mon.end_window("w", deferred=True)
        self.assertFalse(os.path.exists(log))
        p.result()
        with open(log, encoding="utf-8") as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "start_time,window_name,elapsed_time,gpu0_energy")
        self.assertEqual(lines[1].split(",")[1], "w")

    def test_errors(self):
        mon = self.open()
        with self.assertRaises(joules.JoulesError) as cm:
            mon.end_window("never", deferred=True)
        self.assertIn("never begun", str(cm.exception))
        mon.begin_window("w")
        with self.assertRaises(joules.JoulesError) as cm:
            mon.end_window("w", deferred=True, busy=lambda: None)
        self.assertIn("give one", str(cm.exception))
        p = mon.end_window("w", deferred=True)
        with self.assertRaises(joules.JoulesError) as cm:
            mon.end_window("w", deferred=True)
        self.assertIn("already ended", str(cm.exception))
        mon.close()
        with self.assertRaises(joules.JoulesError) as cm:
            p.result()
        self.assertIn("closed", str(cm.exception))

    def test_result_from_threads(self):
        mon = self.open()
        mon.begin_window("w")
        time.sleep(0.02)
        p = mon.end_window("w", deferred=True)
        got, errors = [], []

        def collect():
            try:
                got.append(p.result())
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
        threads = [threading.Thread(target=collect) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(got), 4)
        self.assertTrue(all(m is got[0] for m in got))

    def test_limit_says_collect(self):
        mon = self.open()
        kept = []
        for _ in range(1024):
            mon.begin_window("w")
            kept.append(mon.end_window("w", deferred=True))
        mon.begin_window("w")
        with self.assertRaises(joules.JoulesError) as cm:
            mon.end_window("w", deferred=True)
        self.assertIn("collect them", str(cm.exception))
        self.assertNotIn("never begun", str(cm.exception))
        kept[0].result(wait=False)
        self.assertIsInstance(mon.end_window("w", deferred=True), joules.Pending)  # still open

    def test_context_manager_and_decorator(self):
        mon = self.open()
        with mon.window("block", deferred=True) as p:
            time.sleep(0.03)
            with self.assertRaises(joules.JoulesError) as cm:
                p.result()  # the window is still open
            self.assertIn("still open", str(cm.exception))
            self.assertIn("still open", repr(p))
        self.assertIsInstance(p, joules.Pending)
        self.assertIn("ticket", repr(p))
        m = p.result()
        self.assertIn("both edges anchored", m.domains["gpu0"].message)
        self.assertGreaterEqual(m.time, 0.03)

        seen = []

        @mon.measure(deferred=True, on_result=seen.append)
        def step():
            time.sleep(0.02)
        for _ in range(3):
            step()
        self.assertEqual(len(step.measurements), 3)
        self.assertTrue(all(isinstance(x, joules.Pending) for x in step.measurements))
        self.assertEqual(seen, step.measurements)
        results = [x.result() for x in step.measurements]
        self.assertTrue(all(r.name.endswith("step") and r.time >= 0.02 for r in results))

        @mon.window("decorated", deferred=True)
        def other():
            time.sleep(0.01)
        other()
        self.assertIsInstance(other.measurements[0], joules.Pending)

    def test_dropped_pending_releases_its_slot(self):
        mon = self.open()
        # More than the library holds (1024): each Pending dropped uncollected frees its slot.
        for _ in range(1100):
            mon.begin_window("w")
            mon.end_window("w", deferred=True)
        mon.begin_window("w")
        self.assertIsInstance(mon.end_window("w", deferred=True), joules.Pending)


if __name__ == "__main__":
    unittest.main()
