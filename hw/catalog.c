/* The accelerator and model catalogues: parsed at creation from the CSV files of hw/data/ embedded
 * in the binary, with fitted efficiencies attached to each accelerator; scenarios add or override.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/eff_params.h"
#include "hw/embedded.h"
#include "hw/host.h"
#include "hw/hw.h"
#include "hw/names.h"
#include "hw/power_ops.h"
#include "hw/systolic.h"
#include "util/csv.h"

typedef struct eff_entry {
  char device[64];
  hw_eff eff;
} eff_entry;

/* One row of power.csv: the model, and the TDP of the board it describes (to scale it to others).
 */
typedef struct power_entry {
  char device[64];
  double tdp_w;
  hw_power power;
} power_entry;

struct hw_catalog {
  hw_accel *accels;
  size_t n_accels, cap_accels;
  hw_model *models;
  size_t n_models, cap_models;
  eff_entry *effs;
  size_t n_effs, cap_effs;
  power_entry *powers;
  size_t n_powers, cap_powers;
};

size_t hw_eff_param_count(void) { return HW_EFF_NPARAMS; }
const char *hw_eff_param_op(size_t i) { return i < HW_EFF_NPARAMS ? hw_eff_params[i].op : NULL; }
const char *hw_eff_param_name(size_t i) {
  return i < HW_EFF_NPARAMS ? hw_eff_params[i].param : NULL;
}
double *hw_eff_param_ptr(hw_eff *e, size_t i) {
  return i < HW_EFF_NPARAMS ? hw_eff_field(e, i) : NULL;
}

static int grow(void **items, size_t *cap, size_t n, size_t item_size) {
  if (n < *cap)
    return 0;
  size_t new_cap = *cap ? 2 * *cap : 16;
  void *grown = realloc(*items, new_cap * item_size);
  if (!grown)
    return -1;
  *items = grown;
  *cap = new_cap;
  return 0;
}

static eff_entry *find_eff(const hw_catalog *cat, const char *device) {
  for (size_t i = 0; i < cat->n_effs; i++)
    if (hw_same_name(cat->effs[i].device, device))
      return &cat->effs[i];
  return NULL;
}

/* Rows of an efficiency table (device,op,param,value,...; efficiency.csv's layout) from the open
 * table c, which this closes. cat not NULL: every device's rows into its catalogue entry. cat NULL:
 * the rows of `device`, or where the table has none the rows of the one device it holds, over
 * *eff. 0, or -1 with "file:line: ..." in err. */
static int read_eff_rows(hw_catalog *cat, util_csv *c, const char *device, hw_eff *eff, char *err,
                         size_t err_len) {
  int col_device = util_csv_col(c, "device"), col_op = util_csv_col(c, "op"),
      col_param = util_csv_col(c, "param"), col_value = util_csv_col(c, "value");
  if (col_device < 0 || col_op < 0 || col_param < 0 || col_value < 0) {
    snprintf(err, err_len, "%s: header lacks device, op, param or value", c->name);
    util_csv_close(c);
    return -1;
  }
  /* cat NULL: the named device's rows, and those of the first other device (used if the table
   * holds no row of the named one and no third device). */
  hw_eff named = eff ? *eff : (hw_eff){0}, other = named;
  char other_device[64] = "";
  size_t n_named = 0, n_other = 0;
  bool several = false;
  int rc;
  while ((rc = util_csv_next(c, err, err_len)) == 1) {
    const char *row_device = util_csv_get(c, col_device);
    hw_eff *into;
    if (cat) {
      eff_entry *e = find_eff(cat, row_device);
      if (!e) {
        if (grow((void **)&cat->effs, &cat->cap_effs, cat->n_effs, sizeof *cat->effs) != 0) {
          snprintf(err, err_len, "out of memory");
          rc = -1;
          break;
        }
        e = &cat->effs[cat->n_effs++];
        memset(e, 0, sizeof *e);
        snprintf(e->device, sizeof e->device, "%s", row_device);
        snprintf(e->eff.source, sizeof e->eff.source, "%s", row_device);
      }
      into = &e->eff;
    } else if (hw_same_name(row_device, device)) {
      into = &named, n_named++;
    } else {
      if (!other_device[0])
        snprintf(other_device, sizeof other_device, "%s", row_device);
      several = several || !hw_same_name(other_device, row_device);
      into = &other, n_other++;
    }
    size_t i;
    for (i = 0; i < HW_EFF_NPARAMS; i++)
      if (strcmp(hw_eff_params[i].op, util_csv_get(c, col_op)) == 0 &&
          strcmp(hw_eff_params[i].param, util_csv_get(c, col_param)) == 0)
        break;
    if (i == HW_EFF_NPARAMS) {
      snprintf(err, err_len, "%s:%ld: unknown parameter %s.%s", c->name, c->line,
               util_csv_get(c, col_op), util_csv_get(c, col_param));
      rc = -1;
      break;
    }
    double v;
    if (util_csv_double(c, col_value, NAN, &v, err, err_len) != 0) {
      rc = -1;
      break;
    }
    if (!cat && !(v >= 0.0 && isfinite(v))) {
      snprintf(err, err_len, "%s:%ld: %s.%s must be a finite number >= 0", c->name, c->line,
               util_csv_get(c, col_op), util_csv_get(c, col_param));
      rc = -1;
      break;
    }
    *hw_eff_field(into, i) = v;
  }
  if (rc == 0 && !cat) {
    if (n_named)
      *eff = named;
    else if (n_other && !several)
      *eff = other;
    else {
      snprintf(err, err_len, "%s: %s", c->name,
               several ? "rows of several devices and none of the accelerator's own name"
                       : "no efficiency rows (device,op,param,value)");
      rc = -1;
    }
  }
  util_csv_close(c);
  return rc < 0 ? -1 : 0;
}

