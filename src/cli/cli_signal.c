/* SPDX-License-Identifier: MIT */
/*
 * cli_signal.c - stopping the commands on SIGINT/SIGTERM/SIGHUP (see cli_signal.h): a flag
 * set by a handler that does nothing else (async-signal-safe), or signals blocked and taken
 * synchronously with sigtimedwait.
 */
#include "cli/cli_signal.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

volatile sig_atomic_t cli_stop_signal;

static void on_xfsz(int sig)
{
    (void)sig;
}

void cli_catch_xfsz(void)
{
    struct sigaction old, sa;
    if (sigaction(SIGXFSZ, NULL, &old) != 0 || old.sa_handler != SIG_DFL)
        return;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_xfsz;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGXFSZ, &sa, NULL);
}

static void on_signal(int sig)
{
    cli_stop_signal = sig;
}

void cli_stop_install(struct cli_stop *s)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    cli_stop_signal = 0;
    sigaction(SIGINT, &sa, &s->old_int);
    sigaction(SIGTERM, &sa, &s->old_term);
}

void cli_stop_restore(const struct cli_stop *s)
{
    sigaction(SIGINT, &s->old_int, NULL);
    sigaction(SIGTERM, &s->old_term, NULL);
}

void cli_stop_block(sigset_t *set, sigset_t *orig)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, orig);
}

void cli_stop_unblock(const sigset_t *orig)
{
    pthread_sigmask(SIG_SETMASK, orig, NULL);
}

int cli_stop_wait(const sigset_t *set, int64_t duration_ns)
{
    struct timespec ts = {(time_t)(duration_ns / 1000000000LL), (long)(duration_ns % 1000000000LL)};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig > 0)
            return sig;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        int64_t done = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
        if (done >= duration_ns)
            return 0;
        int64_t left = duration_ns - done; /* woken early (EINTR): wait the rest */
        ts.tv_sec = (time_t)(left / 1000000000LL);
        ts.tv_nsec = (long)(left % 1000000000LL);
    }
}
