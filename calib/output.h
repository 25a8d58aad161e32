/* Internal to calib/: the fitted parameter files a fit writes, whole or not at all (util_csv_create
 * and util_csv_commit): an output that cannot be written fails before the fit runs, and the files
 * written beside efficiency.csv are named from its path. */
#ifndef CALIB_OUTPUT_H
#define CALIB_OUTPUT_H

#include <stddef.h>

/* 0 when path can be written (tried, then removed), or -1 with a message naming it. */
int calib_output_writable(const char *path, char *err, size_t err_len);

/* The path of the file `name` in the folder of `path` (the current folder when path has no
 * slash), into out. */
void calib_output_beside(const char *path, const char *name, char *out, size_t out_len);

#endif
