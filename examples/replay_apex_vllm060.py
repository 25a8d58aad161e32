#!/usr/bin/env python3
"""Replays the APEX+ vLLM 0.6.0 Llama-3.1-70B runs on H100 (../shared/data/e2e/apex_plus_h100_vllm_sglang)
and prints measured against predicted mean server-side TTFT and token-weighted TPOT, the metrics
vLLM 0.6.0's Prometheus histograms give (README, "Engine profiles"). EXTRA is YAML added to the
deployment, e.g. $'    engine: vllm-v0\\n'; nothing: the default pricing.
Usage: replay_apex_vllm060.py WINDTUNNEL DATA_DIR [EXTRA]"""
import csv, gzip, io, os, subprocess, sys, tempfile

# (result log, tp, max_model_len when given: vLLM 0.6.0 then runs without chunked prefill)
RUNS = [('llama_creation_025_8TP', 8, 0), ('llama_lmsys_025_8TP', 8, 0),
        ('llama_summarization_025_8TP', 8, 0), ('llama_creation_05_4TP', 4, 0),
        ('llama_lmsys_05_4TP', 4, 0), ('llama_lmsys_05_2TP', 2, 24272),
        ('llama_creation_05_8TP', 8, 0), ('llama_lmsys_05_8TP', 8, 0),
        ('llama_summarization_05_8TP', 8, 0)]


def main():
    wt, data = sys.argv[1], os.path.join(sys.argv[2], 'e2e', 'apex_plus_h100_vllm_sglang')
    extra = sys.argv[3] if len(sys.argv) > 3 else ''
    served = list(csv.DictReader(gzip.open(os.path.join(data, 'per_request_served_tokens.csv.gz'), 'rt')))
    summary = {os.path.basename(r['result_file']).replace('_validation', '')[:-4]: r
               for r in csv.DictReader(open(os.path.join(data, 'runs_summary.csv')))}
    with tempfile.TemporaryDirectory() as tmp:
        for name, tp, max_model_len in RUNS:
            rows = sorted((r for r in served if r['result_file'] == name + '.txt' and r['start_offset_ns']),
                          key=lambda r: int(r['start_offset_ns']))
            with open(os.path.join(tmp, 'trace.csv'), 'w') as f:
                f.write('arrival_time_ns,input_toks,output_toks\n')
                for r in rows:
                    f.write('%s,%s,%d\n' % (r['start_offset_ns'], r['served_prompt_tokens'],
                                            max(1, int(r['served_output_tokens']))))
            sched = ('    scheduler: {chunked_prefill: false, max_num_batched_tokens: %d}\n' % max_model_len
                     if max_model_len else '')
            with open(os.path.join(tmp, 'run.yaml'), 'w') as f:
                f.write('deployments:\n  - model: Llama-3.1-70B\n    accelerator: H100-SXM-80GB\n'
                        '    tp: %d\n    gpu_memory_utilization: 0.97\n%s%sworkload:\n  trace: trace.csv\n'
                        % (tp, extra, sched))
            h5 = os.path.join(tmp, 'run.h5')
            subprocess.run([wt, 'run', os.path.join(tmp, 'run.yaml'), '-o', h5, '--quiet'], check=True,
                           stdout=subprocess.DEVNULL)
            out = subprocess.run([wt, 'report', h5, '--csv', 'requests'], check=True, capture_output=True,
                                 text=True).stdout
            req = list(csv.DictReader(io.StringIO(out)))
            ttft = sum(int(r['first_token_ns']) - int(r['dispatch_ns']) for r in req) / len(req) / 1e6
            tpot = (sum(int(r['done_ns']) - int(r['first_token_ns']) for r in req) /
                    sum(int(r['output_tokens']) - 1 for r in req) / 1e6)
            s = summary[name]
            for metric, measured, predicted in (('ttft_ms', float(s['ttft_mean_s_this_trace']) * 1e3, ttft),
                                                ('tpot_ms', float(s['tpot_s_this_trace']) * 1e3, tpot)):
                print('validation dataset=apex_plus_h100_vllm_sglang case=%s metric=%s measured=%.2f '
                      'predicted=%.2f err_pct=%+.1f' % (name, metric, measured, predicted,
                                                         100.0 * (predicted / measured - 1.0)))


if __name__ == '__main__':
    main()
