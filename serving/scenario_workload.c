/* The scenario's workload section: a trace with its replay options, or a synthetic workload. */
#define _POSIX_C_SOURCE 200809L
#include "serving/scenario_read.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Trace format names in job_trace_format order; `lengths` (no arrival times) only for empirical
 * length samples. */
static void format_names(const char *names[JOB_TRACE_LENGTHS + 2], bool lengths) {
  int n = 0;
  for (int f = JOB_TRACE_AUTO; f <= JOB_TRACE_LENGTHS; f++)
    if (lengths || f != JOB_TRACE_LENGTHS)
      names[n++] = job_trace_format_name((job_trace_format)f);
  names[n] = NULL;
}

static int get_format(const scn_loader *ld, const io_node *m, bool lengths,
                      job_trace_format *format) {
  const char *names[JOB_TRACE_LENGTHS + 2];
  format_names(names, lengths);
  int index = JOB_TRACE_AUTO;
  int rc = scn_get_choice(ld, m, "format", names, &index);
  if (rc == 0)
    *format = (job_trace_format)index;
  return rc;
}

/* Reads an input file path at key and checks that the file can be read. */
static int get_input_file(const scn_loader *ld, const io_node *m, const char *key, char *path,
                          size_t path_len) {
  const io_node *n;
  int rc = io_node_get(m, key, IO_NODE_SCALAR, &n, ld->err, ld->err_len);
  if (rc == 0)
    rc = scn_resolve_path(ld, n, path, path_len);
  if (rc != 0)
    return rc;
  FILE *f = fopen(path, "r");
  if (!f)
    return io_node_error(n, ld->err, ld->err_len, "cannot read the file '%s': %s", path,
                         strerror(errno));
  fclose(f);
  return 0;
}

static int read_length(const scn_loader *ld, const io_node *m, const char *key,
                       job_length_dist *dist) {
  static const char *const kinds[] = {"fixed", "uniform", "lognormal", NULL}; /* job_length_kind */
  static const char *const fixed_keys[] = {"kind", "tokens", NULL};
  static const char *const uniform_keys[] = {"kind", "min", "max", NULL};
  static const char *const lognormal_keys[] = {"kind", "median", "sigma", "min", "max", NULL};
  static const char *const *const kind_keys[] = {fixed_keys, uniform_keys, lognormal_keys};
  /* Keys each kind requires: fixed_keys' and uniform_keys' after "kind", lognormal's first two. */
  static const size_t required_count[] = {1, 2, 2};
  const io_node *e;
  int kind, rc;
  if ((rc = io_node_get(m, key, IO_NODE_MAPPING, &e, ld->err, ld->err_len)) != 0 ||
      (rc = io_node_get_choice(e, "kind", kinds, &kind, ld->err, ld->err_len)) != 0 ||
      (rc = scn_check_keys(ld, e, kind_keys[kind])) != 0)
    return rc;
  for (size_t k = 1; k <= required_count[kind]; k++) {
    const io_node *value;
    if ((rc = io_node_get(e, kind_keys[kind][k], IO_NODE_SCALAR, &value, ld->err, ld->err_len)) !=
        0)
      return rc;
  }
  *dist = (job_length_dist){.kind = (job_length_kind)kind};
  if ((rc = scn_get_i32(ld, e, "tokens", 1, &dist->fixed_tokens)) != 0 ||
      (rc = scn_get_i32(ld, e, "min", 1, &dist->min_tokens)) != 0 ||
      (rc = scn_get_i32(ld, e, "max", 1, &dist->max_tokens)) != 0 ||
      (rc = scn_get_f64(ld, e, "median", IO_UNIT_NUMBER, &dist->median_tokens)) != 0 ||
      (rc = scn_get_f64(ld, e, "sigma", IO_UNIT_NUMBER, &dist->sigma)) != 0)
    return rc;
  if (dist->kind == JOB_LENGTH_LOGNORMAL && !(dist->median_tokens > 0.0))
    return io_node_error(io_node_find(e, "median"), ld->err, ld->err_len,
                         "expected a median above 0 tokens");
  if (dist->max_tokens && dist->max_tokens < dist->min_tokens)
    return io_node_error(io_node_find(e, "max"), ld->err, ld->err_len,
                         "max %" PRId32 " is below min %" PRId32, dist->max_tokens,
                         dist->min_tokens);
  return 0;
}

