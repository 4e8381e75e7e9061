/* SPDX-License-Identifier: MIT */
/*
 * serve.h - the Prometheus/OpenMetrics exporter behind `joules serve`: a sampler on the
 * monitor feeds the state (serve_state.h) every interval; an HTTP server (libmicrohttpd)
 * answers GET /metrics with the latest readings, formatted (serve_format.h) in the format
 * the scraper asks for, and GET / with a small page. Everything else gets a 4xx. Connections
 * are bounded in number, in time and in memory, so a flood or a slow client cannot hold
 * the next scrape.
 */
#ifndef JOULES_SERVE_H
#define JOULES_SERVE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "joules.h"

#define SERVE_DEFAULT_PORT 9464

/* Where to listen. */
struct serve_listen {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int loopback;  /* 127.0.0.0/8 or ::1 */
    char text[80]; /* "127.0.0.1:9464", "[::1]:9464" */
};

/*
 * "HOST:PORT", "[V6]:PORT", "HOST" or "PORT" (the other part defaulting to 127.0.0.1 and
 * 9464); HOST is a numeric address or "localhost"; an IPv6 address goes in brackets. Port 0 asks
 * the system for a free one. 0, or JOULES_E_PARSE with the reason in err.
 */
int serve_parse_listen(const char *text, struct serve_listen *out, char *err, size_t errlen);

struct serve_config {
    struct serve_listen listen;
    int64_t interval_ns;       /* sampling interval */
    const char *hostname;      /* the hostname label; NULL: gethostname() */
    const char *hpc_job;       /* the hpc_job label (the Slurm job id); NULL: none */
    int dcgm_labels;           /* add dcgm-exporter's camelCase modelName beside model_name */
    unsigned connection_limit; /* 0: SERVE_DEFAULT_CONNECTIONS */
    unsigned timeout_s;        /* idle time before a connection is closed; 0: 10 s */
    size_t memory_limit;       /* per connection; bounds the request size; 0: 16 KiB */
};

#define SERVE_DEFAULT_CONNECTIONS 2048

typedef struct serve_server serve_server;

/* NULL when this build has the HTTP server (libmicrohttpd); otherwise why not and how to
 * get it, in words (serve_start then fails with the same message). */
const char *serve_unavailable(void);

/* Start the sampler and the HTTP server on m (which must outlive the server). The threads
 * inherit the caller's signal mask. 0, or a JOULES_E_* code with the reason in err. */
int serve_start(serve_server **out, joules_monitor *m, const struct serve_config *cfg, char *err,
                size_t errlen);
/* The port listened on (useful after port 0), and the metrics' URL. */
unsigned serve_port(const serve_server *s);
const char *serve_url(const serve_server *s);
/* The connection limit in force (lowered to what the open-file limit allows). */
unsigned serve_connection_limit(const serve_server *s);
/* Stop the server and the sampler; fill what the exporter did (may be NULL). NULL is
 * allowed. */
struct serve_totals {
    uint64_t scrapes;
    joules_sampler_stats sampler;
};
void serve_stop(serve_server *s, struct serve_totals *out);

#endif
