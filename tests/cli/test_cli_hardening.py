# SPDX-License-Identifier: MIT
"""Faults a caller can hand joules (issue 21): closed standard descriptors, and the same
file named twice as two outputs."""
import json
import os
import subprocess
import unittest

from clitest import BIN, SLACK, CliTestCase, have_sim

AB_QUICK = ("ab", "--sim", "-n", "500", "--repeats", "2", "--min-window", "0.05")


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class ClosedDescriptors(CliTestCase):
    def run_closed(self, redirect, *args):
        # The shell closes the descriptors named in `redirect` before joules starts.
        return subprocess.run(["sh", "-c", f'exec "$@" {redirect}', "sh", BIN, *args],
                              env=self.env(), timeout=120 * SLACK, capture_output=True,
                              text=True)

    def test_report_file_gets_only_the_report(self):
        # With standard output closed, the report's temporary file would take descriptor 1
        # and the table printed to standard output would land in the JSON.
        for redirect in (">&-", ">&- 2>&-", "<&- >&- 2>&-"):
            out = self.path("f.json")
            if os.path.exists(out):
                os.unlink(out)
            p = self.run_closed(redirect, *AB_QUICK, "--json", out)
            self.assertEqual(p.returncode, 0, f"{redirect}: {p.stderr}")
            with open(out) as f:
                text = f.read()
            self.assertEqual(json.loads(text)["schema"], "joules.ab/1", redirect)
            self.assertNoStrayFiles(self.tmp)


class SameFileTwice(CliTestCase):
    """Two outputs naming one file: one would silently replace the other. Refused before any
    measurement, by every command with several outputs."""

    COMMANDS = (
        ("run", "--json", "--csv", ("--", "true")),
        ("run", "--json", "--series", ("--sample", "10ms", "--", "true")),
        ("run", "--csv", "--plot", ("--sample", "10ms", "--", "true")),
        ("ab", "--json", "--csv", ("--sim",)),
        ("ab", "--csv", "--svg", ("--sim",)),
        ("sweep", "--json", "--svg", ("--sim",)),
        ("watch", "--csv", "--plot", ("--sim", "--duration", "1s")),
        ("sim thermal", "--csv", "--svg", ()),
    )

    def check_refused(self, first, second):
        for cmd, opt1, opt2, rest in self.COMMANDS:
            p = self.joules(*cmd.split(), opt1, first, opt2, second, *rest, timeout=20)
            what = f"joules {cmd} {opt1} {first} {opt2} {second}"
            self.assertExit(p, 2)
            self.assertIn(f"joules {cmd}: {opt1} '{first}' and {opt2} '{second}' name the same file",
                          p.stderr, what)

    def test_same_name_two_spellings(self):
        os.chdir(self.tmp)
        self.check_refused("a.out", "./a.out")
        self.check_refused(self.path("a.out"), "a.out")
        self.assertEqual(os.listdir(self.tmp), ["sys"])  # nothing measured, nothing written

    def test_hard_link(self):
        self.write("a.out", "old\n")
        os.link(self.path("a.out"), self.path("b.out"))
        self.check_refused(self.path("a.out"), self.path("b.out"))
        with open(self.path("b.out")) as f:
            self.assertEqual(f.read(), "old\n")

    def setUp(self):
        super().setUp()
        self.cwd = os.getcwd()

    def tearDown(self):
        os.chdir(self.cwd)
        super().tearDown()


if __name__ == "__main__":
    unittest.main()
