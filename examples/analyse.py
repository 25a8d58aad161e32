#!/usr/bin/env python3
"""Reads a Windtunnel timeline with h5py: the summary, per-request latencies, a per-instance view,
energy per token and the site's power series, and KV-transfer statistics of disaggregated runs.

Usage: python3 examples/analyse.py windtunnel.h5     (needs h5py and numpy: apt-get install python3-h5py)
The schema is documented in serving/TIMELINE.md.
"""
import sys

import h5py
import numpy as np


def power_and_energy(f, done):
    """Energy per output token and the site power series, from /power (schema version 2)."""
    if "power" not in f or len(f["power"]) == 0:
        return
    pue = f.attrs.get("pue", 1.0)
    power = f["power"][:]
    # One row per node and interval: the site's power in an interval is the sum over nodes.
    starts, site_slot = np.unique(power["start_ns"], return_inverse=True)
    site_w = np.bincount(site_slot, weights=power["avg_w"]) * pue
    it_energy_j = power["energy_j"].sum()  # exact: the rows integrate piecewise-constant power
    out_tokens = int(done["output_tokens"].sum())
    peak = int(np.argmax(site_w))
    print(f"energy {it_energy_j * pue / 3.6e6:.3f} kWh (PUE {pue:.2f}), "
          f"{it_energy_j * pue / max(out_tokens, 1):.3f} J per output token; "
          f"{done['energy_j'].sum() / max(out_tokens, 1):.3f} J of it in the requests' "
          f"iterations (IT, without idle and host power)")
    print(f"site power over {len(starts)} intervals of {f.attrs['power_interval_ns'] / 1e9:g} s: "
          f"mean {site_w.mean() / 1e3:.1f} kW, peak {site_w[peak] / 1e3:.1f} kW "
          f"at {starts[peak] / 1e9:.0f} s")
    racks, rack_slot = np.unique(power["rack"], return_inverse=True)
    rack_w = np.zeros((len(racks), len(starts)))
    np.add.at(rack_w, (rack_slot, site_slot), power["avg_w"])
    busiest = int(np.argmax(rack_w.max(axis=1)))
    print(f"{len(racks)} racks; the busiest, rack {racks[busiest]}, peaks at "
          f"{rack_w[busiest].max() / 1e3:.1f} kW (IT)")


def kv_transfers(f, done):
    """KV-cache transfers from prefill to decode instances, from /transfers (disaggregated only)."""
    if "transfers" not in f or len(f["transfers"]) == 0:
        return
    transfers = np.sort(f["transfers"][:], order="id")
    network_ms = (transfers["end_ns"] - transfers["start_ns"]) / 1e6
    wait_ms = (transfers["start_ns"] - transfers["ready_ns"]) / 1e6
    print(f"{len(transfers)} KV transfers, {transfers['bytes'].sum() / 1e9:.2f} GB: network "
          f"p50/p99 {np.percentile(network_ms, 50):.2f}/{np.percentile(network_ms, 99):.2f} ms, "
          f"waited for decode room p50/p99 {np.percentile(wait_ms, 50):.2f}/"
          f"{np.percentile(wait_ms, 99):.2f} ms")
    # The transfers' share of the decode phase (first token to done) of the requests they served.
    served = done[np.isin(done["id"], transfers["id"])]
    matched = transfers[np.isin(transfers["id"], served["id"])]
    decode_ns = (served["done_ns"] - served["first_token_ns"]).sum()
    if decode_ns > 0:
        share = (matched["end_ns"] - matched["start_ns"]).sum() / decode_ns
        print(f"  {100 * share:.1f}% of the completed requests' decode time; "
              f"{served['decode_prefix_hit_tokens'].sum()} prompt tokens were already cached at "
              f"the decode side and not sent")


def main(path):
    with h5py.File(path, "r") as f:
        if f.attrs.get("complete") != 1:
            sys.exit(f"{path}: incomplete timeline (the run did not finish)")
        print(f"{path}: schema {f.attrs['schema']} v{f.attrs['schema_version']}, "
              f"{f.attrs['ranks']} ranks x {f.attrs['threads']} threads, "
              f"{f.attrs['simulated_s']:.1f} s simulated in {f.attrs['wall_s']:.2f} s")
        summary = dict(f["summary"].attrs)
        print(f"TTFT p50/p99 {summary['ttft_ms_p50']:.1f}/{summary['ttft_ms_p99']:.1f} ms, "
              f"goodput {summary['goodput_req_s']:.2f} req/s")

        requests = np.sort(f["requests"][:], order="id")  # row order depends on the rank count
        done = requests[requests["fate"] == 0]
        ttft_ms = (done["first_token_ns"] - done["arrival_ns"]) / 1e6
        print(f"{len(done)} completed requests; slowest first token: request "
              f"{done['id'][np.argmax(ttft_ms)]} at {ttft_ms.max():.1f} ms")

        instances = np.sort(f["instances"][:], order="instance")
        busy = instances["busy_ns"] / f.attrs["simulated_ns"]
        roles = ("mixed", "prefill", "decode")
        for row, share in zip(instances, busy):
            print(f"  instance {row['instance']:4d} {row['deployment'].decode():>12s} "
                  f"{roles[row['role']]:>7s} busy {100 * share:5.1f}%  "
                  f"{row['iterations']:8d} iterations  "
                  f"KV peak {row['kv_blocks_peak']}/{row['kv_blocks_total']}")

        power_and_energy(f, done)
        kv_transfers(f, done)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "windtunnel.h5")
