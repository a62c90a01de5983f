#!/usr/bin/python3
"""Writes tests/fixtures/cluster/sdp_mrrr.json: a 150 x 2 heterogeneous 3-cluster data set
(bench/cluster_ilasdp_grid.py's generator, seed 42, configuration K = 3, p = 2, I / 4I /
AR(0.5), delta = 4, repetition 6) on which an ADMM iterate of the Peng-Wei SDP made LAPACK's
dsyevr (MRRR) report an internal failure; the fit used to end with "did not converge".
test_sdp_slow.c checks that the SDP now completes on it."""
import json
import os

import numpy as np


def gen(rng, K, n, p, het, delta):
    y = np.arange(n) % K
    Z = rng.normal(size=(n, p))
    if het:
        Z[y == 1] *= 2.0
        idx = np.where(y == 2)[0]
        for t in range(1, p):
            Z[idx, t] = 0.5 * Z[idx, t - 1] + np.sqrt(0.75) * Z[idx, t]
    if K == 2:
        Z[y == 1, 0] += delta
    else:
        for c in range(min(K, p)):
            Z[y == c, c] += delta / np.sqrt(2.0)
    return Z, y


rng = np.random.default_rng(42)
configs = [(K, n, p, het) for K, n in ((2, 100), (3, 150)) for p in (2, 10, 50) for het in (True, False)]
for ci, (K, n, p, het) in enumerate(configs[:7]):
    for rep in range(10):
        X, y = gen(rng, K, n, p, het, 4.0)
        if ci == 6 and rep == 6:
            out = {"n": n, "d": p, "k": K, "X": X.ravel().tolist(), "y": y.tolist()}
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "..", "fixtures", "cluster", "sdp_mrrr.json"), "w") as f:
    json.dump(out, f)
