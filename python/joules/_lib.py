# SPDX-License-Identifier: MIT
"""ctypes mirror of include/joules.h and the loader of libjoules.

Every struct below mirrors its C counterpart field by field; tests/python/test_abi.py
compares the sizes and offsets with the C compiler's when one is available.
"""
import ctypes
import ctypes.util
import os
import struct
import threading
from collections.abc import Mapping

# ---- constants of joules.h ----------------------------------------------------------------
MAX_DOMAINS = 64
NAME_MAX = 64
MESSAGE_MAX = 256
MODEL_MAX = 32  # JOULES_MODEL_MAX
N_REFERENCES = 4  # JOULES_N_REFERENCES
PRECISION_NONE = -1  # JOULES_PRECISION_NONE

# Error codes are not copied here: their names come from the library's one table
# (joules_err_name, JOULES_ERROR_TABLE in joules.h), and _lib.E_STATE and the like are looked
# up by name (__getattr__ below). The one code the binding must know by itself is the one it
# raises when there is no library to ask.
E_LIBRARY = -4
_E_LIBRARY_NAME = "JOULES_E_LIBRARY"
# Codes are small negative numbers; the scan asks joules_err_name for each down to this one.
_LOWEST_CODE = -255


class _ErrorNames(Mapping):
    """code -> "JOULES_E_..." of every code of the library (joules_err_name), read once it
    is loaded; while no library can be loaded, E_LIBRARY alone."""

    def __init__(self):
        self._names = None

    def _table(self):
        if self._names is None:
            try:
                lib = load()
            except LibraryNotFound:
                return {E_LIBRARY: _E_LIBRARY_NAME}
            names = {}
            for code in range(0, _LOWEST_CODE - 1, -1):
                name = lib.joules_err_name(code)
                if name:
                    names[code] = name.decode()
            self._names = names
        return self._names

    def __getitem__(self, code):
        return self._table()[code]

    def __iter__(self):
        return iter(self._table())

    def __len__(self):
        return len(self._table())


ERROR_NAMES = _ErrorNames()


def __getattr__(name):
    """E_INVALID, E_STATE, ...: the value of JOULES_<name> in the library's table (loading
    the library first: LibraryNotFound when there is none to ask)."""
    if name.startswith("E_"):
        load()
        for code, full in ERROR_NAMES.items():
            if full == "JOULES_" + name:
                globals()[name] = code  # asked on every failed call: look it up once
                return code
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


KIND_GPU = 1 << 0
KIND_CPU_PACKAGE = 1 << 1
KIND_CPU_CORE = 1 << 2
KIND_CPU_UNCORE = 1 << 3
KIND_DRAM = 1 << 4
KIND_PSYS = 1 << 5
KINDS_ALL = 0x3F
KINDS_CPU = KIND_CPU_PACKAGE | KIND_CPU_CORE | KIND_CPU_UNCORE | KIND_DRAM | KIND_PSYS

KIND_NAMES = {
    KIND_GPU: "gpu",
    KIND_CPU_PACKAGE: "cpu-package",
    KIND_CPU_CORE: "cpu-core",
    KIND_CPU_UNCORE: "cpu-uncore",
    KIND_DRAM: "dram",
    KIND_PSYS: "psys",
}

METHOD_NAMES = {0: "none", 1: "counter", 2: "integrated", 3: "model"}

BACKEND_NVML = 0
BACKEND_RAPL = 1

SYNC_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class Options(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("nvml_library", ctypes.c_char_p),
        ("sysfs_root", ctypes.c_char_p),
        ("kinds", ctypes.c_uint32),
        ("tracker_period_ns", ctypes.c_uint64),
        ("sync", SYNC_FN),
        ("sync_user", ctypes.c_void_p),
        ("settle_end", ctypes.c_int),
        ("settle_max_fraction", ctypes.c_double),
    ]


class DomainInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char * NAME_MAX),
        ("kind", ctypes.c_uint),
        ("device", ctypes.c_char * 128),
        ("uuid", ctypes.c_char * 96),
        ("bus_id", ctypes.c_char * 32),
        ("source", ctypes.c_char * MESSAGE_MAX),
        ("caps", ctypes.c_uint32),
        ("method", ctypes.c_int),
        ("simulated", ctypes.c_int),
        ("parent", ctypes.c_int),
        ("counted_in_total", ctypes.c_int),
        ("update_interval_ns", ctypes.c_uint64),
        ("resolution_j", ctypes.c_double),
        ("sensor_accuracy", ctypes.c_double),
        ("power_window_s", ctypes.c_double),
    ]


class GpuStatus(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char * 96),
        ("uuid", ctypes.c_char * 96),
        ("bus_id", ctypes.c_char * 32),
        ("driver_version", ctypes.c_char * 80),
        ("architecture", ctypes.c_char * 24),
        ("simulated", ctypes.c_int),
        ("power_w", ctypes.c_double),
        ("power_avg_w", ctypes.c_double),
        ("power_limit_w", ctypes.c_double),
        ("power_limit_enforced_w", ctypes.c_double),
        ("power_limit_default_w", ctypes.c_double),
        ("power_limit_min_w", ctypes.c_double),
        ("power_limit_max_w", ctypes.c_double),
        ("clock_sm_mhz", ctypes.c_int),
        ("clock_mem_mhz", ctypes.c_int),
        ("clock_sm_max_mhz", ctypes.c_int),
        ("pstate", ctypes.c_int),
        ("temperature_c", ctypes.c_int),
        ("utilization_gpu_pct", ctypes.c_int),
        ("clock_event_reasons", ctypes.c_uint64),
        ("memory_total_bytes", ctypes.c_uint64),
        ("memory_used_bytes", ctypes.c_uint64),
        ("energy_counter_j", ctypes.c_double),
    ]


class DomainEnergy(ctypes.Structure):
    _fields_ = [
        ("domain", ctypes.c_int),
        ("valid", ctypes.c_int),
        ("error", ctypes.c_int),
        ("method", ctypes.c_int),
        ("simulated", ctypes.c_int),
        ("energy_j", ctypes.c_double),
        ("uncertainty_j", ctypes.c_double),
        ("avg_power_w", ctypes.c_double),
        ("sim_truth_j", ctypes.c_double),
        ("message", ctypes.c_char * MESSAGE_MAX),
    ]


