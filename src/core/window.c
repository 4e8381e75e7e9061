/* SPDX-License-Identifier: MIT */
/*
 * window.c - named measurement windows. A window records, for every domain, what is known
 * of its energy at the begin edge; the end edge does the same and the difference is the
 * window's energy, from the best method the domain offers, with its uncertainty. Windows
 * nest and overlap freely: each only remembers its own edges. Lock order is always the
 * window list first, then a domain, never the reverse.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

#define SETTLE_FLOOR_NS     10000000LL /* a settled end may always wait this long */
#define INTEGRATION_REL_ERR 0.05       /* sensor averaging and lag, on integrated power */

static int check_name(const joules_monitor *m, const char *name)
{
    if (!name || !*name)
        return joules__fail(m, JOULES_E_INVALID, "a window needs a non-empty name");
    if (strlen(name) >= JOULES_NAME_MAX)
        return joules__fail(m, JOULES_E_INVALID, "window name longer than %d bytes: %.40s...",
                            JOULES_NAME_MAX - 1, name);
    return 0;
}

static int find(const joules_monitor *m, const char *name)
{
    for (int i = 0; i < m->n_windows; i++)
        if (strcmp(m->windows[i]->name, name) == 0)
            return i;
    return -1;
}

static int run_sync(joules_monitor *m, const char *edge, const char *name)
{
    if (!m->opts.sync)
        return 0;
    int rc = m->opts.sync(m->opts.sync_user);
    if (rc != 0)
        return joules__fail(m, JOULES_E_SYNC,
                            "the synchronisation callback returned %d at the %s of window '%s'", rc,
                            edge, name);
    return 0;
}

static double unix_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int joules__window_push(struct joules__window ***list, int *n, int *cap, struct joules__window *w)
{
    if (*n == *cap) {
        int grown_cap = *cap ? 2 * *cap : 8;
        /* An array of pointers: its element is the pointer. */
        struct joules__window **grown =
            realloc(*list, (size_t)grown_cap * sizeof *grown); // NOLINT(bugprone-sizeof-expression)
        if (!grown)
            return -1;
        *list = grown;
        *cap = grown_cap;
    }
    (*list)[(*n)++] = w;
    return 0;
}

int joules_window_begin(joules_monitor *m, const char *name)
{
    if (!m)
        return JOULES_E_INVALID;
    int rc = check_name(m, name);
    if (rc)
        return rc;
    pthread_mutex_lock(&m->win_lock);
    int exists = find(m, name) >= 0;
    pthread_mutex_unlock(&m->win_lock);
    if (exists)
        return joules__fail(m, JOULES_E_STATE, "window '%s' is already open", name);
    rc = run_sync(m, "begin", name);
    if (rc)
        return rc;

    /* Room for the end edges too, which a deferred end keeps until collected. */
    struct joules__window *w =
        calloc(1, sizeof *w + 2 * (size_t)m->n_domains * sizeof(struct joules__edge));
    if (!w)
        return joules__fail(m, JOULES_E_NOMEM, "out of memory for window '%s'", name);
    snprintf(w->name, sizeof w->name, "%s", name);
    w->end = w->edges + m->n_domains;
    w->begin_unix_s = unix_now_s();
    w->begin_ns = joules__now_ns();
    for (int i = 0; i < m->n_domains; i++)
        joules__track_edge(&m->domains[i], &w->edges[i]);

    pthread_mutex_lock(&m->win_lock);
    if (find(m, name) >= 0) {
        pthread_mutex_unlock(&m->win_lock);
        free(w);
        return joules__fail(m, JOULES_E_STATE, "window '%s' is already open", name);
    }
    if (joules__window_push(&m->windows, &m->n_windows, &m->cap_windows, w) != 0) {
        pthread_mutex_unlock(&m->win_lock);
        free(w);
        return joules__fail(m, JOULES_E_NOMEM, "out of memory for window '%s'", name);
    }
    pthread_mutex_unlock(&m->win_lock);
    return 0;
}

