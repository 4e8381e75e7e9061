/* SPDX-License-Identifier: MIT */
/*
 * serve_http.c - the exporter's HTTP side on libmicrohttpd (serve.h). One internal thread
 * polls every connection with epoll, so a thousand idle sockets cost it nothing per scrape;
 * the connection limit, the per-connection timeout and the per-connection memory pool bound
 * what a flood, a slow client or an oversized request can take. A scrape copies the state
 * under its lock and formats the copy: it never reads a device.
 */
#include <errno.h>
#include <pthread.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "serve/serve.h"
#include "serve/serve_format.h"
#include "serve/serve_state.h"

#define DEFAULT_TIMEOUT_S    10u
#define DEFAULT_MEMORY_LIMIT (16u * 1024u)
/* Descriptors kept for everything but the connections (the library's files, logs). */
#define FD_RESERVE 64u

struct serve_server {
    joules_monitor *m;
    struct serve_state state;
    joules_sampler *sampler;
    struct MHD_Daemon *daemon;
    unsigned port;
    unsigned connection_limit;
    char url[128];
    /* Used by the daemon thread only: */
    size_t size_hint;           /* the previous answer's size, to allocate once */
    struct serve_snapshot snap; /* the copy a scrape formats */
};

const char *serve_unavailable(void)
{
    return NULL;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void on_round(const joules_power_sample *samples, int n, void *user)
{
    serve_state_update(user, samples, n);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
                             struct serve_buf *body, const char *allow)
{
    struct MHD_Response *r;
    if (body) {
        r = MHD_create_response_from_buffer(body->len, body->p, MHD_RESPMEM_MUST_FREE);
        if (r)
            body->p = NULL; /* now the response's */
        serve_buf_free(body);
    } else {
        const char *text = code == 404   ? "not found: the metrics are at /metrics\n"
                           : code == 405 ? "method not allowed: only GET (and HEAD)\n"
                                         : "error\n";
        r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
        type = "text/plain; charset=utf-8";
    }
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result rc = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls)
{
    struct serve_server *s = cls;
    static int seen; /* any address: marks a request whose headers were seen */
    (void)version;
    (void)upload_data;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, NULL, "GET, HEAD");
    int metrics = strcmp(url, "/metrics") == 0;
    if (!metrics && strcmp(url, "/") != 0)
        return reply(c, MHD_HTTP_NOT_FOUND, NULL, NULL, NULL);
    /* Answer once the request is complete: queued on the first call (headers only), the
     * answer would close the connection, and Prometheus would reconnect at every scrape. */
    if (!*req_cls) {
        *req_cls = &seen;
        return MHD_YES;
    }
    if (*upload_size) /* a GET with a body: refuse rather than read it */
        return reply(c, MHD_HTTP_BAD_REQUEST, NULL, NULL, NULL);
    int64_t t0 = now_ns();

    struct serve_snapshot *snap = &s->snap;
    serve_state_snapshot(&s->state, snap);
    snap->have_st = joules_sampler_stats_get(s->sampler, &snap->st) == 0;
    struct serve_buf b = {0};
    serve_buf_reserve(&b, s->size_hint + s->size_hint / 8 + 256);
    const char *type;
    if (metrics) {
        const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
        enum serve_format f = serve_negotiate(accept);
        serve_format_metrics(&b, &s->state, snap, t0, f);
        type = f == SERVE_OPENMETRICS ? SERVE_CONTENT_TYPE_OM : SERVE_CONTENT_TYPE_TEXT;
        s->size_hint = b.len;
    } else {
        serve_format_index(&b, &s->state, snap);
        type = "text/html; charset=utf-8";
    }
    if (b.oom) {
        serve_buf_free(&b);
        return MHD_NO;
    }
    enum MHD_Result rc = reply(c, MHD_HTTP_OK, type, &b, NULL);
    if (metrics)
        serve_state_scraped(&s->state, (double)(now_ns() - t0) * 1e-9);
    return rc;
}

