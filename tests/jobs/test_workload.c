/* Unit tests of the request sources beyond the readers: the replay options of job_source
 * (jobs/source.c: window, scale, offset, cap, offline replay, model names, merged streams), the
 * synthetic generators' statistics and determinism (jobs/workload.c), and multi-turn sessions. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sources.h"

/* ---- Options ------------------------------------------------------------------------------- */

static void window_scale_offset_and_cap_shape_the_replay(void) {
  job_source_opts w = {.from_ns = INT64_C(600000000000), .to_ns = INT64_C(1200000000000)};
  summary s = read_trace(CONV_SLICE, JOB_TRACE_AUTO, &w);
  CU_ASSERT_EQUAL(s.rc, 0);
  CU_ASSERT_EQUAL(s.rows, 3118); /* arrivals in [600 s, 1200 s) of the hour, counted with Python */
  CU_ASSERT_EQUAL(s.first_ns, 197636000); /* rebased to the window start */
  CU_ASSERT_EQUAL(s.last_ns, 599748791000);
  CU_ASSERT_EQUAL(s.input_tokens, 3595428);
  w.rate_scale = 10;
  w.offset_ns = 5000000000;
  s = read_trace(CONV_SLICE, JOB_TRACE_AUTO, &w);
  CU_ASSERT_EQUAL(s.rows, 3118);
  CU_ASSERT_EQUAL(s.first_ns, 19763600 + 5000000000);
  CU_ASSERT_EQUAL(s.last_ns, 59974879100 + 5000000000);
  job_source_opts scaled = {.rate_scale = 0.5, .max_requests = 100};
  s = read_trace(CONV_SLICE, JOB_TRACE_AUTO, &scaled);
  CU_ASSERT_EQUAL(s.rows, 100);
  job_source_opts all = {.max_requests = 100};
  summary plain = read_trace(CONV_SLICE, JOB_TRACE_AUTO, &all);
  CU_ASSERT_EQUAL(s.last_ns, 2 * plain.last_ns); /* half the rate: gaps twice as long */
  CU_ASSERT_EQUAL(s.input_tokens, plain.input_tokens);
}

static void invalid_options_are_refused(void) {
  job_source_opts bad[] = {
      {.offset_ns = -1}, {.rate_scale = -2},   {.rate_scale = NAN}, {.from_ns = 10, .to_ns = 10},
      {.from_ns = -1},   {.max_requests = -5},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    summary s = read_trace(CONV_SLICE, JOB_TRACE_AUTO, &bad[i]);
    CU_ASSERT_EQUAL(s.rc, JOB_SOURCE_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.err, "workload options"));
  }
}

/* ---- Synthetic sources --------------------------------------------------------------------- */

typedef struct gap_stats {
  int64_t count;
  double mean_s, cv;
} gap_stats;

static gap_stats gaps_of(const job_synth_spec *spec, int64_t requests) {
  job_source_opts opts = {.max_requests = requests};
  job_source *src;
  char err[ERR_BYTES];
  gap_stats g = {0};
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, spec, &opts, err, sizeof err), 0);
  job_request r;
  int64_t prev = 0;
  double sum = 0, sum2 = 0;
  while (job_source_next(src, &r, err, sizeof err) == 1) {
    double gap = (double)(r.arrival_ns - prev) * 1e-9;
    prev = r.arrival_ns;
    sum += gap, sum2 += gap * gap;
    g.count++;
  }
  job_source_close(src);
  g.mean_s = sum / (double)g.count;
  g.cv = sqrt(sum2 / (double)g.count - g.mean_s * g.mean_s) / g.mean_s;
  return g;
}

static void poisson_arrivals_have_the_mean_rate_and_unit_cv(void) {
  job_rate_point rate = {0, 100};
  job_synth_spec spec = {.arrival = JOB_ARRIVAL_POISSON,
                         .rate_curve = &rate,
                         .rate_points = 1,
                         .input = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 8},
                         .output = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 2},
                         .seed = 1,
                         .stream_id = JOB_SYNTH_STREAM_DEFAULT};
  gap_stats g = gaps_of(&spec, 200000);
  CU_ASSERT_EQUAL(g.count, 200000);
  /* 5 standard errors: the mean gap's is 0.22%, the CV's about 0.32% */
  CU_ASSERT(fabs(g.mean_s / 0.01 - 1) < 0.011);
  CU_ASSERT(fabs(g.cv - 1) < 0.016);
}

