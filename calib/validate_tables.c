/* The readers of `windtunnel validate` for published tables of whole runs: Argonne's
 * LLM-Inference-Bench fixed batches and TensorRT-LLM's perf-overview tables (max throughput and
 * online), each turned into cases with the setup its SOURCE.md gives. */
#define _GNU_SOURCE /* strcasestr */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calib/validate_read.h"
#include "hw/hw.h"

/* ---- Argonne LLM-Inference-Bench: fixed batches (argonne_llm_inference_bench) ---- */

/* The engines of rows that are not replayed, with their row counts. */
typedef struct engine_counts {
  char name[8][64];
  size_t rows[8];
  size_t n;
} engine_counts;

static int note_engine(engine_counts *e, const char *name) {
  for (size_t i = 0; i < e->n; i++)
    if (!strcmp(e->name[i], name))
      return e->rows[i]++, 0;
  if (e->n == 8)
    return -1;
  snprintf(e->name[e->n], sizeof e->name[0], "%s", name);
  e->rows[e->n++] = 1;
  return 0;
}

/* One fixed-batch table: All_results.csv (input = output = L, the whole batch's latency) or
 * Fig_22's (input L, one output token: the batch's TTFT). Other engines' rows are counted into
 * others. */
static int argonne_table(const char *dir, bool ttft_table, const val_filter *f, val_cases *out,
                         engine_counts *others, char *err, size_t err_len) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir,
           ttft_table ? "Fig_22_all_results_TTFT_ITL.csv" : "All_results.csv");
  util_csv csv;
  if (util_csv_open_file(&csv, path, err, err_len) != 0)
    return ttft_table ? (err[0] = 0, 0) : -1; /* the committed sample may lack Fig_22 */
  int more;
  size_t first = out->n;
  while ((more = util_csv_next(&csv, err, err_len)) == 1) {
    const char *hw = val_csv_text(&csv, "Hardware"), *fw = val_csv_text(&csv, "Framework");
    const char *model = val_csv_text(&csv, "Model");
    if (!hw[0])
      continue; /* Fig_22 separates its groups by blank lines */
    double devices, len, out_len, batch, latency;
    if (val_csv_number(&csv, "Num of Hardware", &devices, err, err_len) ||
        val_csv_number(&csv, ttft_table ? "Input Length" : "Input Output Length", &len, err,
                       err_len) ||
        val_csv_number(&csv, "Batch Size", &batch, err, err_len) ||
        val_csv_number(&csv, ttft_table ? "TTFT Latency" : "Latency", &latency, err, err_len)) {
      more = -1;
      break;
    }
    out_len = len;
    if (ttft_table && val_csv_number(&csv, "Output Length", &out_len, err, err_len)) {
      more = -1;
      break;
    }
    if (strcmp(fw, "vLLM") && strcmp(fw, "TensorRT-LLM")) {
      if (note_engine(others, fw) != 0) {
        more = -1;
        snprintf(err, err_len, "out of memory");
        break;
      }
      continue; /* listed below, one line per engine */
    }
    char name[192];
    snprintf(name, sizeof name, "%s%s/%s/%s/tp%.0f/len%.0f/batch%.0f", ttft_table ? "ttft/" : "",
             fw, hw, strchr(model, '/') ? strchr(model, '/') + 1 : model, devices, len, batch);
    /* The same configuration measured twice gets a suffix, so every name is one case. */
    size_t same = 0;
    for (size_t i = first; i < out->n; i++)
      same += !strncmp(out->c[i].name, name, strlen(name)) &&
              (out->c[i].name[strlen(name)] == 0 || out->c[i].name[strlen(name)] == '#');
    if (same)
      snprintf(name + strlen(name), sizeof name - strlen(name), "#%zu", same + 1);
    if (!val_filter_case(f, name))
      continue;
    val_case *c = val_case_new(out, "argonne_llm_inference_bench", name);
    if (!c) {
      more = -1;
      snprintf(err, err_len, "out of memory");
      break;
    }
    val_set_hardware(c, model, hw);
    c->tp = (uint32_t)devices;
    /* TensorRT-LLM's rows come from run.py given one prompt ("France" L times) batch times
     * (upstream TensorRT-LLM/H100/run_power.py, generate_input, commit 139a540), decoded greedily:
     * the copies route alike, so a Mixtral batch reads the experts of one sequence. vLLM's prompts
     * are random token ids. */
    c->moe_copies = !strcmp(fw, "TensorRT-LLM");
    /* One batch, all at t=0, ignore_eos: the batch latency is the span of the replay; the
     * scheduler's limits at their defaults (the upstream scripts set none). */
    val_fixed_lengths lens = {(int32_t)len, (int32_t)out_len};
    val_rng rng = {0};
    if (val_case_poisson(c, INFINITY, (size_t)batch, &rng, val_fixed, &lens) != 0) {
      more = -1;
      snprintf(err, err_len, "out of memory");
      break;
    }
    val_case_metric(c, ttft_table ? "batch_ttft_s" : "batch_latency_s", latency);
    val_case_note(c, ttft_table ? "fixed batch at t=0, one output token (end_latency not compared: "
                                  "its output length is not recorded)"
                                : "fixed batch at t=0");
  }
  util_csv_close(&csv);
  return more < 0 ? -1 : 0;
}

