# SPDX-License-Identifier: MIT
"""What a window or a reading gives back: Measurement (Zeus's fields and ours), Pending (a
deferred end), Efficiency (GFLOP per joule of a window), DomainInfo, DomainEnergy, Sample and
Samples, and to_csv for a time series."""
import csv
import ctypes
import math
import os
import re
import threading
import warnings

from . import _lib
from .errors import JoulesError

_CPU_NAME = re.compile(r"^cpu(\d+)(?:\.die(\d+))?$")
_DRAM_NAME = re.compile(r"^dram(\d+)(?:\.die(\d+))?$")
_SUB_NAME = re.compile(r"^cpu(\d+)(?:\.die\d+)?\.(core|uncore)$")
_GPU_NAME = re.compile(r"^gpu(\d+)$")


class DomainInfo:
    """Static description of one domain (joules_domain_info)."""

    __slots__ = ("index", "name", "kind", "device", "uuid", "bus_id", "source", "caps",
                 "method", "simulated", "parent", "counted_in_total", "update_interval",
                 "resolution", "sensor_accuracy", "power_window", "key")

    def __init__(self, index, c):
        self.index = index  # position among the monitor's domains (C index)
        self.name = _lib.text(c.name)
        self.kind = _lib.KIND_NAMES.get(c.kind, str(c.kind))
        self.device = _lib.text(c.device)
        self.uuid = _lib.text(c.uuid)
        self.bus_id = _lib.text(c.bus_id)
        self.source = _lib.text(c.source)
        self.caps = c.caps
        self.method = _lib.METHOD_NAMES.get(c.method, str(c.method))
        self.simulated = bool(c.simulated)
        self.parent = c.parent
        self.counted_in_total = bool(c.counted_in_total)
        self.update_interval = c.update_interval_ns * 1e-9
        self.resolution = c.resolution_j
        self.sensor_accuracy = c.sensor_accuracy
        self.power_window = c.power_window_s  # seconds each power reading averages, 0: none
        self.key = None  # the index Zeus users see (GPU index, CPU package), None otherwise

    def __repr__(self):
        return "DomainInfo(%s, %s, %r%s)" % (self.name, self.kind, self.device,
                                             ", simulated" if self.simulated else "")


class DomainEnergy:
    """Energy of one domain over a window."""

    __slots__ = ("name", "kind", "key", "energy", "uncertainty", "method", "valid", "error",
                 "error_name", "message", "simulated", "simulator_true_energy", "avg_power")

    def __init__(self, info, c):
        self._set(info, c.valid, c.error, c.method, c.simulated, c.energy_j, c.uncertainty_j,
                  c.avg_power_w, c.sim_truth_j, _lib.text(c.message))

    @classmethod
    def _from_values(cls, info, v):
        """From the fields unpacked by _lib.ResultBlock.domain (DomainEnergy's order)."""
        de = cls.__new__(cls)
        de._set(info, v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], _lib.cstr(v[9]))
        return de

    def _set(self, info, valid, error, method, simulated, energy_j, uncertainty_j,
             avg_power_w, sim_truth_j, message):
        self.name = info.name
        self.kind = info.kind
        self.key = info.key
        self.valid = valid = bool(valid)
        self.error = error
        self.error_name = _lib.ERROR_NAMES.get(error) if error else None
        self.message = message
        self.method = _lib.METHOD_NAMES.get(method, str(method))
        self.simulated = simulated = bool(simulated)
        self.energy = energy_j if valid else math.nan
        self.uncertainty = uncertainty_j if valid else math.nan
        self.avg_power = avg_power_w if valid else math.nan
        # Never a measurement: the simulator's own truth, for validating the method.
        self.simulator_true_energy = sim_truth_j if simulated and sim_truth_j >= 0 else None

    def __repr__(self):
        if not self.valid:
            return "DomainEnergy(%s: invalid, %s)" % (self.name, self.message)
        return "DomainEnergy(%s: %.4f +/- %.4f J, %s%s)" % (
            self.name, self.energy, self.uncertainty, self.method,
            ", simulated" if self.simulated else "")


