/* SPDX-License-Identifier: MIT */
/*
 * nvml_status.c - clocks, limits and cooling beyond the power model's own queries, as
 * nvidia-smi -q and dcgm-exporter read them: applications clocks (get, set, reset, default),
 * the maximum customer boost clock, the clock-event reasons a board supports and the time
 * spent under each limit (violation status), fans (A6000), and the field values of the
 * memory temperature (82) and the T.Limit thresholds (193-196, Hopper).
 */
#include <math.h>
#include <time.h>

#include "sim/nvml_exports.h"
#include "sim/sim.h"

/* ---- applications clocks -------------------------------------------------------------- */

static unsigned app_clock(const struct sim_dev *d, unsigned type, int dflt)
{
    if (type == NVML_CLOCK_MEM)
        return !dflt && d->app_mem_mhz ? d->app_mem_mhz : d->p.mem_clocks[0];
    return !dflt && d->app_gfx_mhz ? d->app_gfx_mhz : d->p.clk_app_default;
}

static nvmlReturn_t get_app(nvmlDevice_t device, unsigned type, unsigned *mhz, int dflt)
{
    DEV_ENTER(device);
    if (!mhz || type > NVML_CLOCK_VIDEO)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (type == NVML_CLOCK_VIDEO)
        *mhz = d->p.video_max;
    else
        *mhz = app_clock(d, type, dflt);
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetApplicationsClock(nvmlDevice_t device, unsigned int type,
                                                        unsigned int *mhz)
{
    return get_app(device, type, mhz, 0);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetDefaultApplicationsClock(nvmlDevice_t device,
                                                               unsigned int type, unsigned int *mhz)
{
    return get_app(device, type, mhz, 1);
}

/*
 * The pair must be one of the supported clocks (nvmlDeviceGetSupportedMemoryClocks and the
 * graphics clocks of that memory clock); needs privilege, as on a real board. The model's
 * governor boosts above them as a board with auto boost does: they are reported, not modelled.
 */
JSIM_EXPORT nvmlReturn_t nvmlDeviceSetApplicationsClocks(nvmlDevice_t device, unsigned int mem_mhz,
                                                         unsigned int gfx_mhz)
{
    DEV_ENTER(device);
    int m = 0;
    while (m < d->p.n_mem_clocks && d->p.mem_clocks[m] != mem_mhz)
        m++;
    unsigned limit = m < 2 ? d->p.clk_max : m == 2 ? d->p.clk_max * 2 / 3 : 420;
    int on_grid = gfx_mhz >= d->p.clk_min && gfx_mhz <= limit &&
                  (gfx_mhz - d->p.clk_min) % d->p.clk_step == 0;
    if (!sim_l.privileged)
        rc = NVML_ERROR_NO_PERMISSION;
    else if (m == d->p.n_mem_clocks || !on_grid)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        d->app_mem_mhz = mem_mhz, d->app_gfx_mhz = gfx_mhz;
    d->n_set_app += rc == NVML_SUCCESS;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceResetApplicationsClocks(nvmlDevice_t device)
{
    DEV_ENTER(device);
    if (!sim_l.privileged)
        rc = NVML_ERROR_NO_PERMISSION;
    else
        d->app_mem_mhz = d->app_gfx_mhz = 0;
    d->n_reset_app += rc == NVML_SUCCESS;
    DEV_RETURN();
}

/* "Max Customer Boost Clocks": the maximum graphics clock on A100/H100, N/A on the A6000. */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMaxCustomerBoostClock(nvmlDevice_t device, unsigned int type,
                                                            unsigned int *mhz)
{
    DEV_ENTER(device);
    unsigned boost = sim_board_of(d)->boost_max_mhz;
    if (!mhz || type > NVML_CLOCK_VIDEO)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (!boost || (type != NVML_CLOCK_GRAPHICS && type != NVML_CLOCK_SM))
        rc = NVML_ERROR_NOT_SUPPORTED;
    else
        *mhz = boost;
    DEV_RETURN();
}

/* ---- clock-event reasons and violations ----------------------------------------------- */

/* Every dump lists all nine reasons (Active / Not Active): all are supported. */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetSupportedClocksEventReasons(nvmlDevice_t device,
                                                                  unsigned long long *reasons)
{
    DEV_ENTER(device);
    (void)d;
    if (!reasons)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *reasons = NVML_CLOCKS_EVENT_REASON_ALL;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetSupportedClocksThrottleReasons(nvmlDevice_t device,
                                                                     unsigned long long *reasons)
{
    return nvmlDeviceGetSupportedClocksEventReasons(device, reasons);
}

/* Time (ns) the clock was held below its target by the power cap or by temperature. */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetViolationStatus(nvmlDevice_t device, unsigned int policy,
                                                      nvmlViolationTime_t *v)
{
    DEV_ENTER(device);
    if (!v) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else if (policy > NVML_PERF_POLICY_TOTAL_BASE_CLOCKS ||
               (policy > NVML_PERF_POLICY_RELIABILITY &&
                policy < NVML_PERF_POLICY_TOTAL_APP_CLOCKS)) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long long steps = policy == NVML_PERF_POLICY_POWER     ? d->viol_power_steps
                          : policy == NVML_PERF_POLICY_THERMAL ? d->viol_thermal_steps
                                                               : 0;
        v->referenceTime =
            (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000;
        v->violationTime = (unsigned long long)steps * (unsigned long long)SIM_DT_NS;
    }
    DEV_RETURN();
}

/* ---- fans (the A6000's blower) -------------------------------------------------------- */

static unsigned fan_percent(const struct sim_dev *d)
{
    double s = 30 + (d->temp_c - 50) * 2; /* as nvmlDeviceGetFanSpeed */
    return (unsigned)(s < 30 ? 30 : s > 100 ? 100 : s);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetNumFans(nvmlDevice_t device, unsigned int *fans)
{
    DEV_ENTER(device);
    if (!fans)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (!sim_board_of(d)->fans)
        rc = NVML_ERROR_NOT_SUPPORTED;
    else
        *fans = sim_board_of(d)->fans;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetFanSpeed_v2(nvmlDevice_t device, unsigned int fan,
                                                  unsigned int *speed)
{
    DEV_ENTER(device);
    if (!speed)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (!sim_board_of(d)->fans)
        rc = NVML_ERROR_NOT_SUPPORTED;
    else if (fan >= sim_board_of(d)->fans)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *speed = fan_percent(d);
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMinMaxFanSpeed(nvmlDevice_t device, unsigned int *min,
                                                     unsigned int *max)
{
    DEV_ENTER(device);
    if (!min || !max) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else if (!sim_board_of(d)->fans) {
        rc = NVML_ERROR_NOT_SUPPORTED;
    } else {
        *min = 30;
        *max = 100;
    }
    DEV_RETURN();
}

/* ---- margin to the T.Limit (Hopper; "GPU T.Limit Temp: N/A" on the Ampere dumps) ---- */

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMarginTemperature(nvmlDevice_t device,
                                                        nvmlMarginTemperature_v1_t *m)
{
    DEV_ENTER(device);
    if (!m)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (m->version != nvmlMarginTemperature_v1)
        rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    else if (!sim_board_of(d)->tlimit)
        rc = NVML_ERROR_NOT_SUPPORTED;
    else
        m->marginTemperature = (int)lround(sim_board_of(d)->tlimit_c - d->temp_c);
    DEV_RETURN();
}

/* ---- field values beyond power (called by nvml_power.c's field()) --------------------- */

int sim_field_status(const struct sim_dev *d, nvmlFieldValue_t *v)
{
    const struct sim_board *b = sim_board_of(d);
    int t;
    switch (v->fieldId) {
    case NVML_FI_DEV_MEMORY_TEMP: /* one thermal node: the dumps' offset from the GPU */
        if (b->mem_temp_offset_c < -99)
            return v->nvmlReturn = NVML_ERROR_NOT_SUPPORTED, 1;
        v->valueType = NVML_VALUE_TYPE_UNSIGNED_INT;
        v->value.uiVal = (unsigned)lround(fmax(0, d->temp_c + b->mem_temp_offset_c));
        return 1;
    case NVML_FI_DEV_TEMPERATURE_SHUTDOWN_TLIMIT:
        t = b->tlimit_shutdown_c;
        break;
    case NVML_FI_DEV_TEMPERATURE_SLOWDOWN_TLIMIT:
        t = b->tlimit_slowdown_c;
        break;
    case NVML_FI_DEV_TEMPERATURE_MEM_MAX_TLIMIT:
        t = b->tlimit_mem_max_c;
        break;
    case NVML_FI_DEV_TEMPERATURE_GPU_MAX_TLIMIT:
        t = b->tlimit_gpu_max_c;
        break;
    default:
        return 0;
    }
    /* T.Limit thresholds: signed margins from the T.Limit, Hopper and later only. */
    if (!b->tlimit)
        return v->nvmlReturn = NVML_ERROR_NOT_SUPPORTED, 1;
    v->valueType = NVML_VALUE_TYPE_SIGNED_INT;
    v->value.siVal = t;
    return 1;
}
