/* SPDX-License-Identifier: MIT */
/*
 * sim.h - internals of the simulated GPU (never installed, never exported: the library is
 * built with -fvisibility=hidden and only the NVML and jsim entry points are marked default).
 *
 * The pieces: profiles.c (datasheet numbers of each GPU and the calibration derived from
 * them), scenario.c (the scenario text format, docs/scenarios.md), model.c (the physics:
 * V(f), power, heat, the clock governor, sensors as NVML reports them, the energy history),
 * state.c (the one global model, its lock and its clock), nvml_*.c (the NVML ABI) and
 * jsim_ext.c (the extension entry points of jsim.h). docs/physics.md explains the model.
 */
#ifndef JOULES_SIM_SIM_H
#define JOULES_SIM_SIM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/nvml_abi.h"
#include "abi/jsim.h"

#define SIM_MAX_DEVICES 16
#define SIM_DT_NS       1000000LL /* model step: 1 ms */
#define SIM_DT_S        1e-3
#define SIM_TICK_STEPS  100   /* sensors and the energy counter update every 100 ms */
#define SIM_AVG_TICKS   10    /* the 1-s average is the mean of the last 10 updates */
#define SIM_HIST_STEPS  65536 /* energy history: 65.5 s at step resolution */
#define SIM_MAX_CLOCKS  160
#define SIM_MAX_FAULTS  32
#define SIM_MAX_PHASES  4096

/* ---- profiles ------------------------------------------------------------------------- */

struct sim_profile {
    const char *key;  /* "a6000", "a100-sxm4-80gb", ... */
    const char *name; /* as NVML reports it, " (simulated)" is appended */
    unsigned pci_device_id, pci_subsys_id;
    unsigned arch; /* NVML_DEVICE_ARCH_* */
    unsigned long long mem_total_mib, mem_reserved_mib;
    unsigned sms, fp32_cores, tensor_cores;
    /* graphics clocks (MHz) */
    unsigned clk_min, clk_max, clk_step, clk_app_default, clk_idle, video_max;
    /* memory clocks (MHz), highest first; [0] is the busy clock */
    unsigned mem_clocks[4];
    int n_mem_clocks;
    unsigned mem_clk_low; /* memory clock in the low-power P-state (P8) */
    /* power limits (W) */
    double tdp_w, limit_min_w, limit_max_w;
    /* thresholds (°C) */
    int t_shutdown, t_slowdown, t_max_op, t_mem_max, t_sw;
    /* P-states: idle without context, idle with a context, busy */
    int pstate_idle, pstate_ctx, pstate_busy;
    /* V(f): flat at v_floor up to f_ridge, then linear to v_max at clk_max */
    double v_floor, f_ridge, v_max;
    /* power */
    double p_board_w;        /* fans, VRM losses, PCIe/NVLink PHYs, board logic */
    double p_mem_static_w;   /* memory interface at the highest memory clock (scales) */
    double leak_ref_w;       /* leakage at v_floor and 25 °C */
    double leak_v_exp;       /* leakage ∝ (V/v_floor)^leak_v_exp */
    double leak_t_double;    /* leakage doubles every leak_t_double °C */
    double gate_low;         /* fraction of leakage left when the core rail is gated (P8) */
    double alpha_idle;       /* clock-tree activity with no work */
    double alpha_cal, t_cal; /* calibration: alpha_cal at clk_max and t_cal °C draws tdp_w */
    double mem_bw_gbs;       /* peak memory bandwidth at mem_clocks[0] */
    double mem_pj_per_byte;  /* DRAM traffic energy */
    /* peak dense throughput (TFLOPS) at the reference clocks */
    double tf_fp64, tf_fp32, tf_tf32, tf_fp16;
    unsigned ref_clk_vector, ref_clk_tensor;
    /* activity of a GEMM from the toggle rate of its operands: alpha = base + k * toggle */
    double toggle_base, toggle_k;
    /* cooling */
    double r_th, c_th, t_amb;
    /* power sensor */
    int sensor_window_ms; /* "instant" reading = mean over the last window of each 100 ms */
    int avg_supported;    /* NVML_FI_DEV_POWER_AVERAGE (185) */
    int usage_is_avg;     /* nvmlDeviceGetPowerUsage returns the 1-s average */
    int memory_scope;     /* power scope MEMORY supported (Hopper) */
    int has_fan;
    int for_tests; /* 1: round numbers for tests and teaching, not a real board */
    /* derived at lookup: effective switched capacitance (F) */
    double c_eff;
};

