/* SPDX-License-Identifier: MIT */
/*
 * test_atomic.c - output files (src/io/atomic.c): a new report gets the mode the umask gives
 * any file (the umask itself is never changed); an existing pipe is written in place, and a
 * signal that interrupts a write into it ends that output at once; a link is never followed
 * into a regular file, whose contents stay as they were; no temporary file is left behind.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "io/atomic.h"
#include "support.h"
#include "testlib.h"

static char dir[4096];

static int write_report(const char *path, const char *text)
{
    io_atomic a;
    char err[256] = "";
    if (io_atomic_open(&a, path, err, sizeof err) != 0) {
        fprintf(stderr, "open %s: %s\n", path, err);
        return -1;
    }
    fputs(text, a.f);
    int rc = io_atomic_commit(&a, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "commit %s: %s\n", path, err);
    return rc;
}

static void read_file(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static int stray_files(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".tmp.") != NULL;
    if (d)
        closedir(d);
    return n;
}

static void test_mode_follows_umask(void)
{
    static const mode_t masks[] = {022, 077, 027, 0};
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/mode%zu.json", dir, i);
        mode_t old = umask(masks[i]);
        CHECK_EQ_INT(write_report(path, "{}\n"), 0);
        mode_t after = umask(old);
        CHECK_EQ_INT((int)after, (int)masks[i]);
        struct stat st;
        CHECK_EQ_INT(stat(path, &st), 0);
        CHECKF((st.st_mode & 0777) == (0666 & ~masks[i]), "umask %03o: mode %03o",
               (unsigned)masks[i], (unsigned)(st.st_mode & 0777));
    }
    CHECK_EQ_INT(stray_files(), 0);
}

static void test_pipe_is_written_in_place(void)
{
    char fifo[4200], link[4200], buf[64];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    snprintf(link, sizeof link, "%s/fifo-link", dir);
    CHECK_EQ_INT(mkfifo(fifo, 0600), 0);
    CHECK_EQ_INT(symlink(fifo, link), 0);
    const char *names[] = {fifo, link};
    for (int i = 0; i < 2; i++) {
        int rd = open(fifo, O_RDONLY | O_NONBLOCK);
        CHECK(rd >= 0);
        CHECK_EQ_INT(write_report(names[i], "through the pipe\n"), 0);
        ssize_t n = read(rd, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = '\0';
        CHECKF(strcmp(buf, "through the pipe\n") == 0, "%s: read '%s'", names[i], buf);
        close(rd);
        struct stat st;
        CHECK(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
        CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    }
    CHECK_EQ_INT(stray_files(), 0);
}

static void on_alarm(int sig)
{
    (void)sig;
}

static void nap_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

struct drain {
    int fd;
    volatile int done;
};

/* A watchdog: after 3 s, drain the pipe, so that a writer blocked for good wakes up and the
 * check below fails on its time instead of hanging the test. */
static void *drain_later(void *arg)
{
    struct drain *d = arg;
    char buf[4096];
    for (int i = 0; i < 30 && !d->done; i++)
        nap_ms(100);
    while (!d->done)
        if (read(d->fd, buf, sizeof buf) <= 0)
            nap_ms(10);
    return NULL;
}

/* A FIFO named name in dir, opened both ways without blocking; 0 or -1. */
static int fifo_open(const char *name, char *fifo, size_t size, int *rd, int *wr)
{
    snprintf(fifo, size, "%s/%s", dir, name);
    if (mkfifo(fifo, 0600) != 0)
        return -1;
    *rd = open(fifo, O_RDONLY | O_NONBLOCK);
    *wr = open(fifo, O_WRONLY | O_NONBLOCK);
    return *rd >= 0 && *wr >= 0 ? 0 : -1;
}

/* Fill the pipe behind wr: the next write into it blocks. */
static void fifo_fill(int wr)
{
    static const char page[4096];
    while (write(wr, page, sizeof page) > 0)
        ;
}

