# SPDX-License-Identifier: MIT
"""The command line takes the simulated GPU's profiles from the simulator (jsimGetProfile)
and keeps no list of its own: its messages name exactly the simulator's profiles, it accepts
every one of them, `joules sim` covers every real board, and a simulator that cannot be
asked is reported as such."""
import ctypes
import os
import re
import unittest

from clitest import BIN, SANITIZE, CliTestCase, SIM_LIB


class ProfileInfo(ctypes.Structure):  # jsimProfileInfo of src/abi/jsim.h
    _fields_ = [("version", ctypes.c_uint), ("key", ctypes.c_char_p),
                ("alias_of", ctypes.c_char_p), ("name", ctypes.c_char_p),
                ("for_tests", ctypes.c_int)]


def simulator_profiles():
    """[(key, alias_of, name, for_tests)] from the library itself, or None where it cannot be
    loaded into this interpreter (a sanitized build)."""
    if SANITIZE:
        return None
    lib = ctypes.CDLL(SIM_LIB)
    get = lib.jsimGetProfile
    get.restype = ctypes.c_int
    get.argtypes = [ctypes.c_uint, ctypes.POINTER(ProfileInfo)]
    out = []
    while True:
        info = ProfileInfo(version=ctypes.sizeof(ProfileInfo) | (1 << 24))
        if get(len(out), ctypes.byref(info)) != 0:
            return out
        dec = lambda b: b.decode() if b is not None else None  # noqa: E731
        out.append((dec(info.key), dec(info.alias_of), dec(info.name), info.for_tests))


def listed(text):
    """The names of a list "a6000, a100-sxm4-80gb (a100), ...", aliases included."""
    return [w for w in re.split(r"[ ,()]+", text) if w]


class Profiles(CliTestCase):
    def setUp(self):
        super().setUp()
        self.require_sim()

    def cli_list(self):
        p = self.joules("run", "--sim=no-such-gpu", "--", "true")
        self.assertExit(p, 2)
        m = re.search(r"^Profiles: (.*)\.$", p.stderr, re.M)
        self.assertIsNotNone(m, p.stderr)
        return m.group(1)

    def test_the_cli_lists_what_the_simulator_lists(self):
        # The simulator's own message (an unknown JOULES_SIM_PROFILE, which the CLI does
        # not check) and the CLI's name the same profiles in the same words.
        p = self.joules("info", "--sim", env=self.env(JOULES_SIM_PROFILE="no-such-gpu"))
        self.assertExit(p, 1)
        m = re.search(r"\(known: (.*)\)", p.stderr)
        self.assertIsNotNone(m, p.stderr)
        self.assertEqual(self.cli_list(), m.group(1))
        profiles = simulator_profiles()
        if profiles is not None:
            self.assertEqual(sorted(listed(self.cli_list())), sorted(k for k, _, _, _ in profiles))

    def test_every_listed_profile_is_accepted(self):
        names = listed(self.cli_list())
        self.assertIn("a6000", names)
        profiles = {k: n for k, _, n, _ in simulator_profiles() or []}
        for key in names:
            p = self.joules("info", "--sim=" + key)
            self.assertExit(p, 0)
            self.assertIn("SIMULATED", p.stdout)
            if key in profiles:
                self.assertIn(profiles[key] + " (simulated)", p.stdout)
        p = self.joules("sim", "thermal", "--profile", "no-such-gpu")
        self.assertExit(p, 2)
        self.assertIn("(profiles: %s)" % self.cli_list(), p.stderr)

    @unittest.skipIf(SANITIZE, "reads the simulator's list with ctypes")
    def test_sim_covers_every_board(self):
        boards = [(k, n) for k, alias_of, n, for_tests in simulator_profiles()
                  if not alias_of and not for_tests]
        self.assertGreater(len(boards), 1)
        p = self.joules("sim", "--help")
        self.assertExit(p, 0)
        m = re.search(r"^Profiles \(--profile\): (.*)$", p.stdout, re.M)
        self.assertIsNotNone(m, p.stdout)
        aliases = [k for k, alias_of, _, _ in simulator_profiles() if alias_of]
        self.assertEqual(sorted(listed(m.group(1))), sorted([k for k, _ in boards] + aliases))
        p = self.joules("sim", "idle")
        self.assertExit(p, 0)
        for key, name in boards:
            self.assertEqual(p.stdout.count(name + " (simulated)"), 2, key)

    def test_a_simulator_that_cannot_be_asked(self):
        missing = self.path("absent.so")
        p = self.joules("run", "--sim", "a6000", "--", "true",
                        env=self.env(JOULES_SIM_LIBRARY=missing))
        self.assertExit(p, 1)
        self.assertIn(missing, p.stderr)
        self.assertIn("is missing", p.stderr)
        other = os.path.join(os.path.dirname(os.path.dirname(BIN)), "lib", "libjoules.so")
        p = self.joules("info", "--sim", "a6000", env=self.env(JOULES_SIM_LIBRARY=other))
        self.assertExit(p, 1)
        self.assertIn("lacks jsimGetProfile", p.stderr)
        p = self.joules("sim", "--help", env=self.env(JOULES_SIM_LIBRARY=missing))
        self.assertExit(p, 0)
        self.assertIn("cannot be read", p.stdout)


if __name__ == "__main__":
    unittest.main()
