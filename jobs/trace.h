/* Request sources: a workload as a stream of requests in arrival order, one at a time, in bounded
 * memory, read from a real trace file (here) or generated (jobs/workload.h). */
#ifndef JOB_TRACE_H
#define JOB_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Result codes (0 is success). */
enum {
  JOB_SOURCE_EIO = -1,     /* a file cannot be opened or read */
  JOB_SOURCE_EFORMAT = -2, /* malformed content (a bad row, an unknown header) */
  JOB_SOURCE_EINVAL = -3,  /* invalid options or specification */
  JOB_SOURCE_ENOMEM = -4,
};

/* Distinct model names a source takes (a trace naming more is malformed). */
#define JOB_MAX_MODELS 4096u

/* Mooncake's hash_ids each name one KV block of this many prompt tokens (FAST'25 README). */
#define JOB_MOONCAKE_BLOCK_TOKENS 512

/* The last representable arrival: arrivals at or past 2^62 ns (146 years) after scale and offset
 * are dropped and counted (job_source_dropped_arrivals), leaving the engine room to add latencies
 * to any time it holds. */
#define JOB_ARRIVAL_END_NS ((int64_t)1 << 62)

/* A request's service class (SageServe's tiers): interactive requests want their first token
 * soon; batch requests can wait, up to their deadline if they have one. */
typedef enum job_tier { JOB_TIER_INTERACTIVE = 0, JOB_TIER_BATCH = 1 } job_tier;

/* What a request asks for besides its lengths, from the workload (trace columns, or the stream's
 * settings for every request of it): the one place routers, schedulers and the timeline read it.
 * All zero is the default: interactive, priority 0, no deadline. */
typedef struct job_request_attrs {
  int64_t deadline_ns; /* batch: should be done this long after arrival; 0: no deadline */
  int32_t priority;    /* lower is served earlier under scheduler.policy: priority (vLLM's rule) */
  uint32_t tier;       /* job_tier */
  /* The model (or deployment) it is aimed at: 0 any; else the source's name number model
   * (job_source_model_name), numbered from 1 in order of first appearance. */
  uint32_t model;
  uint32_t pad;
} job_request_attrs;

/* "interactive" or "batch", and back (case-insensitive, n bytes of name); parse returns 0 or
 * JOB_SOURCE_EINVAL. */
const char *job_tier_name(job_tier tier);
int job_tier_parse(const char *name, size_t n, job_tier *tier);

typedef struct job_request {
  int64_t id;            /* 0-based position in the source's output (after window and cap) */
  int64_t arrival_ns;    /* from the trace start, after window, scale and offset; never decreases */
  int32_t input_tokens;  /* >= 1 */
  int32_t output_tokens; /* >= 1 */
  uint32_t prefix_hash_count;    /* Mooncake prefix-block hashes; 0 for other sources */
  const uint64_t *prefix_hashes; /* owned by the source, valid until its next call */
  job_request_attrs attrs;
} job_request;

/* Azure's 2023 and 2024 files share one layout; only the timestamps differ: 2023 has
 * "2023-11-16 18:15:46.6805900", 2024 "2024-05-10 00:00:00.009930+00:00" (no fraction when 0). */
typedef enum job_trace_format {
  JOB_TRACE_AUTO = 0,      /* from the first line: '{' is Mooncake, else the CSV header's names */
  JOB_TRACE_AZURE,         /* TIMESTAMP,ContextTokens,GeneratedTokens (Azure LLM inference) */
  JOB_TRACE_MOONCAKE,      /* JSON lines: timestamp (ms), input_length, output_length, hash_ids */
  JOB_TRACE_LLMSERVINGSIM, /* arrival_time_ns,input_toks,output_toks */
  JOB_TRACE_VIDUR,         /* arrived_at (s),num_prefill_tokens,num_decode_tokens */
  JOB_TRACE_SPLITWISE,     /* SplitwiseSim: arrival_timestamp (s), prompt_size, token_size, ... */
  JOB_TRACE_LENGTHS,       /* num_prefill_tokens,num_decode_tokens, no times: lengths only */
} job_trace_format;

