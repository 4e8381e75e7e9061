/* SPDX-License-Identifier: MIT */
/*
 * bench_clock.c - how often the stated 95 % interval holds the truth when the counter's
 * update clock wanders (the simulated GPU's realistic clock: each period 100 ms plus a draw
 * in whole ms from -jitter to +jitter, each device at a phase of its own), against the exact
 * 100 ms grid, in the simulated GPU's virtual time.
 *
 * Per clock, load and window length: windows on each profile and seed (the seed draws the
 * phase and the periods' wander), each ended twice at the same instant: plainly (the end
 * extrapolated past the last step) and deferred, collected after the counter's next step
 * (the settled figure). Then the talk's A/B experiment (python/examples/talk_ab.py --sim):
 * windows of 20 back-to-back kernels from rest (about 1.2 s on the A6000; "A/B kernels", not in
 * the totals). Printed: the windows whose interval held the truth, the mean |error| and the
 * mean half-width of the interval, both in % of the truth. Deterministic.
 *
 * Usage: bench_clock [--windows N] [--seeds N] [--jitter MS] [--warmup S] [--host-gap MS]
 *                    [--profile NAME] [--load TEXT] [--verbose]
 * --warmup: simulated time between the monitor's open and the first window (default 1 s; the
 * clock is learnt in about a second). --host-gap: in the back-to-back A/B windows, the GPU
 * idles up to MS ms before each product and after it (default 0).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsim.h"

#define MS 1000000LL

static struct vsim vs;
static int verbose;
static double warmup_s = 1.0;
static int host_gap_ms;

struct cell {
    int n, cov_j, cov_s;
    double err_j, err_s, width_j, width_s; /* sums of |error| / truth and u / truth */
};

struct load {
    const char *name, *scenario;
};

static const struct load loads[] = {
    {"steady", "idle 0.3s\nphase 900s util=1 alpha=0.6\n"},
    {"bursts 30/250 ms", "phase 30ms util=1 alpha=0.9\nidle 220ms context=1\nrepeat forever\n"},
    {"square 1 s", "phase 0.5s util=1 alpha=0.7\nidle 0.5s context=1\nrepeat forever\n"},
};
#define N_LOADS (sizeof loads / sizeof loads[0])
static const char *const profiles[] = {"a100-sxm4-80gb", "h100-sxm5", "a6000"};
#define N_PROFILES (sizeof profiles / sizeof profiles[0])
static const double lengths_s[] = {0.005, 0.02, 0.05, 0.2, 0.5, 1.0, 2.0};
#define N_LENGTHS (sizeof lengths_s / sizeof lengths_s[0])

static void add(struct cell *c, const joules_domain_energy *j, const joules_domain_energy *s,
                double truth)
{
    c->n++;
    c->cov_j += fabs(j->energy_j - truth) <= j->uncertainty_j;
    c->cov_s += fabs(s->energy_j - truth) <= s->uncertainty_j;
    c->err_j += fabs(j->energy_j - truth) / truth;
    c->err_s += fabs(s->energy_j - truth) / truth;
    c->width_j += j->uncertainty_j / truth;
    c->width_s += s->uncertainty_j / truth;
}

