/* A small CSV reader: quoted fields with "" escapes, '#' comment lines, blank lines skipped.
 * Records are split in place inside an owned copy of the text. */
#define _POSIX_C_SOURCE 200809L
#include "util/csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int split_record(util_csv *c, char **fields, int *nfields, char *err, size_t err_len) {
  *nfields = 0;
  /* Skip comment lines and blank lines between records. */
  while (c->pos < c->len) {
    char ch = c->buf[c->pos];
    if (ch != '#' && ch != '\n' && ch != '\r')
      break;
    while (c->pos < c->len && c->buf[c->pos] != '\n')
      c->pos++;
    if (c->pos < c->len)
      c->pos++;
    c->next_line++;
  }
  if (c->pos >= c->len)
    return 0;
  long record_line = c->next_line;
  for (;;) {
    if (*nfields == UTIL_CSV_MAX_FIELDS) {
      snprintf(err, err_len, "%s:%ld: more than %d fields", c->name, record_line,
               UTIL_CSV_MAX_FIELDS);
      return -1;
    }
    char *out = c->buf + c->pos;
    fields[(*nfields)++] = out;
    if (c->pos < c->len && c->buf[c->pos] == '"') {
      c->pos++;
      for (;;) {
        if (c->pos >= c->len) { /* the rest of the file is no field (found with fuzz/) */
          snprintf(err, err_len, "%s:%ld: a quoted field that never ends (no closing '\"')",
                   c->name, record_line);
          return -1;
        }
        char ch = c->buf[c->pos++];
        if (ch == '"') {
          if (c->pos < c->len && c->buf[c->pos] == '"') {
            *out++ = '"';
            c->pos++;
            continue;
          }
          break;
        }
        if (ch == '\n')
          c->next_line++;
        *out++ = ch;
      }
      /* Anything between the closing quote and the separator is kept as is. */
      while (c->pos < c->len && c->buf[c->pos] != ',' && c->buf[c->pos] != '\n' &&
             c->buf[c->pos] != '\r')
        *out++ = c->buf[c->pos++];
    } else {
      while (c->pos < c->len && c->buf[c->pos] != ',' && c->buf[c->pos] != '\n' &&
             c->buf[c->pos] != '\r')
        out++, c->pos++;
    }
    char sep = c->pos < c->len ? c->buf[c->pos] : '\n';
    *out = '\0'; /* out <= buf + pos, so this never overwrites an unread byte */
    if (c->pos < c->len)
      c->pos++;
    if (sep == ',')
      continue;
    if (sep == '\r' && c->pos < c->len && c->buf[c->pos] == '\n')
      c->pos++;
    c->next_line++;
    break;
  }
  c->line = record_line;
  return 1;
}

static int open_common(util_csv *c, char *err, size_t err_len) {
  c->next_line = 1;
  int rc = split_record(c, c->header, &c->nheader, err, err_len);
  if (rc < 0) {
    util_csv_close(c);
    return -1;
  }
  if (rc == 0) {
    snprintf(err, err_len, "%s: no header row", c->name);
    util_csv_close(c);
    return -1;
  }
  return 0;
}

int util_csv_open_text(util_csv *c, const char *text, size_t len, const char *name, char *err,
                       size_t err_len) {
  memset(c, 0, sizeof *c);
  snprintf(c->name, sizeof c->name, "%s", name);
  c->buf = malloc(len + 1);
  if (!c->buf) {
    snprintf(err, err_len, "%s: out of memory", name);
    return -1;
  }
  memcpy(c->buf, text, len);
  c->buf[len] = '\0';
  c->len = len;
  return open_common(c, err, err_len);
}

