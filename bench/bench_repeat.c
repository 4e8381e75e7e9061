/* SPDX-License-Identifier: MIT */
/*
 * bench_repeat.c - bench_accuracy's part 2 (repeated short work) in the simulated GPU's
 * virtual time. Each repetition is a kernel launched on the simulator and run a millisecond
 * at a time, the tracker driven at each (vsim_kernel), then a rest; joules_repeat's waits
 * for its phase shifts advance the clock. Deterministic, and fast enough for many runs per
 * cell, begun at phases spread over the counter's period: one repetition measured by each
 * single-run method (naive polling, the raw counter, a joules window ended plainly, and one
 * ended deferred and collected once the counter stepped), and joules_repeat's energy per
 * repetition, with the energy counter and without it (the sensor integrated).
 *
 * Usage: bench_repeat [--runs N] [--repeats N] [--profile NAME]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accuracy.h"
#include "vsim.h"

#define MS 1000000LL

enum { R_NAIVE, R_COUNTER, R_JOULES, R_DEFERRED, R_REPEAT, R_METHODS };

static struct vsim vs;
static struct acc_poller naive;
static const struct acc_work *work;

static int one_rep(void *user)
{
    (void)user;
    if (vsim_kernel(&vs, work->flops, 0.8) != 0)
        return 1;
    vsim_run_until(&vs, vsim_now_ns() + (int64_t)llround(work->rest_s * 1e9));
    return 0;
}

static void fail(const char *what)
{
    fprintf(stderr, "bench_repeat: %s: %s\n", what, joules_last_error(vs.m));
    exit(1);
}

/* One repetition from rest, measured by the single-run methods. */
static void single(struct acc_stats st[R_METHODS], int have_counter)
{
    joules_domain_energy r_dom[16];
    joules_measurement r;
    joules_measurement_init(&r, r_dom, 16);
    joules_domain_energy d_dom[16];
    joules_measurement d;
    joules_measurement_init(&d, d_dom, 16);
    uint64_t ticket = 0;
    int64_t t0 = vsim_now_ns();
    unsigned long long c0 = vsim_counter_mj(&vs);
    if (joules_window_begin(vs.m, "once") || joules_window_begin(vs.m, "deferred"))
        fail("joules_window_begin");
    if (one_rep(NULL) != 0) {
        fprintf(stderr, "bench_repeat: the simulator refused the kernel\n");
        exit(1);
    }
    int64_t t1 = vsim_now_ns();
    unsigned long long c1 = vsim_counter_mj(&vs);
    if (joules_window_end(vs.m, "once", &r) ||
        joules_window_end_deferred(vs.m, "deferred", &ticket))
        fail("joules_window_end");
    double truth = vsim_truth_j(&vs, t0, t1);
    acc_add(&st[R_NAIVE], acc_naive_energy(&naive, t0, t1), truth, 0);
    if (have_counter)
        acc_add(&st[R_COUNTER], (double)(c1 - c0) * 1e-3, truth, 0);
    acc_add(&st[R_JOULES], r.domains[0].energy_j, truth, r.domains[0].uncertainty_j);
    vsim_run_until(&vs, t1 + 150 * MS); /* the counter steps: the deferred end is anchored */
    if (joules_window_collect(vs.m, ticket, 0, &d))
        fail("joules_window_collect");
    acc_add(&st[R_DEFERRED], d.domains[0].energy_j, truth, d.domains[0].uncertainty_j);
}

static double repeated(struct acc_stats *st)
{
    joules_repeat_options o;
    joules_repeat_options_init(&o);
    o.min_time_s = 1.6;
    joules_domain_energy r_dom[16];
    joules_repeat_result r;
    joules_measurement_init(&r.per_rep, r_dom, 16);
    if (joules_repeat(vs.m, one_rep, NULL, &o, &r) != 0) {
        fprintf(stderr, "bench_repeat: joules_repeat: %s\n", joules_last_error(vs.m));
        exit(1);
    }
    const joules_domain_energy *d = &r.per_rep.domains[0];
    acc_add(st, d->energy_j, d->sim_truth_j, d->uncertainty_j);
    return r.time_per_rep_s;
}

static void merge(struct acc_stats *into, const struct acc_stats *s)
{
    into->n += s->n;
    into->sum_abs += s->sum_abs;
    into->covered += s->covered;
    into->worst = fmax(into->worst, s->worst);
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_repeat [--runs N] [--repeats N] [--profile NAME]\n"
                    "  --runs: single runs per cell, 1-1000 (default 40); --repeats: "
                    "joules_repeat runs per cell, 1-100 (default 10);\n"
                    "  profiles: a100-sxm4-80gb, h100-sxm5, a6000\n");
    return 2;
}

