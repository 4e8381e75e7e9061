/* SPDX-License-Identifier: MIT */
/*
 * sampler.c - power over time: one background thread per sampler reads the chosen domains
 * at every deadline of an absolute CLOCK_MONOTONIC grid (start + k x interval), so the
 * series does not drift however long it runs. A round that would start more than one
 * interval late jumps to the latest deadline that has passed and counts the ones it skipped:
 * a stalled machine shows up as missed deadlines, never as a burst of catch-up samples.
 *
 * Memory is fixed at start: one round buffer and a ring of ring_capacity samples. The ring
 * keeps the newest samples (a live view wants the present); what it overwrites is counted.
 * Domain reads go through the core's tracking (joules__track_reading, under the domain
 * lock), so the samples also feed the history window edges are estimated from.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

#define DEFAULT_INTERVAL_NS 100000000ull
#define MIN_INTERVAL_NS     100000ull
#define MAX_INTERVAL_NS     3600000000000ull

struct joules_sampler {
    joules_monitor *m;
    joules_sampler_options opts;
    int n;                                    /* domains per round */
    int index[JOULES_MAX_DOMAINS];            /* their indices in the monitor */
    joules_power_sample *round;               /* n samples: the round being taken */
    double prev_energy_j[JOULES_MAX_DOMAINS]; /* for counter-based power */
    int64_t prev_t_ns[JOULES_MAX_DOMAINS];
    int have_prev[JOULES_MAX_DOMAINS];

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;  /* wakes the thread when stop is set */
    int stop;
    int running; /* the thread exists and has not been joined */
    joules_power_sample *ring;
    size_t ring_head, ring_count;
    joules_sampler_stats stats;
    double lateness_sum_ns;
    pthread_t thread;
};

void joules_sampler_options_init(joules_sampler_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->struct_size = sizeof *opts;
    opts->gpu_details = 1;
}

static struct timespec abs_time(int64_t ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    return ts;
}

/* GPU clocks, temperature and friends: the light live read where the backend has it. */
static void read_gpu_details(struct joules__domain *d, joules_power_sample *p)
{
    char msg[JOULES_MESSAGE_MAX];
    struct joules__gpu_live live;
    int rc;
    pthread_mutex_lock(&d->lock);
    if (d->ops->gpu_live) {
        rc = d->ops->gpu_live(d, &live, msg, sizeof msg);
    } else {
        joules_gpu_status st;
        rc = d->ops->gpu_status ? d->ops->gpu_status(d, &st, msg, sizeof msg) : JOULES_E_INVALID;
        if (rc == 0) {
            live.power_avg_w = st.power_avg_w;
            live.power_limit_w = st.power_limit_enforced_w;
            live.clock_sm_mhz = st.clock_sm_mhz;
            live.clock_mem_mhz = st.clock_mem_mhz;
            live.temperature_c = st.temperature_c;
            live.pstate = st.pstate;
            live.utilization_gpu_pct = st.utilization_gpu_pct;
            live.clock_event_reasons = st.clock_event_reasons;
        }
    }
    pthread_mutex_unlock(&d->lock);
    if (rc != 0)
        return;
    p->power_avg_w = live.power_avg_w;
    p->power_limit_w = live.power_limit_w;
    p->clock_sm_mhz = live.clock_sm_mhz;
    p->clock_mem_mhz = live.clock_mem_mhz;
    p->temperature_c = live.temperature_c;
    p->pstate = live.pstate;
    p->utilization_gpu_pct = live.utilization_gpu_pct;
    p->clock_event_reasons = live.clock_event_reasons;
}