int val_read_argonne(const char *dir, const val_filter *f, val_cases *out, char *err,
                     size_t err_len) {
  engine_counts others = {0};
  int more = argonne_table(dir, false, f, out, &others, err, err_len) == 0 &&
                     argonne_table(dir, true, f, out, &others, err, err_len) == 0
                 ? 0
                 : -1;
  for (size_t i = 0; more >= 0 && i < others.n; i++) {
    char name[192];
    snprintf(name, sizeof name, "%s/*", others.name[i]);
    if (!val_filter_case(f, name))
      continue;
    val_case *c = val_case_new(out, "argonne_llm_inference_bench", name);
    if (!c) {
      more = -1;
      snprintf(err, err_len, "out of memory");
      break;
    }
    val_case_skip(c,
                  "%zu rows: engine %s is not modelled (only vLLM and TensorRT-LLM rows "
                  "are replayed)",
                  others.rows[i], others.name[i]);
  }
  return more < 0 ? -1 : 0;
}

/* ---- TensorRT-LLM perf-overview tables (trtllm_perf_overview) ---- */

/* The quantisation of a row, and trtllm-bench's engine limits for it when none are given. Both
 * from NVIDIA/TensorRT-LLM at commit 04cba882084a25665e7f80f5bda71b35b9790b6f (Apache-2.0):
 * `tensorrt_llm/bench/build/build.py` ("If the quantization is NVFP4 or FP8, force the KV cache
 * dtype to FP8"; the PyTorch flow's `bench/benchmark/utils/general.py` maps FP8 and NVFP4 onto
 * an fp8 KV cache too), and `bench/build/tuning.py`, `calc_engine_setting` and
 * `finetune_setting`, which both flows call with the dataset's mean lengths: the requests of
 * isl + osl tokens whose KV fits `fraction` of the memory the weights leave (NVML's total in GiB
 * per GPU; weights counted as parameters x bytes per element; a KV head per GPU at least),
 * capped at 4096 and divided among pipeline stages, rounded up to 32/128/256; tokens per
 * iteration that many times (1 + isl / osl), capped at 32768, rounded up to 256/512/1024 and at
 * least 2048. The recipes of v0.17 and v1.0 are assumed to be this one (not stored here). */
