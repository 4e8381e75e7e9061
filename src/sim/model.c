/* SPDX-License-Identifier: MIT */
/*
 * model.c - the physics of the simulated GPU, stepped in virtual time at 1 ms.
 *
 * Each step: read the load (scenario phase or a running kernel), let the governor choose the
 * graphics clock (target from P-state or locked clocks, then SW thermal, HW slowdown and the
 * power cap), compute the power of the step from the state at its start
 *   P = P_board + P_mem(memory clock, traffic) + P_leak(V, T) + alpha * C_eff * V(f)^2 * f,
 * integrate energy, move the temperature exactly for a constant P over the step
 *   C_th dT/dt = P - (T - T_amb) / R_th,
 * and feed the sensors as NVML exposes them: every 100 ms the "instant" reading becomes the
 * mean over the last window (25 or 100 ms) of that period, the 1-s average the mean of the last
 * ten readings, and the energy counter the cumulative energy in whole mJ. docs/physics.md has
 * the reasoning and the sources.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

#define KERNEL_REF_EFFICIENCY 0.9

static const struct sim_phase idle_phase = {.dur_s = 0, .util = 0, .alpha = 0, .power_w = -1};

uint64_t sim_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ---- power ---------------------------------------------------------------------------- */

/* Temperature factor of leakage (with power gating in the low P-state). */
static double leak_factor(const struct sim_dev *d)
{
    double g = d->pstate == 8 ? d->p.gate_low : 1.0;
    return g * exp2((d->temp_c - 25.0) / d->p.leak_t_double);
}

/* Kernel roofline at clock f: compute-bound fraction and memory traffic (GB/s). */
static double kernel_time(const struct sim_dev *d, double f, double *t_compute)
{
    const struct sim_kernel *k = &d->kernel;
    double rate_f = sim_peak_flops(&d->p, k->precision, f) * k->efficiency;
    double rate_b = d->p.mem_bw_gbs * 1e9 * d->mem_clk / d->p.mem_clocks[0] * 0.9;
    double tc = rate_f > 0 ? k->flops / rate_f : 0;
    double tb = k->bytes / rate_b;
    *t_compute = tc;
    double t = tc > tb ? tc : tb;
    return t > 1e-12 ? t : 1e-12;
}

/*
 * Activity of a running kernel: its alpha holds at the reference efficiency (90 % of peak,
 * a tuned GEMM); switching scales with the operations actually issued, so a kernel at lower
 * efficiency, or waiting on memory (compute time tc of total t), switches proportionally less.
 */
static double kernel_alpha(const struct sim_dev *d, double tc, double t)
{
    double e = d->kernel.efficiency / KERNEL_REF_EFFICIENCY;
    return d->kernel.alpha * (e < 1 ? e : 1) * tc / t;
}

static struct sim_power power_at(const struct sim_dev *d, double f, double lf)
{
    const struct sim_profile *p = &d->p;
    struct sim_power pw;
    double v = d->pstate == 8 ? p->v_floor : sim_voltage(p, f);
    double rv = v / p->v_floor;
    double util = d->util, alpha = d->alpha_eff, mem_gbs = d->mem_gbs;
    if (d->kernel.active) {
        double tc, t = kernel_time(d, f, &tc);
        util = 1;
        alpha = kernel_alpha(d, tc, t);
        mem_gbs = d->kernel.bytes / t / 1e9;
    }
    pw.board = p->p_board_w;
    pw.mem =
        p->p_mem_static_w * d->mem_clk / p->mem_clocks[0] + mem_gbs * p->mem_pj_per_byte * 1e-3;
    pw.leak = p->leak_ref_w * (p->leak_v_exp == 2 ? rv * rv : pow(rv, p->leak_v_exp)) * lf;
    pw.dyn = (p->alpha_idle + util * alpha) * p->c_eff * v * v * f * 1e6;
    pw.total = pw.board + pw.mem + pw.leak + pw.dyn;
    return pw;
}

struct sim_power sim_model_power(const struct sim_dev *d, double f_mhz)
{
    return power_at(d, f_mhz, leak_factor(d));
}

/* ---- phases and events ---------------------------------------------------------------- */

const struct sim_phase *sim_model_phase(const struct sim_state *g)
{
    if (g->ph_idx < g->scn.n_phases)
        return &g->phases[g->ph_idx];
    return &idle_phase;
}

