/* The KV tier (kvcache_tier.h): block records in a growable pool with a free list, an intrusive LRU
 * queue, and a (space, hash) -> block table with open addressing, linear probing and
 * backward-shift deletion; pinned bytes are a plain count. */
#include "jobs/kvcache_tier.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define NONE (-1)

typedef struct tier_block {
  uint64_t hash;
  uint64_t bytes;
  uint32_t space;
  int32_t prev, next; /* LRU links; a free record uses next for the free list */
} tier_block;

typedef struct tier_slot {
  uint64_t hash;
  uint32_t space;
  int32_t block; /* NONE: empty */
} tier_slot;

struct job_kv_tier {
  uint64_t capacity, cached, pinned, peak;
  uint64_t cached_blocks, stored_blocks, evicted_blocks, hit_blocks;
  tier_block *blocks; /* cap + 1: the last is the LRU sentinel (next = LRU end, prev = MRU end) */
  uint32_t cap;
  int32_t free_head;
  tier_slot *table; /* table_mask + 1 slots, at most half full */
  uint32_t table_mask;
};

static uint32_t slot_home(const job_kv_tier *t, uint32_t space, uint64_t hash) {
  uint64_t x = hash ^ ((uint64_t)space * 0x9e3779b97f4a7c15u);
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9u;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebu;
  x ^= x >> 31;
  return (uint32_t)x & t->table_mask;
}

static uint32_t slot_find(const job_kv_tier *t, uint32_t space, uint64_t hash) {
  uint32_t s = slot_home(t, space, hash);
  while (t->table[s].block != NONE && (t->table[s].hash != hash || t->table[s].space != space))
    s = (s + 1) & t->table_mask;
  return s;
}

static void slot_erase(job_kv_tier *t, uint32_t hole) {
  const uint32_t mask = t->table_mask;
  for (uint32_t j = (hole + 1) & mask; t->table[j].block != NONE; j = (j + 1) & mask) {
    uint32_t home = slot_home(t, t->table[j].space, t->table[j].hash);
    /* The entry at j may fill the hole only if its home is not cyclically within (hole, j]. */
    bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays)
      continue;
    t->table[hole] = t->table[j];
    hole = j;
  }
  t->table[hole].block = NONE;
}

static int table_resize(job_kv_tier *t, uint32_t slots) {
  tier_slot *old = t->table;
  uint32_t old_slots = old ? t->table_mask + 1 : 0;
  tier_slot *table = malloc(slots * sizeof *table);
  if (!table)
    return -1;
  for (uint32_t s = 0; s < slots; s++)
    table[s] = (tier_slot){.block = NONE};
  t->table = table;
  t->table_mask = slots - 1;
  for (uint32_t s = 0; s < old_slots; s++)
    if (old[s].block != NONE)
      t->table[slot_find(t, old[s].space, old[s].hash)] = old[s];
  free(old);
  return 0;
}

/* Doubles the record pool (and the table with it); the sentinel moves to the new end. */
static int pool_grow(job_kv_tier *t) {
  uint32_t cap = t->cap ? 2 * t->cap : 256;
  if (cap > (1u << 30))
    return -1;
  tier_block *blocks = realloc(t->blocks, (cap + 1u) * sizeof *blocks);
  if (!blocks)
    return -1;
  t->blocks = blocks;
  if (table_resize(t, 2 * cap) != 0)
    return -1;
  tier_block sentinel = t->cap ? blocks[t->cap] : (tier_block){.prev = NONE, .next = NONE};
  int32_t old_s = (int32_t)t->cap, new_s = (int32_t)cap;
  if (sentinel.next == NONE || sentinel.next == old_s) { /* empty queue */
    sentinel.next = sentinel.prev = new_s;
  } else {
    blocks[sentinel.next].prev = new_s;
    blocks[sentinel.prev].next = new_s;
  }
  blocks[cap] = sentinel;
  for (uint32_t b = cap; b > t->cap; b--) {
    blocks[b - 1].next = t->free_head;
    t->free_head = (int32_t)(b - 1);
  }
  t->cap = cap;
  return 0;
}

static void lru_unlink(job_kv_tier *t, int32_t b) {
  tier_block *blk = &t->blocks[b];
  t->blocks[blk->prev].next = blk->next;
  t->blocks[blk->next].prev = blk->prev;
}

static void lru_push_mru(job_kv_tier *t, int32_t b) {
  int32_t sentinel = (int32_t)t->cap;
  tier_block *blk = &t->blocks[b];
  blk->prev = t->blocks[sentinel].prev;
  blk->next = sentinel;
  t->blocks[blk->prev].next = b;
  t->blocks[sentinel].prev = b;
}

