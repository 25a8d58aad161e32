/* The scenario loader: a YAML file (or the built-in examples/default.yaml) plus --set overrides,
 * read section by section into an srv_scenario, every value checked where it was written. Here:
 * the catalogue extensions, the cluster, router, SLOs, simulation and output; the deployments are
 * scenario_deploy.c's, the workload scenario_workload.c's, the network scenario_network.c's, the
 * regions scenario_regions.c's. */
#define _POSIX_C_SOURCE 200809L
#include "serving/scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/doc.h"
#include "serving/scenario_read.h"
#include "util/datadir.h"

/* examples/default.yaml, embedded at build time by serving/scenario.cmake. */
extern const char srv_scenario_default_yaml[];

#define DEFAULT_SCENARIO_NAME "(built-in default)"


/* The SLO Vidur-Search uses for chat serving (Agrawal et al., MLSys 2024): TTFT 2 s, TBT 200 ms. */
static const int64_t default_slo_ttft_ns = 2000000000;
static const int64_t default_slo_tpot_ns = 200000000;

/* Router to instance inside one datacenter: an HTTP hop plus parsing and tokenization, rounded up
 * (an assumption; examples/default.yaml says why). */
static const int64_t default_dispatch_latency_ns = 1000000;
static const char *const default_router_policy = "least_requests";

/* KV tier defaults (cluster.nodes[].kv_tier), from LLMServingSim's cluster configs
 * (../shared/data/LLMServingSim/cluster_configs, SOURCE.md):
 * - cxl: single_node_cxl_instance.json's cxl_mem, 4 devices x 1024 GB at 60 GB/s and 250 ns. The
 *   hardware table agrees (hw/data/accelerators.csv's CXL reference row: a CXL 2.0 x16 link moves
 *   64 GB/s raw per direction, S23; about 250 ns end to end, S25).
 * - host_dram: every config's cpu_mem, 512 GB at 256 GB/s and 0 ns; an accelerator reaches host
 *   memory over its PCIe 5.0 x16 link, 64 GB/s per direction (S23: the same PHY as CXL 2.0), so
 *   the copy rate is that link's, not the DRAM's. */
static const double llmservingsim_cxl_bytes = 4 * 1024e9;
static const double llmservingsim_cxl_bytes_per_s = 60e9;
static const int64_t llmservingsim_cxl_latency_ns = 250;
static const double llmservingsim_cpu_mem_bytes = 512e9;
static const double pcie5_x16_bytes_per_s = 64e9;
static const int64_t llmservingsim_cpu_mem_latency_ns = 0;


/* ---- accelerators and models: catalogue extensions ---- */

/* Parameter i's scenario key (efficiency.csv's name, less _ns for a time) into key[32]; whether it
 * is a time. */
static bool efficiency_key(size_t i, char key[32]) {
  const char *name = hw_eff_param_name(i);
  size_t len = strlen(name);
  bool time = len > 3 && strcmp(name + len - 3, "_ns") == 0;
  snprintf(key, 32, "%.*s", (int)(time ? len - 3 : len), name);
  return time;
}

/* `efficiency: {gemm: {compute_frac: 0.7, t0: 4us}, cpu: {fixed: 300us, per_seq: 10us}}`: the
 * hw_eff parameters by efficiency.csv's names, a time (those named *_ns there) without its _ns and
 * with a unit, a fraction (*_frac) in (0, 1], any other number 0 or more. Each value read goes to
 * *set with its bit in *mask (hw_deploy_config.eff_set_mask). */