static void gamma_arrivals_have_the_mean_rate_and_the_asked_cv(void) {
  const double cvs[] = {0.5, 2.0, 4.0};
  for (int i = 0; i < 3; i++) {
    job_rate_point rate = {0, 50};
    job_synth_spec spec = {.arrival = JOB_ARRIVAL_GAMMA,
                           .cv = cvs[i],
                           .rate_curve = &rate,
                           .rate_points = 1,
                           .input = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 8},
                           .output = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 2},
                           .seed = 3};
    gap_stats g = gaps_of(&spec, 400000);
    /* standard error of the mean gap cv/sqrt(n); of the CV estimate, up to 1.2% at cv 4 */
    CU_ASSERT(fabs(g.mean_s / 0.02 - 1) < 5 * cvs[i] / sqrt(400000.0));
    if (fabs(g.cv - cvs[i]) > 0.06 * cvs[i])
      fprintf(stderr, "\ncv %.2f measured %.4f\n", cvs[i], g.cv);
    CU_ASSERT(fabs(g.cv - cvs[i]) < 0.06 * cvs[i]);
  }
}

static void rate_curve_shapes_arrivals_and_a_final_zero_ends_the_source(void) {
  /* Rate rises linearly 0 -> 200/s over 100 s, then falls to 0 at 150 s: 10000 + 5000 expected. */
  const job_rate_point curve[] = {{0, 0}, {INT64_C(100000000000), 200}, {INT64_C(150000000000), 0}};
  job_synth_spec spec = {.rate_curve = curve,
                         .rate_points = 3,
                         .input = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 1},
                         .output = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 1},
                         .seed = 11};
  job_source *src;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, &spec, NULL, err, sizeof err), 0);
  int64_t bins[3] = {0}; /* [0, 50 s): 2500 expected, [50, 100 s): 7500, [100, 150 s): 5000 */
  job_request r;
  int rc;
  while ((rc = job_source_next(src, &r, err, sizeof err)) == 1) {
    CU_ASSERT_FATAL(r.arrival_ns < INT64_C(150000000000));
    bins[r.arrival_ns / INT64_C(50000000000)]++;
  }
  CU_ASSERT_EQUAL(rc, 0);
  job_source_close(src);
  const double expected[3] = {2500, 7500, 5000};
  for (int i = 0; i < 3; i++) /* Poisson counts: 5 standard deviations */
    CU_ASSERT(fabs((double)bins[i] - expected[i]) < 5 * sqrt(expected[i]));
}

static void same_seed_gives_the_same_requests_and_another_seed_does_not(void) {
  job_rate_point rate = {0, 20};
  job_synth_spec spec = {.arrival = JOB_ARRIVAL_GAMMA,
                         .cv = 3,
                         .rate_curve = &rate,
                         .rate_points = 1,
                         .input = {.kind = JOB_LENGTH_LOGNORMAL, .median_tokens = 900, .sigma = 1},
                         .output = {.kind = JOB_LENGTH_UNIFORM, .min_tokens = 1, .max_tokens = 500},
                         .seed = 42,
                         .stream_id = 5};
  job_source_opts opts = {.max_requests = 5000};
  job_source *a, *b, *c, *d;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&a, &spec, &opts, err, sizeof err), 0);
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&b, &spec, &opts, err, sizeof err), 0);
  spec.seed = 43;
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&c, &spec, &opts, err, sizeof err), 0);
  spec.seed = 42; /* other input lengths: the same arrivals and output lengths */
  spec.input = (job_length_dist){.kind = JOB_LENGTH_FIXED, .fixed_tokens = 3};
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&d, &spec, &opts, err, sizeof err), 0);
  job_request ra, rb, rc, rd;
  int64_t same = 0, differ = 0, same_arrival = 0;
  for (int i = 0; i < 5000; i++) {
    CU_ASSERT_FATAL(job_source_next(a, &ra, err, sizeof err) == 1);
    CU_ASSERT_FATAL(job_source_next(b, &rb, err, sizeof err) == 1);
    CU_ASSERT_FATAL(job_source_next(c, &rc, err, sizeof err) == 1);
    CU_ASSERT_FATAL(job_source_next(d, &rd, err, sizeof err) == 1);
    same += ra.arrival_ns == rb.arrival_ns && ra.input_tokens == rb.input_tokens &&
            ra.output_tokens == rb.output_tokens;
    differ += ra.arrival_ns != rc.arrival_ns;
    same_arrival += ra.arrival_ns == rd.arrival_ns && ra.output_tokens == rd.output_tokens;
  }
  CU_ASSERT_EQUAL(same, 5000);
  CU_ASSERT(differ > 4990);
  CU_ASSERT_EQUAL(same_arrival, 5000);
  job_source_close(a), job_source_close(b), job_source_close(c), job_source_close(d);
}

