/* Replaying one measured run: its setup as a scenario file and its requests as a trace
 * (LLMServingSim layout) in a scratch folder, the simulation through srv_run (what `windtunnel
 * run` does), and the measured figures predicted from the timeline's /requests rows. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib/validate_case.h"
#include "serving/report.h"
#include "serving/schema.h"
#include "serving/serving.h"
#include "util/stats.h"

/* The figures a case can name, from the completed requests. Latencies per request: TTFT = first
 * token - arrival, E2E = done - arrival, TPOT = (done - first token) / (output - 1) over requests
 * with more than one output token (bench_serving's and vLLM's definition); the ITL mean weighs
 * each request's decode time by its tokens (sum of decode times / sum of decoded tokens, as vLLM
 * 0.6's per-token histogram and bench_serving's mean ITL do). The simulator keeps no per-token
 * times, so itl_p50 is the median per-request TPOT: with steady batches the two agree; with
 * multi-step scheduling or stalls behind long prefills the measured median is not comparable.
 * Throughputs are over the run's span, first arrival to last completion (bench_serving's
 * duration); batch_latency is that span when every request arrives at 0, and batch_ttft the same
 * span for a batch of one output token each (when its last first token came). */
typedef struct predicted {
  double ttft_ms[4]; /* mean, p50, p90, p99 */
  double tpot_ms[2]; /* mean, p50 */
  double itl_mean_ms;
  double e2e_ms[2]; /* mean, p50 */
  double output_tok_s, total_tok_s, req_s, span_s;
} predicted;

static double mean_of(const double *x, size_t n) {
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += x[i];
  return n ? sum / (double)n : NAN;
}

static int compute(const srv_request_row *rows, uint64_t n, predicted *p) {
  double *ttft = malloc((n + 1) * sizeof *ttft), *tpot = malloc((n + 1) * sizeof *tpot);
  double *e2e = malloc((n + 1) * sizeof *e2e);
  if (!ttft || !tpot || !e2e) {
    free(ttft), free(tpot), free(e2e);
    return -1;
  }
  size_t done = 0, decoding = 0;
  int64_t first_ns = INT64_MAX, last_ns = 0;
  double out_tokens = 0, in_tokens = 0, decode_ms = 0, decoded = 0;
  for (uint64_t i = 0; i < n; i++) {
    const srv_request_row *r = &rows[i];
    if (r->arrival_ns < first_ns)
      first_ns = r->arrival_ns;
    if (r->fate != SRV_FATE_COMPLETED)
      continue;
    ttft[done] = (double)(r->first_token_ns - r->arrival_ns) / 1e6;
    e2e[done] = (double)(r->done_ns - r->arrival_ns) / 1e6;
    done++;
    if (r->done_ns > last_ns)
      last_ns = r->done_ns;
    out_tokens += r->output_tokens;
    in_tokens += r->input_tokens;
    if (r->output_tokens > 1) {
      double ms = (double)(r->done_ns - r->first_token_ns) / 1e6;
      tpot[decoding++] = ms / (r->output_tokens - 1);
      decode_ms += ms;
      decoded += r->output_tokens - 1;
    }
  }
  p->ttft_ms[0] = mean_of(ttft, done);
  p->tpot_ms[0] = mean_of(tpot, decoding);
  p->e2e_ms[0] = mean_of(e2e, done);
  util_sort_doubles(ttft, done);
  util_sort_doubles(tpot, decoding);
  util_sort_doubles(e2e, done);
  static const double q[] = {0.5, 0.9, 0.99};
  for (int k = 0; k < 3; k++)
    p->ttft_ms[k + 1] = done ? util_quantile(ttft, done, q[k]) : NAN;
  p->tpot_ms[1] = decoding ? util_quantile(tpot, decoding, 0.5) : NAN;
  p->e2e_ms[1] = done ? util_quantile(e2e, done, 0.5) : NAN;
  p->itl_mean_ms = decoded > 0 ? decode_ms / decoded : NAN;
  p->span_s = done ? (double)(last_ns - first_ns) / 1e9 : NAN;
  p->output_tok_s = p->span_s > 0 ? out_tokens / p->span_s : NAN;
  p->total_tok_s = p->span_s > 0 ? (out_tokens + in_tokens) / p->span_s : NAN;
  p->req_s = p->span_s > 0 ? (double)done / p->span_s : NAN;
  free(ttft), free(tpot), free(e2e);
  return 0;
}