static void sample_domain(joules_sampler *s, int k, uint64_t seq, int64_t deadline_ns)
{
    struct joules__domain *d = &s->m->domains[s->index[k]];
    joules_power_sample *p = &s->round[k];
    memset(p, 0, sizeof *p);
    p->seq = seq;
    p->domain = s->index[k];
    p->simulated = d->info.simulated;
    p->scheduled_ns = deadline_ns;
    p->power_w = p->power_avg_w = p->power_limit_w = -1.0;
    p->clock_sm_mhz = p->clock_mem_mhz = p->temperature_c = p->pstate = -1;
    p->utilization_gpu_pct = -1;

    joules_reading r;
    memset(&r, 0, sizeof r);
    joules__track_reading(d, &r);
    p->valid = r.valid;
    p->error = r.error;
    p->t_ns = r.t_ns ? r.t_ns : joules__now_ns();
    p->energy_j = r.energy_j;
    if (!r.valid) {
        s->have_prev[k] = 0;
        return;
    }
    if ((d->info.caps & JOULES_CAP_POWER) && r.power_w >= 0) {
        p->power_w = r.power_w;
        p->power_source = JOULES_POWER_SENSOR;
    } else if (s->have_prev[k] && p->t_ns > s->prev_t_ns[k]) {
        /* No sensor (RAPL): the counter's mean power since our previous sample. */
        p->power_w =
            (p->energy_j - s->prev_energy_j[k]) / ((double)(p->t_ns - s->prev_t_ns[k]) * 1e-9);
        p->power_source = JOULES_POWER_COUNTER;
    }
    s->prev_energy_j[k] = p->energy_j;
    s->prev_t_ns[k] = p->t_ns;
    s->have_prev[k] = 1;
    if (d->info.kind == JOULES_KIND_GPU && s->opts.gpu_details)
        read_gpu_details(d, p);
}

/* Append the round to the ring (lock held), overwriting the oldest samples when full. */
static void ring_push(joules_sampler *s)
{
    size_t cap = s->opts.ring_capacity;
    if (!cap)
        return;
    for (int k = 0; k < s->n; k++) {
        size_t slot = (s->ring_head + s->ring_count) % cap;
        s->ring[slot] = s->round[k];
        if (s->ring_count == cap) {
            s->ring_head = (s->ring_head + 1) % cap;
            s->stats.dropped++;
        } else {
            s->ring_count++;
        }
    }
    if (s->ring_count > s->stats.ring_high_water)
        s->stats.ring_high_water = s->ring_count;
}

