/* SPDX-License-Identifier: MIT */
/*
 * scenario_values.c - the values of the scenario format: numbers, durations, fractions,
 * booleans, `key=value` splitting and device numbers, each refused with file:line and the
 * valid range when it does not parse or lies outside it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/scenario_values.h"
#include "sim/sim.h"

/* A number, all of the token. */
int sim_scn_num(struct parser *ps, const char *tok, const char *what, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(tok, &end);
    if (end == tok || *end != '\0' || errno != 0 || !isfinite(v)) {
        /* -1 said here, not through sim_scn_fail(): the analyzer does not follow variadic calls and
         * would take *out as possibly unset on a 0 from it. */
        (void)sim_scn_fail(ps, "%s: '%s' is not a number", what, tok);
        return -1;
    }
    *out = v;
    return 0;
}

int sim_scn_num_range(struct parser *ps, const char *tok, const char *what, double lo, double hi,
                      double *out)
{
    if (sim_scn_num(ps, tok, what, out) != 0)
        return -1;
    if (*out < lo || *out > hi)
        return sim_scn_fail(ps, "%s: %s is out of range [%g, %g]", what, tok, lo, hi);
    return 0;
}

/* The longest duration a scenario may give (about 31 years). The model counts 1-ms steps in a
 * long long and places phase ends and faults by rounding seconds to steps: any longer value,
 * or the 4096 phases' sum of them, would leave that range, and a phase end that rounding can
 * no longer move stops the scenario's cursor from advancing. */
#define SCN_MAX_DURATION_S 1e9

/* Duration: "2", "2s", "400ms", "1.5min". */
int sim_scn_duration(struct parser *ps, const char *tok, const char *what, double *out)
{
    char buf[64];
    double scale = 1;
    size_t n = strlen(tok);
    if (n >= sizeof buf)
        return sim_scn_fail(ps, "%s: '%s' is too long", what, tok);
    memcpy(buf, tok, n + 1);
    if (n > 2 && strcmp(buf + n - 2, "ms") == 0)
        scale = 1e-3, buf[n - 2] = '\0';
    else if (n > 3 && strcmp(buf + n - 3, "min") == 0)
        scale = 60, buf[n - 3] = '\0';
    else if (n > 1 && buf[n - 1] == 's')
        buf[n - 1] = '\0';
    if (sim_scn_num(ps, buf, what, out) != 0)
        return -1;
    *out *= scale;
    if (*out < 0)
        return sim_scn_fail(ps, "%s: negative duration '%s'", what, tok);
    if (*out > SCN_MAX_DURATION_S)
        return sim_scn_fail(ps, "%s: '%s' is longer than %.0f s", what, tok, SCN_MAX_DURATION_S);
    return 0;
}

/* Fraction: "0.8" or "80%". */
int sim_scn_fraction(struct parser *ps, const char *tok, const char *what, double *out)
{
    char buf[64];
    size_t n = strlen(tok);
    if (n == 0 || n >= sizeof buf)
        return sim_scn_fail(ps, "%s: bad value '%s'", what, tok);
    memcpy(buf, tok, n + 1);
    int pct = buf[n - 1] == '%';
    if (pct)
        buf[n - 1] = '\0';
    if (sim_scn_num(ps, buf, what, out) != 0)
        return -1;
    if (pct)
        *out /= 100;
    if (*out < 0 || *out > 1)
        return sim_scn_fail(ps, "%s: %s is out of range [0, 1] (or 0%%..100%%)", what, tok);
    return 0;
}

int sim_scn_boolean(struct parser *ps, const char *tok, const char *what, int *out)
{
    if (!strcmp(tok, "1") || !strcmp(tok, "on") || !strcmp(tok, "yes") || !strcmp(tok, "true"))
        return *out = 1, 0;
    if (!strcmp(tok, "0") || !strcmp(tok, "off") || !strcmp(tok, "no") || !strcmp(tok, "false"))
        return *out = 0, 0;
    return sim_scn_fail(ps, "%s: expected on/off (or 1/0), got '%s'", what, tok);
}

/* Split "key=value"; a token without '=' gives value NULL. */
char *sim_scn_split_kv(char *tok)
{
    char *eq = strchr(tok, '=');
    if (!eq)
        return NULL;
    *eq = '\0';
    return eq + 1;
}

int sim_scn_device_opt(struct parser *ps, const char *v, int *dev)
{
    double d;
    if (sim_scn_num_range(ps, v, "device", 0, SIM_MAX_DEVICES - 1, &d) != 0)
        return -1;
    if (d != floor(d))
        return sim_scn_fail(ps, "device: '%s' is not an integer", v);
    *dev = (int)d;
    return 0;
}
