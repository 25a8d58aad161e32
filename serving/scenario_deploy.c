/* The scenario's deployments section: each deployment's model, accelerator, parallelism, engine
 * profile, scheduler, dtypes, efficiency overrides and scaling, the KV cache sized from memory, and
 * the checks that the deployments fit the cluster (or the cluster sized to them). Internal to the
 * scenario loader (serving/scenario_read.h). */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/engine.h"
#include "io/doc.h"
#include "serving/scenario.h"
#include "serving/scenario_read.h"

/* Defaults where vLLM has one (vllm/config, vllm/engine/arg_utils.py, v1 engine); the scheduler's
 * token and sequence limits default per device in hw_deploy_init, as vLLM's do. */
static const double vllm_gpu_memory_utilization = 0.9;
static const uint32_t vllm_block_size_tokens = 16;
static const bool vllm_chunked_prefill = true; /* always on in the v1 engine */
static const bool vllm_prefix_caching = true;  /* enable_prefix_caching defaults to on in v1 */

/* ---- deployments ---- */

/* The scheduler section; where it is silent, the engine's defaults (engine NULL: vLLM's). */
static int read_scheduler(const scn_loader *ld, const io_node *m, const hw_engine *engine,
                          job_sched_config *c, bool *kv_given) {
  static const char *const keys[] = {"max_num_batched_tokens",
                                     "max_num_seqs",
                                     "block_size",
                                     "kv_blocks",
                                     "long_prefill_tokens",
                                     "policy",
                                     "admission",
                                     "chunked_prefill",
                                     "prefix_caching",
                                     NULL};
  static const char *const policies[] = {"fcfs", "priority", NULL}; /* job_sched_policy order */
  static const char *const admissions[] = {"on_prompt", "reserve_full", NULL}; /* its order */
  *c = (job_sched_config){.block_size_tokens = vllm_block_size_tokens,
                          .policy = JOB_SCHED_FCFS,
                          .chunked_prefill = vllm_chunked_prefill,
                          .prefix_caching = vllm_prefix_caching};
  if (engine) {
    c->max_num_batched_tokens = engine->max_num_batched_tokens;
    c->max_num_seqs = engine->max_num_seqs;
    c->chunked_prefill = engine->chunked_prefill;
    c->prefix_caching = engine->prefix_caching;
    c->admission = engine->reserve_full_kv ? JOB_SCHED_RESERVE_FULL : JOB_SCHED_ADMIT_ON_PROMPT;
  }
  *kv_given = false;
  int policy = (int)c->policy, admission = (int)c->admission, rc;
  const uint32_t most = UINT32_MAX;
  if ((rc = scn_check_keys(ld, m, keys)) != 0 ||
      (rc = scn_get_u32(ld, m, "max_num_batched_tokens", 1, most, &c->max_num_batched_tokens)) !=
          0 ||
      (rc = scn_get_u32(ld, m, "max_num_seqs", 1, most, &c->max_num_seqs)) != 0 ||
      (rc = scn_get_u32(ld, m, "block_size", 1, 1u << 16, &c->block_size_tokens)) != 0 ||
      (rc = scn_get_u32(ld, m, "kv_blocks", 1, most, &c->total_kv_blocks)) != 0 ||
      (rc = scn_get_u32(ld, m, "long_prefill_tokens", 0, most, &c->long_prefill_tokens)) != 0 ||
      (rc = scn_get_choice(ld, m, "policy", policies, &policy)) != 0 ||
      (rc = scn_get_choice(ld, m, "admission", admissions, &admission)) != 0 ||
      (rc = scn_get_bool(ld, m, "chunked_prefill", &c->chunked_prefill)) != 0 ||
      (rc = scn_get_bool(ld, m, "prefix_caching", &c->prefix_caching)) != 0)
    return rc;
  c->policy = (job_sched_policy)policy;
  c->admission = (job_sched_admission)admission;
  *kv_given = io_node_find(m, "kv_blocks") != NULL;
  return 0;
}