static void one_window(int64_t length_ns, struct cell *c, const char *what)
{
    joules_domain_energy ja_dom[4], sa_dom[4];
    joules_measurement ja, sa;
    joules_measurement_init(&ja, ja_dom, 4);
    joules_measurement_init(&sa, sa_dom, 4);
    uint64_t ticket = 0;
    int64_t t0 = vsim_now_ns();
    joules_window_begin(vs.m, "plain");
    joules_window_begin(vs.m, "deferred");
    vsim_run_until(&vs, t0 + length_ns);
    int64_t t1 = vsim_now_ns();
    joules_window_end(vs.m, "plain", &ja);
    joules_window_end_deferred(vs.m, "deferred", &ticket);
    vsim_run_until(&vs, t1 + 150 * MS);
    joules_window_collect(vs.m, ticket, 0, &sa);
    double truth = vsim_truth_j(&vs, t0, t1);
    const joules_domain_energy *j = &ja.domains[0], *s = &sa.domains[0];
    add(c, j, s, truth);
    int miss_j = fabs(j->energy_j - truth) > j->uncertainty_j;
    int miss_s = fabs(s->energy_j - truth) > s->uncertainty_j;
    if (verbose > 1 || (verbose && (miss_j || miss_s)))
        printf("    %s at %9.3f s, %5.3f s: truth %9.4f J, plain %+7.3f %% +/- %6.3f%s, "
               "settled %+7.3f %% +/- %6.3f%s\n",
               what, (double)(t0 - vs.start_ns) * 1e-9, (double)length_ns * 1e-9, truth,
               100 * (j->energy_j - truth) / truth, 100 * j->uncertainty_j / truth,
               miss_j ? " MISS" : "", 100 * (s->energy_j - truth) / truth,
               100 * s->uncertainty_j / truth, miss_s ? " MISS" : "");
}

/* One profile, load and seed: n windows of each length, begun after gaps from an even,
 * deterministic sequence over 0-1 s, so that their edges fall at every phase. */
static void run_seed(const char *profile, const struct load *ld, int seed, int jitter_ms,
                     int n_windows, struct cell cells[N_LENGTHS])
{
    char text[1024], what[96];
    /* The phase of the clock from the seed, so that the exact grid moves as well. */
    int phase_ms = (int)((unsigned)seed * 37u % 100u);
    snprintf(text, sizeof text, "profile %s\ndevices 1\nseed %d\nsensor phase=%dms jitter=%dms\n%s",
             profile, seed, phase_ms, jitter_ms, ld->scenario);
    snprintf(what, sizeof what, "%s seed %d", profile, seed);
    vsim_open(&vs, text, warmup_s);
    for (size_t li = 0; li < N_LENGTHS; li++)
        for (int i = 0; i < n_windows; i++) {
            double u = fmod(0.6180339887498949 * (double)(i + 1 + 7 * seed), 1.0);
            vsim_run_until(&vs, vsim_now_ns() + MS * (int64_t)(1 + 999 * u));
            one_window((int64_t)llround(lengths_s[li] * 1e9), &cells[li], what);
        }
    vsim_close(&vs);
}

/* The talk's A/B experiment (python/examples/talk_ab.py --sim): after warm-up kernels, windows
 * of 20 back-to-back kernels begun from rest, the GPU idle between them. */
