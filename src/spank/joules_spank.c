/* SPDX-License-Identifier: MIT */
/*
 * joules_spank.c - a Slurm SPANK plugin: `srun --joules[=DIR] CMD` measures each job step on
 * every node (GPUs, CPU packages, DRAM) and writes the node results into DIR; srun then sums
 * them and prints the step's job table, and writes the job result (docs/cluster.md).
 *
 * Enabled by a line in plugstack.conf:   optional /usr/lib/joules/joules_spank.so
 *
 * In slurmstepd (remote context), one per node and step: the window begins in
 * slurm_spank_user_init, before the tasks start, and ends in slurm_spank_exit, after they
 * have all exited; slurm_spank_task_exit keeps the worst task status. In srun (local
 * context), slurm_spank_exit waits for the nodes' results and merges them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <slurm/spank.h>

#include "cluster/cluster.h"
#include "io/run_output.h"
#include "joules.h"

/* cppcheck-suppress unknownMacro ; slurm/spank.h defines it, and cppcheck is not given it */
SPANK_PLUGIN(joules, 1)

/* How long srun waits for the nodes' results after the step. */
#define SPANK_WAIT_S 10.0

static char opt_dir[2048]; /* --joules[=DIR]; empty: not asked */
static int enabled;

static joules_monitor *mon;
static joules_measurement *meas;
static int begun;
static char begin_failure[JOULES_MESSAGE_MAX + 64];
static int worst_code = 0, worst_signal = 0;
static char nvml_path[4096], sysfs_path[4096];

static int take_option(int val, const char *optarg, int remote)
{
    (void)val;
    (void)remote;
    snprintf(opt_dir, sizeof opt_dir, "%s", optarg && *optarg ? optarg : "joules-energy");
    enabled = 1;
    return 0;
}

struct spank_option spank_options[] = {
    {"joules", "[DIR]",
     "measure the energy of the step on every node (joules): node results and the step's "
     "total into DIR (default ./joules-energy)",
     2, 0, take_option},
    SPANK_OPTIONS_TABLE_END,
};

/* The job's environment as slurmstepd holds it. */
struct job_env {
    spank_t sp;
    char buf[8][1024];
    int next;
};

static const char *job_getenv(const char *name, void *user)
{
    struct job_env *je = user;
    char *b = je->buf[je->next++ % 8];
    if (spank_getenv(je->sp, name, b, (int)sizeof je->buf[0]) != ESPANK_SUCCESS)
        return NULL;
    return b;
}

/* srun, before the tasks start: DIR made absolute from srun's working directory, handed to
 * the nodes in the job's environment (the option's own value reaches them as typed). */
int slurm_spank_local_user_init(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    if (!enabled)
        return 0;
    char cwd[1024], abs_dir[sizeof opt_dir + sizeof cwd + 1];
    if (opt_dir[0] != '/' && getcwd(cwd, sizeof cwd)) {
        int n = snprintf(abs_dir, sizeof abs_dir, "%s/%s", cwd, opt_dir);
        if (n > 0 && (size_t)n < sizeof opt_dir)
            memcpy(opt_dir, abs_dir, (size_t)n + 1);
    }
    if (mkdir(opt_dir, 0755) != 0 && errno != EEXIST)
        fprintf(stderr, "joules: %s: %s\n", opt_dir, strerror(errno));
    if (spank_setenv(sp, "JOULES_SPANK_DIR", opt_dir, 1) != ESPANK_SUCCESS)
        fprintf(stderr, "joules: the nodes cannot be told the directory %s\n", opt_dir);
    return 0;
}

/* DIR as the step sees it: srun's absolute name, else the option as typed. */
static void step_dir(spank_t sp, char *out, size_t len)
{
    if (spank_getenv(sp, "JOULES_SPANK_DIR", out, (int)len) != ESPANK_SUCCESS)
        snprintf(out, len, "%s", opt_dir);
}

int slurm_spank_user_init(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    if (!enabled || !spank_remote(sp))
        return 0;
    struct job_env je = {.sp = sp};
    joules_options o;
    joules_options_init(&o);
    o.settle_end = 1;
    o.settle_max_fraction = 0.1;
    const char *v = job_getenv("JOULES_NVML_LIBRARY", &je);
    if (v) {
        snprintf(nvml_path, sizeof nvml_path, "%s", v);
        o.nvml_library = nvml_path;
    }
    if ((v = job_getenv("JOULES_SYSFS_ROOT", &je))) {
        snprintf(sysfs_path, sizeof sysfs_path, "%s", v);
        o.sysfs_root = sysfs_path;
    }
    char err[JOULES_MESSAGE_MAX];
    if (joules_open(&mon, &o, err, sizeof err) != 0) {
        mon = NULL;
        snprintf(begin_failure, sizeof begin_failure, "the devices could not be opened: %s", err);
    } else if (joules_domain_count(mon) <= 0) {
        snprintf(begin_failure, sizeof begin_failure, "no device to measure on this node");
    } else if (joules_measurement_alloc(mon, &meas) != 0 || joules_window_begin(mon, "step") != 0) {
        snprintf(begin_failure, sizeof begin_failure, "the window could not begin: %s",
                 joules_last_error(mon));
    } else {
        begun = 1;
    }
    if (begin_failure[0])
        slurm_error("joules: %s", begin_failure);
    return 0;
}

