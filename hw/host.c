/* Host power by part: hw/data/host_power.csv, read on demand, and the CPUs' draw with the host
 * work that runs (hw/host.h; the numbers' sources are in hw/data/SOURCES.md, "Host power"). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hw/embedded.h"
#include "hw/host.h"
#include "hw/names.h"
#include "util/csv.h"

static int read_u32(const util_csv *c, int col, uint32_t *out, char *err, size_t err_len) {
  double v;
  if (util_csv_double(c, col, 0.0, &v, err, err_len) != 0)
    return -1;
  if (!(v >= 0.0 && v <= 1e6 && v == floor(v))) {
    snprintf(err, err_len, "hw/data/host_power.csv: %s is not a count", util_csv_get(c, col));
    return -1;
  }
  *out = (uint32_t)v;
  return 0;
}

int hw_host_find(const char *device, hw_host *out, char *err, size_t err_len) {
  util_csv c;
  if (util_csv_open_text(&c, hw_data_host_power_csv, hw_data_host_power_csv_len,
                         "hw/data/host_power.csv", err, err_len) != 0)
    return -1;
  static const char *const cols_named[] = {"device",    "accels", "cpu_sockets",  "cpu_cores",
                                           "cpu_tdp_w", "nics",   "nic_optics_w", "source"};
  enum { N = sizeof cols_named / sizeof cols_named[0] };
  int col[N], rc = 1, found = 0;
  for (int i = 0; i < N; i++)
    if ((col[i] = util_csv_col(&c, cols_named[i])) < 0) {
      snprintf(err, err_len, "hw/data/host_power.csv: header lacks %s", cols_named[i]);
      rc = -1;
    }
  while (rc == 1 && !found && (rc = util_csv_next(&c, err, err_len)) == 1) {
    if (!hw_same_name(util_csv_get(&c, col[0]), device))
      continue;
    hw_host h;
    memset(&h, 0, sizeof h);
    snprintf(h.device, sizeof h.device, "%s", util_csv_get(&c, col[0]));
    snprintf(h.source, sizeof h.source, "%s", util_csv_get(&c, col[7]));
    if (read_u32(&c, col[1], &h.accels, err, err_len) != 0 ||
        read_u32(&c, col[2], &h.cpu_sockets, err, err_len) != 0 ||
        read_u32(&c, col[3], &h.cpu_cores, err, err_len) != 0 ||
        util_csv_double(&c, col[4], 0.0, &h.cpu_tdp_w, err, err_len) != 0 ||
        read_u32(&c, col[5], &h.nics, err, err_len) != 0 ||
        util_csv_double(&c, col[6], 0.0, &h.nic_optics_w, err, err_len) != 0) {
      rc = -1;
      break;
    }
    *out = h;
    found = 1;
  }
  util_csv_close(&c);
  return rc < 0 ? -1 : found;
}

double hw_host_cpu_busy_w(const hw_host *h, double busy_cores) {
  double cores = (double)h->cpu_sockets * h->cpu_cores;
  if (!(cores > 0.0) || !(busy_cores > 0.0))
    return 0.0;
  return (busy_cores < cores ? busy_cores : cores) * h->cpu_tdp_w / h->cpu_cores;
}

hw_host_parts hw_host_parts_at(const hw_host *h, double idle_host_w, double busy_cores) {
  hw_host_parts p = {.cpu_busy_w = hw_host_cpu_busy_w(h, busy_cores),
                     .nic_optics_w = h->nics * h->nic_optics_w};
  p.rest_w = idle_host_w - p.nic_optics_w;
  p.total_w = p.cpu_busy_w + p.nic_optics_w + p.rest_w;
  return p;
}
