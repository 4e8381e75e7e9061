/* SPDX-License-Identifier: MIT */
/*
 * core.h - what the files of src/core share among themselves: the monitor, the tracking of
 * counters and power per domain, window edges, and the tracker thread.
 */
#ifndef JOULES_CORE_CORE_H
#define JOULES_CORE_CORE_H

#include "core/internal.h"

/* An edge interpolated inside a counter interval: the interval and what bounds its power, so
 * that a window whose two edges share an interval, or sit in two adjacent ones, is bounded as
 * one whole (window.c). */
struct joules__span {
    uint64_t seq;           /* the interval's first step (the next interval's is seq + 1); 0:
                             * the edge was not interpolated */
    double span_s;          /* how long the interval lasted */
    double energy_j;        /* the counter's energy over the interval */
    double lo_w, hi_w;      /* the range the power may have spanned in it */
    double least_j, most_j; /* what that range allows of the energy before the edge */
    double timing_j;        /* the edge's error from the steps' times */
    /* The interval rose above the one before (work may have begun at the edge): how far
     * below the estimate the share before the edge may then be; and it fell below it (work
     * may have stopped at the edge): how far above. A window begun as its work begins and
     * ended as it stops has both, and both make it read low. */
    double starts_j, stops_j;
    /* The interval's rate is unlike the one before it, by more than the steps' times allow:
     * the load changed inside it (work began there, or the work before it stopped). */
    int changed;
    /* The last interval held (a settled end: nothing after it yet): how far above the truth
     * the share before the edge may be if work stopped at the edge, its mean hiding the stop. */
    double hides_stop_j;
};

/* What is known of one domain's energy at one instant (a window edge). */
struct joules__edge {
    int64_t t_ns;
    int error; /* 0, or the read failure at this edge */
    char message[JOULES_MESSAGE_MAX];
    int have_counter;
    double counter_j;     /* counter-based estimate of the cumulative energy at t_ns */
    double counter_err_j; /* its uncertainty */
    int counter_final;    /* 1 once anchored on a counter step at or after t_ns */
    /* The error of the energy recovered across counter resets, summed up to the step before
     * t_ns and up to the one after it (the latest when none follows): a window adds what its
     * edges' intervals hold between them. */
    double reset_err_before_j, reset_err_after_j;
    struct joules__span span;
    int have_integ;
    double integ_j; /* power-integrated cumulative energy at t_ns */
    double integ_err_j;
    double power_w; /* power at t_ns, -1 if unknown */
    /* What happened after these instants has not been published yet by the counter (a step)
     * or by the power sensor; a window that began after them began "in the dark". */
    int64_t counter_seen_ns;
    int64_t integ_seen_ns;
    double dark_w;     /* how far the power may be from power_w, for all we know */
    double lag_s;      /* how late the power sensor shows a change: its window plus a period */
    int recent_change; /* the power readings moved within two lags before t_ns */
};

struct joules__window {
    char name[JOULES_NAME_MAX];
    int64_t begin_ns;
    double begin_unix_s;
    /* A window ended with joules_window_end_deferred waits to be collected: */
    uint64_t ticket;             /* 0 while open */
    int64_t end_ns;              /* when it was ended */
    struct joules__edge *end;    /* edges + n_domains: the end edges (a deferred end's are
                                  * refined as steps come) */
    struct joules__edge edges[]; /* begin edges (n_domains), then room for the end ones */
};

struct joules_monitor {
    joules_options opts;
    char nvml_library[4096];
    char sysfs_root[4096];

    int n_domains;
    struct joules__domain domains[JOULES_MAX_DOMAINS];
    struct joules__backend_slot backends[JOULES_BACKEND_COUNT];

    pthread_mutex_t win_lock; /* guards the window list */
    struct joules__window **windows;
    int n_windows;
    int cap_windows;
    struct joules__window **pending; /* ended deferred, not collected yet (also win_lock) */
    int n_pending;
    int cap_pending;
    int n_reserved; /* slots held by ends in progress */
    uint64_t last_ticket;

