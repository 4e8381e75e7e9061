# SPDX-License-Identifier: MIT
"""The set-up installs what the documented Python route needs: on a Debian python3 without
pip and venv, `make deps` names python3-pip and python3-venv (and installs them as root)."""
import os
import shutil
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("JOULES_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


class Deps(unittest.TestCase):
    def test_python_without_pip_and_venv(self):
        if not shutil.which("make"):
            self.skipTest("no make")
        with tempfile.TemporaryDirectory(prefix="joules-setup-") as d:
            # A python3 whose every `import` fails, and a user who is not root (so that make
            # prints the command instead of running apt-get).
            for name, body in (("python3", "exit 1"), ("id", "echo 1000")):
                path = os.path.join(d, name)
                with open(path, "w", encoding="utf-8") as f:
                    f.write("#!/bin/sh\n%s\n" % body)
                os.chmod(path, 0o755)
            env = dict(os.environ, PATH=d + os.pathsep + os.environ.get("PATH", ""))
            p = subprocess.run(["make", "--no-print-directory", "-C", SOURCE, "deps"], env=env,
                               capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("python3-pip", p.stderr)
        self.assertIn("python3-venv", p.stderr)
        self.assertIn("apt-get install", p.stderr)


if __name__ == "__main__":
    unittest.main()
