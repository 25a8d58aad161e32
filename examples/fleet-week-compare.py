#!/usr/bin/env python3
"""Runs the fleet week under each scaling policy and prints the README's "Fleet week" table.

Usage: examples/fleet-week-compare.py [--windtunnel build/windtunnel] [--out DIR] [--no-run]
                                      [--set key=value ...]

Runs examples/fleet-week.yaml (no scaling), fleet-week-reactive.yaml and fleet-week-forecast.yaml
one after the other at one rank (timelines in --out, default fleet-week-runs/), then prints per
policy: GPU-hours per model and in all (`windtunnel report --json`, which counts every instance
from start to stop, loading and draining included), and per tier the SLO attainment with its
misses (a request misses when its TTFT or TPOT passes the scenario's slo, as the report counts,
or when it did not finish), TTFT p99 and, for batch, deadlines met; and each run's wall time.
--no-run reads the timelines already in --out (its wall time is then the engine's, from the
report). --set passes overrides to every run (e.g. the batch tier's router.batch once it exists).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
POLICIES = [("none", "fleet-week.yaml", "no scaling"),
            ("reactive", "fleet-week-reactive.yaml", "reactive (HPA, 4 per instance)"),
            ("forecast", "fleet-week-forecast.yaml", "forecast (Holt-Winters)")]
TIERS = ("interactive", "batch")


def tier_slo(path, ttft_ms, tpot_ms):
    """Per tier: requests, SLO misses (unfinished ones included)."""
    with h5py.File(path, "r") as f:
        r = f["requests"][...]
    done = r["fate"] == 0
    ttft = r["first_token_ns"] - r["arrival_ns"]
    out = r["output_tokens"].astype(np.int64)
    tpot = np.where(out > 1, (r["done_ns"] - r["first_token_ns"]) // np.maximum(out - 1, 1), 0)
    good = done & (ttft <= ttft_ms * 1e6) & (tpot <= tpot_ms * 1e6)
    return {name: (int((r["service_tier"] == k).sum()), int(((r["service_tier"] == k) & ~good).sum()))
            for k, name in enumerate(TIERS)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--windtunnel", default=os.path.join(HERE, "..", "build", "windtunnel"))
    ap.add_argument("--out", default="fleet-week-runs")
    ap.add_argument("--no-run", action="store_true")
    ap.add_argument("--set", action="append", default=[], dest="sets")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for key, scenario, label in POLICIES:
        h5 = os.path.join(args.out, key + ".h5")
        wall = None
        if not args.no_run:
            cmd = [args.windtunnel, "run", os.path.join(HERE, scenario), "-o", h5, "--quiet"]
            for s in args.sets:
                cmd += ["--set", s]
            start = time.monotonic()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            wall = time.monotonic() - start
        rep = json.loads(subprocess.run([args.windtunnel, "report", h5, "--json"], check=True,
                                        capture_output=True, text=True).stdout)
        gpu_h = {m["name"]: m["gpu_hours_used"] + m["gpu_hours_idle"] + m["gpu_hours_wasted"]
                 for m in rep["models"]}
        tiers = {t["name"]: t for t in rep["tiers"]}
        slo = tier_slo(h5, rep["slo"]["ttft_ms"], rep["slo"]["tpot_ms"])
        rows.append((label, gpu_h, tiers, slo, wall if wall is not None else rep["sim"]["wall_s"]))
    models = list(rows[0][1])
    base = sum(rows[0][1].values())
    head = (["policy", "GPU-hours", "vs no scaling"] + [f"GPU-h {m}" for m in models] +
            [f"{t}: SLO attained (misses), TTFT p99" for t in TIERS] + ["batch deadlines met", "wall"])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for label, gpu_h, tiers, slo, wall in rows:
        total = sum(gpu_h.values())
        cells = [label, f"{total:,.1f}", "" if total == base else f"{100 * (total / base - 1):+.1f}%"]
        cells += [f"{gpu_h[m]:,.1f}" for m in models]
        for t in TIERS:
            n, miss = slo[t]
            cells.append(f"{100 * (n - miss) / n:.5f}% ({miss:,}), "
                         f"{tiers[t]['ttft_ms']['p99']:.0f} ms" if n else "-")
        b = tiers.get("batch", {})
        cells.append(f"{b.get('deadline_met', 0):,} / {b.get('deadline_requests', 0):,}")
        cells.append(f"{wall:.0f} s")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
