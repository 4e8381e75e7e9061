/* SPDX-License-Identifier: MIT */
/*
 * jsim_ext.c - the extension entry points of jsim.h: the truth behind the sensors (energy,
 * power, state), reconfiguration and virtual time for faster-than-real-time runs, kernels
 * that progress at the clock held, and the bit-toggle rate of real operand data.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim/nvml_exports.h"
#include "sim/sim.h"

/* A day of simulated time: a kernel longer than that is refused rather than run forever. */
#define KERNEL_MAX_STEPS (86400LL * 1000LL)

JSIM_EXPORT int jsimIsSimulated(void)
{
    return 1;
}

JSIM_EXPORT nvmlReturn_t jsimLastError(char *buf, unsigned int len)
{
    return sim_last_error(buf, len);
}

/* sim_enter + a valid handle (a lost device is fine here: its history stays readable). */
static nvmlReturn_t enter_any(nvmlDevice_t h, struct sim_dev **out)
{
    nvmlReturn_t rc = sim_enter();
    if (rc != NVML_SUCCESS)
        return rc;
    *out = sim_dev_of(h);
    if (!*out) {
        sim_leave();
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    return NVML_SUCCESS;
}

/* enter_any, then a struct to fill whose first field is its version: checked against want,
 * the rest zeroed. NVML_SUCCESS with the simulator entered; on an error, left. */
static nvmlReturn_t enter_filling(nvmlDevice_t h, struct sim_dev **out, void *fill,
                                  unsigned int want, size_t size)
{
    nvmlReturn_t rc = enter_any(h, out);
    if (rc != NVML_SUCCESS)
        return rc;
    unsigned int version = 0;
    if (fill)
        memcpy(&version, fill, sizeof version);
    if (!fill) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else if (version != want) {
        rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    } else {
        memset((char *)fill + sizeof version, 0, size - sizeof version);
        return NVML_SUCCESS;
    }
    sim_leave();
    return rc;
}

JSIM_EXPORT nvmlReturn_t jsimGetTrueEnergy(nvmlDevice_t dev, long long t_ns, double *energy_j)
{
    struct sim_dev *d;
    nvmlReturn_t rc = enter_any(dev, &d);
    if (rc != NVML_SUCCESS)
        return rc;
    double t_s = (t_ns - sim_m->start_ns) * 1e-9;
    if (!energy_j || t_s > sim_now_s() + 1e-9)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        rc = sim_model_energy_at(d, t_s, energy_j);
    sim_leave();
    return rc;
}

JSIM_EXPORT nvmlReturn_t jsimGetTruePower(nvmlDevice_t dev, double *power_w)
{
    struct sim_dev *d;
    nvmlReturn_t rc = enter_any(dev, &d);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!power_w)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *power_w = d->pw.total;
    sim_leave();
    return rc;
}

JSIM_EXPORT nvmlReturn_t jsimGetStatedAccuracy(nvmlDevice_t dev, double *relative)
{
    struct sim_dev *d;
    nvmlReturn_t rc = enter_any(dev, &d);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!relative)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *relative = (d->gain != 0 || d->offset_w != 0) ? JSIM_STATED_ACCURACY : 0.0;
    sim_leave();
    return rc;
}

JSIM_EXPORT nvmlReturn_t jsimGetState(nvmlDevice_t dev, jsimState *s)
{
    struct sim_dev *d;
    nvmlReturn_t rc = enter_filling(dev, &d, s, JSIM_STRUCT_VERSION(jsimState), sizeof *s);
    if (rc != NVML_SUCCESS)
        return rc;
    s->pstate = d->pstate;
    s->start_ns = sim_m->start_ns;
    s->t_ns = sim_m->start_ns + (long long)llround(sim_now_s() * 1e9);
    s->power_w = d->pw.total;
    s->p_board_w = d->pw.board;
    s->p_mem_w = d->pw.mem;
    s->p_leak_w = d->pw.leak;
    s->p_dyn_w = d->pw.dyn;
    s->temperature_c = d->temp_c;
    s->clock_mhz = d->clk;
    s->voltage_v = d->lost ? 0 : d->pstate == 8 ? 0 : sim_voltage(&d->p, d->clk);
    s->util = d->util;
    s->alpha = d->alpha_eff;
    s->energy_j = d->energy_j;
    s->power_limit_w = d->limit_w;
    s->reasons = d->reasons;
    s->lost = d->lost;
    s->kernel_active = d->kernel.active;
    sim_leave();
    return rc;
}

