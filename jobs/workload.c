/* Synthetic request sources: renewal arrivals (Poisson or Gamma gaps) warped through a
 * piecewise-linear rate curve, and lengths from a fixed, uniform, lognormal or empirical
 * distribution. */
#include "workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "util/error.h"
#include "workload_source.h"

/* One piece of the rate curve: rate(t) = rate_per_s + slope_per_s2 * (t - start), t in seconds. */
typedef struct rate_segment {
  int64_t start_ns;
  double rate_per_s, slope_per_s2;
  double length_s; /* INFINITY for the last */
  double arrivals; /* expected arrivals in it: the integral of the rate */
} rate_segment;

typedef struct synth {
  job_synth_spec spec; /* rate_curve and empirical_path are not kept */
  rate_segment *segments;
  size_t segment_count, segment; /* the segment holding the last arrival */
  double segment_used;           /* expected arrivals of that segment already passed */
  int64_t last_ns;
  double gamma_shape;
  core_rng arrival_rng, input_rng, output_rng; /* independent streams */
  int32_t *pairs;                              /* empirical (input, output) pairs */
  size_t pair_count;
  /* Sessions: those with turns to come, a heap on (next turn, start order); the next session's
   * start, drawn ahead; the prefix hashes of the last turn. */
  struct session *live;
  size_t live_count, live_cap;
  uint64_t sessions_started;
  bool start_drawn, starts_over;
  int64_t start_ns;
  core_rng turns_rng;
  uint64_t *hashes;
  size_t hash_cap;
} synth;

typedef struct session {
  int64_t next_ns;        /* its next turn's arrival */
  uint64_t order;         /* start order: breaks ties of next_ns */
  uint64_t key;           /* names its blocks' hashes */
  int64_t context_tokens; /* the conversation so far */
  int32_t turns_left;
} session;

static double standard_normal(core_rng *rng) { /* Box-Muller, one of the pair */
  double u = core_rng_uniform(rng), v = core_rng_uniform(rng);
  return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

/* Gamma(shape, scale 1/shape), mean 1: Marsaglia and Tsang (2000), boosted below shape 1. */
static double unit_mean_gamma(core_rng *rng, double shape) {
  double k = shape < 1 ? shape + 1 : shape, d = k - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d), x;
  for (;;) {
    double z = standard_normal(rng), v = 1 + c * z;
    if (v <= 0)
      continue;
    v = v * v * v;
    double u = core_rng_uniform(rng);
    if (u < 1 - 0.0331 * z * z * z * z || log(u) < 0.5 * z * z + d * (1 - v + log(v))) {
      x = d * v;
      break;
    }
  }
  if (shape < 1) /* Gamma(k) = Gamma(k + 1) * U^(1/k) */
    x *= pow(1.0 - core_rng_uniform(rng), 1.0 / shape);
  return x / shape;
}

/* The next arrival in source ns: a unit-mean gap in expected arrivals, mapped through the inverse
 * of the cumulative rate. Returns 0 when the rate has run out for good. */
static int next_arrival(synth *s, int64_t *time_ns) {
  double gap = s->spec.arrival == JOB_ARRIVAL_GAMMA
                   ? unit_mean_gamma(&s->arrival_rng, s->gamma_shape)
                   : core_rng_exponential(&s->arrival_rng, 1.0);
  double need = s->segment_used + gap;
  for (;;) {
    const rate_segment *g = &s->segments[s->segment];
    if (need <= g->arrivals) {
      /* Solve rate * t + slope * t^2 / 2 = need for t; this form is stable for slope 0 too. */
      double disc = g->rate_per_s * g->rate_per_s + 2 * g->slope_per_s2 * need;
      double denominator = g->rate_per_s + sqrt(disc > 0 ? disc : 0);
      double t_s = denominator > 0 ? 2 * need / denominator : 0;
      if (t_s > g->length_s)
        t_s = g->length_s;
      double ns = (double)g->start_ns + t_s * 1e9;
      if (!(ns < 0x1p62))
        return 0;
      s->segment_used = need;
      int64_t rounded_ns = llround(ns);
      if (rounded_ns > s->last_ns) /* rounding at a segment boundary must never reorder */
        s->last_ns = rounded_ns;
      *time_ns = s->last_ns;
      return 1;
    }
    if (s->segment + 1 == s->segment_count)
      return 0; /* the last segment has a finite mass only when its rate is 0 */
    need -= g->arrivals;
    s->segment++;
    s->segment_used = 0;
  }
}

