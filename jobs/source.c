/* The job_source every workload reads through: a backend's rows (a trace reader of jobs/trace.c,
 * the synthetic generator of jobs/workload.c) under the window, rate scale, offset, request cap
 * and bad-row policy, model names interned, and several sources merged into one stream in time
 * order. */
#define _POSIX_C_SOURCE 200809L
#include "trace.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "workload_source.h"

/* ---- The source: window, scale, offset, cap and the bad-row policy over any backend --------- */

struct job_source {
  const job_source_backend *backend;
  void *impl;
  job_trace_format format;
  job_source_opts opts;
  int64_t emitted, bad_rows, dropped;
  int failed; /* the negative code of the error that stopped it */
  bool ended;
  bool prefix_hashes; /* its requests come with prefix block hashes */
  char first_bad[MESSAGE_BYTES];
  char error[MESSAGE_BYTES];
  char **model_names; /* [models]: number m is model_names[m - 1] */
  uint32_t models, model_cap;
};

/* The number of model name (n bytes), added if new; 0 out of memory or past the limit. */
static uint32_t intern_model(job_source *src, const char *name, size_t n) {
  for (uint32_t m = 0; m < src->models; m++)
    if (strlen(src->model_names[m]) == n && memcmp(src->model_names[m], name, n) == 0)
      return m + 1;
  if (src->models == JOB_MAX_MODELS)
    return 0;
  if (src->models == src->model_cap) {
    uint32_t cap = src->model_cap ? 2 * src->model_cap : 8;
    char **grown = realloc(src->model_names, cap * sizeof *grown);
    if (!grown)
      return 0;
    src->model_names = grown, src->model_cap = cap;
  }
  if (!(src->model_names[src->models] = strndup(name, n)))
    return 0;
  return ++src->models;
}

int job_source_wrap(job_source **out, const job_source_backend *backend, void *impl,
                    job_trace_format format, const job_source_opts *opts, char *err,
                    size_t err_len) {
  *out = NULL;
  job_source_opts o = opts ? *opts : (job_source_opts){0};
  if (o.rate_scale == 0)
    o.rate_scale = 1;
  const char *why = NULL;
  if (o.offset_ns < 0)
    why = "offset must not be negative";
  else if (!(o.rate_scale > 0) || !isfinite(o.rate_scale))
    why = "rate scale must be a positive number";
  else if (o.from_ns < 0 || (o.to_ns != 0 && o.to_ns <= o.from_ns))
    why = "window must satisfy 0 <= from < to (to = 0: no end)";
  else if (o.max_requests < 0)
    why = "request cap must not be negative";
  else if (o.defaults.tier > JOB_TIER_BATCH)
    why = "unknown tier";
  else if (o.defaults.deadline_ns < 0 ||
           (o.defaults.deadline_ns > 0 && o.defaults.tier != JOB_TIER_BATCH))
    why = "a deadline must be above 0 and applies to batch requests only";
  job_source *src = why ? NULL : calloc(1, sizeof *src);
  if (!src) {
    backend->close(impl);
    util_err(err, err_len, "workload options: %s", why ? why : "out of memory");
    return why ? JOB_SOURCE_EINVAL : JOB_SOURCE_ENOMEM;
  }
  src->backend = backend, src->impl = impl, src->format = format, src->opts = o;
  src->opts.model_name = NULL; /* borrowed: interned now as number 1 */
  src->opts.defaults.model = 0;
  if (o.model_name && o.model_name[0] &&
      (src->opts.defaults.model = intern_model(src, o.model_name, strlen(o.model_name))) == 0) {
    job_source_close(src);
    util_err(err, err_len, "workload options: out of memory");
    return JOB_SOURCE_ENOMEM;
  }
  *out = src;
  return 0;
}

static int source_fail(job_source *src, int code, const char *message, char *err, size_t err_len) {
  src->failed = code;
  snprintf(src->error, sizeof src->error, "%s", message);
  util_err(err, err_len, "%s", src->error);
  return code;
}

