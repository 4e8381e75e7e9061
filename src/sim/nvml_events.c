/* SPDX-License-Identifier: MIT */
/*
 * nvml_events.c - NVML event sets, as health checks and dcgm use them: a process registers
 * devices and event types in a set of its own and waits on it. The events themselves are the
 * devices' (model.c): Xid errors a scenario injects (`fault xid at=T xid=N`, and Xid 79 when a
 * board drops off the bus) and P-state changes, seen by every process that registered them
 * after they were raised. ECC error events are supported but never raised: no ECC error is
 * simulated.
 */
#include <stdlib.h>
#include <time.h>

#include "sim/nvml_exports.h"
#include "sim/sim.h"

#define SET_MAGIC 0x4A534553u /* "JSES" */

struct sim_event_set {
    unsigned magic;
    struct {
        unsigned long long types; /* 0: not registered */
        long long seen;           /* number of the last event delivered */
    } reg[SIM_MAX_DEVICES];
};

static unsigned long long supported(const struct sim_dev *d)
{
    unsigned long long t = NVML_EVENT_TYPE_XID_CRITICAL_ERROR | NVML_EVENT_TYPE_PSTATE;
    if (sim_board_of(d)->ecc)
        t |= NVML_EVENT_TYPE_SINGLE_BIT_ECC_ERROR | NVML_EVENT_TYPE_DOUBLE_BIT_ECC_ERROR;
    return t;
}

static struct sim_event_set *set_of(nvmlEventSet_t s)
{
    struct sim_event_set *e = (struct sim_event_set *)(void *)s;
    return e && e->magic == SET_MAGIC ? e : NULL;
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetSupportedEventTypes(nvmlDevice_t device,
                                                          unsigned long long *types)
{
    DEV_ENTER(device);
    if (!types)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *types = supported(d);
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set)
{
    if (!sim_initialised())
        return NVML_ERROR_UNINITIALIZED;
    if (!set)
        return NVML_ERROR_INVALID_ARGUMENT;
    struct sim_event_set *e = calloc(1, sizeof *e);
    if (!e)
        return NVML_ERROR_MEMORY;
    e->magic = SET_MAGIC;
    *set = (nvmlEventSet_t)(void *)e;
    return NVML_SUCCESS;
}

JSIM_EXPORT nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set)
{
    struct sim_event_set *e = set_of(set);
    if (!sim_initialised())
        return NVML_ERROR_UNINITIALIZED;
    if (!e)
        return NVML_ERROR_INVALID_ARGUMENT;
    e->magic = 0;
    free(e);
    return NVML_SUCCESS;
}

/* Only events raised from now on are delivered, as on a real driver. */
JSIM_EXPORT nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t device, unsigned long long types,
                                                  nvmlEventSet_t set)
{
    DEV_ENTER(device);
    struct sim_event_set *e = set_of(set);
    if (!e || types == 0) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else if (types & ~supported(d)) {
        rc = NVML_ERROR_NOT_SUPPORTED;
    } else {
        if (!e->reg[d->index].types)
            e->reg[d->index].seen = d->event_seq;
        e->reg[d->index].types |= types;
    }
    DEV_RETURN();
}

/* The oldest undelivered event of the set (lock held): 1 found, 0 none. */
static int next_event(struct sim_event_set *e, nvmlEventData_t *out, int v2)
{
    for (int i = 0; i < sim_m->n_dev; i++) {
        struct sim_dev *d = &sim_m->dev[i];
        if (!e->reg[i].types)
            continue;
        long long first = d->event_seq - SIM_MAX_EVENTS + 1; /* older ones are overwritten */
        if (e->reg[i].seen + 1 < first)
            e->reg[i].seen = first - 1;
        while (e->reg[i].seen < d->event_seq) {
            const struct sim_event *ev = &d->events[++e->reg[i].seen % SIM_MAX_EVENTS];
            if (!(ev->type & e->reg[i].types))
                continue;
            out->device = (nvmlDevice_t)(void *)d;
            out->eventType = ev->type;
            out->eventData = ev->data;
            if (v2)
                out->gpuInstanceId = out->computeInstanceId = 0xFFFFFFFFu;
            return 1;
        }
    }
    return 0;
}

static nvmlReturn_t wait_event(nvmlEventSet_t set, nvmlEventData_t *data, unsigned timeout_ms,
                               int v2)
{
    struct sim_event_set *e = set_of(set);
    if (!sim_initialised())
        return NVML_ERROR_UNINITIALIZED;
    if (!e || !data)
        return NVML_ERROR_INVALID_ARGUMENT;
    long long deadline = sim_monotonic_ns() + (long long)timeout_ms * 1000000LL;
    for (;;) {
        nvmlReturn_t rc = sim_enter(); /* the model advances to now */
        if (rc != NVML_SUCCESS)
            return rc;
        int found = next_event(e, data, v2);
        sim_leave();
        if (found)
            return NVML_SUCCESS;
        if (sim_monotonic_ns() >= deadline)
            return NVML_ERROR_TIMEOUT;
        struct timespec ts = {0, 1000000}; /* a step of the model */
        nanosleep(&ts, NULL);
    }
}

JSIM_EXPORT nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t *data,
                                             unsigned int timeout_ms)
{
    return wait_event(set, data, timeout_ms, 1);
}

/* v1: the struct without the instance ids (24 bytes). */
JSIM_EXPORT nvmlReturn_t nvmlEventSetWait(nvmlEventSet_t set, nvmlEventData_t *data,
                                          unsigned int timeout_ms)
{
    return wait_event(set, data, timeout_ms, 0);
}