static void evict_lru(job_kv_tier *t) {
  int32_t b = t->blocks[t->cap].next;
  assert(b != (int32_t)t->cap);
  tier_block *blk = &t->blocks[b];
  uint32_t s = slot_find(t, blk->space, blk->hash);
  assert(t->table[s].block == b);
  slot_erase(t, s);
  lru_unlink(t, b);
  t->cached -= blk->bytes;
  t->cached_blocks--;
  t->evicted_blocks++;
  blk->next = t->free_head;
  t->free_head = b;
}

/* Evicts LRU blocks until `bytes` more fit; the caller checked that they can. */
static void make_room(job_kv_tier *t, uint64_t bytes) {
  assert(bytes <= t->capacity - t->pinned);
  while (t->cached + t->pinned + bytes > t->capacity)
    evict_lru(t);
}

static void note_peak(job_kv_tier *t) {
  if (t->cached + t->pinned > t->peak)
    t->peak = t->cached + t->pinned;
}

int job_kv_tier_create(job_kv_tier **out, uint64_t capacity_bytes, char *err, size_t err_len) {
  *out = NULL;
  if (capacity_bytes == 0) {
    snprintf(err, err_len, "kv tier: capacity 0 (expected at least one byte)");
    return -1;
  }
  job_kv_tier *t = calloc(1, sizeof *t);
  if (!t) {
    snprintf(err, err_len, "kv tier: out of memory");
    return -1;
  }
  t->capacity = capacity_bytes;
  t->free_head = NONE;
  *out = t; /* records come with the first block stored: an unused tier costs nothing */
  return 0;
}

void job_kv_tier_destroy(job_kv_tier *t) {
  if (!t)
    return;
  free(t->blocks);
  free(t->table);
  free(t);
}

int job_kv_tier_put(job_kv_tier *t, uint32_t space, uint64_t hash, uint64_t bytes) {
  if (t->table) {
    int32_t b = t->table[slot_find(t, space, hash)].block;
    if (b != NONE) {
      lru_unlink(t, b);
      lru_push_mru(t, b);
      return 0;
    }
  }
  if (bytes > t->capacity - t->pinned)
    return -1;
  make_room(t, bytes);
  if (t->free_head == NONE && pool_grow(t) != 0)
    return -1;
  int32_t b = t->free_head;
  t->free_head = t->blocks[b].next;
  t->blocks[b] = (tier_block){.hash = hash, .bytes = bytes, .space = space};
  lru_push_mru(t, b);
  t->table[slot_find(t, space, hash)] = (tier_slot){.hash = hash, .space = space, .block = b};
  t->cached += bytes;
  t->cached_blocks++;
  t->stored_blocks++;
  note_peak(t);
  return 1;
}

bool job_kv_tier_has(const job_kv_tier *t, uint32_t space, uint64_t hash) {
  return t->table && t->table[slot_find(t, space, hash)].block != NONE;
}

void job_kv_tier_touch(job_kv_tier *t, uint32_t space, uint64_t hash) {
  assert(t->table);
  int32_t b = t->table[slot_find(t, space, hash)].block;
  assert(b != NONE);
  lru_unlink(t, b);
  lru_push_mru(t, b);
  t->hit_blocks++;
}

bool job_kv_tier_pin(job_kv_tier *t, uint64_t bytes) {
  if (bytes > t->capacity - t->pinned)
    return false;
  make_room(t, bytes);
  t->pinned += bytes;
  note_peak(t);
  return true;
}

void job_kv_tier_unpin(job_kv_tier *t, uint64_t bytes) {
  assert(bytes <= t->pinned);
  t->pinned -= bytes;
}

void job_kv_tier_stats_get(const job_kv_tier *t, job_kv_tier_stats *out) {
  *out = (job_kv_tier_stats){.capacity_bytes = t->capacity,
                             .cached_bytes = t->cached,
                             .pinned_bytes = t->pinned,
                             .peak_bytes = t->peak,
                             .cached_blocks = t->cached_blocks,
                             .stored_blocks = t->stored_blocks,
                             .evicted_blocks = t->evicted_blocks,
                             .hit_blocks = t->hit_blocks};
}

int64_t job_kv_tier_transfer_ns(uint64_t bytes, double bytes_per_s, int64_t latency_ns) {
  if (bytes == 0)
    return 0;
  assert(bytes_per_s > 0);
  return latency_ns + (int64_t)ceil((double)bytes * 1e9 / bytes_per_s);
}

