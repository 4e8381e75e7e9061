/* SPDX-License-Identifier: MIT */
/*
 * atomic.h - output files that appear whole or not at all: write to a temporary file beside
 * the target, then fsync and rename over it. An error or an abort leaves the target as it
 * was (absent or the previous version) and removes the temporary file.
 */
#ifndef JOULES_IO_ATOMIC_H
#define JOULES_IO_ATOMIC_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

typedef struct io_atomic {
    FILE *f;
    char path[4096];
    char tmp[4096];
    int in_place; /* the target is a device or pipe (/dev/null, /dev/stdout): written as is */
} io_atomic;

/* Open a temporary file for path ("-" means stdout, written directly; so is a target that
 * exists and is not a regular file: renaming over /dev/null would replace the device).
 * 0 or -1 + message. */
int io_atomic_open(io_atomic *a, const char *path, char *err, size_t len);
/* Flush, fsync and rename into place. 0 or -1 + message (then the target is untouched). */
int io_atomic_commit(io_atomic *a, char *err, size_t len);
/* Drop the temporary file. Safe to call after a failed commit or twice. */
void io_atomic_abort(io_atomic *a);
/* Make writes into a device or pipe end (EINTR) once *count has moved since the output was
 * opened, or one of signals arrives (their handler must move *count), even while nobody reads
 * the pipe. A NULL count (the handler removed): one of signals held blocked and pending ends
 * them instead (left pending for the caller's sigwait). */
void io_atomic_stop_on(const volatile sig_atomic_t *count, const int *signals, int n);
/* Where standard output is a pipe or socket, make stdout a stream like an in-place output's,
 * except that only a stop signal (one of signals) taken while it waits for room (its reader
 * stopped reading) ends it: joules then finishes instead of blocking in its next write. Call
 * once, before any thread starts. 1: done; 0: not a pipe or socket (stdout as it was); -1: no
 * memory. */
int io_stdout_guard(const int *signals, int n);

/* The outputs of one command, as (option, path) pairs ended by a NULL option; a NULL path is
 * an output not asked for, "-" standard output. 0 when no two of them are the same file (the
 * same name, a hard link, a name through another directory or link); -1 with a message naming
 * both options where two are: one would silently replace the other. */
#define IO_OUTPUTS_MSG_MAX 8400 /* two options and two path names */
int io_outputs_distinct(char *err, size_t len, ...);

#endif
