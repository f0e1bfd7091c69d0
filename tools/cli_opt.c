/* cli_opt: the option tables' parser and help printer (see cli_opt.h). */
#include "cli_opt.h"

#include <assert.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* One option of a flattened table: the entry and where its struct lies. */
typedef struct flat_opt {
    const cli_opt *o;
    size_t base;
} flat_opt;

typedef struct flat_table {
    flat_opt v[CLI_OPT_MAX];
    int n;
} flat_table;

/* What the last parse left for its caller: the option it refused as
 * unknown, and the long spellings one-dash aliases were rewritten to (argv
 * points into them after the parse). */
static struct {
    char refused[64];
    char rewritten[CLI_OPT_MAX][64];
} last;

static void flatten(flat_table *t, const cli_opt *table, size_t base) {
    for (const cli_opt *o = table; o->kind != CLI_OPT_END; o++) {
        if (o->kind == CLI_OPT_INCLUDE) {
            assert(o->sub != NULL);
            flatten(t, o->sub, base + o->off);
            continue;
        }
        assert(o->name != NULL);
        assert(t->n < CLI_OPT_MAX);
        t->v[t->n++] = (flat_opt){o, base};
    }
}

/* The k-th word of o->other into buf; 0 when there is none. */
static int other_word(const cli_opt *o, int k, char *buf, size_t cap) {
    const char *p = o->other ? o->other : "";
    for (int i = 0;; i++) {
        p += strspn(p, " ");
        size_t n = strcspn(p, " ");
        if (n == 0) return 0;
        assert(n < cap);
        if (i == k) {
            snprintf(buf, cap, "%.*s", (int)n, p);
            return 1;
        }
        p += n;
    }
}

/* The spellings of one option: -l, --name, then the others as written. */
static int spellings(const cli_opt *o, char out[][64]) {
    int n = 0;
    if (o->letter) snprintf(out[n++], 64, "-%c", o->letter);
    snprintf(out[n++], 64, "--%s", o->name);
    for (int k = 0; other_word(o, k, out[n], 64); k++) {
        n++;
        assert(n < CLI_SPELLINGS_MAX); /* out[n] is room for the next word */
    }
    return n;
}

static int takes_value(const cli_opt *o) { return o->kind != CLI_OPT_FLAG && o->kind != CLI_OPT_REFUSE; }

/* The getopt_long array and short-option string of a flattened table;
 * long names point into names[][]. */
typedef struct getopt_tables {
    struct option longs[CLI_OPT_MAX * CLI_SPELLINGS_MAX + 1];
    char names[CLI_OPT_MAX * CLI_SPELLINGS_MAX][64];
    char shorts[2 + 2 * CLI_OPT_MAX + 1];
} getopt_tables;

static void build_getopt(const flat_table *t, getopt_tables *g) {
    int nl = 0;
    size_t ns = 0;
    g->shorts[ns++] = ':'; /* ':' for a missing value, '?' for an unknown option */
    for (int i = 0; i < t->n; i++) {
        const cli_opt *o = t->v[i].o;
        char sp[CLI_SPELLINGS_MAX][64];
        int n = spellings(o, sp);
        for (int k = 0; k < n; k++) {
            if (strncmp(sp[k], "--", 2) != 0) continue; /* -l goes to shorts; -rm is rewritten */
            snprintf(g->names[nl], sizeof g->names[nl], "%s", sp[k] + 2);
            g->longs[nl] = (struct option){g->names[nl], takes_value(o) ? required_argument : no_argument, NULL, 256 + i};
            nl++;
        }
        if (o->letter) {
            g->shorts[ns++] = o->letter;
            if (takes_value(o)) g->shorts[ns++] = ':';
        }
    }
    g->longs[nl] = (struct option){0, 0, 0, 0};
    g->shorts[ns] = '\0';
}

/* Flink's one-dash spellings of several letters (-rm) become --name:
 * getopt has no short options of more than one letter. */
