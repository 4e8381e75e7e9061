/* SPDX-License-Identifier: MIT */
/*
 * jsim.h - extension entry points exported by the simulated GPU library
 * (libnvidia-ml.so.1 built from src/sim/) beside the NVML ABI. Real drivers do not export
 * them, so a client can tell the simulator apart (jsimIsSimulated) and tests can compare a
 * measurement with the simulator's true energy.
 *
 * Configuration is read from the environment at the first nvmlInit*:
 *   JOULES_SIM_PROFILE    a profile's key or alias (jsimGetProfile lists them; a6000)
 *   JOULES_SIM_DEVICES    number of devices (1..16, default 1)
 *   JOULES_SIM_SCENARIO   path of a scenario file (docs/scenarios.md); it may also set the
 *                         profile and device count, which the variables above override
 *   JOULES_SIM_PRIVILEGED 1: setters (locked clocks, power limit) are allowed, as for root
 *   JOULES_SIM_SEED       seed of the sensor clock and fault draws (default 1)
 *   JOULES_SIM_SENSOR_CLOCK real (default): each device's sensor updates at a phase of its own,
 *                         every period 100 ms +/- up to 2 ms; exact: a 100 ms grid at phase 0
 *                         (where the scenario sets neither `sensor phase=` nor `jitter=`)
 *   JOULES_SIM_MACHINE    the shared machine's name, or "private" for a model of the
 *                         process's own (see the v3 additions below)
 * Scenario time 0 is the machine's boot (a private model: the first successful nvmlInit*);
 * time is CLOCK_MONOTONIC.
 */
#ifndef JOULES_JSIM_H
#define JOULES_JSIM_H

#include <stddef.h>

#include "abi/nvml_abi.h"

/* Always 1 in the simulated library. */
typedef int (*jsimIsSimulated_fn)(void);

/*
 * Message of the last failure (nvmlInit* on a bad scenario, ...), NUL-terminated. A message
 * longer than the buffer is shortened, "..." in place of what goes: the start of a scenario
 * file's path first, so that "file:line: message" keeps the file's name, its line and the
 * message, then the end. A buffer under JSIM_LAST_ERROR_MIN bytes that cannot hold the whole
 * message gets NVML_ERROR_INSUFFICIENT_SIZE.
 */
#define JSIM_LAST_ERROR_MIN 32u
typedef nvmlReturn_t (*jsimLastError_fn)(char *buf, unsigned int len);

/*
 * True cumulative energy (J) drawn by the device from scenario time 0 (the boot) to monotonic time
 * t_ns. t_ns must not be in the future and must lie within the kept history (the last 60 s at
 * least); otherwise NVML_ERROR_INVALID_ARGUMENT / NVML_ERROR_NO_DATA.
 */
typedef nvmlReturn_t (*jsimGetTrueEnergy_fn)(nvmlDevice_t dev, long long t_ns, double *energy_j);

/* True instantaneous power (W) now. */
typedef nvmlReturn_t (*jsimGetTruePower_fn)(nvmlDevice_t dev, double *power_w);

#define JSIM_SYMBOL_IS_SIMULATED    "jsimIsSimulated"
#define JSIM_SYMBOL_LAST_ERROR      "jsimLastError"
#define JSIM_SYMBOL_GET_TRUE_ENERGY "jsimGetTrueEnergy"
#define JSIM_SYMBOL_GET_TRUE_POWER  "jsimGetTruePower"

/* ---- additions (simulator v1/v2) --------------------------------------------------------- */

/*
 * Versioned structs carry version = sizeof(struct) | (1 << 24), as NVML does; a wrong
 * version gives NVML_ERROR_ARGUMENT_VERSION_MISMATCH.
 */
#define JSIM_STRUCT_VERSION(type) ((unsigned int)(sizeof(type) | (1u << 24)))

/* Precisions of jsimKernel.precision and jsimToggleRate. */
#define JSIM_PREC_FP32 0
#define JSIM_PREC_TF32 1
#define JSIM_PREC_FP16 2
#define JSIM_PREC_BF16 3
#define JSIM_PREC_FP64 4

/* The true state of one device now (the model's values, not what the sensors report). */
typedef struct jsimState {
    unsigned int version; /* JSIM_STRUCT_VERSION(jsimState) */
    int pstate;
    long long t_ns;     /* model time as CLOCK_MONOTONIC ns (virtual in virtual-time mode) */
    long long start_ns; /* scenario time 0: the machine's boot */
    double power_w;     /* true power of the step in progress */
    double p_board_w;   /* constant part: fans, VRM losses, PHYs */
    double p_mem_w;     /* memory: interface static + traffic */
    double p_leak_w;    /* core leakage, f(V, T) */
    double p_dyn_w;     /* core switching: alpha * C_eff * V^2 * f */
    double temperature_c;
    double clock_mhz; /* graphics clock held */
    double voltage_v;
    double util;     /* 0..1 */
    double alpha;    /* effective activity factor */
    double energy_j; /* true energy since scenario time 0 */
    double power_limit_w;
    unsigned long long reasons; /* clock-event reason bits */
    int lost;
    int kernel_active;
} jsimState;
typedef nvmlReturn_t (*jsimGetState_fn)(nvmlDevice_t dev, jsimState *state);

