/* SPDX-License-Identifier: MIT */
/*
 * cli_impact.h - efficiency and emissions in the command line (docs/impact.md): the options
 * run, ab and sweep share (--flops, --grid, --pue, --lifetime, the outputs), the shipped
 * tables (impact_data_dir), one "job" (a run or an arm of an experiment) turned
 * into figures by src/impact, and their table, JSON, CSV, CodeCarbon-compatible CSV and SVG.
 * `joules info` takes the GPU anatomy and the site values in force from here too.
 */
#ifndef JOULES_CLI_IMPACT_H
#define JOULES_CLI_IMPACT_H

#include <getopt.h>
#include <stdio.h>

#include "ab/ab.h"
#include "cli/cli_options.h"
#include "impact/impact.h"
#include "io/extra.h"
#include "io/json.h"
#include "joules.h"
#include "sweep/sweep.h"

/* Option ids, above the commands' own (which start at CLI_OPT_COMMAND). */
enum {
    CLI_OPT_IMPACT_FLOPS = 0x300,
    CLI_OPT_IMPACT_PRECISION,
    CLI_OPT_IMPACT_GRID,
    CLI_OPT_IMPACT_PUE,
    CLI_OPT_IMPACT_LIFETIME,
    CLI_OPT_IMPACT_CODECARBON_CSV,
    CLI_OPT_IMPACT_CSV,
    CLI_OPT_IMPACT_SVG,
    CLI_OPT_IMPACT_END,
};

/* clang-format off */
/* The site values, for the option tables of run, repeat, ab, sweep and info. */
#define CLI_IMPACT_OPTION_GRID \
    {"grid", 0, required_argument, "ZONE", \
     "carbon intensity of the electricity, for CO2e: an ISO 3166\n" \
     "alpha-3 code or a region of the shipped table (FRA, USA,\n" \
     "WORLD), or g/kWh in [0, 2000]; never guessed", CLI_OPT_IMPACT_GRID}
#define CLI_IMPACT_OPTION_PUE \
    {"pue", 0, required_argument, "X", \
     "power usage effectiveness of the site, in [1, 10] (default 1)", CLI_OPT_IMPACT_PUE}
#define CLI_IMPACT_OPTION_LIFETIME \
    {"lifetime", 0, required_argument, "Y", \
     "device lifetime for embodied emissions: years in (0, 20],\n" \
     "'4y', or hours '26280h' (default 3)", CLI_OPT_IMPACT_LIFETIME}
#define CLI_IMPACT_SITE_OPTIONS \
    CLI_IMPACT_OPTION_GRID, CLI_IMPACT_OPTION_PUE, CLI_IMPACT_OPTION_LIFETIME
/* The outputs, for run, repeat, ab and sweep. */
#define CLI_IMPACT_OUTPUT_OPTIONS \
    {"impact-csv", 0, required_argument, "FILE", \
     "efficiency and emissions as CSV, one row per subject\n" \
     "(joules.impact.csv/1); --json has them as \"impact\"", CLI_OPT_IMPACT_CSV}, \
    {"codecarbon-csv", 0, required_argument, "FILE", \
     "append a row with CodeCarbon 3.x's columns (a header when\n" \
     "the file is new)", CLI_OPT_IMPACT_CODECARBON_CSV}, \
    {"efficiency-svg", 0, required_argument, "FILE.svg", \
     "FLOP per joule against reference GPUs by release year", CLI_OPT_IMPACT_SVG}
/* The work count, for run and repeat (ab and sweep know theirs). */
#define CLI_IMPACT_WORK_OPTIONS \
    {"flops", 0, required_argument, "N", \
     "the work the command does, in FLOP: GFLOP per joule and its\n" \
     "share of the GPU's peak FLOP per joule (peak FLOP/s / TDP)", CLI_OPT_IMPACT_FLOPS}, \
    {"precision", 0, required_argument, "P", \
     "the precision of that work: fp64, fp32, tf32, fp16 (bf16),\n" \
     "fp8, int8 (default fp32)", CLI_OPT_IMPACT_PRECISION}
/* clang-format on */

/* The paragraph of --help after the option lines: where the site values come from. */
#define CLI_IMPACT_HELP_NOTE                                                                       \
    "\nEfficiency and emissions (docs/impact.md): nothing is guessed and nothing goes\n"           \
    "online. Site defaults: JOULES_GRID, JOULES_PUE, JOULES_LIFETIME, or grid, pue and\n"          \
    "lifetime lines in $XDG_CONFIG_HOME/joules/config (~/.config/joules/config);\n"                \
    "the options win. With no grid in force, energy only and a one-line hint.\n"

static inline int cli_is_impact_option(int id)
{
    return id >= CLI_OPT_IMPACT_FLOPS && id < CLI_OPT_IMPACT_END;
}

struct cli_impact_opts {
    const char *grid, *pue, *lifetime; /* NULL: not given */
    const char *codecarbon_csv, *csv, *svg;
    double flops; /* -1: not given */
    int precision;
    int given; /* any of these options */
};

void cli_impact_opts_init(struct cli_impact_opts *o);
/* Take one of these options (cli_is_impact_option(id)), from a command's take callback: 0,
 * CLI_EXIT_USAGE on a bad value (printed), -1 when id is none of them. */
int cli_impact_take(struct cli_impact_opts *o, const char *cmd, int id, const char *arg);

/* The tables and the site values in force. */
struct cli_impact {
    char data_dir[4096]; /* impact_data_dir */
    struct impact_hw_table hw;
    struct impact_zone_table zones;
    struct impact_site site;
    struct impact_grid grid;
    double pue, lifetime_y;
    int loaded;
};

