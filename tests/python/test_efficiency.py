# SPDX-License-Identifier: MIT
"""GFLOP per joule of a window (Measurement.efficiency, joules_efficiency underneath): a
simulated GPU drawing a known, fixed power and a given FLOP count; the refusals."""
import math
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
