/* SPDX-License-Identifier: MIT */
/* cli_restore.c - restoring a GPU's clocks or power limit, with retries (cli_restore.h). */
#include "cli/cli_restore.h"

#include <stdio.h>
#include <time.h>

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
