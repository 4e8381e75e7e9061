# SPDX-License-Identifier: MIT
"""Efficiency and emissions on the command line (docs/impact.md): `joules run --flops
--grid --pue --lifetime`, the impact JSON/CSV, the CodeCarbon-compatible CSV, `joules info`'s
anatomy and site values, the precedence of the site settings, the refusals of bad input and
of broken tables, and that nothing in joules can open a network connection."""
import csv
import json
import os
import shutil
import subprocess
import unittest

from clitest import BIN, SOURCE_DIR, CliTestCase, have_sim

# CodeCarbon 3.x emissions.csv columns, in order (docs/impact.md; CodeCarbon 3.3.0
# codecarbon/output_methods/emissions_data.py).
CODECARBON_3_COLUMNS = [
    "timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions",
    "emissions_rate", "cpu_power", "gpu_power", "ram_power", "cpu_energy", "gpu_energy",
    "ram_energy", "energy_consumed", "water_consumed", "country_name", "country_iso_code",
    "region", "cloud_provider", "cloud_region", "os", "python_version", "codecarbon_version",
    "cpu_count", "cpu_model", "gpu_count", "gpu_model", "longitude", "latitude",
    "ram_total_size", "tracking_mode", "cpu_utilization_percent", "gpu_utilization_percent",
    "ram_utilization_percent", "ram_used_gb", "on_cloud", "pue", "wue",
]

J_PER_KWH = 3.6e6


# run's CSV columns (docs/output.md, joules.run.csv/1), before any impact_ column.
RUN_CSV_COLUMNS = ["schema", "start_unix_s", "duration_s", "exit_status", "signal", "name",
                   "kind", "device", "uuid", "simulated", "method", "valid", "energy_j",
                   "energy_uncertainty_j", "avg_power_w", "counted_in_total",
                   "simulator_true_energy_j", "message"]


