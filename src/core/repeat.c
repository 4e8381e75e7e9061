/* SPDX-License-Identifier: MIT */
/*
 * repeat.c - energy per repetition of a repeatable workload, robust to part-time power
 * sensors (joules_repeat, see joules.h). The groups start at different phases of the
 * sensor's update period, so that a sensor that sees 25 ms of every 100 ms sees every part
 * of the workload across the groups; the first repetitions of each group, while the sensor
 * catches up with the new load, are run but not measured.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/stats.h"

#define DEFAULT_GROUPS     4
#define MAX_GROUPS         64
#define DEFAULT_MIN_TIME_S 2.0
#define DEFAULT_PERIOD_NS  100000000LL

void joules_repeat_options_init(joules_repeat_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->struct_size = sizeof *opts;
}

/* The longest update period among the domains: the one whose phase matters. */
static int64_t update_period_ns(const joules_monitor *m)
{
    int64_t p = 0;
    for (int i = 0; i < m->n_domains; i++)
        if ((int64_t)m->domains[i].info.update_interval_ns > p)
            p = (int64_t)m->domains[i].info.update_interval_ns;
    return p > 0 ? p : DEFAULT_PERIOD_NS;
}

static int run_reps(joules_monitor *m, joules_work_fn work, void *user, long n, int *run)
{
    for (long i = 0; i < n; i++) {
        int rc = work(user);
        (*run)++;
        if (rc != 0)
            return joules__fail(m, JOULES_E_SYNC, "the workload returned %d (repetition %d)", rc,
                                *run);
    }
    return 0;
}

/*
 * Runs n repetitions and gives the time of one, warm: the median over up to five equal
 * chunks of the runs. A host that stalls the thread for a few milliseconds stalls one chunk;
 * in the plain mean of 25 runs of 1 ms, a stall of 6 ms makes the work look about a fifth
 * slower and the groups a fifth shorter than asked.
 */
#define WARM_CHUNKS 5
static int run_reps_timed(joules_monitor *m, joules_work_fn work, void *user, long n, int *run,
                          double *t_rep_s)
{
    double per_run[WARM_CHUNKS];
    int chunks = n < WARM_CHUNKS ? (int)n : WARM_CHUNKS;
    for (int c = 0; c < chunks; c++) {
        long size = n / chunks + (c < n % chunks);
        int64_t t0 = joules__now_ns();
        int rc = run_reps(m, work, user, size, run);
        if (rc)
            return rc;
        per_run[c] = (double)(joules__now_ns() - t0) * 1e-9 / (double)size;
    }
    *t_rep_s = chunks > 0 ? joules__median(per_run, chunks) : 0.0;
    return 0;
}

struct trail {
    joules_work_fn work;
    void *user;
    int *run;
    int rc;
};

static int trail_one(void *arg)
{
    struct trail *t = arg;
    t->rc = t->work(t->user);
    (*t->run)++;
    return t->rc;
}

struct sums {
    double energy_j, random_var, systematic_j, truth_j;
    double group_j[MAX_GROUPS]; /* each group's energy per repetition */
    int valid, have_truth, error;
    joules_method method;
    char message[JOULES_MESSAGE_MAX];
};

static void accumulate(const joules_monitor *m, const joules_measurement *g, long reps, int gi,
                       struct sums *s)
{
    for (int i = 0; i < g->n_domains; i++) {
        const joules_domain_energy *de = &g->domains[i];
        struct sums *d = &s[i];
        if (!de->valid) {
            d->valid = 0;
            d->error = de->error;
            joules__msg(d->message, sizeof d->message, "%s", de->message);
            continue;
        }
        /* The sensor's gain error is common to every group; the edges' errors are not. */
        double sys = m->domains[i].info.sensor_accuracy * de->energy_j;
        double rnd = de->uncertainty_j - sys;
        d->energy_j += de->energy_j;
        d->group_j[gi] = de->energy_j / (double)reps;
        d->systematic_j += sys;
        d->random_var += rnd * rnd;
        d->method = de->method;
        if (de->sim_truth_j >= 0)
            d->truth_j += de->sim_truth_j;
        else
            d->have_truth = 0;
    }
}

/*
 * Repetitions per group: `padded` (5 % over the least), unless a count from `least` to a
 * quarter above it makes the group last a whole number of update periods, within a tenth of
 * one. Then each group ends near the phase it began at, and what the edges miss at its begin
 * they miss alike at its end, where a group that ends at another phase keeps both errors
 * (docs/accuracy.md, joules_repeat, gives the figures).
 */