/*
 * Rebuild the model from scenario text (docs/scenarios.md); time restarts at 0 and the
 * handles of devices that still exist stay valid. Needs an initialised library. Profile,
 * device count and seed come from the text (defaults a6000, 1, 1), not from the environment;
 * privilege stays as at init. flags: JSIM_FLAG_VIRTUAL_TIME makes time advance only through
 * jsimAdvance and jsimRunKernel (no sleeping, no wall clock), for faster-than-real-time runs.
 * A parse error gives NVML_ERROR_INVALID_ARGUMENT (message from jsimLastError) and leaves the
 * previous model untouched.
 */
#define JSIM_FLAG_VIRTUAL_TIME 1u
typedef nvmlReturn_t (*jsimReconfigure_fn)(const char *scenario_text, unsigned int flags);

/* Virtual-time mode only: advance every device by seconds (NOT_SUPPORTED in real time). */
typedef nvmlReturn_t (*jsimAdvance_fn)(double seconds);

/* The model's "now" as CLOCK_MONOTONIC ns (what jsimGetTrueEnergy's t_ns refers to). */
typedef nvmlReturn_t (*jsimNow_fn)(long long *t_ns);

/*
 * A kernel: flops at a precision and bytes of memory traffic. It progresses at the clock
 * actually held and at the memory bandwidth (roofline: the slower of the two bounds), so a
 * throttled kernel takes longer. Activity: alpha if >= 0, else computed from the toggle rate
 * of its operands (jsimToggleRate) as alpha = base + k * toggle (profile constants, see
 * jsimAlphaFromToggle). efficiency: fraction of peak FLOP/s the kernel reaches at a given
 * clock (0: 0.9). alpha is the activity at 90 % efficiency (a tuned GEMM): switching scales
 * with the operations issued, so a kernel at lower efficiency or waiting on memory switches
 * proportionally less. While it runs it replaces the scenario's load on that device.
 */
typedef struct jsimKernel {
    unsigned int version; /* JSIM_STRUCT_VERSION(jsimKernel) */
    int precision;        /* JSIM_PREC_* */
    double flops;
    double bytes;
    double alpha;      /* < 0: from toggle */
    double toggle;     /* 0..1, used when alpha < 0 */
    double efficiency; /* 0..1 (0: 0.9) */
} jsimKernel;

typedef struct jsimKernelResult {
    unsigned int version; /* JSIM_STRUCT_VERSION(jsimKernelResult) */
    double time_s;
    double energy_j; /* true energy of the device over the kernel */
    double avg_power_w;
    double avg_clock_mhz;
    double flops_per_s;
    double alpha;               /* activity used */
    unsigned long long reasons; /* clock-event reasons seen while it ran (OR) */
} jsimKernelResult;

/*
 * Run a kernel and wait for it: in real time this sleeps while the model advances with the
 * wall clock; in virtual-time mode it steps the model (every device) until done.
 */
typedef nvmlReturn_t (*jsimRunKernel_fn)(nvmlDevice_t dev, const jsimKernel *kernel,
                                         jsimKernelResult *result);

/*
 * Virtual-time mode only (NOT_SUPPORTED in real time): make the kernel the device's active
 * one and return at once. It then progresses with jsimAdvance, one 1 ms step at a time, so
 * that a caller can read the sensors while it runs; jsimState.kernel_active turns 0 when it
 * is done, or when the device is lost (jsimState.lost). No time limit: the caller sets its
 * own. NVML_ERROR_IN_USE while another kernel runs on the device.
 */
typedef nvmlReturn_t (*jsimLaunchKernel_fn)(nvmlDevice_t dev, const jsimKernel *kernel);

/*
 * Bit-toggle rate of an operand stream: the mean fraction of bits that flip between
 * consecutive operands, as they would enter the multipliers at a precision. data holds count
 * floats (FP32/TF32/FP16/BF16: converted to the precision first, round to nearest even; TF32
 * keeps sign, exponent and 10 mantissa bits) or count doubles (FP64). Zeros and constants
 * give 0, uniformly random bits 0.5, N(0,1) floats a high value below 0.5. Works without
 * nvmlInit.
 */
typedef nvmlReturn_t (*jsimToggleRate_fn)(const void *data, size_t count, int precision,
                                          double *rate);

