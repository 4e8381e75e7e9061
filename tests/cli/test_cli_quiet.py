# SPDX-License-Identifier: MIT
"""Noise and silence (issue 20, item 7): what joules says, and only that. The sampler's own
figures only with -v; a simulated GPU that ran no load is said to have run none, with the
remedy; `joules idle` shows progress; `joules sim thermal` writes files only where asked;
--scenario finds the installed scenarios from any directory and lists where it looked;
`joules sim ab` says why its ratio is not `joules ab`'s."""
import os
import pty
import re
import subprocess
import unittest

from clitest import BIN, SLACK, CliTestCase, have_sim


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class Quiet(CliTestCase):
    def run_in(self, cwd, *args, stderr=subprocess.PIPE, timeout=120):
        return subprocess.run([BIN, *args], env=self.env(), cwd=cwd, timeout=timeout * SLACK,
                              stdout=subprocess.PIPE, stderr=stderr, text=True)

    # -- joules run ----------------------------------------------------------------------

    def test_sampler_figures_only_with_verbose(self):
        plot = self.path("p.svg")
        p = self.joules("run", "--sim", "--plot", plot, "--", "sleep", "0.3")
        self.assertExit(p, 0)
        self.assertNotIn("rounds of", p.stderr)
        self.assertNotIn("lateness", p.stderr)
        self.assertIn("Energy of", p.stderr)
        for flag in ("-v", "--verbose"):
            p = self.joules("run", "--sim", flag, "--plot", plot, "--", "sleep", "0.3")
            self.assertExit(p, 0)
            self.assertIn("rounds of 1 domain(s)", p.stderr)
        p = self.joules("run", "--help")
        self.assertIn("-v, --verbose", p.stdout)

    def test_idle_simulated_gpu_is_said(self):
        p = self.joules("run", "--sim", "--", "true")
        self.assertExit(p, 0)
        self.assertIn("the simulated GPU ran no load", p.stderr)
        self.assertIn("--scenario", p.stderr)
        # With a load it says nothing of the kind; with -q nothing at all.
        p = self.joules("run", "--scenario", "demo", "--", "sleep", "0.6")
        self.assertExit(p, 0)
        self.assertNotIn("ran no load", p.stderr)
        p = self.joules("run", "--sim", "-q", "--", "true")
        self.assertEqual(p.stderr, "")

    # -- --scenario ----------------------------------------------------------------------

    def test_scenario_found_in_the_installed_directory(self):
        elsewhere = self.path("elsewhere")
        os.mkdir(elsewhere)
        for name in ("demo", "demo.scn", "scenarios/demo.scn"):
            p = self.run_in(elsewhere, "run", "-q", "--scenario", name, "--json", "-", "--",
                            "true")
            self.assertEqual(p.returncode, 0, (name, p.stderr))
        # A file of that name in the current directory comes first.
        with open(os.path.join(elsewhere, "demo.scn"), "w") as f:
            f.write("profile nope-not-a-gpu\n")
        p = self.run_in(elsewhere, "run", "-q", "--scenario", "demo.scn", "--", "true")
        self.assertNotEqual(p.returncode, 0)
        # Not found: where it looked, and what is installed.
        p = self.run_in(elsewhere, "run", "--scenario", "scenarios/nope.scn", "--", "true")
        self.assertEqual(p.returncode, 2)
        self.assertIn("cannot find the scenario file 'scenarios/nope.scn'", p.stderr)
        self.assertIn(os.path.join("share", "joules", "scenarios", "nope.scn"), p.stderr)
        self.assertIn("demo.scn", p.stderr)

    # -- joules idle ---------------------------------------------------------------------

    def test_idle_shows_progress(self):
        p = self.joules("idle", "--sim", "--no-store", "--duration", "2s")
        self.assertExit(p, 0)
        self.assertEqual(len(re.findall(r"joules idle: \d+ % \(", p.stderr)), 3, p.stderr)
        # On a terminal: one line rewritten each second, cleared at the end.
        master, slave = pty.openpty()
        try:
            p = subprocess.run([BIN, "idle", "--sim", "--no-store", "--duration", "3s"],
                               env=self.env(), stdout=subprocess.PIPE, stderr=slave,
                               timeout=60 * SLACK, text=True)
            os.close(slave)
            slave = -1
            out = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        finally:
            if slave >= 0:
                os.close(slave)
            os.close(master)
        self.assertEqual(p.returncode, 0)
        text = out.decode()
        self.assertIn("\rjoules idle: 1 of 3 s", text)
        self.assertIn("\rjoules idle: 2 of 3 s", text)
        self.assertIn("\r\x1b[K", text)

    # -- joules sim ----------------------------------------------------------------------

    def test_sim_thermal_writes_only_what_is_asked(self):
        cwd = self.path("cwd")
        os.mkdir(cwd)
        p = self.run_in(cwd, "sim", "thermal", "--duration", "50")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.listdir(cwd), [])
        self.assertIn("no file written", p.stdout)
        p = self.run_in(cwd, "sim", "thermal", "--duration", "50", "--svg", "t.svg")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.listdir(cwd), ["t.svg"])
        self.assertIn("wrote the chart to t.svg", p.stdout)

    def test_sim_ab_says_why_its_ratio_differs(self):
        p = self.joules("sim", "ab")
        self.assertExit(p, 0)
        m = re.search(r"`joules ab` runs it at 90 % of peak \(\d+ per 1.13 s\): model ratio "
                      r"([0-9.]+)", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        # `joules ab --sim a6000 --lock-clocks 1000` reports 0.765 [0.762, 0.768]
        # (docs/ab.md): the same model, the same ratio within a percent.
        self.assertAlmostEqual(float(m.group(1)), 0.765, delta=0.008)


if __name__ == "__main__":
    unittest.main()
