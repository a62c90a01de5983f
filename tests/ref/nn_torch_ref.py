#!/usr/bin/python3
"""Reference forward outputs and gradients for tests/nn/test_nn_torch.c.

Run with Debian's /usr/bin/python3 (python3-torch, CPU):
    /usr/bin/python3 tests/ref/nn_torch_ref.py tests/fixtures/nn
Writes mlp.safetensors, cnn.safetensors and gpt_block.safetensors.  Each holds
the input, every parameter (probkit's names), the logits, the loss and, for
each parameter P, "grad.P" = d loss / d P.  Parameters are float32 values;
torch computes in float64 so the reference itself carries no float32 error.
"""
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def write_safetensors(path, tensors, meta):
    header, blobs, off = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        dt = {np.float32: "F32", np.int32: "I32"}[arr.dtype.type]
        b = arr.tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def f32(t):
    """Round to float32 and back, as probkit stores it."""
    return t.detach().float().double()


def param(shape, bound):
    return f32(torch.empty(*shape).uniform_(-bound, bound)).requires_grad_()


def linear_params(out_f, in_f):
    b = 1 / math.sqrt(in_f)
    return param((out_f, in_f), b), param((out_f,), b)


def dump(path, kind, x, params, logits, loss, extra=None):
    t = {}
    t["x"] = x.detach().numpy().astype(np.float32) if x.dtype != torch.int64 else x.numpy().astype(np.int32)
    for n, p in params.items():
        t[n] = p.detach().numpy().astype(np.float32)
    t["logits"] = logits.detach().numpy().astype(np.float32)
    t["loss"] = np.array([loss.item()], dtype=np.float32)
    loss.backward()
    for n, p in params.items():
        t["grad." + n] = p.grad.numpy().astype(np.float32)
    if extra:
        t.update(extra)
    write_safetensors(path, t, {"model": kind, "torch": torch.__version__})


def mlp(out):
    sizes = [20, 32, 16, 5]
    params = {}
    for i in range(3):
        w, b = linear_params(sizes[i + 1], sizes[i])
        params[f"fc{i}.weight"], params[f"fc{i}.bias"] = w, b
    x = f32(torch.rand(8, 1, 4, 5))
    y = torch.randint(0, 5, (8,))
    h = x.reshape(8, -1)
    for i in range(3):
        h = F.linear(h, params[f"fc{i}.weight"], params[f"fc{i}.bias"])
        if i < 2:
            h = F.relu(h)
    loss = F.cross_entropy(h, y, label_smoothing=0.1)
    dump(f"{out}/mlp.safetensors", "mlp 20-32-16-5, label smoothing 0.1", x, params, h, loss,
         {"y": y.numpy().astype(np.int32)})


def cnn(out):
    params = {}
    for name, shape in [("conv1", (32, 1, 3, 3)), ("conv2", (64, 32, 3, 3))]:
        fan = shape[1] * shape[2] * shape[3]
        params[name + ".weight"] = param(shape, 1 / math.sqrt(fan))
        params[name + ".bias"] = param((shape[0],), 1 / math.sqrt(fan))
    params["fc1.weight"], params["fc1.bias"] = linear_params(128, 64 * 2 * 2)
    params["fc2.weight"], params["fc2.bias"] = linear_params(10, 128)
    x = f32(torch.rand(4, 1, 8, 8))
    y = torch.randint(0, 10, (4,))
    h = F.max_pool2d(F.relu(F.conv2d(x, params["conv1.weight"], params["conv1.bias"], padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, params["conv2.weight"], params["conv2.bias"], padding=1)), 2)
    h = F.relu(F.linear(h.reshape(4, -1), params["fc1.weight"], params["fc1.bias"]))
    h = F.linear(h, params["fc2.weight"], params["fc2.bias"])
    loss = F.cross_entropy(h, y)
    dump(f"{out}/cnn.safetensors", "cnn conv32-pool-conv64-pool-fc128-fc10 on 8x8", x, params, h, loss,
         {"y": y.numpy().astype(np.int32)})


def gpt_block(out):
    """probkit's GPT with one block: V 16, T 8, C 16, 2 heads."""
    V, T, C, H, B = 16, 8, 16, 2, 2
    P = {}
    P["wte"] = f32(0.3 * torch.randn(V, C)).requires_grad_()
    P["wpe"] = f32(0.3 * torch.randn(T, C)).requires_grad_()
    shapes = [("ln1.weight", (C,)), ("ln1.bias", (C,)), ("attn.qkv.weight", (3 * C, C)), ("attn.qkv.bias", (3 * C,)),
              ("attn.proj.weight", (C, C)), ("attn.proj.bias", (C,)), ("ln2.weight", (C,)), ("ln2.bias", (C,)),
              ("mlp.fc.weight", (4 * C, C)), ("mlp.fc.bias", (4 * C,)), ("mlp.proj.weight", (C, 4 * C)),
              ("mlp.proj.bias", (C,))]
    for n, s in shapes:
        v = 0.3 * torch.randn(*s)
        if n.startswith("ln") and n.endswith("weight"):
            v = 1 + 0.1 * torch.randn(*s)
        P["h.0." + n] = f32(v).requires_grad_()
    P["ln_f.weight"] = f32(1 + 0.1 * torch.randn(C)).requires_grad_()
    P["ln_f.bias"] = f32(0.1 * torch.randn(C)).requires_grad_()
    tok = torch.randint(0, V, (B, T + 1))
    inp, tgt = tok[:, :T], tok[:, 1:]
    x = P["wte"][inp] + P["wpe"][:T]
    p = "h.0."
    h = F.layer_norm(x, (C,), P[p + "ln1.weight"], P[p + "ln1.bias"], 1e-5)
    qkv = F.linear(h, P[p + "attn.qkv.weight"], P[p + "attn.qkv.bias"])
    q, k, v = qkv.split(C, dim=2)
    q, k, v = (z.reshape(B, T, H, C // H).transpose(1, 2) for z in (q, k, v))
    att = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)
    att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
    a = (att @ v).transpose(1, 2).reshape(B, T, C)
    x = x + F.linear(a, P[p + "attn.proj.weight"], P[p + "attn.proj.bias"])
    h = F.layer_norm(x, (C,), P[p + "ln2.weight"], P[p + "ln2.bias"], 1e-5)
    h = F.linear(F.gelu(F.linear(h, P[p + "mlp.fc.weight"], P[p + "mlp.fc.bias"]), approximate="tanh"),
                 P[p + "mlp.proj.weight"], P[p + "mlp.proj.bias"])
    x = x + h
    x = F.layer_norm(x, (C,), P["ln_f.weight"], P["ln_f.bias"], 1e-5)
    logits = x @ P["wte"].T
    loss = F.cross_entropy(logits.reshape(-1, V), tgt.reshape(-1))
    dump(f"{out}/gpt_block.safetensors", "gpt 1 block V16 T8 C16 H2", tok, P, logits, loss)


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/nn"
    mlp(out)
    cnn(out)
    gpt_block(out)
