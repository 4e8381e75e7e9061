# SPDX-License-Identifier: MIT
"""gpu_check_report - the figures of scripts/gpu-check, computed from joules' own outputs
(joules.series.csv/1, joules.run/1, joules.repeat/1, joules.ab/1, joules.info/1; see
docs/output.md), and summary.md. Pure functions of files: no GPU, no subprocess."""
import csv
import math
import statistics

PASS, FAIL, WARN, SKIP = "PASS", "FAIL", "WARN", "SKIP"


class Check:
    """One line of the summary: a status, figures (name -> value) and a sentence."""

    def __init__(self, name, what):
        self.name, self.what = name, what
        self.status, self.detail = SKIP, ""
        self.figures, self.files = {}, []

    def set(self, status, detail):
        self.status, self.detail = status, detail
        return self

    def as_dict(self):
        return {"name": self.name, "what": self.what, "status": self.status,
                "detail": self.detail, "figures": self.figures, "files": self.files}


def read_series(path, domain="gpu0"):
    """(samples of `domain`, marker rows) of a joules.series.csv/1 file."""
    samples, markers = [], []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r.get("record") == "sample":
                if r.get("domain") == domain:
                    samples.append(r)
            else:
                markers.append(r)
    return samples, markers


def _num(s):
    try:
        v = float(s)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _changes(samples, column):
    """Times at which `column` takes a new value (the first sample showing it), and how many
    samples carry the column at all."""
    times, prev, present = [], None, 0
    for r in samples:
        if r.get("valid") != "1":
            continue
        v = _num(r.get(column))
        if v is None:
            continue
        present += 1
        if prev is not None and v != prev:
            times.append(float(r["t_s"]))
        prev = v
    return times, present


def _intervals(times):
    return [b - a for a, b in zip(times, times[1:])]


def _period_figures(prefix, times):
    d = _intervals(times)
    fig = {f"{prefix}_changes": len(times)}
    if d:
        fig[f"{prefix}_period_median_s"] = statistics.median(d)
        fig[f"{prefix}_period_mean_s"] = statistics.fmean(d)
        fig[f"{prefix}_period_min_s"] = min(d)
        fig[f"{prefix}_period_max_s"] = max(d)
        fig[f"{prefix}_jitter_sd_s"] = statistics.pstdev(d) if len(d) > 1 else 0.0
    return fig


def counter_figures(samples, interval_s):
    """Steps of the energy counter and changes of the two power fields in a watch series."""
    fig = {"samples": len(samples), "sampling_interval_s": interval_s}
    e_times, e_present = _changes(samples, "energy_j")
    energies = [_num(r.get("energy_j")) for r in samples if _num(r.get("energy_j")) is not None]
    fig["energy_advanced_j"] = (energies[-1] - energies[0]) if len(energies) > 1 else 0.0
    fig.update(_period_figures("counter", e_times))
    for col, name in (("power_w", "power_instant"), ("power_avg_w", "power_avg")):
        times, present = _changes(samples, col)
        fig[f"{name}_present"] = present > 0
        if present:
            fig.update(_period_figures(name, times))
    return fig


def judge_counter(check, fig, info_domain):
    method = (info_domain or {}).get("method")
    check.figures["method"] = method
    expected = (info_domain or {}).get("update_interval_s")
    period = fig.get("counter_period_median_s")
    if method != "counter":
        return check.set(FAIL, f"no hardware energy counter (joules uses method {method}); "
                               "every window falls back to integrating power")
    if fig["energy_advanced_j"] <= 0:
        return check.set(FAIL, "the energy counter did not advance")
    if fig.get("counter_changes", 0) < 3 or period is None:
        return check.set(FAIL, f"the energy counter stepped only {fig.get('counter_changes', 0)} "
                               "times")
    if period < 2.5 * fig["sampling_interval_s"]:
        return check.set(WARN, f"the counter changes at almost every sample ({period * 1e3:.1f} "
                               "ms): finer than the sampling, its true period is not resolved")
    if expected and abs(period / expected - 1) > 0.5:
        return check.set(WARN, f"the counter steps every {period * 1e3:.1f} ms, joules assumes "
                               f"{expected * 1e3:.0f} ms (info update_interval_s)")
    return check.set(PASS, f"advances; steps every {period * 1e3:.1f} ms "
                           f"(jitter sd {fig.get('counter_jitter_sd_s', 0) * 1e3:.2f} ms)")