class Measurement:
    """The result of a window; Zeus's fields keep their meaning.

    time           seconds between the edges
    gpu_energy     {GPU index: J}
    cpu_energy     {CPU package: J} or None when no CPU package is measured
    dram_energy    {CPU package: J} or None when no DRAM domain is measured
    total_energy   J, sum of the disjoint reported domains (GPUs, packages, DRAM)
    Ours: domains ({name: DomainEnergy}), gpu_uncertainty / cpu_uncertainty /
    dram_uncertainty / total_uncertainty (+/- J, about 95 %), method ({name: str}),
    simulated, simulator_true_energy ({GPU index: J}, simulated GPUs only).
    A domain that could not be measured has NaN energy and .domains[name].message says why.
    """

    # Filled from the C result on first access (_fill_later): converting it is most of what
    # a window costs in Python, and a loop of windows often reads one field or none.
    _FIELDS = frozenset(("time", "begin_ns", "end_ns", "begin_time", "gpu_energy", "cpu_energy",
                         "dram_energy", "gpu_uncertainty", "cpu_uncertainty", "dram_uncertainty",
                         "total_energy", "total_uncertainty", "domains", "method",
                         "simulator_true_energy", "simulated"))

    def __init__(self, name=None, monitor_ref=None):
        self.name = name
        self.filled = False
        self.cancelled = False
        self._monitor_ref = monitor_ref  # weakref.ref of the Monitor, for efficiency()

    def efficiency(self, flops, precision=None):
        """GFLOP per joule of this window for `flops` FLOPs run in it (joules_efficiency_at),
        with its +/- (about 95 %): an Efficiency. Uses the GPUs' energy when a GPU was
        measured, the total otherwise; .energy says which. With a precision ("fp64", "fp32",
        "tf32", "fp16", "bf16", "fp8", "int8") it is placed against the shipped hardware
        table: the share of this GPU's peak FLOP per joule and the reference generations'
        peaks. For a repeat() result, give the FLOPs of one repetition. JoulesError for a
        count that is negative or not a number, an unknown precision, a window with no valid
        energy, or a hardware table that is missing or malformed."""
        monitor = self._monitor_ref() if self._monitor_ref is not None else None
        if monitor is None:
            raise JoulesError(_lib.E_STATE, "window %r: its monitor is gone; use "
                              "Monitor.efficiency(measurement, flops)" % self.name)
        return monitor.efficiency(self, flops, precision)

    def __getattr__(self, attr):
        # Only called for an attribute not set yet: a field still in its C form, or one of
        # an unfilled Measurement (its empty value).
        if attr not in Measurement._FIELDS:
            raise AttributeError("%r object has no attribute %r" % (type(self).__name__, attr))
        self._materialize()
        return self.__dict__[attr]

    def _defaults(self):
        d = self.__dict__
        if "domains" in d:  # set together with all the others
            return
        fresh = {"time": None, "begin_ns": None, "end_ns": None, "begin_time": None,
                 "cpu_energy": None, "dram_energy": None, "cpu_uncertainty": None,
                 "dram_uncertainty": None, "total_energy": None, "total_uncertainty": None,
                 "gpu_energy": {}, "gpu_uncertainty": {}, "domains": {}, "method": {},
                 "simulator_true_energy": {}, "simulated": False}
        fresh.update(d)  # what was set already (a cancelled window's zeros) stays
        d.update(fresh)

    def _materialize(self):
        raw = self.__dict__.pop("_raw", None)
        if raw is None:
            self._defaults()
            return
        data, block, infos = raw
        name, begin_ns, end_ns, begin_unix_s, duration_s = block.head(data)
        self._set_fields(_lib.cstr(name), duration_s, begin_ns, end_ns, begin_unix_s, infos,
                         [DomainEnergy._from_values(info, block.domain(data, info.index))
                          for info in infos])

    def _fill_later(self, data, block, infos):
        """Keep the C result (bytes of the _lib.ResultBlock block) to convert on first
        access."""
        self.__dict__["_raw"] = (data, block, infos)
        self.filled = True
        return self

    def _fill(self, c, infos, domains=None, warn=True):
        """Convert c (a joules_measurement; its domains, or `domains` when given) now, and
        warn (unless warn=False) of each domain that could not be measured."""
        if domains is None:
            domains = c.domains
        self._set_fields(_lib.text(c.name), c.duration_s, c.begin_ns, c.end_ns, c.begin_unix_s,
                         infos, [DomainEnergy(info, domains[info.index]) for info in infos])
        if warn:
            self._warn_invalid(stacklevel=5)
        return self

    def _set_fields(self, name, duration_s, begin_ns, end_ns, begin_unix_s, infos, energies):
        self._defaults()
        self.name = name
        self.time = duration_s
        self.begin_ns, self.end_ns = begin_ns, end_ns
        self.begin_time = begin_unix_s
        total, var = 0.0, 0.0
        for info, de in zip(infos, energies):
            self.domains[de.name] = de
            self.method[de.name] = de.method
            self.simulated |= de.simulated
            if info.kind == "gpu":
                self.gpu_energy[info.key] = de.energy
                self.gpu_uncertainty[info.key] = de.uncertainty
                if de.simulator_true_energy is not None:
                    self.simulator_true_energy[info.key] = de.simulator_true_energy
            elif info.kind == "cpu-package":
                self._add("cpu", info.key, de)
            elif info.kind == "dram":
                self._add("dram", info.key, de)
            if de.valid and info.counted_in_total:
                total += de.energy
                var += de.uncertainty ** 2
        self.total_energy = total
        self.total_uncertainty = math.sqrt(var)
        self.filled = True

    def _warn_invalid(self, stacklevel=4):
        bad = [d for d in self.domains.values() if not d.valid]
        if bad:
            warnings.warn("window %r: %s" % (self.name, "; ".join(
                "%s not measured (%s)" % (d.name, d.message) for d in bad)), RuntimeWarning,
                stacklevel=stacklevel)

    def _add(self, what, key, de):
        energy = getattr(self, what + "_energy")
        unc = getattr(self, what + "_uncertainty")
        if energy is None:
            energy, unc = {}, {}
            setattr(self, what + "_energy", energy)
            setattr(self, what + "_uncertainty", unc)
        # Dies of one package add up under the package index.
        energy[key] = energy.get(key, 0.0) + de.energy
        unc[key] = math.hypot(unc.get(key, 0.0), de.uncertainty)

    def __repr__(self):
        if self.cancelled:
            return "Measurement(%r, cancelled)" % self.name
        if not self.filled:
            return "Measurement(%r, window still open)" % self.name
        parts = ["time=%.4fs" % self.time, "gpu_energy=%r" % self.gpu_energy]
        if self.cpu_energy is not None:
            parts.append("cpu_energy=%r" % self.cpu_energy)
        if self.dram_energy is not None:
            parts.append("dram_energy=%r" % self.dram_energy)
        parts.append("total_energy=%.4f+/-%.4fJ" % (self.total_energy, self.total_uncertainty))
        if self.simulated:
            parts.append("SIMULATED")
        return "Measurement(%r, %s)" % (self.name, ", ".join(parts))


