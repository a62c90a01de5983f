#!/usr/bin/python3
"""Wasserstein prior matching: `probkit funcprior` against the same algorithm
written in PyTorch (autograd through the sort and the whitening solve).

    /usr/bin/python3 bench/funcprior.py [--steps 300] [--runs 3] [--threads 1]

Both fit the per-layer prior scales of a 1-32-32-1 tanh BNN to an RBF GP
(sf2 = 1, ell = 1) on [-3, 3] with the same settings: Adam (lr 0.05) on
softplus^-1 of the scales, 64 BNN and 64 GP functions at 16 fresh uniform
points per step, sliced W1 over 32 random directions after whitening by
(K + 0.01 mean(diag K) I).  Their random streams differ, so agreement is
statistical: both must cut the distance at least in half and end within a
factor 1.5 of each other (distances evaluated the same way: 256 functions, 2
repetitions, at 16 uniform points).  Writes bench/results/funcprior.json.
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--steps", type=int, default=300)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--seed", type=int, default=42)
args = ap.parse_args()
harness.set_threads(args.threads)

try:
    import torch
except ImportError:
    harness.skip("torch is not installed for /usr/bin/python3")
prog = harness.find_program("probkit")
if not prog:
    harness.skip("probkit is not built (set PK_BUILD_DIR)")
torch.set_num_threads(args.threads)
torch.set_default_dtype(torch.float64)

W, S, M, K, LR, WH = 32, 64, 16, 32, 0.05, 0.01
dims = [1, W, W, 1]


def rbf(x):
    d = x[:, None, 0] - x[None, :, 0]
    return torch.exp(-0.5 * d * d)


def whitener(x):
    k = rbf(x)
    reg = WH * k.diagonal().mean()
    return torch.linalg.cholesky(k + reg * torch.eye(len(x)))


def gp_draw(x, n, gen):
    k = rbf(x)
    jit = 1e-8 * k.diagonal().mean()
    lc = torch.linalg.cholesky(k + jit * torch.eye(len(x)))
    return torch.randn(n, len(x), generator=gen) @ lc.T


def bnn_draw(x, n, ws, bs, gen):
    h = x.expand(n, -1, -1)  # (n, m, 1)
    for l in range(3):
        fan = dims[l]
        w = ws[l] / math.sqrt(fan) * torch.randn(n, fan, dims[l + 1], generator=gen)
        b = bs[l] * torch.randn(n, 1, dims[l + 1], generator=gen)
        h = h @ w + b
        if l < 2:
            h = torch.tanh(h)
    return h[..., 0]


def sliced_w1(a, b, gen):
    u = torch.randn(K, a.shape[1], generator=gen)
    u = u / u.norm(dim=1, keepdim=True)
    pa, _ = torch.sort(a @ u.T, dim=0)
    pb, _ = torch.sort(b @ u.T, dim=0)
    return (pa - pb).abs().mean()


def distance(x, ws, bs, gen):
    lw = whitener(x)
    tot = 0.0
    for _ in range(2):
        fa = torch.linalg.solve_triangular(lw, bnn_draw(x, 256, ws, bs, gen).T, upper=False).T
        fb = torch.linalg.solve_triangular(lw, gp_draw(x, 256, gen).T, upper=False).T
        tot += float(sliced_w1(fa, fb, gen))
    return tot / 2


def run_peer():
    gen = torch.Generator().manual_seed(args.seed)
    sp_inv = lambda s: math.log(math.expm1(s))  # noqa: E731
    init_w = [1.0, math.sqrt(W), math.sqrt(W)]
    rho_w = torch.tensor([sp_inv(v) for v in init_w], requires_grad=True)
    rho_b = torch.tensor([sp_inv(1.0)] * 3, requires_grad=True)
    xe = -3 + 6 * torch.rand(M, 1, generator=gen)
    with torch.no_grad():
        d0 = distance(xe, init_w, [1.0] * 3, gen)
    opt = torch.optim.Adam([rho_w, rho_b], lr=LR)
    for _ in range(args.steps):
        x = -3 + 6 * torch.rand(M, 1, generator=gen)
        ws, bs = torch.nn.functional.softplus(rho_w), torch.nn.functional.softplus(rho_b)
        lw = whitener(x)
        fa = torch.linalg.solve_triangular(lw, bnn_draw(x, S, ws, bs, gen).T, upper=False).T
        with torch.no_grad():
            fb = torch.linalg.solve_triangular(lw, gp_draw(x, S, gen).T, upper=False).T
        loss = sliced_w1(fa, fb, gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        ws, bs = torch.nn.functional.softplus(rho_w), torch.nn.functional.softplus(rho_b)
        d1 = distance(xe, ws, bs, gen)
    return {"distance_before": d0, "distance_after": d1, "w_std": ws.tolist(), "b_std": bs.tolist()}


ours_argv = [prog, "funcprior", "--json", "--hidden", f"{W},{W}", "--steps", str(args.steps), "--samples", str(S),
             "--measure", str(M), "--proj", str(K), "--lr", str(LR), "--whiten", str(WH), "--seed", str(args.seed)]


def check(a, b):
    ok_a = a["distance_after"] < 0.5 * a["distance_before"]
    ok_b = b["distance_after"] < 0.5 * b["distance_before"]
    ratio = a["distance_after"] / b["distance_after"]
    print(f"ours: {a['distance_before']:.4f} -> {a['distance_after']:.4f}; torch: {b['distance_before']:.4f} -> "
          f"{b['distance_after']:.4f}; ratio {ratio:.3f}", file=sys.stderr)
    return ok_a and ok_b and 1 / 1.5 < ratio < 1.5


harness.compare("funcprior",
                ours=("probkit funcprior (C, hand-written backward)", harness.command(ours_argv)),
                peer=(f"PyTorch {torch.__version__} (autograd), same algorithm", run_peer),
                check=check, runs=args.runs,
                params={"net": "1-32-32-1 tanh", "steps": args.steps, "samples": S, "measure": M, "proj": K,
                        "lr": LR, "whiten": WH, "threads": args.threads},
                notes="Statistical agreement only (different random streams): both halve the distance and end within "
                      "a factor 1.5.  Times are whole runs (ours includes process start).")
