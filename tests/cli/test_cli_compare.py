# SPDX-License-Identifier: MIT
"""`joules compare`: on the simulated GPU with a scenario per command (a known truth), the
energy ratio's interval covers the simulator's true ratio; the gate's exit status both ways;
--baseline; commands that fail, that do not exist, that print a lot; --prepare and --setup;
Ctrl-C mid-comparison reports what was measured; the usage errors.

The coverage of the interval over many repetitions is tested in C on seeded synthetic runs
(tests/test_compare_stats.c): real-time runs on the simulator are too slow for it here."""
import csv
import os
import signal
import statistics
import subprocess
import time
import unittest

from clitest import BIN, SLACK, CliTestCase


class CompareSimulated(CliTestCase):
    def setUp(self):
        super().setUp()
        self.require_sim()
        # Fixed true power: the true energy ratio of equal-length runs is 150/200 = 0.75.
        self.hi = self.write("hi.scn", "phase 3600s power=200\n")
        self.lo = self.write("lo.scn", "phase 3600s power=150\n")

    def env(self, **extra):
        # No idle baseline from the user's cache: the report must not depend on it.
        return super().env(XDG_CACHE_HOME=self.path("cache"), **extra)

    def compare(self, *args, **kw):
        return self.joules("compare", *args, **kw)

    @staticmethod
    def paired_truth(d, name_a="A", name_b="B"):
        rounds = {}
        for r in d["runs"]:
            rounds.setdefault(r["round"], {})[r["command"]] = r
        return [v[name_b]["sim_truth_j"] / v[name_a]["sim_truth_j"]
                for v in rounds.values() if name_a in v and name_b in v]

    def test_known_ratio_covered_outputs_gate_passes_and_baseline(self):
        # 8 rounds: the interval is [min, max] of the paired ratios, 99.2 % by construction,
        # so a real-time run on a busy machine rarely misses for want of rounds.
        p = self.compare("--runs", "8", "--scenario-a", self.hi, "--scenario-b", self.lo,
                         "--fail-if-more", "5%", "--json", self.path("r.json"),
                         "--csv", self.path("r.csv"), "--svg", self.path("r.svg"),
                         "--", "sleep", "0.3", ":::", "sleep", "0.3")
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, "")
        self.assertIn("SIMULATED", p.stderr)
        self.assertIn("B used", p.stderr)
        self.assertIn("less energy than A", p.stderr)
        self.assertIn("gate --fail-if-more 5.0 %: passed", p.stderr)
        d = self.load_json("r.json")
        self.assertEqual(d["schema"], "joules.compare/1")
        self.assertTrue(d["simulated"])
        self.assertEqual(d["rounds"], 8)
        self.assertFalse(d["interrupted"])
        self.assertEqual(len(d["runs"]), 16)
        self.assertFalse(d["gate"]["failed"])
        # ABBA: A first in even rounds, B first in odd ones.
        firsts = [r["command"] for r in d["runs"][0::2]]
        self.assertEqual(firsts, ["A", "B"] * 4)
        truth = self.paired_truth(d)
        self.assertEqual(len(truth), 8)
        true_ratio = statistics.median(truth)
        self.assertAlmostEqual(true_ratio, 0.75, delta=0.01)
        e = d["ratios"][0]["energy"]
        self.assertLessEqual(e["lo"], true_ratio, d["ratios"][0])
        self.assertGreaterEqual(e["hi"], true_ratio, d["ratios"][0])
        self.assertGreaterEqual(e["coverage"], 0.95)
        self.assertIn("less energy", d["ratios"][0]["verdict"])
        for c in d["commands"]:
            for q in ("energy_j", "time_s", "power_w", "edp_js"):
                iv = c[q]
                self.assertLessEqual(iv["lo"], iv["median"])
                self.assertLessEqual(iv["median"], iv["hi"])
        with open(self.path("r.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), 16)
        self.assertEqual({r["schema"] for r in rows}, {"joules.compare.csv/1"})
        self.assertEqual(sorted({r["command"] for r in rows}), ["A", "B"])
        with open(self.path("r.svg")) as f:
            svg = f.read()
        self.assertIn("SIMULATED", svg)
        self.assertGreaterEqual(svg.count("<circle"), 4 * 16)  # every run, in every panel
        self.assertNoStrayFiles(self.tmp)

        # The saved result as a baseline: one command at 150 W against its A at 200 W.
        p = self.compare("--runs", "4", "--warmup", "0", "--baseline", self.path("r.json"),
                         "--scenario-a", self.lo, "--fail-if-more", "5%",
                         "--json", self.path("b.json"), "--", "sleep", "0.3")
        self.assertExit(p, 0)
        b = self.load_json("b.json")
        vs = [r for r in b["ratios"] if r["over"] == "baseline"]
        self.assertEqual(len(vs), 1)
        self.assertEqual(vs[0]["pairing"], "unpaired")
        self.assertLess(vs[0]["energy"]["lo"], 0.76)
        self.assertGreater(vs[0]["energy"]["hi"], 0.74)
        self.assertIn("less energy than the baseline", vs[0]["verdict"])
        self.assertEqual(b["baseline"]["runs"], 8)

    def test_dynamic_energy_with_an_idle_baseline(self):
        self.assertExit(self.joules("idle", "--sim", "--duration", "1s"), 0)
        p = self.compare("--sim", "--runs", "2", "--warmup", "0", "--json", self.path("d.json"),
                         "--", "sleep", "0.2", ":::", "sleep", "0.2")
        self.assertExit(p, 0)
        self.assertIn("dynamic (J)", p.stderr)
        d = self.load_json("d.json")
        self.assertTrue(d["dynamic"])
        for r in d["runs"]:
            # An idle GPU: the dynamic energy is what is left of the static power, near 0.
            self.assertLess(abs(r["dynamic_j"]), 0.1 * r["energy_j"], r)

    def test_gate_fails_when_b_costs_more(self):
        p = self.compare("--runs", "3", "--warmup", "0", "-n", "old", "-n", "new",
                         "--scenario-a", self.lo, "--scenario-b", self.hi,
                         "--fail-if-more", "5%", "--json", self.path("g.json"),
                         "--", "sleep", "0.2", ":::", "sleep", "0.2")
        self.assertExit(p, 3)
        self.assertIn("FAILED", p.stderr)
        d = self.load_json("g.json")
        self.assertTrue(d["gate"]["failed"])
        self.assertGreater(d["ratios"][0]["energy"]["lo"], 1.05)
        self.assertEqual(d["ratios"][0]["of"], "new")
        # A generous allowance passes the same comparison.
        p = self.compare("--runs", "2", "--warmup", "0", "-q",
                         "--scenario-a", self.lo, "--scenario-b", self.hi,
                         "--fail-if-more", "50%", "--", "sleep", "0.2", ":::", "sleep", "0.2")
        self.assertExit(p, 0)

    def test_failing_commands_prepare_and_setup(self):
        flag = self.path("flag")
        prep, setup = self.path("prep.log"), self.path("setup.log")
        # B fails every other run; A fails every run.
        p = self.compare("--sim", "--runs", "2", "--setup", f"echo s >> {setup}",
                         "--prepare", f"echo p >> {prep}",
                         "-c", "exit 3",
                         "-c", f"if [ -e {flag} ]; then rm {flag}; exit 1; fi; touch {flag}")
        self.assertExit(p, 0)
        self.assertIn("A: exited with status 3 in every run", p.stderr)
        self.assertIn("B: the exit status differs between runs", p.stderr)
        with open(setup) as f:
            self.assertEqual(f.read(), "s\n")
        with open(prep) as f:
            self.assertEqual(len(f.read().splitlines()), 2 * (1 + 2))  # warm-up + 2 rounds
        # A failing --prepare stops it (exit 1), saying which.
        p = self.compare("--sim", "--runs", "2", "--prepare", "false", "--", "true", ":::",
                         "true")
        self.assertExit(p, 1)
        self.assertIn("--prepare 'false' failed", p.stderr)

    def test_command_not_found_is_127_and_writes_nothing(self):
        p = self.compare("--sim", "--runs", "2", "--json", self.path("n.json"),
                         "--", "joules-no-such-command-xyz", ":::", "true")
        self.assertExit(p, 127)
        self.assertIn("joules-no-such-command-xyz", p.stderr)
        self.assertFalse(os.path.exists(self.path("n.json")))
        self.assertNoStrayFiles(self.tmp)
        p = self.compare("--sim", "--runs", "2", "-c", "true", "-c", "joules-no-such-xyz")
        self.assertExit(p, 127)
        self.assertIn("could not find", p.stderr)

    def test_commands_that_print_a_lot(self):
        p = self.compare("--sim", "--runs", "2", "--warmup", "0",
                         "-c", "yes | head -c 20000000", "-c", "seq 1 300000")
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, "")
        self.assertLess(len(p.stderr), 20000)
        self.assertIn("medians", p.stderr)

    def test_ctrl_c_reports_what_was_measured(self):
        err_path = self.path("err.txt")
        with open(err_path, "w") as err:
            proc = subprocess.Popen(
                [BIN, "compare", "--sim", "--runs", "50", "--json", self.path("i.json"),
                 "--", "sleep", "0.3", ":::", "sleep", "0.3"],
                env=self.env(), stdout=subprocess.DEVNULL, stderr=err)
            deadline = time.monotonic() + 60 * SLACK
            while time.monotonic() < deadline:
                with open(err_path) as f:
                    if "round 2 " in f.read():
                        break
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            rc = proc.wait(timeout=30 * SLACK)
        with open(err_path) as f:
            text = f.read()
        self.assertEqual(rc, 130, text)
        self.assertIn("stopped: interrupted", text)
        d = self.load_json("i.json")
        self.assertTrue(d["interrupted"])
        self.assertGreaterEqual(len(d["runs"]), 3)
        self.assertLess(d["rounds"], 50)
        self.assertNoStrayFiles(self.tmp)


class CompareUsage(CliTestCase):
    def test_usage_errors(self):
        for args in (["--sim", "--", "true"],
                     ["--sim", "--", "true", ":::"],
                     ["--sim", "--", ":::", "true"],
                     ["--sim", "-c", "true", "--", "true"],
                     ["--sim", "--order", "sideways", "--", "true", ":::", "true"],
                     ["--sim", "--fail-if-more", "lots", "--", "true", ":::", "true"],
                     ["--sim", "-n", "x", "-n", "x", "--", "true", ":::", "true"],
                     ["--scenario-c", __file__, "--", "true", ":::", "true"],
                     ["--sim", "--baseline", __file__, "--", "true"]):
            p = self.joules("compare", *args)
            self.assertExit(p, 2)
            self.assertIn("joules compare", p.stderr)

    def test_help_and_listing(self):
        p = self.joules("compare", "--help")
        self.assertExit(p, 0)
        self.assertIn("--fail-if-more", p.stdout)
        self.assertIn("compare", self.joules("--help").stdout)

    def test_no_sensor_without_sim_runs_nothing(self):
        marker = self.path("ran")
        p = self.joules("compare", "--", "touch", marker, ":::", "true")
        self.assertExit(p, 1)
        self.assertIn("nothing to measure", p.stderr)
        self.assertFalse(os.path.exists(marker))


if __name__ == "__main__":
    unittest.main()
