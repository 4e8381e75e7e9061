/* SPDX-License-Identifier: MIT */
/*
 * ab_run.c - the procedure of the A/B experiment (docs/ab.md):
 *  1. every arm's inputs are generated and loaded; one product of each runs unmeasured
 *     (handles, first launches, clock ramp), then one timed product per arm, whose result
 *     is checked against a double-precision reference (never on zeros);
 *  2. the number of products per window is chosen once for all arms (same work in every
 *     window) so that the fastest arm's window lasts at least --min-window;
 *  3. rounds of windows with the arms interleaved in ABBA order (round r forwards when r is
 *     even, backwards when odd), so that slow drift (temperature) hits every arm alike;
 *  4. a sampler (joules_sampler) reads power, clock, temperature and clock-event reasons
 *     during the run for the per-window means and the time series.
 * A stop request (signal flag) ends the experiment between products; the interrupted window
 * is dropped and what was measured is kept.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ab/ab.h"
#include "ab/ab_series.h"
#include "util/util.h"

#define GROUPED_MIN_S 1.6 /* measured time of a grouped window: 4 groups of 0.4 s */
#define LEAD_IN_S     0.1 /* unmeasured load before each window: one counter period */
/* Unmeasured load after a window, per call: the window's products run in one call, and the
 * host's time between calls (a sizeable fraction of a product on the simulated GPU) would
 * otherwise make the load after the end edge lighter than before it. The end edge's
 * interval would then run below the one before it, as if the load changed inside it. */
#define TRAIL_CHUNK_S 0.02
#define MAX_PRODUCTS  1000000
#define WARM_LOAD_S   0.2  /* load before the products are timed: the clocks climb under it */
#define ARM_SETTLE_S  0.05 /* ... and each arm's own load before it is timed */
#define TIMED_MIN_S   0.1  /* a product is timed over at least this much of them */
#define WINDOW_NAME   "ab"

int ab_stopped(const struct ab_setup *s)
{
    return s->stop && *s->stop;
}

static int stopped(const struct ab_params *p)
{
    return ab_stopped(&p->setup);
}

/* The domains whose energy is the experiment's: the GPU, or the CPU domains of the total. */
static int energy_domains(const struct ab_params *p, int *dom, struct ab_result *r)
{
    int n = 0, count = joules_domain_count(p->setup.m);
    char names[JOULES_MESSAGE_MAX] = "";
    size_t used = 0;
    joules_method method = JOULES_METHOD_NONE;
    for (int i = 0; i < count && n < JOULES_MAX_DOMAINS; i++) {
        joules_domain_info di;
        if (joules_domain_info_get(p->setup.m, i, &di) != 0)
            continue;
        int take = p->setup.gpu_domain >= 0 ? i == p->setup.gpu_domain
                                            : (di.kind & JOULES_KINDS_CPU) && di.counted_in_total;
        if (!take)
            continue;
        dom[n++] = i;
        method = di.method;
        if (di.simulated)
            r->simulated = 1;
        int w = snprintf(names + used, sizeof names - used, "%s%s", used ? "+" : "", di.name);
        if (w > 0 && (size_t)w < sizeof names - used)
            used += (size_t)w;
        if (p->setup.gpu_domain >= 0)
            snprintf(r->device, sizeof r->device, "%s", di.device);
    }
    /* A GPU without an energy counter is measured through its power sensor, which may see
     * only 25 ms of every 100 ms: each window is then measured as phase-shifted groups. */
    r->grouped = n > 0 && p->setup.gpu_domain >= 0 && method == JOULES_METHOD_INTEGRATED;
    if (n > 0)
        snprintf(r->energy_source, sizeof r->energy_source, "%s (%s%s)", names,
                 joules_method_name(method),
                 r->grouped ? ", each window as 4 phase-shifted groups" : "");
    return n;
}

/* Warm-up, timing of one product per arm, and the correctness check. */
/*
 * One call of about `seconds` of products of slot (one product when the time of one, *one_s,
 * is not known yet or seconds is 0); *one_s becomes the time of one in that call and *took_s
 * the call's time. Products run back to back in one call keep the GPU's load as a window's
 * products do: between calls the host takes its time, and the simulated clocks fall.
 */
