#!/usr/bin/python3
"""Seconds per BO iteration (ask) with 100 completed observations in D = 6:
probkit GP-EI-MCMC / GP-EI-Opt (bench_bo_ask) against Optuna's TPE suggest,
alternately.  Writes bench/results/bo_ask.json.

usage: /usr/bin/python3 bench/bo_ask.py [--bin build/bench_bo_ask] [--repeats 3]
"""
import argparse
import json
import os
import subprocess
import time

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=os.path.join(here, "..", "build", "bench_bo_ask"))
ap.add_argument("--n", type=int, default=100)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--asks", type=int, default=5)
a = ap.parse_args()
D = 6


def tpe(seed):
    rng = np.random.RandomState(seed)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    dists = {"x%d" % j: optuna.distributions.FloatDistribution(0, 1) for j in range(D)}
    for _ in range(a.n):
        params = {k: float(rng.uniform()) for k in dists}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists,
                                                  value=float(np.sum(np.sin(7 * np.array(list(params.values())))))))
    ts, cs = [], []
    for _ in range(a.asks):
        t0, c0 = time.perf_counter(), time.process_time()
        tr = study.ask()
        for k in dists:
            tr.suggest_float(k, 0, 1)
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
        study.tell(tr, state=optuna.trial.TrialState.FAIL)
    return float(np.median(ts)), float(np.median(cs))


def ours(method, seed):
    out = subprocess.run([a.bin, method, str(a.n), str(D), str(a.asks), str(seed)], check=True,
                         capture_output=True, text=True)
    j = json.loads(out.stdout)
    return j["median_ask_s"], j["median_ask_cpu_s"]


res = {"ei-mcmc": [], "ei-opt": [], "tpe": []}
for r in range(a.repeats):
    res["ei-mcmc"].append(ours("ei-mcmc", r))
    res["tpe"].append(tpe(r))
    res["ei-opt"].append(ours("ei-opt", r))
    print("repeat %d (wall, cpu): ei-mcmc %s, ei-opt %s, tpe %s" % (r, res["ei-mcmc"][-1], res["ei-opt"][-1],
                                                                    res["tpe"][-1]), flush=True)
med = {k: float(np.median([w for w, c in v])) for k, v in res.items()}
med_cpu = {k: float(np.median([c for w, c in v])) for k, v in res.items()}
out = {"what": "seconds per ask with %d observations, D=%d (median of %d asks, median over %d repeats)" %
               (a.n, D, a.asks, a.repeats),
       "peer": "optuna %s TPESampler" % optuna.__version__,
       "machine": "%d logical CPUs, shared" % os.cpu_count(),
       "median_ask_s": med, "median_ask_cpu_s": med_cpu, "runs_wall_cpu": res,
       "ratio_ei_mcmc_over_tpe": med["ei-mcmc"] / med["tpe"],
       "ratio_ei_opt_over_tpe": med["ei-opt"] / med["tpe"],
       "ratio_cpu_ei_mcmc_over_tpe": med_cpu["ei-mcmc"] / med_cpu["tpe"],
       "ei_mcmc_under_1s": med["ei-mcmc"] < 1.0}
path = os.path.join(here, "results", "bo_ask.json")
with open(path + ".tmp", "w") as fh:
    json.dump(out, fh, indent=1)
os.replace(path + ".tmp", path)
print(json.dumps({"wall": med, "cpu": med_cpu}))
