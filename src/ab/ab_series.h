/* SPDX-License-Identifier: MIT */
/*
 * ab_series.h - what the A/B experiment samples while it runs (ab_series.c): the power time
 * series of its energy domains, and the clock, temperature and clock-event reasons of its
 * status domain averaged over each window. Internal to ab_run.c.
 */
#ifndef JOULES_AB_SERIES_H
#define JOULES_AB_SERIES_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ab/ab.h"

/* The run's time series and the current window's means, fed by a joules_sampler (its
 * thread writes them, under lock). */
struct ab_series {
    const struct ab_params *p;
    struct ab_result *r;
    int dom[JOULES_MAX_DOMAINS]; /* the experiment's energy domains */
    int n_dom;
    pthread_mutex_t lock; /* guards everything below: the sampler's thread writes it */
    int slot;             /* arm being measured, -1 outside windows */
    int64_t t0_ns;        /* origin of the series; 0 until the first window */
    size_t cap;
    /* accumulators of the current window */
    double clk_sum, temp_sum;
    int n_status;
    unsigned long long reasons;
    int have_prev;
    double prev_e, prev_t;
    joules_sampler *sampler; /* NULL: nothing to sample */
};

/* Start sampling p's energy domains dom[0..n_dom) and its status domain every
 * p->sample_period_s into r->samples. 0, or -1 with err. */
int ab_series_start(struct ab_series *s, const struct ab_params *p, struct ab_result *r,
                    const int *dom, int n_dom, char *err, size_t len);
/* A window of slot begins: its means start from nothing (slot -1: between windows). */
void ab_series_window(struct ab_series *s, int slot);
/* The window ends: its means of clock, temperature and reasons into rec (NaN when none). */
void ab_series_window_end(struct ab_series *s, struct ab_run_rec *rec);
void ab_series_stop(struct ab_series *s);

#endif
