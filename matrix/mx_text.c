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
