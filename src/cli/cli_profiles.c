/* SPDX-License-Identifier: MIT */
/*
 * cli_profiles.c - the profile list of the simulated GPU, read from the library at first
 * use (see cli_profiles.h). The library stays loaded for the life of the process: the
 * strings it hands out are its own, and a later joules_open of the same file shares it.
 */
#include "cli/cli_profiles.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_util.h"
#include "abi/jsim.h"

static jsimGetProfile_fn get_profile;
static int tried; /* 0: not yet; 1: get_profile is set; -1: failed (reason printed) */

static int ask_simulator(void)
{
    if (tried)
        return tried;
    tried = -1;
    char path[PATH_MAX];
    if (cli_sim_library_path(path, sizeof path) != 0)
        return tried;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        cli_error("cannot load the simulated GPU library: %s", dlerror());
        return tried;
    }
    *(void **)&get_profile = dlsym(h, JSIM_SYMBOL_GET_PROFILE);
    if (!get_profile) {
        cli_error("%s lacks %s: not the simulated GPU built with this joules", path,
                  JSIM_SYMBOL_GET_PROFILE);
        dlclose(h);
        return tried;
    }
    tried = 1;
    return tried;
}

/* The index-th entry, or 0 past the last. */
static int entry(unsigned index, jsimProfileInfo *info)
{
    memset(info, 0, sizeof *info);
    info->version = JSIM_STRUCT_VERSION(jsimProfileInfo);
    return get_profile(index, info) == NVML_SUCCESS && info->key;
}

int cli_sim_profile_known(const char *profile)
{
    if (ask_simulator() < 0)
        return -1;
    jsimProfileInfo info;
    for (unsigned i = 0; entry(i, &info); i++)
        if (strcmp(profile, info.key) == 0)
            return 1;
    return 0;
}

static void append(char *buf, size_t len, size_t *n, const char *before, const char *word,
                   const char *after)
{
    if (*n >= len - 1)
        return;
    int w = snprintf(buf + *n, len - *n, "%s%s%s", before, word, after);
    if (w > 0)
        *n += (size_t)w < len - *n ? (size_t)w : len - 1 - *n;
}

void cli_sim_profile_list(char *buf, size_t len, int boards_only)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    if (ask_simulator() < 0) {
        snprintf(buf, len, "(unknown: the simulated GPU library cannot be read)");
        return;
    }
    size_t n = 0;
    jsimProfileInfo p, a;
    for (unsigned i = 0; entry(i, &p); i++) {
        if (p.alias_of || (boards_only && p.for_tests))
            continue;
        append(buf, len, &n, n ? ", " : "", p.key, "");
        for (unsigned k = 0; entry(k, &a); k++)
            if (a.alias_of && strcmp(a.alias_of, p.key) == 0)
                append(buf, len, &n, " (", a.key, ")");
    }
}
