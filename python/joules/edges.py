# SPDX-License-Identifier: MIT
"""The edges of a window: Monitor.begin_window and end_window (plain, cancelled, busy or
deferred), with the bookkeeping that names a window ended twice or never begun.

A plain end is the path of every window in a loop, so it stays flat: the C result is written
into this thread's reused block, copied out as bytes, and converted to Python objects only
when the Measurement is read (results.Measurement._fill_later).
"""
import ctypes

from . import _lib
from .errors import JoulesError
from .results import Efficiency, Measurement, Pending
from .window import _Window

_INVALID = bytes(ctypes.sizeof(ctypes.c_int))  # a domain's `valid` field when it is not


class _Edges:
    """Window edges of Monitor (which sets _windows, _encoded, _scratch_tls, _domain_index,
    _n_results, _sync, _handle, _lib and _ref, a weakref.ref of itself)."""

    # What monitor.window(name) makes, and monitor.measure's wrapper when not None:
    # joules._fast.Window and joules._fast.Measured where the extension is loaded.
    _window_type = _Window
    _measured_type = None

    def _name(self, name):
        try:
            return self._encoded[name]
        except (KeyError, TypeError):
            pass
        if not isinstance(name, str):
            raise JoulesError(_lib.E_INVALID, "a window name must be a str, not %r" % (name,))
        b = name.encode("utf-8")
        if len(self._encoded) < 1024:
            self._encoded[name] = b
        return b

    def begin_window(self, key, sync_execution=True):
        """Begin the window named key (synchronising first)."""
        b = self._name(key)
        h = self._handle
        if h is None:
            self._need()
        if sync_execution and self._sync is not None:
            self._sync()
        rc = self._lib.joules_window_begin(h, b)
        if rc < 0:
            self._check(rc)
        windows = self._windows
        windows.pop(key, None)  # an open window goes after the ended ones
        windows[key] = True

    def end_window(self, key, sync_execution=True, cancel=False, busy=None, deferred=False):
        """End the window named key (synchronising first) and return its Measurement.

        cancel=True forgets it instead and returns an empty, cancelled Measurement.
        busy: a callable run repeatedly (not measured) after the end until each slow energy
        counter has stepped (~100 ms), so that the end edge sits inside a steady load and
        rests on counter values (joules_window_end_busy). Begin such a window while the
        same load is already running and both edges are exact.
        deferred=True: end now, return at once a Pending whose .result() is the Measurement,
        exact once the counter has stepped after the end (joules_window_end_deferred): for
        loops of short windows, where settle_end would wait ~100 ms at each one. The name
        may be begun again at once.
        """
        if deferred and not cancel:
            if busy is not None:
                raise JoulesError(_lib.E_INVALID, "end_window: busy and deferred are two ways "
                                  "to settle the end; give one")
            return self._end_deferred(key, sync_execution)
        if busy is not None and not cancel:
            return self._end_busy(key, Measurement(key, self._ref), sync_execution, busy)
        m = Measurement(key, self._ref)
        if cancel:
            b = self._name(key)
            self._window_check(key, self._lib.joules_window_cancel(self._need(), b))
            self._windows.pop(key, None)
            m.cancelled = True
            m.time, m.total_energy = 0.0, 0.0
            m.gpu_energy = {k: 0.0 for k in self.gpu_indices}
            return m
        return self._end_into(key, m, sync_execution)

    def _ending(self, key, sync_execution, end):
        """Synchronise (if the window is known open), end it by end(handle, name), mark it."""
        b = self._name(key)
        h = self._handle
        if h is None:
            self._need()
        if sync_execution and self._sync is not None and self._windows.get(key):
            self._sync()
        rc = end(h, b)
        if rc < 0:
            self._window_check(key, rc)
        self._mark_ended(key)

    def _mark_ended(self, key):
        windows = self._windows
        windows.pop(key, None)
        windows[key] = False
        if len(windows) > 1024:  # forget the oldest ended name (never an open window)
            oldest = next(iter(windows), None)
            if oldest is not None and windows.get(oldest) is False:
                windows.pop(oldest, None)

    def _record(self, m):
        self.last_measurement = m
        if self.log_file:
            self._log(m)
        return m

    def _scratch(self):
        """This thread's result block (_lib.result_block): the C result is written there,
        copied out as bytes and converted only when the Measurement is read."""
        try:
            return self._scratch_tls.block
        except AttributeError:
            block = self._scratch_tls.block = _lib.result_block(self._n_results)
            block.valid_at = tuple(block.valid_offset(i) for i in self._domain_index)
            return block

    def _end_into(self, key, m, sync_execution, stacklevel=4):
        # The path of every window, kept flat: _ending's steps, inline. stacklevel: the
        # warning's, which names the caller of end_window (or the with statement).
        b = self._name(key)
        h = self._handle
        if h is None:
            self._need()
        if sync_execution and self._sync is not None and self._windows.get(key):
            self._sync()
        try:
            block = self._scratch_tls.block
        except AttributeError:
            block = self._scratch()
        rc = self._lib.joules_window_end(h, b, block.ref)
        if rc < 0:
            self._window_check(key, rc)
        self._mark_ended(key)
        data = bytes(block.block)
        m._fill_later(data, block, self.domains)
        for at in block.valid_at:
            if data[at:at + 4] == _INVALID:
                m._warn_invalid(stacklevel)
                break
        self.last_measurement = m
        if self.log_file:
            self._log(m)
        return m

    def _end_deferred(self, key, sync_execution, into=None):
        ticket = ctypes.c_uint64()
        self._ending(key, sync_execution, lambda h, b: self._lib.joules_window_end_deferred(
            h, b, ctypes.byref(ticket)))
        if into is None:
            return Pending(self, key, ticket.value)
        into.ticket = ticket.value
        return into

    def _collect(self, pending, wait):
        c = self._new_result()
        self._check(self._lib.joules_window_collect(self._need(), pending.ticket,
                                                    -1 if wait else 0, ctypes.byref(c)))
        m = Measurement(pending.name, self._ref)._fill(c, self.domains)
        pending._result = m  # kept even if writing the log fails below
        return self._record(m)

    def _end_busy(self, key, m, sync_execution, busy):
        failure = []

        def work(_user):
            try:
                busy()
                if sync_execution:
                    self.sync()
                return 0
            except BaseException as exc:  # stop the wait; re-raised below
                failure.append(exc)
                return 1

        c = self._new_result()
        cb = _lib.WORK_FN(work)
        self._ending(key, sync_execution, lambda h, b: self._lib.joules_window_end_busy(
            h, b, ctypes.byref(c), cb, None))
        m._fill(c, self.domains)
        self._record(m)
        if failure:
            raise failure[0]
        return m

    def efficiency(self, measurement, flops, precision=None):
        """GFLOP per joule of a Measurement of this monitor for `flops` FLOPs, placed against
        the hardware's peak at `precision` when given (an Efficiency; see
        Measurement.efficiency)."""
        try:
            f = float(flops)
        except (TypeError, ValueError):
            raise JoulesError(_lib.E_INVALID, "a FLOP count is a number, not %r" % (flops,))
        prec = _lib.PRECISION_NONE
        if precision is not None:
            if not isinstance(precision, str):
                raise JoulesError(_lib.E_INVALID, "a precision is a name such as 'fp16', not "
                                  "%r" % (precision,))
            prec = self._lib.joules_precision_parse(precision.encode("utf-8"))
            if prec < 0:
                raise JoulesError(_lib.E_INVALID, "precision %r is none of fp64, fp32, tf32, "
                                  "fp16, bf16, fp8, int8" % (precision,))
        index = self._domain_by_name()
        c = self._new_result()
        n = 0
        for name, de in measurement.domains.items():
            i = index.get(name)
            if i is None or n >= c.capacity:
                raise JoulesError(_lib.E_INVALID, "window %r: domain %r is not one of this "
                                  "monitor's" % (measurement.name, name))
            d = c.domains[n]
            d.domain, d.valid = i, int(de.valid)
            d.energy_j = de.energy if de.valid else 0.0
            d.uncertainty_j = de.uncertainty if de.valid else 0.0
            n += 1
        c.n_domains = n
        c.name = measurement.name.encode("utf-8")[:_lib.NAME_MAX - 1] if measurement.name else b""
        out = _lib.EfficiencyResult()
        self._check(self._lib.joules_efficiency_at(self._need(), ctypes.byref(c), f, prec,
                                                   ctypes.byref(out)))
        return Efficiency(out, _lib.text(self._lib.joules_precision_name(prec)))

    def _domain_by_name(self):
        return {info.name: info.index for info in self.domains}

    def _window_check(self, key, rc):
        if rc >= 0:
            return rc
        if rc == _lib.E_STATE:
            state = self._windows.get(key)
            still_open, ended = state is True, state is False
            if not still_open:  # else the library's message says why (e.g. too many pending)
                self._check(rc, "window %r was already ended" % key if ended
                            else "window %r was never begun" % key)
        self._check(rc)

