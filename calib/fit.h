/* The fits of the built-in parameters to measured data laid out like ../shared/data: hw/'s
 * efficiency, power and systolic files, and net/'s collective file (wt_hw_fit, wt_net_fit and
 * `windtunnel calibrate --write`). */
#ifndef CALIB_FIT_H
#define CALIB_FIT_H

#include <stddef.h>
#include <stdio.h>

/* Fit every operator family for which data_dir holds data and write the parameters as an
 * efficiency.csv to out_path, with power.csv and systolic.csv beside it (out_path NULL: write
 * nothing, only evaluate the shipped parameters and check that power.csv is what the fit
 * writes). Prints to report (may be NULL) one line per dataset and operator: calibration
 * dataset=<path> op=<op> device=<accelerator> role=<fit|check> points=<n> median_abs_pct=<x>
 * p90_abs_pct=<y> followed by its parameters and worst points, then the power and systolic fits'
 * lines. Returns 0, or -1 with a message (missing data, unreadable file, unwritable output). */
int calib_fit_hw(const char *data_dir, const char *out_path, FILE *report, char *err,
                 size_t err_len);

/* The systolic (TPU-like) fit that calib_fit_hw runs last: fit the systolic parameters
 * (hw/systolic.h) to LLMServingSim's TPU v6e per-layer profile under data_dir, write them as
 * systolic.csv beside eff_out_path (NULL: evaluate only) and print the fit's error to report (may
 * be NULL). 0, or -1 with a message. */
int calib_fit_systolic(const char *data_dir, const char *eff_out_path, FILE *report, char *err,
                       size_t err_len);

/* The per-GPU power cap of perf_model.csv's h100-80gb-pcap rows, W: the capped DGX H100 SKU's
 * power less the uncapped SKU's non-GPU share, per GPU (hw/data/SOURCES.md, "Cap exponent"). */
double calib_splitwise_cap_w(void);

/* Fit every (collective, domain) with data under data_dir and write collective.csv to out_path;
 * with out_path NULL, evaluate the embedded parameters instead and compare each dataset's median
 * error with the committed figure. Prints to report (may be NULL) one line per dataset, op and
 * rank count: collective dataset=<path> op=<op> gpus=<n|all> points=<n> median_abs_pct=<x>
 * p90_abs_pct=<y> domain=<intra|inter> role=<fit|check>. Returns 0; 1 when checking and some
 * median exceeds its committed figure by more than the tolerance; -1 with a message (missing data
 * for a fit, unreadable file, unwritable output, no dataset found when checking). */
int calib_fit_collectives(const char *data_dir, const char *out_path, FILE *report, char *err,
                          size_t err_len);

#endif
