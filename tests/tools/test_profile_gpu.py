#!/usr/bin/env python3
"""tools/profile_gpu.py without a GPU: its --dry-run, and its writer fed by a stub timing function
(arithmetic, not measurements) whose files `windtunnel calibrate DIR --device NAME` must recognise
table by table and fit. Usage: test_profile_gpu.py WINDTUNNEL_BINARY."""
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools"))
import profile_gpu  # noqa: E402

WINDTUNNEL = None
VIDUR_MLP = os.path.join(REPO, "tests", "calib", "data", "vidur", "data", "profiling", "compute",
                         "a100", "meta-llama", "Meta-Llama-3-8B", "mlp.csv")
VIDUR_ALL_REDUCE = os.path.join(REPO, "tests", "calib", "data", "vidur", "data", "profiling",
                                "network", "a100_dgx", "all_reduce.csv")


def stub_times(kind, shape):
    """Stub timings (ms) from a made-up roofline: a fixed 5 us, 100 TFLOP/s and 1 TB/s. They
    exercise the writer and calibrate's readers; they are no device's measurements."""
    def roof(flops, nbytes):
        return [0.005 + flops / 1e11 + nbytes / 1e9] * 3
    if kind == "mlp":
        t, h = shape["num_tokens"], shape["n_embd"]
        f = shape["n_expanded_embd"] // shape["tp"]
        g = lambda n, k: roof(2 * t * n * k, 2 * (t * k + n * k + t * n))
        e = lambda width: roof(0, 4 * t * width)
        return {"emb": e(h), "input_layernorm": e(h), "attn_pre_proj": g(3 * h // shape["tp"], h),
                "attn_rope": e(h), "attn_post_proj": g(h, h // shape["tp"]),
                "post_attention_layernorm": e(h), "mlp_up_proj": g(2 * f, h),
                "mlp_act": e(3 * f), "mlp_down_proj": g(h, f), "add": e(h)}
    if kind == "attention":
        b, c, k = shape["batch_size"], shape["prefill_chunk_size"], shape["kv_cache_size"]
        q = c if shape["is_prefill"] else 1
        return {"attn": roof(4 * b * q * (k + q) * shape["n_embd"] / shape["tp"],
                             4 * b * (k + q) * shape["n_embd"] / shape["tp"])}
    if kind == "gemm_fp8":
        m, n, k = shape["m"], shape["n"], shape["k"]
        return {"gemm": roof(m * n * k, m * k + n * k + 2 * m * n)}
    return {kind: roof(0, shape["size"] * 2)}


class ProfileGpuWithoutGpu(unittest.TestCase):
    def test_dry_run_lists_every_operator_family_without_torch(self):
        out = subprocess.run([sys.executable, os.path.join(REPO, "tools", "profile_gpu.py"),
                              "--dry-run", "--models", "Llama-3.1-8B", "--tp", "1,2"],
                             capture_output=True, text=True, check=True).stdout
        kinds = {line.split()[0] for line in out.splitlines() if not line.startswith("#")}
        self.assertEqual(kinds, {"mlp", "attention", "gemm_fp8"})
        self.assertIn("mlp model=Llama-3.1-8B tp=2 num_tokens=4096", out)
        self.assertIn("attention model=Llama-3.1-8B tp=1 batch_size=64 prefill_chunk_size=0 "
                      "kv_cache_size=2048 is_prefill=False", out)
        self.assertRegex(out, r"# \d+ layer and attention shapes")

    def test_dry_run_lists_collectives_under_torchrun(self):
        env = dict(os.environ, WORLD_SIZE="4", LOCAL_WORLD_SIZE="4")
        out = subprocess.run([sys.executable, os.path.join(REPO, "tools", "profile_gpu.py"),
                              "--dry-run", "--collectives-only"], env=env,
                             capture_output=True, text=True, check=True).stdout
        self.assertIn("all_reduce num_workers=4 size=2048", out)
        self.assertIn("send_recv num_workers=2 size=536870912", out)
        self.assertIn("all_to_all num_workers=4", out)

    def test_a_model_vidur_cannot_describe_is_refused(self):
        r = subprocess.run([sys.executable, os.path.join(REPO, "tools", "profile_gpu.py"),
                            "--dry-run", "--models", "Qwen3-32B"], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("head_dim 128 x 64 heads != hidden 5120", r.stderr)

    def test_written_columns_are_vidurs(self):
        with tempfile.TemporaryDirectory() as out:
            models = profile_gpu.selected_models(profile_gpu.parse(["--models", "Llama-3.1-8B"]))
            specs = profile_gpu.plan(models, [1], 8)[:1]
            coll = [(k, dict(s, devices_per_node=2, max_devices_per_node=8))
                    for k, s in profile_gpu.collective_plan(2)[:1]]
            results = [(k, s, stub_times(k, s)) for k, s in specs + coll]
            profile_gpu.write_profile(out, "a100", results, ["stub"])
            mlp = os.path.join(out, "compute", "a100", "meta-llama", "Llama-3.1-8B", "mlp.csv")
            with open(mlp) as f, open(VIDUR_MLP) as g:
                self.assertEqual(f.readline(), g.readline())
            with open(os.path.join(out, "network", "a100", "all_reduce.csv")) as f, \
                    open(VIDUR_ALL_REDUCE) as g:
                self.assertEqual(f.readline().strip(), g.readline().strip())

    def test_calibrate_recognises_and_fits_what_the_writer_writes(self):
        models = profile_gpu.selected_models(profile_gpu.parse(["--models", "Llama-3.1-8B"]))
        specs = profile_gpu.plan(models, [1, 2], 1024) + profile_gpu.fp8_plan(models, [1])
        coll = [(k, dict(s, devices_per_node=2, max_devices_per_node=8))
                for k, s in profile_gpu.collective_plan(2)]
        results = []
        for kind, s in specs + coll:
            s = dict(s, backend="STUB") if kind == "attention" else s
            results.append((kind, s, stub_times(kind, s)))
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "my-gpu")
            profile_gpu.write_profile(out, "my-gpu", results, ["stub timings (test), not a GPU"])
            eff = os.path.join(tmp, "eff.csv")
            r = subprocess.run([WINDTUNNEL, "calibrate", out, "--device", "h100", "--write",
                                "--out", eff], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            lines = r.stdout.splitlines()
            profiles = {l.split()[1]: l for l in lines if l.startswith("profile: ")}
            n_mlp = sum(1 for k, s in specs if k == "mlp")
            # Six memory-bound kernels per row; the embedding only at TP 1 (at TP 2 Vidur's
            # includes the vocabulary-parallel all-reduce: calib/kernel_data.c).
            n_elem = sum(6 if s["tp"] == 1 else 5 for k, s in specs if k == "mlp")
            mlp_rel = "compute/my-gpu/meta-llama/Llama-3.1-8B/mlp.csv"
            self.assertIn(f"gemm={4 * n_mlp} elementwise={n_elem}", profiles[mlp_rel])
            n_pf = sum(1 for k, s in specs if k == "attention" and s["is_prefill"])
            n_dec = sum(1 for k, s in specs if k == "attention" and not s["is_prefill"])
            self.assertIn(f"attn_prefill={n_pf} attn_decode={n_dec}",
                          profiles["compute/my-gpu/meta-llama/Llama-3.1-8B/attention.csv"])
            n_fp8 = sum(1 for k, s in specs if k == "gemm_fp8")
            self.assertIn(f"gemm_fp8={n_fp8}", profiles["compute/my-gpu/my-gpu_gemm_perf.csv"])
            n_size = len(profile_gpu.COLLECTIVE_BYTES)
            self.assertIn(f"allreduce={n_size}", profiles["network/my-gpu/all_reduce.csv"])
            self.assertIn(f"sendrecv={n_size}", profiles["network/my-gpu/send_recv.csv"])
            self.assertIn("not mapped: network/my-gpu/all_to_all.csv: all-to-all table", r.stdout)
            self.assertNotIn("SOURCE.md", r.stdout)
            fitted = [l for l in lines if l.startswith("device-fit device=H100-SXM-80GB op=")
                      and "points=" in l]
            self.assertEqual({re.search(r"op=(\S+)", l).group(1) for l in fitted},
                             {"gemm", "gemm_fp8", "attn_prefill", "attn_decode", "elementwise",
                              "allreduce", "sendrecv"})
            with open(eff) as f:
                rows = [l for l in f if l.startswith("H100-SXM-80GB,")]
            self.assertTrue(any(",gemm,compute_frac," in l and "my-gpu/compute" in l
                                for l in rows), rows[:3])

    def tiny_specs(self):
        """A tiny model's shapes, so that the CPU runs them in a second."""
        tiny = {"n_head": 4, "n_kv_head": 2, "n_embd": 64, "n_expanded_embd": 128,
                "vocab_size": 256, "use_gated_mlp": True, "hf_id": "test/tiny"}
        return profile_gpu.plan({"tiny": tiny}, [2], 64)

    @unittest.skipUnless(importlib.util.find_spec("torch"), "torch is not installed")
    def test_layer_kernels_run_in_torch_on_cpu(self):
        import torch
        timer = lambda fn: (fn(), [1.0])[1]  # runs each operator once; times nothing
        mlp = [s for k, s in self.tiny_specs() if k == "mlp"][:2]
        self.assertEqual(len(mlp), 2)
        for s in mlp:
            self.assertEqual(set(profile_gpu.time_mlp(torch, timer, dict(s), "cpu")),
                             set(profile_gpu.MLP_OPS))

    @unittest.skipUnless(importlib.util.find_spec("torch"), "torch is not installed")
    def test_attention_runs_in_torch_on_cpu(self):
        """Prefill over cached tokens (the end-aligned causal mask) and decode, through SDPA."""
        import torch
        if not hasattr(torch.nn.functional, "scaled_dot_product_attention"):
            self.skipTest(f"torch {torch.__version__} has no SDPA (PyTorch 2.0 added it)")
        timer = lambda fn: (fn(), [1.0])[1]
        specs = self.tiny_specs()
        prefill = [s for k, s in specs if k == "attention" and s["is_prefill"]
                   and s["kv_cache_size"] == 512][:1]
        decode = [s for k, s in specs if k == "attention" and not s["is_prefill"]][:1]
        self.assertEqual((len(prefill), len(decode)), (1, 1))
        for s in prefill + decode:
            self.assertIn("attn", profile_gpu.time_attention(torch, timer, dict(s), "cpu", False))


if __name__ == "__main__":
    WINDTUNNEL = os.path.abspath(sys.argv.pop(1))
    unittest.main()
