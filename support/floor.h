/* SPDX-License-Identifier: MIT */
/*
 * floor.h - the sensors' floor of a window in virtual time (floor.c), which bench_edges
 * prints beside each cell and tests/test_floor_virtual checks where the answer is known.
 */
#ifndef JOULES_FLOOR_H
#define JOULES_FLOOR_H

#include <stdint.h>

struct vsim;

/* The sensors' floor of a window, in virtual time: the least relative error
 * any method reading the counter and the power readings could promise on it. Attach after
 * the other hooks (it chains to them), before the scenario runs; window_ms: the part of each
 * counter interval the reading averages (0: what the simulated profile's reading does). */
void acc_floor_attach(struct vsim *v, int window_ms);
void acc_floor_detach(void);
/* -1 where the window's edges do not both lie between seen steps yet. */
double acc_floor_window(int64_t t0_ns, int64_t t1_ns);

#endif
