/* Checkpoints of a serving run (serving/checkpoint.c): a folder that holds the timeline written so
 * far, each rank's part of the engine and of the nodes' state, and a header naming the scenario it
 * ran; `run --restart` reads one back and continues as if never stopped. What run needs to check a
 * checkpoint against the scenario it is given. */
#ifndef SRV_CHECKPOINT_H
#define SRV_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The format's version: a checkpoint of another version is refused. */
enum { SRV_CHECKPOINT_VERSION = 2 }; /* 2: an instance's last EV_ARRIVED_AT has the dispatch */

typedef struct srv_checkpoint_header {
  int64_t at_ns;          /* every event before it had been simulated */
  int32_t ranks, threads; /* of the run that wrote it */
  uint64_t seed;
  uint32_t restarts;   /* restarts before the run that wrote it */
  char *scenario_path; /* the scenario file, absolute; "" for the built-in default */
  char **sets;         /* its --set overrides, in order */
  size_t set_count;
  char *resolved_text; /* the scenario after --set, as the timeline keeps it */
  /* [2 x (ranks + 1)]: each file's length and FNV-1a hash, the rank files then the timeline. */
  uint64_t *files;
} srv_checkpoint_header;

/* Reads dir/header. Returns 0, or -1 with why (not a checkpoint, another version, damaged). */
int srv_checkpoint_read_header(const char *dir, srv_checkpoint_header *h, char *err,
                               size_t err_len);
void srv_checkpoint_header_free(srv_checkpoint_header *h);
/* Whether path is a checkpoint folder (one that a new checkpoint may replace). */
bool srv_checkpoint_is_one(const char *path);
/* Where two scenario texts first differ, for a refusal: "line N: 'a' against 'b'". */
void srv_checkpoint_diff(const char *mine, const char *theirs, char *out, size_t out_len);

#endif
