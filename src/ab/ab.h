/* SPDX-License-Identifier: MIT */
/*
 * ab.h - the talk's A/B experiment (`joules ab`): the same matrix product C = A.B on inputs
 * that differ only in their values (N(0,1), zeros, ...), measured window by window through
 * the monitor. This header is the contract between the command (src/cli/cmd_ab.c), the
 * procedure (ab_run.c), the data and statistics (ab_data.c, ab_stats.c), the analysis
 * (ab_analysis.c), the output formats (ab_output.c) and the three executors
 * (ab_exec_sim.c, ab_exec_cuda.c, ab_exec_cpu.c). docs/ab.md explains the procedure and its
 * choices.
 */
#ifndef JOULES_AB_H
#define JOULES_AB_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "joules.h"

/* Precisions; the values are those of JSIM_PREC_* (src/abi/jsim.h). */
enum ab_prec { AB_FP32 = 0, AB_TF32 = 1, AB_FP16 = 2, AB_BF16 = 3, AB_FP64 = 4, AB_PREC_COUNT };

/* Input distributions ("arms"). */
enum ab_arm {
    AB_ARM_NORMAL = 0, /* N(0,1) */
    AB_ARM_ZEROS,      /* all 0 */
    AB_ARM_CONSTANT,   /* all 2.0 (Horace He's "twos") */
    AB_ARM_UNIFORM,    /* uniform [0,1) */
    AB_ARM_SPARSE,     /* N(0,1) with negatives set to 0: half zeros */
    AB_ARM_ONEBIT,     /* each element 0 or 8 */
    AB_ARM_TRUNCATED,  /* N(0,1) with the fp32 mantissa cut to its 4 highest bits */
    AB_ARM_COUNT
};

enum ab_executor { AB_EXEC_SIM = 0, AB_EXEC_CUDA, AB_EXEC_CPU, AB_EXEC_COUNT };

#define AB_MAX_ARMS 7
#define AB_ERR_MAX  512

const char *ab_prec_name(int prec);
int ab_prec_from_name(const char *s); /* -1 if unknown */
size_t ab_prec_bytes(int prec);       /* bytes per element as stored for the product */
const char *ab_arm_name(int arm);
const char *ab_arm_description(int arm);
int ab_arm_from_name(const char *s); /* -1 if unknown */
const char *ab_executor_name(int e);

/* ---- data (ab_data.c) ------------------------------------------------------------------- */

/*
 * Element i of matrix `which` (0: A, 1: B) of an arm, from a counter-based generator: the
 * value depends only on (seed, arm, which, i), so any stretch of a matrix can be produced
 * alone (the simulated executor samples stretches; the real ones fill whole matrices).
 */
void ab_fill_f32(float *x, size_t count, int arm, uint64_t seed, int which, size_t first);
void ab_fill_f64(double *x, size_t count, int arm, uint64_t seed, int which, size_t first);
/* fp32 -> fp16 / bf16 bit patterns, round to nearest even; and back to float. */
uint16_t ab_f32_to_f16(float f);
uint16_t ab_f32_to_bf16(float f);
float ab_f16_to_f32(uint16_t h);
float ab_bf16_to_f32(uint16_t h);
/* The value an fp32 input has once the executor stored it at prec (fp16/bf16 rounding). */
double ab_stored_value(float v, int prec);

/* ---- statistics (ab_stats.c) ------------------------------------------------------------- */

struct ab_interval {
    double median, lo, hi; /* NaN when there is no sample */
    double coverage;       /* achieved confidence of [lo, hi] (order statistics), 0 if none */
    int n;
};

double ab_median(const double *x, int n);
/*
 * Distribution-free confidence interval of the median from order statistics: the narrowest
 * symmetric [x(k), x(n+1-k)] whose binomial coverage is at least `level`; when even
 * [min, max] falls short (n <= 5 for 95 %), [min, max] with its smaller coverage.
 * NaN entries are skipped.
 */
struct ab_interval ab_median_ci(const double *x, int n, double level);
/* P(k <= Bin(n, 1/2) <= n-k): the coverage of [x(k), x(n+1-k)] (1-based), for the tests. */
double ab_order_coverage(int n, int k);

/* ---- executors ---------------------------------------------------------------------------- */

struct ab_setup {
    int n;
    int prec;
    uint64_t seed;
    joules_monitor *m;
    int gpu_domain;              /* monitor domain of the GPU (sim, cuda); -1 for cpu */
    const char *sim_library;     /* path the monitor loaded (sim) */
    double sim_efficiency;       /* sim: fraction of peak the product reaches (0: 0.9) */
    volatile sig_atomic_t *stop; /* set by a signal: stop between products */
};