class CMeasurement(ctypes.Structure):
    """joules_measurement, with its domains' storage: `capacity` entries (by default
    MAX_DOMAINS, the most a monitor opens), referenced from the struct itself (ctypes keeps
    what a pointer field is given alive as long as the struct)."""

    _fields_ = [
        ("name", ctypes.c_char * NAME_MAX),
        ("begin_ns", ctypes.c_int64),
        ("end_ns", ctypes.c_int64),
        ("begin_unix_s", ctypes.c_double),
        ("duration_s", ctypes.c_double),
        ("simulated", ctypes.c_int),
        ("n_domains", ctypes.c_int),
        ("capacity", ctypes.c_int),
        ("domains", ctypes.POINTER(DomainEnergy)),
        ("total_energy_j", ctypes.c_double),
        ("total_uncertainty_j", ctypes.c_double),
    ]

    def __init__(self, *args, capacity=MAX_DOMAINS, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.domains:
            give_storage(self, capacity, clear=False)


def give_storage(c, capacity, clear=True):
    """Set up c (a CMeasurement, or a struct's embedded one such as RepeatResult.per_rep)
    as joules_measurement_init does, with room for `capacity` domains."""
    n = max(int(capacity), 0)
    if clear:
        ctypes.memset(ctypes.addressof(c), 0, ctypes.sizeof(c))
    c.domains = (DomainEnergy * max(n, 1))()
    c.capacity = n
    return c


def _layout(ctype, names):
    """A struct.Struct that unpacks the fields `names` (in offset order) of ctype from bytes,
    with the padding ctypes gives them: char arrays come out as bytes with their NULs."""
    codes = {ctypes.c_int: "i", ctypes.c_uint: "I", ctypes.c_int64: "q", ctypes.c_uint64: "Q",
             ctypes.c_double: "d", ctypes.c_uint32: "I"}
    types = dict(ctype._fields_)
    fmt, pos = "=", 0
    for name in names:
        field = getattr(ctype, name)
        if field.offset < pos:
            raise ValueError("%s.%s: fields out of order" % (ctype.__name__, name))
        fmt += "%dx" % (field.offset - pos) if field.offset > pos else ""
        t = types[name]
        fmt += "%ds" % field.size if issubclass(t, ctypes.Array) else codes[t]
        pos = field.offset + field.size
    return struct.Struct(fmt)


_HEAD_FIELDS = ("name", "begin_ns", "end_ns", "begin_unix_s", "duration_s")
_DOMAIN_FIELDS = tuple(name for name, _ in DomainEnergy._fields_)


class ResultBlock:
    """A joules_measurement and its domains' storage in one buffer (fields m and d of
    `type`), reused by one thread: ref is what joules_window_end takes, and bytes(block)
    copies the whole result out, read later with head() and domain(), without ctypes.
    valid_at(i) is the offset in those bytes of domain i's `valid` field."""

    __slots__ = ("type", "block", "ref", "d", "valid_at", "_head", "_domain", "_d0", "_dsize")

    def __init__(self, capacity):
        n = max(int(capacity), 0)

        class Block(ctypes.Structure):
            _fields_ = [("m", CMeasurement), ("d", DomainEnergy * max(n, 1))]

        self.type = Block
        self.block = Block()
        self.block.m.domains = ctypes.cast(self.block.d, ctypes.POINTER(DomainEnergy))
        self.block.m.capacity = n
        self.ref = ctypes.byref(self.block.m)
        self.d = self.block.d
        self.valid_at = ()  # the offsets the monitor checks (its domains)
        self._head = _layout(CMeasurement, _HEAD_FIELDS)  # m is at offset 0 of Block
        self._domain = _layout(DomainEnergy, _DOMAIN_FIELDS)
        self._d0 = Block.d.offset
        self._dsize = ctypes.sizeof(DomainEnergy)

    def valid_offset(self, i):
        return self._d0 + i * self._dsize + DomainEnergy.valid.offset

    def head(self, data):
        """(name, begin_ns, end_ns, begin_unix_s, duration_s) of the result in data."""
        return self._head.unpack_from(data, 0)

    def domain(self, data, i):
        """The fields of domain i in data, in DomainEnergy's order (_DOMAIN_FIELDS)."""
        return self._domain.unpack_from(data, self._d0 + i * self._dsize)


def result_block(capacity):
    return ResultBlock(capacity)


def cstr(raw):
    """A char array unpacked as bytes (with its NULs) as str, as ctypes would give it."""
    return raw.partition(b"\0")[0].decode("utf-8", "replace")


class Reading(ctypes.Structure):
    _fields_ = [
        ("domain", ctypes.c_int),
        ("valid", ctypes.c_int),
        ("error", ctypes.c_int),
        ("t_ns", ctypes.c_int64),
        ("energy_j", ctypes.c_double),
        ("power_w", ctypes.c_double),
    ]


WORK_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class RepeatOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("groups", ctypes.c_int),
        ("repetitions", ctypes.c_int),
        ("min_time_s", ctypes.c_double),
        ("settle_s", ctypes.c_double),
    ]


class RepeatResult(ctypes.Structure):
    _fields_ = [
        ("groups", ctypes.c_int),
        ("repetitions_run", ctypes.c_int),
        ("repetitions_kept", ctypes.c_int),
        ("time_per_rep_s", ctypes.c_double),
        ("per_rep", CMeasurement),
    ]


class EfficiencyResult(ctypes.Structure):
    _fields_ = [
        ("flops", ctypes.c_double),
        ("energy_j", ctypes.c_double),
        ("uncertainty_j", ctypes.c_double),
        ("n_domains", ctypes.c_int),
        ("gflop_per_j", ctypes.c_double),
        ("gflop_per_j_pm", ctypes.c_double),
        ("gpu_energy_j", ctypes.c_double),
        ("gpu_uncertainty_j", ctypes.c_double),
        ("n_gpus", ctypes.c_int),
        ("gpu_gflop_per_j", ctypes.c_double),
        ("gpu_gflop_per_j_pm", ctypes.c_double),
        ("precision", ctypes.c_int),
        ("simulated", ctypes.c_int),
        ("gpu_model", ctypes.c_char * MODEL_MAX),
        ("peak_gflop_per_j", ctypes.c_double),
        ("share_of_peak", ctypes.c_double),
        ("share_of_peak_pm", ctypes.c_double),
        ("ref_model", (ctypes.c_char * MODEL_MAX) * N_REFERENCES),
        ("ref_peak_gflop_per_j", ctypes.c_double * N_REFERENCES),
        ("ref_share", ctypes.c_double * N_REFERENCES),
        ("message", ctypes.c_char * MESSAGE_MAX),
    ]


