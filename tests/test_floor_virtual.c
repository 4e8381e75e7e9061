/* SPDX-License-Identifier: MIT */
/*
 * test_floor_virtual.c - the sensors' floor that bench_edges prints beside each cell
 * (support/floor.c), against what it must be on windows whose answer is known:
 *   - on the 100 ms, 50 % square, a 50 ms window begun at a step of the A6000's counter
 *     (whose reading averages the whole interval) could hold the on half or the off half for
 *     the same readings: the floor is (on - off) / (on + off), from the simulator's truth;
 *   - a window from one step to the next holds a whole interval, known from the counter:
 *     floor 0;
 *   - on the A100, whose reading averages the last 25 ms, a window over the first 75 ms of an
 *     interval holds the part the reading leaves out, whole: floor 0 too (with the reading
 *     taken for the whole interval, it is not);
 *   - a window over the first 25 ms of those 75: between the sums of their 25 least and 25
 *     most milliseconds;
 *   - a steady load: no order of its milliseconds moves a window's energy by much;
 *   - an interval not yet closed by a step gives no floor.
 */
#include <math.h>
#include <stdio.h>

#include "floor.h"
#include "core/stats.h"
#include "testlib.h"
#include "vsim.h"

#define MS     1000000LL
#define SQUARE "phase 50ms util=1 alpha=0.7\nidle 50ms context=1\nrepeat forever\n"

static struct vsim vs;
static int hook_ticks; /* the hook set before the floor's, which it must chain to */

static void count_tick(struct vsim *v, void *user)
{
    (void)v;
    (void)user;
    hook_ticks++;
}

static void open_at(const char *profile, int phase_ms, const char *load, int window_ms)
{
    char text[512];
    snprintf(text, sizeof text, "profile %s\ndevices 1\nsensor phase=%dms\n%s", profile, phase_ms,
             load);
    vs.on_tick = count_tick;
    hook_ticks = 0;
    acc_floor_attach(&vs, window_ms);
    vsim_open(&vs, text, 1.0);
    CHECK(hook_ticks >= 1000); /* a second of warm-up, a tick a millisecond */
}

static void close_cell(void)
{
    acc_floor_detach();
    vsim_close(&vs);
}

static void square_halves(int phase_ms)
{
    open_at("a6000", phase_ms, SQUARE, 0); /* the profile's own reading window */
    CHECK_EQ_INT(vsim_sensor_window_ms(&vs), 100);
    for (int i = 0; i < 5; i++) {
        int64_t t0 = vsim_next_step(&vs);
        CHECK(vsim_next_step(&vs) == t0 + 100 * MS);
        double head = vsim_truth_j(&vs, t0, t0 + 50 * MS);
        double tail = vsim_truth_j(&vs, t0 + 50 * MS, t0 + 100 * MS);
        double want = fabs(head - tail) / (head + tail);
        double got = acc_floor_window(t0, t0 + 50 * MS);
        printf("a6000, clock at %2d ms: 50 ms after a step %.3f J, the next 50 ms %.3f J: floor "
               "%.4f (want %.4f)\n",
               phase_ms, head, tail, got, want);
        CHECK(want > 0.15); /* the halves differ: the case is not empty */
        CHECK(fabs(got - want) < 1e-6);
        CHECK(fabs(acc_floor_window(t0, t0 + 100 * MS)) < 1e-12);
    }
    close_cell();
}

static void unseen_part(void)
{
    int windows[] = {0, 100}; /* the profile's own (25 ms), and the whole interval */
    for (int k = 0; k < 2; k++) {
        open_at("a100-sxm4-80gb", 10, SQUARE, windows[k]);
        CHECK_EQ_INT(vsim_sensor_window_ms(&vs), 25);
        int64_t t0 = vsim_next_step(&vs);
        vsim_next_step(&vs);
        double got = acc_floor_window(t0, t0 + 75 * MS);
        printf("a100, reading taken as %3d ms of the interval: first 75 ms floor %.4f\n",
               windows[k] ? windows[k] : 25, got);
        if (windows[k] == 0)
            CHECK(fabs(got) < 1e-12);
        else
            CHECK(got > 0.05);
        close_cell();
    }
}

/* A window over the first 25 ms of the 75 the A100's reading leaves out: it could hold the 25
 * least or the 25 most of them. */
static void cut_unseen(void)
{
    open_at("a100-sxm4-80gb", 10, SQUARE, 0); /* 25 ms */
    int64_t t0 = vsim_next_step(&vs);
    vsim_next_step(&vs);
    double ms_j[75];
    for (int i = 0; i < 75; i++)
        ms_j[i] = vsim_truth_j(&vs, t0 + i * MS, t0 + (i + 1) * MS);
    joules__sort(ms_j, 75);
    double least = 0, most = 0;
    for (int i = 0; i < 25; i++) {
        least += ms_j[i];
        most += ms_j[74 - i];
    }
    double want = (most - least) / (most + least), got = acc_floor_window(t0, t0 + 25 * MS);
    printf("a100, first 25 ms of an interval: %.3f to %.3f J, floor %.4f (want %.4f)\n", least,
           most, got, want);
    CHECK(want > 0.1);
    CHECK(fabs(got - want) < 1e-6);
    close_cell();
}

static void steady_and_open(void)
{
    open_at("a100-sxm4-80gb", 0, "idle 0.3s\nphase 900s util=1 alpha=0.6\n", 0);
    vsim_run_until(&vs, vsim_now_ns() + 500 * MS);
    int64_t t0 = vsim_next_step(&vs) + 30 * MS;
    vsim_run_until(&vs, t0 + 50 * MS);
    CHECK(acc_floor_window(t0, t0 + 50 * MS) == -1); /* its interval has not closed yet */
    vsim_next_step(&vs);
    double got = acc_floor_window(t0, t0 + 50 * MS);
    printf("a100, steady load: 50 ms window floor %.5f\n", got);
    CHECK(got >= 0 && got < 1e-3);
    close_cell();
}

int main(void)
{
    vsim_load(&vs);
    square_halves(0);
    square_halves(50);
    unseen_part();
    cut_unseen();
    steady_and_open();
    return t_end();
}
