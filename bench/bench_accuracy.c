/* SPDX-License-Identifier: MIT */
/*
 * bench_accuracy.c - how far each way of measuring a window lands from the truth, on the
 * simulated GPU (whose true energy is known), for each sensor type, a matrix of loads and
 * window lengths. Methods compared on the very same windows:
 *   naive     power polled every 100 ms (nvmlDeviceGetPowerUsage) and integrated with the
 *             trapezoid rule over the samples inside the window, what common tools do;
 *             a window with fewer than two samples gets power x duration
 *   counter   the raw energy counter read at both edges, nothing more
 *   joules    our windows (counter steps, edges corrected), end edge extrapolated
 *   settled   our windows with settle_end: the end edge anchored on the next counter step
 * For joules and settled it also counts how often the reported interval covers the truth.
 * Usage: bench_accuracy [--quick | --long]
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/nvml_abi.h"
#include "joules.h"
#include "sim/jsim.h"
#include "testlib.h"

enum { NAIVE, COUNTER, JOULES, SETTLED, N_METHODS };

#define MAX_POLL 100000

typedef nvmlReturn_t (*energy_fn)(nvmlDevice_t, unsigned long long *);
typedef nvmlReturn_t (*usage_fn)(nvmlDevice_t, unsigned int *);
typedef nvmlReturn_t (*handle_fn)(unsigned, nvmlDevice_t *);

struct sim {
    void *dl;
    nvmlDevice_t dev;
    energy_fn energy;
    usage_fn usage;
    jsimGetTrueEnergy_fn truth;
};

struct poller {
    struct sim *sim;
    pthread_t thread;
    pthread_mutex_t lock;
    int stop;
    int n;
    int64_t t_ns[MAX_POLL];
    double p_w[MAX_POLL];
};

struct stats {
    int n;
    double sum_abs;
    double worst;
    int covered;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *poll_main(void *arg)
{
    struct poller *p = arg;
    int64_t next = now_ns();
    for (;;) {
        pthread_mutex_lock(&p->lock);
        int stop = p->stop;
        pthread_mutex_unlock(&p->lock);
        if (stop)
            break;
        unsigned mw;
        if (p->sim->usage(p->sim->dev, &mw) == NVML_SUCCESS) {
            pthread_mutex_lock(&p->lock);
            if (p->n < MAX_POLL) {
                p->t_ns[p->n] = now_ns();
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

/* Trapezoid over the samples inside [t0, t1]; fewer than two: last power x duration. */
static double naive_energy(struct poller *p, int64_t t0, int64_t t1)
{
    pthread_mutex_lock(&p->lock);
    double e = 0.0, last_p = 0.0;
    int inside = 0;
    int64_t prev_t = 0;
    double prev_p = 0.0;
    for (int i = 0; i < p->n; i++) {
        if (p->t_ns[i] <= t0)
            last_p = p->p_w[i];
        if (p->t_ns[i] < t0 || p->t_ns[i] > t1)
            continue;
        if (inside)
            e += 0.5 * (prev_p + p->p_w[i]) * (double)(p->t_ns[i] - prev_t) * 1e-9;
        prev_t = p->t_ns[i];
        prev_p = p->p_w[i];
        inside++;
    }
    pthread_mutex_unlock(&p->lock);
    return inside >= 2 ? e : last_p * (double)(t1 - t0) * 1e-9;
}

static void add(struct stats *s, double measured, double truth, double unc)
{
    double rel = truth > 0 ? fabs(measured - truth) / truth : 0.0;
    s->n++;
    s->sum_abs += rel;
    s->worst = rel > s->worst ? rel : s->worst;
    s->covered += fabs(measured - truth) <= unc;
}

static joules_monitor *open_monitor(int settle)
{
    joules_options o;
    joules_options_init(&o);
    o.nvml_library = JOULES_TEST_SIM_LIB;
    o.kinds = JOULES_KIND_GPU;
    o.settle_end = settle;
    joules_monitor *m = NULL;
    char err[256];
    if (joules_open(&m, &o, err, sizeof err) != 0 || joules_domain_count(m) != 1) {
        fprintf(stderr, "bench_accuracy: cannot open the simulated GPU: %s\n", err);
        exit(1);
    }
    return m;
}

static double truth_between(struct sim *s, int64_t t0, int64_t t1)
{
    double e0 = 0, e1 = 0;
    s->truth(s->dev, (long long)t0, &e0);
    s->truth(s->dev, (long long)t1, &e1);
    return e1 - e0;
}

static void one_window(struct sim *s, struct poller *pl, joules_monitor *ma, joules_monitor *mb,
                       double window_s, struct stats st[N_METHODS])
{
    static joules_measurement ra, rb;
    unsigned long long c0, c1;
    int64_t t0 = now_ns();
    s->energy(s->dev, &c0);
    joules_window_begin(ma, "w");
    joules_window_begin(mb, "w");
    t_sleep(window_s);
    int64_t t1 = now_ns();
    s->energy(s->dev, &c1);
    joules_window_end(ma, "w", &ra);
    joules_window_end(mb, "w", &rb);
    double truth = truth_between(s, t0, t1);
    add(&st[NAIVE], naive_energy(pl, t0, t1), truth, 0);
    add(&st[COUNTER], (double)(c1 - c0) * 1e-3, truth, 0);
    const joules_domain_energy *a = &ra.domains[0], *b = &rb.domains[0];
    add(&st[JOULES], a->energy_j, a->sim_truth_j, a->uncertainty_j);
    add(&st[SETTLED], b->energy_j, b->sim_truth_j, b->uncertainty_j);
}