STRUCTS = {
    "joules_options": Options,
    "joules_domain_info": DomainInfo,
    "joules_gpu_status": GpuStatus,
    "joules_domain_energy": DomainEnergy,
    "joules_measurement": CMeasurement,
    "joules_reading": Reading,
    "joules_repeat_options": RepeatOptions,
    "joules_repeat_result": RepeatResult,
    "joules_efficiency_result": EfficiencyResult,
}

_MON = ctypes.c_void_p
_PROTOTYPES = {
    "joules_version": (ctypes.c_char_p, []),
    "joules_strerror": (ctypes.c_char_p, [ctypes.c_int]),
    "joules_err_name": (ctypes.c_char_p, [ctypes.c_int]),
    "joules_method_name": (ctypes.c_char_p, [ctypes.c_int]),
    "joules_kind_name": (ctypes.c_char_p, [ctypes.c_uint]),
    "joules_options_init": (None, [ctypes.POINTER(Options)]),
    "joules_open": (ctypes.c_int, [ctypes.POINTER(_MON), ctypes.POINTER(Options),
                                   ctypes.c_char_p, ctypes.c_size_t]),
    "joules_close": (None, [_MON]),
    "joules_last_error": (ctypes.c_char_p, [_MON]),
    "joules_backend_status": (ctypes.c_int, [_MON, ctypes.c_int, ctypes.POINTER(ctypes.c_int),
                                             ctypes.c_char_p, ctypes.c_size_t]),
    "joules_domain_count": (ctypes.c_int, [_MON]),
    "joules_measurement_init": (ctypes.c_int, [ctypes.POINTER(CMeasurement),
                                               ctypes.POINTER(DomainEnergy), ctypes.c_int]),
    "joules_domain_info_get": (ctypes.c_int, [_MON, ctypes.c_int, ctypes.POINTER(DomainInfo)]),
    "joules_gpu_status_get": (ctypes.c_int, [_MON, ctypes.c_int, ctypes.POINTER(GpuStatus)]),
    "joules_read": (ctypes.c_int, [_MON, ctypes.POINTER(Reading), ctypes.c_int]),
    "joules_window_begin": (ctypes.c_int, [_MON, ctypes.c_char_p]),
    "joules_window_end": (ctypes.c_int, [_MON, ctypes.c_char_p, ctypes.POINTER(CMeasurement)]),
    "joules_window_cancel": (ctypes.c_int, [_MON, ctypes.c_char_p]),
    "joules_window_end_deferred": (ctypes.c_int, [_MON, ctypes.c_char_p,
                                                  ctypes.POINTER(ctypes.c_uint64)]),
    "joules_window_ready": (ctypes.c_int, [_MON, ctypes.c_uint64]),
    "joules_window_collect": (ctypes.c_int, [_MON, ctypes.c_uint64, ctypes.c_int64,
                                             ctypes.POINTER(CMeasurement)]),
    "joules_window_end_busy": (ctypes.c_int, [_MON, ctypes.c_char_p, ctypes.POINTER(CMeasurement),
                                              WORK_FN, ctypes.c_void_p]),
    "joules_repeat_options_init": (None, [ctypes.POINTER(RepeatOptions)]),
    "joules_repeat": (ctypes.c_int, [_MON, WORK_FN, ctypes.c_void_p,
                                     ctypes.POINTER(RepeatOptions), ctypes.POINTER(RepeatResult)]),
    "joules_efficiency": (ctypes.c_int, [_MON, ctypes.POINTER(CMeasurement), ctypes.c_double,
                                         ctypes.POINTER(EfficiencyResult)]),
    "joules_efficiency_at": (ctypes.c_int, [_MON, ctypes.POINTER(CMeasurement), ctypes.c_double,
                                            ctypes.c_int, ctypes.POINTER(EfficiencyResult)]),
    "joules_precision_parse": (ctypes.c_int, [ctypes.c_char_p]),
    "joules_precision_name": (ctypes.c_char_p, [ctypes.c_int]),
    "joules_gpu_lock_clocks": (ctypes.c_int, [_MON, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]),
    "joules_gpu_reset_clocks": (ctypes.c_int, [_MON, ctypes.c_int]),
    "joules_gpu_set_power_limit": (ctypes.c_int, [_MON, ctypes.c_int, ctypes.c_double]),
}


