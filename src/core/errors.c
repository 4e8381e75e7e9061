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

/* Both expand JOULES_ERROR_TABLE (joules.h), the one list of codes, names and texts. */
const char *joules_strerror(int err)
{
    switch (err) {
#define ERR_TEXT_CASE(name, value, text)                                                           \
    case name:                                                                                     \
        return text;
        JOULES_ERROR_TABLE(ERR_TEXT_CASE)
#undef ERR_TEXT_CASE
    default:
        return "unknown error";
    }
}

const char *joules_err_name(int err)
{
    switch (err) {
#define ERR_NAME_CASE(name, value, text)                                                           \
    case name:                                                                                     \
        return #name;
        JOULES_ERROR_TABLE(ERR_NAME_CASE)
#undef ERR_NAME_CASE
    default:
        return NULL;
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
