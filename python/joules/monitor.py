# SPDX-License-Identifier: MIT
"""Monitor, measurement windows and power time series over libjoules.

Zeus-compatible surface: Monitor(gpu_indices, cpu_indices, sync_execution_with),
begin_window(name), end_window(name) -> Measurement with .time, .gpu_energy (dict index -> J),
.cpu_energy, .dram_energy, .total_energy; so `from joules import Monitor as ZeusMonitor`
runs a Zeus script unchanged.
"""
import ctypes
import csv
import functools
import os
import threading
import warnings
import weakref

from . import _lib
from . import _native
from . import sampling as _sampling
from . import sim as _sim
from .errors import JoulesError, load_library
from .sync import make_sync

from .results import (_CPU_NAME, _DRAM_NAME, _GPU_NAME, _SUB_NAME, DomainEnergy, DomainInfo,
                      Efficiency, Measurement, Pending, Sample, Samples, to_csv)
from .edges import _Edges

__all__ = ["Monitor", "ZeusMonitor", "Measurement", "Pending", "DomainEnergy", "DomainInfo",
           "Efficiency", "Sample", "Samples", "to_csv"]

def _cuda_visible(domains):
    """CUDA index -> NVML index from CUDA_VISIBLE_DEVICES, or None when it is not set."""
    cvd = os.environ.get("CUDA_VISIBLE_DEVICES")
    if cvd is None:
        return None
    out = []
    for item in [x.strip() for x in cvd.split(",")]:
        if item == "":
            break
        if item.isdigit() or (item.startswith("-") and item[1:].isdigit()):
            if int(item) < 0:
                break  # CUDA stops at the first invalid index
            out.append(int(item))
            continue
        match = [d for d in domains if d.uuid and item.startswith("GPU-")
                 and d.uuid.startswith(item)]
        if len(match) != 1:
            warnings.warn("CUDA_VISIBLE_DEVICES entry %r cannot be mapped to an NVML GPU; GPU "
                          "indices are taken as NVML indices" % item, RuntimeWarning)
            return None
        out.append(int(_GPU_NAME.match(match[0].name).group(1)))
    return out


def _sim_hint():
    """How to run the same script on the simulated GPU, for the message of a machine that
    has no NVIDIA GPU."""
    try:
        path = _sim.library_path()
    except Exception:  # not built or not found: the hint names the option alone
        path = "<build>/lib/joules/libnvidia-ml.so.1"
    return (". No NVIDIA GPU here: to run on joules' simulated GPU (every figure marked "
            "SIMULATED), open the monitor with sim=True (or a profile: sim=\"a100\"), or leave "
            "the script as it is and run it with JOULES_NVML_LIBRARY=%s" % path)


