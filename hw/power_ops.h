/* Internal to hw/: the board power formulas, shared by the pricing path (power.c, cost.c), the
 * catalogue (catalog.c) and the fit (calib/fit_power.c): what is fitted is what is priced. */
#ifndef HW_POWER_OPS_H
#define HW_POWER_OPS_H

#include <math.h>

#include "hw/hw.h"

/* Board power while kernels run back to back at compute utilisation u_c (achieved FLOP/s over the
 * tensor peak) and memory utilisation u_m (achieved HBM bytes/s over the peak bandwidth): from
 * base_w (kernels resident, clocks up, little work) it saturates toward the board limit tdp_w,
 * which power management holds: tdp - (tdp - base) exp(-(compute_k u_c + memory_k u_m^2)).
 * Memory power rises convexly with u_m (a free exponent fits 2.6 and gains 0.1 point of error
 * for a pow per call); base_w when the TDP is unknown. One exp per call. */
static inline double hw_power_busy_w(const hw_power *p, double tdp_w, double u_c, double u_m) {
  if (!(tdp_w > p->base_w))
    return p->base_w > p->idle_w ? p->base_w : p->idle_w;
  double load = p->compute_k * u_c + p->memory_k * u_m * u_m;
  return tdp_w - (tdp_w - p->base_w) * exp(-load);
}

/* The average a power meter reads over repeated launches of one kernel of kernel_ns: busy for the
 * kernel, at idle_w for the launch gap between launches (launch_gap_ns). What the fit fits to the
 * measured kernel power; an iteration's kernels run back to back, its gaps are its host time. */
static inline double hw_power_replayed_w(const hw_power *p, double tdp_w, double u_c, double u_m,
                                         double kernel_ns) {
  double busy_w = hw_power_busy_w(p, tdp_w, u_c, u_m);
  return p->idle_w + (busy_w - p->idle_w) * kernel_ns / (kernel_ns + p->launch_gap_ns);
}

/* A power model fitted on one board (ref, whose TDP and idle power are ref_tdp_w, ref->idle_w)
 * moved to another board of TDP tdp_w and idle power idle_w: base_w and gap_w keep their places in
 * the dynamic range tdp - idle, the saturation (which is relative to the TDP) and the cap exponent
 * are kept; host_w is left to the caller. */
static inline hw_power hw_power_scaled(const hw_power *ref, double ref_tdp_w, double tdp_w,
                                       double idle_w) {
  hw_power p = *ref;
  double k = (tdp_w - idle_w) / (ref_tdp_w - ref->idle_w);
  p.idle_w = idle_w;
  p.base_w = idle_w + (ref->base_w - ref->idle_w) * k;
  p.gap_w = idle_w + (ref->gap_w - ref->idle_w) * k;
  return p;
}

/* Power of one iteration on one device (hw/power.c). In: one micro-batch's uncapped GPU time of
 * all stages (gpu_ns), its clock-bound part (clock_ns, see hw_roof_clock_ns), its busiest stage's
 * GPU time (stage_ns), its time outside GPU kernels (sendrecv_ns, cpu_ns; serial_ns of cpu_ns
 * never overlaps the kernels: hw_iteration_span_ns), the device's work (flops, bytes), and the
 * micro-batches of the iteration (1 but under pipeline parallelism: hw_iteration_ns).
 * Out: the micro-batch's GPU time under the cap (returned), the device's average power over the
 * whole iteration (*power_w) and the cap's stretch of the GPU time (*cap_stretch). */
double hw_power_iteration(const hw_deploy *d, double gpu_ns, double clock_ns, double stage_ns,
                          double sendrecv_ns, double cpu_ns, double serial_ns, double flops,
                          double bytes, double micro, double *power_w, double *cap_stretch);

/* An iteration's length from one micro-batch's device time (kernels and pipeline sends) and host
 * time: in series, or, when the deployment overlaps the host (hw_deploy_config.host_overlap), the
 * longer of the device time and the overlapped host work, plus the host's serial part (serial_ns,
 * at most cpu_ns); and at least the host work of all `micro` micro-batches, which one host does
 * one after another (with one micro-batch, that bound never binds). */
static inline double hw_iteration_span_ns(const hw_deploy *d, double device_ns, double cpu_ns,
                                          double serial_ns, double micro) {
  double span = !d->cfg.host_overlap
                    ? device_ns + cpu_ns
                    : (device_ns > cpu_ns - serial_ns ? device_ns : cpu_ns - serial_ns) + serial_ns;
  return micro > 1.0 && micro * cpu_ns > span ? micro * cpu_ns : span;
}

#endif
