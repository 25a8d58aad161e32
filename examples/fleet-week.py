#!/usr/bin/env python3
"""Writes examples/fleet-week.yaml (and one file per scaling policy) from SageServe's week.

SageServe (arXiv 2502.14617) plots a week of O365 prompt tokens per minute per model and tier,
summed over its three US regions; ../shared/data/traces/sageserve/derived/ holds the hourly means
digitised from that figure (see its SOURCE.md). Each model and tier becomes one stream: its curve
of prompt tokens per minute, divided by the mean prompt length of the length source (the Azure
2023 conversation trace the streams sample their lengths from), by 60 and by --scale, is a Poisson
rate curve of hourly points.

Usage: examples/fleet-week.py                  # writes fleet-week.yaml and fleet-week-{reactive,forecast}.yaml
       examples/fleet-week.py --check          # fails unless the committed files are what it writes
       examples/fleet-week.py --print POLICY   # prints one (none, reactive or forecast)
       examples/fleet-week.py --one-router > fleet-week-one-router.yaml

--one-router prints examples/fleet-week.yaml without its regions (one router in front of the same
instances, the trace path made absolute).
"""
import argparse
import csv
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SAGESERVE = os.path.join(HERE, "..", "..", "shared", "data", "traces", "sageserve", "derived")
CURVES = os.path.join(SAGESERVE, "arrival_prompt_tokens_per_min_hourly_mean.csv")
ALLOCATION = os.path.join(SAGESERVE, "o365_gpu_allocation_2024-06-12_from_gpu_usage_pkl.csv")
LENGTHS = os.path.join(HERE, "traces", "AzureLLMInferenceTrace_conv.csv")
SCENARIO = os.path.join(HERE, "fleet-week.yaml")
POLICIES = ("none", "reactive", "forecast")

# The divisor of every curve: the three policies' weeks run in under five minutes each here.
SCALE = 16
# SageServe's models A, C, D (B, BLOOM-176B, is not in the catalogue: it has a plain GELU FFN
# and ALiBi, which the cost model does not price). tp: the smallest of SageServe's profiled
# configurations (perf_model.csv: Llama-2-70B TP 2/4/8; upstream Llama-3.1-8B-tp-{2,4} and
# Llama-3.2-3B-tp-{2,4}). capacity: requests/s one instance serves within the SLO, the forecast's
# `capacity`: three quarters of the highest rate (tried in steps: A 0.4/s, C and D 2/s) at which one
# instance meets the SLO (TTFT 2 s, TPOT 200 ms) for every request of a 10-minute Poisson run with
# the conversation lengths (README, "Fleet week"): A 1.6/s, C 28/s, D 42/s; A's 1.2/s is the
# single-model week's. peak_per_instance: requests/s per instance at the model's hourly peak when
# no instance scales (a choice: the single-model week's 7 instances for its 5.8/s peak, 0.83/s, for
# A; the capacity for C and D, whose peaks are far below one instance's, so that the floor of one
# instance per region decides).
MODELS = [
    {"key": "A", "name": "llama70b", "model": "Llama-2-70B", "tp": 2,
     "peak_per_instance": 0.83, "capacity": 1.2},
    {"key": "C", "name": "llama8b", "model": "Llama-3.1-8B", "tp": 2,
     "peak_per_instance": 21.0, "capacity": 21.0},
    {"key": "D", "name": "llama3b", "model": "Llama-3.2-3B", "tp": 2,
     "peak_per_instance": 31.5, "capacity": 31.5},
]
TIERS = [("IW(prod)", "interactive"), ("NIW(dev)", "batch")]
# NIW deadline: SageServe's generate_random_trace.py gives its batched requests an SLA of
# 24 * 60 * 60 s (and its instances serve dev requests by arrival + 0.8 x SLA).
BATCH_DEADLINE = "24h"
REGIONS = [  # (name, O365 regions added up, latencies to the later regions)
    ("westus", ("westus", "westus2", "westus3"), {"centralus": "20ms", "eastus": "35ms"}),
    ("centralus", ("centralus",), {"eastus": "12ms"}),
    ("eastus", ("eastus", "eastus2"), {}),
]


def region_gpus():
    """O365's GPUs per region on 2024-06-12 (each model and location's most frequent count: the
    03:00 rows are incomplete), the regions of REGIONS added up."""
    per = {}
    with open(ALLOCATION) as f:
        for row in csv.DictReader(f):
            key = (row["Model"], row["Location"])
            per.setdefault(key, {}).setdefault(float(row["GPUSum"]), 0)
            per[key][float(row["GPUSum"])] += 1
    by_location = {}
    for (model, location), counts in per.items():
        gpus = max(counts, key=lambda g: (counts[g], g))
        by_location[location] = by_location.get(location, 0) + gpus
    return [int(sum(by_location.get(l, 0) for l in locs)) for _, locs, _ in REGIONS]


def split(count, shares):
    """count instances over the regions by shares, at least one each, largest remainder."""
    assert count >= len(shares)
    rest = count - len(shares)
    exact = [rest * s / sum(shares) for s in shares]
    out = [1 + int(e) for e in exact]
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - int(exact[i])), i))
    for i in order[: count - sum(out)]:
        out[i] += 1
    return out


