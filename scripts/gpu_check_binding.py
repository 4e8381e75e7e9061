# SPDX-License-Identifier: MIT
"""gpu_check_binding - the Python-binding step of scripts/gpu-check, run in its own process.

One begin/end window of the joules binding (python/joules) around a cuBLAS-backed load of
--seconds: through CuPy when it is installed and sees a GPU, else PyTorch with CUDA, else the
ctypes load of gpu_load.py (cuBLAS through ctypes, the library through the binding only). With
--sim the window is on the simulated GPU, whose scenario carries the load, and the host sleeps.
Writes one JSON object to --out; exit 0 when the window was measured, 1 otherwise (the JSON then
says why).
"""
import argparse
import json
import os
import sys
import time


def _cupy_load(seconds):
    import cupy  # noqa: F401 (optional: absent on most machines)
    if cupy.cuda.runtime.getDeviceCount() < 1:
        raise RuntimeError("CuPy sees no GPU")
    a = cupy.random.standard_normal((4096, 4096), dtype=cupy.float32)
    cupy.cuda.Device().synchronize()

    def work():
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for _ in range(10):
                a @ a
            cupy.cuda.Device().synchronize()
    return "cupy", "cupy", work


def _torch_load(seconds):
    import torch
    if not torch.cuda.is_available():
        raise RuntimeError("PyTorch has no CUDA device")
    a = torch.randn(4096, 4096, device="cuda", dtype=torch.float32)
    torch.cuda.synchronize()

    def work():
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for _ in range(10):
                torch.matmul(a, a)
            torch.cuda.synchronize()
    return "torch", "torch", work


def _ctypes_load(seconds):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import gpu_load
    load = gpu_load.CublasLoad()

    def work():
        try:
            load.run_for(seconds)
        finally:
            load.close()
    return "ctypes", None, work


def pick_load(seconds, notes):
    """The first cuBLAS-backed load that starts: (name, sync_execution_with, callable)."""
    for name, make in (("cupy", _cupy_load), ("torch", _torch_load), ("ctypes", _ctypes_load)):
        try:
            return make(seconds)
        except ImportError:
            notes.append(f"{name}: not installed")
        except Exception as e:  # a framework that is present but cannot use the GPU
            notes.append(f"{name}: {type(e).__name__}: {e}")
    return None


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--sim", default=None, help="simulated GPU profile")
    ap.add_argument("--scenario", default=None)
    args = ap.parse_args(argv)
    res = {"schema": "joules.gpu-check.binding/1", "simulated": bool(args.sim), "ok": False,
           "load": None, "notes": []}
    try:
        import joules
        res["library"] = joules.library_path()
        if args.sim:
            mon = joules.Monitor(gpu_indices=[0], cpu_indices=[], sim=args.sim,
                                 scenario=args.scenario)
            load, sync, work = "simulated (scenario load, host sleeps)", None, \
                (lambda: time.sleep(args.seconds))
        else:
            picked = pick_load(args.seconds, res["notes"])
            if picked is None:
                raise RuntimeError("no cuBLAS-backed load could start: " + "; ".join(res["notes"]))
            load, sync, work = picked
            mon = joules.Monitor(gpu_indices=[0], cpu_indices=[], sync_execution_with=sync)
        res["load"] = load
        mon.begin_window("gpu-check")
        t0 = time.monotonic()
        work()
        m = mon.end_window("gpu-check")
        res["host_time_s"] = time.monotonic() - t0
        res["time_s"] = m.time
        res["energy_j"] = m.gpu_energy.get(0)
        res["uncertainty_j"] = getattr(m, "gpu_uncertainty", {}).get(0)
        res["simulated_result"] = bool(m.simulated)
        if res["energy_j"] is not None and m.time > 0:
            res["avg_power_w"] = res["energy_j"] / m.time
        res["ok"] = res["energy_j"] is not None and res["energy_j"] > 0
        if not res["ok"]:
            res["error"] = "the window has no positive GPU energy"
    except Exception as e:
        res["error"] = f"{type(e).__name__}: {e}"
    with open(args.out, "w") as f:
        json.dump(res, f, indent=2)
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
