/* SPDX-License-Identifier: MIT */
/*
 * test_sampler.c - the sampler on the simulated GPU: the deadline grid and its accounting
 * (rounds + missed deadlines cover the grid exactly), stop latency with a long interval,
 * bounded memory over thousands of samples with a small ring, and a square-wave load whose
 * series shows the right levels and edges. Timing bounds are loose on purpose (a loaded
 * 2-core machine, sanitizers): what is checked is the accounting, not the speed.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "joules.h"
#include "testlib.h"

static char tmpdir[4096];

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static joules_monitor *open_sim(const char *profile, int devices, const char *scenario)
{
    char count[8], path[4200];
    snprintf(count, sizeof count, "%d", devices);
    setenv("JOULES_SIM_PROFILE", profile, 1);
    setenv("JOULES_SIM_DEVICES", count, 1);
    if (scenario) {
        snprintf(path, sizeof path, "%s/scenario.scn", tmpdir);
        t_write_file(path, scenario);
        setenv("JOULES_SIM_SCENARIO", path, 1);
    } else {
        unsetenv("JOULES_SIM_SCENARIO");
    }
    joules_options o;
    joules_options_init(&o);
    o.nvml_library = JOULES_TEST_SIM_LIB;
    o.kinds = JOULES_KIND_GPU;
    joules_monitor *m = NULL;
    char err[256] = "";
    int rc = joules_open(&m, &o, err, sizeof err);
    CHECKF(rc == 0, "joules_open: %s", err);
    return m;
}

/* ---- options are checked ------------------------------------------------------------- */

static void test_bad_options(void)
{
    joules_monitor *m = open_sim("test", 1, NULL);
    if (!m)
        return;
    joules_sampler *s = NULL;
    joules_sampler_options o;
    joules_sampler_options_init(&o);
    CHECK_EQ_INT(joules_sampler_start(m, &o, &s), JOULES_E_INVALID); /* no sink */
    CHECK(s == NULL);
    o.ring_capacity = 4;
    o.interval_ns = 1000; /* 1 us: too fast */
    CHECK_EQ_INT(joules_sampler_start(m, &o, &s), JOULES_E_RANGE);
    o.interval_ns = 0;
    o.kinds = JOULES_KIND_DRAM; /* the monitor has only the GPU */
    CHECK_EQ_INT(joules_sampler_start(m, &o, &s), JOULES_E_NO_DOMAIN);
    o.struct_size = 0;
    CHECK_EQ_INT(joules_sampler_start(m, &o, &s), JOULES_E_INVALID);
    joules_close(m);
}

/* ---- period, jitter and the accounting of the grid ----------------------------------- */

struct collect {
    pthread_mutex_t lock;
    int rounds;
    int bad_n;
    int64_t first_sched, last_sched, prev_sched;
    int64_t lateness[4096];
    int n_late;
    int non_multiple;
};