/* What an executor learnt about an arm's inputs when it loaded them. */
struct ab_arm_info {
    double toggle; /* bit-toggle rate of the operands (sim), else -1 */
    double alpha;  /* activity factor the simulator uses (sim), else -1 */
};

/* Correctness of the product on sampled entries against a double reference on the CPU. */
struct ab_check {
    int checked; /* 0: not checked (zeros, or the simulator computes no values) */
    int passed;
    int samples;
    double max_err_ratio; /* max |C - C_ref| / tolerance over the samples (<= 1: pass) */
    double max_rel_err;   /* max |C - C_ref| / |C_ref| (informative) */
    char note[320];
};

struct ab_exec;

struct ab_exec_ops {
    const char *name;
    /* Load libraries, find the device, allocate. Errors are sentences in err. */
    int (*open)(struct ab_exec **out, const struct ab_setup *s, char *err, size_t len);
    /* Generate arm `arm` in slot `slot` (one slot per arm of the run) and upload it. */
    int (*load)(struct ab_exec *x, int slot, int arm, struct ab_arm_info *info, char *err,
                size_t len);
    /* Run `reps` products of slot and wait for them (synchronised before it returns).
     * Stops early between products when *stop is set; *done says how many ran. */
    int (*run)(struct ab_exec *x, int slot, int reps, int *done, char *err, size_t len);
    /* Optional: when (CLOCK_MONOTONIC) the device finished the last run, where the executor
     * knows it (the simulated kernel's own time); NULL or 0: when run returned. */
    int64_t (*last_end_ns)(struct ab_exec *x);
    /* Check the last product of slot (call right after a run of that slot). */
    int (*check)(struct ab_exec *x, int slot, struct ab_check *c, char *err, size_t len);
    void (*close)(struct ab_exec *x);
};

extern const struct ab_exec_ops ab_exec_sim_ops;
extern const struct ab_exec_ops ab_exec_cuda_ops;
extern const struct ab_exec_ops ab_exec_cpu_ops;

/* Whether libcudart and libcublas can be loaded and see a device (for the default executor);
 * why not in why. */
int ab_cuda_available(char *why, size_t len);

/*
 * Tolerance of an entry of C: with s1 = sum_k |a_ik b_kj|, s2 = sum_k (a_ik b_kj)^2 and
 * u_in / u_acc the unit roundoffs of the inputs as the hardware reads them and of the
 * accumulation, tol = 8 u_in sqrt(s2) + 4 u_acc sqrt(n) s1 (docs/ab.md).
 */
double ab_check_tolerance(int prec, int n, double s1, double s2);
/* Compare sampled entries; rows/cols are the sampled rows of A and columns of B as stored. */
void ab_check_entries(int prec, int n, int samples, const double *arow, const double *bcol,
                      const double *c, struct ab_check *out);

/* ---- the procedure (ab_run.c) ------------------------------------------------------------ */

/* Whether a stop was requested (the signal flag of the setup): the experiments stop between
 * products. */
int ab_stopped(const struct ab_setup *s);

/* What the experiment is doing, for a progress display; the library part prints nothing. */
enum ab_phase {
    AB_PHASE_LOAD,    /* slot's inputs are generated and loaded */
    AB_PHASE_WARM_UP, /* warm-up and correctness check */
    AB_PHASE_PLAN,    /* products per window chosen */
    AB_PHASE_WINDOW   /* one window measured */
};

struct ab_run_rec;

struct ab_progress {
    enum ab_phase phase;
    int step, total;              /* WINDOW: windows measured so far, of all */
    int round, slot;              /* WINDOW: round (from 0), arm slot; LOAD: arm slot */
    double product_s;             /* PLAN: the time of one product of the fastest arm */
    int products;                 /* PLAN: products per window */
    const struct ab_run_rec *rec; /* WINDOW: the window just measured */
};

/* Called on the experiment's thread; it should return quickly. */
typedef void (*ab_progress_fn)(const struct ab_progress *ev, void *user);

struct ab_params {
    const struct ab_exec_ops *ops;
    struct ab_setup setup;
    int executor;
    int arms[AB_MAX_ARMS];
    int n_arms;
    int repeats;
    double min_window_s;
    double level;      /* confidence level of the intervals (0.95) */
    int energy_kinds;  /* JOULES_KIND_GPU, or JOULES_KINDS_CPU for the cpu executor */
    int status_domain; /* GPU domain for clocks/temperature/reasons; -1: none */
    double sample_period_s;
    ab_progress_fn progress; /* NULL: none */
    void *progress_user;     /* passed to progress */
};

