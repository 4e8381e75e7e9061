/* SPDX-License-Identifier: MIT */
/*
 * build.c - building the machine's devices from a scenario: each device's copy of its
 * profile, its UUID, cooling, limits, supported clocks, sensor clock (phase and wander drawn
 * from the seed), fault flags, and sensors that start out reading the initial power.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* ---- building ------------------------------------------------------------------------- */

static void make_uuid(struct sim_dev *d, unsigned long long seed)
{
    uint64_t x = fnv1a(d->p.key) ^ (seed * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)d->index << 48);
    uint64_t a = sim_splitmix64(&x), b = sim_splitmix64(&x);
    snprintf(d->uuid, sizeof d->uuid, "GPU-%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xFFFF, (unsigned)a & 0xFFFF, (unsigned)(b >> 48),
             (unsigned long long)(b & 0xFFFFFFFFFFFFull));
}

static double resolve(double v, double dflt)
{
    if (v == SIM_UNSET)
        return dflt;
    return v < 0 ? -v * dflt : v; /* negative: a factor of the default (cooling presets) */
}

int sim_model_build(struct sim_state *g, struct sim_scenario *scn, const char *profile_override,
                    int devices_override, int has_seed_override, unsigned long long seed_override,
                    char *err, size_t len)
{
    const char *key = profile_override && *profile_override ? profile_override
                      : scn->profile[0]                     ? scn->profile
                                                            : "a6000";
    const struct sim_profile *p = sim_profile_find(key);
    if (!p) {
        snprintf(err, len, "unknown profile '%s' (known: %s)", key, sim_profile_keys());
        return -1;
    }
    int n = devices_override > 0 ? devices_override : scn->devices > 0 ? scn->devices : 1;
    if (scn->n_phases > SIM_MAX_PHASES) {
        snprintf(err, len, "too many phases (at most %d)", SIM_MAX_PHASES);
        return -1;
    }
    /* Commit: nothing below fails. */
    sim_model_free(g);
    g->scn = *scn;
    g->scn.phases = NULL; /* the machine holds no pointer: the phases are copied in */
    if (scn->n_phases > 0)
        memcpy(g->phases, scn->phases, (size_t)scn->n_phases * sizeof g->phases[0]);
    sim_scenario_free(scn);
    sim_scenario_init(scn);
    g->seed = has_seed_override ? seed_override : g->scn.has_seed ? g->scn.seed : 1;
    g->n_dev = n;
    g->ph_idx = 0;
    g->ph_loop = 0;
    g->ph_end_s = g->scn.n_phases ? g->phases[0].dur_s : 0;
    for (int i = 0; i < n; i++) {
        struct sim_dev *d = &g->dev[i];
        memset(d, 0, sizeof *d);
        d->p = *p;
        d->index = i;
        snprintf(d->name, sizeof d->name, "%s (simulated)", p->name);
        make_uuid(d, g->seed);
        d->gain = g->scn.gain[i];
        d->offset_w = g->scn.offset_w[i];
        /* Each device's sensor clock has its own phase, from the seed unless the scenario
         * gives one, and its own draws of the period's wander. */
        uint64_t tx = g->seed * 0xA0761D6478BD642Full ^ (0x8EBC6AF09C88C6E3ull * (uint64_t)(i + 1));
        d->tick_rng = sim_splitmix64(&tx);
        uint64_t drawn_phase = sim_splitmix64(&d->tick_rng) % SIM_TICK_STEPS;
        d->tick_phase_ms = g->scn.tick_phase_ms[i] >= 0 ? g->scn.tick_phase_ms[i]
                           : g->exact_clock             ? 0
                                                        : (int)drawn_phase;
        d->tick_jitter_ms = g->scn.tick_jitter_ms[i] >= 0 ? g->scn.tick_jitter_ms[i]
                            : g->exact_clock              ? 0
                                                          : SIM_TICK_JITTER;
        d->tick_prev = -1;
        d->tick_at = (d->tick_phase_ms + SIM_TICK_STEPS - 1) % SIM_TICK_STEPS;
        d->t_amb = resolve(g->scn.t_amb, p->t_amb);
        d->r_th = resolve(g->scn.r_th, p->r_th);
        d->c_th = resolve(g->scn.c_th, p->c_th);
        d->th_decay = exp(-SIM_DT_S / (d->r_th * d->c_th));
        d->governor = g->scn.governor;
        d->limit_w = resolve(g->scn.power_limit_w, p->tdp_w);
        if (g->scn.lock_max) {
            d->lock_min = (unsigned)sim_grid_floor(d, g->scn.lock_min);
            d->lock_max = (unsigned)sim_grid_floor(d, g->scn.lock_max);
        }
        d->boot_lock_min = d->lock_min;
        d->boot_lock_max = d->lock_max;
        d->boot_limit_w = d->limit_w;
        for (unsigned f = p->clk_max; f >= p->clk_min && d->n_clocks < SIM_MAX_CLOCKS;
             f -= p->clk_step)
            d->clocks[d->n_clocks++] = f;
        d->temp_c = resolve(g->scn.t_init, d->t_amb);
        d->clk = p->clk_idle;
        d->f_cap_thermal = p->clk_max;
        d->pstate = p->pstate_idle;
        d->reasons = d->lock_max ? 0 : NVML_CLOCKS_EVENT_REASON_GPU_IDLE;
        if (d->lock_max)
            d->clk = d->lock_min;
        d->mem_clk = p->pstate_idle == 8 ? p->mem_clk_low : p->mem_clocks[0];
        uint64_t x = g->seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(i + 1));
        d->rng = sim_splitmix64(&x);
        for (int f = 0; f < g->scn.n_faults; f++) {
            const struct sim_fault *ft = &g->scn.faults[f];
            if (ft->device >= 0 && ft->device != i)
                continue;
            d->no_energy |= ft->kind == SIM_FAULT_NO_ENERGY;
            d->old_driver |= ft->kind == SIM_FAULT_OLD_DRIVER;
        }
        d->next_event = 0;
        /* Sensors start out reading the initial power, as if it had been drawn forever. */
        d->pw = sim_model_power(d, d->clk);
        d->inst_w = d->pw.total * (1 + d->gain) + d->offset_w;
        for (int j = 0; j < SIM_AVG_TICKS; j++)
            d->avg_ring[j] = d->inst_w;
    }
    return 0;
}

void sim_model_free(struct sim_state *g)
{
    g->n_dev = 0;
    g->scn.n_phases = 0;
}
