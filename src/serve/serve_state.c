/* SPDX-License-Identifier: MIT */
/*
 * serve_state.c - the exporter's devices and their latest readings (serve_state.h).
 */
#include "serve/serve_state.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

size_t serve_escape_label(char *out, size_t len, const char *value)
{
    size_t k = 0;
    if (!len)
        return 0;
    for (const char *p = value; *p; p++) {
        const char *rep = NULL;
        char one[2] = {*p, '\0'};
        if (*p == '\\')
            rep = "\\\\";
        else if (*p == '"')
            rep = "\\\"";
        else if (*p == '\n')
            rep = "\\n";
        else
            rep = one;
        size_t r = strlen(rep);
        if (k + r >= len)
            break;
        memcpy(out + k, rep, r);
        k += r;
    }
    out[k] = '\0';
    return k;
}

/* Append `name="value"` (escaped) to a label list; returns 0, or -1 when it does not fit. */
static int add_label(char *buf, size_t len, size_t *used, const char *name, const char *value)
{
    char esc[512];
    serve_escape_label(esc, sizeof esc, value);
    int n = snprintf(buf + *used, len - *used, "%s%s=\"%s\"", *used ? "," : "", name, esc);
    if (n < 0 || (size_t)n >= len - *used)
        return -1;
    *used += (size_t)n;
    return 0;
}

/* The kind as a label value: the RAPL zone's short name for CPU domains. */
static const char *kind_label(joules_domain_kind kind)
{
    switch (kind) {
    case JOULES_KIND_GPU:
        return "gpu";
    case JOULES_KIND_CPU_PACKAGE:
        return "package";
    case JOULES_KIND_CPU_CORE:
        return "core";
    case JOULES_KIND_CPU_UNCORE:
        return "uncore";
    case JOULES_KIND_DRAM:
        return "dram";
    case JOULES_KIND_PSYS:
        return "psys";
    default:
        return "unknown";
    }
}

static int describe(struct serve_domain *d, const char *hostname, const char *hpc_job,
                    int dcgm_labels, joules_monitor *m, int index)
{
    const joules_domain_info *in = &d->info;
    char num[32];
    size_t u = 0;
    int rc = 0;
    rc |= add_label(d->labels, sizeof d->labels, &u, "domain", in->name);
    rc |= add_label(d->labels, sizeof d->labels, &u, "kind", kind_label(in->kind));
    if (in->kind == JOULES_KIND_GPU) {
        snprintf(num, sizeof num, "%d", d->gpu_index);
        rc |= add_label(d->labels, sizeof d->labels, &u, "gpu", num);
        rc |= add_label(d->labels, sizeof d->labels, &u, "UUID", in->uuid);
        rc |= add_label(d->labels, sizeof d->labels, &u, "pci_bus_id", in->bus_id);
        snprintf(num, sizeof num, "nvidia%d", d->gpu_index);
        rc |= add_label(d->labels, sizeof d->labels, &u, "device", num);
        rc |= add_label(d->labels, sizeof d->labels, &u, "model_name", in->device);
        /* dcgm-exporter's own spelling, for dashboards written for it; camelCase, which
         * promtool's style lint rejects, hence only on request. */
        if (dcgm_labels)
            rc |= add_label(d->labels, sizeof d->labels, &u, "modelName", in->device);
    } else {
        rc |= add_label(d->labels, sizeof d->labels, &u, "zone", in->device);
    }
    rc |= add_label(d->labels, sizeof d->labels, &u, "hostname", hostname);
    if (hpc_job && *hpc_job)
        rc |= add_label(d->labels, sizeof d->labels, &u, "hpc_job", hpc_job);
    if (in->simulated)
        rc |= add_label(d->labels, sizeof d->labels, &u, "simulated", "1");
    d->labels_len = u;

    /* The info metric adds how the energy is obtained and, for GPUs, the driver. */
    size_t x = 0;
    rc |= add_label(d->info_extra, sizeof d->info_extra, &x, "method",
                    joules_method_name(in->method));
    if (in->kind == JOULES_KIND_GPU) {
        joules_gpu_status st;
        if (joules_gpu_status_get(m, index, &st) == 0) {
            rc |= add_label(d->info_extra, sizeof d->info_extra, &x, "driver_version",
                            st.driver_version);
            rc |=
                add_label(d->info_extra, sizeof d->info_extra, &x, "architecture", st.architecture);
        }
    }
    return rc ? -1 : 0;
}

