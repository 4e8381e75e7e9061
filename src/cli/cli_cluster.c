/* SPDX-License-Identifier: MIT */
/*
 * cli_cluster.c - the ranks of `joules run --cluster-dir DIR`.
 *
 * The measurer of a node is its local rank 0 where the launcher says local ranks; else (no
 * local rank, or a host name posed by JOULES_HOSTNAME) the first rank to create the node's
 * lock file in DIR, which is unique per job, step and host. Files appear whole or not at all
 * (temporary file + rename), so `joules merge` never reads half a result.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli_cluster.h"
#include "cli/cli_util.h"
#include "io/atomic.h"
#include "io/json.h"

static volatile sig_atomic_t only_child; /* the command of a rank that does not measure */

static void forward(int sig, siginfo_t *si, void *uctx)
{
    (void)uctx;
#ifdef SI_KERNEL
    /* The terminal signals the whole process group: the command has its own copy. */
    if (si && si->si_code == SI_KERNEL)
        return;
#else
    (void)si;
#endif
    if (only_child > 0) {
        int saved = errno;
        kill((pid_t)only_child, sig);
        errno = saved;
    }
}

/* "<job>.<step>-<host>", file-name safe: the identity of this node in this step. */
static void node_tag(const struct cli_cluster *c, char *out, size_t len)
{
    char raw[512];
    snprintf(raw, sizeof raw, "%s.%s-%s", c->env.job_id[0] ? c->env.job_id : "nojob",
             c->env.step_id[0] ? c->env.step_id : "0", c->env.host);
    clu_safe_name(out, len, raw);
}

