/* SPDX-License-Identifier: MIT */
/*
 * ab_series.c - the A/B experiment's sampling (ab_series.h) on the library's joules_sampler:
 * absolute deadlines every sample_period_s, one callback per round. The power is the sum of
 * the energy domains' sensors, or, where one has no sensor, the total's energy between
 * consecutive rounds. The series starts with the first window.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ab/ab_series.h"
#include "util/util.h"

static void series_add(struct ab_series *s, int64_t t, double pw)
{
    if (s->r->n_samples == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        struct ab_sample *ns = realloc(s->r->samples, cap * sizeof *ns);
        if (ns) {
            s->r->samples = ns;
            s->cap = cap;
        }
    }
    if (s->r->n_samples < s->cap)
        s->r->samples[s->r->n_samples++] = (struct ab_sample){(t - s->t0_ns) * 1e-9, pw, s->slot};
}

/* One round of the sampler: the power of the experiment's domains into the series, and the
 * status domain's clock, temperature and reasons into the window's means. */
static void on_samples(const joules_power_sample *smp, int n, void *user)
{
    struct ab_series *s = user;
    int64_t t = util_now_ns();
    double e = 0, pw = 0;
    int ok = s->n_dom > 0, have_pw = 1;
    for (int k = 0; ok && k < s->n_dom; k++) {
        const joules_power_sample *d = NULL;
        for (int i = 0; i < n; i++)
            if (smp[i].domain == s->dom[k])
                d = &smp[i];
        if (!d || !d->valid) {
            ok = 0;
            break;
        }
        e += d->energy_j;
        if (d->power_source == JOULES_POWER_SENSOR)
            pw += d->power_w;
        else
            have_pw = 0;
    }
    pthread_mutex_lock(&s->lock);
    if (ok && !have_pw) { /* no power sensor: power from consecutive energy readings */
        double ts = t * 1e-9;
        pw = s->have_prev && ts > s->prev_t ? (e - s->prev_e) / (ts - s->prev_t) : NAN;
        s->have_prev = 1, s->prev_e = e, s->prev_t = ts;
    }
    for (int i = 0; s->slot >= 0 && i < n; i++) {
        if (smp[i].domain != s->p->status_domain || !smp[i].valid)
            continue;
        if (smp[i].clock_sm_mhz >= 0) {
            s->clk_sum += smp[i].clock_sm_mhz;
            s->temp_sum += smp[i].temperature_c;
            s->n_status++;
        }
        s->reasons |= smp[i].clock_event_reasons;
    }
    if (ok && s->t0_ns && isfinite(pw))
        series_add(s, t, pw);
    pthread_mutex_unlock(&s->lock);
}

int ab_series_start(struct ab_series *s, const struct ab_params *p, struct ab_result *r,
                    const int *dom, int n_dom, char *err, size_t len)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    s->r = r;
    s->slot = -1;
    memcpy(s->dom, dom, (size_t)n_dom * sizeof *dom);
    s->n_dom = n_dom;
    pthread_mutex_init(&s->lock, NULL);
    joules_sampler_options so;
    joules_sampler_options_init(&so);
    so.interval_ns = (uint64_t)(p->sample_period_s * 1e9);
    so.kinds = (uint32_t)p->energy_kinds;
    joules_domain_info di;
    if (p->status_domain >= 0 && joules_domain_info_get(p->setup.m, p->status_domain, &di) == 0)
        so.kinds |= di.kind;
    so.gpu_details = p->status_domain >= 0;
    so.callback = on_samples;
    so.user = s;
    /* The sampler's thread takes no signal: the flag set on the main thread stops the run. */
    int rc = joules_sampler_start(p->setup.m, &so, &s->sampler);
    if (rc == JOULES_E_NO_DOMAIN) /* nothing to sample (a CPU without RAPL): no series */
        return 0;
    if (rc != 0) {
        snprintf(err, len, "cannot start the sampler: %s", joules_last_error(p->setup.m));
        pthread_mutex_destroy(&s->lock);
        return -1;
    }
    return 0;
}

void ab_series_stop(struct ab_series *s)
{
    joules_sampler_free(s->sampler);
    s->sampler = NULL;
    pthread_mutex_destroy(&s->lock);
}

void ab_series_window(struct ab_series *s, int slot)
{
    pthread_mutex_lock(&s->lock);
    if (slot >= 0 && !s->t0_ns)
        s->t0_ns = util_now_ns();
    s->slot = slot;
    if (slot >= 0) {
        s->clk_sum = s->temp_sum = 0;
        s->n_status = 0;
        s->reasons = 0;
    }
    pthread_mutex_unlock(&s->lock);
}

void ab_series_window_end(struct ab_series *s, struct ab_run_rec *rec)
{
    pthread_mutex_lock(&s->lock);
    rec->clock_mhz = s->n_status ? s->clk_sum / s->n_status : NAN;
    rec->temperature_c = s->n_status ? s->temp_sum / s->n_status : NAN;
    rec->reasons = s->reasons;
    s->slot = -1;
    pthread_mutex_unlock(&s->lock);
}
