/* mx_text: escaping of database strings for each output format. Every
 * string that came from the database goes through one of these. */
#ifndef MX_TEXT_H
#define MX_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Markdown table cell: backslash-escapes punctuation that would format or
 * split the cell, newlines become spaces. */
void mx_put_md(FILE *f, const char *s);
/* Inside a Markdown code span in a table: only "|" and "`" are defused. */
void mx_put_md_code(FILE *f, const char *s);
/* HTML/XML text and attribute values: & < > " ' escaped; control
 * characters XML 1.0 forbids become U+FFFD. */
void mx_put_xml(FILE *f, const char *s);
/* One RFC 4180 field: quoted (quotes doubled) when it holds , " CR or LF. */
void mx_put_csv(FILE *f, const char *s);

/* A reason for a person to read: each 32-hex id (Flink's job and
 * checkpoint ids) becomes "<job-id>" and each UUID "<file-id>", so the
 * reports show the same words on every run; out is always terminated. */
void mx_plain_ids(const char *in, char *out, size_t cap);

#endif
