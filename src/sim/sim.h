/* SPDX-License-Identifier: MIT */
/*
 * sim.h - internals of the simulated GPU (never installed, never exported: the library is
 * built with -fvisibility=hidden and only the NVML and jsim entry points are marked default).
 *
 * The pieces: profiles.c (datasheet numbers of each GPU and the calibration derived from
 * them), scenario.c (the scenario text format, docs/scenarios.md), build.c (devices from a
 * scenario), model.c (the physics: V(f), power, heat, the clock governor, sensors as NVML
 * reports them, the energy history, long gaps crossed at rest), machine.c (where the model
 * lives: the process, or a shared-memory segment every process maps), state.c (the lock and
 * the clock as entry points use them, initialisation), nvml_*.c (the NVML ABI; nvml_identity.c
 * also holds each profile's board: docs/nvml-coverage.md) and jsim_ext.c (the extension entry
 * points of jsim.h). docs/physics.md explains the model.
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
#define SIM_TICK_STEPS  100 /* sensors and the energy counter update every 100 ms (mean) */
#define SIM_TICK_JITTER 2   /* default jitter of each update period (ms), as on real boards */
#define SIM_MAX_JITTER  10
#define SIM_AVG_TICKS   10    /* the 1-s average is the mean of the last 10 updates */
#define SIM_HIST_STEPS  65536 /* energy history: 65.5 s at step resolution */
#define SIM_MAX_CLOCKS  160
#define SIM_MAX_FAULTS  32
#define SIM_MAX_PHASES  4096
#define SIM_MAX_EVENTS  32 /* events kept per device for event sets */

/* ---- profiles ------------------------------------------------------------------------- */

struct sim_profile {
    /* Arrays, not pointers: a device holds a copy of its profile, in a segment that other
     * processes map at other addresses. */
    char key[24];  /* "a6000", "a100-sxm4-80gb", ... */
    char name[48]; /* as NVML reports it, " (simulated)" is appended */
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

/* ---- boards: what a board of each profile answers to the identity and status queries ---- */

struct sim_dev;

struct sim_board {
    const char *key;           /* the profile's key */
    unsigned brand;            /* nvmlBrandType_t */
    const char *serial_prefix; /* first 7 of the 13 digits; the rest from the seed and index */
    const char *vbios, *part_number, *inforom_image, *inforom_oem, *inforom_ecc;
    int cc_major, cc_minor;
    unsigned bus_width_bits, bar1_mib;
    int ecc;               /* ECC mode enabled (current = pending) */
    int mig_capable;       /* MIG mode queries answer (disabled); else NOT_SUPPORTED */
    unsigned nvlinks;      /* NVLink links (0: NOT_SUPPORTED) */
    unsigned remap_banks;  /* row remapper histogram: banks available ("Max") */
    int mem_temp_offset_c; /* memory temperature = GPU + this; < -99: no memory sensor */
    int tlimit;            /* T.Limit fields 193-196 and the margin (Hopper, Ada+) */
    int tlimit_c;          /* the T.Limit temperature the margin is measured from */
    int tlimit_shutdown_c, tlimit_slowdown_c, tlimit_mem_max_c, tlimit_gpu_max_c;
    unsigned boost_max_mhz; /* max customer boost clock; 0: NOT_SUPPORTED */
    unsigned fans;          /* 0: fan calls NOT_SUPPORTED */
};

/* The board of a device's profile (never NULL). */
const struct sim_board *sim_board_of(const struct sim_dev *d);
/* The processes with work on a device (at most 2: a kernel's, the scenario's) (lock held). */
int sim_work_pids(const struct sim_dev *d, int pids[2]);
/* Field values of nvml_status.c: 1 when the id is one of them (v filled), else 0. */
int sim_field_status(const struct sim_dev *d, nvmlFieldValue_t *v);

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
    SIM_FAULT_OLD_DRIVER,
    SIM_FAULT_XID
};

struct sim_fault {
    int kind;
    int device;     /* -1: every device */
    double at_s;    /* LOST, RESET, XID; ERRORS: from */
    double until_s; /* ERRORS */
    double rate;    /* ERRORS */
    int code;       /* ERRORS: nvmlReturn_t returned; XID: the Xid number */
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
    int tick_phase_ms[SIM_MAX_DEVICES];  /* first sensor update at phase ms (-1: unset) */
    int tick_jitter_ms[SIM_MAX_DEVICES]; /* each period is 100 ms +/- up to this (-1: unset) */
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
    struct sim_profile p; /* a copy (the segment holds no pointer) */
    int index;
    char name[96];
    char uuid[96];
    /* configuration */
    double gain, offset_w;
    int tick_phase_ms;   /* when the sensor and counter first update, within the first 100 ms */
    int tick_jitter_ms;  /* each update period is 100 ms + a draw in [-jitter, +jitter] ms */
    long long tick_at;   /* step at whose end the sensor and the counter next update */
    long long tick_prev; /* step at whose end they last updated (-1: none yet) */
    uint64_t tick_rng;   /* the draws of the update instants (apart from the fault draws) */
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
    double win_acc_j; /* energy in the sensor window of the current period */
    int win_steps;    /* steps in win_acc_j */
    double inst_w;    /* last "instant" reading */
    double avg_ring[SIM_AVG_TICKS];
    int avg_pos;
    /* what each of the last SIM_AVG_TICKS updates showed (nvmlDeviceGetSamples) */
    struct sim_sample {
        long long step; /* the update came at the end of this step */
        double power_w, util, mem_util;
        unsigned clk_mhz, mem_mhz;
    } samples[SIM_AVG_TICKS];
    int n_samples;
    unsigned long long counter_mj;
    double sensor_energy_j; /* energy as the sensor sees it (gain and offset applied) */
    struct sim_kernel kernel;
    int kernel_pid; /* the process that launched the running kernel */
    uint64_t rng;
    int no_energy;
    int old_driver;       /* before R535: no power fields 185-192 */
    long long next_event; /* step of the next lost/reset fault, -1 none */
    /* the device's events (NVML event sets): a ring, numbered from 1 */
    struct sim_event {
        long long seq;
        unsigned long long type, data;
    } events[SIM_MAX_EVENTS];
    long long event_seq; /* number of the last event */
    /* settable state the NVML status queries report */
    unsigned app_gfx_mhz, app_mem_mhz; /* applications clocks; 0: the defaults */
    /* what the device booted with, and the setter calls that succeeded since (jsimGetSettings) */
    unsigned boot_lock_min, boot_lock_max;
    double boot_limit_w;
    unsigned long long n_set_locked, n_reset_locked, n_set_limit, n_set_app, n_reset_app;
    long long viol_power_steps, viol_thermal_steps; /* steps under each clock limit */
    /* history: hist[k % N] = true energy at the end of step k */
    double hist[SIM_HIST_STEPS];
};

