/* SPDX-License-Identifier: MIT */
/*
 * rapl_perf.c - the perf_event fallback of the RAPL backend.
 *
 * When the powercap energy_uj files cannot be read (root-only since CVE-2020-8694, or the
 * intel_rapl_msr module is not loaded), the same RAPL counters are still offered by the
 * kernel's perf `power` PMU (<sysfs>/bus/event_source/devices/power), which a user may open
 * with perf_event_paranoid <= 0 or CAP_PERFMON. Its events are system-wide, opened on one CPU
 * of each package (the first CPU whose topology/physical_package_id names it), and count in
 * units given by the event's .scale file (2^-32 J). The kernel keeps these counts in 64 bits
 * and folds the 32-bit hardware counter on its own timer, so they do not wrap.
 */
#define _DEFAULT_SOURCE /* syscall() */
#include "backends/rapl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PERF_MAX_PACKAGES 64
#define PERF_PATH_MAX     4096

/* The events of the power PMU, a package before what it contains. */
static const struct {
    const char *event;
    joules_domain_kind kind;
} perf_events[] = {
    {"energy-pkg", JOULES_KIND_CPU_PACKAGE}, {"energy-cores", JOULES_KIND_CPU_CORE},
    {"energy-gpu", JOULES_KIND_CPU_UNCORE},  {"energy-ram", JOULES_KIND_DRAM},
    {"energy-psys", JOULES_KIND_PSYS},
};

struct package {
    int id;  /* physical_package_id */
    int cpu; /* the first CPU in it */
};

static int pkg_cmp(const void *a, const void *b)
{
    const struct package *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* One CPU per package, from devices/system/cpu/cpuN/topology/physical_package_id. */
static int find_packages(const char *root, struct package *pk, int max)
{
    char dir[PERF_PATH_MAX], path[PERF_PATH_MAX], text[32];
    int n = 0;
    joules__rapl_path(dir, sizeof dir, "%s/devices/system/cpu", root);
    DIR *dp = opendir(dir);
    struct dirent *e;
    while (dp && (e = readdir(dp)) != NULL) {
        if (strncmp(e->d_name, "cpu", 3) != 0 || !all_digits(e->d_name + 3))
            continue;
        int cpu = atoi(e->d_name + 3);
        joules__rapl_path(path, sizeof path, "%s/%s/topology/physical_package_id", dir, e->d_name);
        if (joules__rapl_read_text(path, text, sizeof text) != 0)
            continue;
        char *end;
        long id = strtol(text, &end, 10);
        if (end == text || *end || id < 0 || id > 1 << 20)
            continue;
        int k = 0;
        while (k < n && pk[k].id != (int)id)
            k++;
        if (k == n) {
            if (n == max)
                continue;
            pk[n].id = (int)id;
            pk[n++].cpu = cpu;
        } else if (cpu < pk[k].cpu) {
            pk[k].cpu = cpu;
        }
    }
    if (dp)
        closedir(dp);
    if (n == 0) { /* no topology in sysfs: one package, on CPU 0 */
        pk[0].id = 0;
        pk[0].cpu = 0;
        n = 1;
    }
    qsort(pk, (size_t)n, sizeof *pk, pkg_cmp);
    return n;
}

/*
 * An event's config and scale. Returns 1 when usable, 0 when the PMU lacks it, -1 when its
 * files are malformed or not in Joules (why says which).
 */
static int read_event(const char *pmu, const char *ev, uint64_t *config, double *scale, char *why,
                      size_t len)
{
    char path[PERF_PATH_MAX], text[96];
    joules__rapl_path(path, sizeof path, "%s/events/%s", pmu, ev);
    if (joules__rapl_read_text(path, text, sizeof text) != 0)
        return 0;
    const char *p = strstr(text, "event=");
    char *end = NULL;
    if (p) {
        errno = 0;
        *config = strtoull(p + 6, &end, 0);
    }
    if (!p || end == p + 6 || errno != 0 || (*end && *end != ',')) {
        joules__msg(why, len, "perf fallback: malformed %s", path);
        return -1;
    }
    /* The kernel has always counted in 2^-32 J; older kernels lack the .scale file. */
    *scale = ldexp(1.0, -32);
    joules__rapl_path(path, sizeof path, "%s/events/%s.scale", pmu, ev);
    if (joules__rapl_read_text(path, text, sizeof text) == 0) {
        *scale = strtod(text, &end);
        if (end == text || *end || !(*scale > 0) || !(*scale < 1)) {
            joules__msg(why, len, "perf fallback: malformed %s", path);
            return -1;
        }
    }
    joules__rapl_path(path, sizeof path, "%s/events/%s.unit", pmu, ev);
    if (joules__rapl_read_text(path, text, sizeof text) == 0 && strcmp(text, "Joules") != 0) {
        joules__msg(why, len, "perf fallback: %s is not in Joules", path);
        return -1;
    }
    return 1;
}

static int perf_open_one(uint32_t type, uint64_t config, int cpu)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = type;
    attr.size = sizeof attr;
    attr.config = config;
    long fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -errno : (int)fd;
}

