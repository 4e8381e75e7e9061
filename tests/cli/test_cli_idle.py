# SPDX-License-Identifier: MIT
"""`joules idle` and the dynamic energy `joules run` derives from its baseline, on the
simulated GPU with loads of known true power (scenario `power=`), in a temporary
XDG_CACHE_HOME."""
import glob
import json
import os
import re
import unittest

from clitest import CliTestCase, have_sim

IDLE_W = 61.5
IDLE = f"profile a6000\nphase 120s util=0 power={IDLE_W} context=0\n"
# At rest for 0.4 s (P8, as during `joules idle`), then a load of known power.
LOAD = f"profile a6000\nphase 0.4s util=0 power={IDLE_W} context=0\nphase 120s util=1 power=261.5\n"
BUSY = "profile a6000\nphase 120s util=1 alpha=0.7\n"


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class IdleTest(CliTestCase):
    def setUp(self):
        super().setUp()
        self.cache = self.path("cache")

    def env(self, **extra):
        return super().env(XDG_CACHE_HOME=self.cache, **extra)

    def baselines(self):
        return sorted(glob.glob(os.path.join(self.cache, "joules", "baseline-*.json")))

    def idle(self, scenario, *args):
        return self.joules("idle", "--sim", "--scenario", self.write("idle.scn", scenario),
                           "--duration", "1.5s", *args)

    def test_baseline_is_the_idle_power(self):
        p = self.idle(IDLE)
        self.assertExit(p, 0)
        self.assertIn("SIMULATED", p.stdout)
        files = self.baselines()
        self.assertEqual(len(files), 1, files)
        self.assertRegex(os.path.basename(files[0]), r"^baseline-GPU-[0-9a-f-]+-P8\.json$")
        with open(files[0]) as f:
            b = json.load(f)
        self.assertEqual(b["schema"], "joules.baseline/1")
        self.assertEqual((b["domain"], b["kind"], b["clock_state"]), ("gpu0", "gpu", "P8"))
        self.assertTrue(b["simulated"])
        self.assertTrue(b["idle_ok"])
        self.assertEqual(b["method"], "counter")
        self.assertEqual(b["utilization_max_pct"], 0)
        # Within the sensor's error: the counter's mJ resolution and edges, well under 1 %.
        self.assertAlmostEqual(b["power_w"], IDLE_W, delta=0.01 * IDLE_W)
        self.assertLessEqual(abs(b["power_w"] - IDLE_W), 2 * b["power_uncertainty_w"] + 0.05)
        self.assertGreater(b["samples"], 5)
        self.assertNoStrayFiles(os.path.join(self.cache, "joules"))

    def test_not_idle_is_not_stored(self):
        p = self.idle(BUSY)
        self.assertExit(p, 1)
        self.assertIn("was not idle: utilisation reached", p.stderr)
        self.assertEqual(self.baselines(), [])
        p = self.idle(BUSY, "--force")
        self.assertExit(p, 0)
        with open(self.baselines()[0]) as f:
            self.assertFalse(json.load(f)["idle_ok"])

    def test_no_store(self):
        self.assertExit(self.idle(IDLE, "--no-store"), 0)
        self.assertEqual(self.baselines(), [])

    def test_dynamic_energy_of_a_known_load(self):
        load = self.write("load.scn", LOAD)
        # Without a baseline, no dynamic energy is claimed.
        p = self.joules("run", "--sim", "--scenario", load, "--", "sleep", "0.1")
        self.assertExit(p, 0)
        self.assertNotIn("Dynamic energy", p.stderr)
        self.assertExit(self.idle(IDLE), 0)
        p = self.joules("run", "--sim", "--scenario", load, "--json", self.path("r.json"),
                        "--", "sleep", "1.5")
        self.assertExit(p, 0)
        self.assertIn("Dynamic energy (derived, method model)", p.stderr)
        m = re.search(r"gpu0\s+([0-9.]+) J \+/- ([0-9.]+) J\s+\(static ([0-9.]+) W", p.stderr)
        self.assertIsNotNone(m, p.stderr)
        dyn, unc = float(m.group(1)), float(m.group(2))
        self.assertRegex(p.stderr, r"baseline .*baseline-GPU-.*-P8\.json, \d+ s old")
        r = self.load_json("r.json")
        d = r["domains"][0]
        truth = d["simulator_true_energy_j"] - IDLE_W * r["duration_s"]
        self.assertGreater(truth, 150)  # most of the window is under load
        self.assertLess(abs(dyn - truth), 0.02 * truth, p.stderr)
        self.assertLess(abs(dyn - truth), unc + 0.01 * truth)
        # The JSON carries the same derived figure, labelled as a model.
        dj = d["dynamic"]
        self.assertEqual(dj["method"], "model")
        self.assertAlmostEqual(dj["energy_j"], dyn, delta=0.001 + 1e-6 * dyn)
        self.assertAlmostEqual(dj["energy_uncertainty_j"], unc, delta=0.001 + 1e-6 * unc)
        self.assertIn("baseline-GPU-", dj["baseline_file"])
        self.assertGreater(dj["baseline_power_w"], 0)

    def test_non_finite_baseline_is_no_baseline(self):
        # strtod reads "inf" and "nan"; a baseline holding them is refused, not used.
        self.assertExit(self.idle(IDLE), 0)
        path = self.baselines()[0]
        with open(path) as f:
            text = f.read()
        for bad in ("inf", "nan", "1e999"):
            with open(path, "w") as f:
                f.write(re.sub(r'"power_w": [^,\n]+', f'"power_w": {bad}', text))
            p = self.joules("run", "--sim", "--", "sleep", "0.1")
            self.assertExit(p, 0)
            self.assertNotIn("Dynamic energy", p.stderr)
            self.assertNotIn("inf", p.stderr)


if __name__ == "__main__":
    unittest.main()
