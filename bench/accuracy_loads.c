/* SPDX-License-Identifier: MIT */
/* accuracy_loads.c - the loads and profiles both accuracy benchmarks measure. */
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
const int acc_n_profiles = 3;
