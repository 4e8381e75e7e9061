/* SPDX-License-Identifier: MIT */
/*
 * cluster.h - one measurement across the nodes of a job (docs/cluster.md).
 *
 * A rank learns from its launcher's environment (Slurm, Open MPI, MPICH/PMI) who it is: its
 * rank, its local rank, its node, its job and step, and the GPUs the job owns there. One rank
 * per node measures and writes a node result (schema joules.node/1); the others write a rank
 * result (joules.rank/1) with their exit status. `joules merge` reads them back and sums them
 * into one job result (joules.job/1): per node, per device kind, and in total, refusing
 * what cannot be summed (the same device twice, real with simulated figures).
 */
#ifndef JOULES_CLUSTER_H
#define JOULES_CLUSTER_H

#include <stddef.h>
#include <stdio.h>

#define JOULES_NODE_SCHEMA "joules.node/1"
#define JOULES_RANK_SCHEMA "joules.rank/1"
#define JOULES_JOB_SCHEMA  "joules.job/1"

#define CLU_NAME_MAX 256

/* Who this process is, as its launcher says. Numbers are -1 where the launcher is silent. */
typedef struct clu_env {
    char launcher[16];       /* "slurm", "openmpi", "mpich", or "none" */
    char host[CLU_NAME_MAX]; /* JOULES_HOSTNAME (tests), SLURMD_NODENAME, gethostname() */
    int host_overridden;     /* 1: JOULES_HOSTNAME set; local ranks then say nothing */
    char job_id[64];         /* SLURM_JOB_ID; empty where unknown */
    char step_id[64];        /* SLURM_STEP_ID; empty where unknown */
    long rank, local_rank, node_id;
    long ranks_expected; /* SLURM_NTASKS, OMPI_COMM_WORLD_SIZE, PMI_SIZE */
    long nodes_expected; /* SLURM_STEP_NUM_NODES/SLURM_NNODES; size / local size */
    /* The GPUs the job owns on this node: the variable that said so and its value; empty
     * when none is set (every device of the node is then measured). */
    char gpus_from[32];
    char gpus[512];
} clu_env;

/* Read the environment. Never fails: what is not known stays -1 or empty. */
void clu_env_read(clu_env *e);
/* The same from another environment (a SPANK plugin reads the job's): fn(name, user) gives
 * a variable's value or NULL. */
typedef const char *(*clu_getenv_fn)(const char *name, void *user);
void clu_env_read_with(clu_env *e, clu_getenv_fn fn, void *user);

/* Whether the GPU domain of NVML index `index` and UUID `uuid` is one of the job's (gpus in
 * e; a list of indices or UUIDs, as CUDA_VISIBLE_DEVICES). 1 when no list is set. */
int clu_gpu_selected(const clu_env *e, int index, const char *uuid);

/* A name safe as a file name part (host names, job ids): [A-Za-z0-9._-], others '_'. */
void clu_safe_name(char *out, size_t len, const char *in);

/* The job record written into node and rank results ("job": {...}), with io_json. */
struct io_json;
void clu_env_json(struct io_json *j, const clu_env *e);

/* "<job>.<step>-<host>", file-name safe: a node's identity in a job step. */
void clu_node_tag(const clu_env *e, char *out, size_t len);

/* Write a node result (measurer: r, or failure when the node measured nothing) or a rank
 * result into dir. 0, or -1 with err set (nothing was written). */
struct io_run_output;
int clu_write_result(const char *dir, const clu_env *e, int measurer, const char *elected_by,
                     const struct io_run_output *r, const char *failure, int exit_status, int sig,
                     char *err, size_t err_len);

/* ---- merge -------------------------------------------------------------------------------- */

typedef struct clu_job clu_job;

/* Whether this build can read JSON (libjansson); 0: `joules merge` says how to get it. */
int clu_merge_available(void);

/* Read node and rank results. Returns a job (never NULL unless out of memory); files that
 * cannot be read or conflict are recorded in it as errors. expect_nodes > 0 overrides the
 * expected node count of the files. */
clu_job *clu_merge_files(char *const *files, int n_files, long expect_nodes);
void clu_job_free(clu_job *job);

/* 0: the job is complete and summed; 1: summed but something is missing (a node, a rank, a
 * device's figure); 2: nothing could be summed (errors). */
int clu_job_verdict(const clu_job *job);

/* The job table (human), and the job result (joules.job/1). -1 when the stream failed. */
void clu_job_table(FILE *out, const clu_job *job);
int clu_job_json(FILE *out, const clu_job *job);
/* The worst exit status the job's results give (128+N for signal N), -1 if none. */
int clu_job_exit_status(const clu_job *job);

/* The end of a step: wait (at most wait_s) until `want` results of the step are in dir
 * (node results only, or node and rank results), then merge them. NULL if there is none. */
clu_job *clu_collect_step(const char *dir, const char *job_id, const char *step_id, int nodes_only,
                          long want, long expect_nodes, double wait_s);
/* The job result as dir/job-<job>.<step>.json. 0, or -1 with err set. */
int clu_write_job(const char *dir, const char *job_id, const char *step_id, const clu_job *job,
                  char *err, size_t err_len);

#endif