static int read_rate_curve(const scn_loader *ld, const io_node *syn, srv_workload *w) {
  static const char *const point_keys[] = {"at", "rate", NULL};
  const io_node *rate = io_node_find(syn, "rate"), *curve = io_node_find(syn, "rate_curve");
  if (rate && curve)
    return io_node_error(curve, ld->err, ld->err_len, "give either rate or rate_curve, not both");
  if (!rate && !curve && w->mode != JOB_MODE_OPEN) { /* arrival times are not used */
    w->rate_curve[0] = (job_rate_point){0, 1.0};
    w->synth.rate_points = 1;
    return 0;
  }
  if (!rate && !curve)
    return io_node_error(syn, ld->err, ld->err_len,
                         "expected a rate (such as '10/s') or a rate_curve");
  int rc;
  if (rate) {
    w->rate_curve[0].time_ns = 0;
    if ((rc = io_node_get_f64(syn, "rate", IO_UNIT_PER_S, 0.0, INFINITY,
                              &w->rate_curve[0].rate_per_s, ld->err, ld->err_len)) != 0)
      return rc;
    if (!(w->rate_curve[0].rate_per_s > 0.0))
      return io_node_error(rate, ld->err, ld->err_len, "expected a rate above 0/s");
    w->synth.rate_points = 1;
    return 0;
  }
  size_t cap = sizeof w->rate_curve / sizeof w->rate_curve[0];
  if ((rc = scn_expect_kind(ld, curve, IO_NODE_SEQUENCE, "a sequence of {at, rate} points")) != 0)
    return rc;
  if (curve->count == 0 || curve->count > cap)
    return io_node_error(curve, ld->err, ld->err_len, "expected 1 to %zu points, got %zu", cap,
                         curve->count);
  for (size_t i = 0; i < curve->count; i++) {
    const io_node *p = curve->values[i];
    job_rate_point *pt = &w->rate_curve[i];
    if ((rc = scn_check_keys(ld, p, point_keys)) != 0 ||
        (rc = io_node_get_i64(p, "at", IO_UNIT_NS, 0, INT64_MAX, &pt->time_ns, ld->err,
                              ld->err_len)) != 0 ||
        (rc = io_node_get_f64(p, "rate", IO_UNIT_PER_S, 0.0, INFINITY, &pt->rate_per_s, ld->err,
                              ld->err_len)) != 0)
      return rc;
    if (i == 0 && pt->time_ns != 0)
      return io_node_error(io_node_find(p, "at"), ld->err, ld->err_len,
                           "the first point must be at 0s");
    if (i > 0 && pt->time_ns <= pt[-1].time_ns)
      return io_node_error(io_node_find(p, "at"), ld->err, ld->err_len,
                           "points must be in increasing time order");
  }
  w->synth.rate_points = curve->count;
  return 0;
}

/* synthetic.sessions: {turns: N or a length distribution, think_time: duration}. */
static int read_sessions(const scn_loader *ld, const io_node *syn, job_synth_spec *spec) {
  static const char *const keys[] = {"turns", "think_time", NULL};
  const io_node *e = io_node_find(syn, "sessions"), *turns;
  int rc;
  spec->sessions = e != NULL;
  if (!e)
    return 0;
  if ((rc = scn_expect_kind(ld, e, IO_NODE_MAPPING, "{turns: N, think_time: duration}")) != 0 ||
      (rc = scn_check_keys(ld, e, keys)) != 0 ||
      (rc = scn_get_ns(ld, e, "think_time", 0, &spec->turn_gap_ns)) != 0)
    return rc;
  if (!(turns = io_node_find(e, "turns")))
    return io_node_error(e, ld->err, ld->err_len, "expected turns: the turns per session");
  if (turns->kind != IO_NODE_SCALAR)
    return read_length(ld, e, "turns", &spec->turns);
  spec->turns = (job_length_dist){.kind = JOB_LENGTH_FIXED};
  return scn_get_i32(ld, e, "turns", 1, &spec->turns.fixed_tokens);
}

