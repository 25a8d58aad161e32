#!/usr/bin/env python3
"""Reads a Windtunnel timeline into pandas: every table is one DataFrame, loaded in one call, and
the report's headline figures are recomputed from the rows exactly as `windtunnel report` does
(the same operations in the same order, so the numbers are identical to the last bit).

Usage:
  python3 examples/analyse.py run.h5          a summary and a few views of the run
  python3 examples/analyse.py --json run.h5   the headline figures as JSON, the keys and values of
                                              `windtunnel report run.h5 --json --no-wall`
Needs h5py, numpy and pandas (Debian: apt-get install python3-h5py python3-pandas). The schema is
documented in serving/TIMELINE.md.
"""
import json
import math
import sys

import h5py
import numpy as np
import pandas as pd

SCHEMA, SCHEMA_VERSION = "windtunnel.timeline", 9
TABLES = ("requests", "iterations", "instance_intervals", "instances", "kv_tiers", "transfers",
          "nodes", "power", "links", "link_utilisation", "engine")


def table(f, name):
    """One table as a DataFrame (one call); fixed-size strings become str."""
    df = pd.DataFrame(f[name][:])
    for column in df.columns[df.dtypes == object]:
        df[column] = df[column].str.decode("utf-8")
    return df


def load(path):
    """The root attributes (a dict) and every table (a dict of DataFrames) of a timeline."""
    with h5py.File(path, "r") as f:
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
        if attrs.get("schema") != SCHEMA or attrs.get("schema_version") != SCHEMA_VERSION:
            sys.exit(f"{path}: schema {attrs.get('schema')} v{attrs.get('schema_version')}; "
                     f"this script reads {SCHEMA} v{SCHEMA_VERSION}")
        if attrs.get("complete") != 1:
            sys.exit(f"{path}: incomplete timeline (the run did not finish)")
        return attrs, {name: table(f, name) for name in TABLES if name in f}


def in_order_sum(values):
    """A float sum in row order, as the report's loops add (np.sum adds pairwise, and pandas'
    groupby sums compensate: both differ in the last bits). Integer sums are exact in any order."""
    values = np.asarray(values, dtype=np.float64)
    return float(np.cumsum(values)[-1]) if len(values) else 0.0


def distribution(ns):
    """Mean and nearest-rank percentiles of integer nanoseconds, in ms (util/stats.c)."""
    ns = np.sort(np.asarray(ns, dtype=np.int64))
    n = len(ns)
    if n == 0:
        return {"mean": 0, "p50": 0, "p90": 0, "p95": 0, "p99": 0, "max": 0, "count": 0}
    ms = 1e-6

    def rank(q):
        return float(ns[max(math.ceil(q * float(n)), 1) - 1]) * ms

    return {"mean": float(int(ns.sum())) / float(n) * ms, "p50": rank(0.50), "p90": rank(0.90),
            "p95": rank(0.95), "p99": rank(0.99), "max": float(ns[-1]) * ms, "count": n}


