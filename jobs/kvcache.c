/* The paged KV cache of one model instance: reference-counted blocks, a hash -> block table (open
 * addressing, linear probing, backward-shift deletion) and an intrusive LRU queue. */
#include "jobs/kvcache.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/array.h"

typedef struct kv_block {
  uint64_t hash;
  uint32_t refs;
  int32_t prev, next; /* LRU links while unreferenced; the sentinel is block `total` */
  bool hashed;
} kv_block;

typedef struct kv_slot { /* key and value side by side: one cache miss per probe */
  uint64_t hash;
  int32_t block; /* JOB_KV_NONE: empty */
} kv_slot;

struct job_kv {
  uint32_t total, used, free, cached;
  /* Until a block is first given a hash, no block differs from another but by its number: the
   * released blocks are only a stack of numbers (stack[0..stacked), the last released on top, as
   * the LRU queue would hold them from its head), and `blocks` is not kept (every used block has
   * one reference). The first hash turns the stack into the queue (to_queue); so does running out
   * of memory for the stack. */
  int32_t *stack;
  uint32_t stacked, stack_cap;
  bool queued; /* the LRU queue and `blocks` are kept */
  /* Blocks [fresh, total) were never used: free, outside the LRU queue and never touched, so an
   * instance's memory and set-up grow with the blocks it uses, not the blocks it has. They come
   * first, in index order, exactly as from vLLM's initial free queue, which holds every block in
   * index order ahead of any block freed later. */
  uint32_t fresh;
  bool caching;
  kv_block *blocks; /* total + 1: the last is the LRU sentinel (next = head, prev = tail) */
  kv_slot *table;   /* hashed blocks, table_mask + 1 slots, at most half full; grows */
  uint32_t table_mask, entries;
};

/* Mooncake's hash_ids are small consecutive integers: spread them before masking (splitmix64). */
static uint32_t table_home(const job_kv *kv, uint64_t hash) {
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9u;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebu;
  hash ^= hash >> 31;
  return (uint32_t)hash & kv->table_mask;
}

static uint32_t table_find(const job_kv *kv, uint64_t hash) {
  uint32_t slot = table_home(kv, hash);
  while (kv->table[slot].block != JOB_KV_NONE && kv->table[slot].hash != hash)
    slot = (slot + 1) & kv->table_mask;
  return slot;
}

static void table_erase(job_kv *kv, uint64_t hash) {
  uint32_t hole = table_find(kv, hash), mask = kv->table_mask;
  assert(kv->table[hole].block != JOB_KV_NONE);
  for (uint32_t j = (hole + 1) & mask; kv->table[j].block != JOB_KV_NONE; j = (j + 1) & mask) {
    uint32_t home = table_home(kv, kv->table[j].hash);
    /* The entry at j may fill the hole only if its home is not cyclically within (hole, j]. */
    bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays)
      continue;
    kv->table[hole] = kv->table[j];
    hole = j;
  }
  kv->table[hole].block = JOB_KV_NONE;
  kv->entries--;
}

static int table_alloc(job_kv *kv, uint32_t slots) {
  kv_slot *table = malloc(slots * sizeof *table);
  if (!table)
    return -1;
  for (uint32_t s = 0; s < slots; s++)
    table[s] = (kv_slot){.block = JOB_KV_NONE};
  kv->table = table;
  kv->table_mask = slots - 1;
  return 0;
}

/* Doubles the table when it would pass half full; on failure the block is simply not cached. */
static int table_grow(job_kv *kv) {
  kv_slot *old = kv->table;
  uint32_t old_slots = kv->table_mask + 1;
  if (table_alloc(kv, 2 * old_slots) != 0) {
    kv->table = old;
    return -1;
  }
  for (uint32_t s = 0; s < old_slots; s++)
    if (old[s].block != JOB_KV_NONE)
      kv->table[table_find(kv, old[s].hash)] = old[s];
  free(old);
  return 0;
}

static void lru_unlink(job_kv *kv, int32_t b) {
  kv_block *blk = &kv->blocks[b];
  kv->blocks[blk->prev].next = blk->next;
  kv->blocks[blk->next].prev = blk->prev;
  blk->prev = blk->next = JOB_KV_NONE;
}