/* efficiency.csv: device,op,param,value,... one row per parameter. */
static int load_efficiency(hw_catalog *cat, char *err, size_t err_len) {
  util_csv c;
  if (util_csv_open_text(&c, hw_data_efficiency_csv, hw_data_efficiency_csv_len,
                         "hw/data/efficiency.csv", err, err_len) != 0)
    return -1;
  return read_eff_rows(cat, &c, NULL, NULL, err, err_len);
}

int hw_eff_read_file(const char *path, const char *device, hw_eff *eff, char *err, size_t err_len) {
  util_csv c;
  if (util_csv_open_file(&c, path, err, err_len) != 0)
    return -1;
  return read_eff_rows(NULL, &c, device, eff, err, err_len);
}

static const power_entry *find_power(const hw_catalog *cat, const char *device) {
  for (size_t i = 0; i < cat->n_powers; i++)
    if (hw_same_name(cat->powers[i].device, device))
      return &cat->powers[i];
  return NULL;
}

/* power.csv: one row per device (and 'default'), written by wt_hw_fit. */
static int load_power(hw_catalog *cat, char *err, size_t err_len) {
  util_csv c;
  if (util_csv_open_text(&c, hw_data_power_csv, hw_data_power_csv_len, "hw/data/power.csv", err,
                         err_len) != 0)
    return -1;
  static const char *const numeric[] = {"tdp_w",        "idle_w",   "base_w",
                                        "compute_k",    "memory_k", "launch_gap_ns",
                                        "cap_exponent", "host_w",   "gap_w"};
  enum { N = sizeof numeric / sizeof numeric[0] };
  int cols[N], col_device = util_csv_col(&c, "device"), rc = 1;
  for (int i = 0; i < N; i++)
    if ((cols[i] = util_csv_col(&c, numeric[i])) < 0 || col_device < 0) {
      snprintf(err, err_len, "hw/data/power.csv: header lacks device or %s", numeric[i]);
      rc = -1;
    }
  while (rc == 1 && (rc = util_csv_next(&c, err, err_len)) == 1) {
    double v[N];
    for (int i = 0; i < N && rc == 1; i++)
      if (util_csv_double(&c, cols[i], NAN, &v[i], err, err_len) != 0)
        rc = -1;
    if (rc != 1)
      break;
    if (grow((void **)&cat->powers, &cat->cap_powers, cat->n_powers, sizeof *cat->powers) != 0) {
      snprintf(err, err_len, "out of memory");
      rc = -1;
      break;
    }
    power_entry *e = &cat->powers[cat->n_powers++];
    memset(e, 0, sizeof *e);
    snprintf(e->device, sizeof e->device, "%s", util_csv_get(&c, col_device));
    snprintf(e->power.source, sizeof e->power.source, "%s", e->device);
    e->tdp_w = v[0], e->power.idle_w = v[1], e->power.base_w = v[2], e->power.compute_k = v[3];
    e->power.memory_k = v[4], e->power.launch_gap_ns = v[5];
    e->power.cap_exponent = v[6], e->power.host_w = v[7], e->power.gap_w = v[8];
  }
  util_csv_close(&c);
  return rc < 0 ? -1 : 0;
}

