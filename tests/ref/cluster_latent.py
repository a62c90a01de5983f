#!/usr/bin/python3
"""Reference values for tests/latent: scikit-learn FactorAnalysis and LogisticRegression, and the
Tipping-Bishop PPCA maximum-likelihood solution computed directly with numpy.
Writes tests/fixtures/latent/sklearn.json.  Run with /usr/bin/python3 (scikit-learn 1.2)."""
import json, os
import numpy as np
from sklearn.decomposition import FactorAnalysis
from sklearn.linear_model import LogisticRegression

rng = np.random.RandomState(5)
n, d, r = 300, 8, 2
W = rng.normal(size=(d, r))
psi = rng.uniform(0.2, 1.5, size=d)
Z = rng.normal(size=(n, r))
X = Z @ W.T + rng.normal(size=(n, d)) * np.sqrt(psi) + rng.normal(size=d)
fa = FactorAnalysis(n_components=r, tol=1e-12, max_iter=100000, svd_method="lapack").fit(X)
out = {"n": n, "d": d, "r": r, "X": X.ravel().tolist(),
       "fa_cov": fa.get_covariance().ravel().tolist(), "fa_score": float(fa.score(X)),
       "fa_transform_row0": fa.transform(X[:1]).ravel().tolist()}
# PPCA ML (divide by n): sigma2 = mean of the d - r smallest eigenvalues
S = np.cov(X.T, bias=True)
w, U = np.linalg.eigh(S)
s2 = w[: d - r].mean()
Wp = U[:, -r:] * np.sqrt(w[-r:] - s2)
C = Wp @ Wp.T + s2 * np.eye(d)
Xc = X - X.mean(0)
ll = -0.5 * (d * np.log(2 * np.pi) + np.linalg.slogdet(C)[1] + np.mean(np.sum(Xc @ np.linalg.inv(C) * Xc, 1)))
out["ppca_cov"] = C.ravel().tolist()
out["ppca_score"] = float(ll)
# logistic regression, C = 1 (lambda = 1 on the summed log-loss)
y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(size=n) > np.median(X[:, 0])).astype(int)
lr = LogisticRegression(C=1.0, tol=1e-12, max_iter=10000, solver="newton-cholesky").fit(X, y)
out["y"] = y.tolist()
out["lr_coef"] = lr.coef_.ravel().tolist()
out["lr_intercept"] = float(lr.intercept_[0])
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "latent", "sklearn.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
json.dump(out, open(path, "w"))
print("wrote", path, fa.n_iter_, "FA iterations")