/* alpha = base + k * toggle for the device's profile. */
typedef nvmlReturn_t (*jsimAlphaFromToggle_fn)(nvmlDevice_t dev, double toggle, double *alpha);

#define JSIM_SYMBOL_GET_STATE         "jsimGetState"
#define JSIM_SYMBOL_RECONFIGURE       "jsimReconfigure"
#define JSIM_SYMBOL_ADVANCE           "jsimAdvance"
#define JSIM_SYMBOL_NOW               "jsimNow"
#define JSIM_SYMBOL_RUN_KERNEL        "jsimRunKernel"
#define JSIM_SYMBOL_LAUNCH_KERNEL     "jsimLaunchKernel"
#define JSIM_SYMBOL_TOGGLE_RATE       "jsimToggleRate"
#define JSIM_SYMBOL_ALPHA_FROM_TOGGLE "jsimAlphaFromToggle"

/* ---- additions (power-model sweeps, joules sweep) ---------------------------------------- */

/*
 * The profile's constants behind P = P_board + P_mem + P_leak(V, T) + (alpha_idle + u alpha)
 * C_eff V(f)^2 f (docs/physics.md), for validating a fitted power model against the truth.
 * A real GPU reports none of these (NVML gives no voltage).
 */
typedef struct jsimModel {
    unsigned int version; /* JSIM_STRUCT_VERSION(jsimModel) */
    double c_eff_f;       /* effective switched capacitance (F) */
    double alpha_idle;    /* clock-tree activity added to every load */
    double p_board_w;
    double p_mem_static_w; /* memory interface at the busy memory clock */
    double leak_ref_w;     /* leakage at v_floor and 25 C */
    double leak_v_exp;     /* leakage ~ (V / v_floor)^leak_v_exp */
    double leak_t_double_c;
    double v_floor_v, f_ridge_mhz, v_max_v; /* V(f): flat to the ridge, then linear */
    double clk_min_mhz, clk_max_mhz, clk_step_mhz;
    double tdp_w;
    double sensor_window_s; /* the part of each 100 ms update the power reading averages */
} jsimModel;
typedef nvmlReturn_t (*jsimGetModel_fn)(nvmlDevice_t dev, jsimModel *model);

/* The model's core voltage (V) at a graphics clock (MHz), busy P-state. */
typedef nvmlReturn_t (*jsimVoltageAt_fn)(nvmlDevice_t dev, double f_mhz, double *volts);

#define JSIM_SYMBOL_GET_MODEL  "jsimGetModel"
#define JSIM_SYMBOL_VOLTAGE_AT "jsimVoltageAt"

/*
 * The accuracy the simulated board states for its power sensor and counter, relative, as a
 * datasheet would: NVIDIA's +/-5 % (0.05) when the scenario gives the device's sensor a gain
 * or offset error (`sensor gain=... offset=...`), 0 when its sensors are exact. A statement,
 * not the error itself: a gain beyond 5 % is beyond it, as on real boards.
 */
typedef nvmlReturn_t (*jsimGetStatedAccuracy_fn)(nvmlDevice_t dev, double *relative);
#define JSIM_SYMBOL_GET_STATED_ACCURACY "jsimGetStatedAccuracy"
#define JSIM_STATED_ACCURACY            0.05

/* ---- additions (the profile list, for clients that validate or list profiles) ------------ */

/*
 * The names JOULES_SIM_PROFILE and a scenario's `profile` line accept: index 0, 1, ... gives
 * the profiles in the simulator's order, then the aliases; NVML_ERROR_NOT_FOUND past the
 * last. Works without nvmlInit and from any thread. The strings are the library's own,
 * valid while it stays loaded. This is the one list: clients ask it instead of keeping one.
 */
typedef struct jsimProfileInfo {
    unsigned int version; /* JSIM_STRUCT_VERSION(jsimProfileInfo) */
    const char *key;      /* "a6000", "a100-sxm4-80gb", or an alias such as "a100" */
    const char *alias_of; /* for an alias, the key it stands for; NULL for a profile */
    const char *name;     /* the device name NVML reports, less " (simulated)" */
    int for_tests;        /* 1: round numbers for tests and teaching, not a real board */
} jsimProfileInfo;
typedef nvmlReturn_t (*jsimGetProfile_fn)(unsigned int index, jsimProfileInfo *info);
#define JSIM_SYMBOL_GET_PROFILE "jsimGetProfile"

/* ---- additions (simulator v3: one machine that every process shares) -------------------- */

