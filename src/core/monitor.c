/* SPDX-License-Identifier: MIT */
/*
 * monitor.c - opening and closing a monitor, its domains and backends, and the calls that
 * go straight to one domain (readings, GPU status, clock and power-limit control).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define DEFAULT_TRACKER_PERIOD_NS 5000000ull

void joules_options_init(joules_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->struct_size = sizeof *opts;
}

int joules__add_domain(joules_monitor *m, const struct joules__domain *d)
{
    if (m->n_domains >= JOULES_MAX_DOMAINS)
        return joules__fail(m, JOULES_E_RANGE, "more than %d domains", JOULES_MAX_DOMAINS);
    int idx = m->n_domains;
    struct joules__domain *slot = &m->domains[idx];
    *slot = *d;
    slot->track = NULL;
    if (pthread_mutex_init(&slot->lock, NULL) != 0)
        return joules__fail(m, JOULES_E_SYSTEM, "cannot create a mutex");
    int rc = joules__track_init(slot);
    if (rc) {
        pthread_mutex_destroy(&slot->lock);
        return joules__fail(m, rc, "out of memory for domain %s", d->info.name);
    }
    m->n_domains++;
    return idx;
}

void joules__backend_set(joules_monitor *m, joules_backend_id id, int code, void *state,
                         joules__backend_close_fn close, const char *fmt, ...)
{
    struct joules__backend_slot *b = &m->backends[id];
    b->code = code;
    b->state = state;
    b->close = close;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->message, sizeof b->message, fmt, ap);
    va_end(ap);
}

static void open_fail(char *errbuf, size_t errlen, const char *text)
{
    joules__msg(errbuf, errlen, "%s", text);
}

int joules_open(joules_monitor **out, const joules_options *opts, char *errbuf, size_t errlen)
{
    if (!out) {
        open_fail(errbuf, errlen, "joules_open: out is NULL");
        return JOULES_E_INVALID;
    }
    *out = NULL;
    joules_options o;
    joules_options_init(&o);
    if (opts) {
        if (opts->struct_size < sizeof(uint32_t) || opts->struct_size > sizeof o) {
            open_fail(errbuf, errlen,
                      "joules_open: options not initialised with joules_options_init()");
            return JOULES_E_INVALID;
        }
        memcpy(&o, opts, opts->struct_size);
        o.struct_size = sizeof o;
    }
    if (o.kinds & ~JOULES_KINDS_ALL) {
        open_fail(errbuf, errlen, "joules_open: unknown domain kind bits");
        return JOULES_E_INVALID;
    }
    if (!(o.settle_max_fraction >= 0.0 && o.settle_max_fraction <= 1.0)) {
        open_fail(errbuf, errlen, "joules_open: settle_max_fraction must be within 0..1");
        return JOULES_E_INVALID;
    }
    if (!o.kinds)
        o.kinds = JOULES_KINDS_ALL;
    if (!o.tracker_period_ns)
        o.tracker_period_ns = DEFAULT_TRACKER_PERIOD_NS;
    if (o.tracker_period_ns < 100000ull || o.tracker_period_ns > 10000000000ull) {
        open_fail(errbuf, errlen, "joules_open: tracker_period_ns must be between 0.1 ms and 10 s");
        return JOULES_E_INVALID;
    }

    joules_monitor *m = calloc(1, sizeof *m);
    if (!m) {
        open_fail(errbuf, errlen, "joules_open: out of memory");
        return JOULES_E_NOMEM;
    }
    snprintf(m->nvml_library, sizeof m->nvml_library, "%s",
             o.nvml_library ? o.nvml_library : "libnvidia-ml.so.1");
    snprintf(m->sysfs_root, sizeof m->sysfs_root, "%s", o.sysfs_root ? o.sysfs_root : "/sys");
    o.nvml_library = m->nvml_library;
    o.sysfs_root = m->sysfs_root;
    m->opts = o;
    pthread_mutex_init(&m->win_lock, NULL);
    pthread_mutex_init(&m->tracker_lock, NULL);
    pthread_cond_init(&m->tracker_cond, NULL);
    for (int i = 0; i < JOULES_BACKEND_COUNT; i++)
        joules__backend_set(m, (joules_backend_id)i, JOULES_E_NOT_FOUND, NULL, NULL,
                            "not requested");

    int rc = 0;
    if (o.kinds & JOULES_KIND_GPU)
        rc = joules__nvml_open(m, &o);
    if (rc == 0 && (o.kinds & JOULES_KINDS_CPU))
        rc = joules__rapl_open(m, &o);
    if (rc == 0)
        rc = joules__tracker_start(m);
    if (rc != 0) {
        open_fail(errbuf, errlen, joules_last_error(m));
        joules_close(m);
        return rc;
    }
    *out = m;
    return 0;
}

void joules_close(joules_monitor *m)
{
    if (!m)
        return;
    joules__tracker_stop(m);
    joules__windows_free(m);
    for (int i = 0; i < m->n_domains; i++) {
        joules__track_free(&m->domains[i]);
        pthread_mutex_destroy(&m->domains[i].lock);
    }
    /* Backends last: domains point into their state. */
    for (int i = 0; i < JOULES_BACKEND_COUNT; i++)
        if (m->backends[i].close)
            m->backends[i].close(m->backends[i].state);
    pthread_cond_destroy(&m->tracker_cond);
    pthread_mutex_destroy(&m->tracker_lock);
    pthread_mutex_destroy(&m->win_lock);
    free(m);
}