static void trtllm_setup(val_case *c, const hw_catalog *cat, const char *precision, double isl,
                         double osl, double fraction) {
  double w_bytes = 2.0, kv_bytes = 2.0;
  if (!strcasecmp(precision, "FP8")) {
    snprintf(c->dtype, sizeof c->dtype, "{weights: fp8, kv: fp8}");
    w_bytes = 1.0, kv_bytes = 1.0;
  } else if (!strcasecmp(precision, "FP4")) {
    snprintf(c->dtype, sizeof c->dtype, "{weights: fp4, kv: fp8}");
    w_bytes = 0.5, kv_bytes = 1.0;
  }
  const hw_model *m = hw_catalog_model(cat, c->model);
  const hw_accel *a = hw_catalog_accel(cat, c->accel);
  if (!m || !a)
    return; /* skipped already */
  const double gib = 1024.0 * 1024.0 * 1024.0;
  double kv_heads = c->tp > m->kv_heads ? c->tp : m->kv_heads;
  double per_token = 2.0 * m->layers * kv_heads * m->head_dim * kv_bytes / gib;
  double memory = a->hbm_bytes / gib * c->tp * c->pp - hw_model_params(m) * w_bytes / gib;
  double requests = memory * fraction / (per_token * (isl + osl));
  double bs = fmin(requests, 4096.0) / c->pp, tokens = fmin(bs * (1.0 + isl / osl), 32768.0);
  bs = bs < 256.0    ? fmax(64.0, 32.0 * ceil(bs / 32.0))
       : bs < 1024.0 ? 128.0 * ceil(bs / 128.0)
                     : 256.0 * ceil(bs / 256.0);
  tokens = tokens < 4096.0   ? fmax(2048.0, 256.0 * ceil(tokens / 256.0))
           : tokens < 8192.0 ? 512.0 * ceil(tokens / 512.0)
                             : 1024.0 * ceil(tokens / 1024.0);
  if (requests >= 1.0) { /* else the KV cannot hold one request: the run refuses it */
    c->max_num_seqs = (uint32_t)bs;
    c->max_num_batched_tokens = (uint32_t)tokens;
    val_case_note(c, "trtllm-bench's limits: max_batch_size %u, max_num_tokens %u%s",
                  c->max_num_seqs, c->max_num_batched_tokens,
                  kv_bytes < 2.0 ? ", KV cache in fp8" : "");
  }
}

static int trtllm_max_throughput(const char *dir, const char *file, const hw_catalog *cat,
                                 const val_filter *f, val_cases *out, char *err, size_t err_len) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  util_csv csv;
  if (util_csv_open_file(&csv, path, err, err_len) != 0)
    return -1;
  int more;
  while ((more = util_csv_next(&csv, err, err_len)) == 1) {
    double tp, pp, isl, osl, n, tok_s;
    if (val_csv_number(&csv, "tp", &tp, err, err_len) ||
        val_csv_number(&csv, "pp", &pp, err, err_len) ||
        val_csv_number(&csv, "isl", &isl, err, err_len) ||
        val_csv_number(&csv, "osl", &osl, err, err_len) ||
        val_csv_number(&csv, "num_requests", &n, err, err_len) ||
        val_csv_number(&csv, "output_tokens_per_s", &tok_s, err, err_len)) {
      more = -1;
      break;
    }
    const char *model = val_csv_text(&csv, "model"), *gpu = val_csv_text(&csv, "gpu");
    const char *precision = val_csv_text(&csv, "precision");
    char name[192];
    snprintf(name, sizeof name, "%.*s/%s/%s/%s/tp%.0f-pp%.0f/%.0f-%.0f", (int)strcspn(file, "_"),
             file, model, precision, gpu, tp, pp, isl, osl);
    if (!val_filter_case(f, name))
      continue;
    val_case *c = val_case_new(out, "trtllm_perf_overview", name);
    if (!c) {
      more = -1;
      snprintf(err, err_len, "out of memory");
      break;
    }
    val_set_hardware(c, model, gpu);
    c->tp = (uint32_t)tp;
    c->pp = (uint32_t)pp;
    /* TensorRT-LLM's profile (its admission reserves each request's whole KV) and the KV cache
     * fraction SOURCE.md gives (0.95 where it fit; stated for v1.0 and GH200 on v0.17). The
     * v0.14 online rows (Triton backend) keep the default engine: their KV is never short. */
    snprintf(c->engine, sizeof c->engine, "trtllm");
    c->gpu_memory_utilization = 0.95;
    trtllm_setup(c, cat, precision, isl, osl, c->gpu_memory_utilization);
    if (strstr(file, "v1.0") &&
        (strcasestr(model, "qwen3") || strcasestr(model, "maverick") || strcasestr(model, "scout")))
      val_case_skip(c, "attention DP with expert parallelism is not modelled");
    val_fixed_lengths lens = {(int32_t)isl, (int32_t)osl};
    val_rng rng = {0};
    if (val_case_poisson(c, INFINITY, (size_t)n, &rng, val_fixed, &lens) != 0) {
      more = -1;
      snprintf(err, err_len, "out of memory");
      break;
    }
    val_case_metric(c, "output_tok_s", tok_s);
    val_case_note(c, "all requests at t=0; engine: trtllm");
    val_cap_requests(c, f);
  }
  util_csv_close(&csv);
  return more < 0 ? -1 : 0;
}

