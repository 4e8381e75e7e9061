/* SPDX-License-Identifier: MIT */
/*
 * clock.c - the core's one source of time. CLOCK_MONOTONIC, unless a benchmark of the edge
 * estimator puts the core on the simulated GPU's virtual clock, so that thousands of windows
 * are measured in seconds, each at a phase it chooses, with the same code as in real time.
 */
#include <time.h>

#include "core/core.h"
#include "util/util.h"

static int64_t (*clock_fn)(void);
static void (*sleep_fn)(int64_t t_ns);

int64_t joules__now_ns(void)
{
    if (clock_fn)
        return clock_fn();
    return util_now_ns();
}

void joules__set_clock(int64_t (*now_ns)(void))
{
    clock_fn = now_ns;
}

int joules__clock_is_virtual(void)
{
    return clock_fn != NULL;
}

void joules__set_sleep(void (*sleep_until)(int64_t t_ns))
{
    sleep_fn = sleep_until;
}

int joules__sleep_until(int64_t t_ns)
{
    if (clock_fn) {
        if (!sleep_fn)
            return -1;
        sleep_fn(t_ns);
        return 0;
    }
    struct timespec ts = {(time_t)(t_ns / 1000000000LL), (long)(t_ns % 1000000000LL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
        ;
    return 0;
}