static int read_synthetic(const scn_loader *ld, const io_node *syn, srv_workload *w,
                          uint32_t stream_id) {
  static const char *const keys[] = {"arrival", "cv",        "rate", "rate_curve", "input",
                                     "output",  "empirical", "seed", "sessions",   NULL};
  static const char *const empirical_keys[] = {"trace", "format", NULL};
  static const char *const arrivals[] = {"poisson", "gamma", NULL}; /* job_arrival_kind order */
  job_synth_spec *spec = &w->synth;
  int arrival = JOB_ARRIVAL_POISSON, rc;
  int64_t seed = (int64_t)(ld->s->simulation.seed & INT64_MAX);
  *spec = (job_synth_spec){.stream_id = stream_id, .rate_curve = w->rate_curve};
  if ((rc = scn_check_keys(ld, syn, keys)) != 0 ||
      (rc = scn_get_choice(ld, syn, "arrival", arrivals, &arrival)) != 0 ||
      (rc = scn_optional(io_node_get_i64(syn, "seed", IO_UNIT_NUMBER, 0, INT64_MAX, &seed, ld->err,
                                         ld->err_len))) != 0 ||
      (rc = read_rate_curve(ld, syn, w)) != 0 || (rc = read_sessions(ld, syn, spec)) != 0)
    return rc;
  spec->arrival = (job_arrival_kind)arrival;
  spec->seed = (uint64_t)seed;
  const io_node *cv = io_node_find(syn, "cv");
  if (spec->arrival == JOB_ARRIVAL_GAMMA) {
    if ((rc = io_node_get_f64(syn, "cv", IO_UNIT_NUMBER, 0.0, INFINITY, &spec->cv, ld->err,
                              ld->err_len)) != 0)
      return rc;
    if (!(spec->cv > 0.0))
      return io_node_error(cv, ld->err, ld->err_len, "expected a coefficient of variation above 0");
  } else if (cv) {
    return io_node_error(cv, ld->err, ld->err_len, "cv applies to gamma arrivals only");
  }
  const io_node *empirical = io_node_find(syn, "empirical");
  if (empirical) {
    const io_node *lengths = scn_node_or(syn, "input", io_node_find(syn, "output"));
    if (lengths)
      return io_node_error(lengths, ld->err, ld->err_len,
                           "give either empirical (input and output pairs from a trace) or input "
                           "and output, not both");
    if ((rc = scn_check_keys(ld, empirical, empirical_keys)) != 0 ||
        (rc = get_input_file(ld, empirical, "trace", w->empirical_path,
                             sizeof w->empirical_path)) != 0 ||
        (rc = get_format(ld, empirical, true, &spec->empirical_format)) != 0)
      return rc;
    spec->empirical_path = w->empirical_path;
    return 0;
  }
  if ((rc = read_length(ld, syn, "input", &spec->input)) != 0 ||
      (rc = read_length(ld, syn, "output", &spec->output)) != 0)
    return rc;
  return 0;
}

bool srv_deployment_serves(const srv_scenario *s, size_t d, const char *name) {
  for (size_t e = 0; e < s->deployment_count; e++)
    if (strcasecmp(s->deployments[e].name, name) == 0)
      return e == d;
  return hw_catalog_model(s->catalog, name) == s->deployments[d].model;
}

int srv_workload_models(const srv_scenario *s, const job_source *src, bool *aimed, char *err,
                        size_t err_len) {
  size_t deps = s->deployment_count;
  for (uint32_t k = 1; k <= job_source_models(src); k++) {
    const char *name = job_source_model_name(src, k);
    bool takes = false, decodes = false;
    for (size_t d = 0; d < deps; d++) {
      bool serves = srv_deployment_serves(s, d, name);
      if (aimed)
        aimed[(k - 1) * deps + d] = serves;
      bool decode = s->deployments[d].role == SRV_ROLE_DECODE;
      takes |= serves && !decode && s->deployments[d].count > 0;
      decodes |= serves && decode && s->deployments[d].count > 0;
    }
    if (takes && (decodes || !s->disaggregated))
      continue;
    int n = snprintf(err, err_len,
                     "workload: requests are aimed at model '%s', which no %sdeployment serves (a "
                     "deployment serves its name and its model's; here:",
                     name, takes ? "decode " : "");
    for (size_t d = 0; d < deps && n > 0 && (size_t)n < err_len; d++)
      n += snprintf(err + n, err_len - (size_t)n, "%s %s (%s)", d ? "," : "",
                    s->deployments[d].name, s->deployments[d].model->name);
    if (n > 0 && (size_t)n < err_len)
      snprintf(err + n, err_len - (size_t)n, ")");
    return -1;
  }
  return 0;
}

