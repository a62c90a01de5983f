#!/usr/bin/python3
"""Reference for tests/funcprior: 1-d Wasserstein-1 distances from scipy.

For one-dimensional samples the sliced distance has only the directions +1 and
-1, so it must equal scipy.stats.wasserstein_distance exactly.  Writes
tests/fixtures/funcprior/w1_scipy.csv: rows a,b (two samples of 40) and the
last row's first cell the distance (b given the value NaN there).
Run: /usr/bin/python3 tests/ref/funcprior_scipy.py
"""
import os

import numpy as np
from scipy.stats import wasserstein_distance

rng = np.random.default_rng(20260)
a = rng.normal(0.0, 1.0, 40)
b = rng.standard_t(3.0, 40) * 1.5 + 0.4
d = wasserstein_distance(a, b)
out = os.path.join(os.path.dirname(__file__), "..", "fixtures", "funcprior", "w1_scipy.csv")
with open(out, "w") as f:
    f.write("a,b\n")
    for x, y in zip(a, b):
        f.write("%.17g,%.17g\n" % (x, y))
    f.write("%.17g,nan\n" % d)
print("W1 =", d)
