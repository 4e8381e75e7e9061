/* SPDX-License-Identifier: MIT */
/* fuzz_baseline.c - the baseline file reader (src/io/baseline.c) on any text. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "io/baseline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* baseline_load reads at most 8191 bytes of a file; longer inputs say nothing more. */
    if (size > 8191)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    io_baseline b;
    char err[512];
    if (baseline_parse(text, "fuzz.json", &b, err, sizeof err) == 0) {
        /* What the reader accepts is what its users compute with. */
        if (!(b.power_w >= 0) || b.utilization_max_pct < -1 || b.utilization_max_pct > 100 ||
            b.samples < 0)
            abort();
        double dyn, unc;
        baseline_dynamic(&b, 1.0, 0.1, 2.0, &dyn, &unc);
    }
    free(text);
    return 0;
}