class Efficiency:
    """GFLOP per joule of a window (Measurement.efficiency, Monitor.efficiency).

    gflop_per_j, gflop_per_j_pm   over `energy`, +/- about 95 % (the count is exact: the
                                  relative +/- is the energy's)
    energy                        "gpu" (the valid GPUs' energy) when a GPU was measured,
                                  else "total" (the valid domains of the disjoint total)
    energy_j, uncertainty_j       that energy and its +/-
    total_gflop_per_j(_pm), gpu_gflop_per_j(_pm)  both, NaN where there is no such energy
    flops, n_gpus
    Placed (a precision was given; docs/impact.md), else "none", None and NaN:
    precision                     "fp64" ... "int8" ("fp16" for bf16 too)
    gpu_model                     the hardware table's key of the GPUs ("a100-sxm4-80gb"),
                                  None when unknown or mixed
    simulated                     True when those GPUs are simulated: the peak is the
                                  simulated profile's model's, the energy the simulator's
    peak_gflop_per_j              that model's peak FLOP/s / TDP at the precision
    share_of_peak, share_of_peak_pm  gflop_per_j / peak_gflop_per_j, a fraction, with its +/-
    references                    {"v100-sxm2": (peak GFLOP/J, share), "a100-sxm4-40gb": ...,
                                  "h100-sxm5": ..., "b200": ...}, NaN where the table has none
    message                       why a peak is unknown ("" when all are known)
    """

    __slots__ = ("flops", "energy", "energy_j", "uncertainty_j", "gflop_per_j",
                 "gflop_per_j_pm", "total_gflop_per_j", "total_gflop_per_j_pm",
                 "gpu_gflop_per_j", "gpu_gflop_per_j_pm", "n_gpus", "precision", "gpu_model",
                 "simulated", "peak_gflop_per_j", "share_of_peak", "share_of_peak_pm",
                 "references", "message")

    def __init__(self, c, precision="none"):
        self.flops = c.flops
        self.total_gflop_per_j, self.total_gflop_per_j_pm = c.gflop_per_j, c.gflop_per_j_pm
        self.gpu_gflop_per_j, self.gpu_gflop_per_j_pm = c.gpu_gflop_per_j, c.gpu_gflop_per_j_pm
        self.n_gpus = c.n_gpus
        if c.n_gpus > 0 and not math.isnan(c.gpu_gflop_per_j):
            self.energy, self.energy_j, self.uncertainty_j = ("gpu", c.gpu_energy_j,
                                                              c.gpu_uncertainty_j)
            self.gflop_per_j, self.gflop_per_j_pm = self.gpu_gflop_per_j, self.gpu_gflop_per_j_pm
        else:
            self.energy, self.energy_j, self.uncertainty_j = "total", c.energy_j, c.uncertainty_j
            self.gflop_per_j, self.gflop_per_j_pm = (self.total_gflop_per_j,
                                                     self.total_gflop_per_j_pm)
        self.precision = precision
        self.gpu_model = _lib.text(c.gpu_model) or None
        self.simulated = bool(c.simulated)
        self.peak_gflop_per_j = c.peak_gflop_per_j
        self.share_of_peak, self.share_of_peak_pm = c.share_of_peak, c.share_of_peak_pm
        self.references = {}
        if c.precision != _lib.PRECISION_NONE:
            for k in range(_lib.N_REFERENCES):
                self.references[_lib.text(c.ref_model[k].value)] = (c.ref_peak_gflop_per_j[k],
                                                                    c.ref_share[k])
        self.message = _lib.text(c.message)

    def __repr__(self):
        text = "Efficiency(%.4g +/- %.2g GFLOP/J over the %s energy, %.4f J" % (
            self.gflop_per_j, self.gflop_per_j_pm, self.energy, self.energy_j)
        if self.precision != "none":
            text += ", %s: %.3g %% of %s%s's peak" % (
                self.precision, 100 * self.share_of_peak, "SIMULATED " if self.simulated else "",
                self.gpu_model or "an unknown GPU")
        return text + ")"