int scn_read_efficiency(const scn_loader *ld, const io_node *m, hw_eff *set, uint64_t *mask) {
  int rc = scn_expect_kind(ld, m, IO_NODE_MAPPING,
                           "a mapping of operator families (gemm, attn_decode, cpu, ...) to their "
                           "parameters");
  for (size_t k = 0; rc == 0 && k < m->count; k++) {
    const char *op = m->keys[k]->text;
    const io_node *params = m->values[k];
    char keys[16][32];
    const char *allowed[17];
    size_t n = 0;
    for (size_t i = 0; i < hw_eff_param_count() && n < 16; i++)
      if (strcmp(hw_eff_param_op(i), op) == 0) {
        efficiency_key(i, keys[n]);
        allowed[n] = keys[n], n++;
      }
    allowed[n] = NULL;
    if (n == 0) {
      char ops[512] = "";
      size_t len = 0;
      for (size_t i = 0; i < hw_eff_param_count() && len < sizeof ops; i++)
        if (i == 0 || strcmp(hw_eff_param_op(i), hw_eff_param_op(i - 1)) != 0)
          len += (size_t)snprintf(ops + len, sizeof ops - len, "%s%s", len ? ", " : "",
                                  hw_eff_param_op(i));
      return io_node_error(m->keys[k], ld->err, ld->err_len,
                           "unknown operator family '%s'; expected one of: %s", op, ops);
    }
    if ((rc = scn_expect_kind(ld, params, IO_NODE_MAPPING, "a mapping of parameters to values")) !=
            0 ||
        (rc = scn_check_keys(ld, params, allowed)) != 0)
      return rc;
    for (size_t i = 0; i < hw_eff_param_count(); i++) {
      char key[32];
      if (strcmp(hw_eff_param_op(i), op) != 0)
        continue;
      bool time = efficiency_key(i, key);
      const char *name = hw_eff_param_name(i);
      size_t len = strlen(name);
      bool frac = len > 5 && strcmp(name + len - 5, "_frac") == 0;
      if (!io_node_find(params, key))
        continue;
      double v;
      if ((rc = io_node_get_f64(params, key, time ? IO_UNIT_NS : IO_UNIT_NUMBER, 0.0,
                                frac ? 1.0 : INFINITY, &v, ld->err, ld->err_len)) != 0)
        return rc;
      if (frac && !(v > 0.0))
        return io_node_error(io_node_find(params, key), ld->err, ld->err_len,
                             "expected a fraction of the peak above 0 and at most 1");
      *hw_eff_param_ptr(set, i) = v;
      *mask |= (uint64_t)1 << i;
    }
  }
  return rc;
}

static int read_accelerator(const scn_loader *ld, const char *name, const io_node *e) {
  static const char *const keys[] = {
      "based_on",        "vendor", "kind", "peak_bf16_tflops",  "peak_fp8_tflops",    "hbm",
      "hbm_bandwidth",   "tdp",    "idle", "scaleup_bandwidth", "scaleout_bandwidth", "efficiency",
      "efficiency_file", "source", NULL};
  static const char *const kinds[] = {"gpu", "tpu", "npu", "cxl-mem", NULL};
  int rc = scn_check_keys(ld, e, keys);
  if (rc != 0)
    return rc;
  /* Start from based_on, else from the entry being overridden, else from nothing. */
  const hw_accel *start = NULL;
  bool based = io_node_find(e, "based_on") != NULL;
  if (based && (rc = scn_find_accel(ld, e, "based_on", &start)) != 0)
    return rc;
  if (!based)
    start = hw_catalog_accel(ld->s->catalog, name);
  hw_accel a;
  if (start)
    a = *start;
  else
    memset(&a, 0, sizeof a);
  if (strlen(name) >= sizeof a.name)
    return io_node_error(e, ld->err, ld->err_len, "name longer than %zu characters",
                         sizeof a.name - 1);
  if (based || !start)
    snprintf(a.name, sizeof a.name, "%s", name);
  if (based) /* the base's source IDs do not vouch for the changed fields */
    snprintf(a.source, sizeof a.source, "based on %.54s", start->name);
  int kind = -1;
  for (int i = 0; kinds[i]; i++)
    if (strcmp(a.kind, kinds[i]) == 0)
      kind = i;
  double peak_bf16_tflops = a.peak_bf16_flops / 1e12, peak_fp8_tflops = a.peak_fp8_flops / 1e12;
  if ((rc = scn_get_text(ld, e, "vendor", a.vendor, sizeof a.vendor)) != 0 ||
      (rc = scn_get_choice(ld, e, "kind", kinds, &kind)) != 0 ||
      (rc = scn_get_text(ld, e, "source", a.source, sizeof a.source)) != 0 ||
      (rc = scn_get_f64(ld, e, "peak_bf16_tflops", IO_UNIT_NUMBER, &peak_bf16_tflops)) != 0 ||
      (rc = scn_get_f64(ld, e, "peak_fp8_tflops", IO_UNIT_NUMBER, &peak_fp8_tflops)) != 0 ||
      (rc = scn_get_f64(ld, e, "hbm", IO_UNIT_BYTES, &a.hbm_bytes)) != 0 ||
      (rc = scn_get_f64(ld, e, "hbm_bandwidth", IO_UNIT_BYTES_PER_S, &a.hbm_bytes_per_s)) != 0 ||
      (rc = scn_get_f64(ld, e, "tdp", IO_UNIT_W, &a.tdp_w)) != 0 ||
      (rc = scn_get_f64(ld, e, "idle", IO_UNIT_W, &a.idle_w)) != 0 ||
      (rc = scn_get_f64(ld, e, "scaleup_bandwidth", IO_UNIT_BYTES_PER_S, &a.scaleup_bytes_per_s)) !=
          0 ||
      (rc = scn_get_f64(ld, e, "scaleout_bandwidth", IO_UNIT_BYTES_PER_S,
                        &a.scaleout_bytes_per_s)) != 0)
    return rc;
  if (kind < 0)
    kind = 0; /* a new accelerator without a kind is a GPU */
  snprintf(a.kind, sizeof a.kind, "%s", kinds[kind]);
  a.peak_bf16_flops = peak_bf16_tflops * 1e12;
  a.peak_fp8_flops = peak_fp8_tflops * 1e12;
  hw_eff eff_set;
  memset(&eff_set, 0, sizeof eff_set);
  uint64_t eff_mask = 0;
  const io_node *eff = io_node_find(e, "efficiency");
  if (eff && (rc = scn_read_efficiency(ld, eff, &eff_set, &eff_mask)) != 0)
    return rc;
  char why[1024];
  if (hw_catalog_add_accel(ld->s->catalog, &a, why, sizeof why) != 0)
    return io_node_error(e, ld->err, ld->err_len, "%s", why);
  const io_node *eff_file = io_node_find(e, "efficiency_file");
  if (eff_file || eff_mask) {
    /* Over the efficiencies the entry got (its own, its base's or the default ones): a fit's file,
     * then the parameters given inline. */
    a = *hw_catalog_accel(ld->s->catalog, a.name);
    if (eff_file) {
      char path[1024];
      if ((rc = scn_resolve_path(ld, eff_file, path, sizeof path)) != 0)
        return rc;
      if (hw_eff_read_file(path, a.name, &a.eff, why, sizeof why) != 0)
        return io_node_error(eff_file, ld->err, ld->err_len, "%s", why);
      snprintf(a.eff.source, sizeof a.eff.source, "%s", eff_file->text);
    }
    for (size_t i = 0; i < hw_eff_param_count(); i++)
      if (eff_mask >> i & 1u)
        *hw_eff_param_ptr(&a.eff, i) = *hw_eff_param_ptr(&eff_set, i);
    if (eff_mask) {
      char source[sizeof a.eff.source];
      snprintf(source, sizeof source, "%.40s + scenario", a.eff.source[0] ? a.eff.source : "none");
      snprintf(a.eff.source, sizeof a.eff.source, "%s", source);
    }
    if (hw_catalog_add_accel(ld->s->catalog, &a, why, sizeof why) != 0)
      return io_node_error(eff_file ? eff_file : eff, ld->err, ld->err_len, "%s", why);
  }
  return 0;
}

