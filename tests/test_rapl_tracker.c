/* SPDX-License-Identifier: MIT */
/*
 * test_rapl_tracker.c - RAPL counter wraps on fake powercap trees: a wrap inside a window, a
 * reading that lands between a wrap and the tracker's next poll, two wraps in one window
 * seen by the wrap watcher while another thread moves the counter, and the watcher's period
 * (white box: poll_ns is read from the monitor). Runs under TSan with the "threads" label.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "test_rapl_fake.h"

static char root[4096];

static void fresh_root(void)
{
    if (root[0])
        t_rmtree(root);
    CHECK(t_mkdtemp(root, sizeof root) == 0);
}

/*
 * Real RAPL counters move every millisecond, so every reading sees a step. A fake counter
 * stands still between writes, so these tests make sure each window edge reads a moved
 * counter: the tracker's first poll (at open) is let pass, then one explicit reading. A
 * counter that stands still at an edge is test_rapl_idle.c's subject.
 */
static void settle(joules_monitor *m)
{
    joules_reading r;
    t_sleep(0.1);
    CHECK_EQ_INT(joules_read(m, &r, 1), 1);
}

static int within(const joules_domain_energy *e, double want)
{
    return e->valid && e->energy_j >= want - e->uncertainty_j - 1e-9 &&
           e->energy_j <= want + e->uncertainty_j + 1e-9;
}

/* The counter passes max_energy_range_uj inside a window: the window gets exactly the energy
 * from the begin value up to the range, plus the value after the wrap. */
static void wrap_mid_window(void)
{
    const uint64_t max = 262143999938ULL;
    fresh_root();
    fake_zone(root, "intel-rapl:0", "package-0", max, max - 5001000);
    joules_monitor *m = fake_open(root, 0);
    if (!m)
        return;
    settle(m);
    fake_set(root, "intel-rapl:0", max - 5000000); /* 5 J before the wrap */
    CHECK_EQ_INT(joules_window_begin(m, "w"), 0);
    t_sleep(0.02);
    fake_set(root, "intel-rapl:0", 3000000); /* wrapped, then 3 J more */
    t_sleep(0.02);
    joules_domain_energy r_dom[16];
    joules_measurement r;
    joules_measurement_init(&r, r_dom, 16);
    CHECK_EQ_INT(joules_window_end(m, "w", &r), 0);
    const joules_domain_energy *e = &r.domains[0];
    /* The counter goes from max to 0 in one microjoule (docs/rapl.md): 8 J + 1 uJ. */
    CHECKF(within(e, 8.000001), "%.6f J +/- %.6f", e->energy_j, e->uncertainty_j);
    CHECKF(e->uncertainty_j < 1.0, "+/- %.6f J", e->uncertainty_j);
    joules_close(m);
}

/* A reading between a wrap and the watcher's next poll (a minute away here) must see the
 * wrap, and the poll that follows must not count it again. */
static void read_between_wrap_and_poll(void)
{
    const uint64_t max = 262143999938ULL;
    fresh_root();
    fake_zone(root, "intel-rapl:0", "package-0", max, max - 2000000);
    joules_monitor *m = fake_open(root, 0);
    if (!m)
        return;
    CHECK(m->domains[0].poll_ns >= 10000000000LL); /* no poll during this test */
    settle(m);
    joules_reading a, b, c;
    CHECK_EQ_INT(joules_read(m, &a, 1), 1);
    fake_set(root, "intel-rapl:0", 1000000); /* wrapped: +2 J + 1 uJ + 1 J */
    CHECK_EQ_INT(joules_read(m, &b, 1), 1);
    CHECK(a.valid && b.valid);
    CHECK_NEAR(b.energy_j - a.energy_j, 3.000001, 1e-9);
    /* Let the tracker run a round (its first poll happens at start) and read again. */
    t_sleep(0.05);
    CHECK_EQ_INT(joules_read(m, &c, 1), 1);
    CHECK_NEAR(c.energy_j - a.energy_j, 3.000001, 1e-9);

    /* And the same inside a window: a reading, the counter near its top, the window begins,
     * the counter wraps, a reading, the window ends. */
    fake_set(root, "intel-rapl:0", max - 1000000);
    CHECK_EQ_INT(joules_read(m, &a, 1), 1);
    fake_set(root, "intel-rapl:0", max - 999000);
    CHECK_EQ_INT(joules_window_begin(m, "w"), 0);
    t_sleep(0.01);
    fake_set(root, "intel-rapl:0", 500000);
    CHECK_EQ_INT(joules_read(m, &b, 1), 1);
    CHECK_NEAR(b.energy_j - a.energy_j, 1.500001, 1e-9);
    t_sleep(0.01);
    fake_set(root, "intel-rapl:0", 500001);
    joules_domain_energy r_dom[16];
    joules_measurement r;
    joules_measurement_init(&r, r_dom, 16);
    CHECK_EQ_INT(joules_window_end(m, "w", &r), 0);
    CHECKF(within(&r.domains[0], 1.499002), "%.6f J +/- %.6f, want 1.499002", r.domains[0].energy_j,
           r.domains[0].uncertainty_j);
    CHECKF(r.domains[0].uncertainty_j < 0.5, "+/- %.6f", r.domains[0].uncertainty_j);
    joules_close(m);
}

