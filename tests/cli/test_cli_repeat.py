# SPDX-License-Identifier: MIT
"""`joules repeat`: energy of one run of a short command from phase-shifted groups of runs,
checked against the simulator's true energy, with and without an energy counter. The load
here comes from the scenario (a command cannot drive the simulated GPU); bursty work that
the workload itself causes is tested through the library in tests/test_repeat.c."""
import os
import unittest

from clitest import CliTestCase

LOAD = """profile a100-sxm4-80gb
idle 0.2s context=1
phase 120s util=1 alpha=0.6
"""


class Repeat(CliTestCase):
    def run_repeat(self, scenario_text, *extra):
        self.require_sim()
        scn = self.write("s.scn", scenario_text)
        out = self.path("r.json")
        p = self.joules("repeat", "--scenario", scn, "--json", out, *extra, "--", "sleep", "0.02")
        self.assertExit(p, 0)
        self.assertIn("SIMULATED", p.stderr)
        self.assertIn("Energy of ONE run", p.stderr)
        return self.load_json("r.json")

    def check(self, r, method, tol):
        self.assertEqual(r["schema"], "joules.repeat/1")
        self.assertTrue(r["simulated"])
        self.assertEqual(r["groups"], 4)
        self.assertGreater(r["runs_total"], r["runs_measured"])
        d = r["domains"][0]
        self.assertEqual(d["method"], method)
        truth = d["simulator_true_energy_per_run_j"]
        self.assertGreater(truth, 0)
        self.assertLess(abs(d["energy_per_run_j"] - truth), tol * truth, d)
        self.assertLessEqual(abs(d["energy_per_run_j"] - truth), d["energy_uncertainty_j"], d)

    def test_with_the_energy_counter(self):
        self.check(self.run_repeat(LOAD, "--min-time", "1.2s"), "counter", 0.01)

    def test_without_a_counter_power_from_a_part_time_sensor(self):
        # A sensor that lags by its window needs the load established before measuring.
        r = self.run_repeat(LOAD + "fault no-energy\n", "--min-time", "1.6s", "--settle", "0.4s")
        self.check(r, "integrated-power", 0.05)

    def test_the_command_is_named_with_its_arguments(self):
        self.require_sim()
        p = self.joules("repeat", "--sim", "--min-time", "0.3s", "--", "sh", "-c", ":")
        self.assertExit(p, 0)
        self.assertIn("Energy of ONE run of: sh -c :", p.stderr)

    def test_a_command_that_cannot_start(self):
        self.require_sim()
        p = self.joules("repeat", "--sim", "--", "no-such-command-here")
        self.assertExit(p, 127)
        self.assertIn("cannot start no-such-command-here", p.stderr)
        self.assertNotIn("exited with status", p.stderr)

    def test_a_failing_run_stops_and_writes_nothing(self):
        self.require_sim()
        out = self.path("r.json")
        p = self.joules("repeat", "--sim", "--json", out, "--", "sh", "-c", "exit 3")
        self.assertExit(p, 3)
        self.assertIn("exited with status 3", p.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertNoStrayFiles(self.tmp)

    def test_usage(self):
        for args in (["repeat"], ["repeat", "--groups", "0", "--", "true"],
                     ["repeat", "--min-time", "soon", "--", "true"],
                     ["repeat", "--runs", "-4", "--", "true"], ["repeat", "--bogus", "true"]):
            p = self.joules(*args)
            self.assertExit(p, 2)
            self.assertIn("joules repeat", p.stderr)
        p = self.joules("repeat", "--help")
        self.assertExit(p, 0)
        self.assertIn("phase", p.stdout)


if __name__ == "__main__":
    unittest.main()