int cli_cluster_begin(struct cli_cluster *c)
{
    clu_env_read(&c->env);
    struct stat st;
    if (stat(c->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_error("run: --cluster-dir %s: %s", c->dir,
                  errno && stat(c->dir, &st) != 0 ? strerror(errno) : "not a directory");
        return CLI_EXIT_USAGE;
    }
    if (c->env.local_rank >= 0) {
        c->measurer = c->env.local_rank == 0;
        c->elected_by = "local-rank";
        return 0;
    }
    char tag[400], path[4096];
    node_tag(c, tag, sizeof tag);
    snprintf(path, sizeof path, "%s/.lock-%s", c->dir, tag);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    c->elected_by = "lock";
    if (fd >= 0) {
        c->measurer = 1;
        dprintf(fd, "%ld\n", (long)getpid());
        close(fd);
        return 0;
    }
    if (errno == EEXIST)
        return 0;
    cli_error("run: --cluster-dir: cannot create the node's lock %s: %s", path, strerror(errno));
    return CLI_EXIT_FAILURE;
}

static void write_exit(io_json *j, int exit_status, int sig)
{
    if (sig > 0) {
        io_json_kv_null(j, "exit_status");
        io_json_kv_int(j, "signal", sig);
    } else {
        io_json_kv_int(j, "exit_status", exit_status);
        io_json_kv_null(j, "signal");
    }
}

/* The GPUs of the job on this node, from the environment, and which domains they are. */
static void write_gpus(io_json *j, const struct cli_cluster *c, const io_run_output *r)
{
    io_json_key(j, "gpus");
    io_json_object_begin(j);
    if (!c->env.gpus_from[0]) {
        io_json_kv_null(j, "from");
        io_json_kv_null(j, "list");
        io_json_kv_string(j, "note",
                          "no SLURM_STEP_GPUS, SLURM_JOB_GPUS or CUDA_VISIBLE_DEVICES: "
                          "every GPU of the node is measured");
    } else {
        io_json_kv_string(j, "from", c->env.gpus_from);
        io_json_kv_string(j, "list", c->env.gpus);
        io_json_kv_null(j, "note");
    }
    io_json_key(j, "selected");
    io_json_array_begin(j);
    for (int i = 0; r && r->m && i < r->m->n_domains; i++) {
        int k = r->m->domains[i].domain;
        if (k < 0 || k >= r->n_info || r->info[k].kind != JOULES_KIND_GPU)
            continue;
        int index = -1;
        (void)sscanf(r->info[k].name, "gpu%d", &index);
        if (clu_gpu_selected(&c->env, index, r->info[k].uuid))
            io_json_string(j, r->info[k].name);
    }
    io_json_array_end(j);
    io_json_object_end(j);
}

/* Write DIR/<name>.json: a node result (measurer) or a rank result. */
static void write_result(struct cli_cluster *c, const io_run_output *r, const char *failure,
                         int exit_status, int sig)
{
    char tag[700], path[4096], err[512];
    if (c->measurer) {
        node_tag(c, tag, sizeof tag);
        snprintf(path, sizeof path, "%s/node-%s.json", c->dir, tag);
    } else {
        /* Long host names are cut: the rank and pid keep the name unique. */
        char raw[700];
        int n = snprintf(
            raw, sizeof raw, "%s.%s-rank%ld-%ld-%s", c->env.job_id[0] ? c->env.job_id : "nojob",
            c->env.step_id[0] ? c->env.step_id : "0", c->env.rank, (long)getpid(), c->env.host);
        (void)n;
        clu_safe_name(tag, sizeof tag, raw);
        snprintf(path, sizeof path, "%s/rank-%s.json", c->dir, tag);
    }
    char *run_text = NULL;
    size_t run_len = 0;
    if (r && !failure) {
        FILE *mem = open_memstream(&run_text, &run_len);
        if (!mem || io_run_json(mem, r) != 0 || fclose(mem) != 0) {
            free(run_text);
            cli_error("run: --cluster-dir: the node result could not be formatted");
            return;
        }
    }
    io_atomic out;
    if (io_atomic_open(&out, path, err, sizeof err) != 0) {
        free(run_text);
        cli_error("run: --cluster-dir: %s", err);
        return;
    }
    io_json j;
    io_json_init(&j, out.f, 1);
    io_json_object_begin(&j);
    io_json_kv_string(&j, "schema", c->measurer ? JOULES_NODE_SCHEMA : JOULES_RANK_SCHEMA);
    io_json_kv_string(&j, "joules_version", JOULES_VERSION_STRING);
    clu_env_json(&j, &c->env);
    io_json_kv_string(&j, "elected_by", c->elected_by);
    write_exit(&j, exit_status, sig);
    if (c->measurer) {
        write_gpus(&j, c, r);
        if (failure)
            io_json_kv_string(&j, "failure", failure);
        else
            io_json_kv_null(&j, "failure");
        io_json_key(&j, "run");
        if (run_text)
            io_json_raw(&j, run_text);
        else
            io_json_null(&j);
    }
    io_json_object_end(&j);
    free(run_text);
    if (io_json_finish(&j) != 0) {
        io_atomic_abort(&out);
        cli_error("run: --cluster-dir: writing %s failed", path);
    } else if (io_atomic_commit(&out, err, sizeof err) != 0) {
        cli_error("run: --cluster-dir: %s", err);
    }
}

int cli_cluster_run_only(struct cli_cluster *c, char **cmd, const char *failure,
                         const sigset_t *child_mask)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa, old[3];
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    for (int i = 0; i < 3; i++) {
        sigaction(sigs[i], NULL, &old[i]);
        if (old[i].sa_handler != SIG_IGN)
            sigaction(sigs[i], &sa, NULL);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 3; i++)
            sigaction(sigs[i], &old[i], NULL);
        if (child_mask)
            sigprocmask(SIG_SETMASK, child_mask, NULL);
        execvp(cmd[0], cmd);
        int e = errno;
        dprintf(2, "joules run: cannot run '%s': %s\n", cmd[0], strerror(e));
        _exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
    }
    if (pid < 0) {
        cli_error("run: cannot start '%s': %s", cmd[0], strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    only_child = (sig_atomic_t)pid;
    if (child_mask) {
        sigset_t s;
        sigemptyset(&s);
        for (int i = 0; i < 3; i++)
            sigaddset(&s, sigs[i]);
        sigprocmask(SIG_UNBLOCK, &s, NULL);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    only_child = 0;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    write_result(c, NULL, failure, code, sig);
    return sig ? 128 + sig : code;
}

void cli_cluster_end(struct cli_cluster *c, const io_run_output *r)
{
    if (!c->env.gpus_from[0] && !c->quiet)
        fprintf(stderr,
                "joules run: node %s: no SLURM_STEP_GPUS or CUDA_VISIBLE_DEVICES: every GPU of "
                "the node is measured, a neighbour's work included\n",
                c->env.host);
    write_result(c, r, r->failure, r->exit_status, r->signal);
}
