/* SPDX-License-Identifier: MIT */
/*
 * sweep.h - `joules sweep`: step a GPU through locked clocks or power limits, measure a
 * workload at each step (the A/B product of src/ab, or a command), fit the power model
 * P = P_static + k f V^2 (the talk's P_dyn ~ alpha C V^2 f) and find the setting that costs
 * the fewest joules. Contract between the command (src/cli/cmd_sweep.c), the procedure
 * (sweep_run.c), the fits (sweep_fit.c), the analysis (sweep_analysis.c), the table
 * (sweep_table.c) and the files (sweep_output.c). docs/sweep.md.
 */
#ifndef JOULES_SWEEP_H
#define JOULES_SWEEP_H

#include <signal.h>
#include <stdio.h>

#include "ab/ab.h"
#include "io/baseline.h"
#include "util/privdrop.h"
#include "joules.h"

#define SWEEP_MAX_STEPS  64
#define SWEEP_MAX_PARAMS 4
#define SWEEP_SCHEMA     "joules.sweep/1"

/* ---- least squares (sweep_fit.c) ------------------------------------------------------- */

/* Ordinary least squares y = X beta: estimates, standard errors, R^2. */
struct sweep_lsq {
    int n, p;
    double beta[SWEEP_MAX_PARAMS];
    double se[SWEEP_MAX_PARAMS]; /* NaN when n == p (no residual degree of freedom) */
    double cov[SWEEP_MAX_PARAMS][SWEEP_MAX_PARAMS];
    double rss, r2, rmse; /* rmse = sqrt(rss / (n - p)) */
};

/* X is n x p, row-major. 0, or -1 when n < p, p out of range or X is (nearly) rank-deficient. */
int sweep_lsq(const double *X, const double *y, int n, int p, struct sweep_lsq *out);
/* The same with a positive weight per row (NULL: all equal), weighted least squares: R^2 about
 * the weighted mean, s^2 and the covariance from the residuals weighted relative to the mean
 * weight. */
int sweep_lsq_weighted(const double *X, const double *y, const double *w, int n, int p,
                       struct sweep_lsq *out);

/* The power models. */
enum sweep_model {
    SWEEP_MODEL_NONE = 0,
    SWEEP_MODEL_FV2,      /* P = a + k f V^2              (V known, flat over the sweep) */
    SWEEP_MODEL_FV2_LEAK, /* P = a + b V^2 + k f V^2      (V known and varying: leakage ~ V^2) */
    SWEEP_MODEL_POLY,     /* P = a + b f + c f^3          (V unknown: V roughly linear in f) */
};

#define SWEEP_MAX_POINTS (SWEEP_MAX_STEPS)

struct sweep_fit {
    int model; /* SWEEP_MODEL_*; NONE when no fit */
    struct sweep_lsq l;
    int n;
    double resid_w[SWEEP_MAX_POINTS]; /* measured - fitted, per point */
    double max_abs_resid_w;
    char why[160]; /* when no fit */
};

/*
 * Fit P(f) over n points (clock in MHz, voltage in V or NaN when unknown, power in W). With
 * voltages: FV2_LEAK when V^2 spans at least 5 % and n >= 5, else FV2; without: POLY (n >= 4).
 * 0, or -1 with why filled.
 */
int sweep_fit_power(const double *f_mhz, const double *v, const double *p_w, int n,
                    struct sweep_fit *out);
/* The same, each point weighted (w: positive, NULL: all equal; 1 / the variance of its power). */
int sweep_fit_power_weighted(const double *f_mhz, const double *v, const double *p_w,
                             const double *w, int n, struct sweep_fit *out);