JSIM_EXPORT nvmlReturn_t jsimGetSettings(nvmlDevice_t dev, jsimSettings *s)
{
    struct sim_dev *d;
    nvmlReturn_t rc = enter_filling(dev, &d, s, JSIM_STRUCT_VERSION(jsimSettings), sizeof *s);
    if (rc != NVML_SUCCESS)
        return rc;
    s->locked_min_mhz = d->lock_min, s->locked_max_mhz = d->lock_max;
    s->boot_locked_min_mhz = d->boot_lock_min, s->boot_locked_max_mhz = d->boot_lock_max;
    s->power_limit_w = d->limit_w, s->boot_power_limit_w = d->boot_limit_w;
    s->app_gfx_mhz = d->app_gfx_mhz, s->app_mem_mhz = d->app_mem_mhz;
    s->set_locked_clocks = d->n_set_locked, s->reset_locked_clocks = d->n_reset_locked;
    s->set_power_limit = d->n_set_limit;
    s->set_app_clocks = d->n_set_app, s->reset_app_clocks = d->n_reset_app;
    sim_leave();
    return rc;
}

JSIM_EXPORT nvmlReturn_t jsimReconfigure(const char *scenario_text, unsigned int flags)
{
    char err[512];
    if (!scenario_text || (flags & ~JSIM_FLAG_VIRTUAL_TIME))
        return NVML_ERROR_INVALID_ARGUMENT;
    if (!sim_initialised())
        return NVML_ERROR_UNINITIALIZED;
    sim_lock();
    if (sim_m->shared) {
        /* Nothing silently replaced: another process may be measuring this machine. */
        sim_set_error("jsimReconfigure: machine '%s' is shared, its scenario fixed at boot; "
                      "JOULES_SIM_MACHINE=private for a model of one's own",
                      sim_m->name);
        sim_unlock();
        return NVML_ERROR_IN_USE;
    }
    struct sim_scenario scn;
    sim_scenario_init(&scn);
    nvmlReturn_t rc = NVML_SUCCESS;
    if (sim_scenario_parse(&scn, scenario_text, "scenario", err, sizeof err) != 0 ||
        sim_model_build(sim_m, &scn, NULL, 0, 0, 0, err, sizeof err) != 0) {
        sim_scenario_free(&scn);
        sim_set_error("%s", err);
        sim_l.last_error_name_len = scn.err_name_len;
        sim_scenario_free(&scn);
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        sim_m->virtual_time = (flags & JSIM_FLAG_VIRTUAL_TIME) != 0;
        sim_m->start_ns = sim_monotonic_ns();
        sim_m->start_real_us = sim_realtime_us();
        snprintf(sim_m->config, sizeof sim_m->config, "a scenario given to jsimReconfigure");
        sim_m->loader_pid = (int)getpid();
    }
    sim_unlock();
    return rc;
}

JSIM_EXPORT nvmlReturn_t jsimAdvance(double seconds)
{
    nvmlReturn_t rc = sim_enter();
    if (rc != NVML_SUCCESS)
        return rc;
    if (!sim_m->virtual_time)
        rc = NVML_ERROR_NOT_SUPPORTED;
    else if (!(seconds >= 0) || seconds > 1e7)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (sim_m->n_dev > 0)
        sim_model_advance(sim_m, sim_m->dev[0].step + llround(seconds / SIM_DT_S));
    sim_leave();
    return rc;
}

JSIM_EXPORT nvmlReturn_t jsimNow(long long *t_ns)
{
    nvmlReturn_t rc = sim_enter();
    if (rc != NVML_SUCCESS)
        return rc;
    if (!t_ns)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *t_ns = sim_m->start_ns + (long long)llround(sim_now_s() * 1e9);
    sim_leave();
    return rc;
}

/* ---- kernels -------------------------------------------------------------------------- */

static double alpha_from_toggle(const struct sim_profile *p, double toggle)
{
    toggle = toggle < 0 ? 0 : toggle > 1 ? 1 : toggle;
    return p->toggle_base + p->toggle_k * toggle;
}

JSIM_EXPORT nvmlReturn_t jsimAlphaFromToggle(nvmlDevice_t dev, double toggle, double *alpha)
{
    struct sim_dev *d;
    nvmlReturn_t rc = enter_any(dev, &d);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!alpha || !(toggle >= 0 && toggle <= 1))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *alpha = alpha_from_toggle(&d->p, toggle);
    sim_leave();
    return rc;
}