static void lru_push_tail(job_kv *kv, int32_t b) {
  int32_t sentinel = (int32_t)kv->total;
  kv_block *blk = &kv->blocks[b];
  blk->prev = kv->blocks[sentinel].prev;
  blk->next = sentinel;
  kv->blocks[blk->prev].next = b;
  kv->blocks[sentinel].prev = b;
}

/* From the stack of released blocks to the LRU queue, in the order the queue would hold them: the
 * blocks ever used get their one reference, the stacked ones none. */
static void to_queue(job_kv *kv) {
  if (kv->queued)
    return;
  for (uint32_t b = 0; b < kv->fresh; b++)
    kv->blocks[b] = (kv_block){.refs = 1, .prev = JOB_KV_NONE, .next = JOB_KV_NONE};
  for (uint32_t k = 0; k < kv->stacked; k++) {
    kv->blocks[kv->stack[k]].refs = 0;
    lru_push_tail(kv, kv->stack[k]);
  }
  free(kv->stack);
  kv->stack = NULL;
  kv->stacked = kv->stack_cap = 0;
  kv->queued = true;
}

/* Before a never-used block is taken: room to stack it once released (false: no memory). */
static bool stack_room(job_kv *kv) {
  if (kv->fresh < kv->stack_cap)
    return true;
  size_t cap = kv->stack_cap;
  int32_t *grown = util_grow(kv->stack, &cap, (size_t)kv->fresh + 1, sizeof *grown);
  if (!grown)
    return false;
  kv->stack = grown;
  kv->stack_cap = cap > kv->total ? kv->total : (uint32_t)cap;
  return true;
}

int job_kv_create(job_kv **out, uint32_t total_blocks, bool caching, char *err, size_t err_len) {
  *out = NULL;
  if (total_blocks == 0 || total_blocks > (1u << 30)) {
    snprintf(err, err_len, "kv cache: %u blocks (expected 1 to 2^30)", total_blocks);
    return -1;
  }
  job_kv *kv = calloc(1, sizeof *kv);
  if (kv && (kv->blocks = malloc((total_blocks + 1u) * sizeof *kv->blocks)))
    table_alloc(kv, 1024);
  if (!kv || !kv->blocks || !kv->table) {
    job_kv_destroy(kv);
    snprintf(err, err_len, "kv cache: out of memory for %u blocks", total_blocks);
    return -1;
  }
  kv->total = kv->free = total_blocks;
  kv->caching = caching;
  kv->blocks[total_blocks] = (kv_block){.prev = (int32_t)total_blocks,
                                        .next = (int32_t)total_blocks};
  *out = kv;
  return 0;
}

double job_kv_bytes(uint32_t total_blocks) {
  return ((double)total_blocks + 1) * sizeof(kv_block) + 1024.0 * sizeof(kv_slot);
}

void job_kv_destroy(job_kv *kv) {
  if (!kv)
    return;
  free(kv->stack);
  free(kv->blocks);
  free(kv->table);
  free(kv);
}

uint32_t job_kv_total_blocks(const job_kv *kv) { return kv->total; }
uint32_t job_kv_used_blocks(const job_kv *kv) { return kv->used; }
uint32_t job_kv_free_blocks(const job_kv *kv) { return kv->free; }
uint32_t job_kv_cached_blocks(const job_kv *kv) { return kv->cached; }
uint32_t job_kv_evictable_blocks(const job_kv *kv) { return kv->free + kv->cached; }

uint32_t job_kv_unhashed_ahead(const job_kv *kv, uint32_t max) {
  uint32_t fresh = kv->total - kv->fresh; /* taken first */
  if (fresh >= max || !kv->queued)
    return kv->free < max ? kv->free : max;
  uint32_t n = fresh;
  for (int32_t b = kv->blocks[kv->total].next; n < max && b != (int32_t)kv->total;
       b = kv->blocks[b].next, n++)
    if (kv->blocks[b].hashed)
      break;
  return n;
}

