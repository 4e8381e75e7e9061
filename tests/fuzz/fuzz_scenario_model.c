/* SPDX-License-Identifier: MIT */
/*
 * fuzz_scenario_model.c - a scenario the parser accepts drives the simulated GPU's model
 * (src/sim/model.c) for 0.3 model seconds on every device it asks for: no crash, no hang, no
 * undefined behaviour, and the energy, power and temperature it reports stay real numbers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sim/sim.h"

static struct sim_state model;

static void check_device(struct sim_state *g, struct sim_dev *d)
{
    double now_s = (double)d->step * SIM_DT_S, e = 0;
    if (sim_model_energy_at(d, now_s, &e) == NVML_SUCCESS && !isfinite(e))
        abort();
    if (sim_model_energy_at(d, now_s / 2, &e) == NVML_SUCCESS && !isfinite(e))
        abort();
    (void)sim_model_fault(g, d);
    struct sim_power p = sim_model_power(d, d->clk);
    if (!d->lost && (!isfinite(p.total) || !isfinite(d->temp_c) || !isfinite(d->energy_j)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct sim_scenario s;
    sim_scenario_init(&s);
    char err[512];
    if (sim_scenario_parse(&s, text, "fuzz.scn", err, sizeof err) == 0 &&
        sim_model_build(&model, &s, NULL, 0, 0, 0, err, sizeof err) == 0) {
        static const long long steps[] = {1, 10, 100, 300};
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            sim_model_advance(&model, steps[i]);
            (void)sim_model_phase(&model);
            for (int k = 0; k < model.n_dev; k++)
                check_device(&model, &model.dev[k]);
        }
        sim_model_free(&model);
    }
    sim_scenario_free(&s);
    free(text);
    return 0;
}
