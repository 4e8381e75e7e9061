/* SPDX-License-Identifier: MIT */
/*
 * cli_signal.c - stopping the commands on the stop signals (see cli_signal.h): a flag
 * set by a handler that does nothing else (async-signal-safe), or signals blocked and taken
 * synchronously with sigtimedwait.
 */
#include "cli/cli_signal.h"

#include "io/atomic.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

volatile sig_atomic_t cli_stop_signal;
/* Stop signals taken so far: an output written into a pipe ends at the next one (io_atomic). */
static volatile sig_atomic_t stops_taken;

static void on_xfsz(int sig)
{
    (void)sig;
}

void cli_catch_xfsz(void)
{
    static const int sigs[] = {SIGXFSZ, SIGPIPE};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(sigs[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL)
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_xfsz;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

static void on_signal(int sig)
{
    cli_stop_signal = sig;
    stops_taken = stops_taken + 1;
}

static const int stop_signals[CLI_N_STOP] = CLI_STOP_SIGNALS;

void cli_stop_install(struct cli_stop *s)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    cli_stop_signal = 0;
    for (int i = 0; i < CLI_N_STOP; i++)
        sigaction(stop_signals[i], &sa, &s->old[i]);
    io_atomic_stop_on(&stops_taken, stop_signals, CLI_N_STOP);
}

void cli_stop_guard_stdout(void)
{
    io_stdout_guard(stop_signals, CLI_N_STOP);
}

void cli_stop_restore(const struct cli_stop *s)
{
    io_atomic_stop_on(NULL, NULL, 0);
    for (int i = 0; i < CLI_N_STOP; i++)
        sigaction(stop_signals[i], &s->old[i], NULL);
}

void cli_stop_block(sigset_t *set, sigset_t *orig)
{
    sigemptyset(set);
    for (int i = 0; i < CLI_N_STOP; i++)
        sigaddset(set, stop_signals[i]);
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
