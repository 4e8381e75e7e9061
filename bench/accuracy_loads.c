/* SPDX-License-Identifier: MIT */
/* accuracy_loads.c - the loads, repeated work and profiles the accuracy benchmarks measure. */
#include "accuracy.h"

const struct acc_load acc_loads[] = {
    {"steady", "idle 0.3s\nphase 900s util=1 alpha=0.6\n"},
    {"square 1 s, 50 %", "phase 0.5s util=1 alpha=0.7\nidle 0.5s context=1\nrepeat forever\n"},
    {"square 400 ms, 25 %", "phase 100ms util=1 alpha=0.8\nidle 300ms context=1\nrepeat forever\n"},
    {"square 100 ms, 50 %", "phase 50ms util=1 alpha=0.7\nidle 50ms context=1\nrepeat forever\n"},
    {"bursts 30 ms / 250 ms",
     "phase 30ms util=1 alpha=0.9\nidle 220ms context=1\nrepeat forever\n"},
};
const int acc_n_loads = (int)(sizeof acc_loads / sizeof acc_loads[0]);

const char *const acc_profiles[] = {"a100-sxm4-80gb", "h100-sxm5", "a6000"};
const char *const acc_sensor_of[] = {"25 ms of every 100 ms, instant PowerUsage",
                                     "25 ms of every 100 ms, 1-s average PowerUsage",
                                     "100 ms of every 100 ms, 1-s average PowerUsage"};
const char *const acc_sensor_old_driver[] = {
    "25 ms of every 100 ms, instant PowerUsage only (driver before R535)",
    "1-s average PowerUsage only (driver before R535)",
    "1-s average PowerUsage only (driver before R535)"};
const char *const *acc_sensor_names = acc_sensor_of;
const int acc_n_profiles = 3;

/* Part 2's repeated work: an fp32 kernel (about 10, 30 and 80 ms on the A100 at its boost
 * clock), then a rest. */
const struct acc_work acc_works[] = {
    {"10 ms kernel + 15 ms rest", 1.7e11, 0.015},
    {"30 ms kernel + 20 ms rest", 5e11, 0.020},
    {"80 ms kernel + 20 ms rest", 1.33e12, 0.020},
};
const int acc_n_works = (int)(sizeof acc_works / sizeof acc_works[0]);
