/* SPDX-License-Identifier: MIT */
/*
 * test_rapl_fake.h - fake powercap trees for the RAPL tests (test_rapl*.c): zones written in
 * a temporary directory that stands for /sys, counters moved in place, and the monitor opened
 * on them through the public API with only the CPU kinds.
 *
 * Counters are written fixed-width ("%020llu\n") and rewritten with pwrite at offset 0 without
 * truncating, so a reader never sees an empty or half-written file while a test moves the
 * counter from another thread (the library keeps energy_uj open and preads it).
 */
#ifndef JOULES_TEST_RAPL_FAKE_H
#define JOULES_TEST_RAPL_FAKE_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "joules.h"
#include "testlib.h"

#define FAKE_UNUSED __attribute__((unused))

/* snprintf for paths under a root of unknown length: the test fails if one does not fit. */
FAKE_UNUSED __attribute__((format(printf, 3, 4))) static void fake_path(char *buf, size_t len,
                                                                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    CHECKF(n >= 0 && (size_t)n < len, "path too long: %s", buf);
}

FAKE_UNUSED static void fake_file(const char *root, const char *rel, const char *text)
{
    char path[4096];
    fake_path(path, sizeof path, "%s/%s", root, rel);
    CHECKF(t_write_file(path, text) == 0, "writing %s", path);
}

/* Move a zone's counter to v (the zone must exist); 0 on success. No CHECK: threads use it. */
FAKE_UNUSED static int fake_set_quiet(const char *root, const char *entry, uint64_t v)
{
    char path[4096], text[32];
    int n = snprintf(path, sizeof path, "%s/class/powercap/%s/energy_uj", root, entry);
    if (n < 0 || (size_t)n >= sizeof path)
        return -1;
    n = snprintf(text, sizeof text, "%020llu\n", (unsigned long long)v);
    int fd = open(path, O_WRONLY);
    int ok = fd >= 0 && pwrite(fd, text, (size_t)n, 0) == n;
    if (fd >= 0)
        close(fd);
    return ok ? 0 : -1;
}

FAKE_UNUSED static void fake_set(const char *root, const char *entry, uint64_t v)
{
    CHECKF(fake_set_quiet(root, entry, v) == 0, "moving %s/%s", root, entry);
}

/* A zone directory class/powercap/<entry> with its name, range and counter. */
FAKE_UNUSED static void fake_zone(const char *root, const char *entry, const char *name,
                                  uint64_t max_uj, uint64_t energy_uj)
{
    char rel[512], text[64];
    fake_path(rel, sizeof rel, "class/powercap/%s/name", entry);
    fake_path(text, sizeof text, "%s\n", name);
    fake_file(root, rel, text);
    fake_path(rel, sizeof rel, "class/powercap/%s/max_energy_range_uj", entry);
    fake_path(text, sizeof text, "%llu\n", (unsigned long long)max_uj);
    fake_file(root, rel, text);
    fake_path(rel, sizeof rel, "class/powercap/%s/energy_uj", entry);
    fake_path(text, sizeof text, "%020llu\n", (unsigned long long)energy_uj);
    fake_file(root, rel, text);
}

/*
 * Make a zone's energy_uj unreadable, as on kernels patched for CVE-2020-8694 where it is
 * root-only (0400). Tests run as root in CI, and root reads a mode-000 file, so as root the
 * file becomes a directory: opening it succeeds and reading fails (EISDIR), the same path
 * through the library as a read refused by the kernel. As another user, mode 000 gives the
 * real EACCES.
 */
FAKE_UNUSED static void fake_deny(const char *root, const char *entry)
{
    char path[4096];
    fake_path(path, sizeof path, "%s/class/powercap/%s/energy_uj", root, entry);
    if (geteuid() != 0) {
        CHECK(chmod(path, 0) == 0);
    } else {
        CHECK(unlink(path) == 0);
        CHECK(mkdir(path, 0755) == 0);
    }
}

FAKE_UNUSED static joules_monitor *fake_open(const char *root, uint32_t kinds)
{
    joules_options o;
    joules_options_init(&o);
    o.sysfs_root = root;
    o.kinds = kinds ? kinds : JOULES_KINDS_CPU;
    joules_monitor *m = NULL;
    char err[256] = "";
    int rc = joules_open(&m, &o, err, sizeof err);
    CHECKF(rc == 0 && m, "joules_open: %d %s", rc, err);
    return m;
}

/* Index of the domain named name, -1 if none. */
FAKE_UNUSED static int fake_find(const joules_monitor *m, const char *name)
{
    joules_domain_info di;
    for (int i = 0; m && i < joules_domain_count(m); i++)
        if (joules_domain_info_get(m, i, &di) == 0 && strcmp(di.name, name) == 0)
            return i;
    return -1;
}

FAKE_UNUSED static int fake_status(const joules_monitor *m, char *msg, size_t len)
{
    int code = 12345;
    msg[0] = '\0';
    CHECK(joules_backend_status(m, JOULES_BACKEND_RAPL, &code, msg, len) == 0);
    return code;
}

#endif
