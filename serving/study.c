/* Reads a design study and expands its axes into configurations: the product of its axis blocks,
 * each a grid (the product of its keys' values), zipped keys, a list of points, or random samples
 * drawn from Philox streams keyed by (seed, block), so that the same study always gives the same
 * configurations in the same order. */
#define _POSIX_C_SOURCE 200809L
#include "serving/study.h"

#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "io/doc.h"
#include "serving/metrics.h"

/* More configurations than this is a study that will not finish; refuse it rather than allocate. */
enum { STUDY_MAX_CONFIGS = 1000000 };

/* One axis block: points x keys values (values[point * key_count + k]). */
typedef struct study_block {
  size_t *key_index; /* into srv_study.keys */
  size_t key_count;
  const char **values;
  size_t point_count;
} study_block;

/* Everything the reader shares: the study being filled, owned strings, the blocks. */
typedef struct study_reader {
  srv_study *st;
  char **owned;
  size_t owned_count, owned_cap;
  study_block *blocks;
  size_t block_count;
  const char **fixed; /* "key=value" of the study's set section */
  size_t fixed_count;
  char *err;
  size_t err_len;
} study_reader;

static int oom(study_reader *rd) {
  snprintf(rd->err, rd->err_len, "out of memory reading the study");
  return IO_DOC_ENOMEM;
}

/* Keeps s (malloc'd) for the study's lifetime; returns it, or NULL (s freed) when out of memory. */
static char *keep(study_reader *rd, char *s) {
  if (!s)
    return NULL;
  if (rd->owned_count == rd->owned_cap) {
    size_t cap = rd->owned_cap ? 2 * rd->owned_cap : 64;
    char **grown = realloc(rd->owned, cap * sizeof *grown);
    if (!grown) {
      free(s);
      return NULL;
    }
    rd->owned = grown;
    rd->owned_cap = cap;
  }
  rd->owned[rd->owned_count++] = s;
  return s;
}

static char *keep_text(study_reader *rd, const char *text) { return keep(rd, strdup(text)); }

static bool is_number(const char *text) {
  if (!*text)
    return false;
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  return !*end && errno == 0 && isfinite(v);
}

/* The global index of key, added when new; a key in two blocks is an error at n. */
static int key_index(study_reader *rd, const io_node *n, size_t *index) {
  srv_study *st = rd->st;
  for (size_t i = 0; i < st->key_count; i++) {
    if (strcmp(st->keys[i], n->text) != 0)
      continue;
    /* mapping keys are unique within a block, so a match is another block's key */
    return io_node_error(n, rd->err, rd->err_len,
                         "the key '%s' is already an axis of another block; a key may vary in "
                         "one block only (zip keys that vary together)",
                         n->text);
  }
  for (size_t i = 0; st->mode != SRV_STUDY_GRID && i < st->search.key_count; i++)
    if (strcmp(n->text, st->search.keys[i]) == 0)
      return io_node_error(n, rd->err, rd->err_len,
                           "'%s' is a key that %s bisects; it cannot also be an axis", n->text,
                           srv_study_search_name(st->mode));
  if (strchr(n->text, '='))
    return io_node_error(n, rd->err, rd->err_len, "a key path cannot contain '='");
  const char **keys = realloc(st->keys, (st->key_count + 1) * sizeof *keys);
  bool *numeric = keys ? realloc(st->key_numeric, (st->key_count + 1) * sizeof *numeric) : NULL;
  if (keys)
    st->keys = keys;
  if (!numeric)
    return oom(rd);
  st->key_numeric = numeric;
  if (!(st->keys[st->key_count] = keep_text(rd, n->text)))
    return oom(rd);
  st->key_numeric[st->key_count] = true;
  *index = st->key_count++;
  return 0;
}

static study_block *new_block(study_reader *rd) {
  study_block *b = realloc(rd->blocks, (rd->block_count + 1) * sizeof *b);
  if (!b)
    return NULL;
  rd->blocks = b;
  b = &rd->blocks[rd->block_count++];
  *b = (study_block){0};
  return b;
}

