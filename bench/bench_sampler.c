/* SPDX-License-Identifier: MIT */
/*
 * bench_sampler.c - the sampler's timing and cost on the simulated GPU: lateness of each
 * round after its deadline (median and 99th percentile) at 1, 10 and 100 ms, and the CPU
 * time of sampling 8 simulated GPUs every 10 ms, measured on the sampler thread itself
 * (getrusage RUSAGE_THREAD from the callback) and for the whole process (RUSAGE_SELF, minus
 * the same time with no sampler: the monitor's tracker thread polls anyway).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "joules.h"
#include "support.h"

#define MAX_LATE 8192

struct rec {
    int64_t late[MAX_LATE];
    int n;
    double thread_cpu_s; /* CPU time of the sampler thread at its last round */
};

static void on_round(const joules_power_sample *p, int n, void *user)
{
    struct rec *r = user;
    (void)n;
    if (r->n < MAX_LATE)
        r->late[r->n++] = p[0].t_ns - p[0].scheduled_ns;
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    r->thread_cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
                      (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double process_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

static joules_monitor *open_sim(int devices)
{
    char count[8];
    snprintf(count, sizeof count, "%d", devices);
    setenv("JOULES_SIM_PROFILE", "a100", 1);
    setenv("JOULES_SIM_DEVICES", count, 1);
    unsetenv("JOULES_SIM_SCENARIO");
    joules_options o;
    joules_options_init(&o);
    o.nvml_library = JOULES_TEST_SIM_LIB;
    o.kinds = JOULES_KIND_GPU;
    joules_monitor *m = NULL;
    char err[256];
    if (joules_open(&m, &o, err, sizeof err) != 0) {
        fprintf(stderr, "joules_open: %s\n", err);
        exit(1);
    }
    return m;
}

static void run(joules_monitor *m, uint64_t interval_ns, double seconds, int details, struct rec *r,
                joules_sampler_stats *st)
{
    memset(r, 0, sizeof *r);
    joules_sampler_options o;
    joules_sampler_options_init(&o);
    o.interval_ns = interval_ns;
    o.callback = on_round;
    o.user = r;
    o.gpu_details = details;
    joules_sampler *s = NULL;
    if (joules_sampler_start(m, &o, &s) != 0) {
        fprintf(stderr, "sampler: %s\n", joules_last_error(m));
        exit(1);
    }
    t_sleep(seconds);
    joules_sampler_stop(s, st);
    joules_sampler_free(s);
}

int main(void)
{
    static struct rec r;
    joules_sampler_stats st;
    joules_monitor *m = open_sim(1);
    printf("Sampler lateness after each deadline, 1 simulated A100 (median / 99th pct / max):\n");
    const uint64_t intervals[] = {1000000, 10000000, 100000000};
    const double secs[] = {3, 5, 10};
    for (int i = 0; i < 3; i++) {
        run(m, intervals[i], secs[i], 1, &r, &st);
        qsort(r.late, (size_t)r.n, sizeof r.late[0], cmp);
        printf("  %6.0f ms: %5d rounds  median %7.1f us  p99 %7.1f us  max %7.1f us  "
               "missed %llu\n",
               intervals[i] * 1e-6, r.n, r.late[r.n / 2] * 1e-3, r.late[(r.n * 99) / 100] * 1e-3,
               st.max_lateness_ns * 1e-3, (unsigned long long)st.missed_deadlines);
    }
    joules_close(m);

    m = open_sim(8);
    const double secs8 = 10;
    double c0 = process_cpu_s();
    t_sleep(secs8);
    double idle_cpu = process_cpu_s() - c0;
    printf("\nCPU cost, 8 simulated A100s every 10 ms for %.0f s (%% of one core):\n", secs8);
    for (int details = 1; details >= 0; details--) {
        c0 = process_cpu_s();
        run(m, 10000000, secs8, details, &r, &st);
        double with = process_cpu_s() - c0;
        printf("  %-28s sampler thread %.3f %%   process minus no-sampler %.3f %%"
               "   (%llu rounds, %llu missed)\n",
               details ? "power + GPU details:" : "power and energy only:",
               100.0 * r.thread_cpu_s / secs8, 100.0 * (with - idle_cpu) / secs8,
               (unsigned long long)st.rounds, (unsigned long long)st.missed_deadlines);
    }
    printf("  (the monitor alone, tracker polling the 8 counters every 5 ms: %.3f %%)\n",
           100.0 * idle_cpu / secs8);
    joules_close(m);
    return 0;
}
