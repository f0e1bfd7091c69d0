/* cli: shared helpers of the snapsim front-end. */
#define _XOPEN_SOURCE 700
#include "cli.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_exit_for(rt_err code) {
    switch (rt_err_class_of(code)) {
    case RT_CLASS_OK: return CLI_EXIT_OK;
    case RT_CLASS_USAGE: return CLI_EXIT_USAGE;
    case RT_CLASS_REJECT: return CLI_EXIT_REJECTED;
    case RT_CLASS_CORRUPT: return CLI_EXIT_CORRUPT;
    case RT_CLASS_INTERNAL: return CLI_EXIT_CRASH;
    }
    return CLI_EXIT_CRASH;
}

int cli_report_error(const rt_error *e) {
    static const char *label[] = {
        [RT_CLASS_OK] = "ok", [RT_CLASS_USAGE] = "error", [RT_CLASS_REJECT] = "rejected",
        [RT_CLASS_CORRUPT] = "corrupted", [RT_CLASS_INTERNAL] = "crashed"};
    rt_err_class c = rt_err_class_of(e->code);
    fprintf(stderr, "%s: %s\n", label[c], e->msg[0] ? e->msg : rt_err_message(e->code));
    return cli_exit_for(e->code);
}

int cli_parse_u64(const char *s, uint64_t *out) {
    if (s == NULL || *s == '\0' || *s == '-' || *s == '+') return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9') return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') return -1;
    *out = (uint64_t)v;
    return 0;
}

void cli_help_write(FILE *out, const cli_command *c) {
    fputs(c->usage, out);
    if (c->opts && c->opts[0].kind != CLI_OPT_END) {
        fputs("\noptions:\n", out);
        cli_opt_help(out, c->opts);
    }
    for (const cli_subcommand *s = c->subs; s && s->name; s++) {
        if (s->opts[0].kind == CLI_OPT_END) continue;
        fprintf(out, "\noptions of %s %s:\n", c->name, s->name);
        cli_opt_help(out, s->opts);
    }
}

int cli_print_help(const char *name) {
    for (const cli_command *c = cli_commands; c->name; c++) {
        if (strcmp(c->name, name) == 0) {
            cli_help_write(stdout, c);
            return CLI_EXIT_OK;
        }
    }
    return cli_usage_error("no help for '%s'", name);
}

int cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
        if (strcmp(argv[i], "--") == 0) break;
    }
    return 0;
}

int cli_work_dir(char *buf, size_t cap, const char *tag) {
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(buf, cap, "%s/snapsim-%s-XXXXXX", base, tag);
    return mkdtemp(buf) ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void cli_remove_tree(const char *dir) {
    /* Best effort: a leftover work directory harms nothing. */
    if (strstr(dir, "/snapsim-") != NULL) nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int cli_fresh_dir(const char *dir) {
    cli_remove_tree(dir);
    return mkdir(dir, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

int cli_stdout_gone(void) { return fflush(stdout) != 0 && errno == EPIPE; }
