/* A libFuzzer harness for one entry point of fuzz/targets.h, chosen at build time with
 * WT_FUZZ_TARGET (fuzz/CMakeLists.txt builds one per target: fuzz_scenario, fuzz_trace, ...).
 * Refusals are fine; crashes, sanitizer reports, leaks and timeouts are bugs. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz/targets.h"

/* libFuzzer calls back with no user pointer: the scratch folder lives here for the process. */
static wt_fuzz_ctx fuzz_ctx;
static const wt_fuzz_target *fuzz_target;

static void fuzz_cleanup(void) { wt_fuzz_ctx_close(&fuzz_ctx); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  char err[512];
  /* The built-in default scenario (the set target) reads its trace from the data folder. */
  setenv("WINDTUNNEL_DATA", WT_FUZZ_DATA_DIR, 0);
  const char *seed = getenv("WT_FUZZ_SEED");
  fuzz_target = wt_fuzz_find(WT_FUZZ_TARGET);
  if (!fuzz_target ||
      wt_fuzz_ctx_open(&fuzz_ctx, seed ? seed : WT_FUZZ_SEED_TIMELINE, err, sizeof err) != 0) {
    fprintf(stderr, "fuzz_%s: %s\n", WT_FUZZ_TARGET, fuzz_target ? err : "unknown target");
    exit(2);
  }
  atexit(fuzz_cleanup);
  return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  char msg[1024];
  fuzz_target->fn(&fuzz_ctx, data, size, msg, sizeof msg);
  return 0;
}
