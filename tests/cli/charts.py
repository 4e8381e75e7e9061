# SPDX-License-Identifier: MIT
"""Checks of the SVG charts joules writes: the legend covers no data, and the chart renders.

The writer (src/io/plot_svg.c) says where things are: plotted points are polyline vertices
and elements of class "pt" with data-xy="x y"; each line chart's legend is a
<g class="legend" data-box="x y w h">, in the coordinates of that chart's own <svg> element
(a figure nests one <svg> per chart).
"""
import re
import shutil
import subprocess

from pngread import pixel_counts

_BOX = re.compile(r'<g class="legend" data-box="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"')
_POLY = re.compile(r'<polyline[^>]*points="([^"]*)"')
_PT = re.compile(r'class="pt" data-xy="([-\d.]+) ([-\d.]+)"')


def charts(svg):
    """The text of each chart of a document: one per <svg> element."""
    return [part for part in svg.split("<svg ")[1:]]


def points(chart):
    out = []
    for m in _POLY.finditer(chart):
        for pair in m.group(1).split():
            x, y = pair.split(",")
            out.append((float(x), float(y)))
    out += [(float(a), float(b)) for a, b in _PT.findall(chart)]
    return out


def check_legends(test, svg):
    """Every chart with a legend: its box contains no plotted point. Returns the number of
    legends checked."""
    n = 0
    for chart in charts(svg):
        m = _BOX.search(chart)
        if not m:
            continue
        n += 1
        x, y, w, h = (float(v) for v in m.groups())
        pts = points(chart)
        test.assertTrue(pts, "a chart with a legend and no point")
        inside = [p for p in pts if x <= p[0] <= x + w and y <= p[1] <= y + h]
        test.assertEqual(inside, [], "the legend (%g %g %g %g) covers %d point(s)"
                         % (x, y, w, h, len(inside)))
    return n


def render(test, svg_path, png_path, size=None):
    """Render to PNG with rsvg-convert (skip without it): not blank, not a filled mess, the
    size given (width, height) if any. Returns (width, height)."""
    if not shutil.which("rsvg-convert"):
        test.skipTest("rsvg-convert not installed (Debian librsvg2-bin)")
    subprocess.run(["rsvg-convert", "-o", png_path, svg_path], check=True, timeout=60)
    w, h, ink, _ = pixel_counts(png_path)
    if size:
        test.assertEqual((w, h), size)
    test.assertGreater(ink, 0.01 * w * h)
    test.assertLess(ink, 0.5 * w * h)
    return w, h
