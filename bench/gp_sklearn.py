#!/usr/bin/python3
"""GP type-II ML fit + prediction: probkit (bench_gp_fit) against scikit-learn's
GaussianProcessRegressor, same data, kernel (amplitude * ARD RBF + white noise),
start point and number of restarts, run alternately.  Equal work: both
parameterise the hyperparameters by their logs in the same order, both start
from the same initial point, and the restarts of both start from the very
points scikit-learn draws (uniform in its log-bounds); the optimiser work of
each side (iterations, objective+gradient evaluations) is recorded.

usage: /usr/bin/python3 bench/gp_sklearn.py [--bin build/bench_gp_fit] [--n 2000] [--d 8]
       [--restarts 1] [--repeats 3]
Writes bench/results/gp_fit.json: medians of fit and predict seconds, the
ratio sklearn / probkit, both log marginal likelihoods (checked: probkit's
must be at least sklearn's minus 1e-3 relative) and the optimiser work of both
(scikit-learn computes value and gradient at every point; probkit computes the
gradient only at accepted points).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import sklearn
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=os.path.join(here, "..", "build", "bench_gp_fit"))
ap.add_argument("--n", type=int, default=2000)
ap.add_argument("--d", type=int, default=8)
ap.add_argument("--m", type=int, default=1000)
ap.add_argument("--restarts", type=int, default=1)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--out", default=os.path.join(here, "results", "gp_fit.json"))
ap.add_argument("--own-starts", action="store_true", help="let probkit draw its own restart points")
a = ap.parse_args()

rng = np.random.RandomState(0)
w = rng.uniform(0.5, 3.0, size=a.d)


def f(X):
    return np.sin(X @ w) + 0.5 * np.cos(2 * X[:, 0]) * X[:, 1]


X = rng.uniform(0, 1, size=(a.n, a.d))
y = f(X) + 0.1 * rng.randn(a.n)
Xt = rng.uniform(0, 1, size=(a.m, a.d))
yt = f(Xt)
tmp = tempfile.mkdtemp()
tr, te = os.path.join(tmp, "train.csv"), os.path.join(tmp, "test.csv")
np.savetxt(tr, np.column_stack([X, y]), delimiter=",", fmt="%.17g")
np.savetxt(te, np.column_stack([Xt, yt]), delimiter=",", fmt="%.17g")


def kernel():
    return ConstantKernel(1.0) * RBF(length_scale=[1.0] * a.d) + WhiteKernel(0.1)


class CountingGPR(GaussianProcessRegressor):
    """scikit-learn's own L-BFGS-B call, recording its iterations and evaluations."""

    def _constrained_optimization(self, obj_func, initial_theta, bounds):
        import scipy.optimize
        from sklearn.utils.optimize import _check_optimize_result
        r = scipy.optimize.minimize(obj_func, initial_theta, method="L-BFGS-B", jac=True, bounds=bounds)
        _check_optimize_result("lbfgs", r)
        self.work_.append((int(r.nit), int(r.nfev)))
        return r.x, r.fun


def starts_file(seed):
    """The restart points scikit-learn draws with random_state=seed."""
    b = kernel().bounds
    rs = np.random.RandomState(seed)
    S = np.array([rs.uniform(b[:, 0], b[:, 1]) for _ in range(a.restarts)]).reshape(a.restarts, len(b))
    path = os.path.join(tmp, "starts%d.csv" % seed)
    np.savetxt(path, S, delimiter=",", fmt="%.17g")
    return path


def ours(seed):
    cmd = [a.bin, tr, te, str(a.restarts), str(seed)]
    if a.restarts > 0 and not a.own_starts:
        cmd.append(starts_file(seed))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def theirs(seed):
    g = CountingGPR(kernel=kernel(), n_restarts_optimizer=a.restarts, random_state=seed)
    g.work_ = []
    t0, c0 = time.perf_counter(), time.process_time()
    g.fit(X, y)
    t1, c1 = time.perf_counter(), time.process_time()
    mu, sd = g.predict(Xt, return_std=True)
    t2, c2 = time.perf_counter(), time.process_time()
    return {"fit_s": t1 - t0, "predict_s": t2 - t1, "fit_cpu_s": c1 - c0, "predict_cpu_s": c2 - c1,
            "lml": float(g.log_marginal_likelihood_value_), "starts": len(g.work_),
            "iterations": sum(w[0] for w in g.work_), "evaluations": sum(w[1] for w in g.work_),
            "mean5": mu[:5].tolist()}


