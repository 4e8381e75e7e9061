# SPDX-License-Identifier: MIT
"""The layer rule of src/layers.txt, checked on the source tree and on the build.

Every #include line of src/ names a layer its file may use; no file reaches a layer by a
relative path; the library's hidden `joules__` symbols appear only in the library (core and
backends); every C file of src/ is listed in the build; and the build's per-layer include
roots really refuse a forbidden header (a probe compiled the way the CLI's files are).
"""
import os
import re
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("JOULES_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("JOULES_BUILD_DIR", "")
SRC = os.path.join(SOURCE, "src")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
LIBRARY_LAYERS = {"core", "backends"}


def read_table():
    table = {}
    with open(os.path.join(SRC, "layers.txt"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            layer, sep, deps = line.partition(":")
            if not sep or not re.fullmatch(r"[a-z]+", layer):
                raise AssertionError(f"src/layers.txt:{n}: expected 'layer: deps...'")
            table[layer] = set(deps.split())
    return table


def source_files():
    for layer in sorted(os.listdir(SRC)):
        d = os.path.join(SRC, layer)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith((".c", ".h")):
                yield layer, name, os.path.join(d, name)


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


class Layers(unittest.TestCase):
    def setUp(self):
        self.table = read_table()

    def test_table_names_real_layers(self):
        dirs = {d for d in os.listdir(SRC) if os.path.isdir(os.path.join(SRC, d))}
        self.assertEqual(dirs, set(self.table), "src/ directories and src/layers.txt differ")
        for layer, deps in self.table.items():
            for dep in deps:
                self.assertTrue(dep == "public" or dep in self.table,
                                f"{layer} may use '{dep}', which is no layer")
                self.assertNotEqual(dep, layer, f"{layer} lists itself")

    def test_includes_follow_the_arrows(self):
        bad = []
        for layer, name, path in source_files():
            allowed = self.table[layer]
            for inc in INCLUDE.findall(strip_comments(read(path))):
                where = f"src/{layer}/{name}: #include \"{inc}\""
                if ".." in inc.split("/"):
                    bad.append(f"{where}: a relative path hides the arrow")
                elif inc == "joules.h":
                    if "public" not in allowed:
                        bad.append(f"{where}: {layer} may not use the public API")
                elif "/" in inc:
                    dep = inc.split("/", 1)[0]
                    if dep != layer and dep not in allowed:
                        bad.append(f"{where}: {layer} may not include {dep}")
                elif not os.path.exists(os.path.join(SRC, layer, inc)):
                    bad.append(f"{where}: not a header of {layer}")
        self.assertEqual(bad, [], "\n".join(bad))

    def test_hidden_symbols_stay_in_the_library(self):
        bad = []
        for layer, name, path in source_files():
            if layer in LIBRARY_LAYERS:
                continue
            for n, line in enumerate(strip_comments(read(path)).split("\n"), 1):
                if re.search(r"\bjoules__\w+", line):
                    bad.append(f"src/{layer}/{name}:{n}: {line.strip()}")
        self.assertEqual(bad, [], "hidden library symbols used outside it:\n" + "\n".join(bad))

    def test_every_source_is_built(self):
        cmake = read(os.path.join(SOURCE, "CMakeLists.txt"))
        missing = [f"src/{layer}/{name}" for layer, name, _ in source_files()
                   if name.endswith(".c") and f"src/{layer}/{name}" not in cmake]
        self.assertEqual(missing, [], "C files of src/ that CMakeLists.txt does not list")

    def probe(self, layer, header):
        root = os.path.join(BUILD, "layers", layer)
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "probe.c")
            with open(src, "w", encoding="utf-8") as f:
                f.write(f'#include "{header}"\nint probe_value(void);\nint probe_value(void) {{ return 0; }}\n')
            cc = os.environ.get("CC", "cc")
            r = subprocess.run([cc, "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-fsyntax-only",
                                "-I", os.path.join(SOURCE, "include"), "-I", root, src],
                               capture_output=True, text=True)
            return r.returncode, r.stderr

    def test_the_build_refuses_a_forbidden_include(self):
        if not BUILD or not os.path.isdir(os.path.join(BUILD, "layers")):
            self.skipTest("JOULES_BUILD_DIR does not name a configured build")
        rc, err = self.probe("cli", "io/json.h")
        self.assertEqual(rc, 0, "an allowed header must compile from the CLI's layer:\n" + err)
        rc, err = self.probe("cli", "sim/sim.h")
        self.assertNotEqual(rc, 0, "the CLI's include root must not reach the simulator")
        self.assertIn("sim/sim.h", err)
        rc, err = self.probe("sim", "core/internal.h")
        self.assertNotEqual(rc, 0, "the simulator's include root must not reach the core")


if __name__ == "__main__":
    unittest.main()
