/* SPDX-License-Identifier: MIT */
/*
 * rapl.h - what the two halves of the RAPL backend share (never installed).
 *
 * rapl.c finds the powercap zones, rapl_perf.c opens the perf_event `power` PMU when the
 * powercap counters cannot be read. Both describe what they found as a list of planned
 * domains, and one function (joules__rapl_commit) works out the hierarchy and the disjoint
 * total and hands the domains to the core, so the two paths can never disagree on names,
 * parents or totals. See docs/rapl.md.
 */
#ifndef JOULES_BACKENDS_RAPL_H
#define JOULES_BACKENDS_RAPL_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

/* RAPL counters update about every millisecond (Intel SDM, AMD PPR). */
#define JOULES__RAPL_UPDATE_NS 1000000

/* Per-domain state: one file descriptor opened at open and read until close. */
struct joules__rapl_fd {
    int fd;
    int perf;   /* 1: perf_event fd (read 8 bytes), 0: sysfs energy_uj (pread text) */
    char *path; /* what the fd reads, in words, for error messages */
    struct joules__rapl_fd *next;
};

/* The backend state registered with the core: every fd, closed by joules__rapl_free. */
struct joules__rapl_state {
    struct joules__rapl_fd *fds;
};

/* One domain found but not yet given to the core. */
struct joules__rapl_plan {
    struct joules__domain d; /* info (but parent, counted_in_total), counter fields */
    int parent;              /* index of the enclosing plan entry, -1 if none */
    int fd;                  /* opened counter; owned by the plan until committed */
    int perf;
    char *path; /* malloc'd; owned by the plan until committed */
};

/* Domain name from kind, package and die (die < 0: none): cpu0, cpu0.core, dram0, psys. */
void joules__rapl_name(char *out, size_t len, joules_domain_kind kind, int pkg, int die);

/* Fill the parts of d common to both paths (ops, caps, method, interval, accuracy). */
void joules__rapl_domain_defaults(struct joules__domain *d, joules_domain_kind kind);

/*
 * Decide parents' indices and the disjoint total, then add plan[0..n) to the monitor, in
 * order (a parent always comes before its children). Ownership of each fd and path moves
 * to st; entries that could not be added are closed. Returns the number of domains added
 * or JOULES_E_NOMEM.
 */
int joules__rapl_commit(joules_monitor *m, struct joules__rapl_state *st,
                        struct joules__rapl_plan *plan, int n);

/* Close every fd and free the state (the close function given to the core). */
void joules__rapl_free(void *state);

/* Release a plan list that was not committed. */
void joules__rapl_plan_free(struct joules__rapl_plan *plan, int n);

/* Read a small text file into buf (NUL-terminated, trailing newline removed).
 * Returns 0 or -errno. */
int joules__rapl_read_text(const char *path, char *buf, size_t len);

/* strerror_r into buf (thread-safe); returns buf. */
const char *joules__rapl_strerror(int err, char *buf, size_t len);

/* A path from printf arguments; an empty string (which no open() finds) if it does not fit,
 * so a truncated path can never name another file. */
void joules__rapl_path(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Decimal unsigned 64-bit with optional trailing white space, nothing else: 0 or -1. */
int joules__rapl_parse_u64(const char *s, uint64_t *out);

/* At most 40 printable bytes of text, for messages about malformed files. */
void joules__rapl_quote(char *out, size_t len, const char *text);

/* printf at the end of the string in buf (never overflows). */
void joules__rapl_append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* pread a powercap energy_uj fd: 0, -errno, or 1 when its text is not a counter (the text,
 * quoted, is copied to text). */
int joules__rapl_read_uj(int fd, uint64_t *v, char *text, size_t tlen);

/* JOULES_E_* code for an errno value. */
int joules__rapl_errno_code(int err);

/*
 * The perf_event fallback. Tries <root>/bus/event_source/devices/power. Returns the number
 * of domains added (> 0), 0 when it could not (why says what failed and the remedy), or
 * JOULES_E_NOMEM. kinds is the JOULES_KIND_* mask asked for (never 0).
 */
int joules__rapl_perf_open(joules_monitor *m, const char *root, uint32_t kinds,
                           struct joules__rapl_state *st, char *why, size_t len);

/* Read a perf_event RAPL counter (64-bit count in scale units). Returns 0 or -errno. */
int joules__rapl_perf_read(int fd, uint64_t *value);

#endif /* JOULES_BACKENDS_RAPL_H */
