/* Fitting the collective cost model's parameters (net/collective_model.h) to measured NCCL tables
 * laid out like ../shared/data, and checking the committed parameters against them. */
#ifndef NET_FIT_H
#define NET_FIT_H

#include <stddef.h>
#include <stdio.h>

/* Fit every (collective, domain) with data under data_dir and write collective.csv to out_path;
 * with out_path NULL, evaluate the embedded parameters instead and compare each dataset's median
 * error with the committed figure. Prints to report (may be NULL) one line per dataset, op and
 * rank count: collective dataset=<path> op=<op> gpus=<n|all> points=<n> median_abs_pct=<x>
 * p90_abs_pct=<y> domain=<intra|inter> role=<fit|check>. Returns 0; 1 when checking and some
 * median exceeds its committed figure by more than the tolerance; -1 with a message (missing data
 * for a fit, unreadable file, unwritable output, no dataset found when checking). */
int net_fit(const char *data_dir, const char *out_path, FILE *report, char *err, size_t err_len);

#endif
