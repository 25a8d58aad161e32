/* The live requests of an instance: their records (timeline row, prefix hashes) linked and found
 * by id, their admission into the scheduler, and the completion message to the router. */
#include <stdlib.h>

#include "serving/model.h"

/* Mooncake hashes cover 512-token blocks; the scheduler's blocks are smaller. Block b of the
 * scheduler gets a hash derived from the trace block holding it, so two prompts share a scheduler
 * block exactly when they share the trace block around it. */
static int expand_hashes(const srv_model *m, srv_req *rec, uint32_t block_tokens) {
  const hash_store *h = &m->hashes;
  uint64_t id = (uint64_t)rec->row.id;
  if (!h->offsets || id >= h->requests)
    return 0;
  uint64_t first = h->offsets[id], count = h->offsets[id + 1] - first;
  block_tokens = block_tokens ? block_tokens : 16; /* the scheduler's default */
  uint32_t per = JOB_MOONCAKE_BLOCK_TOKENS / block_tokens;
  uint32_t blocks = (uint32_t)rec->row.input_tokens / block_tokens;
  if (blocks > count * per)
    blocks = (uint32_t)(count * per);
  if (!blocks)
    return 0;
  rec->block_hashes = malloc(blocks * sizeof *rec->block_hashes);
  if (!rec->block_hashes)
    return -1;
  for (uint32_t b = 0; b < blocks; b++) {
    uint64_t x = h->hashes[first + b / per] ^ (0x9e3779b97f4a7c15ull * (b % per + 1));
    x ^= x >> 31;
    rec->block_hashes[b] = x * 0xbf58476d1ce4e5b9ull;
  }
  rec->block_count = blocks;
  return 0;
}

void srv_req_free(srv_req *rec) {
  free(rec->block_hashes);
  free(rec);
}

void srv_req_drop(srv_instance *in, srv_req *rec) {
  rec->prev->next = rec->next;
  rec->next->prev = rec->prev;
  util_idmap_remove(&in->by_id, (uint64_t)rec->row.id);
  srv_req_free(rec);
}

/* A new live request: linked, findable by id, its hashes expanded. NULL out of memory. */
srv_req *srv_req_add(srv_model *m, srv_instance *in, const srv_request_row *row) {
  srv_req *rec = calloc(1, sizeof *rec);
  if (!rec)
    return NULL;
  rec->row = *row;
  if (expand_hashes(m, rec, in->dep->sched.block_size_tokens) != 0 ||
      util_idmap_put(&in->by_id, (uint64_t)row->id, rec) != 0) {
    srv_req_free(rec);
    return NULL;
  }
  rec->next = &in->live;
  rec->prev = in->live.prev;
  in->live.prev->next = rec;
  in->live.prev = rec;
  return rec;
}

int srv_add_to_scheduler(core_lp *lp, srv_instance *in, srv_req *rec, bool hold_kv,
                         bool remote_kv) {
  bool prefill_only = hold_kv;
  job_sched_request sr = {
      .id = (uint64_t)rec->row.id,
      .arrival_ns = lp->now_ns,
      .prompt_tokens = (uint32_t)rec->row.input_tokens,
      .output_tokens = prefill_only ? 1 : (uint32_t)rec->row.output_tokens,
      .block_hashes = rec->block_hashes,
      .num_block_hashes = rec->block_count,
      .priority = rec->row.priority,
      .hold_kv = hold_kv,
      .remote_kv = remote_kv,
      .user = rec,
  };
  char err[256];
  if (job_sched_add(in->sched, &sr, err, sizeof err) != 0)
    return core_fail(lp, "instance %u cannot serve request %lld: %s", in->index,
                     (long long)rec->row.id, err);
  return 0;
}

int srv_complete_at_router(core_lp *lp, srv_model *m, const srv_req *rec) {
  complete_msg c = {rec->row.id, rec->row.input_tokens, rec->row.output_tokens};
  return core_send(lp, srv_instance_router_lp(m, lp->index), m->s->router.dispatch_latency_ns,
                   EV_COMPLETE, 0, &c, sizeof c);
}

void srv_row_set_attrs(srv_request_row *row, const job_request_attrs *a) {
  row->priority = a->priority;
  row->service_tier = a->tier;
  row->deadline_ns = a->deadline_ns > 0 ? row->arrival_ns + a->deadline_ns : -1;
}

job_request_attrs srv_request_attrs(const srv_model *m, int64_t id) {
  const attrs_store *a = &m->attrs;
  job_request_attrs none = {0};
  return a->attrs && (uint64_t)id < a->count ? a->attrs[id] : none;
}

void srv_row_attrs(const srv_model *m, srv_request_row *row) {
  job_request_attrs a = srv_request_attrs(m, row->id);
  srv_row_set_attrs(row, &a);
}

dispatch_msg srv_row_dispatch(const srv_model *m, const srv_request_row *row) {
  return (dispatch_msg){row->id, row->arrival_ns, row->input_tokens, row->output_tokens,
                        srv_request_attrs(m, row->id).model};
}
