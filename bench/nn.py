#!/usr/bin/python3
"""Neural-network training-step benchmark: probkit (bench_nn) against PyTorch CPU.

    /usr/bin/python3 bench/nn.py [--threads 1] [--steps 20] [--runs 3] [--models mlp,lenet,cnn,gpt] [--name nn]

Three models, one fixed batch each, Adam (lr 1e-3), same initial weights:
  mlp    784-512-512-10, batch 128
  lenet  conv5x5(6)-pool-conv5x5(16)-pool-120-84-10 on 28x28, batch 128
  cnn    conv3x3(32)-pool-conv3x3(64)-pool-128-10 on 28x28, batch 128 (the Fashion-MNIST model)
  gpt    byte-level GPT d=128, 4 layers, 4 heads, context 128, batch 16
Before timing, the losses of the first three steps must agree to 1e-4
(relative).  Each timed run executes `--steps` steps after 3 warm-up steps in
a fresh process (so peak memory is per model) and reports the median step
time; runs alternate between probkit and torch.  Writes bench/results/nn.json
with the ratio probkit / torch (< 1: probkit faster) and both peak RSS.
"""
import argparse
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--steps", type=int, default=20)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--models", default="mlp,lenet,cnn,gpt")
ap.add_argument("--name", default="nn", help="result file bench/results/NAME.json")
ap.add_argument("--worker", help=argparse.SUPPRESS)  # internal: run torch on a file
ap.add_argument("--file", help=argparse.SUPPRESS)
args = ap.parse_args()
harness.set_threads(args.threads)

import numpy as np  # noqa: E402

try:
    import torch  # noqa: E402
    import torch.nn.functional as F  # noqa: E402
except ImportError:
    harness.skip("torch not installed (Debian python3-torch)")
torch.set_num_threads(args.threads)

GPT_CFG = {"d_model": 128, "n_layer": 4, "n_head": 4, "context": 128, "batch": 16}