struct mover {
    uint64_t range; /* max + 1 */
    uint64_t step;  /* uJ per move, below a quarter of the range */
    int moves;
    double pause_s; /* several watcher periods */
    uint64_t value;
    int failures; /* counted here, checked after join: the harness is not thread-safe */
};

static void *move_counter(void *arg)
{
    struct mover *mv = arg;
    for (int i = 0; i < mv->moves; i++) {
        mv->value = (mv->value + mv->step) % mv->range;
        mv->failures += fake_set_quiet(root, "intel-rapl:0", mv->value) != 0;
        t_sleep(mv->pause_s);
    }
    return NULL;
}

/* A 40 J range makes the watcher poll every 10 ms (a quarter of the range at 1 kW). Another
 * thread moves the counter by 9 J every 50 ms, twelve times: 108 J, so it wraps twice inside
 * the window while no window edge or explicit read happens in between. Only the watcher's
 * polls can see both wraps. */
static void two_wraps_watcher(void)
{
    const uint64_t max = 39999999;
    fresh_root();
    fake_zone(root, "intel-rapl:0", "package-0", max, 30000000);
    joules_monitor *m = fake_open(root, 0);
    if (!m)
        return;
    CHECK_EQ_INT(m->domains[0].poll_ns, 10000000);
    struct mover mv = {max + 1, 9000000, 12, 0.05, 30000000, 0};
    CHECK_EQ_INT(joules_window_begin(m, "w"), 0);
    pthread_t th;
    joules_reading a, b;
    CHECK_EQ_INT(joules_read(m, &a, 1), 1);
    int started = pthread_create(&th, NULL, move_counter, &mv) == 0;
    if (started)
        pthread_join(th, NULL);
    CHECK(started);
    CHECK_EQ_INT(mv.failures, 0);
    /* The wrap-extended counter itself: exact, whatever the edge estimates do. */
    CHECK_EQ_INT(joules_read(m, &b, 1), 1);
    CHECK_NEAR(b.energy_j - a.energy_j, 108.0, 1e-6);
    joules_domain_energy r_dom[16];
    joules_measurement r;
    joules_measurement_init(&r, r_dom, 16);
    CHECK_EQ_INT(joules_window_end(m, "w", &r), 0);
    const joules_domain_energy *e = &r.domains[0];
    CHECKF(within(e, 108.0), "%.6f J +/- %.6f (two wraps: 108 J)", e->energy_j, e->uncertainty_j);
    /* A wrap lost or counted twice would be 40 J off, far outside the uncertainty. */
    CHECKF(e->uncertainty_j < 0.1 * 108, "+/- %.6f J", e->uncertainty_j);
    CHECKF(e->energy_j > 108 - 20 && e->energy_j < 108 + 20, "%.6f J", e->energy_j);
    joules_close(m);
}

/* poll_ns = range_J / (4 * worst_W), worst_W = max(1 kW, 2 x the largest stated limit),
 * clamped to [1 ms, 60 s]. */
static void watcher_period(void)
{
    fresh_root();
    fake_zone(root, "intel-rapl:0", "package-0", 65535999999ULL, 1); /* ESU=16: 65536 J */
    fake_zone(root, "intel-rapl:1", "package-1", 65535999999ULL, 1); /* with a 1.5 kW limit */
    fake_file(root, "class/powercap/intel-rapl:1/constraint_1_max_power_uw", "1500000000\n");
    fake_zone(root, "intel-rapl:2", "package-2", 262143999999ULL, 1); /* 262144 J: > 60 s */
    fake_zone(root, "intel-rapl:3", "package-3", 999, 1);             /* 1 mJ: < 1 ms */
    joules_monitor *m = fake_open(root, 0);
    if (!m)
        return;
    CHECK_EQ_INT(m->n_domains, 4);
    CHECK_EQ_INT(m->domains[0].poll_ns, 16384000000LL);
    CHECK_EQ_INT(m->domains[1].poll_ns, 5461333333LL);
    CHECK_EQ_INT(m->domains[2].poll_ns, 60000000000LL);
    CHECK_EQ_INT(m->domains[3].poll_ns, 1000000LL);
    CHECK_EQ_INT(m->domains[0].counter_range, 65536000000ULL);
    CHECK_NEAR(m->domains[0].counter_unit_j, 1e-6, 1e-15);
    joules_close(m);
}

int main(void)
{
    RUN(wrap_mid_window);
    RUN(read_between_wrap_and_poll);
    RUN(two_wraps_watcher);
    RUN(watcher_period);
    if (root[0])
        t_rmtree(root);
    return t_end();
}
