#!/usr/bin/env python3
"""Profile one GPU for `windtunnel calibrate`: the operators the cost model prices, timed on the
GPU it runs on, written in Vidur's profiling layout (which calibrate reads):

  OUT/compute/<gpu>/<org>/<model>/mlp.csv        GEMMs (the four projections), RMSNorm, rotary,
                                                 SiLU-and-mul, residual add, embedding
  OUT/compute/<gpu>/<org>/<model>/attention.csv  prefill (chunk over cached tokens) and decode
                                                 attention (SDPA, or flash-attn when installed)
  OUT/network/<gpu>/{all_reduce,send_recv,all_to_all}.csv   NCCL collectives (under torchrun
                                                 with more than one GPU)
  OUT/compute/<gpu>/<gpu>_gemm_perf.csv          fp8 GEMMs where the GPU has fp8 tensor cores, in
                                                 AIConfigurator's GEMM layout (Vidur's has no
                                                 number format column)
  OUT/SOURCE.md                                  what was run, where and when

Columns match Vidur's profilers (vidur/profiling/{mlp,attention,collectives}): times are
time_stats.<op>.{min,max,mean,median,std} in milliseconds over the timed repeats, `size` in
bytes. Then, in the repository root:

  build/windtunnel calibrate OUT --device NAME --write --out my-gpu-efficiency.csv

Usage:
  python3 tools/profile_gpu.py --gpu rtx_pro_6000 --out profile-rtx/            # compute
  torchrun --nproc-per-node 8 tools/profile_gpu.py --gpu h100 --out prof/ --collectives-only
  python3 tools/profile_gpu.py --dry-run                 # the shapes, without a GPU or torch

Needs PyTorch 2.0 or later with CUDA (ROCm builds work the same way through torch.cuda; fp8
GEMMs need 2.1 or later and a GPU of compute capability 8.9 or more); flash-attn is optional. Models are the catalogue's (hw/data/models.csv, read from this repository).
"""

import argparse
import csv
import datetime
import math
import os
import platform
import shlex
import statistics
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS_CSV = os.path.join(REPO, "hw", "data", "models.csv")

# Vidur's mlp.csv operators, in its column order (vidur/profiling/mlp/mlp_impl.py's timers).
MLP_OPS = ["emb", "input_layernorm", "attn_pre_proj", "attn_rope", "attn_post_proj",
           "post_attention_layernorm", "mlp_up_proj", "mlp_act", "mlp_down_proj", "add"]
STATS = ["min", "max", "mean", "median", "std"]
MLP_SHAPE_COLS = ["n_head", "n_kv_head", "n_embd", "n_expanded_embd", "vocab_size",
                  "use_gated_mlp", "num_tokens", "num_tensor_parallel_workers"]
ATTN_SHAPE_COLS = ["n_embd", "n_q_head", "n_kv_head", "block_size", "num_tensor_parallel_workers",
                   "max_model_len", "batch_size", "prefill_chunk_size", "kv_cache_size",
                   "is_prefill", "attention_backend"]
NET_SHAPE_COLS = ["rank", "num_workers", "size", "collective", "devices_per_node",
                  "max_devices_per_node"]

DEFAULT_MODELS = ["Llama-3.1-8B", "Llama-3.1-70B"]
# Token counts of the per-layer kernels: every size a serving batch takes, denser where the
# kernels change regime (Vidur profiles 1..~32k tokens the same way).
NUM_TOKENS = sorted(set([1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024,
                         1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384]))
PREFILL_CHUNKS = [64, 128, 256, 512, 1024, 2048, 4096, 8192]
PREFILL_CACHED = [0, 512, 2048, 8192]
DECODE_BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
DECODE_CONTEXT = [128, 512, 1024, 2048, 4096, 8192, 16384]
FP8_M = [1, 8, 32, 128, 512, 2048, 8192]
# Collective message sizes in bytes: 2 KiB .. 512 MiB, powers of two (Vidur: 2 KiB up).
COLLECTIVE_BYTES = [2 ** p for p in range(11, 30)]
MAX_MODEL_LEN = 32768
BLOCK_SIZE = 16