static int run_for(const struct ab_params *p, struct ab_exec *x, int slot, double seconds,
                   double *one_s, double *took_s, int *done, char *err, size_t len)
{
    double reps = *one_s > 0 && seconds > 0 ? ceil(seconds / *one_s) : 1;
    int n = reps > MAX_PRODUCTS ? MAX_PRODUCTS : (int)reps;
    int64_t t0 = util_now_ns();
    if (p->ops->run(x, slot, n, done, err, len) != 0)
        return -1;
    *took_s = (double)(util_now_ns() - t0) * 1e-9;
    if (*done > 0 && *took_s > 0)
        *one_s = *took_s / *done;
    return 0;
}

static int warm_up(const struct ab_params *p, struct ab_exec *x, struct ab_result *r, char *err,
                   size_t len)
{
    int done;
    for (int k = 0; k < p->n_arms && !stopped(p); k++)
        if (p->ops->run(x, k, 1, &done, err, len) != 0)
            return -1;
    /* A GPU that sat idle runs its first products at an idle clock (the simulated one climbs
     * 15 MHz per ms, 130 ms from idle to boost): timed then, a product looks many times
     * slower than it is, and the windows come out far below --min-window. Keep the load on,
     * then time. */
    for (int k = 0; k < p->n_arms && !stopped(p); k++) {
        /* Each arm then settles at its own clock (a power cap holds one arm lower than the
         * other) before it is timed. */
        int64_t warm_until = util_now_ns() + (int64_t)((k == 0 ? WARM_LOAD_S : ARM_SETTLE_S) * 1e9);
        double one_s = 0.0, took_s = 0.0;
        if (run_for(p, x, k, 0.0, &one_s, &took_s, &done, err, len) != 0)
            return -1;
        while (util_now_ns() < warm_until && !stopped(p))
            if (run_for(p, x, k, TRAIL_CHUNK_S, &one_s, &took_s, &done, err, len) != 0)
                return -1;
        /* Timed over one call of TIMED_MIN_S of products, sized from the calls before: the
         * first guess, from calls of one product, counts the host's time between calls and
         * is too slow, most under a sanitizer, which would make the windows too short. */
        for (int tries = 0; tries < 4 && !stopped(p); tries++) {
            if (run_for(p, x, k, TIMED_MIN_S, &one_s, &took_s, &done, err, len) != 0)
                return -1;
            if (took_s >= 0.9 * TIMED_MIN_S)
                break;
        }
        done = done > 0 ? 1 : 0; /* the last product ran: it can be checked */
        r->warm_time_s[k] = one_s;
        if (p->arms[k] == AB_ARM_ZEROS) {
            snprintf(r->check[k].note, sizeof r->check[k].note,
                     "not checked: a product of zeros proves nothing");
            continue;
        }
        if (done == 1 && p->ops->check(x, k, &r->check[k], err, len) != 0)
            return -1;
        if (r->check[k].checked && !r->check[k].passed) {
            snprintf(err, len,
                     "the product on %s inputs is wrong: an entry is %.3g times the tolerance "
                     "away from the double-precision reference (%s)",
                     ab_arm_name(p->arms[k]), r->check[k].max_err_ratio, r->check[k].note);
            return -1;
        }
    }
    return 0;
}

