/* Benchmark of job_sched: CPU time per iteration (step + finish, and the arrivals that keep the
 * instance saturated) with about 256 running sequences, mostly decodes with prefill chunks mixed
 * in. CPU time of this thread, not wall time, so that a shared machine's other jobs count less.
 * Prints one JSON object per configuration. Usage: bench_sched [ITERATIONS] */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "jobs/sched.h"

enum { MAX_HASHES = 64, HASH_SLOTS = 4096 };

static uint64_t rng_next(uint64_t *state) {
  *state = *state * 6364136223846793005u + 1442695040888963407u;
  return *state >> 33;
}

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* hashes: HASH_SLOTS arrays, recycled by id (far more slots than requests alive at once). */
static int run(const char *name, bool caching, uint64_t iterations,
               uint64_t (*hashes)[MAX_HASHES]) {
  job_sched_config cfg = {
      .max_num_batched_tokens = 8192,
      .max_num_seqs = 256,
      .block_size_tokens = 16,
      .total_kv_blocks = 40000, /* room for 256 sequences of up to 1536 tokens */
      .chunked_prefill = true,
      .prefix_caching = caching,
      .policy = JOB_SCHED_FCFS,
  };
  char err[256];
  job_sched *s;
  if (job_sched_create(&s, &cfg, err, sizeof err) != 0) {
    fprintf(stderr, "bench_sched: %s\n", err);
    return 1;
  }
  uint64_t state = 42, next_id = 0, seqs = 0, tokens = 0;
  job_sched_stats st = {0};
  double start = 0;
  for (uint64_t it = 0; it < iterations + iterations / 10; it++) {
    if (it == iterations / 10) { /* the first part warms up to the steady state */
      start = cpu_s();
      seqs = tokens = 0;
    }
    job_sched_stats_get(s, &st);
    while (st.waiting < 32) { /* keep a queue so that every finished seat is refilled */
      uint32_t prompt = 128 + (uint32_t)(rng_next(&state) % 897);
      uint32_t output = 128 + (uint32_t)(rng_next(&state) % 385);
      uint32_t n = prompt / 16 < MAX_HASHES ? prompt / 16 : MAX_HASHES;
      uint64_t *h = hashes[next_id % HASH_SLOTS];
      for (uint32_t b = 0; b < n; b++) /* a shared system prompt of 4 blocks, then unique */
        h[b] = b < 4 ? b : (next_id << 8) + b;
      job_sched_request req = {.id = next_id++,
                               .arrival_ns = (int64_t)it,
                               .prompt_tokens = prompt,
                               .output_tokens = output,
                               .block_hashes = h,
                               .num_block_hashes = n};
      if (job_sched_add(s, &req, err, sizeof err) != 0) {
        fprintf(stderr, "bench_sched: %s\n", err);
        return 1;
      }
      st.waiting++;
    }
    job_sched_batch batch;
    job_sched_step(s, (int64_t)it, &batch);
    seqs += batch.num_seqs;
    tokens += batch.hw.prefill_tokens + batch.hw.decode_seqs;
    const job_sched_event *events;
    job_sched_finish(s, (int64_t)it + 1, &events);
  }
  double cpu_time_s = cpu_s() - start;
  job_sched_stats_get(s, &st);
  printf("{\"bench\":\"sched\",\"config\":\"%s\",\"iterations\":%" PRIu64
         ",\"ns_per_step\":%.1f,\"seqs_per_step\":%.1f,\"tokens_per_step\":%.1f"
         ",\"ns_per_seq\":%.2f,\"preemptions\":%" PRIu64 ",\"finished\":%" PRIu64 "}\n",
         name, iterations, 1e9 * cpu_time_s / (double)iterations, (double)seqs / (double)iterations,
         (double)tokens / (double)iterations, 1e9 * cpu_time_s / (double)seqs, st.preemptions,
         st.finished);
  job_sched_destroy(s);
  return 0;
}

int main(int argc, char **argv) {
  uint64_t iterations = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
  if (iterations < 10) {
    fprintf(stderr, "usage: bench_sched [ITERATIONS >= 10]\n");
    return 2;
  }
  uint64_t(*hashes)[MAX_HASHES] = malloc(HASH_SLOTS * sizeof *hashes);
  if (!hashes)
    return 1;
  int rc = run("fcfs_256_seqs", false, iterations, hashes) ||
           run("fcfs_256_seqs_prefix_caching", true, iterations, hashes);
  free(hashes);
  return rc;
}
