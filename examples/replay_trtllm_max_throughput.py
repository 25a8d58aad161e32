#!/usr/bin/env python3
"""Replays TensorRT-LLM 1.0 max-throughput rows (../shared/data/e2e/trtllm_perf_overview,
v1.0_max_throughput.csv: all requests at t=0, fixed lengths) on H100 and prints measured against
predicted output tokens/s (README, "Engine profiles"). FP8 weights, activations and KV cache (the
ModelOpt FP8 checkpoints; the fp8 KV cache is an assumption), KV fraction 0.95. EXTRA is YAML added
to the deployment, e.g. $'    engine: trtllm\\n'; nothing: the default pricing.
Usage: replay_trtllm_max_throughput.py WINDTUNNEL DATA_DIR [EXTRA]"""
import csv, os, re, subprocess, sys, tempfile

# (model in the table, Windtunnel's model, tp, isl, osl)
ROWS = [('Llama 3.1 8B', 'Llama-3.1-8B', 1, 1000, 1000), ('Llama 3.1 8B', 'Llama-3.1-8B', 1, 128, 2048),
        ('Llama 3.1 8B', 'Llama-3.1-8B', 1, 2048, 128), ('Llama 3.3 70B', 'Llama-3.1-70B', 2, 1000, 1000)]


def main():
    wt = sys.argv[1]
    table = os.path.join(sys.argv[2], 'e2e', 'trtllm_perf_overview', 'v1.0_max_throughput.csv')
    extra = sys.argv[3] if len(sys.argv) > 3 else ''
    rows = list(csv.DictReader(open(table)))
    with tempfile.TemporaryDirectory() as tmp:
        for model, wt_model, tp, isl, osl in ROWS:
            row = next(r for r in rows if r['model'] == model and r['gpu'].startswith('H100') and
                       r['precision'] == 'FP8' and int(r['tp']) == tp and int(r['pp']) == 1 and
                       int(r['isl']) == isl and int(r['osl']) == osl)
            with open(os.path.join(tmp, 'trace.csv'), 'w') as f:
                f.write('arrival_time_ns,input_toks,output_toks\n')
                f.write(('0,%d,%d\n' % (isl, osl)) * int(row['num_requests']))
            with open(os.path.join(tmp, 'run.yaml'), 'w') as f:
                f.write('deployments:\n  - model: %s\n    accelerator: H100-SXM-80GB\n    tp: %d\n'
                        '    dtype: {weights: fp8, kv: fp8}\n    gpu_memory_utilization: 0.95\n%s'
                        'workload:\n  trace: trace.csv\n' % (wt_model, tp, extra))
            out = subprocess.run([wt, 'run', os.path.join(tmp, 'run.yaml'), '-o', os.path.join(tmp, 'run.h5')],
                                 check=True, capture_output=True, text=True).stdout
            predicted = float(re.search(r'([\d.]+) output tok/s', out).group(1))
            measured = float(row['output_tokens_per_s'])
            print('validation dataset=trtllm_perf_overview case=%s_tp%d_%d_%d metric=output_tok_s measured=%.0f '
                  'predicted=%.0f err_pct=%+.1f' % (wt_model, tp, isl, osl, measured, predicted,
                                                     100.0 * (predicted / measured - 1.0)))


if __name__ == '__main__':
    main()
