# SPDX-License-Identifier: MIT
"""Readings of every domain of a Monitor, once (read) or as a time series (sample)."""
import math
import time

from . import _lib
from .errors import JoulesError
from .results import Sample


def read_all(monitor, arr):
    """({domain name: (t_ns, cumulative J, W or None)}, latest t_ns) from one joules_read."""
    n = monitor._check(monitor._lib.joules_read(monitor._need(), arr, _lib.MAX_DOMAINS))
    out = {}
    t_ns = None
    for d in monitor.domains:
        if d.index < n:
            r = arr[d.index]
            t_ns = r.t_ns if t_ns is None else max(t_ns, r.t_ns)
            out[d.name] = (r.t_ns, r.energy_j if r.valid else math.nan,
                           r.power_w if r.valid and r.power_w >= 0 else None)
    return out, t_ns


def sample(monitor, interval, duration, count):
    """The generator behind Monitor.sample (see its docstring)."""
    if not interval or interval <= 0:
        raise JoulesError(_lib.E_INVALID, "interval must be a positive number of seconds")
    arr = (_lib.Reading * _lib.MAX_DOMAINS)()
    start = time.monotonic()
    first = prev = None
    k = 0
    taken = 0
    while True:
        now, t_ns = read_all(monitor, arr)
        unix = time.time()
        if first is None:
            first = now
            first_t = t_ns or time.monotonic_ns()
        energy = {k_: v[1] - first[k_][1] for k_, v in now.items() if k_ in first}
        power = {k_: v[2] for k_, v in now.items()}
        avg = {}
        for name_, v in now.items():
            if prev is not None and name_ in prev and v[0] > prev[name_][0]:
                avg[name_] = (v[1] - prev[name_][1]) / ((v[0] - prev[name_][0]) * 1e-9)
            else:
                avg[name_] = power[name_] if power[name_] is not None else math.nan
        yield Sample(((t_ns or time.monotonic_ns()) - first_t) * 1e-9, t_ns, unix, energy,
                     power, avg)
        prev = now
        taken += 1
        if count is not None and taken >= count:
            return
        k += 1
        deadline = start + k * interval
        if duration is not None and deadline > start + duration + 1e-9:
            return
        now_t = time.monotonic()
        if now_t > deadline:  # late: skip the missed ticks
            k = int(math.ceil((now_t - start) / interval))
            deadline = start + k * interval
            if duration is not None and deadline > start + duration + 1e-9:
                return
        time.sleep(max(0.0, deadline - time.monotonic()))
