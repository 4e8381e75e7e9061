# SPDX-License-Identifier: MIT
"""GFLOP per joule of a window (Measurement.efficiency, joules_efficiency_at underneath): a
simulated GPU drawing a known, fixed power and a given FLOP count; its place against the
hardware table's peaks (the RTX A6000 row for the simulated a6000, and the reference
generations), by hand; the refusals."""
import math
import os
import tempfile
import time
import unittest

import jtest
from jtest import joules

# Idle, then a fixed true power that bypasses the power model: the energy of a window is
# known from its length.
POWER_W = 200.0
SCENARIO = """# efficiency tests: a fixed power
profile a6000
idle 0.3s
phase 120s power=%g
""" % POWER_W


class TestEfficiency(jtest.LoadCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.scn = jtest.scenario(SCENARIO, cls.tmp)

    def open(self):
        m = joules.Monitor(sim="a6000", scenario=self.scn, gpu_indices=[0])
        self.addCleanup(m.close)
        time.sleep(0.6)  # past the idle phase and a first counter step
        return m

    def test_gflop_per_joule_of_a_known_power(self):
        mon = self.open()
        mon.begin_window("work")
        time.sleep(1.0)
        m = mon.end_window("work")
        flops = 4.0e13
        e = m.efficiency(flops)
        self.assertIsInstance(e, joules.Efficiency)
        self.assertEqual(e.energy, "gpu")
        self.assertEqual(e.n_gpus, 1)
        self.assertEqual(e.flops, flops)
        self.assertAlmostEqual(e.energy_j, m.gpu_energy[0], places=9)
        self.assertAlmostEqual(e.uncertainty_j, m.gpu_uncertainty[0], places=9)
        self.assertAlmostEqual(e.gflop_per_j, flops / 1e9 / m.gpu_energy[0], places=9)
        self.assertAlmostEqual(e.gflop_per_j_pm,
                               e.gflop_per_j * m.gpu_uncertainty[0] / m.gpu_energy[0], places=9)
        self.assertGreater(e.gflop_per_j_pm, 0)
        # Only a GPU is measured: the total is the same energy.
        self.assertAlmostEqual(e.total_gflop_per_j, e.gpu_gflop_per_j, places=9)
        # Against the known power: the simulator's true energy is 200 W over the window,
        # and the true GFLOP/J lies within the stated +/-.
        truth_j = m.simulator_true_energy[0]
        self.assertAlmostEqual(truth_j, POWER_W * m.time, delta=0.02 * truth_j)
        true_gflop_per_j = flops / 1e9 / truth_j
        self.assertLessEqual(abs(e.gflop_per_j - true_gflop_per_j), e.gflop_per_j_pm,
                             "%r against %.4f GFLOP/J" % (e, true_gflop_per_j))
        # The monitor's own call gives the same figure.
        self.assertEqual(mon.efficiency(m, flops).gflop_per_j, e.gflop_per_j)
        self.assertIn("GFLOP/J", repr(e))

    def test_placed_against_the_table(self):
        mon = self.open()
        mon.begin_window("work")
        time.sleep(0.5)
        m = mon.end_window("work")
        flops = 4.0e13
        plain = m.efficiency(flops)
        self.assertEqual(plain.precision, "none")
        self.assertIsNone(plain.gpu_model)
        self.assertTrue(math.isnan(plain.share_of_peak))
        self.assertEqual(plain.references, {})
        e = m.efficiency(flops, precision="bf16")
        self.assertEqual(e.gflop_per_j, plain.gflop_per_j)
        self.assertEqual(e.precision, "fp16")
        self.assertEqual(e.gpu_model, "rtx-a6000")
        self.assertTrue(e.simulated)
        self.assertEqual(e.message, "")
        # data/hardware.tsv, rtx-a6000: FP16/BF16 tensor 154.8 TFLOP/s, TDP 300 W.
        peak = 154.8e12 / 300 / 1e9
        self.assertAlmostEqual(e.peak_gflop_per_j, peak, places=9)
        self.assertAlmostEqual(e.share_of_peak, e.gflop_per_j / peak, places=12)
        self.assertAlmostEqual(e.share_of_peak_pm, e.gflop_per_j_pm / peak, places=12)
        # V100 125 TFLOP/s / 300 W, A100 40 GB 312 / 400, H100 989.4 / 700, B200 2250 / 1000.
        refs = {"v100-sxm2": 125e3 / 300, "a100-sxm4-40gb": 312e3 / 400,
                "h100-sxm5": 989.4e3 / 700, "b200": 2250e3 / 1000}
        self.assertEqual(list(e.references), list(refs))
        for key, ref_peak in refs.items():
            got_peak, got_share = e.references[key]
            self.assertAlmostEqual(got_peak, ref_peak, places=9, msg=key)
            self.assertAlmostEqual(got_share, e.gflop_per_j / ref_peak, places=12, msg=key)
        self.assertIn("SIMULATED rtx-a6000", repr(e))
        # FP8: the RTX A6000 has none ('-' in the table): unknown, and said why.
        e8 = mon.efficiency(m, flops, "fp8")
        self.assertTrue(math.isnan(e8.peak_gflop_per_j))
        self.assertIn("no fp8 peak", e8.message)
        for bad in ("fp4", 16, ""):
            with self.assertRaises(joules.JoulesError) as cm:
                m.efficiency(flops, precision=bad)
            self.assertEqual(cm.exception.code, joules._lib.E_INVALID, bad)
        # The table is the library's to read: an empty JOULES_DATA_DIR is an I/O error.
        with tempfile.TemporaryDirectory() as empty:
            old = os.environ.get("JOULES_DATA_DIR")
            os.environ["JOULES_DATA_DIR"] = empty
            try:
                with self.assertRaises(joules.JoulesError) as cm:
                    m.efficiency(flops, precision="fp16")
                self.assertEqual(cm.exception.code, joules._lib.E_IO)
                self.assertIn(empty, str(cm.exception))
            finally:
                if old is None:
                    del os.environ["JOULES_DATA_DIR"]
                else:
                    os.environ["JOULES_DATA_DIR"] = old

    def test_refusals(self):
        mon = self.open()
        mon.begin_window("w")
        time.sleep(0.2)
        m = mon.end_window("w")
        for bad in (-1.0, math.nan, math.inf, "many", None):
            with self.assertRaises(joules.JoulesError) as cm:
                m.efficiency(bad)
            self.assertEqual(cm.exception.code, joules._lib.E_INVALID, bad)
        self.assertEqual(m.efficiency(0).gflop_per_j, 0.0)
        mon.begin_window("c")
        cancelled = mon.end_window("c", cancel=True)
        with self.assertRaises(joules.JoulesError) as cm:
            cancelled.efficiency(1e9)
        self.assertEqual(cm.exception.code, joules._lib.E_NO_DOMAIN)
        self.assertIn("no valid energy", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
