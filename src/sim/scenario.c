/* SPDX-License-Identifier: MIT */
/*
 * scenario.c - the scenario format of the simulated GPU (docs/scenarios.md): one directive
 * per line, '#' starts a comment, `key=value` options after the positional arguments. The
 * parser is strict: an unknown directive or key, a missing or out-of-range value, or a
 * duplicate setting stops it with "file:line: message".
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/scenario_values.h"
#include "sim/sim.h"

#define MAX_TOKENS 16

/* name then the formatted rest into err, the name shortened from its start when the whole
 * does not fit: the end of a path, the line and the message always reach the user. */
__attribute__((format(printf, 5, 6))) static int
fail_at(struct sim_scenario *s, char *err, size_t len, const char *name, const char *fmt, ...)
{
    char tail[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tail, sizeof tail, fmt, ap);
    va_end(ap);
    s->err_name_len = sim_join_elided(err, len, name, strlen(name), tail);
    return -1;
}

int sim_scn_fail(struct parser *ps, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fail_at(ps->s, ps->err, ps->len, ps->name, ":%d: %s", ps->line, msg);
}

void sim_scenario_init(struct sim_scenario *s)
{
    memset(s, 0, sizeof *s);
    s->repeat = 1;
    s->t_amb = s->r_th = s->c_th = s->t_init = SIM_UNSET;
    s->governor = 1;
    s->power_limit_w = SIM_UNSET;
    for (int d = 0; d < SIM_MAX_DEVICES; d++) {
        s->tick_phase_ms[d] = -1;  /* unset: from the seed, or 0 on an exact clock */
        s->tick_jitter_ms[d] = -1; /* unset: SIM_TICK_JITTER, or 0 on an exact clock */
    }
}

void sim_scenario_free(struct sim_scenario *s)
{
    free(s->phases);
    s->phases = NULL;
    s->n_phases = 0;
}

static const struct {
    const char *name;
    int code;
} codes[] = {
    {"UNKNOWN", NVML_ERROR_UNKNOWN},
    {"TIMEOUT", NVML_ERROR_TIMEOUT},
    {"NOT_SUPPORTED", NVML_ERROR_NOT_SUPPORTED},
    {"NO_PERMISSION", NVML_ERROR_NO_PERMISSION},
    {"GPU_IS_LOST", NVML_ERROR_GPU_IS_LOST},
    {"NO_DATA", NVML_ERROR_NO_DATA},
    {"NOT_READY", NVML_ERROR_NOT_READY},
    {"IN_USE", NVML_ERROR_IN_USE},
    {"IRQ_ISSUE", NVML_ERROR_IRQ_ISSUE},
    {"MEMORY", NVML_ERROR_MEMORY},
};

static int parse_phase(struct parser *ps, struct sim_scenario *s, char **tok, int nt, int idle)
{
    struct sim_phase ph = {.util = idle ? 0 : 1, .alpha = 0.5, .power_w = -1, .context = !idle};
    if (nt < 2)
        return sim_scn_fail(ps, "%s: missing duration (e.g. '%s 2s')", tok[0], tok[0]);
    if (sim_scn_duration(ps, tok[1], "duration", &ph.dur_s) != 0)
        return -1;
    for (int i = 2; i < nt; i++) {
        char *v = sim_scn_split_kv(tok[i]);
        if (!v)
            return sim_scn_fail(ps, "%s: expected key=value, got '%s'", tok[0], tok[i]);
        int ok;
        if (!idle && !strcmp(tok[i], "util"))
            ok = sim_scn_fraction(ps, v, "util", &ph.util);
        else if (!idle && !strcmp(tok[i], "alpha"))
            ok = sim_scn_num_range(ps, v, "alpha", 0, 2, &ph.alpha);
        else if (!idle && !strcmp(tok[i], "power"))
            ok = sim_scn_num_range(ps, v, "power", 0, 5000, &ph.power_w);
        else if (!idle && !strcmp(tok[i], "mem"))
            ok = sim_scn_num_range(ps, v, "mem (GB/s)", 0, 100000, &ph.mem_gbs);
        else if (!strcmp(tok[i], "context"))
            ok = sim_scn_boolean(ps, v, "context", &ph.context);
        else if (idle)
            return sim_scn_fail(ps, "idle: unknown key '%s' (expected context)", tok[i]);
        else
            return sim_scn_fail(
                ps, "phase: unknown key '%s' (expected util, alpha, power, mem, context)", tok[i]);
        if (ok != 0)
            return -1;
    }
    if (s->n_phases >= SIM_MAX_PHASES)
        return sim_scn_fail(ps, "too many phases (at most %d)", SIM_MAX_PHASES);
    if (s->n_phases % 64 == 0) {
        struct sim_phase *np = realloc(s->phases, (size_t)(s->n_phases + 64) * sizeof *np);
        if (!np)
            return sim_scn_fail(ps, "out of memory");
        s->phases = np;
    }
    s->phases[s->n_phases++] = ph;
    return 0;
}