static int block_keys(study_reader *rd, study_block *b, const io_node *const *key_nodes,
                      size_t count, size_t points) {
  b->key_index = calloc(count ? count : 1, sizeof *b->key_index);
  b->values = calloc(count * points > 0 ? count * points : 1, sizeof *b->values);
  if (!b->key_index || !b->values)
    return oom(rd);
  for (size_t k = 0; k < count; k++) {
    int rc = key_index(rd, key_nodes[k], &b->key_index[k]);
    if (rc)
      return rc;
    b->key_count++;
  }
  b->point_count = points;
  return 0;
}

/* Stores the scalar n as value (point, k) of b. */
static int block_value(study_reader *rd, study_block *b, size_t point, size_t k, const io_node *n) {
  if (n->kind != IO_NODE_SCALAR)
    return io_node_error(n, rd->err, rd->err_len,
                         "expected one value (a number, a word or a quoted text)");
  if (!(b->values[point * b->key_count + k] = keep_text(rd, n->text)))
    return oom(rd);
  if (!is_number(n->text))
    rd->st->key_numeric[b->key_index[k]] = false;
  return 0;
}

static int expect_mapping(study_reader *rd, const io_node *n, const char *what) {
  if (n->kind != IO_NODE_MAPPING || n->count == 0)
    return io_node_error(n, rd->err, rd->err_len, "expected %s", what);
  return 0;
}

/* grid: {key: [values], ...}: the product of the keys' values, the last key varying fastest. */
static int read_grid(study_reader *rd, const io_node *m) {
  int rc = expect_mapping(rd, m, "a mapping of keys to lists of values");
  if (rc)
    return rc;
  size_t points = 1;
  for (size_t k = 0; k < m->count; k++) {
    const io_node *v = m->values[k];
    if (v->kind != IO_NODE_SEQUENCE || v->count == 0)
      return io_node_error(v, rd->err, rd->err_len, "expected a non-empty list of values");
    if (points > STUDY_MAX_CONFIGS / v->count)
      return io_node_error(v, rd->err, rd->err_len, "more than %d configurations",
                           STUDY_MAX_CONFIGS);
    points *= v->count;
  }
  study_block *b = new_block(rd);
  if (!b)
    return oom(rd);
  if ((rc = block_keys(rd, b, (const io_node *const *)m->keys, m->count, points)))
    return rc;
  for (size_t p = 0; p < points; p++) {
    size_t rest = p;
    for (size_t k = m->count; k-- > 0;) {
      const io_node *v = m->values[k];
      if ((rc = block_value(rd, b, p, k, v->values[rest % v->count])))
        return rc;
      rest /= v->count;
    }
  }
  return 0;
}

/* zip: {key: [values], ...}, lists of one length: point i takes the i-th value of each key. */
static int read_zip(study_reader *rd, const io_node *m) {
  int rc = expect_mapping(rd, m, "a mapping of keys to lists of values of one length");
  if (rc)
    return rc;
  size_t points = 0;
  for (size_t k = 0; k < m->count; k++) {
    const io_node *v = m->values[k];
    if (v->kind != IO_NODE_SEQUENCE || v->count == 0)
      return io_node_error(v, rd->err, rd->err_len, "expected a non-empty list of values");
    if (k > 0 && v->count != points)
      return io_node_error(v, rd->err, rd->err_len,
                           "zipped lists must have one length: %zu values here, %zu for '%s'",
                           v->count, points, m->keys[0]->text);
    points = v->count;
  }
  study_block *b = new_block(rd);
  if (!b)
    return oom(rd);
  if ((rc = block_keys(rd, b, (const io_node *const *)m->keys, m->count, points)))
    return rc;
  for (size_t p = 0; p < points; p++)
    for (size_t k = 0; k < m->count; k++)
      if ((rc = block_value(rd, b, p, k, m->values[k]->values[p])))
        return rc;
  return 0;
}

