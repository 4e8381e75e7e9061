# SPDX-License-Identifier: MIT
"""`joules run --cluster-dir` under the engines users run, started by the tests themselves:

- MpiTest: Open MPI's `mpirun -np 4 --oversubscribe`, JOULES_HOSTNAME giving 2 "nodes" of 2
  ranks on this machine, both posed nodes sharing the machine's simulated GPU; the node
  results merged.
- MpiLibraryTest: libjoules_mpi's window across MPI_COMM_WORLD (tests/test_mpi_window.c)
  under the same mpirun, 2 posed nodes grouped by JOULES_HOSTNAME, or one shared-memory node.
- MpiPythonTest: the same from Python, joules.mpi over mpi4py (tests/python/mpi_window.py).
- SlurmTest: a single-host Slurm (munged, slurmctld, slurmd from Debian with a temporary
  slurm.conf on free loopback ports, no systemd), `srun -N1 -n2 joules run --cluster-dir`;
  the daemons are stopped by their pid files at the end; and `srun --joules=DIR` with the
  SPANK plugin (src/spank) loaded through a temporary plugstack.conf.

A missing engine (package not installed, not root for slurmd) skips the test: CTest shows it
as skipped (exit 77 when every test of the class was skipped), never as passed.
"""
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

from clitest import BIN, SANITIZE, SIM_LIB, SLACK, SOURCE_DIR, CliTestCase, have_sim

LAUNCHER_PREFIXES = ("SLURM_", "OMPI_", "PMI_", "PMIX_", "MPI_LOCAL", "CUDA_VISIBLE_DEVICES")
# Each test, its daemons' start included, ends within this (ctest's limit is above it).
TEST_BUDGET_S = 90


class EngineTestCase(CliTestCase):
    def env(self, **extra):
        env = {k: v for k, v in super().env().items() if not k.startswith(LAUNCHER_PREFIXES)}
        env.update(extra)
        return env

    def merge(self, cdir, *args):
        files = sorted(os.path.join(cdir, n) for n in os.listdir(cdir) if n.endswith(".json"))
        p = self.joules("merge", "--json", self.path("job.json"), *args, *files)
        job = self.load_json("job.json") if os.path.exists(self.path("job.json")) else None
        return p, job, files


