/* SPDX-License-Identifier: MIT */
/*
 * cli_util.h - what the subcommands share: messages and usage errors in one voice, the
 * choice between the real sensors and the simulated GPU (--sim, --scenario,
 * --sim-if-absent), opening the monitor from the environment (JOULES_NVML_LIBRARY,
 * JOULES_SYSFS_ROOT, JOULES_SIM_LIBRARY) and explaining why a backend is absent.
 * The library never reads the environment; this file is where the CLI does it for it.
 */
#ifndef JOULES_CLI_UTIL_H
#define JOULES_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "joules.h"

#define CLI_EXIT_FAILURE 1 /* joules itself failed (no sensor, simulator did not start) */
#define CLI_EXIT_USAGE   2 /* the command line is wrong */

/* "joules: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "joules CMD: <message>" + "Try 'joules CMD --help'." on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* After getopt_long returned '?' or ':' (optstring starting with "+:"): say which option. */
int cli_getopt_error(const char *cmd, int c, char **argv);

/* Where the GPU comes from. */
struct cli_source {
    int sim;              /* --sim or --scenario: the simulated GPU only */
    int sim_if_absent;    /* --sim-if-absent: the real NVML if it has GPUs, else the simulator */
    const char *profile;  /* --sim PROFILE; NULL: the simulator's default (or the scenario's) */
    const char *scenario; /* --scenario FILE */
    int settle_end;       /* anchor the end edge on the next counter step (joules_options) */
    uint64_t tracker_period_ns; /* the tracker thread's polling period; 0: the library's */
};

/*
 * Handle --sim / --sim-if-absent just returned by getopt_long (optional argument): the
 * profile is optarg (--sim=P) or the next word when it is not an option and not "--", in
 * which case optind moves past it. Validates the profile with the simulator (cli_profiles.h).
 * 0, CLI_EXIT_USAGE, or CLI_EXIT_FAILURE when the simulator cannot be asked.
 */
int cli_take_sim_option(struct cli_source *s, const char *cmd, int if_absent, int argc,
                        char **argv);
/* Check a --scenario value (readable regular file). 0 or CLI_EXIT_USAGE. */
int cli_take_scenario_option(struct cli_source *s, const char *cmd, const char *path);
/* The scenario file a --scenario value names: the path itself when it exists, else the same
 * path, its last part, or either with ".scn" added, in the installed scenarios directory
 * (<dir of joules>/../share/joules/scenarios). 0 with found filled, or CLI_EXIT_USAGE after
 * a message listing where it looked (cli_scenario.c). */
int cli_find_scenario(const char *cmd, const char *path, char *found, size_t len);
/* Check an output file name (--json/--csv): not empty. 0 or CLI_EXIT_USAGE. */
int cli_check_output_name(const char *cmd, const char *opt, const char *path);

/* An option's value as an integer / a number within [lo, hi]: 0, or CLI_EXIT_USAGE with
 * "joules CMD: OPT: 'V' is not an integer (a number) in [lo, hi]" printed. */
int cli_parse_long(const char *cmd, const char *opt, const char *v, long lo, long hi, long *out);
int cli_parse_double(const char *cmd, const char *opt, const char *v, double lo, double hi,
                     double *out);
/* A list of settings, FROM:TO:STEP or A,B,C, each within [lo, hi] (a step at least 1e-3), at
 * most max of them, into out[0..*n). 0, or CLI_EXIT_USAGE with the message printed. */
int cli_parse_steps(const char *cmd, const char *opt, const char *v, double lo, double hi,
                    double *out, int max, int *n);

/* The simulated GPU library: JOULES_SIM_LIBRARY, else <dir of the executable>/../lib/joules/
 * libnvidia-ml.so.1 (build and installed trees alike). 0, or -1 after printing why. */
int cli_sim_library_path(char *buf, size_t len);

/* The open monitor and how its GPU was chosen. */
struct cli_monitor {
    joules_monitor *m;
    int used_sim;                 /* the simulated GPU library was loaded */
    char sim_library[4096];       /* its path, when used_sim */
    char why[JOULES_MESSAGE_MAX]; /* --sim-if-absent: why the simulator was chosen */
};

/* Open the monitor the way the options ask. 0, or CLI_EXIT_FAILURE with a message printed. */
int cli_open_monitor(const char *cmd, const struct cli_source *s, struct cli_monitor *out);
void cli_close_monitor(struct cli_monitor *cm);

/* Number of simulated GPU domains / of GPU domains of the monitor. */
int cli_count_gpus(joules_monitor *m, int simulated_only);
/* The monitor domain of the gpu-th GPU (0-based among the GPUs), or -1. */
int cli_gpu_domain(joules_monitor *m, int gpu);
/* The simulated profile in use, for reports: --sim PROFILE, else JOULES_SIM_PROFILE, else
 * "(scenario)" or the default "a6000"; NULL when the monitor is not the simulated GPU. */
const char *cli_sim_profile_name(const struct cli_source *s, const struct cli_monitor *cm);

/* One line per backend: loaded, or absent with its reason and a remedy. */
void cli_print_backends(FILE *out, joules_monitor *m, const char *indent);
/* A remedy for an absent backend, in words (never NULL). */
const char *cli_backend_remedy(joules_backend_id b, int code);
/* How to try joules without sensors (--sim, --scenario), for messages. */
void cli_print_sim_hint(FILE *out, const char *cmd);
/* 0 when profile is a simulated GPU's (aliases included), else a usage error naming them
 * (CLI_EXIT_FAILURE when the simulator cannot be asked). */
int cli_check_profile(const char *cmd, const char *opt, const char *profile);
/* The monitor has no domain at all: "joules CMD: HEADLINE", why each backend is absent and
 * how to use the simulated GPU instead, on stderr. */
void cli_print_no_sensor(const char *cmd, const char *headline, joules_monitor *m);

#endif
