/* The batch queue (router.batch): batch-tier requests wait at the router that picks their instance
 * (the one router, or a pod router) until an instance of theirs has spare capacity, earliest
 * deadline first, or until their deadline less the lead, when they go by the policy alone. The
 * router that owns the queue calls in on arrivals, completions, instances opening and due times. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "serving/model.h"

int srv_held_keep(core_lp *lp, srv_held *h, const dispatch_msg *msg, const job_route_request *rr) {
  *h = (srv_held){*msg, *rr};
  if (rr->block_count) {
    uint64_t *hashes = malloc(rr->block_count * sizeof *hashes);
    if (!hashes)
      return core_fail(lp, "out of memory for requests waiting at the router");
    memcpy(hashes, rr->block_hashes, rr->block_count * sizeof *hashes);
    h->rr.block_hashes = hashes;
  }
  return 0;
}

void srv_held_pack(const srv_held *h, core_pack *out) {
  CORE_PACK(out, h->msg);
  core_pack_array(out, h->rr.block_hashes, h->rr.block_count, sizeof *h->rr.block_hashes);
}

uint64_t *srv_held_unpack(const srv_model *m, core_unpack *in, dispatch_msg *msg,
                          job_route_request *rr) {
  size_t n;
  CORE_UNPACK(in, *msg);
  uint64_t *hashes = core_unpack_array(in, sizeof *hashes, UINT32_MAX, &n);
  *rr = (job_route_request){(uint32_t)msg->input_tokens, (uint32_t)msg->output_tokens, hashes,
                            (uint32_t)n};
  if (msg->model > m->workload_models) /* no such model: damage */
    in->failed = true;
  return hashes;
}

int srv_batch_create(core_lp *lp, const srv_model *m, const srv_pools *pools, srv_batch_queue *q) {
  if (!m->s->router.batch.spare)
    return 0;
  q->among = calloc(pools->size[0] ? pools->size[0] : 1, sizeof *q->among);
  q->model_full = calloc(m->workload_models + 1, sizeof *q->model_full);
  q->left = calloc(m->workload_models + 1, sizeof *q->left);
  if (!q->among || !q->model_full || !q->left)
    return core_fail(lp, "out of memory for the router's batch queue");
  return 0;
}

void srv_batch_destroy(srv_batch_queue *q) {
  for (size_t i = 0; i < q->count; i++)
    free((void *)q->items[i].held.rr.block_hashes);
  free(q->items);
  free(q->among);
  free(q->model_full);
  free(q->left);
}

/* When a batch request should be done and when it goes by the policy alone (INT64_MAX: no
 * deadline, never); the lead defaults to half its deadline. */
static void batch_times(const srv_model *m, const dispatch_msg *msg, int64_t *deadline_ns,
                        int64_t *due_ns) {
  int64_t window_ns = srv_request_attrs(m, msg->id).deadline_ns;
  int64_t lead_ns = m->s->router.batch.lead_ns < 0 ? window_ns / 2 : m->s->router.batch.lead_ns;
  *deadline_ns = *due_ns = INT64_MAX;
  if (window_ns <= 0)
    return;
  *deadline_ns = msg->arrival_ns + window_ns;
  *due_ns = lead_ns < window_ns ? *deadline_ns - lead_ns : msg->arrival_ns;
}

/* Queue order: earliest deadline (none last), then arrival, then id. */
static bool batch_before(const srv_batched *a, const srv_batched *b) {
  if (a->deadline_ns != b->deadline_ns)
    return a->deadline_ns < b->deadline_ns;
  if (a->held.msg.arrival_ns != b->held.msg.arrival_ns)
    return a->held.msg.arrival_ns < b->held.msg.arrival_ns;
  return a->held.msg.id < b->held.msg.id;
}

/* Queues a batch request in order (its hashes copied). */
static int batch_queue(core_lp *lp, const srv_model *m, srv_batch_queue *q, const dispatch_msg *msg,
                       const job_route_request *rr) {
  if (q->count == q->cap) {
    size_t cap = q->cap ? 2 * q->cap : 64;
    srv_batched *grown = realloc(q->items, cap * sizeof *grown);
    if (!grown)
      return core_fail(lp, "out of memory for batch requests waiting at the router");
    q->items = grown, q->cap = cap;
  }
  srv_batched b;
  batch_times(m, msg, &b.deadline_ns, &b.due_ns);
  if (srv_held_keep(lp, &b.held, msg, rr) != 0)
    return -1;
  size_t at = q->count;
  while (at > 0 && batch_before(&b, &q->items[at - 1]))
    at--;
  memmove(q->items + at + 1, q->items + at, (q->count - at) * sizeof *q->items);
  q->items[at] = b;
  q->count++;
  return 0;
}