/* The predicted value of the metric called name, or NAN for a name validate does not know. */
static double lookup(const predicted *p, const char *name) {
  static const struct {
    const char *name;
    size_t offset;
  } metrics[] = {
      {"ttft_mean_ms", offsetof(predicted, ttft_ms[0])},
      {"ttft_p50_ms", offsetof(predicted, ttft_ms[1])},
      {"ttft_p90_ms", offsetof(predicted, ttft_ms[2])},
      {"ttft_p99_ms", offsetof(predicted, ttft_ms[3])},
      {"tpot_mean_ms", offsetof(predicted, tpot_ms[0])},
      {"tpot_p50_ms", offsetof(predicted, tpot_ms[1])},
      {"itl_mean_ms", offsetof(predicted, itl_mean_ms)},
      {"itl_p50_ms", offsetof(predicted, tpot_ms[1])},
      {"e2e_mean_ms", offsetof(predicted, e2e_ms[0])},
      {"e2e_p50_ms", offsetof(predicted, e2e_ms[1])},
      {"output_tok_s", offsetof(predicted, output_tok_s)},
      {"total_tok_s", offsetof(predicted, total_tok_s)},
      {"req_s", offsetof(predicted, req_s)},
      {"batch_latency_s", offsetof(predicted, span_s)},
      {"batch_ttft_s", offsetof(predicted, span_s)}, /* a batch of one output token each */
  };
  for (size_t i = 0; i < sizeof metrics / sizeof *metrics; i++)
    if (!strcmp(metrics[i].name, name))
      return *(const double *)((const char *)p + metrics[i].offset);
  return NAN;
}

static int write_trace(const val_case *c, const char *path, char *err, size_t err_len) {
  FILE *f = fopen(path, "w");
  if (!f) {
    snprintf(err, err_len, "%s: cannot write", path);
    return -1;
  }
  fprintf(f, "arrival_time_ns,input_toks,output_toks\n");
  for (size_t i = 0; i < c->n_req; i++)
    fprintf(f, "%lld,%d,%d\n", (long long)c->req[i].arrival_ns, c->req[i].input_tokens,
            c->req[i].output_tokens);
  if (fclose(f) != 0) {
    snprintf(err, err_len, "%s: cannot write", path);
    return -1;
  }
  return 0;
}

/* The case's setup as a scenario: nodes of 8 accelerators (as many as the instances need), one
 * deployment of `count` instances behind a round-robin router (the measured runs split requests
 * evenly or by a random proxy), the trace, and a timeline of requests only. */
static int write_scenario(const val_case *c, const char *path, const char *trace, const char *h5,
                          char *err, size_t err_len) {
  FILE *f = fopen(path, "w");
  if (!f) {
    snprintf(err, err_len, "%s: cannot write", path);
    return -1;
  }
  uint32_t accels = c->tp * c->pp * c->count;
  fprintf(f,
          "cluster:\n  nodes:\n    - {name: node, accelerator: \"%s\", accelerators_per_node: 8, "
          "count: %u}\n",
          c->accel, (accels + 7) / 8);
  fprintf(f,
          "deployments:\n  - name: measured\n    model: \"%s\"\n    accelerator: \"%s\"\n"
          "    tp: %u\n    pp: %u\n    count: %u\n",
          c->model, c->accel, c->tp, c->pp, c->count);
  if (c->dtype[0])
    fprintf(f, "    dtype: %s\n", c->dtype);
  if (c->engine[0])
    fprintf(f, "    engine: %s\n", c->engine);
  if (c->gpu_memory_utilization > 0)
    fprintf(f, "    gpu_memory_utilization: %g\n", c->gpu_memory_utilization);
  if (c->moe_copies)
    fprintf(f, "    moe_routing: copies\n");
  fprintf(f, "    scheduler:\n      prefix_caching: false\n");
  if (c->max_num_seqs)
    fprintf(f, "      max_num_seqs: %u\n", c->max_num_seqs);
  if (c->max_num_batched_tokens)
    fprintf(f, "      max_num_batched_tokens: %u\n", c->max_num_batched_tokens);
  if (c->chunked_prefill >= 0)
    fprintf(f, "      chunked_prefill: %s\n", c->chunked_prefill ? "true" : "false");
  fprintf(f,
          "router: {policy: round_robin}\nworkload: {trace: \"%s\", format: llmservingsim}\n"
          "output: {path: \"%s\", compress: false, iterations: none}\n",
          trace, h5);
  if (fclose(f) != 0) {
    snprintf(err, err_len, "%s: cannot write", path);
    return -1;
  }
  return 0;
}

/* Per request (ids are the trace's row numbers): |predicted / measured - 1| of each latency the
 * data has, over the completed requests, into c->per_request_err. */
