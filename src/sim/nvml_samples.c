/* SPDX-License-Identifier: MIT */
/*
 * nvml_samples.c - the sensor's recent history as NVML hands it out: nvmlDeviceGetSamples
 * (power, utilisation and clocks at each of the last ten sensor updates, with their CPU
 * timestamps) and nvmlDeviceGetProcessUtilization (the processes with work, as dcgm-exporter
 * and nvtop read them).
 */
#include <math.h>

#include "sim/nvml_exports.h"
#include "sim/sim.h"

/* The CPU time (us) of the end of step k: the boot's, plus the model time since. */
static unsigned long long step_time_us(long long k)
{
    return (unsigned long long)(sim_m->start_real_us + (k + 1) * (SIM_DT_NS / 1000));
}

/*
 * samples NULL: *count = the most samples a call can return (SUCCESS). Otherwise the samples
 * newer than last_seen_us, oldest first, up to *count; NOT_FOUND when there is none yet.
 */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetSamples(nvmlDevice_t device, unsigned int type,
                                              unsigned long long last_seen_us,
                                              unsigned int *value_type, unsigned int *count,
                                              nvmlSample_t *samples)
{
    DEV_ENTER(device);
    if (!count || !value_type || type > NVML_MEMORY_CLK_SAMPLES) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
        DEV_RETURN();
    }
    *value_type = NVML_VALUE_TYPE_UNSIGNED_INT;
    if (!samples) {
        *count = SIM_AVG_TICKS;
        DEV_RETURN();
    }
    unsigned n = 0;
    for (int j = 0; j < d->n_samples && n < *count; j++) {
        /* oldest first: the ring's next slot is its oldest entry once full */
        int pos = (d->avg_pos - d->n_samples + j + 2 * SIM_AVG_TICKS) % SIM_AVG_TICKS;
        const struct sim_sample *s = &d->samples[pos];
        unsigned long long t = step_time_us(s->step);
        if (t <= last_seen_us)
            continue;
        unsigned v;
        switch (type) {
        case NVML_TOTAL_POWER_SAMPLES:
            v = (unsigned)lround(fmax(0, s->power_w) * 1000.0); /* mW */
            break;
        case NVML_GPU_UTILIZATION_SAMPLES:
            v = (unsigned)lround(s->util * 100);
            break;
        case NVML_MEMORY_UTILIZATION_SAMPLES:
            v = (unsigned)lround(fmin(1, s->mem_util) * 100);
            break;
        case NVML_PROCESSOR_CLK_SAMPLES:
            v = s->clk_mhz;
            break;
        case NVML_MEMORY_CLK_SAMPLES:
            v = s->mem_mhz;
            break;
        default: /* encoder, decoder: never busy */
            v = 0;
            break;
        }
        samples[n].timeStamp = t;
        samples[n].sampleValue.ullVal = 0;
        samples[n].sampleValue.uiVal = v;
        n++;
    }
    *count = n;
    if (n == 0)
        rc = NVML_ERROR_NOT_FOUND;
    DEV_RETURN();
}

/* One sample per process with work: its share is the device's (one context at a time). */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t device,
                                                         nvmlProcessUtilizationSample_t *util,
                                                         unsigned int *count,
                                                         unsigned long long last_seen_us)
{
    DEV_ENTER(device);
    int pids[2];
    unsigned n = (unsigned)sim_work_pids(d, pids);
    unsigned long long now_us = step_time_us(d->step - 1);
    if (!count) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else if (!util || *count < n) {
        *count = n;
        rc = NVML_ERROR_INSUFFICIENT_SIZE;
    } else if (n == 0 || now_us <= last_seen_us) {
        *count = 0;
        rc = NVML_ERROR_NOT_FOUND;
    } else {
        for (unsigned i = 0; i < n; i++) {
            util[i].pid = (unsigned)pids[i];
            util[i].timeStamp = now_us;
            util[i].smUtil = (unsigned)lround(d->util * 100 / n);
            util[i].memUtil = (unsigned)lround(fmin(1, d->mem_gbs / d->p.mem_bw_gbs) * 100 / n);
            util[i].encUtil = util[i].decUtil = 0;
        }
        *count = n;
    }
    DEV_RETURN();
}