static long aligned_keep(long least, long padded, double t_rep_s, double period_s)
{
    if (least < 1)
        least = 1;
    long best = padded;
    double best_off = 0.1;
    for (long k = least; period_s > 0 && k <= least + least / 4; k++) {
        double periods = (double)k * t_rep_s / period_s;
        double off = fabs(periods - round(periods));
        if (round(periods) >= 1 && off < best_off) {
            best = k;
            best_off = off;
        }
    }
    return best;
}

/* The groups, each measured into g, summed by domain into sums, and the result in out. */
static int repeat_groups(joules_monitor *m, joules_work_fn work, void *user,
                         const joules_repeat_options *opts, joules_measurement *g,
                         struct sums *sums, joules_repeat_result *out)
{
    const joules_repeat_options o = *opts;
    int64_t period = update_period_ns(m);
    int groups = o.groups ? o.groups : DEFAULT_GROUPS;
    double min_time_s = o.min_time_s > 0 ? o.min_time_s : DEFAULT_MIN_TIME_S;
    double settle_s = o.settle_s > 0 ? o.settle_s : (double)period * 1e-9;

    joules_measurement storage = out->per_rep;
    memset(out, 0, sizeof *out);
    joules_measurement_init(&out->per_rep, storage.domains, storage.capacity);
    int run = 0;
    int64_t t0 = joules__now_ns();
    int rc = run_reps(m, work, user, 1, &run); /* calibration, also a warm-up */
    if (rc)
        return rc;
    double t_rep = fmax((double)(joules__now_ns() - t0) * 1e-9, 1e-7);
    long drop = (long)ceil(settle_s / t_rep);
    long keep = 0; /* set once the first group's dropped runs have timed the work warm */

    for (int i = 0; i < m->n_domains; i++) {
        sums[i].valid = 1;
        sums[i].have_truth = 1;
    }
    double time_s = 0.0;
    int64_t anchor = joules__now_ns();
    for (int gi = 0; gi < groups; gi++) {
        if (gi > 0) {
            /* Start at phase gi/groups of the update period, after at least a quarter period
             * of rest so the sensor sees the change. */
            int64_t now = joules__now_ns() + period / 4;
            int64_t k = (now - anchor + period - 1) / period;
            if (joules__sleep_until(anchor + k * period + (int64_t)gi * period / groups) != 0)
                return joules__fail(m, JOULES_E_STATE,
                                    "joules_repeat: the clock is virtual and no sleep moves it "
                                    "(joules__set_sleep): the groups' phases cannot be shifted");
        }
        double t_warm = 0.0;
        if ((rc = gi == 0 ? run_reps_timed(m, work, user, drop, &run, &t_warm)
                          : run_reps(m, work, user, drop, &run)))
            return rc;
        if (gi == 0) {
            /* The first run is cold (a process started from nothing, clocks at idle) and can
             * be much slower than the rest: groups sized from it would measure less than
             * min_time_s. The dropped runs, a period of the work, time it warm; 5 % more keeps
             * the total at min_time_s or above while the work keeps its pace. Every group
             * keeps as many runs: groups of unequal lengths end at phases that are not spread
             * evenly over the period, and their edges' errors no longer cancel. */
            if (t_warm > 1e-7)
                t_rep = t_warm;
            if (o.repetitions) {
                keep = (o.repetitions + groups - 1) / groups;
            } else {
                long least = (long)ceil(min_time_s / (t_rep * groups));
                keep = aligned_keep(least, (long)ceil(1.05 * min_time_s / (t_rep * groups)), t_rep,
                                    (double)period * 1e-9);
            }
            if (keep < 1)
                keep = 1;
        }
        char name[JOULES_NAME_MAX];
        snprintf(name, sizeof name, "joules_repeat#%d", gi);
        if ((rc = joules_window_begin(m, name)))
            return rc;
        if ((rc = run_reps(m, work, user, keep, &run))) {
            joules_window_cancel(m, name);
            return rc;
        }
        /* The group's end is anchored on the next counter step while the workload keeps
         * running, unmeasured: the counter interval holding the edge then carries the same
         * load on both sides of it, and interpolating inside it is unbiased. */
        struct trail tr = {work, user, &run, 0};
        struct joules__settle_hook hook = {trail_one, &tr};
        if ((rc = joules__window_end(m, name, g, 1, &hook)))
            return rc;
        if (tr.rc)
            return joules__fail(m, JOULES_E_SYNC, "the workload returned %d (repetition %d)", tr.rc,
                                run);
        accumulate(m, g, keep, gi, sums);
        time_s += g->duration_s;
    }

