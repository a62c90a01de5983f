#!/usr/bin/env python3
"""NUTS ESS per second: probkit against Stan (rstan) and emcee, same targets.

Run with Debian's /usr/bin/python3.  For each target (eight schools
non-centred, logistic regression on breast cancer, a 100-d Gaussian with
condition number 1e6) both samplers run 4 chains x 1000 warm-up + 1000 draws
on the same 2 cores; every draw set is summarised by the same estimator
(`probkit infer summary`: rank-normalised bulk ESS, Vehtari et al. 2021).
Both are timed in CPU seconds (all threads), which other load on the machine
does not inflate: probkit reports its process CPU time, Stan's per-chain
timers use clock(); their sum over the 4 chains is Stan's figure.  Stan's
compilation and R's worker start-up are not counted.  Posterior agreement: the largest
|mean difference| over parameters in units of the combined MCSE.
Writes bench/results/infer.json.
"""
import json, os, shutil, subprocess, sys, tempfile, time, platform

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROBKIT = os.environ.get("PROBKIT", os.path.join(ROOT, "build", "probkit"))
BC = "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv"
REPS = int(os.environ.get("REPS", "3"))


def summary(path):
    out = subprocess.run([PROBKIT, "infer", "summary", path, "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["summary"]["parameters"]


def ours(model, seed, tmp):
    path = os.path.join(tmp, f"ours_{model}_{seed}.csv")
    t0 = time.time()
    out = subprocess.run([PROBKIT, "infer", "run", model, "--seed", str(seed), "--json", "--out", path],
                         check=True, capture_output=True, text=True)
    wall = time.time() - t0
    r = json.loads(out.stdout)
    # CPU seconds of all threads: what Stan's chain timers (clock()) measure too
    return r["cpu_seconds"], wall, summary(path), r["divergences"]


def r_env(tmp):
    """Debian's r-cran-bh relies on /usr/include/boost and ships no include/
    folder, which rstan's check wants: give R a shim library that has one."""
    env = dict(os.environ)
    got = subprocess.run(["Rscript", "-e", "cat(system.file('include', package='BH'))"], capture_output=True,
                         text=True).stdout.strip()
    if not got and os.path.isdir("/usr/include/boost"):
        lib = os.path.join(tmp, "rlib")
        shutil.copytree("/usr/lib/R/site-library/BH", os.path.join(lib, "BH"))
        os.makedirs(os.path.join(lib, "BH", "include"), exist_ok=True)
        os.symlink("/usr/include/boost", os.path.join(lib, "BH", "include", "boost"))
        env["R_LIBS_USER"] = lib
    return env


def stan(model, seed, tmp, env):
    path = os.path.join(tmp, f"stan_{model}_{seed}.csv")
    out = subprocess.run(["Rscript", os.path.join(HERE, "infer", "stan_run.R"), model, path, str(seed), "1000",
                          "1000", BC], check=True, capture_output=True, text=True, env=env)
    vals = dict(line.split()[:2] for line in out.stdout.splitlines() if "_seconds" in line)
    # Stan's chain timers use clock(): CPU seconds, summed over the 4 chains
    return float(vals["chain_seconds_sum"]), float(vals["compile_seconds"]), summary(path)


def emcee_gauss(seed):
    import numpy as np, emcee
    s = 0.01 * 1000 ** (np.arange(100) / 99)
    def lp(x):
        return -0.5 * np.sum((x / s) ** 2)
    nw, steps = 202, 5000
    rng = np.random.default_rng(seed)
    p0 = rng.normal(size=(nw, 100)) * s
    sampler = emcee.EnsembleSampler(nw, 100, lp)
    t0 = time.time()
    sampler.run_mcmc(p0, steps, progress=False)
    secs = time.time() - t0
    chain = sampler.get_chain(discard=steps // 2)
    tau = sampler.get_autocorr_time(discard=steps // 2, tol=0)
    ess = chain.shape[0] * chain.shape[1] / tau
    return secs, float(np.min(ess))


def min_ess(params):
    return min(p["ess_bulk"] for p in params)


def agreement(a, b):
    worst = 0.0
    for p, q in zip(a, b):
        se = (p["mcse"] ** 2 + q["mcse"] ** 2) ** 0.5
        worst = max(worst, abs(p["mean"] - q["mean"]) / se)
    return worst


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def main():
    if not os.path.exists(PROBKIT):
        print(f"bench/infer.py: skipped: build probkit first ({PROBKIT} missing)")
        sys.exit(77)  # run_all.sh: skipped
    have_stan = shutil.which("Rscript") is not None and subprocess.run(
        ["Rscript", "-e", "library(rstan)"], capture_output=True).returncode == 0
    results = {"bench": "infer", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.machine(),
               "cpus": os.cpu_count(), "reps": REPS, "targets": {}}
    tmp = tempfile.mkdtemp(prefix="pk_bench_infer_")
    renv = r_env(tmp) if have_stan else None
    try:
        for model in ["eight-schools", "logistic", "gauss100"]:
            rows = {"ours_ess_per_s": [], "stan_ess_per_s": [], "ours_s": [], "stan_s": [], "agreement": [],
                    "ours_divergences": []}
            for rep in range(REPS):  # alternate ours and the peer
                seed = 100 + rep
                s, wall, po, div = ours(model, seed, tmp)
                rows["ours_s"].append(s)
                rows["ours_ess_per_s"].append(min_ess(po) / s)
                rows["ours_divergences"].append(div)
                if have_stan:
                    ss, cs, ps = stan(model, seed, tmp, renv)
                    rows["stan_s"].append(ss)
                    rows["stan_ess_per_s"].append(min_ess(ps) / ss)
                    rows["agreement"].append(agreement(po, ps))
                    rows["stan_compile_s"] = cs
                print(f"{model} rep {rep}: ours {rows['ours_ess_per_s'][-1]:.0f} ESS/s"
                      + (f", stan {rows['stan_ess_per_s'][-1]:.0f} ESS/s, agreement {rows['agreement'][-1]:.2f}"
                         if have_stan else ""), flush=True)
            r = {k: v for k, v in rows.items()}
            r["ours_ess_per_s_median"] = median(rows["ours_ess_per_s"])
            if have_stan:
                r["stan_ess_per_s_median"] = median(rows["stan_ess_per_s"])
                r["ratio_ours_over_stan"] = r["ours_ess_per_s_median"] / r["stan_ess_per_s_median"]
            if model == "gauss100":
                try:
                    es = [emcee_gauss(200 + k) for k in range(REPS)]
                    r["emcee_ess_per_s"] = [e[1] / e[0] for e in es]
                    r["emcee_ess_per_s_median"] = median(r["emcee_ess_per_s"])
                    r["ratio_ours_over_emcee"] = r["ours_ess_per_s_median"] / r["emcee_ess_per_s_median"]
                except ImportError:
                    r["emcee"] = "not installed"
            results["targets"][model] = r
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "infer.json.tmp"), "w") as f:
        json.dump(results, f, indent=1)
    os.replace(os.path.join(HERE, "results", "infer.json.tmp"), os.path.join(HERE, "results", "infer.json"))
    for m, r in results["targets"].items():
        line = f"{m:14s} ours {r['ours_ess_per_s_median']:9.0f} ESS/s"
        if "ratio_ours_over_stan" in r:
            line += f"  stan {r['stan_ess_per_s_median']:9.0f} ESS/s  ratio {r['ratio_ours_over_stan']:.2f}"
        if "ratio_ours_over_emcee" in r:
            line += f"  emcee {r['emcee_ess_per_s_median']:.1f} ESS/s  ratio {r['ratio_ours_over_emcee']:.0f}"
        print(line)


if __name__ == "__main__":
    main()
