/* SPDX-License-Identifier: MIT */
/* testlib.c - the test harness (see testlib.h). */
#define _XOPEN_SOURCE 700
#include "testlib.h"

#include "joules.h"

#include <stdarg.h>
#include <stdio.h>

int t_passed;
int t_failed;
int t_skipped;
static const char *t_current = "";

void t_begin(const char *name)
{
    t_current = name;
    printf("-- %s\n", name);
    fflush(stdout);
}

void t_check(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
    if (ok) {
        t_passed++;
        return;
    }
    t_failed++;
    printf("FAIL %s (%s:%d): %s", t_current, file, line, expr);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        printf(": ");
        vprintf(fmt, ap);
        va_end(ap);
    }
    printf("\n");
    fflush(stdout);
}

void t_skip(const char *why)
{
    t_skipped++;
    printf("SKIP %s: %s\n", t_current, why);
    fflush(stdout);
}

int t_end(void)
{
    printf("%d passed, %d failed, %d case(s) skipped\n", t_passed, t_failed, t_skipped);
    if (t_failed)
        return 1;
    return t_skipped ? T_SKIP_EXIT : 0;
}