class Pending:
    """A window ended with end_window(key, deferred=True): its result, to be collected.

    The end edge was read when the window ended; the library's tracker thread anchors it on
    the energy counter's next step (~100 ms on NVIDIA GPUs) while your code goes on, which
    makes a short window as exact as with settle_end, without the wait.
    ready     True once every end edge rests on a counter step: result() then waits for
              nothing and extrapolates nothing.
    result(wait=True)  the Measurement, computed once (later calls return the same one).
              wait=True waits for a counter step that has not come yet (at most ~150 ms
              after the end); wait=False extrapolates what is missing with the power
              readings, as a plain end does, and each domain's message says so. Safe to
              call from several threads. A Pending keeps its Monitor alive.
    """

    def __init__(self, monitor, name, ticket):
        self._monitor = monitor
        self.name = name
        self.ticket = ticket
        self._result = None
        self._collecting = threading.Lock()

    def _open(self):
        if self.ticket is None:  # from monitor.window(..., deferred=True), block not done
            raise JoulesError(_lib.E_STATE, "window %r is still open: its result comes once "
                              "the with block has ended" % self.name)

    @property
    def ready(self):
        if self._result is not None:
            return True
        self._open()
        mon = self._monitor
        return mon._check(mon._lib.joules_window_ready(mon._need(), self.ticket)) == 1

    def result(self, wait=True):
        with self._collecting:  # one collection, whichever thread asks first
            if self._result is None:
                self._open()
                self._result = self._monitor._collect(self, wait)
        return self._result

    def __del__(self):
        # Never collected: release the library's slot (it holds at most 1024).
        try:
            mon = self._monitor
            with mon._handle_lock:
                if self._result is None and self.ticket is not None and mon._handle is not None:
                    mon._lib.joules_window_collect(mon._handle, self.ticket, 0,
                                                   ctypes.byref(mon._new_result()))
        except Exception:
            pass

    def __repr__(self):
        if self._result is not None:
            return "Pending(%r, collected: %r)" % (self.name, self._result)
        if self.ticket is None:
            return "Pending(%r, window still open)" % self.name
        return "Pending(%r, ticket %d)" % (self.name, self.ticket)


