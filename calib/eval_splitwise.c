/* SplitwiseSim's iteration times (splitwise-sim/perf_model.csv): each row's prefill and decode
 * iteration priced with the built-in catalogue; one calibration row per model, device and phase. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "calib/acc.h"
#include "calib/eval.h"
#include "calib/fit.h"
#include "hw/hw.h"
#include "util/csv.h"
#include "util/error.h"

#define SPLITWISE "splitwise-sim/perf_model.csv"

/* perf_model.csv's hardware names: catalogue device and whether it ran under the power cap. */
static const struct {
  const char *name, *catalogue;
  bool capped;
} sw_hardware[] = {
    {"a100-80gb", "A100-SXM-80GB", false},
    {"h100-80gb", "H100-SXM-80GB", false},
    {"h100-80gb-pcap", "H100-SXM-80GB", true},
};
enum { SW_HW = sizeof sw_hardware / sizeof *sw_hardware };

/* perf_model.csv's model names in the catalogue. */
static const struct { const char *name, *catalogue; } sw_models[] = {{"llama2-70b", "Llama-2-70B"}};

/* Each row is one batch of batch_size identical requests (hw/data/SOURCES.md, "SplitwiseSim"):
 * prompt_time is the prefill of all batch_size prompts of prompt_size tokens (one iteration),
 * token_time the mean time of one decode iteration of the batch, and e2e_time = prompt_time +
 * generated x token_time. The row's own e2e_time says how many tokens were generated (requests
 * that hit end-of-sequence stop before token_size), so the decode step is priced at the mean
 * context prompt_size + generated / 2. A row whose e2e_time exceeds that sum by more than 5% did
 * not run as one batch (the batch did not fit in KV memory and ran in waves: Llama-2-70B at TP 2
 * with 32-64 requests): it measures something else and is counted as excluded. */