static void run_work(const char *profile, int seed, int jitter_ms, int back_to_back, struct cell *c)
{
    char text[512], what[96];
    int phase_ms = (int)((unsigned)seed * 37u % 100u);
    snprintf(text, sizeof text,
             "profile %s\ndevices 1\nseed %d\nsensor phase=%dms jitter=%dms\nidle 1000s "
             "context=1\n",
             profile, seed, phase_ms, jitter_ms);
    snprintf(what, sizeof what, "%s seed %d", profile, seed);
    vsim_open(&vs, text, 0.3);
    for (int i = 0; i < 3; i++)
        (void)vsim_kernel(&vs, 2e12, 0.9);
    for (int rep = 0; rep < 12; rep++) {
        joules_domain_energy ja_dom[4], sa_dom[4];
        joules_measurement ja, sa;
        joules_measurement_init(&ja, ja_dom, 4);
        joules_measurement_init(&sa, sa_dom, 4);
        uint64_t ticket = 0;
        /* Back to back, as talk_ab.py runs them: each window begins a few ms after the one
         * before has settled (its end waited for the counter's step); else after 20-150 ms
         * more of rest. */
        vsim_run_until(&vs, vsim_now_ns() + (back_to_back ? rep % 4 : 20 + 37 * rep % 130) * MS);
        int64_t t0 = vsim_now_ns();
        joules_window_begin(vs.m, "plain");
        joules_window_begin(vs.m, "deferred");
        /* --host-gap: a host that takes up to that long to submit the next product (the
         * GPU idle meanwhile), as a Python loop on a busy machine does. */
        if (back_to_back && host_gap_ms)
            vsim_run_until(&vs, vsim_now_ns() + host_gap_ms * MS);
        for (int i = 0; i < 20; i++) {
            (void)vsim_kernel(&vs, 2e12, rep % 2 ? 0.5 : 0.9);
            if (back_to_back && host_gap_ms)
                vsim_run_until(&vs, vsim_now_ns() + ((i * 7 + rep) % (host_gap_ms + 1)) * MS);
        }
        int64_t t1 = vsim_now_ns();
        joules_window_end(vs.m, "plain", &ja);
        if (back_to_back) {
            joules_window_end_busy(vs.m, "deferred", &sa, vsim_busy_tick, &vs);
        } else {
            joules_window_end_deferred(vs.m, "deferred", &ticket);
            vsim_run_until(&vs, t1 + 150 * MS);
            joules_window_collect(vs.m, ticket, 0, &sa);
        }
        double truth = vsim_truth_j(&vs, t0, t1);
        const joules_domain_energy *j = &ja.domains[0], *s = &sa.domains[0];
        add(c, j, s, truth);
        int miss_s = fabs(s->energy_j - truth) > s->uncertainty_j;
        if (verbose > 1 || (verbose && miss_s))
            printf("    %s window %d (%.3f s): truth %9.4f J, settled %+7.3f %% +/- %6.3f%s\n",
                   what, rep, (double)(t1 - t0) * 1e-9, truth, 100 * (s->energy_j - truth) / truth,
                   100 * s->uncertainty_j / truth, miss_s ? " MISS" : "");
    }
    vsim_close(&vs);
}

static void print_cell(const char *load, double len_s, const struct cell *c)
{
    double n = c->n ? c->n : 1;
    printf("%-18s %6.3fs %5d  %5d %5.1f%% %8.3f %8.3f   %5d %5.1f%% %8.3f %8.3f\n", load, len_s,
           c->n, c->cov_j, 100.0 * c->cov_j / n, 100 * c->err_j / n, 100 * c->width_j / n, c->cov_s,
           100.0 * c->cov_s / n, 100 * c->err_s / n, 100 * c->width_s / n);
}

static int usage(void)
{
    fprintf(stderr,
            "usage: bench_clock [--windows N] [--seeds N] [--jitter MS] [--warmup S] "
            "[--host-gap MS] [--profile NAME] [--load TEXT] [--verbose]...\n"
            "  N: windows per length and seed (default 20), seeds (default 4); MS: the "
            "realistic clock's wander, 1-10 (default 2);\n  S: seconds from the open to the "
            "first window, 0-100 (default 1); --host-gap: idle ms around each A/B product, 0-50\n");
    return 2;
}

