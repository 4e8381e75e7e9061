/* SPDX-License-Identifier: MIT */
/*
 * plot_svg.h - a small SVG line-chart writer: several series (lines, point markers, error
 * bars), one or two y axes with "nice" ticks and units in the labels, labelled horizontal
 * reference lines and annotated points, a legend under the plot (never over the data), a
 * title, subtitle and note, and an optional visible "SIMULATED" label. No dependency; files
 * are written atomically (io/atomic.h), never under another format's extension (x.png).
 *
 * For checks, the SVG says where things are: each plotted point is a vertex of a polyline
 * or a <circle>/<rect> of class "pt", and the legend is a <g class="legend"> whose
 * data-box="x y w h" is its bounding box, in the chart's own coordinates.
 */
#ifndef JOULES_IO_PLOT_SVG_H
#define JOULES_IO_PLOT_SVG_H

#include <stddef.h>
#include <stdio.h>

struct plot_series {
    const char *name; /* legend text */
    const double *x;  /* n points; NaN y values break the line */
    const double *y;
    size_t n;
    const char *color; /* "#rrggbb" or NULL: from the palette */
    int right_axis;    /* 1: plotted against the right y axis */
    int dashed;
    int marker;          /* point markers: 0 none, 1 circle, 2 square, 3 diamond */
    int no_line;         /* 1: markers only, no line through the points */
    const double *y_err; /* n half-widths drawn as error bars; NULL: none */
    double line_width;   /* 0: 1.8 px */
};

/* A horizontal reference line across the plot (e.g. a temperature threshold). */
struct plot_hline {
    double y;
    int right_axis;
    const char *label; /* drawn at its right end, above the line */
    const char *color; /* NULL: grey */
};

/* One annotated point: a ring at (x, y) and a label beside it. */
struct plot_mark {
    double x, y;
    int right_axis;
    const char *label;
    const char *color; /* NULL: black */
};

struct plot_chart {
    const char *title;
    const char *subtitle; /* NULL: none */
    const char *x_label;  /* with unit, e.g. "time (s)" */
    const char *y_label;  /* left axis, with unit */
    const char *y2_label; /* right axis; NULL: no right axis */
    int width, height;    /* pixels; 0: 960 x 540 */
    int simulated;        /* draw a visible SIMULATED label */
    const struct plot_series *series;
    int n_series;
    const struct plot_hline *hlines;
    int n_hlines;
    const struct plot_mark *marks;
    int n_marks;
    const char *note; /* a line at the bottom (e.g. a warning about the data); NULL: none */
};

/* Write the chart to f. 0, or -1 when there is nothing to plot or a write fails. */
int plot_svg_write(FILE *f, const struct plot_chart *c);
/* Write the chart to path ("-": stdout) atomically. 0, or -1 with a message in err. */
int plot_svg_save(const char *path, const struct plot_chart *c, char *err, size_t len);
/* 0 when path may receive an SVG chart ("-", a name ending in .svg, or one without an
 * extension); else -1 and err says why (a .png file that holds SVG opens as a broken image)
 * and how to get a PNG. */
int plot_svg_check_path(const char *path, char *err, size_t len);

/* ---- bar charts with intervals (plot_svg_bars.c) ---------------------------------------- */

struct plot_bar {
    const char *label; /* under the bar */
    double value;      /* bar height; NaN: no bar ("n/a") */
    double lo, hi;     /* interval drawn as a whisker; NaN: none */
    const char *color; /* NULL: from the palette, by position */
};

/* One panel: its own y axis (from 0), title and bars. */
struct plot_bar_group {
    const char *title;   /* e.g. "energy per window" */
    const char *y_label; /* with unit */
    const struct plot_bar *bars;
    int n_bars;
};

struct plot_bar_chart {
    const char *title;
    const char *subtitle; /* NULL: none */
    int width, height;    /* pixels; 0: 960 x 360 */
    int simulated;        /* draw a visible SIMULATED label */
    const char *note;     /* a line under the panels (e.g. "whiskers: 95 % CI"); NULL: none */
    const struct plot_bar_group *groups; /* panels side by side */
    int n_groups;
};

/* Write the bar chart as a whole SVG document. 0, or -1 (nothing to plot, write error). */
int plot_svg_bars_write(FILE *f, const struct plot_bar_chart *c);
/* Points drawn over a bar, spread sideways (each run of a command, for instance). */
struct plot_bar_points {
    const double *y; /* n values on the bar's axis; NaN skipped */
    int n;
};
/* The bar chart alone, with points[g][b] over bar b of group g (points or points[g] may be
 * NULL: none), as one SVG file. Atomic. 0, or -1 with a message in err. */
int plot_svg_bars_save(const char *path, const struct plot_bar_chart *c,
                       const struct plot_bar_points *const *points, char *err, size_t len);
/* One SVG file: the bar chart above the line chart (either may be NULL). Atomic. */
int plot_svg_figure_save(const char *path, const struct plot_bar_chart *bars,
                         const struct plot_chart *lines, char *err, size_t len);

#endif /* JOULES_IO_PLOT_SVG_H */
