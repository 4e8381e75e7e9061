# SPDX-License-Identifier: MIT
"""A test that did not run shows as Skipped in CTest, never as Passed.

The unittest runner (tests/run_unittest.py) and the C harness (tests/testlib.c) exit 77 when
something was skipped, and every test the build registers tells CTest so (SKIP_RETURN_CODE).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

SOURCE = os.environ.get("JOULES_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("JOULES_BUILD_DIR", "")
TESTS = os.path.join(SOURCE, "tests")
RUNNER = os.path.normpath(os.path.abspath(os.path.join(TESTS, "run_unittest.py")))

MODULE = """
import unittest

class T(unittest.TestCase):
    def test_runs(self):
        self.assertTrue(%s)

    def test_maybe_skipped(self):
        if %s:
            self.skipTest("nothing to run it on")
"""


class Runner(unittest.TestCase):
    def run_module(self, passes, skips):
        with tempfile.TemporaryDirectory(prefix="joules-skips-") as d:
            with open(os.path.join(d, "test_mod.py"), "w", encoding="utf-8") as f:
                f.write(MODULE % (passes, skips))
            return subprocess.run([sys.executable, RUNNER, "test_mod"], cwd=d,
                                  capture_output=True, text=True, timeout=60)

    def test_all_run_exits_0(self):
        self.assertEqual(self.run_module(True, False).returncode, 0)

    def test_a_skip_exits_77_and_says_so(self):
        p = self.run_module(True, True)
        self.assertEqual(p.returncode, 77, p.stdout + p.stderr)
        self.assertIn("SKIPPED: 1 of 2 test(s) of test_mod did not run", p.stdout)
        self.assertIn("nothing to run it on", p.stdout)

    def test_a_failure_wins_over_a_skip(self):
        self.assertEqual(self.run_module(False, True).returncode, 1)


class CHarness(unittest.TestCase):
    def build_and_run(self, body):
        cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
        if not cc:
            self.skipTest("no C compiler")
        with tempfile.TemporaryDirectory(prefix="joules-skips-") as d:
            main = os.path.join(d, "main.c")
            with open(main, "w", encoding="utf-8") as f:
                f.write(textwrap.dedent("""
                    #include "testlib.h"
                    static void a_case(void) { %s }
                    int main(void) { RUN(a_case); return t_end(); }
                    """ % body))
            exe = os.path.join(d, "t")
            subprocess.run([cc, "-std=c11", "-I", TESTS, "-I", os.path.join(SOURCE, "support"),
                            "-I", os.path.join(SOURCE, "include"), main,
                            os.path.join(TESTS, "testlib.c"), "-o", exe], check=True)
            return subprocess.run([exe], capture_output=True, text=True, timeout=60)

    def test_skip_exits_77(self):
        p = self.build_and_run('t_skip("no device here"); return;')
        self.assertEqual(p.returncode, 77, p.stdout)
        self.assertIn("SKIP a_case: no device here", p.stdout)

    def test_pass_exits_0_and_fail_1(self):
        self.assertEqual(self.build_and_run("CHECK(1);").returncode, 0)
        self.assertEqual(self.build_and_run('CHECK(0); t_skip("x");').returncode, 1)


class Registered(unittest.TestCase):
    def test_every_ctest_program_reports_skips(self):
        if not BUILD or not os.path.exists(os.path.join(BUILD, "CTestTestfile.cmake")):
            self.skipTest("JOULES_BUILD_DIR does not name a configured build")
        out = subprocess.run(["ctest", "--show-only=json-v1"], cwd=BUILD, check=True,
                             capture_output=True, text=True, timeout=60).stdout
        tests = json.loads(out)["tests"]
        self.assertGreater(len(tests), 10)
        for t in tests:
            props = {p["name"]: p["value"] for p in t.get("properties", [])}
            self.assertEqual(str(props.get("SKIP_RETURN_CODE")), "77",
                             "%s: no SKIP_RETURN_CODE 77" % t["name"])
            command = t.get("command", [])
            if any(os.path.basename(c).startswith("python") for c in command[:1]):
                self.assertIn(RUNNER, [os.path.normpath(c) for c in command],
                              "%s runs unittest without tests/run_unittest.py" % t["name"])


if __name__ == "__main__":
    unittest.main()
