# SPDX-License-Identifier: MIT
"""`joules merge`: node results summed into a job result (joules.job/1), and what it refuses
(the same host and device twice, real with simulated figures, unreadable files, files of two
jobs), reports (a missing node, a failed node, a rank without result, a clock skew) and how
it selects the job's GPUs. Then `joules run --cluster-dir` on the simulated GPU with a
launcher's variables set by hand, one machine posing as two nodes (JOULES_HOSTNAME)."""
import json
import math
import os
import subprocess
import sys
import unittest

from clitest import BIN, SLACK, CliTestCase, have_sim

LAUNCHER_PREFIXES = ("SLURM_", "OMPI_", "PMI_", "PMIX_", "MPI_LOCAL", "CUDA_VISIBLE_DEVICES")


def clean_env(env):
    """No launcher variable of the test's own environment (ctest may run under srun)."""
    return {k: v for k, v in env.items() if not k.startswith(LAUNCHER_PREFIXES)}


def merge_built():
    """False in a build without libjansson: `joules merge` then says so and the tests skip."""
    p = subprocess.run([BIN, "merge", os.devnull], capture_output=True, text=True, timeout=60)
    return "built without libjansson" not in p.stderr


def domain(name, kind, energy, unc, uuid=None, simulated=False, valid=True, counted=True):
    return {"name": name, "kind": kind, "device": "dev " + name, "uuid": uuid,
            "simulated": simulated, "method": "counter", "valid": valid,
            "energy_j": energy if valid else None,
            "energy_uncertainty_j": unc if valid else None,
            "avg_power_w": energy / 10.0 if valid else None,
            "counted_in_total": counted, "message": None}


def node(host, domains, job="77", step="0", rank=0, node_id=None, nodes=2, ranks=None,
         exit_status=0, start=1764081600.0, failure=None, gpus_from=None, selected=None):
    return {
        "schema": "joules.node/1", "joules_version": "0.2.0", "host": host,
        "host_overridden": False, "pid": 1, "rank": rank, "local_rank": 0, "node_id": node_id,
        "job": {"launcher": "slurm", "id": job, "step": step, "ranks": ranks, "nodes": nodes},
        "elected_by": "local-rank", "exit_status": exit_status, "signal": None,
        "gpus": {"from": gpus_from, "list": "1" if gpus_from else None, "note": None,
                 "selected": selected if selected is not None else
                 [d["name"] for d in domains if d["kind"] == "gpu"]},
        "failure": failure,
        "run": None if failure else {
            "schema": "joules.run/1", "joules_version": "0.2.0",
            "simulated": any(d["simulated"] for d in domains), "command": ["true"],
            "exit_status": exit_status, "signal": None, "start_unix_s": start,
            "duration_s": 10.0, "domains": domains, "total": None}}


def rank(host, r, exit_status=0, job="77", step="0", signal=None):
    return {"schema": "joules.rank/1", "joules_version": "0.2.0", "host": host, "rank": r,
            "job": {"launcher": "slurm", "id": job, "step": step, "ranks": None, "nodes": None},
            "exit_status": None if signal else exit_status, "signal": signal}


