#!/usr/bin/env python3
"""Replays the DataCrunch SGLang runs of Llama-3.3-70B bf16 at TP 4 on H200 (priced as Llama-3.1-70B;
../shared/data/e2e/datacrunch_h200_sglang, random dataset 1024/1024: lengths uniform in [1, 1024],
drawn here with seed 1, not bench_serving's draws) and prints measured against predicted output
tokens/s, median TTFT and median inter-token latency (predicted: the median of per-request TPOT, an
approximation). Offline (all at t=0) and Poisson 1, 4 and 8 req/s. EXTRA is YAML added to the
deployment, e.g. $'    engine: sglang\\n' (README, "Engine profiles").
Usage: replay_datacrunch_sglang.py WINDTUNNEL [EXTRA]"""
import csv, io, os, random, statistics, subprocess, sys, tempfile

# (case, requests, rate (0: all at t=0), measured output tok/s, median TTFT ms, median ITL ms)
CASES = [('offline', 3000, 0.0, 4521, None, None), ('rate1', 300, 1.0, 537, 85.7, 13.64),
         ('rate4', 1200, 4.0, 2048, 106.1, 19.42), ('rate8', 2400, 8.0, 3515, 191.4, 70.76)]


def line(case, metric, measured, predicted):
    print('validation dataset=datacrunch_h200_sglang case=%s metric=%s measured=%.2f predicted=%.2f '
          'err_pct=%+.1f' % (case, metric, measured, predicted, 100.0 * (predicted / measured - 1.0)))


def main():
    wt, extra = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ''
    with tempfile.TemporaryDirectory() as tmp:
        for case, n, rate, tok_s, ttft, itl in CASES:
            rng, t = random.Random(1), 0.0
            with open(os.path.join(tmp, 'trace.csv'), 'w') as f:
                f.write('arrival_time_ns,input_toks,output_toks\n')
                for _ in range(n):
                    t += rng.expovariate(rate) if rate else 0.0
                    f.write('%d,%d,%d\n' % (int(t * 1e9), rng.randint(1, 1024), rng.randint(1, 1024)))
            with open(os.path.join(tmp, 'run.yaml'), 'w') as f:
                f.write('deployments:\n  - model: Llama-3.1-70B\n    accelerator: H200-SXM-141GB\n    tp: 4\n'
                        '%sworkload:\n  trace: trace.csv\n' % extra)
            h5 = os.path.join(tmp, 'run.h5')
            subprocess.run([wt, 'run', os.path.join(tmp, 'run.yaml'), '-o', h5, '--quiet'], check=True,
                           stdout=subprocess.DEVNULL)
            out = subprocess.run([wt, 'report', h5, '--csv', 'requests'], check=True, capture_output=True,
                                 text=True).stdout
            req = list(csv.DictReader(io.StringIO(out)))
            span_s = (max(int(r['done_ns']) for r in req) - min(int(r['arrival_ns']) for r in req)) / 1e9
            line(case, 'output_tok_s', tok_s, sum(int(r['output_tokens']) for r in req) / span_s)
            if ttft:
                line(case, 'median_ttft_ms', ttft,
                     statistics.median((int(r['first_token_ns']) - int(r['arrival_ns'])) / 1e6 for r in req))
                line(case, 'median_itl_ms', itl,
                     statistics.median((int(r['done_ns']) - int(r['first_token_ns'])) / 1e6 /
                                       (int(r['output_tokens']) - 1) for r in req if int(r['output_tokens']) > 1))


if __name__ == '__main__':
    main()
