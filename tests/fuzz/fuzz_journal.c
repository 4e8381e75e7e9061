/* SPDX-License-Identifier: MIT */
/* fuzz_journal.c - the restore journal reader (src/io/journal.c) on any text: what it accepts
 * names a process, a GPU and, for a power limit, a finite positive value. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "io/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* io_journal_list reads at most 2047 bytes of a journal. */
    if (size > 2047)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    io_journal_entry e;
    char err[512];
    if (io_journal_parse(text, "fuzz.journal", &e, err, sizeof err) == 0) {
        if (e.pid <= 0 || !e.uuid[0] || strlen(e.uuid) >= sizeof e.uuid ||
            strlen(e.device) >= sizeof e.device ||
            (e.what != IO_JOURNAL_CLOCKS && e.what != IO_JOURNAL_POWER_LIMIT) ||
            (e.what == IO_JOURNAL_POWER_LIMIT &&
             !(isfinite(e.power_limit_w) && e.power_limit_w > 0)))
            abort();
    }
    free(text);
    return 0;
}