    pthread_mutex_t tracker_lock; /* guards stop, with tracker_cond */
    pthread_cond_t tracker_cond;
    pthread_t tracker;
    int tracker_running;
    int tracker_stop;
};

/* Per-domain tracking (track.h lists its files); call with d->lock NOT held: these take it. */
int joules__track_init(struct joules__domain *d);
void joules__track_free(struct joules__domain *d);
/* Read the domain now and fold the reading into its history (the tracker's poll). */
int joules__track_poll(struct joules__domain *d, char *msg, size_t len);
/* Read now and estimate the energy at this instant (a window edge). */
void joules__track_edge(struct joules__domain *d, struct joules__edge *e);
/* What to do while waiting for a counter step: nothing (sleep) or keep the load running, so
 * that the interval holding the edge sees the same load on both sides of it. */
struct joules__settle_hook {
    int (*busy)(void *user); /* returns 0, else the wait ends */
    void *user;
};
/* Wait (polling) until the counter steps after the edge, at most max_wait_ns, then
 * re-estimate it. */
void joules__track_settle(struct joules__domain *d, struct joules__edge *e,
                          const struct joules__settle_hook *hook, int64_t max_wait_ns);
/* Re-estimate a past edge from what the history holds now (counter step after it). */
void joules__track_refine(struct joules__domain *d, struct joules__edge *e, int again);
/* 1 for a counter that updates faster than the tracker polls (RAPL, ~1 ms): current at every
 * read, each read a step. */
int joules__track_fast(const struct joules__domain *d);
/* 1 when nothing still to come can improve edge e: a counter step follows it, its counter
 * is current at every read (RAPL), or it has no counter (no lock taken: e is the caller's). */
int joules__track_edge_anchored(const struct joules__domain *d, const struct joules__edge *e);
/* 1 if the counter has been seen advancing, 0 if not yet, -1 if it is judged frozen. */
int joules__track_counter_state(struct joules__domain *d);
/* Cumulative energy and power of the last reading (joules_read). */
int joules__track_reading(struct joules__domain *d, joules_reading *r);

/* tracker_thread.c: the thread that polls the domains and refines open windows. */
int joules__tracker_start(joules_monitor *m);
void joules__tracker_stop(joules_monitor *m);

/* window.c: 0 when out can hold a result of every domain of m, else the error, said. */
int joules__result_check(const joules_monitor *m, const joules_measurement *out, const char *fn);
/* window.c: end a window, settling its end edge or not, whatever the monitor's option. */
int joules__window_end(joules_monitor *m, const char *name, joules_measurement *out, int settle,
                       const struct joules__settle_hook *hook);
/* window.c: append w to a growable list (win_lock held); -1 when out of memory. */
int joules__window_push(struct joules__window ***list, int *n, int *cap, struct joules__window *w);
/* window.c: the checks and synchronisation before an end, then the open window taken off the
 * list (NULL, with the error in *rc, when that fails). */
struct joules__window *joules__window_take(joules_monitor *m, const char *name, int *rc);
/* window.c: the measurement of window w from its end edges e1 (read at end_ns); kept_across:
 * the load ran on past the end (joules_window_end_busy). */
void joules__window_measure(joules_monitor *m, const struct joules__window *w,
                            const struct joules__edge *e1, int64_t end_ns, int kept_across,
                            joules_measurement *out);
/* window.c: refine begin edges of open windows (tracker thread), and pending ends. */
void joules__windows_refine(joules_monitor *m);
void joules__windows_free(joules_monitor *m);
/* window_deferred.c: anchor the end edges of pending windows (tracker thread, win_lock held). */
void joules__pending_refine(joules_monitor *m);
void joules__pending_free(joules_monitor *m); /* win_lock held */

#endif