/* list: [{key: value, ...}, ...]: each item a point; every item names the same keys. */
static int read_list(study_reader *rd, const io_node *s) {
  if (s->kind != IO_NODE_SEQUENCE || s->count == 0)
    return io_node_error(s, rd->err, rd->err_len,
                         "expected a non-empty list of points ({key: value, ...})");
  const io_node *first = s->values[0];
  int rc = expect_mapping(rd, first, "a mapping of keys to values");
  if (rc)
    return rc;
  study_block *b = new_block(rd);
  if (!b)
    return oom(rd);
  if ((rc = block_keys(rd, b, (const io_node *const *)first->keys, first->count, s->count)))
    return rc;
  for (size_t p = 0; p < s->count; p++) {
    const io_node *item = s->values[p];
    if ((rc = expect_mapping(rd, item, "a mapping of keys to values")))
      return rc;
    if (item->count != first->count)
      return io_node_error(item, rd->err, rd->err_len,
                           "every point of a list names the same %zu keys as the first",
                           first->count);
    for (size_t k = 0; k < first->count; k++) {
      const io_node *v = NULL;
      for (size_t j = 0; j < item->count; j++)
        if (strcmp(item->keys[j]->text, first->keys[k]->text) == 0)
          v = item->values[j];
      if (!v)
        return io_node_error(item, rd->err, rd->err_len, "missing the key '%s' of the first point",
                             first->keys[k]->text);
      if ((rc = block_value(rd, b, p, k, v)))
        return rc;
    }
  }
  return 0;
}

/* Two numbers [low, high] with low <= high, from n. */
static int read_bounds(study_reader *rd, const io_node *n, double *low, double *high) {
  if (n->kind != IO_NODE_SEQUENCE || n->count != 2 || n->values[0]->kind != IO_NODE_SCALAR ||
      n->values[1]->kind != IO_NODE_SCALAR || !is_number(n->values[0]->text) ||
      !is_number(n->values[1]->text))
    return io_node_error(n, rd->err, rd->err_len, "expected [low, high], two numbers");
  *low = strtod(n->values[0]->text, NULL);
  *high = strtod(n->values[1]->text, NULL);
  if (*low > *high)
    return io_node_error(n, rd->err, rd->err_len, "expected low <= high");
  return 0;
}

/* random: {samples: N, seed: S, keys: {key: {uniform|log_uniform|int: [lo, hi]} or
 * {choice: [values]}}}: N points, each key drawn in file order from the stream (seed, block). */