static void collect_cb(const joules_power_sample *p, int n, void *user)
{
    struct collect *c = user;
    pthread_mutex_lock(&c->lock);
    if (n != 2)
        c->bad_n++;
    if (c->rounds == 0)
        c->first_sched = p[0].scheduled_ns;
    else if (p[0].scheduled_ns <= c->prev_sched)
        c->non_multiple++;
    c->prev_sched = c->last_sched = p[0].scheduled_ns;
    if (c->n_late < 4096)
        c->lateness[c->n_late++] = p[0].t_ns - p[0].scheduled_ns;
    c->rounds++;
    pthread_mutex_unlock(&c->lock);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_period_and_jitter(void)
{
    joules_monitor *m = open_sim("a100", 2, NULL);
    if (!m)
        return;
    static struct collect c;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.lock, NULL);
    const int64_t interval = 20000000; /* 20 ms */
    joules_sampler_options o;
    joules_sampler_options_init(&o);
    o.interval_ns = (uint64_t)interval;
    o.callback = collect_cb;
    o.user = &c;
    joules_sampler *s = NULL;
    int64_t t0 = now_ns();
    CHECK_EQ_INT(joules_sampler_start(m, &o, &s), 0);
    t_sleep(1.0);
    joules_sampler_stats st;
    CHECK_EQ_INT(joules_sampler_stop(s, &st), 0);
    int64_t elapsed = now_ns() - t0;
    joules_sampler_free(s);

    pthread_mutex_lock(&c.lock);
    CHECK_EQ_INT(c.bad_n, 0);
    CHECK_EQ_INT((long long)st.rounds, c.rounds);
    CHECK_EQ_INT((long long)st.samples, 2LL * c.rounds);
    CHECK_EQ_INT(st.n_domains, 2);
    CHECK_EQ_INT(c.non_multiple, 0);
    /* Every deadline is on the grid, and each one was either sampled or counted missed. A
     * last round the host made late by more than an interval also counts the deadlines that
     * passed while it ran, after the last one sampled: at most those the time after it
     * holds. */
    int64_t span = c.last_sched - c.first_sched;
    CHECKF(span % interval == 0, "deadlines off the grid: span %lld ns", (long long)span);
    long long extra = (long long)(st.rounds + st.missed_deadlines) - (span / interval + 1);
    CHECKF(extra >= 0 && extra <= (elapsed - span) / interval,
           "%llu rounds + %llu missed for %lld deadlines on the grid, %lld ns after them",
           (unsigned long long)st.rounds, (unsigned long long)st.missed_deadlines,
           (long long)(span / interval + 1), (long long)(elapsed - span));
    /* About 50 rounds in 1 s; at most one more than the grid allows. */
    long long grid = elapsed / interval + 1;
    CHECKF((long long)st.rounds <= grid, "%llu rounds > %lld grid points",
           (unsigned long long)st.rounds, grid);
    CHECKF(st.rounds + st.missed_deadlines >= 25, "only %llu rounds + %llu missed",
           (unsigned long long)st.rounds, (unsigned long long)st.missed_deadlines);
    /* Median lateness well under an interval (loose: sanitizers, loaded machines). */
    qsort(c.lateness, (size_t)c.n_late, sizeof c.lateness[0], cmp_i64);
    int64_t median = c.lateness[c.n_late / 2];
    CHECKF(median >= 0 && median < interval, "median lateness %lld ns", (long long)median);
    CHECKF(st.max_lateness_ns >= median, "max lateness %lld < median %lld",
           (long long)st.max_lateness_ns, (long long)median);
    printf("  %d rounds, %llu missed, median lateness %.3f ms, max %.3f ms\n", c.rounds,
           (unsigned long long)st.missed_deadlines, median * 1e-6, st.max_lateness_ns * 1e-6);
    pthread_mutex_unlock(&c.lock);
    pthread_mutex_destroy(&c.lock);
    joules_close(m);
}

/* ---- stop latency ---------------------------------------------------------------------- */

static void test_stop_latency(void)
{
    joules_monitor *m = open_sim("test", 1, NULL);
    if (!m)
        return;
    joules_sampler_options o;
    joules_sampler_options_init(&o);
    o.interval_ns = 3600000000000ull; /* one hour */
    o.ring_capacity = 8;
    joules_sampler *s = NULL;
    CHECK_EQ_INT(joules_sampler_start(m, &o, &s), 0);
    t_sleep(0.1);
    int64_t t = now_ns();
    joules_sampler_stats st;
    CHECK_EQ_INT(joules_sampler_stop(s, &st), 0);
    double stop_s = (double)(now_ns() - t) * 1e-9;
    CHECKF(stop_s < 1.0, "stop took %.3f s", stop_s);
    CHECK_EQ_INT((long long)st.rounds, 1);         /* the first round is taken at once */
    CHECK_EQ_INT(joules_sampler_stop(s, NULL), 0); /* idempotent */
    joules_power_sample p[8];
    CHECK_EQ_INT(joules_sampler_drain(s, p, 8), 1); /* the ring outlives the thread */
    CHECK(p[0].valid && p[0].simulated && p[0].seq == 0);
    CHECK(p[0].power_source == JOULES_POWER_SENSOR && p[0].power_w > 0);
    CHECK(p[0].pstate >= 0 && p[0].clock_sm_mhz > 0 && p[0].temperature_c > 0);
    CHECK(p[0].power_limit_w > 0);
    joules_sampler_free(s);
    joules_close(m);
}

