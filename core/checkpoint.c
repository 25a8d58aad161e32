/* Checkpoints of the engine (core_engine_save, inside the model's checkpoint callback) and a
 * restart from them: every rank's pack is indexed, checked against this run, and each LP and
 * pending event is given to whichever partition now holds it, at any rank and thread count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_private.h"

/* A checkpoint's engine part begins with these, then the version, so that a file of something
 * else, or of another format, is refused rather than misread. */
enum { CHECKPOINT_MAGIC = 0x50434b57u /* "WKCP" */, CHECKPOINT_VERSION = 1 };

/* A checkpoint's engine part, one pack per rank: a header (magic, version, LP count, seed, end_ns,
 * at_ns, LP records that follow), then each local LP's record (id, now_ns, send_seq, random
 * stream, and its type's saved state with its length before it), then the rank's pending events
 * (their count, then the events). Fields are packed one by one: no padding bytes. */
typedef struct pack_header {
  uint32_t magic, version, lp_count;
  uint64_t seed;
  int64_t end_ns, at_ns;
  uint64_t records;
} pack_header;

static void pack_header_write(core_pack *out, const pack_header *h) {
  CORE_PACK(out, h->magic);
  CORE_PACK(out, h->version);
  CORE_PACK(out, h->lp_count);
  CORE_PACK(out, h->seed);
  CORE_PACK(out, h->end_ns);
  CORE_PACK(out, h->at_ns);
  CORE_PACK(out, h->records);
}

static pack_header pack_header_read(core_unpack *in) {
  pack_header h;
  CORE_UNPACK(in, h.magic);
  CORE_UNPACK(in, h.version);
  CORE_UNPACK(in, h.lp_count);
  CORE_UNPACK(in, h.seed);
  CORE_UNPACK(in, h.end_ns);
  CORE_UNPACK(in, h.at_ns);
  CORE_UNPACK(in, h.records);
  return h;
}

/* Every LP type of the model has `save` (or `load`), else the first without: the same answer on
 * every rank, whichever LPs it holds. */
static const core_lp_type *type_without(const core_lp_map *map, bool load) {
  for (size_t k = 0; k < map->count; k++) {
    const core_lp_type *type = map->kinds[k].type;
    if (map->kinds[k].count && type && (load ? !type->load : !type->save))
      return type;
  }
  return NULL;
}

/* Whether partition p saves pending event ev: not when it is for a replicated LP's copy away
 * from home (the home copy's queue holds the same event). */
static bool saved_here(const core_engine *e, const core_partition *p, const core_event *ev) {
  return engine_home(e, ev->dst_lp) == p->index;
}

int core_engine_save(core_engine *e, core_pack *out) {
  if (!e->saving) {
    snprintf(e->error, sizeof e->error,
             "engine: core_engine_save is only valid inside the checkpoint callback");
    return -1;
  }
  const core_lp_type *unsaved = type_without(e->cfg.lps, false);
  if (unsaved) {
    snprintf(e->error, sizeof e->error,
             "LP type '%s' has no save: a run with checkpoints needs one on every LP type",
             unsaved->name);
    return -1;
  }
  uint64_t pending = 0;
  for (int t = 0; t < e->threads; t++) {
    const core_queue *q = &e->parts[t].queue;
    for (size_t i = 0; i < q->count; i++)
      pending += saved_here(e, &e->parts[t], core_queue_event(q, q->heap[i].event));
  }
  pack_header_write(out, &(pack_header){.magic = CHECKPOINT_MAGIC,
                                        .version = CHECKPOINT_VERSION,
                                        .lp_count = e->lp_count,
                                        .seed = e->cfg.seed,
                                        .end_ns = e->cfg.end_ns,
                                        .at_ns = e->checkpoint_at,
                                        .records = core_engine_local_lp_count(e)});
  for (int t = 0; t < e->threads; t++) {
    core_partition *p = &e->parts[t];
    for (size_t i = 0; i < p->lp_count; i++) {
      core_lp *lp = &p->lps[i];
      if (lp->copy)
        continue; /* its home copy saves it */
      CORE_PACK(out, lp->id);
      CORE_PACK(out, lp->now_ns);
      CORE_PACK(out, lp->send_seq);
      CORE_PACK(out, lp->rng);
      uint64_t state_bytes = 0;
      size_t length_at = out->len;
      CORE_PACK(out, state_bytes); /* written once the state is packed */
      if (lp->type->save(lp, lp->model, out) != 0) {
        snprintf(e->error, sizeof e->error, "LP %u (%s) failed to save its state", lp->id,
                 lp->type->name);
        return -1;
      }
      if (!out->failed) {
        state_bytes = out->len - length_at - sizeof state_bytes;
        memcpy(out->data + length_at, &state_bytes, sizeof state_bytes);
      }
    }
  }
  CORE_PACK(out, pending);
  for (int t = 0; t < e->threads; t++) {
    const core_queue *q = &e->parts[t].queue;
    for (size_t i = 0; i < q->count; i++)
      if (saved_here(e, &e->parts[t], core_queue_event(q, q->heap[i].event)))
        core_pack_bytes(out, core_queue_event(q, q->heap[i].event), sizeof(core_event));
  }
  if (out->failed) {
    snprintf(e->error, sizeof e->error, "out of memory packing the checkpoint");
    return -1;
  }
  return 0;
}

