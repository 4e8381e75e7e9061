# SPDX-License-Identifier: MIT
"""The simulated GPU (libnvidia-ml.so.1 built from src/sim) seen from Python.

The binding loads the simulated library itself, once per process and path, before libjoules
opens it: both then share one model (the dynamic loader returns the same object for the same
file), so the extension entry points below (src/abi/jsim.h) act on the GPU being measured.
"""
import ctypes
import os
import re
import threading

from . import _lib
from .errors import JoulesError

NVML_SUCCESS = 0
_NVML_TO_JOULES = {1: -9, 2: -1, 3: -6, 4: -5, 6: -10, 7: -14, 9: -4, 12: -4, 13: -4,
                   15: -7, 17: -8, 19: -9, 25: -1}

PRECISIONS = {"fp32": 0, "tf32": 1, "fp16": 2, "bf16": 3, "fp64": 4}
FLAG_VIRTUAL_TIME = 1


def _version(struct):
    return ctypes.sizeof(struct) | (1 << 24)


class State(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint), ("pstate", ctypes.c_int),
        ("t_ns", ctypes.c_longlong), ("start_ns", ctypes.c_longlong),
        ("power_w", ctypes.c_double), ("p_board_w", ctypes.c_double),
        ("p_mem_w", ctypes.c_double), ("p_leak_w", ctypes.c_double),
        ("p_dyn_w", ctypes.c_double), ("temperature_c", ctypes.c_double),
        ("clock_mhz", ctypes.c_double), ("voltage_v", ctypes.c_double),
        ("util", ctypes.c_double), ("alpha", ctypes.c_double),
        ("energy_j", ctypes.c_double), ("power_limit_w", ctypes.c_double),
        ("reasons", ctypes.c_ulonglong), ("lost", ctypes.c_int),
        ("kernel_active", ctypes.c_int),
    ]


class Kernel(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint), ("precision", ctypes.c_int),
        ("flops", ctypes.c_double), ("bytes", ctypes.c_double),
        ("alpha", ctypes.c_double), ("toggle", ctypes.c_double),
        ("efficiency", ctypes.c_double),
    ]


class KernelResult(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint), ("time_s", ctypes.c_double),
        ("energy_j", ctypes.c_double), ("avg_power_w", ctypes.c_double),
        ("avg_clock_mhz", ctypes.c_double), ("flops_per_s", ctypes.c_double),
        ("alpha", ctypes.c_double), ("reasons", ctypes.c_ulonglong),
    ]


def _as_dict(struct):
    return {name: getattr(struct, name) for name, _ in struct._fields_ if name != "version"}


# ---- locating and loading -----------------------------------------------------------------
def library_path():
    """The simulated GPU library: JOULES_SIM_LIBRARY, else <dir of libjoules>/joules/."""
    env = os.environ.get("JOULES_SIM_LIBRARY")
    if env:
        tried = [env]
        if os.path.exists(env):
            return os.path.abspath(env)
    else:
        tried = []
        lj = _lib.library_path()
        dirs = [os.path.dirname(os.path.abspath(lj)), os.path.dirname(os.path.realpath(lj))]
        for d in dict.fromkeys(dirs):
            p = os.path.join(d, "joules", "libnvidia-ml.so.1")
            tried.append(p)
            if os.path.exists(p):
                return p
    raise JoulesError(_lib.E_LIBRARY, "the simulated GPU library is missing; tried: %s. It is "
                      "built with joules (target joules_sim) into <libdir>/joules/; "
                      "JOULES_SIM_LIBRARY may name it" % ", ".join(tried))


_libs = {}          # path -> ctypes.CDLL, kept for the life of the process
_configured = {}    # path -> configuration applied by this process (dict)
_lock = threading.RLock()


def _load(path):
    with _lock:
        lib = _libs.get(path)
        if lib is None:
            try:
                lib = ctypes.CDLL(path)
            except OSError as e:
                raise JoulesError(_lib.E_LIBRARY, "cannot load the simulated GPU %s: %s"
                                  % (path, e)) from None
            if not hasattr(lib, "jsimIsSimulated"):
                raise JoulesError(_lib.E_LIBRARY, "%s is not the simulated GPU (no "
                                  "jsimIsSimulated)" % path)
            _libs[path] = lib
        return lib


def _sym(lib, name, restype, argtypes):
    fn = getattr(lib, name, None)
    if fn is None:
        return None
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


def _last_error(lib):
    fn = _sym(lib, "jsimLastError", ctypes.c_int, [ctypes.c_char_p, ctypes.c_uint])
    if fn is None:
        return ""
    buf = ctypes.create_string_buffer(512)
    return _lib.text(buf.value) if fn(buf, len(buf)) == 0 else ""


