/* SPDX-License-Identifier: MIT */
/*
 * window_deferred.c - windows ended now and collected later. A slow counter (NVIDIA: every
 * 100 ms) leaves the end edge of a window extrapolated with a lagging power sensor until it
 * steps again; settle_end waits for that step, which a loop of short windows cannot afford.
 * A deferred end reads the edge and returns at once; the window waits on the pending list,
 * where the tracker thread anchors its end edges on the steps that follow them, and the
 * caller collects the result when it wants it: by then it is usually as good as a settled
 * one, at no cost in time. Lock order as in window.c: the window list, then a domain.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static int find_ticket(const joules_monitor *m, uint64_t ticket)
{
    for (int i = 0; i < m->n_pending; i++)
        if (m->pending[i]->ticket == ticket)
            return i;
    return -1;
}

/* The failure for a ticket not pending; seen_before as read under win_lock. */
static int no_ticket(joules_monitor *m, uint64_t ticket, int seen_before)
{
    return joules__fail(m, JOULES_E_STATE,
                        seen_before ? "deferred window %llu is not pending: it was collected "
                                      "already (or ended on another monitor)"
                                    : "no deferred window has ticket %llu",
                        (unsigned long long)ticket);
}

int joules_window_end_deferred(joules_monitor *m, const char *name, uint64_t *ticket)
{
    if (!m || !ticket)
        return m ? joules__fail(m, JOULES_E_INVALID, "joules_window_end_deferred: ticket is NULL")
                 : JOULES_E_INVALID;
    /* A slot is reserved first, so that threads ending windows at once stay within the
     * limit; it is given back if the end fails. */
    pthread_mutex_lock(&m->win_lock);
    int full = m->n_pending + m->n_reserved >= JOULES_PENDING_MAX;
    m->n_reserved += !full;
    pthread_mutex_unlock(&m->win_lock);
    if (full)
        return joules__fail(m, JOULES_E_STATE,
                            "%d deferred windows wait to be collected: collect them "
                            "(joules_window_collect) before ending more",
                            JOULES_PENDING_MAX);
    int rc;
    struct joules__window *w = joules__window_take(m, name, &rc);
    if (w) {
        w->end_ns = joules__now_ns();
        for (int i = 0; i < m->n_domains; i++)
            joules__track_edge(&m->domains[i], &w->end[i]);
    }
    pthread_mutex_lock(&m->win_lock);
    m->n_reserved--;
    if (w && joules__window_push(&m->pending, &m->n_pending, &m->cap_pending, w) != 0) {
        pthread_mutex_unlock(&m->win_lock);
        free(w);
        return joules__fail(m, JOULES_E_NOMEM, "out of memory for deferred window '%s'", name);
    }
    if (w)
        *ticket = w->ticket = ++m->last_ticket;
    pthread_mutex_unlock(&m->win_lock);
    return w ? 0 : rc;
}

static int anchored(const joules_monitor *m, const struct joules__window *w)
{
    for (int i = 0; i < m->n_domains; i++)
        if (!joules__track_edge_anchored(&m->domains[i], &w->end[i]))
            return 0;
    return 1;
}

int joules_window_ready(joules_monitor *m, uint64_t ticket)
{
    if (!m)
        return JOULES_E_INVALID;
    pthread_mutex_lock(&m->win_lock);
    int i = find_ticket(m, ticket);
    int ready = i >= 0 && anchored(m, m->pending[i]);
    int seen = ticket && ticket <= m->last_ticket;
    pthread_mutex_unlock(&m->win_lock);
    return i >= 0 ? ready : no_ticket(m, ticket, seen);
}

int joules_window_collect(joules_monitor *m, uint64_t ticket, int64_t max_wait_ns,
                          joules_measurement *out)
{
    if (!m)
        return JOULES_E_INVALID;
    int rc = joules__result_check(m, out, "joules_window_collect");
    if (rc)
        return rc;
    pthread_mutex_lock(&m->win_lock);
    int i = find_ticket(m, ticket);
    int seen = ticket && ticket <= m->last_ticket;
    struct joules__window *w = NULL;
    if (i >= 0) {
        w = m->pending[i];
        m->pending[i] = m->pending[--m->n_pending];
    }
    pthread_mutex_unlock(&m->win_lock);
    if (!w)
        return no_ticket(m, ticket, seen);
    /* Off the list, the window is ours alone: the tracker no longer refines it. */
    for (int d = 0; d < m->n_domains; d++) {
        struct joules__domain *dom = &m->domains[d];
        struct joules__edge *e1 = &w->end[d];
        /* Anchored by the tracker, with the begin re-estimated in the same round: both
         * edges are on one clock of the counter, the figure a settled end gives. */
        if (e1->counter_final)
            continue;
        /* Otherwise as joules_window_end would do now: the step may already be in the
         * history (read by another call since the tracker's last round), or be waited for.
         * An edge of a fast counter (RAPL) stays as read. */
        if (!joules__track_edge_anchored(dom, e1)) {
            if (max_wait_ns != 0)
                joules__track_settle(dom, e1, NULL, max_wait_ns < 0 ? INT64_MAX : max_wait_ns);
            joules__track_refine(dom, e1, 0);
        }
        joules__track_refine(dom, &w->edges[d], 1);
    }
    joules__window_measure(m, w, w->end, w->end_ns, 0, out);
    free(w);
    return 0;
}

void joules__pending_refine(joules_monitor *m)
{
    for (int w = 0; w < m->n_pending; w++) {
        struct joules__window *p = m->pending[w];
        for (int i = 0; i < m->n_domains; i++) {
            struct joules__edge *e = &p->end[i];
            if (joules__track_edge_anchored(&m->domains[i], e))
                continue;
            joules__track_refine(&m->domains[i], e, 0);
            /* The steps around both edges may leave the history before the window is
             * collected: the begin edge is re-estimated now, on the same clock as the end. */
            if (e->counter_final)
                joules__track_refine(&m->domains[i], &p->edges[i], 1);
        }
    }
}

void joules__pending_free(joules_monitor *m)
{
    for (int i = 0; i < m->n_pending; i++)
        free(m->pending[i]);
    free(m->pending);
    m->pending = NULL;
    m->n_pending = m->cap_pending = 0;
}