static int read_model(const scn_loader *ld, const char *name, const io_node *e) {
  static const char *const keys[] = {
      "based_on", "layers",  "hidden",  "q_heads",        "kv_heads",  "head_dim",
      "ffn",      "vocab",   "experts", "active_experts", "gated_ffn", "tied_embeddings",
      "qkv_bias", "qk_norm", "hf_id",   "source",         NULL};
  int rc = scn_check_keys(ld, e, keys);
  if (rc != 0)
    return rc;
  const hw_model *start = NULL;
  bool based = io_node_find(e, "based_on") != NULL;
  if (based && (rc = scn_find_model(ld, e, "based_on", &start)) != 0)
    return rc;
  if (!based)
    start = hw_catalog_model(ld->s->catalog, name);
  hw_model m;
  if (start) {
    m = *start;
  } else {
    memset(&m, 0, sizeof m);
    m.gated_ffn = true; /* as every architecture of the built-in catalogue (SwiGLU) */
  }
  if (strlen(name) >= sizeof m.name)
    return io_node_error(e, ld->err, ld->err_len, "name longer than %zu characters",
                         sizeof m.name - 1);
  if (based || !start) {
    snprintf(m.name, sizeof m.name, "%s", name);
    m.hf_id[0] = '\0'; /* a derived model is not the base's Hugging Face repository */
  }
  if (based) /* the base's sources do not vouch for the changed fields */
    snprintf(m.source, sizeof m.source, "based on %.100s", start->name);
  const uint32_t most = UINT32_MAX;
  if ((rc = scn_get_u32(ld, e, "layers", 1, most, &m.layers)) != 0 ||
      (rc = scn_get_u32(ld, e, "hidden", 1, most, &m.hidden)) != 0 ||
      (rc = scn_get_u32(ld, e, "q_heads", 1, most, &m.q_heads)) != 0 ||
      (rc = scn_get_u32(ld, e, "kv_heads", 1, most, &m.kv_heads)) != 0 ||
      (rc = scn_get_u32(ld, e, "head_dim", 1, most, &m.head_dim)) != 0 ||
      (rc = scn_get_u32(ld, e, "ffn", 1, most, &m.ffn)) != 0 ||
      (rc = scn_get_u32(ld, e, "vocab", 1, most, &m.vocab)) != 0 ||
      (rc = scn_get_u32(ld, e, "experts", 0, most, &m.experts)) != 0 ||
      (rc = scn_get_u32(ld, e, "active_experts", 0, most, &m.active_experts)) != 0 ||
      (rc = scn_get_bool(ld, e, "gated_ffn", &m.gated_ffn)) != 0 ||
      (rc = scn_get_bool(ld, e, "tied_embeddings", &m.tied_embeddings)) != 0 ||
      (rc = scn_get_bool(ld, e, "qkv_bias", &m.qkv_bias)) != 0 ||
      (rc = scn_get_bool(ld, e, "qk_norm", &m.qk_norm)) != 0 ||
      (rc = scn_get_text(ld, e, "hf_id", m.hf_id, sizeof m.hf_id)) != 0 ||
      (rc = scn_get_text(ld, e, "source", m.source, sizeof m.source)) != 0)
    return rc;
  /* config.json omits head_dim when it is hidden_size / num_attention_heads */
  if (!m.head_dim && m.q_heads && m.hidden % m.q_heads == 0)
    m.head_dim = m.hidden / m.q_heads;
  char why[512];
  if (hw_catalog_add_model(ld->s->catalog, &m, why, sizeof why) != 0)
    return io_node_error(e, ld->err, ld->err_len, "%s", why);
  return 0;
}

