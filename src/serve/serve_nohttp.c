/* SPDX-License-Identifier: MIT */
/*
 * serve_nohttp.c - serve.h in a build without libmicrohttpd: the exporter's formats are
 * there (serve_format.h), its HTTP server is not, and serve_start says how to get it.
 */
#include <stdio.h>

#include "serve/serve.h"

const char *serve_unavailable(void)
{
    return "this joules was built without libmicrohttpd, which the exporter's HTTP server "
           "needs. Install it (Debian, Ubuntu: apt-get install libmicrohttpd-dev; Fedora: dnf "
           "install libmicrohttpd-devel; or `make deps` as root), then rebuild (make build)";
}

int serve_start(serve_server **out, joules_monitor *m, const struct serve_config *cfg, char *err,
                size_t errlen)
{
    (void)m;
    (void)cfg;
    *out = NULL;
    snprintf(err, errlen, "%s", serve_unavailable());
    return JOULES_E_NOT_SUPPORTED;
}

const char *serve_url(const serve_server *s)
{
    (void)s;
    return "";
}

unsigned serve_port(const serve_server *s)
{
    (void)s;
    return 0;
}

unsigned serve_connection_limit(const serve_server *s)
{
    (void)s;
    return 0;
}

void serve_stop(serve_server *s, struct serve_totals *out)
{
    (void)s;
    if (out)
        *out = (struct serve_totals){0};
}
