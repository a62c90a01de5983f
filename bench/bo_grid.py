#!/usr/bin/python3
"""Parallel and cost-aware Bayesian optimisation on a precomputed grid of real
trainings (Snoek et al. 2012, figure 4), run by `bench_bo_grid`.

For each configuration (method, workers) REPEATS simulated studies are run;
each gives the simulated CPU time at which a finished trial first lies in the
grid's best 1%.  Writes bench/results/bo_grid_<KIND>.json with every repeat,
the medians with bootstrap 95% intervals, and the paired comparisons the
issue asks for (EI per second vs EI at 1 worker, 3 workers vs 1).

Usage: /usr/bin/python3 bench/bo_grid.py BUILD_DIR GRID.csv KIND [REPEATS] [MAX_EVALS] [JOBS] [CONFIGS]
  KIND: lda (bench/bo_lda_grid.py) or logreg (`bench_bo_logreg grid`)
  CONFIGS: comma-separated METHOD:WORKERS (default ei-mcmc:1,ei-per-second:1,
           ei-mcmc:3,ei-mcmc:5,random:1); JOBS processes share the repeats.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np

DEFAULT = "ei-mcmc:1,ei-per-second:1,ei-mcmc:3,ei-mcmc:5,random:1"


def run_config(prog, grid, kind, method, workers, repeats, max_evals, jobs, env):
    """Split the repeats over `jobs` processes; returns (times, started, trails) by repeat."""
    chunks = np.array_split(np.arange(repeats), jobs)
    procs = []
    for c in chunks:
        if len(c) == 0:
            continue
        cmd = [prog, grid, kind, method, str(workers), str(int(c[0])), str(len(c)), str(max_evals)]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True))
    rows = {}
    for p in procs:
        out, _ = p.communicate()
        if p.returncode:
            sys.exit("bench_bo_grid failed (%s %d workers)" % (method, workers))
        for line in out.splitlines():
            if line.startswith("#"):
                continue
            r, t, s, h = line.split()
            rows[int(r)] = (float(t), int(s), h)
    return ([rows[r][0] for r in range(repeats)], [rows[r][1] for r in range(repeats)],
            [rows[r][2] for r in range(repeats)])


def boot_median(x, rng, n=2000):
    x = np.asarray(x)
    m = np.median(x[rng.integers(0, len(x), size=(n, len(x)))], axis=1)
    return [float(np.percentile(m, 2.5)), float(np.percentile(m, 97.5))]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    prog = os.path.abspath(os.path.join(sys.argv[1], "bench_bo_grid"))
    grid, kind = sys.argv[2], sys.argv[3]
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    max_evals = int(sys.argv[5]) if len(sys.argv) > 5 else 150
    jobs = int(sys.argv[6]) if len(sys.argv) > 6 else 2
    configs = [(c.split(":")[0], int(c.split(":")[1])) for c in (sys.argv[7] if len(sys.argv) > 7 else DEFAULT).split(",")]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "results", "bo_grid_%s.json" % kind)
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            out = json.load(f)
        if out.get("repeats") != repeats or out.get("max_evals") != max_evals or out.get("grid") != os.path.basename(grid):
            out = {}
    out.update({"grid": os.path.basename(grid), "kind": kind, "repeats": repeats, "max_evals": max_evals,
                "what": "simulated CPU seconds until a finished trial lies in the grid's best 1% "
                        "(null: not within max_evals trials)"})
    res = out.setdefault("configs", {})
    rng = np.random.default_rng(0)
    for method, workers in configs:
        name = "%s:%d" % (method, workers)
        t0 = time.time()
        times, started, trails = run_config(prog, grid, kind, method, workers, repeats, max_evals, jobs, env)
        t = np.array(times)
        tc = np.where(np.isfinite(t), t, 1e9)  # censored: slower than any finite time
        res[name] = {"method": method, "workers": workers,
                     "times": [x if np.isfinite(x) else None for x in times], "trials": started, "trails": trails,
                     "reached": int(np.isfinite(t).sum()), "median": float(np.median(tc)),
                     "median_ci95": boot_median(tc, rng), "mean_trials": float(np.mean(started)),
                     "wall_seconds": time.time() - t0}
        print("%-16s median time to the best 1%%: %.3f s [%.3f, %.3f], reached %d/%d, %.1f trials, %.0f s wall" %
              (name, res[name]["median"], *res[name]["median_ci95"], res[name]["reached"], repeats,
               res[name]["mean_trials"], res[name]["wall_seconds"]), flush=True)
        with open(path + ".tmp", "w") as f:
            json.dump(out, f, indent=1)
        os.replace(path + ".tmp", path)

    def cens(name):
        return np.array([x if x is not None else 1e9 for x in res[name]["times"]])

    cmp = {}
    for w in (1, 3, 5):
        ka, kb = "ei-per-second:%d" % w, "ei-mcmc:%d" % w
        if ka not in res or kb not in res:
            continue
        a, b = cens(ka), cens(kb)
        ix = rng.integers(0, repeats, size=(2000, repeats))
        ratio = np.median(a[ix], axis=1) / np.median(b[ix], axis=1)
        cmp["ei_per_second_vs_ei_%d_worker%s" % (w, "" if w == 1 else "s")] = {
            "median_ratio": float(np.median(a) / np.median(b)),
            "median_ratio_ci95": [float(np.percentile(ratio, 2.5)), float(np.percentile(ratio, 97.5))],
            "repeats_ei_per_second_faster": int((a < b).sum()), "repeats_tied": int((a == b).sum())}
    for w in (3, 5):
        k = "ei-mcmc:%d" % w
        if "ei-mcmc:1" in res and k in res:
            a, b = cens(k), cens("ei-mcmc:1")
            ix = rng.integers(0, repeats, size=(2000, repeats))
            sp = np.median(b[ix], axis=1) / np.median(a[ix], axis=1)
            cmp["speedup_%d_workers" % w] = {"median_speedup": float(np.median(b) / np.median(a)),
                                             "ci95": [float(np.percentile(sp, 2.5)), float(np.percentile(sp, 97.5))]}
    out["comparisons"] = cmp
    print(json.dumps(cmp, indent=1))
    with open(path + ".tmp", "w") as f:
        json.dump(out, f, indent=1)
    os.replace(path + ".tmp", path)
    print("wrote", path)


if __name__ == "__main__":
    main()
