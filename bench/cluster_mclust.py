#!/usr/bin/python3
"""GMM-EM (full covariances) against R's mclust (model "VVV", Debian's r-cran-mclust): probkit
(bench_cluster gmm) and mclust::me() run the same EM from the same start on the same data.

    /usr/bin/python3 bench/cluster_mclust.py [--runs 5] [--threads 1] [--seed 42] [--reps N]

Problems: a synthetic mixture (n = 20000, d = 10, K = 5, unequal full covariances), iris (K = 3)
and wine (K = 3) from scikit-learn's bundled CSVs.  Start: the hard assignment z of a k-means
run (numpy/sklearn, seeded); mclust::me() begins with the M-step from z, and probkit is handed
exactly that M-step's weights, means and covariances (scatter / n_k), so both then alternate
E and M steps from the same parameters.  No covariance regularisation on either side
(mclust has none; probkit reg_covar = 0).  Both run ITERS iterations with tolerance 0 (mclust
stops earlier only when the log-likelihood stops changing at all; its iteration count is used).

Agreement first: the final total log-likelihood (probkit: mean log-likelihood x n) must match
mclust's to 1e-6 relative.  Per-iteration time = (time at ITERS - time at 1 iteration) /
(iterations - 1) on both sides, measured inside each program (R start-up and data loading are
excluded); for the small data sets each timing repeats the fit --reps times.
Writes bench/results/cluster_mclust.json (one entry per problem).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--seed", type=int, default=42)
args = ap.parse_args()
harness.set_threads(args.threads)
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import numpy as np  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402

prog = harness.find_program("bench_cluster")
if prog is None:
    harness.skip(f"bench_cluster not built (looked in {harness.build_dir()}); set PK_BUILD_DIR")
try:
    ver = subprocess.run(["Rscript", "-e", "cat(as.character(packageVersion('mclust')))"], capture_output=True,
                         text=True, timeout=60)
except (OSError, subprocess.TimeoutExpired):
    ver = None
if ver is None or ver.returncode != 0:
    harness.skip("Rscript with the mclust package not available (apt-get install r-cran-mclust)")
mclust_version = ver.stdout.strip()

R_SCRIPT = r"""
suppressMessages(library(mclust))
a <- commandArgs(trailingOnly = TRUE)
X <- as.matrix(read.csv(a[1], header = FALSE))
z <- as.matrix(read.csv(a[2], header = FALSE))
iters <- as.integer(a[3]); reps <- as.integer(a[4])
ctl <- function(it) emControl(tol = c(0, sqrt(.Machine$double.eps)), itmax = c(it, .Machine$integer.max))
timed <- function(it) {
  t0 <- proc.time()
  for (r in seq_len(reps)) fit <- me(X, modelName = "VVV", z = z, control = ctl(it))
  t <- proc.time() - t0
  list(fit = fit, wall = t[["elapsed"]] / reps, cpu = (t[["user.self"]] + t[["sys.self"]]) / reps)
}
one <- timed(1L); full <- timed(iters)
info <- attr(full$fit, "info")
done <- abs(info[1])
cat(sprintf('{"loglik": %.17g, "n_iter": %d, "wall_1": %.9g, "wall_n": %.9g, "cpu_1": %.9g, "cpu_n": %.9g}\n',
            full$fit$loglik, as.integer(done), one$wall, full$wall, one$cpu, full$cpu))
"""

tmp = tempfile.mkdtemp(prefix="probkit-bench-mclust-")
rpath = os.path.join(tmp, "me.R")
with open(rpath, "w") as f:
    f.write(R_SCRIPT)


def problem_synthetic(rng):
    n, d, k = 20000, 10, 5
    means = rng.normal(scale=4.0, size=(k, d))
    lab = rng.integers(0, k, size=n)
    A = rng.normal(size=(k, d, d)) / np.sqrt(d)
    covs = np.stack([a @ a.T + 0.5 * np.eye(d) for a in A])
    X = np.stack([rng.multivariate_normal(means[j], covs[j]) for j in lab])
    return X, k


def problem_csv(name, ncol):
    path = os.path.join("/usr/lib/python3/dist-packages/sklearn/datasets/data", name)
    X = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(ncol))
    return X, 3


def mstep(X, lab, k):
    """mclust's VVV M-step from a hard assignment: proportions, means, scatter / n_k."""
    W = np.bincount(lab, minlength=k) / len(lab)
    M = np.stack([X[lab == j].mean(0) for j in range(k)])
    S = np.stack([np.cov(X[lab == j].T, bias=True) for j in range(k)])
    return W, M, S


