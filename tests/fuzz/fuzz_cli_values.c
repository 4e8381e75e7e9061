/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cli_values.c - the parsers of option values (src/cli): durations (--interval,
 * --duration), integers and numbers within bounds (-n, --repeats, --min-window...), and the
 * lists of settings of `joules sweep` (--clocks FROM:TO:STEP or A,B,C). The first byte picks
 * the parser and its bounds, the rest is the value. What a parser accepts lies in its bounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_sampling.h"
#include "cli/cli_util.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Every refused value prints a usage error: keep them off the fuzzer's output. */
    FILE *null = fopen("/dev/null", "w");
    if (null)
        stderr = null;
    return 0;
}

static void check_steps(const char *v, double lo, double hi)
{
    double out[64];
    int n = -1;
    if (cli_parse_steps("fuzz", "--clocks", v, lo, hi, out, 64, &n) != 0)
        return;
    if (n < 1 || n > 64)
        abort();
    for (int i = 0; i < n; i++)
        if (!(out[i] >= lo && out[i] <= hi + 1e-6 * hi))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1024)
        return 0;
    char *v = malloc(size);
    if (!v)
        return 0;
    memcpy(v, data + 1, size - 1);
    v[size - 1] = '\0';
    switch (data[0] % 6) {
    case 0: {
        int64_t ns = -1;
        if (cli_parse_duration("fuzz", "--interval", v, 1000000, 3600000000000LL, &ns) == 0 &&
            (ns < 1000000 || ns > 3600000000000LL))
            abort();
        break;
    }
    case 1: {
        int64_t ns = -1;
        const int64_t year_ns = 366LL * 86400 * 1000000000LL; /* watch --duration */
        if (cli_parse_duration("fuzz", "--duration", v, 1000000, year_ns, &ns) == 0 &&
            (ns < 1000000 || ns > year_ns))
            abort();
        break;
    }
    case 2: {
        long x = 0;
        if (cli_parse_long("fuzz", "-n", v, 1, 100000, &x) == 0 && (x < 1 || x > 100000))
            abort();
        break;
    }
    case 3: {
        double x = 0;
        if (cli_parse_double("fuzz", "--min-window", v, 0.01, 3600, &x) == 0 &&
            !(x >= 0.01 && x <= 3600))
            abort();
        break;
    }
    case 4:
        check_steps(v, 1, 10000);
        break;
    default:
        check_steps(v, 1, 5000);
        break;
    }
    free(v);
    return 0;
}
