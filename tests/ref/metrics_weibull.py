#!/usr/bin/python3
"""Reference values for tests/metrics/test_weibull.c: scipy.stats.weibull_min.fit
(floc=0) on three samples, and the exact half-normal anchor of the binned protocol."""
import os
import numpy as np
from scipy import stats
from scipy.special import erf

rng = np.random.default_rng(12)
out = []
for name, x in (("weib", stats.weibull_min.rvs(0.8, scale=0.02, size=300, random_state=rng)),
                ("halfnormal", np.abs(rng.normal(0, 0.05, 500))),
                ("gamma", rng.gamma(3.0, 2.0, 200))):
    c, loc, scale = stats.weibull_min.fit(x, floc=0)
    out.append(f"mle {len(x)} " + " ".join(f"{v:.17g}" for v in x) + f" {c:.17g} {scale:.17g}")
# the protocol applied to the exact half-normal CDF (infinite-sample limit), sigma = 1
edges = np.linspace(-12, 2, 1025)
F = erf(10 ** edges[1:] / np.sqrt(2))
cnt = np.diff(np.concatenate([[0.0], F]))
m = (F >= 0.1) & (F <= 0.9)
X = edges[1:][m] * np.log(10); Y = np.log(-np.log1p(-F[m])); w = cnt[m] / cnt[m].sum()
xb, yb = (w * X).sum(), (w * Y).sum()
k = (w * (X - xb) * (Y - yb)).sum() / (w * (X - xb) ** 2).sum()
lam = np.exp(-(yb - k * xb) / k)
out.append(f"anchor_halfnormal {k:.17g} {lam:.17g}")
path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "metrics", "weibull.txt")
with open(path, "w") as f:
    f.write("\n".join(out) + "\n")
