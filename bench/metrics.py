#!/usr/bin/python3
"""Metrics benchmark: probkit's pk_calib_compute (bench_metrics calib) against
scikit-learn's brier_score_loss + log_loss + roc_auc_score, and pk_spearman
against scipy.stats.spearmanr, on the same n = 1,000,000 problem.

    /usr/bin/python3 bench/metrics.py [--n 1000000] [--runs 5] [--seed 42]

Data are generated with numpy's seeded generator and written as NPY files that
bench_metrics reads; loading is excluded on both sides.  Ours computes more per
call (ECE, equal-mass ECE, MCE, KS as well) than the three sklearn calls; the
comparison is of what a user runs to get Brier, NLL and AUC.  Results must agree
(1e-9 relative) before anything is timed.  Writes bench/results/metrics.json.
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--n", type=int, default=1000000)
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--seed", type=int, default=42)
args = ap.parse_args()
harness.set_threads(1)

import numpy as np  # noqa: E402

try:
    from scipy import stats
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
except ImportError as e:
    harness.skip(f"peer missing: {e}")
prog = harness.find_program("bench_metrics")
if prog is None:
    harness.skip(f"bench_metrics not built (looked in {harness.build_dir()})")

rng = np.random.default_rng(args.seed)
pt = rng.beta(2, 3, args.n)
y = (rng.random(args.n) < pt).astype(float)
p = 1 / (1 + np.exp(-(np.log(pt / (1 - pt)) * 1.5 + rng.normal(0, 0.3, args.n))))
x2 = np.arange(args.n, dtype=float)
l2 = -0.1 * x2 / args.n + rng.normal(size=args.n)
tmp = tempfile.mkdtemp(prefix="probkit-bench-metrics-")
paths = {k: os.path.join(tmp, k + ".npy") for k in ("p", "y", "x", "l")}
np.save(paths["p"], p)
np.save(paths["y"], y)
np.save(paths["x"], x2)
np.save(paths["l"], l2)
params = {"n": args.n, "seed": args.seed, "runs": args.runs, "threads": 1}
print(f"problem: n = {args.n}, seed {args.seed}, {args.runs} alternating runs")


def sk_calib():
    return {"brier": brier_score_loss(y, p), "nll": log_loss(y, p), "auc": roc_auc_score(y, p)}


def sp_spearman():
    r = stats.spearmanr(x2, l2)
    return {"rho": r.correlation, "p": r.pvalue}


def agree_calib(o, s):
    d = max(abs(o[k] - s[k]) / abs(s[k]) for k in ("brier", "nll", "auc"))
    return d <= 1e-9, {"max_rel_diff": d}


def agree_spearman(o, s):
    d = abs(o["rho"] - s["rho"]) / abs(s["rho"])
    dp = abs(o["log10_p"] - np.log10(s["p"])) if s["p"] > 0 else 0.0
    return d <= 1e-9 and dp <= 1e-6, {"rel_diff_rho": d, "abs_diff_log10_p": dp}


try:
    results = [
        harness.compare("metrics", ("pk_calib_compute (Brier, NLL, AUC, ECE x2, MCE, KS)",
                                    harness.command([prog, "calib", paths["p"], paths["y"]], seconds_key="seconds")),
                        ("sklearn brier_score_loss + log_loss + roc_auc_score", sk_calib), agree_calib,
                        runs=args.runs, params=params, write=False),
        harness.compare("metrics", ("pk_spearman (rho, log10 p)",
                                    harness.command([prog, "spearman", paths["x"], paths["l"]], seconds_key="seconds")),
                        ("scipy.stats.spearmanr", sp_spearman), agree_spearman, runs=args.runs, params=params,
                        write=False),
    ]
finally:
    for f in paths.values():
        os.remove(f)
    os.rmdir(tmp)

harness.write_result("metrics", {
    "name": "metrics",
    "summary": {r["ours"]["label"] + " vs " + r["peer"]["label"]: r["ratio_ours_over_peer"] for r in results},
    "benchmarks": results,
})