/* accelerators: and models: map names to entries; each adds to or overrides the catalogue, in file
 * order (so based_on may name an entry defined above it). */
static int read_catalog_section(const scn_loader *ld, const io_node *sec, bool accel) {
  if (!sec)
    return 0;
  int rc = scn_expect_kind(ld, sec, IO_NODE_MAPPING,
                           accel ? "a mapping of accelerator names to their fields"
                                 : "a mapping of model names to their fields");
  for (size_t i = 0; rc == 0 && i < sec->count; i++)
    rc = accel ? read_accelerator(ld, sec->keys[i]->text, sec->values[i])
               : read_model(ld, sec->keys[i]->text, sec->values[i]);
  return rc;
}

/* ---- cluster ---- */

static int read_kv_tier(const scn_loader *ld, const io_node *m, srv_kv_tier *t) {
  static const char *const keys[] = {"kind", "capacity", "bandwidth", "latency", NULL};
  static const char *const kinds[] = {"none", "host_dram", "cxl", NULL}; /* srv_kv_tier_kind */
  int rc, kind = SRV_KV_TIER_NONE;
  if ((rc = scn_expect_kind(ld, m, IO_NODE_MAPPING,
                            "a mapping: {kind: host_dram or cxl, capacity, bandwidth, latency}")) !=
          0 ||
      (rc = scn_check_keys(ld, m, keys)) != 0 ||
      (rc = scn_get_choice(ld, m, "kind", kinds, &kind)) != 0)
    return rc;
  if (!io_node_find(m, "kind"))
    return io_node_error(m, ld->err, ld->err_len, "kv_tier needs a kind: none, host_dram or cxl");
  *t = (srv_kv_tier){.kind = (srv_kv_tier_kind)kind};
  if (kind == SRV_KV_TIER_CXL) {
    t->capacity_bytes = llmservingsim_cxl_bytes;
    t->bytes_per_s = llmservingsim_cxl_bytes_per_s;
    t->latency_ns = llmservingsim_cxl_latency_ns;
  } else if (kind == SRV_KV_TIER_HOST_DRAM) {
    t->capacity_bytes = llmservingsim_cpu_mem_bytes;
    t->bytes_per_s = pcie5_x16_bytes_per_s;
    t->latency_ns = llmservingsim_cpu_mem_latency_ns;
  }
  if ((rc = scn_get_f64(ld, m, "capacity", IO_UNIT_BYTES, &t->capacity_bytes)) != 0 ||
      (rc = scn_get_f64(ld, m, "bandwidth", IO_UNIT_BYTES_PER_S, &t->bytes_per_s)) != 0 ||
      (rc = scn_get_ns(ld, m, "latency", 0, &t->latency_ns)) != 0)
    return rc;
  if (kind != SRV_KV_TIER_NONE && !(t->capacity_bytes >= 1 && t->capacity_bytes < 1.8e19))
    return io_node_error(scn_node_or(m, "capacity", m), ld->err, ld->err_len,
                         "expected a capacity of at least one byte");
  if (kind != SRV_KV_TIER_NONE && !(t->bytes_per_s > 0))
    return io_node_error(scn_node_or(m, "bandwidth", m), ld->err, ld->err_len,
                         "expected a bandwidth above 0");
  return 0;
}

