/* SPDX-License-Identifier: MIT */
/*
 * bench_accuracy.c - how far each way of measuring lands from the truth, on the simulated
 * GPU (whose true energy is known), for each sensor type.
 *
 * Part 1, windows: a matrix of loads and window lengths, each window measured at once by
 *   naive     power polled every 100 ms (nvmlDeviceGetPowerUsage) and integrated with the
 *             trapezoid rule over the samples inside the window, what common tools do;
 *             a window with fewer than two samples gets power x duration
 *   counter   the raw energy counter read at both edges, nothing more
 *   joules    our windows (counter steps, edges corrected), end edge extrapolated
 *   settled   our windows with settle_end: the end edge anchored on the next counter step
 * and, for joules and settled, whether the reported interval covered the truth.
 * Part 2, repeated short work (accuracy_repeat.c): one run measured by each method, against
 * joules_repeat (the part-time sensor correction).
 *
 * The loads' changes fall on the counter's steps (the simulator's scenario and sensor clocks
 * start together); --phase MS moves the sensor's clock, as on a real board.
 *
 * Usage: bench_accuracy [--quick | --long] [--profile NAME] [--load TEXT] [--phase MS]
 *                       [--no-repeat | --no-windows]
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accuracy.h"
#include "support.h"

static const double windows_s[] = {0.01, 0.05, 0.2, 0.5, 1.0, 5.0, 20.0, 60.0};

int64_t acc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static char scenario_path[] = "/tmp/joules-bench-accuracy-XXXXXX";

/* Where the counter's steps fall against the load: see --phase. */
static const char *sensor_line = "";

void acc_set_scenario(const char *scenario_text, const char *profile)
{
    FILE *f = fopen(scenario_path, "w");
    if (!f || fputs(sensor_line, f) < 0 || fputs(scenario_text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "bench_accuracy: cannot write %s\n", scenario_path);
        exit(1);
    }
    setenv("JOULES_SIM_SCENARIO", scenario_path, 1);
    setenv("JOULES_SIM_PROFILE", profile, 1);
}

joules_monitor *acc_monitor(int settle)
{
    char err[256] = "";
    joules_monitor *m = t_open_sim_gpu(settle, err, sizeof err);
    if (!m || joules_domain_count(m) != 1) {
        fprintf(stderr, "bench_accuracy: cannot open the simulated GPU: %s\n", err);
        exit(1);
    }
    return m;
}

void acc_sim_bind(struct acc_sim *s)
{
    typedef nvmlReturn_t (*handle_fn)(unsigned, nvmlDevice_t *);
    s->dl = dlopen(JOULES_TEST_SIM_LIB, RTLD_NOW | RTLD_NOLOAD);
    if (!s->dl) {
        fprintf(stderr, "bench_accuracy: the simulator is not loaded\n");
        exit(1);
    }
    s->energy = (acc_energy_fn)dlsym(s->dl, "nvmlDeviceGetTotalEnergyConsumption");
    s->usage = (acc_usage_fn)dlsym(s->dl, "nvmlDeviceGetPowerUsage");
    s->truth = (jsimGetTrueEnergy_fn)dlsym(s->dl, JSIM_SYMBOL_GET_TRUE_ENERGY);
    s->run_kernel = (jsimRunKernel_fn)dlsym(s->dl, JSIM_SYMBOL_RUN_KERNEL);
    ((handle_fn)dlsym(s->dl, "nvmlDeviceGetHandleByIndex_v2"))(0, &s->dev);
}

void acc_sim_unbind(struct acc_sim *s)
{
    dlclose(s->dl);
}