def load_models(path=MODELS_CSV):
    """The catalogue's models by name: shapes as config.json gives them."""
    models = {}
    with open(path, newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        for r in rows:
            models[r["name"]] = r
    return models


def model_shape(row):
    """Vidur's model columns from a catalogue row (Vidur derives head_dim = n_embd / n_head)."""
    q, h, hd = int(row["q_heads"]), int(row["hidden"]), int(row["head_dim"])
    if q * hd != h:
        raise ValueError(f"{row['name']}: head_dim {hd} x {q} heads != hidden {h}: Vidur's "
                         "layout cannot say so (n_embd / n_head is its head size)")
    return {"n_head": q, "n_kv_head": int(row["kv_heads"]), "n_embd": h,
            "n_expanded_embd": int(row["ffn"]), "vocab_size": int(row["vocab"]),
            "use_gated_mlp": row["gated_ffn"] in ("1", "true", "True"),
            "hf_id": row["hf_id"]}


def plan(models, tps, max_tokens):
    """Every measurement as (kind, shape dict), in a fixed order."""
    specs = []
    for name in models:
        m = models[name]
        for tp in tps:
            if m["n_head"] % tp:
                continue
            for t in NUM_TOKENS:
                if t <= max_tokens:
                    specs.append(("mlp", dict(m, model=name, tp=tp, num_tokens=t)))
            for c in PREFILL_CHUNKS:
                for k in PREFILL_CACHED:
                    if c + k <= MAX_MODEL_LEN and c <= max_tokens:
                        specs.append(("attention", dict(m, model=name, tp=tp, batch_size=1,
                                                        prefill_chunk_size=c, kv_cache_size=k,
                                                        is_prefill=True)))
            for b in DECODE_BATCHES:
                for k in DECODE_CONTEXT:
                    specs.append(("attention", dict(m, model=name, tp=tp, batch_size=b,
                                                    prefill_chunk_size=0, kv_cache_size=k,
                                                    is_prefill=False)))
    return specs


def fp8_plan(models, tps):
    """fp8 GEMMs: the four projections of each model shard at a few token counts."""
    shapes = set()
    for name in models:
        m = models[name]
        hd = m["n_embd"] // m["n_head"]
        for tp in tps:
            if m["n_head"] % tp:
                continue
            q, kv = m["n_head"] // tp, max(m["n_kv_head"] // tp, 1)
            f = m["n_expanded_embd"] // tp
            for n, k in [((q + 2 * kv) * hd, m["n_embd"]), (m["n_embd"], q * hd),
                         ((2 if m["use_gated_mlp"] else 1) * f, m["n_embd"]), (m["n_embd"], f)]:
                if n % 16 or k % 16:  # cuBLASLt's fp8 GEMMs want both multiples of 16
                    continue
                for mm in FP8_M:
                    shapes.add((mm, n, k))
    return [("gemm_fp8", {"m": m_, "n": n, "k": k}) for (m_, n, k) in sorted(shapes)]


def collective_plan(world):
    specs = []
    for size in COLLECTIVE_BYTES:
        specs.append(("all_reduce", {"num_workers": world, "size": size}))
        specs.append(("all_to_all", {"num_workers": world, "size": size}))
        specs.append(("send_recv", {"num_workers": 2, "size": size}))
    return specs


def stats(times_ms):
    return {"min": min(times_ms), "max": max(times_ms), "mean": statistics.fmean(times_ms),
            "median": statistics.median(times_ms),
            "std": statistics.pstdev(times_ms) if len(times_ms) > 1 else 0.0}


# ---- writing (Vidur's and AIConfigurator's columns) ----

def safe(name):
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def write_profile(out, gpu, results, source_lines):
    """results: [(kind, shape, {op: [times_ms]})] in plan order. Returns the files written."""
    written = []
    by_file = {}
    for kind, shape, times in results:
        if kind in ("mlp", "attention"):
            org, model = shape["hf_id"].split("/", 1)
            path = os.path.join(out, "compute", safe(gpu), safe(org), safe(model), kind + ".csv")
        elif kind == "gemm_fp8":
            path = os.path.join(out, "compute", safe(gpu), safe(gpu) + "_gemm_perf.csv")
        else:
            path = os.path.join(out, "network", safe(gpu), kind + ".csv")
        by_file.setdefault(path, (kind, []))[1].append((shape, times))
    for path, (kind, rows) in sorted(by_file.items()):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            if kind == "mlp":
                w.writerow([f"time_stats.{op}.{s}" for op in MLP_OPS for s in STATS]
                           + MLP_SHAPE_COLS)
                for shape, times in rows:
                    st = {op: stats(times[op]) for op in MLP_OPS}
                    w.writerow([st[op][s] for op in MLP_OPS for s in STATS]
                               + [shape["n_head"], shape["n_kv_head"], shape["n_embd"],
                                  shape["n_expanded_embd"], shape["vocab_size"],
                                  shape["use_gated_mlp"], shape["num_tokens"], shape["tp"]])
            elif kind == "attention":
                w.writerow([f"time_stats.attn_{p}.{s}" for p in ("prefill", "decode")
                            for s in STATS] + ATTN_SHAPE_COLS)
                for shape, times in rows:
                    phase = "prefill" if shape["is_prefill"] else "decode"
                    st = stats(times["attn"])
                    cells = [st[s] if p == phase else "" for p in ("prefill", "decode")
                             for s in STATS]
                    w.writerow(cells + [shape["n_embd"], shape["n_head"], shape["n_kv_head"],
                                        BLOCK_SIZE, shape["tp"], MAX_MODEL_LEN,
                                        shape["batch_size"], shape["prefill_chunk_size"],
                                        shape["kv_cache_size"], shape["is_prefill"],
                                        shape.get("backend", "")])
            elif kind == "gemm_fp8":
                w.writerow(["gemm_dtype", "m", "n", "k", "latency"])
                for shape, times in rows:
                    w.writerow(["fp8", shape["m"], shape["n"], shape["k"],
                                stats(times["gemm"])["median"]])
            else:
                w.writerow([""] + [f"time_stats.{kind}.{s}" for s in STATS] + NET_SHAPE_COLS)
                for i, (shape, times) in enumerate(rows):
                    st = stats(times[kind])
                    w.writerow([i] + [st[s] for s in STATS]
                               + [0, shape["num_workers"], shape["size"], kind,
                                  shape["devices_per_node"], shape["max_devices_per_node"]])
        written.append(path)
    with open(os.path.join(out, "SOURCE.md"), "w") as f:
        f.write(f"# Profile of {gpu}\n\n")
        for line in source_lines:
            f.write(f"- {line}\n")
    return written


# ---- timing on the GPU ----

class GpuTimer:
    """Times callables with CUDA events: `warmup` untimed calls, then `repeats` timed ones."""

    def __init__(self, torch, warmup, repeats):
        self.torch, self.warmup, self.repeats = torch, warmup, repeats

    def __call__(self, fn):
        torch = self.torch
        for _ in range(self.warmup):
            fn()
        times = []
        for _ in range(self.repeats):
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))  # ms
        return times


