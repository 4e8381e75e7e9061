/* SPDX-License-Identifier: MIT */
/*
 * series.h - what the sampler's series become on disk: the CSV time series (schema
 * "joules.series.csv/1", docs/output.md), and an SVG chart of power per domain over time,
 * optionally normalised to each GPU's power limit, with the begin and end of a measured
 * command marked. The chart keeps at most SERIES_PLOT_POINTS points per domain whatever the
 * length of the run: when full, neighbouring points are averaged in pairs.
 */
#ifndef JOULES_IO_SERIES_H
#define JOULES_IO_SERIES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "joules.h"

#define JOULES_SERIES_CSV_SCHEMA "joules.series.csv/1"
#define SERIES_PLOT_POINTS       4096
#define SERIES_MAX_MARKERS       8

/* How times are written: t_s from an origin, unix_s from the wall clock. */
typedef struct series_clock {
    int64_t t0_ns;        /* CLOCK_MONOTONIC origin of t_s */
    double unix_offset_s; /* unix seconds = monotonic seconds + unix_offset_s */
} series_clock;

/* Origin now, and the offset between the two clocks measured now. */
void series_clock_init(series_clock *c);

/* CSV: the header line, one row per sample, one row per marker. 0, or -1 if f failed. */
int series_csv_header(FILE *f);
int series_csv_sample(FILE *f, const series_clock *c, const joules_domain_info *info,
                      const joules_power_sample *p);
/* record: "window-begin" / "window-end"; label: e.g. the window name (may be NULL). */
int series_csv_marker(FILE *f, const series_clock *c, const char *record, int64_t t_ns,
                      const char *label);

struct series_plot_track; /* one domain's points */

typedef struct series_plot {
    series_clock clock;
    struct series_plot_track *track[JOULES_MAX_DOMAINS]; /* by domain index, NULL if unseen */
    int n_markers;
    double marker_s[SERIES_MAX_MARKERS];
    char marker_label[SERIES_MAX_MARKERS][32];
} series_plot;

void series_plot_init(series_plot *sp, const series_clock *c);
/* Add a sample (its domain's power; -1 is skipped). 0, or -1 out of memory. */
int series_plot_add(series_plot *sp, const joules_power_sample *p);
void series_plot_marker(series_plot *sp, int64_t t_ns, const char *label);
/* Points kept for a domain (tests). */
size_t series_plot_points(const series_plot *sp, int domain);
void series_plot_free(series_plot *sp);

typedef struct series_plot_options {
    const char *title;    /* NULL: "Power over time" */
    const char *command;  /* the measured command, named in the title; NULL: none */
    const char *subtitle; /* NULL: none */
    int normalise;        /* 1: percent of each GPU's power limit (domains without one left out) */
} series_plot_options;

/* Write the chart atomically to path. 0, or -1 with a message in err. */
int series_plot_save(const series_plot *sp, const joules_domain_info *info, int n_info,
                     const series_plot_options *o, const char *path, char *err, size_t len);

#endif
