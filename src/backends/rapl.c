/* SPDX-License-Identifier: MIT */
/*
 * rapl.c - CPU package, core, uncore, DRAM and platform (psys) energy through Linux RAPL.
 *
 * The powercap driver publishes each RAPL domain as a zone under <sysfs>/class/powercap:
 * top-level zones intel-rapl:N (package-N, package-N-die-M, psys) and subzones
 * intel-rapl:N:M (core, uncore, dram). A zone index is not a socket, so the `name` file
 * decides what a zone is. Each zone's energy_uj is opened once and pread at every reading;
 * max_energy_range_uj is read once and gives the wrap point. Wraps themselves are extended
 * by the core (the only place they are handled), under the domain's lock, so a reading that
 * lands between a wrap and the next poll of the tracker still sees it; this file only picks
 * how often the tracker must look so that no more than a quarter of the range can pass
 * between two looks. When no energy_uj can be read (root-only since CVE-2020-8694), the
 * perf_event `power` PMU is tried (rapl_perf.c). Everything is explained in docs/rapl.md.
 */
#include "backends/rapl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The wrap watcher: poll_ns = FRACTION * range_J / worst_W, clamped. No RAPL domain shipped
 * today draws 1 kW (the largest server sockets are rated near 500 W), so with a quarter of
 * the range per period a poll may come four times late before a wrap can be missed.
 */
#define RAPL_WORST_W        1000.0
#define RAPL_RANGE_FRACTION 0.25
#define RAPL_POLL_MIN_NS    1000000LL     /* the counter's own update period */
#define RAPL_POLL_MAX_NS    60000000000LL /* a minute: a counter that stops shows soon */
#define RAPL_MAX_ZONES      256
#define RAPL_PATH_MAX       4096

/* One directory found under class/powercap. */
struct zone {
    char entry[64]; /* "intel-rapl:0:1" */
    int mmio;       /* 1: intel-rapl-mmio:..., a duplicate view of the package */
    int depth;      /* number of ids: 1 zone, 2 subzone, ... */
    unsigned ids[4];
    char name[64]; /* contents of `name`, "" when unreadable */
    int plan;      /* index in the plan, -1 when not planned */
};

/* What went wrong with the zones that could not be used: the first of each sort. */
struct failures {
    int n_access; /* energy_uj (or another file) could not be read */
    int access_errno;
    char access_path[RAPL_PATH_MAX];
    int n_parse; /* a file held something that is not a counter */
    char parse_msg[JOULES_MESSAGE_MAX];
    int n_unknown; /* a zone name we do not know */
    char unknown_name[64];
    int n_dup;      /* intel-rapl-mmio duplicates ignored */
    int n_filtered; /* zones of kinds not asked for */
};

/* ---- finding zones ----------------------------------------------------------------------- */

static int parse_entry(const char *s, struct zone *z)
{
    const char *p;
    memset(z, 0, sizeof *z);
    if (strncmp(s, "intel-rapl-mmio:", 16) == 0) {
        z->mmio = 1;
        p = s + 16;
    } else if (strncmp(s, "intel-rapl:", 11) == 0) {
        p = s + 11;
    } else {
        return -1;
    }
    if (strlen(s) >= sizeof z->entry)
        return -1;
    for (;;) {
        char *end;
        if (!isxdigit((unsigned char)*p) || z->depth == 4)
            return -1;
        errno = 0;
        unsigned long v = strtoul(p, &end, 16);
        if (errno != 0 || v > UINT_MAX)
            return -1;
        z->ids[z->depth++] = (unsigned)v;
        if (*end == '\0')
            break;
        if (*end != ':')
            return -1;
        p = end + 1;
    }
    snprintf(z->entry, sizeof z->entry, "%s", s);
    z->plan = -1;
    return 0;
}