/* Move the scenario cursor so that the phase covers step k. */
static void phase_seek(struct sim_state *g, long long k)
{
    const struct sim_scenario *s = &g->scn;
    while (g->ph_idx < s->n_phases && k >= llround(g->ph_end_s / SIM_DT_S)) {
        g->ph_idx++;
        if (g->ph_idx == s->n_phases) {
            g->ph_loop++;
            if (s->repeat == 0 || g->ph_loop < s->repeat)
                g->ph_idx = 0;
            else
                break;
        }
        g->ph_end_s += g->phases[g->ph_idx].dur_s;
    }
}

void sim_model_event(struct sim_dev *d, unsigned long long type, unsigned long long data)
{
    struct sim_event *e = &d->events[++d->event_seq % SIM_MAX_EVENTS];
    e->seq = d->event_seq;
    e->type = type;
    e->data = data;
}

static void apply_events(struct sim_state *g, struct sim_dev *d, long long k)
{
    long long next = -1;
    for (int i = 0; i < g->scn.n_faults; i++) {
        const struct sim_fault *f = &g->scn.faults[i];
        if (f->device >= 0 && f->device != d->index)
            continue;
        if (f->kind != SIM_FAULT_LOST && f->kind != SIM_FAULT_RESET && f->kind != SIM_FAULT_XID)
            continue;
        long long at = llround(f->at_s / SIM_DT_S);
        if (at == k) {
            if (f->kind == SIM_FAULT_XID) {
                sim_model_event(d, NVML_EVENT_TYPE_XID_CRITICAL_ERROR, (unsigned)f->code);
            } else if (f->kind == SIM_FAULT_LOST) {
                d->lost = 1;
                /* The driver reports a board that left the bus as Xid 79. */
                sim_model_event(d, NVML_EVENT_TYPE_XID_CRITICAL_ERROR, 79);
            } else {
                d->counter_base_j = d->sensor_energy_j;
                d->counter_mj = 0;
            }
        } else if (at > k && (next < 0 || at < next)) {
            next = at;
        }
    }
    d->next_event = next < 0 ? -1 : next;
}

nvmlReturn_t sim_model_fault(struct sim_state *g, struct sim_dev *d)
{
    double t = d->step * SIM_DT_S;
    for (int i = 0; i < g->scn.n_faults; i++) {
        const struct sim_fault *f = &g->scn.faults[i];
        if (f->kind != SIM_FAULT_ERRORS || (f->device >= 0 && f->device != d->index))
            continue;
        if (t < f->at_s || t >= f->until_s)
            continue;
        double u = (double)(sim_splitmix64(&d->rng) >> 11) * 0x1.0p-53;
        if (u < f->rate)
            return f->code;
    }
    return NVML_SUCCESS;
}

/* ---- the governor --------------------------------------------------------------------- */

double sim_grid_floor(const struct sim_dev *d, double f)
{
    const struct sim_profile *p = &d->p;
    if (f <= p->clk_min)
        return p->clk_min;
    if (f >= p->clk_max)
        return p->clk_max;
    return p->clk_min + floor((f - p->clk_min) / p->clk_step + 1e-9) * p->clk_step;
}