def headline(attrs, t):
    """The report's figures (serving/report.c), from the attributes and the tables."""
    req, inst = t["requests"], t["instances"].sort_values("instance", kind="stable")
    sim_ns = int(attrs["simulated_ns"])
    simulated_s = float(sim_ns) * 1e-9
    sim_s = simulated_s if simulated_s > 0 else 1.0
    done = req[req["fate"] == 0]
    ttft_ns = done["first_token_ns"] - done["arrival_ns"]
    long = done[done["output_tokens"] > 1]
    tpot_ns = (long["done_ns"] - long["first_token_ns"]) // (long["output_tokens"] - 1)
    tpot_of_done = pd.Series(0, index=done.index, dtype=np.int64)
    tpot_of_done[long.index] = tpot_ns
    good = int(((ttft_ns <= attrs["slo_ttft_ns"]) &
                ((done["output_tokens"] <= 1) | (tpot_of_done <= attrs["slo_tpot_ns"]))).sum())
    scheduled = req[req["first_scheduled_ns"] >= 0]
    in_tokens, out_tokens = int(done["input_tokens"].sum()), int(done["output_tokens"].sum())
    n = len(inst)
    busy = inst["busy_ns"].to_numpy(np.float64) / float(sim_ns) if sim_ns > 0 else np.zeros(n)
    total = inst["kv_blocks_total"].to_numpy(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        kv = np.where((total > 0) & (sim_ns > 0),
                      inst["kv_block_ns"].to_numpy() / (total * float(sim_ns)), 0.0)
        peak = np.where(total > 0, inst["kv_blocks_peak"].to_numpy(np.float64) / total, 0.0)
    out = {
        "requests": {"total": len(req), "completed": len(done), "unfinished": len(req) - len(done),
                     "preemptions": int(req["preemptions"].sum()),
                     "skipped_rows": int(attrs["skipped_rows"]),
                     "dropped_arrivals": int(attrs["dropped_arrivals"])},
        "ttft_ms": distribution(ttft_ns), "tpot_ms": distribution(tpot_ns),
        "e2e_ms": distribution(done["done_ns"] - done["arrival_ns"]),
        "queue_ms": distribution(scheduled["first_scheduled_ns"] - scheduled["dispatch_ns"]),
        "throughput": {"input_tok_s": in_tokens / sim_s, "output_tok_s": out_tokens / sim_s,
                       "req_s": len(done) / sim_s},
        "slo": {"ttft_ms": float(attrs["slo_ttft_ns"]) * 1e-6,
                "tpot_ms": float(attrs["slo_tpot_ns"]) * 1e-6,
                # over all requests: an unfinished one missed its SLO
                "attainment": good / len(req) if len(req) else 0, "goodput_req_s": good / sim_s},
        "instances": {"count": n, "utilisation_mean": in_order_sum(busy / float(n)) if n else 0,
                      "utilisation_min": float(min(busy.min(), 1.0)) if n else 0,
                      "utilisation_max": float(max(busy.max(), 0.0)) if n else 0,
                      "kv_use_mean": in_order_sum(kv / float(n)) if n else 0,
                      "kv_use_peak": float(max(peak.max(), 0.0)) if n else 0,
                      "iterations": int(inst["iterations"].sum())},
    }
    # KV transfers (disaggregated): network time and the wait for room on the decode side.
    tr = t["transfers"].sort_values("id", kind="stable")
    served = done[(done["decode_instance"] >= 0) & done["id"].isin(tr["id"])]
    moved = tr[tr["id"].isin(served["id"])]
    decode_ns = int((served["done_ns"] - served["first_token_ns"]).sum())
    out["kv_transfer_ms"] = distribution(tr["end_ns"] - tr["start_ns"])
    out["kv_wait_ms"] = distribution(tr["start_ns"] - tr["ready_ns"])
    out["kv"] = {"transfers": len(tr), "bytes": in_order_sum(tr["bytes"]),
                 "share_of_decode": int((moved["end_ns"] - moved["start_ns"]).sum()) / decode_ns
                 if decode_ns > 0 else 0,
                 "link_chunks": int(t["links"]["chunks"].sum())}
    out["prefix_cache"] = {"prompt_tokens": int(scheduled["input_tokens"].sum()),
                           "hit_tokens": int(scheduled["prefix_hit_tokens"].sum()),
                           "tier_hit_tokens": int(scheduled["tier_hit_tokens"].sum())}
    busy_ns = int(inst["busy_ns"].sum())
    out["kv_tier"] = {"swaps_out": int(inst["swaps_out"].sum()),
                      "swaps_in": int(inst["swaps_in"].sum()),
                      "load_bytes": in_order_sum(inst["tier_load_bytes"]),
                      "store_bytes": in_order_sum(inst["tier_store_bytes"]),
                      "share_of_busy": int(inst["tier_ns"].sum()) / busy_ns if busy_ns > 0 else 0}
    # Energy and power (serving/report.c): each /power row's energy in whole nJ (rounded half away
    # from zero, as llround), summed per interval of [0, simulated_ns) for the site and each rack;
    # integers add in any order. A mean power over an interval is its energy over its length (the
    # last may be short).
    pue, interval_ns = float(attrs["pue"]), int(attrs["power_interval_ns"])
    pw = t["power"]
    nodes = t["nodes"]
    racks_alloc = int(nodes["rack"].max()) + 1 if len(nodes) else 0
    intervals = (sim_ns - 1) // interval_ns + 1 if sim_ns > 0 else 0
    v = pw["energy_j"].to_numpy(np.float64) * 1e9
    whole = np.trunc(v)
    nj = (whole + (v - whole >= 0.5) - (v - whole <= -0.5)).astype(np.int64)
    k = (pw["start_ns"] // interval_ns).to_numpy()
    rack = pw["rack"].to_numpy()
    site_nj = np.zeros(intervals, dtype=np.int64)
    rack_nj = np.zeros((max(racks_alloc, 1), intervals), dtype=np.int64)
    np.add.at(site_nj, k, nj)
    np.add.at(rack_nj, (rack, k), nj)
    racks = int(rack.max()) + 1 if len(pw) else 0
    starts = np.arange(intervals, dtype=np.int64) * interval_ns
    length_s = np.where(starts + interval_ns < sim_ns, interval_ns, sim_ns - starts) * 1e-9
    it_j = float(int(nj.sum())) * 1e-9
    energy_j = it_j * pue
    site_w = site_nj * 1e-9 / length_s * pue
    rack_w = rack_nj[:racks] * 1e-9 / length_s
    rack_avg = rack_nj[:racks].sum(axis=1) * 1e-9 / simulated_s if simulated_s > 0 else \
        np.zeros(racks)
    # each node's host_w, the whole run, and its CPUs' busy energy (schema 8)
    hosts_j = in_order_sum(nodes["host_w"]) * simulated_s + in_order_sum(nodes["host_cpu_j"])
    out["energy"] = {"total_j": energy_j, "it_j": it_j, "accelerators_j": it_j - hosts_j,
                     "hosts_j": hosts_j,
                     "per_output_token_j": energy_j / out_tokens if out_tokens else 0, "pue": pue}
    budget_rack, budget_site = attrs["rack_budget_w"], attrs["site_budget_w"]
    out["power"] = {
        "avg_w": energy_j / simulated_s if simulated_s > 0 else 0,
        "peak_w": float(max(site_w.max(initial=0), 0)), "racks": racks,
        "rack_avg_w_max": float(max(rack_avg.max(initial=0), 0)),
        "rack_peak_w": float(max(rack_w.max(initial=0), 0)),
        "rack_intervals_over_budget": int((rack_w > budget_rack).sum()) if budget_rack > 0 else 0,
        "site_intervals_over_budget": int((site_w > budget_site).sum()) if budget_site > 0 else 0}
    # Cost (serving/report.c summarise_cost), in the report's order of operations; a timeline
    # written before the cost attributes, or a price missing (NaN), gives null.
    def money(x):
        return float(x) if math.isfinite(x) else None
    priced = "accelerators_usd_per_h" in attrs
    accel_h = float(attrs["accelerators_usd_per_h"]) if priced else math.nan
    kwh = float(attrs["energy_usd_per_kwh"]) if priced else math.nan
    energy_h = out["power"]["avg_w"] * 1e-3 * kwh
    fleet_h = accel_h + energy_h
    tin, tout = out["throughput"]["input_tok_s"], out["throughput"]["output_tok_s"]
    out["cost"] = {
        "accelerators": int(attrs["accelerators"]) if priced else 0,
        "accelerators_usd_per_h": money(accel_h), "energy_usd_per_kwh": money(kwh),
        "energy_usd_per_h": money(energy_h), "fleet_usd_per_h": money(fleet_h),
        "run_usd": money(fleet_h * simulated_s / 3600),
        "usd_per_m_input_tokens": money(fleet_h / (tin * 3600) * 1e6 if tin > 0 else math.nan),
        "usd_per_m_output_tokens": money(fleet_h / (tout * 3600) * 1e6 if tout > 0 else math.nan),
        "unpriced": str(attrs["unpriced_accelerators"]) if priced else
        "unknown (a timeline without prices)"}
    out["sim"] = {"simulated_s": simulated_s, "events": int(attrs["events"]),
                  "ranks": int(attrs["ranks"]), "threads": int(attrs["threads"])}
    out["complete"] = bool(attrs["complete"])
    if not out["complete"]:  # a run stopped by a signal or --max-wall
        out["end_reached_s"] = int(attrs["end_reached_ns"]) * 1e-9
        out["stop_reason"] = str(attrs["stop_reason"])
    return out


def views(path, attrs, t):
    """A few things the report does not print, as pandas one-liners."""
    h = headline(attrs, t)
    print(f"{path}: {attrs['ranks']} ranks x {attrs['threads']} threads, "
          f"{attrs['simulated_s']:.1f} s simulated in {attrs['wall_s']:.2f} s")
    print(f"{h['requests']['completed']} of {h['requests']['total']} requests completed; TTFT "
          f"p50/p99 {h['ttft_ms']['p50']:.1f}/{h['ttft_ms']['p99']:.1f} ms, goodput "
          f"{h['slo']['goodput_req_s']:.2f} req/s, {h['energy']['per_output_token_j']:.3f} J per "
          f"output token")
    req = t["requests"]
    done = req[req["fate"] == 0].assign(ttft_ms=lambda d: (d.first_token_ns - d.arrival_ns) / 1e6)
    print("slowest first tokens:")
    print(done.nlargest(3, "ttft_ms")[["id", "instance", "input_tokens", "ttft_ms"]]
          .to_string(index=False))
    inst = t["instances"].assign(busy=lambda d: d.busy_ns / attrs["simulated_ns"])
    print("per deployment:")
    print(inst.groupby("deployment").agg(instances=("instance", "size"), busy=("busy", "mean"),
                                         iterations=("iterations", "sum"),
                                         energy_kj=("energy_j", lambda e: e.sum() / 1e3))
          .to_string())
    power = t["power"]
    site_kw = power.groupby("start_ns")["avg_w"].sum() * attrs["pue"] / 1e3
    print(f"site power over {len(site_kw)} intervals: mean {site_kw.mean():.1f} kW, "
          f"peak {site_kw.max():.1f} kW at {site_kw.idxmax() / 1e9:.0f} s")
    if len(t["transfers"]):
        tr = t["transfers"].assign(network_ms=lambda d: (d.end_ns - d.start_ns) / 1e6)
        print(f"{len(tr)} KV transfers, network p50/p99 {tr.network_ms.quantile(0.5):.2f}/"
              f"{tr.network_ms.quantile(0.99):.2f} ms")


def main(argv):
    as_json = "--json" in argv
    paths = [a for a in argv if a != "--json"]
    if len(paths) != 1:
        sys.exit(__doc__)
    attrs, tables = load(paths[0])
    if as_json:
        print(json.dumps(headline(attrs, tables)))
    else:
        views(paths[0], attrs, tables)


if __name__ == "__main__":
    main(sys.argv[1:])