def summary(res_o, res_s):
    ls = max(r["lml"] for r in res_s)
    agree = min(r["lml"] for r in res_o) >= ls - 1e-3 * abs(ls)
    med = lambda rs, k: float(np.median([r[k] for r in rs]))

    def side(rs, extra):
        d = {"fit_s_median": med(rs, "fit_s"), "predict_s_median": med(rs, "predict_s"),
             "fit_cpu_s_median": med(rs, "fit_cpu_s"), "predict_cpu_s_median": med(rs, "predict_cpu_s"),
             "fit_s": [r["fit_s"] for r in rs], "fit_cpu_s": [r["fit_cpu_s"] for r in rs],
             "lml": [r["lml"] for r in rs], "starts": [r["starts"] for r in rs],
             "iterations": [r["iterations"] for r in rs], "evaluations": [r["evaluations"] for r in rs],
             "cpu_s_per_evaluation": [r["fit_cpu_s"] / r["evaluations"] for r in rs]}
        for k in extra:
            d[k] = [r[k] for r in rs]
        return d

    out = {
        "what": "exact GP type-II ML (L-BFGS, %d restart(s)) + predictive mean/sd at %d points; n=%d, d=%d" %
                (a.restarts, a.m, a.n, a.d),
        "peer": "scikit-learn %s GaussianProcessRegressor" % sklearn.__version__,
        "machine": "%d logical CPUs, shared; OPENBLAS_NUM_THREADS=%s, OMP_NUM_THREADS=%s" % (
            os.cpu_count(), os.environ.get("OPENBLAS_NUM_THREADS", "unset"), os.environ.get("OMP_NUM_THREADS", "unset")),
        "repeats": len(res_o),
        "restart_points": "probkit's own" if a.own_starts else "the points scikit-learn draws (same for both)",
        "work_note": "evaluations: points where the objective was computed; scikit-learn (L-BFGS-B) computes the "
                     "gradient at each, probkit only at accepted line-search points (its 'gradients')",
        "load_average": load,
        "probkit": side(res_o, ["gradients"]),
        "sklearn": side(res_s, []),
        "lml_probkit_ge_sklearn": bool(agree),
    }
    out["fit_speedup"] = out["sklearn"]["fit_s_median"] / out["probkit"]["fit_s_median"]
    out["predict_speedup"] = out["sklearn"]["predict_s_median"] / out["probkit"]["predict_s_median"]
    out["fit_speedup_cpu"] = out["sklearn"]["fit_cpu_s_median"] / out["probkit"]["fit_cpu_s_median"]
    out["predict_speedup_cpu"] = out["sklearn"]["predict_cpu_s_median"] / max(out["probkit"]["predict_cpu_s_median"], 1e-9)
    return out, agree


res_o, res_s, load = [], [], []
for r in range(a.repeats):
    load.append(os.getloadavg()[0])
    res_o.append(ours(r))
    res_s.append(theirs(r))
    print("repeat %d: probkit fit %.2f s wall / %.2f s cpu (lml %.3f, %d evals), "
          "sklearn fit %.2f s / %.2f s cpu (lml %.3f, %d evals)" %
          (r, res_o[-1]["fit_s"], res_o[-1]["fit_cpu_s"], res_o[-1]["lml"], res_o[-1]["evaluations"],
           res_s[-1]["fit_s"], res_s[-1]["fit_cpu_s"], res_s[-1]["lml"], res_s[-1]["evaluations"]), flush=True)
    # written after every repeat, so a long run that is stopped still leaves a complete file
    out, agree = summary(res_o, res_s)
    with open(a.out + ".tmp", "w") as fh:
        json.dump(out, fh, indent=1)
    os.replace(a.out + ".tmp", a.out)
print(json.dumps({k: out[k] for k in ("fit_speedup", "predict_speedup", "fit_speedup_cpu", "predict_speedup_cpu",
                                      "lml_probkit_ge_sklearn")}))
if not agree:
    print("warning: probkit's marginal likelihood is below sklearn's", file=sys.stderr)
