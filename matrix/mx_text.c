/* mx_text: escaping of database strings for Markdown, HTML/XML and CSV.
 * The reports never print a database string any other way. */
#include "mx_text.h"

#include <assert.h>
#include <string.h>

#define REPLACEMENT_CHAR "\xEF\xBF\xBD" /* U+FFFD */

void mx_put_md(FILE *f, const char *s) {
    assert(f != NULL);
    assert(s != NULL);
    for (; *s; s++) {
        if (*s == '\n' || *s == '\r' || *s == '\t') fputc(' ', f);
        else if (strchr("\\`*_[]<>|#!", *s) != NULL) fprintf(f, "\\%c", *s);
        else fputc(*s, f);
    }
}

void mx_put_md_code(FILE *f, const char *s) {
    assert(f != NULL);
    assert(s != NULL);
    for (; *s; s++) {
        /* A table splits on "|" even inside a code span unless escaped;
         * a backtick would end the span. */
        if (*s == '|') fputs("\\|", f);
        else if (*s == '`') fputc('\'', f);
        else if (*s == '\n' || *s == '\r') fputc(' ', f);
        else fputc(*s, f);
    }
}

void mx_put_xml(FILE *f, const char *s) {
    assert(f != NULL);
    assert(s != NULL);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
                fputs(REPLACEMENT_CHAR, f);
            else fputc(c, f);
        }
    }
}

void mx_put_csv(FILE *f, const char *s) {
    assert(f != NULL);
    assert(s != NULL);
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int mx_hex_run(const char *s) {
    int n = 0;
    while ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')) n++;
    return n;
}

/* A UUID (8-4-4-4-12 lowercase hex) starting at s, or 0. */
static int mx_uuid_len(const char *s) {
    static const int groups[] = {8, 4, 4, 4, 12};
    int at = 0;
    for (int g = 0; g < 5; g++) {
        if (g > 0 && s[at++] != '-') return 0;
        if (mx_hex_run(s + at) < groups[g]) return 0;
        at += groups[g];
    }
    return mx_hex_run(s + at - 12) == 12 ? at : 0;
}

void mx_plain_ids(const char *in, char *out, size_t cap) {
    assert(in != NULL && out != NULL && cap > 0);
    size_t o = 0;
    int prev_hex = 0;
    for (size_t i = 0; in[i] != '\0' && o + 1 < cap;) {
        int run = prev_hex ? 0 : mx_hex_run(in + i);
        int uuid = prev_hex ? 0 : mx_uuid_len(in + i);
        const char *name = NULL;
        size_t skip = 0;
        if (uuid > 0) name = "<file-id>", skip = (size_t)uuid;
        else if (run == 32) name = "<job-id>", skip = 32;
        if (name != NULL) {
            size_t len = strlen(name);
            if (o + len >= cap) break;
            memcpy(out + o, name, len);
            o += len;
            i += skip;
            prev_hex = 0;
            continue;
        }
        char ch = in[i++];
        prev_hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        out[o++] = ch;
    }
    out[o] = '\0';
}
