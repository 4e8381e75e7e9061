# SPDX-License-Identifier: MIT
"""`joules run` on a fake RAPL powercap tree whose counters the measured command itself moves,
wrap included: the JSON energies per domain and the disjoint total (packages + DRAM, not the
core inside its package), and the RAPL status when energy_uj cannot be read."""
import os
import sys
import unittest

from clitest import CliTestCase

PY = sys.executable or "python3"

# 40 J range: the wrap watcher polls every 10 ms (a quarter of the range at 1 kW).
MAX_UJ = 39999999
ZONES = {  # entry: (name, start value in uJ)
    "intel-rapl:0": ("package-0", 30000000),  # 10 J below the wrap
    "intel-rapl:0:0": ("dram", 1000),
    "intel-rapl:1": ("package-1", 5000),
    "intel-rapl:1:0": ("core", 2000),
}

# The measured command. Real counters move every millisecond; these stand still between
# writes, so the command moves them by 1 uJ first and last (every window edge then sees a
# moving counter, as on hardware), and by whole joules in between, 50 ms apart so the
# watcher sees each move: package-0, 10 J below its wrap, moves 5 J three times (one wrap),
# dram0 +2 J, package-1 +7 J, its core +3 J.
CHILD = r"""
import sys, time
root = sys.argv[1]
MOD = %d + 1
vals = %r
def move(entry, uj):
    vals[entry] = (vals[entry] + uj) %% MOD
    with open(root + "/class/powercap/" + entry + "/energy_uj", "r+") as f:
        f.write("%%020d\n" %% vals[entry])
for e in vals: move(e, 1)
time.sleep(0.05)
for uj in (5000000, 5000000, 5000000):
    move("intel-rapl:0", uj)
    time.sleep(0.05)
move("intel-rapl:0:0", 2000000); move("intel-rapl:1", 7000000); move("intel-rapl:1:0", 3000000)
time.sleep(0.05)
for i in range(3):
    for e in vals: move(e, 1)
    time.sleep(0.005)
""" % (MAX_UJ, {e: v for e, (_, v) in ZONES.items()})

EXPECTED_J = {"cpu0": 15.000004, "dram0": 2.000004, "cpu1": 7.000004, "cpu1.core": 3.000004}


class RaplRun(CliTestCase):
    def setUp(self):
        super().setUp()
        for entry, (name, value) in ZONES.items():
            d = os.path.join(self.sysfs, "class", "powercap", entry)
            os.makedirs(d)
            with open(os.path.join(d, "name"), "w") as f:
                f.write(name + "\n")
            with open(os.path.join(d, "max_energy_range_uj"), "w") as f:
                f.write("%d\n" % MAX_UJ)
            with open(os.path.join(d, "energy_uj"), "w") as f:
                f.write("%020d\n" % value)

    def test_command_moves_the_counters(self):
        out = self.path("run.json")
        p = self.joules("run", "--json", out, "--", PY, "-c", CHILD, self.sysfs)
        self.assertExit(p, 0)
        r = self.load_json("run.json")
        self.assertFalse(r["simulated"])
        doms = {d["name"]: d for d in r["domains"]}
        self.assertEqual(sorted(doms), sorted(EXPECTED_J), p.stderr)
        for name, want in EXPECTED_J.items():
            d = doms[name]
            self.assertTrue(d["valid"], d)
            self.assertEqual(d["method"], "counter")
            err = d["energy_uncertainty_j"]
            self.assertLessEqual(abs(d["energy_j"] - want), err + 1e-6,
                                 f"{name}: {d['energy_j']} +/- {err}, want {want}")
            # A lost or doubled wrap would be 40 J off; the bound must stay well below.
            self.assertLess(err, 0.2 * want + 0.01, d)
        self.assertEqual(doms["cpu0"]["kind"], "cpu-package")
        self.assertEqual(doms["dram0"]["kind"], "dram")
        self.assertTrue(doms["dram0"]["counted_in_total"])
        self.assertFalse(doms["cpu1.core"]["counted_in_total"])  # inside package-1
        total = r["total"]
        self.assertEqual(sorted(total["domains"]), ["cpu0", "cpu1", "dram0"])
        want = EXPECTED_J["cpu0"] + EXPECTED_J["dram0"] + EXPECTED_J["cpu1"]
        self.assertLessEqual(abs(total["energy_j"] - want), total["energy_uncertainty_j"] + 1e-6,
                             total)

    def test_unreadable_counter_is_explained(self):
        # As on kernels patched for CVE-2020-8694 (energy_uj root-only). Root reads a mode-000
        # file, so as root the file becomes a directory, which nobody can read.
        f = os.path.join(self.sysfs, "class", "powercap", "intel-rapl:0", "energy_uj")
        for entry in ZONES:
            g = os.path.join(self.sysfs, "class", "powercap", entry, "energy_uj")
            os.unlink(g)
            os.mkdir(g)
        p = self.joules("info")
        self.assertIn(f, p.stdout + p.stderr)
        self.assertIn("run as root", p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