/* Order: MSR zones before MMIO ones, then by ids, a parent before its children. */
static int zone_cmp(const void *a, const void *b)
{
    const struct zone *x = a, *y = b;
    if (x->mmio != y->mmio)
        return x->mmio - y->mmio;
    for (int i = 0; i < x->depth && i < y->depth; i++)
        if (x->ids[i] != y->ids[i])
            return x->ids[i] < y->ids[i] ? -1 : 1;
    return x->depth - y->depth;
}

/* List the zones in dir. Returns the count, -errno when dir cannot be listed. */
static int list_zones(const char *dir, struct zone **out)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return -errno;
    struct zone *zones = calloc(RAPL_MAX_ZONES, sizeof *zones);
    if (!zones) {
        closedir(dp);
        return -ENOMEM;
    }
    int n = 0;
    struct dirent *e;
    while (n < RAPL_MAX_ZONES && (e = readdir(dp)) != NULL)
        if (parse_entry(e->d_name, &zones[n]) == 0)
            n++;
    closedir(dp);
    qsort(zones, (size_t)n, sizeof *zones, zone_cmp);
    char path[RAPL_PATH_MAX];
    for (int i = 0; i < n; i++) {
        joules__rapl_path(path, sizeof path, "%s/%s/name", dir, zones[i].entry);
        if (joules__rapl_read_text(path, zones[i].name, sizeof zones[i].name) != 0)
            zones[i].name[0] = '\0';
    }
    *out = zones;
    return n;
}

static int parse_package(const char *name, int *pkg, int *die)
{
    int n = -1;
    *die = -1;
    if (sscanf(name, "package-%d-die-%d%n", pkg, die, &n) == 2 && n > 0 && name[n] == '\0')
        return *pkg >= 0 && *die >= 0 ? 0 : -1;
    n = -1;
    *die = -1;
    if (sscanf(name, "package-%d%n", pkg, &n) == 1 && n > 0 && name[n] == '\0')
        return *pkg >= 0 ? 0 : -1;
    return -1;
}

static joules_domain_kind zone_kind(const struct zone *z)
{
    int pkg, die;
    if (parse_package(z->name, &pkg, &die) == 0)
        return JOULES_KIND_CPU_PACKAGE;
    if (strcmp(z->name, "core") == 0)
        return JOULES_KIND_CPU_CORE;
    if (strcmp(z->name, "uncore") == 0)
        return JOULES_KIND_CPU_UNCORE;
    if (strcmp(z->name, "dram") == 0)
        return JOULES_KIND_DRAM;
    if (strcmp(z->name, "psys") == 0)
        return JOULES_KIND_PSYS;
    return 0;
}

/* The zone of which z is a direct subzone, or -1. */
static int zone_parent(const struct zone *zones, int n, int i)
{
    const struct zone *z = &zones[i];
    for (int j = 0; j < n && z->depth > 1; j++) {
        const struct zone *p = &zones[j];
        if (p->mmio == z->mmio && p->depth == z->depth - 1 &&
            memcmp(p->ids, z->ids, sizeof(unsigned) * (size_t)p->depth) == 0)
            return j;
    }
    return -1;
}

/* Name, device and package/die numbers of zone i, from its own name or its top zone's. */
static void zone_names(const struct zone *zones, int n, int i, joules_domain_kind kind, char *name,
                       size_t nlen, char *device, size_t dlen)
{
    int top = i;
    while (zones[top].depth > 1) {
        int p = zone_parent(zones, n, top);
        if (p < 0)
            break;
        top = p;
    }
    int pkg = (int)zones[i].ids[0], die = -1;
    if (parse_package(zones[top].name, &pkg, &die) != 0) {
        pkg = (int)zones[i].ids[0];
        die = -1;
    }
    joules__rapl_name(name, nlen, kind, pkg, die);
    if (kind == JOULES_KIND_PSYS)
        joules__msg(device, dlen, "platform");
    else if (zones[top].depth == 1 && zones[top].name[0])
        joules__msg(device, dlen, "%s", zones[top].name);
    else
        joules__msg(device, dlen, "%s", zones[top].entry);
}

