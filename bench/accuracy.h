/* SPDX-License-Identifier: MIT */
/*
 * accuracy.h - what the two halves of bench_accuracy share: the simulated device's own
 * entry points (for the truth and the naive method), a 100 ms power poller (what common tools
 * do), and per-method error statistics.
 */
#ifndef JOULES_BENCH_ACCURACY_H
#define JOULES_BENCH_ACCURACY_H

#include <pthread.h>
#include <stdint.h>

#include "abi/nvml_abi.h"
#include "joules.h"
#include "abi/jsim.h"
#include "floor.h"

#define ACC_MAX_POLL 100000

typedef nvmlReturn_t (*acc_energy_fn)(nvmlDevice_t, unsigned long long *);
typedef nvmlReturn_t (*acc_usage_fn)(nvmlDevice_t, unsigned int *);

struct acc_sim {
    void *dl;
    nvmlDevice_t dev;
    acc_energy_fn energy;
    acc_usage_fn usage;
    jsimGetTrueEnergy_fn truth;
    jsimRunKernel_fn run_kernel;
};

struct acc_poller {
    struct acc_sim *sim;
    pthread_t thread;
    pthread_mutex_t lock;
    int stop;
    int n;
    int64_t t_ns[ACC_MAX_POLL];
    double p_w[ACC_MAX_POLL];
};

struct acc_stats {
    int n;
    double sum_abs;
    double worst;
    int covered;
};

struct acc_load {
    const char *name;
    const char *scenario;
};
struct acc_work {
    const char *name;
    double flops; /* fp32 */
    double rest_s;
};
/* accuracy_loads.c */
extern const struct acc_load acc_loads[];
extern const int acc_n_loads;
extern const struct acc_work acc_works[];
extern const int acc_n_works;
extern const char *const acc_profiles[];
extern const char *const acc_sensor_of[];
/* The same profiles on a driver before R535 (no power fields: PowerUsage only). */
extern const char *const acc_sensor_old_driver[];
extern const char *const *acc_sensor_names; /* what acc_run_matrix prints: acc_sensor_of */
extern const int acc_n_profiles;

int64_t acc_now_ns(void);
/* The scenario and profile the next monitor's simulated GPU starts with. */
void acc_set_scenario(const char *scenario_text, const char *profile);
/* A monitor on the simulated GPU (exits on failure: a benchmark has nothing to fall back on). */
joules_monitor *acc_monitor(int settle);
/* The simulator's own entry points, once a monitor has loaded it. */
void acc_sim_bind(struct acc_sim *s);
void acc_sim_unbind(struct acc_sim *s);
void acc_poller_start(struct acc_poller *p, struct acc_sim *sim);
void acc_poller_stop(struct acc_poller *p);
/* Trapezoid over the polled samples inside [t0, t1]; fewer than two: power x duration. */
double acc_naive_energy(struct acc_poller *p, int64_t t0, int64_t t1);
double acc_truth_between(struct acc_sim *s, int64_t t0, int64_t t1);

/* accuracy_goals.c: statistics per cell and method, and the goals' tallies. */
enum { ACC_NAIVE, ACC_COUNTER, ACC_JOULES, ACC_SETTLED, ACC_METHODS };
struct acc_goals {
    struct acc_stats all[ACC_METHODS];
    struct acc_stats long_settled, long_joules; /* windows of 1 s or more */
    int long_within[ACC_METHODS];               /* ... within 0.5 % */
    int mid_hard;                               /* 50-500 ms windows where naive is >= 10 % off */
    int mid_hard_within[ACC_METHODS];           /* ... and the method within 5 % */
    int cells_long, cells_long_met;             /* cells of >= 1 s: settled mean <= 0.5 % */
    int cells_mid, cells_mid_met; /* 50-500 ms, naive mean >= 10 %: settled mean <= 5 % */
    /* Cells whose sensors' floor (support/floor.c) lies above the goal, and of the others,
     * how many met it. */
    int cells_long_floor, cells_long_reach_met;
    int cells_mid_floor, cells_mid_reach_met;
};
void acc_add(struct acc_stats *s, double measured, double truth, double unc);
void acc_print_cell(const struct acc_stats *s); /* " mean / worst" in % */
void acc_merge(struct acc_stats *into, const struct acc_stats *s);
double acc_mean_pct(const struct acc_stats *s); /* mean |error|, % (0 when empty) */
/* One window measured by the four methods (joules: end extrapolated; settled: end settled). */
void acc_tally(struct acc_goals *g, struct acc_stats st[ACC_METHODS], double window_s, double naive,
               double counter, double truth, const joules_domain_energy *joules,
               const joules_domain_energy *settled);
/* Whether rows carry the sensors' floor (bench_edges: virtual time). */
extern int acc_show_floor;
void acc_print_header(void);
/* A cell's row; its statistics are added to the totals of g. floor: the sensors' floor of its
 * windows (sum_abs, worst; NULL where it is not known: real time). */
void acc_print_row(struct acc_goals *g, const char *load, double window_s,
                   const struct acc_stats st[ACC_METHODS], const struct acc_stats *floor);
void acc_print_goals(const struct acc_goals *g);
/* Each profile (the first n_profiles, or only_profile) and load (whose name contains
 * only_load, NULL: all) with its header, measured by cell(); then the goals. */
typedef void (*acc_cell_fn)(const struct acc_load *load, const char *profile, void *ctx,
                            struct acc_goals *g);
/* -1 (said on stderr) when no profile and load match. */
int acc_run_matrix(int n_profiles, const char *only_profile, const char *only_load,
                   acc_cell_fn cell, void *ctx);

/* accuracy_vsim.c: the naive poller in virtual time, read every 100 ms of simulated time
 * (the vsim's on_tick; one vsim at a time). */
struct vsim;
void acc_vnaive_attach(struct vsim *v, struct acc_poller *p);

/* The second half: repeated short work, measured once and with joules_repeat. */
/* Part 2; only_profile: one profile (NULL: all). */
void acc_repeat_section(int n_profiles, const char *only_profile, int quick);

#endif