static void length_distributions_respect_their_parameters(void) {
  job_rate_point rate = {0, 1000};
  job_synth_spec spec = {.rate_curve = &rate,
                         .rate_points = 1,
                         .input = {.kind = JOB_LENGTH_UNIFORM, .min_tokens = 5, .max_tokens = 9},
                         .output = {.kind = JOB_LENGTH_LOGNORMAL,
                                    .median_tokens = 200,
                                    .sigma = 0.5,
                                    .max_tokens = 400},
                         .seed = 9};
  job_source_opts opts = {.max_requests = 100000};
  job_source *src;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, &spec, &opts, err, sizeof err), 0);
  int64_t uniform[5] = {0}, below_median = 0, clamped = 0, n = 0;
  job_request r;
  while (job_source_next(src, &r, err, sizeof err) == 1) {
    CU_ASSERT_FATAL(r.input_tokens >= 5 && r.input_tokens <= 9);
    uniform[r.input_tokens - 5]++;
    CU_ASSERT(r.output_tokens >= 1 && r.output_tokens <= 400);
    below_median += r.output_tokens < 200;
    clamped += r.output_tokens == 400;
    n++;
  }
  job_source_close(src);
  for (int i = 0; i < 5; i++) /* binomial(1e5, 0.2): sd 126 */
    CU_ASSERT(fabs((double)uniform[i] - 20000) < 650);
  /* P(x < 199.5) = Phi(ln(199.5/200)/0.5) = 0.498; P(x >= 399.5) = 1 - Phi(ln(1.9975)/0.5) = 0.0836
   */
  CU_ASSERT(fabs((double)below_median / (double)n - 0.498) < 0.008);
  CU_ASSERT(fabs((double)clamped / (double)n - 0.0836) < 0.005);
}

static int compare_pairs(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static void empirical_lengths_come_only_from_pairs_of_the_trace(void) {
  summary all = read_trace(CONV_SLICE, JOB_TRACE_AUTO, NULL);
  int64_t *pairs = malloc((size_t)all.rows * sizeof *pairs);
  CU_ASSERT_FATAL(pairs != NULL);
  job_source *src;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL_FATAL(
      job_source_open_trace(&src, CONV_SLICE, JOB_TRACE_AUTO, NULL, err, sizeof err), 0);
  job_request r;
  for (int64_t i = 0; job_source_next(src, &r, err, sizeof err) == 1; i++)
    pairs[i] = (int64_t)r.input_tokens << 32 | r.output_tokens;
  job_source_close(src);
  qsort(pairs, (size_t)all.rows, sizeof *pairs, compare_pairs);
  job_rate_point rate = {0, 10};
  job_synth_spec spec = {
      .rate_curve = &rate, .rate_points = 1, .empirical_path = CONV_SLICE, .seed = 5};
  job_source_opts opts = {.max_requests = 50000};
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, &spec, &opts, err, sizeof err), 0);
  int64_t found = 0, n = 0, input_sum = 0;
  while (job_source_next(src, &r, err, sizeof err) == 1) {
    int64_t key = (int64_t)r.input_tokens << 32 | r.output_tokens;
    found += bsearch(&key, pairs, (size_t)all.rows, sizeof key, compare_pairs) != NULL;
    input_sum += r.input_tokens;
    n++;
  }
  job_source_close(src);
  CU_ASSERT_EQUAL(n, 50000);
  CU_ASSERT_EQUAL(found, n);
  /* the mean input matches the trace's 1154.7 (sd 1109 / sqrt(5e4) = 5; 5 sd) */
  CU_ASSERT(fabs((double)input_sum / (double)n - 22361870.0 / 19366) < 25);
  /* a pair built from two rows' halves is not in the trace: the check above can fail */
  int64_t mixed = (int64_t)14050 << 32 | 7;
  CU_ASSERT_PTR_NULL(bsearch(&mixed, pairs, (size_t)all.rows, sizeof mixed, compare_pairs));
  free(pairs);
}