static const double sw_one_batch_slack = 1.05;
static int evaluate(const char *data_dir, const hw_catalog *cat, calib_rows *out, char *err,
                    size_t err_len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/" SPLITWISE, data_dir);
  struct stat st;
  if (stat(path, &st) != 0)
    return 0;
  util_csv c;
  if (util_csv_open_file(&c, path, err, err_len) != 0)
    return calib_rows_skip(out, SPLITWISE, "iteration", err);
  static const char *const names[] = {"tensor_parallel", "prompt_size", "batch_size",
                                      "token_size",      "prompt_time", "token_time",
                                      "e2e_time",        "model",       "hardware"};
  int cols[9];
  for (int i = 0; i < 9; i++)
    if ((cols[i] = util_csv_col(&c, names[i])) < 0) {
      util_csv_close(&c);
      return calib_rows_skip(out, SPLITWISE, "iteration", "unrecognised columns");
    }
  enum { NMODELS = sizeof sw_models / sizeof *sw_models };
  calib_acc prompt[NMODELS][SW_HW], token[NMODELS][SW_HW];
  hw_deploy deploys[NMODELS][SW_HW][9];
  bool ready[NMODELS][SW_HW][9];
  memset(ready, 0, sizeof ready);
  for (int m = 0; m < NMODELS; m++)
    for (int h = 0; h < SW_HW; h++)
      calib_acc_init(&prompt[m][h]), calib_acc_init(&token[m][h]);
  char unknown_model[64] = "", bad[256] = "";
  int r = 0, more, excluded = 0;
  while (r == 0 && (more = util_csv_next(&c, err, err_len)) == 1) {
    const char *model = util_csv_get(&c, cols[7]), *hwname = util_csv_get(&c, cols[8]);
    int m = -1, h = -1;
    for (int i = 0; i < NMODELS; i++)
      if (!strcmp(model, sw_models[i].name))
        m = i;
    for (int i = 0; i < SW_HW; i++)
      if (!strcmp(hwname, sw_hardware[i].name))
        h = i;
    if (m < 0) {
      snprintf(unknown_model, sizeof unknown_model, "%s", model);
      continue;
    }
    double v[7];
    bool ok = h >= 0;
    for (int i = 0; i < 7 && ok; i++)
      ok = util_csv_double(&c, cols[i], NAN, &v[i], NULL, 0) == 0;
    if (!ok || !(v[0] >= 1.0 && v[0] <= 8.0) || !(v[5] > 0.0))
      continue;
    /* prompt_size, batch_size and token_size are counts that the batch's 32-bit token fields hold:
     * a row past them (negative, zero, not finite, 1e20) makes the file unusable with a located
     * message, as calib_reader_dims does for the other readers, instead of converting a value out
     * of range (found by fuzz/, target calib). */
    if (!(v[1] >= 1.0 && v[2] >= 1.0 && v[3] >= 0.0 &&
          v[2] * (v[1] + v[3]) <= (double)UINT32_MAX)) {
      snprintf(bad, sizeof bad,
               "%s:%ld: prompt_size %g, batch_size %g, token_size %g: not the counts of a batch "
               "(at least 1, batch_size x (prompt_size + token_size) under 2^32)",
               SPLITWISE, c.line, v[1], v[2], v[3]);
      break;
    }
    double generated = fmin(v[3], fmax(v[6] - v[4], 0.0) / v[5]);
    if (v[6] > sw_one_batch_slack * (v[4] + v[3] * v[5])) {
      excluded++;
      continue;
    }
    int tp = (int)v[0];
    hw_deploy *d = &deploys[m][h][tp];
    if (!ready[m][h][tp]) {
      const hw_accel *a = hw_catalog_accel(cat, sw_hardware[h].catalogue);
      const hw_model *mod = hw_catalog_model(cat, sw_models[m].catalogue);
      hw_deploy_config cfg = {.tp = (uint32_t)tp,
                              .power_cap_w = sw_hardware[h].capped ? calib_splitwise_cap_w() : 0};
      char why[256];
      if (!a || !mod || hw_deploy_init(d, a, mod, &cfg, why, sizeof why) != 0)
        continue;
      ready[m][h][tp] = true;
    }
    double b = v[2], len = v[1];
    hw_batch pb = {0}, tb = {0};
    pb.prefill_seqs = (uint32_t)b;
    pb.prefill_tokens = (uint32_t)(b * len);
    pb.prefill_attn_pairs = (uint64_t)(b * len * (len + 1.0) / 2.0);
    pb.prefill_ctx_tokens = (uint64_t)(b * len);
    tb.decode_seqs = (uint32_t)b;
    tb.decode_ctx_tokens = (uint64_t)(b * (len + generated / 2.0));
    char inputs[128];
    snprintf(inputs, sizeof inputs, "tp=%d batch=%g prompt=%g tokens=%g", tp, b, len, v[3]);
    r = calib_acc_add(&prompt[m][h], (double)hw_iteration_ns(d, &pb, NULL), v[4] * 1e6, inputs);
    if (r == 0)
      r = calib_acc_add(&token[m][h], (double)hw_iteration_ns(d, &tb, NULL), v[5] * 1e6, inputs);
  }
  util_csv_close(&c);
  for (int m = 0; m < NMODELS; m++)
    for (int h = 0; h < SW_HW; h++) {
      char op[64], note[160];
      snprintf(note, sizeof note, "%s at TP 2/4/8%s", sw_models[m].catalogue,
               sw_hardware[h].capped ? ", power cap per GPU as hw/data/SOURCES.md" : "");
      snprintf(op, sizeof op, "prompt_time.%s.%s", sw_hardware[h].name, sw_models[m].name);
      if (r == 0 && !bad[0] && prompt[m][h].n)
        r = calib_acc_row(&prompt[m][h], out, SPLITWISE, op, sw_hardware[h].catalogue, note);
      snprintf(op, sizeof op, "token_time.%s.%s", sw_hardware[h].name, sw_models[m].name);
      if (r == 0 && !bad[0] && token[m][h].n)
        r = calib_acc_row(&token[m][h], out, SPLITWISE, op, sw_hardware[h].catalogue, note);
      calib_acc_free(&prompt[m][h]);
      calib_acc_free(&token[m][h]);
    }
  if (r == 0 && bad[0])
    return calib_rows_skip(out, SPLITWISE, "iteration", bad);
  if (r == 0 && excluded) {
    char why[200];
    snprintf(why, sizeof why,
             "%d rows whose e2e_time exceeds prompt_time + token_size x token_time by over 5%%: "
             "the batch ran in waves (KV memory), not as one batch",
             excluded);
    r = calib_rows_skip(out, SPLITWISE, "not_one_batch", why);
  }
  if (r == 0 && unknown_model[0]) {
    char why[160];
    snprintf(why, sizeof why, "model %s is not in the catalogue", unknown_model);
    r = calib_rows_skip(out, SPLITWISE, unknown_model, why);
  }
  return r;
}

int calib_eval_splitwise(const char *data_dir, const hw_catalog *cat, calib_rows *out, char *err,
                         size_t err_len) {
  /* Every other failure is a table's, and gives a skipped row. */
  return evaluate(data_dir, cat, out, err, err_len) != 0 ? util_err(err, err_len, "out of memory")
                                                         : 0;
}