    long kept = keep * groups;
    out->groups = groups;
    out->repetitions_run = run;
    out->repetitions_kept = (int)kept;
    out->time_per_rep_s = time_s / (double)kept;
    joules_measurement *r = &out->per_rep;
    snprintf(r->name, sizeof r->name, "per repetition");
    r->begin_ns = anchor;
    r->end_ns = joules__now_ns();
    r->duration_s = out->time_per_rep_s;
    r->n_domains = m->n_domains;
    double var_total = 0.0;
    for (int i = 0; i < m->n_domains; i++) {
        joules_domain_energy *de = &r->domains[i];
        const struct sums *s = &sums[i];
        memset(de, 0, sizeof *de);
        de->domain = i;
        de->simulated = m->domains[i].info.simulated;
        r->simulated |= de->simulated;
        de->valid = s->valid;
        de->method = s->method;
        de->energy_j = s->energy_j / (double)kept;
        /* What the groups themselves say of the error: they start at different phases of
         * the update period, so an edge error that depends on the phase (a load repeating
         * with the counter's own period, which no reading shows) differs between them. */
        double spread = joules__mean_halfwidth95(s->group_j, groups);
        de->uncertainty_j =
            fmax(sqrt(s->random_var) / (double)kept, spread) + s->systematic_j / (double)kept;
        de->avg_power_w = time_s > 0 ? s->energy_j / time_s : 0.0;
        de->sim_truth_j = s->have_truth && de->simulated ? s->truth_j / (double)kept : -1.0;
        if (s->valid)
            joules__msg(de->message, sizeof de->message,
                        "%d groups at shifted phases, %ld repetitions kept of %d run", groups, kept,
                        run);
        else {
            de->error = s->error;
            joules__msg(de->message, sizeof de->message, "%s", s->message);
        }
        if (de->valid && m->domains[i].info.counted_in_total) {
            r->total_energy_j += de->energy_j;
            var_total += de->uncertainty_j * de->uncertainty_j;
        }
    }
    r->total_uncertainty_j = sqrt(var_total);
    return 0;
}

int joules_repeat(joules_monitor *m, joules_work_fn work, void *user,
                  const joules_repeat_options *opts, joules_repeat_result *out)
{
    if (!m)
        return JOULES_E_INVALID;
    if (!work || !out)
        return joules__fail(m, JOULES_E_INVALID, "joules_repeat: work and out are required");
    joules_repeat_options o;
    joules_repeat_options_init(&o);
    if (opts) {
        if (opts->struct_size < sizeof(uint32_t) || opts->struct_size > sizeof o)
            return joules__fail(m, JOULES_E_INVALID,
                                "joules_repeat: options not initialised with "
                                "joules_repeat_options_init()");
        memcpy(&o, opts, opts->struct_size);
    }
    if (o.groups < 0 || o.groups > MAX_GROUPS || o.repetitions < 0 || !(o.min_time_s >= 0) ||
        !(o.settle_s >= 0) || o.min_time_s > 86400 || o.settle_s > 60)
        return joules__fail(m, JOULES_E_INVALID,
                            "joules_repeat: groups 0..64, repetitions >= 0, min_time_s 0..86400 "
                            "and settle_s 0..60 expected");
    int rc = joules__result_check(m, &out->per_rep, "joules_repeat (per_rep)");
    if (rc)
        return rc;
    /* Each group's window and the sums by domain, sized by the monitor: nothing static, so
     * that threads with monitors of their own may repeat at once. */
    joules_measurement *g;
    if ((rc = joules_measurement_alloc(m, &g)))
        return rc;
    struct sums *sums = calloc(m->n_domains > 0 ? (size_t)m->n_domains : 1, sizeof *sums);
    if (!sums) {
        joules_measurement_free(g);
        return joules__fail(m, JOULES_E_NOMEM, "joules_repeat: out of memory for %d domains",
                            m->n_domains);
    }
    rc = repeat_groups(m, work, user, &o, g, sums, out);
    free(sums);
    joules_measurement_free(g);
    return rc;
}