static int32_t draw_length(core_rng *rng, const job_length_dist *d) {
  switch (d->kind) {
  case JOB_LENGTH_FIXED: return d->fixed_tokens;
  case JOB_LENGTH_UNIFORM:
    return d->min_tokens +
           (int32_t)core_rng_below(rng, (uint32_t)(d->max_tokens - d->min_tokens) + 1);
  case JOB_LENGTH_LOGNORMAL: {
    double x = round(d->median_tokens * exp(d->sigma * standard_normal(rng)));
    int32_t lo = d->min_tokens ? d->min_tokens : 1, hi = d->max_tokens ? d->max_tokens : INT32_MAX;
    return x < lo ? lo : x > hi ? hi : (int32_t)x;
  }
  }
  return 1;
}

/* A request's (input, output) lengths: an empirical pair, or a draw from each distribution. */
static void draw_lengths(synth *s, int32_t *input_tokens, int32_t *output_tokens) {
  if (s->pairs) {
    size_t i = core_rng_below(&s->input_rng, (uint32_t)s->pair_count);
    *input_tokens = s->pairs[2 * i];
    *output_tokens = s->pairs[2 * i + 1];
  } else {
    *input_tokens = draw_length(&s->input_rng, &s->spec.input);
    *output_tokens = draw_length(&s->output_rng, &s->spec.output);
  }
}

static bool session_before(const session *a, const session *b) {
  return a->next_ns != b->next_ns ? a->next_ns < b->next_ns : a->order < b->order;
}

static void session_sift_down(synth *s, size_t i) {
  for (;;) {
    size_t least = i, l = 2 * i + 1, r = l + 1;
    if (l < s->live_count && session_before(&s->live[l], &s->live[least]))
      least = l;
    if (r < s->live_count && session_before(&s->live[r], &s->live[least]))
      least = r;
    if (least == i)
      return;
    session t = s->live[i];
    s->live[i] = s->live[least], s->live[least] = t, i = least;
  }
}

static int session_push(synth *s, const session *x) {
  if (s->live_count == s->live_cap) {
    size_t cap = s->live_cap ? 2 * s->live_cap : 64;
    session *grown = realloc(s->live, cap * sizeof *grown);
    if (!grown)
      return -1;
    s->live = grown, s->live_cap = cap;
  }
  size_t i = s->live_count++;
  s->live[i] = *x;
  while (i > 0 && session_before(&s->live[i], &s->live[(i - 1) / 2])) {
    session t = s->live[i];
    s->live[i] = s->live[(i - 1) / 2], s->live[(i - 1) / 2] = t, i = (i - 1) / 2;
  }
  return 0;
}

/* The next turn of any session, in time order: a session starting now, or the earliest live one. */
static int session_next(synth *s, job_raw_request *raw, char *err, size_t err_len) {
  if (!s->start_drawn && !s->starts_over) {
    s->starts_over = !next_arrival(s, &s->start_ns);
    s->start_drawn = !s->starts_over;
  }
  if (s->start_drawn && (s->live_count == 0 || s->start_ns < s->live[0].next_ns)) {
    uint64_t key = s->spec.seed ^ (0x9e3779b97f4a7c15ull * ++s->sessions_started);
    session x = {.next_ns = s->start_ns,
                 .order = s->sessions_started,
                 .key = key,
                 .turns_left = draw_length(&s->turns_rng, &s->spec.turns)};
    s->start_drawn = false;
    if (session_push(s, &x) != 0)
      goto oom;
  }
  if (s->live_count == 0)
    return 0;
  session *x = &s->live[0];
  int32_t message_tokens, output_tokens;
  draw_lengths(s, &message_tokens, &output_tokens);
  int64_t input = x->context_tokens + message_tokens;
  raw->time_ns = x->next_ns;
  raw->input_tokens = input < INT32_MAX ? (int32_t)input : INT32_MAX;
  raw->output_tokens = output_tokens;
  int64_t count = job_session_hashes(x->key, raw->input_tokens, &s->hashes, &s->hash_cap);
  if (count < 0)
    goto oom;
  raw->prefix_hash_count = (uint32_t)count;
  raw->prefix_hashes = s->hashes;
  x->context_tokens = input + output_tokens;
  bool more = --x->turns_left > 0 && x->next_ns < ((int64_t)1 << 62) - s->spec.turn_gap_ns;
  if (more) {
    x->next_ns += s->spec.turn_gap_ns;
  } else {
    s->live[0] = s->live[--s->live_count];
  }
  session_sift_down(s, 0);
  return 1;
oom:
  util_err(err, err_len, "synthetic workload: out of memory for its sessions");
  return JOB_SOURCE_ENOMEM;
}

