/* The numeric types of weights, activations and the KV cache (hw_dtype, hw/hw.h): their names,
 * bytes per element with scale overheads, and an accelerator's tensor peak in each. */
#include <string.h>

#include "hw/hw.h"

static const char *const dtype_names[HW_DTYPE_COUNT] = {"bf16", "fp8", "fp8_block", "int8", "fp4"};

const char *hw_dtype_name(hw_dtype t) {
  return (unsigned)t < HW_DTYPE_COUNT ? dtype_names[t] : "unknown";
}

int hw_dtype_parse(const char *name, hw_dtype *out) {
  static const struct {
    const char *alias;
    hw_dtype t;
  } aliases[] = {{"bfloat16", HW_DTYPE_BF16},
                 {"fp8_e4m3", HW_DTYPE_FP8},
                 {"fp8_block_scaled", HW_DTYPE_FP8_BLOCK},
                 {"nvfp4", HW_DTYPE_FP4}};
  for (int t = 0; t < HW_DTYPE_COUNT; t++)
    if (!strcmp(name, dtype_names[t])) {
      *out = (hw_dtype)t;
      return 0;
    }
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (!strcmp(name, aliases[i].alias)) {
      *out = aliases[i].t;
      return 0;
    }
  return -1;
}

/* Scale overheads (hw/hw.h): fp32 scales per 128x128 weight block and per 128-wide activation
 * group for fp8_block (DeepSeek-V3 tech report, arXiv:2412.19437, section 3.3.2); one fp8 (e4m3)
 * scale per 16 elements for NVFP4 (NVIDIA, "Introducing NVFP4", developer blog, 2025). */
static const double fp8_block_weight_elems = 128.0 * 128.0, fp8_block_act_elems = 128.0;
static const double fp32_bytes = 4.0, nvfp4_group_elems = 16.0;

double hw_dtype_weight_bytes(hw_dtype t) {
  switch (t) {
  case HW_DTYPE_BF16: return 2.0;
  case HW_DTYPE_FP8:
  case HW_DTYPE_INT8: return 1.0;
  case HW_DTYPE_FP8_BLOCK: return 1.0 + fp32_bytes / fp8_block_weight_elems;
  case HW_DTYPE_FP4: return 0.5 + 1.0 / nvfp4_group_elems;
  default: return 0.0;
  }
}

double hw_dtype_act_bytes(hw_dtype t) {
  return t == HW_DTYPE_FP8_BLOCK ? 1.0 + fp32_bytes / fp8_block_act_elems
                                 : hw_dtype_weight_bytes(t);
}

double hw_accel_peak_flops(const hw_accel *a, hw_dtype t) {
  switch (t) {
  case HW_DTYPE_BF16: return a->peak_bf16_flops;
  case HW_DTYPE_FP8:
  case HW_DTYPE_FP8_BLOCK: return a->peak_fp8_flops;
  case HW_DTYPE_INT8: return a->peak_int8_ops;
  case HW_DTYPE_FP4: return a->peak_fp4_flops;
  default: return 0.0;
  }
}