static int read_cluster(const scn_loader *ld, const io_node *sec) {
  static const char *const keys[] = {"nodes", NULL};
  static const char *const node_keys[] = {"name",
                                          "accelerator",
                                          "accelerators_per_node",
                                          "count",
                                          "system",
                                          "nics",
                                          "nic_bandwidth",
                                          "scaleup",
                                          "host_power",
                                          "nodes_per_rack",
                                          "kv_tier",
                                          "region",
                                          NULL};
  srv_scenario *s = ld->s;
  const io_node *nodes;
  int rc = scn_check_keys(ld, sec, keys);
  if (rc == 0)
    rc = io_node_get(sec, "nodes", IO_NODE_SEQUENCE, &nodes, ld->err, ld->err_len);
  if (rc != 0)
    return rc;
  if (nodes->count == 0)
    return io_node_error(nodes, ld->err, ld->err_len, "expected at least one node type");
  if (!(s->nodes = calloc(nodes->count, sizeof *s->nodes))) {
    snprintf(ld->err, ld->err_len, "out of memory");
    return IO_DOC_ENOMEM;
  }
  for (size_t i = 0; i < nodes->count; i++) {
    const io_node *e = nodes->values[i];
    srv_node_group *g = &s->nodes[i];
    g->accels_per_node = SCN_DEFAULT_ACCELS_PER_NODE;
    g->count = 1;
    if ((rc = scn_check_keys(ld, e, node_keys)) != 0 ||
        (rc = scn_find_accel(ld, e, "accelerator", &g->accel)) != 0 ||
        (rc = scn_get_u32(ld, e, "accelerators_per_node", 1, 1u << 20, &g->accels_per_node)) != 0 ||
        (rc = scn_get_u32(ld, e, "count", 1, 1u << 24, &g->count)) != 0 ||
        (rc = scn_read_node_system(ld, e, g)) != 0)
      return rc;
    const io_node *tier = io_node_find(e, "kv_tier");
    if (tier && (rc = read_kv_tier(ld, tier, &g->kv_tier)) != 0)
      return rc;
    snprintf(g->name, sizeof g->name, "%.58s-node", g->accel->name);
    if ((rc = scn_get_text(ld, e, "name", g->name, sizeof g->name)) != 0 ||
        (rc = scn_get_text(ld, e, "region", g->region_name, sizeof g->region_name)) != 0)
      return rc;
    for (size_t j = 0; j < i; j++)
      if (strcmp(s->nodes[j].name, g->name) == 0)
        return io_node_error(scn_node_or(e, "name", e), ld->err, ld->err_len,
                             "node type '%s' is already defined (as cluster.nodes.%zu); give each "
                             "a distinct name",
                             g->name, j);
    s->node_groups = i + 1;
  }
  return 0;
}

/* ---- router, SLOs, simulation, output ---- */

/* router.pods: hierarchical routing, a global router in front of one router per pod of nodes. */
static int read_pods(const scn_loader *ld, const io_node *router, const char *const *policies) {
  static const char *const keys[] = {"nodes", "policy", "latency", NULL};
  srv_scenario *s = ld->s;
  const io_node *m = io_node_find(router, "pods");
  if (!m)
    return 0;
  int rc, policy = -1;
  if ((rc = scn_expect_kind(ld, m, IO_NODE_MAPPING, "a mapping of nodes, policy, latency")) != 0)
    return rc;
  s->router.pods.enabled = true;
  s->router.pods.latency_ns = default_dispatch_latency_ns;
  if ((rc = scn_check_keys(ld, m, keys)) != 0 ||
      (rc = scn_get_u32(ld, m, "nodes", 1, UINT32_MAX, &s->router.pods.nodes)) != 0 ||
      (rc = scn_get_choice(ld, m, "policy", policies, &policy)) != 0 ||
      (rc = scn_get_ns(ld, m, "latency", 1, &s->router.pods.latency_ns)) != 0)
    return rc;
  s->router.pods.policy = job_route_policy_find(policy < 0 ? default_router_policy
                                                           : policies[policy]);
  return 0;
}

/* router.batch: batch requests wait for spare capacity. */
static int read_batch(const scn_loader *ld, const io_node *router) {
  static const char *const keys[] = {"spare", "lead", NULL};
  srv_scenario *s = ld->s;
  const io_node *m = io_node_find(router, "batch");
  s->router.batch.lead_ns = -1;
  if (!m)
    return 0;
  int rc;
  if ((rc = scn_expect_kind(ld, m, IO_NODE_MAPPING, "a mapping of spare, lead")) != 0 ||
      (rc = scn_check_keys(ld, m, keys)) != 0)
    return rc;
  if (!io_node_find(m, "spare"))
    return io_node_error(m, ld->err, ld->err_len,
                         "needs spare: the outstanding requests below which an instance takes "
                         "batch work");
  if ((rc = scn_get_u32(ld, m, "spare", 1, UINT32_MAX, &s->router.batch.spare)) != 0 ||
      (rc = scn_get_ns(ld, m, "lead", 0, &s->router.batch.lead_ns)) != 0)
    return rc;
  return 0;
}