static void governor(struct sim_dev *d, int busy, int fixed_power, double lf)
{
    const struct sim_profile *p = &d->p;
    unsigned long long r = 0;
    double target;
    if (d->lock_max)
        target = busy ? d->lock_max : d->lock_min;
    else
        target = busy ? p->clk_max : p->clk_idle;
    if (!busy && !d->lock_max)
        r |= NVML_CLOCKS_EVENT_REASON_GPU_IDLE;
    double cap = target;
    if (d->governor) {
        /* SW thermal: an integral controller around t_sw, 1.5 MHz per ms down, 0.5 up. */
        if (d->temp_c > p->t_sw)
            d->f_cap_thermal -= 1.5;
        else if (d->temp_c < p->t_sw - 2)
            d->f_cap_thermal += 0.5;
        if (d->f_cap_thermal < p->clk_min)
            d->f_cap_thermal = p->clk_min;
        if (d->f_cap_thermal > p->clk_max)
            d->f_cap_thermal = p->clk_max;
        if (d->f_cap_thermal < cap) {
            cap = d->f_cap_thermal;
            r |= NVML_CLOCKS_EVENT_REASON_SW_THERMAL;
        }
        /* HW slowdown: at the slowdown threshold clocks are cut by half. */
        if (d->temp_c >= p->t_slowdown) {
            double half = target * 0.5;
            if (half < cap)
                cap = half;
            r |= NVML_CLOCKS_EVENT_REASON_HW_SLOWDOWN | NVML_CLOCKS_EVENT_REASON_HW_THERMAL;
        }
    }
    cap = sim_grid_floor(d, cap);
    /* Clocks fall at once and rise by at most one step of max(15 MHz, grid) per ms. */
    double up = p->clk_step > 15 ? p->clk_step : 15;
    double f = cap < d->clk + up ? cap : sim_grid_floor(d, d->clk + up);
    if (d->governor && !fixed_power && power_at(d, f, lf).total > d->limit_w) {
        /* Power cap: the highest supported clock at or below f that stays under the limit. */
        int lo = 0, hi = (int)((f - p->clk_min) / p->clk_step + 0.5); /* grid index */
        if (power_at(d, p->clk_min, lf).total > d->limit_w) {
            f = p->clk_min;
        } else {
            while (lo < hi) {
                int mid = (lo + hi + 1) / 2;
                if (power_at(d, p->clk_min + mid * (double)p->clk_step, lf).total <= d->limit_w)
                    lo = mid;
                else
                    hi = mid - 1;
            }
            f = p->clk_min + lo * (double)p->clk_step;
        }
        r |= NVML_CLOCKS_EVENT_REASON_SW_POWER_CAP;
    }
    d->clk = f;
    d->reasons = r;
}

/* ---- one step ------------------------------------------------------------------------- */

/* What the update at the end of step k shows, for nvmlDeviceGetSamples. */
static void record_sample(struct sim_dev *d, int pos, long long k)
{
    struct sim_sample *s = &d->samples[pos];
    s->step = k;
    s->power_w = d->inst_w;
    s->util = d->util;
    s->mem_util = d->mem_gbs / d->p.mem_bw_gbs;
    s->clk_mhz = (unsigned)d->clk;
    s->mem_mhz = d->mem_clk;
    if (d->n_samples < SIM_AVG_TICKS)
        d->n_samples++;
}

/* The wander of one update period (ms): uniform in [-jitter, +jitter]. */
static int tick_jitter(struct sim_dev *d)
{
    if (d->tick_jitter_ms == 0)
        return 0;
    uint64_t span = 2 * (uint64_t)d->tick_jitter_ms + 1;
    return (int)(sim_splitmix64(&d->tick_rng) % span) - d->tick_jitter_ms;
}

