#!/usr/bin/python3
"""WINA sparse decoding product against numpy's dense matrix-vector product.

    /usr/bin/python3 bench/wina.py [--out 2048] [--n 8192] [--tokens 128] [--runs 5] [--sparsity 0,0.5,0.65]

One token at a time (decoding), W float32 (out x n) with unequal column norms,
x float32.  Ours (bench_wina): the WINA mask (top-k of |x_i| ||W[:, i]||) plus the
product that reads only the kept rows of W^T; peer: numpy W @ x, dense (what the
layer costs without sparsity).  Before timing, our output must equal numpy's
product with the same mask (W @ (m * x)) to 1e-5 relative.  Writes
bench/results/wina.json: one comparison per sparsity; ratio < 1 = ours faster.
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--out", type=int, default=2048)
ap.add_argument("--n", type=int, default=8192)
ap.add_argument("--tokens", type=int, default=128)
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--sparsity", default="0,0.5,0.65")
args = ap.parse_args()
harness.set_threads(1)
import numpy as np  # noqa: E402

prog = harness.find_program("bench_wina")
if not prog:
    harness.skip("bench_wina not built (cmake --build <dir> --target bench_wina; PK_BUILD_DIR=<dir>)")
rng = np.random.default_rng(42)
W = (rng.standard_normal((args.out, args.n)) * rng.uniform(0.1, 2.0, args.n)).astype(np.float32)
X = rng.standard_normal((args.tokens, args.n)).astype(np.float32)
cn = np.linalg.norm(W.astype(np.float64), axis=0)
tmp = tempfile.mkdtemp()
wp, xp, yp = (os.path.join(tmp, f) for f in ("W.npy", "X.npy", "Y.npy"))
np.save(wp, W)
np.save(xp, X)


def peer():
    t0 = time.perf_counter()
    Y = np.empty((args.tokens, args.out), dtype=np.float32)
    for t in range(args.tokens):
        Y[t] = W @ X[t]
    return harness.Timed(time.perf_counter() - t0, Y)


results = []
for s in (float(v) for v in args.sparsity.split(",")):
    k = args.n - int(np.floor(s * args.n + 1e-9))
    ours = harness.command([prog, wp, xp, yp, "--sparsity", str(s), "--repeat", "1"], seconds_key="seconds")

    def check(o, p, k=k):
        Yo = np.load(yp)
        sc = np.abs(X.astype(np.float64)) * cn
        ref = np.empty_like(Yo, dtype=np.float64)
        for t in range(args.tokens):
            keep = np.argsort(-sc[t], kind="stable")[:k]
            ref[t] = W[:, keep].astype(np.float64) @ X[t, keep].astype(np.float64)
        d = harness.max_rel_diff(Yo.ravel(), ref.ravel())
        return d <= 1e-5, {"max_rel_diff_vs_masked_numpy": d, "kept": k}

    results.append(harness.compare(f"wina_{int(round(100 * s))}", (f"pk_wina mask + sparse product at {s}", ours),
                                   ("numpy dense W @ x (float32)", peer), check, runs=args.runs, write=False,
                                   params={"out": args.out, "n": args.n, "tokens": args.tokens, "sparsity": s,
                                           "threads": 1}))
harness.write_result("wina", results)
