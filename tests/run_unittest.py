# SPDX-License-Identifier: MIT
"""Run one unittest module as one CTest program, so that CTest sees what really ran.

    python3 run_unittest.py MODULE      (from the module's folder)

`python3 -m unittest` exits 0 when tests were skipped, and CTest would then report the
program as Passed though part of it never ran. This runner exits with:
    0   every test ran and passed,
    1   a test failed or erred, an expected failure passed, or the module held no test,
    77  none failed but at least one was skipped (tests/CMakeLists.txt sets
        SKIP_RETURN_CODE 77, so CTest lists the program as Skipped, not Passed).
The last line of its output says how many were skipped, out of how many, and why.
"""
import os
import sys
import unittest

SKIP_EXIT = 77


def main(argv):
    if len(argv) != 2:
        print("usage: run_unittest.py MODULE", file=sys.stderr)
        return 2
    sys.path.insert(0, os.getcwd())
    suite = unittest.defaultTestLoader.loadTestsFromName(argv[1])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    sys.stdout.flush()
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    if failed or result.testsRun == 0:
        if result.testsRun == 0:
            print("FAILED: module %s holds no test" % argv[1])
        return 1
    if result.skipped:
        print("SKIPPED: %d of %d test(s) of %s did not run:"
              % (len(result.skipped), result.testsRun, argv[1]))
        for test, reason in result.skipped:
            print("  %s: %s" % (test.id(), reason))
        return SKIP_EXIT
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