static int parse_fault(struct parser *ps, struct sim_scenario *s, char **tok, int nt)
{
    struct sim_fault f = {.device = -1, .until_s = INFINITY, .code = NVML_ERROR_UNKNOWN};
    int have_at = 0, have_rate = 0, have_xid = 0;
    if (nt < 2)
        return sim_scn_fail(
            ps, "fault: missing kind (lost, reset, errors, no-energy, old-driver, xid)");
    if (!strcmp(tok[1], "lost"))
        f.kind = SIM_FAULT_LOST;
    else if (!strcmp(tok[1], "reset"))
        f.kind = SIM_FAULT_RESET;
    else if (!strcmp(tok[1], "errors"))
        f.kind = SIM_FAULT_ERRORS;
    else if (!strcmp(tok[1], "no-energy"))
        f.kind = SIM_FAULT_NO_ENERGY;
    else if (!strcmp(tok[1], "old-driver"))
        f.kind = SIM_FAULT_OLD_DRIVER;
    else if (!strcmp(tok[1], "xid"))
        f.kind = SIM_FAULT_XID;
    else
        return sim_scn_fail(ps,
                            "fault: unknown kind '%s' (expected lost, reset, errors, no-energy, "
                            "old-driver, xid)",
                            tok[1]);
    for (int i = 2; i < nt; i++) {
        char *v = sim_scn_split_kv(tok[i]);
        if (!v)
            return sim_scn_fail(ps, "fault %s: expected key=value, got '%s'", tok[1], tok[i]);
        int ok = 0;
        if (!strcmp(tok[i], "device")) {
            ok = sim_scn_device_opt(ps, v, &f.device);
        } else if ((f.kind == SIM_FAULT_LOST || f.kind == SIM_FAULT_RESET ||
                    f.kind == SIM_FAULT_XID) &&
                   !strcmp(tok[i], "at")) {
            ok = sim_scn_duration(ps, v, "at", &f.at_s);
            have_at = 1;
        } else if (f.kind == SIM_FAULT_XID && !strcmp(tok[i], "xid")) {
            double x = 0;
            ok = sim_scn_num_range(ps, v, "xid", 1, 1000, &x);
            if (ok == 0 && x != floor(x))
                return sim_scn_fail(ps, "fault xid: xid=%s is not an integer", v);
            f.code = (int)x;
            have_xid = 1;
        } else if (f.kind == SIM_FAULT_ERRORS && !strcmp(tok[i], "rate")) {
            ok = sim_scn_num_range(ps, v, "rate", 0, 1, &f.rate);
            have_rate = 1;
        } else if (f.kind == SIM_FAULT_ERRORS && !strcmp(tok[i], "from")) {
            ok = sim_scn_duration(ps, v, "from", &f.at_s);
        } else if (f.kind == SIM_FAULT_ERRORS && !strcmp(tok[i], "until")) {
            ok = sim_scn_duration(ps, v, "until", &f.until_s);
        } else if (f.kind == SIM_FAULT_ERRORS && !strcmp(tok[i], "code")) {
            size_t k;
            for (k = 0; k < sizeof codes / sizeof codes[0]; k++)
                if (!strcasecmp(v, codes[k].name))
                    break;
            if (k == sizeof codes / sizeof codes[0])
                return sim_scn_fail(
                    ps,
                    "fault errors: unknown code '%s' (UNKNOWN, TIMEOUT, "
                    "NOT_SUPPORTED, NO_PERMISSION, GPU_IS_LOST, NO_DATA, NOT_READY, "
                    "IN_USE, IRQ_ISSUE, MEMORY)",
                    v);
            f.code = codes[k].code;
        } else {
            return sim_scn_fail(ps, "fault %s: unknown key '%s'", tok[1], tok[i]);
        }
        if (ok != 0)
            return -1;
    }
    if ((f.kind == SIM_FAULT_LOST || f.kind == SIM_FAULT_RESET || f.kind == SIM_FAULT_XID) &&
        !have_at)
        return sim_scn_fail(ps, "fault %s: missing at=TIME", tok[1]);
    if (f.kind == SIM_FAULT_XID && !have_xid)
        return sim_scn_fail(ps, "fault xid: missing xid=N (the Xid number, 1..1000)");
    if (f.kind == SIM_FAULT_ERRORS && !have_rate)
        return sim_scn_fail(ps, "fault errors: missing rate=R (0..1)");
    if (f.kind == SIM_FAULT_ERRORS && f.until_s <= f.at_s)
        return sim_scn_fail(ps, "fault errors: until must be after from");
    if (s->n_faults >= SIM_MAX_FAULTS)
        return sim_scn_fail(ps, "too many faults (at most %d)", SIM_MAX_FAULTS);
    s->faults[s->n_faults++] = f;
    return 0;
}