static int read_random(study_reader *rd, const io_node *m) {
  static const char *const allowed[] = {"samples", "seed", "keys", NULL};
  int64_t samples = 0, seed = 0;
  const io_node *keys;
  int rc;
  if ((rc = expect_mapping(rd, m, "samples, seed and keys")) ||
      (rc = io_node_check_keys(m, allowed, rd->err, rd->err_len)) ||
      (rc = io_node_get_i64(m, "samples", IO_UNIT_NUMBER, 1, STUDY_MAX_CONFIGS, &samples, rd->err,
                            rd->err_len)) ||
      (rc = io_node_get_i64(m, "seed", IO_UNIT_NUMBER, 0, INT64_MAX, &seed, rd->err,
                            rd->err_len)) ||
      (rc = io_node_get(m, "keys", IO_NODE_MAPPING, &keys, rd->err, rd->err_len)) ||
      (rc = expect_mapping(rd, keys, "a mapping of keys to distributions")))
    return rc;
  static const char *const kinds[] = {"uniform", "log_uniform", "int", "choice", NULL};
  for (size_t k = 0; k < keys->count; k++) {
    const io_node *d = keys->values[k];
    if (d->kind != IO_NODE_MAPPING || d->count != 1)
      return io_node_error(d, rd->err, rd->err_len,
                           "expected one of {uniform: [lo, hi]}, {log_uniform: [lo, hi]}, "
                           "{int: [lo, hi]}, {choice: [values]}");
    if ((rc = io_node_check_keys(d, kinds, rd->err, rd->err_len)))
      return rc;
  }
  study_block *b = new_block(rd);
  if (!b)
    return oom(rd);
  if ((rc = block_keys(rd, b, (const io_node *const *)keys->keys, keys->count, (size_t)samples)))
    return rc;
  core_rng rng;
  core_rng_init(&rng, (uint64_t)seed, (uint32_t)(rd->block_count - 1));
  for (size_t p = 0; p < (size_t)samples; p++) {
    for (size_t k = 0; k < keys->count; k++) {
      const io_node *d = keys->values[k];
      const char *kind = d->keys[0]->text;
      const io_node *arg = d->values[0];
      char text[64];
      double lo = 0, hi = 0;
      if (strcmp(kind, "choice") == 0) {
        if (arg->kind != IO_NODE_SEQUENCE || arg->count == 0)
          return io_node_error(arg, rd->err, rd->err_len, "expected a non-empty list of values");
        if ((rc = block_value(rd, b, p, k,
                              arg->values[core_rng_below(&rng, (uint32_t)arg->count)])))
          return rc;
        continue;
      }
      if ((rc = read_bounds(rd, arg, &lo, &hi)))
        return rc;
      if (strcmp(kind, "int") == 0) {
        if (lo != floor(lo) || hi != floor(hi) || hi - lo >= 4294967295.0)
          return io_node_error(arg, rd->err, rd->err_len, "expected whole bounds");
        snprintf(text, sizeof text, "%.0f",
                 lo + (double)core_rng_below(&rng, (uint32_t)(hi - lo) + 1));
      } else if (strcmp(kind, "uniform") == 0) {
        snprintf(text, sizeof text, "%.6g", lo + (hi - lo) * core_rng_uniform(&rng));
      } else {
        if (!(lo > 0))
          return io_node_error(arg, rd->err, rd->err_len, "log_uniform needs low > 0");
        snprintf(text, sizeof text, "%.6g",
                 exp(log(lo) + (log(hi) - log(lo)) * core_rng_uniform(&rng)));
      }
      char *kept = keep_text(rd, text);
      if (!kept)
        return oom(rd);
      b->values[p * b->key_count + k] = kept;
    }
  }
  return 0;
}

static int read_axes(study_reader *rd, const io_node *axes) {
  if (axes->kind != IO_NODE_SEQUENCE)
    return io_node_error(axes, rd->err, rd->err_len,
                         "expected a list of blocks (grid, zip, list or random)");
  static const char *const kinds[] = {"grid", "zip", "list", "random", NULL};
  for (size_t i = 0; i < axes->count; i++) {
    const io_node *blk = axes->values[i];
    int rc;
    if (blk->kind != IO_NODE_MAPPING || blk->count != 1)
      return io_node_error(blk, rd->err, rd->err_len,
                           "expected one of grid:, zip:, list: or random:");
    if ((rc = io_node_check_keys(blk, kinds, rd->err, rd->err_len)))
      return rc;
    const char *kind = blk->keys[0]->text;
    const io_node *body = blk->values[0];
    rc = strcmp(kind, "grid") == 0   ? read_grid(rd, body)
         : strcmp(kind, "zip") == 0  ? read_zip(rd, body)
         : strcmp(kind, "list") == 0 ? read_list(rd, body)
                                     : read_random(rd, body);
    if (rc)
      return rc;
  }
  return 0;
}

/* limits: {metric: max, ...}: summary figures a passing run keeps within. */
static int read_limits(study_reader *rd, const io_node *m) {
  srv_study *st = rd->st;
  int rc = expect_mapping(rd, m, "a mapping of summary figures to their largest passing value");
  if (rc)
    return rc;
  if (m->count > SRV_STUDY_MAX_LIMITS)
    return io_node_error(m, rd->err, rd->err_len, "at most %d limits", SRV_STUDY_MAX_LIMITS);
  for (size_t i = 0; i < m->count; i++) {
    const char *name = m->keys[i]->text;
    if (!srv_metric_find(name) || strlen(name) >= sizeof st->search.limits[0].metric)
      return io_node_error(m->keys[i], rd->err, rd->err_len,
                           "'%s' is not a summary figure (see the columns of 'windtunnel sweep "
                           "--csv', e.g. ttft_ms_p90, tpot_ms_p99)",
                           name);
    srv_study_limit *l = &st->search.limits[st->search.limit_count++];
    snprintf(l->metric, sizeof l->metric, "%s", name);
    if ((rc = io_node_get_f64(m, name, IO_UNIT_NUMBER, -INFINITY, INFINITY, &l->max, rd->err,
                              rd->err_len)))
      return rc;
  }
  return 0;
}

