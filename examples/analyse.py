#!/usr/bin/env python3
"""Reads a Windtunnel timeline with h5py: the summary, per-request latencies and a per-instance view.

Usage: python3 examples/analyse.py windtunnel.h5     (needs h5py and numpy: apt-get install python3-h5py)
The schema is documented in io/TIMELINE.md.
"""
import sys

import h5py
import numpy as np


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
        for row, share in zip(instances, busy):
            print(f"  instance {row['instance']:4d} {row['deployment'].decode():>12s} "
                  f"busy {100 * share:5.1f}%  {row['iterations']:8d} iterations  "
                  f"KV peak {row['kv_blocks_peak']}/{row['kv_blocks_total']}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "windtunnel.h5")