/* ---- bounded memory -------------------------------------------------------------------- */

struct drainer {
    joules_sampler *s;
    volatile int stop;
    pthread_mutex_t lock;
    long long drained;
    long long out_of_order;
    uint64_t last_seq;
};

static void *drain_main(void *arg)
{
    struct drainer *d = arg;
    joules_power_sample buf[3];
    struct timespec pause = {0, 3000000};
    for (;;) {
        pthread_mutex_lock(&d->lock);
        int stop = d->stop;
        pthread_mutex_unlock(&d->lock);
        int n = joules_sampler_drain(d->s, buf, 3);
        for (int i = 0; i < n; i++) {
            if (d->drained > 0 && buf[i].seq <= d->last_seq)
                d->out_of_order++;
            d->last_seq = buf[i].seq;
            d->drained++;
        }
        if (stop && n == 0)
            break;
        nanosleep(&pause, NULL);
    }
    return NULL;
}

static void test_bounded_memory(void)
{
    joules_monitor *m = open_sim("test", 1, NULL);
    if (!m)
        return;
    const size_t cap = 16;
    joules_sampler_options o;
    joules_sampler_options_init(&o);
    o.interval_ns = 200000; /* 0.2 ms: thousands of samples in a second or two */
    o.ring_capacity = cap;
    o.gpu_details = 0;
    joules_sampler *s = NULL;
    CHECK_EQ_INT(joules_sampler_start(m, &o, &s), 0);
    /* A slow consumer: 3 samples every 3 ms cannot keep up with 5000 a second. */
    static struct drainer d;
    memset(&d, 0, sizeof d);
    d.s = s;
    pthread_mutex_init(&d.lock, NULL);
    pthread_t th;
    pthread_create(&th, NULL, drain_main, &d);
    joules_sampler_stats st;
    int64_t t0 = now_ns();
    do {
        t_sleep(0.05);
        joules_sampler_stats_get(s, &st);
        CHECKF(st.ring_high_water <= cap, "ring held %zu > %zu", st.ring_high_water, cap);
    } while (st.samples < 3000 && now_ns() - t0 < 20000000000LL);
    joules_sampler_stop(s, &st);
    pthread_mutex_lock(&d.lock);
    d.stop = 1;
    pthread_mutex_unlock(&d.lock);
    pthread_join(th, NULL);
    CHECKF(st.samples >= 1000, "only %llu samples", (unsigned long long)st.samples);
    CHECK(st.ring_high_water == cap);
    CHECK(st.dropped > 0);
    /* Every sample taken was either drained or counted as dropped, none twice. */
    CHECK_EQ_INT(d.drained + (long long)st.dropped, (long long)st.samples);
    CHECK_EQ_INT(d.out_of_order, 0);
    CHECK_EQ_INT((long long)d.last_seq, (long long)st.rounds - 1);
    printf("  %llu samples, %llu dropped, %llu missed deadlines, ring high water %zu\n",
           (unsigned long long)st.samples, (unsigned long long)st.dropped,
           (unsigned long long)st.missed_deadlines, st.ring_high_water);
    pthread_mutex_destroy(&d.lock);
    joules_sampler_free(s);
    joules_close(m);
}

/* ---- a square wave: levels and edges -------------------------------------------------- */

#define SQ_MAX 1024