/* The section of mode max_rate or min_count: the key, its bounds, and what passes. */
static int read_search(study_reader *rd, const io_node *m) {
  static const char *const allowed[] = {"key",           "low",    "high", "tolerance",
                                        "goodput_share", "limits", NULL};
  srv_study *st = rd->st;
  bool count = st->mode == SRV_STUDY_MIN_COUNT;
  int rc;
  if ((rc = expect_mapping(rd, m,
                           count ? "key, low, high and optionally goodput_share, limits"
                                 : "low, high and optionally key, tolerance, goodput_share, "
                                   "limits")) ||
      (rc = io_node_check_keys(m, allowed, rd->err, rd->err_len)) ||
      (rc = io_node_get_f64(m, "low", IO_UNIT_NUMBER, 0, INFINITY, &st->search.low, rd->err,
                            rd->err_len)) ||
      (rc = io_node_get_f64(m, "high", IO_UNIT_NUMBER, 0, INFINITY, &st->search.high, rd->err,
                            rd->err_len)))
    return rc;
  if (count && (st->search.low != floor(st->search.low) || st->search.high != floor(st->search.high)))
    return io_node_error(m, rd->err, rd->err_len, "min_count searches whole numbers: low and high "
                                                  "must be whole");
  const io_node *keys = io_node_find(m, "key");
  if (!keys && count)
    return io_node_error(m, rd->err, rd->err_len,
                         "min_count needs the key it searches, e.g. key: deployments.0.count");
  if (keys) {
    /* One key, or a list of keys that take the same value. */
    size_t n = keys->kind == IO_NODE_SEQUENCE ? keys->count : 1;
    if (n == 0 || n > SRV_STUDY_MAX_SEARCH_KEYS)
      return io_node_error(keys, rd->err, rd->err_len, "expected one key, or a list of 1 to %d",
                           SRV_STUDY_MAX_SEARCH_KEYS);
    st->search.key_count = 0;
    for (size_t i = 0; i < n; i++) {
      const io_node *k = keys->kind == IO_NODE_SEQUENCE ? keys->values[i] : keys;
      if (k->kind != IO_NODE_SCALAR || !*k->text || strlen(k->text) >= sizeof st->search.keys[0] ||
          strchr(k->text, '='))
        return io_node_error(k, rd->err, rd->err_len, "expected a key path such as %s",
                             count ? "deployments.0.count" : "workload.rate_scale");
      snprintf(st->search.keys[st->search.key_count++], sizeof st->search.keys[0], "%s", k->text);
    }
  }
  const io_node *limits = io_node_find(m, "limits");
  if (limits && (rc = read_limits(rd, limits)))
    return rc;
  /* Without limits the SLOs decide: 90% of requests meet them unless told otherwise. */
  st->search.goodput_share = limits ? 0 : 0.9;
  st->search.tolerance = count ? 1 : (st->search.high - st->search.low) / 32;
  if (count && io_node_find(m, "tolerance"))
    return io_node_error(io_node_find(m, "tolerance"), rd->err, rd->err_len,
                         "min_count searches to the whole number; it takes no tolerance");
  if (((rc = io_node_get_f64(m, "tolerance", IO_UNIT_NUMBER, 0, INFINITY, &st->search.tolerance,
                             rd->err, rd->err_len)) &&
       rc != IO_DOC_EMISSING) ||
      ((rc = io_node_get_f64(m, "goodput_share", IO_UNIT_NUMBER, 0, 1, &st->search.goodput_share,
                             rd->err, rd->err_len)) &&
       rc != IO_DOC_EMISSING))
    return rc;
  if (!(st->search.low < st->search.high))
    return io_node_error(m, rd->err, rd->err_len, "expected low < high");
  if (!(st->search.tolerance > 0))
    return io_node_error(m, rd->err, rd->err_len, "expected a tolerance > 0");
  return 0;
}