/* a's commit fails at once (under 2 s after t0) for the stop signal, and is aborted. */
static void check_ended_by_signal(io_atomic *a, const struct timespec *t0, const char *when)
{
    char err[512] = "";
    struct timespec t1;
    CHECK_EQ_INT(io_atomic_commit(a, err, sizeof err), -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) * 1e-9;
    CHECKF(s < 2.0, "the output ended %.1f s after the signal %s", s, when);
    CHECKF(strstr(err, "Interrupted") != NULL, "err: %s", err);
    io_atomic_abort(a);
}

/* A signal that interrupts a write into a full pipe ends the output: later writes and the
 * commit fail at once, none blocks again. */
static void test_interrupted_pipe_write_is_final(void)
{
    char fifo[4200], err[512] = "", text[20000];
    int rd, wr;
    CHECK_EQ_INT(fifo_open("full-fifo", fifo, sizeof fifo, &rd, &wr), 0);
    fifo_fill(wr); /* the report's first write blocks */
    io_atomic a;
    CHECK_EQ_INT(io_atomic_open(&a, fifo, err, sizeof err), 0);

    sigset_t alrm, orig;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, &orig); /* the watchdog never takes the alarm */
    struct drain d = {rd, 0};
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, drain_later, &d), 0);
    pthread_sigmask(SIG_SETMASK, &orig, NULL);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: the blocked write returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, &old);
    struct itimerval it = {{0, 0}, {0, 200000}};
    setitimer(ITIMER_REAL, &it, NULL);

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    for (int i = 0; i < 3; i++) /* more than a buffer each time */
        fputs(text, a.f);
    check_ended_by_signal(&a, &t0, "came at 0.2 s");

    d.done = 1;
    pthread_join(th, NULL);
    sigaction(SIGALRM, &old, NULL);
    close(wr);
    close(rd);
    CHECK_EQ_INT(stray_files(), 0);
}

static volatile sig_atomic_t stops;

static void on_stop(int sig)
{
    (void)sig;
    stops = stops + 1;
}

/* A stop signal taken just before a write into a full pipe (no write to interrupt yet) ends
 * the output too; one taken before the output was opened does not. */
static void test_signal_before_write_ends_output(void)
{
    char fifo[4200], err[512] = "", text[8192];
    int rd, wr;
    CHECK_EQ_INT(fifo_open("stopped-fifo", fifo, sizeof fifo, &rd, &wr), 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, &old);
    static const int sigs[] = {SIGUSR1};
    io_atomic_stop_on(&stops, sigs, 1);
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';

    raise(SIGUSR1); /* before the open: this output is still written */
    io_atomic a;
    CHECK_EQ_INT(io_atomic_open(&a, fifo, err, sizeof err), 0);
    fputs("ok\n", a.f);
    CHECK_EQ_INT(io_atomic_commit(&a, err, sizeof err), 0);
    char got[8] = "";
    CHECK_EQ_INT((int)read(rd, got, sizeof got), 3);

    fifo_fill(wr); /* the next write would block */
    CHECK_EQ_INT(io_atomic_open(&a, fifo, err, sizeof err), 0);
    struct drain d = {rd, 0};
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, drain_later, &d), 0);
    raise(SIGUSR1); /* taken now, before any write of this output */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fputs(text, a.f);
    check_ended_by_signal(&a, &t0, "taken before the write");

    d.done = 1;
    pthread_join(th, NULL);
    io_atomic_stop_on(NULL, NULL, 0);
    sigaction(SIGUSR1, &old, NULL);
    close(wr);
    close(rd);
    CHECK_EQ_INT(stray_files(), 0);
}

/* A link to a regular file is replaced by the report; the file it pointed to is untouched. */
static void test_link_to_a_file_is_not_followed(void)
{
    char victim[4200], link[4200], dangling[4200], buf[64];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(link, sizeof link, "%s/out.json", dir);
    snprintf(dangling, sizeof dangling, "%s/dangling.json", dir);
    CHECK_EQ_INT(t_write_file(victim, "precious\n"), 0);
    CHECK_EQ_INT(symlink(victim, link), 0);
    CHECK_EQ_INT(write_report(link, "report\n"), 0);
    read_file(victim, buf, sizeof buf);
    CHECK(strcmp(buf, "precious\n") == 0);
    struct stat st;
    CHECK(lstat(link, &st) == 0 && S_ISREG(st.st_mode));
    read_file(link, buf, sizeof buf);
    CHECK(strcmp(buf, "report\n") == 0);
    CHECK_EQ_INT(symlink("nowhere/at/all", dangling), 0);
    CHECK_EQ_INT(write_report(dangling, "report\n"), 0);
    CHECK(lstat(dangling, &st) == 0 && S_ISREG(st.st_mode));
    CHECK_EQ_INT(stray_files(), 0);
}

