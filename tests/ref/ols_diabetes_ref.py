#!/usr/bin/python3
"""numpy.linalg.lstsq reference for OLS on scikit-learn's diabetes data (raw
features + intercept), used as the peer figure in `probkit reproduce gaussmarkov`.
Run: /usr/bin/python3 tests/ref/ols_diabetes_ref.py  -> tests/fixtures/ols/diabetes_ref.json
"""
import gzip
import json
import os

import numpy as np

d = "/usr/lib/python3/dist-packages/sklearn/datasets/data"
X = np.loadtxt(gzip.open(os.path.join(d, "diabetes_data_raw.csv.gz")))
y = np.loadtxt(gzip.open(os.path.join(d, "diabetes_target.csv.gz")))
X = np.column_stack([np.ones(len(y)), X])
b, _, rank, sv = np.linalg.lstsq(X, y, rcond=None)
r = y - X @ b
n, p = X.shape
sigma2 = r @ r / (n - p)
se = np.sqrt(np.diag(sigma2 * np.linalg.inv(X.T @ X)))
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "ols", "diabetes_ref.json")
with open(out, "w") as f:
    json.dump({"source": "numpy.linalg.lstsq " + np.__version__, "n": n, "p": p, "coef": b.tolist(),
               "se": se.tolist(), "rss": float(r @ r), "rank": int(rank), "cond": float(sv[0] / sv[-1])}, f, indent=1)
print("wrote", out, "coef", b[:3], "cond", sv[0] / sv[-1])