def integrate_power(samples, markers, column="power_w"):
    """Trapezoid integral of `column` between the window-begin and window-end markers (J), and
    the time it covers; None when the series cannot tell."""
    begin = next((float(m["t_s"]) for m in markers if m.get("record") == "window-begin"), None)
    end = next((float(m["t_s"]) for m in markers if m.get("record") == "window-end"), None)
    pts = [(float(r["t_s"]), _num(r.get(column))) for r in samples if r.get("valid") == "1"]
    pts = [(t, p) for t, p in pts if p is not None]
    if begin is None or end is None or len(pts) < 2 or end <= begin:
        return None

    def at(t):  # linear interpolation, held flat beyond the ends
        if t <= pts[0][0]:
            return pts[0][1]
        for (t0, p0), (t1, p1) in zip(pts, pts[1:]):
            if t <= t1:
                return p0 + (p1 - p0) * (t - t0) / (t1 - t0) if t1 > t0 else p1
        return pts[-1][1]

    xs = [begin] + [t for t, _ in pts if begin < t < end] + [end]
    ys = [at(t) for t in xs]
    energy = sum((xs[i + 1] - xs[i]) * (ys[i] + ys[i + 1]) / 2 for i in range(len(xs) - 1))
    return energy, end - begin


def gpu_domain(doc, name="gpu0"):
    return next((d for d in doc.get("domains", []) if d.get("name") == name), None)


def ab_figures(doc):
    """Per-arm medians and the first ratio of a joules.ab/1 document."""
    fig = {"products_per_window": doc.get("products_per_window"),
           "rounds_done": doc.get("rounds_done"), "energy_source": doc.get("energy_source")}
    for arm in doc.get("arms", []):
        s = arm.get("summary", {})
        for key in ("energy_j", "time_s", "power_w", "gflops"):
            fig[f"{arm['name']}_{key}"] = s.get(key, {}).get("median")
        c = arm.get("check", {})
        fig[f"{arm['name']}_check"] = ("passed" if c.get("passed") else "FAILED") if c.get(
            "checked") else "not checked"
        if c.get("checked"):
            fig[f"{arm['name']}_max_err_ratio"] = c.get("max_err_ratio")
            fig[f"{arm['name']}_check_note"] = c.get("note")
    for r in doc.get("ratios", [])[:1]:
        tag = f"{r['numerator']}/{r['denominator']}"
        for key in ("energy_j", "time_s", "power_w"):
            fig[f"ratio_{key} ({tag})"] = r.get(key, {}).get("median")
    return fig


def judge_ab(check, doc, real):
    if doc.get("failure"):
        return check.set(FAIL, f"joules ab failed: {doc['failure']}")
    if doc.get("interrupted"):
        return check.set(FAIL, "joules ab was interrupted")
    if not doc.get("energy_available"):
        return check.set(FAIL, f"no energy: {doc.get('energy_unavailable_reason')}")
    arms = {a["name"]: a for a in doc.get("arms", [])}
    c = arms.get("normal", {}).get("check", {})
    if c.get("checked") and not c.get("passed"):
        return check.set(FAIL, f"wrong product: {c.get('note', '')}")
    if real and not c.get("checked"):
        return check.set(FAIL, f"the product was not checked: {c.get('note', '')}")
    ratio = check.figures.get("ratio_energy_j (normal/zeros)")
    note = f"energy normal/zeros {ratio:.3f}" if ratio else "measured"
    return check.set(PASS, note + ("; product checked" if c.get("checked") else
                                   "; product not checked (simulated GPU computes no values)"))


FACT_FIELDS = ("architecture", "memory_total_bytes", "clock_sm_max_mhz", "power_limit_default_w",
               "power_limit_min_w", "power_limit_max_w")


def compare_facts(real_gpu, shipped_gpu):
    """Fields where the GPU's report and the shipped profile both have a value: (agree, differ)
    lists of (field, reported, shipped)."""
    agree, differ = [], []
    for k in FACT_FIELDS:
        a, b = real_gpu.get(k), shipped_gpu.get(k)
        if a is None or b is None:
            continue
        same = a == b
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            same = abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1)
        (agree if same else differ).append((k, a, b))
    return agree, differ


def _fmt(v):
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.6g}"
    return str(v)


def write_figures_csv(path, checks):
    """figures.csv: one row per figure (check, status, figure, value)."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["check", "status", "figure", "value"])
        for c in checks:
            for k, v in c.figures.items():
                w.writerow([c.name, c.status, k, v])


def summary_markdown(meta, checks, title=None):
    """summary.md: the verdict, one table row per check, then every figure."""
    failed = [c.name for c in checks if c.status == FAIL]
    verdict = title or ("FAILED" if failed else "passed")
    lines = [f"# joules gpu-check: {verdict}", ""]
    for k, v in meta.items():
        lines.append(f"- {k}: {_fmt(v)}")
    lines += ["", "| check | status | what | result |", "|---|---|---|---|"]
    for c in checks:
        detail = c.detail.replace("|", "/").replace("\n", " ")
        lines.append(f"| {c.name} | {c.status} | {c.what} | {detail} |")
    lines += ["", f"Failed: {', '.join(failed) if failed else 'none'}", "", "## Figures", ""]
    for c in checks:
        if not c.figures and not c.files:
            continue
        lines.append(f"### {c.name}")
        lines.append("")
        for k, v in c.figures.items():
            lines.append(f"- {k}: {_fmt(v)}")
        if c.files:
            lines.append(f"- files: {', '.join(c.files)}")
        lines.append("")
    return "\n".join(lines) + "\n"
