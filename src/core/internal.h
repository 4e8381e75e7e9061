/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what the core shares with the backends (never installed).
 *
 * A backend adds domains to the monitor at open. Each domain gives a table of operations
 * (struct joules__domain_ops): read(), which returns its raw counter and/or power now, is the
 * one every domain has; GPUs add their status, clock and power-limit setters and live state,
 * and simulated GPUs the simulator's true energy. Everything else happens in the core, under
 * the domain's lock: extending counters past their wrap (the only place wraps are handled,
 * atomic with the read), following counter steps on the tracker thread, estimating the
 * energy at a window edge between two counter steps, and integrating power where no counter
 * exists.
 */
#ifndef JOULES_CORE_INTERNAL_H
#define JOULES_CORE_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>

#include "joules.h"

struct joules__domain;

/* One raw reading from a backend. */
struct joules__sample {
    int64_t t_ns; /* CLOCK_MONOTONIC when read */
    /* When the counter read returned (0: at t_ns). A read that takes time latches the value
     * somewhere in [t_ns, this]: a step it shows happened before this, not before t_ns. */
    int64_t counter_done_ns;
    int have_counter;
    uint64_t counter_raw; /* raw counter value, in counter units (see counter_unit_j) */
    int have_power;
    double power_w;
};

/* The live state of a GPU that the sampler reads each round: the values that change, without
 * the static description gpu_status also fetches. Values not reported are -1. */
struct joules__gpu_live {
    double power_avg_w;   /* 1-s averaged power */
    double power_limit_w; /* enforced limit */
    int clock_sm_mhz;
    int clock_mem_mhz;
    int temperature_c;
    int pstate;
    int utilization_gpu_pct;
    uint64_t clock_event_reasons;
};

struct joules__domain_ops {
    /* Read the counter and/or power. Return 0 or JOULES_E_*, message in msg. */
    int (*read)(struct joules__domain *d, struct joules__sample *s, char *msg, size_t len);
    /* GPU extras; NULL for other domains. */
    int (*gpu_status)(struct joules__domain *d, joules_gpu_status *out, char *msg, size_t len);
    int (*lock_clocks)(struct joules__domain *d, unsigned min_mhz, unsigned max_mhz, char *msg,
                       size_t len);
    int (*reset_clocks)(struct joules__domain *d, char *msg, size_t len);
    int (*set_power_limit)(struct joules__domain *d, double limit_w, char *msg, size_t len);
    /* Live GPU state for the sampler (called with d->lock held); NULL: use gpu_status. */
    int (*gpu_live)(struct joules__domain *d, struct joules__gpu_live *out, char *msg, size_t len);
    /* Simulated devices: the simulator's true energy between two monotonic times. */
    int (*sim_truth)(struct joules__domain *d, int64_t t0_ns, int64_t t1_ns, double *energy_j);
};

/* Tracking state of a domain: counter steps and power history (src/core/track.h). */
struct joules__track;

struct joules__domain {
    joules_domain_info info;
    const struct joules__domain_ops *ops;
    void *backend; /* backend's per-domain state */

    /* Counter description, set by the backend. */
    double counter_unit_j;  /* J per raw unit: 1e-3 for NVML mJ, 1e-6 for RAPL uJ */
    uint64_t counter_range; /* raw value at which the counter wraps to 0; 0: never */
    int64_t poll_ns;        /* tracker period for this domain; 0: not tracked */
    double power_window_s;  /* averaging window of the power reading (0: instant) */
    double power_max_w;     /* most the domain can draw (power limit), 0: unknown */

    pthread_mutex_t lock;        /* guards track and serialises read() */
    struct joules__track *track; /* allocated by the core */
    int64_t next_poll_ns;        /* tracker thread only */
    unsigned poll_seq;           /* for the phase spread of the polls (tracker_thread.c) */
};

/* Backend registration: open adds domains and sets its status; close frees its state. */
typedef void (*joules__backend_close_fn)(void *state);

struct joules__backend_slot {
    int code; /* 0 loaded, else JOULES_E_* */
    char message[JOULES_MESSAGE_MAX];
    void *state;
    joules__backend_close_fn close;
};

/* Add a domain (copied); returns its index or a negative code. */
int joules__add_domain(joules_monitor *m, const struct joules__domain *d);
void joules__backend_set(joules_monitor *m, joules_backend_id id, int code, void *state,
                         joules__backend_close_fn close, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Record the contextual message of a failure; returns code for tail calls. */
int joules__fail(const joules_monitor *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* CLOCK_MONOTONIC in ns, or the clock set by joules__set_clock. */
int64_t joules__now_ns(void);
/*
 * For benchmarks of the estimator in virtual time (the simulated GPU's): every instant the
 * core takes comes from now_ns. Monitors opened while it is set start no tracker thread;
 * their caller advances the clock and calls joules__drive. Windows, their settling (with a
 * busy hook that advances the clock), joules_repeat (with joules__set_sleep) and readings
 * run on it; the sampler does not. Set it before joules_open and clear it (NULL) after
 * joules_close.
 */
void joules__set_clock(int64_t (*now_ns)(void));
int joules__clock_is_virtual(void);
/* Sleep until t_ns on the core's clock: on a virtual clock, sleep_until (set with it by
 * joules__set_sleep) moves the clock there, driving the monitor on the way; -1 when the clock
 * is virtual and nothing moves it. */
void joules__set_sleep(void (*sleep_until)(int64_t t_ns));
int joules__sleep_until(int64_t t_ns);
/* One round of the tracker thread, for a monitor on a virtual clock: poll each domain whose
 * poll is due, then re-anchor the begin edges of open windows. */
void joules__drive(joules_monitor *m);

/* snprintf that never overflows and tolerates NULL buffers. */
void joules__msg(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Backends. */
int joules__nvml_open(joules_monitor *m, const joules_options *o);
int joules__rapl_open(joules_monitor *m, const joules_options *o);

#endif /* JOULES_CORE_INTERNAL_H */