def _check(lib, what, r):
    if r != NVML_SUCCESS:
        detail = _last_error(lib)
        raise JoulesError(_NVML_TO_JOULES.get(r, -12), "%s: NVML error %d%s"
                          % (what, r, (" (%s)" % detail) if detail else ""))


def _strip_directive(text, name):
    return "\n".join(l for l in text.splitlines()
                     if not re.match(r"\s*%s(\s|$)" % re.escape(name), l))


def prepare(path, profile=None, scenario=None, devices=None):
    """Make the simulated GPU at path run the asked configuration before libjoules opens it.

    Returns the environment changes to make around joules_open (undone by the caller): on
    the first use in this process the simulator reads JOULES_SIM_* at its first nvmlInit.
    Later, the model is alive already: a scenario restarts it at time 0 (and a different
    profile or device count rebuilds it) through jsimReconfigure.
    """
    lib = _load(path)
    want = {"profile": profile, "scenario": scenario, "devices": devices}
    with _lock:
        if path not in _configured:
            env = {}
            if profile:
                env["JOULES_SIM_PROFILE"] = str(profile)
            if scenario:
                env["JOULES_SIM_SCENARIO"] = os.path.abspath(scenario)
            if devices:
                env["JOULES_SIM_DEVICES"] = str(int(devices))
            return env  # recorded by configured() once an init succeeded
        have = _configured[path]
        if not scenario and all(want[k] in (None, have[k]) for k in ("profile", "devices")):
            return {}  # keep the running model
        rec = _sym(lib, "jsimReconfigure", ctypes.c_int, [ctypes.c_char_p, ctypes.c_uint])
        if rec is None:
            raise JoulesError(_lib.E_STATE, "the simulated GPU already runs %r in this process "
                              "and this simulator has no jsimReconfigure to change it to %r; "
                              "use one configuration per process" % (have, want))
        body = ""
        if scenario:
            with open(scenario, "r", encoding="utf-8") as f:
                body = f.read()
        head = []
        prof = profile or os.environ.get("JOULES_SIM_PROFILE")
        if prof:
            body = _strip_directive(body, "profile")
            head.append("profile %s" % prof)
        if devices:
            body = _strip_directive(body, "devices")
            head.append("devices %d" % int(devices))
        text = "\n".join(head + [body]) + "\n"
        init = _sym(lib, "nvmlInit_v2", ctypes.c_int, [])
        shutdown = _sym(lib, "nvmlShutdown", ctypes.c_int, [])
        _check(lib, "nvmlInit_v2", init())
        try:
            r = rec(text.encode(), 0)
            if r != NVML_SUCCESS:
                detail = _last_error(lib)
                raise JoulesError(-13, "the simulated GPU rejected the scenario%s: %s"
                                  % ((" " + scenario) if scenario else "", detail or
                                     "NVML error %d" % r))
        finally:
            shutdown()
        _configured[path] = {"profile": prof, "scenario": scenario,
                             "devices": devices or have.get("devices")}
        return {}


def configured(path, profile=None, scenario=None, devices=None):
    """Record that the simulator at path runs this configuration (after a successful open)."""
    with _lock:
        if path not in _configured:
            _configured[path] = {"profile": profile, "scenario": scenario, "devices": devices}


