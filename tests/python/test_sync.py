# SPDX-License-Identifier: MIT
"""Synchronisation before each window edge: a recording callable, and the JAX, PyTorch and
CuPy paths through stand-in modules placed in sys.modules."""
import sys
import time
import types
import unittest

import jtest
from jtest import joules


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self):
        self.calls.append(time.monotonic_ns())  # same clock as the library (CLOCK_MONOTONIC)


def fake_jax(log, n_gpus=2, gpu=True):
    jax = types.ModuleType("jax")

    class Dev:
        def __init__(self, i):
            self.id, self.platform = i, "gpu" if gpu else "cpu"

        def __repr__(self):
            return "Dev(%d)" % self.id

    class Arr:
        def __init__(self, dev):
            self.dev = dev

        def __add__(self, other):
            log.append(("add", self.dev.id))
            return Arr(self.dev)

        def block_until_ready(self):
            log.append(("block", self.dev.id))
            return self

    def devices(backend=None):
        if backend == "gpu" and not gpu:
            raise RuntimeError("Unknown backend gpu")
        return [Dev(i) for i in range(n_gpus)]

    def device_put(x, device=None):
        log.append(("put", device.id))
        return Arr(device)

    jax.devices, jax.device_put = devices, device_put
    return jax


def fake_torch(log, available=True):
    torch = types.ModuleType("torch")
    cuda = types.ModuleType("torch.cuda")
    cuda.is_available = lambda: available
    cuda.synchronize = lambda device=None: log.append(("sync", device))
    torch.cuda = cuda
    return torch


def fake_cupy(log):
    cupy = types.ModuleType("cupy")

    class Device:
        def __init__(self, i):
            self.i = i

        def synchronize(self):
            log.append(("sync", self.i))
    cupy.cuda = types.SimpleNamespace(Device=Device)
    return cupy


class SyncCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        jtest.require_library(cls)

    def open(self, sync, **kw):
        kw.setdefault("gpu_indices", [0])
        m = joules.Monitor(sim="a6000", sync_execution_with=sync, **kw)
        self.addCleanup(m.close)
        return m

    def with_module(self, name, module):
        saved = sys.modules.get(name)
        sys.modules[name] = module

        def restore():
            if saved is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = saved
        self.addCleanup(restore)


class TestCallable(SyncCase):
    def test_called_before_each_edge(self):
        rec = Recorder()
        mon = self.open(rec)
        self.assertEqual(rec.calls, [])
        mon.begin_window("w")
        self.assertEqual(len(rec.calls), 1)
        time.sleep(0.02)
        m = mon.end_window("w")
        self.assertEqual(len(rec.calls), 2)
        # sync, then the begin edge; sync, then the end edge
        self.assertLessEqual(rec.calls[0], m.begin_ns)
        self.assertLess(m.begin_ns, rec.calls[1])
        self.assertLessEqual(rec.calls[1], m.end_ns)

    def test_nested_order(self):
        events = []
        mon = self.open(lambda: events.append("sync"))
        mon.begin_window("a")
        events.append("begun a")
        mon.begin_window("b")
        events.append("begun b")
        mon.end_window("b")
        events.append("ended b")
        mon.end_window("a")
        events.append("ended a")
        self.assertEqual(events, ["sync", "begun a", "sync", "begun b", "sync", "ended b",
                                  "sync", "ended a"])

    def test_sync_execution_false_skips(self):
        rec = Recorder()
        mon = self.open(rec)
        mon.begin_window("w", sync_execution=False)
        mon.end_window("w", sync_execution=False)
        self.assertEqual(rec.calls, [])

    def test_context_manager_syncs(self):
        rec = Recorder()
        mon = self.open(rec)
        with mon.window("w") as m:
            self.assertEqual(len(rec.calls), 1)
        self.assertEqual(len(rec.calls), 2)
        self.assertLessEqual(rec.calls[1], m.end_ns)

    def test_no_sync_for_unknown_window(self):
        rec = Recorder()
        mon = self.open(rec)
        with self.assertRaises(joules.JoulesError):
            mon.end_window("never")
        self.assertEqual(rec.calls, [])

    def test_failing_sync_propagates_and_window_not_begun(self):
        def boom():
            raise ValueError("device error")
        mon = self.open(boom)
        with self.assertRaises(ValueError):
            mon.begin_window("w")
        with self.assertRaises(joules.JoulesError) as cm:
            mon.end_window("w", sync_execution=False)
        self.assertEqual(cm.exception.name, "JOULES_E_STATE")


class TestFrameworks(SyncCase):
    def test_jax(self):
        log = []
        self.with_module("jax", fake_jax(log, n_gpus=2))
        mon = self.open("jax")
        mon.begin_window("w")
        self.assertEqual(log, [("put", 0), ("add", 0), ("block", 0)])
        mon.end_window("w")
        self.assertEqual(len(log), 6)
        self.assertEqual(log[-1], ("block", 0))

    def test_jax_without_gpu_backend_uses_default_devices(self):
        log = []
        self.with_module("jax", fake_jax(log, n_gpus=1, gpu=False))
        mon = self.open("jax")
        mon.begin_window("w")
        mon.end_window("w")
        self.assertEqual(log.count(("block", 0)), 2)

    def test_jax_device_out_of_range(self):
        log = []
        self.with_module("jax", fake_jax(log, n_gpus=0))
        mon = self.open("jax")
        with self.assertRaises(joules.JoulesError) as cm:
            mon.begin_window("w")
        self.assertEqual(cm.exception.name, "JOULES_E_SYNC")

    def test_torch(self):
        log = []
        self.with_module("torch", fake_torch(log))
        mon = self.open("torch")
        mon.begin_window("w")
        mon.end_window("w")
        self.assertEqual(log, [("sync", 0), ("sync", 0)])

    def test_torch_without_cuda_is_a_no_op(self):
        log = []
        self.with_module("torch", fake_torch(log, available=False))
        mon = self.open("torch")
        mon.begin_window("w")
        mon.end_window("w")
        self.assertEqual(log, [])

    def test_cupy(self):
        log = []
        self.with_module("cupy", fake_cupy(log))
        mon = self.open("cupy")
        with mon.window("w"):
            pass
        self.assertEqual(log, [("sync", 0), ("sync", 0)])

    def test_missing_framework(self):
        self.with_module("jax", None)  # None in sys.modules makes the import fail
        mon = self.open("jax")
        with self.assertRaises(joules.JoulesError) as cm:
            mon.begin_window("w")
        self.assertEqual(cm.exception.name, "JOULES_E_SYNC")
        self.assertIn("jax", cm.exception.message)

    def test_imported_lazily(self):
        self.with_module("torch", None)
        self.open("torch")  # opening does not import the framework


if __name__ == "__main__":
    unittest.main()
