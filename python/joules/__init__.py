# SPDX-License-Identifier: MIT
"""joules: energy of code on NVIDIA GPUs (NVML), CPUs and DRAM (RAPL) or a simulated GPU.

    from joules import Monitor            # or: from joules import Monitor as ZeusMonitor
    monitor = Monitor(gpu_indices=[0], sync_execution_with="jax")
    monitor.begin_window("matmul")
    ...
    m = monitor.end_window("matmul")
    print(m.time, m.gpu_energy[0], m.gpu_uncertainty[0])

A thin ctypes binding over libjoules (no compiler needed), with the window edges in C
where the build made joules/_fast.c for this interpreter (binding()); see docs/python.md.
"""
from ._lib import LibraryNotFound
from .errors import JoulesError, LibraryError, strerror
from .monitor import (DomainEnergy, DomainInfo, Efficiency, Measurement, Monitor, Pending,
                      Sample, Samples, ZeusMonitor, to_csv)
from .sim import Simulator

__all__ = ["Monitor", "ZeusMonitor", "Measurement", "Pending", "DomainEnergy", "DomainInfo",
           "Efficiency", "Sample", "Samples", "to_csv", "JoulesError", "LibraryError",
           "LibraryNotFound", "Simulator", "strerror", "library_version", "library_path",
           "binding", "__version__"]


def __getattr__(name):
    # __version__ is asked of its one source when first read (joules/_version.py).
    if name == "__version__":
        from ._version import version
        return version()
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def library_version():
    """The version string of the loaded libjoules (joules_version)."""
    from .errors import load_library
    return load_library().joules_version().decode()


def library_path():
    """The path of the loaded libjoules."""
    from . import _lib
    from .errors import load_library
    load_library()
    return _lib.library_path()


def binding():
    """How Monitor's window edges reach libjoules: {"edges": "c-extension" (joules/_fast.c,
    built beside the library for this interpreter) or "ctypes", "extension": the module's
    file or None, "why": why not, when not}. JOULES_PY_NO_EXT=1 asks for ctypes."""
    from . import _native
    from .edges import _Edges
    from .errors import load_library
    load_library()
    return _native.binding(_Edges)