/* The profile's constants and V(f), for checking a fitted power model (joules sweep). */
JSIM_EXPORT nvmlReturn_t jsimGetModel(nvmlDevice_t dev, jsimModel *m)
{
    struct sim_dev *d;
    nvmlReturn_t rc = enter_any(dev, &d);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!m) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else if (m->version != JSIM_STRUCT_VERSION(jsimModel)) {
        rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    } else {
        const struct sim_profile *p = &d->p;
        m->c_eff_f = p->c_eff;
        m->alpha_idle = p->alpha_idle;
        m->p_board_w = p->p_board_w;
        m->p_mem_static_w = p->p_mem_static_w;
        m->leak_ref_w = p->leak_ref_w;
        m->leak_v_exp = p->leak_v_exp;
        m->leak_t_double_c = p->leak_t_double;
        m->v_floor_v = p->v_floor;
        m->f_ridge_mhz = p->f_ridge;
        m->v_max_v = p->v_max;
        m->clk_min_mhz = p->clk_min;
        m->clk_max_mhz = p->clk_max;
        m->clk_step_mhz = p->clk_step;
        m->tdp_w = p->tdp_w;
        m->sensor_window_s = p->sensor_window_ms * 1e-3;
    }
    sim_leave();
    return rc;
}

JSIM_EXPORT nvmlReturn_t jsimVoltageAt(nvmlDevice_t dev, double f_mhz, double *volts)
{
    struct sim_dev *d;
    nvmlReturn_t rc = enter_any(dev, &d);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!volts || !(f_mhz > 0))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *volts = sim_voltage(&d->p, f_mhz);
    sim_leave();
    return rc;
}

/* Reads only the profile table's constant fields: no model, no lock, no nvmlInit needed. */
JSIM_EXPORT nvmlReturn_t jsimGetProfile(unsigned int index, jsimProfileInfo *info)
{
    if (!info)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (info->version != JSIM_STRUCT_VERSION(jsimProfileInfo))
        return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    const char *key, *alias_of;
    const struct sim_profile *p;
    if (sim_profile_entry(index, &key, &alias_of, &p) != 0)
        return NVML_ERROR_NOT_FOUND;
    info->key = key;
    info->alias_of = alias_of;
    info->name = p ? p->name : NULL;
    info->for_tests = p ? p->for_tests : 0;
    return NVML_SUCCESS;
}

static int kernel_valid(const jsimKernel *k)
{
    return k->precision >= JSIM_PREC_FP32 && k->precision <= JSIM_PREC_FP64 && k->flops >= 0 &&
           k->bytes >= 0 && isfinite(k->flops) && isfinite(k->bytes) && k->flops + k->bytes > 0 &&
           k->efficiency >= 0 && k->efficiency <= 1 && k->alpha <= 2 &&
           (k->alpha >= 0 || (k->toggle >= 0 && k->toggle <= 1));
}

/* Check a kernel and make it the device's active one (under the simulator's lock). */
static nvmlReturn_t kernel_start(struct sim_dev *d, const jsimKernel *k)
{
    if (!k)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (k->version != JSIM_STRUCT_VERSION(jsimKernel))
        return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    if (!kernel_valid(k))
        return NVML_ERROR_INVALID_ARGUMENT;
    if (d->lost)
        return NVML_ERROR_GPU_IS_LOST;
    if (d->kernel.active)
        return NVML_ERROR_IN_USE;
    struct sim_kernel *kn = &d->kernel;
    memset(kn, 0, sizeof *kn);
    kn->flops = k->flops;
    kn->bytes = k->bytes;
    kn->precision = k->precision;
    kn->efficiency = k->efficiency > 0 ? k->efficiency : 0.9;
    kn->alpha = k->alpha >= 0 ? k->alpha : alpha_from_toggle(&d->p, k->toggle);
    kn->work_left = 1;
    kn->active = 1;
    d->kernel_pid = (int)getpid();
    return NVML_SUCCESS;
}

JSIM_EXPORT nvmlReturn_t jsimLaunchKernel(nvmlDevice_t dev, const jsimKernel *k)
{
    struct sim_dev *d;
    nvmlReturn_t rc = enter_any(dev, &d);
    if (rc != NVML_SUCCESS)
        return rc;
    rc = sim_m->virtual_time ? kernel_start(d, k) : NVML_ERROR_NOT_SUPPORTED;
    sim_leave();
    return rc;
}

