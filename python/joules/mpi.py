# SPDX-License-Identifier: MIT
"""joules.mpi - one energy window across an MPI communicator, through mpi4py.

A thin binding of libjoules_mpi (docs/cluster.md): the ranks that share a node elect one
measurer (MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)), and the nodes' figures are gathered to
rank 0 of the communicator. Every call is collective::

    from mpi4py import MPI
    import joules.mpi

    with joules.mpi.Window(MPI.COMM_WORLD, "solve") as w:
        solve()
    if MPI.COMM_WORLD.rank == 0:
        print(w.result["total_j"], w.result["nodes"])

libjoules_mpi is built where CMake finds MPI, and found beside libjoules (or through
JOULES_MPI_LIBRARY).
"""
import ctypes
import os

from . import _lib

KINDS = ("gpu", "cpu", "dram", "other")


class _Node(ctypes.Structure):
    _fields_ = [
        ("host", ctypes.c_char * 64),
        ("ranks", ctypes.c_int),
        ("measured", ctypes.c_int),
        ("simulated", ctypes.c_int),
        ("complete", ctypes.c_int),
        ("energy_j", ctypes.c_double * len(KINDS)),
        ("uncertainty_j", ctypes.c_double * len(KINDS)),
        ("total_j", ctypes.c_double),
        ("total_uncertainty_j", ctypes.c_double),
        ("begin_unix_s", ctypes.c_double),
        ("duration_s", ctypes.c_double),
        ("message", ctypes.c_char * 320),
    ]


class _Result(ctypes.Structure):
    _fields_ = [
        ("n_nodes", ctypes.c_int),
        ("nodes", ctypes.POINTER(_Node)),
        ("simulated", ctypes.c_int),
        ("complete", ctypes.c_int),
        ("energy_j", ctypes.c_double * len(KINDS)),
        ("uncertainty_j", ctypes.c_double * len(KINDS)),
        ("total_j", ctypes.c_double),
        ("total_uncertainty_j", ctypes.c_double),
    ]


_mpi_lib = None


def _comm_type(MPI):
    # MPI_Comm is a pointer in Open MPI and an int in MPICH: its size tells which.
    return ctypes.c_void_p if MPI._sizeof(MPI.Comm) == ctypes.sizeof(ctypes.c_void_p) else ctypes.c_int


def _load(MPI):
    global _mpi_lib
    if _mpi_lib is not None:
        return _mpi_lib
    core = _lib.load()  # libjoules first: libjoules_mpi needs it
    here = os.path.dirname(_lib._lib_path or "")
    tried = []
    for path in (os.environ.get("JOULES_MPI_LIBRARY"), os.path.join(here, "libjoules_mpi.so"),
                 "libjoules_mpi.so.0"):
        if not path:
            continue
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as e:
            tried.append("%s: %s" % (path, e))
    else:
        raise OSError("cannot load libjoules_mpi (built where CMake finds MPI: apt-get install "
                      "libopenmpi-dev); tried " + "; ".join(tried))
    comm = _comm_type(MPI)
    lib.joules_mpi_open.argtypes = [ctypes.POINTER(ctypes.c_void_p), comm,
                                    ctypes.POINTER(_lib.Options), ctypes.c_char_p, ctypes.c_size_t]
    lib.joules_mpi_open.restype = ctypes.c_int
    lib.joules_mpi_begin.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.joules_mpi_begin.restype = ctypes.c_int
    lib.joules_mpi_end.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(_Result)]
    lib.joules_mpi_end.restype = ctypes.c_int
    lib.joules_mpi_result_free.argtypes = [ctypes.POINTER(_Result)]
    lib.joules_mpi_result_free.restype = None
    lib.joules_mpi_is_measurer.argtypes = [ctypes.c_void_p]
    lib.joules_mpi_is_measurer.restype = ctypes.c_int
    lib.joules_mpi_close.argtypes = [ctypes.c_void_p]
    lib.joules_mpi_close.restype = None
    _mpi_lib = (lib, core, comm)
    return _mpi_lib


def _sums(energy, uncertainty):
    return {k: {"energy_j": energy[i], "energy_uncertainty_j": uncertainty[i]}
            for i, k in enumerate(KINDS)}


def _result(r):
    nodes = []
    for i in range(r.n_nodes):
        n = r.nodes[i]
        nodes.append({
            "host": _lib.text(n.host), "ranks": n.ranks, "measured": bool(n.measured),
            "simulated": bool(n.simulated), "complete": bool(n.complete),
            "kinds": _sums(n.energy_j, n.uncertainty_j), "total_j": n.total_j,
            "total_uncertainty_j": n.total_uncertainty_j, "begin_unix_s": n.begin_unix_s,
            "duration_s": n.duration_s, "message": _lib.text(n.message) or None})
    total = None if r.simulated < 0 else r.total_j
    return {"nodes": nodes, "simulated": {1: True, 0: False}.get(r.simulated, "mixed"),
            "complete": bool(r.complete), "kinds": _sums(r.energy_j, r.uncertainty_j),
            "total_j": total,
            "total_uncertainty_j": None if total is None else r.total_uncertainty_j}


class Window:
    """A window across comm (collective). After the with block, .result is the gathered
    result at rank 0 of comm (a dict) and None elsewhere; .measurer says whether this rank
    measured its node. nvml_library / sysfs_root are joules_options' (None: defaults)."""

    def __init__(self, comm, name="window", nvml_library=None, sysfs_root=None):
        from mpi4py import MPI
        self._lib, _, comm_type = _load(MPI)
        self._comm = comm_type(MPI._handleof(comm))
        self._rank = comm.Get_rank()
        self.name = name.encode()
        self._opts = _lib.Options()
        self._lib_core = _lib.load()
        self._lib_core.joules_options_init(ctypes.byref(self._opts))
        self._keep = []
        for field, value in (("nvml_library", nvml_library), ("sysfs_root", sysfs_root)):
            if value is not None:
                b = os.fsencode(value)
                self._keep.append(b)
                setattr(self._opts, field, b)
        self._handle = ctypes.c_void_p()
        self.result = None
        self.measurer = False

    def __enter__(self):
        err = ctypes.create_string_buffer(512)
        if self._lib.joules_mpi_open(ctypes.byref(self._handle), self._comm,
                                     ctypes.byref(self._opts), err, len(err)) != 0:
            raise RuntimeError("joules.mpi: " + _lib.text(err.value))
        self.measurer = bool(self._lib.joules_mpi_is_measurer(self._handle))
        if self._lib.joules_mpi_begin(self._handle, self.name) != 0:
            self._lib.joules_mpi_close(self._handle)
            raise RuntimeError("joules.mpi: MPI failed at the window's beginning")
        return self

    def __exit__(self, *exc):
        r = _Result()
        try:
            if self._lib.joules_mpi_end(self._handle, self.name, ctypes.byref(r)) != 0:
                raise RuntimeError("joules.mpi: MPI failed at the window's end")
            self.result = _result(r) if self._rank == 0 else None
            self._lib.joules_mpi_result_free(ctypes.byref(r))
        finally:
            self._lib.joules_mpi_close(self._handle)
        return False

