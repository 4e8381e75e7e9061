/* SPDX-License-Identifier: MIT */
/*
 * test_deferred_threads.c - deferred windows in real time, on the simulated GPU: the tracker
 * thread anchors a pending end edge with no call from the caller, and threads that end and
 * collect windows while the tracker refines them (run under TSan with the threads label).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joules.h"
#include "testlib.h"

static joules_monitor *m;

static void test_tracker_anchors_the_end(void)
{
    uint64_t t;
    joules_measurement r;
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
    joules_measurement r;
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

int main(void)
{
    char err[256] = "";
    setenv("JOULES_SIM_PROFILE", "a100-sxm4-80gb", 1);
    m = t_open_sim_gpu(0, err, sizeof err);
    CHECKF(m != NULL, "open: %s", err);
    if (!m)
        return t_end();
    RUN(test_tracker_anchors_the_end);
    RUN(test_threads_end_and_collect);
    joules_close(m);
    return t_end();
}
