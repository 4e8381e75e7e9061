# SPDX-License-Identifier: MIT
"""`joules sweep` end to end on the simulated GPU: the fitted power model recovers the
profile's true C_eff and static power (jsimGetModel / jsimGetState), the chosen clock is the
model's energy optimum within one step, the activity ratio of two arms is the true one;
power-limit sweeps; privilege refused before anything runs; clocks restored and partial
results saved after SIGINT and after a command that fails at one step; usage errors."""
import json
import os
import signal
import subprocess
import unittest

from charts import check_legends, render
from clitest import BIN, SLACK, CliTestCase, have_sim

FAST = ["-n", "2048", "--warmup", "0.1", "--cooldown", "0", "--min-window", "0.25"]
# The test GPU with strong cooling (the temperature, hence leakage, stays put) and its power
# limit raised so that most steps are not capped.
COOL = "profile test\ncooling r=0.005\npower-limit 150\n"


def true_power(t, alpha, f, temp):
    """The simulator's power at clock f (MHz), from the parameters it reports."""
    v = t["v_floor_v"] if f <= t["f_ridge_mhz"] else t["v_floor_v"] + (
        t["v_max_v"] - t["v_floor_v"]) * (f - t["f_ridge_mhz"]) / (t["clk_max_mhz"] - t["f_ridge_mhz"])
    leak = t["leak_ref_w"] * (v / t["v_floor_v"]) ** 2 * 2 ** ((temp - 25) / t["leak_t_double_c"])
    return (t["p_board_w"] + t["p_mem_static_w"] + leak
            + (t["alpha_idle"] + alpha) * t["c_eff_f"] * v * v * f * 1e6)


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class SweepSimTest(CliTestCase):
    def priv(self):
        return self.env(JOULES_SIM_PRIVILEGED="1")

    def test_fit_recovers_truth_and_optimum(self):
        scn = self.write("cool.scn", COOL)
        p = self.joules("sweep", "--scenario", scn, "--clocks", "500:1500:100",
                        "--arms", "normal,zeros", *FAST, "-q", "--json", self.path("s.json"),
                        "--svg", self.path("s.svg"), env=self.priv())
        self.assertExit(p, 0)
        self.assertIn("SIMULATED", p.stdout)
        self.assertIn("restored", p.stderr)
        d = self.load_json("s.json")
        self.assertEqual(d["schema"], "joules.sweep/1")
        self.assertTrue(d["simulated"])
        self.assertTrue(d["complete"])
        self.assertTrue(d["restored"])
        self.assertEqual(d["steps_done"], 11)
        t = d["sim_truth"]
        for arm in d["arms"]:
            fit = arm["fit"]
            self.assertEqual(fit["model"], "P = a + b V^2 + k f V^2")
            self.assertGreater(fit["r2"], 0.999)
            # C_eff within 5 % of the simulator's, and inside its own 95 % interval +- 2 %.
            c = fit["c_eff_f"]
            self.assertAlmostEqual(c["value"] / t["c_eff_f"], 1.0, delta=0.05)
            self.assertLess(c["lo"], t["c_eff_f"] * 1.02)
            self.assertGreater(c["hi"], t["c_eff_f"] * 0.98)
            # Static power at every step within 5 % of the true static power then.
            for pt in arm["points"]:
                self.assertAlmostEqual(pt["fit_static_w"] / pt["sim_true_static_w"], 1.0,
                                       delta=0.05, msg=pt)
                self.assertAlmostEqual(pt["energy_j"] / pt["sim_truth_j"], 1.0, delta=0.02)
            # Constant part: board + memory interface.
            self.assertAlmostEqual(fit["params"]["a_w"]["value"],
                                   t["p_board_w"] + t["p_mem_static_w"],
                                   delta=0.2 * (t["p_board_w"] + t["p_mem_static_w"]))
            # The energy-optimal clock of the true model (compute-bound: time ~ 1/f), on a
            # 1-MHz grid over the swept range; the sweep's choice is within one step of it.
            alpha = sum(pt["sim_true_alpha"] for pt in arm["points"]) / len(arm["points"])
            temp = sum(pt["temperature_c"] for pt in arm["points"]) / len(arm["points"])
            grid = range(500, 1501)
            best = min(grid, key=lambda f: true_power(t, alpha, f, temp) / f)
            chosen = arm["optimum"]["min_energy"]["clock_mhz"]
            self.assertLessEqual(abs(chosen - best), t["clk_step_mhz"], (chosen, best))
            self.assertLessEqual(abs(arm["optimum"]["model_min_energy_clock_mhz"] - best),
                                 t["clk_step_mhz"])
            self.assertGreater(arm["optimum"]["min_energy"]["energy_saved_pct"], 10)
        # Effective switching activity: the ratio of fitted k is the true ratio.
        r = d["activity_ratios"][0]
        self.assertEqual((r["of"], r["to"]), ("normal", "zeros"))
        self.assertAlmostEqual(r["ratio"] / r["sim_true_ratio"], 1.0, delta=0.03)
        self.assertLess(r["lo"], r["sim_true_ratio"] * 1.01)
        self.assertGreater(r["hi"], r["sim_true_ratio"] * 0.99)
        self.assertIn("Effective switching activity, normal / zeros", p.stdout)
        with open(self.path("s.svg")) as f:
            svg = f.read()
        self.assertIn("<svg", svg)
        self.assertIn("SIMULATED", svg)
        self.assertIn("fit P = a + b V^2 + k f V^2", svg)
        # The figure shows what was measured: each measured point marked, with its interval,
        # the fit a dashed line apart from them, the two arms' equal time curves both visible
        # (the first one wider), each arm's least-energy step ringed, no legend over data.
        self.assertGreaterEqual(svg.count('class="pt"'), 2 * 2 * 10)
        self.assertGreater(svg.count('class="err"'), 0)
        self.assertEqual(svg.count('class="mark"'), 2)
        self.assertIn("least energy, normal:", svg)
        self.assertIn("least energy, zeros:", svg)
        self.assertIn('stroke-width="4.5" stroke-dasharray', svg)
        self.assertIn('stroke-width="1.8" stroke-dasharray', svg)
        self.assertEqual(check_legends(self, svg), 2)
        self.assertNoStrayFiles(self.tmp)
        render(self, self.path("s.svg"), self.path("s.png"), (960, 960))

    def test_power_limits(self):
        p = self.joules("sweep", "--sim", "test", "--power-limits", "60:100:20", *FAST,
                        "--json", self.path("l.json"), env=self.priv())
        self.assertExit(p, 0)
        self.assertIn("restored: power limit back to 100 W", p.stderr)
        d = self.load_json("l.json")
        self.assertEqual(d["mode"], "power_limits")
        pts = d["arms"][0]["points"]
        self.assertEqual([pt["setting"] for pt in pts], [60, 80, 100])
        for pt in pts:
            self.assertLessEqual(pt["power_w"], pt["setting"] + 1.0)
        self.assertTrue(pts[0]["clock_event_reasons"] & 0x4)  # SW power cap at 60 W
        self.assertLess(pts[0]["clock_mhz"], pts[2]["clock_mhz"])

    def test_idle_baseline_beside_the_fit(self):
        """`joules idle` stores the GPU's static power; the sweep reports it beside each arm's
        fitted static part at the lowest clock (not inside the fit), and only when it exists."""
        scn = self.write("cool.scn", COOL)
        env = self.env(JOULES_SIM_PRIVILEGED="1", XDG_CACHE_HOME=self.path("cache"))
        args = ["sweep", "--scenario", scn, *FAST]
        # No baseline stored yet: nothing is claimed.
        p = self.joules(*args, "--clocks", "500,1000", "--json", self.path("none.json"), env=env)
        self.assertExit(p, 0)
        self.assertNotIn("Idle baseline", p.stdout)
        self.assertNotIn("baseline", self.load_json("none.json"))
        p = self.joules("idle", "--scenario", scn, "--duration", "0.6s", env=env)
        self.assertExit(p, 0)
        stored = [f for f in os.listdir(self.path("cache/joules")) if f.startswith("baseline-")]
        self.assertEqual(len(stored), 1, stored)
        with open(self.path("cache/joules/" + stored[0])) as f:
            idle = json.load(f)
        p = self.joules(*args, "--clocks", "500:1500:250", "--json", self.path("b.json"), env=env)
        self.assertExit(p, 0)
        self.assertIn("Idle baseline (joules idle)", p.stdout)
        self.assertIn(stored[0], p.stdout)
        self.assertIn("fitted static part", p.stdout)
        self.assertIn("load voltage and temperature", p.stdout)
        self.assertIn(stored[0], p.stderr)  # which file, when loaded
        d = self.load_json("b.json")
        b = d["baseline"]
        self.assertEqual(os.path.basename(b["file"]), stored[0])
        self.assertEqual(b["clock_state"], idle["clock_state"])
        self.assertTrue(b["simulated"])
        self.assertAlmostEqual(b["power_w"], idle["power_w"], places=6)
        self.assertAlmostEqual(b["uncertainty_w"], idle["power_uncertainty_w"], places=6)
        self.assertGreaterEqual(b["age_s"], 0)
        self.assertLess(b["age_s"], 600)
        self.assertEqual([a["name"] for a in b["arms"]], ["normal"])
        for a, arm in zip(b["arms"], d["arms"]):
            lowest = min(arm["points"], key=lambda pt: pt["clock_mhz"])
            self.assertEqual(a["clock_mhz"], lowest["clock_mhz"])
            self.assertAlmostEqual(a["fit_static_w"], lowest["fit_static_w"], places=6)
            self.assertAlmostEqual(a["difference_w"], a["fit_static_w"] - b["power_w"], places=6)
            self.assertGreater(a["fit_static_uncertainty_w"], 0)
            self.assertGreaterEqual(a["difference_uncertainty_w"], b["uncertainty_w"])
            # The test GPU has no idle P-state and is held at 25 C: at rest it sits at the
            # floor voltage, as at the lowest clocks, so the two static powers agree.
            self.assertLessEqual(abs(a["difference_w"]),
                                 a["difference_uncertainty_w"] + 0.05 * b["power_w"], a)
        # A baseline of another GPU is not used: the a6000 has another UUID.
        p = self.joules("sweep", "--sim", "a6000", "--clocks", "600,1200", *FAST,
                        "--json", self.path("o.json"), env=env)
        self.assertExit(p, 0)
        self.assertNotIn("baseline", self.load_json("o.json"))

    def test_refused_without_privilege(self):
        p = self.joules("sweep", "--sim", "test", "--clocks", "500,1000", *FAST,
                        "--json", self.path("r.json"), env=self.env(JOULES_SIM_PRIVILEGED="0"))
        self.assertExit(p, 1)
        self.assertIn("JOULES_SIM_PRIVILEGED=1", p.stderr)
        self.assertIn("Nothing was measured", p.stderr)
        self.assertNotIn("[1/", p.stderr)
        self.assertFalse(os.path.exists(self.path("r.json")))
        self.assertNoStrayFiles(self.tmp)

    def test_power_limit_out_of_range_is_not_a_privilege_problem(self):
        p = self.joules("sweep", "--sim", "test", "--power-limits", "10:20:5", *FAST,
                        env=self.env(JOULES_SIM_PRIVILEGED="1"))
        self.assertExit(p, 2)
        self.assertIn("outside what this GPU allows", p.stderr)
        self.assertNotIn("privilege", p.stderr)
        self.assertNotIn("[1/", p.stderr)

    def test_clock_above_the_maximum_is_refused(self):
        """A clock the board cannot hold is refused before anything changes, with its range,
        instead of a sweep whose every step holds the same clock."""
        p = self.joules("sweep", "--sim", "--clocks", "3000:3200:100", *FAST,
                        "--json", self.path("x.json"), env=self.priv())
        self.assertExit(p, 2)
        self.assertIn("3000 MHz is above what this GPU supports", p.stderr)
        self.assertIn("2100 MHz", p.stderr)
        self.assertNotIn("[1/", p.stderr)
        self.assertNotIn("privilege", p.stderr)
        self.assertFalse(os.path.exists(self.path("x.json")))

    def test_sigint_restores_and_saves_partial(self):
        proc = subprocess.Popen([BIN, "sweep", "--sim", "test", "--clocks", "500:1500:100", "-n", "2048",
                                 "--warmup", "0.1", "--cooldown", "0.3", "--min-window", "0.25",
                                 "--json", self.path("i.json")],
                                env=self.priv(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        err = ""
        for line in proc.stderr:
            err += line
            if "[2/11]" in line:
                proc.send_signal(signal.SIGINT)
                break
        out, rest = proc.communicate(timeout=60 * SLACK)
        err += rest
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn("restored: graphics clocks reset", err)
        self.assertIn("partial results", err)
        self.assertIn("Interrupted by signal 2", out)
        d = self.load_json("i.json")
        self.assertTrue(d["interrupted"])
        self.assertFalse(d["complete"])
        self.assertTrue(d["restored"])
        self.assertEqual(d["signal"], 2)
        self.assertGreaterEqual(d["steps_done"], 2)
        self.assertLess(d["steps_done"], 11)
        self.assertEqual(len(d["arms"][0]["points"]), d["steps_done"])

    def test_command_gets_sigxfsz_back(self):
        # joules catches SIGXFSZ (a file-size limit must not kill it mid-report); the swept
        # command is started with the action joules was given.
        log = self.path("sigign.log")
        p = self.joules("sweep", "--sim", "test", "--clocks", "500,700", "--cooldown", "0",
                        "--", "sh", "-c", "grep SigIgn /proc/self/status >> %s" % log,
                        env=self.priv())
        self.assertExit(p, 0)
        with open(log) as f:
            masks = [int(line.split()[1], 16) for line in f if line.startswith("SigIgn")]
        self.assertEqual(len(masks), 2, masks)
        for m in masks:
            self.assertFalse(m & (1 << (signal.SIGXFSZ - 1)), hex(m))

    def test_command_fails_at_a_step(self):
        log = self.path("steps.log")
        script = ('echo "$JOULES_SWEEP_STEP $JOULES_SWEEP_CLOCK_MHZ" >> %s; '
                  'test "$JOULES_SWEEP_STEP" != 2 || exit 3' % log)
        p = self.joules("sweep", "--sim", "test", "--clocks", "500,700,900,1100",
                        "--cooldown", "0", "--json", self.path("c.json"), "--", "sh", "-c",
                        script, env=self.priv())
        self.assertExit(p, 1)
        self.assertIn("the command failed at step 2 (900 MHz): exit status 3", p.stderr)
        self.assertIn("restored", p.stderr)
        self.assertIn("partial results (2 of 4 steps) saved", p.stderr)
        with open(log) as f:
            self.assertEqual(f.read().split("\n")[:3], ["0 500", "1 700", "2 900"])
        d = self.load_json("c.json")
        self.assertEqual(d["workload"]["kind"], "command")
        self.assertEqual(d["steps_done"], 2)
        self.assertEqual(d["failed_step"], 2)
        self.assertIn("exit status 3", d["failure"])
        self.assertTrue(d["restored"])
        self.assertEqual([pt["setting"] for pt in d["arms"][0]["points"]], [500, 700])

    def test_usage_errors(self):
        for args in (["--clocks", "900:600:100"], ["--clocks", "500", "--power-limits", "100"],
                     ["--clocks", "abc"], ["--arms", "normal", "--", "true"],
                     ["--arms", "bogus"], ["stray"]):
            p = self.joules("sweep", "--sim", "test", *args, env=self.priv())
            self.assertExit(p, 2)
            self.assertIn("joules sweep", p.stderr)
        p = self.joules("sweep", "--help")
        self.assertExit(p, 0)
        self.assertIn("--power-limits", p.stdout)


if __name__ == "__main__":
    unittest.main()
