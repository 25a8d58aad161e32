/* The fuzzing corpus as a test (normal build, no fuzzer): feeds each input named in a manifest to
 * its entry point of fuzz/targets.h and checks the result and message. Manifest lines (# comments):
 *   TARGET <TAB> FILE <TAB> ok|refused <TAB> text the message must contain
 * FILE is relative to the manifest's folder; FILE*N repeats the file's last byte until the input is
 * N bytes long (a long line or a /dev/zero-like file without committing megabytes). Usage:
 * wt_fuzz_replay MANIFEST SEED_TIMELINE [TARGET FILE] (the last two: run one input and print its
 * message). Exit 0 when all hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/targets.h"
#include "io/timeline.h"

static unsigned char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 4096, n = 0, got;
  unsigned char *buf = malloc(cap);
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      unsigned char *grown = realloc(buf, cap * 2);
      if (!grown)
        free(buf);
      buf = grown;
      cap *= 2;
    }
  }
  fclose(f);
  *len = n;
  return buf;
}

static int run_one(const wt_fuzz_ctx *ctx, const char *target, char *path, char *msg,
                   size_t msg_len, int *rc) {
  const wt_fuzz_target *t = wt_fuzz_find(target);
  char *star = strrchr(path, '*');
  size_t want = 0;
  if (star) {
    *star = '\0';
    want = strtoull(star + 1, NULL, 10);
  }
  size_t len = 0;
  unsigned char *data = t ? read_all(path, &len) : NULL;
  if (data && len > 0 && want > len) {
    unsigned char *grown = realloc(data, want);
    if (!grown)
      free(data);
    else
      memset(grown + len, grown[len - 1], want - len);
    data = grown;
    len = want;
  }
  if (!data) {
    snprintf(msg, msg_len, "%s", t ? "cannot read the input" : "unknown target");
    return -1;
  }
  *rc = t->fn(ctx, data, len, msg, msg_len);
  free(data);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 5) {
    fprintf(stderr, "usage: wt_fuzz_replay MANIFEST SEED_TIMELINE [TARGET FILE]\n");
    return 2;
  }
  io_timeline_reader_only(); /* damaged timelines are read, none written */
  wt_fuzz_ctx ctx;
  char msg[2048];
  if (wt_fuzz_ctx_open(&ctx, argv[2], msg, sizeof msg) != 0) {
    fprintf(stderr, "wt_fuzz_replay: %s\n", msg);
    return 2;
  }
  int rc = 0;
  if (argc == 5) {
    int st = run_one(&ctx, argv[3], argv[4], msg, sizeof msg, &rc) != 0 ? 2 : 0;
    printf("%s: %s\n", rc == 0 && st == 0 ? "ok" : "refused", msg);
    wt_fuzz_ctx_close(&ctx);
    return st;
  }
  char folder[1024];
  FILE *m = wt_fuzz_manifest_open(argv[1], folder, sizeof folder, "wt_fuzz_replay");
  if (!m) {
    wt_fuzz_ctx_close(&ctx);
    return 2;
  }
  char line[4096];
  int cases = 0, failed = 0;
  for (long ln = 1; fgets(line, sizeof line, m); ln++) {
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0] || line[0] == '#')
      continue;
    char *target = strtok(line, "\t"), *file = strtok(NULL, "\t"), *want = strtok(NULL, "\t"),
         *text = strtok(NULL, "");
    if (!target || !file || !want || !text || (strcmp(want, "ok") && strcmp(want, "refused"))) {
      printf("FAIL %s:%ld: malformed manifest line\n", argv[1], ln);
      failed++;
      continue;
    }
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", folder, file);
    cases++;
    int got = 0;
    int bad = run_one(&ctx, target, path, msg, sizeof msg, &got) != 0;
    bad = bad || (strcmp(want, "ok") == 0) != (got == 0) || !strstr(msg, text);
    printf("%s %s %s: %s: %s\n", bad ? "FAIL" : "ok", target, file, got == 0 ? "ok" : "refused",
           msg);
    if (bad)
      printf("     expected %s with \"%s\"\n", want, text);
    failed += bad;
  }
  fclose(m);
  wt_fuzz_ctx_close(&ctx);
  printf("%d of %d corpus inputs as expected\n", cases - failed, cases);
  return failed || cases == 0 ? 1 : 0;
}