int32_t job_kv_alloc(job_kv *kv) {
  bool evicted;
  uint64_t hash;
  return job_kv_alloc_evict(kv, &evicted, &hash);
}

int32_t job_kv_alloc_evict(job_kv *kv, bool *evicted, uint64_t *evicted_hash) {
  assert(kv->free + kv->cached > 0);
  *evicted = false;
  if (!kv->queued && (kv->stacked > 0 || stack_room(kv))) {
    kv->free--;
    kv->used++;
    return kv->stacked > 0 ? kv->stack[--kv->stacked] : (int32_t)kv->fresh++;
  }
  to_queue(kv); /* no memory for the stack: on with the queue, which needs none */
  int32_t sentinel = (int32_t)kv->total, last = kv->blocks[sentinel].prev;
  if (kv->cached == 0 && last != sentinel) {
    /* No queued block holds a hash, so every block this could take is alike: which one changes
     * its number and nothing else. Take the one released last, still in the processor's cache,
     * rather than the LRU head, which a day of traffic has long evicted from it. */
    lru_unlink(kv, last);
    kv->blocks[last].refs = 1;
    kv->free--;
    kv->used++;
    return last;
  }
  if (kv->fresh < kv->total) {
    int32_t b = (int32_t)kv->fresh++;
    kv->blocks[b] = (kv_block){.refs = 1, .prev = JOB_KV_NONE, .next = JOB_KV_NONE};
    kv->free--;
    kv->used++;
    return b;
  }
  int32_t b = kv->blocks[kv->total].next;
  assert(b >= 0 && (uint32_t)b < kv->total);
  kv_block *blk = &kv->blocks[b];
  assert(blk->refs == 0);
  lru_unlink(kv, b);
  if (blk->hashed) {
    table_erase(kv, blk->hash);
    blk->hashed = false;
    kv->cached--;
    *evicted = true;
    *evicted_hash = blk->hash;
  } else {
    kv->free--;
  }
  blk->refs = 1;
  kv->used++;
  /* Allocations come in runs (a prompt's blocks) and cached blocks lie scattered in LRU order:
   * fetch what the next allocation will touch, the new head's successor and its table slot. */
  const kv_block *head = &kv->blocks[kv->blocks[kv->total].next];
  __builtin_prefetch(&kv->blocks[head->next]);
  if (head->hashed)
    __builtin_prefetch(&kv->table[table_home(kv, head->hash)]);
  return b;
}

int32_t job_kv_lookup(const job_kv *kv, uint64_t hash) {
  if (kv->entries == 0) /* nothing cached (a trace without block hashes): the table stays cold */
    return JOB_KV_NONE;
  return kv->table[table_find(kv, hash)].block;
}

uint32_t job_kv_refs(const job_kv *kv, int32_t block) {
  assert(block >= 0 && (uint32_t)block < kv->total);
  if ((uint32_t)block >= kv->fresh)
    return 0;
  if (kv->queued)
    return kv->blocks[block].refs;
  for (uint32_t k = 0; k < kv->stacked; k++) /* one reference unless released */
    if (kv->stack[k] == block)
      return 0;
  return 1;
}

void job_kv_touch(job_kv *kv, int32_t block) {
  assert(block >= 0 && (uint32_t)block < kv->total);
  kv_block *blk = &kv->blocks[block];
  assert(blk->hashed);
  if (blk->refs++ == 0) {
    lru_unlink(kv, block);
    kv->cached--;
    kv->used++;
  }
}

void job_kv_release(job_kv *kv, int32_t block) {
  assert(block >= 0 && (uint32_t)block < kv->total);
  if (!kv->queued) {
    assert((uint32_t)block < kv->fresh && kv->stacked < kv->stack_cap);
    kv->stack[kv->stacked++] = block;
    kv->used--;
    kv->free++;
    return;
  }
  kv_block *blk = &kv->blocks[block];
  assert(blk->refs > 0);
  if (--blk->refs > 0)
    return;
  kv->used--;
  if (blk->hashed)
    kv->cached++;
  else
    kv->free++;
  lru_push_tail(kv, block);
}

