/* rt_err: error names, messages and the single setter. */
#include "rt_err.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    rt_err_class cls;
    const char *msg;
} rt_err_table[RT_ERR_COUNT] = {
#define RT_ERR_ROW(code, name, cls, msg) [code] = {name, cls, msg},
    RT_ERR_MAP(RT_ERR_ROW)
#undef RT_ERR_ROW
};

const char *rt_err_name(rt_err code) {
    if ((unsigned)code >= RT_ERR_COUNT) return "unknown";
    return rt_err_table[code].name;
}

const char *rt_err_message(rt_err code) {
    if ((unsigned)code >= RT_ERR_COUNT) return "unknown error";
    return rt_err_table[code].msg;
}

rt_err_class rt_err_class_of(rt_err code) {
    if ((unsigned)code >= RT_ERR_COUNT) return RT_CLASS_INTERNAL;
    return rt_err_table[code].cls;
}

rt_err rt_error_set(rt_error *e, rt_err code, const char *file, int line,
                    const char *fmt, ...) {
    assert(code != RT_OK);
    if (e == NULL) return code;
    /* Format first, copy after: an argument may be e->msg itself (a caller
     * rewording the error it already holds), and vsnprintf into the buffer
     * it reads from is undefined. */
    char msg[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    e->code = code;
    e->file = file;
    e->line = line;
    memcpy(e->msg, msg, sizeof msg);
    return code;
}

void rt_error_clear(rt_error *e) {
    if (e == NULL) return;
    e->code = RT_OK;
    e->file = NULL;
    e->line = 0;
    e->msg[0] = '\0';
}

void rt_error_prefix(rt_error *e, const char *fmt, ...) {
    if (e == NULL || e->code == RT_OK) return;
    char prefix[RT_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Keep the original message whole if the prefix would not fit. */
    size_t plen = strlen(prefix), mlen = strlen(e->msg);
    if (plen + mlen + 1 > sizeof e->msg) return;
    memmove(e->msg + plen, e->msg, mlen + 1);
    memcpy(e->msg, prefix, plen);
}
