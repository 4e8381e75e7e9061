/* SPDX-License-Identifier: MIT */
/*
 * cluster_env.c - who a rank is, from its launcher's variables (docs/cluster.md, section 1).
 * Slurm is asked first: Open MPI started by `srun --mpi=pmix` has only SLURM_* and PMIX_RANK,
 * and under `mpirun` inside an allocation SLURM_JOB_ID is set but not SLURM_PROCID.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "io/json.h"

/* Where the variables come from: the process's environment, or the job's as a SPANK
 * plugin sees it from slurmstepd (clu_env_read_with). Set for one read at a time. */
static clu_getenv_fn env_get;
static void *env_user;

static const char *get(const char *name)
{
    return env_get(name, env_user);
}

static const char *process_getenv(const char *name, void *user)
{
    (void)user;
    return getenv(name);
}

static long env_long(const char *name)
{
    const char *v = get(name);
    if (!v || !*v)
        return -1;
    char *end;
    long x = strtol(v, &end, 10);
    /* SLURM_TASKS_PER_NODE style values ("2(x3)") are not plain numbers: unknown. */
    return *end || x < 0 ? -1 : x;
}

static void env_copy(char *out, size_t len, const char *name)
{
    const char *v = get(name);
    snprintf(out, len, "%s", v ? v : "");
}

static void read_slurm(clu_env *e)
{
    snprintf(e->launcher, sizeof e->launcher, "slurm");
    e->rank = env_long("SLURM_PROCID");
    e->local_rank = env_long("SLURM_LOCALID");
    e->node_id = env_long("SLURM_NODEID");
    e->ranks_expected = env_long("SLURM_STEP_NUM_TASKS");
    if (e->ranks_expected < 0)
        e->ranks_expected = env_long("SLURM_NTASKS");
    e->nodes_expected = env_long("SLURM_STEP_NUM_NODES");
    if (e->nodes_expected < 0)
        e->nodes_expected = env_long("SLURM_NNODES");
    env_copy(e->job_id, sizeof e->job_id, "SLURM_JOB_ID");
    env_copy(e->step_id, sizeof e->step_id, "SLURM_STEP_ID");
}

/* Open MPI's and MPICH's variables: world rank and size, local rank and size. */
static int read_mpi(clu_env *e, const char *name, const char *rank, const char *size,
                    const char *local, const char *local_size)
{
    if (env_long(rank) < 0)
        return 0;
    snprintf(e->launcher, sizeof e->launcher, "%s", name);
    e->rank = env_long(rank);
    e->ranks_expected = env_long(size);
    e->local_rank = env_long(local);
    long ls = env_long(local_size);
    /* Every node holds as many ranks as this one under the usual by-slot mapping; where it
     * does not, `joules merge --nodes N` says the count. */
    if (e->ranks_expected > 0 && ls > 0 && e->ranks_expected % ls == 0)
        e->nodes_expected = e->ranks_expected / ls;
    /* PMIx (Open MPI's mpirun) names the job: one lock per node and job, not per directory. */
    env_copy(e->job_id, sizeof e->job_id, "PMIX_NAMESPACE");
    return 1;
}

void clu_env_read(clu_env *e)
{
    clu_env_read_with(e, process_getenv, NULL);
}

void clu_env_read_with(clu_env *e, clu_getenv_fn fn, void *user)
{
    env_get = fn;
    env_user = user;
    memset(e, 0, sizeof *e);
    e->rank = e->local_rank = e->node_id = e->ranks_expected = e->nodes_expected = -1;
    snprintf(e->launcher, sizeof e->launcher, "none");
    if (env_long("SLURM_PROCID") >= 0)
        read_slurm(e);
    else if (!read_mpi(e, "openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
                       "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE") &&
             !read_mpi(e, "mpich", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"))
        (void)read_mpi(e, "pmix", "PMIX_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS");

    const char *h = get("JOULES_HOSTNAME");
    if (h && *h) {
        snprintf(e->host, sizeof e->host, "%s", h);
        /* One machine posing as several nodes: its local ranks count every rank of the
         * machine, not of the posed node, and its node count is the machine's. */
        e->host_overridden = 1;
        e->local_rank = -1;
        if (strcmp(e->launcher, "slurm") != 0)
            e->nodes_expected = -1;
    } else if (strcmp(e->launcher, "slurm") == 0 && get("SLURMD_NODENAME") &&
               *get("SLURMD_NODENAME")) {
        /* Slurm's name of the node, the one its users read in squeue and sacct. */
        snprintf(e->host, sizeof e->host, "%s", get("SLURMD_NODENAME"));
    } else if (gethostname(e->host, sizeof e->host - 1) != 0) {
        snprintf(e->host, sizeof e->host, "unknown");
    }
    const char *from[] = {"SLURM_STEP_GPUS", "SLURM_JOB_GPUS", "CUDA_VISIBLE_DEVICES"};
    for (int i = 0; i < 3; i++) {
        const char *v = get(from[i]);
        if (v) {
            snprintf(e->gpus_from, sizeof e->gpus_from, "%s", from[i]);
            snprintf(e->gpus, sizeof e->gpus, "%s", v);
            break;
        }
    }
}

int clu_gpu_selected(const clu_env *e, int index, const char *uuid)
{
    if (!e->gpus_from[0])
        return 1;
    char list[sizeof e->gpus];
    snprintf(list, sizeof list, "%s", e->gpus);
    char *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*t))
            t++;
        char *end;
        long k = strtol(t, &end, 10);
        if (end != t && *end == '\0' && k == index)
            return 1;
        /* UUIDs may be given whole or by a unique prefix ("GPU-5c3d"). */
        if (uuid && uuid[0] && !isdigit((unsigned char)*t) && strncmp(uuid, t, strlen(t)) == 0)
            return 1;
    }
    return 0;
}

void clu_safe_name(char *out, size_t len, const char *in)
{
    size_t i = 0;
    for (; in[i] && i + 1 < len; i++) {
        unsigned char c = (unsigned char)in[i];
        out[i] = isalnum(c) || c == '.' || c == '_' || c == '-' ? (char)c : '_';
    }
    if (len)
        out[i < len ? i : len - 1] = '\0';
}

static void kv_id(io_json *j, const char *key, long v)
{
    if (v >= 0)
        io_json_kv_int(j, key, v);
    else
        io_json_kv_null(j, key);
}

static void kv_text(io_json *j, const char *key, const char *v)
{
    if (v[0])
        io_json_kv_string(j, key, v);
    else
        io_json_kv_null(j, key);
}

void clu_env_json(io_json *j, const clu_env *e)
{
    io_json_kv_string(j, "host", e->host);
    io_json_kv_bool(j, "host_overridden", e->host_overridden);
    io_json_kv_int(j, "pid", (long long)getpid());
    kv_id(j, "rank", e->rank);
    kv_id(j, "local_rank", e->local_rank);
    kv_id(j, "node_id", e->node_id);
    io_json_key(j, "job");
    io_json_object_begin(j);
    io_json_kv_string(j, "launcher", e->launcher);
    kv_text(j, "id", e->job_id);
    kv_text(j, "step", e->step_id);
    kv_id(j, "ranks", e->ranks_expected);
    kv_id(j, "nodes", e->nodes_expected);
    io_json_object_end(j);
}