/* The power model of an accelerator without its own power.csv row: the 'default' row scaled to
 * the accelerator's TDP and idle power (an unknown idle power is the default's share of its TDP);
 * none (all zero) when the TDP is unknown. */
static hw_power default_power(const hw_catalog *cat, const hw_accel *a) {
  hw_power p;
  memset(&p, 0, sizeof p);
  const power_entry *dflt = find_power(cat, "default");
  if (!dflt || !(a->tdp_w > 0.0) || !(dflt->tdp_w > dflt->power.idle_w))
    return p;
  double idle_w = a->idle_w > 0.0 ? a->idle_w : dflt->power.idle_w / dflt->tdp_w * a->tdp_w;
  p = hw_power_scaled(&dflt->power, dflt->tdp_w, a->tdp_w, idle_w);
  snprintf(p.source, sizeof p.source, "default");
  return p;
}

static const hw_eff *default_eff(const hw_catalog *cat) {
  const eff_entry *e = find_eff(cat, "default");
  return e ? &e->eff : NULL;
}

static int load_accelerators(hw_catalog *cat, char *err, size_t err_len) {
  util_csv c;
  if (util_csv_open_text(&c, hw_data_accelerators_csv, hw_data_accelerators_csv_len,
                         "hw/data/accelerators.csv", err, err_len) != 0)
    return -1;
  static const char *const numeric[] = {"peak_bf16_tflops_dense",
                                        "peak_fp8_tflops_dense",
                                        "peak_int8_tops_dense",
                                        "peak_fp4_tflops_dense",
                                        "hbm_gib",
                                        "hbm_tb_s",
                                        "tdp_w",
                                        "idle_w",
                                        "scaleup_link_gb_s_per_dir",
                                        "scaleout_nic_gb_s"};
  /* Unit conversions from the column units to hw_accel's. */
  static const double scale[] = {1e12, 1e12, 1e12, 1e12, 1073741824.0, 1e12, 1.0, 1.0, 1e9, 1e9};
  enum { N = sizeof numeric / sizeof numeric[0] };
  int cols[N];
  for (int i = 0; i < N; i++)
    cols[i] = util_csv_col(&c, numeric[i]);
  int col_name = util_csv_col(&c, "name"), col_vendor = util_csv_col(&c, "vendor"),
      col_kind = util_csv_col(&c, "kind"), col_source = util_csv_col(&c, "source"),
      col_chip = util_csv_col(&c, "same_chip_as");
  int rc;
  while ((rc = util_csv_next(&c, err, err_len)) == 1) {
    hw_accel a;
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "%s", util_csv_get(&c, col_name));
    snprintf(a.vendor, sizeof a.vendor, "%s", util_csv_get(&c, col_vendor));
    snprintf(a.kind, sizeof a.kind, "%s", util_csv_get(&c, col_kind));
    snprintf(a.source, sizeof a.source, "%s", util_csv_get(&c, col_source));
    double *fields[N] = {
        &a.peak_bf16_flops,     &a.peak_fp8_flops,      &a.peak_int8_ops, &a.peak_fp4_flops,
        &a.hbm_bytes,           &a.hbm_bytes_per_s,     &a.tdp_w,         &a.idle_w,
        &a.scaleup_bytes_per_s, &a.scaleout_bytes_per_s};
    for (int i = 0; i < N && rc == 1; i++) {
      if (cols[i] < 0) {
        snprintf(err, err_len, "hw/data/accelerators.csv: no column %s", numeric[i]);
        rc = -1;
      } else if (util_csv_double(&c, cols[i], 0.0, fields[i], err, err_len) != 0) {
        rc = -1;
      } else {
        *fields[i] *= scale[i];
      }
    }
    if (rc == 1 && hw_systolic_read_columns(&c, &a, err, err_len) != 0) /* issue 5, TPU */
      rc = -1;
    /* Another part of the same chip (a memory variant): its efficiencies and power model, unless
     * this one has rows of its own. */
    const char *chip = col_chip >= 0 ? util_csv_get(&c, col_chip) : "";
    const hw_accel *same = chip[0] ? hw_catalog_accel(cat, chip) : NULL;
    if (rc == 1 && chip[0] && !same) {
      snprintf(err, err_len, "hw/data/accelerators.csv:%ld: same_chip_as names %s, not a device "
               "listed above it", c.line, chip);
      rc = -1;
    }
    if (same && !find_eff(cat, a.name))
      a.eff = same->eff;
    if (same && !find_power(cat, a.name))
      a.power = same->power;
    if (rc != 1 || hw_catalog_add_accel(cat, &a, err, err_len) != 0) {
      rc = -1;
      break;
    }
  }
  util_csv_close(&c);
  return rc < 0 ? -1 : 0;
}

