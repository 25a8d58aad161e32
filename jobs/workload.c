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
} synth;

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

static int synth_next(void *impl, job_raw_request *raw, char *err, size_t err_len) {
  (void)err, (void)err_len;
  synth *s = impl;
  if (!next_arrival(s, &raw->time_ns))
    return 0;
  if (s->pairs) {
    size_t i = core_rng_below(&s->input_rng, (uint32_t)s->pair_count);
    raw->input_tokens = s->pairs[2 * i];
    raw->output_tokens = s->pairs[2 * i + 1];
  } else {
    raw->input_tokens = draw_length(&s->input_rng, &s->spec.input);
    raw->output_tokens = draw_length(&s->output_rng, &s->spec.output);
  }
  raw->prefix_hash_count = 0;
  raw->prefix_hashes = NULL;
  return 1;
}

static void synth_close(void *impl) {
  synth *s = impl;
  if (s) {
    free(s->segments);
    free(s->pairs);
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
  if (!why && spec->stream_id > UINT32_MAX - 2)
    why = "stream id must leave room for stream_id + 2";
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
  int rc = job_source_wrap(out, &synth_backend, s, JOB_TRACE_AUTO, opts, err, err_len);
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
