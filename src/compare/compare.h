/* SPDX-License-Identifier: MIT */
/*
 * compare.h - `joules compare`: is one command cheaper in energy than another? The A/B
 * experiment of `joules ab` opened to any commands: warm-up runs, rounds in ABBA (or seeded
 * random) order, each run measured as `joules run` measures it, until a number of rounds or
 * until the interval on the energy ratio is narrow enough; then medians with distribution-free
 * intervals, paired ratios against the first command, a verdict and a gate.
 *
 * The layer never prints: progress reaches the caller through a callback, and the reports
 * are written to the streams and files the caller gives. docs/compare.md explains the choices.
 */
#ifndef JOULES_COMPARE_H
#define JOULES_COMPARE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ab/ab.h"
#include "io/atomic.h"
#include "joules.h"
#include "util/privdrop.h"

#define CMP_MAX_CMDS 8
#define CMP_ERR_MAX  640

enum cmp_order { CMP_ORDER_ABBA = 0, CMP_ORDER_RANDOM };

/* Quantities summarised per command and as ratios. */
enum { CMP_Q_ENERGY, CMP_Q_TIME, CMP_Q_POWER, CMP_Q_EDP, CMP_Q_DYNAMIC, CMP_Q_COUNT };
const char *cmp_quantity_name(int q); /* "energy", "time", ... */
const char *cmp_quantity_unit(int q); /* "J", "s", "W", "J s", "J" */

/* One measured run of one command. */
struct cmp_run {
    int cmd;   /* index of the command */
    int round; /* round it belongs to (0-based) */
    int energy_valid;
    double energy_j, uncertainty_j; /* total of the counted domains */
    double dynamic_j;               /* energy - static baseline x time; NaN: no baseline */
    double time_s;
    double sim_truth_j; /* the simulated GPU's true energy over the window; < 0 when none */
    double start_s;     /* since the first measured run began */
    int exit_status;    /* the command's, 128 + N when killed by signal N */
    int outlier;        /* set by cmp_summarize: outside the Tukey fences of its command */
    char note[JOULES_MESSAGE_MAX]; /* why the energy is not valid */
};

double cmp_run_value(const struct cmp_run *r, int q); /* NaN when not available */

/* ---- the procedure (compare_run.c) --------------------------------------------------------- */

/* What runs the commands: the real executor (compare_exec.c) or a test's synthetic one. */
struct cmp_runner_ops {
    /* Run command k once and measure it into rec (rec->cmd and rec->round are set by the
     * caller; measured is 0 for a warm-up run). 0, or -1 with err: the comparison stops. */
    int (*run)(void *ctx, int k, int measured, struct cmp_run *rec, char *err, size_t len);
    /* Optional: once before anything else (--setup). 0 or -1 with err. */
    int (*setup)(void *ctx, char *err, size_t len);
};

enum cmp_event_kind { CMP_EV_WARMUP, CMP_EV_RUN, CMP_EV_ROUND };

struct cmp_event {
    int kind;
    int cmd;                   /* WARMUP, RUN: which command */
    int round;                 /* RUN, ROUND: which round */
    const struct cmp_run *run; /* RUN: what was measured */
    double widest_ratio_rel;   /* ROUND: half-width / median of the widest energy ratio (NaN) */
    double ratio_coverage;     /* ROUND: the confidence that interval has (order statistics) */
    double elapsed_s;
};

struct cmp_params {
    int n_cmds;
    int warmup;       /* unmeasured runs of each command before the rounds */
    int runs;         /* rounds; 0: until precision_rel, max_time_s or max_rounds */
    int min_rounds;   /* adaptive: at least this many rounds (0: 6, the first with 95 %) */
    int max_rounds;   /* adaptive: at most (0: 1000) */
    double precision; /* adaptive: stop when every energy ratio's interval lies within
                         +/- precision of its median (0.02) */
    double max_time_s;
    int order; /* enum cmp_order */
    uint64_t seed;
    double level; /* confidence of the intervals (0.95) */
    const struct cmp_runner_ops *ops;
    void *ctx;
    void (*progress)(void *user, const struct cmp_event *ev); /* may be NULL */
    void *progress_user;
    volatile sig_atomic_t *stop; /* set by a signal: stop after the run in progress */
};