static int load_models(hw_catalog *cat, char *err, size_t err_len) {
  util_csv c;
  if (util_csv_open_text(&c, hw_data_models_csv, hw_data_models_csv_len, "hw/data/models.csv", err,
                         err_len) != 0)
    return -1;
  static const char *const numeric[] = {
      "layers",  "hidden",         "q_heads",   "kv_heads",        "head_dim", "ffn",    "vocab",
      "experts", "active_experts", "gated_ffn", "tied_embeddings", "qkv_bias", "qk_norm"};
  enum { N = sizeof numeric / sizeof numeric[0] };
  int cols[N];
  for (int i = 0; i < N; i++)
    cols[i] = util_csv_col(&c, numeric[i]);
  int col_name = util_csv_col(&c, "name"), col_hf = util_csv_col(&c, "hf_id"),
      col_source = util_csv_col(&c, "source");
  int rc;
  while ((rc = util_csv_next(&c, err, err_len)) == 1) {
    double v[N];
    for (int i = 0; i < N && rc == 1; i++) {
      if (cols[i] < 0) {
        snprintf(err, err_len, "hw/data/models.csv: no column %s", numeric[i]);
        rc = -1;
      } else if (util_csv_double(&c, cols[i], 0.0, &v[i], err, err_len) != 0) {
        rc = -1;
      } else if (v[i] < 0 || v[i] > 4e9 || v[i] != floor(v[i])) {
        snprintf(err, err_len, "hw/data/models.csv:%ld: %s must be a whole number", c.line,
                 numeric[i]);
        rc = -1;
      }
    }
    if (rc != 1)
      break;
    hw_model m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "%s", util_csv_get(&c, col_name));
    snprintf(m.hf_id, sizeof m.hf_id, "%s", util_csv_get(&c, col_hf));
    snprintf(m.source, sizeof m.source, "%s", util_csv_get(&c, col_source));
    m.layers = (uint32_t)v[0], m.hidden = (uint32_t)v[1], m.q_heads = (uint32_t)v[2];
    m.kv_heads = (uint32_t)v[3], m.head_dim = (uint32_t)v[4], m.ffn = (uint32_t)v[5];
    m.vocab = (uint32_t)v[6], m.experts = (uint32_t)v[7], m.active_experts = (uint32_t)v[8];
    m.gated_ffn = v[9] != 0, m.tied_embeddings = v[10] != 0, m.qkv_bias = v[11] != 0;
    m.qk_norm = v[12] != 0;
    if (hw_catalog_add_model(cat, &m, err, err_len) != 0) {
      rc = -1;
      break;
    }
  }
  util_csv_close(&c);
  return rc < 0 ? -1 : 0;
}

hw_catalog *hw_catalog_create(char *err, size_t err_len) {
  hw_catalog *cat = calloc(1, sizeof *cat);
  if (!cat) {
    snprintf(err, err_len, "out of memory");
    return NULL;
  }
  if (load_efficiency(cat, err, err_len) != 0 || load_power(cat, err, err_len) != 0 ||
      load_accelerators(cat, err, err_len) != 0 || load_models(cat, err, err_len) != 0) {
    hw_catalog_destroy(cat);
    return NULL;
  }
  return cat;
}

void hw_catalog_destroy(hw_catalog *cat) {
  if (!cat)
    return;
  free(cat->accels);
  free(cat->models);
  free(cat->effs);
  free(cat->powers);
  free(cat);
}

const hw_accel *hw_catalog_accel(const hw_catalog *cat, const char *name) {
  for (size_t i = 0; i < cat->n_accels; i++)
    if (hw_same_name(cat->accels[i].name, name))
      return &cat->accels[i];
  return NULL;
}

const hw_model *hw_catalog_model(const hw_catalog *cat, const char *name) {
  for (size_t i = 0; i < cat->n_models; i++)
    if (hw_same_name(cat->models[i].name, name) || hw_same_name(cat->models[i].hf_id, name))
      return &cat->models[i];
  return NULL;
}