static struct joules__window *take(joules_monitor *m, const char *name)
{
    pthread_mutex_lock(&m->win_lock);
    int i = find(m, name);
    struct joules__window *w = NULL;
    if (i >= 0) {
        w = m->windows[i];
        m->windows[i] = m->windows[--m->n_windows];
    }
    pthread_mutex_unlock(&m->win_lock);
    return w;
}

int joules_window_cancel(joules_monitor *m, const char *name)
{
    if (!m)
        return JOULES_E_INVALID;
    int rc = check_name(m, name);
    if (rc)
        return rc;
    struct joules__window *w = take(m, name);
    if (!w)
        return joules__fail(m, JOULES_E_STATE, "no open window named '%s'", name);
    free(w);
    return 0;
}

/*
 * Two edges close together are not independent: one burst of load can put its energy inside
 * the window at both at once. Each edge's part of its interval is bounded by the range power
 * spanned there ([lo, hi]); for edges in one interval (energy E, length T) the part of w
 * seconds between them holds at least max(lo w, E - hi (T-w)) and at most min(hi w,
 * E - lo (T-w)); for edges in two adjacent intervals the bounds of the two parts add. The
 * shape error is the distance to the farther end: errors in quadrature fall short of a short
 * window around a whole burst. That range holds only as far as [lo, hi] does (a load aliased
 * with the counter's period can leave it), so the error is never less than in quadrature.
 */
static double close_edges_err(const struct joules__domain *d, const struct joules__edge *e0,
                              const struct joules__edge *e1, double e)
{
    double apart = hypot(e0->counter_err_j, e1->counter_err_j);
    const struct joules__span *s0 = &e0->span, *s1 = &e1->span;
    double least, most;
    if (!s0->seq || !s1->seq) {
        return apart;
    } else if (s0->seq == s1->seq) {
        double lo = fmin(s0->lo_w, s1->lo_w), hi = fmax(s0->hi_w, s1->hi_w);
        double span_s = s1->span_s;
        double w_s = fmin(fmax((double)(e1->t_ns - e0->t_ns) * 1e-9, 0.0), span_s);
        least = fmax(lo * w_s, s1->energy_j - hi * (span_s - w_s));
        most = fmin(hi * w_s, s1->energy_j - lo * (span_s - w_s));
    } else if (s1->seq == s0->seq + 1) {
        least = (s0->energy_j - s0->most_j) + s1->least_j;
        most = (s0->energy_j - s0->least_j) + s1->most_j;
    } else {
        return apart;
    }
    double shape = fmax(fmax(most - e, e - least), 0.0);
    double joint = hypot(shape, hypot(s0->timing_j, s1->timing_j)) + d->counter_unit_j;
    return fmax(joint, apart);
}

/*
 * A window begun as its work begins and ended as it stops (a rise in the begin edge's
 * interval, a fall in the end edge's): the begin edge's estimate may be above the truth and
 * the end edge's below it for one reason, the window's own work, and the two errors add
 * rather than in quadrature. A window begun where the load changed (its begin edge's interval
 * unlike the one before) may end as its work stops though the end edge's interval shows no
 * fall: with nothing after it yet, the interval's mean may hide the stop (hides_stop_j). Such work
 * puts each edge's error at the far end of its bound, and the steps' times move the edges further:
 * the timing term adds to the two rather than in quadrature. Edges in one interval or two adjacent
 * ones are bounded as one whole already (close_edges_err).
 */
static double work_edges_err(const struct joules__domain *d, const struct joules__edge *e0,
                             const struct joules__edge *e1)
{
    const struct joules__span *s0 = &e0->span, *s1 = &e1->span;
    if (!s0->seq || !s1->seq || s1->seq <= s0->seq + 1 || !e0->counter_final || !e1->counter_final)
        return 0.0;
    double stops = s0->changed ? fmax(s1->stops_j, s1->hides_stop_j) : s1->stops_j;
    if (!(s0->starts_j > 0.0 && stops > 0.0))
        return 0.0;
    double both = s0->starts_j + stops;
    return both + hypot(s0->timing_j, s1->timing_j) + d->counter_unit_j;
}

