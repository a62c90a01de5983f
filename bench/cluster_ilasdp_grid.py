#!/usr/bin/python3
"""iLA-SDP on a slice of the paper's simulation grid, through the `probkit cluster` CLI.

    /usr/bin/python3 bench/cluster_ilasdp_grid.py [--reps 10] [--seed 42] [--slice small|medium|n200]
                                                  [--out NAME]

Data (numpy, seeded; the model of repro/ilasdp.c): K clusters of equal size, cluster c centred at
(delta / sqrt 2) e_c (K = 3, pairwise distance delta) or at 0 / delta e_1 (K = 2); covariances I
for all ("equal") or I / 4I / AR(0.5) for clusters 0 / 1 / 2 ("unequal"; I / 4I when K = 2).  Each data set is
clustered by every method with the same CLI seed; the mis-clustering error (Hungarian matching)
comes from the CLI's --label summary.  Methods: K-means (10 k-means++ restarts), Peng-Wei SDP,
GMM-EM full and diagonal covariances (k-means++ start), and iLA-SDP (SDP start).

Writes per-configuration means, standard errors and win counts to the JSON.  Heavy: run niced
(an n = 200 LA-SDP solve takes ~5 s of CPU, n = 100 under 1 s).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--reps", type=int, default=10)
ap.add_argument("--seed", type=int, default=42)
ap.add_argument("--slice", choices=["small", "medium", "n200"], default="medium")
ap.add_argument("--out", default=None, help="result name (default cluster_ilasdp_grid)")
args = ap.parse_args()
harness.set_threads(1)

import numpy as np  # noqa: E402
from cluster_gen import gen  # noqa: E402  (imports numpy: after set_threads)

prog = harness.find_program("probkit")
if prog is None:
    harness.skip(f"probkit not built (looked in {harness.build_dir()}); set PK_BUILD_DIR")

METHODS = {
    "kmeans": ["--method", "kmeans", "--n-init", "10"],
    "sdp": ["--method", "sdp"],
    "em_full": ["--method", "gmm", "--cov", "full"],
    "em_diag": ["--method", "gmm", "--cov", "diag"],
    "ila_sdp": ["--method", "ila-sdp"],
}


def run_cli(path, K, flags, seed):
    cmd = [prog, "cluster", "--k", str(K), "--label", "y", "--json", "--seed", str(seed)] + flags + [path]
    cp = subprocess.run(cmd, capture_output=True, text=True)
    if cp.returncode != 0:
        return None, cp.stderr.strip()
    out = json.loads(cp.stdout)
    return out, None


def find_error(out):
    for key in ("error", "mis_clustering_error", "misclustering_error"):
        if key in out:
            return out[key]
    ev = out.get("evaluation") or out.get("label_scores") or {}
    return ev.get("error")


if args.slice == "n200":  # the paper's n = 200 for K = 2 (100 points per cluster)
    configs = [(2, 200, 2, True, 4.0), (2, 200, 10, True, 4.0), (2, 200, 10, False, 4.0), (2, 200, 50, True, 4.0)]
elif args.slice == "small":
    configs = [(2, 100, 2, True, 3.0), (2, 100, 10, True, 4.0), (3, 150, 2, True, 4.0), (3, 150, 2, False, 4.0)]
else:  # the paper's n = 100 (K = 2) and 50 points per cluster (K = 3); n = 200, 400 cost 8-64x more
    configs = []
    for K, n in ((2, 100), (3, 150)):
        for p in (2, 10, 50):
            for het in (True, False):
                configs.append((K, n, p, het, 4.0))
    configs += [(2, 100, 2, True, d) for d in (2.0, 3.0, 5.0)]

rng = np.random.default_rng(args.seed)
tmp = tempfile.mkdtemp(prefix="probkit-ilagrid-")
rows = []
t_start = time.time()
for (K, n, p, het, delta) in configs:
    errs = {m: [] for m in METHODS}
    fails = {m: 0 for m in METHODS}
    t0 = time.time()
    for rep in range(args.reps):
        X, y = gen(rng, K, n, p, het, delta)
        path = os.path.join(tmp, "data.csv")
        with open(path, "w") as f:
            f.write(",".join([f"x{t}" for t in range(p)] + ["y"]) + "\n")
            for i in range(n):
                f.write(",".join(f"{v:.17g}" for v in X[i]) + f",{y[i]}\n")
        for m, flags in METHODS.items():
            out, msg = run_cli(path, K, flags, args.seed + rep)
            e = find_error(out) if out else None
            if e is None:
                fails[m] += 1
                if msg:
                    print(f"  {m} failed: {msg}", file=sys.stderr)
                continue
            errs[m].append(e)
    cov = ("I / 4I / AR(0.5)" if K == 3 else "I / 4I") if het else "equal I"
    row = {"K": K, "n": n, "p": p, "cov": cov, "delta": delta,
           "reps": args.reps, "seconds": round(time.time() - t0, 1)}
    for m in METHODS:
        v = errs[m]
        row[m] = {"mean": statistics.fmean(v) if v else None,
                  "se": (statistics.stdev(v) / len(v) ** 0.5) if len(v) > 1 else None, "failed": fails[m]}
    ila = errs["ila_sdp"]
    for m in ("kmeans", "sdp", "em_full", "em_diag"):
        if len(errs[m]) == len(ila):
            row[f"ila_below_{m}"] = sum(a < b - 1e-12 for a, b in zip(ila, errs[m]))
            row[f"ila_above_{m}"] = sum(a > b + 1e-12 for a, b in zip(ila, errs[m]))
    rows.append(row)
    print(f"K={K} n={n} p={p} {row['cov']} delta={delta}: " +
          ", ".join(f"{m} {row[m]['mean']:.3f}" if row[m]["mean"] is not None else f"{m} -" for m in METHODS) +
          f"  ({row['seconds']} s)", flush=True)

    # written after every configuration, so that a stopped run keeps what it measured
    harness.write_result(args.out or "cluster_ilasdp_grid", {
        "name": args.out or "cluster_ilasdp_grid",
        "what": "mis-clustering error (mean over reps, Hungarian matching) of each method per configuration",
        "methods": {m: " ".join(f) for m, f in METHODS.items()},
        "seed": args.seed, "slice": args.slice, "total_seconds": round(time.time() - t_start, 1),
        "complete": len(rows) == len(configs),
        "rows": rows, "machine": harness.machine_info(), "versions": harness.versions(),
    })