static void record(const struct ab_params *p, struct ab_result *r, const joules_measurement *m,
                   const int *dom, int n_dom, struct ab_run_rec *rec)
{
    rec->time_s = m->duration_s;
    rec->energy_valid = n_dom > 0;
    rec->energy_j = rec->uncertainty_j = 0;
    rec->sim_truth_j = -1;
    for (int k = 0; k < n_dom; k++) {
        const joules_domain_energy *de = NULL;
        for (int i = 0; i < m->n_domains; i++)
            if (m->domains[i].domain == dom[k])
                de = &m->domains[i];
        if (!de || !de->valid) {
            rec->energy_valid = 0;
            snprintf(rec->note, sizeof rec->note, "%s", de ? de->message : "domain not measured");
            continue;
        }
        rec->energy_j += de->energy_j;
        rec->uncertainty_j += de->uncertainty_j;
        if (de->simulated && de->sim_truth_j >= 0)
            rec->sim_truth_j = (rec->sim_truth_j < 0 ? 0 : rec->sim_truth_j) + de->sim_truth_j;
    }
    double gflop = r->flops * rec->products * 1e-9;
    rec->gflops = rec->time_s > 0 ? gflop / rec->time_s : NAN;
    if (!rec->energy_valid)
        rec->energy_j = rec->uncertainty_j = NAN;
    rec->power_w = rec->energy_valid && rec->time_s > 0 ? rec->energy_j / rec->time_s : NAN;
    rec->gflop_per_j = rec->energy_valid && rec->energy_j > 0 ? gflop / rec->energy_j : NAN;
    (void)p;
}

struct trail {
    const struct ab_params *p;
    struct ab_exec *x;
    int slot;
    int failed;
    int64_t first_ns; /* when the first trailing product began; 0 before */
    double call_s;    /* products per call: about this long (0: one) */
    double one_s;     /* the time of one product */
};

/* More products, not measured, while the end edge waits for the next counter step. */
static int trail_product(void *user)
{
    struct trail *t = user;
    char err[256];
    int done = 0;
    if (!t->first_ns)
        t->first_ns = util_now_ns();
    double took_s = 0.0;
    if (stopped(t->p) ||
        run_for(t->p, t->x, t->slot, t->call_s, &t->one_s, &took_s, &done, err, sizeof err) != 0 ||
        done < 1) {
        t->failed = 1;
        return 1;
    }
    return 0;
}

/* When the device finished the products just run: the executor's word, else now. */
static int64_t device_done_ns(const struct ab_params *p, struct ab_exec *x)
{
    int64_t now = util_now_ns();
    int64_t end = p->ops->last_end_ns ? p->ops->last_end_ns(x) : 0;
    return end > 0 && end < now ? end : now;
}

/*
 * The GPU idles while the host runs between products: at each edge, from the last product
 * before it to the first after it (edge reads, a thread the host preempted). The edge's
 * counter interval then does not carry the same load on both sides, as the busy edges
 * assume; an idle gap of g moves the energy placed before the edge by at most g times the
 * power it lost, less than the window's mean power. Microseconds on a quiet host, but
 * milliseconds on busy cores: enough to put a sub-second window outside its interval.
 * Only the GPU's counter is interpolated inside its interval.
 */
static void widen_for_gap(const struct ab_params *p, joules_measurement *m, double gap_s)
{
    for (int i = 0; i < m->n_domains; i++) {
        joules_domain_energy *de = &m->domains[i];
        joules_domain_info di;
        if (de->valid && joules_domain_info_get(p->setup.m, de->domain, &di) == 0 &&
            di.kind == JOULES_KIND_GPU && de->avg_power_w > 0)
            de->uncertainty_j += gap_s * de->avg_power_w;
    }
}

/*
 * One window's worth of products measured as phase-shifted groups (joules_repeat), scaled
 * back to a window of r->products products. 0 done, 1 interrupted, -1 failed.
 */
static int measure_grouped(const struct ab_params *p, struct ab_exec *x, struct ab_result *r,
                           struct ab_series *smp, int slot, joules_measurement *out, char *err,
                           size_t len)
{
    joules_repeat_result rr; /* per_rep fills out's own storage */
    joules_measurement_init(&rr.per_rep, out->domains, out->capacity);
    joules_repeat_options ro;
    joules_repeat_options_init(&ro);
    ro.groups = 4;
    /* Each group must span several sensor periods, however short the window asked for:
     * the figure is scaled back to a window of r->products products below. */
    ro.min_time_s = p->min_window_s > GROUPED_MIN_S ? p->min_window_s : GROUPED_MIN_S;
    struct trail tr = {p, x, slot, 0, 0, 0.0, r->warm_time_s[slot]}; /* a repetition: one */
    ab_series_window(smp, slot);
    int rc = joules_repeat(p->setup.m, trail_product, &tr, &ro, &rr);
    ab_series_window(smp, -1);
    if (rc != 0) {
        if (stopped(p)) {
            r->interrupted = 1;
            return 1;
        }
        snprintf(err, len, "the measurement failed: %s", joules_last_error(p->setup.m));
        return -1;
    }
    *out = rr.per_rep;
    double k = (double)r->products;
    out->duration_s *= k;
    for (int i = 0; i < out->n_domains; i++) {
        joules_domain_energy *de = &out->domains[i];
        de->energy_j *= k;
        de->uncertainty_j *= k;
        if (de->sim_truth_j >= 0)
            de->sim_truth_j *= k;
    }
    return 0;
}

