/* SPDX-License-Identifier: MIT */
/*
 * rapl_common.c - the parts of the RAPL backend that the powercap path (rapl.c) and the
 * perf_event path (rapl_perf.c) share: reading a counter, naming domains, and handing a
 * plan of domains to the core with their hierarchy and the disjoint total decided in one
 * place. See docs/rapl.md.
 */
#include "backends/rapl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- small helpers ------------------------------------------------ */

int joules__rapl_errno_code(int err)
{
    switch (err) {
    case EACCES:
    case EPERM:
        return JOULES_E_PERMISSION;
    case ENOENT:
    case ENOTDIR:
        return JOULES_E_NOT_FOUND;
    case ENOMEM:
        return JOULES_E_NOMEM;
    default:
        return JOULES_E_IO;
    }
}

/* strerror() is not thread-safe and readings happen on several threads: use the XSI form. */
const char *joules__rapl_strerror(int err, char *buf, size_t len)
{
    if (strerror_r(err, buf, len) != 0)
        snprintf(buf, len, "error %d", err);
    return buf;
}

void joules__rapl_append(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

void joules__rapl_path(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len)
        out[0] = '\0';
}

int joules__rapl_read_text(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    ssize_t n;
    do {
        n = read(fd, buf, len - 1);
    } while (n < 0 && errno == EINTR);
    int err = n < 0 ? errno : 0;
    close(fd);
    if (n < 0)
        return -err;
    buf[n] = '\0';
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    return 0;
}