static void *sampler_main(void *arg)
{
    joules_sampler *s = arg;
    const int64_t interval = (int64_t)s->opts.interval_ns;
    const int64_t t0 = joules__now_ns();
    uint64_t k = 0, seq = 0;

    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        int64_t deadline = t0 + (int64_t)k * interval;
        struct timespec ts = abs_time(deadline);
        while (!s->stop && joules__now_ns() < deadline)
            if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) == ETIMEDOUT)
                break;
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->lock);

        int64_t start = joules__now_ns();
        for (int i = 0; i < s->n; i++)
            sample_domain(s, i, seq, deadline);
        if (s->opts.callback)
            s->opts.callback(s->round, s->n, s->opts.user);
        int64_t now = joules__now_ns();

        pthread_mutex_lock(&s->lock);
        ring_push(s);
        int64_t late = start > deadline ? start - deadline : 0;
        s->stats.rounds++;
        s->stats.samples += (uint64_t)s->n;
        for (int i = 0; i < s->n; i++)
            s->stats.read_errors += !s->round[i].valid;
        s->lateness_sum_ns += (double)late;
        if (late > s->stats.max_lateness_ns)
            s->stats.max_lateness_ns = late;
        seq++;
        k++;
        /* The next deadline is late by more than an interval: take the latest one that has
         * passed instead, and count the ones in between as missed. */
        uint64_t latest = (uint64_t)((now - t0) / interval);
        if (latest > k) {
            s->stats.missed_deadlines += latest - k;
            k = latest;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int joules_sampler_start(joules_monitor *m, const joules_sampler_options *opts,
                         joules_sampler **out)
{
    if (!out)
        return joules__fail(m, JOULES_E_INVALID, "sampler: out is NULL");
    *out = NULL;
    if (!m || !opts)
        return joules__fail(m, JOULES_E_INVALID, "sampler: monitor or options is NULL");
    joules_sampler_options o;
    joules_sampler_options_init(&o);
    if (opts->struct_size < sizeof(uint32_t) || opts->struct_size > sizeof o)
        return joules__fail(m, JOULES_E_INVALID,
                            "sampler: options not initialised with joules_sampler_options_init()");
    memcpy(&o, opts, opts->struct_size);
    o.struct_size = sizeof o;
    if (!o.interval_ns)
        o.interval_ns = DEFAULT_INTERVAL_NS;
    if (o.interval_ns < MIN_INTERVAL_NS || o.interval_ns > MAX_INTERVAL_NS)
        return joules__fail(m, JOULES_E_RANGE, "sampler: interval must be between 0.1 ms and 1 h");
    if (o.kinds & ~JOULES_KINDS_ALL)
        return joules__fail(m, JOULES_E_INVALID, "sampler: unknown domain kind bits");
    if (!o.callback && !o.ring_capacity)
        return joules__fail(m, JOULES_E_INVALID,
                            "sampler: give a callback or a ring capacity (samples would be lost)");
    if (o.ring_capacity > ((size_t)1 << 26))
        return joules__fail(m, JOULES_E_RANGE, "sampler: ring capacity above 2^26 samples");
    uint32_t kinds = o.kinds ? o.kinds : JOULES_KINDS_ALL;

    joules_sampler *s = calloc(1, sizeof *s);
    if (!s)
        return joules__fail(m, JOULES_E_NOMEM, "sampler: out of memory");
    s->m = m;
    s->opts = o;
    for (int i = 0; i < m->n_domains; i++)
        if (m->domains[i].info.kind & kinds)
            s->index[s->n++] = i;
    if (s->n == 0) {
        free(s);
        return joules__fail(m, JOULES_E_NO_DOMAIN, "sampler: no domain of the requested kinds");
    }
    s->round = calloc((size_t)s->n, sizeof *s->round);
    s->ring = o.ring_capacity ? calloc(o.ring_capacity, sizeof *s->ring) : NULL;
    if (!s->round || (o.ring_capacity && !s->ring)) {
        free(s->round);
        free(s->ring);
        free(s);
        return joules__fail(m, JOULES_E_NOMEM, "sampler: out of memory for the ring");
    }
    s->stats.n_domains = s->n;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &attr);
    pthread_condattr_destroy(&attr);

    /* The thread takes no asynchronous signal: they stay with the application's threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&s->thread, NULL, sampler_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        free(s->round);
        free(s->ring);
        free(s);
        return joules__fail(m, JOULES_E_SYSTEM, "cannot start the sampler thread (error %d)", rc);
    }
    s->running = 1;
    *out = s;
    return 0;
}

int joules_sampler_drain(joules_sampler *s, joules_power_sample *out, int n)
{
    if (!s || !out || n < 0)
        return JOULES_E_INVALID;
    pthread_mutex_lock(&s->lock);
    int got = 0;
    size_t cap = s->opts.ring_capacity;
    while (got < n && s->ring_count > 0) {
        out[got++] = s->ring[s->ring_head];
        s->ring_head = (s->ring_head + 1) % cap;
        s->ring_count--;
    }
    pthread_mutex_unlock(&s->lock);
    return got;
}

static void stats_copy(joules_sampler *s, joules_sampler_stats *out)
{
    *out = s->stats;
    out->mean_lateness_ns = s->stats.rounds ? s->lateness_sum_ns / (double)s->stats.rounds : 0.0;
}

int joules_sampler_stats_get(joules_sampler *s, joules_sampler_stats *out)
{
    if (!s || !out)
        return JOULES_E_INVALID;
    pthread_mutex_lock(&s->lock);
    stats_copy(s, out);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

int joules_sampler_stop(joules_sampler *s, joules_sampler_stats *stats)
{
    if (!s)
        return JOULES_E_INVALID;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->cond);
    int join = s->running;
    s->running = 0;
    pthread_mutex_unlock(&s->lock);
    if (join)
        pthread_join(s->thread, NULL);
    if (stats)
        joules_sampler_stats_get(s, stats);
    return 0;
}

void joules_sampler_free(joules_sampler *s)
{
    if (!s)
        return;
    joules_sampler_stop(s, NULL);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s->round);
    free(s->ring);
    free(s);
}