/* Energy between two edges of one domain, by the best method both edges support. */
static void domain_energy(const struct joules__domain *d, const struct joules__edge *e0,
                          const struct joules__edge *e1, int kept_across, joules_domain_energy *out)
{
    double e = 0.0, err = 0.0;
    if (e0->have_counter && e1->have_counter) {
        out->method = JOULES_METHOD_COUNTER;
        e = e1->counter_j - e0->counter_j;
        err = close_edges_err(d, e0, e1, e);
        err = fmax(err, work_edges_err(d, e0, e1));
        /* Energy recovered across a counter reset between the edges may be off by this. */
        err += fmax(e1->reset_err_after_j - e0->reset_err_before_j, 0.0);
        if (joules__track_fast(d) && !(e0->counter_final && e1->counter_final))
            joules__msg(out->message, sizeof out->message,
                        "energy counter, read at both edges (it updates every %.0f ms)",
                        (double)d->info.update_interval_ns * 1e-6);
        else
            joules__msg(
                out->message, sizeof out->message, "energy counter, %s",
                e0->counter_final && e1->counter_final ? "both edges anchored on counter steps"
                : e0->counter_final                    ? "end edge extrapolated with power"
                                    : "edges extrapolated with power (shorter than a step)");
    } else if (e0->have_integ && e1->have_integ) {
        out->method = JOULES_METHOD_INTEGRATED;
        e = e1->integ_j - e0->integ_j;
        err = hypot(e0->integ_err_j, e1->integ_err_j) + INTEGRATION_REL_ERR * fabs(e);
        joules__msg(out->message, sizeof out->message, "%s",
                    d->info.caps & JOULES_CAP_ENERGY_COUNTER
                        ? "power samples integrated (the energy counter did not advance)"
                        : "power samples integrated (no energy counter)");
    } else {
        out->method = JOULES_METHOD_NONE;
        out->valid = 0;
        out->error = JOULES_E_NOT_SUPPORTED;
        joules__msg(out->message, sizeof out->message, "%s",
                    "neither an energy counter nor a power sensor could be read");
        return;
    }
    /* A window begun after the last publication and ended before the next one was never
     * seen by the sensor: for all we know, the load in it could be anything. */
    double dur_s = (double)(e1->t_ns - e0->t_ns) * 1e-9;
    int64_t seen_ns =
        out->method == JOULES_METHOD_COUNTER ? e1->counter_seen_ns : e1->integ_seen_ns;
    int unseen_end = out->method == JOULES_METHOD_COUNTER ? !e1->counter_final : 1;
    if (unseen_end && e0->t_ns >= seen_ns)
        err += e1->dark_w * dur_s;
    /* After a change of load, the unpublished end of a window may hold another (the work
     * the window measures may stop at any time). */
    else if (out->method == JOULES_METHOD_COUNTER && unseen_end && e1->recent_change &&
             e1->t_ns > seen_ns)
        err += e1->dark_w * (double)(e1->t_ns - seen_ns) * 1e-9;
    /* Integrated power lags the load by the sensor's window and period: when the load moved
     * lately, a window as short as that lag may have its energy shifted out of it. Not when
     * the same load ran before the window and runs on after it (joules_window_end_busy): what
     * the lag moves out at the end, it moved in at the begin. */
    else if (out->method == JOULES_METHOD_INTEGRATED && e1->recent_change && !kept_across)
        err += e1->dark_w * fmin(dur_s, e1->lag_s);
    if (e < 0.0) {
        err += -e;
        e = 0.0;
    }
    out->energy_j = e;
    out->uncertainty_j = err + d->info.sensor_accuracy * e;
    out->valid = 1;
}