static void invalid_or_endless_synthetic_specs_are_refused(void) {
  job_rate_point rate = {0, 10}, zero = {0, 0}, late = {5, 10};
  const job_length_dist one = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 1};
  job_source_opts capped = {.max_requests = 10};
  struct {
    job_synth_spec spec;
    const job_source_opts *opts;
    const char *needle;
  } cases[] = {
      {{.rate_curve = &rate, .rate_points = 1, .input = one, .output = one}, NULL, "never ends"},
      {{.rate_curve = &zero, .rate_points = 1, .input = one, .output = one}, &capped, "rate is 0"},
      {{.rate_curve = &late, .rate_points = 1, .input = one, .output = one}, &capped, "time 0"},
      {{.rate_points = 0, .input = one, .output = one}, &capped, "needs a rate"},
      {{.arrival = JOB_ARRIVAL_GAMMA,
        .rate_curve = &rate,
        .rate_points = 1,
        .input = one,
        .output = one},
       &capped,
       "coefficient of variation"},
      {{.rate_curve = &rate,
        .rate_points = 1,
        .input = {.kind = JOB_LENGTH_UNIFORM, .min_tokens = 9, .max_tokens = 3},
        .output = one},
       &capped,
       "uniform"},
      {{.rate_curve = &rate,
        .rate_points = 1,
        .input = one,
        .output = {.kind = JOB_LENGTH_LOGNORMAL, .median_tokens = -1}},
       &capped,
       "lognormal"},
      {{.rate_curve = &rate, .rate_points = 1, .empirical_path = WT_TEST_TMP_DIR "/absent.csv"},
       &capped,
       "cannot open"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    job_source *src;
    char err[ERR_BYTES] = "";
    CU_ASSERT(job_source_open_synthetic(&src, &cases[i].spec, cases[i].opts, err, sizeof err) < 0);
    CU_ASSERT_PTR_NULL(src);
    if (!strstr(err, cases[i].needle))
      fprintf(stderr, "\ncase %zu: '%s' lacks '%s'\n", i, err, cases[i].needle);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].needle));
  }
}

static void synthetic_window_and_cap_apply_like_a_trace(void) {
  job_rate_point rate = {0, 1000};
  job_synth_spec spec = {.rate_curve = &rate,
                         .rate_points = 1,
                         .input = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 1},
                         .output = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 1},
                         .seed = 2};
  job_source_opts window = {.from_ns = 1000000000, .to_ns = 11000000000};
  job_source *src;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, &spec, &window, err, sizeof err), 0);
  summary s = drain(src);
  CU_ASSERT_EQUAL(s.rc, 0);
  CU_ASSERT(fabs((double)s.rows - 10000) < 500); /* Poisson(10000): sd 100 */
  CU_ASSERT(s.first_ns >= 0 && s.last_ns < 10000000000);
  job_source_opts cap = {.max_requests = 1234};
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, &spec, &cap, err, sizeof err), 0);
  CU_ASSERT_EQUAL(drain(src).rows, 1234);
}

/* ---- Offline replay and model names -----------------------------------------------------------
 */