/* Where a restart finds things in cfg.restore: each LP's record (its pack and the offset of its
 * now_ns there), and each pack's events. */
typedef struct lp_record {
  uint32_t pack; /* UINT32_MAX: not found (yet) */
  size_t at;
} lp_record;

typedef struct pack_events {
  size_t at, count;
} pack_events;

typedef struct restore_index {
  lp_record *lps;      /* [lp_count] */
  pack_events *events; /* [restore_count] */
  int64_t at_ns;
} restore_index;

void engine_restore_free(restore_index *r) {
  if (r) {
    free(r->lps);
    free(r->events);
    free(r);
  }
}

/* Reads one pack's header, LP records and events into the index, checking that they belong to
 * this run. Returns 0, or -1 with why in e->error. */
static int index_pack(core_engine *e, restore_index *r, size_t i) {
  core_unpack in = e->cfg.restore[i];
  pack_header h = pack_header_read(&in);
  char *err = e->error;
  size_t len = sizeof e->error;
  if (in.failed || h.magic != CHECKPOINT_MAGIC)
    return snprintf(err, len, "checkpoint part %zu is not an engine checkpoint", i), -1;
  if (h.version != CHECKPOINT_VERSION)
    return snprintf(err, len, "checkpoint part %zu has format version %u; this build reads %u", i,
                    h.version, CHECKPOINT_VERSION),
           -1;
  if (h.lp_count != e->lp_count || h.seed != e->cfg.seed || h.end_ns != e->cfg.end_ns)
    return snprintf(err, len,
                    "checkpoint part %zu is of another run: %u LPs, seed %llu, end %lld ns; this "
                    "run has %u LPs, seed %llu, end %lld ns",
                    i, h.lp_count, (unsigned long long)h.seed, (long long)h.end_ns, e->lp_count,
                    (unsigned long long)e->cfg.seed, (long long)e->cfg.end_ns),
           -1;
  if (i == 0)
    r->at_ns = h.at_ns;
  else if (h.at_ns != r->at_ns)
    return snprintf(err, len, "checkpoint part %zu was taken at %lld ns, part 0 at %lld ns", i,
                    (long long)h.at_ns, (long long)r->at_ns),
           -1;
  for (uint64_t k = 0; k < h.records && !in.failed; k++) {
    uint32_t id;
    CORE_UNPACK(&in, id);
    size_t at = in.pos;
    int64_t now_ns;
    uint64_t send_seq, state_bytes;
    core_rng rng;
    CORE_UNPACK(&in, now_ns);
    CORE_UNPACK(&in, send_seq);
    CORE_UNPACK(&in, rng);
    CORE_UNPACK(&in, state_bytes);
    core_unpack_skip(&in, state_bytes);
    if (in.failed)
      break;
    if (id >= e->lp_count || rng.lp_id != id || rng.used > 4)
      return snprintf(err, len, "checkpoint part %zu: record %llu is damaged (LP %u)", i,
                      (unsigned long long)k, id),
             -1;
    if (r->lps[id].pack != UINT32_MAX)
      return snprintf(err, len, "checkpoint parts %u and %zu both hold LP %u", r->lps[id].pack, i,
                      id),
             -1;
    r->lps[id] = (lp_record){(uint32_t)i, at};
  }
  uint64_t count = 0;
  CORE_UNPACK(&in, count);
  r->events[i] = (pack_events){in.pos, 0};
  const unsigned char *events = count <= (in.len - in.pos) / sizeof(core_event)
                                    ? core_unpack_skip(&in, (size_t)count * sizeof(core_event))
                                    : NULL;
  if (in.failed || !events || in.pos != in.len)
    return snprintf(err, len, "checkpoint part %zu is truncated or damaged (%zu bytes)", i, in.len),
           -1;
  r->events[i].count = (size_t)count;
  for (size_t k = 0; k < count; k++) {
    core_event ev;
    memcpy(&ev, events + k * sizeof ev, sizeof ev);
    if (ev.dst_lp >= e->lp_count || ev.src_lp >= e->lp_count || ev.time_ns < h.at_ns ||
        ev.time_ns >= e->cfg.end_ns)
      return snprintf(err, len, "checkpoint part %zu: pending event %zu is damaged", i, k), -1;
  }
  return 0;
}

