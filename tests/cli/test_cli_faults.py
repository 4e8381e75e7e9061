# SPDX-License-Identifier: MIT
"""The fault matrix of issue 21: `ab --lock-clocks`, `sweep --clocks` and `sweep
--power-limits` on the simulated GPU, stopped by each of SIGINT, SIGTERM, SIGHUP, SIGQUIT
and SIGPIPE during the warm-up, inside a measured window and while it writes its outputs.

Every time: exit status 128+N; the simulated GPU's settings back as it booted, read by another
process (`joules sim status`) from the machine the stopped one used, with the setter calls
that prove it changed them; its restore journal gone; every output file complete or absent;
no temporary file left.

The outputs phase is reached without any hook in joules: --json is a FIFO whose pipe the test
fills first, so joules blocks in its first write of the report (after the GPU is restored and
the table printed), and the test sends the signal once the kernel shows it asleep there. Each
cell runs on a shared simulated machine of its own, several cells at a time."""
import csv
import json
import os
import signal
import subprocess
import threading
import time
import unittest
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

from clitest import BIN, SLACK, CliTestCase, have_sim

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE)
PHASES = ("warm-up", "window", "outputs")

# Each workload: its regular outputs (option -> kind; --json is the FIFO of the outputs phase),
# then per phase its arguments, the progress line to wait for and the seconds to wait after it
# (none in the outputs phase: the test waits for the blocked write). Timings put the signal
# mid-phase with a margin of a few tenths of a second either side:
#  - ab warms up for about 0.4 s after "warm-up and correctness check"; after "[2/" (the
#    second window done) come a 0.1 s lead-in and a window of at least 0.5 s;
#  - the sweep locks its first step just after "preparing" and warms up 0.6 s there; after
#    "[1/" (the first step done) come a 0.1 s cooldown, 0.2 s of warm-up, a 0.1 s lead-in
#    and a window of at least 1 s.
# The outputs phase runs short: a run that ends soon.
AB = ("ab", "--sim", "a6000", "--lock-clocks", "1000", "-n", "1024")
SWEEP = ("sweep", "--sim", "test", "-n", "1024", "--cooldown", "0.1")
SWEEP_WARM = ("--warmup", "0.6", "--min-window", "0.15")
SWEEP_WINDOW = ("--warmup", "0.2", "--min-window", "1")
SWEEP_SHORT = ("--warmup", "0.2", "--min-window", "0.15")
WORKLOADS = {
    "ab-clocks": ({"--json": "json", "--csv": "csv", "--svg": "svg"}, {
        "warm-up": (AB + ("--repeats", "50", "--min-window", "0.15"),
                    "warm-up and correctness check", 0.1),
        "window": (AB + ("--repeats", "50", "--min-window", "0.5"), "[2/", 0.35),
        "outputs": (AB + ("--repeats", "2", "--min-window", "0.15"), None, 0.0)}),
    "sweep-clocks": ({"--json": "json", "--svg": "svg"}, {
        "warm-up": (SWEEP + SWEEP_WARM + ("--clocks", "500:1500:100"), "preparing", 0.2),
        "window": (SWEEP + SWEEP_WINDOW + ("--clocks", "500:1500:100"), "[1/", 0.9),
        "outputs": (SWEEP + SWEEP_SHORT + ("--clocks", "500:600:100"), None, 0.0)}),
    "sweep-limits": ({"--json": "json", "--svg": "svg"}, {
        "warm-up": (SWEEP + SWEEP_WARM + ("--power-limits", "60:140:10"), "preparing", 0.2),
        "window": (SWEEP + SWEEP_WINDOW + ("--power-limits", "60:140:10"), "[1/", 0.9),
        "outputs": (SWEEP + SWEEP_SHORT + ("--power-limits", "60:70:10"), None, 0.0)}),
}
WORKERS = 4  # cells at a time: each mostly sleeps through the simulated GPU's real time


def fill_fifo(path):
    """Open the FIFO at path for reading (so that joules's open does not block) and fill its
    pipe: joules's first write into it then blocks. Returns the two descriptors."""
    r = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    w = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    chunk = b"x" * 4096
    try:
        while True:
            os.write(w, chunk)
    except BlockingIOError:
        pass
    return r, w


# ppoll's system call number, where joules waits for room in a full pipe (io/atomic.c).
PPOLL = {"x86_64": 271, "aarch64": 73}.get(os.uname().machine)
WRITE = {"x86_64": 1, "aarch64": 64}.get(os.uname().machine)


