/* Synthetic request sources: Poisson or Gamma arrivals at a rate or piecewise-linear rate curve,
 * with fixed, uniform, lognormal or empirical (sampled from a trace) lengths. Read with
 * jobs/trace.h. */
#ifndef JOB_WORKLOAD_H
#define JOB_WORKLOAD_H

#include "core/rng.h"
#include "trace.h"

/* A default stream id far above any LP id; a source uses stream_id .. stream_id + 3. */
#define JOB_SYNTH_STREAM_DEFAULT 0xFFFFFF00u

typedef enum job_arrival_kind {
  JOB_ARRIVAL_POISSON = 0, /* exponential gaps */
  JOB_ARRIVAL_GAMMA, /* gamma gaps with coefficient of variation cv (1 = Poisson, > 1 bursty) */
} job_arrival_kind;

/* The arrival rate at time_ns; between points it is linear, after the last it stays the last. */
typedef struct job_rate_point {
  int64_t time_ns; /* the first point is at 0; strictly increasing */
  double rate_per_s;
} job_rate_point;

typedef enum job_length_kind {
  JOB_LENGTH_FIXED = 0, /* fixed_tokens */
  JOB_LENGTH_UNIFORM,   /* integers in [min_tokens, max_tokens], equally likely */
  JOB_LENGTH_LOGNORMAL, /* median_tokens * exp(sigma * N(0,1)), rounded, clamped to [min, max] */
} job_length_kind;

typedef struct job_length_dist {
  job_length_kind kind;
  int32_t fixed_tokens;
  int32_t min_tokens; /* >= 1; 0 means 1 for lognormal */
  int32_t max_tokens; /* 0 means INT32_MAX for lognormal */
  double median_tokens;
  double sigma; /* standard deviation of the length's natural log */
} job_length_dist;

typedef struct job_synth_spec {
  job_arrival_kind arrival;
  double cv;                        /* JOB_ARRIVAL_GAMMA only, > 0 */
  const job_rate_point *rate_curve; /* borrowed during open; one point is a constant rate */
  size_t rate_points;
  job_length_dist input, output; /* unless empirical_path is set */
  /* When set, each request takes the (input, output) pair of a uniformly drawn row of this trace,
   * read once at open (any format, JOB_TRACE_LENGTHS included; skip_bad_rows applies). */
  const char *empirical_path;
  job_trace_format empirical_format;
  uint64_t seed;
  /* Multi-turn sessions (chat conversations): the arrival process starts sessions; a session has
   * `turns` turns (a length distribution used as a count), turn_gap_ns apart; each turn's prompt is
   * the conversation so far (the previous turns' prompts and outputs) plus a new message whose
   * length is drawn from input (or an empirical pair), so the turns of one session share prefix
   * block hashes (jobs/workload_source.h job_session_hashes) and prefix caching can hit. */
  bool sessions;
  job_length_dist turns;
  int64_t turn_gap_ns;
  /* core_rng streams (LP ids): arrivals stream_id, input lengths (or empirical pairs) stream_id +
   * 1, output lengths stream_id + 2, turns per session stream_id + 3, so changing one distribution
   * leaves the others' draws alone. */
  uint32_t stream_id;
} job_synth_spec;

/* How requests reach the system (workload.mode). */
typedef enum job_workload_mode {
  JOB_MODE_OPEN = 0, /* at the source's arrival times (a trace, a rate) */
  JOB_MODE_OFFLINE,  /* all at once at the start, as offline throughput benchmarks send them */
  JOB_MODE_CLOSED,   /* N clients, each sending its next request a think time after its last
                        one completed (the source gives lengths and attributes, in order) */
} job_workload_mode;

/* A closed loop's clients and their think time between a completion and the next request. */
typedef struct job_closed_loop {
  uint32_t clients;       /* >= 1 */
  bool think_exponential; /* exponential think times of mean think_ns; else exactly think_ns */
  int64_t think_ns;       /* >= 0 */
  int64_t duration_ns;    /* no client sends at or after this time; 0: until the source ends */
} job_closed_loop;

/* One think time, drawn from rng (exponential) or not (constant). */
int64_t job_think_time_ns(const job_closed_loop *loop, core_rng *rng);

/* Opens a synthetic source; opts apply as to a trace (the window is on generated time). It must
 * end: give max_requests or to_ns, or a curve whose last rate is 0. Returns 0 or a negative code.
 */
int job_source_open_synthetic(job_source **out, const job_synth_spec *spec,
                              const job_source_opts *opts, char *err, size_t err_len);

#endif