static int synth_next(void *impl, job_raw_request *raw, char *err, size_t err_len) {
  synth *s = impl;
  if (s->spec.sessions)
    return session_next(s, raw, err, err_len);
  if (!next_arrival(s, &raw->time_ns))
    return 0;
  draw_lengths(s, &raw->input_tokens, &raw->output_tokens);
  raw->prefix_hash_count = 0;
  raw->prefix_hashes = NULL;
  return 1;
}

static void synth_close(void *impl) {
  synth *s = impl;
  if (s) {
    free(s->segments);
    free(s->pairs);
    free(s->live);
    free(s->hashes);
    free(s);
  }
}

static const job_source_backend synth_backend = {synth_next, synth_close};

static const char *check_length(const job_length_dist *d) {
  switch (d->kind) {
  case JOB_LENGTH_FIXED: return d->fixed_tokens >= 1 ? NULL : "fixed length must be at least 1";
  case JOB_LENGTH_UNIFORM:
    return d->min_tokens >= 1 && d->max_tokens >= d->min_tokens
               ? NULL
               : "uniform length needs 1 <= min <= max";
  case JOB_LENGTH_LOGNORMAL:
    if (!(d->median_tokens > 0) || !isfinite(d->median_tokens) || !(d->sigma >= 0) ||
        !isfinite(d->sigma))
      return "lognormal length needs median > 0 and sigma >= 0";
    return d->min_tokens >= 0 && (d->max_tokens == 0 || d->max_tokens >= d->min_tokens)
               ? NULL
               : "lognormal length needs 0 <= min <= max (0: no bound)";
  }
  return "unknown length distribution";
}

/* Reads the empirical (input, output) pairs of spec's trace into s; *lengths keeps its bad rows. */
static int read_pairs(synth *s, const job_synth_spec *spec, const job_source_opts *opts,
                      job_source **lengths, char *err, size_t err_len) {
  job_source_opts all = {.skip_bad_rows = opts && opts->skip_bad_rows};
  int rc = job_source_open_lengths(lengths, spec->empirical_path, spec->empirical_format, &all, err,
                                   err_len);
  size_t cap = 0;
  job_request r;
  while (rc == 0 && (rc = job_source_next(*lengths, &r, err, err_len)) == 1) {
    if (s->pair_count == cap) { /* at most 2^31 pairs: core_rng_below draws 32-bit indices */
      size_t grown_cap = cap ? 2 * cap : 4096;
      int32_t *grown = grown_cap <= INT32_MAX ? realloc(s->pairs, 2 * grown_cap * sizeof *grown)
                                              : NULL;
      if (!grown) {
        util_err(err, err_len, "%s: out of memory or over 2^31 rows", spec->empirical_path);
        return JOB_SOURCE_ENOMEM;
      }
      s->pairs = grown, cap = grown_cap;
    }
    s->pairs[2 * s->pair_count] = r.input_tokens;
    s->pairs[2 * s->pair_count++ + 1] = r.output_tokens;
    rc = 0;
  }
  if (rc == 0 && s->pair_count == 0) {
    util_err(err, err_len, "%s: no rows to take lengths from", spec->empirical_path);
    return JOB_SOURCE_EFORMAT;
  }
  return rc;
}