/* Lower-case name ("azure", "mooncake", ...), and back; parse returns 0 or JOB_SOURCE_EINVAL. */
const char *job_trace_format_name(job_trace_format format);
int job_trace_format_parse(const char *name, job_trace_format *format);

/* How to replay a source. All zero is "as recorded, everything, stop at the first bad row". The
 * window is on the source's own time axis (before scaling) and arrivals are rebased to its start:
 * arrival_ns = (source_ns - from_ns) / rate_scale + offset_ns; offline, every arrival is offset_ns
 * (the window and cap still choose which requests). */
typedef struct job_source_opts {
  int64_t offset_ns; /* >= 0, added last */
  double rate_scale; /* > 0 replays at this multiple of the rate (10: ten times the rate); 0 is 1 */
  int64_t from_ns;   /* window start, >= 0 */
  int64_t to_ns;     /* window end (exclusive); 0 means no end */
  int64_t max_requests; /* request cap; 0 means none */
  bool skip_bad_rows;   /* count and skip malformed rows instead of failing */
  bool offline;         /* every request arrives at offset_ns, as throughput benchmarks send them */
  /* Attributes of requests whose row does not give them (trace columns priority, tier, deadline_s
   * and model; Mooncake keys of the same names); defaults.model is ignored: model_name, when not
   * NULL (borrowed during open), is every such request's model, number 1. */
  job_request_attrs defaults;
  const char *model_name;
} job_source_opts;

typedef struct job_source job_source;

/* Opens a trace file (format may be JOB_TRACE_AUTO). A trace's start is time 0 for formats with
 * relative times and the first good row's timestamp for Azure's wall-clock times. Rows must be in
 * time order: a row earlier than its predecessor is malformed. On failure returns a negative code,
 * sets *out to NULL and writes one line to err. JOB_TRACE_LENGTHS files are refused (no times). */
int job_source_open_trace(job_source **out, const char *path, job_trace_format format,
                          const job_source_opts *opts, char *err, size_t err_len);

/* The next request into *req: returns 1, or 0 at the end, or a negative code with err filled as
 * "path:line: reason" for a malformed row. After an error every call repeats it. */
int job_source_next(job_source *src, job_request *req, char *err, size_t err_len);

/* Merges several sources into one stream in arrival order (ties: the earlier source first), as
 * a workload of several streams (two models with their own rates and lengths): each request keeps
 * its source's lengths, hashes and attributes; model names are numbered anew in the merged stream.
 * Takes ownership of subs[0..n) (closed on failure too; the array itself is copied). opts apply to
 * the merged stream; the subs' own should bound them (max_requests or to_ns) when synthetic. */
int job_source_open_merged(job_source **out, job_source *const *subs, size_t n,
                           const job_source_opts *opts, char *err, size_t err_len);

int64_t job_source_bad_rows(const job_source *src); /* skipped so far (skip_bad_rows) */
/* The model names requests were aimed at so far: how many, and number model (1 .. count). */
uint32_t job_source_models(const job_source *src);
const char *job_source_model_name(const job_source *src, uint32_t model);
/* Requests dropped so far because they arrive at or past JOB_ARRIVAL_END_NS (the source ends at
 * the first of them; the rest are counted, not returned). */
int64_t job_source_dropped_arrivals(const job_source *src);
const char *job_source_first_bad_row(const job_source *src); /* its message, or "" */
job_trace_format job_source_format(const job_source *src); /* detected format; AUTO if synthetic */
/* Whether requests come with prefix block hashes: a Mooncake trace, a trace with a session column,
 * a synthetic source with sessions. */
bool job_source_has_prefix_hashes(const job_source *src);
void job_source_close(job_source *src); /* NULL is fine */

#endif
