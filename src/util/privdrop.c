/* SPDX-License-Identifier: MIT */
/*
 * privdrop.c - the sudo user's identity for the commands joules starts (privdrop.h).
 */
#define _GNU_SOURCE
#include "util/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A decimal id, nothing else: 0 or -1. */
static int parse_id(const char *text, unsigned long *out)
{
    if (!text || *text < '0' || *text > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || *end || v >= (unsigned long)UINT_MAX)
        return -1;
    *out = v;
    return 0;
}

int util_drop_plan(struct util_drop *d, int as_root, char *err, size_t len)
{
    memset(d, 0, sizeof *d);
    const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
    if (as_root || geteuid() != 0 || !su)
        return 0;
    unsigned long uid, gid;
    if (parse_id(su, &uid) != 0) {
        snprintf(err, len, "SUDO_UID is not a user id: '%s'", su);
        return -1;
    }
    if (uid == 0)
        return 0;
    struct passwd *pw = getpwuid((uid_t)uid);
    if (sg) {
        if (parse_id(sg, &gid) != 0) {
            snprintf(err, len, "SUDO_GID is not a group id: '%s'", sg);
            return -1;
        }
    } else if (pw) {
        gid = pw->pw_gid;
    } else {
        snprintf(err, len, "SUDO_UID %lu has no password entry and SUDO_GID is not set", uid);
        return -1;
    }
    d->uid = (uid_t)uid;
    d->gid = (gid_t)gid;
    d->groups[0] = d->gid;
    d->n_groups = 1;
    if (pw) { /* the user's supplementary groups; a user the database lacks keeps its gid alone */
        int n = UTIL_DROP_GROUPS_MAX;
        if (getgrouplist(pw->pw_name, d->gid, d->groups, &n) < 0) {
            snprintf(err, len, "user %s is in more than %d groups", pw->pw_name,
                     UTIL_DROP_GROUPS_MAX);
            return -1;
        }
        d->n_groups = n;
    }
    d->active = 1;
    return 0;
}

int util_drop_apply(const struct util_drop *d)
{
    if (!d || !d->active)
        return 0;
    /* Groups first and the uid last: once the uid is dropped, the rest is no longer allowed. */
    if (setgroups((size_t)d->n_groups, d->groups) != 0)
        return errno;
    if (setresgid(d->gid, d->gid, d->gid) != 0)
        return errno;
    if (setresuid(d->uid, d->uid, d->uid) != 0)
        return errno;
    /* A drop that half worked must not pass: root is gone only if it cannot come back. */
    if (setuid(0) == 0 || geteuid() != d->uid || getegid() != d->gid)
        return EPERM;
    return 0;
}

static void put(const char *s)
{
    ssize_t w = write(2, s, strlen(s));
    (void)w;
}

void util_drop_report(const char *name, int err_no)
{
    put("joules ");
    put(name);
    put(": cannot run the command as the invoking user (SUDO_UID): ");
    put(strerror(err_no)); /* glibc's table, no allocation */
    put("; --as-root runs it as root\n");
}