/* One measured window: `products` products of one arm. */
struct ab_run_rec {
    int slot, round, products;
    int energy_valid;
    double energy_j, uncertainty_j, sim_truth_j; /* sim_truth_j < 0 when not simulated */
    double time_s, power_w, gflops, gflop_per_j;
    double clock_mhz, temperature_c; /* means over the samples of the window; NaN if none */
    unsigned long long reasons;      /* clock-event reasons seen (OR) */
    double host_gap_s;               /* the GPU idle around the edges, waiting for the host */
    char note[JOULES_MESSAGE_MAX];   /* why energy is not valid */
};

struct ab_sample {
    double t_s; /* since the first measured window began */
    double power_w;
    int slot; /* arm measured then; -1 between windows */
};

struct ab_result {
    int n_arms;
    int arms[AB_MAX_ARMS];
    struct ab_arm_info info[AB_MAX_ARMS];
    struct ab_check check[AB_MAX_ARMS];
    double warm_time_s[AB_MAX_ARMS]; /* one product, after the warm-up */
    int products;                    /* per window */
    int lead_in;                     /* unmeasured products right before each window */
    double flops;                    /* per product: 2 n^3 */
    struct ab_run_rec *runs;
    int n_runs;
    struct ab_sample *samples;
    size_t n_samples;
    int rounds_done;
    int interrupted;
    int simulated;
    int energy_available;
    char energy_source[JOULES_MESSAGE_MAX]; /* domains and method, in words */
    int grouped; /* windows measured as phase-shifted groups (GPU without energy counter) */
    char energy_why[640]; /* when not available */
    char device[160];
};

/* Run the experiment. 0, or -1 with err (what was measured so far stays in r). */
int ab_run(const struct ab_params *p, struct ab_result *r, char *err, size_t len);
void ab_result_free(struct ab_result *r);

/* ---- analysis (ab_analysis.c) ------------------------------------------------------------ */

enum { AB_Q_ENERGY, AB_Q_TIME, AB_Q_POWER, AB_Q_GFLOPS, AB_Q_GFLOP_PER_J, AB_Q_COUNT };

struct ab_summary {
    struct ab_interval arm[AB_MAX_ARMS][AB_Q_COUNT];
    /* ratio[k]: arm 0 over arm k (k >= 1), paired window by window within a round */
    struct ab_interval ratio[AB_MAX_ARMS][AB_Q_COUNT];
};

double ab_run_value(const struct ab_run_rec *rec, int q);
void ab_summarize(const struct ab_result *r, double level, struct ab_summary *s);
/* The clock-event reasons seen in the windows of slot k (OR). */
unsigned long long ab_arm_reasons(const struct ab_result *r, int k);

/* What the outputs say: the run, its analysis and the circumstances around it. */
struct io_extra;
struct ab_output {
    const struct ab_params *p;
    const struct ab_result *r;
    struct ab_summary s;
    const char *profile;  /* simulated profile, NULL if none */
    int lock_mhz;         /* asked, 0: clocks not locked */
    int locked_clock_mhz; /* what the GPU reported while locked, -1 unknown */
    int clocks_restored;  /* 1 reset after the run, 0 reset failed, -1 nothing locked */
    int signal;           /* the signal that stopped the run, 0 if none */
    const char *failure;  /* why the run failed part way, NULL if it did not */
    /* Keys and columns the caller adds (io/extra.h), NULL: none. */
    const struct io_extra *extra;
};

/* One sentence: what the comparison of arm 0 with arm k means. */
void ab_conclusion(const struct ab_output *rep, int k, char *buf, size_t len);

/* ---- output formats (ab_output.c) ------------------------------------------------------- */

void ab_output_table(FILE *out, const struct ab_output *rep);
int ab_output_json(FILE *out, const struct ab_output *rep); /* schema joules.ab/1 */
/* An interval as a JSON object {median, lo, hi, coverage, n} under key (ab and compare). */
struct io_json;
void ab_interval_json(struct io_json *j, const char *key, const struct ab_interval *iv);
int ab_output_csv(FILE *out, const struct ab_output *rep); /* schema joules.ab.csv/1 */
int ab_output_svg(const char *path, const struct ab_output *rep, char *err, size_t len);

#define AB_SCHEMA     "joules.ab/1"
#define AB_CSV_SCHEMA "joules.ab.csv/1"

/* Seeded sample positions (row of A, column of B) of the entries to check. */
#define AB_CHECK_SAMPLES 32
void ab_check_indices(uint64_t seed, int n, int samples, int *rows, int *cols);
/* Regenerate the sampled rows/columns of arm's inputs and compare c[s] = C[rows[s]][cols[s]].
 * 0, or -1 when out of memory. */
int ab_check_sampled(int prec, int n, int arm, uint64_t seed, int samples, const int *rows,
                     const int *cols, const double *c, struct ab_check *out);

#endif /* JOULES_AB_H */
