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


if __name__ == "__main__":
    unittest.main()