/* Offline: every request at offset_ns, the window and cap still choosing which. */
static void offline_replay_sends_the_windowed_requests_at_the_offset(void) {
  job_source_opts window = {.from_ns = INT64_C(200000000000), .to_ns = INT64_C(400000000000)};
  summary timed = read_trace(CODE_SLICE, JOB_TRACE_AUTO, &window);
  window.offline = true;
  window.offset_ns = 7;
  summary offline = read_trace(CODE_SLICE, JOB_TRACE_AUTO, &window);
  CU_ASSERT_EQUAL(offline.rc, 0);
  CU_ASSERT(timed.rows > 10 && timed.last_ns > timed.first_ns);
  CU_ASSERT_EQUAL(offline.rows, timed.rows);
  CU_ASSERT_EQUAL(offline.input_tokens, timed.input_tokens);
  CU_ASSERT(offline.first_ns == 7 && offline.last_ns == 7);
}

/* A model column (or key) names each request's model: numbered from 1 in order of first
 * appearance; an empty field takes the default model (opts.model_name, number 1), else 0. */
static void model_names_are_numbered_in_order_of_appearance(void) {
  char path[PATH_BYTES], err[ERR_BYTES];
  fixture(path,
          "arrival_time_ns,input_toks,output_toks,model\n0,1,1,b\n1,1,1,\n2,1,1,a\n"
          "3,1,1,b\n");
  job_source_opts opts = {.model_name = "dflt"};
  job_source *src;
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&src, path, JOB_TRACE_AUTO, &opts, err, sizeof err),
                        0);
  uint32_t want[] = {2, 1, 3, 2};
  job_request r;
  for (int i = 0; i < 4; i++) {
    CU_ASSERT_EQUAL_FATAL(job_source_next(src, &r, err, sizeof err), 1);
    CU_ASSERT_EQUAL(r.attrs.model, want[i]);
  }
  CU_ASSERT_EQUAL(job_source_models(src), 3);
  CU_ASSERT_STRING_EQUAL(job_source_model_name(src, 1), "dflt");
  CU_ASSERT_STRING_EQUAL(job_source_model_name(src, 2), "b");
  CU_ASSERT_STRING_EQUAL(job_source_model_name(src, 3), "a");
  job_source_close(src);
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&src, path, JOB_TRACE_AUTO, NULL, err, sizeof err),
                        0);
  CU_ASSERT_EQUAL_FATAL(job_source_next(src, &r, err, sizeof err), 1);
  CU_ASSERT_EQUAL(r.attrs.model, 1); /* "b" */
  CU_ASSERT_EQUAL_FATAL(job_source_next(src, &r, err, sizeof err), 1);
  CU_ASSERT_EQUAL(r.attrs.model, 0); /* none named, no default */
  job_source_close(src);
  unlink(path);
  fixture(path,
          "{\"timestamp\": 0, \"input_length\": 4, \"output_length\": 2, \"model\": "
          "\"m1\"}\n{\"timestamp\": 0, \"input_length\": 4, \"output_length\": 2, "
          "\"model\": 7}\n");
  summary bad = read_trace(path, JOB_TRACE_AUTO, NULL);
  CU_ASSERT_EQUAL(bad.rows, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(bad.err, ":2: model: expected a string"));
  unlink(path);
}

/* ---- Multi-turn sessions ----------------------------------------------------------------------
 */

enum { MAX_TURN_HASHES = 64 };
typedef struct turn {
  int64_t arrival_ns;
  int32_t input_tokens, output_tokens;
  uint32_t hash_count;
  uint64_t hashes[MAX_TURN_HASHES];
} turn;

/* Turn b follows turn a in one conversation: b's prompt holds a's prompt and output, and b's
 * prefix hashes start with a's full blocks' hashes. */
static bool continues(const turn *a, const turn *b) {
  uint32_t full = (uint32_t)(a->input_tokens / JOB_MOONCAKE_BLOCK_TOKENS);
  return b->input_tokens > a->input_tokens + a->output_tokens && b->hash_count >= full &&
         memcmp(a->hashes, b->hashes, full * sizeof *a->hashes) == 0;
}

