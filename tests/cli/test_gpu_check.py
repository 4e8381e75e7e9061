# SPDX-License-Identifier: MIT
"""scripts/gpu-check (make gpu-check, docs/real-gpu.md) on the simulated GPU, so the script the
rare runs on real hardware depend on cannot rot: every step passes on a healthy simulated H100
and writes its files; a simulated board without an energy counter makes the counter and run
checks fail and the script exit 1; without any NVIDIA driver the real path stops with exit 3
and says why."""
import csv
import json
import os
import subprocess
import sys
import unittest

from clitest import BIN, SANITIZE, SLACK, SOURCE_DIR, CliTestCase, have_sim

SCRIPT = os.path.join(SOURCE_DIR, "scripts", "gpu-check")
BUILD = os.path.dirname(os.path.dirname(BIN))
STEPS = ["info", "facts", "counter", "ab-fp32", "ab-tf32", "ab-fp16", "ab-bf16", "run",
         "repeat", "watch", "python"]


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class GpuCheckTest(CliTestCase):
    def check(self, *args, env=None):
        out = self.path("out")
        p = subprocess.run([sys.executable, SCRIPT, "--out", out, *args],
                           env=env or self.env(BUILD=BUILD), capture_output=True, text=True,
                           timeout=300 * SLACK)
        summary = None
        if os.path.exists(os.path.join(out, "summary.json")):
            with open(os.path.join(out, "summary.json")) as f:
                summary = json.load(f)
        return p, out, summary

    def statuses(self, summary):
        return {c["name"]: c["status"] for c in summary["checks"]}

    def test_simulated_gpu_passes(self):
        p, out, summary = self.check("--sim", "--quick")
        self.assertExit(p, 0)
        st = self.statuses(summary)
        self.assertEqual(list(st), STEPS)
        want_python = "SKIP" if SANITIZE else "PASS"  # a sanitized libjoules cannot load
        for name, status in st.items():
            self.assertEqual(status, want_python if name == "python" else "PASS",
                             f"{name}: {summary['checks']}")
        self.assertTrue(summary["passed"])
        with open(os.path.join(out, "summary.md")) as f:
            md = f.read()
        self.assertIn("# joules gpu-check: passed", md)
        self.assertIn("SIMULATED", md)
        self.assertIn("| counter | PASS |", md)
        for name in ("info.json", "counter.csv", "run.json", "run-series.csv", "run.svg",
                     "repeat.json", "watch.csv", "watch.svg", "figures.csv", "ab-fp32.json",
                     "ab-bf16.csv", "ab-fp16.svg"):
            self.assertGreater(os.path.getsize(os.path.join(out, name)), 0, name)
        figs = {c["name"]: c["figures"] for c in summary["checks"]}
        # The simulated counter steps every 100 ms; a 5 ms sampling resolves it.
        self.assertAlmostEqual(figs["counter"]["counter_period_median_s"], 0.1, delta=0.01)
        self.assertTrue(figs["counter"]["power_instant_present"])
        self.assertTrue(figs["counter"]["power_avg_present"])
        self.assertLess(abs(figs["run"]["agreement_instant_pct"]), 5)
        self.assertEqual(figs["facts"]["profile"], "h100-sxm5")
        # Data switches more than zeros: the normal arm costs more energy in every precision.
        for prec in ("fp32", "tf32", "fp16", "bf16"):
            self.assertGreater(figs[f"ab-{prec}"]["ratio_energy_j (normal/zeros)"], 1.0)
        with open(os.path.join(out, "figures.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertIn(("run", "energy_j"), {(r["check"], r["figure"]) for r in rows})

    def test_broken_counter_fails(self):
        p, out, summary = self.check("--sim", "--quick", "--sim-fault", "no-energy",
                                     "--steps", "info,counter,run")
        self.assertExit(p, 1)
        st = self.statuses(summary)
        self.assertEqual(st, {"info": "PASS", "counter": "FAIL", "run": "FAIL"})
        self.assertFalse(summary["passed"])
        with open(os.path.join(out, "summary.md")) as f:
            md = f.read()
        self.assertIn("# joules gpu-check: FAILED", md)
        self.assertIn("Failed: counter, run", md)
        self.assertIn("FAILED: counter, run", p.stderr)

    def test_no_driver(self):
        p, out, summary = self.check()  # the real path; clitest's env hides any real NVML
        self.assertExit(p, 3)
        self.assertIn("no NVIDIA GPU or driver found", p.stderr)
        self.assertIn("JOULES_NVML_LIBRARY", p.stderr)  # the remedy is passed on
        self.assertEqual(self.statuses(summary), {"info": "FAIL"})

    def test_usage(self):
        for args in (["--steps", "info,nope"], ["--sim-fault", "no-energy"]):
            p, _, _ = self.check(*args)
            self.assertExit(p, 2)


if __name__ == "__main__":
    unittest.main()
