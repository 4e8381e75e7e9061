/* SPDX-License-Identifier: MIT */
/*
 * data_dir.c - where the shipped tables are (impact.h: impact_data_dir). The command line
 * and libjoules ask the same question and get the same answer: the tables travel with the
 * binary (share/joules beside bin/ and lib/, in the build tree as installed), so the place is
 * found from the file this code was loaded from, not from a path fixed at build time that a
 * build tree or a relocated install would not have.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "impact/impact.h"

/* The file holding this code: a shared object's own path, or the executable's. dladdr names
 * the main program by its argv[0], which may be relative or bare, so it is asked only for
 * shared objects. */
static int code_file(char *buf, size_t len)
{
    Dl_info info;
    if (dladdr((void *)impact_data_dir, &info) && info.dli_fname && info.dli_fname[0] == '/' &&
        strstr(strrchr(info.dli_fname, '/'), ".so")) {
        snprintf(buf, len, "%s", info.dli_fname);
        return 0;
    }
    if (len == 0)
        return -1;
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0 || (size_t)n >= len - 1)
        return -1;
    buf[n] = '\0';
    return 0;
}

void impact_data_dir(char *buf, size_t len)
{
    const char *env = getenv("JOULES_DATA_DIR");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return;
    }
    char file[PATH_MAX];
    if (code_file(file, sizeof file) == 0) {
        char *slash = strrchr(file, '/');
        if (slash)
            *slash = '\0';
        snprintf(buf, len, "%s/../share/joules", file);
    } else {
        snprintf(buf, len, "share/joules");
    }
#ifdef IMPACT_INSTALL_DATADIR
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/hardware.tsv", buf);
    if (access(probe, R_OK) != 0)
        snprintf(buf, len, "%s", IMPACT_INSTALL_DATADIR);
#endif
}
