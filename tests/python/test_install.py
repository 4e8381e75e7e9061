# SPDX-License-Identifier: MIT
"""The package installed with pip (offline, no build isolation) works from outside the source
tree, and a missing library is reported with every path tried."""
import importlib.machinery
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import jtest
from jtest import joules

PROBE = r"""
import json, os, sys, time
import joules
m = joules.Monitor(sim="a6000", gpu_indices=[0])
time.sleep(0.25)
m.begin_window("w")
time.sleep(0.1)
r = m.end_window("w")
print(json.dumps({"file": joules.__file__, "lib": joules.library_path(),
                  "edges": joules.binding()["extension"],
                  "sim": m.sim_library, "energy": r.gpu_energy[0],
                  "truth": r.simulator_true_energy[0]}))
"""


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "JOULES_LIBRARY", "JOULES_SIM_LIBRARY", "JOULES_SIM_LIB",
                        "JOULES_PY_NO_EXT")}
    env.update(extra)
    return env


class TestInstall(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        jtest.require_library(cls)
        cls.lib = joules.library_path()
        cls.sim = os.environ.get("JOULES_SIM_LIBRARY")
        cls.tmp = tempfile.mkdtemp(prefix="joules-py-install-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def pip_install(self, target, **env):
        cmd = [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
               "--no-index", "--target", target, jtest.PYTHON_DIR]
        p = subprocess.run(cmd, env=clean_env(PIP_NO_INDEX="1", **env), capture_output=True,
                           text=True, timeout=240, cwd=self.tmp)
        if p.returncode != 0 and "No module named pip" in p.stderr:
            self.skipTest("pip is not available")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def probe(self, target, **env):
        other = tempfile.mkdtemp(dir=self.tmp)  # another cwd, not the source tree
        return subprocess.run([sys.executable, "-c", PROBE], cwd=other,
                              env=clean_env(PYTHONPATH=target, **env), capture_output=True,
                              text=True, timeout=60)

    def test_bundled_library(self):
        target = os.path.join(self.tmp, "bundled")
        env = {"JOULES_LIBRARY": self.lib}
        if self.sim:
            env["JOULES_SIM_LIBRARY"] = self.sim
        self.pip_install(target, **env)
        self.assertTrue(os.path.isfile(os.path.join(target, "joules", "libjoules.so")))
        self.assertTrue(os.path.isfile(os.path.join(target, "joules", "joules",
                                                    "libnvidia-ml.so.1")))
        p = self.probe(target)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        import json
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertTrue(out["file"].startswith(target), out)
        self.assertTrue(out["lib"].startswith(target), out)
        self.assertTrue(out["sim"].startswith(target), out)
        # The window edges in C travel with the library when the build has them.
        here = os.path.join(os.path.dirname(self.lib), "joules")
        built = [suffix for suffix in importlib.machinery.EXTENSION_SUFFIXES
                 if os.path.isfile(os.path.join(here, "_fast" + suffix))]
        if built:
            self.assertTrue(out["edges"].startswith(target), out)
            self.assertTrue(out["edges"].endswith(os.path.join("joules", "_fast" + built[0])))
        else:
            self.assertIsNone(out["edges"], out)
        self.assertAlmostEqual(out["energy"], out["truth"], delta=0.05 * out["truth"] + 0.2)

    def test_pure_python_with_env(self):
        target = os.path.join(self.tmp, "pure")
        self.pip_install(target, JOULES_BUNDLE="0")
        self.assertFalse(os.path.exists(os.path.join(target, "joules", "libjoules.so")))
        env = {"JOULES_LIBRARY": self.lib}
        if self.sim:
            env["JOULES_SIM_LIBRARY"] = self.sim
        p = self.probe(target, **env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_unbuilt_clone_fails_and_says_why(self):
        # A clone that was never built: the package and the header, no build/ folder.
        clone = os.path.join(self.tmp, "clone")
        shutil.copytree(jtest.PYTHON_DIR, os.path.join(clone, "python"),
                        ignore=shutil.ignore_patterns("*.so*", "__pycache__", "build",
                                                      "*.egg-info"))
        os.makedirs(os.path.join(clone, "include"))
        shutil.copy(os.path.join(jtest.SOURCE_DIR, "include", "joules.h"),
                    os.path.join(clone, "include"))
        cmd = [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
               "--no-index", "--target", os.path.join(self.tmp, "unbuilt"),
               os.path.join(clone, "python")]
        p = subprocess.run(cmd, env=clean_env(PIP_NO_INDEX="1"), capture_output=True,
                           text=True, timeout=240, cwd=self.tmp)
        if "No module named pip" in p.stderr:
            self.skipTest("pip is not available")
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("no libjoules at", p.stdout + p.stderr)
        self.assertIn("make build", p.stdout + p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "unbuilt", "joules")))

    def test_missing_library_lists_paths(self):
        target = os.path.join(self.tmp, "nolib")
        shutil.copytree(os.path.join(jtest.PYTHON_DIR, "joules"), os.path.join(target, "joules"),
                        ignore=shutil.ignore_patterns("*.so*", "__pycache__", "joules"))
        code = ("import joules\ntry:\n    joules.Monitor()\nexcept joules.LibraryError as e:\n"
                "    print(e.name); print(e)\n")
        p = subprocess.run([sys.executable, "-c", code], cwd=self.tmp, capture_output=True,
                           text=True, timeout=60,
                           env=clean_env(PYTHONPATH=target,
                                         JOULES_LIBRARY="/nonexistent/libjoules.so",
                                         LD_LIBRARY_PATH=""))
        self.assertEqual(p.returncode, 0, p.stderr)
        if "JOULES_E_LIBRARY" not in p.stdout:
            self.skipTest("a system-wide libjoules is installed")
        self.assertIn("/nonexistent/libjoules.so", p.stdout)
        self.assertIn(os.path.join(target, "joules", "libjoules.so"), p.stdout)
        self.assertIn("libjoules.so.0", p.stdout)
        self.assertIn("JOULES_LIBRARY", p.stdout)


if __name__ == "__main__":
    unittest.main()
