/* SPDX-License-Identifier: MIT */
/*
 * last_error.c - the simulator's last error, the process's own: set where a call fails,
 * read back by jsimLastError, shortened to the caller's buffer (a file's path first, then
 * the end of the message) so that `file:line: message` reaches the user whatever the path.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim/sim.h"

/* The last error is the process's own, written and read under a lock of its own (an init
 * may fail before any machine is attached). */
static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;

void sim_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&error_lock);
    vsnprintf(sim_l.last_error, sizeof sim_l.last_error, fmt, ap);
    sim_l.last_error_name_len = 0;
    pthread_mutex_unlock(&error_lock);
    va_end(ap);
}

/* The start of a UTF-8 character at or after s[i] (never past n): a cut there splits none. */
static size_t char_start(const char *s, size_t i, size_t n)
{
    while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
        i++;
    return i;
}

/* The start of a UTF-8 character at or before s[i]. */
static size_t char_start_back(const char *s, size_t i)
{
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return i;
}

size_t sim_join_elided(char *dst, size_t len, const char *head, size_t head_n, const char *tail)
{
    static const char ell[] = "...";
    const size_t ell_n = sizeof ell - 1;
    size_t tail_n = strlen(tail);
    if (!dst || len == 0)
        return 0;
    if (head_n + tail_n < len) {
        memcpy(dst, head, head_n);
        memcpy(dst + head_n, tail, tail_n + 1);
        return head_n;
    }
    /* The end of a path names the file and the tail says what is wrong with it: the start of
     * the head goes first. */
    if (tail_n + ell_n + 1 < len) {
        size_t from = char_start(head, head_n - (len - 1 - tail_n - ell_n), head_n);
        size_t kept = head_n - from;
        memcpy(dst, ell, ell_n);
        memcpy(dst + ell_n, head + from, kept);
        memcpy(dst + ell_n + kept, tail, tail_n + 1);
        return ell_n + kept;
    }
    /* The tail alone does not fit: its end goes too, marked the same way, and of the head
     * only the file's own name stays, where it leaves a few words of the tail. */
    size_t slash = head_n;
    while (slash > 0 && head[slash - 1] != '/')
        slash--;
    size_t base_n = slash ? head_n - (slash - 1) : 0;
    if (base_n && 3 * ell_n + base_n + 16 < len) {
        size_t cut = char_start_back(tail, len - 1 - 2 * ell_n - base_n);
        memcpy(dst, ell, ell_n);
        memcpy(dst + ell_n, head + slash - 1, base_n);
        memcpy(dst + ell_n + base_n, tail, cut);
        memcpy(dst + ell_n + base_n + cut, ell, ell_n + 1);
        return ell_n + base_n;
    }
    if (len < 2 * ell_n + 2) {
        size_t cut = char_start_back(tail, len - 1 < tail_n ? len - 1 : tail_n);
        memcpy(dst, tail, cut);
        dst[cut] = '\0';
        return 0;
    }
    size_t cut = char_start_back(tail, len - 1 - 2 * ell_n);
    memcpy(dst, ell, ell_n);
    memcpy(dst + ell_n, tail, cut);
    memcpy(dst + ell_n + cut, ell, ell_n + 1);
    return ell_n;
}

nvmlReturn_t sim_last_error(char *buf, unsigned int len)
{
    if (!buf)
        return NVML_ERROR_INVALID_ARGUMENT;
    nvmlReturn_t rc = NVML_SUCCESS;
    pthread_mutex_lock(&error_lock);
    size_t name_n = sim_l.last_error_name_len;
    /* A message that does not fit is shortened (the file's path first), unless the buffer is
     * too small to hold a useful part of it. */
    if (len <= strlen(sim_l.last_error) && len < JSIM_LAST_ERROR_MIN)
        rc = NVML_ERROR_INSUFFICIENT_SIZE;
    else
        sim_join_elided(buf, len, sim_l.last_error, name_n, sim_l.last_error + name_n);
    pthread_mutex_unlock(&error_lock);
    return rc;
}