def run_problem(name, X, k, iters, reps):
    n, d = X.shape
    lab = KMeans(n_clusters=k, n_init=10, random_state=args.seed).fit(X).labels_
    W, M, S = mstep(X, lab, k)
    base = os.path.join(tmp, name)
    paths = {s: f"{base}_{s}.npy" for s in ("X", "W", "M", "S")}
    for s, arr in (("X", X), ("W", W), ("M", M), ("S", S)):
        np.save(paths[s], arr)
    np.savetxt(base + "_X.csv", X, delimiter=",", fmt="%.17g")
    np.savetxt(base + "_z.csv", np.eye(k)[lab], delimiter=",", fmt="%.17g")

    def ours():
        tot_w = tot_c = 0.0
        out = None
        for _ in range(reps):
            cp = subprocess.run([prog, "gmm", paths["X"], paths["W"], paths["M"], paths["S"], str(iters), "0"],
                                capture_output=True, text=True)
            if cp.returncode != 0:
                raise RuntimeError(f"bench_cluster gmm failed: {cp.stderr.strip()}")
            out = json.loads(cp.stdout)
            tot_w += out["seconds"]
            tot_c += out["cpu_seconds"]
        return harness.Timed(tot_w / reps, {"loglik": out["lower_bound"] * n, "n_iter": out["n_iter"],
                                            "cpu_seconds": tot_c / reps})

    def peer():
        cp = subprocess.run(["Rscript", rpath, base + "_X.csv", base + "_z.csv", str(iters), str(reps)],
                            capture_output=True, text=True)
        if cp.returncode != 0:
            raise RuntimeError(f"Rscript mclust failed: {cp.stderr.strip()}")
        o = json.loads(cp.stdout.strip().splitlines()[-1])
        m = max(o["n_iter"] - 1, 1)
        return harness.Timed((o["wall_n"] - o["wall_1"]) / m, {"loglik": o["loglik"], "n_iter": o["n_iter"],
                                                                "cpu_seconds": (o["cpu_n"] - o["cpu_1"]) / m})

    def agree(o, p):
        rel = abs(o["loglik"] - p["loglik"]) / abs(p["loglik"])
        return rel <= 1e-6, {"loglik_ours": o["loglik"], "loglik_mclust": p["loglik"], "rel_diff_loglik": rel,
                             "n_iter": [o["n_iter"], p["n_iter"]]}

    co, cp_ = [], []

    def keep(fn, store):
        def call():
            r = fn()
            store.append(r.output["cpu_seconds"])
            return r
        return call

    res = harness.compare(f"cluster_mclust_{name}", ("pk_gmm_fit (full, reg 0), per EM iteration", keep(ours, co)),
                          (f"mclust {mclust_version} me(modelName='VVV'), per EM iteration", keep(peer, cp_)),
                          agree, runs=args.runs, write=False,
                          params={"problem": name, "n": n, "d": d, "k": k, "iters": iters, "reps": reps,
                                  "threads": args.threads, "seed": args.seed},
                          notes="same start (M-step of the same k-means hard assignment), tol 0, no "
                                "regularisation; per-iteration = (t(ITERS) - t(1)) / (iterations - 1), timed "
                                "inside each program")
    import statistics
    mo, mp = statistics.median(co[1:]), statistics.median(cp_[1:])
    res["ours"]["cpu_median"], res["peer"]["cpu_median"] = mo, mp
    res["speedup_wall"] = res["peer"]["median"] / res["ours"]["median"] if res["ours"]["median"] > 0 else None
    res["speedup_cpu"] = mp / mo if mo > 0 else None
    res["versions"]["mclust"] = mclust_version
    print(f"  {name}: speed-up {res['speedup_wall']:.3g}x wall, {res['speedup_cpu']:.3g}x CPU; "
          f"log-likelihood ours {res['agreement']['loglik_ours']:.10g} mclust {res['agreement']['loglik_mclust']:.10g}")
    return res


rng = np.random.default_rng(args.seed)
results = []
Xs, ks = problem_synthetic(rng)
results.append(run_problem("synthetic", Xs, ks, iters=50, reps=1))
Xi, ki = problem_csv("iris.csv", 4)
results.append(run_problem("iris", Xi, ki, iters=100, reps=20))
Xw, kw = problem_csv("wine_data.csv", 13)
results.append(run_problem("wine", Xw, kw, iters=100, reps=20))
harness.write_result("cluster_mclust", results)
