/* SPDX-License-Identifier: MIT */
/*
 * test_errors.c - the error table (JOULES_ERROR_TABLE in joules.h) and the version: every
 * code round-trips through joules_err_name() and joules_strerror() to its own row, codes and
 * names are unique, a value that is no code is handled, and the library's version string is
 * the header's three numbers.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "joules.h"
#include "testlib.h"

#define ROW(name, value, text) {name, #name, text},
static const struct {
    int code;
    const char *name, *text;
} rows[] = {JOULES_ERROR_TABLE(ROW)};
#undef ROW
#define N_ROWS ((int)(sizeof rows / sizeof rows[0]))

static void test_every_code_round_trips(void)
{
    CHECK(N_ROWS > 1);
    for (int i = 0; i < N_ROWS; i++) {
        const char *name = joules_err_name(rows[i].code);
        const char *text = joules_strerror(rows[i].code);
        CHECKF(name && strcmp(name, rows[i].name) == 0, "%d: %s", rows[i].code,
               name ? name : "(null)");
        CHECKF(text && text[0] && strcmp(text, rows[i].text) == 0, "%s: '%s'", rows[i].name,
               text ? text : "(null)");
        CHECKF(strcmp(text, "unknown error") != 0, "%s", rows[i].name);
        CHECKF(strncmp(rows[i].name, "JOULES_", 7) == 0, "%s", rows[i].name);
        CHECKF(rows[i].code <= 0, "%s = %d: codes are 0 or negative", rows[i].name, rows[i].code);
        for (int j = 0; j < i; j++) {
            CHECKF(rows[i].code != rows[j].code, "%s and %s share %d", rows[i].name, rows[j].name,
                   rows[i].code);
            CHECKF(strcmp(rows[i].text, rows[j].text) != 0, "%s and %s share a text", rows[i].name,
                   rows[j].name);
        }
    }
    /* The enum is the table's: spot checks of names a caller writes. */
    CHECK_EQ_INT(JOULES_OK, 0);
    CHECK(strcmp(joules_err_name(JOULES_E_INVALID), "JOULES_E_INVALID") == 0);
    CHECK(strcmp(joules_err_name(JOULES_E_SYSTEM), "JOULES_E_SYSTEM") == 0);
}

static void test_codes_are_contiguous(void)
{
    /* 0, -1, ... -(N-1): a binding may scan them down from 0 until the first gap. */
    int lowest = 0;
    for (int i = 0; i < N_ROWS; i++)
        lowest = rows[i].code < lowest ? rows[i].code : lowest;
    CHECK_EQ_INT(lowest, -(N_ROWS - 1));
    for (int code = lowest; code <= 0; code++)
        CHECKF(joules_err_name(code) != NULL, "%d", code);
}

static void test_unknown_codes(void)
{
    int lowest = 0;
    for (int i = 0; i < N_ROWS; i++)
        lowest = rows[i].code < lowest ? rows[i].code : lowest;
    const int unknown[] = {1, 2, lowest - 1, -1000, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        CHECKF(joules_err_name(unknown[i]) == NULL, "%d", unknown[i]);
        const char *text = joules_strerror(unknown[i]);
        CHECKF(text && strcmp(text, "unknown error") == 0, "%d: '%s'", unknown[i],
               text ? text : "(null)");
    }
}

static void test_version(void)
{
    char expect[64];
    snprintf(expect, sizeof expect, "%d.%d.%d", JOULES_VERSION_MAJOR, JOULES_VERSION_MINOR,
             JOULES_VERSION_PATCH);
    CHECKF(strcmp(JOULES_VERSION_STRING, expect) == 0, "'%s' vs '%s'", JOULES_VERSION_STRING,
           expect);
    CHECKF(strcmp(joules_version(), expect) == 0, "'%s' vs '%s'", joules_version(), expect);
}

int main(void)
{
    RUN(test_every_code_round_trips);
    RUN(test_codes_are_contiguous);
    RUN(test_unknown_codes);
    RUN(test_version);
    return t_end();
}