def holds_open(pid, path):
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == path
                   for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def blocked_writing(pid, fifo):
    """True when a thread of pid sleeps in a write to a pipe, or waits in ppoll for room in
    one while it holds the FIFO open (the kernel's wait channel, or, where wait channels are
    hidden, the system call and its first argument). joules's standard output goes to
    /dev/null and its standard error is drained as it comes, so the only pipe it can wait on
    is the FIFO."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for tid in tids:
        base = f"/proc/{pid}/task/{tid}"
        try:
            with open(base + "/wchan") as f:
                wchan = f.read()
            if "pipe_write" in wchan or ("poll" in wchan and holds_open(pid, fifo)):
                return True
            with open(base + "/syscall") as f:
                fields = f.read().split()
            if len(fields) > 1 and fields[0] not in ("running", "-1"):
                if int(fields[0]) == PPOLL and holds_open(pid, fifo):
                    return True
                fd = int(fields[1], 16)
                if os.readlink(f"/proc/{pid}/fd/{fd}") == fifo:
                    return True
        except (OSError, ValueError):
            continue
    return False


def output_complete(path, kind):
    """None when the file at path is a whole report of its kind, else what is wrong."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if not text.endswith("\n"):
        return "does not end with a newline"
    try:
        if kind == "json":
            json.loads(text)
        elif kind == "svg":
            ET.fromstring(text)
        else:
            # A header alone is complete: nothing was measured before the signal.
            rows = list(csv.reader(text.splitlines()))
            if not rows or len({len(r) for r in rows}) != 1:
                return f"rows of unequal length: {rows!r}"
    except (ValueError, ET.ParseError) as e:
        return str(e)
    return None


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class FaultMatrix(CliTestCase):
    def setUp(self):
        super().setUp()
        self.prefix = "joules-faults-%d-" % os.getpid()

    def tearDown(self):
        for n in os.listdir("/dev/shm"):
            if n.startswith(self.prefix):
                os.unlink("/dev/shm/" + n)
        super().tearDown()

    def run_cell(self, k, name, phase, sig):
        """One cell: start the workload on a machine of its own, signal it in the phase, then
        read the machine's settings. A dict of what the assertions need."""
        outputs, phases = WORKLOADS[name]
        args, word, delay_s = phases[phase]
        cell = os.path.join(self.tmp, f"cell{k}")
        run = os.path.join(cell, "run")
        os.makedirs(run)
        machine = f"{self.prefix}{k}"
        env = self.env(JOULES_SIM_PRIVILEGED="1", JOULES_SIM_MACHINE=machine,
                       XDG_RUNTIME_DIR=run)
        paths = {opt: os.path.join(cell, "out." + kind) for opt, kind in outputs.items()}
        fds = ()
        if phase == "outputs":
            os.mkfifo(paths["--json"])
            fds = fill_fifo(paths["--json"])
        argv = [BIN, *args]
        for opt, p in paths.items():
            argv += [opt, p]
        res = {"sent": False, "outputs": outputs, "paths": paths, "cell": cell, "run": run}
        try:
            proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
            lines = []
            seen = threading.Event()

            def drain():
                for line in proc.stderr:
                    lines.append(line)
                    if word and word in line:
                        seen.set()

            reader = threading.Thread(target=drain)
            reader.start()
            deadline = time.monotonic() + 60 * SLACK
            if word:
                while not seen.wait(0.05) and proc.poll() is None and time.monotonic() < deadline:
                    pass
                res["sent"] = seen.is_set() and proc.poll() is None
                time.sleep(delay_s)
            else:
                while proc.poll() is None and time.monotonic() < deadline:
                    if blocked_writing(proc.pid, paths["--json"]):
                        res["sent"] = True
                        break
                    time.sleep(0.01)
            if res["sent"]:
                proc.send_signal(sig)
            try:
                proc.wait(timeout=60 * SLACK)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                res["hung"] = True
            reader.join()
            res["rc"] = proc.returncode
            res["err"] = "".join(lines)
        finally:
            for fd in fds:
                os.close(fd)
        status = subprocess.run([BIN, "sim", "status", "--machine", machine], env=self.env(),
                                capture_output=True, text=True, timeout=60 * SLACK)
        res["status"] = status.stdout + status.stderr
        try:
            os.unlink("/dev/shm/" + machine)
        except FileNotFoundError:
            pass
        return res

    def settings(self, status):
        """(locked clocks, as booted, setter calls) of gpu 0 in `joules sim status`."""
        lines = status.splitlines()
        for i, line in enumerate(lines):
            if line.split()[:2] == ["gpu", "locked"]:
                row = lines[i + 1]
                calls = [int(c) for c in row.split("  ")[-1].split(",")]
                return row.split()[1], row.split()[4], calls
        self.fail(f"no settings in joules sim status:\n{status}")

    def check(self, name, phase, sig, r):
        what = f"{name} {phase} {sig.name}"
        self.assertTrue(r["sent"], f"{what}: the phase never came\n{r['err']}")
        self.assertNotIn("hung", r, f"{what}: no exit after the signal\n{r['err']}")
        self.assertEqual(r["rc"], 128 + sig, f"{what}: {r['err']}")
        self.assertIn("restored: ", r["err"], what)
        if phase == "outputs":
            self.assertIn("--json %s: not written" % r["paths"]["--json"], r["err"], what)
        journal = os.path.join(r["run"], "joules")
        self.assertEqual(os.listdir(journal) if os.path.isdir(journal) else [], [],
                         f"{what}: a restore journal is left")
        # The machine as the stopped process left it: changed (the setter calls say so), then
        # put back as it booted.
        locked, booted, calls = self.settings(r["status"])
        self.assertEqual((locked, booted), ("-", "yes"), f"{what}:\n{r['status']}")
        lock, unlock, limit, _, _ = calls
        if name == "sweep-limits":
            self.assertGreaterEqual(limit, 2, f"{what}: set, then restored\n{r['status']}")
        else:
            self.assertGreaterEqual(lock, 1, f"{what}: locked\n{r['status']}")
            self.assertGreaterEqual(unlock, 1, f"{what}: unlocked\n{r['status']}")
        for opt, kind in r["outputs"].items():
            p = r["paths"][opt]
            if os.path.isfile(p):
                self.assertIsNone(output_complete(p, kind), f"{what}: {opt} incomplete")
        self.assertNoStrayFiles(r["cell"])

    def test_matrix(self):
        cells = [(name, phase, sig) for name in WORKLOADS for phase in PHASES for sig in SIGNALS]
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            results = list(pool.map(lambda kc: self.run_cell(kc[0], *kc[1]), enumerate(cells)))
        elapsed = time.monotonic() - t0
        for (name, phase, sig), r in zip(cells, results):
            with self.subTest(f"{name} {phase} {sig.name}"):
                self.check(name, phase, sig, r)
        print(f"\n{len(cells)} cells in {elapsed:.1f} s", flush=True)



