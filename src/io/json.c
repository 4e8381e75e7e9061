/* SPDX-License-Identifier: MIT */
/*
 * json.c - the streaming JSON writer (see json.h). Strings come from devices and command
 * lines we do not control (a GPU name, an argument with a newline or invalid UTF-8), so
 * escaping is complete and the output is always valid JSON that strict parsers accept.
 */
#include "io/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void joules_json_init(joules_json *j, FILE *f, int pretty)
{
    memset(j, 0, sizeof *j);
    j->f = f;
    j->pretty = pretty;
}

static void newline_indent(joules_json *j)
{
    if (!j->pretty)
        return;
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->f);
}

/* Separator before a value or a key: nothing after a key, else a comma between members. */
static void before_item(joules_json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth > 0) {
        if (j->count[j->depth - 1]++ > 0)
            fputc(',', j->f);
        newline_indent(j);
    }
}

static void open_container(joules_json *j, char c)
{
    before_item(j);
    if (j->depth >= JOULES_JSON_MAX_DEPTH) {
        j->error = 1;
        return;
    }
    fputc(c, j->f);
    j->count[j->depth++] = 0;
}

static void close_container(joules_json *j, char c)
{
    if (j->depth <= 0 || j->after_key) {
        j->error = 1;
        return;
    }
    int had = j->count[--j->depth];
    if (had)
        newline_indent(j);
    fputc(c, j->f);
}

void joules_json_object_begin(joules_json *j)
{
    open_container(j, '{');
}

void joules_json_object_end(joules_json *j)
{
    close_container(j, '}');
}

void joules_json_array_begin(joules_json *j)
{
    open_container(j, '[');
}

void joules_json_array_end(joules_json *j)
{
    close_container(j, ']');
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not valid UTF-8. */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    int n;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    unsigned cp = c & (0x3Fu >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void joules_json_write_escaped(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', f);
    while (*s) {
        unsigned c = *s;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
            s++;
        } else if (c < 0x20 || c == 0x7F) {
            switch (c) {
            case '\n':
                fputs("\\n", f);
                break;
            case '\r':
                fputs("\\r", f);
                break;
            case '\t':
                fputs("\\t", f);
                break;
            case '\b':
                fputs("\\b", f);
                break;
            case '\f':
                fputs("\\f", f);
                break;
            default:
                fprintf(f, "\\u%04x", c);
            }
            s++;
        } else {
            int n = utf8_len(s);
            if (n == 0) {
                fputs("\\ufffd", f); /* invalid byte: replacement character */
                s++;
            } else {
                fwrite(s, 1, (size_t)n, f);
                s += n;
            }
        }
    }
    fputc('"', f);
}

void joules_json_key(joules_json *j, const char *key)
{
    if (j->depth <= 0 || j->after_key) {
        j->error = 1;
        return;
    }
    before_item(j);
    joules_json_write_escaped(j->f, key);
    fputs(j->pretty ? ": " : ":", j->f);
    j->after_key = 1;
}

void joules_json_string(joules_json *j, const char *s)
{
    if (!s) {
        joules_json_null(j);
        return;
    }
    before_item(j);
    joules_json_write_escaped(j->f, s);
}

void joules_json_number(joules_json *j, double v)
{
    if (!isfinite(v)) {
        joules_json_null(j);
        return;
    }
    before_item(j);
    /* The shortest of %.15g and %.17g that reads back as the same double. */
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof buf, "%.17g", v);
    fputs(buf, j->f);
}

void joules_json_int(joules_json *j, long long v)
{
    before_item(j);
    fprintf(j->f, "%lld", v);
}

void joules_json_bool(joules_json *j, int v)
{
    before_item(j);
    fputs(v ? "true" : "false", j->f);
}

void joules_json_null(joules_json *j)
{
    before_item(j);
    fputs("null", j->f);
}

void joules_json_kv_string(joules_json *j, const char *key, const char *s)
{
    joules_json_key(j, key);
    joules_json_string(j, s);
}

void joules_json_kv_number(joules_json *j, const char *key, double v)
{
    joules_json_key(j, key);
    joules_json_number(j, v);
}

void joules_json_kv_int(joules_json *j, const char *key, long long v)
{
    joules_json_key(j, key);
    joules_json_int(j, v);
}

void joules_json_kv_bool(joules_json *j, const char *key, int v)
{
    joules_json_key(j, key);
    joules_json_bool(j, v);
}

void joules_json_kv_null(joules_json *j, const char *key)
{
    joules_json_key(j, key);
    joules_json_null(j);
}

int joules_json_finish(joules_json *j)
{
    if (j->depth != 0 || j->after_key)
        j->error = 1;
    fputc('\n', j->f);
    return (j->error || ferror(j->f)) ? -1 : 0;
}