static int does_not_fit(const scn_loader *ld, const io_node *e, const srv_deployment *d,
                        const hw_deploy *deploy, bool weights_alone) {
  const double gib = 1073741824.0;
  char detail[256];
  if (weights_alone)
    detail[0] = '\0';
  else
    snprintf(detail, sizeof detail,
             "; %.1f GiB usable at gpu_memory_utilization %g, %.1f GiB of it reserved for "
             "activations",
             d->gpu_memory_utilization * d->accel->hbm_bytes / gib, d->gpu_memory_utilization,
             hw_activation_reserve_bytes(deploy) / gib);
  return io_node_error(scn_node_or(e, "model", e), ld->err, ld->err_len,
                       "model does not fit: weights %.1f GiB on a %.1f GiB device (tp %" PRIu32
                       ", pp %" PRIu32
                       "%s); use more tensor or pipeline parallelism or a larger "
                       "device",
                       hw_weights_bytes_per_device(deploy) / gib, d->accel->hbm_bytes / gib,
                       deploy->cfg.tp, deploy->cfg.pp, detail);
}

static uint32_t per_pipeline(uint32_t per_micro_batch, uint32_t pp) {
  uint64_t n = (uint64_t)per_micro_batch * (pp ? pp : 1);
  return n < UINT32_MAX ? (uint32_t)n : UINT32_MAX;
}

/* Sizes the instance's memory as vLLM does: weights and the activation reserve first, the rest of
 * gpu_memory_utilization * HBM is KV cache. */
static int size_kv_cache(const scn_loader *ld, const io_node *e, srv_deployment *d, bool kv_given) {
  hw_deploy deploy;
  char why[512];
  d->hw.max_batched_tokens = d->sched.max_num_batched_tokens; /* 0: the device's vLLM default */
  d->hw.max_seqs = d->sched.max_num_seqs;
  if (hw_deploy_init(&deploy, d->accel, d->model, &d->hw, why, sizeof why) != 0) {
    /* Was it memory? Price the same deployment on a device with room for any weights. */
    hw_accel roomy = *d->accel;
    roomy.hbm_bytes = 1e30;
    char probe_why[512];
    if (hw_deploy_init(&deploy, &roomy, d->model, &d->hw, probe_why, sizeof probe_why) == 0 &&
        hw_weights_bytes_per_device(&deploy) > d->accel->hbm_bytes)
      return does_not_fit(ld, e, d, &deploy, true);
    return io_node_error(e, ld->err, ld->err_len, "%s", why);
  }
  d->hw =
      deploy.cfg; /* with the defaults filled in, so instances size their reserve the same way */
  /* The engine's limits hold per micro-batch; a pipeline of pp stages keeps pp of them in flight,
   * and the scheduler forms their union (hw_iteration_ns prices it as one round). */
  d->sched.max_num_batched_tokens = per_pipeline(deploy.cfg.max_batched_tokens, deploy.cfg.pp);
  d->sched.max_num_seqs = per_pipeline(deploy.cfg.max_seqs, deploy.cfg.pp);
  uint64_t blocks = hw_kv_blocks(&deploy, d->sched.block_size_tokens, d->gpu_memory_utilization);
  if (blocks == 0)
    return does_not_fit(ld, e, d, &deploy, false);
  if (!kv_given) {
    if (blocks > UINT32_MAX)
      return io_node_error(e, ld->err, ld->err_len,
                           "%" PRIu64
                           " KV blocks fit, more than the scheduler counts; raise "
                           "scheduler.block_size",
                           blocks);
    d->sched.total_kv_blocks = (uint32_t)blocks;
  }
  return 0;
}

/* The deployment's number formats: `dtype: fp8` (weights and activations; KV stays bf16) or
 * `dtype: {weights: fp8, activations: fp8, kv: fp8}` (activations default to the weights' type;
 * `activations: bf16` is weight-only quantisation). Checked here against the accelerator so that
 * an error names the key: weights and activations need tensor cores of their type, an fp4 KV
 * cache fp4 support (hw_deploy_init has the full rules). */