int main(int argc, char **argv)
{
    int runs = 40, repeats = 10;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = (int)strtol(argv[++i], &end, 10);
            if (*end || runs < 1 || runs > 1000)
                return usage();
        } else if (!strcmp(argv[i], "--repeats") && i + 1 < argc) {
            repeats = (int)strtol(argv[++i], &end, 10);
            if (*end || repeats < 1 || repeats > 100)
                return usage();
        } else if (!strcmp(argv[i], "--profile") && i + 1 < argc) {
            only = argv[++i];
        } else {
            return usage();
        }
    }
    int known = !only;
    for (int pi = 0; pi < acc_n_profiles; pi++)
        known |= only && !strcmp(only, acc_profiles[pi]);
    if (!known) {
        fprintf(stderr, "bench_repeat: no profile '%s'\n", only);
        return usage();
    }
    vsim_load(&vs);
    pthread_mutex_init(&naive.lock, NULL);
    printf("Repeated short work on the SIMULATED GPU in virtual time: |error| vs the simulator's "
           "true energy,\nmean / worst (%%). One repetition measured by each method (%d runs "
           "at different phases);\njoules_repeat's energy per repetition (%d runs, 4 "
           "phase-shifted groups). cover: intervals that held the truth.\n",
           runs, repeats);
    printf("%-15s %-7s %-26s %5s %15s %15s %15s %15s %15s  %7s %7s %7s\n", "device", "counter",
           "work", "rep", "naive once", "counter once", "joules once", "deferred once",
           "joules_repeat", "cover-j", "cover-d", "cover-r");
    struct acc_stats total[R_METHODS], part_time[R_METHODS];
    memset(total, 0, sizeof total);
    memset(part_time, 0, sizeof part_time);
    int cells_part_time = 0, cells_met = 0;
    for (int pi = 0; pi < acc_n_profiles; pi++) {
        if (only && strcmp(only, acc_profiles[pi]) != 0)
            continue;
        /* The 25 ms of every 100 ms sensors: the goal's. */
        int part = strstr(acc_sensor_of[pi], "25 ms") != NULL;
        for (int have_counter = 1; have_counter >= 0; have_counter--) {
            char text[256];
            snprintf(text, sizeof text, "profile %s\ndevices 1\nidle 0.3s\n%s", acc_profiles[pi],
                     have_counter ? "" : "fault no-energy\n");
            acc_vnaive_attach(&vs, &naive);
            vsim_open(&vs, text, 1.0);
            for (int wi = 0; wi < acc_n_works; wi++) {
                work = &acc_works[wi];
                struct acc_stats st[R_METHODS];
                memset(st, 0, sizeof st);
                for (int i = 0; i < runs; i++) {
                    double u = fmod(0.6180339887498949 * (double)(i + 1), 1.0);
                    vsim_run_until(&vs, vsim_now_ns() + (130 + (int64_t)(250 * u)) * MS);
                    single(st, have_counter);
                }
                double rep_s = 0.0;
                for (int i = 0; i < repeats; i++) {
                    vsim_run_until(&vs, vsim_now_ns() + (200 + 37 * i) * MS);
                    rep_s = repeated(&st[R_REPEAT]);
                }
                printf("%-15s %-7s %-26s %3.0fms", acc_profiles[pi], have_counter ? "yes" : "no",
                       work->name, 1e3 * rep_s);
                for (int k = 0; k < R_METHODS; k++) {
                    acc_print_cell(&st[k]);
                    merge(&total[k], &st[k]);
                    if (part)
                        merge(&part_time[k], &st[k]);
                }
                printf("  %3d/%-3d %3d/%-3d %3d/%-3d\n", st[R_JOULES].covered, st[R_JOULES].n,
                       st[R_DEFERRED].covered, st[R_DEFERRED].n, st[R_REPEAT].covered,
                       st[R_REPEAT].n);
                if (part) {
                    cells_part_time++;
                    cells_met += st[R_REPEAT].sum_abs / st[R_REPEAT].n <= 0.02;
                }
            }
            vsim_close(&vs);
        }
    }
    printf("\nAll cells: mean / worst |error| naive once %.2f / %.2f %%, joules once %.2f / "
           "%.2f %%, deferred once %.2f / %.2f %%,\njoules_repeat %.2f / %.2f %%; intervals "
           "covering the truth: joules once %d/%d, deferred %d/%d, joules_repeat %d/%d\n",
           100 * total[R_NAIVE].sum_abs / total[R_NAIVE].n, 100 * total[R_NAIVE].worst,
           100 * total[R_JOULES].sum_abs / total[R_JOULES].n, 100 * total[R_JOULES].worst,
           100 * total[R_DEFERRED].sum_abs / total[R_DEFERRED].n, 100 * total[R_DEFERRED].worst,
           100 * total[R_REPEAT].sum_abs / total[R_REPEAT].n, 100 * total[R_REPEAT].worst,
           total[R_JOULES].covered, total[R_JOULES].n, total[R_DEFERRED].covered,
           total[R_DEFERRED].n, total[R_REPEAT].covered, total[R_REPEAT].n);
    if (cells_part_time)
        printf("Goal (25/100 ms sensors, joules_repeat within 2 %% where naive is off by tens of "
               "percent): %d of %d cells;\n  naive once %.1f %% off on average there, "
               "joules_repeat %.2f %% (worst run %.2f %%)\n",
               cells_met, cells_part_time, 100 * part_time[R_NAIVE].sum_abs / part_time[R_NAIVE].n,
               100 * part_time[R_REPEAT].sum_abs / part_time[R_REPEAT].n,
               100 * part_time[R_REPEAT].worst);
    pthread_mutex_destroy(&naive.lock);
    return 0;
}