int main(int argc, char **argv)
{
    int n_windows = 20, n_seeds = 4, jitter_ms = 2;
    const char *only_profile = NULL, *only_load = NULL;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (!strcmp(argv[i], "--windows") && i + 1 < argc) {
            n_windows = (int)strtol(argv[++i], &end, 10);
            if (*end || n_windows < 1 || n_windows > 1000)
                return usage();
        } else if (!strcmp(argv[i], "--seeds") && i + 1 < argc) {
            n_seeds = (int)strtol(argv[++i], &end, 10);
            if (*end || n_seeds < 1 || n_seeds > 100)
                return usage();
        } else if (!strcmp(argv[i], "--jitter") && i + 1 < argc) {
            jitter_ms = (int)strtol(argv[++i], &end, 10);
            if (*end || jitter_ms < 1 || jitter_ms > 10)
                return usage();
        } else if (!strcmp(argv[i], "--host-gap") && i + 1 < argc) {
            host_gap_ms = (int)strtol(argv[++i], &end, 10);
            if (*end || host_gap_ms < 0 || host_gap_ms > 50)
                return usage();
        } else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) {
            warmup_s = strtod(argv[++i], &end);
            if (*end || !(warmup_s >= 0 && warmup_s <= 100))
                return usage();
        } else if (!strcmp(argv[i], "--profile") && i + 1 < argc) {
            only_profile = argv[++i];
        } else if (!strcmp(argv[i], "--load") && i + 1 < argc) {
            only_load = argv[++i];
        } else if (!strcmp(argv[i], "--verbose")) {
            verbose++;
        } else {
            return usage();
        }
    }
    vsim_load(&vs);
    printf("Coverage of the 95 %% interval on the SIMULATED GPU in virtual time: %d windows per "
           "length, seed and profile;\ncov = windows whose +/- held the truth, err = mean "
           "|error| (%%), u = mean half-width (%% of the truth)\n",
           n_windows);
    int jitters[2] = {0, jitter_ms};
    int total_n[2] = {0, 0}, total_j[2] = {0, 0}, total_s[2] = {0, 0};
    double total_wj[2] = {0, 0}, total_ws[2] = {0, 0};
    for (int ck = 0; ck < 2; ck++) {
        printf("\n== sensor clock: %s\n", ck ? "realistic" : "exact 100 ms grid");
        if (ck)
            printf(
                "   (each period 100 ms + a draw in -%d..+%d ms, phase and draws from the seed)\n",
                jitter_ms, jitter_ms);
        printf("%-18s %7s %5s  %5s %6s %8s %8s   %5s %6s %8s %8s\n", "load", "window", "n", "cov",
               "", "err", "u", "cov-s", "", "err-s", "u-s");
        for (size_t l = 0; l < N_LOADS; l++) {
            if (only_load && !strstr(loads[l].name, only_load))
                continue;
            struct cell cells[N_LENGTHS];
            memset(cells, 0, sizeof cells);
            for (size_t p = 0; p < N_PROFILES; p++) {
                if (only_profile && !strstr(profiles[p], only_profile))
                    continue;
                for (int s = 1; s <= n_seeds; s++)
                    run_seed(profiles[p], &loads[l], s, jitters[ck], n_windows, cells);
            }
            for (size_t li = 0; li < N_LENGTHS; li++) {
                print_cell(li ? "" : loads[l].name, lengths_s[li], &cells[li]);
                total_n[ck] += cells[li].n;
                total_j[ck] += cells[li].cov_j;
                total_s[ck] += cells[li].cov_s;
                total_wj[ck] += cells[li].width_j;
                total_ws[ck] += cells[li].width_s;
            }
        }
        if (!only_load || strstr("A/B kernels", only_load)) {
            for (int b2b = 0; b2b < 2; b2b++) {
                struct cell c;
                memset(&c, 0, sizeof c);
                for (size_t p = 0; p < N_PROFILES; p++) {
                    if (only_profile && !strstr(profiles[p], only_profile))
                        continue;
                    for (int s = 1; s <= n_seeds; s++)
                        run_work(profiles[p], s, jitters[ck], b2b, &c);
                }
                print_cell(b2b ? "A/B back to back" : "A/B kernels (20)", 1.2, &c);
            }
        }
    }
    for (int ck = 0; ck < 2; ck++) {
        double n = total_n[ck] ? total_n[ck] : 1;
        printf("%s clock: covered plain %d/%d (%.1f %%), settled %d/%d (%.1f %%); mean u plain "
               "%.3f %%, settled %.3f %%\n",
               ck ? "realistic" : "exact", total_j[ck], total_n[ck], 100 * total_j[ck] / n,
               total_s[ck], total_n[ck], 100 * total_s[ck] / n, 100 * total_wj[ck] / n,
               100 * total_ws[ck] / n);
    }
    return 0;
}
