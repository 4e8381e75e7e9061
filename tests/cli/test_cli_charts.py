# SPDX-License-Identifier: MIT
"""Charts that show their data: the legend under the plot (never over a point), thresholds and
events drawn and explained, the command and the power signal in the title, an aliased view
said on the chart, and no SVG written under another format's name. Each chart is rendered
to PNG (rsvg-convert). The sweep and ab figures are checked in their own tests."""
import os
import re
import unittest

from charts import check_legends, render
from clitest import CliTestCase, have_sim


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class ChartTest(CliTestCase):
    def read(self, name):
        with open(self.path(name), encoding="utf-8") as f:
            return f.read()

    def test_thermal_thresholds_events_and_legend(self):
        p = self.joules("sim", "thermal", "--csv", self.path("t.csv"), "--svg",
                        self.path("t.svg"))
        self.assertExit(p, 0)
        svg = self.read("t.svg")
        self.assertIn("shutdown 92 °C", svg)      # the A100's thresholds, as NVML gives them
        self.assertIn("HW slowdown 89 °C", svg)
        self.assertIn("shutdown, the GPU is lost", svg)
        # The step of the governed case late in the run is explained on the chart.
        m = re.search(r"(\d+) s: the governor raises the clock (\d+) -&gt; (\d+) MHz", svg)
        self.assertIsNotNone(m, "the governor's last clock step is not annotated")
        self.assertGreater(int(m.group(3)), int(m.group(2)))
        self.assertGreater(svg.count('class="pt"'), 5)  # each clock step, marked
        self.assertEqual(check_legends(self, svg), 1)
        render(self, self.path("t.svg"), self.path("t.png"), (960, 620))

    def test_run_title_names_command_and_signal(self):
        p = self.joules("run", "--sim", "--plot", self.path("r.svg"), "-q", "--", "sleep", "0.5")
        self.assertExit(p, 0)
        svg = self.read("r.svg")
        self.assertIn("of 'sleep 0.5' (GPU power sensor)", svg)
        self.assertNotIn("Aliased view", svg)  # the A6000 averages its whole period
        self.assertEqual(check_legends(self, svg), 1)
        render(self, self.path("r.svg"), self.path("r.png"), (960, 540))

    def test_watch_notes_an_aliased_sensor(self):
        p = self.joules("watch", "--sim", "h100", "--duration", "0.6s", "--interval", "50ms",
                        "--plot", self.path("w.svg"), "-q")
        self.assertExit(p, 0)
        svg = self.read("w.svg")
        self.assertIn("(GPU power sensor)", svg)
        self.assertIn("Aliased view: gpu0's sensor averages 25 ms of every 100 ms", svg)
        self.assertEqual(check_legends(self, svg), 1)
        render(self, self.path("w.svg"), self.path("w.png"), (960, 540))

    def test_png_name_refused_before_measuring(self):
        for words in (["run", "--sim", "--plot", self.path("x.png"), "--", "true"],
                      ["watch", "--sim", "--duration", "0.2s", "--plot", self.path("x.png")],
                      ["sim", "thermal", "--csv", self.path("x.csv"), "--svg",
                       self.path("x.png")]):
            p = self.joules(*words)
            self.assertExit(p, 2)
            self.assertIn("joules writes charts as SVG, not as '.png'", p.stderr)
            self.assertIn("rsvg-convert", p.stderr)
            self.assertFalse(os.path.exists(self.path("x.png")))


if __name__ == "__main__":
    unittest.main()