class Monitor(_Edges):
    """Energy of code regions on GPUs (NVML), CPUs and DRAM (RAPL), or a simulated GPU.

    gpu_indices  GPUs to report (None: all; []: none). Indices are CUDA's: relative to
                 CUDA_VISIBLE_DEVICES when it is set (as in Zeus), else NVML's.
    cpu_indices  CPU packages to report (None: all available; []: none).
    sync_execution_with  None, "jax", "torch", "cupy" or a callable of no argument, run
                 before each window edge so that queued device work is finished.
    sim          True or a profile name ("a6000", "a100-sxm4-80gb", "h100-sxm5", ...): measure
                 the simulated GPU instead of the real ones; scenario= a scenario file,
                 sim_devices= the number of simulated GPUs.
    nvml_library, sysfs_root, tracker_period: options of joules_open (the environment's
                 JOULES_NVML_LIBRARY and JOULES_SYSFS_ROOT when not given).
    settle_end   True: end_window waits for the next energy-counter step (up to ~100 ms) so
                 both edges rest on exact counter values; for long windows, not tight loops.
    approx_instant_energy, log_file: accepted for Zeus compatibility; log_file appends one
                 CSV line per window (start_time,window_name,elapsed_time,gpuN_energy...).
    """

    def __init__(self, gpu_indices=None, cpu_indices=None, sync_execution_with=None, sim=None,
                 scenario=None, sim_devices=None, nvml_library=None, sysfs_root=None,
                 tracker_period=None, settle_end=False, approx_instant_energy=False,
                 log_file=None):
        self._handle = None
        self._fast = None  # the State of the edges in C (_native), None on the ctypes path
        self._handle_lock = threading.RLock()  # close() against a Pending's __del__
        self._ref = weakref.ref(self)  # what a Measurement keeps of its monitor
        # Window name -> True while open, False once ended (for the messages of a window
        # ended twice or never begun), the most recently ended last. Single dict operations,
        # atomic under the GIL: no lock on the path of every window.
        self._windows = {}
        self._encoded = {}  # window name -> its UTF-8 bytes, for the names used most
        self._scratch_tls = threading.local()
        self.last_measurement = None
        self.log_file = log_file
        self._sim_obj = None
        self.approx_instant_energy = approx_instant_energy
        lib = self._lib = load_library()

        if gpu_indices is not None:
            gpu_indices = [int(i) for i in gpu_indices]
        if cpu_indices is not None:
            cpu_indices = [int(i) for i in cpu_indices]
        kinds = 0
        if gpu_indices is None or gpu_indices:
            kinds |= _lib.KIND_GPU
        if cpu_indices is None or cpu_indices:
            kinds |= _lib.KINDS_CPU
        if not kinds:
            raise JoulesError(_lib.E_INVALID, "gpu_indices and cpu_indices are both empty: "
                              "nothing to measure")
        if scenario is not None and not sim:
            sim = True
        self.sim_library = None
        env_set = {}
        if sim:
            self.sim_library = _sim.library_path()
            profile = sim if isinstance(sim, str) else None
            if scenario is not None and not os.path.isfile(scenario):
                raise JoulesError(-10, "scenario file %s does not exist" % scenario)
            env_set = _sim.prepare(self.sim_library, profile, scenario, sim_devices)
            nvml_library = self.sim_library
        elif nvml_library is None:
            nvml_library = os.environ.get("JOULES_NVML_LIBRARY") or None
        if sysfs_root is None:
            sysfs_root = os.environ.get("JOULES_SYSFS_ROOT") or None

        opts = _lib.Options()
        lib.joules_options_init(ctypes.byref(opts))
        self._keep = []  # the C library copies strings, but keep them for the call anyway
        if nvml_library:
            b = os.fsencode(nvml_library)
            self._keep.append(b)
            opts.nvml_library = b
        if sysfs_root:
            b = os.fsencode(sysfs_root)
            self._keep.append(b)
            opts.sysfs_root = b
        opts.kinds = kinds
        if tracker_period:
            opts.tracker_period_ns = int(tracker_period * 1e9)
        opts.settle_end = 1 if settle_end else 0

        handle = ctypes.c_void_p()
        err = ctypes.create_string_buffer(_lib.MESSAGE_MAX)
        saved = {k: os.environ.get(k) for k in env_set}
        os.environ.update(env_set)
        try:
            rc = lib.joules_open(ctypes.byref(handle), ctypes.byref(opts), err, len(err))
        finally:
            for k, v in saved.items():  # the simulator read them at its first init
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        if rc != 0:
            raise JoulesError(rc, "cannot open the monitor: %s" % (_lib.text(err.value) or
                                                                    _lib.text(lib.joules_strerror(rc))))
        self._handle = handle

        try:
            self._setup_domains(gpu_indices, cpu_indices, bool(sim))
        except Exception:
            self.close()
            raise
        if sim:  # the simulator's first init succeeded with this configuration
            _sim.configured(self.sim_library, profile, scenario, sim_devices)
        self._sync = make_sync(sync_execution_with, lambda: list(self.gpu_indices))
        self.sync_execution_with = sync_execution_with
        self._fast = _native.state(self, _Edges)

    # ---- domains --------------------------------------------------------------------------
    def _setup_domains(self, gpu_indices, cpu_indices, sim):
        lib = self._lib
        n = lib.joules_domain_count(self._handle)
        self._n_results = max(n, 0)  # every result has room for each domain of the monitor
        infos = []
        for i in range(max(n, 0)):
            c = _lib.DomainInfo()
            self._check(lib.joules_domain_info_get(self._handle, i, ctypes.byref(c)))
            infos.append(DomainInfo(i, c))
        self.all_domains = infos
        gpus = [d for d in infos if d.kind == "gpu"]
        if sim and not any(d.simulated for d in gpus) and (gpu_indices is None or gpu_indices):
            raise JoulesError(_lib.E_NO_DOMAIN, "the simulated GPU did not start: %s"
                              % self.backend_status()["nvml"]["message"])
        # GPU keys: CUDA indices (CUDA_VISIBLE_DEVICES, as Zeus) for real GPUs.
        visible = None if sim else _cuda_visible(gpus)
        nvml_of = {}
        for d in gpus:
            nvml_index = int(_GPU_NAME.match(d.name).group(1)) if _GPU_NAME.match(d.name) else None
            nvml_of[d.name] = nvml_index
        by_key = {}
        for d in gpus:
            ni = nvml_of[d.name]
            if visible is None:
                d.key = ni
            elif ni in visible:
                d.key = visible.index(ni)
            else:
                continue
            by_key[d.key] = d
        if gpu_indices is None:
            chosen_gpus = [by_key[k] for k in sorted(by_key)]
        else:
            chosen_gpus = []
            for k in gpu_indices:
                if k not in by_key:
                    raise JoulesError(-10, "GPU index %d is not available: %s" % (
                        k, ("the monitor has GPU %s" % ", ".join(str(x) for x in sorted(by_key)))
                        if by_key else "no GPU (%s)%s" % (self.backend_status()["nvml"]["message"],
                                                          "" if sim else _sim_hint())))
                chosen_gpus.append(by_key[k])
        self.gpu_indices = [d.key for d in chosen_gpus]

        cpus = []
        packages = set()
        for d in infos:
            if d.kind == "gpu":
                continue
            m = _CPU_NAME.match(d.name) or _DRAM_NAME.match(d.name) or _SUB_NAME.match(d.name)
            d.key = int(m.group(1)) if m else None
            if d.kind == "cpu-package" and d.key is not None:
                packages.add(d.key)
            if cpu_indices is None or (d.key is not None and d.key in cpu_indices):
                cpus.append(d)
        if cpu_indices:
            missing = [k for k in cpu_indices if k not in packages]
            if missing:
                raise JoulesError(-10, "CPU package %s not available: %s" % (
                    ", ".join(map(str, missing)),
                    ("the monitor has package %s" % ", ".join(map(str, sorted(packages))))
                    if packages else "no RAPL package (%s)"
                    % self.backend_status()["rapl"]["message"]))
        self.cpu_indices = sorted(packages) if cpu_indices is None else list(cpu_indices)
        self.domains = chosen_gpus + cpus
        self._domain_index = [d.index for d in self.domains]
        if not self.domains:
            st = self.backend_status()
            raise JoulesError(_lib.E_NO_DOMAIN, "nothing to measure: NVML: %s; RAPL: %s%s"
                              % (st["nvml"]["message"], st["rapl"]["message"],
                                 "" if sim else _sim_hint()))

    def backend_status(self):
        """{"nvml"|"rapl": {"code", "name", "message"}}: why a backend is (not) there."""
        out = {}
        for bid, bname in ((_lib.BACKEND_NVML, "nvml"), (_lib.BACKEND_RAPL, "rapl")):
            code = ctypes.c_int()
            msg = ctypes.create_string_buffer(_lib.MESSAGE_MAX)
            self._lib.joules_backend_status(self._need(), bid, ctypes.byref(code), msg, len(msg))
            out[bname] = {"code": code.value, "name": _lib.ERROR_NAMES.get(code.value),
                          "message": _lib.text(msg.value)}
        return out

    def gpu_status(self, gpu_index=0):
        """Live state of a reported GPU (joules_gpu_status) as a dict."""
        d = self._gpu_domain(gpu_index)
        st = _lib.GpuStatus()
        self._check(self._lib.joules_gpu_status_get(self._need(), d.index, ctypes.byref(st)))
        return {name: (_lib.text(getattr(st, name)) if isinstance(getattr(st, name), bytes)
                       else getattr(st, name)) for name, _ in st._fields_}

    def _gpu_domain(self, gpu_index):
        for d in self.domains:
            if d.kind == "gpu" and d.key == gpu_index:
                return d
        raise JoulesError(-10, "GPU index %r is not measured by this monitor (it has %s)"
                          % (gpu_index, self.gpu_indices))

    @property
    def simulated(self):
        return any(d.simulated for d in self.domains)

    @property
    def simulator(self):
        """The simulated GPU's extension entry points (joules.sim.Simulator), sim only."""
        if not self.sim_library:
            raise JoulesError(_lib.E_STATE, "this monitor does not measure the simulated GPU "
                              "(open it with sim=...)")
        if self._sim_obj is None:
            self._sim_obj = _sim.Simulator(self.sim_library)
        return self._sim_obj

    # ---- plumbing -------------------------------------------------------------------------
    def _new_result(self):
        return _lib.CMeasurement(capacity=getattr(self, "_n_results", 0))

    def _need(self):
        if self._handle is None:
            raise JoulesError(_lib.E_STATE, "the monitor is closed")
        return self._handle

    def _check(self, rc, extra=None):
        if rc < 0:
            msg = _lib.text(self._lib.joules_last_error(self._handle)) if self._handle else ""
            if extra:
                msg = "%s (%s)" % (msg, extra) if msg else extra
            raise JoulesError(rc, msg or None)
        return rc

    def close(self):
        """Stop the tracker and release every backend; the monitor is unusable afterwards."""
        if self._sim_obj is not None:
            self._sim_obj.close()
            self._sim_obj = None
        with self._handle_lock:
            h, self._handle = self._handle, None
        if h is not None:
            self._lib.joules_close(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        if self._handle is None:
            return "Monitor(closed)"
        return "Monitor(%s%s)" % (", ".join(d.name for d in self.domains),
                                  ", SIMULATED" if self.simulated else "")

    def sync(self):
        """Run the synchronisation (sync_execution_with) now."""
        if self._sync is not None:
            self._sync()

    # ---- windows: edges in edges.py (_Edges) ---------------------------------------------
    def repeat(self, fn, groups=4, min_time=2.0, repetitions=0, settle=0.0):
        """Energy of ONE call of fn, from many calls in phase-shifted groups.

        Power sensors of A100/H100 see 25 ms of every 100 ms and counters step every ~100 ms:
        a short step cannot be measured once. fn is called once to time it, then in `groups`
        groups started at shifted phases of the update period; the first `settle` seconds of
        each group (default: one period) are run but not measured; at least `min_time`
        seconds (or `repetitions` calls) are measured in all. fn should synchronise its own
        asynchronous work (or the monitor's sync_execution_with does it after each call).
        Returns a Measurement whose energies are per call, with .repetitions_kept,
        .repetitions_run and .groups set. Exceptions raised by fn propagate.
        """
        if not callable(fn):
            raise JoulesError(_lib.E_INVALID, "repeat needs a callable")
        h = self._need()
        failure = []

        def work(_user):
            try:
                fn()
                self.sync()
                return 0
            except BaseException as exc:
                failure.append(exc)
                return 1

        opts = _lib.RepeatOptions()
        self._lib.joules_repeat_options_init(ctypes.byref(opts))
        opts.groups = int(groups)
        opts.repetitions = int(repetitions)
        opts.min_time_s = float(min_time)
        opts.settle_s = float(settle)
        res = _lib.RepeatResult()
        _lib.give_storage(res.per_rep, self._n_results)
        cb = _lib.WORK_FN(work)
        rc = self._lib.joules_repeat(h, cb, None, ctypes.byref(opts), ctypes.byref(res))
        if failure:
            raise failure[0]
        self._check(rc)
        m = Measurement("repeat", self._ref)
        m._fill(res.per_rep, self.domains)
        m.groups = res.groups
        m.repetitions_run = res.repetitions_run
        m.repetitions_kept = res.repetitions_kept
        self.last_measurement = m
        return m

    def _log(self, m):
        new = not os.path.exists(self.log_file) or os.path.getsize(self.log_file) == 0
        with open(self.log_file, "a", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            keys = sorted(m.gpu_energy)
            if new:
                w.writerow(["start_time", "window_name", "elapsed_time"]
                           + ["gpu%d_energy" % k for k in keys])
            w.writerow([m.begin_time, m.name, m.time] + [m.gpu_energy[k] for k in keys])

    def window(self, name, sync_execution=True, deferred=False):
        """`with monitor.window("step") as m:` -- m is filled when the block exits.

        deferred=True: m is a Pending, ended without waiting when the block exits; m.result()
        gives the Measurement afterwards (see end_window). Also a decorator:
        @monitor.window("step") measures each call (see measure)."""
        return self._window_type(self, name, sync_execution, deferred)

    def measure(self, name=None, sync_execution=True, on_result=None, deferred=False):
        """Decorator: measure each call of the function in a window.

        The window is named name (default: the function's qualified name); each Measurement
        goes to on_result(m) if given, to monitor.last_measurement and to the wrapper's
        .measurements list (the last 1000). deferred=True: each call's window ends without
        waiting and a Pending goes there instead (its .result() is the Measurement).
        Recursive or concurrent calls of one decorated function would reuse an open window
        name and raise JoulesError(JOULES_E_STATE).
        """
        if callable(name) and on_result is None and not isinstance(name, str):
            return self.measure()(name)  # used bare: @monitor.measure

        def deco(fn):
            wname = name or getattr(fn, "__qualname__", getattr(fn, "__name__", "function"))
            if self._measured_type is not None:  # the wrapper below in C, with no frame
                wrapper = functools.update_wrapper(self._measured_type(
                    self, wname, sync_execution, deferred, on_result, fn), fn)
                wrapper.measurements = []
                return wrapper

            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                # frames=1: a warning names the caller of the decorated function.
                with self._window_type(self, wname, sync_execution, deferred, 1) as m:
                    result = fn(*args, **kwargs)
                kept = wrapper.measurements
                kept.append(m)
                if len(kept) > 1000:
                    del kept[:-1000]
                if on_result is not None:
                    on_result(m)
                return result
            wrapper.measurements = []
            return wrapper
        return deco

    # ---- readings and time series ---------------------------------------------------------
    def read(self):
        """{domain name: (t_ns, cumulative J since open, W or None)} now (joules_read)."""
        return _sampling.read_all(self, (_lib.Reading * _lib.MAX_DOMAINS)())[0]

    def sample(self, interval=0.1, duration=None, count=None):
        """Yield a Sample every interval seconds (absolute deadlines: no drift), until
        duration seconds have passed or count samples were taken (forever if neither).

        The first sample is taken at once; a late tick is skipped, never bunched."""
        return _sampling.sample(self, interval, duration, count)

    def record(self, interval=0.1, duration=1.0, count=None):
        """sample() collected into a Samples list (with .to_csv)."""
        return Samples(self.sample(interval, duration, count))

    # ---- GPU control ----------------------------------------------------------------------
    def lock_clocks(self, gpu_index, min_mhz, max_mhz):
        d = self._gpu_domain(gpu_index)
        self._check(self._lib.joules_gpu_lock_clocks(self._need(), d.index, int(min_mhz),
                                                     int(max_mhz)))

    def reset_clocks(self, gpu_index):
        d = self._gpu_domain(gpu_index)
        self._check(self._lib.joules_gpu_reset_clocks(self._need(), d.index))

    def set_power_limit(self, gpu_index, watts):
        d = self._gpu_domain(gpu_index)
        self._check(self._lib.joules_gpu_set_power_limit(self._need(), d.index, float(watts)))


ZeusMonitor = Monitor
