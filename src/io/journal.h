/* SPDX-License-Identifier: MIT */
/*
 * journal.h - the restore journal: before joules changes a GPU's clocks or power limit it
 * writes what it is about to change, and the setting to go back to, in a small file of the
 * runtime directory ($XDG_RUNTIME_DIR/joules, else /run/joules for root, else
 * /tmp/joules-UID); the file is removed once the setting is restored. A process killed in
 * between (SIGKILL, a crash, power) leaves it behind: `joules restore` reads it and puts the
 * setting back, and every joules start that finds one of a process that is gone says so.
 *
 * One file a change, restore-PID-KEY-WHAT.journal, of "key value" lines after a first line
 * naming the format (IO_JOURNAL_FORMAT).
 */
#ifndef JOULES_IO_JOURNAL_H
#define JOULES_IO_JOURNAL_H

#include <stddef.h>

#define IO_JOURNAL_FORMAT "joules.restore/1"
#define IO_JOURNAL_MAX    64 /* journals read at most from the directory */

enum io_journal_what { IO_JOURNAL_CLOCKS = 1, IO_JOURNAL_POWER_LIMIT };

typedef struct io_journal_entry {
    long pid;             /* the joules process that made the change */
    int what;             /* enum io_journal_what */
    int simulated;        /* a simulated GPU: its state lives on in the shared machine */
    double power_limit_w; /* POWER_LIMIT: the limit to set back */
    char uuid[96];        /* the GPU (its UUID; its bus id where it has none) */
    char device[128];     /* its name, for messages */
    char path[4352];      /* the journal's file (set by io_journal_write and io_journal_list) */
} io_journal_entry;

/* The runtime directory, created (0700) when create is 1. 0, or -1 with a message. */
int io_journal_dir(char *buf, size_t len, int create, char *err, size_t elen);
/* Write e's journal in dir (e->path set); 0, or -1 with a message. */
int io_journal_write(const char *dir, io_journal_entry *e, char *err, size_t len);
/* The journal e would have in dir (e->path set): for removal by the process that wrote it. */
int io_journal_path(const char *dir, io_journal_entry *e);
/* Parse a journal's text (NUL-terminated). 0, or -1 with a message naming path. */
int io_journal_parse(const char *text, const char *path, io_journal_entry *e, char *err,
                     size_t len);
/* The journals of dir, at most max of them (unreadable or foreign files skipped). */
int io_journal_list(const char *dir, io_journal_entry *out, int max);
/* 1 when pid names a process that still exists, 0 when none does. */
int io_journal_pid_alive(long pid);

#endif
