# SPDX-License-Identifier: MIT
"""`joules watch` and `joules run --sample/--series/--plot` end to end on the simulated GPU:
the CSV series (schema, columns, times, markers), a clean stop on Ctrl-C with the files
completed, and the chart: its SVG structure and, rendered to PNG by rsvg-convert, its size
and ink (the series colour is there, the picture is not blank)."""
import csv
import os
import shutil
import signal
import subprocess
import time
import unittest

from clitest import BIN, SLACK, SOURCE_DIR, CliTestCase, have_sim
from pngread import pixel_counts

COLUMNS = ("schema,record,t_s,unix_s,seq,domain,kind,simulated,valid,power_w,power_source,"
           "power_avg_w,power_limit_w,energy_j,clock_sm_mhz,clock_mem_mhz,temperature_c,pstate,"
           "utilization_gpu_pct,clock_event_reasons,lateness_ms,label").split(",")
SQUARE = os.path.join(SOURCE_DIR, "scenarios", "square.scn")


def read_series(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class WatchTest(CliTestCase):
    def test_usage_errors(self):
        for args in (["--interval", "0"], ["--interval", "fast"], ["--normalise"],
                     ["--duration", "1s", "extra"], ["--csv", "a", "--plot", "a"]):
            p = self.joules("watch", "--sim", *args)
            self.assertExit(p, 2)
            self.assertIn("joules watch", p.stderr)

    def test_series_csv(self):
        p = self.joules("watch", "--sim", "--duration", "1s", "--interval", "50ms",
                        "--csv", self.path("w.csv"))
        self.assertExit(p, 0)
        header, rows = read_series(self.path("w.csv"))
        self.assertEqual(header, COLUMNS)
        self.assertTrue(5 <= len(rows) <= 25, len(rows))
        t_prev = -1.0
        for r in rows:
            self.assertEqual(r["schema"], "joules.series.csv/1")
            self.assertEqual(r["record"], "sample")
            self.assertEqual((r["domain"], r["kind"], r["simulated"], r["valid"]),
                             ("gpu0", "gpu", "1", "1"))
            self.assertGreater(float(r["t_s"]), t_prev)
            t_prev = float(r["t_s"])
            self.assertEqual(r["power_source"], "sensor")
            self.assertGreater(float(r["power_limit_w"]), 0)
            self.assertRegex(r["pstate"], r"^\d+$")
            self.assertRegex(r["clock_event_reasons"], r"^0x[0-9a-f]+$")
        self.assertGreater(float(rows[-1]["energy_j"]), float(rows[0]["energy_j"]))
        # Not a terminal: one plain line per round, labelled.
        lines = [l for l in p.stdout.splitlines() if "gpu0" in l]
        self.assertGreaterEqual(len(lines), 5)
        self.assertIn("SIMULATED", lines[0])
        self.assertIn("SIMULATED", p.stderr)
        self.assertNoStrayFiles(self.tmp)

    def test_ctrl_c_completes_the_files(self):
        proc = subprocess.Popen([BIN, "watch", "--sim", "--interval", "20ms", "--csv",
                                 self.path("c.csv"), "--plot", self.path("c.svg")],
                                env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        time.sleep(1.0 * SLACK)
        t = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20 * SLACK)
        self.assertLess(time.monotonic() - t, 5 * SLACK)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("stopped by", err)
        _, rows = read_series(self.path("c.csv"))
        self.assertGreater(len(rows), 10)
        with open(self.path("c.svg")) as f:
            self.assertIn("</svg>", f.read())
        self.assertNoStrayFiles(self.tmp)

    def test_square_wave_chart(self):
        svg, png = self.path("sq.svg"), self.path("sq.png")
        p = self.joules("watch", "--sim", "a100", "--scenario", SQUARE, "--duration", "2.2s",
                        "--interval", "10ms", "--plot", svg, "--normalise", "--csv",
                        self.path("sq.csv"), "-q")
        self.assertExit(p, 0)
        with open(svg) as f:
            text = f.read()
        self.assertIn("SIMULATED", text)
        self.assertIn("% of the power limit", text)
        self.assertIn("gpu0 (NVIDIA A100-SXM4-80GB", text)
        self.assertIn("power limit", text)
        self.assertIn("time (s)", text)
        self.assertGreaterEqual(text.count("<polyline"), 2)  # the series, the limit
        # The series swings between ~100 % and ~15 % of the 400 W limit.
        _, rows = read_series(self.path("sq.csv"))
        pct = [100 * float(r["power_w"]) / float(r["power_limit_w"]) for r in rows
               if float(r["t_s"]) > 0.3]
        self.assertGreater(max(pct), 90)
        self.assertLess(min(pct), 30)
        if not shutil.which("rsvg-convert"):
            self.skipTest("rsvg-convert not installed (Debian librsvg2-bin)")
        subprocess.run(["rsvg-convert", "-o", png, svg], check=True, timeout=60)
        w, h, ink, blue = pixel_counts(png, colour=(0x1f, 0x77, 0xb4))
        self.assertEqual((w, h), (960, 540))
        self.assertGreater(ink, 0.01 * w * h)   # axes, text, lines: not blank
        self.assertLess(ink, 0.5 * w * h)       # ... and not a filled mess
        self.assertGreater(blue, 500)           # the series is drawn (square wave edges)
        red = pixel_counts(png, colour=(0xc0, 0x00, 0x00))[3]
        self.assertGreater(red, 50)             # the SIMULATED label is visible


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class RunSeriesTest(CliTestCase):
    def test_series_and_markers(self):
        p = self.joules("run", "--sim", "--sample", "20ms", "--series", self.path("r.csv"),
                        "--plot", self.path("r.svg"), "--csv", self.path("sum.csv"), "--",
                        "sleep", "0.5")
        self.assertExit(p, 0)
        _, rows = read_series(self.path("r.csv"))
        kinds = [r["record"] for r in rows]
        self.assertEqual(kinds.count("window-begin"), 1)
        self.assertEqual(kinds.count("window-end"), 1)
        b, e = kinds.index("window-begin"), kinds.index("window-end")
        self.assertLess(b, e)
        inside = [r for r in rows[b:e] if r["record"] == "sample"]
        self.assertGreater(len(inside), 10)
        t = [float(r["t_s"]) for r in rows]
        self.assertEqual(t, sorted(t))  # markers in time order with the samples
        span = float(rows[e]["t_s"]) - float(rows[b]["t_s"])
        self.assertAlmostEqual(span, 0.5, delta=0.4 * SLACK)
        with open(self.path("r.svg")) as f:
            self.assertIn("command begins / ends", f.read())
        # --csv keeps its meaning: the one-row-per-domain summary.
        with open(self.path("sum.csv")) as f:
            self.assertIn("joules.run.csv/1", f.read())
        self.assertNoStrayFiles(self.tmp)

    def test_sample_needs_an_output(self):
        p = self.joules("run", "--sim", "--sample", "10ms", "--", "true")
        self.assertExit(p, 2)
        self.assertIn("--series", p.stderr)
        p = self.joules("run", "--sim", "--series", self.path("a"), "--plot", self.path("a"),
                        "--", "true")
        self.assertExit(p, 2)


if __name__ == "__main__":
    unittest.main()