static int parse_cooling(struct parser *ps, struct sim_scenario *s, char **tok, int nt)
{
    if (nt < 2)
        return sim_scn_fail(ps, "cooling: expected strong, normal, weak or r=K/W [c=J/K]");
    if (s->r_th != SIM_UNSET)
        return sim_scn_fail(ps, "cooling is set twice");
    /* Presets are factors of the profile's R_th, resolved at build time (negative = factor). */
    if (!strcmp(tok[1], "strong") || !strcmp(tok[1], "normal") || !strcmp(tok[1], "weak")) {
        if (nt > 2)
            return sim_scn_fail(ps, "cooling %s: unexpected '%s'", tok[1], tok[2]);
        s->r_th = !strcmp(tok[1], "strong") ? -0.5 : !strcmp(tok[1], "normal") ? -1.0 : -2.0;
        return 0;
    }
    for (int i = 1; i < nt; i++) {
        char *v = sim_scn_split_kv(tok[i]);
        int ok;
        if (v && !strcmp(tok[i], "r"))
            ok = sim_scn_num_range(ps, v, "cooling r (K/W)", 0.001, 100, &s->r_th);
        else if (v && !strcmp(tok[i], "c"))
            ok = sim_scn_num_range(ps, v, "cooling c (J/K)", 0.01, 1e6, &s->c_th);
        else
            return sim_scn_fail(ps, "cooling: unknown option '%s' (strong, normal, weak, r=, c=)",
                                tok[i]);
        if (ok != 0)
            return -1;
    }
    if (s->r_th == SIM_UNSET)
        return sim_scn_fail(ps, "cooling: missing r=K/W");
    return 0;
}

/* A whole number of ms from 0 to max_ms: when, within the first 100 ms, the sensor and the
 * counter first update (phase=), or how far each period may wander from 100 ms (jitter=). */
static int sensor_ms(struct parser *ps, const char *tok, const char *what, int max_ms, double *ms)
{
    double s = 0;
    if (sim_scn_duration(ps, tok, what, &s) != 0)
        return -1;
    *ms = floor(s * 1000.0 + 0.5);
    if (*ms < 0 || *ms > max_ms || fabs(*ms - s * 1000.0) > 1e-6)
        return sim_scn_fail(ps, "sensor: %s=%s must be a whole number of ms from 0 to %dms", what,
                            tok, max_ms);
    return 0;
}

static int parse_sensor(struct parser *ps, struct sim_scenario *s, char **tok, int nt)
{
    int dev = -1;
    double gain = SIM_UNSET, off = SIM_UNSET, phase = SIM_UNSET, jitter = SIM_UNSET;
    for (int i = 1; i < nt; i++) {
        char *v = sim_scn_split_kv(tok[i]);
        int ok;
        if (v && !strcmp(tok[i], "device"))
            ok = sim_scn_device_opt(ps, v, &dev);
        else if (v && !strcmp(tok[i], "gain"))
            ok = sim_scn_num_range(ps, v, "gain", -0.5, 0.5, &gain);
        else if (v && !strcmp(tok[i], "offset"))
            ok = sim_scn_num_range(ps, v, "offset (W)", -100, 100, &off);
        else if (v && !strcmp(tok[i], "phase"))
            ok = sensor_ms(ps, v, "phase", SIM_TICK_STEPS - 1, &phase);
        else if (v && !strcmp(tok[i], "jitter"))
            ok = sensor_ms(ps, v, "jitter", SIM_MAX_JITTER, &jitter);
        else
            return sim_scn_fail(
                ps, "sensor: unknown option '%s' (gain=, offset=, phase=, jitter=, device=)",
                tok[i]);
        if (ok != 0)
            return -1;
    }
    for (int d = 0; d < SIM_MAX_DEVICES; d++) {
        if (dev >= 0 && d != dev)
            continue;
        if (gain != SIM_UNSET)
            s->gain[d] = gain;
        if (off != SIM_UNSET)
            s->offset_w[d] = off;
        if (phase != SIM_UNSET)
            s->tick_phase_ms[d] = (int)phase;
        if (jitter != SIM_UNSET)
            s->tick_jitter_ms[d] = (int)jitter;
    }
    return 0;
}