def rms_norm(torch, x, w, eps=1e-5):
    f = getattr(torch.nn.functional, "rms_norm", None)  # PyTorch >= 2.4
    if f is not None:
        return f(x, (x.shape[-1],), w, eps)
    return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + eps).to(x.dtype) * w


def rotary(torch, q, k, cos, sin):
    """Rotary embedding of q [t, heads, d] and k (rotate-half form, as Llama's)."""
    def rot(x):
        x1, x2 = x.chunk(2, dim=-1)
        return torch.cat((-x2, x1), dim=-1)
    return q * cos + rot(q) * sin, k * cos + rot(k) * sin


def time_mlp(torch, timer, s, dev):
    """Vidur's per-layer operators of one tensor-parallel shard at num_tokens tokens."""
    F, bf16 = torch.nn.functional, torch.bfloat16
    t, tp, h = s["num_tokens"], s["tp"], s["n_embd"]
    hd = h // s["n_head"]
    q, kv = s["n_head"] // tp, max(s["n_kv_head"] // tp, 1)
    f = s["n_expanded_embd"] // tp
    up_n = (2 if s["use_gated_mlp"] else 1) * f
    x = torch.randn(t, h, dtype=bf16, device=dev)
    ids = torch.randint(0, s["vocab_size"] // tp, (t,), device=dev)
    emb = torch.randn(s["vocab_size"] // tp, h, dtype=bf16, device=dev)
    norm_w = torch.ones(h, dtype=bf16, device=dev)
    w_qkv = torch.randn((q + 2 * kv) * hd, h, dtype=bf16, device=dev)
    w_o = torch.randn(h, q * hd, dtype=bf16, device=dev)
    w_up = torch.randn(up_n, h, dtype=bf16, device=dev)
    w_down = torch.randn(h, f, dtype=bf16, device=dev)
    qkv = F.linear(x, w_qkv)
    qh = qkv[:, : q * hd].view(t, q, hd)
    kh = qkv[:, q * hd: (q + kv) * hd].view(t, kv, hd)
    cos = torch.randn(t, 1, hd, dtype=bf16, device=dev)
    sin = torch.randn(t, 1, hd, dtype=bf16, device=dev)
    attn_out = torch.randn(t, q * hd, dtype=bf16, device=dev)
    up = F.linear(x, w_up)
    act_in = torch.randn(t, f, dtype=bf16, device=dev)

    def act():
        if s["use_gated_mlp"]:
            g, u = up.chunk(2, dim=-1)
            return F.silu(g) * u
        return F.gelu(up)

    ops = {"emb": lambda: F.embedding(ids, emb),
           "input_layernorm": lambda: rms_norm(torch, x, norm_w),
           "attn_pre_proj": lambda: F.linear(x, w_qkv),
           "attn_rope": lambda: rotary(torch, qh, kh, cos, sin),
           "attn_post_proj": lambda: F.linear(attn_out, w_o),
           "post_attention_layernorm": lambda: rms_norm(torch, x, norm_w),
           "mlp_up_proj": lambda: F.linear(x, w_up),
           "mlp_act": act,
           "mlp_down_proj": lambda: F.linear(act_in, w_down),
           "add": lambda: x + x}
    with torch.inference_mode():
        return {op: timer(ops[op]) for op in MLP_OPS}


def time_attention(torch, timer, s, dev, use_flash):
    """One attention call of a shard: prefill (one sequence, a chunk over kv_cache_size cached
    tokens, causal) or decode (batch_size sequences, one new token over kv_cache_size cached),
    as Vidur's attention profiler shapes them."""
    F, bf16 = torch.nn.functional, torch.bfloat16
    tp, hd = s["tp"], s["n_embd"] // s["n_head"]
    hq, hkv = s["n_head"] // tp, max(s["n_kv_head"] // tp, 1)
    b, c, k = s["batch_size"], s["prefill_chunk_size"], s["kv_cache_size"]
    sq, sk = (c, k + c) if s["is_prefill"] else (1, k + 1)
    if use_flash:
        from flash_attn import flash_attn_func, flash_attn_with_kvcache
        q = torch.randn(b, sq, hq, hd, dtype=bf16, device=dev)
        if s["is_prefill"]:
            kk = torch.randn(b, sk, hkv, hd, dtype=bf16, device=dev)
            fn = lambda: flash_attn_func(q, kk, kk, causal=True)  # bottom-right causal
        else:
            cache = torch.randn(b, sk, hkv, hd, dtype=bf16, device=dev)
            lens = torch.full((b,), sk, dtype=torch.int32, device=dev)
            fn = lambda: flash_attn_with_kvcache(q, cache, cache, cache_seqlens=lens)
        s["backend"] = "FLASH_ATTENTION"
    else:
        q = torch.randn(b, hq, sq, hd, dtype=bf16, device=dev)
        kk = torch.randn(b, hkv, sk, hd, dtype=bf16, device=dev)
        gqa = {}
        try:  # PyTorch >= 2.5 shares KV heads; before, they are repeated
            F.scaled_dot_product_attention(q[:, :, :1], kk[:, :, :1], kk[:, :, :1],
                                           enable_gqa=True)
            gqa = {"enable_gqa": True}
        except TypeError:
            kk = kk.repeat_interleave(hq // hkv, dim=1)
        mask = None
        if s["is_prefill"] and sq != sk:  # causal, aligned to the end: the chunk sees the cache
            try:  # PyTorch >= 2.3: a mask the fused kernels take
                from torch.nn.attention.bias import causal_lower_right
                mask = causal_lower_right(sq, sk)
            except ImportError:
                i = torch.arange(sq, device=dev).unsqueeze(1)
                j = torch.arange(sk, device=dev).unsqueeze(0)
                mask = j <= i + (sk - sq)
        causal = s["is_prefill"] and mask is None
        fn = lambda: F.scaled_dot_product_attention(q, kk, kk, attn_mask=mask,
                                                    is_causal=causal, **gqa)
        s["backend"] = "TORCH_SDPA"
    with torch.inference_mode():
        return {"attn": timer(fn)}


def time_fp8(torch, timer, s, dev):
    """A W8A8 fp8 (e4m3) GEMM with per-tensor scales and bf16 output (torch._scaled_mm)."""
    a = torch.randn(s["m"], s["k"], device=dev).to(torch.float8_e4m3fn)
    w = torch.randn(s["n"], s["k"], device=dev).to(torch.float8_e4m3fn)
    one = torch.tensor(1.0, device=dev)

    def fn():
        r = torch._scaled_mm(a, w.t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
        return r[0] if isinstance(r, tuple) else r  # PyTorch < 2.4 returned (out, amax)
    with torch.inference_mode():
        return {"gemm": timer(fn)}


def time_collective(torch, dist, timer, kind, s, dev, rank):
    elems = s["size"] // 2  # bf16, as Vidur's `size` = elements x 2 bytes
    if kind == "send_recv":
        buf = torch.empty(elems, dtype=torch.bfloat16, device=dev)

        def fn():
            if rank == 0:
                dist.send(buf, 1)
            elif rank == 1:
                dist.recv(buf, 0)
    elif kind == "all_reduce":
        buf = torch.empty(elems, dtype=torch.bfloat16, device=dev)
        fn = lambda: dist.all_reduce(buf)
    else:
        world = s["num_workers"]
        elems -= elems % world
        buf = torch.empty(elems, dtype=torch.bfloat16, device=dev)
        out = torch.empty_like(buf)
        fn = lambda: dist.all_to_all_single(out, buf)
    dist.barrier()
    times = timer(fn)  # ranks outside a send/recv pair time nothing
    # The slowest rank's median is what the collective costs: rank 0's times scaled to it.
    own = statistics.median(times)
    t = torch.tensor([own], device=dev)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return {kind: [x * t.item() / own for x in times] if own > 0 else times}


# ---- the command line ----

def parse(argv):
    p = argparse.ArgumentParser(
        description="Profile this GPU's operators for `windtunnel calibrate` (Vidur's layout).")
    p.add_argument("--gpu", help="the device's name as calibrate maps it (a catalogue name or "
                   "a folder-style name: a100, h100, rtx_pro_6000, b200); default: "
                   "torch.cuda.get_device_name()")
    p.add_argument("--out", default="gpu-profile", help="output folder (default gpu-profile)")
    p.add_argument("--models", default=",".join(DEFAULT_MODELS),
                   help="catalogue models whose layer shapes to profile (comma-separated; "
                   "default %(default)s)")
    p.add_argument("--tp", default="1,2,4,8", help="tensor-parallel shard sizes to profile on "
                   "this one GPU (default %(default)s)")
    p.add_argument("--max-tokens", type=int, default=16384,
                   help="largest token count of a layer call (default %(default)s)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--attention", choices=["auto", "sdpa", "flash"], default="auto",
                   help="attention kernel: flash-attn if installed (auto), or PyTorch's SDPA")
    p.add_argument("--collectives-only", action="store_true",
                   help="only the NCCL collectives (run under torchrun with 2+ GPUs)")
    p.add_argument("--no-fp8", action="store_true", help="skip the fp8 GEMMs")
    p.add_argument("--dry-run", "--shapes-only", dest="dry_run", action="store_true",
                   help="list the shapes that would be timed and exit (no GPU, no torch)")
    return p.parse_args(argv)


def selected_models(args):
    catalogue = load_models()
    out = {}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        if name not in catalogue:
            sys.exit(f"profile_gpu.py: --models: {name} is not in {MODELS_CSV} "
                     f"(known: {', '.join(sorted(catalogue))})")
        try:
            out[name] = model_shape(catalogue[name])
        except ValueError as e:
            sys.exit(f"profile_gpu.py: --models: {e}")
    return out


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    models = selected_models(args)
    tps = [int(x) for x in args.tp.split(",") if x.strip()]
    world = int(os.environ.get("WORLD_SIZE", "1"))
    specs = [] if args.collectives_only else plan(models, tps, args.max_tokens)
    fp8 = [] if args.collectives_only or args.no_fp8 else fp8_plan(models, tps)
    coll = collective_plan(world) if world > 1 else []
    if args.dry_run:
        for kind, s in specs + fp8 + coll:
            keys = [k for k in ("model", "tp", "num_tokens", "batch_size", "prefill_chunk_size",
                                "kv_cache_size", "is_prefill", "m", "n", "k", "num_workers",
                                "size") if k in s]
            print(kind, " ".join(f"{k}={s[k]}" for k in keys))
        print(f"# {len(specs)} layer and attention shapes, {len(fp8)} fp8 GEMMs (if the GPU has "
              f"fp8), {len(coll)} collectives ({'world ' + str(world) if coll else 'none: one GPU; run under torchrun for them'})")
        return 0

    import torch
    if not torch.cuda.is_available():
        sys.exit("profile_gpu.py: no CUDA device visible to PyTorch (use --dry-run to list the "
                 "shapes without one)")
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    torch.cuda.set_device(local)
    dev = torch.device("cuda", local)
    gpu = args.gpu or torch.cuda.get_device_name(local)
    timer = GpuTimer(torch, args.warmup, args.repeats)
    results = []
    if world > 1:
        import torch.distributed as dist
        dist.init_process_group("nccl")
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world))
        for kind, s in coll:
            # torchrun numbers ranks node by node: a pair or group within one node's ranks has
            # all its devices in that node (Vidur's devices_per_node).
            s = dict(s, devices_per_node=min(s["num_workers"], local_world),
                     max_devices_per_node=torch.cuda.device_count())
            results.append((kind, s, time_collective(torch, dist, timer, kind, s, dev, rank)))
        dist.destroy_process_group()
        if rank != 0:
            return 0
    use_flash = False
    if args.attention in ("auto", "flash"):
        try:
            import flash_attn  # noqa: F401
            use_flash = True
        except ImportError:
            if args.attention == "flash":
                sys.exit("profile_gpu.py: --attention flash: flash_attn is not installed")
    if specs and not use_flash and \
            not hasattr(torch.nn.functional, "scaled_dot_product_attention"):
        sys.exit(f"profile_gpu.py: PyTorch {torch.__version__} has no scaled_dot_product_attention "
                 "(PyTorch 2.0 added it): upgrade PyTorch or install flash-attn")
    if rank == 0:
        for i, (kind, s) in enumerate(specs):
            s = dict(s)
            times = time_mlp(torch, timer, s, dev) if kind == "mlp" else \
                time_attention(torch, timer, s, dev, use_flash)
            results.append((kind, s, times))
            if i % 50 == 0:
                print(f"profile_gpu.py: {i}/{len(specs)} {kind}", file=sys.stderr)
        if fp8 and torch.cuda.get_device_capability(local) >= (8, 9) and \
                hasattr(torch, "float8_e4m3fn"):
            for kind, s in fp8:
                results.append((kind, s, time_fp8(torch, timer, s, dev)))
    source = [f"GPU: {torch.cuda.get_device_name(local)} (written as {gpu}), "
              f"{torch.cuda.device_count()} visible, world {world}",
              f"PyTorch {torch.__version__}, CUDA {torch.version.cuda}, "
              f"attention {'flash-attn' if use_flash else 'SDPA'}",
              f"host {platform.node()}, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
              "command: " + " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
              f"timing: {args.warmup} warm-up calls, then {args.repeats} timed calls each "
              "(CUDA events); times in ms"]
    for path in write_profile(args.out, gpu, results, source):
        print(f"wrote {path}")
    print(f"next: build/windtunnel calibrate {shlex.quote(args.out)} --device {shlex.quote(gpu)} "
          f"--write --out {safe(gpu)}-efficiency.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
