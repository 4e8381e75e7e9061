/* SPDX-License-Identifier: MIT */
/*
 * cli_sampling.h - what `joules watch`, `joules run --sample` and `joules idle` share: the
 * parsing of durations ("100ms", "30s", "1.5min"), and a series sink that writes every
 * sample of a sampler to the CSV time series and to the chart from the sampler's callback
 * (so nothing is lost however long the run), with markers such as the begin and end of a
 * measured command, and that completes both files atomically at the end.
 */
#ifndef JOULES_CLI_SAMPLING_H
#define JOULES_CLI_SAMPLING_H

#include <pthread.h>
#include <stdint.h>

#include "io/atomic.h"
#include "io/series.h"
#include "io/run_output.h"
#include "joules.h"

/* "2", "2s", "400ms", "250us", "1.5min", "1h" within [min_ns, max_ns]. 0, or CLI_EXIT_USAGE
 * with the message printed. */
int cli_parse_duration(const char *cmd, const char *opt, const char *text, int64_t min_ns,
                       int64_t max_ns, int64_t *out_ns);
/* A sampling interval given as a bare number above above_s is probably meant in ms: say how
 * it was read (it is still taken as seconds, as documented). */
void cli_note_bare_seconds(const char *cmd, const char *opt, const char *text, double above_s);

#define CLI_SERIES_MARKERS 8

struct cli_series {
    const char *csv_path;  /* NULL: no CSV */
    const char *plot_path; /* NULL: no chart */
    int normalise;
    const char *title;
    /* set by cli_series_open / start */
    io_atomic csv;
    int csv_open;
    series_clock clock;
    series_plot plot;
    const joules_domain_info *info;
    int n_info;
    joules_sampler *sampler;
    pthread_mutex_t lock; /* guards what the callback shares with the main thread */
    int lock_init;
    int write_failed;
    int n_pending;
    int64_t pending_ns[CLI_SERIES_MARKERS];
    char pending_record[CLI_SERIES_MARKERS][24];
    char pending_label[CLI_SERIES_MARKERS][JOULES_NAME_MAX];
};

/* Create the output files (temporary until the end). 0, or CLI_EXIT_USAGE with a message. */
int cli_series_open(struct cli_series *cs, const char *cmd);
/* Start sampling m every interval_ns into the files; ring_capacity > 0 also keeps a ring
 * the caller drains with joules_sampler_drain(cs->sampler, ...). 0 or CLI_EXIT_FAILURE. */
int cli_series_start(struct cli_series *cs, const char *cmd, joules_monitor *m,
                     const joules_domain_info *info, int n_info, int64_t interval_ns,
                     size_t ring_capacity);
/* A marker row ("window-begin", "window-end") now, in time order with the samples: the time
 * is read with the sink locked, so no sample written before it can be later. Returns it. */
int64_t cli_series_mark(struct cli_series *cs, const char *record, const char *label);
/* Stop sampling (stats may be NULL). The ring stays drainable until cli_series_finish. */
void cli_series_stop(struct cli_series *cs, joules_sampler_stats *stats);
/* Complete the files and free everything. 0, or -1 if a file could not be written. */
int cli_series_finish(struct cli_series *cs, const char *cmd);
/* Drop the files and free everything. */
void cli_series_abort(struct cli_series *cs);

/* One line about the sampler's timing (rounds, missed deadlines, lateness, drops). */
void cli_series_print_stats(FILE *out, const char *cmd, const joules_sampler_stats *st,
                            int64_t interval_ns);

/* ---- baselines for `joules run` --------------------------------------------------------- */

#include "io/baseline.h"

struct cli_baselines {
    int have[JOULES_MAX_DOMAINS];
    io_baseline b[JOULES_MAX_DOMAINS];
    char path[JOULES_MAX_DOMAINS][4400];
};

/* The baseline of domain dom (info) in its current clock state, if one is stored for this
 * very device (same UUID, or name and device for RAPL; simulated only for simulated): 1 with
 * b and path filled, 0 if none. Call while the device is at rest. */
int cli_baseline_load_one(joules_monitor *m, int dom, const joules_domain_info *info,
                          io_baseline *b, char *path, size_t path_len);
/* An age in words: "40 s", "12 min", "3.5 h", "2.0 days". */
void cli_age_text(double age_s, char *buf, size_t len);
/* Load, for each domain, the baseline of its current clock state if one is stored (call
 * before the command starts: the GPU's P-state at rest chooses the baseline). Returns a
 * calloc'ed set (free()), NULL if there is none at all. */
struct cli_baselines *cli_baselines_load(joules_monitor *m, const joules_domain_info *info,
                                         int n_info);
/* The same as figures for the JSON report (out: JOULES_MAX_DOMAINS entries, by domain). */
void cli_baselines_dynamic(const struct cli_baselines *bl, const joules_measurement *meas,
                           io_run_dynamic *out);
/* The dynamic energy of each domain with a baseline: energy - baseline x duration. */
void cli_baselines_report(FILE *out, const struct cli_baselines *bl, const joules_measurement *meas,
                          const joules_domain_info *info);

#endif
