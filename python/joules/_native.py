# SPDX-License-Identifier: MIT
"""The window edges in C (joules/_fast.c), when that module is built for this interpreter.

It is looked for beside the loaded libjoules, in the directory that holds the simulated GPU
(<dir of libjoules>/joules/, in the build tree and in a wheel alike), so that it comes with
the library it was compiled against; it takes that library's function addresses from the
ctypes binding (one copy of the library, one loader). Without it, or with JOULES_PY_NO_EXT=1
in the environment, the edges are the Python methods of edges._Edges (ctypes): the same
results and errors, at a higher cost per window. binding() says which is in use and why.
"""
import ctypes
import importlib.machinery
import importlib.util
import inspect
import os
import sys
import threading

from . import _lib

DISABLE_ENV = "JOULES_PY_NO_EXT"
MODULE = "joules._fast"

_lock = threading.Lock()
_found = None  # (module or None, file or None, why), once looked for


def _directory():
    return os.path.join(os.path.dirname(_lib.library_path()), "joules")


def _look():
    if os.environ.get(DISABLE_ENV, "") not in ("", "0"):
        return None, None, "%s is set" % DISABLE_ENV
    where = _directory()
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:  # only this interpreter's ABI
        path = os.path.join(where, "_fast" + suffix)
        if not os.path.isfile(path):
            continue
        try:
            spec = importlib.util.spec_from_file_location(MODULE, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        except (ImportError, OSError) as e:
            return None, path, "cannot load %s: %s" % (path, e)
        sys.modules[MODULE] = module
        return module, path, "loaded"
    return None, None, "no _fast%s in %s (not built for this interpreter)" % (
        importlib.machinery.EXTENSION_SUFFIXES[0], where)


def _doc(fn):
    """The docstring of a C method: its signature (self first) for inspect, then fn's."""
    sig = str(inspect.signature(fn)).replace("(self", "($self", 1)
    return "%s%s\n--\n\n%s" % (fn.__name__, sig, inspect.getdoc(fn) or "")


def extension(edges_class):
    """The loaded module (None without it), its methods installed in edges_class on first
    use (the Python methods stay there as _py_begin_window and _py_end_window), with its
    Window as the _window_type of monitor.window (window._Window otherwise) and its
    Measured as the _measured_type of monitor.measure (a Python wrapper otherwise)."""
    global _found
    with _lock:
        if _found is None:
            module, path, why = _look()
            if module is not None:
                py_begin, py_end = edges_class.begin_window, edges_class.end_window
                begin, end = module.methods(edges_class, py_begin, py_end, _doc(py_begin),
                                            _doc(py_end))
                edges_class._py_begin_window, edges_class._py_end_window = py_begin, py_end
                edges_class.begin_window, edges_class.end_window = begin, end
                from .results import Measurement, Pending
                edges_class._window_type, edges_class._measured_type = module.window(
                    Measurement, Pending)
            _found = (module, path, why)
        return _found[0]


def state(monitor, edges_class):
    """monitor's State for the C edges, or None on the ctypes path."""
    module = extension(edges_class)
    if module is None:
        return None
    lib, block = monitor._lib, _lib.result_block(monitor._n_results)
    return module.state(_address(lib.joules_window_begin), _address(lib.joules_window_end),
                        monitor._handle, monitor._handle.value, ctypes.sizeof(block.type),
                        block.type.d.offset, monitor._n_results,
                        tuple(block.valid_offset(i) for i in monitor._domain_index),
                        _measurement_type(), block, monitor._ref)


def _address(fn):
    return ctypes.cast(fn, ctypes.c_void_p).value


def _measurement_type():
    from .results import Measurement
    return Measurement


def binding(edges_class):
    """{"edges": "c-extension" or "ctypes", "extension": its file or None, "why": ...}."""
    module = extension(edges_class)
    _, path, why = _found
    return {"edges": "c-extension" if module is not None else "ctypes", "extension": path,
            "why": why}
