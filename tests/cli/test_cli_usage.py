# SPDX-License-Identifier: MIT
"""The command line itself: help that teaches, versions, and wrong usage (exit 2, a message
that names the problem and points to --help). Nothing here needs a GPU or the simulator."""
import os
import unittest

from clitest import CliTestCase

COMMANDS = ["info", "run"]


class Help(CliTestCase):
    def test_top_level_help(self):
        for args in (["--help"], ["-h"], ["help"]):
            p = self.joules(*args)
            self.assertExit(p, 0)
            for word in ["Usage:", "Commands:", "info", "run", "Examples:", "Environment:",
                         "JOULES_NVML_LIBRARY", "JOULES_SYSFS_ROOT", "Exit status"]:
                self.assertIn(word, p.stdout, args)

    def test_no_arguments_is_usage_error(self):
        p = self.joules()
        self.assertExit(p, 2)
        self.assertIn("Usage:", p.stderr)

    def test_version(self):
        p = self.joules("--version")
        self.assertExit(p, 0)
        self.assertRegex(p.stdout, r"^joules \d+\.\d+\.\d+")

    def test_every_command_has_help(self):
        for cmd in COMMANDS:
            for args in ([cmd, "--help"], [cmd, "-h"], ["help", cmd]):
                p = self.joules(*args)
                self.assertExit(p, 0)
                for word in ["Usage: joules " + cmd, "Options:", "Examples:", "Environment:",
                             "Exit status", "--sim", "--json"]:
                    self.assertIn(word, p.stdout, args)

    def test_run_help_documents_signals_and_exit_codes(self):
        p = self.joules("run", "--help")
        for word in ["SIGINT", "SIGTERM", "SIGHUP", "127", "126", "128+N", "--csv", "--quiet",
                     "--scenario"]:
            self.assertIn(word, p.stdout)


class WrongUsage(CliTestCase):
    def check_usage(self, args, *words):
        p = self.joules(*args)
        self.assertExit(p, 2)
        for w in words:
            self.assertIn(w, p.stderr, args)
        return p

    def test_unknown_command_suggests(self):
        p = self.check_usage(["rnu"], "unknown command 'rnu'", "joules --help")
        self.assertIn("joules run", p.stderr)
        self.check_usage(["help", "nope"], "unknown command 'nope'")

    def test_unknown_options(self):
        for cmd in COMMANDS:
            self.check_usage([cmd, "--bogus"], "unknown option '--bogus'",
                             f"joules {cmd} --help")
            self.check_usage([cmd, "-Z"], "unknown option '-Z'")
        self.check_usage(["--bogus"], "unknown option '--bogus'")

    def test_missing_values(self):
        self.check_usage(["run", "--json"], "'--json' needs a value")
        self.check_usage(["run", "--csv"], "'--csv' needs a value")
        self.check_usage(["run", "--scenario"], "'--scenario' needs a value")
        self.check_usage(["info", "--json"], "'--json' needs a value")

    def test_flag_with_value(self):
        self.check_usage(["run", "--quiet=yes", "--", "true"], "takes no value")

    def test_bad_values(self):
        self.check_usage(["run", "--json", "", "--", "true"], "--json needs a file name")
        self.check_usage(["run", "--json", "--csv", "x", "--", "true"], "looks like an option")
        self.check_usage(["run", "--json", self.tmp + "/", "--", "true"], "directory")
        same = self.path("same")
        self.check_usage(["run", "--json", same, "--csv", same, "--", "true"], "same file")
        self.check_usage(["run", "--sim=nope", "--", "true"], "unknown simulated GPU profile",
                         "a6000")
        self.check_usage(["info", "--sim", "nope"], "unknown simulated GPU profile")
        self.check_usage(["run", "--sim", "a6000", "--sim", "h100-sxm5", "--", "true"],
                         "two different")
        self.check_usage(["info", "--sim", "--sim-if-absent"], "exclude each other")

    def test_sim_then_command_without_separator_explains(self):
        # `--sim sleep 1`: 'sleep' is read as a profile; the message says to use '--'.
        self.check_usage(["run", "--sim", "sleep", "1"], "profile 'sleep'", "-- sleep")

    def test_missing_scenario_file(self):
        self.check_usage(["run", "--scenario", self.path("none.scn"), "--", "true"],
                         "cannot read the scenario file", "none.scn")
        self.check_usage(["run", "--scenario", self.tmp, "--", "true"], "not a regular file")

    def test_run_without_command(self):
        self.check_usage(["run"], "no command")
        self.check_usage(["run", "--sim", "--"], "no command")

    def test_info_rejects_arguments(self):
        self.check_usage(["info", "extra"], "unexpected argument 'extra'")

    def test_usage_errors_create_no_file(self):
        out = self.path("out.json")
        self.joules("run", "--json", out, "--bogus", "--", "true")
        self.joules("run", "--json", out, "--scenario", self.path("none.scn"), "--", "true")
        self.assertFalse(os.path.exists(out))
        self.assertNoStrayFiles(self.tmp)


if __name__ == "__main__":
    unittest.main()