def curves():
    with open(CURVES) as f:
        rows = list(csv.DictReader(f))
    with open(LENGTHS) as f:
        prompts = [int(row["ContextTokens"]) for row in csv.DictReader(f)]
    return rows, sum(prompts) / len(prompts)


def scenario(policy):
    rows, mean_prompt = curves()
    shares = region_gpus()
    out = []
    w = out.append
    fleet = []
    for m in MODELS:
        rates = {}
        for column, tier in TIERS:
            col = f"{m['key']}_{column}"
            rates[tier] = [float(r[col]) / 60.0 / mean_prompt / SCALE for r in rows]
        peak = max(a + b for a, b in zip(rates["interactive"], rates["batch"]))
        count = max(len(REGIONS), math.ceil(peak / m["peak_per_instance"]))
        requests = sum(sum(v) for v in rates.values()) * 3600
        fleet.append(dict(m, rates=rates, peak=peak, count=count, requests=requests,
                          per_region=split(count, shares)))
    total = sum(f["requests"] for f in fleet)
    total_gpus = sum(f["count"] * f["tp"] for f in fleet)
    names = ", ".join(f"{s} {g:,}" for (n, _, _), s, g in
                      zip(REGIONS, [r[0] for r in REGIONS], shares))
    w("# Generated by examples/fleet-week.py: edit the script, not this file.")
    w("#")
    w("# A week of fleet traffic per model and tier over three US regions, after SageServe (Jaiswal et")
    w("# al., \"SageServe: Optimizing LLM Serving on Cloud Data Centers with Forecast Aware")
    w("# Auto-Scaling\", arXiv 2502.14617, POMACS 2025): its week of O365 load curves for models A")
    w("# (Llama-2-70B), C (Llama-3.1-8B) and D (Llama-3.2-3B), interactive (IW, prod) and batch (NIW,")
    w("# dev) tiers apart, six Poisson streams with (prompt, output) lengths drawn from the Azure 2023")
    w("# conversation trace, served by one deployment per model on H100s in westus, centralus and eastus.")
    w("# Model B (BLOOM-176B) is left out: not in the catalogue (plain GELU FFN, ALiBi).")
    w("#")
    w("# The curves: ../shared/data/traces/sageserve/derived/arrival_prompt_tokens_per_min_hourly_mean.csv")
    w("# (hourly means of prompt tokens per minute summed over the regions, digitised from SageServe's")
    w(f"# figure; see its SOURCE.md), divided by the conversation trace's mean prompt ({mean_prompt:.1f}")
    w(f"# tokens), by 60 and by {SCALE} (a choice: it keeps each policy's week under five minutes on")
    w(f"# two cores): {total:,.0f} requests expected, " +
      ", ".join(f"{f['key']} {f['requests']:,.0f}" for f in fleet) + ".")
    w("# Batch requests carry a deadline of 24 h, the SLA SageServe's generate_random_trace.py gives")
    w("# batched requests. Model D's interactive curve stops after about 1.7 days in SageServe's figure.")
    w("#")
    w("# Instances: TP 2 for every model, the smallest of SageServe's profiled configurations")
    w("# (perf_model.csv for A; its Llama-3.1-8B-tp-2 and Llama-3.2-3B-tp-2 profiles for C and D).")
    w("# Counts are a choice: the model's hourly peak (both tiers) over a rate per instance (A 0.83/s,")
    w("# as the earlier single-model week's 7 instances for 5.8/s; C and D their capacity, below), at")
    w("# least one per region: " +
      "; ".join(f"{f['key']} {f['count']} ({f['peak']:.2f}/s peak)" for f in fleet) +
      f"; {total_gpus} GPUs.")
    w("# Each model's instances are split over the regions in proportion to O365's GPU allocation")
    w("# there on 2024-06-12 (sageserve/derived/o365_gpu_allocation_*.csv, westus, westus2 and")
    w("# westus3 added up, as eastus and eastus2, each model and location at its most frequent hourly")
    w(f"# count: {names}), which also gives the origin shares (a stand-in for")
    w("# traffic, which SageServe does not publish per region). The allocation names O365's own models")
    w("# (gpt4, dv3, ...), not A-D, so it cannot give the split between models.")
    w("# One-way latencies: westus-eastus 35 ms, half the 72 ms upper")
    w("# end of round trips between Azure's North American regions (\"Azure network round-trip latency")
    w("# statistics\", learn.microsoft.com/azure/networking/azure-network-latency); centralus (Iowa)")
    w("# 20 ms from westus and 12 ms from eastus, shared in proportion to distance: an estimate.")
    w("#")
    if policy == "none":
        w("# Policy: no scaling, every instance on for the week. fleet-week-reactive.yaml and")
        w("# fleet-week-forecast.yaml are the same week with each deployment scaled (README, \"Fleet week\").")
    elif policy == "reactive":
        w("# Policy: reactive (HPA) scaling of every deployment by one global controller, target 4")
        w("# requests outstanding and waiting per instance (README, \"Fleet week\").")
    else:
        w("# Policy: forecast-driven (Holt-Winters) scaling of every deployment by one global controller,")
        w("# capacity per instance per model (README, \"Fleet week\"). The controller forecasts the")
        w("# whole arrival stream and gives each deployment a share by its `max` (serving/controller.c):")
        w("# it does not yet see arrivals per model. Capacities: three quarters of the highest rate at")
        w("# which one instance met the SLO for every request of a 10-minute Poisson run with the")
        w("# conversation lengths (A 1.6/s, C 28/s, D 42/s; README, \"Fleet week\").")
    w("cluster:")
    w("  nodes:")
    for f in fleet:
        for (region, _, _), n in zip(REGIONS, f["per_region"]):
            w(f"    - {{name: {region}-{f['name']}, accelerator: H100-SXM-80GB, accelerators_per_node: "
              f"{f['tp']}, count: {n}, nodes_per_rack: {n}, region: {region}}}")
    w("deployments: # in the nodes' order: each deployment's instances fill its three node types")
    for f in fleet:
        line = (f"  - {{name: {f['name']}, model: {f['model']}, accelerator: H100-SXM-80GB, "
                f"tp: {f['tp']}, count: {f['count']}")
        if policy == "reactive":
            line += (f", scaling: {{initial: {f['count']}, min: 1, "
                     "controller: {kind: reactive, target: 4}}")
        elif policy == "forecast":
            line += (f", scaling: {{initial: {f['count']}, min: 1, "
                     f"controller: {{kind: forecast, capacity: {f['capacity']:g}/s}}}}")
        w(line + "}")
    w("router:")
    w("  policy: least_requests")
    w("  dispatch_latency: 1ms")
    w("  pods: {policy: least_requests, latency: 1ms}  # a pod per model and region")
    w("regions:")
    w("  policy: spillover")
    w("  spillover: 4                # outstanding per instance at home before sending elsewhere")
    w("  report_interval: 1s")
    w("  list:")
    for (region, _, lat), share in zip(REGIONS, shares):
        extra = ", latency: {" + ", ".join(f"{k}: {v}" for k, v in lat.items()) + "}" if lat else ""
        w(f"    - {{name: {region}, share: {share}{extra}}}")
    w("workload:")
    w("  streams:")
    for f in fleet:
        for column, tier in TIERS:
            w(f"    # {f['key']}_{column}: prompt tokens per minute / 60 / {mean_prompt:.1f} / {SCALE}")
            w(f"    - model: {f['model']}")
            w(f"      tier: {tier}")
            if tier == "batch":
                w(f"      deadline: {BATCH_DEADLINE}")
            w("      synthetic:")
            w("        arrival: poisson")
            w("        empirical: {trace: traces/AzureLLMInferenceTrace_conv.csv}")
            w("        rate_curve:")
            for hour, rate in enumerate(f["rates"][tier]):
                w(f"          - {{at: {hour}h, rate: {rate:.4f}/s}}")
            w(f"          - {{at: {len(rows)}h, rate: 0/s}}  # the week ends")
    w("slo: {ttft: 2s, tpot: 200ms}")
    w("power: {interval: 1min}")
    w("simulation: {seed: 1}")
    w("output:")
    w(f"  path: {os.path.basename(path_of(policy))[:-5]}.h5")
    w("  iterations: aggregated")
    w("  interval: 10min")
    return "\n".join(out) + "\n"