int srv_workload_open(const srv_workload *w, job_source **src, char *err, size_t err_len) {
  job_source_opts opts = w->opts;
  opts.model_name = w->model_name[0] ? w->model_name : NULL;
  if (w->stream_count) {
    job_source *subs[SRV_MAX_STREAMS];
    for (size_t i = 0; i < w->stream_count; i++) {
      int rc = srv_workload_open(&w->streams[i], &subs[i], err, err_len);
      if (rc != 0) {
        while (i > 0)
          job_source_close(subs[--i]);
        return rc;
      }
    }
    return job_source_open_merged(src, subs, w->stream_count, &opts, err, err_len);
  }
  return w->synthetic ? job_source_open_synthetic(src, &w->synth, &opts, err, err_len)
                      : job_source_open_trace(src, w->trace_path, w->format, &opts, err, err_len);
}

/* Opens the source once and closes it: the reader's own checks (format detection, header, the
 * synthetic spec) report here, at load, rather than mid-run. */
static int try_source(const scn_loader *ld, const io_node *at) {
  srv_workload *w = &ld->s->workload;
  job_source *src = NULL;
  char why[512] = "";
  int rc = srv_workload_open(w, &src, why, sizeof why);
  job_source_close(src);
  if (rc == JOB_SOURCE_ENOMEM) {
    snprintf(ld->err, ld->err_len, "out of memory");
    return IO_DOC_ENOMEM;
  }
  return rc != 0 ? io_node_error(at, ld->err, ld->err_len, "%s", why) : 0;
}

/* think_time: a duration (constant), or {kind: constant | exponential, mean: duration}. */
static int read_think_time(const scn_loader *ld, const io_node *m, job_closed_loop *loop) {
  static const char *const keys[] = {"kind", "mean", NULL};
  static const char *const kinds[] = {"constant", "exponential", NULL};
  const io_node *t = io_node_find(m, "think_time");
  if (!t || t->kind == IO_NODE_SCALAR)
    return scn_get_ns(ld, m, "think_time", 0, &loop->think_ns);
  int kind = 0, rc;
  if ((rc = scn_expect_kind(ld, t, IO_NODE_MAPPING,
                            "a duration or {kind: constant | exponential, mean: duration}")) != 0 ||
      (rc = scn_check_keys(ld, t, keys)) != 0 ||
      (rc = io_node_get_choice(t, "kind", kinds, &kind, ld->err, ld->err_len)) != 0 ||
      (rc = io_node_get_i64(t, "mean", IO_UNIT_NS, 0, INT64_MAX, &loop->think_ns, ld->err,
                            ld->err_len)) != 0)
    return rc;
  loop->think_exponential = kind == 1;
  return 0;
}

/* mode and the keys that go with it: clients, think_time and duration (closed loops only). */
static int read_mode(const scn_loader *ld, const io_node *m, srv_workload *w) {
  static const char *const modes[] = {"open", "offline", "closed", NULL}; /* job_workload_mode */
  static const char *const closed_keys[] = {"clients", "think_time", "duration"};
  int mode = JOB_MODE_OPEN, rc;
  if ((rc = scn_get_choice(ld, m, "mode", modes, &mode)) != 0)
    return rc;
  w->mode = (job_workload_mode)mode;
  w->opts.offline = w->mode != JOB_MODE_OPEN; /* a closed loop's times come from its clients */
  w->closed = (job_closed_loop){0};
  if (w->mode != JOB_MODE_CLOSED) {
    for (size_t k = 0; k < sizeof closed_keys / sizeof closed_keys[0]; k++)
      if (io_node_find(m, closed_keys[k]))
        return io_node_error(io_node_find(m, closed_keys[k]), ld->err, ld->err_len,
                             "applies to closed-loop workloads only (mode: closed)");
    return 0;
  }
  if (!io_node_find(m, "clients"))
    return io_node_error(m, ld->err, ld->err_len,
                         "a closed loop needs its number of clients (clients: N)");
  if ((rc = scn_get_u32(ld, m, "clients", 1, UINT32_MAX, &w->closed.clients)) != 0 ||
      (rc = read_think_time(ld, m, &w->closed)) != 0 ||
      (rc = scn_get_ns(ld, m, "duration", 0, &w->closed.duration_ns)) != 0)
    return rc;
  const char *moot = w->opts.rate_scale != 1.0 ? "rate_scale" : w->opts.offset_ns ? "offset" : NULL;
  if (moot)
    return io_node_error(io_node_find(m, moot), ld->err, ld->err_len,
                         "a closed loop's clients set the arrival times: %s does not apply", moot);
  return 0;
}

