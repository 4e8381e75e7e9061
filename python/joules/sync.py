# SPDX-License-Identifier: MIT
"""Synchronisation of asynchronous device work before each window edge.

The binding synchronises in Python, just before it calls joules_window_begin/end (which read
the clock at once): no C callback re-enters the interpreter, exceptions of the framework
propagate unchanged, and the GIL is never taken from a library thread. The order at each
edge is therefore: sync -> clock/energy edge.
"""
import importlib
import sys

from . import _lib
from .errors import JoulesError

FRAMEWORKS = ("jax", "torch", "cupy")


def _import(name):
    mod = sys.modules.get(name)
    if mod is not None:
        return mod
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise JoulesError(_lib.E_SYNC,
                          "sync_execution_with=%r, but %s cannot be imported (%s); install it "
                          "or pass a callable" % (name, name, e)) from None


def _jax_sync(devices):
    """Block until every computation queued on the given JAX devices has finished.

    jax.effects_barrier() only waits for side effects (callbacks), not for all dispatched
    computations, so, as Zeus does, a tiny computation is queued on each device and waited
    for: a device runs its work in order, so when it is done everything before it is.
    """
    jax = _import("jax")
    try:
        devs = jax.devices("gpu")
    except RuntimeError:
        devs = jax.devices()  # no GPU backend (e.g. the simulated GPU): the default backend
    for i in devices:
        if i >= len(devs):
            raise JoulesError(_lib.E_SYNC, "sync with jax: device %d requested but JAX sees "
                              "%d device(s): %s" % (i, len(devs), devs))
        (jax.device_put(0.0, devs[i]) + 0).block_until_ready()


def _torch_sync(devices):
    torch = _import("torch")
    if not torch.cuda.is_available():
        return  # nothing can be pending on a CUDA device
    for i in devices:
        torch.cuda.synchronize(i)


def _cupy_sync(devices):
    cupy = _import("cupy")
    for i in devices:
        cupy.cuda.Device(i).synchronize()


_BY_NAME = {"jax": _jax_sync, "torch": _torch_sync, "cupy": _cupy_sync}


def make_sync(sync_with, devices_fn):
    """A function of no argument that synchronises, or None.

    sync_with: None, "jax", "torch", "cupy", or any callable of no argument.
    devices_fn: returns the CUDA/framework device indices to synchronise (at call time).
    """
    if sync_with is None:
        return None
    if callable(sync_with):
        return sync_with
    if isinstance(sync_with, str) and sync_with.lower() in _BY_NAME:
        fn = _BY_NAME[sync_with.lower()]
        return lambda: fn(devices_fn())
    raise JoulesError(_lib.E_INVALID, "sync_execution_with must be one of %s, a callable or "
                      "None, not %r" % (", ".join(repr(f) for f in FRAMEWORKS), sync_with))
