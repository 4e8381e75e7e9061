/* SPDX-License-Identifier: MIT */
/*
 * testlib.h - the small harness every C test uses: checks that count and report, a
 * closing "N passed, N failed" line, and helpers for temporary trees and files.
 */
#ifndef JOULES_TESTLIB_H
#define JOULES_TESTLIB_H

#include <stddef.h>

extern int t_passed;
extern int t_failed;

void t_check(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#define CHECK(cond)       t_check(!!(cond), __FILE__, __LINE__, #cond, NULL)
#define CHECKF(cond, ...) t_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                                    \
        t_check(t_a_ == t_b_, __FILE__, __LINE__, #a " == " #b, "%lld != %lld", t_a_, t_b_);       \
    } while (0)
#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double t_a_ = (double)(a), t_b_ = (double)(b), t_t_ = (double)(tol);                       \
        t_check(t_a_ - t_b_ <= t_t_ && t_b_ - t_a_ <= t_t_, __FILE__, __LINE__, #a " ~ " #b,       \
                "%.9g vs %.9g (tol %.3g)", t_a_, t_b_, t_t_);                                      \
    } while (0)

/* Run a named test case function, printing its name. */
#define RUN(fn)                                                                                    \
    do {                                                                                           \
        t_begin(#fn);                                                                              \
        fn();                                                                                      \
    } while (0)

void t_begin(const char *name);
/* Prints the closing line and returns the process exit status. */
int t_end(void);

/* Temporary directory (removed by t_rmtree); path written to buf. */
int t_mkdtemp(char *buf, size_t len);
int t_rmtree(const char *path);
/* mkdir -p of dirname(path) then write text to path. */
int t_write_file(const char *path, const char *text);
/* Sleep for a number of seconds (fractional). */
void t_sleep(double seconds);
/* CLOCK_MONOTONIC in seconds: the clock of the library's timestamps. */
double t_mono_s(void);

/* A monitor on the simulated GPU (JOULES_TEST_SIM_LIB, configured by the JOULES_SIM_*
 * environment), GPUs only, with settle_end as given; NULL with the reason in err. */
struct joules_monitor;
struct joules_monitor *t_open_sim_gpu(int settle_end, char *err, size_t len);

/* A result with room for every domain of m (joules_measurement_alloc); exits when there is
 * none. Release it with joules_measurement_free. */
struct joules_measurement;
struct joules_measurement *t_result(struct joules_monitor *m);

#endif
