/* SPDX-License-Identifier: MIT */
/*
 * cli_signal.h - how the commands stop on a terminating signal that can be caught: SIGINT,
 * SIGTERM, SIGHUP (the terminal closed), SIGQUIT and SIGPIPE (a reader of the output gone).
 * Each restores what joules changed and finishes or removes its outputs. Two ways, one per
 * kind of command:
 *  - a flag (ab, sweep, repeat): the handler only records the signal; the work checks the
 *    flag between runs, restores what it changed and reports what was measured;
 *  - a blocked set (watch, idle): the signals are blocked before the library starts its
 *    threads (they inherit the mask), and the main thread takes them with sigtimedwait
 *    while it waits, so no handler runs at all.
 */
#ifndef JOULES_CLI_SIGNAL_H
#define JOULES_CLI_SIGNAL_H

#include <signal.h>
#include <stdint.h>

/* The signal that asked to stop (0: none); set by the handler cli_stop_install puts in. */
extern volatile sig_atomic_t cli_stop_signal;

/* The signals that stop a command, in the order of cli_stop.old. */
#define CLI_STOP_SIGNALS                                                                           \
    {                                                                                              \
        SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE                                                  \
    }
#define CLI_N_STOP 5

struct cli_stop {
    struct sigaction old[CLI_N_STOP];
};

/* Clear cli_stop_signal and make the stop signals set it (SIGPIPE too: a write to a closed
 * pipe then fails with EPIPE and the command stops at its next check); cli_stop_restore puts
 * the previous actions back. */
void cli_stop_install(struct cli_stop *s);
void cli_stop_restore(const struct cli_stop *s);
/* Standard output into a pipe that a stop signal can end while joules waits to write it (its
 * reader stopped reading), so the command finishes instead of blocking (io_stdout_guard). */
void cli_stop_guard_stdout(void);

/*
 * A file size limit (ulimit -f) kills a process that writes past it with SIGXFSZ, before any
 * message and with its temporary files left behind. joules catches it with a handler that
 * does nothing, so the write fails with EFBIG, the output is dropped whole and the reason
 * said. A caught signal goes back to its default action in a command joules executes, so the
 * commands see what joules was started with (an ignored SIGXFSZ is left ignored). SIGPIPE
 * gets the same: a report printed into a pipe whose reader is gone fails with EPIPE instead
 * of killing joules before it restores the GPU and removes its temporary files. Called first
 * thing in main.
 */
void cli_catch_xfsz(void);

/* Block the stop signals in the calling thread (and the threads it starts): set receives
 * them, orig the mask to restore with cli_stop_unblock. Only for commands that execute no
 * other program: a blocked mask is inherited across exec. */
void cli_stop_block(sigset_t *set, sigset_t *orig);
void cli_stop_unblock(const sigset_t *orig);
/* Wait duration_ns or until a signal of set arrives: the signal, or 0 at the end of the
 * time (an early wake-up waits the rest). */
int cli_stop_wait(const sigset_t *set, int64_t duration_ns);

#endif
