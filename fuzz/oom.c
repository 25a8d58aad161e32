/* Allocation-failure injection (as SQLite and Lua test theirs): for each input that a reader
 * accepts in the corpus manifest, fails the program's 1st, 2nd, ... allocation in turn and checks
 * that the reader either gives a clean error (a negative result with a message) or still succeeds,
 * and never crashes. The program's own calls to malloc, calloc and realloc (those of the project's
 * static libraries and fuzz/targets.c; not those inside libyaml, HDF5 or libc) are routed here by
 * the linker (-Wl,--wrap). Each try runs in a child process so that a crash is seen, not suffered.
 * Usage: wt_fuzz_oom MANIFEST SEED_TIMELINE [TARGET]. Exit 0 when every failure is clean. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz/targets.h"

/* The injection's state: a test program's, one per process (each try is a fresh child). */
static long oom_count;   /* allocations so far while counting */
static long oom_fail_at; /* the allocation to fail (1-based); 0: none */
static bool oom_counting;

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);

static bool oom_fail(void) {
  if (!oom_counting)
    return false;
  return ++oom_count == oom_fail_at;
}
void *__wrap_malloc(size_t n) { return oom_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t k, size_t n) { return oom_fail() ? NULL : __real_calloc(k, n); }
void *__wrap_realloc(void *p, size_t n) { return oom_fail() ? NULL : __real_realloc(p, n); }

static unsigned char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
  *len = buf && n > 0 ? fread(buf, 1, (size_t)n, f) : 0;
  fclose(f);
  return buf;
}

/* Runs t on data with allocation fail_at failing (0: none); returns the allocations made. */
static long run(const wt_fuzz_ctx *ctx, const wt_fuzz_target *t, const unsigned char *data,
                size_t len, long fail_at, int *rc, char *msg, size_t msg_len) {
  oom_count = 0;
  oom_fail_at = fail_at;
  oom_counting = true;
  *rc = t->fn(ctx, data, len, msg, msg_len);
  oom_counting = false;
  return oom_count;
}

/* Fails each allocation of one input in turn; returns the number of unclean outcomes. */
static int inject(const wt_fuzz_ctx *ctx, const wt_fuzz_target *t, const char *path) {
  size_t len;
  unsigned char *data = read_all(path, &len);
  if (!data) {
    printf("FAIL %s: cannot read\n", path);
    return 1;
  }
  char msg[1024];
  int rc;
  long total = run(ctx, t, data, len, 0, &rc, msg, sizeof msg);
  int bad = 0, refused = 0, succeeded = 0;
  for (long k = 1; k <= total; k++) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      run(ctx, t, data, len, k, &rc, msg, sizeof msg);
      /* 0: succeeded anyway; 1: a clean error; 2: an error without a message */
      _exit(rc == 0 ? 0 : msg[0] ? 1 : 2);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid) {
      printf("FAIL %s: cannot fork\n", path);
      bad++;
      break;
    }
    if (WIFSIGNALED(st) || !WIFEXITED(st) || WEXITSTATUS(st) > 1) {
      printf("FAIL %s %s: allocation %ld of %ld failed: %s\n", t->name, path, k, total,
             WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "an error without a message");
      bad++;
    } else if (WEXITSTATUS(st) == 1) {
      refused++;
    } else {
      succeeded++;
    }
  }
  printf(
      "%s %s %s: %ld allocations, each failed in turn: %d clean errors, %d still succeeded, "
      "%d unclean\n",
      bad ? "FAIL" : "ok", t->name, path, total, refused, succeeded, bad);
  free(data);
  return bad;
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: wt_fuzz_oom MANIFEST SEED_TIMELINE [TARGET]\n");
    return 2;
  }
  wt_fuzz_ctx ctx;
  char msg[1024];
  if (wt_fuzz_ctx_open(&ctx, argv[2], msg, sizeof msg) != 0) {
    fprintf(stderr, "wt_fuzz_oom: %s\n", msg);
    return 2;
  }
  char folder[1024];
  FILE *m = wt_fuzz_manifest_open(argv[1], folder, sizeof folder, "wt_fuzz_oom");
  if (!m) {
    wt_fuzz_ctx_close(&ctx);
    return 2;
  }
  char line[4096];
  int inputs = 0, bad = 0;
  while (fgets(line, sizeof line, m)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0] || line[0] == '#')
      continue;
    char *target = strtok(line, "\t"), *file = strtok(NULL, "\t"), *want = strtok(NULL, "\t");
    const wt_fuzz_target *t = target ? wt_fuzz_find(target) : NULL;
    /* Accepted inputs go furthest; generated (FILE*N) ones are refused early anyway. */
    if (!t || !file || !want || strcmp(want, "ok") || strchr(file, '*') ||
        (argc == 4 && strcmp(argv[3], target)))
      continue;
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", folder, file);
    inputs++;
    bad += inject(&ctx, t, path);
  }
  fclose(m);
  wt_fuzz_ctx_close(&ctx);
  printf("%d inputs, %d unclean allocation failures\n", inputs, bad);
  return bad || inputs == 0 ? 1 : 0;
}