static int distinct(const char *a, const char *b, char *err, size_t len)
{
    return io_outputs_distinct(err, len, "--json", a, "--csv", b, "--svg", (char *)NULL,
                               (char *)NULL);
}

/* Two names of one file are refused, with both options named; distinct files are not. */
static void test_same_file_under_two_names(void)
{
    char a[4200], a_dot[4200], a_sub[4200], hard[4200], sub[4200], sublink[4200], in_sub[4200],
        via_link[4200], file_link[4200], other[4200], err[IO_OUTPUTS_MSG_MAX];
    snprintf(a, sizeof a, "%s/a.json", dir);
    snprintf(a_dot, sizeof a_dot, "%s/./a.json", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    snprintf(a_sub, sizeof a_sub, "%s/sub/../a.json", dir);
    snprintf(hard, sizeof hard, "%s/hard.json", dir);
    snprintf(sublink, sizeof sublink, "%s/sublink", dir);
    snprintf(in_sub, sizeof in_sub, "%s/sub/new.json", dir);
    snprintf(via_link, sizeof via_link, "%s/sublink/new.json", dir);
    snprintf(file_link, sizeof file_link, "%s/file-link.json", dir);
    snprintf(other, sizeof other, "%s/other.json", dir);
    CHECK_EQ_INT(mkdir(sub, 0700), 0);
    CHECK_EQ_INT(symlink(sub, sublink), 0);
    /* Not created yet: the same by directory and name. */
    err[0] = '\0';
    CHECK_EQ_INT(distinct(a, a_dot, err, sizeof err), -1);
    CHECKF(strstr(err, "--json '") && strstr(err, "and --csv '") && strstr(err, "same file"),
           "message '%s'", err);
    CHECK_EQ_INT(distinct(a, a_sub, err, sizeof err), -1);
    CHECK_EQ_INT(distinct(in_sub, via_link, err, sizeof err), -1);
    CHECK_EQ_INT(distinct(a, other, err, sizeof err), 0);
    /* Existing: the same by device and inode, hard links included. */
    CHECK_EQ_INT(t_write_file(a, "old\n"), 0);
    CHECK_EQ_INT(link(a, hard), 0);
    CHECK_EQ_INT(distinct(a, a_dot, err, sizeof err), -1);
    CHECK_EQ_INT(distinct(a, hard, err, sizeof err), -1);
    CHECK_EQ_INT(distinct(hard, a_sub, err, sizeof err), -1);
    CHECK_EQ_INT(distinct(a, other, err, sizeof err), 0);
    /* A link is replaced by its report, not written through: it is an output of its own. */
    CHECK_EQ_INT(symlink(a, file_link), 0);
    CHECK_EQ_INT(distinct(a, file_link, err, sizeof err), 0);
    /* Standard output, a device, unasked outputs: shared, nothing replaced. */
    CHECK_EQ_INT(distinct("-", "-", err, sizeof err), 0);
    CHECK_EQ_INT(distinct("/dev/null", "/dev/null", err, sizeof err), 0);
    CHECK_EQ_INT(distinct(NULL, NULL, err, sizeof err), 0);
    CHECK_EQ_INT(io_outputs_distinct(err, sizeof err, "--json", (char *)NULL, "--csv", a, "--svg",
                                     hard, (char *)NULL),
                 -1);
    CHECK(strstr(err, "--csv '") && strstr(err, "and --svg '"));
}

int main(void)
{
    if (t_mkdtemp(dir, sizeof dir) != 0) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_mode_follows_umask);
    RUN(test_pipe_is_written_in_place);
    RUN(test_interrupted_pipe_write_is_final);
    RUN(test_signal_before_write_ends_output);
    RUN(test_link_to_a_file_is_not_followed);
    RUN(test_same_file_under_two_names);
    t_rmtree(dir);
    return t_end();
}