def path_of(policy):
    return SCENARIO if policy == "none" else os.path.join(HERE, f"fleet-week-{policy}.yaml")


def one_router():
    """fleet-week.yaml with the regions section, the node types' regions and router.pods left out."""
    out, skipping = [], False
    with open(SCENARIO) as f:
        for line in f:
            if re.match(r"^[a-z_]+:", line):
                skipping = line.startswith("regions:")
            if skipping or re.match(r"^  pods:", line):
                continue
            line = re.sub(r", region: [A-Za-z0-9_-]+", "", line)
            line = line.replace("trace: traces/", "trace: " + os.path.join(HERE, "traces") + "/")
            out.append(line)
    sys.stdout.write("# Generated by examples/fleet-week.py --one-router: do not edit.\n")
    sys.stdout.write("".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="exit 1 unless the committed files are what this script writes")
    ap.add_argument("--print", choices=POLICIES, help="print one policy's file instead")
    ap.add_argument("--one-router", action="store_true",
                    help="print fleet-week.yaml without regions")
    args = ap.parse_args()
    if args.one_router:
        one_router()
        return
    if args.print:
        sys.stdout.write(scenario(args.print))
        return
    stale = []
    for policy in POLICIES:
        text = scenario(policy)
        path = path_of(policy)
        if args.check:
            try:
                with open(path) as f:
                    if f.read() != text:
                        stale.append(path)
            except FileNotFoundError:
                stale.append(path)
        else:
            with open(path, "w") as f:
                f.write(text)
    if stale:
        sys.exit("not what examples/fleet-week.py writes (run it): " + ", ".join(stale))


if __name__ == "__main__":
    main()
