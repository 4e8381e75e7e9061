# SPDX-License-Identifier: MIT
"""`joules run`: exit statuses, signal forwarding, the JSON and CSV outputs, atomic files,
and the refusals (no sensor without --sim, corrupt NVML, malformed scenario)."""
import csv
import json
import os
import resource
import signal
import stat
import subprocess
import sys
import time
import unittest

from clitest import BIN, SLACK, CliTestCase

PY = sys.executable or "python3"


class RunWithoutSensors(CliTestCase):
    def test_no_sensor_no_sim_refuses_with_hint(self):
        marker = self.path("ran")
        p = self.joules("run", "--", "touch", marker)
        self.assertExit(p, 1)
        self.assertIn("nothing to measure", p.stderr)
        self.assertIn("--sim", p.stderr)
        self.assertIn("--scenario", p.stderr)
        self.assertIn("nvml", p.stderr)  # why the real sensors are absent
        self.assertIn("rapl", p.stderr)
        self.assertFalse(os.path.exists(marker), "the command must not run")

    def test_corrupt_nvml_library(self):
        fake = self.write("libnvidia-ml.so.1", "not an ELF file\n")
        p = self.joules("run", "--json", self.path("r.json"), "--", "true",
                        env=self.env(JOULES_NVML_LIBRARY=fake))
        self.assertExit(p, 1)
        self.assertIn(fake, p.stderr)
        self.assertFalse(os.path.exists(self.path("r.json")))
        self.assertNoStrayFiles(self.tmp)


