/* Internal to calib/: the command line the two fit tools share (wt_hw_fit, wt_net_fit):
 * [--check] [DATA_DIR [OUT_CSV]], -h or --help. */
#ifndef CALIB_TOOL_H
#define CALIB_TOOL_H

#include <stdbool.h>

typedef struct calib_tool_args {
  const char *data_dir, *out_path; /* the defaults on entry; argv's strings after */
  bool check;
} calib_tool_args;

/* Parse argv into args. name prefixes the messages; usage is printed for --help. Returns 0 to run,
 * 1 after printing usage, 2 after a message on stderr (unknown option, too many arguments). */
int calib_tool_parse(int argc, char **argv, const char *name, const char *usage,
                     calib_tool_args *args);

#endif
