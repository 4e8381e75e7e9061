#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The talk's A/B experiment: does a matrix multiply cost more energy on random data than on
zeros? n x n fp32 matmuls, N(0,1) operands against all-zero operands, same shapes and FLOPs.

Steps, as in the talk: compile and warm up, begin the window, compute, block until ready,
end the window. The script was written for Zeus; joules runs it by changing the import:

    from joules import Monitor as ZeusMonitor      # was: from zeus.monitor import ZeusMonitor

Paths:
  * JAX on a GPU (default when JAX with a GPU backend is importable);
  * --sim [PROFILE]: the simulated GPU, without JAX or NumPy: the same two workloads are
    submitted to the simulator as kernels (jsimRunKernel), whose activity comes from the
    bit-toggle rate of the operands (jsimToggleRate). Chosen by itself when JAX is absent.

    PYTHONPATH=python python3 python/examples/talk_ab.py --sim
"""
import argparse
import array
import random
import sys

from joules import JoulesError
from joules import Monitor as ZeusMonitor


def report(results, unit_note):
    print()
    print("%-7s %9s %14s %14s %9s %s" % ("input", "time s", "energy J", "per matmul J",
                                          "power W", unit_note))
    for label, (m, iters, extra) in results.items():
        e = m.gpu_energy[0]
        print("%-7s %9.3f %14.2f %14.3f %9.1f %s" % (
            label, m.time, e, e / iters, e / m.time if m.time else float("nan"), extra))
    n, z = results["normal"][0], results["zeros"][0]
    en, ez = n.gpu_energy[0] / results["normal"][1], z.gpu_energy[0] / results["zeros"][1]
    print("\nenergy per matmul, normal / zeros: %.2fx (uncertainty: +/- %.2f J and +/- %.2f J "
          "per window)" % (en / ez if ez else float("inf"), n.gpu_uncertainty[0],
                           z.gpu_uncertainty[0]))


def run_jax(args):
    import jax
    import jax.numpy as jnp

    if not any(d.platform == "gpu" for d in jax.devices()):
        raise RuntimeError("JAX sees no GPU (devices: %s)" % jax.devices())
    # settle_end (joules only): the end edge waits for the next energy-counter step, so both
    # edges rest on exact counter values; drop it and the line is Zeus's verbatim.
    monitor = ZeusMonitor(gpu_indices=[0], sync_execution_with="jax", settle_end=True)
    n = args.n
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    inputs = {
        "normal": (jax.random.normal(k1, (n, n), dtype=jnp.float32),
                   jax.random.normal(k2, (n, n), dtype=jnp.float32)),
        "zeros": (jnp.zeros((n, n), dtype=jnp.float32), jnp.zeros((n, n), dtype=jnp.float32)),
    }
    matmul = jax.jit(jnp.matmul)
    for a, b in inputs.values():  # compile and warm up
        for _ in range(3):
            matmul(a, b).block_until_ready()
    results = {}
    for rep in range(args.repeat):
        for label, (a, b) in inputs.items():
            monitor.begin_window(label)
            for _ in range(args.iters):
                c = matmul(a, b)
            c.block_until_ready()
            m = monitor.end_window(label)
            results[label] = (m, args.iters, "")
        print("repeat %d:" % (rep + 1), end="")
        report(results, "")


def run_sim(args):
    try:
        monitor = ZeusMonitor(gpu_indices=[0], sim=args.sim or True, settle_end=True)
    except JoulesError as e:
        print("cannot open the simulated GPU: %s" % e, file=sys.stderr)
        return 1
    sim = monitor.simulator
    missing = [f for f in ("RunKernel", "ToggleRate") if not sim.has(f)]
    if missing:
        print("The simulated GPU at %s does not export %s.\nThis fallback submits the two "
              "matmuls to the simulator as kernels and needs its extension entry points "
              "(src/abi/jsim.h: jsimRunKernel, jsimToggleRate); rebuild the simulator "
              "(target joules_sim) or run the JAX path on a GPU."
              % (sim.path, ", ".join("jsim" + f for f in missing)))
        return 2
    n = args.n
    # The operands' bit statistics from a sample (the rate is a mean over the stream).
    count = min(n * n, 1 << 16)
    rnd = random.Random(0)
    normal = array.array("f", (rnd.gauss(0.0, 1.0) for _ in range(count)))
    zeros = array.array("f", bytes(4 * count))
    toggles = {"normal": sim.toggle_rate(normal, args.precision),
               "zeros": sim.toggle_rate(zeros, args.precision)}
    flops, traffic = 2.0 * n ** 3, 3.0 * n * n * 4
    state = sim.state(0) if sim.has("GetState") else {}
    print("SIMULATED GPU (%s): %d x %d %s matmuls, %d per window; operand toggle rate: "
          "normal %.3f, zeros %.3f" % (monitor.domains[0].device, n, n, args.precision,
                                       args.iters, toggles["normal"], toggles["zeros"]))
    if state:
        print("start: %.0f W, %.0f MHz, %.0f C" % (state["power_w"], state["clock_mhz"],
                                                   state["temperature_c"]))
    for label in toggles:  # "compile and warm up": clocks up, as the first JAX calls do
        for _ in range(3):
            sim.run_kernel(0, flops, traffic, args.precision, toggle=toggles[label])
    for rep in range(args.repeat):
        results = {}
        for label, toggle in toggles.items():
            monitor.begin_window(label)
            alpha = 0.0
            for _ in range(args.iters):
                k = sim.run_kernel(0, flops, traffic, args.precision, toggle=toggle)
                alpha = k["alpha"]
            m = monitor.end_window(label)  # run_kernel returns when the kernel is done
            truth = m.simulator_true_energy.get(0)
            extra = "alpha %.2f; simulator truth %.2f J (%+.2f %%)" % (
                alpha, truth, 100.0 * (m.gpu_energy[0] - truth) / truth) if truth else ""
            results[label] = (m, args.iters, extra)
        print("repeat %d:" % (rep + 1), end="")
        report(results, "")
    monitor.close()
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sim", nargs="?", const="a6000", default=None, metavar="PROFILE",
                    help="measure the simulated GPU (profile, default a6000), no JAX needed")
    ap.add_argument("--n", type=int, default=10000, help="matrix size (default 10000)")
    ap.add_argument("--iters", type=int, default=20, help="matmuls per window (default 20)")
    ap.add_argument("--repeat", type=int, default=1, help="A/B repetitions (default 1)")
    ap.add_argument("--precision", default="fp32", help="simulated path: fp32, tf32, ...")
    args = ap.parse_args(argv)
    if args.sim is None:
        try:
            import jax  # noqa: F401
        except ImportError:
            print("JAX is not installed: using the simulated GPU (--sim) instead.\n")
            args.sim = "a6000"
    if args.sim is not None:
        return run_sim(args)
    try:
        run_jax(args)
    except RuntimeError as e:
        print("JAX path failed (%s); run with --sim for the simulated GPU." % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
