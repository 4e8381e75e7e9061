/* SPDX-License-Identifier: MIT */
/*
 * bench_run.c - the wall-time overhead of `joules run -- true` over `true` itself, on the
 * simulated GPU and (when this machine has a sensor) on the real ones. Each variant is
 * started many times with fork + exec, interleaved so that drifts of the machine hit every
 * variant alike; the medians and their differences are printed. Goal: < 20 ms added.
 *
 * Usage: bench_run [REPETITIONS]   (default 40)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GOAL_MS  20.0
#define MAX_REPS 1000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Run argv with stdout/stderr to /dev/null; the wall time, or -1 if it did not exit 0. */
static double time_once(char *const argv[])
{
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    double t = now_s() - t0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? t : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 40;
    if (reps < 3 || reps > MAX_REPS) {
        fprintf(stderr, "bench_run: repetitions must be 3..%d\n", MAX_REPS);
        return 2;
    }
    setenv("JOULES_SIM_LIBRARY", JOULES_TEST_SIM_LIB, 1);

    char *bare[] = {"true", NULL};
    char *sim[] = {JOULES_TEST_BIN, "run", "--sim", "--quiet", "--", "true", NULL};
    char *real[] = {JOULES_TEST_BIN, "run", "--quiet", "--", "true", NULL};
    /* The default waits up to one counter period (~100 ms) to anchor the end edge on a
     * counter step; --no-settle ends at once and extrapolates it instead. */
    char *fast[] = {JOULES_TEST_BIN, "run", "--sim", "--no-settle", "--quiet", "--", "true", NULL};
    /* Real sensors only if `joules run` finds some here (exit 1 otherwise). */
    int have_real = time_once(real) >= 0;
    if (time_once(sim) < 0) {
        fprintf(stderr, "bench_run: `joules run --sim -- true` failed; is the build complete?\n");
        return 1;
    }

    static double t_bare[MAX_REPS], t_sim[MAX_REPS], t_real[MAX_REPS], t_fast[MAX_REPS];
    for (int i = 0; i < reps; i++) {
        t_bare[i] = time_once(bare);
        t_sim[i] = time_once(sim);
        t_fast[i] = time_once(fast);
        t_real[i] = have_real ? time_once(real) : 0;
        if (t_bare[i] < 0 || t_sim[i] < 0 || t_real[i] < 0 || t_fast[i] < 0) {
            fprintf(stderr, "bench_run: a run failed (repetition %d)\n", i);
            return 1;
        }
    }
    double mb = median(t_bare, reps), ms = median(t_sim, reps), mf = median(t_fast, reps);
    printf("joules run overhead, median of %d fork+exec runs each:\n", reps);
    printf("  true                          %8.2f ms\n", mb * 1e3);
    printf("  joules run --sim -- true      %8.2f ms   added %7.2f ms   (goal < %.0f ms: %s)\n",
           ms * 1e3, (ms - mb) * 1e3, GOAL_MS, (ms - mb) * 1e3 < GOAL_MS ? "met" : "NOT met");
    printf(
        "  joules run --sim --no-settle -- true %5.2f ms   added %7.2f ms   (goal < %.0f ms: %s)\n",
        mf * 1e3, (mf - mb) * 1e3, GOAL_MS, (mf - mb) * 1e3 < GOAL_MS ? "met" : "NOT met");
    printf("  (by default the end waits for the next ~100 ms counter step, at most max(10 ms, a\n"
           "   tenth of the command's time), to anchor the end edge on the counter)\n");
    if (have_real) {
        double mr = median(t_real, reps);
        printf("  joules run -- true            %8.2f ms   added %7.2f ms   (goal < %.0f ms: %s)\n",
               mr * 1e3, (mr - mb) * 1e3, GOAL_MS, (mr - mb) * 1e3 < GOAL_MS ? "met" : "NOT met");
    } else {
        printf("  joules run -- true            skipped: no real GPU or RAPL sensor here\n");
    }
    return 0;
}