/* Synthetic sessions: 3 turns each, 2 s apart, prompts growing by the conversation so far; turns of
 * one session share their prefix hashes (block 0 names the session), other sessions none. */
static void synthetic_sessions_grow_their_prompts_and_share_prefix_hashes(void) {
  enum { TURNS = 300 };
  job_rate_point rate = {0, 5};
  job_synth_spec spec = {
      .rate_curve = &rate,
      .rate_points = 1,
      .input = {.kind = JOB_LENGTH_UNIFORM, .min_tokens = 100, .max_tokens = 900},
      .output = {.kind = JOB_LENGTH_UNIFORM, .min_tokens = 10, .max_tokens = 600},
      .seed = 3,
      .sessions = true,
      .turns = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 3},
      .turn_gap_ns = 2000000000};
  job_source_opts cap = {.max_requests = TURNS};
  job_source *src;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, &spec, &cap, err, sizeof err), 0);
  CU_ASSERT(job_source_has_prefix_hashes(src));
  static turn t[TURNS];
  job_request r;
  int n = 0;
  while (n < TURNS && job_source_next(src, &r, err, sizeof err) == 1) {
    CU_ASSERT_FATAL(r.prefix_hash_count <= MAX_TURN_HASHES);
    CU_ASSERT_EQUAL(r.prefix_hash_count,
                    (r.input_tokens + JOB_MOONCAKE_BLOCK_TOKENS - 1) / JOB_MOONCAKE_BLOCK_TOKENS);
    t[n] = (turn){r.arrival_ns, r.input_tokens, r.output_tokens, r.prefix_hash_count, {0}};
    memcpy(t[n].hashes, r.prefix_hashes, r.prefix_hash_count * sizeof *r.prefix_hashes);
    CU_ASSERT(n == 0 || t[n].arrival_ns >= t[n - 1].arrival_ns);
    n++;
  }
  job_source_close(src);
  CU_ASSERT_EQUAL_FATAL(n, TURNS);
  /* Group by block 0's hash: each session is up to 3 turns 2 s apart, each continuing the last; a
   * session with fewer was cut by the cap: its next turn would come after the last one read. */
  int sessions = 0, complete = 0, broken = 0, cut_early = 0;
  static bool seen[TURNS];
  for (int i = 0; i < n; i++) {
    if (seen[i])
      continue;
    sessions++;
    int members[TURNS] = {i}, m = 0;
    for (int j = i; j < n; j++)
      if (!seen[j] && t[j].hashes[0] == t[i].hashes[0])
        seen[j] = true, members[m++] = j;
    CU_ASSERT(m <= 3);
    complete += m == 3;
    cut_early += m < 3 && t[members[m - 1]].arrival_ns + 2000000000 < t[n - 1].arrival_ns;
    for (int k = 1; k < m; k++)
      broken += !continues(&t[members[k - 1]], &t[members[k]]) ||
                t[members[k]].arrival_ns - t[members[k - 1]].arrival_ns != 2000000000;
    CU_ASSERT(t[members[0]].input_tokens >= 100 && t[members[0]].input_tokens <= 900);
  }
  CU_ASSERT_EQUAL(broken, 0);
  CU_ASSERT_EQUAL(cut_early, 0);
  CU_ASSERT(complete >= 80 && sessions >= 100); /* 5 sessions/s for about 22 s */
}

