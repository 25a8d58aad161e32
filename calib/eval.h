/* Internal to calib/: the evaluation of each measured source with the built-in catalogue, in the
 * order calib_calibrate (calib/calibrate.h) chains them. Each appends its rows to out in a fixed
 * order, a row of no points with a note for a table that is absent, unreadable or unpriced, and
 * returns 0, or -1 with a message (out of memory). */
#ifndef CALIB_EVAL_H
#define CALIB_EVAL_H

#include <stddef.h>

#include "calib/rows.h"
#include "hw/hw.h"

/* The efficiency fit's kernel, network and host tables (calib/eval_kernels.c). */
int calib_eval_kernels(const char *data_dir, const hw_catalog *cat, calib_rows *out, char *err,
                       size_t err_len);
/* LLMServingSim's per-layer profiles (calib/eval_profiles.c). */
int calib_eval_llmservingsim(const char *data_dir, const hw_catalog *cat, calib_rows *out,
                             char *err, size_t err_len);
/* SplitwiseSim's iteration times (calib/eval_splitwise.c). */
int calib_eval_splitwise(const char *data_dir, const hw_catalog *cat, calib_rows *out, char *err,
                         size_t err_len);
/* Argonne's whole-run GPU power (calib/eval_power.c). */
int calib_eval_argonne_power(const char *data_dir, const hw_catalog *cat, calib_rows *out,
                             char *err, size_t err_len);
/* The collective fit's NCCL tables with the embedded collective parameters, one row per dataset,
 * collective and domain over all rank counts (calib/fit_collectives.c). */
int calib_eval_collectives(const char *data_dir, calib_rows *out, char *err, size_t err_len);

#endif
