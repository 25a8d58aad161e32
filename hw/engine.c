/* Serving-engine profiles: hw/data/engines.csv read on each lookup (a handful of rows, read once
 * per deployment while a scenario loads). */
#include "hw/engine.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hw/names.h"
#include "util/csv.h"

extern const char hw_data_engines_csv[];
extern const size_t hw_data_engines_csv_len;

static const char *const engine_cols[] = {"engine",
                                          "version",
                                          "cuda_graphs",
                                          "async_scheduling",
                                          "host_fixed_us",
                                          "host_per_seq_us",
                                          "serial_fixed_us",
                                          "serial_per_seq_us",
                                          "host_overlap",
                                          "output_lag",
                                          "kv_rule",
                                          "kv_fraction_tp1",
                                          "kv_fraction_tp2",
                                          "kv_fraction_tp4",
                                          "kv_fraction_tp8",
                                          "kv_fraction_tp16",
                                          "max_num_seqs",
                                          "max_num_batched_tokens",
                                          "chunked_prefill",
                                          "prefix_caching",
                                          "admission",
                                          "source"};
enum {
  COL_ENGINE,
  COL_VERSION,
  COL_GRAPHS,
  COL_ASYNC,
  COL_HOST_FIXED,
  COL_HOST_PER_SEQ,
  COL_SERIAL_FIXED,
  COL_SERIAL_PER_SEQ,
  COL_OVERLAP,
  COL_LAG,
  COL_KV_RULE,
  COL_KV_FRACTION,
  COL_MAX_SEQS = COL_KV_FRACTION + HW_ENGINE_TP_STEPS,
  COL_MAX_TOKENS,
  COL_CHUNKED,
  COL_PREFIX,
  COL_ADMISSION,
  COL_SOURCE,
  NCOLS
};
_Static_assert(sizeof engine_cols / sizeof engine_cols[0] == NCOLS, "one name per column");

static const char *const kv_rules[] = {"share_of_all", "static_share", "share_of_free"};

/* A version matches its own prefix at a component boundary: "0.1" does not match "0.11". */
static bool version_matches(const char *row, const char *asked) {
  size_t n = strlen(asked);
  if (n == 0)
    return true;
  return strncmp(row, asked, n) == 0 && (row[n] == '\0' || row[n] == '.');
}

static int flag(const util_csv *c, int col, bool *out, char *err, size_t err_len) {
  const char *v = util_csv_get(c, col);
  if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
    snprintf(err, err_len, "hw/data/engines.csv:%ld: %s must be 0 or 1, got '%s'", c->line,
             engine_cols[col], v);
    return -1;
  }
  *out = v[0] == '1';
  return 0;
}

static int count(const util_csv *c, int col, uint32_t *out, char *err, size_t err_len) {
  double v;
  if (util_csv_double(c, col, NAN, &v, err, err_len) != 0)
    return -1;
  if (!(v >= 0.0 && v <= UINT32_MAX && v == floor(v))) {
    snprintf(err, err_len, "hw/data/engines.csv:%ld: %s must be a whole number, got '%s'", c->line,
             engine_cols[col], util_csv_get(c, col));
    return -1;
  }
  *out = (uint32_t)v;
  return 0;
}

/* One row into *e. */
static int read_row(const util_csv *c, const int *col, hw_engine *e, char *err, size_t err_len) {
  memset(e, 0, sizeof *e);
  snprintf(e->name, sizeof e->name, "%s", util_csv_get(c, col[COL_ENGINE]));
  snprintf(e->version, sizeof e->version, "%s", util_csv_get(c, col[COL_VERSION]));
  snprintf(e->source, sizeof e->source, "%s", util_csv_get(c, col[COL_SOURCE]));
  double us[4];
  for (int i = 0; i < 4; i++) {
    if (util_csv_double(c, col[COL_HOST_FIXED + i], -1.0, &us[i], err, err_len) != 0)
      return -1;
    if (!(us[i] >= 0.0)) {
      snprintf(err, err_len, "hw/data/engines.csv:%ld: %s must be a number of us, 0 or more",
               c->line, engine_cols[COL_HOST_FIXED + i]);
      return -1;
    }
  }
  e->host_fixed_ns = us[0] * 1e3, e->host_per_seq_ns = us[1] * 1e3;
  e->serial_fixed_ns = us[2] * 1e3, e->serial_per_seq_ns = us[3] * 1e3;
  for (int i = 0; i < HW_ENGINE_TP_STEPS; i++) {
    double *f = &e->kv_fraction[i];
    if (util_csv_double(c, col[COL_KV_FRACTION + i], NAN, f, err, err_len) != 0)
      return -1;
    if (!(*f > 0.0 && *f <= 1.0)) {
      snprintf(err, err_len, "hw/data/engines.csv:%ld: %s must be in (0, 1]", c->line,
               engine_cols[COL_KV_FRACTION + i]);
      return -1;
    }
  }
  const char *rule = util_csv_get(c, col[COL_KV_RULE]);
  int r = -1;
  for (int i = 0; i < 3; i++)
    if (strcmp(rule, kv_rules[i]) == 0)
      r = i;
  if (r < 0) {
    snprintf(err, err_len,
             "hw/data/engines.csv:%ld: kv_rule '%s' is not share_of_all, static_share or "
             "share_of_free",
             c->line, rule);
    return -1;
  }
  e->kv_rule = (hw_kv_rule)r;
  const char *admission = util_csv_get(c, col[COL_ADMISSION]);
  if (strcmp(admission, "on_prompt") != 0 && strcmp(admission, "reserve_full") != 0) {
    snprintf(err, err_len,
             "hw/data/engines.csv:%ld: admission '%s' is not on_prompt or reserve_full", c->line,
             admission);
    return -1;
  }
  e->reserve_full_kv = strcmp(admission, "reserve_full") == 0;
  if (flag(c, col[COL_GRAPHS], &e->cuda_graphs, err, err_len) != 0 ||
      flag(c, col[COL_ASYNC], &e->async_scheduling, err, err_len) != 0 ||
      flag(c, col[COL_OVERLAP], &e->host_overlap, err, err_len) != 0 ||
      flag(c, col[COL_LAG], &e->output_lag, err, err_len) != 0 ||
      flag(c, col[COL_CHUNKED], &e->chunked_prefill, err, err_len) != 0 ||
      flag(c, col[COL_PREFIX], &e->prefix_caching, err, err_len) != 0 ||
      count(c, col[COL_MAX_SEQS], &e->max_num_seqs, err, err_len) != 0 ||
      count(c, col[COL_MAX_TOKENS], &e->max_num_batched_tokens, err, err_len) != 0)
    return -1;
  return 0;
}