enum cmp_stop_reason {
    CMP_STOP_RUNS = 0, /* --runs rounds done */
    CMP_STOP_PRECISION,
    CMP_STOP_TIME,
    CMP_STOP_MAX_ROUNDS,
    CMP_STOP_INTERRUPTED,
    CMP_STOP_ERROR,
};
const char *cmp_stop_reason_text(int reason);

struct cmp_result {
    int n_cmds;
    struct cmp_run *runs; /* in the order they ran */
    int n_runs, cap_runs;
    int rounds_done; /* complete rounds */
    int stop_reason;
    double elapsed_s;
};

/* Run the comparison. 0, or -1 with err (what was measured so far stays in r). */
int cmp_run(const struct cmp_params *p, struct cmp_result *r, char *err, size_t len);
void cmp_result_free(struct cmp_result *r);
/* The order of round `round` (a permutation of 0..n-1 into order[]). */
void cmp_round_order(int order, uint64_t seed, int round, int n, int *out);

/* ---- statistics (compare_stats.c) ---------------------------------------------------------- */

/* A result saved with --json, loaded for --baseline: the runs of its first command. */
struct cmp_baseline {
    char name[64];
    char path[4096];
    int n;
    double *energy_j, *time_s;
};

struct cmp_summary {
    double level;
    struct ab_interval q[CMP_MAX_CMDS][CMP_Q_COUNT];
    /* ratio[k]: command k over command 0, paired round by round (k >= 1) */
    struct ab_interval ratio[CMP_MAX_CMDS][CMP_Q_COUNT];
    /* against --baseline: command k over the baseline's runs (unpaired), when one is given */
    int have_baseline;
    struct ab_interval vs_baseline[CMP_MAX_CMDS][CMP_Q_COUNT];
    struct ab_interval baseline_q[CMP_Q_COUNT];
    int n_outliers[CMP_MAX_CMDS];
    int first_status[CMP_MAX_CMDS]; /* exit status of the first run, -1 none */
    int status_varies[CMP_MAX_CMDS];
    double rel_uncertainty[CMP_MAX_CMDS]; /* median per-run +/- over energy */
};

/* Summarise r (marks outlying runs); bl may be NULL. */
void cmp_summarize(struct cmp_result *r, const struct cmp_baseline *bl, double level,
                   struct cmp_summary *s);
/* Interval of the median of b_j / a_i over all pairs (unpaired; Hodges-Lehmann on the logs,
 * with the Mann-Whitney order statistics for the interval, normal approximation). */
struct ab_interval cmp_unpaired_ratio(const double *b, int nb, const double *a, int na,
                                      double level);
/* The normal quantile z with P(|Z| <= z) = level. */
double cmp_two_sided_z(double level);

/* The verdict on command k against 0 (vs_baseline: against the baseline), one sentence. */
void cmp_verdict(const struct cmp_summary *s, const char *name_k, const char *name_0, int k,
                 int vs_baseline, char *buf, size_t len);

/* Gate: 1 when the energy ratio's lower bound exceeds 1 + more_rel (the interval, not the
 * median, must lie above the allowance), else 0. */
int cmp_gate_fails(const struct ab_interval *energy_ratio, double more_rel);

/* Warnings in sentences, one per line (runs too short for the sensor, exit statuses that
 * differ, outliers, coverage below the level). Returns how many. */
int cmp_warnings(const struct cmp_result *r, const struct cmp_summary *s, const char *const *names,
                 double precision, char *buf, size_t len);

/* ---- the real executor (compare_exec.c) ---------------------------------------------------- */

struct cmp_command {
    const char *name;
    char **argv;               /* NULL-terminated; NULL when shell is used */
    const char *shell;         /* run with /bin/sh -c (-c form) */
    const char *scenario_text; /* simulated GPU: the load while this command runs; NULL none */
};

