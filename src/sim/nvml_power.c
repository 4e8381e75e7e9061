/* SPDX-License-Identifier: MIT */
/*
 * nvml_power.c - power, energy, field values, power limits and clocks of the simulated GPUs,
 * as NVML reports them: readings come from the model's sensors (model.c), never from the
 * true power, so a client sees the 100 ms update, the 25 ms window of A100/H100 and the 1-s
 * average. Setters need privilege (JOULES_SIM_PRIVILEGED, or root when it is unset).
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "sim/nvml_exports.h"
#include "sim/sim.h"

static unsigned mw(double w)
{
    return w <= 0 ? 0u : (unsigned)lround(w * 1000.0);
}

static double avg_power(const struct sim_dev *d)
{
    double s = 0;
    for (int i = 0; i < SIM_AVG_TICKS; i++)
        s += d->avg_ring[i];
    return s / SIM_AVG_TICKS;
}

/* ---- energy and power ----------------------------------------------------------------- */

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device,
                                                             unsigned long long *energy)
{
    DEV_ENTER(device);
    if (!energy)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (d->no_energy)
        rc = NVML_ERROR_NOT_SUPPORTED;
    else
        *energy = d->counter_mj;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power)
{
    DEV_ENTER(device);
    if (!power)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *power = mw(d->p.usage_is_avg ? avg_power(d) : d->inst_w);
    DEV_RETURN();
}

static void field(const struct sim_dev *d, nvmlFieldValue_t *v, long long now_us)
{
    unsigned scope = v->scopeId;
    v->timestamp = now_us;
    v->latencyUsec = 0;
    v->nvmlReturn = NVML_SUCCESS;
    v->valueType = NVML_VALUE_TYPE_UNSIGNED_INT;
    memset(&v->value, 0, sizeof v->value);
    int power_field =
        v->fieldId >= NVML_FI_DEV_POWER_AVERAGE && v->fieldId <= NVML_FI_DEV_POWER_REQUESTED_LIMIT;
    /* Fields 185-192 first appeared in R535 (NVML 12.2); older drivers do not know them. */
    if (power_field && d->old_driver) {
        v->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        return;
    }
    if (power_field && scope != NVML_POWER_SCOPE_GPU &&
        !(scope == NVML_POWER_SCOPE_MEMORY && d->p.memory_scope &&
          (v->fieldId == NVML_FI_DEV_POWER_AVERAGE || v->fieldId == NVML_FI_DEV_POWER_INSTANT))) {
        v->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        return;
    }
    switch (v->fieldId) {
    case NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION:
    case NVML_FI_DEV_ENERGY:
        if (d->no_energy) {
            v->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
            return;
        }
        v->valueType = NVML_VALUE_TYPE_UNSIGNED_LONG_LONG;
        v->value.ullVal = d->counter_mj;
        return;
    case NVML_FI_DEV_POWER_AVERAGE:
        if (!d->p.avg_supported) {
            v->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
            return;
        }
        /* Memory scope (Hopper): the memory part of the model, not windowed. */
        v->value.uiVal = mw(scope == NVML_POWER_SCOPE_MEMORY ? d->pw.mem : avg_power(d));
        return;
    case NVML_FI_DEV_POWER_INSTANT:
        v->value.uiVal = mw(scope == NVML_POWER_SCOPE_MEMORY ? d->pw.mem : d->inst_w);
        return;
    case NVML_FI_DEV_POWER_MIN_LIMIT:
        v->value.uiVal = mw(d->p.limit_min_w);
        return;
    case NVML_FI_DEV_POWER_MAX_LIMIT:
        v->value.uiVal = mw(d->p.limit_max_w);
        return;
    case NVML_FI_DEV_POWER_DEFAULT_LIMIT:
        v->value.uiVal = mw(d->p.tdp_w);
        return;
    case NVML_FI_DEV_POWER_CURRENT_LIMIT:
    case NVML_FI_DEV_POWER_REQUESTED_LIMIT:
        v->value.uiVal = mw(d->limit_w);
        return;
    default:
        if (!sim_field_status(d, v)) /* memory temperature, T.Limit (nvml_status.c) */
            v->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        return;
    }
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int count,
                                                  nvmlFieldValue_t *values)
{
    struct sim_dev *d;
    nvmlReturn_t rc = sim_enter_dev(device, &d);
    if (rc == NVML_ERROR_UNINITIALIZED || rc == NVML_ERROR_INVALID_ARGUMENT)
        return rc;
    if (rc != NVML_SUCCESS) { /* lost or injected: every entry carries the error too */
        if (values && count > 0)
            for (int i = 0; i < count; i++)
                values[i].nvmlReturn = (unsigned)rc;
        return rc;
    }
    if (!values || count < 0) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
        DEV_RETURN();
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long now_us = (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
    for (int i = 0; i < count; i++)
        field(d, &values[i], now_us);
    DEV_RETURN();
}

/* ---- power limits --------------------------------------------------------------------- */

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device, unsigned int *limit)
{
    DEV_ENTER(device);
    if (!limit)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *limit = mw(d->limit_w);
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int *limit)
{
    return nvmlDeviceGetPowerManagementLimit(device, limit);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t device,
                                                                      unsigned int *min_limit,
                                                                      unsigned int *max_limit)
{
    DEV_ENTER(device);
    if (!min_limit || !max_limit) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        *min_limit = mw(d->p.limit_min_w);
        *max_limit = mw(d->p.limit_max_w);
    }
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t device,
                                                                  unsigned int *limit)
{
    DEV_ENTER(device);
    if (!limit)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *limit = mw(d->p.tdp_w);
    DEV_RETURN();
}

