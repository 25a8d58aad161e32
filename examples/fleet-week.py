#!/usr/bin/env python3
"""Writes the rate curve of examples/fleet-week.yaml from SageServe's week of load curves.

SageServe (arXiv 2502.14617) plots a week of O365 prompt tokens per minute per model and tier,
summed over its three US regions; ../shared/data/traces/sageserve/derived/ holds the hourly means
digitised from that figure (see its SOURCE.md). A curve of prompt tokens per minute becomes a
request rate by dividing by the mean prompt length of the length source (the Azure 2023
conversation trace that fleet-week.yaml samples its lengths from) and by 60, then by a scale
(SageServe's fleet is thousands of GPUs; --scale 8 keeps the week under five minutes here).

Usage: examples/fleet-week.py [--scale N] [--columns C_IW(prod),C_NIW(dev)] > curve.yaml
"""
import argparse
import csv
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CURVES = os.path.join(HERE, "..", "..", "shared", "data", "traces", "sageserve", "derived",
                      "arrival_prompt_tokens_per_min_hourly_mean.csv")
LENGTHS = os.path.join(HERE, "traces", "AzureLLMInferenceTrace_conv.csv")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=8.0, help="divide the rate by this")
    ap.add_argument("--columns", default="A_IW(prod),A_NIW(dev)",
                    help="the curves to add up (model A is Llama-2-70B in SageServe)")
    ap.add_argument("--curves", default=CURVES)
    args = ap.parse_args()
    with open(LENGTHS) as f:
        prompts = [int(row["ContextTokens"]) for row in csv.DictReader(f)]
    mean_prompt = sum(prompts) / len(prompts)
    columns = args.columns.split(",")
    with open(args.curves) as f:
        rows = list(csv.DictReader(f))
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        sys.exit(f"{args.curves}: no column {missing[0]} (columns: {', '.join(rows[0])})")
    print(f"# {', '.join(columns)} of {os.path.basename(args.curves)}, prompt tokens per minute "
          f"/ 60 / {mean_prompt:.1f} mean prompt tokens (Azure 2023 conversation) / {args.scale:g}")
    print("rate_curve:")
    for row in rows:
        tokens_per_min = sum(float(row[c]) for c in columns)
        rate = tokens_per_min / 60.0 / mean_prompt / args.scale
        print(f"  - {{at: {int(row['hour'])}h, rate: {rate:.4f}/s}}")
    print(f"  - {{at: {len(rows)}h, rate: 0/s}}  # the week ends")


if __name__ == "__main__":
    main()