static int parse_line(struct parser *ps, struct sim_scenario *s, char **tok, int nt, int *seen)
{
    const char *d = tok[0];
    double v;
    enum {
        S_PROFILE = 1,
        S_DEVICES = 2,
        S_SEED = 4,
        S_AMB = 8,
        S_GOV = 16,
        S_LIMIT = 32,
        S_LOCK = 64,
        S_REPEAT = 128,
        S_TEMP = 256
    };
#define ONCE(bit, nm)                                                                              \
    do {                                                                                           \
        if (*seen & (bit))                                                                         \
            return sim_scn_fail(ps, "%s is set twice", nm);                                        \
        *seen |= (bit);                                                                            \
    } while (0)
#define NARGS(n)                                                                                   \
    do {                                                                                           \
        if (nt != (n) + 1)                                                                         \
            return sim_scn_fail(ps, "%s: expected %d argument%s, got %d", d, (n),                  \
                                (n) == 1 ? "" : "s", nt - 1);                                      \
    } while (0)
    if (!strcmp(d, "phase"))
        return parse_phase(ps, s, tok, nt, 0);
    if (!strcmp(d, "idle"))
        return parse_phase(ps, s, tok, nt, 1);
    if (!strcmp(d, "fault"))
        return parse_fault(ps, s, tok, nt);
    if (!strcmp(d, "cooling"))
        return parse_cooling(ps, s, tok, nt);
    if (!strcmp(d, "sensor"))
        return parse_sensor(ps, s, tok, nt);
    if (!strcmp(d, "profile")) {
        ONCE(S_PROFILE, d);
        NARGS(1);
        if (!sim_profile_find(tok[1]))
            return sim_scn_fail(ps, "profile: unknown '%s' (known: %s)", tok[1],
                                sim_profile_keys());
        snprintf(s->profile, sizeof s->profile, "%s", tok[1]);
        return 0;
    }
    if (!strcmp(d, "devices")) {
        ONCE(S_DEVICES, d);
        NARGS(1);
        if (sim_scn_num_range(ps, tok[1], d, 1, SIM_MAX_DEVICES, &v) != 0)
            return -1;
        if (v != floor(v))
            return sim_scn_fail(ps, "devices: '%s' is not an integer", tok[1]);
        s->devices = (int)v;
        return 0;
    }
    if (!strcmp(d, "seed")) {
        ONCE(S_SEED, d);
        NARGS(1);
        char *end;
        errno = 0;
        unsigned long long u = strtoull(tok[1], &end, 0);
        if (*end || end == tok[1] || errno || tok[1][0] == '-')
            return sim_scn_fail(ps, "seed: '%s' is not an unsigned integer", tok[1]);
        s->seed = u, s->has_seed = 1;
        return 0;
    }
    if (!strcmp(d, "ambient")) {
        ONCE(S_AMB, d);
        NARGS(1);
        /* Below 0 °C the model's leakage and cooling laws are not calibrated (a negative value
         * would also read as a factor of the default at build time): refused. */
        return sim_scn_num_range(ps, tok[1], "ambient (°C)", 0, 80, &s->t_amb);
    }
    if (!strcmp(d, "temperature")) {
        ONCE(S_TEMP, d);
        NARGS(1);
        return sim_scn_num_range(ps, tok[1], "temperature (°C)", 0, 150, &s->t_init);
    }
    if (!strcmp(d, "governor")) {
        ONCE(S_GOV, d);
        NARGS(1);
        return sim_scn_boolean(ps, tok[1], d, &s->governor);
    }
    if (!strcmp(d, "power-limit")) {
        ONCE(S_LIMIT, d);
        NARGS(1);
        return sim_scn_num_range(ps, tok[1], "power-limit (W)", 1, 5000, &s->power_limit_w);
    }
    if (!strcmp(d, "lock-clocks")) {
        double lo, hi;
        ONCE(S_LOCK, d);
        NARGS(2);
        if (sim_scn_num_range(ps, tok[1], "lock-clocks min (MHz)", 1, 10000, &lo) != 0 ||
            sim_scn_num_range(ps, tok[2], "lock-clocks max (MHz)", 1, 10000, &hi) != 0)
            return -1;
        if (lo > hi)
            return sim_scn_fail(ps, "lock-clocks: min %g > max %g", lo, hi);
        s->lock_min = (unsigned)lo, s->lock_max = (unsigned)hi;
        return 0;
    }
    if (!strcmp(d, "repeat")) {
        ONCE(S_REPEAT, d);
        NARGS(1);
        if (!strcmp(tok[1], "forever")) {
            s->repeat = 0;
            return 0;
        }
        if (sim_scn_num_range(ps, tok[1], "repeat", 1, 1e9, &v) != 0)
            return -1;
        if (v != floor(v))
            return sim_scn_fail(ps, "repeat: '%s' is not an integer (or 'forever')", tok[1]);
        s->repeat = (int)v;
        return 0;
    }
    return sim_scn_fail(
        ps,
        "unknown directive '%s' (expected profile, devices, seed, ambient, temperature, "
        "cooling, governor, power-limit, lock-clocks, sensor, repeat, idle, phase, fault)",
        d);
#undef ONCE
#undef NARGS
}

