/* Named systems: a node's scale-up domain, NICs and its reference fabric, each value with its
 * source (the IDs are explained in net/SOURCES.md; derivations of the latencies are there too). */
#include <ctype.h>
#include <stddef.h>

#include "net/net.h"

/* Bytes per second from GB/s (decimal, as the datasheets and accelerators.csv give them). */
#define GBS(x) ((x)*1e9)

/* Latencies per hop, from measured small-message times (net/SOURCES.md, "Latencies"):
 *   H100/H200 NVLink: apex_plus sendrecv.csv, 2 GPUs, 0 KiB: 6.0 us over two hops (up, down).
 *   A100 NVLink:      vidur a100_dgx/send_recv.csv, devices_per_node 2, 2048 B: 8 us, two hops.
 *   H100 NIC:         vidur h100_dgx/send_recv.csv, devices_per_node 1 (two nodes), 2048 B:
 *                     17 us over NIC up and NIC down (two nodes under one leaf).
 *   A100 NIC:         vidur a100_dgx/send_recv.csv, devices_per_node 1, 2048 B: 24 us.
 *   spine:            aiconfigurator systems/gb200.yaml inter_rack_latency 5 us, over the two
 *                     spine hops a route through a spine adds. */
enum {
  LAT_NVLINK4_NS = 3000,
  LAT_NVLINK3_NS = 4000,
  LAT_NIC_NDR_NS = 8500,
  LAT_NIC_HDR_NS = 12000,
  LAT_SPINE_NS = 2500,
};