int joules_window_end(joules_monitor *m, const char *name, joules_measurement *out)
{
    return joules__window_end(m, name, out, m ? m->opts.settle_end : 0, NULL);
}

int joules_window_end_busy(joules_monitor *m, const char *name, joules_measurement *out,
                           joules_work_fn busy, void *user)
{
    struct joules__settle_hook hook = {busy, user};
    return joules__window_end(m, name, out, 1, busy ? &hook : NULL);
}

struct joules__window *joules__window_take(joules_monitor *m, const char *name, int *rc)
{
    *rc = check_name(m, name);
    if (*rc)
        return NULL;
    pthread_mutex_lock(&m->win_lock);
    int open = find(m, name) >= 0;
    pthread_mutex_unlock(&m->win_lock);
    if (!open) {
        *rc = joules__fail(m, JOULES_E_STATE, "no open window named '%s'", name);
        return NULL;
    }
    *rc = run_sync(m, "end", name);
    if (*rc)
        return NULL;
    struct joules__window *w = take(m, name);
    if (!w)
        *rc = joules__fail(m, JOULES_E_STATE, "window '%s' was ended by another thread", name);
    return w;
}

int joules_measurement_init(joules_measurement *r, joules_domain_energy *domains, int capacity)
{
    if (!r || capacity < 0 || (!domains && capacity > 0))
        return JOULES_E_INVALID;
    memset(r, 0, sizeof *r);
    r->domains = domains;
    r->capacity = capacity;
    return 0;
}

int joules_measurement_alloc(const joules_monitor *m, joules_measurement **out)
{
    if (!out)
        return m ? joules__fail(m, JOULES_E_INVALID, "joules_measurement_alloc: out is NULL")
                 : JOULES_E_INVALID;
    *out = NULL;
    if (!m)
        return JOULES_E_INVALID;
    /* One block, so that one free releases it: the domains follow the header, aligned. */
    size_t head = (sizeof(joules_measurement) + _Alignof(joules_domain_energy) - 1) /
                  _Alignof(joules_domain_energy) * _Alignof(joules_domain_energy);
    char *block = calloc(1, head + (size_t)m->n_domains * sizeof(joules_domain_energy));
    if (!block)
        return joules__fail(m, JOULES_E_NOMEM, "out of memory for a result of %d domains",
                            m->n_domains);
    joules_measurement *r = (joules_measurement *)(void *)block;
    joules_measurement_init(r, m->n_domains ? (joules_domain_energy *)(void *)(block + head) : NULL,
                            m->n_domains);
    *out = r;
    return 0;
}

void joules_measurement_free(joules_measurement *r)
{
    free(r);
}

int joules__result_check(const joules_monitor *m, const joules_measurement *out, const char *fn)
{
    if (!out)
        return joules__fail(m, JOULES_E_INVALID, "%s: out is NULL", fn);
    if (out->capacity < m->n_domains || (!out->domains && m->n_domains > 0))
        return joules__fail(
            m, JOULES_E_RANGE,
            "%s: the result has room for %d of the monitor's %d domains (size it with "
            "joules_measurement_alloc or joules_domain_count)",
            fn, out->domains ? out->capacity : 0, m->n_domains);
    return 0;
}

