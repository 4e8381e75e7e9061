/* SPDX-License-Identifier: MIT */
/*
 * errors.c - the one table of error codes, the names of methods and kinds, and the
 * contextual message of the last failure (kept per thread, tagged with its monitor, so
 * concurrent callers never read each other's half-written text).
 */
#include <stdarg.h>
#include <stdio.h>

#include "core/core.h"

static _Thread_local char tls_message[512];
static _Thread_local const joules_monitor *tls_owner;

const char *joules_version(void)
{
    return JOULES_VERSION_STRING;
}

const char *joules_strerror(int err)
{
    switch (err) {
    case JOULES_OK:
        return "success";
    case JOULES_E_INVALID:
        return "invalid argument";
    case JOULES_E_NOMEM:
        return "out of memory";
    case JOULES_E_NO_DOMAIN:
        return "no measurable domain";
    case JOULES_E_LIBRARY:
        return "vendor library missing or unusable";
    case JOULES_E_PERMISSION:
        return "permission denied";
    case JOULES_E_NOT_SUPPORTED:
        return "not supported by the device";
    case JOULES_E_DEVICE_LOST:
        return "device lost";
    case JOULES_E_IO:
        return "input/output error";
    case JOULES_E_STATE:
        return "invalid state";
    case JOULES_E_NOT_FOUND:
        return "not found";
    case JOULES_E_SYNC:
        return "synchronisation callback failed";
    case JOULES_E_DRIVER:
        return "driver error";
    case JOULES_E_PARSE:
        return "malformed input";
    case JOULES_E_RANGE:
        return "value out of range";
    case JOULES_E_SYSTEM:
        return "system error";
    default:
        return "unknown error";
    }
}

const char *joules_method_name(joules_method method)
{
    switch (method) {
    case JOULES_METHOD_COUNTER:
        return "counter";
    case JOULES_METHOD_INTEGRATED:
        return "integrated-power";
    case JOULES_METHOD_MODEL:
        return "model";
    case JOULES_METHOD_NONE:
    default:
        return "none";
    }
}

const char *joules_kind_name(joules_domain_kind kind)
{
    switch (kind) {
    case JOULES_KIND_GPU:
        return "gpu";
    case JOULES_KIND_CPU_PACKAGE:
        return "cpu-package";
    case JOULES_KIND_CPU_CORE:
        return "cpu-core";
    case JOULES_KIND_CPU_UNCORE:
        return "cpu-uncore";
    case JOULES_KIND_DRAM:
        return "dram";
    case JOULES_KIND_PSYS:
        return "psys";
    default:
        return "unknown";
    }
}

void joules__msg(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

int joules__fail(const joules_monitor *m, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tls_message, sizeof tls_message, fmt, ap);
    va_end(ap);
    tls_owner = m;
    return code;
}

const char *joules_last_error(const joules_monitor *m)
{
    if (tls_owner != m || !tls_message[0])
        return "no error recorded on this monitor in this thread";
    return tls_message;
}
