/* SPDX-License-Identifier: MIT */
/*
 * cli_restore.h - putting back what a command changed on a GPU (locked clocks, a power
 * limit), tried again when it fails: a setter refused once (a busy driver, a transient NVML
 * error) is usually accepted a moment later. When every try fails, the command says so with
 * the exact command that restores the board by hand, and exits non-zero. A journal written
 * before each change lets `joules restore` finish the job even after a SIGKILL.
 */
#ifndef JOULES_CLI_RESTORE_H
#define JOULES_CLI_RESTORE_H

#include <stddef.h>

#include "joules.h"

#define CLI_RESTORE_TRIES 5 /* 4 waits: 25, 50, 100, 200 ms, under 0.4 s in all */

/* fn(ctx) until it returns 0, at most CLI_RESTORE_TRIES times, waiting longer each time.
 * Returns fn's last result (0: restored); *tries (may be NULL) the calls made. */
int cli_restore_retry(int (*fn)(void *ctx), void *ctx, int *tries);

/* Reset the locked clocks of the GPU domain dom (power_limit_w < 0), or set its power limit
 * back to power_limit_w, with retries. 1 restored; 0 not, after the message
 * "joules CMD: could NOT ...; restore it with: nvidia-smi -i UUID ..." on stderr. */
int cli_restore_gpu(const char *cmd, joules_monitor *m, int dom, double power_limit_w);

/* Before joules changes the GPU domain dom: the restore journal (io/journal.h) of the clocks
 * (power_limit_w < 0) or of the power limit to go back to. One that cannot be written is
 * said on stderr, and the change goes ahead. */
void cli_journal_begin(const char *cmd, joules_monitor *m, int dom, double power_limit_w);
/* The change is undone (or was never made): its journal removed. */
void cli_journal_end(joules_monitor *m, int dom, double power_limit_w);
/* At start: a journal left by a process that is gone is said on stderr, with the command. */
void cli_journal_notice(void);

/* The nvidia-smi command that restores it by hand, for GPU uuid (bus id or index when
 * empty). */
void cli_restore_command(char *buf, size_t len, const char *gpu, double power_limit_w);

#endif
