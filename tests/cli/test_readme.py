# SPDX-License-Identifier: MIT
"""The README's commands run as written (issue 20, item 3). Every line of every ```sh block
of README.md is either run here or listed in SKIPPED with its reason; a line that is in
neither fails the test, so a command added to the README is run from then on.

Each command runs in a fresh directory that holds only `build` (a link to this build tree,
as a clone's directory holds it after `make run`), through bash, with the README's `export`
lines before it and a PATH that does not hold joules otherwise. The machine the tests run on
is made hermetic (no NVIDIA driver, an empty /sys), so, as the README says for a machine
without a GPU, the commands that measure get `--sim`; those that take long get short
durations (ADAPT). The user's own programs that the README names get stand-ins (STAND_INS).
"""
import os
import re
import shlex
import shutil
import subprocess
import unittest

from clitest import BIN, SLACK, SOURCE_DIR, CliTestCase, have_sim

README = os.path.join(SOURCE_DIR, "README.md")
BUILD_DIR = os.path.dirname(os.path.dirname(os.path.abspath(BIN)))

# Lines not run here, each with why.
SKIPPED = {
    "make run": "the set-up command itself: this test runs in the tree it built",
    "make test": "the set-up command itself: it runs this test",
    "srun joules run --cluster-dir D -- ./train": "needs a Slurm cluster; "
    "tests/cli/test_cli_cluster.py (SlurmTest) runs it on a single-host Slurm it starts",
    "srun --joules=D ./train": "needs a Slurm cluster with the plugin in plugstack.conf; "
    "tests/cli/test_cli_cluster.py (SlurmTest) runs it on a single-host Slurm it starts",
}

# What a line needs done before it, where the README's previous line is not run here.
PREPARE = {
    "joules merge --json job.json D/*.json": "mkdir -p D && joules run --sim --cluster-dir D -- true",
}

# Options added after `joules SUBCOMMAND`: (options, also when --sim/--scenario is given).
FAST_EXPERIMENT = ["-n", "2048", "--min-window", "0.2"]
ADAPT = {
    "run": ["--sim"],
    "repeat": ["--sim", "--min-time", "0.5s"],
    "watch": ["--sim", "--duration", "1s"],
    "idle": ["--sim", "--duration", "1s"],
    "ab": FAST_EXPERIMENT + ["--repeats", "2"],
    "sweep": FAST_EXPERIMENT + ["--warmup", "0.1", "--cooldown", "0"],
    "sim thermal": ["--duration", "100"],  # a shorter simulated time
    "compare": ["--sim", "--runs", "2", "--warmup", "0"],
    "serve": ["--sim", "--listen", "127.0.0.1:0"],
}

# Commands that run until stopped: stopped by SIGTERM after this many seconds, and then
# expected to exit 0 as their help says.
UNTIL_STOPPED = {"serve": 2}

# The programs of the README that are the user's own, with what stands for them here.
STAND_INS = {
    "train.py": "print('one epoch')\n",
    "bench": "#!/bin/sh\necho bench done\n",
    "kernel": "#!/bin/sh\nexit 0\n",
    "old": "#!/bin/sh\nexit 0\n",
    "new": "#!/bin/sh\nexit 0\n",
}

# Files a command is expected to leave in its directory.
EXPECTED_FILES = {"--json run.json": "run.json", "--plot p.svg": "p.svg"}


def readme_sh_lines():
    """The command lines of the ```sh blocks: (line as written, command without comment)."""
    with open(README) as f:
        text = f.read()
    out = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.M | re.S):
        for line in block.splitlines():
            cmd = re.sub(r"\s+#\s.*$", "", line).strip()
            if cmd and not cmd.startswith("#"):
                out.append((line, cmd))
    return out


def adapt(cmd):
    """The command as run here: ADAPT's options inserted after `joules SUBCOMMAND`."""
    words = shlex.split(cmd)
    if "joules" not in words:
        return cmd
    i = words.index("joules")
    sub = words[i + 1] if i + 1 < len(words) else ""
    if sub == "sim":  # `joules sim thermal`: the options go after the sim command's name
        name = words[i + 2] if i + 2 < len(words) else ""
        extra = ADAPT.get("sim " + name, [])
        return shlex.join(words[:i + 3] + extra + words[i + 3:])
    extra = list(ADAPT.get(sub, []))
    if not extra and sub not in UNTIL_STOPPED:
        return cmd  # as written, globs and all
    if "--sim" in words or "--scenario" in words:
        extra = [w for w in extra if w != "--sim"]
    run = shlex.join(words[:i + 2] + extra + words[i + 2:])
    if sub in UNTIL_STOPPED:
        run = "timeout --preserve-status -s TERM %d %s" % (UNTIL_STOPPED[sub], run)
    return run


