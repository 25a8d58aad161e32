/* Internal to calib/: one measured serving run as `windtunnel validate` replays it (the setup, the
 * requests, the measured figures), the readers that build such cases from each layout of
 * ../shared/data/e2e, the flat JSON reader they share, and the replay of one case. */
#ifndef CALIB_VALIDATE_CASE_H
#define CALIB_VALIDATE_CASE_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VAL_MAX_METRICS 12

typedef struct val_request {
  int64_t arrival_ns;
  int32_t input_tokens, output_tokens;
  double measured_ms[3]; /* TTFT, TPOT, E2E of this request where the data has them; else NAN */
} val_request;

/* The per-request latencies compared where a dataset has them (val_case.per_request). */
enum { VAL_TTFT, VAL_TPOT, VAL_E2E };

/* Over the requests that have the latency: how many, and the median and p90 of |predicted /
 * measured - 1| in percent. */
typedef struct val_per_request {
  size_t requests;
  double median_abs_err_pct, p90_abs_err_pct;
} val_per_request;

/* A figure of the measured run, by name (calib/validate_run.c lists the names it can predict). */
typedef struct val_metric {
  char name[32];
  double measured, predicted; /* predicted NAN until the case is replayed */
} val_metric;

typedef struct val_case {
  char dataset[64]; /* the folder under the data directory, or "user" */
  char name[192];
  /* Setup: catalogue names, parallelism, engine limits (0 or -1: the scenario's default). */
  char model[64], accel[64], dtype[32]; /* dtype "" for bf16 */
  char engine[32];                      /* engine profile (hw/data/engines.csv); "" for none */
  uint32_t tp, pp, count;
  uint32_t max_num_seqs, max_num_batched_tokens;
  double gpu_memory_utilization;
  int chunked_prefill;  /* -1 default, 0 off, 1 on */
  bool moe_copies;      /* the batch's sequences are copies in lockstep (moe_routing: copies) */
  const char *scenario; /* a user's scenario (--scenario) instead of the setup above; borrowed */
  /* The workload: every request, arrivals from 0. */
  val_request *req;
  size_t n_req, cap_req;
  size_t requests_measured;           /* in the measured run, when more than were replayed */
  bool per_request;                   /* requests carry measured latencies */
  val_per_request per_request_err[3]; /* by VAL_TTFT.., filled by the replay */
  val_metric metric[VAL_MAX_METRICS];
  int n_metric;
  char skip[256]; /* why the case cannot be modelled; "" when it can */
  char note[256]; /* how the setup or workload was approximated */
} val_case;

typedef struct val_cases {
  val_case *c;
  size_t n, cap;
} val_cases;

/* A new case (zeroed, tp=pp=count=1, chunked_prefill -1) appended to cases; NULL on no memory. */
val_case *val_case_new(val_cases *cases, const char *dataset, const char *name);
int val_case_request(val_case *c, int64_t arrival_ns, int32_t input_tokens, int32_t output_tokens);
void val_case_metric(val_case *c, const char *name, double measured);
void val_case_skip(val_case *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void val_case_note(val_case *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void val_cases_free(val_cases *cases);

/* A deterministic stream for the workloads a run describes only by distribution (splitmix64). */
typedef struct val_rng {
  uint64_t state;
} val_rng;
double val_rng_uniform(val_rng *r); /* in (0, 1) */

/* Poisson arrivals at rate_per_s (0 or infinite: every request at t=0) for n requests whose
 * lengths lengths(i) gives; 0, or -1 when memory runs out. */
int val_case_poisson(val_case *c, double rate_per_s, size_t n, val_rng *rng,
                     void (*lengths)(size_t i, val_rng *rng, void *ctx, int32_t *in, int32_t *out),
                     void *ctx);

/* ---- the flat JSON reader ---- */

/* One member of a JSON object: a number, a string, null/true/false (kind VAL_JSON_OTHER), or an
 * array of numbers; nested objects and other arrays are kept as VAL_JSON_OTHER. */
typedef enum val_json_kind {
  VAL_JSON_NUMBER,
  VAL_JSON_STRING,
  VAL_JSON_ARRAY,
  VAL_JSON_OTHER
} val_json_kind;

typedef struct val_json_member {
  char *key;
  val_json_kind kind;
  double number;
  char *string;
  double *array;
  size_t array_n;
} val_json_member;

typedef struct val_json_object {
  val_json_member *m;
  size_t n, cap;
} val_json_object;

/* Reads every top-level object of the file at path (JSON lines, or one object over many lines)
 * into *objs (count *n; free with val_json_free). 0, or -1 with "path:line: what" in err. */
int val_json_read(const char *path, val_json_object **objs, size_t *n, char *err, size_t err_len);
void val_json_free(val_json_object *objs, size_t n);
const val_json_member *val_json_get(const val_json_object *o, const char *key);
/* The member's number, or NAN when it is absent or not a number. */
double val_json_number(const val_json_object *o, const char *key);

/* ---- the readers: each appends one case per measured run of its dataset folder ---- */

typedef struct val_filter {
  const char *case_pattern; /* fnmatch pattern on the case name; NULL for all */
  size_t max_requests;      /* replay at most this many requests of a run; 0: all */
} val_filter;

typedef int (*val_reader)(const char *dir, const val_filter *f, val_cases *out, char *err,
                          size_t err_len);
int val_read_llmd(const char *dir, const val_filter *f, val_cases *out, char *err, size_t err_len);
int val_read_apex(const char *dir, const val_filter *f, val_cases *out, char *err, size_t err_len);
int val_read_datacrunch(const char *dir, const val_filter *f, val_cases *out, char *err,
                        size_t err_len);
int val_read_sglang_vllm(const char *dir, const val_filter *f, val_cases *out, char *err,
                         size_t err_len);
int val_read_argonne(const char *dir, const val_filter *f, val_cases *out, char *err,
                     size_t err_len);
int val_read_trtllm(const char *dir, const val_filter *f, val_cases *out, char *err,
                    size_t err_len);
/* A bench_serving result (vLLM's benchmark_serving / `vllm bench serve` JSON, SGLang's JSON
 * lines): one case per object, named after the file and the object's index, measured figures
 * from its fields, requests from input_lens/output_lens (else its random lengths) and its
 * request_rate (Poisson; inf: all at t=0). The setup comes from scenario. */
int val_read_bench_file(const char *path, const char *dataset, const char *scenario,
                        const val_filter *f, val_cases *out, char *err, size_t err_len);

/* Whether the case's name passes the filter (and so should be read at all). */
bool val_filter_case(const val_filter *f, const char *name);

/* ---- the replay ---- */

/* Collective over comm (every rank holds the same case): replays the case through the serving
 * simulation in tmp_dir and fills each metric's predicted value on rank 0. Returns 0; 1 when the
 * scenario reader or the simulation refuses the setup (c->skip says why, on every rank); -1 with
 * a message when the scratch files cannot be written or the timeline read. */
int val_case_run(val_case *c, const char *tmp_dir, MPI_Comm comm, char *err, size_t err_len);

#endif
