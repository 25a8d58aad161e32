/* Everything `windtunnel calibrate` evaluates, in its fixed order (calib_calibrate), and the files
 * of the data directory that none of it recognises. */
#define _POSIX_C_SOURCE 200809L
#include "calib/calibrate.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "calib/device.h"
#include "calib/eval.h"
#include "calib/reader.h"
#include "hw/hw.h"

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

/* Documentation files and the directories' own provenance are not datasets. */
static bool is_documentation(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  return !strcmp(base, "SOURCE.md") || !strcmp(base, "README.md") || !strcmp(base, "LICENSE");
}

/* One line per unrecognised file, or per folder when a folder holds several. */
int calib_print_unrecognised(const char *data_dir, const calib_rows *rows, FILE *out) {
  calib_files files = {0};
  if (calib_reader_list(data_dir, &files) != 0)
    return -1;
  char err[256];
  hw_catalog *cat = hw_catalog_create(err, sizeof err); /* NULL: the lines say no more */
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
        char why[600] = "";
        if (!known && cat)
          calib_device_describe(cat, data_dir, files.path[k], why, sizeof why);
        if (!known)
          fprintf(out, "skipped: %s not a dataset calibrate recognises%s%s\n", files.path[k],
                  why[0] ? ": " : "", why);
      }
    i = j;
  }
  calib_files_free(&files);
  if (cat)
    hw_catalog_destroy(cat);
  return 0;
}