/*
 * The simulated machine. Unless JOULES_SIM_MACHINE=private, the devices live in a POSIX
 * shared-memory segment named by JOULES_SIM_MACHINE (letters, digits, '.', '_', '-'; default
 * joules-sim-<uid>-v<version>.<size>), created at the first nvmlInit* on the machine (its boot:
 * scenario time 0, the energy counters' zero) and advanced to CLOCK_MONOTONIC by every process that
 * uses it, under a process-shared robust lock. The segment starts with jsimMachineHeader; a segment
 * of another magic, version or size is refused (nvmlInit* gives UNKNOWN, and jsimLastError says to
 * run `joules sim reset`). The scenario, profile, device count, seed and sensor clock are those of
 * the process that booted it: a process whose environment asks for others is refused at nvmlInit*,
 * and jsimReconfigure answers NVML_ERROR_IN_USE. Virtual time (JSIM_FLAG_VIRTUAL_TIME, jsimAdvance,
 * jsimLaunchKernel) needs a private model.
 */
typedef struct jsimMachineHeader {
    unsigned long long magic; /* JSIM_MACHINE_MAGIC */
    unsigned int version;     /* JSIM_MACHINE_VERSION */
    unsigned int size;        /* bytes of the whole segment */
} jsimMachineHeader;
#define JSIM_MACHINE_MAGIC   0x4843414d4d49534aULL /* "JSIMMACH" */
#define JSIM_MACHINE_VERSION 1u
#define JSIM_MACHINE_PRIVATE "private"

typedef struct jsimMachine {
    unsigned int version; /* JSIM_STRUCT_VERSION(jsimMachine) */
    int shared;           /* 0: the process's own model */
    char name[64];        /* the segment's name (without '/'), or "private" */
    long long boot_ns;    /* CLOCK_MONOTONIC of the boot: scenario time 0 */
    double uptime_s;
    unsigned int devices;
    unsigned int loader_pid; /* the process that booted it and loaded its scenario */
    char config[256];        /* what it runs: profile, devices, seed, sensor clock, scenario */
    unsigned int n_attached; /* processes between their first nvmlInit* and last nvmlShutdown */
    unsigned int attached_pids[64];
    unsigned int lock_recoveries; /* times a process died holding the lock */
} jsimMachine;

/* The machine this process uses (needs an initialised library). */
typedef nvmlReturn_t (*jsimGetMachine_fn)(jsimMachine *machine);

/*
 * Remove the shared machine `name` (NULL: JOULES_SIM_MACHINE, else the default), as
 * `joules sim reset` does: the next nvmlInit* anywhere boots a fresh one; processes still
 * attached keep the old one until they exit. Works without nvmlInit. NVML_ERROR_NOT_FOUND:
 * there is none; NVML_ERROR_INVALID_ARGUMENT: a bad name or "private".
 */
typedef nvmlReturn_t (*jsimResetMachine_fn)(const char *name);

/*
 * Test aids, read at nvmlInit*: JOULES_SIM_DEBUG_HOLD_LOCK_MS holds the machine's lock that
 * long (up to 60 s) at the end of the process's first init, as a process that stalls (or is
 * killed) inside the lock; JOULES_SIM_DEBUG_BOOTED_AGO_S makes a machine this process boots
 * look booted that many seconds ago (up to 1e7), so that its first call crosses the gap.
 */
#define JSIM_SYMBOL_GET_MACHINE   "jsimGetMachine"
#define JSIM_SYMBOL_RESET_MACHINE "jsimResetMachine"

/* ---- additions (the settings a client changes, for checking that it puts them back) ------ */

/*
 * The settings a privileged client changes on a device (locked clocks, power limit,
 * applications clocks), now and as the device booted (its scenario's `lock-clocks` and
 * `power-limit` lines, else the board's defaults; applications clocks always boot at their
 * defaults), with the setter calls that succeeded since the boot. On a shared machine they outlive
 * the process that made them, as on a real board: another process reads whether it put them back.
 */
typedef struct jsimSettings {
    unsigned int version;                        /* JSIM_STRUCT_VERSION(jsimSettings) */
    unsigned int locked_min_mhz, locked_max_mhz; /* 0: not locked */
    unsigned int boot_locked_min_mhz, boot_locked_max_mhz;
    double power_limit_w;
    double boot_power_limit_w;
    unsigned int app_gfx_mhz, app_mem_mhz; /* 0: the defaults */
    /* successful calls since the boot */
    unsigned long long set_locked_clocks;   /* nvmlDeviceSetGpuLockedClocks */
    unsigned long long reset_locked_clocks; /* nvmlDeviceResetGpuLockedClocks */
    unsigned long long set_power_limit;     /* nvmlDeviceSetPowerManagementLimit(_v2) */
    unsigned long long set_app_clocks;      /* nvmlDeviceSetApplicationsClocks */
    unsigned long long reset_app_clocks;    /* nvmlDeviceResetApplicationsClocks */
} jsimSettings;
typedef nvmlReturn_t (*jsimGetSettings_fn)(nvmlDevice_t dev, jsimSettings *settings);
#define JSIM_SYMBOL_GET_SETTINGS "jsimGetSettings"

#endif /* JOULES_JSIM_H */
