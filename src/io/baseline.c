/* SPDX-License-Identifier: MIT */
/*
 * baseline.c - storing and loading static-power baselines (see baseline.h). The reader
 * reads only what the writer writes (one flat JSON object, one member a line): it looks each
 * member up by name, so members added later are ignored and a missing one keeps its default.
 */
#include "io/baseline.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/atomic.h"
#include "io/json.h"

int baseline_dir(char *buf, size_t len, int create, char *err, size_t elen)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char base[4096];
    /* The XDG specification says a relative value is to be ignored. */
    if (xdg && xdg[0] == '/')
        snprintf(base, sizeof base, "%s", xdg);
    else if (home && home[0])
        snprintf(base, sizeof base, "%s/.cache", home);
    else {
        snprintf(err, elen, "neither XDG_CACHE_HOME nor HOME is set: no cache directory");
        return -1;
    }
    int n = snprintf(buf, len, "%s/joules", base);
    if (n < 0 || (size_t)n >= len) {
        snprintf(err, elen, "cache directory name too long");
        return -1;
    }
    if (!create)
        return 0;
    if ((mkdir(base, 0700) != 0 && errno != EEXIST) || (mkdir(buf, 0700) != 0 && errno != EEXIST)) {
        snprintf(err, elen, "cannot create %s: %s", buf, strerror(errno));
        return -1;
    }
    return 0;
}

const char *baseline_clock_state(int pstate, char *buf, size_t len)
{
    if (pstate >= 0 && pstate < 16)
        snprintf(buf, len, "P%d", pstate);
    else
        snprintf(buf, len, "none");
    return buf;
}

