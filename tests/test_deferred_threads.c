/* SPDX-License-Identifier: MIT */
/*
 * test_deferred_threads.c - deferred windows in real time, on the simulated GPU (run under
 * TSan with the threads label): the tracker thread anchors a pending end edge with no call
 * from the caller; threads that end and collect windows, or ask for unknown tickets, while
 * the tracker refines them; the pending limit held by threads ending at once; a monitor with
 * a GPU and a (fake) RAPL package; and close with windows never collected.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/nvml_abi.h"
#include "joules.h"
#include "test_rapl_fake.h"
#include "testlib.h"

static joules_monitor *m;

static void test_tracker_anchors_the_end(void)
{
    uint64_t t;
    joules_domain_energy r_dom[16];
    joules_measurement r;
    joules_measurement_init(&r, r_dom, 16);
    CHECK_EQ_INT(joules_window_begin(m, "w"), 0);
    t_sleep(0.3);
    CHECK_EQ_INT(joules_window_end_deferred(m, "w", &t), 0);
    t_sleep(0.3); /* no call into the monitor: only the tracker works */
    CHECK_EQ_INT(joules_window_ready(m, t), 1);
    CHECK_EQ_INT(joules_window_collect(m, t, 0, &r), 0);
    const joules_domain_energy *de = &r.domains[0];
    printf("   %.3f s: %.4f J +/- %.4f, truth %.4f J (%s)\n", r.duration_s, de->energy_j,
           de->uncertainty_j, de->sim_truth_j, de->message);
    CHECKF(strstr(de->message, "both edges anchored") != NULL, "%s", de->message);
    CHECK(de->valid && de->energy_j > 0);
    CHECKF(de->energy_j - de->sim_truth_j <= de->uncertainty_j &&
               de->sim_truth_j - de->energy_j <= de->uncertainty_j,
           "%.4f vs %.4f +/- %.4f", de->energy_j, de->sim_truth_j, de->uncertainty_j);

    /* Waiting at collection: an end not yet anchored is waited for (~100 ms at most). */
    CHECK_EQ_INT(joules_window_begin(m, "w"), 0);
    t_sleep(0.05);
    CHECK_EQ_INT(joules_window_end_deferred(m, "w", &t), 0);
    CHECK_EQ_INT(joules_window_collect(m, t, -1, &r), 0);
    CHECKF(strstr(r.domains[0].message, "both edges anchored") != NULL, "%s", r.domains[0].message);
}

struct worker {
    char name[16];
    int failures;
    int collected;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    uint64_t prev = 0, t;
    joules_domain_energy r_dom[16];
    joules_measurement r;
    joules_measurement_init(&r, r_dom, 16);
    for (int i = 0; i < 40; i++) {
        if (joules_window_begin(m, w->name) != 0 ||
            (t_sleep(0.004), joules_window_end_deferred(m, w->name, &t)) != 0) {
            w->failures++;
            continue;
        }
        if (prev) {
            if (joules_window_collect(m, prev, 0, &r) != 0 || !r.domains[0].valid)
                w->failures++;
            else
                w->collected++;
        }
        prev = t;
    }
    if (prev && joules_window_collect(m, prev, -1, &r) == 0)
        w->collected++;
    return NULL;
}

