#!/usr/bin/python3
"""OLS benchmark: probkit's pk_ols_fit (bench_ols) against numpy.linalg.lstsq
(and statsmodels' OLS when installed) on the same 100,000 x 50 problem.

    /usr/bin/python3 bench/ols.py [--n 100000] [--p 50] [--runs 5] [--threads 1] [--seed 42]

The design (a constant column plus standard normals) and y are generated with
numpy's seeded generator and written as NPY files that bench_ols reads, so both
sides solve exactly the same problem.  Loading is excluded on both sides: numpy
times the solve in-process, bench_ols times pk_ols_fit with its own clock.
Every side runs with the same number of BLAS threads.  Coefficients must agree
to 1e-8 (relative to the largest) before anything is timed.
Writes bench/results/ols.json.
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--n", type=int, default=100000)
ap.add_argument("--p", type=int, default=50)
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--seed", type=int, default=42)
args = ap.parse_args()
harness.set_threads(args.threads)  # before numpy is imported

import numpy as np  # noqa: E402

prog = harness.find_program("bench_ols")
if prog is None:
    harness.skip(f"bench_ols not built (looked in {harness.build_dir()}); run `make build` or set PK_BUILD_DIR")

try:
    import statsmodels.api as sm  # noqa: E402
except ImportError:
    sm = None

rng = np.random.default_rng(args.seed)
X = np.column_stack([np.ones(args.n), rng.standard_normal((args.n, args.p - 1))])
beta = 0.5 * (np.arange(args.p) % 7)
y = X @ beta + rng.standard_normal(args.n)

tmp = tempfile.mkdtemp(prefix="probkit-bench-ols-")
xp, yp = os.path.join(tmp, "X.npy"), os.path.join(tmp, "y.npy")
np.save(xp, X)
np.save(yp, y)
print(f"problem: {args.n} x {args.p}, seed {args.seed}, {args.threads} thread(s), {args.runs} alternating runs")


def ours(method, hat):
    argv = [prog, xp, yp, "--method", method] + ([] if hat else ["--no-hat"])
    return harness.command(argv, seconds_key="seconds")


def numpy_lstsq():
    return np.linalg.lstsq(X, y, rcond=None)[0]


def agree(o, peer_coef):
    d = harness.max_rel_diff(o["coef"], peer_coef)
    return d <= 1e-8, {"max_rel_diff_coef": d}


params = {"n": args.n, "p": args.p, "threads": args.threads, "seed": args.seed, "runs": args.runs}
results = []
cases = [
    ("pk_ols_fit QR, full diagnostics (SE, hat, cond)", "qr", True),
    ("pk_ols_fit QR, no hat diagonal", "qr", False),
    ("pk_ols_fit SVD, full diagnostics", "svd", True),
]
try:
    for label, method, hat in cases:
        results.append(harness.compare("ols", (label, ours(method, hat)), ("numpy.linalg.lstsq (dgelsd)", numpy_lstsq),
                                       agree, runs=args.runs, params=params, write=False))
    try:
        import scipy
        import scipy.linalg as sla

        def scipy_gelsy():
            return sla.lstsq(X, y, lapack_driver="gelsy", check_finite=False)[0]
        results.append(harness.compare("ols", (cases[1][0], ours("qr", False)),
                                       (f"scipy.linalg.lstsq gelsy (pivoted QR), scipy {scipy.__version__}",
                                        scipy_gelsy), agree, runs=args.runs, params=params, write=False))
    except ImportError:
        print("scipy not installed: that peer is skipped")
    if sm is not None:
        def sm_fit():
            r = sm.OLS(y, X).fit()
            _ = r.bse  # standard errors, like ours
            return r.params
        results.append(harness.compare("ols", (cases[0][0], ours("qr", True)), ("statsmodels OLS (pinv) + bse", sm_fit),
                                       agree, runs=args.runs, params=params, write=False))
    else:
        print("statsmodels not installed: that peer is skipped")
finally:
    for f in (xp, yp):
        os.remove(f)
    os.rmdir(tmp)

harness.write_result("ols", {
    "name": "ols",
    "summary": {r["ours"]["label"] + " vs " + r["peer"]["label"]: r["ratio_ours_over_peer"] for r in results},
    "statsmodels": "not installed" if sm is None else sm.__version__ if hasattr(sm, "__version__") else "installed",
    "benchmarks": results,
})