static int trtllm_online(const char *dir, const val_filter *f, val_cases *out, char *err,
                         size_t err_len) {
  char path[4200];
  snprintf(path, sizeof path, "%s/v0.14_online_serving.csv", dir);
  util_csv csv;
  if (util_csv_open_file(&csv, path, err, err_len) != 0)
    return -1;
  int more;
  while ((more = util_csv_next(&csv, err, err_len)) == 1) {
    double tp, in, outl, req_s, ttft, itl, tok_s;
    const char *qps = val_csv_text(&csv, "qps");
    if (val_csv_number(&csv, "tp", &tp, err, err_len) ||
        val_csv_number(&csv, "input_len", &in, err, err_len) ||
        val_csv_number(&csv, "output_len", &outl, err, err_len) ||
        val_csv_number(&csv, "throughput_req_s", &req_s, err, err_len) ||
        val_csv_number(&csv, "mean_ttft_ms", &ttft, err, err_len) ||
        val_csv_number(&csv, "mean_itl_ms", &itl, err, err_len) ||
        val_csv_number(&csv, "output_throughput_tok_s", &tok_s, err, err_len)) {
      more = -1;
      break;
    }
    const char *model = val_csv_text(&csv, "model"), *gpu = val_csv_text(&csv, "gpu");
    char name[192];
    snprintf(name, sizeof name, "v0.14/%s/%s/tp%.0f/%.0f-%.0f/qps%s", model, gpu, tp, in, outl,
             qps);
    if (!val_filter_case(f, name))
      continue;
    val_case *c = val_case_new(out, "trtllm_perf_overview", name);
    if (!c) {
      more = -1;
      snprintf(err, err_len, "out of memory");
      break;
    }
    val_set_hardware(c, model, gpu);
    c->tp = (uint32_t)tp;
    double rate = strcasecmp(qps, "INF") ? strtod(qps, NULL) : INFINITY;
    val_fixed_lengths lens = {(int32_t)in, (int32_t)outl};
    val_rng rng = {0x74727431ULL + out->n};
    /* 500 requests per point (SOURCE.md); the arrival process is not stated: Poisson. */
    if (val_case_poisson(c, rate, 500, &rng, val_fixed, &lens) != 0) {
      more = -1;
      snprintf(err, err_len, "out of memory");
      break;
    }
    val_case_metric(c, "req_s", req_s);
    val_case_metric(c, "ttft_mean_ms", ttft);
    val_case_metric(c, "itl_mean_ms", itl);
    val_case_metric(c, "output_tok_s", tok_s);
    val_case_note(c, isinf(rate) ? "all requests at t=0"
                                 : "Poisson arrivals assumed (the process is not stated)");
  }
  util_csv_close(&csv);
  return more < 0 ? -1 : 0;
}

int val_read_trtllm(const char *dir, const val_filter *f, val_cases *out, char *err,
                    size_t err_len) {
  static const char *const files[] = {"v0.17_max_throughput.csv", "v1.0_max_throughput.csv"};
  hw_catalog *cat = hw_catalog_create(err, err_len);
  if (!cat)
    return -1;
  int rc = 0;
  for (size_t k = 0; k < 2 && rc == 0; k++)
    rc = trtllm_max_throughput(dir, files[k], cat, f, out, err, err_len);
  hw_catalog_destroy(cat);
  return rc != 0 ? -1 : trtllm_online(dir, f, out, err, err_len);
}