static void step_one(struct sim_state *g, struct sim_dev *d, const struct sim_phase *ph)
{
    const struct sim_profile *p = &d->p;
    long long k = d->step;
    if (k == d->next_event)
        apply_events(g, d, k);
    if (d->lost) {
        d->pw = (struct sim_power){0};
        d->kernel.active = 0; /* a board off the bus runs nothing */
        d->hist[k & (SIM_HIST_STEPS - 1)] = d->energy_j;
        d->step = k + 1;
        return;
    }
    int busy, ctx, fixed = 0;
    if (d->kernel.active) {
        busy = ctx = 1;
        d->util = 1;
    } else {
        d->util = ph->util;
        d->alpha_eff = ph->alpha;
        d->mem_gbs = ph->mem_gbs;
        busy = ph->util > 0;
        ctx = ph->context || busy;
        fixed = ph->power_w >= 0;
    }
    int pstate = busy ? p->pstate_busy : ctx ? p->pstate_ctx : p->pstate_idle;
    if (pstate != d->pstate)
        sim_model_event(d, NVML_EVENT_TYPE_PSTATE, (unsigned)pstate);
    d->pstate = pstate;
    d->mem_clk = d->pstate == 8 ? p->mem_clk_low : p->mem_clocks[0];
    double lf = leak_factor(d);
    governor(d, busy, fixed, lf);
    if (d->reasons & NVML_CLOCKS_EVENT_REASON_SW_POWER_CAP)
        d->viol_power_steps++;
    if (d->reasons & (NVML_CLOCKS_EVENT_REASON_SW_THERMAL | NVML_CLOCKS_EVENT_REASON_HW_THERMAL |
                      NVML_CLOCKS_EVENT_REASON_HW_SLOWDOWN))
        d->viol_thermal_steps++;
    if (d->kernel.active) { /* for the utilisation and state reports */
        double tc, t = kernel_time(d, d->clk, &tc);
        d->alpha_eff = kernel_alpha(d, tc, t);
        d->mem_gbs = d->kernel.bytes / t / 1e9;
    }
    d->pw = power_at(d, d->clk, lf);
    if (fixed) {
        d->pw.dyn += ph->power_w - d->pw.total;
        d->pw.total = ph->power_w;
    }
    double pwr = d->pw.total;

    /* Energy and heat. The temperature update is exact for constant power over the step. */
    d->energy_j += pwr * SIM_DT_S;
    double t_eq = d->t_amb + pwr * d->r_th;
    d->temp_c = t_eq + (d->temp_c - t_eq) * d->th_decay;
    if (d->temp_c >= p->t_shutdown) /* the board protects itself: it drops off the bus */
        d->lost = 1;

    /* Sensors. */
    double ps = pwr * (1 + d->gain) + d->offset_w;
    d->sensor_energy_j += ps * SIM_DT_S;
    /* A board's sensor keeps a clock of its own: the load's changes need not fall on it, and
     * its period wanders by a few ms around 100 ms (docs/physics.md, "Sensors"). */
    if (k > d->tick_at - p->sensor_window_ms && k > d->tick_prev) {
        d->win_acc_j += ps * SIM_DT_S;
        d->win_steps++;
    }
    if (k == d->tick_at) {
        d->inst_w = d->win_acc_j / (d->win_steps * SIM_DT_S);
        d->win_acc_j = 0;
        d->win_steps = 0;
        d->avg_ring[d->avg_pos] = d->inst_w;
        record_sample(d, d->avg_pos, k);
        d->avg_pos = (d->avg_pos + 1) % SIM_AVG_TICKS;
        double c = floor((d->sensor_energy_j - d->counter_base_j) * 1000.0);
        d->counter_mj = c > 0 ? (unsigned long long)c : 0;
        d->tick_prev = k;
        d->tick_at = k + SIM_TICK_STEPS + tick_jitter(d);
    }

    /* Kernel progress at the clock held this step. */
    if (d->kernel.active) {
        struct sim_kernel *kn = &d->kernel;
        double tc, t = kernel_time(d, d->clk, &tc);
        double dw = SIM_DT_S / t;
        kn->reasons |= d->reasons;
        kn->clk_sum += d->clk;
        if (dw >= kn->work_left) {
            double frac = kn->work_left / dw; /* part of this step the kernel still needed */
            kn->time_s += frac * SIM_DT_S;
            kn->energy_j += pwr * frac * SIM_DT_S;
            kn->steps++;
            kn->work_left = 0;
            kn->active = 0;
        } else {
            kn->work_left -= dw;
            kn->time_s += SIM_DT_S;
            kn->energy_j += pwr * SIM_DT_S;
            kn->steps++;
        }
    }
    d->hist[k & (SIM_HIST_STEPS - 1)] = d->energy_j;
    d->step = k + 1;
}

static void run_steps(struct sim_state *g, long long k, long long end)
{
    for (; k < end; k++) {
        phase_seek(g, k);
        const struct sim_phase *ph = sim_model_phase(g);
        for (int i = 0; i < g->n_dev; i++)
            step_one(g, &g->dev[i], ph);
    }
}

/*
 * Crossing a long gap (a shared machine nobody used for a day): once the scenario has ended
 * and every device is at rest (no kernel, no pending fault, the temperature at its
 * equilibrium, the clock steady), every further step only adds the same energy, so the gap
 * but its last SIM_HIST_STEPS (kept for the true-energy history) is crossed in one jump, its
 * sensor updates drawn as they would have been. Real time only: virtual time steps always.
 */
#define FF_MIN_STEPS (10LL * 60 * 1000)
#define FF_CHUNK     1000

static int at_rest(const struct sim_dev *d, double clk_before)
{
    if (d->lost)
        return 1;
    double t_eq = d->t_amb + d->pw.total * d->r_th;
    return !d->kernel.active && d->next_event < 0 && fabs(d->temp_c - t_eq) < 1e-4 &&
           d->clk == clk_before && d->f_cap_thermal >= d->p.clk_max;
}