int job_kv_tier_check(const job_kv_tier *t, char *err, size_t err_len) {
  uint64_t queued = 0, bytes = 0;
  for (int32_t b = t->cap ? t->blocks[t->cap].next : NONE; t->cap && b != (int32_t)t->cap;
       b = t->blocks[b].next) {
    const tier_block *blk = &t->blocks[b];
    if (b < 0 || (uint32_t)b >= t->cap || t->blocks[blk->next].prev != b || ++queued > t->cap) {
      snprintf(err, err_len, "kv tier: LRU queue broken at block %d", b);
      return -1;
    }
    if (t->table[slot_find(t, blk->space, blk->hash)].block != b) {
      snprintf(err, err_len, "kv tier: block %d's key does not lead back to it", b);
      return -1;
    }
    bytes += blk->bytes;
  }
  uint64_t entries = 0;
  for (uint32_t s = 0; t->table && s <= t->table_mask; s++)
    entries += t->table[s].block != NONE;
  if (queued != t->cached_blocks || entries != queued || bytes != t->cached ||
      t->cached + t->pinned > t->capacity || t->peak < t->cached + t->pinned ||
      (t->table && 2 * entries > t->table_mask + 1)) {
    snprintf(err, err_len,
             "kv tier: counts queued %llu/%llu entries %llu bytes %llu/%llu pinned %llu of %llu",
             (unsigned long long)queued, (unsigned long long)t->cached_blocks,
             (unsigned long long)entries, (unsigned long long)bytes, (unsigned long long)t->cached,
             (unsigned long long)t->pinned, (unsigned long long)t->capacity);
    return -1;
  }
  return 0;
}

bool job_kv_tier_lru_at(const job_kv_tier *t, uint32_t index, uint32_t *space, uint64_t *hash) {
  if (!t->cap)
    return false;
  int32_t b = t->blocks[t->cap].next;
  for (; b != (int32_t)t->cap && index > 0; index--)
    b = t->blocks[b].next;
  if (b == (int32_t)t->cap)
    return false;
  *space = t->blocks[b].space;
  *hash = t->blocks[b].hash;
  return true;
}

void job_kv_tier_save(const job_kv_tier *t, core_pack *out) {
  CORE_PACK(out, t->capacity);
  CORE_PACK(out, t->pinned);
  CORE_PACK(out, t->peak);
  CORE_PACK(out, t->stored_blocks);
  CORE_PACK(out, t->evicted_blocks);
  CORE_PACK(out, t->hit_blocks);
  CORE_PACK(out, t->cached_blocks);
  for (int32_t b = t->cap ? t->blocks[t->cap].next : NONE; t->cap && b != (int32_t)t->cap;
       b = t->blocks[b].next) {
    CORE_PACK(out, t->blocks[b].space);
    CORE_PACK(out, t->blocks[b].hash);
    CORE_PACK(out, t->blocks[b].bytes);
  }
}

int job_kv_tier_load(job_kv_tier *t, core_unpack *in) {
  assert(t->cached_blocks == 0 && t->pinned == 0);
  uint64_t capacity, blocks;
  CORE_UNPACK(in, capacity);
  CORE_UNPACK(in, t->pinned);
  CORE_UNPACK(in, t->peak);
  CORE_UNPACK(in, t->stored_blocks);
  CORE_UNPACK(in, t->evicted_blocks);
  CORE_UNPACK(in, t->hit_blocks);
  CORE_UNPACK(in, blocks);
  if (in->failed || capacity != t->capacity || t->pinned > capacity ||
      blocks > (in->len - in->pos) / (sizeof(uint32_t) + 2 * sizeof(uint64_t)))
    return -1;
  for (uint64_t k = 0; k < blocks; k++) { /* LRU end first: each goes to the MRU end */
    uint32_t space;
    uint64_t hash, bytes;
    CORE_UNPACK(in, space);
    CORE_UNPACK(in, hash);
    CORE_UNPACK(in, bytes);
    if (in->failed || bytes > t->capacity - t->pinned - t->cached ||
        job_kv_tier_has(t, space, hash) || (t->free_head == NONE && pool_grow(t) != 0))
      return -1;
    int32_t b = t->free_head;
    t->free_head = t->blocks[b].next;
    t->blocks[b] = (tier_block){.hash = hash, .bytes = bytes, .space = space};
    lru_push_mru(t, b);
    t->table[slot_find(t, space, hash)] = (tier_slot){.hash = hash, .space = space, .block = b};
    t->cached += bytes;
    t->cached_blocks++;
  }
  return t->peak >= t->cached + t->pinned ? 0 : -1;
}
