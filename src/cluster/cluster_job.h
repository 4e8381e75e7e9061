/* SPDX-License-Identifier: MIT */
/*
 * cluster_job.h - the job that `joules merge` builds: what the files said (nodes, ranks),
 * then the sums, checks and outputs of cluster_job.c. Internal to src/cluster.
 */
#ifndef JOULES_CLUSTER_JOB_H
#define JOULES_CLUSTER_JOB_H

#include "cluster/cluster.h"

#define CLU_KINDS_MAX 8

typedef struct clu_domain {
    char name[32], kind[24], device[128], uuid[96];
    int simulated, valid, counted, selected;
    double energy_j, uncertainty_j;
} clu_domain;

/* A sum of one device kind (or of everything: kind "total"). */
typedef struct clu_sum {
    char kind[24];
    double energy_j, uncertainty_j;
    int n;        /* domains (per node) or nodes (per job) that entered it */
    int complete; /* 0: a figure that belongs in it is missing */
} clu_sum;

typedef struct clu_node {
    char *file; /* a copy: the caller's names may go before the job does */
    char host[CLU_NAME_MAX], launcher[16], job_id[64], step_id[64];
    long rank, node_id, ranks_expected, nodes_expected;
    int exit_status, signal; /* exit_status -1 when it died of a signal */
    char failure[256];       /* the node measured nothing: why; empty otherwise */
    double start_unix_s, duration_s;
    char gpus_from[32], gpus[256];
    clu_domain *domains;
    int n_domains;
    /* filled by the sums */
    clu_sum kinds[CLU_KINDS_MAX];
    int n_kinds;
    clu_sum total;
    int simulated; /* any summed domain is simulated */
} clu_node;

typedef struct clu_rank {
    char *file; /* a copy: the caller's names may go before the job does */
    char host[CLU_NAME_MAX];
    long rank;
    int exit_status, signal;
    char job_id[64], step_id[64];
} clu_rank;

struct clu_job {
    clu_node *nodes;
    int n_nodes, cap_nodes;
    clu_rank *ranks;
    int n_ranks, cap_ranks;
    char **errors, **notes;
    int n_errors, n_notes;
    long expect_nodes; /* from the command line; 0: the files' */
    /* filled by clu_job_sum */
    char launcher[16], job_id[64], step_id[64];
    long nodes_expected, ranks_expected;
    int summed, simulated, complete;
    int exit_status; /* the worst known: 128+N for signal N; -1 none known */
    clu_sum kinds[CLU_KINDS_MAX];
    int n_kinds;
    clu_sum total;
    double start_spread_s, end_spread_s;
    long *missing_ranks;
    int n_missing_ranks;
    long *missing_node_ids;
    int n_missing_node_ids;
};

/* Room for one more node / rank (zeroed), NULL when out of memory. */
clu_node *clu_job_new_node(clu_job *job);
clu_rank *clu_job_new_rank(clu_job *job);
/* Record an error (nothing is summed) or a note (said in the table and JSON). */
void clu_job_error(clu_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void clu_job_note(clu_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The checks and sums, once every file is read. */
void clu_job_sum(clu_job *job);

#endif