/* Load the tables and resolve the site values (options > environment > file > defaults).
 * 0, or CLI_EXIT_USAGE (a bad value) / CLI_EXIT_FAILURE (a table) with the message printed. */
int cli_impact_open(struct cli_impact *ci, const struct cli_impact_opts *o, const char *cmd);
void cli_impact_close(struct cli_impact *ci);
/* The row of a GPU by its name as NVML or a domain reports it ("... (simulated)" too). */
const struct impact_hw *cli_impact_find_hw(const struct cli_impact *ci, const char *name);

#define CLI_IMPACT_MAX_DEVICES 16

/* One subject of the report: a run, or an arm of ab or sweep. */
struct cli_impact_job {
    char subject[64];
    double flops; /* -1: unknown */
    int precision;
    double gpu_energy_j, gpu_energy_pm_j; /* efficiency: the GPUs' energy */
    double energy_j, energy_pm_j;         /* emissions: every device measured, disjoint */
    double cpu_energy_j, ram_energy_j;    /* CodeCarbon's split (gpu_energy_j above) */
    double duration_s;
    int n_devices;
    char device_names[CLI_IMPACT_MAX_DEVICES][160];
    const struct impact_hw *devices[CLI_IMPACT_MAX_DEVICES];
    int simulated;
    /* filled by cli_impact_compute */
    struct impact_efficiency eff;
    struct impact_emissions em;
};

/* Fill a job from a run's measurement (GPU names from joules_gpu_status where readable). */
void cli_impact_job_from_run(struct cli_impact_job *j, const struct cli_impact *ci,
                             joules_monitor *m, const joules_measurement *meas,
                             const joules_domain_info *info, int n_info, double flops,
                             int precision);
void cli_impact_compute(const struct cli_impact *ci, struct cli_impact_job *j);

/* What a command reported: its subjects, for its own --json ("impact", schema
 * joules.impact/1) and --csv (impact_ columns, only when an impact option was given or a
 * grid is in force, so that the CSV of a plain run keeps its columns). n 0: nothing. */
struct cli_impact_report {
    const struct cli_impact *ci;
    const char *cmd;
    const struct cli_impact_job *jobs;
    int n;
    int columns;
};
/* The io_extra (io/extra.h) that writes rep into a document, or NULL when rep has nothing. */
const io_extra *cli_impact_extra(io_extra *x, const struct cli_impact_report *rep);

/* run and repeat, after their table: the efficiency and emissions of the window on stderr
 * (unless quiet) and the files the options ask for; or, when no option asked for them and no
 * grid is in force, the one-line hint. subject: the row's name (NULL: "run"). out: what was
 * reported (its jobs live until the next call). */
void cli_impact_report_run(const struct cli_impact_opts *o, const struct cli_impact *ci,
                           const char *cmd, const char *subject, joules_monitor *m,
                           const joules_measurement *meas, const joules_domain_info *info,
                           int n_info, int quiet, struct cli_impact_report *out);

/* The table's block; and the one-line hint when no grid is in force. */
void cli_impact_print(FILE *out, const struct cli_impact *ci, const struct cli_impact_job *jobs,
                      int n);
void cli_impact_hint(FILE *out, const char *cmd);

/* Write the outputs the options ask for (CSV, CodeCarbon, SVG). 0, or -1 after a
 * message (the measurement is still reported). */
int cli_impact_write(const struct cli_impact_opts *o, const struct cli_impact *ci, const char *cmd,
                     const struct cli_impact_job *jobs, int n);

/* The JSON object of the site values in force (for joules.impact/1 and joules info). */
void cli_impact_json_site(io_json *j, const struct cli_impact *ci);
/* `joules info`: the anatomy of a GPU from the table, and the site values with their origin. */
void cli_impact_info_gpu(FILE *out, const struct cli_impact *ci, const char *gpu_name);
void cli_impact_info_site(FILE *out, const struct cli_impact *ci);
void cli_impact_json_gpu(io_json *j, const struct cli_impact *ci, const char *gpu_name);

/* The experiments as jobs (cli_impact_exp.c): one per arm of ab (gpu: 0 for the CPU
 * executor), one per measured point of a sweep plus the whole sweep last. Each is computed.
 * Return the number of jobs. */
int cli_impact_prec_from_ab(int ab_prec);
int cli_impact_jobs_from_ab(struct cli_impact_job *jobs, int max, const struct cli_impact *ci,
                            const struct ab_result *r, int ab_prec, int gpu);
int cli_impact_jobs_from_sweep(struct cli_impact_job *jobs, int max, const struct cli_impact *ci,
                               const struct sweep_result *r, int ab_prec, const char *unit);
/* ab and sweep, after their table: one block per arm (one line per point of a sweep) on
 * stdout, and the files the options ask for. */
void cli_impact_report_ab(const struct cli_impact_opts *o, const struct cli_impact *ci,
                          const char *cmd, const struct ab_result *r, const struct ab_params *p,
                          struct cli_impact_report *out);
void cli_impact_report_sweep(const struct cli_impact_opts *o, const struct cli_impact *ci,
                             const char *cmd, const struct sweep_result *r,
                             const struct sweep_params *p, struct cli_impact_report *out);
/* One line per job (sweeps have many). */
void cli_impact_print_compact(FILE *out, const struct cli_impact *ci,
                              const struct cli_impact_job *jobs, int n);

/* The efficiency chart (cli_impact_svg.c). 0, or -1 with err. */
int cli_impact_svg(const char *path, const struct cli_impact *ci, const struct cli_impact_job *jobs,
                   int n, char *err, size_t len);

#endif