static const net_preset presets[] = {
    /* accelerators.csv A100-SXM-80GB: NVLink3 300 GB/s per direction, 8x 25 GB/s NICs (S1, S14);
     * aiconfigurator a100_sxm.yaml agrees (intra 300e9, inter 25e9). Fabric: DGX A100 SuperPOD
     * scalable unit of 20 nodes, rail-optimised (R2); spines as R1 (not from an A100 source). */
    {"dgx-a100",
     "A100-SXM-80GB",
     8,
     {0, 8, 8, GBS(25), {NET_SCALEUP_SWITCH, 8, {1, 1, 1}, GBS(300), LAT_NVLINK3_NS}},
     {NET_FABRIC_RAIL, LAT_NIC_HDR_NS, LAT_SPINE_NS, 20, 16, 1.0},
     "accelerators.csv A100-SXM-80GB (S1,S14); vidur a100_dgx send_recv; R2"},
    /* accelerators.csv H100-SXM-80GB: NVLink4 450 GB/s per direction, 8x 50 GB/s NICs (S3,
     * S14); aiconfigurator h100_sxm.yaml agrees. Fabric: DGX SuperPOD H100 RA, rail-optimised
     * scalable units of 32 nodes, 16 spines for 4 units, non-blocking (R1). */
    {"dgx-h100",
     "H100-SXM-80GB",
     8,
     {0, 8, 8, GBS(50), {NET_SCALEUP_SWITCH, 8, {1, 1, 1}, GBS(450), LAT_NVLINK4_NS}},
     {NET_FABRIC_RAIL, LAT_NIC_NDR_NS, LAT_SPINE_NS, 32, 16, 1.0},
     "accelerators.csv H100-SXM-80GB (S3,S14); apex_plus sendrecv; vidur h100_dgx; R1"},
    /* accelerators.csv H200-SXM-141GB: as H100 (S5, S6, S15); aiconfigurator h200_sxm.yaml
     * agrees. NIC latency: no H200 inter-node data, H100's. Fabric as dgx-h100 (R1). */
    {"dgx-h200",
     "H200-SXM-141GB",
     8,
     {0, 8, 8, GBS(50), {NET_SCALEUP_SWITCH, 8, {1, 1, 1}, GBS(450), LAT_NVLINK4_NS}},
     {NET_FABRIC_RAIL, LAT_NIC_NDR_NS, LAT_SPINE_NS, 32, 16, 1.0},
     "accelerators.csv H200-SXM-141GB (S5,S15); apex_plus H200 sendrecv; R1"},
    /* accelerators.csv GB200: NVLink5 900 GB/s per direction, 72 GPUs in one NVLink domain, 4 GPUs
     * and 4x 50 GB/s NICs per compute tray (S7, S9, S15). aiconfigurator gb200.yaml says 100 GB/s
     * (ConnectX-8) instead: the catalogue's ConnectX-7 is kept. No NVLink5 latency data: NVLink4's.
     * Fabric: one rail group per rack of 18 trays (an assumption, see SOURCES.md). */
    {"gb200-nvl72",
     "GB200 (per B200 GPU in NVL72)",
     4,
     {0, 4, 4, GBS(50), {NET_SCALEUP_SWITCH, 72, {1, 1, 1}, GBS(900), LAT_NVLINK4_NS}},
     {NET_FABRIC_RAIL, LAT_NIC_NDR_NS, LAT_SPINE_NS, 18, 16, 1.0},
     "accelerators.csv GB200 (S7,S9,S15); aiconfigurator gb200.yaml"},
    /* accelerators.csv TPU v5e: ICI 200 GB/s per direction over 4 ports = 50 GB/s per link; 2D
     * torus of 256 chips (16x16); 8 chips and 2x 100 Gb/s NICs per host (S17, G1). No ICI latency
     * data: NVLink4's per hop stands in. Fabric: 32 hosts (one pod) per leaf. */
    {"tpu-v5e",
     "TPU v5e",
     8,
     {0, 8, 2, GBS(12.5), {NET_SCALEUP_TORUS, 256, {16, 16, 1}, GBS(50), LAT_NVLINK4_NS}},
     {NET_FABRIC_LEAF_SPINE, LAT_NIC_NDR_NS, LAT_SPINE_NS, 32, 16, 1.0},
     "accelerators.csv TPU v5e (S17); cloud.google.com/tpu/docs/v5e (G1)"},
    /* accelerators.csv TPU v5p: ICI 600 GB/s per direction over the 6 links of a 3D torus = 100
     * GB/s per link; 4 chips per host; full 3D torus from one 4x4x4 cube (64 chips); DCN 50 Gb/s
     * per chip, taken as one 6.25 GB/s NIC share per chip (S18, G2). Latency as tpu-v5e. */
    {"tpu-v5p",
     "TPU v5p",
     4,
     {0, 4, 4, GBS(6.25), {NET_SCALEUP_TORUS, 64, {4, 4, 4}, GBS(100), LAT_NVLINK4_NS}},
     {NET_FABRIC_LEAF_SPINE, LAT_NIC_NDR_NS, LAT_SPINE_NS, 16, 16, 1.0},
     "accelerators.csv TPU v5p (S18); cloud.google.com/tpu/docs/v5p (G2)"},
    /* accelerators.csv TPU v6e: ICI 400 GB/s per direction over 4 ports = 100 GB/s per link; 2D
     * torus of 256 chips (16x16); 8 chips per host (S19, G3). No DCN figure was found: no fabric
     * (pods cannot talk to each other until a scenario gives one). Latency as tpu-v5e. */
    {"tpu-v6e",
     "TPU v6e (Trillium)",
     8,
     {0, 8, 0, 0.0, {NET_SCALEUP_TORUS, 256, {16, 16, 1}, GBS(100), LAT_NVLINK4_NS}},
     {NET_FABRIC_NONE, 0, 0, 0, 0, 1.0},
     "accelerators.csv TPU v6e (S19); cloud.google.com/tpu/docs/v6e (G3)"},
};

size_t net_preset_count(void) { return sizeof presets / sizeof presets[0]; }

const net_preset *net_preset_at(size_t i) { return i < net_preset_count() ? &presets[i] : NULL; }

static int same_name(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
  return *a == *b;
}

const net_preset *net_preset_find(const char *name) {
  if (!name)
    return NULL;
  for (size_t i = 0; i < net_preset_count(); i++)
    if (same_name(presets[i].name, name))
      return &presets[i];
  return NULL;
}