static void rewrite_aliases(const flat_table *t, int argc, char **argv) {
    for (int i = 0; i < t->n; i++) {
        char sp[CLI_SPELLINGS_MAX][64];
        int n = spellings(t->v[i].o, sp);
        snprintf(last.rewritten[i], sizeof last.rewritten[i], "--%s", t->v[i].o->name);
        for (int k = 0; k < n; k++) {
            if (sp[k][0] != '-' || sp[k][1] == '-' || strlen(sp[k]) < 3) continue;
            for (int a = 1; a < argc && strcmp(argv[a], "--") != 0; a++)
                if (strcmp(argv[a], sp[k]) == 0) argv[a] = last.rewritten[i];
        }
    }
}

/* What a CLI_OPT_U64 wants, from its range: "1..16", "a number up to N". */
static void u64_wants(const cli_opt *o, char *buf, size_t cap) {
    if (o->unit) snprintf(buf, cap, "%" PRIu64 "..%" PRIu64 " %s", o->min, o->max, o->unit);
    else if (o->max == UINT64_MAX) snprintf(buf, cap, "%s", o->min == 0 ? "a number" : "a positive number");
    else if (o->min == 0) snprintf(buf, cap, "a number up to %" PRIu64, o->max);
    else snprintf(buf, cap, "%" PRIu64 "..%" PRIu64, o->min, o->max);
    assert(o->min <= o->max);
}

/* Stores one option's value; 0, or the exit code after the error. */
static int take_option(const flat_opt *f, void *opts, const char *value, const char *cmd) {
    const cli_opt *o = f->o;
    void *target = (char *)opts + f->base + o->off;
    char wants[96];
    switch (o->kind) {
    case CLI_OPT_STRING: *(const char **)target = value; break;
    case CLI_OPT_FLAG: *(int *)target = 1; break;
    case CLI_OPT_U64: {
        uint64_t v = 0;
        if (cli_parse_u64(value, &v) != 0 || v < o->min || v > o->max) {
            u64_wants(o, wants, sizeof wants);
            return cli_usage_error("%s: --%s wants %s, not '%s'", cmd, o->name, wants, value);
        }
        *(uint64_t *)target = v;
        break;
    }
    case CLI_OPT_CALL:
        assert(o->fn != NULL);
        if (o->fn(target, value) != 0) return cli_usage_error("%s: --%s wants %s, not '%s'", cmd, o->name, o->wants, value);
        break;
    case CLI_OPT_REFUSE:
        snprintf(last.refused, sizeof last.refused, "--%s", o->name);
        return cli_usage_error("%s: %s", cmd, o->help);
    case CLI_OPT_END:
    case CLI_OPT_INCLUDE: assert(0 && "not an option of a flattened table"); break;
    }
    if (o->has_seen) *(int *)((char *)opts + f->base + o->seen_off) = 1;
    return 0;
}

static int find_letter(const flat_table *t, int c) {
    for (int i = 0; i < t->n; i++)
        if (t->v[i].o->letter == c) return i;
    return -1;
}

/* Whether the long option getopt just took was spelled out in full:
 * getopt_long also takes unambiguous prefixes (--seed for --seeds), which
 * would make options no table names mean another one. */
static int spelled_out(int argc, char **argv, const char *name) {
    int at = optarg != NULL && optind - 1 < argc && optarg == argv[optind - 1] ? optind - 2 : optind - 1;
    assert(at >= 1);
    const char *el = argv[at] + 2;
    size_t n = strcspn(el, "=");
    if (n == strlen(name) && strncmp(el, name, n) == 0) return 1;
    optind = at + 1; /* the error names this element */
    optopt = 0;
    return 0;
}

static int one_dash(const char *a) { return a[0] == '-' && a[1] != '-' && a[1] != '\0'; }

/* The argument a refused one-letter option came in, whole: "-rm", not
 * "-r" (getopt stays inside an argument until its last letter). */
static const char *short_element(int argc, char **argv, int letter) {
    const char *prev = optind >= 1 && optind - 1 < argc ? argv[optind - 1] : "";
    const char *cur = optind < argc ? argv[optind] : "";
    if (one_dash(prev) && prev[strlen(prev) - 1] == letter) return prev;
    if (one_dash(cur) && strchr(cur + 1, letter) != NULL) return cur;
    return prev;
}

