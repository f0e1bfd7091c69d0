/* test_cli: the option tables of tools/cli_opt.c. For every command of
 * tools/commands.c, the options its --help names are the ones its parser
 * takes, and options it does not have are refused with exit 2. Help names
 * are read from the printed help (synopsis and prose included), and
 * acceptance is asked of the command's own entry point, not of its table:
 * so a synopsis that names an option the command does not parse, a help
 * printer that leaves lines out, a command that parses with another table
 * than its help's, or getopt's prefix matching (fuzz --seed taken as
 * --seeds) each fail a test here. */
#include <CUnit/CUnit.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_opt.h"

#define BOGUS "--zz-not-an-option"
#define WORDS_MAX 160

typedef struct words {
    char w[WORDS_MAX][64];
    int n;
} words;

static int has(const words *s, const char *w) {
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->w[i], w) == 0) return 1;
    return 0;
}

static void add(words *s, const char *w, size_t len) {
    char buf[64];
    CU_ASSERT_FATAL(len < sizeof buf);
    snprintf(buf, sizeof buf, "%.*s", (int)len, w);
    if (has(s, buf)) return;
    CU_ASSERT_FATAL(s->n < WORDS_MAX);
    snprintf(s->w[s->n++], sizeof s->w[0], "%s", buf);
}

/* The command's help as printed, without shell substitutions ($(date -u
 * ...) in an example names another program's options). */
static char *help_of(const cli_command *c) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CU_ASSERT_FATAL(f != NULL);
    cli_help_write(f, c);
    fclose(f);
    for (char *p = strstr(text, "$("); p; p = strstr(p, "$(")) {
        char *end = strchr(p, ')');
        if (end == NULL) break;
        memset(p, ' ', (size_t)(end - p + 1));
    }
    return text;
}

/* Every option spelling the help names: --long, and -s / -rm after a
 * space, '[', '|', '(' or ','. */
static void help_words(const char *text, words *out) {
    out->n = 0;
    for (size_t i = 0; text[i]; i++) {
        char before = i ? text[i - 1] : ' ';
        if (text[i] != '-' || isalnum((unsigned char)before) || before == '-') continue;
        if (text[i + 1] == '-' && isalpha((unsigned char)text[i + 2])) {
            size_t n = 2;
            while (isalnum((unsigned char)text[i + n]) || text[i + n] == '-') n++;
            while (text[i + n - 1] == '-') n--;
            add(out, text + i, n);
            i += n - 1;
        } else if (isalpha((unsigned char)text[i + 1]) && strchr(" [|(,", before)) {
            size_t n = 1;
            while (isalpha((unsigned char)text[i + n])) n++;
            if (isdigit((unsigned char)text[i + n]) || text[i + n] == '-') continue;
            add(out, text + i, n);
            i += n - 1;
        }
    }
}

static void add_spelling(void *ctx, const char *spelling, int takes_value) {
    (void)takes_value;
    add(ctx, spelling, strlen(spelling));
}

/* The spellings one table parses. */
static void table_words(const cli_opt *t, words *out) {
    out->n = 0;
    if (t) cli_opt_each_spelling(t, add_spelling, out);
}

/* stderr to /dev/null (the refusals' error lines) and back. */
static int quiet_begin(void) {
    fflush(stderr);
    int saved = dup(2), devnull = open("/dev/null", O_WRONLY);
    CU_ASSERT_FATAL(saved >= 0 && devnull >= 0);
    dup2(devnull, 2);
    close(devnull);
    return saved;
}

static void quiet_end(int saved) {
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
}

/* Runs the command's entry point on [name, sub, args...] with stderr
 * silenced; returns its exit status. */
static int run_cmd(const cli_command *c, const char *sub, const char *a1, const char *a2, const char *a3) {
    char *argv[6];
    int argc = 0;
    argv[argc++] = (char *)c->name;
    if (sub) argv[argc++] = (char *)sub;
    const char *args[] = {a1, a2, a3};
    for (int i = 0; i < 3 && args[i]; i++) argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    int saved = quiet_begin();
    int rc = c->fn(argc, argv);
    quiet_end(saved);
    return rc;
}

/* Leaves cli_parse_refused() at a value no command's parse sets, so a
 * command that never calls cli_parse cannot pass on a stale one. */