static int read_dtypes(const scn_loader *ld, const io_node *e, srv_deployment *d) {
  static const char *const names[] = {"bf16", "fp8", "fp8_block", "int8", "fp4", NULL};
  static const char *const keys[] = {"weights", "activations", "kv", NULL};
  const io_node *n = io_node_find(e, "dtype");
  int w = HW_DTYPE_BF16, a, kv = HW_DTYPE_BF16, rc;
  if (!n)
    return 0;
  if (n->kind == IO_NODE_SCALAR) {
    if ((rc = scn_get_choice(ld, e, "dtype", names, &w)) != 0)
      return rc;
    a = w;
  } else {
    if ((rc = scn_expect_kind(ld, n, IO_NODE_MAPPING,
                              "a type such as 'fp8' or a mapping with "
                              "weights, activations and kv")) != 0 ||
        (rc = scn_check_keys(ld, n, keys)) != 0 ||
        (rc = scn_get_choice(ld, n, "weights", names, &w)) != 0)
      return rc;
    a = w;
    if ((rc = scn_get_choice(ld, n, "activations", names, &a)) != 0 ||
        (rc = scn_get_choice(ld, n, "kv", names, &kv)) != 0)
      return rc;
  }
  const io_node *at = n->kind == IO_NODE_SCALAR ? n : NULL;
  const struct {
    const char *key, *role;
    int t;
  } uses[] = {
      {"weights", "weights", w}, {"activations", "activations", a}, {"kv", "a KV cache", kv}};
  for (int i = 0; i < 3; i++) {
    const io_node *where = at ? at : scn_node_or(n, uses[i].key, n);
    hw_dtype t = (hw_dtype)uses[i].t;
    bool storage_only = i == 2 && (t == HW_DTYPE_FP8 || t == HW_DTYPE_INT8);
    if (i == 1 && a != HW_DTYPE_BF16 && a != w)
      return io_node_error(where, ld->err, ld->err_len,
                           "activations in %s with weights in %s: activations must be bf16 "
                           "(weight-only quantisation) or the weights' type",
                           hw_dtype_name(t), hw_dtype_name((hw_dtype)w));
    if (i == 2 && t == HW_DTYPE_FP8_BLOCK)
      return io_node_error(where, ld->err, ld->err_len,
                           "no engine stores a block-scaled KV cache; use kv: fp8");
    if (t != HW_DTYPE_BF16 && !storage_only && !(hw_accel_peak_flops(d->accel, t) > 0.0))
      return io_node_error(where, ld->err, ld->err_len,
                           "%s in %s need %s tensor cores, and %s has none (its catalogue entry "
                           "gives no %s peak)",
                           uses[i].role, hw_dtype_name(t), hw_dtype_name(t), d->accel->name,
                           hw_dtype_name(t));
  }
  d->hw.weight_dtype = (hw_dtype)w, d->hw.act_dtype = (hw_dtype)a, d->hw.kv_dtype = (hw_dtype)kv;
  return 0;
}

/* `engine: vllm-v1`, or `engine: {name: sglang, version: "0.4", cuda_graphs: false,
 * async_scheduling: true}`: the profile of hw/data/engines.csv (hw/engine.h); `output_lag: false`
 * overrides the profile's (vLLM 0.6's --disable-async-output-proc). */
static int read_engine(const scn_loader *ld, const io_node *n, hw_engine *out) {
  static const char *const keys[] = {"name",       "version", "cuda_graphs", "async_scheduling",
                                     "output_lag", NULL};
  char name[32] = "", version[16] = "";
  int graphs = -1, async = -1, rc;
  const io_node *where = n;
  if (n->kind == IO_NODE_SCALAR) {
    if (strlen(n->text) >= sizeof name)
      return io_node_error(n, ld->err, ld->err_len, "engine name longer than %zu characters",
                           sizeof name - 1);
    snprintf(name, sizeof name, "%s", n->text);
  } else {
    bool b;
    if ((rc = scn_expect_kind(ld, n, IO_NODE_MAPPING,
                              "an engine name (vllm-v1, vllm-v0, sglang, trtllm) or a mapping "
                              "with name, version, cuda_graphs and async_scheduling")) != 0 ||
        (rc = scn_check_keys(ld, n, keys)) != 0 ||
        (rc = scn_get_text(ld, n, "name", name, sizeof name)) != 0 ||
        (rc = scn_get_text(ld, n, "version", version, sizeof version)) != 0)
      return rc;
    if (!*name)
      return io_node_error(n, ld->err, ld->err_len,
                           "engine needs a name: vllm-v1, vllm-v0, sglang or trtllm");
    if (io_node_find(n, "cuda_graphs")) {
      if ((rc = scn_get_bool(ld, n, "cuda_graphs", &b)) != 0)
        return rc;
      graphs = b;
    }
    if (io_node_find(n, "async_scheduling")) {
      if ((rc = scn_get_bool(ld, n, "async_scheduling", &b)) != 0)
        return rc;
      async = b;
    }
    where = scn_node_or(n, "name", n);
  }
  char why[1024];
  if (hw_engine_find(name, version, graphs, async, out, why, sizeof why) != 0)
    return io_node_error(where, ld->err, ld->err_len, "%s", why);
  if (n->kind != IO_NODE_SCALAR && io_node_find(n, "output_lag"))
    return scn_get_bool(ld, n, "output_lag", &out->output_lag);
  return 0;
}

