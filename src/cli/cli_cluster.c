/* SPDX-License-Identifier: MIT */
/*
 * cli_cluster.c - the ranks of `joules run --cluster-dir DIR`.
 *
 * The measurer of a node is its local rank 0 where the launcher says local ranks; else (no
 * local rank, or a host name posed by JOULES_HOSTNAME) the first rank to create the node's
 * lock file in DIR, which is unique per job, step and host. The results are written by
 * src/cluster (cluster_write.c).
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

/* How long rank 0 waits for the other ranks' results after its own command has ended. */
#define CLI_CLUSTER_WAIT_S 10.0

/* Write this rank's result; a failure is said, the command's status stands. */
static void write_result(struct cli_cluster *c, const io_run_output *r, const char *failure,
                         int exit_status, int sig)
{
    char err[600];
    if (clu_write_result(c->dir, &c->env, c->measurer, c->elected_by, r, failure, exit_status, sig,
                         err, sizeof err) != 0)
        cli_error("run: --cluster-dir: %s", err);
}

/* Rank 0, after its own result: every rank's result of the step (waiting at most
 * CLI_CLUSTER_WAIT_S for the slower ones), the job table, DIR/job-<job>.<step>.json, and
 * the worst status of the ranks as its own. Other ranks keep their command's status. */
static int finish(struct cli_cluster *c, int status)
{
    if (c->env.rank != 0 || c->env.ranks_expected <= 0 || !clu_merge_available())
        return status;
    clu_job *job = clu_collect_step(c->dir, c->env.job_id, c->env.step_id, 0, c->env.ranks_expected,
                                    -1, CLI_CLUSTER_WAIT_S);
    if (!job)
        return status;
    if (!c->quiet)
        clu_job_table(stderr, job);
    char err[600];
    if (clu_write_job(c->dir, c->env.job_id, c->env.step_id, job, err, sizeof err) != 0)
        cli_error("run: --cluster-dir: %s", err);
    int worst = clu_job_exit_status(job);
    clu_job_free(job);
    return worst > status ? worst : status;
}

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

int cli_cluster_begin(struct cli_cluster *c)
{
    clu_env_read(&c->env);
    struct stat st;
    const char *why = NULL;
    if (stat(c->dir, &st) != 0)
        why = strerror(errno);
    else if (!S_ISDIR(st.st_mode))
        why = "not a directory";
    if (why) {
        cli_error("run: --cluster-dir %s: %s (it must exist, shared by the job's nodes)", c->dir,
                  why);
        return CLI_EXIT_USAGE;
    }
    if (c->env.local_rank >= 0) {
        c->measurer = c->env.local_rank == 0;
        c->elected_by = "local-rank";
        return 0;
    }
    char tag[400], path[4096];
    clu_node_tag(&c->env, tag, sizeof tag);
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
        int de = util_drop_apply(c->drop);
        if (de != 0) { /* never the command as root when the user asked for no such thing */
            util_drop_report("run", de);
            _exit(126);
        }
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
    return finish(c, sig ? 128 + sig : code);
}

int cli_cluster_end(struct cli_cluster *c, const io_run_output *r, int status)
{
    if (!c->env.gpus_from[0] && !c->quiet)
        fprintf(stderr,
                "joules run: node %s: no SLURM_STEP_GPUS or CUDA_VISIBLE_DEVICES: every GPU of "
                "the node is measured, a neighbour's work included\n",
                c->env.host);
    write_result(c, r, r->failure, r->exit_status, r->signal);
    return finish(c, status);
}
