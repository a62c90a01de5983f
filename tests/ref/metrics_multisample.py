#!/usr/bin/python3
"""Reference for tests/metrics/test_multisample.c: pass@k by exact binomials
(math.comb), Clopper-Pearson via scipy.stats.beta, Wilson via statsmodels' formula."""
import math, os
from scipy import stats

out = []
for n, c, k in ((10, 3, 1), (10, 3, 5), (200, 7, 10), (200, 0, 50), (100, 99, 2), (1000, 1, 100)):
    out.append(f"passk {n} {c} {k} {1 - math.comb(n - c, k) / math.comb(n, k):.17g}")
for x, n in ((0, 20), (3, 20), (20, 20), (57, 300)):
    a = 0.05
    lo = 0.0 if x == 0 else stats.beta.ppf(a / 2, x, n - x + 1)
    hi = 1.0 if x == n else stats.beta.ppf(1 - a / 2, x + 1, n - x)
    z = stats.norm.ppf(0.975); p = x / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    out.append(f"interval {x} {n} {lo:.17g} {hi:.17g} {max(0, c - h):.17g} {min(1, c + h):.17g}")
path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "metrics", "multisample.txt")
with open(path, "w") as f:
    f.write("\n".join(out) + "\n")