static void jump(struct sim_dev *d, long long n)
{
    long long k0 = d->step, k1 = k0 + n; /* steps k0 .. k1 - 1 are crossed */
    if (!d->lost) {
        double ps = d->pw.total * (1 + d->gain) + d->offset_w;
        double e0 = d->sensor_energy_j;
        d->energy_j += d->pw.total * SIM_DT_S * (double)n;
        d->sensor_energy_j += ps * SIM_DT_S * (double)n;
        while (d->tick_at < k1) {
            d->tick_prev = d->tick_at;
            d->tick_at += SIM_TICK_STEPS + tick_jitter(d);
        }
        /* n spans many updates: the last one in the gap set the readings and the counter. */
        double c = floor(
            (e0 + ps * SIM_DT_S * (double)(d->tick_prev - k0 + 1) - d->counter_base_j) * 1000.0);
        d->counter_mj = c > 0 ? (unsigned long long)c : 0;
        d->inst_w = ps;
        for (int j = 0; j < SIM_AVG_TICKS; j++) {
            d->avg_ring[j] = ps;
            record_sample(d, j, d->tick_prev - (SIM_AVG_TICKS - 1 - j) * SIM_TICK_STEPS);
        }
        d->avg_pos = 0;
        long long from = d->tick_at - d->p.sensor_window_ms;
        from = from > d->tick_prev ? from : d->tick_prev; /* window steps: k > from */
        long long cnt = k1 - 1 - from;
        d->win_steps = cnt > 0 ? (int)cnt : 0;
        d->win_acc_j = ps * SIM_DT_S * d->win_steps;
    }
    if (!d->lost && (d->reasons & NVML_CLOCKS_EVENT_REASON_SW_POWER_CAP))
        d->viol_power_steps += n;
    if (!d->lost &&
        (d->reasons & (NVML_CLOCKS_EVENT_REASON_SW_THERMAL | NVML_CLOCKS_EVENT_REASON_HW_THERMAL |
                       NVML_CLOCKS_EVENT_REASON_HW_SLOWDOWN)))
        d->viol_thermal_steps += n;
    d->step = k1;
    d->hist[(k1 - 1) & (SIM_HIST_STEPS - 1)] = d->energy_j;
}

void sim_model_advance(struct sim_state *g, long long target)
{
    if (g->n_dev == 0)
        return;
    long long k = g->dev[0].step;
    while (!g->virtual_time && target - k > FF_MIN_STEPS + SIM_HIST_STEPS) {
        double clk[SIM_MAX_DEVICES] = {0};
        for (int i = 0; i < g->n_dev; i++)
            clk[i] = g->dev[i].clk;
        run_steps(g, k, k + FF_CHUNK);
        k += FF_CHUNK;
        int rest = g->ph_idx >= g->scn.n_phases;
        for (int i = 0; i < g->n_dev && rest; i++)
            rest = at_rest(&g->dev[i], clk[i]);
        if (rest) {
            long long n = target - k - SIM_HIST_STEPS;
            for (int i = 0; i < g->n_dev; i++)
                jump(&g->dev[i], n);
            k += n;
            break;
        }
    }
    run_steps(g, k, target);
}

void sim_model_repair(struct sim_state *g)
{
    long long top = 0;
    for (int i = 0; i < g->n_dev; i++)
        top = g->dev[i].step > top ? g->dev[i].step : top;
    for (int i = 0; i < g->n_dev; i++)
        while (g->dev[i].step < top)
            step_one(g, &g->dev[i], sim_model_phase(g));
}

nvmlReturn_t sim_model_energy_at(const struct sim_dev *d, double t_s, double *out)
{
    double s = t_s / SIM_DT_S;
    long long k = (long long)floor(s);
    if (k >= d->step) {
        /* Inside the step in progress: its power is already known. */
        *out = d->energy_j + d->pw.total * (t_s - d->step * SIM_DT_S);
        return NVML_SUCCESS;
    }
    if (k < 0) {
        if (d->step > SIM_HIST_STEPS)
            return NVML_ERROR_NO_DATA;
        *out = 0;
        return NVML_SUCCESS;
    }
    if (k <= d->step - SIM_HIST_STEPS)
        return NVML_ERROR_NO_DATA;
    double e0 = k == 0 ? 0 : d->hist[(k - 1) & (SIM_HIST_STEPS - 1)];
    double e1 = d->hist[k & (SIM_HIST_STEPS - 1)];
    *out = e0 + (e1 - e0) * (s - (double)k);
    return NVML_SUCCESS;
}
