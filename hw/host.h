/* A node's host power by part (hw/host.c): the parts hw/data/host_power.csv names with a source,
 * the CPUs' draw rising with the host work the serving engine runs, and the rest of the node's
 * measured idle host power (power.csv host_w) that no sourced part explains. */
#ifndef HW_HOST_H
#define HW_HOST_H

#include <stddef.h>
#include <stdint.h>

/* One node type's host, from hw/data/host_power.csv. A part without a source reads 0. */
typedef struct hw_host {
  char device[64];      /* the node's accelerator */
  uint32_t accels;      /* accelerators per node the row describes */
  uint32_t cpu_sockets; /* CPUs */
  uint32_t cpu_cores;   /* cores per CPU */
  double cpu_tdp_w;     /* per CPU: its sustained all-core draw */
  uint32_t nics;        /* scale-out NICs */
  double nic_optics_w;  /* per NIC: its transceiver's typical draw; 0 without a source */
  char source[96];      /* IDs of hw/data/SOURCES.md, "Host power" */
} hw_host;

/* What a node's host draws, by part, at the wall; the parts add up to total_w. */
typedef struct hw_host_parts {
  double cpu_busy_w; /* the CPUs' draw above their idle, from the host work that runs */
  double nic_optics_w;
  double rest_w; /* the measured idle host power less the sourced parts: CPU idle, DRAM, NIC
                  * chips, NVSwitch and baseboard, fans, storage, PSU losses */
  double total_w;
} hw_host_parts;

/* The host_power.csv row of accelerator `device` (case and punctuation ignored). Returns 1 and
 * fills *out when there is one, 0 when there is none, -1 with a message on a malformed file. */
int hw_host_find(const char *device, hw_host *out, char *err, size_t err_len);

/* The CPUs' draw above idle with busy_cores of all cores running host work (clamped to
 * [0, sockets x cores]): each busy core adds its share of the TDP, tdp / cores. The idle share of
 * these CPUs has no source, so it is taken as 0: an upper bound on the rise, which reaches
 * sockets x tdp when every core is busy. */
double hw_host_cpu_busy_w(const hw_host *h, double busy_cores);

/* The host's parts with busy_cores cores running host work, for a node whose idle host power
 * (all parts, measured) is idle_host_w: total_w = idle_host_w + cpu_busy_w. */
hw_host_parts hw_host_parts_at(const hw_host *h, double idle_host_w, double busy_cores);

/* Per accelerator, what the host's CPUs add while its engine's host work runs: one busy core per
 * accelerator (the engine runs one worker process per GPU). */
static inline double hw_host_busy_w_per_accel(const hw_host *h) {
  return h->cpu_cores > 0 ? h->cpu_tdp_w / h->cpu_cores : 0.0;
}

#endif
