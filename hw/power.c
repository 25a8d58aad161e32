/* The accelerator power model: each device's board power over one iteration from the work it did,
 * and the clock a power cap forces, with the time that clock costs. The model and its numbers are
 * in hw/data/SOURCES.md ("Power"). */
#include <math.h>

#include "hw/hw.h"
#include "hw/power_ops.h"

double hw_idle_power_w(const hw_deploy *d) { return d->accel.power.idle_w; }

/* While its own stage's kernels run, back to back, a device draws hw_power_busy_w at the
 * utilisations of the iteration's GPU time. The rest of the iteration (host overhead, other
 * pipeline stages, sends) it waits at gap_w: its clocks stay up between the iterations of a busy
 * engine, and Argonne's whole-run power says what that costs (hw/data/SOURCES.md, "Whole-run
 * power").
 *
 * A cap below that draw lowers the clock to the fraction f of its uncapped value at which the
 * draw meets the cap: P(f) = idle_w + (P - idle_w) f^cap_exponent, so
 * f = ((cap - idle_w) / (P - idle_w))^(1 / cap_exponent). Clock-bound time (the compute and serial
 * parts of each kernel's roofline, hw_roof_clock_ns) stretches by 1 / f; memory-bound time, fixed
 * kernel times, links and the host do not. The board's own limit, tdp_w, bounds the draw but
 * stretches nothing: the fitted efficiencies were measured under it. */
double hw_power_iteration(const hw_deploy *d, double gpu_ns, double clock_ns, double stage_ns,
                          double sendrecv_ns, double cpu_ns, double serial_ns, double flops,
                          double bytes, double micro, double *power_w, double *cap_stretch) {
  const hw_accel *a = &d->accel;
  const hw_power *p = &a->power;
  *cap_stretch = 1.0;
  double busy_w = p->idle_w, wait_w = p->gap_w;
  if (gpu_ns > 0.0) {
    double per_s = 1e9 / gpu_ns;
    busy_w = hw_power_busy_w(p, a->tdp_w, flops * per_s / a->peak_bf16_flops,
                             bytes * per_s / a->hbm_bytes_per_s);
    double cap_w = d->cfg.power_cap_w;
    if (cap_w > 0.0 && busy_w > cap_w) {
      double f = pow((cap_w - p->idle_w) / (busy_w - p->idle_w), 1.0 / p->cap_exponent);
      double capped_ns = gpu_ns + clock_ns * (1.0 / f - 1.0);
      *cap_stretch = capped_ns / gpu_ns;
      stage_ns *= *cap_stretch;
      gpu_ns = capped_ns;
      busy_w = cap_w;
    }
  }
  /* Each micro-batch passes the device's stage once, and the host works for each. */
  double total_ns = hw_iteration_span_ns(d, gpu_ns + sendrecv_ns, cpu_ns, serial_ns, micro);
  double busy_ns = fmin(micro * stage_ns, total_ns);
  *power_w = total_ns > 0.0 ? (busy_w * busy_ns + wait_w * (total_ns - busy_ns)) / total_ns
                            : p->idle_w;
  /* The host's CPUs draw above their idle while the engine's host work runs (hw/host.h). */
  if (total_ns > 0.0 && p->host_cpu_busy_w > 0.0)
    *power_w += p->host_cpu_busy_w * fmin(micro * cpu_ns, total_ns) / total_ns;
  return gpu_ns;
}
