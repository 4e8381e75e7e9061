/* SPDX-License-Identifier: MIT */
/*
 * run_output.h - the outputs of a measured command (`joules run`): a human table in the spirit
 * of `perf stat`, a JSON document (schema "joules.run/1") and a CSV table (schema
 * "joules.run.csv/1"), all from one joules_measurement and the static description of its
 * domains. The schemas are documented in docs/output.md; change them only with a new
 * schema version.
 */
#ifndef JOULES_IO_RUN_OUTPUT_H
#define JOULES_IO_RUN_OUTPUT_H

#include <stdio.h>

#include "io/extra.h"
#include "joules.h"

#define JOULES_RUN_SCHEMA     "joules.run/1"
#define JOULES_RUN_CSV_SCHEMA "joules.run.csv/1"

/* Dynamic energy of a domain (derived from an idle baseline), for the report. */
typedef struct io_run_dynamic {
    int have;
    double energy_j;
    double uncertainty_j;
    double baseline_power_w;
    const char *baseline_file;
    double baseline_age_s;
} io_run_dynamic;

typedef struct io_run_output {
    const joules_measurement *m;
    /* info[k] describes the domain of index k in the monitor (m->domains[i].domain). */
    const joules_domain_info *info;
    int n_info;
    char *const *argv; /* the measured command */
    int argc;
    int exit_status;               /* the command's exit code, -1 if it died of a signal */
    int signal;                    /* the signal that ended it, 0 if none */
    const char *failure;           /* why measuring failed as a whole, NULL if it did not */
    const io_run_dynamic *dynamic; /* per domain index, NULL: no baseline at all */
    const io_extra *extra;         /* added keys and columns (io/extra.h), NULL: none */
} io_run_output;

/* The human table (stderr in `joules run`); colour-free, 80 columns where names allow. */
/* A command as a shell would read it back (words quoted where needed), cut to len. */
void io_format_command(char *buf, size_t len, char *const *argv, int argc);
void io_run_table(FILE *out, const io_run_output *r);

/* JSON document / CSV table. Return 0, or -1 if the stream failed. */
int io_run_json(FILE *out, const io_run_output *r);
int io_run_csv(FILE *out, const io_run_output *r);

/* Write s as one CSV field (RFC 4180: quoted when it holds a comma, quote or line break). */
void io_csv_field(FILE *out, const char *s);

#endif
