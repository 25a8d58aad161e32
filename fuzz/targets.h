/* The fuzzing entry points: each feeds bytes to one reader of the program (scenario loader, --set,
 * trace readers, CSV and calibrate readers, report on a damaged timeline) and returns that
 * reader's result with its one-line message. The libFuzzer harnesses (fuzz/harness.c) and the
 * corpus replay test (fuzz/replay.c, built with the normal build) call the same functions. */
#ifndef WT_FUZZ_TARGETS_H
#define WT_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A scratch folder for the files a target writes, and the valid timeline the report target damages
 * (NULL bytes when none was given). */
typedef struct wt_fuzz_ctx {
  char dir[512];
  unsigned char *seed;
  size_t seed_len;
} wt_fuzz_ctx;

/* Makes a fresh scratch folder under $TMPDIR (or /tmp) and reads the timeline at seed_path (NULL:
 * none). 0, or -1 with a message. */
int wt_fuzz_ctx_open(wt_fuzz_ctx *ctx, const char *seed_path, char *err, size_t err_len);
/* Removes the scratch folder's files and the folder. */
void wt_fuzz_ctx_close(wt_fuzz_ctx *ctx);

/* Opens the corpus manifest at path for reading and puts its folder (which the manifest's file
 * names are relative to) in folder. NULL, with a message on stderr naming `who`, when it cannot. */
FILE *wt_fuzz_manifest_open(const char *path, char *folder, size_t folder_len, const char *who);

/* A target: 0 when the reader accepted the input (msg then says what it read), negative when it
 * refused it (msg is its message). Any other outcome (a crash, a sanitizer report, a hang) is a
 * bug. */
typedef int (*wt_fuzz_fn)(const wt_fuzz_ctx *ctx, const uint8_t *data, size_t size, char *msg,
                          size_t msg_len);

typedef struct wt_fuzz_target {
  const char *name;
  wt_fuzz_fn fn;
  const char *input; /* what the bytes are, for --help and the README */
} wt_fuzz_target;

/* The targets, NULL-name terminated, and one by name (NULL when unknown). */
extern const wt_fuzz_target wt_fuzz_targets[];
const wt_fuzz_target *wt_fuzz_find(const char *name);

#endif