static void *poll_main(void *arg)
{
    struct acc_poller *p = arg;
    int64_t next = acc_now_ns();
    for (;;) {
        pthread_mutex_lock(&p->lock);
        int stop = p->stop;
        pthread_mutex_unlock(&p->lock);
        if (stop)
            break;
        unsigned mw;
        if (p->sim->usage(p->sim->dev, &mw) == NVML_SUCCESS) {
            pthread_mutex_lock(&p->lock);
            if (p->n < ACC_MAX_POLL) {
                p->t_ns[p->n] = acc_now_ns();
                p->p_w[p->n] = mw * 1e-3;
                p->n++;
            }
            pthread_mutex_unlock(&p->lock);
        }
        next += 100000000LL;
        struct timespec ts = {(time_t)(next / 1000000000LL), (long)(next % 1000000000LL)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
    return NULL;
}

void acc_poller_start(struct acc_poller *p, struct acc_sim *sim)
{
    p->sim = sim;
    p->stop = 0;
    p->n = 0;
    pthread_mutex_init(&p->lock, NULL);
    pthread_create(&p->thread, NULL, poll_main, p);
}

void acc_poller_stop(struct acc_poller *p)
{
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->lock);
}

static void one_window(struct acc_sim *s, struct acc_poller *pl, joules_monitor *ma,
                       joules_monitor *mb, double window_s, struct acc_stats st[ACC_METHODS],
                       struct acc_goals *g)
{
    joules_domain_energy ra_dom[16];
    joules_measurement ra;
    joules_measurement_init(&ra, ra_dom, 16);
    joules_domain_energy rb_dom[16];
    joules_measurement rb;
    joules_measurement_init(&rb, rb_dom, 16);
    unsigned long long c0, c1;
    int64_t t0 = acc_now_ns();
    s->energy(s->dev, &c0);
    joules_window_begin(ma, "w");
    joules_window_begin(mb, "w");
    t_sleep(window_s);
    int64_t t1 = acc_now_ns();
    s->energy(s->dev, &c1);
    joules_window_end(ma, "w", &ra);
    joules_window_end(mb, "w", &rb);
    double truth = acc_truth_between(s, t0, t1);
    const joules_domain_energy *a = &ra.domains[0], *b = &rb.domains[0];
    if (getenv("ACC_DEBUG"))
        fprintf(stderr, "%.3fs: settled %.3f +/- %.3f truth %.3f (%s) | joules %.3f +/- %.3f\n",
                window_s, b->energy_j, b->uncertainty_j, b->sim_truth_j, b->message, a->energy_j,
                a->uncertainty_j);
    acc_tally(g, st, window_s, acc_naive_energy(pl, t0, t1), (double)(c1 - c0) * 1e-3, truth, a, b);
}

static void run_load(const struct acc_load *ld, const char *profile, int n_windows, int trials,
                     struct acc_goals *g)
{
    acc_set_scenario(ld->scenario, profile);
    joules_monitor *ma = acc_monitor(0), *mb = acc_monitor(1);
    struct acc_sim s;
    acc_sim_bind(&s);
    static struct acc_poller pl;
    acc_poller_start(&pl, &s);
    t_sleep(0.5); /* past the start-up idle and the first counter steps */
    for (int wi = 0; wi < n_windows; wi++) {
        struct acc_stats st[ACC_METHODS];
        memset(st, 0, sizeof st);
        int n = windows_s[wi] >= 20 ? 1 : trials; /* the longest windows: once */
        for (int r = 0; r < n; r++) {
            t_sleep(0.013 + 0.029 * r); /* vary the phase against the 100 ms steps */
            one_window(&s, &pl, ma, mb, windows_s[wi], st, g);
        }
        acc_print_row(g, wi == 0 ? ld->name : "", windows_s[wi], st, NULL);
    }
    acc_poller_stop(&pl);
    acc_sim_unbind(&s);
    joules_close(ma);
    joules_close(mb);
}

struct matrix {
    int n_windows, trials;
};

static void matrix_cell(const struct acc_load *ld, const char *profile, void *ctx,
                        struct acc_goals *g)
{
    const struct matrix *mx = ctx;
    run_load(ld, profile, mx->n_windows, mx->trials, g);
}

int main(int argc, char **argv)
{
    int quick = 0, longer = 0, repeat = 1, windows = 1;
    const char *only_profile = NULL, *only_load = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            quick = 1;
        } else if (!strcmp(argv[i], "--long")) {
            longer = 1;
        } else if (!strcmp(argv[i], "--no-repeat")) {
            repeat = 0;
        } else if (!strcmp(argv[i], "--no-windows")) {
            windows = 0;
        } else if (!strcmp(argv[i], "--profile") && i + 1 < argc) {
            only_profile = argv[++i];
        } else if (!strcmp(argv[i], "--load") && i + 1 < argc) {
            only_load = argv[++i];
        } else if (!strcmp(argv[i], "--phase") && i + 1 < argc) {
            char *end;
            long ms = strtol(argv[++i], &end, 10);
            if (*end || ms < 0 || ms > 99) {
                fprintf(stderr, "bench_accuracy: --phase takes whole ms from 0 to 99\n");
                return 2;
            }
            static char line[64];
            snprintf(line, sizeof line, "sensor phase=%ldms\n", ms);
            sensor_line = line;
        } else {
            fprintf(stderr, "usage: bench_accuracy [--quick | --long] [--profile NAME] "
                            "[--load TEXT] [--phase MS] [--no-repeat | --no-windows]\n"
                            "  profiles: a100-sxm4-80gb, h100-sxm5, a6000; TEXT: part of a "
                            "load's name, e.g. \"square 1 s\"\n"
                            "  MS: where the counter steps within each 100 ms, 0-99 (default 0: "
                            "on the load's changes)\n");
            return 2;
        }
    }
    if (!windows && (!repeat || only_load)) {
        fprintf(stderr, "bench_accuracy: %s\n",
                repeat ? "--load picks part 1's loads, and --no-windows skips part 1"
                       : "--no-repeat and --no-windows leave nothing to run");
        return 2;
    }
    int known = !only_profile;
    for (int i = 0; i < acc_n_profiles; i++)
        known |= only_profile && !strcmp(only_profile, acc_profiles[i]);
    if (!known) {
        fprintf(stderr, "bench_accuracy: no profile '%s': a100-sxm4-80gb, h100-sxm5, a6000\n",
                only_profile);
        return 2;
    }
    int n_windows = quick ? 4 : longer ? 8 : 6;
    int n_profiles = quick && !only_profile ? 1 : 3; /* --profile picks any of them */
    int trials = quick ? 2 : 4;
    int fd = mkstemp(scenario_path);
    if (fd < 0)
        return 1;
    close(fd);
    printf("Accuracy on the SIMULATED GPU: |error| vs the simulator's true energy, mean / worst "
           "(%%);\ncover = windows whose +/- interval contained the truth.\n");
    if (*sensor_line)
        printf("Sensor clock moved: %s", sensor_line);
    struct matrix ctx = {n_windows, trials};
    if (windows && acc_run_matrix(n_profiles, only_profile, only_load, matrix_cell, &ctx) != 0) {
        unlink(scenario_path);
        return 2;
    }
    if (repeat && !only_load)
        acc_repeat_section(n_profiles, only_profile, quick);
    unlink(scenario_path);
    return 0;
}