bool job_kv_register(job_kv *kv, int32_t block, uint64_t hash) {
  assert(block >= 0 && (uint32_t)block < kv->total);
  if (!kv->caching)
    return false;
  to_queue(kv);
  kv_block *blk = &kv->blocks[block];
  assert(blk->refs > 0 && !blk->hashed);
  uint32_t slot = table_find(kv, hash);
  if (kv->table[slot].block != JOB_KV_NONE)
    return false;
  if (2 * (kv->entries + 1) > kv->table_mask + 1) {
    if (table_grow(kv) != 0)
      return false;
    slot = table_find(kv, hash);
  }
  kv->table[slot] = (kv_slot){.hash = hash, .block = block};
  kv->entries++;
  blk->hash = hash;
  blk->hashed = true;
  return true;
}

/* job_kv_check of a cache still stacking its released blocks. */
static int check_stack(const job_kv *kv, char *err, size_t err_len) {
  if (kv->fresh > kv->total || kv->stacked > kv->fresh || kv->stacked > kv->stack_cap ||
      kv->cached || kv->entries || kv->used != kv->fresh - kv->stacked ||
      kv->free != kv->total - kv->used) {
    snprintf(err, err_len, "kv: counts used %u free %u cached %u stacked %u entries %u of %u",
             kv->used, kv->free, kv->cached, kv->stacked, kv->entries, kv->total);
    return -1;
  }
  for (uint32_t k = 0; k < kv->stacked; k++) { /* each in range, and once */
    bool bad = kv->stack[k] < 0 || (uint32_t)kv->stack[k] >= kv->fresh;
    for (uint32_t j = 0; j < k && !bad; j++)
      bad = kv->stack[j] == kv->stack[k];
    if (bad) {
      snprintf(err, err_len, "kv: released block %d out of range or stacked twice", kv->stack[k]);
      return -1;
    }
  }
  return 0;
}

int job_kv_check(const job_kv *kv, char *err, size_t err_len) {
  if (!kv->queued)
    return check_stack(kv, err, err_len);
  uint32_t used = 0, free_blocks = kv->total - kv->fresh, cached = 0, hashed = 0;
  for (uint32_t b = 0; b < kv->fresh; b++) {
    const kv_block *blk = &kv->blocks[b];
    used += blk->refs > 0;
    free_blocks += blk->refs == 0 && !blk->hashed;
    cached += blk->refs == 0 && blk->hashed;
    if (blk->hashed) {
      hashed++;
      if (job_kv_lookup(kv, blk->hash) != (int32_t)b) {
        snprintf(err, err_len, "kv: block %u's hash does not lead back to it", b);
        return -1;
      }
    }
  }
  uint32_t entries = 0;
  for (uint32_t s = 0; s <= kv->table_mask; s++)
    entries += kv->table[s].block != JOB_KV_NONE;
  uint32_t queued = 0;
  for (int32_t b = kv->blocks[kv->total].next; b != (int32_t)kv->total; b = kv->blocks[b].next) {
    if (kv->blocks[b].refs != 0 || kv->blocks[kv->blocks[b].next].prev != b ||
        ++queued > kv->total) {
      snprintf(err, err_len, "kv: LRU queue broken at block %d", b);
      return -1;
    }
  }
  if (used != kv->used || free_blocks != kv->free || cached != kv->cached ||
      used + free_blocks + cached != kv->total ||
      queued + kv->total - kv->fresh != free_blocks + cached || entries != hashed ||
      entries != kv->entries || 2 * entries > kv->table_mask + 1 || (!kv->caching && hashed)) {
    snprintf(err, err_len,
             "kv: counts used %u/%u free %u/%u cached %u/%u queued %u entries %u hashed %u of %u",
             used, kv->used, free_blocks, kv->free, cached, kv->cached, queued, entries, hashed,
             kv->total);
    return -1;
  }
  return 0;
}

