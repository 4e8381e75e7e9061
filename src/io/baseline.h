/* SPDX-License-Identifier: MIT */
/*
 * baseline.h - the static (idle) power of a device, measured by `joules idle` and kept in
 * the user's cache ($XDG_CACHE_HOME, else ~/.cache)/joules/baseline-<key>.json, where key is
 * the GPU UUID (the domain name for RAPL) and, for GPUs, the performance state the baseline
 * was taken in (-P8, -P2, ...): the static power of a GPU depends on its clock state. Files
 * are written atomically (schema "joules.baseline/1", docs/output.md). `joules run` uses a
 * baseline to report the dynamic energy: total - baseline power x time.
 */
#ifndef JOULES_IO_BASELINE_H
#define JOULES_IO_BASELINE_H

#include <stddef.h>

#include "joules.h"

#define JOULES_BASELINE_SCHEMA "joules.baseline/1"

typedef struct io_baseline {
    char domain[JOULES_NAME_MAX];
    char kind[24];
    char device[128];
    char uuid[96];
    char clock_state[16]; /* "P8", or "none" where there is no P-state */
    char method[24];      /* how power_w was obtained (a joules_method name) */
    int simulated;
    int idle_ok; /* 0: the machine did not look idle while it was measured */
    double created_unix_s;
    double duration_s;
    long samples;
    double power_w;             /* mean static power */
    double power_uncertainty_w; /* +/- W, about a 95 % bound */
    double power_stddev_w;      /* spread of the samples */
    double power_min_w, power_max_w;
    int utilization_max_pct; /* -1 unknown */
} io_baseline;

/* The cache directory (created when create is 1). 0, or -1 with a message. */
int baseline_dir(char *buf, size_t len, int create, char *err, size_t elen);
/* "P<n>" for a known P-state, "none" otherwise. */
const char *baseline_clock_state(int pstate, char *buf, size_t len);
/* dir/baseline-<uuid or domain>[-<clock state>].json */
int baseline_path(char *buf, size_t len, const char *dir, const joules_domain_info *info,
                  const char *clock_state);

int baseline_store(const char *path, const io_baseline *b, char *err, size_t len);
/* 0; -1 with a message (absent file: errno-style message, *missing set to 1). */
int baseline_load(const char *path, io_baseline *b, int *missing, char *err, size_t len);

/* The same from the file's text (NUL-terminated; path only names it in messages). Numbers
 * that are not finite, and integers out of their range, make the file invalid. */
int baseline_parse(const char *text, const char *path, io_baseline *b, char *err, size_t len);

/* Dynamic energy = energy - baseline x duration, with the two uncertainties combined. */
void baseline_dynamic(const io_baseline *b, double energy_j, double uncertainty_j,
                      double duration_s, double *dynamic_j, double *dynamic_uncertainty_j);

#endif