/* The fitted total, static and dynamic power at (f, V) (V ignored by POLY). */
double sweep_fit_total(const struct sweep_fit *fit, double f_mhz, double v);
double sweep_fit_static(const struct sweep_fit *fit, double f_mhz, double v);
/* Standard error of sweep_fit_static (from the covariance of the parameters); NaN if none. */
double sweep_fit_static_se(const struct sweep_fit *fit, double f_mhz, double v);
double sweep_fit_dynamic(const struct sweep_fit *fit, double f_mhz, double v);
const char *sweep_model_name(int model);
/* Index of the k (f V^2 or f^3) coefficient in beta. */
int sweep_fit_k_index(int model);
/* Linear interpolation of y(x) through n points sorted by x (clamped at the ends). */
double sweep_interp(const double *x, const double *y, int n, double at);

/* ---- the procedure (sweep_run.c) -------------------------------------------------------- */

enum sweep_mode { SWEEP_CLOCKS = 0, SWEEP_LIMITS = 1 };
enum sweep_workload { SWEEP_WL_PRODUCT = 0, SWEEP_WL_COMMAND = 1 };

/* What the sweep is doing, for a progress display; the library part prints nothing. */
enum sweep_phase {
    SWEEP_PHASE_LOAD,    /* slot's inputs are generated and loaded (product workload) */
    SWEEP_PHASE_POINT,   /* one arm measured at one step */
    SWEEP_PHASE_COOLDOWN /* the pause after a step begins */
};

struct sweep_point;

struct sweep_progress {
    enum sweep_phase phase;
    int step, total;              /* POINT, COOLDOWN: step (from 0) of n_steps */
    int slot;                     /* LOAD, POINT: arm slot */
    const struct sweep_point *pt; /* POINT: what was measured */
};

/* Called on the sweep's thread; it should return quickly. */
typedef void (*sweep_progress_fn)(const struct sweep_progress *ev, void *user);

struct sweep_params {
    int mode;
    double settings[SWEEP_MAX_STEPS]; /* MHz (clocks) or W (limits) */
    int n_steps;
    int workload;
    /* product workload: src/ab's executor and data */
    const struct ab_exec_ops *ops;
    struct ab_setup setup; /* setup.m, setup.gpu_domain, setup.stop are used by commands too */
    int arms[AB_MAX_ARMS];
    int n_arms;
    /* command workload */
    char **argv;
    const struct util_drop *drop; /* the identity the command runs as; NULL: joules's own */
    double warmup_s, cooldown_s, min_window_s;
    sweep_progress_fn progress; /* NULL: none */
    void *progress_user;        /* passed to progress */
};

/* One arm at one step. Per-run figures: a run is one product, or one command execution. */
struct sweep_point {
    int valid; /* energy measured */
    int runs;  /* runs inside the window */
    double setting;
    double window_s, window_j;
    double time_s, energy_j, uncertainty_j, power_w; /* time, energy per run; mean power */
    double sim_truth_j;                              /* per run; < 0 when not simulated */
    double host_gap_s;           /* the GPU idle while the host ran, around the window's edges */
    double clock_mhz, voltage_v; /* mean held clock; V(clock) or NaN */
    double temperature_c, temp_min_c, temp_max_c;
    unsigned long long reasons;
    double true_static_w, true_alpha; /* simulator's truth (means over the window); NaN */
    double power_limit_w;             /* enforced limit seen, NaN if unknown */
    char note[JOULES_MESSAGE_MAX];
};

struct sweep_truth { /* simulated GPU only, from jsimGetModel */
    int have;
    double c_eff_f, alpha_idle, p_board_w, p_mem_static_w, leak_ref_w, leak_t_double_c;
    double v_floor_v, f_ridge_mhz, v_max_v, clk_min_mhz, clk_max_mhz, clk_step_mhz, tdp_w;
};

struct sweep_result {
    int n_steps_done; /* steps measured in full */
    int n_arms;
    int arms[AB_MAX_ARMS];
    struct ab_arm_info info[AB_MAX_ARMS];
    struct sweep_point pt[SWEEP_MAX_STEPS][AB_MAX_ARMS];
    double flops; /* per product (0 for commands) */
    int simulated;
    int changed;       /* a clock lock or a power limit was applied */
    int interrupted;   /* by a signal */
    int failed_step;   /* step at which the workload failed, -1 none */
    int refused;       /* the first setting was refused (its JOULES_E_*): nothing ran */
    int voltage_known; /* V(f) from the simulated GPU */
    struct sweep_truth truth;
    char device[128];
    char energy_source[JOULES_MESSAGE_MAX];
};