/* objectives: [column, {max: column}, {min: column}]: what the Pareto front weighs. */
static int read_objectives(study_reader *rd, const io_node *seq) {
  srv_study *st = rd->st;
  if (seq->kind != IO_NODE_SEQUENCE || seq->count == 0)
    return io_node_error(seq, rd->err, rd->err_len,
                         "expected a list of columns to minimise, or {max: column}");
  if (seq->count > SRV_STUDY_MAX_OBJECTIVES)
    return io_node_error(seq, rd->err, rd->err_len, "at most %d objectives",
                         SRV_STUDY_MAX_OBJECTIVES);
  const char *search = srv_study_search_name(st->mode);
  for (size_t i = 0; i < seq->count; i++) {
    const io_node *o = seq->values[i], *name = o;
    bool maximise = false;
    if (o->kind == IO_NODE_MAPPING && o->count == 1 &&
        (strcmp(o->keys[0]->text, "min") == 0 || strcmp(o->keys[0]->text, "max") == 0)) {
      maximise = strcmp(o->keys[0]->text, "max") == 0;
      name = o->values[0];
    }
    if (name->kind != IO_NODE_SCALAR)
      return io_node_error(o, rd->err, rd->err_len, "expected a column, {min: column} or "
                                                    "{max: column}");
    const char *col = name->text;
    bool known = srv_metric_find(col) || strcmp(col, "goodput_share") == 0 ||
                 (search && strcmp(col, search) == 0);
    if (!known || strlen(col) >= sizeof st->objectives[0].column)
      return io_node_error(name, rd->err, rd->err_len,
                           "'%s' is not a column of the results (a summary figure such as "
                           "usd_per_m_output_tokens, goodput_share%s%s)",
                           col, search ? ", or " : "", search ? search : "");
    srv_study_objective *ob = &st->objectives[st->objective_count++];
    snprintf(ob->column, sizeof ob->column, "%s", col);
    ob->maximise = maximise;
  }
  return 0;
}

static int read_sets(study_reader *rd, const io_node *m) {
  if (m->kind != IO_NODE_MAPPING)
    return io_node_error(m, rd->err, rd->err_len, "expected a mapping of keys to values");
  rd->fixed = calloc(m->count ? m->count : 1, sizeof *rd->fixed);
  if (!rd->fixed)
    return oom(rd);
  for (size_t i = 0; i < m->count; i++) {
    const io_node *v = m->values[i];
    if (v->kind != IO_NODE_SCALAR)
      return io_node_error(v, rd->err, rd->err_len, "expected one value");
    size_t len = strlen(m->keys[i]->text) + strlen(v->text) + 2;
    char *s = keep(rd, malloc(len));
    if (!s)
      return oom(rd);
    snprintf(s, len, "%s=%s", m->keys[i]->text, v->text);
    rd->fixed[rd->fixed_count++] = s;
  }
  return 0;
}

/* The product of the blocks: configuration c takes point (c / stride) % points of each block, the
 * last block varying fastest. */
