/* SPDX-License-Identifier: MIT */
/* cli_restore.c - restoring a GPU's clocks or power limit, with retries (cli_restore.h). */
#include "cli/cli_restore.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io/journal.h"

int cli_restore_retry(int (*fn)(void *ctx), void *ctx, int *tries)
{
    int rc = -1, n = 0;
    long wait_ms = 25;
    while (n < CLI_RESTORE_TRIES) {
        rc = fn(ctx);
        n++;
        if (rc == 0 || n == CLI_RESTORE_TRIES)
            break;
        struct timespec ts = {0, wait_ms * 1000000L};
        while (nanosleep(&ts, &ts) != 0) /* a signal: sleep the rest */
            ;
        wait_ms *= 2;
    }
    if (tries)
        *tries = n;
    return rc;
}

void cli_restore_command(char *buf, size_t len, const char *gpu, double power_limit_w)
{
    if (power_limit_w < 0)
        snprintf(buf, len, "nvidia-smi -i %s -rgc", gpu);
    else
        snprintf(buf, len, "nvidia-smi -i %s -pl %.0f", gpu, power_limit_w);
}

struct restore_call {
    joules_monitor *m;
    int dom;
    double power_limit_w;
};

static int restore_once(void *ctx)
{
    const struct restore_call *c = ctx;
    return c->power_limit_w < 0 ? joules_gpu_reset_clocks(c->m, c->dom)
                                : joules_gpu_set_power_limit(c->m, c->dom, c->power_limit_w);
}

int cli_restore_gpu(const char *cmd, joules_monitor *m, int dom, double power_limit_w)
{
    struct restore_call c = {m, dom, power_limit_w};
    int tries = 0;
    if (cli_restore_retry(restore_once, &c, &tries) == 0) {
        if (power_limit_w < 0)
            fprintf(stderr,
                    "joules %s: restored: graphics clocks reset to the driver's default "
                    "(as nvidia-smi -rgc)\n",
                    cmd);
        else
            fprintf(stderr, "joules %s: restored: power limit back to %.0f W\n", cmd,
                    power_limit_w);
        cli_journal_end(m, dom, power_limit_w);
        return 1;
    }
    joules_domain_info di;
    char gpu[128] = "", fix[256];
    if (joules_domain_info_get(m, dom, &di) == 0)
        snprintf(gpu, sizeof gpu, "%s", di.uuid[0] ? di.uuid : di.bus_id);
    if (!gpu[0])
        snprintf(gpu, sizeof gpu, "0");
    cli_restore_command(fix, sizeof fix, gpu, power_limit_w);
    if (power_limit_w < 0)
        fprintf(stderr, "joules %s: could NOT reset the clocks (%d tries): %s\n", cmd, tries,
                joules_last_error(m));
    else
        fprintf(stderr, "joules %s: could NOT restore the power limit to %.0f W (%d tries): %s\n",
                cmd, power_limit_w, tries, joules_last_error(m));
    fprintf(stderr, "joules %s: the GPU is still changed; restore it with: %s\n", cmd, fix);
    return 0;
}

/* This process's journal entry for a change of domain dom. 0, or -1 (no such GPU domain). */
static int journal_entry(joules_monitor *m, int dom, double power_limit_w, io_journal_entry *e)
{
    joules_domain_info di;
    if (joules_domain_info_get(m, dom, &di) != 0)
        return -1;
    memset(e, 0, sizeof *e);
    e->pid = (long)getpid();
    e->what = power_limit_w < 0 ? IO_JOURNAL_CLOCKS : IO_JOURNAL_POWER_LIMIT;
    e->power_limit_w = power_limit_w;
    e->simulated = di.simulated;
    snprintf(e->uuid, sizeof e->uuid, "%s", di.uuid[0] ? di.uuid : di.bus_id);
    snprintf(e->device, sizeof e->device, "%s", di.device);
    return 0;
}

void cli_journal_begin(const char *cmd, joules_monitor *m, int dom, double power_limit_w)
{
    char dir[4096], err[512];
    io_journal_entry e;
    if (journal_entry(m, dom, power_limit_w, &e) != 0)
        return;
    if (io_journal_dir(dir, sizeof dir, 1, err, sizeof err) != 0 ||
        io_journal_write(dir, &e, err, sizeof err) != 0)
        fprintf(stderr,
                "joules %s: warning: no restore journal (%s): if joules is killed before it "
                "restores the GPU, nothing will say so\n",
                cmd, err);
}

void cli_journal_end(joules_monitor *m, int dom, double power_limit_w)
{
    char dir[4096], err[512];
    io_journal_entry e;
    if (journal_entry(m, dom, power_limit_w, &e) == 0 &&
        io_journal_dir(dir, sizeof dir, 0, err, sizeof err) == 0 && io_journal_path(dir, &e) == 0)
        (void)unlink(e.path);
}

void cli_journal_notice(void)
{
    char dir[4096], err[512];
    static io_journal_entry e[IO_JOURNAL_MAX];
    if (io_journal_dir(dir, sizeof dir, 0, err, sizeof err) != 0)
        return;
    int n = io_journal_list(dir, e, IO_JOURNAL_MAX), stale = 0, all_sim = 1;
    for (int i = 0; i < n; i++) {
        if (io_journal_pid_alive(e[i].pid))
            continue;
        stale++;
        all_sim &= e[i].simulated;
        if (e[i].what == IO_JOURNAL_CLOCKS)
            fprintf(stderr,
                    "joules: joules (pid %ld, no longer running) locked the clocks of %s (%s)",
                    e[i].pid, e[i].uuid, e[i].device);
        else
            fprintf(
                stderr,
                "joules: joules (pid %ld, no longer running) changed the power limit of %s (%s) "
                "from %.0f W",
                e[i].pid, e[i].uuid, e[i].device, e[i].power_limit_w);
        /* The simulated GPU is one machine that every process shares: the setting outlives
         * the process that made it, unless that process ran a private machine. */
        fprintf(stderr, " and did not restore it%s\n",
                e[i].simulated ? " (a simulated GPU: the shared simulated machine keeps the "
                                 "setting until it is restored or reset; only a private one, "
                                 "JOULES_SIM_MACHINE=private, ended with that process)"
                               : "");
    }
    if (stale)
        fprintf(stderr, "joules: to restore %s: joules restore%s (journal: %s)\n",
                stale == 1 ? "it" : "them", all_sim ? " --sim" : "", dir);
}