@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class StuckStandardOutput(CliTestCase):
    """Standard output into a pipe whose reader has stopped reading: a stop signal taken while
    joules waits to write there ends that output, and joules finishes (its exit status, the
    GPU restored, its files complete) instead of blocking in its next write. `watch` holds
    its stop signals blocked and takes them with sigtimedwait; `ab` has a handler."""

    def stuck(self, args, ready, out, kind):
        """Run joules args with standard output into a full pipe; once ready(stderr so far)
        and joules waits on the pipe, SIGTERM it. (exit status, stderr)."""
        machine = "joules-faults-stdout-%d" % os.getpid()
        self.addCleanup(lambda: os.path.exists("/dev/shm/" + machine) and
                        os.unlink("/dev/shm/" + machine))
        env = self.env(JOULES_SIM_PRIVILEGED="1", JOULES_SIM_MACHINE=machine,
                       XDG_RUNTIME_DIR=self.tmp)
        log = os.path.join(self.tmp, "stderr.txt")
        r, w = os.pipe()
        os.set_blocking(w, False)
        try:
            while True:  # full: joules's next write there waits
                os.write(w, b"x" * 4096)
        except BlockingIOError:
            pass
        os.set_blocking(w, True)
        try:
            with open(log, "w") as errf:
                proc = subprocess.Popen([BIN, *args], env=env, stdout=w, stderr=errf)
            os.close(w)
            w = None
            deadline = time.monotonic() + 60 * SLACK
            while proc.poll() is None and time.monotonic() < deadline:
                with open(log) as f:
                    go = ready(f.read())
                if go and any(waits_on_pipe(proc.pid, tid)
                              for tid in os.listdir(f"/proc/{proc.pid}/task")):
                    break
                time.sleep(0.02)
            self.assertIsNone(proc.poll(), "joules ended before it waited on the pipe")
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20 * SLACK)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                self.fail(f"joules {args[0]} stayed blocked on its standard output after SIGTERM")
        finally:
            if w is not None:
                os.close(w)
            os.close(r)
        with open(log) as f:
            err = f.read()
        os.unlink(log)
        if os.path.isfile(out):
            self.assertIsNone(output_complete(out, kind), err)
        self.assertNoStrayFiles(self.tmp)
        return proc.returncode, err

    def test_watch(self):
        out = os.path.join(self.tmp, "w.csv")
        rc, err = self.stuck(["watch", "--sim", "a6000", "--interval", "10ms", "--csv", out],
                             lambda err: True, out, "csv")
        self.assertEqual(rc, 0, err)
        self.assertTrue(os.path.isfile(out), err)

    def test_ab_table(self):
        out = os.path.join(self.tmp, "ab.json")
        rc, err = self.stuck([*AB, "--repeats", "2", "--min-window", "0.15", "--json", out],
                             lambda err: "[4/4]" in err, out, "json")  # then comes the table
        self.assertEqual(rc, 128 + signal.SIGTERM, err)
        self.assertIn("restored: ", err)


def waits_on_pipe(pid, tid):
    """True when thread tid of pid sleeps writing a pipe or polling for room in one (the
    kernel's wait channel; where it is hidden, ppoll's system call number)."""
    base = f"/proc/{pid}/task/{tid}"
    try:
        with open(base + "/wchan") as f:
            wchan = f.read()
        if "pipe_write" in wchan or "poll" in wchan:
            return True
        with open(base + "/syscall") as f:
            fields = f.read().split()
        return bool(fields) and fields[0].isdigit() and int(fields[0]) in (PPOLL, WRITE)
    except OSError:
        return False

if __name__ == "__main__":
    unittest.main()
