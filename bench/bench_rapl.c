/* SPDX-License-Identifier: MIT */
/*
 * bench_rapl.c - what the RAPL backend costs: one joules_read() of every RAPL domain (µs), and
 * the CPU time the wrap watcher spends per hour of measurement.
 *
 * Runs on a fake powercap tree in a temporary directory (a pread of a tmpfs file; a real
 * energy_uj read adds the kernel's MSR read, a few µs, often on another CPU), and on the real
 * /sys as well when its energy_uj files can be read. The watcher's cost is measured with a
 * short poll period (a 40 J range: 10 ms) over a few seconds with getrusage(), divided into a
 * cost per poll, and scaled to the periods real ranges give (16.4 s for a 65,536 J range,
 * 60 s for 262,144 J; docs/rapl.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "joules.h"
#include "support.h"

#define N_READS 20000

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fake_tree(const char *root, unsigned long long max_uj)
{
    static const char *zones[][2] = {{"intel-rapl:0", "package-0"}, {"intel-rapl:0:0", "core"},
                                     {"intel-rapl:0:1", "dram"},    {"intel-rapl:1", "package-1"},
                                     {"intel-rapl:1:0", "core"},    {"intel-rapl:1:1", "dram"}};
    char path[4300], text[64];
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
        snprintf(path, sizeof path, "%s/class/powercap/%s/name", root, zones[i][0]);
        snprintf(text, sizeof text, "%s\n", zones[i][1]);
        t_write_file(path, text);
        snprintf(path, sizeof path, "%s/class/powercap/%s/max_energy_range_uj", root, zones[i][0]);
        snprintf(text, sizeof text, "%llu\n", max_uj);
        t_write_file(path, text);
        snprintf(path, sizeof path, "%s/class/powercap/%s/energy_uj", root, zones[i][0]);
        t_write_file(path, "1234567\n");
    }
}

static joules_monitor *open_root(const char *root)
{
    joules_options o;
    joules_options_init(&o);
    o.sysfs_root = root;
    o.kinds = JOULES_KINDS_CPU;
    joules_monitor *m = NULL;
    char err[256];
    if (joules_open(&m, &o, err, sizeof err) != 0) {
        fprintf(stderr, "bench_rapl: joules_open: %s\n", err);
        return NULL;
    }
    return m;
}

/* µs per joules_read() of every domain; -1 when there is none. */
static double read_cost_us(joules_monitor *m, int *n_domains)
{
    joules_reading r[JOULES_MAX_DOMAINS];
    *n_domains = joules_domain_count(m);
    if (*n_domains <= 0)
        return -1;
    joules_read(m, r, JOULES_MAX_DOMAINS);
    double t0 = wall_s();
    for (int i = 0; i < N_READS; i++)
        joules_read(m, r, JOULES_MAX_DOMAINS);
    return (wall_s() - t0) / N_READS * 1e6;
}

int main(void)
{
    char root[4096];
    if (t_mkdtemp(root, sizeof root) != 0) {
        perror("bench_rapl: mkdtemp");
        return 1;
    }
    int n;

    /* 1. Read cost on the fake tree (large range: the watcher stays out of the way). */
    fake_tree(root, 262143999999ULL);
    joules_monitor *m = open_root(root);
    if (!m)
        return 1;
    double us = read_cost_us(m, &n);
    printf("read, fake tree:  %.2f us per joules_read of %d RAPL domains (%.2f us per domain)\n",
           us, n, us / n);
    joules_close(m);

    /* 2. Read cost on this machine's RAPL, when readable. */
    m = open_root("/sys");
    if (m) {
        char msg[JOULES_MESSAGE_MAX];
        int code = 0;
        joules_backend_status(m, JOULES_BACKEND_RAPL, &code, msg, sizeof msg);
        us = read_cost_us(m, &n);
        if (us >= 0)
            printf("read, real RAPL:  %.2f us per joules_read of %d domains (%.2f us per domain)\n",
                   us, n, us / n);
        else
            printf("read, real RAPL:  not measured (%s)\n", msg);
        joules_close(m);
    }

    /* 3. Watcher CPU: 6 domains polled every 10 ms for a few seconds, main thread asleep. */
    t_rmtree(root);
    t_mkdtemp(root, sizeof root);
    fake_tree(root, 39999999ULL);
    const double seconds = 3.0, period_s = 0.010;
    double idle0 = cpu_s();
    t_sleep(seconds);
    double idle = cpu_s() - idle0;
    m = open_root(root);
    if (!m)
        return 1;
    n = joules_domain_count(m);
    double c0 = cpu_s();
    t_sleep(seconds);
    double busy = cpu_s() - c0 - idle;
    joules_close(m);
    double polls = seconds / period_s * n;
    double per_poll_us = busy / polls * 1e6;
    printf("watcher, measured: %.3f ms CPU over %.1f s (%d domains every %.0f ms): %.2f us per "
           "domain poll\n",
           busy * 1e3, seconds, n, period_s * 1e3, per_poll_us);
    static const struct {
        const char *what;
        double period_s;
    } real[] = {{"65,536 J range (ESU=16), poll 16.4 s", 16.384},
                {"262,144 J range (ESU=14), poll 60 s", 60.0}};
    for (size_t i = 0; i < 2; i++) {
        double per_hour_ms = 3600.0 / real[i].period_s * 6 * per_poll_us * 1e-3;
        printf("watcher, per hour: %.4f ms CPU for 6 domains, %s (%.2e of one CPU)\n", per_hour_ms,
               real[i].what, per_hour_ms * 1e-3 / 3600.0);
    }
    t_rmtree(root);
    return 0;
}