/* A local NVMe read rate: Samsung PM1733 (PCIe 4.0 U.2, the data drives of NVIDIA's DGX A100 and
 * H100) datasheet, sequential read up to 7,000 MB/s. */
static const double nvme_read_bytes_per_s = 7.0e9;
/* Kubernetes' HPA sync period (kube-controller-manager --horizontal-pod-autoscaler-sync-period,
 * default 15 s) and SageServe's hourly allocation (arXiv 2502.14617, section 5). */
static const int64_t hpa_sync_period_ns = 15000000000LL, hourly_ns = 3600000000000LL;
/* AWS EC2 User Guide, "Spot Instance interruption notices": a two-minute warning. */
static const int64_t spot_notice_ns = 120000000000LL;

static int read_controller(const scn_loader *ld, const io_node *m, srv_scaling *sc) {
  static const char *const keys[] = {"kind",
                                     "interval",
                                     "target",
                                     "tolerance",
                                     "scale_up_window",
                                     "scale_down_window",
                                     "scale_up_cooldown",
                                     "scale_down_cooldown",
                                     "bin",
                                     "season",
                                     "capacity",
                                     "alpha",
                                     "beta",
                                     "gamma",
                                     NULL};
  static const char *const kinds[] = {"none", "reactive", "forecast", NULL};
  int kind = SRV_CONTROLLER_NONE, rc;
  if ((rc = scn_expect_kind(ld, m, IO_NODE_MAPPING, "a mapping: {kind, interval, ...}")) != 0 ||
      (rc = scn_check_keys(ld, m, keys)) != 0 ||
      (rc = scn_get_choice(ld, m, "kind", kinds, &kind)) != 0)
    return rc;
  sc->controller = (srv_controller_kind)kind;
  job_hpa_defaults(&sc->hpa);
  sc->hpa.target = 8;
  sc->interval_ns = kind == SRV_CONTROLLER_FORECAST ? hourly_ns : hpa_sync_period_ns;
  sc->bin_ns = 60000000000LL;                        /* per-minute bins, as SageServe's forecasts */
  sc->season_ns = 24 * hourly_ns;                    /* a day */
  sc->alpha = 0.3, sc->beta = 0.01, sc->gamma = 0.3; /* smoothing: a choice, see README */
  if ((rc = scn_get_ns(ld, m, "interval", 1, &sc->interval_ns)) != 0 ||
      (rc = scn_get_f64(ld, m, "target", IO_UNIT_NUMBER, &sc->hpa.target)) != 0 ||
      (rc = scn_get_f64(ld, m, "tolerance", IO_UNIT_RATIO, &sc->hpa.tolerance)) != 0 ||
      (rc = scn_get_ns(ld, m, "scale_up_window", 0, &sc->hpa.up_window_ns)) != 0 ||
      (rc = scn_get_ns(ld, m, "scale_down_window", 0, &sc->hpa.down_window_ns)) != 0 ||
      (rc = scn_get_ns(ld, m, "scale_up_cooldown", 0, &sc->hpa.up_cooldown_ns)) != 0 ||
      (rc = scn_get_ns(ld, m, "scale_down_cooldown", 0, &sc->hpa.down_cooldown_ns)) != 0 ||
      (rc = scn_get_ns(ld, m, "bin", 1, &sc->bin_ns)) != 0 ||
      (rc = scn_get_ns(ld, m, "season", 1, &sc->season_ns)) != 0 ||
      (rc = scn_get_f64(ld, m, "capacity", IO_UNIT_PER_S, &sc->capacity_per_s)) != 0 ||
      (rc = scn_optional(io_node_get_f64(m, "alpha", IO_UNIT_RATIO, 0, 1, &sc->alpha, ld->err,
                                         ld->err_len))) != 0 ||
      (rc = scn_optional(io_node_get_f64(m, "beta", IO_UNIT_RATIO, 0, 1, &sc->beta, ld->err,
                                         ld->err_len))) != 0 ||
      (rc = scn_optional(io_node_get_f64(m, "gamma", IO_UNIT_RATIO, 0, 1, &sc->gamma, ld->err,
                                         ld->err_len))) != 0)
    return rc;
  if (!(sc->hpa.target > 0))
    return io_node_error(scn_node_or(m, "target", m), ld->err, ld->err_len,
                         "expected a target above 0 requests per instance");
  if (kind == SRV_CONTROLLER_FORECAST) {
    if (!(sc->capacity_per_s > 0))
      return io_node_error(scn_node_or(m, "capacity", m), ld->err, ld->err_len,
                           "a forecast controller needs capacity: the requests per second one "
                           "instance serves within the SLO (e.g. 2/s)");
    if (sc->interval_ns % sc->bin_ns != 0 || sc->season_ns % sc->bin_ns != 0)
      return io_node_error(scn_node_or(m, "bin", m), ld->err, ld->err_len,
                           "interval and season must be whole numbers of bins");
  }
  return 0;
}

