/* The iteration price memo (price_cache.h): set-associative, keyed on every field of the
 * batch that hw_iteration_ns reads, in a canonical array of words. */
#include "hw/price_cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* hw_batch's fields as words: (prefill_seqs, prefill_tokens) packed, then the 64-bit sums and
 * decode_seqs. Struct padding never enters a key. */
enum { KEY_WORDS = 5, WAYS = HW_PRICE_CACHE_WAYS, MAX_SETS_LOG2 = 24 };

/* Decode runs (hw_price_cache_decode_run): RUN prices of one progression side by side, a run table
 * of 2^(sets_log2 - RUN_SETS_LESS) sets (about twice the memory of the shape table). */
enum { RUN = 64, RUN_KEY_WORDS = 3, RUN_SETS_LESS = 3 };

/* A set's tags, in one cache line: a lookup reads this line and, on a hash match, one entry. */
typedef struct tags {
  uint64_t hash[WAYS];
  uint64_t used[WAYS]; /* the cache's clock at the way's last hit or fill; 0: empty */
} tags;

typedef struct entry {
  uint64_t key[KEY_WORDS];
  int64_t duration_ns;
  double power_w;
} entry;

/* RUN prices of decode-only batches of `seqs` sequences whose decode_ctx_tokens are
 * seqs * (RUN * block + i) + residue, i < RUN: price[i] when bit i of held is set. */
typedef struct run_chunk {
  uint64_t key[RUN_KEY_WORDS]; /* seqs, residue, block */
  uint64_t held;
  struct {
    int64_t duration_ns;
    double power_w;
  } price[RUN];
} run_chunk;

struct hw_price_cache {
  const hw_deploy *deploy;
  hw_price_hash_fn hash; /* NULL: hw_price_cache_hash, inlined */
  uint64_t set_mask, run_set_mask;
  uint64_t clock;
  hw_price_cache_counts counts;
  tags *sets;
  entry *entries; /* WAYS per set */
  tags *run_sets;
  run_chunk *runs; /* WAYS per run set */
};

/* splitmix64's finaliser (Steele, Lea and Flood 2014). */
static inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

/* Each word times its own odd constant (independent multiplies), summed, then mixed once. */
static inline uint64_t hash_words(const uint64_t *words, uint32_t count) {
  static const uint64_t odd[KEY_WORDS] = {0x9e3779b97f4a7c15u, 0xc2b2ae3d27d4eb4fu,
                                          0x165667b19e3779f9u, 0xd6e8feb86659fd93u,
                                          0xff51afd7ed558ccdu};
  uint64_t h = count;
  for (uint32_t i = 0; i < count; i++)
    h += (words[i] + i) * odd[i % KEY_WORDS];
  return mix64(h);
}

uint64_t hw_price_cache_hash(const uint64_t *words, uint32_t count) {
  return hash_words(words, count);
}

static void key_of(const hw_batch *b, uint64_t key[KEY_WORDS]) {
  key[0] = (uint64_t)b->prefill_seqs | (uint64_t)b->prefill_tokens << 32;
  key[1] = b->prefill_attn_pairs;
  key[2] = b->prefill_ctx_tokens;
  key[3] = b->decode_seqs;
  key[4] = b->decode_ctx_tokens;
}

hw_price_cache *hw_price_cache_create(const hw_deploy *d, uint32_t sets_log2,
                                      hw_price_hash_fn hash) {
  if (sets_log2 > MAX_SETS_LOG2)
    return NULL;
  hw_price_cache *c = calloc(1, sizeof *c);
  size_t sets = (size_t)1 << sets_log2,
         run_sets = (size_t)1 << (sets_log2 > RUN_SETS_LESS ? sets_log2 - RUN_SETS_LESS : 0);
  if (!c || !(c->sets = aligned_alloc(64, sets * sizeof *c->sets)) ||
      !(c->entries = malloc(sets * WAYS * sizeof *c->entries)) ||
      !(c->run_sets = aligned_alloc(64, run_sets * sizeof *c->run_sets)) ||
      !(c->runs = malloc(run_sets * WAYS * sizeof *c->runs))) {
    hw_price_cache_destroy(c);
    return NULL;
  }
  memset(c->sets, 0, sets * sizeof *c->sets);
  memset(c->run_sets, 0, run_sets * sizeof *c->run_sets);
  c->deploy = d;
  c->hash = hash;
  c->set_mask = sets - 1;
  c->run_set_mask = run_sets - 1;
  return c;
}

void hw_price_cache_destroy(hw_price_cache *c) {
  if (c) {
    free(c->sets);
    free(c->entries);
    free(c->run_sets);
    free(c->runs);
  }
  free(c);
}

