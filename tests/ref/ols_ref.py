#!/usr/bin/python3
"""Reference OLS results for tests/ols: a seeded fixture and numpy/scipy answers.

Run with Debian's /usr/bin/python3 (numpy, scipy):  /usr/bin/python3 tests/ref/ols_ref.py
Writes tests/fixtures/ols/fixture.csv (y, x1..x4) and tests/fixtures/ols/ref.json.
statsmodels is not installed here, so the reference is numpy.linalg.lstsq for the
coefficients and the textbook formulas (the ones statsmodels' OLS uses) for the rest:
sigma2 = RSS/(n-p), cov = sigma2 (X^T X)^-1, t = b/se, p = 2 sf(|t|, n-p),
R^2 centred (model has a constant), F = (ESS/(p-1))/sigma2, hat = diag(X (X^T X)^-1 X^T).
"""
import json
import os

import numpy as np
from scipy import stats

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "fixtures", "ols")
os.makedirs(out, exist_ok=True)

rng = np.random.default_rng(20240611)
n = 60
x1 = rng.normal(size=n)
x2 = rng.uniform(0, 10, size=n)
x3 = 0.5 * x1 + 0.3 * rng.normal(size=n)
x4 = (rng.uniform(size=n) < 0.4).astype(float)
y = 1.5 + 2.0 * x1 - 0.3 * x2 + 0.7 * x3 + 0.0 * x4 + rng.normal(scale=0.8, size=n)

with open(os.path.join(out, "fixture.csv"), "w") as f:
    f.write("y,x1,x2,x3,x4\n")
    for i in range(n):
        f.write(",".join(repr(float(v)) for v in (y[i], x1[i], x2[i], x3[i], x4[i])) + "\n")

X = np.column_stack([np.ones(n), x1, x2, x3, x4])
p = X.shape[1]
b, rss_arr, rank, sv = np.linalg.lstsq(X, y, rcond=None)
resid = y - X @ b
rss = float(resid @ resid)
df = n - p
sigma2 = rss / df
XtXi = np.linalg.inv(X.T @ X)
cov = sigma2 * XtXi
se = np.sqrt(np.diag(cov))
t = b / se
pv = 2 * stats.t.sf(np.abs(t), df)
tss = float(((y - y.mean()) ** 2).sum())
r2 = 1 - rss / tss
adj = 1 - (1 - r2) * (n - 1) / df
F = ((tss - rss) / (p - 1)) / sigma2
Fp = stats.f.sf(F, p - 1, df)
hat = np.einsum("ij,jk,ik->i", X, XtXi, X)
llf = -0.5 * n * (np.log(2 * np.pi) + np.log(rss / n) + 1)

ref = {
    "columns": ["const", "x1", "x2", "x3", "x4"],
    "coef": b.tolist(), "se": se.tolist(), "t": t.tolist(), "p": pv.tolist(),
    "rss": rss, "sigma2": sigma2, "r2": r2, "adj_r2": adj, "fstat": F, "f_pvalue": Fp,
    "cond": float(np.linalg.cond(X)), "rank": int(rank), "sv": sv.tolist(),
    "hat": hat.tolist(), "loglik": float(llf),
    "aic": float(-2 * llf + 2 * p), "bic": float(-2 * llf + np.log(n) * p),
    "pinv_row0": np.linalg.pinv(X)[0].tolist(),
}
with open(os.path.join(out, "ref.json"), "w") as f:
    json.dump(ref, f, indent=1)
print("wrote", out)