/* Run the sweep. 0, or -1 with err (what was measured stays in r). Does not restore the
 * settings: the caller does, on every path (r->changed). */
int sweep_run(const struct sweep_params *p, struct sweep_result *r, char *err, size_t len);

/* ---- analysis (sweep_analysis.c), table (sweep_table.c), files (sweep_output.c) ------- */

struct sweep_optimum {
    int have;
    int step_energy, step_edp, step_ref;    /* measured steps; ref: the highest setting */
    double saved_energy_pct, lost_time_pct; /* min-energy step against ref */
    double edp_saved_energy_pct, edp_lost_time_pct;
    double model_clock_mhz; /* min of fitted P(f) x fitted t(f) on a 1-MHz grid; NaN */
    /* 1 when the optimum's energy (E x t) interval lies wholly below the reference's, so
     * that the saving is more than the noise; 0 when they overlap (nothing to recommend). */
    int energy_beyond_noise, edp_beyond_noise;
    int energy_ties; /* other steps whose energy interval overlaps the optimum's */
};

struct sweep_arm_analysis {
    struct sweep_fit fit;
    struct sweep_optimum opt;
    double c_eff_fit_f, c_eff_se_f; /* k / (alpha_idle + alpha): simulated only, else NaN */
};

/* The idle baseline of the swept GPU (`joules idle`) beside each arm's fitted static part
 * at the lowest clock held (sweep_baseline.c). Not part of the fit: docs/sweep.md. */
struct sweep_static_cmp {
    int have;
    double clock_mhz, voltage_v;      /* lowest clock held, its voltage (NaN if unknown) */
    double fit_w, fit_se_w, fit_ci_w; /* fitted static part there; +/- 95 % */
    double diff_w, diff_ci_w;         /* fit_w - idle power; +/- 95 % (both combined) */
};

struct sweep_baseline {
    const io_baseline *b; /* NULL: none stored for this GPU in its state at rest */
    const char *file;
    char age[32]; /* "5 s", "3.2 h" */
    double age_s;
    struct sweep_static_cmp arm[AB_MAX_ARMS];
};

struct io_extra;
struct sweep_output {
    const struct sweep_params *p;
    const struct sweep_result *r;
    struct sweep_arm_analysis a[AB_MAX_ARMS];
    double k_ratio[AB_MAX_ARMS], k_ratio_lo[AB_MAX_ARMS], k_ratio_hi[AB_MAX_ARMS];
    double k_ratio_true[AB_MAX_ARMS]; /* simulated: (alpha_idle + a0) / (alpha_idle + ak) */
    const char *profile;              /* simulated profile, NULL if none */
    int restored;                     /* 1 restored, 0 failed, -1 nothing to restore */
    int signal;
    const char *failure;
    const char *command; /* the command, joined, for commands */
    struct sweep_baseline baseline;
    const struct io_extra *extra; /* added keys (io/extra.h), NULL: none */
};

void sweep_analyze(struct sweep_output *rep);
void sweep_output_table(FILE *out, const struct sweep_output *rep);
int sweep_output_json(FILE *out, const struct sweep_output *rep);
int sweep_output_svg(const char *path, const struct sweep_output *rep, char *err, size_t len);

/* The baseline comparison (sweep_baseline.c): computed by sweep_analyze, printed by
 * sweep_output_table, written by sweep_output_json ("baseline", only when there is one). */
struct io_json;
void sweep_baseline_compare(struct sweep_output *rep);
void sweep_baseline_table(FILE *out, const struct sweep_output *rep);
void sweep_baseline_json(struct io_json *j, const struct sweep_output *rep);

#endif /* JOULES_SWEEP_H */
