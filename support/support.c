/* SPDX-License-Identifier: MIT */
/*
 * support.c - what tests and benchmarks both need around the library: temporary trees and
 * files, sleeping, the monotonic clock in seconds, a monitor on the simulated GPU.
 */
#define _XOPEN_SOURCE 700
#include "support.h"

#include "joules.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int t_mkdtemp(char *buf, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, len, "%s/joules-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(buf) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int t_rmtree(const char *path)
{
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

int t_write_file(const char *path, const char *text)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    if (mkdirs(dir) != 0)
        return -1;
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

void t_sleep(double seconds)
{
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

double t_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void t_sim_fixture_env(void)
{
    /* A model of the process's own, whatever machine the caller's shell names, and the exact
     * 100 ms sensor grid the methods' bounds and docs/accuracy.md's figures are stated on
     * (JOULES_SIM_SENSOR_CLOCK=real in the environment shows the wandering clock instead). */
    setenv("JOULES_SIM_MACHINE", "private", 1);
    setenv("JOULES_SIM_SENSOR_CLOCK", "exact", 0);
}

joules_monitor *t_open_sim_gpu(int settle_end, char *err, size_t len)
{
    t_sim_fixture_env();
    joules_options o;
    joules_options_init(&o);
    o.nvml_library = JOULES_TEST_SIM_LIB;
    o.kinds = JOULES_KIND_GPU;
    o.settle_end = settle_end;
    joules_monitor *m = NULL;
    return joules_open(&m, &o, err, len) == 0 ? m : NULL;
}

joules_measurement *t_result(joules_monitor *m)
{
    joules_measurement *r = NULL;
    int rc = joules_measurement_alloc(m, &r);
    if (rc != 0) {
        fprintf(stderr, "FATAL: no result for the monitor's domains: %s\n",
                m ? joules_last_error(m) : joules_strerror(rc));
        exit(1);
    }
    return r;
}