class RunSimulated(CliTestCase):
    def setUp(self):
        super().setUp()
        self.require_sim()

    def run_sim(self, *cmd, opts=(), **kw):
        return self.joules("run", "--sim", *opts, "--", *cmd, **kw)

    # -- exit statuses ------------------------------------------------------------------
    def test_exit_status_is_the_commands(self):
        self.assertExit(self.run_sim("true"), 0)
        p = self.run_sim("sh", "-c", "exit 7")
        self.assertExit(p, 7)
        self.assertIn("exit status 7", p.stderr)

    def test_not_found_is_127(self):
        p = self.run_sim("joules-no-such-command-xyz")
        self.assertExit(p, 127)
        self.assertIn("joules-no-such-command-xyz", p.stderr)
        self.assertIn("No such file", p.stderr)

    def test_not_executable_is_126(self):
        f = self.write("script.sh", "#!/bin/sh\necho hi\n")
        os.chmod(f, 0o644)
        p = self.run_sim(f)
        # root may execute a file without x bits only if some x bit is set: none here.
        self.assertExit(p, 126)
        self.assertIn("Permission denied", p.stderr)

    def test_killed_by_signal_is_128_plus_n(self):
        out = self.path("k.json")
        p = self.run_sim("sh", "-c", "kill -TERM $$", opts=("--json", out))
        self.assertExit(p, 128 + signal.SIGTERM)
        self.assertIn("killed by signal 15", p.stderr)
        doc = self.load_json("k.json")
        self.assertIsNone(doc["exit_status"])
        self.assertEqual(doc["signal"], signal.SIGTERM)

    def test_command_keeps_stdio(self):
        p = self.run_sim("sh", "-c", "cat; echo out; echo err >&2", input="in\n")
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, "in\nout\n")
        self.assertIn("err", p.stderr)

    # -- the table ----------------------------------------------------------------------
    def test_table_is_labelled_simulated(self):
        p = self.run_sim("true")
        self.assertExit(p, 0)
        err = p.stderr
        for word in ["Energy of: true", "gpu0", " J ", " W ", "counter", "SIMULATED",
                     "elapsed", "total", "+/-", "simulated GPU"]:
            self.assertIn(word, err)

    def test_quiet(self):
        p = self.run_sim("true", opts=("--quiet",))
        self.assertExit(p, 0)
        self.assertEqual(p.stderr, "")

    # -- files --------------------------------------------------------------------------
    def test_json_and_csv(self):
        js, cs = self.path("r.json"), self.path("r.csv")
        p = self.run_sim("sh", "-c", "sleep 0.2; exit 4", opts=("--json", js, "--csv", cs))
        self.assertExit(p, 4)
        doc = self.load_json("r.json")
        self.assertEqual(doc["schema"], "joules.run/1")
        self.assertTrue(doc["simulated"])
        self.assertEqual(doc["command"], ["sh", "-c", "sleep 0.2; exit 4"])
        self.assertEqual(doc["exit_status"], 4)
        self.assertIsNone(doc["signal"])
        self.assertGreater(doc["start_unix_s"], 1.6e9)
        self.assertGreaterEqual(doc["duration_s"], 0.2)
        gpus = [d for d in doc["domains"] if d["kind"] == "gpu"]
        self.assertEqual(len(gpus), 1)
        g = gpus[0]
        for key in ["name", "kind", "device", "uuid", "method", "energy_j",
                    "energy_uncertainty_j", "avg_power_w", "valid", "message", "simulated",
                    "simulator_true_energy_j", "counted_in_total"]:
            self.assertIn(key, g)
        self.assertEqual(g["name"], "gpu0")
        self.assertTrue(g["valid"])
        self.assertTrue(g["simulated"])
        self.assertEqual(g["method"], "counter")
        self.assertGreater(g["energy_j"], 0)
        self.assertGreaterEqual(g["energy_uncertainty_j"], 0)
        self.assertGreater(g["avg_power_w"], 0)
        self.assertTrue(g["uuid"])
        total = doc["total"]
        self.assertEqual(total["domains"], ["gpu0"])
        self.assertTrue(total["complete"])
        self.assertAlmostEqual(total["energy_j"], g["energy_j"], places=6)

        with open(cs, newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), len(doc["domains"]))
        r = rows[0]
        self.assertEqual(r["schema"], "joules.run.csv/1")
        self.assertEqual(r["name"], "gpu0")
        self.assertEqual(r["simulated"], "1")
        self.assertEqual(r["valid"], "1")
        self.assertEqual(r["exit_status"], "4")
        self.assertAlmostEqual(float(r["energy_j"]), g["energy_j"], delta=1e-6 * g["energy_j"])
        self.assertTrue(r["simulator_true_energy_j"])
        self.assertNoStrayFiles(self.tmp)

    def test_json_to_stdout(self):
        p = self.run_sim("true", opts=("--json", "-", "--quiet"))
        self.assertExit(p, 0)
        self.assertEqual(json.loads(p.stdout)["schema"], "joules.run/1")

    def test_strange_command_words_stay_valid_json(self):
        word = 'a"b\\c\n\t\x01é'
        js = self.path("w.json")
        p = self.run_sim("sh", "-c", "exit 0", word, opts=("--json", js))
        self.assertExit(p, 0)
        self.assertEqual(self.load_json("w.json")["command"][-1], word)

    def test_output_in_missing_directory(self):
        marker = self.path("ran")
        target = self.path("missing/dir/r.json")
        p = self.run_sim("touch", marker, opts=("--json", target))
        self.assertExit(p, 2)
        self.assertIn("r.json", p.stderr)
        self.assertIn("does not exist", p.stderr)
        self.assertFalse(os.path.exists(marker), "the command must not run")
        self.assertFalse(os.path.exists(target))

    @unittest.skipIf(os.geteuid() == 0, "root writes into read-only directories")
    def test_output_in_read_only_directory(self):
        d = self.path("ro")
        os.mkdir(d)
        os.chmod(d, stat.S_IRUSR | stat.S_IXUSR)
        try:
            p = self.run_sim("true", opts=("--json", os.path.join(d, "r.json")))
            self.assertExit(p, 2)
            self.assertIn("Permission denied", p.stderr)
            self.assertEqual(os.listdir(d), [])
        finally:
            os.chmod(d, stat.S_IRWXU)

    def run_limited(self, *args, ignore_xfsz=False):
        """joules run --sim ARGS under a 64-byte file-size limit (SIGXFSZ ignored or not)."""
        def limit():
            if ignore_xfsz:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))

        return subprocess.run([BIN, "run", "--sim", *args], env=self.env(), capture_output=True,
                              text=True, timeout=60 * SLACK, preexec_fn=limit)

    def test_failed_write_keeps_previous_file(self):
        # A file-size limit makes the write itself fail half-way (EFBIG), after the command
        # ran: the previous report stays as it was, no temporary file is left, the exit
        # status is the command's, and the failure is reported.
        js = self.write("r.json", "previous\n")
        p = self.run_limited("--json", js, "--", "sh", "-c", "exit 5", ignore_xfsz=True)
        self.assertExit(p, 5)
        self.assertIn("--json", p.stderr)
        self.assertIn("no file was written", p.stderr)
        with open(js) as f:
            self.assertEqual(f.read(), "previous\n")
        self.assertNoStrayFiles(self.tmp)

    def test_file_size_limit_with_the_default_action(self):
        # As a shell leaves it, SIGXFSZ kills the writer: joules catches it (the report is
        # dropped whole and said), and gives the command the default action back.
        js = self.path("r.json")
        p = self.run_limited("--json", js, "--", "sh", "-c", "exit 5")
        self.assertExit(p, 5)
        self.assertIn("no file was written", p.stderr)
        self.assertFalse(os.path.exists(js))
        self.assertNoStrayFiles(self.tmp)
        big = self.path("big")
        p = self.run_limited("--quiet", "--", "sh", "-c", f"head -c 4096 /dev/zero > {big}")
        self.assertExit(p, 128 + signal.SIGXFSZ)

    def test_output_to_a_pipe_is_written_in_place(self):
        # A target that is a device or a pipe (/dev/null, /dev/stdout) is written as it is:
        # renaming a temporary file over it replaced /dev/null itself when run as root.
        fifo = self.path("pipe")
        os.mkfifo(fifo)
        reader = subprocess.Popen(["cat", fifo], stdout=subprocess.PIPE, text=True)
        try:
            p = self.run_sim("true", opts=("--json", fifo))
            out, _ = reader.communicate(timeout=30 * SLACK)
        finally:
            if reader.poll() is None:
                reader.kill()
        self.assertExit(p, 0)
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode), "the pipe was replaced")
        self.assertEqual(json.loads(out)["schema"], "joules.run/1")
        self.assertNoStrayFiles(self.tmp)

    def test_output_path_that_is_a_directory(self):
        marker = self.path("ran")
        p = self.run_sim("touch", marker, opts=("--json", self.tmp))
        self.assertExit(p, 2)
        self.assertIn("is a directory", p.stderr)
        self.assertFalse(os.path.exists(marker), "the command must not run")

    # -- signals ------------------------------------------------------------------------
    CHILD = r"""
import os, signal, sys, time
marker, ready = sys.argv[1], sys.argv[2]
def handler(sig, frame):
    with open(marker, "w") as f:
        f.write(str(sig))
    sys.exit(3)
signal.signal(signal.SIGTERM, handler)
signal.signal(signal.SIGINT, handler)
open(ready, "w").close()
time.sleep(60)
sys.exit(9)
"""

    def forward(self, sig, expect_exit, marker_text):
        marker, ready, js = self.path("marker"), self.path("ready"), self.path("s.json")
        proc = subprocess.Popen([BIN, "run", "--sim", "--json", js, "--", PY, "-c", self.CHILD,
                                 marker, ready], env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 30 * SLACK
            while not os.path.exists(ready):
                self.assertIsNone(proc.poll(), "joules ended before the child was ready")
                self.assertLess(time.monotonic(), deadline, "child never became ready")
                time.sleep(0.02)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=30 * SLACK)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(proc.returncode, expect_exit, err)
        if marker_text is None:
            self.assertFalse(os.path.exists(marker))
        else:
            with open(marker) as f:
                self.assertEqual(f.read(), marker_text)
        self.assertIn("gpu0", err)  # joules outlived the child and reported
        doc = self.load_json("s.json")
        return doc

    def test_sigterm_is_forwarded(self):
        doc = self.forward(signal.SIGTERM, 3, str(int(signal.SIGTERM)))
        self.assertEqual(doc["exit_status"], 3)

    def test_sigint_is_forwarded(self):
        self.forward(signal.SIGINT, 3, str(int(signal.SIGINT)))

    def test_sighup_is_forwarded_and_kills_with_default_action(self):
        # The child has no SIGHUP handler: the default action ends it, joules says 128+1.
        doc = self.forward(signal.SIGHUP, 128 + signal.SIGHUP, None)
        self.assertEqual(doc["signal"], signal.SIGHUP)

    # -- scenarios ----------------------------------------------------------------------
    def test_malformed_scenario(self):
        scn = self.write("bad.scn", "phase 1s util=2.5\n")
        js, marker = self.path("r.json"), self.path("ran")
        p = self.joules("run", "--scenario", scn, "--json", js, "--", "touch", marker)
        self.assertExit(p, 1)
        self.assertIn("simulated GPU did not start", p.stderr)
        self.assertIn("bad.scn", p.stderr)
        self.assertFalse(os.path.exists(js))
        self.assertFalse(os.path.exists(marker))
        self.assertNoStrayFiles(self.tmp)

    def test_scenario_errors_reach_the_user_whatever_the_path(self):
        # The simulator's message names file:line: message; a long path must not turn it into
        # the driver's "unknown error", and the end of the path, the line and the message
        # must stay whole however long the path is.
        short = self.tmp
        deep = os.path.join(self.tmp, *(["d" * 60] * 5))
        os.makedirs(deep)
        cases = [(short, "phse 2s\n", 1, "unknown directive 'phse'"),
                 (deep, "phse 2s\n", 1, "unknown directive 'phse'"),
                 (deep, "# ok\nphase 1s util=2.5\n", 2, "util: 2.5 is out of range")]
        for where, text, line, why in cases:
            with self.subTest(where=len(where), text=text):
                scn = os.path.join(where, "typo.scn")
                with open(scn, "w") as f:
                    f.write(text)
                p = self.joules("run", "--scenario", scn, "--", "true")
                self.assertExit(p, 1)
                self.assertNotIn("NVML_ERROR_UNKNOWN", p.stderr)
                self.assertIn("typo.scn:%d: %s" % (line, why), p.stderr)
                if where == short:
                    self.assertIn(scn + ":1:", p.stderr)


if __name__ == "__main__":
    unittest.main()
