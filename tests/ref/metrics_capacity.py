#!/usr/bin/python3
"""Reference values for tests/metrics/test_capacity.c and the capacity reproduction.

1. capacity_ev.txt: scipy's regularised incomplete beta for the tail of |cos| between two
   uniform directions in R^d, and the extreme-value prediction of the authors' random-packing
   measurement (median of the min over T draws of the max |cos| over k(k-1)/2 pairs).
2. capacity_{optimized,random}_packing.csv: the measurements released with "Representational
   Capacity" (github.com/Alex-Guha/representational-capacity, code/vector_packing/*.json, MIT
   licence, (c) 2026 Alexander Guha), rewritten as k,d,eps rows.  Pass the directory that holds
   the two JSON files as the first argument; without it only capacity_ev.txt is rewritten.
"""
import json
import os
import sys

import numpy as np
from scipy.optimize import brentq
from scipy.special import betainc

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "metrics")


def log_tail(d, t):
    return np.log(betainc((d - 1) / 2, 0.5, 1 - t * t))


def predict(d, k, T):
    n = k * (k - 1) / 2
    target = np.log(-np.log1p(-2.0 ** (-1.0 / T))) - np.log(n)
    return brentq(lambda t: log_tail(d, t) - target, 1e-9, 1 - 1e-12, xtol=1e-14)


lines = []
for d, t in [(3, 0.5), (16, 0.3), (16, 0.9), (64, 0.5), (256, 0.2), (1024, 0.15), (4096, 0.08)]:
    lines.append(f"tail {d} {t:.17g} {log_tail(d, t):.17g}")
for d, k, T in [(16, 500, 5), (32, 2000, 50), (64, 1000, 5), (256, 2000, 1000), (2048, 32000, 1000)]:
    lines.append(f"predict {d} {k} {T} {predict(d, k, T):.17g}")
with open(os.path.join(here, "capacity_ev.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")

if len(sys.argv) > 1:
    for name in ("optimized_packing", "random_packing"):
        with open(os.path.join(sys.argv[1], name + ".json")) as f:
            rows = json.load(f)
        with open(os.path.join(here, "capacity_" + name + ".csv"), "w") as f:
            f.write("k,d,eps\n")
            for k, d, e in rows:
                f.write(f"{int(k)},{int(d)},{e:.17g}\n")