/* The error of an option getopt did not take: unknown, or without its value. */
static int refuse(int c, int argc, char **argv, const char *cmd) {
    char spelled[64];
    if (optopt > 0 && optopt < 256) snprintf(spelled, sizeof spelled, "%s", short_element(argc, argv, optopt));
    else snprintf(spelled, sizeof spelled, "%s", optind - 1 < argc ? argv[optind - 1] : "");
    if (c == ':') return cli_usage_error("%s: option '%s' needs a value (see snapsim %s --help)", cmd, spelled, cmd);
    snprintf(last.refused, sizeof last.refused, "%s", spelled);
    return cli_usage_error("%s: unknown option '%s' (see snapsim %s --help)", cmd, spelled, cmd);
}

int cli_parse(const cli_opt *table, void *opts, int argc, char **argv, const char *cmd, int *first) {
    static flat_table t;
    static getopt_tables g;
    assert(table != NULL);
    assert(argc >= 1);
    memset(&t, 0, sizeof t);
    last.refused[0] = '\0';
    flatten(&t, table, 0);
    build_getopt(&t, &g);
    rewrite_aliases(&t, argc, argv);
    optind = 0; /* glibc: 0 also forgets where it was inside an argument ("-rm") */
    opterr = 0;
    int c, li = -1;
    while ((c = getopt_long(argc, argv, g.shorts, g.longs, &li)) != -1) {
        int i = c >= 256 ? c - 256 : c == '?' || c == ':' ? -1 : find_letter(&t, c);
        if (i < 0) return refuse(c, argc, argv, cmd);
        if (c >= 256 && !spelled_out(argc, argv, g.longs[li].name)) return refuse('?', argc, argv, cmd);
        assert(i < t.n);
        int rc = take_option(&t.v[i], opts, optarg, cmd);
        if (rc != 0) return rc;
    }
    *first = optind;
    return 0;
}

const char *cli_parse_refused(void) { return last.refused; }

/* Prints help text, its continuation lines indented to the help column. */
static void print_help_text(FILE *out, const char *help, int column) {
    for (const char *p = help; *p;) {
        size_t n = strcspn(p, "\n");
        fprintf(out, "%.*s\n", (int)n, p);
        p += n;
        if (*p == '\n' && *++p) fprintf(out, "%*s", column, "");
    }
}

static void help_table(FILE *out, const cli_opt *table) {
    enum { COLUMN = 27, WIDTH = 92 };
    for (const cli_opt *o = table; o->kind != CLI_OPT_END; o++) {
        if (o->kind == CLI_OPT_INCLUDE) help_table(out, o->sub);
        if (o->kind == CLI_OPT_INCLUDE || o->kind == CLI_OPT_REFUSE) continue;
        char sp[CLI_SPELLINGS_MAX][64], line[400];
        int n = spellings(o, sp), len = snprintf(line, sizeof line, "  ");
        for (int k = 0; k < n; k++) len += snprintf(line + len, sizeof line - (size_t)len, "%s%s", k ? ", " : "", sp[k]);
        if (o->arg) len += snprintf(line + len, sizeof line - (size_t)len, " %s", o->arg);
        assert(len < (int)sizeof line);
        const char *help = o->help ? o->help : "";
        if (len + 2 > COLUMN && len + 2 + (int)strcspn(help, "\n") > WIDTH) /* the help on a line of its own */
            fprintf(out, "%s\n%*s", line, COLUMN, "");
        else
            fprintf(out, "%s%*s", line, len + 2 > COLUMN ? 2 : COLUMN - len, "");
        print_help_text(out, help, COLUMN);
    }
}

void cli_opt_help(FILE *out, const cli_opt *table) { help_table(out, table); }

void cli_opt_each_spelling(const cli_opt *table, void (*fn)(void *ctx, const char *spelling, int takes_value),
                           void *ctx) {
    static flat_table t;
    memset(&t, 0, sizeof t);
    flatten(&t, table, 0);
    for (int i = 0; i < t.n; i++) {
        if (t.v[i].o->kind == CLI_OPT_REFUSE) continue;
        char sp[CLI_SPELLINGS_MAX][64];
        int n = spellings(t.v[i].o, sp);
        for (int k = 0; k < n; k++) fn(ctx, sp[k], takes_value(t.v[i].o));
    }
}

int cli_opt_shard(void *target, const char *value) {
    cli_shard *s = target;
    char extra;
    if (sscanf(value, "%d/%d%c", &s->i, &s->n, &extra) != 2 || s->n < 1 || s->i < 0 || s->i >= s->n) return -1;
    return 0;
}
