/* SPDX-License-Identifier: MIT */
/*
 * accuracy_vsim.c - the naive method in the simulated GPU's virtual time, for the benchmarks
 * that run there (bench_edges, bench_repeat): nvmlDeviceGetPowerUsage read every 100 ms of
 * simulated time into a poller, as the real-time benchmark's thread does every 100 ms.
 */
#include "accuracy.h"
#include "vsim.h"

#define NAIVE_PERIOD_NS 100000000LL

static struct acc_poller *poller;
static int64_t next_ns;

static void naive_tick(struct vsim *v, void *user)
{
    (void)user;
    int64_t now = vsim_now_ns();
    if (next_ns < 0) /* the first read of a cell: now */
        next_ns = now;
    if (now < next_ns || poller->n >= ACC_MAX_POLL)
        return;
    double w = vsim_power_usage_w(v);
    if (w >= 0) {
        poller->t_ns[poller->n] = now;
        poller->p_w[poller->n] = w;
        poller->n++;
    }
    next_ns += NAIVE_PERIOD_NS;
}

void acc_vnaive_attach(struct vsim *v, struct acc_poller *p)
{
    poller = p;
    p->n = 0;
    next_ns = -1;
    v->on_tick = naive_tick;
}
