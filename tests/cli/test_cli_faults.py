# SPDX-License-Identifier: MIT
"""The fault matrix of issue 21: `ab --lock-clocks`, `sweep --clocks` and `sweep
--power-limits` on the simulated GPU, stopped by each of SIGINT, SIGTERM, SIGHUP, SIGQUIT
and SIGPIPE during the warm-up and inside a measured window. Every time: exit status 128+N,
the setting restored (joules says so and its restore journal is gone: it is removed only once
the GPU is back), the JSON complete or absent, no temporary file left."""
import json
import os
import signal
import subprocess
import time
import unittest

from clitest import BIN, SLACK, CliTestCase, have_sim

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE)

# Each workload: its arguments, then per phase the progress line to wait for and the seconds
# to wait after it. The sweep locks its first step just after "preparing" and warms up for
# 0.6 s there: 0.2 s later is inside that warm-up.
WORKLOADS = {
    "ab-clocks": (("ab", "--sim", "a6000", "--lock-clocks", "1000", "-n", "1024", "--repeats",
                   "50", "--min-window", "0.15"),
                  ("warm-up and correctness check", 0.0), ("[2/", 0.0)),
    "sweep-clocks": (("sweep", "--sim", "test", "--clocks", "500:1500:100", "-n", "1024",
                      "--warmup", "0.6", "--cooldown", "0.1", "--min-window", "0.15"),
                     ("preparing", 0.2), ("[2/", 0.0)),
    "sweep-limits": (("sweep", "--sim", "test", "--power-limits", "60:140:10", "-n", "1024",
                      "--warmup", "0.6", "--cooldown", "0.1", "--min-window", "0.15"),
                     ("preparing", 0.2), ("[2/", 0.0)),
}


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class FaultMatrix(CliTestCase):
    def stop_at(self, args, word, delay_s, sig, out):
        proc = subprocess.Popen([BIN, *args, "--json", out],
                                env=self.env(JOULES_SIM_PRIVILEGED="1"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seen = ""
        deadline = time.monotonic() + 60 * SLACK
        while word not in seen and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen += line
        self.assertIn(word, seen)
        time.sleep(delay_s)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60 * SLACK)
        return proc.returncode, seen + err

    def test_matrix(self):
        for name, (args, warm_up, in_window) in WORKLOADS.items():
            for phase, (word, delay_s) in (("warm-up", warm_up), ("window", in_window)):
                for sig in SIGNALS:
                    what = f"{name} {phase} {sig.name}"
                    with self.subTest(what):
                        out = self.path(f"{name}-{phase}-{sig.name}.json")
                        rc, err = self.stop_at(args, word, delay_s, sig, out)
                        self.assertEqual(rc, 128 + sig, f"{what}: {err}")
                        self.assertIn("restored: ", err, what)
                        self.assertEqual(os.listdir(os.path.join(self.runtime, "joules")), [],
                                         f"{what}: a restore journal is left")
                        if os.path.exists(out):
                            with open(out) as f:
                                json.load(f)
                        self.assertNoStrayFiles(self.tmp)


if __name__ == "__main__":
    unittest.main()
