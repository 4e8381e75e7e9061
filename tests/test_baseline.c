/* SPDX-License-Identifier: MIT */
/*
 * test_baseline.c - the baseline reader (src/io/baseline.c) refuses what its writer never
 * writes: numbers that are not finite ("inf", "nan", which strtod takes) and integers outside
 * the range they are cast to; it keeps accepting what the writer writes, null included.
 */
#include <stdio.h>
#include <string.h>

#include "io/baseline.h"
#include "testlib.h"

#define HEAD "{\n\"schema\": \"joules.baseline/1\",\n\"domain\": \"gpu0\",\n"

static int parse(const char *text, io_baseline *b, char *err, size_t len)
{
    err[0] = '\0';
    return baseline_parse(text, "b.json", b, err, len);
}

static void test_valid_file(void)
{
    io_baseline b;
    char err[256];
    CHECK_EQ_INT(parse(HEAD "\"samples\": 12,\n\"utilization_max_pct\": null,\n"
                            "\"power_min_w\": 60.5,\n\"power_w\": 61.25\n}\n",
                       &b, err, sizeof err),
                 0);
    CHECK_NEAR(b.power_w, 61.25, 0);
    CHECK_NEAR(b.power_min_w, 60.5, 0);
    CHECK(b.samples == 12);
    CHECK_EQ_INT(b.utilization_max_pct, -1);
    CHECK(strcmp(b.domain, "gpu0") == 0);
    CHECK_EQ_INT(
        parse(HEAD "\"utilization_max_pct\": 100,\n\"power_w\": 0\n}\n", &b, err, sizeof err), 0);
    CHECK_EQ_INT(b.utilization_max_pct, 100);
}

/* Each of these texts is refused with a message naming the member. */
static void test_refused(void)
{
    static const struct {
        const char *text, *why;
    } cases[] = {
        {HEAD "\"power_w\": inf\n}\n", "power_w"},
        {HEAD "\"power_w\": nan\n}\n", "power_w"},
        {HEAD "\"power_w\": -1\n}\n", "power_w"},
        {HEAD "\"power_w\": 1e999\n}\n", "power_w"},
        {HEAD "\"power_uncertainty_w\": infinity,\n\"power_w\": 60\n}\n", "power_uncertainty_w"},
        {HEAD "\"duration_s\": NAN,\n\"power_w\": 60\n}\n", "duration_s"},
        {HEAD "\"samples\": 1e300,\n\"power_w\": 60\n}\n", "samples is out of range"},
        {HEAD "\"samples\": -5,\n\"power_w\": 60\n}\n", "samples is out of range"},
        {HEAD "\"samples\": -inf,\n\"power_w\": 60\n}\n", "samples is not a finite number"},
        {HEAD "\"utilization_max_pct\": 3e9,\n\"power_w\": 60\n}\n", "utilization_max_pct"},
        {HEAD "\"utilization_max_pct\": -2147483649,\n\"power_w\": 60\n}\n", "utilization_max_pct"},
        {HEAD "\"utilization_max_pct\": nan,\n\"power_w\": 60\n}\n", "utilization_max_pct"},
        {"{\"schema\": \"other/1\", \"power_w\": 60}", "not a joules.baseline/1 file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        io_baseline b;
        char err[256];
        CHECKF(parse(cases[i].text, &b, err, sizeof err) == -1, "case %zu accepted", i);
        CHECKF(strstr(err, cases[i].why) != NULL && strncmp(err, "b.json: ", 8) == 0,
               "case %zu: '%s' does not say '%s'", i, err, cases[i].why);
    }
}

int main(void)
{
    RUN(test_valid_file);
    RUN(test_refused);
    return t_end();
}