class Simulator:
    """Extension entry points of the simulated GPU (jsim*), on the model being measured.

    Entry points the library does not export raise JoulesError(JOULES_E_NOT_SUPPORTED).
    """

    def __init__(self, path=None):
        self.path = path or library_path()
        self._lib = _load(self.path)
        init = _sym(self._lib, "nvmlInit_v2", ctypes.c_int, [])
        _check(self._lib, "nvmlInit_v2", init())
        self._open = True
        self._handle_fn = _sym(self._lib, "nvmlDeviceGetHandleByIndex_v2", ctypes.c_int,
                               [ctypes.c_uint, ctypes.POINTER(ctypes.c_void_p)])

    def close(self):
        if self._open:
            self._open = False
            _sym(self._lib, "nvmlShutdown", ctypes.c_int, [])()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def has(self, name):
        """Whether the library exports jsim<name> (e.g. has("RunKernel"))."""
        return hasattr(self._lib, name if name.startswith("jsim") else "jsim" + name)

    def _fn(self, name, restype, argtypes):
        fn = _sym(self._lib, name, restype, argtypes)
        if fn is None:
            raise JoulesError(-6, "the simulated GPU %s does not export %s (an older "
                              "simulator; see src/abi/jsim.h)" % (self.path, name))
        return fn

    def handle(self, device=0):
        h = ctypes.c_void_p()
        _check(self._lib, "nvmlDeviceGetHandleByIndex_v2", self._handle_fn(device, ctypes.byref(h)))
        return h

    def true_energy(self, device=0, t_ns=None):
        """True energy (J) since the first init, up to monotonic time t_ns (default: now)."""
        if t_ns is None:
            t_ns = self.now_ns()
        fn = self._fn("jsimGetTrueEnergy", ctypes.c_int,
                      [ctypes.c_void_p, ctypes.c_longlong, ctypes.POINTER(ctypes.c_double)])
        out = ctypes.c_double()
        _check(self._lib, "jsimGetTrueEnergy", fn(self.handle(device), t_ns, ctypes.byref(out)))
        return out.value

    def true_power(self, device=0):
        fn = self._fn("jsimGetTruePower", ctypes.c_int,
                      [ctypes.c_void_p, ctypes.POINTER(ctypes.c_double)])
        out = ctypes.c_double()
        _check(self._lib, "jsimGetTruePower", fn(self.handle(device), ctypes.byref(out)))
        return out.value

    def now_ns(self):
        fn = _sym(self._lib, "jsimNow", ctypes.c_int, [ctypes.POINTER(ctypes.c_longlong)])
        if fn is None:
            return time_monotonic_ns()
        out = ctypes.c_longlong()
        _check(self._lib, "jsimNow", fn(ctypes.byref(out)))
        return out.value

    def state(self, device=0):
        fn = self._fn("jsimGetState", ctypes.c_int, [ctypes.c_void_p, ctypes.POINTER(State)])
        st = State(version=_version(State))
        _check(self._lib, "jsimGetState", fn(self.handle(device), ctypes.byref(st)))
        return _as_dict(st)

    def run_kernel(self, device=0, flops=0.0, bytes=0.0, precision="fp32", alpha=None,
                   toggle=None, efficiency=0.0):
        """Run a kernel on the simulated GPU and wait for it; returns its true figures."""
        fn = self._fn("jsimRunKernel", ctypes.c_int,
                      [ctypes.c_void_p, ctypes.POINTER(Kernel), ctypes.POINTER(KernelResult)])
        k = Kernel(version=_version(Kernel), precision=_precision(precision),
                   flops=float(flops), bytes=float(bytes),
                   alpha=-1.0 if alpha is None else float(alpha),
                   toggle=0.0 if toggle is None else float(toggle),
                   efficiency=float(efficiency))
        res = KernelResult(version=_version(KernelResult))
        _check(self._lib, "jsimRunKernel", fn(self.handle(device), ctypes.byref(k),
                                              ctypes.byref(res)))
        return _as_dict(res)

    def toggle_rate(self, values, precision="fp32"):
        """Bit-toggle rate of an operand stream (array('f'/'d'), a buffer, or numbers)."""
        fn = self._fn("jsimToggleRate", ctypes.c_int,
                      [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                       ctypes.POINTER(ctypes.c_double)])
        prec = _precision(precision)
        ctype = ctypes.c_double if prec == PRECISIONS["fp64"] else ctypes.c_float
        try:
            mv = memoryview(values).cast("B")
            count = mv.nbytes // ctypes.sizeof(ctype)
            buf = (ctypes.c_char * mv.nbytes).from_buffer_copy(mv)
        except TypeError:
            seq = list(values)
            count = len(seq)
            buf = (ctype * count)(*seq)
        out = ctypes.c_double()
        _check(self._lib, "jsimToggleRate", fn(ctypes.cast(buf, ctypes.c_void_p), count, prec,
                                               ctypes.byref(out)))
        return out.value

    def alpha_from_toggle(self, toggle, device=0):
        fn = self._fn("jsimAlphaFromToggle", ctypes.c_int,
                      [ctypes.c_void_p, ctypes.c_double, ctypes.POINTER(ctypes.c_double)])
        out = ctypes.c_double()
        _check(self._lib, "jsimAlphaFromToggle", fn(self.handle(device), toggle,
                                                    ctypes.byref(out)))
        return out.value

    def reconfigure(self, scenario_text, virtual_time=False):
        fn = self._fn("jsimReconfigure", ctypes.c_int, [ctypes.c_char_p, ctypes.c_uint])
        _check(self._lib, "jsimReconfigure",
               fn(scenario_text.encode(), FLAG_VIRTUAL_TIME if virtual_time else 0))

    def advance(self, seconds):
        fn = self._fn("jsimAdvance", ctypes.c_int, [ctypes.c_double])
        _check(self._lib, "jsimAdvance", fn(float(seconds)))


def time_monotonic_ns():
    import time
    return time.monotonic_ns()


def _precision(p):
    if isinstance(p, int):
        return p
    try:
        return PRECISIONS[str(p).lower()]
    except KeyError:
        raise JoulesError(_lib.E_INVALID, "precision %r: expected one of %s"
                          % (p, ", ".join(PRECISIONS))) from None