struct cmp_exec_setup {
    joules_monitor *m;
    const struct cmp_command *cmds;
    int n_cmds;
    const char *prepare; /* shell command before every run, unmeasured; NULL none */
    const char *setup;   /* shell command once before everything; NULL none */
    int show_output;     /* 0: the commands' output goes to /dev/null */
    /* static power of each domain (idle baseline), by monitor domain; NaN: none */
    const double *baseline_power_w;
    const char *sim_library;  /* the simulated GPU the monitor loaded; NULL: not simulated */
    double scenario_settle_s; /* after switching scenario, before the window (0: 0.3) */
    volatile sig_atomic_t *stop;
    const struct util_drop *drop; /* the identity the commands run as; NULL: joules's own */
};

struct cmp_exec;
int cmp_exec_open(struct cmp_exec **out, const struct cmp_exec_setup *s, char *err, size_t len);
void cmp_exec_close(struct cmp_exec *x);
extern const struct cmp_runner_ops cmp_exec_ops; /* ctx: a struct cmp_exec */
/* The domains whose energy makes a run's total, in words ("gpu0 (counter) + package-0"). */
void cmp_exec_energy_source(const struct cmp_exec *x, char *buf, size_t len);
/* The command as one line of text (argv joined by spaces, or the shell string); free(). */
char *cmp_command_text(const struct cmp_command *c);
/* The text of a scenario file (NULL path: an idle GPU), with "profile PROFILE" put first when
 * profile is given and the file names none; free(). NULL with err. */
char *cmp_scenario_text(const char *path, const char *profile, char *err, size_t len);
/* 1 when the comparison stopped because a command could not be found (exit 127). */
int cmp_exec_not_found(const struct cmp_exec *x);
/* 1 when every counted domain has a static baseline (dynamic energy is reported). */
int cmp_exec_has_dynamic(const struct cmp_exec *x);

/* ---- reports (compare_output.c, compare_svg.c, compare_baseline.c) -------------------------- */

struct cmp_output {
    const struct cmp_params *p;
    const struct cmp_result *r;
    const struct cmp_summary *s;
    const char *const *names;            /* n_cmds */
    const char *const *command;          /* n_cmds, the command as text */
    const struct cmp_baseline *baseline; /* NULL none */
    const char *energy_source;
    int simulated;
    int has_dynamic;
    double precision;
    double fail_if_more; /* < 0: no gate */
    int gate_failed;
    int signal;          /* that stopped the comparison, 0 none */
    const char *failure; /* why it stopped early, NULL none */
};

void cmp_output_table(FILE *out, const struct cmp_output *rep);
int cmp_output_json(FILE *out, const struct cmp_output *rep); /* schema joules.compare/1 */
int cmp_output_csv(FILE *out, const struct cmp_output *rep);  /* joules.compare.csv/1 */
int cmp_output_svg(const char *path, const struct cmp_output *rep, char *err, size_t len);

/* The output files, created (as temporary files) before anything runs so that a wrong path
 * costs nothing, and completed whole at the end. */
struct cmp_files {
    const char *json, *csv, *svg; /* NULL: not asked */
    io_atomic json_out, csv_out;
    int json_open, csv_open;
};
int cmp_files_open(struct cmp_files *o, char *err, size_t len);
void cmp_files_abort(struct cmp_files *o);
/* Write every file asked. 0, or -1 with one message line per file that failed in err. */
int cmp_files_write(struct cmp_files *o, const struct cmp_output *rep, char *err, size_t len);

/* Load the first command's runs of a saved joules.compare/1 file. 0 or -1 with err. */
int cmp_baseline_load(const char *path, struct cmp_baseline *b, char *err, size_t len);
void cmp_baseline_free(struct cmp_baseline *b);

#define CMP_SCHEMA     "joules.compare/1"
#define CMP_CSV_SCHEMA "joules.compare.csv/1"

#endif /* JOULES_COMPARE_H */