int joules_backend_status(const joules_monitor *m, joules_backend_id backend, int *code,
                          char *message, size_t len)
{
    if (!m || (int)backend < 0 || backend >= JOULES_BACKEND_COUNT)
        return JOULES_E_INVALID;
    const struct joules__backend_slot *b = &m->backends[backend];
    if (code)
        *code = b->code;
    joules__msg(message, len, "%s", b->message);
    return 0;
}

int joules_domain_count(const joules_monitor *m)
{
    return m ? m->n_domains : JOULES_E_INVALID;
}

static struct joules__domain *domain(const joules_monitor *m, int index)
{
    if (!m || index < 0 || index >= m->n_domains)
        return NULL;
    return (struct joules__domain *)&m->domains[index];
}

int joules_domain_info_get(const joules_monitor *m, int index, joules_domain_info *out)
{
    struct joules__domain *d = domain(m, index);
    if (!d || !out)
        return joules__fail(m, JOULES_E_INVALID, "no domain %d (the monitor has %d)", index,
                            m ? m->n_domains : 0);
    *out = d->info;
    /* A counter judged frozen after open changes the method windows use. */
    if (out->method == JOULES_METHOD_COUNTER && joules__track_counter_state(d) < 0)
        out->method = JOULES_METHOD_INTEGRATED;
    return 0;
}

static struct joules__domain *gpu_domain(joules_monitor *m, int index, const char *what)
{
    struct joules__domain *d = domain(m, index);
    if (!d) {
        joules__fail(m, JOULES_E_INVALID, "%s: no domain %d", what, index);
        return NULL;
    }
    if (d->info.kind != JOULES_KIND_GPU) {
        joules__fail(m, JOULES_E_NOT_SUPPORTED, "%s: %s is not a GPU", what, d->info.name);
        return NULL;
    }
    return d;
}

int joules_gpu_status_get(joules_monitor *m, int index, joules_gpu_status *out)
{
    struct joules__domain *d = gpu_domain(m, index, "GPU status");
    if (!d || !out)
        return d ? joules__fail(m, JOULES_E_INVALID, "GPU status: out is NULL") : JOULES_E_INVALID;
    char msg[JOULES_MESSAGE_MAX] = "";
    pthread_mutex_lock(&d->lock);
    int rc = d->ops->gpu_status(d, out, msg, sizeof msg);
    pthread_mutex_unlock(&d->lock);
    return rc ? joules__fail(m, rc, "%s: %s", d->info.name, msg) : 0;
}

int joules_read(joules_monitor *m, joules_reading *out, int n)
{
    if (!m || !out || n < 0)
        return joules__fail(m, JOULES_E_INVALID, "joules_read: bad arguments");
    int count = n < m->n_domains ? n : m->n_domains;
    for (int i = 0; i < count; i++) {
        out[i].domain = i;
        joules__track_reading(&m->domains[i], &out[i]);
    }
    return count;
}

int joules_gpu_lock_clocks(joules_monitor *m, int index, unsigned min_mhz, unsigned max_mhz)
{
    struct joules__domain *d = gpu_domain(m, index, "lock clocks");
    if (!d)
        return JOULES_E_INVALID;
    if (min_mhz > max_mhz)
        return joules__fail(m, JOULES_E_INVALID, "lock clocks: min %u MHz above max %u MHz",
                            min_mhz, max_mhz);
    char msg[JOULES_MESSAGE_MAX] = "";
    int rc = d->ops->lock_clocks(d, min_mhz, max_mhz, msg, sizeof msg);
    return rc ? joules__fail(m, rc, "%s: %s", d->info.name, msg) : 0;
}

int joules_gpu_reset_clocks(joules_monitor *m, int index)
{
    struct joules__domain *d = gpu_domain(m, index, "reset clocks");
    if (!d)
        return JOULES_E_INVALID;
    char msg[JOULES_MESSAGE_MAX] = "";
    int rc = d->ops->reset_clocks(d, msg, sizeof msg);
    return rc ? joules__fail(m, rc, "%s: %s", d->info.name, msg) : 0;
}

int joules_gpu_set_power_limit(joules_monitor *m, int index, double limit_w)
{
    struct joules__domain *d = gpu_domain(m, index, "set power limit");
    if (!d)
        return JOULES_E_INVALID;
    if (!(limit_w > 0.0 && limit_w < 1e6))
        return joules__fail(m, JOULES_E_INVALID, "power limit %g W is not a positive power",
                            limit_w);
    char msg[JOULES_MESSAGE_MAX] = "";
    int rc = d->ops->set_power_limit(d, limit_w, msg, sizeof msg);
    return rc ? joules__fail(m, rc, "%s: %s", d->info.name, msg) : 0;
}