#define SIM_MAX_PROCS 64

/* A process attached to the machine (nvmlInit* without its last nvmlShutdown). */
struct sim_proc {
    int pid;
    long long attached_ns; /* CLOCK_MONOTONIC */
};

/*
 * The machine: every device and the model's clock, flat (no pointer), so that it can live
 * in a POSIX shared-memory segment that every process maps (machine.c) or in the process
 * (JOULES_SIM_MACHINE=private). The header (magic, version, size) comes first and never
 * moves: another library's layout is recognised and refused, not misread.
 */
struct sim_state {
    uint64_t magic;       /* JSIM_MACHINE_MAGIC once initialised */
    uint32_t version;     /* JSIM_MACHINE_VERSION */
    uint32_t size;        /* sizeof(struct sim_state) */
    pthread_mutex_t lock; /* shared: process-shared and robust */
    int shared;
    int built;               /* the model exists (built at the first successful init) */
    int virtual_time;        /* time advances only through jsimAdvance / jsimRunKernel (private) */
    int exact_clock;         /* JOULES_SIM_SENSOR_CLOCK=exact: unset phases 0 and jitters 0 */
    long long start_ns;      /* CLOCK_MONOTONIC of scenario time 0: the machine's boot */
    long long start_real_us; /* CLOCK_REALTIME of the same instant (sample timestamps) */
    unsigned long long seed;
    struct sim_scenario scn; /* scn.phases is NULL: the phases are below */
    struct sim_phase phases[SIM_MAX_PHASES];
    int n_dev;
    /* scenario cursor, shared by every device */
    int ph_idx, ph_loop;
    double ph_end_s;
    /* who loaded what (the rule of docs/physics.md §7) */
    uint64_t scenario_hash; /* of the booting process's scenario file, 0: none */
    char config[256];
    int loader_pid;
    int lock_recoveries; /* times a process died holding the lock */
    struct sim_proc procs[SIM_MAX_PROCS];
    char name[64];
    struct sim_dev dev[SIM_MAX_DEVICES];
};

/* What is the process's own: its reference count, privilege and last error. */
struct sim_local {
    int refcount; /* nvmlInit* minus nvmlShutdown (atomic accesses) */
    int privileged;
    char last_error[512];
    size_t last_error_name_len; /* leading bytes of last_error naming a file, which may elide */
};

/* The machine this process uses (the private one until a shared one is attached). */
extern struct sim_state *sim_m;
extern struct sim_local sim_l;

/* Build every device from scn (taken over: scn is left empty); the model restarts at time 0.
 * Overrides: profile (NULL/empty: none), devices (0: none), seed. On failure (-1 + message)
 * g is untouched. */
int sim_model_build(struct sim_state *g, struct sim_scenario *scn, const char *profile_override,
                    int devices_override, int has_seed_override, unsigned long long seed_override,
                    char *err, size_t len);
void sim_model_free(struct sim_state *g);
/* Record an event (NVML_EVENT_TYPE_*) on a device (lock held). */
void sim_model_event(struct sim_dev *d, unsigned long long type, unsigned long long data);
/* The seeded generator of every draw, and the supported clock at or below f (MHz). */
uint64_t sim_splitmix64(uint64_t *x);
double sim_grid_floor(const struct sim_dev *d, double f);
/* After a process died holding the lock: bring every device to the same step. */
void sim_model_repair(struct sim_state *g);
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
/* CLOCK_REALTIME now, us. */
long long sim_realtime_us(void);
/* Take / release the machine's lock (a dead owner's model is brought level first). */
void sim_lock(void);
void sim_unlock(void);
/* 1 between the process's first nvmlInit* and its last nvmlShutdown. */
int sim_initialised(void);

/* ---- the machine (machine.c) ------------------------------------------------------------ */

/* Point sim_m at the machine JOULES_SIM_MACHINE names (creating a shared one if needed):
 * 0, or -1 with the error set. */
int sim_machine_attach(void);
/* Forget processes that died (and stop their kernels) (lock held). */
void sim_machine_prune(struct sim_state *m);
/* Enter (attach 1) or leave (0) the machine's table of processes (lock held). */
void sim_machine_register(struct sim_state *m, int attach);
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
/* Copy the last error out (jsimLastError). */
nvmlReturn_t sim_last_error(char *buf, unsigned int len);
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
