#!/usr/bin/python3
"""Writes tests/fixtures/cluster/sdp_mrrr.json: a 150 x 2 heterogeneous 3-cluster data set
(bench/cluster_ilasdp_grid.py's generator, seed 42, configuration K = 3, p = 2, I / 4I /
AR(0.5), delta = 4, repetition 6) on which an ADMM iterate of the Peng-Wei SDP made LAPACK's
dsyevr (MRRR) report an internal failure; the fit used to end with "did not converge".
test_sdp_slow.c checks that the SDP now completes on it."""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from cluster_gen import gen  # noqa: E402




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