/* Builds the rate segments; returns why the curve is invalid, or NULL. */
static const char *build_curve(synth *s, const job_rate_point *pts, size_t n) {
  if (n == 0 || !pts)
    return "needs a rate (one point) or a rate curve";
  if (pts[0].time_ns != 0)
    return "rate curve must start at time 0";
  bool any_rate = false;
  for (size_t i = 0; i < n; i++) {
    if (!(pts[i].rate_per_s >= 0) || !isfinite(pts[i].rate_per_s))
      return "rates must be finite and not negative";
    if (i > 0 && pts[i].time_ns <= pts[i - 1].time_ns)
      return "rate curve times must increase";
    any_rate |= pts[i].rate_per_s > 0;
  }
  if (!any_rate)
    return "rate is 0 everywhere";
  if (!(s->segments = calloc(n, sizeof *s->segments)))
    return "out of memory";
  s->segment_count = n;
  for (size_t i = 0; i < n; i++) {
    rate_segment *g = &s->segments[i];
    g->start_ns = pts[i].time_ns;
    g->rate_per_s = pts[i].rate_per_s;
    if (i + 1 < n) {
      g->length_s = (double)(pts[i + 1].time_ns - pts[i].time_ns) * 1e-9;
      g->slope_per_s2 = (pts[i + 1].rate_per_s - pts[i].rate_per_s) / g->length_s;
      g->arrivals = 0.5 * (pts[i].rate_per_s + pts[i + 1].rate_per_s) * g->length_s;
    } else {
      g->length_s = INFINITY;
      g->arrivals = g->rate_per_s > 0 ? INFINITY : 0;
    }
  }
  return NULL;
}

int job_source_open_synthetic(job_source **out, const job_synth_spec *spec,
                              const job_source_opts *opts, char *err, size_t err_len) {
  *out = NULL;
  synth *s = calloc(1, sizeof *s);
  if (!s) {
    util_err(err, err_len, "synthetic workload: out of memory");
    return JOB_SOURCE_ENOMEM;
  }
  s->spec = *spec;
  const char *why = build_curve(s, spec->rate_curve, spec->rate_points);
  if (!why && spec->arrival == JOB_ARRIVAL_GAMMA && (!(spec->cv > 0) || !isfinite(spec->cv)))
    why = "gamma arrivals need a coefficient of variation > 0";
  if (!why && spec->arrival != JOB_ARRIVAL_GAMMA && spec->arrival != JOB_ARRIVAL_POISSON)
    why = "unknown arrival process";
  if (!why && spec->stream_id > UINT32_MAX - 3)
    why = "stream id must leave room for stream_id + 3";
  if (!why && spec->sessions && (why = check_length(&spec->turns)) == NULL && spec->turn_gap_ns < 0)
    why = "the time between a session's turns must not be negative";
  if (!why && !spec->empirical_path && (why = check_length(&spec->input)) == NULL)
    why = check_length(&spec->output);
  bool bounded = opts && (opts->max_requests > 0 || opts->to_ns > 0);
  if (!why && !bounded && s->segments[s->segment_count - 1].rate_per_s > 0)
    why = "never ends: give a request cap or a window end, or end the rate curve at 0";
  if (why) {
    util_err(err, err_len, "synthetic workload: %s", why);
    synth_close(s);
    return JOB_SOURCE_EINVAL;
  }
  s->gamma_shape = spec->arrival == JOB_ARRIVAL_GAMMA ? 1.0 / (spec->cv * spec->cv) : 1.0;
  core_rng_init(&s->arrival_rng, spec->seed, spec->stream_id);
  core_rng_init(&s->input_rng, spec->seed, spec->stream_id + 1);
  core_rng_init(&s->output_rng, spec->seed, spec->stream_id + 2);
  core_rng_init(&s->turns_rng, spec->seed, spec->stream_id + 3);
  job_source *lengths = NULL;
  if (spec->empirical_path) {
    int rc = read_pairs(s, spec, opts, &lengths, err, err_len);
    if (rc < 0) {
      job_source_close(lengths);
      synth_close(s);
      return rc;
    }
  }
  s->spec.rate_curve = NULL, s->spec.empirical_path = NULL; /* borrowed only during open */
  bool sessions = spec->sessions;
  int rc = job_source_wrap(out, &synth_backend, s, JOB_TRACE_AUTO, opts, err, err_len);
  if (rc == 0 && sessions)
    job_source_set_prefix_hashes(*out);
  if (rc == 0 && lengths)
    job_source_set_bad_rows(*out, job_source_bad_rows(lengths), job_source_first_bad_row(lengths));
  job_source_close(lengths);
  return rc;
}

int64_t job_think_time_ns(const job_closed_loop *loop, core_rng *rng) {
  if (!loop->think_exponential || loop->think_ns == 0)
    return loop->think_ns;
  double ns = core_rng_exponential(rng, 1.0) * (double)loop->think_ns;
  return ns < 0x1p61 ? llround(ns) : (int64_t)1 << 61;
}