static int compare_requests(val_case *c, const srv_request_row *rows, uint64_t n) {
  double *abs_err = malloc((c->n_req + 1) * sizeof *abs_err);
  if (!abs_err)
    return -1;
  for (int k = 0; k < 3; k++) {
    size_t count = 0;
    for (uint64_t i = 0; i < n; i++) {
      const srv_request_row *r = &rows[i];
      if (r->fate != SRV_FATE_COMPLETED || r->id < 0 || (uint64_t)r->id >= c->n_req)
        continue;
      double measured = c->req[r->id].measured_ms[k], predicted;
      if (k == VAL_TTFT)
        predicted = (double)(r->first_token_ns - r->arrival_ns) / 1e6;
      else if (k == VAL_E2E)
        predicted = (double)(r->done_ns - r->arrival_ns) / 1e6;
      else
        predicted = r->output_tokens > 1
                        ? (double)(r->done_ns - r->first_token_ns) / 1e6 / (r->output_tokens - 1)
                        : NAN;
      if (measured > 0 && isfinite(predicted))
        abs_err[count++] = fabs(predicted / measured - 1.0);
    }
    val_per_request *out = &c->per_request_err[k];
    out->requests = count;
    util_error_percentiles(abs_err, count, &out->median_abs_err_pct, &out->p90_abs_err_pct);
  }
  free(abs_err);
  return 0;
}

/* Rank 0: the predicted figures from the timeline at h5. */
static int predict(val_case *c, const char *h5, char *err, size_t err_len) {
  io_timeline_reader *r = io_timeline_reader_open(h5, false, err, err_len);
  if (!r)
    return -1;
  void *rows = NULL;
  uint64_t n = 0;
  int rc = srv_report_read_table(r, &srv_requests_table, &rows, &n, err, err_len);
  io_timeline_reader_close(r);
  predicted p;
  if (rc == 0 &&
      (compute(rows, n, &p) != 0 || (c->per_request && compare_requests(c, rows, n) != 0))) {
    snprintf(err, err_len, "out of memory");
    rc = -1;
  }
  free(rows);
  for (int i = 0; rc == 0 && i < c->n_metric; i++)
    c->metric[i].predicted = lookup(&p, c->metric[i].name);
  return rc;
}

int val_case_run(val_case *c, const char *tmp_dir, MPI_Comm comm, char *err, size_t err_len) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  char trace[4200], yaml[4200], h5[4200];
  snprintf(trace, sizeof trace, "%s/trace.csv", tmp_dir);
  snprintf(yaml, sizeof yaml, "%s/scenario.yaml", tmp_dir);
  snprintf(h5, sizeof h5, "%s/timeline.h5", tmp_dir);
  int ok = 1;
  if (rank == 0)
    ok = write_trace(c, trace, err, err_len) == 0 &&
         (c->scenario || write_scenario(c, yaml, trace, h5, err, err_len) == 0);
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  if (!ok) {
    MPI_Bcast(err, (int)err_len, MPI_CHAR, 0, comm);
    return -1;
  }
  /* A user's scenario gets the trace and the timeline as overrides. */
  char set_trace[4300], set_format[64], set_out[4300], set_iter[64];
  snprintf(set_trace, sizeof set_trace, "workload.trace=%s", trace);
  snprintf(set_format, sizeof set_format, "workload.format=llmservingsim");
  snprintf(set_out, sizeof set_out, "output.path=%s", h5);
  snprintf(set_iter, sizeof set_iter, "output.iterations=none");
  const char *sets[] = {set_trace, set_format, set_out, set_iter};
  srv_scenario *s = NULL;
  char why[1024];
  int rc = c->scenario ? srv_scenario_load(c->scenario, sets, 4, &s, why, sizeof why)
                       : srv_scenario_load(yaml, NULL, 0, &s, why, sizeof why);
  if (rc != 0) { /* the same input on every rank: the same verdict */
    /* The scratch scenario's own path means nothing to the user: keep what was wrong. */
    const char *what = strstr(why, ": ");
    val_case_skip(c, "setup cannot be modelled: %s", c->scenario || !what ? why : what + 2);
    return 1;
  }
  srv_options opt = {.output_path = h5, .version = "validate"};
  srv_result res;
  rc = srv_run(s, &opt, comm, &res, why, sizeof why);
  srv_scenario_free(s);
  if (rc != 0) {
    if (rank == 0)
      remove(h5);
    /* A request whose KV cannot fit the instance is the model's verdict on the setup: listed. Any
     * other failure (the timeline cannot be written) stops validate. */
    if (!strstr(why, "cannot serve request")) {
      snprintf(err, err_len, "%s", why);
      return -1;
    }
    val_case_skip(c, "the simulation refused the setup: %s", why);
    return 1;
  }
  ok = rank != 0 || predict(c, h5, err, err_len) == 0;
  if (rank == 0) {
    remove(h5);
    remove(trace);
    if (!c->scenario)
      remove(yaml);
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  if (!ok) {
    MPI_Bcast(err, (int)err_len, MPI_CHAR, 0, comm);
    return -1;
  }
  return 0;
}