def text(raw):
    """A C char array or char* as str (undecodable bytes replaced)."""
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    return str(raw)


# ---- finding and loading the library ------------------------------------------------------
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# python/joules -> <repo>; the build tree is <repo>/build.
SOURCE_ROOT = os.path.dirname(os.path.dirname(PACKAGE_DIR))
BUILD_TREE_LIBRARY = os.path.join(SOURCE_ROOT, "build", "lib", "libjoules.so")
PACKAGED_NAMES = ("libjoules.so", "libjoules.so.0")


class LibraryNotFound(OSError):
    """libjoules could not be loaded from any of the places tried (see .tried)."""

    def __init__(self, tried):
        self.tried = list(tried)
        lines = ["cannot load libjoules; tried, in order:"]
        lines += ["  %s: %s" % (where, why) for where, why in self.tried]
        lines.append("Build it (cmake --build build), install it, or set JOULES_LIBRARY to "
                     "the path of libjoules.so.")
        super().__init__("\n".join(lines))


def candidates():
    """(label, path-or-name) pairs in the order they are tried."""
    out = []
    env = os.environ.get("JOULES_LIBRARY")
    if env:
        out.append(("JOULES_LIBRARY", env))
    for name in PACKAGED_NAMES:
        out.append(("next to the package", os.path.join(PACKAGE_DIR, name)))
    out.append(("build tree", BUILD_TREE_LIBRARY))
    found = ctypes.util.find_library("joules")
    if found:
        out.append(("system (find_library)", found))
    out.append(("system (dynamic loader)", "libjoules.so.0"))
    return out


def _load(path):
    lib = ctypes.CDLL(path)
    for name, (res, args) in _PROTOTYPES.items():
        fn = getattr(lib, name)  # AttributeError when it is not libjoules
        fn.restype = res
        fn.argtypes = args
    return lib


_lock = threading.Lock()
_lib = None
_lib_path = None


def load():
    """The loaded libjoules (ctypes.CDLL), loading it on first use."""
    global _lib, _lib_path
    with _lock:
        if _lib is not None:
            return _lib
        tried = []
        for label, path in candidates():
            is_path = os.sep in path
            if is_path and not os.path.exists(path):
                tried.append(("%s %s" % (label, path), "no such file"))
                continue
            try:
                lib = _load(path)
            except OSError as e:
                tried.append(("%s %s" % (label, path), str(e)))
                continue
            except AttributeError as e:
                tried.append(("%s %s" % (label, path), "not libjoules (%s)" % e))
                continue
            _lib = lib
            _lib_path = _resolve_path(lib, path)
            return _lib
        raise LibraryNotFound(tried)


def _resolve_path(lib, path):
    """The file the loader actually mapped, for locating the simulated GPU beside it."""
    if os.sep in path:
        return os.path.realpath(path)
    try:
        # dladdr on one of its functions names the file that was mapped.
        class DlInfo(ctypes.Structure):
            _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                        ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]
        libc = ctypes.CDLL(None)
        dladdr = libc.dladdr
        dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(DlInfo)]
        info = DlInfo()
        addr = ctypes.cast(lib.joules_version, ctypes.c_void_p)
        if dladdr(addr, ctypes.byref(info)) and info.dli_fname:
            return os.path.realpath(text(info.dli_fname))
    except (OSError, AttributeError):
        pass
    return path


def library_path():
    """Path of the loaded libjoules (loading it if needed)."""
    load()
    return _lib_path
