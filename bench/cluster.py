#!/usr/bin/python3
"""K-means and GMM-EM (full covariance) benchmark: probkit (bench_cluster) against
scikit-learn on the same n x d data with K clusters, the same starting point and the
same number of iterations.

    /usr/bin/python3 bench/cluster.py [--n 100000] [--d 50] [--k 20] [--iters 20] [--gmm-iters 6]
                                      [--runs 3] [--threads 2] [--seed 42]
                                      [--only hamerly|lloyd|lloyd-float|elkan|gmm ...] [--skip-gmm]
                                      [--wait-policy passive|active|default]

Data: K Gaussian blobs (numpy seeded), written as NPY; K-means starts from the same
k-means++-free initial centres (K random rows), GMM-EM from the same weights, means and
covariances (one M-step of those centres' hard assignment).  Agreement first: final inertia
(K-means) and mean log-likelihood (GMM) must match to 1e-6 relative.  Per-iteration time:
K-means = fit time / iterations on both sides; GMM = (time at ITERS - time at 1) / (ITERS - 1)
on both sides, so scikit-learn's parameter set-up and ours cancel.
Writes bench/results/cluster_kmeans.json (our Hamerly vs scikit-learn's default Lloyd),
cluster_kmeans_lloyd.json (Lloyd vs Lloyd; ours screens in bfloat16 where the CPU has AVX-512
BF16), cluster_kmeans_lloyd_float.json (only with --only lloyd-float: our Lloyd with the float
search), cluster_kmeans_elkan.json (Hamerly vs Elkan) and
cluster_gmm.json, each with wall and CPU (all threads) seconds per iteration.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--n", type=int, default=100000)
ap.add_argument("--d", type=int, default=50)
ap.add_argument("--k", type=int, default=20)
ap.add_argument("--iters", type=int, default=20)
ap.add_argument("--gmm-iters", type=int, default=6)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--seed", type=int, default=42)
ap.add_argument("--skip-gmm", action="store_true")
ap.add_argument("--only", choices=["hamerly", "lloyd", "lloyd-float", "elkan", "gmm"], action="append",
                help="run only these comparisons (repeatable; default all)")
ap.add_argument("--wait-policy", choices=["passive", "active", "default"], default="passive",
                help="OMP_WAIT_POLICY for both sides (default passive: on a shared, oversubscribed machine "
                     "spinning OpenMP threads burn the CPU the other thread needs)")
args = ap.parse_args()
harness.set_threads(args.threads)
if args.wait_policy != "default":
    os.environ["OMP_WAIT_POLICY"] = args.wait_policy.upper()  # before numpy/sklearn load libgomp

import numpy as np  # noqa: E402
import sklearn  # noqa: E402,F401
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402

prog = harness.find_program("bench_cluster")
if prog is None:
    harness.skip(f"bench_cluster not built (looked in {harness.build_dir()}); set PK_BUILD_DIR")

rng = np.random.default_rng(args.seed)
n, d, k = args.n, args.d, args.k
centres = rng.normal(scale=3.0, size=(k, d))
lab = rng.integers(0, k, size=n)
X = centres[lab] + rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=k)[lab][:, None]
C0 = X[rng.choice(n, size=k, replace=False)].copy()
tmp = tempfile.mkdtemp(prefix="probkit-bench-cluster-")
paths = {name: os.path.join(tmp, name + ".npy") for name in ["X", "C0", "W0", "M0", "S0"]}
np.save(paths["X"], X)
np.save(paths["C0"], C0)
print(f"problem: n = {n}, d = {d}, K = {k}, {args.threads} thread(s), seed {args.seed}, {args.runs} runs")
params = {"n": n, "d": d, "k": k, "threads": args.threads, "seed": args.seed, "runs": args.runs,
          "omp_wait_policy": args.wait_policy}


def with_cpu(fn, store):
    """Wrap a timed callable so that the CPU seconds (all threads) it reports are kept too."""

    def call():
        r = fn()
        store.append(r.output["cpu_seconds"])
        return r

    return call


def finish(res, cpu_ours, cpu_peer):
    """Add CPU-time medians (timed rounds only: the first entry is the agreement call) and rewrite."""
    co, cp = cpu_ours[1:], cpu_peer[1:]
    mo, mp = statistics.median(co), statistics.median(cp)
    res["ours"]["cpu_seconds"], res["ours"]["cpu_median"] = co, mo
    res["peer"]["cpu_seconds"], res["peer"]["cpu_median"] = cp, mp
    res["cpu_ratio_ours_over_peer"] = mo / mp if mp > 0 else None
    res["speedup_wall"] = 1 / res["ratio_ours_over_peer"] if res["ratio_ours_over_peer"] else None
    res["speedup_cpu"] = mp / mo if mo > 0 else None
    print(f"{res['name']}: CPU seconds per iteration ours {mo:.4g}, peer {mp:.4g}: speed-up "
          f"{res['speedup_wall']:.3g}x wall, {res['speedup_cpu']:.3g}x CPU")
    harness.write_result(res["name"], res)


def sk_kmeans_with(algorithm):
    def run():
        t0, c0 = time.perf_counter(), time.process_time()
        km = KMeans(n_clusters=k, init=C0, n_init=1, max_iter=args.iters, tol=0.0, algorithm=algorithm).fit(X)
        t, c = time.perf_counter() - t0, time.process_time() - c0
        return harness.Timed(t / km.n_iter_, {"inertia": km.inertia_, "n_iter": km.n_iter_,
                                              "cpu_seconds": c / km.n_iter_})

    return run


def agree_km(o, p):
    rel = abs(o["inertia"] - p["inertia"]) / p["inertia"]
    return rel <= 1e-6 and o["n_iter"] == p["n_iter"], {"rel_diff_inertia": rel, "n_iter": [o["n_iter"], p["n_iter"]]}


kp = dict(params, iters=args.iters)
# ours (algorithm) against scikit-learn (algorithm): the headline pits each library's default
# (our Hamerly, scikit-learn's Lloyd); then exhaustive against exhaustive, bounds against bounds.
# lloyd-float: our Lloyd with the float search only (PK_KMEANS_SCREEN_FLOAT), i.e. without the
# bfloat16 screening that our Lloyd uses where the CPU has AVX-512 BF16.
for key, algo, sk_algo, name in (("hamerly", "hamerly", "lloyd", "cluster_kmeans"),
                                 ("lloyd", "lloyd", "lloyd", "cluster_kmeans_lloyd"),
                                 ("lloyd-float", "lloyd", "lloyd", "cluster_kmeans_lloyd_float"),
                                 ("elkan", "hamerly", "elkan", "cluster_kmeans_elkan")):
    if (args.only and key not in args.only) or (not args.only and key == "lloyd-float"):
        continue
    co, cp = [], []
    extra = ["float"] if key == "lloyd-float" else []
    res = harness.compare(name, (f"pk_kmeans_fit ({algo}{', float search' if extra else ''}), per iteration",
                                 with_cpu(harness.command([prog, "kmeans", paths["X"], paths["C0"], str(args.iters),
                                                           algo] + extra, seconds_key="seconds"), co)),
                          (f"sklearn.cluster.KMeans(algorithm='{sk_algo}'), per iteration",
                           with_cpu(sk_kmeans_with(sk_algo), cp)),
                          agree_km, runs=args.runs, params=kp, write=False,
                          notes="same initial centres, tol = 0, same iteration count; seconds are per iteration "
                                "(fit time / iterations); cpu_seconds = process CPU time of all threads")
    finish(res, co, cp)

if args.skip_gmm or (args.only and "gmm" not in args.only):
    sys.exit(0)
# GMM start: hard assignment to C0, one M-step (full covariances + 1e-6 ridge)
lab0 = np.argmin(((X[:, None, :] - C0[None]) ** 2).sum(-1), axis=1)
W0 = np.bincount(lab0, minlength=k) / n
M0 = np.stack([X[lab0 == j].mean(0) for j in range(k)])
S0 = np.stack([np.cov(X[lab0 == j].T, bias=True) + 1e-6 * np.eye(d) for j in range(k)])
np.save(paths["W0"], W0)
np.save(paths["M0"], M0)
np.save(paths["S0"], S0)
P0 = np.linalg.inv(S0)


def sk_gmm():
    ts, cs, lb = [], [], None
    for it in (1, args.gmm_iters):
        g = GaussianMixture(n_components=k, covariance_type="full", tol=0.0, max_iter=it, reg_covar=1e-6,
                            init_params="random_from_data", weights_init=W0, means_init=M0, precisions_init=P0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0, c0 = time.perf_counter(), time.process_time()
            g.fit(X)
            ts.append(time.perf_counter() - t0)
            cs.append(time.process_time() - c0)
        lb = g.lower_bound_
    return harness.Timed((ts[1] - ts[0]) / (args.gmm_iters - 1),
                         {"lower_bound": lb, "cpu_seconds": (cs[1] - cs[0]) / (args.gmm_iters - 1)})


def agree_gmm(o, p):
    rel = abs(o["lower_bound"] - p["lower_bound"]) / abs(p["lower_bound"])
    return rel <= 1e-6, {"rel_diff_mean_loglik": rel}


co, cp = [], []
res = harness.compare("cluster_gmm", ("pk_gmm_fit (full), per EM iteration",
                                      with_cpu(harness.command([prog, "gmm", paths["X"], paths["W0"], paths["M0"],
                                                                paths["S0"], str(args.gmm_iters)],
                                                               seconds_key="seconds"), co)),
                      ("sklearn.mixture.GaussianMixture(full), per EM iteration", with_cpu(sk_gmm, cp)), agree_gmm,
                      runs=args.runs, params=dict(params, iters=args.gmm_iters), write=False,
                      notes="same start (weights, means, covariances), tol = 0; per-iteration time = "
                            "(time at ITERS - time at 1 iteration) / (ITERS - 1) on both sides")
finish(res, co, cp)