/* deployments.N.scaling (m; NULL when absent): the instance lifecycle and its controller. */
static int read_scaling(const scn_loader *ld, const io_node *m, srv_deployment *d) {
  static const char *const keys[] = {"initial",
                                     "min",
                                     "max",
                                     "warm",
                                     "provision",
                                     "storage_bandwidth",
                                     "network_bandwidth",
                                     "spot",
                                     "spot_interruptions",
                                     "spot_notice",
                                     "controller",
                                     NULL};
  srv_scaling *sc = &d->scaling;
  *sc = (srv_scaling){.initial = d->count,
                      .max = d->count,
                      .storage_bytes_per_s = nvme_read_bytes_per_s,
                      .spot_notice_ns = spot_notice_ns};
  if (!m)
    return 0;
  sc->enabled = true;
  int rc;
  if ((rc = scn_expect_kind(ld, m, IO_NODE_MAPPING,
                            "a mapping: {initial, min, max, warm, provision, controller, ...}")) !=
          0 ||
      (rc = scn_check_keys(ld, m, keys)) != 0 ||
      (rc = scn_get_u32(ld, m, "max", 0, d->count, &sc->max)) != 0 ||
      (rc = scn_get_u32(ld, m, "initial", 0, sc->max, &sc->initial)) != 0)
    return rc;
  sc->min = sc->initial ? 1 : 0; /* a controller keeps one serving unless told it may stop all */
  if ((rc = scn_get_u32(ld, m, "min", 0, sc->max, &sc->min)) != 0 ||
      (rc = scn_get_u32(ld, m, "warm", 0, d->count - sc->initial, &sc->warm)) != 0 ||
      (rc = scn_get_ns(ld, m, "provision", 0, &sc->provision_ns)) != 0 ||
      (rc = scn_get_f64(ld, m, "storage_bandwidth", IO_UNIT_BYTES_PER_S,
                        &sc->storage_bytes_per_s)) != 0 ||
      (rc = scn_get_f64(ld, m, "network_bandwidth", IO_UNIT_BYTES_PER_S,
                        &sc->network_bytes_per_s)) != 0 ||
      (rc = scn_get_u32(ld, m, "spot", 0, d->count, &sc->spot)) != 0 ||
      (rc = scn_get_f64(ld, m, "spot_interruptions", IO_UNIT_PER_S,
                        &sc->spot_interruptions_per_s)) != 0 ||
      (rc = scn_get_ns(ld, m, "spot_notice", 1, &sc->spot_notice_ns)) != 0 ||
      (rc = read_controller(ld, scn_section(m, "controller"), sc)) != 0)
    return rc;
  if (sc->initial < sc->min)
    return io_node_error(scn_node_or(m, "initial", m), ld->err, ld->err_len,
                         "initial (%" PRIu32 ") is below min (%" PRIu32 ")", sc->initial, sc->min);
  if (!(sc->storage_bytes_per_s > 0))
    return io_node_error(scn_node_or(m, "storage_bandwidth", m), ld->err, ld->err_len,
                         "expected a bandwidth above 0");
  if (d->role != SRV_ROLE_MIXED)
    return io_node_error(m, ld->err, ld->err_len,
                         "scaling is for colocated deployments (role mixed) so far");
  sc->hpa.min_instances = sc->min, sc->hpa.max_instances = sc->max;
  return 0;
}

