/* SPDX-License-Identifier: MIT */
/*
 * test_rapl_idle.c - RAPL counters that stand still at a window edge. An idle uncore (iGPU)
 * or core domain can keep the same energy_uj value for long stretches, then move in a burst.
 * A reading is a hard fact about a 1 ms counter: the energy at that instant is the value read,
 * give or take one update period of energy. So a window that begins while the counter stands
 * still, or ends after it has stood still, must get the energy the counter moved inside it,
 * not a figure extrapolated from an earlier or a later step.
 */
#include <stdlib.h>
#include <string.h>

#include "test_rapl_fake.h"

#define RANGE_UJ 262143999938ULL

static char root[4096];

static void check_energy(const joules_measurement *r, double want)
{
    const joules_domain_energy *e = &r->domains[0];
    CHECKF(e->valid && e->energy_j >= want - e->uncertainty_j - 1e-9 &&
               e->energy_j <= want + e->uncertainty_j + 1e-9,
           "%.6f J +/- %.6f, want %.6f (%s)", e->energy_j, e->uncertainty_j, want, e->message);
}

/* Still before and at the begin edge, a burst inside the window. */
static void still_at_begin(void)
{
    CHECK(t_mkdtemp(root, sizeof root) == 0);
    fake_zone(root, "intel-rapl:0", "package-0", RANGE_UJ, 1000000);
    joules_monitor *m = fake_open(root, 0);
    if (!m)
        return;
    joules_reading rd;
    t_sleep(0.1);
    CHECK_EQ_INT(joules_read(m, &rd, 1), 1);
    t_sleep(0.02);
    CHECK_EQ_INT(joules_window_begin(m, "w"), 0);
    t_sleep(0.02);
    fake_set(root, "intel-rapl:0", 6000000); /* +5 J */
    t_sleep(0.02);
    joules_domain_energy r_dom[16];
    joules_measurement r;
    joules_measurement_init(&r, r_dom, 16);
    CHECK_EQ_INT(joules_window_end(m, "w", &r), 0);
    check_energy(&r, 5.0);
    joules_close(m);
    t_rmtree(root);
}

/* A burst just after the begin edge, seen by a reading, then still until the end edge. */
static void still_at_end(void)
{
    CHECK(t_mkdtemp(root, sizeof root) == 0);
    fake_zone(root, "intel-rapl:0", "package-0", RANGE_UJ, 1000000);
    joules_monitor *m = fake_open(root, 0);
    if (!m)
        return;
    joules_reading rd;
    t_sleep(0.1);
    CHECK_EQ_INT(joules_read(m, &rd, 1), 1);
    fake_set(root, "intel-rapl:0", 1000100);
    CHECK_EQ_INT(joules_window_begin(m, "w"), 0);
    t_sleep(0.01);
    fake_set(root, "intel-rapl:0", 6000100); /* +5 J */
    CHECK_EQ_INT(joules_read(m, &rd, 1), 1);
    t_sleep(0.05);
    joules_domain_energy r_dom[16];
    joules_measurement r;
    joules_measurement_init(&r, r_dom, 16);
    CHECK_EQ_INT(joules_window_end(m, "w", &r), 0);
    check_energy(&r, 5.0);
    joules_close(m);
    t_rmtree(root);
}

int main(void)
{
    RUN(still_at_begin);
    RUN(still_at_end);
    return t_end();
}