int util_csv_open_file(util_csv *c, const char *path, char *err, size_t err_len) {
  memset(c, 0, sizeof *c);
  snprintf(c->name, sizeof c->name, "%s", path);
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, err_len, "%s: %s", path, strerror(errno));
    return -1;
  }
  size_t cap = 1 << 16, len = 0, line_start = 0;
  long line = 1;
  char *buf = malloc(cap);
  for (;;) {
    if (!buf) {
      fclose(f);
      snprintf(err, err_len, "%s: out of memory", path);
      return -1;
    }
    size_t scanned = len;
    len += fread(buf + len, 1, cap - len - 1, f);
    char *nl;
    while ((nl = memchr(buf + scanned, '\n', len - scanned)) != NULL &&
           (size_t)(nl - buf) - line_start <= UTIL_CSV_MAX_LINE_BYTES)
      scanned = line_start = (size_t)(nl - buf) + 1, line++;
    if ((nl ? (size_t)(nl - buf) : len) - line_start > UTIL_CSV_MAX_LINE_BYTES) {
      /* not a table (a binary file, /dev/zero): stop reading */
      free(buf);
      fclose(f);
      snprintf(err, err_len, "%s:%ld: a line longer than %d bytes: not a CSV table", path, line,
               UTIL_CSV_MAX_LINE_BYTES);
      return -1;
    }
    if (len < cap - 1)
      break;
    cap *= 2;
    char *grown = realloc(buf, cap);
    if (!grown)
      free(buf);
    buf = grown;
  }
  int read_error = ferror(f);
  fclose(f);
  if (read_error) {
    free(buf);
    snprintf(err, err_len, "%s: read error", path);
    return -1;
  }
  buf[len] = '\0';
  c->buf = buf;
  c->len = len;
  return open_common(c, err, err_len);
}

void util_csv_close(util_csv *c) {
  free(c->buf);
  c->buf = NULL;
  c->len = c->pos = 0;
  c->nfields = c->nheader = 0;
}

int util_csv_next(util_csv *c, char *err, size_t err_len) {
  return split_record(c, c->field, &c->nfields, err, err_len);
}

int util_csv_col(const util_csv *c, const char *name) {
  for (int i = 0; i < c->nheader; i++)
    if (strcmp(c->header[i], name) == 0)
      return i;
  return -1;
}

const char *util_csv_get(const util_csv *c, int col) {
  return col >= 0 && col < c->nfields ? c->field[col] : "";
}

int util_csv_double(const util_csv *c, int col, double empty_value, double *out, char *err,
                    size_t err_len) {
  const char *s = util_csv_get(c, col);
  while (*s == ' ')
    s++;
  if (*s == '\0') {
    *out = empty_value;
    return 0;
  }
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  while (*end == ' ')
    end++;
  if (*end != '\0' || errno == ERANGE || !isfinite(v)) {
    snprintf(err, err_len, "%s:%ld: column '%s': '%s' is not a number", c->name, c->line,
             col >= 0 && col < c->nheader ? c->header[col] : "?", util_csv_get(c, col));
    return -1;
  }
  *out = v;
  return 0;
}

FILE *util_csv_create(const char *path, char tmp[UTIL_CSV_TMP_BYTES], char *err, size_t err_len) {
  snprintf(tmp, UTIL_CSV_TMP_BYTES, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f)
    snprintf(err, err_len, "%.4000s: %s", tmp, strerror(errno));
  return f;
}

int util_csv_commit(FILE *f, const char *tmp, const char *path, char *err, size_t err_len) {
  if (fclose(f) != 0 || rename(tmp, path) != 0) {
    snprintf(err, err_len, "%.4000s: %s", path, strerror(errno));
    remove(tmp);
    return -1;
  }
  return 0;
}

int util_csv_need_cols(const util_csv *c, const char *const *names, int *cols, int n, char *err,
                       size_t err_len) {
  for (int i = 0; i < n; i++)
    if ((cols[i] = util_csv_col(c, names[i])) < 0) {
      snprintf(err, err_len, "%s: no column '%s'", c->name, names[i]);
      return -1;
    }
  return 0;
}
