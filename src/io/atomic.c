/* SPDX-License-Identifier: MIT */
/* atomic.c - temporary file + rename, so readers never see half a report (see atomic.h). */
#include "io/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int io_atomic_open(io_atomic *a, const char *path, char *err, size_t len)
{
    memset(a, 0, sizeof *a);
    if (!path || !*path) {
        snprintf(err, len, "empty output file name");
        return -1;
    }
    if (strcmp(path, "-") == 0) {
        a->f = stdout;
        return 0;
    }
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        snprintf(a->path, sizeof a->path, "%s", path);
        a->f = fopen(path, "w");
        if (!a->f) {
            snprintf(err, len, "cannot open %s: %s", path, strerror(errno));
            return -1;
        }
        a->in_place = 1;
        return 0;
    }
    if ((size_t)snprintf(a->path, sizeof a->path, "%s", path) >= sizeof a->path ||
        (size_t)snprintf(a->tmp, sizeof a->tmp, "%s.tmp.XXXXXX", path) >= sizeof a->tmp) {
        snprintf(err, len, "%s: file name too long", path);
        return -1;
    }
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        snprintf(err, len, "cannot create a file beside %s: %s", path, strerror(errno));
        a->tmp[0] = '\0';
        return -1;
    }
    /* mkstemp creates 0600; reports are ordinary files, readable like any other output. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    a->f = fdopen(fd, "w");
    if (!a->f) {
        snprintf(err, len, "cannot open %s: %s", a->tmp, strerror(errno));
        close(fd);
        unlink(a->tmp);
        a->tmp[0] = '\0';
        return -1;
    }
    return 0;
}

int io_atomic_commit(io_atomic *a, char *err, size_t len)
{
    if (!a->f)
        return -1;
    if (a->f == stdout) {
        a->f = NULL;
        if (fflush(stdout) != 0) {
            snprintf(err, len, "writing to standard output: %s", strerror(errno));
            return -1;
        }
        return 0;
    }
    if (a->in_place) {
        int failed = ferror(a->f) || fflush(a->f) != 0;
        int saved = errno;
        failed |= fclose(a->f) != 0;
        a->f = NULL;
        if (failed) {
            snprintf(err, len, "writing %s: %s", a->path, strerror(saved ? saved : EIO));
            return -1;
        }
        return 0;
    }
    int failed = ferror(a->f) || fflush(a->f) != 0 || fsync(fileno(a->f)) != 0;
    int saved = errno;
    if (fclose(a->f) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    a->f = NULL;
    if (failed) {
        snprintf(err, len, "writing %s: %s", a->path, strerror(saved ? saved : EIO));
        io_atomic_abort(a);
        return -1;
    }
    if (rename(a->tmp, a->path) != 0) {
        snprintf(err, len, "cannot move the report into %s: %s", a->path, strerror(errno));
        io_atomic_abort(a);
        return -1;
    }
    a->tmp[0] = '\0';
    return 0;
}

void io_atomic_abort(io_atomic *a)
{
    if (a->f && a->f != stdout)
        fclose(a->f);
    a->f = NULL;
    if (a->tmp[0]) {
        unlink(a->tmp);
        a->tmp[0] = '\0';
    }
}
