/* Profiles of one device: which catalogue accelerator a profile folder's name means, and the fit
 * of that accelerator's efficiencies to every table of a folder laid out as Vidur, LLMServingSim or
 * AIConfigurator lay out their profiles (`windtunnel calibrate DIR [--device NAME] [--write]`). */
#ifndef CALIB_DEVICE_H
#define CALIB_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "hw/hw.h"

/* The catalogue accelerator a folder or file name means ("a100_dgx", "h100_sxm_gemm_perf.csv",
 * "RTXPRO6000_meta-llama_Llama-3.1-8B", "rtx_pro_6000", "B200", "NVIDIA H100 80GB HBM3"): its
 * leading words (cut where a letter or digit is followed by anything else), longest first, with
 * and without a vendor word, looked up (ignoring case and anything but letters and digits) in the
 * alias table (calib/device.c), then as a catalogue name, then as the start of exactly one
 * catalogue name (words with a digit only). NULL when nothing maps. */
const hw_accel *calib_device_resolve(const hw_catalog *cat, const char *name);

/* The parts of an LLMServingSim profile folder's name "<HW>_<org>_<model>[_tp<N>]": false when the
 * name has not that shape. tp is 0 when the name does not say. */
bool calib_lss_folder(const char *name, char *hw, size_t hw_len, char *hf_id, size_t hf_id_len,
                      unsigned *tp);

/* Why the file rel under data_dir is no dataset of the whole-data evaluation (calib_calibrate), in
 * words, into why: what it is when it has a known role without timings to price (metadata, a
 * decode-skew or NCCL table, ...), or for a table of one of the three layouts the device it
 * profiles and the command that fits it; "" when nothing more can be said. */
void calib_device_describe(const hw_catalog *cat, const char *data_dir, const char *rel, char *why,
                           size_t why_len);

typedef struct calib_device_opts {
  const char *dir;    /* the profile folder */
  const char *device; /* every table's device; NULL: named by each table's path */
  /* NULL, or a file in efficiency.csv's layout whose rows of each device replace its catalogue
   * efficiencies before the fit: "before" is then that file's error on these tables. */
  const char *efficiency;
  bool write;            /* write the fitted efficiencies */
  const char *out_path;  /* with write: only the fitted devices' rows into this file */
  const char *catalogue; /* with write and no out_path: replace their rows in this file
                            (hw/data/efficiency.csv) */
} calib_device_opts;

/* Read every table under o->dir that one of the three layouts gives (lines "profile: <file>
 * device=<accel> layout=<layout> <op>=<points> ..." on out), list each file it cannot map with the
 * reason ("not mapped: <file>: <why>"), fit each device's efficiencies to its points, operator by
 * operator, from its current ones ("device-fit device=<accel> op=<op> points=<n> before: ...
 * after: ..."), and with o->write write them. Returns 0; 1 (with a message) when no table was
 * recognised; -1 with a message (unknown --device, out of memory, unwritable output). */
int calib_device_fit(const calib_device_opts *o, FILE *out, char *err, size_t err_len);

#endif