class MergeTest(CliTestCase):
    def setUp(self):
        super().setUp()
        if not merge_built():
            self.skipTest("joules was built without libjansson (apt-get install libjansson-dev)")

    def env(self, **extra):
        env = clean_env(super().env())
        env.update(extra)
        return env

    def files(self, *docs):
        out = []
        for i, d in enumerate(docs):
            out.append(self.write(f"f{i}.json", d if isinstance(d, str) else json.dumps(d)))
        return out

    def merge(self, *docs, args=()):
        p = self.joules("merge", "--json", self.path("job.json"), *args, *self.files(*docs))
        job = None
        if os.path.exists(self.path("job.json")):
            job = self.load_json("job.json")
        return p, job

    def test_two_nodes_per_kind_and_total(self):
        a = node("n1", [domain("gpu0", "gpu", 100.0, 3.0, "GPU-a"),
                        domain("gpu1", "gpu", 50.0, 1.0, "GPU-b"),
                        domain("cpu0", "cpu-package", 40.0, 2.0),
                        domain("cpu0.core", "cpu-core", 30.0, 2.0, counted=False)], node_id=0)
        b = node("n2", [domain("gpu0", "gpu", 200.0, 4.0, "GPU-a"),
                        domain("cpu0", "cpu-package", 60.0, 2.0)], node_id=1, rank=1)
        p, job = self.merge(a, b)
        self.assertExit(p, 0)
        self.assertEqual(job["schema"], "joules.job/1")
        self.assertTrue(job["summed"] and job["complete"])
        self.assertEqual((job["nodes_expected"], job["nodes_found"]), (2, 2))
        kinds = {k["kind"]: k for k in job["kinds"]}
        self.assertEqual(set(kinds), {"gpu", "cpu-package"})
        self.assertAlmostEqual(kinds["gpu"]["energy_j"], 350.0)
        # Within a node linearly (3 + 1), between nodes in quadrature.
        self.assertAlmostEqual(kinds["gpu"]["energy_uncertainty_j"], math.hypot(4.0, 4.0))
        self.assertAlmostEqual(job["total"]["energy_j"], 450.0)
        self.assertAlmostEqual(job["total"]["energy_uncertainty_j"], math.hypot(6.0, 6.0))
        n1 = job["nodes"][0]
        self.assertEqual(n1["host"], "n1")
        self.assertAlmostEqual(n1["total"]["energy_j"], 190.0)  # the core is inside cpu0
        self.assertIn("n1", p.stderr)
        self.assertIn("450.000 J", p.stderr)
        self.assertEqual(job["errors"], [])

    def test_same_host_and_device_twice_is_an_error(self):
        a = node("n1", [domain("gpu0", "gpu", 100.0, 1.0, "GPU-a")])
        p, job = self.merge(a, a)
        self.assertExit(p, 1)
        self.assertIn("host n1 device GPU-a is in two results", p.stderr)
        self.assertFalse(job["summed"])
        self.assertIsNone(job["total"])
        # The same device on another host is another device.
        b = node("n2", [domain("gpu0", "gpu", 100.0, 1.0, "GPU-a")])
        p, _ = self.merge(a, b)
        self.assertExit(p, 0)

    def test_missing_node_is_reported(self):
        a = node("n1", [domain("gpu0", "gpu", 100.0, 1.0, "GPU-a")], node_id=0, nodes=3)
        c = node("n3", [domain("gpu0", "gpu", 100.0, 1.0, "GPU-c")], node_id=2, nodes=3)
        p, job = self.merge(a, c)
        self.assertExit(p, 3)
        self.assertTrue(job["summed"])
        self.assertFalse(job["complete"])
        self.assertFalse(job["total"]["complete"])
        self.assertEqual(job["missing_node_ids"], [1])
        self.assertIn("1 of 3 nodes have no node result", p.stderr)
        self.assertIn("INCOMPLETE", p.stderr)
        # --nodes overrides what the files say.
        p, job = self.merge(a, c, args=("--nodes", "2"))
        self.assertExit(p, 0)

    def test_real_and_simulated_are_never_summed(self):
        a = node("n1", [domain("gpu0", "gpu", 100.0, 1.0, "GPU-a")])
        b = node("n2", [domain("gpu0", "gpu", 100.0, 1.0, "GPU-b", simulated=True)])
        p, job = self.merge(a, b)
        self.assertExit(p, 1)
        self.assertIn("real and simulated figures are never summed together", p.stderr)
        self.assertFalse(job["summed"])

    def test_unreadable_and_foreign_files(self):
        good = node("n1", [domain("gpu0", "gpu", 100.0, 1.0, "GPU-a")], nodes=1)
        p, job = self.merge(good, '{"schema": "joules.node/1",\n  "host": }')
        self.assertExit(p, 1)
        self.assertRegex(p.stderr, r"f1\.json: line 2, column \d+")
        run = dict(good["run"])
        p, _ = self.merge(good, run)
        self.assertExit(p, 1)
        self.assertIn("a joules.run/1 result says no host or job", p.stderr)
        p, _ = self.merge(good, {"schema": "other/1"})
        self.assertExit(p, 1)
        self.assertIn("schema other/1", p.stderr)
        p = self.joules("merge", self.path("absent.json"))
        self.assertExit(p, 1)
        self.assertIn("absent.json", p.stderr)

    def test_files_of_two_jobs(self):
        a = node("n1", [domain("gpu0", "gpu", 100.0, 1.0, "GPU-a")], job="77")
        b = node("n2", [domain("gpu0", "gpu", 100.0, 1.0, "GPU-b")], job="78")
        p, _ = self.merge(a, b)
        self.assertExit(p, 1)
        self.assertIn("from job 78", p.stderr)

    def test_failed_node_and_invalid_domain(self):
        a = node("n1", [domain("gpu0", "gpu", 100.0, 1.0, "GPU-a")])
        b = node("n2", [], failure="the node's devices could not be opened")
        p, job = self.merge(a, b)
        self.assertExit(p, 3)
        self.assertIn("node n2 measured nothing", p.stderr)
        self.assertIn("FAILED", p.stderr)
        self.assertAlmostEqual(job["total"]["energy_j"], 100.0)
        self.assertFalse(job["total"]["complete"])
        c = node("n2", [domain("gpu0", "gpu", 0.0, 0.0, "GPU-c", valid=False)])
        p, job = self.merge(a, c)
        self.assertExit(p, 3)
        self.assertFalse(job["kinds"][0]["complete"])

    def test_ranks_exit_status_and_missing_rank(self):
        a = node("n1", [domain("gpu0", "gpu", 1.0, 0.1, "GPU-a")], rank=0, ranks=4, nodes=2)
        b = node("n2", [domain("gpu0", "gpu", 1.0, 0.1, "GPU-a")], rank=2, ranks=4, nodes=2,
                 exit_status=3)
        p, job = self.merge(a, b, rank("n1", 1, exit_status=0))
        self.assertExit(p, 0)  # the energy is complete; the rank is said
        self.assertEqual(job["missing_ranks"], [3])
        self.assertEqual(job["exit_status"], 3)
        self.assertIn("1 of 4 ranks left no result", p.stderr)
        p, job = self.merge(a, b, rank("n1", 1), rank("n2", 3, signal=9))
        self.assertEqual(job["exit_status"], 137)
        self.assertEqual(job["missing_ranks"], [])

    def test_clock_skew_is_said(self):
        a = node("n1", [domain("gpu0", "gpu", 1.0, 0.1, "GPU-a")], start=1764081600.0)
        b = node("n2", [domain("gpu0", "gpu", 1.0, 0.1, "GPU-b")], start=1764081605.5)
        p, job = self.merge(a, b)
        self.assertExit(p, 0)
        self.assertAlmostEqual(job["clock"]["start_spread_s"], 5.5, places=3)
        self.assertIn("clock skew between nodes or a staggered launch", p.stderr)

    def test_only_the_jobs_gpus(self):
        a = node("n1", [domain("gpu0", "gpu", 100.0, 1.0, "GPU-a"),
                        domain("gpu1", "gpu", 70.0, 1.0, "GPU-b"),
                        domain("dram0", "dram", 5.0, 0.5)],
                 nodes=1, gpus_from="SLURM_STEP_GPUS", selected=["gpu1"])
        p, job = self.merge(a)
        self.assertExit(p, 0)
        self.assertAlmostEqual(job["total"]["energy_j"], 75.0)
        self.assertEqual(job["nodes"][0]["gpus"], {"from": "SLURM_STEP_GPUS", "list": "1"})

    def test_usage(self):
        p = self.joules("merge")
        self.assertExit(p, 2)
        p = self.joules("merge", "--nodes", "0", "x.json")
        self.assertExit(p, 2)
        p = self.joules("merge", "--help")
        self.assertExit(p, 0)
        self.assertIn("joules.job/1", p.stdout)


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class ClusterDirTest(CliTestCase):
    """joules run --cluster-dir with Open MPI's variables set by hand: 4 ranks, 2 posed nodes."""

    def setUp(self):
        super().setUp()
        if not merge_built():
            self.skipTest("joules was built without libjansson (apt-get install libjansson-dev)")

    def env(self, **extra):
        env = clean_env(super().env())
        env.update(extra)
        return env

    def start(self, r, cdir, *cmd, local=True, size=4, **extra):
        env = self.env(OMPI_COMM_WORLD_RANK=str(r), OMPI_COMM_WORLD_SIZE=str(size),
                       OMPI_COMM_WORLD_LOCAL_SIZE="2", PMIX_NAMESPACE="4242", **extra)
        if local:
            env["OMPI_COMM_WORLD_LOCAL_RANK"] = str(r % 2)
        return subprocess.Popen([BIN, "run", "--sim", "-q", "--cluster-dir", cdir, "--", *cmd],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finish(self, procs):
        out = []
        for p in procs:
            o, e = p.communicate(timeout=60 * SLACK)
            out.append((p.returncode, e))
        return out

    def test_lock_elects_one_measurer_per_posed_node(self):
        cdir = self.path("cd")
        os.mkdir(cdir)
        procs = [self.start(r, cdir, "sh", "-c", f"sleep 0.3; exit {r}",
                            JOULES_HOSTNAME=f"node{r // 2}") for r in range(4)]
        codes = [c for c, _ in self.finish(procs)]
        # Every rank its own command's status; rank 0 the worst of the ranks'.
        self.assertEqual(codes, [3, 1, 2, 3])
        names = sorted(n for n in os.listdir(cdir) if not n.startswith("."))
        self.assertEqual(sum(n.startswith("node-") for n in names), 2, names)
        self.assertEqual(sum(n.startswith("rank-") for n in names), 2, names)
        # Rank 0 waited for every rank's result and wrote the job result.
        self.assertIn("job-4242.0.json", names)
        with open(os.path.join(cdir, "job-4242.0.json")) as f:
            job0 = json.load(f)
        self.assertEqual((job0["exit_status"], job0["ranks_reported"], job0["missing_ranks"]),
                         (3, 4, []))
        p = self.joules("merge", "--json", self.path("job.json"), *[os.path.join(cdir, n)
                                                                    for n in names])
        self.assertExit(p, 0)
        job = self.load_json("job.json")
        self.assertEqual(job["job"], {"launcher": "openmpi", "id": "4242", "step": None})
        self.assertEqual(sorted(n["host"] for n in job["nodes"]), ["node0", "node1"])
        self.assertEqual(job["exit_status"], 3)
        self.assertEqual((job["ranks_expected"], job["ranks_reported"]), (4, 4))
        self.assertIn("job-4242.0.json: a job result, not summed again", p.stderr)
        self.assertAlmostEqual(job["total"]["energy_j"], job0["total"]["energy_j"])
        self.assertTrue(job["simulated"])
        self.assertGreater(job["total"]["energy_j"], 0.0)
        # Each node's energy is its own window's on the simulated GPU: the sum is theirs.
        self.assertAlmostEqual(job["total"]["energy_j"],
                               sum(n["total"]["energy_j"] for n in job["nodes"]))

    def test_local_rank_elects_without_lock(self):
        cdir = self.path("cd")
        os.mkdir(cdir)
        procs = [self.start(r, cdir, "true", size=2) for r in range(2)]
        self.assertEqual([c for c, _ in self.finish(procs)], [0, 0])
        names = sorted(os.listdir(cdir))
        self.assertEqual(len([n for n in names if n.startswith("node-")]), 1, names)
        self.assertEqual(len([n for n in names if n.startswith("job-")]), 1, names)
        self.assertFalse([n for n in names if n.startswith(".lock")], names)
        with open(os.path.join(cdir, [n for n in names if n.startswith("node-")][0])) as f:
            doc = json.load(f)
        self.assertEqual((doc["schema"], doc["rank"], doc["elected_by"]),
                         ("joules.node/1", 0, "local-rank"))
        self.assertEqual(doc["run"]["schema"], "joules.run/1")
        self.assertIsNone(doc["gpus"]["from"])
        self.assertIn("every GPU of the node is measured", doc["gpus"]["note"])

    def test_job_gpus_from_cuda_visible_devices(self):
        cdir = self.path("cd")
        os.mkdir(cdir)
        p = self.joules("run", "--sim", "--cluster-dir", cdir, "--", "true",
                        env=self.env(CUDA_VISIBLE_DEVICES="1", JOULES_SIM_DEVICES="2"))
        self.assertExit(p, 0)
        [name] = [n for n in os.listdir(cdir) if n.startswith("node-")]
        with open(os.path.join(cdir, name)) as f:
            doc = json.load(f)
        self.assertEqual(doc["gpus"]["from"], "CUDA_VISIBLE_DEVICES")
        self.assertEqual(doc["gpus"]["selected"], ["gpu1"])

    def test_bad_cluster_dir(self):
        p = self.joules("run", "--sim", "--cluster-dir", self.path("absent"), "--", "true")
        self.assertExit(p, 2)
        self.assertIn("--cluster-dir", p.stderr)


def main():
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    if r.wasSuccessful() and r.testsRun and len(r.skipped) == r.testsRun:
        sys.exit(77)  # nothing could run here: CTest's SKIP_RETURN_CODE
    sys.exit(0 if r.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