const struct sim_profile *sim_profile_find(const char *key);
/*
 * The index-th name the simulator accepts: the profiles in table order, then the aliases.
 * *alias_of is NULL for a profile, the key it stands for for an alias; *p is the profile
 * (the aliased one for an alias), never calibrated here. 0, or -1 past the last.
 */
int sim_profile_entry(unsigned index, const char **key, const char **alias_of,
                      const struct sim_profile **p);
/* "a6000, a100-sxm4-80gb (a100), ...": every key, aliases in parentheses, for messages. */
const char *sim_profile_keys(void);
double sim_voltage(const struct sim_profile *p, double f_mhz);
double sim_leakage(const struct sim_profile *p, double v, double t_c);
/* Peak FLOP/s at f_mhz for a precision (JSIM_PREC_*). */
double sim_peak_flops(const struct sim_profile *p, int precision, double f_mhz);

/* ---- scenarios ------------------------------------------------------------------------ */

struct sim_phase {
    double dur_s;
    double util;    /* 0..1 */
    double alpha;   /* activity while busy */
    double power_w; /* fixed true power, < 0: modelled */
    double mem_gbs; /* memory traffic */
    int context;    /* a CUDA context exists (A6000: P2 instead of P8) */
};

enum sim_fault_kind {
    SIM_FAULT_LOST = 1,
    SIM_FAULT_RESET,
    SIM_FAULT_ERRORS,
    SIM_FAULT_NO_ENERGY,
    SIM_FAULT_OLD_DRIVER
};

struct sim_fault {
    int kind;
    int device;     /* -1: every device */
    double at_s;    /* LOST, RESET; ERRORS: from */
    double until_s; /* ERRORS */
    double rate;    /* ERRORS */
    int code;       /* ERRORS: nvmlReturn_t returned */
};

#define SIM_UNSET (-1e300)

struct sim_scenario {
    char profile[32];
    int devices; /* 0: unset */
    int has_seed;
    unsigned long long seed;
    struct sim_phase *phases; /* malloc'd */
    int n_phases;
    int repeat;                       /* times the phase list is played; 0 = forever */
    double t_amb, r_th, c_th, t_init; /* SIM_UNSET: profile default */
    int governor;                     /* 1 on (default), 0 off */
    double power_limit_w;             /* SIM_UNSET: default */
    unsigned lock_min, lock_max;      /* 0: not locked */
    double gain[SIM_MAX_DEVICES], offset_w[SIM_MAX_DEVICES];
    int tick_phase_ms[SIM_MAX_DEVICES]; /* sensor updates at phase + n x 100 ms (default 0) */
    struct sim_fault faults[SIM_MAX_FAULTS];
    int n_faults;
    size_t err_name_len; /* after a failed parse or load: the leading bytes of err naming it */
};

void sim_scenario_init(struct sim_scenario *s);
void sim_scenario_free(struct sim_scenario *s);
/* Parse text (name used in messages). 0, or -1 with "name:line: message" in err. */
int sim_scenario_parse(struct sim_scenario *s, const char *text, const char *name, char *err,
                       size_t len);
int sim_scenario_load(struct sim_scenario *s, const char *path, char *err, size_t len);

/* ---- the model ------------------------------------------------------------------------ */

struct sim_kernel {
    int active;
    double work_left; /* fraction of the kernel left, 1 -> 0 */
    double flops, bytes, alpha, efficiency;
    int precision;
    /* accounting */
    long long steps;
    double time_s, energy_j, clk_sum;
    unsigned long long reasons;
};

/* Components of the power of one step. */
struct sim_power {
    double total, board, mem, leak, dyn;
};

