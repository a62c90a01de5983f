#!/usr/bin/python3
"""Optimised packings with torch, following the procedure of the authors' optimized_packing_sweep.py
("Representational Capacity"): k unit vectors in R^d, Adam (lr 0.005) on the sum over the
off-diagonal Gram entries of |G_ij|^p through the column normalisation, float32; the largest
|G_ij| of the last of `steps` Gram evaluations.  Several seeds per cell: pk_packing_optimize
must give the same distribution (tests/metrics/test_capacity.c)."""
import os

import numpy as np
import torch

torch.set_num_threads(2)


def packing(d, k, steps, p, seed):
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(d, k, generator=g, dtype=torch.float32)
    v = torch.nn.functional.normalize(v, dim=0).requires_grad_(True)
    opt = torch.optim.Adam([v], lr=0.005)
    eye = torch.eye(k)
    for s in range(steps):
        opt.zero_grad()
        u = torch.nn.functional.normalize(v, dim=0)
        off = u.T @ u - eye
        if s == steps - 1:
            return off.abs().max().item()
        (off.abs() ** p).sum().backward()
        opt.step()


lines = []
for d, k, steps, p in [(16, 128, 1500, 14)]:  # torch is slow here; one cell suffices for the test
    e = [packing(d, k, steps, p, s) for s in range(8)]
    lines.append(f"torch_packing {d} {k} {steps} {p} {np.mean(e):.8g} {np.std(e, ddof=1):.8g}")
    print(lines[-1])
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "metrics", "packing_torch.txt")
with open(path, "w") as f:
    f.write("\n".join(lines) + "\n")