/* Before a restart, on every rank: indexes cfg.restore and checks it is whole and of this run;
 * *at_ns is the simulated time it was taken at. Every rank reads the same packs; the lowest failing
 * rank's reason is every rank's. Returns 0, or -1 on every rank with why in e->error. */
int engine_restore_prepare(core_engine *e, int64_t *at_ns) {
  restore_index *r = calloc(1, sizeof *r);
  if (r) {
    r->lps = malloc(e->lp_count * sizeof *r->lps);
    r->events = calloc(e->cfg.restore_count, sizeof *r->events);
  }
  e->restore = r;
  const core_lp_type *unloadable = type_without(e->cfg.lps, true);
  if (!r || !r->lps || !r->events)
    snprintf(e->error, sizeof e->error, "out of memory indexing the checkpoint");
  else if (unloadable)
    snprintf(e->error, sizeof e->error,
             "LP type '%s' has no load: it cannot be restored from a checkpoint", unloadable->name);
  else {
    for (uint32_t id = 0; id < e->lp_count; id++)
      r->lps[id].pack = UINT32_MAX;
    for (size_t i = 0; i < e->cfg.restore_count; i++)
      if (index_pack(e, r, i) != 0)
        break;
    for (uint32_t id = 0; id < e->lp_count && !e->error[0]; id++)
      if (r->lps[id].pack == UINT32_MAX)
        snprintf(e->error, sizeof e->error, "the checkpoint holds no record of LP %u", id);
  }
  engine_agree_on_error(e);
  *at_ns = r ? r->at_ns : 0;
  return e->error[0] ? -1 : 0;
}

/* A restart, on the LP's thread after create: its clock, send counter, random stream and state
 * from its record. */
void engine_restore_lp(core_partition *p, core_lp *lp) {
  const lp_record *rec = &p->engine->restore->lps[lp->id];
  core_unpack in = p->engine->cfg.restore[rec->pack];
  in.pos = rec->at;
  uint64_t state_bytes;
  CORE_UNPACK(&in, lp->now_ns);
  CORE_UNPACK(&in, lp->send_seq);
  CORE_UNPACK(&in, lp->rng);
  CORE_UNPACK(&in, state_bytes);
  core_unpack state = core_unpack_of(core_unpack_skip(&in, state_bytes), state_bytes);
  if (lp->type->load(lp, lp->model, &state) != 0) {
    if (!(p->flags & FLAG_ERROR))
      engine_fail(p, "LP %u (%s) failed to load its checkpoint record", lp->id, lp->type->name);
  } else if (!core_unpack_done(&state))
    engine_fail(
        p, "LP %u (%s): its checkpoint record holds %zu bytes of state, its load read %zu%s",
        lp->id, lp->type->name, state.len, state.pos, state.failed ? " and wanted more" : "");
}

/* A restart: queues this partition's pending events, from whichever packs hold them. */
void engine_restore_events(core_partition *p) {
  const core_engine *e = p->engine;
  for (size_t i = 0; i < e->cfg.restore_count && !(p->flags & FLAG_ERROR); i++) {
    const pack_events *pe = &e->restore->events[i];
    const unsigned char *events = e->cfg.restore[i].data + pe->at;
    for (size_t k = 0; k < pe->count; k++) {
      core_event ev;
      memcpy(&ev, events + k * sizeof ev, sizeof ev);
      uint32_t part = e->place[ev.dst_lp].part;
      bool here = part == p->index || part == PLACE_REPLICATED;
      if (here && engine_enqueue_local(p, &ev) != 0)
        break;
    }
  }
}