/* The largest power limit a zone states, in W (0 if none): a hint for the worst power. */
static double zone_max_power_w(const char *zdir)
{
    double best = 0;
    char path[RAPL_PATH_MAX], text[32];
    for (int c = 0; c < 4; c++) {
        uint64_t uw;
        joules__rapl_path(path, sizeof path, "%s/constraint_%d_max_power_uw", zdir, c);
        if (joules__rapl_read_text(path, text, sizeof text) == 0 &&
            joules__rapl_parse_u64(text, &uw) == 0 && (double)uw * 1e-6 > best)
            best = (double)uw * 1e-6;
    }
    return best;
}

static int64_t wrap_poll_ns(uint64_t range_uj, double worst_w)
{
    double s = RAPL_RANGE_FRACTION * (double)range_uj * 1e-6 / worst_w;
    double ns = s * 1e9;
    if (ns < (double)RAPL_POLL_MIN_NS)
        return RAPL_POLL_MIN_NS;
    if (ns > (double)RAPL_POLL_MAX_NS)
        return RAPL_POLL_MAX_NS;
    return (int64_t)(ns + 0.5);
}

static void note_access(struct failures *f, const char *path, int err)
{
    if (f->n_access++ == 0) {
        f->access_errno = err;
        snprintf(f->access_path, sizeof f->access_path, "%s", path);
    }
}

static void note_parse(struct failures *f, const char *path, const char *what, const char *text)
{
    if (f->n_parse++ == 0) {
        char q[48];
        joules__rapl_quote(q, sizeof q, text);
        joules__msg(f->parse_msg, sizeof f->parse_msg, "malformed %s: \"%s\" %s", path, q, what);
    }
}

/* Open one zone's counter into p (kind and names already set). Returns 0 or -1 (noted). */
static int zone_open(const char *zdir, struct joules__rapl_plan *p, struct failures *f)
{
    char path[RAPL_PATH_MAX], text[48];
    uint64_t max_uj = 0, now = 0;

    joules__rapl_path(path, sizeof path, "%s/max_energy_range_uj", zdir);
    int rc = joules__rapl_read_text(path, text, sizeof text);
    if (rc < 0) {
        note_access(f, path, -rc);
        return -1;
    }
    if (joules__rapl_parse_u64(text, &max_uj) != 0 || max_uj == 0 || max_uj == UINT64_MAX) {
        note_parse(f, path, "is not a counter range", text);
        return -1;
    }

    joules__rapl_path(path, sizeof path, "%s/energy_uj", zdir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        note_access(f, path, errno);
        return -1;
    }
    rc = joules__rapl_read_uj(fd, &now, text, sizeof text);
    if (rc != 0 || now > max_uj) {
        if (rc < 0)
            note_access(f, path, -rc);
        else if (rc > 0)
            note_parse(f, path, "is not a counter", text);
        else
            note_parse(f, path, "is beyond max_energy_range_uj", text);
        close(fd);
        return -1;
    }
    p->path = strdup(path);
    if (!p->path) {
        close(fd);
        return JOULES_E_NOMEM;
    }
    p->fd = fd;
    p->perf = 0;
    /* The counter goes from max_energy_range_uj back to 0 (see docs/rapl.md on the unit). */
    p->d.counter_range = max_uj + 1;
    double worst = zone_max_power_w(zdir) * 2;
    p->d.poll_ns = wrap_poll_ns(max_uj + 1, worst > RAPL_WORST_W ? worst : RAPL_WORST_W);
    joules__msg(p->d.info.source, sizeof p->d.info.source, "RAPL powercap %s", path);
    return 0;
}

static int name_taken(const struct joules__rapl_plan *plan, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(plan[i].d.info.name, name) == 0)
            return 1;
    return 0;
}