int serve_state_init(struct serve_state *s, joules_monitor *m, int64_t interval_ns,
                     const char *hostname, const char *hpc_job, int dcgm_labels, char *err,
                     size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->interval_ns = interval_ns;
    if (hostname && *hostname) {
        snprintf(s->hostname, sizeof s->hostname, "%s", hostname);
    } else if (gethostname(s->hostname, sizeof s->hostname - 1) != 0) {
        snprintf(s->hostname, sizeof s->hostname, "unknown");
    }
    int n = joules_domain_count(m);
    if (n <= 0) {
        snprintf(err, errlen, "no domain to export: no GPU and no CPU energy sensor");
        return JOULES_E_NO_DOMAIN;
    }
    if (n > JOULES_MAX_DOMAINS)
        n = JOULES_MAX_DOMAINS;
    int gpus = 0;
    for (int i = 0; i < n; i++) {
        struct serve_domain *d = &s->d[i];
        int rc = joules_domain_info_get(m, i, &d->info);
        if (rc != 0) {
            snprintf(err, errlen, "domain %d: %s", i, joules_last_error(m));
            return rc;
        }
        d->gpu_index = d->info.kind == JOULES_KIND_GPU ? gpus++ : -1;
        if (describe(d, s->hostname, hpc_job, dcgm_labels, m, i) != 0) {
            snprintf(err, errlen, "domain %s: its labels exceed %d bytes", d->info.name,
                     SERVE_LABELS_MAX);
            return JOULES_E_RANGE;
        }
        s->simulated |= d->info.simulated;
    }
    s->n = n;
    s->live.n = n;
    s->live.last_scrape_s = -1.0;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        snprintf(err, errlen, "pthread_mutex_init failed");
        return JOULES_E_SYSTEM;
    }
    return 0;
}

void serve_state_destroy(struct serve_state *s)
{
    pthread_mutex_destroy(&s->lock);
}

/* Fold one sample into its domain (lock held). */
static void fold(struct serve_live *l, const joules_power_sample *p)
{
    l->have = 1;
    l->up = p->valid;
    l->error = p->valid ? 0 : p->error;
    if (!p->valid) {
        /* Keep the last good gauges out of the metrics (up = 0 says why) and the energy
         * where it stood. */
        l->read_errors++;
        l->last.valid = 0;
        l->last.error = p->error;
        return;
    }
    if (l->have_raw && p->energy_j < l->raw_j) {
        /* The reading went back: the exported counter resumes from where it stood. */
        l->offset_j += l->raw_j - p->energy_j;
        l->resets++;
    }
    l->raw_j = p->energy_j;
    l->have_raw = 1;
    double e = p->energy_j + l->offset_j;
    if (e > l->energy_j)
        l->energy_j = e;
    l->last = *p;
}

void serve_state_update(struct serve_state *s, const joules_power_sample *samples, int n)
{
    pthread_mutex_lock(&s->lock);
    int64_t latest = 0;
    for (int i = 0; i < n; i++) {
        int d = samples[i].domain;
        if (d < 0 || d >= s->n)
            continue;
        fold(&s->live.d[d], &samples[i]);
        if (samples[i].t_ns > latest)
            latest = samples[i].t_ns;
    }
    s->live.rounds++;
    if (latest > s->live.last_round_ns)
        s->live.last_round_ns = latest;
    pthread_mutex_unlock(&s->lock);
}

void serve_state_snapshot(struct serve_state *s, struct serve_snapshot *out)
{
    pthread_mutex_lock(&s->lock);
    size_t head = offsetof(struct serve_snapshot, d);
    memcpy(out, &s->live, head);
    memcpy(out->d, s->live.d, (size_t)s->live.n * sizeof out->d[0]);
    size_t tail = offsetof(struct serve_snapshot, rounds);
    memcpy((char *)out + tail, (const char *)&s->live + tail, sizeof *out - tail);
    pthread_mutex_unlock(&s->lock);
}

void serve_state_scraped(struct serve_state *s, double duration_s)
{
    pthread_mutex_lock(&s->lock);
    s->live.scrapes++;
    s->live.last_scrape_s = duration_s;
    pthread_mutex_unlock(&s->lock);
}