static int read_deployment(const scn_loader *ld, const io_node *e, srv_deployment *d) {
  static const char *const keys[] = {"name",      "model",      "accelerator",
                                     "tp",        "pp",         "ep",
                                     "count",     "role",       "gpu_memory_utilization",
                                     "scheduler", "power_cap",  "dtype",
                                     "engine",    "efficiency", "scaling",
                                     "moe_routing", NULL};
  static const char *const roles[] = {"mixed", "prefill", "decode", NULL}; /* srv_role order */
  static const char *const routings[] = {"uniform", "copies", NULL}; /* hw moe_copies */
  int role = SRV_ROLE_MIXED, routing = 0, rc;
  bool kv_given;
  d->hw = (hw_deploy_config){
      .tp = 1, .pp = 1, .ep = 1, .weight_dtype = HW_DTYPE_BF16, .kv_dtype = HW_DTYPE_BF16};
  d->count = 1;
  d->gpu_memory_utilization = vllm_gpu_memory_utilization;
  if ((rc = scn_check_keys(ld, e, keys)) != 0 ||
      (rc = scn_find_model(ld, e, "model", &d->model)) != 0 ||
      (rc = scn_find_accel(ld, e, "accelerator", &d->accel)) != 0 ||
      (rc = scn_get_u32(ld, e, "tp", 1, 1024, &d->hw.tp)) != 0 ||
      (rc = scn_get_u32(ld, e, "pp", 1, 1024, &d->hw.pp)) != 0 ||
      (rc = scn_get_u32(ld, e, "ep", 1, 1024, &d->hw.ep)) != 0 ||
      (rc = read_dtypes(ld, e, d)) != 0 ||
      (rc = scn_get_u32(ld, e, "count", 1, 1u << 24, &d->count)) != 0 ||
      (rc = scn_get_choice(ld, e, "role", roles, &role)) != 0 ||
      (rc = scn_get_choice(ld, e, "moe_routing", routings, &routing)) != 0 ||
      (rc = scn_get_f64(ld, e, "power_cap", IO_UNIT_W, &d->hw.power_cap_w)) != 0)
    return rc;
  d->role = (srv_role)role;
  d->hw.moe_copies = routing == 1;
  if (d->hw.power_cap_w > 0 && d->hw.power_cap_w <= d->accel->power.idle_w)
    return io_node_error(scn_node_or(e, "power_cap", e), ld->err, ld->err_len,
                         "a power cap of %g W is not above %s's idle power (%g W)",
                         d->hw.power_cap_w, d->accel->name, d->accel->power.idle_w);
  snprintf(d->name, sizeof d->name, "%s", d->model->name);
  if ((rc = scn_get_text(ld, e, "name", d->name, sizeof d->name)) != 0)
    return rc;
  hw_engine engine;
  const io_node *engine_node = io_node_find(e, "engine");
  if (engine_node) {
    if ((rc = read_engine(ld, engine_node, &engine)) != 0)
      return rc;
    hw_engine_apply(&engine, &d->hw);
    d->gpu_memory_utilization = hw_engine_kv_fraction(&engine, d->hw.tp);
    snprintf(d->engine, sizeof d->engine, "%s %s", engine.name, engine.version);
    d->output_lag = engine.output_lag;
  }
  const io_node *eff = io_node_find(e, "efficiency");
  if (eff && (rc = scn_read_efficiency(ld, eff, &d->hw.eff_set, &d->hw.eff_set_mask)) != 0)
    return rc;
  const io_node *gmu = io_node_find(e, "gpu_memory_utilization");
  if ((rc = scn_optional(io_node_get_f64(e, "gpu_memory_utilization", IO_UNIT_RATIO, 0.0, 1.0,
                                         &d->gpu_memory_utilization, ld->err, ld->err_len))) != 0)
    return rc;
  if (!(d->gpu_memory_utilization > 0.0))
    return io_node_error(gmu, ld->err, ld->err_len, "expected a share above 0, got '%s'",
                         gmu->text);
  if (d->hw.pp > d->model->layers)
    return io_node_error(scn_node_or(e, "pp", e), ld->err, ld->err_len,
                         "pp %" PRIu32 " exceeds the %" PRIu32
                         " layers of %s (each pipeline "
                         "stage holds at least one layer)",
                         d->hw.pp, d->model->layers, d->model->name);
  if (d->model->q_heads % d->hw.tp != 0)
    return io_node_error(scn_node_or(e, "tp", e), ld->err, ld->err_len,
                         "tp %" PRIu32 " must divide the %" PRIu32 " query heads of %s", d->hw.tp,
                         d->model->q_heads, d->model->name);
  if (d->hw.ep > 1 && (!d->model->experts || d->model->experts % d->hw.ep != 0))
    return io_node_error(scn_node_or(e, "ep", e), ld->err, ld->err_len,
                         "ep %" PRIu32 " must divide the %" PRIu32 " experts of %s", d->hw.ep,
                         d->model->experts, d->model->name);
  if ((rc = read_scheduler(ld, scn_section(e, "scheduler"), engine_node ? &engine : NULL, &d->sched,
                           &kv_given)) != 0 ||
      (rc = read_scaling(ld, io_node_find(e, "scaling"), d)) != 0)
    return rc;
  ld->s->scaling |= d->scaling.enabled;
  return size_kv_cache(ld, e, d, kv_given);
}

