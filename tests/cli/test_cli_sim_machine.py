"""joules sim status / reset: the simulated machine every process shares (docs/physics.md §7).

A machine of this test's own name; `joules run --sim` in one process puts its scenario's load
on the machine, and `joules sim status` in another sees it, with the process listed."""
import os
import subprocess
import time
import unittest

from clitest import BIN, CliTestCase


class SimMachineTest(CliTestCase):
    def setUp(self):
        super().setUp()
        self.require_sim()
        self.name = "joules-cli-test-%d" % os.getpid()
        self.menv = self.env(JOULES_SIM_MACHINE=self.name)
        del self.menv["JOULES_SIM_SENSOR_CLOCK"]

    def tearDown(self):
        self.joules("sim", "reset", "--machine", self.name)
        super().tearDown()

    def test_status_sees_another_process_load(self):
        scn = self.write("busy.scn", "profile a100\nphase 20s util=1 alpha=0.8\n")
        run = subprocess.Popen(
            [BIN, "run", "--sim", "--scenario", scn, "--", "sleep", "3"],
            env=self.menv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # status attaches to what runs (or would boot an idle machine of its own if it came
            # first): wait for the run's machine before asking.
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not os.path.exists("/dev/shm/" + self.name):
                time.sleep(0.05)
            time.sleep(0.5)
            out = ""
            while time.monotonic() < deadline:
                p = self.joules("sim", "status", env=self.menv)
                self.assertExit(p, 0)
                out = p.stdout
                if "pids %d" % run.pid in out and "(256 MiB)" in out:
                    break
                time.sleep(0.2)
            self.assertIn("Simulated machine '%s'" % self.name, out)
            self.assertIn("a100-sxm4-80gb x1", out)
            self.assertIn("scenario " + scn, out)
            self.assertIn("booted by pid %d" % run.pid, out)
            self.assertIn("pids %d" % run.pid, out)
            self.assertIn("%d (256 MiB)" % run.pid, out)  # its scenario's load, listed
            self.assertIn("A100-SXM4-80GB (simulated)", out)
        finally:
            run.communicate(timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)

        # Another scenario is refused while a process uses the machine, with the way out...
        other = self.write("other.scn", "profile h100\nidle 1s\n")
        holder = subprocess.Popen(
            [BIN, "run", "--sim", "--scenario", scn, "--", "sleep", "4"],
            env=self.menv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                p = self.joules("sim", "status", env=self.menv)
                if "pids %d" % holder.pid in p.stdout:
                    break
                time.sleep(0.2)
            p = self.joules("run", "--sim", "--scenario", other, "--", "true", env=self.menv)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("already runs", p.stderr)
            self.assertIn("joules sim reset", p.stderr)
        finally:
            holder.communicate(timeout=60)
        # ...and once nobody uses it, the machine reboots with what the next process asks for.
        p = self.joules("run", "--sim", "--scenario", other, "--", "true", env=self.menv)
        self.assertExit(p, 0)
        self.assertIn("H100", p.stderr)

    def test_reset(self):
        self.assertExit(self.joules("sim", "status", env=self.menv), 0)
        p = self.joules("sim", "reset", env=self.menv)
        self.assertExit(p, 0)
        self.assertIn("Removed the simulated machine '%s'" % self.name, p.stdout)
        p = self.joules("sim", "reset", "--machine", self.name)
        self.assertExit(p, 0)
        self.assertIn("No simulated machine", p.stdout)
        p = self.joules("sim", "status", "--machine", "private")
        self.assertExit(p, 2)
        p = self.joules("sim", "reset", "--machine", "../x")
        self.assertExit(p, 2)


if __name__ == "__main__":
    unittest.main()
