/* Where windtunnel's data (the default scenario's trace, the examples) lies at run time: found
 * from the environment or from the executable's own place, never from a path fixed at build time,
 * so that an installed or moved binary still finds it. */
#ifndef UTIL_DATADIR_H
#define UTIL_DATADIR_H

#include <stddef.h>

/* The environment variable that names the data folder (the one holding examples/). */
#define UTIL_DATA_ENV "WINDTUNNEL_DATA"

/* Writes the data folder to out: $WINDTUNNEL_DATA if set; else the first of
 * <executable's folder>/../share/windtunnel (an installed binary, GNUInstallDirs' layout) and
 * <executable's folder>/share/windtunnel (the build tree) that holds the file probe (a path
 * relative to the data folder). Returns 0, or -1 with a message saying what was tried. */
int util_data_dir(const char *probe, char *out, size_t out_len, char *err, size_t err_len);

#endif
