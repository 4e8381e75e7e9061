/* SPDX-License-Identifier: MIT */
/*
 * test_cli_restore.c - restoring a GPU (src/cli/cli_restore.c): a restore that fails is tried
 * again, a bounded number of times with growing waits; the command printed for a restore by
 * hand names the board and the setting.
 */
#include <string.h>
#include <time.h>

#include "cli/cli_restore.h"
#include "testlib.h"

struct flaky {
    int failures_left, calls;
};

static int flaky_restore(void *ctx)
{
    struct flaky *f = ctx;
    f->calls++;
    if (f->failures_left > 0) {
        f->failures_left--;
        return 7;
    }
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void test_retries_until_it_works(void)
{
    for (int fail = 0; fail < CLI_RESTORE_TRIES; fail++) {
        struct flaky f = {fail, 0};
        int tries = -1;
        CHECK_EQ_INT(cli_restore_retry(flaky_restore, &f, &tries), 0);
        CHECK_EQ_INT(tries, fail + 1);
        CHECK_EQ_INT(f.calls, fail + 1);
    }
}

static void test_gives_up_after_a_bounded_time(void)
{
    struct flaky f = {1000, 0};
    int tries = -1;
    double t0 = now_s();
    CHECK_EQ_INT(cli_restore_retry(flaky_restore, &f, &tries), 7);
    double waited = now_s() - t0;
    CHECK_EQ_INT(tries, CLI_RESTORE_TRIES);
    CHECK_EQ_INT(f.calls, CLI_RESTORE_TRIES);
    /* 25 + 50 + 100 + 200 ms between the five tries. */
    CHECKF(waited >= 0.370 && waited < 3.0, "waited %.3f s", waited);
}

static void test_command_by_hand(void)
{
    char buf[128];
    cli_restore_command(buf, sizeof buf, "GPU-1234", -1.0);
    CHECK(strcmp(buf, "nvidia-smi -i GPU-1234 -rgc") == 0);
    cli_restore_command(buf, sizeof buf, "00000000:3B:00.0", 300.0);
    CHECK(strcmp(buf, "nvidia-smi -i 00000000:3B:00.0 -pl 300") == 0);
}

int main(void)
{
    RUN(test_retries_until_it_works);
    RUN(test_gives_up_after_a_bounded_time);
    RUN(test_command_by_hand);
    return t_end();
}
