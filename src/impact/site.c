/* SPDX-License-Identifier: MIT */
/*
 * site.c - the site values (grid, PUE, device lifetime) and where each came from: the
 * defaults, then the configuration file, then the environment, then the options; a later
 * source overrides an earlier one. The file is `key = value` lines with '#' comments; an
 * unknown key or a bad value is refused naming the file, the line and the key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "impact/impact.h"

static const char *const origin_names[] = {"default", "config", "environment", "option"};

const char *impact_origin_name(int o)
{
    return o >= 0 && o <= IMPACT_FROM_OPTION ? origin_names[o] : "?";
}

void impact_config_path(const char *xdg_config_home, const char *home, char *buf, size_t len)
{
    /* The XDG base directory rule: a relative XDG_CONFIG_HOME is ignored. */
    if (xdg_config_home && xdg_config_home[0] == '/')
        snprintf(buf, len, "%s/joules/config", xdg_config_home);
    else if (home && *home)
        snprintf(buf, len, "%s/.config/joules/config", home);
    else if (len)
        buf[0] = '\0';
}

static void set(struct impact_setting *s, const char *value, int origin, const char *where)
{
    snprintf(s->value, sizeof s->value, "%s", value);
    s->origin = origin;
    snprintf(s->where, sizeof s->where, "%s", where);
}

/* The value's own check (the grid's zone is checked by the caller against the table). */
static int check(const char *key, const char *v, char *err, size_t len)
{
    double x;
    if (strcmp(key, "pue") == 0)
        return impact_check_pue(v, &x, err, len);
    if (strcmp(key, "lifetime") == 0)
        return impact_check_lifetime(v, &x, err, len);
    if (!*v || strlen(v) >= IMPACT_VALUE_MAX) {
        snprintf(err, len, "grid '%s' is empty or too long", v);
        return -1;
    }
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int read_config(struct impact_site *s, const char *path, char *err, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, len, "%s: cannot read the configuration file: %s", path, strerror(errno));
        return -1;
    }
    s->config_found = 1;
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        lineno++;
        char *p = trim(line);
        if (!*p || *p == '#')
            continue;
        char *eq = strchr(p, '=');
        if (!eq) {
            snprintf(err, len, "%s:%d: expected 'key = value' (keys: grid, pue, lifetime)", path,
                     lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(p), *value = trim(eq + 1);
        struct impact_setting *target = strcmp(key, "grid") == 0       ? &s->grid
                                        : strcmp(key, "pue") == 0      ? &s->pue
                                        : strcmp(key, "lifetime") == 0 ? &s->lifetime
                                                                       : NULL;
        if (!target) {
            snprintf(err, len, "%s:%d: unknown key '%s' (known: grid, pue, lifetime)", path, lineno,
                     key);
            rc = -1;
            break;
        }
        char msg[IMPACT_ERR_MAX];
        if (check(key, value, msg, sizeof msg) != 0) {
            snprintf(err, len, "%s:%d: %s: %s", path, lineno, key, msg);
            rc = -1;
            break;
        }
        char where[560];
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        set(target, value, IMPACT_FROM_CONFIG, where);
    }
    free(line);
    fclose(f);
    return rc;
}

int impact_site_resolve(struct impact_site *s, const char *config_path,
                        const char *(*getenv_fn)(const char *), const char *opt_grid,
                        const char *opt_pue, const char *opt_lifetime, char *err, size_t len)
{
    memset(s, 0, sizeof *s);
    /* No grid by default: the location is never guessed. PUE 1: device energy only, no
     * facility overhead assumed. Lifetime 3 years: Boavizta's default for a GPU (26,280 h). */
    set(&s->grid, "", IMPACT_FROM_DEFAULT, "default");
    set(&s->pue, "1", IMPACT_FROM_DEFAULT, "default");
    set(&s->lifetime, "3", IMPACT_FROM_DEFAULT, "default");
    if (config_path && *config_path) {
        snprintf(s->config_path, sizeof s->config_path, "%s", config_path);
        if (read_config(s, config_path, err, len) != 0)
            return -1;
    }
    static const char *const env_names[3] = {"JOULES_GRID", "JOULES_PUE", "JOULES_LIFETIME"};
    static const char *const keys[3] = {"grid", "pue", "lifetime"};
    static const char *const opt_names[3] = {"--grid", "--pue", "--lifetime"};
    struct impact_setting *targets[3] = {&s->grid, &s->pue, &s->lifetime};
    const char *opts[3] = {opt_grid, opt_pue, opt_lifetime};
    char msg[IMPACT_ERR_MAX];
    for (int i = 0; i < 3; i++) {
        const char *v = getenv_fn ? getenv_fn(env_names[i]) : NULL;
        if (v && *v) {
            if (check(keys[i], v, msg, sizeof msg) != 0) {
                snprintf(err, len, "%s: %s", env_names[i], msg);
                return -1;
            }
            set(targets[i], v, IMPACT_FROM_ENV, env_names[i]);
        }
        if (opts[i]) {
            if (check(keys[i], opts[i], msg, sizeof msg) != 0) {
                snprintf(err, len, "%s: %s", opt_names[i], msg);
                return -1;
            }
            set(targets[i], opts[i], IMPACT_FROM_OPTION, opt_names[i]);
        }
    }
    return 0;
}