int32_t job_kv_lru_at(const job_kv *kv, uint32_t index) {
  if (index < kv->total - kv->fresh) /* never-used blocks come first */
    return (int32_t)(kv->fresh + index);
  index -= kv->total - kv->fresh;
  if (!kv->queued) /* then the released ones, in the order released */
    return index < kv->stacked ? kv->stack[index] : JOB_KV_NONE;
  int32_t b = kv->blocks[kv->total].next;
  for (; b != (int32_t)kv->total && index > 0; index--)
    b = kv->blocks[b].next;
  return b == (int32_t)kv->total ? JOB_KV_NONE : b;
}

void job_kv_save(job_kv *kv, core_pack *out) {
  if (!kv->queued) { /* the blocks' references, marked in `blocks` (unused until to_queue) */
    for (uint32_t b = 0; b < kv->fresh; b++)
      kv->blocks[b] = (kv_block){.refs = 1};
    for (uint32_t k = 0; k < kv->stacked; k++)
      kv->blocks[kv->stack[k]].refs = 0;
    CORE_PACK(out, kv->fresh);
    for (uint32_t b = 0; b < kv->fresh; b++) {
      CORE_PACK(out, kv->blocks[b].refs);
      CORE_PACK(out, kv->blocks[b].hashed);
    }
    CORE_PACK(out, kv->stacked);
    for (uint32_t k = 0; k < kv->stacked; k++)
      CORE_PACK(out, kv->stack[k]);
    return;
  }
  CORE_PACK(out, kv->fresh);
  for (uint32_t b = 0; b < kv->fresh; b++) {
    const kv_block *blk = &kv->blocks[b];
    CORE_PACK(out, blk->refs);
    CORE_PACK(out, blk->hashed);
    if (blk->hashed)
      CORE_PACK(out, blk->hash);
  }
  uint32_t queued = kv->free + kv->cached - (kv->total - kv->fresh);
  CORE_PACK(out, queued);
  for (int32_t b = kv->blocks[kv->total].next; b != (int32_t)kv->total; b = kv->blocks[b].next)
    CORE_PACK(out, b);
}

/* Puts a loaded block's hash in the table; false for a duplicate or no memory. */
static bool table_insert(job_kv *kv, int32_t block) {
  uint64_t hash = kv->blocks[block].hash;
  if (2 * (kv->entries + 1) > kv->table_mask + 1 && table_grow(kv) != 0)
    return false;
  uint32_t slot = table_find(kv, hash);
  if (kv->table[slot].block != JOB_KV_NONE)
    return false;
  kv->table[slot] = (kv_slot){.hash = hash, .block = block};
  kv->entries++;
  return true;
}

int job_kv_load(job_kv *kv, core_unpack *in) {
  assert(kv->fresh == 0);
  kv->queued = true; /* whatever the saved cache held: the queue takes the same blocks */
  CORE_UNPACK(in, kv->fresh);
  if (in->failed || kv->fresh > kv->total)
    return kv->fresh = 0, -1;
  for (uint32_t b = 0; b < kv->fresh && !in->failed; b++) {
    kv_block *blk = &kv->blocks[b];
    *blk = (kv_block){.prev = JOB_KV_NONE, .next = JOB_KV_NONE};
    uint8_t hashed;
    CORE_UNPACK(in, blk->refs);
    CORE_UNPACK(in, hashed);
    if (hashed > 1 || (hashed && !kv->caching))
      return -1;
    if (hashed)
      CORE_UNPACK(in, blk->hash);
    if (hashed && !(blk->hashed = table_insert(kv, (int32_t)b)))
      return -1;
    kv->used += blk->refs > 0;
  }
  uint32_t queued;
  CORE_UNPACK(in, queued);
  if (in->failed || queued != kv->fresh - kv->used)
    return -1;
  for (uint32_t k = 0; k < queued; k++) {
    int32_t b;
    CORE_UNPACK(in, b);
    if (in->failed || b < 0 || (uint32_t)b >= kv->fresh || kv->blocks[b].refs > 0 ||
        kv->blocks[b].next != JOB_KV_NONE)
      return -1;
    lru_push_tail(kv, b);
    kv->cached += kv->blocks[b].hashed;
  }
  kv->free = kv->total - kv->used - kv->cached;
  return 0;
}
