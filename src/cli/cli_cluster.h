/* SPDX-License-Identifier: MIT */
/*
 * cli_cluster.h - `joules run --cluster-dir DIR` under srun or mpirun (docs/cluster.md):
 * every rank runs the command; one rank per node measures and writes the node result into
 * DIR, the others write their exit status there. cmd_run calls these hooks around its own
 * measurement; the launcher's variables are read by src/cluster.
 */
#ifndef JOULES_CLI_CLUSTER_H
#define JOULES_CLI_CLUSTER_H

#include <signal.h>

#include "cluster/cluster.h"
#include "io/run_output.h"
#include "util/privdrop.h"

struct cli_cluster {
    const char *dir; /* --cluster-dir; NULL: not in cluster mode */
    int quiet;
    clu_env env;
    int measurer;                 /* 1: this rank measures its node */
    const char *elected_by;       /* "local-rank" or "lock" */
    const struct util_drop *drop; /* the identity the command runs as; NULL: joules's own */
};

/* Before the monitor opens: learn the rank and elect the node's measurer. 0, or the exit
 * status (the directory is unusable) after saying why. */
int cli_cluster_begin(struct cli_cluster *c);

/* Run cmd without measuring and return its exit status (as joules run's). A rank that does
 * not measure writes its rank result; with failure set, the node's measurer could not
 * measure, and writes a node result that says why. child_mask: the signal mask the command
 * gets (NULL: the current one). Rank 0 then waits for every rank's result, prints the job
 * table, writes the job result and returns the worst status of the ranks. */
int cli_cluster_run_only(struct cli_cluster *c, char **cmd, const char *failure,
                         const sigset_t *child_mask);

/* After the measurement: write the node result of r; status is the command's. Returns the
 * status to exit with (rank 0: the worst of the ranks', as cli_cluster_run_only). */
int cli_cluster_end(struct cli_cluster *c, const io_run_output *r, int status);

#endif