struct sim_dev {
    const struct sim_profile *p;
    int index;
    char name[96];
    char uuid[96];
    /* configuration */
    double gain, offset_w;
    int tick_phase_ms; /* when the sensor and counter update, within each 100 ms */
    double r_th, c_th, t_amb;
    double th_decay; /* exp(-dt / (R_th C_th)) */
    int governor;
    double limit_w;
    unsigned lock_min, lock_max;     /* 0: not locked */
    unsigned clocks[SIM_MAX_CLOCKS]; /* supported graphics clocks, highest first */
    int n_clocks;
    /* state */
    long long step; /* steps done: the model is at time step * dt */
    double temp_c;
    double clk;           /* graphics clock held (MHz) */
    double f_cap_thermal; /* SW thermal clock cap */
    unsigned mem_clk;
    int pstate;
    unsigned long long reasons;
    int lost;
    double util, alpha_eff, mem_gbs;
    struct sim_power pw;   /* power of the step in progress */
    double energy_j;       /* true energy since the first init, at time step * dt */
    double counter_base_j; /* true energy at the last counter reset */
    /* sensors */
    double win_acc_j; /* energy in the sensor window of the current 100 ms */
    double inst_w;    /* last "instant" reading */
    double avg_ring[SIM_AVG_TICKS];
    int avg_pos;
    unsigned long long counter_mj;
    double sensor_energy_j; /* energy as the sensor sees it (gain and offset applied) */
    /* history: hist[k % N] = true energy at the end of step k */
    double *hist;
    struct sim_kernel kernel;
    uint64_t rng;
    int no_energy;
    int old_driver;       /* before R535: no power fields 185-192 */
    long long next_event; /* step of the next lost/reset fault, -1 none */
};

struct sim_state {
    pthread_mutex_t lock;
    int refcount;     /* nvmlInit* minus nvmlShutdown */
    int built;        /* the model exists (built at the first successful init) */
    int virtual_time; /* time advances only through jsimAdvance / jsimRunKernel */
    int privileged;
    long long start_ns; /* CLOCK_MONOTONIC at the first successful init */
    unsigned long long seed;
    struct sim_scenario scn;
    int n_dev;
    struct sim_dev dev[SIM_MAX_DEVICES];
    /* scenario cursor, shared by every device */
    int ph_idx, ph_loop;
    double ph_end_s;
    char last_error[512];
    size_t last_error_name_len; /* leading bytes of last_error naming a file, which may elide */
};

extern struct sim_state sim_g;

/* Build every device from the scenario (the model restarts at time 0). 0 or -1 + message. */
/* Build every device from scn (taken over: scn is left empty); the model restarts at time 0.
 * Overrides: profile (NULL/empty: none), devices (0: none), seed. On failure (-1 + message)
 * g is untouched. */
int sim_model_build(struct sim_state *g, struct sim_scenario *scn, const char *profile_override,
                    int devices_override, int has_seed_override, unsigned long long seed_override,
                    char *err, size_t len);
void sim_model_free(struct sim_state *g);
/* Advance the model to step `target` (lock held). */
void sim_model_advance(struct sim_state *g, long long target);
/* Power the device would draw now at clock f (MHz), for the governor and for tests. */
struct sim_power sim_model_power(const struct sim_dev *d, double f_mhz);
/* The current phase of the scenario (idle forever after the end). */
const struct sim_phase *sim_model_phase(const struct sim_state *g);
/* True energy (J) at time t_s since start; 0, or NVML error. */
nvmlReturn_t sim_model_energy_at(const struct sim_dev *d, double t_s, double *out);
/* Fault draws for one device call. */
nvmlReturn_t sim_model_fault(struct sim_state *g, struct sim_dev *d);

/* ---- state, lock, clock (state.c) -------------------------------------------------------- */

long long sim_monotonic_ns(void);
/* Take the lock, advance to now; returns 0, or UNINITIALIZED (then the lock is released). */
nvmlReturn_t sim_enter(void);
void sim_leave(void);
/* Validate a handle (lock held): the device or NULL. */
struct sim_dev *sim_dev_of(nvmlDevice_t h);
/* sim_enter + handle check + lost/fault checks; on success the lock is held. */
nvmlReturn_t sim_enter_dev(nvmlDevice_t h, struct sim_dev **out);
/* Copy a string with the INSUFFICIENT_SIZE protocol. */
nvmlReturn_t sim_copy_str(char *dst, unsigned int len, const char *src);
void sim_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * head (head_n bytes, a file's name) then tail into dst of len bytes, always NUL-terminated:
 * what does not fit goes from the start of the head first ("..." in its place), then from the
 * end of the tail ("..." again); no UTF-8 character is split. Returns how many bytes of dst
 * stand for the head.
 */
size_t sim_join_elided(char *dst, size_t len, const char *head, size_t head_n, const char *tail);
/* Model time now (s) (lock held). */
double sim_now_s(void);

#endif /* JOULES_SIM_SIM_H */