/* The way of set t whose key is `key` (`words` long, the first member of each of the set's ways,
 * way_bytes apart) and hash h, its use recorded (*hit); else the least recently used way, now
 * holding h, whose entry the caller replaces. */
static inline int way_of(hw_price_cache *c, tags *t, uint64_t h, const void *ways, size_t way_bytes,
                         const uint64_t *key, size_t words, bool *hit) {
  c->clock++;
  int victim = 0;
  for (int w = 0; w < WAYS; w++) {
    if (t->used[w] && t->hash[w] == h &&
        memcmp((const char *)ways + (size_t)w * way_bytes, key, words * sizeof *key) == 0) {
      t->used[w] = c->clock;
      *hit = true;
      return w;
    }
    if (t->used[w] < t->used[victim])
      victim = w;
  }
  c->counts.evictions += t->used[victim] != 0;
  t->hash[victim] = h;
  t->used[victim] = c->clock;
  *hit = false;
  return victim;
}

/* The lookup, from the key and its hash. */
static int64_t lookup(hw_price_cache *c, const hw_batch *b, const uint64_t key[KEY_WORDS],
                      uint64_t h, double *power_w) {
  size_t s = h & c->set_mask;
  entry *ways = &c->entries[s * WAYS];
  bool hit;
  entry *e = &ways[way_of(c, &c->sets[s], h, ways, sizeof *ways, key, KEY_WORDS, &hit)];
  if (hit) {
    c->counts.hits++;
  } else {
    hw_breakdown cost;
    memcpy(e->key, key, KEY_WORDS * sizeof *key);
    e->duration_ns = hw_iteration_ns(c->deploy, b, &cost);
    e->power_w = cost.power_w;
    c->counts.misses++;
  }
  *power_w = e->power_w;
  return e->duration_ns;
}

static inline uint64_t hash_of(const hw_price_cache *c, const uint64_t key[KEY_WORDS]) {
  return c->hash ? c->hash(key, KEY_WORDS) : hash_words(key, KEY_WORDS);
}

int64_t hw_price_cache_iteration_ns(hw_price_cache *c, const hw_batch *b, double *power_w) {
  uint64_t key[KEY_WORDS];
  key_of(b, key);
  return lookup(c, b, key, hash_of(c, key), power_w);
}

/* The run chunk of key, found or made empty in its set's least recently used way. */
static run_chunk *run_chunk_of(hw_price_cache *c, const uint64_t key[RUN_KEY_WORDS]) {
  uint64_t h = c->hash ? c->hash(key, RUN_KEY_WORDS) : hash_words(key, RUN_KEY_WORDS);
  size_t s = h & c->run_set_mask;
  run_chunk *ways = &c->runs[s * WAYS];
  bool hit;
  run_chunk *r = &ways[way_of(c, &c->run_sets[s], h, ways, sizeof *ways, key, RUN_KEY_WORDS, &hit)];
  if (!hit) {
    memcpy(r->key, key, RUN_KEY_WORDS * sizeof *key);
    r->held = 0;
  }
  return r;
}

void hw_price_cache_decode_run(hw_price_cache *c, const hw_batch *first, uint32_t n,
                               int64_t *duration_ns, double *power_w) {
  uint64_t seqs = first->decode_seqs;
  hw_batch b = *first;
  if (b.prefill_seqs || b.prefill_tokens || b.prefill_attn_pairs || b.prefill_ctx_tokens ||
      seqs == 0) { /* not a decode run: shape by shape */
    for (uint32_t j = 0; j < n; j++) {
      b.decode_ctx_tokens += seqs;
      duration_ns[j] = hw_price_cache_iteration_ns(c, &b, &power_w[j]);
    }
    return;
  }
  /* Iteration j's context: seqs * (q + j + 1) + residue. */
  uint64_t residue = first->decode_ctx_tokens % seqs, q = first->decode_ctx_tokens / seqs;
  run_chunk *r = NULL;
  for (uint32_t j = 0; j < n; j++) {
    uint64_t at = q + j + 1, i = at % RUN;
    if (!r || i == 0)
      r = run_chunk_of(c, (uint64_t[RUN_KEY_WORDS]){seqs, residue, at / RUN});
    if (r->held >> i & 1) {
      c->counts.hits++;
    } else {
      hw_breakdown cost;
      b.decode_ctx_tokens = seqs * at + residue;
      r->price[i].duration_ns = hw_iteration_ns(c->deploy, &b, &cost);
      r->price[i].power_w = cost.power_w;
      r->held |= (uint64_t)1 << i;
      c->counts.misses++;
    }
    duration_ns[j] = r->price[i].duration_ns;
    power_w[j] = r->price[i].power_w;
  }
}

hw_price_cache_counts hw_price_cache_get_counts(const hw_price_cache *c) { return c->counts; }
