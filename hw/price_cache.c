/* The iteration price memo (price_cache.h): set-associative, keyed on every field of the
 * batch that hw_iteration_ns reads, in a canonical array of words. */
#include "hw/price_cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* hw_batch's fields as words: (prefill_seqs, prefill_tokens) packed, then the 64-bit sums and
 * decode_seqs. Struct padding never enters a key. */
enum { KEY_WORDS = 5, WAYS = HW_PRICE_CACHE_WAYS, MAX_SETS_LOG2 = 24 };

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

struct hw_price_cache {
  const hw_deploy *deploy;
  hw_price_hash_fn hash; /* NULL: hw_price_cache_hash, inlined */
  uint64_t set_mask;
  uint64_t clock;
  hw_price_cache_counts counts;
  tags *sets;
  entry *entries; /* WAYS per set */
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
  size_t sets = (size_t)1 << sets_log2;
  if (!c || !(c->sets = aligned_alloc(64, sets * sizeof *c->sets)) ||
      !(c->entries = malloc(sets * WAYS * sizeof *c->entries))) {
    hw_price_cache_destroy(c);
    return NULL;
  }
  memset(c->sets, 0, sets * sizeof *c->sets);
  c->deploy = d;
  c->hash = hash;
  c->set_mask = sets - 1;
  return c;
}

void hw_price_cache_destroy(hw_price_cache *c) {
  if (c) {
    free(c->sets);
    free(c->entries);
  }
  free(c);
}

/* The lookup, from the key and its hash. */
static int64_t lookup(hw_price_cache *c, const hw_batch *b, const uint64_t key[KEY_WORDS],
                      uint64_t h, double *power_w) {
  size_t s = h & c->set_mask;
  tags *t = &c->sets[s];
  entry *ways = &c->entries[s * WAYS];
  c->clock++;
  int victim = 0;
  for (int w = 0; w < WAYS; w++) {
    if (t->used[w] && t->hash[w] == h && memcmp(ways[w].key, key, KEY_WORDS * sizeof *key) == 0) {
      t->used[w] = c->clock;
      c->counts.hits++;
      *power_w = ways[w].power_w;
      return ways[w].duration_ns;
    }
    if (t->used[w] < t->used[victim])
      victim = w;
  }
  hw_breakdown cost;
  int64_t duration_ns = hw_iteration_ns(c->deploy, b, &cost);
  c->counts.misses++;
  c->counts.evictions += t->used[victim] != 0;
  t->hash[victim] = h;
  t->used[victim] = c->clock;
  entry *e = &ways[victim];
  memcpy(e->key, key, KEY_WORDS * sizeof *key);
  e->duration_ns = duration_ns;
  e->power_w = cost.power_w;
  *power_w = cost.power_w;
  return duration_ns;
}

static inline uint64_t hash_of(const hw_price_cache *c, const uint64_t key[KEY_WORDS]) {
  return c->hash ? c->hash(key, KEY_WORDS) : hash_words(key, KEY_WORDS);
}

int64_t hw_price_cache_iteration_ns(hw_price_cache *c, const hw_batch *b, double *power_w) {
  uint64_t key[KEY_WORDS];
  key_of(b, key);
  return lookup(c, b, key, hash_of(c, key), power_w);
}

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(address) __builtin_prefetch(address)
#else
#define PREFETCH(address) ((void)(address))
#endif

/* Batches whose memory is fetched together: a lookup's two loads (its set's tags, then its entry)
 * miss the processor's caches when the table is cold, and fetched one lookup at a time they cost
 * as much as pricing; issued for a group at once they overlap. */
enum { GROUP = 16 };

void hw_price_cache_iteration_ns_n(hw_price_cache *c, const hw_batch *b, uint32_t n,
                                   int64_t *duration_ns, double *power_w) {
  uint64_t key[GROUP][KEY_WORDS], h[GROUP];
  for (uint32_t first = 0; first < n; first += GROUP) {
    uint32_t count = n - first < GROUP ? n - first : GROUP;
    for (uint32_t i = 0; i < count; i++) {
      key_of(&b[first + i], key[i]);
      h[i] = hash_of(c, key[i]);
      PREFETCH(&c->sets[h[i] & c->set_mask]);
    }
    for (uint32_t i = 0; i < count; i++) {
      size_t s = h[i] & c->set_mask;
      for (int w = 0; w < WAYS; w++)
        if (c->sets[s].hash[w] == h[i])
          PREFETCH(&c->entries[s * WAYS + w]);
    }
    /* Then the lookups themselves, in order: the same as one call each. */
    for (uint32_t i = 0; i < count; i++)
      duration_ns[first + i] = lookup(c, &b[first + i], key[i], h[i], &power_w[first + i]);
  }
}

hw_price_cache_counts hw_price_cache_get_counts(const hw_price_cache *c) { return c->counts; }
