#!/usr/bin/python3
"""Reference values for tests/metrics/test_provenance.c: scipy.stats.spearmanr on
small samples (with ties) and mpmath for p-values far below the double range."""
import os
import numpy as np
import mpmath
from scipy import stats

mpmath.mp.dps = 60
rng = np.random.default_rng(3)
out = []
for case, n in enumerate((5, 12, 50, 300)):
    x = rng.normal(size=n)
    y = 0.3 * x + rng.normal(size=n)
    if case == 1:
        y = np.round(y)  # ties
    r = stats.spearmanr(x, y)
    out.append(f"case {n} " + " ".join(f"{v:.17g}" for v in x) + " " + " ".join(f"{v:.17g}" for v in y)
               + f" {r.correlation:.17g} {np.log10(r.pvalue):.17g}")
# two-sided t p-values in log10: scipy where representable, mpmath always
for t, df in ((0.5, 3), (2.0, 10), (8.0, 50), (40.0, 1000), (300.0, 5000), (900.0, 100000)):
    x = mpmath.mpf(df) / (df + mpmath.mpf(t) ** 2)
    p = mpmath.betainc(mpmath.mpf(df) / 2, mpmath.mpf(1) / 2, 0, x, regularized=True)
    out.append(f"tp {t} {df} {float(mpmath.log10(p)):.17g}")
# regularized incomplete beta in the upper branch too
for a, b, x in ((2.5, 3.5, 0.3), (2.5, 3.5, 0.9), (50.0, 0.5, 0.99), (0.5, 0.5, 0.5)):
    v = mpmath.betainc(a, b, 0, x, regularized=True)
    out.append(f"betainc {a} {b} {x} {float(mpmath.log10(v)):.17g}")
path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "metrics", "provenance.txt")
with open(path, "w") as f:
    f.write("\n".join(out) + "\n")