def write_safetensors(path, tensors, meta):
    header, blobs, off = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        dt = {np.float32: "F32", np.int32: "I32"}[arr.dtype.type]
        b = arr.tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {k: str(v) for k, v in meta.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        buf = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, h in header.items():
        dt = {"F32": np.float32, "I32": np.int32}[h["dtype"]]
        a, b = h["data_offsets"]
        out[name] = np.frombuffer(buf[a:b], dtype=dt).reshape(h["shape"]).copy()
    return out, meta


def linear_init(g, out_f, in_f):
    b = 1 / math.sqrt(in_f)
    return (g.uniform(-b, b, (out_f, in_f)).astype(np.float32), g.uniform(-b, b, out_f).astype(np.float32))


def make_problem(model, path):
    g = np.random.default_rng(7)
    t, meta = {}, {"model": model}
    if model == "mlp":
        sizes = [784, 512, 512, 10]
        for i in range(3):
            t[f"fc{i}.weight"], t[f"fc{i}.bias"] = linear_init(g, sizes[i + 1], sizes[i])
    elif model == "lenet":
        for name, shape in [("conv1", (6, 1, 5, 5)), ("conv2", (16, 6, 5, 5))]:
            fan = shape[1] * 25
            t[name + ".weight"] = g.uniform(-1, 1, shape).astype(np.float32) / np.float32(math.sqrt(fan))
            t[name + ".bias"] = g.uniform(-1, 1, shape[0]).astype(np.float32) / np.float32(math.sqrt(fan))
        for name, o, i in [("fc1", 120, 400), ("fc2", 84, 120), ("fc3", 10, 84)]:
            t[name + ".weight"], t[name + ".bias"] = linear_init(g, o, i)
    elif model == "cnn":
        for name, shape in [("conv1", (32, 1, 3, 3)), ("conv2", (64, 32, 3, 3))]:
            fan = shape[1] * 9
            t[name + ".weight"] = g.uniform(-1, 1, shape).astype(np.float32) / np.float32(math.sqrt(fan))
            t[name + ".bias"] = g.uniform(-1, 1, shape[0]).astype(np.float32) / np.float32(math.sqrt(fan))
        for name, o, i in [("fc1", 128, 3136), ("fc2", 10, 128)]:
            t[name + ".weight"], t[name + ".bias"] = linear_init(g, o, i)
    if model in ("mlp", "lenet", "cnn"):
        t["x"] = g.random((128, 1, 28, 28)).astype(np.float32)
        t["y"] = g.integers(0, 10, 128).astype(np.int32)
    else:
        C, L, T, B = GPT_CFG["d_model"], GPT_CFG["n_layer"], GPT_CFG["context"], GPT_CFG["batch"]
        meta.update(GPT_CFG)
        n = lambda *s, sd=0.02: (sd * g.standard_normal(s)).astype(np.float32)  # noqa: E731
        t["wte"], t["wpe"] = n(256, C), n(T, C)
        for l in range(L):
            p = f"h.{l}."
            t[p + "ln1.weight"], t[p + "ln1.bias"] = np.ones(C, np.float32), np.zeros(C, np.float32)
            t[p + "attn.qkv.weight"], t[p + "attn.qkv.bias"] = n(3 * C, C), np.zeros(3 * C, np.float32)
            t[p + "attn.proj.weight"], t[p + "attn.proj.bias"] = n(C, C, sd=0.02 / math.sqrt(2 * L)), np.zeros(C, np.float32)
            t[p + "ln2.weight"], t[p + "ln2.bias"] = np.ones(C, np.float32), np.zeros(C, np.float32)
            t[p + "mlp.fc.weight"], t[p + "mlp.fc.bias"] = n(4 * C, C), np.zeros(4 * C, np.float32)
            t[p + "mlp.proj.weight"], t[p + "mlp.proj.bias"] = n(C, 4 * C, sd=0.02 / math.sqrt(2 * L)), np.zeros(C, np.float32)
        t["ln_f.weight"], t["ln_f.bias"] = np.ones(C, np.float32), np.zeros(C, np.float32)
        t["x"] = g.integers(32, 127, (B, T + 1)).astype(np.int32)
    write_safetensors(path, t, meta)


def torch_worker(path, steps):
    """Runs in a child process: time torch training steps, print JSON like bench_nn."""
    import time
    t, meta = read_safetensors(path)
    model = meta["model"]
    P = {k: torch.tensor(v, requires_grad=True) for k, v in t.items() if k not in ("x", "y")}
    x = torch.tensor(t["x"])
    y = torch.tensor(t["y"]).long() if "y" in t else None

    def forward():
        if model == "mlp":
            h = x.reshape(x.shape[0], -1)
            for i in range(3):
                h = F.linear(h, P[f"fc{i}.weight"], P[f"fc{i}.bias"])
                h = F.relu(h) if i < 2 else h
            return F.cross_entropy(h, y)
        if model == "cnn":
            h = F.max_pool2d(F.relu(F.conv2d(x, P["conv1.weight"], P["conv1.bias"], padding=1)), 2)
            h = F.max_pool2d(F.relu(F.conv2d(h, P["conv2.weight"], P["conv2.bias"], padding=1)), 2)
            h = F.relu(F.linear(h.reshape(h.shape[0], -1), P["fc1.weight"], P["fc1.bias"]))
            return F.cross_entropy(F.linear(h, P["fc2.weight"], P["fc2.bias"]), y)
        if model == "lenet":
            h = F.max_pool2d(F.relu(F.conv2d(x, P["conv1.weight"], P["conv1.bias"], padding=2)), 2)
            h = F.max_pool2d(F.relu(F.conv2d(h, P["conv2.weight"], P["conv2.bias"])), 2)
            h = F.relu(F.linear(h.reshape(h.shape[0], -1), P["fc1.weight"], P["fc1.bias"]))
            h = F.relu(F.linear(h, P["fc2.weight"], P["fc2.bias"]))
            return F.cross_entropy(F.linear(h, P["fc3.weight"], P["fc3.bias"]), y)
        C, H, L = int(meta["d_model"]), int(meta["n_head"]), int(meta["n_layer"])
        tok = x.long()
        B, T = tok.shape[0], tok.shape[1] - 1
        inp, tgt = tok[:, :T], tok[:, 1:]
        h = P["wte"][inp] + P["wpe"][:T]
        for l in range(L):
            p = f"h.{l}."
            a = F.layer_norm(h, (C,), P[p + "ln1.weight"], P[p + "ln1.bias"], 1e-5)
            q, k, v = F.linear(a, P[p + "attn.qkv.weight"], P[p + "attn.qkv.bias"]).split(C, dim=2)
            q, k, v = (z.reshape(B, T, H, C // H).transpose(1, 2) for z in (q, k, v))
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True) if hasattr(F, "scaled_dot_product_attention") \
                else ((q @ k.transpose(-2, -1)) / math.sqrt(C // H)).masked_fill(
                    torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1) @ v
            a = a.transpose(1, 2).reshape(B, T, C)
            h = h + F.linear(a, P[p + "attn.proj.weight"], P[p + "attn.proj.bias"])
            a = F.layer_norm(h, (C,), P[p + "ln2.weight"], P[p + "ln2.bias"], 1e-5)
            a = F.gelu(F.linear(a, P[p + "mlp.fc.weight"], P[p + "mlp.fc.bias"]), approximate="tanh")
            h = h + F.linear(a, P[p + "mlp.proj.weight"], P[p + "mlp.proj.bias"])
        h = F.layer_norm(h, (C,), P["ln_f.weight"], P["ln_f.bias"], 1e-5)
        return F.cross_entropy((h @ P["wte"].T).reshape(-1, 256), tgt.reshape(-1))

    opt = torch.optim.Adam(P.values(), lr=1e-3)
    secs, losses, cpu0 = [], [], 0.0
    for s in range(steps + 3):
        if s == 3:
            cpu0 = time.process_time()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = forward()
        loss.backward()
        opt.step()
        secs.append(time.perf_counter() - t0)
        if s < 3:
            losses.append(loss.item())
    rss = -1
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1])
    cpu = (time.process_time() - cpu0) / steps if steps > 0 else 0.0
    print(json.dumps({"model": model, "losses": losses, "step_seconds": secs[3:], "cpu_seconds_per_step": cpu,
                      "peak_rss_kb": rss}))


if args.worker:
    torch_worker(args.file, int(args.worker))
    sys.exit(0)

prog = harness.find_program("bench_nn")
if prog is None:
    harness.skip(f"bench_nn not built (looked in {harness.build_dir()}); set PK_BUILD_DIR")
tmp = tempfile.mkdtemp(prefix="probkit-bench-nn-")
results = []
for model in args.models.split(","):
    path = os.path.join(tmp, f"{model}.safetensors")
    make_problem(model, path)
    ours = harness.command([prog, "--model", model, "--file", path, "--steps", str(args.steps), "--warmup", "3"],
                           seconds_key="step_seconds")
    peer = harness.command([sys.executable, os.path.abspath(__file__), "--threads", str(args.threads),
                            "--worker", str(args.steps), "--file", path], seconds_key="step_seconds")

    def agree(o, p):
        d = harness.max_rel_diff(o["losses"], p["losses"])
        return d <= 1e-4, {"max_rel_diff_first_3_losses": d, "ours_losses": o["losses"], "torch_losses": p["losses"],
                           "ours_peak_rss_kb": o["peak_rss_kb"], "torch_peak_rss_kb": p["peak_rss_kb"],
                           # CPU seconds per step of this checking call (one run each): a second figure
                           "ours_cpu_s_per_step": o.get("cpu_seconds_per_step"),
                           "torch_cpu_s_per_step": p.get("cpu_seconds_per_step"),
                           "ours_arena_peak_bytes": o.get("arena_peak_bytes")}

    params = {"model": model, "threads": args.threads, "steps_per_run": args.steps, "optimizer": "Adam lr 1e-3"}
    if model == "gpt":
        params.update(GPT_CFG)
    else:
        params["batch"] = 128
    results.append(harness.compare(f"nn_{model}", ("probkit bench_nn", ours), (f"torch {torch.__version__} CPU", peer),
                                   agree, runs=args.runs, params=params, write=False,
                                   notes="median seconds per training step (forward + backward + Adam)"))
harness.write_result(args.name, results)
