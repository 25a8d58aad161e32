/* Internal to hw/: the board power formulas, shared by the pricing path (power.c, cost.c), the
 * catalogue (catalog.c) and the fitter (fit.c), so that what is fitted is what is priced. */
#ifndef HW_POWER_OPS_H
#define HW_POWER_OPS_H

#include "hw/hw.h"

/* Board power while kernels run at compute utilisation u_c (achieved FLOP/s over the tensor peak)
 * and memory utilisation u_m (achieved HBM bytes/s over the peak bandwidth): linear, clamped to
 * [idle_w, tdp_w] (no upper clamp when the TDP is unknown). */
static inline double hw_power_busy_w(const hw_power *p, double tdp_w, double u_c, double u_m) {
  double w = p->base_w + p->compute_w * u_c + p->memory_w * u_m;
  if (tdp_w > 0.0 && w > tdp_w)
    w = tdp_w;
  return w < p->idle_w ? p->idle_w : w;
}

/* A power model fitted on one board (ref, whose TDP and idle power are ref_tdp_w, ref->idle_w)
 * moved to another board of TDP tdp_w and idle power idle_w: everything above idle scales with
 * the board's dynamic range tdp - idle; the cap exponent is kept; host_w is left to the caller. */
static inline hw_power hw_power_scaled(const hw_power *ref, double ref_tdp_w, double tdp_w,
                                       double idle_w) {
  hw_power p = *ref;
  double k = (tdp_w - idle_w) / (ref_tdp_w - ref->idle_w);
  p.idle_w = idle_w;
  p.base_w = idle_w + (ref->base_w - ref->idle_w) * k;
  p.compute_w = ref->compute_w * k;
  p.memory_w = ref->memory_w * k;
  return p;
}

/* Power of one iteration on one device (hw/power.c). In: the uncapped GPU time of all stages
 * (gpu_ns), its clock-bound part (clock_ns, see hw_roof_clock_ns), the busiest stage's GPU time
 * (stage_ns), time outside GPU kernels (sendrecv_ns, cpu_ns), and the device's work (flops, bytes).
 * Out: the GPU time under the cap (returned), the device's average power over the whole iteration
 * (*power_w) and the cap's stretch of the GPU time (*cap_stretch). */
double hw_power_iteration(const hw_deploy *d, double gpu_ns, double clock_ns, double stage_ns,
                          double sendrecv_ns, double cpu_ns, double flops, double bytes,
                          double *power_w, double *cap_stretch);

#endif