static nvmlReturn_t set_limit(struct sim_dev *d, unsigned int limit_mw)
{
    if (!sim_l.privileged)
        return NVML_ERROR_NO_PERMISSION;
    if (limit_mw < mw(d->p.limit_min_w) || limit_mw > mw(d->p.limit_max_w))
        return NVML_ERROR_INVALID_ARGUMENT;
    d->limit_w = limit_mw / 1000.0;
    d->n_set_limit++;
    return NVML_SUCCESS;
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceSetPowerManagementLimit(nvmlDevice_t device, unsigned int limit)
{
    DEV_ENTER(device);
    rc = set_limit(d, limit);
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceSetPowerManagementLimit_v2(nvmlDevice_t device,
                                                              nvmlPowerValue_v2_t *value)
{
    DEV_ENTER(device);
    if (!value)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (value->version != nvmlPowerValue_v2)
        rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    else if (value->powerScope != NVML_POWER_SCOPE_GPU)
        rc = NVML_ERROR_NOT_SUPPORTED;
    else
        rc = set_limit(d, value->powerValueMw);
    DEV_RETURN();
}

/* ---- clocks --------------------------------------------------------------------------- */

static nvmlReturn_t clock_of(const struct sim_dev *d, unsigned type, int max, unsigned *out)
{
    const struct sim_profile *p = &d->p;
    switch (type) {
    case NVML_CLOCK_GRAPHICS:
    case NVML_CLOCK_SM:
        *out = max ? p->clk_max : (unsigned)d->clk;
        return NVML_SUCCESS;
    case NVML_CLOCK_MEM:
        *out = max ? p->mem_clocks[0] : d->mem_clk;
        return NVML_SUCCESS;
    case NVML_CLOCK_VIDEO:
        *out = max ? p->video_max : (unsigned)lround(d->clk * p->video_max / p->clk_max);
        return NVML_SUCCESS;
    default:
        return NVML_ERROR_INVALID_ARGUMENT;
    }
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, unsigned int type,
                                                unsigned int *clock)
{
    DEV_ENTER(device);
    rc = clock ? clock_of(d, type, 0, clock) : NVML_ERROR_INVALID_ARGUMENT;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, unsigned int type,
                                                   unsigned int *clock)
{
    DEV_ENTER(device);
    rc = clock ? clock_of(d, type, 1, clock) : NVML_ERROR_INVALID_ARGUMENT;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetClock(nvmlDevice_t device, unsigned int type, unsigned int id,
                                            unsigned int *clock)
{
    DEV_ENTER(device);
    if (!clock || type > NVML_CLOCK_VIDEO) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else if (id == NVML_CLOCK_ID_CURRENT) {
        rc = clock_of(d, type, 0, clock);
    } else if (id == NVML_CLOCK_ID_CUSTOMER_BOOST_MAX) {
        rc = clock_of(d, type, 1, clock);
    } else if (id == NVML_CLOCK_ID_APP_CLOCK_TARGET || id == NVML_CLOCK_ID_APP_CLOCK_DEFAULT) {
        int target = id == NVML_CLOCK_ID_APP_CLOCK_TARGET;
        if (type == NVML_CLOCK_MEM)
            *clock = target && d->app_mem_mhz ? d->app_mem_mhz : d->p.mem_clocks[0];
        else if (type == NVML_CLOCK_VIDEO)
            *clock = d->p.video_max;
        else
            *clock = target && d->app_gfx_mhz ? d->app_gfx_mhz : d->p.clk_app_default;
    } else {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    }
    DEV_RETURN();
}

static nvmlReturn_t list_out(const unsigned *list, unsigned n, unsigned int *count,
                             unsigned int *clocks)
{
    if (!count)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (*count < n) {
        *count = n;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    if (!clocks)
        return NVML_ERROR_INVALID_ARGUMENT;
    memcpy(clocks, list, n * sizeof *list);
    *count = n;
    return NVML_SUCCESS;
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetSupportedMemoryClocks(nvmlDevice_t device,
                                                            unsigned int *count,
                                                            unsigned int *clocks)
{
    DEV_ENTER(device);
    rc = list_out(d->p.mem_clocks, (unsigned)d->p.n_mem_clocks, count, clocks);
    DEV_RETURN();
}

/*
 * Graphics clocks per memory clock: the full list with the two highest memory clocks; the
 * low GDDR6 levels of the A6000 allow only low graphics clocks (<= 2/3 of max at the third
 * level, <= 420 MHz at the lowest; the exact lists are not public, see docs/physics.md).
 */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetSupportedGraphicsClocks(nvmlDevice_t device,
                                                              unsigned int mem_clock,
                                                              unsigned int *count,
                                                              unsigned int *clocks)
{
    DEV_ENTER(device);
    int m;
    for (m = 0; m < d->p.n_mem_clocks; m++)
        if (d->p.mem_clocks[m] == mem_clock)
            break;
    if (m == d->p.n_mem_clocks) {
        rc = count ? NVML_ERROR_NOT_FOUND : NVML_ERROR_INVALID_ARGUMENT;
        DEV_RETURN();
    }
    unsigned limit = m < 2 ? d->p.clk_max : m == 2 ? d->p.clk_max * 2 / 3 : 420;
    int first = 0;
    while (first < d->n_clocks - 1 && d->clocks[first] > limit)
        first++;
    rc = list_out(d->clocks + first, (unsigned)(d->n_clocks - first), count, clocks);
    DEV_RETURN();
}

static unsigned snap(const struct sim_dev *d, unsigned f)
{
    const struct sim_profile *p = &d->p;
    if (f <= p->clk_min)
        return p->clk_min;
    if (f >= p->clk_max)
        return p->clk_max;
    return p->clk_min + (f - p->clk_min) / p->clk_step * p->clk_step;
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceSetGpuLockedClocks(nvmlDevice_t device, unsigned int min_mhz,
                                                      unsigned int max_mhz)
{
    DEV_ENTER(device);
    int sym_lo = min_mhz == NVML_CLOCK_LIMIT_ID_TDP || min_mhz == NVML_CLOCK_LIMIT_ID_UNLIMITED;
    int sym_hi = max_mhz == NVML_CLOCK_LIMIT_ID_TDP || max_mhz == NVML_CLOCK_LIMIT_ID_UNLIMITED;
    if (!sim_l.privileged) {
        rc = NVML_ERROR_NO_PERMISSION;
    } else if (sym_lo != sym_hi) {
        rc = NVML_ERROR_INVALID_ARGUMENT; /* numeric and symbolic values do not mix */
    } else if (sym_lo) {
        /* TDP: the base (default application) clock; UNLIMITED: the ends of the range. */
        unsigned lo = min_mhz == NVML_CLOCK_LIMIT_ID_TDP ? d->p.clk_app_default : d->p.clk_min;
        unsigned hi = max_mhz == NVML_CLOCK_LIMIT_ID_TDP ? d->p.clk_app_default : d->p.clk_max;
        if (lo > hi)
            rc = NVML_ERROR_INVALID_ARGUMENT;
        else
            d->lock_min = lo, d->lock_max = hi;
    } else if (min_mhz > max_mhz) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        d->lock_min = snap(d, min_mhz);
        d->lock_max = snap(d, max_mhz);
    }
    d->n_set_locked += rc == NVML_SUCCESS;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceResetGpuLockedClocks(nvmlDevice_t device)
{
    DEV_ENTER(device);
    if (!sim_l.privileged)
        rc = NVML_ERROR_NO_PERMISSION;
    else
        d->lock_min = d->lock_max = 0;
    d->n_reset_locked += rc == NVML_SUCCESS;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device,
                                                                unsigned long long *reasons)
{
    DEV_ENTER(device);
    if (!reasons)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *reasons = d->reasons;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device,
                                                                   unsigned long long *reasons)
{
    return nvmlDeviceGetCurrentClocksEventReasons(device, reasons);
}