int slurm_spank_task_exit(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    int status = 0;
    if (!enabled || !spank_remote(sp) ||
        spank_get_item(sp, S_TASK_EXIT_STATUS, &status) != ESPANK_SUCCESS)
        return 0;
    if (WIFSIGNALED(status) && (worst_signal == 0 || 128 + WTERMSIG(status) > worst_code))
        worst_signal = WTERMSIG(status), worst_code = 128 + worst_signal;
    else if (WIFEXITED(status) && WEXITSTATUS(status) > worst_code && !worst_signal)
        worst_code = WEXITSTATUS(status);
    return 0;
}

/* Who this node is in the step: the launcher's variables of the job, then Slurm's items. */
static void node_env(spank_t sp, clu_env *e)
{
    struct job_env je = {.sp = sp};
    clu_env_read_with(e, job_getenv, &je);
    uint32_t v;
    snprintf(e->launcher, sizeof e->launcher, "slurm");
    if (spank_get_item(sp, S_JOB_ID, &v) == ESPANK_SUCCESS)
        snprintf(e->job_id, sizeof e->job_id, "%u", v);
    if (spank_get_item(sp, S_JOB_STEPID, &v) == ESPANK_SUCCESS)
        snprintf(e->step_id, sizeof e->step_id, "%u", v);
    if (spank_get_item(sp, S_JOB_NODEID, &v) == ESPANK_SUCCESS)
        e->node_id = (long)v;
    if (e->nodes_expected < 0 && spank_get_item(sp, S_JOB_NNODES, &v) == ESPANK_SUCCESS)
        e->nodes_expected = (long)v;
    if (spank_get_item(sp, S_JOB_TOTAL_TASK_COUNT, &v) == ESPANK_SUCCESS)
        e->ranks_expected = (long)v;
    e->rank = e->local_rank = -1; /* the plugin is no task */
}

static void remote_exit(spank_t sp)
{
    clu_env e;
    node_env(sp, &e);
    char dir[4096], err[600];
    step_dir(sp, dir, sizeof dir);
    int argc = 0;
    char **argv = NULL;
    if (spank_get_item(sp, S_JOB_ARGV, &argc, &argv) != ESPANK_SUCCESS)
        argc = 0, argv = NULL;
    joules_domain_info info[JOULES_MAX_DOMAINS];
    int n_info = mon ? joules_domain_count(mon) : 0;
    for (int i = 0; i < n_info && i < JOULES_MAX_DOMAINS; i++)
        joules_domain_info_get(mon, i, &info[i]);
    char failure[JOULES_MESSAGE_MAX + 64];
    snprintf(failure, sizeof failure, "%s", begin_failure);
    if (begun && joules_window_end(mon, "step", meas) != 0)
        snprintf(failure, sizeof failure, "the measurement failed: %s", joules_last_error(mon));
    io_run_output r = {
        .m = failure[0] ? NULL : meas,
        .info = info,
        .n_info = n_info,
        .argv = argv,
        .argc = argc,
        .exit_status = worst_signal ? -1 : worst_code,
        .signal = worst_signal,
        .failure = failure[0] ? failure : NULL,
    };
    (void)mkdir(dir, 0755);
    if (clu_write_result(dir, &e, 1, "spank", &r, r.failure, r.exit_status, r.signal, err,
                         sizeof err) != 0)
        slurm_error("joules: %s: %s", dir, err);
    joules_measurement_free(meas);
    if (mon)
        joules_close(mon);
    mon = NULL, meas = NULL, begun = 0;
}

/* srun, after the step: the nodes' results, summed. */
static void local_exit(spank_t sp)
{
    /* At srun's exit the job's items are no longer available; srun's own environment
     * still names the job, the step and its nodes. */
    (void)sp;
    const char *v;
    unsigned long job, step, nnodes = 0;
    if (!(v = getenv("SLURM_JOB_ID")) || sscanf(v, "%lu", &job) != 1 ||
        !(v = getenv("SLURM_STEP_ID")) || sscanf(v, "%lu", &step) != 1) {
        fprintf(stderr,
                "joules: srun does not say its job and step: see the node results in "
                "%s (joules merge sums them)\n",
                opt_dir);
        return;
    }
    if (((v = getenv("SLURM_STEP_NUM_NODES")) || (v = getenv("SLURM_NNODES"))) &&
        sscanf(v, "%lu", &nnodes) != 1)
        nnodes = 0;
    char job_id[32], step_id[32], err[600];
    snprintf(job_id, sizeof job_id, "%lu", job);
    snprintf(step_id, sizeof step_id, "%lu", step);
    if (!clu_merge_available()) {
        fprintf(stderr, "joules: the node results are in %s (joules merge sums them)\n", opt_dir);
        return;
    }
    clu_job *jb =
        clu_collect_step(opt_dir, job_id, step_id, 1, (long)nnodes, (long)nnodes, SPANK_WAIT_S);
    if (!jb) {
        fprintf(stderr, "joules: no node result of step %s.%s in %s\n", job_id, step_id, opt_dir);
        return;
    }
    clu_job_table(stderr, jb);
    if (clu_write_job(opt_dir, job_id, step_id, jb, err, sizeof err) != 0)
        fprintf(stderr, "joules: %s\n", err);
    clu_job_free(jb);
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    if (!enabled)
        return 0;
    if (spank_remote(sp))
        remote_exit(sp);
    else if (spank_context() == S_CTX_LOCAL)
        local_exit(sp);
    return 0;
}
