/* What the scenario loader's unit tests share (test_scenario*.c): scenario text written to a
 * scratch folder and loaded, the checks of a refused load, and the small scenarios the tests edit.
 * Defined in scenario_loads.c. */
#ifndef TESTS_SERVING_SCENARIO_LOADS_H
#define TESTS_SERVING_SCENARIO_LOADS_H

#include <stdbool.h>
#include <stddef.h>

#include "serving/scenario.h"

#define CONV_TRACE WT_EXAMPLES_DIR "/traces/AzureLLMInferenceTrace_conv.csv"
#define CODE_TRACE WT_EXAMPLES_DIR "/traces/AzureLLMInferenceTrace_code.csv"
#define CONV_REQUESTS 19366 /* examples/traces/README.md */

/* The folder the tests write scenario files into, made by the suite's init. */
extern char tmp_dir[64];
int scenario_suite_init(void);
int scenario_suite_cleanup(void);

/* Writes text to name in the test folder; path receives its full path. */
void write_file(const char *name, const char *text, char *path, size_t path_len);

/* Loads text as the file scenario.yaml with sets; returns the loader's code. path receives the
 * file's path (for expected messages), err the message. */
int load_text(const char *text, const char *const *sets, size_t set_count, srv_scenario **s,
              char *path, char *err, size_t err_len);

/* Loads path (NULL: the built-in default) with sets, failing the test unless it loads. */
srv_scenario *load_ok(const char *path, const char *const *sets, size_t set_count);

/* Checks that a load failed with exactly the message want. */
void assert_error(int rc, const srv_scenario *s, const char *err, const char *want);

/* Checks that a load failed with a message that starts with prefix and contains part. */
void assert_error_has(int rc, const srv_scenario *s, const char *err, const char *prefix,
                      const char *part);

bool readable(const char *path);

/* A small valid scenario: the lines are counted in the tests that edit it. */
#define MINIMAL_DEPLOYMENTS                                                                        \
  "deployments:\n"                   /* 1 */                                                       \
  "  - model: Llama-3.1-8B\n"        /* 2 */                                                       \
  "    accelerator: H100-SXM-80GB\n" /* 3 */                                                       \
  "    count: 2\n"                   /* 4 */
#define CONV_WORKLOAD                                                                              \
  "workload:\n"                   /* 5 */                                                          \
  "  trace: \"" CONV_TRACE "\"\n" /* 6 */

#endif