static int read_router(const scn_loader *ld, const io_node *m) {
  static const char *const keys[] = {
      "policy", "decode_policy", "decode_same_rack", "dispatch_latency", "pods", "first_token",
      "batch", NULL};
  static const char *const first_tokens[] = {"prefill", "client", NULL};
  enum { MAX_POLICIES = 32 };
  const char *policies[MAX_POLICIES + 1] = {NULL};
  for (size_t p = 0; p < MAX_POLICIES && job_route_policy_at(p); p++)
    policies[p] = job_route_policy_name(job_route_policy_at(p));
  srv_scenario *s = ld->s;
  s->router.dispatch_latency_ns = default_dispatch_latency_ns;
  int policy = -1, decode_policy = -1, first_token = 0, rc;
  if ((rc = scn_check_keys(ld, m, keys)) != 0 || (rc = read_pods(ld, m, policies)) != 0 ||
      (rc = read_batch(ld, m)) != 0 ||
      (rc = scn_get_choice(ld, m, "first_token", first_tokens, &first_token)) != 0 ||
      (rc = scn_get_choice(ld, m, "policy", policies, &policy)) != 0 ||
      (rc = scn_get_choice(ld, m, "decode_policy", policies, &decode_policy)) != 0 ||
      (rc = scn_get_bool(ld, m, "decode_same_rack", &s->router.decode_same_rack)) != 0 ||
      (rc = scn_get_ns(ld, m, "dispatch_latency", 1, &s->router.dispatch_latency_ns)) != 0)
    return rc;
  s->router.first_token_at_client = first_token == 1;
  if (first_token == 1 && !s->disaggregated)
    return io_node_error(io_node_find(m, "first_token"), ld->err, ld->err_len,
                         "applies to disaggregated deployments only (a prefill and a decode "
                         "role): a colocated instance's first token is the client's");
  const job_route_policy *fallback = job_route_policy_find(default_router_policy);
  s->router.policy = policy < 0 ? fallback : job_route_policy_at((size_t)policy);
  s->router.decode_policy = decode_policy < 0 ? fallback
                                              : job_route_policy_at((size_t)decode_policy);
  if (job_route_policy_uses_prefixes(s->router.decode_policy))
    return io_node_error(scn_node_or(m, "decode_policy", m), ld->err, ld->err_len,
                         "the decode instance receives the KV cache, so prefix-aware routing does "
                         "not apply to it; choose another policy");
  return 0;
}

static int read_slo(const scn_loader *ld, const io_node *m) {
  static const char *const keys[] = {"ttft", "tpot", NULL};
  srv_scenario *s = ld->s;
  s->slo.ttft_ns = default_slo_ttft_ns;
  s->slo.tpot_ns = default_slo_tpot_ns;
  int rc;
  if ((rc = scn_check_keys(ld, m, keys)) != 0 ||
      (rc = scn_get_ns(ld, m, "ttft", 1, &s->slo.ttft_ns)) != 0 ||
      (rc = scn_get_ns(ld, m, "tpot", 1, &s->slo.tpot_ns)) != 0)
    return rc;
  return 0;
}

static int read_simulation(const scn_loader *ld, const io_node *m) {
  static const char *const keys[] = {"end",   "seed",        "threads", "placement",
                                     "leaps", "price_cache", NULL};
  static const char *const placements[] = {"auto", "one", "block", "topology", "metis", NULL};
  srv_scenario *s = ld->s;
  s->simulation.end_ns = 0;
  s->simulation.seed = 1;
  s->simulation.threads = 1;
  s->simulation.leaps = true;
  s->simulation.price_cache = true;
  int64_t seed = 1, threads = 1;
  int placement = PART_AUTO, rc; /* placements[] follows part_strategy */
  if ((rc = scn_check_keys(ld, m, keys)) != 0 ||
      (rc = scn_get_choice(ld, m, "placement", placements, &placement)) != 0 ||
      (rc = scn_get_bool(ld, m, "leaps", &s->simulation.leaps)) != 0 ||
      (rc = scn_get_bool(ld, m, "price_cache", &s->simulation.price_cache)) != 0 ||
      (rc = scn_get_ns(ld, m, "end", 0, &s->simulation.end_ns)) != 0 ||
      (rc = scn_optional(io_node_get_i64(m, "seed", IO_UNIT_NUMBER, 0, INT64_MAX, &seed, ld->err,
                                         ld->err_len))) != 0 ||
      (rc = scn_optional(io_node_get_i64(m, "threads", IO_UNIT_NUMBER, 1, SRV_MAX_THREADS, &threads,
                                         ld->err, ld->err_len))) != 0)
    return rc;
  s->simulation.seed = (uint64_t)seed;
  s->simulation.threads = (int)threads;
  s->simulation.placement = (part_strategy)placement;
  return 0;
}