static void poison_refused(void) {
    static const cli_opt none[] = {CLI_END};
    char *argv[] = {"poison", "--yy-poison", NULL};
    int first = 0, saved = quiet_begin();
    CU_ASSERT(cli_parse(none, NULL, 2, argv, "poison", &first) == CLI_EXIT_USAGE);
    quiet_end(saved);
    CU_ASSERT(strcmp(cli_parse_refused(), "--yy-poison") == 0);
}

/* Does the command (or its subcommand sub) take the option w? It is given
 * with a value and followed by an unknown option: a parse that took w goes
 * on to refuse BOGUS (or stops at w's value, refusing nothing). */
static int takes(const cli_command *c, const char *sub, const char *w) {
    poison_refused();
    int rc = run_cmd(c, sub, w, "1", BOGUS);
    const char *refused = cli_parse_refused();
    return rc == CLI_EXIT_USAGE && (strcmp(refused, BOGUS) == 0 || refused[0] == '\0');
}

static int takes_somewhere(const cli_command *c, const char *w) {
    if (c->opts && takes(c, NULL, w)) return 1;
    for (const cli_subcommand *s = c->subs; s && s->name; s++)
        if (takes(c, s->name, w)) return 1;
    return 0;
}

static void test_help_names_only_parsed_options(void) {
    for (const cli_command *c = cli_commands; c->name; c++) {
        char *text = help_of(c);
        words hw;
        help_words(text, &hw);
        free(text);
        CU_ASSERT(hw.n > 0);
        for (int i = 0; i < hw.n; i++) {
            if (strcmp(hw.w[i], "--help") == 0) continue; /* main answers it for every command */
            int ok = takes_somewhere(c, hw.w[i]);
            if (!ok) fprintf(stderr, "\n  %s --help names %s, which it does not take", c->name, hw.w[i]);
            CU_ASSERT(ok);
        }
    }
}

/* The other direction, by the printed text: a help printer that dropped
 * an option would leave it unlisted. */
static void check_listed(const cli_command *c, const cli_opt *t, const words *hw) {
    words tw;
    table_words(t, &tw);
    for (int i = 0; i < tw.n; i++) {
        int ok = has(hw, tw.w[i]);
        if (!ok) fprintf(stderr, "\n  %s parses %s, which its --help does not list", c->name, tw.w[i]);
        CU_ASSERT(ok);
    }
}

static void test_help_lists_every_parsed_option(void) {
    int tables = 0;
    for (const cli_command *c = cli_commands; c->name; c++) {
        char *text = help_of(c);
        words hw;
        help_words(text, &hw);
        free(text);
        if (c->opts) check_listed(c, c->opts, &hw), tables++;
        for (const cli_subcommand *s = c->subs; s && s->name; s++) check_listed(c, s->opts, &hw), tables++;
    }
    CU_ASSERT(tables >= 14);
}

/* The options a command's tables take (any of its subcommands'). */
static void command_words(const cli_command *c, words *out) {
    words t;
    out->n = 0;
    table_words(c->opts, &t);
    for (int i = 0; i < t.n; i++) add(out, t.w[i], strlen(t.w[i]));
    for (const cli_subcommand *s = c->subs; s && s->name; s++) {
        table_words(s->opts, &t);
        for (int i = 0; i < t.n; i++) add(out, t.w[i], strlen(t.w[i]));
    }
}

/* The option the parse of [c, sub, w, "1", BOGUS] refused must be w
 * itself, with exit 2 (not BOGUS: then w was taken). */
static void check_refused(const cli_command *c, const char *sub, const char *w) {
    poison_refused();
    int rc = run_cmd(c, sub, w, "1", BOGUS);
    int ok = rc == CLI_EXIT_USAGE && strcmp(cli_parse_refused(), w) == 0;
    if (!ok)
        fprintf(stderr, "\n  %s%s%s %s: exit %d, refused '%s' (want 2, refusing %s)", c->name, sub ? " " : "",
                sub ? sub : "", w, rc, cli_parse_refused(), w);
    CU_ASSERT(ok);
}