/* Plan every usable zone. Returns the plan size or JOULES_E_NOMEM. */
static int plan_zones(const char *dir, struct zone *zones, int nz, uint32_t kinds,
                      struct joules__rapl_plan *plan, struct failures *f)
{
    int np = 0;
    for (int i = 0; i < nz; i++) {
        struct zone *z = &zones[i];
        joules_domain_kind kind = zone_kind(z);
        if (kind == 0) {
            if (f->n_unknown++ == 0)
                joules__rapl_quote(f->unknown_name, sizeof f->unknown_name,
                                   z->name[0] ? z->name : z->entry);
            continue;
        }
        if (!(kinds & (uint32_t)kind)) {
            f->n_filtered++;
            continue;
        }
        struct joules__rapl_plan *p = &plan[np];
        joules__rapl_domain_defaults(&p->d, kind);
        p->fd = -1;
        p->path = NULL;
        zone_names(zones, nz, i, kind, p->d.info.name, sizeof p->d.info.name, p->d.info.device,
                   sizeof p->d.info.device);
        if (name_taken(plan, np, p->d.info.name)) {
            if (z->mmio) { /* the same domain seen through MMIO: keep the MSR one */
                f->n_dup++;
                continue;
            }
            joules__rapl_append(p->d.info.name, sizeof p->d.info.name, ".%u", z->ids[z->depth - 1]);
        }
        /* Only core and uncore are inside their package; dram sits in the package's
         * directory but beside it (docs/rapl.md). */
        int parent = kind == JOULES_KIND_CPU_CORE || kind == JOULES_KIND_CPU_UNCORE
                         ? zone_parent(zones, nz, i)
                         : -1;
        p->parent = parent >= 0 ? zones[parent].plan : -1;
        char zdir[RAPL_PATH_MAX];
        joules__rapl_path(zdir, sizeof zdir, "%s/%s", dir, z->entry);
        int rc = zone_open(zdir, p, f);
        if (rc == JOULES_E_NOMEM)
            return rc;
        if (rc == 0)
            z->plan = np++;
    }
    return np;
}

/* ---- the backend's entry point -------------------------------------------------------------- */

/* Why no powercap domain could be used, and its code. */
static int explain(const char *dir, int nz, const struct failures *f, char *msg, size_t len)
{
    char e[96];
    if (nz <= 0) {
        if (nz < 0)
            joules__msg(msg, len, "no RAPL: %s: %s", dir, joules__rapl_strerror(-nz, e, sizeof e));
        else
            joules__msg(msg, len, "no RAPL zone in %s", dir);
        joules__rapl_append(msg, len,
                            " (load intel_rapl_msr; in a container mount "
                            "/sys/devices/virtual/powercap)");
        return JOULES_E_NO_DOMAIN;
    }
    if (f->n_access > 0) {
        /* Terse on purpose: with the perf fallback's reason it must fit JOULES_MESSAGE_MAX. */
        joules__msg(msg, len, "cannot read %s: %s (run as root or chmod a+r, udev rule)",
                    f->access_path, joules__rapl_strerror(f->access_errno, e, sizeof e));
        return f->access_errno == EACCES || f->access_errno == EPERM ? JOULES_E_PERMISSION
                                                                     : JOULES_E_IO;
    }
    if (f->n_parse > 0) {
        joules__msg(msg, len, "%s", f->parse_msg);
        return JOULES_E_PARSE;
    }
    if (f->n_unknown > 0 && f->n_filtered == 0) {
        joules__msg(msg, len, "no known RAPL zone in %s (found \"%s\")", dir, f->unknown_name);
        return JOULES_E_NO_DOMAIN;
    }
    joules__msg(msg, len, "no RAPL zone of the requested kinds in %s", dir);
    return JOULES_E_NO_DOMAIN;
}