static void batch_remove(srv_batch_queue *q, size_t i) {
  q->left[q->items[i].held.msg.model]++;
  memmove(q->items + i, q->items + i + 1, (q->count - i - 1) * sizeof *q->items);
  q->count--;
}

/* Marks in q->among the instances of pools serving model `model` (0: any) that accept work and
 * have fewer than router.batch.spare outstanding requests; returns whether there is one. */
static bool batch_room(const srv_model *m, const srv_pools *pools, const job_router *pick,
                       srv_batch_queue *q, uint32_t model) {
  uint32_t first = model ? pools->model_first[0][model] : 0;
  uint32_t count = model ? pools->model_count[0][model] : pools->size[0];
  bool any = false;
  for (uint32_t slot = 0; slot < pools->size[0]; slot++) {
    q->among[slot] = slot >= first && slot < first + count && job_router_accepting(pick, slot) &&
                     job_router_outstanding(pick, slot) < m->s->router.batch.spare;
    any |= q->among[slot];
  }
  return any;
}

int srv_batch_dispatch(core_lp *lp, srv_model *m, const srv_pools *pools, srv_picks *p,
                       srv_batch_queue *q, int64_t reach_ns) {
  if (!q->count || lp->now_ns > m->end_ns - reach_ns)
    return 0;
  memset(q->model_full, 0, (m->workload_models + 1) * sizeof *q->model_full);
  for (size_t i = 0; i < q->count;) {
    srv_held *h = &q->items[i].held;
    uint32_t model = h->msg.model;
    if (q->model_full[model] || !batch_room(m, pools, p->pick[0], q, model)) {
      q->model_full[model] = true; /* dispatching here only adds load: full for this pass */
      if (!m->workload_models)
        break;
      i++;
      continue;
    }
    int rc = srv_dispatch(lp, m, pools, p, &h->msg, &h->rr, q->among);
    if (rc < 0)
      return -1;
    assert(rc == 0); /* batch_room found an instance */
    free((void *)h->rr.block_hashes);
    batch_remove(q, i);
  }
  return 0;
}

int srv_batch_arrive(core_lp *lp, srv_model *m, const srv_pools *pools, srv_picks *p,
                     srv_batch_queue *q, const dispatch_msg *msg, const job_route_request *rr,
                     bool blocked, int64_t reach_ns) {
  int64_t deadline_ns, due_ns;
  batch_times(m, msg, &deadline_ns, &due_ns);
  if (due_ns <= lp->now_ns) { /* no time to wait: it goes on now */
    q->left[msg->model]++;
    return 1;
  }
  if (batch_queue(lp, m, q, msg, rr) != 0 ||
      (due_ns != INT64_MAX &&
       core_send(lp, lp->id, due_ns - lp->now_ns, EV_BATCH_DUE, 0, NULL, 0) != 0))
    return -1;
  return blocked ? 0 : srv_batch_dispatch(lp, m, pools, p, q, reach_ns);
}

bool srv_batch_take_due(const srv_model *m, srv_batch_queue *q, int64_t now_ns, srv_held *out) {
  bool fixed_lead = m->s->router.batch.lead_ns >= 0; /* due times in queue order */
  for (size_t i = 0; i < q->count && q->items[i].deadline_ns != INT64_MAX; i++) {
    if (q->items[i].due_ns > now_ns) {
      if (fixed_lead)
        return false;
      continue;
    }
    *out = q->items[i].held;
    batch_remove(q, i);
    return true;
  }
  return false;
}

void srv_batch_save(const srv_model *m, const srv_batch_queue *q, core_pack *out) {
  if (!m->s->router.batch.spare)
    return;
  core_pack_array(out, q->left, m->workload_models + 1, sizeof *q->left);
  CORE_PACK(out, q->count); /* the order and times follow from the requests */
  for (size_t i = 0; i < q->count; i++)
    srv_held_pack(&q->items[i].held, out);
}

int srv_batch_load(core_lp *lp, const srv_model *m, srv_batch_queue *q, core_unpack *in) {
  size_t count = 0, n = 0;
  if (m->s->router.batch.spare) {
    core_unpack_array_into(in, q->left, sizeof *q->left, m->workload_models + 1, &n);
    in->failed |= n != m->workload_models + 1;
    CORE_UNPACK(in, count);
  }
  int rc = 0;
  for (size_t i = 0; i < count && !in->failed && rc == 0; i++) {
    dispatch_msg msg;
    job_route_request rr;
    uint64_t *hashes = srv_held_unpack(m, in, &msg, &rr);
    rc = in->failed ? -1 : batch_queue(lp, m, q, &msg, &rr);
    free(hashes);
  }
  return in->failed ? -1 : rc;
}
