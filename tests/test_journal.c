/* SPDX-License-Identifier: MIT */
/*
 * test_journal.c - the restore journal (src/io/journal.c): what is written is read back;
 * a journal is listed from its directory; what no writer writes is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/journal.h"
#include "support.h"
#include "testlib.h"

static char dir[4096];

static void test_written_journal_reads_back(void)
{
    io_journal_entry w = {.pid = 4242, .what = IO_JOURNAL_POWER_LIMIT, .power_limit_w = 312.5};
    snprintf(w.uuid, sizeof w.uuid, "GPU-12/34");
    snprintf(w.device, sizeof w.device, "NVIDIA A100-SXM4-80GB");
    char err[256] = "";
    CHECKF(io_journal_write(dir, &w, err, sizeof err) == 0, "%s", err);
    CHECK(strstr(w.path, "/restore-4242-GPU-12_34-power-limit.journal") != NULL);
    io_journal_entry c = {.pid = 4243, .what = IO_JOURNAL_CLOCKS, .simulated = 1};
    snprintf(c.uuid, sizeof c.uuid, "GPU-abc");
    CHECK_EQ_INT(io_journal_write(dir, &c, err, sizeof err), 0);
    io_journal_entry r[4];
    CHECK_EQ_INT(io_journal_list(dir, r, 4), 2);
    int k = r[0].pid == 4242 ? 0 : 1;
    CHECK_EQ_INT(r[k].what, IO_JOURNAL_POWER_LIMIT);
    CHECK_NEAR(r[k].power_limit_w, 312.5, 1e-9);
    CHECK(strcmp(r[k].uuid, "GPU-12/34") == 0 && strcmp(r[k].device, w.device) == 0);
    CHECK(strcmp(r[k].path, w.path) == 0);
    CHECK_EQ_INT(r[1 - k].what, IO_JOURNAL_CLOCKS);
    CHECK_EQ_INT(r[1 - k].simulated, 1);
    CHECK_EQ_INT(unlink(w.path), 0);
    CHECK_EQ_INT(unlink(c.path), 0);
    CHECK_EQ_INT(io_journal_list(dir, r, 4), 0);
}

static void test_refused(void)
{
    static const char *bad[] = {
        "joules.restore/2\npid 1\nwhat clocks\nuuid x\n",
        "joules.restore/1\npid 0\nwhat clocks\nuuid x\n",
        "joules.restore/1\npid 12x\nwhat clocks\nuuid x\n",
        "joules.restore/1\npid 1\nwhat memory\nuuid x\n",
        "joules.restore/1\npid 1\nwhat clocks\n",
        "joules.restore/1\npid 1\nwhat power-limit\nuuid x\n",
        "joules.restore/1\npid 1\nwhat power-limit\nuuid x\npower_limit_w nan\n",
        "joules.restore/1\npid 1\nwhat power-limit\nuuid x\npower_limit_w -5\n",
        "joules.restore/1\npid 1\nwhat power-limit\nuuid x\npower_limit_w 1e9\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        io_journal_entry e;
        char err[256] = "";
        CHECKF(io_journal_parse(bad[i], "j", &e, err, sizeof err) == -1, "case %zu accepted", i);
        CHECKF(strncmp(err, "j: ", 3) == 0, "case %zu: '%s'", i, err);
    }
}

static void test_pid_alive(void)
{
    CHECK(io_journal_pid_alive((long)getpid()));
    CHECK(!io_journal_pid_alive(0));
}

int main(void)
{
    if (t_mkdtemp(dir, sizeof dir) != 0) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_written_journal_reads_back);
    RUN(test_refused);
    RUN(test_pid_alive);
    t_rmtree(dir);
    return t_end();
}