int joules__rapl_perf_read(int fd, uint64_t *value)
{
    uint64_t v;
    ssize_t n;
    do {
        n = read(fd, &v, sizeof v);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n != (ssize_t)sizeof v)
        return -EIO;
    *value = v;
    return 0;
}

struct attempt {
    int err;       /* first perf_event_open errno, 0 if none failed */
    int malformed; /* why holds a malformed-file message */
};

/* Plan the events of one package. Returns the new plan size or JOULES_E_NOMEM. */
static int plan_package(const char *pmu, uint32_t type, const struct package *pk, int first,
                        uint32_t kinds, struct joules__rapl_plan *plan, int np, struct attempt *at,
                        char *why, size_t len)
{
    int pkg_plan = -1;
    for (size_t e = 0; e < sizeof perf_events / sizeof perf_events[0]; e++) {
        joules_domain_kind kind = perf_events[e].kind;
        uint64_t config;
        double scale;
        /* psys is one platform-wide counter: opened once, on the first package. */
        if (!(kinds & (uint32_t)kind) || (kind == JOULES_KIND_PSYS && !first))
            continue;
        int r = read_event(pmu, perf_events[e].event, &config, &scale, why, len);
        if (r <= 0) {
            at->malformed |= r < 0;
            continue;
        }
        int fd = perf_open_one(type, config, pk->cpu);
        if (fd < 0) {
            if (!at->err) {
                at->err = -fd;
            }
            continue;
        }
        struct joules__rapl_plan *p = &plan[np];
        joules__rapl_domain_defaults(&p->d, kind);
        p->fd = fd;
        p->perf = 1;
        p->path = malloc(PERF_PATH_MAX);
        if (!p->path) {
            close(fd);
            p->fd = -1;
            return JOULES_E_NOMEM;
        }
        snprintf(p->path, PERF_PATH_MAX, "perf_event power/%s/ on CPU %d", perf_events[e].event,
                 pk->cpu);
        joules__rapl_name(p->d.info.name, sizeof p->d.info.name, kind, pk->id, -1);
        if (kind == JOULES_KIND_PSYS)
            joules__msg(p->d.info.device, sizeof p->d.info.device, "platform");
        else
            joules__msg(p->d.info.device, sizeof p->d.info.device, "package-%d", pk->id);
        joules__msg(p->d.info.source, sizeof p->d.info.source,
                    "RAPL perf_event %s/events/%s on CPU %d", pmu, perf_events[e].event, pk->cpu);
        p->d.counter_unit_j = scale;
        p->d.counter_range = 0; /* 64-bit, folded by the kernel: never wraps in practice */
        p->d.poll_ns = 0;
        p->parent = kind == JOULES_KIND_CPU_CORE || kind == JOULES_KIND_CPU_UNCORE ? pkg_plan : -1;
        if (kind == JOULES_KIND_CPU_PACKAGE)
            pkg_plan = np;
        np++;
    }
    return np;
}

int joules__rapl_perf_open(joules_monitor *m, const char *root, uint32_t kinds,
                           struct joules__rapl_state *st, char *why, size_t len)
{
    char pmu[PERF_PATH_MAX], path[PERF_PATH_MAX], text[32] = "", e[96];
    joules__rapl_path(pmu, sizeof pmu, "%s/bus/event_source/devices/power", root);
    if (access(pmu, F_OK) != 0) {
        joules__msg(why, len, "no perf power PMU either");
        return 0;
    }
    joules__rapl_path(path, sizeof path, "%s/type", pmu);
    char *end = text;
    unsigned long type = 0;
    if (joules__rapl_read_text(path, text, sizeof text) == 0) {
        errno = 0;
        type = strtoul(text, &end, 10);
    }
    if (!isdigit((unsigned char)text[0]) || *end || errno || type > UINT32_MAX) {
        joules__msg(why, len, "perf fallback: unreadable or malformed %s", path);
        return 0;
    }
    struct package *pk = calloc(PERF_MAX_PACKAGES, sizeof *pk);
    int cap = PERF_MAX_PACKAGES * (int)(sizeof perf_events / sizeof perf_events[0]);
    struct joules__rapl_plan *plan = calloc((size_t)cap, sizeof *plan);
    if (!pk || !plan) {
        free(pk);
        free(plan);
        return JOULES_E_NOMEM;
    }
    for (int i = 0; i < cap; i++)
        plan[i].fd = -1;
    int npk = find_packages(root, pk, PERF_MAX_PACKAGES), np = 0;
    struct attempt at = {0, 0};
    why[0] = '\0';
    for (int k = 0; k < npk && np >= 0; k++)
        np = plan_package(pmu, (uint32_t)type, &pk[k], k == 0, kinds, plan, np, &at, why, len);
    int added = np > 0 ? joules__rapl_commit(m, st, plan, np) : np;
    if (added == 0) {
        if (at.err)
            joules__msg(why, len,
                        "perf_event_open(%s): %s (needs perf_event_paranoid<=0 or CAP_PERFMON)",
                        pmu, joules__rapl_strerror(at.err, e, sizeof e));
        else if (!at.malformed)
            joules__msg(why, len, "perf fallback %s: no event of the requested kinds", pmu);
    }
    joules__rapl_plan_free(plan, cap);
    free(pk);
    return added;
}