class MpiTestCase(EngineTestCase):
    def setUp(self):
        super().setUp()
        self.mpirun = shutil.which("mpirun")
        if not self.mpirun:
            self.skipTest("Open MPI's mpirun is not installed (apt-get install openmpi-bin)")

    def mpirun_cmd(self, n, *cmd):
        root = ["--allow-run-as-root"] if os.geteuid() == 0 else []
        return [self.mpirun, "-np", str(n), "--oversubscribe", *root, *cmd]


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class MpiTest(MpiTestCase):

    def test_four_ranks_two_posed_nodes(self):
        cdir = self.path("cd")
        os.mkdir(cdir)
        # Ranks 0-1 are "node0", 2-3 "node1". Rank 3 ends last, with status 3: mpirun ends
        # the job when a rank fails, so the others end first, with 0.
        inner = (f'JOULES_HOSTNAME=node$((OMPI_COMM_WORLD_RANK / 2)) exec "{BIN}" run --sim -q '
                 f'--cluster-dir "{cdir}" -- sh -c "if [ $OMPI_COMM_WORLD_RANK = 3 ]; then '
                 f'sleep 1.5; exit 3; fi; sleep 0.3"')
        p = subprocess.run(self.mpirun_cmd(4, "sh", "-c", inner), env=self.env(),
                           capture_output=True, text=True, timeout=TEST_BUDGET_S * SLACK)
        self.assertNotEqual(p.returncode, 0, p.stderr)  # mpirun reports the failed ranks
        p, job, files = self.merge(cdir, "--nodes", "2")
        names = sorted(os.path.basename(f) for f in files)
        self.assertEqual(sum(n.startswith("node-") for n in names), 2, names)
        self.assertEqual(sum(n.startswith("rank-") for n in names), 2, names)
        # Rank 0 waited for the others and wrote the job result, with the worst status.
        [job_file] = [f for f in files if os.path.basename(f).startswith("job-")]
        with open(job_file) as f:
            job0 = json.load(f)
        self.assertEqual((job0["exit_status"], job0["ranks_reported"]), (3, 4))
        self.assertExit(p, 0)
        self.assertEqual(job["job"]["launcher"], "openmpi")
        self.assertIsNotNone(job["job"]["id"])  # PMIx's namespace
        self.assertEqual(sorted(n["host"] for n in job["nodes"]), ["node0", "node1"])
        self.assertEqual((job["ranks_expected"], job["ranks_reported"]), (4, 4))
        self.assertEqual(job["missing_ranks"], [])
        self.assertEqual(job["exit_status"], 3)  # the worst of the ranks'
        self.assertTrue(job["simulated"])
        self.assertEqual(len(job["kinds"]), 1)
        self.assertEqual(job["kinds"][0]["kind"], "gpu")
        self.assertEqual(job["kinds"][0]["nodes"], 2)
        for n in job["nodes"]:
            # Each posed node measured the simulated GPU once over about 0.3 s.
            self.assertGreater(n["total"]["energy_j"], 0.0)
            self.assertEqual(n["total"]["domains"], 1)
        self.assertAlmostEqual(job["total"]["energy_j"],
                               sum(n["total"]["energy_j"] for n in job["nodes"]))

    def test_start_overhead(self):
        """What joules adds to the start of a 4-rank job (figure printed; goal < 50 ms)."""
        cdir = self.path("cd")
        os.mkdir(cdir)
        plain = self.mpirun_cmd(4, "true")
        timed = self.mpirun_cmd(4, BIN, "run", "--sim", "-q", "--cluster-dir", cdir, "--no-settle",
                                "--", "true")

        def once(cmd):
            t0 = time.monotonic()
            subprocess.run(cmd, env=self.env(), capture_output=True,
                           timeout=TEST_BUDGET_S * SLACK, check=True)
            t = time.monotonic() - t0
            for f in os.listdir(cdir):
                os.unlink(os.path.join(cdir, f))
            return t

        once(plain)  # the first start of mpirun reads its files from disk
        pairs = [(once(plain), once(timed)) for _ in range(4)]
        base, with_joules = min(p[0] for p in pairs), min(p[1] for p in pairs)
        print(f"\nmpirun -np 4 true: {base * 1e3:.0f} ms; with joules run --cluster-dir: "
              f"{with_joules * 1e3:.0f} ms (+{(with_joules - base) * 1e3:.0f} ms)",
              file=sys.stderr)


MPI_WINDOW = os.path.join(os.path.dirname(BIN), "test_mpi_window")
SPANK_PLUGIN = os.path.join(os.path.dirname(os.path.dirname(BIN)), "lib", "slurm",
                            "joules_spank.so")


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class MpiLibraryTest(MpiTestCase):
    """libjoules_mpi: a window across MPI_COMM_WORLD, one measurer per node (tests/test_mpi_window.c)."""

    def setUp(self):
        super().setUp()
        if not os.path.exists(MPI_WINDOW):
            self.skipTest("libjoules_mpi not built (no mpi.h: apt-get install libopenmpi-dev)")

    def window(self, n, prefix=""):
        env = self.env(JOULES_SIM_LIB=SIM_LIB)
        if SANITIZE:
            # Open MPI's own leaks at MPI_Finalize are suppressed, joules's are not.
            supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan_mpi.supp")
            env["LSAN_OPTIONS"] = f"suppressions={supp}:print_suppressions=0"
            env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":fast_unwind_on_malloc=0").lstrip(":")
        cmd = self.mpirun_cmd(n, "sh", "-c", f'{prefix}exec "{MPI_WINDOW}"')
        p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=TEST_BUDGET_S * SLACK)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_two_posed_nodes_reduced_to_rank_0(self):
        r = self.window(4, "export JOULES_HOSTNAME=node$((OMPI_COMM_WORLD_RANK / 2)); ")
        self.assertEqual(r["measurers"], 2)
        self.assertEqual([(n["host"], n["ranks"], n["measured"]) for n in r["nodes"]],
                         [("node0", 2, 1), ("node1", 2, 1)])
        self.assertEqual((r["simulated"], r["complete"]), (1, 1))
        for n in r["nodes"]:
            self.assertGreater(n["total_j"], 0.0)
            self.assertAlmostEqual(n["gpu_j"], n["total_j"])
            self.assertGreaterEqual(n["duration_s"], 0.3)
        self.assertAlmostEqual(r["total_j"], sum(n["total_j"] for n in r["nodes"]), places=6)
        self.assertAlmostEqual(r["total_uncertainty_j"],
                               math.hypot(*[n["total_uncertainty_j"] for n in r["nodes"]]),
                               places=6)

    def test_shared_memory_node(self):
        r = self.window(3)
        self.assertEqual(r["measurers"], 1)
        self.assertEqual([(n["ranks"], n["measured"]) for n in r["nodes"]], [(3, 1)])

    def test_node_without_devices_is_reported(self):
        r = self.window(4, "export JOULES_HOSTNAME=node$((OMPI_COMM_WORLD_RANK / 2)); "
                           '[ $OMPI_COMM_WORLD_RANK -ge 2 ] && export JOULES_SIM_LIB=/absent.so; ')
        self.assertEqual([(n["host"], n["measured"]) for n in r["nodes"]],
                         [("node0", 1), ("node1", 0)])
        self.assertEqual(r["complete"], 0)
        self.assertIn("no device", r["nodes"][1]["message"])
        self.assertAlmostEqual(r["total_j"], r["nodes"][0]["total_j"], places=6)


