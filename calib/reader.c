/* Reading measured tables record by record (calib/reader.h). */
#define _POSIX_C_SOURCE 200809L
#include "calib/reader.h"

#include <assert.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/array.h"

int calib_reader_open(const calib_reader *rc, util_csv *c, const char *rel) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", rc->data_dir, rel);
  return util_csv_open_file(c, path, rc->err, rc->err_len);
}

int calib_reader_nums(const calib_reader *rc, const util_csv *c, const int *cols, double *v,
                      int n) {
  for (int i = 0; i < n; i++)
    if (util_csv_double(c, cols[i], NAN, &v[i], rc->err, rc->err_len) != 0)
      return -1;
  return 0;
}

int calib_reader_dims(const calib_reader *rc, const util_csv *c, const int *cols, double *v,
                      int n) {
  if (calib_reader_nums(rc, c, cols, v, n) != 0)
    return -1;
  for (int i = 0; i < n; i++)
    if (!(v[i] > 0) || !isfinite(v[i])) {
      snprintf(rc->err, rc->err_len, "%s:%ld: column '%s': '%s' is not a size above 0", c->name,
               c->line, cols[i] >= 0 && cols[i] < c->nheader ? c->header[cols[i]] : "?",
               util_csv_get(c, cols[i]));
      return -1;
    }
  return 0;
}

int calib_reader_each(const calib_reader *rc, util_csv *c, const char *const *need, int nneed,
                      const char *const *opt, int nopt, calib_record_fn each, void *ctx) {
  assert(nneed >= 0 && nopt >= 0 && nneed + nopt <= CALIB_READER_MAX_COLS);
  int cols[CALIB_READER_MAX_COLS], r = -1;
  if (util_csv_need_cols(c, need, cols, nneed, rc->err, rc->err_len) == 0) {
    for (int i = 0; i < nopt; i++)
      cols[nneed + i] = util_csv_col(c, opt[i]);
    while ((r = util_csv_next(c, rc->err, rc->err_len)) == 1)
      if (each(rc, c, cols, ctx) != 0) {
        r = -1;
        break;
      }
  }
  util_csv_close(c);
  return r < 0 ? -1 : 0;
}

static int list_push(calib_files *l, const char *path) {
  char **grown = util_grow(l->path, &l->cap, l->n + 1, sizeof *grown);
  if (!grown)
    return -1;
  l->path = grown;
  return (l->path[l->n] = strdup(path)) ? (l->n++, 0) : -1;
}

static int walk(const char *root, const char *rel, calib_files *out, int depth) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
  DIR *d = opendir(dir);
  if (!d || depth > 16)
    return d ? (closedir(d), 0) : 0;
  struct dirent *e;
  int r = 0;
  while (r == 0 && (e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char sub[4096], full[8192];
    snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
    snprintf(full, sizeof full, "%s/%s", root, sub);
    struct stat st;
    if (stat(full, &st) != 0)
      continue;
    r = S_ISDIR(st.st_mode) ? walk(root, sub, out, depth + 1) : list_push(out, sub);
  }
  closedir(d);
  return r;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int calib_reader_list(const char *root, calib_files *out) {
  if (walk(root, "", out, 0) != 0)
    return -1;
  if (out->n) /* an empty folder has no list (qsort(NULL, 0) is UB) */
    qsort(out->path, out->n, sizeof *out->path, cmp_str);
  return 0;
}

void calib_files_free(calib_files *files) {
  for (size_t k = 0; k < files->n; k++)
    free(files->path[k]);
  free(files->path);
  memset(files, 0, sizeof *files);
}

calib_lss_layer_cols calib_lss_layer_columns(const util_csv *c) {
  calib_lss_layer_cols k = {.v0 = util_csv_col(c, "layer_name") >= 0};
  k.layer = util_csv_col(c, k.v0 ? "layer_name" : "layer");
  k.n = util_csv_col(c, k.v0 ? "input" : "tokens");
  if (k.n < 0)
    k.n = util_csv_col(c, "sequences");
  k.t = util_csv_col(c, k.v0 ? "latency(ns)" : "time_us");
  k.unit_ns = k.v0 ? 1.0 : 1e3;
  return k;
}
