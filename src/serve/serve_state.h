/* SPDX-License-Identifier: MIT */
/*
 * serve_state.h - what the exporter knows: the devices (fixed at start, their label sets
 * formatted once) and the latest sampling round, which the sampler's callback writes under
 * a lock and a scrape copies under the same lock. A scrape therefore never waits on NVML or
 * sysfs: it formats a copy of what the sampler last read.
 *
 * The energy counters exported never go down within the exporter's life: the library
 * extends wraps, and a reading below the previous one (a driver reset, a reopened device)
 * moves a per-domain offset so that the exported counter resumes where it stood.
 */
#ifndef JOULES_SERVE_STATE_H
#define JOULES_SERVE_STATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "joules.h"

#define SERVE_LABELS_MAX 1024

/* A domain as the exporter labels it; fixed once the state is made. */
struct serve_domain {
    joules_domain_info info;
    int gpu_index;                 /* among the GPUs, -1 for RAPL domains */
    char labels[SERVE_LABELS_MAX]; /* `domain="gpu0",kind="gpu",...` without braces */
    size_t labels_len;
    char info_extra[SERVE_LABELS_MAX]; /* extra labels of the device info metric */
};

/* The live part of a domain, as of the latest round. */
struct serve_live {
    int have;                 /* a round has been taken */
    int up;                   /* the latest read succeeded */
    int error;                /* its JOULES_E_* code when not up */
    joules_power_sample last; /* the latest sample (the latest valid one's gauges when up) */
    double energy_j;          /* exported energy: never decreasing */
    double offset_j;          /* added to the library's reading to keep energy_j monotone */
    double raw_j;             /* the library's latest valid reading */
    int have_raw;
    uint64_t resets;      /* readings below the previous one, absorbed in offset_j */
    uint64_t read_errors; /* samples whose read failed */
};

/* What one scrape formats: a copy of the live state. */
struct serve_snapshot {
    int n;
    struct serve_live d[JOULES_MAX_DOMAINS];
    uint64_t rounds;         /* rounds seen by the callback */
    int64_t last_round_ns;   /* CLOCK_MONOTONIC of the latest round's reads, 0 if none */
    uint64_t scrapes;        /* scrapes answered before this one */
    double last_scrape_s;    /* time the previous scrape took to format, -1 if none */
    joules_sampler_stats st; /* the sampler's own counts (missed deadlines) */
    int have_st;
};

struct serve_state {
    int n;
    struct serve_domain d[JOULES_MAX_DOMAINS];
    int simulated;       /* any domain is simulated */
    int64_t interval_ns; /* the sampling interval */
    char hostname[256];

    pthread_mutex_t lock; /* guards live */
    struct serve_snapshot live;
};

/*
 * Describe the monitor's domains: labels compatible with dcgm-exporter's where they overlap
 * (gpu, UUID, pci_bus_id, device, hostname; its modelName as model_name, in Prometheus's
 * snake_case), `domain` and `kind` for every domain, `hpc_job` when hpc_job is not NULL or
 * empty, `simulated="1"` on simulated devices. dcgm_labels nonzero adds dcgm-exporter's
 * exact `modelName` beside `model_name`. hostname NULL: gethostname(). 0 or a JOULES_E_*
 * code with a message in err.
 */
int serve_state_init(struct serve_state *s, joules_monitor *m, int64_t interval_ns,
                     const char *hostname, const char *hpc_job, int dcgm_labels, char *err,
                     size_t errlen);
void serve_state_destroy(struct serve_state *s);

/* One sampling round (the sampler's callback). */
void serve_state_update(struct serve_state *s, const joules_power_sample *samples, int n);
/* Copy the live state for a scrape. */
void serve_state_snapshot(struct serve_state *s, struct serve_snapshot *out);
/* A scrape took duration_s to format. */
void serve_state_scraped(struct serve_state *s, double duration_s);

/* Escape a label value (backslash, double quote, newline) into out; truncated, always
 * terminated. Returns the length written. */
size_t serve_escape_label(char *out, size_t len, const char *value);

#endif