int hw_engine_find(const char *name, const char *version, int cuda_graphs, int async_scheduling,
                   hw_engine *out, char *err, size_t err_len) {
  util_csv c;
  if (util_csv_open_text(&c, hw_data_engines_csv, hw_data_engines_csv_len, "hw/data/engines.csv",
                         err, err_len) != 0)
    return -1;
  int col[NCOLS];
  if (util_csv_need_cols(&c, engine_cols, col, NCOLS, err, err_len) != 0) {
    util_csv_close(&c);
    return -1;
  }
  if (!version)
    version = "";
  char known[512] = "";
  size_t len = 0;
  int rc, found = 0;
  hw_engine row;
  while (!found && (rc = util_csv_next(&c, err, err_len)) == 1) {
    if (read_row(&c, col, &row, err, err_len) != 0) {
      rc = -1;
      break;
    }
    if (hw_same_name(row.name, name) && version_matches(row.version, version) &&
        (cuda_graphs < 0 || row.cuda_graphs == (cuda_graphs != 0)) &&
        (async_scheduling < 0 || row.async_scheduling == (async_scheduling != 0))) {
      *out = row;
      found = 1;
    } else if (len < sizeof known) {
      len += (size_t)snprintf(known + len, sizeof known - len,
                              "%s%s %s (cuda_graphs %s, async_scheduling %s)", len ? "; " : "",
                              row.name, row.version, row.cuda_graphs ? "true" : "false",
                              row.async_scheduling ? "true" : "false");
    }
  }
  util_csv_close(&c);
  if (found)
    return 0;
  if (rc == 0) {
    char mode[96] = "";
    if (cuda_graphs >= 0 || async_scheduling >= 0)
      snprintf(mode, sizeof mode, "%s%s%s%s", cuda_graphs >= 0 ? " cuda_graphs " : "",
               cuda_graphs >= 0 ? (cuda_graphs ? "true" : "false") : "",
               async_scheduling >= 0 ? " async_scheduling " : "",
               async_scheduling >= 0 ? (async_scheduling ? "true" : "false") : "");
    snprintf(err, err_len, "no engine profile '%s'%s%s%s in hw/data/engines.csv; profiles: %s",
             name, *version ? " version " : "", version, mode, known);
  }
  return -1;
}

double hw_engine_kv_fraction(const hw_engine *e, uint32_t tp) {
  int step = tp >= 16 ? 4 : tp >= 8 ? 3 : tp >= 4 ? 2 : tp >= 2 ? 1 : 0;
  return e->kv_fraction[step];
}

void hw_engine_apply(const hw_engine *e, hw_deploy_config *cfg) {
  cfg->host_overlap = e->host_overlap;
  cfg->serial_fixed_ns = e->serial_fixed_ns;
  cfg->serial_per_seq_ns = e->serial_per_seq_ns;
  cfg->kv_rule = e->kv_rule;
  for (size_t i = 0; i < hw_eff_param_count(); i++) {
    if (strcmp(hw_eff_param_op(i), "cpu") != 0)
      continue;
    bool fixed = strcmp(hw_eff_param_name(i), "fixed_ns") == 0;
    *hw_eff_param_ptr(&cfg->eff_set, i) = fixed ? e->host_fixed_ns : e->host_per_seq_ns;
    cfg->eff_set_mask |= (uint64_t)1 << i;
  }
}