/* A trace's session column: rows of one session share prefix hashes, of others not. */
static void trace_session_column_gives_shared_prefix_hashes(void) {
  char path[PATH_BYTES], err[ERR_BYTES];
  fixture(path,
          "arrival_time_ns,input_toks,output_toks,session\n0,1100,300,chat-a\n"
          "1,1200,10,chat-b\n5,1500,20,chat-a\n6,700,5,\n");
  job_source *src;
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&src, path, JOB_TRACE_AUTO, NULL, err, sizeof err),
                        0);
  CU_ASSERT(job_source_has_prefix_hashes(src));
  turn t[4];
  job_request r;
  for (int i = 0; i < 4; i++) {
    CU_ASSERT_EQUAL_FATAL(job_source_next(src, &r, err, sizeof err), 1);
    t[i] = (turn){r.arrival_ns, r.input_tokens, r.output_tokens, r.prefix_hash_count, {0}};
    if (r.prefix_hash_count) /* else prefix_hashes is NULL */
      memcpy(t[i].hashes, r.prefix_hashes, r.prefix_hash_count * sizeof *r.prefix_hashes);
  }
  job_source_close(src);
  unlink(path);
  CU_ASSERT(t[0].hash_count == 3 && t[1].hash_count == 3 && t[2].hash_count == 3);
  CU_ASSERT(continues(&t[0], &t[2]));
  CU_ASSERT(t[0].hashes[0] != t[1].hashes[0] && t[0].hashes[1] != t[1].hashes[1]);
  CU_ASSERT_EQUAL(t[3].hash_count, 0); /* no session: no hashes */
}

/* Merged sources: arrival order, ties to the earlier source, model names renumbered by the merged
 * stream and the merged stream's default model for requests that name none. */
static void merged_sources_interleave_by_arrival_and_renumber_models(void) {
  char a[PATH_BYTES], b[PATH_BYTES], err[ERR_BYTES];
  fixture(a, "arrival_time_ns,input_toks,output_toks,model\n0,1,1,x\n10,2,1,\n20,3,1,x\n");
  fixture(b, "arrival_time_ns,input_toks,output_toks,model\n0,4,1,y\n15,5,1,x\n");
  job_source *subs[2];
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&subs[0], a, JOB_TRACE_AUTO, NULL, err, sizeof err),
                        0);
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&subs[1], b, JOB_TRACE_AUTO, NULL, err, sizeof err),
                        0);
  job_source_opts opts = {.model_name = "d"};
  job_source *src;
  CU_ASSERT_EQUAL_FATAL(job_source_open_merged(&src, subs, 2, &opts, err, sizeof err), 0);
  int32_t want_input[] = {1, 4, 2, 5, 3};
  const char *want_model[] = {"x", "y", "d", "x", "x"};
  job_request r;
  for (int i = 0; i < 5; i++) {
    CU_ASSERT_EQUAL_FATAL(job_source_next(src, &r, err, sizeof err), 1);
    CU_ASSERT_EQUAL(r.id, i);
    CU_ASSERT_EQUAL(r.input_tokens, want_input[i]);
    CU_ASSERT_STRING_EQUAL(job_source_model_name(src, r.attrs.model), want_model[i]);
  }
  CU_ASSERT_EQUAL(job_source_next(src, &r, err, sizeof err), 0);
  CU_ASSERT_EQUAL(job_source_models(src), 3); /* d, x, y */
  job_source_close(src);
  unlink(a);
  unlink(b);
}

static const named_test tests[] = {
    TEST(window_scale_offset_and_cap_shape_the_replay),
    TEST(invalid_options_are_refused),
    TEST(poisson_arrivals_have_the_mean_rate_and_unit_cv),
    TEST(gamma_arrivals_have_the_mean_rate_and_the_asked_cv),
    TEST(rate_curve_shapes_arrivals_and_a_final_zero_ends_the_source),
    TEST(same_seed_gives_the_same_requests_and_another_seed_does_not),
    TEST(length_distributions_respect_their_parameters),
    TEST(empirical_lengths_come_only_from_pairs_of_the_trace),
    TEST(invalid_or_endless_synthetic_specs_are_refused),
    TEST(synthetic_window_and_cap_apply_like_a_trace),
    TEST(offline_replay_sends_the_windowed_requests_at_the_offset),
    TEST(model_names_are_numbered_in_order_of_appearance),
    TEST(synthetic_sessions_grow_their_prompts_and_share_prefix_hashes),
    TEST(trace_session_column_gives_shared_prefix_hashes),
    TEST(merged_sources_interleave_by_arrival_and_renumber_models),
};

int main(int argc, char **argv) {
  return run_named_tests("workload", tests, sizeof tests / sizeof tests[0], argc, argv);
}