/* A progress event of one of the phases before the windows. */
static void progress(const struct ab_params *p, enum ab_phase phase, int slot, double product_s,
                     int products)
{
    if (!p->progress)
        return;
    struct ab_progress ev = {phase, 0, 0, 0, slot, product_s, products, NULL};
    p->progress(&ev, p->progress_user);
}

static int measure_rounds(const struct ab_params *p, struct ab_exec *x, struct ab_result *r,
                          struct ab_series *smp, const int *dom, int n_dom,
                          joules_domain_energy *storage, int capacity, char *err, size_t len)
{
    joules_measurement m;
    joules_measurement_init(&m, storage, capacity);
    int total = p->repeats * p->n_arms;
    for (int round = 0; round < p->repeats && !stopped(p); round++) {
        for (int j = 0; j < p->n_arms && !stopped(p); j++) {
            int slot = round % 2 == 0 ? j : p->n_arms - 1 - j;
            struct ab_run_rec *rec = &r->runs[r->n_runs];
            memset(rec, 0, sizeof *rec);
            rec->slot = slot;
            rec->round = round;
            if (r->grouped) {
                int rc = measure_grouped(p, x, r, smp, slot, &m, err, len);
                if (rc != 0)
                    return rc < 0 ? -1 : 0;
                rec->products = r->products;
                goto measured;
            }
            /* The counter interval holding each edge must carry the same load on both sides
             * of it: lead in with unmeasured products, and keep the product running after
             * the end until the counter has stepped (joules_window_end_busy). */
            int lead = 0;
            if (p->ops->run(x, slot, r->lead_in, &lead, err, len) != 0)
                return -1;
            int64_t lead_done_ns = device_done_ns(p, x);
            ab_series_window(smp, slot);
            if (joules_window_begin(p->setup.m, WINDOW_NAME) != 0) {
                snprintf(err, len, "the measurement could not begin: %s",
                         joules_last_error(p->setup.m));
                ab_series_window(smp, -1);
                return -1;
            }
            int64_t begun_ns = util_now_ns();
            int done = 0;
            int rc = p->ops->run(x, slot, r->products, &done, err, len);
            int64_t done_ns = device_done_ns(p, x);
            if (rc != 0 || done < r->products) {
                joules_window_cancel(p->setup.m, WINDOW_NAME);
                ab_series_window(smp, -1);
                if (rc != 0)
                    return -1;
                r->interrupted = 1; /* stopped between products: the window is dropped */
                return 0;
            }
            struct trail tr = {p, x, slot, 0, 0, TRAIL_CHUNK_S, r->warm_time_s[slot]};
            if (joules_window_end_busy(p->setup.m, WINDOW_NAME, &m, trail_product, &tr) != 0) {
                snprintf(err, len, "the measurement failed: %s", joules_last_error(p->setup.m));
                ab_series_window(smp, -1);
                return -1;
            }
            int64_t resumed_ns = tr.first_ns ? tr.first_ns : util_now_ns();
            rec->host_gap_s = (double)((begun_ns - lead_done_ns) + (resumed_ns - done_ns)) * 1e-9;
            widen_for_gap(p, &m, rec->host_gap_s);
            rec->products = done;
        measured:
            ab_series_window_end(smp, rec);
            if (isnan(rec->clock_mhz) && p->status_domain >= 0) {
                joules_gpu_status st;
                if (joules_gpu_status_get(p->setup.m, p->status_domain, &st) == 0) {
                    rec->clock_mhz = st.clock_sm_mhz;
                    rec->temperature_c = st.temperature_c;
                    rec->reasons = st.clock_event_reasons;
                }
            }
            record(p, r, &m, dom, n_dom, rec);
            r->n_runs++;
            if (p->progress) {
                struct ab_progress ev = {AB_PHASE_WINDOW, r->n_runs, total, round, slot, 0, 0, rec};
                p->progress(&ev, p->progress_user);
            }
        }
        if (!r->interrupted && !stopped(p))
            r->rounds_done = round + 1;
    }
    if (stopped(p))
        r->interrupted = 1;
    return 0;
}

