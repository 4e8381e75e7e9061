/* SPDX-License-Identifier: MIT */
/*
 * extra.h - what a command adds to the JSON and CSV a lower layer writes for it: the command
 * line's efficiency and emissions figures (docs/impact.md) in the documents of run, ab and
 * sweep, whose writers know nothing of them. A writer given an io_extra calls json() inside
 * its top-level object, after its own keys, and appends csv_header() to its header line and
 * csv_row() to each row; each call writes its own leading commas.
 */
#ifndef JOULES_IO_EXTRA_H
#define JOULES_IO_EXTRA_H

#include <stdio.h>

#include "io/json.h"

typedef struct io_extra {
    void (*json)(io_json *j, const void *ctx);
    void (*csv_header)(FILE *out, const void *ctx);
    /* subject: what the row is about as the extra knows it (an arm's name); NULL: the
     * document has one subject. */
    void (*csv_row)(FILE *out, const void *ctx, const char *subject);
    const void *ctx;
} io_extra;

#endif