static int read_output(const scn_loader *ld, const io_node *m) {
  static const char *const keys[] = {"path",     "compress",     "iterations",
                                     "interval", "sample_every", NULL};
  static const char *const modes[] = {"all", "sampled", "aggregated", "none", NULL};
  srv_scenario *s = ld->s;
  snprintf(s->output.path, sizeof s->output.path, "windtunnel.h5");
  s->output.compress = true;
  s->output.interval_ns = 10 * (int64_t)1000000000;
  s->output.sample_every = 100;
  int mode = SRV_ITERATIONS_AGGREGATED, rc; /* modes[] follows srv_iterations_output */
  if ((rc = scn_check_keys(ld, m, keys)) != 0 ||
      (rc = scn_get_text(ld, m, "path", s->output.path, sizeof s->output.path)) != 0 ||
      (rc = scn_get_bool(ld, m, "compress", &s->output.compress)) != 0 ||
      (rc = scn_get_choice(ld, m, "iterations", modes, &mode)) != 0 ||
      (rc = scn_get_ns(ld, m, "interval", 1000, &s->output.interval_ns)) != 0 ||
      (rc = scn_get_u32(ld, m, "sample_every", 1, UINT32_MAX, &s->output.sample_every)) != 0)
    return rc;
  s->output.iterations = (srv_iterations_output)mode;
  return 0;
}

/* ---- the whole scenario ---- */

static int read_scenario(const scn_loader *ld, const io_node *root) {
  static const char *const keys[] = {
      "accelerators", "models", "cluster",    "network", "deployments", "router",  "workload",
      "slo",          "power",  "simulation", "output",  "cost",        "regions", NULL};
  const io_node *deployments, *workload;
  int rc;
  if ((rc = io_node_check_keys(root, keys, ld->err, ld->err_len)) != 0 ||
      (rc = io_node_get(root, "deployments", IO_NODE_SEQUENCE, &deployments, ld->err,
                        ld->err_len)) != 0 ||
      (rc = io_node_get(root, "workload", IO_NODE_MAPPING, &workload, ld->err, ld->err_len)) != 0)
    return rc;
  /* The catalogue first, whatever the order in the file: the rest refers to it, and its entries
   * stay where they are once it is complete. */
  const io_node *cluster = io_node_find(root, "cluster");
  if ((rc = read_catalog_section(ld, io_node_find(root, "accelerators"), true)) != 0 ||
      (rc = read_catalog_section(ld, io_node_find(root, "models"), false)) != 0 ||
      (cluster && (rc = read_cluster(ld, cluster)) != 0) ||
      (rc = scn_read_deployments(ld, deployments)) != 0 ||
      (rc = cluster ? scn_check_fit(ld, deployments) : scn_implicit_cluster(ld)) != 0 ||
      (rc = scn_check_roles(ld, deployments)) != 0 ||
      (rc = scn_read_network(ld, scn_section(root, "network"))) != 0 ||
      (rc = scn_check_network(ld, cluster, io_node_find(root, "network"))) != 0 ||
      (rc = scn_read_power(ld, scn_section(root, "power"))) != 0 ||
      (rc = scn_read_cost(ld, scn_section(root, "cost"))) != 0 ||
      (rc = read_router(ld, scn_section(root, "router"))) != 0 ||
      (rc = scn_read_regions(ld, io_node_find(root, "regions"), cluster)) != 0 ||
      (rc = read_slo(ld, scn_section(root, "slo"))) != 0 ||
      (rc = read_simulation(ld, scn_section(root, "simulation"))) != 0 ||
      (rc = read_output(ld, scn_section(root, "output"))) != 0 ||
      (rc = scn_read_workload(ld, workload)) != 0) /* after simulation: its seed is the default */
    return rc;
  /* The notice's end is the controller's kill: it must reach the instance after the notice. With
   * pods it goes a pod hop further (and from the first region's front door across regions). */
  const srv_scenario *sn = ld->s;
  int64_t reach_ns = sn->router.dispatch_latency_ns;
  if (sn->router.pods.enabled) {
    int64_t far_ns = 0;
    for (uint32_t g = 0; g < sn->regions.count; g++)
      far_ns = sn->regions.list[0].latency_ns[g] > far_ns ? sn->regions.list[0].latency_ns[g]
                                                          : far_ns;
    reach_ns += sn->router.pods.latency_ns + far_ns;
  }
  for (size_t d = 0; d < sn->deployment_count; d++) {
    const srv_scaling *sc = &sn->deployments[d].scaling;
    if (sc->spot && sc->spot_notice_ns < reach_ns) {
      const io_node *e = io_node_find(root, "deployments")->values[d];
      return io_node_error(
          scn_node_or(io_node_find(e, "scaling"), "spot_notice", e), ld->err, ld->err_len,
          "a spot notice shorter than the controller's reach (router.dispatch_latency, "
          "with pods plus router.pods.latency and the farthest region from the "
          "first) cannot reach the instance in time");
    }
  }
  /* Each front door replays its region's requests: a closed loop's clients would be counted once
   * per region, and a client would only ever send to its own region's door. */
  if (ld->s->regions.count && ld->s->workload.mode == JOB_MODE_CLOSED)
    return io_node_error(scn_node_or(workload, "mode", workload), ld->err, ld->err_len,
                         "a closed loop does not take regions yet (each region's front door would "
                         "run its own clients): use an open or offline workload, or no regions");
  if (sn->router.batch.spare && sn->workload.mode == JOB_MODE_CLOSED)
    return io_node_error(io_node_find(scn_section(root, "router"), "batch"), ld->err, ld->err_len,
                         "does not take a closed-loop workload (its clients wait for each "
                         "answer): use an open or offline workload");
  return 0;
}

