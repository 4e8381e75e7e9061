/* SPDX-License-Identifier: MIT */
/* fuzz_scenario.c - the scenario file parser (src/sim/scenario.c) on any text. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct sim_scenario s;
    sim_scenario_init(&s);
    char err[512];
    (void)sim_scenario_parse(&s, text, "fuzz.scn", err, sizeof err);
    sim_scenario_free(&s);
    free(text);
    return 0;
}
