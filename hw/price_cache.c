/* The iteration price memo (price_cache.h): set-associative, keyed on every field of the
 * batch that hw_iteration_ns reads, in a canonical array of words. */
#include "hw/price_cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* hw_batch's fields as words: (prefill_seqs, prefill_tokens) packed, then the 64-bit sums and
 * decode_seqs. Struct padding never enters a key. */
enum { KEY_WORDS = 5, WAYS = HW_PRICE_CACHE_WAYS, MAX_SETS_LOG2 = 24 };

typedef struct entry {
  uint64_t key[KEY_WORDS];
  uint64_t hash;
  int64_t duration_ns;
  double power_w;
  uint64_t used; /* the cache's clock at its last hit or fill; 0: empty */
} entry;

struct hw_price_cache {
  const hw_deploy *deploy;
  hw_price_hash_fn hash;
  uint64_t set_mask;
  uint64_t clock;
  hw_price_cache_counts counts;
  entry *entries; /* sets of WAYS entries */
};

uint64_t hw_price_cache_hash(const uint64_t *words, uint32_t count) {
  uint64_t h = 0x9e3779b97f4a7c15u;
  for (uint32_t i = 0; i < count; i++) {
    uint64_t z = h ^ words[i];
    z += 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    h = z ^ (z >> 31);
  }
  return h;
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
  if (!c || !(c->entries = calloc(sets * WAYS, sizeof *c->entries))) {
    free(c);
    return NULL;
  }
  c->deploy = d;
  c->hash = hash ? hash : hw_price_cache_hash;
  c->set_mask = sets - 1;
  return c;
}

void hw_price_cache_destroy(hw_price_cache *c) {
  if (c)
    free(c->entries);
  free(c);
}

int64_t hw_price_cache_iteration_ns(hw_price_cache *c, const hw_batch *b, double *power_w) {
  uint64_t key[KEY_WORDS];
  key_of(b, key);
  uint64_t h = c->hash(key, KEY_WORDS);
  entry *set = &c->entries[(h & c->set_mask) * WAYS];
  c->clock++;
  entry *victim = &set[0];
  for (int w = 0; w < WAYS; w++) {
    entry *e = &set[w];
    if (e->used && e->hash == h && memcmp(e->key, key, sizeof key) == 0) {
      e->used = c->clock;
      c->counts.hits++;
      *power_w = e->power_w;
      return e->duration_ns;
    }
    if (e->used < victim->used)
      victim = e;
  }
  hw_breakdown cost;
  int64_t duration_ns = hw_iteration_ns(c->deploy, b, &cost);
  c->counts.misses++;
  c->counts.evictions += victim->used != 0;
  *victim = (entry){
      .hash = h, .duration_ns = duration_ns, .power_w = cost.power_w, .used = c->clock};
  memcpy(victim->key, key, sizeof key);
  *power_w = cost.power_w;
  return duration_ns;
}

hw_price_cache_counts hw_price_cache_get_counts(const hw_price_cache *c) { return c->counts; }
