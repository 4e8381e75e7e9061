# SPDX-License-Identifier: MIT
"""`joules info`: what is found, what is not and why, and the simulated GPU labelled as such."""
import json
import unittest

from clitest import SIM_LIB, CliTestCase


class InfoWithoutSensors(CliTestCase):
    def test_nothing_found_is_not_an_error(self):
        p = self.joules("info")
        self.assertExit(p, 0)
        self.assertIn("No measurable domain", p.stdout)
        self.assertIn("GPU source: none", p.stdout)  # not "the NVIDIA driver": it did not load
        # Why each backend is absent, and what to do.
        self.assertIn("nvml", p.stdout)
        self.assertIn("rapl", p.stdout)
        self.assertIn("absent", p.stdout)
        self.assertIn("remedy", p.stdout)
        # How to go on without hardware.
        self.assertIn("--sim", p.stdout)
        self.assertNotIn("SIMULATED:", p.stdout)

    def test_json_without_sensors(self):
        out = self.path("info.json")
        p = self.joules("info", "--json", out)
        self.assertExit(p, 0)
        doc = self.load_json("info.json")
        self.assertEqual(doc["schema"], "joules.info/1")
        self.assertEqual(doc["domains"], [])
        self.assertEqual(doc["gpus"], [])
        self.assertFalse(doc["simulated"])
        names = {b["name"]: b for b in doc["backends"]}
        self.assertFalse(names["nvml"]["loaded"])
        self.assertTrue(names["nvml"]["message"])
        self.assertTrue(names["nvml"]["remedy"])

    def test_json_to_stdout(self):
        p = self.joules("info", "--json", "-")
        self.assertExit(p, 0)
        self.assertEqual(json.loads(p.stdout)["schema"], "joules.info/1")

    def test_corrupt_nvml_library(self):
        fake = self.write("libnvidia-ml.so.1", "this is not a shared library\n")
        p = self.joules("info", env=self.env(JOULES_NVML_LIBRARY=fake))
        self.assertExit(p, 0)
        self.assertIn("nvml  absent", p.stdout)
        self.assertIn(fake, p.stdout)  # the message names the file that failed to load

    def test_unwritable_json_fails_before_work(self):
        p = self.joules("info", "--json", self.path("no/such/dir/info.json"))
        self.assertExit(p, 2)
        self.assertIn("info.json", p.stderr)


class InfoSimulated(CliTestCase):
    def setUp(self):
        super().setUp()
        self.require_sim()

    def test_sim_is_labelled_and_detailed(self):
        p = self.joules("info", "--sim")
        self.assertExit(p, 0)
        out = p.stdout
        self.assertIn("SIMULATED", out)
        self.assertIn("NVIDIA RTX A6000", out)
        for field in ["UUID", "Bus id", "Driver", "Architecture", "Power limit", "Clocks",
                      "P-state", "Temperature", "Memory", "Utilisation", "method", "source"]:
            self.assertIn(field, out)
        self.assertIn("gpu0", out)

    def test_sim_profile_json(self):
        p = self.joules("info", "--sim", "h100-sxm5", "--json", self.path("i.json"))
        self.assertExit(p, 0)
        doc = self.load_json("i.json")
        self.assertTrue(doc["simulated"])
        self.assertEqual(doc["gpu_source"], "simulator")
        gpu = [d for d in doc["domains"] if d["kind"] == "gpu"]
        self.assertEqual(len(gpu), 1)
        self.assertTrue(gpu[0]["simulated"])
        self.assertEqual(gpu[0]["method"], "counter")
        self.assertIn("energy-counter", gpu[0]["capabilities"])
        g = doc["gpus"][0]
        self.assertIsNone(g["error"])
        self.assertIn("H100", g["name"])
        self.assertTrue(g["simulated"])
        self.assertGreater(g["power_limit_max_w"], 0)
        self.assertGreater(g["power_w"], 0)
        self.assertGreater(g["memory_total_bytes"], 0)

    def test_sim_equals_form(self):
        p = self.joules("info", "--sim=a100-sxm4-40gb")
        self.assertExit(p, 0)
        self.assertIn("A100", p.stdout)

    def test_sim_if_absent_falls_back_and_says_so(self):
        p = self.joules("info", "--sim-if-absent", "a6000")
        self.assertExit(p, 0)
        self.assertIn("SIMULATED GPU, because no real GPU was found", p.stdout)
        self.assertIn("RTX A6000", p.stdout)

    def test_sim_if_absent_prefers_a_working_nvml(self):
        # The simulated library given as the "real" NVML stands for a machine with a driver:
        # it is used as such (and its devices still say they are simulated).
        p = self.joules("info", "--sim-if-absent", env=self.env(JOULES_NVML_LIBRARY=SIM_LIB))
        self.assertExit(p, 0)
        self.assertIn("GPU source: the NVIDIA driver", p.stdout)
        self.assertIn("SIMULATED", p.stdout)


if __name__ == "__main__":
    unittest.main()
