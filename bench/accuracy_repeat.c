/* SPDX-License-Identifier: MIT */
/*
 * accuracy_repeat.c - part 2 of bench_accuracy: short, bursty work (a kernel, then a rest)
 * measured once by each method (naive polling, raw counter, a joules window) and per
 * repetition by joules_repeat, the part-time sensor correction, with the energy counter and
 * without it (power integrated from the sensor alone). On the simulated GPU.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accuracy.h"
#include "support.h"

enum { R_NAIVE, R_COUNTER, R_JOULES, R_REPEAT, R_METHODS };

struct work {
    struct acc_sim *sim;
    double flops;
    double rest_s;
    int failed;
};

static int run_once(void *user)
{
    struct work *w = user;
    jsimKernel k;
    memset(&k, 0, sizeof k);
    k.version = JSIM_STRUCT_VERSION(jsimKernel);
    k.precision = JSIM_PREC_FP32;
    k.flops = w->flops;
    k.alpha = 0.8;
    jsimKernelResult r;
    memset(&r, 0, sizeof r);
    r.version = JSIM_STRUCT_VERSION(jsimKernelResult);
    if (w->sim->run_kernel(w->sim->dev, &k, &r) != NVML_SUCCESS) {
        w->failed = 1;
        return 1;
    }
    t_sleep(w->rest_s);
    return 0;
}

/* One repetition inside a window, measured by the three single-run methods. */
static void single(struct work *w, struct acc_poller *pl, joules_monitor *m,
                   struct acc_stats st[R_METHODS], int have_counter)
{
    joules_domain_energy r_dom[16];
    joules_measurement r;
    joules_measurement_init(&r, r_dom, 16);
    struct acc_sim *s = w->sim;
    unsigned long long c0 = 0, c1 = 0;
    int64_t t0 = acc_now_ns();
    if (have_counter)
        s->energy(s->dev, &c0);
    joules_window_begin(m, "once");
    run_once(w);
    int64_t t1 = acc_now_ns();
    if (have_counter)
        s->energy(s->dev, &c1);
    joules_window_end(m, "once", &r);
    double truth = acc_truth_between(s, t0, t1);
    acc_add(&st[R_NAIVE], acc_naive_energy(pl, t0, t1), truth, 0);
    if (have_counter)
        acc_add(&st[R_COUNTER], (double)(c1 - c0) * 1e-3, truth, 0);
    const joules_domain_energy *d = &r.domains[0];
    acc_add(&st[R_JOULES], d->energy_j, d->sim_truth_j, d->uncertainty_j);
    if (getenv("ACC_DEBUG"))
        fprintf(stderr, "once %.3fs: %.3f +/- %.3f J, truth %.3f J, counter %.3f (%s)\n",
                (t1 - t0) * 1e-9, d->energy_j, d->uncertainty_j, d->sim_truth_j,
                (double)(c1 - c0) * 1e-3, d->message);
}

static double repeated(struct work *w, joules_monitor *m, struct acc_stats *st, double min_time_s)
{
    joules_repeat_options o;
    joules_repeat_options_init(&o);
    o.min_time_s = min_time_s;
    joules_domain_energy r_dom[16];
    joules_repeat_result r;
    joules_measurement_init(&r.per_rep, r_dom, 16);
    if (joules_repeat(m, run_once, w, &o, &r) != 0) {
        fprintf(stderr, "bench_accuracy: joules_repeat: %s\n", joules_last_error(m));
        return 0.0;
    }
    const joules_domain_energy *d = &r.per_rep.domains[0];
    acc_add(st, d->energy_j, d->sim_truth_j, d->uncertainty_j);
    if (getenv("ACC_DEBUG"))
        fprintf(stderr, "repeat: %.4f +/- %.4f J, truth %.4f J (%s)\n", d->energy_j,
                d->uncertainty_j, d->sim_truth_j, d->message);
    return r.time_per_rep_s;
}

void acc_repeat_section(int n_profiles, const char *only_profile, int quick)
{
    int singles = quick ? 4 : 8, repeats = quick ? 1 : 2;
    double min_time_s = quick ? 1.0 : 1.6;
    struct acc_stats total[R_METHODS];
    memset(total, 0, sizeof total);
    printf("\nRepeated short work, SIMULATED: one run measured by each method (%d runs at "
           "different phases)\nand joules_repeat's energy per repetition (%d runs, 4 "
           "phase-shifted groups); mean / worst |error| (%%)\n",
           singles, repeats);
    printf("%-16s %-8s %-26s %6s  %15s %15s %15s %15s  %7s %7s\n", "device", "counter", "work",
           "rep", "naive once", "counter once", "joules once", "joules_repeat", "cover", "cover-r");
    for (int pi = 0; pi < n_profiles; pi++) {
        if (only_profile && strcmp(only_profile, acc_profiles[pi]) != 0)
            continue;
        for (int have_counter = 1; have_counter >= 0; have_counter--) {
            acc_set_scenario(have_counter ? "idle 0.3s\n" : "idle 0.3s\nfault no-energy\n",
                             acc_profiles[pi]);
            joules_monitor *m = acc_monitor(0);
            struct acc_sim s;
            acc_sim_bind(&s);
            static struct acc_poller pl;
            acc_poller_start(&pl, &s);
            t_sleep(0.5);
            for (int ki = 0; ki < acc_n_works; ki++) {
                struct work w = {&s, acc_works[ki].flops, acc_works[ki].rest_s, 0};
                struct acc_stats st[R_METHODS];
                memset(st, 0, sizeof st);
                for (int i = 0; i < singles; i++) {
                    t_sleep(0.13 + 0.017 * i); /* idle between, phase varied */
                    single(&w, &pl, m, st, have_counter);
                }
                double rep_s = 0.0;
                for (int i = 0; i < repeats; i++)
                    rep_s = repeated(&w, m, &st[R_REPEAT], min_time_s);
                printf("%-16s %-8s %-26s %5.0fms ", acc_profiles[pi], have_counter ? "yes" : "no",
                       acc_works[ki].name, 1e3 * rep_s);
                for (int k = 0; k < R_METHODS; k++) {
                    acc_print_cell(&st[k]);
                    acc_merge(&total[k], &st[k]);
                }
                printf("  %3d/%-3d %3d/%-3d%s\n", st[R_JOULES].covered, st[R_JOULES].n,
                       st[R_REPEAT].covered, st[R_REPEAT].n, w.failed ? "  (kernel failed)" : "");
                fflush(stdout);
            }
            acc_poller_stop(&pl);
            acc_sim_unbind(&s);
            joules_close(m);
        }
    }
    printf("\nRepeated work, all cells: mean / worst |error| naive once %.2f / %.2f %%, joules "
           "once %.2f / %.2f %%, joules_repeat %.2f / %.2f %%;\njoules_repeat's interval "
           "covered the truth %d/%d\n",
           acc_mean_pct(&total[R_NAIVE]), 100 * total[R_NAIVE].worst,
           acc_mean_pct(&total[R_JOULES]), 100 * total[R_JOULES].worst,
           acc_mean_pct(&total[R_REPEAT]), 100 * total[R_REPEAT].worst, total[R_REPEAT].covered,
           total[R_REPEAT].n);
}