int scn_read_deployments(const scn_loader *ld, const io_node *seq) {
  srv_scenario *s = ld->s;
  if (seq->count == 0)
    return io_node_error(seq, ld->err, ld->err_len, "expected at least one deployment");
  if (!(s->deployments = calloc(seq->count, sizeof *s->deployments))) {
    snprintf(ld->err, ld->err_len, "out of memory");
    return IO_DOC_ENOMEM;
  }
  for (size_t i = 0; i < seq->count; i++) {
    const io_node *e = seq->values[i];
    srv_deployment *d = &s->deployments[i];
    int rc = read_deployment(ld, e, d);
    if (rc != 0)
      return rc;
    for (size_t j = 0; j < i; j++)
      if (strcmp(s->deployments[j].name, d->name) == 0)
        return io_node_error(scn_node_or(e, "name", e), ld->err, ld->err_len,
                             "deployment name '%s' is already used by deployments.%zu; give each "
                             "deployment a distinct name",
                             d->name, j);
    s->deployment_count = i + 1;
  }
  return 0;
}

/* Without a cluster section: one node type per deployment, tp accelerators per node (a tensor-
 * parallel group in one scale-up domain), pp * count nodes. Exactly what the deployments use. */
int scn_implicit_cluster(const scn_loader *ld) {
  srv_scenario *s = ld->s;
  if (!(s->nodes = calloc(s->deployment_count, sizeof *s->nodes))) {
    snprintf(ld->err, ld->err_len, "out of memory");
    return IO_DOC_ENOMEM;
  }
  for (size_t i = 0; i < s->deployment_count; i++) {
    const srv_deployment *d = &s->deployments[i];
    srv_node_group *g = &s->nodes[i];
    snprintf(g->name, sizeof g->name, "%s", d->name);
    g->accel = d->accel;
    g->accels_per_node = hw_deploy_stage_devices(&d->hw); /* tp * ep */
    g->count = d->hw.pp * d->count;
    int rc = scn_read_node_system(ld, scn_section(NULL, ""), g);
    if (rc != 0)
      return rc;
  }
  s->node_groups = s->deployment_count;
  return 0;
}

/* Each accelerator type's deployments (tp * pp * count each) must fit in the cluster's accelerators
 * of that type, and each tensor-parallel group in one node. */
