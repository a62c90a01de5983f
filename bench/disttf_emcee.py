#!/usr/bin/python3
"""bench/disttf_emcee.py — the Distribution Transformer against MCMC (emcee).

A practitioner with a prior and range-sensor data would run an MCMC sampler.
On problems of the RANGE task (random 4-component mixture prior, theta drawn
from it, n sensors with noise 0.3) we run emcee (affine-invariant ensemble,
16 walkers) and score -log q(theta_true) with a Gaussian KDE of its samples;
both sides are also scored against the grid posterior of their own problems
(the gap is the comparable number: the problems are drawn from the same
distribution with different generators).  Ours: `probkit disttf eval` of a
trained model (train one with `probkit disttf train --task range`).

usage: bench/disttf_emcee.py MODEL.safetensors [PROBLEMS] [N_OBS]
Writes bench/results/disttf_emcee.json.
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

try:
    import numpy as np
    import emcee
    from scipy.stats import gaussian_kde
except ImportError:
    harness.skip("emcee / scipy are not installed for /usr/bin/python3 (apt install python3-emcee)")

if len(sys.argv) < 2:
    print(__doc__)
    sys.exit(2)
MODEL = sys.argv[1]
PROBLEMS = int(sys.argv[2]) if len(sys.argv) > 2 else 40
N_OBS = int(sys.argv[3]) if len(sys.argv) > 3 else 4
PK = harness.find_program("probkit")
if not PK:
    harness.skip("no probkit binary (set PK_BUILD_DIR)")
NOISE, BOX, K = 0.3, 4.0, 4


def random_prior(rng):
    """As pk_dtf_random_prior: Dirichlet(1) weights (floored at 1e-4), means N(0, 2^2),
    Cholesky diagonal log-uniform in [0.3, 1.5], below-diagonal N(0, (0.3 sd)^2)."""
    w = np.maximum(rng.dirichlet(np.ones(K)), 1e-4)
    w /= w.sum()
    mu = 2.0 * rng.standard_normal((K, 2))
    L = np.zeros((K, 2, 2))
    for k in range(K):
        for i in range(2):
            sd = np.exp(np.log(0.3) + (np.log(1.5) - np.log(0.3)) * rng.uniform())
            L[k, i, i] = sd
            if i == 1:
                L[k, 1, 0] = 0.3 * sd * rng.standard_normal()
    return w, mu, L


def log_prior(th, w, mu, L):
    """log of the mixture density at points th (..., 2)."""
    out = []
    for k in range(K):
        d = th - mu[k]
        z0 = d[..., 0] / L[k, 0, 0]
        z1 = (d[..., 1] - L[k, 1, 0] * z0) / L[k, 1, 1]
        out.append(np.log(w[k]) - 0.5 * (z0 ** 2 + z1 ** 2) - np.log(L[k, 0, 0] * L[k, 1, 1]) - np.log(2 * np.pi))
    return np.logaddexp.reduce(np.stack(out), axis=0)


def log_lik(th, obs):
    r = obs[:, 2]
    dist = np.sqrt((th[..., None, 0] - obs[:, 0]) ** 2 + (th[..., None, 1] - obs[:, 1]) ** 2)
    return (-0.5 * ((r - dist) / NOISE) ** 2).sum(-1) - len(obs) * (0.5 * np.log(2 * np.pi) + np.log(NOISE))


def grid_logpost(theta, w, mu, L, obs, G=400, half=9.0):
    h = 2 * half / G
    c = -half + (np.arange(G) + 0.5) * h
    X, Y = np.meshgrid(c, c, indexing="ij")
    lp = log_prior(np.stack([X, Y], -1), w, mu, L) + log_lik(np.stack([X, Y], -1), obs)
    lz = np.logaddexp.reduce(lp.ravel()) + np.log(h * h)
    return log_prior(theta, w, mu, L) + log_lik(theta, obs) - lz


def main():
    rng = np.random.default_rng(42)
    np.random.seed(42)  # emcee's moves draw from numpy's global generator
    nll_mc, nll_ref, secs = [], [], []
    for p in range(PROBLEMS):
        w, mu, L = random_prior(rng)
        k = rng.choice(K, p=w)
        theta = mu[k] + L[k] @ rng.standard_normal(2)
        s = rng.uniform(-BOX, BOX, (N_OBS, 2))
        r = np.sqrt(((theta - s) ** 2).sum(1)) + NOISE * rng.standard_normal(N_OBS)
        obs = np.column_stack([s, r])

        def logp(x):
            return float(log_prior(x, w, mu, L) + log_lik(x, obs))

        t0 = time.process_time()
        nw = 16
        p0 = np.array([mu[rng.choice(K, p=w)] + 0.5 * rng.standard_normal(2) for _ in range(nw)])
        sampler = emcee.EnsembleSampler(nw, 2, logp)
        sampler.run_mcmc(p0, 1500, progress=False)
        chain = sampler.get_chain(discard=500, flat=True)
        kde = gaussian_kde(chain.T)
        q = float(np.log(max(kde(theta[:, None])[0], 1e-300)))
        secs.append(time.process_time() - t0)
        nll_mc.append(-q)
        nll_ref.append(-float(grid_logpost(theta, w, mu, L, obs)))
    nll_mc, nll_ref = np.array(nll_mc), np.array(nll_ref)
    gap = nll_mc - nll_ref
    out = subprocess.run([PK, "disttf", "eval", MODEL, "--problems", str(max(PROBLEMS, 200)), "--n", str(N_OBS),
                          "--json"], check=True, capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")).stdout
    ours = json.loads(out)
    res = {
        "name": "disttf_emcee",
        "task": f"range sensors, n = {N_OBS}, noise {NOISE}, random 4-component mixture priors",
        "peer": {"name": f"emcee {emcee.__version__} (16 walkers x 1500 steps, 500 burn-in) + scipy gaussian_kde",
                 "problems": PROBLEMS, "nll": float(nll_mc.mean()), "se": float(nll_mc.std(ddof=1) / np.sqrt(PROBLEMS)),
                 "nll_grid": float(nll_ref.mean()), "gap": float(gap.mean()),
                 "se_gap": float(gap.std(ddof=1) / np.sqrt(PROBLEMS)),
                 "cpu_ms_per_posterior_median": 1000 * float(np.median(secs))},
        "ours": {"name": "probkit disttf (batched forward pass)", "model": os.path.basename(MODEL), **ours},
        "ratio_ms_ours_over_peer": ours["ms_dt"] / (1000 * float(np.median(secs))),
        "machine": harness.machine_info(),
        "versions": harness.versions({"emcee": emcee.__version__}),
    }
    harness.write_result("disttf_emcee", res)
    print(json.dumps({"emcee": res["peer"], "ours": {k: ours[k] for k in ("nll_dt", "gap", "se_gap", "ms_dt")},
                      "ratio": res["ratio_ms_ours_over_peer"]}, indent=1))


if __name__ == "__main__":
    main()
