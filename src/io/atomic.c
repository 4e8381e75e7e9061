/* SPDX-License-Identifier: MIT */
/* atomic.c - temporary file + rename, so readers never see half a report (see atomic.h). */
#define _GNU_SOURCE /* fopencookie(); realpath() */
#include "io/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * A device or pipe written in place goes through a stream whose first failed write is final:
 * later writes, and the flush at close, fail at once. A stop signal that interrupts a write
 * into a pipe nobody drains (EINTR) thus ends the output, where a plain stream would try its
 * next buffer and block again, with no signal left to wake it. Writes go out in pieces of at
 * most PIPE_BUF bytes, which a pipe takes whole or not at all: an interrupted one wrote
 * nothing, and no retry of a piece half written can block.
 */
struct in_place_sink {
    int fd;
    int err; /* errno of the first failure; 0: none */
    sig_atomic_t stops_at_open;
    int waits_only; /* standard output: only a signal taken while it waits for room ends it */
};

/*
 * A stop signal that arrives just before a write would not interrupt it, so each piece first
 * waits for room with the stop signals unblocked only inside ppoll: a signal taken there, or
 * one taken since the output was opened (the count moved), ends the output. The wait wakes
 * every 100 ms to read the count too, for a signal that another thread took. Standard output
 * carries the report of an interrupted measurement, so there only a signal taken during the
 * wait itself (the reader has stopped reading) ends it.
 */
static const volatile sig_atomic_t *stop_count;
static sigset_t stop_set;
static int stop_set_known;
static const struct timespec stop_poll = {0, 100000000L};

static void stop_signals(const int *signals, int n)
{
    if (n <= 0)
        return;
    sigemptyset(&stop_set);
    for (int i = 0; i < n; i++)
        sigaddset(&stop_set, signals[i]);
    stop_set_known = 1;
}

void io_atomic_stop_on(const volatile sig_atomic_t *count, const int *signals, int n)
{
    stop_signals(signals, n);
    stop_count = count;
}

/* A stop signal pending that the caller holds blocked (taken later with sigwait). */
static int stop_pending(const sigset_t *orig)
{
    sigset_t pending;
    if (sigpending(&pending) != 0)
        return 0;
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(&stop_set, sig) == 1 && sigismember(&pending, sig) == 1 &&
            sigismember(orig, sig) == 1)
            return 1;
    return 0;
}

/* 0 when s's descriptor has room for a piece; EINTR when a stop signal came first. Without a
 * handler that counts them, the stop signals stay as the caller has them: one held blocked
 * and pending ends the output, and stays pending for the caller to take. */
static int wait_room(const struct in_place_sink *s)
{
    if (!stop_set_known)
        return 0;
    sigset_t orig, during;
    pthread_sigmask(SIG_BLOCK, &stop_set, &orig);
    sig_atomic_t since = !stop_count ? 0 : s->waits_only ? *stop_count : s->stops_at_open;
    during = orig;
    if (stop_count)
        for (int sig = 1; sig < NSIG; sig++)
            if (sigismember(&stop_set, sig) == 1)
                sigdelset(&during, sig);
    int rc = 0;
    for (;;) {
        if (stop_count ? *stop_count != since : stop_pending(&orig)) {
            rc = EINTR;
            break;
        }
        struct pollfd p = {.fd = s->fd, .events = POLLOUT};
        int n = ppoll(&p, 1, &stop_poll, &during);
        if (n < 0 && errno != EINTR) {
            rc = 0; /* no way to wait (not pollable): the write itself decides */
            break;
        }
        if (n > 0)
            break;
    }
    pthread_sigmask(SIG_SETMASK, &orig, NULL);
    return rc;
}

static ssize_t sink_write(void *cookie, const char *buf, size_t size)
{
    struct in_place_sink *s = cookie;
    size_t done = 0;
    while (!s->err && done < size) {
        size_t piece = size - done < PIPE_BUF ? size - done : PIPE_BUF;
        int stopped = wait_room(s);
        if (stopped) {
            s->err = stopped;
            break;
        }
        ssize_t n = write(s->fd, buf + done, piece);
        if (n > 0)
            done += (size_t)n;
        else
            s->err = n < 0 ? errno : EIO;
    }
    if (s->err)
        errno = s->err;
    return (ssize_t)done; /* short: the stream marks the error */
}

static int sink_close(void *cookie)
{
    struct in_place_sink *s = cookie;
    int rc = close(s->fd);
    free(s);
    return rc;
}

/* A stream over s (line-buffered on a terminal, as stdio does); NULL with errno set. */
static FILE *sink_stream(struct in_place_sink *s, int fd, int waits_only,
                         cookie_close_function_t *close_fn)
{
    s->fd = fd;
    s->err = 0;
    s->stops_at_open = stop_count ? *stop_count : 0;
    s->waits_only = waits_only;
    cookie_io_functions_t io = {.write = sink_write, .close = close_fn};
    FILE *f = fopencookie(s, "w", io);
    if (f && isatty(fd))
        setvbuf(f, NULL, _IOLBF, 0);
    return f;
}

/* The stream of an in-place target; NULL with errno set, fd then still open. */
static FILE *sink_open(int fd)
{
    struct in_place_sink *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    FILE *f = sink_stream(s, fd, 0, sink_close);
    if (!f)
        free(s);
    return f;
}

/* Standard output lives as long as the process: its sink is static and closes nothing. */
static struct in_place_sink stdout_sink;

static int stdout_sink_close(void *cookie)
{
    (void)cookie;
    return 0;
}