int scn_check_fit(const scn_loader *ld, const io_node *deployments) {
  const srv_scenario *s = ld->s;
  for (size_t i = 0; i < s->deployment_count; i++) {
    const hw_accel *accel = s->deployments[i].accel;
    bool first = true;
    for (size_t j = 0; j < i; j++)
      first &= s->deployments[j].accel != accel;
    if (!first)
      continue;
    uint64_t have = 0;
    uint32_t widest = 0;
    char nodes[256] = "";
    size_t len = 0;
    for (size_t g = 0; g < s->node_groups; g++) {
      const srv_node_group *n = &s->nodes[g];
      if (n->accel != accel)
        continue;
      have += (uint64_t)n->accels_per_node * n->count;
      widest = n->accels_per_node > widest ? n->accels_per_node : widest;
      if (len < sizeof nodes)
        len += (size_t)snprintf(nodes + len, sizeof nodes - len, "%s%s: %" PRIu32 " x %" PRIu32,
                                len ? ", " : "", n->name, n->count, n->accels_per_node);
    }
    uint64_t need = 0;
    size_t last = i;
    char uses[256] = "";
    len = 0;
    for (size_t j = i; j < s->deployment_count; j++) {
      const srv_deployment *d = &s->deployments[j];
      if (d->accel != accel)
        continue;
      const io_node *e = deployments->values[j];
      uint32_t stage = hw_deploy_stage_devices(&d->hw); /* tp * ep */
      if (widest && stage > widest && d->hw.ep > 1)
        return io_node_error(scn_node_or(e, "ep", e), ld->err, ld->err_len,
                             "tp %" PRIu32 " x ep %" PRIu32 " = %" PRIu32
                             " devices do not fit in one node: the cluster's %s nodes hold at "
                             "most %" PRIu32
                             " (a pipeline stage's tensor- and expert-parallel groups run within "
                             "one node's scale-up domain)",
                             d->hw.tp, d->hw.ep, stage, accel->name, widest);
      if (widest && stage > widest)
        return io_node_error(scn_node_or(e, "tp", e), ld->err, ld->err_len,
                             "tp %" PRIu32
                             " does not fit in one node: the cluster's %s nodes "
                             "hold at most %" PRIu32
                             " (a tensor-parallel group runs within one "
                             "node's scale-up domain)",
                             d->hw.tp, accel->name, widest);
      need += (uint64_t)stage * d->hw.pp * d->count;
      last = j;
      if (len < sizeof uses)
        len += (size_t)snprintf(uses + len, sizeof uses - len,
                                d->hw.ep > 1 ? "%s%s %" PRIu32 "x%" PRIu32 "x%" PRIu32
                                               " (tp %" PRIu32 " x ep %" PRIu32 ")"
                                             : "%s%s %" PRIu32 "x%" PRIu32 "x%" PRIu32,
                                len ? " + " : "", d->name, stage, d->hw.pp, d->count, d->hw.tp,
                                d->hw.ep);
    }
    if (need > have) {
      const io_node *e = deployments->values[last];
      if (have == 0)
        return io_node_error(scn_node_or(e, "accelerator", e), ld->err, ld->err_len,
                             "the cluster has no %s nodes (add one to cluster.nodes)", accel->name);
      return io_node_error(scn_node_or(e, "count", e), ld->err, ld->err_len,
                           "the deployments on %s need %" PRIu64
                           " accelerators (tp x pp x count: "
                           "%s), the cluster has %" PRIu64 " (%s)",
                           accel->name, need, uses, have, nodes);
    }
  }
  return 0;
}

/* Disaggregated serving needs both pools, and no colocated instance beside them (the router would
 * not know which path a request takes). */
int scn_check_roles(const scn_loader *ld, const io_node *deployments) {
  srv_scenario *s = ld->s;
  size_t count[3] = {0, 0, 0}, last[3] = {0, 0, 0};
  for (size_t i = 0; i < s->deployment_count; i++) {
    count[s->deployments[i].role]++;
    last[s->deployments[i].role] = i;
  }
  s->disaggregated = count[SRV_ROLE_PREFILL] || count[SRV_ROLE_DECODE];
  if (!s->disaggregated)
    return 0;
  static const char *const names[] = {"mixed", "prefill", "decode"};
  for (int r = 0; r < 3; r++) {
    const io_node *e = deployments->values[last[r]];
    if (r == SRV_ROLE_MIXED && count[r])
      return io_node_error(scn_node_or(e, "role", e), ld->err, ld->err_len,
                           "a mixed deployment cannot run beside prefill and decode ones; give "
                           "every deployment role prefill or decode, or none of them");
    if (r != SRV_ROLE_MIXED && !count[r]) {
      const io_node *other =
          deployments->values[last[r == SRV_ROLE_PREFILL ? SRV_ROLE_DECODE : SRV_ROLE_PREFILL]];
      return io_node_error(scn_node_or(other, "role", other), ld->err, ld->err_len,
                           "disaggregated serving needs a %s deployment too", names[r]);
    }
  }
  return 0;
}
