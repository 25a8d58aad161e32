/* The fit tools' shared command line (calib/tool.h). */
#include "calib/tool.h"

#include <stdio.h>
#include <string.h>

int calib_tool_parse(int argc, char **argv, const char *name, const char *usage,
                     calib_tool_args *args) {
  int positional = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--check")) {
      args->check = true;
    } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      fputs(usage, stdout);
      return 1;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "%s: unknown option '%s' (try --help)\n", name, argv[i]);
      return 2;
    } else if (positional == 0) {
      args->data_dir = argv[i], positional++;
    } else if (positional == 1) {
      args->out_path = argv[i], positional++;
    } else {
      fprintf(stderr, "%s: too many arguments (try --help)\n", name);
      return 2;
    }
  }
  return 0;
}
