/* SPDX-License-Identifier: MIT */
/*
 * serve_format.h - the exposition: a snapshot of the exporter's state as OpenMetrics 1.0.0
 * or as the Prometheus text format 0.0.4, the choice between them from an Accept header, and
 * the small HTML page at `/`. Names follow Prometheus's conventions: base units as suffixes
 * (_joules, _watts, _celsius, _hertz, _seconds), _total on counters, ratios from 0 to 1.
 * docs/serve.md lists every metric.
 */
#ifndef JOULES_SERVE_FORMAT_H
#define JOULES_SERVE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "serve/serve_state.h"

enum serve_format {
    SERVE_TEXT_004 = 0,    /* text/plain; version=0.0.4 */
    SERVE_OPENMETRICS = 1, /* application/openmetrics-text; version=1.0.0 */
};

#define SERVE_CONTENT_TYPE_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define SERVE_CONTENT_TYPE_OM   "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* A growing text buffer; oom is set (and the text left short) when memory ran out. */
struct serve_buf {
    char *p;
    size_t len, cap;
    int oom;
};

int serve_buf_reserve(struct serve_buf *b, size_t cap);
void serve_buf_free(struct serve_buf *b);

/* The format an Accept header asks for: OpenMetrics 1.0.0 when it is preferred (by q) to
 * the text format, the text format otherwise, including when the header is absent or names
 * neither (as Prometheus's own client libraries answer). */
enum serve_format serve_negotiate(const char *accept);

/* Append the metrics of snap (now_ns: CLOCK_MONOTONIC of the scrape) in format f. */
void serve_format_metrics(struct serve_buf *b, const struct serve_state *s,
                          const struct serve_snapshot *snap, int64_t now_ns, enum serve_format f);

/* Append the page at `/`: a link to /metrics and the devices. */
void serve_format_index(struct serve_buf *b, const struct serve_state *s,
                        const struct serve_snapshot *snap);

#endif