/* Decimal unsigned 64-bit, optional trailing white space, nothing else. */
int joules__rapl_parse_u64(const char *s, uint64_t *out)
{
    if (!isdigit((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    if (*end != '\0')
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* Copy at most 40 bytes of a file's text for a message, with non-printing bytes as '?'. */
void joules__rapl_quote(char *out, size_t len, const char *text)
{
    size_t i = 0;
    for (; i < 40 && i + 1 < len && text[i]; i++)
        out[i] = isprint((unsigned char)text[i]) ? text[i] : '?';
    while (i > 0 && (out[i - 1] == '?' || out[i - 1] == ' ') && isspace((unsigned char)text[i - 1]))
        i--;
    out[i] = '\0';
}

void joules__rapl_name(char *out, size_t len, joules_domain_kind kind, int pkg, int die)
{
    char d[24] = "";
    if (die >= 0)
        snprintf(d, sizeof d, ".die%d", die);
    switch (kind) {
    case JOULES_KIND_CPU_PACKAGE:
        joules__msg(out, len, "cpu%d%s", pkg, d);
        break;
    case JOULES_KIND_CPU_CORE:
        joules__msg(out, len, "cpu%d%s.core", pkg, d);
        break;
    case JOULES_KIND_CPU_UNCORE:
        joules__msg(out, len, "cpu%d%s.uncore", pkg, d);
        break;
    case JOULES_KIND_DRAM:
        joules__msg(out, len, "dram%d%s", pkg, d);
        break;
    default:
        joules__msg(out, len, "psys");
        break;
    }
}

/* ---- reading ------------------------------------------------------------------------------- */

/* pread energy_uj. Returns 0, -errno, or 1 when the text is not a counter (copied to text). */
int joules__rapl_read_uj(int fd, uint64_t *v, char *text, size_t tlen)
{
    char buf[32];
    ssize_t n;
    do {
        n = pread(fd, buf, sizeof buf - 1, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        return -ENODATA;
    buf[n] = '\0';
    if (joules__rapl_parse_u64(buf, v) == 0)
        return 0;
    joules__rapl_quote(text, tlen, buf);
    return 1;
}

static int rapl_read(struct joules__domain *d, struct joules__sample *s, char *msg, size_t len)
{
    struct joules__rapl_fd *f = d->backend;
    uint64_t v = 0;
    char text[48] = "";
    /* The read takes microseconds (an MSR read on the package's CPU): stamp its middle. */
    int64_t t0 = joules__now_ns();
    int rc = f->perf ? joules__rapl_perf_read(f->fd, &v)
                     : joules__rapl_read_uj(f->fd, &v, text, sizeof text);
    int64_t t1 = joules__now_ns();
    if (rc < 0) {
        char e[96];
        joules__msg(msg, len, "read %s: %s", f->path, joules__rapl_strerror(-rc, e, sizeof e));
        return joules__rapl_errno_code(-rc);
    }
    if (rc > 0) {
        joules__msg(msg, len, "malformed %s: \"%s\" is not a counter", f->path, text);
        return JOULES_E_PARSE;
    }
    if (d->counter_range != 0 && v >= d->counter_range) {
        joules__msg(msg, len, "%s: %llu is beyond max_energy_range_uj %llu", f->path,
                    (unsigned long long)v, (unsigned long long)(d->counter_range - 1));
        return JOULES_E_RANGE;
    }
    memset(s, 0, sizeof *s);
    s->t_ns = t0 + (t1 - t0) / 2;
    s->have_counter = 1;
    s->counter_raw = v;
    return 0;
}

static const struct joules__domain_ops rapl_ops = {.read = rapl_read};

void joules__rapl_domain_defaults(struct joules__domain *d, joules_domain_kind kind)
{
    memset(d, 0, sizeof *d);
    d->info.kind = kind;
    d->info.caps = JOULES_CAP_ENERGY_COUNTER;
    d->info.method = JOULES_METHOD_COUNTER;
    d->info.parent = -1;
    d->info.update_interval_ns = JOULES__RAPL_UPDATE_NS;
    d->info.resolution_j = 1e-6;
    /* Roughly a 95 % bound on Haswell and later parts; DRAM is looser (docs/rapl.md). */
    d->info.sensor_accuracy = kind == JOULES_KIND_DRAM ? 0.10 : 0.05;
    d->ops = &rapl_ops;
    d->counter_unit_j = 1e-6;
}

/* ---- committing a plan ---------------------------------------------------------------------- */

void joules__rapl_plan_free(struct joules__rapl_plan *plan, int n)
{
    for (int i = 0; i < n; i++) {
        if (plan[i].fd >= 0)
            close(plan[i].fd);
        free(plan[i].path);
        plan[i].fd = -1;
        plan[i].path = NULL;
    }
    free(plan);
}

void joules__rapl_free(void *state)
{
    struct joules__rapl_state *st = state;
    if (!st)
        return;
    while (st->fds) {
        struct joules__rapl_fd *f = st->fds;
        st->fds = f->next;
        close(f->fd);
        free(f->path);
        free(f);
    }
    free(st);
}

/*
 * The disjoint total: packages and DRAM are summed. Core and uncore are inside their package,
 * so they count only when their package is not opened (e.g. kinds asked for core only). psys
 * covers the whole platform, packages and memory included, so it counts only when neither
 * packages nor DRAM are opened.
 */
static int counted(const struct joules__rapl_plan *p, int parent_index, int have_pkg, int have_dram)
{
    switch (p->d.info.kind) {
    case JOULES_KIND_CPU_PACKAGE:
    case JOULES_KIND_DRAM:
        return 1;
    case JOULES_KIND_CPU_CORE:
    case JOULES_KIND_CPU_UNCORE:
        return parent_index < 0;
    default:
        return !have_pkg && !have_dram;
    }
}

int joules__rapl_commit(joules_monitor *m, struct joules__rapl_state *st,
                        struct joules__rapl_plan *plan, int n)
{
    int have_pkg = 0, have_dram = 0, added = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        have_pkg |= plan[i].d.info.kind == JOULES_KIND_CPU_PACKAGE;
        have_dram |= plan[i].d.info.kind == JOULES_KIND_DRAM;
    }
    int *index = malloc((size_t)(n > 0 ? n : 1) * sizeof *index);
    for (int i = 0; i < n; i++) {
        struct joules__rapl_plan *p = &plan[i];
        struct joules__rapl_fd *f = index ? malloc(sizeof *f) : NULL;
        if (!f) {
            rc = JOULES_E_NOMEM;
            if (index)
                index[i] = -1;
            continue; /* the plan still owns fd and path; joules__rapl_plan_free closes them */
        }
        int parent = p->parent >= 0 && p->parent < i ? index[p->parent] : -1;
        p->d.info.parent = parent;
        p->d.info.counted_in_total = counted(p, parent, have_pkg, have_dram);
        f->fd = p->fd;
        f->perf = p->perf;
        f->path = p->path;
        p->d.backend = f;
        int idx = joules__add_domain(m, &p->d);
        if (idx < 0) {
            free(f);
            index[i] = -1;
            if (idx == JOULES_E_NOMEM)
                rc = JOULES_E_NOMEM;
            continue;
        }
        p->fd = -1;
        p->path = NULL;
        f->next = st->fds;
        st->fds = f;
        index[i] = idx;
        added++;
    }
    free(index);
    return rc < 0 ? rc : added;
}
