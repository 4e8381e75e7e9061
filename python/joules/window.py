# SPDX-License-Identifier: MIT
"""monitor.window(name): one window as a context manager or a decorator.

This is the ctypes path's class; where the C extension is loaded, Monitor.window makes a
joules._fast.Window instead (joules/_fast_window.c), which behaves alike with no Python frame
of its own.
"""
from .results import Measurement, Pending


class _Window:
    """monitor.window(name): a context manager and a decorator. frames: Python frames between
    the with statement and the line that a warning should name (1 in measure's wrapper)."""

    def __init__(self, monitor, name, sync_execution=True, deferred=False, frames=0):
        self._monitor = monitor
        self.name = name
        self._sync = sync_execution
        self._deferred = deferred
        self._frames = frames
        self.measurement = None

    def __enter__(self):
        if self._deferred:
            self.measurement = Pending(self._monitor, self.name, None)
        else:
            self.measurement = Measurement(self.name, self._monitor._ref)
        self._monitor.begin_window(self.name, sync_execution=self._sync)
        return self.measurement

    def _end(self):
        if self._deferred:
            self._monitor._end_deferred(self.name, self._sync, self.measurement)
        else:
            # The warning's frames: _warn_invalid, _end_into, _end, __exit__, the user's line.
            self._monitor._end_into(self.name, self.measurement, self._sync,
                                    5 + self._frames)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self._end()
            return False
        # The body failed: measure what was spent if possible, never mask its exception.
        try:
            self._end()
        except Exception:
            try:
                self._monitor.end_window(self.name, sync_execution=False, cancel=True)
            except Exception:
                pass
        return False

    def __call__(self, fn):
        return self._monitor.measure(self.name, sync_execution=self._sync,
                                     deferred=self._deferred)(fn)
