/* Everything `windtunnel calibrate` evaluates, in its fixed order (calib_calibrate), and the files
 * of the data directory that none of it recognises. */
#define _POSIX_C_SOURCE 200809L
#include "calib/calibrate.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calib/eval.h"
#include "hw/hw.h"
#include "util/array.h"

int calib_calibrate(const char *data_dir, calib_rows *out, char *err, size_t err_len) {
  hw_catalog *cat = hw_catalog_create(err, err_len);
  if (!cat)
    return -1;
  int r = calib_eval_kernels(data_dir, cat, out, err, err_len);
  if (r == 0)
    r = calib_eval_llmservingsim(data_dir, cat, out, err, err_len);
  if (r == 0)
    r = calib_eval_splitwise(data_dir, cat, out, err, err_len);
  if (r == 0)
    r = calib_eval_argonne_power(data_dir, cat, out, err, err_len);
  hw_catalog_destroy(cat);
  if (r == 0)
    r = calib_eval_collectives(data_dir, out, err, err_len);
  return r;
}

/* ---- files nobody recognises ---- */

typedef struct file_list {
  char **path; /* relative to the data directory */
  size_t n, cap;
} file_list;

static int list_push(file_list *l, const char *path) {
  char **grown = util_grow(l->path, &l->cap, l->n + 1, sizeof *grown);
  if (!grown)
    return -1;
  l->path = grown;
  return (l->path[l->n] = strdup(path)) ? (l->n++, 0) : -1;
}

static int walk(const char *root, const char *rel, file_list *out, int depth) {
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

/* Documentation files and the directories' own provenance are not datasets. */
static bool is_documentation(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  return !strcmp(base, "SOURCE.md") || !strcmp(base, "README.md") || !strcmp(base, "LICENSE");
}

/* One line per unrecognised file, or per folder when a folder holds several. */
int calib_print_unrecognised(const char *data_dir, const calib_rows *rows, FILE *out) {
  file_list files = {0};
  if (walk(data_dir, "", &files, 0) != 0)
    return -1;
  if (files.n) /* an empty folder has no list (qsort(NULL, 0) is UB) */
    qsort(files.path, files.n, sizeof *files.path, cmp_str);
  size_t i = 0;
  while (i < files.n) {
    const char *slash = strrchr(files.path[i], '/');
    int dir_len = slash ? (int)(slash - files.path[i]) : 0;
    size_t j = i, unknown = 0, first_unknown = files.n;
    for (; j < files.n; j++) { /* the files of this folder (not of its sub-folders) */
      const char *s = strrchr(files.path[j], '/');
      if ((s ? (int)(s - files.path[j]) : 0) != dir_len ||
          strncmp(files.path[j], files.path[i], (size_t)dir_len) != 0)
        break;
      bool known = is_documentation(files.path[j]);
      for (size_t k = 0; k < rows->n && !known; k++)
        known = !strcmp(rows->row[k].dataset, files.path[j]);
      if (!known && unknown++ == 0)
        first_unknown = j;
    }
    if (unknown > 3)
      fprintf(out, "skipped: %.*s/ (%zu files) not datasets calibrate recognises\n", dir_len,
              files.path[i], unknown);
    else if (unknown)
      for (size_t k = first_unknown; k < j; k++) {
        bool known = is_documentation(files.path[k]);
        for (size_t q = 0; q < rows->n && !known; q++)
          known = !strcmp(rows->row[q].dataset, files.path[k]);
        if (!known)
          fprintf(out, "skipped: %s not a dataset calibrate recognises\n", files.path[k]);
      }
    i = j;
  }
  for (size_t k = 0; k < files.n; k++)
    free(files.path[k]);
  free(files.path);
  return 0;
}