int io_stdout_guard(const int *signals, int n)
{
    stop_signals(signals, n);
    struct stat st;
    if (fstat(STDOUT_FILENO, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
        return 0;
    fflush(stdout);
    FILE *f = sink_stream(&stdout_sink, STDOUT_FILENO, 1, stdout_sink_close);
    if (!f)
        return -1;
    stdout = f;
    return 1;
}

/*
 * An existing target that is not a regular file (a device, a pipe) is written where it is.
 * The check and the open are two steps, so the object opened is checked again: it is opened
 * without O_TRUNC or O_CREAT, without following a link unless the name given is itself a link
 * to such a file (/dev/stdout), and kept only if it is the non-regular file seen before.
 * 1: opened in place; 0: not such a target (write beside it); -1: error.
 */
static int open_in_place(io_atomic *a, const char *path, char *err, size_t len)
{
    struct stat lst, st;
    if (lstat(path, &lst) != 0)
        return 0;
    int is_link = S_ISLNK(lst.st_mode);
    if (is_link && stat(path, &st) != 0)
        return 0; /* a dangling link is replaced like a regular file */
    if (!is_link)
        st = lst;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
        return 0;
    int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | (is_link ? 0 : O_NOFOLLOW));
    if (fd < 0) {
        snprintf(err, len, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat fst;
    if (fstat(fd, &fst) != 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino ||
        S_ISREG(fst.st_mode) || S_ISDIR(fst.st_mode)) {
        close(fd);
        snprintf(err, len, "%s changed while it was being opened", path);
        return -1;
    }
    a->f = sink_open(fd);
    if (!a->f) {
        snprintf(err, len, "cannot open %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    snprintf(a->path, sizeof a->path, "%s", path);
    a->in_place = 1;
    return 1;
}

/*
 * A new file path.tmp.<6 letters>, created with mode 0666 so that the kernel applies the
 * umask (and a default ACL) as for any other output: mkstemp's 0600 would need the process's
 * umask, which can only be read by changing it, for every thread at once.
 */
static int create_tmp(char *tmp, size_t size, const char *path)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static atomic_ullong counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long x = ((unsigned long long)ts.tv_nsec << 20) ^ (unsigned long long)ts.tv_sec ^
                           ((unsigned long long)getpid() << 40);
    for (int attempt = 0; attempt < 100; attempt++) {
        /* Names differ between threads by the counter; O_EXCL turns any clash into a retry. */
        x = x * 6364136223846793005ull + 1442695040888963407ull + atomic_fetch_add(&counter, 1);
        char suffix[7];
        unsigned long long y = x >> 16;
        for (int i = 0; i < 6; i++, y /= 62)
            suffix[i] = letters[y % 62];
        suffix[6] = '\0';
        if ((size_t)snprintf(tmp, size, "%s.tmp.%s", path, suffix) >= size) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

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
    int in_place = open_in_place(a, path, err, len);
    if (in_place != 0)
        return in_place > 0 ? 0 : -1;
    if ((size_t)snprintf(a->path, sizeof a->path, "%s", path) >= sizeof a->path ||
        strlen(path) + sizeof ".tmp.XXXXXX" > sizeof a->tmp) {
        snprintf(err, len, "%s: file name too long", path);
        return -1;
    }
    int fd = create_tmp(a->tmp, sizeof a->tmp, path);
    if (fd < 0) {
        snprintf(err, len, "cannot create a file beside %s: %s", path, strerror(errno));
        a->tmp[0] = '\0';
        return -1;
    }
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

/* Where an output named path ends up: an existing file or link is known by its device and
 * inode (a link is replaced by the report, so the link itself is the output); a new file by
 * its directory, resolved, and its name. 0; 1 for a device or pipe (written in place, never
 * replaced: two outputs may share one, as they may share standard output). */
struct out_identity {
    int exists;
    dev_t dev;
    ino_t ino;
    char where[PATH_MAX + 256];
};

static int identify(const char *path, struct out_identity *id)
{
    struct stat st, target;
    memset(id, 0, sizeof *id);
    if (lstat(path, &st) == 0) {
        if (!S_ISLNK(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
            return 1;
        if (S_ISLNK(st.st_mode) && stat(path, &target) == 0 && !S_ISREG(target.st_mode) &&
            !S_ISDIR(target.st_mode))
            return 1;
        id->exists = 1;
        id->dev = st.st_dev;
        id->ino = st.st_ino;
        return 0;
    }
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    char dir[PATH_MAX], real[PATH_MAX];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    /* A directory that cannot be resolved fails when the output is opened; until then its
     * name as given stands for it. */
    snprintf(id->where, sizeof id->where, "%s/%s", realpath(dir, real) ? real : dir, name);
    return 0;
}

int io_outputs_distinct(char *err, size_t len, ...)
{
    enum { MAX_OUTPUTS = 16 };
    const char *opt[MAX_OUTPUTS], *path[MAX_OUTPUTS];
    int n = 0;
    va_list ap;
    va_start(ap, len);
    for (const char *o; n < MAX_OUTPUTS && (o = va_arg(ap, const char *)) != NULL;) {
        const char *p = va_arg(ap, const char *);
        if (!p || strcmp(p, "-") == 0)
            continue; /* not asked for, or standard output */
        opt[n] = o;
        path[n++] = p;
    }
    va_end(ap);
    /* Pairs are few (4 outputs at most today): each is identified again rather than kept. */
    struct out_identity a, b;
    for (int i = 0; i < n; i++) {
        if (identify(path[i], &a) != 0)
            continue;
        for (int k = 0; k < i; k++) {
            if (identify(path[k], &b) != 0 || a.exists != b.exists)
                continue;
            int same = a.exists ? a.dev == b.dev && a.ino == b.ino : strcmp(a.where, b.where) == 0;
            if (same) {
                snprintf(err, len, "%s '%s' and %s '%s' name the same file", opt[k], path[k],
                         opt[i], path[i]);
                return -1;
            }
        }
    }
    return 0;
}