def path_without_joules():
    dirs = [d for d in os.environ.get("PATH", "/usr/bin:/bin").split(":")
            if d and not os.path.exists(os.path.join(d, "joules"))]
    return ":".join(dirs)


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class ReadmeCommands(CliTestCase):
    def fresh_dir(self):
        d = self.path("clone")
        os.mkdir(d)
        os.symlink(BUILD_DIR, os.path.join(d, "build"))
        for name, text in STAND_INS.items():
            p = os.path.join(d, name)
            with open(p, "w") as f:
                f.write(text)
            os.chmod(p, 0o755)
        return d

    def setUp(self):
        super().setUp()
        # The README's commands share one simulated machine, as a user's do; its name is this
        # test's own, and it is removed at the end.
        self.machine = "joules-readme-%d" % os.getpid()

    def tearDown(self):
        subprocess.run([BIN, "sim", "reset", "--machine", self.machine], capture_output=True,
                       timeout=60)
        super().tearDown()

    def user_env(self):
        env = self.env(PATH=path_without_joules(), XDG_CACHE_HOME=self.path("cache"),
                       JOULES_SIM_MACHINE=self.machine)
        env.pop("JOULES_SIM_LIBRARY", None)  # found beside the executable, as for a user
        return env

    def bash(self, script, cwd, timeout=120):
        return subprocess.run(["bash", "-c", script], cwd=cwd, env=self.user_env(),
                              capture_output=True, text=True, timeout=timeout * SLACK)

    def test_joules_is_not_on_the_path_without_the_readme_line(self):
        p = self.bash("command -v joules", self.fresh_dir())
        self.assertNotEqual(p.returncode, 0, p.stdout)

    @unittest.skipUnless(shutil.which("make"), "make is not installed")
    def test_make_run_prints_the_path_line(self):
        """`make run` ends with the line that puts joules on the PATH (make -n: printed, not
        run)."""
        p = subprocess.run(["make", "-n", "run", "BUILD=" + BUILD_DIR], cwd=SOURCE_DIR,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('export PATH="%s/bin:$PATH"' % BUILD_DIR, p.stdout)

    def test_every_command_runs_as_written(self):
        lines = readme_sh_lines()
        self.assertGreater(len(lines), 5)
        cwd = self.fresh_dir()
        prelude = []
        ran, skipped = [], []
        for line, cmd in lines:
            with self.subTest(command=cmd):
                if cmd in SKIPPED:  # listed with its reason: not a test that could not run
                    skipped.append(cmd)
                    print("not run here: %s (%s)" % (cmd, SKIPPED[cmd]))
                    continue
                if cmd.startswith("export "):
                    prelude.append(cmd)
                    p = self.bash("\n".join(prelude + ["command -v joules"]), cwd)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertEqual(os.path.realpath(p.stdout.strip()), os.path.realpath(BIN))
                    ran.append(cmd)
                    continue
                run = adapt(cmd)
                if cmd in PREPARE:
                    p = self.bash("\n".join(prelude + [PREPARE[cmd]]), cwd)
                    self.assertEqual(p.returncode, 0, p.stderr)
                p = self.bash("\n".join(prelude + [run]), cwd)
                self.assertEqual(p.returncode, 0, "%s\n(run as: %s)\nstdout:\n%s\nstderr:\n%s"
                                 % (line, run, p.stdout[-2000:], p.stderr[-2000:]))
                self.assertNotIn("command not found", p.stderr)
                for opt, name in EXPECTED_FILES.items():
                    if opt in cmd:
                        self.assertTrue(os.path.exists(os.path.join(cwd, name)), name)
                ran.append(cmd)
        # Every line was run or skipped with its reason; none vanished between the two.
        self.assertEqual(len(ran) + len(skipped), len(lines))
        self.assertEqual(sorted(skipped), sorted(SKIPPED))


if __name__ == "__main__":
    unittest.main()
