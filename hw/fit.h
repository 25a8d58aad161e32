/* Fitting the cost model's efficiency parameters to measured kernel, collective and host-overhead
 * data laid out like ../shared/data, and reporting the fit's error per dataset and operator. */
#ifndef HW_FIT_H
#define HW_FIT_H

#include <stddef.h>
#include <stdio.h>

#include "hw/calibrate.h"

/* Fit every operator family for which data_dir holds data, write the parameters as an
 * efficiency.csv to out_path (NULL: write nothing, only evaluate), and print to report (may be
 * NULL) one line per dataset and operator: calibration dataset=<path> op=<op> device=<accelerator>
 * role=<fit|check> points=<n> median_abs_pct=<x> p90_abs_pct=<y> followed by its worst points.
 * Returns 0, or -1 with a message (missing data, unreadable file, unwritable output). */
int hw_fit(const char *data_dir, const char *out_path, FILE *report, char *err, size_t err_len);

/* Evaluate the shipped efficiencies on every table hw_fit reads (fits and checks alike), one row
 * per dataset file and operator appended to out (Vidur's operator profiles one row per model
 * file); an absent or malformed table gives a row with points 0 and a note. Returns 0, or -1 with
 * a message (out of memory). */
int hw_fit_evaluate(const char *data_dir, hw_cal_rows *out, char *err, size_t err_len);

/* The per-GPU power cap of perf_model.csv's h100-80gb-pcap rows, W: the capped DGX H100 SKU's
 * power less the uncapped SKU's non-GPU share, per GPU (hw/data/SOURCES.md, "Cap exponent"). */
double hw_fit_splitwise_cap_w(void);

#endif
