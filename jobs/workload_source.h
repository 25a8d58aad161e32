/* Internal to jobs/: how a backend (trace reader, synthetic generator) plugs into job_source, which
 * applies the window, scale, offset, cap and bad-row policy common to all of them. */
#ifndef JOB_WORKLOAD_SOURCE_H
#define JOB_WORKLOAD_SOURCE_H

#include "trace.h"

/* What a backend's next() returns besides 1 (a request), 0 (end) and negative codes: a malformed
 * row, described in err, that the policy may skip. */
#define JOB_ROW_BAD 2

/* The longest message a source or a trace reader keeps (a row's error, the first bad row's). */
enum { MESSAGE_BYTES = 512 };

typedef struct job_raw_request {
  int64_t time_ns; /* the source's own time from its start, non-decreasing */
  int32_t input_tokens, output_tokens;
  uint32_t prefix_hash_count;
  const uint64_t *prefix_hashes;
  /* The source's defaults on entry; a backend overrides what a row gives. */
  job_request_attrs attrs;
  const char *model_name; /* a row's model (model_name_len bytes, not terminated); NULL: none */
  size_t model_name_len;
} job_raw_request;

typedef struct job_source_backend {
  int (*next)(void *impl, job_raw_request *raw, char *err, size_t err_len);
  void (*close)(void *impl);
} job_source_backend;

/* Wraps impl (owned from now on, closed on failure too). Validates opts. */
int job_source_wrap(job_source **out, const job_source_backend *backend, void *impl,
                    job_trace_format format, const job_source_opts *opts, char *err,
                    size_t err_len);

/* job_source_open_trace that also takes JOB_TRACE_LENGTHS files (their arrivals are all 0). */
int job_source_open_lengths(job_source **out, const char *path, job_trace_format format,
                            const job_source_opts *opts, char *err, size_t err_len);

/* Prefix block hashes (one per JOB_MOONCAKE_BLOCK_TOKENS tokens, the last block partial) of a
 * prompt of input_tokens in a conversation identified by session_key: a conversation only grows,
 * so the tokens at a position are the same in each of its turns, and so is the hash of a block
 * there. Writes ceil(input_tokens / block) hashes to out, grown as needed (*cap entries). Returns
 * the count, or -1 out of memory. */
int64_t job_session_hashes(uint64_t session_key, int32_t input_tokens, uint64_t **out, size_t *cap);

/* Marks src as giving prefix hashes (job_source_has_prefix_hashes). */
void job_source_set_prefix_hashes(job_source *src);

/* Sets the bad-row record a synthetic source reports (from reading its empirical trace). */
void job_source_set_bad_rows(job_source *src, int64_t bad_rows, const char *first_bad);

#endif