int job_source_next(job_source *src, job_request *req, char *err, size_t err_len) {
  if (src->failed) {
    util_err(err, err_len, "%s", src->error);
    return src->failed;
  }
  const job_source_opts *o = &src->opts;
  if (src->ended || (o->max_requests && src->emitted >= o->max_requests))
    return 0;
  for (;;) {
    job_raw_request raw = {.attrs = o->defaults};
    char message[MESSAGE_BYTES];
    message[0] = '\0';
    int rc = src->backend->next(src->impl, &raw, message, sizeof message);
    if (rc == JOB_ROW_BAD && o->skip_bad_rows) {
      if (src->bad_rows++ == 0)
        snprintf(src->first_bad, sizeof src->first_bad, "%s", message);
      continue;
    }
    if (rc == JOB_ROW_BAD)
      rc = JOB_SOURCE_EFORMAT;
    if (rc < 0)
      return source_fail(src, rc, message, err, err_len);
    if (rc == 0 || (o->to_ns && raw.time_ns >= o->to_ns)) { /* sources are in time order */
      src->ended = true;
      return 0;
    }
    assert(raw.time_ns >= 0);
    if (raw.time_ns < o->from_ns)
      continue;
    int64_t since_ns = raw.time_ns - o->from_ns, arrival_ns = since_ns;
    if (o->rate_scale != 1) {
      double scaled = (double)since_ns / o->rate_scale; /* exact below 2^53 ns (104 days) */
      arrival_ns = scaled < 0x1p62 ? llround(scaled) : JOB_ARRIVAL_END_NS;
    }
    if (o->offline)
      arrival_ns = 0;
    if (arrival_ns >= JOB_ARRIVAL_END_NS - o->offset_ns) {
      /* Past the representable end, as every later row is (sources are in time order): counted
       * up to the request cap, never returned. */
      if (o->max_requests && src->emitted + src->dropped >= o->max_requests) {
        src->ended = true;
        return 0;
      }
      src->dropped++;
      continue;
    }
    req->id = src->emitted++;
    req->arrival_ns = arrival_ns + o->offset_ns;
    req->input_tokens = raw.input_tokens;
    req->output_tokens = raw.output_tokens;
    req->prefix_hash_count = raw.prefix_hash_count;
    req->prefix_hashes = raw.prefix_hash_count ? raw.prefix_hashes : NULL;
    req->attrs = raw.attrs;
    if (raw.model_name &&
        (req->attrs.model = intern_model(src, raw.model_name, raw.model_name_len)) == 0) {
      snprintf(message, sizeof message, "%s (model '%.*s')",
               src->models == JOB_MAX_MODELS ? "more than JOB_MAX_MODELS model names"
                                             : "out of memory",
               (int)(raw.model_name_len < 64 ? raw.model_name_len : 64), raw.model_name);
      return source_fail(src,
                         src->models == JOB_MAX_MODELS ? JOB_SOURCE_EFORMAT : JOB_SOURCE_ENOMEM,
                         message, err, err_len);
    }
    return 1;
  }
}

/* ---- Merged sources ----------------------------------------------------------------------------
 */

typedef struct merge {
  job_source **subs;
  job_request *head; /* each sub's next request, while has[i] */
  bool *has;
  size_t n;
  bool started;
  uint64_t *hashes; /* the returned request's, copied: its sub moves on */
  size_t hash_cap;
  job_source *outer; /* for the subs' bad-row counts */
} merge;

static void merge_close(void *impl) {
  merge *g = impl;
  if (!g)
    return;
  for (size_t i = 0; i < g->n; i++)
    job_source_close(g->subs[i]);
  free(g->subs);
  free(g->head);
  free(g->has);
  free(g->hashes);
  free(g);
}

static int merge_refill(merge *g, size_t i, char *err, size_t err_len) {
  int rc = job_source_next(g->subs[i], &g->head[i], err, err_len);
  g->has[i] = rc == 1;
  int64_t bad = 0;
  const char *first = "";
  for (size_t k = 0; k < g->n; k++) {
    bad += job_source_bad_rows(g->subs[k]);
    if (!first[0])
      first = job_source_first_bad_row(g->subs[k]);
  }
  job_source_set_bad_rows(g->outer, bad, first);
  return rc < 0 ? rc : 0;
}

