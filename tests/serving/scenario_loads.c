/* The scenario loader tests' shared helpers (scenario_loads.h). */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "scenario_loads.h"

char tmp_dir[64];

int scenario_suite_init(void) {
  snprintf(tmp_dir, sizeof tmp_dir, "/tmp/wt-scenario-XXXXXX");
  return mkdtemp(tmp_dir) ? 0 : -1;
}

int scenario_suite_cleanup(void) {
  static const char *const files[] = {"scenario.yaml", "trace.csv", NULL};
  char path[128];
  for (const char *const *f = files; *f; f++) {
    snprintf(path, sizeof path, "%s/%s", tmp_dir, *f);
    unlink(path);
  }
  return rmdir(tmp_dir);
}

void write_file(const char *name, const char *text, char *path, size_t path_len) {
  snprintf(path, path_len, "%s/%s", tmp_dir, name);
  FILE *f = fopen(path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs(text, f);
  fclose(f);
}

int load_text(const char *text, const char *const *sets, size_t set_count, srv_scenario **s,
              char *path, char *err, size_t err_len) {
  char own_path[128];
  if (!path)
    path = own_path;
  write_file("scenario.yaml", text, path, 128);
  err[0] = '\0';
  return srv_scenario_load(path, sets, set_count, s, err, err_len);
}

srv_scenario *load_ok(const char *path, const char *const *sets, size_t set_count) {
  srv_scenario *s = NULL;
  char err[1024] = "";
  int rc = srv_scenario_load(path, sets, set_count, &s, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\nload of %s failed: %s\n", path ? path : "the default", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  return s;
}

void assert_error(int rc, const srv_scenario *s, const char *err, const char *want) {
  if (rc == 0 || strcmp(err, want) != 0)
    fprintf(stderr, "\nrc %d, message\n  '%s'\nwanted\n  '%s'\n", rc, err, want);
  CU_ASSERT(rc < 0);
  CU_ASSERT_PTR_NULL(s);
  CU_ASSERT_STRING_EQUAL(err, want);
}

void assert_error_has(int rc, const srv_scenario *s, const char *err, const char *prefix,
                      const char *part) {
  bool ok = rc < 0 && strncmp(err, prefix, strlen(prefix)) == 0 && (!part || strstr(err, part));
  if (!ok)
    fprintf(stderr,
            "\nrc %d, message\n  '%s'\nwanted one starting\n  '%s'\nand containing\n  '%s'\n", rc,
            err, prefix, part ? part : "");
  CU_ASSERT(ok);
  CU_ASSERT_PTR_NULL(s);
}

bool readable(const char *path) {
  FILE *f = fopen(path, "r");
  if (f)
    fclose(f);
  return f != NULL;
}