int srv_scenario_load(const char *path, const char *const *sets, size_t set_count,
                      srv_scenario **out, char *err, size_t err_len) {
  *out = NULL;
  io_doc *doc = NULL;
  srv_scenario *s = calloc(1, sizeof *s);
  char base_dir[1024];
  int rc = 0;
  if (!s) {
    snprintf(err, err_len, "out of memory");
    return IO_DOC_ENOMEM;
  }
  if (path) {
    const char *slash = strrchr(path, '/');
    if (strlen(path) >= sizeof s->path) {
      snprintf(err, err_len, "%s: path longer than %zu characters", path, sizeof s->path - 1);
      rc = IO_DOC_EINVAL;
    } else if (!slash) {
      snprintf(base_dir, sizeof base_dir, ".");
    } else {
      snprintf(base_dir, sizeof base_dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    }
    snprintf(s->path, sizeof s->path, "%s", path);
    if (rc == 0)
      rc = io_doc_load_file(path, &doc, err, err_len);
  } else {
    /* Its relative paths (its trace) start from the data folder's examples/, found at run time. */
    char data_dir[sizeof base_dir - 16], why[1536];
    snprintf(s->path, sizeof s->path, "%s", DEFAULT_SCENARIO_NAME);
    if (util_data_dir("examples/default.yaml", data_dir, sizeof data_dir, why, sizeof why) != 0) {
      snprintf(err, err_len, "%s: %s", DEFAULT_SCENARIO_NAME, why);
      rc = IO_DOC_EINVAL;
    } else {
      snprintf(base_dir, sizeof base_dir, "%s/examples", data_dir);
      rc = io_doc_load_string(DEFAULT_SCENARIO_NAME, srv_scenario_default_yaml, &doc, err, err_len);
    }
  }
  for (size_t i = 0; rc == 0 && i < set_count; i++)
    rc = io_doc_set(doc, sets[i], err, err_len);
  if (rc == 0)
    rc = io_doc_emit(doc, &s->resolved_text, err, err_len);
  if (rc == 0 && !(s->catalog = hw_catalog_create(err, err_len)))
    rc = IO_DOC_EINVAL;
  if (rc == 0) {
    scn_loader ld = {.s = s, .base_dir = base_dir, .err = err, .err_len = err_len};
    rc = read_scenario(&ld, io_doc_root(doc));
  }
  io_doc_free(doc);
  if (rc != 0) {
    srv_scenario_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

void srv_scenario_free(srv_scenario *s) {
  if (!s)
    return;
  free(s->resolved_text);
  free(s->workload.streams);
  hw_catalog_destroy(s->catalog);
  free(s->nodes);
  free(s->deployments);
  free(s);
}

bool srv_scenario_router_replicated(const srv_scenario *s) {
  return s->router.pods.enabled && !s->regions.count && !s->scaling &&
         s->workload.mode != JOB_MODE_CLOSED && job_route_policy_oblivious(s->router.pods.policy);
}

uint32_t srv_scenario_instances(const srv_scenario *s) {
  uint32_t total = 0;
  for (size_t i = 0; i < s->deployment_count; i++)
    total += s->deployments[i].count;
  return total;
}