/* The attributes of every request whose trace row does not give its own: priority, tier and
 * deadline (batch only). */
static int read_attrs(const scn_loader *ld, const io_node *m, job_request_attrs *a) {
  static const char *const tiers[] = {"interactive", "batch", NULL}; /* job_tier order */
  int tier = (int)a->tier, rc;                                       /* a holds the defaults */
  if ((rc = scn_get_i32(ld, m, "priority", INT32_MIN, &a->priority)) != 0 ||
      (rc = scn_get_choice(ld, m, "tier", tiers, &tier)) != 0 ||
      (rc = scn_get_ns(ld, m, "deadline", 1, &a->deadline_ns)) != 0)
    return rc;
  a->tier = (uint32_t)tier;
  if (a->deadline_ns > 0 && a->tier != JOB_TIER_BATCH)
    return io_node_error(io_node_find(m, "deadline"), ld->err, ld->err_len,
                         "a deadline applies to batch requests only (tier: batch)");
  return 0;
}

/* One stream's source at m: its trace file (and format) or its synthetic generator. */
static int read_source(const scn_loader *ld, const io_node *m, srv_workload *w,
                       uint32_t stream_id) {
  const io_node *syn = io_node_find(m, "synthetic");
  w->synthetic = syn != NULL;
  if (syn) {
    if (io_node_find(m, "format"))
      return io_node_error(io_node_find(m, "format"), ld->err, ld->err_len,
                           "format applies to a trace file; a synthetic workload's empirical "
                           "lengths take synthetic.empirical.format");
    return read_synthetic(ld, syn, w, stream_id);
  }
  int rc = get_input_file(ld, m, "trace", w->trace_path, sizeof w->trace_path);
  return rc != 0 ? rc : get_format(ld, m, false, &w->format);
}

static int read_model(const scn_loader *ld, const io_node *m, srv_workload *w);

/* workload.streams: several sources merged in arrival order, each with its own attributes (over
 * the workload's), bounded as the workload is (to, max_requests), on a random stream of its own. */
static int read_streams(const scn_loader *ld, const io_node *n, srv_workload *w) {
  static const char *const keys[] = {"trace", "format",   "synthetic", "priority",
                                     "tier",  "deadline", "model",     NULL};
  int rc = scn_expect_kind(ld, n, IO_NODE_SEQUENCE,
                           "a sequence of streams ({trace: ...} or "
                           "{synthetic: ...}, with their attributes)");
  if (rc != 0)
    return rc;
  if (n->count == 0 || n->count > SRV_MAX_STREAMS)
    return io_node_error(n, ld->err, ld->err_len, "expected 1 to %d streams, got %zu",
                         SRV_MAX_STREAMS, n->count);
  if (!(w->streams = calloc(n->count, sizeof *w->streams))) {
    snprintf(ld->err, ld->err_len, "out of memory");
    return IO_DOC_ENOMEM;
  }
  w->stream_count = n->count;
  for (size_t i = 0; i < n->count; i++) {
    const io_node *e = n->values[i];
    srv_workload *x = &w->streams[i];
    x->mode = w->mode; /* offline and closed loops need no rate */
    x->opts = (job_source_opts){.rate_scale = 1.0,
                                .to_ns = w->opts.to_ns,
                                .max_requests = w->opts.max_requests,
                                .skip_bad_rows = w->opts.skip_bad_rows,
                                .defaults = w->opts.defaults};
    if ((rc = scn_expect_kind(ld, e, IO_NODE_MAPPING, "{trace: ...} or {synthetic: ...}")) != 0 ||
        (rc = scn_check_keys(ld, e, keys)) != 0)
      return rc;
    if (!io_node_find(e, "trace") == !io_node_find(e, "synthetic"))
      return io_node_error(e, ld->err, ld->err_len,
                           "expected either a trace file (trace: PATH) or a synthetic workload "
                           "(synthetic: {...})");
    if ((rc = read_source(ld, e, x, JOB_SYNTH_STREAM_DEFAULT - 4 * (uint32_t)(i + 1))) != 0 ||
        (rc = read_attrs(ld, e, &x->opts.defaults)) != 0 || (rc = read_model(ld, e, x)) != 0)
      return rc;
  }
  return 0;
}

