#!/usr/bin/env python3
"""Checks that a file is Chrome trace-event JSON as Perfetto and chrome://tracing read it, and that
it holds what `windtunnel trace` promises. Usage: check_trace.py TRACE.json REPORT.json
[--iterations N] [--window FROM_US TO_US] [--instances LIST]. REPORT.json is `windtunnel report
--json` of the same timeline. Exits 1 with the first problem found."""
import json
import sys


def fail(message):
    print(f"check_trace: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    args = sys.argv[1:]
    path, report_path = args[0], args[1]
    iterations = window = instances = None
    i = 2
    while i < len(args):
        if args[i] == "--iterations":
            iterations = int(args[i + 1])
            i += 2
        elif args[i] == "--window":
            window = (float(args[i + 1]), float(args[i + 2]))
            i += 3
        elif args[i] == "--instances":
            instances = {int(x) for x in args[i + 1].split(",")}
            i += 2
        else:
            fail(f"unknown argument {args[i]}")
    with open(path) as f:
        trace = json.load(f)  # strict JSON: raises on any syntax error
    with open(report_path) as f:
        report = json.load(f)
    if not isinstance(trace, dict) or not isinstance(trace.get("traceEvents"), list):
        fail("the top level is not an object with a traceEvents array")
    events = trace["traceEvents"]
    if not events:
        fail("no events")
    simulated_us = report["sim"]["simulated_s"] * 1e6
    open_async = {}  # (cat, id) -> stack of (name, ts)
    flows = {}
    counts = {}
    requests_seen = set()
    threads = {}  # (pid, tid) -> thread name
    for n, e in enumerate(events):
        for field, kind in (("ph", str), ("name", str), ("pid", int), ("tid", int)):
            if not isinstance(e.get(field), kind):
                fail(f"event {n} lacks {field} ({kind.__name__}): {e}")
        if not isinstance(e.get("ts"), (int, float)):
            fail(f"event {n} lacks a numeric ts: {e}")
        ph, ts = e["ph"], e["ts"]
        counts[ph] = counts.get(ph, 0) + 1
        if ph not in "XbeCMsf" or len(ph) != 1:
            fail(f"event {n} has an unexpected phase {ph!r}")
        # ts in microseconds: within the run (a ns reading would be 1000x past its end).
        if ph != "M" and not (0 <= ts <= simulated_us + 1e-3):
            fail(f"event {n} at {ts} us is outside the run (0 to {simulated_us} us)")
        if ph == "M" and e["name"] == "thread_name":
            threads[(e["pid"], e["tid"])] = e["args"]["name"]
        if ph == "X":
            if not isinstance(e.get("dur"), (int, float)) or e["dur"] < 0:
                fail(f"slice {n} has no duration: {e}")
            if (e["pid"], e["tid"]) not in threads:
                fail(f"slice {n} is on a thread with no name: {e}")
            a = e["args"]
            if a["batch"] != a["prefill_seqs"] + a["decode_seqs"] or a["batch"] < 1:
                fail(f"slice {n}'s batch composition does not add up: {a}")
            if window and not (ts <= window[1] and ts + e["dur"] >= window[0]):
                fail(f"slice {n} lies outside --from/--to: {e}")
            if instances is not None and e["tid"] - 1 not in instances:
                fail(f"slice {n} is of an instance not asked for: {e}")
        if ph in "be":
            key = (e.get("cat"), e.get("id"))
            if key[0] is None or key[1] is None:
                fail(f"async event {n} lacks cat or id: {e}")
            stack = open_async.setdefault(key, [])
            if ph == "b":
                stack.append((e["name"], ts))
                if e["cat"] == "request" and e["name"].startswith("request "):
                    requests_seen.add(e["id"])
            else:
                if not stack or stack[-1][0] != e["name"]:
                    fail(f"async end {n} matches no open begin: {e}")
                if ts < stack[-1][1]:
                    fail(f"async slice {e['name']} {key} ends before it begins")
                stack.pop()
        if ph == "C":
            if not e.get("args") or not all(
                isinstance(v, (int, float)) for v in e["args"].values()
            ):
                fail(f"counter {n} has no numeric values: {e}")
        if ph in "sf":
            flows.setdefault((e.get("cat"), e.get("id")), []).append(ph)
    for key, stack in open_async.items():
        if stack:
            fail(f"async slices never ended: {key} {stack}")
    for key, phases in flows.items():
        if sorted(phases) != ["f", "s"]:
            fail(f"flow {key} is not one start and one finish: {phases}")
    if iterations is not None and counts.get("X", 0) != iterations:
        fail(f"{counts.get('X', 0)} iteration slices, the timeline has {iterations}")
    total = report["requests"]["total"]
    if window is None and instances is None and len(requests_seen) != total:
        fail(f"{len(requests_seen)} requests as async slices, the timeline has {total}")
    if report["kv"]["transfers"] and window is None and instances is None:
        if sum(1 for k in open_async if k[0] == "kv_transfer") != report["kv"]["transfers"]:
            fail("not every KV transfer is an async slice")
    if not counts.get("C"):
        fail("no counters (KV use, power)")
    print(
        f"{path}: valid; {len(events)} events: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        + f"; {len(requests_seen)} requests, {len(flows)} flows"
    )


main()
