# SPDX-License-Identifier: MIT
"""python/examples/talk_ab.py runs on the simulated GPU without JAX or NumPy."""
import os
import subprocess
import sys
import unittest

import jtest


class TestTalkExample(unittest.TestCase):
    def test_sim_path(self):
        jtest.require_library(self)
        script = os.path.join(jtest.PYTHON_DIR, "examples", "talk_ab.py")
        env = dict(os.environ, PYTHONPATH=jtest.PYTHON_DIR)
        p = subprocess.run([sys.executable, script, "--sim", "--n", "8000", "--iters", "20"],
                           env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("SIMULATED", p.stdout)
        self.assertIn("normal", p.stdout)
        self.assertIn("zeros", p.stdout)
        ratio = [l for l in p.stdout.splitlines() if "normal / zeros" in l]
        self.assertTrue(ratio, p.stdout)
        value = float(ratio[0].split(":")[1].split("x")[0])
        self.assertGreater(value, 1.0)  # random operands cost more than zeros


if __name__ == "__main__":
    unittest.main()