static void test_threads_end_and_collect(void)
{
    enum { N = 3 };
    pthread_t th[N];
    struct worker ws[N];
    memset(ws, 0, sizeof ws);
    for (int i = 0; i < N; i++) {
        snprintf(ws[i].name, sizeof ws[i].name, "worker%d", i);
        CHECK_EQ_INT(pthread_create(&th[i], NULL, work, &ws[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(ws[i].failures, 0);
        CHECK_EQ_INT(ws[i].collected, 40);
    }
}

/* Tickets never issued, asked for while other threads end and collect. */
static void *ask_unknown(void *arg)
{
    int *wrong = arg;
    joules_domain_energy r_dom[16];
    joules_measurement r;
    joules_measurement_init(&r, r_dom, 16);
    for (int i = 0; i < 200; i++) {
        *wrong += joules_window_ready(m, 1000000000ULL + (uint64_t)i) != JOULES_E_STATE;
        *wrong += joules_window_collect(m, 2000000000ULL + (uint64_t)i, 0, &r) != JOULES_E_STATE;
    }
    return NULL;
}

static void test_unknown_tickets_meanwhile(void)
{
    pthread_t th[2];
    struct worker w;
    memset(&w, 0, sizeof w);
    snprintf(w.name, sizeof w.name, "busy");
    int wrong = 0;
    CHECK_EQ_INT(pthread_create(&th[0], NULL, work, &w), 0);
    CHECK_EQ_INT(pthread_create(&th[1], NULL, ask_unknown, &wrong), 0);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    CHECK_EQ_INT(w.failures, 0);
    CHECK_EQ_INT(wrong, 0);
}

struct filler {
    char name[16];
    int ended;
    uint64_t tickets[JOULES_PENDING_MAX];
};

/* End deferred windows without collecting until the limit refuses one. */
static void *fill(void *arg)
{
    struct filler *f = arg;
    while (f->ended < JOULES_PENDING_MAX && joules_window_begin(m, f->name) == 0) {
        if (joules_window_end_deferred(m, f->name, &f->tickets[f->ended]) != 0) {
            joules_window_cancel(m, f->name);
            break;
        }
        f->ended++;
    }
    return NULL;
}

static void test_limit_held_by_threads(void)
{
    enum { N = 4 };
    static struct filler fs[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        memset(&fs[i], 0, sizeof fs[i]);
        snprintf(fs[i].name, sizeof fs[i].name, "fill%d", i);
        CHECK_EQ_INT(pthread_create(&th[i], NULL, fill, &fs[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        total += fs[i].ended;
    }
    CHECK_EQ_INT(total, JOULES_PENDING_MAX);
    joules_domain_energy r_dom[16];
    joules_measurement r;
    joules_measurement_init(&r, r_dom, 16);
    int collected = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < fs[i].ended; j++)
            collected += joules_window_collect(m, fs[i].tickets[j], 0, &r) == 0;
    CHECK_EQ_INT(collected, JOULES_PENDING_MAX);
}

/* The simulated GPU 0's own counter, read past the monitor (0 if it cannot be read). */
static unsigned long long sim_counter_mj(void)
{
    typedef nvmlReturn_t (*handle_fn)(unsigned, nvmlDevice_t *);
    typedef nvmlReturn_t (*energy_fn)(nvmlDevice_t, unsigned long long *);
    void *dl = dlopen(JOULES_TEST_SIM_LIB, RTLD_NOW | RTLD_NOLOAD);
    if (!dl)
        return 0;
    handle_fn handle = (handle_fn)dlsym(dl, "nvmlDeviceGetHandleByIndex_v2");
    energy_fn energy = (energy_fn)dlsym(dl, "nvmlDeviceGetTotalEnergyConsumption");
    nvmlDevice_t dev;
    unsigned long long mj = 0;
    if (handle && energy && handle(0, &dev) == NVML_SUCCESS)
        energy(dev, &mj);
    dlclose(dl);
    return mj;
}

/* A GPU and a RAPL package in one monitor: ready once the GPU's counter has stepped; the
 * package, current at every read, is the counter's difference. */
static void test_gpu_and_rapl(void)
{
    char root[4096];
    CHECK(t_mkdtemp(root, sizeof root) == 0);
    fake_zone(root, "intel-rapl:0", "package-0", 262143999938ULL, 1000000);
    joules_options o;
    joules_options_init(&o);
    o.nvml_library = JOULES_TEST_SIM_LIB;
    o.sysfs_root = root;
    joules_monitor *mixed = NULL;
    char err[256] = "";
    CHECKF(joules_open(&mixed, &o, err, sizeof err) == 0, "open: %s", err);
    if (!mixed)
        return;
    int gpu = fake_find(mixed, "gpu0"), cpu = fake_find(mixed, "cpu0");
    CHECK(gpu >= 0 && cpu >= 0);
    t_sleep(0.25);
    uint64_t t;
    joules_domain_energy r_dom[16];
    joules_measurement r;
    joules_measurement_init(&r, r_dom, 16);
    CHECK_EQ_INT(joules_window_begin(mixed, "w"), 0);
    t_sleep(0.1);
    fake_set(root, "intel-rapl:0", 1000000 + 3000000); /* +3 J */
    t_sleep(0.1);
    unsigned long long before_mj = sim_counter_mj();
    CHECK_EQ_INT(joules_window_end_deferred(mixed, "w", &t), 0);
    int ready = joules_window_ready(mixed, t);
    if (sim_counter_mj() == before_mj)
        CHECK_EQ_INT(ready, 0); /* the GPU's step is still to come */
    else /* a host that held this thread back let the step come between the two calls */
        printf("   the counter stepped between the end and the ready call: ready %d\n", ready);
    t_sleep(0.3);
    CHECK_EQ_INT(joules_window_ready(mixed, t), 1);
    CHECK_EQ_INT(joules_window_collect(mixed, t, 0, &r), 0);
    if (gpu >= 0 && cpu >= 0) {
        const joules_domain_energy *g = &r.domains[gpu], *c = &r.domains[cpu];
        CHECKF(strstr(g->message, "both edges anchored") != NULL, "%s", g->message);
        CHECKF(strstr(c->message, "read at both edges") != NULL, "%s", c->message);
        CHECKF(c->valid && c->energy_j >= 3 - c->uncertainty_j - 1e-9 &&
                   c->energy_j <= 3 + c->uncertainty_j + 1e-9,
               "cpu0 %.6f J +/- %.6f, want 3", c->energy_j, c->uncertainty_j);
    }
    joules_close(mixed);
    t_rmtree(root);
}

int main(void)
{
    char err[256] = "";
    printf("(every figure below is SIMULATED: the simulated GPU, in real time)\n");
    setenv("JOULES_SIM_PROFILE", "a100-sxm4-80gb", 1);
    m = t_open_sim_gpu(0, err, sizeof err);
    CHECKF(m != NULL, "open: %s", err);
    if (!m)
        return t_end();
    RUN(test_tracker_anchors_the_end);
    RUN(test_threads_end_and_collect);
    RUN(test_unknown_tickets_meanwhile);
    RUN(test_limit_held_by_threads);
    RUN(test_gpu_and_rapl);
    /* Closed with windows never collected, the tracker running: ASan sees any leak. */
    for (int i = 0; i < 5; i++) {
        uint64_t t;
        CHECK_EQ_INT(joules_window_begin(m, "left"), 0);
        CHECK_EQ_INT(joules_window_end_deferred(m, "left", &t), 0);
    }
    joules_close(m);
    return t_end();
}
