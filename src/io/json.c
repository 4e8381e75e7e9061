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

void io_json_init(io_json *j, FILE *f, int pretty)
{
    memset(j, 0, sizeof *j);
    j->f = f;
    j->pretty = pretty;
}

static void newline_indent(io_json *j)
{
    if (!j->pretty)
        return;
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->f);
}

/* Separator before a value or a key: nothing after a key, else a comma between members. */
static void before_item(io_json *j)
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

static void open_container(io_json *j, char c)
{
    before_item(j);
    if (j->depth >= JOULES_JSON_MAX_DEPTH) {
        j->error = 1;
        return;
    }
    fputc(c, j->f);
    j->count[j->depth++] = 0;
}

static void close_container(io_json *j, char c)
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

void io_json_object_begin(io_json *j)
{
    open_container(j, '{');
}

void io_json_object_end(io_json *j)
{
    close_container(j, '}');
}

void io_json_array_begin(io_json *j)
{
    open_container(j, '[');
}

void io_json_array_end(io_json *j)
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

void io_json_write_escaped(FILE *f, const char *str)
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

void io_json_key(io_json *j, const char *key)
{
    if (j->depth <= 0 || j->after_key) {
        j->error = 1;
        return;
    }
    before_item(j);
    io_json_write_escaped(j->f, key);
    fputs(j->pretty ? ": " : ":", j->f);
    j->after_key = 1;
}

void io_json_string(io_json *j, const char *s)
{
    if (!s) {
        io_json_null(j);
        return;
    }
    before_item(j);
    io_json_write_escaped(j->f, s);
}

void io_json_number(io_json *j, double v)
{
    if (!isfinite(v)) {
        io_json_null(j);
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

void io_json_int(io_json *j, long long v)
{
    before_item(j);
    fprintf(j->f, "%lld", v);
}

void io_json_bool(io_json *j, int v)
{
    before_item(j);
    fputs(v ? "true" : "false", j->f);
}

void io_json_raw(io_json *j, const char *json_text)
{
    before_item(j);
    size_t n = strlen(json_text);
    while (n > 0 && json_text[n - 1] == '\n')
        n--;
    if (fwrite(json_text, 1, n, j->f) != n)
        j->error = 1;
}

void io_json_null(io_json *j)
{
    before_item(j);
    fputs("null", j->f);
}

void io_json_kv_string(io_json *j, const char *key, const char *s)
{
    io_json_key(j, key);
    io_json_string(j, s);
}

void io_json_kv_number(io_json *j, const char *key, double v)
{
    io_json_key(j, key);
    io_json_number(j, v);
}

void io_json_kv_int(io_json *j, const char *key, long long v)
{
    io_json_key(j, key);
    io_json_int(j, v);
}

void io_json_kv_bool(io_json *j, const char *key, int v)
{
    io_json_key(j, key);
    io_json_bool(j, v);
}

void io_json_kv_null(io_json *j, const char *key)
{
    io_json_key(j, key);
    io_json_null(j);
}

int io_json_finish(io_json *j)
{
    if (j->depth != 0 || j->after_key)
        j->error = 1;
    fputc('\n', j->f);
    return (j->error || ferror(j->f)) ? -1 : 0;
}
