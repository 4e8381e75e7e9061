/* SPDX-License-Identifier: MIT */
/*
 * ab_sim.h - the simulated GPU's own entry points, for the experiments that drive it or read
 * its truth (ab_exec_sim.c, src/sweep): the device the monitor's GPU domain is, in the copy
 * of the simulator the monitor loaded.
 */
#ifndef JOULES_AB_SIM_H
#define JOULES_AB_SIM_H

#include <stddef.h>

#include "ab/ab.h"
#include "abi/jsim.h"

/* The simulator's device whose UUID is that of the monitor's domain s->gpu_domain, looked up
 * in dl (the simulator library, dlopen'ed): matched by UUID, not by position. 0, or -1 with
 * err. */
int ab_sim_device(void *dl, const struct ab_setup *s, nvmlDevice_t *out, char *err, size_t len);

#endif