static int expand(study_reader *rd) {
  srv_study *st = rd->st;
  size_t total = 1;
  for (size_t i = 0; i < rd->block_count; i++) {
    if (total > STUDY_MAX_CONFIGS / rd->blocks[i].point_count) {
      snprintf(rd->err, rd->err_len, "the study has more than %d configurations",
               STUDY_MAX_CONFIGS);
      return IO_DOC_EINVAL;
    }
    total *= rd->blocks[i].point_count;
  }
  st->configs = calloc(total, sizeof *st->configs);
  if (!st->configs)
    return oom(rd);
  for (size_t c = 0; c < total; c++) {
    srv_study_config *cfg = &st->configs[c];
    st->config_count++;
    cfg->values = calloc(st->key_count ? st->key_count : 1, sizeof *cfg->values);
    cfg->sets = calloc(rd->fixed_count + st->key_count + 1, sizeof *cfg->sets);
    if (!cfg->values || !cfg->sets)
      return oom(rd);
    size_t rest = c;
    for (size_t i = rd->block_count; i-- > 0;) {
      const study_block *b = &rd->blocks[i];
      size_t p = rest % b->point_count;
      rest /= b->point_count;
      for (size_t k = 0; k < b->key_count; k++)
        cfg->values[b->key_index[k]] = (srv_study_value){st->keys[b->key_index[k]],
                                                         b->values[p * b->key_count + k]};
    }
    for (size_t f = 0; f < rd->fixed_count; f++)
      cfg->sets[cfg->set_count++] = rd->fixed[f];
    size_t label_len = 1;
    for (size_t k = 0; k < st->key_count; k++) {
      size_t len = strlen(cfg->values[k].key) + strlen(cfg->values[k].value) + 2;
      char *s = keep(rd, malloc(len));
      if (!s)
        return oom(rd);
      snprintf(s, len, "%s=%s", cfg->values[k].key, cfg->values[k].value);
      cfg->sets[cfg->set_count++] = s;
      label_len += len + 2;
    }
    char *label = keep(rd, malloc(label_len));
    if (!label)
      return oom(rd);
    label[0] = '\0';
    for (size_t k = 0; k < st->key_count; k++) {
      if (k)
        strcat(label, ", ");
      strcat(label, cfg->sets[rd->fixed_count + k]);
    }
    cfg->label = label;
  }
  return 0;
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *text = NULL;
  size_t len = 0, cap = 0, got;
  char buf[4096];
  while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
    if (len + got + 1 > cap) {
      cap = 2 * (len + got + 1);
      char *grown = realloc(text, cap);
      if (!grown) {
        free(text);
        fclose(f);
        return NULL;
      }
      text = grown;
    }
    memcpy(text + len, buf, got);
    len += got;
  }
  fclose(f);
  if (!text)
    text = calloc(1, 1);
  else
    text[len] = '\0';
  return text;
}

/* Owned strings live in a hidden trailer: the reader's array, kept on the study for free(). */
typedef struct study_owned {
  char **strings;
  size_t count;
} study_owned;

struct srv_study_private {
  srv_study pub;
  study_owned owned;
};