static void test_square_wave(void)
{
    /* 300 W for 500 ms, 100 W for 500 ms, for ever; fixed true powers, exact sensor. */
    int64_t t_before = now_ns();
    joules_monitor *m = open_sim("a100", 1,
                                 "profile a100-sxm4-80gb\n"
                                 "phase 500ms util=1 power=300\n"
                                 "phase 500ms util=0 power=100\n"
                                 "repeat forever\n");
    int64_t t_after = now_ns();
    if (!m)
        return;
    joules_sampler_options o;
    joules_sampler_options_init(&o);
    o.interval_ns = 10000000; /* 10 ms */
    o.ring_capacity = SQ_MAX;
    joules_sampler *s = NULL;
    CHECK_EQ_INT(joules_sampler_start(m, &o, &s), 0);
    t_sleep(2.3);
    joules_sampler_stop(s, NULL);
    static joules_power_sample p[SQ_MAX];
    int n = joules_sampler_drain(s, p, SQ_MAX);
    joules_sampler_free(s);
    joules_close(m);
    CHECKF(n > 60, "only %d samples", n);
    if (n <= 60)
        return;
    /* Scenario time 0 lies between t_before and t_after (the first nvmlInit). */
    double t0 = 0.5 * (double)(t_before + t_after);
    double slack = (double)(t_after - t_before) * 0.5e-9;

    /* Levels: the median over the settled part of each half period. */
    for (int half = 0; half < 4; half++) {
        double lo = half * 0.5 + 0.2, hi = half * 0.5 + 0.45, v[64];
        int k = 0;
        for (int i = 0; i < n && k < 64; i++) {
            double t = ((double)p[i].t_ns - t0) * 1e-9;
            if (t >= lo && t < hi && p[i].power_w >= 0)
                v[k++] = p[i].power_w;
        }
        CHECKF(k >= 5, "half %d: %d samples", half, k);
        if (k < 5)
            continue;
        for (int a = 1; a < k; a++)
            for (int b = a; b > 0 && v[b] < v[b - 1]; b--) {
                double x = v[b];
                v[b] = v[b - 1];
                v[b - 1] = x;
            }
        double want = half % 2 == 0 ? 300.0 : 100.0;
        CHECKF(fabs(v[k / 2] - want) <= 0.01 * want, "half %d: level %.2f W, want %.0f W", half,
               v[k / 2], want);
    }
    /* Edges: where the series crosses 200 W, within the sensor's update period after the
     * true edge (the reading is refreshed every 100 ms with the last 25 ms). */
    int edges = 0;
    for (int i = 1; i < n; i++) {
        if (p[i - 1].power_w < 0 || p[i].power_w < 0)
            continue;
        if ((p[i - 1].power_w - 200.0) * (p[i].power_w - 200.0) >= 0)
            continue;
        double t = ((double)p[i].t_ns - t0) * 1e-9;
        /* Before its first update (100 ms) the sensor holds its power-on value. */
        if (t < 0.3)
            continue;
        double edge = floor(t / 0.5 + 0.5) * 0.5; /* nearest true edge */
        if (fabs(t - edge) > 0.25)
            edge = floor(t / 0.5) * 0.5;
        CHECKF(t >= edge - 0.02 - slack && t <= edge + 0.2 + slack,
               "crossing at %.3f s, true edge %.1f s", t, edge);
        int rising = p[i].power_w > p[i - 1].power_w;
        CHECKF(rising == (((int)floor(edge / 0.5 + 0.5)) % 2 == 0),
               "crossing at %.3f s goes the wrong way", t);
        edges++;
    }
    CHECKF(edges == 4, "%d edges, want 4 (0.5, 1.0, 1.5, 2.0 s)", edges);
    /* Cumulative energy grows by what the square wave delivers: 200 J per second. */
    double e_rate =
        (p[n - 1].energy_j - p[0].energy_j) / ((double)(p[n - 1].t_ns - p[0].t_ns) * 1e-9);
    CHECKF(fabs(e_rate - 200.0) < 40.0, "mean power from the counter %.1f W", e_rate);
}

int main(void)
{
    if (t_mkdtemp(tmpdir, sizeof tmpdir) != 0)
        return 1;
    RUN(test_bad_options);
    RUN(test_period_and_jitter);
    RUN(test_stop_latency);
    RUN(test_bounded_memory);
    RUN(test_square_wave);
    t_rmtree(tmpdir);
    return t_end();
}
