/* SPDX-License-Identifier: MIT */
/*
 * support.h - helpers shared by the tests and the benchmarks (support/ is linked by both;
 * neither links the other's code).
 */
#ifndef JOULES_SUPPORT_H
#define JOULES_SUPPORT_H

#include <stddef.h>

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
/* The environment of a fixture's simulated GPU: a private model, the exact sensor grid unless
 * JOULES_SIM_SENSOR_CLOCK says otherwise. Before the simulator's first nvmlInit. */
void t_sim_fixture_env(void);
struct joules_monitor *t_open_sim_gpu(int settle_end, char *err, size_t len);

/* A result with room for every domain of m (joules_measurement_alloc); exits when there is
 * none. Release it with joules_measurement_free. */
struct joules_measurement;
struct joules_measurement *t_result(struct joules_monitor *m);

#endif