static int merge_next(void *impl, job_raw_request *raw, char *err, size_t err_len) {
  merge *g = impl;
  int rc;
  for (size_t i = 0; !g->started && i < g->n; i++)
    if ((rc = merge_refill(g, i, err, err_len)) < 0)
      return rc;
  g->started = true;
  size_t k = g->n;
  for (size_t i = 0; i < g->n; i++)
    if (g->has[i] && (k == g->n || g->head[i].arrival_ns < g->head[k].arrival_ns))
      k = i;
  if (k == g->n)
    return 0;
  const job_request *q = &g->head[k];
  if (q->prefix_hash_count > g->hash_cap) {
    uint64_t *grown = realloc(g->hashes, q->prefix_hash_count * sizeof *grown);
    if (!grown) {
      util_err(err, err_len, "merged workload: out of memory");
      return JOB_SOURCE_ENOMEM;
    }
    g->hashes = grown, g->hash_cap = q->prefix_hash_count;
  }
  if (q->prefix_hash_count)
    memcpy(g->hashes, q->prefix_hashes, q->prefix_hash_count * sizeof *g->hashes);
  raw->time_ns = q->arrival_ns;
  raw->input_tokens = q->input_tokens;
  raw->output_tokens = q->output_tokens;
  raw->prefix_hash_count = q->prefix_hash_count;
  raw->prefix_hashes = q->prefix_hash_count ? g->hashes : NULL;
  uint32_t outer_model = raw->attrs.model; /* the merged stream's default */
  raw->attrs = q->attrs;
  raw->attrs.model = outer_model;
  if (q->attrs.model) { /* by name: the merged stream numbers names anew */
    raw->model_name = job_source_model_name(g->subs[k], q->attrs.model); /* kept by the sub */
    raw->model_name_len = strlen(raw->model_name);
  }
  rc = merge_refill(g, k, err, err_len);
  return rc < 0 ? rc : 1;
}

static const job_source_backend merge_backend = {merge_next, merge_close};

int job_source_open_merged(job_source **out, job_source *const *subs, size_t n,
                           const job_source_opts *opts, char *err, size_t err_len) {
  *out = NULL;
  merge *g = calloc(1, sizeof *g);
  if (g && n && (g->subs = malloc(n * sizeof *g->subs)) && (g->head = calloc(n, sizeof *g->head)) &&
      (g->has = calloc(n, sizeof *g->has))) {
    memcpy(g->subs, subs, n * sizeof *subs);
    g->n = n;
  } else {
    if (g)
      free(g->subs), free(g->head), free(g->has), free(g);
    for (size_t i = 0; i < n; i++)
      job_source_close(subs[i]);
    util_err(err, err_len, n ? "merged workload: out of memory" : "merged workload: no streams");
    return n ? JOB_SOURCE_ENOMEM : JOB_SOURCE_EINVAL;
  }
  bool hashes = false;
  for (size_t i = 0; i < n; i++)
    hashes |= job_source_has_prefix_hashes(subs[i]);
  int rc = job_source_wrap(out, &merge_backend, g, JOB_TRACE_AUTO, opts, err, err_len);
  if (rc == 0) {
    g->outer = *out;
    if (hashes)
      job_source_set_prefix_hashes(*out);
  }
  return rc;
}

int64_t job_source_bad_rows(const job_source *src) { return src->bad_rows; }
uint32_t job_source_models(const job_source *src) { return src->models; }
const char *job_source_model_name(const job_source *src, uint32_t model) {
  return model >= 1 && model <= src->models ? src->model_names[model - 1] : "";
}
int64_t job_source_dropped_arrivals(const job_source *src) { return src->dropped; }
const char *job_source_first_bad_row(const job_source *src) { return src->first_bad; }
job_trace_format job_source_format(const job_source *src) { return src->format; }
bool job_source_has_prefix_hashes(const job_source *src) { return src->prefix_hashes; }
void job_source_set_prefix_hashes(job_source *src) { src->prefix_hashes = true; }

void job_source_set_bad_rows(job_source *src, int64_t bad_rows, const char *first_bad) {
  src->bad_rows = bad_rows;
  snprintf(src->first_bad, sizeof src->first_bad, "%s", first_bad ? first_bad : "");
}

void job_source_close(job_source *src) {
  if (!src)
    return;
  src->backend->close(src->impl);
  for (uint32_t m = 0; m < src->models; m++)
    free(src->model_names[m]);
  free(src->model_names);
  free(src);
}
