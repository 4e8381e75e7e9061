/* SPDX-License-Identifier: MIT */
/*
 * plot_svg.h - a small SVG line-chart writer: several series, one or two y axes with "nice"
 * ticks and units in the labels, a legend, a title and subtitle, and an optional visible
 * "SIMULATED" label. No dependency; files are written atomically (io/atomic.h).
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
};

/* Write the chart to f. 0, or -1 when there is nothing to plot or a write fails. */
int plot_svg_write(FILE *f, const struct plot_chart *c);
/* Write the chart to path ("-": stdout) atomically. 0, or -1 with a message in err. */
int plot_svg_save(const char *path, const struct plot_chart *c, char *err, size_t len);

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