/* The connection limit the open-file limit allows, raising the soft limit when it can. */
static unsigned fit_connections(unsigned want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want;
    rlim_t need = (rlim_t)want + FD_RESERVE;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        rlim_t cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
        struct rlimit up = {cur, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl.rlim_cur = cur;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
        return rl.rlim_cur > 2 * FD_RESERVE ? (unsigned)(rl.rlim_cur - FD_RESERVE) : FD_RESERVE;
    return want;
}

int serve_start(serve_server **out, joules_monitor *m, const struct serve_config *cfg, char *err,
                size_t errlen)
{
    *out = NULL;
    struct serve_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return JOULES_E_NOMEM;
    }
    s->m = m;
    int rc = serve_state_init(&s->state, m, cfg->interval_ns, cfg->hostname, cfg->hpc_job,
                              cfg->dcgm_labels, err, errlen);
    if (rc != 0) {
        free(s);
        return rc;
    }
    joules_sampler_options so;
    joules_sampler_options_init(&so);
    so.interval_ns = (uint64_t)cfg->interval_ns;
    so.callback = on_round;
    so.user = &s->state;
    rc = joules_sampler_start(m, &so, &s->sampler);
    if (rc != 0) {
        snprintf(err, errlen, "the sampler did not start: %s", joules_last_error(m));
        serve_state_destroy(&s->state);
        free(s);
        return rc;
    }

    /* The first round is taken at once: wait for it (a bounded time), so that the first
     * scrape already has readings. */
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&s->state.lock);
        uint64_t rounds = s->state.live.rounds;
        pthread_mutex_unlock(&s->state.lock);
        if (rounds)
            break;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }

    s->connection_limit =
        fit_connections(cfg->connection_limit ? cfg->connection_limit : SERVE_DEFAULT_CONNECTIONS);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    if (cfg->listen.addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    uint16_t port = ntohs(cfg->listen.addr.ss_family == AF_INET6
                              ? ((const struct sockaddr_in6 *)&cfg->listen.addr)->sin6_port
                              : ((const struct sockaddr_in *)&cfg->listen.addr)->sin_port);
    errno = 0;
    s->daemon = MHD_start_daemon(
        flags, port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &cfg->listen.addr,
        MHD_OPTION_CONNECTION_LIMIT, s->connection_limit, MHD_OPTION_CONNECTION_TIMEOUT,
        cfg->timeout_s ? cfg->timeout_s : DEFAULT_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        cfg->memory_limit ? cfg->memory_limit : (size_t)DEFAULT_MEMORY_LIMIT,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (!s->daemon) {
        int e = errno;
        snprintf(err, errlen, "cannot listen on %s%s%s", cfg->listen.text, e ? ": " : "",
                 e ? strerror(e) : "");
        joules_sampler_free(s->sampler);
        serve_state_destroy(&s->state);
        free(s);
        return JOULES_E_SYSTEM;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : port;
    /* The address as written, with the port bound. */
    char host[80];
    snprintf(host, sizeof host, "%s", cfg->listen.text);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    snprintf(s->url, sizeof s->url, "http://%s:%u/metrics", host, s->port);
    *out = s;
    return 0;
}

unsigned serve_port(const serve_server *s)
{
    return s ? s->port : 0;
}

const char *serve_url(const serve_server *s)
{
    return s ? s->url : "";
}

unsigned serve_connection_limit(const serve_server *s)
{
    return s ? s->connection_limit : 0;
}

void serve_stop(serve_server *s, struct serve_totals *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    joules_sampler_stats st;
    joules_sampler_stop(s->sampler, &st);
    joules_sampler_free(s->sampler);
    if (out) {
        out->sampler = st;
        out->scrapes = s->state.live.scrapes;
    }
    serve_state_destroy(&s->state);
    free(s);
}
