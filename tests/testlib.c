/* SPDX-License-Identifier: MIT */
/* testlib.c - the test harness (see testlib.h). */
#define _XOPEN_SOURCE 700
#include "testlib.h"

#include "joules.h"

#include <stdarg.h>
#include <stdio.h>

int t_passed;
int t_failed;
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

int t_end(void)
{
    printf("%d passed, %d failed\n", t_passed, t_failed);
    return t_failed ? 1 : 0;
}