class Sample:
    """One point of a power time series."""

    __slots__ = ("time", "t_ns", "unix_time", "energy", "power", "avg_power")

    def __init__(self, time_s, t_ns, unix_time, energy, power, avg_power):
        self.time = time_s          # seconds since the first sample
        self.t_ns = t_ns            # CLOCK_MONOTONIC of the reading
        self.unix_time = unix_time
        self.energy = energy        # {domain: J since the first sample}
        self.power = power          # {domain: W from the sensor, None if it has none}
        self.avg_power = avg_power  # {domain: W over the interval before this sample}

    def __repr__(self):
        return "Sample(t=%.3fs, power=%r)" % (self.time, self.avg_power)


class Samples(list):
    """A list of Sample with to_csv()."""

    def to_csv(self, file):
        """Write time_s, then <domain>_energy_j, _power_w, _avg_power_w columns."""
        return to_csv(self, file)


def to_csv(samples, file):
    """Write samples as CSV to a path or a text file object; returns the path or file."""
    samples = list(samples)
    names = []
    for s in samples:
        for n in s.energy:
            if n not in names:
                names.append(n)
    own = isinstance(file, (str, bytes, os.PathLike))
    f = open(file, "w", newline="", encoding="utf-8") if own else file
    try:
        w = csv.writer(f)
        head = ["time_s", "unix_time_s"]
        for n in names:
            head += [n + "_energy_j", n + "_power_w", n + "_avg_power_w"]
        w.writerow(head)

        def cell(v):
            return "" if v is None or (isinstance(v, float) and math.isnan(v)) else "%.6f" % v
        for s in samples:
            row = ["%.6f" % s.time, "%.6f" % s.unix_time]
            for n in names:
                row += [cell(s.energy.get(n)), cell(s.power.get(n)), cell(s.avg_power.get(n))]
            w.writerow(row)
    finally:
        if own:
            f.close()
    return file