int srv_study_load(const char *path, srv_study **out, char *err, size_t err_len) {
  *out = NULL;
  struct srv_study_private *priv = calloc(1, sizeof *priv);
  if (!priv) {
    snprintf(err, err_len, "out of memory reading %s", path);
    return IO_DOC_ENOMEM;
  }
  srv_study *st = &priv->pub;
  study_reader rd = {.st = st, .err = err, .err_len = err_len};
  snprintf(st->search.keys[0], sizeof st->search.keys[0], "workload.rate_scale");
  st->search.key_count = 1;
  io_doc *doc = NULL;
  int rc = io_doc_load_file(path, &doc, err, err_len);
  if (rc)
    goto out;
  const io_node *root = io_doc_root(doc);
  static const char *const allowed[] = {"base",      "set",    "mode",       "max_rate",
                                        "min_count", "axes",   "objectives", NULL};
  static const char *const modes[] = {"grid", "max_rate", "min_count", NULL};
  int mode = SRV_STUDY_GRID;
  const char *base = NULL;
  if ((rc = expect_mapping(&rd, root,
                           "a study: base, set, mode, max_rate or min_count, axes, objectives")) ||
      (rc = io_node_check_keys(root, allowed, err, err_len)))
    goto out;
  if ((rc = io_node_get_choice(root, "mode", modes, &mode, err, err_len)) == IO_DOC_EMISSING)
    rc = 0;
  if (rc)
    goto out;
  st->mode = (srv_study_mode)mode;
  /* A search's section has its mode's name; the other search's section is a mistake. */
  for (srv_study_mode m = SRV_STUDY_MAX_RATE; m <= SRV_STUDY_MIN_COUNT; m++) {
    const char *name = srv_study_search_name(m);
    const io_node *sec = io_node_find(root, name);
    if (st->mode == m && !sec) {
      rc = io_node_error(root, err, err_len, "mode %s needs a %s section (%s)", name, name,
                         m == SRV_STUDY_MIN_COUNT ? "key, low, high" : "low, high");
      goto out;
    }
    if (sec && st->mode != m) {
      rc = io_node_error(sec, err, err_len, "a %s section needs mode: %s", name, name);
      goto out;
    }
    if (sec && (rc = read_search(&rd, sec)))
      goto out;
  }
  const io_node *objectives = io_node_find(root, "objectives");
  if (objectives && (rc = read_objectives(&rd, objectives)))
    goto out;
  if ((rc = io_node_get_str(root, "base", &base, err, err_len)) == IO_DOC_EMISSING)
    rc = 0;
  if (rc)
    goto out;
  if (base && base[0] == '/') {
    snprintf(st->base_path, sizeof st->base_path, "%s", base);
  } else if (base) {
    char *copy = strdup(path);
    if (!copy) {
      rc = oom(&rd);
      goto out;
    }
    int n = snprintf(st->base_path, sizeof st->base_path, "%s/%s", dirname(copy), base);
    free(copy);
    if (n < 0 || (size_t)n >= sizeof st->base_path) {
      rc = io_node_error(io_node_find(root, "base"), err, err_len, "path too long");
      goto out;
    }
  }
  const io_node *sets = io_node_find(root, "set");
  if (sets && (rc = read_sets(&rd, sets)))
    goto out;
  const io_node *axes = io_node_find(root, "axes");
  if (axes && (rc = read_axes(&rd, axes)))
    goto out;
  if ((rc = expand(&rd)))
    goto out;
  if (!(st->text = read_text(path)))
    rc = oom(&rd);
out:
  io_doc_free(doc);
  for (size_t i = 0; i < rd.block_count; i++) {
    free(rd.blocks[i].key_index);
    free(rd.blocks[i].values);
  }
  free(rd.blocks);
  free(rd.fixed);
  priv->owned = (study_owned){rd.owned, rd.owned_count};
  if (rc) {
    srv_study_free(st);
    return rc;
  }
  *out = st;
  return 0;
}

void srv_study_free(srv_study *st) {
  if (!st)
    return;
  struct srv_study_private *priv = (struct srv_study_private *)st;
  for (size_t c = 0; c < st->config_count; c++) {
    free(st->configs[c].values);
    free(st->configs[c].sets);
  }
  free(st->configs);
  free(st->keys);
  free(st->key_numeric);
  free(st->text);
  for (size_t i = 0; i < priv->owned.count; i++)
    free(priv->owned.strings[i]);
  free(priv->owned.strings);
  free(priv);
}

const char *srv_study_search_name(srv_study_mode mode) {
  return mode == SRV_STUDY_MAX_RATE ? "max_rate" : mode == SRV_STUDY_MIN_COUNT ? "min_count" : NULL;
}

/* Whether a is at least as good as b in every objective and better in one. */
static bool dominates(const double *a, const double *b, size_t k, const bool *maximise) {
  bool better = false;
  for (size_t j = 0; j < k; j++) {
    double x = maximise[j] ? a[j] : -a[j], y = maximise[j] ? b[j] : -b[j];
    if (x < y)
      return false;
    better |= x > y;
  }
  return better;
}

void srv_study_pareto(const double *values, size_t n, size_t k, const bool *maximise,
                      const bool *eligible, bool *front) {
  for (size_t i = 0; i < n; i++) {
    front[i] = eligible[i];
    for (size_t j = 0; j < k && front[i]; j++)
      front[i] = !isnan(values[i * k + j]);
  }
  /* A dropped point need not be compared with: whatever dominates it dominates what it
   * dominates, and the last of such a chain is never dropped. */
  for (size_t i = 0; i < n; i++)
    for (size_t o = 0; o < n && front[i]; o++)
      if (o != i && front[o] && dominates(values + o * k, values + i * k, k, maximise))
        front[i] = false;
}
