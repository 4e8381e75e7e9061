/* SPDX-License-Identifier: MIT */
/*
 * serve_listen.c - the --listen address (serve.h): numeric addresses only, so that the
 * exporter never waits on a name service and listens where the operator wrote.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve.h"

static int parse_port(const char *text, unsigned *port)
{
    char *end;
    if (!*text || strspn(text, "0123456789") != strlen(text))
        return -1;
    unsigned long v = strtoul(text, &end, 10);
    if (*end || v > 65535)
        return -1;
    *port = (unsigned)v;
    return 0;
}

int serve_parse_listen(const char *text, struct serve_listen *out, char *err, size_t errlen)
{
    char host[64];
    unsigned port = SERVE_DEFAULT_PORT;
    memset(out, 0, sizeof *out);
    if (!text || !*text || strlen(text) >= sizeof host) {
        snprintf(err, errlen, "'%s' is not an address: HOST:PORT, e.g. 127.0.0.1:%d",
                 text ? text : "", SERVE_DEFAULT_PORT);
        return JOULES_E_PARSE;
    }
    const char *colon = strrchr(text, ':');
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || (close[1] && (close[1] != ':' || parse_port(close + 2, &port) != 0))) {
            snprintf(err, errlen, "'%s': expected [IPV6]:PORT, e.g. [::1]:%d", text,
                     SERVE_DEFAULT_PORT);
            return JOULES_E_PARSE;
        }
        snprintf(host, sizeof host, "%.*s", (int)(close - text - 1), text + 1);
    } else if (colon && strchr(text, ':') == colon) {
        if (parse_port(colon + 1, &port) != 0) {
            snprintf(err, errlen, "'%s': the port must be a number from 0 to 65535", text);
            return JOULES_E_PARSE;
        }
        snprintf(host, sizeof host, "%.*s", (int)(colon - text), text);
    } else if (colon) {
        snprintf(err, errlen, "'%s': write an IPv6 address in brackets, e.g. [::1]:%d", text,
                 SERVE_DEFAULT_PORT);
        return JOULES_E_PARSE;
    } else if (parse_port(text, &port) == 0) {
        snprintf(host, sizeof host, "127.0.0.1");
    } else {
        snprintf(host, sizeof host, "%s", text);
    }
    if (!host[0] || strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");

    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->addr;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        out->addrlen = sizeof *v4;
        out->loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
        snprintf(out->text, sizeof out->text, "%s:%u", host, port);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        out->addrlen = sizeof *v6;
        out->loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
        snprintf(out->text, sizeof out->text, "[%s]:%u", host, port);
    } else {
        snprintf(err, errlen,
                 "'%s' is not a numeric address (e.g. 127.0.0.1, 0.0.0.0, [::1]) or "
                 "localhost",
                 host);
        return JOULES_E_PARSE;
    }
    return 0;
}
