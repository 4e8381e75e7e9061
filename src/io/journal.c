/* SPDX-License-Identifier: MIT */
/* journal.c - the restore journal (see journal.h). */
#include "io/journal.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic.h"

int io_journal_dir(char *buf, size_t len, int create, char *err, size_t elen)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, len, "%s/joules", xdg);
    else if (geteuid() == 0)
        n = snprintf(buf, len, "/run/joules");
    else
        n = snprintf(buf, len, "/tmp/joules-%ld", (long)geteuid());
    if (n < 0 || (size_t)n >= len) {
        snprintf(err, elen, "runtime directory name too long");
        return -1;
    }
    if (!create)
        return 0;
    struct stat st;
    if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
        snprintf(err, elen, "cannot create %s: %s", buf, strerror(errno));
        return -1;
    }
    /* In /tmp anyone may have made it first: only a directory of ours is trusted. */
    if (lstat(buf, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
        snprintf(err, elen, "%s is not a directory of this user", buf);
        return -1;
    }
    return 0;
}

int io_journal_path(const char *dir, io_journal_entry *e)
{
    char key[96];
    snprintf(key, sizeof key, "%s", e->uuid);
    /* The key becomes part of a file name: a portable alphabet only. */
    for (char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            *p = '_';
    int n = snprintf(e->path, sizeof e->path, "%s/restore-%ld-%s-%s.journal", dir, e->pid, key,
                     e->what == IO_JOURNAL_CLOCKS ? "clocks" : "power-limit");
    return n < 0 || (size_t)n >= sizeof e->path ? -1 : 0;
}

int io_journal_write(const char *dir, io_journal_entry *e, char *err, size_t len)
{
    if (io_journal_path(dir, e) != 0) {
        snprintf(err, len, "journal file name too long");
        return -1;
    }
    io_atomic a;
    if (io_atomic_open(&a, e->path, err, len) != 0)
        return -1;
    fprintf(a.f, "%s\npid %ld\nwhat %s\nuuid %s\ndevice %s\nsimulated %d\n", IO_JOURNAL_FORMAT,
            e->pid, e->what == IO_JOURNAL_CLOCKS ? "clocks" : "power-limit", e->uuid, e->device,
            e->simulated);
    if (e->what == IO_JOURNAL_POWER_LIMIT)
        fprintf(a.f, "power_limit_w %.3f\n", e->power_limit_w);
    return io_atomic_commit(&a, err, len);
}

/* The value of "key value" at the start of a line of text, into out (bounded); 0 or -1. */
static int field(const char *text, const char *key, char *out, size_t len)
{
    size_t k = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, k) != 0 || p[k] != ' ')
            continue;
        const char *v = p + k + 1;
        size_t n = strcspn(v, "\n");
        if (n >= len)
            n = len - 1;
        memcpy(out, v, n);
        out[n] = '\0';
        return 0;
    }
    return -1;
}

int io_journal_parse(const char *text, const char *path, io_journal_entry *e, char *err, size_t len)
{
    memset(e, 0, sizeof *e);
    char what[32], num[64];
    size_t head = strlen(IO_JOURNAL_FORMAT);
    if (strncmp(text, IO_JOURNAL_FORMAT, head) != 0 || text[head] != '\n') {
        snprintf(err, len, "%s: not a %s file", path, IO_JOURNAL_FORMAT);
        return -1;
    }
    char *end;
    if (field(text, "pid", num, sizeof num) != 0 || (e->pid = strtol(num, &end, 10)) <= 0 ||
        *end != '\0') {
        snprintf(err, len, "%s: no valid pid", path);
        return -1;
    }
    if (field(text, "what", what, sizeof what) != 0 ||
        (strcmp(what, "clocks") != 0 && strcmp(what, "power-limit") != 0)) {
        snprintf(err, len, "%s: no valid 'what' (clocks or power-limit)", path);
        return -1;
    }
    e->what = strcmp(what, "clocks") == 0 ? IO_JOURNAL_CLOCKS : IO_JOURNAL_POWER_LIMIT;
    if (field(text, "uuid", e->uuid, sizeof e->uuid) != 0 || !e->uuid[0]) {
        snprintf(err, len, "%s: no GPU uuid", path);
        return -1;
    }
    (void)field(text, "device", e->device, sizeof e->device);
    if (field(text, "simulated", num, sizeof num) == 0)
        e->simulated = strcmp(num, "1") == 0;
    if (e->what == IO_JOURNAL_POWER_LIMIT) {
        /* The limit goes to a setter in mW: finite, positive and far below its range. */
        if (field(text, "power_limit_w", num, sizeof num) != 0 ||
            !((e->power_limit_w = strtod(num, &end)) > 0) || *end != '\0' ||
            !isfinite(e->power_limit_w) || e->power_limit_w > 100000) {
            snprintf(err, len, "%s: no valid power_limit_w", path);
            return -1;
        }
    }
    snprintf(e->path, sizeof e->path, "%s", path);
    return 0;
}

int io_journal_list(const char *dir, io_journal_entry *out, int max)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while (n < max && (de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (strncmp(de->d_name, "restore-", 8) != 0 || len < 8 ||
            strcmp(de->d_name + len - 8, ".journal") != 0)
            continue;
        char path[4352], text[2048], err[256];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t got = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[got] = '\0';
        if (io_journal_parse(text, path, &out[n], err, sizeof err) == 0)
            n++;
    }
    closedir(d);
    return n;
}

int io_journal_pid_alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH);
}