int sim_scenario_parse(struct sim_scenario *s, const char *text, const char *name, char *err,
                       size_t len)
{
    struct parser ps = {.name = name, .line = 0, .err = err, .len = len, .s = s};
    int seen = 0;
    const char *p = text;
    while (*p) {
        char buf[1024];
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        ps.line++;
        if (n >= sizeof buf)
            return sim_scn_fail(&ps, "line too long (at most %zu characters)", sizeof buf - 1);
        memcpy(buf, p, n);
        buf[n] = '\0';
        p += n + (eol ? 1 : 0);
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        char *tok[MAX_TOKENS];
        int nt = 0;
        for (char *save = NULL, *t = strtok_r(buf, " \t\r", &save); t;
             t = strtok_r(NULL, " \t\r", &save)) {
            if (nt == MAX_TOKENS)
                return sim_scn_fail(&ps, "too many fields (at most %d)", MAX_TOKENS);
            tok[nt++] = t;
        }
        if (nt == 0)
            continue;
        if (parse_line(&ps, s, tok, nt, &seen) != 0)
            return -1;
    }
    if (s->repeat != 1 && s->n_phases == 0) {
        ps.line = 0;
        return sim_scn_fail(&ps, "repeat without any phase");
    }
    if (s->repeat != 1) {
        /* Each round must last at least one model step: a round of zero-length phases would
         * make the model loop over rounds without advancing time (repeat forever: never
         * return; a large count: hold the model's lock for as many rounds). */
        double total = 0;
        for (int i = 0; i < s->n_phases; i++)
            total += s->phases[i].dur_s;
        if (total < 1e-3) {
            ps.line = 0;
            return sim_scn_fail(&ps, "repeat %s needs phases lasting at least 1 ms in total",
                                s->repeat == 0 ? "forever" : "N");
        }
    }
    return 0;
}

int sim_scenario_load(struct sim_scenario *s, const char *path, char *err, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail_at(s, err, len, path, ": cannot open scenario: %s", strerror(errno));
    size_t cap = 1 << 20, n;
    char *text = malloc(cap + 1);
    if (!text) {
        fclose(f);
        return fail_at(s, err, len, path, ": out of memory");
    }
    n = fread(text, 1, cap, f);
    int bad = ferror(f);
    int more = !bad && fgetc(f) != EOF;
    fclose(f);
    if (bad || more) {
        free(text);
        return fail_at(s, err, len, path, ": %s",
                       bad ? "cannot read scenario" : "scenario larger than 1 MiB");
    }
    text[n] = '\0';
    if (memchr(text, '\0', n)) {
        free(text);
        return fail_at(s, err, len, path, ": not a text file (NUL byte)");
    }
    int rc = sim_scenario_parse(s, text, path, err, len);
    free(text);
    return rc;
}
