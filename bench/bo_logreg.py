#!/usr/bin/python3
"""GP-EI-MCMC (probkit) against Optuna's TPE on the paper's logistic-regression
problem: the validation error of multinomial logistic regression on the 10,000
MNIST digits (first 5,000 train, last 5,000 validate) as a function of learning
rate (log, 1e-3..10), L2 penalty (log, 1e-6..1), minibatch size (log-integer,
10..1000) and epochs (integer, 1..20; the paper's runs were far longer: capped
for CPU).  Both optimisers call the same deterministic C training
(`bench_bo_logreg eval`), so one configuration gives one error for both.

Writes bench/results/bo_logreg.json: per-seed best-so-far traces of both, the
mean best error at each budget and whether GP-EI-MCMC's is at or below TPE's at
every budget >= 20.
Usage: /usr/bin/python3 bench/bo_logreg.py BUILD_DIR [SEEDS] [EVALS] [FIRST]
       (FIRST > 0: run seeds FIRST..FIRST+SEEDS-1 and append them to the
       FIRST seeds already in the JSON; every run is deterministic)
       /usr/bin/python3 bench/bo_logreg.py --stats   (recompute the paired statistics of the JSON)
"""
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def paired_stats(out, g, t):
    """Paired by seed: the mean difference (GP - TPE) at each budget with a
    bootstrap 95% interval over seeds, so that a gap of one validation digit
    can be told apart from seed-to-seed noise."""
    seeds, evals = g.shape
    rng = np.random.default_rng(0)
    diff = g - t
    boot = diff[rng.integers(0, seeds, size=(4000, seeds))].mean(axis=1)
    lo, hi = np.percentile(boot, 2.5, axis=0), np.percentile(boot, 97.5, axis=0)
    out["paired_mean_diff"] = diff.mean(axis=0).tolist()
    out["paired_diff_ci95"] = [lo.tolist(), hi.tolist()]
    out["budgets_where_gp_significantly_worse"] = [i + 1 for i in range(19, evals) if lo[i] > 0]
    out["budgets_where_gp_significantly_better"] = [i + 1 for i in range(19, evals) if hi[i] < 0]
    # seeds on which GP-EI-MCMC's best is below / above TPE's, at each budget
    out["seeds_gp_below"] = (diff < 0).sum(axis=0).tolist()
    out["seeds_gp_above"] = (diff > 0).sum(axis=0).tolist()


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--stats":
        # recompute the statistics of an existing bench/results/bo_logreg.json
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "bo_logreg.json")
        with open(path) as f:
            out = json.load(f)
        g, t = np.array(out["gp_traces"]), np.array(out["tpe_traces"])
        paired_stats(out, g, t)
        with open(path + ".tmp", "w") as f:
            json.dump(out, f, indent=1)
        os.replace(path + ".tmp", path)
        for b in range(20, g.shape[1] + 1):
            print("budget %2d: GP - TPE mean %+.5f, 95%% [%+.5f, %+.5f], seeds GP below/above %d/%d" %
                  (b, out["paired_mean_diff"][b - 1], out["paired_diff_ci95"][0][b - 1],
                   out["paired_diff_ci95"][1][b - 1], out["seeds_gp_below"][b - 1], out["seeds_gp_above"][b - 1]))
        print("significantly worse at:", out["budgets_where_gp_significantly_worse"],
              "better at:", out["budgets_where_gp_significantly_better"])
        return
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    prog = os.path.abspath(os.path.join(sys.argv[1], "bench_bo_logreg"))
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    evals = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    here = os.path.dirname(os.path.abspath(__file__))
    env.setdefault("PROBKIT_DATA", os.path.join(here, "..", "data"))

    def train(lr, l2, batch, epochs):
        r = subprocess.run([prog, "eval", repr(lr), repr(l2), str(batch), str(epochs)], env=env,
                           capture_output=True, text=True, check=True)
        return float(r.stdout.split()[0])

    # the check before anything is compared: the C training is deterministic
    a, b = train(0.1, 1e-4, 50, 3), train(0.1, 1e-4, 50, 3)
    if a != b or not 0 < a < 0.5:
        sys.exit("bench_bo_logreg eval is not deterministic or not training (%g, %g)" % (a, b))

    t0 = time.time()
    tmp = os.path.join(here, "results", "bo_logreg_gp.tmp.json")
    subprocess.run([prog, "bo", str(seeds), str(evals), tmp, str(first)], env=env, check=True)
    with open(tmp) as f:
        gp = json.load(f)["traces"]
    os.remove(tmp)
    gp_seconds = time.time() - t0

    t0 = time.time()
    tpe = []
    for s in range(first, first + seeds):
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=s))
        best, trace = math.inf, []
        for _ in range(evals):
            tr = study.ask()
            y = train(tr.suggest_float("lr", 1e-3, 10.0, log=True), tr.suggest_float("l2", 1e-6, 1.0, log=True),
                      tr.suggest_int("batch", 10, 1000, log=True), tr.suggest_int("epochs", 1, 20))
            study.tell(tr, y)
            best = min(best, y)
            trace.append(best)
        tpe.append(trace)
        print("TPE seed %d: best validation error %.4f" % (s, best), flush=True)
    tpe_seconds = time.time() - t0

    if first > 0:
        with open(os.path.join(here, "results", "bo_logreg.json")) as f:
            old = json.load(f)
        if len(old["gp_traces"]) != first or old["evals"] != evals:
            sys.exit("bo_logreg.json holds %d seeds of %d evaluations, not %d of %d" %
                     (len(old["gp_traces"]), old["evals"], first, evals))
        gp, tpe = old["gp_traces"] + gp, old["tpe_traces"] + tpe
        gp_seconds += old["wall_seconds"]["gp"]
        tpe_seconds += old["wall_seconds"]["tpe"]
        seeds += first
    g, t = np.array(gp), np.array(tpe)
    gm, tm = g.mean(axis=0), t.mean(axis=0)
    ok = bool(np.all(gm[19:] <= tm[19:] + 1e-12))
    out = {"problem": "MNIST-10k logistic regression, 4 hyperparameters, epochs <= 20, 5,000 train / 5,000 validation",
           "peer": "optuna %s TPESampler (defaults)" % optuna.__version__, "seeds": seeds, "evals": evals,
           "gp_traces": gp, "tpe_traces": tpe, "gp_mean_best": gm.tolist(), "tpe_mean_best": tm.tolist(),
           "gp_median_best": np.median(g, axis=0).tolist(), "tpe_median_best": np.median(t, axis=0).tolist(),
           "gp_at_or_below_tpe_every_budget_ge_20": ok,
           "budgets_where_gp_worse": [i + 1 for i in range(19, evals) if gm[i] > tm[i] + 1e-12],
           "wall_seconds": {"gp": gp_seconds, "tpe": tpe_seconds}}
    paired_stats(out, g, t)
    path = os.path.join(here, "results", "bo_logreg.json")
    with open(path + ".tmp", "w") as f:
        json.dump(out, f, indent=1)
    os.replace(path + ".tmp", path)
    for b in (10, 20, 30, 40, 50):
        if b <= evals:
            print("budget %2d: mean best error GP-EI-MCMC %.4f, TPE %.4f" % (b, gm[b - 1], tm[b - 1]))
    print("GP-EI-MCMC at or below TPE at every budget >= 20:", ok)
    print("budgets >= 20 where GP is worse (mean):", out["budgets_where_gp_worse"])
    print("budgets >= 20 where the 95% paired interval says GP worse:", out["budgets_where_gp_significantly_worse"],
          "better:", out["budgets_where_gp_significantly_better"])
    print("wrote", path)


if __name__ == "__main__":
    main()
