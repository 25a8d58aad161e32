/* What the engine's unit tests share (test_engine.c, test_engine_windows.c): a toy model whose LPs
 * log every event they handle and then do what a scenario says, its placements on partitions, a
 * run of it with the counts merged over ranks, the check that a run failed naming two LPs, and the
 * main that runs a table of tests under MPI. Defined in engine_helpers.c. */
#ifndef TESTS_CORE_ENGINE_HELPERS_H
#define TESTS_CORE_ENGINE_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "harness.h"

enum { MAX_LPS = 16, MAX_RECORDS = 64, ERROR_BYTES = 512 };

/* What an LP saw: the events it handled, in order, and its life cycle. */
typedef struct record {
  int64_t time_ns;
  uint64_t send_seq;
  uint32_t src_lp, dst_lp, kind, aux;
  uint64_t payload;
} record;

typedef struct lp_log {
  record records[MAX_RECORDS];
  uint32_t count; /* events handled; only the first MAX_RECORDS are kept */
  uint32_t inits, finishes;
  int64_t finish_now_ns;
  int last_send_rc;
} lp_log;

/* A model and its run. The test fills the top part; run_scenario fills the rest. */
typedef struct scenario {
  uint32_t lp_count;
  int threads;
  int64_t end_ns, lookahead_ns;
  uint32_t lp_partition[MAX_LPS];
  int (*init)(core_lp *lp, struct scenario *s);                        /* optional: first sends */
  int (*react)(core_lp *lp, const core_event *ev, struct scenario *s); /* optional: after logging */
  int64_t knob; /* a scenario's own parameter */
  core_cut
      cuts[8]; /* with cut_count > 0, the channels between partitions instead of lookahead_ns */
  size_t cut_count;
  bool no_cuts;          /* with cut_count 0: no channel between partitions at all */
  uint32_t replicated;   /* LPs 0..replicated-1 are of a replicated kind (core_lp_kind) */

  lp_log logs[MAX_LPS]; /* merged over ranks after the run */
  int rc;
  char error[ERROR_BYTES];
  uint64_t events, sent_cross, windows; /* summed over partitions; windows: the most of any */
  int64_t lookahead_used_ns;
  /* Stops: with use_stop_flag, the engine reads stop_flag (set by a handler, as a signal handler
   * would); max_wall_s as in core_config. After the run: stopped and reached_ns, which must be the
   * same on every rank (stops_agree). */
  bool use_stop_flag;
  volatile sig_atomic_t stop_flag;
  double max_wall_s;
  bool stopped, stops_agree;
  int64_t reached_ns;
} scenario;

/* The partitions of a run with `threads` threads on each rank: ranks times threads. */
uint32_t partitions(int threads);

/* The toy model's LP type: logs into the scenario given as its model, then runs its react. */
extern const core_lp_type scenario_lp;

/* Sends and remembers core_send's answer in the sender's log. */
int send_logged(core_lp *lp, scenario *s, uint32_t dst, int64_t delay_ns, uint32_t kind,
                uint64_t payload);

/* LP i on partition floor(i * partitions / lp_count), as part_block does. */
void place_blocks(scenario *s);
/* LP 0 on the first partition, every other LP on the last: apart whenever there are two. */
void place_first_and_last(scenario *s);

/* A scenario of lp_count (at most MAX_LPS) LPs, zeroed but for its arguments; free() it. */
scenario *new_scenario(uint32_t lp_count, int threads, int64_t end_ns, int64_t lookahead_ns);
/* Runs s on every rank and fills its results: rc, error, counts and logs merged over ranks. */
void run_scenario(scenario *s);

/* Asserts that the run failed with a message naming LP a, LP b and `word`. */
void assert_failed_naming(const scenario *s, uint32_t a, uint32_t b, const char *word);

/* The main of an engine test program: harness_run of `tests` as the suite `suite` between MPI's
 * init (threads funneled) and finalize, narrowed by argv[1], verbose on rank 0. 0 when all pass. */
int run_engine_tests(const char *suite, const harness_test *tests, int argc, char **argv);

#endif