@unittest.skipUnless(have_sim(), "the simulated GPU library is not built")
class ImpactTest(CliTestCase):
    def env(self, **extra):
        # No site settings from the user running the tests: an empty XDG config directory.
        base = {"XDG_CONFIG_HOME": self.path("xdg"), "HOME": self.path("home")}
        base.update(extra)
        env = super().env(**base)
        for k in ("JOULES_GRID", "JOULES_PUE", "JOULES_LIFETIME", "JOULES_DATA_DIR"):
            if k not in extra:
                env.pop(k, None)
        return env

    def config(self, text):
        os.makedirs(self.path("xdg/joules"), exist_ok=True)
        return self.write("xdg/joules/config", text)

    def run_sim(self, *opts, profile="a100-sxm4-40gb", cmd=("sleep", "0.3"), env=None):
        return self.joules("run", "--sim", profile, *opts, "--", *cmd, env=env)

    # -- run: the figures against the measurement, by hand -----------------------------
    def test_run_figures(self):
        p = self.run_sim("--flops", "2e12", "--precision", "fp16", "--grid", "FRA", "--pue",
                         "1.5", "--lifetime", "4", "--json", self.path("run.json"),
                         "--csv", self.path("run.csv"), "--impact-csv", self.path("i.csv"))
        self.assertExit(p, 0)
        self.assertIn("GFLOP/J", p.stderr)
        self.assertIn("CO2e use", p.stderr)
        run = self.load_json("run.json")
        imp = run["impact"]
        self.assertEqual(imp["schema"], "joules.impact/1")
        s = imp["subjects"][0]
        e, m = s["efficiency"], s["emissions"]
        energy = run["total"]["energy_j"]
        pm = run["total"]["energy_uncertainty_j"]
        self.assertAlmostEqual(m["device_energy_j"], energy, places=9)
        self.assertAlmostEqual(m["facility_energy_j"], energy * 1.5, places=9)
        self.assertAlmostEqual(m["facility_energy_uncertainty_j"], pm * 1.5, places=9)
        # France 56.039 g/kWh (OWID 2023 via CodeCarbon 3.3.0); use = J x PUE / 3.6e6 x g/kWh.
        self.assertEqual(m["g_per_kwh"], 56.039)
        self.assertAlmostEqual(m["use_g"], energy * 1.5 / J_PER_KWH * 56.039, places=12)
        self.assertAlmostEqual(m["use_uncertainty_g"], pm * 1.5 / J_PER_KWH * 56.039, places=12)
        # One GPU domain: efficiency on its energy; A100 FP16 peak 312 TFLOP/s / 400 W.
        gpu = run["domains"][0]
        self.assertAlmostEqual(e["gflop_per_j"], 2e12 / gpu["energy_j"] / 1e9, places=6)
        self.assertAlmostEqual(e["gflop_per_j_uncertainty"],
                               e["gflop_per_j"] * gpu["energy_uncertainty_j"] / gpu["energy_j"],
                               places=6)
        self.assertAlmostEqual(e["peak_gflop_per_j"], 780.0, places=9)
        self.assertAlmostEqual(e["share_of_peak"], e["gflop_per_j"] / 780.0, places=9)
        self.assertAlmostEqual(e["references"]["H100"]["peak_gflop_per_j"], 989.4e3 / 700,
                               places=6)
        # Embodied: A100 SXM4 40 GB, 273 (Boavizta) .. 318 (Chien) kg over 4 x 8760 h.
        hours = m["duration_s"] / 3600.0
        self.assertAlmostEqual(m["embodied_low_g"], 273e3 * hours / (4 * 8760), places=9)
        self.assertAlmostEqual(m["embodied_high_g"], 318e3 * hours / (4 * 8760), places=9)
        self.assertAlmostEqual(m["use_share_low"],
                               m["use_g"] / (m["use_g"] + m["embodied_high_g"]), places=12)
        self.assertEqual(imp["site"]["grid"]["origin"], "option")
        self.assertEqual(imp["site"]["zone"]["year"], 2023)
        with open(self.path("i.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["schema"], "joules.impact.csv/1")
        self.assertEqual(rows[0]["model"], "a100-sxm4-40gb")
        self.assertAlmostEqual(float(rows[0]["use_g"]), m["use_g"], delta=m["use_g"] * 1e-8)
        # run's own CSV: its columns, then the same figures as impact_ columns on each row.
        with open(self.path("run.csv"), newline="") as f:
            reader = csv.DictReader(f)
            header, runs = reader.fieldnames, list(reader)
        self.assertEqual(header[:18], RUN_CSV_COLUMNS)
        self.assertEqual(header[18:20], ["impact_subject", "impact_model"])
        self.assertEqual(len(runs), len(run["domains"]))
        for row in runs:
            self.assertEqual(row["impact_subject"], "run")
            self.assertEqual(row["impact_model"], "a100-sxm4-40gb")
            self.assertEqual(row["impact_precision"], "fp16")
            self.assertAlmostEqual(float(row["impact_gflop_per_j"]), e["gflop_per_j"],
                                   delta=e["gflop_per_j"] * 1e-8)
            self.assertAlmostEqual(float(row["impact_use_g"]), m["use_g"],
                                   delta=m["use_g"] * 1e-8)
            self.assertEqual(row["impact_grid"], "FRA")

    def test_plain_run_files_keep_their_columns(self):
        # No impact option and no grid: the CSV has run's columns only and the JSON no
        # "impact" (a grid from the environment or the configuration file would add them).
        p = self.run_sim("--json", self.path("run.json"), "--csv", self.path("run.csv"))
        self.assertExit(p, 0)
        self.assertNotIn("impact", self.load_json("run.json"))
        with open(self.path("run.csv"), newline="") as f:
            self.assertEqual(next(csv.reader(f)), RUN_CSV_COLUMNS)
        p = self.run_sim("--impact-json", self.path("i.json"))
        self.assertExit(p, 2)

    def test_no_grid_is_energy_only_with_a_hint(self):
        p = self.run_sim()
        self.assertExit(p, 0)
        hints = [l for l in p.stderr.splitlines() if "no grid given" in l]
        self.assertEqual(len(hints), 1, p.stderr)
        self.assertNotIn("CO2e use", p.stderr)
        p = self.run_sim("--flops", "1e9", "--json", self.path("run.json"))
        self.assertExit(p, 0)
        m = self.load_json("run.json")["impact"]["subjects"][0]["emissions"]
        self.assertIsNone(m["use_g"])
        self.assertIsNone(m["g_per_kwh"])
        self.assertGreater(m["device_energy_j"], 0)

    # -- CodeCarbon-compatible CSV -----------------------------------------------------
    def test_codecarbon_csv_header_and_append(self):
        out = self.path("emissions.csv")
        for _ in range(2):
            p = self.run_sim("--grid", "DEU", "--pue", "1.2", "--codecarbon-csv", out,
                             "--json", self.path("run.json"))
            self.assertExit(p, 0)
        with open(out, newline="") as f:
            rows = list(csv.reader(f))
        self.assertEqual(rows[0], CODECARBON_3_COLUMNS)
        self.assertEqual(len(rows), 3)
        for r in rows[1:]:
            self.assertEqual(len(r), len(CODECARBON_3_COLUMNS))
        last = dict(zip(rows[0], rows[2]))
        m = self.load_json("run.json")["impact"]["subjects"][0]["emissions"]
        # Device energy in kWh without PUE; PUE in its own column; emissions in kg with it.
        kwh = m["device_energy_j"] / J_PER_KWH
        self.assertAlmostEqual(float(last["gpu_energy"]), kwh, delta=kwh * 1e-8)
        self.assertAlmostEqual(float(last["energy_consumed"]), kwh, delta=kwh * 1e-8)
        self.assertEqual(float(last["pue"]), 1.2)
        self.assertAlmostEqual(float(last["emissions"]), m["use_g"] / 1000,
                               delta=m["use_g"] / 1000 * 1e-8)
        self.assertEqual(last["country_iso_code"], "DEU")
        self.assertEqual(last["country_name"], "Germany")
        self.assertEqual(last["longitude"], "")
        self.assertEqual(last["gpu_count"], "1")
        self.assertNotEqual(rows[1][2], rows[2][2])  # run_id

    def test_codecarbon_csv_appends_to_a_codecarbon_file(self):
        out = self.path("emissions.csv")
        with open(out, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(CODECARBON_3_COLUMNS)
            w.writerow(["x"] * len(CODECARBON_3_COLUMNS))
        p = self.run_sim("--grid", "300", "--codecarbon-csv", out)
        self.assertExit(p, 0)
        with open(out, newline="") as f:
            rows = list(csv.reader(f))
        self.assertEqual(len(rows), 3)
        self.assertEqual(rows[0], CODECARBON_3_COLUMNS)
        self.assertEqual(rows[1][0], "x")
        self.assertEqual(rows[2][1], "joules")
        self.assertEqual(rows[2][CODECARBON_3_COLUMNS.index("country_iso_code")], "")

    # -- site settings: option > environment > file > default --------------------------
    def info_site(self, *opts, env=None):
        p = self.joules("info", "--sim", "a6000", *opts, "--json", "-", env=env)
        self.assertExit(p, 0)
        return json.loads(p.stdout)["site"]

    def test_precedence(self):
        s = self.info_site()
        self.assertEqual(s["grid"]["origin"], "default")
        self.assertIsNone(s["grid"]["value"])
        self.assertEqual((s["pue_value"], s["lifetime_y"]), (1, 3))
        path = self.config("# site\ngrid = FRA\npue = 1.3\nlifetime = 5\n")
        s = self.info_site()
        self.assertEqual(s["config_file"], path)
        self.assertTrue(s["config_file_found"])
        self.assertEqual((s["grid"]["value"], s["grid"]["origin"]), ("FRA", "config"))
        self.assertEqual(s["pue"]["where"], path + ":3")
        s = self.info_site(env=self.env(JOULES_PUE="1.4", JOULES_GRID="USA"))
        self.assertEqual((s["pue_value"], s["pue"]["origin"]), (1.4, "environment"))
        self.assertEqual(s["grid"]["value"], "USA")
        self.assertEqual(s["lifetime_years"]["origin"], "config")
        s = self.info_site("--pue", "1.1", "--grid", "DEU",
                           env=self.env(JOULES_PUE="1.4", JOULES_GRID="USA"))
        self.assertEqual((s["pue_value"], s["pue"]["origin"]), (1.1, "option"))
        self.assertEqual(s["zone"]["code"], "DEU")
        # Without XDG_CONFIG_HOME, HOME/.config/joules/config.
        env = self.env()
        env.pop("XDG_CONFIG_HOME")
        os.makedirs(self.path("home/.config/joules"))
        self.write("home/.config/joules/config", "lifetime = 6\n")
        s = self.info_site(env=env)
        self.assertEqual(s["lifetime_y"], 6)
        p = self.joules("info", "--sim", env=self.env(JOULES_GRID="USA"))
        self.assertIn("from JOULES_GRID", p.stdout)

    # -- bad input ---------------------------------------------------------------------
    def test_bad_values_are_refused_with_the_range(self):
        cases = [
            (("--pue", "0.9"), "[1, 10]"),
            (("--grid", "2500"), "[0, 2000]"),
            (("--grid", "-3"), "[0, 2000]"),
            (("--lifetime", "0"), "(0, 20]"),
            (("--lifetime", "21"), "(0, 20]"),
            (("--flops", "-1"), ">= 0"),
            (("--flops", "nan"), ">= 0"),
            (("--precision", "fp4"), "fp64, fp32"),
        ]
        for opts, want in cases:
            p = self.run_sim(*opts, cmd=("touch", self.path("ran")))
            self.assertExit(p, 2)
            self.assertIn(want, p.stderr, opts)
            self.assertFalse(os.path.exists(self.path("ran")), opts)

    def test_unknown_zone_lists_the_nearest(self):
        p = self.run_sim("--grid", "Frnace", cmd=("touch", self.path("ran")))
        self.assertExit(p, 2)
        self.assertIn("unknown zone 'Frnace'", p.stderr)
        self.assertIn("FRA (France)", p.stderr)
        self.assertFalse(os.path.exists(self.path("ran")))
        p = self.run_sim(env=self.env(JOULES_GRID="Atlantis"))
        self.assertExit(p, 2)
        self.assertIn("JOULES_GRID", p.stderr)

    def test_bad_config_names_file_line_and_key(self):
        path = self.config("grid = FRA\nwatts = 3\n")
        p = self.run_sim()
        self.assertExit(p, 2)
        self.assertIn(f"{path}:2: unknown key 'watts'", p.stderr)
        self.config("\npue = 0.5\n")
        p = self.joules("info", "--sim")
        self.assertExit(p, 2)
        self.assertIn(f"{path}:2: pue:", p.stderr)
        self.assertIn("[1, 10]", p.stderr)

    def test_broken_or_missing_table_names_file_and_line(self):
        data = self.path("data")
        shutil.copytree(os.path.join(SOURCE_DIR, "data"), data)
        with open(os.path.join(data, "hardware.tsv")) as f:
            lines = f.readlines()
        n = len(lines)
        lines.append("broken\trow\n")
        with open(os.path.join(data, "hardware.tsv"), "w") as f:
            f.writelines(lines)
        p = self.run_sim(env=self.env(JOULES_DATA_DIR=data))
        self.assertExit(p, 1)
        self.assertIn(f"{data}/hardware.tsv:{n + 1}:", p.stderr)
        os.unlink(os.path.join(data, "carbon-intensity.tsv"))
        p = self.joules("info", "--sim", env=self.env(JOULES_DATA_DIR=data))
        self.assertExit(p, 1)
        self.assertIn("hardware.tsv", p.stderr)
        shutil.copy(os.path.join(SOURCE_DIR, "data", "hardware.tsv"), data)
        p = self.joules("info", "--sim", env=self.env(JOULES_DATA_DIR=data))
        self.assertExit(p, 1)
        self.assertIn(f"{data}/carbon-intensity.tsv: cannot read", p.stderr)

    # -- joules info: the anatomy -----------------------------------------------------
    def test_info_anatomy(self):
        p = self.joules("info", "--sim", "a100-sxm4-40gb")
        self.assertExit(p, 0)
        for words in ["108 SMs, 6912 CUDA cores, 432 tensor cores", "TSMC N7", "54.2 B",
                      "L2 40 MB", "TDP 400 W", "273 .. 318 kgCO2e", "Site values"]:
            self.assertIn(words, p.stdout)
        p = self.joules("info", "--sim", "h100", "--json", "-")
        gpu = json.loads(p.stdout)["gpus"][0]
        a = gpu["anatomy"]
        self.assertEqual(a["key"], "h100-sxm5")
        self.assertEqual(a["sms"]["value"], 132)
        self.assertEqual(a["sms"]["source"], "S11")
        self.assertAlmostEqual(a["peak_gflop_per_j"]["fp16"], 989.4e3 / 700, places=6)
        p = self.joules("info", "--sim", "test", "--json", "-")
        self.assertIsNone(json.loads(p.stdout)["gpus"][0]["anatomy"])

    # -- ab and the chart --------------------------------------------------------------
    def test_ab_reports_efficiency_and_the_chart(self):
        p = self.joules("ab", "--sim", "a100", "-n", "512", "--repeats", "2", "--min-window",
                        "0.05", "-q", "--grid", "WORLD", "--json", self.path("ab.json"),
                        "--csv", self.path("ab.csv"), "--impact-csv", self.path("i.csv"),
                        "--efficiency-svg", self.path("ab.svg"))
        self.assertExit(p, 0)
        self.assertIn("Efficiency and emissions", p.stdout)
        ab = self.load_json("ab.json")
        self.assertEqual(ab["schema"], "joules.ab/1")
        imp = ab["impact"]
        self.assertEqual([s["subject"] for s in imp["subjects"]], ["normal", "zeros"])
        above = [s["efficiency"]["share_of_peak"] > 1 for s in imp["subjects"]]
        # A share above 100 % of peak / TDP says why, once per subject it concerns.
        self.assertEqual(p.stdout.count("(above 100 %: the board drew less than its TDP"),
                         sum(above), p.stdout)
        for s in imp["subjects"]:
            self.assertGreater(s["efficiency"]["gflop_per_j"], 0)
            self.assertEqual(s["efficiency"]["precision"], "fp32")
            self.assertAlmostEqual(s["emissions"]["use_g"],
                                   s["emissions"]["device_energy_j"] / J_PER_KWH * 475,
                                   places=12)
        # ab's CSV: each window's row carries its arm's figures.
        by_arm = {s["subject"]: s for s in imp["subjects"]}
        with open(self.path("ab.csv"), newline="") as f:
            windows = list(csv.DictReader(f))
        self.assertGreater(len(windows), 0)
        for row in windows:
            self.assertEqual(row["impact_subject"], row["arm"])
            want = by_arm[row["arm"]]["efficiency"]["gflop_per_j"]
            self.assertAlmostEqual(float(row["impact_gflop_per_j"]), want, delta=want * 1e-8)
            self.assertEqual(row["impact_grid"], "WORLD")
        with open(self.path("i.csv"), newline="") as f:
            self.assertEqual([r["subject"] for r in csv.DictReader(f)], ["normal", "zeros"])
        with open(self.path("ab.svg")) as f:
            svg = f.read()
        self.assertIn("<svg", svg)
        self.assertIn("release year", svg)
        self.assertIn("SIMULATED", svg)

    def test_share_above_peak_says_why(self):
        # At 1000 MHz the simulated A6000 draws far below its 300 W TDP, and so beats peak / TDP.
        p = self.joules("ab", "--sim", "a6000", "--lock-clocks", "1000", "-n", "1024",
                        "--repeats", "2", "--min-window", "0.05", "-q", "--json",
                        self.path("ab.json"), env=self.env(JOULES_SIM_PRIVILEGED="1"))
        self.assertExit(p, 0)
        shares = [s["efficiency"]["share_of_peak"]
                  for s in self.load_json("ab.json")["impact"]["subjects"]]
        self.assertGreater(max(shares), 1, shares)
        self.assertEqual(p.stdout.count("(above 100 %: the board drew less than its TDP"),
                         sum(x > 1 for x in shares), p.stdout)

    def test_repeat_reports_one_run(self):
        p = self.joules("repeat", "--sim", "h100", "--min-time", "0.5s", "--flops", "1e10",
                        "--grid", "100", "--json", self.path("r.json"), "--", "sleep", "0.02")
        self.assertExit(p, 0)
        rep = self.load_json("r.json")
        self.assertEqual(rep["schema"], "joules.repeat/1")
        s = rep["impact"]["subjects"][0]
        self.assertEqual(s["subject"], "one run")
        self.assertEqual(s["devices"][0]["model"], "h100-sxm5")
        e = rep["domains"][0]["energy_per_run_j"]
        self.assertAlmostEqual(s["emissions"]["device_energy_j"], e, places=9)
        self.assertAlmostEqual(s["emissions"]["use_g"], e / J_PER_KWH * 100, places=12)
        self.assertAlmostEqual(s["efficiency"]["gflop_per_j"], 1e10 / e / 1e9, places=6)

    def test_sweep_json_has_the_points(self):
        p = self.joules("sweep", "--sim", "a100", "-n", "512", "--clocks", "900:1200:300",
                        "--min-window", "0.05", "-q", "--grid", "250",
                        "--json", self.path("s.json"), env=self.env(JOULES_SIM_PRIVILEGED="1"))
        self.assertExit(p, 0)
        sw = self.load_json("s.json")
        self.assertEqual(sw["schema"], "joules.sweep/1")
        subjects = [s["subject"] for s in sw["impact"]["subjects"]]
        self.assertEqual(subjects[-1], "whole sweep")
        self.assertGreater(len(subjects), 1)
        self.assertTrue(all(s["simulated"] for s in sw["impact"]["subjects"]))
        self.assertEqual(sw["impact"]["site"]["g_per_kwh"], 250)

    # -- no network --------------------------------------------------------------------
    def test_no_network_symbols(self):
        nm = shutil.which("nm")
        if not nm:
            self.skipTest("nm is not installed")
        lib = os.path.join(os.path.dirname(os.path.dirname(BIN)), "lib", "libjoules.so")
        for path in (BIN, lib):
            out = subprocess.run([nm, "-D", "--undefined-only", path], capture_output=True,
                                 text=True, check=True).stdout
            names = {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}
            for sym in ("socket", "connect", "getaddrinfo", "gethostbyname", "sendto"):
                self.assertNotIn(sym, names, f"{path} imports {sym}")


if __name__ == "__main__":
    unittest.main()
