# SPDX-License-Identifier: MIT
"""What a window costs through the Python binding, against the C API on the same library.

    python3 bench/bench_python.py BUILD_DIR        (`make bench` runs it)

Both sides open one simulated A100 (one device, GPU only, a simulated machine of the
process's own unless JOULES_SIM_MACHINE says otherwise) and time begin+end pairs in a tight
loop: the C side is bench_window's first figure (gpus=1), run beside this script; the Python
side is Monitor.begin_window/end_window on the path the binding uses (joules.binding(): the
C edges of joules/_fast.c when built, else ctypes), then the same through
`with monitor.window(...)` and a function decorated with @monitor.measure, then the Python
(ctypes) edges and the bare ctypes calls for comparison. Goal (issue 20): the Python pair at most 2.5 us where the C pair costs about
1.15 us.
"""
import os
import re
import subprocess
import sys
import time

ITERS = 4000
ROUNDS = 15
WARM = 1000
GOAL_US = 2.5


def per_pair_us(fn, iters=ITERS):
    for _ in range(WARM):
        fn()
    best = float("inf")
    for _ in range(ROUNDS):  # the best round: the least disturbed by other processes
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        best = min(best, (time.perf_counter() - t0) / iters)
    return best * 1e6


def c_pair_us(build):
    out = subprocess.run([os.path.join(build, "bin", "bench_window")], check=True,
                         capture_output=True, text=True, timeout=300).stdout
    m = re.search(r"gpus=1\s+window begin\+end: ([0-9.]+) us", out)
    if not m:
        raise SystemExit("bench_python: no gpus=1 figure in bench_window's output:\n" + out)
    return float(m.group(1))


def main(argv):
    build = os.path.abspath(argv[1] if len(argv) > 1 else "build")
    source = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.environ.setdefault("JOULES_LIBRARY", os.path.join(build, "lib", "libjoules.so"))
    os.environ.setdefault("JOULES_SIM_LIBRARY",
                          os.path.join(build, "lib", "joules", "libnvidia-ml.so.1"))
    # Both sides on a model of their own: a shared machine booted by another process with
    # more devices would make every edge read them all.
    os.environ.setdefault("JOULES_SIM_MACHINE", "private")
    sys.path.insert(0, os.path.join(source, "python"))
    import joules

    binding = joules.binding()
    with joules.Monitor(gpu_indices=[0], cpu_indices=[], sim="a100-sxm4-80gb",
                        sim_devices=1) as mon:
        def pair():
            mon.begin_window("w")
            mon.end_window("w")

        def with_window():
            with mon.window("w"):
                pass

        @mon.measure("w")
        def decorated():  # called directly: its wrapper stands for pair()'s own frame
            pass

        def read_result():
            mon.begin_window("w")
            m = mon.end_window("w")
            return m.gpu_energy[0] + m.gpu_uncertainty[0] + m.time

        edges = type(mon)
        py_begin = getattr(edges, "_py_begin_window", edges.begin_window)
        py_end = getattr(edges, "_py_end_window", edges.end_window)

        def ctypes_pair():  # the Python methods of edges.py, whichever path is in use
            py_begin(mon, "w")
            py_end(mon, "w")

        lib, h = mon._lib, mon._handle
        raw = mon._new_result()  # room for the monitor's domains, as the binding's own
        import ctypes
        ref = ctypes.byref(raw)

        def bare():
            lib.joules_window_begin(h, b"w")
            lib.joules_window_end(h, b"w", ref)

        py = per_pair_us(pair)
        py_with = per_pair_us(with_window)
        py_deco = per_pair_us(decorated)
        py_read = per_pair_us(read_result)
        py_ctypes = per_pair_us(ctypes_pair)
        floor = per_pair_us(bare)
    c = c_pair_us(build)
    print("python edges: %s%s" % (binding["edges"], "" if binding["extension"]
                                  else " (%s)" % binding["why"]))
    print("python begin_window+end_window: %.2f us  (goal <= %.1f us)" % (py, GOAL_US))
    print("python `with monitor.window()`: %.2f us" % py_with)
    print("python @monitor.measure call: %.2f us" % py_deco)
    print("python pair + reading energy, uncertainty, time: %.2f us" % py_read)
    print("python edges through ctypes (edges.py, JOULES_PY_NO_EXT=1): %.2f us" % py_ctypes)
    print("bare ctypes begin+end (floor of a ctypes binding): %.2f us" % floor)
    print("C API begin+end (bench_window, gpus=1): %.2f us" % c)
    print("ratio python/C: %.2f   (the pair's own Python time: %.2f us)" % (py / c, py - c))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
