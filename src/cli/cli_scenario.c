/* SPDX-License-Identifier: MIT */
/*
 * cli_scenario.c - where a --scenario file is found. A path that exists is taken as given;
 * otherwise the scenarios installed with joules (<dir of joules>/../share/joules/scenarios,
 * in the build tree and the installed tree alike) are tried, so that `--scenario demo`,
 * `--scenario demo.scn` and the README's `--scenario scenarios/demo.scn` work from any
 * directory. When nothing is found, the message lists every place looked in and the
 * installed scenarios.
 */
#define _DEFAULT_SOURCE /* realpath() */
#include "cli/cli_util.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCN_SUFFIX ".scn"

/* The installed scenarios directory, canonical: 0, or -1 when it cannot be found. */
static int scenarios_dir(char *buf, size_t len)
{
    char exe[PATH_MAX], dir[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || (size_t)n >= sizeof exe - 1)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    snprintf(dir, sizeof dir, "%s/../share/joules/scenarios", exe);
    char real[PATH_MAX];
    const char *use = realpath(dir, real) ? real : dir;
    if (strlen(use) >= len)
        return -1;
    memcpy(buf, use, strlen(use) + 1);
    return use == real ? 0 : -1;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The names of dir's *.scn files, comma-separated. */
static void list_scenarios(const char *dir, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l <= strlen(SCN_SUFFIX) || strcmp(e->d_name + l - strlen(SCN_SUFFIX), SCN_SUFFIX) != 0)
            continue;
        int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", e->d_name);
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
    closedir(d);
}

int cli_find_scenario(const char *cmd, const char *path, char *found, size_t len)
{
    struct stat st;
    if (stat(path, &st) == 0 || errno != ENOENT || path[0] == '/') {
        snprintf(found, len, "%s", path);
        return 0; /* the caller's checks say what is wrong with it, if anything */
    }
    char dir[PATH_MAX], tried[4 * PATH_MAX + 256];
    int have_dir = scenarios_dir(dir, sizeof dir) == 0;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t pl = strlen(base);
    int has_suffix = pl > strlen(SCN_SUFFIX) && !strcmp(base + pl - strlen(SCN_SUFFIX), SCN_SUFFIX);
    /* The path under the directory, its last part there, and either with .scn added. */
    const char *names[2] = {path, base};
    size_t used = (size_t)snprintf(tried, sizeof tried, "%s", path);
    for (int i = 0; have_dir && i < 2; i++) {
        if (i == 1 && base == path)
            break;
        for (int suffix = 0; suffix < 2; suffix++) {
            if (suffix && has_suffix)
                break;
            char cand[2 * PATH_MAX];
            snprintf(cand, sizeof cand, "%s/%s%s", dir, names[i], suffix ? SCN_SUFFIX : "");
            if (is_file(cand)) {
                if (strlen(cand) >= len)
                    break;
                snprintf(found, len, "%s", cand);
                return 0;
            }
            if (used < sizeof tried)
                used += (size_t)snprintf(tried + used, sizeof tried - used, ", %s", cand);
        }
    }
    char avail[1024] = "";
    if (have_dir)
        list_scenarios(dir, avail, sizeof avail);
    return cli_usage_error(
        cmd, "cannot find the scenario file '%s' (looked for %s)%s%s%s%s", path, tried,
        have_dir ? "" : "; the installed scenarios directory is missing: ", have_dir ? "" : dir,
        avail[0] ? "; installed scenarios: " : "", avail);
}