void joules__window_measure(joules_monitor *m, const struct joules__window *w,
                            const struct joules__edge *end, int64_t end_ns, int kept_across,
                            joules_measurement *out)
{
    joules_measurement_init(out, out->domains, out->capacity);
    snprintf(out->name, sizeof out->name, "%s", w->name);
    out->begin_ns = w->begin_ns;
    out->end_ns = end_ns;
    out->begin_unix_s = w->begin_unix_s;
    out->duration_s = (double)(end_ns - w->begin_ns) * 1e-9;
    out->n_domains = m->n_domains;

    double var_total = 0.0;
    for (int i = 0; i < m->n_domains; i++) {
        struct joules__domain *d = &m->domains[i];
        const struct joules__edge *e0 = &w->edges[i], *e1 = &end[i];
        joules_domain_energy *de = &out->domains[i];
        memset(de, 0, sizeof *de);
        de->domain = i;
        de->simulated = d->info.simulated;
        de->sim_truth_j = -1.0;
        out->simulated |= d->info.simulated;
        if (e0->error) {
            de->error = e0->error;
            joules__msg(de->message, sizeof de->message, "unreadable at the window's begin: %s",
                        e0->message);
            continue;
        }
        domain_energy(d, e0, e1, kept_across, de);
        double span_s = (double)(e1->t_ns - e0->t_ns) * 1e-9;
        if (span_s > 0)
            de->avg_power_w = de->energy_j / span_s;
        if (e1->error) {
            /* What was measured up to the last good reading is kept, and said. */
            de->valid = 0;
            de->error = e1->error;
            char why[JOULES_MESSAGE_MAX];
            snprintf(why, sizeof why, "%s", e1->message);
            joules__msg(de->message, sizeof de->message,
                        "%s; %.3f J measured up to %.3f s before the end", why, de->energy_j,
                        (double)(end_ns - e1->t_ns) * 1e-9);
        }
        if (d->info.simulated && d->ops->sim_truth) {
            double truth;
            if (d->ops->sim_truth(d, e0->t_ns, e1->t_ns, &truth) == 0)
                de->sim_truth_j = truth;
        }
        if (de->valid && d->info.counted_in_total) {
            out->total_energy_j += de->energy_j;
            var_total += de->uncertainty_j * de->uncertainty_j;
        }
    }
    out->total_uncertainty_j = sqrt(var_total);
}

int joules__window_end(joules_monitor *m, const char *name, joules_measurement *out, int settle,
                       const struct joules__settle_hook *hook)
{
    if (!m)
        return JOULES_E_INVALID;
    int rc = joules__result_check(m, out, "joules_window_end");
    if (rc)
        return rc;
    struct joules__window *w = joules__window_take(m, name, &rc);
    if (!w)
        return rc;

    int64_t end_ns = joules__now_ns();
    /* Waiting for a counter step costs up to one period (~100 ms). With the load kept
     * running (hook) that is free; a caller may cap it to a fraction of the window, never
     * below 10 ms, so that short windows are not stretched. */
    int64_t max_wait_ns = INT64_MAX;
    double frac = m->opts.settle_max_fraction;
    if (!hook && frac > 0) {
        double cap = frac * (double)(end_ns - w->begin_ns);
        max_wait_ns = cap > (double)SETTLE_FLOOR_NS ? (int64_t)cap : SETTLE_FLOOR_NS;
    }
    struct joules__edge *e1 = w->end;
    for (int i = 0; i < m->n_domains; i++) {
        struct joules__domain *d = &m->domains[i];
        joules__track_edge(d, &e1[i]);
        if (settle)
            joules__track_settle(d, &e1[i], hook, max_wait_ns);
        joules__track_refine(d, &w->edges[i], 1);
    }
    joules__window_measure(m, w, e1, end_ns, hook != NULL, out);
    free(w);
    return 0;
}

void joules__windows_refine(joules_monitor *m)
{
    pthread_mutex_lock(&m->win_lock);
    for (int w = 0; w < m->n_windows; w++)
        for (int i = 0; i < m->n_domains; i++)
            joules__track_refine(&m->domains[i], &m->windows[w]->edges[i], 0);
    joules__pending_refine(m);
    pthread_mutex_unlock(&m->win_lock);
}

void joules__windows_free(joules_monitor *m)
{
    pthread_mutex_lock(&m->win_lock);
    for (int i = 0; i < m->n_windows; i++)
        free(m->windows[i]);
    free(m->windows);
    m->windows = NULL;
    m->n_windows = m->cap_windows = 0;
    joules__pending_free(m);
    pthread_mutex_unlock(&m->win_lock);
}