JSIM_EXPORT nvmlReturn_t jsimRunKernel(nvmlDevice_t dev, const jsimKernel *k, jsimKernelResult *r)
{
    struct sim_dev *d;
    nvmlReturn_t rc = enter_any(dev, &d);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!r)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (r->version != JSIM_STRUCT_VERSION(jsimKernelResult))
        rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    else
        rc = kernel_start(d, k);
    if (rc != NVML_SUCCESS) {
        sim_leave();
        return rc;
    }
    struct sim_kernel *kn = &d->kernel;
    if (sim_m->virtual_time) {
        while (kn->active && !d->lost && kn->steps < KERNEL_MAX_STEPS)
            sim_model_advance(sim_m, d->step + 1);
    } else {
        /* Real time: the model advances with the wall clock while we sleep. */
        while (kn->active && !d->lost && kn->steps < KERNEL_MAX_STEPS) {
            sim_leave();
            struct timespec ts = {0, 500000};
            nanosleep(&ts, NULL);
            sim_lock();
            long long el = sim_monotonic_ns() - sim_m->start_ns;
            if (sim_dev_of(dev) != d || sim_m->virtual_time ||
                d->kernel_pid != (int)getpid()) { /* reconfigured or taken over meanwhile */
                sim_unlock();
                return NVML_ERROR_UNKNOWN;
            }
            sim_model_advance(sim_m, el / SIM_DT_NS);
        }
    }
    if (d->lost)
        rc = NVML_ERROR_GPU_IS_LOST;
    else if (kn->active)
        rc = NVML_ERROR_TIMEOUT;
    kn->active = 0;
    memset((char *)r + sizeof r->version, 0, sizeof *r - sizeof r->version);
    r->time_s = kn->time_s;
    r->energy_j = kn->energy_j;
    r->avg_power_w = kn->time_s > 0 ? kn->energy_j / kn->time_s : 0;
    r->avg_clock_mhz = kn->steps ? kn->clk_sum / kn->steps : 0;
    r->flops_per_s = kn->time_s > 0 ? kn->flops / kn->time_s : 0;
    r->alpha = kn->alpha;
    r->reasons = kn->reasons;
    sim_leave();
    return rc;
}

/* ---- toggle rate ---------------------------------------------------------------------- */

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* Round-to-nearest-even truncation of an fp32 bit pattern to its top (32 - drop) bits. */
static uint32_t round_drop(uint32_t u, int drop)
{
    if ((u & 0x7F800000u) == 0x7F800000u) /* inf/nan: keep */
        return u >> drop;
    uint32_t half = 1u << (drop - 1), low = u & ((1u << drop) - 1);
    uint32_t hi = u >> drop;
    if (low > half || (low == half && (hi & 1)))
        hi++;
    return hi;
}

static uint32_t f32_to_f16(float f)
{
    uint32_t u = f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    int exp = (int)((u >> 23) & 0xFF) - 127 + 15;
    uint32_t man = u & 0x7FFFFFu;
    if (((u >> 23) & 0xFF) == 0xFF)
        return sign | 0x7C00u | (man ? 0x200u : 0);
    if (exp >= 31)
        return sign | 0x7C00u;
    if (exp <= 0) { /* subnormal or zero */
        if (exp < -10)
            return sign;
        man |= 0x800000u;
        int shift = 14 - exp;
        uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1)))
            h++;
        return sign | h;
    }
    uint32_t h = ((uint32_t)exp << 10) | (man >> 13);
    uint32_t rem = man & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
        h++; /* may carry into the exponent, which is the correct rounding */
    return sign | h;
}

JSIM_EXPORT nvmlReturn_t jsimToggleRate(const void *data, size_t count, int precision, double *rate)
{
    if (!rate || (!data && count > 0) || precision < JSIM_PREC_FP32 || precision > JSIM_PREC_FP64)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (count < 2) {
        *rate = 0;
        return NVML_SUCCESS;
    }
    unsigned long long flips = 0;
    int width;
    if (precision == JSIM_PREC_FP64) {
        const double *x = data;
        uint64_t prev, cur;
        width = 64;
        memcpy(&prev, &x[0], sizeof prev);
        for (size_t i = 1; i < count; i++) {
            memcpy(&cur, &x[i], sizeof cur);
            flips += (unsigned)__builtin_popcountll(prev ^ cur);
            prev = cur;
        }
    } else {
        const float *x = data;
        uint32_t prev = 0, cur;
        width = precision == JSIM_PREC_FP32 ? 32 : precision == JSIM_PREC_TF32 ? 19 : 16;
        for (size_t i = 0; i < count; i++) {
            uint32_t u = f32_bits(x[i]);
            switch (precision) {
            case JSIM_PREC_FP32:
                cur = u;
                break;
            case JSIM_PREC_TF32:
                cur = round_drop(u, 13) & 0x7FFFFu;
                break;
            case JSIM_PREC_BF16:
                cur = round_drop(u, 16) & 0xFFFFu;
                break;
            default:
                cur = f32_to_f16(x[i]) & 0xFFFFu;
                break;
            }
            if (i > 0)
                flips += (unsigned)__builtin_popcount(prev ^ cur);
            prev = cur;
        }
    }
    *rate = (double)flips / ((double)(count - 1) * width);
    return NVML_SUCCESS;
}