/* workload.model: a deployment's name or a served model's, for requests without their own. */
static int read_model(const scn_loader *ld, const io_node *m, srv_workload *w) {
  w->model_name[0] = '\0';
  int rc = scn_get_text(ld, m, "model", w->model_name, sizeof w->model_name);
  if (rc != 0 || !w->model_name[0])
    return rc;
  const srv_scenario *s = ld->s;
  for (size_t d = 0; d < s->deployment_count; d++)
    if (s->deployments[d].role != SRV_ROLE_DECODE && srv_deployment_serves(s, d, w->model_name))
      return 0;
  return io_node_error(io_node_find(m, "model"), ld->err, ld->err_len,
                       "no deployment that takes requests serves '%s' (give a deployment's name "
                       "or its model's)",
                       w->model_name);
}

int scn_read_workload(const scn_loader *ld, const io_node *m) {
  static const char *const keys[] = {"trace",         "format",   "synthetic", "rate_scale",
                                     "offset",        "from",     "to",        "max_requests",
                                     "skip_bad_rows", "mode",     "clients",   "think_time",
                                     "duration",      "priority", "tier",      "deadline",
                                     "model",         "streams",  NULL};
  srv_workload *w = &ld->s->workload;
  job_source_opts *o = &w->opts;
  int rc = scn_check_keys(ld, m, keys);
  if (rc != 0)
    return rc;
  const io_node *trace = io_node_find(m, "trace"), *syn = io_node_find(m, "synthetic"),
                *streams = io_node_find(m, "streams");
  if (streams && (trace || syn))
    return io_node_error(streams, ld->err, ld->err_len,
                         "give either streams or one trace or synthetic workload, not both");
  if (trace && syn)
    return io_node_error(syn, ld->err, ld->err_len, "give either trace or synthetic, not both");
  if (!trace && !syn && !streams)
    return io_node_error(m, ld->err, ld->err_len,
                         "expected a trace file (trace: PATH), a synthetic workload "
                         "(synthetic: {...}) or streams of them (streams: [...])");
  *o = (job_source_opts){.rate_scale = 1.0};
  if ((rc = scn_optional(io_node_get_f64(m, "rate_scale", IO_UNIT_NUMBER, 0.0, INFINITY,
                                         &o->rate_scale, ld->err, ld->err_len))) != 0 ||
      (rc = scn_get_ns(ld, m, "offset", 0, &o->offset_ns)) != 0 ||
      (rc = scn_get_ns(ld, m, "from", 0, &o->from_ns)) != 0 ||
      (rc = scn_get_ns(ld, m, "to", 0, &o->to_ns)) != 0 ||
      (rc = scn_optional(io_node_get_i64(m, "max_requests", IO_UNIT_NUMBER, 0, INT64_MAX,
                                         &o->max_requests, ld->err, ld->err_len))) != 0 ||
      (rc = scn_get_bool(ld, m, "skip_bad_rows", &o->skip_bad_rows)) != 0 ||
      (rc = read_mode(ld, m, w)) != 0 || (rc = read_attrs(ld, m, &o->defaults)) != 0 ||
      (rc = read_model(ld, m, w)) != 0)
    return rc;
  if (!(o->rate_scale > 0.0))
    return io_node_error(io_node_find(m, "rate_scale"), ld->err, ld->err_len,
                         "expected a rate multiple above 0");
  if (o->to_ns != 0 && o->to_ns <= o->from_ns)
    return io_node_error(io_node_find(m, "to"), ld->err, ld->err_len,
                         "the window must end after it starts (from < to; to = 0s: no end)");
  if (streams)
    rc = read_streams(ld, streams, w);
  else
    rc = read_source(ld, m, w, JOB_SYNTH_STREAM_DEFAULT);
  return rc != 0 ? rc : try_source(ld, streams ? streams : syn ? syn : trace);
}
