/* rt_err: the one table of error codes, their names and messages, and the one
 * place that sets an error. Every failure in snapsim is an rt_err with a
 * message that names the problem and the source line that detected it. */
#ifndef RT_ERR_H
#define RT_ERR_H

#include <stddef.h>

/* X(code, name, outcome-class, default message)
 * The class says how the CLI reports it: USAGE -> exit 2, REJECT -> exit 1,
 * CORRUPT -> exit 3, INTERNAL -> treated as a crash. */
#define RT_ERR_MAP(X)                                                         \
    X(RT_OK,          "ok",             RT_CLASS_OK,       "no error")         \
    X(RT_EUSAGE,      "usage",          RT_CLASS_USAGE,    "bad usage")        \
    X(RT_EINPUT,      "bad-input",      RT_CLASS_USAGE,    "malformed input")  \
    X(RT_ESANDBOX,    "sandbox",        RT_CLASS_REJECT,   "path escapes the sandbox") \
    X(RT_ENOENT,      "missing",        RT_CLASS_REJECT,   "file is missing")  \
    X(RT_EEXIST,      "exists",         RT_CLASS_REJECT,   "file already exists") \
    X(RT_EIO,         "io",             RT_CLASS_REJECT,   "I/O error")        \
    X(RT_ENOSPC,      "no-space",       RT_CLASS_REJECT,   "no space left")    \
    X(RT_ECHECKSUM,   "checksum",       RT_CLASS_REJECT,   "checksum mismatch") \
    X(RT_EFORMAT,     "format",         RT_CLASS_REJECT,   "unreadable format") \
    X(RT_EVERSION,    "version",        RT_CLASS_REJECT,   "unsupported version") \
    X(RT_EBACKEND,    "backend",        RT_CLASS_REJECT,   "wrong state backend") \
    X(RT_ECHANNEL,    "channel-state",  RT_CLASS_REJECT,   "channel state unreadable") \
    X(RT_ETOPOLOGY,   "topology",       RT_CLASS_REJECT,   "job graph does not match") \
    X(RT_ENONRESTORED,"non-restored",   RT_CLASS_REJECT,   "state cannot be mapped to the job") \
    X(RT_ESCHEMA,     "schema",         RT_CLASS_REJECT,   "incompatible schema") \
    X(RT_EDECLINED,   "declined",       RT_CLASS_REJECT,   "checkpoint declined") \
    X(RT_ETIMEOUT,    "timeout",        RT_CLASS_REJECT,   "timed out")        \
    X(RT_EROCKSDB,    "rocksdb",        RT_CLASS_REJECT,   "RocksDB error")    \
    X(RT_ESQL,        "sqlite",         RT_CLASS_REJECT,   "SQLite error")     \
    X(RT_ECORRUPT,    "corrupted",      RT_CLASS_CORRUPT,  "state differs from the oracle") \
    X(RT_ENOMEM,      "no-memory",      RT_CLASS_INTERNAL, "out of memory")    \
    X(RT_EINTERNAL,   "internal",       RT_CLASS_INTERNAL, "internal error")   \
    X(RT_ENOTIMPL,    "not-implemented",RT_CLASS_USAGE,    "not implemented yet") \
    X(RT_EHALTED,     "halted",         RT_CLASS_REJECT,   "the run was halted by its driver")

typedef enum {
#define RT_ERR_ENUM(code, name, cls, msg) code,
    RT_ERR_MAP(RT_ERR_ENUM)
#undef RT_ERR_ENUM
    RT_ERR_COUNT
} rt_err;

typedef enum {
    RT_CLASS_OK,
    RT_CLASS_USAGE,
    RT_CLASS_REJECT,
    RT_CLASS_CORRUPT,
    RT_CLASS_INTERNAL
} rt_err_class;

#define RT_ERROR_MSG_MAX 512

/* An error carries its code, a message naming the problem and where it was
 * detected. A function that fails fills one and returns its code. */
typedef struct rt_error {
    rt_err code;
    const char *file;
    int line;
    char msg[RT_ERROR_MSG_MAX];
} rt_error;

const char *rt_err_name(rt_err code);
const char *rt_err_message(rt_err code);
rt_err_class rt_err_class_of(rt_err code);

/* Sets *e (if non-NULL) and returns code; use through RT_FAIL so every
 * detection point carries its file and line. It always overwrites: the
 * caller that detects a failure names it; callers above add context with
 * rt_error_prefix instead of setting a new error. */
rt_err rt_error_set(rt_error *e, rt_err code, const char *file, int line,
                    const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#define RT_FAIL(e, code, ...) rt_error_set((e), (code), __FILE__, __LINE__, __VA_ARGS__)

void rt_error_clear(rt_error *e);

/* Prepends context ("restore chk-3: ") to an existing message. */
void rt_error_prefix(rt_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