def python_with_mpi4py():
    """An interpreter that imports mpi4py: this one, or Debian's (python3-mpi4py)."""
    for exe in (sys.executable, "/usr/bin/python3"):
        if exe and os.path.exists(exe) and subprocess.run(
                [exe, "-c", "import mpi4py"], capture_output=True, timeout=60).returncode == 0:
            return exe
    return None


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class MpiPythonTest(MpiTestCase):
    """joules.mpi (python/joules/mpi.py) over mpi4py: tests/python/mpi_window.py under mpirun."""

    def setUp(self):
        super().setUp()
        if SANITIZE:
            self.skipTest("a sanitized libjoules cannot be loaded into an uninstrumented Python")
        if not os.path.exists(MPI_WINDOW):
            self.skipTest("libjoules_mpi not built (no mpi.h: apt-get install libopenmpi-dev)")
        self.python = python_with_mpi4py()
        if not self.python:
            self.skipTest("mpi4py is not installed (apt-get install python3-mpi4py)")

    def test_two_posed_nodes(self):
        build = os.path.dirname(os.path.dirname(BIN))
        env = self.env(JOULES_SIM_LIB=SIM_LIB,
                       JOULES_LIBRARY=os.path.join(build, "lib", "libjoules.so"),
                       PYTHONPATH=os.path.join(SOURCE_DIR, "python"))
        script = os.path.join(SOURCE_DIR, "tests", "python", "mpi_window.py")
        cmd = self.mpirun_cmd(4, "sh", "-c", "export JOULES_HOSTNAME=node$((OMPI_COMM_WORLD_RANK "
                              f'/ 2)); exec "{self.python}" "{script}"')
        p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=TEST_BUDGET_S * SLACK)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        self.assertEqual(r["measurers"], 2)
        self.assertEqual([(n["host"], n["ranks"], n["measured"]) for n in r["nodes"]],
                         [("node0", 2, True), ("node1", 2, True)])
        self.assertEqual((r["simulated"], r["complete"]), (True, True))
        self.assertAlmostEqual(r["total_j"], sum(n["total_j"] for n in r["nodes"]), places=6)
        self.assertAlmostEqual(r["kinds"]["gpu"]["energy_j"], r["total_j"], places=6)
        self.assertAlmostEqual(r["total_uncertainty_j"],
                               math.hypot(*[n["total_uncertainty_j"] for n in r["nodes"]]),
                               places=6)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_pid_gone(pid, timeout_s):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class SlurmTest(EngineTestCase):
    DAEMONS = ("slurmd", "slurmctld", "munged")

    def setUp(self):
        super().setUp()
        self.pids = {}
        missing = [c for c in ("munged", "slurmctld", "slurmd", "srun", "sinfo")
                   if not shutil.which(c)]
        if missing:
            self.skipTest(f"Slurm is not installed ({', '.join(missing)} missing; apt-get install "
                          "slurmctld slurmd slurm-client munge)")
        if os.geteuid() != 0:
            self.skipTest("a single-host Slurm needs root (slurmd runs the steps)")
        self.addCleanup(self.stop_daemons)
        self.start_daemons()

    def conf(self):
        d = self.tmp
        return f"""ClusterName=joulestest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
AuthType=auth/munge
AuthInfo=socket={d}/munge.sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
{self.plugstack()}
SlurmdSpoolDir={d}/slurmd
StateSaveLocation={d}/slurmctld
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""

    def plugstack(self):
        """The SPANK plugin, where it was built: srun and slurmstepd load it."""
        if not os.path.exists(SPANK_PLUGIN) or SANITIZE:
            return ""
        conf = self.write("plugstack.conf", f"optional {SPANK_PLUGIN}\n")
        return f"PlugStackConfig={conf}"

    def start_daemons(self):
        d = self.tmp
        for sub in ("slurmd", "slurmctld"):
            os.mkdir(os.path.join(d, sub))
        key = os.path.join(d, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        self.slurm_conf = self.write("slurm.conf", self.conf())
        self.denv = self.env(SLURM_CONF=self.slurm_conf)
        self.run_daemon("munged", ["munged", "--force", f"--socket={d}/munge.sock",
                                   f"--key-file={key}", f"--log-file={d}/munged.log",
                                   f"--pid-file={d}/munged.pid", f"--seed-file={d}/munged.seed"])
        self.run_daemon("slurmctld", ["slurmctld", "-f", self.slurm_conf, "-c"])
        self.run_daemon("slurmd", ["slurmd", "-f", self.slurm_conf, "-N", "localhost"])
        end = time.monotonic() + 30
        while time.monotonic() < end:
            p = subprocess.run(["sinfo", "-h", "-o", "%t"], env=self.denv, capture_output=True,
                               text=True, timeout=10)
            if p.returncode == 0 and p.stdout.strip() == "idle":
                return
            time.sleep(0.2)
        self.fail(f"the node did not become idle in 30 s: {self.logs()}")

    def run_daemon(self, name, cmd):
        p = subprocess.run(cmd, env=self.denv, capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            self.fail(f"{name} did not start: {p.stderr} {self.logs()}")
        # The daemon creates its pid file, then writes the pid: wait for the number.
        pid_file = os.path.join(self.tmp, f"{name}.pid")
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                with open(pid_file) as f:
                    words = f.read().split()
                if words:
                    self.pids[name] = int(words[0])
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.fail(f"{name} wrote no pid to {pid_file} in 10 s: {self.logs()}")

    def stop_daemons(self):
        # A step's slurmstepd ends after srun has returned (it runs the plugins' exit, then
        # reports to slurmd): wait until slurmd has logged every launched step as done, so
        # that none outlives slurmd.
        end = time.monotonic() + 15
        while time.monotonic() < end:
            try:
                with open(os.path.join(self.tmp, "slurmd.log")) as f:
                    log = f.read()
            except OSError:
                break
            if log.count("done with job") >= log.count("launch task"):
                break
            time.sleep(0.1)
        for name in self.DAEMONS:
            pid = self.pids.get(name)
            if pid is None:
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            if not wait_pid_gone(pid, 10):
                os.kill(pid, signal.SIGKILL)

    def logs(self):
        out = []
        for name in ("slurmctld.log", "slurmd.log", "munged.log"):
            try:
                with open(os.path.join(self.tmp, name)) as f:
                    out.append(f"--- {name}\n" + f.read()[-2000:])
            except OSError:
                pass
        return "\n".join(out)

    def test_srun_two_tasks_one_node(self):
        cdir = self.path("cd")
        os.mkdir(cdir)
        p = subprocess.run(["srun", "-N1", "-n2", "-O", BIN, "run", "--sim", "-q", "--cluster-dir",
                            cdir, "--", "sh", "-c", "sleep 0.3; exit $SLURM_PROCID"],
                           env=self.denv, capture_output=True, text=True,
                           timeout=TEST_BUDGET_S * SLACK)
        self.assertEqual(p.returncode, 1, p.stderr + self.logs())  # the worst task's status
        p, job, files = self.merge(cdir)
        names = sorted(os.path.basename(f) for f in files)
        self.assertEqual(len(names), 3, names)
        self.assertTrue(names[0].startswith("job-") and names[1].startswith("node-") and
                        names[2].startswith("rank-"), names)
        files = files[1:]
        with open(files[0]) as f:
            node = json.load(f)
        self.assertEqual((node["rank"], node["local_rank"], node["node_id"], node["elected_by"]),
                         (0, 0, 0, "local-rank"))
        self.assertEqual(node["host"], "localhost")  # SLURMD_NODENAME
        self.assertExit(p, 0)
        self.assertEqual(job["job"]["launcher"], "slurm")
        self.assertRegex(job["job"]["id"], r"^\d+$")
        self.assertEqual(job["job"]["step"], "0")
        self.assertEqual((job["nodes_expected"], job["nodes_found"]), (1, 1))
        self.assertEqual((job["ranks_expected"], job["ranks_reported"]), (2, 2))
        self.assertEqual(job["exit_status"], 1)
        self.assertTrue(job["simulated"])
        self.assertGreater(job["total"]["energy_j"], 0.0)


    def test_spank_plugin(self):
        """srun --joules=DIR: the plugin measures the step on the node, srun sums it."""
        if not os.path.exists(SPANK_PLUGIN):
            self.skipTest("the SPANK plugin is not built (apt-get install libslurm-dev)")
        if SANITIZE:
            self.skipTest("a sanitized plugin cannot be loaded into Slurm's uninstrumented srun "
                          "and slurmstepd")
        env = dict(self.denv, JOULES_NVML_LIBRARY=SIM_LIB)
        p = subprocess.run(["srun", "-N1", "-n2", "-O", "--joules=energy", "sh", "-c",
                            "sleep 0.4; exit $SLURM_PROCID"], env=env, cwd=self.tmp,
                           capture_output=True, text=True, timeout=TEST_BUDGET_S * SLACK)
        self.assertEqual(p.returncode, 1, p.stderr + self.logs())
        self.assertRegex(p.stderr, r"Energy of job \d+ step 0 \(slurm, joules [0-9.]+, SIMULATED\)")
        self.assertIn("worst exit status of the ranks: 1", p.stderr)
        edir = os.path.join(self.tmp, "energy")  # relative to the job's working directory
        names = sorted(os.listdir(edir))
        self.assertEqual(len(names), 2, names)
        self.assertRegex(names[0], r"^job-\d+\.0\.json$")
        self.assertRegex(names[1], r"^node-\d+\.0-localhost\.json$")
        with open(os.path.join(edir, names[1])) as f:
            node = json.load(f)
        self.assertEqual((node["elected_by"], node["exit_status"], node["node_id"]),
                         ("spank", 1, 0))
        self.assertEqual(node["run"]["command"], ["sh", "-c", "sleep 0.4; exit $SLURM_PROCID"])
        gpu = node["run"]["domains"][0]
        self.assertEqual((gpu["kind"], gpu["simulated"], gpu["valid"]), ("gpu", True, True))
        # The window spans the tasks' 0.4 s, from before they start to after they end.
        self.assertGreaterEqual(node["run"]["duration_s"], 0.4)
        with open(os.path.join(edir, names[0])) as f:
            job = json.load(f)
        self.assertEqual((job["schema"], job["complete"], job["nodes_found"]),
                         ("joules.job/1", True, 1))
        self.assertEqual(job["exit_status"], 1)
        self.assertAlmostEqual(job["total"]["energy_j"], gpu["energy_j"])


def main():
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    if r.wasSuccessful() and r.testsRun and len(r.skipped) == r.testsRun:
        sys.exit(77)  # nothing could run here: CTest's SKIP_RETURN_CODE
    sys.exit(0 if r.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
