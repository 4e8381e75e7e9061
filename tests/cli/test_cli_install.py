# SPDX-License-Identifier: MIT
"""The installed tree works as a user gets it from `make install`: the joules binary finds
the simulated GPU and the scenarios relative to itself, the pkg-config file is right, and a
program built against the installed header and library measures a window."""
import os
import re
import shutil
import subprocess
import unittest

from clitest import BIN, SANITIZE, SOURCE_DIR, CliTestCase, have_sim

BUILD_DIR = os.path.dirname(os.path.dirname(BIN))


def header_version():
    """MAJOR.MINOR.PATCH from include/joules.h, the one place the version is written."""
    text = open(os.path.join(SOURCE_DIR, "include", "joules.h"), encoding="utf-8").read()
    return ".".join(re.search(r"^#define\s+JOULES_VERSION_%s\s+(\d+)\s*$" % part, text,
                              re.M).group(1) for part in ("MAJOR", "MINOR", "PATCH"))


PROGRAM = r"""
#include <joules.h>
#include <stdio.h>
#include <time.h>
int main(int argc, char **argv)
{
    (void)argc;
    joules_options o;
    joules_options_init(&o);
    o.nvml_library = argv[1];
    o.kinds = JOULES_KIND_GPU;
    joules_monitor *m;
    char err[256];
    if (joules_open(&m, &o, err, sizeof err) != 0) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    struct timespec ts = {0, 200000000L};
    joules_measurement *r;
    if (joules_measurement_alloc(m, &r) != 0) return 4;
    if (joules_window_begin(m, "w") != 0) return 2;
    nanosleep(&ts, NULL);
    if (joules_window_end(m, "w", r) != 0) return 3;
    printf("%d %s %.6f %d\n", joules_domain_count(m), joules_version(),
           r->domains[0].energy_j, r->simulated);
    joules_measurement_free(r);
    joules_close(m);
    return 0;
}
"""


@unittest.skipUnless(have_sim(), "the simulated GPU library is not built")
class Install(CliTestCase):
    def setUp(self):
        super().setUp()
        self.prefix = os.path.join(self.tmp, "prefix")
        done = subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", self.prefix],
                              capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, done.stderr)

    def test_layout_keeps_the_simulator_private(self):
        lib = os.path.join(self.prefix, "lib")
        self.assertTrue(os.path.exists(os.path.join(lib, "joules", "libnvidia-ml.so.1")))
        # Never where the dynamic linker would take it for a real driver's library.
        self.assertFalse(os.path.exists(os.path.join(lib, "libnvidia-ml.so.1")))
        self.assertTrue(os.path.exists(os.path.join(lib, "libjoules.so")))
        self.assertTrue(os.path.exists(os.path.join(lib, "libjoules.a")))
        self.assertTrue(os.path.exists(os.path.join(self.prefix, "include", "joules.h")))
        self.assertTrue(os.path.exists(
            os.path.join(self.prefix, "share", "joules", "scenarios", "demo.scn")))

    def test_installed_binary_finds_the_simulator_by_itself(self):
        env = self.env()
        del env["JOULES_SIM_LIBRARY"]
        out = self.path("r.json")
        joules = os.path.join(self.prefix, "bin", "joules")
        scenario = os.path.join(self.prefix, "share", "joules", "scenarios", "demo.scn")
        done = subprocess.run([joules, "run", "--scenario", scenario, "--json", out, "--",
                               "sleep", "0.3"], env=env, capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("SIMULATED", done.stderr)
        info = subprocess.run([joules, "info", "--sim"], env=env, capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(info.returncode, 0, info.stderr)
        self.assertIn(os.path.join(self.prefix, "bin", "..", "lib", "joules"), info.stdout)

    def test_pkg_config_file(self):
        pc = open(os.path.join(self.prefix, "lib", "pkgconfig", "joules.pc")).read()
        self.assertIn("Libs: -L${libdir} -ljoules", pc)
        self.assertIn("includedir=${prefix}/include", pc)
        self.assertIn("Version: ", pc)

    @unittest.skipIf(SANITIZE or not shutil.which("cc"), "needs an uninstrumented C compiler")
    def test_a_program_links_against_the_installed_library(self):
        src = self.path("prog.c")
        with open(src, "w") as f:
            f.write(PROGRAM)
        exe = self.path("prog")
        lib = os.path.join(self.prefix, "lib")
        cc = subprocess.run(["cc", "-std=c11", "-D_POSIX_C_SOURCE=200809L", src, "-o", exe,
                             "-I" + os.path.join(self.prefix, "include"), "-L" + lib,
                             "-ljoules", "-Wl,-rpath," + lib], capture_output=True, text=True)
        self.assertEqual(cc.returncode, 0, cc.stderr)
        done = subprocess.run([exe, os.path.join(lib, "joules", "libnvidia-ml.so.1")],
                              env=self.env(), capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        count, version, energy, simulated = done.stdout.split()
        self.assertEqual(count, "1")
        self.assertEqual(version, header_version())
        self.assertGreater(float(energy), 0.0)
        self.assertEqual(simulated, "1")

    @unittest.skipIf(SANITIZE or not shutil.which("cc"), "needs an uninstrumented C compiler")
    def test_the_readme_c_example_builds(self):
        # The README's "From C" snippet, as the body of main, against the installed header.
        with open(os.path.join(SOURCE_DIR, "README.md")) as f:
            readme = f.read()
        block = re.search(r"From C:\s*```c\n(.*?)```", readme, re.S)
        self.assertIsNotNone(block, "no C example in README.md")
        lines = block.group(1).splitlines()
        src = self.path("readme.c")
        with open(src, "w") as f:
            f.write("\n".join(line for line in lines if line.startswith("#include")))
            f.write("\nint main(void)\n{\n")
            f.write("\n".join(line for line in lines if not line.startswith("#include")))
            f.write("\nreturn 0;\n}\n")
        lib = os.path.join(self.prefix, "lib")
        cc = subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", src, "-o",
                             self.path("readme"), "-I" + os.path.join(self.prefix, "include"),
                             "-L" + lib, "-ljoules", "-Wl,-rpath," + lib],
                            capture_output=True, text=True)
        self.assertEqual(cc.returncode, 0, cc.stderr)


if __name__ == "__main__":
    unittest.main()