static void test_foreign_options_refused(void) {
    words all;
    all.n = 0;
    for (const cli_command *c = cli_commands; c->name; c++) {
        words t;
        command_words(c, &t);
        for (int i = 0; i < t.n; i++) add(&all, t.w[i], strlen(t.w[i]));
    }
    add(&all, BOGUS, strlen(BOGUS));
    add(&all, "-Z", 2);
    CU_ASSERT(has(&all, "--seeds") && has(&all, "-rm"));
    for (const cli_command *c = cli_commands; c->name; c++) {
        words own;
        const cli_subcommand none[] = {{NULL, NULL}};
        const cli_subcommand *s = c->subs ? c->subs : none;
        for (int k = -1; k == -1 || s[k].name; k++) {
            const char *sub = k < 0 ? NULL : s[k].name;
            const cli_opt *t = k < 0 ? c->opts : s[k].opts;
            if (t == NULL) continue;
            table_words(t, &own);
            for (int i = 0; i < all.n; i++)
                if (!has(&own, all.w[i])) check_refused(c, sub, all.w[i]);
        }
    }
}

/* Parses the shared job options and the Flink spellings into a struct, by
 * table: -rm is rewritten, -s and -n are short options, bounds refuse. */
typedef struct probe_opts {
    const char *path;
    uint64_t n;
    int flag, n_seen;
} probe_opts;

static const cli_opt probe_table[] = {
    {.kind = CLI_OPT_STRING, .letter = 's', .name = "fromSavepoint", .other = "-fs", .arg = "P",
     .off = CLI_OFF(probe_opts, path, const char *), .help = "p"},
    CLI_U64_SEEN(probe_opts, n, n_seen, "count", "N", 1, 16, "n"),
    {.kind = CLI_OPT_FLAG, .letter = 'n', .name = "allow", .other = "--allowIt", .off = CLI_OFF(probe_opts, flag, int),
     .help = "f"},
    CLI_END,
};

static int probe(probe_opts *o, int argc, char **argv, int *first) {
    memset(o, 0, sizeof *o);
    int saved = quiet_begin();
    int rc = cli_parse(probe_table, o, argc, argv, "probe", first);
    quiet_end(saved);
    return rc;
}

static void test_parse_by_table(void) {
    probe_opts o;
    int first = 0;
    char *a1[] = {"probe", "pos", "-fs", "P1", "-n", "--count", "16", NULL};
    CU_ASSERT(probe(&o, 7, a1, &first) == 0);
    CU_ASSERT(o.path && strcmp(o.path, "P1") == 0);
    CU_ASSERT(o.flag == 1 && o.n == 16 && o.n_seen == 1);
    CU_ASSERT(first == 6 && strcmp(a1[first], "pos") == 0); /* permuted to the end */
    char *a2[] = {"probe", "-s", "P2", "--allowIt", "--", "-n", NULL};
    CU_ASSERT(probe(&o, 6, a2, &first) == 0);
    CU_ASSERT(o.path && strcmp(o.path, "P2") == 0);
    CU_ASSERT(o.flag == 1 && o.n_seen == 0);
    CU_ASSERT(first == 5 && strcmp(a2[first], "-n") == 0); /* after "--": an argument */
    char *a3[] = {"probe", "--count", "17", NULL};
    CU_ASSERT(probe(&o, 3, a3, &first) == CLI_EXIT_USAGE);
    CU_ASSERT(cli_parse_refused()[0] == '\0'); /* a bad value, not an unknown option */
    char *a4[] = {"probe", "--cou", "3", NULL};
    CU_ASSERT(probe(&o, 3, a4, &first) == CLI_EXIT_USAGE);
    CU_ASSERT(strcmp(cli_parse_refused(), "--cou") == 0); /* no abbreviations */
    char *a5[] = {"probe", "--count", NULL};
    CU_ASSERT(probe(&o, 2, a5, &first) == CLI_EXIT_USAGE);
    CU_ASSERT(cli_parse_refused()[0] == '\0'); /* a missing value */
}

int suite_cli(void) {
    CU_pSuite s = CU_add_suite("cli", NULL, NULL);
    if (s == NULL) return -1;
    if (!CU_add_test(s, "table parsing: spellings, bounds, no abbreviations", test_parse_by_table) ||
        !CU_add_test(s, "every option a help names is one its command takes", test_help_names_only_parsed_options) ||
        !CU_add_test(s, "every option a command parses is in its help", test_help_lists_every_parsed_option) ||
        !CU_add_test(s, "an option not in a command's table is refused, exit 2", test_foreign_options_refused))
        return -1;
    return 0;
}