static void success_message(char *msg, size_t len, int added, const char *dir,
                            const struct failures *f)
{
    joules__msg(msg, len, "%d RAPL domain%s from %s", added, added == 1 ? "" : "s", dir);
    if (f->n_dup)
        joules__rapl_append(msg, len, "; %d intel-rapl-mmio duplicate%s ignored", f->n_dup,
                            f->n_dup == 1 ? "" : "s");
    if (f->n_access) {
        char e[96];
        joules__rapl_append(msg, len, "; skipped %s: %s", f->access_path,
                            joules__rapl_strerror(f->access_errno, e, sizeof e));
    } else if (f->n_parse) {
        joules__rapl_append(msg, len, "; skipped: %s", f->parse_msg);
    }
}

int joules__rapl_open(joules_monitor *m, const joules_options *o)
{
    const char *root = o && o->sysfs_root && *o->sysfs_root ? o->sysfs_root : "/sys";
    uint32_t kinds = (o && o->kinds ? o->kinds : JOULES_KINDS_ALL) & JOULES_KINDS_CPU;
    if (kinds == 0) {
        joules__backend_set(m, JOULES_BACKEND_RAPL, JOULES_E_NO_DOMAIN, NULL, NULL,
                            "RAPL not requested (no CPU, DRAM or psys kind in the options)");
        return 0;
    }
    struct joules__rapl_state *st = calloc(1, sizeof *st);
    struct failures *f = calloc(1, sizeof *f);
    struct joules__rapl_plan *plan = calloc(RAPL_MAX_ZONES, sizeof *plan);
    char *msg = calloc(1, JOULES_MESSAGE_MAX);
    char dir[RAPL_PATH_MAX];
    struct zone *zones = NULL;
    int rc = 0, np = 0, added = 0;
    if (!st || !f || !plan || !msg) {
        rc = JOULES_E_NOMEM;
        goto out;
    }
    for (int i = 0; i < RAPL_MAX_ZONES; i++)
        plan[i].fd = -1;
    joules__rapl_path(dir, sizeof dir, "%s/class/powercap", root);
    int nz = list_zones(dir, &zones);
    if (nz == -ENOMEM) {
        rc = JOULES_E_NOMEM;
        goto out;
    }
    np = nz > 0 ? plan_zones(dir, zones, nz, kinds, plan, f) : 0;
    if (np < 0) {
        rc = np;
        np = RAPL_MAX_ZONES; /* every entry is either filled or fd -1 / path NULL */
        goto out;
    }
    added = np > 0 ? joules__rapl_commit(m, st, plan, np) : 0;
    if (added < 0) {
        rc = added;
        goto out;
    }
    if (added > 0) {
        success_message(msg, JOULES_MESSAGE_MAX, added, dir, f);
        joules__backend_set(m, JOULES_BACKEND_RAPL, 0, st, joules__rapl_free, "%s", msg);
        st = NULL;
        goto out;
    }
    int code = explain(dir, nz, f, msg, JOULES_MESSAGE_MAX);
    int only_filtered = nz > 0 && f->n_filtered > 0 && !f->n_access && !f->n_parse;
    if (!only_filtered) {
        char why[JOULES_MESSAGE_MAX];
        added = joules__rapl_perf_open(m, root, kinds, st, why, sizeof why);
        if (added < 0) {
            rc = added;
            goto out;
        }
        if (added > 0) {
            joules__backend_set(m, JOULES_BACKEND_RAPL, 0, st, joules__rapl_free,
                                "%d RAPL domain%s through perf_event (%s)", added,
                                added == 1 ? "" : "s", msg);
            st = NULL;
            goto out;
        }
        joules__rapl_append(msg, JOULES_MESSAGE_MAX, "; %s", why);
    }
    joules__backend_set(m, JOULES_BACKEND_RAPL, code, NULL, NULL, "%s", msg);
out:
    if (st && st->fds) /* ENOMEM after some domains were added: the core must free them */
        joules__backend_set(m, JOULES_BACKEND_RAPL, rc, st, joules__rapl_free,
                            "RAPL: out of memory");
    else
        joules__rapl_free(st);
    if (plan)
        joules__rapl_plan_free(plan, np);
    free(zones);
    free(f);
    free(msg);
    return rc;
}
