/* SPDX-License-Identifier: MIT */
/* fuzz_serve_request.c - what `joules serve` parses of outside text itself
 * (src/serve): the --listen address (serve_parse_listen) and a request's Accept header
 * (serve_negotiate); libmicrohttpd parses the request line and the headers. Whatever the
 * text, the address is one of the two families with its length and a terminated label, and
 * the format is one of the two the exporter writes. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "serve/serve.h"
#include "serve/serve_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    struct serve_listen l;
    char err[256];
    err[0] = '\0';
    if (serve_parse_listen(text, &l, err, sizeof err) == 0) {
        int family = l.addr.ss_family;
        if ((family != AF_INET && family != AF_INET6) || (l.loopback != 0 && l.loopback != 1) ||
            memchr(l.text, '\0', sizeof l.text) == NULL ||
            l.addrlen !=
                (family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)))
            abort();
    } else if (!err[0] || memchr(err, '\0', sizeof err) == NULL) { /* a refusal says why */
        abort();
    }

    enum serve_format f = serve_negotiate(text);
    if (f != SERVE_TEXT_004 && f != SERVE_OPENMETRICS)
        abort();
    free(text);
    return 0;
}