struct load {
    const char *name;
    const char *scenario;
};

static const struct load loads[] = {
    {"steady", "idle 0.3s\nphase 900s util=1 alpha=0.6\n"},
    {"square 1 s, 50 %", "phase 0.5s util=1 alpha=0.7\nidle 0.5s context=1\nrepeat forever\n"},
    {"square 100 ms, 50 %", "phase 50ms util=1 alpha=0.7\nidle 50ms context=1\nrepeat forever\n"},
    {"bursts 30 ms / 250 ms",
     "phase 30ms util=1 alpha=0.9\nidle 220ms context=1\nrepeat forever\n"},
};

static const char *profiles[] = {"a100-sxm4-80gb", "h100-sxm5", "a6000"};
static const char *sensor_of[] = {"25 ms of every 100 ms, instant PowerUsage",
                                  "25 ms of every 100 ms, 1-s average PowerUsage",
                                  "100 ms of every 100 ms, 1-s average PowerUsage"};

int main(int argc, char **argv)
{
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    int longer = argc > 1 && !strcmp(argv[1], "--long");
    double windows[] = {0.01, 0.05, 0.2, 1.0, 5.0, 20.0};
    int n_windows = quick ? 4 : longer ? 6 : 5;
    int n_profiles = quick ? 1 : 3;
    int trials = quick ? 2 : 4;
    char path[] = "/tmp/joules-bench-accuracy-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    struct stats global[N_METHODS];
    memset(global, 0, sizeof global);
    printf("Accuracy on the SIMULATED GPU: |error| vs the simulator's true energy, mean / worst "
           "(%%);\ncover = windows whose +/- interval contained the truth.\n");
    for (int pi = 0; pi < n_profiles; pi++) {
        printf("\n== %s (sensor: %s)\n", profiles[pi], sensor_of[pi]);
        printf("%-24s %8s  %15s %15s %15s %15s  %7s %7s\n", "load", "window", "naive", "counter",
               "joules", "settled", "cover", "cover-s");
        for (size_t li = 0; li < sizeof loads / sizeof loads[0]; li++) {
            FILE *f = fopen(path, "w");
            fputs(loads[li].scenario, f);
            fclose(f);
            setenv("JOULES_SIM_SCENARIO", path, 1);
            setenv("JOULES_SIM_PROFILE", profiles[pi], 1);
            joules_monitor *ma = open_monitor(0), *mb = open_monitor(1);
            struct sim s;
            s.dl = dlopen(JOULES_TEST_SIM_LIB, RTLD_NOW | RTLD_NOLOAD);
            s.energy = (energy_fn)dlsym(s.dl, "nvmlDeviceGetTotalEnergyConsumption");
            s.usage = (usage_fn)dlsym(s.dl, "nvmlDeviceGetPowerUsage");
            s.truth = (jsimGetTrueEnergy_fn)dlsym(s.dl, JSIM_SYMBOL_GET_TRUE_ENERGY);
            ((handle_fn)dlsym(s.dl, "nvmlDeviceGetHandleByIndex_v2"))(0, &s.dev);
            static struct poller pl;
            memset(&pl, 0, sizeof pl);
            pl.sim = &s;
            pthread_mutex_init(&pl.lock, NULL);
            pthread_create(&pl.thread, NULL, poll_main, &pl);
            t_sleep(0.5); /* past the start-up idle and the first counter steps */
            for (int wi = 0; wi < n_windows; wi++) {
                struct stats st[N_METHODS];
                memset(st, 0, sizeof st);
                for (int r = 0; r < trials; r++) {
                    t_sleep(0.013 + 0.029 * r); /* vary the phase against the 100 ms steps */
                    one_window(&s, &pl, ma, mb, windows[wi], st);
                }
                printf("%-24s %7gs ", wi == 0 ? loads[li].name : "", windows[wi]);
                for (int k = 0; k < N_METHODS; k++) {
                    printf(" %6.2f / %6.2f", 100 * st[k].sum_abs / st[k].n, 100 * st[k].worst);
                    global[k].n += st[k].n;
                    global[k].sum_abs += st[k].sum_abs;
                    global[k].covered += st[k].covered;
                    if (st[k].worst > global[k].worst)
                        global[k].worst = st[k].worst;
                }
                printf("  %3d/%-3d %3d/%-3d\n", st[JOULES].covered, st[JOULES].n,
                       st[SETTLED].covered, st[SETTLED].n);
                fflush(stdout);
            }
            pthread_mutex_lock(&pl.lock);
            pl.stop = 1;
            pthread_mutex_unlock(&pl.lock);
            pthread_join(pl.thread, NULL);
            pthread_mutex_destroy(&pl.lock);
            dlclose(s.dl);
            joules_close(ma);
            joules_close(mb);
        }
    }
    unlink(path);
    printf("\nAll cells: mean |error| naive %.2f %%, counter %.2f %%, joules %.2f %%, settled "
           "%.2f %%;\ninterval covered the truth: joules %d/%d (%.1f %%), settled %d/%d (%.1f "
           "%%)\n",
           100 * global[NAIVE].sum_abs / global[NAIVE].n,
           100 * global[COUNTER].sum_abs / global[COUNTER].n,
           100 * global[JOULES].sum_abs / global[JOULES].n,
           100 * global[SETTLED].sum_abs / global[SETTLED].n, global[JOULES].covered,
           global[JOULES].n, 100.0 * global[JOULES].covered / global[JOULES].n,
           global[SETTLED].covered, global[SETTLED].n,
           100.0 * global[SETTLED].covered / global[SETTLED].n);
    return 0;
}
