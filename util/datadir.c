/* Finding the data folder at run time (util/datadir.h). */
#define _XOPEN_SOURCE 700 /* readlink, realpath */
#include "util/datadir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Folders tried next to the executable's, in order: installed, then the build tree. */
static const char *const relative_dirs[] = {"../share/windtunnel", "share/windtunnel"};

int util_data_dir(const char *probe, char *out, size_t out_len, char *err, size_t err_len) {
  const char *env = getenv(UTIL_DATA_ENV);
  if (env && *env) {
    if ((size_t)snprintf(out, out_len, "%s", env) >= out_len) {
      snprintf(err, err_len, "%s is longer than %zu characters", UTIL_DATA_ENV, out_len - 1);
      return -1;
    }
    return 0;
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    snprintf(err, err_len,
             "cannot find the data folder: /proc/self/exe is unreadable; set %s to the folder "
             "holding examples/ (PREFIX/share/windtunnel)",
             UTIL_DATA_ENV);
    return -1;
  }
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash)
    *slash = '\0';
  for (size_t i = 0; i < sizeof relative_dirs / sizeof *relative_dirs; i++) {
    char candidate[PATH_MAX + 64], file[2 * PATH_MAX];
    snprintf(candidate, sizeof candidate, "%s/%s", exe, relative_dirs[i]);
    snprintf(file, sizeof file, "%s/%s", candidate, probe);
    if (access(file, R_OK) == 0) {
      char *real = realpath(candidate, NULL);
      int too_long = (size_t)snprintf(out, out_len, "%s", real ? real : candidate) >= out_len;
      free(real);
      if (!too_long)
        return 0;
    }
  }
  snprintf(err, err_len,
           "cannot find the data folder (no %s/%s/%s nor %s/%s/%s); set %s to the folder holding "
           "examples/ (PREFIX/share/windtunnel)",
           exe, relative_dirs[0], probe, exe, relative_dirs[1], probe, UTIL_DATA_ENV);
  return -1;
}
