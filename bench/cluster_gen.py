"""The heterogeneous Gaussian-mixture generator of the iLA-SDP experiments (the model of
repro/ilasdp.c), shared by bench/cluster_ilasdp_grid.py and tests/ref/cluster_sdp_mrrr.py."""
import numpy as np


def gen(rng, K, n, p, het, delta):
    """n points, cluster i % K; cluster c centred at (delta / sqrt 2) e_c (K = 3) or 0 / delta e_1
    (K = 2); covariances I for all, or (het) I / 4I / AR(0.5) for clusters 0 / 1 / 2."""
    y = np.arange(n) % K
    Z = rng.normal(size=(n, p))
    if het:
        Z[y == 1] *= 2.0
        idx = np.where(y == 2)[0]
        for t in range(1, p):  # AR(0.5) with unit marginal variance
            Z[idx, t] = 0.5 * Z[idx, t - 1] + np.sqrt(0.75) * Z[idx, t]
    if K == 2:
        Z[y == 1, 0] += delta
    else:
        for c in range(min(K, p)):
            Z[y == c, c] += delta / np.sqrt(2.0)
    return Z, y