size_t hw_catalog_accel_count(const hw_catalog *cat) { return cat->n_accels; }
size_t hw_catalog_model_count(const hw_catalog *cat) { return cat->n_models; }
const hw_accel *hw_catalog_accel_at(const hw_catalog *cat, size_t i) {
  return i < cat->n_accels ? &cat->accels[i] : NULL;
}
const hw_model *hw_catalog_model_at(const hw_catalog *cat, size_t i) {
  return i < cat->n_models ? &cat->models[i] : NULL;
}

static bool valid_number(double v) { return isfinite(v) && v >= 0.0; }

int hw_catalog_add_accel(hw_catalog *cat, const hw_accel *accel, char *err, size_t err_len) {
  if (!accel->name[0]) {
    snprintf(err, err_len, "accelerator: a name is required");
    return -1;
  }
  const double checked[] = {accel->peak_bf16_flops,
                            accel->peak_fp8_flops,
                            accel->peak_int8_ops,
                            accel->peak_fp4_flops,
                            accel->hbm_bytes,
                            accel->hbm_bytes_per_s,
                            accel->tdp_w,
                            accel->idle_w,
                            accel->scaleup_bytes_per_s,
                            accel->scaleout_bytes_per_s};
  for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++)
    if (!valid_number(checked[i])) {
      snprintf(err, err_len, "accelerator %s: peaks, capacities and powers must be >= 0",
               accel->name);
      return -1;
    }
  hw_accel a = *accel;
  a.name[sizeof a.name - 1] = '\0';
  if (!a.eff.source[0]) {
    const eff_entry *own = find_eff(cat, a.name);
    const hw_eff *dflt = default_eff(cat);
    if (own)
      a.eff = own->eff;
    else if (dflt)
      a.eff = *dflt;
  }
  if (!a.power.source[0]) {
    const power_entry *own = find_power(cat, a.name);
    a.power = own ? own->power : default_power(cat, &a);
    hw_host host;
    int has_host = hw_host_find(a.name, &host, err, err_len);
    if (has_host < 0)
      return -1;
    a.power.host_cpu_busy_w = has_host ? hw_host_busy_w_per_accel(&host) : 0.0;
  }
  if (hw_systolic_attach(&a, err, err_len) != 0) /* matrix units: systolic.csv */
    return -1;
  for (size_t i = 0; i < cat->n_accels; i++)
    if (hw_same_name(cat->accels[i].name, a.name)) {
      cat->accels[i] = a;
      return 0;
    }
  if (grow((void **)&cat->accels, &cat->cap_accels, cat->n_accels, sizeof a) != 0) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  cat->accels[cat->n_accels++] = a;
  return 0;
}

int hw_catalog_add_model(hw_catalog *cat, const hw_model *model, char *err, size_t err_len) {
  const hw_model *m = model;
  const char *why = NULL;
  if (!m->name[0])
    why = "a name is required";
  else if (!m->layers || !m->hidden || !m->q_heads || !m->kv_heads || !m->head_dim || !m->ffn ||
           !m->vocab)
    why = "layers, hidden, q_heads, kv_heads, head_dim, ffn and vocab must be positive";
  else if (m->q_heads % m->kv_heads != 0)
    why = "q_heads must be a multiple of kv_heads";
  else if ((m->experts == 0) != (m->active_experts == 0) || m->active_experts > m->experts)
    why = "active_experts must be between 1 and experts for MoE, both 0 for dense";
  if (why) {
    snprintf(err, err_len, "model %s: %s", m->name[0] ? m->name : "(unnamed)", why);
    return -1;
  }
  for (size_t i = 0; i < cat->n_models; i++)
    if (hw_same_name(cat->models[i].name, m->name)) {
      cat->models[i] = *m;
      return 0;
    }
  if (grow((void **)&cat->models, &cat->cap_models, cat->n_models, sizeof *m) != 0) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  cat->models[cat->n_models++] = *m;
  return 0;
}

double hw_model_params(const hw_model *m) {
  double h = m->hidden, d = m->head_dim, q = m->q_heads, kv = m->kv_heads, f = m->ffn;
  double attn = h * (q + 2.0 * kv) * d + q * d * h + (m->qkv_bias ? (q + 2.0 * kv) * d : 0.0);
  double experts = m->experts ? m->experts : 1.0;
  double ffn = experts * (m->gated_ffn ? 3.0 : 2.0) * h * f + (m->experts ? h * m->experts : 0.0);
  double norms = 2.0 * h + (m->qk_norm ? 2.0 * d : 0.0);
  double embed = (double)m->vocab * h * (m->tied_embeddings ? 1.0 : 2.0);
  return embed + m->layers * (attn + ffn + norms) + h;
}
