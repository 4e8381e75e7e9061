/* SPDX-License-Identifier: MIT */
/*
 * compare_baseline.c - reading back a result of `joules compare --json` for --baseline: the
 * name and the runs (energy and time arrays) of its first command. The reader knows only
 * this schema's layout, which joules writes itself: it looks for the members by name, as
 * the baseline reader of io/baseline.c does, and refuses any other schema.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare/compare.h"

static char *slurp(const char *path, char *err, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, len, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        if (cap >= (size_t)64 << 20) {
            free(buf);
            buf = NULL;
            snprintf(err, len, "%s: larger than 64 MiB", path);
            fclose(f);
            return NULL;
        }
        char *bigger = realloc(buf, 2 * cap + 1);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    fclose(f);
    if (!buf) {
        snprintf(err, len, "%s: out of memory", path);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* The array of numbers after "key": [ ... ] from p on; null entries become NaN. */
static int number_array(const char *p, const char *key, double **out, int *n)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *q = strstr(p, pat);
    if (!q)
        return -1;
    q = strchr(q + strlen(pat), '[');
    if (!q)
        return -1;
    const char *end = strchr(q, ']');
    if (!end)
        return -1;
    int cap = 1;
    for (const char *c = q; c < end; c++)
        cap += *c == ',';
    double *v = malloc((size_t)cap * sizeof *v);
    if (!v)
        return -1;
    int m = 0;
    q++;
    while (q < end && m < cap) {
        while (q < end && (*q == ' ' || *q == '\n' || *q == '\r' || *q == '\t' || *q == ','))
            q++;
        if (q >= end)
            break;
        if (strncmp(q, "null", 4) == 0) {
            v[m++] = NAN;
            q += 4;
            continue;
        }
        char *e;
        double x = strtod(q, &e);
        if (e == q) {
            free(v);
            return -1;
        }
        v[m++] = x;
        q = e;
    }
    *out = v;
    *n = m;
    return 0;
}

int cmp_baseline_load(const char *path, struct cmp_baseline *b, char *err, size_t len)
{
    memset(b, 0, sizeof *b);
    snprintf(b->path, sizeof b->path, "%s", path);
    char *text = slurp(path, err, len);
    if (!text)
        return -1;
    int rc = -1;
    const char *cmds = strstr(text, "\"commands\":");
    if (!strstr(text, "\"schema\": \"" CMP_SCHEMA "\"") || !cmds) {
        snprintf(err, len, "%s: not a result of joules compare --json (schema %s)", path,
                 CMP_SCHEMA);
        goto out;
    }
    const char *name = strstr(cmds, "\"name\": \"");
    if (name) {
        name += 9;
        size_t l = strcspn(name, "\"");
        if (l >= sizeof b->name)
            l = sizeof b->name - 1;
        memcpy(b->name, name, l);
        b->name[l] = '\0';
    }
    int ne = 0, nt = 0;
    if (number_array(cmds, "runs_energy_j", &b->energy_j, &ne) != 0 ||
        number_array(cmds, "runs_time_s", &b->time_s, &nt) != 0 || ne != nt || ne == 0) {
        snprintf(err, len, "%s: no runs of its first command could be read", path);
        goto out;
    }
    b->n = ne;
    rc = 0;
out:
    free(text);
    if (rc != 0)
        cmp_baseline_free(b);
    return rc;
}

void cmp_baseline_free(struct cmp_baseline *b)
{
    free(b->energy_j);
    free(b->time_s);
    b->energy_j = b->time_s = NULL;
    b->n = 0;
}
