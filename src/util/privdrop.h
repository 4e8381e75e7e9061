/* SPDX-License-Identifier: MIT */
/*
 * privdrop.h - running a user's command as the user who invoked sudo (privdrop.c). Under
 * sudo, joules needs root for the NVML setters alone; the command it measures must not
 * inherit that. The plan is made in the parent (it reads the environment and the group
 * database, which a forked child of a threaded process may not); the child applies it with
 * async-signal-safe calls only, between fork and exec.
 */
#ifndef JOULES_PRIVDROP_H
#define JOULES_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

#define UTIL_DROP_GROUPS_MAX 256

struct util_drop {
    int active; /* 1: the child must become uid/gid before exec */
    uid_t uid;
    gid_t gid;
    int n_groups;
    gid_t groups[UTIL_DROP_GROUPS_MAX];
};

/*
 * The plan for the commands joules starts. Active when joules runs as root (effective uid 0),
 * SUDO_UID names another user and as_root is 0. SUDO_GID gives the primary group (the user's
 * own from the password database when absent); the supplementary groups are the user's.
 * 0, or -1 with the reason in err when the variables are malformed: joules then refuses to
 * start the command rather than run it as root.
 */
int util_drop_plan(struct util_drop *d, int as_root, char *err, size_t len);

/* In the child: setgroups, setgid, setuid, then a check that root cannot be regained.
 * 0, or the errno of the step that failed. Async-signal-safe; does nothing when inactive. */
int util_drop_apply(const struct util_drop *d);

/* In the child after util_drop_apply failed: "joules NAME: cannot drop root ...: REASON"
 * on standard error, with write(2) alone. */
void util_drop_report(const char *name, int err_no);

#endif