int baseline_path(char *buf, size_t len, const char *dir, const joules_domain_info *info,
                  const char *clock_state)
{
    char key[160];
    snprintf(key, sizeof key, "%s", info->uuid[0] ? info->uuid : info->name);
    /* The key becomes a file name: keep it to a portable alphabet. */
    for (char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.' || *p == '_'))
            *p = '_';
    int n;
    if (clock_state && strcmp(clock_state, "none") != 0)
        n = snprintf(buf, len, "%s/baseline-%s-%s.json", dir, key, clock_state);
    else
        n = snprintf(buf, len, "%s/baseline-%s.json", dir, key);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int baseline_store(const char *path, const io_baseline *b, char *err, size_t len)
{
    io_atomic a;
    if (io_atomic_open(&a, path, err, len) != 0)
        return -1;
    io_json j;
    io_json_init(&j, a.f, 1);
    io_json_object_begin(&j);
    io_json_kv_string(&j, "schema", JOULES_BASELINE_SCHEMA);
    io_json_kv_string(&j, "joules_version", joules_version());
    io_json_kv_string(&j, "domain", b->domain);
    io_json_kv_string(&j, "kind", b->kind);
    io_json_kv_string(&j, "device", b->device);
    io_json_kv_string(&j, "uuid", b->uuid[0] ? b->uuid : NULL);
    io_json_kv_bool(&j, "simulated", b->simulated);
    io_json_kv_string(&j, "clock_state", b->clock_state);
    io_json_kv_number(&j, "created_unix_s", b->created_unix_s);
    io_json_kv_number(&j, "duration_s", b->duration_s);
    io_json_kv_int(&j, "samples", b->samples);
    io_json_kv_string(&j, "method", b->method);
    io_json_kv_number(&j, "power_w", b->power_w);
    io_json_kv_number(&j, "power_uncertainty_w", b->power_uncertainty_w);
    io_json_kv_number(&j, "power_stddev_w", b->power_stddev_w);
    io_json_kv_number(&j, "power_min_w", b->power_min_w);
    io_json_kv_number(&j, "power_max_w", b->power_max_w);
    if (b->utilization_max_pct >= 0)
        io_json_kv_int(&j, "utilization_max_pct", b->utilization_max_pct);
    else
        io_json_kv_null(&j, "utilization_max_pct");
    io_json_kv_bool(&j, "idle_ok", b->idle_ok);
    io_json_object_end(&j);
    if (io_json_finish(&j) != 0) {
        snprintf(err, len, "%s: write error", path);
        io_atomic_abort(&a);
        return -1;
    }
    return io_atomic_commit(&a, err, len);
}

/* The text after "key": (spaces skipped), or NULL. */
static const char *member(const char *text, const char *key)
{
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(text, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static void get_string(const char *text, const char *key, char *out, size_t len)
{
    const char *p = member(text, key);
    if (!p || *p != '"')
        return;
    size_t n = 0;
    for (p++; *p && *p != '"' && n + 1 < len; p++) {
        if (*p == '\\' && p[1])
            p++; /* \" and \\; our writer emits nothing else in these fields */
        out[n++] = *p;
    }
    out[n] = '\0';
}

/* 0 with *out set; 1 where the member is absent or not a number (the writer's null); -1 where
 * it is a number that is not finite (strtod takes "inf" and "nan", which no writer emits). */
static int get_number(const char *text, const char *key, double *out)
{
    const char *p = member(text, key);
    if (!p)
        return 1;
    char *end;
    double v = strtod(p, &end);
    if (end == p)
        return 1;
    if (!isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int bad_member(const char *path, const char *key, const char *why, char *err, size_t len)
{
    snprintf(err, len, "%s: %s %s", path, key, why);
    return -1;
}

/* A number member that has to lie in [lo, hi] to be cast to an integer; *out keeps its value
 * where the member is absent. */
static int get_bounded(const char *text, const char *path, const char *key, double lo, double hi,
                       double *out, char *err, size_t len)
{
    double v;
    int rc = get_number(text, key, &v);
    if (rc < 0)
        return bad_member(path, key, "is not a finite number", err, len);
    if (rc == 0 && !(v >= lo && v <= hi))
        return bad_member(path, key, "is out of range", err, len);
    if (rc == 0)
        *out = v;
    return 0;
}

static int get_bool(const char *text, const char *key)
{
    const char *p = member(text, key);
    return p && strncmp(p, "true", 4) == 0;
}

int baseline_parse(const char *text, const char *path, io_baseline *b, char *err, size_t len)
{
    memset(b, 0, sizeof *b);
    char schema[64] = "";
    get_string(text, "schema", schema, sizeof schema);
    if (strcmp(schema, JOULES_BASELINE_SCHEMA) != 0) {
        snprintf(err, len, "%s: not a %s file", path, JOULES_BASELINE_SCHEMA);
        return -1;
    }
    get_string(text, "domain", b->domain, sizeof b->domain);
    get_string(text, "kind", b->kind, sizeof b->kind);
    get_string(text, "device", b->device, sizeof b->device);
    get_string(text, "uuid", b->uuid, sizeof b->uuid);
    get_string(text, "clock_state", b->clock_state, sizeof b->clock_state);
    get_string(text, "method", b->method, sizeof b->method);
    b->simulated = get_bool(text, "simulated");
    b->idle_ok = get_bool(text, "idle_ok");
    double util = -1, samples = 0;
    /* Casts only within these bounds: a percentage, and a count a long holds on every ABI. */
    if (get_bounded(text, path, "utilization_max_pct", -1, 100, &util, err, len) != 0 ||
        get_bounded(text, path, "samples", 0, 2147483647.0, &samples, err, len) != 0)
        return -1;
    b->utilization_max_pct = (int)util;
    b->samples = (long)samples;
    struct {
        const char *key;
        double *to;
    } reals[] = {{"created_unix_s", &b->created_unix_s},
                 {"duration_s", &b->duration_s},
                 {"power_uncertainty_w", &b->power_uncertainty_w},
                 {"power_stddev_w", &b->power_stddev_w},
                 {"power_min_w", &b->power_min_w},
                 {"power_max_w", &b->power_max_w}};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        if (get_number(text, reals[i].key, reals[i].to) < 0)
            return bad_member(path, reals[i].key, "is not a finite number", err, len);
    if (get_number(text, "power_w", &b->power_w) != 0 || !(b->power_w >= 0)) {
        snprintf(err, len, "%s: no valid power_w", path);
        return -1;
    }
    return 0;
}

int baseline_load(const char *path, io_baseline *b, int *missing, char *err, size_t len)
{
    memset(b, 0, sizeof *b);
    *missing = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        *missing = errno == ENOENT;
        snprintf(err, len, "%s: %s", path, strerror(errno));
        return -1;
    }
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return baseline_parse(text, path, b, err, len);
}

void baseline_dynamic(const io_baseline *b, double energy_j, double uncertainty_j,
                      double duration_s, double *dynamic_j, double *dynamic_uncertainty_j)
{
    *dynamic_j = energy_j - b->power_w * duration_s;
    *dynamic_uncertainty_j = hypot(uncertainty_j, b->power_uncertainty_w * duration_s);
}
