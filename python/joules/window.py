# SPDX-License-Identifier: MIT
"""monitor.window(name): one window as a context manager or a decorator."""
from .results import Measurement, Pending


class _Window:
    """monitor.window(name): a context manager and a decorator."""

    def __init__(self, monitor, name, sync_execution=True, deferred=False):
        self._monitor = monitor
        self.name = name
        self._sync = sync_execution
        self._deferred = deferred
        self.measurement = None

    def __enter__(self):
        if self._deferred:
            self.measurement = Pending(self._monitor, self.name, None)
        else:
            self.measurement = Measurement(self.name)
        self._monitor.begin_window(self.name, sync_execution=self._sync)
        return self.measurement

    def _end(self):
        if self._deferred:
            self._monitor._end_deferred(self.name, self._sync, self.measurement)
        else:
            self._monitor._end_into(self.name, self.measurement, self._sync)

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
