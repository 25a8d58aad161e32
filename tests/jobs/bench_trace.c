/* Benchmark of the request sources (not a test): reads a trace (default: the committed Azure 2023
 * conversation hour) and generates a synthetic workload, printing one JSON line each with rows/s.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "jobs/trace.h"
#include "jobs/workload.h"

enum { REPEATS = 20, SYNTH_REQUESTS = 2000000 };

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct totals {
  long long rows, first_ns, last_ns, input_tokens, output_tokens, hash_ids, bad_rows;
} totals;

/* Drains src into t; returns 0 or the failing code (message printed). */
static int drain(job_source *src, totals *t) {
  char err[512];
  job_request r;
  int rc;
  *t = (totals){0};
  while ((rc = job_source_next(src, &r, err, sizeof err)) == 1) {
    if (t->rows++ == 0)
      t->first_ns = r.arrival_ns;
    t->last_ns = r.arrival_ns;
    t->input_tokens += r.input_tokens;
    t->output_tokens += r.output_tokens;
    t->hash_ids += r.prefix_hash_count;
  }
  t->bad_rows = job_source_bad_rows(src);
  job_source_close(src);
  if (rc < 0)
    fprintf(stderr, "bench_trace: %s\n", err);
  return rc;
}

static void print(const char *what, const char *path, const char *format, const totals *t,
                  double best_s) {
  printf(
      "{\"bench\":\"%s\",\"path\":\"%s\",\"format\":\"%s\",\"rows\":%lld,\"first_ns\":%lld,"
      "\"last_ns\":%lld,\"input_tokens\":%lld,\"output_tokens\":%lld,\"hash_ids\":%lld,"
      "\"bad_rows\":%lld,\"best_s\":%.6f,\"rows_per_s\":%.0f}\n",
      what, path, format, t->rows, t->first_ns, t->last_ns, t->input_tokens, t->output_tokens,
      t->hash_ids, t->bad_rows, best_s, (double)t->rows / best_s);
}

/* bench_trace [TRACE [FORMAT]]: FORMAT as job_trace_format_parse takes it, default auto. */
int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1]
                              : WT_SOURCE_DIR "/examples/traces/AzureLLMInferenceTrace_conv.csv";
  job_trace_format format = JOB_TRACE_AUTO;
  if (argc > 2 && job_trace_format_parse(argv[2], &format) != 0) {
    fprintf(stderr, "bench_trace: unknown format '%s'\n", argv[2]);
    return 2;
  }
  char err[512];
  totals t;
  double best_s = 1e30;
  job_source_opts skip = {.skip_bad_rows = true};
  job_trace_format detected = JOB_TRACE_AUTO;
  for (int i = 0; i < REPEATS; i++) {
    job_source *src;
    double start = now_s();
    if (job_source_open_trace(&src, path, format, &skip, err, sizeof err) != 0) {
      fprintf(stderr, "bench_trace: %s\n", err);
      return 1;
    }
    detected = job_source_format(src);
    if (drain(src, &t) != 0)
      return 1;
    double took = now_s() - start;
    best_s = took < best_s ? took : best_s;
  }
  print("trace_read", path, job_trace_format_name(detected), &t, best_s);

  job_rate_point rate = {0, 1000};
  job_synth_spec spec = {
      .arrival = JOB_ARRIVAL_GAMMA,
      .cv = 2,
      .rate_curve = &rate,
      .rate_points = 1,
      .input = {.kind = JOB_LENGTH_LOGNORMAL, .median_tokens = 1000, .sigma = 1},
      .output = {.kind = JOB_LENGTH_UNIFORM, .min_tokens = 1, .max_tokens = 1000},
      .seed = 1,
      .stream_id = JOB_SYNTH_STREAM_DEFAULT};
  job_source_opts cap = {.max_requests = SYNTH_REQUESTS};
  job_source *src;
  if (job_source_open_synthetic(&src, &spec, &cap, err, sizeof err) != 0) {
    fprintf(stderr, "bench_trace: %s\n", err);
    return 1;
  }
  double start = now_s();
  if (drain(src, &t) != 0)
    return 1;
  print("synthetic_gamma_lognormal", "-", "synthetic", &t, now_s() - start);
  return 0;
}
