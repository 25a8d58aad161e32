/* Internal to hw/: a small CSV reader (RFC 4180 quoting, '#' comment lines, a header row) over a
 * file or an in-memory text, used for the embedded catalogues and the measured data. */
#ifndef UTIL_CSV_H
#define UTIL_CSV_H

#include <stddef.h>
#include <stdio.h>

#define UTIL_CSV_MAX_FIELDS 128
/* Longest line a file may have: the measured tables' longest are a few hundred bytes; a file past
 * this (a binary file, /dev/zero) is refused at that line instead of read whole. */
#define UTIL_CSV_MAX_LINE_BYTES (1 << 20)

typedef struct util_csv {
  char *buf; /* owned copy of the text; fields point into it */
  size_t len, pos;
  long line;      /* line number where the current record starts (1-based) */
  long next_line; /* line number of the next unread byte */
  int nfields;    /* fields in the current record */
  char *field[UTIL_CSV_MAX_FIELDS];
  int nheader;
  char *header[UTIL_CSV_MAX_FIELDS];
  char name[256]; /* for messages: the path, or what the text is */
} util_csv;

/* Open a text (copied) or a file; read its header. Return 0, or -1 with a message. */
int util_csv_open_text(util_csv *c, const char *text, size_t len, const char *name, char *err,
                       size_t err_len);
int util_csv_open_file(util_csv *c, const char *path, char *err, size_t err_len);
void util_csv_close(util_csv *c);

/* Next record: 1 when read, 0 at the end, -1 with a message (too many fields, a quoted field
 * that never ends). */
int util_csv_next(util_csv *c, char *err, size_t err_len);

/* Index of a header column, or -1. */
int util_csv_col(const util_csv *c, const char *name);

/* Indexes of the named columns into cols[0..n); -1 with "FILE: no column 'NAME'" when one lacks. */
int util_csv_need_cols(const util_csv *c, const char *const *names, int *cols, int n, char *err,
                       size_t err_len);

/* The field at column index col of the current record, "" when the record is shorter. */
const char *util_csv_get(const util_csv *c, int col);

/* Parse a number; an empty field gives `empty_value`. Return 0, or -1 with a message naming the
 * file, line and column. */
int util_csv_double(const util_csv *c, int col, double empty_value, double *out, char *err,
                    size_t err_len);

/* Writing a file whole or not at all: util_csv_create opens path + ".tmp" (its name in tmp, at
 * least UTIL_CSV_TMP_BYTES), util_csv_commit closes it and renames it over path, or removes it on
 * error. Both return NULL / -1 with a message naming the file. */
#define UTIL_CSV_TMP_BYTES 4200
FILE *util_csv_create(const char *path, char tmp[UTIL_CSV_TMP_BYTES], char *err, size_t err_len);
int util_csv_commit(FILE *f, const char *tmp, const char *path, char *err, size_t err_len);

#endif
