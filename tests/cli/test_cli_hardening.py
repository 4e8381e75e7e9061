# SPDX-License-Identifier: MIT
"""Faults a caller can hand joules (issue 21): closed standard descriptors, and the same
file named twice as two outputs."""
import json
import os
import signal
import subprocess
import time
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
        self.check_refused("a.svg", "./a.svg")
        self.check_refused(self.path("a.svg"), "a.svg")
        # Nothing measured, nothing written.
        self.assertEqual(sorted(os.listdir(self.tmp)), ["run", "sys"])

    def test_hard_link(self):
        self.write("a.svg", "old\n")
        os.link(self.path("a.svg"), self.path("b.svg"))
        self.check_refused(self.path("a.svg"), self.path("b.svg"))
        with open(self.path("b.svg")) as f:
            self.assertEqual(f.read(), "old\n")

    def setUp(self):
        super().setUp()
        self.cwd = os.getcwd()

    def tearDown(self):
        os.chdir(self.cwd)
        super().tearDown()


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class StopSignals(CliTestCase):
    """Every terminating signal that can be caught (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE)
    restores what joules changed and finishes or removes its outputs; the status is 128+N."""

    AB = ("ab", "--sim", "a6000", "--lock-clocks", "1000", "-n", "2048", "--repeats", "100",
          "--min-window", "0.2")

    def start(self, *args, stdout=subprocess.PIPE):
        return subprocess.Popen([BIN, *args], env=self.env(JOULES_SIM_PRIVILEGED="1"),
                                stdout=stdout, stderr=subprocess.PIPE, text=True)

    def wait_for(self, proc, word):
        seen = ""
        deadline = time.monotonic() + 60 * SLACK
        while word not in seen and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen += line
        self.assertIn(word, seen)
        return seen

    def test_ab_restores_clocks_on_each_signal(self):
        for sig in (signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTERM):
            out = self.path(f"ab-{sig}.json")
            proc = self.start(*self.AB, "--json", out)
            seen = self.wait_for(proc, "[2/")
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=60 * SLACK)
            err = seen + err
            self.assertEqual(proc.returncode, 128 + sig, f"{sig!r}: {err}")
            self.assertIn("restored: graphics clocks reset", err)
            with open(out) as f:
                d = json.load(f)
            self.assertTrue(d["interrupted"])
            self.assertTrue(d["clocks"]["restored"])
            self.assertNoStrayFiles(self.tmp)

    def test_ab_into_a_closed_pipe(self):
        # `joules ab ... | head`: the reader is gone when the report is printed.
        r, w = os.pipe()
        os.close(r)
        try:
            proc = self.start("ab", "--sim", "a6000", "--lock-clocks", "1000", "-n", "2048",
                              "--repeats", "3", "--min-window", "0.05", "--json",
                              self.path("ab.json"), stdout=w)
        finally:
            os.close(w)
        _, err = proc.communicate(timeout=60 * SLACK)
        self.assertEqual(proc.returncode, 128 + signal.SIGPIPE, err)
        self.assertIn("restored: graphics clocks reset", err)
        self.assertTrue(self.load_json("ab.json")["clocks"]["restored"])
        self.assertNoStrayFiles(self.tmp)

    def test_sweep_restores_on_sighup(self):
        proc = self.start("sweep", "--sim", "test", "--clocks", "500:1500:100", "-n", "2048",
                          "--warmup", "0.1", "--cooldown", "0.3", "--min-window", "0.25",
                          "--json", self.path("s.json"))
        seen = self.wait_for(proc, "[2/11]")
        proc.send_signal(signal.SIGHUP)
        _, err = proc.communicate(timeout=60 * SLACK)
        err = seen + err
        self.assertEqual(proc.returncode, 128 + signal.SIGHUP, err)
        self.assertIn("restored: graphics clocks reset", err)
        d = self.load_json("s.json")
        self.assertTrue(d["interrupted"])
        self.assertTrue(d["restored"])
        self.assertEqual(d["signal"], signal.SIGHUP)
        self.assertNoStrayFiles(self.tmp)

    def test_repeat_leaves_no_file_on_sighup(self):
        proc = self.start("repeat", "--sim", "--json", self.path("r.json"), "--", "sleep", "0.05")
        time.sleep(1.0)
        proc.send_signal(signal.SIGHUP)
        _, err = proc.communicate(timeout=60 * SLACK)
        self.assertEqual(proc.returncode, 128 + signal.SIGHUP, err)
        self.assertNoStrayFiles(self.tmp)

    def test_run_forwards_sigquit(self):
        proc = self.start("run", "--sim", "--json", self.path("q.json"), "--", "sleep", "30")
        time.sleep(0.5)
        proc.send_signal(signal.SIGQUIT)
        _, err = proc.communicate(timeout=60 * SLACK)
        self.assertEqual(proc.returncode, 128 + signal.SIGQUIT, err)
        self.assertEqual(self.load_json("q.json")["signal"], signal.SIGQUIT)
        self.assertNoStrayFiles(self.tmp)


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class FailedRestore(CliTestCase):
    """A restore that keeps failing (the board fell off the bus) is tried a bounded number of
    times; joules then exits non-zero and prints the command that restores the board."""

    def test_ab_prints_the_restore_command(self):
        scn = self.write("lost.scn", "profile a6000\nfault lost at=0.8s\n")
        # 40 windows of at least 0.1 s: the board is lost well inside the run.
        p = self.joules("ab", "--scenario", scn, "--lock-clocks", "1000", "-n", "2048",
                        "--repeats", "20", "--min-window", "0.1",
                        env=self.env(JOULES_SIM_PRIVILEGED="1"))
        self.assertExit(p, 1)
        self.assertIn(f"could NOT reset the clocks ({5} tries)", p.stderr)
        self.assertRegex(p.stderr, r"restore it with: nvidia-smi -i GPU-[0-9a-f-]+ -rgc\n")

    def test_sweep_power_limit_prints_the_restore_command(self):
        # Seven steps of at least 0.5 s each: the board is lost well inside the sweep.
        scn = self.write("lost.scn", "profile test\nfault lost at=1.0s\n")
        p = self.joules("sweep", "--scenario", scn, "--power-limits", "80:140:10", "-n",
                        "1024", "--warmup", "0.1", "--cooldown", "0.2", "--min-window", "0.2",
                        env=self.env(JOULES_SIM_PRIVILEGED="1"))
        self.assertExit(p, 1)
        self.assertIn("could NOT restore the power limit", p.stderr)
        self.assertRegex(p.stderr, r"restore it with: nvidia-smi -i GPU-[0-9a-f-]+ -pl \d+\n")


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class RestoreJournal(CliTestCase):
    """Even SIGKILL does not leave a board changed unnoticed: a journal written before each
    change names it, every later start says so, and `joules restore` puts it back."""

    def journals(self):
        d = os.path.join(self.runtime, "joules")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def kill_mid_run(self, *args):
        proc = subprocess.Popen([BIN, *args], env=self.env(JOULES_SIM_PRIVILEGED="1"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seen = ""
        deadline = time.monotonic() + 60 * SLACK
        while "[2/" not in seen and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen += line
        self.assertIn("[2/", seen)
        self.assertEqual(len(self.journals()), 1, seen)
        proc.kill()
        proc.communicate(timeout=60 * SLACK)
        return proc.pid

    def test_killed_ab_is_noticed_and_restored(self):
        pid = self.kill_mid_run("ab", "--sim", "a6000", "--lock-clocks", "1000", "-n", "2048",
                                "--repeats", "100", "--min-window", "0.2")
        [name] = self.journals()
        self.assertIn(f"restore-{pid}-GPU-", name)
        self.assertTrue(name.endswith("-clocks.journal"))
        p = self.joules("info", "--sim")
        self.assertExit(p, 0)
        self.assertIn(f"joules (pid {pid}, no longer running) locked the clocks of GPU-",
                      p.stderr)
        self.assertIn("to restore it: joules restore --sim", p.stderr)
        p = self.joules("restore", "--sim", "a6000", env=self.env(JOULES_SIM_PRIVILEGED="1"))
        self.assertExit(p, 0)
        self.assertIn("restored: graphics clocks reset", p.stderr)
        self.assertEqual(self.journals(), [])
        p = self.joules("restore", "--sim")
        self.assertExit(p, 0)
        self.assertIn("nothing to restore", p.stdout)
        self.assertNotIn("no longer running", self.joules("info", "--sim").stderr)

    def test_killed_sweep_keeps_the_power_limit_to_restore(self):
        pid = self.kill_mid_run("sweep", "--sim", "test", "--power-limits", "80,100,120,140",
                                "-n", "1024", "--warmup", "0.1", "--cooldown", "0.2",
                                "--min-window", "0.2")
        [name] = self.journals()
        with open(os.path.join(self.runtime, "joules", name)) as f:
            text = f.read()
        self.assertIn(f"pid {pid}\nwhat power-limit\n", text)
        self.assertRegex(text, r"power_limit_w \d+\.\d+\n")
        p = self.joules("restore", "--sim", "test", env=self.env(JOULES_SIM_PRIVILEGED="1"))
        self.assertExit(p, 0)
        self.assertIn("restored: power limit back to", p.stderr)
        self.assertEqual(self.journals(), [])

    def test_no_journal_left_after_a_normal_run(self):
        p = self.joules("ab", "--sim", "a6000", "--lock-clocks", "1000", "-n", "512",
                        "--repeats", "2", "--min-window", "0.05",
                        env=self.env(JOULES_SIM_PRIVILEGED="1"))
        self.assertExit(p, 0)
        self.assertEqual(self.journals(), [])
        p = self.joules("ab", "--sim", "a6000", "--lock-clocks", "1000",
                        env=self.env(JOULES_SIM_PRIVILEGED="0"))
        self.assertExit(p, 1)
        self.assertEqual(self.journals(), [])


if __name__ == "__main__":
    unittest.main()


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class LeastPrivilege(CliTestCase):
    """Under sudo, joules keeps root for the NVML setters alone: the user's command runs as the
    invoking user (SUDO_UID/SUDO_GID) unless --as-root is given."""

    NOBODY = "65534"
    COMMANDS = (
        ("run", "-q"),
        ("repeat", "-q", "--runs", "2", "--groups", "1"),
        ("sweep", "-q", "--clocks", "1000,1200"),
        ("compare", "-q", "--show-output", "--runs", "1", "--warmup", "0"),
    )

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root: the command's identity changes only under sudo")

    def sudo_env(self, uid=NOBODY, gid=NOBODY):
        env = self.env()
        env["SUDO_UID"], env["SUDO_GID"] = uid, gid
        return env

    def ids(self, cmd, *extra, env):
        cmd_args = ["--", "id", "-u"]
        if cmd[0] == "compare":
            cmd_args += [":::", "id", "-u"]
        p = self.joules(cmd[0], "--sim", *cmd[1:], *extra, *cmd_args, env=env, timeout=120)
        self.assertExit(p, 0)
        # The command's lines are a number alone; joules's own lines (sweep's table) are not.
        return {line.strip() for line in p.stdout.splitlines() if line.strip().isdigit()}

    def test_command_runs_as_the_invoking_user(self):
        for cmd in self.COMMANDS:
            with self.subTest(cmd=cmd[0]):
                self.assertEqual(self.ids(cmd, env=self.sudo_env()), {self.NOBODY})

    def test_as_root_keeps_root(self):
        for cmd in self.COMMANDS:
            with self.subTest(cmd=cmd[0]):
                self.assertEqual(self.ids(cmd, "--as-root", env=self.sudo_env()), {"0"})

    def test_without_sudo_nothing_changes(self):
        self.assertEqual(self.ids(self.COMMANDS[0], env=self.env()), {"0"})

    def test_groups_are_dropped_too(self):
        p = self.joules("run", "--sim", "-q", "--", "id", "-G", env=self.sudo_env())
        self.assertExit(p, 0)
        self.assertEqual(p.stdout.split(), [self.NOBODY])

    def test_malformed_sudo_ids_refuse_to_run(self):
        # Never a silent root run: a SUDO_UID joules cannot read stops it before the command.
        for uid, gid in (("nobody", self.NOBODY), (self.NOBODY, "-1"), ("", self.NOBODY)):
            with self.subTest(uid=uid, gid=gid):
                p = self.joules("run", "--sim", "-q", "--", "id", "-u",
                                env=self.sudo_env(uid, gid))
                self.assertExit(p, 1)
                self.assertEqual(p.stdout, "")
                self.assertIn("--as-root", p.stderr)
