/* SPDX-License-Identifier: MIT */
/*
 * jsim.h - extension entry points exported by the simulated GPU library
 * (libnvidia-ml.so.1 built from src/sim/) beside the NVML ABI. Real drivers do not export
 * them, so a client can tell the simulator apart (jsimIsSimulated) and tests can compare a
 * measurement with the simulator's true energy.
 *
 * Configuration is read from the environment at the first nvmlInit*:
 *   JOULES_SIM_PROFILE    a6000 | a100-sxm4-40gb | a100-sxm4-80gb | h100-sxm5 | test (a6000)
 *   JOULES_SIM_DEVICES    number of devices (1..16, default 1)
 *   JOULES_SIM_SCENARIO   path of a scenario file (docs/scenarios.md); it may also set the
 *                         profile and device count, which the variables above override
 *   JOULES_SIM_PRIVILEGED 1: setters (locked clocks, power limit) are allowed, as for root
 *   JOULES_SIM_SEED       seed of the sensor noise and fault draws (default 1)
 * Scenario time 0 is the first successful nvmlInit*; time is CLOCK_MONOTONIC.
 */
#ifndef JOULES_JSIM_H
#define JOULES_JSIM_H

#include <stddef.h>

#include "../backends/nvml_abi.h"

/* Always 1 in the simulated library. */
typedef int (*jsimIsSimulated_fn)(void);

/* Message of the last failure (nvmlInit* on a bad scenario, ...), NUL-terminated. */
typedef nvmlReturn_t (*jsimLastError_fn)(char *buf, unsigned int len);

/*
 * True cumulative energy (J) drawn by the device from the first init to monotonic time t_ns.
 * t_ns must not be in the future and must lie within the kept history (the last 60 s at
 * least); otherwise NVML_ERROR_INVALID_ARGUMENT / NVML_ERROR_NO_DATA.
 */
typedef nvmlReturn_t (*jsimGetTrueEnergy_fn)(nvmlDevice_t dev, long long t_ns, double *energy_j);

/* True instantaneous power (W) now. */
typedef nvmlReturn_t (*jsimGetTruePower_fn)(nvmlDevice_t dev, double *power_w);

#define JSIM_SYMBOL_IS_SIMULATED "jsimIsSimulated"
#define JSIM_SYMBOL_LAST_ERROR "jsimLastError"
#define JSIM_SYMBOL_GET_TRUE_ENERGY "jsimGetTrueEnergy"
#define JSIM_SYMBOL_GET_TRUE_POWER "jsimGetTruePower"

#endif /* JOULES_JSIM_H */