/* The windows of every round, into one result sized for the monitor's domains. */
static int measure(const struct ab_params *p, struct ab_exec *x, struct ab_result *r,
                   struct ab_series *smp, const int *dom, int n_dom, char *err, size_t len)
{
    int n = joules_domain_count(p->setup.m);
    joules_domain_energy *storage = calloc(n > 0 ? (size_t)n : 1, sizeof *storage);
    if (!storage) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    int rc = measure_rounds(p, x, r, smp, dom, n_dom, storage, n > 0 ? n : 0, err, len);
    free(storage);
    return rc;
}

int ab_run(const struct ab_params *p, struct ab_result *r, char *err, size_t len)
{
    memset(r, 0, sizeof *r);
    r->n_arms = p->n_arms;
    memcpy(r->arms, p->arms, sizeof r->arms);
    r->flops = 2.0 * (double)p->setup.n * (double)p->setup.n * (double)p->setup.n;
    int dom[JOULES_MAX_DOMAINS];
    int n_dom = energy_domains(p, dom, r);
    r->energy_available = n_dom > 0;
    r->runs = calloc((size_t)p->repeats * (size_t)p->n_arms + 1, sizeof *r->runs);
    if (!r->runs) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    struct ab_exec *x = NULL;
    if (p->ops->open(&x, &p->setup, err, len) != 0)
        return -1;
    int rc = 0;
    for (int k = 0; k < p->n_arms && rc == 0; k++) {
        r->info[k].toggle = r->info[k].alpha = -1;
        progress(p, AB_PHASE_LOAD, k, 0.0, 0);
        rc = p->ops->load(x, k, p->arms[k], &r->info[k], err, len);
    }
    if (rc == 0) {
        progress(p, AB_PHASE_WARM_UP, 0, 0.0, 0);
        rc = warm_up(p, x, r, err, len);
    }
    if (rc == 0 && !stopped(p)) {
        double t = INFINITY;
        for (int k = 0; k < p->n_arms; k++)
            if (r->warm_time_s[k] > 0 && r->warm_time_s[k] < t)
                t = r->warm_time_s[k];
        /* A product timed over 0.1 s comes out a few % slower than in a window (the last
         * partial millisecond of the simulated GPU's steps, a launch gap): 10 % more keeps
         * the fastest arm's windows at --min-window or above. */
        double reps = isfinite(t) ? ceil(1.1 * p->min_window_s / t) : 1;
        r->products = reps < 1 ? 1 : reps > MAX_PRODUCTS ? MAX_PRODUCTS : (int)reps;
        /* Lead-in: at least one counter update period (100 ms) of the same load. */
        double lead = isfinite(t) ? ceil(LEAD_IN_S / t) : 1;
        r->lead_in = lead < 1 ? 1 : lead > MAX_PRODUCTS ? MAX_PRODUCTS : (int)lead;
        progress(p, AB_PHASE_PLAN, 0, t, r->products);
        struct ab_series smp;
        rc = ab_series_start(&smp, p, r, dom, n_dom, err, len);
        if (rc == 0) {
            rc = measure(p, x, r, &smp, dom, n_dom, err, len);
            ab_series_stop(&smp);
        }
    }
    if (stopped(p))
        r->interrupted = 1;
    p->ops->close(x);
    return rc;
}

void ab_result_free(struct ab_result *r)
{
    free(r->runs);
    free(r->samples);
    r->runs = NULL;
    r->samples = NULL;
}
